/* SPDX-License-Identifier: MIT */
/*
 * TSO split and GRO coalesce against packets this file builds field by field on its
 * own (with its own RFC 1071 sum), checksums verified with core/csum.h; the same for
 * Ethernet frames (TAP): those packets behind an Ethernet header (and 802.1Q tag) written
 * here too; GRO of UDP datagrams into UDP_L4 super-packets (GRO_UDP), for packets and frames.
 */
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
#include "offload/gro.h"
#include "offload/gso.h"
#include "offload/vnet_hdr.h"

#define BIG_SIZE    (PKT_HEADROOM + 65536 + 64 + PKT_TAILROOM)
#define MSS4	    1380 /* 1420 - 20 - 20 */
#define MSS4_TS	    1368 /* with the timestamp option */
#define MSS6	    1360 /* 1420 - 40 - 20 */
#define MAXSEGS	    256
#define PAYLOAD_MAX 70000

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_ECE 0x40
#define F_CWR 0x80

struct fixture {
	struct pkt_pool pool; /* MTU-sized segments */
	struct pkt_pool big;  /* super-packets */
	struct offload_stats st;
};

static uint8_t payload[PAYLOAD_MAX];

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	uint32_t x = 0x9e3779b9;

	if (!fx || !pkt_pool_init(&fx->pool, 512, PKT_DEFAULT_SIZE) ||
	    !pkt_pool_init(&fx->big, 8, BIG_SIZE))
		return -1;
	for (uint32_t i = 0; i < PAYLOAD_MAX; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		payload[i] = (uint8_t)(x >> 7);
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	/* Every buffer the module took or made came back. */
	assert_int_equal(fx->pool.nfree, fx->pool.count);
	assert_int_equal(fx->big.nfree, fx->big.count);
	pkt_pool_destroy(&fx->pool);
	pkt_pool_destroy(&fx->big);
	free(fx);
	return 0;
}

/* ---- the reference: packets written field by field ---- */

struct flow {
	int ipv, proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t ack;
	uint8_t tos, ttl;
	bool df;
	uint32_t label;
	uint16_t window;
	bool ts;
	uint32_t tsval, tsecr;
	bool sack;
};

enum ck { CK_FULL, CK_PARTIAL, CK_ZERO };

static struct flow flow_make(int ipv, int proto)
{
	struct flow f = {.ipv = ipv, .proto = proto, .sport = 40000, .dport = 5201};

	if (ipv == 4) {
		memcpy(f.src, (uint8_t[]){10, 0, 0, 1}, 4);
		memcpy(f.dst, (uint8_t[]){10, 0, 0, 2}, 4);
	} else {
		memcpy(f.src, (uint8_t[]){0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16);
		memcpy(f.dst, (uint8_t[]){0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 16);
	}
	f.ack = 0x11223344;
	f.ttl = 64;
	f.df = true;
	f.label = 0x12345;
	f.window = 502;
	f.tsval = 1000;
	f.tsecr = 2000;
	return f;
}

static uint32_t l3_of(const struct flow *f)
{
	return f->ipv == 4 ? 20 : 40;
}

static uint32_t l4_of(const struct flow *f)
{
	if (f->proto == 17)
		return 8;
	return 20 + (f->ts ? 12 : 0) + (f->sack ? 12 : 0);
}

/* RFC 1071, 16-bit big-endian words into a wide accumulator. */
static uint64_t ref_sum(const uint8_t *b, size_t len, uint64_t acc)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		acc += (uint32_t)b[len - 1] << 8;
	return acc;
}

static uint16_t ref_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static uint64_t ref_pseudo(const struct flow *f, uint32_t l4len)
{
	uint32_t alen = f->ipv == 4 ? 4 : 16;

	return ref_sum(f->src, alen, 0) + ref_sum(f->dst, alen, 0) + (uint32_t)f->proto +
	       (l4len >> 16) + (l4len & 0xffff);
}

/* One IP packet of flow f carrying data[0..plen), every field written here. */
static uint32_t build(const struct flow *f, const uint8_t *data, uint32_t plen, uint32_t seq,
		      uint16_t id, uint8_t flags, enum ck ck, uint8_t *out)
{
	uint32_t l3 = l3_of(f), l4 = l4_of(f), len = l3 + l4 + plen;
	uint8_t *ip = out, *th = out + l3, *o = th + 20;
	uint16_t v = 0;

	memset(out, 0, l3 + l4);
	if (f->ipv == 4) {
		ip[0] = 0x45;
		ip[1] = f->tos;
		put_be16(ip + 2, (uint16_t)len);
		put_be16(ip + 4, id);
		put_be16(ip + 6, f->df ? 0x4000 : 0);
		ip[8] = f->ttl;
		ip[9] = (uint8_t)f->proto;
		memcpy(ip + 12, f->src, 4);
		memcpy(ip + 16, f->dst, 4);
		put_be16(ip + 10, (uint16_t)~ref_fold(ref_sum(ip, 20, 0)));
	} else {
		put_be32(ip, 6u << 28 | (uint32_t)f->tos << 20 | f->label);
		put_be16(ip + 4, (uint16_t)(len - 40));
		ip[6] = (uint8_t)f->proto;
		ip[7] = f->ttl;
		memcpy(ip + 8, f->src, 16);
		memcpy(ip + 24, f->dst, 16);
	}
	put_be16(th, f->sport);
	put_be16(th + 2, f->dport);
	if (f->proto == 6) {
		put_be32(th + 4, seq);
		put_be32(th + 8, f->ack);
		th[12] = (uint8_t)(l4 / 4 << 4);
		th[13] = flags;
		put_be16(th + 14, f->window);
		if (f->ts) {
			o[0] = 1, o[1] = 1, o[2] = 8, o[3] = 10;
			put_be32(o + 4, f->tsval);
			put_be32(o + 8, f->tsecr);
			o += 12;
		}
		if (f->sack) {
			o[0] = 1, o[1] = 1, o[2] = 5, o[3] = 10;
			put_be32(o + 4, seq + 100000);
			put_be32(o + 8, seq + 200000);
		}
	} else {
		put_be16(th + 4, (uint16_t)(l4 + plen));
	}
	memcpy(out + l3 + l4, data, plen);
	if (ck == CK_FULL) {
		v = (uint16_t)~ref_fold(ref_sum(th, l4 + plen, ref_pseudo(f, l4 + plen)));
		if (f->proto == 17 && v == 0)
			v = 0xffff;
	} else if (ck == CK_PARTIAL) {
		v = ref_fold(ref_pseudo(f, l4 + plen));
	}
	put_be16(th + (f->proto == 6 ? 16 : 6), v);
	return len;
}

/* The vnet header the kernel puts on such a super-packet. */
static struct vnet_hdr super_hdr(const struct flow *f, uint32_t gso_size, bool ecn)
{
	struct vnet_hdr h = {
		.flags = VNET_HDR_F_NEEDS_CSUM,
		.hdr_len = (uint16_t)(l3_of(f) + l4_of(f)),
		.gso_size = (uint16_t)gso_size,
		.csum_start = (uint16_t)l3_of(f),
		.csum_offset = f->proto == 6 ? 16 : 6,
	};

	if (f->proto == 17)
		h.gso_type = VNET_HDR_GSO_UDP_L4;
	else
		h.gso_type = (f->ipv == 4 ? VNET_HDR_GSO_TCPV4 : VNET_HDR_GSO_TCPV6) |
			     (ecn ? VNET_HDR_GSO_ECN : 0);
	return h;
}

/* Checks with core/csum.h: IPv4 header and L4 checksums of a finished packet. */
static void assert_csums(const uint8_t *d, uint32_t len)
{
	uint32_t l3 = d[0] >> 4 == 4 ? (uint32_t)(d[0] & 15) * 4 : 40;
	uint8_t proto = d[0] >> 4 == 4 ? d[9] : d[6];
	uint32_t l4len = len - l3, ps;

	if (d[0] >> 4 == 4) {
		assert_int_equal(csum_ipv4_header(d, l3), 0);
		ps = csum_ipv4_pseudo(d + 12, d + 16, proto, (uint16_t)l4len);
	} else {
		ps = csum_ipv6_pseudo(d + 8, d + 24, proto, l4len);
	}
	assert_int_equal(csum_fold(csum_partial(d + l3, l4len, ps)), 0);
}

static struct pkt *pkt_from(struct pkt_pool *pool, const uint8_t *b, uint32_t len)
{
	struct pkt *p = pkt_alloc(pool);

	assert_non_null(p);
	assert_non_null(pkt_put(p, len));
	memcpy(p->data, b, len);
	return p;
}

/* Splits in (freed here) to the end, resuming across GSO_MORE; returns the segments. */
static uint32_t split_all(struct fixture *fx, const struct vnet_hdr *h, struct pkt *in,
			  struct pkt **segs)
{
	uint32_t cursor = 0, n = 0;
	enum offload_drop why;
	enum gso_status s;
	struct pkt_vec out;

	do {
		pkt_vec_init(&out);
		s = gso_split(h, in, &cursor, &fx->pool, &out, &fx->st, &why);
		assert_true(s == GSO_DONE || s == GSO_MORE);
		for (uint32_t i = 0; i < out.n; i++) {
			assert_true(n < MAXSEGS);
			segs[n++] = out.p[i];
		}
	} while (s == GSO_MORE);
	pkt_free(in);
	return n;
}

static void free_all(struct pkt **p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		pkt_free(p[i]);
}

/* Expected segment k of a super-packet, built from the flow's fields, not from the input. */
static uint32_t ref_segment(const struct flow *f, uint32_t total, uint32_t gso, uint32_t seq0,
			    uint16_t id0, uint8_t flags, uint32_t k, uint32_t nsegs, uint8_t *out)
{
	uint32_t off = k * gso, plen = total - off < gso ? total - off : gso;
	uint8_t fl = flags;

	if (k + 1 < nsegs)
		fl &= (uint8_t) ~(F_FIN | F_PSH);
	if (k > 0)
		fl &= (uint8_t)~F_CWR;
	return build(f, payload + off, plen, seq0 + off, (uint16_t)(id0 + k), fl, CK_FULL, out);
}

static uint8_t ref[70000];

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

/* ---- vnet header ---- */

static void test_vnet_hdr_codec(void **state)
{
	struct vnet_hdr h = {VNET_HDR_F_NEEDS_CSUM,
			     VNET_HDR_GSO_TCPV6 | VNET_HDR_GSO_ECN,
			     0x0134,
			     0x0564,
			     0x0028,
			     0x0010},
			g;
	/* Little endian on the wire whatever the host (TUNSETVNETLE). */
	const uint8_t want[VNET_HDR_LEN] = {0x01, 0x84, 0x34, 0x01, 0x64,
					    0x05, 0x28, 0x00, 0x10, 0x00};
	struct fixture *fx = *state;
	uint8_t b[VNET_HDR_LEN];
	struct pkt *p;

	vnet_hdr_encode(b, &h);
	assert_memory_equal(b, want, sizeof(want));
	vnet_hdr_decode(b, &g);
	assert_memory_equal(&g, &h, sizeof(h));

	p = pkt_alloc(&fx->pool);
	assert_true(vnet_hdr_push(p, &h));
	assert_int_equal(p->len, VNET_HDR_LEN);
	assert_memory_equal(p->data, want, sizeof(want));
	memcpy(pkt_put(p, 3), "abc", 3);
	memset(&g, 0, sizeof(g));
	assert_true(vnet_hdr_pull(p, &g));
	assert_memory_equal(&g, &h, sizeof(h));
	assert_int_equal(p->len, 3);
	assert_false(vnet_hdr_pull(p, &g));
	assert_int_equal(p->len, 3);
	/* No headroom left: refused, nothing changed. */
	pkt_reset(p, 4);
	assert_false(vnet_hdr_push(p, &h));
	assert_int_equal(p->len, 0);
	pkt_free(p);
	assert_string_equal(offload_drop_name(OFFLOAD_DROP_GSO_SIZE), "vnet_gso_size");
	assert_null(offload_drop_name(OFFLOAD_DROP_MAX));
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

/* ---- GRO coalesce ---- */

static void gro_run(struct fixture *fx, struct pkt_vec *v)
{
	gro_coalesce(v, &fx->big, &fx->st);
}

/* out must be p's bytes behind a zero vnet header. */
static void assert_passed(const struct pkt *out, const uint8_t *b, uint32_t len)
{
	static const uint8_t zero[VNET_HDR_LEN];

	assert_int_equal(out->len, VNET_HDR_LEN + len);
	assert_memory_equal(out->data, zero, VNET_HDR_LEN);
	assert_memory_equal(out->data + VNET_HDR_LEN, b, len);
}

/* out must be the super-packet of flow f: payload[off..off+total) from seq, first ID id. */
static void assert_super(const struct pkt *out, const struct flow *f, uint32_t off, uint32_t total,
			 uint32_t seq, uint16_t id, uint8_t flags, uint32_t gso)
{
	struct vnet_hdr h, want = super_hdr(f, gso, false);
	static uint8_t b[70000];
	uint32_t len = build(f, payload + off, total, seq, id, flags, CK_PARTIAL, b);
	uint8_t *d = out->data + VNET_HDR_LEN;

	vnet_hdr_decode(out->data, &h);
	assert_memory_equal(&h, &want, sizeof(h));
	assert_int_equal(out->len, VNET_HDR_LEN + len);
	assert_memory_equal(d, b, len);
	/* What the kernel does with it: complete the partial sum, and it verifies. */
	assert_true(gso_csum_complete(&h, d, len));
	assert_csums(d, len);
	memcpy(d, b, len);
}

/* A segment of flow f as the sender sent it: payload at seq, complete checksum. */
static struct pkt *seg(struct fixture *fx, const struct flow *f, uint32_t seq, uint32_t plen,
		       uint16_t id, uint8_t flags)
{
	static uint8_t b[2048];
	uint32_t len = build(f, payload + seq, plen, seq, id, flags, CK_FULL, b);

	return pkt_from(&fx->pool, b, len);
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
	gro_coalesce(&v, NULL, &fx->st);
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

/* ---- Ethernet frames: a TAP with IFF_VNET_HDR ---- */

#define TUNNEL_FRAME 1384	       /* 1420 - outer IPv4 20 - UDP 8 - VXLAN 8 */
#define ENCAP_PUSH   (8 + 8 + 20 + 16) /* VXLAN, UDP, IPv4, WireGuard data header */
#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86dd
#define ETH_P_ARP    0x0806
#define ETH_P_VLAN   0x8100

struct eth {
	uint8_t dst[6], src[6];
	bool vlan;
	uint16_t tci;
};

static struct eth eth_make(void)
{
	struct eth e = {.dst = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x02},
			.src = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}};

	return e;
}

static uint32_t link_of(const struct eth *e)
{
	return e->vlan ? 18 : 14;
}

static uint16_t ethertype_of(const struct flow *f)
{
	return f->ipv == 4 ? ETH_P_IP : ETH_P_IPV6;
}

/* The link header of e for ethertype type, written into out; returns its length. */
static uint32_t eth_put(const struct eth *e, uint16_t type, uint8_t *out)
{
	memcpy(out, e->dst, 6);
	memcpy(out + 6, e->src, 6);
	if (!e->vlan) {
		put_be16(out + 12, type);
		return 14;
	}
	put_be16(out + 12, ETH_P_VLAN);
	put_be16(out + 14, e->tci);
	put_be16(out + 16, type);
	return 18;
}

/* A frame of flow f: e's link header, then build()'s packet. */
static uint32_t build_frame(const struct eth *e, const struct flow *f, const uint8_t *data,
			    uint32_t plen, uint32_t seq, uint16_t id, uint8_t flags, enum ck ck,
			    uint8_t *out)
{
	uint32_t link = eth_put(e, ethertype_of(f), out);

	return link + build(f, data, plen, seq, id, flags, ck, out + link);
}

/*
 * The vnet header a tap puts on a super-frame: super_hdr's, with csum_start and hdr_len
 * counted from the frame start.
 */
static struct vnet_hdr super_frame_hdr(const struct eth *e, const struct flow *f, uint32_t gso,
				       bool ecn)
{
	struct vnet_hdr h = super_hdr(f, gso, ecn);

	h.hdr_len = (uint16_t)(h.hdr_len + link_of(e));
	h.csum_start = (uint16_t)(h.csum_start + link_of(e));
	return h;
}

/* An ARP request from e's source (28 bytes of ARP behind the link header). */
static uint32_t build_arp(const struct eth *e, uint8_t *out)
{
	struct eth b = *e;
	uint32_t link;
	uint8_t *a;

	memset(b.dst, 0xff, 6);
	link = eth_put(&b, ETH_P_ARP, out);
	a = out + link;
	put_be16(a, 1);
	put_be16(a + 2, ETH_P_IP);
	a[4] = 6, a[5] = 4;
	put_be16(a + 6, 1);
	memcpy(a + 8, e->src, 6);
	memcpy(a + 14, (uint8_t[]){10, 1, 0, 1}, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, (uint8_t[]){10, 1, 0, 2}, 4);
	return link + 28;
}

/* An 802.1D configuration BPDU: 802.3 length, LLC 42 42 03, 35 bytes, padded to 60. */
static uint32_t build_stp(const struct eth *e, uint8_t *out)
{
	static const uint8_t group[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
	uint8_t *b = out + 17;

	memset(out, 0, 60);
	memcpy(out, group, 6);
	memcpy(out + 6, e->src, 6);
	put_be16(out + 12, 3 + 35);
	out[14] = 0x42, out[15] = 0x42, out[16] = 0x03;
	b[4] = 0x01; /* flags: topology change */
	put_be16(b + 5, 0x8000);
	memcpy(b + 7, e->src, 6);
	put_be32(b + 13, 100);
	put_be16(b + 17, 0x8000);
	memcpy(b + 19, e->src, 6);
	put_be16(b + 25, 0x8001);
	put_be16(b + 29, 20 * 256);
	put_be16(b + 31, 2 * 256);
	put_be16(b + 33, 15 * 256);
	return 60;
}

static uint8_t fref[70100];

/* One frame behind its vnet header, through the batch form to the end; returns the outputs. */
static uint32_t split_frames_all(struct fixture *fx, const struct vnet_hdr *h, const uint8_t *b,
				 uint32_t len, uint32_t max_frame, struct pkt **segs)
{
	struct pkt *p = pkt_from(&fx->big, b, len);
	enum gso_batch_status s;
	uint32_t cursor = 0, n = 0;
	struct pkt_vec in, out;

	assert_true(vnet_hdr_push(p, h));
	pkt_vec_init(&in);
	pkt_vec_add(&in, p);
	do {
		pkt_vec_init(&out);
		s = gso_split_frames_batch(&in, &cursor, &fx->pool, &out, &fx->st, max_frame);
		assert_true(s == GSO_BATCH_DONE || s == GSO_BATCH_OUT_FULL);
		for (uint32_t i = 0; i < out.n; i++) {
			assert_true(n < MAXSEGS);
			segs[n++] = out.p[i];
		}
	} while (s != GSO_BATCH_DONE);
	assert_int_equal(in.n, 0);
	assert_int_equal(cursor, 0);
	return n;
}

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

static void test_frame_l3_offset(void **state)
{
	struct eth e = eth_make();
	uint8_t b[64] = {0};

	(void)state;
	assert_int_equal(eth_put(&e, ETH_P_IP, b), 14);
	b[14] = 0x45;
	assert_int_equal(offload_eth_l3_offset(b, 34), 14);
	/* The IP version must be there and be the one the ethertype names. */
	assert_int_equal(offload_eth_l3_offset(b, 14), 0);
	assert_int_equal(offload_eth_l3_offset(b, 13), 0);
	assert_int_equal(offload_eth_l3_offset(b, 0), 0);
	b[14] = 0x60;
	assert_int_equal(offload_eth_l3_offset(b, 34), 0);
	eth_put(&e, ETH_P_IPV6, b);
	assert_int_equal(offload_eth_l3_offset(b, 54), 14);
	b[14] = 0x45;
	assert_int_equal(offload_eth_l3_offset(b, 54), 0);
	eth_put(&e, ETH_P_ARP, b);
	assert_int_equal(offload_eth_l3_offset(b, 42), 0);
	put_be16(b + 12, 0x0026); /* an 802.3 length: LLC follows */
	assert_int_equal(offload_eth_l3_offset(b, 60), 0);
	put_be16(b + 12, 0x88a8); /* 802.1ad outer tag: not taken */
	put_be16(b + 16, ETH_P_IP);
	assert_int_equal(offload_eth_l3_offset(b, 60), 0);
	e.vlan = true;
	e.tci = 0x2064;
	eth_put(&e, ETH_P_IP, b);
	b[18] = 0x45;
	assert_int_equal(offload_eth_l3_offset(b, 38), 18);
	assert_int_equal(offload_eth_l3_offset(b, 18), 0);
	assert_int_equal(offload_eth_l3_offset(b, 17), 0);
	eth_put(&e, ETH_P_IPV6, b);
	b[18] = 0x60;
	assert_int_equal(offload_eth_l3_offset(b, 58), 18);
	eth_put(&e, ETH_P_ARP, b);
	assert_int_equal(offload_eth_l3_offset(b, 46), 0);
	/* Two 802.1Q tags: only one is looked through. */
	eth_put(&e, ETH_P_VLAN, b);
	put_be16(b + 18, 0x0065);
	put_be16(b + 20, ETH_P_IP);
	assert_int_equal(offload_eth_l3_offset(b, 60), 0);
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

/* ---- GRO coalesce of frames ---- */

static void gro_frames_run(struct fixture *fx, struct pkt_vec *v)
{
	gro_coalesce_frames(v, &fx->big, &fx->st);
}

/* A segment frame of flow f behind e as the sender sent it: payload at seq, full checksum. */
static struct pkt *fseg(struct fixture *fx, const struct eth *e, const struct flow *f, uint32_t seq,
			uint32_t plen, uint16_t id, uint8_t flags)
{
	static uint8_t b[2048];
	uint32_t len = build_frame(e, f, payload + seq, plen, seq, id, flags, CK_FULL, b);

	return pkt_from(&fx->pool, b, len);
}

/* out must be the super-frame of flow f behind e: payload[off..off+total) from seq, ID id. */
static void assert_super_frame(const struct pkt *out, const struct eth *e, const struct flow *f,
			       uint32_t off, uint32_t total, uint32_t seq, uint16_t id,
			       uint8_t flags, uint32_t gso)
{
	uint32_t link = link_of(e), l3 = l3_of(f), l4 = l4_of(f);
	struct vnet_hdr h;
	struct vnet_hdr want = {
		.flags = VNET_HDR_F_NEEDS_CSUM,
		.gso_type = f->ipv == 4 ? VNET_HDR_GSO_TCPV4 : VNET_HDR_GSO_TCPV6,
		.hdr_len = (uint16_t)(link + l3 + l4),
		.gso_size = (uint16_t)gso,
		.csum_start = (uint16_t)(link + l3),
		.csum_offset = 16,
	};
	static uint8_t b[70100];
	/* CK_PARTIAL: the field holds the folded pseudo-header sum over the whole TCP length. */
	uint32_t len = build_frame(e, f, payload + off, total, seq, id, flags, CK_PARTIAL, b);
	uint8_t *d = out->data + VNET_HDR_LEN;
	uint16_t sum;

	vnet_hdr_decode(out->data, &h);
	assert_int_equal(h.flags, want.flags);
	assert_int_equal(h.gso_type, want.gso_type);
	assert_int_equal(h.hdr_len, want.hdr_len);
	assert_int_equal(h.gso_size, want.gso_size);
	assert_int_equal(h.csum_start, want.csum_start);
	assert_int_equal(h.csum_offset, want.csum_offset);
	assert_int_equal(out->len, VNET_HDR_LEN + len);
	assert_memory_equal(d, b, len);
	/* What the tap does with it, by this file's own sum: it verifies. */
	sum = (uint16_t)~ref_fold(ref_sum(d + h.csum_start, len - h.csum_start, 0));
	put_be16(d + h.csum_start + h.csum_offset, sum);
	assert_csums(d + link, len - link);
	memcpy(d, b, len);
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

		for (uint32_t i = 0; i < fx->big.count; i++)
			held[i] = pkt_alloc(&fx->big);
		pkt_vec_init(&v);
		for (uint32_t i = 0; i < 4; i++) {
			klen[i] = build_frame(&fl[3 + (i & 1)], &f, payload + i / 2 * 1000, 1000,
					      i / 2 * 1000, (uint16_t)i, F_ACK, CK_FULL, keep[i]);
			pkt_vec_add(&v, pkt_from(&fx->pool, keep[i], klen[i]));
		}
		gro_frames_run(fx, &v);
		/* Two groups (VLAN 100: 0, 2; VLAN 200: 1, 3), each passed as it stands. */
		assert_int_equal(v.n, 4);
		assert_passed(v.p[0], keep[0], klen[0]);
		assert_passed(v.p[1], keep[2], klen[2]);
		assert_passed(v.p[2], keep[1], klen[1]);
		assert_passed(v.p[3], keep[3], klen[3]);
		assert_int_equal(fx->st.gro_nomem, 2);
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

/* ---- GRO of UDP datagrams (GRO_UDP: a TUN/TAP that took USO) ---- */

#define UDP4_SIZE 1392 /* 1420 - 20 - 8 */
#define UDP6_SIZE 1372 /* 1420 - 40 - 8 */

/* The inputs of one batch as built here, by input index. */
static uint8_t ukeep[PKT_VEC_MAX][2048];
static uint32_t uklen[PKT_VEC_MAX];

static void gro_udp_run(struct fixture *fx, struct pkt_vec *v, unsigned flags)
{
	gro_coalesce_ex(v, &fx->big, &fx->st, flags);
}

/*
 * Appends to v a datagram of flow f (behind e's link header when e is not NULL) carrying
 * data[0..plen) with IP ID id and its checksum as ck; its bytes are kept in ukeep[input
 * index]. Returns that index.
 */
static uint32_t uadd(struct fixture *fx, struct pkt_vec *v, const struct eth *e,
		     const struct flow *f, const uint8_t *data, uint32_t plen, uint16_t id,
		     enum ck ck)
{
	uint32_t k = v->n, link = e ? eth_put(e, ethertype_of(f), ukeep[k]) : 0;

	uklen[k] = link + build(f, data, plen, 0, id, 0, ck, ukeep[k] + link);
	pkt_vec_add(v, pkt_from(&fx->pool, ukeep[k], uklen[k]));
	return k;
}

/* Appends datagrams of sizes size[0..n) cut in turn from data, IDs id0, id0 + 1, ... */
static void uadd_run(struct fixture *fx, struct pkt_vec *v, const struct eth *e,
		     const struct flow *f, const uint8_t *data, const uint32_t *size, uint32_t n,
		     uint16_t id0, enum ck ck)
{
	for (uint32_t k = 0, off = 0; k < n; off += size[k], k++)
		uadd(fx, v, e, f, data + off, size[k], (uint16_t)(id0 + k), ck);
}

static uint32_t sum_of(const uint32_t *size, uint32_t from, uint32_t to)
{
	uint32_t s = 0;

	for (uint32_t k = from; k < to; k++)
		s += size[k];
	return s;
}

/* The input at index k passed through unchanged, behind a zero vnet header. */
static void assert_passed_k(const struct pkt *out, uint32_t k)
{
	assert_passed(out, ukeep[k], uklen[k]);
}

/*
 * out must be the UDP_L4 super-packet (super-frame behind e when not NULL) of flow f
 * carrying data[0..total) with the first datagram's IP ID id: the reference packet
 * written here with IP and UDP lengths for the whole, the UDP checksum field the folded
 * (not inverted) pseudo-header sum over the whole L4 length, and the vnet header spelled
 * out byte by byte (little endian): NEEDS_CSUM, gso_type 5, hdr_len, gso_size,
 * csum_start, csum_offset 6.
 */
static void assert_super_udp(const struct pkt *out, const struct eth *e, const struct flow *f,
			     const uint8_t *data, uint32_t total, uint16_t id, uint32_t gso)
{
	static uint8_t b[70100];
	uint32_t link = e ? eth_put(e, ethertype_of(f), b) : 0, l3 = l3_of(f);
	uint32_t len = link + build(f, data, total, 0, id, 0, CK_PARTIAL, b + link);
	uint32_t start = link + l3, hlen = link + l3 + 8;
	const uint8_t want_vh[VNET_HDR_LEN] = {
		0x01, /* NEEDS_CSUM */
		5,    /* UDP_L4 */
		(uint8_t)hlen,
		(uint8_t)(hlen >> 8),
		(uint8_t)gso,
		(uint8_t)(gso >> 8),
		(uint8_t)start,
		(uint8_t)(start >> 8),
		6, /* the UDP checksum field */
		0,
	};
	uint8_t *d = out->data + VNET_HDR_LEN, *ip = d + link;
	struct vnet_hdr h, ih;
	struct vnet_layout lay;
	enum offload_drop why;
	uint16_t sum;

	assert_true(total > gso); /* at least two datagrams */
	assert_memory_equal(out->data, want_vh, VNET_HDR_LEN);
	assert_int_equal(out->len, VNET_HDR_LEN + len);
	assert_memory_equal(d, b, len);
	/* The fields the reference rewrote, spelled out once more. */
	assert_int_equal(get_be16(ip + (f->ipv == 4 ? 2 : 4)), (f->ipv == 4 ? 28 : 8) + total);
	assert_int_equal(get_be16(ip + l3 + 4), 8 + total);
	assert_int_equal(get_be16(ip + l3 + 6), ref_fold(ref_pseudo(f, 8 + total)));
	/* Our own check of what the kernel gets takes it. */
	vnet_hdr_decode(out->data, &h);
	ih = h;
	ih.csum_start = (uint16_t)(h.csum_start - link);
	ih.hdr_len = (uint16_t)(h.hdr_len - link);
	assert_true(vnet_hdr_check(&ih, ip, len - link, &lay, &why));
	assert_int_equal(lay.l4_proto, 17);
	assert_int_equal(lay.payload, total);
	/* What the kernel does with it, by this file's own sum: it verifies. */
	sum = (uint16_t)~ref_fold(ref_sum(d + start, len - start, 0));
	put_be16(d + start + 6, sum ? sum : 0xffff);
	assert_csums(ip, len - link);
	memcpy(d, b, len);
}

/* size[0..n): n - 1 datagrams of full bytes and a last one of last bytes. */
static const uint32_t *fill_sizes(uint32_t *size, uint32_t n, uint32_t full, uint32_t last)
{
	for (uint32_t k = 0; k < n; k++)
		size[k] = full;
	size[n - 1] = last;
	return size;
}

/* A fresh batch v of datagrams as uadd_run appends them, through GRO with flags. */
static void udp_gro(struct fixture *fx, struct pkt_vec *v, const struct eth *e,
		    const struct flow *f, const uint8_t *data, const uint32_t *size, uint32_t n,
		    uint16_t id0, enum ck ck, unsigned flags)
{
	pkt_vec_init(v);
	uadd_run(fx, v, e, f, data, size, n, id0, ck);
	gro_udp_run(fx, v, flags);
}

/*
 * A fresh batch v of n datagrams of flow f, plen bytes each cut in turn from data, with
 * IP IDs ids[k] (0 when ids is NULL) and checksums cks[k] (CK_FULL when cks is NULL),
 * through GRO_UDP: for the runs whose IDs or checksums do not follow a rule.
 */
static void udp_gro_each(struct fixture *fx, struct pkt_vec *v, const struct flow *f,
			 const uint8_t *data, uint32_t plen, uint32_t n, const uint16_t *ids,
			 const enum ck *cks)
{
	pkt_vec_init(v);
	for (uint32_t k = 0; k < n; k++)
		uadd(fx, v, NULL, f, data + k * plen, plen, ids ? ids[k] : 0,
		     cks ? cks[k] : CK_FULL);
	gro_udp_run(fx, v, GRO_UDP);
}

/* The kept bytes of input k, changed by the caller (a bad checksum), replace its packet. */
static void ureplace(struct fixture *fx, struct pkt_vec *v, uint32_t k)
{
	pkt_free(v->p[k]);
	v->p[k] = pkt_from(&fx->pool, ukeep[k], uklen[k]);
}

/*
 * One output a batch must give, written by the test: the super-packet carrying
 * data[off..off + total) with the first datagram's IP ID id at gso_size gso (as
 * assert_super_udp checks it), or the input at index k passed through unchanged.
 */
struct uout {
	bool passed;
	uint32_t k;
	uint32_t off, total;
	uint16_t id;
	uint32_t gso;
};

/* clang-format off */
#define U_SUPER(o, t, i, g) {.off = (o), .total = (t), .id = (i), .gso = (g)}
#define U_PASSED(i)         {.passed = true, .k = (i)}
/* clang-format on */

/*
 * After GRO, v must hold exactly want[0..n) in that order, the super-packets of flow f
 * (behind e when not NULL) cut from data. Frees v.
 */
static void expect_udp(struct pkt_vec *v, const struct eth *e, const struct flow *f,
		       const uint8_t *data, const struct uout *want, uint32_t n)
{
	assert_int_equal(v->n, n);
	for (uint32_t j = 0; j < n; j++) {
		if (want[j].passed)
			assert_passed_k(v->p[j], want[j].k);
		else
			assert_super_udp(v->p[j], e, f, data + want[j].off, want[j].total,
					 want[j].id, want[j].gso);
	}
	pkt_vec_free(v);
}

/* expect_udp with the outputs listed in place: EXPECT_UDP(&v, e, f, data, U_SUPER(...), ...). */
#define EXPECT_UDP(v, e, f, data, ...)                                \
	expect_udp(v, e, f, data, (const struct uout[]){__VA_ARGS__}, \
		   sizeof((const struct uout[]){__VA_ARGS__}) / sizeof(struct uout))

/* After GRO, v must hold its n inputs, each passed through unchanged, in order. Frees v. */
static void expect_udp_passed(struct pkt_vec *v, uint32_t n)
{
	assert_int_equal(v->n, n);
	for (uint32_t k = 0; k < n; k++)
		assert_passed_k(v->p[k], k);
	pkt_vec_free(v);
}

/* A run of one flow, IPv4 and IPv6, full-sized and with a shorter last one. */
static void test_gro_udp_merge(void **state)
{
	struct fixture *fx = *state;
	struct flow u4 = flow_make(4, 17), u6 = flow_make(6, 17);
	uint32_t size[PKT_VEC_MAX];
	struct pkt_vec v;

	/* Ten full IPv4 datagrams. */
	udp_gro(fx, &v, NULL, &u4, payload, fill_sizes(size, 10, UDP4_SIZE, UDP4_SIZE), 10, 300,
		CK_FULL, GRO_UDP);
	EXPECT_UDP(&v, NULL, &u4, payload, U_SUPER(0, 10 * UDP4_SIZE, 300, UDP4_SIZE));
	assert_int_equal(fx->st.gro_super, 1);
	assert_int_equal(fx->st.gro_super_udp, 1);
	assert_int_equal(fx->st.gro_merged, 10);
	assert_int_equal(fx->st.gro_in, 10);
	assert_int_equal(fx->st.gro_out, 1);

	/* IPv6 with a traffic class and a flow label, the last one shorter. */
	u6.tos = 0xb8;
	u6.label = 0xabcde;
	udp_gro(fx, &v, NULL, &u6, payload + 5, fill_sizes(size, 8, UDP6_SIZE, 100), 8, 0, CK_FULL,
		GRO_UDP);
	EXPECT_UDP(&v, NULL, &u6, payload + 5, U_SUPER(0, 7 * UDP6_SIZE + 100, 0, UDP6_SIZE));

	/* Two are enough; the second may be a single byte. */
	udp_gro(fx, &v, NULL, &u4, payload + 9, fill_sizes(size, 2, 500, 1), 2, 0xffff, CK_FULL,
		GRO_UDP);
	EXPECT_UDP(&v, NULL, &u4, payload + 9, U_SUPER(0, 501, 0xffff, 500));

	/* A full batch of one-byte datagrams: gso_size 1, PKT_VEC_MAX of them. */
	udp_gro(fx, &v, NULL, &u6, payload, fill_sizes(size, PKT_VEC_MAX, 1, 1), PKT_VEC_MAX, 0,
		CK_FULL, GRO_UDP);
	EXPECT_UDP(&v, NULL, &u6, payload, U_SUPER(0, PKT_VEC_MAX, 0, 1));
	assert_int_equal(fx->st.gro_super_udp, 4);
	assert_int_equal(fx->st.gro_merged, 10 + 8 + 2 + PKT_VEC_MAX);
	assert_int_equal(fx->st.gro_bad_csum, 0);
}

/* A shorter datagram ends its group, a larger one never joins, an empty one never merges. */
static void test_gro_udp_sizes(void **state)
{
	struct fixture *fx = *state;
	struct flow f = flow_make(4, 17);
	/* Each batch cut in turn from payload, IP IDs from 1; "|" marks where a group ends. */
	static const struct {
		uint32_t size[5], n;
		struct uout out[3];
		uint32_t nout;
	} cases[] = {
		/* 1000 1000 400 | 1000 1000: the next equal-sized one starts a new group. */
		{{1000, 1000, 400, 1000, 1000},
		 5,
		 {U_SUPER(0, 2400, 1, 1000), U_SUPER(2400, 2000, 4, 1000)},
		 2},
		/* 1000 400 | 400: the second short one has no group to join and passes alone. */
		{{1000, 400, 400}, 3, {U_SUPER(0, 1400, 1, 1000), U_PASSED(2)}, 2},
		/* 1000 400 | 400 400: it starts a group of 400-byte datagrams. */
		{{1000, 400, 400, 400},
		 4,
		 {U_SUPER(0, 1400, 1, 1000), U_SUPER(1400, 800, 3, 400)},
		 2},
		/* 1000 1000 | 1001 1001 999: a larger one never joins; it starts its own group. */
		{{1000, 1000, 1001, 1001, 999},
		 5,
		 {U_SUPER(0, 2000, 1, 1000), U_SUPER(2000, 3001, 3, 1001)},
		 2},
		/* 500 | 1000 | 1001: each larger than the one before: nothing merges. */
		{{500, 1000, 1001}, 3, {U_PASSED(0), U_PASSED(1), U_PASSED(2)}, 3},
		/* 1000 1000 | 0 | 1000 1000: an empty datagram is of the flow but no candidate. */
		{{1000, 1000, 0, 1000, 1000},
		 5,
		 {U_SUPER(0, 2000, 1, 1000), U_PASSED(2), U_SUPER(2000, 2000, 4, 1000)},
		 3},
		/* Empty ones only. */
		{{0, 0, 0}, 3, {U_PASSED(0), U_PASSED(1), U_PASSED(2)}, 3},
	};
	struct pkt_vec v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		udp_gro(fx, &v, NULL, &f, payload, cases[i].size, cases[i].n, 1, CK_FULL, GRO_UDP);
		expect_udp(&v, NULL, &f, payload, cases[i].out, cases[i].nout);
	}
	assert_int_equal(fx->st.gro_super_udp, 9);
	assert_int_equal(fx->st.gro_super, 9);
}

/* Every field that must match, changed on the second datagram: nothing merges. */
static void test_gro_udp_fields(void **state)
{
	struct fixture *fx = *state;
	struct pkt_vec v;

	for (int i = 0; i < 15; i++) {
		struct flow f = flow_make(i < 9 ? 4 : 6, 17), g;
		uint16_t id1 = 2;

		g = f;
		switch (i) {
		case 0:
			g.sport++;
			break;
		case 1:
			g.dport--;
			break;
		case 2:
			g.src[3] = 9;
			break;
		case 3:
			g.dst[0] = 11;
			break;
		case 4:
			g.tos = 0x01; /* ECT(1) on one datagram only */
			break;
		case 5:
			g.ttl = 63;
			break;
		case 6:
			g.df = false; /* DF on the first only */
			break;
		case 7:
			f.df = g.df = false; /* no DF: the ID must be the next one */
			id1 = 3;
			break;
		case 8:
			f.df = g.df = false;
			id1 = 1; /* the same ID again */
			break;
		case 9:
			g.tos = 0xb8; /* traffic class */
			break;
		case 10:
			g.label ^= 1;
			break;
		case 11:
			g.ttl = 255; /* hop limit */
			break;
		case 12:
			g.src[15] = 7;
			break;
		case 13:
			g.dst[1] = 1;
			break;
		case 14:
			g.sport = 5201, g.dport = 40000; /* the ports swapped */
			break;
		}
		pkt_vec_init(&v);
		uadd(fx, &v, NULL, &f, payload, 1000, 1, CK_FULL);
		uadd(fx, &v, NULL, &g, payload + 1000, 1000, id1, CK_FULL);
		gro_udp_run(fx, &v, GRO_UDP);
		expect_udp_passed(&v, 2);
	}
	assert_int_equal(fx->st.gro_super, 0);
	assert_int_equal(fx->st.gro_bad_csum, 0);

	/* Without DF the IDs count up by one, across the wrap; the first ID stays. */
	{
		struct flow f = flow_make(4, 17);
		const uint32_t size[] = {700, 700, 700, 700};

		f.df = false;
		f.tos = 0x02;
		f.ttl = 3;
		udp_gro(fx, &v, NULL, &f, payload, size, 4, 0xfffe, CK_FULL, GRO_UDP);
		EXPECT_UDP(&v, NULL, &f, payload, U_SUPER(0, 2800, 0xfffe, 700));

		/* 5 6 | 8 9: a gap in the IDs starts a new group. */
		udp_gro_each(fx, &v, &f, payload, 700, 4, (const uint16_t[]){5, 6, 8, 9}, NULL);
		EXPECT_UDP(&v, NULL, &f, payload, U_SUPER(0, 1400, 5, 700),
			   U_SUPER(1400, 1400, 8, 700));
	}
	/* With DF the ID carries no meaning (RFC 6864): any IDs merge, the first one stays. */
	{
		struct flow f = flow_make(4, 17);

		udp_gro_each(fx, &v, &f, payload, 700, 4, (const uint16_t[]){100, 7, 0, 0}, NULL);
		EXPECT_UDP(&v, NULL, &f, payload, U_SUPER(0, 2800, 100, 700));
	}
	assert_int_equal(fx->st.gro_super_udp, 4);
}

/* This file's own sums for a hand-made UDP packet b[0..len) whose UDP header is at l4. */
static void udp_refix(uint8_t *b, uint32_t len, uint32_t l4, const struct flow *f)
{
	uint16_t v;

	if (f->ipv == 4) {
		put_be16(b + 10, 0);
		put_be16(b + 10, (uint16_t)~ref_fold(ref_sum(b, (uint32_t)(b[0] & 15) * 4, 0)));
	}
	put_be16(b + l4 + 6, 0);
	v = (uint16_t)~ref_fold(ref_sum(b + l4, len - l4, ref_pseudo(f, len - l4)));
	put_be16(b + l4 + 6, v ? v : 0xffff);
}

/*
 * f's datagram as build() writes it with the n bytes opt put between the IP and the UDP
 * header, counted in the IP header (IHL; IPv6: the first next header is hop-by-hop), the
 * sums made again by udp_refix. Returns the length.
 */
static uint32_t build_udp_ext(const struct flow *f, const uint8_t *data, uint32_t plen, uint16_t id,
			      const uint8_t *opt, uint32_t n, uint8_t *out)
{
	uint32_t l3 = l3_of(f), len = build(f, data, plen, 0, id, 0, CK_FULL, out) + n;

	memmove(out + l3 + n, out + l3, len - n - l3);
	memcpy(out + l3, opt, n);
	if (f->ipv == 4) {
		out[0] = (uint8_t)(0x40 | (l3 + n) / 4);
		put_be16(out + 2, (uint16_t)len);
	} else {
		out[6] = 0; /* hop-by-hop */
		put_be16(out + 4, (uint16_t)(len - 40));
	}
	udp_refix(out, len, l3 + n, f);
	return len;
}

/* IPv4 with a 4-byte router alert option (IHL 6). */
static uint32_t build_udp4_opts(const struct flow *f, const uint8_t *data, uint32_t plen,
				uint16_t id, uint8_t *out)
{
	static const uint8_t ra[4] = {0x94, 4, 0, 0}; /* router alert, value 0 */

	return build_udp_ext(f, data, plen, id, ra, sizeof(ra), out);
}

/* IPv6 with an 8-byte hop-by-hop header (PadN) in front of UDP. */
static uint32_t build_udp6_hbh(const struct flow *f, const uint8_t *data, uint32_t plen,
			       uint8_t *out)
{
	static const uint8_t hbh[8] = {17, 0, 1, 4}; /* next UDP, PadN of 4 */

	return build_udp_ext(f, data, plen, 0, hbh, sizeof(hbh), out);
}

/* Appends a hand-made packet, kept at its input index. */
static void uadd_raw(struct fixture *fx, struct pkt_vec *v, const uint8_t *b, uint32_t len)
{
	memcpy(ukeep[v->n], b, len);
	uklen[v->n] = len;
	pkt_vec_add(v, pkt_from(&fx->pool, b, len));
}

/*
 * Not candidates, each with valid checksums (by this file's sums over the packet as it
 * stands) so that only the rule at hand keeps it out: IP options, fragments, UDP or IP
 * length fields that do not match the packet, IPv6 extension headers. Three in a row
 * never merge; one amid a run of its flow ends the group before it.
 */
static void test_gro_udp_not_candidates(void **state)
{
	struct fixture *fx = *state;
	static uint8_t b[2048];
	struct pkt_vec v;

	for (int i = 0; i < 9; i++) {
		struct flow f = flow_make(i < 7 ? 4 : 6, 17);
		uint32_t l3 = l3_of(&f);

		pkt_vec_init(&v);
		for (uint32_t k = 0; k < 3; k++) {
			const uint8_t *data = payload + k * 1000;
			uint32_t len = build(&f, data, 1000, 0, (uint16_t)(1 + k), 0, CK_FULL, b);

			switch (i) {
			case 0:
				len = build_udp4_opts(&f, data, 1000, (uint16_t)(1 + k), b);
				break;
			case 1:
				put_be16(b + 6, 0x2000); /* MF, offset 0: the first fragment */
				break;
			case 2:
				put_be16(b + 6, 185); /* offset 1480 */
				break;
			case 3:
				put_be16(b + 6, 0x4000 | 0x2000); /* DF and MF */
				break;
			case 4:
				put_be16(b + l3 + 4,
					 (uint16_t)(8 + 1000 - 1)); /* UDP length short */
				break;
			case 5:
				put_be16(b + l3 + 4,
					 (uint16_t)(8 + 1000 + 1)); /* UDP length long */
				break;
			case 6:
			case 7:
				/* Four bytes more behind the datagram, counted in the UDP length
				 * but not in the IP one. */
				memset(b + len, 0, 4);
				len += 4;
				put_be16(b + l3 + 4, (uint16_t)(len - l3));
				break;
			case 8:
				len = build_udp6_hbh(&f, data, 1000, b);
				break;
			}
			udp_refix(b, len, i == 0 ? 24 : i == 8 ? 48 : l3, &f);
			uadd_raw(fx, &v, b, len);
		}
		gro_udp_run(fx, &v, GRO_UDP);
		expect_udp_passed(&v, 3);
	}
	assert_int_equal(fx->st.gro_super, 0);

	/* Amid a run of the flow: a0 a1 X a2 a3 makes two super-packets around X. */
	for (int i = 0; i < 4; i++) {
		struct flow f = flow_make(i < 3 ? 4 : 6, 17);
		uint32_t l3 = l3_of(&f), len;

		pkt_vec_init(&v);
		uadd_run(fx, &v, NULL, &f, payload, (const uint32_t[]){1000, 1000}, 2, 1, CK_FULL);
		len = build(&f, payload + 2000, 1000, 0, 3, 0, CK_FULL, b);
		switch (i) {
		case 0:
			len = build_udp4_opts(&f, payload + 2000, 1000, 3, b);
			break;
		case 1:
			put_be16(b + 6, 0x4000 | 0x2000);
			break;
		case 2:
			put_be16(b + l3 + 4, (uint16_t)(8 + 999));
			break;
		case 3:
			put_be16(b + l3 + 4, (uint16_t)(8 + 999));
			break;
		}
		udp_refix(b, len, i == 0 ? 24 : l3, &f);
		uadd_raw(fx, &v, b, len);
		uadd_run(fx, &v, NULL, &f, payload + 3000, (const uint32_t[]){1000, 1000}, 2, 4,
			 CK_FULL);
		gro_udp_run(fx, &v, GRO_UDP);
		EXPECT_UDP(&v, NULL, &f, payload, U_SUPER(0, 2000, 1, 1000), U_PASSED(2),
			   U_SUPER(3000, 2000, 4, 1000));
	}
	assert_int_equal(fx->st.gro_super_udp, 8);
	assert_int_equal(fx->st.gro_bad_csum, 0);
}

/* Checksum 0: "none" over IPv4 (merges), invalid over IPv6 (never). Bad ones pass, counted. */
static void test_gro_udp_csum(void **state)
{
	struct fixture *fx = *state;
	struct flow u4 = flow_make(4, 17), u6 = flow_make(6, 17);
	const uint32_t size[] = {1200, 1200, 1200, 1200, 1200};
	static uint8_t bad[2048];
	struct pkt_vec v;
	uint32_t len;

	/* IPv4 without checksums: the super-packet is the same as with them. */
	udp_gro(fx, &v, NULL, &u4, payload, size, 4, 9, CK_ZERO, GRO_UDP);
	assert_int_equal(get_be16(ukeep[2] + 26), 0);
	EXPECT_UDP(&v, NULL, &u4, payload, U_SUPER(0, 4800, 9, 1200));

	/* With and without, mixed. */
	udp_gro_each(fx, &v, &u4, payload, 1200, 5, (const uint16_t[]){0, 1, 2, 3, 4},
		     (const enum ck[]){CK_ZERO, CK_FULL, CK_ZERO, CK_FULL, CK_ZERO});
	EXPECT_UDP(&v, NULL, &u4, payload, U_SUPER(0, 6000, 0, 1200));
	assert_int_equal(fx->st.gro_bad_csum, 0);

	/* IPv6 with 0: never merged, passed unchanged behind a zero vnet header. */
	udp_gro(fx, &v, NULL, &u6, payload, size, 3, 0, CK_ZERO, GRO_UDP);
	expect_udp_passed(&v, 3);
	/* ... and one amid a run ends the group before it. */
	udp_gro_each(fx, &v, &u6, payload, 1200, 5, NULL,
		     (const enum ck[]){CK_FULL, CK_FULL, CK_ZERO, CK_FULL, CK_FULL});
	EXPECT_UDP(&v, NULL, &u6, payload, U_SUPER(0, 2400, 0, 1200), U_PASSED(2),
		   U_SUPER(3600, 2400, 0, 1200));
	/* The first one 0: it passes, the rest merge. */
	udp_gro_each(fx, &v, &u6, payload, 1200, 3, NULL,
		     (const enum ck[]){CK_ZERO, CK_FULL, CK_FULL});
	EXPECT_UDP(&v, NULL, &u6, payload, U_PASSED(0), U_SUPER(1200, 2400, 0, 1200));
	assert_int_equal(fx->st.gro_bad_csum, 0);

	/* A bad UDP checksum amid a run (IPv4, then IPv6): it passes, counted. */
	for (int ipv = 4; ipv <= 6; ipv += 2) {
		const struct flow *f = ipv == 4 ? &u4 : &u6;
		uint64_t before = fx->st.gro_bad_csum;

		pkt_vec_init(&v);
		uadd_run(fx, &v, NULL, f, payload, size, 5, 20, CK_FULL);
		ukeep[2][l3_of(f) + 8 + 100] ^= 0x01;
		ureplace(fx, &v, 2);
		gro_udp_run(fx, &v, GRO_UDP);
		assert_int_equal(fx->st.gro_bad_csum, before + 1);
		EXPECT_UDP(&v, NULL, f, payload, U_SUPER(0, 2400, 20, 1200), U_PASSED(2),
			   U_SUPER(3600, 2400, 23, 1200));
	}
	/* A bad first datagram: it passes, the next ones make their own super-packet. */
	pkt_vec_init(&v);
	uadd_run(fx, &v, NULL, &u6, payload, size, 3, 0, CK_FULL);
	ukeep[0][uklen[0] - 1] ^= 0x80;
	ureplace(fx, &v, 0);
	gro_udp_run(fx, &v, GRO_UDP);
	EXPECT_UDP(&v, NULL, &u6, payload, U_PASSED(0), U_SUPER(1200, 2400, 0, 1200));
	assert_int_equal(fx->st.gro_bad_csum, 3);
	/* A bad IPv4 header checksum (UDP fine) on the second; a good copy after it. */
	len = build(&u4, payload + 1200, 1200, 0, 2, 0, CK_FULL, bad);
	bad[10] ^= 0x40;
	pkt_vec_init(&v);
	uadd(fx, &v, NULL, &u4, payload, 1200, 1, CK_FULL);
	uadd_raw(fx, &v, bad, len);
	uadd_run(fx, &v, NULL, &u4, payload + 1200, size, 2, 2, CK_FULL);
	gro_udp_run(fx, &v, GRO_UDP);
	EXPECT_UDP(&v, NULL, &u4, payload, U_PASSED(0), U_PASSED(1), U_SUPER(1200, 2400, 2, 1200));
	assert_int_equal(fx->st.gro_bad_csum, 4);
}

/* Without GRO_UDP, UDP passes one by one behind a zero header as before; TCP still merges. */
static void test_gro_udp_off(void **state)
{
	struct fixture *fx = *state;
	struct flow t = flow_make(4, 6), u4 = flow_make(4, 17), u6 = flow_make(6, 17);
	struct eth e = eth_make();

	for (int mode = 0; mode < 4; mode++) {
		const struct eth *le = mode >= 2 ? &e : NULL;
		struct pkt_vec v;
		uint32_t idx[12], nu = 0;

		pkt_vec_init(&v);
		for (uint32_t k = 0; k < 4; k++) {
			if (le)
				pkt_vec_add(&v,
					    fseg(fx, le, &t, k * 1000, 1000, (uint16_t)k, F_ACK));
			else
				pkt_vec_add(&v, seg(fx, &t, k * 1000, 1000, (uint16_t)k, F_ACK));
			idx[nu++] =
				uadd(fx, &v, le, &u4, payload + k * 900, 900, (uint16_t)k, CK_FULL);
			idx[nu++] = uadd(fx, &v, le, &u6, payload + k * 900, 900, 0, CK_FULL);
		}
		switch (mode) {
		case 0:
			gro_coalesce(&v, &fx->big, &fx->st);
			break;
		case 1:
			gro_coalesce_ex(&v, &fx->big, &fx->st, 0);
			break;
		case 2:
			gro_coalesce_frames(&v, &fx->big, &fx->st);
			break;
		case 3:
			gro_coalesce_ex(&v, &fx->big, &fx->st, GRO_FRAMES);
			break;
		}
		/* The TCP super-packet where its first segment was, then the datagrams in order. */
		assert_int_equal(v.n, 1 + 8);
		if (le)
			assert_super_frame(v.p[0], le, &t, 0, 4000, 0, 0, F_ACK, 1000);
		else
			assert_super(v.p[0], &t, 0, 4000, 0, 0, F_ACK, 1000);
		for (uint32_t k = 0; k < 8; k++)
			assert_passed_k(v.p[1 + k], idx[k]);
		pkt_vec_free(&v);
	}
	assert_int_equal(fx->st.gro_super, 4);
	assert_int_equal(fx->st.gro_super_udp, 0);
}

/* Appends a TCP segment of flow f (payload at seq), kept at its input index like uadd's. */
static void tadd(struct fixture *fx, struct pkt_vec *v, const struct flow *f, uint32_t seq,
		 uint32_t plen, uint16_t id, uint8_t flags)
{
	uint32_t k = v->n;

	uklen[k] = build(f, payload + seq, plen, seq, id, flags, CK_FULL, ukeep[k]);
	pkt_vec_add(v, pkt_from(&fx->pool, ukeep[k], uklen[k]));
}

/*
 * TCP and UDP flows interleaved (one UDP flow with the TCP flow's addresses and ports):
 * each merges in its own groups, the output in the order of each group's first packet.
 */
static void test_gro_udp_mixed(void **state)
{
	struct fixture *fx = *state;
	struct flow t = flow_make(4, 6), u = flow_make(4, 17), w = flow_make(4, 17);
	struct flow x = flow_make(6, 17), y = flow_make(6, 17);
	uint32_t ut[5] = {1100, 1100, 600, 1100, 1100};
	struct pkt_vec v;

	w.sport = 40001;
	y.dst[15] = 3;
	pkt_vec_init(&v);
	for (uint32_t k = 0; k < 5; k++) {
		tadd(fx, &v, &t, k * MSS4, MSS4, (uint16_t)(50 + k), F_ACK);
		uadd(fx, &v, NULL, &u, payload + sum_of(ut, 0, k), ut[k], (uint16_t)(10 + k),
		     CK_FULL);
		uadd(fx, &v, NULL, &x, payload + 7 + k * 1300, 1300, 0, CK_FULL);
		uadd(fx, &v, NULL, &w, payload + 3 + k * 1000, 1000, (uint16_t)(90 + k), CK_FULL);
		uadd(fx, &v, NULL, &y, payload + 1 + k * 800, 800, 0, CK_FULL);
	}
	gro_udp_run(fx, &v, GRO_UDP);
	/* u's short third datagram ends its first group; its fourth starts the sixth group. */
	assert_int_equal(v.n, 6);
	assert_super(v.p[0], &t, 0, 5 * MSS4, 0, 50, F_ACK, MSS4);
	assert_super_udp(v.p[1], NULL, &u, payload, 2800, 10, 1100);
	assert_super_udp(v.p[2], NULL, &x, payload + 7, 5 * 1300, 0, 1300);
	assert_super_udp(v.p[3], NULL, &w, payload + 3, 5 * 1000, 90, 1000);
	assert_super_udp(v.p[4], NULL, &y, payload + 1, 5 * 800, 0, 800);
	assert_super_udp(v.p[5], NULL, &u, payload + 2800, 2200, 13, 1100);
	pkt_vec_free(&v);
	assert_int_equal(fx->st.gro_super, 6);
	assert_int_equal(fx->st.gro_super_udp, 5);
	assert_int_equal(fx->st.gro_merged, 25);

	/* A TCP segment of the same ports and addresses does not end a UDP run, nor the reverse. */
	pkt_vec_init(&v);
	uadd(fx, &v, NULL, &u, payload, 1000, 1, CK_FULL);
	tadd(fx, &v, &t, 0, MSS4, 1, F_ACK | F_PSH);
	uadd(fx, &v, NULL, &u, payload + 1000, 1000, 2, CK_FULL);
	tadd(fx, &v, &t, MSS4, 0, 2, F_ACK);
	uadd(fx, &v, NULL, &u, payload + 2000, 1000, 3, CK_FULL);
	gro_udp_run(fx, &v, GRO_UDP);
	EXPECT_UDP(&v, NULL, &u, payload, U_SUPER(0, 3000, 1, 1000), U_PASSED(1), U_PASSED(3));
}

/* GRO_FRAMES | GRO_UDP: datagrams in Ethernet frames merge when the link headers match. */
static void test_gro_udp_frames(void **state)
{
	struct fixture *fx = *state;
	struct eth e = eth_make(), e2 = eth_make(), ev = eth_make(), ev2 = eth_make();
	struct flow u4 = flow_make(4, 17), u6 = flow_make(6, 17), t = flow_make(4, 6);
	const unsigned fl = GRO_FRAMES | GRO_UDP;
	/* One IP flow's link headers: two MACs, two VLAN tags. */
	const struct eth *links[] = {&e, &e2, &ev, &ev2};
	static uint8_t arp[64];
	uint32_t size[8], arp_at = 0, alen;
	struct pkt_vec v;

	e2.src[5] = 0x77;
	ev.vlan = ev2.vlan = true;
	ev.tci = 0x2064;
	ev2.tci = 0x2065;

	/* IPv4 behind a plain header, the last one short. */
	udp_gro(fx, &v, &e, &u4, payload, fill_sizes(size, 6, UDP4_SIZE - 14, 17), 6, 40, CK_FULL,
		fl);
	EXPECT_UDP(&v, &e, &u4, payload, U_SUPER(0, 5 * (UDP4_SIZE - 14) + 17, 40, UDP4_SIZE - 14));

	/* IPv6 behind a tag. */
	udp_gro(fx, &v, &ev, &u6, payload + 1, fill_sizes(size, 4, 1000, 1000), 4, 0, CK_FULL, fl);
	EXPECT_UDP(&v, &ev, &u6, payload + 1, U_SUPER(0, 4000, 0, 1000));

	/*
	 * One IP flow behind two MACs and two VLAN tags, interleaved with ARP and a TCP flow:
	 * each link header its own super-frame; ARP passes.
	 */
	alen = build_arp(&e, arp);
	pkt_vec_init(&v);
	for (uint32_t k = 0; k < 3; k++) {
		for (uint32_t j = 0; j < 4; j++)
			uadd(fx, &v, links[j], &u4, payload + k * 1000, 1000, (uint16_t)k, CK_FULL);
		pkt_vec_add(&v, fseg(fx, &e, &t, k * 1000, 1000, (uint16_t)k, F_ACK));
		if (k == 1) {
			arp_at = v.n;
			uadd_raw(fx, &v, arp, alen);
		}
	}
	gro_udp_run(fx, &v, fl);
	assert_int_equal(v.n, 6);
	for (uint32_t j = 0; j < 4; j++)
		assert_super_udp(v.p[j], links[j], &u4, payload, 3000, 0, 1000);
	assert_super_frame(v.p[4], &e, &t, 0, 3000, 0, 0, F_ACK, 1000);
	assert_passed_k(v.p[5], arp_at);
	pkt_vec_free(&v);

	/* Two in sequence that would merge but for the link header: both pass unchanged. */
	pkt_vec_init(&v);
	uadd(fx, &v, &ev, &u6, payload, 1000, 0, CK_FULL);
	uadd(fx, &v, &ev2, &u6, payload + 1000, 1000, 0, CK_FULL);
	gro_udp_run(fx, &v, fl);
	expect_udp_passed(&v, 2);
	assert_int_equal(fx->st.gro_super_udp, 6);
	assert_int_equal(fx->st.gro_super, 7);

	/* Bare IP datagrams handed over as frames carry no IP ethertype: they pass. */
	udp_gro(fx, &v, NULL, &u4, payload, fill_sizes(size, 3, 1000, 1000), 3, 0, CK_FULL, fl);
	expect_udp_passed(&v, 3);
	assert_int_equal(fx->st.gro_super_udp, 6);
}

/*
 * The 65535-byte IP length: a run that would exceed it makes two super-packets; one that
 * meets it exactly makes one. Smaller big buffers cut runs shorter.
 */
static void test_gro_udp_limits(void **state)
{
	struct fixture *fx = *state;
	struct flow u4 = flow_make(4, 17), u6 = flow_make(6, 17);
	uint32_t size[PKT_VEC_MAX];
	const uint32_t fit4 = (65535 - 28) / UDP4_SIZE, fit6 = (65535 - 48) / UDP6_SIZE;
	struct pkt_vec v;

	assert_int_equal(fit4, 47);
	assert_int_equal(fit6, 47);
	/* 50 full IPv4 datagrams: 47 and 3. */
	udp_gro(fx, &v, NULL, &u4, payload, fill_sizes(size, 50, UDP4_SIZE, UDP4_SIZE), 50, 0,
		CK_FULL, GRO_UDP);
	EXPECT_UDP(&v, NULL, &u4, payload, U_SUPER(0, fit4 * UDP4_SIZE, 0, UDP4_SIZE),
		   U_SUPER(fit4 * UDP4_SIZE, 3 * UDP4_SIZE, (uint16_t)fit4, UDP4_SIZE));

	/* 47 full and a last one that makes exactly 65535 bytes: one super-packet. */
	size[fit4] = 65535 - 28 - fit4 * UDP4_SIZE; /* 83 */
	udp_gro(fx, &v, NULL, &u4, payload, size, fit4 + 1, 0, CK_FULL, GRO_UDP);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.p[0]->len, VNET_HDR_LEN + 65535);
	EXPECT_UDP(&v, NULL, &u4, payload, U_SUPER(0, 65535 - 28, 0, UDP4_SIZE));
	/* One byte more: it passes alone. */
	size[fit4]++;
	udp_gro(fx, &v, NULL, &u4, payload, size, fit4 + 1, 0, CK_FULL, GRO_UDP);
	EXPECT_UDP(&v, NULL, &u4, payload, U_SUPER(0, fit4 * UDP4_SIZE, 0, UDP4_SIZE),
		   U_PASSED(fit4));

	/* IPv6: the whole packet within 65535 bytes too. */
	fill_sizes(size, fit6 + 1, UDP6_SIZE, 65535 - 48 - fit6 * UDP6_SIZE); /* last 1003 */
	udp_gro(fx, &v, NULL, &u6, payload, size, fit6 + 1, 0, CK_FULL, GRO_UDP);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.p[0]->len, VNET_HDR_LEN + 65535);
	EXPECT_UDP(&v, NULL, &u6, payload, U_SUPER(0, 65535 - 48, 0, UDP6_SIZE));
	/* One byte more, twice: the first starts a new group, which the second joins. */
	size[fit6] = size[fit6 + 1] = 1004;
	udp_gro(fx, &v, NULL, &u6, payload, size, fit6 + 2, 0, CK_FULL, GRO_UDP);
	EXPECT_UDP(&v, NULL, &u6, payload, U_SUPER(0, fit6 * UDP6_SIZE, 0, UDP6_SIZE),
		   U_SUPER(fit6 * UDP6_SIZE, 2008, 0, 1004));
	assert_int_equal(fx->st.gro_super_udp, 7);

	/* Big buffers of 5000 bytes: 1028 + 3 * 1000 fit, a fourth more does not. */
	{
		struct pkt_pool small;

		assert_true(pkt_pool_init(&small, 4, PKT_HEADROOM + 5000));
		pkt_vec_init(&v);
		uadd_run(fx, &v, NULL, &u4, payload, fill_sizes(size, 10, 1000, 1000), 10, 0,
			 CK_FULL);
		gro_coalesce_ex(&v, &small, &fx->st, GRO_UDP);
		EXPECT_UDP(&v, NULL, &u4, payload, U_SUPER(0, 4000, 0, 1000),
			   U_SUPER(4000, 4000, 4, 1000), U_SUPER(8000, 2000, 8, 1000));
		assert_int_equal(small.nfree, small.count);
		pkt_pool_destroy(&small);
	}
}

/* test_gro_udp_nomem's batch: four IPv4 datagrams (inputs 0-3), then three IPv6 (4-6). */
static void nomem_batch(struct fixture *fx, struct pkt_vec *v, const struct flow *u4,
			const struct flow *u6)
{
	const uint32_t size[] = {1000, 1000, 1000, 1000};

	pkt_vec_init(v);
	uadd_run(fx, v, NULL, u4, payload, size, 4, 0, CK_FULL);
	uadd_run(fx, v, NULL, u6, payload, size, 3, 0, CK_FULL);
}

/* The big pool empty (or nearly): groups pass through unchanged, counted in gro_nomem. */
static void test_gro_udp_nomem(void **state)
{
	struct fixture *fx = *state;
	struct flow u4 = flow_make(4, 17), u6 = flow_make(6, 17);
	const uint32_t size[] = {1000, 1000, 1000, 1000};
	struct pkt *held[8];
	struct pkt_vec v;

	for (uint32_t i = 0; i < fx->big.count; i++)
		held[i] = pkt_alloc(&fx->big);
	nomem_batch(fx, &v, &u4, &u6);
	gro_udp_run(fx, &v, GRO_UDP);
	expect_udp_passed(&v, 7);
	assert_int_equal(fx->st.gro_nomem, 2);
	assert_int_equal(fx->st.gro_super, 0);

	/* One buffer left: the first group gets it, the second passes. */
	pkt_free(held[0]);
	nomem_batch(fx, &v, &u4, &u6);
	gro_udp_run(fx, &v, GRO_UDP);
	EXPECT_UDP(&v, NULL, &u4, payload, U_SUPER(0, 4000, 0, 1000), U_PASSED(4), U_PASSED(5),
		   U_PASSED(6));
	assert_int_equal(fx->st.gro_nomem, 3);
	assert_int_equal(fx->st.gro_super_udp, 1);
	free_all(held + 1, fx->big.count - 1);

	/* No big pool at all: nothing merges. */
	pkt_vec_init(&v);
	uadd_run(fx, &v, NULL, &u4, payload, size, 4, 0, CK_FULL);
	gro_coalesce_ex(&v, NULL, &fx->st, GRO_UDP);
	expect_udp_passed(&v, 4);
	assert_int_equal(fx->st.gro_super_udp, 1);
}

static uint8_t usuper[70200];

/*
 * Datagrams of flow f (behind e when not NULL) of sizes size[0..n), cut in turn from
 * data, with IP IDs ids[k] (id0 + k when ids is NULL) and checksums as ck: coalesced into
 * one super-packet (checked against the reference), which gso_split (gso_split_frames_
 * batch for frames) cuts back into exactly the datagrams a sender with checksums sends:
 * the inputs themselves when they had checksums and consecutive IDs. Coalescing those
 * again gives the same super-packet.
 */
static void udp_roundtrip(struct fixture *fx, const struct eth *e, const struct flow *f,
			  const uint8_t *data, const uint32_t *size, uint32_t n,
			  const uint16_t *ids, uint16_t id0, enum ck ck)
{
	static struct pkt *segs[MAXSEGS];
	static uint8_t want[2048];
	uint32_t total = sum_of(size, 0, n), link = e ? link_of(e) : 0, slen, got;
	uint16_t first = ids ? ids[0] : id0;
	unsigned flags = GRO_UDP | (e ? GRO_FRAMES : 0);
	struct vnet_hdr h;
	struct pkt_vec v;
	struct pkt *q;

	pkt_vec_init(&v);
	for (uint32_t k = 0, off = 0; k < n; off += size[k], k++)
		uadd(fx, &v, e, f, data + off, size[k], ids ? ids[k] : (uint16_t)(id0 + k), ck);
	gro_udp_run(fx, &v, flags);
	assert_int_equal(v.n, 1);
	assert_super_udp(v.p[0], e, f, data, total, first, size[0]);
	q = v.p[0];
	slen = q->len;
	memcpy(usuper, q->data, slen);
	vnet_hdr_pull(q, &h);
	if (e) {
		got = split_frames_all(fx, &h, q->data, q->len, TUNNEL_FRAME, segs);
		pkt_free(q);
	} else {
		got = split_all(fx, &h, q, segs);
	}
	assert_int_equal(got, n);
	for (uint32_t k = 0, off = 0; k < n; off += size[k], k++) {
		uint32_t len = e ? eth_put(e, ethertype_of(f), want) : 0;

		len += build(f, data + off, size[k], 0, (uint16_t)(first + k), 0, CK_FULL,
			     want + len);
		assert_int_equal(segs[k]->len, len);
		assert_memory_equal(segs[k]->data, want, len);
		if (ck == CK_FULL && !ids)
			assert_memory_equal(segs[k]->data, ukeep[k], uklen[k]);
		assert_csums(segs[k]->data + link, len - link);
	}
	/* And back again. */
	pkt_vec_init(&v);
	for (uint32_t k = 0; k < n; k++)
		pkt_vec_add(&v, segs[k]);
	gro_udp_run(fx, &v, flags);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.p[0]->len, slen);
	assert_memory_equal(v.p[0]->data, usuper, slen);
	pkt_vec_free(&v);
}

static void test_gro_udp_roundtrip(void **state)
{
	struct fixture *fx = *state;
	struct flow u4 = flow_make(4, 17), u6 = flow_make(6, 17);
	struct eth e = eth_make(), ev = eth_make();
	static uint8_t data[70000];
	uint32_t size[PKT_VEC_MAX];
	uint16_t ids[4] = {100, 7, 0, 0xffff};

	udp_roundtrip(fx, NULL, &u4, payload, fill_sizes(size, 2, UDP4_SIZE, UDP4_SIZE), 2, NULL, 1,
		      CK_FULL);
	udp_roundtrip(fx, NULL, &u4, payload, fill_sizes(size, 11, UDP4_SIZE, 5), 11, NULL, 0xfff8,
		      CK_FULL);
	udp_roundtrip(fx, NULL, &u4, payload, fill_sizes(size, PKT_VEC_MAX, 1, 1), PKT_VEC_MAX,
		      NULL, 3, CK_FULL);
	udp_roundtrip(fx, NULL, &u4, payload, fill_sizes(size, 48, UDP4_SIZE, 83), 48, NULL, 3,
		      CK_FULL);
	udp_roundtrip(fx, NULL, &u6, payload, fill_sizes(size, 3, UDP6_SIZE, UDP6_SIZE), 3, NULL, 0,
		      CK_FULL);
	udp_roundtrip(fx, NULL, &u6, payload + 1, fill_sizes(size, 8, UDP6_SIZE, 1), 8, NULL, 0,
		      CK_FULL);
	udp_roundtrip(fx, NULL, &u6, payload, fill_sizes(size, 48, UDP6_SIZE, 1003), 48, NULL, 0,
		      CK_FULL);
	udp_roundtrip(fx, NULL, &u6, payload, fill_sizes(size, PKT_VEC_MAX, 20, 20), PKT_VEC_MAX,
		      NULL, 0, CK_FULL);
	/* Without DF, a TOS, a TTL; IPv6 with a traffic class and label. */
	u4.df = false, u4.tos = 0x10, u4.ttl = 1;
	u6.tos = 0x2e, u6.label = 0xfffff, u6.ttl = 2;
	udp_roundtrip(fx, NULL, &u4, payload + 2, fill_sizes(size, 5, 1000, 999), 5, NULL, 0xfffd,
		      CK_FULL);
	udp_roundtrip(fx, NULL, &u6, payload + 2, size, 5, NULL, 0, CK_FULL);
	/* IPv4 without checksums: they come back with them. */
	u4 = flow_make(4, 17);
	udp_roundtrip(fx, NULL, &u4, payload, size, 5, NULL, 9, CK_ZERO);
	/* DF and IDs that do not count: they come back numbered from the first, as the
	 * kernel numbers them. */
	udp_roundtrip(fx, NULL, &u4, payload, fill_sizes(size, 4, 600, 600), 4, ids, 0, CK_FULL);

	/* A datagram whose checksum comes out 0 is sent as 0xffff: it merges and comes back
	 * the same. The last two bytes of the second datagram set its sum. */
	for (int ipv = 4; ipv <= 6; ipv += 2) {
		const struct flow *f = ipv == 4 ? &u4 : &u6;
		static uint8_t b[2048];
		uint32_t len, l3 = l3_of(f);

		memcpy(data, payload, 3 * 800);
		put_be16(data + 1598, 0);
		len = build(f, data + 800, 800, 0, 0, 0, CK_ZERO, b);
		put_be16(data + 1598,
			 (uint16_t)~ref_fold(ref_sum(b + l3, len - l3, ref_pseudo(f, len - l3))));
		len = build(f, data + 800, 800, 0, 0, 0, CK_FULL, b);
		assert_int_equal(get_be16(b + l3 + 6), 0xffff);
		udp_roundtrip(fx, NULL, f, data, fill_sizes(size, 3, 800, 800), 3, NULL, 0,
			      CK_FULL);
	}

	/* Frames: behind a plain header and a tag; not re-cut to the tunnel. */
	u6 = flow_make(6, 17);
	ev.vlan = true;
	ev.tci = 0x0064;
	udp_roundtrip(fx, &e, &u4, payload, fill_sizes(size, 6, UDP4_SIZE, 700), 6, NULL, 1,
		      CK_FULL);
	udp_roundtrip(fx, &ev, &u6, payload, fill_sizes(size, PKT_VEC_MAX, 100, 3), PKT_VEC_MAX,
		      NULL, 0, CK_FULL);
	udp_roundtrip(fx, &ev, &u4, payload, fill_sizes(size, 4, UDP6_SIZE, UDP6_SIZE), 4, NULL, 0,
		      CK_ZERO);
	assert_int_equal(fx->st.gro_bad_csum, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vnet_hdr_codec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_tcp4_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_tcp6_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_tcp_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_udp_zero_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_partial_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_not_mergeable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_bad_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_many_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_l3_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_vlan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_frames_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_frames_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_frames_l2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_frames_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_not_candidates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_nomem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp_roundtrip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
