/* SPDX-License-Identifier: MIT */
#ifndef VW_TEST_OFFLOAD_HARNESS_H
#define VW_TEST_OFFLOAD_HARNESS_H

/*
 * What test_vnet_hdr, test_gso, test_gro and test_gro_udp share: the fixture (pools for
 * segments and super-packets that must all come back), a reference that writes IP packets
 * and Ethernet frames field by field on its own (with its own RFC 1071 sum) rather than
 * through the code under test, the reference segmenter, the checksum checks by
 * core/csum.h, and the checks of what GRO hands the kernel.
 *
 * Functions are static inline so that a program that uses only some of them still
 * builds with -Werror; scratch buffers a program needs for its own checks live in that
 * program.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

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
	/* setup_chain: GRO runs with GRO_CHAIN; its chains are copied flat into flat for the
	 * checks. */
	bool chain;
	uint32_t chains;
	struct pkt_pool flat;
};

static uint8_t payload[PAYLOAD_MAX];

static inline int setup(void **state)
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

/* A test run again under setup_chain. */
#define chained_test(f)                                           \
	{                                                         \
#f " (GRO_CHAIN)", f, setup_chain, teardown, NULL \
	}

/* As setup, and every gro_test runs with GRO_CHAIN. */
static inline int setup_chain(void **state)
{
	struct fixture *fx;

	if (setup(state))
		return -1;
	fx = *state;
	fx->chain = true;
	return pkt_pool_init(&fx->flat, 64, BIG_SIZE) ? 0 : -1;
}

static inline int teardown(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fx->st.gro_chained, fx->chains);
	if (fx->chain) {
		assert_int_equal(fx->flat.nfree, fx->flat.count);
		pkt_pool_destroy(&fx->flat);
	}

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

static inline struct flow flow_make(int ipv, int proto)
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

static inline uint32_t l3_of(const struct flow *f)
{
	return f->ipv == 4 ? 20 : 40;
}

static inline uint32_t l4_of(const struct flow *f)
{
	if (f->proto == 17)
		return 8;
	return 20 + (f->ts ? 12 : 0) + (f->sack ? 12 : 0);
}

/* RFC 1071, 16-bit big-endian words into a wide accumulator. */
static inline uint64_t ref_sum(const uint8_t *b, size_t len, uint64_t acc)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		acc += (uint32_t)b[len - 1] << 8;
	return acc;
}

static inline uint16_t ref_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static inline uint64_t ref_pseudo(const struct flow *f, uint32_t l4len)
{
	uint32_t alen = f->ipv == 4 ? 4 : 16;

	return ref_sum(f->src, alen, 0) + ref_sum(f->dst, alen, 0) + (uint32_t)f->proto +
	       (l4len >> 16) + (l4len & 0xffff);
}

/* One IP packet of flow f carrying data[0..plen), every field written here. */
static inline uint32_t build(const struct flow *f, const uint8_t *data, uint32_t plen, uint32_t seq,
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
static inline struct vnet_hdr super_hdr(const struct flow *f, uint32_t gso_size, bool ecn)
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
static inline void assert_csums(const uint8_t *d, uint32_t len)
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

static inline struct pkt *pkt_from(struct pkt_pool *pool, const uint8_t *b, uint32_t len)
{
	struct pkt *p = pkt_alloc(pool);

	assert_non_null(p);
	assert_non_null(pkt_put(p, len));
	memcpy(p->data, b, len);
	return p;
}

/* Splits in (freed here) to the end, resuming across GSO_MORE; returns the segments. */
static inline uint32_t split_all(struct fixture *fx, const struct vnet_hdr *h, struct pkt *in,
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

static inline void free_all(struct pkt **p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		pkt_free(p[i]);
}

/* Expected segment k of a super-packet, built from the flow's fields, not from the input. */
static inline uint32_t ref_segment(const struct flow *f, uint32_t total, uint32_t gso,
				   uint32_t seq0, uint16_t id0, uint8_t flags, uint32_t k,
				   uint32_t nsegs, uint8_t *out)
{
	uint32_t off = k * gso, plen = total - off < gso ? total - off : gso;
	uint8_t fl = flags;

	if (k + 1 < nsegs)
		fl &= (uint8_t) ~(F_FIN | F_PSH);
	if (k > 0)
		fl &= (uint8_t)~F_CWR;
	return build(f, payload + off, plen, seq0 + off, (uint16_t)(id0 + k), fl, CK_FULL, out);
}

/* ---- what GRO hands the kernel ---- */

/*
 * gro_coalesce, with GRO_CHAIN under setup_chain: each chain that comes out is gathered
 * through the iovecs a device write would take (pkt_chain_iov) into one packet from
 * fx->flat, so the checks below read it as they read a copied super-packet.
 */
static inline void gro_test(struct fixture *fx, struct pkt_vec *v, struct pkt_pool *big,
			    unsigned flags)
{
	gro_coalesce(v, big, &fx->st, flags | (fx->chain ? GRO_CHAIN : 0));
	for (uint32_t i = 0; i < v->n; i++) {
		struct pkt *p = v->p[i], *q;
		struct iovec *iov;
		uint32_t n;

		if (!p->frags)
			continue;
		assert_true(fx->chain);
		iov = pkt_chain_iov(p, &n);
		assert_non_null(iov);
		q = pkt_alloc(&fx->flat);
		assert_non_null(q);
		for (uint32_t k = 0; k < n; k++)
			memcpy(pkt_put(q, (uint32_t)iov[k].iov_len), iov[k].iov_base,
			       iov[k].iov_len);
		assert_int_equal(q->len, pkt_chain_len(p));
		q->port = p->port;
		q->flags = p->flags;
		pkt_free(p);
		v->p[i] = q;
		fx->chains++;
	}
}

/* out must be p's bytes behind a zero vnet header. */
static inline void assert_passed(const struct pkt *out, const uint8_t *b, uint32_t len)
{
	static const uint8_t zero[VNET_HDR_LEN];

	assert_int_equal(out->len, VNET_HDR_LEN + len);
	assert_memory_equal(out->data, zero, VNET_HDR_LEN);
	assert_memory_equal(out->data + VNET_HDR_LEN, b, len);
}

/* out must be the super-packet of flow f: payload[off..off+total) from seq, first ID id. */
static inline void assert_super(const struct pkt *out, const struct flow *f, uint32_t off,
				uint32_t total, uint32_t seq, uint16_t id, uint8_t flags,
				uint32_t gso)
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
static inline struct pkt *seg(struct fixture *fx, const struct flow *f, uint32_t seq, uint32_t plen,
			      uint16_t id, uint8_t flags)
{
	static uint8_t b[2048];
	uint32_t len = build(f, payload + seq, plen, seq, id, flags, CK_FULL, b);

	return pkt_from(&fx->pool, b, len);
}

/* ---- Ethernet frames: a TAP with IFF_VNET_HDR ---- */

#define TUNNEL_FRAME 1384 /* 1420 - outer IPv4 20 - UDP 8 - VXLAN 8 */
#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86dd
#define ETH_P_ARP    0x0806
#define ETH_P_VLAN   0x8100

struct eth {
	uint8_t dst[6], src[6];
	bool vlan;
	uint16_t tci;
};

static inline struct eth eth_make(void)
{
	struct eth e = {.dst = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x02},
			.src = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}};

	return e;
}

static inline uint32_t link_of(const struct eth *e)
{
	return e->vlan ? 18 : 14;
}

static inline uint16_t ethertype_of(const struct flow *f)
{
	return f->ipv == 4 ? ETH_P_IP : ETH_P_IPV6;
}

/* The link header of e for ethertype type, written into out; returns its length. */
static inline uint32_t eth_put(const struct eth *e, uint16_t type, uint8_t *out)
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
static inline uint32_t build_frame(const struct eth *e, const struct flow *f, const uint8_t *data,
				   uint32_t plen, uint32_t seq, uint16_t id, uint8_t flags,
				   enum ck ck, uint8_t *out)
{
	uint32_t link = eth_put(e, ethertype_of(f), out);

	return link + build(f, data, plen, seq, id, flags, ck, out + link);
}

/*
 * The vnet header a tap puts on a super-frame: super_hdr's, with csum_start and hdr_len
 * counted from the frame start.
 */
static inline struct vnet_hdr super_frame_hdr(const struct eth *e, const struct flow *f,
					      uint32_t gso, bool ecn)
{
	struct vnet_hdr h = super_hdr(f, gso, ecn);

	h.hdr_len = (uint16_t)(h.hdr_len + link_of(e));
	h.csum_start = (uint16_t)(h.csum_start + link_of(e));
	return h;
}

/* An ARP request from e's source (28 bytes of ARP behind the link header). */
static inline uint32_t build_arp(const struct eth *e, uint8_t *out)
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
static inline uint32_t build_stp(const struct eth *e, uint8_t *out)
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

/* One frame behind its vnet header, through the batch form to the end; returns the outputs. */
static inline uint32_t split_frames_all(struct fixture *fx, const struct vnet_hdr *h,
					const uint8_t *b, uint32_t len, uint32_t max_frame,
					struct pkt **segs)
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

/* A segment frame of flow f behind e as the sender sent it: payload at seq, full checksum. */
static inline struct pkt *fseg(struct fixture *fx, const struct eth *e, const struct flow *f,
			       uint32_t seq, uint32_t plen, uint16_t id, uint8_t flags)
{
	static uint8_t b[2048];
	uint32_t len = build_frame(e, f, payload + seq, plen, seq, id, flags, CK_FULL, b);

	return pkt_from(&fx->pool, b, len);
}

/* out must be the super-frame of flow f behind e: payload[off..off+total) from seq, ID id. */
static inline void assert_super_frame(const struct pkt *out, const struct eth *e,
				      const struct flow *f, uint32_t off, uint32_t total,
				      uint32_t seq, uint16_t id, uint8_t flags, uint32_t gso)
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
	/* What the tap does with it, by the reference's own sum: it verifies. */
	sum = (uint16_t)~ref_fold(ref_sum(d + h.csum_start, len - h.csum_start, 0));
	put_be16(d + h.csum_start + h.csum_offset, sum);
	assert_csums(d + link, len - link);
	memcpy(d, b, len);
}

#endif
