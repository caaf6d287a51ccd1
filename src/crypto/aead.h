/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_AEAD_H
#define VW_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_SIZE 32
#define AEAD_TAG_SIZE 16
#define XAEAD_NONCE_SIZE 24

/*
 * ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce: 32 zero bits, then the
 * 64-bit counter little-endian. dst receives len bytes of ciphertext followed
 * by the tag; dst == src encrypts in place.
 */
void aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		  uint64_t counter, const uint8_t key[AEAD_KEY_SIZE]);
/*
 * src holds srclen bytes of ciphertext and tag; dst receives srclen - 16 bytes.
 * In place is allowed. False (dst unspecified) when the tag does not verify.
 */
bool aead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		  size_t adlen, uint64_t counter, const uint8_t key[AEAD_KEY_SIZE]);

/* XChaCha20-Poly1305 with a 24-byte nonce (cookie replies). Same conventions. */
void xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		   const uint8_t nonce[XAEAD_NONCE_SIZE], const uint8_t key[AEAD_KEY_SIZE]);
bool xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		   size_t adlen, const uint8_t nonce[XAEAD_NONCE_SIZE],
		   const uint8_t key[AEAD_KEY_SIZE]);

#endif
