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

/* Walks every chain, the ageing list and each port's list: structure must match the counts. */
static void check_invariants(const struct fdb *f)
{
	uint32_t in_chains = 0, dyn = 0, on_list = 0, prev = FDB_NIL, on_ports = 0, holding = 0;
	uint32_t statics = 0;
	uint64_t last = 0;

	for (uint16_t port = 0; port < FDB_MAX_PORTS; port++) {
		uint32_t n = 0, pprev = FDB_NIL;
		uint64_t plast = 0;

		for (uint32_t i = f->port[port].head; i != FDB_NIL; i = f->e[i].pnext) {
			assert_true(f->e[i].used);
			assert_int_equal(f->e[i].port, port);
			assert_false(f->e[i].flags & FDB_F_STATIC);
			assert_int_equal(f->e[i].pprev, pprev);
			assert_true(f->e[i].updated >= plast);
			plast = f->e[i].updated;
			pprev = i;
			n++;
		}
		assert_int_equal(pprev, f->port[port].tail);
		assert_int_equal(n, f->port[port].count);
		assert_int_equal(n, fdb_port_count(f, port));
		if (f->max_learned)
			assert_true(n <= f->max_learned);
		on_ports += n;
		holding += n > 0;
	}
	assert_int_equal(holding, f->ports_holding);
	for (uint32_t i = 0; i < f->cap; i++)
		statics += f->e[i].used && (f->e[i].flags & FDB_F_STATIC);
	assert_int_equal(statics, f->n_static);

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
	assert_int_equal(on_ports, dyn);
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

/*
 * A full table and a port below its fair share (port 2 holds nothing, port 1
 * everything): port 2's new addresses take the slots of port 1's least recently
 * seen entries.
 */
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
	/* a hundred thousand more from seven ports: bounded, consistent */
	for (uint32_t n = 0; n < 100000; n++) {
		mac_of(0x01000000u + n, mac);
		fdb_learn(&f, mac, (uint16_t)(n % 7), 2000 + n);
	}
	assert_int_equal(f.count, cap);
	check_invariants(&f);
	fdb_destroy(&f);
}

/* A port at max_learned learns no new address and takes no address over; others still learn. */
static void test_port_cap(void **state)
{
	struct fdb f;
	uint8_t mac[6];

	(void)state;
	assert_true(fdb_init(&f, 1024, key));
	fdb_set_max_learned(&f, 10);
	for (uint32_t n = 0; n < 10; n++) {
		mac_of(n, mac);
		assert_int_equal(fdb_learn(&f, mac, 1, n + 1), FDB_LEARNED);
	}
	mac_of(10, mac);
	assert_int_equal(fdb_learn(&f, mac, 1, 20), FDB_PORT_LIMIT);
	assert_int_equal(port_of(&f, 10), -1);
	assert_int_equal(f.st.limited, 1);
	assert_int_equal(fdb_port_count(&f, 1), 10);
	/* known addresses still refresh */
	mac_of(3, mac);
	assert_int_equal(fdb_learn(&f, mac, 1, 21), FDB_REFRESHED);
	/* another port is not held back, and its address cannot be pulled onto the full port */
	mac_of(100, mac);
	assert_int_equal(fdb_learn(&f, mac, 2, 22), FDB_LEARNED);
	assert_int_equal(fdb_learn(&f, mac, 1, 23), FDB_PORT_LIMIT);
	assert_int_equal(port_of(&f, 100), 2);
	assert_int_equal(f.st.limited, 2);
	/* but an address of the full port may leave it, which makes room */
	mac_of(0, mac);
	assert_int_equal(fdb_learn(&f, mac, 2, 24), FDB_MOVED);
	assert_int_equal(fdb_port_count(&f, 1), 9);
	assert_int_equal(fdb_port_count(&f, 2), 2);
	mac_of(10, mac);
	assert_int_equal(fdb_learn(&f, mac, 1, 25), FDB_LEARNED);
	check_invariants(&f);
	/* ageing makes room too; 0 lifts the cap */
	fdb_age(&f, 1000, 990);
	assert_int_equal(fdb_port_count(&f, 1), 2); /* only those seen at 21 and 25 stay */
	fdb_set_max_learned(&f, 0);
	for (uint32_t n = 200; n < 300; n++) {
		mac_of(n, mac);
		assert_int_equal(fdb_learn(&f, mac, 1, 1000), FDB_LEARNED);
	}
	/* a port number beyond the table's per-port accounting is never learned */
	mac_of(400, mac);
	assert_int_equal(fdb_learn(&f, mac, FDB_MAX_PORTS, 1000), FDB_PORT_LIMIT);
	assert_int_equal(port_of(&f, 400), -1);
	check_invariants(&f);
	fdb_destroy(&f);
}

/* A few bytes of xorshift: random-looking source addresses, reproducible. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * One port floods random source addresses into a table the others use: with no
 * per-port cap at all, the full table still refuses the flooding port (it holds
 * more than its fair share) instead of evicting anyone else's entries.
 */
static void test_flood_spares_other_ports(void **state)
{
	struct fdb f;
	uint8_t mac[6], own[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	uint32_t full = 0, learned = 0;

	(void)state;
	assert_true(fdb_init(&f, 256, key));
	assert_true(fdb_add_static(&f, own, 0, FDB_F_LOCAL));
	for (uint32_t n = 0; n < 60; n++) {
		mac_of(n, mac);
		assert_int_equal(fdb_learn(&f, mac, (uint16_t)(1 + n % 3), n), FDB_LEARNED);
	}
	for (uint32_t n = 0; n < 100000; n++) {
		uint64_t r = rnd(&seed);

		memcpy(mac, &r, 6);
		mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
		switch (fdb_learn(&f, mac, 4, 1000 + n)) {
		case FDB_LEARNED:
			learned++;
			break;
		case FDB_FULL:
			full++;
			break;
		default:
			fail();
		}
	}
	/* 255 dynamic slots: the flood took what was free, then nothing */
	assert_int_equal(learned, 255 - 60);
	assert_int_equal(full, 100000 - learned);
	assert_int_equal(f.st.full, full);
	assert_int_equal(f.st.evicted, 0);
	for (uint32_t n = 0; n < 60; n++)
		assert_int_equal(port_of(&f, n), (int)(1 + n % 3));
	assert_non_null(fdb_lookup(&f, own));
	check_invariants(&f);
	/* with a per-port cap the flood stops at the cap instead */
	fdb_flush(&f);
	fdb_set_max_learned(&f, 50);
	for (uint32_t n = 0; n < 1000; n++) {
		mac_of(0x01000000u + n, mac);
		fdb_learn(&f, mac, 4, n);
	}
	assert_int_equal(fdb_port_count(&f, 4), 50);
	assert_int_equal(f.count, 50);
	check_invariants(&f);
	fdb_destroy(&f);
}

/*
 * The eviction rule step by step: a newcomer evicts the largest port's oldest
 * entries until it holds its fair share, then stops; a port at its share never
 * evicts anyone.
 */
static void test_fair_share(void **state)
{
	struct fdb f;
	uint8_t mac[6];
	uint64_t t = 1;

	(void)state;
	assert_true(fdb_init(&f, 100, key));
	for (uint32_t n = 0; n < 100; n++) {
		mac_of(n, mac);
		assert_int_equal(fdb_learn(&f, mac, 1, t++), FDB_LEARNED);
	}
	/* port 1 holds all: its share, so it learns nothing more */
	mac_of(1000, mac);
	assert_int_equal(fdb_learn(&f, mac, 1, t++), FDB_FULL);
	/* port 2 arrives: fair share 100 / 2 = 50 */
	for (uint32_t n = 0; n < 80; n++) {
		mac_of(2000 + n, mac);
		assert_int_equal(fdb_learn(&f, mac, 2, t++),
				 n < 50 ? FDB_EVICTED_AND_LEARNED : FDB_FULL);
	}
	assert_int_equal(fdb_port_count(&f, 1), 50);
	assert_int_equal(fdb_port_count(&f, 2), 50);
	/* port 1 lost its 50 oldest */
	for (uint32_t n = 0; n < 100; n++)
		assert_int_equal(port_of(&f, n), n < 50 ? -1 : 1);
	/* now port 1 is at its share: it cannot take port 2's entries back */
	mac_of(1001, mac);
	assert_int_equal(fdb_learn(&f, mac, 1, t++), FDB_FULL);
	assert_int_equal(fdb_port_count(&f, 2), 50);
	/* port 3: share 100 / 3 = 33, taken from whichever of 1 and 2 is larger */
	for (uint32_t n = 0; n < 40; n++) {
		mac_of(3000 + n, mac);
		assert_int_equal(fdb_learn(&f, mac, 3, t++),
				 n < 33 ? FDB_EVICTED_AND_LEARNED : FDB_FULL);
	}
	assert_int_equal(fdb_port_count(&f, 3), 33);
	assert_true(fdb_port_count(&f, 1) >= 33);
	assert_true(fdb_port_count(&f, 2) >= 33);
	assert_int_equal(fdb_port_count(&f, 1) + fdb_port_count(&f, 2), 67);
	assert_int_equal(f.count, 100);
	check_invariants(&f);
	/* a static entry takes a slot from the largest port, never fails while any is dynamic */
	mac_of(9999, mac);
	assert_true(fdb_add_static(&f, mac, 0, FDB_F_LOCAL));
	assert_int_equal(f.count, 100);
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
		cmocka_unit_test(test_learn_lookup_move),
		cmocka_unit_test(test_ageing),
		cmocka_unit_test(test_static_entries),
		cmocka_unit_test(test_full_of_static),
		cmocka_unit_test(test_eviction_lru),
		cmocka_unit_test(test_flush_port),
		cmocka_unit_test(test_keyed_hash),
		cmocka_unit_test(test_bad_init),
		cmocka_unit_test(test_port_cap),
		cmocka_unit_test(test_flood_spares_other_ports),
		cmocka_unit_test(test_fair_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
