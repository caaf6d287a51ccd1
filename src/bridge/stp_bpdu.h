/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_STP_BPDU_H
#define VW_BRIDGE_STP_BPDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * 802.1D BPDUs as they travel: an 802.3 frame (length field, not an EtherType)
 * to the Bridge Group Address, an LLC header (DSAP 0x42, SSAP 0x42, UI) and the
 * BPDU itself. Times are in units of 1/256 s, identifiers and costs big-endian.
 *
 *   dst(6) src(6) length(2) | 42 42 03 | protocol id(2)=0 version(1)=0 type(1) ...
 *
 * A configuration BPDU is 35 bytes (type 0x00), a TCN BPDU 4 bytes (type 0x80),
 * both sent with version 0. An RST BPDU (802.1D-2004 9.3.3) is a configuration
 * BPDU with version 2, type 0x02, all eight flag bits in use and one more byte,
 * Version 1 Length, which is 0: 36 bytes.
 */

#define STP_ETH_HLEN	     14
#define STP_LLC_LEN	     3
#define STP_CONFIG_BPDU_LEN  35
#define STP_TCN_BPDU_LEN     4
#define STP_RST_BPDU_LEN     36
#define STP_LLC_SAP	     0x42
#define STP_LLC_UI	     0x03
#define STP_BPDU_TYPE_CONFIG 0x00
#define STP_BPDU_TYPE_TCN    0x80
#define STP_BPDU_TYPE_RST    0x02
#define STP_VERSION_STP	     0
#define STP_VERSION_RSTP     2
#define STP_FLAG_TC	     0x01
#define STP_FLAG_TCA	     0x80
/* The flags only an RST BPDU carries (802.1D-2004 9.3.3). */
#define STP_FLAG_PROPOSAL   0x02
#define STP_FLAG_ROLE_MASK  0x0c
#define STP_FLAG_ROLE_SHIFT 2
#define STP_FLAG_LEARNING   0x10
#define STP_FLAG_FORWARDING 0x20
#define STP_FLAG_AGREEMENT  0x40
/* Frames are padded to the 60-byte Ethernet minimum; the length field says what counts. */
#define STP_FRAME_MIN 60
#define STP_FRAME_MAX STP_FRAME_MIN

/* One BPDU time unit is 1/256 s, exactly 3906250 ns. */
#define STP_TICK_NS 3906250ULL

extern const uint8_t stp_group_address[6];

/* The Port Role an RST BPDU's flags carry (802.1D-2004 9.2.9). */
enum stp_rst_role {
	STP_RST_ROLE_UNKNOWN = 0,
	STP_RST_ROLE_ALTERNATE_BACKUP = 1,
	STP_RST_ROLE_ROOT = 2,
	STP_RST_ROLE_DESIGNATED = 3,
};

/* A configuration BPDU, or an RST BPDU: the same fields and more flags. */
struct stp_config_bpdu {
	bool topology_change;
	bool topology_change_ack;
	/* RST BPDUs only: a configuration BPDU decodes with these false / 0. */
	bool proposal;
	bool learning;
	bool forwarding;
	bool agreement;
	uint8_t port_role; /* enum stp_rst_role */
	uint64_t root_id;  /* priority << 48 | MAC */
	uint32_t root_path_cost;
	uint64_t bridge_id;
	uint16_t port_id;
	uint16_t message_age; /* 1/256 s */
	uint16_t max_age;
	uint16_t hello_time;
	uint16_t forward_delay;
};

struct stp_bpdu {
	uint8_t type; /* STP_BPDU_TYPE_CONFIG, _TCN or _RST */
	/*
	 * As received (the RSTP machines tell 802.1D BPDUs by it, 802.1D-2004
	 * 17.21.22). The encoder ignores it: configuration and TCN BPDUs go out
	 * with version 0, RST BPDUs with version 2.
	 */
	uint8_t version;
	struct stp_config_bpdu config; /* configuration and RST BPDUs */
};

/* Why a frame to the group address was not accepted as a BPDU. */
enum stp_bpdu_error {
	STP_BPDU_OK = 0,
	STP_BPDU_ERR_SHORT,	/* frame or length field too short for its type */
	STP_BPDU_ERR_NOT_GROUP, /* destination is not 01:80:c2:00:00:00 */
	STP_BPDU_ERR_NOT_8023,	/* EtherType instead of an 802.3 length */
	STP_BPDU_ERR_LENGTH,	/* 802.3 length beyond the frame */
	STP_BPDU_ERR_LLC,	/* not DSAP/SSAP 0x42, UI */
	STP_BPDU_ERR_PROTOCOL,	/* protocol identifier not 0 */
	STP_BPDU_ERR_VERSION,	/* RST BPDU type with a version below 2 */
	STP_BPDU_ERR_TYPE,	/* neither configuration, TCN nor RST */
	STP_BPDU_ERR_MAX
};

const char *stp_bpdu_error_name(enum stp_bpdu_error e);

/*
 * Parses a whole Ethernet frame; fills *bpdu and returns STP_BPDU_OK, or the reason it is not one.
 * What is a BPDU is 802.1D-2004 9.3.4: protocol identifier 0, then by type whatever the version
 * (a later version must stay readable by an older bridge): a configuration BPDU of at least 35
 * bytes, a TCN BPDU, or, with version 2 or above, an RST BPDU of at least 36 bytes (an MSTP BPDU,
 * version 3, is read as the RST BPDU it begins with). Bytes past those are ignored.
 * The times are reported as sent, whatever they are: judging them (8.10.2 ranges, message age
 * against max age) is the state machine's (stp_validate_config_times), and so is the 9.3.4 check
 * that needs the port (a configuration BPDU that is the port's own, looped back).
 */
enum stp_bpdu_error stp_bpdu_decode(const uint8_t *frame, size_t len, struct stp_bpdu *bpdu);

/*
 * Writes the frame for a configuration BPDU (or a TCN or RST BPDU) from src to
 * the group address into buf, which holds at least STP_FRAME_MAX bytes. Returns
 * the frame length (STP_FRAME_MIN: padded). A configuration BPDU carries only
 * the TC and TCA flags, an RST BPDU all eight (its sender leaves TCA 0: 802.1D-2004
 * 9.3.3; the encoder writes what it is given).
 */
size_t stp_bpdu_encode_config(uint8_t *buf, const uint8_t src[6], const struct stp_config_bpdu *c);
size_t stp_bpdu_encode_tcn(uint8_t *buf, const uint8_t src[6]);
size_t stp_bpdu_encode_rst(uint8_t *buf, const uint8_t src[6], const struct stp_config_bpdu *c);
size_t stp_bpdu_encode(uint8_t *buf, const uint8_t src[6], const struct stp_bpdu *bpdu);

/* 802.1D times: nanoseconds <-> 1/256 s units (rounded down, saturated at 0xffff). */
static inline uint16_t stp_ns_to_ticks(uint64_t ns)
{
	uint64_t t = ns / STP_TICK_NS;

	return t > 0xffff ? 0xffff : (uint16_t)t;
}

static inline uint64_t stp_ticks_to_ns(uint16_t ticks)
{
	return (uint64_t)ticks * STP_TICK_NS;
}

#endif
