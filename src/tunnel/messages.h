/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_MESSAGES_H
#define VW_TUNNEL_MESSAGES_H

/*
 * WireGuard's wire formats and protocol constants (whitepaper sections 5.4 and
 * 6). Messages are read and written at fixed byte offsets with byteorder.h, never
 * through a struct laid over the packet: armel cannot load unaligned words.
 * Every multi-byte field is little-endian.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/byteorder.h"

#define WG_KEY_SIZE	     32
#define WG_HASH_SIZE	     32
#define WG_TIMESTAMP_SIZE    12
#define WG_AEAD_TAG_SIZE     16
#define WG_COOKIE_SIZE	     16
#define WG_COOKIE_NONCE_SIZE 24
#define WG_MAC_LEN	     16
#define WG_PADDING_MULTIPLE  16

/* Message types: the first four bytes, type then three zero bytes, read as one le32. */
enum wg_message_type {
	WG_MSG_BAD_SIZE = -2, /* a known type with the wrong length */
	WG_MSG_BAD_TYPE = -1, /* shorter than a header, or not one of the four types */
	WG_MSG_HANDSHAKE_INITIATION = 1,
	WG_MSG_HANDSHAKE_RESPONSE = 2,
	WG_MSG_HANDSHAKE_COOKIE = 3,
	WG_MSG_DATA = 4,
};

/* Handshake initiation: type, sender, ephemeral, static (AEAD), timestamp (AEAD), mac1, mac2. */
#define WG_INIT_OFF_SENDER    4
#define WG_INIT_OFF_EPHEMERAL 8
#define WG_INIT_OFF_STATIC    40 /* 32 + 16 bytes */
#define WG_INIT_OFF_TIMESTAMP 88 /* 12 + 16 bytes */
#define WG_INIT_OFF_MAC1      116
#define WG_INIT_OFF_MAC2      132
#define WG_INIT_SIZE	      148

/* Handshake response: type, sender, receiver, ephemeral, empty (AEAD of nothing), mac1, mac2. */
#define WG_RESP_OFF_SENDER    4
#define WG_RESP_OFF_RECEIVER  8
#define WG_RESP_OFF_EPHEMERAL 12
#define WG_RESP_OFF_EMPTY     44 /* 0 + 16 bytes */
#define WG_RESP_OFF_MAC1      60
#define WG_RESP_OFF_MAC2      76
#define WG_RESP_SIZE	      92

/* Cookie reply: type, receiver, nonce, cookie (XAEAD). */
#define WG_COOKIE_OFF_RECEIVER 4
#define WG_COOKIE_OFF_NONCE    8
#define WG_COOKIE_OFF_COOKIE   32 /* 16 + 16 bytes */
#define WG_COOKIE_REPLY_SIZE   64

/* Transport data: type, receiver, counter, then the encrypted packet and its tag. */
#define WG_DATA_OFF_RECEIVER 4
#define WG_DATA_OFF_COUNTER  8
#define WG_DATA_HEADER_SIZE  16
#define WG_DATA_MIN_SIZE     (WG_DATA_HEADER_SIZE + WG_AEAD_TAG_SIZE)

/* mac1 and mac2 close both handshake messages. */
#define WG_MACS_SIZE (2 * WG_MAC_LEN)

/* Section 6.1. Times in nanoseconds of the monotonic clock the caller passes in. */
#define WG_NS_PER_SEC		 1000000000ULL
#define WG_REKEY_AFTER_MESSAGES	 (1ULL << 60)
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13)) /* 2^64 - 2^13 - 1 */
#define WG_REKEY_AFTER_TIME	 (120 * WG_NS_PER_SEC)
#define WG_REJECT_AFTER_TIME	 (180 * WG_NS_PER_SEC)
#define WG_REKEY_ATTEMPT_TIME	 (90 * WG_NS_PER_SEC)
#define WG_REKEY_TIMEOUT	 (5 * WG_NS_PER_SEC)
#define WG_KEEPALIVE_TIMEOUT	 (10 * WG_NS_PER_SEC)
/* The kernel's jitter: up to a third of a second added to handshake retries. */
#define WG_REKEY_TIMEOUT_JITTER_MAX (WG_NS_PER_SEC / 3)
/* Retries before giving up: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT, as the kernel counts them. */
#define WG_MAX_TIMER_HANDSHAKES (WG_REKEY_ATTEMPT_TIME / WG_REKEY_TIMEOUT)
/* Initiations consumed per peer per second at most (kernel and wireguard-go). */
#define WG_INITIATIONS_PER_SECOND 50
#define WG_MAX_STAGED_PACKETS	  128
#define WG_COOKIE_SECRET_MAX_AGE  (120 * WG_NS_PER_SEC)
#define WG_COOKIE_SECRET_LATENCY  (5 * WG_NS_PER_SEC)
/* Handshake traffic counts as "under load" for this long after the caller last said so. */
#define WG_UNDER_LOAD_AFTER_TIME (1 * WG_NS_PER_SEC)

/*
 * What a UDP payload is, from its header and exact length alone (nothing else
 * is read): one of the four types, WG_MSG_BAD_TYPE or WG_MSG_BAD_SIZE. Data
 * messages need at least a header and a tag; handshake messages their exact size.
 */
enum wg_message_type wg_message_classify(const uint8_t *msg, size_t len);

/* The one le32 word the four types are compared against (type byte + 3 zero bytes). */
static inline void wg_message_put_type(uint8_t *msg, enum wg_message_type type)
{
	put_le32(msg, (uint32_t)type);
}

static inline uint32_t wg_message_get_index(const uint8_t *msg, size_t off)
{
	return get_le32(msg + off);
}

/* The encrypted payload length for a plaintext of plain_len bytes (tag included). */
static inline size_t wg_noise_encrypted_len(size_t plain_len)
{
	return plain_len + WG_AEAD_TAG_SIZE;
}

/* Data message length for a padded plaintext of plain_len bytes. */
static inline size_t wg_message_data_len(size_t plain_len)
{
	return WG_DATA_HEADER_SIZE + wg_noise_encrypted_len(plain_len);
}

/*
 * Padding of a plaintext of len bytes to a multiple of 16, never past mtu when
 * mtu is set (0: no limit). A packet longer than mtu pads its last mtu-sized unit.
 */
size_t wg_message_padding(size_t len, uint32_t mtu);

#endif
