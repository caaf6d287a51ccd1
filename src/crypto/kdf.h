/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_KDF_H
#define VW_CRYPTO_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "blake2s.h"

/* HMAC (RFC 2104) over BLAKE2s-256, as the whitepaper's HMAC. */
void hmac_blake2s(uint8_t out[BLAKE2S_HASH_SIZE], const uint8_t *key, size_t keylen,
		  const uint8_t *in, size_t inlen);

/*
 * The whitepaper's KDF_n(key, input): HKDF with HMAC-BLAKE2s, n = 1, 2 or 3
 * outputs of 32 bytes. Unused outputs are NULL: wg_kdf(t1, NULL, NULL, ...) is
 * KDF1. Intermediate values are wiped.
 */
void wg_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t key[BLAKE2S_HASH_SIZE],
	    const uint8_t *in, size_t inlen);

/* The whitepaper's HASH(input) = BLAKE2s-256. */
void wg_hash(uint8_t out[BLAKE2S_HASH_SIZE], const void *in, size_t inlen);

/* The whitepaper's MAC(key, input) = keyed BLAKE2s with a 16-byte output. */
#define WG_MAC_SIZE 16
void wg_mac(uint8_t out[WG_MAC_SIZE], const uint8_t *key, size_t keylen, const void *in,
	    size_t inlen);

#endif
