/* SPDX-License-Identifier: MIT */
/* Message classification by header and exact size, and data padding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tunnel/messages.h"

static void test_layout(void **state)
{
	(void)state;
	/* Whitepaper sizes: the offsets add up to them. */
	assert_int_equal(WG_INIT_OFF_MAC2 + WG_MAC_LEN, WG_INIT_SIZE);
	assert_int_equal(WG_INIT_OFF_TIMESTAMP + WG_TIMESTAMP_SIZE + WG_AEAD_TAG_SIZE,
			 WG_INIT_OFF_MAC1);
	assert_int_equal(WG_INIT_OFF_STATIC + WG_KEY_SIZE + WG_AEAD_TAG_SIZE,
			 WG_INIT_OFF_TIMESTAMP);
	assert_int_equal(WG_RESP_OFF_MAC2 + WG_MAC_LEN, WG_RESP_SIZE);
	assert_int_equal(WG_RESP_OFF_EMPTY + WG_AEAD_TAG_SIZE, WG_RESP_OFF_MAC1);
	assert_int_equal(WG_COOKIE_OFF_COOKIE + WG_COOKIE_SIZE + WG_AEAD_TAG_SIZE,
			 WG_COOKIE_REPLY_SIZE);
	assert_int_equal(WG_INIT_SIZE, 148);
	assert_int_equal(WG_RESP_SIZE, 92);
	assert_int_equal(WG_COOKIE_REPLY_SIZE, 64);
	assert_int_equal(WG_DATA_MIN_SIZE, 32);
	assert_int_equal(WG_REJECT_AFTER_MESSAGES, 18446744073709543423ULL);
}

static void check_sizes(uint8_t type, size_t exact)
{
	uint8_t buf[256] = {0};

	buf[0] = type;
	assert_int_equal(wg_message_classify(buf, exact), type);
	assert_int_equal(wg_message_classify(buf, exact - 1), WG_MSG_BAD_SIZE);
	assert_int_equal(wg_message_classify(buf, exact + 1), WG_MSG_BAD_SIZE);
	assert_int_equal(wg_message_classify(buf, 4), WG_MSG_BAD_SIZE);
	/* Reserved bytes must be zero: they are part of the type word. */
	for (int i = 1; i < 4; i++) {
		buf[i] = 1;
		assert_int_equal(wg_message_classify(buf, exact), WG_MSG_BAD_TYPE);
		buf[i] = 0;
	}
}

static void test_classify(void **state)
{
	uint8_t buf[2048] = {0};

	(void)state;
	check_sizes(WG_MSG_HANDSHAKE_INITIATION, WG_INIT_SIZE);
	check_sizes(WG_MSG_HANDSHAKE_RESPONSE, WG_RESP_SIZE);
	check_sizes(WG_MSG_HANDSHAKE_COOKIE, WG_COOKIE_REPLY_SIZE);

	buf[0] = WG_MSG_DATA;
	assert_int_equal(wg_message_classify(buf, 31), WG_MSG_BAD_SIZE);
	for (size_t len = 32; len < sizeof(buf); len += 37)
		assert_int_equal(wg_message_classify(buf, len), WG_MSG_DATA);

	for (size_t len = 0; len < 4; len++)
		assert_int_equal(wg_message_classify(buf, len), WG_MSG_BAD_TYPE);
	buf[0] = 0;
	assert_int_equal(wg_message_classify(buf, 148), WG_MSG_BAD_TYPE);
	buf[0] = 5;
	assert_int_equal(wg_message_classify(buf, 148), WG_MSG_BAD_TYPE);
	buf[0] = 0xff;
	assert_int_equal(wg_message_classify(buf, 148), WG_MSG_BAD_TYPE);
}

static void test_padding(void **state)
{
	(void)state;
	/* Without an MTU: to the next multiple of 16. */
	assert_int_equal(wg_message_padding(0, 0), 0);
	assert_int_equal(wg_message_padding(1, 0), 15);
	assert_int_equal(wg_message_padding(16, 0), 0);
	assert_int_equal(wg_message_padding(1419, 0), 5);
	/* With MTU 1420 a 1419-byte packet is padded to 1420, not 1424. */
	assert_int_equal(wg_message_padding(1419, 1420), 1);
	assert_int_equal(wg_message_padding(1420, 1420), 0);
	assert_int_equal(wg_message_padding(1400, 1420), 8);
	/* Longer than the MTU (offloads): the last unit is padded. */
	assert_int_equal(wg_message_padding(1421, 1420), 15);
	for (size_t len = 0; len < 3000; len++) {
		size_t pad = wg_message_padding(len, 1420);
		size_t unit = len > 1420 ? len % 1420 : len;

		assert_true(pad < 16);
		assert_true((unit + pad) % 16 == 0 || unit + pad == 1420);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_padding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
