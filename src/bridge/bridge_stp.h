/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_BRIDGE_STP_H
#define VW_BRIDGE_BRIDGE_STP_H

#include <stdbool.h>
#include <stdint.h>

#include "rstp.h"
#include "stp.h"

/*
 * The bridge's spanning tree, 802.1D or RSTP: the one place that knows which
 * of stp.c and rstp.c a bridge runs (as the kernel's br_stp.c is the one place
 * its bridge asks). bridge.c hands it BPDUs, port events and settings, asks it
 * for a port's state and gets FDB flushes back: RSTP flushes a port when a
 * topology change reaches it (17.19.7), 802.1D ages the whole FDB fast while a
 * topology change is signalled (br_current_ageing_time). A bridge with STP off
 * runs stp.c disabled: ports forward as soon as they are enabled.
 *
 * Everything else (showstp, the daemon) reads the tree through the views below,
 * which say the same things whichever protocol runs.
 */

struct bridge;

enum br_protocol {
	BR_PROTO_RSTP, /* 802.1D-2004 clause 17, falling back to 802.1D per port */
	BR_PROTO_STP,  /* 802.1D-1998, as the kernel bridge with stp_state 1 */
};

/* Per port, whichever protocol runs. */
struct br_stp_port_view {
	enum stp_state state;
	const char *role;    /* root, designated, alternate, backup, disabled; "blocked" (802.1D) */
	bool rstp;	     /* the port speaks RSTP now (false: 802.1D, or the bridge runs it) */
	bool admin_edge;     /* configured Edge */
	bool oper_edge;	     /* acting as an edge port (RSTP only) */
	bool point_to_point; /* operPointToPointMAC (RSTP only) */
	uint16_t port_id;
	uint32_t path_cost;
	uint64_t designated_root, designated_bridge;
	uint32_t designated_cost;
	uint16_t designated_port;
	uint64_t rx_config, rx_tcn, rx_rst, tx_config, tx_tcn, tx_rst;
	uint64_t rx_clamped, rx_aged_out;
	uint64_t rx_departed; /* RSTP: news of a root that said goodbye, discarded */
	uint64_t migrations;  /* RSTP: protocol switches */
	uint64_t tc_detected; /* RSTP: topology changes the port started */
	uint64_t tc_received; /* RSTP: TC flags and TCNs it heard */
	uint64_t flushes;     /* RSTP: FDB flushes asked for the port */
	uint64_t transitions;
};

struct br_stp_view {
	enum br_protocol protocol; /* what runs (STP off: BR_PROTO_STP, enabled false) */
	bool enabled;
	uint64_t bridge_id, designated_root;
	uint16_t root_port;
	uint32_t root_path_cost;
	bool is_root;
	bool topology_change;
	uint64_t topology_change_count;
	uint64_t max_age, hello_time, forward_delay; /* in use, ns */
	uint64_t bridge_max_age, bridge_hello_time, bridge_forward_delay;
};

/* Set up the tree bridge.c's br_init asked for; times checked already. */
void br_stp_init(struct bridge *br, enum br_protocol proto, bool enabled, uint64_t bridge_id,
		 const struct stp_times *times, uint64_t now);
/* A new port, not enabled; AdminEdge and point-to-point matter to RSTP only. */
bool br_stp_add_port(struct bridge *br, uint16_t port, uint8_t priority, uint32_t cost,
		     bool admin_edge, bool point_to_point);
void br_stp_enable_port(struct bridge *br, uint16_t port, uint64_t now);
void br_stp_disable_port(struct bridge *br, uint16_t port, uint64_t now);
void br_stp_neighbour_leaving(struct bridge *br, uint16_t port, uint64_t hold, uint64_t now);
void br_stp_set_path_cost(struct bridge *br, uint16_t port, uint32_t cost, uint64_t now);
void br_stp_set_port_priority(struct bridge *br, uint16_t port, uint8_t priority, uint64_t now);
void br_stp_set_bridge_priority(struct bridge *br, uint16_t priority, uint64_t now);
/* false when the bridge runs 802.1D: there is no other protocol to try. */
/* The port disabled and gone from the tree (its number free again). */
void br_stp_remove_port(struct bridge *br, uint16_t port, uint64_t now);
/* The times this bridge would send as root; times checked already. */
void br_stp_set_bridge_times(struct bridge *br, const struct stp_times *times, uint64_t now);
/* AdminEdge (RSTP; kept by bridge.c for 802.1D, which has none). */
void br_stp_set_port_edge(struct bridge *br, uint16_t port, bool admin_edge, uint64_t now);
/* A new tree of proto (enabled or not) with the old one's bridge id, times and ports. */
void br_stp_restart(struct bridge *br, enum br_protocol proto, bool enabled, uint64_t now);
bool br_stp_mcheck(struct bridge *br, uint16_t port, uint64_t now);
void br_stp_received_bpdu(struct bridge *br, uint16_t port, const struct stp_bpdu *bpdu,
			  uint64_t now);
void br_stp_tick(struct bridge *br, uint64_t now);
uint64_t br_stp_next_deadline(const struct bridge *br);

/* The port's state (the local port 0 always forwards). */
enum stp_state br_stp_port_state(const struct bridge *br, uint16_t port);
/* 802.1D's fast ageing (8.3.5) is on: the FDB ages with the forward delay. */
bool br_stp_fast_ageing(const struct bridge *br);

void br_stp_get_view(const struct bridge *br, struct br_stp_view *v);
/* false when the port is not an STP port. */
bool br_stp_get_port_view(const struct bridge *br, uint16_t port, struct br_stp_port_view *v);
/* "rstp" or "stp" */
const char *br_protocol_name(enum br_protocol proto);

/* bridge.c's side: frames a BPDU the tree sends on a port and queues it. */
bool br_tx_bpdu(void *ctx, uint16_t port, const struct stp_bpdu *bpdu);

#endif
