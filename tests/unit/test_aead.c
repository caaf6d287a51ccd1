/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/aead_batch_internal.h"
#include "crypto/crypto.h"
#include "crypto/poly1305_x4.h"
#include "vectors/crypto_vectors.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int setup(void **state)
{
	(void)state;
	return crypto_init() ? 0 : -1;
}

/* Against OpenSSL's ChaCha20-Poly1305 with the nonce built as WireGuard lays it out. */
static void test_aead_known_answers(void **state)
{
	static uint8_t buf[1436];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(aead_vectors); i++) {
		const struct aead_vector *v = &aead_vectors[i];

		aead_encrypt(buf, v->pt, v->len, v->ad, v->adlen, v->counter, v->key);
		assert_memory_equal(buf, v->ct, v->len + AEAD_TAG_SIZE);

		/* In place, both ways. */
		memcpy(buf, v->pt, v->len);
		aead_encrypt(buf, buf, v->len, v->ad, v->adlen, v->counter, v->key);
		assert_memory_equal(buf, v->ct, v->len + AEAD_TAG_SIZE);
		assert_true(aead_decrypt(buf, buf, v->len + AEAD_TAG_SIZE, v->ad, v->adlen,
					 v->counter, v->key));
		assert_memory_equal(buf, v->pt, v->len);
	}
}

/* Any flipped bit, a wrong counter, key or AD, or a short input fails to open. */
static void test_aead_rejects_tampering(void **state)
{
	const struct aead_vector *v = &aead_vectors[2];
	size_t n = v->len + AEAD_TAG_SIZE;
	uint8_t buf[64], key[32];

	(void)state;
	for (size_t bit = 0; bit < n * 8; bit += 5) {
		memcpy(buf, v->ct, n);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(aead_decrypt(buf, buf, n, v->ad, v->adlen, v->counter, v->key));
	}
	memcpy(buf, v->ct, n);
	assert_false(aead_decrypt(buf, buf, n, v->ad, v->adlen, v->counter + 1, v->key));
	memcpy(key, v->key, 32);
	key[0] ^= 1;
	assert_false(aead_decrypt(buf, v->ct, n, v->ad, v->adlen, v->counter, key));
	assert_false(aead_decrypt(buf, v->ct, n, (const uint8_t *)"x", 1, v->counter, v->key));
	assert_false(aead_decrypt(buf, v->ct, AEAD_TAG_SIZE - 1, NULL, 0, v->counter, v->key));
}

/* XChaCha20-Poly1305 against HChaCha20 (Python) + OpenSSL's ChaCha20-Poly1305. */
static void test_xaead_known_answers(void **state)
{
	uint8_t buf[80];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(xaead_vectors); i++) {
		const struct xaead_vector *v = &xaead_vectors[i];

		xaead_encrypt(buf, v->pt, v->len, v->ad, v->adlen, v->nonce, v->key);
		assert_memory_equal(buf, v->ct, v->len + AEAD_TAG_SIZE);
		assert_true(xaead_decrypt(buf, v->ct, v->len + AEAD_TAG_SIZE, v->ad, v->adlen,
					  v->nonce, v->key));
		assert_memory_equal(buf, v->pt, v->len);
		memcpy(buf, v->ct, v->len + AEAD_TAG_SIZE);
		buf[0] ^= 0x80;
		assert_false(xaead_decrypt(buf, buf, v->len + AEAD_TAG_SIZE, v->ad, v->adlen,
					   v->nonce, v->key));
	}
}

/*
 * Batches. Every check runs on the per-message path and on the 8-lane AVX2 path; the
 * latter only where the CPU has it (a note, not a skip: the portable half still ran).
 * Inputs come from a seeded PRNG so that a failure reproduces.
 */
#define BATCH_MAX 40
#define SLOT	  (1600 + AEAD_TAG_SIZE)
#define HUGE_LEN  65535

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

/* 0: a batch of all lengths; else lengths near one (so that they share groups). */
static uint32_t rng_center;

static uint32_t rng_len(void)
{
	uint32_t r = (uint32_t)(rng() % 100);

	if (rng_center)
		return rng_center - 1 + (uint32_t)(rng() % 48); /* over 1536 too */
	if (r < 8)
		return 1380 + (uint32_t)(rng() % 61);
	if (r < 30)
		return 16 * (uint32_t)(rng() % 38); /* WireGuard pads to 16 */
	return (uint32_t)(rng() % 601);
}

static uint64_t rng_counter(void)
{
	switch (rng() % 4) {
	case 0:
		return rng() % 1000;
	case 1:
		return 0xfffffff0ULL + rng() % 32; /* across the low word's carry */
	case 2:
		return (rng() % 1000) << 32 | (rng() & 0xffffffffULL);
	default:
		return rng();
	}
}

/* Selects a path; false (with a note) when the vector one cannot run here. */
static bool use_path(bool vector)
{
	aead_batch_force_portable(!vector);
	if (vector && !aead_batch_vector_active()) {
		printf("note: no AVX2 here, only the portable batch path was checked\n");
		return false;
	}
	return true;
}

struct batch {
	size_t n;
	uint8_t keys[4][AEAD_KEY_SIZE];
	uint32_t len[BATCH_MAX];
	uint64_t counter[BATCH_MAX];
	const uint8_t *key[BATCH_MAX];
	uint8_t pt[BATCH_MAX][SLOT], ct[BATCH_MAX][SLOT], buf[BATCH_MAX][SLOT];
	struct aead_msg m[BATCH_MAX];
};

static struct batch bt;

static void batch_random(struct batch *b)
{
	size_t nkeys = 1 + rng() % 4;

	b->n = 1 + rng() % BATCH_MAX;
	rng_center = rng() % 3 ? 0 : 1 + (uint32_t)(rng() % 1540);
	rng_fill(&b->keys[0][0], sizeof(b->keys));
	for (size_t i = 0; i < b->n; i++) {
		b->len[i] = rng_len();
		b->counter[i] = rng_counter();
		b->key[i] = b->keys[rng() % nkeys];
		rng_fill(b->pt[i], b->len[i]);
		aead_encrypt(b->ct[i], b->pt[i], b->len[i], NULL, 0, b->counter[i], b->key[i]);
	}
}

/* buf[i] = from[i], and the messages pointing at it. */
static void batch_load(struct batch *b, uint8_t from[][SLOT], size_t extra)
{
	for (size_t i = 0; i < b->n; i++) {
		memcpy(b->buf[i], from[i], b->len[i] + extra);
		b->m[i] = (struct aead_msg){.data = b->buf[i],
					    .len = b->len[i],
					    .counter = b->counter[i],
					    .key = b->key[i],
					    .ok = !extra};
	}
}

static void check_batches(bool vector)
{
	if (!use_path(vector))
		return;
	rng_state = 0x5eed0001;
	for (int iter = 0; iter < 600; iter++) {
		batch_random(&bt);
		batch_load(&bt, bt.pt, 0);
		aead_seal_batch(bt.m, bt.n);
		for (size_t i = 0; i < bt.n; i++)
			assert_memory_equal(bt.buf[i], bt.ct[i], bt.len[i] + AEAD_TAG_SIZE);

		batch_load(&bt, bt.ct, AEAD_TAG_SIZE);
		aead_open_batch(bt.m, bt.n);
		for (size_t i = 0; i < bt.n; i++) {
			assert_true(bt.m[i].ok);
			assert_memory_equal(bt.buf[i], bt.pt[i], bt.len[i]);
		}
	}
	aead_batch_force_portable(false);
}

/* Random batches seal as aead_encrypt does message by message, and open back. */
static void test_aead_batch_matches_single(void **state)
{
	(void)state;
	check_batches(false);
	check_batches(true);
}

/* Lengths far past the vector threshold, next to short ones, in one batch. */
static void check_huge(bool vector)
{
	static uint8_t pt[HUGE_LEN], ct[HUGE_LEN + AEAD_TAG_SIZE], buf[HUGE_LEN + AEAD_TAG_SIZE];
	static uint8_t small[9][96 + AEAD_TAG_SIZE], small_pt[9][96],
		small_ct[9][96 + AEAD_TAG_SIZE];
	uint8_t key[AEAD_KEY_SIZE];
	struct aead_msg m[10];

	if (!use_path(vector))
		return;
	rng_state = 0x5eed0002;
	rng_fill(key, sizeof(key));
	rng_fill(pt, sizeof(pt));
	aead_encrypt(ct, pt, HUGE_LEN, NULL, 0, 3, key);
	memcpy(buf, pt, HUGE_LEN);
	m[0] = (struct aead_msg){.data = buf, .len = HUGE_LEN, .counter = 3, .key = key};
	for (int i = 0; i < 9; i++) {
		rng_fill(small_pt[i], 96);
		memcpy(small[i], small_pt[i], 96);
		aead_encrypt(small_ct[i], small_pt[i], 96, NULL, 0, (uint64_t)i << 40, key);
		m[i + 1] = (struct aead_msg){
			.data = small[i], .len = 96, .counter = (uint64_t)i << 40, .key = key};
	}
	aead_seal_batch(m, 10);
	assert_memory_equal(buf, ct, sizeof(ct));
	for (int i = 0; i < 9; i++)
		assert_memory_equal(small[i], small_ct[i], sizeof(small_ct[i]));
	aead_open_batch(m, 10);
	assert_true(m[0].ok);
	assert_memory_equal(buf, pt, HUGE_LEN);
	for (int i = 0; i < 9; i++) {
		assert_true(m[i + 1].ok);
		assert_memory_equal(small[i], small_pt[i], 96);
	}
	aead_batch_force_portable(false);
}

static void test_aead_batch_long(void **state)
{
	(void)state;
	check_huge(false);
	check_huge(true);
}

/*
 * Opens bt.ct with message v tampered by tamper(); v alone must fail and keep its
 * bytes, the others must open.
 */
static void open_tampered(size_t v, size_t bit, int how)
{
	static uint8_t bad[SLOT];

	batch_load(&bt, bt.ct, AEAD_TAG_SIZE);
	if (how == 0)
		bt.buf[v][bit / 8] ^= (uint8_t)(1u << (bit % 8));
	else if (how == 1)
		bt.m[v].counter ^= (uint64_t)1 << (rng() % 64);
	else
		bt.m[v].key = bt.key[v] == bt.keys[0] ? bt.keys[1] : bt.keys[0];
	memcpy(bad, bt.buf[v], bt.len[v] + AEAD_TAG_SIZE);
	aead_open_batch(bt.m, bt.n);
	for (size_t i = 0; i < bt.n; i++) {
		if (i == v) {
			assert_false(bt.m[i].ok);
			assert_memory_equal(bt.buf[i], bad, bt.len[i] + AEAD_TAG_SIZE);
		} else {
			assert_true(bt.m[i].ok);
			assert_memory_equal(bt.buf[i], bt.pt[i], bt.len[i]);
		}
	}
}

static void check_tampering(bool vector)
{
	if (!use_path(vector))
		return;
	rng_state = 0x5eed0003;
	/* Every bit of a few messages short enough for the vector path, among others. */
	bt.n = 12;
	rng_fill(&bt.keys[0][0], sizeof(bt.keys));
	for (size_t i = 0; i < bt.n; i++) {
		static const uint32_t lens[] = {0, 1, 33, 96, 64, 15, 128, 600, 1420, 47, 80, 0};

		bt.len[i] = lens[i];
		bt.counter[i] = rng_counter();
		bt.key[i] = bt.keys[i % 3];
		rng_fill(bt.pt[i], bt.len[i]);
		aead_encrypt(bt.ct[i], bt.pt[i], bt.len[i], NULL, 0, bt.counter[i], bt.key[i]);
	}
	for (size_t v = 0; v < 4; v++)
		for (size_t bit = 0; bit < (bt.len[v] + AEAD_TAG_SIZE) * 8; bit++)
			open_tampered(v, bit, 0);
	for (size_t v = 0; v < bt.n; v++) {
		open_tampered(v, 0, 1);
		open_tampered(v, 0, 2);
		/* The last tag byte, and a bit of the last data byte when there is one. */
		open_tampered(v, (bt.len[v] + AEAD_TAG_SIZE) * 8 - 1, 0);
		if (bt.len[v])
			open_tampered(v, bt.len[v] * 8 - 3, 0);
	}
	/* Random batches, one random bit. */
	for (int iter = 0; iter < 200; iter++) {
		size_t v;

		batch_random(&bt);
		v = rng() % bt.n;
		open_tampered(v, rng() % ((bt.len[v] + AEAD_TAG_SIZE) * 8), 0);
	}
	aead_batch_force_portable(false);
}

/* A flipped bit, a wrong counter or key fails that message only and leaves it alone. */
static void test_aead_batch_rejects_tampering(void **state)
{
	(void)state;
	check_tampering(false);
	check_tampering(true);
}

static void check_batch_known_answers(bool vector)
{
	size_t idx[3 * ARRAY_LEN(aead_vectors)];

	if (!use_path(vector))
		return;
	/* The AD-less vectors, each three times, interleaved so groups mix them. */
	bt.n = 0;
	for (int rep = 0; rep < 3; rep++) {
		for (size_t i = 0; i < ARRAY_LEN(aead_vectors); i++) {
			const struct aead_vector *v = &aead_vectors[i];

			if (v->adlen)
				continue;
			idx[bt.n] = i;
			bt.len[bt.n] = (uint32_t)v->len;
			bt.counter[bt.n] = v->counter;
			bt.key[bt.n] = v->key;
			memcpy(bt.pt[bt.n], v->pt, v->len);
			bt.n++;
		}
	}
	assert_true(bt.n >= 6);
	batch_load(&bt, bt.pt, 0);
	aead_seal_batch(bt.m, bt.n);
	for (size_t i = 0; i < bt.n; i++)
		assert_memory_equal(bt.buf[i], aead_vectors[idx[i]].ct, bt.len[i] + AEAD_TAG_SIZE);
	aead_open_batch(bt.m, bt.n);
	for (size_t i = 0; i < bt.n; i++) {
		assert_true(bt.m[i].ok);
		assert_memory_equal(bt.buf[i], aead_vectors[idx[i]].pt, bt.len[i]);
	}
	/* Only empty messages (keepalives): a group of block 0 alone. */
	for (size_t i = 0; i < 8; i++) {
		bt.m[i] = (struct aead_msg){.data = bt.buf[i],
					    .len = 0,
					    .counter = aead_vectors[0].counter,
					    .key = aead_vectors[0].key};
		assert_int_equal(aead_vectors[0].len, 0);
	}
	aead_seal_batch(bt.m, 8);
	for (size_t i = 0; i < 8; i++)
		assert_memory_equal(bt.buf[i], aead_vectors[0].ct, AEAD_TAG_SIZE);
	bt.buf[5][3] ^= 1;
	aead_open_batch(bt.m, 8);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(bt.m[i].ok, i != 5);
	/* Alone too: a batch of one. */
	batch_load(&bt, bt.pt, 0);
	for (size_t i = 0; i < bt.n; i++) {
		aead_seal_batch(&bt.m[i], 1);
		assert_memory_equal(bt.buf[i], aead_vectors[idx[i]].ct, bt.len[i] + AEAD_TAG_SIZE);
		aead_open_batch(&bt.m[i], 1);
		assert_true(bt.m[i].ok);
	}
	aead_batch_force_portable(false);
}

static void test_aead_batch_known_answers(void **state)
{
	(void)state;
	check_batch_known_answers(false);
	check_batch_known_answers(true);
}

#if defined(__x86_64__)
/* What the four lanes must give: libsodium's Poly1305 over the RFC 8439 AD-less layout. */
static void poly_reference(uint8_t tag[16], const uint8_t *ct, uint32_t len, const uint8_t otk[32])
{
	static uint8_t buf[2048];
	size_t n = (len + 15) / 16 * 16;

	memset(buf, 0, n + 16);
	memcpy(buf, ct, len);
	for (unsigned i = 0; i < 8; i++)
		buf[n + 8 + i] = (uint8_t)((uint64_t)len >> (8 * i));
	crypto_onetimeauth_poly1305(tag, buf, n + 16, otk);
}

static void check_x4(uint8_t ct[4][1700], const uint32_t len[4], uint8_t otk[4][32])
{
	uint8_t tag[4][16], want[16];
	const uint8_t *c[4] = {ct[0], ct[1], ct[2], ct[3]},
		      *k[4] = {otk[0], otk[1], otk[2], otk[3]};
	uint8_t *t[4] = {tag[0], tag[1], tag[2], tag[3]};

	poly1305_x4_aead_tags(t, c, len, k);
	for (unsigned l = 0; l < 4; l++) {
		poly_reference(want, ct[l], len[l], otk[l]);
		assert_memory_equal(tag[l], want, 16);
	}
}

/*
 * Random keys and lengths (lanes that run out at different blocks, partial last blocks,
 * empty messages), and sums that land just below, on and just past p = 2^130 - 5, where
 * the final reduction has to choose: with r = 1 the accumulator is the plain sum of the
 * blocks, and two 16-byte ciphertext blocks c1 + c2 = 2^128 - 32 * 2^64 - 5 + t make it
 * p + t (each block adds 2^128, the lengths block 32 * 2^64 + 2^128).
 */
static void test_poly1305_x4_matches_libsodium(void **state)
{
	static uint8_t ct[4][1700];
	uint8_t otk[4][32];
	uint32_t len[4];

	(void)state;
	if (!__builtin_cpu_supports("avx2")) {
		printf("note: no AVX2 here, the four-lane Poly1305 was not checked\n");
		return;
	}
	rng_state = 7;
	for (unsigned it = 0; it < 3000; it++) {
		for (unsigned l = 0; l < 4; l++) {
			len[l] = it % 3 ? (uint32_t)(rng() % 1700) : 1400 + (uint32_t)(rng() % 40);
			rng_fill(ct[l], len[l]);
			rng_fill(otk[l], 32);
		}
		check_x4(ct, len, otk);
	}
	for (int t = -3; t <= 6; t++) {
		for (unsigned l = 0; l < 4; l++) {
			/* c1 = 2^127, c2 = 2^127 - 32 * 2^64 - 5 + t (little-endian). */
			uint64_t c2lo = (uint64_t)(-5 + t), c2hi = (1ull << 63) - 32 - (t < 5);

			memset(ct[l], 0, 32);
			ct[l][15] = 0x80;
			for (unsigned i = 0; i < 8; i++) {
				ct[l][16 + i] = (uint8_t)(c2lo >> (8 * i));
				ct[l][24 + i] = (uint8_t)(c2hi >> (8 * i));
			}
			memset(otk[l], 0, 16);
			otk[l][0] = 1;
			rng_fill(otk[l] + 16, 16);
			len[l] = 32;
		}
		check_x4(ct, len, otk);
	}
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aead_known_answers),
		cmocka_unit_test(test_aead_rejects_tampering),
		cmocka_unit_test(test_xaead_known_answers),
		cmocka_unit_test(test_aead_batch_matches_single),
		cmocka_unit_test(test_aead_batch_long),
		cmocka_unit_test(test_aead_batch_rejects_tampering),
		cmocka_unit_test(test_aead_batch_known_answers),
#if defined(__x86_64__)
		cmocka_unit_test(test_poly1305_x4_matches_libsodium),
#endif
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
