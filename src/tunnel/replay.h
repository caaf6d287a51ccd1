/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_REPLAY_H
#define VW_TUNNEL_REPLAY_H

/*
 * Sliding window over received data-message counters (RFC 6479), one per
 * receiving keypair. The bitmap is a ring of 64-bit words; one word of it is
 * always being recycled as the window slides, so the usable window is
 * WG_REPLAY_WINDOW = WG_REPLAY_BITS - 64 counters behind the highest seen.
 */
#include <stdbool.h>
#include <stdint.h>

#define WG_REPLAY_BITS	 8192
#define WG_REPLAY_WORDS	 (WG_REPLAY_BITS / 64)
#define WG_REPLAY_WINDOW (WG_REPLAY_BITS - 64)

struct wg_replay {
	uint64_t top;			  /* highest accepted counter + 1; 0: none yet */
	uint64_t bitmap[WG_REPLAY_WORDS]; /* bit (c + 1) % WG_REPLAY_BITS marks counter c */
};

void wg_replay_init(struct wg_replay *r);

/*
 * True: counter is new and inside the window; it is now marked. False: it was
 * seen already, it is more than WG_REPLAY_WINDOW below the highest counter
 * seen, or counter >= limit (the caller passes REJECT_AFTER_MESSAGES).
 * Call only after the packet authenticated, or forged counters would slide
 * the window. Counter 0 is valid.
 */
bool wg_replay_check(struct wg_replay *r, uint64_t counter, uint64_t limit);

#endif
