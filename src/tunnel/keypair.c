/* SPDX-License-Identifier: MIT */
#include "keypair.h"

#include <string.h>

#include "crypto/crypto.h"

void wg_keypairs_init(struct wg_keypairs *kps, struct wg_peer *peer)
{
	memset(kps, 0, sizeof(*kps));
	for (int i = 0; i < WG_KEYPAIR_SLOTS; i++) {
		kps->slots[i].entry.peer = peer;
		kps->slots[i].entry.type = WG_INDEX_KEYPAIR;
	}
}

struct wg_keypair *wg_keypair_alloc(struct wg_keypairs *kps)
{
	for (int i = 0; i < WG_KEYPAIR_SLOTS; i++) {
		struct wg_keypair *kp = &kps->slots[i];

		if (!kp->in_use) {
			struct wg_peer *peer = kp->entry.peer;

			memset(kp, 0, sizeof(*kp));
			kp->entry.peer = peer;
			kp->entry.type = WG_INDEX_KEYPAIR;
			wg_replay_init(&kp->receiving_counter);
			kp->in_use = true;
			return kp;
		}
	}
	return NULL;
}

void wg_keypair_release(struct wg_index_table *t, struct wg_keypair *kp)
{
	if (!kp)
		return;
	wg_index_remove(t, &kp->entry);
	crypto_wipe(kp->sending_key, sizeof(kp->sending_key));
	crypto_wipe(kp->receiving_key, sizeof(kp->receiving_key));
	kp->sending_valid = false;
	kp->receiving_valid = false;
	kp->in_use = false;
}

void wg_keypairs_add_new(struct wg_keypairs *kps, struct wg_index_table *t, struct wg_keypair *kp)
{
	if (kp->i_am_the_initiator) {
		/*
		 * The response confirmed the session, so kp is usable now. A next
		 * that never got confirmed is kept as previous rather than lost (as
		 * the kernel does), and current goes; otherwise current slides back.
		 */
		if (kps->next) {
			wg_keypair_release(t, kps->previous);
			kps->previous = kps->next;
			kps->next = NULL;
			wg_keypair_release(t, kps->current);
		} else {
			wg_keypair_release(t, kps->previous);
			kps->previous = kps->current;
		}
		kps->current = kp;
	} else {
		/* Unusable until the first data packet: wait in next, drop the unconfirmed one. */
		wg_keypair_release(t, kps->next);
		kps->next = kp;
		wg_keypair_release(t, kps->previous);
		kps->previous = NULL;
	}
}

bool wg_keypairs_received_with(struct wg_keypairs *kps, struct wg_index_table *t,
			       struct wg_keypair *kp)
{
	if (!kp || kps->next != kp)
		return false;
	wg_keypair_release(t, kps->previous);
	kps->previous = kps->current;
	kps->current = kp;
	kps->next = NULL;
	return true;
}

void wg_keypairs_clear(struct wg_keypairs *kps, struct wg_index_table *t)
{
	wg_keypair_release(t, kps->previous);
	wg_keypair_release(t, kps->current);
	wg_keypair_release(t, kps->next);
	kps->previous = kps->current = kps->next = NULL;
}

void wg_keypairs_expire_current(struct wg_keypairs *kps)
{
	if (kps->next)
		kps->next->sending_valid = false;
	if (kps->current)
		kps->current->sending_valid = false;
}

bool wg_keypair_can_send(const struct wg_keypair *kp, uint64_t now_ns)
{
	return kp && kp->sending_valid && now_ns < kp->birthdate + WG_REJECT_AFTER_TIME &&
	       kp->sending_counter < WG_REJECT_AFTER_MESSAGES;
}

bool wg_keypair_can_receive(const struct wg_keypair *kp, uint64_t now_ns)
{
	return kp && kp->receiving_valid && now_ns < kp->birthdate + WG_REJECT_AFTER_TIME;
}
