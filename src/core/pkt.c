/* SPDX-License-Identifier: MIT */
#include "pkt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct pkt_pool_lock {
	pthread_mutex_t mu;
};

bool pkt_pool_init(struct pkt_pool *pool, uint32_t count, uint32_t bufsize)
{
	memset(pool, 0, sizeof(*pool));
	if (!count || bufsize < PKT_HEADROOM + PKT_TAILROOM)
		return false;
	pool->pkts = calloc(count, sizeof(*pool->pkts));
	/*
	 * Mapped, not malloc'd: a page becomes resident only when a packet first touches it,
	 * whatever the allocator does to fresh blocks (glibc's MALLOC_PERTURB_, which meson
	 * test sets, wrote over all of it: 200 MB resident and a slow start with offloads).
	 */
	pool->mem = mmap(NULL, (size_t)count * bufsize, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pool->mem == MAP_FAILED)
		pool->mem = NULL;
	if (!pool->pkts || !pool->mem) {
		free(pool->pkts);
		if (pool->mem)
			munmap(pool->mem, (size_t)count * bufsize);
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

bool pkt_pool_share(struct pkt_pool *pool)
{
	if (pool->lock)
		return true;
	pool->lock = malloc(sizeof(*pool->lock));
	if (!pool->lock)
		return false;
	pthread_mutex_init(&pool->lock->mu, NULL);
	return true;
}

void pkt_pool_destroy(struct pkt_pool *pool)
{
	if (pool->lock) {
		pthread_mutex_destroy(&pool->lock->mu);
		free(pool->lock);
	}
	free(pool->pkts);
	if (pool->mem)
		munmap(pool->mem, (size_t)pool->count * pool->bufsize);
	memset(pool, 0, sizeof(*pool));
}

struct pkt *pkt_alloc(struct pkt_pool *pool)
{
	struct pkt *p;

	if (pool->lock)
		pthread_mutex_lock(&pool->lock->mu);
	p = pool->free;
	if (p) {
		pool->free = p->next;
		pool->nfree--;
	}
	if (pool->lock)
		pthread_mutex_unlock(&pool->lock->mu);
	if (!p)
		return NULL;
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
	if (pool->lock)
		pthread_mutex_lock(&pool->lock->mu);
	p->next = pool->free;
	pool->free = p;
	pool->nfree++;
	if (pool->lock)
		pthread_mutex_unlock(&pool->lock->mu);
}

uint32_t pkt_pool_nfree(struct pkt_pool *pool)
{
	uint32_t n;

	if (pool->lock)
		pthread_mutex_lock(&pool->lock->mu);
	n = pool->nfree;
	if (pool->lock)
		pthread_mutex_unlock(&pool->lock->mu);
	return n;
}

void pkt_vec_free(struct pkt_vec *v)
{
	for (uint32_t i = 0; i < v->n; i++)
		pkt_free(v->p[i]);
	v->n = 0;
}
