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

/* An RST BPDU: a configuration BPDU's fields, and the flags 802.1D left unused. */
static void decode_rst(const uint8_t *b, struct stp_config_bpdu *c)
{
	decode_config(b, c);
	c->proposal = (b[4] & STP_FLAG_PROPOSAL) != 0;
	c->port_role = (uint8_t)((b[4] & STP_FLAG_ROLE_MASK) >> STP_FLAG_ROLE_SHIFT);
	c->learning = (b[4] & STP_FLAG_LEARNING) != 0;
	c->forwarding = (b[4] & STP_FLAG_FORWARDING) != 0;
	c->agreement = (b[4] & STP_FLAG_AGREEMENT) != 0;
}

/* 802.1D-2004 9.3.4 a)-c) on the BPDU itself (b, blen bytes, at least a TCN's 4). */
static enum stp_bpdu_error decode_bpdu(const uint8_t *b, size_t blen, struct stp_bpdu *bpdu)
{
	if (b[0] != 0 || b[1] != 0)
		return STP_BPDU_ERR_PROTOCOL;
	memset(bpdu, 0, sizeof(*bpdu));
	bpdu->type = b[3];
	bpdu->version = b[2];
	switch (b[3]) {
	case STP_BPDU_TYPE_TCN:
		return STP_BPDU_OK;
	case STP_BPDU_TYPE_CONFIG:
		if (blen < STP_CONFIG_BPDU_LEN)
			return STP_BPDU_ERR_SHORT;
		decode_config(b, &bpdu->config);
		return STP_BPDU_OK;
	case STP_BPDU_TYPE_RST:
		if (b[2] < STP_VERSION_RSTP)
			return STP_BPDU_ERR_VERSION;
		if (blen < STP_RST_BPDU_LEN)
			return STP_BPDU_ERR_SHORT;
		decode_rst(b, &bpdu->config);
		return STP_BPDU_OK;
	default:
		return STP_BPDU_ERR_TYPE;
	}
}

/*
 * The frame is checked as the Linux bridge and its LLC layer do: an 802.3
 * length that the frame covers (padding beyond it is ignored), LLC 42/42/03.
 * The BPDU in it as 802.1D-2004 9.3.4 says. That differs from the kernel,
 * which drops every version but 0: a configuration or TCN BPDU of a later
 * version is read as one (9.3.4 a, b), and RST BPDUs are read, for the RSTP
 * machines; the 802.1D-1998 machine (stp.c) ignores them, as 802.1D-1998 does
 * a type it does not know.
 */
enum stp_bpdu_error stp_bpdu_decode(const uint8_t *frame, size_t len, struct stp_bpdu *bpdu)
{
	const uint8_t *b;
	uint16_t l8023;

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
	return decode_bpdu(b + STP_LLC_LEN, l8023 - STP_LLC_LEN, bpdu);
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

/* The fields a configuration BPDU and an RST BPDU share, flags apart. */
static void put_config_fields(uint8_t *b, const struct stp_config_bpdu *c)
{
	put_bridge_id(b + 5, c->root_id);
	put_be32(b + 13, c->root_path_cost);
	put_bridge_id(b + 17, c->bridge_id);
	put_be16(b + 25, c->port_id);
	put_be16(b + 27, c->message_age);
	put_be16(b + 29, c->max_age);
	put_be16(b + 31, c->hello_time);
	put_be16(b + 33, c->forward_delay);
}

static uint8_t config_flags(const struct stp_config_bpdu *c)
{
	return (uint8_t)((c->topology_change ? STP_FLAG_TC : 0) |
			 (c->topology_change_ack ? STP_FLAG_TCA : 0));
}

size_t stp_bpdu_encode_config(uint8_t *buf, const uint8_t src[6], const struct stp_config_bpdu *c)
{
	uint8_t *b = put_header(buf, src, STP_CONFIG_BPDU_LEN);

	/* protocol identifier and version stay 0 */
	b[3] = STP_BPDU_TYPE_CONFIG;
	b[4] = config_flags(c);
	put_config_fields(b, c);
	return STP_FRAME_MIN;
}

size_t stp_bpdu_encode_tcn(uint8_t *buf, const uint8_t src[6])
{
	uint8_t *b = put_header(buf, src, STP_TCN_BPDU_LEN);

	b[3] = STP_BPDU_TYPE_TCN;
	return STP_FRAME_MIN;
}

/* 802.1D-2004 9.3.3; Version 1 Length (the last byte) stays 0. */
size_t stp_bpdu_encode_rst(uint8_t *buf, const uint8_t src[6], const struct stp_config_bpdu *c)
{
	uint8_t *b = put_header(buf, src, STP_RST_BPDU_LEN);

	b[2] = STP_VERSION_RSTP;
	b[3] = STP_BPDU_TYPE_RST;
	b[4] = (uint8_t)(config_flags(c) | (c->proposal ? STP_FLAG_PROPOSAL : 0) |
			 (c->port_role << STP_FLAG_ROLE_SHIFT & STP_FLAG_ROLE_MASK) |
			 (c->learning ? STP_FLAG_LEARNING : 0) |
			 (c->forwarding ? STP_FLAG_FORWARDING : 0) |
			 (c->agreement ? STP_FLAG_AGREEMENT : 0));
	put_config_fields(b, c);
	return STP_FRAME_MIN;
}

size_t stp_bpdu_encode(uint8_t *buf, const uint8_t src[6], const struct stp_bpdu *bpdu)
{
	switch (bpdu->type) {
	case STP_BPDU_TYPE_TCN:
		return stp_bpdu_encode_tcn(buf, src);
	case STP_BPDU_TYPE_RST:
		return stp_bpdu_encode_rst(buf, src, &bpdu->config);
	default:
		return stp_bpdu_encode_config(buf, src, &bpdu->config);
	}
}
