/* SPDX-License-Identifier: MIT */
/*
 * The epoll backend, for where io_uring is refused. Level-triggered EPOLLIN on
 * nonblocking fds; a readable UDP socket is drained with one recvmmsg of up to
 * rx_depth packets, a TUN/TAP with a read loop; sends are one sendmmsg per
 * vector. The deadline is the epoll_wait timeout. epoll_event.data holds the
 * object pointer with its kind in the low bits; closed objects are freed only
 * at the end of the iteration, so events already returned never dangle.
 */
#include "io/io_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { EP_SRC = 1, EP_WATCH = 2 };

#define EP_EVENTS 64

struct ep_backend {
	int epfd;
	struct epoll_event ev[EP_EVENTS];
};

static inline struct ep_backend *ep(struct io_loop *loop)
{
	return loop->be;
}

static int ep_ctl(struct io_loop *loop, int op, int fd, uint32_t events, const void *obj,
		  unsigned kind)
{
	struct epoll_event ev = {.events = events};

	ev.data.u64 = (uint64_t)(uintptr_t)obj | kind;
	if (epoll_ctl(ep(loop)->epfd, op, fd, &ev))
		return -errno;
	return 0;
}

/* Pool empty: stop listening until packets come back (else epoll would spin). */
static void ep_starve(struct io_loop *loop, struct io_src *src)
{
	src->stats.rx_nobuf++;
	if (!ep_ctl(loop, EPOLL_CTL_MOD, src->fd, 0, src, EP_SRC))
		src->starved = true;
}

static uint32_t ep_batch(const struct io_src *src)
{
	return src->depth < PKT_VEC_MAX ? src->depth : PKT_VEC_MAX;
}

static void ep_udp_read(struct io_loop *loop, struct io_src *src)
{
	struct io_mmsg_batch b;
	struct pkt *pk[PKT_VEC_MAX];
	uint32_t n, want = ep_batch(src);
	int got;

	for (n = 0; n < want; n++) {
		pk[n] = pkt_alloc(loop->pool);
		if (!pk[n])
			break;
		io_mmsg_iov(&b, n, pk[n]->data, src->cap);
		io_mmsg_init(&b, n, n, 1, sizeof(b.names[n]));
	}
	if (!n) {
		ep_starve(loop, src);
		return;
	}
	/* MSG_TRUNC: msg_len is the datagram's full size, so truncation shows. */
	got = recvmmsg(src->fd, b.mm, n, MSG_DONTWAIT | MSG_TRUNC, NULL);
	if (got < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			src->stats.rx_errors++;
		got = 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pkt *p = pk[i];

		if (i >= (uint32_t)got) {
			pkt_free(p);
		} else if (b.mm[i].msg_len > src->cap) {
			src->stats.rx_truncated++;
			pkt_free(p);
		} else {
			p->len = b.mm[i].msg_len;
			io_endpoint_from_sockaddr(&p->src, &b.names[i]);
			io_udp_received(src, p, io_pktinfo_parse(&b.mm[i].msg_hdr, &p->src));
		}
	}
}

static void ep_tun_read(struct io_loop *loop, struct io_src *src)
{
	uint32_t want = ep_batch(src);

	for (uint32_t i = 0; i < want; i++) {
		struct pkt *p = pkt_alloc(loop->pool);
		ssize_t r;

		if (!p) {
			ep_starve(loop, src);
			return;
		}
		r = read(src->fd, p->data, src->cap);
		if (r < 0) {
			int err = -errno;

			pkt_free(p);
			if (err == -EAGAIN || err == -EWOULDBLOCK || err == -EINTR)
				return;
			src->stats.rx_errors++;
			if (io_src_fatal(src, err)) {
				/* EPOLLERR is reported whatever the mask: remove the fd. */
				epoll_ctl(ep(loop)->epfd, EPOLL_CTL_DEL, src->fd, NULL);
				io_src_fail(src, err);
			}
			return;
		}
		if ((uint64_t)r > src->cap) {
			src->stats.rx_truncated++;
			pkt_free(p);
			continue;
		}
		p->len = (uint32_t)r;
		io_src_received(src, p);
	}
}

static void ep_tun_write(struct io_src *src, struct pkt_vec *v)
{
	for (uint32_t i = 0; i < v->n; i++) {
		struct pkt *p = v->p[i];
		struct iovec *chain;
		uint32_t nchain;
		ssize_t r;

		if (!io_src_write_iov(src, p, &chain, &nchain))
			continue;
		r = chain ? writev(src->fd, chain, (int)nchain) : write(src->fd, p->data, p->len);
		if (r >= 0) {
			src->stats.tx_packets++;
			src->stats.tx_bytes += (uint64_t)r;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			src->stats.tx_dropped++;
		} else {
			src->stats.tx_errors++;
		}
		pkt_free(p);
	}
}

static void ep_send(struct io_loop *loop, struct io_src *src, struct pkt_vec *v)
{
	(void)loop;
	if (src->kind == IO_SRC_UDP)
		io_udp_sendmmsg(src, v);
	else
		ep_tun_write(src, v);
}

static void ep_dispatch(struct io_loop *loop, const struct epoll_event *ev)
{
	void *obj = (void *)(uintptr_t)(ev->data.u64 & ~(uint64_t)7);

	if ((ev->data.u64 & 7) == EP_WATCH) {
		struct io_watch *w = obj;

		if (!w->dead)
			w->cb(w->ctx, w->fd, ev->events);
		return;
	}
	struct io_src *src = obj;

	if (src->dead || src->starved || src->failed)
		return;
	if (src->kind == IO_SRC_UDP)
		ep_udp_read(loop, src);
	else
		ep_tun_read(loop, src);
}

static int ep_wait(struct io_loop *loop)
{
	struct ep_backend *e = ep(loop);
	int n;

	if (loop->pool->nfree) {
		for (struct io_src *s = loop->srcs; s; s = s->next) {
			if (s->starved && !s->dead && !s->failed &&
			    !ep_ctl(loop, EPOLL_CTL_MOD, s->fd, EPOLLIN, s, EP_SRC))
				s->starved = false;
		}
	}
	n = epoll_wait(e->epfd, e->ev, EP_EVENTS, io_deadline_timeout_ms(loop));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++)
		ep_dispatch(loop, &e->ev[i]);
	return 0;
}

static int ep_src_add(struct io_loop *loop, struct io_src *src)
{
	if ((uintptr_t)src & 7)
		return -EINVAL;
	return ep_ctl(loop, EPOLL_CTL_ADD, src->fd, EPOLLIN, src, EP_SRC);
}

static void ep_src_del(struct io_loop *loop, struct io_src *src)
{
	epoll_ctl(ep(loop)->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	close(src->fd);
}

static int ep_src_set_fd(struct io_loop *loop, struct io_src *src, int fd)
{
	int err = ep_ctl(loop, EPOLL_CTL_ADD, fd, EPOLLIN, src, EP_SRC);

	if (err)
		return err;
	epoll_ctl(ep(loop)->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	close(src->fd);
	src->fd = fd;
	src->starved = false;
	return 0;
}

static int ep_watch_add(struct io_loop *loop, struct io_watch *w)
{
	if ((uintptr_t)w & 7)
		return -EINVAL;
	return ep_ctl(loop, EPOLL_CTL_ADD, w->fd, EPOLLIN, w, EP_WATCH);
}

static void ep_watch_del(struct io_loop *loop, struct io_watch *w)
{
	/* Fails harmlessly when the owner already closed the fd. */
	epoll_ctl(ep(loop)->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

static int ep_init(struct io_loop *loop, const char **why)
{
	struct ep_backend *e = calloc(1, sizeof(*e));

	(void)why;
	if (!e)
		return -ENOMEM;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0) {
		int err = -errno;

		free(e);
		return err;
	}
	loop->be = e;
	return 0;
}

static void ep_fini(struct io_loop *loop)
{
	struct ep_backend *e = ep(loop);

	close(e->epfd);
	free(e);
	loop->be = NULL;
}

const struct io_backend_ops io_epoll_ops = {
	.name = "epoll",
	.type = IO_EPOLL,
	.init = ep_init,
	.fini = ep_fini,
	.src_add = ep_src_add,
	.src_del = ep_src_del,
	.src_set_fd = ep_src_set_fd,
	.send = ep_send,
	.watch_add = ep_watch_add,
	.watch_del = ep_watch_del,
	.wait = ep_wait,
};
