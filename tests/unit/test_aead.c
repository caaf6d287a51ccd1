/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aead_known_answers),
		cmocka_unit_test(test_aead_rejects_tampering),
		cmocka_unit_test(test_xaead_known_answers),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
