/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_RELOAD_H
#define VW_DAEMON_RELOAD_H

/*
 * A reload (vwirectl reload NAME, SIGHUP): the config file read again and only what
 * changed applied, as `wg syncconf` does for WireGuard (DESIGN.md, "Reload").
 * reload_diff.c compares two parsed configs, pure text-to-struct work: what was added,
 * removed and changed, or the keys that only a restart can change. reload.c applies a
 * diff to the running vwired under the lock.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"

/* What changed in a peer that is in both files (same PublicKey). */
enum {
	RELOAD_PEER_ALLOWED_IPS = 1 << 0,
	RELOAD_PEER_ENDPOINT = 1 << 1, /* as written: a name is not resolved again */
	RELOAD_PEER_KEEPALIVE = 1 << 2,
	RELOAD_PEER_PSK = 1 << 3,
};

/* What changed in a wire that is in both files (same Name). */
enum {
	RELOAD_WIRE_COST = 1 << 0,
	RELOAD_WIRE_PRIORITY = 1 << 1,
	/* Remote, VNI or Port: another wire under the same name, its port made again. */
	RELOAD_WIRE_ENDS = 1 << 2,
};

/* [Interface] keys applied live. */
enum {
	RELOAD_IFACE_PRIVATE_KEY = 1 << 0,
	RELOAD_IFACE_LISTEN_PORT = 1 << 1,
	RELOAD_IFACE_FWMARK = 1 << 2,
};

/* [Bridge] keys applied live. */
enum {
	RELOAD_BRIDGE_PRIORITY = 1 << 0,
	RELOAD_BRIDGE_TIMES = 1 << 1,	   /* HelloTime, MaxAge, ForwardDelay */
	RELOAD_BRIDGE_PROTOCOL = 1 << 2,   /* Protocol or STP: a new tree */
	RELOAD_BRIDGE_AGEING = 1 << 3,	   /* AgeingTime, MaxLearned */
	RELOAD_BRIDGE_PORT_FLAGS = 1 << 4, /* Edge, BPDUGuard of a TAP port */
	RELOAD_BRIDGE_UDP_CSUM = 1 << 5,   /* UDPChecksum: with the new VXLAN table */
};

/* A peer or wire in both files: its index in each and what changed (0: nothing). */
struct reload_pair {
	uint32_t old, new;
	uint32_t what;
};

struct reload_diff {
	uint32_t iface;				  /* RELOAD_IFACE_* */
	uint32_t bridge;			  /* RELOAD_BRIDGE_* */
	uint32_t *peers_added, n_peers_added;	  /* indexes into the new config */
	uint32_t *peers_removed, n_peers_removed; /* indexes into the old config */
	struct reload_pair *peers_kept;		  /* every peer in both, changed or not */
	uint32_t n_peers_kept, n_peers_changed;
	uint32_t *wires_added, n_wires_added;
	uint32_t *wires_removed, n_wires_removed;
	struct reload_pair *wires_kept;
	uint32_t n_wires_kept, n_wires_changed;
};

/*
 * Compares the running config with the new one. 0 and the diff (free it), or -1 with a
 * message naming every key that needs a restart (the diff then holds nothing). The old
 * config's keys must be there to compare (the daemon wipes its copy: it puts the
 * device's back for the call).
 */
int reload_diff(const struct vw_config *old, const struct vw_config *new, struct reload_diff *d,
		char *err, size_t errlen);
void reload_diff_free(struct reload_diff *d);
/* Whether the diff changes anything at all. */
bool reload_diff_empty(const struct reload_diff *d);
/*
 * One line, as vwirectl and the log say it: "peers: 1 added, 0 removed, 1 changed;
 * wires: 1 added, 1 removed, 0 changed; bridge: priority, times; interface: listen port".
 * Returns what the whole line needs, snprintf's way.
 */
size_t reload_summary(const struct reload_diff *d, char *buf, size_t len);

#endif
