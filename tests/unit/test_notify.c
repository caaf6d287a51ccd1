/* SPDX-License-Identifier: MIT */
/*
 * vwired_notify (src/daemon/notify.c) against a datagram socket the test binds where
 * systemd would, as a file and in the abstract namespace: the state arrives as one
 * datagram, byte for byte; unset or empty NOTIFY_SOCKET sends nothing; a value systemd
 * would never give, or a socket nobody holds, is an error and not a crash.
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

#include "daemon/notify.h"

struct t {
	char dir[64];
	char path[128];
	int fd;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/vwire-notify-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/notify", t->dir);
	t->fd = -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	if (t->fd >= 0)
		close(t->fd);
	unlink(t->path);
	rmdir(t->dir);
	unsetenv("NOTIFY_SOCKET");
	free(t);
	return 0;
}

/* name: a path, or "@..." for the abstract namespace, as NOTIFY_SOCKET spells it. */
static int bind_dgram(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	/* One datagram per call. */
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_path_socket(void **state)
{
	struct t *t = *state;

	t->fd = bind_dgram(t->path);
	assert_int_equal(setenv("NOTIFY_SOCKET", t->path, 1), 0);
	assert_int_equal(vwired_notify("READY=1"), 1);
	expect_datagram(t->fd, "READY=1");
	assert_int_equal(vwired_notify("STOPPING=1"), 1);
	expect_datagram(t->fd, "STOPPING=1");
	/* Several assignments travel in one datagram, a line each. */
	assert_int_equal(vwired_notify("READY=1\nSTATUS=listening"), 1);
	expect_datagram(t->fd, "READY=1\nSTATUS=listening");
}

static void test_abstract_socket(void **state)
{
	struct t *t = *state;
	char name[108];

	/* Abstract names are per network namespace, not per folder: one of this run's own. */
	snprintf(name, sizeof(name), "@vwire-test-notify/%ld/%s", (long)getpid(), t->dir + 5);
	t->fd = bind_dgram(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(vwired_notify("READY=1"), 1);
	expect_datagram(t->fd, "READY=1");
}

/* A longest abstract name fills sun_path with no NUL at its end, and still arrives. */
static void test_abstract_longest(void **state)
{
	struct t *t = *state;
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1], longer[sizeof(name) + 1];
	int n = snprintf(name, sizeof(name), "@vwire-test-notify/%ld/", (long)getpid());

	memset(name + n, 'x', sizeof(name) - 1 - (size_t)n);
	name[sizeof(name) - 1] = '\0';
	t->fd = bind_dgram(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(vwired_notify("READY=1"), 1);
	expect_datagram(t->fd, "READY=1");

	/* One more character than sun_path holds. */
	snprintf(longer, sizeof(longer), "%sx", name);
	assert_int_equal(setenv("NOTIFY_SOCKET", longer, 1), 0);
	assert_int_equal(vwired_notify("READY=1"), -ENAMETOOLONG);
}

/* Outside systemd: nothing to do, and nothing fails. */
static void test_unset(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(vwired_notify("READY=1"), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(vwired_notify("READY=1"), 0);
}

static void test_errors(void **state)
{
	struct t *t = *state;
	char longest[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];

	/* Neither a path nor '@': not something this daemon can send to. */
	assert_int_equal(setenv("NOTIFY_SOCKET", "notify", 1), 0);
	assert_int_equal(vwired_notify("READY=1"), -EAFNOSUPPORT);
	/* A path must leave room for its NUL in sun_path. */
	memset(longest, 'a', sizeof(longest) - 1);
	longest[0] = '/';
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(setenv("NOTIFY_SOCKET", longest, 1), 0);
	assert_int_equal(vwired_notify("READY=1"), -ENAMETOOLONG);
	/* Nobody there: the caller hears why. */
	assert_int_equal(setenv("NOTIFY_SOCKET", t->path, 1), 0);
	assert_int_equal(vwired_notify("READY=1"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_path_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abstract_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abstract_longest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
