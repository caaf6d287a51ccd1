/* SPDX-License-Identifier: MIT */
#include "poly1305_x4.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "core/byteorder.h"
#include "crypto.h"

/* Only these functions may use AVX2: the rest of the build runs on any x86_64. */
#define AVX2 __attribute__((target("avx2")))

#define LANES POLY1305_X4_LANES
#define M26   0x3ffffffu

/*
 * Where a lane's 16-byte blocks come from: the ciphertext's whole blocks in place, then
 * a copy of its last partial block padded with zeros (if any) and the lengths block.
 */
struct lane {
	const uint8_t *ct;
	uint32_t nfull;
	uint32_t nblocks;
	uint8_t tail[32];
};

static void lane_setup(struct lane *ln, const uint8_t *ct, uint32_t len)
{
	uint32_t rem = len % 16, ntail = 0;

	ln->ct = ct;
	ln->nfull = len / 16;
	memset(ln->tail, 0, sizeof(ln->tail));
	if (rem)
		memcpy(ln->tail + 16 * ntail++, ct + 16 * ln->nfull, rem);
	/* le64(AD length) = 0, then le64(ciphertext length). */
	put_le64(ln->tail + 16 * ntail + 8, len);
	ntail++;
	ln->nblocks = ln->nfull + ntail;
}

static const uint8_t *lane_block(const struct lane *ln, uint32_t b)
{
	return b < ln->nfull ? ln->ct + 16 * b : ln->tail + 16 * (b - ln->nfull);
}

/* The clamped r of a one-time key as five 26-bit limbs. */
static void r_limbs(uint64_t r[5], const uint8_t otk[32])
{
	uint64_t lo = get_le64(otk) & 0x0ffffffc0fffffffull;
	uint64_t hi = get_le64(otk + 8) & 0x0ffffffc0ffffffcull;

	r[0] = lo & M26;
	r[1] = (lo >> 26) & M26;
	r[2] = ((lo >> 52) | (hi << 12)) & M26;
	r[3] = (hi >> 14) & M26;
	r[4] = hi >> 40;
}

/* One carry pass over h, the top limb's carry wrapping around as 5 (2^130 = 5 mod p). */
static void carry_pass(uint64_t h[5])
{
	uint64_t c;

	for (unsigned i = 0; i < 4; i++) {
		c = h[i] >> 26;
		h[i] &= M26;
		h[i + 1] += c;
	}
	c = h[4] >> 26;
	h[4] &= M26;
	h[0] += c * 5;
}

/* h (five partly reduced limbs) fully reduced mod 2^130 - 5, plus s, into tag. */
static void finish(uint8_t tag[16], uint64_t h[5], const uint8_t otk[32])
{
	uint64_t g[5], c = 5, keep, lo, hi, t;

	/* Two passes leave every limb below 2^26: h < 2^130 < 2p. */
	carry_pass(h);
	carry_pass(h);
	/* g = h + 5 - 2^130: h >= p exactly when that does not borrow. */
	for (unsigned i = 0; i < 5; i++) {
		g[i] = h[i] + c;
		c = g[i] >> 26;
		g[i] &= M26;
	}
	keep = 0 - c; /* all ones: h + 5 reached 2^130, take g */
	for (unsigned i = 0; i < 5; i++)
		h[i] = (h[i] & ~keep) | (g[i] & keep);
	lo = h[0] | (h[1] << 26) | (h[2] << 52);
	hi = (h[2] >> 12) | (h[3] << 14) | (h[4] << 40);
	t = lo + get_le64(otk + 16);
	hi += get_le64(otk + 24) + (t < lo);
	put_le64(tag, t);
	put_le64(tag + 8, hi);
}

static inline AVX2 __m256i mul(__m256i a, __m256i b)
{
	return _mm256_mul_epu32(a, b);
}

/* h = (h + block) * r for each lane; hibit: 2^128 in limb 4's terms, or 0 (lane idle). */
static inline AVX2 void block4(__m256i h[5], const __m256i r[5], const __m256i s[5], __m256i hibit,
			       const uint8_t *const p[LANES])
{
	const __m256i m26 = _mm256_set1_epi64x(M26);
	__m128i b0 = _mm_loadu_si128((const __m128i *)p[0]);
	__m128i b1 = _mm_loadu_si128((const __m128i *)p[1]);
	__m128i b2 = _mm_loadu_si128((const __m128i *)p[2]);
	__m128i b3 = _mm_loadu_si128((const __m128i *)p[3]);
	__m256i lo = _mm256_set_m128i(_mm_unpacklo_epi64(b2, b3), _mm_unpacklo_epi64(b0, b1));
	__m256i hi = _mm256_set_m128i(_mm_unpackhi_epi64(b2, b3), _mm_unpackhi_epi64(b0, b1));
	__m256i h0, h1, h2, h3, h4, d0, d1, d2, d3, d4, c;

	h0 = _mm256_add_epi64(h[0], _mm256_and_si256(lo, m26));
	h1 = _mm256_add_epi64(h[1], _mm256_and_si256(_mm256_srli_epi64(lo, 26), m26));
	h2 = _mm256_add_epi64(h[2], _mm256_and_si256(_mm256_or_si256(_mm256_srli_epi64(lo, 52),
								     _mm256_slli_epi64(hi, 12)),
						     m26));
	h3 = _mm256_add_epi64(h[3], _mm256_and_si256(_mm256_srli_epi64(hi, 14), m26));
	h4 = _mm256_add_epi64(h[4], _mm256_or_si256(_mm256_srli_epi64(hi, 40), hibit));

	/* Row by row into five sums: fewer values live at once than a tree per limb. */
	d0 = mul(h0, r[0]);
	d1 = mul(h0, r[1]);
	d2 = mul(h0, r[2]);
	d3 = mul(h0, r[3]);
	d4 = mul(h0, r[4]);
	d0 = _mm256_add_epi64(d0, mul(h1, s[4]));
	d1 = _mm256_add_epi64(d1, mul(h1, r[0]));
	d2 = _mm256_add_epi64(d2, mul(h1, r[1]));
	d3 = _mm256_add_epi64(d3, mul(h1, r[2]));
	d4 = _mm256_add_epi64(d4, mul(h1, r[3]));
	d0 = _mm256_add_epi64(d0, mul(h2, s[3]));
	d1 = _mm256_add_epi64(d1, mul(h2, s[4]));
	d2 = _mm256_add_epi64(d2, mul(h2, r[0]));
	d3 = _mm256_add_epi64(d3, mul(h2, r[1]));
	d4 = _mm256_add_epi64(d4, mul(h2, r[2]));
	d0 = _mm256_add_epi64(d0, mul(h3, s[2]));
	d1 = _mm256_add_epi64(d1, mul(h3, s[3]));
	d2 = _mm256_add_epi64(d2, mul(h3, s[4]));
	d3 = _mm256_add_epi64(d3, mul(h3, r[0]));
	d4 = _mm256_add_epi64(d4, mul(h3, r[1]));
	d0 = _mm256_add_epi64(d0, mul(h4, s[1]));
	d1 = _mm256_add_epi64(d1, mul(h4, s[2]));
	d2 = _mm256_add_epi64(d2, mul(h4, s[3]));
	d3 = _mm256_add_epi64(d3, mul(h4, s[4]));
	d4 = _mm256_add_epi64(d4, mul(h4, r[0]));

	/* Two carry chains side by side (d0 -> d1 -> d2, d3 -> d4 -> d0 -> d1), then d2 -> d3. */
	c = _mm256_srli_epi64(d0, 26), d0 = _mm256_and_si256(d0, m26), d1 = _mm256_add_epi64(d1, c);
	c = _mm256_srli_epi64(d3, 26), d3 = _mm256_and_si256(d3, m26), d4 = _mm256_add_epi64(d4, c);
	c = _mm256_srli_epi64(d1, 26), d1 = _mm256_and_si256(d1, m26), d2 = _mm256_add_epi64(d2, c);
	c = _mm256_srli_epi64(d4, 26), d4 = _mm256_and_si256(d4, m26);
	d0 = _mm256_add_epi64(d0, _mm256_add_epi64(c, _mm256_slli_epi64(c, 2)));
	c = _mm256_srli_epi64(d2, 26), d2 = _mm256_and_si256(d2, m26), d3 = _mm256_add_epi64(d3, c);
	c = _mm256_srli_epi64(d0, 26), d0 = _mm256_and_si256(d0, m26), d1 = _mm256_add_epi64(d1, c);
	c = _mm256_srli_epi64(d3, 26), d3 = _mm256_and_si256(d3, m26), d4 = _mm256_add_epi64(d4, c);
	h[0] = d0;
	h[1] = d1;
	h[2] = d2;
	h[3] = d3;
	h[4] = d4;
}

/* Lanes not in `active` multiply by 1 and add nothing: their h stays as it is. */
static inline AVX2 void keys4(__m256i r[5], __m256i s[5], __m256i *hibit,
			      const uint64_t rl[LANES][5], const bool active[LANES])
{
	uint64_t v[5][LANES], hb[LANES];

	for (unsigned l = 0; l < LANES; l++) {
		for (unsigned i = 0; i < 5; i++)
			v[i][l] = active[l] ? rl[l][i] : i == 0;
		hb[l] = active[l] ? 1u << 24 : 0;
	}
	for (unsigned i = 0; i < 5; i++) {
		r[i] = _mm256_loadu_si256((const __m256i *)v[i]);
		/* 5 r_i for i >= 1 (2^130 = 5 mod p); inactive lanes have r_i = 0 there. */
		s[i] = _mm256_add_epi64(r[i], _mm256_slli_epi64(r[i], 2));
	}
	*hibit = _mm256_loadu_si256((const __m256i *)hb);
}

/* The first block, up to end, that some active lane takes from its tail. */
static uint32_t whole_blocks(const struct lane *ln, const bool active[LANES], uint32_t end)
{
	for (unsigned l = 0; l < LANES; l++)
		if (active[l] && ln[l].nfull < end)
			end = ln[l].nfull;
	return end;
}

AVX2 void poly1305_x4_aead_tags(uint8_t *const tag[LANES], const uint8_t *const ct[LANES],
				const uint32_t len[LANES], const uint8_t *const otk[LANES])
{
	static const uint8_t zero[16];
	struct lane ln[LANES];
	uint64_t rl[LANES][5], hv[5][LANES];
	bool active[LANES];
	__m256i h[5], r[5], s[5], hibit;
	uint32_t b = 0, left = LANES;

	for (unsigned l = 0; l < LANES; l++) {
		lane_setup(&ln[l], ct[l], len[l]);
		r_limbs(rl[l], otk[l]);
		active[l] = true;
	}
	for (unsigned i = 0; i < 5; i++)
		h[i] = _mm256_setzero_si256();
	/* In runs between the points where a lane runs out of blocks. */
	while (left) {
		uint32_t end = UINT32_MAX;
		const uint8_t *p[LANES];

		for (unsigned l = 0; l < LANES; l++)
			if (active[l] && ln[l].nblocks < end)
				end = ln[l].nblocks;
		keys4(r, s, &hibit, rl, active);
		/* While every active lane is in its ciphertext's whole blocks: plain strides. */
		for (uint32_t full = whole_blocks(ln, active, end); b < full; b++) {
			for (unsigned l = 0; l < LANES; l++)
				p[l] = active[l] ? ln[l].ct + 16 * b : zero;
			block4(h, r, s, hibit, p);
		}
		for (; b < end; b++) {
			for (unsigned l = 0; l < LANES; l++)
				p[l] = active[l] ? lane_block(&ln[l], b) : zero;
			block4(h, r, s, hibit, p);
		}
		for (unsigned l = 0; l < LANES; l++)
			if (active[l] && ln[l].nblocks == end)
				active[l] = false, left--;
	}
	for (unsigned i = 0; i < 5; i++)
		_mm256_storeu_si256((__m256i *)hv[i], h[i]);
	for (unsigned l = 0; l < LANES; l++) {
		uint64_t hl[5] = {hv[0][l], hv[1][l], hv[2][l], hv[3][l], hv[4][l]};

		finish(tag[l], hl, otk[l]);
		crypto_wipe(hl, sizeof(hl));
	}
	/* The state and r are as secret as the key. */
	crypto_wipe(hv, sizeof(hv));
	crypto_wipe(rl, sizeof(rl));
}

#endif
