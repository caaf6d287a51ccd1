/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bridge/fdb.h"

#define SEC 1000000000ULL

static const uint64_t key[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};

static void mac_of(uint32_t n, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static int port_of(const struct fdb *f, uint32_t n)
{
	uint8_t mac[6];
	const struct fdb_entry *e;

	mac_of(n, mac);
	e = fdb_lookup(f, mac);
	return e ? e->port : -1;
}

/* Walks every chain and the ageing list: structure must match count. */
static void check_invariants(const struct fdb *f)
{
	uint32_t in_chains = 0, dyn = 0, on_list = 0, prev = FDB_NIL;
	uint64_t last = 0;

	for (uint32_t b = 0; b <= f->mask; b++)
		for (uint32_t i = f->bucket[b]; i != FDB_NIL; i = f->e[i].hnext) {
			assert_true(f->e[i].used);
			in_chains++;
		}
	for (uint32_t i = 0; i < f->cap; i++)
		if (f->e[i].used && !(f->e[i].flags & FDB_F_STATIC))
			dyn++;
	for (uint32_t i = f->lru_head; i != FDB_NIL; i = f->e[i].next) {
		assert_int_equal(f->e[i].prev, prev);
		assert_true(f->e[i].updated >= last);
		last = f->e[i].updated;
		prev = i;
		on_list++;
	}
	assert_int_equal(prev, f->lru_tail);
	assert_int_equal(in_chains, f->count);
	assert_int_equal(on_list, dyn);
}

static void test_learn_lookup_move(void **state)
{
	struct fdb f;
	uint8_t mac[6];

	(void)state;
	assert_true(fdb_init(&f, 64, key));
	mac_of(1, mac);
	assert_null(fdb_lookup(&f, mac));
	assert_int_equal(fdb_learn(&f, mac, 3, 1 * SEC), FDB_LEARNED);
	assert_int_equal(port_of(&f, 1), 3);
	assert_int_equal(fdb_learn(&f, mac, 3, 2 * SEC), FDB_REFRESHED);
	assert_int_equal(fdb_learn(&f, mac, 5, 3 * SEC), FDB_MOVED);
	assert_int_equal(port_of(&f, 1), 5);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.st.learned, 1);
	assert_int_equal(f.st.moved, 1);
	assert_true(fdb_delete(&f, mac));
	assert_false(fdb_delete(&f, mac));
	assert_int_equal(port_of(&f, 1), -1);
	check_invariants(&f);
	fdb_destroy(&f);
}

static void test_ageing(void **state)
{
	struct fdb f;
	uint8_t mac[6];

	(void)state;
	assert_true(fdb_init(&f, 64, key));
	for (uint32_t n = 0; n < 10; n++) {
		mac_of(n, mac);
		fdb_learn(&f, mac, 1, n * SEC);
	}
	/* refreshing entry 0 at 20 s moves it to the young end */
	mac_of(0, mac);
	fdb_learn(&f, mac, 1, 20 * SEC);
	assert_true(fdb_next_expiry(&f, 300 * SEC) == 301 * SEC);
	assert_int_equal(fdb_age(&f, 300 * SEC, 300 * SEC), 0);
	/* entries 1 and 2 were last seen at 1 s and 2 s: gone at exactly +300 s */
	assert_int_equal(fdb_age(&f, 302 * SEC, 300 * SEC), 2);
	assert_int_equal(port_of(&f, 1), -1);
	assert_int_equal(port_of(&f, 2), -1);
	assert_int_equal(port_of(&f, 3), 1);
	assert_int_equal(port_of(&f, 0), 1);
	/* fast ageing: a 15 s ageing time at 25 s removes all but entry 0 (seen at 20 s) */
	assert_int_equal(fdb_age(&f, 25 * SEC, 15 * SEC), 7);
	assert_int_equal(f.count, 1);
	assert_int_equal(port_of(&f, 0), 1);
	assert_true(fdb_next_expiry(&f, 15 * SEC) == 35 * SEC);
	assert_int_equal(f.st.aged, 9);
	check_invariants(&f);
	fdb_age(&f, 1000 * SEC, 15 * SEC);
	assert_true(fdb_next_expiry(&f, 15 * SEC) == UINT64_MAX);
	fdb_destroy(&f);
}

static void test_static_entries(void **state)
{
	struct fdb f;
	uint8_t mac[6], own[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};

	(void)state;
	assert_true(fdb_init(&f, 4, key));
	assert_true(fdb_add_static(&f, own, 0, FDB_F_LOCAL));
	/* a frame arriving elsewhere with our address does not move it */
	assert_int_equal(fdb_learn(&f, own, 2, 5 * SEC), FDB_OWN);
	assert_int_equal(f.st.own_src, 1);
	assert_int_equal(fdb_lookup(&f, own)->port, 0);
	assert_true(fdb_lookup(&f, own)->flags & FDB_F_LOCAL);
	/* never aged, never evicted, never flushed with dynamic ones */
	for (uint32_t n = 0; n < 100; n++) {
		mac_of(n, mac);
		fdb_learn(&f, mac, 1, n * SEC);
	}
	assert_int_equal(f.count, 4);
	assert_non_null(fdb_lookup(&f, own));
	fdb_age(&f, 100000 * SEC, 300 * SEC);
	assert_int_equal(f.count, 1);
	assert_non_null(fdb_lookup(&f, own));
	assert_int_equal(fdb_flush_port(&f, 0, false), 0);
	assert_non_null(fdb_lookup(&f, own));
	assert_int_equal(fdb_flush_port(&f, 0, true), 1);
	assert_null(fdb_lookup(&f, own));
	check_invariants(&f);
	fdb_destroy(&f);
}

static void test_full_of_static(void **state)
{
	struct fdb f;
	uint8_t mac[6];

	(void)state;
	assert_true(fdb_init(&f, 2, key));
	mac_of(100, mac);
	assert_true(fdb_add_static(&f, mac, 0, 0));
	mac_of(101, mac);
	assert_true(fdb_add_static(&f, mac, 0, 0));
	mac_of(102, mac);
	assert_false(fdb_add_static(&f, mac, 0, 0));
	assert_int_equal(fdb_learn(&f, mac, 1, SEC), FDB_FULL);
	assert_int_equal(f.st.full, 1);
	fdb_destroy(&f);
}

/* A flood of new addresses: the table stays at its cap and forgets the oldest first. */
static void test_eviction_lru(void **state)
{
	struct fdb f;
	uint8_t mac[6];
	const uint32_t cap = 256;

	(void)state;
	assert_true(fdb_init(&f, cap, key));
	for (uint32_t n = 0; n < cap; n++) {
		mac_of(n, mac);
		assert_int_equal(fdb_learn(&f, mac, 1, (uint64_t)n + 1), FDB_LEARNED);
	}
	/* keep entry 0 alive: it becomes the youngest */
	mac_of(0, mac);
	fdb_learn(&f, mac, 1, 1000);
	for (uint32_t n = cap; n < cap + 10; n++) {
		mac_of(n, mac);
		assert_int_equal(fdb_learn(&f, mac, 2, 1000 + n), FDB_EVICTED_AND_LEARNED);
	}
	assert_int_equal(f.count, cap);
	assert_int_equal(f.st.evicted, 10);
	assert_int_equal(port_of(&f, 0), 1);
	for (uint32_t n = 1; n <= 10; n++)
		assert_int_equal(port_of(&f, n), -1);
	assert_int_equal(port_of(&f, 11), 1);
	for (uint32_t n = cap; n < cap + 10; n++)
		assert_int_equal(port_of(&f, n), 2);
	check_invariants(&f);
	/* a million more: bounded, consistent */
	for (uint32_t n = 0; n < 100000; n++) {
		mac_of(0x01000000u + n, mac);
		fdb_learn(&f, mac, (uint16_t)(n % 7), 2000 + n);
	}
	assert_int_equal(f.count, cap);
	check_invariants(&f);
	fdb_destroy(&f);
}

static void test_flush_port(void **state)
{
	struct fdb f;
	uint8_t mac[6];

	(void)state;
	assert_true(fdb_init(&f, 100, key));
	for (uint32_t n = 0; n < 60; n++) {
		mac_of(n, mac);
		fdb_learn(&f, mac, (uint16_t)(n % 3), n);
	}
	assert_int_equal(fdb_flush_port(&f, 1, false), 20);
	assert_int_equal(f.count, 40);
	for (uint32_t n = 0; n < 60; n++)
		assert_int_equal(port_of(&f, n), n % 3 == 1 ? -1 : (int)(n % 3));
	check_invariants(&f);
	fdb_flush(&f);
	assert_int_equal(f.count, 0);
	check_invariants(&f);
	fdb_destroy(&f);
}

/* The hash depends on the key: the same addresses land in other buckets. */
static void test_keyed_hash(void **state)
{
	const uint64_t key2[2] = {1, 2};
	struct fdb a, b;
	uint8_t mac[6];
	uint32_t differ = 0, maxchain = 0;

	(void)state;
	assert_true(fdb_init(&a, 1024, key));
	assert_true(fdb_init(&b, 1024, key2));
	for (uint32_t n = 0; n < 1024; n++) {
		mac_of(n, mac);
		fdb_learn(&a, mac, 1, 1);
		fdb_learn(&b, mac, 1, 1);
	}
	for (uint32_t i = 0; i <= a.mask; i++) {
		uint32_t la = 0, lb = 0;

		for (uint32_t k = a.bucket[i]; k != FDB_NIL; k = a.e[k].hnext)
			la++;
		for (uint32_t k = b.bucket[i]; k != FDB_NIL; k = b.e[k].hnext)
			lb++;
		differ += la != lb;
		if (la > maxchain)
			maxchain = la;
	}
	assert_true(differ > 100);
	/* sequential addresses spread: no long chains at load factor 1 */
	assert_true(maxchain <= 10);
	fdb_destroy(&a);
	fdb_destroy(&b);
}

static void test_bad_init(void **state)
{
	struct fdb f;

	(void)state;
	assert_false(fdb_init(&f, 0, key));
	assert_false(fdb_init(&f, FDB_MAX_ENTRIES + 1, key));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_lookup_move), cmocka_unit_test(test_ageing),
		cmocka_unit_test(test_static_entries),	  cmocka_unit_test(test_full_of_static),
		cmocka_unit_test(test_eviction_lru),	  cmocka_unit_test(test_flush_port),
		cmocka_unit_test(test_keyed_hash),	  cmocka_unit_test(test_bad_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
