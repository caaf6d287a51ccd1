/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/byteorder.h"
#include "core/csum.h"

/* A captured IPv4 header whose checksum field (0xb861) is known to be right. */
static const uint8_t ip_hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				   0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

static void test_ipv4_header(void **state)
{
	uint8_t h[20];

	(void)state;
	/* A correct header sums to zero; with the field cleared it yields the field. */
	assert_int_equal(csum_ipv4_header(ip_hdr, 20), 0);
	memcpy(h, ip_hdr, 20);
	put_be16(h + 10, 0);
	assert_int_equal(csum_ipv4_header(h, 20), 0xb861);
}

/* The sum does not depend on how the buffer is split, at even offsets (RFC 1071). */
static void test_partial_and_odd(void **state)
{
	uint8_t buf[101];
	uint32_t whole, split;

	(void)state;
	for (int i = 0; i < 101; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = csum_partial(buf, sizeof(buf), 0);
	split = csum_partial(buf + 40, 61, csum_partial(buf, 40, 0));
	assert_int_equal(csum_fold(whole), csum_fold(split));
	/* An odd trailing byte counts as the high byte of a zero-padded word. */
	assert_int_equal(csum_fold(csum_partial("\x01", 1, 0)), (uint16_t)~0x0100);
}

/* UDP over IPv4: pseudo-header + header + data sums to zero when the checksum is right. */
static void test_udp_pseudo(void **state)
{
	static const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
	uint8_t udp[12] = {0x30, 0x39, 0x12, 0xb5, 0x00, 0x0c, 0, 0, 'p', 'i', 'n', 'g'};
	uint32_t sum;
	uint16_t c;

	(void)state;
	sum = csum_partial(udp, sizeof(udp), csum_ipv4_pseudo(src, dst, 17, sizeof(udp)));
	c = csum_fold(sum);
	put_be16(udp + 6, c);
	sum = csum_partial(udp, sizeof(udp), csum_ipv4_pseudo(src, dst, 17, sizeof(udp)));
	assert_int_equal(csum_fold(sum), 0);
}

/* The vector sum against a byte-pair reference, on random lengths and splits. */
static uint16_t ref_csum(const uint8_t *b, size_t len)
{
	uint64_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void against_reference(bool portable)
{
	static uint8_t buf[2100], copy[2100];
	uint32_t x = 12345;

	csum_force_portable(portable);
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (int iter = 0; iter < 2000; iter++) {
		size_t off, len, split;

		x = x * 1103515245 + 12345;
		off = (x >> 8) % 64;
		x = x * 1103515245 + 12345;
		len = (x >> 8) % 2000;
		x = x * 1103515245 + 12345;
		split = len ? ((x >> 8) % len) & ~(size_t)1 : 0;
		assert_int_equal(csum_fold(csum_partial(buf + off, len, 0)),
				 ref_csum(buf + off, len));
		assert_int_equal(csum_fold(csum_partial(buf + off + split, len - split,
							csum_partial(buf + off, split, 0))),
				 ref_csum(buf + off, len));
		/* The copying sum, at another alignment: same sum, same bytes. */
		memset(copy, 0, sizeof(copy));
		assert_int_equal(csum_fold(csum_copy(copy + (off ^ 5), buf + off, len, 0)),
				 ref_csum(buf + off, len));
		assert_memory_equal(copy + (off ^ 5), buf + off, len);
		assert_int_equal(copy[(off ^ 5) + len], 0);
	}
	/* All-ones data: the carries must wrap, not vanish. */
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(csum_fold(csum_partial(buf, 2000, 0xffff)), ref_csum(buf, 2000));
	assert_int_equal(csum_fold(csum_copy(copy, buf, 2001, 0xffff)), ref_csum(buf, 2001));
	csum_force_portable(false);
}

static void test_against_reference(void **state)
{
	(void)state;
	against_reference(false);
}

static void test_against_reference_portable(void **state)
{
	(void)state;
	against_reference(true);
}

/*
 * Over 2 MiB of all-ones words: more than one block of 65535 vectors, whose 32-bit lanes
 * would overflow if the blocks were not summed apart.
 */
static void test_long_buffer(void **state)
{
	size_t len = (size_t)3 << 20;
	uint8_t *buf = malloc(len + 1);

	(void)state;
	assert_non_null(buf);
	memset(buf, 0xff, len + 1);
	buf[len - 7] = 0x12;
	for (int portable = 0; portable < 2; portable++) {
		csum_force_portable(portable);
		assert_int_equal(csum_fold(csum_partial(buf, len + 1, 0)), ref_csum(buf, len + 1));
		assert_int_equal(csum_fold(csum_partial(buf + 1, len, 0)), ref_csum(buf + 1, len));
	}
	csum_force_portable(false);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_header),
		cmocka_unit_test(test_partial_and_odd),
		cmocka_unit_test(test_udp_pseudo),
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_against_reference_portable),
		cmocka_unit_test(test_long_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
