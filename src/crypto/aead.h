/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_AEAD_H
#define VW_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_SIZE 32
#define AEAD_TAG_SIZE 16
#define AEAD_NONCE_SIZE 12
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

/* The nonce aead_encrypt / aead_decrypt build from a counter (the layout above). */
void aead_wg_nonce(uint8_t nonce[AEAD_NONCE_SIZE], uint64_t counter);

/*
 * Batches of WireGuard data messages (no AD), sealed or opened in place: the same bytes
 * as aead_encrypt / aead_decrypt of each message, but short messages of a batch share
 * their ChaCha20 work (several messages' blocks computed side by side where the CPU has
 * the vector width), which is where 64-byte packets spend their crypto time.
 */
struct aead_msg {
	uint8_t *data;	    /* len bytes, then the 16-byte tag (written, or checked) */
	uint32_t len;	    /* plaintext / ciphertext bytes, without the tag */
	uint64_t counter;   /* the nonce's counter */
	const uint8_t *key; /* AEAD_KEY_SIZE bytes; messages of a batch may differ */
	bool ok;	    /* aead_open_batch: the tag verified, data holds the plaintext */
};

/* Encrypts each m[i].data in place and writes its tag after it. */
void aead_seal_batch(struct aead_msg *m, size_t n);
/* Verifies each tag; where it verifies, decrypts in place and sets ok, else ok = false
 * and data is left as it was. */
void aead_open_batch(struct aead_msg *m, size_t n);

/* XChaCha20-Poly1305 with a 24-byte nonce (cookie replies). Same conventions. */
void xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		   const uint8_t nonce[XAEAD_NONCE_SIZE], const uint8_t key[AEAD_KEY_SIZE]);
bool xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		   size_t adlen, const uint8_t nonce[XAEAD_NONCE_SIZE],
		   const uint8_t key[AEAD_KEY_SIZE]);

#endif
