/* SPDX-License-Identifier: MIT */
#include "pkt.h"

#include <stdlib.h>
#include <string.h>

bool pkt_pool_init(struct pkt_pool *pool, uint32_t count, uint32_t bufsize)
{
	memset(pool, 0, sizeof(*pool));
	if (!count || bufsize < PKT_HEADROOM + PKT_TAILROOM)
		return false;
	pool->pkts = calloc(count, sizeof(*pool->pkts));
	pool->mem = malloc((size_t)count * bufsize);
	if (!pool->pkts || !pool->mem) {
		free(pool->pkts);
		free(pool->mem);
		memset(pool, 0, sizeof(*pool));
		return false;
	}
	pool->count = count;
	pool->bufsize = bufsize;
	for (uint32_t i = count; i-- > 0;) {
		struct pkt *p = &pool->pkts[i];

		p->head = pool->mem + (size_t)i * bufsize;
		p->size = bufsize;
		p->pool = pool;
		p->next = pool->free;
		pool->free = p;
	}
	pool->nfree = count;
	return true;
}

void pkt_pool_destroy(struct pkt_pool *pool)
{
	free(pool->pkts);
	free(pool->mem);
	memset(pool, 0, sizeof(*pool));
}

struct pkt *pkt_alloc(struct pkt_pool *pool)
{
	struct pkt *p = pool->free;

	if (!p)
		return NULL;
	pool->free = p->next;
	pool->nfree--;
	pkt_reset(p, PKT_HEADROOM);
	memset(&p->src, 0, sizeof(p->src));
	memset(&p->dst, 0, sizeof(p->dst));
	return p;
}

void pkt_free(struct pkt *p)
{
	struct pkt_pool *pool;

	if (!p)
		return;
	pool = p->pool;
	p->next = pool->free;
	pool->free = p;
	pool->nfree++;
}

void pkt_vec_free(struct pkt_vec *v)
{
	for (uint32_t i = 0; i < v->n; i++)
		pkt_free(v->p[i]);
	v->n = 0;
}
