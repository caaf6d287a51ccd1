/* SPDX-License-Identifier: MIT */
/*
 * Every timer rule of the whitepaper (section 6) on a virtual clock, with two
 * in-memory devices: rekey after 120 s or 2^60 messages, reject after 180 s or
 * 2^64 - 2^13 - 1 messages, keepalive after 10 s of silence, a new handshake
 * after 15 s without an answer, retries every 5 s with jitter until about
 * 90 s, keys zeroed after 540 s, persistent keepalive, the initiator's
 * last-minute rekey; and the timer heap against a brute-force minimum.
 */
#include "tunnel_harness.h"

#include "tunnel/timers.h"

#define T0 (1 * NS)

static uint32_t inits_to_b(struct net *n)
{
	return n->log[1].n[WG_MSG_HANDSHAKE_INITIATION];
}

static void test_rekey_after_time(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, NULL);
	n.now = T0;
	net_handshake(&n, &n.a);
	assert_int_equal(inits_to_b(&n), 1);
	net_run_until(&n, T0 + WG_REKEY_AFTER_TIME - 1);
	/* Just before 120 s, the initiator sends with the old keys. */
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 1));
	net_flush(&n);
	assert_int_equal(inits_to_b(&n), 1);
	/* The responder never rekeys on time: B sending at 121 s starts nothing. */
	net_run_until(&n, T0 + WG_REKEY_AFTER_TIME + NS);
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 8, 1));
	net_flush(&n);
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_INITIATION], 0);
	assert_int_equal(inits_to_b(&n), 1);
	/* After 120 s the initiator's next packet starts a handshake, and it completes. */
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 1));
	net_flush(&n);
	assert_int_equal(inits_to_b(&n), 2);
	assert_int_equal(n.a.peer->keypairs.current->birthdate, n.now);
	assert_non_null(n.a.peer->keypairs.previous);
	pkt_vec_free(&n.a.ip);
	pkt_vec_free(&n.b.ip);
	net_free(&n);
}

static void test_rekey_after_messages(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, NULL);
	n.now = T0;
	net_handshake(&n, &n.a);
	/* Past REKEY_AFTER_MESSAGES either side asks for a new handshake (once per 5 s). */
	n.now += 6 * NS;
	n.b.peer->keypairs.current->sending_counter = WG_REKEY_AFTER_MESSAGES + 1;
	n.capture[0] = true;
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 8, 1));
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_INITIATION], 1);
	assert_int_equal(n.log[0].n[WG_MSG_DATA], 1);
	pkt_vec_free(&n.held[0]);
	n.capture[0] = false;
	/* At REJECT_AFTER_MESSAGES the keypair is finished: no data, session down, handshake. */
	n.now += 6 * NS;
	n.a.peer->keypairs.current->sending_counter = WG_REJECT_AFTER_MESSAGES;
	n.cut[1] = true;
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 1));
	assert_int_equal(n.log[1].n[WG_MSG_DATA], 1); /* only the handshake's staged packet */
	assert_int_equal(inits_to_b(&n), 2);
	assert_false(wg_peer_has_session(n.a.peer, n.now));
	assert_int_equal(n.a.downs, 1);
	assert_int_equal(n.a.peer->staged_len, 1);
	net_free(&n);
}

static void test_reject_after_time(void **state)
{
	struct net n;
	struct pkt *late;

	(void)state;
	net_init(&n, NULL);
	n.now = T0;
	net_handshake(&n, &n.a);
	/* B sends two packets at 1 s; the second is held back until 180 s. */
	n.now = T0 + NS;
	n.capture[0] = true;
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 8, 1));
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 8, 2));
	n.capture[0] = false;
	late = n.held[0].p[1];
	n.held[0].n = 1;
	pkt_vec_add(&n.to[0], n.held[0].p[0]);
	n.held[0].n = 0;
	net_flush(&n);
	assert_int_equal(n.a.rx_count, 1);

	net_run_until(&n, T0 + WG_REJECT_AFTER_TIME - 1);
	assert_true(wg_peer_has_session(n.a.peer, n.now));
	assert_int_equal(n.a.downs + n.b.downs, 0);
	/* At 180 s both sessions end by themselves (the expiry timer reports it)... */
	net_run_until(&n, T0 + WG_REJECT_AFTER_TIME);
	assert_false(wg_peer_has_session(n.a.peer, n.now));
	assert_false(wg_peer_has_session(n.b.peer, n.now));
	assert_int_equal(n.a.downs, 1);
	assert_int_equal(n.b.downs, 1);
	/* ...data under the old keys is refused... */
	pkt_vec_add(&n.to[0], late);
	net_flush(&n);
	assert_int_equal(drops(&n.a, WG_DROP_RX_KEY_EXPIRED), 1);
	assert_int_equal(n.a.rx_count, 1);
	/* ...and sending needs a new handshake first, which then delivers the packet. */
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 3));
	assert_int_equal(inits_to_b(&n), 2);
	net_flush(&n);
	assert_true(wg_peer_has_session(n.a.peer, n.now));
	assert_int_equal(n.a.ups, 2);
	assert_int_equal(n.b.rx_tags[n.b.rx_count - 1], 3);
	pkt_vec_free(&n.a.ip);
	pkt_vec_free(&n.b.ip);
	net_free(&n);
}

static void test_keepalive_after_silence(void **state)
{
	struct net n;
	uint64_t t;
	uint32_t k, ka;

	(void)state;
	net_init(&n, NULL);
	n.now = T0;
	net_handshake(&n, &n.a);
	net_run_until(&n, T0 + 30 * NS);
	pkt_vec_free(&n.a.ip);
	pkt_vec_free(&n.b.ip);

	/* A sends; B has nothing to say: B sends a keepalive exactly 10 s later. */
	t = n.now;
	k = n.log[0].keepalives;
	ka = n.log[1].keepalives;
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 1));
	net_run_until(&n, t + WG_KEEPALIVE_TIMEOUT - 1);
	assert_int_equal(n.log[0].keepalives, k);
	net_run_until(&n, t + WG_KEEPALIVE_TIMEOUT);
	assert_int_equal(n.log[0].keepalives, k + 1);
	/* Keepalives are not answered with keepalives: silence afterwards. */
	net_run_until(&n, t + 60 * NS);
	assert_int_equal(n.log[0].keepalives, k + 1);
	assert_int_equal(n.log[1].keepalives, ka);
	assert_int_equal(inits_to_b(&n), 1);

	/* If B answers with data within 10 s, no keepalive from B. */
	t = n.now;
	k = n.log[0].keepalives;
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 1));
	net_run_until(&n, t + 5 * NS);
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 8, 1));
	net_run_until(&n, t + 14 * NS);
	assert_int_equal(n.log[0].keepalives, k);
	/* Now it is A that heard data and stayed silent: A's keepalive at 5 + 10 s. */
	k = n.log[1].keepalives;
	net_run_until(&n, t + 15 * NS);
	assert_int_equal(n.log[1].keepalives, k + 1);
	pkt_vec_free(&n.a.ip);
	pkt_vec_free(&n.b.ip);
	net_free(&n);
}

static void test_new_handshake_when_unanswered(void **state)
{
	struct net n;
	uint64_t t;

	(void)state;
	net_init(&n, NULL);
	n.now = T0;
	net_handshake(&n, &n.a);
	net_run_until(&n, T0 + 30 * NS);
	/* B's answers are lost: 15 s (+ jitter) after sending data A tries a new handshake. */
	n.cut[0] = true;
	t = n.now;
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 1));
	net_run_until(&n, t + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT - 1);
	assert_int_equal(inits_to_b(&n), 1);
	net_run_until(&n,
		      t + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT + WG_REKEY_TIMEOUT_JITTER_MAX);
	assert_int_equal(inits_to_b(&n), 2);
	pkt_vec_free(&n.b.ip);
	net_free(&n);
}

static void test_retries_stop(void **state)
{
	struct net n;
	uint32_t count;
	bool jittered = false;

	(void)state;
	net_init(&n, NULL);
	n.cut[1] = true;
	n.now = T0;
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 1));
	net_run_until(&n, T0 + 300 * NS);
	count = inits_to_b(&n);
	/* The first attempt and MAX_TIMER_HANDSHAKES + 1 retries, as the kernel counts. */
	assert_int_equal(count, WG_MAX_TIMER_HANDSHAKES + 2);
	for (uint32_t i = 1; i < count; i++) {
		uint64_t gap = n.init_times[1][i] - n.init_times[1][i - 1];

		assert_true(gap >= WG_REKEY_TIMEOUT);
		assert_true(gap < WG_REKEY_TIMEOUT + WG_REKEY_TIMEOUT_JITTER_MAX);
		if (gap != n.init_times[1][1] - n.init_times[1][0])
			jittered = true;
	}
	assert_true(jittered);
	/* The last retry comes after REKEY_ATTEMPT_TIME, within one more timeout of it. */
	assert_true(n.log[1].last_init_at >= T0 + WG_REKEY_ATTEMPT_TIME);
	assert_true(n.log[1].last_init_at < T0 + WG_REKEY_ATTEMPT_TIME + 2 * WG_REKEY_TIMEOUT);
	/* Giving up dropped the staged packet, and zeroing follows 540 s later. */
	assert_int_equal(drops(&n.a, WG_DROP_TX_HANDSHAKE_GAVE_UP), 1);
	assert_int_equal(n.a.peer->staged_len, 0);
	assert_true(wg_timer_pending(n.a.peer, WG_TIMER_ZERO_KEY_MATERIAL));
	/* A new packet starts the attempts over. */
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 1));
	assert_int_equal(inits_to_b(&n), count + 1);
	assert_int_equal(n.a.peer->timer_handshake_attempts, 0);
	net_free(&n);
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static void check_zeroed(struct node *x)
{
	struct wg_keypairs *kps = &x->peer->keypairs;

	assert_null(kps->previous);
	assert_null(kps->current);
	assert_null(kps->next);
	for (int i = 0; i < WG_KEYPAIR_SLOTS; i++) {
		assert_false(kps->slots[i].in_use);
		assert_true(all_zero(kps->slots[i].sending_key, 32));
		assert_true(all_zero(kps->slots[i].receiving_key, 32));
	}
	assert_int_equal(x->peer->handshake.state, WG_HANDSHAKE_ZEROED);
	assert_true(all_zero(x->peer->handshake.chaining_key, 32));
	assert_true(all_zero(x->peer->handshake.ephemeral_private, 32));
	assert_int_equal(x->dev.index_table.count, 0);
}

static void test_keys_zeroed(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, NULL);
	n.now = T0;
	net_handshake(&n, &n.a);
	net_run_until(&n, T0 + 3 * WG_REJECT_AFTER_TIME - 1);
	/* Expired long ago, but the material is still there... */
	assert_non_null(n.a.peer->keypairs.current);
	assert_false(all_zero(n.a.peer->keypairs.current->receiving_key, 32));
	/* ...until 540 s after the session was derived. */
	net_run_until(&n, T0 + 3 * WG_REJECT_AFTER_TIME);
	check_zeroed(&n.a);
	check_zeroed(&n.b);
	/* Nothing else is left to do. */
	assert_int_equal(wg_device_next_timer(&n.a.dev), UINT64_MAX);
	assert_int_equal(wg_device_next_timer(&n.b.dev), UINT64_MAX);
	net_free(&n);
}

static void test_persistent_keepalive(void **state)
{
	struct net n;
	uint64_t t;
	uint32_t k0;

	(void)state;
	net_init(&n, NULL);
	n.now = T0;
	/* B initiates, so A (the responder) never rekeys on its own during the test. */
	net_handshake(&n, &n.b);
	net_run_until(&n, T0 + 11 * NS);
	k0 = n.log[1].keepalives; /* A's ordinary keepalive after B's first data */
	assert_int_equal(k0, 1);
	/* Turning it on sends one at once, then one per 25 s of silence. */
	t = n.now;
	wg_peer_set_persistent_keepalive(n.a.peer, 25, n.now);
	net_run_until(&n, t);
	assert_int_equal(n.log[1].keepalives, k0 + 1);
	net_run_until(&n, t + 25 * NS - 1);
	assert_int_equal(n.log[1].keepalives, k0 + 1);
	net_run_until(&n, t + 25 * NS);
	assert_int_equal(n.log[1].keepalives, k0 + 2);
	net_run_until(&n, t + 75 * NS);
	assert_int_equal(n.log[1].keepalives, k0 + 4);
	/*
	 * Any authenticated traffic pushes it back: A's data at +80 s, then B's
	 * keepalive answering it at +90 s, move the next one to +115 s.
	 */
	net_run_until(&n, t + 80 * NS);
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 8, 1));
	net_run_until(&n, t + 90 * NS);
	assert_int_equal(n.log[0].keepalives, 1);
	net_run_until(&n, t + 115 * NS - 1);
	assert_int_equal(n.log[1].keepalives, k0 + 4);
	net_run_until(&n, t + 115 * NS);
	assert_int_equal(n.log[1].keepalives, k0 + 5);
	/* Off: silence. */
	wg_peer_set_persistent_keepalive(n.a.peer, 0, n.now);
	net_run_until(&n, t + 200 * NS);
	assert_int_equal(n.log[1].keepalives, k0 + 5);
	pkt_vec_free(&n.b.ip);
	net_free(&n);
}

static void test_lastminute_rekey(void **state)
{
	struct net n;
	const uint64_t last = WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT;

	(void)state;
	net_init(&n, NULL);
	n.now = T0;
	net_handshake(&n, &n.a);
	/* A only receives. Just before 165 s that starts nothing... */
	net_run_until(&n, T0 + last - 1);
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 8, 1));
	net_flush(&n);
	assert_int_equal(inits_to_b(&n), 1);
	/* ...from 165 s on, receiving makes the initiator rekey, once. */
	net_run_until(&n, T0 + last);
	n.cut[1] = true;
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 8, 2));
	net_flush(&n);
	assert_int_equal(inits_to_b(&n), 2);
	assert_true(n.a.peer->sent_lastminute_handshake);
	n.now += 6 * NS;
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 8, 3));
	net_flush(&n);
	assert_int_equal(inits_to_b(&n), 2);
	pkt_vec_free(&n.a.ip);
	net_free(&n);
}

static void test_heap_against_brute_force(void **state)
{
	struct net n;
	struct wg_peer *peers[15];
	struct rng r = {42};

	(void)state;
	net_init(&n, NULL);
	for (int i = 0; i < 15; i++) {
		uint8_t key[32];

		memset(key, 0x20 + i, sizeof(key));
		assert_int_equal(wg_device_add_peer(&n.a.dev, key, &peers[i]), 0);
	}
	for (int op = 0; op < 5000; op++) {
		struct wg_peer *p = peers[rng_next(&r) % 15];
		int kind = (int)(rng_next(&r) % WG_TIMER_COUNT);
		uint64_t min = UINT64_MAX;

		if (rng_next(&r) % 4 == 0)
			wg_timer_del(p, kind);
		else
			wg_timer_mod(p, kind, 1000 + rng_next(&r) % 100000);
		/* The device's earliest deadline is the minimum over every timer of every peer. */
		for (struct wg_peer *q = wg_device_first_peer(&n.a.dev); q;
		     q = wg_device_next_peer(q))
			for (int k = 0; k < WG_TIMER_COUNT; k++)
				if (q->timers[k] < min)
					min = q->timers[k];
		assert_int_equal(wg_timers_next(&n.a.dev), min);
	}
	for (int i = 0; i < 15; i++)
		wg_device_remove_peer(&n.a.dev, peers[i]);
	assert_int_equal(n.a.dev.timer_heap_len, 0);
	net_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rekey_after_time),
		cmocka_unit_test(test_rekey_after_messages),
		cmocka_unit_test(test_reject_after_time),
		cmocka_unit_test(test_keepalive_after_silence),
		cmocka_unit_test(test_new_handshake_when_unanswered),
		cmocka_unit_test(test_retries_stop),
		cmocka_unit_test(test_keys_zeroed),
		cmocka_unit_test(test_persistent_keepalive),
		cmocka_unit_test(test_lastminute_rekey),
		cmocka_unit_test(test_heap_against_brute_force),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
