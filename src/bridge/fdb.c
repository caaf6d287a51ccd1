/* SPDX-License-Identifier: MIT */
#include "fdb.h"

#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"

/*
 * A keyed mix of the 48-bit address (two rounds of multiply-xorshift around
 * the two key words). Not a cryptographic PRF, but without the key an outsider
 * cannot tell which addresses share a chain.
 */
static uint32_t fdb_hash(const struct fdb *f, const uint8_t mac[6])
{
	uint64_t x = ((uint64_t)get_be16(mac) << 32 | get_be32(mac + 2)) ^ f->k0;

	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	x ^= f->k1;
	x *= 0x81dadef4bc2dd44dULL;
	x ^= x >> 33;
	return (uint32_t)x & f->mask;
}

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

bool fdb_init(struct fdb *f, uint32_t cap, const uint64_t key[2])
{
	uint32_t nb = 1;

	memset(f, 0, sizeof(*f));
	if (cap == 0 || cap > FDB_MAX_ENTRIES)
		return false;
	while (nb < cap)
		nb <<= 1;
	f->e = calloc(cap, sizeof(*f->e));
	f->bucket = malloc((size_t)nb * sizeof(*f->bucket));
	if (!f->e || !f->bucket) {
		free(f->e);
		free(f->bucket);
		memset(f, 0, sizeof(*f));
		return false;
	}
	f->cap = cap;
	f->mask = nb - 1;
	f->k0 = key ? key[0] : 0;
	f->k1 = key ? key[1] : 0;
	fdb_flush(f);
	return true;
}

void fdb_destroy(struct fdb *f)
{
	free(f->e);
	free(f->bucket);
	memset(f, 0, sizeof(*f));
}

void fdb_flush(struct fdb *f)
{
	for (uint32_t i = 0; i <= f->mask; i++)
		f->bucket[i] = FDB_NIL;
	for (uint32_t i = 0; i < f->cap; i++) {
		f->e[i].used = false;
		f->e[i].hnext = i + 1 < f->cap ? i + 1 : FDB_NIL;
	}
	f->free_head = 0;
	f->count = 0;
	f->lru_head = f->lru_tail = FDB_NIL;
}

static uint32_t fdb_find(const struct fdb *f, const uint8_t mac[6], uint32_t *bucket)
{
	uint32_t b = fdb_hash(f, mac);

	if (bucket)
		*bucket = b;
	for (uint32_t i = f->bucket[b]; i != FDB_NIL; i = f->e[i].hnext)
		if (mac_eq(f->e[i].mac, mac))
			return i;
	return FDB_NIL;
}

const struct fdb_entry *fdb_lookup(const struct fdb *f, const uint8_t mac[6])
{
	uint32_t i = fdb_find(f, mac, NULL);

	return i == FDB_NIL ? NULL : &f->e[i];
}

static void lru_unlink(struct fdb *f, uint32_t i)
{
	struct fdb_entry *e = &f->e[i];

	if (e->prev != FDB_NIL)
		f->e[e->prev].next = e->next;
	else
		f->lru_head = e->next;
	if (e->next != FDB_NIL)
		f->e[e->next].prev = e->prev;
	else
		f->lru_tail = e->prev;
}

static void lru_append(struct fdb *f, uint32_t i)
{
	struct fdb_entry *e = &f->e[i];

	e->next = FDB_NIL;
	e->prev = f->lru_tail;
	if (f->lru_tail != FDB_NIL)
		f->e[f->lru_tail].next = i;
	else
		f->lru_head = i;
	f->lru_tail = i;
}

static void fdb_remove(struct fdb *f, uint32_t i)
{
	struct fdb_entry *e = &f->e[i];
	uint32_t *pp = &f->bucket[fdb_hash(f, e->mac)];

	while (*pp != i)
		pp = &f->e[*pp].hnext;
	*pp = e->hnext;
	if (!(e->flags & FDB_F_STATIC))
		lru_unlink(f, i);
	e->used = false;
	e->hnext = f->free_head;
	f->free_head = i;
	f->count--;
}

/* A free slot, evicting the least recently seen dynamic entry when there is none. */
static uint32_t fdb_alloc(struct fdb *f, bool *evicted)
{
	uint32_t i;

	*evicted = false;
	if (f->free_head == FDB_NIL) {
		if (f->lru_head == FDB_NIL)
			return FDB_NIL;
		fdb_remove(f, f->lru_head);
		f->st.evicted++;
		*evicted = true;
	}
	i = f->free_head;
	f->free_head = f->e[i].hnext;
	return i;
}

static uint32_t fdb_insert(struct fdb *f, const uint8_t mac[6], uint16_t port, uint8_t flags,
			   uint64_t now, bool *evicted)
{
	uint32_t i = fdb_alloc(f, evicted);
	uint32_t b;
	struct fdb_entry *e;

	if (i == FDB_NIL)
		return FDB_NIL;
	/* The bucket is computed after eviction: it may have changed that chain. */
	b = fdb_hash(f, mac);
	e = &f->e[i];
	memcpy(e->mac, mac, 6);
	e->port = port;
	e->flags = flags;
	e->used = true;
	e->updated = now;
	e->hnext = f->bucket[b];
	f->bucket[b] = i;
	if (!(flags & FDB_F_STATIC))
		lru_append(f, i);
	f->count++;
	return i;
}

enum fdb_learn_result fdb_learn(struct fdb *f, const uint8_t mac[6], uint16_t port, uint64_t now)
{
	uint32_t i = fdb_find(f, mac, NULL);
	bool evicted;

	if (i != FDB_NIL) {
		struct fdb_entry *e = &f->e[i];
		enum fdb_learn_result r = FDB_REFRESHED;

		if (e->flags & FDB_F_STATIC) {
			if (e->port != port)
				f->st.own_src++;
			return FDB_OWN;
		}
		if (e->port != port) {
			e->port = port;
			f->st.moved++;
			r = FDB_MOVED;
		}
		/* Same clock reading as the last frame (one batch): the order stands. */
		if (e->updated != now) {
			e->updated = now;
			if (f->lru_tail != i) {
				lru_unlink(f, i);
				lru_append(f, i);
			}
		}
		return r;
	}
	if (fdb_insert(f, mac, port, 0, now, &evicted) == FDB_NIL) {
		f->st.full++;
		return FDB_FULL;
	}
	f->st.learned++;
	return evicted ? FDB_EVICTED_AND_LEARNED : FDB_LEARNED;
}

bool fdb_add_static(struct fdb *f, const uint8_t mac[6], uint16_t port, uint8_t flags)
{
	uint32_t i = fdb_find(f, mac, NULL);
	bool evicted;

	if (i != FDB_NIL)
		fdb_remove(f, i);
	return fdb_insert(f, mac, port, (uint8_t)(flags | FDB_F_STATIC), 0, &evicted) != FDB_NIL;
}

bool fdb_delete(struct fdb *f, const uint8_t mac[6])
{
	uint32_t i = fdb_find(f, mac, NULL);

	if (i == FDB_NIL)
		return false;
	fdb_remove(f, i);
	return true;
}

uint32_t fdb_age(struct fdb *f, uint64_t now, uint64_t ageing_time)
{
	uint32_t n = 0;

	/* Oldest first: stop at the first entry still fresh. */
	while (f->lru_head != FDB_NIL && f->e[f->lru_head].updated + ageing_time <= now) {
		fdb_remove(f, f->lru_head);
		n++;
	}
	f->st.aged += n;
	return n;
}

uint64_t fdb_next_expiry(const struct fdb *f, uint64_t ageing_time)
{
	if (f->lru_head == FDB_NIL)
		return UINT64_MAX;
	return f->e[f->lru_head].updated + ageing_time;
}

uint32_t fdb_flush_port(struct fdb *f, uint16_t port, bool also_static)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < f->cap; i++) {
		struct fdb_entry *e = &f->e[i];

		if (!e->used || e->port != port)
			continue;
		if ((e->flags & FDB_F_STATIC) && !also_static)
			continue;
		fdb_remove(f, i);
		n++;
	}
	f->st.flushed += n;
	return n;
}
