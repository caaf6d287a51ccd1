/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_SEND_H
#define VW_TUNNEL_SEND_H

/* The sending side shared by send.c, receive.c, timers.c and device.c (internal). */
#include <stdbool.h>
#include <stdint.h>

#include "core/pkt.h"

struct wg_aead_later;
struct wg_device;
struct wg_keypair;
struct wg_peer;

/*
 * Pads p to 16 (capped by mtu, 0 none), encrypts it with kp's sending key and
 * counter and prepends the data header, all in place. False without room.
 */
bool wg_packet_encrypt(struct pkt *p, const struct wg_keypair *kp, uint64_t counter, uint32_t mtu);

/*
 * Asks for a handshake initiation, rate limited to one per REKEY_TIMEOUT. It
 * is created when the peer's queued work runs. is_retry keeps the attempt count.
 */
void wg_packet_send_queued_handshake_initiation(struct wg_peer *peer, uint64_t now_ns,
						bool is_retry);
/*
 * A valid cookie reply to our pending initiation: the responder is under load and will take
 * the initiation again once it carries mac2, so it goes now rather than when the
 * retransmit timer fires (REKEY_TIMEOUT, 5 s, the kernel's and wireguard-go's only retry).
 * At most once per REKEY_TIMEOUT: anyone who sees our initiation and knows the responder's
 * public key can forge a reply, and must not make us initiate at their rate.
 */
void wg_packet_send_initiation_after_cookie(struct wg_peer *peer, uint64_t now_ns);

/* Stages an empty packet unless something is staged already, and asks for a flush. */
void wg_packet_send_keepalive(struct wg_peer *peer, uint64_t now_ns);
/* Asks for the staged packets to be sent (at the end of the current call). */
void wg_packet_queue_flush(struct wg_peer *peer);
/*
 * Encrypts staged packets into out while there is room (or frames them, their AEAD
 * left to later->seal): true when the queue was handled (sent, or kept for lack of a
 * usable key with a handshake asked for), false when out filled first.
 */
bool wg_packet_send_staged_packets(struct wg_peer *peer, uint64_t now_ns,
				   const struct wg_aead_later *later, struct pkt_vec *out);
/* Does the peers' queued work while out has room; false when some is left. */
bool wg_device_run_pending(struct wg_device *dev, uint64_t now_ns,
			   const struct wg_aead_later *later, struct pkt_vec *out);
/* Turns p (an initiation just consumed) into our response and starts the session. */
bool wg_packet_create_response(struct wg_peer *peer, struct pkt *p, uint64_t now_ns);
/* Up to a third of a second, for handshake timers. */
uint64_t wg_device_jitter(struct wg_device *dev);

#endif
