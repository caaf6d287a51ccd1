/* SPDX-License-Identifier: MIT */
/*
 * The offload paths take whatever the TUN or TAP (split) or the tunnel's far end
 * (coalesce) hands them. The first input byte picks the path: bit 0 split (0) or
 * coalesce (1), bit 1 IP packets as on a TUN (0) or Ethernet frames as on a TAP (1),
 * bit 2 GRO_UDP (UDP datagrams merge too, as for a device that took USO).
 *   split, packets: 10 bytes of vnet header, then the packet, as read from a TUN.
 *         A refused packet must be untouched; a passed one may only have its checksum
 *         field changed, to the completed sum; segments must carry valid checksums and,
 *         in order, exactly the payload; and coalescing them must give back valid
 *         super-packets or the segments unchanged, whose payloads in order are the
 *         super-packet's again (UDP_L4 ones always with GRO_UDP, TCP ones with it when
 *         bit 2 is set).
 *   split, frames: a 2-byte big-endian max_frame, 10 bytes of vnet header (offsets from
 *         the frame's start), then the frame, through gso_split_frames_batch. The same
 *         checks on the IP packet behind the link header (parsed here: 14 bytes, or 18
 *         with one 802.1Q tag); besides, every segment starts with the frame's link
 *         header and has room in front for VXLAN and WireGuard, TCP segments are cut to
 *         max_frame (when the headers leave room for payload) and no finer, UDP ones
 *         never, and each segment's IP packet is what gso_split makes of the bare packet
 *         at that segment size.
 *   coalesce: packets (frames), each behind a 2-byte big-endian length, up to PKT_VEC_MAX.
 *         Every output starts with a vnet header; a GSO_NONE output is one of the inputs
 *         unchanged; a super-packet (TCP, or with GRO_UDP a UDP_L4 one) passes our own
 *         vnet check and its checksum completes (frames: behind an input's link header,
 *         offsets from the frame's start), and gso_split cuts it into segments that
 *         verify, gso_size each but a shorter last, whose payloads in order are its own;
 *         each of a UDP super-packet's segments is one of the inputs as it was sent (but
 *         for an IPv4 ID under DF and an IPv4 UDP checksum the input left 0), each input
 *         used once; the TCP inputs merged carry exactly the payload bytes the TCP
 *         super-packets do. The counters agree.
 * No crash, no leak: every buffer is back in its pool at the end.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "core/byteorder.h"
#include "core/csum.h"
#include "core/pkt.h"
#include "offload/gro.h"
#include "offload/gso.h"
#include "offload/vnet_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BIG_SIZE   (PKT_HEADROOM + 65536 + 64 + PKT_TAILROOM)
#define MAX_IN	   (65535 + 40)
#define POOL_COUNT (2 * PKT_VEC_MAX + 8)
#define MAX_LINK   18
#define ENCAP_PUSH (8 + 8 + 20 + 16) /* VXLAN, UDP, IPv4, WireGuard data header */
#define NOT_SUPER  0xffffffffu	     /* coalesce: an output passed through */
#define ACCOUNTED  0xfffffffeu	     /* coalesce: a super-packet whose inputs were found */

struct fuzz_state {
	struct pkt_pool pool, big, flat;
	struct offload_stats st;
	unsigned chain; /* GRO_CHAIN or 0, from the input's first byte */
};

static struct fuzz_state *fuzz_setup(void)
{
	static struct fuzz_state *st;

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st || !pkt_pool_init(&st->pool, POOL_COUNT, PKT_DEFAULT_SIZE) ||
	    !pkt_pool_init(&st->big, 4, BIG_SIZE) ||
	    !pkt_pool_init(&st->flat, PKT_VEC_MAX, BIG_SIZE))
		abort();
	return st;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

/*
 * gro_coalesce, with st->chain; each chain that comes out is gathered through the iovecs a
 * device write would take into one packet from st->flat, for the checks to read.
 */
static void coalesce(struct fuzz_state *st, struct pkt_vec *v, unsigned flags)
{
	gro_coalesce(v, &st->big, &st->st, flags | st->chain);
	for (uint32_t i = 0; i < v->n; i++) {
		struct pkt *p = v->p[i], *q = NULL;
		struct iovec *iov = NULL;
		uint32_t n = 0;

		if (!p->frags)
			continue;
		check(st->chain && (iov = pkt_chain_iov(p, &n)) && (q = pkt_alloc(&st->flat)));
		for (uint32_t k = 0; k < n; k++)
			memcpy(pkt_put(q, (uint32_t)iov[k].iov_len), iov[k].iov_base,
			       iov[k].iov_len);
		check(q->len == pkt_chain_len(p));
		pkt_free(p);
		v->p[i] = q;
	}
}

/*
 * The link header of an Ethernet frame carrying IPv4/IPv6 (one 802.1Q tag at most) with
 * the IP version the ethertype names in the first byte behind it; 0 else.
 */
static uint32_t eth_link(const uint8_t *f, uint32_t len)
{
	uint32_t at = 12;

	if (len >= 18 && f[12] == 0x81 && f[13] == 0x00)
		at = 16;
	if (len <= at + 2)
		return 0;
	if (f[at] == 0x08 && f[at + 1] == 0x00 && f[at + 2] >> 4 == 4)
		return at + 2;
	if (f[at] == 0x86 && f[at + 1] == 0xdd && f[at + 2] >> 4 == 6)
		return at + 2;
	return 0;
}

static uint64_t drops_total(const struct offload_stats *st)
{
	uint64_t n = 0;

	for (int r = 0; r < OFFLOAD_DROP_MAX; r++)
		n += st->drops[r];
	return n;
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

/* The inputs of one coalesce call, for a UDP super-packet's segments to be found among. */
struct inputs {
	struct pkt **orig;
	uint8_t *used;
	uint32_t n;
};

#define USED_PASSED 1 /* an output passed through unchanged */
#define USED_TCP    2 /* counted into a TCP super-packet's payload */
#define USED_UDP    3 /* one of a UDP super-packet's segments */

/*
 * Whether segment s (an IP packet gso_split cut from a UDP super-packet) is input d as
 * it was sent: byte for byte but for the IPv4 ID under DF (and the header checksum, if
 * the IDs differ), and the UDP checksum where an IPv4 input left it 0 (none).
 */
static bool udp_same(const uint8_t *s, uint32_t slen, const uint8_t *d, uint32_t dlen)
{
	uint32_t l3;

	if (slen != dlen || slen < 28)
		return false;
	if (s[0] >> 4 != 4)
		return memcmp(s, d, slen) == 0;
	l3 = (uint32_t)(s[0] & 15) * 4;
	if (l3 + 8 > slen)
		return false;
	for (uint32_t i = 0; i < slen; i++) {
		bool id = (s[6] & 0x40) &&
			  (i == 4 || i == 5 || ((i == 10 || i == 11) && memcmp(s + 4, d + 4, 2)));
		bool none = (i == l3 + 6 || i == l3 + 7) && get_be16(d + l3 + 6) == 0;

		if (s[i] != d[i] && !id && !none)
			return false;
	}
	return true;
}

/* Marks the first input not yet used that segment s of a super-frame behind link is. */
static void find_input(struct inputs *in, const uint8_t *link_hdr, uint32_t link, const uint8_t *s,
		       uint32_t slen)
{
	for (uint32_t k = 0; k < in->n; k++) {
		const struct pkt *o = in->orig[k];

		if (in->used[k] || o->len < link || memcmp(o->data, link_hdr, link) != 0 ||
		    (link && eth_link(o->data, o->len) != link))
			continue;
		if (udp_same(s, slen, o->data + link, o->len - link)) {
			in->used[k] = USED_UDP;
			return;
		}
	}
	abort();
}

/*
 * gso_split of a super-packet's IP packet (behind its vnet header and link bytes; ih is
 * the vnet header with offsets from the IP header):
 * the segments verify, each gso_size of payload but a shorter last, in order exactly
 * the super-packet's payload; with in, each segment of a UDP one is one of the inputs.
 */
static void split_back(struct fuzz_state *st, struct pkt *q, const struct vnet_hdr *ih,
		       uint32_t link, const struct vnet_layout *lay, struct inputs *in)
{
	const uint8_t *link_hdr = q->data + VNET_HDR_LEN;
	uint32_t cursor = 0, at = 0, nsegs = 0, want = gso_segments(ih, lay);
	enum offload_drop why;
	enum gso_status s;
	struct pkt_vec out;

	pkt_pull(q, VNET_HDR_LEN + link);
	do {
		pkt_vec_init(&out);
		s = gso_split(ih, q, &cursor, &st->pool, &out, &st->st, &why);
		check((s == GSO_DONE || s == GSO_MORE) && (s == GSO_DONE || out.n > 0));
		for (uint32_t i = 0; i < out.n; i++, nsegs++) {
			struct pkt *g = out.p[i];
			uint32_t plen = g->len - lay->hdrs_len;

			check(g->len >= lay->hdrs_len && nsegs < want);
			check(plen == ih->gso_size || (nsegs + 1 == want && plen <= ih->gso_size));
			check(memcmp(g->data + lay->hdrs_len, q->data + lay->hdrs_len + at, plen) ==
			      0);
			check(csums_valid(g->data, g->len, lay->l3_len, lay->l4_proto));
			if (in && lay->l4_proto == 17)
				find_input(in, link_hdr, link, g->data, g->len);
			at += plen;
		}
		pkt_vec_free(&out);
	} while (s == GSO_MORE);
	check(nsegs == want && at == lay->payload);
	pkt_push(q, VNET_HDR_LEN + link);
}

/*
 * A super-packet (frames: super-frame) from coalescing: TCP, or with udp UDP_L4 too. Our
 * own check takes its IP packet, its checksum completes, and it splits back (see
 * split_back). Returns the link header length; *lay gets the layout.
 */
static uint32_t check_super(struct fuzz_state *st, struct pkt *q, bool frames, bool udp,
			    struct vnet_layout *lay, struct inputs *in)
{
	enum offload_drop why;
	struct vnet_hdr h, ih;
	uint8_t *d = q->data + VNET_HDR_LEN;
	uint32_t len = q->len - VNET_HDR_LEN, link = frames ? eth_link(d, len) : 0;

	check(!frames || link);
	vnet_hdr_decode(q->data, &h);
	check(h.flags == VNET_HDR_F_NEEDS_CSUM);
	if (h.gso_type == VNET_HDR_GSO_UDP_L4)
		check(udp && h.csum_offset == 6);
	else
		check((h.gso_type == VNET_HDR_GSO_TCPV4 || h.gso_type == VNET_HDR_GSO_TCPV6) &&
		      h.csum_offset == 16);
	check(h.csum_start >= link && h.hdr_len >= link);
	ih = h;
	ih.csum_start = (uint16_t)(h.csum_start - link);
	ih.hdr_len = (uint16_t)(h.hdr_len - link);
	check(vnet_hdr_check(&ih, d + link, len - link, lay, &why));
	check(lay->hdrs_len == ih.hdr_len && lay->payload > h.gso_size);
	check(len - link <= OFFLOAD_MAX_PACKET);
	/* UDP: the length field is the whole L4 length (the kernel's segmentation rewrites it). */
	if (lay->l4_proto == 17)
		check(get_be16(d + link + lay->l3_len + 4) == len - link - lay->l3_len);
	split_back(st, q, &ih, link, lay, in);
	/* Offsets from the frame's start, as the tap takes them. */
	check(gso_csum_complete(&h, d, len));
	check(csums_valid(d + link, len - link, lay->l3_len, lay->l4_proto));
	return link;
}

/*
 * The segments of one split (freed here), coalesced PKT_VEC_MAX at a time: every output
 * starts with the link header, super-packets are valid, and the payloads of the outputs
 * in order are the super-packet's payload[0..total).
 */
static void regroup(struct fuzz_state *st, struct pkt **segs, uint32_t n, unsigned flags,
		    const uint8_t *link_hdr, uint32_t link, uint32_t hdrs, const uint8_t *payload,
		    uint32_t total)
{
	static const uint8_t zero[VNET_HDR_LEN];
	bool frames = flags & GRO_FRAMES;
	uint32_t at = 0;
	struct pkt_vec out;

	for (uint32_t k = 0; k < n; k += PKT_VEC_MAX) {
		pkt_vec_init(&out);
		for (uint32_t i = k; i < n && i < k + PKT_VEC_MAX; i++)
			pkt_vec_add(&out, segs[i]);
		coalesce(st, &out, flags);
		for (uint32_t i = 0; i < out.n; i++) {
			struct pkt *q = out.p[i];
			uint8_t *d = q->data + VNET_HDR_LEN;
			uint32_t plen;

			check(q->len >= VNET_HDR_LEN + link + hdrs);
			check(!link || memcmp(d, link_hdr, link) == 0);
			if (memcmp(q->data, zero, VNET_HDR_LEN) != 0) {
				struct vnet_layout lay;

				check(check_super(st, q, frames, flags & GRO_UDP, &lay, NULL) ==
					      link &&
				      lay.hdrs_len == hdrs);
			}
			plen = q->len - VNET_HDR_LEN - link - hdrs;
			check(plen <= total - at &&
			      memcmp(d + link + hdrs, payload + at, plen) == 0);
			at += plen;
		}
		pkt_vec_free(&out);
	}
	check(at == total);
}

/* A passed packet: only the partial checksum field may have changed, to the completed sum. */
static void check_passed(const struct vnet_hdr *h, const uint8_t *got, const uint8_t *data,
			 uint32_t len)
{
	uint32_t at = (uint32_t)h->csum_start + h->csum_offset;

	for (uint32_t i = 0; i < len; i++)
		check(got[i] == data[i] ||
		      ((h->flags & VNET_HDR_F_NEEDS_CSUM) && (i == at || i == at + 1)));
	if (h->flags & VNET_HDR_F_NEEDS_CSUM) {
		uint16_t c = csum_fold(csum_partial(data + h->csum_start, len - h->csum_start, 0));

		check(get_be16(got + at) == (c ? c : 0xffff));
	}
}

/* How split segments are coalesced back: UDP ones with GRO_UDP, TCP ones with it if asked. */
static unsigned regroup_flags(uint8_t l4_proto, bool udp, bool frames)
{
	return (frames ? GRO_FRAMES : GRO_IP) | (l4_proto == 17 || udp ? GRO_UDP : 0);
}

static void fuzz_split(struct fuzz_state *st, const uint8_t *data, size_t size, bool udp)
{
	static struct pkt *segs[MAX_IN + 1];
	struct vnet_layout lay;
	enum offload_drop why = OFFLOAD_DROP_MAX;
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
		check((unsigned)why < OFFLOAD_DROP_MAX && n == 0);
		check(nsegs == 0 || why == OFFLOAD_DROP_SEG_SIZE);
		check(in->len == len && memcmp(in->data, data, len) == 0);
		break;
	case GSO_PASS:
		check(h.gso_type == VNET_HDR_GSO_NONE && n == 0 && in->len == len);
		check_passed(&h, in->data, data, len);
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
	if (s != GSO_DONE || (lay.l4_proto != 6 && lay.l4_proto != 17)) {
		for (uint32_t k = 0; k < n; k++)
			pkt_free(segs[k]);
		return;
	}
	/* Back together. */
	regroup(st, segs, n, regroup_flags(lay.l4_proto, udp, false), NULL, 0, lay.hdrs_len,
		data + lay.hdrs_len, lay.payload);
}

enum expect { EXP_DROP, EXP_PASS, EXP_SPLIT };

/*
 * What gso_split_frames_batch must do with frame[0..len) behind h, by this file's own
 * reading of the link header and the checks on the bare IP packet: *ih and *lay describe
 * that packet, *size is the payload per segment.
 */
static enum expect frame_expect(const struct fuzz_state *st, const struct vnet_hdr *h,
				const uint8_t *frame, uint32_t len, uint32_t max_frame,
				struct vnet_hdr *ih, struct vnet_layout *lay, uint32_t *size,
				enum offload_drop *why)
{
	uint32_t link = eth_link(frame, len), seg;

	*ih = *h;
	if (h->gso_type == VNET_HDR_GSO_NONE)
		return vnet_hdr_check(h, frame, len, lay, why) ? EXP_PASS : EXP_DROP;
	if (!link) {
		*why = OFFLOAD_DROP_IP;
		return EXP_DROP;
	}
	if ((h->flags & VNET_HDR_F_NEEDS_CSUM) && h->csum_start < link) {
		*why = OFFLOAD_DROP_CSUM;
		return EXP_DROP;
	}
	/* The offsets count from the frame's start; below the IP header they mean nothing. */
	ih->csum_start = (uint16_t)(h->csum_start >= link ? h->csum_start - link : 0);
	ih->hdr_len = (uint16_t)(h->hdr_len > link ? h->hdr_len - link : 0);
	if (!vnet_hdr_check(ih, frame + link, len - link, lay, why))
		return EXP_DROP;
	/* TCP is cut to the cap when the headers leave room for payload in it; UDP never. */
	*size = h->gso_size;
	if (lay->l4_proto == 6 && max_frame > link + lay->hdrs_len &&
	    max_frame - link - lay->hdrs_len < *size)
		*size = max_frame - link - lay->hdrs_len;
	seg = lay->hdrs_len + (lay->payload < *size ? lay->payload : *size);
	if (PKT_HEADROOM + seg + PKT_TAILROOM > st->pool.bufsize) {
		*why = OFFLOAD_DROP_SEG_SIZE;
		return EXP_DROP;
	}
	return EXP_SPLIT;
}

static void fuzz_split_frames(struct fuzz_state *st, const uint8_t *data, size_t size, bool udp)
{
	static struct pkt *segs[POOL_COUNT];
	static uint8_t flat[POOL_COUNT][PKT_DEFAULT_SIZE];
	static uint32_t flat_len[POOL_COUNT];
	struct vnet_layout lay = {0};
	enum offload_drop why = OFFLOAD_DROP_MAX;
	uint32_t max_frame, len, link, cursor = 0, n = 0, at = 0, seg_size = 0, nsegs = 0;
	uint64_t drops0 = drops_total(&st->st), drop0;
	const uint8_t *frame;
	enum gso_batch_status s;
	struct vnet_hdr h, ih;
	struct pkt *p, *passed = NULL;
	struct pkt_vec in, out;
	enum expect exp;

	if (size < 2 + VNET_HDR_LEN || size - 2 - VNET_HDR_LEN > MAX_IN + MAX_LINK)
		return;
	max_frame = get_be16(data);
	data += 2;
	size -= 2;
	vnet_hdr_decode(data, &h);
	frame = data + VNET_HDR_LEN;
	len = (uint32_t)(size - VNET_HDR_LEN);
	link = eth_link(frame, len);
	exp = frame_expect(st, &h, frame, len, max_frame, &ih, &lay, &seg_size, &why);
	if (exp == EXP_SPLIT)
		nsegs = lay.payload ? (lay.payload + seg_size - 1) / seg_size : 1;
	drop0 = exp == EXP_DROP ? st->st.drops[why] : 0;

	p = pkt_alloc(&st->big);
	memcpy(pkt_put(p, (uint32_t)size), data, size);
	pkt_vec_init(&in);
	pkt_vec_add(&in, p);
	for (;;) {
		pkt_vec_init(&out);
		s = gso_split_frames_batch(&in, &cursor, &st->pool, &out, &st->st, max_frame);
		for (uint32_t i = 0; i < out.n; i++) {
			if (out.p[i] == p)
				passed = p;
			else
				segs[n++] = out.p[i];
		}
		if (s == GSO_BATCH_DONE)
			break;
		if (s == GSO_BATCH_OUT_FULL) {
			check(out.n == PKT_VEC_MAX);
			continue;
		}
		/* The pool ran dry (the segments are held): what came out so far must be right. */
		check(s == GSO_BATCH_NOMEM && st->pool.nfree == 0 && in.n == 1 && in.p[0] == p);
		break;
	}

	switch (exp) {
	case EXP_DROP:
		check(in.n == 0 && n == 0 && !passed);
		check(drops_total(&st->st) == drops0 + 1 && st->st.drops[why] == drop0 + 1);
		return;
	case EXP_PASS:
		check(in.n == 0 && n == 0 && passed && passed->len == len);
		check(drops_total(&st->st) == drops0);
		check_passed(&h, passed->data, frame, len);
		pkt_free(passed);
		return;
	case EXP_SPLIT:
		break;
	}
	check(!passed && drops_total(&st->st) == drops0);
	check(s == GSO_BATCH_DONE ? in.n == 0 && n == nsegs : n > 0 && n < nsegs);
	for (uint32_t k = 0; k < n; k++) {
		struct pkt *q = segs[k];
		uint32_t plen = lay.payload - at < seg_size ? lay.payload - at : seg_size;

		check(pkt_headroom(q) >= ENCAP_PUSH && pkt_tailroom(q) >= PKT_TAILROOM);
		check(q->len == link + lay.hdrs_len + plen);
		check(memcmp(q->data, frame, link) == 0);
		if (lay.l4_proto == 6 && max_frame > link + lay.hdrs_len)
			check(q->len <= max_frame);
		check(memcmp(q->data + link + lay.hdrs_len, frame + link + lay.hdrs_len + at,
			     plen) == 0);
		check(csums_valid(q->data + link, q->len - link, lay.l3_len, lay.l4_proto));
		flat_len[k] = q->len - link;
		memcpy(flat[k], q->data + link, flat_len[k]);
		at += plen;
	}
	if (s == GSO_BATCH_DONE && (lay.l4_proto == 6 || lay.l4_proto == 17)) {
		check(at == lay.payload);
		regroup(st, segs, n, regroup_flags(lay.l4_proto, udp, true), frame, link,
			lay.hdrs_len, frame + link + lay.hdrs_len, lay.payload);
	} else {
		for (uint32_t k = 0; k < n; k++)
			pkt_free(segs[k]);
	}
	if (in.n)
		pkt_free(in.p[0]);

	/* The same segments from gso_split of the bare packet at that segment size. */
	{
		struct pkt *bare = pkt_alloc(&st->big);
		enum gso_status gs;
		uint32_t k = 0;

		ih.gso_size = (uint16_t)seg_size;
		memcpy(pkt_put(bare, len - link), frame + link, len - link);
		cursor = 0;
		do {
			pkt_vec_init(&out);
			gs = gso_split(&ih, bare, &cursor, &st->pool, &out, &st->st, &why);
			check(gs == GSO_DONE || gs == GSO_MORE);
			for (uint32_t i = 0; i < out.n; i++, k++) {
				check(k >= n ||
				      (out.p[i]->len == flat_len[k] &&
				       memcmp(out.p[i]->data, flat[k], flat_len[k]) == 0));
				pkt_free(out.p[i]);
			}
		} while (gs == GSO_MORE);
		check(k == nsegs);
		pkt_free(bare);
	}
}

/* The payload bytes of a TCP packet (frames: behind its link header); false if unparsable. */
static bool tcp_payload_len(const uint8_t *d, uint32_t len, bool frames, uint32_t *plen)
{
	uint32_t link = frames ? eth_link(d, len) : 0, l3, l4;

	if ((frames && !link) || len < link + 20)
		return false;
	d += link;
	len -= link;
	l3 = d[0] >> 4 == 4 ? (uint32_t)(d[0] & 15) * 4 : 40;
	if (l3 + 20 > len)
		return false;
	l4 = (uint32_t)(d[l3 + 12] >> 4) * 4;
	if (l3 + l4 > len)
		return false;
	*plen = len - l3 - l4;
	return true;
}

/* Whether a starts with the link bytes of b (link may be 0). */
static bool same_link(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t link)
{
	return alen >= link && (link == 0 || memcmp(a, b, link) == 0);
}

static void fuzz_coalesce(struct fuzz_state *st, const uint8_t *data, size_t size, bool frames,
			  bool udp)
{
	static const uint8_t zero[VNET_HDR_LEN];
	struct pkt *orig[PKT_VEC_MAX];
	uint8_t used[PKT_VEC_MAX] = {0};
	struct vnet_layout super_lay[PKT_VEC_MAX];
	uint32_t super_link[PKT_VEC_MAX];
	struct inputs in = {.orig = orig, .used = used};
	struct offload_stats before = st->st;
	uint32_t n = 0, nsuper = 0, nsuper_udp = 0, npassed = 0;
	struct pkt_vec v;

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
	in.n = n;
	coalesce(st, &v, (frames ? GRO_FRAMES : GRO_IP) | (udp ? GRO_UDP : 0));
	check(v.n <= n);
	/* The pass-throughs first: each is one input, unchanged. */
	for (uint32_t i = 0; i < v.n; i++) {
		struct pkt *q = v.p[i];
		uint32_t k;

		check(q->len >= VNET_HDR_LEN);
		if (memcmp(q->data, zero, VNET_HDR_LEN) != 0)
			continue;
		for (k = 0; k < n; k++)
			if (!used[k] && orig[k]->len == q->len - VNET_HDR_LEN &&
			    memcmp(orig[k]->data, q->data + VNET_HDR_LEN, orig[k]->len) == 0)
				break;
		check(k < n);
		used[k] = USED_PASSED;
		npassed++;
	}
	/*
	 * The super-packets next: valid, each UDP one's segments found among the inputs, and per
	 * link header (frames: only frames with the same one merge) the TCP ones carry exactly
	 * the payload bytes of the inputs that went into them.
	 */
	for (uint32_t i = 0; i < v.n; i++) {
		struct pkt *q = v.p[i];

		super_link[i] = NOT_SUPER;
		if (memcmp(q->data, zero, VNET_HDR_LEN) == 0)
			continue;
		super_link[i] = check_super(st, q, frames, udp, &super_lay[i], &in);
		nsuper++;
		if (super_lay[i].l4_proto == 17) {
			super_link[i] = ACCOUNTED;
			nsuper_udp++;
		}
	}
	for (uint32_t k = 0; k < n; k++) {
		uint64_t in_payload = 0, out_payload = 0;
		uint32_t link = frames ? eth_link(orig[k]->data, orig[k]->len) : 0, plen;

		if (used[k])
			continue;
		for (uint32_t j = k; j < n; j++) {
			if (used[j] || !same_link(orig[j]->data, orig[j]->len, orig[k]->data, link))
				continue;
			check(tcp_payload_len(orig[j]->data, orig[j]->len, frames, &plen));
			in_payload += plen;
			used[j] = USED_TCP;
		}
		for (uint32_t i = 0; i < v.n; i++)
			if (super_link[i] == link &&
			    same_link(v.p[i]->data + VNET_HDR_LEN, v.p[i]->len - VNET_HDR_LEN,
				      orig[k]->data, link)) {
				out_payload += super_lay[i].payload;
				super_link[i] = ACCOUNTED;
			}
		check(in_payload == out_payload);
	}
	/* Every super-packet was made of some inputs. */
	for (uint32_t i = 0; i < v.n; i++)
		check(super_link[i] == ACCOUNTED || super_link[i] == NOT_SUPER);
	check(st->st.gro_in - before.gro_in == n && st->st.gro_out - before.gro_out == v.n);
	check(st->st.gro_super - before.gro_super == nsuper);
	check(st->st.gro_super_udp - before.gro_super_udp == nsuper_udp);
	check(st->st.gro_merged - before.gro_merged == n - npassed);
	pkt_vec_free(&v);
	for (uint32_t k = 0; k < n; k++)
		pkt_free(orig[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state *st = fuzz_setup();

	if (size < 1)
		return 0;
	st->chain = data[0] & 8 ? GRO_CHAIN : 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_split(st, data + 1, size - 1, data[0] & 4);
		break;
	case 1:
		fuzz_coalesce(st, data + 1, size - 1, false, data[0] & 4);
		break;
	case 2:
		fuzz_split_frames(st, data + 1, size - 1, data[0] & 4);
		break;
	case 3:
		fuzz_coalesce(st, data + 1, size - 1, true, data[0] & 4);
		break;
	}
	check(st->pool.nfree == st->pool.count && st->big.nfree == st->big.count);
	return 0;
}
