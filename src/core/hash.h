/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_HASH_H
#define VW_CORE_HASH_H

#include <stdint.h>

/*
 * MurmurHash3's 32-bit block round and finaliser, for keyed table and flow
 * hashes that need spread, not secrecy (the key is a random seed per start).
 * Callers feed words with murmur3_round and end with murmur3_fmix; the output
 * feeds bucket indices and the VXLAN source port, so changing these changes
 * both.
 */

static inline uint32_t murmur3_rotl(uint32_t x, unsigned r)
{
	return x << r | x >> (32 - r);
}

static inline uint32_t murmur3_round(uint32_t h, uint32_t w)
{
	w *= 0xcc9e2d51u;
	w = murmur3_rotl(w, 15);
	w *= 0x1b873593u;
	h ^= w;
	h = murmur3_rotl(h, 13);
	return h * 5 + 0xe6546b64u;
}

static inline uint32_t murmur3_fmix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

#endif
