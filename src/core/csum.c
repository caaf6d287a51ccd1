/* SPDX-License-Identifier: MIT */
#include "csum.h"

#include "byteorder.h"

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *b = buf;
	uint64_t acc = sum;

	/*
	 * Big-endian 32-bit words (get_be32 is byte-wise, so unaligned buffers are fine
	 * on armel) into a 64-bit accumulator that defers the end-around carry; the
	 * one's complement sum of 32-bit words folds to the same 16-bit sum.
	 */
	while (len >= 16) {
		acc += get_be32(b);
		acc += get_be32(b + 4);
		acc += get_be32(b + 8);
		acc += get_be32(b + 12);
		b += 16;
		len -= 16;
	}
	while (len >= 4) {
		acc += get_be32(b);
		b += 4;
		len -= 4;
	}
	while (len >= 2) {
		acc += (uint32_t)(b[0] << 8 | b[1]);
		b += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)b[0] << 8;
	/* Folded to 16 bits (not complemented), so callers can add a few small terms safely. */
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t csum_ipv4_pseudo(const uint8_t saddr[4], const uint8_t daddr[4], uint8_t proto,
			  uint16_t len)
{
	uint32_t sum = csum_partial(saddr, 4, 0);

	sum = csum_partial(daddr, 4, sum);
	return sum + proto + len;
}

uint32_t csum_ipv6_pseudo(const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
			  uint32_t len)
{
	uint64_t sum = csum_partial(saddr, 16, 0);

	sum += csum_partial(daddr, 16, 0);
	sum += (len >> 16) + (len & 0xffff) + proto;
	while (sum >> 32)
		sum = (sum & 0xffffffff) + (sum >> 32);
	return (uint32_t)sum;
}
