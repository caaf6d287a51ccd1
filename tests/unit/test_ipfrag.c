/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/byteorder.h"
#include "core/csum.h"
#include "core/pkt.h"
#include "vxlan/ipfrag.h"

#define SEC  1000000000ull
#define MAXF 64

struct fixture {
	struct pkt_pool pool;
	struct ipfrag f;
};

static uint32_t rng_state = 0x12345678;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static int setup_with(void **state, const struct ipfrag_config *cfg, uint32_t bufsize)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || !pkt_pool_init(&fx->pool, 512, bufsize) || !ipfrag_init(&fx->f, cfg))
		return -1;
	*state = fx;
	return 0;
}

static int setup(void **state)
{
	struct ipfrag_config cfg = {.hash_seed = 7};

	return setup_with(state, &cfg, PKT_DEFAULT_SIZE);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	/* Reassembly keeps copies, never the caller's buffers: all of them come back. */
	assert_int_equal(fx->pool.nfree, fx->pool.count);
	assert_true(ipfrag_mem_used(&fx->f) <= fx->f.cfg.mem_max);
	ipfrag_destroy(&fx->f);
	pkt_pool_destroy(&fx->pool);
	free(fx);
	return 0;
}

/* An IPv4 UDP packet of tot bytes with a random payload and header options of optlen bytes. */
static void fill_ip(uint8_t *ip, uint32_t tot, uint16_t id, uint32_t src, const uint8_t *opts,
		    uint32_t optlen)
{
	uint32_t ihl = 20 + optlen;

	for (uint32_t i = ihl; i < tot; i++)
		ip[i] = (uint8_t)(rnd() >> 11);
	memset(ip, 0, 20);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	put_be16(ip + 2, (uint16_t)tot);
	put_be16(ip + 4, id);
	ip[8] = 64;
	ip[9] = 17;
	put_be32(ip + 12, src);
	put_be32(ip + 16, 0x0a000001);
	if (optlen)
		memcpy(ip + 20, opts, optlen);
	put_be16(ip + 10, csum_ipv4_header(ip, ihl));
}

static struct pkt *make_ip(struct fixture *fx, uint32_t tot, uint16_t id, uint32_t src,
			   const uint8_t *opts, uint32_t optlen)
{
	struct pkt *p = pkt_alloc(&fx->pool);

	assert_non_null(p);
	assert_non_null(pkt_put(p, tot));
	fill_ip(p->data, tot, id, src, opts, optlen);
	return p;
}

static struct pkt *clone(struct fixture *fx, const struct pkt *p)
{
	struct pkt *q = pkt_alloc(&fx->pool);

	assert_non_null(q);
	memcpy(pkt_put(q, p->len), p->data, p->len);
	q->port = p->port;
	return q;
}

/* Fragments a copy of p at mtu; returns the number of fragments in frags. */
static uint32_t fragment_at(struct fixture *fx, const struct pkt *p, uint32_t mtu,
			    struct pkt **frags)
{
	struct pkt_vec out;
	uint32_t saved = fx->f.cfg.mtu;
	int n;

	pkt_vec_init(&out);
	fx->f.cfg.mtu = mtu;
	n = ipfrag_fragment(&fx->f, clone(fx, p), &fx->pool, &out);
	fx->f.cfg.mtu = saved;
	assert_true(n > 0);
	assert_int_equal(out.n, n);
	memcpy(frags, out.p, out.n * sizeof(*frags));
	return out.n;
}

/* Feeds frags in the order given (indices), expecting completion at the last one only. */
static void feed_expect_whole(struct fixture *fx, struct pkt **frags, const uint32_t *order,
			      uint32_t n, const struct pkt *orig, uint64_t now)
{
	struct pkt *got = NULL;

	for (uint32_t k = 0; k < n; k++) {
		struct pkt *r = ipfrag_reassemble(&fx->f, clone(fx, frags[order[k]]), now);

		if (k + 1 < n) {
			assert_null(r);
		} else {
			got = r;
		}
	}
	assert_non_null(got);
	assert_int_equal(got->len, orig->len);
	assert_memory_equal(got->data, orig->data, orig->len);
	pkt_free(got);
}

static void free_all(struct pkt **v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		pkt_free(v[i]);
}

static void check_fragment(const struct pkt *q, const struct pkt *orig, uint32_t off, uint32_t len,
			   bool mf)
{
	const uint8_t *ip = q->data;
	uint32_t ihl = (ip[0] & 15u) * 4;

	assert_int_equal(q->len, ihl + len);
	assert_int_equal(get_be16(ip + 2), ihl + len);
	assert_int_equal(get_be16(ip + 4), get_be16(orig->data + 4));
	assert_int_equal(get_be16(ip + 6), off / 8 | (mf ? 0x2000 : 0));
	assert_int_equal(csum_ipv4_header(ip, ihl), 0);
	assert_memory_equal(ip + 12, orig->data + 12, 8);
	assert_memory_equal(ip + ihl, orig->data + ihl + off, len);
}

/* A full frame's 1550-byte outer packet at 1420: 1420 + 150, offsets in 8-byte units. */
static void test_fragment_layout(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig = make_ip(fx, 1550, 0x1234, 0x0a000004, NULL, 0), *fr[MAXF];
	uint32_t n = fragment_at(fx, orig, 1420, fr);

	assert_int_equal(n, 2);
	check_fragment(fr[0], orig, 0, 1400, true);
	check_fragment(fr[1], orig, 1400, 130, false);
	free_all(fr, n);

	/* An MTU that is not 20 + a multiple of 8: the data per fragment rounds down. */
	n = fragment_at(fx, orig, 600, fr);
	assert_int_equal(n, 3);
	check_fragment(fr[0], orig, 0, 576, true);
	check_fragment(fr[1], orig, 576, 576, true);
	check_fragment(fr[2], orig, 1152, 378, false);
	free_all(fr, n);
	assert_int_equal(fx->f.stats.fragmented, 2);
	assert_int_equal(fx->f.stats.fragments_out, 5);
	pkt_free(orig);
}

static void test_fragment_passes_and_drops(void **state)
{
	struct fixture *fx = *state;
	struct pkt_vec out;
	struct pkt *p;

	pkt_vec_init(&out);
	/* Fits: goes out as it is. */
	p = make_ip(fx, 1420, 1, 1, NULL, 0);
	assert_int_equal(ipfrag_fragment(&fx->f, p, &fx->pool, &out), 1);
	assert_ptr_equal(out.p[0], p);
	assert_int_equal(p->len, 1420);
	pkt_vec_free(&out);
	/* DF set: dropped and counted. */
	p = make_ip(fx, 1500, 1, 1, NULL, 0);
	put_be16(p->data + 6, 0x4000);
	assert_int_equal(ipfrag_fragment(&fx->f, p, &fx->pool, &out), 0);
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_DF], 1);
	/* Total length beyond the buffer. */
	p = make_ip(fx, 1500, 1, 1, NULL, 0);
	p->len = 1450;
	assert_int_equal(ipfrag_fragment(&fx->f, p, &fx->pool, &out), 0);
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_MALFORMED], 1);
	/* No room in out: untouched, the caller flushes and retries. */
	for (int i = 0; i < PKT_VEC_MAX - 1; i++)
		out.p[out.n++] = NULL;
	p = make_ip(fx, 1500, 1, 1, NULL, 0);
	assert_int_equal(ipfrag_fragment(&fx->f, p, &fx->pool, &out), -1);
	assert_int_equal(p->len, 1500);
	out.n = 0;
	/* Pool dry: dropped, nothing leaks. */
	{
		struct pkt *hold[512];
		uint32_t nh = 0;

		while ((hold[nh] = pkt_alloc(&fx->pool)))
			nh++;
		assert_int_equal(ipfrag_fragment(&fx->f, p, &fx->pool, &out), 0);
		assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_NOMEM], 1);
		free_all(hold, nh);
	}
	/* An MTU with no room for 8 bytes of data. */
	fx->f.cfg.mtu = 27;
	p = make_ip(fx, 100, 1, 1, NULL, 0);
	assert_int_equal(ipfrag_fragment(&fx->f, p, &fx->pool, &out), 0);
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_MTU], 1);
	assert_int_equal(out.n, 0);
}

/* Options: the copied ones go into every fragment, the others only into the first. */
static void test_fragment_options(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t opts[8] = {0x94, 4, 0, 0,
					0x07, 3, 4, 0}; /* router alert, record route */
	struct pkt *orig = make_ip(fx, 1000, 9, 3, opts, 8), *fr[MAXF];
	uint32_t n = fragment_at(fx, orig, 500, fr), order[MAXF] = {0};

	assert_int_equal(n, 3);
	check_fragment(fr[0], orig, 0, 472, true);
	assert_memory_equal(fr[0]->data + 20, opts, 8);
	for (uint32_t i = 1; i < n; i++)
		assert_memory_equal(fr[i]->data + 20, "\x94\x04\x00\x00\x01\x01\x01\x00", 8);
	for (uint32_t i = 0; i < n; i++)
		order[i] = n - 1 - i;
	/* The reassembled header is the first fragment's, with the options it had. */
	feed_expect_whole(fx, fr, order, n, orig, 0);
	free_all(fr, n);
	pkt_free(orig);
}

/* Splitting a fragment again keeps its offset, and its MF on the last piece. */
static void test_refragment(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig = make_ip(fx, 1550, 5, 3, NULL, 0), *fr[MAXF], *sub[MAXF], *all[MAXF];
	uint32_t n = fragment_at(fx, orig, 1420, fr), m, k = 0, order[MAXF] = {0};

	assert_int_equal(n, 2);
	m = fragment_at(fx, fr[0], 600, sub);
	assert_int_equal(m, 3);
	assert_int_equal(get_be16(sub[2]->data + 6), 0x2000 | 1152 / 8);
	for (uint32_t i = 0; i < m; i++)
		all[k++] = sub[i];
	all[k++] = fr[1];
	for (uint32_t i = 0; i < k; i++)
		order[i] = (i * 3) % k;
	feed_expect_whole(fx, all, order, k, orig, 0);
	free_all(all, k);
	pkt_free(fr[0]);
	pkt_free(orig);
}

static void permute(struct fixture *fx, struct pkt **fr, uint32_t n, const struct pkt *orig,
		    uint32_t *order, uint32_t k, uint32_t *count)
{
	if (k == n) {
		feed_expect_whole(fx, fr, order, n, orig, 0);
		(*count)++;
		return;
	}
	for (uint32_t i = k; i < n; i++) {
		uint32_t t = order[k];

		order[k] = order[i];
		order[i] = t;
		permute(fx, fr, n, orig, order, k + 1, count);
		order[i] = order[k];
		order[k] = t;
	}
}

/* Every arrival order of two and three fragments. */
static void test_all_orders(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig = make_ip(fx, 1550, 77, 4, NULL, 0), *fr[MAXF];
	uint32_t order[MAXF] = {0, 1, 2}, count = 0, n;

	n = fragment_at(fx, orig, 1420, fr);
	permute(fx, fr, n, orig, order, 0, &count);
	free_all(fr, n);
	assert_int_equal(count, 2);
	n = fragment_at(fx, orig, 600, fr);
	count = 0;
	permute(fx, fr, n, orig, order, 0, &count);
	free_all(fr, n);
	assert_int_equal(count, 6);
	assert_int_equal(fx->f.stats.reassembled, 8);
	assert_int_equal(ipfrag_pending(&fx->f), 0);
	assert_int_equal(ipfrag_mem_used(&fx->f), 0);
	pkt_free(orig);
}

static void shuffle(uint32_t *v, uint32_t n)
{
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = rnd() % (i + 1), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

/* Many fragments in random orders, with exact duplicates sprinkled in. */
static void test_shuffles_with_duplicates(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig, *fr[MAXF];
	uint32_t order[2 * MAXF], n, dups = 0, whole = 0;

	for (int round = 0; round < 300; round++) {
		uint32_t mtu = 60 + rnd() % 400, len = 200 + rnd() % 1800, k, seen[MAXF] = {0},
			 left;
		struct pkt *got = NULL;

		orig = make_ip(fx, len, (uint16_t)round, 0x0a000004, NULL, 0);
		if ((len - 20 + ((mtu - 20) & ~7u) - 1) / ((mtu - 20) & ~7u) > MAXF)
			mtu = 200;
		n = fragment_at(fx, orig, mtu, fr);
		whole += n == 1; /* fits: passes through, no reassembly */
		for (k = 0; k < n; k++)
			order[k] = k;
		for (uint32_t d = rnd() % 4; d > 0; d--)
			order[k++] = rnd() % n;
		shuffle(order, k);
		left = n;
		for (uint32_t i = 0; i < k && left; i++) {
			struct pkt *r = ipfrag_reassemble(&fx->f, clone(fx, fr[order[i]]), 0);

			if (seen[order[i]]++)
				dups++;
			else
				left--;
			if (left) {
				assert_null(r);
			} else {
				got = r;
			}
		}
		assert_non_null(got);
		assert_int_equal(got->len, len);
		assert_memory_equal(got->data, orig->data, len);
		pkt_free(got);
		free_all(fr, n);
		pkt_free(orig);
		assert_int_equal(ipfrag_pending(&fx->f), 0);
	}
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_DUPLICATE], dups);
	assert_int_equal(fx->f.stats.reassembled, 300 - whole);
	assert_int_equal(fx->f.stats.passed, 2 * whole); /* once by each direction */
	assert_true(whole < 30);
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_OVERLAP], 0);
}

/* A fragment made by hand: data bytes [off, off+len) of orig, MF as given. */
static struct pkt *make_piece(struct fixture *fx, const struct pkt *orig, uint32_t off,
			      uint32_t len, bool mf)
{
	struct pkt *q = pkt_alloc(&fx->pool);
	uint8_t *ip = pkt_put(q, 20 + len);

	memcpy(ip, orig->data, 20);
	memcpy(ip + 20, orig->data + 20 + off, len);
	put_be16(ip + 2, (uint16_t)(20 + len));
	put_be16(ip + 6, (uint16_t)(off / 8 | (mf ? 0x2000 : 0)));
	put_be16(ip + 10, 0);
	put_be16(ip + 10, csum_ipv4_header(ip, 20));
	return q;
}

static void test_overlaps(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig = make_ip(fx, 420, 3, 9, NULL, 0), *r;

	/* Partial overlap. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 0, 160, true), 0));
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 80, 160, true), 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_OVERLAP], 1);
	assert_int_equal(ipfrag_pending(&fx->f), 0);
	/* The rest then starts a datagram that never completes. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 160, 240, false), 0));
	assert_int_equal(ipfrag_pending(&fx->f), 1);
	ipfrag_expire(&fx->f, 31 * SEC);

	/* Same bytes covered by a fragment that is not one held: an overlap, not a duplicate. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 0, 80, true), 0));
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 80, 80, true), 0));
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 0, 160, true), 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_OVERLAP], 2);
	/* A piece inside one held fragment. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 0, 160, true), 0));
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 40, 40, true), 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_OVERLAP], 3);
	/* The last fragment overlapping the tail of a held one. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 0, 160, true), 0));
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 152, 248, false), 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_OVERLAP], 4);
	/* Adjacent pieces are fine. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 0, 160, true), 0));
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 240, 160, false), 0));
	r = ipfrag_reassemble(&fx->f, make_piece(fx, orig, 160, 80, true), 0);
	assert_non_null(r);
	assert_memory_equal(r->data, orig->data, 420);
	pkt_free(r);
	assert_int_equal(ipfrag_pending(&fx->f), 0);
	pkt_free(orig);
}

static void test_inconsistent(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig = make_ip(fx, 420, 3, 9, NULL, 0), *q;

	/* Two different ends. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 160, 240, false), 0));
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 80, 80, false), 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_INCONSISTENT], 1);
	/* Data past the known end. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 160, 240, false), 0));
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 400, 8, true), 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_INCONSISTENT], 2);
	/* An end before data already held. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 160, 80, true), 0));
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 80, 60, false), 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_INCONSISTENT], 3);
	/* A "duplicate" with other bytes. */
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 0, 160, true), 0));
	q = make_piece(fx, orig, 0, 160, true);
	q->data[100] ^= 0x55;
	assert_null(ipfrag_reassemble(&fx->f, q, 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_INCONSISTENT], 4);
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_DUPLICATE], 0);
	assert_int_equal(ipfrag_pending(&fx->f), 0);
	pkt_free(orig);
}

static void test_bad_fragments(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig = make_ip(fx, 420, 3, 9, NULL, 0), *q;

	q = make_piece(fx, orig, 0, 160, true);
	q->data[8]--; /* checksum no longer matches */
	assert_null(ipfrag_reassemble(&fx->f, q, 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_MALFORMED], 1);
	q = make_piece(fx, orig, 0, 100, true);
	assert_null(ipfrag_reassemble(&fx->f, q, 0));
	q = make_piece(fx, orig, 80, 0, false);
	assert_null(ipfrag_reassemble(&fx->f, q, 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_FRAG_LENGTH], 2);
	q = make_piece(fx, orig, 0, 160, true);
	q->len = 100;
	assert_null(ipfrag_reassemble(&fx->f, q, 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_MALFORMED], 2);
	assert_int_equal(ipfrag_pending(&fx->f), 0);
	pkt_free(orig);
}

/* Whole packets, and whatever is not IPv4, pass through as they are. */
static void test_passthrough(void **state)
{
	struct fixture *fx = *state;
	struct pkt *p = make_ip(fx, 1000, 1, 1, NULL, 0), *r;
	uint8_t copy[1000];

	put_be16(p->data + 6, 0x4000);
	memcpy(copy, p->data, 1000);
	r = ipfrag_reassemble(&fx->f, p, 0);
	assert_ptr_equal(r, p);
	assert_memory_equal(p->data, copy, 1000);
	p->data[0] = 0x60;
	assert_ptr_equal(ipfrag_reassemble(&fx->f, p, 0), p);
	p->len = 3;
	assert_ptr_equal(ipfrag_reassemble(&fx->f, p, 0), p);
	assert_int_equal(fx->f.stats.passed, 3);
	pkt_free(p);
}

/* A gap stays pending until the 30 s timeout of the virtual clock, and not a moment more. */
static void test_gap_and_timeout(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig = make_ip(fx, 1550, 11, 4, NULL, 0), *fr[MAXF], *r;
	uint32_t n = fragment_at(fx, orig, 600, fr);
	uint64_t t0 = 1000 * SEC;

	assert_null(ipfrag_reassemble(&fx->f, clone(fx, fr[0]), t0));
	assert_null(ipfrag_reassemble(&fx->f, clone(fx, fr[2]), t0 + SEC));
	ipfrag_expire(&fx->f, t0 + 30 * SEC - 1);
	assert_int_equal(ipfrag_pending(&fx->f), 1);
	/* Completed just in time. */
	r = ipfrag_reassemble(&fx->f, clone(fx, fr[1]), t0 + 30 * SEC - 1);
	assert_non_null(r);
	assert_memory_equal(r->data, orig->data, 1550);
	pkt_free(r);

	/* Once more, too late: the timeout counts from the first fragment. */
	assert_null(ipfrag_reassemble(&fx->f, clone(fx, fr[0]), t0));
	assert_null(ipfrag_reassemble(&fx->f, clone(fx, fr[2]), t0 + 29 * SEC));
	assert_null(ipfrag_reassemble(&fx->f, clone(fx, fr[1]), t0 + 30 * SEC));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_TIMEOUT], 1);
	/* The late one started a new datagram, which times out in turn. */
	assert_int_equal(ipfrag_pending(&fx->f), 1);
	ipfrag_expire(&fx->f, t0 + 60 * SEC);
	assert_int_equal(ipfrag_pending(&fx->f), 0);
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_TIMEOUT], 2);
	assert_int_equal(ipfrag_mem_used(&fx->f), 0);
	free_all(fr, n);
	pkt_free(orig);
}

/* Datagrams that differ only in ID, source or protocol are kept apart. */
static void test_keys(void **state)
{
	struct fixture *fx = *state;
	struct pkt *a = make_ip(fx, 1550, 1, 4, NULL, 0), *b = make_ip(fx, 1550, 2, 4, NULL, 0);
	struct pkt *c = make_ip(fx, 1550, 1, 5, NULL, 0), *d = make_ip(fx, 1550, 1, 4, NULL, 0);
	struct pkt *fa[MAXF], *fb[MAXF], *fc[MAXF], *fd[MAXF], *r;

	d->data[9] = 6;
	put_be16(d->data + 10, 0);
	put_be16(d->data + 10, csum_ipv4_header(d->data, 20));
	fragment_at(fx, a, 1420, fa);
	fragment_at(fx, b, 1420, fb);
	fragment_at(fx, c, 1420, fc);
	fragment_at(fx, d, 1420, fd);
	assert_null(ipfrag_reassemble(&fx->f, fa[0], 0));
	assert_null(ipfrag_reassemble(&fx->f, fb[0], 0));
	assert_null(ipfrag_reassemble(&fx->f, fc[0], 0));
	assert_null(ipfrag_reassemble(&fx->f, fd[0], 0));
	assert_int_equal(ipfrag_pending(&fx->f), 4);
	r = ipfrag_reassemble(&fx->f, fc[1], 0);
	assert_memory_equal(r->data, c->data, 1550);
	pkt_free(r);
	r = ipfrag_reassemble(&fx->f, fa[1], 0);
	assert_memory_equal(r->data, a->data, 1550);
	pkt_free(r);
	r = ipfrag_reassemble(&fx->f, fd[1], 0);
	assert_memory_equal(r->data, d->data, 1550);
	pkt_free(r);
	r = ipfrag_reassemble(&fx->f, fb[1], 0);
	assert_memory_equal(r->data, b->data, 1550);
	pkt_free(r);
	pkt_free(a);
	pkt_free(b);
	pkt_free(c);
	pkt_free(d);
}

/* Over 65535 bytes in all: the datagram goes. */
static void test_oversize(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig = make_ip(fx, 420, 3, 9, NULL, 0), *q;

	q = make_piece(fx, orig, 0, 80, true);
	put_be16(q->data + 6, 0x2000 | 8187); /* 20 + 65496 + 8 fits... */
	q->len = 28;
	put_be16(q->data + 2, 28);
	put_be16(q->data + 10, 0);
	put_be16(q->data + 10, csum_ipv4_header(q->data, 20));
	assert_null(ipfrag_reassemble(&fx->f, q, 0));
	/* ... in 65535, but not in max_datagram. */
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_TOO_BIG], 1);
	assert_null(ipfrag_reassemble(&fx->f, make_piece(fx, orig, 0, 80, true), 0));
	q = make_piece(fx, orig, 0, 24, false);
	put_be16(q->data + 6, 8190); /* 20 + 65520 + 24 > 65535 */
	put_be16(q->data + 10, 0);
	put_be16(q->data + 10, csum_ipv4_header(q->data, 20));
	assert_null(ipfrag_reassemble(&fx->f, q, 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_OVERSIZE], 1);
	assert_int_equal(ipfrag_pending(&fx->f), 0);
	pkt_free(orig);
}

/* Bigger than max_datagram (the default fits a pkt buffer): dropped, not truncated. */
static void test_too_big(void **state)
{
	struct fixture *fx = *state;
	struct pkt_pool big;
	struct pkt *orig, *fr[MAXF];
	struct pkt_vec out;

	assert_true(pkt_pool_init(&big, 4, 4096));
	orig = pkt_alloc(&big);
	fill_ip(pkt_put(orig, 3000), 3000, 1, 2, NULL, 0);
	pkt_vec_init(&out);
	assert_int_equal(ipfrag_fragment(&fx->f, orig, &fx->pool, &out), 3);
	memcpy(fr, out.p, 3 * sizeof(*fr));
	/* The first is within bounds, the second ends past max_datagram and sinks it. */
	assert_null(ipfrag_reassemble(&fx->f, fr[0], 0));
	assert_int_equal(ipfrag_pending(&fx->f), 1);
	assert_null(ipfrag_reassemble(&fx->f, fr[1], 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_TOO_BIG], 1);
	assert_int_equal(ipfrag_pending(&fx->f), 0);
	/* The third alone is refused without taking a slot. */
	assert_null(ipfrag_reassemble(&fx->f, fr[2], 0));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_TOO_BIG], 2);
	assert_int_equal(ipfrag_pending(&fx->f), 0);
	assert_int_equal(big.nfree, 4);
	pkt_pool_destroy(&big);
}

/* A flood of datagrams that never complete stays within the memory cap. */
static void test_flood_bounded(void **state)
{
	struct fixture *fx = *state;
	struct pkt *orig = make_ip(fx, 1550, 0, 0, NULL, 0), *fr[MAXF], *keep[MAXF], *r;
	uint32_t n;

	assert_true(fx->f.reserved <= fx->f.cfg.mem_max);
	assert_true(fx->f.nslots > 100);
	/* One honest datagram half there before the flood, from its own source. */
	put_be32(orig->data + 12, 0x0a000004);
	put_be16(orig->data + 10, 0);
	put_be16(orig->data + 10, csum_ipv4_header(orig->data, 20));
	n = fragment_at(fx, orig, 1420, keep);
	assert_null(ipfrag_reassemble(&fx->f, keep[0], 0));

	for (uint32_t i = 0; i < 100000; i++) {
		struct pkt *q;

		/* A few hundred sources, IDs all different: first fragments only. */
		put_be32(orig->data + 12, 0xc0a80000 + i % 300);
		put_be16(orig->data + 4, (uint16_t)(i / 300));
		put_be16(orig->data + 10, 0);
		put_be16(orig->data + 10, csum_ipv4_header(orig->data, 20));
		fragment_at(fx, orig, 1420, fr);
		q = fr[0];
		pkt_free(fr[1]);
		assert_null(ipfrag_reassemble(&fx->f, q, i * 1000));
		assert_true(ipfrag_mem_used(&fx->f) <= fx->f.cfg.mem_max);
		assert_true(ipfrag_pending(&fx->f) <= fx->f.nslots);
	}
	assert_true(fx->f.stats.drops[IPFRAG_DROP_EVICT_FULL] > 90000);
	/* The honest one was oldest: the overall cap evicted it. */
	assert_null(ipfrag_reassemble(&fx->f, keep[1], 0));
	assert_int_equal(fx->f.stats.reassembled, 0);

	/* One source alone floods: it gets its share and evicts only its own datagrams. */
	ipfrag_expire(&fx->f, UINT64_MAX);
	put_be32(orig->data + 12, 0x0a000004);
	put_be16(orig->data + 4, 4444);
	put_be16(orig->data + 10, 0);
	put_be16(orig->data + 10, csum_ipv4_header(orig->data, 20));
	n = fragment_at(fx, orig, 1420, keep);
	assert_null(ipfrag_reassemble(&fx->f, keep[0], 0));
	for (uint32_t i = 0; i < 20000; i++) {
		put_be32(orig->data + 12, 0x0b000001);
		put_be16(orig->data + 4, (uint16_t)i);
		put_be16(orig->data + 10, 0);
		put_be16(orig->data + 10, csum_ipv4_header(orig->data, 20));
		fragment_at(fx, orig, 1420, fr);
		pkt_free(fr[1]);
		assert_null(ipfrag_reassemble(&fx->f, fr[0], 1));
		assert_true(ipfrag_pending(&fx->f) <= fx->f.src_cap + 1);
		assert_true(ipfrag_mem_used(&fx->f) <= fx->f.cfg.mem_per_src + fx->f.slot_charge);
	}
	assert_true(fx->f.stats.drops[IPFRAG_DROP_EVICT_SOURCE] >= 20000 - fx->f.src_cap);
	r = ipfrag_reassemble(&fx->f, keep[1], 2);
	assert_non_null(r);
	put_be32(orig->data + 12, 0x0a000004);
	put_be16(orig->data + 4, 4444);
	put_be16(orig->data + 10, 0);
	put_be16(orig->data + 10, csum_ipv4_header(orig->data, 20));
	assert_memory_equal(r->data, orig->data, 1550);
	pkt_free(r);
	(void)n;
	pkt_free(orig);
}

/* When all slots are taken the oldest datagram goes first. */
static void test_evict_oldest(void **state)
{
	struct fixture *fx = *state;
	struct ipfrag_config cfg = {0};
	struct pkt *orig[5], *fr[5][MAXF], *r;

	cfg.mem_max = 4 * fx->f.slot_charge;
	ipfrag_destroy(&fx->f);
	assert_true(ipfrag_init(&fx->f, &cfg));
	assert_true(fx->f.reserved <= fx->f.cfg.mem_max);
	assert_int_equal(fx->f.nslots, 4);
	for (int i = 0; i < 5; i++) {
		orig[i] = make_ip(fx, 1550, (uint16_t)i, (uint32_t)(100 + i), NULL, 0);
		fragment_at(fx, orig[i], 1420, fr[i]);
		assert_null(ipfrag_reassemble(&fx->f, fr[i][0], (uint64_t)i));
	}
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_EVICT_FULL], 1);
	/* #0 was evicted: its tail starts over, and evicts #1, now the oldest. */
	assert_null(ipfrag_reassemble(&fx->f, fr[0][1], 10));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_EVICT_FULL], 2);
	for (int i = 2; i < 5; i++) {
		r = ipfrag_reassemble(&fx->f, fr[i][1], 10);
		assert_non_null(r);
		assert_memory_equal(r->data, orig[i]->data, 1550);
		pkt_free(r);
	}
	assert_null(ipfrag_reassemble(&fx->f, fr[1][1], 10));
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_EVICT_FULL], 2);
	assert_int_equal(ipfrag_pending(&fx->f), 2);
	for (int i = 0; i < 5; i++)
		pkt_free(orig[i]);
	ipfrag_expire(&fx->f, UINT64_MAX);
	assert_int_equal(fx->f.stats.drops[IPFRAG_DROP_TIMEOUT], 2);
}

static void test_batches(void **state)
{
	struct fixture *fx = *state;
	struct pkt_vec in, out, back;
	struct pkt *orig[60];
	uint32_t used, total = 0, rounds = 0;

	pkt_vec_init(&in);
	for (int i = 0; i < 60; i++) {
		orig[i] = make_ip(fx, i % 2 ? 1550 : 300, (uint16_t)i, 4, NULL, 0);
		pkt_vec_add(&in, clone(fx, orig[i]));
	}
	pkt_vec_init(&back);
	while (in.n) {
		pkt_vec_init(&out);
		used = ipfrag_fragment_batch(&fx->f, &in, &fx->pool, &out);
		assert_true(used > 0);
		total += used;
		rounds++;
		assert_true(out.n <= PKT_VEC_MAX);
		/* Reverse each batch on the way: reassembly takes any order. */
		for (uint32_t i = 0; i < out.n / 2; i++) {
			struct pkt *t = out.p[i];

			out.p[i] = out.p[out.n - 1 - i];
			out.p[out.n - 1 - i] = t;
		}
		{
			struct pkt_vec got;

			pkt_vec_init(&got);
			ipfrag_reassemble_batch(&fx->f, &out, &got, 5);
			assert_int_equal(out.n, 0);
			for (uint32_t i = 0; i < got.n; i++)
				pkt_vec_add(&back, got.p[i]);
		}
	}
	/* 30 packets in two fragments and 30 whole ones: 90 out, two vectors' worth. */
	assert_int_equal(total, 60);
	assert_int_equal(rounds, 2);
	assert_int_equal(back.n, 60);
	for (uint32_t i = 0; i < back.n; i++) {
		uint16_t id = get_be16(back.p[i]->data + 4);

		assert_true(id < 60);
		assert_int_equal(back.p[i]->len, orig[id]->len);
		assert_memory_equal(back.p[i]->data, orig[id]->data, orig[id]->len);
		pkt_free(orig[id]);
	}
	pkt_vec_free(&back);
	assert_string_equal(ipfrag_drop_name(IPFRAG_DROP_OVERLAP), "overlap");
	assert_null(ipfrag_drop_name(IPFRAG_DROP_MAX));
	for (int i = 0; i < IPFRAG_DROP_MAX; i++)
		assert_non_null(ipfrag_drop_name((enum ipfrag_drop)i));
}

static void test_config(void **state)
{
	struct ipfrag f;
	struct ipfrag_config cfg = {.max_datagram = 65536};

	(void)state;
	assert_false(ipfrag_init(&f, &cfg));
	cfg.max_datagram = 20;
	assert_false(ipfrag_init(&f, &cfg));
	cfg.max_datagram = 0;
	cfg.mem_max = 100;
	assert_false(ipfrag_init(&f, &cfg));
	cfg.mem_max = 0;
	assert_true(ipfrag_init(&f, &cfg));
	assert_int_equal(f.cfg.mtu, 1420);
	assert_int_equal(f.cfg.timeout_ns, 30 * SEC);
	assert_true(f.reserved <= 4u << 20);
	assert_true(f.reserved > 3u << 20);
	ipfrag_destroy(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fragment_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_passes_and_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refragment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_orders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shuffles_with_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inconsistent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passthrough, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
