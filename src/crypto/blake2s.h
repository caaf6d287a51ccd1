/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_BLAKE2S_H
#define VW_CRYPTO_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

/* BLAKE2s (RFC 7693): WireGuard's HASH, MAC and the core of its HMAC/HKDF. */
#define BLAKE2S_BLOCK_SIZE 64
#define BLAKE2S_HASH_SIZE 32
#define BLAKE2S_KEY_SIZE 32

struct blake2s_state {
	uint32_t h[8];
	uint32_t t[2];
	uint32_t f[2];
	uint8_t buf[BLAKE2S_BLOCK_SIZE];
	uint32_t buflen;
	uint32_t outlen;
};

/* outlen 1..32; keylen 0..32. */
void blake2s_init(struct blake2s_state *s, size_t outlen);
void blake2s_init_key(struct blake2s_state *s, size_t outlen, const void *key, size_t keylen);
void blake2s_update(struct blake2s_state *s, const void *in, size_t inlen);
/* Writes outlen bytes and wipes the state. */
void blake2s_final(struct blake2s_state *s, uint8_t *out);

/* One-shot, keyed when keylen > 0. */
void blake2s(uint8_t *out, size_t outlen, const void *in, size_t inlen, const void *key,
	     size_t keylen);

#endif
