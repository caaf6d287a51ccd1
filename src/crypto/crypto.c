/* SPDX-License-Identifier: MIT */
#include "crypto.h"

#include <sodium.h>

bool crypto_init(void)
{
	return sodium_init() >= 0;
}

void crypto_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

void crypto_wipe(void *buf, size_t len)
{
	sodium_memzero(buf, len);
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}
