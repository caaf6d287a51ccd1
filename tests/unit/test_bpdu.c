/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bridge/stp_bpdu.h"

/*
 * A configuration BPDU sent by a Linux 6.x bridge (stp_state 1, priority 4096,
 * hello 1, max age 6, forward delay 4), captured on a veth with tshark: 52
 * bytes, unpadded, 802.3 length 38.
 */
static const uint8_t kernel_config[52] = {
	0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x0e, 0x1d, 0xaf, 0x76, 0x39, 0x45, 0x00,
	0x26, 0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x1d,
	0xaf, 0x76, 0x39, 0x45, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x1d, 0xaf,
	0x76, 0x39, 0x45, 0x80, 0x01, 0x00, 0x00, 0x06, 0x00, 0x01, 0x00, 0x04, 0x00,
};

static const uint8_t src_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

/* The priority vector and times of got are want's (the flags are each test's own). */
static void assert_vector_and_times(const struct stp_config_bpdu *got,
				    const struct stp_config_bpdu *want)
{
	assert_true(got->root_id == want->root_id);
	assert_true(got->bridge_id == want->bridge_id);
	assert_true(got->root_path_cost == want->root_path_cost);
	assert_int_equal(got->port_id, want->port_id);
	assert_int_equal(got->message_age, want->message_age);
	assert_int_equal(got->max_age, want->max_age);
	assert_int_equal(got->hello_time, want->hello_time);
	assert_int_equal(got->forward_delay, want->forward_delay);
}

/*
 * stp_bpdu_encode of b, from frame's source address, gives frame's bytes and then zeros up
 * to the 60 it returns, and writes nothing past them.
 */
static void assert_encodes_to(const struct stp_bpdu *b, const uint8_t *frame, size_t frame_len)
{
	uint8_t buf[STP_FRAME_MAX + 8];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(stp_bpdu_encode(buf, frame + 6, b), 60);
	assert_memory_equal(buf, frame, frame_len);
	for (size_t i = frame_len; i < 60; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[60], 0xaa);
}

static void test_decode_kernel_config(void **state)
{
	static const struct stp_config_bpdu want = {
		.root_id = 0x10000e1daf763945ULL,
		.bridge_id = 0x10000e1daf763945ULL,
		.port_id = 0x8001,
		.max_age = 6 * 256,
		.hello_time = 1 * 256,
		.forward_delay = 4 * 256,
	};
	struct stp_bpdu b;

	(void)state;
	assert_int_equal(stp_bpdu_decode(kernel_config, sizeof(kernel_config), &b), STP_BPDU_OK);
	assert_int_equal(b.type, STP_BPDU_TYPE_CONFIG);
	assert_false(b.config.topology_change);
	assert_false(b.config.topology_change_ack);
	assert_vector_and_times(&b.config, &want);
}

/* Encoding what the kernel sent gives its bytes, padded with zeros to 60. */
static void test_encode_matches_kernel(void **state)
{
	struct stp_bpdu b;

	(void)state;
	assert_int_equal(stp_bpdu_decode(kernel_config, sizeof(kernel_config), &b), STP_BPDU_OK);
	assert_encodes_to(&b, kernel_config, sizeof(kernel_config));
}

/* The round trips' priority vector and times: each field its own value, so swapped ones show. */
#define ROUND_TRIP_VECTOR                                                             \
	.root_id = 0x0123456789abcdefULL, .root_path_cost = 0xdeadbeef,               \
	.bridge_id = 0xfedcba9876543210ULL, .port_id = 0x9c3f, .message_age = 0x0102, \
	.max_age = 0x0a00, .hello_time = 0x0200, .forward_delay = 0x0f00

static void test_config_round_trip(void **state)
{
	struct stp_config_bpdu c = {
		.topology_change = true,
		.topology_change_ack = true,
		ROUND_TRIP_VECTOR,
	};
	struct stp_bpdu b;
	uint8_t buf[STP_FRAME_MAX];

	(void)state;
	assert_int_equal(stp_bpdu_encode_config(buf, src_mac, &c), STP_FRAME_MIN);
	assert_memory_equal(buf + 6, src_mac, 6);
	assert_int_equal(buf[12], 0);
	assert_int_equal(buf[13], 38);
	assert_int_equal(buf[21], 0x81); /* TCA | TC */
	assert_int_equal(stp_bpdu_decode(buf, STP_FRAME_MIN, &b), STP_BPDU_OK);
	assert_int_equal(b.type, STP_BPDU_TYPE_CONFIG);
	assert_true(b.config.topology_change && b.config.topology_change_ack);
	assert_vector_and_times(&b.config, &c);
	/* only the flag bits 802.1D defines are read */
	buf[21] = 0x7e;
	assert_int_equal(stp_bpdu_decode(buf, STP_FRAME_MIN, &b), STP_BPDU_OK);
	assert_false(b.config.topology_change);
	assert_false(b.config.topology_change_ack);
}

static void test_tcn_round_trip(void **state)
{
	static const uint8_t want[21] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x02,
					 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x07,
					 0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x80};
	struct stp_bpdu b;
	uint8_t buf[STP_FRAME_MAX];

	(void)state;
	assert_int_equal(stp_bpdu_encode_tcn(buf, src_mac), STP_FRAME_MIN);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(stp_bpdu_decode(buf, STP_FRAME_MIN, &b), STP_BPDU_OK);
	assert_int_equal(b.type, STP_BPDU_TYPE_TCN);
	/* an unpadded TCN (21 bytes) is fine too */
	assert_int_equal(stp_bpdu_decode(want, sizeof(want), &b), STP_BPDU_OK);
	assert_int_equal(b.type, STP_BPDU_TYPE_TCN);
}

/*
 * Decodes the first len bytes of frame zero-padded to 80 with byte `at` set to val (no
 * byte when at is past them).
 */
static enum stp_bpdu_error decode_patched(const uint8_t *frame, size_t frame_len, size_t len,
					  size_t at, uint8_t val, struct stp_bpdu *b)
{
	uint8_t buf[80];

	memset(buf, 0, sizeof(buf));
	memcpy(buf, frame, frame_len);
	if (at < sizeof(buf))
		buf[at] = val;
	return stp_bpdu_decode(buf, len, b);
}

static enum stp_bpdu_error decode_modified(size_t len, size_t at, uint8_t val)
{
	struct stp_bpdu b;

	return decode_patched(kernel_config, sizeof(kernel_config), len, at, val, &b);
}

static void test_reject_malformed(void **state)
{
	(void)state;
	/* every truncation of a config BPDU is refused */
	for (size_t len = 0; len < sizeof(kernel_config); len++)
		assert_int_not_equal(decode_modified(len, 99, 0), STP_BPDU_OK);
	assert_int_equal(decode_modified(52, 99, 0), STP_BPDU_OK);
	assert_int_equal(decode_modified(0, 99, 0), STP_BPDU_ERR_SHORT);
	assert_int_equal(decode_modified(51, 99, 0), STP_BPDU_ERR_LENGTH);
	/* destination */
	assert_int_equal(decode_modified(52, 5, 0x01), STP_BPDU_ERR_NOT_GROUP);
	assert_int_equal(decode_modified(52, 0, 0xff), STP_BPDU_ERR_NOT_GROUP);
	/* an EtherType instead of a length */
	assert_int_equal(decode_modified(52, 12, 0x08), STP_BPDU_ERR_NOT_8023);
	assert_int_equal(decode_modified(52, 12, 0x06), STP_BPDU_ERR_NOT_8023);
	/* 802.3 length beyond the frame, or too short for the type */
	assert_int_equal(decode_modified(52, 13, 39), STP_BPDU_ERR_LENGTH);
	assert_int_equal(decode_modified(52, 13, 37), STP_BPDU_ERR_SHORT);
	assert_int_equal(decode_modified(52, 13, 6), STP_BPDU_ERR_SHORT);
	/* a length that covers less than the frame: padding is ignored */
	assert_int_equal(decode_modified(60, 99, 0), STP_BPDU_OK);
	/* LLC */
	assert_int_equal(decode_modified(52, 14, 0xaa), STP_BPDU_ERR_LLC);
	assert_int_equal(decode_modified(52, 15, 0x43), STP_BPDU_ERR_LLC);
	assert_int_equal(decode_modified(52, 16, 0x13), STP_BPDU_ERR_LLC);
	/*
	 * Protocol identifier, type. The version of a configuration BPDU is not looked at
	 * (802.1D-2004 9.3.4 a; test_version_rules); type 2 (RST) with version 0 is refused.
	 */
	assert_int_equal(decode_modified(52, 17, 0x01), STP_BPDU_ERR_PROTOCOL);
	assert_int_equal(decode_modified(52, 18, 0x01), STP_BPDU_ERR_PROTOCOL);
	assert_int_equal(decode_modified(52, 19, 0x02), STP_BPDU_OK);
	assert_int_equal(decode_modified(52, 20, 0x02), STP_BPDU_ERR_VERSION);
	assert_int_equal(decode_modified(52, 20, 0x81), STP_BPDU_ERR_TYPE);
	/*
	 * Times are reported as sent, even message age 0x0601 > max age 0x0600 or a zero
	 * forward delay: the state machine judges them (test_stp.c, test_bridge.c).
	 */
	{
		uint8_t buf[52];
		struct stp_bpdu b;

		memcpy(buf, kernel_config, sizeof(buf));
		buf[44] = 0x06;
		buf[45] = 0x01;
		buf[50] = buf[51] = 0;
		assert_int_equal(stp_bpdu_decode(buf, sizeof(buf), &b), STP_BPDU_OK);
		assert_int_equal(b.config.message_age, 0x0601);
		assert_int_equal(b.config.max_age, 0x0600);
		assert_int_equal(b.config.forward_delay, 0);
	}
	assert_string_equal(stp_bpdu_error_name(STP_BPDU_ERR_VERSION), "bad_version");
	assert_string_equal(stp_bpdu_error_name(STP_BPDU_ERR_MAX), "unknown");
}

/*
 * An RST BPDU with the field values tshark shows for one a switch sent (root and
 * bridge 4096/4c:1f:cc:55:44:dc, port 0x8001, flags 0x7c: agreement, forwarding,
 * learning, role designated; max age 20, hello 2, forward delay 15), laid out
 * as 802.1D-2004 9.3.3 says: 802.3 length 39, version 2, type 2, Version 1
 * Length 0, zero padding to 60 bytes. The source address is made up. tshark 4
 * decodes these bytes to the same fields.
 */
static const uint8_t switch_rst[60] = {
	0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x4c, 0x1f, 0xcc, 0x55, 0x44, 0xdd, /* dst, src */
	0x00, 0x27, 0x42, 0x42, 0x03,						/* length, LLC */
	0x00, 0x00, 0x02, 0x02, 0x7c,			/* protocol, version, type, flags */
	0x10, 0x00, 0x4c, 0x1f, 0xcc, 0x55, 0x44, 0xdc, /* root identifier */
	0x00, 0x00, 0x00, 0x00,				/* root path cost */
	0x10, 0x00, 0x4c, 0x1f, 0xcc, 0x55, 0x44, 0xdc, /* bridge identifier */
	0x80, 0x01,					/* port identifier */
	0x00, 0x00, 0x14, 0x00, 0x02, 0x00, 0x0f, 0x00, /* message age, max age, hello, fd */
	0x00,						/* Version 1 Length */
};

static void test_decode_rst(void **state)
{
	static const struct stp_config_bpdu want = {
		.root_id = 0x10004c1fcc5544dcULL,
		.bridge_id = 0x10004c1fcc5544dcULL,
		.port_id = 0x8001,
		.max_age = 20 * 256,
		.hello_time = 2 * 256,
		.forward_delay = 15 * 256,
	};
	struct stp_bpdu b;

	(void)state;
	assert_int_equal(stp_bpdu_decode(switch_rst, sizeof(switch_rst), &b), STP_BPDU_OK);
	assert_int_equal(b.type, STP_BPDU_TYPE_RST);
	assert_int_equal(b.version, 2);
	assert_false(b.config.topology_change);
	assert_false(b.config.proposal);
	assert_int_equal(b.config.port_role, STP_RST_ROLE_DESIGNATED);
	assert_true(b.config.learning);
	assert_true(b.config.forwarding);
	assert_true(b.config.agreement);
	assert_false(b.config.topology_change_ack);
	assert_vector_and_times(&b.config, &want);
}

/* Encoding what was decoded gives the same 60 bytes, whichever way it is called. */
static void test_encode_rst_bytes(void **state)
{
	struct stp_bpdu b;
	uint8_t buf[STP_FRAME_MAX + 8];

	(void)state;
	assert_int_equal(stp_bpdu_decode(switch_rst, sizeof(switch_rst), &b), STP_BPDU_OK);
	assert_encodes_to(&b, switch_rst, sizeof(switch_rst));
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(stp_bpdu_encode_rst(buf, switch_rst + 6, &b.config), 60);
	assert_memory_equal(buf, switch_rst, sizeof(switch_rst));
}

/* Every one of the 256 flag bytes survives decode and encode, each bit in its own field. */
static void test_rst_flags_round_trip(void **state)
{
	uint8_t frame[60], buf[STP_FRAME_MAX];
	struct stp_bpdu b;

	(void)state;
	memcpy(frame, switch_rst, sizeof(frame));
	for (unsigned f = 0; f < 256; f++) {
		const struct stp_config_bpdu *c = &b.config;

		frame[21] = (uint8_t)f;
		assert_int_equal(stp_bpdu_decode(frame, sizeof(frame), &b), STP_BPDU_OK);
		assert_int_equal(c->topology_change, (f & 0x01) != 0);
		assert_int_equal(c->proposal, (f & 0x02) != 0);
		assert_int_equal(c->port_role, (f >> 2) & 3);
		assert_int_equal(c->learning, (f & 0x10) != 0);
		assert_int_equal(c->forwarding, (f & 0x20) != 0);
		assert_int_equal(c->agreement, (f & 0x40) != 0);
		assert_int_equal(c->topology_change_ack, (f & 0x80) != 0);
		stp_bpdu_encode(buf, frame + 6, &b);
		assert_memory_equal(buf, frame, sizeof(frame));
	}
}

static void test_rst_round_trip(void **state)
{
	/* static: its padding is zero, so the decoded struct compares whole */
	static const struct stp_config_bpdu c = {
		.topology_change = true,
		.proposal = true,
		.port_role = STP_RST_ROLE_ROOT,
		ROUND_TRIP_VECTOR,
	};
	struct stp_bpdu b;
	uint8_t buf[STP_FRAME_MAX];

	(void)state;
	assert_int_equal(stp_bpdu_encode_rst(buf, src_mac, &c), STP_FRAME_MIN);
	assert_int_equal(buf[13], 39);
	assert_int_equal(buf[19], 2);
	assert_int_equal(buf[20], 2);
	assert_int_equal(buf[21], 0x0b); /* role root (2 << 2) | proposal | TC */
	assert_int_equal(buf[52], 0);	 /* Version 1 Length */
	assert_int_equal(stp_bpdu_decode(buf, STP_FRAME_MIN, &b), STP_BPDU_OK);
	assert_int_equal(b.type, STP_BPDU_TYPE_RST);
	assert_memory_equal(&b.config, &c, sizeof(c));
	/* unpadded: the 53 bytes the length covers are enough */
	assert_int_equal(stp_bpdu_decode(buf, 53, &b), STP_BPDU_OK);
}

/* A configuration BPDU never reports the flags only RST BPDUs have, whatever its bits. */
static void test_config_ignores_rst_flags(void **state)
{
	uint8_t buf[52];
	struct stp_bpdu b;

	(void)state;
	memcpy(buf, kernel_config, sizeof(buf));
	buf[21] = 0xff;
	assert_int_equal(stp_bpdu_decode(buf, sizeof(buf), &b), STP_BPDU_OK);
	assert_int_equal(b.type, STP_BPDU_TYPE_CONFIG);
	assert_true(b.config.topology_change && b.config.topology_change_ack);
	assert_false(b.config.proposal || b.config.learning || b.config.forwarding ||
		     b.config.agreement);
	assert_int_equal(b.config.port_role, STP_RST_ROLE_UNKNOWN);
}

static enum stp_bpdu_error decode_rst_modified(size_t len, size_t at, uint8_t val,
					       struct stp_bpdu *b)
{
	return decode_patched(switch_rst, sizeof(switch_rst), len, at, val, b);
}

/*
 * 802.1D-2004 9.3.4: the type decides, the version only for RST BPDUs (2 or
 * more; an MSTP BPDU, version 3 and longer, is read as the RST BPDU it starts
 * with), and a configuration or TCN BPDU of any version is one.
 */
static void test_version_rules(void **state)
{
	struct stp_bpdu b;

	(void)state;
	/* RST BPDU type with version 0 or 1: refused */
	assert_int_equal(decode_rst_modified(60, 19, 0, &b), STP_BPDU_ERR_VERSION);
	assert_int_equal(decode_rst_modified(60, 19, 1, &b), STP_BPDU_ERR_VERSION);
	/* versions 3 and 255 are read as RST */
	assert_int_equal(decode_rst_modified(60, 19, 3, &b), STP_BPDU_OK);
	assert_int_equal(b.type, STP_BPDU_TYPE_RST);
	assert_int_equal(b.version, 3);
	assert_int_equal(b.config.port_role, STP_RST_ROLE_DESIGNATED);
	assert_int_equal(decode_rst_modified(60, 19, 0xff, &b), STP_BPDU_OK);
	/* a longer BPDU (an MSTP one's 802.3 length, 80-byte frame) */
	assert_int_equal(decode_rst_modified(80, 13, 66, &b), STP_BPDU_OK);
	assert_int_equal(b.type, STP_BPDU_TYPE_RST);
	/* a configuration BPDU with version 2, a TCN with version 3 */
	assert_int_equal(decode_modified(52, 19, 0x02), STP_BPDU_OK);
	{
		uint8_t tcn[21];

		memcpy(tcn, kernel_config, 17);
		tcn[12] = 0;
		tcn[13] = 7;
		tcn[17] = tcn[18] = 0;
		tcn[19] = 3;
		tcn[20] = STP_BPDU_TYPE_TCN;
		assert_int_equal(stp_bpdu_decode(tcn, sizeof(tcn), &b), STP_BPDU_OK);
		assert_int_equal(b.type, STP_BPDU_TYPE_TCN);
		assert_int_equal(b.version, 3);
	}
	/* the version is reported as sent, and ignored when encoding */
	assert_int_equal(decode_modified(52, 19, 0x01), STP_BPDU_OK);
	assert_int_equal(decode_rst_modified(60, 19, 3, &b), STP_BPDU_OK);
	{
		uint8_t buf[STP_FRAME_MAX];

		stp_bpdu_encode(buf, src_mac, &b);
		assert_int_equal(buf[19], 2);
	}
}

/* Every way an RST BPDU can be broken. */
static void test_reject_malformed_rst(void **state)
{
	struct stp_bpdu b;

	(void)state;
	/* every truncation of the 53 bytes the length covers */
	for (size_t len = 0; len < 53; len++)
		assert_int_not_equal(decode_rst_modified(len, 99, 0, &b), STP_BPDU_OK);
	assert_int_equal(decode_rst_modified(53, 99, 0, &b), STP_BPDU_OK);
	/* 802.3 length 38: a configuration BPDU's 35 bytes are not an RST BPDU's 36 */
	assert_int_equal(decode_rst_modified(60, 13, 38, &b), STP_BPDU_ERR_SHORT);
	assert_int_equal(decode_rst_modified(60, 13, 7, &b), STP_BPDU_ERR_SHORT);
	assert_int_equal(decode_rst_modified(60, 13, 47, &b), STP_BPDU_ERR_LENGTH);
	assert_int_equal(decode_rst_modified(60, 12, 0x88, &b), STP_BPDU_ERR_NOT_8023);
	assert_int_equal(decode_rst_modified(60, 0, 0x03, &b), STP_BPDU_ERR_NOT_GROUP);
	assert_int_equal(decode_rst_modified(60, 14, 0x43, &b), STP_BPDU_ERR_LLC);
	assert_int_equal(decode_rst_modified(60, 16, 0x00, &b), STP_BPDU_ERR_LLC);
	assert_int_equal(decode_rst_modified(60, 17, 0x80, &b), STP_BPDU_ERR_PROTOCOL);
	assert_int_equal(decode_rst_modified(60, 18, 0x01, &b), STP_BPDU_ERR_PROTOCOL);
	/* types 802.1D-2004 does not define */
	assert_int_equal(decode_rst_modified(60, 20, 0x01, &b), STP_BPDU_ERR_TYPE);
	assert_int_equal(decode_rst_modified(60, 20, 0x03, &b), STP_BPDU_ERR_TYPE);
	assert_int_equal(decode_rst_modified(60, 20, 0x82, &b), STP_BPDU_ERR_TYPE);
	assert_int_equal(decode_rst_modified(60, 20, 0xff, &b), STP_BPDU_ERR_TYPE);
	/* Version 1 Length is not checked (9.3.4 asks for 36 bytes, nothing of its value) */
	assert_int_equal(decode_rst_modified(60, 52, 0x10, &b), STP_BPDU_OK);
	assert_string_equal(stp_bpdu_error_name(STP_BPDU_ERR_TYPE), "bad_type");
}

static void test_time_units(void **state)
{
	(void)state;
	assert_int_equal(stp_ns_to_ticks(1000000000ULL), 256);
	assert_int_equal(stp_ns_to_ticks(20000000000ULL), 20 * 256);
	assert_int_equal(stp_ns_to_ticks(STP_TICK_NS - 1), 0);
	assert_int_equal(stp_ns_to_ticks(1000000000000ULL), 0xffff);
	assert_true(stp_ticks_to_ns(256) == 1000000000ULL);
	assert_true(stp_ticks_to_ns(3) == 3 * 3906250ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_kernel_config),
		cmocka_unit_test(test_encode_matches_kernel),
		cmocka_unit_test(test_config_round_trip),
		cmocka_unit_test(test_tcn_round_trip),
		cmocka_unit_test(test_reject_malformed),
		cmocka_unit_test(test_decode_rst),
		cmocka_unit_test(test_encode_rst_bytes),
		cmocka_unit_test(test_rst_flags_round_trip),
		cmocka_unit_test(test_rst_round_trip),
		cmocka_unit_test(test_config_ignores_rst_flags),
		cmocka_unit_test(test_version_rules),
		cmocka_unit_test(test_reject_malformed_rst),
		cmocka_unit_test(test_time_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
