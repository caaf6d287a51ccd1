/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_OUT_H
#define VW_DAEMON_OUT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A growable text buffer for control-socket answers (ctl.c, metrics.c). An allocation
 * that fails sets oom and drops the text: the answer is then an error, never a cut one.
 */
struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
