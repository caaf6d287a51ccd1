/* SPDX-License-Identifier: MIT */
#ifndef VW_BENCH_H
#define VW_BENCH_H

/*
 * Tiny timing harness shared by bench/micro programs: run a body for at least
 * BENCH_MIN_NS (and at least once), report ns/op and, given bytes per op, bytes/s.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define BENCH_MIN_NS 300000000ULL

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Prints one line: "name  ns/op  [MB/s]". bytes_per_op 0 omits the rate. */
static inline void bench_report(const char *name, uint64_t ops, uint64_t ns, uint64_t bytes_per_op)
{
	double per = (double)ns / (double)ops;

	if (bytes_per_op)
		printf("%-44s %12.1f ns/op %10.1f MB/s %8.2f Gbit/s\n", name, per,
		       (double)bytes_per_op * 1e3 / per, (double)bytes_per_op * 8.0 / per);
	else
		printf("%-44s %12.1f ns/op %12.0f op/s\n", name, per, 1e9 / per);
	fflush(stdout);
}

/*
 * BENCH(name, bytes_per_op) { body } runs body in batches until BENCH_MIN_NS
 * have passed, then reports. The body must have a side effect the compiler sees.
 */
#define BENCH(name, bytes_per_op, body)                                                    \
	do {                                                                               \
		uint64_t bench_ops_ = 0, bench_batch_ = 1, bench_t0_ = bench_now_ns(), bench_t_; \
		for (;;) {                                                                 \
			for (uint64_t bench_i_ = 0; bench_i_ < bench_batch_; bench_i_++) { \
				body;                                                      \
			}                                                                  \
			bench_ops_ += bench_batch_;                                        \
			bench_t_ = bench_now_ns() - bench_t0_;                             \
			if (bench_t_ >= BENCH_MIN_NS)                                      \
				break;                                                     \
			if (bench_batch_ < (1u << 20))                                     \
				bench_batch_ *= 2;                                         \
		}                                                                          \
		bench_report(name, bench_ops_, bench_t_, bytes_per_op);                    \
	} while (0)

#endif
