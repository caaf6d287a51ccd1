/* SPDX-License-Identifier: MIT */
#include "index.h"

#include <errno.h>
#include <stdlib.h>

int wg_index_table_init(struct wg_index_table *t, uint32_t nbuckets)
{
	uint32_t n = 1;

	while (n < nbuckets && n < (1u << 24))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->mask = n - 1;
	t->count = 0;
	return 0;
}

void wg_index_table_free(struct wg_index_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->count = 0;
}

static struct wg_index_entry **bucket(const struct wg_index_table *t, uint32_t index)
{
	return &t->buckets[index & t->mask];
}

static bool index_in_use(const struct wg_index_table *t, uint32_t index)
{
	for (const struct wg_index_entry *e = *bucket(t, index); e; e = e->next)
		if (e->index == index)
			return true;
	return false;
}

void wg_index_remove(struct wg_index_table *t, struct wg_index_entry *entry)
{
	struct wg_index_entry **pp;

	if (!entry->hashed)
		return;
	for (pp = bucket(t, entry->index); *pp; pp = &(*pp)->next) {
		if (*pp == entry) {
			*pp = entry->next;
			t->count--;
			break;
		}
	}
	entry->next = NULL;
	entry->hashed = false;
}

static void link_entry(struct wg_index_table *t, struct wg_index_entry *entry)
{
	struct wg_index_entry **b = bucket(t, entry->index);

	entry->next = *b;
	*b = entry;
	entry->hashed = true;
	t->count++;
}

uint32_t wg_index_insert(struct wg_index_table *t, struct wg_index_entry *entry, wg_random_fn rnd,
			 void *rnd_ctx)
{
	uint32_t index;
	uint8_t b[4];

	wg_index_remove(t, entry);
	/* The table holds a few entries per peer, far below 2^32: this ends quickly. */
	do {
		rnd(rnd_ctx, b, sizeof(b));
		index = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			(uint32_t)b[3] << 24;
	} while (index_in_use(t, index));
	entry->index = index;
	link_entry(t, entry);
	return index;
}

void wg_index_replace(struct wg_index_table *t, struct wg_index_entry *old,
		      struct wg_index_entry *new_entry)
{
	wg_index_remove(t, new_entry);
	if (!old->hashed)
		return;
	new_entry->index = old->index;
	wg_index_remove(t, old);
	link_entry(t, new_entry);
}

struct wg_index_entry *wg_index_lookup(const struct wg_index_table *t, uint32_t index,
				       unsigned type_mask)
{
	for (struct wg_index_entry *e = *bucket(t, index); e; e = e->next)
		if (e->index == index && (e->type & type_mask))
			return e;
	return NULL;
}
