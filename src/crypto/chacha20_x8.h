/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_CHACHA20_X8_H
#define VW_CRYPTO_CHACHA20_X8_H

#include <stdint.h>

/*
 * Eight ChaCha20 blocks (RFC 8439, 20 rounds) computed side by side with AVX2, one
 * per lane, each with its own key, counter and nonce. x86_64 only; the caller checks
 * that the CPU has AVX2 before calling.
 */
#if defined(__x86_64__)

#define CHACHA20_X8_LANES 8

/*
 * The key and nonce words in the "vertical" layout the vector code wants, one row per
 * register: w[0..7][lane] are that lane's state words 4-11 (key), w[8..10][lane] words
 * 13-15 (nonce). Word 12, the block counter, is given per call, the same for all lanes.
 */
struct chacha20_x8 {
	uint32_t w[11][CHACHA20_X8_LANES] __attribute__((aligned(32)));
};

/* key[lane]: 32 bytes; nonce[i][lane]: word i of that lane's 96-bit IETF nonce. */
void chacha20_x8_init(struct chacha20_x8 *st, const uint8_t *const key[CHACHA20_X8_LANES],
		      const uint32_t nonce[3][CHACHA20_X8_LANES]);
/* out[lane] receives block number counter of that lane's stream, little-endian. */
void chacha20_x8_block(uint8_t out[CHACHA20_X8_LANES][64], const struct chacha20_x8 *st,
		       uint32_t counter);
/*
 * The same block XORed into data[lane] (64 bytes, any alignment) in place of a copy for
 * the caller to XOR; lanes whose pointer is NULL are skipped.
 */
void chacha20_x8_xor(uint8_t *const data[CHACHA20_X8_LANES], const struct chacha20_x8 *st,
		     uint32_t counter);

#endif

#endif
