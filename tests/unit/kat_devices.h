/* SPDX-License-Identifier: MIT */
#ifndef VW_TEST_KAT_DEVICES_H
#define VW_TEST_KAT_DEVICES_H

/*
 * Two devices with the known-answer keys of vectors/noise_vectors.py, whose
 * random hooks hand out exactly the vectors' sender indexes and ephemeral
 * keys: the initiator's device emits the vectors' initiation byte for byte,
 * the responder's the vectors' response. Used by test_noise (device-level
 * known answers) and by the handshake fuzz targets (valid seeds get deep).
 *
 * kd_a: S_priv_i, peer S_pub_r at 192.0.2.2:51820 owning 10.0.0.1/32.
 * kd_b: S_priv_r, peer S_pub_i at 192.0.2.1:51820 owning 10.0.0.2/32.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/pkt.h"
#include "tunnel/device.h"
#include "vectors/noise_vectors.h"

/* The devices' clock at setup; wall time is then exactly the vectors' timestamp. */
#define KD_NOW (1000ULL * 1000000000ULL)

struct kd_random {
	uint8_t script[44]; /* ratelimiter seed (8), sender index (4), ephemeral (32) */
	size_t pos;
	uint64_t s;
};

static inline void kd_random_fn(void *ctx, void *buf, size_t len)
{
	struct kd_random *r = ctx;
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		if (r->pos < sizeof(r->script)) {
			b[i] = r->script[r->pos++];
		} else {
			r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
			b[i] = (uint8_t)(r->s >> 56);
		}
	}
}

struct kd_node {
	struct wg_device dev;
	struct kd_random rnd;
	struct wg_peer *peer;
	struct vw_endpoint ep;
};

static inline void kd_endpoint(struct vw_endpoint *ep, const char *ip)
{
	memset(ep, 0, sizeof(*ep));
	ep->in4.sin_family = AF_INET;
	ep->in4.sin_port = htons(51820);
	inet_pton(AF_INET, ip, &ep->in4.sin_addr);
}

/* 0 on success; the device is freed again on failure. */
static inline int kd_node_init(struct kd_node *n, struct pkt_pool *pool, bool initiator)
{
	struct wg_device_config cfg = {0};
	struct vw_endpoint peer_ep;
	uint8_t aip[4] = {10, 0, 0, initiator ? 1 : 2};

	memset(n, 0, sizeof(*n));
	put_le32(n->rnd.script + 8, initiator ? KAT_SENDER_I : KAT_SENDER_R);
	memcpy(n->rnd.script + 12, initiator ? kat_e_priv_i : kat_e_priv_r, 32);
	n->rnd.s = initiator ? 1 : 2;
	cfg.pool = pool;
	cfg.max_peers = 4;
	cfg.ratelimiter_entries = 64;
	cfg.mtu = 1420;
	cfg.random = kd_random_fn;
	cfg.random_ctx = &n->rnd;
	if (wg_device_init(&n->dev, &cfg))
		return -1;
	n->dev.wall_offset_ns = (int64_t)(KAT_WALL_NS - KD_NOW);
	wg_device_set_private_key(&n->dev, initiator ? kat_s_priv_i : kat_s_priv_r, KD_NOW);
	if (wg_device_add_peer(&n->dev, initiator ? kat_s_pub_r : kat_s_pub_i, &n->peer) ||
	    wg_peer_add_allowed_ip(n->peer, AF_INET, aip, 32)) {
		wg_device_free(&n->dev);
		return -1;
	}
	kd_endpoint(&n->ep, initiator ? "192.0.2.1" : "192.0.2.2");
	kd_endpoint(&peer_ep, initiator ? "192.0.2.2" : "192.0.2.1");
	wg_peer_set_endpoint(n->peer, &peer_ep);
	return 0;
}

/* A packet holding len bytes of data from src. NULL when the pool is empty. */
static inline struct pkt *kd_packet(struct pkt_pool *pool, const uint8_t *data, size_t len,
				    const struct vw_endpoint *src)
{
	struct pkt *p = pkt_alloc(pool);
	uint8_t *d;

	if (!p)
		return NULL;
	d = pkt_put(p, (uint32_t)len);
	if (!d) {
		pkt_free(p);
		return NULL;
	}
	memcpy(d, data, len);
	if (src)
		p->src = *src;
	return p;
}

#endif
