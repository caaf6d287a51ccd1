/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_INDEX_H
#define VW_TUNNEL_INDEX_H

/*
 * The index table: maps the 32-bit receiver index in incoming messages to the
 * handshake or keypair it names (the kernel's index hashtable). Indexes are
 * random and unique, so they say nothing about how many sessions exist, and
 * their low bits spread entries over the buckets without hashing. Entries live
 * inside handshakes and keypairs: inserting never allocates.
 */
#include <stdbool.h>
#include <stdint.h>

#include "cookie.h"

struct wg_peer;

enum wg_index_type {
	WG_INDEX_HANDSHAKE = 1,
	WG_INDEX_KEYPAIR = 2,
};

struct wg_index_entry {
	struct wg_index_entry *next;
	struct wg_peer *peer;
	uint32_t index;
	uint8_t type;
	bool hashed;
};

struct wg_index_table {
	struct wg_index_entry **buckets;
	uint32_t mask;
	uint32_t count;
};

/* nbuckets is rounded up to a power of two. 0 or -ENOMEM. */
int wg_index_table_init(struct wg_index_table *t, uint32_t nbuckets);
void wg_index_table_free(struct wg_index_table *t);

/*
 * Gives entry a fresh random index not in use (removing its old one first) and
 * returns it.
 */
uint32_t wg_index_insert(struct wg_index_table *t, struct wg_index_entry *entry, wg_random_fn rnd,
			 void *rnd_ctx);
/* new takes over old's index (a handshake's index becomes its keypair's); old leaves. */
void wg_index_replace(struct wg_index_table *t, struct wg_index_entry *old,
		      struct wg_index_entry *new_entry);
void wg_index_remove(struct wg_index_table *t, struct wg_index_entry *entry);
/* The entry with this index whose type is in type_mask, or NULL. */
struct wg_index_entry *wg_index_lookup(const struct wg_index_table *t, uint32_t index,
				       unsigned type_mask);

#endif
