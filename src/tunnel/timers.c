/* SPDX-License-Identifier: MIT */
#include "timers.h"

#include "device.h"
#include "messages.h"
#include "peer.h"
#include "send.h"

#define HEAP_NONE UINT32_MAX

/* ---- the device's min-heap of peers, keyed by each peer's earliest deadline ---- */

static void heap_set(struct wg_device *dev, uint32_t i, struct wg_peer *peer)
{
	dev->timer_heap[i] = peer;
	peer->heap_pos = i;
}

static void heap_sift_up(struct wg_device *dev, uint32_t i)
{
	struct wg_peer *peer = dev->timer_heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (dev->timer_heap[parent]->timer_deadline <= peer->timer_deadline)
			break;
		heap_set(dev, i, dev->timer_heap[parent]);
		i = parent;
	}
	heap_set(dev, i, peer);
}

static void heap_sift_down(struct wg_device *dev, uint32_t i)
{
	struct wg_peer *peer = dev->timer_heap[i];

	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= dev->timer_heap_len)
			break;
		if (child + 1 < dev->timer_heap_len &&
		    dev->timer_heap[child + 1]->timer_deadline <
			    dev->timer_heap[child]->timer_deadline)
			child++;
		if (peer->timer_deadline <= dev->timer_heap[child]->timer_deadline)
			break;
		heap_set(dev, i, dev->timer_heap[child]);
		i = child;
	}
	heap_set(dev, i, peer);
}

static void heap_remove(struct wg_device *dev, struct wg_peer *peer)
{
	uint32_t i = peer->heap_pos;
	struct wg_peer *last;

	if (i == HEAP_NONE)
		return;
	peer->heap_pos = HEAP_NONE;
	last = dev->timer_heap[--dev->timer_heap_len];
	if (last == peer)
		return;
	heap_set(dev, i, last);
	heap_sift_down(dev, i);
	heap_sift_up(dev, last->heap_pos);
}

/* Recomputes the peer's earliest deadline and restores the heap order. */
static void peer_reschedule(struct wg_peer *peer)
{
	struct wg_device *dev = peer->device;
	uint64_t old = peer->timer_deadline, next = WG_TIMER_OFF;

	for (int k = 0; k < WG_TIMER_COUNT; k++)
		if (peer->timers[k] < next)
			next = peer->timers[k];
	peer->timer_deadline = next;
	if (next == WG_TIMER_OFF) {
		heap_remove(dev, peer);
		return;
	}
	if (peer->heap_pos == HEAP_NONE) {
		/* The heap has a slot per peer the device can hold. */
		heap_set(dev, dev->timer_heap_len++, peer);
		heap_sift_up(dev, peer->heap_pos);
	} else if (next < old) {
		heap_sift_up(dev, peer->heap_pos);
	} else if (next > old) {
		heap_sift_down(dev, peer->heap_pos);
	}
}

void wg_timers_init(struct wg_peer *peer)
{
	for (int k = 0; k < WG_TIMER_COUNT; k++)
		peer->timers[k] = WG_TIMER_OFF;
	peer->timer_deadline = WG_TIMER_OFF;
	peer->heap_pos = HEAP_NONE;
}

void wg_timers_stop(struct wg_peer *peer)
{
	for (int k = 0; k < WG_TIMER_COUNT; k++)
		peer->timers[k] = WG_TIMER_OFF;
	peer->timer_deadline = WG_TIMER_OFF;
	heap_remove(peer->device, peer);
}

void wg_timer_mod(struct wg_peer *peer, int kind, uint64_t deadline)
{
	if (peer->timers[kind] == deadline)
		return;
	peer->timers[kind] = deadline;
	peer_reschedule(peer);
}

void wg_timer_del(struct wg_peer *peer, int kind)
{
	wg_timer_mod(peer, kind, WG_TIMER_OFF);
}

bool wg_timer_pending(const struct wg_peer *peer, int kind)
{
	return peer->timers[kind] != WG_TIMER_OFF;
}

uint64_t wg_timers_next(const struct wg_device *dev)
{
	return dev->timer_heap_len ? dev->timer_heap[0]->timer_deadline : WG_TIMER_OFF;
}

/* ---- events ---- */

void wg_timers_data_sent(struct wg_peer *peer, uint64_t now_ns)
{
	if (!wg_timer_pending(peer, WG_TIMER_NEW_HANDSHAKE))
		wg_timer_mod(peer, WG_TIMER_NEW_HANDSHAKE,
			     now_ns + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT +
				     wg_device_jitter(peer->device));
}

void wg_timers_data_received(struct wg_peer *peer, uint64_t now_ns)
{
	if (!wg_timer_pending(peer, WG_TIMER_SEND_KEEPALIVE))
		wg_timer_mod(peer, WG_TIMER_SEND_KEEPALIVE, now_ns + WG_KEEPALIVE_TIMEOUT);
	else
		peer->timer_need_another_keepalive = true;
}

void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer)
{
	wg_timer_del(peer, WG_TIMER_SEND_KEEPALIVE);
}

void wg_timers_any_authenticated_packet_received(struct wg_peer *peer, uint64_t now_ns)
{
	peer->last_authenticated_rx = now_ns;
	wg_timer_del(peer, WG_TIMER_NEW_HANDSHAKE);
}

void wg_timers_handshake_initiated(struct wg_peer *peer, uint64_t now_ns)
{
	wg_timer_mod(peer, WG_TIMER_RETRANSMIT_HANDSHAKE,
		     now_ns + WG_REKEY_TIMEOUT + wg_device_jitter(peer->device));
}

void wg_timers_handshake_complete(struct wg_peer *peer, uint64_t now_ns)
{
	wg_timer_del(peer, WG_TIMER_RETRANSMIT_HANDSHAKE);
	peer->timer_handshake_attempts = 0;
	peer->sent_lastminute_handshake = false;
	peer->last_handshake_ns = now_ns;
	peer->has_handshake = true;
	peer->device->handshakes_completed++;
}

void wg_timers_session_derived(struct wg_peer *peer, uint64_t now_ns)
{
	wg_timer_mod(peer, WG_TIMER_ZERO_KEY_MATERIAL, now_ns + 3 * WG_REJECT_AFTER_TIME);
}

void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer, uint64_t now_ns)
{
	if (peer->persistent_keepalive_interval)
		wg_timer_mod(peer, WG_TIMER_PERSISTENT_KEEPALIVE,
			     now_ns +
				     (uint64_t)peer->persistent_keepalive_interval * WG_NS_PER_SEC);
}

/* ---- expiry handlers ---- */

static void expired_retransmit_handshake(struct wg_peer *peer, uint64_t now_ns)
{
	if (peer->timer_handshake_attempts > WG_MAX_TIMER_HANDSHAKES) {
		/* Gave up: no keepalive, no staged packets, and zero what is left in 540 s. */
		wg_timer_del(peer, WG_TIMER_SEND_KEEPALIVE);
		wg_peer_purge_staged(peer, WG_DROP_TX_HANDSHAKE_GAVE_UP);
		if (!wg_timer_pending(peer, WG_TIMER_ZERO_KEY_MATERIAL))
			wg_timer_mod(peer, WG_TIMER_ZERO_KEY_MATERIAL,
				     now_ns + 3 * WG_REJECT_AFTER_TIME);
	} else {
		peer->timer_handshake_attempts++;
		wg_packet_send_queued_handshake_initiation(peer, now_ns, true);
	}
}

static void expired_send_keepalive(struct wg_peer *peer, uint64_t now_ns)
{
	wg_packet_send_keepalive(peer, now_ns);
	if (peer->timer_need_another_keepalive) {
		peer->timer_need_another_keepalive = false;
		wg_timer_mod(peer, WG_TIMER_SEND_KEEPALIVE, now_ns + WG_KEEPALIVE_TIMEOUT);
	}
}

static void expired_new_handshake(struct wg_peer *peer, uint64_t now_ns)
{
	/* We sent data and heard nothing back for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT. */
	wg_packet_send_queued_handshake_initiation(peer, now_ns, false);
}

static void expired_zero_key_material(struct wg_peer *peer, uint64_t now_ns)
{
	wg_peer_handshake_clear(peer);
	wg_keypairs_clear(&peer->keypairs, &peer->device->index_table);
	wg_peer_session_update(peer, now_ns);
}

static void expired_send_persistent_keepalive(struct wg_peer *peer, uint64_t now_ns)
{
	if (peer->persistent_keepalive_interval)
		wg_packet_send_keepalive(peer, now_ns);
}

static void expired_session(struct wg_peer *peer, uint64_t now_ns)
{
	wg_peer_session_update(peer, now_ns);
}

static void (*const handlers[WG_TIMER_COUNT])(struct wg_peer *, uint64_t) = {
	[WG_TIMER_RETRANSMIT_HANDSHAKE] = expired_retransmit_handshake,
	[WG_TIMER_SEND_KEEPALIVE] = expired_send_keepalive,
	[WG_TIMER_NEW_HANDSHAKE] = expired_new_handshake,
	[WG_TIMER_ZERO_KEY_MATERIAL] = expired_zero_key_material,
	[WG_TIMER_PERSISTENT_KEEPALIVE] = expired_send_persistent_keepalive,
	[WG_TIMER_SESSION_EXPIRY] = expired_session,
};

void wg_timers_expire(struct wg_device *dev, uint64_t now_ns)
{
	/* Handlers only re-arm into the future, so this ends. */
	while (dev->timer_heap_len && dev->timer_heap[0]->timer_deadline <= now_ns) {
		struct wg_peer *peer = dev->timer_heap[0];

		for (int k = 0; k < WG_TIMER_COUNT; k++) {
			if (peer->timers[k] <= now_ns) {
				wg_timer_del(peer, k);
				handlers[k](peer, now_ns);
			}
		}
	}
}
