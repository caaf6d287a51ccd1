/* SPDX-License-Identifier: MIT */
#include "cookie.h"

#include <string.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "crypto/kdf.h"

/* HASH(label || key): the per-public-key mac1 and cookie keys. */
static void precompute_key(uint8_t out[WG_HASH_SIZE], const char label[8],
			   const uint8_t public_key[WG_KEY_SIZE])
{
	struct blake2s_state s;

	blake2s_init(&s, WG_HASH_SIZE);
	blake2s_update(&s, label, 8);
	blake2s_update(&s, public_key, WG_KEY_SIZE);
	blake2s_final(&s, out);
}

void wg_cookie_checker_init(struct wg_cookie_checker *c, const uint8_t *public_key)
{
	crypto_wipe(c, sizeof(*c));
	if (!public_key)
		return;
	precompute_key(c->message_mac1_key, WG_LABEL_MAC1, public_key);
	precompute_key(c->cookie_encryption_key, WG_LABEL_COOKIE, public_key);
}

void wg_cookie_init(struct wg_cookie *ck, const uint8_t peer_public[WG_KEY_SIZE])
{
	crypto_wipe(ck, sizeof(*ck));
	precompute_key(ck->message_mac1_key, WG_LABEL_MAC1, peer_public);
	precompute_key(ck->cookie_decryption_key, WG_LABEL_COOKIE, peer_public);
}

static void compute_mac1(uint8_t out[WG_MAC_LEN], const uint8_t *msg, size_t len,
			 const uint8_t key[WG_HASH_SIZE])
{
	wg_mac(out, key, WG_HASH_SIZE, msg, len - WG_MACS_SIZE);
}

static void compute_mac2(uint8_t out[WG_MAC_LEN], const uint8_t *msg, size_t len,
			 const uint8_t cookie[WG_COOKIE_SIZE])
{
	wg_mac(out, cookie, WG_COOKIE_SIZE, msg, len - WG_MAC_LEN);
}

/* cookie = MAC(R, source address || source port), R renewed every two minutes. */
static void make_cookie(struct wg_cookie_checker *c, uint8_t cookie[WG_COOKIE_SIZE],
			const struct vw_endpoint *src, uint64_t now_ns, wg_random_fn rnd,
			void *rnd_ctx)
{
	struct blake2s_state s;

	if (!c->have_secret || now_ns >= c->secret_birthdate + WG_COOKIE_SECRET_MAX_AGE ||
	    now_ns < c->secret_birthdate) {
		rnd(rnd_ctx, c->secret, sizeof(c->secret));
		c->secret_birthdate = now_ns;
		c->have_secret = true;
	}
	blake2s_init_key(&s, WG_COOKIE_SIZE, c->secret, sizeof(c->secret));
	if (src->sa.sa_family == AF_INET) {
		blake2s_update(&s, &src->in4.sin_addr, 4);
		blake2s_update(&s, &src->in4.sin_port, 2);
	} else if (src->sa.sa_family == AF_INET6) {
		blake2s_update(&s, &src->in6.sin6_addr, 16);
		blake2s_update(&s, &src->in6.sin6_port, 2);
	}
	blake2s_final(&s, cookie);
}

static const uint8_t zero_mac[WG_MAC_LEN];

enum wg_cookie_mac_state wg_cookie_validate(struct wg_cookie_checker *c, const uint8_t *msg,
					    size_t len, const struct vw_endpoint *src,
					    bool check_cookie, uint64_t now_ns, wg_random_fn rnd,
					    void *rnd_ctx)
{
	uint8_t computed[WG_MAC_LEN], cookie[WG_COOKIE_SIZE];
	enum wg_cookie_mac_state ret = WG_COOKIE_INVALID_MAC;

	if (len < WG_MACS_SIZE)
		return ret;
	compute_mac1(computed, msg, len, c->message_mac1_key);
	if (!crypto_equal(computed, msg + len - WG_MACS_SIZE, WG_MAC_LEN))
		goto out;
	ret = WG_COOKIE_VALID_MAC_BUT_NO_COOKIE;
	/*
	 * An initiator without a cookie sends mac2 as zeros (and a MAC is all zero with
	 * probability 2^-128): a flood that never asked for a cookie costs no mac2 under load.
	 */
	if (!check_cookie || crypto_equal(msg + len - WG_MAC_LEN, zero_mac, WG_MAC_LEN))
		goto out;
	make_cookie(c, cookie, src, now_ns, rnd, rnd_ctx);
	compute_mac2(computed, msg, len, cookie);
	if (crypto_equal(computed, msg + len - WG_MAC_LEN, WG_MAC_LEN))
		ret = WG_COOKIE_VALID_MAC_WITH_COOKIE;
out:
	crypto_wipe(cookie, sizeof(cookie));
	return ret;
}

static bool cookie_fresh(const struct wg_cookie *ck, uint64_t now_ns)
{
	/* A little younger than the responder's secret, so mac2 is not made with a dead cookie. */
	return ck->is_valid && now_ns >= ck->birthdate &&
	       now_ns < ck->birthdate + WG_COOKIE_SECRET_MAX_AGE - WG_COOKIE_SECRET_LATENCY;
}

void wg_cookie_add_macs(struct wg_cookie *ck, uint8_t *msg, size_t len, uint64_t now_ns)
{
	uint8_t *mac1 = msg + len - WG_MACS_SIZE, *mac2 = msg + len - WG_MAC_LEN;

	compute_mac1(mac1, msg, len, ck->message_mac1_key);
	memcpy(ck->last_mac1_sent, mac1, WG_MAC_LEN);
	ck->have_sent_mac1 = true;
	if (cookie_fresh(ck, now_ns))
		compute_mac2(mac2, msg, len, ck->cookie);
	else
		memset(mac2, 0, WG_MAC_LEN);
}

void wg_cookie_create_reply(struct wg_cookie_checker *c, uint8_t out[WG_COOKIE_REPLY_SIZE],
			    const uint8_t *msg, size_t len, uint32_t sender_index,
			    const struct vw_endpoint *src, uint64_t now_ns, wg_random_fn rnd,
			    void *rnd_ctx)
{
	uint8_t cookie[WG_COOKIE_SIZE], mac1[WG_MAC_LEN];

	/* msg and out may share a buffer: keep mac1 before writing over it. */
	memcpy(mac1, msg + len - WG_MACS_SIZE, WG_MAC_LEN);
	make_cookie(c, cookie, src, now_ns, rnd, rnd_ctx);
	memset(out, 0, WG_COOKIE_REPLY_SIZE);
	wg_message_put_type(out, WG_MSG_HANDSHAKE_COOKIE);
	put_le32(out + WG_COOKIE_OFF_RECEIVER, sender_index);
	rnd(rnd_ctx, out + WG_COOKIE_OFF_NONCE, WG_COOKIE_NONCE_SIZE);
	xaead_encrypt(out + WG_COOKIE_OFF_COOKIE, cookie, WG_COOKIE_SIZE, mac1, WG_MAC_LEN,
		      out + WG_COOKIE_OFF_NONCE, c->cookie_encryption_key);
	crypto_wipe(cookie, sizeof(cookie));
}

bool wg_cookie_consume_reply(struct wg_cookie *ck, const uint8_t msg[WG_COOKIE_REPLY_SIZE],
			     uint64_t now_ns)
{
	uint8_t cookie[WG_COOKIE_SIZE];

	if (!ck->have_sent_mac1)
		return false;
	if (!xaead_decrypt(cookie, msg + WG_COOKIE_OFF_COOKIE, WG_COOKIE_SIZE + WG_AEAD_TAG_SIZE,
			   ck->last_mac1_sent, WG_MAC_LEN, msg + WG_COOKIE_OFF_NONCE,
			   ck->cookie_decryption_key))
		return false;
	memcpy(ck->cookie, cookie, WG_COOKIE_SIZE);
	crypto_wipe(cookie, sizeof(cookie));
	ck->birthdate = now_ns;
	ck->is_valid = true;
	/* One reply per message sent: a replayed reply cannot refresh the cookie. */
	ck->have_sent_mac1 = false;
	return true;
}
