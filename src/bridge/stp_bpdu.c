/* SPDX-License-Identifier: MIT */
#include "stp_bpdu.h"

#include <string.h>

#include "core/byteorder.h"

const uint8_t stp_group_address[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};

static const char *const stp_bpdu_error_names[STP_BPDU_ERR_MAX] = {
	[STP_BPDU_OK] = "ok",
	[STP_BPDU_ERR_SHORT] = "short",
	[STP_BPDU_ERR_NOT_GROUP] = "not_group_address",
	[STP_BPDU_ERR_NOT_8023] = "not_802.3",
	[STP_BPDU_ERR_LENGTH] = "bad_length",
	[STP_BPDU_ERR_LLC] = "bad_llc",
	[STP_BPDU_ERR_PROTOCOL] = "bad_protocol_id",
	[STP_BPDU_ERR_VERSION] = "bad_version",
	[STP_BPDU_ERR_TYPE] = "bad_type",
};

const char *stp_bpdu_error_name(enum stp_bpdu_error e)
{
	if ((unsigned)e >= STP_BPDU_ERR_MAX)
		return "unknown";
	return stp_bpdu_error_names[e];
}

static uint64_t get_bridge_id(const uint8_t *p)
{
	return get_be64(p);
}

static void put_bridge_id(uint8_t *p, uint64_t id)
{
	put_be64(p, id);
}

static void decode_config(const uint8_t *b, struct stp_config_bpdu *c)
{
	c->topology_change = (b[4] & STP_FLAG_TC) != 0;
	c->topology_change_ack = (b[4] & STP_FLAG_TCA) != 0;
	c->root_id = get_bridge_id(b + 5);
	c->root_path_cost = get_be32(b + 13);
	c->bridge_id = get_bridge_id(b + 17);
	c->port_id = get_be16(b + 25);
	c->message_age = get_be16(b + 27);
	c->max_age = get_be16(b + 29);
	c->hello_time = get_be16(b + 31);
	c->forward_delay = get_be16(b + 33);
}

/*
 * Checks as the Linux bridge and its LLC layer do: an 802.3 length that the
 * frame covers (padding beyond it is ignored), LLC 42/42/03, protocol 0 and
 * version 0, a known type with its full size.
 */
enum stp_bpdu_error stp_bpdu_decode(const uint8_t *frame, size_t len, struct stp_bpdu *bpdu)
{
	const uint8_t *b;
	uint16_t l8023;
	size_t blen;

	if (len < STP_ETH_HLEN + STP_LLC_LEN + STP_TCN_BPDU_LEN)
		return STP_BPDU_ERR_SHORT;
	if (memcmp(frame, stp_group_address, 6) != 0)
		return STP_BPDU_ERR_NOT_GROUP;
	l8023 = get_be16(frame + 12);
	if (l8023 >= 0x0600)
		return STP_BPDU_ERR_NOT_8023;
	if (l8023 > len - STP_ETH_HLEN)
		return STP_BPDU_ERR_LENGTH;
	if (l8023 < STP_LLC_LEN + STP_TCN_BPDU_LEN)
		return STP_BPDU_ERR_SHORT;
	b = frame + STP_ETH_HLEN;
	if (b[0] != STP_LLC_SAP || b[1] != STP_LLC_SAP || b[2] != STP_LLC_UI)
		return STP_BPDU_ERR_LLC;
	b += STP_LLC_LEN;
	blen = l8023 - STP_LLC_LEN;
	if (b[0] != 0 || b[1] != 0)
		return STP_BPDU_ERR_PROTOCOL;
	if (b[2] != 0)
		return STP_BPDU_ERR_VERSION;
	memset(bpdu, 0, sizeof(*bpdu));
	bpdu->type = b[3];
	switch (b[3]) {
	case STP_BPDU_TYPE_TCN:
		return STP_BPDU_OK;
	case STP_BPDU_TYPE_CONFIG:
		if (blen < STP_CONFIG_BPDU_LEN)
			return STP_BPDU_ERR_SHORT;
		decode_config(b, &bpdu->config);
		return STP_BPDU_OK;
	default:
		return STP_BPDU_ERR_TYPE;
	}
}

/* Ethernet + LLC header; returns where the BPDU goes. */
static uint8_t *put_header(uint8_t *buf, const uint8_t src[6], size_t bpdu_len)
{
	memset(buf, 0, STP_FRAME_MIN);
	memcpy(buf, stp_group_address, 6);
	memcpy(buf + 6, src, 6);
	put_be16(buf + 12, (uint16_t)(STP_LLC_LEN + bpdu_len));
	buf[14] = STP_LLC_SAP;
	buf[15] = STP_LLC_SAP;
	buf[16] = STP_LLC_UI;
	return buf + STP_ETH_HLEN + STP_LLC_LEN;
}

size_t stp_bpdu_encode_config(uint8_t *buf, const uint8_t src[6], const struct stp_config_bpdu *c)
{
	uint8_t *b = put_header(buf, src, STP_CONFIG_BPDU_LEN);

	/* protocol identifier and version stay 0 */
	b[3] = STP_BPDU_TYPE_CONFIG;
	b[4] = (uint8_t)((c->topology_change ? STP_FLAG_TC : 0) |
			 (c->topology_change_ack ? STP_FLAG_TCA : 0));
	put_bridge_id(b + 5, c->root_id);
	put_be32(b + 13, c->root_path_cost);
	put_bridge_id(b + 17, c->bridge_id);
	put_be16(b + 25, c->port_id);
	put_be16(b + 27, c->message_age);
	put_be16(b + 29, c->max_age);
	put_be16(b + 31, c->hello_time);
	put_be16(b + 33, c->forward_delay);
	return STP_FRAME_MIN;
}

size_t stp_bpdu_encode_tcn(uint8_t *buf, const uint8_t src[6])
{
	uint8_t *b = put_header(buf, src, STP_TCN_BPDU_LEN);

	b[3] = STP_BPDU_TYPE_TCN;
	return STP_FRAME_MIN;
}

size_t stp_bpdu_encode(uint8_t *buf, const uint8_t src[6], const struct stp_bpdu *bpdu)
{
	if (bpdu->type == STP_BPDU_TYPE_TCN)
		return stp_bpdu_encode_tcn(buf, src);
	return stp_bpdu_encode_config(buf, src, &bpdu->config);
}
