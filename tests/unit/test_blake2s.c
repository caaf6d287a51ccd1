/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/blake2s.h"
#include "vectors/crypto_vectors.h"

/* RFC 7693 Appendix B: BLAKE2s-256("abc"). */
static void test_rfc7693_appendix_b(void **state)
{
	static const uint8_t expected[32] = {
		0x50, 0x8C, 0x5E, 0x8C, 0x32, 0x7C, 0x14, 0xE2, 0xE1, 0xA7, 0x2B,
		0xA3, 0x4E, 0xEB, 0x45, 0x2F, 0x37, 0x45, 0x8B, 0x20, 0x9E, 0xD6,
		0x3A, 0x29, 0x4D, 0x99, 0x9B, 0x4C, 0x86, 0x67, 0x59, 0x82,
	};
	uint8_t out[32];

	(void)state;
	blake2s(out, 32, "abc", 3, NULL, 0);
	assert_memory_equal(out, expected, 32);
}

/* RFC 7693 Appendix E: the deterministic input generator of the self-test. */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xDEAD4BAD * seed, b = 1, t;

	for (size_t i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

/* RFC 7693 Appendix E: the hash of all keyed and unkeyed hashes over the parameter grid. */
static void test_rfc7693_appendix_e(void **state)
{
	static const uint8_t expected[32] = {
		0x6A, 0x41, 0x1F, 0x08, 0xCE, 0x25, 0xAD, 0xCD, 0xFB, 0x02, 0xAB,
		0xA6, 0x41, 0x45, 0x1C, 0xEC, 0x53, 0xC5, 0x98, 0xB2, 0x4F, 0x4F,
		0xC7, 0x87, 0xFB, 0xDC, 0x88, 0x79, 0x7F, 0x4C, 0x1D, 0xFE,
	};
	static const size_t md_len[4] = { 16, 20, 28, 32 };
	static const size_t in_len[6] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t in[1024], md[32], key[32];
	struct blake2s_state grand;

	(void)state;
	blake2s_init(&grand, 32);
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 6; j++) {
			selftest_seq(in, in_len[j], (uint32_t)in_len[j]);
			blake2s(md, md_len[i], in, in_len[j], NULL, 0);
			blake2s_update(&grand, md, md_len[i]);

			selftest_seq(key, md_len[i], (uint32_t)md_len[i]);
			blake2s(md, md_len[i], in, in_len[j], key, md_len[i]);
			blake2s_update(&grand, md, md_len[i]);
		}
	}
	blake2s_final(&grand, md);
	assert_memory_equal(md, expected, 32);
}

/* Keyed and unkeyed hashes against Python's hashlib.blake2s. */
static void test_against_hashlib(void **state)
{
	uint8_t out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(blake2s_vectors) / sizeof(blake2s_vectors[0]); i++) {
		const struct blake2s_vector *v = &blake2s_vectors[i];

		blake2s(out, v->outlen, v->in, v->inlen, v->key, v->keylen);
		assert_memory_equal(out, v->out, v->outlen);
	}
}

/* Feeding the input in pieces of every size gives the one-shot result. */
static void test_incremental(void **state)
{
	uint8_t in[300], one[32], inc[32];

	(void)state;
	selftest_seq(in, sizeof(in), 7);
	blake2s(one, 32, in, sizeof(in), "key", 3);
	for (size_t step = 1; step <= 129; step++) {
		struct blake2s_state s;

		blake2s_init_key(&s, 32, "key", 3);
		for (size_t off = 0; off < sizeof(in); off += step)
			blake2s_update(&s, in + off, off + step > sizeof(in) ? sizeof(in) - off : step);
		blake2s_final(&s, inc);
		assert_memory_equal(one, inc, 32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7693_appendix_b),
		cmocka_unit_test(test_rfc7693_appendix_e),
		cmocka_unit_test(test_against_hashlib),
		cmocka_unit_test(test_incremental),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
