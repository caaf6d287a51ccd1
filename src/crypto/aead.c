/* SPDX-License-Identifier: MIT */
#include "aead.h"

#include <sodium.h>

#include "core/byteorder.h"
#include "crypto.h"

_Static_assert(AEAD_NONCE_SIZE == crypto_aead_chacha20poly1305_ietf_NPUBBYTES, "nonce size");

/* WireGuard's 96-bit nonce: 32 zero bits, then the counter little-endian. */
void aead_wg_nonce(uint8_t nonce[AEAD_NONCE_SIZE], uint64_t counter)
{
	put_le32(nonce, 0);
	put_le64(nonce + 4, counter);
}

void aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		  uint64_t counter, const uint8_t key[AEAD_KEY_SIZE])
{
	uint8_t nonce[AEAD_NONCE_SIZE];

	aead_wg_nonce(nonce, counter);
	/* Detached, so the tag lands right after the ciphertext even when dst == src. */
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(dst, dst + len, NULL, src, len, ad,
							   adlen, NULL, nonce, key);
}

bool aead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		  size_t adlen, uint64_t counter, const uint8_t key[AEAD_KEY_SIZE])
{
	uint8_t nonce[AEAD_NONCE_SIZE];

	if (srclen < AEAD_TAG_SIZE)
		return false;
	aead_wg_nonce(nonce, counter);
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		       dst, NULL, src, srclen - AEAD_TAG_SIZE, src + srclen - AEAD_TAG_SIZE, ad,
		       adlen, nonce, key) == 0;
}

void xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		   const uint8_t nonce[XAEAD_NONCE_SIZE], const uint8_t key[AEAD_KEY_SIZE])
{
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(dst, dst + len, NULL, src, len, ad,
							    adlen, NULL, nonce, key);
}

bool xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		   size_t adlen, const uint8_t nonce[XAEAD_NONCE_SIZE],
		   const uint8_t key[AEAD_KEY_SIZE])
{
	if (srclen < AEAD_TAG_SIZE)
		return false;
	return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		       dst, NULL, src, srclen - AEAD_TAG_SIZE, src + srclen - AEAD_TAG_SIZE, ad,
		       adlen, nonce, key) == 0;
}
