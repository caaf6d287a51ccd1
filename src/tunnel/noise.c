/* SPDX-License-Identifier: MIT */
#include "noise.h"

#include <string.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/tai64n.h"
#include "crypto/x25519.h"

/*
 * HASH(CONSTRUCTION) and HASH(that || IDENTIFIER): constants, so they are
 * written out rather than computed at start (no globals to initialise).
 * tests/unit/vectors/noise_vectors.py recomputes them with Python's hashlib.
 */
static const uint8_t initial_chaining_key[WG_HASH_SIZE] = {
	0x60, 0xe2, 0x6d, 0xae, 0xf3, 0x27, 0xef, 0xc0, 0x2e, 0xc3, 0x35,
	0xe2, 0xa0, 0x25, 0xd2, 0xd0, 0x16, 0xeb, 0x42, 0x06, 0xf8, 0x72,
	0x77, 0xf5, 0x2d, 0x38, 0xd1, 0x98, 0x8b, 0x78, 0xcd, 0x36,
};

static const uint8_t initial_hash[WG_HASH_SIZE] = {
	0x22, 0x11, 0xb3, 0x61, 0x08, 0x1a, 0xc5, 0x66, 0x69, 0x12, 0x43,
	0xdb, 0x45, 0x8a, 0xd5, 0x32, 0x2d, 0x9c, 0x6c, 0x66, 0x22, 0x93,
	0xe8, 0xb7, 0x0e, 0xe1, 0x9c, 0x65, 0xba, 0x07, 0x9e, 0xf3,
};

void wg_noise_initial_chaining_key(uint8_t out[WG_HASH_SIZE])
{
	memcpy(out, initial_chaining_key, WG_HASH_SIZE);
}

void wg_noise_initial_hash(uint8_t out[WG_HASH_SIZE])
{
	memcpy(out, initial_hash, WG_HASH_SIZE);
}

/* H = HASH(H || data) */
static void mix_hash(uint8_t hash[WG_HASH_SIZE], const uint8_t *data, size_t len)
{
	struct blake2s_state s;

	blake2s_init(&s, WG_HASH_SIZE);
	blake2s_update(&s, hash, WG_HASH_SIZE);
	blake2s_update(&s, data, len);
	blake2s_final(&s, hash);
}

/* C = HASH(CONSTRUCTION), H = HASH(HASH(C || IDENTIFIER) || S_pub_responder) */
static void handshake_start(uint8_t ck[WG_HASH_SIZE], uint8_t hash[WG_HASH_SIZE],
			    const uint8_t responder_static[WG_KEY_SIZE])
{
	memcpy(ck, initial_chaining_key, WG_HASH_SIZE);
	memcpy(hash, initial_hash, WG_HASH_SIZE);
	mix_hash(hash, responder_static, WG_KEY_SIZE);
}

/* The unencrypted ephemeral: C = KDF1(C, E_pub), H = HASH(H || E_pub) */
static void message_ephemeral(uint8_t ck[WG_HASH_SIZE], uint8_t hash[WG_HASH_SIZE],
			      const uint8_t ephemeral_public[WG_KEY_SIZE])
{
	wg_kdf(ck, NULL, NULL, ck, ephemeral_public, WG_KEY_SIZE);
	mix_hash(hash, ephemeral_public, WG_KEY_SIZE);
}

/* (C, k) = KDF2(C, DH(priv, pub)); key NULL is KDF1. */
static bool mix_dh(uint8_t ck[WG_HASH_SIZE], uint8_t *key, const uint8_t priv[WG_KEY_SIZE],
		   const uint8_t pub[WG_KEY_SIZE])
{
	uint8_t dh[WG_KEY_SIZE];

	if (!x25519(dh, priv, pub))
		return false;
	wg_kdf(ck, key, NULL, ck, dh, sizeof(dh));
	crypto_wipe(dh, sizeof(dh));
	return true;
}

static bool mix_precomputed_dh(uint8_t ck[WG_HASH_SIZE], uint8_t key[WG_KEY_SIZE],
			       const uint8_t precomputed[WG_KEY_SIZE])
{
	if (key_is_zero(precomputed))
		return false;
	wg_kdf(ck, key, NULL, ck, precomputed, WG_KEY_SIZE);
	return true;
}

/* (C, tau, k) = KDF3(C, Q), H = HASH(H || tau) */
static void mix_psk(uint8_t ck[WG_HASH_SIZE], uint8_t hash[WG_HASH_SIZE], uint8_t key[WG_KEY_SIZE],
		    const uint8_t psk[WG_KEY_SIZE])
{
	uint8_t tau[WG_HASH_SIZE];

	wg_kdf(ck, tau, key, ck, psk, WG_KEY_SIZE);
	mix_hash(hash, tau, sizeof(tau));
	crypto_wipe(tau, sizeof(tau));
}

/* dst = AEAD(k, 0, src, H), H = HASH(H || dst) */
static void message_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
			    const uint8_t key[WG_KEY_SIZE], uint8_t hash[WG_HASH_SIZE])
{
	aead_encrypt(dst, src, len, hash, WG_HASH_SIZE, 0, key);
	mix_hash(hash, dst, wg_noise_encrypted_len(len));
}

static bool message_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen,
			    const uint8_t key[WG_KEY_SIZE], uint8_t hash[WG_HASH_SIZE])
{
	if (!aead_decrypt(dst, src, srclen, hash, WG_HASH_SIZE, 0, key))
		return false;
	mix_hash(hash, src, srclen);
	return true;
}

void wg_noise_handshake_init(struct wg_handshake *hs, const uint8_t remote_static[WG_KEY_SIZE],
			     const uint8_t *psk)
{
	memset(hs, 0, sizeof(*hs));
	memcpy(hs->remote_static, remote_static, WG_KEY_SIZE);
	if (psk)
		memcpy(hs->preshared_key, psk, WG_KEY_SIZE);
}

void wg_noise_precompute_static_static(struct wg_handshake *hs, const struct wg_static_identity *id)
{
	if (!id->has_identity ||
	    !x25519(hs->precomputed_static_static, id->static_private, hs->remote_static))
		crypto_wipe(hs->precomputed_static_static, WG_KEY_SIZE);
}

void wg_noise_handshake_zero(struct wg_handshake *hs)
{
	crypto_wipe(hs->ephemeral_private, WG_KEY_SIZE);
	crypto_wipe(hs->remote_ephemeral, WG_KEY_SIZE);
	crypto_wipe(hs->hash, WG_HASH_SIZE);
	crypto_wipe(hs->chaining_key, WG_HASH_SIZE);
	hs->remote_index = 0;
	hs->state = WG_HANDSHAKE_ZEROED;
}

void wg_noise_set_identity(struct wg_static_identity *id, const uint8_t *private_key)
{
	crypto_wipe(id, sizeof(*id));
	if (!private_key || key_is_zero(private_key))
		return;
	memcpy(id->static_private, private_key, WG_KEY_SIZE);
	x25519_public(id->static_public, private_key);
	id->has_identity = true;
}

enum wg_noise_result wg_noise_create_initiation(uint8_t msg[WG_INIT_SIZE], struct wg_handshake *hs,
						const struct wg_static_identity *id,
						const uint8_t ephemeral_private[WG_KEY_SIZE],
						const uint8_t timestamp[WG_TIMESTAMP_SIZE],
						uint32_t sender_index)
{
	uint8_t key[WG_KEY_SIZE];
	enum wg_noise_result ret = WG_NOISE_BAD_DH;

	if (!id->has_identity)
		return WG_NOISE_NO_IDENTITY;
	memset(msg, 0, WG_INIT_SIZE);
	wg_message_put_type(msg, WG_MSG_HANDSHAKE_INITIATION);
	put_le32(msg + WG_INIT_OFF_SENDER, sender_index);
	handshake_start(hs->chaining_key, hs->hash, hs->remote_static);

	/* e */
	memcpy(hs->ephemeral_private, ephemeral_private, WG_KEY_SIZE);
	x25519_clamp(hs->ephemeral_private);
	x25519_public(msg + WG_INIT_OFF_EPHEMERAL, hs->ephemeral_private);
	message_ephemeral(hs->chaining_key, hs->hash, msg + WG_INIT_OFF_EPHEMERAL);
	/* es */
	if (!mix_dh(hs->chaining_key, key, hs->ephemeral_private, hs->remote_static))
		goto fail;
	/* s */
	message_encrypt(msg + WG_INIT_OFF_STATIC, id->static_public, WG_KEY_SIZE, key, hs->hash);
	/* ss */
	if (!mix_precomputed_dh(hs->chaining_key, key, hs->precomputed_static_static))
		goto fail;
	/* {t} */
	message_encrypt(msg + WG_INIT_OFF_TIMESTAMP, timestamp, WG_TIMESTAMP_SIZE, key, hs->hash);
	hs->state = WG_HANDSHAKE_CREATED_INITIATION;
	ret = WG_NOISE_OK;
	goto out;
fail:
	wg_noise_handshake_zero(hs);
out:
	crypto_wipe(key, sizeof(key));
	return ret;
}

enum wg_noise_result wg_noise_consume_initiation_begin(const uint8_t msg[WG_INIT_SIZE],
						       const struct wg_static_identity *id,
						       struct wg_noise_initiation *st)
{
	if (!id->has_identity)
		return WG_NOISE_NO_IDENTITY;
	handshake_start(st->chaining_key, st->hash, id->static_public);
	st->sender_index = get_le32(msg + WG_INIT_OFF_SENDER);
	/* e */
	memcpy(st->remote_ephemeral, msg + WG_INIT_OFF_EPHEMERAL, WG_KEY_SIZE);
	message_ephemeral(st->chaining_key, st->hash, st->remote_ephemeral);
	/* es */
	if (!mix_dh(st->chaining_key, st->key, id->static_private, st->remote_ephemeral)) {
		crypto_wipe(st, sizeof(*st));
		return WG_NOISE_BAD_DH;
	}
	/* s */
	if (!message_decrypt(st->remote_static, msg + WG_INIT_OFF_STATIC,
			     wg_noise_encrypted_len(WG_KEY_SIZE), st->key, st->hash)) {
		crypto_wipe(st, sizeof(*st));
		return WG_NOISE_DECRYPT_FAILED;
	}
	return WG_NOISE_OK;
}

static bool initiation_flood(const struct wg_handshake *hs, uint64_t now_ns)
{
	return hs->have_consumed_initiation &&
	       now_ns < hs->last_initiation_consumption + WG_NS_PER_SEC / WG_INITIATIONS_PER_SECOND;
}

enum wg_noise_result wg_noise_consume_initiation_finish(const uint8_t msg[WG_INIT_SIZE],
							struct wg_noise_initiation *st,
							struct wg_handshake *hs, uint64_t now_ns)
{
	uint8_t t[WG_TIMESTAMP_SIZE];
	enum wg_noise_result ret;

	/* ss */
	if (!mix_precomputed_dh(st->chaining_key, st->key, hs->precomputed_static_static)) {
		ret = WG_NOISE_BAD_DH;
		goto out;
	}
	/* {t} */
	if (!message_decrypt(t, msg + WG_INIT_OFF_TIMESTAMP,
			     wg_noise_encrypted_len(WG_TIMESTAMP_SIZE), st->key, st->hash)) {
		ret = WG_NOISE_DECRYPT_FAILED;
		goto out;
	}
	if (!tai64n_after(t, hs->latest_timestamp)) {
		ret = WG_NOISE_REPLAY;
		goto out;
	}
	if (initiation_flood(hs, now_ns)) {
		ret = WG_NOISE_FLOOD;
		goto out;
	}
	memcpy(hs->remote_ephemeral, st->remote_ephemeral, WG_KEY_SIZE);
	memcpy(hs->latest_timestamp, t, WG_TIMESTAMP_SIZE);
	memcpy(hs->hash, st->hash, WG_HASH_SIZE);
	memcpy(hs->chaining_key, st->chaining_key, WG_HASH_SIZE);
	hs->remote_index = st->sender_index;
	hs->last_initiation_consumption = now_ns;
	hs->have_consumed_initiation = true;
	hs->state = WG_HANDSHAKE_CONSUMED_INITIATION;
	ret = WG_NOISE_OK;
out:
	crypto_wipe(st, sizeof(*st));
	return ret;
}

enum wg_noise_result wg_noise_create_response(uint8_t msg[WG_RESP_SIZE], struct wg_handshake *hs,
					      const uint8_t ephemeral_private[WG_KEY_SIZE],
					      uint32_t sender_index)
{
	uint8_t key[WG_KEY_SIZE];

	if (hs->state != WG_HANDSHAKE_CONSUMED_INITIATION)
		return WG_NOISE_BAD_STATE;
	memset(msg, 0, WG_RESP_SIZE);
	wg_message_put_type(msg, WG_MSG_HANDSHAKE_RESPONSE);
	put_le32(msg + WG_RESP_OFF_SENDER, sender_index);
	put_le32(msg + WG_RESP_OFF_RECEIVER, hs->remote_index);

	/* e */
	memcpy(hs->ephemeral_private, ephemeral_private, WG_KEY_SIZE);
	x25519_clamp(hs->ephemeral_private);
	x25519_public(msg + WG_RESP_OFF_EPHEMERAL, hs->ephemeral_private);
	message_ephemeral(hs->chaining_key, hs->hash, msg + WG_RESP_OFF_EPHEMERAL);
	/* ee, se */
	if (!mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, hs->remote_ephemeral) ||
	    !mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, hs->remote_static)) {
		wg_noise_handshake_zero(hs);
		return WG_NOISE_BAD_DH;
	}
	/* psk */
	mix_psk(hs->chaining_key, hs->hash, key, hs->preshared_key);
	/* {} */
	message_encrypt(msg + WG_RESP_OFF_EMPTY, NULL, 0, key, hs->hash);
	crypto_wipe(key, sizeof(key));
	hs->state = WG_HANDSHAKE_CREATED_RESPONSE;
	return WG_NOISE_OK;
}

enum wg_noise_result wg_noise_consume_response(const uint8_t msg[WG_RESP_SIZE],
					       struct wg_handshake *hs,
					       const struct wg_static_identity *id)
{
	uint8_t ck[WG_HASH_SIZE], hash[WG_HASH_SIZE], key[WG_KEY_SIZE];
	const uint8_t *e = msg + WG_RESP_OFF_EPHEMERAL;
	enum wg_noise_result ret = WG_NOISE_BAD_DH;

	if (!id->has_identity)
		return WG_NOISE_NO_IDENTITY;
	if (hs->state != WG_HANDSHAKE_CREATED_INITIATION)
		return WG_NOISE_BAD_STATE;
	/* Work on copies: a forged response must leave the initiation usable. */
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(hash, hs->hash, sizeof(hash));

	/* e */
	message_ephemeral(ck, hash, e);
	/* ee, se */
	if (!mix_dh(ck, NULL, hs->ephemeral_private, e) || !mix_dh(ck, NULL, id->static_private, e))
		goto out;
	/* psk */
	mix_psk(ck, hash, key, hs->preshared_key);
	/* {} */
	ret = WG_NOISE_DECRYPT_FAILED;
	if (!message_decrypt(NULL, msg + WG_RESP_OFF_EMPTY, wg_noise_encrypted_len(0), key, hash))
		goto out;

	memcpy(hs->remote_ephemeral, e, WG_KEY_SIZE);
	memcpy(hs->hash, hash, WG_HASH_SIZE);
	memcpy(hs->chaining_key, ck, WG_HASH_SIZE);
	hs->remote_index = get_le32(msg + WG_RESP_OFF_SENDER);
	hs->state = WG_HANDSHAKE_CONSUMED_RESPONSE;
	ret = WG_NOISE_OK;
out:
	crypto_wipe(ck, sizeof(ck));
	crypto_wipe(hash, sizeof(hash));
	crypto_wipe(key, sizeof(key));
	return ret;
}

bool wg_noise_derive_keys(struct wg_handshake *hs, uint8_t send_key[WG_KEY_SIZE],
			  uint8_t recv_key[WG_KEY_SIZE], bool *i_am_the_initiator,
			  uint32_t *remote_index)
{
	if (hs->state != WG_HANDSHAKE_CREATED_RESPONSE &&
	    hs->state != WG_HANDSHAKE_CONSUMED_RESPONSE)
		return false;
	*i_am_the_initiator = hs->state == WG_HANDSHAKE_CONSUMED_RESPONSE;
	*remote_index = hs->remote_index;
	/* (T_send_i, T_recv_i) = KDF2(C_i, e); the responder's pair is the same, swapped. */
	if (*i_am_the_initiator)
		wg_kdf(send_key, recv_key, NULL, hs->chaining_key, NULL, 0);
	else
		wg_kdf(recv_key, send_key, NULL, hs->chaining_key, NULL, 0);
	wg_noise_handshake_zero(hs);
	return true;
}
