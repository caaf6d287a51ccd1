/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_NOISE_H
#define VW_TUNNEL_NOISE_H

/*
 * The Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake with WireGuard's
 * construction and identifier strings (whitepaper section 5.4), both roles.
 *
 * These functions only compute: the caller supplies the ephemeral private key,
 * the sender index and the timestamp, and looks peers up itself. That keeps
 * this file free of randomness, clocks and tables, and lets tests compare whole
 * messages with independently computed known answers. mac1/mac2 are the cookie
 * module's business: they are left zero here.
 */
#include <stdbool.h>
#include <stdint.h>

#include "messages.h"

#define WG_NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define WG_NOISE_IDENTIFIER   "WireGuard v1 zx2c4 Jason@zx2c4.com"

struct wg_static_identity {
	uint8_t static_private[WG_KEY_SIZE];
	uint8_t static_public[WG_KEY_SIZE];
	bool has_identity;
};

enum wg_handshake_state {
	WG_HANDSHAKE_ZEROED,
	WG_HANDSHAKE_CREATED_INITIATION,
	WG_HANDSHAKE_CONSUMED_INITIATION,
	WG_HANDSHAKE_CREATED_RESPONSE,
	WG_HANDSHAKE_CONSUMED_RESPONSE,
};

/* One peer's handshake: the static parts set by configuration, the rest per exchange. */
struct wg_handshake {
	enum wg_handshake_state state;
	uint32_t remote_index;
	uint8_t remote_static[WG_KEY_SIZE];
	uint8_t preshared_key[WG_KEY_SIZE];
	/* DH(S_priv, S_pub_remote), all zero when it failed (low-order key): handshakes refused. */
	uint8_t precomputed_static_static[WG_KEY_SIZE];
	uint8_t ephemeral_private[WG_KEY_SIZE];
	uint8_t remote_ephemeral[WG_KEY_SIZE];
	uint8_t hash[WG_HASH_SIZE];
	uint8_t chaining_key[WG_HASH_SIZE];
	/* Greatest TAI64N accepted from this peer: initiations must carry a later one. */
	uint8_t latest_timestamp[WG_TIMESTAMP_SIZE];
	uint64_t last_initiation_consumption;
	bool have_consumed_initiation;
};

enum wg_noise_result {
	WG_NOISE_OK,
	WG_NOISE_NO_IDENTITY,	 /* no private key configured */
	WG_NOISE_BAD_DH,	 /* a DH gave all zeros (low-order point) */
	WG_NOISE_DECRYPT_FAILED, /* an AEAD did not authenticate */
	WG_NOISE_REPLAY,	 /* timestamp not later than the latest accepted */
	WG_NOISE_FLOOD,		 /* initiations faster than WG_INITIATIONS_PER_SECOND */
	WG_NOISE_BAD_STATE,	 /* response to a handshake we did not initiate */
};

/* The initial chaining key HASH(CONSTRUCTION) and hash HASH(Ci || IDENTIFIER). */
void wg_noise_initial_chaining_key(uint8_t out[WG_HASH_SIZE]);
void wg_noise_initial_hash(uint8_t out[WG_HASH_SIZE]);

/* Sets up a peer's handshake for remote_static; psk NULL means all zero (no PSK). */
void wg_noise_handshake_init(struct wg_handshake *hs, const uint8_t remote_static[WG_KEY_SIZE],
			     const uint8_t *psk);
/* Recomputes DH(S_priv, S_pub_remote); zero when there is no identity or the DH fails. */
void wg_noise_precompute_static_static(struct wg_handshake *hs,
				       const struct wg_static_identity *id);
/* Forgets the exchange in progress (ephemerals, hash, chaining key), keeps the static parts. */
void wg_noise_handshake_zero(struct wg_handshake *hs);
/* Sets identity from a private key (public derived); NULL or all-zero clears it. */
void wg_noise_set_identity(struct wg_static_identity *id, const uint8_t *private_key);

/*
 * Initiator: writes a whole initiation into msg (mac fields zero) and moves hs
 * to CREATED_INITIATION. ephemeral_private is 32 random bytes (clamped here),
 * timestamp the TAI64N of now.
 */
enum wg_noise_result wg_noise_create_initiation(uint8_t msg[WG_INIT_SIZE], struct wg_handshake *hs,
						const struct wg_static_identity *id,
						const uint8_t ephemeral_private[WG_KEY_SIZE],
						const uint8_t timestamp[WG_TIMESTAMP_SIZE],
						uint32_t sender_index);

/* State carried between the two halves of consuming an initiation. */
struct wg_noise_initiation {
	uint8_t chaining_key[WG_HASH_SIZE];
	uint8_t hash[WG_HASH_SIZE];
	uint8_t key[WG_KEY_SIZE];
	uint8_t remote_ephemeral[WG_KEY_SIZE];
	uint8_t remote_static[WG_KEY_SIZE]; /* who claims to be initiating */
	uint32_t sender_index;
};

/*
 * Responder, first half: e, es, s. On WG_NOISE_OK st->remote_static names the
 * claimed initiator; the caller looks its peer up and calls the second half.
 */
enum wg_noise_result wg_noise_consume_initiation_begin(const uint8_t msg[WG_INIT_SIZE],
						       const struct wg_static_identity *id,
						       struct wg_noise_initiation *st);
/*
 * Second half: ss, {t}, then the replay (timestamp) and flood (rate) checks.
 * Only on WG_NOISE_OK is hs changed (to CONSUMED_INITIATION). st is wiped.
 */
enum wg_noise_result wg_noise_consume_initiation_finish(const uint8_t msg[WG_INIT_SIZE],
							struct wg_noise_initiation *st,
							struct wg_handshake *hs, uint64_t now_ns);

/* Responder: answers a consumed initiation; hs moves to CREATED_RESPONSE. */
enum wg_noise_result wg_noise_create_response(uint8_t msg[WG_RESP_SIZE], struct wg_handshake *hs,
					      const uint8_t ephemeral_private[WG_KEY_SIZE],
					      uint32_t sender_index);

/*
 * Initiator: consumes the response to hs's initiation (the caller found hs by
 * the receiver index). Only on WG_NOISE_OK is hs changed (to CONSUMED_RESPONSE).
 */
enum wg_noise_result wg_noise_consume_response(const uint8_t msg[WG_RESP_SIZE],
					       struct wg_handshake *hs,
					       const struct wg_static_identity *id);

/*
 * Derives the transport keys of a finished handshake (CREATED_RESPONSE or
 * CONSUMED_RESPONSE) and zeroes the exchange. False in any other state.
 */
bool wg_noise_derive_keys(struct wg_handshake *hs, uint8_t send_key[WG_KEY_SIZE],
			  uint8_t recv_key[WG_KEY_SIZE], bool *i_am_the_initiator,
			  uint32_t *remote_index);

#endif
