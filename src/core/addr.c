/* SPDX-License-Identifier: MIT */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

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

bool vw_prefix_parse(const char *s, struct vw_ipaddr *ip, uint8_t *cidr)
{
	const char *slash = strchr(s, '/');
	char host[INET6_ADDRSTRLEN];
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t len;

	if (n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	if (!vw_ipaddr_parse(ip, host))
		return false;
	if (!slash) {
		*cidr = ip->family == AF_INET ? 32 : 128;
		return true;
	}
	if (!vw_parse_uint(slash + 1, ip->family == AF_INET ? 32 : 128, &len))
		return false;
	*cidr = (uint8_t)len;
	return true;
}

bool vw_prefix_contains(const struct vw_ipaddr *net, unsigned int cidr, const struct vw_ipaddr *ip)
{
	unsigned int full = cidr / 8, rest = cidr % 8;

	if (net->family != ip->family)
		return false;
	if (memcmp(net->bytes, ip->bytes, full))
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff00u >> rest);

		return (net->bytes[full] & m) == (ip->bytes[full] & m);
	}
	return true;
}

static const char *endpoint_problem(const char *s)
{
	struct vw_endpoint_text t;
	struct in6_addr a6;
	struct in_addr a4;
	uint64_t port;

	if (!vw_endpoint_split(s, &t))
		return s[0] == '[' ? "expected [IPv6 address]:port" : "expected host:port";
	if (t.bracketed) {
		if (inet_pton(AF_INET6, t.host, &a6) != 1 ||
		    (t.has_zone && !vw_ifname_valid(t.zone)))
			return "not an IPv6 address in the brackets";
	} else {
		if (strchr(t.host, ':'))
			return "an IPv6 address needs brackets: [address]:port";
		if (inet_pton(AF_INET, t.host, &a4) != 1 && !vw_hostname_valid(t.host))
			return "not an IPv4 address or host name";
	}
	if (!vw_parse_uint(t.port, 65535, &port) || port == 0)
		return "the port is not a number from 1 to 65535";
	return NULL;
}

bool vw_endpoint_check(const char *s, size_t max, char *why, size_t whylen)
{
	char q[VW_QUOTE_MAX + 8];
	const char *problem;

	vw_quote(q, sizeof(q), s);
	if (strlen(s) > max) {
		snprintf(why, whylen, "\"%s\" is too long", q);
		return false;
	}
	problem = endpoint_problem(s);
	if (problem)
		snprintf(why, whylen, "\"%s\": %s", q, problem);
	return !problem;
}
