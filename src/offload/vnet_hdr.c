/* SPDX-License-Identifier: MIT */
#include "vnet_hdr.h"

#include <stddef.h>
#include <string.h>

#include "core/byteorder.h"

#define PROTO_TCP 6
#define PROTO_UDP 17

void vnet_hdr_decode(const uint8_t *buf, struct vnet_hdr *h)
{
	h->flags = buf[0];
	h->gso_type = buf[1];
	h->hdr_len = get_le16(buf + 2);
	h->gso_size = get_le16(buf + 4);
	h->csum_start = get_le16(buf + 6);
	h->csum_offset = get_le16(buf + 8);
}

void vnet_hdr_encode(uint8_t *buf, const struct vnet_hdr *h)
{
	buf[0] = h->flags;
	buf[1] = h->gso_type;
	put_le16(buf + 2, h->hdr_len);
	put_le16(buf + 4, h->gso_size);
	put_le16(buf + 6, h->csum_start);
	put_le16(buf + 8, h->csum_offset);
}

bool vnet_hdr_pull(struct pkt *p, struct vnet_hdr *h)
{
	if (p->len < VNET_HDR_LEN)
		return false;
	vnet_hdr_decode(p->data, h);
	pkt_pull(p, VNET_HDR_LEN);
	return true;
}

bool vnet_hdr_push(struct pkt *p, const struct vnet_hdr *h)
{
	uint8_t *b = pkt_push(p, VNET_HDR_LEN);

	if (!b)
		return false;
	vnet_hdr_encode(b, h);
	return true;
}

static bool fail(enum offload_drop *why, enum offload_drop reason)
{
	*why = reason;
	return false;
}

/* IPv6 next-header values that are extension headers rather than a transport. */
static bool ipv6_is_ext(uint8_t nh)
{
	switch (nh) {
	case 0:	  /* hop-by-hop */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
		return true;
	default:
		return false;
	}
}

static bool check_ipv4(const uint8_t *pkt, uint32_t len, uint8_t proto, struct vnet_layout *lay,
		       enum offload_drop *why)
{
	uint32_t ihl;

	if (len < 20)
		return fail(why, OFFLOAD_DROP_IP);
	ihl = (uint32_t)(pkt[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len || get_be16(pkt + 2) != len)
		return fail(why, OFFLOAD_DROP_IP);
	/* A fragment cannot be segmented: its L4 header is in the first one only. */
	if ((get_be16(pkt + 6) & 0x3fff) != 0 || pkt[9] != proto)
		return fail(why, OFFLOAD_DROP_IP);
	lay->l3_len = (uint16_t)ihl;
	return true;
}

static bool check_ipv6(const uint8_t *pkt, uint32_t len, uint8_t proto, struct vnet_layout *lay,
		       enum offload_drop *why)
{
	if (len < 40 || (uint32_t)get_be16(pkt + 4) + 40 != len)
		return fail(why, OFFLOAD_DROP_IP);
	if (pkt[6] != proto)
		return fail(why, ipv6_is_ext(pkt[6]) ? OFFLOAD_DROP_IP_EXT : OFFLOAD_DROP_IP);
	lay->l3_len = 40;
	return true;
}

static bool check_l4(const uint8_t *pkt, uint32_t len, struct vnet_layout *lay,
		     enum offload_drop *why)
{
	uint32_t l3 = lay->l3_len, l4;

	if (lay->l4_proto == PROTO_TCP) {
		if (l3 + 20 > len)
			return fail(why, OFFLOAD_DROP_L4);
		l4 = (uint32_t)(pkt[l3 + 12] >> 4) * 4;
		if (l4 < 20 || l3 + l4 > len)
			return fail(why, OFFLOAD_DROP_L4);
	} else {
		l4 = 8;
		if (l3 + l4 > len)
			return fail(why, OFFLOAD_DROP_L4);
	}
	lay->l4_len = (uint16_t)l4;
	lay->hdrs_len = (uint16_t)(l3 + l4);
	lay->payload = len - l3 - l4;
	return true;
}

/* Which IP version and transport gso_type implies; false for types vwire does not take. */
static bool gso_type_parse(uint8_t gso_type, const uint8_t *pkt, uint32_t len,
			   struct vnet_layout *lay)
{
	uint8_t ver = len ? pkt[0] >> 4 : 0;

	switch (gso_type & ~VNET_HDR_GSO_ECN) {
	case VNET_HDR_GSO_TCPV4:
		lay->ip_version = 4;
		lay->l4_proto = PROTO_TCP;
		return ver == 4;
	case VNET_HDR_GSO_TCPV6:
		lay->ip_version = 6;
		lay->l4_proto = PROTO_TCP;
		return ver == 6;
	case VNET_HDR_GSO_UDP_L4:
		/* ECN (CWR handling) means nothing to UDP. */
		lay->ip_version = ver;
		lay->l4_proto = PROTO_UDP;
		return !(gso_type & VNET_HDR_GSO_ECN) && (ver == 4 || ver == 6);
	default:
		return false;
	}
}

bool vnet_hdr_check(const struct vnet_hdr *h, const uint8_t *pkt, uint32_t len,
		    struct vnet_layout *lay, enum offload_drop *why)
{
	*lay = (struct vnet_layout){0};
	if (h->flags & ~(VNET_HDR_F_NEEDS_CSUM | VNET_HDR_F_DATA_VALID))
		return fail(why, OFFLOAD_DROP_FLAGS);
	if (h->hdr_len > len)
		return fail(why, OFFLOAD_DROP_HDR_LEN);
	if (h->gso_type == VNET_HDR_GSO_NONE) {
		if ((h->flags & VNET_HDR_F_NEEDS_CSUM) &&
		    (uint32_t)h->csum_start + h->csum_offset + 2 > len)
			return fail(why, OFFLOAD_DROP_CSUM);
		lay->payload = len;
		return true;
	}
	if (!gso_type_parse(h->gso_type, pkt, len, lay))
		return fail(why, OFFLOAD_DROP_GSO_TYPE);
	if (h->gso_size == 0)
		return fail(why, OFFLOAD_DROP_GSO_SIZE);
	if (len > OFFLOAD_MAX_PACKET + (lay->ip_version == 6 ? 40u : 0u))
		return fail(why, OFFLOAD_DROP_TOO_LONG);
	if (lay->ip_version == 4 ? !check_ipv4(pkt, len, lay->l4_proto, lay, why)
				 : !check_ipv6(pkt, len, lay->l4_proto, lay, why))
		return false;
	if (!check_l4(pkt, len, lay, why))
		return false;
	/* Splitting recomputes every checksum, but a partial one elsewhere means a confused sender.
	 */
	if ((h->flags & VNET_HDR_F_NEEDS_CSUM) &&
	    (h->csum_start != lay->l3_len ||
	     h->csum_offset != (lay->l4_proto == PROTO_TCP ? 16 : 6)))
		return fail(why, OFFLOAD_DROP_CSUM);
	return true;
}

#define OFFLOAD_DROP_NAME_(id, name) [OFFLOAD_DROP_##id] = name,
static const char *const offload_drop_names[OFFLOAD_DROP_MAX] = {
	OFFLOAD_DROP_REASONS(OFFLOAD_DROP_NAME_)};
#undef OFFLOAD_DROP_NAME_

const char *offload_drop_name(enum offload_drop why)
{
	return (unsigned)why < OFFLOAD_DROP_MAX ? offload_drop_names[why] : NULL;
}

#define ETH_P_IPV4  0x0800
#define ETH_P_IPV6  0x86dd
#define ETH_P_8021Q 0x8100

uint32_t offload_eth_l3_offset(const uint8_t *frame, uint32_t len)
{
	uint32_t at = 12, type;

	if (len < 14)
		return 0;
	type = get_be16(frame + at);
	if (type == ETH_P_8021Q) {
		if (len < 18)
			return 0;
		at += 4;
		type = get_be16(frame + at);
	}
	at += 2;
	/* The version must be the one the ethertype names (the kernel drops others anyway). */
	if (len <= at)
		return 0;
	if (type == ETH_P_IPV4)
		return frame[at] >> 4 == 4 ? at : 0;
	if (type == ETH_P_IPV6)
		return frame[at] >> 4 == 6 ? at : 0;
	return 0;
}

_Static_assert(sizeof(struct offload_stats) % sizeof(uint64_t) == 0,
	       "struct offload_stats holds only uint64_t counters");

/* Counter by counter, so that a counter added to the struct is summed without a word here. */
void offload_stats_add(struct offload_stats *to, const struct offload_stats *from)
{
	uint8_t *t = (uint8_t *)to;
	const uint8_t *f = (const uint8_t *)from;

	for (size_t at = 0; at < sizeof(*to); at += sizeof(uint64_t)) {
		uint64_t a, b;

		memcpy(&a, t + at, sizeof(a));
		memcpy(&b, f + at, sizeof(b));
		a += b;
		memcpy(t + at, &a, sizeof(a));
	}
}
