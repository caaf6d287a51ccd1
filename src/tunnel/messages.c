/* SPDX-License-Identifier: MIT */
#include "messages.h"

enum wg_message_type wg_message_classify(const uint8_t *msg, size_t len)
{
	size_t want;

	if (len < 4)
		return WG_MSG_BAD_TYPE;
	/* The three reserved bytes are part of the type word, so non-zero ones are refused. */
	switch (get_le32(msg)) {
	case WG_MSG_HANDSHAKE_INITIATION:
		want = WG_INIT_SIZE;
		break;
	case WG_MSG_HANDSHAKE_RESPONSE:
		want = WG_RESP_SIZE;
		break;
	case WG_MSG_HANDSHAKE_COOKIE:
		want = WG_COOKIE_REPLY_SIZE;
		break;
	case WG_MSG_DATA:
		return len >= WG_DATA_MIN_SIZE ? WG_MSG_DATA : WG_MSG_BAD_SIZE;
	default:
		return WG_MSG_BAD_TYPE;
	}
	if (len != want)
		return WG_MSG_BAD_SIZE;
	return (enum wg_message_type)get_le32(msg);
}

size_t wg_message_padding(size_t len, uint32_t mtu)
{
	size_t last_unit = len, padded;

	if (!mtu)
		return (WG_PADDING_MULTIPLE - len % WG_PADDING_MULTIPLE) % WG_PADDING_MULTIPLE;
	/* As the kernel: padding never makes a packet that fit the MTU exceed it. */
	if (last_unit > mtu)
		last_unit %= mtu;
	padded = (last_unit + WG_PADDING_MULTIPLE - 1) & ~(size_t)(WG_PADDING_MULTIPLE - 1);
	if (padded > mtu)
		padded = mtu;
	return padded - last_unit;
}
