/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tunnel/replay.h"

/* The whitepaper's REJECT_AFTER_MESSAGES, as the caller will pass it. */
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))
#define W		      WG_REPLAY_WINDOW

static bool check(struct wg_replay *r, uint64_t c)
{
	return wg_replay_check(r, c, REJECT_AFTER_MESSAGES);
}

static void test_window_size(void **state)
{
	(void)state;
	/*
	 * At least 2048 counters of reordering tolerated; the RFC 6479 layout with 8192 bits
	 * gives 8128, the window of Linux's WireGuard and of wireguard-go.
	 */
	assert_true(W >= 2048);
	assert_int_equal(W, 8192 - 64);
}

static void test_in_order_and_duplicates(void **state)
{
	struct wg_replay r;

	(void)state;
	wg_replay_init(&r);
	assert_true(check(&r, 0));
	assert_false(check(&r, 0));
	for (uint64_t c = 1; c < 20000; c++) {
		assert_true(check(&r, c));
		assert_false(check(&r, c));
		assert_false(check(&r, c - 1));
	}
}

static void test_counter_zero_late(void **state)
{
	struct wg_replay r;

	(void)state;
	wg_replay_init(&r);
	assert_true(check(&r, 5));
	assert_true(check(&r, 0));
	assert_false(check(&r, 0));
	assert_true(check(&r, 1));
	assert_false(check(&r, 5));
}

static void test_out_of_order_once(void **state)
{
	struct wg_replay r;
	uint64_t c;

	(void)state;
	wg_replay_init(&r);
	/* Every counter of 0..3999 arrives once, in a scrambled order, then again. */
	for (uint64_t i = 0; i < 4000; i++) {
		c = (i * 1237) % 4000; /* 1237 is coprime with 4000: a permutation */
		assert_true(check(&r, c));
	}
	for (uint64_t i = 0; i < 4000; i++)
		assert_false(check(&r, i));
	/* Descending inside the window after a jump. */
	assert_true(check(&r, 20000));
	for (c = 19999; c >= 20000 - W; c--)
		assert_true(check(&r, c));
	assert_false(check(&r, c));
	for (c = 19999; c >= 20000 - W; c--)
		assert_false(check(&r, c));
}

static void test_window_boundary(void **state)
{
	struct wg_replay r;
	uint64_t top;

	(void)state;
	/* Exactly W below the highest counter is inside, W + 1 below is not. */
	for (top = W; top < W + 200; top += 7) {
		wg_replay_init(&r);
		assert_true(check(&r, top));
		assert_false(check(&r, top - W - 1));
		assert_true(check(&r, top - W));
		assert_false(check(&r, top - W));
		assert_true(check(&r, top - 1));
	}
	/* Below W nothing is too old yet. */
	wg_replay_init(&r);
	assert_true(check(&r, W - 1));
	assert_true(check(&r, 0));
	/* Highest counter at W: counter 0 is exactly W below. */
	wg_replay_init(&r);
	assert_true(check(&r, W));
	assert_true(check(&r, 0));
	assert_false(check(&r, 0));
	/* The window slides by one: the oldest counter falls out. */
	wg_replay_init(&r);
	assert_true(check(&r, W + 100));
	assert_true(check(&r, W + 101));
	assert_false(check(&r, 100));
	assert_true(check(&r, 101));
}

static void test_too_old(void **state)
{
	struct wg_replay r;

	(void)state;
	wg_replay_init(&r);
	assert_true(check(&r, 1000000));
	assert_false(check(&r, 0));
	assert_false(check(&r, 1000000 - W - 1));
	assert_false(check(&r, 1000));
	assert_true(check(&r, 1000000 - W));
}

static void test_big_jumps(void **state)
{
	struct wg_replay r;
	uint64_t c;

	(void)state;
	wg_replay_init(&r);
	/* Mark every counter of a full window, then jump by exactly one ring and more. */
	for (c = 0; c <= W; c++)
		assert_true(check(&r, c));
	c = W + WG_REPLAY_BITS;
	assert_true(check(&r, c));
	/* Bits left from the first lap must not alias into the new window. */
	for (uint64_t d = 1; d <= W; d++)
		assert_true(check(&r, c - d));
	assert_true(check(&r, c + 3 * WG_REPLAY_BITS + 17));
	assert_true(check(&r, c + 3 * WG_REPLAY_BITS + 16));
	assert_false(check(&r, c));
	/* Jumps of less than a ring, by every word-crossing amount. */
	wg_replay_init(&r);
	c = 0;
	for (uint64_t step = 1; step < 200; step++) {
		c += step * 61;
		assert_true(check(&r, c));
		assert_true(check(&r, c - 1));
		assert_false(check(&r, c));
	}
	/* Near the top of the 64-bit range. */
	wg_replay_init(&r);
	c = REJECT_AFTER_MESSAGES - 1;
	assert_true(check(&r, c));
	assert_false(check(&r, c));
	assert_true(check(&r, c - W));
	assert_false(check(&r, c - W - 1));
	assert_false(check(&r, 5));
}

static void test_limit(void **state)
{
	struct wg_replay r;

	(void)state;
	wg_replay_init(&r);
	assert_false(wg_replay_check(&r, REJECT_AFTER_MESSAGES, REJECT_AFTER_MESSAGES));
	assert_false(wg_replay_check(&r, UINT64_MAX, REJECT_AFTER_MESSAGES));
	assert_false(wg_replay_check(&r, UINT64_MAX, UINT64_MAX));
	/* A refused counter does not move the window. */
	assert_true(check(&r, 0));
	assert_false(wg_replay_check(&r, 100, 100));
	assert_true(wg_replay_check(&r, 99, 100));
	assert_true(wg_replay_check(&r, 50, 100));
	assert_false(wg_replay_check(&r, 0, 0));
	assert_true(wg_replay_check(&r, UINT64_MAX - 1, UINT64_MAX));
	assert_false(wg_replay_check(&r, UINT64_MAX - 1, UINT64_MAX));
}

/* Random traffic against a reference: a set of seen counters with the same window rule. */
static void test_random_reference(void **state)
{
	static uint8_t seen[1 << 17];
	struct wg_replay r;
	uint64_t x = 0x9e3779b97f4a7c15ULL, top = 0;
	bool any = false;

	(void)state;
	memset(seen, 0, sizeof(seen));
	wg_replay_init(&r);
	for (unsigned int i = 0; i < 200000; i++) {
		uint64_t c;
		bool want;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Mostly near the top, sometimes far back or ahead. */
		if (x % 16 == 0)
			c = (x >> 8) % sizeof(seen);
		else
			c = top + 64 - (x >> 8) % (W + 200);
		if (c >= sizeof(seen) || (int64_t)c < 0)
			continue;
		want = !seen[c] && (!any || c + W >= top);
		assert_int_equal(check(&r, c), want);
		if (want) {
			seen[c] = 1;
			if (!any || c > top)
				top = c;
			any = true;
		}
	}
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_size),
		cmocka_unit_test(test_in_order_and_duplicates),
		cmocka_unit_test(test_counter_zero_late),
		cmocka_unit_test(test_out_of_order_once),
		cmocka_unit_test(test_window_boundary),
		cmocka_unit_test(test_too_old),
		cmocka_unit_test(test_big_jumps),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_random_reference),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
