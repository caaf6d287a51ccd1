/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/tai64n.h"

static void test_encoding(void **state)
{
	static const uint8_t epoch[12] = { 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	/* 2026-11-25T00:00:00Z = 1795564800 s, plus 0.5 s rounded down to 2^24 ns. */
	static const uint8_t later[12] = { 0x40, 0, 0, 0, 0x6b, 0x06, 0x25, 0x00,
					   0x1d, 0x00, 0x00, 0x00 };
	uint8_t out[12];

	(void)state;
	tai64n_encode(out, 0);
	assert_memory_equal(out, epoch, 12);
	tai64n_encode(out, 1795564800ULL * 1000000000ULL + 500000000ULL);
	assert_memory_equal(out, later, 12);
}

/* Fine-grained time is not revealed: times in one 2^24 ns slot encode alike. */
static void test_rounding(void **state)
{
	uint8_t a[12], b[12], c[12];
	uint64_t base = 1700000000ULL * 1000000000ULL;

	(void)state;
	tai64n_encode(a, base);
	tai64n_encode(b, base + (1u << 24) - 1);
	tai64n_encode(c, base + (1u << 24));
	assert_memory_equal(a, b, 12);
	assert_true(tai64n_after(c, b));
	assert_false(tai64n_after(b, c));
	assert_false(tai64n_after(a, b));
}

static void test_ordering_across_seconds(void **state)
{
	uint8_t prev[12], cur[12];

	(void)state;
	tai64n_encode(prev, 5ULL * 1000000000ULL + 999999999ULL);
	tai64n_encode(cur, 6ULL * 1000000000ULL);
	assert_true(tai64n_after(cur, prev));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_ordering_across_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
