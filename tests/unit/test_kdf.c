/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/kdf.h"
#include "vectors/crypto_vectors.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void test_hmac_against_python(void **state)
{
	uint8_t out[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(hmac_vectors); i++) {
		const struct hmac_vector *v = &hmac_vectors[i];

		hmac_blake2s(out, v->key, v->keylen, v->in, v->inlen);
		assert_memory_equal(out, v->out, 32);
	}
}

static void test_kdf_against_python(void **state)
{
	uint8_t t1[32], t2[32], t3[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(kdf_vectors); i++) {
		const struct kdf_vector *v = &kdf_vectors[i];

		wg_kdf(t1, t2, t3, v->key, v->in, v->inlen);
		assert_memory_equal(t1, v->t1, 32);
		assert_memory_equal(t2, v->t2, 32);
		assert_memory_equal(t3, v->t3, 32);

		/* KDF1 and KDF2 are prefixes of KDF3. */
		memset(t1, 0, 32);
		memset(t2, 0, 32);
		wg_kdf(t1, t2, NULL, v->key, v->in, v->inlen);
		assert_memory_equal(t1, v->t1, 32);
		assert_memory_equal(t2, v->t2, 32);
		wg_kdf(t1, NULL, NULL, v->key, v->in, v->inlen);
		assert_memory_equal(t1, v->t1, 32);
	}
}

/* The handshake updates the chaining key in place: out aliasing key must work. */
static void test_kdf_in_place(void **state)
{
	const struct kdf_vector *v = &kdf_vectors[2];
	uint8_t ck[32], t2[32];

	(void)state;
	memcpy(ck, v->key, 32);
	wg_kdf(ck, t2, NULL, ck, v->in, v->inlen);
	assert_memory_equal(ck, v->t1, 32);
	assert_memory_equal(t2, v->t2, 32);
}

/* MAC is keyed BLAKE2s-128; HASH is BLAKE2s-256: checked against the hashlib vectors. */
static void test_mac_and_hash(void **state)
{
	uint8_t out[32];
	int checked_mac = 0, checked_hash = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(blake2s_vectors); i++) {
		const struct blake2s_vector *v = &blake2s_vectors[i];

		if (v->outlen == 16 && v->keylen) {
			wg_mac(out, v->key, v->keylen, v->in, v->inlen);
			assert_memory_equal(out, v->out, 16);
			checked_mac++;
		}
		if (v->outlen == 32 && !v->keylen) {
			wg_hash(out, v->in, v->inlen);
			assert_memory_equal(out, v->out, 32);
			checked_hash++;
		}
	}
	assert_true(checked_mac > 5);
	assert_true(checked_hash > 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_against_python),
		cmocka_unit_test(test_kdf_against_python),
		cmocka_unit_test(test_kdf_in_place),
		cmocka_unit_test(test_mac_and_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
