/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_KEYPAIR_H
#define VW_TUNNEL_KEYPAIR_H

/*
 * Transport keypairs and the previous/current/next rotation (whitepaper
 * section 5.4.6 and the kernel's noise_keypairs). The initiator may send with
 * a new keypair at once; the responder's new keypair waits in `next` until the
 * first data packet under it arrives, which proves the initiator has it too.
 * A peer owns four slots: three live keypairs plus the one being born.
 */
#include <stdbool.h>
#include <stdint.h>

#include "index.h"
#include "messages.h"
#include "replay.h"

struct wg_keypair {
	struct wg_index_entry entry; /* our receiver index for this session */
	uint8_t sending_key[WG_KEY_SIZE];
	uint8_t receiving_key[WG_KEY_SIZE];
	uint64_t sending_counter;
	struct wg_replay receiving_counter;
	uint64_t birthdate;
	uint64_t id; /* unique in its device: a slot reused under the same index differs */
	uint32_t remote_index;
	bool sending_valid;
	bool receiving_valid;
	bool i_am_the_initiator;
	bool in_use;
};

#define WG_KEYPAIR_SLOTS 4

struct wg_keypairs {
	struct wg_keypair *previous;
	struct wg_keypair *current;
	struct wg_keypair *next;
	struct wg_keypair slots[WG_KEYPAIR_SLOTS];
};

void wg_keypairs_init(struct wg_keypairs *kps, struct wg_peer *peer);
/* A free slot, reset, or NULL (cannot happen while the rotation keeps three at most). */
struct wg_keypair *wg_keypair_alloc(struct wg_keypairs *kps);
/* Leaves the index table and wipes the keys. NULL is ignored. */
void wg_keypair_release(struct wg_index_table *t, struct wg_keypair *kp);
/* Slides a freshly derived keypair in: current for the initiator, next for the responder. */
void wg_keypairs_add_new(struct wg_keypairs *kps, struct wg_index_table *t, struct wg_keypair *kp);
/*
 * Called for every authenticated data packet: true when it was the first one
 * under `next`, which then becomes current (and current previous).
 */
bool wg_keypairs_received_with(struct wg_keypairs *kps, struct wg_index_table *t,
			       struct wg_keypair *kp);
/* Releases all three (keys zeroed after REJECT_AFTER_TIME * 3, or peer removal). */
void wg_keypairs_clear(struct wg_keypairs *kps, struct wg_index_table *t);
/* Stops sending with next and current (the local identity changed). */
void wg_keypairs_expire_current(struct wg_keypairs *kps);

/* True while kp may encrypt at now: valid, younger than REJECT_AFTER_TIME, nonces left. */
bool wg_keypair_can_send(const struct wg_keypair *kp, uint64_t now_ns);
/* True while kp may decrypt at now. */
bool wg_keypair_can_receive(const struct wg_keypair *kp, uint64_t now_ns);

#endif
