/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_RSTP_H
#define VW_BRIDGE_RSTP_H

#include <stdbool.h>
#include <stdint.h>

#include "stp.h"
#include "stp_bpdu.h"

/*
 * The Rapid Spanning Tree Protocol of IEEE 802.1D-2004 clause 17, beside the
 * 802.1D-1998 tree of stp.h and in its style: the caller's clock (`now` in
 * ns on every entry point), callbacks to transmit a BPDU on a port and to
 * report port states, and one more to flush a port's FDB entries. Pure: no
 * system calls, no clock reads, no globals.
 *
 * Variables, procedures and machines carry the standard's names (snake_case):
 * rstp_sm.c has one function per state machine (17.22-17.31) and per
 * procedure (17.21); struct rstp_port holds the 17.17 timers and the 17.19
 * variables, struct rstp_bridge the 17.18 ones.
 *
 * Identifiers, costs and times are those of stp.h, so that an RSTP bridge and
 * an 802.1D one (the kernel's, stp.c) agree on one tree:
 *   - bridge id = 16-bit priority << 48 | MAC. 802.1D-2004 9.2.5 splits those
 *     16 bits into a priority in steps of 4096 (the top 4 bits) and a 12-bit
 *     system ID extension; any 16-bit value is the pair (p & 0xf000, p & 0xfff),
 *     and every bridge compares the 64-bit identifier as a number, so nothing
 *     is restricted;
 *   - port id = priority (0..63) << 10 | port number (1..1023), as the kernel
 *     makes it. 802.1D-2004 9.2.7 has a 4-bit priority and a 12-bit number:
 *     ours is its priority (p >> 2) * 16 with the low two bits of p in the top
 *     of the number. This bridge compares port numbers (17.6) on the low 10
 *     bits; a 2004 neighbour on the low 12, which differ only when the low bits
 *     of p change;
 *   - path cost 1..65535 (802.1D-2004 allows 1..200 000 000; stp.h's range);
 *   - times as struct stp_times, checked by stp_check_times and rounded to
 *     whole seconds, the unit of every RSTP timer (17.13, Table 17-1; hello
 *     time 1..10 s as for stp.c, though 2004 fixes it at 2 s).
 *   - received times are clamped to those ranges, and a configuration BPDU
 *     whose message age is not below its max age is discarded (9.3.4), as
 *     stp.c does.
 *
 * Every port is point-to-point (operPointToPointMAC, 6.4.3) unless told
 * otherwise: a vwire wire is. AutoEdge is on and AdminEdge off by default.
 *
 * Where this differs from the letter of clause 17 (each in rstp_sm.c, where
 * it happens; none changes what goes on the wire or what a neighbour may
 * expect):
 *   - a port holding designated information from a bridge port that now says
 *     it is root, alternate or backup ages that information at once
 *     (designated_port_retired), instead of in three hellos. Without it, the
 *     count to infinity that follows a root's death leaves links where both
 *     ends hold the other's stale vector, and forwarding loops formed in the
 *     test network of twelve;
 *   - a designated port whose own information changes root bridge drops its
 *     agreement (agreed, same_root), though the new information is better:
 *     17.27 UPDATE keeps it for better or same. Stale news of a dead root
 *     comes round a cycle better than the new root's, and every bridge of
 *     the cycle agreed to it at once on agreements given for the new root:
 *     the hosts' triangle forwarded in a loop when rho died and its
 *     neighbours noticed at different times;
 *   - likewise a root port whose information changes root bridge drops its
 *     agree (17.27 SUPERIOR_DESIGNATED keeps it for better or same), so a
 *     proposal for another root is synced to before it is agreed to;
 *   - a designated port takes an agreement only from a message for its own
 *     root bridge, and from a root port only with a root path cost above its
 *     own (agreement_answers): one sent in answer to an older proposal, before
 *     the port's information or role changed, does not bring it back; nor
 *     while its own news waits for the Transmit Hold Count (news_sent);
 *   - a designated port that receives inferior designated information
 *     answers at once, as 802.1D-1998 does;
 *   - DESIGNATED_PROPOSE starts edgeDelayWhile (EdgeDelay), as 802.1Q-2005
 *     does: 802.1D-2004's AutoEdge made a designated port facing a silent
 *     alternate port an edge the moment it proposed again;
 *   - Port Transmit waits in TRANSMIT_INIT while the port is disabled;
 *   - a TCN BPDU sets rcvdTcn (17.21.17), which 17.27 never reaches for one.
 *   - a root that says it is leaving (vwire's goodbye, rstp_neighbour_leaving)
 *     is forgotten at once: every port's information naming it root is aged,
 *     and for RSTP_DEPARTED_HOLD no BPDU naming it root is taken; likewise for
 *     RSTP_SILENT_HOLD a root whose wire fell silent. 802.1D-2004 would take
 *     the stale news of it that its other neighbours, which notice later, still
 *     send, and count to infinity on it (for seconds: test_rstp.c). What a port
 *     last heard of it meanwhile is taken when the hold ends. Ports speaking
 *     802.1D are left alone: such a neighbour hears no goodbye and names the
 *     root until Max Age whatever this bridge does;
 * A root's death that no neighbour notices (a bridge two hops away, an 802.1D
 * neighbour) still brings the count to infinity 802.1D-2004 is known for in
 * meshes: stale news of the root goes round until its message age reaches
 * Max Age, one hop a second once every port has sent its Transmit Hold
 * Count. A small Max Age bounds it.
 *
 * Not done: Force Protocol Version 0 (stpVersion: this bridge is always
 * rstpVersion) and the rapid ageing it would need.
 */

#define RSTP_MIGRATE_TIME 3 /* s, MigrateTime (17.13, Table 17-1) */
/*
 * Transmit Hold Count (17.13, Table 17-1: 1..10, 6 recommended): BPDUs a port
 * may send in a second. 10 here: when a root dies, stale news of it and news
 * of its death race each other and every port has much to say; with 6 the
 * budget runs out and the rest waits a second per hop (the hosts' graph of
 * test_rstp.c: 11 s to a new tree with 6, 8 ms with 10).
 */
#define RSTP_DEFAULT_TX_HOLD_COUNT 10
#define RSTP_MAX_TX_HOLD_COUNT	   10
/*
 * How long a bridge refuses news of a root that said goodbye. Long enough for
 * the goodbye to reach the root's other neighbours and for what they sent
 * before it to arrive (one-way delays of a few hundred ms at most on a WAN);
 * well below the shortest Forward Delay (4 s), so that a root restarted at
 * once and refused meanwhile is heard before a designated port that waits for
 * its agreement forwards on its timer.
 */
#define RSTP_DEPARTED_HOLD (1 * STP_SEC)
/*
 * The same for a root whose wire fell silent (vwire's liveness): it may have
 * died, or only this wire may be cut. Its neighbours notice a death within a
 * few hundred ms of each other (the probes' timing, the waits for unread
 * input); news of it they sent before is refused meanwhile. If it lives, what
 * the other ports last heard of it is taken when the hold ends
 * (test_rstp.c: a death's outage and a lone cut wire's, for each hold).
 */
#define RSTP_SILENT_HOLD (500 * STP_SEC / 1000)

/* role and selectedRole values (17.19). */
enum rstp_role {
	RSTP_ROLE_DISABLED,
	RSTP_ROLE_ROOT,
	RSTP_ROLE_DESIGNATED,
	RSTP_ROLE_ALTERNATE,
	RSTP_ROLE_BACKUP,
};

/* 17.19.10 infoIs */
enum rstp_info_is {
	RSTP_INFO_DISABLED,
	RSTP_INFO_MINE,
	RSTP_INFO_AGED,
	RSTP_INFO_RECEIVED,
};

/* rcvdInfo (17.19), what rcvInfo() (17.21.8) makes of a message. */
enum rstp_rcvd_info {
	RSTP_SUPERIOR_DESIGNATED_INFO,
	RSTP_REPEATED_DESIGNATED_INFO,
	RSTP_INFERIOR_DESIGNATED_INFO,
	RSTP_INFERIOR_ROOT_ALTERNATE_INFO,
	RSTP_OTHER_INFO,
};

/*
 * A priority vector (17.5, 17.6) without its last component, the receiving
 * port's identifier, which only breaks ties in root port selection (there it
 * is the port's portId).
 */
struct rstp_priority {
	uint64_t root_bridge_id;
	uint32_t root_path_cost;
	uint64_t designated_bridge_id;
	uint16_t designated_port_id;
};

/* Timer parameters (17.19.5 and the like), whole seconds. */
struct rstp_times {
	uint16_t message_age;
	uint16_t max_age;
	uint16_t forward_delay;
	uint16_t hello_time;
};

/* The states each machine rests in; the others are passed through at once. */
enum rstp_prx_state { RSTP_PRX_DISCARD, RSTP_PRX_RECEIVE };
enum rstp_ppm_state { RSTP_PPM_CHECKING_RSTP, RSTP_PPM_SELECTING_STP, RSTP_PPM_SENSING };
enum rstp_bdm_state { RSTP_BDM_EDGE, RSTP_BDM_NOT_EDGE };
enum rstp_ptx_state { RSTP_PTX_TRANSMIT_INIT, RSTP_PTX_IDLE };
enum rstp_pim_state { RSTP_PIM_DISABLED, RSTP_PIM_AGED, RSTP_PIM_CURRENT };
enum rstp_prs_state { RSTP_PRS_INIT_BRIDGE, RSTP_PRS_ROLE_SELECTION };
enum rstp_prt_state {
	RSTP_PRT_INIT_PORT,
	RSTP_PRT_DISABLE_PORT,
	RSTP_PRT_DISABLED_PORT,
	RSTP_PRT_ROOT_PORT,
	RSTP_PRT_DESIGNATED_PORT,
	RSTP_PRT_BLOCK_PORT,
	RSTP_PRT_ALTERNATE_PORT,
};
enum rstp_pst_state { RSTP_PST_DISCARDING, RSTP_PST_LEARNING, RSTP_PST_FORWARDING };
enum rstp_tcm_state { RSTP_TCM_INACTIVE, RSTP_TCM_LEARNING, RSTP_TCM_ACTIVE };

struct rstp_port_counters {
	uint64_t rx_config;
	uint64_t rx_tcn;
	uint64_t rx_rst;
	uint64_t tx_config;
	uint64_t tx_tcn;
	uint64_t tx_rst;
	uint64_t tx_dropped; /* the tx callback could not queue it */
	uint64_t rx_ignored; /* BPDU on a disabled port */
	uint64_t rx_clamped; /* times outside the 8.10.2 ranges, used clamped */
	uint64_t
		rx_aged_out; /* configuration BPDU with message age >= max age: discarded (9.3.4) */
	uint64_t rx_looped;  /* this port's own configuration BPDU: discarded (9.3.4) */
	uint64_t rx_departed; /* naming as root a bridge that said it was leaving: discarded */
	uint64_t migrations;  /* sendRSTP changed: the port switched protocol (17.24) */
	uint64_t tc_detected; /* the port became forwarding: a topology change (17.31 DETECTED) */
	uint64_t tc_received; /* a TC flag or TCN the port heard (NOTIFIED_TC, NOTIFIED_TCN) */
	uint64_t flushes;     /* FDB flushes asked for the port */
	uint64_t transitions; /* reported port state changes */
};

struct rstp_port {
	bool in_use;
	uint16_t port_no;
	uint8_t priority;	      /* 0..63 */
	uint16_t port_id;	      /* portId 17.19.19 */
	uint32_t port_path_cost;      /* PortPathCost 17.19.20 */
	bool admin_edge;	      /* AdminEdge (17.13) */
	bool auto_edge;		      /* AutoEdge (17.13) */
	bool oper_point_to_point_mac; /* 6.4.3 */
	bool port_enabled;	      /* portEnabled 17.19.18 */

	/* 17.17 timers, whole seconds (ticks) */
	uint16_t edge_delay_while;
	uint16_t fd_while;
	uint16_t hello_when;
	uint16_t mdelay_while;
	uint16_t rb_while;
	uint16_t rcvd_info_while;
	uint16_t rr_while;
	uint16_t tc_while;

	/* 17.19 */
	bool agree, agreed;
	struct rstp_priority designated_priority;
	struct rstp_times designated_times;
	bool disputed;
	bool fdb_flush;
	bool forward, forwarding;
	enum rstp_info_is info_is;
	bool learn, learning;
	bool mcheck;
	struct rstp_priority msg_priority;
	struct rstp_times msg_times;
	bool new_info;
	bool oper_edge;
	struct rstp_priority port_priority;
	struct rstp_times port_times;
	bool proposed, proposing;
	bool rcvd_bpdu;
	enum rstp_rcvd_info rcvd_info;
	bool rcvd_msg;
	bool rcvd_rstp, rcvd_stp;
	bool rcvd_tc, rcvd_tc_ack, rcvd_tcn;
	bool re_root;
	bool reselect;
	enum rstp_role role;
	bool selected;
	enum rstp_role selected_role;
	bool send_rstp;
	bool sync, synced;
	bool tc_ack;
	bool tc_prop;
	uint8_t tx_count;
	bool updt_info;

	struct stp_bpdu rcvd; /* the BPDU rcvdBpdu says is there, times clamped */
	/*
	 * The last BPDU discarded for naming the departed root, replayed when the hold
	 * ends unless a newer one was taken: a root that only lost this wire is still
	 * named then, and its news is not left waiting for the next hello.
	 */
	struct stp_bpdu departed_bpdu;
	bool departed_held;

	enum rstp_prx_state prx;
	enum rstp_ppm_state ppm;
	enum rstp_bdm_state bdm;
	enum rstp_ptx_state ptx;
	enum rstp_pim_state pim;
	enum rstp_prt_state prt;
	enum rstp_pst_state pst;
	enum rstp_tcm_state tcm;

	enum stp_state reported; /* the state last given to the state callback */
	struct rstp_port_counters cnt;
};

struct rstp_bridge;

/* Remove the dynamic FDB entries of a port (fdbFlush, 17.19.7). */
typedef void (*rstp_flush_fn)(void *ctx, uint16_t port_no);

struct rstp_callbacks {
	stp_tx_fn tx;		    /* required: BPDUs to send */
	stp_state_fn state_changed; /* optional */
	rstp_flush_fn flush;	    /* optional */
};

struct rstp_bridge {
	/* 17.18 */
	uint64_t bridge_identifier;
	struct rstp_priority bridge_priority;
	struct rstp_times bridge_times;
	uint16_t root_port_id;
	struct rstp_priority root_priority;
	struct rstp_times root_times;
	/* 17.13 */
	uint8_t tx_hold_count;
	enum rstp_prs_state prs;

	uint16_t root_port;		/* the port whose portId is rootPortId, 0 when root */
	uint64_t topology_change_count; /* times a tcWhile started with none running */
	uint64_t last_topology_change;	/* ns */
	uint64_t run_limit;		/* machine runs cut short: a bug if not 0 */
	uint64_t now;			/* time of the event being handled */
	uint64_t next_tick;		/* when the Port Timers tick next (17.22) */
	uint64_t departed_root;	 /* a root that said it was leaving (rstp_neighbour_leaving) */
	uint64_t departed_until; /* ns: till then no BPDU naming it root is taken */
	bool departed_held;	 /* some port holds a departed_bpdu */
	struct rstp_callbacks cb;
	void *ctx;
	uint16_t nports; /* highest port number in use + 1 */
	struct rstp_port ports[STP_MAX_PORTS];
};

/*
 * BEGIN (17.16) for the bridge: no ports yet. times must pass stp_check_times
 * (false otherwise, and the bridge is left unset). The timers tick first one
 * second after `now`.
 */
bool rstp_init(struct rstp_bridge *br, uint64_t bridge_id, const struct stp_times *times,
	       uint64_t now, const struct rstp_callbacks *cb, void *ctx);
/* A new port, not enabled, its machines at BEGIN. false when taken or not stp_port_config_ok. */
bool rstp_add_port(struct rstp_bridge *br, uint16_t port_no, uint8_t priority, uint32_t path_cost);
struct rstp_port *rstp_get_port(struct rstp_bridge *br, uint16_t port_no);
const struct rstp_port *rstp_get_port_const(const struct rstp_bridge *br, uint16_t port_no);

/*
 * The neighbour on the port said it is leaving (it stops cleanly) or fell
 * silent. If it was the root, its word goes with it: information naming it
 * root is aged on every RSTP port, and RST BPDUs naming it root are discarded
 * (rx_departed) for `hold` ns (RSTP_DEPARTED_HOLD after a goodbye,
 * RSTP_SILENT_HOLD after a silence), the last of them replayed when it ends.
 * Call it before disabling the port.
 */
void rstp_neighbour_leaving(struct rstp_bridge *br, uint16_t port_no, uint64_t hold, uint64_t now);

/* portEnabled (17.19.18): the wire is up or down. */
void rstp_enable_port(struct rstp_bridge *br, uint16_t port_no, uint64_t now);
void rstp_disable_port(struct rstp_bridge *br, uint16_t port_no, uint64_t now);

/* 17.13 management; each makes the roles be selected again. */
void rstp_set_bridge_priority(struct rstp_bridge *br, uint16_t priority, uint64_t now);
void rstp_set_port_priority(struct rstp_bridge *br, uint16_t port_no, uint8_t priority,
			    uint64_t now);
void rstp_set_path_cost(struct rstp_bridge *br, uint16_t port_no, uint32_t path_cost, uint64_t now);
/* BridgeMaxAge, BridgeHelloTime, BridgeForwardDelay (checked by stp_check_times). */
void rstp_set_bridge_times(struct rstp_bridge *br, const struct stp_times *times, uint64_t now);
/* The port disabled and gone: its number is free again. */
void rstp_remove_port(struct rstp_bridge *br, uint16_t port_no, uint64_t now);
/* Transmit Hold Count, 1..10 (17.13) */
void rstp_set_tx_hold_count(struct rstp_bridge *br, uint8_t count, uint64_t now);
/*
 * AdminEdge and AutoEdge (17.13). Bridge Detection (17.25) reads
 * AdminEdge when the port is disabled: set it before enabling the port.
 */
void rstp_set_port_edge(struct rstp_bridge *br, uint16_t port_no, bool admin_edge, bool auto_edge,
			uint64_t now);
/* operPointToPointMAC (6.4.3): agreements are taken only on point-to-point ports. */
void rstp_set_port_point_to_point(struct rstp_bridge *br, uint16_t port_no, bool p2p, uint64_t now);
/* mcheck (17.19.13): try RSTP again on the port (`vwirectl mcheck BRIDGE PORT`). */
void rstp_mcheck(struct rstp_bridge *br, uint16_t port_no, uint64_t now);

/*
 * A decoded BPDU received on a port (stp_bpdu_decode). What 9.3.4 leaves to
 * the port is checked here: a configuration BPDU with message age >= max age
 * or that carries this port's own bridge and port identifiers is discarded.
 */
void rstp_received_bpdu(struct rstp_bridge *br, uint16_t port_no, const struct stp_bpdu *bpdu,
			uint64_t now);

/* Runs the once-a-second tick (17.22) for every second due at `now`. */
void rstp_tick(struct rstp_bridge *br, uint64_t now);
/* When rstp_tick next has work: the next second's tick, or the end of a departed root's hold. */
uint64_t rstp_next_deadline(const struct rstp_bridge *br);

/* For showstp. */
bool rstp_is_root_bridge(const struct rstp_bridge *br);
/* disabled when the port is, else discarding (blocking), learning or forwarding */
enum stp_state rstp_port_state(const struct rstp_port *p);
/* some port's tcWhile runs: the bridge is propagating a topology change */
bool rstp_topology_change(const struct rstp_bridge *br);
const char *rstp_role_name(enum rstp_role r);

/*
 * 17.6: <0 when a is better (numerically lower) than b, 0 when the same, >0
 * when worse; the four components compared in order.
 */
int rstp_priority_compare(const struct rstp_priority *a, const struct rstp_priority *b);
/*
 * 17.6: a message priority vector is superior to a port priority vector when
 * it is better, or when it differs and comes from the same designated bridge
 * (MAC) and port (number): that bridge's newer word replaces its older one.
 */
bool rstp_priority_superior(const struct rstp_priority *msg, const struct rstp_priority *port);

#endif
