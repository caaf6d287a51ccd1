/* SPDX-License-Identifier: MIT */
#include "io/unix.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define UNIX_BACKLOG	 16
#define UNIX_PROBE_EVERY 20 /* ms between two probes of io_unix_served */

/* One connect: 0 accepted (or its backlog is full), else the errno. */
static int unix_probe_once(const struct sockaddr_un *sa)
{
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err;

	if (probe < 0)
		return errno;
	err = connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) ? errno : 0;
	close(probe);
	return err == EAGAIN ? 0 : err;
}

static int unix_served_at(const struct sockaddr_un *sa)
{
	const struct timespec pause = {.tv_nsec = UNIX_PROBE_EVERY * 1000000L};

	for (int waited = 0;; waited += UNIX_PROBE_EVERY) {
		int err = unix_probe_once(sa);

		if (err == ECONNREFUSED || err == ENOENT)
			return 0;
		if (err)
			return -err;
		if (waited >= IO_UNIX_PROBE_MS)
			return 1;
		nanosleep(&pause, NULL);
	}
}

int io_unix_served(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	return unix_served_at(&sa);
}

/* 0 when path is free (or was a dead socket, now removed), else -errno. */
static int unix_clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int served;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	served = unix_served_at(sa);
	if (served < 0)
		return served;
	if (served)
		return -EADDRINUSE;
	if (unlink(sa->sun_path) && errno != ENOENT)
		return -errno;
	return 0;
}

int io_unix_listen(const char *path, mode_t mode)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, err, r;

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	err = unix_clear_stale(&sa);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The umask makes bind create the file with the final mode: no wider window. */
	old = umask((mode_t)(~mode & 0777));
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	err = errno;
	umask(old);
	if (r) {
		close(fd);
		return -err;
	}
	if (chmod(path, mode) || listen(fd, UNIX_BACKLOG)) {
		err = -errno;
		unlink(path);
		close(fd);
		return err;
	}
	return fd;
}

int io_unix_accept(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	return fd < 0 ? -errno : fd;
}
