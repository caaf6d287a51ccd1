/* SPDX-License-Identifier: MIT */
/*
 * The run dir's rules and the --user cleaner (rundir.h says what and why).
 */
#include "daemon/rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "io/unix.h"

/* The run dir's subfolders: wg looks in wireguard/, vwirectl in vwire/. */
static const char *const rundir_subdirs[] = {"wireguard", "vwire"};

static bool owner_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static bool writable_by_others(mode_t mode)
{
	return mode & (S_IWGRP | S_IWOTH);
}

/* "root", or "root or uid N (NAME)" when vwired runs as someone else. */
static const char *trusted_owners(char *buf, size_t len)
{
	struct passwd *pw;

	if (geteuid() == 0)
		return "root";
	pw = getpwuid(geteuid());
	snprintf(buf, len, "root or uid %u%s%s%s", (unsigned)geteuid(), pw ? " (" : "",
		 pw ? pw->pw_name : "", pw ? ")" : "");
	return buf;
}

static int refuse_owner(const char *what, const char *path, uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	char owners[128];

	vw_err("unsafe run dir: %s%s is owned by uid %u%s%s%s, not by %s", what, path,
	       (unsigned)uid, pw ? " (" : "", pw ? pw->pw_name : "", pw ? ")" : "",
	       trusted_owners(owners, sizeof(owners)));
	return -1;
}

/* mkdir -p, 0755 like wireguard-go's; the checks come after, on what is there. */
static int make_path(const char *path)
{
	char tmp[PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Whoever may write to a parent may swap the run dir for another: none but its owner,
 * unless sticky. The real path, so that every folder the kernel walks is looked at.
 */
static int check_parents(const char *run_dir)
{
	char real[PATH_MAX], *slash;
	struct stat st;

	if (!realpath(run_dir, real)) {
		vw_err("cannot resolve the run dir %s: %s", run_dir, strerror(errno));
		return -1;
	}
	while ((slash = strrchr(real, '/'))) {
		slash[slash == real ? 1 : 0] = '\0';
		if (stat(real, &st)) {
			vw_err("cannot check %s, a parent of the run dir %s: %s", real, run_dir,
			       strerror(errno));
			return -1;
		}
		if (writable_by_others(st.st_mode) && !(st.st_mode & S_ISVTX)) {
			vw_err("unsafe run dir: %s, a parent of %s, is writable by group or others "
			       "and not sticky (mode %04o)",
			       real, run_dir, (unsigned)(st.st_mode & 07777));
			return -1;
		}
		if (slash == real)
			break;
	}
	return 0;
}

/* wireguard/ or vwire/: made if missing, never through a link, strictly ours. */
static int check_subdir(int dirfd, const char *run_dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", run_dir, name);
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST) {
		vw_err("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		vw_err("cannot check %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		vw_err("unsafe run dir: %s is a symbolic link, not a directory", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		vw_err("unsafe run dir: %s is not a directory", path);
		return -1;
	}
	if (!owner_trusted(st.st_uid))
		return refuse_owner("", path, st.st_uid);
	if (writable_by_others(st.st_mode)) {
		vw_err("unsafe run dir: %s is writable by group or others (mode %04o)", path,
		       (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int vwired_rundir_check(const char *run_dir)
{
	struct stat st;
	int fd, rc;

	if ((rc = make_path(run_dir)) < 0) {
		vw_err("cannot create the run dir %s: %s", run_dir, strerror(-rc));
		return -1;
	}
	if (lstat(run_dir, &st) == 0 && S_ISLNK(st.st_mode) && !owner_trusted(st.st_uid))
		return refuse_owner("the symbolic link ", run_dir, st.st_uid);
	fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		vw_err("cannot open the run dir %s: %s", run_dir, strerror(errno));
		return -1;
	}
	rc = -1;
	if (fstat(fd, &st)) {
		vw_err("cannot check the run dir %s: %s", run_dir, strerror(errno));
		goto out;
	}
	if (!owner_trusted(st.st_uid)) {
		refuse_owner("", run_dir, st.st_uid);
		goto out;
	}
	if (writable_by_others(st.st_mode) && !(st.st_mode & S_ISVTX)) {
		vw_err("unsafe run dir: %s is writable by group or others and not sticky (mode "
		       "%04o)",
		       run_dir, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (check_parents(run_dir))
		goto out;
	for (size_t i = 0; i < sizeof(rundir_subdirs) / sizeof(rundir_subdirs[0]); i++)
		if (check_subdir(fd, run_dir, rundir_subdirs[i]))
			goto out;
	rc = 0;
out:
	close(fd);
	return rc;
}

int vwired_rundir_claim(const char *path, const char *owner)
{
	struct sockaddr_un sa;
	struct stat st;
	int served;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		vw_err("cannot check %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		vw_err("%s is a symbolic link, not a socket: refusing to follow or replace it",
		       path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		vw_err("%s exists and is not a socket: refusing to replace it", path);
		return -1;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		vw_err("%s: path too long for a socket", path);
		return -1;
	}
	served = io_unix_served(path);
	if (served > 0) {
		vw_err("%s is already running: %s accepts connections", owner, path);
		return -1;
	}
	if (served < 0) {
		vw_err("cannot check %s: %s", path, strerror(-served));
		return -1;
	}
	if (unlink(path) && errno != ENOENT) {
		vw_err("cannot remove the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	vw_info("removed %s, a stale socket nothing accepts on (its process is gone)", path);
	return 0;
}

/* ---- the --user cleaner ---- */

/* What the cleaner is told per socket: the file it may remove, and no other. */
struct cleaner_rec {
	dev_t dev;
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* A --user vwired has at most three sockets (UAPI, vwirectl, bridge); room to spare. */
#define CLEANER_MAX 16

/*
 * One per process, like the privileges it stands in for: the process-wide setuid is
 * what makes it necessary.
 */
static pid_t cleaner_pid = -1;
static int cleaner_fd = -1;

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (ssize_t)got;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static _Noreturn void cleaner_main(int fd)
{
	static struct cleaner_rec recs[CLEANER_MAX];
	uint32_t n = 0;
	int null, status = 0;

	/* The signals that stop vwired (a whole process group, systemd) must not stop it. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	prctl(PR_SET_NAME, "vwired-cleanup");
	/*
	 * Holds nothing of vwired's, not even stderr: a daemonized vwired lets go of its
	 * caller's, and whoever reads that must not wait for this one. vwired reports its
	 * failures (the exit status).
	 */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	for (int i = STDERR_FILENO + 1; i < fd; i++)
		close(i);
	close_range((unsigned)fd + 1, ~0U, 0);

	for (;;) {
		struct cleaner_rec r;
		ssize_t got = read_full(fd, &r, sizeof(r));

		if (got != (ssize_t)sizeof(r))
			break; /* vwired closed its end or exited: time to clean */
		r.path[sizeof(r.path) - 1] = '\0';
		if (n < CLEANER_MAX)
			recs[n++] = r;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct stat st;

		/* Only the very file vwired made: a restarted vwired's socket stays. */
		if (lstat(recs[i].path, &st) || !S_ISSOCK(st.st_mode) || st.st_dev != recs[i].dev ||
		    st.st_ino != recs[i].ino)
			continue;
		if (unlink(recs[i].path) && errno != ENOENT)
			status = 1;
	}
	_exit(status);
}

int vwired_cleaner_start(void)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		vw_err("--user: cannot create the pipe to the socket cleaner: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		vw_err("--user: cannot fork the socket cleaner: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[1]);
		cleaner_main(fds[0]);
	}
	close(fds[0]);
	cleaner_pid = pid;
	cleaner_fd = fds[1];
	return 0;
}

void vwired_cleaner_add(const char *path)
{
	struct cleaner_rec r;
	struct stat st;

	if (cleaner_fd < 0)
		return;
	memset(&r, 0, sizeof(r));
	if (strlen(path) >= sizeof(r.path) || lstat(path, &st)) {
		vw_warn("%s: cannot hand it to the socket cleaner: it may stay behind at exit",
			path);
		return;
	}
	r.dev = st.st_dev;
	r.ino = st.st_ino;
	memcpy(r.path, path, strlen(path));
	/* Smaller than PIPE_BUF: written whole or not at all. */
	if (write(cleaner_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		vw_warn("%s: cannot hand it to the socket cleaner (%s): it may stay behind at exit",
			path, strerror(errno));
}

void vwired_cleaner_stop(void)
{
	int status = 0;

	if (cleaner_pid < 0)
		return;
	close(cleaner_fd);
	while (waitpid(cleaner_pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		vw_warn("the socket cleaner could not remove every socket: some may be left "
			"behind");
	cleaner_fd = -1;
	cleaner_pid = -1;
}
