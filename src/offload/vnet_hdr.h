/* SPDX-License-Identifier: MIT */
#ifndef VW_OFFLOAD_VNET_HDR_H
#define VW_OFFLOAD_VNET_HDR_H

/*
 * The struct virtio_net_hdr a TUN/TAP opened with IFF_VNET_HDR puts in front of
 * every packet it reads and expects in front of every packet written to it:
 *
 *   0 flags       NEEDS_CSUM: the L4 checksum is partial; DATA_VALID: it was checked
 *   1 gso_type    NONE, TCPV4, TCPV6, UDP_L4 (| ECN: the TCP super-packet carries CWR)
 *   2 hdr_len     a hint of how much is headers (the kernel may put more: never trusted)
 *   4 gso_size    payload bytes per segment
 *   6 csum_start  where checksumming starts (the L4 header)
 *   8 csum_offset where, from csum_start, the checksum goes (TCP 16, UDP 6)
 *
 * Byte order: the kernel's tun uses little endian when TUNSETVNETLE was set, else the
 * host's order (big endian only with TUNSETVNETBE). vwire always encodes and decodes
 * little endian, byte by byte; the io layer sets TUNSETVNETLE (a no-op on little-endian
 * hosts such as x86 and armel, required on big-endian ones, where offloads must stay off
 * if the ioctl fails). The header is the legacy 10 bytes (no TUNSETVNETHDRSZ).
 *
 * Pure: no system calls, no clock, no globals, no allocation.
 */

#include <stdbool.h>
#include <stdint.h>

#include "core/pkt.h"

#define VNET_HDR_LEN 10

#define VNET_HDR_F_NEEDS_CSUM 0x01
#define VNET_HDR_F_DATA_VALID 0x02

#define VNET_HDR_GSO_NONE   0
#define VNET_HDR_GSO_TCPV4  1
#define VNET_HDR_GSO_UDP    3 /* UFO: never requested (no TUN_F_UFO), refused */
#define VNET_HDR_GSO_TCPV6  4
#define VNET_HDR_GSO_UDP_L4 5
#define VNET_HDR_GSO_ECN    0x80

/* The largest IP packet a super-packet may be: a 16-bit IPv4 total length. */
#define OFFLOAD_MAX_PACKET 65535u

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* Why a packet was dropped (split) or not merged (coalesce); the name is the counter's. */
#define OFFLOAD_DROP_REASONS(X)                                                                    \
	X(SHORT, "vnet_short")	     /* fewer than VNET_HDR_LEN bytes before the packet */         \
	X(FLAGS, "vnet_flags")	     /* unknown vnet flag bits */                                  \
	X(GSO_TYPE, "vnet_gso_type") /* unknown gso_type, UFO, ECN on UDP, or type/IP mismatch */  \
	X(GSO_SIZE, "vnet_gso_size") /* gso_size 0 for a GSO packet */                             \
	X(HDR_LEN, "vnet_hdr_len")   /* hdr_len past the packet */                                 \
	X(CSUM, "vnet_csum")	    /* csum_start/offset outside the packet or not the L4 field */ \
	X(IP, "gso_ip_header")	    /* IP header short/bad version/IHL/length, fragment, not L4 */ \
	X(IP_EXT, "gso_ipv6_ext")   /* IPv6 extension headers in a GSO packet (not supported) */   \
	X(L4, "gso_l4_header")	    /* TCP/UDP header short or data offset bad */                  \
	X(TOO_LONG, "gso_too_long") /* over OFFLOAD_MAX_PACKET */                                  \
	X(SEG_SIZE, "gso_seg_size") /* a segment does not fit the segment pool's buffers */        \
	X(HEADROOM, "gro_headroom") /* coalesce: no room to prepend the vnet header */

#define OFFLOAD_DROP_ENUM_(id, name) OFFLOAD_DROP_##id,
enum offload_drop { OFFLOAD_DROP_REASONS(OFFLOAD_DROP_ENUM_) OFFLOAD_DROP_MAX };
#undef OFFLOAD_DROP_ENUM_

/* Only uint64_t counters: offload_stats_add sums them word by word. */
struct offload_stats {
	uint64_t drops[OFFLOAD_DROP_MAX];
	uint64_t split_in;	 /* GSO super-packets split */
	uint64_t split_segs;	 /* segments they made */
	uint64_t csum_completed; /* partial checksums completed on non-GSO packets */
	uint64_t split_stalls;	 /* split stopped early: out full or pool empty (resumed) */
	uint64_t gro_in;	 /* packets given to coalesce */
	uint64_t gro_out;	 /* packets it handed out (super-packets count once) */
	uint64_t gro_super;	 /* super-packets built */
	uint64_t gro_merged;	 /* segments that went into them */
	uint64_t gro_super_udp;	 /* of the super-packets, UDP_L4 ones (GRO_UDP) */
	uint64_t gro_chained;	 /* of the super-packets, chains written as they were (GRO_CHAIN) */
	uint64_t gro_bad_csum;	 /* candidates with a bad checksum: passed through unmerged */
	uint64_t gro_nomem;	 /* big buffer pool empty: a group passed through unmerged */
};

/* Where the headers of a checked packet are. */
struct vnet_layout {
	uint8_t ip_version; /* 4 or 6; 0 for a non-GSO packet (not parsed) */
	uint8_t l4_proto;   /* IPPROTO_TCP or IPPROTO_UDP for GSO packets */
	uint16_t l3_len;    /* IP header bytes */
	uint16_t l4_len;    /* TCP (with options) or UDP header bytes */
	uint16_t hdrs_len;  /* l3_len + l4_len: the headers every segment repeats */
	uint32_t payload;   /* bytes after the headers */
};

/* Adds one set of counters to another (a worker's, kept outside a lock, to the shared ones). */
void offload_stats_add(struct offload_stats *to, const struct offload_stats *from);

void vnet_hdr_decode(const uint8_t *buf, struct vnet_hdr *h);
void vnet_hdr_encode(uint8_t *buf, const struct vnet_hdr *h);

/* Reads and strips the header in front of p's data; false (p unchanged) when p is short. */
bool vnet_hdr_pull(struct pkt *p, struct vnet_hdr *h);
/* Prepends the encoded header; false (p unchanged) when the headroom is short. */
bool vnet_hdr_push(struct pkt *p, const struct vnet_hdr *h);

/*
 * Checks h against the IP packet pkt[0..len) it came with. For GSO it parses the IP and
 * L4 headers into *lay (hdr_len is only checked to lie inside the packet: the headers'
 * real length comes from the IP and TCP headers). For NEEDS_CSUM it checks that the
 * field lies inside the packet (and, for GSO, is the TCP or UDP checksum). Returns false
 * with *why on the first problem.
 */
bool vnet_hdr_check(const struct vnet_hdr *h, const uint8_t *pkt, uint32_t len,
		    struct vnet_layout *lay, enum offload_drop *why);

/* "vnet_short", ...; NULL past OFFLOAD_DROP_MAX. */
const char *offload_drop_name(enum offload_drop why);

/*
 * Where the IP header of an Ethernet frame starts: 14, or 18 behind one 802.1Q tag;
 * 0 when the frame is too short, carries neither IPv4 nor IPv6, or its IP version is
 * not the one the ethertype names.
 */
uint32_t offload_eth_l3_offset(const uint8_t *frame, uint32_t len);

#endif
