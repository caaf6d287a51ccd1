/* SPDX-License-Identifier: MIT */
/*
 * GRO coalesce of TCP segments into super-packets (TUN) and super-frames (TAP), checked
 * against the reference: what merges, every field that keeps segments apart, bad
 * checksums, the 64 KiB and buffer limits, and split-then-coalesce round trips.
 */
#include "offload_harness.h"

#include "offload/gro.h"

static uint8_t ref[70000];
static uint8_t fref[70100];

/* ---- GRO coalesce ---- */

static void gro_run(struct fixture *fx, struct pkt_vec *v)
{
	gro_test(fx, v, &fx->big, GRO_IP);
}

/* Split a super-packet and coalesce the segments: the same super-packet comes back. */
static void roundtrip(struct fixture *fx, const struct flow *f, uint32_t total, uint32_t gso,
		      uint8_t flags)
{
	static struct pkt *segs[MAXSEGS];
	struct vnet_hdr h = super_hdr(f, gso, false);
	uint32_t len = build(f, payload, total, 777, 4242, flags, CK_PARTIAL, ref);
	uint32_t n = split_all(fx, &h, pkt_from(&fx->big, ref, len), segs);
	struct pkt_vec v;

	assert_true(n <= PKT_VEC_MAX);
	pkt_vec_init(&v);
	for (uint32_t i = 0; i < n; i++)
		pkt_vec_add(&v, segs[i]);
	if (n == 1)
		len = ref_segment(f, total, gso, 777, 4242, flags, 0, 1, ref);
	gro_run(fx, &v);
	assert_int_equal(v.n, 1);
	if (n == 1)
		assert_passed(v.p[0], ref, len);
	else
		assert_super(v.p[0], f, 0, total, 777, 4242, flags, gso);
	pkt_vec_free(&v);
}

static void test_gro_roundtrip(void **state)
{
	struct fixture *fx = *state;
	struct flow f4 = flow_make(4, 6), f6 = flow_make(6, 6);
	const uint32_t sizes[] = {1, MSS4 - 1, MSS4, MSS4 + 1, 2 * MSS4, 45 * MSS4, 65535 - 40};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip(fx, &f4, sizes[i], MSS4, F_ACK | F_PSH);
		roundtrip(fx, &f4, sizes[i], MSS4, F_ACK);
		roundtrip(fx, &f6, sizes[i] - (i == 6 ? 20 : 0), MSS6, F_ACK | F_PSH);
	}
	f4.ts = f6.ts = true;
	f4.df = false;
	f6.tos = 0xb8;
	roundtrip(fx, &f4, 65535 - 52, MSS4_TS, F_ACK | F_PSH);
	roundtrip(fx, &f6, 65535 - 72, MSS6 - 12, F_ACK | F_ECE);
	roundtrip(fx, &f6, 7 * (MSS6 - 12) - 3, MSS6 - 12, F_ACK | F_PSH | F_ECE);
	assert_int_equal(fx->st.gro_bad_csum, 0);
	assert_true(fx->st.gro_super >= 14);
	/* Chained where the segments' buffers had room for the iovecs, copied where not. */
	if (fx->chain)
		assert_true(fx->chains >= 6 && fx->chains <= fx->st.gro_super);
}

/*
 * GRO_CHAIN when the first segment's buffer has no room behind its bytes for the write's
 * iovecs: the group is copied into a big buffer as without the flag.
 */
static void test_gro_chain_no_room(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(4, 6);
	struct pkt *head = seg(fx, &f, 0, 1000, 0, F_ACK);
	struct pkt_vec v;
	uint32_t len = head->len;
	uint8_t b[2048];

	memcpy(b, head->data, len);
	/* The same bytes, ending 8 bytes short of the buffer's end. */
	pkt_reset(head, head->size - len - 8);
	memcpy(pkt_put(head, len), b, len);
	assert_false(pkt_chain_room(head, 1));
	pkt_vec_init(&v);
	pkt_vec_add(&v, head);
	pkt_vec_add(&v, seg(fx, &f, 1000, 1000, 1, F_ACK));
	gro_test(fx, &v, &fx->big, GRO_IP);
	assert_int_equal(v.n, 1);
	assert_int_equal(fx->st.gro_super, 1);
	assert_int_equal(fx->st.gro_chained, 0);
	assert_null(v.p[0]->frags);
	assert_super(v.p[0], &f, 0, 2000, 0, 0, F_ACK, 1000);
	pkt_vec_free(&v);

	/* With room, the same group is a chain of the two buffers. */
	pkt_vec_init(&v);
	pkt_vec_add(&v, seg(fx, &f, 0, 1000, 0, F_ACK));
	pkt_vec_add(&v, seg(fx, &f, 1000, 1000, 1, F_ACK));
	gro_test(fx, &v, &fx->big, GRO_IP);
	assert_int_equal(v.n, 1);
	assert_int_equal(fx->st.gro_chained, 1);
	assert_super(v.p[0], &f, 0, 2000, 0, 0, F_ACK, 1000);
	pkt_vec_free(&v);
}

/* Sequence gap, another flow interleaved, flags, options, bad checksums. */
static void test_gro_not_mergeable(void **state)
{
	struct fixture *fx = *state;
	struct flow a = flow_make(4, 6), b = flow_make(4, 6), c = flow_make(6, 6);
	uint8_t keep[8][2048];
	uint32_t klen[8];
	struct pkt_vec v;

	b.sport = 40001;
	c.ts = true;

	/* a0 a1 [gap] a3 a4, b interleaved, and a UDP packet: three super-packets, one pass. */
	pkt_vec_init(&v);
	pkt_vec_add(&v, seg(fx, &a, 0, MSS4, 10, F_ACK));
	pkt_vec_add(&v, seg(fx, &b, 0, MSS4, 50, F_ACK));
	pkt_vec_add(&v, seg(fx, &a, MSS4, MSS4, 11, F_ACK));
	{
		struct flow u = flow_make(4, 17);
		static uint8_t ub[600];

		klen[0] = build(&u, payload, 500, 0, 3, 0, CK_FULL, ub);
		memcpy(keep[0], ub, klen[0]);
		pkt_vec_add(&v, pkt_from(&fx->pool, ub, klen[0]));
	}
	pkt_vec_add(&v, seg(fx, &b, MSS4, MSS4, 51, F_ACK | F_PSH));
	pkt_vec_add(&v, seg(fx, &a, 3 * MSS4, MSS4, 13, F_ACK));
	pkt_vec_add(&v, seg(fx, &a, 4 * MSS4, 100, 14, F_ACK));
	pkt_vec_add(&v, seg(fx, &a, 4 * MSS4 + 100, 100, 15, F_ACK)); /* after a short one */
	gro_run(fx, &v);
	assert_int_equal(v.n, 5);
	assert_super(v.p[0], &a, 0, 2 * MSS4, 0, 10, F_ACK, MSS4);
	assert_super(v.p[1], &b, 0, 2 * MSS4, 0, 50, F_ACK | F_PSH, MSS4);
	assert_passed(v.p[2], keep[0], klen[0]);
	assert_super(v.p[3], &a, 3 * MSS4, MSS4 + 100, 3 * MSS4, 13, F_ACK, MSS4);
	klen[1] = build(&a, payload + 4 * MSS4 + 100, 100, 4 * MSS4 + 100, 15, F_ACK, CK_FULL,
			keep[1]);
	assert_passed(v.p[4], keep[1], klen[1]);
	pkt_vec_free(&v);

	/* Flags: FIN, SYN, RST, URG, CWR never merge and end the flow's run; PSH ends it after. */
	{
		const uint8_t odd[] = {F_ACK | F_FIN, F_ACK | F_RST, F_SYN | F_ACK,
				       F_ACK | F_URG, F_ACK | F_CWR, F_ACK | F_PSH};

		for (size_t i = 0; i < sizeof(odd); i++) {
			pkt_vec_init(&v);
			pkt_vec_add(&v, seg(fx, &c, 0, MSS4, 0, F_ACK));
			pkt_vec_add(&v, seg(fx, &c, MSS4, MSS4, 0, F_ACK));
			pkt_vec_add(&v, seg(fx, &c, 2 * MSS4, MSS4, 0, odd[i]));
			klen[0] = build(&c, payload + 2 * MSS4, MSS4, 2 * MSS4, 0, odd[i], CK_FULL,
					keep[0]);
			pkt_vec_add(&v, seg(fx, &c, 3 * MSS4, MSS4, 0, F_ACK));
			klen[1] = build(&c, payload + 3 * MSS4, MSS4, 3 * MSS4, 0, F_ACK, CK_FULL,
					keep[1]);
			gro_run(fx, &v);
			if (odd[i] == (F_ACK | F_PSH)) {
				assert_int_equal(v.n, 2);
				assert_super(v.p[0], &c, 0, 3 * MSS4, 0, 0, F_ACK | F_PSH, MSS4);
			} else {
				assert_int_equal(v.n, 3);
				assert_super(v.p[0], &c, 0, 2 * MSS4, 0, 0, F_ACK, MSS4);
				assert_passed(v.p[1], keep[0], klen[0]);
			}
			assert_passed(v.p[v.n - 1], keep[1], klen[1]);
			pkt_vec_free(&v);
		}
	}

	/* A pure ACK of the flow in between ends the run: the flow's order is kept. */
	pkt_vec_init(&v);
	pkt_vec_add(&v, seg(fx, &a, 0, MSS4, 1, F_ACK));
	pkt_vec_add(&v, seg(fx, &a, MSS4, 0, 2, F_ACK));
	klen[0] = build(&a, payload, 0, MSS4, 2, F_ACK, CK_FULL, keep[0]);
	pkt_vec_add(&v, seg(fx, &a, MSS4, MSS4, 3, F_ACK));
	pkt_vec_add(&v, seg(fx, &a, 2 * MSS4, MSS4, 4, F_ACK));
	klen[1] = build(&a, payload, MSS4, 0, 1, F_ACK, CK_FULL, keep[1]);
	gro_run(fx, &v);
	assert_int_equal(v.n, 3);
	assert_passed(v.p[0], keep[1], klen[1]);
	assert_passed(v.p[1], keep[0], klen[0]);
	assert_super(v.p[2], &a, MSS4, 2 * MSS4, MSS4, 3, F_ACK, MSS4);
	pkt_vec_free(&v);
}

/* Every field that must match, changed on the second segment: nothing merges. */
static void test_gro_fields(void **state)
{
	struct fixture *fx = *state;
	struct pkt_vec v;

	for (int i = 0; i < 11; i++) {
		struct flow f = flow_make(i < 8 ? 4 : 6, 6), g;
		uint16_t id1 = 2;
		uint8_t b0[2048], b1[2048];
		uint32_t l0, l1;

		f.ts = true;
		g = f;
		switch (i) {
		case 0:
			g.ttl = 63;
			break;
		case 1:
			g.tos = 3; /* ECN CE on one segment */
			break;
		case 2:
			g.df = false, f.df = false, id1 = 7;
			break;
		case 3:
			g.ack++;
			break;
		case 4:
			g.window++;
			break;
		case 5:
			g.tsval++;
			break;
		case 6:
			g.sack = true;
			break;
		case 7:
			g.df = false;
			break;
		case 8:
			g.label ^= 1;
			break;
		case 9:
			g.ttl = 1;
			break;
		case 10:
			g.dport++;
			break;
		}
		l0 = build(&f, payload, MSS4, 0, 1, F_ACK, CK_FULL, b0);
		l1 = build(&g, payload + MSS4, MSS4, MSS4, id1, F_ACK, CK_FULL, b1);
		pkt_vec_init(&v);
		pkt_vec_add(&v, pkt_from(&fx->pool, b0, l0));
		pkt_vec_add(&v, pkt_from(&fx->pool, b1, l1));
		gro_run(fx, &v);
		assert_int_equal(v.n, 2);
		assert_passed(v.p[0], b0, l0);
		assert_passed(v.p[1], b1, l1);
		pkt_vec_free(&v);
	}
	assert_int_equal(fx->st.gro_super, 0);

	/* With DF the ID carries no meaning (RFC 6864): these merge, and the first ID stays. */
	{
		struct flow f = flow_make(4, 6);

		pkt_vec_init(&v);
		pkt_vec_add(&v, seg(fx, &f, 0, MSS4, 100, F_ACK));
		pkt_vec_add(&v, seg(fx, &f, MSS4, MSS4, 7, F_ACK));
		pkt_vec_add(&v, seg(fx, &f, 2 * MSS4, MSS4, 0, F_ACK));
		gro_run(fx, &v);
		assert_int_equal(v.n, 1);
		assert_super(v.p[0], &f, 0, 3 * MSS4, 0, 100, F_ACK, MSS4);
		pkt_vec_free(&v);
	}
	/* A SACK option, even the same on both, is not merged. */
	{
		struct flow f = flow_make(4, 6);
		uint8_t b0[2048];
		uint32_t l0;

		f.sack = true;
		pkt_vec_init(&v);
		pkt_vec_add(&v, seg(fx, &f, 0, 1000, 1, F_ACK));
		l0 = build(&f, payload, 1000, 0, 1, F_ACK, CK_FULL, b0);
		pkt_vec_add(&v, seg(fx, &f, 1000, 1000, 2, F_ACK));
		gro_run(fx, &v);
		assert_int_equal(v.n, 2);
		assert_passed(v.p[0], b0, l0);
		pkt_vec_free(&v);
	}
	/* A larger segment after the first cannot join (gso_size is the first's). */
	{
		struct flow f = flow_make(6, 6);
		uint8_t b1[2048];
		uint32_t l1;

		pkt_vec_init(&v);
		pkt_vec_add(&v, seg(fx, &f, 0, 1000, 0, F_ACK));
		pkt_vec_add(&v, seg(fx, &f, 1000, 1000, 0, F_ACK));
		pkt_vec_add(&v, seg(fx, &f, 2000, 1001, 0, F_ACK));
		l1 = build(&f, payload + 2000, 1001, 2000, 0, F_ACK, CK_FULL, b1);
		gro_run(fx, &v);
		assert_int_equal(v.n, 2);
		assert_super(v.p[0], &f, 0, 2000, 0, 0, F_ACK, 1000);
		assert_passed(v.p[1], b1, l1);
		pkt_vec_free(&v);
	}
}

static void test_gro_bad_csum(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(4, 6);
	uint8_t bad[2048], bad_ip[2048], bad_head[2048];
	uint32_t lb, li, lh;
	struct pkt_vec v;

	/* a0 a1 a2(bad TCP checksum) a3 a4: a2 passes unchanged for the kernel to drop. */
	lb = build(&f, payload + 2 * MSS4, MSS4, 2 * MSS4, 3, F_ACK, CK_FULL, bad);
	bad[40 + 100] ^= 0x01;
	pkt_vec_init(&v);
	pkt_vec_add(&v, seg(fx, &f, 0, MSS4, 1, F_ACK));
	pkt_vec_add(&v, seg(fx, &f, MSS4, MSS4, 2, F_ACK));
	pkt_vec_add(&v, pkt_from(&fx->pool, bad, lb));
	pkt_vec_add(&v, seg(fx, &f, 3 * MSS4, MSS4, 4, F_ACK));
	pkt_vec_add(&v, seg(fx, &f, 4 * MSS4, MSS4, 5, F_ACK));
	gro_run(fx, &v);
	assert_int_equal(v.n, 3);
	assert_super(v.p[0], &f, 0, 2 * MSS4, 0, 1, F_ACK, MSS4);
	assert_passed(v.p[1], bad, lb);
	assert_super(v.p[2], &f, 3 * MSS4, 2 * MSS4, 3 * MSS4, 4, F_ACK, MSS4);
	assert_int_equal(fx->st.gro_bad_csum, 1);
	pkt_vec_free(&v);

	/* A bad first segment: it passes, the next ones start their own super-packet. */
	lh = build(&f, payload, MSS4, 0, 1, F_ACK, CK_FULL, bad_head);
	bad_head[lh - 1] ^= 0x10;
	pkt_vec_init(&v);
	pkt_vec_add(&v, pkt_from(&fx->pool, bad_head, lh));
	pkt_vec_add(&v, seg(fx, &f, MSS4, MSS4, 2, F_ACK));
	pkt_vec_add(&v, seg(fx, &f, 2 * MSS4, MSS4, 3, F_ACK));
	gro_run(fx, &v);
	assert_int_equal(v.n, 2);
	assert_passed(v.p[0], bad_head, lh);
	assert_super(v.p[1], &f, MSS4, 2 * MSS4, MSS4, 2, F_ACK, MSS4);
	assert_int_equal(fx->st.gro_bad_csum, 2);
	pkt_vec_free(&v);

	/* A bad IPv4 header checksum (the TCP one is fine) on the second segment. */
	li = build(&f, payload + MSS4, MSS4, MSS4, 2, F_ACK, CK_FULL, bad_ip);
	bad_ip[10] ^= 0x80;
	lb = build(&f, payload, MSS4, 0, 1, F_ACK, CK_FULL, bad);
	pkt_vec_init(&v);
	pkt_vec_add(&v, pkt_from(&fx->pool, bad, lb));
	pkt_vec_add(&v, pkt_from(&fx->pool, bad_ip, li));
	pkt_vec_add(&v, seg(fx, &f, MSS4, MSS4, 2, F_ACK)); /* a good copy of it */
	pkt_vec_add(&v, seg(fx, &f, 2 * MSS4, MSS4, 3, F_ACK));
	gro_run(fx, &v);
	assert_int_equal(v.n, 3);
	assert_passed(v.p[0], bad, lb);
	assert_passed(v.p[1], bad_ip, li);
	assert_super(v.p[2], &f, MSS4, 2 * MSS4, MSS4, 2, F_ACK, MSS4);
	assert_int_equal(fx->st.gro_bad_csum, 3);
	pkt_vec_free(&v);
}

/* Four segments of f; the second with a wrong TCP checksum, the third a wrong IPv4 one. */
static void bad_checksums_batch(struct fixture *fx, const struct flow *f, uint8_t *bad,
				uint32_t *lb, uint8_t *bad_ip, uint32_t *li, struct pkt_vec *v)
{
	*lb = build(f, payload + MSS4, MSS4, MSS4, 2, F_ACK, CK_FULL, bad);
	bad[20 + 16] ^= 0x01; /* the TCP checksum field */
	*li = build(f, payload + 2 * MSS4, MSS4, 2 * MSS4, 3, F_ACK, CK_FULL, bad_ip);
	bad_ip[10] ^= 0x80;
	pkt_vec_init(v);
	pkt_vec_add(v, seg(fx, f, 0, MSS4, 1, F_ACK));
	pkt_vec_add(v, pkt_from(&fx->pool, bad, *lb));
	pkt_vec_add(v, pkt_from(&fx->pool, bad_ip, *li));
	pkt_vec_add(v, seg(fx, f, 3 * MSS4, MSS4, 4, F_ACK));
}

/*
 * GRO_TRUSTED: a segment whose TCP or IPv4 header checksum is wrong merges like the
 * others and nothing is counted bad; the super-packet carries fresh checksums.
 */
static void test_gro_trusted(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(4, 6);
	uint8_t bad[2048], bad_ip[2048];
	uint32_t lb, li;
	struct pkt_vec v;

	bad_checksums_batch(fx, &f, bad, &lb, bad_ip, &li, &v);
	gro_test(fx, &v, &fx->big, GRO_IP | GRO_TRUSTED);
	assert_int_equal(v.n, 1);
	assert_super(v.p[0], &f, 0, 4 * MSS4, 0, 1, F_ACK, MSS4);
	assert_int_equal(fx->st.gro_bad_csum, 0);
	pkt_vec_free(&v);

	/* The same batch untrusted: both bad segments pass on their own. */
	bad_checksums_batch(fx, &f, bad, &lb, bad_ip, &li, &v);
	gro_run(fx, &v);
	assert_int_equal(v.n, 4);
	assert_passed(v.p[1], bad, lb);
	assert_passed(v.p[2], bad_ip, li);
	assert_int_equal(fx->st.gro_bad_csum, 2);
	pkt_vec_free(&v);
}

/* 50 full segments are more than 65535 bytes: two super-packets. No big buffer: no merging. */
static void test_gro_limits(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(4, 6);
	uint32_t fit = (65535 - 40) / MSS4; /* 47 */
	static uint8_t keep[4][2048];
	uint32_t klen[4];
	struct pkt_vec v;
	struct pkt *held[8];
	struct pkt *p;

	pkt_vec_init(&v);
	for (uint32_t i = 0; i < 50; i++)
		pkt_vec_add(&v, seg(fx, &f, i * MSS4, MSS4, (uint16_t)i, F_ACK));
	gro_run(fx, &v);
	assert_int_equal(v.n, 2);
	assert_super(v.p[0], &f, 0, fit * MSS4, 0, 0, F_ACK, MSS4);
	assert_super(v.p[1], &f, fit * MSS4, (50 - fit) * MSS4, fit * MSS4, (uint16_t)fit, F_ACK,
		     MSS4);
	pkt_vec_free(&v);

	/* The big pool empty: everything passes through, counted. */
	for (uint32_t i = 0; i < fx->big.count; i++)
		held[i] = pkt_alloc(&fx->big);
	pkt_vec_init(&v);
	for (uint32_t i = 0; i < 4; i++) {
		klen[i] = build(&f, payload + i * MSS4, MSS4, i * MSS4, (uint16_t)i, F_ACK, CK_FULL,
				keep[i]);
		pkt_vec_add(&v, pkt_from(&fx->pool, keep[i], klen[i]));
	}
	gro_run(fx, &v);
	assert_int_equal(v.n, 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_passed(v.p[i], keep[i], klen[i]);
	assert_int_equal(fx->st.gro_nomem, 1);
	pkt_vec_free(&v);
	free_all(held, fx->big.count);

	/* No big pool at all. */
	pkt_vec_init(&v);
	pkt_vec_add(&v, pkt_from(&fx->pool, keep[0], klen[0]));
	pkt_vec_add(&v, pkt_from(&fx->pool, keep[1], klen[1]));
	gro_test(fx, &v, NULL, GRO_IP);
	assert_int_equal(v.n, 2);
	assert_passed(v.p[1], keep[1], klen[1]);
	pkt_vec_free(&v);

	/* No headroom for the vnet header: freed and counted; garbage passes. */
	pkt_vec_init(&v);
	p = pkt_alloc(&fx->pool);
	pkt_reset(p, 0);
	memcpy(pkt_put(p, klen[0]), keep[0], klen[0]);
	pkt_vec_add(&v, p);
	pkt_vec_add(&v, pkt_from(&fx->pool, (const uint8_t *)"\x60\x00", 2));
	pkt_vec_add(&v, pkt_from(&fx->pool, (const uint8_t *)"", 0));
	gro_run(fx, &v);
	assert_int_equal(v.n, 2);
	assert_int_equal(fx->st.drops[OFFLOAD_DROP_HEADROOM], 1);
	assert_passed(v.p[0], (const uint8_t *)"\x60\x00", 2);
	assert_passed(v.p[1], (const uint8_t *)"", 0);
	pkt_vec_free(&v);
	assert_int_equal(fx->st.gro_in - fx->st.gro_out, 50 - 2 + 1);
}

/* Many flows in one batch, shuffled between flows but in order within each. */
static void test_gro_many_flows(void **state)
{
	struct fixture *fx = *state;
	struct flow f[8];
	uint32_t next[8] = {0}, order[64], n = 0;
	struct pkt_vec v;
	uint32_t x = 12345;

	for (int i = 0; i < 8; i++) {
		f[i] = flow_make(i & 1 ? 6 : 4, 6);
		f[i].sport = (uint16_t)(1000 + i);
	}
	pkt_vec_init(&v);
	while (n < 64) {
		x = x * 1103515245 + 12345;
		uint32_t k = (x >> 16) % 8;

		if (next[k] == 8)
			continue;
		order[n++] = k;
		pkt_vec_add(&v, seg(fx, &f[k], next[k] * 1000, 1000, (uint16_t)next[k], F_ACK));
		next[k]++;
	}
	gro_run(fx, &v);
	assert_int_equal(v.n, 8);
	/* In the order of each flow's first packet. */
	for (uint32_t i = 0, seen = 0; i < 64 && seen < 8; i++) {
		bool first = true;

		for (uint32_t j = 0; j < i; j++)
			first &= order[j] != order[i];
		if (first)
			assert_super(v.p[seen++], &f[order[i]], 0, 8000, 0, 0, F_ACK, 1000);
	}
	pkt_vec_free(&v);
}

/* ---- GRO coalesce of frames ---- */

static void gro_frames_run(struct fixture *fx, struct pkt_vec *v)
{
	gro_test(fx, v, &fx->big, GRO_FRAMES);
}

static void test_gro_frames_merge(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make(), ev = eth_make();
	struct flow f4 = flow_make(4, 6), f6ts = flow_make(6, 6), f4ts = flow_make(4, 6);

	/*
	 * Each row: behind e, n segments of flow f of size bytes from seq0 (the last one of
	 * last bytes), IP IDs from id0 counting by id_step, flags on each and last_flags on
	 * the last too. They must make one super-frame of total bytes from seq0, with the
	 * first ID id, want_flags, and gso_size size.
	 */
	const struct frames_run {
		const struct eth *e;
		const struct flow *f;
		uint32_t seq0, n, size, last;
		uint16_t id0, id_step;
		uint8_t flags, last_flags;
		uint32_t total;
		uint16_t id;
		uint8_t want_flags;
	} cases[] = {
		/* Five full segments, PSH on the last. */
		{&e, &f4, 0, 5, MSS4, MSS4, 1, 1, F_ACK, F_PSH, 5 * MSS4, 1, F_ACK | F_PSH},
		/* IPv6 with timestamps, the last one short. */
		{&e, &f6ts, 0, 8, 1336, 100, 0, 0, F_ACK, 0, 7 * 1336 + 100, 0, F_ACK},
		/* Behind a tag, IPv4 without DF (IDs consecutive), timestamps, ECE. */
		{&ev, &f4ts, 5000, 4, 1314, 1314, 0xfffe, 1, F_ACK | F_ECE, 0, 4 * 1314, 0xfffe,
		 F_ACK | F_ECE},
		/* IPv6 behind a tag. */
		{&ev, &f6ts, 0, 3, 1000, 1000, 0, 0, F_ACK, 0, 3000, 0, F_ACK},
	};
	struct pkt_vec v;

	ev.vlan = true;
	ev.tci = 0xe00a; /* PCP 7, VID 10 */
	f6ts.ts = true;
	f4ts.ts = true;
	f4ts.df = false;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct frames_run *c = &cases[i];

		pkt_vec_init(&v);
		for (uint32_t k = 0; k < c->n; k++) {
			bool last = k + 1 == c->n;

			pkt_vec_add(&v, fseg(fx, c->e, c->f, c->seq0 + k * c->size,
					     last ? c->last : c->size,
					     (uint16_t)(c->id0 + k * c->id_step),
					     c->flags | (last ? c->last_flags : 0)));
		}
		gro_frames_run(fx, &v);
		assert_int_equal(v.n, 1);
		assert_super_frame(v.p[0], c->e, c->f, c->seq0, c->total, c->seq0, c->id,
				   c->want_flags, c->size);
		pkt_vec_free(&v);
	}
	assert_int_equal(fx->st.gro_super, 4);
	assert_int_equal(fx->st.gro_merged, 5 + 8 + 4 + 3);
}

/* Link headers must be identical; frames without IP pass through behind a zero header. */
static void test_gro_frames_l2(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(4, 6), u = flow_make(4, 17);
	struct eth fl[5];
	static uint8_t keep[8][2048];
	uint32_t klen[8];
	struct pkt_vec v;

	for (int i = 0; i < 5; i++)
		fl[i] = eth_make();
	fl[1].src[5] ^= 0x10; /* another source MAC */
	fl[2].dst[0] ^= 0x01; /* another destination: a multicast group */
	fl[3].vlan = true, fl[3].tci = 100;
	fl[4].vlan = true, fl[4].tci = 200;

	/* Two in sequence that would merge but for the link header: both pass unchanged. */
	for (int i = 0; i < 6; i++) {
		struct eth a = eth_make(), b = eth_make();

		switch (i) {
		case 0:
			b = fl[1];
			break;
		case 1:
			b = fl[2];
			break;
		case 2:
			a = fl[3], b = fl[4];
			break;
		case 3:
			b = fl[3];
			break;
		case 4:
			a = fl[3], b = fl[3], b.tci |= 0x2000; /* priority only */
			break;
		case 5:
			a = fl[3], b = fl[3], b.tci |= 0x1000; /* DEI only */
			break;
		}
		klen[0] = build_frame(&a, &f, payload, MSS4, 0, 1, F_ACK, CK_FULL, keep[0]);
		klen[1] =
			build_frame(&b, &f, payload + MSS4, MSS4, MSS4, 2, F_ACK, CK_FULL, keep[1]);
		pkt_vec_init(&v);
		pkt_vec_add(&v, pkt_from(&fx->pool, keep[0], klen[0]));
		pkt_vec_add(&v, pkt_from(&fx->pool, keep[1], klen[1]));
		gro_frames_run(fx, &v);
		assert_int_equal(v.n, 2);
		assert_passed(v.p[0], keep[0], klen[0]);
		assert_passed(v.p[1], keep[1], klen[1]);
		pkt_vec_free(&v);
	}
	assert_int_equal(fx->st.gro_super, 0);

	/* Five link headers of one IP flow interleaved with ARP, STP and UDP: each merges. */
	klen[0] = build_arp(&fl[0], keep[0]);
	klen[1] = build_stp(&fl[1], keep[1]);
	klen[2] = build_frame(&fl[3], &u, payload, 200, 0, 9, 0, CK_FULL, keep[2]);
	/* A pure ACK padded to the 60-byte minimum: the IP length is not the frame's. */
	klen[3] = build_frame(&fl[0], &f, payload, 0, 0, 1, F_ACK, CK_FULL, keep[3]);
	memset(keep[3] + klen[3], 0, 60 - klen[3]);
	klen[3] = 60;
	pkt_vec_init(&v);
	for (uint32_t i = 0; i < 3; i++) {
		for (uint32_t k = 0; k < 5; k++)
			pkt_vec_add(&v, fseg(fx, &fl[k], &f, i * 1000, 1000, (uint16_t)i, F_ACK));
		pkt_vec_add(&v, pkt_from(&fx->pool, keep[i], klen[i]));
	}
	pkt_vec_add(&v, pkt_from(&fx->pool, keep[3], klen[3]));
	gro_frames_run(fx, &v);
	assert_int_equal(v.n, 9);
	for (uint32_t k = 0; k < 5; k++)
		assert_super_frame(v.p[k], &fl[k], &f, 0, 3000, 0, 0, F_ACK, 1000);
	assert_passed(v.p[5], keep[0], klen[0]);
	assert_passed(v.p[6], keep[1], klen[1]);
	assert_passed(v.p[7], keep[2], klen[2]);
	assert_passed(v.p[8], keep[3], klen[3]);
	pkt_vec_free(&v);
	assert_int_equal(fx->st.gro_super, 5);

	/*
	 * Bare IP packets given as frames: their "ethertype" is bytes 12-13 of the IPv4 header
	 * (the source address, 10.0 = 0x0a00), no IP ethertype: they pass, never merged.
	 */
	pkt_vec_init(&v);
	for (uint32_t i = 0; i < 3; i++) {
		klen[i] = build(&f, payload + i * 1000, 1000, i * 1000, (uint16_t)i, F_ACK, CK_FULL,
				keep[i]);
		pkt_vec_add(&v, pkt_from(&fx->pool, keep[i], klen[i]));
	}
	assert_int_equal(get_be16(keep[0] + 12), 0x0a00);
	gro_frames_run(fx, &v);
	assert_int_equal(v.n, 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_passed(v.p[i], keep[i], klen[i]);
	pkt_vec_free(&v);
	assert_int_equal(fx->st.gro_super, 5);

	/* No big buffer: frames pass whole, their link headers back in front. */
	{
		struct pkt *held[8];

		uint32_t chains_before = fx->chains;

		for (uint32_t i = 0; i < fx->big.count; i++)
			held[i] = pkt_alloc(&fx->big);
		pkt_vec_init(&v);
		for (uint32_t i = 0; i < 4; i++) {
			klen[i] = build_frame(&fl[3 + (i & 1)], &f, payload + i / 2 * 1000, 1000,
					      i / 2 * 1000, (uint16_t)i, F_ACK, CK_FULL, keep[i]);
			pkt_vec_add(&v, pkt_from(&fx->pool, keep[i], klen[i]));
		}
		gro_frames_run(fx, &v);
		if (fx->chain) {
			/* Chains take no big buffer: the two groups still merge. */
			assert_int_equal(v.n, 2);
			assert_int_equal(fx->chains - chains_before, 2);
		} else {
			/* Two groups (VLAN 100: 0, 2; VLAN 200: 1, 3), each passed as it stands. */
			assert_int_equal(v.n, 4);
			assert_passed(v.p[0], keep[0], klen[0]);
			assert_passed(v.p[1], keep[2], klen[2]);
			assert_passed(v.p[2], keep[1], klen[1]);
			assert_passed(v.p[3], keep[3], klen[3]);
			assert_int_equal(fx->st.gro_nomem, 2);
		}
		pkt_vec_free(&v);
		free_all(held, fx->big.count);
	}

	/* No headroom for the vnet header: freed, counted; the rest pass. */
	{
		struct pkt *p = pkt_alloc(&fx->pool);

		klen[0] =
			build_frame(&fl[0], &f, payload, 10, 0, 1, F_ACK | F_PSH, CK_FULL, keep[0]);
		pkt_reset(p, 0);
		memcpy(pkt_put(p, klen[0]), keep[0], klen[0]);
		pkt_vec_init(&v);
		pkt_vec_add(&v, p);
		pkt_vec_add(&v, pkt_from(&fx->pool, keep[0], 13));
		pkt_vec_add(&v, pkt_from(&fx->pool, keep[0], 0));
		gro_frames_run(fx, &v);
		assert_int_equal(v.n, 2);
		assert_int_equal(fx->st.drops[OFFLOAD_DROP_HEADROOM], 1);
		assert_passed(v.p[0], keep[0], 13);
		assert_passed(v.p[1], keep[0], 0);
		pkt_vec_free(&v);
	}
}

/*
 * Frames with GRO_TRUSTED (they came off a wire, through the AEAD): a frame whose TCP
 * checksum is wrong merges like the others, where without the flag it passes alone.
 */
static void test_gro_frames_trusted(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make();
	struct flow f = flow_make(4, 6);

	for (int trusted = 0; trusted < 2; trusted++) {
		struct offload_stats before = fx->st;
		struct pkt_vec v;
		struct pkt *bad;

		pkt_vec_init(&v);
		pkt_vec_add(&v, fseg(fx, &e, &f, 0, 1000, 0, F_ACK));
		bad = fseg(fx, &e, &f, 1000, 1000, 1, F_ACK);
		bad->data[bad->len - 1] ^= 0x10;
		pkt_vec_add(&v, bad);
		pkt_vec_add(&v, fseg(fx, &e, &f, 2000, 1000, 2, F_ACK));
		gro_test(fx, &v, &fx->big, GRO_FRAMES | (trusted ? GRO_TRUSTED : 0));
		/* Untrusted: the first passes (its group ends at the bad one), the bad one too. */
		assert_int_equal(v.n, trusted ? 1 : 3);
		assert_int_equal(fx->st.gro_bad_csum - before.gro_bad_csum, trusted ? 0 : 1);
		assert_int_equal(fx->st.gro_merged - before.gro_merged, trusted ? 3 : 0);
		pkt_vec_free(&v);
	}
}

/* A super-frame split (optionally capped) and coalesced again comes back the same. */
static void frames_roundtrip(struct fixture *fx, const struct eth *e, const struct flow *f,
			     uint32_t total, uint32_t gso, uint8_t flags, uint32_t max_frame,
			     uint32_t seg_size)
{
	static struct pkt *segs[MAXSEGS];
	struct vnet_hdr h = super_frame_hdr(e, f, gso, false);
	uint32_t len = build_frame(e, f, payload, total, 777, 4242, flags, CK_PARTIAL, fref);
	uint32_t n = split_frames_all(fx, &h, fref, len, max_frame, segs);
	struct pkt_vec v;

	assert_int_equal(n, total ? (total + seg_size - 1) / seg_size : 1);
	assert_true(n <= PKT_VEC_MAX);
	pkt_vec_init(&v);
	for (uint32_t i = 0; i < n; i++)
		pkt_vec_add(&v, segs[i]);
	gro_frames_run(fx, &v);
	assert_int_equal(v.n, 1);
	if (n == 1) {
		len = eth_put(e, ethertype_of(f), fref);
		len += ref_segment(f, total, seg_size, 777, 4242, flags, 0, 1, fref + len);
		assert_passed(v.p[0], fref, len);
	} else {
		assert_super_frame(v.p[0], e, f, 0, total, 777, 4242, flags, seg_size);
	}
	pkt_vec_free(&v);
}

static void test_gro_frames_roundtrip(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make(), ev = eth_make();
	struct flow f4 = flow_make(4, 6), f6 = flow_make(6, 6);
	const uint32_t sizes[] = {1, MSS4 - 1, MSS4, MSS4 + 1, 2 * MSS4, 45 * MSS4, 65535 - 40};

	ev.vlan = true;
	ev.tci = 0x0fff;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		frames_roundtrip(fx, &e, &f4, sizes[i], MSS4, F_ACK | F_PSH, 0, MSS4);
		frames_roundtrip(fx, &ev, &f4, sizes[i], MSS4, F_ACK, 0, MSS4);
		frames_roundtrip(fx, &e, &f6, sizes[i] - (i == 6 ? 20 : 0), MSS6, F_ACK | F_PSH, 0,
				 MSS6);
	}
	f4.ts = f6.ts = true;
	f4.df = false;
	f6.tos = 0xb8;
	frames_roundtrip(fx, &ev, &f6, 65535 - 72, MSS6 - 12, F_ACK | F_ECE, 0, MSS6 - 12);
	/* Capped: the super-frame comes back with the smaller gso_size. */
	frames_roundtrip(fx, &e, &f4, 65535 - 52, 1448, F_ACK | F_PSH, TUNNEL_FRAME,
			 TUNNEL_FRAME - 14 - 52);
	frames_roundtrip(fx, &ev, &f4, 30000, 1448, F_ACK, TUNNEL_FRAME, TUNNEL_FRAME - 18 - 52);
	frames_roundtrip(fx, &e, &f6, 20000, 1428, F_ACK | F_PSH, TUNNEL_FRAME,
			 TUNNEL_FRAME - 14 - 72);
	assert_int_equal(fx->st.gro_bad_csum, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gro_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_not_mergeable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_bad_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_trusted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_many_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_frames_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_frames_l2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_frames_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_frames_trusted, setup, teardown),
		chained_test(test_gro_roundtrip),
		chained_test(test_gro_chain_no_room),
		chained_test(test_gro_not_mergeable),
		chained_test(test_gro_fields),
		chained_test(test_gro_bad_csum),
		chained_test(test_gro_trusted),
		chained_test(test_gro_many_flows),
		chained_test(test_gro_frames_merge),
		chained_test(test_gro_frames_l2),
		chained_test(test_gro_frames_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
