/* SPDX-License-Identifier: MIT */
#include "io/io_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define IO_DEFAULT_RX_DEPTH   32
#define IO_MAX_RX_DEPTH	      1024
#define IO_DEFAULT_SQ_ENTRIES 256

static int loop_init_backend(struct io_loop *loop, enum io_backend backend)
{
	const char *why = NULL;
	int err;

	if (backend != IO_EPOLL) {
		loop->ops = &io_uring_ops;
		err = loop->ops->init(loop, &why);
		if (!err || backend == IO_URING)
			return err;
		/* The one line the fallback promises; Docker and qemu-user land here. */
		vw_warn("io_uring unavailable (%s): using epoll", why ? why : strerror(-err));
	}
	loop->ops = &io_epoll_ops;
	return loop->ops->init(loop, &why);
}

struct io_loop *io_loop_new(enum io_backend backend, struct pkt_pool *pool,
			    const struct io_loop_opts *opts)
{
	struct io_loop *loop;
	int err;

	if (!pool || !pool->count || pool->bufsize <= PKT_HEADROOM + PKT_TAILROOM) {
		errno = EINVAL;
		return NULL;
	}
	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	loop->pool = pool;
	loop->rx_depth = opts && opts->rx_depth ? opts->rx_depth : IO_DEFAULT_RX_DEPTH;
	if (loop->rx_depth > IO_MAX_RX_DEPTH)
		loop->rx_depth = IO_MAX_RX_DEPTH;
	loop->sq_entries = opts && opts->sq_entries ? opts->sq_entries : IO_DEFAULT_SQ_ENTRIES;
	loop->no_multishot = opts && opts->no_multishot;
	loop->one_thread = opts && opts->one_thread;
	loop->deadline = IO_NO_DEADLINE;
	loop->sigfd = -1;
	err = loop_init_backend(loop, backend);
	if (err) {
		free(loop);
		errno = -err;
		return NULL;
	}
	return loop;
}

static void loop_free_src(struct io_src *src)
{
	pkt_vec_free(&src->rx);
	free(src->slots);
	free(src);
}

/* Frees what was closed and is no longer referred to by the kernel. */
static void loop_reap(struct io_loop *loop)
{
	struct io_src **sp = &loop->srcs;
	struct io_watch **wp = &loop->watches;

	while (*sp) {
		struct io_src *s = *sp;

		if (s->dead && !s->inflight && !s->pending) {
			*sp = s->next;
			loop_free_src(s);
		} else {
			sp = &s->next;
		}
	}
	while (*wp) {
		struct io_watch *w = *wp;

		if (w->dead && !w->armed) {
			*wp = w->next;
			free(w);
		} else {
			wp = &w->next;
		}
	}
}

static void loop_release_signals(struct io_loop *loop)
{
	struct signalfd_siginfo si;

	if (loop->sigfd < 0)
		return;
	io_unwatch_fd(loop, loop->sigfd);
	/* Consume what is pending so that unblocking does not deliver it. */
	while (read(loop->sigfd, &si, sizeof(si)) == sizeof(si))
		;
	close(loop->sigfd);
	loop->sigfd = -1;
	sigprocmask(SIG_SETMASK, &loop->sigmask_old, NULL);
}

void io_loop_free(struct io_loop *loop)
{
	if (!loop)
		return;
	loop_release_signals(loop);
	for (struct io_src *s = loop->srcs; s; s = s->next)
		io_src_close_common(s);
	for (struct io_watch *w = loop->watches; w; w = w->next) {
		if (!w->dead) {
			w->dead = true;
			loop->ops->watch_del(loop, w);
		}
	}
	loop->ops->fini(loop);
	for (struct io_src *s = loop->srcs; s; s = s->next) {
		if (s->inflight)
			vw_err("io: %u operations still in flight at exit", s->inflight);
		s->inflight = 0;
		s->pending = false;
	}
	for (struct io_watch *w = loop->watches; w; w = w->next)
		w->armed = false;
	loop->pending = NULL;
	loop_reap(loop);
	free(loop);
}

enum io_backend io_loop_backend(const struct io_loop *loop)
{
	return loop->ops->type;
}

const char *io_loop_backend_name(const struct io_loop *loop)
{
	return loop->ops->name;
}

bool io_loop_one_thread(const struct io_loop *loop)
{
	return loop->one_thread_on;
}

bool io_backend_parse(const char *s, enum io_backend *out)
{
	if (!strcasecmp(s, "auto"))
		*out = IO_AUTO;
	else if (!strcasecmp(s, "uring") || !strcasecmp(s, "io_uring"))
		*out = IO_URING;
	else if (!strcasecmp(s, "epoll"))
		*out = IO_EPOLL;
	else
		return false;
	return true;
}

static void loop_check_deadline(struct io_loop *loop)
{
	uint64_t now;

	if (loop->deadline == IO_NO_DEADLINE)
		return;
	now = vw_clock_mono_ns();
	if (now < loop->deadline)
		return;
	loop->deadline = IO_NO_DEADLINE;
	if (loop->deadline_cb)
		loop->deadline_cb(loop->deadline_ctx, now);
}

int io_loop_run(struct io_loop *loop)
{
	int err = 0;

	while (!loop->stop) {
		err = loop->ops->wait(loop);
		if (err)
			break;
		io_deliver_pending(loop);
		loop_check_deadline(loop);
		loop_reap(loop);
	}
	loop->stop = false;
	return err;
}

void io_loop_stop(struct io_loop *loop)
{
	loop->stop = true;
}

void io_loop_on_deadline(struct io_loop *loop, io_deadline_cb cb, void *ctx)
{
	loop->deadline_cb = cb;
	loop->deadline_ctx = ctx;
}

void io_loop_set_deadline(struct io_loop *loop, uint64_t ns)
{
	loop->deadline = ns;
}

uint64_t io_loop_deadline(const struct io_loop *loop)
{
	return loop->deadline;
}

int io_deadline_timeout_ms(const struct io_loop *loop)
{
	uint64_t now, ms;

	if (loop->deadline == IO_NO_DEADLINE)
		return -1;
	now = vw_clock_mono_ns();
	if (now >= loop->deadline)
		return 0;
	/* Rounded up: waking early would only cost another wait. */
	ms = (loop->deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* Watches */

int io_watch_fd(struct io_loop *loop, int fd, io_fd_cb cb, void *ctx)
{
	struct io_watch *w;
	int err;

	if (fd < 0 || !cb)
		return -EINVAL;
	for (w = loop->watches; w; w = w->next)
		if (!w->dead && w->fd == fd)
			return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->cb = cb;
	w->ctx = ctx;
	err = loop->ops->watch_add(loop, w);
	if (err) {
		free(w);
		return err;
	}
	w->next = loop->watches;
	loop->watches = w;
	return 0;
}

void io_unwatch_fd(struct io_loop *loop, int fd)
{
	for (struct io_watch *w = loop->watches; w; w = w->next) {
		if (!w->dead && w->fd == fd) {
			w->dead = true;
			loop->ops->watch_del(loop, w);
			return;
		}
	}
}

/* Signals */

static void loop_signal_cb(void *ctx, int fd, uint32_t events)
{
	struct io_loop *loop = ctx;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		int signo = (int)si.ssi_signo;

		if (loop->sig_cb)
			loop->sig_cb(loop->sig_ctx, signo);
		if (signo == SIGTERM || signo == SIGINT)
			io_loop_stop(loop);
	}
}

int io_loop_catch_signals(struct io_loop *loop, io_signal_cb cb, void *ctx)
{
	sigset_t set;
	int fd, err;

	loop->sig_cb = cb;
	loop->sig_ctx = ctx;
	if (loop->sigfd >= 0)
		return 0;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &loop->sigmask_old))
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		sigprocmask(SIG_SETMASK, &loop->sigmask_old, NULL);
		return err;
	}
	err = io_watch_fd(loop, fd, loop_signal_cb, loop);
	if (err) {
		close(fd);
		sigprocmask(SIG_SETMASK, &loop->sigmask_old, NULL);
		return err;
	}
	loop->sigfd = fd;
	return 0;
}

/* Sources */

int io_src_open_common(struct io_loop *loop, struct io_src *src)
{
	int err;

	src->loop = loop;
	src->cap = loop->pool->bufsize - PKT_HEADROOM - PKT_TAILROOM;
	src->depth = loop->rx_depth;
	err = loop->ops->src_add(loop, src);
	if (err)
		return err;
	src->next = loop->srcs;
	loop->srcs = src;
	return 0;
}

void io_src_send_common(struct io_loop *loop, struct io_src *src, struct pkt_vec *v)
{
	uint32_t k = 0;

	if (src->dead) {
		src->stats.tx_dropped += v->n;
		pkt_vec_free(v);
		return;
	}
	for (uint32_t i = 0; i < v->n; i++) {
		struct pkt *p = v->p[i];

		if (io_pkt_in_pool(loop, p)) {
			v->p[k++] = p;
		} else {
			/* The per-operation state is indexed by pool position. */
			src->stats.tx_dropped++;
			pkt_free(p);
		}
	}
	v->n = k;
	if (k)
		loop->ops->send(loop, src, v);
	v->n = 0;
}

bool io_src_write_iov(struct io_src *src, struct pkt *p, struct iovec **iov, uint32_t *n)
{
	*iov = NULL;
	*n = 0;
	if (!p->frags || (*iov = pkt_chain_iov(p, n)))
		return true;
	src->stats.tx_dropped++;
	pkt_free(p);
	return false;
}

void io_src_close_common(struct io_src *src)
{
	if (src->dead)
		return;
	src->dead = true;
	src->loop->ops->src_del(src->loop, src);
	src->fd = -1;
}

static void src_deliver(struct io_src *src)
{
	if (!src->rx.n)
		return;
	if (src->dead) {
		pkt_vec_free(&src->rx);
		return;
	}
	if (src->kind == IO_SRC_UDP) {
		struct io_udp *u = (struct io_udp *)src;

		u->cb(u->ctx, u, &src->rx);
	} else {
		struct io_tun *t = (struct io_tun *)src;

		t->cb(t->ctx, t, &src->rx);
	}
	/* The packets are the callee's now; the vector is ours again. */
	src->rx.n = 0;
}

void io_src_received(struct io_src *src, struct pkt *p)
{
	struct io_loop *loop = src->loop;

	src->stats.rx_packets++;
	src->stats.rx_bytes += p->len;
	src->rx.p[src->rx.n++] = p;
	if (!src->pending) {
		src->pending = true;
		src->next_pending = loop->pending;
		loop->pending = src;
	}
	if (pkt_vec_full(&src->rx))
		src_deliver(src);
}

bool io_src_fatal(const struct io_src *src, int err)
{
	/* A socket error is about one datagram; a TUN/TAP without its device stays broken. */
	return src->kind == IO_SRC_TUN && (err == -EBADFD || err == -ENODEV || err == -ENXIO);
}

void io_src_fail(struct io_src *src, int err)
{
	struct io_tun *t = (struct io_tun *)src;

	if (src->failed || src->dead)
		return;
	src->failed = err;
	if (src->kind != IO_SRC_TUN)
		return;
	if (t->err_cb)
		t->err_cb(t->err_ctx, t, err);
	else
		vw_err("%s: device gone (%s): no more reads", t->name, strerror(-err));
}

void io_deliver_pending(struct io_loop *loop)
{
	while (loop->pending) {
		struct io_src *src = loop->pending;

		loop->pending = src->next_pending;
		src->pending = false;
		src_deliver(src);
	}
}

bool io_pkt_in_pool(const struct io_loop *loop, const struct pkt *p)
{
	return p->pool == loop->pool && p >= loop->pool->pkts &&
	       p < loop->pool->pkts + loop->pool->count;
}
