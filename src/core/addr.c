/* SPDX-License-Identifier: MIT */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool vw_endpoint_equal(const struct vw_endpoint *a, const struct vw_endpoint *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	switch (a->sa.sa_family) {
	case AF_INET:
		return a->in4.sin_port == b->in4.sin_port &&
		       a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
	case AF_INET6:
		return a->in6.sin6_port == b->in6.sin6_port &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id &&
		       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16);
	default:
		return true;
	}
}

socklen_t vw_endpoint_len(const struct vw_endpoint *e)
{
	switch (e->sa.sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

void vw_endpoint_format(const struct vw_endpoint *e, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];

	switch (e->sa.sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &e->in4.sin_addr, host, sizeof(host));
		snprintf(out, outlen, "%s:%u", host, ntohs(e->in4.sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &e->in6.sin6_addr, host, sizeof(host));
		snprintf(out, outlen, "[%s]:%u", host, ntohs(e->in6.sin6_port));
		break;
	default:
		snprintf(out, outlen, "(none)");
	}
}

static bool parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

bool vw_endpoint_split(const char *s, struct vw_endpoint_text *t)
{
	const char *host = s, *end;
	size_t hlen;

	memset(t, 0, sizeof(*t));
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return false;
		host = s + 1;
		t->bracketed = true;
		t->port = end + 2;
	} else {
		end = strrchr(s, ':');
		if (!end)
			return false;
		t->port = end + 1;
	}
	hlen = (size_t)(end - host);
	if (hlen > VW_ENDPOINT_HOST_MAX)
		return false;
	memcpy(t->host, host, hlen);
	if (t->bracketed) {
		char *zone = strchr(t->host, '%');

		if (zone) {
			*zone = '\0';
			strcpy(t->zone, zone + 1);
			t->has_zone = true;
		}
	}
	return true;
}

bool vw_endpoint_parse(struct vw_endpoint *e, const char *s)
{
	struct vw_endpoint_text t;
	uint16_t port;

	memset(e, 0, sizeof(*e));
	if (!vw_endpoint_split(s, &t) || t.has_zone || !parse_port(t.port, &port))
		return false;
	if (t.bracketed) {
		if (inet_pton(AF_INET6, t.host, &e->in6.sin6_addr) != 1)
			return false;
		e->in6.sin6_family = AF_INET6;
		e->in6.sin6_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET, t.host, &e->in4.sin_addr) != 1)
		return false;
	e->in4.sin_family = AF_INET;
	e->in4.sin_port = htons(port);
	return true;
}

bool vw_ipaddr_parse(struct vw_ipaddr *ip, const char *s)
{
	memset(ip, 0, sizeof(*ip));
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, ip->bytes) != 1)
			return false;
		ip->family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, s, ip->bytes) != 1)
			return false;
		ip->family = AF_INET;
	}
	return true;
}
