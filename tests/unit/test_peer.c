/* SPDX-License-Identifier: MIT */
/*
 * The pieces a peer is made of: the index table (random unique indexes), the
 * previous/current/next keypair rotation of both roles, and the bounded
 * staged-packet queue.
 */
#include "tunnel_harness.h"

#include "tunnel/index.h"
#include "tunnel/keypair.h"
#include "tunnel/peer.h"

static void test_index_table(void **state)
{
	enum { N = 2000 };
	static struct wg_index_entry e[N];
	struct wg_index_table t;
	struct rng r = {7};

	(void)state;
	assert_int_equal(wg_index_table_init(&t, 256), 0);
	for (int i = 0; i < N; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].type = i % 2 ? WG_INDEX_KEYPAIR : WG_INDEX_HANDSHAKE;
		wg_index_insert(&t, &e[i], test_random, &r);
	}
	assert_int_equal(t.count, N);
	for (int i = 0; i < N; i++) {
		/* Unique: each index finds its own entry, and only under its own type. */
		assert_ptr_equal(
			wg_index_lookup(&t, e[i].index, WG_INDEX_HANDSHAKE | WG_INDEX_KEYPAIR),
			&e[i]);
		assert_ptr_equal(wg_index_lookup(&t, e[i].index, e[i].type), &e[i]);
		assert_null(wg_index_lookup(&t, e[i].index, e[i].type ^ 3));
	}
	/* Re-inserting gives a new index and forgets the old one. */
	{
		uint32_t old = e[0].index;

		wg_index_insert(&t, &e[0], test_random, &r);
		assert_int_not_equal(e[0].index, old);
		assert_null(wg_index_lookup(&t, old, 3));
		assert_int_equal(t.count, N);
	}
	/* A keypair takes over its handshake's index. */
	{
		struct wg_index_entry kp = {.type = WG_INDEX_KEYPAIR};
		uint32_t idx = e[2].index;

		wg_index_replace(&t, &e[2], &kp);
		assert_int_equal(kp.index, idx);
		assert_false(e[2].hashed);
		assert_ptr_equal(wg_index_lookup(&t, idx, WG_INDEX_KEYPAIR), &kp);
		assert_null(wg_index_lookup(&t, idx, WG_INDEX_HANDSHAKE));
		wg_index_remove(&t, &kp);
	}
	for (int i = 0; i < N; i++)
		wg_index_remove(&t, &e[i]);
	wg_index_remove(&t, &e[5]); /* twice is harmless */
	assert_int_equal(t.count, 0);
	wg_index_table_free(&t);
}

static struct wg_keypair *new_keypair(struct wg_keypairs *kps, struct wg_index_table *t,
				      struct rng *r, bool initiator)
{
	struct wg_keypair *kp = wg_keypair_alloc(kps);

	assert_non_null(kp);
	kp->i_am_the_initiator = initiator;
	kp->sending_valid = kp->receiving_valid = true;
	memset(kp->sending_key, 0xaa, 32);
	wg_index_insert(t, &kp->entry, test_random, r);
	wg_keypairs_add_new(kps, t, kp);
	return kp;
}

static uint32_t live(const struct wg_keypairs *kps)
{
	return (kps->previous != NULL) + (kps->current != NULL) + (kps->next != NULL);
}

static void test_keypair_rotation(void **state)
{
	struct wg_index_table t;
	struct wg_keypairs kps;
	struct wg_keypair *k1, *k2, *k3, *k4;
	struct rng r = {9};

	(void)state;
	assert_int_equal(wg_index_table_init(&t, 64), 0);
	wg_keypairs_init(&kps, NULL);

	/* Initiator: usable at once; the old current slides to previous. */
	k1 = new_keypair(&kps, &t, &r, true);
	assert_ptr_equal(kps.current, k1);
	k2 = new_keypair(&kps, &t, &r, true);
	assert_ptr_equal(kps.current, k2);
	assert_ptr_equal(kps.previous, k1);
	k3 = new_keypair(&kps, &t, &r, true);
	assert_ptr_equal(kps.previous, k2);
	assert_false(k1->in_use); /* released and wiped */
	assert_int_equal(k1->sending_key[0], 0);

	/* Responder: waits in next; previous goes; current stays until confirmation. */
	k4 = new_keypair(&kps, &t, &r, false);
	assert_ptr_equal(kps.next, k4);
	assert_ptr_equal(kps.current, k3);
	assert_null(kps.previous);
	assert_false(wg_keypairs_received_with(&kps, &t, k3)); /* data under current: no change */
	assert_true(wg_keypairs_received_with(&kps, &t, k4));
	assert_ptr_equal(kps.current, k4);
	assert_ptr_equal(kps.previous, k3);
	assert_null(kps.next);
	assert_false(wg_keypairs_received_with(&kps, &t, k4)); /* only the first time */

	/* Initiator while a next is unconfirmed: next becomes previous, current goes. */
	k1 = new_keypair(&kps, &t, &r, false);
	k2 = new_keypair(&kps, &t, &r, true);
	assert_ptr_equal(kps.current, k2);
	assert_ptr_equal(kps.previous, k1);
	assert_null(kps.next);
	assert_int_equal(t.count, live(&kps));

	/* Any sequence keeps at most three alive, in the index table and nowhere else. */
	for (int i = 0; i < 10000; i++) {
		uint64_t x = rng_next(&r) % 3;

		if (x == 2 && kps.next)
			wg_keypairs_received_with(&kps, &t, kps.next);
		else
			new_keypair(&kps, &t, &r, x == 0);
		{
			uint32_t used = 0;

			for (int s = 0; s < WG_KEYPAIR_SLOTS; s++)
				used += kps.slots[s].in_use;
			assert_int_equal(used, live(&kps));
			assert_true(used <= 3);
			assert_int_equal(t.count, used);
		}
	}
	/* Expiring stops sending under next and current; clearing frees all. */
	wg_keypairs_expire_current(&kps);
	assert_false(wg_keypair_can_send(kps.current, 0));
	wg_keypairs_clear(&kps, &t);
	assert_int_equal(live(&kps), 0);
	assert_int_equal(t.count, 0);
	wg_index_table_free(&t);
}

static void test_keypair_validity(void **state)
{
	struct wg_keypair kp;

	(void)state;
	memset(&kp, 0, sizeof(kp));
	kp.sending_valid = kp.receiving_valid = true;
	kp.birthdate = 10 * NS;
	assert_true(wg_keypair_can_send(&kp, 10 * NS + WG_REJECT_AFTER_TIME - 1));
	assert_false(wg_keypair_can_send(&kp, 10 * NS + WG_REJECT_AFTER_TIME));
	assert_true(wg_keypair_can_receive(&kp, 10 * NS + WG_REJECT_AFTER_TIME - 1));
	assert_false(wg_keypair_can_receive(&kp, 10 * NS + WG_REJECT_AFTER_TIME));
	kp.sending_counter = WG_REJECT_AFTER_MESSAGES - 1;
	assert_true(wg_keypair_can_send(&kp, 10 * NS));
	kp.sending_counter = WG_REJECT_AFTER_MESSAGES;
	assert_false(wg_keypair_can_send(&kp, 10 * NS));
	assert_false(wg_keypair_can_send(NULL, 0));
}

static void test_staged_queue(void **state)
{
	struct net n;
	struct wg_peer *peer;

	(void)state;
	net_init(&n, NULL);
	peer = n.a.peer;
	for (int i = 0; i < WG_MAX_STAGED_PACKETS + 10; i++) {
		struct pkt *p = pkt_alloc(&n.pool);

		*pkt_put(p, 1) = (uint8_t)i;
		wg_peer_stage_packet(peer, p);
	}
	assert_int_equal(peer->staged_len, WG_MAX_STAGED_PACKETS);
	assert_int_equal(drops(&n.a, WG_DROP_TX_STAGED_OVERFLOW), 10);
	assert_int_equal(peer->tx_dropped, 10);
	/* FIFO, the oldest ten gone. */
	for (int i = 0; i < 5; i++) {
		struct pkt *p = wg_peer_unstage_packet(peer);

		assert_int_equal(p->data[0], 10 + i);
		pkt_free(p);
	}
	/* Purging counts user packets, not our own keepalives (empty packets). */
	wg_peer_stage_packet(peer, pkt_alloc(&n.pool));
	wg_peer_purge_staged(peer, WG_DROP_TX_HANDSHAKE_GAVE_UP);
	assert_int_equal(drops(&n.a, WG_DROP_TX_HANDSHAKE_GAVE_UP), WG_MAX_STAGED_PACKETS - 5);
	assert_int_equal(peer->staged_len, 0);
	assert_null(wg_peer_unstage_packet(peer));
	net_free(&n);
}

/*
 * All peers together stage at most max_staged packets: when they would hold more, the
 * longest queue loses its oldest, so silent peers cannot drain the shared pool and a
 * peer that staged a few packets keeps them.
 */
static void test_staged_budget(void **state)
{
	struct wg_peer *silent[4];
	uint32_t pool_free_before;
	struct net n;

	(void)state;
	net_init(&n, NULL);
	n.a.dev.max_staged = 200;
	for (int i = 0; i < 4; i++) {
		uint8_t key[WG_KEY_SIZE];

		memset(key, 0x40 + i, sizeof(key));
		assert_int_equal(wg_device_add_peer(&n.a.dev, key, &silent[i]), 0);
	}
	pool_free_before = n.pool.nfree;
	/* The live peer stages three packets while its handshake runs. */
	for (int i = 0; i < 3; i++) {
		struct pkt *p = pkt_alloc(&n.pool);

		*pkt_put(p, 1) = (uint8_t)(100 + i);
		wg_peer_stage_packet(n.a.peer, p);
	}
	/* Then 120 packets for each silent peer (under the per-peer cap of 128). */
	for (int k = 0; k < 120; k++) {
		for (int i = 0; i < 4; i++) {
			struct pkt *p = pkt_alloc(&n.pool);

			assert_non_null(p);
			*pkt_put(p, 1) = (uint8_t)k;
			wg_peer_stage_packet(silent[i], p);
		}
	}
	assert_int_equal(n.a.dev.staged_total, 200);
	assert_int_equal(n.pool.nfree, pool_free_before - 200);
	assert_int_equal(drops(&n.a, WG_DROP_TX_STAGED_EVICTED), 3 + 4 * 120 - 200);
	assert_int_equal(drops(&n.a, WG_DROP_TX_STAGED_OVERFLOW), 0);
	/* The live peer's packets all stayed, in order; the silent ones share the rest. */
	assert_int_equal(n.a.peer->staged_len, 3);
	for (int i = 0; i < 4; i++) {
		assert_in_range(silent[i]->staged_len, 49, 50);
		/* Each silent queue kept its newest packets. */
		assert_int_equal(silent[i]->staged_tail->data[0], 119);
	}
	for (int i = 0; i < 3; i++) {
		struct pkt *p = wg_peer_unstage_packet(n.a.peer);

		assert_int_equal(p->data[0], 100 + i);
		pkt_free(p);
	}
	/* Removing a peer gives its share back to the budget and its buffers to the pool. */
	wg_device_remove_peer(&n.a.dev, silent[0]);
	assert_int_equal(n.a.dev.staged_total,
			 silent[1]->staged_len + silent[2]->staged_len + silent[3]->staged_len);
	net_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_table),	 cmocka_unit_test(test_keypair_rotation),
		cmocka_unit_test(test_keypair_validity), cmocka_unit_test(test_staged_queue),
		cmocka_unit_test(test_staged_budget),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
