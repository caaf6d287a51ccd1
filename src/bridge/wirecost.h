/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_WIRECOST_H
#define VW_BRIDGE_WIRECOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What a wire's measured round trip says about the tree: the port path cost of
 * `[Wire] Cost = auto` and the bridge priority of `[Bridge] Priority = auto`.
 * Pure: the caller measures the round trips and brings its clock. Times in ns.
 * docs/DESIGN.md ("Latency-aware costs") has the reasoning behind each number.
 *
 * Smoothing is RFC 6298's (2.2, 2.3): the first sample R sets SRTT = R and
 * RTTVAR = R/2; each next one RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, then
 * SRTT = 7/8 SRTT + 1/8 R.
 */
struct wc_rtt {
	uint64_t srtt, rttvar;
	uint64_t samples;
};

/* Samples above this (or 0) are not round trips of a live wire: not taken. */
#define WC_RTT_MAX (10ULL * 1000000000ULL)

/* Takes one sample; false (and nothing changes) when it cannot be one. */
bool wc_rtt_sample(struct wc_rtt *r, uint64_t rtt);

/*
 * The path cost of a round trip: (RTT / 2 ms)^2, rounded up, at least 1 and at
 * most max_cost. Squared, so that a detour over short wires costs less than a
 * slightly longer long wire (98 ms costs more than 90 + 10 ms). A 20 ms wire
 * costs 100, the 802.1D default; 2 ms or less costs 1; 512 ms reaches 65535.
 */
#define WC_MAX_COST_STP	 65535U	    /* 802.1D-1998: a kernel bridge's 16-bit path_cost */
#define WC_MAX_COST_RSTP 200000000U /* 802.1D-2004 17.14 */
uint32_t wc_cost_from_rtt(uint64_t rtt, uint32_t max_cost);

/*
 * The round trip the cost is computed from, moved only by a sustained change:
 * for the first WC_WARMUP_SAMPLES samples it follows SRTT (the tree is forming
 * anyway, and the first samples alone are too noisy to settle on); after that
 * only when SRTT has stayed more than WC_BAND_PCT % away from it, on one side,
 * for WC_HOLD.
 */
#define WC_WARMUP_SAMPLES 16
#define WC_BAND_PCT	  20
#define WC_HOLD		  (30ULL * 1000000000ULL)

struct wc_hyst {
	uint64_t applied;     /* 0: nothing measured yet */
	uint64_t moved_since; /* when SRTT left the band (UINT64_MAX: it is inside) */
	int moved_dir;	      /* +1 above, -1 below */
};

void wc_hyst_init(struct wc_hyst *h);
/* Call after each sample; true when `applied` changed. */
bool wc_hyst_update(struct wc_hyst *h, const struct wc_rtt *r, uint64_t now);

/*
 * Auto bridge priority from the (applied) round trips of this bridge's wires,
 * n of them. The score is the mean of the round trips over the shortest one;
 * the priority is 4096 x floor(4 log2 score), within 4096..57344: a bridge
 * whose wires are all alike scores low. A bridge with fewer than two measured
 * wires takes 61440, the largest 802.1D-2004 priority: a leaf as root gives the
 * tree of its one neighbour, with one more host to fail. `current` is the
 * priority in use: it is kept while the score stays within half a step beyond
 * its range, so that a score on a step's edge does not move the root back and
 * forth.
 */
#define WC_PRIORITY_STEP 4096U
#define WC_PRIORITY_LEAF 61440U
uint16_t wc_auto_priority(const uint64_t *rtts, size_t n, uint16_t current);

#endif
