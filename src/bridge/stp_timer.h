/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_STP_TIMER_H
#define VW_BRIDGE_STP_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * 802.1D timers on a caller's clock: a timer is a deadline in nanoseconds that
 * stp_tick() compares with the time it is given. Nothing here reads a clock.
 */
struct stp_timer {
	uint64_t expires;
	bool active;
};

#define STP_TIMER_NEVER UINT64_MAX

static inline void stp_timer_start(struct stp_timer *t, uint64_t now, uint64_t duration)
{
	t->active = true;
	t->expires = now + duration;
}

static inline void stp_timer_stop(struct stp_timer *t)
{
	t->active = false;
}

/* Running and not yet due (the kernel's timer_pending). */
static inline bool stp_timer_pending(const struct stp_timer *t, uint64_t now)
{
	return t->active && now < t->expires;
}

/* True once (the timer stops) when it has expired at `now`. */
static inline bool stp_timer_expired(struct stp_timer *t, uint64_t now)
{
	if (!t->active || now < t->expires)
		return false;
	t->active = false;
	return true;
}

/* Time left, 0 when stopped or due (what `brctl showstp` prints). */
static inline uint64_t stp_timer_remaining(const struct stp_timer *t, uint64_t now)
{
	if (!t->active || now >= t->expires)
		return 0;
	return t->expires - now;
}

static inline uint64_t stp_timer_deadline(const struct stp_timer *t)
{
	return t->active ? t->expires : STP_TIMER_NEVER;
}

/*
 * The kernel re-arms the hello and hold timers with round_jiffies(): to a whole
 * second, down when within a quarter second past one, else up, unless that is
 * not in the future. Doing the same keeps a bridge in step with kernel
 * neighbours, and keeps a relay's hold timer from expiring just after the next
 * root BPDU arrives (which would hold every relay back by a whole hello).
 */
static inline uint64_t stp_round_second(uint64_t now, uint64_t t)
{
	const uint64_t sec = 1000000000ULL;
	uint64_t rem = t % sec;
	uint64_t r = rem < sec / 4 ? t - rem : t - rem + sec;

	return r > now ? r : t;
}

struct stp_bridge;

/* 802.1D 8.7.x: the timer expiry procedures. */
void stp_hello_timer_expiry(struct stp_bridge *br);
void stp_tcn_timer_expiry(struct stp_bridge *br);
void stp_topology_change_timer_expiry(struct stp_bridge *br);
void stp_message_age_timer_expiry(struct stp_bridge *br, uint16_t port_no);
void stp_forward_delay_timer_expiry(struct stp_bridge *br, uint16_t port_no);
void stp_hold_timer_expiry(struct stp_bridge *br, uint16_t port_no);

/* Runs every timer due at `now` once. */
void stp_tick(struct stp_bridge *br, uint64_t now);
/* Earliest active timer, STP_TIMER_NEVER when none runs. */
uint64_t stp_next_deadline(const struct stp_bridge *br);

#endif
