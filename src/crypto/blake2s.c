/* SPDX-License-Identifier: MIT */
#include "blake2s.h"

#include <string.h>

#include "core/byteorder.h"
#include "crypto.h"

/* RFC 7693 section 2.6: the SHA-256 initial values. */
static const uint32_t blake2s_iv[8] = {
	0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
	0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
};

/* RFC 7693 section 2.7: message word schedule for the 10 rounds. */
static const uint8_t blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static inline uint32_t ror32(uint32_t x, unsigned int n)
{
	return x >> n | x << (32 - n);
}

/* The mixing function G (RFC 7693 section 3.1) with BLAKE2s's rotations 16, 12, 8, 7. */
#define G(a, b, c, d, x, y)                   \
	do {                                  \
		v[a] = v[a] + v[b] + (x);     \
		v[d] = ror32(v[d] ^ v[a], 16); \
		v[c] = v[c] + v[d];           \
		v[b] = ror32(v[b] ^ v[c], 12); \
		v[a] = v[a] + v[b] + (y);     \
		v[d] = ror32(v[d] ^ v[a], 8);  \
		v[c] = v[c] + v[d];           \
		v[b] = ror32(v[b] ^ v[c], 7);  \
	} while (0)

/* The compression function F (RFC 7693 section 3.2) over one 64-byte block. */
static void blake2s_compress(struct blake2s_state *s, const uint8_t block[BLAKE2S_BLOCK_SIZE])
{
	uint32_t m[16], v[16];

	for (int i = 0; i < 16; i++)
		m[i] = get_le32(block + 4 * i);
	for (int i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	v[14] ^= s->f[0];
	v[15] ^= s->f[1];
	for (int r = 0; r < 10; r++) {
		const uint8_t *sg = blake2s_sigma[r];

		G(0, 4, 8, 12, m[sg[0]], m[sg[1]]);
		G(1, 5, 9, 13, m[sg[2]], m[sg[3]]);
		G(2, 6, 10, 14, m[sg[4]], m[sg[5]]);
		G(3, 7, 11, 15, m[sg[6]], m[sg[7]]);
		G(0, 5, 10, 15, m[sg[8]], m[sg[9]]);
		G(1, 6, 11, 12, m[sg[10]], m[sg[11]]);
		G(2, 7, 8, 13, m[sg[12]], m[sg[13]]);
		G(3, 4, 9, 14, m[sg[14]], m[sg[15]]);
	}
	for (int i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
	/* m and v are not wiped per block (a measurable cost on every handshake);
	 * callers' states are wiped in blake2s_final and stack slots are reused. */
}

static void blake2s_increment_counter(struct blake2s_state *s, uint32_t inc)
{
	s->t[0] += inc;
	s->t[1] += s->t[0] < inc;
}

void blake2s_init_key(struct blake2s_state *s, size_t outlen, const void *key, size_t keylen)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->h, blake2s_iv, sizeof(s->h));
	/* Parameter block word 0: digest length, key length, fanout 1, depth 1. */
	s->h[0] ^= 0x01010000 ^ (uint32_t)(keylen << 8) ^ (uint32_t)outlen;
	s->outlen = (uint32_t)outlen;
	if (keylen) {
		/* The key is the first block, zero padded (RFC 7693 section 3.3). */
		memcpy(s->buf, key, keylen);
		s->buflen = BLAKE2S_BLOCK_SIZE;
	}
}

void blake2s_init(struct blake2s_state *s, size_t outlen)
{
	blake2s_init_key(s, outlen, NULL, 0);
}

void blake2s_update(struct blake2s_state *s, const void *in, size_t inlen)
{
	const uint8_t *p = in;

	/*
	 * The last block must go through compress with the final flag, so a full
	 * buffer is only compressed once more input is known to follow.
	 */
	while (inlen) {
		size_t fill = BLAKE2S_BLOCK_SIZE - s->buflen;

		if (s->buflen == BLAKE2S_BLOCK_SIZE) {
			blake2s_increment_counter(s, BLAKE2S_BLOCK_SIZE);
			blake2s_compress(s, s->buf);
			s->buflen = 0;
			continue;
		}
		if (fill > inlen)
			fill = inlen;
		memcpy(s->buf + s->buflen, p, fill);
		s->buflen += (uint32_t)fill;
		p += fill;
		inlen -= fill;
	}
}

void blake2s_final(struct blake2s_state *s, uint8_t *out)
{
	uint8_t full[BLAKE2S_HASH_SIZE];

	blake2s_increment_counter(s, s->buflen);
	s->f[0] = 0xffffffff;
	memset(s->buf + s->buflen, 0, BLAKE2S_BLOCK_SIZE - s->buflen);
	blake2s_compress(s, s->buf);
	for (int i = 0; i < 8; i++)
		put_le32(full + 4 * i, s->h[i]);
	memcpy(out, full, s->outlen);
	crypto_wipe(full, sizeof(full));
	crypto_wipe(s, sizeof(*s));
}

void blake2s(uint8_t *out, size_t outlen, const void *in, size_t inlen, const void *key,
	     size_t keylen)
{
	struct blake2s_state s;

	blake2s_init_key(&s, outlen, key, keylen);
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, out);
}
