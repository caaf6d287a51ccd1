/* SPDX-License-Identifier: MIT */
/*
 * src/io on both backends: every test runs with io_uring (skipped where the
 * ring cannot be created: qemu-user, seccomp), twice: multishot receives into
 * buffer rings (where the kernel has them) and one SQE per receive; and once
 * with epoll.
 * Timing is only asserted as ordering; alarm() guards against hangs.
 * VWIRE_IO_REFUSED=EPERM|ENOSYS says the run is under tests/tools/noiouring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <liburing.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/byteorder.h"
#include "core/clock.h"
#include "core/csum.h"
#include "core/pkt.h"
#include "io/loop.h"
#include "io/tun.h"
#include "io/unix.h"

#define GUARD_SECONDS 20

struct env {
	enum io_backend backend;
	bool no_multishot;
	bool one_thread;
};

static struct env env_uring = {IO_URING, false, false};
static struct env env_uring_perop = {IO_URING, true, false};
static struct env env_uring_one = {IO_URING, false, true};
static struct env env_epoll = {IO_EPOLL, false, false};

/* Whether this kernel takes the ring flags a one_thread loop asks for (6.1+). */
static bool kernel_has_one_thread(void)
{
	struct io_uring_params p = {.flags = IORING_SETUP_SINGLE_ISSUER |
					     IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED};
	struct io_uring ring;

	if (io_uring_queue_init_params(4, &ring, &p) < 0)
		return false;
	io_uring_queue_exit(&ring);
	return true;
}

/* Buffer size of the next new_loop's pool (UDP GRO needs 64 KiB receives). */
static uint32_t test_bufsize = PKT_DEFAULT_SIZE;

static struct io_loop *new_loop(void **state, struct pkt_pool *pool, uint32_t count,
				const struct io_loop_opts *opts)
{
	const struct env *e = *state;
	struct io_loop_opts o = {0};
	struct io_loop *loop;

	if (opts)
		o = *opts;
	o.no_multishot = e->no_multishot;
	o.one_thread = e->one_thread;
	alarm(GUARD_SECONDS);
	assert_true(pkt_pool_init(pool, count, test_bufsize));
	loop = io_loop_new(e->backend, pool, &o);
	if (!loop) {
		int err = errno;

		pkt_pool_destroy(pool);
		if (e->backend == IO_URING) {
			print_message("io_uring unavailable here (%s): skipped\n", strerror(err));
			skip();
		}
		fail_msg("io_loop_new: %s", strerror(err));
	}
	assert_int_equal(io_loop_backend(loop), e->backend);
	/* Granted exactly where the kernel has it, never on epoll or when not asked. */
	assert_int_equal(io_loop_one_thread(loop),
			 e->one_thread && e->backend == IO_URING && kernel_has_one_thread());
	return loop;
}

/* Frees the loop and checks that every buffer came back. */
static void end_loop(struct io_loop *loop, struct pkt_pool *pool)
{
	io_loop_free(loop);
	assert_int_equal(pool->nfree, pool->count);
	pkt_pool_destroy(pool);
	alarm(0);
}

static void ep_set(struct vw_endpoint *ep, const char *addr, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	if (strchr(addr, ':')) {
		ep->in6.sin6_family = AF_INET6;
		ep->in6.sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &ep->in6.sin6_addr), 1);
	} else {
		ep->in4.sin_family = AF_INET;
		ep->in4.sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &ep->in4.sin_addr), 1);
	}
}

static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* UDP echo: A sends two vectors to B, B sends every packet back to where it came from. */

#define ECHO_N	 128
#define ECHO_LEN 64

struct echo {
	struct io_loop *loop;
	struct io_udp *a, *b;
	struct vw_endpoint b_seen_by_a;
	uint32_t received, max_batch, bad_src, bad_data, bad_local;
	bool seen[ECHO_N];
};

/* PKTINFO: the local address a datagram arrived at is loopback, in the sender's family. */
static bool local_is_loopback(const struct vw_endpoint *ep)
{
	static const uint8_t v4[4] = {127, 0, 0, 1};
	static const uint8_t v6[16] = {[15] = 1};

	if (ep->local.family != ep->sa.sa_family)
		return false;
	return ep->local.family == AF_INET ? !memcmp(ep->local.bytes, v4, 4)
					   : !memcmp(ep->local.bytes, v6, 16);
}

static void echo_b_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct echo *e = ctx;

	for (uint32_t i = 0; i < v->n; i++)
		v->p[i]->dst = v->p[i]->src;
	io_udp_send(e->loop, sock, v);
	assert_int_equal(v->n, 0);
}

static void echo_a_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct echo *e = ctx;

	(void)sock;
	if (v->n > e->max_batch)
		e->max_batch = v->n;
	for (uint32_t i = 0; i < v->n; i++) {
		struct pkt *p = v->p[i];
		uint32_t seq;

		if (!vw_endpoint_equal(&p->src, &e->b_seen_by_a))
			e->bad_src++;
		if (!local_is_loopback(&p->src))
			e->bad_local++;
		assert_int_equal(pkt_headroom(p), PKT_HEADROOM);
		seq = p->len == ECHO_LEN ? get_be32(p->data) : ECHO_N;
		if (seq >= ECHO_N || e->seen[seq] || p->data[ECHO_LEN - 1] != (uint8_t)seq)
			e->bad_data++;
		else
			e->seen[seq] = true;
		e->received++;
	}
	pkt_vec_free(v);
	if (e->received == ECHO_N)
		io_loop_stop(e->loop);
}

/* mode 0: one send per packet; 1: GSO sends; 2: GSO sends into GRO receives. */
static void udp_echo(void **state, const char *host, int mode)
{
	struct pkt_pool pool;
	struct echo e = {0};
	struct io_loop *loop = new_loop(state, &pool, 512, NULL);
	struct vw_endpoint to_b;

	e.loop = loop;
	e.a = io_udp_open(loop, 0, echo_a_rx, &e);
	e.b = io_udp_open(loop, 0, echo_b_rx, &e);
	assert_non_null(e.a);
	assert_non_null(e.b);
	assert_int_not_equal(io_udp_port(e.a), 0);
	assert_int_not_equal(io_udp_port(e.a), io_udp_port(e.b));
	/* GSO: each vector of 64 equal datagrams leaves in one sendmsg; they must arrive apart. */
	if (mode && (io_udp_enable_gso(e.a) || io_udp_enable_gso(e.b) ||
		     (mode == 2 && (io_udp_enable_gro(e.a) || io_udp_enable_gro(e.b))))) {
		end_loop(loop, &pool);
		print_message("no UDP GSO/GRO: skipped\n");
		skip();
	}
	ep_set(&to_b, host, io_udp_port(e.b));
	/* IPv4 peers must come back as plain AF_INET, never v4-mapped. */
	e.b_seen_by_a = to_b;

	for (uint32_t n = 0; n < ECHO_N;) {
		struct pkt_vec v;

		pkt_vec_init(&v);
		for (; n < ECHO_N && !pkt_vec_full(&v); n++) {
			struct pkt *p = pkt_alloc(&pool);
			uint8_t *d;

			assert_non_null(p);
			d = pkt_put(p, ECHO_LEN);
			if (!d)
				abort();
			memset(d, 0xa5, ECHO_LEN);
			put_be32(d, n);
			d[ECHO_LEN - 1] = (uint8_t)n;
			p->dst = to_b;
			pkt_vec_add(&v, p);
		}
		io_udp_send(loop, e.a, &v);
		assert_int_equal(v.n, 0);
	}
	assert_int_equal(io_loop_run(loop), 0);

	assert_int_equal(e.received, ECHO_N);
	assert_int_equal(e.bad_src, 0);
	assert_int_equal(e.bad_local, 0);
	assert_int_equal(e.bad_data, 0);
	/* Batching: completions arrive as vectors, not one callback per packet. */
	assert_true(e.max_batch > 1);
	assert_int_equal(io_udp_stats(e.a)->tx_packets, ECHO_N);
	assert_int_equal(io_udp_stats(e.b)->rx_packets, ECHO_N);
	assert_int_equal(io_udp_stats(e.b)->tx_packets, ECHO_N);
	assert_int_equal(io_udp_stats(e.a)->rx_packets, ECHO_N);
	assert_int_equal(io_udp_stats(e.a)->rx_truncated + io_udp_stats(e.a)->rx_errors, 0);
	/* Over loopback a GSO send reaches a GRO socket whole: the split path ran. */
	if (mode == 2)
		assert_true(io_udp_stats(e.b)->rx_coalesced > 0);
	else
		assert_int_equal(io_udp_stats(e.b)->rx_coalesced, 0);
	end_loop(loop, &pool);
}

static void test_udp_echo_v4(void **state)
{
	udp_echo(state, "127.0.0.1", 0);
}

static void test_udp_echo_v6(void **state)
{
	if (!have_ipv6_loopback()) {
		print_message("no IPv6 loopback: skipped\n");
		skip();
	}
	udp_echo(state, "::1", 0);
}

static void test_udp_echo_gso_v4(void **state)
{
	udp_echo(state, "127.0.0.1", 1);
}

static void test_udp_echo_gro_v4(void **state)
{
	test_bufsize = PKT_HEADROOM + 65536 + PKT_TAILROOM;
	udp_echo(state, "127.0.0.1", 2);
	test_bufsize = PKT_DEFAULT_SIZE;
}

static void test_udp_echo_gso_v6(void **state)
{
	if (!have_ipv6_loopback()) {
		print_message("no IPv6 loopback: skipped\n");
		skip();
	}
	udp_echo(state, "::1", 1);
}

/* Pool exhaustion: the owner holds every buffer; receives resume once it frees them. */

#define STARVE_POOL 40
#define STARVE_N    100

struct starve {
	struct io_loop *loop;
	struct pkt_pool *pool;
	struct pkt *held[STARVE_POOL];
	uint32_t nheld, received, releases;
};

static void starve_release(void *ctx, uint64_t now)
{
	struct starve *s = ctx;

	(void)now;
	for (uint32_t i = 0; i < s->nheld; i++)
		pkt_free(s->held[i]);
	s->nheld = 0;
	s->releases++;
}

static void starve_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct starve *s = ctx;

	(void)sock;
	for (uint32_t i = 0; i < v->n; i++) {
		assert_true(s->nheld < STARVE_POOL);
		s->held[s->nheld++] = v->p[i];
	}
	s->received += v->n;
	if (s->received == STARVE_N)
		io_loop_stop(s->loop);
	else if (!s->pool->nfree)
		io_loop_set_deadline(s->loop, vw_clock_mono_ns() + NSEC_PER_MSEC);
}

static void test_pool_exhaustion(void **state)
{
	struct pkt_pool pool;
	struct io_loop_opts opts = {.rx_depth = 32};
	struct io_loop *loop = new_loop(state, &pool, STARVE_POOL, &opts);
	struct starve s = {.loop = loop, .pool = &pool};
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct io_udp *u;
	uint8_t payload[32] = {1};
	int fd;

	u = io_udp_open(loop, 0, starve_rx, &s);
	assert_non_null(u);
	io_loop_on_deadline(loop, starve_release, &s);
	to.sin_port = htons(io_udp_port(u));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	for (int i = 0; i < STARVE_N; i++)
		assert_int_equal(
			sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)),
			sizeof(payload));
	close(fd);

	assert_int_equal(io_loop_run(loop), 0);
	assert_int_equal(s.received, STARVE_N);
	assert_true(s.releases >= 2);
	assert_true(io_udp_stats(u)->rx_nobuf > 0);
	starve_release(&s, 0);
	end_loop(loop, &pool);
}

/* Ownership: drops on the send path are counted and the buffers still come back. */

static void test_send_drops(void **state)
{
	struct pkt_pool pool, other;
	struct io_loop *loop = new_loop(state, &pool, 64, NULL);
	struct io_udp *u = io_udp_open(loop, 0, echo_a_rx, NULL);
	struct pkt_vec v;
	struct pkt *p;

	assert_non_null(u);
	assert_true(pkt_pool_init(&other, 4, PKT_DEFAULT_SIZE));
	pkt_vec_init(&v);
	p = pkt_alloc(&pool); /* no destination */
	pkt_put(p, 10);
	pkt_vec_add(&v, p);
	p = pkt_alloc(&other); /* not the loop's pool */
	pkt_put(p, 10);
	ep_set(&p->dst, "127.0.0.1", 9);
	pkt_vec_add(&v, p);
	io_udp_send(loop, u, &v);
	assert_int_equal(v.n, 0);
	assert_int_equal(io_udp_stats(u)->tx_dropped, 2);
	assert_int_equal(other.nfree, other.count);

	/* After close, sends are dropped (counted on the closed socket) too. */
	io_udp_close(u);
	p = pkt_alloc(&pool);
	ep_set(&p->dst, "127.0.0.1", 9);
	pkt_vec_add(&v, p);
	io_udp_send(loop, u, &v);
	pkt_pool_destroy(&other);
	end_loop(loop, &pool);
}

/* Rebinding moves receives to the new port; a busy port leaves the old socket working. */

struct rebind {
	struct io_loop *loop;
	uint32_t received;
};

static void rebind_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct rebind *r = ctx;

	(void)sock;
	r->received += v->n;
	pkt_vec_free(v);
	io_loop_stop(r->loop);
}

static void send_one(uint16_t port)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	close(fd);
}

static void test_udp_rebind(void **state)
{
	struct pkt_pool pool;
	struct io_loop *loop = new_loop(state, &pool, 256, NULL);
	struct rebind r = {.loop = loop};
	struct sockaddr_in6 busy = {.sin6_family = AF_INET6};
	socklen_t blen = sizeof(busy);
	struct io_udp *u = io_udp_open(loop, 0, rebind_rx, &r);
	uint16_t p1, p2;
	int bfd;

	assert_non_null(u);
	p1 = io_udp_port(u);
	send_one(p1);
	assert_int_equal(io_loop_run(loop), 0);
	assert_int_equal(r.received, 1);

	/* Receives are in flight on p1 now (io_uring): rebinding cancels them. */
	assert_int_equal(io_udp_set_port(u, 0), 0);
	p2 = io_udp_port(u);
	assert_int_not_equal(p2, p1);
	send_one(p2);
	assert_int_equal(io_loop_run(loop), 0);
	assert_int_equal(r.received, 2);

	bfd = socket(AF_INET6, SOCK_DGRAM, 0);
	assert_true(bfd >= 0);
	assert_int_equal(bind(bfd, (struct sockaddr *)&busy, sizeof(busy)), 0);
	assert_int_equal(getsockname(bfd, (struct sockaddr *)&busy, &blen), 0);
	assert_int_equal(io_udp_set_port(u, ntohs(busy.sin6_port)), -EADDRINUSE);
	close(bfd);
	assert_int_equal(io_udp_port(u), p2);
	send_one(p2);
	assert_int_equal(io_loop_run(loop), 0);
	assert_int_equal(r.received, 3);
	assert_int_equal(io_udp_stats(u)->rx_errors, 0);
	end_loop(loop, &pool);
}

/*
 * Buffer rings and multishot receives (io_uring; the same tests run per
 * operation and on epoll, where they check the same outcomes).
 */

static void stop_cb(void *ctx, uint64_t now)
{
	(void)now;
	io_loop_stop(ctx);
}

/* Runs the loop for about ms milliseconds (at least one iteration). */
static void run_for(struct io_loop *loop, uint64_t ms)
{
	io_loop_on_deadline(loop, stop_cb, loop);
	io_loop_set_deadline(loop, vw_clock_mono_ns() + ms * NSEC_PER_MSEC);
	assert_int_equal(io_loop_run(loop), 0);
}

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int a = 0, b = 0;

	return !uname(&u) && sscanf(u.release, "%d.%d", &a, &b) == 2 &&
	       (a > major || (a == major && b >= minor));
}

/*
 * Pool packets an idle source holds: a full buffer ring (depth rounded up to a
 * power of two) with multishot, depth receives per operation, none with epoll.
 * Before 6.7 (no multishot read) either io_uring figure may show.
 */
static bool held_as_expected(void **state, uint32_t held, uint32_t depth, uint32_t ring)
{
	const struct env *e = *state;

	if (e->backend == IO_EPOLL)
		return held == 0;
	if (e->no_multishot)
		return held == depth;
	return held == ring || (!kernel_at_least(6, 7) && held == depth);
}

static void test_rx_buffers_held(void **state)
{
	struct pkt_pool pool;
	struct io_loop_opts opts = {.rx_depth = 20};
	struct io_loop *loop = new_loop(state, &pool, 64, &opts);
	struct rebind r = {.loop = loop};
	struct io_udp *u = io_udp_open(loop, 0, rebind_rx, &r);

	assert_non_null(u);
	send_one(io_udp_port(u));
	assert_int_equal(io_loop_run(loop), 0);
	assert_int_equal(r.received, 1);
	/* One more iteration tops the receives up again. */
	run_for(loop, 1);
	assert_true(held_as_expected(state, pool.count - pool.nfree, 20, 32));
	end_loop(loop, &pool);
}

struct burst {
	struct io_loop *loop;
	uint32_t received, want, bad;
	bool close_on_rx;
};

static void burst_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct burst *b = ctx;

	for (uint32_t i = 0; i < v->n; i++) {
		const struct pkt *p = v->p[i];

		if (p->len != ECHO_LEN || pkt_headroom(p) != PKT_HEADROOM ||
		    p->src.sa.sa_family != AF_INET || !local_is_loopback(&p->src))
			b->bad++;
	}
	b->received += v->n;
	pkt_vec_free(v);
	if (b->close_on_rx) {
		/* Inside the callback, with the receive armed and packets in its ring. */
		io_udp_close(sock);
		b->close_on_rx = false;
	}
	if (b->received >= b->want)
		io_loop_stop(b->loop);
}

/* n datagrams of ECHO_LEN from a plain socket, all queued before the loop runs. */
static void send_burst(uint16_t port, uint32_t n)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	uint8_t d[ECHO_LEN] = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	for (uint32_t i = 0; i < n; i++) {
		put_be32(d, i);
		assert_int_equal(sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&to, sizeof(to)),
				 sizeof(d));
	}
	close(fd);
}

/* Four rings' worth at once: the ring runs empty, the receive is armed again, nothing lost. */
static void test_udp_burst(void **state)
{
	struct pkt_pool pool;
	struct io_loop_opts opts = {.rx_depth = 32};
	struct io_loop *loop = new_loop(state, &pool, 256, &opts);
	struct burst b = {.loop = loop, .want = 4 * 32};
	struct io_udp *u = io_udp_open(loop, 0, burst_rx, &b);

	assert_non_null(u);
	send_burst(io_udp_port(u), b.want);
	assert_int_equal(io_loop_run(loop), 0);
	assert_int_equal(b.received, b.want);
	assert_int_equal(b.bad, 0);
	assert_int_equal(io_udp_stats(u)->rx_packets, b.want);
	assert_int_equal(io_udp_stats(u)->rx_errors + io_udp_stats(u)->rx_truncated, 0);
	end_loop(loop, &pool);
}

static void *run_and_free(void *arg)
{
	struct burst *b = arg;
	intptr_t rc = io_loop_run(b->loop);

	io_loop_free(b->loop);
	return (void *)rc;
}

/*
 * vwired's workers: a one_thread loop set up by one thread (socket, buffer ring) and
 * then run and freed by another, which must become its submitter. Bursts bigger than
 * the batch wait, and a last datagram alone, all arrive.
 */
static void test_loop_in_other_thread(void **state)
{
	struct pkt_pool pool;
	struct io_loop_opts opts = {.rx_depth = 32};
	struct io_loop *loop;
	struct burst b = {.want = 3 * 32 + 1};
	struct io_udp *u;
	pthread_t t;
	void *rc;

#ifdef VW_TEST_NO_THREADS
	skip(); /* qemu-user crashes in pthread_create (tests/unit/meson.build) */
#endif
	loop = new_loop(state, &pool, 256, &opts);
	b.loop = loop;
	u = io_udp_open(loop, 0, burst_rx, &b);
	assert_non_null(u);
	assert_int_equal(pthread_create(&t, NULL, run_and_free, &b), 0);
	send_burst(io_udp_port(u), 3 * 32);
	usleep(20000);
	send_burst(io_udp_port(u), 1);
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_int_equal((intptr_t)rc, 0);
	assert_int_equal(b.received, b.want);
	assert_int_equal(b.bad, 0);
	assert_int_equal(pool.nfree, pool.count);
	pkt_pool_destroy(&pool);
	alarm(0);
}

/* Closing returns every buffer at once, not only at io_loop_free. */
static void test_udp_close_returns_buffers(void **state)
{
	struct pkt_pool pool;
	struct io_loop_opts opts = {.rx_depth = 16};
	struct io_loop *loop = new_loop(state, &pool, 128, &opts);
	struct burst b = {.loop = loop, .want = 1, .close_on_rx = true};
	struct io_udp *u = io_udp_open(loop, 0, burst_rx, &b);
	struct io_udp *other = io_udp_open(loop, 0, burst_rx, &b);

	assert_non_null(u);
	assert_non_null(other);
	/* More than the ring: some wait in the socket, some may be reaped after the close. */
	send_burst(io_udp_port(u), 40);
	assert_int_equal(io_loop_run(loop), 0);
	assert_true(b.received >= 1);
	run_for(loop, 5);
	/* What is held now is the other socket's receives only. */
	assert_true(held_as_expected(state, pool.count - pool.nfree, 16, 16));
	io_udp_close(other);
	run_for(loop, 5);
	assert_int_equal(pool.nfree, pool.count);
	end_loop(loop, &pool);
}

/* Every rebind cancels the receive on the old socket and arms one on the new. */
static void test_udp_rebind_burst(void **state)
{
	struct pkt_pool pool;
	struct io_loop_opts opts = {.rx_depth = 8};
	struct io_loop *loop = new_loop(state, &pool, 128, &opts);
	struct burst b = {.loop = loop};
	struct io_udp *u = io_udp_open(loop, 0, burst_rx, &b);

	assert_non_null(u);
	for (int round = 0; round < 4; round++) {
		uint16_t old = io_udp_port(u);

		assert_int_equal(io_udp_set_port(u, 0), 0);
		assert_int_not_equal(io_udp_port(u), old);
		b.want += 20;
		send_burst(io_udp_port(u), 20);
		assert_int_equal(io_loop_run(loop), 0);
		assert_int_equal(b.received, b.want);
	}
	assert_int_equal(b.bad, 0);
	assert_int_equal(io_udp_stats(u)->rx_errors, 0);
	end_loop(loop, &pool);
}

struct trunc {
	struct io_loop *loop;
	uint32_t got, len;
	bool bad;
};

static void trunc_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct trunc *t = ctx;

	(void)sock;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct pkt *p = v->p[i];

		t->len = p->len;
		if (pkt_headroom(p) != PKT_HEADROOM || p->data[0] != 0x5a ||
		    p->data[p->len - 1] != 0x5a || !local_is_loopback(&p->src))
			t->bad = true;
		t->got++;
	}
	pkt_vec_free(v);
	io_loop_stop(t->loop);
}

/* A datagram larger than a buffer is counted and dropped; the next one arrives whole. */
static void test_udp_truncated(void **state)
{
	struct pkt_pool pool;
	struct io_loop *loop;
	struct trunc t = {0};
	struct io_udp *u;
	struct sockaddr_in to = {.sin_family = AF_INET};
	uint8_t big[500];
	int fd;

	/* An odd size: buffers (and the kernel's recvmsg header in them) are not aligned. */
	test_bufsize = PKT_HEADROOM + 201 + PKT_TAILROOM;
	loop = new_loop(state, &pool, 64, NULL);
	test_bufsize = PKT_DEFAULT_SIZE;
	t.loop = loop;
	u = io_udp_open(loop, 0, trunc_rx, &t);
	assert_non_null(u);
	memset(big, 0x5a, sizeof(big));
	to.sin_port = htons(io_udp_port(u));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, big, 500, 0, (struct sockaddr *)&to, sizeof(to)), 500);
	assert_int_equal(sendto(fd, big, 201, 0, (struct sockaddr *)&to, sizeof(to)), 201);
	close(fd);
	assert_int_equal(io_loop_run(loop), 0);
	assert_int_equal(t.got, 1);
	assert_int_equal(t.len, 201);
	assert_false(t.bad);
	assert_int_equal(io_udp_stats(u)->rx_truncated, 1);
	assert_int_equal(io_udp_stats(u)->rx_packets, 1);
	assert_int_equal(io_udp_stats(u)->rx_errors, 0);
	end_loop(loop, &pool);
}

/* Deadline: moved earlier it fires at the earlier time; moved later it does not fire early. */

struct timing {
	struct io_loop *loop;
	struct io_udp *u;
	uint64_t start, first, second, later;
	uint64_t fired[4];
	int nfired;
};

static void timing_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct timing *t = ctx;

	(void)sock;
	pkt_vec_free(v);
	/* The 10 ms timeout is armed by now; move the deadline past it. */
	t->later = vw_clock_mono_ns() + 60 * NSEC_PER_MSEC;
	io_loop_set_deadline(t->loop, t->later);
}

static void timing_deadline(void *ctx, uint64_t now)
{
	struct timing *t = ctx;

	assert_true(t->nfired < 4);
	t->fired[t->nfired++] = now;
	assert_int_equal(io_loop_deadline(t->loop), IO_NO_DEADLINE);
	if (t->nfired == 2)
		io_loop_stop(t->loop);
	else
		io_loop_set_deadline(t->loop, now + 10 * NSEC_PER_MSEC);
}

static struct pkt_pool *timing_pool;

static void timing_deadline_send(void *ctx, uint64_t now)
{
	struct timing *t = ctx;
	struct pkt_vec v;
	struct pkt *p;

	timing_deadline(ctx, now);
	if (t->nfired != 1)
		return;
	/* A packet to ourselves: its callback runs after the 10 ms timeout was armed. */
	pkt_vec_init(&v);
	p = pkt_alloc(timing_pool);
	assert_non_null(p);
	pkt_put(p, 1);
	ep_set(&p->dst, "127.0.0.1", io_udp_port(t->u));
	pkt_vec_add(&v, p);
	io_udp_send(t->loop, t->u, &v);
}

static void test_deadline(void **state)
{
	struct pkt_pool pool;
	struct io_loop *loop = new_loop(state, &pool, 64, NULL);
	struct timing t = {.loop = loop};

	timing_pool = &pool;
	t.u = io_udp_open(loop, 0, timing_rx, &t);
	assert_non_null(t.u);
	io_loop_on_deadline(loop, timing_deadline_send, &t);
	t.start = vw_clock_mono_ns();
	t.second = t.start + 2 * NSEC_PER_SEC;
	t.first = t.start + 20 * NSEC_PER_MSEC;
	io_loop_set_deadline(loop, t.second);
	io_loop_set_deadline(loop, t.first);
	assert_int_equal(io_loop_deadline(loop), t.first);
	assert_int_equal(io_loop_run(loop), 0);

	assert_int_equal(t.nfired, 2);
	/* Earlier deadline won, and not before its time. */
	assert_true(t.fired[0] >= t.first);
	assert_true(t.fired[0] < t.second);
	/* Moved later: the timeout armed for +10 ms did not count as the deadline. */
	assert_true(t.later != 0);
	assert_true(t.fired[1] >= t.later);
	end_loop(loop, &pool);
}

/* fd watch and unix sockets: accept, request, response, unwatch inside a callback. */

struct ctl {
	struct io_loop *loop;
	int lfd, conn, client;
	char got[16];
	bool answered, done;
};

static void ctl_conn_cb(void *ctx, int fd, uint32_t events)
{
	struct ctl *c = ctx;
	char buf[16] = {0};
	ssize_t n;

	(void)events;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	assert_string_equal(buf, "ping");
	assert_int_equal(write(fd, "pong", 4), 4);
	c->answered = true;
	io_unwatch_fd(c->loop, fd);
	close(fd);
	c->conn = -1;
}

static void ctl_listen_cb(void *ctx, int fd, uint32_t events)
{
	struct ctl *c = ctx;
	int cfd;

	assert_true(events & POLLIN);
	cfd = io_unix_accept(fd);
	if (cfd == -EAGAIN)
		return;
	assert_true(cfd >= 0);
	c->conn = cfd;
	assert_int_equal(io_watch_fd(c->loop, cfd, ctl_conn_cb, c), 0);
}

static void ctl_client_cb(void *ctx, int fd, uint32_t events)
{
	struct ctl *c = ctx;
	ssize_t n;

	(void)events;
	n = read(fd, c->got, sizeof(c->got) - 1);
	if (n < 0 && errno == EAGAIN)
		return;
	io_unwatch_fd(c->loop, fd);
	c->done = true;
	io_loop_stop(c->loop);
}

static void test_unix_watch(void **state)
{
	struct pkt_pool pool;
	struct io_loop *loop = new_loop(state, &pool, 16, NULL);
	struct ctl c = {.loop = loop, .conn = -1};
	char dir[] = "/tmp/vwire-test-io-XXXXXX", path[64], other[64];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	snprintf(other, sizeof(other), "%s/file", dir);

	c.lfd = io_unix_listen(path, 0600);
	assert_true(c.lfd >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A live socket is not taken over; a non-socket is never removed. */
	assert_int_equal(io_unix_listen(path, 0600), -EADDRINUSE);
	fd = open(other, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(io_unix_listen(other, 0600), -EEXIST);

	assert_int_equal(io_watch_fd(loop, c.lfd, ctl_listen_cb, &c), 0);
	assert_int_equal(io_watch_fd(loop, c.lfd, ctl_listen_cb, &c), -EEXIST);
	c.client = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c.client >= 0);
	memcpy(sa.sun_path, path, strlen(path));
	assert_int_equal(connect(c.client, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(c.client, "ping", 4), 4);
	assert_int_equal(io_watch_fd(loop, c.client, ctl_client_cb, &c), 0);
	assert_int_equal(io_loop_run(loop), 0);
	assert_true(c.answered);
	assert_true(c.done);
	assert_string_equal(c.got, "pong");

	io_unwatch_fd(loop, c.lfd);
	close(c.lfd);
	close(c.client);
	/* With io_uring the kernel lets go of an unwatched fd by the end of io_loop_free. */
	end_loop(loop, &pool);

	/* The listener died without unlinking: the next start removes the stale file. */
	fd = io_unix_listen(path, 0600);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	unlink(other);
	rmdir(dir);
}

/* Signals: SIGHUP reaches the callback, SIGTERM stops the loop. */

struct sigs {
	struct io_loop *loop;
	int got[4];
	int ngot, ticks;
};

static void sigs_cb(void *ctx, int signo)
{
	struct sigs *s = ctx;

	if (s->ngot < 4)
		s->got[s->ngot++] = signo;
}

static void sigs_tick(void *ctx, uint64_t now)
{
	struct sigs *s = ctx;

	s->ticks++;
	raise(s->ticks == 1 ? SIGHUP : SIGTERM);
	if (s->ticks == 1)
		io_loop_set_deadline(s->loop, now + NSEC_PER_MSEC);
}

static void test_signals(void **state)
{
	struct pkt_pool pool;
	struct io_loop *loop = new_loop(state, &pool, 16, NULL);
	struct sigs s = {.loop = loop};
	sigset_t cur;

	assert_int_equal(io_loop_catch_signals(loop, sigs_cb, &s), 0);
	io_loop_on_deadline(loop, sigs_tick, &s);
	io_loop_set_deadline(loop, vw_clock_mono_ns() + NSEC_PER_MSEC);
	assert_int_equal(io_loop_run(loop), 0);
	assert_int_equal(s.ngot, 2);
	assert_int_equal(s.got[0], SIGHUP);
	assert_int_equal(s.got[1], SIGTERM);
	assert_int_equal(s.ticks, 2);
	end_loop(loop, &pool);
	/* The mask is back: SIGTERM is deliverable again. */
	sigprocmask(SIG_SETMASK, NULL, &cur);
	assert_false(sigismember(&cur, SIGTERM));
}

/* IO_AUTO: io_uring where the ring can be made, else epoll (noiouring, qemu-user). */

static void test_auto_backend(void **state)
{
	const char *refused = getenv("VWIRE_IO_REFUSED");
	struct pkt_pool pool;
	struct io_uring ring;
	struct io_loop *loop;
	int r;

	(void)state;
	assert_true(pkt_pool_init(&pool, 16, PKT_DEFAULT_SIZE));
	r = io_uring_queue_init(4, &ring, 0);
	if (!r)
		io_uring_queue_exit(&ring);
	loop = io_loop_new(IO_AUTO, &pool, NULL);
	assert_non_null(loop);
	print_message("IO_AUTO chose %s\n", io_loop_backend_name(loop));
	if (refused) {
		int want = !strcmp(refused, "ENOSYS") ? ENOSYS : EPERM;

		assert_int_equal(r, -want);
		assert_int_equal(io_loop_backend(loop), IO_EPOLL);
		assert_string_equal(io_loop_backend_name(loop), "epoll");
		io_loop_free(loop);
		assert_null(io_loop_new(IO_URING, &pool, NULL));
		assert_int_equal(errno, want);
	} else if (!r) {
		assert_int_equal(io_loop_backend(loop), IO_URING);
		assert_string_equal(io_loop_backend_name(loop), "io_uring");
		io_loop_free(loop);
	} else {
		assert_int_equal(io_loop_backend(loop), IO_EPOLL);
		io_loop_free(loop);
	}
	assert_int_equal(pool.nfree, pool.count);
	pkt_pool_destroy(&pool);
}

static void test_backend_parse(void **state)
{
	enum io_backend b;

	(void)state;
	assert_true(io_backend_parse("epoll", &b));
	assert_int_equal(b, IO_EPOLL);
	assert_true(io_backend_parse("uring", &b));
	assert_int_equal(b, IO_URING);
	assert_true(io_backend_parse("io_uring", &b));
	assert_int_equal(b, IO_URING);
	assert_true(io_backend_parse("auto", &b));
	assert_int_equal(b, IO_AUTO);
	assert_false(io_backend_parse("select", &b));
}

/*
 * TUN/TAP: root and /dev/net/tun only, in a child with its own network
 * namespace. The child reports with its exit status (77: skipped).
 */

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "child: %s:%d: %s failed\n", __FILE__, __LINE__, #c); \
			_exit(1);                                                             \
		}                                                                             \
	} while (0)

static void need_tun(void)
{
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK)) {
		print_message("needs root and /dev/net/tun: skipped\n");
		skip();
	}
}

/*
 * fork() without glibc's wrapper: under qemu-arm 7.2 (the cross suite) the
 * child of glibc's fork crashes before returning. The test process is
 * single-threaded until test_loop_in_other_thread, which runs last, so
 * skipping the atfork handlers is harmless.
 */
static pid_t plain_fork(void)
{
	fflush(NULL);
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

static void run_child(void **state, int (*fn)(const struct env *))
{
	const struct env *e = *state;
	int status;
	pid_t pid;

	need_tun();
	alarm(GUARD_SECONDS);
	pid = plain_fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (unshare(CLONE_NEWNET))
			_exit(77);
		_exit(fn(e));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	alarm(0);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("skipped in the child (no netns or no io_uring)\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

static struct io_loop *child_loop(const struct env *e, struct pkt_pool *pool)
{
	struct io_loop_opts opts = {.no_multishot = e->no_multishot};
	struct io_loop *loop;

	CHECK(pkt_pool_init(pool, 256, PKT_DEFAULT_SIZE));
	loop = io_loop_new(e->backend, pool, &opts);
	if (!loop && e->backend == IO_URING)
		_exit(77);
	CHECK(loop);
	return loop;
}

static bool has_addr(const char *ifname, int family, const char *text)
{
	struct ifaddrs *ifa, *i;
	uint8_t want[16];
	bool found = false;

	CHECK(inet_pton(family, text, want) == 1);
	CHECK(!getifaddrs(&ifa));
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) || i->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET &&
		    !memcmp(&((struct sockaddr_in *)i->ifa_addr)->sin_addr, want, 4))
			found = true;
		if (family == AF_INET6 &&
		    !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, want, 16))
			found = true;
	}
	freeifaddrs(ifa);
	return found;
}

static void addr_set(struct vw_ipaddr *a, int family, const char *text)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	CHECK(inet_pton(family, text, a->bytes) == 1);
}

/* An IPv4/UDP packet at p->data (valid header checksum, UDP checksum 0). */
static void build_udp4(struct pkt *p, const char *src, uint16_t sport, const char *dst,
		       uint16_t dport, const char *payload)
{
	size_t plen = strlen(payload);
	uint8_t *ip = pkt_put(p, (uint32_t)(28 + plen));

	CHECK(ip);
	memset(ip, 0, 28);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(28 + plen));
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	CHECK(inet_pton(AF_INET, src, ip + 12) == 1);
	CHECK(inet_pton(AF_INET, dst, ip + 16) == 1);
	put_be16(ip + 10, csum_ipv4_header(ip, 20));
	put_be16(ip + 20, sport);
	put_be16(ip + 22, dport);
	put_be16(ip + 24, (uint16_t)(8 + plen));
	memcpy(ip + 28, payload, plen);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	CHECK(!clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts));
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	CHECK(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

struct tunt {
	struct io_loop *loop;
	struct io_tun *tun;
	uint8_t mac[6];
	bool tap, read_ok, write_ok;
	int gone, gone_calls;
};

static void tunt_gone(void *ctx, struct io_tun *tun, int err)
{
	struct tunt *t = ctx;

	CHECK(tun == t->tun);
	t->gone = err;
	CHECK(++t->gone_calls == 1);
	/* Keep running a while: a second callback or a busy loop would show. */
	io_loop_set_deadline(t->loop, vw_clock_mono_ns() + 20 * NSEC_PER_MSEC);
}

static void tunt_stop(void *ctx, uint64_t now)
{
	struct tunt *t = ctx;

	(void)now;
	io_loop_stop(t->loop);
}

/* Looks for what the kernel sent through the device (other traffic, e.g. IPv6 ND, is ignored). */
static void tunt_rx(void *ctx, struct io_tun *tun, struct pkt_vec *v)
{
	struct tunt *t = ctx;

	(void)tun;
	for (uint32_t i = 0; i < v->n; i++) {
		const uint8_t *d = v->p[i]->data;
		uint32_t len = v->p[i]->len;

		if (!t->tap && len >= 28 + 9 && d[0] == 0x45 && d[9] == IPPROTO_UDP &&
		    !memcmp(d + 28, "hello-tun", 9))
			t->read_ok = true;
		/* TAP: the kernel asks who has 10.98.0.2, from the TAP's own MAC. */
		if (t->tap && len >= 42 && get_be16(d + 12) == 0x0806 &&
		    !memcmp(d + 6, t->mac, 6) && d[38] == 10 && d[39] == 98 && d[40] == 0 &&
		    d[41] == 2)
			t->read_ok = true;
	}
	pkt_vec_free(v);
	if (t->read_ok && t->write_ok)
		io_loop_stop(t->loop);
}

static void tunt_udp_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct tunt *t = ctx;
	struct vw_endpoint want;

	(void)sock;
	memset(&want, 0, sizeof(want));
	want.in4.sin_family = AF_INET;
	want.in4.sin_port = htons(5555);
	inet_pton(AF_INET, t->tap ? "10.98.0.2" : "10.99.0.2", &want.in4.sin_addr);
	for (uint32_t i = 0; i < v->n; i++)
		if (v->p[i]->len == 8 && !memcmp(v->p[i]->data, "from-tun", 8) &&
		    vw_endpoint_equal(&v->p[i]->src, &want))
			t->write_ok = true;
	pkt_vec_free(v);
	if (t->read_ok && t->write_ok)
		io_loop_stop(t->loop);
}

static int child_tun(const struct env *e, bool tap)
{
	enum io_backend b = e->backend;
	struct pkt_pool pool;
	struct io_loop *loop = child_loop(e, &pool);
	struct tunt t = {.loop = loop, .tap = tap};
	const char *prefix = tap ? "10.98.0" : "10.99.0";
	char local[16], peer[16];
	struct vw_ipaddr a;
	struct io_udp *u;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9999)};
	struct pkt_vec v;
	struct pkt *p;
	uint32_t mtu;
	uint64_t cpu;
	int fd;

	snprintf(local, sizeof(local), "%s.1", prefix);
	snprintf(peer, sizeof(peer), "%s.2", prefix);
	t.tun = io_tun_open(loop, tap ? "vwtap%d" : "vwtun%d", tap ? IO_DEV_TAP : IO_DEV_TUN,
			    tunt_rx, &t);
	io_loop_on_deadline(loop, tunt_stop, &t);
	CHECK(t.tun);
	CHECK(!io_tun_attached(t.tun));
	CHECK(!strncmp(io_tun_name(t.tun), tap ? "vwtap" : "vwtun", 5));
	CHECK(io_tun_ifindex(t.tun) > 0);
	CHECK(io_tun_set_mtu(t.tun, 1400) == 0);
	CHECK(io_netdev_get_mtu(io_tun_name(t.tun), &mtu) == 0 && mtu == 1400);
	CHECK(io_tun_set_up(t.tun) == 0);
	addr_set(&a, AF_INET, local);
	CHECK(io_tun_add_addr(t.tun, &a, 24) == 0);
	CHECK(io_tun_add_addr(t.tun, &a, 24) == 0); /* already there: fine */
	CHECK(has_addr(io_tun_name(t.tun), AF_INET, local));
	if (!access("/proc/sys/net/ipv6", F_OK)) {
		addr_set(&a, AF_INET6, "fd00:99::1");
		CHECK(io_tun_add_addr(t.tun, &a, 64) == 0);
		CHECK(has_addr(io_tun_name(t.tun), AF_INET6, "fd00:99::1"));
	}
	if (tap) {
		CHECK(io_tun_get_mac(t.tun, t.mac) == 0);
		CHECK(!(t.mac[0] & 1) &&
		      (t.mac[0] | t.mac[1] | t.mac[2] | t.mac[3] | t.mac[4] | t.mac[5]));
	} else {
		CHECK(io_tun_get_mac(t.tun, t.mac) == -EINVAL);
	}

	/* Write: a packet from the "peer" to a socket on our address comes out of the stack. */
	u = io_udp_open(loop, 0, tunt_udp_rx, &t);
	CHECK(u);
	p = pkt_alloc(&pool);
	CHECK(p);
	if (tap) {
		uint8_t *eth;

		build_udp4(p, peer, 5555, local, io_udp_port(u), "from-tun");
		eth = pkt_push(p, 14);
		memcpy(eth, t.mac, 6);
		memcpy(eth + 6, (const uint8_t[]){0x02, 0, 0, 0, 0, 0x02}, 6);
		put_be16(eth + 12, 0x0800);
	} else {
		build_udp4(p, peer, 5555, local, io_udp_port(u), "from-tun");
	}
	pkt_vec_init(&v);
	pkt_vec_add(&v, p);
	io_tun_write(loop, t.tun, &v);

	/* Read: what we send to the peer goes into the device. */
	inet_pton(AF_INET, peer, &to.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(fd >= 0);
	CHECK(sendto(fd, "hello-tun", 9, 0, (struct sockaddr *)&to, sizeof(to)) == 9 || tap);
	if (tap)
		sendto(fd, "hello-tun", 9, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK(io_loop_run(loop) == 0);
	close(fd);
	/* Reads in flight wait in poll, not in io-wq worker threads (O_NONBLOCK device). */
	CHECK(b != IO_URING || count_threads() == 1);
	CHECK(t.read_ok);
	CHECK(t.write_ok);
	CHECK(io_tun_stats(t.tun)->tx_packets == 1);
	CHECK(io_tun_stats(t.tun)->rx_packets >= 1);
	CHECK(io_tun_stats(t.tun)->rx_errors == 0);

	/* Device deleted under us (wg-quick down): one error callback, then silence. */
	io_tun_on_error(t.tun, tunt_gone, &t);
	CHECK(io_netlink_del_link(io_tun_ifindex(t.tun)) == 0);
	cpu = cpu_ns();
	CHECK(io_loop_run(loop) == 0);
	cpu = cpu_ns() - cpu;
	CHECK(t.gone == -EBADFD);
	/* The 20 ms after the error were spent waiting, not retrying a dead fd. */
	CHECK(cpu < 10 * NSEC_PER_MSEC);
	CHECK(io_tun_stats(t.tun)->rx_errors == 1);
	io_loop_free(loop);
	CHECK(pool.nfree == pool.count);
	pkt_pool_destroy(&pool);
	return 0;
}

static int child_tun_l3(const struct env *e)
{
	return child_tun(e, false);
}

static int child_tap(const struct env *e)
{
	return child_tun(e, true);
}

static void test_tun(void **state)
{
	run_child(state, child_tun_l3);
}

static void test_tap(void **state)
{
	run_child(state, child_tap);
}

/* TUN reads: more frames than the ring holds at once, all read; then what an idle TUN holds. */

#define TUNB_N 64

struct tunb {
	struct io_loop *loop;
	uint32_t got;
};

static void tunb_rx(void *ctx, struct io_tun *tun, struct pkt_vec *v)
{
	struct tunb *t = ctx;

	(void)tun;
	for (uint32_t i = 0; i < v->n; i++) {
		const uint8_t *d = v->p[i]->data;

		if (v->p[i]->len == 28 + 5 && d[0] == 0x45 && d[9] == IPPROTO_UDP &&
		    !memcmp(d + 28, "burst", 5) && pkt_headroom(v->p[i]) == PKT_HEADROOM)
			t->got++;
	}
	pkt_vec_free(v);
	if (t->got == TUNB_N)
		io_loop_stop(t->loop);
}

static void tunb_timeout(void *ctx, uint64_t now)
{
	(void)now;
	io_loop_stop(ctx);
}

static int child_tun_burst(const struct env *e)
{
	struct io_loop_opts opts = {.rx_depth = 5, .no_multishot = e->no_multishot};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9999)};
	struct pkt_pool pool;
	struct io_loop *loop;
	struct tunb t = {0};
	struct io_tun *tun;
	struct vw_ipaddr a;
	char path[96];
	uint32_t held;
	int fd;

	CHECK(pkt_pool_init(&pool, 128, PKT_DEFAULT_SIZE));
	loop = io_loop_new(e->backend, &pool, &opts);
	if (!loop && e->backend == IO_URING)
		_exit(77);
	CHECK(loop);
	t.loop = loop;
	tun = io_tun_open(loop, "vwtb%d", IO_DEV_TUN, tunb_rx, &t);
	CHECK(tun);
	/* No IPv6 (router solicitations, MLD): the only frames read are the burst. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", io_tun_name(tun));
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		CHECK(write(fd, "1", 1) == 1);
		close(fd);
	}
	CHECK(io_tun_set_up(tun) == 0);
	addr_set(&a, AF_INET, "10.96.0.1");
	CHECK(io_tun_add_addr(tun, &a, 24) == 0);
	inet_pton(AF_INET, "10.96.0.2", &to.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(fd >= 0);
	for (int i = 0; i < TUNB_N; i++)
		CHECK(sendto(fd, "burst", 5, 0, (struct sockaddr *)&to, sizeof(to)) == 5);
	close(fd);
	io_loop_on_deadline(loop, tunb_timeout, loop);
	io_loop_set_deadline(loop, vw_clock_mono_ns() + 5 * NSEC_PER_SEC);
	CHECK(io_loop_run(loop) == 0);
	CHECK(t.got == TUNB_N);
	CHECK(io_tun_stats(tun)->rx_errors + io_tun_stats(tun)->rx_truncated == 0);
	io_loop_set_deadline(loop, vw_clock_mono_ns() + NSEC_PER_MSEC);
	CHECK(io_loop_run(loop) == 0);
	held = pool.count - pool.nfree;
	if (e->backend == IO_EPOLL)
		CHECK(held == 0);
	else if (e->no_multishot)
		CHECK(held == 5);
	else
		CHECK(held == 8 || (!kernel_at_least(6, 7) && held == 5));
	io_tun_close(tun);
	io_loop_set_deadline(loop, vw_clock_mono_ns() + NSEC_PER_MSEC);
	CHECK(io_loop_run(loop) == 0);
	CHECK(pool.nfree == pool.count);
	io_loop_free(loop);
	CHECK(pool.nfree == pool.count);
	pkt_pool_destroy(&pool);
	return 0;
}

static void test_tun_burst(void **state)
{
	run_child(state, child_tun_burst);
}

/* A persistent TUN made by root for uid 65534, attached by that user with no privileges. */

#define NOBODY 65534

/*
 * Where /dev/net/tun is 0600 (some VMs; Debian makes it 0666), give this
 * child's own mount namespace a 0666 node, as the unprivileged setup expects.
 */
#define SKIP_UNLESS(c)                                                                            \
	do {                                                                                      \
		if (!(c)) {                                                                       \
			fprintf(stderr, "child: %s:%d: %s failed: skipped\n", __FILE__, __LINE__, \
				#c);                                                              \
			_exit(77);                                                                \
		}                                                                                 \
	} while (0)

static void open_tun_node(char *dir)
{
	struct stat st;
	char node[64];

	CHECK(!stat("/dev/net/tun", &st));
	if ((st.st_mode & 0666) == 0666) {
		*dir = 0;
		return;
	}
	SKIP_UNLESS(!unshare(CLONE_NEWNS));
	SKIP_UNLESS(!mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL));
	SKIP_UNLESS(mkdtemp(dir));
	SKIP_UNLESS(!mount("tmpfs", dir, "tmpfs", 0, "mode=0755,size=16k"));
	snprintf(node, sizeof(node), "%s/tun", dir);
	SKIP_UNLESS(!mknod(node, S_IFCHR | 0666, makedev(10, 200)));
	SKIP_UNLESS(!chmod(node, 0666));
	SKIP_UNLESS(!mount(node, "/dev/net/tun", NULL, MS_BIND, NULL));
}

static int child_attach(const struct env *e)
{
	char dir[] = "/tmp/vwire-test-tun-XXXXXX";
	struct ifreq ifr;
	uint32_t mtu;
	int fd, status;
	pid_t pid;

	open_tun_node(dir);

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strcpy(ifr.ifr_name, "vwpers0");
	fd = open("/dev/net/tun", O_RDWR);
	CHECK(fd >= 0);
	CHECK(!ioctl(fd, TUNSETIFF, &ifr));
	CHECK(!ioctl(fd, TUNSETOWNER, NOBODY));
	CHECK(!ioctl(fd, TUNSETPERSIST, 1));
	close(fd);
	CHECK(!io_netdev_set_mtu("vwpers0", 1380));
	CHECK(!io_netdev_set_up("vwpers0"));

	pid = plain_fork();
	CHECK(pid >= 0);
	if (!pid) {
		struct pkt_pool pool;
		struct io_loop *loop;
		struct io_tun *t;
		struct vw_ipaddr a;

		CHECK(!setgroups(0, NULL) && !setgid(NOBODY) && !setuid(NOBODY));
		loop = child_loop(e, &pool);
		t = io_tun_open(loop, "vwpers0", IO_DEV_TUN, tunt_rx, NULL);
		if (!t)
			fprintf(stderr, "child: attach: %s\n", strerror(errno));
		CHECK(t);
		CHECK(io_tun_attached(t));
		/* Already right: nothing to do, no warning. */
		CHECK(io_tun_set_mtu(t, 1380) == 0);
		CHECK(io_tun_set_up(t) == 0);
		/* Not permitted unprivileged: warned, not an error. */
		CHECK(io_tun_set_mtu(t, 1300) == 0);
		addr_set(&a, AF_INET, "10.97.0.1");
		CHECK(io_tun_add_addr(t, &a, 24) == 0);
		CHECK(io_netdev_set_mtu("vwpers0", 1300) == -EPERM);
		CHECK(!io_netdev_get_mtu("vwpers0", &mtu) && mtu == 1380);
		io_loop_free(loop);
		CHECK(pool.nfree == pool.count);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	if (*dir) {
		umount2("/dev/net/tun", MNT_DETACH);
		umount2(dir, MNT_DETACH);
		rmdir(dir);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static void test_tun_attach_unprivileged(void **state)
{
	run_child(state, child_attach);
}

#define EACH(f)                                                       \
	{"uring_" #f, f, NULL, NULL, &env_uring},                     \
		{"uring_perop_" #f, f, NULL, NULL, &env_uring_perop}, \
		{"uring_one_" #f, f, NULL, NULL, &env_uring_one},     \
	{                                                             \
		"epoll_" #f, f, NULL, NULL, &env_epoll                \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_parse),
		cmocka_unit_test(test_auto_backend),
		EACH(test_udp_echo_v4),
		EACH(test_udp_echo_v6),
		EACH(test_udp_echo_gso_v4),
		EACH(test_udp_echo_gso_v6),
		EACH(test_udp_echo_gro_v4),
		EACH(test_pool_exhaustion),
		EACH(test_send_drops),
		EACH(test_udp_rebind),
		EACH(test_rx_buffers_held),
		EACH(test_udp_burst),
		EACH(test_udp_close_returns_buffers),
		EACH(test_udp_rebind_burst),
		EACH(test_udp_truncated),
		EACH(test_deadline),
		EACH(test_unix_watch),
		EACH(test_signals),
		EACH(test_tun),
		EACH(test_tap),
		EACH(test_tun_burst),
		EACH(test_tun_attach_unprivileged),
		/* Last: it starts a thread, and plain_fork is only safe before one ran. */
		EACH(test_loop_in_other_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
