/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/keys.h"
#include "vectors/crypto_vectors.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Against Python's base64 module. */
static void test_base64_known_answers(void **state)
{
	char b64[WG_KEY_LEN_BASE64 + 1];
	uint8_t key[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(key_b64_vectors); i++) {
		key_to_base64(b64, key_b64_vectors[i].key);
		assert_string_equal(b64, key_b64_vectors[i].b64);
		assert_true(key_from_base64(key, key_b64_vectors[i].b64));
		assert_memory_equal(key, key_b64_vectors[i].key, 32);
	}
}

/* Everything `wg` refuses: wrong length, missing '=', bad characters, non-canonical tails. */
static void test_base64_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"AAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",	  /* 43, no '=' */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",	  /* 44, no '=' */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", /* 45 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",	  /* 43 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",	  /* low bits set */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC=",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/=",
		"AAAAAAAAAAAAAAAAAAAAAAAA*AAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAAAAA=AAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAAAAA-AAAAAAAAAAAAAAAAAA=", /* URL-safe alphabet is not wg's */
		"\xc3\xa9\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41"
		"\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41\x41"
		"\x41=",
	};
	uint8_t key[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		memset(key, 0x5a, sizeof(key));
		assert_false(key_from_base64(key, bad[i]));
		/* A refused key leaves the output untouched. */
		for (int j = 0; j < 32; j++)
			assert_int_equal(key[j], 0x5a);
	}
	assert_true(key_from_base64(key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE="));
	assert_int_equal(key[31], 1);
}

static void test_hex(void **state)
{
	char hex[WG_KEY_LEN_HEX + 1];
	uint8_t key[32], back[32];

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 37 + 11);
	key_to_hex(hex, key);
	assert_int_equal(strlen(hex), 64);
	assert_memory_equal(hex, "0b305", 5);
	assert_true(key_from_hex(back, hex));
	assert_memory_equal(back, key, 32);
	for (int i = 0; i < 64; i++)
		hex[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
	assert_true(key_from_hex(back, hex));
	assert_memory_equal(back, key, 32);
	hex[10] = 'g';
	assert_false(key_from_hex(back, hex));
	hex[10] = '0';
	hex[63] = '\0';
	assert_false(key_from_hex(back, hex));
	assert_false(key_from_hex(back, "0b"));
}

static void test_is_zero(void **state)
{
	uint8_t key[32] = { 0 };

	(void)state;
	assert_true(key_is_zero(key));
	key[31] = 1;
	assert_false(key_is_zero(key));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_known_answers),
		cmocka_unit_test(test_base64_rejects),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_is_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
