/* SPDX-License-Identifier: MIT */
#include "tunnel/replay.h"

#include <string.h>

/*
 * Positions are counter + 1 so that top == 0 can mean "nothing received" and
 * counter 0 still gets a position of its own. Word indexes are reduced modulo
 * the ring size while still 64-bit, before any narrowing, so the arithmetic is
 * the same on 32-bit armel.
 */
#define WORD_INDEX(pos) ((uint32_t)(((pos) >> 6) & (WG_REPLAY_WORDS - 1)))

void wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool wg_replay_check(struct wg_replay *r, uint64_t counter, uint64_t limit)
{
	uint64_t pos, bit, advance;

	/* counter < limit <= UINT64_MAX, so pos cannot wrap. */
	if (counter >= limit)
		return false;
	pos = counter + 1;
	if (r->top > WG_REPLAY_WINDOW && pos < r->top - WG_REPLAY_WINDOW)
		return false;
	if (pos > r->top) {
		/* Clear the words the window slides over (all of them after a long jump). */
		advance = (pos >> 6) - (r->top >> 6);
		if (advance >= WG_REPLAY_WORDS) {
			memset(r->bitmap, 0, sizeof(r->bitmap));
		} else {
			for (uint64_t w = (r->top >> 6) + 1; w <= (pos >> 6); w++)
				r->bitmap[WORD_INDEX(w << 6)] = 0;
		}
		r->top = pos;
	}
	bit = (uint64_t)1 << (pos & 63);
	if (r->bitmap[WORD_INDEX(pos)] & bit)
		return false;
	r->bitmap[WORD_INDEX(pos)] |= bit;
	return true;
}
