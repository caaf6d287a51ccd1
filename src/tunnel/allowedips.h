/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_ALLOWEDIPS_H
#define VW_TUNNEL_ALLOWEDIPS_H

/*
 * Cryptokey routing table (whitepaper section 2): maps IPv4 and IPv6 prefixes
 * to peers with longest-prefix match. One path-compressed binary trie per
 * family; every node without a peer has exactly two children, so a table of n
 * prefixes holds at most 2n - 1 nodes, and no path is longer than 129 nodes.
 * Lookups do not allocate; inserts allocate one or two nodes (config time).
 * Peers are opaque pointers owned by the caller. Each peer's prefixes are also
 * on a list of their own, found through a hash map keyed by the peer pointer,
 * so listing, counting or removing one peer's prefixes costs that peer's
 * prefixes, not the table: a control answer lists every peer.
 */
#include <stddef.h>
#include <stdint.h>

struct wg_aip_node;
struct wg_aip_link;
struct wg_aip_owner;

/*
 * Nodes live in one arena and link by uint32 index (0 = none): 32-byte
 * nodes aligned to cache lines keep large tables in cache, and freed nodes
 * are reused, so memory follows the peak number of prefixes. What only
 * config and control read (owner, per-peer list) lives in parallel arrays.
 */
struct wg_allowedips {
	struct wg_aip_node *node;   /* arena; node[0] is unused so that index 0 means none */
	void **peer;		    /* peer[i]: owner of node i's prefix, NULL for a branch point */
	struct wg_aip_link *link;   /* link[i]: node i's neighbours on its peer's list */
	struct wg_aip_owner *owner; /* open addressing, linear probing: peer -> its list */
	uint32_t cap;		    /* arena slots */
	uint32_t free_head;	    /* free slots, linked through their first child */
	uint32_t root4;
	uint32_t root6;
	uint32_t owner_cap; /* owner slots: 0 or a power of two, at most half used */
	uint32_t owners;    /* peers owning at least one prefix */
	size_t nodes;	    /* trie nodes in use, prefixes and branch points */
	size_t prefixes;    /* nodes with a peer */
};

void wg_allowedips_init(struct wg_allowedips *t);
/* Frees all memory; the table is empty and reusable afterwards. */
void wg_allowedips_free(struct wg_allowedips *t);

/*
 * family AF_INET (addr 4 bytes) or AF_INET6 (16 bytes), network byte order.
 * Host bits beyond cidr are ignored, as wg does. Inserting a prefix that is
 * already present moves it to peer. 0, -EINVAL (bad family, cidr or NULL
 * peer) or -ENOMEM (table unchanged).
 */
int wg_allowedips_insert(struct wg_allowedips *t, uint8_t family, const uint8_t *addr, uint8_t cidr,
			 void *peer);
/* Removes exactly that prefix if peer owns it: 0, or -ENOENT (-EINVAL on bad family or cidr). */
int wg_allowedips_remove(struct wg_allowedips *t, uint8_t family, const uint8_t *addr, uint8_t cidr,
			 void *peer);
void wg_allowedips_remove_by_peer(struct wg_allowedips *t, void *peer);

/* The peer owning the longest prefix that contains addr, or NULL. */
void *wg_allowedips_lookup(const struct wg_allowedips *t, uint8_t family, const uint8_t *addr);

/*
 * Calls cb for every prefix peer owns (addr masked, network byte order),
 * IPv4 first, then IPv6, each in address order, shorter first. cb must not
 * modify t. Costs that peer's prefixes times log of them.
 */
void wg_allowedips_foreach(const struct wg_allowedips *t, void *peer,
			   void (*cb)(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr),
			   void *ctx);

/* Number of prefixes peer owns (peer NULL: all prefixes); constant time. */
size_t wg_allowedips_count(const struct wg_allowedips *t, void *peer);

#endif
