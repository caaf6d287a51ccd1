/* SPDX-License-Identifier: MIT */
#include "pkt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

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

static void chain_free(struct pkt *f)
{
	while (f) {
		struct pkt *next = f->next;

		pkt_free(f);
		f = next;
	}
}

void pkt_free(struct pkt *p)
{
	struct pkt_pool *pool;

	if (!p)
		return;
	if (p->frags) {
		chain_free(p->frags);
		p->frags = NULL;
	}
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

/* The iovecs' place: the end of the buffer, aligned down; NULL when it would reach the bytes. */
static struct iovec *chain_iov_at(const struct pkt *p, uint32_t count)
{
	uintptr_t end = (uintptr_t)(p->head + p->size), at;

	if ((uint64_t)count * sizeof(struct iovec) + _Alignof(struct iovec) > p->size)
		return NULL;
	at = (end - count * sizeof(struct iovec)) & ~(uintptr_t)(_Alignof(struct iovec) - 1);
	if (at < (uintptr_t)pkt_tail(p))
		return NULL;
	return (struct iovec *)at;
}

bool pkt_chain_room(const struct pkt *p, uint32_t nfrags)
{
	return chain_iov_at(p, nfrags + 1) != NULL;
}

struct iovec *pkt_chain_iov(struct pkt *p, uint32_t *n)
{
	uint32_t count = 1;
	struct iovec *iov;

	for (const struct pkt *f = p->frags; f; f = f->next)
		count++;
	iov = chain_iov_at(p, count);
	if (!iov)
		return NULL;
	iov[0] = (struct iovec){.iov_base = p->data, .iov_len = p->len};
	count = 1;
	for (struct pkt *f = p->frags; f; f = f->next)
		iov[count++] = (struct iovec){.iov_base = f->data, .iov_len = f->len};
	*n = count;
	return iov;
}
