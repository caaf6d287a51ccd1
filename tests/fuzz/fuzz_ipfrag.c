/* SPDX-License-Identifier: MIT */
/*
 * Reassembly takes fragments in any order, any overlap, any timing. The input is
 * a sequence of 6-byte records:
 *
 *   byte 0: bits 0-1 op (0, 1: a raw fragment; 2: fragment a whole packet and feed the
 *           pieces back in reverse; 3: advance the virtual clock by byte 1 seconds),
 *           bit 2 MF, bit 3 flip a data byte, bit 4 break the header checksum,
 *           bits 5-7 the datagram (ID and source)
 *   bytes 1-2: fragment offset in 8-byte units (13 bits used)
 *   bytes 3-4: data length (op 2: total length)
 *   byte 5: header option words (0..10); op 2: the MTU above the minimum
 *
 * Data bytes are a function of (datagram, offset), so whatever completes can be
 * checked byte for byte unless a flipped byte went in. Invariants: no crash, the
 * memory cap holds, every buffer comes back, completed datagrams are well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/csum.h"
#include "core/pkt.h"
#include "vxlan/ipfrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEC 1000000000ull

static uint8_t pattern(uint32_t key, uint32_t x)
{
	return (uint8_t)(x * 131 + key * 17 + (x >> 8));
}

static void build(uint8_t *ip, uint32_t key, uint32_t src, uint32_t ihl, uint32_t off,
		  uint32_t len, bool mf)
{
	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	put_be16(ip + 2, (uint16_t)(ihl + len));
	put_be16(ip + 4, (uint16_t)(0x100 + key));
	put_be16(ip + 6, (uint16_t)((off / 8) | (mf ? 0x2000 : 0)));
	ip[8] = 64;
	ip[9] = 17;
	put_be32(ip + 12, src);
	put_be32(ip + 16, 0x0a000001);
	for (uint32_t i = 20; i < ihl; i++)
		ip[i] = 1; /* NOP options */
	for (uint32_t i = 0; i < len; i++)
		ip[ihl + i] = pattern(key, off + i);
	put_be16(ip + 10, csum_ipv4_header(ip, ihl));
}

/* A datagram that came out: well formed, and intact unless a flipped byte went in. */
static void check_whole(const struct pkt *p, const bool *tainted)
{
	const uint8_t *ip = p->data;
	uint32_t ihl = (ip[0] & 15u) * 4, key;

	if (p->len < 20 || ihl < 20 || get_be16(ip + 2) != p->len || (get_be16(ip + 6) & 0x3fff) ||
	    csum_ipv4_header(ip, ihl) != 0)
		abort();
	key = get_be16(ip + 4) - 0x100u;
	if (key >= 9)
		abort();
	if (tainted[key])
		return;
	for (uint32_t i = ihl; i < p->len; i++)
		if (ip[i] != pattern(key, i - ihl))
			abort();
}

static void feed(struct ipfrag *f, struct pkt *p, uint64_t now, const bool *tainted, bool whole)
{
	struct pkt *r = ipfrag_reassemble(f, p, now);

	if (r) {
		if (r != p)
			abort();
		if (!whole)
			check_whole(r, tainted);
		pkt_free(r);
	}
	if (ipfrag_mem_used(f) > f->cfg.mem_max || f->reserved > f->cfg.mem_max)
		abort();
}

/* Op 2: our own fragmentation, fed back last piece first, must give the packet back. */
static void round_trip(struct ipfrag *f, struct pkt_pool *pool, const uint8_t *rec, uint64_t now,
		       const bool *tainted)
{
	uint32_t ihl = 20 + 4 * (rec[5] % 4), len = get_be16(rec + 3) % 2000, got = 0;
	struct pkt_vec out;
	struct pkt *p = pkt_alloc(pool), *r = NULL;
	uint8_t orig[2048];

	if (len < ihl)
		len = ihl;
	build(pkt_put(p, len), 8, 0x0a090909, ihl, 0, len - ihl, false);
	memcpy(orig, p->data, len);
	f->cfg.mtu = ihl + 32 + rec[1] * 8u + rec[2] % 8;
	pkt_vec_init(&out);
	if (ipfrag_fragment(f, p, pool, &out) <= 0)
		abort();
	for (uint32_t k = out.n; k-- > 0;) {
		r = ipfrag_reassemble(f, out.p[k], now);
		if (r) {
			if (memcmp(r->data, orig, len) != 0 || r->len != len)
				abort();
			got++;
			pkt_free(r);
		}
	}
	(void)tainted;
	if (got != 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_pool pool;
	struct ipfrag_config cfg = {.hash_seed = 3, .mem_max = 40000, .mem_per_src = 12000};
	struct ipfrag f;
	bool tainted[9] = {false};
	uint64_t now = 0;

	if (!pool.count && !pkt_pool_init(&pool, 80, PKT_DEFAULT_SIZE))
		abort();
	if (!ipfrag_init(&f, &cfg))
		abort();
	for (size_t at = 0; at + 6 <= size; at += 6) {
		const uint8_t *rec = data + at;
		uint32_t op = rec[0] & 3, key = rec[0] >> 5, ihl = 20 + 4 * (rec[5] % 11);
		uint32_t off = (get_be16(rec + 1) & 0x1fff) * 8u, len = get_be16(rec + 3) % 4000;
		struct pkt *p;

		if (op == 3) {
			now += rec[1] * SEC;
			ipfrag_expire(&f, now);
			continue;
		}
		if (op == 2) {
			round_trip(&f, &pool, rec, now, tainted);
			continue;
		}
		p = pkt_alloc(&pool);
		if (!p)
			abort();
		if (ihl + len > pkt_tailroom(p))
			len = pkt_tailroom(p) - ihl;
		build(pkt_put(p, ihl + len), key, 0x0a000000u + key % 3, ihl, off, len, rec[0] & 4);
		if ((rec[0] & 8) && len) {
			p->data[ihl + len / 2] ^= 0x5a;
			tainted[key] = true;
		}
		if (rec[0] & 16)
			p->data[10] ^= 1;
		feed(&f, p, now, tainted, !(rec[0] & 4) && off == 0);
	}
	ipfrag_expire(&f, UINT64_MAX);
	if (ipfrag_pending(&f) != 0 || ipfrag_mem_used(&f) != 0 || pool.nfree != pool.count)
		abort();
	ipfrag_destroy(&f);
	return 0;
}
