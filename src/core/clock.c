/* SPDX-License-Identifier: MIT */
#include "clock.h"

#include <time.h>

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t vw_clock_mono_ns(void)
{
	/* BOOTTIME keeps counting across suspend, so session ages stay honest. */
	return read_clock(CLOCK_BOOTTIME);
}

uint64_t vw_clock_wall_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}
