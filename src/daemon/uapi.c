/* SPDX-License-Identifier: MIT */
#include "uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "crypto/crypto.h"

/* ---- request splitting ---- */

static const char get_request[] = "get=1\n\n";
static const char set_header[] = "set=1\n";

enum uapi_request_kind uapi_request_split(const char *buf, size_t len, size_t *reqlen)
{
	size_t n = len < 6 ? len : 6;

	*reqlen = 0;
	if (len == 0)
		return UAPI_REQ_INCOMPLETE;
	if (!memcmp(buf, get_request, n)) {
		if (len < 7)
			return UAPI_REQ_INCOMPLETE;
		if (buf[6] != '\n')
			return UAPI_REQ_INVALID;
		*reqlen = 7;
		return UAPI_REQ_GET;
	}
	if (memcmp(buf, set_header, n))
		return UAPI_REQ_INVALID;
	/* The header's own '\n' may open the blank line: "set=1\n\n" sets nothing. */
	for (size_t i = 5; i + 1 < len; i++) {
		const char *nl = memchr(buf + i, '\n', len - i - 1);

		if (!nl)
			break;
		i = (size_t)(nl - buf);
		if (buf[i + 1] == '\n') {
			*reqlen = i + 2;
			return UAPI_REQ_SET;
		}
	}
	return len >= UAPI_MAX_REQUEST ? UAPI_REQ_TOO_LARGE : UAPI_REQ_INCOMPLETE;
}

/* ---- value syntax, as wireguard-go's strconv and netip read it ---- */

static bool parse_ip(const char *s, struct vw_ipaddr *ip)
{
	return vw_ipaddr_parse(ip, s);
}

/* "[-]addr/cidr": the length is required here, unlike in a config file. */
bool uapi_parse_allowed_ip(char *s, struct uapi_allowed_ip *out)
{
	char *slash;
	uint64_t cidr;

	out->remove = s[0] == '-';
	if (out->remove)
		s++;
	slash = strchr(s, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if (!parse_ip(s, &out->addr))
		return false;
	if (!vw_parse_uint(slash + 1, out->addr.family == AF_INET ? 32 : 128, &cidr))
		return false;
	out->cidr = (uint8_t)cidr;
	return true;
}

static bool zone_name_ok(const char *z)
{
	size_t n = strlen(z);

	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++)
		if (z[i] == '/' || z[i] == ':' || z[i] == '%' || (unsigned char)z[i] <= ' ' ||
		    (unsigned char)z[i] >= 0x7f)
			return false;
	return true;
}

bool uapi_parse_endpoint(const char *s, struct uapi_peer_op *op)
{
	struct vw_endpoint *e = &op->endpoint;
	struct vw_endpoint_text t;
	const char *zone = NULL;
	uint64_t port;

	memset(e, 0, sizeof(*e));
	op->endpoint_zone[0] = '\0';
	if (!vw_endpoint_split(s, &t))
		return false;
	if (t.bracketed) {
		if (inet_pton(AF_INET6, t.host, &e->in6.sin6_addr) != 1)
			return false;
		e->in6.sin6_family = AF_INET6;
		if (t.has_zone)
			zone = t.zone;
	} else {
		if (inet_pton(AF_INET, t.host, &e->in4.sin_addr) != 1)
			return false;
		e->in4.sin_family = AF_INET;
	}
	if (!vw_parse_uint(t.port, 65535, &port))
		return false;
	if (e->sa.sa_family == AF_INET) {
		e->in4.sin_port = htons((uint16_t)port);
		return true;
	}
	e->in6.sin6_port = htons((uint16_t)port);
	if (zone) {
		uint64_t id;

		if (vw_parse_uint(zone, UINT32_MAX, &id)) {
			e->in6.sin6_scope_id = (uint32_t)id;
		} else {
			/* Naming an interface is a system call: the daemon resolves it. */
			if (!zone_name_ok(zone))
				return false;
			strcpy(op->endpoint_zone, zone);
			op->flags |= UAPI_PEER_ENDPOINT_ZONE_NAME;
		}
	}
	return true;
}

/* ---- set ---- */

struct set_parser {
	struct uapi_set *out;
	struct uapi_peer_op *peer; /* the block being read; NULL in the device part */
	bool dummy;		   /* after remove=true: keys are checked, then ignored */
};

static int new_peer(struct set_parser *sp, const char *value)
{
	struct uapi_set *s = sp->out;
	uint8_t key[WG_KEY_LEN];

	if (!key_from_hex(key, value))
		return -EINVAL;
	if (s->n_peers == UAPI_MAX_SET_PEERS)
		return -E2BIG;
	if (s->n_peers == s->peers_cap) {
		uint32_t cap = s->peers_cap ? s->peers_cap * 2 : 4;
		struct uapi_peer_op *p = realloc(s->peers, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->peers = p;
		s->peers_cap = cap;
	}
	sp->peer = &s->peers[s->n_peers++];
	memset(sp->peer, 0, sizeof(*sp->peer));
	memcpy(sp->peer->public_key, key, WG_KEY_LEN);
	sp->peer->first_allowed_ip = s->n_allowed_ips;
	sp->dummy = false;
	return 0;
}

static int add_allowed_ip(struct set_parser *sp, char *value)
{
	struct uapi_set *s = sp->out;
	struct uapi_allowed_ip a;

	if (!uapi_parse_allowed_ip(value, &a))
		return -EINVAL;
	if (sp->dummy)
		return 0;
	if (s->n_allowed_ips == UAPI_MAX_SET_ALLOWED_IPS)
		return -E2BIG;
	if (s->n_allowed_ips == s->allowed_ips_cap) {
		uint32_t cap = s->allowed_ips_cap ? s->allowed_ips_cap * 2 : 8;
		struct uapi_allowed_ip *p = realloc(s->allowed_ips, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->allowed_ips = p;
		s->allowed_ips_cap = cap;
	}
	s->allowed_ips[s->n_allowed_ips++] = a;
	sp->peer->n_allowed_ips++;
	return 0;
}

/* Forgets what the current block said about allowed IPs: they are its tail of the array. */
static void drop_block_allowed_ips(struct set_parser *sp)
{
	sp->out->n_allowed_ips = sp->peer->first_allowed_ip;
	sp->peer->n_allowed_ips = 0;
}

static int device_line(struct set_parser *sp, const char *key, const char *value)
{
	struct uapi_set *s = sp->out;
	uint64_t v;

	if (!strcmp(key, "private_key")) {
		if (!key_from_hex(s->private_key, value))
			return -EINVAL;
		s->flags |= UAPI_SET_PRIVATE_KEY;
	} else if (!strcmp(key, "listen_port")) {
		if (!vw_parse_uint(value, 65535, &v))
			return -EINVAL;
		s->listen_port = (uint16_t)v;
		s->flags |= UAPI_SET_LISTEN_PORT;
	} else if (!strcmp(key, "fwmark")) {
		if (!vw_parse_uint(value, UINT32_MAX, &v))
			return -EINVAL;
		s->fwmark = (uint32_t)v;
		s->flags |= UAPI_SET_FWMARK;
	} else if (!strcmp(key, "replace_peers")) {
		if (strcmp(value, "true"))
			return -EINVAL;
		s->flags |= UAPI_SET_REPLACE_PEERS;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int peer_flag(struct set_parser *sp, const char *key, const char *value)
{
	struct uapi_peer_op *op = sp->peer;

	if (strcmp(value, "true"))
		return -EINVAL;
	if (sp->dummy)
		return 0;
	if (!strcmp(key, "update_only")) {
		op->flags |= UAPI_PEER_UPDATE_ONLY;
	} else if (!strcmp(key, "replace_allowed_ips")) {
		drop_block_allowed_ips(sp);
		op->flags |= UAPI_PEER_REPLACE_ALLOWED_IPS;
	} else {
		/* remove=true: what the block said before no longer matters. */
		drop_block_allowed_ips(sp);
		crypto_wipe(op->preshared_key, WG_KEY_LEN);
		op->flags = UAPI_PEER_REMOVE;
		sp->dummy = true;
	}
	return 0;
}

static int peer_value(struct uapi_peer_op *op, const char *key, char *value)
{
	uint64_t v;

	if (!strcmp(key, "preshared_key")) {
		if (!key_from_hex(op->preshared_key, value))
			return -EINVAL;
		op->flags |= UAPI_PEER_HAS_PRESHARED_KEY;
	} else if (!strcmp(key, "endpoint")) {
		op->flags &= ~UAPI_PEER_ENDPOINT_ZONE_NAME;
		if (!uapi_parse_endpoint(value, op))
			return -EINVAL;
		op->flags |= UAPI_PEER_HAS_ENDPOINT;
	} else if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!vw_parse_uint(value, 65535, &v))
			return -EINVAL;
		op->persistent_keepalive_interval = (uint16_t)v;
		op->flags |= UAPI_PEER_HAS_KEEPALIVE;
	} else if (!strcmp(key, "protocol_version")) {
		if (strcmp(value, "1"))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int peer_line(struct set_parser *sp, const char *key, char *value)
{
	struct uapi_peer_op scratch;
	int ret;

	if (!strcmp(key, "remove") || !strcmp(key, "update_only") ||
	    !strcmp(key, "replace_allowed_ips"))
		return peer_flag(sp, key, value);
	if (!strcmp(key, "allowed_ip"))
		return add_allowed_ip(sp, value);
	if (!sp->dummy)
		return peer_value(sp->peer, key, value);
	/* A removed peer's later keys must still be valid, but change nothing. */
	memset(&scratch, 0, sizeof(scratch));
	ret = peer_value(&scratch, key, value);
	crypto_wipe(&scratch, sizeof(scratch));
	return ret;
}

int uapi_for_each_line(const char *text, size_t len, size_t pos,
		       int (*fn)(void *ctx, char *key, char *value), void *ctx)
{
	char line[UAPI_MAX_LINE + 1];
	int ret = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *eq;

		if (n == 0)
			break;
		if (n > UAPI_MAX_LINE) {
			ret = -EINVAL;
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		eq = strchr(line, '=');
		if (strlen(line) != n || !eq) {
			ret = -EPROTO;
			break;
		}
		*eq = '\0';
		ret = fn(ctx, line, eq + 1);
		if (ret)
			break;
	}
	crypto_wipe(line, sizeof(line));
	return ret;
}

static int set_line(void *ctx, char *key, char *value)
{
	struct set_parser *sp = ctx;

	if (!strcmp(key, "public_key"))
		return new_peer(sp, value);
	if (!sp->peer)
		return device_line(sp, key, value);
	return peer_line(sp, key, value);
}

int uapi_parse_set(const char *text, size_t len, struct uapi_set *out)
{
	struct set_parser sp = {.out = out};
	int ret;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(set_header) - 1 || memcmp(text, set_header, sizeof(set_header) - 1))
		return -EINVAL;
	ret = uapi_for_each_line(text, len, sizeof(set_header) - 1, set_line, &sp);
	if (ret)
		uapi_set_free(out);
	return ret;
}

void uapi_set_free(struct uapi_set *set)
{
	crypto_wipe(set->private_key, WG_KEY_LEN);
	if (set->peers)
		crypto_wipe(set->peers, set->peers_cap * sizeof(*set->peers));
	free(set->peers);
	free(set->allowed_ips);
	memset(set, 0, sizeof(*set));
}

/* ---- formatting ---- */

void uapi_put(struct uapi_writer *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(w->len < w->cap ? w->buf + w->len : NULL,
		      w->len < w->cap ? w->cap - w->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->len += (size_t)n;
}

size_t uapi_finish(struct uapi_writer *w)
{
	if (w->cap && w->len < w->cap)
		w->buf[w->len] = '\0';
	return w->len;
}

void uapi_put_key(struct uapi_writer *w, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char hex[WG_KEY_LEN_HEX + 1];

	key_to_hex(hex, key);
	uapi_put(w, "%s=%s\n", name, hex);
	crypto_wipe(hex, sizeof(hex));
}

void uapi_put_endpoint(struct uapi_writer *w, const struct vw_endpoint *e, const char *zone_name)
{
	char host[INET6_ADDRSTRLEN];

	if (e->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &e->in4.sin_addr, host, sizeof(host));
		uapi_put(w, "endpoint=%s:%u\n", host, ntohs(e->in4.sin_port));
		return;
	}
	inet_ntop(AF_INET6, &e->in6.sin6_addr, host, sizeof(host));
	if (zone_name && zone_name[0])
		uapi_put(w, "endpoint=[%s%%%s]:%u\n", host, zone_name, ntohs(e->in6.sin6_port));
	else if (e->in6.sin6_scope_id)
		uapi_put(w, "endpoint=[%s%%%u]:%u\n", host, e->in6.sin6_scope_id,
			 ntohs(e->in6.sin6_port));
	else
		uapi_put(w, "endpoint=[%s]:%u\n", host, ntohs(e->in6.sin6_port));
}

void uapi_put_allowed_ip(struct uapi_writer *w, const struct uapi_allowed_ip *a)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(a->addr.family, a->addr.bytes, ip, sizeof(ip));
	uapi_put(w, "allowed_ip=%s%s/%u\n", a->remove ? "-" : "", ip, a->cidr);
}

static void put_device(struct uapi_writer *w, const struct uapi_device *dev)
{
	if (!key_is_zero(dev->private_key))
		uapi_put_key(w, "private_key", dev->private_key);
	if (dev->listen_port)
		uapi_put(w, "listen_port=%u\n", dev->listen_port);
	if (dev->fwmark)
		uapi_put(w, "fwmark=%u\n", dev->fwmark);
}

static void put_peer(struct uapi_writer *w, const struct uapi_peer_info *p)
{
	uapi_put_key(w, "public_key", p->public_key);
	uapi_put_key(w, "preshared_key", p->preshared_key);
	uapi_put(w, "protocol_version=1\n");
	if (p->endpoint.sa.sa_family == AF_INET || p->endpoint.sa.sa_family == AF_INET6)
		uapi_put_endpoint(w, &p->endpoint, NULL);
	uapi_put(w, "last_handshake_time_sec=%llu\n",
		 (unsigned long long)p->last_handshake_time_sec);
	uapi_put(w, "last_handshake_time_nsec=%u\n", p->last_handshake_time_nsec);
	uapi_put(w, "tx_bytes=%llu\n", (unsigned long long)p->tx_bytes);
	uapi_put(w, "rx_bytes=%llu\n", (unsigned long long)p->rx_bytes);
	uapi_put(w, "persistent_keepalive_interval=%u\n", p->persistent_keepalive_interval);
	for (uint32_t i = 0; i < p->n_allowed_ips; i++)
		uapi_put_allowed_ip(w, &p->allowed_ips[i]);
}

size_t uapi_format_errno(int err, char *buf, size_t buflen)
{
	struct uapi_writer w = {buf, buflen, 0};

	uapi_put(&w, "errno=%d\n\n", err);
	return uapi_finish(&w);
}

size_t uapi_format_get(const struct uapi_device *dev, char *buf, size_t buflen)
{
	struct uapi_writer w = {buf, buflen, 0};

	put_device(&w, dev);
	for (uint32_t i = 0; i < dev->n_peers; i++)
		put_peer(&w, &dev->peers[i]);
	uapi_put(&w, "errno=0\n\n");
	return uapi_finish(&w);
}
