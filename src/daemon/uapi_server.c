/* SPDX-License-Identifier: MIT */
/*
 * The `wg` userspace API socket: reads requests (uapi.c finds and parses them),
 * applies set requests to the WireGuard device and answers get requests with a
 * snapshot of it. The clients themselves (buffers bounded by UAPI_MAX_REQUEST, limits,
 * timeouts, never waiting on one) are ctlsock.c's.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "daemon/uapi.h"
#include "daemon/vwired.h"

/* ---- get ---- */

struct ip_collect {
	struct uapi_allowed_ip *ips;
	uint32_t n, cap;
	bool oom;
};

static void collect_ip(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr)
{
	struct ip_collect *c = ctx;

	if (c->n == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : 16;
		struct uapi_allowed_ip *ips = realloc(c->ips, cap * sizeof(*ips));

		if (!ips) {
			c->oom = true;
			return;
		}
		c->ips = ips;
		c->cap = cap;
	}
	memset(&c->ips[c->n], 0, sizeof(c->ips[c->n]));
	c->ips[c->n].addr.family = family;
	memcpy(c->ips[c->n].addr.bytes, addr, family == AF_INET ? 4 : 16);
	c->ips[c->n].cidr = cidr;
	c->n++;
}

/* Queues the answer to get=1 for c: a snapshot of the device. */
static void answer_get(struct vwired *d, struct ctlsock_client *c)
{
	struct uapi_device dev = {0};
	struct uapi_peer_info *peers = NULL;
	struct ip_collect ips = {0};
	uint32_t *first = NULL, i = 0;
	char *text = NULL;
	size_t len;
	int rc = -ENOMEM;

	vwired_sync_wall_clock(&d->sh);
	if (d->sh.wg.static_identity.has_identity)
		memcpy(dev.private_key, d->sh.wg.static_identity.static_private, WG_KEY_LEN);
	dev.listen_port = d->workers[0].udp ? io_udp_port(d->workers[0].udp) : 0;
	dev.fwmark = d->sh.fwmark;
	peers = calloc(d->sh.wg.npeers ? d->sh.wg.npeers : 1, sizeof(*peers));
	first = calloc(d->sh.wg.npeers ? d->sh.wg.npeers : 1, sizeof(*first));
	if (!peers || !first)
		goto out;
	for (struct wg_peer *p = wg_device_first_peer(&d->sh.wg); p;
	     p = wg_device_next_peer(p), i++) {
		struct wg_peer_info info;
		struct uapi_peer_info *u = &peers[i];

		wg_peer_get_info(p, &info);
		memcpy(u->public_key, info.public_key, WG_KEY_LEN);
		memcpy(u->preshared_key, info.preshared_key, WG_KEY_LEN);
		u->endpoint = info.endpoint;
		u->persistent_keepalive_interval = info.persistent_keepalive_interval;
		if (info.has_handshake) {
			uint64_t wall = info.last_handshake_ns + (uint64_t)d->sh.wg.wall_offset_ns;

			u->last_handshake_time_sec = wall / NSEC_PER_SEC;
			u->last_handshake_time_nsec = (uint32_t)(wall % NSEC_PER_SEC);
		}
		u->rx_bytes = info.rx_bytes;
		u->tx_bytes = info.tx_bytes;
		first[i] = ips.n;
		wg_peer_foreach_allowed_ip(p, collect_ip, &ips);
		u->n_allowed_ips = ips.n - first[i];
		crypto_wipe(&info, sizeof(info));
	}
	if (ips.oom)
		goto out;
	/* The array may have moved while growing: point into it only now. */
	for (uint32_t j = 0; j < i; j++)
		peers[j].allowed_ips = ips.ips + first[j];
	dev.peers = peers;
	dev.n_peers = i;
	len = uapi_format_get(&dev, NULL, 0);
	text = malloc(len + 1);
	if (!text)
		goto out;
	uapi_format_get(&dev, text, len + 1);
	/* The client wipes the text (it holds the private key) once it is out. */
	rc = ctlsock_reply_take(c, text, len);
out:
	if (rc == -ENOMEM) {
		char e[32];

		ctlsock_reply(c, e, uapi_format_errno(-ENOMEM, e, sizeof(e)));
	}
	if (peers)
		crypto_wipe(peers, (d->sh.wg.npeers ? d->sh.wg.npeers : 1) * sizeof(*peers));
	free(peers);
	free(first);
	free(ips.ips);
	crypto_wipe(&dev, sizeof(dev));
}

/* ---- set ---- */

static int apply_peer_op(struct vwired *d, const struct uapi_set *set,
			 const struct uapi_peer_op *op, uint64_t now)
{
	struct wg_peer *peer = wg_device_find_peer(&d->sh.wg, op->public_key);
	uint8_t own[WG_KEY_LEN];
	int rc;

	if (op->flags & UAPI_PEER_REMOVE) {
		if (peer)
			wg_device_remove_peer(&d->sh.wg, peer);
		return 0;
	}
	if (!peer && (op->flags & UAPI_PEER_UPDATE_ONLY))
		return 0;
	if (!peer) {
		/* Our own key as a peer is ignored, as wireguard-go does. */
		if (wg_device_public_key(&d->sh.wg, own) &&
		    !memcmp(own, op->public_key, WG_KEY_LEN))
			return 0;
		rc = wg_device_add_peer(&d->sh.wg, op->public_key, &peer);
		if (rc == -EINVAL)
			return 0;
		if (rc && rc != -EEXIST)
			return rc;
	}
	if (op->flags & UAPI_PEER_HAS_PRESHARED_KEY)
		wg_peer_set_preshared_key(peer, op->preshared_key);
	if (op->flags & UAPI_PEER_HAS_ENDPOINT) {
		struct vw_endpoint ep = op->endpoint;

		if (op->flags & UAPI_PEER_ENDPOINT_ZONE_NAME) {
			unsigned int idx = if_nametoindex(op->endpoint_zone);

			if (!idx)
				return -EINVAL;
			ep.in6.sin6_scope_id = idx;
		}
		wg_peer_set_endpoint(peer, &ep);
	}
	if (op->flags & UAPI_PEER_HAS_KEEPALIVE)
		wg_peer_set_persistent_keepalive(peer, op->persistent_keepalive_interval, now);
	if (op->flags & UAPI_PEER_REPLACE_ALLOWED_IPS)
		wg_peer_clear_allowed_ips(peer);
	for (uint32_t i = 0; i < op->n_allowed_ips; i++) {
		const struct uapi_allowed_ip *a = &set->allowed_ips[op->first_allowed_ip + i];

		if (a->remove)
			rc = wg_peer_remove_allowed_ip(peer, a->addr.family, a->addr.bytes,
						       a->cidr);
		else
			rc = wg_peer_add_allowed_ip(peer, a->addr.family, a->addr.bytes, a->cidr);
		if (rc && rc != -ENOENT)
			return rc;
	}
	return 0;
}

static int apply_set(struct vwired *d, const struct uapi_set *set)
{
	uint64_t now = vw_clock_mono_ns();
	int rc;

	if (set->flags & UAPI_SET_PRIVATE_KEY)
		wg_device_set_private_key(&d->sh.wg, set->private_key, now);
	if (set->flags & UAPI_SET_LISTEN_PORT) {
		rc = vwired_set_listen_port(d, &d->sh, set->listen_port);
		if (rc) {
			vw_warn("%s: cannot move to UDP port %u: %s", d->name, set->listen_port,
				strerror(-rc));
			return rc;
		}
	}
	if ((set->flags & UAPI_SET_FWMARK) && (rc = vwired_set_fwmark(d, &d->sh, set->fwmark)))
		return rc;
	if (set->flags & UAPI_SET_REPLACE_PEERS)
		wg_device_remove_all_peers(&d->sh.wg);
	for (uint32_t i = 0; i < set->n_peers; i++)
		if ((rc = apply_peer_op(d, set, &set->peers[i], now)))
			return rc;
	return 0;
}

static void answer_set(struct vwired *d, struct ctlsock_client *c, const char *req, size_t len)
{
	struct uapi_set set;
	char e[32];
	int rc = uapi_parse_set(req, len, &set);

	if (!rc)
		rc = apply_set(d, &set);
	uapi_set_free(&set);
	/* Even a set that failed half way may have removed or moved peers. */
	vwired_wires_find_peers(&d->sh);
	vwired_wires_follow_sessions(&d->workers[0], &d->sh, vw_clock_mono_ns());
	vwired_rearm_timers(&d->workers[0], &d->sh);
	ctlsock_reply(c, e, uapi_format_errno(rc, e, sizeof(e)));
}

/*
 * One request at a time, as ctlsock.c hands them: a client may send several in a row,
 * each is answered once the one before was taken. Answers read and change the shared
 * state: under the lock, as worker 0.
 */
static size_t on_request(void *ctx, struct ctlsock_client *c, char *in, size_t len, bool end)
{
	struct vwired *d = ctx;
	size_t reqlen;
	char e[32];

	(void)end; /* an incomplete request at the end goes unanswered, as it always did */
	switch (uapi_request_split(in, len, &reqlen)) {
	case UAPI_REQ_INCOMPLETE:
		return 0;
	case UAPI_REQ_GET:
		vwired_lock(&d->workers[0]);
		answer_get(d, c);
		vwired_unlock(&d->workers[0]);
		return reqlen;
	case UAPI_REQ_SET:
		vwired_lock(&d->workers[0]);
		answer_set(d, c, in, reqlen);
		vwired_unlock(&d->workers[0]);
		return reqlen;
	case UAPI_REQ_TOO_LARGE:
		ctlsock_reply(c, e, uapi_format_errno(-EMSGSIZE, e, sizeof(e)));
		return CTLSOCK_LAST;
	default:
		ctlsock_reply(c, e, uapi_format_errno(-EINVAL, e, sizeof(e)));
		return CTLSOCK_LAST;
	}
}

struct ctlsock *uapi_server_new(struct vwired *d, const char *path)
{
	return ctlsock_new(d->workers[0].loop, path, UAPI_MAX_REQUEST, on_request, d);
}
