/* SPDX-License-Identifier: MIT */
/*
 * The control sockets' client machinery (src/daemon/ctlsock.c) on a real loop, io_uring
 * (skipped where the ring cannot be created) and epoll: requests framed across reads and
 * pipelined, answers larger than the socket written as the client takes them while
 * other clients are served, the client limit, the input bound, end of input, and the
 * request timeout. The test is the only client and never blocks: whatever the loop did
 * not do while it ran, it did not do at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/pkt.h"
#include "daemon/ctlsock.h"
#include "io/loop.h"

#define GUARD_SECONDS	 30
#define TEST_MAX_REQUEST 512
/* An answer many times a unix socket's buffer. */
#define BIG_ANSWER (8u << 20)

struct env {
	enum io_backend backend;
	bool one_thread;
};

static struct env env_uring = {IO_URING, true};
static struct env env_epoll = {IO_EPOLL, false};

struct t {
	struct pkt_pool pool;
	struct io_loop *loop;
	struct ctlsock *sock;
	char dir[64], path[128];
	unsigned calls;
};

static uint8_t big_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 4099);
}

/*
 * A line protocol: "big" is answered with BIG_ANSWER bytes, "last" with "bye" (and
 * the client closed after it), anything else with "ok:LINE"; each answer ends in '\n'.
 */
static size_t on_request(void *ctx, struct ctlsock_client *c, char *in, size_t len, bool end)
{
	struct t *t = ctx;
	const char *nl = memchr(in, '\n', len);
	size_t line;

	(void)end;
	t->calls++;
	if (!nl)
		return 0;
	line = (size_t)(nl - in);
	if (line == 3 && !memcmp(in, "big", 3)) {
		char *buf = malloc(BIG_ANSWER);

		assert_non_null(buf);
		for (size_t i = 0; i < BIG_ANSWER; i++)
			buf[i] = (char)big_byte(i);
		assert_int_equal(ctlsock_reply_take(c, buf, BIG_ANSWER), 0);
		return line + 1;
	}
	if (line == 4 && !memcmp(in, "last", 4)) {
		assert_int_equal(ctlsock_reply(c, "bye\n", 4), 0);
		return CTLSOCK_LAST;
	}
	/* Two pieces: one answer. */
	assert_int_equal(ctlsock_reply(c, "ok:", 3), 0);
	assert_int_equal(ctlsock_reply(c, in, line + 1), 0);
	return line + 1;
}

static void stop_loop(void *ctx, uint64_t now)
{
	(void)now;
	io_loop_stop(ctx);
}

/* Runs the loop for ms milliseconds. */
static void spin(struct t *t, uint32_t ms)
{
	io_loop_set_deadline(t->loop, vw_clock_mono_ns() + ms * NSEC_PER_MSEC);
	assert_int_equal(io_loop_run(t->loop), 0);
}

static int setup(void **state)
{
	const struct env *e = *state;
	struct io_loop_opts o = {.one_thread = e->one_thread};
	struct t *t = calloc(1, sizeof(*t));

	alarm(GUARD_SECONDS);
	assert_non_null(t);
	assert_true(pkt_pool_init(&t->pool, 8, PKT_DEFAULT_SIZE));
	t->loop = io_loop_new(e->backend, &t->pool, &o);
	if (!t->loop) {
		int err = errno;

		pkt_pool_destroy(&t->pool);
		free(t);
		if (e->backend == IO_URING) {
			print_message("io_uring unavailable here (%s): skipped\n", strerror(err));
			*state = NULL;
			return 0;
		}
		fail_msg("io_loop_new: %s", strerror(err));
		return -1;
	}
	io_loop_on_deadline(t->loop, stop_loop, t->loop);
	snprintf(t->dir, sizeof(t->dir), "/tmp/vwire-ctl-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/t.ctl", t->dir);
	t->sock = ctlsock_new(t->loop, t->path, TEST_MAX_REQUEST, on_request, t);
	assert_non_null(t->sock);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	if (!t)
		return 0;
	ctlsock_free(t->sock);
	assert_int_equal(access(t->path, F_OK), -1); /* the socket file is gone */
	io_loop_free(t->loop);
	pkt_pool_destroy(&t->pool);
	rmdir(t->dir);
	free(t);
	alarm(0);
	return 0;
}

#define SKIP_WITHOUT_LOOP(t)    \
	do {                    \
		if (!(t)) {     \
			skip(); \
			return; \
		}               \
	} while (0)

/* A nonblocking client connected to the socket (the loop accepts it when it runs). */
static int client(struct t *t)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, t->path, strlen(t->path));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* What the daemon sent that is there now; *eof when it closed after it. */
static size_t drain(int fd, char *buf, size_t cap, bool *eof)
{
	size_t len = 0;

	*eof = false;
	while (len < cap) {
		ssize_t n = recv(fd, buf + len, cap - len, 0);

		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			*eof = true;
		else
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		break;
	}
	return len;
}

static void expect(int fd, const char *want, bool want_eof)
{
	char buf[256];
	bool eof;
	size_t n = drain(fd, buf, sizeof(buf) - 1, &eof);

	buf[n] = '\0';
	assert_string_equal(buf, want);
	assert_int_equal(eof, want_eof);
}

static struct ctlsock_stats stats(struct t *t)
{
	struct ctlsock_stats st = {0};

	ctlsock_add_stats(t->sock, &st);
	return st;
}

/* A request in pieces is answered once complete; requests in a row, each in turn. */
static void test_framing(void **state)
{
	struct t *t = *state;
	int fd;

	SKIP_WITHOUT_LOOP(t);
	fd = client(t);
	send_str(fd, "hel");
	spin(t, 20);
	expect(fd, "", false);
	send_str(fd, "lo\nwor");
	spin(t, 20);
	expect(fd, "ok:hello\n", false);
	send_str(fd, "ld\nagain\nlast\nignored\n");
	spin(t, 20);
	expect(fd, "ok:world\nok:again\nbye\n", true);
	close(fd);
}

/* End of input: an incomplete request goes unanswered; a complete one is answered. */
static void test_end_of_input(void **state)
{
	struct t *t = *state;
	int a, b;

	SKIP_WITHOUT_LOOP(t);
	a = client(t);
	b = client(t);
	send_str(a, "abc");
	shutdown(a, SHUT_WR);
	send_str(b, "one\ntwo\n");
	shutdown(b, SHUT_WR);
	spin(t, 20);
	expect(a, "", true);
	expect(b, "ok:one\nok:two\n", true);
	close(a);
	close(b);
}

/* max_request bytes and no request in them: closed unanswered, never a bigger buffer. */
static void test_input_bound(void **state)
{
	struct t *t = *state;
	char junk[TEST_MAX_REQUEST + 64];
	int fd;

	SKIP_WITHOUT_LOOP(t);
	memset(junk, 'x', sizeof(junk));
	fd = client(t);
	assert_int_equal(send(fd, junk, sizeof(junk), MSG_NOSIGNAL), (ssize_t)sizeof(junk));
	spin(t, 20);
	expect(fd, "", true);
	close(fd);
}

/*
 * A client that does not read a large answer holds only its own buffer: another is
 * answered meanwhile, and the first gets every byte of its answer once it reads.
 */
static void test_unread_answer(void **state)
{
	struct t *t = *state;
	const size_t want = BIG_ANSWER + strlen("ok:after\n");
	char *buf = malloc(want + 16);
	size_t got = 0;
	bool eof = false;
	int deaf, other;

	SKIP_WITHOUT_LOOP(t);
	assert_non_null(buf);
	deaf = client(t);
	send_str(deaf, "big\n");
	spin(t, 20);
	other = client(t);
	send_str(other, "ping\n");
	spin(t, 20);
	expect(other, "ok:ping\n", false);
	/* The deaf client's next request waits for its answer to be taken. */
	send_str(deaf, "after\n");
	for (int i = 0; i < 5000 && got < want && !eof; i++) {
		got += drain(deaf, buf + got, want + 16 - got, &eof);
		spin(t, 1);
	}
	got += drain(deaf, buf + got, want + 16 - got, &eof);
	assert_false(eof);
	assert_int_equal(got, want);
	for (size_t i = 0; i < BIG_ANSWER; i++)
		if ((uint8_t)buf[i] != big_byte(i))
			fail_msg("answer byte %zu differs", i);
	assert_memory_equal(buf + BIG_ANSWER, "ok:after\n", want - BIG_ANSWER);
	assert_int_equal(stats(t).clients_timed_out, 0);
	free(buf);
	close(deaf);
	close(other);
}

/* CTLSOCK_MAX_CLIENTS at once; the next ones are accepted and closed, and counted. */
static void test_client_limit(void **state)
{
	struct t *t = *state;
	int fds[CTLSOCK_MAX_CLIENTS + 3], extra;

	SKIP_WITHOUT_LOOP(t);
	/* A few at a time: the listen backlog is short. */
	for (int i = 0; i < CTLSOCK_MAX_CLIENTS + 3; i++) {
		fds[i] = client(t);
		spin(t, 1);
	}
	spin(t, 20);
	for (int i = 0; i < CTLSOCK_MAX_CLIENTS + 3; i++)
		expect(fds[i], "", i >= CTLSOCK_MAX_CLIENTS);
	assert_int_equal(stats(t).clients_refused, 3);
	/* A slot set free is taken again. */
	close(fds[0]);
	spin(t, 20);
	extra = client(t);
	send_str(extra, "in\n");
	spin(t, 20);
	expect(extra, "ok:in\n", false);
	assert_int_equal(stats(t).clients_refused, 3);
	close(extra);
	for (int i = 1; i < CTLSOCK_MAX_CLIENTS + 3; i++)
		close(fds[i]);
}

/* A request not complete within the timeout: closed and counted, with nothing else going on. */
static void test_request_timeout(void **state)
{
	struct t *t = *state;
	int slow, quick;

	SKIP_WITHOUT_LOOP(t);
	slow = client(t);
	send_str(slow, "sl");
	spin(t, CTLSOCK_REQUEST_TIMEOUT_MS / 2);
	send_str(slow, "o");
	quick = client(t);
	send_str(quick, "q\n");
	spin(t, 20);
	expect(quick, "ok:q\n", false);
	expect(slow, "", false);
	assert_int_equal(stats(t).clients_timed_out, 0);
	/* The deadline counts from connecting, not from the last byte. */
	spin(t, CTLSOCK_REQUEST_TIMEOUT_MS / 2 + 300);
	expect(slow, "", true);
	assert_int_equal(stats(t).clients_timed_out, 1);
	/* The quick client's answer was taken: its next request has a fresh deadline. */
	expect(quick, "", false);
	close(slow);
	close(quick);
}

#define BOTH(fn)                                                                   \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &env_uring), \
		cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &env_epoll)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_framing),	  BOTH(test_end_of_input), BOTH(test_input_bound),
		BOTH(test_unread_answer), BOTH(test_client_limit), BOTH(test_request_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
