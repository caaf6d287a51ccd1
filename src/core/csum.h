/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_CSUM_H
#define VW_CORE_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Internet checksum (RFC 1071), accumulated in 32 bits and folded at the end. */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
/* csum_partial of src that also copies it to dst (the two must not overlap). */
uint32_t csum_copy(void *dst, const void *src, size_t len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);
/* Tests: sum with the portable vectors even where AVX2 is there. */
void csum_force_portable(bool on);

/* Checksum of an IPv4 header of hlen bytes (its checksum field included as it is). */
static inline uint16_t csum_ipv4_header(const void *hdr, size_t hlen)
{
	return csum_fold(csum_partial(hdr, hlen, 0));
}

/* Pseudo-header sum for UDP/TCP over IPv4: addresses as 4 wire-order bytes each. */
uint32_t csum_ipv4_pseudo(const uint8_t saddr[4], const uint8_t daddr[4], uint8_t proto,
			  uint16_t len);
uint32_t csum_ipv6_pseudo(const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
			  uint32_t len);

#endif
