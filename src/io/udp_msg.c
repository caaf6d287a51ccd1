/* SPDX-License-Identifier: MIT */
/*
 * A UDP datagram's metadata, whatever the backend: the peer's address in and out of
 * sockaddrs (IPv4-mapped on the dual-stack socket), the address it reached us at
 * (PKTINFO, so replies leave from it), and UDP GSO and GRO, both as control messages and
 * as runs of packets: which packets go out as one GSO send, how one GRO receive becomes
 * its datagrams.
 */
#include "io/io_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

void io_udp_received(struct io_src *src, struct pkt *p, uint16_t gro_size)
{
	struct pkt *segs[IO_GSO_MAX_SEGS * 2];
	uint32_t len = p->len, n = 0;

	if (!gro_size || len <= gro_size) {
		io_src_received(src, p);
		return;
	}
	/*
	 * A GRO'd receive holds several datagrams of gro_size (the last may be
	 * shorter): the first stays in p, the others are copied into their own
	 * packets so every stage still sees one datagram per packet. All copies are
	 * made before p is handed on: delivery may consume p at once.
	 */
	for (uint32_t off = gro_size; off < len && n < sizeof(segs) / sizeof(segs[0]);
	     off += gro_size) {
		uint32_t seg = len - off < gro_size ? len - off : gro_size;
		struct pkt *q = pkt_alloc(src->loop->pool);

		if (!q) {
			src->stats.rx_nobuf++;
			break;
		}
		memcpy(q->data, p->data + off, seg);
		q->len = seg;
		q->src = p->src;
		segs[n++] = q;
	}
	src->stats.rx_coalesced++;
	p->len = gro_size;
	io_src_received(src, p);
	for (uint32_t i = 0; i < n; i++)
		io_src_received(src, segs[i]);
}

void io_endpoint_from_sockaddr(struct vw_endpoint *ep, const void *sa)
{
	struct sockaddr_in6 in6;
	sa_family_t family;

	memcpy(&family, (const uint8_t *)sa + offsetof(struct sockaddr, sa_family), sizeof(family));
	memset(ep, 0, sizeof(*ep));
	if (family == AF_INET) {
		memcpy(&ep->in4, sa, sizeof(ep->in4));
		return;
	}
	if (family != AF_INET6)
		return;
	memcpy(&in6, sa, sizeof(in6));
	if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
		ep->in4.sin_family = AF_INET;
		ep->in4.sin_port = in6.sin6_port;
		memcpy(&ep->in4.sin_addr, &in6.sin6_addr.s6_addr[12], 4);
	} else {
		ep->in6 = in6;
	}
}

uint16_t io_pktinfo_parse(const struct msghdr *msg, struct vw_endpoint *ep)
{
	uint16_t gro_size = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr)) {
				ep->local.family = AF_INET;
				memcpy(ep->local.bytes, &pi.ipi6_addr.s6_addr[12], 4);
			} else {
				ep->local.family = AF_INET6;
				memcpy(ep->local.bytes, &pi.ipi6_addr, 16);
			}
			ep->local_ifindex = (uint32_t)pi.ipi6_ifindex;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			/* ipi_addr is the header's destination: the address the peer used. */
			ep->local.family = AF_INET;
			memcpy(ep->local.bytes, &pi.ipi_addr, 4);
			ep->local_ifindex = (uint32_t)pi.ipi_ifindex;
		} else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int size;

			memcpy(&size, CMSG_DATA(c), sizeof(size));
			if (size > 0 && size <= 65535)
				gro_size = (uint16_t)size;
		}
	}
	return gro_size;
}

/* Appends IPV6_PKTINFO or IP_PKTINFO for dst->local; false when there is none. */
static bool cmsg_add_source(struct msghdr *m, struct cmsghdr **c, const struct vw_endpoint *dst,
			    int sock_family)
{
	if (!dst->local.family || dst->local.family != dst->sa.sa_family)
		return false;
	if (sock_family == AF_INET6) {
		struct in6_pktinfo pi = {0};

		if (dst->local.family == AF_INET) {
			pi.ipi6_addr.s6_addr[10] = 0xff;
			pi.ipi6_addr.s6_addr[11] = 0xff;
			memcpy(&pi.ipi6_addr.s6_addr[12], dst->local.bytes, 4);
		} else {
			memcpy(&pi.ipi6_addr, dst->local.bytes, 16);
			/* Only a link-local source needs its interface; a global one may move. */
			if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				pi.ipi6_ifindex = (int)dst->local_ifindex;
		}
		(*c)->cmsg_level = IPPROTO_IPV6;
		(*c)->cmsg_type = IPV6_PKTINFO;
		(*c)->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(*c), &pi, sizeof(pi));
	} else if (sock_family == AF_INET && dst->local.family == AF_INET) {
		struct in_pktinfo pi = {0};

		memcpy(&pi.ipi_spec_dst, dst->local.bytes, 4);
		(*c)->cmsg_level = IPPROTO_IP;
		(*c)->cmsg_type = IP_PKTINFO;
		(*c)->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(*c), &pi, sizeof(pi));
	} else {
		return false;
	}
	*c = CMSG_NXTHDR(m, *c);
	return true;
}

size_t io_udp_cmsg_build(const struct vw_endpoint *dst, int sock_family, uint16_t gso_size,
			 bool with_src, void *buf, size_t cap)
{
	struct msghdr m = {.msg_control = buf, .msg_controllen = cap};
	struct cmsghdr *c;
	size_t len = 0;

	if (cap < CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t)))
		return 0;
	memset(buf, 0, cap);
	c = CMSG_FIRSTHDR(&m);
	if (with_src && cmsg_add_source(&m, &c, dst, sock_family))
		len += CMSG_SPACE(dst->local.family == AF_INET && sock_family == AF_INET
					  ? sizeof(struct in_pktinfo)
					  : sizeof(struct in6_pktinfo));
	if (gso_size && c) {
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(c), &gso_size, sizeof(gso_size));
		len += CMSG_SPACE(sizeof(uint16_t));
	}
	return len;
}

static bool same_route(const struct vw_endpoint *a, const struct vw_endpoint *b)
{
	return vw_endpoint_equal(a, b) && a->local.family == b->local.family &&
	       !memcmp(a->local.bytes, b->local.bytes, sizeof(a->local.bytes));
}

uint32_t io_gso_run(const struct pkt_vec *v, uint32_t i)
{
	const struct pkt *a = v->p[i];
	uint32_t n = 1, total = a->len;

	while (i + n < v->n && n < IO_GSO_MAX_SEGS) {
		const struct pkt *b = v->p[i + n];

		if (b->len > a->len || total + b->len > IO_GSO_MAX_BYTES ||
		    !same_route(&a->dst, &b->dst))
			break;
		total += b->len;
		n++;
		if (b->len < a->len)
			break;
	}
	return n;
}

bool io_endpoint_to_sockaddr(const struct vw_endpoint *ep, int family, struct sockaddr_in6 *out,
			     unsigned int *len)
{
	memset(out, 0, sizeof(*out));
	if (ep->sa.sa_family == AF_INET && family == AF_INET) {
		memcpy(out, &ep->in4, sizeof(ep->in4));
		*len = sizeof(ep->in4);
		return true;
	}
	if (ep->sa.sa_family == AF_INET && family == AF_INET6) {
		out->sin6_family = AF_INET6;
		out->sin6_port = ep->in4.sin_port;
		out->sin6_addr.s6_addr[10] = 0xff;
		out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&out->sin6_addr.s6_addr[12], &ep->in4.sin_addr, 4);
		*len = sizeof(*out);
		return true;
	}
	if (ep->sa.sa_family == AF_INET6 && family == AF_INET6) {
		*out = ep->in6;
		*len = sizeof(*out);
		return true;
	}
	if (ep->sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&ep->in6.sin6_addr)) {
		struct sockaddr_in in4 = {.sin_family = AF_INET, .sin_port = ep->in6.sin6_port};

		memcpy(&in4.sin_addr, &ep->in6.sin6_addr.s6_addr[12], 4);
		memcpy(out, &in4, sizeof(in4));
		*len = sizeof(in4);
		return true;
	}
	return false;
}

/* Message m's control messages for a run of `run` packets from p: GSO when run > 1. */
static size_t batch_cmsg(struct io_mmsg_batch *b, uint32_t m, const struct io_src *src,
			 const struct pkt *p, uint32_t run, bool with_src)
{
	return io_udp_cmsg_build(&p->dst, src->family, run > 1 ? (uint16_t)p->len : 0, with_src,
				 b->ctl[m].buf, sizeof(b->ctl[m].buf));
}

void io_udp_sendmmsg(struct io_src *src, struct pkt_vec *v)
{
	struct io_mmsg_batch b;
	struct pkt_vec ok;
	uint32_t first[PKT_VEC_MAX], count[PKT_VEC_MAX], nmsg = 0, sent = 0;

	/* Packets without a usable destination go first; the rest keep their order. */
	pkt_vec_init(&ok);
	for (uint32_t i = 0; i < v->n; i++) {
		unsigned int len;

		if (!io_endpoint_to_sockaddr(&v->p[i]->dst, src->family, &b.names[0], &len)) {
			src->stats.tx_dropped++;
			pkt_free(v->p[i]);
			continue;
		}
		pkt_vec_add(&ok, v->p[i]);
	}
	/* One message per packet, or per GSO run: iovecs in order, so a run's are adjacent. */
	for (uint32_t i = 0; i < ok.n; i += count[nmsg++]) {
		struct pkt *p = ok.p[i];
		uint32_t run = src->gso ? io_gso_run(&ok, i) : 1;
		unsigned int len;

		for (uint32_t k = 0; k < run; k++)
			io_mmsg_iov(&b, i + k, ok.p[i + k]->data, ok.p[i + k]->len);
		io_endpoint_to_sockaddr(&p->dst, src->family, &b.names[nmsg], &len);
		io_mmsg_init(&b, nmsg, i, run, len);
		io_mmsg_control(&b, nmsg, batch_cmsg(&b, nmsg, src, p, run, true));
		first[nmsg] = i;
		count[nmsg] = run;
	}
	while (sent < nmsg) {
		int r = sendmmsg(src->fd, b.mm + sent, nmsg - sent, MSG_DONTWAIT);

		if (r > 0) {
			for (uint32_t m = sent; m < sent + (uint32_t)r; m++) {
				src->stats.tx_packets += count[m];
				for (uint32_t k = 0; k < count[m]; k++)
					src->stats.tx_bytes += ok.p[first[m] + k]->len;
			}
			sent += (uint32_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Socket buffer full: drop rather than block the loop. */
			for (uint32_t m = sent; m < nmsg; m++)
				src->stats.tx_dropped += count[m];
			break;
		} else {
			size_t again =
				batch_cmsg(&b, sent, src, ok.p[first[sent]], count[sent], false);

			if (again < b.mm[sent].msg_hdr.msg_controllen) {
				/* The remembered source is gone: let the kernel pick one. */
				io_mmsg_control(&b, sent, again);
				src->stats.tx_source_retries++;
				continue;
			}
			/* sendmmsg reports an error on the first message it could not send. */
			src->stats.tx_errors += count[sent];
			sent++;
		}
	}
	pkt_vec_free(&ok);
	v->n = 0;
}
