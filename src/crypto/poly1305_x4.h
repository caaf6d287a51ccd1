/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_POLY1305_X4_H
#define VW_CRYPTO_POLY1305_X4_H

#include <stdint.h>

/*
 * The Poly1305 tags of four ChaCha20-Poly1305 messages without AD (RFC 8439 section 2.8:
 * the ciphertext, zeros to a multiple of 16, le64(0), le64(len)), computed side by side
 * with AVX2, one message per 64-bit lane, each with its own one-time key and length.
 * x86_64 only; the caller checks that the CPU has AVX2 before calling.
 */
#if defined(__x86_64__)

#define POLY1305_X4_LANES 4

/* tag[l] (16 bytes) of ct[l] (len[l] bytes) under the one-time key otk[l] (32 bytes). */
void poly1305_x4_aead_tags(uint8_t *const tag[POLY1305_X4_LANES],
			   const uint8_t *const ct[POLY1305_X4_LANES],
			   const uint32_t len[POLY1305_X4_LANES],
			   const uint8_t *const otk[POLY1305_X4_LANES]);

#endif

#endif
