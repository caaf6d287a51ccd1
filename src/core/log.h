/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_LOG_H
#define VW_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Logging for the daemon and tools. Protocol modules do not log: they count
 * (DESIGN.md principle 6), and the daemon decides what is worth a line.
 */
enum vw_log_level { VW_LOG_ERROR, VW_LOG_WARN, VW_LOG_INFO, VW_LOG_DEBUG };

void vw_log_set_level(enum vw_log_level level);
void vw_log_set_prefix(const char *prefix);
void vw_log(enum vw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define vw_err(...) vw_log(VW_LOG_ERROR, __VA_ARGS__)
#define vw_warn(...) vw_log(VW_LOG_WARN, __VA_ARGS__)
#define vw_info(...) vw_log(VW_LOG_INFO, __VA_ARGS__)
#define vw_debug(...) vw_log(VW_LOG_DEBUG, __VA_ARGS__)

/*
 * Per-packet log lines go through a limiter: at most `burst` lines, refilled at
 * one per `interval_ns`. now_ns comes from the caller's clock.
 */
struct vw_ratelimit {
	uint64_t interval_ns;
	uint64_t last_ns;
	uint32_t burst;
	uint32_t tokens;
	uint64_t suppressed;
};

bool vw_ratelimit_allow(struct vw_ratelimit *rl, uint64_t now_ns);

#endif
