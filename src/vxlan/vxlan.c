/* SPDX-License-Identifier: MIT */
#include "vxlan.h"

#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/csum.h"
#include "core/hash.h"

#define ETH_P_IPV4   0x0800
#define ETH_P_IPV6   0x86dd
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88a8
#define IPPROTO_UDP_ 17
#define IP_MF	     0x2000
#define IP_OFFMASK   0x1fff
#define ECN_MASK     0x03
#define ECN_ECT0     0x02
#define ECN_CE	     0x03

#define VX_DROP_NAME_(id, name) [VX_DROP_##id] = name,
static const char *const vx_drop_names[VX_DROP_MAX] = {VX_DROP_REASONS(VX_DROP_NAME_)};
#undef VX_DROP_NAME_

const char *vx_drop_name(enum vx_drop why)
{
	return (unsigned)why < VX_DROP_MAX ? vx_drop_names[why] : NULL;
}

/* Murmur3 rounds over bytes taken as big-endian words: a flow hashes alike on every host. */
static uint32_t hash_bytes(uint32_t h, const uint8_t *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i + 4 <= n; i += 4)
		h = murmur3_round(h, get_be32(b + i));
	if (i < n) {
		uint32_t w = 0;

		for (; i < n; i++)
			w = w << 8 | b[i];
		h = murmur3_round(h, w);
	}
	return h;
}

/* Offset of the network header and its ethertype, past any 802.1Q/802.1ad tags. */
static uint32_t eth_network_offset(const uint8_t *frame, uint32_t len, uint16_t *type)
{
	uint32_t off = 12;

	*type = get_be16(frame + 12);
	while ((*type == ETH_P_8021Q || *type == ETH_P_8021AD) && off + 6 <= len) {
		off += 4;
		*type = get_be16(frame + off);
	}
	return off + 2;
}

static bool proto_has_ports(uint8_t proto)
{
	/* TCP, UDP, SCTP, UDP-Lite: the ports follow the network header. */
	return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

/*
 * The flow key follows the kernel's flow dissector in spirit: addresses and
 * protocol, plus ports unless the packet is a fragment (so all fragments of a
 * datagram take one path); MAC addresses and ethertype for everything else.
 */
static bool hash_ipv4_flow(uint32_t *h, const uint8_t *ip, uint32_t len)
{
	uint32_t ihl;

	if (len < 20 || ip[0] >> 4 != 4)
		return false;
	ihl = (ip[0] & 0x0fu) * 4;
	if (ihl < 20 || ihl > len)
		return false;
	*h = hash_bytes(*h, ip + 12, 8);
	*h = murmur3_round(*h, ip[9]);
	if (!(get_be16(ip + 6) & (IP_MF | IP_OFFMASK)) && proto_has_ports(ip[9]) && ihl + 4 <= len)
		*h = hash_bytes(*h, ip + ihl, 4);
	return true;
}

static bool hash_ipv6_flow(uint32_t *h, const uint8_t *ip, uint32_t len)
{
	if (len < 40 || ip[0] >> 4 != 6)
		return false;
	*h = hash_bytes(*h, ip + 8, 32);
	*h = murmur3_round(*h, ip[6]);
	if (proto_has_ports(ip[6]) && len >= 44)
		*h = hash_bytes(*h, ip + 40, 4);
	return true;
}

uint16_t vx_flow_sport(const struct vx *vx, const uint8_t *frame, uint32_t len)
{
	uint32_t h = vx->cfg.hash_seed, off, range;
	uint16_t type;
	bool done = false;

	if (len >= VX_ETH_HLEN) {
		off = eth_network_offset(frame, len, &type);
		if (off <= len && type == ETH_P_IPV4)
			done = hash_ipv4_flow(&h, frame + off, len - off);
		else if (off <= len && type == ETH_P_IPV6)
			done = hash_ipv6_flow(&h, frame + off, len - off);
		if (!done)
			h = hash_bytes(h, frame, 14);
	}
	h = murmur3_fmix(h);
	/* As the kernel: fold the low half up, then scale into [min, max). */
	h ^= h << 16;
	range = (uint32_t)(vx->cfg.sport_max - vx->cfg.sport_min);
	return (uint16_t)(vx->cfg.sport_min + (uint32_t)(((uint64_t)h * range) >> 32));
}

bool vx_init(struct vx *vx, const struct vx_config *cfg)
{
	memset(vx, 0, sizeof(*vx));
	vx->cfg = *cfg;
	if (!vx->cfg.ttl)
		vx->cfg.ttl = VX_TTL_DEFAULT;
	if (!vx->cfg.sport_min && !vx->cfg.sport_max) {
		vx->cfg.sport_min = VX_SPORT_MIN;
		vx->cfg.sport_max = VX_SPORT_MAX;
	}
	if (vx->cfg.sport_min > vx->cfg.sport_max)
		return false;
	if (!vx->cfg.max_wires)
		vx->cfg.max_wires = VX_WIRES_DEFAULT;
	vx->wires = calloc(vx->cfg.max_wires, sizeof(*vx->wires));
	vx->ip_ids = calloc(vx->cfg.max_wires, sizeof(*vx->ip_ids));
	if (!vx->wires || !vx->ip_ids) {
		vx_destroy(vx);
		return false;
	}
	return true;
}

void vx_destroy(struct vx *vx)
{
	free(vx->wires);
	free(vx->ip_ids);
	memset(vx, 0, sizeof(*vx));
}

int vx_wire_lookup(const struct vx *vx, const uint8_t remote[4], uint16_t port, uint32_t vni)
{
	for (uint32_t i = 0; i < vx->nwires; i++) {
		const struct vx_wire *w = &vx->wires[i];

		if (w->vni == vni && w->port == port && !memcmp(w->remote, remote, 4))
			return (int)i;
	}
	return -1;
}

static bool vx_port_in_use(const struct vx *vx, uint16_t port)
{
	for (uint32_t i = 0; i < vx->nwires; i++)
		if (vx->wires[i].port == port)
			return true;
	return false;
}

int vx_wire_add(struct vx *vx, const uint8_t remote[4], uint16_t port, uint32_t vni)
{
	struct vx_wire *w;
	uint32_t slot = vx->nids;

	if (vx->nwires >= vx->cfg.max_wires || vni > VX_VNI_MAX || !port ||
	    vx_wire_lookup(vx, remote, port, vni) >= 0)
		return -1;
	/* Wires to the same Remote share one ID counter: IDs are unique per (src, dst, proto). */
	for (uint32_t i = 0; i < vx->nwires; i++) {
		if (!memcmp(vx->wires[i].remote, remote, 4)) {
			slot = vx->wires[i].id_slot;
			break;
		}
	}
	if (slot == vx->nids) {
		/* A keyed start so IDs do not restart at the same value after a restart. */
		vx->ip_ids[slot] = (uint16_t)murmur3_fmix(
			hash_bytes(vx->cfg.hash_seed ^ 0x5bd1e995u, remote, 4));
		vx->nids++;
	}
	w = &vx->wires[vx->nwires];
	memset(w, 0, sizeof(*w));
	w->vni = vni;
	w->port = port;
	memcpy(w->remote, remote, 4);
	w->id_slot = slot;
	return (int)vx->nwires++;
}

int vx_wire_carry(struct vx *to, uint32_t to_wire, const struct vx *from, uint32_t from_wire)
{
	if (to_wire >= to->nwires || from_wire >= from->nwires)
		return -1;
	to->wires[to_wire].stats = from->wires[from_wire].stats;
	to->ip_ids[to->wires[to_wire].id_slot] = from->ip_ids[from->wires[from_wire].id_slot];
	return 0;
}

/* Outer TOS: DSCP 0 and the inner packet's ECN bits, CE sent as ECT(0) (RFC 6040). */
static uint8_t vx_ecn_encap(const uint8_t *frame, uint32_t len)
{
	uint16_t type = get_be16(frame + 12);
	uint8_t ecn;

	if (type == ETH_P_IPV4 && len >= VX_ETH_HLEN + 20)
		ecn = frame[VX_ETH_HLEN + 1] & ECN_MASK;
	else if (type == ETH_P_IPV6 && len >= VX_ETH_HLEN + 40)
		ecn = (frame[VX_ETH_HLEN + 1] >> 4) & ECN_MASK;
	else
		return 0;
	return ecn == ECN_CE ? ECN_ECT0 : ecn;
}

static void vx_write_ipv4(const struct vx *vx, const struct vx_wire *w, uint8_t *h, uint16_t tot,
			  uint16_t id, uint8_t tos)
{
	h[0] = 0x45;
	h[1] = tos;
	put_be16(h + 2, tot);
	put_be16(h + 4, id);
	put_be16(h + 6, 0); /* DF clear, not a fragment */
	h[8] = vx->cfg.ttl;
	h[9] = IPPROTO_UDP_;
	put_be16(h + 10, 0);
	memcpy(h + 12, vx->cfg.local, 4);
	memcpy(h + 16, w->remote, 4);
	put_be16(h + 10, csum_ipv4_header(h, VX_IPV4_HLEN));
}

int vx_encap(struct vx *vx, uint32_t wire, struct pkt *p, enum vx_drop *why)
{
	const struct vx_wire *w;
	uint32_t flen = p->len;
	uint16_t sport, ulen;
	uint8_t tos, *h, *u;

	if (wire >= vx->nwires) {
		*why = VX_DROP_BAD_WIRE;
		return -1;
	}
	if (flen < VX_ETH_HLEN || flen > 0xffffu - VX_ENCAP_LEN) {
		*why = VX_DROP_FRAME_LENGTH;
		return -1;
	}
	if (pkt_headroom(p) < VX_ENCAP_LEN) {
		*why = VX_DROP_NO_HEADROOM;
		return -1;
	}
	w = &vx->wires[wire];
	sport = vx_flow_sport(vx, p->data, flen);
	tos = vx_ecn_encap(p->data, flen);
	h = pkt_push(p, VX_ENCAP_LEN);
	vx_write_ipv4(vx, w, h, (uint16_t)p->len, vx->ip_ids[w->id_slot]++, tos);

	u = h + VX_IPV4_HLEN;
	ulen = (uint16_t)(flen + VX_UDP_HLEN + VX_HLEN);
	put_be16(u, sport);
	put_be16(u + 2, w->port);
	put_be16(u + 4, ulen);
	put_be16(u + 6, 0);
	u[8] = VX_FLAG_I;
	u[9] = u[10] = u[11] = 0;
	put_be32(u + 12, w->vni << 8);
	if (!vx->cfg.no_udp_csum) {
		uint32_t sum = csum_ipv4_pseudo(vx->cfg.local, w->remote, IPPROTO_UDP_, ulen);
		uint16_t c = csum_fold(csum_partial(u, ulen, sum));

		/* 0 means "no checksum" in UDP over IPv4, so a computed 0 goes out as 0xffff. */
		put_be16(u + 6, c ? c : 0xffff);
	}
	vx->wires[wire].stats.tx_packets++;
	vx->wires[wire].stats.tx_bytes += flen;
	vx->stats.encap_packets++;
	return 0;
}

static enum vx_verdict vx_drop_with(enum vx_drop *why, enum vx_drop reason)
{
	*why = reason;
	return VX_DECAP_DROP;
}

/*
 * RFC 6040 decapsulation, as the kernel does it: an outer CE mark is copied into
 * an ECN-capable inner IPv4/IPv6 packet; over a not-ECT inner packet it means the
 * packet must go. Returns false for that drop.
 */
static bool vx_ecn_decap(uint8_t outer_tos, uint8_t *frame, uint32_t len)
{
	uint16_t type = get_be16(frame + 12);
	uint8_t *ip = frame + VX_ETH_HLEN;

	if ((outer_tos & ECN_MASK) != ECN_CE)
		return true;
	if (type == ETH_P_IPV4 && len >= VX_ETH_HLEN + 20 && ip[0] >> 4 == 4) {
		uint32_t ihl = (ip[0] & 0x0fu) * 4;

		if ((ip[1] & ECN_MASK) == 0)
			return false;
		if (ihl < 20 || VX_ETH_HLEN + ihl > len)
			return true;
		ip[1] |= ECN_CE;
		put_be16(ip + 10, 0);
		put_be16(ip + 10, csum_ipv4_header(ip, ihl));
	} else if (type == ETH_P_IPV6 && len >= VX_ETH_HLEN + 40 && ip[0] >> 4 == 6) {
		if (((ip[1] >> 4) & ECN_MASK) == 0)
			return false;
		ip[1] |= ECN_CE << 4;
	}
	return true;
}

/* Validates the IPv4 header; PASS for what is not IPv4 to our address as UDP. */
static enum vx_verdict vx_check_ipv4(const struct vx *vx, const uint8_t *d, uint32_t len,
				     uint32_t *ihl_out, enum vx_drop *why)
{
	uint32_t ihl, tot;

	if (len < 1)
		return vx_drop_with(why, VX_DROP_IP_HEADER);
	if (d[0] >> 4 != 4)
		return VX_DECAP_PASS;
	ihl = (d[0] & 0x0fu) * 4;
	if (len < 20 || ihl < 20 || ihl > len)
		return vx_drop_with(why, VX_DROP_IP_HEADER);
	tot = get_be16(d + 2);
	if (tot < ihl || tot > len)
		return vx_drop_with(why, VX_DROP_IP_LENGTH);
	if (memcmp(d + 16, vx->cfg.local, 4) != 0)
		return VX_DECAP_PASS;
	if (csum_ipv4_header(d, ihl) != 0)
		return vx_drop_with(why, VX_DROP_IP_CHECKSUM);
	if ((get_be16(d + 6) & (IP_MF | IP_OFFMASK)) || d[9] != IPPROTO_UDP_)
		return VX_DECAP_PASS;
	*ihl_out = ihl;
	return VX_DECAP_OK;
}

bool vx_fragment_for_wires(const struct vx *vx, const struct pkt *p)
{
	const uint8_t *d = p->data;

	if (p->len < VX_IPV4_HLEN || d[0] >> 4 != 4 || (d[0] & 0x0fu) < 5 ||
	    !(get_be16(d + 6) & (IP_MF | IP_OFFMASK)))
		return false;
	if (d[9] != IPPROTO_UDP_ || memcmp(d + 16, vx->cfg.local, 4) != 0)
		return false;
	for (uint32_t i = 0; i < vx->nwires; i++)
		if (!memcmp(vx->wires[i].remote, d + 12, 4))
			return true;
	return false;
}

enum vx_verdict vx_decap(struct vx *vx, struct pkt *p, enum vx_drop *why)
{
	uint8_t *d = p->data, *u, *frame;
	uint32_t ihl = 0, tot, ulen, flen;
	enum vx_verdict v;
	int wire;

	v = vx_check_ipv4(vx, d, p->len, &ihl, why);
	if (v != VX_DECAP_OK)
		return v;
	tot = get_be16(d + 2);
	u = d + ihl;
	if (tot - ihl < VX_UDP_HLEN)
		return vx_drop_with(why, VX_DROP_UDP_LENGTH);
	if (!vx_port_in_use(vx, get_be16(u + 2)))
		return VX_DECAP_PASS;
	ulen = get_be16(u + 4);
	if (ulen < VX_UDP_HLEN || ulen > tot - ihl)
		return vx_drop_with(why, VX_DROP_UDP_LENGTH);
	if (get_be16(u + 6) != 0) {
		uint32_t sum = csum_ipv4_pseudo(d + 12, d + 16, IPPROTO_UDP_, (uint16_t)ulen);

		if (csum_fold(csum_partial(u, ulen, sum)) != 0)
			return vx_drop_with(why, VX_DROP_UDP_CHECKSUM);
	}
	if (ulen < VX_UDP_HLEN + VX_HLEN)
		return vx_drop_with(why, VX_DROP_VXLAN_SHORT);
	/* RFC 7348: the I flag must be set; reserved bits are ignored on receipt. */
	if (!(u[8] & VX_FLAG_I))
		return vx_drop_with(why, VX_DROP_VXLAN_FLAGS);
	wire = vx_wire_lookup(vx, d + 12, get_be16(u + 2), get_be32(u + 12) >> 8);
	if (wire < 0)
		return vx_drop_with(why, VX_DROP_UNKNOWN_WIRE);
	flen = ulen - VX_UDP_HLEN - VX_HLEN;
	if (flen < VX_ETH_HLEN)
		return vx_drop_with(why, VX_DROP_FRAME_SHORT);
	frame = u + VX_UDP_HLEN + VX_HLEN;
	if (!vx_ecn_decap(d[1], frame, flen))
		return vx_drop_with(why, VX_DROP_ECN);

	pkt_pull(p, ihl + VX_UDP_HLEN + VX_HLEN);
	pkt_trim(p, flen);
	p->port = (uint32_t)wire;
	vx->wires[wire].stats.rx_packets++;
	vx->wires[wire].stats.rx_bytes += flen;
	vx->stats.decap_packets++;
	return VX_DECAP_OK;
}

static void vx_count_drop(struct vx *vx, struct pkt *p, enum vx_drop why)
{
	vx->stats.drops[why]++;
	pkt_free(p);
}

void vx_encap_batch(struct vx *vx, struct pkt_vec *in, struct pkt_vec *out)
{
	for (uint32_t i = 0; i < in->n; i++) {
		struct pkt *p = in->p[i];
		enum vx_drop why;

		if (pkt_vec_full(out))
			vx_count_drop(vx, p, VX_DROP_VEC_FULL);
		else if (vx_encap(vx, p->port, p, &why) < 0)
			vx_count_drop(vx, p, why);
		else
			pkt_vec_add(out, p);
	}
	in->n = 0;
}

void vx_decap_batch(struct vx *vx, struct pkt_vec *in, struct pkt_vec *frames, struct pkt_vec *pass)
{
	for (uint32_t i = 0; i < in->n; i++) {
		struct pkt *p = in->p[i];
		enum vx_drop why = VX_DROP_IP_HEADER;

		switch (vx_decap(vx, p, &why)) {
		case VX_DECAP_OK:
			if (!pkt_vec_add(frames, p))
				vx_count_drop(vx, p, VX_DROP_VEC_FULL);
			break;
		case VX_DECAP_PASS:
			vx->stats.passed++;
			if (!pkt_vec_add(pass, p))
				vx_count_drop(vx, p, VX_DROP_VEC_FULL);
			break;
		case VX_DECAP_DROP:
			vx_count_drop(vx, p, why);
			break;
		}
	}
	in->n = 0;
}
