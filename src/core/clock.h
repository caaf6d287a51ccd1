/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_CLOCK_H
#define VW_CORE_CLOCK_H

#include <stdint.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

/*
 * The clocks, read only by src/io and src/daemon: protocol modules get time as
 * an argument. Monotonic drives timers; wall time feeds TAI64N timestamps.
 */
uint64_t vw_clock_mono_ns(void);
uint64_t vw_clock_wall_ns(void);

#endif
