/* SPDX-License-Identifier: MIT */
#ifndef VW_IO_UNIX_H
#define VW_IO_UNIX_H

#include <sys/types.h>

/*
 * Control sockets (the wg UAPI and vwirectl): unix stream sockets, served by
 * io_watch_fd callbacks.
 *
 * io_unix_listen binds and listens at path with the given mode (0600), the
 * file never having been reachable with a wider one. A socket file left by a
 * dead process is removed; one that still accepts connections gives
 * -EADDRINUSE, and a path that is not a socket -EEXIST (never removed).
 * Returns a nonblocking, close-on-exec fd, or -errno.
 */
int io_unix_listen(const char *path, mode_t mode);
/*
 * Whether a process serves the socket at path: 1 (it keeps accepting connections for
 * IO_UNIX_PROBE_MS), 0 (refused: a dead process's socket), or -errno. A socket must keep
 * accepting because a process killed with an io_uring still open has its files closed
 * asynchronously after it is gone: its socket accepted for up to 35 ms more, measured.
 */
#define IO_UNIX_PROBE_MS 200
int io_unix_served(const char *path);
/* accept4 nonblocking and close-on-exec; fd or -errno (-EAGAIN: nothing pending). */
int io_unix_accept(int listen_fd);

#endif
