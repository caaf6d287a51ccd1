/* SPDX-License-Identifier: MIT */
/*
 * The `wg` userspace API socket: reads requests (uapi.c finds and parses them),
 * applies set requests to the WireGuard device and answers get requests with a
 * snapshot of it. Connections are few and short; each is served from its own
 * buffer, bounded by UAPI_MAX_REQUEST.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "daemon/uapi.h"
#include "daemon/vwired.h"
#include "io/unix.h"

#define UAPI_MAX_CONNECTIONS 64

struct uapi_conn {
	struct uapi_server *server;
	int fd;
	char *buf;
	size_t len, cap;
	struct uapi_conn *next;
};

struct uapi_server {
	struct vwired *d;
	int listen_fd;
	char path[600];
	struct uapi_conn *conns;
	uint32_t nconns;
};

int vwired_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			if (poll(&pfd, 1, 2000) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void conn_close(struct uapi_conn *c)
{
	struct uapi_server *s = c->server;

	for (struct uapi_conn **pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->nconns--;
	io_unwatch_fd(s->d->loop, c->fd);
	close(c->fd);
	if (c->buf) {
		crypto_wipe(c->buf, c->cap);
		free(c->buf);
	}
	free(c);
}

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

static int answer_get(struct uapi_server *s, int fd)
{
	struct vwired *d = s->d;
	struct uapi_device dev = {0};
	struct uapi_peer_info *peers = NULL;
	struct ip_collect ips = {0};
	uint32_t *first = NULL, i = 0;
	char *text = NULL;
	size_t len;
	int rc = -ENOMEM;

	vwired_sync_wall_clock(d);
	if (d->wg.static_identity.has_identity)
		memcpy(dev.private_key, d->wg.static_identity.static_private, WG_KEY_LEN);
	dev.listen_port = d->udp ? io_udp_port(d->udp) : 0;
	dev.fwmark = d->fwmark;
	peers = calloc(d->wg.npeers ? d->wg.npeers : 1, sizeof(*peers));
	first = calloc(d->wg.npeers ? d->wg.npeers : 1, sizeof(*first));
	if (!peers || !first)
		goto out;
	for (struct wg_peer *p = wg_device_first_peer(&d->wg); p; p = wg_device_next_peer(p), i++) {
		struct wg_peer_info info;
		struct uapi_peer_info *u = &peers[i];

		wg_peer_get_info(p, &info);
		memcpy(u->public_key, info.public_key, WG_KEY_LEN);
		memcpy(u->preshared_key, info.preshared_key, WG_KEY_LEN);
		u->endpoint = info.endpoint;
		u->persistent_keepalive_interval = info.persistent_keepalive_interval;
		if (info.has_handshake) {
			uint64_t wall = info.last_handshake_ns + (uint64_t)d->wg.wall_offset_ns;

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
	rc = vwired_write_all(fd, text, len);
	crypto_wipe(text, len);
out:
	if (rc == -ENOMEM) {
		char e[32];

		vwired_write_all(fd, e, uapi_format_errno(-ENOMEM, e, sizeof(e)));
		rc = 0;
	}
	free(text);
	if (peers)
		crypto_wipe(peers, (d->wg.npeers ? d->wg.npeers : 1) * sizeof(*peers));
	free(peers);
	free(first);
	free(ips.ips);
	crypto_wipe(&dev, sizeof(dev));
	return rc;
}

/* ---- set ---- */

static int apply_peer_op(struct vwired *d, const struct uapi_set *set,
			 const struct uapi_peer_op *op, uint64_t now)
{
	struct wg_peer *peer = wg_device_find_peer(&d->wg, op->public_key);
	uint8_t own[WG_KEY_LEN];
	int rc;

	if (op->flags & UAPI_PEER_REMOVE) {
		if (peer)
			wg_device_remove_peer(&d->wg, peer);
		return 0;
	}
	if (!peer && (op->flags & UAPI_PEER_UPDATE_ONLY))
		return 0;
	if (!peer) {
		/* Our own key as a peer is ignored, as wireguard-go does. */
		if (wg_device_public_key(&d->wg, own) && !memcmp(own, op->public_key, WG_KEY_LEN))
			return 0;
		rc = wg_device_add_peer(&d->wg, op->public_key, &peer);
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
		wg_device_set_private_key(&d->wg, set->private_key, now);
	if (set->flags & UAPI_SET_LISTEN_PORT) {
		rc = vwired_set_listen_port(d, set->listen_port);
		if (rc) {
			vw_warn("%s: cannot move to UDP port %u: %s", d->name, set->listen_port,
				strerror(-rc));
			return rc;
		}
	}
	if ((set->flags & UAPI_SET_FWMARK) && (rc = vwired_set_fwmark(d, set->fwmark)))
		return rc;
	if (set->flags & UAPI_SET_REPLACE_PEERS)
		wg_device_remove_all_peers(&d->wg);
	for (uint32_t i = 0; i < set->n_peers; i++)
		if ((rc = apply_peer_op(d, set, &set->peers[i], now)))
			return rc;
	return 0;
}

static int answer_set(struct uapi_server *s, int fd, const char *req, size_t len)
{
	struct uapi_set set;
	char e[32];
	int rc = uapi_parse_set(req, len, &set);

	if (!rc)
		rc = apply_set(s->d, &set);
	uapi_set_free(&set);
	vwired_kick_timers(s->d);
	return vwired_write_all(fd, e, uapi_format_errno(rc, e, sizeof(e)));
}

/* Serves every complete request in the buffer; false when the connection must close. */
static bool serve_requests_locked(struct uapi_conn *c)
{
	size_t reqlen;

	for (;;) {
		enum uapi_request_kind kind = uapi_request_split(c->buf, c->len, &reqlen);
		char e[32];
		int rc;

		switch (kind) {
		case UAPI_REQ_INCOMPLETE:
			return true;
		case UAPI_REQ_GET:
			rc = answer_get(c->server, c->fd);
			break;
		case UAPI_REQ_SET:
			rc = answer_set(c->server, c->fd, c->buf, reqlen);
			break;
		case UAPI_REQ_TOO_LARGE:
			vwired_write_all(c->fd, e, uapi_format_errno(-EMSGSIZE, e, sizeof(e)));
			return false;
		default:
			vwired_write_all(c->fd, e, uapi_format_errno(-EINVAL, e, sizeof(e)));
			return false;
		}
		if (rc)
			return false;
		crypto_wipe(c->buf, reqlen);
		memmove(c->buf, c->buf + reqlen, c->len - reqlen);
		c->len -= reqlen;
	}
}

/* Requests read and change the shared state: under the lock, as worker 0. */
static bool serve_requests(struct uapi_conn *c)
{
	struct vwired *d = c->server->d;
	bool ok;

	vwired_lock(d, &d->workers[0]);
	ok = serve_requests_locked(c);
	vwired_unlock(d);
	return ok;
}

static void on_conn_readable(void *ctx, int fd, uint32_t events)
{
	struct uapi_conn *c = ctx;

	(void)events;
	for (;;) {
		ssize_t n;

		if (c->cap - c->len < 4096) {
			size_t cap = c->cap ? c->cap * 2 : 8192;
			char *buf;

			if (cap > UAPI_MAX_REQUEST + 8192)
				cap = UAPI_MAX_REQUEST + 8192;
			if (cap <= c->cap) {
				/* Full and still no request: the splitter says TOO_LARGE below. */
				if (!serve_requests(c) || c->len == c->cap) {
					conn_close(c);
					return;
				}
				continue;
			}
			buf = malloc(cap);
			if (!buf) {
				conn_close(c);
				return;
			}
			if (c->buf) {
				memcpy(buf, c->buf, c->len);
				crypto_wipe(c->buf, c->cap);
				free(c->buf);
			}
			c->buf = buf;
			c->cap = cap;
		}
		n = read(fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!serve_requests(c))
				conn_close(c);
			return;
		}
		/* EOF or error: answer what is complete, then close. */
		serve_requests(c);
		conn_close(c);
		return;
	}
}

static void on_listen_readable(void *ctx, int fd, uint32_t events)
{
	struct uapi_server *s = ctx;
	int cfd;

	(void)events;
	while ((cfd = io_unix_accept(fd)) >= 0) {
		struct uapi_conn *c;

		if (s->nconns >= UAPI_MAX_CONNECTIONS || !(c = calloc(1, sizeof(*c)))) {
			close(cfd);
			continue;
		}
		c->server = s;
		c->fd = cfd;
		if (io_watch_fd(s->d->loop, cfd, on_conn_readable, c) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = s->conns;
		s->conns = c;
		s->nconns++;
	}
}

int vwired_listen(struct vwired *d, const char *path, io_fd_cb cb, void *ctx)
{
	int fd = io_unix_listen(path, 0600), rc;

	if (fd < 0) {
		vw_err("cannot listen on %s: %s%s", path, strerror(-fd),
		       fd == -EADDRINUSE ? " (another instance with this name is running)" : "");
		return -1;
	}
	if ((rc = io_watch_fd(d->loop, fd, cb, ctx)) < 0) {
		vw_err("cannot watch %s: %s", path, strerror(-rc));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

void vwired_unlisten(struct vwired *d, int fd, const char *path)
{
	io_unwatch_fd(d->loop, fd);
	close(fd);
	unlink(path);
}

struct uapi_server *uapi_server_new(struct vwired *d, const char *path)
{
	struct uapi_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->d = d;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->listen_fd = vwired_listen(d, path, on_listen_readable, s);
	if (s->listen_fd < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void uapi_server_free(struct uapi_server *s)
{
	while (s->conns)
		conn_close(s->conns);
	vwired_unlisten(s->d, s->listen_fd, s->path);
	free(s);
}
