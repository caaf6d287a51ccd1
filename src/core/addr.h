/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_ADDR_H
#define VW_CORE_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IP address without a port, for inner packets and allowed IPs. */
struct vw_ipaddr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

/* A UDP endpoint, IPv4 or IPv6; family AF_UNSPEC (0) when unset. */
struct vw_endpoint {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	};
	/*
	 * Our own address the peer's packets arrived at (family 0: not known). Replies
	 * leave from it, so a host with several addresses answers from the one the peer
	 * used, as the kernel's WireGuard does; the ifindex pins link-local addresses.
	 * Not part of vw_endpoint_equal.
	 */
	struct vw_ipaddr local;
	uint32_t local_ifindex;
};

bool vw_endpoint_equal(const struct vw_endpoint *a, const struct vw_endpoint *b);
socklen_t vw_endpoint_len(const struct vw_endpoint *e);
/* "1.2.3.4:51820" or "[::1]:51820", as wg prints endpoints. */
void vw_endpoint_format(const struct vw_endpoint *e, char *out, size_t outlen);
/*
 * An endpoint's text, "host:port", "[v6]:port" or "[v6%zone]:port", cut into its parts
 * and nothing checked: the config file, the UAPI and vw_endpoint_parse each decide what
 * a host and a zone may be (names, zone names), from this one reading of the form.
 */
#define VW_ENDPOINT_HOST_MAX 263
struct vw_endpoint_text {
	char host[VW_ENDPOINT_HOST_MAX + 1]; /* without brackets or zone */
	char zone[VW_ENDPOINT_HOST_MAX + 1]; /* after '%' in brackets; "" when none */
	const char *port;		     /* into the text: all after the last ':' */
	bool bracketed;
	bool has_zone; /* a '%' in the brackets (zone may still be empty) */
};
/* False when there is no ':' before a port, '[' without "]:", or the host is too long. */
bool vw_endpoint_split(const char *s, struct vw_endpoint_text *t);
/*
 * Parses "host:port" with a numeric IPv4 or bracketed IPv6 host, as wg accepts
 * them (no name resolution: that is the caller's business). False on error.
 */
bool vw_endpoint_parse(struct vw_endpoint *e, const char *s);
/* A numeric IPv4 or IPv6 address (no prefix, no zone); false when it is neither. */
bool vw_ipaddr_parse(struct vw_ipaddr *ip, const char *s);
/*
 * "ip" or "ip/cidr" as wg reads AllowedIPs and Address: a bare address is a host
 * prefix. The host bits are kept (10.0.0.1/24 names a host and its subnet).
 */
bool vw_prefix_parse(const char *s, struct vw_ipaddr *ip, uint8_t *cidr);
/* Whether ip is inside net/cidr (same family, the first cidr bits equal). */
bool vw_prefix_contains(const struct vw_ipaddr *net, unsigned int cidr, const struct vw_ipaddr *ip);
/*
 * An endpoint as config files take it, at most max characters: "host:port" with a
 * numeric IPv4 address or a DNS name, or "[IPv6]:port" with an optional %zone (an
 * interface name); port 1 to 65535. False when it is not one, with the value quoted
 * and what is wrong with it in why.
 */
bool vw_endpoint_check(const char *s, size_t max, char *why, size_t whylen);

#endif
