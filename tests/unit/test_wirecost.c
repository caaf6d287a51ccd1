/* SPDX-License-Identifier: MIT */
/*
 * wirecost.c: RTT smoothing, the cost of a round trip, the hysteresis that keeps
 * jitter off the tree and the auto bridge priority, on a virtual clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bridge/wirecost.h"

#define SEC 1000000000ULL
#define MS  1000000ULL
#define US  1000ULL

static void test_rtt_first_sample(void **state)
{
	struct wc_rtt r = {0};

	(void)state;
	assert_true(wc_rtt_sample(&r, 40 * MS));
	assert_int_equal(r.srtt, 40 * MS);
	assert_int_equal(r.rttvar, 20 * MS);
	assert_int_equal(r.samples, 1);
}

static void test_rtt_smoothing(void **state)
{
	struct wc_rtt r = {0};

	(void)state;
	wc_rtt_sample(&r, 40 * MS);
	/* RTTVAR = 3/4 * 20 + 1/4 * |40 - 80| = 25; SRTT = 7/8 * 40 + 1/8 * 80 = 45 */
	assert_true(wc_rtt_sample(&r, 80 * MS));
	assert_int_equal(r.rttvar, 25 * MS);
	assert_int_equal(r.srtt, 45 * MS);
	/* RTTVAR = 3/4 * 25 + 1/4 * |45 - 5| = 28.75; SRTT = 7/8 * 45 + 1/8 * 5 = 40 */
	assert_true(wc_rtt_sample(&r, 5 * MS));
	assert_int_equal(r.rttvar, 28750 * US);
	assert_int_equal(r.srtt, 40 * MS);
	/* A steady RTT: SRTT converges to it, RTTVAR decays toward 0. */
	for (int i = 0; i < 200; i++)
		wc_rtt_sample(&r, 10 * MS);
	assert_true(r.srtt >= 10 * MS && r.srtt < 10 * MS + 10 * US);
	assert_true(r.rttvar < 10 * US);
	assert_int_equal(r.samples, 203);
}

static void test_rtt_rejects(void **state)
{
	struct wc_rtt r = {0};

	(void)state;
	assert_false(wc_rtt_sample(&r, 0));
	assert_false(wc_rtt_sample(&r, WC_RTT_MAX + 1));
	assert_int_equal(r.samples, 0);
	assert_true(wc_rtt_sample(&r, WC_RTT_MAX));
	assert_false(wc_rtt_sample(&r, UINT64_MAX));
	assert_int_equal(r.srtt, WC_RTT_MAX);
	assert_int_equal(r.samples, 1);
}

static void test_cost_mapping(void **state)
{
	(void)state;
	assert_int_equal(wc_cost_from_rtt(0, WC_MAX_COST_STP), 1);
	assert_int_equal(wc_cost_from_rtt(1 * MS, WC_MAX_COST_STP), 1);
	assert_int_equal(wc_cost_from_rtt(2 * MS, WC_MAX_COST_STP), 1);
	assert_int_equal(wc_cost_from_rtt(2 * MS + 1 * US, WC_MAX_COST_STP), 2);
	assert_int_equal(wc_cost_from_rtt(10 * MS, WC_MAX_COST_STP), 25);
	assert_int_equal(wc_cost_from_rtt(20 * MS, WC_MAX_COST_STP), 100);
	assert_int_equal(wc_cost_from_rtt(90 * MS, WC_MAX_COST_STP), 2025);
	assert_int_equal(wc_cost_from_rtt(98 * MS, WC_MAX_COST_STP), 2401);
	assert_int_equal(wc_cost_from_rtt(512 * MS, WC_MAX_COST_STP), 65535);
	assert_int_equal(wc_cost_from_rtt(512 * MS, WC_MAX_COST_RSTP), 65536);
	assert_int_equal(wc_cost_from_rtt(10 * SEC, WC_MAX_COST_RSTP), 25000000);
	assert_int_equal(wc_cost_from_rtt(UINT64_MAX, WC_MAX_COST_RSTP), 25000000);
	assert_int_equal(wc_cost_from_rtt(UINT64_MAX, WC_MAX_COST_STP), 65535);
	/* The seed's trap: the detour over the 10 ms wire must beat the 98 ms wire. */
	assert_true(wc_cost_from_rtt(98 * MS, WC_MAX_COST_STP) >
		    wc_cost_from_rtt(90 * MS, WC_MAX_COST_STP) +
			    wc_cost_from_rtt(10 * MS, WC_MAX_COST_STP));
	/* Monotonic over the 16-bit range. */
	for (uint64_t r = 1 * MS, last = 0; r < 600 * MS; r += 250 * US) {
		uint32_t c = wc_cost_from_rtt(r, WC_MAX_COST_STP);

		assert_true(c >= last);
		last = c;
	}
}

/* A deterministic generator for jitter. */
static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

/* base +- pct % uniformly */
static uint64_t jittered(uint64_t *s, uint64_t base, unsigned pct)
{
	uint64_t span = base * pct / 100;

	return base - span + rnd(s) % (2 * span + 1);
}

struct wire_sim {
	struct wc_rtt r;
	struct wc_hyst h;
	uint64_t now;
	unsigned changes;
};

static void sim_sample(struct wire_sim *w, uint64_t rtt, uint64_t step)
{
	w->now += step;
	assert_true(wc_rtt_sample(&w->r, rtt));
	if (wc_hyst_update(&w->h, &w->r, w->now))
		w->changes++;
}

static void sim_warm(struct wire_sim *w, uint64_t rtt)
{
	memset(w, 0, sizeof(*w));
	wc_hyst_init(&w->h);
	w->now = 5 * SEC;
	for (int i = 0; i < WC_WARMUP_SAMPLES; i++)
		sim_sample(w, rtt, 2 * SEC);
	w->changes = 0;
}

static void test_hysteresis_warmup_follows(void **state)
{
	struct wire_sim w;

	(void)state;
	memset(&w, 0, sizeof(w));
	wc_hyst_init(&w.h);
	assert_false(wc_hyst_update(&w.h, &w.r, 0)); /* nothing measured */
	assert_int_equal(w.h.applied, 0);
	sim_sample(&w, 180 * MS, 1 * SEC); /* a first sample twice too long */
	assert_int_equal(w.h.applied, 180 * MS);
	assert_int_equal(w.changes, 1);
	/* Warm-up follows the real round trip down, in steps of more than 5 %... */
	for (int i = 1; i < WC_WARMUP_SAMPLES; i++)
		sim_sample(&w, 90 * MS, 1 * SEC);
	assert_true(w.h.applied * 100 <= w.r.srtt * (100 + WC_WARMUP_BAND_PCT));
	assert_true(w.h.applied < 180 * MS * 3 / 4);
	/* ...but not each sample: every cost change sends BPDUs through the tree. */
	assert_true(w.changes > 1 && w.changes < WC_WARMUP_SAMPLES);
	/* Warm-up over: a small move no longer moves the cost. */
	w.changes = 0;
	sim_sample(&w, 120 * MS, 1 * SEC);
	assert_int_equal(w.changes, 0);
}

/* In warm-up, SRTT wandering within 5 % of what was applied changes nothing. */
static void test_hysteresis_warmup_small_moves(void **state)
{
	struct wire_sim w;

	(void)state;
	memset(&w, 0, sizeof(w));
	wc_hyst_init(&w.h);
	sim_sample(&w, 90 * MS, 1 * SEC);
	for (int i = 1; i < WC_WARMUP_SAMPLES; i++)
		sim_sample(&w, i % 2 ? 93 * MS : 88 * MS, 1 * SEC);
	assert_int_equal(w.changes, 1);
	assert_int_equal(w.h.applied, 90 * MS);
}

/* The target: 10 minutes of +-10 % jitter, no change at all. */
static void test_hysteresis_ignores_jitter(void **state)
{
	static const uint64_t bases[] = {10 * MS, 20 * MS, 90 * MS, 98 * MS, 250 * MS};
	uint64_t seed = 17;

	(void)state;
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		struct wire_sim w;
		uint64_t applied;

		sim_warm(&w, jittered(&seed, bases[b], 10));
		applied = w.h.applied;
		/* One sample every 250 ms (a quiet wire's probes): more chances to flap. */
		for (int i = 0; i < 10 * 60 * 4; i++)
			sim_sample(&w, jittered(&seed, bases[b], 10), 250 * MS);
		assert_int_equal(w.changes, 0);
		assert_int_equal(w.h.applied, applied);
	}
}

static void test_hysteresis_sustained_move(void **state)
{
	struct wire_sim w;
	uint64_t moved_at;

	(void)state;
	sim_warm(&w, 50 * MS);
	/* The route changes: 50 -> 80 ms. SRTT crosses 60 ms within a few samples. */
	while (w.r.srtt <= 60 * MS)
		sim_sample(&w, 80 * MS, 2 * SEC);
	moved_at = w.now;
	while (w.now < moved_at + WC_HOLD - 2 * SEC) {
		sim_sample(&w, 80 * MS, 2 * SEC);
		assert_int_equal(w.changes, 0);
		assert_int_equal(w.h.applied, 50 * MS);
	}
	sim_sample(&w, 80 * MS, 2 * SEC);
	sim_sample(&w, 80 * MS, 2 * SEC);
	assert_int_equal(w.changes, 1);
	assert_true(w.h.applied > 75 * MS && w.h.applied <= 80 * MS);
	/* And back down, the same way. */
	for (int i = 0; i < 40; i++)
		sim_sample(&w, 50 * MS, 2 * SEC);
	assert_int_equal(w.changes, 2);
	assert_true(w.h.applied < 60 * MS);
}

static void test_hysteresis_short_spikes(void **state)
{
	struct wire_sim w;

	(void)state;
	sim_warm(&w, 50 * MS);
	/*
	 * A queue doubling the round trip for 10 s at a time: SRTT stays out of the band
	 * for about 24 s of each (it takes a while to come back), never for 30.
	 */
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 5; i++)
			sim_sample(&w, 100 * MS, 2 * SEC);
		for (int i = 0; i < 15; i++)
			sim_sample(&w, 50 * MS, 2 * SEC);
	}
	assert_int_equal(w.changes, 0);
	assert_int_equal(w.h.applied, 50 * MS);
}

static uint16_t prio(const uint64_t *rtts, size_t n)
{
	return wc_auto_priority(rtts, n, 0);
}

static void test_priority_seed(void **state)
{
	const uint64_t rho[] = {10 * MS, 15 * MS, 90 * MS, 90 * MS};
	const uint64_t bob[] = {10 * MS, 98 * MS, 98 * MS};
	const uint64_t epsilon[] = {90 * MS, 98 * MS, 20 * MS};
	const uint64_t pi0[] = {15 * MS};

	(void)state;
	/* Scores (mean / min): epsilon 3.47, rho 5.1, bob 6.9; pi0 is a leaf. */
	assert_int_equal(prio(epsilon, 3), 7 * 4096);
	assert_int_equal(prio(rho, 4), 9 * 4096);
	assert_int_equal(prio(bob, 3), 11 * 4096);
	assert_int_equal(prio(pi0, 1), WC_PRIORITY_LEAF);
	assert_true(prio(epsilon, 3) < prio(rho, 4));
}

static void test_priority_edges(void **state)
{
	const uint64_t alike[] = {50 * MS, 50 * MS, 50 * MS};
	const uint64_t unmeasured[] = {0, 50 * MS, 0};
	const uint64_t extreme[] = {1 * MS, 10 * SEC, 10 * SEC};

	(void)state;
	assert_int_equal(prio(alike, 3), 4096);
	assert_int_equal(prio(unmeasured, 3), WC_PRIORITY_LEAF);
	assert_int_equal(prio(NULL, 0), WC_PRIORITY_LEAF);
	assert_int_equal(prio(extreme, 3), 14 * 4096);
}

static void test_priority_hysteresis(void **state)
{
	/* mean/min = 2^(8/4) = 4 exactly at the edge of step 8; just under it is step 7. */
	uint64_t under[] = {10 * MS, 10 * MS, 50 * MS - 10 * US, 90 * MS - 10 * US};
	uint64_t over[] = {10 * MS, 10 * MS, 50 * MS + 10 * US, 90 * MS + 10 * US};
	/* Well past half a step beyond either edge: mean/min = 4.5 and 3.2. */
	uint64_t far_over[] = {10 * MS, 10 * MS, 60 * MS, 100 * MS};
	uint64_t far_under[] = {10 * MS, 10 * MS, 30 * MS, 78 * MS};

	(void)state;
	assert_int_equal(prio(under, 4), 7 * 4096);
	assert_int_equal(prio(over, 4), 8 * 4096);
	/* On the edge, the step in use stays. */
	assert_int_equal(wc_auto_priority(under, 4, 8 * 4096), 8 * 4096);
	assert_int_equal(wc_auto_priority(over, 4, 7 * 4096), 7 * 4096);
	/* Far from it, it moves. */
	assert_int_equal(wc_auto_priority(far_over, 4, 7 * 4096), 8 * 4096);
	assert_int_equal(wc_auto_priority(far_under, 4, 8 * 4096), 6 * 4096);
	/* A priority not on a step (explicit before) is no reason to keep anything. */
	assert_int_equal(wc_auto_priority(over, 4, 7 * 4096 + 1), 8 * 4096);
}

/*
 * Start-up: the leaf priority while a wire is in warm-up, then (level - 1) s more, then
 * the score; a wire that comes up meanwhile restarts the wait; after that every change.
 */
static void test_priority_startup(void **state)
{
	const uint64_t eps[3] = {90 * MS, 20 * MS, 98 * MS}; /* 28672: level 7 */
	const uint64_t rho[4] = {10 * MS, 90 * MS, 90 * MS, 15 * MS};
	uint64_t part[3] = {90 * MS, 0, 98 * MS};
	uint64_t t0 = 5 * SEC;
	struct wc_prio p;

	(void)state;
	wc_prio_init(&p, t0);
	/* The two long wires alone would score 1 (4096): they must wait for the third. */
	assert_int_equal(wc_prio_update(&p, part, 3, true, WC_PRIORITY_LEAF, t0 + 4 * SEC),
			 WC_PRIORITY_LEAF);
	assert_int_equal(p.next_at, t0 + WC_START_MAX);
	/* All warm at t0 + 5 s: level 7 leaves the leaf phase 6 s later. */
	assert_int_equal(wc_prio_update(&p, eps, 3, false, WC_PRIORITY_LEAF, t0 + 5 * SEC),
			 WC_PRIORITY_LEAF);
	assert_int_equal(p.next_at, t0 + 11 * SEC);
	assert_int_equal(wc_prio_update(&p, eps, 3, false, WC_PRIORITY_LEAF, t0 + 10 * SEC),
			 WC_PRIORITY_LEAF);
	/* A wire came up in the meantime: the wait starts again once it is warm. */
	assert_int_equal(wc_prio_update(&p, eps, 3, true, WC_PRIORITY_LEAF, t0 + 10 * SEC),
			 WC_PRIORITY_LEAF);
	assert_int_equal(wc_prio_update(&p, eps, 3, false, WC_PRIORITY_LEAF, t0 + 12 * SEC),
			 WC_PRIORITY_LEAF);
	assert_int_equal(wc_prio_update(&p, eps, 3, false, WC_PRIORITY_LEAF, t0 + 18 * SEC - 1),
			 WC_PRIORITY_LEAF);
	assert_int_equal(wc_prio_update(&p, eps, 3, false, WC_PRIORITY_LEAF, t0 + 18 * SEC),
			 7 * WC_PRIORITY_STEP);
	assert_true(p.started);
	assert_int_equal(p.next_at, UINT64_MAX);
	/* Started: the score follows at once, with wc_auto_priority's hysteresis. */
	assert_int_equal(wc_prio_update(&p, rho, 4, true, 7 * WC_PRIORITY_STEP, t0 + 19 * SEC),
			 9 * WC_PRIORITY_STEP);

	/* A wire that never warms up holds the leaf phase for WC_START_MAX at most. */
	wc_prio_init(&p, t0);
	part[1] = 0;
	assert_int_equal(wc_prio_update(&p, part, 3, true, WC_PRIORITY_LEAF, t0 + WC_START_MAX - 1),
			 WC_PRIORITY_LEAF);
	/* 90 and 98 ms: score 1.04, level 0, taken as 1: no wait. */
	assert_int_equal(wc_prio_update(&p, part, 3, true, WC_PRIORITY_LEAF, t0 + WC_START_MAX),
			 WC_PRIORITY_STEP);
	/* Fewer than two wires measured: the leaf priority, after the leaf's own wait. */
	wc_prio_init(&p, t0);
	assert_int_equal(wc_prio_update(&p, eps, 1, false, WC_PRIORITY_LEAF, t0), WC_PRIORITY_LEAF);
	assert_false(p.started);
	assert_int_equal(p.next_at, t0 + 14 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtt_first_sample),
		cmocka_unit_test(test_rtt_smoothing),
		cmocka_unit_test(test_rtt_rejects),
		cmocka_unit_test(test_cost_mapping),
		cmocka_unit_test(test_hysteresis_warmup_follows),
		cmocka_unit_test(test_hysteresis_warmup_small_moves),
		cmocka_unit_test(test_hysteresis_ignores_jitter),
		cmocka_unit_test(test_hysteresis_sustained_move),
		cmocka_unit_test(test_hysteresis_short_spikes),
		cmocka_unit_test(test_priority_seed),
		cmocka_unit_test(test_priority_edges),
		cmocka_unit_test(test_priority_hysteresis),
		cmocka_unit_test(test_priority_startup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
