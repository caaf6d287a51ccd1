/* SPDX-License-Identifier: MIT */
#include "ipfrag.h"

#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/csum.h"
#include "core/hash.h"

#define IP_DF	   0x4000
#define IP_MF	   0x2000
#define IP_OFFMASK 0x1fff
#define NONE	   (-1)

struct ipfrag_slot {
	uint8_t src[4], dst[4];
	uint16_t id;
	uint8_t proto;
	uint8_t hlen; /* the first fragment's header length; 0 until it arrived */
	bool have_last;
	uint32_t total;	   /* payload length, known once the last fragment arrived */
	uint32_t received; /* payload bytes held; fragments never overlap, so a plain sum */
	uint32_t max_end;
	uint64_t created_ns;
	int32_t hnext;	      /* hash chain, or the free list */
	int32_t prev, next;   /* all used slots, oldest first */
	int32_t sprev, snext; /* this source's slots, oldest first */
	int32_t srci;	      /* its source entry */
	uint8_t hdr[60];
	uint8_t *data;	 /* payload at its fragment offset */
	uint32_t *cover; /* one bit per 8-byte block held */
	uint32_t *start; /* one bit per block where a held fragment begins */
};

/* Slots held per source address, for the per-source share. */
struct ipfrag_src {
	uint8_t addr[4];
	uint32_t count;
	int32_t oldest, newest;
	int32_t hnext; /* hash chain, or the free list */
};

#define IPFRAG_DROP_NAME_(id, name) [IPFRAG_DROP_##id] = name,
static const char *const ipfrag_drop_names[IPFRAG_DROP_MAX] = {
	IPFRAG_DROP_REASONS(IPFRAG_DROP_NAME_)};
#undef IPFRAG_DROP_NAME_

const char *ipfrag_drop_name(enum ipfrag_drop why)
{
	return (unsigned)why < IPFRAG_DROP_MAX ? ipfrag_drop_names[why] : NULL;
}

/* ---- hashing ---- */

static uint32_t key_hash(const struct ipfrag *f, const uint8_t *src, const uint8_t *dst,
			 uint8_t proto, uint16_t id)
{
	uint32_t h = f->cfg.hash_seed;

	h = murmur3_round(h, get_be32(src));
	h = murmur3_round(h, get_be32(dst));
	h = murmur3_round(h, (uint32_t)proto << 16 | id);
	return murmur3_fmix(h) & (f->nbuckets - 1);
}

static uint32_t src_hash(const struct ipfrag *f, const uint8_t *src)
{
	return murmur3_fmix(murmur3_round(f->cfg.hash_seed ^ 0x9e3779b9u, get_be32(src))) &
	       (f->nbuckets - 1);
}

/* ---- setup ---- */

static void ipfrag_defaults(struct ipfrag_config *c)
{
	if (!c->mtu)
		c->mtu = IPFRAG_MTU_DEFAULT;
	if (!c->timeout_ns)
		c->timeout_ns = IPFRAG_TIMEOUT_NS_DEFAULT;
	if (!c->mem_max)
		c->mem_max = IPFRAG_MEM_MAX_DEFAULT;
	if (!c->mem_per_src)
		c->mem_per_src = IPFRAG_MEM_PER_SRC_DEFAULT;
	if (!c->max_datagram)
		c->max_datagram = IPFRAG_DATAGRAM_DEFAULT;
}

static void ipfrag_link_free_lists(struct ipfrag *f, uint32_t slot_bytes)
{
	uint32_t data_bytes = slot_bytes - 2 * f->bitmap_words * 4;

	for (uint32_t i = 0; i < f->nslots; i++) {
		struct ipfrag_slot *s = &f->slots[i];
		uint8_t *m = f->arena + (size_t)i * slot_bytes;

		s->data = m;
		s->cover = (uint32_t *)(void *)(m + data_bytes);
		s->start = s->cover + f->bitmap_words;
		s->hnext = i + 1 < f->nslots ? (int32_t)(i + 1) : NONE;
		f->srcs[i].hnext = s->hnext;
	}
	for (uint32_t i = 0; i < f->nbuckets; i++)
		f->buckets[i] = f->src_buckets[i] = NONE;
	f->free_slot = f->free_src = 0;
	f->oldest = f->newest = NONE;
}

bool ipfrag_init(struct ipfrag *f, const struct ipfrag_config *cfg)
{
	uint32_t slot_bytes;

	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	ipfrag_defaults(&f->cfg);
	if (f->cfg.max_datagram < 28 || f->cfg.max_datagram > IPFRAG_IPV4_MAX || f->cfg.mtu < 28)
		return false;
	f->data_cap = f->cfg.max_datagram - 20;
	/* One block more than the data: the end-boundary test looks one past the end. */
	f->bitmap_words = (f->data_cap / 8 + 2 + 31) / 32;
	/* Data rounded to 8 keeps the bitmaps that follow it word aligned. */
	slot_bytes = ((f->data_cap + 7) & ~7u) + 2 * f->bitmap_words * 4;
	/* Charge each slot its share of everything allocated, tables included. */
	f->slot_charge = (uint32_t)(sizeof(struct ipfrag_slot) + sizeof(struct ipfrag_src) +
				    4 * sizeof(int32_t)) +
			 slot_bytes;
	f->nslots = f->cfg.mem_max / f->slot_charge;
	if (!f->nslots)
		return false;
	f->src_cap = f->cfg.mem_per_src / f->slot_charge;
	if (!f->src_cap)
		f->src_cap = 1;
	for (f->nbuckets = 1; f->nbuckets < f->nslots; f->nbuckets <<= 1)
		;
	f->slots = calloc(f->nslots, sizeof(*f->slots));
	f->srcs = calloc(f->nslots, sizeof(*f->srcs));
	f->buckets = calloc(f->nbuckets, sizeof(*f->buckets));
	f->src_buckets = calloc(f->nbuckets, sizeof(*f->src_buckets));
	f->arena = calloc(f->nslots, slot_bytes);
	if (!f->slots || !f->srcs || !f->buckets || !f->src_buckets || !f->arena) {
		ipfrag_destroy(f);
		return false;
	}
	f->reserved = (uint64_t)f->nslots * (sizeof(*f->slots) + sizeof(*f->srcs) + slot_bytes) +
		      2ull * f->nbuckets * sizeof(int32_t);
	ipfrag_link_free_lists(f, slot_bytes);
	return true;
}

void ipfrag_destroy(struct ipfrag *f)
{
	free(f->slots);
	free(f->srcs);
	free(f->buckets);
	free(f->src_buckets);
	free(f->arena);
	memset(f, 0, sizeof(*f));
}

uint64_t ipfrag_mem_used(const struct ipfrag *f)
{
	return (uint64_t)f->used * f->slot_charge;
}

uint32_t ipfrag_pending(const struct ipfrag *f)
{
	return f->used;
}

/* ---- bitmaps of 8-byte blocks ---- */

static bool bit_get(const uint32_t *m, uint32_t b)
{
	return m[b / 32] >> (b % 32) & 1;
}

static void bit_set(uint32_t *m, uint32_t b)
{
	m[b / 32] |= 1u << (b % 32);
}

/* The bits of word w that fall in [b0, b1). */
static uint32_t word_mask(uint32_t w, uint32_t b0, uint32_t b1)
{
	uint32_t lo = w * 32 > b0 ? 0 : b0 - w * 32, hi = b1 - w * 32 >= 32 ? 32 : b1 - w * 32;
	uint32_t upto_hi = hi == 32 ? ~0u : (1u << hi) - 1;

	return upto_hi & ~((1u << lo) - 1);
}

/* Counts the blocks of [b0, b1) set in m, a word at a time. */
static uint32_t bits_count(const uint32_t *m, uint32_t b0, uint32_t b1)
{
	uint32_t n = 0;

	for (uint32_t w = b0 / 32; b0 < b1 && w <= (b1 - 1) / 32; w++)
		n += (uint32_t)__builtin_popcount(m[w] & word_mask(w, b0, b1));
	return n;
}

static void bits_set(uint32_t *m, uint32_t b0, uint32_t b1)
{
	for (uint32_t w = b0 / 32; b0 < b1 && w <= (b1 - 1) / 32; w++)
		m[w] |= word_mask(w, b0, b1);
}

/* ---- sources ---- */

static int32_t src_find(const struct ipfrag *f, const uint8_t *addr)
{
	int32_t i = f->src_buckets[src_hash(f, addr)];

	while (i != NONE && memcmp(f->srcs[i].addr, addr, 4) != 0)
		i = f->srcs[i].hnext;
	return i;
}

/* The source entry for addr, made if needed: never fails, sources never outnumber slots. */
static int32_t src_get(struct ipfrag *f, const uint8_t *addr)
{
	int32_t i = src_find(f, addr);
	uint32_t b;

	if (i != NONE)
		return i;
	i = f->free_src;
	f->free_src = f->srcs[i].hnext;
	memcpy(f->srcs[i].addr, addr, 4);
	f->srcs[i].count = 0;
	f->srcs[i].oldest = f->srcs[i].newest = NONE;
	b = src_hash(f, addr);
	f->srcs[i].hnext = f->src_buckets[b];
	f->src_buckets[b] = i;
	return i;
}

static void src_put(struct ipfrag *f, int32_t i)
{
	int32_t *pp = &f->src_buckets[src_hash(f, f->srcs[i].addr)];

	if (--f->srcs[i].count)
		return;
	while (*pp != i)
		pp = &f->srcs[*pp].hnext;
	*pp = f->srcs[i].hnext;
	f->srcs[i].hnext = f->free_src;
	f->free_src = i;
}

/* ---- slots ---- */

static int32_t slot_find(const struct ipfrag *f, const uint8_t *ip)
{
	uint16_t id = get_be16(ip + 4);
	int32_t i = f->buckets[key_hash(f, ip + 12, ip + 16, ip[9], id)];

	while (i != NONE) {
		const struct ipfrag_slot *s = &f->slots[i];

		if (s->id == id && s->proto == ip[9] && !memcmp(s->src, ip + 12, 4) &&
		    !memcmp(s->dst, ip + 16, 4))
			return i;
		i = s->hnext;
	}
	return NONE;
}

static void slot_kill(struct ipfrag *f, int32_t i, enum ipfrag_drop why)
{
	struct ipfrag_slot *s = &f->slots[i];
	struct ipfrag_src *src = &f->srcs[s->srci];
	int32_t *pp = &f->buckets[key_hash(f, s->src, s->dst, s->proto, s->id)];

	while (*pp != i)
		pp = &f->slots[*pp].hnext;
	*pp = s->hnext;

	if (s->prev != NONE)
		f->slots[s->prev].next = s->next;
	else
		f->oldest = s->next;
	if (s->next != NONE)
		f->slots[s->next].prev = s->prev;
	else
		f->newest = s->prev;

	if (s->sprev != NONE)
		f->slots[s->sprev].snext = s->snext;
	else
		src->oldest = s->snext;
	if (s->snext != NONE)
		f->slots[s->snext].sprev = s->sprev;
	else
		src->newest = s->sprev;
	src_put(f, s->srci);

	s->hnext = f->free_slot;
	f->free_slot = i;
	f->used--;
	if (why != IPFRAG_DROP_MAX)
		f->stats.drops[why]++;
}

/* A fresh slot for the datagram ip belongs to, evicting the oldest one when there is no room. */
static int32_t slot_new(struct ipfrag *f, const uint8_t *ip, uint64_t now_ns)
{
	int32_t si = src_find(f, ip + 12), i;
	struct ipfrag_slot *s;
	struct ipfrag_src *src;
	uint32_t b;

	if (si != NONE && f->srcs[si].count >= f->src_cap)
		slot_kill(f, f->srcs[si].oldest, IPFRAG_DROP_EVICT_SOURCE);
	else if (f->free_slot == NONE)
		slot_kill(f, f->oldest, IPFRAG_DROP_EVICT_FULL);

	i = f->free_slot;
	s = &f->slots[i];
	f->free_slot = s->hnext;
	f->used++;

	memcpy(s->src, ip + 12, 4);
	memcpy(s->dst, ip + 16, 4);
	s->proto = ip[9];
	s->id = get_be16(ip + 4);
	s->hlen = 0;
	s->have_last = false;
	s->total = s->received = s->max_end = 0;
	s->created_ns = now_ns;
	memset(s->cover, 0, f->bitmap_words * 4);
	memset(s->start, 0, f->bitmap_words * 4);

	b = key_hash(f, s->src, s->dst, s->proto, s->id);
	s->hnext = f->buckets[b];
	f->buckets[b] = i;

	s->next = NONE;
	s->prev = f->newest;
	if (f->newest != NONE)
		f->slots[f->newest].next = i;
	else
		f->oldest = i;
	f->newest = i;

	s->srci = src_get(f, ip + 12);
	src = &f->srcs[s->srci];
	src->count++;
	s->snext = NONE;
	s->sprev = src->newest;
	if (src->newest != NONE)
		f->slots[src->newest].snext = i;
	else
		src->oldest = i;
	src->newest = i;
	return i;
}

void ipfrag_expire(struct ipfrag *f, uint64_t now_ns)
{
	while (f->oldest != NONE) {
		const struct ipfrag_slot *s = &f->slots[f->oldest];

		if (now_ns < s->created_ns || now_ns - s->created_ns < f->cfg.timeout_ns)
			break;
		slot_kill(f, f->oldest, IPFRAG_DROP_TIMEOUT);
	}
}

/* ---- reassembly ---- */

static struct pkt *drop_pkt(struct ipfrag *f, struct pkt *p, enum ipfrag_drop why)
{
	f->stats.drops[why]++;
	pkt_free(p);
	return NULL;
}

/* Kills the datagram and frees the fragment that condemned it; counted once, per datagram. */
static struct pkt *drop_datagram(struct ipfrag *f, int32_t i, struct pkt *p, enum ipfrag_drop why)
{
	slot_kill(f, i, why);
	pkt_free(p);
	return NULL;
}

enum frag_fit { FIT_NEW, FIT_DUPLICATE, FIT_OVERLAP };

/*
 * Held fragments tile the covered blocks without overlap, so [b0, b1) is exactly
 * one of them when it starts a fragment, is all covered, no other fragment starts
 * inside it, and the next block starts another fragment or is not covered.
 */
static enum frag_fit frag_fit(const struct ipfrag_slot *s, uint32_t b0, uint32_t b1)
{
	uint32_t held = bits_count(s->cover, b0, b1);

	if (!held)
		return FIT_NEW;
	if (held == b1 - b0 && bit_get(s->start, b0) && !bits_count(s->start, b0 + 1, b1) &&
	    (bit_get(s->start, b1) || !bit_get(s->cover, b1)))
		return FIT_DUPLICATE;
	return FIT_OVERLAP;
}

/* Puts the completed datagram into p (the fragment that completed it). */
static struct pkt *slot_deliver(struct ipfrag *f, int32_t i, struct pkt *p)
{
	struct ipfrag_slot *s = &f->slots[i];
	uint32_t port = p->port, flags = p->flags, len = s->hlen + s->total;
	uint8_t *d;

	pkt_reset(p, PKT_HEADROOM);
	p->port = port;
	p->flags = flags;
	d = pkt_put(p, len);
	if (!d)
		return drop_datagram(f, i, p, IPFRAG_DROP_TOO_BIG);
	memcpy(d, s->hdr, s->hlen);
	memcpy(d + s->hlen, s->data, s->total);
	put_be16(d + 2, (uint16_t)len);
	put_be16(d + 6, get_be16(s->hdr + 6) & IP_DF);
	put_be16(d + 10, 0);
	put_be16(d + 10, csum_ipv4_header(d, s->hlen));
	slot_kill(f, i, IPFRAG_DROP_MAX);
	f->stats.reassembled++;
	return p;
}

/* Checks the fragment against what the datagram already knows about its end. */
static bool frag_consistent(const struct ipfrag_slot *s, uint32_t end, bool mf)
{
	if (!mf)
		return !(s->have_last && end != s->total) && end >= s->max_end;
	return !(s->have_last && end > s->total);
}

static struct pkt *frag_store(struct ipfrag *f, int32_t i, struct pkt *p, uint32_t ihl,
			      uint32_t off, uint32_t end, bool mf)
{
	struct ipfrag_slot *s = &f->slots[i];
	const uint8_t *ip = p->data, *payload = p->data + ihl;
	uint32_t b0 = off / 8, b1 = (end + 7) / 8;

	if (end > f->data_cap)
		return drop_datagram(f, i, p, IPFRAG_DROP_TOO_BIG);
	if (!frag_consistent(s, end, mf))
		return drop_datagram(f, i, p, IPFRAG_DROP_INCONSISTENT);
	switch (frag_fit(s, b0, b1)) {
	case FIT_NEW:
		break;
	case FIT_DUPLICATE:
		if (memcmp(s->data + off, payload, end - off) != 0)
			return drop_datagram(f, i, p, IPFRAG_DROP_INCONSISTENT);
		return drop_pkt(f, p, IPFRAG_DROP_DUPLICATE);
	case FIT_OVERLAP:
		return drop_datagram(f, i, p, IPFRAG_DROP_OVERLAP);
	}
	memcpy(s->data + off, payload, end - off);
	bits_set(s->cover, b0, b1);
	bit_set(s->start, b0);
	s->received += end - off;
	if (end > s->max_end)
		s->max_end = end;
	if (!mf) {
		s->have_last = true;
		s->total = end;
	}
	if (off == 0) {
		memcpy(s->hdr, ip, ihl);
		s->hlen = (uint8_t)ihl;
	}
	f->stats.fragments_in++;
	if (s->hlen && s->have_last && s->hlen + s->total > f->cfg.max_datagram)
		return drop_datagram(f, i, p, IPFRAG_DROP_TOO_BIG);
	if (s->hlen && s->have_last && s->received == s->total)
		return slot_deliver(f, i, p);
	pkt_free(p);
	return NULL;
}

struct pkt *ipfrag_reassemble(struct ipfrag *f, struct pkt *p, uint64_t now_ns)
{
	const uint8_t *ip = p->data;
	uint32_t ihl, tot, off, end;
	uint16_t frag;
	int32_t i;

	if (p->len < 20 || ip[0] >> 4 != 4 || (ip[0] & 0x0f) < 5 || (ip[0] & 0x0fu) * 4 > p->len ||
	    !(get_be16(ip + 6) & (IP_MF | IP_OFFMASK))) {
		f->stats.passed++;
		return p;
	}
	ihl = (ip[0] & 0x0fu) * 4;
	tot = get_be16(ip + 2);
	if (tot < ihl || tot > p->len || csum_ipv4_header(ip, ihl) != 0)
		return drop_pkt(f, p, IPFRAG_DROP_MALFORMED);
	frag = get_be16(ip + 6);
	off = (uint32_t)(frag & IP_OFFMASK) * 8;
	end = off + tot - ihl;
	if (end == off || ((frag & IP_MF) && (end - off) % 8))
		return drop_pkt(f, p, IPFRAG_DROP_FRAG_LENGTH);

	ipfrag_expire(f, now_ns);
	i = slot_find(f, ip);
	if (ihl + end > IPFRAG_IPV4_MAX) {
		if (i != NONE)
			return drop_datagram(f, i, p, IPFRAG_DROP_OVERSIZE);
		return drop_pkt(f, p, IPFRAG_DROP_OVERSIZE);
	}
	if (i == NONE) {
		if (end > f->data_cap)
			return drop_pkt(f, p, IPFRAG_DROP_TOO_BIG);
		i = slot_new(f, ip, now_ns);
	}
	return frag_store(f, i, p, ihl, off, end, frag & IP_MF);
}

void ipfrag_reassemble_batch(struct ipfrag *f, struct pkt_vec *in, struct pkt_vec *out,
			     uint64_t now_ns)
{
	for (uint32_t k = 0; k < in->n; k++) {
		struct pkt *p = ipfrag_reassemble(f, in->p[k], now_ns);

		/* out has room: it receives at most one packet per input. */
		if (p && !pkt_vec_add(out, p))
			pkt_free(p);
	}
	in->n = 0;
}

/* ---- fragmentation ---- */

/* RFC 791: only options with the copied flag go into later fragments; the rest become NOPs. */
static void ipv4_options_for_fragment(uint8_t *h, uint32_t ihl)
{
	uint32_t i = 20;

	while (i < ihl) {
		uint8_t type = h[i], len;

		if (type == 0)
			break;
		if (type == 1) {
			i++;
			continue;
		}
		if (i + 1 >= ihl)
			break;
		len = h[i + 1];
		if (len < 2 || i + len > ihl)
			break;
		if (!(type & 0x80))
			memset(h + i, 1, len);
		i += len;
	}
}

static void fragment_header(uint8_t *h, uint32_t ihl, uint32_t len, uint32_t off_bytes, bool mf)
{
	put_be16(h + 2, (uint16_t)(ihl + len));
	put_be16(h + 6, (uint16_t)(off_bytes / 8) | (mf ? IP_MF : 0));
	put_be16(h + 10, 0);
	put_be16(h + 10, csum_ipv4_header(h, ihl));
}

int ipfrag_fragment(struct ipfrag *f, struct pkt *p, struct pkt_pool *pool, struct pkt_vec *out)
{
	struct pkt *q[PKT_VEC_MAX];
	uint8_t *ip = p->data, later[60];
	uint32_t ihl, tot, chunk, payload, n, base;
	uint16_t frag;
	bool last_mf;

	if (p->len < 20 || ip[0] >> 4 != 4 || (ip[0] & 0x0fu) * 4 > p->len ||
	    get_be16(ip + 2) <= f->cfg.mtu) {
		if (pkt_vec_full(out))
			return -1;
		f->stats.passed++;
		pkt_vec_add(out, p);
		return 1;
	}
	ihl = (ip[0] & 0x0fu) * 4;
	tot = get_be16(ip + 2);
	frag = get_be16(ip + 6);
	if (ihl < 20 || tot < ihl || tot > p->len) {
		f->stats.drops[IPFRAG_DROP_MALFORMED]++;
		pkt_free(p);
		return 0;
	}
	if (frag & IP_DF) {
		f->stats.drops[IPFRAG_DROP_DF]++;
		pkt_free(p);
		return 0;
	}
	chunk = f->cfg.mtu > ihl ? (f->cfg.mtu - ihl) & ~7u : 0;
	if (chunk < 8) {
		f->stats.drops[IPFRAG_DROP_MTU]++;
		pkt_free(p);
		return 0;
	}
	payload = tot - ihl;
	n = (payload + chunk - 1) / chunk;
	if (n > PKT_VEC_MAX) {
		/* More pieces than any vector holds: an MTU far too small for this packet. */
		f->stats.drops[IPFRAG_DROP_MTU]++;
		pkt_free(p);
		return 0;
	}
	if (n > PKT_VEC_MAX - out->n)
		return -1;
	for (uint32_t k = 1; k < n; k++) {
		q[k] = pkt_alloc(pool);
		if (!q[k] || pkt_tailroom(q[k]) < ihl + chunk) {
			pkt_free(q[k]);
			while (--k > 0)
				pkt_free(q[k]);
			f->stats.drops[IPFRAG_DROP_NOMEM]++;
			pkt_free(p);
			return 0;
		}
	}

	/* A packet that is itself a fragment keeps its place and its MF in the pieces. */
	base = (uint32_t)(frag & IP_OFFMASK) * 8;
	last_mf = frag & IP_MF;
	memcpy(later, ip, ihl);
	ipv4_options_for_fragment(later, ihl);
	for (uint32_t k = 1; k < n; k++) {
		uint32_t len = k + 1 < n ? chunk : payload - k * chunk;
		uint8_t *d = pkt_put(q[k], ihl + len);

		memcpy(d, later, ihl);
		memcpy(d + ihl, ip + ihl + k * chunk, len);
		fragment_header(d, ihl, len, base + k * chunk, k + 1 < n || last_mf);
		q[k]->port = p->port;
		q[k]->flags = p->flags;
		q[k]->src = p->src;
		q[k]->dst = p->dst;
	}
	pkt_trim(p, ihl + chunk);
	fragment_header(ip, ihl, chunk, base, true);
	pkt_vec_add(out, p);
	for (uint32_t k = 1; k < n; k++)
		pkt_vec_add(out, q[k]);
	f->stats.fragmented++;
	f->stats.fragments_out += n;
	return (int)n;
}

uint32_t ipfrag_fragment_batch(struct ipfrag *f, struct pkt_vec *in, struct pkt_pool *pool,
			       struct pkt_vec *out)
{
	uint32_t k = 0, left = 0;

	while (k < in->n && ipfrag_fragment(f, in->p[k], pool, out) >= 0)
		k++;
	for (uint32_t j = k; j < in->n; j++)
		in->p[left++] = in->p[j];
	in->n = left;
	return k;
}
