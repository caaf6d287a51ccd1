/* SPDX-License-Identifier: MIT */
#include "tunnel/ratelimiter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"

#define RL_NONE UINT32_MAX

struct wg_rl_entry {
	uint64_t addr; /* IPv4 address, or the top 64 bits of an IPv6 one */
	uint64_t last_ns;
	uint64_t tokens_ns;
	uint32_t next;
	uint8_t family;
};

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3)     \
	do {                         \
		v0 += v1;            \
		v1 = ROTL64(v1, 13); \
		v1 ^= v0;            \
		v0 = ROTL64(v0, 32); \
		v2 += v3;            \
		v3 = ROTL64(v3, 16); \
		v3 ^= v2;            \
		v0 += v3;            \
		v3 = ROTL64(v3, 21); \
		v3 ^= v0;            \
		v2 += v1;            \
		v1 = ROTL64(v1, 17); \
		v1 ^= v2;            \
		v2 = ROTL64(v2, 32); \
	} while (0)

/* SipHash-2-4 of the 16-byte message le64(m0) || le64(m1). */
static uint64_t siphash_2words(const uint64_t key[2], uint64_t m0, uint64_t m1)
{
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL, v1 = key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL, v3 = key[1] ^ 0x7465646279746573ULL;
	const uint64_t m[3] = {m0, m1, (uint64_t)16 << 56};

	for (int i = 0; i < 3; i++) {
		v3 ^= m[i];
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Stretches the caller's 64 random bits into a 128-bit SipHash key (splitmix64). */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int wg_ratelimiter_init(struct wg_ratelimiter *rl, uint32_t max_entries, uint64_t hash_key_seed)
{
	uint32_t nchains = 1;

	memset(rl, 0, sizeof(*rl));
	if (max_entries == 0 || max_entries > WG_RL_MAX_ENTRIES)
		return -EINVAL;
	while (nchains < max_entries)
		nchains <<= 1;
	rl->entries = calloc(max_entries, sizeof(*rl->entries));
	rl->chains = malloc((size_t)nchains * sizeof(*rl->chains));
	if (!rl->entries || !rl->chains) {
		wg_ratelimiter_free(rl);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nchains; i++)
		rl->chains[i] = RL_NONE;
	for (uint32_t i = 0; i < max_entries; i++)
		rl->entries[i].next = i + 1 < max_entries ? i + 1 : RL_NONE;
	rl->chain_mask = nchains - 1;
	rl->max_entries = max_entries;
	rl->free_head = 0;
	rl->key[0] = splitmix64(&hash_key_seed);
	rl->key[1] = splitmix64(&hash_key_seed);
	return 0;
}

void wg_ratelimiter_free(struct wg_ratelimiter *rl)
{
	free(rl->entries);
	free(rl->chains);
	memset(rl, 0, sizeof(*rl));
}

/* The key a source is limited under: its IPv4 address or its IPv6 /64. */
static bool source_key(const struct vw_endpoint *src, uint8_t *family, uint64_t *addr)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (src->sa.sa_family == AF_INET) {
		*family = AF_INET;
		*addr = get_be32(&src->in4.sin_addr.s_addr);
		return true;
	}
	if (src->sa.sa_family == AF_INET6) {
		const uint8_t *a = src->in6.sin6_addr.s6_addr;

		if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
			*family = AF_INET;
			*addr = get_be32(a + 12);
		} else {
			*family = AF_INET6;
			*addr = get_be64(a);
		}
		return true;
	}
	return false;
}

static bool take_token(struct wg_ratelimiter *rl, struct wg_rl_entry *e, uint64_t now_ns)
{
	if (!wg_token_take(&e->tokens_ns, &e->last_ns, now_ns, WG_RL_PACKET_COST_NS,
			   WG_RL_TOKEN_MAX_NS)) {
		rl->stats.limited++;
		return false;
	}
	rl->stats.allowed++;
	return true;
}

static uint32_t chain_of(const struct wg_ratelimiter *rl, uint64_t addr, uint8_t family)
{
	return (uint32_t)siphash_2words(rl->key, addr, family) & rl->chain_mask;
}

/* Takes entry i (in use) out of its chain and onto the free list. */
static void entry_release(struct wg_ratelimiter *rl, uint32_t i)
{
	struct wg_rl_entry *e = &rl->entries[i];
	uint32_t *link = &rl->chains[chain_of(rl, e->addr, e->family)];

	while (*link != i)
		link = &rl->entries[*link].next;
	*link = e->next;
	e->next = rl->free_head;
	rl->free_head = i;
	rl->count--;
}

/* A full table: the probed entry idle longest goes (ratelimiter.h). */
static void make_room(struct wg_ratelimiter *rl, uint64_t now_ns)
{
	uint32_t victim = rl->cursor % rl->max_entries;

	for (uint32_t k = 0; k < WG_RL_PROBES && k < rl->max_entries; k++) {
		uint32_t i = (rl->cursor + k) % rl->max_entries;

		if (rl->entries[i].last_ns < rl->entries[victim].last_ns)
			victim = i;
	}
	rl->cursor = (rl->cursor + WG_RL_PROBES) % rl->max_entries;
	rl->stats.table_full++;
	/* A bucket that has refilled is as good as no entry; any other loses its state. */
	if (now_ns < rl->entries[victim].last_ns ||
	    now_ns - rl->entries[victim].last_ns <
		    WG_RL_TOKEN_MAX_NS - rl->entries[victim].tokens_ns)
		rl->stats.evicted++;
	entry_release(rl, victim);
}

bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, const struct vw_endpoint *src, uint64_t now_ns)
{
	uint8_t family;
	uint64_t addr;
	uint32_t chain, i;
	struct wg_rl_entry *e;

	if (!source_key(src, &family, &addr)) {
		rl->stats.bad_family++;
		return false;
	}
	chain = chain_of(rl, addr, family);
	for (i = rl->chains[chain]; i != RL_NONE; i = e->next) {
		e = &rl->entries[i];
		if (e->addr == addr && e->family == family)
			return take_token(rl, e, now_ns);
	}
	if (rl->free_head == RL_NONE)
		make_room(rl, now_ns);
	i = rl->free_head;
	e = &rl->entries[i];
	rl->free_head = e->next;
	e->addr = addr;
	e->family = family;
	e->last_ns = now_ns;
	e->tokens_ns = WG_RL_TOKEN_MAX_NS - WG_RL_PACKET_COST_NS;
	e->next = rl->chains[chain];
	rl->chains[chain] = i;
	rl->count++;
	rl->stats.allowed++;
	return true;
}

void wg_ratelimiter_gc(struct wg_ratelimiter *rl, uint64_t now_ns)
{
	for (uint32_t c = 0; rl->count && c <= rl->chain_mask; c++) {
		uint32_t *link = &rl->chains[c];

		while (*link != RL_NONE) {
			uint32_t i = *link;
			struct wg_rl_entry *e = &rl->entries[i];

			if (now_ns > e->last_ns && now_ns - e->last_ns > WG_RL_IDLE_NS) {
				*link = e->next;
				e->next = rl->free_head;
				rl->free_head = i;
				rl->count--;
			} else {
				link = &e->next;
			}
		}
	}
}
