/* SPDX-License-Identifier: MIT */
#include "csum.h"

#include <stdbool.h>
#include <string.h>

#include "byteorder.h"

/*
 * RFC 1071's sum does not depend on byte order: summing the buffer's 16-bit words in the
 * machine's order and swapping the folded result gives the big-endian sum. So the bulk is
 * summed as native 32-bit words, each split into its two 16-bit halves added to 32-bit
 * lanes of a vector; a lane gains at most 0xffff per vector, so a block of up to 65535
 * vectors cannot overflow it. The copying variant stores each vector as it sums it, so a
 * segment's payload is read once for both its copy and its checksum.
 */
#define CSUM_BLOCK_MAX 65535u

#define DEFINE_SUM_BLOCK(name, width, attr)                                      \
	typedef uint32_t name##_vec __attribute__((vector_size(width)));         \
	attr static uint64_t name(uint8_t *dst, const uint8_t *src, size_t nvec) \
	{                                                                        \
		name##_vec lo = {0}, hi = {0}, v;                                \
		uint64_t s = 0;                                                  \
                                                                                 \
		for (size_t i = 0; i < nvec; i++) {                              \
			memcpy(&v, src + i * width, width);                      \
			if (dst)                                                 \
				memcpy(dst + i * width, &v, width);              \
			lo += v & 0xffff;                                        \
			hi += v >> 16;                                           \
		}                                                                \
		for (size_t k = 0; k < width / 4; k++)                           \
			s += (uint64_t)lo[k] + hi[k];                            \
		return s;                                                        \
	}

DEFINE_SUM_BLOCK(sum_block_16, 16, )

#if defined(__x86_64__)
DEFINE_SUM_BLOCK(sum_block_avx2, 32, __attribute__((target("avx2"))))

static bool have_avx2;

__attribute__((constructor)) static void csum_detect(void)
{
	__builtin_cpu_init();
	have_avx2 = __builtin_cpu_supports("avx2");
}
#endif

static bool force_portable;

void csum_force_portable(bool on)
{
	force_portable = on;
}

/* The native-order sum of len bytes (copied to dst unless it is NULL), folded to 16 bits. */
static uint32_t sum_native(uint8_t *dst, const uint8_t *src, size_t len, size_t *done)
{
	size_t width = 16, nvec;
	uint64_t acc = 0;
	uint64_t (*block)(uint8_t *, const uint8_t *, size_t) = sum_block_16;

#if defined(__x86_64__)
	if (have_avx2 && !force_portable) {
		width = 32;
		block = sum_block_avx2;
	}
#endif
	*done = 0;
	while ((nvec = (len - *done) / width) > 0) {
		if (nvec > CSUM_BLOCK_MAX)
			nvec = CSUM_BLOCK_MAX;
		acc += block(dst ? dst + *done : NULL, src + *done, nvec);
		*done += nvec * width;
	}
	for (; len - *done >= 2; *done += 2) {
		uint16_t w;

		memcpy(&w, src + *done, 2);
		if (dst)
			memcpy(dst + *done, &w, 2);
		acc += w;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	acc = ((acc & 0xff) << 8) | (acc >> 8);
#endif
	return (uint32_t)acc;
}

/*
 * Headers (an IPv4 header, a pseudo-header's addresses) are shorter than the vectors pay
 * for: big-endian 32-bit words into a 64-bit accumulator that defers the end-around carry
 * (get_be32 is byte-wise, so unaligned buffers are fine on armel).
 */
#define CSUM_SMALL 64

static uint64_t sum_small(const uint8_t *b, size_t len)
{
	uint64_t acc = 0;

	for (; len >= 4; b += 4, len -= 4)
		acc += get_be32(b);
	if (len >= 2)
		acc += (uint32_t)(b[0] << 8 | b[1]);
	if (len & 1)
		acc += (uint32_t)b[len - 1] << 8;
	return acc;
}

static uint32_t csum_common(uint8_t *dst, const uint8_t *src, size_t len, uint32_t sum)
{
	uint64_t acc = sum;
	size_t done;

	if (len < CSUM_SMALL) {
		if (dst)
			memcpy(dst, src, len);
		acc += sum_small(src, len);
	} else {
		acc += sum_native(dst, src, len, &done);
		if (done < len) {
			/* An odd trailing byte is the high byte of a zero-padded word. */
			acc += (uint32_t)src[done] << 8;
			if (dst)
				dst[done] = src[done];
		}
	}
	/* Folded to 16 bits (not complemented), so callers can add a few small terms safely. */
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	return csum_common(NULL, buf, len, sum);
}

uint32_t csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
	return csum_common(dst, src, len, sum);
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
