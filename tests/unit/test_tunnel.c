/* SPDX-License-Identifier: MIT */
/*
 * Two in-memory devices end to end: handshakes both ways with and without
 * PSK, data both ways, every class of bad input dropped and counted, the
 * cookie path under load, cryptokey routing, roaming, staging, full outputs.
 */
#include "tunnel_harness.h"

static const uint8_t test_psk[32] = {1,	 2,  3,	 4,  5,	 6,  7,	 8,  9,	 10, 11,
				     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
				     23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void exchange_data(struct net *n)
{
	/* A -> B and B -> A, several sizes including a full 1420-byte tunnel packet. */
	const uint32_t sizes[] = {0, 1, 15, 16, 100, 1392};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		node_send(n, &n->a, make_ip4(n, "10.0.0.1", "10.0.0.2", sizes[i], (uint8_t)i));
		node_send(n, &n->b,
			  make_ip4(n, "10.0.0.2", "10.0.0.1", sizes[i], (uint8_t)(i + 50)));
		net_flush(n);
		assert_int_equal(n->b.ip.n, 1);
		assert_int_equal(n->a.ip.n, 1);
		assert_true(ip4_payload_ok(n->b.ip.p[0], sizes[i], (uint8_t)i));
		assert_true(ip4_payload_ok(n->a.ip.p[0], sizes[i], (uint8_t)(i + 50)));
		assert_int_equal(n->b.ip.p[0]->port, n->b.peer->id);
		pkt_vec_free(&n->a.ip);
		pkt_vec_free(&n->b.ip);
	}
	/* IPv6 too. */
	node_send(n, &n->a, make_ip6(n, "fd00::1", "fd00::2", 200, 9));
	net_flush(n);
	assert_int_equal(n->b.ip.n, 1);
	assert_int_equal(n->b.ip.p[0]->len, 240);
	pkt_vec_free(&n->b.ip);
}

static void handshake_and_data(struct node *(*pick)(struct net *), const uint8_t *psk)
{
	struct net n;
	struct node *from;

	net_init(&n, psk);
	from = pick(&n);
	n.now = 10 * NS;
	/* The first packet is staged, an initiation goes out; the answer completes it. */
	node_send(&n, from,
		  make_ip4(&n, from == &n.a ? "10.0.0.1" : "10.0.0.2",
			   from == &n.a ? "10.0.0.2" : "10.0.0.1", 33, 7));
	assert_int_equal(n.log[from == &n.a ? 1 : 0].n[WG_MSG_HANDSHAKE_INITIATION], 1);
	assert_false(wg_peer_has_session(from->peer, n.now));
	net_flush(&n);
	assert_true(wg_peer_has_session(n.a.peer, n.now));
	assert_true(wg_peer_has_session(n.b.peer, n.now));
	assert_int_equal(n.a.ups, 1);
	assert_int_equal(n.b.ups, 1);
	/* The staged packet arrived. */
	assert_int_equal(other(&n, from)->ip.n, 1);
	assert_true(ip4_payload_ok(other(&n, from)->ip.p[0], 33, 7));
	pkt_vec_free(&other(&n, from)->ip);
	/* The initiator keeps the current keypair; the responder's got confirmed by data. */
	assert_true(from->peer->keypairs.current->i_am_the_initiator);
	assert_false(other(&n, from)->peer->keypairs.current->i_am_the_initiator);
	assert_null(other(&n, from)->peer->keypairs.next);
	assert_true(n.a.peer->has_handshake && n.b.peer->has_handshake);
	assert_int_equal(n.a.peer->last_handshake_ns, 10 * NS);
	exchange_data(&n);
	/* Nothing was dropped anywhere. */
	for (int r = 0; r < WG_DROP_MAX; r++) {
		assert_int_equal(n.a.dev.drops[r], 0);
		assert_int_equal(n.b.dev.drops[r], 0);
	}
	/* Transfer counters count whole WireGuard messages. */
	assert_true(n.a.peer->tx_bytes > 0 && n.a.peer->rx_bytes > 0);
	assert_int_equal(n.a.peer->tx_bytes, n.b.peer->rx_bytes);
	assert_int_equal(n.b.peer->tx_bytes, n.a.peer->rx_bytes);
	net_free(&n);
}

static struct node *pick_a(struct net *n)
{
	return &n->a;
}

static struct node *pick_b(struct net *n)
{
	return &n->b;
}

static void test_handshake_a_to_b(void **state)
{
	(void)state;
	handshake_and_data(pick_a, NULL);
}

static void test_handshake_b_to_a(void **state)
{
	(void)state;
	handshake_and_data(pick_b, NULL);
}

static void test_handshake_psk_both_ways(void **state)
{
	(void)state;
	handshake_and_data(pick_a, test_psk);
	handshake_and_data(pick_b, test_psk);
}

static void test_psk_mismatch(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, NULL);
	wg_peer_set_preshared_key(n.b.peer, test_psk);
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 10, 1));
	net_flush(&n);
	/* B answered, A could not authenticate the answer. */
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_RESPONSE], 1);
	assert_int_equal(drops(&n.a, WG_DROP_RX_HANDSHAKE_DECRYPT), 1);
	assert_false(wg_peer_has_session(n.a.peer, n.now));
	assert_int_equal(n.b.ip.n, 0);
	net_free(&n);
}

/* Captures the next message towards x instead of delivering it. */
static struct pkt *capture_one(struct net *n, struct node *x)
{
	struct pkt *p;

	assert_int_equal(n->held[dir_to(n, x)].n, 1);
	p = n->held[dir_to(n, x)].p[0];
	n->held[dir_to(n, x)].n = 0;
	return p;
}

static struct pkt *clone_pkt(struct net *n, const struct pkt *p)
{
	struct pkt *c = pkt_alloc(&n->pool);

	memcpy(pkt_put(c, p->len), p->data, p->len);
	c->src = p->src;
	return c;
}

static void deliver_one(struct net *n, struct node *x, struct pkt *p)
{
	assert_true(pkt_vec_add(&n->to[dir_to(n, x)], p));
	net_flush(n);
}

static void test_bad_handshakes(void **state)
{
	struct net n;
	struct pkt *init, *p;

	(void)state;
	net_init(&n, NULL);
	n.capture[1] = true;
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 10, 1));
	init = capture_one(&n, &n.b);
	n.capture[1] = false;

	/* Wrong mac1. */
	p = clone_pkt(&n, init);
	p->data[WG_INIT_OFF_MAC1 + 3] ^= 1;
	deliver_one(&n, &n.b, p);
	assert_int_equal(drops(&n.b, WG_DROP_RX_BAD_MAC1), 1);
	/* Wrong sizes: one byte short, one byte long. */
	p = clone_pkt(&n, init);
	pkt_trim(p, WG_INIT_SIZE - 1);
	deliver_one(&n, &n.b, p);
	p = clone_pkt(&n, init);
	*pkt_put(p, 1) = 0;
	deliver_one(&n, &n.b, p);
	assert_int_equal(drops(&n.b, WG_DROP_RX_BAD_SIZE), 2);
	/* Unknown type, short header. */
	p = clone_pkt(&n, init);
	p->data[0] = 9;
	deliver_one(&n, &n.b, p);
	p = clone_pkt(&n, init);
	pkt_trim(p, 3);
	deliver_one(&n, &n.b, p);
	assert_int_equal(drops(&n.b, WG_DROP_RX_BAD_TYPE), 2);
	/* None of that produced an answer or a session. */
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_RESPONSE], 0);

	/* The real one is answered... */
	p = clone_pkt(&n, init);
	n.capture[0] = true;
	deliver_one(&n, &n.b, p);
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_RESPONSE], 1);
	p = capture_one(&n, &n.a);
	n.capture[0] = false;
	/* ...its replay is not, even a minute later (TAI64N not newer). */
	n.now += 60 * NS;
	deliver_one(&n, &n.b, init);
	assert_int_equal(drops(&n.b, WG_DROP_RX_INITIATION_REPLAY), 1);
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_RESPONSE], 1);

	/* A response with a flipped bit in its encrypted part: mac1 no longer matches. */
	{
		struct pkt *bad = clone_pkt(&n, p);

		bad->data[WG_RESP_OFF_EMPTY] ^= 1;
		deliver_one(&n, &n.a, bad);
		assert_int_equal(drops(&n.a, WG_DROP_RX_BAD_MAC1), 1);
	}
	/* A response naming an index nobody issued. */
	{
		struct pkt *bad = clone_pkt(&n, p);

		put_le32(bad->data + WG_RESP_OFF_RECEIVER,
			 get_le32(bad->data + WG_RESP_OFF_RECEIVER) + 1);
		deliver_one(&n, &n.a, bad);
		/* mac1 covers the index too, so the MAC check refuses it first. */
		assert_int_equal(drops(&n.a, WG_DROP_RX_BAD_MAC1), 2);
	}
	/* The genuine response (delivered late but within the handshake) completes it once. */
	deliver_one(&n, &n.a, clone_pkt(&n, p));
	assert_true(wg_peer_has_session(n.a.peer, n.now));
	deliver_one(&n, &n.a, p);
	assert_int_equal(drops(&n.a, WG_DROP_RX_UNKNOWN_INDEX), 1);
	net_free(&n);
}

static void test_flooded_initiations(void **state)
{
	struct net n;
	uint64_t before;

	(void)state;
	net_init(&n, NULL);
	net_handshake(&n, &n.a);
	/* A second initiation 10 ms later (new timestamp) exceeds 50 per second. */
	n.now += 10 * MS;
	wg_device_set_private_key(&n.a.dev, n.a.priv, n.now); /* same key: no change */
	n.a.peer->last_sent_handshake = WG_TIMER_OFF;	      /* let A initiate at once */
	n.a.dev.wall_offset_ns += NS;			      /* and with a later timestamp */
	before = n.log[0].n[WG_MSG_HANDSHAKE_RESPONSE];
	wg_packet_send_queued_handshake_initiation(n.a.peer, n.now, false);
	net_run_until(&n, n.now);
	assert_int_equal(drops(&n.b, WG_DROP_RX_INITIATION_FLOOD), 1);
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_RESPONSE], before);
	net_free(&n);
}

static void test_bad_data(void **state)
{
	struct net n;
	struct pkt *d, *p;
	uint64_t hs_at;
	uint32_t got;

	(void)state;
	net_init(&n, NULL);
	net_handshake(&n, &n.a);
	/* The handshake proved each to the other: the liveness clock starts there. */
	hs_at = n.now;
	assert_int_equal(n.b.peer->last_authenticated_rx, hs_at);
	n.capture[1] = true;
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 64, 3));
	d = capture_one(&n, &n.b);
	n.capture[1] = false;
	n.now += NS;

	/* Bad tag: a bit flipped in the ciphertext, the tag, or the counter. */
	const size_t offs[] = {20, 16 + 92 - 1, WG_DATA_OFF_COUNTER};
	for (size_t i = 0; i < 3; i++) {
		p = clone_pkt(&n, d);
		p->data[offs[i]] ^= 0x10;
		deliver_one(&n, &n.b, p);
	}
	assert_int_equal(drops(&n.b, WG_DROP_RX_BAD_TAG), 3);
	/* Unknown receiver index. */
	p = clone_pkt(&n, d);
	p->data[WG_DATA_OFF_RECEIVER] ^= 1;
	deliver_one(&n, &n.b, p);
	assert_int_equal(drops(&n.b, WG_DROP_RX_UNKNOWN_INDEX), 1);
	/* Truncated below header + tag. */
	p = clone_pkt(&n, d);
	pkt_trim(p, 31);
	deliver_one(&n, &n.b, p);
	assert_int_equal(drops(&n.b, WG_DROP_RX_BAD_SIZE), 1);
	assert_int_equal(n.b.ip.n, 0);
	/* Nothing of that was the peer's: no sign of life. */
	assert_int_equal(n.b.peer->last_authenticated_rx, hs_at);
	/* The genuine packet once, then its replay. */
	deliver_one(&n, &n.b, clone_pkt(&n, d));
	assert_int_equal(n.b.ip.n, 1);
	assert_int_equal(n.b.peer->last_authenticated_rx, n.now);
	n.now += NS;
	deliver_one(&n, &n.b, d);
	assert_int_equal(drops(&n.b, WG_DROP_RX_REPLAY), 1);
	assert_int_equal(n.b.ip.n, 1);
	assert_int_equal(n.b.peer->last_authenticated_rx, n.now - NS);
	pkt_vec_free(&n.b.ip);

	/* Out of order inside the window is fine; older than the window is not. */
	{
		struct pkt *old = NULL, *mid = NULL;

		n.capture[1] = true;
		for (uint32_t i = 0; i < WG_REPLAY_WINDOW + 200; i++) {
			struct pkt_vec out;

			node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 0, 0));
			p = capture_one(&n, &n.b);
			if (i == 0)
				old = p;
			else if (i == WG_REPLAY_WINDOW + 100)
				mid = p;
			else if (i == WG_REPLAY_WINDOW + 199)
				deliver_one(&n, &n.b, p); /* the newest arrives first */
			else
				pkt_free(p);
			(void)out;
		}
		n.capture[1] = false;
		got = n.b.ip.n;
		deliver_one(&n, &n.b, mid);
		assert_int_equal(n.b.ip.n, got + 1);
		deliver_one(&n, &n.b, old);
		assert_int_equal(drops(&n.b, WG_DROP_RX_REPLAY), 2);
		assert_int_equal(n.b.ip.n, got + 1);
		pkt_vec_free(&n.b.ip);
	}
	/* Per-peer drop share. */
	assert_true(n.b.peer->rx_dropped >= 5);
	net_free(&n);
}

static void test_cookie_path(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, NULL);
	/* B's receive queue is long: handshakes need a cookie first. */
	n.under_load[1] = true;
	n.now = 100 * NS;
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 20, 4));
	net_flush(&n);
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_COOKIE], 1);
	assert_int_equal(n.b.dev.cookie_replies_sent, 1);
	assert_int_equal(drops(&n.b, WG_DROP_RX_COOKIE_SENT), 1);
	assert_true(n.a.peer->latest_cookie.is_valid);
	/*
	 * A retried at once with mac2 (not after REKEY_TIMEOUT, as the kernel would), and B,
	 * still loaded, accepted it.
	 */
	assert_int_equal(n.log[1].n[WG_MSG_HANDSHAKE_INITIATION], 2);
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_COOKIE], 1);
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_RESPONSE], 1);
	assert_true(wg_peer_has_session(n.a.peer, n.now));
	assert_true(wg_peer_has_session(n.b.peer, n.now));
	assert_int_equal(n.b.ip.n, 1);
	assert_true(ip4_payload_ok(n.b.ip.p[0], 20, 4));
	pkt_vec_free(&n.b.ip);
	/* The rate limiter saw it, and its collector runs once a second while it holds entries. */
	assert_true(n.b.dev.ratelimiter.stats.allowed >= 1);
	assert_true(wg_device_next_timer(&n.b.dev) <= n.now + NS);
	net_run_until(&n, n.now + 3 * NS);
	assert_int_equal(n.b.dev.ratelimiter.count, 0);
	net_free(&n);
}

static void test_ratelimited_under_load(void **state)
{
	struct net n;
	struct pkt *init;
	uint64_t refused;

	(void)state;
	net_init(&n, NULL);
	n.under_load[1] = true;
	/*
	 * Get a cookie, then capture the mac2-carrying initiation A answers it with at once,
	 * to replay many times.
	 */
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 20, 4));
	net_deliver(&n, &n.b);
	n.capture[1] = true;
	net_deliver(&n, &n.a);
	init = capture_one(&n, &n.b);
	n.capture[1] = false;
	for (int i = 0; i < 40; i++)
		deliver_one(&n, &n.b, clone_pkt(&n, init));
	pkt_free(init);
	refused = drops(&n.b, WG_DROP_RX_RATELIMITED);
	/* A burst of 5 passes the bucket (the first is consumed, the rest are replays). */
	assert_int_equal(refused, 35);
	assert_int_equal(drops(&n.b, WG_DROP_RX_INITIATION_REPLAY), 4);
	net_free(&n);
}

static void test_cryptokey_routing(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, NULL);
	/* No peer owns the destination: dropped before anything else happens. */
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.9.9.9", 10, 1));
	node_send(&n, &n.a, make_ip6(&n, "fd00::1", "fd00::99", 10, 1));
	assert_int_equal(drops(&n.a, WG_DROP_TX_NO_ROUTE), 2);
	assert_int_equal(n.log[1].n[WG_MSG_HANDSHAKE_INITIATION], 0);
	/* Not IP at all. */
	{
		struct pkt *p = make_ip4(&n, "10.0.0.1", "10.0.0.2", 10, 1);

		p->data[0] = 0x55;
		node_send(&n, &n.a, p);
		assert_int_equal(drops(&n.a, WG_DROP_TX_INVALID_IP), 1);
	}
	net_handshake(&n, &n.a);
	/* B sends (B routes 10.0.0.1 to A) with an inner source A does not allow from B. */
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.77", "10.0.0.1", 10, 1));
	net_flush(&n);
	assert_int_equal(drops(&n.a, WG_DROP_RX_WRONG_SOURCE), 1);
	assert_int_equal(n.a.ip.n, 0);
	/* Once A allows 10.0.0.64/26 from B, it passes. */
	add_aip(n.a.peer, "10.0.0.64", 26);
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.77", "10.0.0.1", 10, 1));
	net_flush(&n);
	assert_int_equal(n.a.ip.n, 1);
	pkt_vec_free(&n.a.ip);
	/* An inner packet whose length field lies is refused. */
	{
		struct pkt *p = make_ip4(&n, "10.0.0.2", "10.0.0.1", 10, 1);

		put_be16(p->data + 2, 500);
		node_send(&n, &n.b, p);
		net_flush(&n);
		assert_int_equal(drops(&n.a, WG_DROP_RX_INVALID_IP), 1);
	}
	/* Removing the allowed IP stops the traffic again. */
	wg_peer_clear_allowed_ips(n.a.peer);
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 10, 1));
	assert_int_equal(drops(&n.a, WG_DROP_TX_NO_ROUTE), 3);
	net_free(&n);
}

static void test_roaming(void **state)
{
	struct net n;
	struct vw_endpoint moved, forged;
	struct pkt *p;

	(void)state;
	net_init(&n, NULL);
	net_handshake(&n, &n.a);
	make_ep(&moved, "198.51.100.7", 4000);
	make_ep(&forged, "203.0.113.9", 666);

	/* A forged packet from elsewhere does not move the endpoint. */
	n.capture[0] = true;
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 10, 1));
	p = capture_one(&n, &n.a);
	n.capture[0] = false;
	{
		struct pkt *bad = clone_pkt(&n, p);

		bad->data[40] ^= 1;
		bad->src = forged;
		deliver_one(&n, &n.a, bad);
		assert_true(vw_endpoint_equal(&n.a.peer->endpoint, &n.b.ep));
	}
	/* An authenticated one from a new address does. */
	p->src = moved;
	deliver_one(&n, &n.a, p);
	assert_true(vw_endpoint_equal(&n.a.peer->endpoint, &moved));
	pkt_vec_free(&n.a.ip);
	/* And A's next packet goes there. */
	{
		struct pkt_vec in, out;

		pkt_vec_init(&in);
		pkt_vec_init(&out);
		pkt_vec_add(&in, make_ip4(&n, "10.0.0.1", "10.0.0.2", 10, 1));
		wg_device_send(&n.a.dev, &in, n.now, NULL, &out);
		assert_int_equal(out.n, 1);
		assert_true(vw_endpoint_equal(&out.p[0]->dst, &moved));
		pkt_vec_free(&out);
	}
	net_free(&n);
}

static void test_staging(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, NULL);
	n.cut[1] = true;
	/* 200 packets while there is no session: the newest 128 wait, 72 are dropped. */
	for (int i = 0; i < 200; i++)
		node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 4, (uint8_t)i));
	assert_int_equal(n.a.peer->staged_len, WG_MAX_STAGED_PACKETS);
	assert_int_equal(drops(&n.a, WG_DROP_TX_STAGED_OVERFLOW), 200 - WG_MAX_STAGED_PACKETS);
	/* Only one initiation per REKEY_TIMEOUT however many packets wait. */
	assert_int_equal(n.log[1].n[WG_MSG_HANDSHAKE_INITIATION], 1);
	n.cut[1] = false;
	net_run_until(&n, 6 * NS);
	assert_true(wg_peer_has_session(n.a.peer, n.now));
	/* All 128 arrive, in order (B's output vector filled on the way). */
	assert_int_equal(n.b.rx_count, 128);
	for (uint32_t i = 0; i < 128; i++)
		assert_int_equal(n.b.rx_tags[i], (uint8_t)(72 + i));
	pkt_vec_free(&n.b.ip);
	/* Without an endpoint nothing is staged at all. */
	wg_peer_set_endpoint(n.a.peer, NULL);
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 4, 0));
	assert_int_equal(drops(&n.a, WG_DROP_TX_NO_ENDPOINT), 1);
	net_free(&n);
}

/*
 * Deferred encryption (vwired's workers run the AEAD outside their lock): the device
 * frames the packets and takes their counters, the jobs encrypt them later, and the
 * result is byte for byte what immediate encryption gives (a twin network with the same
 * seeds); B accepts every packet. A full job list falls back to encrypting at once.
 */
static struct wg_encrypt_jobs deferred_jobs;

static void send_batch(struct net *n, uint32_t count, uint8_t tag0,
		       const struct wg_aead_later *later, struct pkt_vec *out)
{
	struct pkt_vec in;

	pkt_vec_init(&in);
	pkt_vec_init(out);
	for (uint32_t i = 0; i < count; i++)
		pkt_vec_add(&in, make_ip4(n, "10.0.0.1", "10.0.0.2", 100 + i, (uint8_t)(tag0 + i)));
	assert_int_equal(wg_device_send(&n->a.dev, &in, n->now, later, out), count);
}

static void test_deferred_encryption(void **state)
{
	static struct net now_net, later_net;
	struct net *n1 = &now_net, *n2 = &later_net;
	const struct wg_aead_later later = {.seal = &deferred_jobs};
	struct pkt_vec out1, out2;

	(void)state;
	net_init(n1, NULL);
	net_init(n2, NULL);
	net_handshake(n1, &n1->a);
	net_handshake(n2, &n2->a);
	send_batch(n1, 64, 0, NULL, &out1);
	send_batch(n2, 64, 0, &later, &out2);
	assert_int_equal(out2.n, 64);
	assert_int_equal(deferred_jobs.n, 64);
	for (uint32_t i = 0; i < 64; i++) {
		/* Framed, counter in the header, but the plaintext is still there. */
		assert_int_equal(out2.p[i]->len, out1.p[i]->len);
		assert_memory_equal(out2.p[i]->data, out1.p[i]->data, WG_DATA_HEADER_SIZE);
		assert_int_equal(out2.p[i]->data[WG_DATA_HEADER_SIZE], 0x45);
	}
	wg_encrypt_jobs_run(&deferred_jobs);
	assert_int_equal(deferred_jobs.n, 0);
	for (uint32_t i = 0; i < 64; i++)
		assert_memory_equal(out2.p[i]->data, out1.p[i]->data, out1.p[i]->len);
	pkt_vec_free(&out1);
	/* B took the handshake's packet already; then all 64, in order. */
	net_route(n2, &n2->a, &out2);
	net_flush(n2);
	assert_int_equal(n2->b.rx_count, 1 + 64);
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(n2->b.rx_tags[1 + i], (uint8_t)i);

	/* A full list: the packet is encrypted at once, the list is left alone. */
	deferred_jobs.n = WG_ENCRYPT_JOBS_MAX;
	send_batch(n1, 1, 7, NULL, &out1);
	send_batch(n2, 1, 7, &later, &out2);
	assert_int_equal(deferred_jobs.n, WG_ENCRYPT_JOBS_MAX);
	assert_memory_equal(out2.p[0]->data, out1.p[0]->data, out1.p[0]->len);
	deferred_jobs.n = 0;
	pkt_vec_free(&out1);
	net_route(n2, &n2->a, &out2);
	net_flush(n2);
	assert_int_equal(n2->b.rx_count, 1 + 64 + 1);
	assert_int_equal(n2->b.rx_tags[65], 7);
	net_free(n1);
	net_free(n2);
}

/*
 * Deferred decryption: B records the data messages, opens them outside (the caller's)
 * lock and finishes them after: every intact one is delivered in order, a forged one is
 * a bad tag, a replayed one a replay, and a session that went away in between (peer
 * removed, or another keypair under the same index) drops what was opened for it without
 * leaking a buffer.
 */
static struct wg_decrypt_jobs deferred_rx;

enum between { NOTHING_BETWEEN, PEER_REMOVED, SESSION_REPLACED };

/*
 * What a reused index would look like: a new keypair (same keys even, but a fresh replay
 * window) takes over the current one's receiver index.
 */
static void replace_session_keeping_index(struct wg_device *dev, struct wg_peer *peer)
{
	struct wg_keypair *old = peer->keypairs.current;
	struct wg_keypair *kp = wg_keypair_alloc(&peer->keypairs);

	assert_non_null(kp);
	memcpy(kp->sending_key, old->sending_key, sizeof(kp->sending_key));
	memcpy(kp->receiving_key, old->receiving_key, sizeof(kp->receiving_key));
	kp->remote_index = old->remote_index;
	kp->birthdate = old->birthdate;
	kp->i_am_the_initiator = old->i_am_the_initiator;
	kp->sending_valid = kp->receiving_valid = true;
	kp->id = ++dev->keypairs_made;
	wg_index_replace(&dev->index_table, &old->entry, &kp->entry);
	peer->keypairs.current = kp;
	wg_keypair_release(&dev->index_table, old);
}

/* B takes what is on the wire towards it with deferral on; returns what it delivered. */
static uint32_t deliver_deferred(struct net *n, enum between between)
{
	const struct wg_aead_later later = {.open = &deferred_rx};
	struct pkt_vec *in = &n->to[1], out_udp, out_ip;
	uint32_t got = 0;

	pkt_vec_init(&out_udp);
	pkt_vec_init(&out_ip);
	wg_device_receive(&n->b.dev, in, n->now, false, &later, &out_udp, &out_ip);
	assert_int_equal(in->n, 0);
	assert_int_equal(out_ip.n, 0); /* nothing opened yet */
	wg_decrypt_jobs_run(&deferred_rx);
	if (between == PEER_REMOVED) {
		wg_device_remove_peer(&n->b.dev, n->b.peer);
		n->b.peer = NULL;
	} else if (between == SESSION_REPLACED) {
		replace_session_keeping_index(&n->b.dev, n->b.peer);
	}
	while (deferred_rx.n) {
		wg_device_receive_decrypted(&n->b.dev, &later, n->now, &out_udp, &out_ip);
		for (uint32_t i = 0; i < out_ip.n; i++) {
			n->b.rx_tags[n->b.rx_count++ % sizeof(n->b.rx_tags)] =
				out_ip.p[i]->data[28];
			got++;
		}
		pkt_vec_free(&out_ip);
	}
	net_route(n, &n->b, &out_udp);
	return got;
}

static void test_deferred_decryption(void **state)
{
	static struct net net;
	struct net *n = &net;
	struct pkt *copy;

	(void)state;
	net_init(n, NULL);
	net_handshake(n, &n->a);
	n->capture[1] = true;
	for (uint32_t i = 0; i < 40; i++)
		node_send(n, &n->a, make_ip4(n, "10.0.0.1", "10.0.0.2", 50 + i, (uint8_t)i));
	assert_int_equal(n->held[1].n, 40);
	/* One forged (a ciphertext byte flipped), one sent twice. */
	n->held[1].p[5]->data[WG_DATA_HEADER_SIZE + 3] ^= 1;
	copy = pkt_alloc(&n->pool);
	assert_non_null(copy);
	memcpy(pkt_put(copy, n->held[1].p[9]->len), n->held[1].p[9]->data, n->held[1].p[9]->len);
	copy->src = n->held[1].p[9]->src;
	for (uint32_t i = 0; i < 40; i++)
		pkt_vec_add(&n->to[1], n->held[1].p[i]);
	pkt_vec_add(&n->to[1], copy);
	n->held[1].n = 0;
	assert_int_equal(deliver_deferred(n, NOTHING_BETWEEN), 39);
	assert_int_equal(drops(&n->b, WG_DROP_RX_BAD_TAG), 1);
	assert_int_equal(drops(&n->b, WG_DROP_RX_REPLAY), 1);
	for (uint32_t i = 0, k = 1; i < 40; i++) {
		if (i == 5)
			continue;
		assert_int_equal(n->b.rx_tags[k++], (uint8_t)i);
	}
	/*
	 * Opened, then another keypair answers to their index before they are finished: they
	 * were not authenticated under its replay window, so they go; its own traffic flows.
	 */
	for (uint32_t i = 0; i < 10; i++)
		node_send(n, &n->a, make_ip4(n, "10.0.0.1", "10.0.0.2", 20, (uint8_t)i));
	for (uint32_t i = 0; i < n->held[1].n; i++)
		pkt_vec_add(&n->to[1], n->held[1].p[i]);
	n->held[1].n = 0;
	assert_int_equal(deliver_deferred(n, SESSION_REPLACED), 0);
	assert_int_equal(drops(&n->b, WG_DROP_RX_KEY_EXPIRED), 10);
	node_send(n, &n->a, make_ip4(n, "10.0.0.1", "10.0.0.2", 20, 77));
	for (uint32_t i = 0; i < n->held[1].n; i++)
		pkt_vec_add(&n->to[1], n->held[1].p[i]);
	n->held[1].n = 0;
	assert_int_equal(deliver_deferred(n, NOTHING_BETWEEN), 1);
	assert_int_equal(n->b.rx_tags[(n->b.rx_count - 1) % sizeof(n->b.rx_tags)], 77);
	/* Opened, then the session is gone before they are finished. */
	for (uint32_t i = 0; i < 10; i++)
		node_send(n, &n->a, make_ip4(n, "10.0.0.1", "10.0.0.2", 20, (uint8_t)i));
	for (uint32_t i = 0; i < n->held[1].n; i++)
		pkt_vec_add(&n->to[1], n->held[1].p[i]);
	n->held[1].n = 0;
	n->capture[1] = false;
	assert_int_equal(deliver_deferred(n, PEER_REMOVED), 0);
	assert_int_equal(drops(&n->b, WG_DROP_RX_UNKNOWN_INDEX), 10);
	net_free(n);
}

/* True when the 32 bytes of key appear anywhere in the len bytes at mem. */
static bool holds_key(const void *mem, size_t len, const uint8_t key[32])
{
	return memmem(mem, len, key, 32) != NULL;
}

/*
 * The job lists hold copies of session keys: none may outlive its use. The decryption
 * list loses them once it ran, and the slots its compaction (a finish that stops at a
 * full out_ip) moves jobs out of are wiped, whether those jobs ran or not; the
 * encryption list loses them once it ran.
 */
static void test_job_lists_wipe_keys(void **state)
{
	static struct net net;
	static struct wg_decrypt_jobs rx;
	static struct wg_encrypt_jobs tx;
	const struct wg_aead_later rx_later = {.open = &rx}, tx_later = {.seal = &tx};
	struct net *n = &net;
	struct pkt_vec out_udp, out_ip, out;
	uint8_t rkey[32], skey[32];
	uint32_t delivered = 0;

	(void)state;
	net_init(n, NULL);
	net_handshake(n, &n->a);
	memcpy(rkey, n->b.peer->keypairs.current->receiving_key, sizeof(rkey));
	memcpy(skey, n->a.peer->keypairs.current->sending_key, sizeof(skey));
	assert_memory_equal(rkey, skey, sizeof(rkey));

	/* Ten recorded, run, then finished three at a time: the list is compacted. */
	memset(&rx, 0, sizeof(rx));
	n->capture[1] = true;
	for (uint32_t i = 0; i < 10; i++)
		node_send(n, &n->a, make_ip4(n, "10.0.0.1", "10.0.0.2", 20, (uint8_t)i));
	n->capture[1] = false;
	pkt_vec_init(&out_udp);
	pkt_vec_init(&out_ip);
	wg_device_receive(&n->b.dev, &n->held[1], n->now, false, &rx_later, &out_udp, &out_ip);
	assert_int_equal(rx.n, 10);
	assert_true(holds_key(&rx, sizeof(rx), rkey));
	wg_decrypt_jobs_run(&rx);
	assert_false(holds_key(&rx, sizeof(rx), rkey));
	while (rx.n) {
		uint32_t before = rx.n;

		out_ip.n = PKT_VEC_MAX - 3;
		wg_device_receive_decrypted(&n->b.dev, &rx_later, n->now, &out_udp, &out_ip);
		assert_int_equal(rx.n, before > 3 ? before - 3 : 0);
		for (uint32_t i = PKT_VEC_MAX - 3; i < out_ip.n; i++, delivered++)
			pkt_free(out_ip.p[i]);
		pkt_vec_init(&out_ip);
		/* Nothing of a finished or moved job is left past the live ones. */
		for (uint32_t i = rx.n; i < WG_DECRYPT_JOBS_MAX; i++)
			assert_null(rx.job[i].p);
	}
	assert_int_equal(delivered, 10);

	/*
	 * Five recorded and run, five more recorded behind them: the move after finishing
	 * three carries keys (of the five not run yet), and leaves none behind it.
	 */
	n->capture[1] = true;
	for (uint32_t i = 0; i < 10; i++)
		node_send(n, &n->a, make_ip4(n, "10.0.0.1", "10.0.0.2", 20, (uint8_t)i));
	n->capture[1] = false;
	assert_int_equal(n->held[1].n, 10);
	n->held[1].n = 5;
	wg_device_receive(&n->b.dev, &n->held[1], n->now, false, &rx_later, &out_udp, &out_ip);
	wg_decrypt_jobs_run(&rx);
	for (uint32_t i = 0; i < 5; i++)
		n->held[1].p[i] = n->held[1].p[5 + i];
	n->held[1].n = 5;
	wg_device_receive(&n->b.dev, &n->held[1], n->now, false, &rx_later, &out_udp, &out_ip);
	assert_int_equal(rx.n, 10);
	out_ip.n = PKT_VEC_MAX - 3;
	wg_device_receive_decrypted(&n->b.dev, &rx_later, n->now, &out_udp, &out_ip);
	assert_int_equal(rx.n, 7);
	for (uint32_t i = PKT_VEC_MAX - 3; i < out_ip.n; i++)
		pkt_free(out_ip.p[i]);
	pkt_vec_init(&out_ip);
	assert_true(holds_key(rx.job, rx.n * sizeof(rx.job[0]), rkey));
	assert_false(
		holds_key(rx.job + rx.n, (WG_DECRYPT_JOBS_MAX - rx.n) * sizeof(rx.job[0]), rkey));
	/* The five never opened are finished as forgeries would be: dropped, keys gone. */
	while (rx.n)
		wg_device_receive_decrypted(&n->b.dev, &rx_later, n->now, &out_udp, &out_ip);
	assert_int_equal(out_ip.n, 2);
	assert_int_equal(drops(&n->b, WG_DROP_RX_BAD_TAG), 5);
	assert_false(holds_key(&rx, sizeof(rx), rkey));
	pkt_vec_free(&out_ip);
	pkt_vec_free(&out_udp);

	/* The encryption list: a copy per recorded packet until it runs. */
	memset(&tx, 0, sizeof(tx));
	send_batch(n, 5, 0, &tx_later, &out);
	assert_int_equal(tx.n, 5);
	assert_true(holds_key(&tx, sizeof(tx), skey));
	wg_encrypt_jobs_run(&tx);
	assert_false(holds_key(&tx, sizeof(tx), skey));
	pkt_vec_free(&out);
	crypto_wipe(rkey, sizeof(rkey));
	crypto_wipe(skey, sizeof(skey));
	net_free(n);
}

static void test_full_outputs(void **state)
{
	struct net n;
	struct pkt_vec in, out;
	uint32_t consumed;

	(void)state;
	net_init(&n, NULL);
	net_handshake(&n, &n.a);
	/* 10 packets into an output with 3 free slots: 3 consumed, 7 left in order. */
	pkt_vec_init(&in);
	pkt_vec_init(&out);
	for (int i = 0; i < 10; i++)
		pkt_vec_add(&in, make_ip4(&n, "10.0.0.1", "10.0.0.2", 4, (uint8_t)i));
	out.n = PKT_VEC_MAX - 3;
	for (uint32_t i = 0; i < out.n; i++)
		out.p[i] = NULL;
	consumed = wg_device_send(&n.a.dev, &in, n.now, NULL, &out);
	assert_int_equal(consumed, 3);
	assert_int_equal(in.n, 7);
	assert_int_equal(in.p[0]->data[28], 3);
	assert_int_equal(out.n, PKT_VEC_MAX);
	for (uint32_t i = PKT_VEC_MAX - 3; i < PKT_VEC_MAX; i++)
		pkt_free(out.p[i]);
	pkt_vec_init(&out);
	assert_int_equal(wg_device_send(&n.a.dev, &in, n.now, NULL, &out), 7);
	assert_int_equal(in.n, 0);
	net_route(&n, &n.a, &out);
	net_flush(&n);
	assert_int_equal(n.b.ip.n, 7);
	pkt_vec_free(&n.b.ip);

	/* Receive stops when out_ip is full and leaves the rest. */
	n.capture[1] = true;
	for (int i = 0; i < 5; i++)
		node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 4, (uint8_t)i));
	n.capture[1] = false;
	{
		struct pkt_vec out_udp, out_ip;

		pkt_vec_init(&out_udp);
		pkt_vec_init(&out_ip);
		out_ip.n = PKT_VEC_MAX - 2;
		assert_int_equal(wg_device_receive(&n.b.dev, &n.held[1], n.now, false, NULL,
						   &out_udp, &out_ip),
				 2);
		assert_int_equal(n.held[1].n, 3);
		pkt_free(out_ip.p[PKT_VEC_MAX - 2]);
		pkt_free(out_ip.p[PKT_VEC_MAX - 1]);
		pkt_vec_init(&out_ip);
		assert_int_equal(wg_device_receive(&n.b.dev, &n.held[1], n.now, false, NULL,
						   &out_udp, &out_ip),
				 3);
		assert_int_equal(out_ip.n, 3);
		assert_int_equal(out_ip.p[0]->data[28], 2);
		pkt_vec_free(&out_ip);
		pkt_vec_free(&out_udp);
	}
	net_free(&n);
}

/* A new peer takes the lowest free id, also after removals below the last one added. */
static void test_peer_ids(void **state)
{
	struct net n;
	struct wg_peer *p[6], *q;
	uint8_t key[32];

	(void)state;
	net_init(&n, NULL);
	assert_int_equal(n.a.peer->id, 0);
	for (uint32_t i = 0; i < 6; i++) {
		memset(key, 0x20 + (int)i, sizeof(key));
		assert_int_equal(wg_device_add_peer(&n.a.dev, key, &p[i]), 0);
		assert_int_equal(p[i]->id, i + 1);
	}
	wg_device_remove_peer(&n.a.dev, p[3]); /* id 4 */
	wg_device_remove_peer(&n.a.dev, p[1]); /* id 2 */
	memset(key, 0x40, sizeof(key));
	assert_int_equal(wg_device_add_peer(&n.a.dev, key, &q), 0);
	assert_int_equal(q->id, 2);
	key[0]++;
	assert_int_equal(wg_device_add_peer(&n.a.dev, key, &q), 0);
	assert_int_equal(q->id, 4);
	key[0]++;
	assert_int_equal(wg_device_add_peer(&n.a.dev, key, &q), 0);
	assert_int_equal(q->id, 7);
	assert_ptr_equal(wg_device_peer_by_id(&n.a.dev, 7), q);
	wg_device_remove_peer(&n.a.dev, n.a.peer);
	key[0]++;
	assert_int_equal(wg_device_add_peer(&n.a.dev, key, &q), 0);
	assert_int_equal(q->id, 0);
	n.a.peer = q;
	net_free(&n);
}

static void test_peer_config(void **state)
{
	struct net n;
	struct wg_peer *p, *q;
	struct wg_peer_info info;
	uint8_t key[32];
	uint32_t count = 0;

	(void)state;
	net_init(&n, NULL);
	assert_int_equal(wg_device_add_peer(&n.a.dev, n.b.pub, &p), -EEXIST);
	assert_ptr_equal(p, n.a.peer);
	assert_int_equal(wg_device_add_peer(&n.a.dev, n.a.pub, &p), -EINVAL);
	assert_ptr_equal(wg_device_find_peer(&n.a.dev, n.b.pub), n.a.peer);
	assert_ptr_equal(wg_device_peer_by_id(&n.a.dev, n.a.peer->id), n.a.peer);
	for (int i = 0; i < 5; i++) {
		memset(key, 0x10 + i, sizeof(key));
		assert_int_equal(wg_device_add_peer(&n.a.dev, key, &q), 0);
	}
	for (p = wg_device_first_peer(&n.a.dev); p; p = wg_device_next_peer(p))
		count++;
	assert_int_equal(count, 6);
	assert_ptr_equal(wg_device_first_peer(&n.a.dev), n.a.peer);
	wg_device_remove_peer(&n.a.dev, q);
	assert_null(wg_device_find_peer(&n.a.dev, key));

	net_handshake(&n, &n.a);
	wg_peer_get_info(n.a.peer, &info);
	assert_memory_equal(info.public_key, n.b.pub, 32);
	assert_true(info.has_handshake);
	assert_true(info.session_up);
	assert_true(vw_endpoint_equal(&info.endpoint, &n.b.ep));

	/* A new private key ends the sessions, and a new handshake works with it. */
	{
		uint8_t priv[32];

		memset(priv, 0x77, sizeof(priv));
		x25519_clamp(priv);
		wg_device_set_private_key(&n.a.dev, priv, n.now);
		assert_false(wg_peer_has_session(n.a.peer, n.now));
		assert_int_equal(n.a.downs, 1);
		/* B must learn A's new key: replace the peer. */
		x25519_public(key, priv);
		wg_device_remove_peer(&n.b.dev, n.b.peer);
		assert_int_equal(n.b.downs, 1);
		assert_int_equal(wg_device_add_peer(&n.b.dev, key, &n.b.peer), 0);
		wg_peer_set_endpoint(n.b.peer, &n.a.ep);
		add_aip(n.b.peer, "10.0.0.1", 32);
		n.now += NS;
		net_handshake(&n, &n.a);
	}
	/* Removing all peers reports the session down and frees everything. */
	wg_device_remove_all_peers(&n.a.dev);
	assert_null(wg_device_first_peer(&n.a.dev));
	assert_int_equal(n.a.downs, 2);
	assert_int_equal(n.a.dev.index_table.count, 0);
	net_free(&n);
}

static void test_drop_names(void **state)
{
	(void)state;
	assert_string_equal(wg_drop_name(WG_DROP_RX_BAD_MAC1), "rx_bad_mac1");
	assert_string_equal(wg_drop_name(WG_DROP_TX_NO_ROUTE), "tx_no_route");
	assert_null(wg_drop_name(WG_DROP_MAX));
	for (int r = 0; r < WG_DROP_MAX; r++)
		assert_non_null(wg_drop_name((enum wg_drop_reason)r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_a_to_b),
		cmocka_unit_test(test_handshake_b_to_a),
		cmocka_unit_test(test_handshake_psk_both_ways),
		cmocka_unit_test(test_psk_mismatch),
		cmocka_unit_test(test_bad_handshakes),
		cmocka_unit_test(test_flooded_initiations),
		cmocka_unit_test(test_bad_data),
		cmocka_unit_test(test_cookie_path),
		cmocka_unit_test(test_ratelimited_under_load),
		cmocka_unit_test(test_cryptokey_routing),
		cmocka_unit_test(test_roaming),
		cmocka_unit_test(test_staging),
		cmocka_unit_test(test_full_outputs),
		cmocka_unit_test(test_deferred_encryption),
		cmocka_unit_test(test_deferred_decryption),
		cmocka_unit_test(test_job_lists_wipe_keys),
		cmocka_unit_test(test_peer_ids),
		cmocka_unit_test(test_peer_config),
		cmocka_unit_test(test_drop_names),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
