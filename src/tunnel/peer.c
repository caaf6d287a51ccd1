/* SPDX-License-Identifier: MIT */
#include "peer.h"

#include <string.h>

#include "crypto/crypto.h"
#include "device.h"
#include "timers.h"

void wg_peer_init(struct wg_peer *peer, struct wg_device *dev, uint32_t id,
		  const uint8_t public_key[WG_KEY_SIZE])
{
	memset(peer, 0, sizeof(*peer));
	peer->device = dev;
	peer->id = id;
	wg_noise_handshake_init(&peer->handshake, public_key, NULL);
	wg_noise_precompute_static_static(&peer->handshake, &dev->static_identity);
	peer->handshake_entry.peer = peer;
	peer->handshake_entry.type = WG_INDEX_HANDSHAKE;
	wg_cookie_init(&peer->latest_cookie, public_key);
	wg_keypairs_init(&peer->keypairs, peer);
	peer->last_sent_handshake = WG_TIMER_OFF;
	peer->last_cookie_retry = WG_TIMER_OFF;
	wg_timers_init(peer);
}

static void staging_list_add(struct wg_device *dev, struct wg_peer *peer)
{
	peer->staging_prev = NULL;
	peer->staging_next = dev->staging_head;
	if (dev->staging_head)
		dev->staging_head->staging_prev = peer;
	dev->staging_head = peer;
}

static void staging_list_del(struct wg_device *dev, struct wg_peer *peer)
{
	if (peer->staging_prev)
		peer->staging_prev->staging_next = peer->staging_next;
	else
		dev->staging_head = peer->staging_next;
	if (peer->staging_next)
		peer->staging_next->staging_prev = peer->staging_prev;
	peer->staging_prev = peer->staging_next = NULL;
}

/*
 * The peer that gives up a packet when the device's budget is spent: the one with the
 * longest queue, `self` on a tie. Offline peers fill their queues, so their oldest packets
 * go first, and a peer that staged a few packets while its handshake runs keeps them.
 * The scan is bounded by the budget (every listed peer holds a packet) and runs only
 * while the budget is exceeded.
 */
static struct wg_peer *staging_victim(struct wg_device *dev, struct wg_peer *self)
{
	struct wg_peer *victim = self;

	for (struct wg_peer *q = dev->staging_head; q; q = q->staging_next)
		if (q->staged_len > victim->staged_len)
			victim = q;
	return victim;
}

void wg_peer_stage_packet(struct wg_peer *peer, struct pkt *p)
{
	struct wg_device *dev = peer->device;

	p->next = NULL;
	if (peer->staged_tail) {
		peer->staged_tail->next = p;
	} else {
		peer->staged_head = p;
		staging_list_add(dev, peer);
	}
	peer->staged_tail = p;
	peer->staged_len++;
	dev->staged_total++;
	/* Bounded as the kernel's: the oldest packets make room for the newest. */
	while (peer->staged_len > WG_MAX_STAGED_PACKETS) {
		pkt_free(wg_peer_unstage_packet(peer));
		wg_device_count_drop(dev, peer, false, WG_DROP_TX_STAGED_OVERFLOW);
	}
	/*
	 * And all peers together stay within the device's budget, so that packets for
	 * peers that do not answer can never take the buffers that receives, handshakes
	 * and live peers need from the shared pool.
	 */
	while (dev->staged_total > dev->max_staged) {
		struct wg_peer *victim = staging_victim(dev, peer);

		pkt_free(wg_peer_unstage_packet(victim));
		wg_device_count_drop(dev, victim, false, WG_DROP_TX_STAGED_EVICTED);
	}
}

struct pkt *wg_peer_unstage_packet(struct wg_peer *peer)
{
	struct pkt *p = peer->staged_head;

	if (!p)
		return NULL;
	peer->staged_head = p->next;
	if (!peer->staged_head) {
		peer->staged_tail = NULL;
		staging_list_del(peer->device, peer);
	}
	peer->staged_len--;
	peer->device->staged_total--;
	p->next = NULL;
	return p;
}

void wg_peer_purge_staged(struct wg_peer *peer, int reason)
{
	struct pkt *p;

	while ((p = wg_peer_unstage_packet(peer))) {
		/* A staged keepalive is ours, not a user's packet: no drop to report. */
		if (p->len)
			wg_device_count_drop(peer->device, peer, false,
					     (enum wg_drop_reason)reason);
		pkt_free(p);
	}
}

void wg_peer_handshake_clear(struct wg_peer *peer)
{
	wg_index_remove(&peer->device->index_table, &peer->handshake_entry);
	wg_noise_handshake_zero(&peer->handshake);
}

void wg_peer_session_update(struct wg_peer *peer, uint64_t now_ns)
{
	struct wg_device *dev = peer->device;
	struct wg_keypair *kp = peer->keypairs.current;
	bool up = wg_keypair_can_send(kp, now_ns);

	if (up)
		wg_timer_mod(peer, WG_TIMER_SESSION_EXPIRY, kp->birthdate + WG_REJECT_AFTER_TIME);
	else
		wg_timer_del(peer, WG_TIMER_SESSION_EXPIRY);
	if (up == peer->session_up)
		return;
	peer->session_up = up;
	if (dev->session_event)
		dev->session_event(dev->session_event_ctx, peer, up);
}

bool wg_peer_begin_session(struct wg_peer *peer, uint64_t now_ns)
{
	struct wg_device *dev = peer->device;
	struct wg_keypair *kp = wg_keypair_alloc(&peer->keypairs);

	if (!kp)
		return false;
	if (!wg_noise_derive_keys(&peer->handshake, kp->sending_key, kp->receiving_key,
				  &kp->i_am_the_initiator, &kp->remote_index)) {
		wg_keypair_release(&dev->index_table, kp);
		return false;
	}
	kp->birthdate = now_ns;
	kp->id = ++dev->keypairs_made;
	kp->sending_valid = true;
	kp->receiving_valid = true;
	wg_keypairs_add_new(&peer->keypairs, &dev->index_table, kp);
	/* The session keeps the index our handshake message announced. */
	wg_index_replace(&dev->index_table, &peer->handshake_entry, &kp->entry);
	wg_peer_session_update(peer, now_ns);
	return true;
}

void wg_peer_set_endpoint_from(struct wg_peer *peer, const struct vw_endpoint *src)
{
	if (src->sa.sa_family == AF_INET || src->sa.sa_family == AF_INET6)
		peer->endpoint = *src;
}
