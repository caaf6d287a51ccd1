/* SPDX-License-Identifier: MIT */
#include "kdf.h"

#include <string.h>

#include "crypto.h"

void hmac_blake2s(uint8_t out[BLAKE2S_HASH_SIZE], const uint8_t *key, size_t keylen,
		  const uint8_t *in, size_t inlen)
{
	struct blake2s_state s;
	uint8_t k[BLAKE2S_BLOCK_SIZE] = { 0 };
	uint8_t inner[BLAKE2S_HASH_SIZE];

	/* RFC 2104: keys longer than a block are hashed first. */
	if (keylen > BLAKE2S_BLOCK_SIZE)
		blake2s(k, BLAKE2S_HASH_SIZE, key, keylen, NULL, 0);
	else
		memcpy(k, key, keylen);

	for (int i = 0; i < BLAKE2S_BLOCK_SIZE; i++)
		k[i] ^= 0x36;
	blake2s_init(&s, BLAKE2S_HASH_SIZE);
	blake2s_update(&s, k, sizeof(k));
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, inner);

	for (int i = 0; i < BLAKE2S_BLOCK_SIZE; i++)
		k[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&s, BLAKE2S_HASH_SIZE);
	blake2s_update(&s, k, sizeof(k));
	blake2s_update(&s, inner, sizeof(inner));
	blake2s_final(&s, out);

	crypto_wipe(k, sizeof(k));
	crypto_wipe(inner, sizeof(inner));
}

void wg_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t key[BLAKE2S_HASH_SIZE],
	    const uint8_t *in, size_t inlen)
{
	uint8_t prk[BLAKE2S_HASH_SIZE];
	uint8_t t[BLAKE2S_HASH_SIZE + 1];
	uint8_t *outs[3] = { t1, t2, t3 };

	/* Extract, then expand: T(i) = HMAC(prk, T(i-1) || i), T(0) empty. */
	hmac_blake2s(prk, key, BLAKE2S_HASH_SIZE, in, inlen);
	for (int i = 0; i < 3 && outs[i]; i++) {
		size_t len = 0;

		if (i) {
			memcpy(t, outs[i - 1], BLAKE2S_HASH_SIZE);
			len = BLAKE2S_HASH_SIZE;
		}
		t[len] = (uint8_t)(i + 1);
		hmac_blake2s(outs[i], prk, sizeof(prk), t, len + 1);
	}
	crypto_wipe(prk, sizeof(prk));
	crypto_wipe(t, sizeof(t));
}

void wg_hash(uint8_t out[BLAKE2S_HASH_SIZE], const void *in, size_t inlen)
{
	blake2s(out, BLAKE2S_HASH_SIZE, in, inlen, NULL, 0);
}

void wg_mac(uint8_t out[WG_MAC_SIZE], const uint8_t *key, size_t keylen, const void *in,
	    size_t inlen)
{
	blake2s(out, WG_MAC_SIZE, in, inlen, key, keylen);
}
