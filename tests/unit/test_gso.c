/* SPDX-License-Identifier: MIT */
/*
 * TSO/USO split of super-packets (TUN) and super-frames (TAP, with and without the tunnel
 * cap on the frame size) against the reference segmenter, checksums verified with
 * core/csum.h; resumption across a full output and a dry pool; malformed headers and
 * packets refused whole and counted.
 */
#include "offload_harness.h"

/* Room split segments must leave in front: VXLAN, UDP, IPv4, WireGuard data header. */
#define ENCAP_PUSH (8 + 8 + 20 + 16)

static uint8_t ref[70000];
static uint8_t fref[70100];

static void check_split(struct fixture *fx, const struct flow *f, uint32_t total, uint32_t gso,
			uint8_t flags)
{
	static struct pkt *segs[MAXSEGS];
	uint32_t seq0 = 0xfffff000, nsegs = total ? (total + gso - 1) / gso : 1, n, len;
	uint16_t id0 = 0xfffe;
	struct vnet_hdr h = super_hdr(f, gso, flags & F_CWR);
	struct pkt *in;
	uint64_t before = fx->st.split_segs;

	len = build(f, payload, total, seq0, id0, flags, CK_PARTIAL, ref);
	in = pkt_from(&fx->big, ref, len);
	n = split_all(fx, &h, in, segs);
	assert_int_equal(n, nsegs);
	assert_int_equal(fx->st.split_segs - before, nsegs);
	for (uint32_t k = 0; k < n; k++) {
		len = ref_segment(f, total, gso, seq0, id0, flags, k, nsegs, ref);
		assert_int_equal(segs[k]->len, len);
		assert_memory_equal(segs[k]->data, ref, len);
		assert_int_equal(pkt_headroom(segs[k]), PKT_HEADROOM);
		assert_true(pkt_tailroom(segs[k]) >= PKT_TAILROOM);
		assert_csums(segs[k]->data, segs[k]->len);
	}
	free_all(segs, n);
}

/* ---- TSO split ---- */

static void test_split_tcp4_sizes(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(4, 6);
	const uint32_t sizes[] = {1,	    MSS4 - 1,	  MSS4,	     MSS4 + 1,
				  2 * MSS4, 2 * MSS4 + 1, 45 * MSS4, 65535 - 40};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_split(fx, &f, sizes[i], MSS4, F_ACK | F_PSH);
	f.ts = true;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_split(fx, &f, sizes[i] - (i == 7 ? 12 : 0), MSS4_TS, F_ACK);
	assert_int_equal(fx->st.split_in, 16);
}

static void test_split_tcp6_sizes(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(6, 6);
	const uint32_t sizes[] = {1, MSS6 - 1, MSS6, MSS6 + 1, 3 * MSS6 - 1, 45 * MSS6, 65535 - 20};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_split(fx, &f, sizes[i], MSS6, F_ACK | F_PSH);
	f.ts = true;
	f.tos = 0x2e;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_split(fx, &f, sizes[i] - (i == 6 ? 12 : 0), MSS6 - 12, F_ACK);
}

static void test_split_tcp_flags(void **state)
{
	struct fixture *fx = *state;
	struct flow f4 = flow_make(4, 6), f6 = flow_make(6, 6);

	/* FIN and PSH only on the last segment, CWR only on the first, the rest everywhere. */
	check_split(fx, &f4, 5 * MSS4 - 7, MSS4, F_ACK | F_PSH | F_FIN);
	check_split(fx, &f4, 5 * MSS4, MSS4, F_ACK | F_CWR | F_ECE);
	check_split(fx, &f4, MSS4, MSS4, F_ACK | F_CWR | F_PSH | F_FIN);
	check_split(fx, &f6, 4 * MSS6 + 1, MSS6, F_ACK | F_PSH | F_FIN | F_CWR);
	/* IPv4 without DF: the ID still counts up per segment and wraps. */
	f4.df = false;
	f4.tos = 0x03;
	check_split(fx, &f4, 7 * MSS4, MSS4, F_ACK);
	/* A GSO packet with headers only still makes one packet. */
	check_split(fx, &f4, 0, MSS4, F_ACK | F_FIN);
}

static void test_split_udp(void **state)
{
	struct fixture *fx = *state;
	struct flow f4 = flow_make(4, 17), f6 = flow_make(6, 17);
	const uint32_t sizes[] = {1, 1391, 1392, 1393, 10 * 1392, 64 * 1000};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_split(fx, &f4, sizes[i], 1392, 0);
		check_split(fx, &f6, sizes[i], i == 5 ? 1000 : 1372, 0);
	}
}

/* A UDP segment whose checksum comes out 0 is sent as 0xffff (RFC 768). */
static void test_split_udp_zero_csum(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(4, 17);
	static struct pkt *segs[MAXSEGS];
	uint8_t data[64];
	struct vnet_hdr h = super_hdr(&f, 32, false);
	uint32_t len;
	uint16_t fix;

	memcpy(data, payload, sizeof(data));
	/* Make the second 32-byte datagram's sum come to 0xffff: its checksum is then 0. */
	put_be16(data + 62, 0);
	len = build(&f, data + 32, 32, 0, 1, 0, CK_ZERO, ref);
	fix = (uint16_t)~ref_fold(ref_sum(ref + 20, len - 20, ref_pseudo(&f, len - 20)));
	put_be16(data + 62, fix);
	len = build(&f, data + 32, 32, 0, 1, 0, CK_ZERO, ref);
	assert_int_equal(ref_fold(ref_sum(ref + 20, len - 20, ref_pseudo(&f, len - 20))), 0xffff);

	len = build(&f, data, 64, 0, 0, 0, CK_PARTIAL, ref);
	assert_int_equal(split_all(fx, &h, pkt_from(&fx->big, ref, len), segs), 2);
	assert_int_equal(get_be16(segs[1]->data + 26), 0xffff);
	assert_csums(segs[1]->data, segs[1]->len);
	assert_int_equal(get_be16(segs[1]->data + 4), 1);
	free_all(segs, 2);
}

static void test_split_partial_csum(void **state)
{
	struct fixture *fx = *state;
	struct flow fl[3] = {flow_make(4, 6), flow_make(6, 6), flow_make(6, 17)};
	uint8_t want[2048];
	enum offload_drop why;
	uint32_t cursor = 0;
	struct pkt_vec out;

	pkt_vec_init(&out);
	for (int i = 0; i < 3; i++) {
		struct vnet_hdr h = {.flags = VNET_HDR_F_NEEDS_CSUM,
				     .csum_start = (uint16_t)l3_of(&fl[i]),
				     .csum_offset = fl[i].proto == 6 ? 16 : 6};
		uint32_t len =
			build(&fl[i], payload + i, 1000 + (uint32_t)i, 77, 5, F_ACK, CK_FULL, want);
		struct pkt *p;

		build(&fl[i], payload + i, 1000 + (uint32_t)i, 77, 5, F_ACK, CK_PARTIAL, ref);
		p = pkt_from(&fx->pool, ref, len);
		assert_int_equal(gso_split(&h, p, &cursor, &fx->pool, &out, &fx->st, &why),
				 GSO_PASS);
		assert_int_equal(out.n, 0);
		assert_int_equal(p->len, len);
		assert_memory_equal(p->data, want, len);
		assert_csums(p->data, p->len);
		pkt_free(p);
	}
	assert_int_equal(fx->st.csum_completed, 3);
	/* No NEEDS_CSUM: passed as it is. */
	{
		struct vnet_hdr h = {.flags = VNET_HDR_F_DATA_VALID};
		struct pkt *p = pkt_from(&fx->pool, ref, 100);

		assert_int_equal(gso_split(&h, p, &cursor, &fx->pool, &out, &fx->st, &why),
				 GSO_PASS);
		assert_memory_equal(p->data, ref, 100);
		pkt_free(p);
	}
	assert_int_equal(fx->st.csum_completed, 3);
}

/* Out fills up, then the pool runs dry: each time the next call goes on where it stopped. */
static void test_split_resume(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(4, 6);
	uint32_t total = 45 * MSS4 + 17, nsegs = 46, len, cursor = 0, got = 0;
	struct vnet_hdr h = super_hdr(&f, MSS4, false);
	static struct pkt *hold[512];
	uint32_t nhold = 0;
	struct pkt_vec out;
	enum offload_drop why;
	struct pkt *in;

	len = build(&f, payload, total, 1, 100, F_ACK | F_PSH, CK_PARTIAL, ref);
	in = pkt_from(&fx->big, ref, len);

	/* Only 5 free slots in out. */
	pkt_vec_init(&out);
	out.n = PKT_VEC_MAX - 5;
	assert_int_equal(gso_split(&h, in, &cursor, &fx->pool, &out, &fx->st, &why), GSO_MORE);
	assert_int_equal(cursor, 5);
	for (uint32_t i = PKT_VEC_MAX - 5; i < PKT_VEC_MAX; i++)
		hold[nhold++] = out.p[i];
	/* Leave the pool 7 buffers. */
	while (fx->pool.nfree > 7)
		hold[nhold++] = pkt_alloc(&fx->pool);
	pkt_vec_init(&out);
	assert_int_equal(gso_split(&h, in, &cursor, &fx->pool, &out, &fx->st, &why), GSO_MORE);
	assert_int_equal(out.n, 7);
	assert_int_equal(cursor, 12);
	assert_int_equal(fx->st.split_stalls, 2);
	for (uint32_t i = 0; i < out.n; i++)
		hold[nhold++] = out.p[i];
	/* Give back everything but the segments, then finish. */
	{
		static struct pkt *segs[MAXSEGS];

		for (uint32_t i = 0; i < 12; i++)
			segs[got++] = hold[i < 5 ? i : nhold - 7 + (i - 5)];
		for (uint32_t i = 5; i < nhold - 7; i++)
			pkt_free(hold[i]);
		pkt_vec_init(&out);
		assert_int_equal(gso_split(&h, in, &cursor, &fx->pool, &out, &fx->st, &why),
				 GSO_DONE);
		assert_int_equal(cursor, 0);
		for (uint32_t i = 0; i < out.n; i++)
			segs[got++] = out.p[i];
		assert_int_equal(got, nsegs);
		for (uint32_t k = 0; k < nsegs; k++) {
			len = ref_segment(&f, total, MSS4, 1, 100, F_ACK | F_PSH, k, nsegs, ref);
			assert_int_equal(segs[k]->len, len);
			assert_memory_equal(segs[k]->data, ref, len);
		}
		free_all(segs, got);
	}
	pkt_free(in);
}

/* The batch form over packets as read from the TUN, resumed until the input is empty. */
static void test_split_batch(void **state)
{
	struct fixture *fx = *state;
	struct flow f4 = flow_make(4, 6), f6 = flow_make(6, 17);
	struct vnet_hdr h4 = super_hdr(&f4, MSS4, false), h6 = super_hdr(&f6, 1200, false);
	struct vnet_hdr none = {0}, bad = h4;
	static struct pkt *got[512];
	struct pkt_vec in, out;
	uint32_t cursor = 0, ngot = 0, len, calls = 0;
	enum gso_batch_status s;
	struct pkt *p;

	bad.gso_size = 0;
	pkt_vec_init(&in);
	/* 48 TCP segments, a plain packet, a bad header, 20 UDP datagrams, a 3-byte read. */
	len = build(&f4, payload, 65535 - 40, 9, 1, F_ACK, CK_PARTIAL, ref);
	p = pkt_from(&fx->big, ref, len);
	vnet_hdr_push(p, &h4);
	pkt_vec_add(&in, p);
	len = build(&f4, payload, 300, 9, 1, F_ACK, CK_FULL, ref);
	p = pkt_from(&fx->pool, ref, len);
	vnet_hdr_push(p, &none);
	pkt_vec_add(&in, p);
	len = build(&f4, payload, 3000, 9, 1, F_ACK, CK_PARTIAL, ref);
	p = pkt_from(&fx->big, ref, len);
	vnet_hdr_push(p, &bad);
	pkt_vec_add(&in, p);
	len = build(&f6, payload, 24000, 0, 0, 0, CK_PARTIAL, ref);
	p = pkt_from(&fx->big, ref, len);
	vnet_hdr_push(p, &h6);
	pkt_vec_add(&in, p);
	p = pkt_from(&fx->pool, ref, 3);
	pkt_vec_add(&in, p);

	do {
		pkt_vec_init(&out);
		out.n = PKT_VEC_MAX - 10; /* a small window, to stop often */
		s = gso_split_batch(&in, &cursor, &fx->pool, &out, &fx->st);
		assert_true(s == GSO_BATCH_DONE || s == GSO_BATCH_OUT_FULL);
		for (uint32_t i = PKT_VEC_MAX - 10; i < out.n; i++)
			got[ngot++] = out.p[i];
		calls++;
	} while (s != GSO_BATCH_DONE);
	assert_int_equal(in.n, 0);
	assert_int_equal(ngot, 48 + 1 + 20);
	assert_true(calls >= 7);
	for (uint32_t k = 0; k < 48; k++) {
		len = ref_segment(&f4, 65535 - 40, MSS4, 9, 1, F_ACK, k, 48, ref);
		assert_memory_equal(got[k]->data, ref, len);
	}
	len = build(&f4, payload, 300, 9, 1, F_ACK, CK_FULL, ref);
	assert_int_equal(got[48]->len, len);
	assert_memory_equal(got[48]->data, ref, len);
	for (uint32_t k = 0; k < 20; k++) {
		len = ref_segment(&f6, 24000, 1200, 0, 0, 0, k, 20, ref);
		assert_memory_equal(got[49 + k]->data, ref, len);
	}
	assert_int_equal(fx->st.drops[OFFLOAD_DROP_GSO_SIZE], 1);
	assert_int_equal(fx->st.drops[OFFLOAD_DROP_SHORT], 1);
	free_all(got, ngot);

	/* The pool running dry is reported apart from a full out. */
	len = build(&f4, payload, 10 * MSS4, 9, 1, F_ACK, CK_PARTIAL, ref);
	p = pkt_from(&fx->big, ref, len);
	vnet_hdr_push(p, &h4);
	pkt_vec_add(&in, p);
	ngot = 0;
	while (fx->pool.nfree > 4)
		got[ngot++] = pkt_alloc(&fx->pool);
	pkt_vec_init(&out);
	assert_int_equal(gso_split_batch(&in, &cursor, &fx->pool, &out, &fx->st), GSO_BATCH_NOMEM);
	assert_int_equal(in.n, 1);
	assert_int_equal(out.n, 4);
	assert_int_equal(cursor, 4);
	free_all(got, ngot);
	pkt_vec_free(&out);
	assert_int_equal(gso_split_batch(&in, &cursor, &fx->pool, &out, &fx->st), GSO_BATCH_DONE);
	assert_int_equal(out.n, 6);
	len = ref_segment(&f4, 10 * MSS4, MSS4, 9, 1, F_ACK, 4, 10, ref);
	assert_memory_equal(out.p[0]->data, ref, len);
	pkt_vec_free(&out);
}

/* ---- malformed headers and packets: refused whole, counted, input untouched ---- */

struct bad_case {
	const char *name;
	enum offload_drop why;
};

static void expect_drop(struct fixture *fx, const struct vnet_hdr *h, const uint8_t *b,
			uint32_t len, enum offload_drop want, struct pkt_pool *pool)
{
	struct pkt *p = pkt_from(&fx->big, b, len);
	uint64_t before = fx->st.drops[want];
	enum offload_drop why = OFFLOAD_DROP_MAX;
	uint32_t cursor = 0;
	struct pkt_vec out;

	pkt_vec_init(&out);
	assert_int_equal(gso_split(h, p, &cursor, pool, &out, &fx->st, &why), GSO_DROP);
	assert_int_equal(why, want);
	assert_int_equal(fx->st.drops[want], before + 1);
	assert_int_equal(out.n, 0);
	assert_int_equal(p->len, len);
	assert_memory_equal(p->data, b, len);
	pkt_free(p);
}

static void test_split_malformed(void **state)
{
	struct fixture *fx = *state;
	struct flow f4 = flow_make(4, 6), f6 = flow_make(6, 6), u4 = flow_make(4, 17);
	static uint8_t b[70000], b6[70000], bu[4000];
	uint32_t len = build(&f4, payload, 5000, 1, 1, F_ACK, CK_PARTIAL, b);
	uint32_t len6 = build(&f6, payload, 5000, 1, 1, F_ACK, CK_PARTIAL, b6);
	uint32_t lenu = build(&u4, payload, 3000, 0, 1, 0, CK_PARTIAL, bu);
	struct vnet_hdr ok = super_hdr(&f4, MSS4, false), h;
	struct pkt_pool small;

	/* vnet header fields */
	h = ok, h.flags |= 0x04;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_FLAGS, &fx->pool);
	h = ok, h.gso_type = VNET_HDR_GSO_UDP;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_GSO_TYPE, &fx->pool);
	h = ok, h.gso_type = 2;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_GSO_TYPE, &fx->pool);
	h = ok, h.gso_type = VNET_HDR_GSO_TCPV6;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_GSO_TYPE, &fx->pool);
	h = super_hdr(&u4, 1000, false), h.gso_type |= VNET_HDR_GSO_ECN;
	expect_drop(fx, &h, bu, lenu, OFFLOAD_DROP_GSO_TYPE, &fx->pool);
	h = ok, h.gso_size = 0;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_GSO_SIZE, &fx->pool);
	h = ok, h.hdr_len = (uint16_t)(len + 1);
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_HDR_LEN, &fx->pool);
	h = ok, h.csum_start = 24;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_CSUM, &fx->pool);
	h = ok, h.csum_offset = 6;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_CSUM, &fx->pool);
	h = super_hdr(&u4, 1000, false), h.csum_offset = 16;
	expect_drop(fx, &h, bu, lenu, OFFLOAD_DROP_CSUM, &fx->pool);
	h = (struct vnet_hdr){.flags = VNET_HDR_F_NEEDS_CSUM, .csum_start = 100, .csum_offset = 1};
	expect_drop(fx, &h, b, 102, OFFLOAD_DROP_CSUM, &fx->pool);
	h.csum_start = 0xffff, h.csum_offset = 0xffff;
	expect_drop(fx, &h, b, 102, OFFLOAD_DROP_CSUM, &fx->pool);
	/* Segments larger than the pool's buffers. */
	h = ok, h.gso_size = 4000;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_SEG_SIZE, &fx->pool);
	assert_true(pkt_pool_init(&small, 4, PKT_HEADROOM + 1000 + PKT_TAILROOM));
	expect_drop(fx, &ok, b, len, OFFLOAD_DROP_SEG_SIZE, &small);
	pkt_pool_destroy(&small);

	/* hdr_len is a hint (the forwarding path puts the whole linear part there): any value
	 * inside the packet is taken. */
	{
		static struct pkt *segs[MAXSEGS];

		h = ok, h.hdr_len = (uint16_t)len;
		assert_int_equal(split_all(fx, &h, pkt_from(&fx->big, b, len), segs), 4);
		free_all(segs, 4);
		h.hdr_len = 0;
		assert_int_equal(split_all(fx, &h, pkt_from(&fx->big, b, len), segs), 4);
		free_all(segs, 4);
	}

	/* the packet behind a good header (hdr_len 0 so that it does not catch short ones) */
	ok.hdr_len = 0;
	h = ok;
	expect_drop(fx, &h, b, 19, OFFLOAD_DROP_IP, &fx->pool);
	expect_drop(fx, &h, b, 0, OFFLOAD_DROP_GSO_TYPE, &fx->pool);
	expect_drop(fx, &h, b, len - 1, OFFLOAD_DROP_IP, &fx->pool); /* total length */
	b[6] |= 0x20;						     /* MF */
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_IP, &fx->pool);
	b[6] = 0x40, b[7] = 1; /* offset */
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_IP, &fx->pool);
	b[7] = 0, b[9] = 17;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_IP, &fx->pool);
	b[9] = 6, b[0] = 0x44;
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_IP, &fx->pool);
	b[0] = 0x4f; /* IHL 60 in a 50-byte packet */
	put_be16(b + 2, 50);
	h.csum_start = 60;
	expect_drop(fx, &h, b, 50, OFFLOAD_DROP_IP, &fx->pool);
	put_be16(b + 2, (uint16_t)len);
	b[0] = 0x45, h = ok;
	b[32] = 0x40; /* data offset 4 */
	expect_drop(fx, &h, b, len, OFFLOAD_DROP_L4, &fx->pool);
	b[32] = 0x50;
	put_be16(b + 2, 30);
	expect_drop(fx, &h, b, 30, OFFLOAD_DROP_L4, &fx->pool);
	put_be16(b + 2, 60);
	b[32] = 0xf0; /* 60-byte TCP header in a 60-byte packet */
	expect_drop(fx, &h, b, 60, OFFLOAD_DROP_L4, &fx->pool);
	b[32] = 0x50;

	h = super_hdr(&f6, MSS6, false);
	h.hdr_len = 0;
	expect_drop(fx, &h, b6, len6 - 1, OFFLOAD_DROP_IP, &fx->pool);
	expect_drop(fx, &h, b6, 39, OFFLOAD_DROP_IP, &fx->pool);
	b6[6] = 0; /* hop-by-hop options first */
	expect_drop(fx, &h, b6, len6, OFFLOAD_DROP_IP_EXT, &fx->pool);
	b6[6] = 17;
	expect_drop(fx, &h, b6, len6, OFFLOAD_DROP_IP, &fx->pool);
	b6[6] = 6;
	h.gso_type = VNET_HDR_GSO_TCPV4;
	expect_drop(fx, &h, b6, len6, OFFLOAD_DROP_GSO_TYPE, &fx->pool);
	/* Over 64 KiB of IPv4. */
	h = ok;
	expect_drop(fx, &h, b, 65536, OFFLOAD_DROP_TOO_LONG, &fx->pool);
	/* An IPv6 payload of exactly 65535 bytes is fine. */
	{
		static struct pkt *segs[MAXSEGS];
		uint32_t n;

		len6 = build(&f6, payload, 65535 - 20, 1, 1, F_ACK, CK_PARTIAL, b6);
		assert_int_equal(len6, 65575);
		h = super_hdr(&f6, MSS6, false);
		n = split_all(fx, &h, pkt_from(&fx->big, b6, len6), segs);
		assert_int_equal(n, (65535 - 20 + MSS6 - 1) / MSS6);
		free_all(segs, n);
	}
	assert_int_equal(fx->st.split_segs, 8 + (65535 - 20 + MSS6 - 1) / MSS6);
}

/* ---- Ethernet frames: split ---- */

/*
 * A super-frame of flow f behind e, split with max_frame: the segments must be e's link
 * header + the reference segments at seg_size payload bytes (given by the caller).
 */
static void check_split_frames(struct fixture *fx, const struct eth *e, const struct flow *f,
			       uint32_t total, uint32_t gso, uint8_t flags, uint32_t max_frame,
			       uint32_t seg_size)
{
	static struct pkt *segs[MAXSEGS];
	uint32_t link = link_of(e), seq0 = 0xfffff000, n, len;
	uint32_t nsegs = total ? (total + seg_size - 1) / seg_size : 1;
	struct vnet_hdr h = super_frame_hdr(e, f, gso, flags & F_CWR);
	uint64_t before = fx->st.split_segs, in_before = fx->st.split_in;
	uint16_t id0 = 0xfffe;

	len = build_frame(e, f, payload, total, seq0, id0, flags, CK_PARTIAL, fref);
	n = split_frames_all(fx, &h, fref, len, max_frame, segs);
	assert_int_equal(n, nsegs);
	assert_int_equal(fx->st.split_segs - before, nsegs);
	assert_int_equal(fx->st.split_in - in_before, 1);
	for (uint32_t k = 0; k < n; k++) {
		struct pkt *p = segs[k];

		len = eth_put(e, ethertype_of(f), fref);
		len += ref_segment(f, total, seg_size, seq0, id0, flags, k, nsegs, fref + len);
		assert_int_equal(p->len, len);
		assert_memory_equal(p->data, fref, len);
		if (f->proto == 6) {
			assert_int_equal(get_be32(p->data + link + l3_of(f) + 4),
					 seq0 + k * seg_size);
			if (max_frame)
				assert_true(p->len <= max_frame);
		}
		/* Room for VXLAN encapsulation and the WireGuard header in front, tag behind. */
		assert_true(pkt_headroom(p) >= ENCAP_PUSH);
		assert_true(pkt_tailroom(p) >= PKT_TAILROOM);
		assert_csums(p->data + link, p->len - link);
	}
	free_all(segs, n);
}

/* No cap: each segment is the link header + the reference segment at the sender's size. */
static void test_split_frames_tcp(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make();
	struct flow f4 = flow_make(4, 6), f6 = flow_make(6, 6);
	const uint32_t sizes4[] = {1,	     MSS4 - 1,	    MSS4,      MSS4 + 1,
				   7 * MSS4, 45 * MSS4 + 3, 65535 - 40};
	const uint32_t sizes6[] = {1, MSS6, MSS6 + 1, 3 * MSS6 - 1, 45 * MSS6, 65535 - 20};

	for (size_t i = 0; i < sizeof(sizes4) / sizeof(sizes4[0]); i++)
		check_split_frames(fx, &e, &f4, sizes4[i], MSS4, F_ACK | F_PSH, 0, MSS4);
	for (size_t i = 0; i < sizeof(sizes6) / sizeof(sizes6[0]); i++)
		check_split_frames(fx, &e, &f6, sizes6[i], MSS6, F_ACK | F_PSH, 0, MSS6);
	/* Flags, options, ECN: as for packets. */
	f4.ts = true;
	f4.df = false;
	check_split_frames(fx, &e, &f4, 65535 - 52, MSS4_TS, F_ACK | F_PSH | F_FIN, 0, MSS4_TS);
	check_split_frames(fx, &e, &f4, 9 * 1448 + 1, 1448, F_ACK | F_CWR | F_ECE, 0, 1448);
	f6.ts = true;
	f6.tos = 0xb8;
	check_split_frames(fx, &e, &f6, 65535 - 32, MSS6 - 12, F_ACK | F_CWR | F_PSH, 0, MSS6 - 12);
	/* Headers only still make one segment. */
	check_split_frames(fx, &e, &f6, 0, MSS6, F_ACK | F_FIN, 0, MSS6);
	assert_int_equal(fx->st.split_in, 7 + 6 + 4);
}

/* A 1384-byte cap (what a 1420 tunnel leaves for the inner frame) cuts TCP finer. */
static void test_split_frames_cap(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make();
	struct flow f4 = flow_make(4, 6), f6 = flow_make(6, 6);
	const uint32_t cut4 = TUNNEL_FRAME - 14 - 20 - 32; /* 1318 */
	const uint32_t cut6 = TUNNEL_FRAME - 14 - 40 - 32; /* 1298 */

	f4.ts = f6.ts = true;
	assert_int_equal(cut4, 1318);
	/* 44 segments: 43 of 1318 bytes and a last one of 1251. */
	check_split_frames(fx, &e, &f4, 40 * 1448 + 5, 1448, F_ACK | F_PSH, TUNNEL_FRAME, cut4);
	check_split_frames(fx, &e, &f4, 65535 - 52, 1448, F_ACK | F_PSH | F_FIN | F_CWR,
			   TUNNEL_FRAME, cut4);
	/* Around one segment. */
	check_split_frames(fx, &e, &f4, cut4 - 1, 1448, F_ACK, TUNNEL_FRAME, cut4);
	check_split_frames(fx, &e, &f4, cut4, 1448, F_ACK, TUNNEL_FRAME, cut4);
	check_split_frames(fx, &e, &f4, cut4 + 1, 1448, F_ACK | F_PSH, TUNNEL_FRAME, cut4);
	check_split_frames(fx, &e, &f4, 1448, 1448, F_ACK, TUNNEL_FRAME, cut4);
	/* gso_size already within the cap, or exactly at it: the sender's size stays. */
	check_split_frames(fx, &e, &f4, 20 * 1200 + 3, 1200, F_ACK, TUNNEL_FRAME, 1200);
	check_split_frames(fx, &e, &f4, 10 * cut4, cut4, F_ACK, TUNNEL_FRAME, cut4);
	check_split_frames(fx, &e, &f4, 10 * 1448 + 1, 1448, F_ACK, 1514, 1448);
	check_split_frames(fx, &e, &f4, 10 * 1448, 1448, F_ACK, 9000, 1448);
	/* One byte under a full 1500-byte MTU frame. */
	check_split_frames(fx, &e, &f4, 10 * 1448, 1448, F_ACK, 1513, 1447);
	/* IPv6. */
	check_split_frames(fx, &e, &f6, 30000, 1428, F_ACK | F_PSH, TUNNEL_FRAME, cut6);
	check_split_frames(fx, &e, &f6, 65535 - 32, 1428, F_ACK, TUNNEL_FRAME, cut6);
	/* Without DF the IDs count per segment actually sent. */
	f4.df = false;
	check_split_frames(fx, &e, &f4, 10000, 1448, F_ACK, TUNNEL_FRAME, cut4);
	/* No timestamps: 1384 - 14 - 20 - 20. */
	f4.ts = false;
	check_split_frames(fx, &e, &f4, 10000, 1460, F_ACK, TUNNEL_FRAME, 1330);
	/* A gso_size the pool's buffers could not hold is fine once the cap cuts it. */
	check_split_frames(fx, &e, &f4, 20000, 4000, F_ACK, TUNNEL_FRAME, 1330);
	assert_int_equal(fx->st.drops[OFFLOAD_DROP_SEG_SIZE], 0);
}

/* Behind one 802.1Q tag: 18 bytes of link header, copied to every segment. */
static void test_split_frames_vlan(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make();
	struct flow f4 = flow_make(4, 6), f6 = flow_make(6, 6), u4 = flow_make(4, 17);
	static struct pkt *segs[MAXSEGS];
	const uint8_t tag[6] = {0x81, 0x00, 0x20, 0x64, 0x08, 0x00};
	struct vnet_hdr h;
	uint32_t len, n;

	e.vlan = true;
	e.tci = 0x2064; /* PCP 1, VID 100 */
	check_split_frames(fx, &e, &f4, 10 * MSS4 + 7, MSS4, F_ACK | F_PSH, 0, MSS4);
	check_split_frames(fx, &e, &f6, 65535 - 20, MSS6, F_ACK, 0, MSS6);
	check_split_frames(fx, &e, &u4, 5000, 1392, 0, 0, 1392);
	f4.ts = f6.ts = true;
	check_split_frames(fx, &e, &f4, 30000, 1448, F_ACK, TUNNEL_FRAME, TUNNEL_FRAME - 18 - 52);
	check_split_frames(fx, &e, &f6, 30000, 1428, F_ACK, TUNNEL_FRAME, TUNNEL_FRAME - 18 - 72);

	/* The tag, spelled out, on every segment. */
	h = super_frame_hdr(&e, &f4, 1448, false);
	assert_int_equal(h.csum_start, 38);
	len = build_frame(&e, &f4, payload, 5 * 1448, 1, 1, F_ACK, CK_PARTIAL, fref);
	n = split_frames_all(fx, &h, fref, len, TUNNEL_FRAME, segs);
	assert_int_equal(n, 6);
	for (uint32_t k = 0; k < n; k++) {
		assert_memory_equal(segs[k]->data, e.dst, 6);
		assert_memory_equal(segs[k]->data + 6, e.src, 6);
		assert_memory_equal(segs[k]->data + 12, tag, sizeof(tag));
		assert_int_equal(segs[k]->data[18], 0x45);
		assert_true(segs[k]->len <= TUNNEL_FRAME);
	}
	assert_int_equal(segs[0]->len, TUNNEL_FRAME);
	assert_int_equal(segs[5]->len, 18 + 52 + 5 * 1448 - 5 * 1314);
	free_all(segs, n);
}

/* UDP GSO datagrams are the sender's: never re-cut, whatever the cap. */
static void test_split_frames_udp(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make();
	struct flow u4 = flow_make(4, 17), u6 = flow_make(6, 17);

	assert_true(14 + 28 + 1392 > 1000);
	check_split_frames(fx, &e, &u4, 10 * 1392 + 5, 1392, 0, 1000, 1392);
	check_split_frames(fx, &e, &u4, 64 * 1000, 1392, 0, TUNNEL_FRAME, 1392);
	check_split_frames(fx, &e, &u6, 9000, 1372, 0, TUNNEL_FRAME, 1372);
	check_split_frames(fx, &e, &u6, 1, 1372, 0, 100, 1372);
	check_split_frames(fx, &e, &u4, 14000, 1392, 0, 0, 1392);
}

/* Non-GSO frames go out themselves: a partial checksum completed in place, else untouched. */
static void test_split_frames_pass(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make(), ev = eth_make();
	struct flow t4 = flow_make(4, 6), u6 = flow_make(6, 17);
	static uint8_t want[6][2048];
	uint32_t wlen[6], cursor = 0;
	struct pkt *p[6];
	struct pkt_vec in, out;

	ev.vlan = true;
	ev.tci = 7;
	pkt_vec_init(&in);
	/* TCPv4, partial: csum_start 14 + 20. */
	wlen[0] = build_frame(&e, &t4, payload, 1000, 5, 9, F_ACK | F_PSH, CK_FULL, want[0]);
	build_frame(&e, &t4, payload, 1000, 5, 9, F_ACK | F_PSH, CK_PARTIAL, fref);
	p[0] = pkt_from(&fx->pool, fref, wlen[0]);
	vnet_hdr_push(p[0], &(struct vnet_hdr){.flags = VNET_HDR_F_NEEDS_CSUM,
					       .csum_start = 14 + 20,
					       .csum_offset = 16});
	/* UDPv6 behind a tag, partial: csum_start 18 + 40. */
	wlen[1] = build_frame(&ev, &u6, payload + 7, 333, 0, 0, 0, CK_FULL, want[1]);
	build_frame(&ev, &u6, payload + 7, 333, 0, 0, 0, CK_PARTIAL, fref);
	p[1] = pkt_from(&fx->pool, fref, wlen[1]);
	vnet_hdr_push(p[1], &(struct vnet_hdr){.flags = VNET_HDR_F_NEEDS_CSUM,
					       .csum_start = 18 + 40,
					       .csum_offset = 6});
	/* ARP and an STP BPDU, no flags. */
	wlen[2] = build_arp(&e, want[2]);
	p[2] = pkt_from(&fx->pool, want[2], wlen[2]);
	vnet_hdr_push(p[2], &(struct vnet_hdr){0});
	wlen[3] = build_stp(&e, want[3]);
	p[3] = pkt_from(&fx->pool, want[3], wlen[3]);
	vnet_hdr_push(p[3], &(struct vnet_hdr){0});
	/* A full frame over the cap, partial: not GSO, so not cut; only completed. */
	wlen[4] = build_frame(&e, &t4, payload, 1460, 5, 9, F_ACK, CK_FULL, want[4]);
	build_frame(&e, &t4, payload, 1460, 5, 9, F_ACK, CK_PARTIAL, fref);
	p[4] = pkt_from(&fx->pool, fref, wlen[4]);
	vnet_hdr_push(p[4], &(struct vnet_hdr){.flags = VNET_HDR_F_NEEDS_CSUM,
					       .csum_start = 14 + 20,
					       .csum_offset = 16});
	/* DATA_VALID, checksum already complete: untouched. */
	wlen[5] = build_frame(&ev, &t4, payload, 100, 5, 9, F_ACK, CK_FULL, want[5]);
	p[5] = pkt_from(&fx->pool, want[5], wlen[5]);
	vnet_hdr_push(p[5], &(struct vnet_hdr){.flags = VNET_HDR_F_DATA_VALID});
	for (int i = 0; i < 6; i++)
		pkt_vec_add(&in, p[i]);

	pkt_vec_init(&out);
	assert_int_equal(
		gso_split_frames_batch(&in, &cursor, &fx->pool, &out, &fx->st, TUNNEL_FRAME),
		GSO_BATCH_DONE);
	assert_int_equal(in.n, 0);
	assert_int_equal(out.n, 6);
	for (int i = 0; i < 6; i++) {
		assert_ptr_equal(out.p[i], p[i]);
		assert_int_equal(out.p[i]->len, wlen[i]);
		assert_memory_equal(out.p[i]->data, want[i], wlen[i]);
	}
	assert_csums(out.p[0]->data + 14, wlen[0] - 14);
	assert_csums(out.p[1]->data + 18, wlen[1] - 18);
	assert_int_equal(fx->st.csum_completed, 3);
	assert_int_equal(fx->st.split_in, 0);
	pkt_vec_free(&out);
}

/* Runs one frame (behind h) through the batch form: it must be dropped for reason want. */
static void expect_frame_drop(struct fixture *fx, const struct vnet_hdr *h, const uint8_t *b,
			      uint32_t len, uint32_t max_frame, enum offload_drop want)
{
	struct pkt *p = pkt_from(&fx->big, b, len);
	uint64_t before[OFFLOAD_DROP_MAX];
	uint32_t cursor = 0;
	struct pkt_vec in, out;

	memcpy(before, fx->st.drops, sizeof(before));
	if (h)
		assert_true(vnet_hdr_push(p, h));
	pkt_vec_init(&in);
	pkt_vec_add(&in, p);
	pkt_vec_init(&out);
	assert_int_equal(gso_split_frames_batch(&in, &cursor, &fx->pool, &out, &fx->st, max_frame),
			 GSO_BATCH_DONE);
	assert_int_equal(in.n, 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(cursor, 0);
	for (int r = 0; r < OFFLOAD_DROP_MAX; r++)
		assert_int_equal(fx->st.drops[r], before[r] + (r == (int)want));
}

static void test_split_frames_malformed(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make(), ev = eth_make();
	struct flow f4 = flow_make(4, 6), f6 = flow_make(6, 6);
	static uint8_t b[70100], bv[70100], b6[70100], arp[64], stp[64];
	uint32_t len = build_frame(&e, &f4, payload, 5000, 1, 1, F_ACK, CK_PARTIAL, b);
	uint32_t len6 = build_frame(&e, &f6, payload, 5000, 1, 1, F_ACK, CK_PARTIAL, b6);
	uint32_t lenv, larp, lstp;
	struct vnet_hdr ok = super_frame_hdr(&e, &f4, MSS4, false), okv, h;

	ev.vlan = true;
	ev.tci = 100;
	lenv = build_frame(&ev, &f4, payload, 5000, 1, 1, F_ACK, CK_PARTIAL, bv);
	okv = super_frame_hdr(&ev, &f4, MSS4, false);
	larp = build_arp(&e, arp);
	lstp = build_stp(&e, stp);

	/* GSO on a frame that carries no IP. */
	h = ok, h.hdr_len = 0, h.csum_start = 14;
	expect_frame_drop(fx, &h, arp, larp, 0, OFFLOAD_DROP_IP);
	expect_frame_drop(fx, &h, stp, lstp, TUNNEL_FRAME, OFFLOAD_DROP_IP);
	put_be16(bv + 16, ETH_P_ARP);
	expect_frame_drop(fx, &okv, bv, lenv, 0, OFFLOAD_DROP_IP);
	put_be16(bv + 16, ETH_P_IP);
	put_be16(bv + 12, 0x88a8);
	expect_frame_drop(fx, &okv, bv, lenv, 0, OFFLOAD_DROP_IP);
	put_be16(bv + 12, ETH_P_VLAN);
	/* csum_start inside the Ethernet header, or counted from the IP header. */
	h = ok, h.csum_start = 10;
	expect_frame_drop(fx, &h, b, len, 0, OFFLOAD_DROP_CSUM);
	h = ok, h.csum_start = 0;
	expect_frame_drop(fx, &h, b, len, TUNNEL_FRAME, OFFLOAD_DROP_CSUM);
	h = ok, h.csum_start = 20;
	expect_frame_drop(fx, &h, b, len, 0, OFFLOAD_DROP_CSUM);
	h = okv, h.csum_start = 14 + 20; /* the untagged offset on a tagged frame */
	expect_frame_drop(fx, &h, bv, lenv, 0, OFFLOAD_DROP_CSUM);
	h = ok, h.csum_offset = 6;
	expect_frame_drop(fx, &h, b, len, 0, OFFLOAD_DROP_CSUM);
	/* The vnet header's other fields, frame offsets. */
	h = ok, h.hdr_len = (uint16_t)(len + 1);
	expect_frame_drop(fx, &h, b, len, 0, OFFLOAD_DROP_HDR_LEN);
	h = ok, h.gso_size = 0;
	expect_frame_drop(fx, &h, b, len, TUNNEL_FRAME, OFFLOAD_DROP_GSO_SIZE);
	h = ok, h.gso_type = VNET_HDR_GSO_TCPV6;
	expect_frame_drop(fx, &h, b, len, 0, OFFLOAD_DROP_GSO_TYPE);
	h = ok, h.gso_type = VNET_HDR_GSO_UDP;
	expect_frame_drop(fx, &h, b, len, 0, OFFLOAD_DROP_GSO_TYPE);
	h = ok, h.flags |= 0x10;
	expect_frame_drop(fx, &h, b, len, 0, OFFLOAD_DROP_FLAGS);
	/* Segments too big for the pool's buffers without a cap. */
	h = ok, h.gso_size = 4000;
	expect_frame_drop(fx, &h, b, len, 0, OFFLOAD_DROP_SEG_SIZE);
	/* Truncated: no full link header, IP header, or TCP header; the IP length too long. */
	ok.hdr_len = 0;
	okv.hdr_len = 0;
	expect_frame_drop(fx, &ok, b, 13, 0, OFFLOAD_DROP_IP);
	expect_frame_drop(fx, &okv, bv, 17, 0, OFFLOAD_DROP_IP);
	expect_frame_drop(fx, &ok, b, 14 + 19, 0, OFFLOAD_DROP_IP);
	expect_frame_drop(fx, &okv, bv, 18 + 19, 0, OFFLOAD_DROP_IP);
	expect_frame_drop(fx, &ok, b, len - 1, 0, OFFLOAD_DROP_IP);
	expect_frame_drop(fx, &okv, bv, lenv - 1, TUNNEL_FRAME, OFFLOAD_DROP_IP);
	h = super_frame_hdr(&e, &f6, MSS6, false), h.hdr_len = 0;
	expect_frame_drop(fx, &h, b6, len6 - 1, 0, OFFLOAD_DROP_IP);
	expect_frame_drop(fx, &h, b6, 14 + 39, 0, OFFLOAD_DROP_IP);
	b6[14 + 6] = 0; /* hop-by-hop */
	expect_frame_drop(fx, &h, b6, len6, 0, OFFLOAD_DROP_IP_EXT);
	b6[14 + 6] = 6;
	put_be16(b + 14 + 2, 14 + 20);
	expect_frame_drop(fx, &ok, b, 14 + 34, 0, OFFLOAD_DROP_L4);
	put_be16(b + 14 + 2, (uint16_t)(len - 14));
	b[14 + 32] = 0x40; /* data offset 4 */
	expect_frame_drop(fx, &ok, b, len, 0, OFFLOAD_DROP_L4);
	b[14 + 32] = 0x50;
	/* Fewer than VNET_HDR_LEN bytes read. */
	expect_frame_drop(fx, NULL, b, VNET_HDR_LEN - 1, 0, OFFLOAD_DROP_SHORT);
	/* Not GSO, but the partial checksum field is past the end. */
	h = (struct vnet_hdr){.flags = VNET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
	expect_frame_drop(fx, &h, b, 34 + 17, 0, OFFLOAD_DROP_CSUM);

	/* The frames themselves were fine: unchanged, they split. */
	{
		static struct pkt *segs[MAXSEGS];
		uint32_t n;

		ok.hdr_len = (uint16_t)(14 + 40);
		n = split_frames_all(fx, &ok, b, len, 0, segs);
		assert_int_equal(n, 4);
		free_all(segs, n);
		n = split_frames_all(fx, &okv, bv, lenv, 0, segs);
		assert_int_equal(n, 4);
		free_all(segs, n);
	}
	assert_int_equal(fx->st.split_segs, 8);
	assert_int_equal(fx->st.csum_completed, 0);
}

/*
 * One call of the batch form at the tunnel cap: it must return want, leaving the cursor
 * at want_cursor and want_in frames in in (what is in out is the caller's to check).
 */
static void frames_batch_step(struct fixture *fx, struct pkt_vec *in, uint32_t *cursor,
			      struct pkt_vec *out, enum gso_batch_status want, uint32_t want_cursor,
			      uint32_t want_in)
{
	assert_int_equal(gso_split_frames_batch(in, cursor, &fx->pool, out, &fx->st, TUNNEL_FRAME),
			 want);
	assert_int_equal(*cursor, want_cursor);
	assert_int_equal(in->n, want_in);
}

/* A capped split stopped by a full out, then by a dry pool, goes on at the right segment. */
static void test_split_frames_resume(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make();
	struct flow f = flow_make(4, 6), t = flow_make(6, 6);
	const uint32_t cut = TUNNEL_FRAME - 14 - 20 - 32, total = 40 * 1448 + 5, nsegs = 44;
	struct vnet_hdr h;
	static struct pkt *hold[512], *segs[MAXSEGS];
	static uint8_t plain[2048];
	uint32_t nhold = 0, got = 0, cursor = 0, len, plen;
	struct pkt_vec in, out;
	struct pkt *p;

	f.ts = true;
	h = super_frame_hdr(&e, &f, 1448, false);
	pkt_vec_init(&in);
	len = build_frame(&e, &f, payload, total, 7, 300, F_ACK | F_PSH, CK_PARTIAL, fref);
	p = pkt_from(&fx->big, fref, len);
	vnet_hdr_push(p, &h);
	pkt_vec_add(&in, p);
	plen = build_frame(&e, &t, payload, 500, 1, 0, F_ACK, CK_FULL, plain);
	p = pkt_from(&fx->pool, plain, plen);
	vnet_hdr_push(p, &(struct vnet_hdr){0});
	pkt_vec_add(&in, p);

	/* Five free slots in out. */
	pkt_vec_init(&out);
	out.n = PKT_VEC_MAX - 5;
	frames_batch_step(fx, &in, &cursor, &out, GSO_BATCH_OUT_FULL, 5, 2);
	for (uint32_t i = PKT_VEC_MAX - 5; i < PKT_VEC_MAX; i++)
		segs[got++] = out.p[i];
	/* Seven buffers left in the pool. */
	while (fx->pool.nfree > 7)
		hold[nhold++] = pkt_alloc(&fx->pool);
	pkt_vec_init(&out);
	frames_batch_step(fx, &in, &cursor, &out, GSO_BATCH_NOMEM, 12, 2);
	assert_int_equal(out.n, 7);
	for (uint32_t i = 0; i < out.n; i++)
		segs[got++] = out.p[i];
	/* Nothing at all: no progress, nothing lost. */
	pkt_vec_init(&out);
	frames_batch_step(fx, &in, &cursor, &out, GSO_BATCH_NOMEM, 12, 2);
	assert_int_equal(out.n, 0);
	free_all(hold, nhold);
	pkt_vec_init(&out);
	frames_batch_step(fx, &in, &cursor, &out, GSO_BATCH_DONE, 0, 0);
	assert_int_equal(out.n, nsegs - 12 + 1);
	for (uint32_t i = 0; i + 1 < out.n; i++)
		segs[got++] = out.p[i];
	assert_int_equal(got, nsegs);
	/* The plain frame after it, unchanged. */
	assert_int_equal(out.p[out.n - 1]->len, plen);
	assert_memory_equal(out.p[out.n - 1]->data, plain, plen);
	pkt_free(out.p[out.n - 1]);
	for (uint32_t k = 0; k < nsegs; k++) {
		len = eth_put(&e, ETH_P_IP, fref);
		len += ref_segment(&f, total, cut, 7, 300, F_ACK | F_PSH, k, nsegs, fref + len);
		assert_int_equal(segs[k]->len, len);
		assert_memory_equal(segs[k]->data, fref, len);
		assert_true(len <= TUNNEL_FRAME);
	}
	assert_int_equal(segs[nsegs - 1]->len, 14 + 52 + 1251);
	assert_int_equal(fx->st.split_segs, nsegs);
	assert_int_equal(fx->st.split_in, 1);
	assert_int_equal(fx->st.split_stalls, 3);
	free_all(segs, got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_split_tcp4_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_tcp6_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_tcp_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_udp_zero_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_partial_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_vlan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_resume, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
