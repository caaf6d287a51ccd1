/* SPDX-License-Identifier: MIT */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>

void vw_sbuf_init(struct vw_sbuf *b, char *buf, size_t size)
{
	b->buf = buf;
	b->size = size;
	b->len = 0;
	if (size)
		buf[0] = 0;
}

void vw_sbuf_printf(struct vw_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->len < b->size ? b->size - b->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}
