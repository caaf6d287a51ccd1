/* SPDX-License-Identifier: MIT */
#include "gso.h"

#include <string.h>

#include "core/byteorder.h"
#include "core/csum.h"

#define PROTO_TCP 6

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

bool gso_csum_complete(const struct vnet_hdr *h, uint8_t *pkt, uint32_t len)
{
	uint32_t start = h->csum_start, at = start + h->csum_offset;
	uint16_t sum;

	if (at + 2 > len)
		return false;
	/* The field already holds the pseudo-header sum: include it, do not clear it. */
	sum = csum_fold(csum_partial(pkt + start, len - start, 0));
	put_be16(pkt + at, sum ? sum : 0xffff);
	return true;
}

uint32_t gso_segments(const struct vnet_hdr *h, const struct vnet_layout *lay)
{
	if (h->gso_type == VNET_HDR_GSO_NONE || lay->payload == 0)
		return 1;
	return (lay->payload + h->gso_size - 1) / h->gso_size;
}

/* The pseudo-header sum for an L4 length, from the addresses of the segment's own header. */
static uint32_t pseudo_sum(const uint8_t *ip, const struct vnet_layout *lay, uint32_t l4len)
{
	if (lay->ip_version == 4)
		return csum_ipv4_pseudo(ip + 12, ip + 16, lay->l4_proto, (uint16_t)l4len);
	return csum_ipv6_pseudo(ip + 8, ip + 24, lay->l4_proto, l4len);
}

static void seg_fix_ip(uint8_t *seg, const struct vnet_layout *lay, uint32_t seglen, uint32_t i)
{
	if (lay->ip_version == 4) {
		put_be16(seg + 2, (uint16_t)seglen);
		put_be16(seg + 4, (uint16_t)(get_be16(seg + 4) + i));
		put_be16(seg + 10, 0);
		put_be16(seg + 10, csum_ipv4_header(seg, lay->l3_len));
	} else {
		put_be16(seg + 4, (uint16_t)(seglen - 40));
	}
}

/*
 * The L4 header's fields for segment i; the checksum field is left zero and the sum of the
 * header and pseudo-header returned, for the payload's sum to continue from.
 */
static uint32_t seg_fix_l4(uint8_t *seg, const struct vnet_layout *lay, uint32_t seglen, uint32_t i,
			   uint32_t nsegs, uint32_t off)
{
	uint8_t *l4 = seg + lay->l3_len;
	uint32_t l4len = seglen - lay->l3_len, hlen = lay->hdrs_len - lay->l3_len;

	if (lay->l4_proto == PROTO_TCP) {
		put_be32(l4 + 4, get_be32(l4 + 4) + off);
		if (i + 1 < nsegs)
			l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;
		put_be16(l4 + 16, 0);
	} else {
		put_be16(l4 + 4, (uint16_t)l4len);
		put_be16(l4 + 6, 0);
	}
	return csum_partial(l4, hlen, pseudo_sum(seg, lay, l4len));
}

/*
 * Builds segment i of nsegs into dst; returns its length. The payload is summed as it is
 * copied (csum_copy), so it is read once; the L4 header is even-sized, so the payload's sum
 * continues the header's.
 */
static uint32_t seg_build(uint8_t *dst, const uint8_t *src, const struct vnet_layout *lay,
			  uint32_t gso_size, uint32_t i, uint32_t nsegs)
{
	uint32_t off = i * gso_size;
	uint32_t plen = lay->payload - off < gso_size ? lay->payload - off : gso_size;
	uint32_t seglen = lay->hdrs_len + plen, sum;
	uint8_t *field = dst + lay->l3_len + (lay->l4_proto == PROTO_TCP ? 16 : 6);
	uint16_t c;

	memcpy(dst, src, lay->hdrs_len);
	seg_fix_ip(dst, lay, seglen, i);
	sum = seg_fix_l4(dst, lay, seglen, i, nsegs, off);
	sum = csum_copy(dst + lay->hdrs_len, src + lay->hdrs_len + off, plen, sum);
	c = csum_fold(sum);
	/* UDP sends a computed zero as all ones: zero there means "no checksum". */
	put_be16(field, c || lay->l4_proto == PROTO_TCP ? c : 0xffff);
	return seglen;
}

static enum gso_status drop(struct offload_stats *st, enum offload_drop *why,
			    enum offload_drop reason)
{
	*why = reason;
	st->drops[reason]++;
	return GSO_DROP;
}

/*
 * Payload bytes per segment: the sender's gso_size, or less for TCP when each segment's
 * IP packet must stay within max_l3 (0: no limit). UDP datagrams are never re-cut.
 */
static uint32_t seg_payload(const struct vnet_hdr *h, const struct vnet_layout *lay,
			    uint32_t max_l3)
{
	if (lay->l4_proto == PROTO_TCP && max_l3 > lay->hdrs_len &&
	    max_l3 - lay->hdrs_len < h->gso_size)
		return max_l3 - lay->hdrs_len;
	return h->gso_size;
}

static enum gso_status split_packet(const struct vnet_hdr *h, struct pkt *in, uint32_t *cursor,
				    uint32_t max_l3, struct pkt_pool *pool, struct pkt_vec *out,
				    struct offload_stats *st, enum offload_drop *why)
{
	struct vnet_layout lay;
	uint32_t nsegs, maxseg, size;

	if (!vnet_hdr_check(h, in->data, in->len, &lay, why)) {
		st->drops[*why]++;
		return GSO_DROP;
	}
	if (h->gso_type == VNET_HDR_GSO_NONE) {
		if (h->flags & VNET_HDR_F_NEEDS_CSUM) {
			gso_csum_complete(h, in->data, in->len);
			st->csum_completed++;
		}
		*cursor = 0;
		return GSO_PASS;
	}
	size = seg_payload(h, &lay, max_l3);
	nsegs = lay.payload ? (lay.payload + size - 1) / size : 1;
	maxseg = lay.hdrs_len + (lay.payload < size ? lay.payload : size);
	if ((uint64_t)PKT_HEADROOM + maxseg + PKT_TAILROOM > pool->bufsize)
		return drop(st, why, OFFLOAD_DROP_SEG_SIZE);
	if (*cursor > nsegs)
		*cursor = nsegs;
	while (*cursor < nsegs) {
		struct pkt *seg;

		if (pkt_vec_full(out) || !(seg = pkt_alloc(pool))) {
			st->split_stalls++;
			return GSO_MORE;
		}
		seg->len = seg_build(seg->data, in->data, &lay, size, *cursor, nsegs);
		seg->port = in->port;
		seg->flags = in->flags;
		pkt_vec_add(out, seg);
		st->split_segs++;
		(*cursor)++;
	}
	*cursor = 0;
	st->split_in++;
	return GSO_DONE;
}

enum gso_status gso_split(const struct vnet_hdr *h, struct pkt *in, uint32_t *cursor,
			  struct pkt_pool *pool, struct pkt_vec *out, struct offload_stats *st,
			  enum offload_drop *why)
{
	return split_packet(h, in, cursor, 0, pool, out, st, why);
}

/*
 * gso_split for an Ethernet frame: the IP packet behind the link header is split and
 * each segment gets a copy of that header. csum_start and hdr_len count from the frame's
 * start in the vnet header, from the IP header in gso_split. A non-GSO frame is checked
 * and completed as a whole (the offsets are the frame's own).
 */
static enum gso_status split_frame(const struct vnet_hdr *h, struct pkt *in, uint32_t *cursor,
				   uint32_t max_frame, struct pkt_pool *pool, struct pkt_vec *out,
				   struct offload_stats *st, enum offload_drop *why)
{
	uint32_t link, first = out->n;
	struct vnet_hdr ih = *h;
	enum gso_status s;

	if (h->gso_type == VNET_HDR_GSO_NONE)
		return split_packet(h, in, cursor, 0, pool, out, st, why);
	link = offload_eth_l3_offset(in->data, in->len);
	if (!link)
		return drop(st, why, OFFLOAD_DROP_IP);
	if (h->csum_start < link && (h->flags & VNET_HDR_F_NEEDS_CSUM))
		return drop(st, why, OFFLOAD_DROP_CSUM);
	ih.csum_start = (uint16_t)(h->csum_start >= link ? h->csum_start - link : 0);
	ih.hdr_len = (uint16_t)(h->hdr_len > link ? h->hdr_len - link : 0);
	pkt_pull(in, link);
	s = split_packet(&ih, in, cursor, max_frame > link ? max_frame - link : 0, pool, out, st,
			 why);
	/* Segments are built at PKT_HEADROOM: the link header always fits in front. */
	for (uint32_t i = first; i < out->n; i++)
		memcpy(pkt_push(out->p[i], link), in->data - link, link);
	pkt_push(in, link);
	return s;
}
/* Drops the first n packets of v (already moved or freed) and closes the gap. */
static void vec_consume(struct pkt_vec *v, uint32_t n)
{
	memmove(v->p, v->p + n, (v->n - n) * sizeof(v->p[0]));
	v->n -= n;
}

static enum gso_batch_status split_batch(struct pkt_vec *in, uint32_t *cursor,
					 struct pkt_pool *pool, struct pkt_vec *out,
					 struct offload_stats *st, bool frames, uint32_t max_frame)
{
	enum gso_batch_status ret = GSO_BATCH_DONE;
	uint32_t i;

	for (i = 0; i < in->n; i++) {
		struct pkt *p = in->p[i];
		enum offload_drop why;
		enum gso_status s;
		struct vnet_hdr h;

		if (p->len < VNET_HDR_LEN) {
			st->drops[OFFLOAD_DROP_SHORT]++;
			pkt_free(p);
			continue;
		}
		/* Checked first: a pass-through completes its checksum once, never twice. */
		if (pkt_vec_full(out)) {
			ret = GSO_BATCH_OUT_FULL;
			break;
		}
		vnet_hdr_decode(p->data, &h);
		pkt_pull(p, VNET_HDR_LEN);
		s = frames ? split_frame(&h, p, cursor, max_frame, pool, out, st, &why)
			   : split_packet(&h, p, cursor, 0, pool, out, st, &why);
		if (s == GSO_PASS) {
			pkt_vec_add(out, p);
			continue;
		}
		if (s != GSO_MORE) {
			pkt_free(p);
			continue;
		}
		/* The header goes back in front for the call that resumes this packet. */
		pkt_push(p, VNET_HDR_LEN);
		ret = pkt_vec_full(out) ? GSO_BATCH_OUT_FULL : GSO_BATCH_NOMEM;
		break;
	}
	vec_consume(in, i);
	return ret;
}

enum gso_batch_status gso_split_batch(struct pkt_vec *in, uint32_t *cursor, struct pkt_pool *pool,
				      struct pkt_vec *out, struct offload_stats *st)
{
	return split_batch(in, cursor, pool, out, st, false, 0);
}

enum gso_batch_status gso_split_frames_batch(struct pkt_vec *in, uint32_t *cursor,
					     struct pkt_pool *pool, struct pkt_vec *out,
					     struct offload_stats *st, uint32_t max_frame)
{
	return split_batch(in, cursor, pool, out, st, true, max_frame);
}
