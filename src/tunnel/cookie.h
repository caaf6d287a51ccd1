/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_COOKIE_H
#define VW_TUNNEL_COOKIE_H

/*
 * mac1, mac2 and cookie replies (whitepaper section 5.4.7, "under load").
 *
 * mac1 = MAC(HASH("mac1----" || S_pub_receiver), msg up to mac1) on every
 * handshake message proves the sender knows our public key. Under load the
 * responder also wants mac2 = MAC(cookie, msg up to mac2), where cookie =
 * MAC(R, source IP || source port) and R is a secret renewed every two
 * minutes; without it the initiator gets a cookie reply (the cookie sealed
 * with XChaCha20-Poly1305 under HASH("cookie--" || S_pub_responder), mac1 as
 * associated data) instead of a DH computation.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "messages.h"

#define WG_LABEL_MAC1	"mac1----"
#define WG_LABEL_COOKIE "cookie--"

/* Randomness source: fills buf with len bytes. */
typedef void (*wg_random_fn)(void *ctx, void *buf, size_t len);

/* The receiving side, one per device, keyed by the device's own public key. */
struct wg_cookie_checker {
	uint8_t secret[WG_HASH_SIZE];
	uint64_t secret_birthdate;
	bool have_secret;
	uint8_t message_mac1_key[WG_HASH_SIZE];
	uint8_t cookie_encryption_key[WG_HASH_SIZE];
};

/* The sending side, one per peer, keyed by the peer's public key. */
struct wg_cookie {
	uint8_t message_mac1_key[WG_HASH_SIZE];
	uint8_t cookie_decryption_key[WG_HASH_SIZE];
	uint8_t cookie[WG_COOKIE_SIZE];
	uint64_t birthdate;
	bool is_valid;
	uint8_t last_mac1_sent[WG_MAC_LEN];
	bool have_sent_mac1;
};

enum wg_cookie_mac_state {
	WG_COOKIE_INVALID_MAC,
	WG_COOKIE_VALID_MAC_BUT_NO_COOKIE,
	WG_COOKIE_VALID_MAC_WITH_COOKIE,
};

/* Derives the mac1 and cookie keys from our public key (NULL: no identity, all zero). */
void wg_cookie_checker_init(struct wg_cookie_checker *c, const uint8_t *public_key);
void wg_cookie_init(struct wg_cookie *ck, const uint8_t peer_public[WG_KEY_SIZE]);

/*
 * Checks mac1 of a handshake message of len bytes and, when check_cookie, its
 * mac2 against the cookie for src. The secret is renewed with rnd once it is
 * older than two minutes.
 */
enum wg_cookie_mac_state wg_cookie_validate(struct wg_cookie_checker *c, const uint8_t *msg,
					    size_t len, const struct vw_endpoint *src,
					    bool check_cookie, uint64_t now_ns, wg_random_fn rnd,
					    void *rnd_ctx);

/* Fills mac1 and (with a fresh cookie) mac2 of an outgoing handshake message. */
void wg_cookie_add_macs(struct wg_cookie *ck, uint8_t *msg, size_t len, uint64_t now_ns);

/*
 * Writes a cookie reply to the handshake message msg (len bytes) from src,
 * addressed to sender_index, with a random nonce from rnd.
 */
void wg_cookie_create_reply(struct wg_cookie_checker *c, uint8_t out[WG_COOKIE_REPLY_SIZE],
			    const uint8_t *msg, size_t len, uint32_t sender_index,
			    const struct vw_endpoint *src, uint64_t now_ns, wg_random_fn rnd,
			    void *rnd_ctx);

/* Takes the cookie out of a reply for our last message; false if it does not authenticate. */
bool wg_cookie_consume_reply(struct wg_cookie *ck, const uint8_t msg[WG_COOKIE_REPLY_SIZE],
			     uint64_t now_ns);

#endif
