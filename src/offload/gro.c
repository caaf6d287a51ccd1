/* SPDX-License-Identifier: MIT */
#include "gro.h"

#include <string.h>

#include "core/byteorder.h"
#include "core/csum.h"

#define PROTO_TCP 6
#define PROTO_UDP 17

#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_ECE 0x40

#define IPV4_DF 0x40

#define TCPOPT_NOP	 1
#define TCPOPT_TIMESTAMP 8

#define NO_NEXT 0xff

/* Linux's UDP_MAX_SEGMENTS before 6.11 (128 since): the most datagrams one UDP_L4 carries. */
#define GRO_UDP_MAX_SEGS 64

enum seg_kind {
	SEG_OTHER, /* not TCP, or no ports to read: belongs to no flow */
	SEG_FLOW,  /* TCP that cannot merge: ends its flow's open group */
	SEG_CAND,  /* a candidate for merging */
};

enum seg_csum {
	CSUM_UNKNOWN,
	CSUM_GOOD,
	CSUM_BAD,
};

/* What the first pass learns about each input packet. */
struct gro_seg {
	uint8_t kind;
	uint8_t ipv;
	uint8_t l3;
	uint8_t l4;
	uint8_t csum;
	uint8_t link;  /* frames: Ethernet (+ 802.1Q) bytes pulled off in front of the IP header */
	uint8_t proto; /* PROTO_TCP or PROTO_UDP */
	uint8_t next;  /* the next member of its group, or NO_NEXT */
	uint16_t payload;
	uint32_t seq;
	uint32_t hash;
};

struct gro_group {
	uint8_t head;
	uint8_t last;
	uint8_t count;
	bool open;
	uint16_t gso_size;
	uint32_t next_seq;
	uint32_t len; /* IP length the super-packet would have */
};

struct gro_work {
	struct pkt *p[PKT_VEC_MAX];
	struct gro_seg s[PKT_VEC_MAX];
	struct gro_group g[PKT_VEC_MAX];
	uint32_t ngroups;
	uint32_t max_len;
	bool frames;  /* Ethernet frames (TAP), not IP packets (TUN) */
	bool udp;     /* UDP flows merge too (the device takes UDP_L4) */
	bool trusted; /* checksums taken as good (GRO_TRUSTED) */
	bool chain;   /* super-packets as chains of the segments (GRO_CHAIN) */
};

/* Only NOP and timestamp options: nothing else is safe to repeat on every segment. */
static bool tcp_options_ok(const uint8_t *o, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		if (o[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (o[i] != TCPOPT_TIMESTAMP || i + 10 > len || o[i + 1] != 10)
			return false;
		i += 10;
	}
	return true;
}

static uint32_t flow_hash(const uint8_t *d, uint32_t addr_at, uint32_t addr_len, uint32_t l3)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < 2 * addr_len; i++)
		h = (h ^ d[addr_at + i]) * 16777619u;
	for (uint32_t i = 0; i < 4; i++)
		h = (h ^ d[l3 + i]) * 16777619u;
	return h;
}

/* The smallest L4 header of a protocol gro looks at; 0 for the others. */
static uint32_t l4_min(uint8_t proto, bool udp)
{
	if (proto == PROTO_TCP)
		return 20;
	return proto == PROTO_UDP && udp ? 8 : 0;
}

/*
 * Sets s->ipv, s->l3 and s->proto for TCP (and, with udp, UDP) packets with readable
 * ports; false for anything else.
 */
static bool seg_parse_ip(const uint8_t *d, uint32_t len, struct gro_seg *s, bool *cand, bool udp)
{
	uint32_t ihl, l4;

	if (len < 28)
		return false;
	if (d[0] >> 4 == 4) {
		ihl = (uint32_t)(d[0] & 0x0f) * 4;
		l4 = l4_min(d[9], udp);
		/* Only the first fragment has the ports. */
		if (!l4 || ihl < 20 || ihl + l4 > len || (get_be16(d + 6) & 0x1fff))
			return false;
		s->proto = d[9];
		s->ipv = 4;
		s->l3 = (uint8_t)ihl;
		*cand = ihl == 20 && get_be16(d + 2) == len && !(get_be16(d + 6) & 0x2000);
		s->hash = flow_hash(d, 12, 4, ihl);
		return true;
	}
	if (d[0] >> 4 == 6) {
		l4 = l4_min(d[6], udp);
		if (!l4 || len < 40 + l4)
			return false;
		s->proto = d[6];
		s->ipv = 6;
		s->l3 = 40;
		*cand = (uint32_t)get_be16(d + 4) + 40 == len;
		s->hash = flow_hash(d, 8, 16, 40);
		return true;
	}
	return false;
}

/*
 * A UDP datagram is a candidate when its length field matches the packet and it
 * carries data; IPv6 needs a checksum (0 is invalid there: the kernel drops it).
 */
static void seg_parse_udp(const struct pkt *p, struct gro_seg *s, bool cand)
{
	const uint8_t *uh = p->data + s->l3;

	s->kind = SEG_FLOW;
	if (!cand || p->len > OFFLOAD_MAX_PACKET || get_be16(uh + 4) != p->len - s->l3 ||
	    p->len == s->l3 + 8u || (s->ipv == 6 && get_be16(uh + 6) == 0))
		return;
	s->kind = SEG_CAND;
	s->l4 = 8;
	s->payload = (uint16_t)(p->len - s->l3 - 8);
}

/* ip: false for a frame that carries no IP (it belongs to no flow). */
static void seg_parse(const struct pkt *p, struct gro_seg *s, bool ip, bool udp)
{
	const uint8_t *d = p->data;
	uint32_t l4, flags;
	bool cand = false;

	memset(s, 0, sizeof(*s));
	s->next = NO_NEXT;
	if (!ip || !seg_parse_ip(d, p->len, s, &cand, udp))
		return;
	if (s->proto == PROTO_UDP) {
		seg_parse_udp(p, s, cand);
		return;
	}
	s->kind = SEG_FLOW;
	l4 = (uint32_t)(d[s->l3 + 12] >> 4) * 4;
	if (!cand || l4 < 20 || s->l3 + l4 >= p->len || p->len > OFFLOAD_MAX_PACKET)
		return;
	flags = d[s->l3 + 13];
	if ((flags & ~(uint32_t)(TCP_PSH | TCP_ECE)) != TCP_ACK ||
	    !tcp_options_ok(d + s->l3 + 20, l4 - 20))
		return;
	s->kind = SEG_CAND;
	s->l4 = (uint8_t)l4;
	s->payload = (uint16_t)(p->len - s->l3 - l4);
	s->seq = get_be32(d + s->l3 + 4);
}

static bool flow_equal(const struct gro_work *w, uint32_t a, uint32_t b)
{
	const struct gro_seg *sa = &w->s[a], *sb = &w->s[b];
	const uint8_t *da = w->p[a]->data, *db = w->p[b]->data;

	if (sa->hash != sb->hash || sa->ipv != sb->ipv || sa->proto != sb->proto ||
	    sa->link != sb->link)
		return false;
	/* Frames of one flow merge only with the same addresses and VLAN tag. */
	if (sa->link && memcmp(da - sa->link, db - sb->link, sa->link))
		return false;
	if (sa->ipv == 4 ? memcmp(da + 12, db + 12, 8) : memcmp(da + 8, db + 8, 32))
		return false;
	return memcmp(da + sa->l3, db + sb->l3, 4) == 0;
}

static bool ip_fields_match(const struct gro_group *g, const uint8_t *h, const uint8_t *d,
			    uint8_t ipv)
{
	if (ipv == 6)
		return memcmp(h, d, 4) == 0 && h[7] == d[7];
	if (h[1] != d[1] || h[6] != d[6] || h[8] != d[8])
		return false;
	/* Without DF the ID may matter for fragments on the way: keep the kernel's numbering. */
	return (h[6] & IPV4_DF) || get_be16(d + 4) == (uint16_t)(get_be16(h + 4) + g->count);
}

static bool tcp_fields_match(const uint8_t *th, const uint8_t *td, uint32_t l4)
{
	/* Acknowledgement, flags but PSH, window, urgent pointer, options. */
	return memcmp(th + 8, td + 8, 4) == 0 && (th[13] & ~TCP_PSH) == (td[13] & ~TCP_PSH) &&
	       memcmp(th + 14, td + 14, 2) == 0 && memcmp(th + 18, td + 18, 2) == 0 &&
	       memcmp(th + 20, td + 20, l4 - 20) == 0;
}

static bool can_merge(const struct gro_work *w, const struct gro_group *g, uint32_t j)
{
	const struct gro_seg *hs = &w->s[g->head], *js = &w->s[j];
	const uint8_t *hd = w->p[g->head]->data, *jd = w->p[j]->data;

	if (js->payload > g->gso_size || js->l4 != hs->l4 || g->len + js->payload > w->max_len)
		return false;
	/* The kernel refuses UDP_L4 packets of more datagrams than UDP_MAX_SEGMENTS. */
	if (hs->proto == PROTO_UDP)
		return g->count < GRO_UDP_MAX_SEGS && ip_fields_match(g, hd, jd, hs->ipv);
	return js->seq == g->next_seq && ip_fields_match(g, hd, jd, hs->ipv) &&
	       tcp_fields_match(hd + hs->l3, jd + js->l3, js->l4);
}

static uint32_t l4_pseudo(const uint8_t *d, uint8_t ipv, uint8_t proto, uint32_t l4len)
{
	if (ipv == 4)
		return csum_ipv4_pseudo(d + 12, d + 16, proto, (uint16_t)l4len);
	return csum_ipv6_pseudo(d + 8, d + 24, proto, l4len);
}

/* UDP over IPv4 may go without a checksum (0): there is nothing to verify. */
static bool l4_csum_ok(const struct pkt *p, const struct gro_seg *s)
{
	uint32_t l4len = p->len - s->l3;

	if (s->proto == PROTO_UDP && s->ipv == 4 && get_be16(p->data + s->l3 + 6) == 0)
		return true;
	return csum_fold(csum_partial(p->data + s->l3, l4len,
				      l4_pseudo(p->data, s->ipv, s->proto, l4len))) == 0;
}

static bool csum_good(struct gro_work *w, uint32_t i, struct offload_stats *st)
{
	struct gro_seg *s = &w->s[i];
	const struct pkt *p = w->p[i];
	bool ok;

	if (w->trusted)
		return true;
	if (s->csum == CSUM_UNKNOWN) {
		ok = (s->ipv == 6 || csum_ipv4_header(p->data, s->l3) == 0) && l4_csum_ok(p, s);
		s->csum = ok ? CSUM_GOOD : CSUM_BAD;
		if (!ok)
			st->gro_bad_csum++;
	}
	return s->csum == CSUM_GOOD;
}

static struct gro_group *group_new(struct gro_work *w, uint32_t j)
{
	struct gro_group *g = &w->g[w->ngroups++];
	const struct gro_seg *s = &w->s[j];

	g->head = g->last = (uint8_t)j;
	g->count = 1;
	g->open = s->kind == SEG_CAND && s->csum != CSUM_BAD;
	g->gso_size = s->payload;
	g->next_seq = s->seq + s->payload;
	g->len = w->p[j]->len;
	return g;
}

static void group_add(struct gro_work *w, struct gro_group *g, uint32_t j)
{
	const struct gro_seg *s = &w->s[j];

	w->s[g->last].next = (uint8_t)j;
	g->last = (uint8_t)j;
	g->count++;
	g->next_seq += s->payload;
	g->len += s->payload;
	/* PSH or a short segment is where the sender's write ended: nothing follows it. */
	if (s->payload < g->gso_size ||
	    (s->proto == PROTO_TCP && (w->p[j]->data[s->l3 + 13] & TCP_PSH)))
		g->open = false;
}

static struct gro_group *open_group_of(struct gro_work *w, uint32_t j)
{
	for (uint32_t k = w->ngroups; k-- > 0;) {
		struct gro_group *g = &w->g[k];

		if (g->open && flow_equal(w, g->head, j))
			return g;
	}
	return NULL;
}

/* The first pass: which packets go together. Nothing is copied or changed yet. */
static void group_packets(struct gro_work *w, uint32_t n, struct offload_stats *st)
{
	for (uint32_t j = 0; j < n; j++) {
		struct gro_seg *s = &w->s[j];
		struct gro_group *g;

		uint32_t link = 0;

		if (w->frames) {
			link = offload_eth_l3_offset(w->p[j]->data, w->p[j]->len);
			pkt_pull(w->p[j], link);
		}
		seg_parse(w->p[j], s, !w->frames || link, w->udp);
		s->link = (uint8_t)link;
		g = s->kind == SEG_OTHER ? NULL : open_group_of(w, j);
		if (g && s->kind == SEG_CAND && can_merge(w, g, j)) {
			if (!csum_good(w, g->head, st)) {
				g->open = false;
			} else if (csum_good(w, j, st)) {
				group_add(w, g, j);
				continue;
			}
		}
		/* Anything else of the flow ends its open group: the flow's order is kept. */
		if (g)
			g->open = false;
		group_new(w, j);
	}
}

/* Passes p on unmerged, its link header back in front, behind a zero vnet header. */
static void emit(struct pkt_vec *v, struct pkt *p, uint32_t link, struct offload_stats *st)
{
	static const struct vnet_hdr none;

	pkt_push(p, link);
	if (!vnet_hdr_push(p, &none)) {
		st->drops[OFFLOAD_DROP_HEADROOM]++;
		pkt_free(p);
		return;
	}
	v->p[v->n++] = p;
}

/* The first segment's headers in d, rewritten for a super-packet of len bytes. */
static void super_fix_headers(uint8_t *d, uint32_t len, const struct gro_seg *hs, bool psh)
{
	uint8_t *th = d + hs->l3;
	uint32_t l4len = len - hs->l3;

	if (hs->ipv == 4) {
		put_be16(d + 2, (uint16_t)len);
		put_be16(d + 10, 0);
		put_be16(d + 10, csum_ipv4_header(d, hs->l3));
	} else {
		put_be16(d + 4, (uint16_t)l4len);
	}
	/* CHECKSUM_PARTIAL: the field holds the folded, not inverted, pseudo-header sum. */
	if (hs->proto == PROTO_UDP) {
		/* The kernel's UDP segmentation swaps this length for each datagram's. */
		put_be16(th + 4, (uint16_t)l4len);
		put_be16(th + 6, (uint16_t)~csum_fold(l4_pseudo(d, hs->ipv, PROTO_UDP, l4len)));
		return;
	}
	if (psh)
		th[13] |= TCP_PSH;
	put_be16(th + 16, (uint16_t)~csum_fold(l4_pseudo(d, hs->ipv, PROTO_TCP, l4len)));
}

static uint8_t super_gso_type(const struct gro_seg *hs)
{
	if (hs->proto == PROTO_UDP)
		return VNET_HDR_GSO_UDP_L4;
	return hs->ipv == 4 ? VNET_HDR_GSO_TCPV4 : VNET_HDR_GSO_TCPV6;
}

static bool super_psh(const struct gro_work *w, const struct gro_group *g)
{
	const struct gro_seg *hs = &w->s[g->head];

	return hs->proto == PROTO_TCP && (w->p[g->last]->data[w->s[g->last].l3 + 13] & TCP_PSH);
}

/*
 * Puts the link header (still in the buffer in front of q's IP header) and the vnet
 * header in front of a super-packet whose first segment's headers are at q->data.
 */
static void super_finish(struct pkt *q, const struct gro_seg *hs, const struct pkt *head,
			 uint16_t gso_size)
{
	uint32_t hdrs = (uint32_t)hs->l3 + hs->l4;
	struct vnet_hdr vh = {
		.flags = VNET_HDR_F_NEEDS_CSUM,
		.gso_type = super_gso_type(hs),
		.hdr_len = (uint16_t)hdrs,
		.gso_size = gso_size,
		.csum_start = hs->l3,
		.csum_offset = hs->proto == PROTO_UDP ? 6 : 16,
	};

	if (hs->link) {
		/* A frame's offsets count from its first byte, the link header included. */
		if (q != head)
			memcpy(pkt_push(q, hs->link), head->data - hs->link, hs->link);
		else
			pkt_push(q, hs->link);
		vh.csum_start = (uint16_t)(vh.csum_start + hs->link);
		vh.hdr_len = (uint16_t)(vh.hdr_len + hs->link);
	}
	/* The room is there: a big buffer's PKT_HEADROOM, or checked by super_chain. */
	vnet_hdr_push(q, &vh);
}

/* Copies the group into one big buffer; NULL when the pool is empty. */
static struct pkt *super_build(struct gro_work *w, const struct gro_group *g, struct pkt_pool *big)
{
	const struct gro_seg *hs = &w->s[g->head];
	const struct pkt *head = w->p[g->head];
	uint32_t hdrs = (uint32_t)hs->l3 + hs->l4, len = head->len;
	struct pkt *q;

	if (!big || !(q = pkt_alloc(big)))
		return NULL;
	memcpy(q->data, head->data, head->len);
	for (uint32_t m = hs->next; m != NO_NEXT; m = w->s[m].next) {
		memcpy(q->data + len, w->p[m]->data + hdrs, w->s[m].payload);
		len += w->s[m].payload;
	}
	q->len = len;
	super_fix_headers(q->data, len, hs, super_psh(w, g));
	super_finish(q, hs, head, g->gso_size);
	q->port = head->port;
	q->flags = head->flags;
	for (uint32_t m = g->head; m != NO_NEXT; m = w->s[m].next)
		pkt_free(w->p[m]);
	return q;
}

/*
 * GRO_CHAIN: the group stays where it is. The first segment carries the super-packet's
 * headers and the others, their headers pulled off, hang from it as frags, for one
 * gathering write. NULL (nothing changed) when the first's buffer has no room for the
 * write's iovecs.
 */
static struct pkt *super_chain(struct gro_work *w, const struct gro_group *g)
{
	const struct gro_seg *hs = &w->s[g->head];
	struct pkt *head = w->p[g->head], **link = &head->frags;
	uint32_t hdrs = (uint32_t)hs->l3 + hs->l4, len = head->len;
	bool psh = super_psh(w, g); /* read before the last segment's headers are pulled */

	if (!pkt_chain_room(head, g->count - 1u) ||
	    pkt_headroom(head) < (uint32_t)hs->link + VNET_HDR_LEN)
		return NULL;
	for (uint32_t m = hs->next; m != NO_NEXT; m = w->s[m].next) {
		struct pkt *f = w->p[m];

		pkt_pull(f, hdrs);
		pkt_trim(f, w->s[m].payload);
		len += f->len;
		*link = f;
		link = &f->next;
	}
	*link = NULL;
	super_fix_headers(head->data, len, hs, psh);
	super_finish(head, hs, head, g->gso_size);
	return head;
}

static void group_emit(struct gro_work *w, const struct gro_group *g, struct pkt_pool *big,
		       struct pkt_vec *v, struct offload_stats *st)
{
	struct pkt *q;
	uint32_t m;

	if (g->count == 1) {
		emit(v, w->p[g->head], w->s[g->head].link, st);
		return;
	}
	q = w->chain ? super_chain(w, g) : NULL;
	if (q)
		st->gro_chained++;
	else
		q = super_build(w, g, big);
	if (!q) {
		st->gro_nomem++;
		for (m = g->head; m != NO_NEXT; m = w->s[m].next)
			emit(v, w->p[m], w->s[m].link, st);
		return;
	}
	v->p[v->n++] = q;
	st->gro_super++;
	st->gro_merged += g->count;
	if (w->s[g->head].proto == PROTO_UDP)
		st->gro_super_udp++;
}

void gro_coalesce(struct pkt_vec *v, struct pkt_pool *big, struct offload_stats *st, unsigned flags)
{
	struct gro_work w;
	uint32_t n = v->n;

	w.frames = flags & GRO_FRAMES;
	w.udp = flags & GRO_UDP;
	w.trusted = flags & GRO_TRUSTED;
	w.chain = flags & GRO_CHAIN;
	w.ngroups = 0;
	w.max_len = 0;
	if (big && big->bufsize > PKT_HEADROOM) {
		w.max_len = big->bufsize - PKT_HEADROOM;
		if (w.max_len > OFFLOAD_MAX_PACKET)
			w.max_len = OFFLOAD_MAX_PACKET;
	}
	memcpy(w.p, v->p, n * sizeof(v->p[0]));
	st->gro_in += n;
	group_packets(&w, n, st);
	/* In place: every group emits at most as many packets as it holds. */
	v->n = 0;
	for (uint32_t k = 0; k < w.ngroups; k++)
		group_emit(&w, &w.g[k], big, v, st);
	st->gro_out += v->n;
}
