/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_RATELIMITER_H
#define VW_TUNNEL_RATELIMITER_H

/*
 * Handshake rate limiting per source address, with the kernel WireGuard's
 * rules: a token bucket per source, refilled at WG_RL_PACKETS_PER_SECOND with
 * room for a burst of WG_RL_PACKETS_BURSTABLE; IPv6 sources are grouped by
 * their /64 (one host usually owns a whole /64); entries idle for more than a
 * second are collected (a full bucket and no entry behave the same).
 * The table is allocated once. When it is full a new source still gets an entry, so
 * that a flood from many sources can never lock real peers out: of WG_RL_PROBES
 * entries (a cursor going round the table) the one idle longest makes way. If it was
 * idle long enough to have a full bucket, nothing is lost (table_full counts the case);
 * otherwise its source starts over with a fresh bucket when it comes back (evicted).
 * Buckets are chosen by a keyed hash
 * (SipHash-2-4 keyed from the caller's random seed), so a remote sender cannot
 * aim many sources at one chain.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"

#define WG_RL_PACKETS_PER_SECOND 20
#define WG_RL_PACKETS_BURSTABLE	 5
#define WG_RL_PACKET_COST_NS	 (1000000000ULL / WG_RL_PACKETS_PER_SECOND)
#define WG_RL_TOKEN_MAX_NS	 (WG_RL_PACKET_COST_NS * WG_RL_PACKETS_BURSTABLE)
#define WG_RL_IDLE_NS		 1000000000ULL
#define WG_RL_MAX_ENTRIES	 (1u << 20)
#define WG_RL_PROBES		 16

struct wg_rl_entry;

/*
 * A token bucket counted in nanoseconds of credit: it refills one nanosecond per
 * nanosecond up to max, and a take costs cost. True (and charged) when the credit was
 * there. The rate limiter's buckets are these, and so is the device's X25519 budget.
 */
static inline bool wg_token_take(uint64_t *tokens_ns, uint64_t *last_ns, uint64_t now_ns,
				 uint64_t cost, uint64_t max)
{
	if (now_ns > *last_ns) {
		uint64_t elapsed = now_ns - *last_ns;

		*tokens_ns = elapsed >= max - *tokens_ns ? max : *tokens_ns + elapsed;
		*last_ns = now_ns;
	}
	if (*tokens_ns < cost)
		return false;
	*tokens_ns -= cost;
	return true;
}

struct wg_ratelimiter_stats {
	uint64_t allowed;
	uint64_t limited;    /* source over its rate */
	uint64_t table_full; /* new source while the table was full: an idle entry made way */
	uint64_t evicted;    /* ... and it had not been idle long enough: its state is lost */
	uint64_t bad_family; /* source neither IPv4 nor IPv6 */
};

struct wg_ratelimiter {
	struct wg_rl_entry *entries; /* max_entries, linked into chains or the free list */
	uint32_t *chains;	     /* bucket heads: entry index or UINT32_MAX */
	uint32_t chain_mask;
	uint32_t max_entries;
	uint32_t count; /* entries in use */
	uint32_t free_head;
	uint32_t cursor; /* where a full table is probed next */
	uint64_t key[2];
	struct wg_ratelimiter_stats stats;
};

/* max_entries 1..WG_RL_MAX_ENTRIES: 0, -EINVAL or -ENOMEM. */
int wg_ratelimiter_init(struct wg_ratelimiter *rl, uint32_t max_entries, uint64_t hash_key_seed);
void wg_ratelimiter_free(struct wg_ratelimiter *rl);

/*
 * True if a handshake message from src may be processed now. IPv4-mapped IPv6
 * sources (dual-stack sockets) count as their IPv4 address, not as ::ffff:0:0/64.
 */
bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, const struct vw_endpoint *src,
			  uint64_t now_ns);

/* Drops entries idle for more than WG_RL_IDLE_NS. O(entries + buckets). */
void wg_ratelimiter_gc(struct wg_ratelimiter *rl, uint64_t now_ns);

#endif
