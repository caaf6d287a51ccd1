/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_SBUF_H
#define VW_CORE_SBUF_H

#include <stddef.h>

/*
 * Text into a caller's buffer, snprintf's way: output is cut, never overrun, and
 * len counts what the whole text needs, so a caller can measure with size 0 and
 * then render into a buffer of len + 1 bytes.
 */
struct vw_sbuf {
	char *buf;
	size_t size;
	size_t len; /* needed so far, may exceed size */
};

void vw_sbuf_init(struct vw_sbuf *b, char *buf, size_t size);
void vw_sbuf_printf(struct vw_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
