/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_PEER_H
#define VW_TUNNEL_PEER_H

/*
 * A peer: its handshake, keypairs, cookie state, endpoint, timers and the
 * bounded queue of packets staged while it has no session. Peers are created
 * and removed through device.h; the fields below are readable by the daemon
 * (statistics, `wg show`) but written only by src/tunnel.
 */
#include <stdbool.h>
#include <stdint.h>

#include "cookie.h"
#include "core/addr.h"
#include "core/pkt.h"
#include "index.h"
#include "keypair.h"
#include "noise.h"

struct wg_device;

/* The whitepaper's timers, one deadline each; UINT64_MAX when not pending. */
enum wg_timer_kind {
	WG_TIMER_RETRANSMIT_HANDSHAKE,
	WG_TIMER_SEND_KEEPALIVE,
	WG_TIMER_NEW_HANDSHAKE,
	WG_TIMER_ZERO_KEY_MATERIAL,
	WG_TIMER_PERSISTENT_KEEPALIVE,
	/* vwire's own: when the current session hits REJECT_AFTER_TIME, report it down. */
	WG_TIMER_SESSION_EXPIRY,
	WG_TIMER_COUNT
};

#define WG_TIMER_OFF UINT64_MAX

struct wg_peer {
	struct wg_device *device;
	uint32_t id; /* slot in the device, < max_peers; reused after removal */
	void *user;  /* free for the daemon */

	struct wg_handshake handshake; /* handshake.remote_static is the public key */
	struct wg_index_entry handshake_entry;
	struct wg_cookie latest_cookie;
	struct wg_keypairs keypairs;
	struct vw_endpoint endpoint;

	/*
	 * Packets waiting for a session (FIFO through pkt->next), at most WG_MAX_STAGED_PACKETS,
	 * and the device's budget for all peers together (wg_device.max_staged). A peer with
	 * any is on the device's staging list (staging_prev/next).
	 */
	struct pkt *staged_head, *staged_tail;
	uint32_t staged_len;
	struct wg_peer *staging_prev, *staging_next;

	uint64_t last_sent_handshake; /* WG_TIMER_OFF: never */
	uint64_t
		last_cookie_retry; /* wg_packet_send_initiation_after_cookie; WG_TIMER_OFF: never */
	uint64_t timers[WG_TIMER_COUNT];
	uint64_t timer_deadline; /* earliest of timers[], the peer's key in the device heap */
	uint32_t heap_pos;	 /* UINT32_MAX when not in the heap */
	uint32_t timer_handshake_attempts;
	bool timer_need_another_keepalive;
	bool sent_lastminute_handshake;
	uint16_t persistent_keepalive_interval; /* seconds, 0: off */

	/* Work deferred to the end of a device call, or to the next when the output was full. */
	struct wg_peer *pending_next;
	bool on_pending;
	bool want_initiation;
	bool want_flush;

	bool session_up; /* last state reported through the device's session_event */

	uint64_t rx_bytes, tx_bytes; /* whole WireGuard messages, as `wg show` counts */
	uint64_t rx_packets, tx_packets;
	uint64_t rx_dropped, tx_dropped; /* this peer's share of the device drop counters */
	uint64_t last_handshake_ns;	 /* now_ns of the last completed handshake */
	/*
	 * now_ns of the last message that proved the peer is there (data, keepalive, a handshake
	 * message it authenticated); 0: none yet. What says a silent peer from an idle one.
	 */
	uint64_t last_authenticated_rx;
	bool has_handshake;

	struct wg_peer *pubkey_next;	       /* device's public key hash chain */
	struct wg_peer *list_prev, *list_next; /* device's peer list, in creation order */
};

static inline const uint8_t *wg_peer_public_key(const struct wg_peer *peer)
{
	return peer->handshake.remote_static;
}

/* Internal to src/tunnel (peer.c). */
void wg_peer_init(struct wg_peer *peer, struct wg_device *dev, uint32_t id,
		  const uint8_t public_key[WG_KEY_SIZE]);
void wg_peer_stage_packet(struct wg_peer *peer, struct pkt *p);
struct pkt *wg_peer_unstage_packet(struct wg_peer *peer);
void wg_peer_purge_staged(struct wg_peer *peer, int reason);
/* Forgets the handshake in progress and its index (keeps static key, PSK, timestamp). */
void wg_peer_handshake_clear(struct wg_peer *peer);
/* Re-evaluates "has a usable session", reports a change and arms the expiry timer. */
void wg_peer_session_update(struct wg_peer *peer, uint64_t now_ns);
/* Turns a finished handshake into a keypair; false when the handshake was not finished. */
bool wg_peer_begin_session(struct wg_peer *peer, uint64_t now_ns);
void wg_peer_set_endpoint_from(struct wg_peer *peer, const struct vw_endpoint *src);

#endif
