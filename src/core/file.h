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

#endif
