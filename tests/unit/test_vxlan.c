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
#include "vxlan/vxlan.h"

static const uint8_t local_ip[4] = {10, 0, 0, 1};
static const uint8_t remote_a[4] = {10, 0, 0, 4};
static const uint8_t remote_b[4] = {10, 0, 0, 9};

struct fixture {
	struct pkt_pool pool;
	struct vx vx;
	int wire_a, wire_b;
	struct vx peer[2]; /* the far ends: at remote_a and remote_b, one wire back each */
};

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct vx_config cfg = {.hash_seed = 0xdeadbeef};

	memcpy(cfg.local, local_ip, 4);
	if (!fx || !pkt_pool_init(&fx->pool, 256, PKT_DEFAULT_SIZE) || !vx_init(&fx->vx, &cfg))
		return -1;
	fx->wire_a = vx_wire_add(&fx->vx, remote_a, 4789, 2);
	fx->wire_b = vx_wire_add(&fx->vx, remote_b, 4789, 0xabcdef);
	for (int i = 0; i < 2; i++) {
		memcpy(cfg.local, i ? remote_b : remote_a, 4);
		if (!vx_init(&fx->peer[i], &cfg) ||
		    vx_wire_add(&fx->peer[i], local_ip, 4789, i ? 0xabcdef : 2) != 0)
			return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	/* Every test hands back every buffer it took. */
	assert_int_equal(fx->pool.nfree, fx->pool.count);
	vx_destroy(&fx->vx);
	vx_destroy(&fx->peer[0]);
	vx_destroy(&fx->peer[1]);
	pkt_pool_destroy(&fx->pool);
	free(fx);
	return 0;
}

/* An Ethernet frame of len bytes; with vlan, an 802.1Q tag; an IPv4/UDP inner packet when it fits.
 */
static struct pkt *make_frame(struct fixture *fx, uint32_t len, bool vlan, uint16_t inner_port)
{
	struct pkt *p = pkt_alloc(&fx->pool);
	uint8_t *f, *ip;
	uint32_t off = vlan ? 18 : 14;

	assert_non_null(p);
	f = pkt_put(p, len);
	assert_non_null(f);
	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)(rnd() >> 8);
	if (len < off)
		return p;
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (vlan) {
		put_be16(f + 12, 0x8100);
		put_be16(f + 14, 42);
	}
	put_be16(f + off - 2, 0x0800);
	if (len >= off + 28) {
		ip = f + off;
		ip[0] = 0x45;
		ip[1] = 0;
		put_be16(ip + 2, (uint16_t)(len - off));
		put_be16(ip + 6, 0x4000);
		ip[9] = 17;
		memcpy(ip + 12, "\x0a\x01\x00\x01\x0a\x01\x00\x02", 8);
		put_be16(ip + 10, 0);
		put_be16(ip + 10, csum_ipv4_header(ip, 20));
		put_be16(ip + 20, inner_port);
		put_be16(ip + 22, 53);
	}
	return p;
}

static void check_outer(struct fixture *fx, const struct pkt *p, uint32_t flen,
			const uint8_t *remote, uint32_t vni, bool csum)
{
	const uint8_t *ip = p->data, *u = p->data + 20;
	uint16_t sport = get_be16(u);

	(void)fx;
	assert_int_equal(p->len, flen + VX_ENCAP_LEN);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(get_be16(ip + 2), flen + 36);
	assert_int_equal(get_be16(ip + 6), 0); /* DF clear, no fragment */
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], 17);
	assert_int_equal(csum_ipv4_header(ip, 20), 0);
	assert_memory_equal(ip + 12, local_ip, 4);
	assert_memory_equal(ip + 16, remote, 4);
	assert_in_range(sport, VX_SPORT_MIN, VX_SPORT_MAX);
	assert_int_equal(get_be16(u + 2), 4789);
	assert_int_equal(get_be16(u + 4), flen + 16);
	if (csum) {
		uint32_t sum = csum_ipv4_pseudo(ip + 12, ip + 16, 17, (uint16_t)(flen + 16));

		assert_int_not_equal(get_be16(u + 6), 0);
		assert_int_equal(csum_fold(csum_partial(u, flen + 16, sum)), 0);
	} else {
		assert_int_equal(get_be16(u + 6), 0);
	}
	assert_int_equal(u[8], 0x08);
	assert_int_equal(u[9] | u[10] | u[11] | u[15], 0);
	assert_int_equal(get_be32(u + 12) >> 8, vni);
}

/* Every frame size from the minimum to a VLAN-tagged maximum survives the round trip. */
static void round_trips(struct fixture *fx, bool vlan)
{
	uint8_t copy[1600];
	enum vx_drop why;

	for (uint32_t len = 60; len <= (vlan ? 1518u : 1514u); len++) {
		struct pkt *p = make_frame(fx, len, vlan, (uint16_t)len);
		int w = len % 2 ? fx->wire_a : fx->wire_b;

		memcpy(copy, p->data, len);
		assert_int_equal(vx_encap(&fx->vx, (uint32_t)w, p, &why), 0);
		check_outer(fx, p, len, len % 2 ? remote_a : remote_b, len % 2 ? 2 : 0xabcdef,
			    !fx->vx.cfg.no_udp_csum);
		p->port = 999;
		assert_int_equal(vx_decap(&fx->peer[len % 2 ? 0 : 1], p, &why), VX_DECAP_OK);
		assert_int_equal(p->port, 0);
		assert_int_equal(p->len, len);
		assert_memory_equal(p->data, copy, len);
		assert_int_equal(pkt_headroom(p), PKT_HEADROOM);
		pkt_free(p);
	}
}

static void test_round_trip(void **state)
{
	struct fixture *fx = *state;

	round_trips(fx, false);
	round_trips(fx, true);
	fx->vx.cfg.no_udp_csum = true;
	round_trips(fx, false);
	round_trips(fx, true);
	assert_int_equal(fx->vx.stats.encap_packets,
			 fx->peer[0].stats.decap_packets + fx->peer[1].stats.decap_packets);
	for (int i = 0; i < VX_DROP_MAX; i++)
		assert_int_equal(fx->vx.stats.drops[i] + fx->peer[0].stats.drops[i], 0);
	assert_int_equal(fx->vx.wires[fx->wire_a].stats.tx_packets,
			 fx->peer[0].wires[0].stats.rx_packets);
	assert_int_equal(fx->vx.wires[fx->wire_b].stats.tx_bytes,
			 fx->peer[1].wires[0].stats.rx_bytes);
}

/*
 * The whole path of a wire: encap, fragmentation to 1420, the fragments in reverse
 * order into the peer's reassembly, decap. Frames above 1384 bytes (1420 - 36) split.
 */
static void test_full_path(void **state)
{
	struct fixture *fx = *state;
	struct ipfrag out_frag, in_frag;
	struct ipfrag_config cfg = {.hash_seed = 5};
	uint8_t copy[1600];
	uint32_t split = 0;

	assert_true(ipfrag_init(&out_frag, &cfg));
	assert_true(ipfrag_init(&in_frag, &cfg));
	for (int vlan = 0; vlan < 2; vlan++) {
		for (uint32_t len = 60; len <= (vlan ? 1518u : 1514u); len++) {
			struct pkt *p = make_frame(fx, len, vlan, (uint16_t)len), *r = NULL;
			struct pkt_vec v;
			enum vx_drop why;
			int n;

			memcpy(copy, p->data, len);
			pkt_vec_init(&v);
			assert_int_equal(vx_encap(&fx->vx, (uint32_t)fx->wire_a, p, &why), 0);
			n = ipfrag_fragment(&out_frag, p, &fx->pool, &v);
			assert_int_equal(n, len + 36 > 1420 ? 2 : 1);
			split += n == 2;
			for (uint32_t k = v.n; k-- > 0;) {
				assert_true(v.p[k]->len <= 1420);
				assert_int_equal(get_be16(v.p[k]->data + 6) & 0x4000, 0);
				r = ipfrag_reassemble(&in_frag, v.p[k], 0);
				assert_true(k == 0 ? r != NULL : r == NULL);
			}
			assert_int_equal(vx_decap(&fx->peer[0], r, &why), VX_DECAP_OK);
			assert_int_equal(r->len, len);
			assert_memory_equal(r->data, copy, len);
			pkt_free(r);
		}
	}
	assert_int_equal(split, 130 + 134);
	assert_int_equal(in_frag.stats.reassembled, split);
	assert_int_equal(ipfrag_pending(&in_frag), 0);
	ipfrag_destroy(&out_frag);
	ipfrag_destroy(&in_frag);
}

/* One flow keeps its source port; flows spread over the range; fragments ignore ports. */
static void test_source_port(void **state)
{
	struct fixture *fx = *state;
	struct pkt *a = make_frame(fx, 100, false, 1000), *b;
	uint16_t first = vx_flow_sport(&fx->vx, a->data, a->len), lo = 0xffff, hi = 0;
	static uint8_t seen[65536];
	uint32_t distinct = 0;

	assert_in_range(first, VX_SPORT_MIN, VX_SPORT_MAX - 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(vx_flow_sport(&fx->vx, a->data, a->len), first);
	memset(seen, 0, sizeof(seen));
	for (uint16_t port = 1; port < 4000; port++) {
		uint16_t sp;

		put_be16(a->data + 14 + 20, port);
		sp = vx_flow_sport(&fx->vx, a->data, a->len);
		assert_in_range(sp, VX_SPORT_MIN, VX_SPORT_MAX - 1);
		distinct += !seen[sp];
		seen[sp] = 1;
		lo = sp < lo ? sp : lo;
		hi = sp > hi ? sp : hi;
	}
	assert_true(distinct > 3500);
	assert_true(lo < VX_SPORT_MIN + 500 && hi > VX_SPORT_MAX - 500);

	/* An inner fragment hashes without ports: both pieces of a datagram share a port. */
	b = make_frame(fx, 100, false, 7);
	put_be16(b->data + 14 + 6, 0x2000);
	first = vx_flow_sport(&fx->vx, b->data, b->len);
	put_be16(b->data + 14 + 20, 8);
	assert_int_equal(vx_flow_sport(&fx->vx, b->data, b->len), first);

	/* A configured range is honoured. */
	fx->vx.cfg.sport_min = 1000;
	fx->vx.cfg.sport_max = 1010;
	for (uint16_t port = 1; port < 200; port++) {
		put_be16(a->data + 14 + 20, port);
		assert_in_range(vx_flow_sport(&fx->vx, a->data, a->len), 1000, 1009);
	}
	pkt_free(a);
	pkt_free(b);
}

/* IDs count up per destination; wires to one Remote share the counter. */
static void test_ip_id(void **state)
{
	struct fixture *fx = *state;
	int wire_c = vx_wire_add(&fx->vx, remote_a, 4789, 77);
	uint16_t ids[6];
	enum vx_drop why;
	const int wires[6] = {fx->wire_a, wire_c, fx->wire_b, fx->wire_a, fx->wire_b, wire_c};

	assert_true(wire_c >= 0);
	for (int i = 0; i < 6; i++) {
		struct pkt *p = make_frame(fx, 80, false, 1);

		assert_int_equal(vx_encap(&fx->vx, (uint32_t)wires[i], p, &why), 0);
		ids[i] = get_be16(p->data + 4);
		pkt_free(p);
	}
	assert_int_equal((uint16_t)(ids[1] - ids[0]), 1);
	assert_int_equal((uint16_t)(ids[3] - ids[1]), 1);
	assert_int_equal((uint16_t)(ids[5] - ids[3]), 1);
	assert_int_equal((uint16_t)(ids[4] - ids[2]), 1);
}

static void test_wire_table(void **state)
{
	struct fixture *fx = *state;
	struct vx_config cfg = {.max_wires = 2};
	struct vx small;

	assert_int_equal(vx_wire_add(&fx->vx, remote_a, 4789, 2), -1); /* taken */
	assert_int_equal(vx_wire_add(&fx->vx, remote_a, 4789, 0x1000000), -1);
	assert_int_equal(vx_wire_add(&fx->vx, remote_a, 0, 3), -1);
	assert_int_equal(vx_wire_lookup(&fx->vx, remote_b, 4789, 0xabcdef), fx->wire_b);
	assert_int_equal(vx_wire_lookup(&fx->vx, remote_b, 4790, 0xabcdef), -1);

	assert_true(vx_init(&small, &cfg));
	assert_int_equal(vx_wire_add(&small, remote_a, 4789, 1), 0);
	assert_int_equal(vx_wire_add(&small, remote_a, 4789, 2), 1);
	assert_int_equal(vx_wire_add(&small, remote_a, 4789, 3), -1);
	vx_destroy(&small);
	cfg.sport_min = 5;
	cfg.sport_max = 4;
	assert_false(vx_init(&small, &cfg));
}

static void test_encap_errors(void **state)
{
	struct fixture *fx = *state;
	struct pkt *p = make_frame(fx, 13, false, 0);
	enum vx_drop why;

	assert_int_equal(vx_encap(&fx->vx, 0, p, &why), -1);
	assert_int_equal(why, VX_DROP_FRAME_LENGTH);
	pkt_free(p);
	p = make_frame(fx, 64, false, 0);
	assert_int_equal(vx_encap(&fx->vx, 7, p, &why), -1);
	assert_int_equal(why, VX_DROP_BAD_WIRE);
	p->data = p->head + 20;
	assert_int_equal(vx_encap(&fx->vx, 0, p, &why), -1);
	assert_int_equal(why, VX_DROP_NO_HEADROOM);
	assert_int_equal(pkt_headroom(p), 20);
	assert_int_equal(p->len, 64);
	pkt_free(p);
}

/* An encapsulated frame ready to be broken in one field. */
static struct pkt *make_outer(struct fixture *fx, uint32_t flen)
{
	struct pkt *p = make_frame(fx, flen, false, 9);
	enum vx_drop why;

	assert_int_equal(vx_encap(&fx->vx, (uint32_t)fx->wire_a, p, &why), 0);
	return p;
}

static void fix_ip_csum(uint8_t *ip)
{
	put_be16(ip + 10, 0);
	put_be16(ip + 10, csum_ipv4_header(ip, (ip[0] & 15u) * 4));
}

static void fix_udp_csum(uint8_t *ip)
{
	uint8_t *u = ip + (ip[0] & 15u) * 4;
	uint16_t ulen = get_be16(u + 4);
	uint16_t c;

	put_be16(u + 6, 0);
	c = csum_fold(csum_partial(u, ulen, csum_ipv4_pseudo(ip + 12, ip + 16, 17, ulen)));
	put_be16(u + 6, c ? c : 0xffff);
}

static void expect_decap(struct fixture *fx, struct pkt *p, enum vx_verdict v, enum vx_drop reason)
{
	uint8_t before[200];
	uint32_t len = p->len;
	enum vx_drop why = VX_DROP_MAX;

	memcpy(before, p->data, len < sizeof(before) ? len : sizeof(before));
	assert_int_equal(vx_decap(&fx->peer[0], p, &why), v);
	if (v == VX_DECAP_DROP)
		assert_int_equal(why, reason);
	if (v != VX_DECAP_OK) {
		/* Refused packets come back as they were. */
		assert_int_equal(p->len, len);
		assert_memory_equal(p->data, before, len < sizeof(before) ? len : sizeof(before));
	}
	pkt_free(p);
}

static void test_decap_rejects(void **state)
{
	struct fixture *fx = *state;
	struct pkt *p;

	p = make_outer(fx, 64);
	p->data[0] = 0x60; /* IPv6: routed traffic, not ours */
	expect_decap(fx, p, VX_DECAP_PASS, 0);
	p = make_outer(fx, 64);
	p->len = 0;
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_IP_HEADER);
	p = make_outer(fx, 64);
	p->len = 19;
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_IP_HEADER);
	p = make_outer(fx, 64);
	p->data[0] = 0x44;
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_IP_HEADER);
	p = make_outer(fx, 64);
	p->data[0] = 0x4f;
	p->len = 50;
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_IP_HEADER);
	p = make_outer(fx, 64);
	put_be16(p->data + 2, 101); /* longer than the packet */
	fix_ip_csum(p->data);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_IP_LENGTH);
	p = make_outer(fx, 64);
	put_be16(p->data + 2, 19);
	fix_ip_csum(p->data);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_IP_LENGTH);
	p = make_outer(fx, 64);
	p->data[8]--; /* TTL changed, checksum not */
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_IP_CHECKSUM);
	p = make_outer(fx, 64);
	p->data[19] = 7; /* to another address: the TUN's business */
	fix_ip_csum(p->data);
	expect_decap(fx, p, VX_DECAP_PASS, 0);
	p = make_outer(fx, 64);
	put_be16(p->data + 6, 0x2000); /* a fragment: reassembly's business */
	fix_ip_csum(p->data);
	expect_decap(fx, p, VX_DECAP_PASS, 0);
	p = make_outer(fx, 64);
	p->data[9] = 6;
	fix_ip_csum(p->data);
	expect_decap(fx, p, VX_DECAP_PASS, 0);
	p = make_outer(fx, 64);
	put_be16(p->data + 22, 53); /* no wire on this port */
	fix_udp_csum(p->data);
	expect_decap(fx, p, VX_DECAP_PASS, 0);
	p = make_outer(fx, 64);
	put_be16(p->data + 2, 27);
	fix_ip_csum(p->data);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_UDP_LENGTH);
	p = make_outer(fx, 64);
	put_be16(p->data + 24, 7);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_UDP_LENGTH);
	p = make_outer(fx, 64);
	put_be16(p->data + 24, 64 + 17);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_UDP_LENGTH);
	p = make_outer(fx, 64);
	p->data[60] ^= 1;
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_UDP_CHECKSUM);
	p = make_outer(fx, 64);
	put_be16(p->data + 24, 15);
	fix_udp_csum(p->data);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_VXLAN_SHORT);
	p = make_outer(fx, 64);
	p->data[28] = 0x80;
	fix_udp_csum(p->data);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_VXLAN_FLAGS);
	p = make_outer(fx, 64);
	p->data[34] ^= 1; /* VNI 3 */
	fix_udp_csum(p->data);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_UNKNOWN_WIRE);
	p = make_outer(fx, 64);
	p->data[15] = 5; /* from a stranger */
	fix_ip_csum(p->data);
	fix_udp_csum(p->data);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_UNKNOWN_WIRE);
	p = make_outer(fx, 64);
	put_be16(p->data + 24, 16 + 13);
	fix_udp_csum(p->data);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_FRAME_SHORT);
}

static void test_decap_accepts(void **state)
{
	struct fixture *fx = *state;
	struct pkt *p;
	uint8_t frame[64];
	enum vx_drop why;

	/* A zero checksum means none: accepted whatever the payload. */
	p = make_outer(fx, 64);
	put_be16(p->data + 26, 0);
	p->data[60] ^= 1;
	memcpy(frame, p->data + 36, 64);
	assert_int_equal(vx_decap(&fx->peer[0], p, &why), VX_DECAP_OK);
	assert_memory_equal(p->data, frame, 64);
	pkt_free(p);

	/* Reserved bits are ignored (RFC 7348 section 5). */
	p = make_outer(fx, 64);
	p->data[28] = 0xff;
	p->data[29] = p->data[30] = p->data[31] = p->data[35] = 0xff;
	fix_udp_csum(p->data);
	assert_int_equal(vx_decap(&fx->peer[0], p, &why), VX_DECAP_OK);
	assert_int_equal(p->port, 0);
	pkt_free(p);

	/* Ethernet padding after the IPv4 packet and UDP shorter than IP are trimmed. */
	p = make_outer(fx, 64);
	memset(pkt_put(p, 10), 0xee, 10);
	assert_int_equal(vx_decap(&fx->peer[0], p, &why), VX_DECAP_OK);
	assert_int_equal(p->len, 64);
	pkt_free(p);
	p = make_outer(fx, 64);
	put_be16(p->data + 24, 16 + 60);
	fix_udp_csum(p->data);
	assert_int_equal(vx_decap(&fx->peer[0], p, &why), VX_DECAP_OK);
	assert_int_equal(p->len, 60);
	pkt_free(p);

	/* An outer header with options. */
	p = make_frame(fx, 64, false, 9);
	assert_int_equal(vx_encap(&fx->vx, (uint32_t)fx->wire_a, p, &why), 0);
	assert_non_null(pkt_push(p, 4));
	memmove(p->data, p->data + 4, 20);
	memcpy(p->data + 20, "\x01\x01\x01\x00", 4);
	p->data[0] = 0x46;
	put_be16(p->data + 2, (uint16_t)p->len);
	fix_ip_csum(p->data);
	assert_int_equal(vx_decap(&fx->peer[0], p, &why), VX_DECAP_OK);
	assert_int_equal(p->len, 64);
	pkt_free(p);
}

static void set_inner_ecn(struct pkt *p, uint8_t ecn)
{
	uint8_t *ip = p->data + 14;

	ip[1] = (uint8_t)((ip[1] & ~3) | ecn);
	fix_ip_csum(ip);
}

/* RFC 6040 as the kernel applies it: ECN bits out, CE back in. */
static void test_ecn(void **state)
{
	struct fixture *fx = *state;
	struct pkt *p;
	enum vx_drop why;

	for (uint8_t ecn = 0; ecn < 4; ecn++) {
		p = make_frame(fx, 100, false, 1);
		set_inner_ecn(p, ecn);
		assert_int_equal(vx_encap(&fx->vx, 0, p, &why), 0);
		assert_int_equal(p->data[1], ecn == 3 ? 2 : ecn);
		pkt_free(p);
	}
	/* Outer CE over ECT(0): inner becomes CE with a valid checksum. */
	p = make_frame(fx, 100, false, 1);
	set_inner_ecn(p, 2);
	assert_int_equal(vx_encap(&fx->vx, 0, p, &why), 0);
	p->data[1] |= 3;
	fix_ip_csum(p->data);
	assert_int_equal(vx_decap(&fx->peer[0], p, &why), VX_DECAP_OK);
	assert_int_equal(p->data[15] & 3, 3);
	assert_int_equal(csum_ipv4_header(p->data + 14, 20), 0);
	pkt_free(p);
	/* Outer CE over not-ECT: dropped. */
	p = make_frame(fx, 100, false, 1);
	set_inner_ecn(p, 0);
	assert_int_equal(vx_encap(&fx->vx, 0, p, &why), 0);
	p->data[1] |= 3;
	fix_ip_csum(p->data);
	expect_decap(fx, p, VX_DECAP_DROP, VX_DROP_ECN);
	/* Outer CE over a non-IP frame (ARP): nothing to mark, delivered. */
	p = make_frame(fx, 60, false, 1);
	put_be16(p->data + 12, 0x0806);
	assert_int_equal(vx_encap(&fx->vx, 0, p, &why), 0);
	p->data[1] |= 3;
	fix_ip_csum(p->data);
	assert_int_equal(vx_decap(&fx->peer[0], p, &why), VX_DECAP_OK);
	pkt_free(p);
}

/* An IPv4 header (no payload needed by the check) with the given fields. */
static struct pkt *make_ip(struct fixture *fx, const uint8_t src[4], const uint8_t dst[4],
			   uint8_t proto, uint16_t frag)
{
	struct pkt *p = pkt_alloc(&fx->pool);
	uint8_t *d;

	assert_non_null(p);
	p->len = 28;
	d = p->data;
	memset(d, 0, 28);
	d[0] = 0x45;
	put_be16(d + 2, 28);
	put_be16(d + 6, frag);
	d[8] = 64;
	d[9] = proto;
	memcpy(d + 12, src, 4);
	memcpy(d + 16, dst, 4);
	put_be16(d + 10, csum_ipv4_header(d, 20));
	return p;
}

/* Only UDP fragments from a wire's Remote to our address may be a wire's VXLAN. */
static void test_fragment_for_wires(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t stranger[4] = {10, 0, 0, 77};
	struct {
		const uint8_t *src, *dst;
		uint8_t proto;
		uint16_t frag;
		bool want;
	} cases[] = {
		{remote_a, local_ip, 17, 0x2000, true},	 /* first fragment, MF */
		{remote_b, local_ip, 17, 0x00b9, true},	 /* last fragment, offset only */
		{remote_a, local_ip, 17, 0x0000, false}, /* whole datagram */
		{remote_a, local_ip, 17, 0x4000, false}, /* DF, whole */
		{remote_a, local_ip, 1, 0x2000, false},	 /* ICMP (ping -s 3000) */
		{stranger, local_ip, 17, 0x2000, false}, /* routed UDP from another host */
		{remote_a, stranger, 17, 0x2000, false}, /* transit, not for us */
		{local_ip, remote_a, 17, 0x2000, false}, /* our own, reflected */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt *p =
			make_ip(fx, cases[i].src, cases[i].dst, cases[i].proto, cases[i].frag);

		if (vx_fragment_for_wires(&fx->vx, p) != cases[i].want)
			fail_msg("case %zu: expected %d", i, cases[i].want);
		pkt_free(p);
	}
}

static void test_batches(void **state)
{
	struct fixture *fx = *state;
	struct pkt_vec in, out, frames, pass;
	struct pkt *p;

	pkt_vec_init(&in);
	pkt_vec_init(&out);
	for (uint32_t i = 0; i < 10; i++) {
		p = make_frame(fx, 60 + i * 100, i % 3 == 0, (uint16_t)i);
		p->port = i == 4 ? 55 : (uint32_t)fx->wire_a;
		pkt_vec_add(&in, p);
	}
	vx_encap_batch(&fx->vx, &in, &out);
	assert_int_equal(in.n, 0);
	assert_int_equal(out.n, 9);
	assert_int_equal(fx->vx.stats.drops[VX_DROP_BAD_WIRE], 1);

	/* Back through decap, with a routed packet and a broken one mixed in. */
	pkt_vec_init(&frames);
	pkt_vec_init(&pass);
	out.p[2]->data[19] = 200;
	fix_ip_csum(out.p[2]->data);
	out.p[5]->data[28] = 0;
	vx_decap_batch(&fx->peer[0], &out, &frames, &pass);
	assert_int_equal(out.n, 0);
	assert_int_equal(frames.n, 7);
	assert_int_equal(pass.n, 1);
	assert_int_equal(fx->peer[0].stats.passed, 1);
	assert_int_equal(fx->peer[0].stats.drops[VX_DROP_UDP_CHECKSUM], 1);
	for (uint32_t i = 0; i < frames.n; i++)
		assert_int_equal(frames.p[i]->port, 0);
	pkt_vec_free(&frames);
	pkt_vec_free(&pass);
	assert_string_equal(vx_drop_name(VX_DROP_UNKNOWN_WIRE), "unknown_wire");
	assert_null(vx_drop_name(VX_DROP_MAX));
	for (int i = 0; i < VX_DROP_MAX; i++)
		assert_non_null(vx_drop_name((enum vx_drop)i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wire_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encap_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decap_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decap_accepts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_for_wires, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
