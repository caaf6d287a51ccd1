/* SPDX-License-Identifier: MIT */
#include "tai64n.h"

#include <string.h>

#include "core/byteorder.h"

/* 2^62: TAI64 labels of times after 1970 (leap seconds ignored, as WireGuard does). */
#define TAI64_EPOCH 0x4000000000000000ULL
#define TAI64N_ROUND_MASK ((1u << 24) - 1)

void tai64n_encode(uint8_t out[TAI64N_SIZE], uint64_t unix_ns)
{
	uint64_t sec = unix_ns / 1000000000ULL;
	uint32_t nsec = (uint32_t)(unix_ns % 1000000000ULL);

	put_be64(out, TAI64_EPOCH + sec);
	put_be32(out + 8, nsec & ~TAI64N_ROUND_MASK);
}

bool tai64n_after(const uint8_t a[TAI64N_SIZE], const uint8_t b[TAI64N_SIZE])
{
	/* Big-endian, so byte order is numeric order. */
	return memcmp(a, b, TAI64N_SIZE) > 0;
}
