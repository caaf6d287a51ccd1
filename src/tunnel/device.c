/* SPDX-License-Identifier: MIT */
#include "device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "send.h"
#include "timers.h"

#define DEFAULT_MAX_PEERS	 1024
#define DEFAULT_RATELIMITER_SIZE 8192

#define WG_DROP_NAME_(id, name) [WG_DROP_##id] = name,
static const char *const drop_names[WG_DROP_MAX] = {WG_DROP_REASONS(WG_DROP_NAME_)};
#undef WG_DROP_NAME_

const char *wg_drop_name(enum wg_drop_reason reason)
{
	return (unsigned)reason < WG_DROP_MAX ? drop_names[reason] : NULL;
}

void wg_device_count_drop(struct wg_device *dev, struct wg_peer *peer, bool rx,
			  enum wg_drop_reason reason)
{
	dev->drops[reason]++;
	if (!peer)
		return;
	if (rx)
		peer->rx_dropped++;
	else
		peer->tx_dropped++;
}

static void default_random(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	crypto_random(buf, len);
}

void wg_device_random(struct wg_device *dev, void *buf, size_t len)
{
	dev->random(dev->random_ctx, buf, len);
}

void wg_device_random_pooled(void *ctx, void *buf, size_t len)
{
	struct wg_device *dev = ctx;
	uint8_t *out = buf;

	while (len) {
		size_t n;

		if (!dev->random_pool_left) {
			wg_device_random(dev, dev->random_pool, sizeof(dev->random_pool));
			dev->random_pool_left = sizeof(dev->random_pool);
		}
		n = len < dev->random_pool_left ? len : dev->random_pool_left;
		/* Handed out from the end; what was handed out is not kept. */
		dev->random_pool_left -= (uint32_t)n;
		memcpy(out, dev->random_pool + dev->random_pool_left, n);
		crypto_wipe(dev->random_pool + dev->random_pool_left, n);
		out += n;
		len -= n;
	}
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1u << 24))
		p <<= 1;
	return p;
}

int wg_device_init(struct wg_device *dev, const struct wg_device_config *cfg)
{
	uint8_t seed[8];
	uint32_t rl_entries;

	memset(dev, 0, sizeof(*dev));
	if (!cfg->pool)
		return -EINVAL;
	dev->pool = cfg->pool;
	dev->mtu = cfg->mtu;
	dev->random = cfg->random ? cfg->random : default_random;
	dev->random_ctx = cfg->random_ctx;
	dev->max_peers = cfg->max_peers ? cfg->max_peers : DEFAULT_MAX_PEERS;
	if (dev->max_peers > (1u << 20))
		return -EINVAL;
	rl_entries = cfg->ratelimiter_entries ? cfg->ratelimiter_entries : DEFAULT_RATELIMITER_SIZE;
	dev->max_staged = cfg->max_staged ? cfg->max_staged : cfg->pool->count / 4;
	if (!dev->max_staged)
		dev->max_staged = 1;
	dev->ratelimiter_gc_at = WG_TIMER_OFF;
	dev->dh_tokens_ns = WG_NS_PER_SEC / WG_HANDSHAKE_DH_PER_SECOND * WG_HANDSHAKE_DH_BURST;
	wg_allowedips_init(&dev->peer_allowedips);
	wg_cookie_checker_init(&dev->cookie_checker, NULL);

	dev->peers = calloc(dev->max_peers, sizeof(*dev->peers));
	dev->timer_heap = calloc(dev->max_peers, sizeof(*dev->timer_heap));
	dev->pubkey_mask = pow2_at_least(dev->max_peers) - 1;
	dev->pubkey_buckets = calloc(dev->pubkey_mask + 1, sizeof(*dev->pubkey_buckets));
	if (!dev->peers || !dev->timer_heap || !dev->pubkey_buckets)
		goto nomem;
	/* A handshake and up to four keypairs per peer. */
	if (wg_index_table_init(&dev->index_table, dev->max_peers * 4))
		goto nomem;
	wg_device_random(dev, seed, sizeof(seed));
	if (wg_ratelimiter_init(&dev->ratelimiter, rl_entries, get_le64(seed))) {
		wg_index_table_free(&dev->index_table);
		goto nomem;
	}
	/* Its own key from the same seed: another draw would shift every later random byte. */
	if (wg_ratelimiter_init(&dev->cookie_ratelimiter, rl_entries,
				get_le64(seed) ^ 0x636f6f6b69657321ULL)) {
		wg_ratelimiter_free(&dev->ratelimiter);
		wg_index_table_free(&dev->index_table);
		goto nomem;
	}
	if (wg_handshake_queue_init(&dev->handshakes, cfg->handshake_queue)) {
		wg_ratelimiter_free(&dev->cookie_ratelimiter);
		wg_ratelimiter_free(&dev->ratelimiter);
		wg_index_table_free(&dev->index_table);
		goto nomem;
	}
	return 0;
nomem:
	free(dev->peers);
	free(dev->timer_heap);
	free(dev->pubkey_buckets);
	memset(dev, 0, sizeof(*dev));
	return -ENOMEM;
}

void wg_device_free(struct wg_device *dev)
{
	if (!dev->peers)
		return;
	wg_device_remove_all_peers(dev);
	wg_allowedips_free(&dev->peer_allowedips);
	wg_ratelimiter_free(&dev->ratelimiter);
	wg_ratelimiter_free(&dev->cookie_ratelimiter);
	wg_handshake_queue_free(&dev->handshakes);
	wg_index_table_free(&dev->index_table);
	free(dev->peers);
	free(dev->timer_heap);
	free(dev->pubkey_buckets);
	crypto_wipe(dev, sizeof(*dev));
}

/* ---- peers by public key ---- */

static struct wg_peer **pubkey_bucket(const struct wg_device *dev, const uint8_t key[WG_KEY_SIZE])
{
	/* Public keys are uniformly random and chosen by the administrator: no hashing needed. */
	return &dev->pubkey_buckets[get_le32(key) & dev->pubkey_mask];
}

struct wg_peer *wg_device_find_peer(const struct wg_device *dev,
				    const uint8_t public_key[WG_KEY_SIZE])
{
	for (struct wg_peer *p = *pubkey_bucket(dev, public_key); p; p = p->pubkey_next)
		if (!memcmp(wg_peer_public_key(p), public_key, WG_KEY_SIZE))
			return p;
	return NULL;
}

struct wg_peer *wg_device_peer_by_id(const struct wg_device *dev, uint32_t id)
{
	return id < dev->max_peers ? dev->peers[id] : NULL;
}

int wg_device_add_peer(struct wg_device *dev, const uint8_t public_key[WG_KEY_SIZE],
		       struct wg_peer **out)
{
	struct wg_peer *peer, **b;
	uint32_t id;

	*out = wg_device_find_peer(dev, public_key);
	if (*out)
		return -EEXIST;
	/* The kernel silently refuses a peer that is ourselves. */
	if (dev->static_identity.has_identity &&
	    !memcmp(public_key, dev->static_identity.static_public, WG_KEY_SIZE))
		return -EINVAL;
	if (dev->npeers >= dev->max_peers)
		return -ENOSPC;
	for (id = dev->free_id; dev->peers[id]; id++)
		;
	peer = malloc(sizeof(*peer));
	if (!peer)
		return -ENOMEM;
	wg_peer_init(peer, dev, id, public_key);
	dev->peers[id] = peer;
	dev->free_id = id + 1;
	dev->npeers++;
	b = pubkey_bucket(dev, public_key);
	peer->pubkey_next = *b;
	*b = peer;
	peer->list_prev = dev->peer_list_tail;
	if (dev->peer_list_tail)
		dev->peer_list_tail->list_next = peer;
	else
		dev->peer_list_head = peer;
	dev->peer_list_tail = peer;
	*out = peer;
	return 0;
}

static void unlink_pending(struct wg_device *dev, struct wg_peer *peer)
{
	struct wg_peer *prev = NULL;

	if (!peer->on_pending)
		return;
	for (struct wg_peer *p = dev->pending_head; p; prev = p, p = p->pending_next) {
		if (p != peer)
			continue;
		if (prev)
			prev->pending_next = p->pending_next;
		else
			dev->pending_head = p->pending_next;
		if (dev->pending_tail == p)
			dev->pending_tail = prev;
		break;
	}
	peer->on_pending = false;
}

void wg_device_remove_peer(struct wg_device *dev, struct wg_peer *peer)
{
	struct wg_peer **pp;

	wg_allowedips_remove_by_peer(&dev->peer_allowedips, peer);
	wg_peer_purge_staged(peer, WG_DROP_PEER_REMOVED);
	wg_timers_stop(peer);
	unlink_pending(dev, peer);
	wg_peer_handshake_clear(peer);
	wg_keypairs_clear(&peer->keypairs, &dev->index_table);
	if (peer->session_up && dev->session_event)
		dev->session_event(dev->session_event_ctx, peer, false);

	for (pp = pubkey_bucket(dev, wg_peer_public_key(peer)); *pp; pp = &(*pp)->pubkey_next) {
		if (*pp == peer) {
			*pp = peer->pubkey_next;
			break;
		}
	}
	if (peer->list_prev)
		peer->list_prev->list_next = peer->list_next;
	else
		dev->peer_list_head = peer->list_next;
	if (peer->list_next)
		peer->list_next->list_prev = peer->list_prev;
	else
		dev->peer_list_tail = peer->list_prev;
	dev->peers[peer->id] = NULL;
	if (peer->id < dev->free_id)
		dev->free_id = peer->id;
	dev->npeers--;
	crypto_wipe(peer, sizeof(*peer));
	free(peer);
}

void wg_device_remove_all_peers(struct wg_device *dev)
{
	while (dev->peer_list_head)
		wg_device_remove_peer(dev, dev->peer_list_head);
}

struct wg_peer *wg_device_first_peer(const struct wg_device *dev)
{
	return dev->peer_list_head;
}

struct wg_peer *wg_device_next_peer(const struct wg_peer *peer)
{
	return peer->list_next;
}

/* ---- configuration ---- */

void wg_device_set_private_key(struct wg_device *dev, const uint8_t *private_key, uint64_t now_ns)
{
	struct wg_static_identity id;
	struct wg_peer *peer;

	wg_noise_set_identity(&id, private_key);
	if (id.has_identity == dev->static_identity.has_identity &&
	    !memcmp(id.static_private, dev->static_identity.static_private, WG_KEY_SIZE)) {
		crypto_wipe(&id, sizeof(id));
		return;
	}
	if (id.has_identity) {
		peer = wg_device_find_peer(dev, id.static_public);
		if (peer)
			wg_device_remove_peer(dev, peer);
	}
	dev->static_identity = id;
	crypto_wipe(&id, sizeof(id));
	wg_cookie_checker_init(&dev->cookie_checker, dev->static_identity.has_identity
							     ? dev->static_identity.static_public
							     : NULL);
	for (peer = dev->peer_list_head; peer; peer = peer->list_next) {
		wg_noise_precompute_static_static(&peer->handshake, &dev->static_identity);
		/* Sessions under the old identity stop sending; the next packet rekeys. */
		wg_peer_handshake_clear(peer);
		peer->last_sent_handshake = WG_TIMER_OFF;
		wg_keypairs_expire_current(&peer->keypairs);
		wg_peer_session_update(peer, now_ns);
	}
}

bool wg_device_public_key(const struct wg_device *dev, uint8_t out[WG_KEY_SIZE])
{
	if (!dev->static_identity.has_identity)
		return false;
	memcpy(out, dev->static_identity.static_public, WG_KEY_SIZE);
	return true;
}

void wg_peer_set_preshared_key(struct wg_peer *peer, const uint8_t *psk)
{
	if (psk)
		memcpy(peer->handshake.preshared_key, psk, WG_KEY_SIZE);
	else
		crypto_wipe(peer->handshake.preshared_key, WG_KEY_SIZE);
}

void wg_peer_set_endpoint(struct wg_peer *peer, const struct vw_endpoint *ep)
{
	if (ep)
		peer->endpoint = *ep;
	else
		memset(&peer->endpoint, 0, sizeof(peer->endpoint));
}

void wg_peer_set_persistent_keepalive(struct wg_peer *peer, uint16_t interval_s, uint64_t now_ns)
{
	bool send = !peer->persistent_keepalive_interval && interval_s;

	peer->persistent_keepalive_interval = interval_s;
	if (!interval_s)
		wg_timer_del(peer, WG_TIMER_PERSISTENT_KEEPALIVE);
	if (send)
		wg_packet_send_keepalive(peer, now_ns);
}

int wg_peer_add_allowed_ip(struct wg_peer *peer, uint8_t family, const uint8_t *addr, uint8_t cidr)
{
	return wg_allowedips_insert(&peer->device->peer_allowedips, family, addr, cidr, peer);
}

int wg_peer_remove_allowed_ip(struct wg_peer *peer, uint8_t family, const uint8_t *addr,
			      uint8_t cidr)
{
	return wg_allowedips_remove(&peer->device->peer_allowedips, family, addr, cidr, peer);
}

void wg_peer_clear_allowed_ips(struct wg_peer *peer)
{
	wg_allowedips_remove_by_peer(&peer->device->peer_allowedips, peer);
}

void wg_peer_foreach_allowed_ip(const struct wg_peer *peer,
				void (*cb)(void *ctx, uint8_t family, const uint8_t *addr,
					   uint8_t cidr),
				void *ctx)
{
	wg_allowedips_foreach(&peer->device->peer_allowedips, (void *)peer, cb, ctx);
}

bool wg_peer_has_session(const struct wg_peer *peer, uint64_t now_ns)
{
	return wg_keypair_can_send(peer->keypairs.current, now_ns);
}

void wg_peer_get_info(const struct wg_peer *peer, struct wg_peer_info *info)
{
	memset(info, 0, sizeof(*info));
	memcpy(info->public_key, wg_peer_public_key(peer), WG_KEY_SIZE);
	memcpy(info->preshared_key, peer->handshake.preshared_key, WG_KEY_SIZE);
	info->endpoint = peer->endpoint;
	info->has_handshake = peer->has_handshake;
	info->last_handshake_ns = peer->last_handshake_ns;
	info->rx_bytes = peer->rx_bytes;
	info->tx_bytes = peer->tx_bytes;
	info->persistent_keepalive_interval = peer->persistent_keepalive_interval;
	info->session_up = peer->session_up;
}

/* ---- timers ---- */

bool wg_device_expire_timers(struct wg_device *dev, uint64_t now_ns,
			     const struct wg_aead_later *later, struct pkt_vec *out)
{
	wg_timers_expire(dev, now_ns);
	if (dev->ratelimiter_gc_at <= now_ns) {
		wg_ratelimiter_gc(&dev->ratelimiter, now_ns);
		wg_ratelimiter_gc(&dev->cookie_ratelimiter, now_ns);
		/* Every second while a table holds anyone, as the kernel's collector. */
		dev->ratelimiter_gc_at = dev->ratelimiter.count || dev->cookie_ratelimiter.count
						 ? now_ns + WG_NS_PER_SEC
						 : WG_TIMER_OFF;
	}
	return wg_device_run_pending(dev, now_ns, later, out);
}

uint64_t wg_device_next_timer(const struct wg_device *dev)
{
	uint64_t t = wg_timers_next(dev);

	if (dev->pending_head || dev->handshakes.len)
		return 0;
	return dev->ratelimiter_gc_at < t ? dev->ratelimiter_gc_at : t;
}
