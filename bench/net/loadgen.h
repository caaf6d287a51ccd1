/* SPDX-License-Identifier: MIT */
#ifndef VW_BENCH_NET_LOADGEN_H
#define VW_BENCH_NET_LOADGEN_H

/*
 * What the network benchmarks' load tools (udpblast, hsflood) share: a clock, their own
 * CPU time (they report it, so a figure can be read against what the load cost), and
 * numeric arguments checked against a range. Each tool has its own usage().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static inline double loadgen_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline double loadgen_cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* s as a number in lo..hi; anything else goes to usage() (which exits) with what was wrong. */
static inline double loadgen_number(const char *s, const char *what, double lo, double hi,
				    void (*usage)(const char *why))
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi) {
		char msg[160];

		snprintf(msg, sizeof(msg), "bad %s '%s' (%g to %g)", what, s, lo, hi);
		usage(msg);
	}
	return v;
}

#endif
