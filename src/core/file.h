/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_FILE_H
#define VW_CORE_FILE_H

#include <stddef.h>

/*
 * Reads the regular file PATH, of at most max bytes, into a fresh buffer (one byte
 * longer than the file, that byte not set). Returns 0, or -1 with "PATH: why" in err.
 * The caller frees the buffer, wiping it first when the file may hold keys.
 */
int vw_read_file(const char *path, size_t max, char **out, size_t *outlen, char *err,
		 size_t errlen);
/*
 * The same from an open file, read from its start (a file another process opened and
 * passed over a unix socket); name is what err calls it. fd stays open.
 */
int vw_read_fd(int fd, const char *name, size_t max, char **out, size_t *outlen, char *err,
	       size_t errlen);

#endif
