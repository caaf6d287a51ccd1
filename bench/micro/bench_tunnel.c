/* SPDX-License-Identifier: MIT */
/*
 * WireGuard protocol core: handshakes per second for each role (the Noise
 * work plus mac1, as a device does it), and the data path through two
 * devices: 64-packet batches of 1420-byte packets encrypted by one device and
 * decrypted, replay-checked and source-checked by the other.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "crypto/crypto.h"
#include "crypto/tai64n.h"
#include "crypto/x25519.h"
#include "tunnel/cookie.h"
#include "tunnel/device.h"
#include "tunnel/noise.h"

#define HANDSHAKES 2000

struct side {
	struct wg_static_identity id;
	struct wg_handshake hs;
	struct wg_cookie cookie; /* keyed by the other side */
	struct wg_cookie_checker checker;
};

static void side_init(struct side *s, const uint8_t priv[32], const uint8_t other_pub[32])
{
	wg_noise_set_identity(&s->id, priv);
	wg_noise_handshake_init(&s->hs, other_pub, NULL);
	wg_noise_precompute_static_static(&s->hs, &s->id);
	wg_cookie_init(&s->cookie, other_pub);
	wg_cookie_checker_init(&s->checker, s->id.static_public);
}

static void die(const char *what)
{
	fprintf(stderr, "bench_tunnel: %s failed\n", what);
	exit(1);
}

static void rnd(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	crypto_random(buf, len);
}

/*
 * One handshake between i and r at time t, with the initiator's and the
 * responder's parts timed separately (the other side's part is not counted).
 */
static void handshake(struct side *i, struct side *r, uint64_t t, uint64_t *ti, uint64_t *tr)
{
	uint8_t init[WG_INIT_SIZE], resp[WG_RESP_SIZE], eph[32], ts[12], k1[32], k2[32];
	struct wg_noise_initiation st;
	struct vw_endpoint src = {0};
	bool initiator;
	uint32_t remote;
	uint64_t t0;

	src.in4.sin_family = AF_INET;
	crypto_random(eph, sizeof(eph));
	tai64n_encode(ts, 1700000000ULL * WG_NS_PER_SEC + t);

	t0 = bench_now_ns();
	if (wg_noise_create_initiation(init, &i->hs, &i->id, eph, ts, 1) != WG_NOISE_OK)
		die("create_initiation");
	wg_cookie_add_macs(&i->cookie, init, sizeof(init), t);
	*ti += bench_now_ns() - t0;

	crypto_random(eph, sizeof(eph));
	t0 = bench_now_ns();
	if (wg_cookie_validate(&r->checker, init, sizeof(init), &src, false, t, rnd, NULL) ==
		    WG_COOKIE_INVALID_MAC ||
	    wg_noise_consume_initiation_begin(init, &r->id, &st) != WG_NOISE_OK ||
	    wg_noise_consume_initiation_finish(init, &st, &r->hs, t) != WG_NOISE_OK ||
	    wg_noise_create_response(resp, &r->hs, eph, 2) != WG_NOISE_OK)
		die("responder");
	wg_cookie_add_macs(&r->cookie, resp, sizeof(resp), t);
	if (!wg_noise_derive_keys(&r->hs, k1, k2, &initiator, &remote))
		die("responder keys");
	*tr += bench_now_ns() - t0;

	t0 = bench_now_ns();
	if (wg_cookie_validate(&i->checker, resp, sizeof(resp), &src, false, t, rnd, NULL) ==
		    WG_COOKIE_INVALID_MAC ||
	    wg_noise_consume_response(resp, &i->hs, &i->id) != WG_NOISE_OK ||
	    !wg_noise_derive_keys(&i->hs, k1, k2, &initiator, &remote))
		die("initiator");
	*ti += bench_now_ns() - t0;
}

static void bench_handshakes(void)
{
	uint8_t pi[32], pr[32], pubi[32], pubr[32];
	struct side i, r;
	uint64_t ti = 0, tr = 0;

	x25519_generate(pi);
	x25519_generate(pr);
	x25519_public(pubi, pi);
	x25519_public(pubr, pr);
	side_init(&i, pi, pubr);
	side_init(&r, pr, pubi);
	for (uint64_t n = 0; n < HANDSHAKES; n++)
		handshake(&i, &r, (n + 1) * WG_NS_PER_SEC, &ti, &tr);
	bench_report("handshake initiator (create init + consume resp)", HANDSHAKES, ti, 0);
	bench_report("handshake responder (consume init + create resp)", HANDSHAKES, tr, 0);
}

/* ---- data path through two devices ---- */

struct node {
	struct wg_device dev;
	struct wg_peer *peer;
	struct vw_endpoint ep;
};

static void node_init(struct node *n, struct pkt_pool *pool, const uint8_t priv[32], const char *ip)
{
	struct wg_device_config cfg = {0};

	cfg.pool = pool;
	cfg.mtu = 1420;
	if (wg_device_init(&n->dev, &cfg))
		die("wg_device_init");
	wg_device_set_private_key(&n->dev, priv, 0);
	memset(&n->ep, 0, sizeof(n->ep));
	n->ep.in4.sin_family = AF_INET;
	n->ep.in4.sin_port = htons(51820);
	inet_pton(AF_INET, ip, &n->ep.in4.sin_addr);
}

static void peer_connect(struct node *x, const uint8_t pub[32], const struct node *y, uint8_t host)
{
	uint8_t aip[4] = {10, 0, 0, host};

	if (wg_device_add_peer(&x->dev, pub, &x->peer))
		die("add_peer");
	wg_peer_set_endpoint(x->peer, &y->ep);
	if (wg_peer_add_allowed_ip(x->peer, AF_INET, aip, 32))
		die("allowed ip");
}

/* Delivers x's UDP output to y; y's answers go back to x until both are quiet. */
static void shuttle(struct node *x, struct node *y, struct pkt_vec *v, struct pkt_vec *ip,
		    uint64_t now)
{
	for (int round = 0; v->n && round < 8; round++) {
		struct pkt_vec in = *v, out;

		pkt_vec_init(&out);
		for (uint32_t k = 0; k < in.n; k++)
			in.p[k]->src = x->ep;
		pkt_vec_init(v);
		while (in.n)
			wg_device_receive(&y->dev, &in, now, false, NULL, &out, ip);
		*v = out;
		struct node *t = x;
		x = y;
		y = t;
	}
}

static void bench_data(void)
{
	struct pkt_pool pool;
	struct node a, b;
	uint8_t pa[32], pb[32], puba[32], pubb[32];
	struct pkt_vec pkts, out, ip;
	const uint32_t len = 1420;
	uint64_t t0, ns, batches = 0;

	if (!pkt_pool_init(&pool, 512, PKT_DEFAULT_SIZE))
		die("pool");
	x25519_generate(pa);
	x25519_generate(pb);
	x25519_public(puba, pa);
	x25519_public(pubb, pb);
	node_init(&a, &pool, pa, "192.0.2.1");
	node_init(&b, &pool, pb, "192.0.2.2");
	peer_connect(&a, pubb, &b, 2);
	peer_connect(&b, puba, &a, 1);

	/* 64 IPv4 packets of 1420 bytes from 10.0.0.1 to 10.0.0.2. */
	pkt_vec_init(&pkts);
	for (int k = 0; k < PKT_VEC_MAX; k++) {
		struct pkt *p = pkt_alloc(&pool);
		uint8_t *h = pkt_put(p, len);

		memset(h, 0x5a, len);
		h[0] = 0x45;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		memcpy(h + 12, (uint8_t[]){10, 0, 0, 1}, 4);
		memcpy(h + 16, (uint8_t[]){10, 0, 0, 2}, 4);
		pkt_vec_add(&pkts, p);
	}
	/* The first batch waits for the handshake; run it, then measure steady state. */
	pkt_vec_init(&out);
	pkt_vec_init(&ip);
	wg_device_send(&a.dev, &pkts, 0, NULL, &out);
	shuttle(&a, &b, &out, &ip, 0);
	for (int k = 0; k < 8 && (out.n || wg_device_next_timer(&a.dev) == 0); k++) {
		wg_device_expire_timers(&a.dev, 0, NULL, &out);
		shuttle(&a, &b, &out, &ip, 0);
	}
	if (ip.n != PKT_VEC_MAX || !wg_peer_has_session(a.peer, 0))
		die("handshake");

	t0 = bench_now_ns();
	do {
		/* The decrypted packets are the original ones: send them again. */
		pkts = ip;
		pkt_vec_init(&ip);
		pkt_vec_init(&out);
		if (wg_device_send(&a.dev, &pkts, WG_NS_PER_SEC, NULL, &out) != PKT_VEC_MAX)
			die("send");
		for (uint32_t k = 0; k < out.n; k++)
			out.p[k]->src = a.ep;
		pkt_vec_init(&pkts);
		if (wg_device_receive(&b.dev, &out, WG_NS_PER_SEC, false, NULL, &pkts, &ip) !=
			    PKT_VEC_MAX ||
		    ip.n != PKT_VEC_MAX)
			die("receive");
		pkt_vec_free(&pkts); /* nothing expected, but keep the pool whole */
		batches++;
		ns = bench_now_ns() - t0;
	} while (ns < BENCH_MIN_NS * 3);
	bench_report("data encrypt+decrypt 1420 B (64-packet batches)", batches * PKT_VEC_MAX, ns,
		     len);
	pkt_vec_free(&ip);
	wg_device_free(&a.dev);
	wg_device_free(&b.dev);
	pkt_pool_destroy(&pool);
}

int main(void)
{
	if (!crypto_init())
		return 1;
	bench_handshakes();
	bench_data();
	return 0;
}
