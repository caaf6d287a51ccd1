/* SPDX-License-Identifier: MIT */
#ifndef VW_TEST_TUNNEL_HARNESS_H
#define VW_TEST_TUNNEL_HARNESS_H

/*
 * Two in-memory WireGuard devices, A (10.0.0.1, 192.0.2.1:51820) and B
 * (10.0.0.2, 192.0.2.2:51820), joined by a lossless zero-latency "network"
 * under a virtual clock. The network can cut either direction and records
 * every message by type, so tests can count initiations, keepalives, ...
 * Randomness is a seeded generator: runs are reproducible.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/byteorder.h"
#include "core/pkt.h"
#include "crypto/crypto.h"
#include "crypto/x25519.h"
#include "tunnel/device.h"
#include "tunnel/messages.h"
#include "tunnel/send.h"

#define NS WG_NS_PER_SEC
#define MS (NS / 1000)

struct rng {
	uint64_t s;
};

/* splitmix64 */
static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void test_random(void *ctx, void *buf, size_t len)
{
	uint8_t *b = buf, t[8];

	for (size_t i = 0; i < len; i += 8) {
		put_le64(t, rng_next(ctx));
		memcpy(b + i, t, len - i < 8 ? len - i : 8);
	}
}

struct node {
	struct wg_device dev;
	struct rng rng;
	uint8_t priv[32], pub[32];
	struct vw_endpoint ep;
	struct wg_peer *peer; /* the other node */
	uint32_t ups, downs;
	struct pkt_vec ip; /* decrypted packets delivered to this node (the first 64 kept) */
	uint32_t rx_count; /* all decrypted packets, with the first payload byte of each: */
	uint8_t rx_tags[1024];
};

struct msg_log {
	uint32_t n[5]; /* by message type, [0] unused */
	uint32_t keepalives;
	uint64_t last_init_at;
};

struct net {
	struct pkt_pool pool;
	struct node a, b;
	uint64_t now;
	struct pkt_vec to[2]; /* in flight towards a (0) and b (1) */
	bool cut[2];	      /* drop everything towards a (0) / b (1) */
	bool capture[2];      /* hold packets towards a/b in held[] instead of delivering */
	struct pkt_vec held[2];
	bool under_load[2];
	struct msg_log log[2]; /* messages sent towards a (0) / b (1) */
	uint64_t init_times[2][64];
};

static inline void on_session(void *ctx, struct wg_peer *peer, bool up)
{
	struct node *n = ctx;

	(void)peer;
	if (up)
		n->ups++;
	else
		n->downs++;
}

static inline void make_ep(struct vw_endpoint *ep, const char *ip, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->in4.sin_family = AF_INET;
	ep->in4.sin_port = htons(port);
	inet_pton(AF_INET, ip, &ep->in4.sin_addr);
}

static inline void add_aip(struct wg_peer *peer, const char *ip, uint8_t cidr)
{
	uint8_t a[16];

	if (strchr(ip, ':')) {
		assert_int_equal(inet_pton(AF_INET6, ip, a), 1);
		assert_int_equal(wg_peer_add_allowed_ip(peer, AF_INET6, a, cidr), 0);
	} else {
		assert_int_equal(inet_pton(AF_INET, ip, a), 1);
		assert_int_equal(wg_peer_add_allowed_ip(peer, AF_INET, a, cidr), 0);
	}
}

static inline void node_init(struct net *n, struct node *x, uint64_t seed, const char *ip)
{
	struct wg_device_config cfg = {0};

	memset(x, 0, sizeof(*x));
	x->rng.s = seed;
	cfg.pool = &n->pool;
	cfg.max_peers = 16;
	cfg.mtu = 1420;
	cfg.random = test_random;
	cfg.random_ctx = &x->rng;
	assert_int_equal(wg_device_init(&x->dev, &cfg), 0);
	x->dev.session_event = on_session;
	x->dev.session_event_ctx = x;
	x->dev.wall_offset_ns = (int64_t)1700000000 * (int64_t)NS;
	test_random(&x->rng, x->priv, 32);
	x25519_clamp(x->priv);
	x25519_public(x->pub, x->priv);
	wg_device_set_private_key(&x->dev, x->priv, 0);
	make_ep(&x->ep, ip, 51820);
}

/* A knows B as 10.0.0.2/32 and fd00::2/128, B knows A as 10.0.0.1/32 and fd00::1/128. */
static inline void net_init(struct net *n, const uint8_t *psk)
{
	memset(n, 0, sizeof(*n));
	assert_true(pkt_pool_init(&n->pool, 1024, PKT_DEFAULT_SIZE));
	node_init(n, &n->a, 1, "192.0.2.1");
	node_init(n, &n->b, 2, "192.0.2.2");
	assert_int_equal(wg_device_add_peer(&n->a.dev, n->b.pub, &n->a.peer), 0);
	assert_int_equal(wg_device_add_peer(&n->b.dev, n->a.pub, &n->b.peer), 0);
	wg_peer_set_endpoint(n->a.peer, &n->b.ep);
	wg_peer_set_endpoint(n->b.peer, &n->a.ep);
	add_aip(n->a.peer, "10.0.0.2", 32);
	add_aip(n->b.peer, "10.0.0.1", 32);
	add_aip(n->a.peer, "fd00::2", 128);
	add_aip(n->b.peer, "fd00::1", 128);
	if (psk) {
		wg_peer_set_preshared_key(n->a.peer, psk);
		wg_peer_set_preshared_key(n->b.peer, psk);
	}
}

static inline void net_free(struct net *n)
{
	for (int d = 0; d < 2; d++) {
		pkt_vec_free(&n->to[d]);
		pkt_vec_free(&n->held[d]);
	}
	pkt_vec_free(&n->a.ip);
	pkt_vec_free(&n->b.ip);
	wg_device_free(&n->a.dev);
	wg_device_free(&n->b.dev);
	/* Every buffer came back: nothing leaked, nothing freed twice. */
	assert_int_equal(n->pool.nfree, n->pool.count);
	pkt_pool_destroy(&n->pool);
}

static inline struct node *other(struct net *n, struct node *x)
{
	return x == &n->a ? &n->b : &n->a;
}

static inline int dir_to(struct net *n, struct node *x)
{
	return x == &n->a ? 0 : 1;
}

/* Puts the UDP output of `from` on the wire. */
static inline void net_route(struct net *n, struct node *from, struct pkt_vec *out)
{
	struct node *to = other(n, from);
	int d = dir_to(n, to);

	for (uint32_t i = 0; i < out->n; i++) {
		struct pkt *p = out->p[i];
		int type = (int)wg_message_classify(p->data, p->len);

		assert_true(type > 0);
		/* Everything a device emits is addressed to the other node. */
		assert_true(vw_endpoint_equal(&p->dst, &to->ep) || p->port == 0);
		n->log[d].n[type]++;
		if (type == WG_MSG_DATA && p->len == WG_DATA_MIN_SIZE)
			n->log[d].keepalives++;
		if (type == WG_MSG_HANDSHAKE_INITIATION) {
			if (n->log[d].n[type] <= 64)
				n->init_times[d][n->log[d].n[type] - 1] = n->now;
			n->log[d].last_init_at = n->now;
		}
		p->src = from->ep;
		if (n->cut[d]) {
			pkt_free(p);
			continue;
		}
		if (n->capture[d] && !pkt_vec_full(&n->held[d])) {
			pkt_vec_add(&n->held[d], p);
			continue;
		}
		assert_true(pkt_vec_add(&n->to[d], p));
	}
	out->n = 0;
}

/*
 * A device with a handshake queue: its queued handshakes go through the three steps
 * (take, run, finish) as vwired's workers run them, answers back on the wire.
 */
static inline void node_handshakes(struct net *n, struct node *x)
{
	static struct wg_handshake_jobs jobs;
	struct pkt_vec out;

	while (wg_device_handshakes_queued(&x->dev)) {
		pkt_vec_init(&out);
		wg_device_handshakes_take(&x->dev, &jobs, n->now, &out);
		net_route(n, x, &out);
		wg_handshake_jobs_run(&jobs);
		while (jobs.n) {
			pkt_vec_init(&out);
			wg_device_handshakes_finish(&x->dev, &jobs, n->now, NULL, &out);
			net_route(n, x, &out);
		}
	}
}

/* Delivers what is in flight towards x; x's answers go back on the wire. */
static inline void net_deliver(struct net *n, struct node *x)
{
	struct pkt_vec *in = &n->to[dir_to(n, x)];
	struct pkt_vec out_udp, out_ip;

	while (in->n) {
		pkt_vec_init(&out_udp);
		pkt_vec_init(&out_ip);
		wg_device_receive(&x->dev, in, n->now, n->under_load[dir_to(n, x)], NULL, &out_udp,
				  &out_ip);
		for (uint32_t i = 0; i < out_ip.n; i++) {
			if (x->rx_count < sizeof(x->rx_tags))
				x->rx_tags[x->rx_count] =
					out_ip.p[i]->len > 28 ? out_ip.p[i]->data[28] : 0;
			x->rx_count++;
			if (!pkt_vec_add(&x->ip, out_ip.p[i]))
				pkt_free(out_ip.p[i]);
		}
		net_route(n, x, &out_udp);
	}
	node_handshakes(n, x);
}

static inline void net_flush(struct net *n)
{
	for (int i = 0; i < 1000 && (n->to[0].n || n->to[1].n); i++) {
		net_deliver(n, &n->a);
		net_deliver(n, &n->b);
	}
	assert_int_equal(n->to[0].n + n->to[1].n, 0);
}

static inline void node_expire(struct net *n, struct node *x)
{
	struct pkt_vec out;
	bool done;

	do {
		pkt_vec_init(&out);
		done = wg_device_expire_timers(&x->dev, n->now, NULL, &out);
		net_route(n, x, &out);
	} while (!done);
}

/* Runs the network and both devices' timers up to `until` (absolute ns). */
static inline void net_run_until(struct net *n, uint64_t until)
{
	for (int guard = 0;; guard++) {
		uint64_t ta, tb, t;

		assert_true(guard < 100000);
		net_flush(n);
		ta = wg_device_next_timer(&n->a.dev);
		tb = wg_device_next_timer(&n->b.dev);
		t = ta < tb ? ta : tb;
		if (t > until)
			break;
		if (t > n->now)
			n->now = t;
		node_expire(n, &n->a);
		node_expire(n, &n->b);
	}
	if (until > n->now)
		n->now = until;
}

/* An IPv4/UDP packet src -> dst with `payload` bytes of a pattern seeded by tag. */
static inline struct pkt *make_ip4(struct net *n, const char *src, const char *dst,
				   uint32_t payload, uint8_t tag)
{
	struct pkt *p = pkt_alloc(&n->pool);
	uint8_t *h;

	assert_non_null(p);
	h = pkt_put(p, 28 + payload);
	if (!h)
		abort();
	memset(h, 0, 28);
	h[0] = 0x45;
	put_be16(h + 2, (uint16_t)(28 + payload));
	h[8] = 64;
	h[9] = 17;
	inet_pton(AF_INET, src, h + 12);
	inet_pton(AF_INET, dst, h + 16);
	put_be16(h + 20, 1000);
	put_be16(h + 22, 2000);
	put_be16(h + 24, (uint16_t)(8 + payload));
	for (uint32_t i = 0; i < payload; i++)
		h[28 + i] = (uint8_t)(tag + i * 7);
	return p;
}

static inline struct pkt *make_ip6(struct net *n, const char *src, const char *dst,
				   uint32_t payload, uint8_t tag)
{
	struct pkt *p = pkt_alloc(&n->pool);
	uint8_t *h;

	assert_non_null(p);
	h = pkt_put(p, 40 + payload);
	if (!h)
		abort();
	memset(h, 0, 40);
	h[0] = 0x60;
	put_be16(h + 4, (uint16_t)payload);
	h[6] = 59; /* no next header */
	h[7] = 64;
	inet_pton(AF_INET6, src, h + 8);
	inet_pton(AF_INET6, dst, h + 24);
	for (uint32_t i = 0; i < payload; i++)
		h[40 + i] = (uint8_t)(tag + i * 3);
	return p;
}

/* x sends one plaintext packet; whatever comes out goes on the wire (not yet delivered). */
static inline void node_send(struct net *n, struct node *x, struct pkt *p)
{
	struct pkt_vec in, out;

	pkt_vec_init(&in);
	pkt_vec_init(&out);
	pkt_vec_add(&in, p);
	assert_int_equal(wg_device_send(&x->dev, &in, n->now, NULL, &out), 1);
	assert_int_equal(in.n, 0);
	net_route(n, x, &out);
}

static inline bool ip4_payload_ok(const struct pkt *p, uint32_t payload, uint8_t tag)
{
	if (p->len != 28 + payload)
		return false;
	for (uint32_t i = 0; i < payload; i++)
		if (p->data[28 + i] != (uint8_t)(tag + i * 7))
			return false;
	return true;
}

/* A handshake started by `from` at the current time, run to completion. */
static inline void net_handshake(struct net *n, struct node *from)
{
	struct node *to = other(n, from);

	node_send(n, from,
		  make_ip4(n, from == &n->a ? "10.0.0.1" : "10.0.0.2",
			   to == &n->a ? "10.0.0.1" : "10.0.0.2", 10, 0x11));
	net_flush(n);
	assert_true(wg_peer_has_session(n->a.peer, n->now));
	assert_true(wg_peer_has_session(n->b.peer, n->now));
	pkt_vec_free(&to->ip);
}

static inline uint64_t drops(struct node *x, enum wg_drop_reason r)
{
	return x->dev.drops[r];
}

#endif
