/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_TAI64N_H
#define VW_CRYPTO_TAI64N_H

#include <stdbool.h>
#include <stdint.h>

#define TAI64N_SIZE 12

/*
 * TAI64N label of a wall-clock time in nanoseconds since the Unix epoch: 8 bytes
 * of 2^62 + seconds, then 4 bytes of nanoseconds, big-endian. Nanoseconds are
 * rounded down to a multiple of 2^24 (about 16 ms) so the timestamp in an
 * initiation does not leak a fine-grained clock, as the kernel does.
 */
void tai64n_encode(uint8_t out[TAI64N_SIZE], uint64_t unix_ns);
/* True when a is strictly later than b (the initiation replay rule). */
bool tai64n_after(const uint8_t a[TAI64N_SIZE], const uint8_t b[TAI64N_SIZE]);

#endif
