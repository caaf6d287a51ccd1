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
 * for the first WC_WARMUP_SAMPLES samples it follows SRTT when SRTT moved more
 * than WC_WARMUP_BAND_PCT % from it (the first samples alone are too noisy to
 * settle on, but every path cost change sends BPDUs through the tree: a cost
 * that followed each sample kept a network busy just as a host died); after
 * that only when SRTT has stayed more than WC_BAND_PCT % away from it, on one
 * side, for WC_HOLD.
 */
#define WC_WARMUP_SAMPLES  16
#define WC_WARMUP_BAND_PCT 5
#define WC_BAND_PCT	   20
#define WC_HOLD		   (30ULL * 1000000000ULL)

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

/*
 * Auto priority through start-up, so that the root moves once: from the leaf
 * phase (every bridge at WC_PRIORITY_LEAF) to its final host.
 *  - The bridge stays at WC_PRIORITY_LEAF while one of its wires is still in
 *    warm-up (its round trip would move the score), for at most WC_START_MAX
 *    after start-up began: a wire whose peer is down or never answers holds it
 *    no longer than that. Wires whose session is not up yet hold it too: at
 *    start-up most are only a handshake away, and a score from the few wires
 *    measured first can be anything (rho's two 90 ms wires alone score 1).
 *  - Then it waits (level - 1) x WC_START_STEP, level = priority / 4096, before
 *    it leaves the leaf phase: bridges become ready at slightly different
 *    times, and this way the lowest priority comes first, so a bridge that is
 *    ready early does not become root for the seconds until a better one is.
 * After that, wc_auto_priority on every change. rtts[] are the filtered round
 * trips of the wires past warm-up (0 for the others).
 */
#define WC_START_MAX  (30ULL * 1000000000ULL)
#define WC_START_STEP (1ULL * 1000000000ULL)

struct wc_prio {
	bool started;	   /* left the leaf phase */
	uint64_t since;	   /* start-up began */
	uint64_t ready_at; /* no wire in warm-up since then (UINT64_MAX: one is) */
	uint64_t next_at;  /* when wc_prio_update wants calling without a change */
};

void wc_prio_init(struct wc_prio *p, uint64_t now);
/* The priority to use from now on; `warming`: a wire is still in warm-up. */
uint16_t wc_prio_update(struct wc_prio *p, const uint64_t *rtts, size_t n, bool warming,
			uint16_t current, uint64_t now);

#endif
