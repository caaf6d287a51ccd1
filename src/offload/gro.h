/* SPDX-License-Identifier: MIT */
#ifndef VW_OFFLOAD_GRO_H
#define VW_OFFLOAD_GRO_H

/*
 * "GRO coalesce": prepares a batch of decrypted IP packets for a TUN opened with
 * IFF_VNET_HDR. Every packet that comes out starts with a vnet header (VNET_HDR_LEN
 * bytes) and is one TUN write. Runs of TCP segments of one flow (and with GRO_UDP, below,
 * UDP datagrams) become one super-packet in a buffer from the caller's pool of big
 * buffers; everything else passes through unchanged behind a zero header (GSO_NONE, no
 * flags: the kernel checks it as usual).
 *
 * A segment joins the flow's open super-packet only when all of this holds (a subset of
 * the kernel's tcp_gro_receive rules, kept conservative):
 *   - IPv4 without options or fragmentation, or IPv6 with TCP as the next header; the
 *     IP length fields match the packet; addresses and ports equal;
 *   - IPv4 TOS, TTL and flags equal; the ID the next one (ID + 1 per segment) unless DF
 *     is set, where the ID carries no meaning (RFC 6864) and the kernel renumbers; IPv6
 *     traffic class, flow label and hop limit equal;
 *   - TCP flags ACK (ECE allowed when the first has it too), PSH only on the last;
 *     sequence number right after the previous segment; same acknowledgement, window,
 *     urgent pointer and header length; options only NOP and timestamps, byte-identical;
 *   - payload not empty and no larger than the first segment's (the gso_size); a shorter
 *     or a PSH segment ends the super-packet; the result stays within 65535 bytes and the
 *     big buffer;
 *   - the IPv4 header checksum and the TCP checksum of every merged segment verify (unless
 *     GRO_TRUSTED, below). A segment that fails is not merged: it passes through
 *     unchanged, for the kernel to drop and count.
 * Any other packet of the flow (a pure ACK, FIN, ...) ends the open super-packet, so a
 * flow's packets keep their order; different flows may interleave and are grouped apart.
 * The output keeps the order of each group's first packet.
 *
 * A super-packet carries the first segment's headers with the lengths rewritten, PSH
 * from the last segment, a fresh IPv4 header checksum, and the TCP checksum field set
 * to the folded pseudo-header sum over the whole TCP length (as CHECKSUM_PARTIAL); its
 * vnet header is NEEDS_CSUM, csum_start = IP header length, csum_offset = 16, gso_type
 * TCPV4 or TCPV6, gso_size = first segment's payload, hdr_len = IP + TCP header. That is
 * what the kernel's virtio_net_hdr_to_skb takes for TCP GSO (it refuses any other
 * csum_offset and, for DODGY packets, re-checks the headers); DATA_VALID is not used.
 *
 * Pure: no system calls, no clock, no globals, no allocation (big buffers come from the
 * caller's pool; work space is on the stack, bounded by PKT_VEC_MAX).
 */

#include "core/pkt.h"
#include "offload/vnet_hdr.h"

enum gro_flags {
	GRO_IP = 0, /* v holds IP packets for a TUN; only TCP merges */
	/*
	 * v holds Ethernet frames for a TAP opened with IFF_VNET_HDR. Frames of one TCP flow
	 * merge only when their Ethernet headers (and 802.1Q tag) are identical; the
	 * super-frame carries the first one's, and its vnet header's csum_start and hdr_len
	 * count from the frame's first byte, as the kernel's tap expects. Frames without IP
	 * pass through.
	 */
	GRO_FRAMES = 1,
	/*
	 * UDP too, for a device that took TUN_F_USO4/6: datagrams of one flow (addresses,
	 * ports, and the IP fields above) with the same payload size, a shorter last one
	 * allowed, become one UDP_L4 super-packet: UDP length = the whole L4 length, checksum
	 * field = folded pseudo-header sum for it, csum_offset 6, gso_size = the datagrams'
	 * payload. The kernel cuts it back into the same datagrams. Each merged datagram's
	 * checksum verifies (a zero one over IPv4 means none); IPv6 ones with 0 never merge.
	 */
	GRO_UDP = 2,
	/*
	 * The packets were authenticated end to end on their way here (WireGuard's AEAD): their
	 * IPv4 header and L4 checksums are taken as good, not verified, as the kernel's
	 * WireGuard takes decrypted packets (CHECKSUM_UNNECESSARY). Reading every byte once
	 * more cost the receiver about as much as the copy into the super-packet. A wrong
	 * checksum can then only be the authenticated sender's own, and a merged segment's is
	 * replaced by the super-packet's; unmerged packets still reach the kernel as they are.
	 */
	GRO_TRUSTED = 4,
	/*
	 * A super-packet is not copied together: its first segment, headers rewritten and the
	 * vnet header in front, holds the others (their headers pulled off) as frags
	 * (core/pkt.h), for a device write that gathers them (io_tun_write does). Saves a copy
	 * of every merged byte. A group whose first buffer has no room for the write's iovecs is
	 * copied as without the flag.
	 */
	GRO_CHAIN = 8,
};

/*
 * Rewrites v in place (v->n can only shrink); flags are GRO_IP or GRO_FRAMES, with GRO_UDP,
 * GRO_TRUSTED and GRO_CHAIN or not. Merged segments are copied into a buffer from big (PKT_HEADROOM
 * + up to 65535 bytes is enough; smaller buffers limit the super-packet) and freed; when big is
 * NULL nothing merges, and when it is empty a group passes through unmerged (st->gro_nomem). A
 * packet without VNET_HDR_LEN bytes of headroom is freed and counted
 * (OFFLOAD_DROP_HEADROOM).
 */
void gro_coalesce(struct pkt_vec *v, struct pkt_pool *big, struct offload_stats *st,
		  unsigned flags);

#endif
