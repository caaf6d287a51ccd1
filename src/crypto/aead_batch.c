/* SPDX-License-Identifier: MIT */
#include <sodium.h>
#include <string.h>

#include "aead.h"
#include "aead_batch_internal.h"
#include "chacha20_x8.h"
#include "core/byteorder.h"
#include "crypto.h"
#include "poly1305_x4.h"

/*
 * Longer messages go through libsodium one by one. Eight full lanes still beat it by a
 * quarter at 1440 bytes (its 8-block AVX2 code covers only multiples of 512 bytes, the
 * rest goes 4 and 1 block at a time) but by 4 % at 2048 and nothing at 4096; 1536 keeps
 * messages of a 1500-byte MTU on the vector path.
 */
#define VEC_MAX_LEN 1536
/* Blocks of a message: block 0 for the Poly1305 key, then its data. */
#define MAX_BLOCKS (1 + (VEC_MAX_LEN + 63) / 64)
/* Short messages are collected and sorted by length this many at a time. */
#define PASS 64

static bool force_portable;

void aead_batch_force_portable(bool on)
{
	force_portable = on;
}

/* RFC 8439's tag without AD: ciphertext, zeros to a multiple of 16, le64(0), le64(len). */
static void poly_tag(uint8_t tag[AEAD_TAG_SIZE], const uint8_t *ct, size_t len,
		     const uint8_t otk[32])
{
	crypto_onetimeauth_poly1305_state ps;
	/* The padding and the lengths in one update: one call fewer for every message. */
	uint8_t tail[32] = {0};
	size_t pad = (16 - len % 16) % 16;

	put_le64(tail + 24, len);
	crypto_onetimeauth_poly1305_init(&ps, otk);
	crypto_onetimeauth_poly1305_update(&ps, ct, len);
	crypto_onetimeauth_poly1305_update(&ps, tail + 16 - pad, pad + 16);
	crypto_onetimeauth_poly1305_final(&ps, tag);
	crypto_wipe(&ps, sizeof(ps));
}

static void seal_one(struct aead_msg *m)
{
	aead_encrypt(m->data, m->data, m->len, NULL, 0, m->counter, m->key);
}

/*
 * Not aead_decrypt: libsodium zeroes the output of a message that fails, and in place
 * that would destroy data the batch API promises to leave alone. Same work otherwise.
 */
static bool open_one(struct aead_msg *m)
{
	uint8_t nonce[AEAD_NONCE_SIZE], otk[32], tag[AEAD_TAG_SIZE];
	bool ok;

	aead_wg_nonce(nonce, m->counter);
	crypto_stream_chacha20_ietf(otk, sizeof(otk), nonce, m->key);
	poly_tag(tag, m->data, m->len, otk);
	ok = crypto_verify_16(tag, m->data + m->len) == 0;
	if (ok)
		crypto_stream_chacha20_ietf_xor_ic(m->data, m->data, m->len, nonce, 1, m->key);
	/* A failed message's computed tag is the one that would have been accepted. */
	crypto_wipe(tag, sizeof(tag));
	crypto_wipe(otk, sizeof(otk));
	return ok;
}

static void one(struct aead_msg *m, bool open)
{
	if (open)
		m->ok = open_one(m);
	else
		seal_one(m);
}

#if defined(__x86_64__)

#define LANES CHACHA20_X8_LANES

static bool have_avx2;

/* Once, before any thread can call in; a constructor must initialize the CPU model. */
__attribute__((constructor)) static void detect_avx2(void)
{
	__builtin_cpu_init();
	have_avx2 = __builtin_cpu_supports("avx2");
}

bool aead_batch_vector_active(void)
{
	return have_avx2 && !force_portable;
}

static uint32_t blocks_of(uint32_t len)
{
	return 1 + (len + 63) / 64;
}

static void xor_into(uint8_t *dst, const uint8_t *ks, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;

		memcpy(&a, dst + i, 8);
		memcpy(&b, ks + i, 8);
		a ^= b;
		memcpy(dst + i, &a, 8);
	}
	for (; i < n; i++)
		dst[i] ^= ks[i];
}

/*
 * The fewest messages of a group of nblocks blocks that beat libsodium one by one
 * (measured on a Zen 4): the eight lanes cost the same however many are used, and
 * libsodium's cost per block falls with length (1, 4, then 8 blocks at a time).
 */
static unsigned min_lanes(uint32_t nblocks)
{
	return nblocks <= 3 ? 3 : nblocks <= 7 ? 4 : 6;
}

/* Data block b (>= 1) of a message, if it has one, XORed with the lane's keystream. */
static void xor_block(struct aead_msg *m, uint32_t b, const uint8_t ks[64])
{
	uint32_t off = (b - 1) * 64;

	if (off < m->len)
		xor_into(m->data + off, ks, m->len - off < 64 ? m->len - off : 64);
}

/*
 * Data block b (>= 1) of the group's messages, XORed with their keystream (only the ones
 * that verified when `open`): straight into the data when none of them ends inside the
 * block, else through ks and xor_block.
 */
static void crypt_block(const struct chacha20_x8 *st, struct aead_msg *const *g, unsigned k,
			uint32_t b, bool open, uint8_t ks[LANES][64])
{
	uint8_t *dst[LANES] = {NULL};
	uint32_t off = (b - 1) * 64;
	bool whole = true;

	for (unsigned l = 0; l < k && whole; l++) {
		if ((open && !g[l]->ok) || off >= g[l]->len)
			continue;
		whole = g[l]->len - off >= 64;
		dst[l] = g[l]->data + off;
	}
	if (whole) {
		chacha20_x8_xor(dst, st, b);
		return;
	}
	chacha20_x8_block(ks, st, b);
	for (unsigned l = 0; l < k; l++)
		if (!open || g[l]->ok)
			xor_block(g[l], b, ks[l]);
}

/* Lanes past k repeat message 0: their blocks are computed and ignored. */
static void x8_setup(struct chacha20_x8 *st, struct aead_msg *const *g, unsigned k)
{
	const uint8_t *key[LANES];
	uint32_t nonce[3][LANES];

	for (unsigned l = 0; l < LANES; l++) {
		const struct aead_msg *m = g[l < k ? l : 0];

		key[l] = m->key;
		nonce[0][l] = 0;
		nonce[1][l] = (uint32_t)m->counter;
		nonce[2][l] = (uint32_t)(m->counter >> 32);
	}
	chacha20_x8_init(st, key, nonce);
}

/*
 * The tags of the group's k messages into tag[], four lanes of Poly1305 at a time; otk[l]
 * is message l's one-time key. Two sets of four in one loop were no faster (the vector
 * units are the limit, not the chain of multiplications). A set with one message left goes
 * through libsodium, which beats four lanes of which three are idle.
 */
static void tags_group(uint8_t tag[LANES][AEAD_TAG_SIZE], struct aead_msg *const *g, unsigned k,
		       const uint8_t *const otk[LANES])
{
	for (unsigned q = 0; q < k; q += POLY1305_X4_LANES) {
		const uint8_t *ct[POLY1305_X4_LANES], *key[POLY1305_X4_LANES];
		uint8_t *out[POLY1305_X4_LANES];
		uint32_t len[POLY1305_X4_LANES];

		if (k - q == 1) {
			poly_tag(tag[q], g[q]->data, g[q]->len, otk[q]);
			break;
		}
		/* Lanes past k repeat message q; their tags are computed and overwritten. */
		for (unsigned l = 0; l < POLY1305_X4_LANES; l++) {
			unsigned i = q + l < k ? q + l : q;

			ct[l] = g[i]->data;
			len[l] = g[i]->len;
			key[l] = otk[i];
			out[l] = tag[i];
		}
		poly1305_x4_aead_tags(out, ct, len, key);
	}
}

/* nblocks: those of the group's longest message. */
static void seal_group(struct aead_msg *const *g, unsigned k, uint32_t nblocks)
{
	struct chacha20_x8 st;
	uint8_t ks[LANES][64] __attribute__((aligned(32)));
	uint8_t otk[LANES][32], tag[LANES][AEAD_TAG_SIZE];
	const uint8_t *keys[LANES];

	x8_setup(&st, g, k);
	chacha20_x8_block(ks, &st, 0);
	for (unsigned l = 0; l < k; l++) {
		memcpy(otk[l], ks[l], 32);
		keys[l] = otk[l];
	}
	for (uint32_t b = 1; b < nblocks; b++)
		crypt_block(&st, g, k, b, false, ks);
	tags_group(tag, g, k, keys);
	for (unsigned l = 0; l < k; l++)
		memcpy(g[l]->data + g[l]->len, tag[l], AEAD_TAG_SIZE);
	crypto_wipe(&st, sizeof(st));
	crypto_wipe(ks, sizeof(ks));
	crypto_wipe(otk, sizeof(otk));
}

/* Every tag is checked on block 0 alone; only the messages that pass get more blocks. */
static void open_group(struct aead_msg *const *g, unsigned k)
{
	struct chacha20_x8 st;
	uint8_t ks[LANES][64] __attribute__((aligned(32)));
	uint8_t tag[LANES][AEAD_TAG_SIZE];
	const uint8_t *keys[LANES];
	uint32_t nblocks = 0;

	x8_setup(&st, g, k);
	chacha20_x8_block(ks, &st, 0);
	for (unsigned l = 0; l < k; l++)
		keys[l] = ks[l];
	tags_group(tag, g, k, keys);
	for (unsigned l = 0; l < k; l++) {
		struct aead_msg *m = g[l];

		m->ok = crypto_verify_16(tag[l], m->data + m->len) == 0;
		if (m->ok && blocks_of(m->len) > nblocks)
			nblocks = blocks_of(m->len);
	}
	for (uint32_t b = 1; b < nblocks; b++)
		crypt_block(&st, g, k, b, true, ks);
	crypto_wipe(&st, sizeof(st));
	crypto_wipe(ks, sizeof(ks));
	crypto_wipe(tag, sizeof(tag));
}

/* Up to LANES messages from s[i] on, shortest first, none over twice the first's blocks. */
static unsigned group_at(struct aead_msg *const *s, unsigned i, unsigned ns, uint32_t *nblocks)
{
	uint32_t limit = 2 * blocks_of(s[i]->len);
	unsigned k = 0;

	while (k < LANES && i + k < ns && blocks_of(s[i + k]->len) <= limit)
		k++;
	*nblocks = blocks_of(s[i + k - 1]->len);
	return k;
}

/*
 * Short messages are sorted by block count and grouped with others of about their
 * length, so that a 64-byte message does not ride along for all the blocks of a
 * 1400-byte one; the order they are done in is invisible.
 */
static void run_vector(struct aead_msg *m, size_t n, bool open)
{
	for (size_t base = 0; base < n; base += PASS) {
		size_t cn = n - base < PASS ? n - base : PASS;
		struct aead_msg *s[PASS], *sorted[PASS];
		unsigned ns = 0, pos[MAX_BLOCKS + 1] = {0};

		for (size_t i = 0; i < cn; i++) {
			struct aead_msg *mm = &m[base + i];

			if (mm->len > VEC_MAX_LEN) {
				one(mm, open);
			} else {
				s[ns++] = mm;
				pos[blocks_of(mm->len)]++;
			}
		}
		for (unsigned b = 0, acc = 0; b <= MAX_BLOCKS; b++) {
			unsigned c = pos[b];

			pos[b] = acc;
			acc += c;
		}
		for (unsigned i = 0; i < ns; i++)
			sorted[pos[blocks_of(s[i]->len)]++] = s[i];

		for (unsigned i = 0, k; i < ns; i += k) {
			uint32_t nblocks;

			k = group_at(sorted, i, ns, &nblocks);
			if (k < min_lanes(nblocks)) {
				for (unsigned j = 0; j < k; j++)
					one(sorted[i + j], open);
			} else if (open) {
				open_group(sorted + i, k);
			} else {
				seal_group(sorted + i, k, nblocks);
			}
		}
	}
}

#else

bool aead_batch_vector_active(void)
{
	return false;
}

#endif

static void run(struct aead_msg *m, size_t n, bool open)
{
#if defined(__x86_64__)
	if (aead_batch_vector_active()) {
		run_vector(m, n, open);
		return;
	}
#endif
	for (size_t i = 0; i < n; i++)
		one(&m[i], open);
}

void aead_seal_batch(struct aead_msg *m, size_t n)
{
	run(m, n, false);
}

void aead_open_batch(struct aead_msg *m, size_t n)
{
	run(m, n, true);
}
