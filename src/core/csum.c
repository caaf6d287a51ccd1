/* SPDX-License-Identifier: MIT */
#include "csum.h"

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *b = buf;
	uint64_t acc = sum;

	/* Byte pairs in network order; a wide accumulator defers the end-around carry. */
	while (len >= 2) {
		acc += (uint32_t)(b[0] << 8 | b[1]);
		b += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)b[0] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
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
