/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "vectors/crypto_vectors.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int setup(void **state)
{
	(void)state;
	return crypto_init() ? 0 : -1;
}

/* Public keys and shared secrets against OpenSSL's X25519. */
static void test_known_answers(void **state)
{
	uint8_t pub[32], s1[32], s2[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(x25519_vectors); i++) {
		const struct x25519_vector *v = &x25519_vectors[i];

		x25519_public(pub, v->priv_a);
		assert_memory_equal(pub, v->pub_a, 32);
		x25519_public(pub, v->priv_b);
		assert_memory_equal(pub, v->pub_b, 32);
		assert_true(x25519(s1, v->priv_a, v->pub_b));
		assert_true(x25519(s2, v->priv_b, v->pub_a));
		assert_memory_equal(s1, v->shared, 32);
		assert_memory_equal(s2, v->shared, 32);
	}
}

/* Low-order points give an all-zero secret: refused, and nothing secret is left in out. */
static void test_rejects_low_order_points(void **state)
{
	static const uint8_t low_order[][32] = {
		{ 0 },							/* 0 */
		{ 1 },							/* 1 */
		{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, /* p - 1 */
	};
	uint8_t priv[32], out[32];

	(void)state;
	x25519_generate(priv);
	for (size_t i = 0; i < ARRAY_LEN(low_order); i++) {
		memset(out, 0xaa, sizeof(out));
		assert_false(x25519(out, priv, low_order[i]));
		assert_true(key_is_zero(out));
	}
}

static void test_generate_is_clamped_and_random(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	x25519_generate(a);
	x25519_generate(b);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(a[0] & 7, 0);
	assert_int_equal(a[31] & 0x80, 0);
	assert_int_equal(a[31] & 0x40, 0x40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_rejects_low_order_points),
		cmocka_unit_test(test_generate_is_clamped_and_random),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
