/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_PKT_H
#define VW_CORE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * A packet buffer. Every header vwire adds on the way out (Ethernet -> VXLAN ->
 * UDP/IPv4 -> WireGuard data header) goes into the headroom, and WireGuard's
 * padding and tag into the tailroom, so encapsulation never copies.
 *
 *   head                data            data+len            head+size
 *    |<-- headroom -->|<---- len ---->|<---- tailroom ---->|
 *
 * Buffers come from a pkt_pool sized at start; nothing on the packet path mallocs.
 */

/* WG data header 16 + IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14 + VLAN 4, rounded up. */
#define PKT_HEADROOM 128
/* WireGuard padding (<16) and Poly1305 tag (16), rounded up. */
#define PKT_TAILROOM 64
/* Room for a full inner packet: 1518-byte VLAN frame in VXLAN in IPv4 (1572), with margin. */
#define PKT_DEFAULT_SIZE (PKT_HEADROOM + 2048 + PKT_TAILROOM)

struct pkt_pool;

struct pkt {
	uint8_t *head;
	uint8_t *data;
	uint32_t len;
	uint32_t size;
	struct pkt *next; /* free list, or whichever queue owns the packet */
	/*
	 * Packets whose bytes follow this one's, linked by next, written to a device as one
	 * (a GRO super-packet that was never copied together). The head owns them: pkt_free
	 * frees them with it.
	 */
	struct pkt *frags;
	struct pkt_pool *pool;
	/* Metadata a stage hands to the next; meaning set by the owner of the vector. */
	uint32_t port; /* ingress/egress port, wire or peer index */
	uint32_t flags;
	struct vw_endpoint src; /* outer source (UDP receive) */
	struct vw_endpoint dst; /* outer destination (UDP send) */
};

static inline uint32_t pkt_headroom(const struct pkt *p)
{
	return (uint32_t)(p->data - p->head);
}

static inline uint32_t pkt_tailroom(const struct pkt *p)
{
	return p->size - pkt_headroom(p) - p->len;
}

static inline uint8_t *pkt_tail(const struct pkt *p)
{
	return p->data + p->len;
}

/* Prepend n bytes; NULL (and nothing changed) when the headroom is short. */
static inline uint8_t *pkt_push(struct pkt *p, uint32_t n)
{
	if (pkt_headroom(p) < n)
		return NULL;
	p->data -= n;
	p->len += n;
	return p->data;
}

/* Strip n leading bytes; NULL when the packet is shorter. */
static inline uint8_t *pkt_pull(struct pkt *p, uint32_t n)
{
	if (p->len < n)
		return NULL;
	p->data += n;
	p->len -= n;
	return p->data;
}

/* Append n bytes; returns where they go, NULL when the tailroom is short. */
static inline uint8_t *pkt_put(struct pkt *p, uint32_t n)
{
	uint8_t *t;

	if (pkt_tailroom(p) < n)
		return NULL;
	t = pkt_tail(p);
	p->len += n;
	return t;
}

static inline void pkt_trim(struct pkt *p, uint32_t len)
{
	if (len < p->len)
		p->len = len;
}

/* Empty the packet, leaving `headroom` bytes in front of data. */
static inline void pkt_reset(struct pkt *p, uint32_t headroom)
{
	if (headroom > p->size)
		headroom = p->size;
	p->data = p->head + headroom;
	p->len = 0;
	p->port = 0;
	p->flags = 0;
	p->next = NULL;
	p->frags = NULL;
}

/* The bytes of p and of its frags. */
static inline uint32_t pkt_chain_len(const struct pkt *p)
{
	uint32_t len = p->len;

	for (const struct pkt *f = p->frags; f; f = f->next)
		len += f->len;
	return len;
}

struct pkt_pool_lock;

struct pkt_pool {
	struct pkt *free;
	uint32_t nfree;
	uint32_t count;
	uint32_t bufsize;
	struct pkt *pkts;
	uint8_t *mem;
	struct pkt_pool_lock *lock; /* NULL: one thread only (the default) */
};

/* Allocates count buffers of bufsize bytes once. Returns false on ENOMEM. */
bool pkt_pool_init(struct pkt_pool *pool, uint32_t count, uint32_t bufsize);
void pkt_pool_destroy(struct pkt_pool *pool);
/*
 * From now on pkt_alloc and pkt_free may be called from several threads at once (vwired's
 * workers share one pool: a packet read by one may be sent by another). Costs a mutex per
 * call, so pools stay unshared unless needed. false on ENOMEM.
 */
bool pkt_pool_share(struct pkt_pool *pool);
/* A reset packet with PKT_HEADROOM, or NULL when the pool is empty (callers count that drop). */
struct pkt *pkt_alloc(struct pkt_pool *pool);
void pkt_free(struct pkt *p);
/* Buffers free now (under the pool's lock when it is shared): for counters, not decisions. */
uint32_t pkt_pool_nfree(struct pkt_pool *pool);

struct iovec;

/*
 * Whether p's buffer, behind its bytes, has room for the iovecs of itself and nfrags
 * frags; pkt_chain_iov then writes them there (the buffer lives as long as the write
 * that reads them) and returns them, with their count in *n. NULL when there is no room.
 */
bool pkt_chain_room(const struct pkt *p, uint32_t nfrags);
struct iovec *pkt_chain_iov(struct pkt *p, uint32_t *n);

/* Stages take and yield vectors of packets (DESIGN.md principle 3). */
#define PKT_VEC_MAX 64

struct pkt_vec {
	uint32_t n;
	struct pkt *p[PKT_VEC_MAX];
};

static inline void pkt_vec_init(struct pkt_vec *v)
{
	v->n = 0;
}

static inline bool pkt_vec_full(const struct pkt_vec *v)
{
	return v->n == PKT_VEC_MAX;
}

/* Appends p; false when the vector is full (the caller still owns p). */
static inline bool pkt_vec_add(struct pkt_vec *v, struct pkt *p)
{
	if (v->n == PKT_VEC_MAX)
		return false;
	v->p[v->n++] = p;
	return true;
}

/* Frees every packet the vector holds and empties it. */
void pkt_vec_free(struct pkt_vec *v);

#endif
