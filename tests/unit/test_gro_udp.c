/* SPDX-License-Identifier: MIT */
/*
 * GRO of UDP datagrams into UDP_L4 super-packets (GRO_UDP: a TUN/TAP that took USO), for
 * packets and frames: sizes, fields, non-candidates, checksums, limits, a dry pool, the
 * flag off, mixed with TCP, and coalesce-split-coalesce round trips.
 */
#include "offload_harness.h"

#include "offload/gro.h"

/* ---- GRO of UDP datagrams (GRO_UDP: a TUN/TAP that took USO) ---- */

#define UDP4_SIZE 1392 /* 1420 - 20 - 8 */
#define UDP6_SIZE 1372 /* 1420 - 40 - 8 */

/* The inputs of one batch as built here, by input index. */
static uint8_t ukeep[PKT_VEC_MAX][2048];
static uint32_t uklen[PKT_VEC_MAX];

static void gro_udp_run(struct fixture *fx, struct pkt_vec *v, unsigned flags)
{
	gro_test(fx, v, &fx->big, flags);
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
	/* What the kernel does with it, by the reference's own sum: it verifies. */
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

/* The reference's own sums for a hand-made UDP packet b[0..len) whose UDP header is at l4. */
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
 * Not candidates, each with valid checksums (by the reference's sums over the packet as it
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

/*
 * Without GRO_UDP (a device that did not take USO cannot take a UDP super-packet), UDP
 * passes one by one behind a zero header; TCP still merges, from a TUN's packets or a TAP's
 * frames alike.
 */
static void test_gro_udp_off(void **state)
{
	struct fixture *fx = *state;
	struct flow t = flow_make(4, 6), u4 = flow_make(4, 17), u6 = flow_make(6, 17);
	struct eth e = eth_make();

	for (int frames = 0; frames < 2; frames++) {
		const struct eth *le = frames ? &e : NULL;
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
		gro_test(fx, &v, &fx->big, frames ? GRO_FRAMES : GRO_IP);
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
	assert_int_equal(fx->st.gro_super, 2);
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
		gro_test(fx, &v, &small, GRO_UDP);
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
	gro_test(fx, &v, NULL, GRO_UDP);
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
		chained_test(test_gro_udp_merge),
		chained_test(test_gro_udp_sizes),
		chained_test(test_gro_udp_fields),
		chained_test(test_gro_udp_not_candidates),
		chained_test(test_gro_udp_csum),
		chained_test(test_gro_udp_off),
		chained_test(test_gro_udp_mixed),
		chained_test(test_gro_udp_frames),
		chained_test(test_gro_udp_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
