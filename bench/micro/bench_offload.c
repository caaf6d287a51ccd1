/* SPDX-License-Identifier: MIT */
/*
 * The offload paths at tunnel MTU 1420. Split: one 64 KiB TCP super-packet (IPv4: 65535
 * bytes, 48 segments of 1380; IPv6: 49 segments of 1348) and a 64000-byte
 * UDP GSO send, each segment copied into its own buffer with every checksum computed.
 * Coalesce: 45 segments of 1380 back into one super-packet (checksums verified, payload
 * copied once); the "clone" line is the harness's cost of refilling the 45 input buffers,
 * which the coalesce line includes. "csum" is the Internet checksum over 64 KiB alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/byteorder.h"
#include "core/csum.h"
#include "core/pkt.h"
#include "offload/gro.h"
#include "offload/gso.h"
#include "offload/vnet_hdr.h"

#define MSS4	 1380
#define GRO_SEGS 45
#define BIG_SIZE (PKT_HEADROOM + 65536 + 64 + PKT_TAILROOM)

static struct pkt_pool pool, big;
static struct offload_stats st;
static uint8_t segs[GRO_SEGS][1500];
static uint32_t seg_len[GRO_SEGS];

static void die(const char *what)
{
	fprintf(stderr, "bench_offload: %s\n", what);
	exit(1);
}

/* An IP + TCP/UDP super-packet as the TUN hands it: partial checksum, vnet header in h. */
static struct pkt *super_pkt(int ipv, int proto, uint32_t payload, uint16_t gso, struct vnet_hdr *h)
{
	struct pkt *p = pkt_alloc(&big);
	uint32_t l3 = ipv == 4 ? 20 : 40, l4 = proto == 6 ? 32 : 8, len = l3 + l4 + payload;
	uint8_t *d;

	if (!p || !(d = pkt_put(p, len)))
		die("super buffer");
	for (uint32_t i = 0; i < len; i++)
		d[i] = (uint8_t)(i * 7 + 3);
	if (ipv == 4) {
		memcpy(d, (uint8_t[]){0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, (uint8_t)proto, 0, 0}, 12);
		put_be16(d + 2, (uint16_t)len);
		put_be16(d + 10, csum_ipv4_header(d, 20));
	} else {
		put_be32(d, 6u << 28);
		put_be16(d + 4, (uint16_t)(len - 40));
		d[6] = (uint8_t)proto;
		d[7] = 64;
	}
	if (proto == 6) {
		d[l3 + 12] = 0x80; /* 32-byte header: NOP NOP timestamps */
		d[l3 + 13] = 0x18;
		memcpy(d + l3 + 20, (uint8_t[]){1, 1, 8, 10}, 4);
	}
	*h = (struct vnet_hdr){
		.flags = VNET_HDR_F_NEEDS_CSUM,
		.gso_type = proto == 17 ? VNET_HDR_GSO_UDP_L4
			    : ipv == 4	? VNET_HDR_GSO_TCPV4
					: VNET_HDR_GSO_TCPV6,
		.hdr_len = (uint16_t)(l3 + l4),
		.gso_size = gso,
		.csum_start = (uint16_t)l3,
		.csum_offset = proto == 6 ? 16 : 6,
	};
	return p;
}

static void bench_split(const char *name, struct pkt *in, const struct vnet_hdr *h)
{
	struct pkt_vec out;
	enum offload_drop why;
	uint32_t cursor = 0;

	BENCH(name, in->len, {
		pkt_vec_init(&out);
		if (gso_split(h, in, &cursor, &pool, &out, &st, &why) != GSO_DONE)
			die("split");
		pkt_vec_free(&out);
	});
}

/* The 45 segments a 1420-MTU tunnel delivers, from one split super-packet. */
static void make_segments(void)
{
	struct vnet_hdr h;
	struct pkt *in = super_pkt(4, 6, GRO_SEGS * (MSS4 - 12), MSS4 - 12, &h);
	struct pkt_vec out;
	enum offload_drop why;
	uint32_t cursor = 0;

	pkt_vec_init(&out);
	if (gso_split(&h, in, &cursor, &pool, &out, &st, &why) != GSO_DONE || out.n != GRO_SEGS)
		die("segments");
	for (uint32_t i = 0; i < GRO_SEGS; i++) {
		seg_len[i] = out.p[i]->len;
		memcpy(segs[i], out.p[i]->data, seg_len[i]);
	}
	pkt_vec_free(&out);
	pkt_free(in);
}

static void fill(struct pkt_vec *v)
{
	pkt_vec_init(v);
	for (uint32_t i = 0; i < GRO_SEGS; i++) {
		struct pkt *p = pkt_alloc(&pool);

		memcpy(pkt_put(p, seg_len[i]), segs[i], seg_len[i]);
		pkt_vec_add(v, p);
	}
}

int main(void)
{
	static uint8_t buf[65536];
	struct vnet_hdr h4, h6, hu;
	struct pkt *t4, *t6, *u4;
	uint32_t sum = 0;
	struct pkt_vec v;

	if (!pkt_pool_init(&pool, 256, PKT_DEFAULT_SIZE) || !pkt_pool_init(&big, 8, BIG_SIZE))
		die("pools");
	t4 = super_pkt(4, 6, 65535 - 52, MSS4 - 12, &h4);
	t6 = super_pkt(6, 6, 65535 - 72, 1420 - 72, &h6);
	u4 = super_pkt(4, 17, 64000, 1392, &hu);

	memset(buf, 0x5a, sizeof(buf));
	BENCH("offload csum 64 KiB", sizeof(buf), { sum += csum_partial(buf, sizeof(buf), sum); });
	bench_split("offload split tcp4 64 KiB -> 48 x 1420", t4, &h4);
	bench_split("offload split tcp6 64 KiB -> 49 x 1420", t6, &h6);
	bench_split("offload split udp4 64000 -> 46 x 1420", u4, &hu);

	make_segments();
	BENCH("offload clone 45 x 1420 (harness)", GRO_SEGS * (MSS4 - 12), {
		fill(&v);
		pkt_vec_free(&v);
	});
	BENCH("offload coalesce 45 x 1420 -> 1 (incl. clone)", GRO_SEGS * (MSS4 - 12), {
		fill(&v);
		gro_coalesce(&v, &big, &st, GRO_IP);
		if (v.n != 1)
			die("coalesce");
		pkt_vec_free(&v);
	});
	printf("(checksum sink %u, super-packets %llu)\n", (unsigned)sum,
	       (unsigned long long)st.gro_super);
	pkt_free(t4);
	pkt_free(t6);
	pkt_free(u4);
	pkt_pool_destroy(&pool);
	pkt_pool_destroy(&big);
	return 0;
}
