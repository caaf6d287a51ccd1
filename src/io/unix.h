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
/* accept4 nonblocking and close-on-exec; fd or -errno (-EAGAIN: nothing pending). */
int io_unix_accept(int listen_fd);

#endif
