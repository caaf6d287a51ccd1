/* SPDX-License-Identifier: MIT */
/*
 * The offload paths take whatever the TUN (split) or the tunnel's far end (coalesce)
 * hands them. The first input byte picks the path:
 *   even: split. 10 bytes of vnet header, then the packet, as read from a TUN.
 *         A refused packet must be untouched; a passed one may only have its checksum
 *         field changed, to the completed sum; segments must carry valid checksums and,
 *         in order, exactly the payload; and coalescing them must give back valid
 *         super-packets or the segments unchanged.
 *   odd:  coalesce. Packets, each behind a 2-byte big-endian length, up to PKT_VEC_MAX.
 *         Every output starts with a vnet header; a GSO_NONE output is one of the inputs
 *         unchanged; a super-packet passes our own vnet check and its checksum completes.
 * No crash, no leak: every buffer is back in its pool at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/csum.h"
#include "core/pkt.h"
#include "offload/gro.h"
#include "offload/gso.h"
#include "offload/vnet_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BIG_SIZE (PKT_HEADROOM + 65536 + 64 + PKT_TAILROOM)
#define MAX_IN	 (65535 + 40)

struct fuzz_state {
	struct pkt_pool pool, big;
	struct offload_stats st;
};

static struct fuzz_state *fuzz_setup(void)
{
	static struct fuzz_state *st;

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st || !pkt_pool_init(&st->pool, 2 * PKT_VEC_MAX + 8, PKT_DEFAULT_SIZE) ||
	    !pkt_pool_init(&st->big, 4, BIG_SIZE))
		abort();
	return st;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

/* IPv4 header checksum (if v4) and L4 checksum of a finished TCP/UDP packet. */
static int csums_valid(const uint8_t *d, uint32_t len, uint32_t l3, uint8_t proto)
{
	uint32_t ps;

	if (d[0] >> 4 == 4) {
		if (csum_ipv4_header(d, l3) != 0)
			return 0;
		ps = csum_ipv4_pseudo(d + 12, d + 16, proto, (uint16_t)(len - l3));
	} else {
		ps = csum_ipv6_pseudo(d + 8, d + 24, proto, len - l3);
	}
	return csum_fold(csum_partial(d + l3, len - l3, ps)) == 0;
}

/* A super-packet from gro_coalesce: our own check takes it and its checksum completes. */
static void check_super(struct pkt *q)
{
	struct vnet_layout lay;
	enum offload_drop why;
	struct vnet_hdr h;
	uint8_t *d = q->data + VNET_HDR_LEN;
	uint32_t len = q->len - VNET_HDR_LEN;

	vnet_hdr_decode(q->data, &h);
	check(h.flags == VNET_HDR_F_NEEDS_CSUM && h.csum_offset == 16);
	check(h.gso_type == VNET_HDR_GSO_TCPV4 || h.gso_type == VNET_HDR_GSO_TCPV6);
	check(vnet_hdr_check(&h, d, len, &lay, &why));
	check(lay.hdrs_len == h.hdr_len && lay.payload > h.gso_size);
	check(gso_csum_complete(&h, d, len));
	check(csums_valid(d, len, lay.l3_len, 6));
}

static void fuzz_split(struct fuzz_state *st, const uint8_t *data, size_t size)
{
	static struct pkt *segs[MAX_IN + 1];
	static const uint8_t zero[VNET_HDR_LEN];
	struct vnet_layout lay;
	enum offload_drop why = OFFLOAD_DROP__MAX;
	uint32_t len, cursor = 0, n = 0, at, nsegs = 0;
	enum gso_status s;
	struct vnet_hdr h;
	struct pkt_vec out;
	struct pkt *in;

	if (size < VNET_HDR_LEN || size - VNET_HDR_LEN > MAX_IN)
		return;
	vnet_hdr_decode(data, &h);
	data += VNET_HDR_LEN;
	len = (uint32_t)(size - VNET_HDR_LEN);
	in = pkt_alloc(&st->big);
	memcpy(pkt_put(in, len), data, len);
	if (vnet_hdr_check(&h, data, len, &lay, &why))
		nsegs = gso_segments(&h, &lay);
	do {
		pkt_vec_init(&out);
		s = gso_split(&h, in, &cursor, &st->pool, &out, &st->st, &why);
		for (uint32_t i = 0; i < out.n; i++)
			segs[n++] = out.p[i];
		/* Resuming needs buffers: hand the ones made so far back only at the end. */
		if (s == GSO_MORE && out.n == 0)
			abort();
	} while (s == GSO_MORE && n < nsegs && st->pool.nfree);
	if (s == GSO_MORE) {
		/* The pool is too small for this packet: what came out so far must be right. */
		check(n > 0 && n < nsegs);
	}
	switch (s) {
	case GSO_DROP:
		check((unsigned)why < OFFLOAD_DROP__MAX && n == 0);
		check(nsegs == 0 || why == OFFLOAD_DROP_SEG_SIZE);
		check(in->len == len && memcmp(in->data, data, len) == 0);
		break;
	case GSO_PASS:
		check(h.gso_type == VNET_HDR_GSO_NONE && n == 0 && in->len == len);
		at = (uint32_t)h.csum_start + h.csum_offset;
		for (uint32_t i = 0; i < len; i++)
			check(in->data[i] == data[i] ||
			      ((h.flags & VNET_HDR_F_NEEDS_CSUM) && (i == at || i == at + 1)));
		if (h.flags & VNET_HDR_F_NEEDS_CSUM) {
			uint16_t c =
				csum_fold(csum_partial(data + h.csum_start, len - h.csum_start, 0));

			check(get_be16(in->data + at) == (c ? c : 0xffff));
		}
		break;
	case GSO_DONE:
	case GSO_MORE:
		at = lay.hdrs_len;
		for (uint32_t k = 0; k < n; k++) {
			struct pkt *p = segs[k];
			uint32_t plen = p->len - lay.hdrs_len;

			check(pkt_headroom(p) == PKT_HEADROOM && p->len >= lay.hdrs_len);
			check(plen <= h.gso_size && (k + 1 == nsegs || plen == h.gso_size));
			check(memcmp(p->data + lay.hdrs_len, data + at, plen) == 0);
			check(csums_valid(p->data, p->len, lay.l3_len, lay.l4_proto));
			at += plen;
		}
		check(s == GSO_MORE || (n == nsegs && at == len));
		break;
	}
	pkt_free(in);
	if (s != GSO_DONE || lay.l4_proto != 6) {
		for (uint32_t k = 0; k < n; k++)
			pkt_free(segs[k]);
		return;
	}
	/* Back together, PKT_VEC_MAX at a time. */
	for (uint32_t k = 0; k < n; k += PKT_VEC_MAX) {
		pkt_vec_init(&out);
		for (uint32_t i = k; i < n && i < k + PKT_VEC_MAX; i++)
			pkt_vec_add(&out, segs[i]);
		gro_coalesce(&out, &st->big, &st->st);
		for (uint32_t i = 0; i < out.n; i++) {
			check(out.p[i]->len >= VNET_HDR_LEN);
			if (memcmp(out.p[i]->data, zero, VNET_HDR_LEN) != 0)
				check_super(out.p[i]);
		}
		pkt_vec_free(&out);
	}
}

static void fuzz_coalesce(struct fuzz_state *st, const uint8_t *data, size_t size)
{
	static const uint8_t zero[VNET_HDR_LEN];
	struct pkt *orig[PKT_VEC_MAX];
	uint8_t used[PKT_VEC_MAX] = {0};
	struct pkt_vec v;
	uint32_t n = 0;

	pkt_vec_init(&v);
	while (size >= 2 && n < PKT_VEC_MAX) {
		uint32_t len = get_be16(data);
		struct pkt *p;

		data += 2;
		size -= 2;
		if (len > size || len > PKT_DEFAULT_SIZE - PKT_HEADROOM - PKT_TAILROOM)
			break;
		p = pkt_alloc(&st->pool);
		memcpy(pkt_put(p, len), data, len);
		pkt_vec_add(&v, p);
		orig[n] = pkt_alloc(&st->pool);
		memcpy(pkt_put(orig[n], len), data, len);
		n++;
		data += len;
		size -= len;
	}
	gro_coalesce(&v, &st->big, &st->st);
	check(v.n <= n);
	for (uint32_t i = 0; i < v.n; i++) {
		struct pkt *q = v.p[i];
		uint32_t k;

		check(q->len >= VNET_HDR_LEN);
		if (memcmp(q->data, zero, VNET_HDR_LEN) != 0) {
			check_super(q);
			continue;
		}
		for (k = 0; k < n; k++)
			if (!used[k] && orig[k]->len == q->len - VNET_HDR_LEN &&
			    memcmp(orig[k]->data, q->data + VNET_HDR_LEN, orig[k]->len) == 0)
				break;
		check(k < n);
		used[k] = 1;
	}
	pkt_vec_free(&v);
	for (uint32_t k = 0; k < n; k++)
		pkt_free(orig[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state *st = fuzz_setup();

	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_coalesce(st, data + 1, size - 1);
	else
		fuzz_split(st, data + 1, size - 1);
	check(st->pool.nfree == st->pool.count && st->big.nfree == st->big.count);
	return 0;
}
