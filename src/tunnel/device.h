/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_DEVICE_H
#define VW_TUNNEL_DEVICE_H

/*
 * A WireGuard device without sockets or clocks: the daemon hands it packets
 * and the time, and gets back packets to send and the time of the next timer.
 *
 * Time. Every entry point takes now_ns, a monotonic clock in nanoseconds that
 * never goes backwards (the daemon's clock_now(); tests pass a virtual one).
 * TAI64N timestamps need wall time: wall = now_ns + dev->wall_offset_ns, an
 * offset the daemon sets (and may refresh when the wall clock steps).
 *
 * Randomness comes from dev->random(dev->random_ctx, buf, len), crypto_random
 * unless the config names another (tests use a seeded generator).
 *
 * Packet ownership. Packets handed in are the device's once consumed: each is
 * either put in an output vector (encrypted or decrypted in place, same
 * buffer), kept in a peer's staged queue, or freed and counted as a drop.
 * Packets the device creates (handshake messages, keepalives) come from
 * config.pool; when it is empty they are not sent and a drop is counted.
 *
 * Full outputs. wg_device_send and wg_device_receive consume their input from
 * the front only while every output vector has a free slot, so one input never
 * needs more than one slot. On return `in` holds the packets not consumed,
 * still the caller's and in order; the return value is how many were consumed.
 * The caller sends its outputs and calls again with the rest. Work that is not
 * tied to one slot (flushing a peer's staged packets, a handshake initiation,
 * a keepalive) is queued on the peer and done at the end of each call while
 * there is room; what does not fit waits, and wg_device_next_timer() returns
 * 0 until wg_device_expire_timers() has done it. Nothing is dropped for lack
 * of output room.
 *
 * Output packets for UDP have p->dst set (the peer's endpoint or, for cookie
 * replies, the sender) and p->port = peer id (0 for cookie replies); inner IP
 * packets have data at the IP header and p->port = the peer's id.
 *
 * Typical loop (later NULL: the AEAD runs inside each call; see struct wg_aead_later):
 *   rx: wg_device_receive(dev, &udp_in, now, queue_is_long, NULL, &udp_out, &ip_out);
 *       send udp_out, write ip_out, repeat while udp_in.n
 *   tx: wg_device_send(dev, &ip_in, now, NULL, &udp_out); send udp_out, repeat while ip_in.n
 *   timers: when now >= wg_device_next_timer(dev):
 *       wg_device_expire_timers(dev, now, NULL, &udp_out)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowedips.h"
#include "cookie.h"
#include "core/addr.h"
#include "core/pkt.h"
#include "crypto/aead.h"
#include "handshake_queue.h"
#include "index.h"
#include "noise.h"
#include "peer.h"
#include "ratelimiter.h"

/* Why a packet was dropped; the device counts each, peers count theirs as rx/tx_dropped. */
#define WG_DROP_REASONS(X)                                                                         \
	X(RX_BAD_TYPE, "rx_bad_type")	    /* not one of the four message types */                \
	X(RX_BAD_SIZE, "rx_bad_size")	    /* wrong length for its type */                        \
	X(RX_BAD_MAC1, "rx_bad_mac1")	    /* handshake without our mac1 */                       \
	X(RX_COOKIE_SENT, "rx_cookie_sent") /* under load, no mac2: cookie reply instead */        \
	X(RX_COOKIE_RATELIMITED, "rx_cookie_ratelimited") /* ... but the source had its cookies */ \
	X(RX_RATELIMITED, "rx_ratelimited")		  /* handshake over the source's rate */   \
	X(RX_HANDSHAKE_QUEUE_FULL, "rx_handshake_queue_full") /* handshake queue had no room */    \
	X(RX_NO_IDENTITY, "rx_no_identity")   /* handshake while no private key is set */          \
	X(RX_HANDSHAKE_DH, "rx_handshake_dh") /* low-order key in a handshake */                   \
	X(RX_HANDSHAKE_DECRYPT, "rx_handshake_decrypt") /* handshake AEAD did not verify */        \
	X(RX_UNKNOWN_PEER, "rx_unknown_peer") /* initiation from a key that is no peer */          \
	X(RX_INITIATION_REPLAY, "rx_initiation_replay") /* TAI64N not newer than the last */       \
	X(RX_INITIATION_FLOOD, "rx_initiation_flood")	/* initiations faster than 50/s */         \
	X(RX_UNKNOWN_INDEX, "rx_unknown_index")		/* receiver index names no session */      \
	X(RX_HANDSHAKE_STATE, "rx_handshake_state")	/* response to no initiation of ours */    \
	X(RX_BAD_COOKIE, "rx_bad_cookie")		/* cookie reply did not decrypt */         \
	X(RX_KEY_EXPIRED, "rx_key_expired")		/* keypair past REJECT_AFTER_TIME */       \
	X(RX_BAD_TAG, "rx_bad_tag")			/* data AEAD did not verify */             \
	X(RX_REPLAY, "rx_replay")			/* counter seen or outside the window */   \
	X(RX_INVALID_IP, "rx_invalid_ip")     /* inner packet not IPv4/IPv6 or bad length */       \
	X(RX_WRONG_SOURCE, "rx_wrong_source") /* inner source not in the peer's allowed IPs */     \
	X(TX_INVALID_IP, "tx_invalid_ip")     /* outgoing packet not IPv4/IPv6 */                  \
	X(TX_NO_ROUTE, "tx_no_route")	      /* no peer's allowed IPs hold the destination */     \
	X(TX_NO_ENDPOINT, "tx_no_endpoint")   /* peer has no endpoint yet */                       \
	X(TX_NO_ROOM, "tx_no_room")	      /* buffer without head/tailroom for WireGuard */     \
	X(TX_STAGED_OVERFLOW, "tx_staged_overflow")	/* oldest staged packet pushed out */      \
	X(TX_STAGED_EVICTED, "tx_staged_evicted")	/* all peers' staging budget spent */      \
	X(TX_HANDSHAKE_GAVE_UP, "tx_handshake_gave_up") /* staged packets of a failed handshake */ \
	X(PEER_REMOVED, "peer_removed")			/* staged packets of a removed peer */     \
	X(NO_BUFFER, "no_buffer") /* pool empty for a handshake or keepalive */

#define WG_DROP_ENUM_(id, name) WG_DROP_##id,
enum wg_drop_reason { WG_DROP_REASONS(WG_DROP_ENUM_) WG_DROP_MAX };
#undef WG_DROP_ENUM_

/* "rx_bad_mac1", ...; NULL past WG_DROP_MAX. */
const char *wg_drop_name(enum wg_drop_reason reason);

struct wg_device_config {
	struct pkt_pool *pool;	      /* buffers for handshake messages and keepalives */
	uint32_t max_peers;	      /* 0: 1024 */
	uint32_t ratelimiter_entries; /* 0: 8192 */
	uint32_t max_staged;	      /* packets all peers may stage; 0: a quarter of the pool */
	uint32_t handshake_queue;     /* queued handshakes (wg_handshake_jobs); 0: handled inline */
	uint32_t mtu;		      /* tunnel MTU, caps padding as the kernel does; 0: none */
	wg_random_fn random;	      /* NULL: crypto_random */
	void *random_ctx;
};

struct wg_device {
	struct wg_static_identity static_identity;
	struct wg_cookie_checker cookie_checker;
	struct wg_ratelimiter ratelimiter;
	/*
	 * Cookie replies per source, with the same rules: a reply costs a BLAKE2s, an
	 * XChaCha20-Poly1305 and a send, and a flood of initiations from one address must not
	 * buy one each. A peer needs one per two minutes (the cookie's life); a lost reply is
	 * a lost packet, which the initiator's retry covers.
	 */
	struct wg_ratelimiter cookie_ratelimiter;
	struct wg_allowedips peer_allowedips;
	struct wg_index_table index_table;

	struct wg_peer **peers; /* by id, max_peers slots */
	uint32_t max_peers;
	uint32_t free_id; /* no id below it is free: adding n peers stays linear */
	uint32_t npeers;
	struct wg_peer *peer_list_head, *peer_list_tail;
	struct wg_peer **pubkey_buckets;
	uint32_t pubkey_mask;

	struct wg_peer **timer_heap; /* min-heap of peers by timer_deadline */
	uint32_t timer_heap_len;
	uint64_t ratelimiter_gc_at; /* WG_TIMER_OFF when the ratelimiter is empty */

	struct wg_peer *pending_head, *pending_tail;

	struct wg_handshake_queue handshakes;
	uint64_t dh_tokens_ns, dh_last_ns; /* X25519 budget without load (receive.c) */

	/* Peers with staged packets, and how many all of them hold (<= max_staged). */
	struct wg_peer *staging_head;
	uint32_t staged_total;
	uint32_t max_staged;

	struct pkt_pool *pool;
	uint32_t mtu;
	wg_random_fn random;
	void *random_ctx;
	int64_t wall_offset_ns;
	uint64_t last_under_load;
	/* Random bytes for cookie replies' nonces, fetched a pool at a time (the rest wiped). */
	uint8_t random_pool[768];
	uint32_t random_pool_left;
	uint64_t keypairs_made; /* the last wg_keypair id handed out */
	bool have_under_load;

	/*
	 * Session up/down (has a usable current keypair), e.g. for VXLAN wires to
	 * follow. Called from inside the entry points (and from remove_peer): it
	 * may read the peer, but must not add or remove peers or call back in.
	 */
	void (*session_event)(void *ctx, struct wg_peer *peer, bool up);
	void *session_event_ctx;

	uint64_t drops[WG_DROP_MAX];
	uint64_t cookie_replies_sent;
	uint64_t handshakes_completed;
};

/*
 * Where a call leaves the AEAD of the data messages it handles, for the caller to run. A
 * caller that shares one device between threads under a lock runs that AEAD, the
 * expensive part, after letting go, beside the other threads; each thread passes its own
 * lists, and the device keeps no reference to them past the call. Every entry point that
 * can send or take a data message or keepalive takes one; NULL, or a NULL member, means
 * that AEAD runs inside the call.
 */
struct wg_aead_later {
	struct wg_encrypt_jobs *seal; /* data messages and keepalives the call sends */
	struct wg_decrypt_jobs *open; /* data messages wg_device_receive takes */
};

/*
 * Deferred encryption. With later->seal, every data packet (keepalives too) is framed as
 * usual inside the call (nonce counter taken, padding, header, room for the tag) and
 * lands in the output vector, but its plaintext is still there: a job records where it
 * is (a pointer into the packet, whose data must not move until the jobs ran), the
 * counter and a copy of the sending key. The caller must run wg_encrypt_jobs_run before
 * it sends any packet it got from those calls; that touches only the jobs' packets and
 * keys, never the device, so it needs no lock. Counters are still handed out in order
 * under the caller's lock, so each peer's nonces stay unique. When the list is full a
 * packet is simply encrypted at once.
 */
#define WG_ENCRYPT_JOBS_MAX 4096

/* The jobs are the batch aead_seal_batch takes: msg[i].key points at key[i]. */
struct wg_encrypt_jobs {
	uint32_t n;
	struct aead_msg msg[WG_ENCRYPT_JOBS_MAX];
	uint8_t key[WG_ENCRYPT_JOBS_MAX][AEAD_KEY_SIZE];
};

/* Encrypts every recorded packet in place, wipes the key copies and empties the list. */
void wg_encrypt_jobs_run(struct wg_encrypt_jobs *jobs);

/*
 * The same on receive. With later->open, wg_device_receive looks up the keypair of each
 * data message and checks it may still receive, but instead of opening it there it
 * records a job (the packet, now the list's, and a copy of the key). The caller runs
 * wg_decrypt_jobs_run without the lock, then, under it again, wg_device_receive_decrypted
 * with the same list does the rest in order: the index must still name the very keypair
 * the job was recorded for, still able to receive (else RX_KEY_EXPIRED), the tag must
 * have verified (else RX_BAD_TAG), then the replay window, session, timers and the
 * allowed-IPs check as always, so the window moves only for authenticated messages, under
 * the lock. It consumes jobs while out_ip has room and returns how many; the rest stay,
 * in order. What it sends (staged packets a session released, keepalives) follows
 * later->seal like any call's. When the list is full a message is opened at once, as
 * without a list.
 */
#define WG_DECRYPT_JOBS_MAX PKT_VEC_MAX

struct wg_decrypt_job {
	struct pkt *p;
	uint64_t keypair_id;
	bool ok;
	uint8_t key[32];
};

struct wg_decrypt_jobs {
	uint32_t n;
	struct wg_decrypt_job job[WG_DECRYPT_JOBS_MAX];
};

void wg_decrypt_jobs_run(struct wg_decrypt_jobs *jobs);
/* Finishes the messages wg_device_receive left in later->open, once wg_decrypt_jobs_run ran. */
uint32_t wg_device_receive_decrypted(struct wg_device *dev, const struct wg_aead_later *later,
				     uint64_t now_ns, struct pkt_vec *out_udp,
				     struct pkt_vec *out_ip);

/*
 * Handshakes outside the caller's lock. With config.handshake_queue set, wg_device_receive
 * checks each initiation's and response's mac1 and queues a copy of it (handshake_queue.h)
 * instead of handling it; the caller then moves the queue along in three steps:
 *   1. wg_device_handshakes_take (lock held, jobs empty): the cheap part, in queue order, of
 *      up to WG_HANDSHAKE_TAKE_MAX messages: under load (the queue at 1/8 of its length,
 *      or the X25519 budget below spent, or within a second of either) a message needs a valid
 * mac2, else it gets a cookie reply in out_udp, and must pass the per-source rate limiter. What is
 * left for step 2 becomes a job, at most WG_HANDSHAKE_JOBS_MAX. It copies the static identity into
 *      the jobs. Returns how many messages it took off the queue.
 *   2. wg_handshake_jobs_run (no lock): e, es and s of every initiation (X25519 and the
 *      AEAD that reveals who claims to initiate), from the jobs alone; then wipes the
 *      identity copy.
 *   3. wg_device_handshakes_finish (lock held): the rest in order, as wg_device_receive
 *      would have done it: peer lookup, ss, timestamp, flood check, the response (into
 *      out_udp) and its session; responses are consumed here. Consumes jobs while out_udp
 *      has room and returns how many; the rest stay, in order. A new session releases
 *      staged packets or a keepalive, sealed as later says.
 * Cookie replies to our own handshakes are small and handled inline, never queued.
 *
 * The number of jobs per take bounds the X25519 work a caller does per call (16 x ~45 us),
 * well below what it can read in that time: a flood then piles up in the queue, not in
 * the socket, and the queue's depth shows the load, which turns the flood into cheap
 * cookie replies (up to WG_HANDSHAKE_TAKE_MAX per take, as many as out_udp has room for).
 */
#define WG_HANDSHAKE_JOBS_MAX 16
#define WG_HANDSHAKE_TAKE_MAX 128
/*
 * And the device is under load too when initiations taken without load need more than
 * this many X25519 a second (after a burst): a tenth of a core here, and some thirty
 * times what 65 536 peers rekeying every two minutes need.
 */
#define WG_HANDSHAKE_DH_PER_SECOND 2048
#define WG_HANDSHAKE_DH_BURST	   256

struct wg_handshake_job {
	struct wg_queued_handshake m;
	struct wg_noise_initiation st; /* initiations: step 2's result */
	enum wg_noise_result begun;
};

struct wg_handshake_jobs {
	uint32_t n;
	uint32_t done; /* finished by step 3 */
	struct wg_static_identity id;
	struct wg_handshake_job job[WG_HANDSHAKE_JOBS_MAX];
};

uint32_t wg_device_handshakes_take(struct wg_device *dev, struct wg_handshake_jobs *jobs,
				   uint64_t now_ns, struct pkt_vec *out_udp);
void wg_handshake_jobs_run(struct wg_handshake_jobs *jobs);
uint32_t wg_device_handshakes_finish(struct wg_device *dev, struct wg_handshake_jobs *jobs,
				     uint64_t now_ns, const struct wg_aead_later *later,
				     struct pkt_vec *out_udp);
/* Handshake messages waiting in the queue. */
uint32_t wg_device_handshakes_queued(const struct wg_device *dev);

/* 0, -EINVAL (no pool) or -ENOMEM. The device starts without a private key. */
int wg_device_init(struct wg_device *dev, const struct wg_device_config *cfg);
/* Removes every peer (freeing staged packets) and wipes all keys. */
void wg_device_free(struct wg_device *dev);

/* ---- configuration (UAPI `set` semantics) ---- */

/*
 * Sets the private key (NULL or all zero: none). Recomputes every peer's
 * static-static DH, expires their current sessions (new handshakes follow on
 * demand) and removes a peer whose public key equals the new public key, as
 * the kernel does. Setting the same key again changes nothing.
 */
void wg_device_set_private_key(struct wg_device *dev, const uint8_t *private_key, uint64_t now_ns);
/* True and the public key when a private key is set. */
bool wg_device_public_key(const struct wg_device *dev, uint8_t out[WG_KEY_SIZE]);

/*
 * Adds a peer: 0 and *out; -EEXIST and *out = the existing peer; -EINVAL when
 * public_key is our own; -ENOSPC past max_peers; -ENOMEM.
 */
int wg_device_add_peer(struct wg_device *dev, const uint8_t public_key[WG_KEY_SIZE],
		       struct wg_peer **out);
struct wg_peer *wg_device_find_peer(const struct wg_device *dev,
				    const uint8_t public_key[WG_KEY_SIZE]);
struct wg_peer *wg_device_peer_by_id(const struct wg_device *dev, uint32_t id);
/* Frees staged packets, wipes keys, removes allowed IPs; reports session down if it was up. */
void wg_device_remove_peer(struct wg_device *dev, struct wg_peer *peer);
/* UAPI replace_peers=true. */
void wg_device_remove_all_peers(struct wg_device *dev);

/* Peers in creation order, as `wg show` lists them: first(dev), then next(peer). */
struct wg_peer *wg_device_first_peer(const struct wg_device *dev);
struct wg_peer *wg_device_next_peer(const struct wg_peer *peer);

/* NULL or all zero: no PSK. Takes effect at the next handshake. */
void wg_peer_set_preshared_key(struct wg_peer *peer, const uint8_t *psk);
/* Endpoint to send to until an authenticated packet arrives from elsewhere (roaming). */
void wg_peer_set_endpoint(struct wg_peer *peer, const struct vw_endpoint *ep);
/* Seconds, 0 off. Turning it on sends a keepalive (or starts a handshake), as the kernel. */
void wg_peer_set_persistent_keepalive(struct wg_peer *peer, uint16_t interval_s, uint64_t now_ns);
/* family AF_INET/AF_INET6, addr in network order. 0, -EINVAL, -ENOMEM (allowedips.h). */
int wg_peer_add_allowed_ip(struct wg_peer *peer, uint8_t family, const uint8_t *addr, uint8_t cidr);
int wg_peer_remove_allowed_ip(struct wg_peer *peer, uint8_t family, const uint8_t *addr,
			      uint8_t cidr);
/* UAPI replace_allowed_ips=true. */
void wg_peer_clear_allowed_ips(struct wg_peer *peer);
void wg_peer_foreach_allowed_ip(const struct wg_peer *peer,
				void (*cb)(void *ctx, uint8_t family, const uint8_t *addr,
					   uint8_t cidr),
				void *ctx);

/* ---- state for `wg show` and the datapath ---- */

/* A current keypair that may still send at now: data goes out without a handshake. */
bool wg_peer_has_session(const struct wg_peer *peer, uint64_t now_ns);

struct wg_peer_info {
	uint8_t public_key[WG_KEY_SIZE];
	uint8_t preshared_key[WG_KEY_SIZE];
	struct vw_endpoint endpoint;
	bool has_handshake;
	uint64_t last_handshake_ns; /* monotonic; wall = + dev->wall_offset_ns */
	uint64_t rx_bytes, tx_bytes;
	uint16_t persistent_keepalive_interval;
	bool session_up;
};

void wg_peer_get_info(const struct wg_peer *peer, struct wg_peer_info *info);

/* ---- packet paths ---- */

/*
 * Outbound. in: plaintext IPv4/IPv6 packets, data at the IP header, with at
 * least 16 bytes of headroom and 16 + 15 of tailroom (pkt.h leaves more). out:
 * WireGuard messages ready to send to p->dst. A packet without a route or
 * whose peer has no endpoint is dropped and counted; a packet for a peer
 * without a session is staged (bounded, oldest dropped) and a handshake starts.
 * Returns the number of packets consumed (see "Full outputs" above).
 */
uint32_t wg_device_send(struct wg_device *dev, struct pkt_vec *in, uint64_t now_ns,
			const struct wg_aead_later *later, struct pkt_vec *out);

/*
 * Inbound. in: UDP payloads with p->src set. out_udp: handshake responses,
 * cookie replies, keepalives and staged packets a new session released.
 * out_ip: decrypted inner packets. under_load: the caller's receive queue is
 * long (the kernel says so at 1/8 of its handshake queue); it then holds for a
 * second: handshakes need a valid mac2 (else a cookie reply is sent) and pass
 * the per-source rate limiter. Data messages recorded in later->open reach out_ip
 * only through wg_device_receive_decrypted. Returns the number of packets consumed.
 */
uint32_t wg_device_receive(struct wg_device *dev, struct pkt_vec *in, uint64_t now_ns,
			   bool under_load, const struct wg_aead_later *later,
			   struct pkt_vec *out_udp, struct pkt_vec *out_ip);

/*
 * Runs every timer due at now and then the queued work, appending to out.
 * Returns true when everything due is done, false when out filled first (send
 * it and call again).
 */
bool wg_device_expire_timers(struct wg_device *dev, uint64_t now_ns,
			     const struct wg_aead_later *later, struct pkt_vec *out);

/*
 * Earliest deadline (now_ns scale); 0 when work is queued (handshakes in the queue too:
 * the caller takes them); UINT64_MAX when none.
 */
uint64_t wg_device_next_timer(const struct wg_device *dev);

/* Internal to src/tunnel. */
void wg_device_count_drop(struct wg_device *dev, struct wg_peer *peer, bool rx,
			  enum wg_drop_reason reason);
void wg_device_random(struct wg_device *dev, void *buf, size_t len);
/* The same from a pool refilled 768 bytes at a time (a wg_random_fn; ctx is the device). */
void wg_device_random_pooled(void *ctx, void *buf, size_t len);

#endif
