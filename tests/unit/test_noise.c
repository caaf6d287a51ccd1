/* SPDX-License-Identifier: MIT */
/*
 * The handshake against known answers computed independently in Python
 * (vectors/noise_vectors.py), then its failure rules: tampering, replayed and
 * flooding initiations, low-order keys, responses out of state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/pkt.h"
#include "crypto/crypto.h"
#include "crypto/kdf.h"
#include "crypto/tai64n.h"
#include "crypto/x25519.h"
#include "kat_devices.h"
#include "tunnel/cookie.h"
#include "tunnel/keypair.h"
#include "tunnel/noise.h"
#include "tunnel/send.h"
#include "vectors/noise_vectors.h"

struct side {
	struct wg_static_identity id;
	struct wg_handshake hs;
	struct wg_cookie cookie;
};

/* Initiator i knows responder r and the other way round, both with the vectors' keys. */
static void setup_pair(struct side *i, struct side *r, const uint8_t *psk)
{
	wg_noise_set_identity(&i->id, kat_s_priv_i);
	wg_noise_set_identity(&r->id, kat_s_priv_r);
	wg_noise_handshake_init(&i->hs, r->id.static_public, psk);
	wg_noise_handshake_init(&r->hs, i->id.static_public, psk);
	wg_noise_precompute_static_static(&i->hs, &i->id);
	wg_noise_precompute_static_static(&r->hs, &r->id);
	wg_cookie_init(&i->cookie, r->id.static_public);
	wg_cookie_init(&r->cookie, i->id.static_public);
}

static void test_initial_values(void **state)
{
	uint8_t ck[32], h[32], want[32];
	uint8_t buf[32 + sizeof(WG_NOISE_IDENTIFIER)];

	(void)state;
	wg_noise_initial_chaining_key(ck);
	wg_noise_initial_hash(h);
	assert_memory_equal(ck, kat_initial_ck, 32);
	assert_memory_equal(h, kat_initial_hash, 32);
	/* And the constants agree with the strings they stand for. */
	wg_hash(want, WG_NOISE_CONSTRUCTION, strlen(WG_NOISE_CONSTRUCTION));
	assert_memory_equal(ck, want, 32);
	memcpy(buf, want, 32);
	memcpy(buf + 32, WG_NOISE_IDENTIFIER, strlen(WG_NOISE_IDENTIFIER));
	wg_hash(want, buf, 32 + strlen(WG_NOISE_IDENTIFIER));
	assert_memory_equal(h, want, 32);
}

static void test_static_keys(void **state)
{
	struct wg_static_identity id;
	uint8_t ts[12];

	(void)state;
	wg_noise_set_identity(&id, kat_s_priv_i);
	assert_true(id.has_identity);
	assert_memory_equal(id.static_public, kat_s_pub_i, 32);
	wg_noise_set_identity(&id, kat_s_priv_r);
	assert_memory_equal(id.static_public, kat_s_pub_r, 32);
	tai64n_encode(ts, KAT_WALL_NS);
	assert_memory_equal(ts, kat_timestamp, 12);
}

struct kat {
	const uint8_t *psk;
	const uint8_t *initiation, *response, *t_send_i, *t_recv_i, *data;
};

static void run_kat(const struct kat *k)
{
	struct side i, r;
	struct wg_noise_initiation st;
	uint8_t init[WG_INIT_SIZE], resp[WG_RESP_SIZE];
	uint8_t is[32], ir[32], rs[32], rr[32];
	uint32_t remote;
	bool initiator;

	setup_pair(&i, &r, k->psk);
	assert_int_equal(wg_noise_create_initiation(init, &i.hs, &i.id, kat_e_priv_i, kat_timestamp,
						    KAT_SENDER_I),
			 WG_NOISE_OK);
	wg_cookie_add_macs(&i.cookie, init, sizeof(init), 0);
	assert_memory_equal(init, k->initiation, WG_INIT_SIZE);

	assert_int_equal(wg_noise_consume_initiation_begin(init, &r.id, &st), WG_NOISE_OK);
	assert_memory_equal(st.remote_static, kat_s_pub_i, 32);
	assert_int_equal(wg_noise_consume_initiation_finish(init, &st, &r.hs, 1000), WG_NOISE_OK);
	assert_int_equal(r.hs.state, WG_HANDSHAKE_CONSUMED_INITIATION);
	assert_int_equal(r.hs.remote_index, KAT_SENDER_I);

	assert_int_equal(wg_noise_create_response(resp, &r.hs, kat_e_priv_r, KAT_SENDER_R),
			 WG_NOISE_OK);
	wg_cookie_add_macs(&r.cookie, resp, sizeof(resp), 0);
	assert_memory_equal(resp, k->response, WG_RESP_SIZE);

	assert_int_equal(wg_noise_consume_response(resp, &i.hs, &i.id), WG_NOISE_OK);
	assert_true(wg_noise_derive_keys(&i.hs, is, ir, &initiator, &remote));
	assert_true(initiator);
	assert_int_equal(remote, KAT_SENDER_R);
	assert_memory_equal(is, k->t_send_i, 32);
	assert_memory_equal(ir, k->t_recv_i, 32);
	assert_int_equal(i.hs.state, WG_HANDSHAKE_ZEROED);

	assert_true(wg_noise_derive_keys(&r.hs, rs, rr, &initiator, &remote));
	assert_false(initiator);
	assert_int_equal(remote, KAT_SENDER_I);
	assert_memory_equal(rs, k->t_recv_i, 32);
	assert_memory_equal(rr, k->t_send_i, 32);

	/* The first transport message, framed and padded as send.c does it. */
	{
		struct pkt_pool pool;
		struct wg_keypair kp;
		struct pkt *p;

		assert_true(pkt_pool_init(&pool, 1, PKT_DEFAULT_SIZE));
		p = pkt_alloc(&pool);
		memcpy(pkt_put(p, sizeof(kat_plaintext)), kat_plaintext, sizeof(kat_plaintext));
		memset(&kp, 0, sizeof(kp));
		memcpy(kp.sending_key, is, 32);
		kp.remote_index = KAT_SENDER_R;
		assert_true(wg_packet_encrypt(p, &kp, 0, 1420));
		assert_int_equal(p->len, 16 + 32 + 16);
		assert_memory_equal(p->data, k->data, p->len);
		pkt_free(p);
		pkt_pool_destroy(&pool);
	}
}

static void test_kat_no_psk(void **state)
{
	struct kat k = {NULL,
			kat_initiation_nopsk,
			kat_response_nopsk,
			kat_t_send_i_nopsk,
			kat_t_recv_i_nopsk,
			kat_data_nopsk};

	(void)state;
	run_kat(&k);
}

static void test_kat_psk(void **state)
{
	struct kat k = {kat_psk,	  kat_initiation_psk, kat_response_psk,
			kat_t_send_i_psk, kat_t_recv_i_psk,   kat_data_psk};

	(void)state;
	run_kat(&k);
	/* The PSK changes the session: the two vectors must differ. */
	assert_memory_not_equal(kat_t_send_i_psk, kat_t_send_i_nopsk, 32);
}

static void test_psk_mismatch(void **state)
{
	struct side i, r;
	struct wg_noise_initiation st;
	uint8_t init[WG_INIT_SIZE], resp[WG_RESP_SIZE];

	(void)state;
	setup_pair(&i, &r, NULL);
	memcpy(r.hs.preshared_key, kat_psk, 32);
	assert_int_equal(
		wg_noise_create_initiation(init, &i.hs, &i.id, kat_e_priv_i, kat_timestamp, 1),
		WG_NOISE_OK);
	assert_int_equal(wg_noise_consume_initiation_begin(init, &r.id, &st), WG_NOISE_OK);
	assert_int_equal(wg_noise_consume_initiation_finish(init, &st, &r.hs, 0), WG_NOISE_OK);
	assert_int_equal(wg_noise_create_response(resp, &r.hs, kat_e_priv_r, 2), WG_NOISE_OK);
	/* The PSK only enters at the response: the initiator cannot authenticate it. */
	assert_int_equal(wg_noise_consume_response(resp, &i.hs, &i.id), WG_NOISE_DECRYPT_FAILED);
	assert_int_equal(i.hs.state, WG_HANDSHAKE_CREATED_INITIATION);
}

static void test_tampered_initiation(void **state)
{
	struct side i, r;
	struct wg_noise_initiation st;
	uint8_t init[WG_INIT_SIZE], bad[WG_INIT_SIZE];

	(void)state;
	setup_pair(&i, &r, NULL);
	assert_int_equal(
		wg_noise_create_initiation(init, &i.hs, &i.id, kat_e_priv_i, kat_timestamp, 1),
		WG_NOISE_OK);
	/* A flipped bit in the ephemeral, the static or the timestamp: refused. */
	const size_t offs[] = {WG_INIT_OFF_EPHEMERAL + 3, WG_INIT_OFF_STATIC + 5,
			       WG_INIT_OFF_STATIC + 40, WG_INIT_OFF_TIMESTAMP + 1,
			       WG_INIT_OFF_TIMESTAMP + 20};
	for (size_t n = 0; n < sizeof(offs) / sizeof(offs[0]); n++) {
		enum wg_noise_result res;

		memcpy(bad, init, sizeof(bad));
		bad[offs[n]] ^= 0x01;
		res = wg_noise_consume_initiation_begin(bad, &r.id, &st);
		if (res == WG_NOISE_OK)
			res = wg_noise_consume_initiation_finish(bad, &st, &r.hs, 0);
		assert_int_not_equal(res, WG_NOISE_OK);
		assert_int_equal(r.hs.state, WG_HANDSHAKE_ZEROED);
	}
	/* A responder with another key cannot even read who is calling. */
	{
		struct wg_static_identity other;
		uint8_t k[32];

		memset(k, 0x42, sizeof(k));
		wg_noise_set_identity(&other, k);
		assert_int_equal(wg_noise_consume_initiation_begin(init, &other, &st),
				 WG_NOISE_DECRYPT_FAILED);
	}
}

static void test_replay_and_flood(void **state)
{
	struct side i, r;
	struct wg_noise_initiation st;
	uint8_t init[WG_INIT_SIZE], ts[12];
	const uint64_t t0 = 5 * WG_NS_PER_SEC;

	(void)state;
	setup_pair(&i, &r, NULL);
	tai64n_encode(ts, KAT_WALL_NS);
	assert_int_equal(wg_noise_create_initiation(init, &i.hs, &i.id, kat_e_priv_i, ts, 1),
			 WG_NOISE_OK);
	assert_int_equal(wg_noise_consume_initiation_begin(init, &r.id, &st), WG_NOISE_OK);
	assert_int_equal(wg_noise_consume_initiation_finish(init, &st, &r.hs, t0), WG_NOISE_OK);
	/* The same message again, even much later: its timestamp is not newer. */
	assert_int_equal(wg_noise_consume_initiation_begin(init, &r.id, &st), WG_NOISE_OK);
	assert_int_equal(
		wg_noise_consume_initiation_finish(init, &st, &r.hs, t0 + 60 * WG_NS_PER_SEC),
		WG_NOISE_REPLAY);
	/* A fresh initiation with a newer timestamp, but only 10 ms later: a flood. */
	tai64n_encode(ts, KAT_WALL_NS + WG_NS_PER_SEC);
	assert_int_equal(wg_noise_create_initiation(init, &i.hs, &i.id, kat_e_priv_r, ts, 2),
			 WG_NOISE_OK);
	assert_int_equal(wg_noise_consume_initiation_begin(init, &r.id, &st), WG_NOISE_OK);
	assert_int_equal(wg_noise_consume_initiation_finish(init, &st, &r.hs, t0 + 10000000),
			 WG_NOISE_FLOOD);
	/* 20 ms after the last one consumed it is accepted. */
	assert_int_equal(wg_noise_consume_initiation_begin(init, &r.id, &st), WG_NOISE_OK);
	assert_int_equal(wg_noise_consume_initiation_finish(init, &st, &r.hs, t0 + 20000000),
			 WG_NOISE_OK);
	assert_int_equal(r.hs.remote_index, 2);
}

static void test_low_order_keys(void **state)
{
	struct side i, r;
	struct wg_noise_initiation st;
	uint8_t init[WG_INIT_SIZE];
	uint8_t zero[32] = {0};

	(void)state;
	setup_pair(&i, &r, NULL);
	assert_int_equal(
		wg_noise_create_initiation(init, &i.hs, &i.id, kat_e_priv_i, kat_timestamp, 1),
		WG_NOISE_OK);
	/* An all-zero (low-order) ephemeral makes the es DH zero: refused before decrypting. */
	memset(init + WG_INIT_OFF_EPHEMERAL, 0, 32);
	assert_int_equal(wg_noise_consume_initiation_begin(init, &r.id, &st), WG_NOISE_BAD_DH);
	/* A peer whose public key is low order has no static-static secret: no initiation. */
	wg_noise_handshake_init(&i.hs, zero, NULL);
	wg_noise_precompute_static_static(&i.hs, &i.id);
	assert_true(crypto_equal(i.hs.precomputed_static_static, zero, 32));
	assert_int_equal(
		wg_noise_create_initiation(init, &i.hs, &i.id, kat_e_priv_i, kat_timestamp, 1),
		WG_NOISE_BAD_DH);
	assert_int_equal(i.hs.state, WG_HANDSHAKE_ZEROED);
}

static void test_response_out_of_state(void **state)
{
	struct side i, r;
	uint8_t resp[WG_RESP_SIZE];
	uint8_t send[32], recv[32];
	bool initiator;
	uint32_t remote;

	(void)state;
	setup_pair(&i, &r, NULL);
	/* No initiation consumed: no response, no keys. */
	assert_int_equal(wg_noise_create_response(resp, &r.hs, kat_e_priv_r, 2),
			 WG_NOISE_BAD_STATE);
	assert_false(wg_noise_derive_keys(&r.hs, send, recv, &initiator, &remote));
	/* The KAT response arrives at an initiator that sent nothing. */
	assert_int_equal(wg_noise_consume_response(kat_response_nopsk, &i.hs, &i.id),
			 WG_NOISE_BAD_STATE);
	/* No identity: nothing at all. */
	{
		struct wg_static_identity none;
		uint8_t init[WG_INIT_SIZE];

		wg_noise_set_identity(&none, NULL);
		assert_false(none.has_identity);
		assert_int_equal(wg_noise_create_initiation(init, &i.hs, &none, kat_e_priv_i,
							    kat_timestamp, 1),
				 WG_NOISE_NO_IDENTITY);
	}
}

/* Moves out (UDP from `from`) into a fresh input vector, source set. */
static void to_input(struct pkt_vec *out, struct pkt_vec *in, const struct vw_endpoint *from)
{
	pkt_vec_init(in);
	for (uint32_t i = 0; i < out->n; i++) {
		out->p[i]->src = *from;
		pkt_vec_add(in, out->p[i]);
	}
	pkt_vec_init(out);
}

/*
 * The whole device path against the vectors: the initiator's device emits the
 * vectors' initiation, the responder's device the vectors' response, and the
 * staged packet goes out as the vectors' first data message.
 */
static void test_kat_devices(void **state)
{
	struct pkt_pool pool;
	struct kd_node a, b;
	struct pkt_vec in, out, out_ip;

	(void)state;
	assert_true(pkt_pool_init(&pool, 16, PKT_DEFAULT_SIZE));
	assert_int_equal(kd_node_init(&a, &pool, true), 0);
	assert_int_equal(kd_node_init(&b, &pool, false), 0);
	pkt_vec_init(&in);
	pkt_vec_init(&out);
	pkt_vec_init(&out_ip);

	pkt_vec_add(&in, kd_packet(&pool, kat_plaintext, sizeof(kat_plaintext), NULL));
	assert_int_equal(wg_device_send(&a.dev, &in, KD_NOW, NULL, &out), 1);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.p[0]->len, WG_INIT_SIZE);
	assert_memory_equal(out.p[0]->data, kat_initiation_nopsk, WG_INIT_SIZE);

	to_input(&out, &in, &a.ep);
	assert_int_equal(wg_device_receive(&b.dev, &in, KD_NOW, false, NULL, &out, &out_ip), 1);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.p[0]->len, WG_RESP_SIZE);
	assert_memory_equal(out.p[0]->data, kat_response_nopsk, WG_RESP_SIZE);

	to_input(&out, &in, &b.ep);
	assert_int_equal(wg_device_receive(&a.dev, &in, KD_NOW, false, NULL, &out, &out_ip), 1);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.p[0]->len, sizeof(kat_data_nopsk));
	assert_memory_equal(out.p[0]->data, kat_data_nopsk, sizeof(kat_data_nopsk));

	to_input(&out, &in, &a.ep);
	assert_int_equal(wg_device_receive(&b.dev, &in, KD_NOW, false, NULL, &out, &out_ip), 1);
	assert_int_equal(out_ip.n, 1);
	assert_int_equal(out_ip.p[0]->len, sizeof(kat_plaintext));
	assert_memory_equal(out_ip.p[0]->data, kat_plaintext, sizeof(kat_plaintext));
	pkt_vec_free(&out_ip);
	pkt_vec_free(&out);

	wg_device_free(&a.dev);
	wg_device_free(&b.dev);
	assert_int_equal(pool.nfree, pool.count);
	pkt_pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_values),
		cmocka_unit_test(test_static_keys),
		cmocka_unit_test(test_kat_no_psk),
		cmocka_unit_test(test_kat_psk),
		cmocka_unit_test(test_psk_mismatch),
		cmocka_unit_test(test_tampered_initiation),
		cmocka_unit_test(test_replay_and_flood),
		cmocka_unit_test(test_low_order_keys),
		cmocka_unit_test(test_response_out_of_state),
		cmocka_unit_test(test_kat_devices),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
