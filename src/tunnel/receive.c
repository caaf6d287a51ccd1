/* SPDX-License-Identifier: MIT */
/*
 * The receiving side: handshake messages (mac checks, cookies, rate limit,
 * Noise), cookie replies, and transport data decrypted in place, replay
 * checked and source checked against the sending peer's allowed IPs.
 */
#include <stddef.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "device.h"
#include "messages.h"
#include "send.h"
#include "timers.h"

#define keypair_of(e) ((struct wg_keypair *)((char *)(e)-offsetof(struct wg_keypair, entry)))

static void drop(struct wg_device *dev, struct wg_peer *peer, struct pkt *p,
		 enum wg_drop_reason reason)
{
	wg_device_count_drop(dev, peer, true, reason);
	pkt_free(p);
}

static void rx_stats(struct wg_peer *peer, size_t len)
{
	peer->rx_bytes += len;
	peer->rx_packets++;
}

static enum wg_drop_reason noise_drop_reason(enum wg_noise_result r)
{
	switch (r) {
	case WG_NOISE_NO_IDENTITY:
		return WG_DROP_RX_NO_IDENTITY;
	case WG_NOISE_BAD_DH:
		return WG_DROP_RX_HANDSHAKE_DH;
	case WG_NOISE_REPLAY:
		return WG_DROP_RX_INITIATION_REPLAY;
	case WG_NOISE_FLOOD:
		return WG_DROP_RX_INITIATION_FLOOD;
	case WG_NOISE_BAD_STATE:
		return WG_DROP_RX_HANDSHAKE_STATE;
	case WG_NOISE_OK:
	case WG_NOISE_DECRYPT_FAILED:
	default:
		return WG_DROP_RX_HANDSHAKE_DECRYPT;
	}
}

/*
 * Whether p's source may go on under rl (the device's handshake or cookie-reply limiter);
 * else p is dropped as `reason`. Either table holding anyone makes the collector run.
 */
static bool source_allowed(struct wg_device *dev, struct wg_ratelimiter *rl, struct pkt *p,
			   uint64_t now_ns, enum wg_drop_reason reason)
{
	if (dev->ratelimiter_gc_at == WG_TIMER_OFF)
		dev->ratelimiter_gc_at = now_ns + WG_NS_PER_SEC;
	if (wg_ratelimiter_allow(rl, &p->src, now_ns))
		return true;
	drop(dev, NULL, p, reason);
	return false;
}

/* Answers a handshake message with a cookie reply in the same buffer, if its source may. */
static void send_cookie_reply(struct wg_device *dev, struct pkt *p, uint64_t now_ns,
			      struct pkt_vec *out_udp)
{
	/* Both handshake messages carry the sender index at the same offset. */
	uint32_t sender = get_le32(p->data + WG_INIT_OFF_SENDER);
	uint8_t reply[WG_COOKIE_REPLY_SIZE];

	if (!source_allowed(dev, &dev->cookie_ratelimiter, p, now_ns,
			    WG_DROP_RX_COOKIE_RATELIMITED))
		return;
	wg_cookie_create_reply(&dev->cookie_checker, reply, p->data, p->len, sender, &p->src,
			       now_ns, wg_device_random_pooled, dev);
	pkt_reset(p, p->size >= PKT_HEADROOM + WG_COOKIE_REPLY_SIZE ? PKT_HEADROOM : 0);
	memcpy(pkt_put(p, WG_COOKIE_REPLY_SIZE), reply, WG_COOKIE_REPLY_SIZE);
	p->dst = p->src;
	p->port = 0;
	dev->cookie_replies_sent++;
	wg_device_count_drop(dev, NULL, true, WG_DROP_RX_COOKIE_SENT);
	pkt_vec_add(out_udp, p);
}

/* An initiation whose first half (st) is done: the claimed peer, ss, {t}, the response. */
static struct wg_peer *rx_initiation_begun(struct wg_device *dev, struct pkt *p,
					   struct wg_noise_initiation *st, uint64_t now_ns,
					   struct pkt_vec *out_udp)
{
	enum wg_noise_result r;
	struct wg_peer *peer;

	peer = wg_device_find_peer(dev, st->remote_static);
	if (!peer) {
		crypto_wipe(st, sizeof(*st));
		drop(dev, NULL, p, WG_DROP_RX_UNKNOWN_PEER);
		return NULL;
	}
	r = wg_noise_consume_initiation_finish(p->data, st, &peer->handshake, now_ns);
	if (r != WG_NOISE_OK) {
		drop(dev, peer, p, noise_drop_reason(r));
		return NULL;
	}
	wg_peer_set_endpoint_from(peer, &p->src);
	rx_stats(peer, WG_INIT_SIZE);
	if (!wg_packet_create_response(peer, p, now_ns)) {
		pkt_free(p);
		return peer;
	}
	p->dst = peer->endpoint;
	p->port = peer->id;
	peer->tx_bytes += p->len;
	peer->tx_packets++;
	pkt_vec_add(out_udp, p);
	return peer;
}

static struct wg_peer *rx_initiation(struct wg_device *dev, struct pkt *p, uint64_t now_ns,
				     struct pkt_vec *out_udp)
{
	struct wg_noise_initiation st;
	enum wg_noise_result r;

	r = wg_noise_consume_initiation_begin(p->data, &dev->static_identity, &st);
	if (r != WG_NOISE_OK) {
		drop(dev, NULL, p, noise_drop_reason(r));
		return NULL;
	}
	return rx_initiation_begun(dev, p, &st, now_ns, out_udp);
}

static struct wg_peer *rx_response(struct wg_device *dev, struct pkt *p, uint64_t now_ns)
{
	struct wg_index_entry *e;
	enum wg_noise_result r;
	struct wg_peer *peer;

	e = wg_index_lookup(&dev->index_table, get_le32(p->data + WG_RESP_OFF_RECEIVER),
			    WG_INDEX_HANDSHAKE);
	if (!e) {
		drop(dev, NULL, p, WG_DROP_RX_UNKNOWN_INDEX);
		return NULL;
	}
	peer = e->peer;
	r = wg_noise_consume_response(p->data, &peer->handshake, &dev->static_identity);
	if (r != WG_NOISE_OK) {
		drop(dev, peer, p, noise_drop_reason(r));
		return NULL;
	}
	wg_peer_set_endpoint_from(peer, &p->src);
	rx_stats(peer, WG_RESP_SIZE);
	pkt_free(p);
	if (wg_peer_begin_session(peer, now_ns)) {
		wg_timers_session_derived(peer, now_ns);
		wg_timers_handshake_complete(peer, now_ns);
		/* Staged packets confirm the session to the responder; else a keepalive does. */
		wg_packet_send_keepalive(peer, now_ns);
	}
	return peer;
}

/*
 * mac1, and under load mac2: true when they pass; false when p was dropped (bad mac1) or,
 * under load without a valid mac2, answered with a cookie reply (p gone either way).
 */
static bool rx_handshake_macs(struct wg_device *dev, struct pkt *p, uint64_t now_ns,
			      bool under_load, struct pkt_vec *out_udp)
{
	enum wg_cookie_mac_state mac;

	mac = wg_cookie_validate(&dev->cookie_checker, p->data, p->len, &p->src, under_load, now_ns,
				 dev->random, dev->random_ctx);
	if (mac == WG_COOKIE_INVALID_MAC) {
		drop(dev, NULL, p, WG_DROP_RX_BAD_MAC1);
		return false;
	}
	if (under_load && mac != WG_COOKIE_VALID_MAC_WITH_COOKIE) {
		send_cookie_reply(dev, p, now_ns, out_udp);
		return false;
	}
	return true;
}

/*
 * The macs, and under load the rate limit: true when the message goes on to the Noise
 * part; false when it was answered with a cookie reply or dropped (p gone).
 */
static bool rx_handshake_admit(struct wg_device *dev, struct pkt *p, uint64_t now_ns,
			       bool under_load, struct pkt_vec *out_udp)
{
	return rx_handshake_macs(dev, p, now_ns, under_load, out_udp) &&
	       (!under_load ||
		source_allowed(dev, &dev->ratelimiter, p, now_ns, WG_DROP_RX_RATELIMITED));
}

static void rx_handshake_authenticated(struct wg_peer *peer, uint64_t now_ns)
{
	if (!peer)
		return;
	wg_timers_any_authenticated_packet_received(peer, now_ns);
	wg_timers_any_authenticated_packet_traversal(peer, now_ns);
}

static void rx_handshake(struct wg_device *dev, struct pkt *p, enum wg_message_type type,
			 uint64_t now_ns, bool under_load, struct pkt_vec *out_udp)
{
	if (!rx_handshake_admit(dev, p, now_ns, under_load, out_udp))
		return;
	if (type == WG_MSG_HANDSHAKE_INITIATION)
		rx_handshake_authenticated(rx_initiation(dev, p, now_ns, out_udp), now_ns);
	else
		rx_handshake_authenticated(rx_response(dev, p, now_ns), now_ns);
}

/* ---- the handshake queue (device.h, "Handshakes outside the caller's lock") ---- */

/* As the kernel: once under load, stay so for a second after the last sign of it. */
static bool device_under_load(struct wg_device *dev, bool load_now, uint64_t now_ns)
{
	if (load_now) {
		dev->last_under_load = now_ns;
		dev->have_under_load = true;
		return true;
	}
	if (dev->have_under_load) {
		if (now_ns < dev->last_under_load + WG_UNDER_LOAD_AFTER_TIME)
			return true;
		dev->have_under_load = false;
	}
	return false;
}

/*
 * Queued with its mac1 checked, so that junk never takes a slot or counts as load. Under
 * load a message without a valid mac2 would only ever get a cookie reply: it gets it here
 * and never takes a slot either, so a flood costs a mac check and, within the source's
 * cookie rate, a reply.
 */
static void rx_handshake_enqueue(struct wg_device *dev, struct pkt *p, enum wg_message_type type,
				 uint64_t now_ns, struct pkt_vec *out_udp)
{
	struct wg_handshake_queue *q = &dev->handshakes;
	bool under_load = device_under_load(dev, q->len >= q->cap / 8, now_ns);

	if (!rx_handshake_macs(dev, p, now_ns, under_load, out_udp))
		return;
	if (!wg_handshake_queue_push(q, (uint8_t)type, p->data, p->len, &p->src)) {
		drop(dev, NULL, p, WG_DROP_RX_HANDSHAKE_QUEUE_FULL);
		return;
	}
	pkt_free(p);
}

/* A queued message back in a pool packet, for the functions that handle packets. */
static struct pkt *queued_to_pkt(struct wg_device *dev, const struct wg_queued_handshake *m)
{
	struct pkt *p = pkt_alloc(dev->pool);

	if (!p) {
		wg_device_count_drop(dev, NULL, true, WG_DROP_NO_BUFFER);
		return NULL;
	}
	memcpy(pkt_put(p, m->len), m->msg, m->len);
	p->src = m->src;
	return p;
}

/*
 * One X25519 of an initiation taken while the device is not under load, from a bucket of
 * WG_HANDSHAKE_DH_PER_SECOND: false when it is empty, and that is load too. The queue's
 * depth alone missed a flood that the workers could just keep up with at X25519 speed:
 * 25 000 initiations a second took a core and a half and starved the tunnel.
 */
static bool handshake_dh_token(struct wg_device *dev, uint64_t now_ns)
{
	const uint64_t cost = WG_NS_PER_SEC / WG_HANDSHAKE_DH_PER_SECOND;

	return wg_token_take(&dev->dh_tokens_ns, &dev->dh_last_ns, now_ns, cost,
			     cost * WG_HANDSHAKE_DH_BURST);
}

uint32_t wg_device_handshakes_take(struct wg_device *dev, struct wg_handshake_jobs *jobs,
				   uint64_t now_ns, struct pkt_vec *out_udp)
{
	struct wg_handshake_queue *q = &dev->handshakes;
	bool under_load = device_under_load(dev, q->cap && q->len >= q->cap / 8, now_ns);
	uint32_t taken = 0;

	jobs->n = jobs->done = 0;
	while (jobs->n < WG_HANDSHAKE_JOBS_MAX && taken < WG_HANDSHAKE_TAKE_MAX &&
	       !pkt_vec_full(out_udp)) {
		struct wg_handshake_job *j = &jobs->job[jobs->n];
		struct pkt *p;

		if (!wg_handshake_queue_pop(q, &j->m))
			break;
		taken++;
		if (!under_load && j->m.type == WG_MSG_HANDSHAKE_INITIATION &&
		    !handshake_dh_token(dev, now_ns))
			under_load = device_under_load(dev, true, now_ns);
		p = queued_to_pkt(dev, &j->m);
		if (!p || !rx_handshake_admit(dev, p, now_ns, under_load, out_udp))
			continue;
		pkt_free(p);
		j->begun = WG_NOISE_NO_IDENTITY;
		jobs->n++;
	}
	jobs->id = dev->static_identity;
	return taken;
}

void wg_handshake_jobs_run(struct wg_handshake_jobs *jobs)
{
	for (uint32_t i = 0; i < jobs->n; i++) {
		struct wg_handshake_job *j = &jobs->job[i];

		if (j->m.type == WG_MSG_HANDSHAKE_INITIATION)
			j->begun = wg_noise_consume_initiation_begin(j->m.msg, &jobs->id, &j->st);
	}
	crypto_wipe(&jobs->id, sizeof(jobs->id));
}

static void handshake_job_finish(struct wg_device *dev, struct wg_handshake_job *j, uint64_t now_ns,
				 struct pkt_vec *out_udp)
{
	struct pkt *p;

	if (j->m.type == WG_MSG_HANDSHAKE_INITIATION && j->begun != WG_NOISE_OK) {
		wg_device_count_drop(dev, NULL, true, noise_drop_reason(j->begun));
		return;
	}
	p = queued_to_pkt(dev, &j->m);
	if (!p)
		return;
	if (j->m.type == WG_MSG_HANDSHAKE_INITIATION)
		rx_handshake_authenticated(rx_initiation_begun(dev, p, &j->st, now_ns, out_udp),
					   now_ns);
	else
		rx_handshake_authenticated(rx_response(dev, p, now_ns), now_ns);
}

uint32_t wg_device_handshakes_finish(struct wg_device *dev, struct wg_handshake_jobs *jobs,
				     uint64_t now_ns, const struct wg_aead_later *later,
				     struct pkt_vec *out_udp)
{
	uint32_t finished = 0;

	while (jobs->done < jobs->n && !pkt_vec_full(out_udp)) {
		struct wg_handshake_job *j = &jobs->job[jobs->done++];

		handshake_job_finish(dev, j, now_ns, out_udp);
		crypto_wipe(&j->st, sizeof(j->st));
		finished++;
	}
	if (jobs->done == jobs->n)
		jobs->n = jobs->done = 0;
	wg_device_run_pending(dev, now_ns, later, out_udp);
	return finished;
}

uint32_t wg_device_handshakes_queued(const struct wg_device *dev)
{
	return dev->handshakes.len;
}

static void rx_cookie(struct wg_device *dev, struct pkt *p, uint64_t now_ns)
{
	struct wg_index_entry *e;

	e = wg_index_lookup(&dev->index_table, get_le32(p->data + WG_COOKIE_OFF_RECEIVER),
			    WG_INDEX_HANDSHAKE | WG_INDEX_KEYPAIR);
	if (!e) {
		drop(dev, NULL, p, WG_DROP_RX_UNKNOWN_INDEX);
		return;
	}
	if (!wg_cookie_consume_reply(&e->peer->latest_cookie, p->data, now_ns)) {
		drop(dev, e->peer, p, WG_DROP_RX_BAD_COOKIE);
		return;
	}
	pkt_free(p);
	if (e->type == WG_INDEX_HANDSHAKE)
		wg_packet_send_initiation_after_cookie(e->peer, now_ns);
}

/* The initiator rekeys before its session dies if it only receives. */
static void keep_key_fresh(struct wg_peer *peer, uint64_t now_ns)
{
	struct wg_keypair *kp = peer->keypairs.current;

	if (peer->sent_lastminute_handshake)
		return;
	if (kp && kp->sending_valid && kp->i_am_the_initiator &&
	    now_ns >= kp->birthdate + WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT -
			      WG_REKEY_TIMEOUT) {
		peer->sent_lastminute_handshake = true;
		wg_packet_send_queued_handshake_initiation(peer, now_ns, false);
	}
}

/* Length and source address of the inner packet, 0 when it is neither sane IPv4 nor IPv6. */
static uint32_t inner_ip(const struct pkt *p, uint8_t *family, const uint8_t **src)
{
	uint32_t len;

	if (p->len >= 20 && (p->data[0] >> 4) == 4) {
		len = get_be16(p->data + 2);
		if (len < 20)
			return 0;
		*family = AF_INET;
		*src = p->data + 12;
	} else if (p->len >= 40 && (p->data[0] >> 4) == 6) {
		len = 40u + get_be16(p->data + 4);
		*family = AF_INET6;
		*src = p->data + 8;
	} else {
		return 0;
	}
	return len <= p->len ? len : 0;
}

/* The keypair a data message names, if it may still receive; else p is dropped. */
static struct wg_keypair *rx_data_keypair(struct wg_device *dev, struct pkt *p, uint64_t now_ns)
{
	struct wg_index_entry *e;
	struct wg_keypair *kp;

	e = wg_index_lookup(&dev->index_table, get_le32(p->data + WG_DATA_OFF_RECEIVER),
			    WG_INDEX_KEYPAIR);
	if (!e) {
		drop(dev, NULL, p, WG_DROP_RX_UNKNOWN_INDEX);
		return NULL;
	}
	kp = keypair_of(e);
	if (!wg_keypair_can_receive(kp, now_ns)) {
		kp->receiving_valid = false;
		drop(dev, e->peer, p, WG_DROP_RX_KEY_EXPIRED);
		return NULL;
	}
	return kp;
}

/* Everything after a data message authenticated: replay, session, timers, source. */
static void rx_data_accept(struct wg_device *dev, struct wg_keypair *kp, struct pkt *p,
			   uint64_t now_ns, struct pkt_vec *out_ip)
{
	struct wg_peer *peer = kp->entry.peer;
	uint64_t counter = get_le64(p->data + WG_DATA_OFF_COUNTER);
	uint32_t msg_len = p->len, len;
	const uint8_t *src;
	uint8_t family;

	/* Only now that it authenticated may the counter move the window. */
	if (!wg_replay_check(&kp->receiving_counter, counter, WG_REJECT_AFTER_MESSAGES)) {
		drop(dev, peer, p, WG_DROP_RX_REPLAY);
		return;
	}
	wg_peer_set_endpoint_from(peer, &p->src);
	if (wg_keypairs_received_with(&peer->keypairs, &dev->index_table, kp)) {
		wg_timers_handshake_complete(peer, now_ns);
		wg_peer_session_update(peer, now_ns);
		wg_packet_queue_flush(peer);
	}
	keep_key_fresh(peer, now_ns);
	wg_timers_any_authenticated_packet_received(peer, now_ns);
	wg_timers_any_authenticated_packet_traversal(peer, now_ns);

	pkt_pull(p, WG_DATA_HEADER_SIZE);
	pkt_trim(p, p->len - WG_AEAD_TAG_SIZE);
	if (!p->len) {
		rx_stats(peer, msg_len); /* a keepalive */
		pkt_free(p);
		return;
	}
	wg_timers_data_received(peer, now_ns);
	len = inner_ip(p, &family, &src);
	if (!len) {
		drop(dev, peer, p, WG_DROP_RX_INVALID_IP);
		return;
	}
	if (wg_allowedips_lookup(&dev->peer_allowedips, family, src) != peer) {
		drop(dev, peer, p, WG_DROP_RX_WRONG_SOURCE);
		return;
	}
	pkt_trim(p, len); /* the padding goes */
	rx_stats(peer, msg_len);
	p->port = peer->id;
	pkt_vec_add(out_ip, p);
}

static bool rx_data_open(struct pkt *p, const uint8_t *key)
{
	return aead_decrypt(p->data + WG_DATA_HEADER_SIZE, p->data + WG_DATA_HEADER_SIZE,
			    p->len - WG_DATA_HEADER_SIZE, NULL, 0,
			    get_le64(p->data + WG_DATA_OFF_COUNTER), key);
}

/* Left for wg_decrypt_jobs_run when the caller asked for it and there is room. */
static bool rx_data_defer(struct wg_keypair *kp, struct pkt *p, const struct wg_aead_later *later)
{
	struct wg_decrypt_jobs *jobs = later ? later->open : NULL;
	struct wg_decrypt_job *j;

	if (!jobs || jobs->n == WG_DECRYPT_JOBS_MAX)
		return false;
	j = &jobs->job[jobs->n++];
	j->p = p;
	j->ok = false;
	j->keypair_id = kp->id;
	memcpy(j->key, kp->receiving_key, sizeof(j->key));
	return true;
}

static void rx_data(struct wg_device *dev, struct pkt *p, uint64_t now_ns,
		    const struct wg_aead_later *later, struct pkt_vec *out_ip)
{
	struct wg_keypair *kp = rx_data_keypair(dev, p, now_ns);

	if (!kp || rx_data_defer(kp, p, later))
		return;
	if (!rx_data_open(p, kp->receiving_key)) {
		drop(dev, kp->entry.peer, p, WG_DROP_RX_BAD_TAG);
		return;
	}
	rx_data_accept(dev, kp, p, now_ns, out_ip);
}

/*
 * Messages handed to aead_open_batch at once. Unlike the encryption jobs the list cannot
 * be the batch itself: wg_device_receive_decrypted moves what it leaves to the front.
 */
#define OPEN_SLICE 64

/* In slices, so that short messages share their ChaCha20 work (aead_open_batch). */
void wg_decrypt_jobs_run(struct wg_decrypt_jobs *jobs)
{
	struct aead_msg m[OPEN_SLICE];

	for (uint32_t i = 0; i < jobs->n; i += OPEN_SLICE) {
		uint32_t n = jobs->n - i < OPEN_SLICE ? jobs->n - i : OPEN_SLICE;

		for (uint32_t k = 0; k < n; k++) {
			struct wg_decrypt_job *j = &jobs->job[i + k];

			/* wg_message_classify let only data messages with room for a tag in. */
			m[k] = (struct aead_msg){
				.data = j->p->data + WG_DATA_HEADER_SIZE,
				.len = j->p->len - WG_DATA_HEADER_SIZE - WG_AEAD_TAG_SIZE,
				.counter = get_le64(j->p->data + WG_DATA_OFF_COUNTER),
				.key = j->key};
		}
		aead_open_batch(m, n);
		/* Finishing needs the verdict, not the key: no copy outlives the AEAD. */
		for (uint32_t k = 0; k < n; k++) {
			jobs->job[i + k].ok = m[k].ok;
			crypto_wipe(jobs->job[i + k].key, sizeof(jobs->job[i + k].key));
		}
	}
}

/*
 * The session may have changed while the lock was let go: the index must still name a
 * keypair that may receive, and the very one the message was opened with (its id, not
 * its key: comparing keys per packet cost as much as a ChaCha20 block).
 */
static void rx_data_finish(struct wg_device *dev, struct wg_decrypt_job *j, uint64_t now_ns,
			   struct pkt_vec *out_ip)
{
	struct wg_keypair *kp = rx_data_keypair(dev, j->p, now_ns);

	if (!kp)
		return;
	if (kp->id != j->keypair_id) {
		drop(dev, kp->entry.peer, j->p, WG_DROP_RX_KEY_EXPIRED);
		return;
	}
	if (!j->ok) {
		drop(dev, kp->entry.peer, j->p, WG_DROP_RX_BAD_TAG);
		return;
	}
	rx_data_accept(dev, kp, j->p, now_ns, out_ip);
}

uint32_t wg_device_receive_decrypted(struct wg_device *dev, const struct wg_aead_later *later,
				     uint64_t now_ns, struct pkt_vec *out_udp,
				     struct pkt_vec *out_ip)
{
	struct wg_decrypt_jobs *jobs = later ? later->open : NULL;
	uint32_t i, left;

	if (!jobs) {
		wg_device_run_pending(dev, now_ns, later, out_udp);
		return 0;
	}
	for (i = 0; i < jobs->n && !pkt_vec_full(out_ip); i++)
		rx_data_finish(dev, &jobs->job[i], now_ns, out_ip);
	left = jobs->n - i;
	memmove(jobs->job, jobs->job + i, left * sizeof(jobs->job[0]));
	/*
	 * Past the jobs left lie finished ones and the slots the move copied from; a job
	 * that had not run yet would leave a copy of its key there.
	 */
	crypto_wipe(jobs->job + left, i * sizeof(jobs->job[0]));
	jobs->n = left;
	wg_device_run_pending(dev, now_ns, later, out_udp);
	return i;
}

static void receive_one(struct wg_device *dev, struct pkt *p, uint64_t now_ns, bool under_load,
			const struct wg_aead_later *later, struct pkt_vec *out_udp,
			struct pkt_vec *out_ip)
{
	enum wg_message_type type = wg_message_classify(p->data, p->len);

	switch (type) {
	case WG_MSG_HANDSHAKE_INITIATION:
	case WG_MSG_HANDSHAKE_RESPONSE:
		if (dev->handshakes.slot)
			rx_handshake_enqueue(dev, p, type, now_ns, out_udp);
		else
			rx_handshake(dev, p, type, now_ns, under_load, out_udp);
		break;
	case WG_MSG_HANDSHAKE_COOKIE:
		rx_cookie(dev, p, now_ns);
		break;
	case WG_MSG_DATA:
		rx_data(dev, p, now_ns, later, out_ip);
		break;
	case WG_MSG_BAD_SIZE:
		drop(dev, NULL, p, WG_DROP_RX_BAD_SIZE);
		break;
	case WG_MSG_BAD_TYPE:
	default:
		drop(dev, NULL, p, WG_DROP_RX_BAD_TYPE);
		break;
	}
}

uint32_t wg_device_receive(struct wg_device *dev, struct pkt_vec *in, uint64_t now_ns,
			   bool under_load, const struct wg_aead_later *later,
			   struct pkt_vec *out_udp, struct pkt_vec *out_ip)
{
	uint32_t i;

	/* With a queue, the queue's depth says it (wg_device_handshakes_take). */
	if (!dev->handshakes.slot)
		under_load = device_under_load(dev, under_load, now_ns);
	for (i = 0; i < in->n && !pkt_vec_full(out_udp) && !pkt_vec_full(out_ip); i++)
		receive_one(dev, in->p[i], now_ns, under_load, later, out_udp, out_ip);
	memmove(in->p, in->p + i, (in->n - i) * sizeof(in->p[0]));
	in->n -= i;
	wg_device_run_pending(dev, now_ns, later, out_udp);
	return i;
}
