/* SPDX-License-Identifier: MIT */
#ifndef VW_VXLAN_IPFRAG_H
#define VW_VXLAN_IPFRAG_H

/*
 * IPv4 fragmentation (RFC 791) of outer VXLAN packets to the tunnel MTU, and
 * reassembly of what the far end fragmented.
 *
 * Reassembly keys datagrams by (source, destination, protocol, ID). It copies each
 * fragment's data into memory reserved at init and frees the fragment at once, so a
 * flood of fragments cannot pin the caller's packet pool; the fragment that completes
 * a datagram carries it out. Bounds: a fixed number of datagram slots derived from
 * mem_max, at most mem_per_src worth of them per source; when a new datagram finds no
 * room, the oldest one (of that source when it is over its share, else overall) is
 * evicted. A datagram not complete 30 s after its first fragment is dropped. Any
 * overlap drops the whole datagram (as Linux since 4.19 and RFC 5722 for IPv6); an exact
 * duplicate (same offset, length and bytes) is dropped alone and changes nothing; so
 * is a datagram over 65535 bytes or over max_datagram.
 *
 * Pure: no system calls, no clock (now_ns comes in), no globals, no malloc after init.
 */

#include <stdbool.h>
#include <stdint.h>

#include "core/pkt.h"

#define IPFRAG_MTU_DEFAULT	   1420
#define IPFRAG_TIMEOUT_NS_DEFAULT  (30ull * 1000000000ull)
#define IPFRAG_MEM_MAX_DEFAULT	   (4u << 20)
#define IPFRAG_MEM_PER_SRC_DEFAULT (256u << 10)
/* The largest datagram a default pkt buffer takes with its headroom and tailroom kept. */
#define IPFRAG_DATAGRAM_DEFAULT (PKT_DEFAULT_SIZE - PKT_HEADROOM - PKT_TAILROOM)
#define IPFRAG_IPV4_MAX		65535u

/*
 * Why a packet was dropped; the name is the counter's (ipfrag_drop_name()). Up to NOMEM
 * each counts one packet (fragment or whole packet); from OVERSIZE on, one datagram given
 * up (its held fragments are gone with it).
 */
#define IPFRAG_DROP_REASONS(X)                                                                    \
	X(MALFORMED, "malformed")     /* fragment with a bad IPv4 header length or checksum */    \
	X(FRAG_LENGTH, "frag_length") /* empty fragment, or a non-last one not a multiple of 8 */ \
	X(DUPLICATE, "duplicate")     /* exact copy of a fragment already held: harmless */       \
	X(DF, "df_set")		      /* fragmentation: over the MTU with DF set */               \
	X(MTU, "mtu")		      /* fragmentation: MTU leaves no room for 8 bytes of data */ \
	X(NOMEM, "nomem")	      /* fragmentation: packet pool empty */                      \
	X(OVERSIZE, "oversize")	      /* would exceed 65535 bytes */                              \
	X(TOO_BIG, "too_big")	      /* would exceed max_datagram / the packet buffer */         \
	X(OVERLAP, "overlap")	      /* fragments overlap */                                     \
	X(INCONSISTENT, "inconsistent") /* two ends, data past the end, or a changed duplicate */ \
	X(TIMEOUT, "timeout")		/* not complete within timeout_ns */                      \
	X(EVICT_SOURCE, "evict_source") /* evicted: its source held its whole share */            \
	X(EVICT_FULL, "evict_full")	/* evicted: all slots in use */

#define IPFRAG_DROP_ENUM_(id, name) IPFRAG_DROP_##id,
enum ipfrag_drop { IPFRAG_DROP_REASONS(IPFRAG_DROP_ENUM_) IPFRAG_DROP_MAX };
#undef IPFRAG_DROP_ENUM_

struct ipfrag_stats {
	uint64_t drops[IPFRAG_DROP_MAX];
	uint64_t fragmented;	/* packets split */
	uint64_t fragments_out; /* fragments those made */
	uint64_t fragments_in;	/* fragments taken into reassembly */
	uint64_t reassembled;	/* datagrams completed */
	uint64_t passed;	/* packets either direction handed on unchanged */
};

struct ipfrag_config {
	uint32_t mtu;	       /* 0: IPFRAG_MTU_DEFAULT */
	uint64_t timeout_ns;   /* 0: IPFRAG_TIMEOUT_NS_DEFAULT */
	uint32_t mem_max;      /* 0: IPFRAG_MEM_MAX_DEFAULT; everything reassembly allocates */
	uint32_t mem_per_src;  /* 0: IPFRAG_MEM_PER_SRC_DEFAULT */
	uint32_t max_datagram; /* 0: IPFRAG_DATAGRAM_DEFAULT; header included, <= 65535 */
	uint32_t hash_seed;    /* random per start: keys the table against chosen collisions */
};

struct ipfrag_slot;
struct ipfrag_src;

struct ipfrag {
	struct ipfrag_config cfg;
	struct ipfrag_stats stats;
	struct ipfrag_slot *slots;
	struct ipfrag_src *srcs;
	int32_t *buckets;     /* datagram hash chains */
	int32_t *src_buckets; /* source hash chains */
	uint8_t *arena;	      /* data buffers and coverage bitmaps of every slot */
	uint32_t nslots, nbuckets, used;
	uint32_t src_cap; /* slots per source */
	uint32_t slot_charge;
	uint32_t bitmap_words;
	uint32_t data_cap;
	int32_t free_slot, free_src;
	int32_t oldest, newest; /* every used slot in order of creation */
	uint64_t reserved;	/* bytes allocated at init */
};

/* Reserves all reassembly memory. False on a bad config or ENOMEM. */
bool ipfrag_init(struct ipfrag *f, const struct ipfrag_config *cfg);
void ipfrag_destroy(struct ipfrag *f);

/*
 * Fragments the IPv4 packet p to cfg.mtu: p becomes the first fragment (as much as
 * fits), the others come from pool. Appends them to out and returns how many; a
 * packet that fits goes to out as it is (returns 1). Returns 0 when p was dropped
 * (freed and counted), -1 when out has no room for all the fragments (p untouched,
 * nothing counted: flush out and call again).
 */
int ipfrag_fragment(struct ipfrag *f, struct pkt *p, struct pkt_pool *pool, struct pkt_vec *out);

/*
 * Fragments in->p[0..] into out until out is full; packets left over stay in `in`
 * (moved to its front). Returns how many input packets were consumed.
 */
uint32_t ipfrag_fragment_batch(struct ipfrag *f, struct pkt_vec *in, struct pkt_pool *pool,
			       struct pkt_vec *out);

/*
 * Feeds one packet to reassembly. Returns p when it is not a fragment (untouched)
 * or completes a datagram (p then holds the whole datagram, its port and flags
 * kept); NULL when p was held or dropped (freed, counted).
 */
struct pkt *ipfrag_reassemble(struct ipfrag *f, struct pkt *p, uint64_t now_ns);

/* Reassembles every packet of in into out; in ends empty. */
void ipfrag_reassemble_batch(struct ipfrag *f, struct pkt_vec *in, struct pkt_vec *out,
			     uint64_t now_ns);

/* Drops datagrams older than the timeout (reassembly also does this on its own). */
void ipfrag_expire(struct ipfrag *f, uint64_t now_ns);

/* Reassembly memory in use (slots held, each charged in full) and the number of datagrams. */
uint64_t ipfrag_mem_used(const struct ipfrag *f);
uint32_t ipfrag_pending(const struct ipfrag *f);

/* "malformed", ...; NULL past IPFRAG_DROP_MAX. */
const char *ipfrag_drop_name(enum ipfrag_drop why);

#endif
