/* SPDX-License-Identifier: MIT */
/*
 * The control sockets' clients (the wg UAPI and vwirectl), served by worker 0 without
 * ever waiting on one. Worker 0 also runs the timers and the spanning tree's hellos: a
 * client that writes its request a byte at a time, or never reads its answer, must cost
 * it nothing but a few buffers. So each client is a small state machine:
 *
 *   reading  its input buffer fills as bytes arrive (at most max_request); whenever it
 *            changed, the server's callback looks for a complete request;
 *   writing  the callback answered (a snapshot taken under the lock, in the client's
 *            output buffer); the answer leaves as fast as the socket takes it, and the
 *            next request is looked at only once the client has taken all of it.
 *
 * A client holds its slot for CTLSOCK_REQUEST_TIMEOUT_MS per request and
 * CTLSOCK_ANSWER_TIMEOUT_MS per answer at most, and a socket has CTLSOCK_MAX_CLIENTS
 * slots: beyond that new clients are accepted and closed at once.
 *
 * The loop's fd watches report readability only, and its one deadline is the datapath's.
 * So each socket keeps its own epoll set (each client registered for input or output,
 * whichever it waits for, and a timerfd at the earliest client deadline) and worker 0's
 * loop watches that set's fd, which is readable whenever one of them is ready.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "daemon/ctlsock.h"
#include "io/unix.h"

/* The first input buffer; it doubles up to max_request as a request grows. */
#define CTLSOCK_IN_FIRST 8192
/* Connections taken per wake-up: a flood of connects cannot keep worker 0 here. */
#define CTLSOCK_ACCEPT_BATCH 64
#define CTLSOCK_EVENTS	     32

struct ctlsock_client {
	struct ctlsock *s;
	struct ctlsock_client *next;
	int fd;
	int passed_fd;	   /* a file the client passed (SCM_RIGHTS), -1: none; owned */
	uint32_t interest; /* EPOLLIN or EPOLLOUT: what the epoll set waits for */
	/* What the client sent and the callback has not consumed yet (owned, wiped). */
	char *in;
	size_t in_len, in_cap;
	bool eof; /* the client shut down its side */
	/* The answer being written: out_off of out_len bytes taken (owned, wiped). */
	char *out;
	size_t out_len, out_off;
	bool close_after; /* the answer is the last: close once it is out */
	bool failed;	  /* an answer could not be queued (out of memory): close */
	uint64_t deadline;
};

struct ctlsock {
	struct io_loop *loop;
	int listen_fd, ep_fd, timer_fd;
	char path[600];
	size_t max_request;
	ctlsock_request_cb cb;
	void *ctx;
	struct ctlsock_client *clients;
	uint32_t n_clients;
	uint64_t timer_at; /* the timerfd's expiry as armed; 0: disarmed */
	struct ctlsock_stats stats;
	struct vw_ratelimit log_rl; /* refusals and timeouts are clients' doing: bounded */
};

static uint64_t ms_from_now(uint64_t ms)
{
	return vw_clock_mono_ns() + ms * NSEC_PER_MSEC;
}

static void wipe_free(char *buf, size_t len)
{
	if (!buf)
		return;
	/* Answers to get=1 hold the private key, set requests keys of every kind. */
	crypto_wipe(buf, len);
	free(buf);
}

static void client_close(struct ctlsock_client *c)
{
	struct ctlsock *s = c->s;

	for (struct ctlsock_client **pp = &s->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->n_clients--;
	epoll_ctl(s->ep_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	wipe_free(c->in, c->in_cap);
	wipe_free(c->out, c->out_len);
	free(c);
}

/* 0, or -errno when the epoll set refused (the client is then closed by the caller). */
static int client_want(struct ctlsock_client *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (c->interest == events)
		return 0;
	if (epoll_ctl(c->s->ep_fd, EPOLL_CTL_MOD, c->fd, &ev))
		return -errno;
	c->interest = events;
	return 0;
}

/* Writes what the socket takes now. 0 (all or part written) or -errno (client gone). */
static int client_flush(struct ctlsock_client *c)
{
	while (c->out_off < c->out_len) {
		/* MSG_NOSIGNAL: a client that went away must not SIGPIPE the daemon. */
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		c->out_off += (size_t)n;
	}
	return 0;
}

/* Grows the input buffer toward max_request, never leaving an unwiped copy. */
static int client_grow(struct ctlsock_client *c)
{
	size_t max = c->s->max_request;
	size_t cap = c->in_cap ? c->in_cap * 2 : CTLSOCK_IN_FIRST;
	char *buf;

	if (cap > max)
		cap = max;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	if (c->in) {
		memcpy(buf, c->in, c->in_len);
		wipe_free(c->in, c->in_cap);
	}
	c->in = buf;
	c->in_cap = cap;
	return 0;
}

/*
 * Keeps the first file descriptor a client passes with its bytes (vwirectl reload hands
 * over a config file vwired itself may not open); any other is closed at once.
 */
static void take_passed_fds(struct ctlsock_client *c, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->passed_fd < 0)
				c->passed_fd = fd;
			else
				close(fd);
		}
	}
}

static ssize_t client_recv(struct ctlsock_client *c, char *buf, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = {buf, len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);

	if (n >= 0)
		take_passed_fds(c, &mh);
	return n;
}

int ctlsock_client_take_fd(struct ctlsock_client *c)
{
	int fd = c->passed_fd;

	c->passed_fd = -1;
	return fd;
}

/* Reads what is there, up to max_request in all. 0 or -errno (client to close). */
static int client_fill(struct ctlsock_client *c)
{
	while (!c->eof && c->in_len < c->s->max_request) {
		ssize_t n;

		if (c->in_len == c->in_cap && client_grow(c))
			return -ENOMEM;
		n = client_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		return -errno;
	}
	return 0;
}

/* The client consumed n bytes of its input: wipe them and move the rest to the front. */
static void client_consume(struct ctlsock_client *c, size_t n)
{
	if (n > c->in_len)
		n = c->in_len;
	crypto_wipe(c->in, n);
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/*
 * Moves c as far as it can go without waiting: writes its answer, reads, hands complete
 * requests to the server. Returns with c waiting for its socket, or closed.
 */
static void client_serve(struct ctlsock_client *c)
{
	struct ctlsock *s = c->s;

	for (;;) {
		size_t took;
		bool end;

		if (c->out) {
			if (client_flush(c))
				goto close;
			if (c->out_off < c->out_len) {
				if (client_want(c, EPOLLOUT))
					goto close;
				return;
			}
			wipe_free(c->out, c->out_len);
			c->out = NULL;
			c->out_len = c->out_off = 0;
			if (c->close_after)
				goto close;
			c->deadline = ms_from_now(CTLSOCK_REQUEST_TIMEOUT_MS);
		}
		if (client_fill(c))
			goto close;
		end = c->eof || c->in_len == s->max_request;
		if (!c->in_len && !end)
			goto wait_input;
		took = s->cb(s->ctx, c, c->in, c->in_len, end);
		if (c->failed)
			goto close;
		if (took == 0) {
			if (end)
				goto close;
			goto wait_input;
		}
		if (took == CTLSOCK_LAST) {
			c->close_after = true;
			took = c->in_len;
		}
		client_consume(c, took);
		if (!c->out && c->close_after)
			goto close;
		c->deadline = ms_from_now(c->out ? CTLSOCK_ANSWER_TIMEOUT_MS
						 : CTLSOCK_REQUEST_TIMEOUT_MS);
	}
wait_input:
	if (client_want(c, EPOLLIN))
		goto close;
	return;
close:
	client_close(c);
}

int ctlsock_reply_take(struct ctlsock_client *c, char *buf, size_t len)
{
	char *out;

	if (!len) {
		free(buf);
		return 0;
	}
	if (!c->out) {
		c->out = buf;
		c->out_len = len;
		return 0;
	}
	/* A second piece of one answer: one buffer, so that writing stays simple. */
	out = malloc(c->out_len + len);
	if (!out) {
		wipe_free(buf, len);
		c->failed = true;
		return -ENOMEM;
	}
	memcpy(out, c->out, c->out_len);
	memcpy(out + c->out_len, buf, len);
	wipe_free(c->out, c->out_len);
	wipe_free(buf, len);
	c->out = out;
	c->out_len += len;
	return 0;
}

int ctlsock_reply(struct ctlsock_client *c, const void *buf, size_t len)
{
	char *copy;

	if (!len)
		return 0;
	copy = malloc(len);
	if (!copy) {
		c->failed = true;
		return -ENOMEM;
	}
	memcpy(copy, buf, len);
	return ctlsock_reply_take(c, copy, len);
}

static void log_limited(struct ctlsock *s, const char *what)
{
	if (vw_ratelimit_allow(&s->log_rl, vw_clock_mono_ns()))
		vw_warn("%s: %s (%llu refused, %llu timed out so far)", s->path, what,
			(unsigned long long)s->stats.clients_refused,
			(unsigned long long)s->stats.clients_timed_out);
}

/* Closes the clients past their deadline and sets the timerfd to the next one. */
static void sweep_and_arm(struct ctlsock *s)
{
	uint64_t now = vw_clock_mono_ns(), next = 0;
	struct ctlsock_client *c = s->clients, *nx;

	for (; c; c = nx) {
		nx = c->next;
		if (c->deadline <= now) {
			s->stats.clients_timed_out++;
			log_limited(s, c->out ? "closed a client that did not take its answer"
					      : "closed a client that sent no complete request");
			client_close(c);
			continue;
		}
		if (!next || c->deadline < next)
			next = c->deadline;
	}
	if (next != s->timer_at) {
		struct itimerspec its = {
			.it_value = {.tv_sec = (time_t)(next / NSEC_PER_SEC),
				     .tv_nsec = (long)(next % NSEC_PER_SEC)},
		};

		/* A zero it_value disarms: no clients, no timer. */
		if (!timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL))
			s->timer_at = next;
	}
}

static void on_events(void *ctx, int fd, uint32_t events)
{
	struct ctlsock *s = ctx;
	struct epoll_event ev[CTLSOCK_EVENTS];
	int n;

	(void)fd;
	(void)events;
	n = epoll_wait(s->ep_fd, ev, CTLSOCK_EVENTS, 0);
	/* One event per fd: a client closed while serving another is in no later entry. */
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr) {
			client_serve(ev[i].data.ptr);
		} else {
			uint64_t ticks;

			(void)!read(s->timer_fd, &ticks, sizeof(ticks));
		}
	}
	sweep_and_arm(s);
}

static void on_listen_readable(void *ctx, int fd, uint32_t events)
{
	struct ctlsock *s = ctx;

	(void)events;
	for (int i = 0; i < CTLSOCK_ACCEPT_BATCH; i++) {
		int cfd = io_unix_accept(fd);
		struct ctlsock_client *c;
		struct epoll_event ev = {.events = EPOLLIN};

		if (cfd < 0)
			break;
		if (s->n_clients >= CTLSOCK_MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
			close(cfd);
			s->stats.clients_refused++;
			log_limited(s, "refused a client: too many connected");
			continue;
		}
		c->s = s;
		c->fd = cfd;
		c->passed_fd = -1;
		c->interest = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(s->ep_fd, EPOLL_CTL_ADD, cfd, &ev)) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = s->clients;
		s->clients = c;
		s->n_clients++;
		c->deadline = ms_from_now(CTLSOCK_REQUEST_TIMEOUT_MS);
		/* vwirectl has usually written its request by now: answer it at once. */
		client_serve(c);
	}
	sweep_and_arm(s);
}

/* A socket at path (mode 0600) watched by loop: its fd, or -1 after logging why. */
static int listen_at(struct io_loop *loop, const char *path, io_fd_cb cb, void *ctx)
{
	int fd = io_unix_listen(path, 0600), rc;

	if (fd < 0) {
		vw_err("cannot listen on %s: %s%s", path, strerror(-fd),
		       fd == -EADDRINUSE ? " (another instance with this name is running)" : "");
		return -1;
	}
	if ((rc = io_watch_fd(loop, fd, cb, ctx)) < 0) {
		vw_err("cannot watch %s: %s", path, strerror(-rc));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static void unlisten(struct io_loop *loop, int fd, const char *path)
{
	io_unwatch_fd(loop, fd);
	close(fd);
	unlink(path);
}

struct ctlsock *ctlsock_new(struct io_loop *loop, const char *path, size_t max_request,
			    ctlsock_request_cb cb, void *ctx)
{
	struct ctlsock *s = calloc(1, sizeof(*s));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int rc;

	if (!s) {
		vw_err("%s: out of memory", path);
		return NULL;
	}
	s->loop = loop;
	s->max_request = max_request;
	s->cb = cb;
	s->ctx = ctx;
	s->listen_fd = s->ep_fd = s->timer_fd = -1;
	s->log_rl =
		(struct vw_ratelimit){.interval_ns = 10 * NSEC_PER_SEC, .burst = 5, .tokens = 5};
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	/* BOOTTIME: the clock vw_clock_mono_ns reads, so deadlines compare as they are. */
	s->timer_fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->ep_fd < 0 || s->timer_fd < 0 ||
	    epoll_ctl(s->ep_fd, EPOLL_CTL_ADD, s->timer_fd, &ev)) {
		vw_err("%s: cannot set up its clients' epoll set: %s", path, strerror(errno));
		goto fail;
	}
	if ((rc = io_watch_fd(loop, s->ep_fd, on_events, s)) < 0) {
		vw_err("cannot watch %s's clients: %s", path, strerror(-rc));
		goto fail;
	}
	s->listen_fd = listen_at(loop, path, on_listen_readable, s);
	if (s->listen_fd < 0) {
		io_unwatch_fd(loop, s->ep_fd);
		goto fail;
	}
	return s;
fail:
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->ep_fd >= 0)
		close(s->ep_fd);
	free(s);
	return NULL;
}

void ctlsock_free(struct ctlsock *s)
{
	if (!s)
		return;
	while (s->clients)
		client_close(s->clients);
	unlisten(s->loop, s->listen_fd, s->path);
	io_unwatch_fd(s->loop, s->ep_fd);
	close(s->ep_fd);
	close(s->timer_fd);
	free(s);
}

void ctlsock_add_stats(const struct ctlsock *s, struct ctlsock_stats *st)
{
	if (!s)
		return;
	st->clients_refused += s->stats.clients_refused;
	st->clients_timed_out += s->stats.clients_timed_out;
}
