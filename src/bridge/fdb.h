/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_FDB_H
#define VW_BRIDGE_FDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The filtering (forwarding) database: which port each MAC address was last
 * seen on. A fixed table allocated once: a keyed hash over the MAC (the key
 * comes from the caller, random per process, so nobody can aim a flood of
 * addresses at one chain) into chains of entries, and the dynamic entries on a
 * list in order of last use (plus one such list per port). Ageing walks the
 * whole-table list from its old end. Static (local) entries never age, are
 * never evicted and count against no port.
 *
 * One port must not be able to take the table from the others (a peer on a
 * wire, or a VM, sending frames from random source addresses), so learning is
 * bounded twice:
 *   - the cap: a port holds at most max_learned dynamic entries (0: no cap of
 *     its own). A new address, or an address moving, to a port at its cap is
 *     not learned (FDB_PORT_LIMIT); frames from it are still forwarded, and
 *     flooded while their destination is unknown.
 *   - the eviction rule, when no slot is free: a port's fair share is the
 *     table's dynamic entries divided by the ports holding any (the learning
 *     port included). A port below its fair share takes the slot of the least
 *     recently seen entry of the port holding the most entries (necessarily
 *     above its share); a port at or above it learns nothing more (FDB_FULL)
 *     until entries age out. So a flood only ever displaces the flooding
 *     port's own future, never another port's entries below their share.
 * Ports are numbered below FDB_MAX_PORTS; the bridge's ports all are.
 */

#define FDB_NIL		UINT32_MAX
#define FDB_DEFAULT_MAX 8192
#define FDB_MAX_ENTRIES (1u << 24)
#define FDB_MAX_PORTS	64

enum {
	FDB_F_STATIC = 1, /* configured: no ageing, no eviction, never moves */
	FDB_F_LOCAL = 2,  /* an address of this host (delivered to the local port) */
};

struct fdb_entry {
	uint8_t mac[6];
	uint16_t port;
	uint8_t flags;
	bool used;
	uint32_t hnext;	       /* hash chain */
	uint32_t prev, next;   /* ageing list (dynamic entries), oldest first */
	uint32_t pprev, pnext; /* the same order, this port's dynamic entries only */
	uint64_t updated;      /* ns */
};

struct fdb_stats {
	uint64_t learned; /* new entries */
	uint64_t moved;	  /* an address seen on another port */
	uint64_t aged;	  /* removed by ageing */
	uint64_t evicted; /* removed to make room */
	uint64_t flushed; /* removed with their port */
	uint64_t own_src; /* a frame came in with a local address as source */
	uint64_t full;	  /* no free slot, and the port holds its fair share (or all static) */
	uint64_t limited; /* the port holds max_learned entries already */
};

/* One port's dynamic entries: how many, oldest and newest. */
struct fdb_port {
	uint32_t count;
	uint32_t head, tail;
};

struct fdb {
	struct fdb_entry *e;
	uint32_t *bucket;
	uint32_t cap;
	uint32_t mask;
	uint32_t count;
	uint32_t free_head;
	uint32_t lru_head; /* oldest dynamic entry */
	uint32_t lru_tail;
	uint32_t n_static;
	uint32_t max_learned;	/* per port, 0: only the table's cap */
	uint32_t ports_holding; /* ports with at least one dynamic entry */
	struct fdb_port port[FDB_MAX_PORTS];
	uint64_t k0, k1;
	struct fdb_stats st;
};

enum fdb_learn_result {
	FDB_REFRESHED,
	FDB_LEARNED,
	FDB_MOVED,
	FDB_EVICTED_AND_LEARNED,
	FDB_OWN,	/* address is static/local: not learned */
	FDB_FULL,	/* no free slot and the port holds its fair share: not learned */
	FDB_PORT_LIMIT, /* the port holds max_learned entries (or port >= FDB_MAX_PORTS) */
};

/*
 * cap entries (1..FDB_MAX_ENTRIES), hash key from the caller. false on ENOMEM/bad cap.
 * No per-port cap until fdb_set_max_learned.
 */
bool fdb_init(struct fdb *f, uint32_t cap, const uint64_t key[2]);
/* The per-port cap, 0 for none. Entries a port holds beyond a lowered cap stay until they age. */
void fdb_set_max_learned(struct fdb *f, uint32_t max_learned);
/* Dynamic entries port holds now. */
uint32_t fdb_port_count(const struct fdb *f, uint16_t port);
void fdb_destroy(struct fdb *f);

const struct fdb_entry *fdb_lookup(const struct fdb *f, const uint8_t mac[6]);
enum fdb_learn_result fdb_learn(struct fdb *f, const uint8_t mac[6], uint16_t port, uint64_t now);
/* A static entry (flags FDB_F_STATIC, plus FDB_F_LOCAL when local). false when full. */
bool fdb_add_static(struct fdb *f, const uint8_t mac[6], uint16_t port, uint8_t flags);
bool fdb_delete(struct fdb *f, const uint8_t mac[6]);

/* Removes dynamic entries not seen for ageing_time; returns how many. */
uint32_t fdb_age(struct fdb *f, uint64_t now, uint64_t ageing_time);
/* When the next dynamic entry expires; UINT64_MAX when there is none. */
uint64_t fdb_next_expiry(const struct fdb *f, uint64_t ageing_time);
/* Removes the dynamic entries of a port (static ones stay unless also_static). */
uint32_t fdb_flush_port(struct fdb *f, uint16_t port, bool also_static);
void fdb_flush(struct fdb *f);

/* Iteration for display: index 0..cap-1, NULL for free slots. */
static inline const struct fdb_entry *fdb_entry_at(const struct fdb *f, uint32_t i)
{
	return i < f->cap && f->e[i].used ? &f->e[i] : NULL;
}

#endif
