/* SPDX-License-Identifier: MIT */
/*
 * The sending side: handshake messages, keepalives, staged packets and the
 * transport data encryption, in place in the caller's buffers.
 */
#include <string.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "crypto/tai64n.h"
#include "device.h"
#include "messages.h"
#include "send.h"
#include "timers.h"

uint64_t wg_device_jitter(struct wg_device *dev)
{
	uint8_t b[4];

	wg_device_random(dev, b, sizeof(b));
	return get_le32(b) % WG_REKEY_TIMEOUT_JITTER_MAX;
}

static uint64_t wall_ns(const struct wg_device *dev, uint64_t now_ns)
{
	int64_t wall = (int64_t)now_ns + dev->wall_offset_ns;

	return wall > 0 ? (uint64_t)wall : 0;
}

static bool have_endpoint(const struct wg_peer *peer)
{
	sa_family_t f = peer->endpoint.sa.sa_family;

	return f == AF_INET || f == AF_INET6;
}

static bool handshake_rate_ok(const struct wg_peer *peer, uint64_t now_ns)
{
	return peer->last_sent_handshake == WG_TIMER_OFF ||
	       now_ns >= peer->last_sent_handshake + WG_REKEY_TIMEOUT;
}

/* Appends the peer to the device's list of peers with queued work. */
static void queue_work(struct wg_peer *peer)
{
	struct wg_device *dev = peer->device;

	if (peer->on_pending)
		return;
	peer->on_pending = true;
	peer->pending_next = NULL;
	if (dev->pending_tail)
		dev->pending_tail->pending_next = peer;
	else
		dev->pending_head = peer;
	dev->pending_tail = peer;
}

static void tx_done(struct wg_peer *peer, struct pkt *p, struct pkt_vec *out)
{
	p->dst = peer->endpoint;
	p->port = peer->id;
	peer->tx_bytes += p->len;
	peer->tx_packets++;
	pkt_vec_add(out, p);
}

void wg_packet_send_queued_handshake_initiation(struct wg_peer *peer, uint64_t now_ns,
						bool is_retry)
{
	if (!is_retry)
		peer->timer_handshake_attempts = 0;
	if (!handshake_rate_ok(peer, now_ns))
		return;
	peer->want_initiation = true;
	queue_work(peer);
}

void wg_packet_send_initiation_after_cookie(struct wg_peer *peer, uint64_t now_ns)
{
	if (peer->handshake.state != WG_HANDSHAKE_CREATED_INITIATION)
		return;
	if (peer->last_cookie_retry != WG_TIMER_OFF &&
	    now_ns < peer->last_cookie_retry + WG_REKEY_TIMEOUT)
		return;
	peer->last_cookie_retry = now_ns;
	/* The once-per-REKEY_TIMEOUT rule is this function's own, above. */
	peer->last_sent_handshake = WG_TIMER_OFF;
	wg_packet_send_queued_handshake_initiation(peer, now_ns, true);
}

void wg_packet_queue_flush(struct wg_peer *peer)
{
	peer->want_flush = true;
	queue_work(peer);
}

void wg_packet_send_keepalive(struct wg_peer *peer, uint64_t now_ns)
{
	(void)now_ns;
	if (!peer->staged_len) {
		struct pkt *p = pkt_alloc(peer->device->pool);

		if (!p) {
			wg_device_count_drop(peer->device, peer, false, WG_DROP_NO_BUFFER);
			return;
		}
		wg_peer_stage_packet(peer, p);
	}
	wg_packet_queue_flush(peer);
}

/* Needs one free slot in out. */
static void send_handshake_initiation(struct wg_peer *peer, uint64_t now_ns, struct pkt_vec *out)
{
	struct wg_device *dev = peer->device;
	uint8_t eph[WG_KEY_SIZE], ts[WG_TIMESTAMP_SIZE];
	uint32_t index;
	struct pkt *p;
	uint8_t *msg;

	if (!handshake_rate_ok(peer, now_ns) || !dev->static_identity.has_identity)
		return;
	peer->last_sent_handshake = now_ns;
	if (!have_endpoint(peer)) {
		/* Like a failed send: keep retrying, an endpoint may be configured or roam in. */
		wg_device_count_drop(dev, peer, false, WG_DROP_TX_NO_ENDPOINT);
		wg_timers_handshake_initiated(peer, now_ns);
		return;
	}
	p = pkt_alloc(dev->pool);
	if (!p || !(msg = pkt_put(p, WG_INIT_SIZE))) {
		pkt_free(p);
		wg_device_count_drop(dev, peer, false, WG_DROP_NO_BUFFER);
		wg_timers_handshake_initiated(peer, now_ns);
		return;
	}
	index = wg_index_insert(&dev->index_table, &peer->handshake_entry, dev->random,
				dev->random_ctx);
	wg_device_random(dev, eph, sizeof(eph));
	tai64n_encode(ts, wall_ns(dev, now_ns));
	if (wg_noise_create_initiation(msg, &peer->handshake, &dev->static_identity, eph, ts,
				       index) != WG_NOISE_OK) {
		/* Only a low-order peer key gets here: nothing to send, ever. */
		crypto_wipe(eph, sizeof(eph));
		wg_index_remove(&dev->index_table, &peer->handshake_entry);
		pkt_free(p);
		return;
	}
	crypto_wipe(eph, sizeof(eph));
	wg_cookie_add_macs(&peer->latest_cookie, msg, WG_INIT_SIZE, now_ns);
	wg_timers_any_authenticated_packet_traversal(peer, now_ns);
	wg_timers_any_authenticated_packet_sent(peer);
	tx_done(peer, p, out);
	wg_timers_handshake_initiated(peer, now_ns);
}

bool wg_packet_create_response(struct wg_peer *peer, struct pkt *p, uint64_t now_ns)
{
	struct wg_device *dev = peer->device;
	uint8_t eph[WG_KEY_SIZE];
	uint32_t index;
	uint8_t *msg;
	enum wg_noise_result r;

	peer->last_sent_handshake = now_ns;
	pkt_reset(p, p->size >= PKT_HEADROOM + WG_RESP_SIZE ? PKT_HEADROOM : 0);
	msg = pkt_put(p, WG_RESP_SIZE);
	if (!msg)
		return false;
	index = wg_index_insert(&dev->index_table, &peer->handshake_entry, dev->random,
				dev->random_ctx);
	wg_device_random(dev, eph, sizeof(eph));
	r = wg_noise_create_response(msg, &peer->handshake, eph, index);
	crypto_wipe(eph, sizeof(eph));
	if (r != WG_NOISE_OK) {
		wg_index_remove(&dev->index_table, &peer->handshake_entry);
		return false;
	}
	wg_cookie_add_macs(&peer->latest_cookie, msg, WG_RESP_SIZE, now_ns);
	if (!wg_peer_begin_session(peer, now_ns))
		return false;
	wg_timers_session_derived(peer, now_ns);
	wg_timers_any_authenticated_packet_traversal(peer, now_ns);
	wg_timers_any_authenticated_packet_sent(peer);
	return true;
}

/*
 * Pads and frames p in place (header in the headroom, padding and room for the tag in the
 * tailroom) and says where the plaintext is; its encryption is the caller's. False
 * without room.
 */
static bool frame_data(struct pkt *p, const struct wg_keypair *kp, uint64_t counter, uint32_t mtu,
		       uint32_t *plain_len)
{
	size_t padding = wg_message_padding(p->len, mtu);
	uint8_t *hdr;

	if (pkt_headroom(p) < WG_DATA_HEADER_SIZE || pkt_tailroom(p) < padding + WG_AEAD_TAG_SIZE)
		return false;
	memset(pkt_put(p, (uint32_t)padding), 0, padding);
	*plain_len = p->len;
	pkt_put(p, WG_AEAD_TAG_SIZE);
	hdr = pkt_push(p, WG_DATA_HEADER_SIZE);
	wg_message_put_type(hdr, WG_MSG_DATA);
	put_le32(hdr + WG_DATA_OFF_RECEIVER, kp->remote_index);
	put_le64(hdr + WG_DATA_OFF_COUNTER, counter);
	return true;
}

bool wg_packet_encrypt(struct pkt *p, const struct wg_keypair *kp, uint64_t counter, uint32_t mtu)
{
	uint32_t len;

	if (!frame_data(p, kp, counter, mtu, &len))
		return false;
	aead_encrypt(p->data + WG_DATA_HEADER_SIZE, p->data + WG_DATA_HEADER_SIZE, len, NULL, 0,
		     counter, kp->sending_key);
	return true;
}

/* wg_packet_encrypt, with the AEAD recorded in later->seal while it has room. */
static bool encrypt_or_defer(struct pkt *p, const struct wg_keypair *kp, uint64_t counter,
			     uint32_t mtu, const struct wg_aead_later *later)
{
	struct wg_encrypt_jobs *jobs = later ? later->seal : NULL;
	uint32_t len, i;

	if (!jobs || jobs->n == WG_ENCRYPT_JOBS_MAX)
		return wg_packet_encrypt(p, kp, counter, mtu);
	if (!frame_data(p, kp, counter, mtu, &len))
		return false;
	i = jobs->n++;
	memcpy(jobs->key[i], kp->sending_key, sizeof(jobs->key[i]));
	jobs->msg[i] = (struct aead_msg){.data = p->data + WG_DATA_HEADER_SIZE,
					 .len = len,
					 .counter = counter,
					 .key = jobs->key[i]};
	return true;
}

/* Short packets of the list share their ChaCha20 work (aead_seal_batch). */
void wg_encrypt_jobs_run(struct wg_encrypt_jobs *jobs)
{
	aead_seal_batch(jobs->msg, jobs->n);
	crypto_wipe(jobs->key, jobs->n * sizeof(jobs->key[0]));
	jobs->n = 0;
}

static void keep_key_fresh(struct wg_peer *peer, uint64_t now_ns)
{
	struct wg_keypair *kp = peer->keypairs.current;

	if (kp && kp->sending_valid &&
	    (kp->sending_counter > WG_REKEY_AFTER_MESSAGES ||
	     (kp->i_am_the_initiator && now_ns >= kp->birthdate + WG_REKEY_AFTER_TIME)))
		wg_packet_send_queued_handshake_initiation(peer, now_ns, false);
}

bool wg_packet_send_staged_packets(struct wg_peer *peer, uint64_t now_ns,
				   const struct wg_aead_later *later, struct pkt_vec *out)
{
	struct wg_device *dev = peer->device;
	struct wg_keypair *kp = peer->keypairs.current;
	bool sent = false;

	if (!peer->staged_len)
		return true;
	if (!wg_keypair_can_send(kp, now_ns)) {
		/* Expired by time or nonces: never again, and a handshake for a new one. */
		if (kp)
			kp->sending_valid = false;
		wg_peer_session_update(peer, now_ns);
		wg_packet_send_queued_handshake_initiation(peer, now_ns, false);
		return true;
	}
	while (peer->staged_len && !pkt_vec_full(out)) {
		struct pkt *p;
		bool is_data;

		if (kp->sending_counter >= WG_REJECT_AFTER_MESSAGES) {
			kp->sending_valid = false;
			wg_peer_session_update(peer, now_ns);
			wg_packet_send_queued_handshake_initiation(peer, now_ns, false);
			return true;
		}
		p = wg_peer_unstage_packet(peer);
		is_data = p->len != 0;
		if (!encrypt_or_defer(p, kp, kp->sending_counter++, dev->mtu, later)) {
			wg_device_count_drop(dev, peer, false, WG_DROP_TX_NO_ROOM);
			pkt_free(p);
			continue;
		}
		wg_timers_any_authenticated_packet_traversal(peer, now_ns);
		wg_timers_any_authenticated_packet_sent(peer);
		if (is_data)
			wg_timers_data_sent(peer, now_ns);
		tx_done(peer, p, out);
		sent = true;
	}
	if (sent)
		keep_key_fresh(peer, now_ns);
	return !peer->staged_len;
}

static void pending_pop(struct wg_device *dev)
{
	struct wg_peer *peer = dev->pending_head;

	dev->pending_head = peer->pending_next;
	if (!dev->pending_head)
		dev->pending_tail = NULL;
	peer->pending_next = NULL;
	peer->on_pending = false;
}

bool wg_device_run_pending(struct wg_device *dev, uint64_t now_ns,
			   const struct wg_aead_later *later, struct pkt_vec *out)
{
	while (dev->pending_head) {
		struct wg_peer *peer = dev->pending_head;

		if (pkt_vec_full(out))
			return false;
		if (peer->want_flush) {
			peer->want_flush = false;
			if (!wg_packet_send_staged_packets(peer, now_ns, later, out)) {
				peer->want_flush = true;
				return false;
			}
		}
		if (peer->want_initiation) {
			if (pkt_vec_full(out))
				return false;
			peer->want_initiation = false;
			send_handshake_initiation(peer, now_ns, out);
		}
		pending_pop(dev);
	}
	return true;
}

static int ip_destination(const struct pkt *p, uint8_t *family, const uint8_t **addr)
{
	if (p->len >= 20 && (p->data[0] >> 4) == 4) {
		*family = AF_INET;
		*addr = p->data + 16;
		return 0;
	}
	if (p->len >= 40 && (p->data[0] >> 4) == 6) {
		*family = AF_INET6;
		*addr = p->data + 24;
		return 0;
	}
	return -1;
}

/* One input: staged, then as much of the peer's queue as fits is sent. */
static void send_one(struct wg_device *dev, struct pkt *p, uint64_t now_ns,
		     const struct wg_aead_later *later, struct pkt_vec *out)
{
	struct wg_peer *peer;
	const uint8_t *dst;
	uint8_t family;

	if (ip_destination(p, &family, &dst)) {
		wg_device_count_drop(dev, NULL, false, WG_DROP_TX_INVALID_IP);
		pkt_free(p);
		return;
	}
	peer = wg_allowedips_lookup(&dev->peer_allowedips, family, dst);
	if (!peer) {
		wg_device_count_drop(dev, NULL, false, WG_DROP_TX_NO_ROUTE);
		pkt_free(p);
		return;
	}
	if (!have_endpoint(peer)) {
		wg_device_count_drop(dev, peer, false, WG_DROP_TX_NO_ENDPOINT);
		pkt_free(p);
		return;
	}
	wg_peer_stage_packet(peer, p);
	if (!wg_packet_send_staged_packets(peer, now_ns, later, out))
		wg_packet_queue_flush(peer);
}

uint32_t wg_device_send(struct wg_device *dev, struct pkt_vec *in, uint64_t now_ns,
			const struct wg_aead_later *later, struct pkt_vec *out)
{
	uint32_t i;

	for (i = 0; i < in->n && !pkt_vec_full(out); i++)
		send_one(dev, in->p[i], now_ns, later, out);
	memmove(in->p, in->p + i, (in->n - i) * sizeof(in->p[0]));
	in->n -= i;
	wg_device_run_pending(dev, now_ns, later, out);
	return i;
}
