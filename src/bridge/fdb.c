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
	f->n_static = 0;
	f->lru_head = f->lru_tail = FDB_NIL;
	f->ports_holding = 0;
	for (uint32_t p = 0; p < FDB_MAX_PORTS; p++)
		f->port[p] = (struct fdb_port){0, FDB_NIL, FDB_NIL};
}

void fdb_set_max_learned(struct fdb *f, uint32_t max_learned)
{
	f->max_learned = max_learned;
}

uint32_t fdb_port_count(const struct fdb *f, uint16_t port)
{
	return port < FDB_MAX_PORTS ? f->port[port].count : 0;
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

/* Takes a dynamic entry off the whole-table list and its port's list. */
static void dyn_unlink(struct fdb *f, uint32_t i)
{
	struct fdb_entry *e = &f->e[i];
	struct fdb_port *fp = &f->port[e->port];

	if (e->prev != FDB_NIL)
		f->e[e->prev].next = e->next;
	else
		f->lru_head = e->next;
	if (e->next != FDB_NIL)
		f->e[e->next].prev = e->prev;
	else
		f->lru_tail = e->prev;
	if (e->pprev != FDB_NIL)
		f->e[e->pprev].pnext = e->pnext;
	else
		fp->head = e->pnext;
	if (e->pnext != FDB_NIL)
		f->e[e->pnext].pprev = e->pprev;
	else
		fp->tail = e->pprev;
	if (--fp->count == 0)
		f->ports_holding--;
}

/* Appends a dynamic entry (the most recently seen) to both lists of its port. */
static void dyn_append(struct fdb *f, uint32_t i)
{
	struct fdb_entry *e = &f->e[i];
	struct fdb_port *fp = &f->port[e->port];

	e->next = FDB_NIL;
	e->prev = f->lru_tail;
	if (f->lru_tail != FDB_NIL)
		f->e[f->lru_tail].next = i;
	else
		f->lru_head = i;
	f->lru_tail = i;
	e->pnext = FDB_NIL;
	e->pprev = fp->tail;
	if (fp->tail != FDB_NIL)
		f->e[fp->tail].pnext = i;
	else
		fp->head = i;
	fp->tail = i;
	if (fp->count++ == 0)
		f->ports_holding++;
}

static void fdb_remove(struct fdb *f, uint32_t i)
{
	struct fdb_entry *e = &f->e[i];
	uint32_t *pp = &f->bucket[fdb_hash(f, e->mac)];

	while (*pp != i)
		pp = &f->e[*pp].hnext;
	*pp = e->hnext;
	if (!(e->flags & FDB_F_STATIC))
		dyn_unlink(f, i);
	else
		f->n_static--;
	e->used = false;
	e->hnext = f->free_head;
	f->free_head = i;
	f->count--;
}

/* The port holding the most dynamic entries (of two, the one with the older entry); -1: none. */
static int fdb_largest_port(const struct fdb *f)
{
	int best = -1;

	for (int p = 0; p < FDB_MAX_PORTS; p++) {
		const struct fdb_port *fp = &f->port[p];

		if (!fp->count)
			continue;
		if (best < 0 || fp->count > f->port[best].count ||
		    (fp->count == f->port[best].count &&
		     f->e[fp->head].updated < f->e[f->port[best].head].updated))
			best = p;
	}
	return best;
}

/*
 * The table is full and port wants a slot: the entry to give up for it, or
 * FDB_NIL when port already holds its fair share. Below its share, some other
 * port holds more than its own (the shares add up to the table), and the
 * largest one gives up its least recently seen entry.
 */
static uint32_t fdb_fair_victim(const struct fdb *f, uint16_t port)
{
	uint32_t holders = f->ports_holding + (f->port[port].count == 0);
	uint32_t fair = (f->count - f->n_static) / holders;
	int largest;

	if (f->port[port].count >= fair)
		return FDB_NIL;
	largest = fdb_largest_port(f);
	return largest < 0 ? FDB_NIL : f->port[largest].head;
}

/* A free slot, else the victim's (evicted), else FDB_NIL. */
static uint32_t fdb_alloc(struct fdb *f, uint32_t victim, bool *evicted)
{
	uint32_t i;

	*evicted = false;
	if (f->free_head == FDB_NIL) {
		if (victim == FDB_NIL)
			return FDB_NIL;
		fdb_remove(f, victim);
		f->st.evicted++;
		*evicted = true;
	}
	i = f->free_head;
	f->free_head = f->e[i].hnext;
	return i;
}

static uint32_t fdb_insert(struct fdb *f, const uint8_t mac[6], uint16_t port, uint8_t flags,
			   uint64_t now, uint32_t victim, bool *evicted)
{
	uint32_t i = fdb_alloc(f, victim, evicted);
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
		dyn_append(f, i);
	else
		f->n_static++;
	f->count++;
	return i;
}

static bool port_at_limit(const struct fdb *f, uint16_t port)
{
	return port >= FDB_MAX_PORTS || (f->max_learned && f->port[port].count >= f->max_learned);
}

enum fdb_learn_result fdb_learn(struct fdb *f, const uint8_t mac[6], uint16_t port, uint64_t now)
{
	uint32_t i = fdb_find(f, mac, NULL);
	bool evicted;

	if (i != FDB_NIL) {
		struct fdb_entry *e = &f->e[i];

		if (e->flags & FDB_F_STATIC) {
			if (e->port != port)
				f->st.own_src++;
			return FDB_OWN;
		}
		if (e->port != port) {
			/* A move adds to the new port's entries as a new address would. */
			if (port_at_limit(f, port)) {
				f->st.limited++;
				return FDB_PORT_LIMIT;
			}
			dyn_unlink(f, i);
			e->port = port;
			e->updated = now;
			dyn_append(f, i);
			f->st.moved++;
			return FDB_MOVED;
		}
		/* Same clock reading as the last frame (one batch): the order stands. */
		if (e->updated != now) {
			e->updated = now;
			if (f->lru_tail != i || f->port[port].tail != i) {
				dyn_unlink(f, i);
				dyn_append(f, i);
			}
		}
		return FDB_REFRESHED;
	}
	if (port_at_limit(f, port)) {
		f->st.limited++;
		return FDB_PORT_LIMIT;
	}
	if (fdb_insert(f, mac, port, 0, now,
		       f->free_head == FDB_NIL ? fdb_fair_victim(f, port) : FDB_NIL,
		       &evicted) == FDB_NIL) {
		f->st.full++;
		return FDB_FULL;
	}
	f->st.learned++;
	return evicted ? FDB_EVICTED_AND_LEARNED : FDB_LEARNED;
}

bool fdb_add_static(struct fdb *f, const uint8_t mac[6], uint16_t port, uint8_t flags)
{
	uint32_t i = fdb_find(f, mac, NULL);
	uint32_t victim = FDB_NIL;
	bool evicted;
	int largest;

	if (i != FDB_NIL)
		fdb_remove(f, i);
	/* Configuration outranks learning: the largest port gives up its oldest entry. */
	if (f->free_head == FDB_NIL && (largest = fdb_largest_port(f)) >= 0)
		victim = f->port[largest].head;
	return fdb_insert(f, mac, port, (uint8_t)(flags | FDB_F_STATIC), 0, victim, &evicted) !=
	       FDB_NIL;
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
