/* SPDX-License-Identifier: MIT */
/*
 * The handshake queue: handshakes taken, run and finished in three steps (the middle one
 * without the device), load judged from the queue's depth, a bounded queue.
 */
#include <stdio.h>

#include "tunnel_harness.h"

#include "tunnel/cookie.h"
#include "tunnel/handshake_queue.h"
#include "tunnel/send.h"

#define QUEUE_LEN 64

static void queue_on(struct node *x)
{
	assert_int_equal(wg_handshake_queue_init(&x->dev.handshakes, QUEUE_LEN), 0);
}

/*
 * An initiation with a valid mac1 for `to` and random everything else, as a flood that
 * knows only the public key sends: it passes mac1 and costs the responder its X25519.
 * From 198.51.100.<seed % 250>, or, with ck, from 203.0.113.1:999 with ck's macs (mac2 too
 * once ck holds a cookie).
 */
static struct pkt *junk_initiation(struct net *n, struct node *to, uint32_t seed, bool good_mac,
				   struct wg_cookie *ck)
{
	struct rng r = {.s = seed};
	struct pkt *p = pkt_alloc(&n->pool);
	struct wg_cookie own;
	char ip[32];
	uint8_t *m;

	assert_non_null(p);
	p->len = WG_INIT_SIZE;
	m = p->data;
	test_random(&r, m, WG_INIT_SIZE);
	m[0] = WG_MSG_HANDSHAKE_INITIATION;
	m[1] = m[2] = m[3] = 0;
	if (!ck) {
		wg_cookie_init(&own, good_mac ? to->pub : n->a.pub);
		ck = &own;
	}
	wg_cookie_add_macs(ck, m, WG_INIT_SIZE, n->now);
	snprintf(ip, sizeof(ip), ck == &own ? "198.51.100.%u" : "203.0.113.1", seed % 250);
	/* A cookie is for one address and port. */
	make_ep(&p->src, ip, ck == &own ? (uint16_t)(1000 + seed) : 999);
	return p;
}

/*
 * Hands v to x's device as received datagrams; nothing queued is processed. What the
 * device answers at once (cookie replies under load) is kept in `replies` if given.
 */
static void receive_only(struct net *n, struct node *x, struct pkt_vec *v, struct pkt_vec *replies)
{
	struct pkt_vec out_udp, out_ip;

	while (v->n) {
		pkt_vec_init(&out_udp);
		pkt_vec_init(&out_ip);
		wg_device_receive(&x->dev, v, n->now, false, NULL, &out_udp, &out_ip);
		assert_int_equal(out_ip.n, 0);
		for (uint32_t i = 0; i < out_udp.n; i++) {
			assert_int_equal(wg_message_classify(out_udp.p[i]->data, out_udp.p[i]->len),
					 WG_MSG_HANDSHAKE_COOKIE);
			if (!replies || !pkt_vec_add(replies, out_udp.p[i]))
				pkt_free(out_udp.p[i]);
		}
	}
}

static void flood_with(struct net *n, struct node *to, uint32_t count, uint32_t seed, bool good_mac,
		       struct wg_cookie *ck, struct pkt_vec *replies)
{
	struct pkt_vec v;

	pkt_vec_init(&v);
	for (uint32_t i = 0; i < count; i++) {
		if (pkt_vec_full(&v))
			receive_only(n, to, &v, replies);
		pkt_vec_add(&v, junk_initiation(n, to, seed + i, good_mac, ck));
	}
	receive_only(n, to, &v, replies);
}

static void flood(struct net *n, struct node *to, uint32_t count, uint32_t seed, bool good_mac)
{
	flood_with(n, to, count, seed, good_mac, NULL, NULL);
}

/* Both sides with queues: a handshake completes and data flows, as inline. */
static void test_queued_handshake(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, NULL);
	queue_on(&n.a);
	queue_on(&n.b);
	n.now = 5 * NS;
	net_handshake(&n, &n.a);
	assert_int_equal(wg_device_handshakes_queued(&n.b.dev), 0);
	assert_int_equal(n.b.dev.handshakes.high_water, 1);
	node_send(&n, &n.b, make_ip4(&n, "10.0.0.2", "10.0.0.1", 100, 0x42));
	net_flush(&n);
	assert_int_equal(n.a.ip.n, 1);
	assert_true(ip4_payload_ok(n.a.ip.p[0], 100, 0x42));
	net_free(&n);
}

/*
 * Below 1/8 of the queue the device is not under load: every initiation gets its X25519
 * (and fails to reveal a peer); no cookie replies. Bad mac1 never enters the queue.
 */
static void test_not_under_load(void **state)
{
	struct wg_handshake_jobs *jobs = calloc(1, sizeof(*jobs));
	struct pkt_vec out;
	struct net n;

	(void)state;
	net_init(&n, NULL);
	queue_on(&n.b);
	flood(&n, &n.b, QUEUE_LEN / 8 - 1, 100, true);
	flood(&n, &n.b, 20, 500, false);
	assert_int_equal(drops(&n.b, WG_DROP_RX_BAD_MAC1), 20);
	assert_int_equal(wg_device_handshakes_queued(&n.b.dev), QUEUE_LEN / 8 - 1);
	pkt_vec_init(&out);
	assert_int_equal(wg_device_handshakes_take(&n.b.dev, jobs, n.now, &out), QUEUE_LEN / 8 - 1);
	assert_int_equal(out.n, 0);
	assert_int_equal(jobs->n, QUEUE_LEN / 8 - 1);
	/* The identity travels with the jobs: the run needs nothing else. */
	assert_memory_equal(jobs->id.static_private, n.b.priv, 32);
	wg_handshake_jobs_run(jobs);
	for (uint32_t i = 0; i < 32; i++)
		assert_int_equal(jobs->id.static_private[i], 0);
	for (uint32_t i = 0; i < jobs->n; i++)
		assert_int_equal(jobs->job[i].begun, WG_NOISE_DECRYPT_FAILED);
	assert_int_equal(wg_device_handshakes_finish(&n.b.dev, jobs, n.now, NULL, &out),
			 QUEUE_LEN / 8 - 1);
	assert_int_equal(out.n, 0);
	assert_int_equal(jobs->n, 0);
	assert_int_equal(drops(&n.b, WG_DROP_RX_HANDSHAKE_DECRYPT), QUEUE_LEN / 8 - 1);
	assert_int_equal(drops(&n.b, WG_DROP_RX_COOKIE_SENT), 0);
	free(jobs);
	net_free(&n);
}

/*
 * At 1/8 of the queue the whole device is under load: what is queued and has no mac2
 * gets a cookie reply and no X25519, what arrives without mac2 gets one at once and takes
 * no slot, and so does a real peer's initiation for the next second; the peer completes
 * its handshake through the cookie on its next try.
 */
static void test_under_load_from_depth(void **state)
{
	struct wg_handshake_jobs *jobs = calloc(1, sizeof(*jobs));
	struct pkt_vec out, replies;
	struct net n;

	(void)state;
	net_init(&n, NULL);
	queue_on(&n.b);
	n.now = 5 * NS;
	pkt_vec_init(&replies);
	flood_with(&n, &n.b, QUEUE_LEN / 8 + 20, 100, true, NULL, &replies);
	/* The 21st on found the queue at 1/8: answered on arrival. */
	assert_int_equal(wg_device_handshakes_queued(&n.b.dev), QUEUE_LEN / 8);
	assert_int_equal(replies.n, 20);
	pkt_vec_free(&replies);
	pkt_vec_init(&out);
	assert_int_equal(wg_device_handshakes_take(&n.b.dev, jobs, n.now, &out), QUEUE_LEN / 8);
	assert_int_equal(jobs->n, 0);
	assert_int_equal(out.n, QUEUE_LEN / 8);
	for (uint32_t i = 0; i < out.n; i++)
		assert_int_equal(wg_message_classify(out.p[i]->data, out.p[i]->len),
				 WG_MSG_HANDSHAKE_COOKIE);
	pkt_vec_free(&out);
	assert_int_equal(drops(&n.b, WG_DROP_RX_COOKIE_SENT), QUEUE_LEN / 8 + 20);
	assert_int_equal(drops(&n.b, WG_DROP_RX_HANDSHAKE_DECRYPT), 0);

	/*
	 * Half a second later the queue is empty, but the load holds for a second: a real
	 * peer's initiation gets a cookie reply, and its retry, with mac2 and sent at once,
	 * is answered: no wait for the retransmit timer.
	 */
	n.now += NS / 2;
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 10, 1));
	net_flush(&n);
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_COOKIE], 1);
	assert_int_equal(n.log[1].n[WG_MSG_HANDSHAKE_INITIATION], 2);
	assert_int_equal(n.log[0].n[WG_MSG_HANDSHAKE_RESPONSE], 1);
	assert_true(wg_peer_has_session(n.a.peer, n.now));
	assert_true(wg_peer_has_session(n.b.peer, n.now));
	assert_int_equal(n.b.ip.n, 1);
	pkt_vec_free(&n.b.ip);
	free(jobs);
	net_free(&n);
}

/*
 * A flood from one address gets its cookie replies at the source's rate (burst 5), and,
 * once it holds a cookie, its mac2-valid initiations fill the queue: a full queue drops
 * new messages and counts them, holds no pool buffers, and under load the rate limiter
 * lets the source's burst through to the X25519.
 */
static void test_queue_full(void **state)
{
	struct pkt_vec replies;
	struct wg_cookie ck;
	uint32_t nfree;
	struct net n;

	(void)state;
	net_init(&n, NULL);
	queue_on(&n.b);
	n.now = 5 * NS;
	wg_cookie_init(&ck, n.b.pub);
	pkt_vec_init(&replies);
	flood_with(&n, &n.b, QUEUE_LEN / 8 + 40, 100, true, &ck, &replies);
	assert_int_equal(wg_device_handshakes_queued(&n.b.dev), QUEUE_LEN / 8);
	assert_int_equal(replies.n, WG_RL_PACKETS_BURSTABLE);
	assert_int_equal(drops(&n.b, WG_DROP_RX_COOKIE_RATELIMITED), 40 - WG_RL_PACKETS_BURSTABLE);
	pkt_vec_free(&replies);
	/* A tenth of a second later the source has a token again: the reply to its latest
	 * initiation gives it the cookie that makes mac2 from now on. */
	n.now += NS / 10;
	flood_with(&n, &n.b, 1, 99, true, &ck, &replies);
	assert_int_equal(replies.n, 1);
	assert_true(wg_cookie_consume_reply(&ck, replies.p[0]->data, n.now));
	pkt_vec_free(&replies);

	nfree = n.pool.nfree;
	flood_with(&n, &n.b, QUEUE_LEN, 1000, true, &ck, NULL);
	assert_int_equal(wg_device_handshakes_queued(&n.b.dev), QUEUE_LEN);
	assert_int_equal(drops(&n.b, WG_DROP_RX_HANDSHAKE_QUEUE_FULL), QUEUE_LEN / 8);
	assert_int_equal(n.pool.nfree, nfree);
	assert_int_equal(wg_device_next_timer(&n.b.dev), 0);
	/* Draining it: the first eight had no mac2 (cookie replies, rate limited as before). */
	node_handshakes(&n, &n.b);
	assert_int_equal(wg_device_handshakes_queued(&n.b.dev), 0);
	assert_int_equal(drops(&n.b, WG_DROP_RX_RATELIMITED),
			 QUEUE_LEN - QUEUE_LEN / 8 - WG_RL_PACKETS_BURSTABLE);
	assert_int_equal(drops(&n.b, WG_DROP_RX_HANDSHAKE_DECRYPT), WG_RL_PACKETS_BURSTABLE);
	pkt_vec_free(&n.to[0]);
	net_free(&n);
}

/*
 * The retry a cookie reply buys goes at once, but once per REKEY_TIMEOUT at most (a
 * forged reply must not make us initiate at the forger's rate), and only while our
 * initiation is the pending one.
 */
static void test_cookie_retry_bounded(void **state)
{
	uint32_t inits;
	struct net n;

	(void)state;
	net_init(&n, NULL);
	n.now = 5 * NS;
	n.cut[1] = true; /* B never hears A: the initiation stays pending */
	node_send(&n, &n.a, make_ip4(&n, "10.0.0.1", "10.0.0.2", 10, 1));
	assert_int_equal(n.log[1].n[WG_MSG_HANDSHAKE_INITIATION], 1);
	wg_packet_send_initiation_after_cookie(n.a.peer, n.now);
	node_expire(&n, &n.a);
	assert_int_equal(n.log[1].n[WG_MSG_HANDSHAKE_INITIATION], 2);
	n.now += NS;
	wg_packet_send_initiation_after_cookie(n.a.peer, n.now);
	node_expire(&n, &n.a);
	assert_int_equal(n.log[1].n[WG_MSG_HANDSHAKE_INITIATION], 2);
	/* A REKEY_TIMEOUT after the first, one more may go. */
	n.now += WG_REKEY_TIMEOUT - NS;
	wg_packet_send_initiation_after_cookie(n.a.peer, n.now);
	node_expire(&n, &n.a);
	assert_int_equal(n.log[1].n[WG_MSG_HANDSHAKE_INITIATION], 3);
	/* Not for a peer without a pending initiation. */
	n.cut[1] = false;
	net_run_until(&n, n.now + WG_REKEY_TIMEOUT + WG_REKEY_TIMEOUT_JITTER_MAX);
	assert_true(wg_peer_has_session(n.a.peer, n.now));
	inits = n.log[1].n[WG_MSG_HANDSHAKE_INITIATION];
	n.now += WG_REKEY_TIMEOUT;
	wg_packet_send_initiation_after_cookie(n.a.peer, n.now);
	node_expire(&n, &n.a);
	assert_int_equal(n.log[1].n[WG_MSG_HANDSHAKE_INITIATION], inits);
	pkt_vec_free(&n.b.ip);
	net_free(&n);
}

/*
 * A flood the workers keep up with never fills the queue, but its X25519 work is bounded
 * all the same: past WG_HANDSHAKE_DH_BURST initiations (at one instant) the device is
 * under load and answers with cookie replies.
 */
static void test_dh_budget(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, NULL);
	assert_int_equal(wg_handshake_queue_init(&n.b.dev.handshakes, 4096), 0);
	n.now = 5 * NS;
	for (uint32_t round = 0; round < 40; round++) {
		flood(&n, &n.b, 7, 100 + round * 7, true);
		node_handshakes(&n, &n.b);
		pkt_vec_free(&n.to[0]);
	}
	assert_int_equal(n.b.dev.handshakes.high_water, 7);
	assert_int_equal(drops(&n.b, WG_DROP_RX_HANDSHAKE_DECRYPT), WG_HANDSHAKE_DH_BURST);
	assert_int_equal(drops(&n.b, WG_DROP_RX_COOKIE_SENT) +
				 drops(&n.b, WG_DROP_RX_COOKIE_RATELIMITED),
			 40 * 7 - WG_HANDSHAKE_DH_BURST);
	/* Two seconds later the budget has refilled and the load has passed. */
	n.now += 2 * NS;
	flood(&n, &n.b, 7, 5000, true);
	node_handshakes(&n, &n.b);
	assert_int_equal(drops(&n.b, WG_DROP_RX_HANDSHAKE_DECRYPT), WG_HANDSHAKE_DH_BURST + 7);
	net_free(&n);
}

/* The queue itself: FIFO, bounded, copies. */
static void test_queue_fifo(void **state)
{
	struct wg_handshake_queue q;
	struct wg_queued_handshake out;
	struct vw_endpoint ep;
	uint8_t msg[WG_RESP_SIZE];

	(void)state;
	make_ep(&ep, "192.0.2.9", 7);
	assert_int_equal(wg_handshake_queue_init(&q, 0), 0);
	assert_null(q.slot);
	assert_int_equal(wg_handshake_queue_init(&q, (1u << 20) + 1), -EINVAL);
	assert_int_equal(wg_handshake_queue_init(&q, 3), 0);
	for (int round = 0; round < 3; round++) {
		for (uint8_t i = 0; i < 3; i++) {
			memset(msg, i + round, sizeof(msg));
			assert_true(wg_handshake_queue_push(&q, WG_MSG_HANDSHAKE_RESPONSE, msg,
							    sizeof(msg), &ep));
		}
		assert_false(wg_handshake_queue_push(&q, WG_MSG_HANDSHAKE_RESPONSE, msg,
						     sizeof(msg), &ep));
		for (uint8_t i = 0; i < 3; i++) {
			assert_true(wg_handshake_queue_pop(&q, &out));
			assert_int_equal(out.len, WG_RESP_SIZE);
			assert_int_equal(out.msg[0], i + round);
			assert_true(vw_endpoint_equal(&out.src, &ep));
		}
		assert_false(wg_handshake_queue_pop(&q, &out));
	}
	assert_false(wg_handshake_queue_push(&q, WG_MSG_HANDSHAKE_INITIATION, msg, 149, &ep));
	wg_handshake_queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_fifo),     cmocka_unit_test(test_queued_handshake),
		cmocka_unit_test(test_not_under_load), cmocka_unit_test(test_under_load_from_depth),
		cmocka_unit_test(test_queue_full),     cmocka_unit_test(test_cookie_retry_bounded),
		cmocka_unit_test(test_dh_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
