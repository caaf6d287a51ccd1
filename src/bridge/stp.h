/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_STP_H
#define VW_BRIDGE_STP_H

#include <stdbool.h>
#include <stdint.h>

#include "stp_bpdu.h"
#include "stp_timer.h"

/*
 * The 802.1D (1998) spanning tree, as the Linux bridge runs it with stp_state 1.
 * Each procedure of 802.1D clause 8.6-8.8 is a function of the same name; where
 * the standard leaves a choice, the kernel's net/bridge/br_stp*.c behaviour is
 * followed so that vwire and kernel bridges agree on one tree:
 *   - bridge id = 16-bit priority (any value 0..65535) and the MAC;
 *   - port id = port priority (0..63) << 10 | port number (1..1023);
 *   - path cost 1..65535;
 *   - a transmitted message age is the age of the root port's information plus
 *     one BPDU time unit (1/256 s);
 *   - the hold time is 1 s;
 *   - a config BPDU that does not supersede the port's information is answered
 *     (reply) only on designated ports; TCNs are honoured on designated ports.
 * Where a neighbour could break the tree or this bridge, vwire is stricter than
 * the kernel: a configuration BPDU whose message age is not below its max age
 * is discarded (9.3.4; the kernel lets equal ones through), and the times a
 * received BPDU carries are clamped to the 8.10.2 ranges (STP_MIN_/STP_MAX_*)
 * before any procedure uses them, so no wire can set a zero forward delay
 * (ports forwarding at once, the FDB aged to nothing during a topology change)
 * or a zero or huge max age.
 * Time is the caller's: every entry point takes `now` in nanoseconds.
 */

/* Port numbers 1..STP_MAX_PORTS-1; 0 is the bridge's own (local) interface, not an STP port. */
#define STP_MAX_PORTS 64

#define STP_SEC		     1000000000ULL
#define STP_HOLD_TIME	     (1 * STP_SEC)
#define STP_MESSAGE_AGE_INCR STP_TICK_NS

#define STP_DEFAULT_PRIORITY	  0x8000
#define STP_DEFAULT_PORT_PRIORITY 0x20
#define STP_MAX_PORT_PRIORITY	  63
#define STP_DEFAULT_PATH_COST	  100
#define STP_MIN_PATH_COST	  1
#define STP_MAX_PATH_COST	  65535

/* 802.1D-1998 8.10.2 (Table 8-3) ranges, in BPDU time units (1/256 s). */
#define STP_MIN_HELLO_TIME    (1 * 256)
#define STP_MAX_HELLO_TIME    (10 * 256)
#define STP_MIN_MAX_AGE	      (6 * 256)
#define STP_MAX_MAX_AGE	      (40 * 256)
#define STP_MIN_FORWARD_DELAY (4 * 256)
#define STP_MAX_FORWARD_DELAY (30 * 256)

/* Same numbering as the kernel's BR_STATE_*. */
enum stp_state {
	STP_DISABLED = 0,
	STP_LISTENING = 1,
	STP_LEARNING = 2,
	STP_FORWARDING = 3,
	STP_BLOCKING = 4,
};

/* What a port is in the tree (derived; 802.1D-1998 has no role variable). */
enum stp_role {
	STP_ROLE_DISABLED,
	STP_ROLE_ROOT,
	STP_ROLE_DESIGNATED,
	STP_ROLE_BLOCKED, /* neither root nor designated: the port that breaks a loop */
};

struct stp_port_counters {
	uint64_t rx_config;
	uint64_t rx_tcn;
	uint64_t tx_config;
	uint64_t tx_tcn;
	uint64_t tx_dropped;  /* a BPDU that could not be queued (no buffer) */
	uint64_t rx_ignored;  /* BPDU on a disabled port */
	uint64_t rx_clamped;  /* config BPDU with a time outside 8.10.2, used clamped */
	uint64_t rx_aged_out; /* config BPDU discarded: message age >= max age (9.3.4) */
	uint64_t rx_rst;      /* RST BPDU: ignored, 802.1D-1998 knows no such type */
	uint64_t transitions; /* port state changes */
};

struct stp_port {
	bool in_use;
	uint16_t port_no;
	uint16_t port_id;
	uint8_t priority;
	uint32_t path_cost;
	enum stp_state state;
	/* 802.1D 8.5.5: the designated information recorded for the port's LAN. */
	uint64_t designated_root;
	uint32_t designated_cost;
	uint64_t designated_bridge;
	uint16_t designated_port;
	/* When that information was recorded and how old it was then: its age now. */
	uint64_t info_rx_time;
	uint64_t info_message_age;
	bool topology_change_ack;
	bool config_pending;
	struct stp_timer message_age_timer;
	struct stp_timer forward_delay_timer;
	struct stp_timer hold_timer;
	struct stp_port_counters cnt;
};

struct stp_bridge;

/* Queues one BPDU for transmission on a port; false when it could not (counted). */
typedef bool (*stp_tx_fn)(void *ctx, uint16_t port_no, const struct stp_bpdu *bpdu);
/* Told about every port state change (the bridge flushes or logs; optional). */
typedef void (*stp_state_fn)(void *ctx, uint16_t port_no, enum stp_state old_state,
			     enum stp_state new_state);

struct stp_bridge {
	bool enabled; /* STP on; off: ports forward as soon as enabled, no BPDUs */
	/* 802.1D 8.5.3 */
	uint64_t bridge_id;
	uint64_t designated_root;
	uint32_t root_path_cost;
	uint16_t root_port;
	uint64_t max_age; /* in use (the root's), ns */
	uint64_t hello_time;
	uint64_t forward_delay;
	uint64_t bridge_max_age; /* our own, used when root */
	uint64_t bridge_hello_time;
	uint64_t bridge_forward_delay;
	bool topology_change_detected;
	bool topology_change;
	struct stp_timer hello_timer;
	struct stp_timer tcn_timer;
	struct stp_timer topology_change_timer;
	uint64_t topology_change_count;
	uint64_t last_topology_change; /* ns */
	uint64_t now;		       /* time of the event being handled */
	stp_tx_fn tx;
	stp_state_fn state_changed;
	void *ctx;
	uint16_t nports; /* highest port number in use + 1 */
	struct stp_port ports[STP_MAX_PORTS];
};

struct stp_times {
	uint64_t max_age; /* ns */
	uint64_t hello_time;
	uint64_t forward_delay;
};

static inline uint64_t stp_make_bridge_id(uint16_t priority, const uint8_t mac[6])
{
	uint64_t id = (uint64_t)priority << 48;

	for (int i = 0; i < 6; i++)
		id |= (uint64_t)mac[i] << (40 - 8 * i);
	return id;
}

static inline uint16_t stp_make_port_id(uint8_t priority, uint16_t port_no)
{
	return (uint16_t)((priority & STP_MAX_PORT_PRIORITY) << 10 | (port_no & 0x3ff));
}

/*
 * 802.1D 8.8.1 initialization: the bridge claims to be root and starts its hello
 * timer. No ports yet; add them with stp_add_port, then stp_enable_port.
 */
void stp_initialization(struct stp_bridge *br, bool enabled, uint64_t bridge_id,
			const struct stp_times *times, uint64_t now, stp_tx_fn tx,
			stp_state_fn state_changed, void *ctx);
/* A new port, disabled. false when taken or not stp_port_config_ok. */
bool stp_add_port(struct stp_bridge *br, uint16_t port_no, uint8_t priority, uint32_t path_cost);
struct stp_port *stp_get_port(struct stp_bridge *br, uint16_t port_no);
const struct stp_port *stp_get_port_const(const struct stp_bridge *br, uint16_t port_no);

/* 802.1D 8.8.2-8.8.6 management, all at time `now`. */
void stp_enable_port(struct stp_bridge *br, uint16_t port_no, uint64_t now);
void stp_disable_port(struct stp_bridge *br, uint16_t port_no, uint64_t now);
void stp_set_bridge_priority(struct stp_bridge *br, uint16_t priority, uint64_t now);
void stp_set_port_priority(struct stp_bridge *br, uint16_t port_no, uint8_t priority, uint64_t now);
void stp_set_path_cost(struct stp_bridge *br, uint16_t port_no, uint32_t path_cost, uint64_t now);
/* The port disabled and gone: its number is free again. */
void stp_remove_port(struct stp_bridge *br, uint16_t port_no, uint64_t now);
/* Bridge Max Age, Hello Time, Forward Delay (checked by stp_check_times). */
void stp_set_bridge_times(struct stp_bridge *br, const struct stp_times *times, uint64_t now);

/*
 * A BPDU received on a port: dispatches to received_config_bpdu (after
 * stp_validate_config_times) / received_tcn_bpdu. An RST BPDU is counted and
 * ignored: a neighbour speaking RSTP hears this bridge's configuration BPDUs
 * and falls back to 802.1D on that port (802.1D-2004 17.24), as it does with
 * the kernel, which drops RST BPDUs before its STP code sees them.
 */
void stp_received_bpdu(struct stp_bridge *br, uint16_t port_no, const struct stp_bpdu *bpdu,
		       uint64_t now);

/* 8.6 procedures (exposed for the timer code and the tests). */
void stp_transmit_config(struct stp_bridge *br, struct stp_port *p);
void stp_record_config_information(struct stp_bridge *br, struct stp_port *p,
				   const struct stp_config_bpdu *c);
void stp_record_config_timeout_values(struct stp_bridge *br, const struct stp_config_bpdu *c);
void stp_config_bpdu_generation(struct stp_bridge *br);
void stp_reply(struct stp_bridge *br, struct stp_port *p);
void stp_transmit_tcn(struct stp_bridge *br);
void stp_configuration_update(struct stp_bridge *br);
void stp_root_selection(struct stp_bridge *br);
void stp_designated_port_selection(struct stp_bridge *br);
void stp_become_designated_port(struct stp_bridge *br, struct stp_port *p);
void stp_port_state_selection(struct stp_bridge *br);
void stp_make_forwarding(struct stp_bridge *br, struct stp_port *p);
void stp_make_blocking(struct stp_bridge *br, struct stp_port *p);
void stp_set_port_state(struct stp_bridge *br, struct stp_port *p, enum stp_state state);
void stp_topology_change_detection(struct stp_bridge *br);
void stp_topology_change_acknowledged(struct stp_bridge *br);
void stp_acknowledge_topology_change(struct stp_bridge *br, struct stp_port *p);
void stp_received_config_bpdu(struct stp_bridge *br, struct stp_port *p,
			      const struct stp_config_bpdu *c);
void stp_received_tcn_bpdu(struct stp_bridge *br, struct stp_port *p);
void stp_become_root_bridge(struct stp_bridge *br);
bool stp_supersedes_port_info(const struct stp_bridge *br, const struct stp_port *p,
			      const struct stp_config_bpdu *c);

enum stp_times_check {
	STP_TIMES_OK,
	STP_TIMES_CLAMPED,  /* *out has the nearest in-range values */
	STP_TIMES_AGED_OUT, /* message age >= max age, as sent or as clamped: discard */
};

/*
 * A received configuration BPDU's times: max age, hello time and forward delay
 * clamped to the 8.10.2 ranges; message age checked against both the max age
 * sent and the clamped one (information already older than the max age this
 * bridge will use is no information). out may be in.
 */
enum stp_times_check stp_validate_config_times(const struct stp_config_bpdu *in,
					       struct stp_config_bpdu *out);

bool stp_is_root_bridge(const struct stp_bridge *br);
bool stp_is_designated_port(const struct stp_bridge *br, const struct stp_port *p);
bool stp_is_designated_for_some_port(const struct stp_bridge *br);
enum stp_role stp_port_role(const struct stp_bridge *br, const struct stp_port *p);

/* Fast ageing while a topology change is signalled (802.1D 8.3.5). */
static inline bool stp_fast_ageing(const struct stp_bridge *br)
{
	return br->enabled && br->topology_change;
}

const char *stp_state_name(enum stp_state s);
const char *stp_role_name(enum stp_role r);

/*
 * 802.1D 8.10.2 parameter ranges, plus the relation 2 * (Forward Delay - 1 s) >=
 * Max Age >= 2 * (Hello Time + 1 s). Returns NULL when fine, else what is wrong.
 */
const char *stp_check_times(const struct stp_times *t);

/*
 * A port's Port Priority (0..63: the 6 bits the port id keeps) and Path Cost
 * (1..65535, the kernel bridge's range). stp.c, rstp.c and bridge.c take both
 * from outside and ask here, so the three cannot disagree.
 */
static inline bool stp_port_priority_ok(uint32_t priority)
{
	return priority <= STP_MAX_PORT_PRIORITY;
}

static inline bool stp_path_cost_ok(uint32_t path_cost)
{
	return path_cost >= STP_MIN_PATH_COST && path_cost <= STP_MAX_PATH_COST;
}

/* What stp_add_port and rstp_add_port take: a port number of an STP port, priority and cost. */
static inline bool stp_port_config_ok(uint16_t port_no, uint8_t priority, uint32_t path_cost)
{
	return port_no != 0 && port_no < STP_MAX_PORTS && stp_port_priority_ok(priority) &&
	       stp_path_cost_ok(path_cost);
}

#endif
