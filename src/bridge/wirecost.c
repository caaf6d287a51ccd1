/* SPDX-License-Identifier: MIT */
#include "wirecost.h"

bool wc_rtt_sample(struct wc_rtt *r, uint64_t rtt)
{
	uint64_t diff;

	if (rtt == 0 || rtt > WC_RTT_MAX)
		return false;
	if (r->samples++ == 0) {
		r->srtt = rtt;
		r->rttvar = rtt / 2;
		return true;
	}
	diff = r->srtt > rtt ? r->srtt - rtt : rtt - r->srtt;
	r->rttvar = (3 * r->rttvar + diff) / 4;
	r->srtt = (7 * r->srtt + rtt) / 8;
	return true;
}

uint32_t wc_cost_from_rtt(uint64_t rtt, uint32_t max_cost)
{
	/* In microseconds, a 10 s round trip squared still fits in 64 bits. */
	uint64_t us = (rtt > WC_RTT_MAX ? WC_RTT_MAX : rtt) / 1000;
	uint64_t cost = (us * us + 3999999) / 4000000;

	if (cost < 1)
		cost = 1;
	return cost > max_cost ? max_cost : (uint32_t)cost;
}

void wc_hyst_init(struct wc_hyst *h)
{
	h->applied = 0;
	h->moved_since = UINT64_MAX;
	h->moved_dir = 0;
}

/* Which side of the band around `applied` srtt is on: 0 inside. */
static int band_side(uint64_t applied, uint64_t srtt, unsigned pct)
{
	uint64_t band = applied * pct / 100;

	if (srtt > applied + band)
		return 1;
	if (srtt + band < applied)
		return -1;
	return 0;
}

static bool adopt(struct wc_hyst *h, uint64_t srtt)
{
	bool changed = h->applied != srtt;

	h->applied = srtt;
	h->moved_since = UINT64_MAX;
	h->moved_dir = 0;
	return changed;
}

bool wc_hyst_update(struct wc_hyst *h, const struct wc_rtt *r, uint64_t now)
{
	int side;

	if (r->samples == 0)
		return false;
	if (h->applied == 0)
		return adopt(h, r->srtt);
	if (r->samples <= WC_WARMUP_SAMPLES)
		return band_side(h->applied, r->srtt, WC_WARMUP_BAND_PCT) && adopt(h, r->srtt);
	side = band_side(h->applied, r->srtt, WC_BAND_PCT);
	if (side == 0 || side != h->moved_dir) {
		/* Back inside, or across to the other side: a new move starts (or none). */
		h->moved_dir = side;
		h->moved_since = side ? now : UINT64_MAX;
		return false;
	}
	if (now - h->moved_since < WC_HOLD)
		return false;
	return adopt(h, r->srtt);
}

/* floor(8 log2 x) for x >= 1, without libm: eighths of a doubling. */
static int eighth_log2(double x)
{
	/* 2^(k/8), k = 0..8 */
	static const double steps[9] = {1.0,	      1.0905077327, 1.1892071150,
					1.2968395547, 1.4142135624, 1.5422108254,
					1.6817928305, 1.8340080864, 2.0};
	int e = 0, k = 0;

	while (x >= 2.0 && e < 8 * 62) {
		x /= 2.0;
		e += 8;
	}
	while (k < 7 && x >= steps[k + 1])
		k++;
	return e + k;
}

static uint16_t level_priority(int level)
{
	if (level < 1)
		level = 1;
	if (level > 14)
		level = 14;
	return (uint16_t)(level * WC_PRIORITY_STEP);
}

uint16_t wc_auto_priority(const uint64_t *rtts, size_t n, uint16_t current)
{
	uint64_t sum = 0, min = UINT64_MAX;
	size_t measured = 0;
	int x8, cur;

	for (size_t i = 0; i < n; i++) {
		if (!rtts[i])
			continue;
		measured++;
		sum += rtts[i];
		if (rtts[i] < min)
			min = rtts[i];
	}
	if (measured < 2)
		return WC_PRIORITY_LEAF;
	x8 = eighth_log2((double)sum / (double)measured / (double)min);
	/* Keep the current step while x8 / 2 stays within half a step beyond it. */
	cur = current % WC_PRIORITY_STEP ? -1 : current / (int)WC_PRIORITY_STEP;
	if (cur >= 1 && cur <= 14) {
		int lo = cur == 1 ? 0 : 2 * cur - 1, hi = cur == 14 ? 1 << 30 : 2 * cur + 3;

		if (x8 >= lo && x8 < hi)
			return current;
	}
	return level_priority(x8 / 2);
}

void wc_prio_init(struct wc_prio *p, uint64_t now)
{
	p->started = false;
	p->since = now;
	p->ready_at = UINT64_MAX;
	p->next_at = now + WC_START_MAX;
}

uint16_t wc_prio_update(struct wc_prio *p, const uint64_t *rtts, size_t n, bool warming,
			uint16_t current, uint64_t now)
{
	uint16_t prio;
	uint64_t wait;

	if (p->started)
		return wc_auto_priority(rtts, n, current);
	if (warming && now - p->since < WC_START_MAX) {
		p->ready_at = UINT64_MAX; /* a wire came up: its round trip counts too */
		p->next_at = p->since + WC_START_MAX;
		return WC_PRIORITY_LEAF;
	}
	if (p->ready_at == UINT64_MAX)
		p->ready_at = now;
	prio = wc_auto_priority(rtts, n, WC_PRIORITY_LEAF);
	wait = (prio / WC_PRIORITY_STEP - 1) * WC_START_STEP;
	if (now - p->ready_at < wait) {
		p->next_at = p->ready_at + wait;
		return WC_PRIORITY_LEAF;
	}
	p->started = true;
	p->next_at = UINT64_MAX;
	return prio;
}
