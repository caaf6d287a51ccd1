/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_BRIDGE_H
#define VW_BRIDGE_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge_stp.h"
#include "core/pkt.h"
#include "fdb.h"
#include "stp.h"

/*
 * The learning bridge: one local interface (port 0: this host's TAP, like the
 * kernel's bridge device, never an STP port and always forwarding) and up to
 * BR_MAX_PORTS-1 STP ports (wires, extra TAPs) numbered from 1. The tree is
 * RSTP or 802.1D (bridge_stp.h), per br_config.protocol.
 *
 * Pure: no system calls, no clock, no globals. Frames come in as struct pkt
 * (data = Ethernet header) with the port they arrived on; frames to send come
 * out in a pkt_vec with pkt->port set to the egress port. A frame flooded to
 * several ports is copied into buffers from the configured pool (a copy that
 * cannot be made is a counted drop on that egress port). Time is `now` in ns.
 *
 * Against a misbehaving neighbour (an authenticated peer on a wire is still
 * only as trustworthy as what it bridges):
 *   - learning is capped per port (max_learned, default BR_DEFAULT_MAX_LEARNED)
 *     and a full FDB never lets one port evict another's entries below their
 *     fair share (fdb.h has the rule); what is not learned is still forwarded;
 *   - received BPDU timers are clamped to the 802.1D ranges (stp.c, rstp.c);
 *   - a port with BPDU guard (one facing a VM, where no bridge belongs) is
 *     disabled by the first frame to the STP group address it receives, STP on
 *     or off, and stays down until br_port_enable (the TAP added again, or a
 *     restart of vwired).
 */

/*
 * Per port. A wire's far side is a whole segment (another host's bridge and its
 * VMs, often hundreds of addresses), and a VM's TAP one to a few: 1024 is an
 * order of magnitude above the first, and 8 ports at the cap fit the default
 * FDB (8192), so with few ports the table never fills and the fair-share rule
 * only matters with more.
 */
#define BR_DEFAULT_MAX_LEARNED 1024

#define BR_MAX_PORTS  STP_MAX_PORTS /* including the local port 0 */
#define BR_PORT_LOCAL 0
#define BR_IFNAMSIZ   16

/* Why a frame was dropped, counted per port; the name is the counter's (br_drop_name()). */
#define BR_DROP_REASONS(X)                                                                         \
	X(RUNT, "runt")			/* shorter than an Ethernet header */                      \
	X(BAD_SRC, "bad_source")	/* multicast or all-zero source address */                 \
	X(LINK_LOCAL, "link_local")	/* 01:80:c2:00:00:0x: never forwarded */                   \
	X(BPDU_INVALID, "bpdu_invalid") /* to the STP group address, but not a valid BPDU */       \
	X(PORT_STATE, "port_state")	/* ingress port disabled, blocking, listening, learning */ \
	X(FILTERED, "filtered")		/* destination is on the ingress port */                   \
	X(EGRESS_STATE, "egress_state") /* destination's port is not forwarding */                 \
	X(NO_EGRESS, "no_egress")	/* flood with no forwarding port to go to */               \
	X(NO_BUFFER, "no_buffer")	/* egress: no buffer for a flood copy or a BPDU */         \
	X(TOO_BIG, "too_big")		/* egress: frame does not fit a pool buffer */             \
	X(OUT_FULL, "out_full")		/* egress: BPDU with no room in the output vector */       \
	X(BPDU_GUARD, "bpdu_guard")	/* to the STP group address on a BPDU guard port */

#define BR_DROP_ENUM_(id, name) BR_DROP_##id,
enum br_drop_reason { BR_DROP_REASONS(BR_DROP_ENUM_) BR_DROP_MAX };
#undef BR_DROP_ENUM_

struct br_port_counters {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_bpdu;
	uint64_t tx_bpdu;
	uint64_t learn_limit; /* source addresses not learned: the port is at max_learned */
	uint64_t learn_full;  /* not learned: FDB full and the port holds its fair share */
	uint64_t bpdu_guard;  /* times BPDU guard disabled the port */
	uint64_t drop[BR_DROP_MAX];
};

struct br_port {
	bool in_use;
	bool enabled;
	bool bpdu_guard;	  /* configured: BPDUs disable the port */
	bool bpdu_guard_disabled; /* and one did, until br_port_enable */
	bool admin_edge;	  /* configured Edge: RSTP forwards at once, until a BPDU */
	char name[BR_IFNAMSIZ];
	uint8_t mac[6];	 /* BPDU source address */
	uint64_t rtt_ns; /* the link's smoothed round trip as its owner measures it; 0: unknown */
	struct br_port_counters cnt;
};

struct bridge;

/* BPDU guard just disabled port (for a log line: the bridge itself writes none). */
typedef void (*br_bpdu_guard_fn)(void *ctx, const struct bridge *br, uint16_t port);

struct br_config {
	char name[BR_IFNAMSIZ];	   /* [Bridge] Name: the local TAP */
	bool stp;		   /* STP = on */
	enum br_protocol protocol; /* Protocol = rstp (default) | stp */
	uint16_t priority;	   /* bridge priority 0..65535 (default 32768) */
	uint64_t hello_time;	   /* ns: 1..10 s (default 2 s) */
	uint64_t max_age;	   /* 6..40 s (20 s) */
	uint64_t forward_delay;	   /* 4..30 s (15 s) */
	uint64_t ageing_time;	   /* 10..1000000 s (300 s) */
	bool have_mac;		   /* mac below is the bridge address; else derived from pubkey */
	uint8_t mac[6];
	uint8_t pubkey[32];		/* this host's WireGuard public key */
	uint32_t fdb_max;		/* FDB capacity, 0 = FDB_DEFAULT_MAX */
	uint32_t max_learned;		/* dynamic FDB entries per port, 0 = no cap but the FDB's */
	uint64_t hash_key[2];		/* FDB hash key: random per process */
	struct pkt_pool *pool;		/* buffers for flood copies and BPDUs */
	br_bpdu_guard_fn on_bpdu_guard; /* optional */
	void *cb_ctx;
};

struct br_port_config {
	char name[BR_IFNAMSIZ];
	uint32_t path_cost; /* 1..65535 (default 100) */
	uint8_t priority;   /* 0..63 (default 32; port id = priority << 10 | port no) */
	bool have_mac;	    /* mac below is the BPDU source; else the bridge address */
	uint8_t mac[6];
	bool bpdu_guard; /* a port facing a VM: a BPDU on it disables it */
	bool admin_edge; /* RSTP AdminEdge: a port facing hosts, forwarding at once */
	/*
	 * RSTP operPointToPointMAC (default on): agreements make a port forward at
	 * once only where one bridge can answer. A wire is a cable to one host, and
	 * a TAP has exactly one other end too (the VM's or container's interface).
	 */
	bool point_to_point;
};

struct bridge {
	char name[BR_IFNAMSIZ];
	uint8_t mac[6]; /* the MAC of the bridge id */
	bool stp_on;
	enum br_protocol protocol; /* the tree that runs: stp or rstp (bridge_stp.c) */
	uint64_t ageing_time;
	struct pkt_pool *pool;
	struct pkt_vec *out;			/* during a call: where BPDUs go */
	uint16_t nports;			/* ports in use including the local one */
	uint16_t port_end;			/* highest port number in use + 1 */
	uint64_t bpdu_errors[STP_BPDU_ERR_MAX]; /* why BPDUs were rejected */
	uint64_t rx_bad_port; /* frames handed in for a port that does not exist */
	br_bpdu_guard_fn on_bpdu_guard;
	void *cb_ctx;
	struct br_port ports[BR_MAX_PORTS];
	struct fdb fdb;
	struct stp_bridge stp;	 /* protocol stp */
	struct rstp_bridge rstp; /* protocol rstp */
};

void br_config_default(struct br_config *cfg);
/* 0, or -EINVAL with *why naming the parameter and its range. */
int br_config_check(const struct br_config *cfg, const char **why);

/*
 * The bridge address derived from a WireGuard public key, stable across
 * restarts: the first 6 bytes of BLAKE2s-256("vwire bridge id" || pubkey), with
 * the multicast bit cleared and the locally administered bit set.
 */
void br_mac_from_pubkey(const uint8_t pubkey[32], uint8_t mac[6]);

/* Allocates the FDB (once); -EINVAL (bad config, see br_config_check) or -ENOMEM. */
int br_init(struct bridge *br, const struct br_config *cfg, uint64_t now);
void br_destroy(struct bridge *br);

/* Adds an STP port, disabled. Returns its port number (1..63), or -EINVAL / -ENOSPC. */
int br_add_port(struct bridge *br, const struct br_port_config *pc);
void br_port_config_default(struct br_port_config *pc, const char *name);
/*
 * Wire up / down (session established / lost), TAP carrier. May emit BPDUs into out.
 * Enabling also lifts a BPDU guard's disable.
 */
int br_port_enable(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out);
int br_port_disable(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out);
/*
 * br_port_disable for a port whose neighbour said it is leaving (vwire's goodbye), or fell
 * silent (liveness): under RSTP, a root's news is forgotten first, for RSTP_DEPARTED_HOLD
 * or RSTP_SILENT_HOLD (rstp_neighbour_leaving).
 */
int br_port_goodbye(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out);
int br_port_silent(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out);
int br_set_port_cost(struct bridge *br, uint32_t port, uint32_t cost, uint64_t now,
		     struct pkt_vec *out);
int br_set_port_priority(struct bridge *br, uint32_t port, uint32_t priority, uint64_t now,
			 struct pkt_vec *out);
int br_set_priority(struct bridge *br, uint32_t priority, uint64_t now, struct pkt_vec *out);
/*
 * Changes a running bridge as a reload asks (only what changed, so the rest of the tree
 * keeps its state). br_remove_port: the port disabled, out of the tree and the FDB
 * (static entries too), its number free for br_add_port. br_set_times: the times this
 * bridge sends as root (ns; -ERANGE unless stp_check_times passes). br_set_protocol:
 * a new tree (bridge_stp.h's br_stp_restart), the learned entries flushed.
 * br_set_ageing: AgeingTime (ns) and MaxLearned (bounds of br_config_check).
 * br_set_port_guards: BPDUGuard and Edge of a port.
 */
int br_remove_port(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out);
int br_set_times(struct bridge *br, uint64_t hello_time, uint64_t max_age, uint64_t forward_delay,
		 uint64_t now, struct pkt_vec *out);
int br_set_protocol(struct bridge *br, enum br_protocol protocol, bool stp_on, uint64_t now,
		    struct pkt_vec *out);
int br_set_ageing(struct bridge *br, uint64_t ageing_time, uint32_t max_learned);
int br_set_port_guards(struct bridge *br, uint32_t port, bool bpdu_guard, bool admin_edge,
		       uint64_t now, struct pkt_vec *out);
/*
 * RSTP's mcheck (17.19.13): try RSTP again on a port that fell back to 802.1D
 * (its neighbour replaced). -ENOENT: no such port; -EOPNOTSUPP: the bridge
 * runs 802.1D.
 */
int br_mcheck(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out);
/* The STP port named name (a wire's or a TAP's): its number, or -ENOENT. */
int br_port_by_name(const struct bridge *br, const char *name);

/* A static entry delivering `mac` to the local port (the TAP's address). */
int br_fdb_add_local(struct bridge *br, const uint8_t mac[6]);

/*
 * Frames received on `port`. Takes frames from the front of `in` while `out`
 * is sure to have room for everything one frame may produce (a flood to every
 * port, or the BPDUs an STP event sends); consumed frames leave `in` and the
 * rest move to its front. Returns how many were consumed. Each consumed frame
 * is forwarded (it sits in `out`), or freed (dropped and counted, or a BPDU
 * handed to STP). Call again with an emptied `out` while in->n > 0.
 */
uint32_t br_input(struct bridge *br, uint32_t port, struct pkt_vec *in, uint64_t now,
		  struct pkt_vec *out);

/* Runs the STP timers and FDB ageing due at `now`; BPDUs go into out (give it room). */
void br_tick(struct bridge *br, uint64_t now, struct pkt_vec *out);
/* When br_tick next has work; UINT64_MAX when never. Changes after every call above. */
uint64_t br_next_deadline(const struct bridge *br);
/* The ageing time in force: AgeingTime, or the forward delay during a topology change. */
uint64_t br_current_ageing_time(const struct bridge *br);

const struct br_port *br_get_port(const struct bridge *br, uint32_t port);
/* What the port's owner measured of the link's round trip, for showstp (no effect on the tree). */
void br_set_port_rtt(struct bridge *br, uint32_t port, uint64_t rtt_ns);
/* The 802.1D port, for its tests: NULL when the bridge runs RSTP. */
const struct stp_port *br_get_stp_port(const struct bridge *br, uint32_t port);
/* The port as the tree sees it, whichever protocol runs; false when not an STP port. */
bool br_get_stp_view(const struct bridge *br, uint32_t port, struct br_stp_port_view *v);
/* "runt", ...; NULL past BR_DROP_MAX. */
const char *br_drop_name(enum br_drop_reason r);

#endif
