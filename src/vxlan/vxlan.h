/* SPDX-License-Identifier: MIT */
#ifndef VW_VXLAN_VXLAN_H
#define VW_VXLAN_VXLAN_H

/*
 * VXLAN (RFC 7348) over IPv4, as the Linux vxlan driver puts it on the wire, so a
 * kernel vxlan device can be the far end of a vwire wire:
 *
 *   IPv4 (20, no options): src = this host's tunnel address, dst = the wire's Remote,
 *        TTL 64 (the kernel's "ttl auto" = route hop limit), DF clear (the kernel's
 *        df unset; vwire keeps it clear whatever the inner DF so that 1500-byte frames
 *        cross a 1420-byte tunnel in fragments), TOS = the inner ECN bits (CE sent as
 *        ECT(0)), ID from a counter per destination.
 *   UDP (8): dst = the wire's port (4789), src = hash of the inner flow scaled into
 *        32768..60999 (the kernel's default local port range), checksum computed (the
 *        kernel's default "udpcsum" for IPv4 since 4.6) unless turned off (vwired turns it
 *        off unless [Bridge] UDPChecksum = yes: its VXLAN only travels inside WireGuard,
 *        whose AEAD covers every byte the checksum would, and RFC 7348 says it SHOULD be
 *        zero; any receiver, the kernel's vxlan included, takes zero over IPv4).
 *   VXLAN (8): flags 0x08 (I), 24-bit VNI.
 *
 * Pure: no system calls, no clock, no globals. Every packet the batch functions
 * drop is counted by reason in struct vx_stats.
 */

#include <stdbool.h>
#include <stdint.h>

#include "core/pkt.h"

#define VX_PORT_DEFAULT	 4789
#define VX_HLEN		 8
#define VX_IPV4_HLEN	 20
#define VX_UDP_HLEN	 8
#define VX_ENCAP_LEN	 (VX_IPV4_HLEN + VX_UDP_HLEN + VX_HLEN) /* 36 */
#define VX_TTL_DEFAULT	 64
#define VX_SPORT_MIN	 32768
#define VX_SPORT_MAX	 60999
#define VX_VNI_MAX	 0xffffffu
#define VX_ETH_HLEN	 14
#define VX_FLAG_I	 0x08
#define VX_WIRES_DEFAULT 64

/* Why a packet was dropped; the name is the counter's (vx_drop_name()). */
#define VX_DROP_REASONS(X)                                                                         \
	X(IP_HEADER, "ip_header")     /* short, not version 4, IHL < 5 or > data */                \
	X(IP_LENGTH, "ip_length")     /* total length shorter than the header or past the data */  \
	X(IP_CHECKSUM, "ip_checksum") /* wrong IPv4 header checksum */                             \
	X(UDP_LENGTH, "udp_length")   /* UDP header cut short, or length outside the IP payload */ \
	X(UDP_CHECKSUM, "udp_checksum") /* non-zero UDP checksum that does not verify */           \
	X(VXLAN_SHORT, "vxlan_short")	/* UDP payload shorter than the VXLAN header */            \
	X(VXLAN_FLAGS, "vxlan_flags")	/* I flag clear */                                         \
	X(UNKNOWN_WIRE, "unknown_wire") /* no wire with this source, port and VNI */               \
	X(FRAME_SHORT, "frame_short")	/* inner frame shorter than an Ethernet header */          \
	X(ECN, "ecn")			/* outer CE over a not-ECT inner packet (RFC 6040) */      \
	X(NO_HEADROOM, "no_headroom") /* encap: fewer than VX_ENCAP_LEN bytes before the frame */  \
	X(FRAME_LENGTH, "frame_length") /* encap: frame shorter than 14 or too long for IPv4 */    \
	X(BAD_WIRE, "bad_wire")		/* encap: wire index out of range */                       \
	X(VEC_FULL, "vec_full")		/* the output vector had no room */

#define VX_DROP_ENUM_(id, name) VX_DROP_##id,
enum vx_drop { VX_DROP_REASONS(VX_DROP_ENUM_) VX_DROP_MAX };
#undef VX_DROP_ENUM_

struct vx_stats {
	uint64_t drops[VX_DROP_MAX];
	uint64_t encap_packets;
	uint64_t decap_packets;
	uint64_t passed; /* not VXLAN for us: handed back untouched (routed traffic) */
};

struct vx_wire_stats {
	uint64_t rx_packets, rx_bytes; /* inner frames decapsulated */
	uint64_t tx_packets, tx_bytes; /* inner frames encapsulated */
};

/* One virtual wire: the far end's tunnel address, its UDP port and VNI. */
struct vx_wire {
	uint32_t vni;
	uint16_t port;
	uint8_t remote[4];
	uint32_t id_slot; /* the IPv4 ID counter shared by wires with the same Remote */
	struct vx_wire_stats stats;
};

struct vx_config {
	uint8_t local[4];   /* this host's IPv4 tunnel address: outer source, decap destination */
	uint8_t ttl;	    /* 0: VX_TTL_DEFAULT */
	bool no_udp_csum;   /* send a zero UDP checksum (`noudpcsum`); receive accepts both */
	uint16_t sport_min; /* source port range; both 0: VX_SPORT_MIN..VX_SPORT_MAX */
	uint16_t sport_max;
	uint32_t hash_seed; /* random per start: keys the source port hash and the first IDs */
	uint32_t max_wires; /* 0: VX_WIRES_DEFAULT */
};

struct vx {
	struct vx_config cfg;
	struct vx_wire *wires;
	uint16_t *ip_ids; /* next IPv4 ID, one per distinct Remote */
	uint32_t nwires;
	uint32_t nids;
	struct vx_stats stats;
};

/* Allocates the wire table once. False on a bad config (sport_min > sport_max) or ENOMEM. */
bool vx_init(struct vx *vx, const struct vx_config *cfg);
void vx_destroy(struct vx *vx);

/*
 * Adds a wire; returns its index (the `port` the decap path reports), or -1 when
 * the table is full, vni > VX_VNI_MAX, port is 0 or (remote, port, vni) is taken.
 */
int vx_wire_add(struct vx *vx, const uint8_t remote[4], uint16_t port, uint32_t vni);

/*
 * A wire table is rebuilt when wires come and go (a reload): a wire that stays takes its
 * counters and its Remote's IPv4 ID counter from the old table, so IDs the far end may
 * still be reassembling are not used again at once. 0, or -1 for an index out of range.
 */
int vx_wire_carry(struct vx *to, uint32_t to_wire, const struct vx *from, uint32_t from_wire);

/* Index of the wire for (remote, port, vni), or -1. */
int vx_wire_lookup(const struct vx *vx, const uint8_t remote[4], uint16_t port, uint32_t vni);

/* The UDP source port for a frame: its flow hashed into the configured range. */
uint16_t vx_flow_sport(const struct vx *vx, const uint8_t *frame, uint32_t len);

/*
 * Encapsulates the Ethernet frame p holds for wire `wire`, in place: p then holds
 * the outer IPv4 packet. Returns -1 and sets *why (p unchanged) on failure.
 */
int vx_encap(struct vx *vx, uint32_t wire, struct pkt *p, enum vx_drop *why);

enum vx_verdict {
	VX_DECAP_OK,   /* p holds the inner Ethernet frame, p->port = wire index */
	VX_DECAP_PASS, /* not VXLAN addressed to us (or a fragment): p untouched */
	VX_DECAP_DROP, /* *why says why; p untouched */
};

/*
 * Whether reassembly should take p: an IPv4 fragment of a UDP datagram from a wire's
 * Remote to our tunnel address, the only fragments that can be a wire's VXLAN. Every
 * other fragment is routed traffic that crosses the tunnel as it came (the host it is
 * for reassembles it), and must not take the wires' reassembly slots.
 */
bool vx_fragment_for_wires(const struct vx *vx, const struct pkt *p);

/* Decapsulates the (whole, reassembled) IPv4 packet p holds, in place (pkt_pull). */
enum vx_verdict vx_decap(struct vx *vx, struct pkt *p, enum vx_drop *why);

/*
 * Batch forms. Every packet of `in` goes somewhere and `in` ends empty: encap moves
 * packets to `out` (wire index taken from p->port), decap moves frames to `frames`
 * and non-VXLAN packets to `pass`; dropped packets are freed and counted.
 */
void vx_encap_batch(struct vx *vx, struct pkt_vec *in, struct pkt_vec *out);
void vx_decap_batch(struct vx *vx, struct pkt_vec *in, struct pkt_vec *frames,
		    struct pkt_vec *pass);

/* "ip_header", ...; NULL past VX_DROP_MAX. */
const char *vx_drop_name(enum vx_drop why);

#endif
