/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "tunnel/allowedips.h"

/* Deterministic PRNG (xorshift64*), so a failure reproduces. */
static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s ? s : 1;
}

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

static int peers[64];
#define PEER(i) ((void *)&peers[(i)])

static uint8_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

static uint8_t max_cidr(uint8_t family)
{
	return family == AF_INET ? 32 : 128;
}

static void mask_addr(uint8_t *a, uint8_t len, uint8_t cidr)
{
	for (uint8_t i = 0; i < len; i++) {
		int keep = (int)cidr - 8 * i;

		if (keep <= 0)
			a[i] = 0;
		else if (keep < 8)
			a[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

static void parse4(uint8_t a[4], uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	a[0] = b0;
	a[1] = b1;
	a[2] = b2;
	a[3] = b3;
}

/* ---- naive reference: a list of prefixes, longest match by linear scan ---- */

struct ref_prefix {
	uint8_t family;
	uint8_t addr[16];
	uint8_t cidr;
	void *peer;
};

#define REF_MAX 20000
static struct ref_prefix ref[REF_MAX];
static size_t ref_n;

static bool ref_same(const struct ref_prefix *p, uint8_t family, const uint8_t *masked,
		     uint8_t cidr)
{
	return p->family == family && p->cidr == cidr &&
	       memcmp(p->addr, masked, addr_len(family)) == 0;
}

static void ref_insert(uint8_t family, const uint8_t *addr, uint8_t cidr, void *peer)
{
	uint8_t m[16] = {0};

	memcpy(m, addr, addr_len(family));
	mask_addr(m, addr_len(family), cidr);
	for (size_t i = 0; i < ref_n; i++) {
		if (ref_same(&ref[i], family, m, cidr)) {
			ref[i].peer = peer;
			return;
		}
	}
	assert_true(ref_n < REF_MAX);
	ref[ref_n].family = family;
	memcpy(ref[ref_n].addr, m, 16);
	ref[ref_n].cidr = cidr;
	ref[ref_n].peer = peer;
	ref_n++;
}

static int ref_remove(uint8_t family, const uint8_t *addr, uint8_t cidr, void *peer)
{
	uint8_t m[16] = {0};

	memcpy(m, addr, addr_len(family));
	mask_addr(m, addr_len(family), cidr);
	for (size_t i = 0; i < ref_n; i++) {
		if (ref_same(&ref[i], family, m, cidr)) {
			if (ref[i].peer != peer)
				return -ENOENT;
			ref[i] = ref[--ref_n];
			return 0;
		}
	}
	return -ENOENT;
}

static void ref_remove_by_peer(void *peer)
{
	for (size_t i = 0; i < ref_n;) {
		if (ref[i].peer == peer)
			ref[i] = ref[--ref_n];
		else
			i++;
	}
}

static void *ref_lookup(uint8_t family, const uint8_t *addr)
{
	void *best = NULL;
	int best_cidr = -1;
	uint8_t m[16];

	for (size_t i = 0; i < ref_n; i++) {
		if (ref[i].family != family || ref[i].cidr <= best_cidr)
			continue;
		memcpy(m, addr, addr_len(family));
		mask_addr(m, addr_len(family), ref[i].cidr);
		if (memcmp(m, ref[i].addr, addr_len(family)) == 0) {
			best = ref[i].peer;
			best_cidr = ref[i].cidr;
		}
	}
	return best;
}

/*
 * Random prefixes that nest and collide: the first bits come from a few
 * patterns, so many prefixes share long common paths, as real routes do.
 */
static void random_prefix(uint8_t family, uint8_t *addr, uint8_t *cidr)
{
	static const uint8_t hot[4][4] = {
		{10, 0, 0, 0}, {10, 1, 0, 0}, {192, 168, 1, 0}, {0x20, 0x01, 0x0d, 0xb8}};
	uint8_t len = addr_len(family);

	for (uint8_t i = 0; i < len; i++)
		addr[i] = (uint8_t)rng();
	if (rng_below(4) != 0)
		memcpy(addr, hot[rng_below(4)], 2 + rng_below(3));
	switch (rng_below(4)) {
	case 0:
		*cidr = (uint8_t)rng_below(max_cidr(family) + 1u);
		break;
	case 1:
		*cidr = max_cidr(family);
		break;
	default: /* mostly prefixes around the hot patterns' depth */
		*cidr = (uint8_t)(8 + rng_below(family == AF_INET ? 25 : 57));
		break;
	}
}

/* An address inside a random reference prefix, or anywhere. */
static void random_probe(uint8_t family, uint8_t *addr)
{
	uint8_t len = addr_len(family);

	for (uint8_t i = 0; i < len; i++)
		addr[i] = (uint8_t)rng();
	if (ref_n && rng_below(4) != 0) {
		const struct ref_prefix *p = &ref[rng_below((uint32_t)ref_n)];

		if (p->family == family) {
			for (uint8_t i = 0; i < len; i++) {
				int keep = (int)p->cidr - 8 * i;
				uint8_t m = keep <= 0	? 0
					    : keep >= 8 ? 0xff
							: (uint8_t)(0xff << (8 - keep));

				addr[i] = (uint8_t)((p->addr[i] & m) | (addr[i] & ~m));
			}
		}
	}
}

static void check_lookups(struct wg_allowedips *t, uint8_t family, unsigned int n)
{
	uint8_t a[16];

	for (unsigned int i = 0; i < n; i++) {
		random_probe(family, a);
		assert_ptr_equal(wg_allowedips_lookup(t, family, a), ref_lookup(family, a));
	}
}

static void check_shape(struct wg_allowedips *t)
{
	size_t prefixes = wg_allowedips_count(t, NULL);

	assert_int_equal(prefixes, ref_n);
	/* Branch points only where two subtrees meet: at most 2n - 1 nodes. */
	if (prefixes == 0)
		assert_int_equal(t->nodes, 0);
	else
		assert_true(t->nodes <= 2 * prefixes - 1);
}

static void random_against_reference(uint8_t family, uint64_t seed, unsigned int nprefix)
{
	struct wg_allowedips t;
	uint8_t a[16];
	uint8_t cidr;

	rng_seed(seed);
	ref_n = 0;
	wg_allowedips_init(&t);
	for (unsigned int i = 0; i < nprefix; i++) {
		void *peer = PEER(rng_below(64));

		random_prefix(family, a, &cidr);
		assert_int_equal(wg_allowedips_insert(&t, family, a, cidr, peer), 0);
		ref_insert(family, a, cidr, peer);
	}
	check_shape(&t);
	check_lookups(&t, family, 10000);

	/* Remove about half, a third of the attempts with the wrong peer. */
	for (unsigned int i = 0; i < nprefix / 2 && ref_n; i++) {
		struct ref_prefix p = ref[rng_below((uint32_t)ref_n)];
		void *peer = rng_below(3) == 0 ? PEER(rng_below(64)) : p.peer;
		int want = ref_remove(family, p.addr, p.cidr, peer);

		/* Scramble host bits: remove masks them like insert does. */
		memcpy(a, p.addr, 16);
		if (p.cidr < max_cidr(family))
			a[addr_len(family) - 1] |= 1;
		assert_int_equal(wg_allowedips_remove(&t, family, a, p.cidr, peer), want);
	}
	check_shape(&t);
	check_lookups(&t, family, 10000);

	for (unsigned int i = 0; i < 16; i++) {
		wg_allowedips_remove_by_peer(&t, PEER(i * 3));
		ref_remove_by_peer(PEER(i * 3));
	}
	check_shape(&t);
	check_lookups(&t, family, 10000);

	for (unsigned int i = 0; i < 64; i++) {
		wg_allowedips_remove_by_peer(&t, PEER(i));
		ref_remove_by_peer(PEER(i));
	}
	assert_int_equal(ref_n, 0);
	assert_int_equal(t.nodes, 0);
	assert_int_equal(t.root4, 0);
	assert_int_equal(t.root6, 0);
	assert_int_equal(t.cap, 0); /* an empty table gives its arena back */
	wg_allowedips_free(&t);
}

static void test_random_v4(void **state)
{
	(void)state;
	random_against_reference(AF_INET, 0x1234567, 5000);
	random_against_reference(AF_INET, 42, 300);
}

static void test_random_v6(void **state)
{
	(void)state;
	random_against_reference(AF_INET6, 0x7654321, 5000);
	random_against_reference(AF_INET6, 43, 300);
}

/*
 * One random operation on either family, mirrored in the reference: insert,
 * move a present prefix to another peer, remove (a quarter of the attempts
 * with a wrong peer), remove a peer's prefixes, or compare some lookups.
 */
static void random_op(struct wg_allowedips *t, void *(*pick)(void))
{
	uint8_t family = rng_below(2) ? AF_INET : AF_INET6;
	unsigned int kind = rng_below(100);
	uint8_t a[16], cidr;

	if (kind < 45) {
		void *peer = pick();

		random_prefix(family, a, &cidr);
		assert_int_equal(wg_allowedips_insert(t, family, a, cidr, peer), 0);
		ref_insert(family, a, cidr, peer);
	} else if (kind < 60 && ref_n) {
		struct ref_prefix p = ref[rng_below((uint32_t)ref_n)];
		void *peer = pick();

		assert_int_equal(wg_allowedips_insert(t, p.family, p.addr, p.cidr, peer), 0);
		ref_insert(p.family, p.addr, p.cidr, peer);
	} else if (kind < 90 && ref_n) {
		struct ref_prefix p = ref[rng_below((uint32_t)ref_n)];
		void *peer = rng_below(4) == 0 ? pick() : p.peer;
		int want = ref_remove(p.family, p.addr, p.cidr, peer);

		assert_int_equal(wg_allowedips_remove(t, p.family, p.addr, p.cidr, peer), want);
	} else if (kind < 92) {
		void *peer = pick();

		wg_allowedips_remove_by_peer(t, peer);
		ref_remove_by_peer(peer);
		assert_int_equal(wg_allowedips_count(t, peer), 0);
	} else {
		check_lookups(t, family, 5);
	}
}

static void *pick_of_8(void)
{
	return PEER(rng_below(8));
}

/* All operations interleaved on both families at once, few peers. */
static void test_random_mixed_ops(void **state)
{
	struct wg_allowedips t;
	uint8_t a[16] = {0};

	(void)state;
	rng_seed(0xfeedface);
	ref_n = 0;
	wg_allowedips_init(&t);
	for (unsigned int op = 0; op < 6000; op++) {
		random_op(&t, pick_of_8);
		if (op % 500 == 0)
			check_shape(&t);
	}
	check_shape(&t);
	check_lookups(&t, AF_INET, 5000);
	check_lookups(&t, AF_INET6, 5000);
	wg_allowedips_free(&t);
	assert_int_equal(t.nodes, 0);
	assert_null(wg_allowedips_lookup(&t, AF_INET, a));
}

static void test_edge_cidrs(void **state)
{
	struct wg_allowedips t;
	uint8_t a[4], b[4], z6[16] = {0}, x6[16], y6[16];

	(void)state;
	wg_allowedips_init(&t);
	parse4(a, 10, 0, 0, 1);
	parse4(b, 203, 0, 113, 9);

	/* v4 default route catches everything v4, nothing v6. */
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, b, 0, PEER(1)), 0);
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, a), PEER(1));
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, b), PEER(1));
	assert_null(wg_allowedips_lookup(&t, AF_INET6, z6));

	/* A host route wins over the default route, only for that host. */
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, a, 32, PEER(2)), 0);
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, a), PEER(2));
	a[3] = 2;
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, a), PEER(1));
	a[3] = 0;
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, a), PEER(1));

	memset(x6, 0xff, 16);
	memset(y6, 0, 16);
	y6[15] = 1;
	assert_int_equal(wg_allowedips_insert(&t, AF_INET6, x6, 0, PEER(3)), 0);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET6, x6, 128, PEER(4)), 0);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET6, y6, 128, PEER(5)), 0);
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET6, x6), PEER(4));
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET6, y6), PEER(5));
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET6, z6), PEER(3));
	x6[15] = 0xfe;
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET6, x6), PEER(3));
	x6[15] = 0xff;

	/* Removing the default routes leaves the host routes alone. */
	assert_int_equal(wg_allowedips_remove(&t, AF_INET6, z6, 0, PEER(3)), 0);
	assert_null(wg_allowedips_lookup(&t, AF_INET6, z6));
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET6, x6), PEER(4));
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, a, 0, PEER(1)), 0);
	assert_null(wg_allowedips_lookup(&t, AF_INET, a));
	a[3] = 1;
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, a), PEER(2));
	assert_int_equal(wg_allowedips_count(&t, NULL), 3);
	wg_allowedips_free(&t);
	assert_int_equal(t.nodes, 0);
}

static void test_invalid(void **state)
{
	struct wg_allowedips t;
	uint8_t a[16] = {10};

	(void)state;
	wg_allowedips_init(&t);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, a, 33, PEER(1)), -EINVAL);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET6, a, 129, PEER(1)), -EINVAL);
	assert_int_equal(wg_allowedips_insert(&t, AF_UNSPEC, a, 8, PEER(1)), -EINVAL);
	assert_int_equal(wg_allowedips_insert(&t, 99, a, 8, PEER(1)), -EINVAL);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, a, 8, NULL), -EINVAL);
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, a, 33, PEER(1)), -EINVAL);
	assert_int_equal(wg_allowedips_remove(&t, AF_UNSPEC, a, 8, PEER(1)), -EINVAL);
	assert_null(wg_allowedips_lookup(&t, AF_UNSPEC, a));
	assert_int_equal(t.nodes, 0);

	/* Lookups and removals on an empty table. */
	assert_null(wg_allowedips_lookup(&t, AF_INET, a));
	assert_null(wg_allowedips_lookup(&t, AF_INET6, a));
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, a, 8, PEER(1)), -ENOENT);
	wg_allowedips_remove_by_peer(&t, PEER(1));
	wg_allowedips_free(&t);
}

static void test_mask_host_bits(void **state)
{
	struct wg_allowedips t;
	uint8_t a[4], b[4];

	(void)state;
	wg_allowedips_init(&t);
	parse4(a, 10, 1, 2, 3);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, a, 8, PEER(1)), 0);
	/* Same prefix written with other host bits is the same entry. */
	parse4(b, 10, 200, 0, 0);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, b, 8, PEER(2)), 0);
	assert_int_equal(wg_allowedips_count(&t, NULL), 1);
	parse4(b, 10, 255, 255, 255);
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, b), PEER(2));
	parse4(b, 11, 0, 0, 0);
	assert_null(wg_allowedips_lookup(&t, AF_INET, b));
	/* Remove accepts any host bits too. */
	parse4(b, 10, 9, 9, 9);
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, b, 8, PEER(1)), -ENOENT);
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, b, 8, PEER(2)), 0);
	assert_int_equal(t.nodes, 0);
	wg_allowedips_free(&t);
}

static void test_replace_and_remove(void **state)
{
	struct wg_allowedips t;
	uint8_t a[4], b[4], c[4];

	(void)state;
	wg_allowedips_init(&t);
	parse4(a, 192, 168, 0, 0);
	parse4(b, 192, 168, 4, 0);
	parse4(c, 192, 168, 4, 77);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, a, 16, PEER(1)), 0);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, b, 24, PEER(2)), 0);
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, c), PEER(2));

	/* Moving the /24 to peer 3 takes it away from peer 2 entirely. */
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, b, 24, PEER(3)), 0);
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, c), PEER(3));
	assert_int_equal(wg_allowedips_count(&t, PEER(2)), 0);
	assert_int_equal(wg_allowedips_count(&t, PEER(3)), 1);
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, b, 24, PEER(2)), -ENOENT);
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, b, 23, PEER(3)), -ENOENT);
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, b, 25, PEER(3)), -ENOENT);

	/* Removing the /24 falls back to the /16. */
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, b, 24, PEER(3)), 0);
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, c), PEER(1));
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, b, 24, PEER(3)), -ENOENT);
	assert_int_equal(t.nodes, 1);

	/* Removing the covering /16 keeps two more-specific routes reachable. */
	parse4(c, 192, 168, 128, 0);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, b, 24, PEER(2)), 0);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, c, 17, PEER(4)), 0);
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, a, 16, PEER(1)), 0);
	assert_int_equal(t.nodes, 3); /* two routes and the branch point joining them */
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, b), PEER(2));
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, c), PEER(4));
	assert_null(wg_allowedips_lookup(&t, AF_INET, a));
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, c, 17, PEER(4)), 0);
	assert_int_equal(t.nodes, 1);
	assert_int_equal(wg_allowedips_remove(&t, AF_INET, b, 24, PEER(2)), 0);
	assert_int_equal(t.nodes, 0);
	wg_allowedips_free(&t);
}

static void test_remove_by_peer(void **state)
{
	struct wg_allowedips t;
	uint8_t a[16] = {0};

	(void)state;
	wg_allowedips_init(&t);
	for (unsigned int i = 0; i < 200; i++) {
		a[0] = 10;
		a[1] = (uint8_t)i;
		assert_int_equal(
			wg_allowedips_insert(&t, AF_INET, a, 16 + (uint8_t)(i % 17), PEER(i % 3)),
			0);
		a[0] = 0xfd;
		assert_int_equal(wg_allowedips_insert(&t, AF_INET6, a, 48, PEER(i % 3)), 0);
	}
	size_t before = t.nodes;

	wg_allowedips_remove_by_peer(&t, PEER(1));
	assert_int_equal(wg_allowedips_count(&t, PEER(1)), 0);
	assert_int_equal(wg_allowedips_count(&t, PEER(0)), 2 * 67);
	assert_int_equal(wg_allowedips_count(&t, PEER(2)), 2 * 66);
	assert_true(t.nodes < before);
	a[0] = 10;
	a[1] = 1;
	assert_null(wg_allowedips_lookup(&t, AF_INET, a));
	a[1] = 3;
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET, a), PEER(0));
	wg_allowedips_remove_by_peer(&t, PEER(0));
	wg_allowedips_remove_by_peer(&t, PEER(2));
	assert_int_equal(t.nodes, 0);
	wg_allowedips_free(&t);
}

struct collected {
	unsigned int n;
	uint8_t family[8];
	uint8_t addr[8][16];
	uint8_t cidr[8];
};

static void collect(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr)
{
	struct collected *c = ctx;

	assert_true(c->n < 8);
	c->family[c->n] = family;
	memset(c->addr[c->n], 0, 16);
	memcpy(c->addr[c->n], addr, addr_len(family));
	c->cidr[c->n] = cidr;
	c->n++;
}

static void test_foreach(void **state)
{
	struct wg_allowedips t;
	struct collected c = {0};
	uint8_t a[16] = {0};
	static const uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};

	(void)state;
	wg_allowedips_init(&t);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET6, v6, 128, PEER(1)), 0);
	parse4(a, 10, 9, 8, 7);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, a, 24, PEER(1)), 0);
	parse4(a, 10, 9, 0, 0);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, a, 16, PEER(2)), 0);
	parse4(a, 1, 2, 3, 4);
	assert_int_equal(wg_allowedips_insert(&t, AF_INET, a, 32, PEER(1)), 0);

	wg_allowedips_foreach(&t, PEER(1), collect, &c);
	assert_int_equal(c.n, 3);
	/* IPv4 first, in address order, host bits masked. */
	assert_int_equal(c.family[0], AF_INET);
	assert_int_equal(c.cidr[0], 32);
	assert_memory_equal(c.addr[0], ((uint8_t[4]){1, 2, 3, 4}), 4);
	assert_int_equal(c.family[1], AF_INET);
	assert_int_equal(c.cidr[1], 24);
	assert_memory_equal(c.addr[1], ((uint8_t[4]){10, 9, 8, 0}), 4);
	assert_int_equal(c.family[2], AF_INET6);
	assert_int_equal(c.cidr[2], 128);
	assert_memory_equal(c.addr[2], v6, 16);

	memset(&c, 0, sizeof(c));
	wg_allowedips_foreach(&t, PEER(2), collect, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.cidr[0], 16);
	memset(&c, 0, sizeof(c));
	wg_allowedips_foreach(&t, PEER(9), collect, &c);
	assert_int_equal(c.n, 0);
	wg_allowedips_free(&t);
}

/* ---- per-peer lists against the reference, with many peers ---- */

#define MANY 3000
static int many[MANY];

static int ref_order(const void *pa, const void *pb)
{
	const struct ref_prefix *a = pa, *b = pb;
	int c;

	if (a->peer != b->peer)
		return (uintptr_t)a->peer < (uintptr_t)b->peer ? -1 : 1;
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	c = memcmp(a->addr, b->addr, addr_len(a->family));
	if (c)
		return c;
	return (a->cidr > b->cidr) - (a->cidr < b->cidr);
}

static struct ref_prefix listed[REF_MAX];
static size_t listed_n;

static void list_into(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr)
{
	assert_true(listed_n < REF_MAX);
	memset(&listed[listed_n], 0, sizeof(listed[0]));
	listed[listed_n].family = family;
	memcpy(listed[listed_n].addr, addr, addr_len(family));
	listed[listed_n].cidr = cidr;
	listed[listed_n].peer = ctx;
	listed_n++;
}

/*
 * Every peer lists and counts exactly its reference prefixes, in the
 * documented order: the reference sorted by peer, then family, address, length.
 */
static void check_every_peer(const struct wg_allowedips *t)
{
	static struct ref_prefix want[REF_MAX];
	size_t w = 0;

	memcpy(want, ref, ref_n * sizeof(ref[0]));
	qsort(want, ref_n, sizeof(want[0]), ref_order);
	assert_int_equal(wg_allowedips_count(t, NULL), ref_n);
	for (unsigned int p = 0; p < MANY; p++) {
		void *peer = &many[p];
		size_t first = w;

		while (w < ref_n && want[w].peer == peer)
			w++;
		/* Peers are sorted by address in want: many[] is one array, in order. */
		assert_int_equal(wg_allowedips_count(t, peer), w - first);
		listed_n = 0;
		wg_allowedips_foreach(t, peer, list_into, peer);
		assert_int_equal(listed_n, w - first);
		for (size_t j = 0; j < listed_n; j++)
			assert_int_equal(ref_order(&listed[j], &want[first + j]), 0);
	}
	assert_int_equal(w, ref_n);
}

/* A few peers own many prefixes (more than foreach sorts on its stack). */
static void *random_owner(void)
{
	return &many[rng_below(4) == 0 ? rng_below(4) : rng_below(MANY)];
}

static void test_per_peer_lists(void **state)
{
	struct wg_allowedips t;

	(void)state;
	rng_seed(0x5eed0001);
	ref_n = 0;
	wg_allowedips_init(&t);
	for (unsigned int op = 0; op < 40000; op++) {
		random_op(&t, random_owner);
		if (op % 4000 == 0)
			check_every_peer(&t);
	}
	check_every_peer(&t);
	check_shape(&t);
	check_lookups(&t, AF_INET, 3000);
	check_lookups(&t, AF_INET6, 3000);
	assert_true(t.owners > 100);

	/* Peers leave one by one, as a device's peers are removed. */
	for (unsigned int p = 0; p < MANY; p++) {
		wg_allowedips_remove_by_peer(&t, &many[p]);
		ref_remove_by_peer(&many[p]);
		if (p % 500 == 0) {
			check_every_peer(&t);
			check_shape(&t);
		}
	}
	assert_int_equal(ref_n, 0);
	assert_int_equal(t.nodes, 0);
	assert_int_equal(t.owners, 0);
	assert_int_equal(t.owner_cap, 0); /* the empty table gave the map back too */
	wg_allowedips_free(&t);
}

/* The net tests' large device: every peer one /32 and one /128. */
static void test_many_peers_host_routes(void **state)
{
	struct wg_allowedips t;

	(void)state;
	ref_n = 0;
	wg_allowedips_init(&t);
	for (unsigned int i = 0; i < MANY; i++) {
		uint8_t a4[4] = {10, 100, (uint8_t)(i >> 8), (uint8_t)i};
		uint8_t a6[16] = {0xfd, 0x99, [14] = (uint8_t)(i >> 8), [15] = (uint8_t)i};

		assert_int_equal(wg_allowedips_insert(&t, AF_INET6, a6, 128, &many[i]), 0);
		assert_int_equal(wg_allowedips_insert(&t, AF_INET, a4, 32, &many[i]), 0);
		ref_insert(AF_INET6, a6, 128, &many[i]);
		ref_insert(AF_INET, a4, 32, &many[i]);
	}
	assert_int_equal(t.owners, MANY);
	check_every_peer(&t);
	/* Every other peer leaves: the map deletes from the middle of probe runs. */
	for (unsigned int i = 0; i < MANY; i += 2) {
		wg_allowedips_remove_by_peer(&t, &many[i]);
		ref_remove_by_peer(&many[i]);
	}
	assert_int_equal(t.owners, MANY / 2);
	check_every_peer(&t);
	check_lookups(&t, AF_INET, 2000);
	check_lookups(&t, AF_INET6, 2000);
	wg_allowedips_free(&t);
	assert_int_equal(t.owners, 0);
}

/* The longest possible path: one prefix per length 0..128, all nested. */
static void test_deep_chain(void **state)
{
	struct wg_allowedips t;
	uint8_t a[16];

	(void)state;
	memset(a, 0xa5, 16);
	wg_allowedips_init(&t);
	for (unsigned int c = 0; c <= 128; c++)
		assert_int_equal(wg_allowedips_insert(&t, AF_INET6, a, (uint8_t)c, PEER(c % 64)),
				 0);
	assert_int_equal(t.nodes, 129);
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET6, a), PEER(128 % 64));
	a[15] ^= 1;
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET6, a), PEER(127 % 64));
	a[0] ^= 0x80;
	assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET6, a), PEER(0));
	a[0] ^= 0x80;
	a[15] ^= 1;
	wg_allowedips_remove_by_peer(&t, PEER(0));
	assert_int_equal(wg_allowedips_count(&t, NULL), 129 - 3); /* 0, 64, 128 */
	wg_allowedips_free(&t);
	assert_int_equal(t.nodes, 0);
}

/* Churn with a bounded live set: freed nodes are reused, memory follows the peak. */
static void test_memory_bounded_under_churn(void **state)
{
	enum { LIVE = 300 };
	struct wg_allowedips t;
	uint8_t live[LIVE][16];
	uint8_t cidr[LIVE];

	(void)state;
	rng_seed(77);
	wg_allowedips_init(&t);
	for (unsigned int i = 0; i < LIVE; i++) {
		random_prefix(AF_INET6, live[i], &cidr[i]);
		/* Distinct prefixes: the index in the last bytes, cidr 128. */
		cidr[i] = 128;
		live[i][14] = (uint8_t)(i >> 8);
		live[i][15] = (uint8_t)i;
		assert_int_equal(wg_allowedips_insert(&t, AF_INET6, live[i], 128, PEER(1)), 0);
	}
	for (unsigned int op = 0; op < 20000; op++) {
		unsigned int j = rng_below(LIVE);

		assert_int_equal(wg_allowedips_remove(&t, AF_INET6, live[j], cidr[j], PEER(1)), 0);
		random_prefix(AF_INET6, live[j], &cidr[j]);
		cidr[j] = 128;
		live[j][14] = (uint8_t)(j >> 8);
		live[j][15] = (uint8_t)j;
		assert_int_equal(wg_allowedips_insert(&t, AF_INET6, live[j], 128, PEER(1)), 0);
		assert_ptr_equal(wg_allowedips_lookup(&t, AF_INET6, live[j]), PEER(1));
		assert_true(t.nodes <= 2 * LIVE - 1);
	}
	assert_int_equal(wg_allowedips_count(&t, NULL), LIVE);
	/* Peak 2 * LIVE - 1 nodes plus slot 0 and the two reserved by an insert. */
	assert_true(t.cap <= 1024);
	wg_allowedips_free(&t);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_edge_cidrs),
		cmocka_unit_test(test_mask_host_bits),
		cmocka_unit_test(test_replace_and_remove),
		cmocka_unit_test(test_remove_by_peer),
		cmocka_unit_test(test_foreach),
		cmocka_unit_test(test_deep_chain),
		cmocka_unit_test(test_random_v4),
		cmocka_unit_test(test_random_v6),
		cmocka_unit_test(test_random_mixed_ops),
		cmocka_unit_test(test_memory_bounded_under_churn),
		cmocka_unit_test(test_per_peer_lists),
		cmocka_unit_test(test_many_peers_host_routes),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
