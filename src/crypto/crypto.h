/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_CRYPTO_H
#define VW_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

/* Call once before any other crypto function; false when libsodium cannot start. */
bool crypto_init(void);
/* Cryptographically random bytes. */
void crypto_random(void *buf, size_t len);
/* Wipes a secret so the compiler cannot elide it. */
void crypto_wipe(void *buf, size_t len);
/* Constant-time equality of two secrets of the same length. */
bool crypto_equal(const void *a, const void *b, size_t len);

#endif
