/* SPDX-License-Identifier: MIT */
#include "uapi_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"

size_t uapi_format_set(const struct uapi_set *s, char *buf, size_t buflen)
{
	struct uapi_writer w = {buf, buflen, 0};

	uapi_put(&w, "set=1\n");
	if (s->flags & UAPI_SET_PRIVATE_KEY)
		uapi_put_key(&w, "private_key", s->private_key);
	if (s->flags & UAPI_SET_LISTEN_PORT)
		uapi_put(&w, "listen_port=%u\n", s->listen_port);
	if (s->flags & UAPI_SET_FWMARK)
		uapi_put(&w, "fwmark=%u\n", s->fwmark);
	if (s->flags & UAPI_SET_REPLACE_PEERS)
		uapi_put(&w, "replace_peers=true\n");
	for (uint32_t i = 0; i < s->n_peers; i++) {
		const struct uapi_peer_op *p = &s->peers[i];

		uapi_put_key(&w, "public_key", p->public_key);
		if (p->flags & UAPI_PEER_REMOVE) {
			uapi_put(&w, "remove=true\n");
			continue;
		}
		if (p->flags & UAPI_PEER_UPDATE_ONLY)
			uapi_put(&w, "update_only=true\n");
		if (p->flags & UAPI_PEER_HAS_PRESHARED_KEY)
			uapi_put_key(&w, "preshared_key", p->preshared_key);
		if (p->flags & UAPI_PEER_HAS_ENDPOINT)
			uapi_put_endpoint(&w, &p->endpoint,
					  (p->flags & UAPI_PEER_ENDPOINT_ZONE_NAME)
						  ? p->endpoint_zone
						  : NULL);
		if (p->flags & UAPI_PEER_HAS_KEEPALIVE)
			uapi_put(&w, "persistent_keepalive_interval=%u\n",
				 p->persistent_keepalive_interval);
		if (p->flags & UAPI_PEER_REPLACE_ALLOWED_IPS)
			uapi_put(&w, "replace_allowed_ips=true\n");
		for (uint32_t j = 0; j < p->n_allowed_ips; j++)
			uapi_put_allowed_ip(&w, &s->allowed_ips[p->first_allowed_ip + j]);
	}
	uapi_put(&w, "\n");
	return uapi_finish(&w);
}

struct get_parser {
	struct uapi_device *dev;
	struct uapi_peer_info *peers; /* dev->peers, writable */
	uint32_t peers_cap, allowed_cap;
	bool have_errno;
	int err;
};

static int get_peer_line(struct get_parser *gp, const char *key, char *value)
{
	struct uapi_peer_info *p = &gp->peers[gp->dev->n_peers - 1];
	struct uapi_peer_op op;
	uint64_t v;

	if (!strcmp(key, "preshared_key"))
		return key_from_hex(p->preshared_key, value) ? 0 : -EPROTO;
	if (!strcmp(key, "protocol_version"))
		return strcmp(value, "1") ? -EPROTO : 0;
	if (!strcmp(key, "endpoint")) {
		memset(&op, 0, sizeof(op));
		if (!uapi_parse_endpoint(value, &op) || (op.flags & UAPI_PEER_ENDPOINT_ZONE_NAME))
			return -EPROTO;
		p->endpoint = op.endpoint;
		return 0;
	}
	if (!strcmp(key, "allowed_ip")) {
		struct uapi_allowed_ip a, *arr = (struct uapi_allowed_ip *)p->allowed_ips;

		if (!uapi_parse_allowed_ip(value, &a) || a.remove)
			return -EPROTO;
		/* Each peer's list doubles in place: n is the capacity whenever it is a power of 2.
		 */
		if ((p->n_allowed_ips & (p->n_allowed_ips - 1)) == 0) {
			uint32_t cap = p->n_allowed_ips ? p->n_allowed_ips * 2 : 4;

			if (p->n_allowed_ips >= UAPI_MAX_SET_ALLOWED_IPS)
				return -E2BIG;
			arr = realloc(arr, cap * sizeof(*arr));
			if (!arr)
				return -ENOMEM;
			p->allowed_ips = arr;
		}
		arr[p->n_allowed_ips++] = a;
		return 0;
	}
	if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!vw_parse_uint(value, 65535, &v))
			return -EPROTO;
		p->persistent_keepalive_interval = (uint16_t)v;
		return 0;
	}
	if (!strcmp(key, "last_handshake_time_nsec")) {
		if (!vw_parse_uint(value, 999999999, &v))
			return -EPROTO;
		p->last_handshake_time_nsec = (uint32_t)v;
		return 0;
	}
	if (!vw_parse_uint(value, UINT64_MAX, &v))
		return -EPROTO;
	if (!strcmp(key, "last_handshake_time_sec"))
		p->last_handshake_time_sec = v;
	else if (!strcmp(key, "rx_bytes"))
		p->rx_bytes = v;
	else if (!strcmp(key, "tx_bytes"))
		p->tx_bytes = v;
	else
		return -EPROTO;
	return 0;
}

static int get_new_peer(struct get_parser *gp, const char *value)
{
	struct uapi_device *dev = gp->dev;

	if (dev->n_peers == UAPI_MAX_SET_PEERS)
		return -E2BIG;
	if (dev->n_peers == gp->peers_cap) {
		uint32_t cap = gp->peers_cap ? gp->peers_cap * 2 : 4;
		struct uapi_peer_info *p = realloc(gp->peers, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		gp->peers = p;
		dev->peers = p;
		gp->peers_cap = cap;
	}
	memset(&gp->peers[dev->n_peers], 0, sizeof(gp->peers[0]));
	dev->n_peers++;
	return key_from_hex(gp->peers[dev->n_peers - 1].public_key, value) ? 0 : -EPROTO;
}

static int get_line(void *ctx, char *key, char *value)
{
	struct get_parser *gp = ctx;
	struct uapi_device *dev = gp->dev;
	uint64_t v;

	if (gp->have_errno)
		return -EPROTO; /* errno= is the last line */
	if (!strcmp(key, "errno")) {
		bool neg = value[0] == '-';

		if (!vw_parse_uint(value + neg, 4095, &v))
			return -EPROTO;
		gp->err = neg ? -(int)v : (int)v;
		gp->have_errno = true;
		return 0;
	}
	if (!strcmp(key, "public_key"))
		return get_new_peer(gp, value);
	if (dev->n_peers)
		return get_peer_line(gp, key, value);
	if (!strcmp(key, "private_key"))
		return key_from_hex(dev->private_key, value) ? 0 : -EPROTO;
	if (!strcmp(key, "listen_port")) {
		if (!vw_parse_uint(value, 65535, &v))
			return -EPROTO;
		dev->listen_port = (uint16_t)v;
		return 0;
	}
	if (!strcmp(key, "fwmark")) {
		if (!vw_parse_uint(value, UINT32_MAX, &v))
			return -EPROTO;
		dev->fwmark = (uint32_t)v;
		return 0;
	}
	return -EPROTO;
}

int uapi_parse_get(const char *text, size_t len, struct uapi_device *dev, int *errno_out)
{
	struct get_parser gp = {.dev = dev};
	int ret;

	memset(dev, 0, sizeof(*dev));
	*errno_out = 0;
	ret = uapi_for_each_line(text, len, 0, get_line, &gp);
	/* The answer ends with errno= and a blank line: "\n\n" at the very end. */
	if (!ret && (!gp.have_errno || len < 2 || text[len - 1] != '\n' || text[len - 2] != '\n'))
		ret = -EPROTO;
	if (ret) {
		uapi_device_free(dev);
		return ret;
	}
	*errno_out = gp.err;
	return 0;
}

void uapi_device_free(struct uapi_device *dev)
{
	struct uapi_peer_info *peers = (struct uapi_peer_info *)dev->peers;

	for (uint32_t i = 0; i < dev->n_peers; i++) {
		crypto_wipe(peers[i].preshared_key, WG_KEY_LEN);
		free((void *)peers[i].allowed_ips);
	}
	free(peers);
	crypto_wipe(dev->private_key, WG_KEY_LEN);
	memset(dev, 0, sizeof(*dev));
}
