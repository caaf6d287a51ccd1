/* SPDX-License-Identifier: MIT */
#ifndef VW_OFFLOAD_GSO_H
#define VW_OFFLOAD_GSO_H

/*
 * "TSO split": what a TUN with IFF_VNET_HDR and TUNSETOFFLOAD hands over (up to 64 KiB
 * of TCP or UDP behind one set of headers) cut into the packets a NIC would have sent,
 * each in its own buffer from the caller's pool with PKT_HEADROOM in front, ready for
 * WireGuard to encrypt in place. As the kernel's own segmentation does:
 *   IPv4: total length per segment, ID + segment index, header checksum recomputed.
 *   IPv6: payload length per segment (no extension headers: refused, counted).
 *   TCP (TCPV4/TCPV6): sequence number + payload offset; FIN and PSH kept on the last
 *       segment only, CWR on the first only; checksum computed in full (pseudo header,
 *       header, payload): the partial sum the kernel left in the field is not trusted.
 *   UDP (UDP_L4, i.e. UDP GSO): every segment a datagram with its own length and
 *       checksum (0 sent as 0xffff).
 * A packet without GSO but with NEEDS_CSUM gets its checksum completed in place: the
 * sum from csum_start to the end, which includes the pseudo-header sum the kernel left
 * in the field, is folded, inverted and stored at csum_start + csum_offset.
 *
 * Work stops when out fills or the pool runs dry; the cursor says which segment comes
 * next, so a second call with the same packet goes on where the first stopped: nothing
 * is lost and nothing is sent twice. Every check happens before the first segment, so a
 * packet is either refused whole (counted by reason) or segmented whole.
 *
 * Pure: no system calls, no clock, no globals; buffers come from the caller's pool.
 */

#include <stdint.h>

#include "core/pkt.h"
#include "offload/vnet_hdr.h"

enum gso_status {
	GSO_DONE, /* every segment is in out: the caller frees in */
	GSO_PASS, /* not GSO: in itself is the packet to send (checksum completed if partial) */
	GSO_MORE, /* out full or pool empty: call again with the same in, h and cursor */
	GSO_DROP, /* refused, counted in st->drops[*why]: in unchanged, nothing added */
};

/*
 * Splits the IP packet in holds (its vnet header already pulled into h). *cursor is 0
 * for a new packet and is advanced past each segment added to out; on GSO_DONE it is
 * reset to 0. Segments copy in->port and in->flags.
 */
enum gso_status gso_split(const struct vnet_hdr *h, struct pkt *in, uint32_t *cursor,
			  struct pkt_pool *pool, struct pkt_vec *out, struct offload_stats *st,
			  enum offload_drop *why);

/* The number of packets gso_split makes of a packet it accepts (1 for a non-GSO one). */
uint32_t gso_segments(const struct vnet_hdr *h, const struct vnet_layout *lay);

enum gso_batch_status {
	GSO_BATCH_DONE,	    /* in is empty */
	GSO_BATCH_OUT_FULL, /* out filled up: drain it and call again */
	GSO_BATCH_NOMEM,    /* the pool ran dry: free buffers (or drop in) and call again */
};

/*
 * The batch form for packets as read from the TUN: each packet of in starts with its
 * vnet header. Non-GSO packets move to out themselves (header pulled, checksum completed);
 * super-packets are split into out and freed; refused packets are freed and counted.
 * Processed packets leave the front of in; when the call stops early, in starts with the
 * packet in progress and *cursor (0 to begin) keeps its place for the next call.
 */
enum gso_batch_status gso_split_batch(struct pkt_vec *in, uint32_t *cursor, struct pkt_pool *pool,
				      struct pkt_vec *out, struct offload_stats *st);

/*
 * The same for Ethernet frames read from a TAP with IFF_VNET_HDR (csum_start and hdr_len
 * count from the frame's start). A super-frame's IP packet (behind 14 bytes of Ethernet,
 * or 18 with one 802.1Q tag) is split, and every segment carries a copy of the frame's
 * link header. When max_frame is not 0, TCP super-frames are cut finer than the sender's
 * gso_size where needed so that every segment frame is at most max_frame bytes: smaller
 * segments are valid TCP, and it lets a frame that crosses a wire fit the tunnel without
 * IP fragmentation. UDP_L4 datagrams are never re-cut (their boundaries are the sender's).
 * A max_frame too small for the headers and one payload byte is ignored (gso_size used).
 * GSO frames that carry no IPv4/IPv6 are refused (OFFLOAD_DROP_IP).
 */
enum gso_batch_status gso_split_frames_batch(struct pkt_vec *in, uint32_t *cursor,
					     struct pkt_pool *pool, struct pkt_vec *out,
					     struct offload_stats *st, uint32_t max_frame);

/* The NEEDS_CSUM completion alone, in place over pkt[0..len); false if the field is outside. */
bool gso_csum_complete(const struct vnet_hdr *h, uint8_t *pkt, uint32_t len);

#endif
