/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tunnel/ratelimiter.h"

#define MS   1000000ULL
#define SEC  1000000000ULL
#define T0   (1000 * SEC) /* the virtual clock does not start at 0 */
#define COST WG_RL_PACKET_COST_NS

static struct vw_endpoint ep(const char *ip, uint16_t port)
{
	struct vw_endpoint e;

	memset(&e, 0, sizeof(e));
	if (inet_pton(AF_INET, ip, &e.in4.sin_addr) == 1) {
		e.in4.sin_family = AF_INET;
		e.in4.sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &e.in6.sin6_addr), 1);
		e.in6.sin6_family = AF_INET6;
		e.in6.sin6_port = htons(port);
	}
	return e;
}

/* Sends n packets at time now; returns how many were allowed. */
static unsigned int burst(struct wg_ratelimiter *rl, const struct vw_endpoint *e, uint64_t now,
			  unsigned int n)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++)
		ok += wg_ratelimiter_allow(rl, e, now);
	return ok;
}

static void test_init_bounds(void **state)
{
	struct wg_ratelimiter rl;

	(void)state;
	assert_int_equal(wg_ratelimiter_init(&rl, 0, 1), -EINVAL);
	assert_int_equal(wg_ratelimiter_init(&rl, WG_RL_MAX_ENTRIES + 1, 1), -EINVAL);
	assert_int_equal(wg_ratelimiter_init(&rl, 1, 1), 0);
	wg_ratelimiter_free(&rl);
	assert_int_equal(wg_ratelimiter_init(&rl, 1000, 1), 0);
	assert_int_equal(rl.chain_mask, 1023);
	wg_ratelimiter_free(&rl);
	wg_ratelimiter_free(&rl); /* freeing twice is harmless */
}

static void test_burst_refusal_refill(void **state)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint a = ep("192.0.2.1", 51820);
	uint64_t now = T0;

	(void)state;
	assert_int_equal(wg_ratelimiter_init(&rl, 64, 0x1234), 0);
	assert_int_equal(burst(&rl, &a, now, 20), WG_RL_PACKETS_BURSTABLE);
	assert_int_equal(rl.stats.allowed, WG_RL_PACKETS_BURSTABLE);
	assert_int_equal(rl.stats.limited, 20 - WG_RL_PACKETS_BURSTABLE);

	/* One packet's worth of time buys exactly one packet. */
	now += COST - 1;
	assert_false(wg_ratelimiter_allow(&rl, &a, now));
	now += 1;
	assert_true(wg_ratelimiter_allow(&rl, &a, now));
	assert_false(wg_ratelimiter_allow(&rl, &a, now));
	now += 2 * COST;
	assert_int_equal(burst(&rl, &a, now, 5), 2);

	/* A long silence refills only up to the burst. */
	now += 10 * SEC;
	assert_int_equal(burst(&rl, &a, now, 20), WG_RL_PACKETS_BURSTABLE);

	/* A clock that steps back gives no tokens. */
	assert_int_equal(burst(&rl, &a, now - SEC, 3), 0);
	wg_ratelimiter_free(&rl);
}

static void test_sustained_rate(void **state)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint a = ep("198.51.100.7", 1);
	uint64_t now = T0;
	unsigned int ok = 0;

	(void)state;
	assert_int_equal(wg_ratelimiter_init(&rl, 16, 99), 0);
	/* At exactly the allowed rate, nothing is refused. */
	for (unsigned int i = 0; i < 1000; i++, now += COST)
		assert_true(wg_ratelimiter_allow(&rl, &a, now));
	/* At twice the rate for 10 s: the rate plus what was left of the burst. */
	for (unsigned int i = 0; i < 400; i++, now += COST / 2)
		ok += wg_ratelimiter_allow(&rl, &a, now);
	assert_true(ok >= 10 * WG_RL_PACKETS_PER_SECOND);
	assert_true(ok <= 10 * WG_RL_PACKETS_PER_SECOND + WG_RL_PACKETS_BURSTABLE);
	wg_ratelimiter_free(&rl);
}

static void test_independent_sources(void **state)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint a = ep("192.0.2.1", 1000), a2 = ep("192.0.2.1", 2000);
	struct vw_endpoint b = ep("192.0.2.2", 1000), c = ep("2001:db8::1", 1000);

	(void)state;
	assert_int_equal(wg_ratelimiter_init(&rl, 64, 7), 0);
	assert_int_equal(burst(&rl, &a, T0, 10), WG_RL_PACKETS_BURSTABLE);
	/* Another port on the same address is the same source. */
	assert_int_equal(burst(&rl, &a2, T0, 10), 0);
	assert_int_equal(burst(&rl, &b, T0, 10), WG_RL_PACKETS_BURSTABLE);
	assert_int_equal(burst(&rl, &c, T0, 10), WG_RL_PACKETS_BURSTABLE);
	assert_int_equal(rl.count, 3);
	wg_ratelimiter_free(&rl);
}

static void test_ipv6_by_64(void **state)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint x = ep("2001:db8:1:2::1", 1),
			   y = ep("2001:db8:1:2:ffff:ffff:ffff:ffff", 2);
	struct vw_endpoint z = ep("2001:db8:1:3::1", 1), w = ep("2001:db9:1:2::1", 1);

	(void)state;
	assert_int_equal(wg_ratelimiter_init(&rl, 64, 7), 0);
	assert_int_equal(burst(&rl, &x, T0, 3), 3);
	/* Same /64: shares the bucket. */
	assert_int_equal(burst(&rl, &y, T0, 10), WG_RL_PACKETS_BURSTABLE - 3);
	/* Neighbouring /64s are others. */
	assert_int_equal(burst(&rl, &z, T0, 10), WG_RL_PACKETS_BURSTABLE);
	assert_int_equal(burst(&rl, &w, T0, 10), WG_RL_PACKETS_BURSTABLE);
	assert_int_equal(rl.count, 3);
	wg_ratelimiter_free(&rl);
}

static void test_v4_mapped(void **state)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint v4 = ep("203.0.113.5", 1), mapped = ep("::ffff:203.0.113.5", 1);
	struct vw_endpoint other = ep("::ffff:203.0.113.6", 1);

	(void)state;
	assert_int_equal(wg_ratelimiter_init(&rl, 64, 7), 0);
	assert_int_equal(burst(&rl, &v4, T0, 2), 2);
	assert_int_equal(burst(&rl, &mapped, T0, 10), WG_RL_PACKETS_BURSTABLE - 2);
	/* Not all of IPv4 in one bucket: mapped addresses are not grouped by /64. */
	assert_int_equal(burst(&rl, &other, T0, 10), WG_RL_PACKETS_BURSTABLE);
	assert_int_equal(rl.count, 2);
	wg_ratelimiter_free(&rl);
}

static void test_bad_family(void **state)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint e;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(wg_ratelimiter_init(&rl, 4, 7), 0);
	assert_false(wg_ratelimiter_allow(&rl, &e, T0));
	e.sa.sa_family = AF_UNIX;
	assert_false(wg_ratelimiter_allow(&rl, &e, T0));
	assert_int_equal(rl.stats.bad_family, 2);
	assert_int_equal(rl.count, 0);
	wg_ratelimiter_free(&rl);
}

static struct vw_endpoint ep_index(uint32_t i)
{
	struct vw_endpoint e;

	memset(&e, 0, sizeof(e));
	e.in4.sin_family = AF_INET;
	e.in4.sin_addr.s_addr = htonl(0x0a000000u + i);
	return e;
}

/* A table of four entries, all taken at T0 by sources 0-3. */
static void full_table_of_four(struct wg_ratelimiter *rl)
{
	assert_int_equal(wg_ratelimiter_init(rl, 4, 7), 0);
	for (uint32_t i = 0; i < 4; i++) {
		struct vw_endpoint e = ep_index(i);

		assert_true(wg_ratelimiter_allow(rl, &e, T0));
	}
}

static void test_table_full_and_gc(void **state)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint e;

	(void)state;
	full_table_of_four(&rl);
	assert_int_equal(rl.count, 4);
	e = ep_index(0);
	assert_int_equal(burst(&rl, &e, T0, 10), WG_RL_PACKETS_BURSTABLE - 1);

	/* Source 1 stays active; the others go idle. */
	e = ep_index(1);
	assert_true(wg_ratelimiter_allow(&rl, &e, T0 + 900 * MS));
	/* Idle exactly 1 s is kept, more is collected. */
	wg_ratelimiter_gc(&rl, T0 + SEC);
	assert_int_equal(rl.count, 4);
	wg_ratelimiter_gc(&rl, T0 + SEC + 1);
	assert_int_equal(rl.count, 1);
	/* Room again: three new sources fit from the free list. */
	for (uint32_t i = 10; i < 13; i++) {
		e = ep_index(i);
		assert_true(wg_ratelimiter_allow(&rl, &e, T0 + 2 * SEC));
	}
	assert_int_equal(rl.stats.table_full, 0);
	/* The surviving entry kept its state through gc. */
	e = ep_index(1);
	assert_true(wg_ratelimiter_allow(&rl, &e, T0 + 2 * SEC));
	wg_ratelimiter_gc(&rl, T0 + 10 * SEC);
	assert_int_equal(rl.count, 0);
	wg_ratelimiter_free(&rl);
}

/*
 * A full table never refuses a new source: the entry idle longest among the probed makes
 * way, without loss when its bucket had refilled. However many sources a flood keeps
 * busy, a real peer's handshake gets past the limiter.
 */
static void test_table_full_admits(void **state)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint e;

	(void)state;
	full_table_of_four(&rl);
	/* Sources 1-3 stay busy; 0 goes quiet until its bucket is full again. */
	for (uint32_t i = 1; i < 4; i++) {
		e = ep_index(i);
		assert_true(wg_ratelimiter_allow(&rl, &e, T0 + 300 * MS));
	}
	e = ep_index(4);
	assert_true(wg_ratelimiter_allow(&rl, &e, T0 + 300 * MS));
	assert_int_equal(rl.count, 4);
	assert_int_equal(rl.stats.table_full, 1);
	assert_int_equal(rl.stats.evicted, 0);
	/* The busy ones kept their state (a fresh entry would allow the whole burst). */
	e = ep_index(1);
	assert_int_equal(burst(&rl, &e, T0 + 300 * MS, 10), WG_RL_PACKETS_BURSTABLE - 1);

	/* A flood of 1000 new sources at one instant, then a real peer: all admitted. */
	for (uint32_t i = 100; i < 1100; i++) {
		e = ep_index(i);
		assert_true(wg_ratelimiter_allow(&rl, &e, T0 + SEC));
	}
	e = ep_index(5000);
	assert_true(wg_ratelimiter_allow(&rl, &e, T0 + SEC));
	assert_int_equal(rl.count, 4);
	assert_int_equal(rl.stats.table_full, 1 + 1001);
	/* The four entries idle since T0 + 300 ms had refilled: those went without loss. */
	assert_int_equal(rl.stats.evicted, 1001 - 4);
	/* The table stays consistent: gc empties it. */
	wg_ratelimiter_gc(&rl, T0 + 10 * SEC);
	assert_int_equal(rl.count, 0);
	wg_ratelimiter_free(&rl);
}

/* A limited source that keeps sending is not idle: gc must not hand it a fresh burst. */
static void test_gc_keeps_busy_source(void **state)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint a = ep("192.0.2.9", 1);
	uint64_t now = T0;
	unsigned int ok = 0;

	(void)state;
	assert_int_equal(wg_ratelimiter_init(&rl, 4, 7), 0);
	for (unsigned int i = 0; i < 300; i++, now += 10 * MS) {
		ok += burst(&rl, &a, now, 10);
		if (i % 100 == 99)
			wg_ratelimiter_gc(&rl, now);
	}
	/* 3 s at 1000 packets/s: 20/s plus the first burst, gc or not. */
	assert_true(ok <= 3 * WG_RL_PACKETS_PER_SECOND + WG_RL_PACKETS_BURSTABLE);
	assert_true(ok >= 3 * WG_RL_PACKETS_PER_SECOND);
	assert_int_equal(rl.count, 1);
	wg_ratelimiter_free(&rl);
}

/*
 * Many sources through a small table with gc, checked against a linear
 * reference model: exercises the chains and the free list.
 */
struct ref_entry {
	uint32_t ip;
	uint64_t last, tokens;
};

static void test_random_reference(void **state)
{
	/* No more sources than room: a full table's choice of victim is not modelled here. */
	enum { CAP = 64, NSRC = 64 };
	static struct ref_entry ref[CAP];
	unsigned int nref = 0;
	struct wg_ratelimiter rl;
	uint64_t x = 88172645463325252ULL, now = T0;

	(void)state;
	assert_int_equal(wg_ratelimiter_init(&rl, CAP, 0xabcdef), 0);
	for (unsigned int op = 0; op < 100000; op++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		now += x % (3 * MS);
		if (x % 1000 == 0) {
			wg_ratelimiter_gc(&rl, now);
			for (unsigned int i = 0; i < nref;) {
				if (now - ref[i].last > WG_RL_IDLE_NS)
					ref[i] = ref[--nref];
				else
					i++;
			}
			assert_int_equal(rl.count, nref);
			continue;
		}
		uint32_t ip = (uint32_t)(x >> 20) % NSRC;
		struct vw_endpoint e = ep_index(ip);
		bool want;
		unsigned int i;

		for (i = 0; i < nref && ref[i].ip != ip; i++)
			;
		if (i == nref) {
			want = nref < CAP;
			if (want)
				ref[nref++] =
					(struct ref_entry){ip, now, WG_RL_TOKEN_MAX_NS - COST};
		} else {
			uint64_t t = ref[i].tokens + (now - ref[i].last);

			ref[i].tokens = t > WG_RL_TOKEN_MAX_NS ? WG_RL_TOKEN_MAX_NS : t;
			ref[i].last = now;
			want = ref[i].tokens >= COST;
			if (want)
				ref[i].tokens -= COST;
		}
		assert_int_equal(wg_ratelimiter_allow(&rl, &e, now), want);
	}
	assert_int_equal(rl.stats.table_full, 0);
	assert_true(rl.stats.limited > 0);
	wg_ratelimiter_free(&rl);
}

/* The bucket layout depends on the secret seed, so it cannot be predicted from outside. */
static void test_hash_is_keyed(void **state)
{
	struct wg_ratelimiter r1, r2;
	unsigned int same = 0;

	(void)state;
	assert_int_equal(wg_ratelimiter_init(&r1, 1024, 1), 0);
	assert_int_equal(wg_ratelimiter_init(&r2, 1024, 2), 0);
	for (uint32_t i = 0; i < 1024; i++) {
		struct vw_endpoint e = ep_index(i);

		assert_true(wg_ratelimiter_allow(&r1, &e, T0));
		assert_true(wg_ratelimiter_allow(&r2, &e, T0));
	}
	/* Entry i sits at index i in both; compare which chain each landed in. */
	for (uint32_t c = 0; c < 1024; c++)
		same += r1.chains[c] == r2.chains[c];
	assert_true(same < 600);
	wg_ratelimiter_free(&r1);
	wg_ratelimiter_free(&r2);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_bounds),
		cmocka_unit_test(test_burst_refusal_refill),
		cmocka_unit_test(test_sustained_rate),
		cmocka_unit_test(test_independent_sources),
		cmocka_unit_test(test_ipv6_by_64),
		cmocka_unit_test(test_v4_mapped),
		cmocka_unit_test(test_bad_family),
		cmocka_unit_test(test_table_full_and_gc),
		cmocka_unit_test(test_table_full_admits),
		cmocka_unit_test(test_gc_keeps_busy_source),
		cmocka_unit_test(test_random_reference),
		cmocka_unit_test(test_hash_is_keyed),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
