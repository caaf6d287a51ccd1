/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static enum vw_log_level log_level = VW_LOG_INFO;
static const char *log_prefix = "vwire";

void vw_log_set_level(enum vw_log_level level)
{
	log_level = level;
}

void vw_log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

void vw_log(enum vw_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > log_level)
		return;
	fprintf(stderr, "%s: %s: ", log_prefix, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool vw_ratelimit_allow(struct vw_ratelimit *rl, uint64_t now_ns)
{
	if (rl->interval_ns && now_ns > rl->last_ns) {
		uint64_t refill = (now_ns - rl->last_ns) / rl->interval_ns;

		if (refill) {
			rl->tokens = refill >= rl->burst ? rl->burst : rl->tokens + (uint32_t)refill;
			if (rl->tokens > rl->burst)
				rl->tokens = rl->burst;
			rl->last_ns = now_ns;
		}
	}
	if (!rl->tokens) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	return true;
}
