/* SPDX-License-Identifier: MIT */
#include "chacha20_x8.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>

/* Only these functions may use AVX2: the rest of the build runs on any x86_64. */
#define AVX2 __attribute__((target("avx2")))

/* A byte shuffle is one instruction where shift-shift-or is three. */
static inline AVX2 __m256i rotl16(__m256i x)
{
	const __m256i m = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2,
					   3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);

	return _mm256_shuffle_epi8(x, m);
}

static inline AVX2 __m256i rotl8(__m256i x)
{
	const __m256i m = _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14, 3,
					   0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);

	return _mm256_shuffle_epi8(x, m);
}

static inline AVX2 __m256i rotl12(__m256i x)
{
	return _mm256_or_si256(_mm256_slli_epi32(x, 12), _mm256_srli_epi32(x, 20));
}

static inline AVX2 __m256i rotl7(__m256i x)
{
	return _mm256_or_si256(_mm256_slli_epi32(x, 7), _mm256_srli_epi32(x, 25));
}

#define QUARTER(a, b, c, d)                         \
	do {                                        \
		a = _mm256_add_epi32(a, b);         \
		d = rotl16(_mm256_xor_si256(d, a)); \
		c = _mm256_add_epi32(c, d);         \
		b = rotl12(_mm256_xor_si256(b, c)); \
		a = _mm256_add_epi32(a, b);         \
		d = rotl8(_mm256_xor_si256(d, a));  \
		c = _mm256_add_epi32(c, d);         \
		b = rotl7(_mm256_xor_si256(b, c));  \
	} while (0)

/*
 * The 8x8 transpose of 32-bit words that turns rows (one word, eight lanes) into
 * columns (one lane, eight consecutive words) and back: afterwards r<l> holds what
 * was lane l. 128-bit halves stay apart until the last step (lanes 0-3 low, 4-7
 * high). A macro on named variables: with arrays, GCC -O2 kept the state on the stack
 * and the block function was 30 % slower.
 */
#define TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7)                                              \
	do {                                                                                    \
		__m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1); \
		__m256i t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3); \
		__m256i t4 = _mm256_unpacklo_epi32(r4, r5), t5 = _mm256_unpackhi_epi32(r4, r5); \
		__m256i t6 = _mm256_unpacklo_epi32(r6, r7), t7 = _mm256_unpackhi_epi32(r6, r7); \
		__m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2); \
		__m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3); \
		__m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6); \
		__m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7); \
		r0 = _mm256_permute2x128_si256(u0, u4, 0x20);                                   \
		r1 = _mm256_permute2x128_si256(u1, u5, 0x20);                                   \
		r2 = _mm256_permute2x128_si256(u2, u6, 0x20);                                   \
		r3 = _mm256_permute2x128_si256(u3, u7, 0x20);                                   \
		r4 = _mm256_permute2x128_si256(u0, u4, 0x31);                                   \
		r5 = _mm256_permute2x128_si256(u1, u5, 0x31);                                   \
		r6 = _mm256_permute2x128_si256(u2, u6, 0x31);                                   \
		r7 = _mm256_permute2x128_si256(u3, u7, 0x31);                                   \
	} while (0)

#define LOAD(p)	    _mm256_loadu_si256((const __m256i *)(p))
#define STORE(p, v) _mm256_storeu_si256((__m256i *)(p), v)

/*
 * Vector stores only: the block function's row loads then forward from them, where
 * rows assembled from 4-byte stores would stall each load.
 */
AVX2 void chacha20_x8_init(struct chacha20_x8 *st, const uint8_t *const key[CHACHA20_X8_LANES],
			   const uint32_t nonce[3][CHACHA20_X8_LANES])
{
	__m256i k0 = LOAD(key[0]), k1 = LOAD(key[1]), k2 = LOAD(key[2]), k3 = LOAD(key[3]);
	__m256i k4 = LOAD(key[4]), k5 = LOAD(key[5]), k6 = LOAD(key[6]), k7 = LOAD(key[7]);

	TRANSPOSE8(k0, k1, k2, k3, k4, k5, k6, k7);
	STORE(st->w[0], k0);
	STORE(st->w[1], k1);
	STORE(st->w[2], k2);
	STORE(st->w[3], k3);
	STORE(st->w[4], k4);
	STORE(st->w[5], k5);
	STORE(st->w[6], k6);
	STORE(st->w[7], k7);
	STORE(st->w[8], LOAD(nonce[0]));
	STORE(st->w[9], LOAD(nonce[1]));
	STORE(st->w[10], LOAD(nonce[2]));
}

/* Block `counter` of all eight lanes, transposed: k[l] and k[l + 8] are lane l's two halves. */
static inline __attribute__((always_inline)) AVX2 void
keystream(__m256i k[16], const struct chacha20_x8 *st, uint32_t counter)
{
	/* "expand 32-byte k" */
	const __m256i c0 = _mm256_set1_epi32(0x61707865), c1 = _mm256_set1_epi32(0x3320646e);
	const __m256i c2 = _mm256_set1_epi32(0x79622d32), c3 = _mm256_set1_epi32(0x6b206574);
	const __m256i ctr = _mm256_set1_epi32((int)counter);
	__m256i x0 = c0, x1 = c1, x2 = c2, x3 = c3;
	__m256i x4 = LOAD(st->w[0]), x5 = LOAD(st->w[1]), x6 = LOAD(st->w[2]), x7 = LOAD(st->w[3]);
	__m256i x8 = LOAD(st->w[4]), x9 = LOAD(st->w[5]), x10 = LOAD(st->w[6]);
	__m256i x11 = LOAD(st->w[7]), x12 = ctr, x13 = LOAD(st->w[8]), x14 = LOAD(st->w[9]);
	__m256i x15 = LOAD(st->w[10]);

	for (int r = 0; r < 10; r++) {
		QUARTER(x0, x4, x8, x12);
		QUARTER(x1, x5, x9, x13);
		QUARTER(x2, x6, x10, x14);
		QUARTER(x3, x7, x11, x15);
		QUARTER(x0, x5, x10, x15);
		QUARTER(x1, x6, x11, x12);
		QUARTER(x2, x7, x8, x13);
		QUARTER(x3, x4, x9, x14);
	}
	/* The input is reloaded rather than kept live across the rounds: no registers left. */
	x0 = _mm256_add_epi32(x0, c0);
	x1 = _mm256_add_epi32(x1, c1);
	x2 = _mm256_add_epi32(x2, c2);
	x3 = _mm256_add_epi32(x3, c3);
	x4 = _mm256_add_epi32(x4, LOAD(st->w[0]));
	x5 = _mm256_add_epi32(x5, LOAD(st->w[1]));
	x6 = _mm256_add_epi32(x6, LOAD(st->w[2]));
	x7 = _mm256_add_epi32(x7, LOAD(st->w[3]));
	x8 = _mm256_add_epi32(x8, LOAD(st->w[4]));
	x9 = _mm256_add_epi32(x9, LOAD(st->w[5]));
	x10 = _mm256_add_epi32(x10, LOAD(st->w[6]));
	x11 = _mm256_add_epi32(x11, LOAD(st->w[7]));
	x12 = _mm256_add_epi32(x12, ctr);
	x13 = _mm256_add_epi32(x13, LOAD(st->w[8]));
	x14 = _mm256_add_epi32(x14, LOAD(st->w[9]));
	x15 = _mm256_add_epi32(x15, LOAD(st->w[10]));

	TRANSPOSE8(x0, x1, x2, x3, x4, x5, x6, x7);
	TRANSPOSE8(x8, x9, x10, x11, x12, x13, x14, x15);
	k[0] = x0, k[1] = x1, k[2] = x2, k[3] = x3, k[4] = x4, k[5] = x5, k[6] = x6, k[7] = x7;
	k[8] = x8, k[9] = x9, k[10] = x10, k[11] = x11, k[12] = x12, k[13] = x13, k[14] = x14;
	k[15] = x15;
}

AVX2 void chacha20_x8_block(uint8_t out[CHACHA20_X8_LANES][64], const struct chacha20_x8 *st,
			    uint32_t counter)
{
	__m256i k[16];

	keystream(k, st, counter);
	for (unsigned l = 0; l < CHACHA20_X8_LANES; l++) {
		STORE(out[l], k[l]);
		STORE(out[l] + 32, k[l + 8]);
	}
}

AVX2 void chacha20_x8_xor(uint8_t *const data[CHACHA20_X8_LANES], const struct chacha20_x8 *st,
			  uint32_t counter)
{
	__m256i k[16];

	keystream(k, st, counter);
	for (unsigned l = 0; l < CHACHA20_X8_LANES; l++) {
		if (!data[l])
			continue;
		STORE(data[l], _mm256_xor_si256(LOAD(data[l]), k[l]));
		STORE(data[l] + 32, _mm256_xor_si256(LOAD(data[l] + 32), k[l + 8]));
	}
}

#endif
