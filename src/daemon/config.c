/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/file.h"
#include "core/ini.h"
#include "core/parse.h"
#include "crypto/crypto.h"
#include "crypto/x25519.h"

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER, SEC_BRIDGE, SEC_WIRE };

static const char *const section_names[] = {
	[SEC_NONE] = "",	 [SEC_INTERFACE] = "Interface", [SEC_PEER] = "Peer",
	[SEC_BRIDGE] = "Bridge", [SEC_WIRE] = "Wire",
};

/* Lines of the keys that later checks point at, per wire. */
struct wire_lines {
	uint32_t name, remote, vni;
};

struct parser {
	const char *file;
	char *err;
	size_t errlen;
	struct vw_config *cfg;
	uint32_t line;
	enum section sect;
	struct config_peer *peer;
	struct config_wire *wire;
	uint32_t peers_cap, wires_cap;
	uint32_t total_allowed_ips;
	/* Line where each key of the current section was given, 0 when not yet. */
	uint32_t seen[32];
	uint32_t interface_line, bridge_line;
	/* Lines of keys the whole-file checks refer to. */
	uint32_t private_key_line, iface_name_line, bridge_name_line;
	uint32_t iface_mtu_line, bridge_mtu_line, max_age_line, hello_time_line, forward_delay_line;
	uint32_t *public_key_lines; /* parallel to cfg->peers */
	struct wire_lines wire_lines[CONFIG_MAX_WIRES];
	uint32_t port_lines[CONFIG_MAX_BRIDGE_PORTS];
	/* BPDUGuard names, resolved against Ports (which may come later) by check_names. */
	char guard_names[CONFIG_MAX_BRIDGE_PORTS][CONFIG_NAME_MAX + 1];
	uint32_t guard_lines[CONFIG_MAX_BRIDGE_PORTS];
	uint32_t n_guards;
	/* Edge names, resolved the same way. */
	char edge_names[CONFIG_MAX_BRIDGE_PORTS][CONFIG_NAME_MAX + 1];
	uint32_t edge_lines[CONFIG_MAX_BRIDGE_PORTS];
	uint32_t n_edges;
	uint32_t protocol_line;
};

struct key_def {
	enum section sect;
	const char *name;
	bool repeatable;
	int (*handle)(struct parser *p, const char *key, const char *val);
};

/*
 * Formats "FILE:LINE: [Section] Key: message". line 0 drops ":LINE", key NULL
 * drops " Key", SEC_NONE drops the section. Always returns -1.
 */
static int __attribute__((format(printf, 5, 6)))
fail_at(struct parser *p, uint32_t line, enum section sect, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vw_ini_verror(p->err, p->errlen, p->file, line,
		      sect == SEC_NONE ? NULL : section_names[sect], key, fmt, ap);
	va_end(ap);
	return -1;
}

#define fail(p, key, ...) fail_at(p, (p)->line, (p)->sect, key, __VA_ARGS__)

/* ---- value syntax ---- */

static bool parse_hex_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (*s | 0x20) - 'a' + 10;
		else
			return false;
		v = v * 16 + (uint64_t)d;
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

static void prefix_mask(struct config_prefix *p)
{
	unsigned int bits = p->addr.family == AF_INET ? 32 : 128;

	for (unsigned int i = p->cidr; i < bits; i++)
		p->addr.bytes[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

static bool prefix_contains(const struct config_prefix *p, const struct vw_ipaddr *ip)
{
	return vw_prefix_contains(&p->addr, p->cidr, ip);
}

static bool parse_prefix(const char *s, struct config_prefix *out)
{
	return vw_prefix_parse(s, &out->addr, &out->cidr);
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		uint64_t v = 0;
		char byte[3];

		if (!s[0] || !s[1] || (i < 5 && s[2] != ':') || (i == 5 && s[2]))
			return false;
		byte[0] = s[0];
		byte[1] = s[1];
		byte[2] = '\0';
		if (!parse_hex_uint(byte, 0xff, &v))
			return false;
		mac[i] = (uint8_t)v;
		s += 3;
	}
	return true;
}

/* ---- sections ---- */

static int finish_section(struct parser *p)
{
	if (p->sect == SEC_PEER && !p->seen[0])
		return fail_at(p, p->peer->line, SEC_PEER, "PublicKey", "missing in this [Peer]");
	if (p->sect == SEC_WIRE) {
		static const char *const required[] = {"Name", "Remote", "VNI"};

		for (int i = 0; i < 3; i++)
			if (!p->seen[i])
				return fail_at(p, p->wire->line, SEC_WIRE, required[i],
					       "missing in this [Wire]");
	}
	return 0;
}

static int begin_peer(struct parser *p)
{
	struct vw_config *cfg = p->cfg;

	if (cfg->n_peers == CONFIG_MAX_PEERS)
		return fail(p, NULL, "too many peers (at most %u)", CONFIG_MAX_PEERS);
	if (cfg->n_peers == p->peers_cap) {
		uint32_t cap = p->peers_cap ? p->peers_cap * 2 : 8;
		struct config_peer *peers;
		uint32_t *lines;

		if (cap > CONFIG_MAX_PEERS)
			cap = CONFIG_MAX_PEERS;
		peers = realloc(cfg->peers, cap * sizeof(*peers));
		if (!peers)
			return fail(p, NULL, "out of memory");
		cfg->peers = peers;
		lines = realloc(p->public_key_lines, cap * sizeof(*lines));
		if (!lines)
			return fail(p, NULL, "out of memory");
		p->public_key_lines = lines;
		p->peers_cap = cap;
	}
	p->peer = &cfg->peers[cfg->n_peers++];
	memset(p->peer, 0, sizeof(*p->peer));
	p->peer->line = p->line;
	return 0;
}

static int begin_wire(struct parser *p)
{
	struct vw_config *cfg = p->cfg;

	if (cfg->n_wires == CONFIG_MAX_WIRES)
		return fail(p, NULL, "too many wires (at most %u)", CONFIG_MAX_WIRES);
	if (cfg->n_wires == p->wires_cap) {
		uint32_t cap = p->wires_cap ? p->wires_cap * 2 : 4;
		struct config_wire *wires = realloc(cfg->wires, cap * sizeof(*wires));

		if (!wires)
			return fail(p, NULL, "out of memory");
		cfg->wires = wires;
		p->wires_cap = cap;
	}
	p->wire = &cfg->wires[cfg->n_wires];
	memset(p->wire, 0, sizeof(*p->wire));
	memset(&p->wire_lines[cfg->n_wires], 0, sizeof(p->wire_lines[0]));
	cfg->n_wires++;
	p->wire->line = p->line;
	p->wire->port = CONFIG_DEFAULT_VXLAN_PORT;
	p->wire->cost = CONFIG_WIRE_COST_AUTO;
	p->wire->priority = CONFIG_DEFAULT_WIRE_PRIORITY;
	return 0;
}

static int begin_section(struct parser *p, char *name)
{
	char q[VW_QUOTE_MAX + 8];
	enum section s;

	if (finish_section(p))
		return -1;
	for (s = SEC_INTERFACE; s <= SEC_WIRE; s++)
		if (!strcasecmp(name, section_names[s]))
			break;
	if (s > SEC_WIRE) {
		vw_quote(q, sizeof(q), name);
		return fail_at(p, p->line, SEC_NONE, NULL,
			       "[%s]: unknown section (expected [Interface], [Peer], [Bridge] or "
			       "[Wire])",
			       q);
	}
	memset(p->seen, 0, sizeof(p->seen));
	p->sect = s;
	switch (s) {
	case SEC_INTERFACE:
		if (p->interface_line)
			return fail(p, NULL, "given twice (first at line %u)", p->interface_line);
		p->interface_line = p->line;
		return 0;
	case SEC_BRIDGE:
		if (p->bridge_line)
			return fail(p, NULL,
				    "given twice (first at line %u): a host has at most one "
				    "bridge",
				    p->bridge_line);
		p->bridge_line = p->line;
		p->cfg->has_bridge = true;
		return 0;
	case SEC_PEER:
		return begin_peer(p);
	case SEC_WIRE:
		return begin_wire(p);
	default:
		return 0;
	}
}

/* ---- key handlers ---- */

static int bad_number(struct parser *p, const char *key, const char *val, uint64_t lo, uint64_t hi)
{
	char q[VW_QUOTE_MAX + 8];

	vw_quote(q, sizeof(q), val);
	return fail(p, key, "\"%s\" is not a number from %llu to %llu", q, (unsigned long long)lo,
		    (unsigned long long)hi);
}

static int number(struct parser *p, const char *key, const char *val, uint64_t lo, uint64_t hi,
		  uint64_t *out)
{
	if (!vw_parse_uint(val, hi, out) || *out < lo)
		return bad_number(p, key, val, lo, hi);
	return 0;
}

static int key_value(struct parser *p, const char *key, const char *val, uint8_t out[WG_KEY_LEN])
{
	/* The value is a secret: say what is wrong with it, never echo it. */
	if (!key_from_base64(out, val))
		return fail(p, key, "not a key: %s", KEY_BASE64_HELP);
	return 0;
}

static int name_value(struct parser *p, const char *key, const char *val, char out[])
{
	char q[VW_QUOTE_MAX + 8];

	if (!vw_ifname_valid(val)) {
		vw_quote(q, sizeof(q), val);
		return fail(
			p, key,
			"\"%s\" is not a valid interface name (1 to %d of A-Z a-z 0-9 _ = + . -)",
			q, CONFIG_NAME_MAX);
	}
	strcpy(out, val);
	return 0;
}

static int bool_value(struct parser *p, const char *key, const char *val, bool *out)
{
	char q[VW_QUOTE_MAX + 8];
	int b = vw_parse_bool(val);

	if (b < 0) {
		vw_quote(q, sizeof(q), val);
		return fail(p, key, "\"%s\" is neither on nor off", q);
	}
	*out = b;
	return 0;
}

/*
 * Calls item() for each comma-separated item of a list value. Items are trimmed;
 * an empty item is an error, an empty list is not (wg accepts "AllowedIPs =").
 */
static int for_each_item(struct parser *p, const char *key, char *val,
			 int (*item)(struct parser *p, const char *key, char *it))
{
	char *it, *next;

	if (!*val)
		return 0;
	for (it = val; it; it = next) {
		next = strchr(it, ',');
		if (next)
			*next++ = '\0';
		it = vw_trim(it);
		if (!*it)
			return fail(p, key, "empty item in the comma-separated list");
		if (item(p, key, it))
			return -1;
	}
	return 0;
}

static int address_item(struct parser *p, const char *key, char *it, struct config_prefix *list,
			uint32_t *n)
{
	char q[VW_QUOTE_MAX + 8];

	vw_quote(q, sizeof(q), it);
	if (*n == CONFIG_MAX_ADDRESSES)
		return fail(p, key, "too many addresses (at most %d)", CONFIG_MAX_ADDRESSES);
	if (!parse_prefix(it, &list[*n]))
		return fail(p, key,
			    "\"%s\" is not an address with an optional prefix length, like "
			    "10.0.0.1/24 or fd00::1/64",
			    q);
	(*n)++;
	return 0;
}

static int iface_address_item(struct parser *p, const char *key, char *it)
{
	return address_item(p, key, it, p->cfg->iface.addresses, &p->cfg->iface.n_addresses);
}

static int bridge_address_item(struct parser *p, const char *key, char *it)
{
	return address_item(p, key, it, p->cfg->bridge.addresses, &p->cfg->bridge.n_addresses);
}

static int k_private_key(struct parser *p, const char *key, const char *val)
{
	if (key_value(p, key, val, p->cfg->iface.private_key))
		return -1;
	if (key_is_zero(p->cfg->iface.private_key))
		return fail(p, key, "is all zeros");
	p->private_key_line = p->line;
	return 0;
}

static int k_listen_port(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, 0, 65535, &v))
		return -1;
	p->cfg->iface.listen_port = (uint16_t)v;
	return 0;
}

static int k_fwmark(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;
	bool ok;

	if (!strcasecmp(val, "off")) {
		p->cfg->iface.fwmark = 0;
		return 0;
	}
	if (val[0] == '0' && (val[1] == 'x' || val[1] == 'X'))
		ok = parse_hex_uint(val + 2, UINT32_MAX, &v);
	else
		ok = vw_parse_uint(val, UINT32_MAX, &v);
	if (!ok) {
		char q[VW_QUOTE_MAX + 8];

		vw_quote(q, sizeof(q), val);
		return fail(p, key, "\"%s\" is neither off nor a number up to 0xffffffff", q);
	}
	p->cfg->iface.fwmark = (uint32_t)v;
	return 0;
}

static int k_iface_name(struct parser *p, const char *key, const char *val)
{
	p->iface_name_line = p->line;
	return name_value(p, key, val, p->cfg->iface.name);
}

static int k_tun(struct parser *p, const char *key, const char *val)
{
	return bool_value(p, key, val, &p->cfg->iface.tun);
}

static int k_iface_address(struct parser *p, const char *key, const char *val)
{
	return for_each_item(p, key, (char *)val, iface_address_item);
}

/* 576: every IPv4 host takes datagrams that large; TAP and TUN below that make no sense. */
#define MTU_MIN 576

static int k_iface_mtu(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, MTU_MIN, 65535, &v))
		return -1;
	p->cfg->iface.mtu = (uint32_t)v;
	p->iface_mtu_line = p->line;
	return 0;
}

static int k_public_key(struct parser *p, const char *key, const char *val)
{
	if (key_value(p, key, val, p->peer->public_key))
		return -1;
	p->public_key_lines[p->peer - p->cfg->peers] = p->line;
	return 0;
}

static int k_preshared_key(struct parser *p, const char *key, const char *val)
{
	if (key_value(p, key, val, p->peer->preshared_key))
		return -1;
	/* wg reads an all-zero key as "no preshared key". */
	p->peer->has_preshared_key = !key_is_zero(p->peer->preshared_key);
	return 0;
}

static int allowed_ip_item(struct parser *p, const char *key, char *it)
{
	struct config_peer *peer = p->peer;
	struct config_prefix pfx;
	char q[VW_QUOTE_MAX + 8];

	vw_quote(q, sizeof(q), it);
	if (it[0] == '+' || it[0] == '-')
		return fail(p, key, "\"%s\": +/- prefixes are for `wg set`, not a config file", q);
	if (!parse_prefix(it, &pfx))
		return fail(p, key,
			    "\"%s\" is not an address with an optional prefix length, like "
			    "10.0.0.0/24 or fd00::/64",
			    q);
	if (p->total_allowed_ips == CONFIG_MAX_ALLOWED_IPS)
		return fail(p, key, "too many allowed IPs in this file (at most %u)",
			    CONFIG_MAX_ALLOWED_IPS);
	/* Grow to powers of two: n_allowed_ips is the capacity whenever it is one. */
	if ((peer->n_allowed_ips & (peer->n_allowed_ips - 1)) == 0) {
		uint32_t cap = peer->n_allowed_ips ? peer->n_allowed_ips * 2 : 4;
		struct config_prefix *a = realloc(peer->allowed_ips, cap * sizeof(*a));

		if (!a)
			return fail(p, key, "out of memory");
		peer->allowed_ips = a;
	}
	prefix_mask(&pfx);
	peer->allowed_ips[peer->n_allowed_ips++] = pfx;
	p->total_allowed_ips++;
	return 0;
}

static int k_allowed_ips(struct parser *p, const char *key, const char *val)
{
	return for_each_item(p, key, (char *)val, allowed_ip_item);
}

/*
 * "host:port" or "[v6]:port", host numeric or a DNS name. Names and %zones stay
 * in the string for the daemon to resolve: resolving is a system call.
 */
static int k_endpoint(struct parser *p, const char *key, const char *val)
{
	struct config_peer *peer = p->peer;
	char why[VW_QUOTE_MAX + 64];

	if (!vw_endpoint_check(val, CONFIG_ENDPOINT_MAX, why, sizeof(why)))
		return fail(p, key, "%s", why);
	strcpy(peer->endpoint_str, val);
	/* Fails for names and zones, which leaves the family AF_UNSPEC. */
	if (!vw_endpoint_parse(&peer->endpoint, val))
		memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	return 0;
}

static int k_keepalive(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (!strcasecmp(val, "off")) {
		p->peer->persistent_keepalive = 0;
		return 0;
	}
	if (!vw_parse_uint(val, 65535, &v)) {
		char q[VW_QUOTE_MAX + 8];

		vw_quote(q, sizeof(q), val);
		return fail(p, key, "\"%s\" is neither off nor a number of seconds up to 65535", q);
	}
	p->peer->persistent_keepalive = (uint16_t)v;
	return 0;
}

static int k_bridge_name(struct parser *p, const char *key, const char *val)
{
	p->bridge_name_line = p->line;
	return name_value(p, key, val, p->cfg->bridge.name);
}

static int k_bridge_address(struct parser *p, const char *key, const char *val)
{
	return for_each_item(p, key, (char *)val, bridge_address_item);
}

static int k_bridge_mtu(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, MTU_MIN, 65535, &v))
		return -1;
	p->cfg->bridge.mtu = (uint32_t)v;
	p->bridge_mtu_line = p->line;
	return 0;
}

static int k_stp(struct parser *p, const char *key, const char *val)
{
	return bool_value(p, key, val, &p->cfg->bridge.stp);
}

static int k_udp_csum(struct parser *p, const char *key, const char *val)
{
	return bool_value(p, key, val, &p->cfg->bridge.udp_csum);
}

static int k_protocol(struct parser *p, const char *key, const char *val)
{
	char q[VW_QUOTE_MAX + 8];

	p->protocol_line = p->line;
	if (!strcasecmp(val, "rstp")) {
		p->cfg->bridge.protocol = BR_PROTO_RSTP;
		return 0;
	}
	if (!strcasecmp(val, "stp")) {
		p->cfg->bridge.protocol = BR_PROTO_STP;
		return 0;
	}
	vw_quote(q, sizeof(q), val);
	return fail(p, key, "\"%s\" is neither rstp nor stp", q);
}

/* auto: from the wires' round trips (bridge/wirecost.h); a number wins over it. */
static int k_bridge_priority(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	p->cfg->bridge.priority_auto = !strcmp(val, "auto");
	if (p->cfg->bridge.priority_auto)
		return 0;
	if (number(p, key, val, 0, 65535, &v))
		return -1;
	p->cfg->bridge.priority = (uint16_t)v;
	return 0;
}

/* The 802.1D ranges of the bridge timers, in seconds. */
static int k_hello_time(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, 1, 10, &v))
		return -1;
	p->cfg->bridge.hello_time = (uint8_t)v;
	p->hello_time_line = p->line;
	return 0;
}

static int k_max_age(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, 6, 40, &v))
		return -1;
	p->cfg->bridge.max_age = (uint8_t)v;
	p->max_age_line = p->line;
	return 0;
}

static int k_forward_delay(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, 4, 30, &v))
		return -1;
	p->cfg->bridge.forward_delay = (uint8_t)v;
	p->forward_delay_line = p->line;
	return 0;
}

static int k_ageing_time(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, 10, 1000000, &v))
		return -1;
	p->cfg->bridge.ageing_time = (uint32_t)v;
	return 0;
}

static int port_item(struct parser *p, const char *key, char *it)
{
	struct config_bridge *br = &p->cfg->bridge;

	if (br->n_ports == CONFIG_MAX_BRIDGE_PORTS)
		return fail(p, key, "too many ports (at most %d)", CONFIG_MAX_BRIDGE_PORTS);
	if (name_value(p, key, it, br->ports[br->n_ports]))
		return -1;
	p->port_lines[br->n_ports++] = p->line;
	return 0;
}

static int k_ports(struct parser *p, const char *key, const char *val)
{
	return for_each_item(p, key, (char *)val, port_item);
}

/* 0 is Linux's max_learned 0: no cap per port, the FDB's own cap and fair share still hold. */
static int k_max_learned(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, 0, CONFIG_MAX_MAX_LEARNED, &v))
		return -1;
	p->cfg->bridge.max_learned = (uint32_t)v;
	return 0;
}

static int guard_item(struct parser *p, const char *key, char *it)
{
	if (p->n_guards == CONFIG_MAX_BRIDGE_PORTS)
		return fail(p, key, "too many ports (at most %d)", CONFIG_MAX_BRIDGE_PORTS);
	if (name_value(p, key, it, p->guard_names[p->n_guards]))
		return -1;
	p->guard_lines[p->n_guards++] = p->line;
	return 0;
}

/* Same list syntax as Ports, and like it repeatable. */
static int k_bpdu_guard(struct parser *p, const char *key, const char *val)
{
	return for_each_item(p, key, (char *)val, guard_item);
}

static int edge_item(struct parser *p, const char *key, char *it)
{
	if (p->n_edges == CONFIG_MAX_BRIDGE_PORTS)
		return fail(p, key, "too many ports (at most %d)", CONFIG_MAX_BRIDGE_PORTS);
	if (name_value(p, key, it, p->edge_names[p->n_edges]))
		return -1;
	p->edge_lines[p->n_edges++] = p->line;
	return 0;
}

/* Same list syntax as Ports and BPDUGuard. */
static int k_edge(struct parser *p, const char *key, const char *val)
{
	return for_each_item(p, key, (char *)val, edge_item);
}

static int k_mac(struct parser *p, const char *key, const char *val)
{
	struct config_bridge *br = &p->cfg->bridge;
	char q[VW_QUOTE_MAX + 8];
	static const uint8_t zero[6];

	vw_quote(q, sizeof(q), val);
	if (!parse_mac(val, br->mac))
		return fail(p, key, "\"%s\" is not a MAC address like 02:00:00:00:00:01", q);
	if (br->mac[0] & 1)
		return fail(p, key, "%s is a multicast address", q);
	if (!memcmp(br->mac, zero, 6))
		return fail(p, key, "is all zeros");
	br->has_mac = true;
	return 0;
}

static int k_wire_name(struct parser *p, const char *key, const char *val)
{
	p->wire_lines[p->wire - p->cfg->wires].name = p->line;
	return name_value(p, key, val, p->wire->name);
}

static int k_remote(struct parser *p, const char *key, const char *val)
{
	char q[VW_QUOTE_MAX + 8];

	vw_quote(q, sizeof(q), val);
	if (inet_pton(AF_INET, val, p->wire->remote) != 1)
		return fail(p, key,
			    "\"%s\" is not an IPv4 address (VXLAN rides on the tunnel's IPv4)", q);
	p->wire_lines[p->wire - p->cfg->wires].remote = p->line;
	return 0;
}

static int k_vni(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, 0, (1u << 24) - 1, &v))
		return -1;
	p->wire->vni = (uint32_t)v;
	p->wire_lines[p->wire - p->cfg->wires].vni = p->line;
	return 0;
}

static int k_wire_port(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, 1, 65535, &v))
		return -1;
	p->wire->port = (uint16_t)v;
	return 0;
}

static int k_cost(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	/* auto (CONFIG_WIRE_COST_AUTO, the default): from the wire's measured round trip. */
	if (!strcmp(val, "auto")) {
		p->wire->cost = CONFIG_WIRE_COST_AUTO;
		return 0;
	}
	/*
	 * The bridge speaks 802.1D's STP, whose port path costs are 16-bit (as the kernel
	 * bridge's path_cost): a larger one would only fail when the port is added.
	 */
	if (number(p, key, val, 1, 65535, &v))
		return -1;
	p->wire->cost = (uint32_t)v;
	return 0;
}

static int k_wire_priority(struct parser *p, const char *key, const char *val)
{
	uint64_t v = 0;

	if (number(p, key, val, 0, 255, &v))
		return -1;
	p->wire->priority = (uint8_t)v;
	return 0;
}

/*
 * Per section, in an order the section checks rely on: index 0 of [Peer] is
 * PublicKey, indexes 0-2 of [Wire] are Name, Remote, VNI.
 */
static const struct key_def keys[] = {
	{SEC_INTERFACE, "PrivateKey", false, k_private_key},
	{SEC_INTERFACE, "ListenPort", false, k_listen_port},
	{SEC_INTERFACE, "FwMark", false, k_fwmark},
	{SEC_INTERFACE, "Name", false, k_iface_name},
	{SEC_INTERFACE, "Tun", false, k_tun},
	{SEC_INTERFACE, "Address", true, k_iface_address},
	{SEC_INTERFACE, "MTU", false, k_iface_mtu},
	{SEC_PEER, "PublicKey", false, k_public_key},
	{SEC_PEER, "PresharedKey", false, k_preshared_key},
	{SEC_PEER, "AllowedIPs", true, k_allowed_ips},
	{SEC_PEER, "Endpoint", false, k_endpoint},
	{SEC_PEER, "PersistentKeepalive", false, k_keepalive},
	{SEC_BRIDGE, "Name", false, k_bridge_name},
	{SEC_BRIDGE, "Address", true, k_bridge_address},
	{SEC_BRIDGE, "MTU", false, k_bridge_mtu},
	{SEC_BRIDGE, "STP", false, k_stp},
	{SEC_BRIDGE, "Protocol", false, k_protocol},
	{SEC_BRIDGE, "Priority", false, k_bridge_priority},
	{SEC_BRIDGE, "HelloTime", false, k_hello_time},
	{SEC_BRIDGE, "MaxAge", false, k_max_age},
	{SEC_BRIDGE, "ForwardDelay", false, k_forward_delay},
	{SEC_BRIDGE, "AgeingTime", false, k_ageing_time},
	{SEC_BRIDGE, "Ports", true, k_ports},
	{SEC_BRIDGE, "MAC", false, k_mac},
	{SEC_BRIDGE, "MaxLearned", false, k_max_learned},
	{SEC_BRIDGE, "BPDUGuard", true, k_bpdu_guard},
	{SEC_BRIDGE, "Edge", true, k_edge},
	{SEC_BRIDGE, "UDPChecksum", false, k_udp_csum},
	{SEC_WIRE, "Name", false, k_wire_name},
	{SEC_WIRE, "Remote", false, k_remote},
	{SEC_WIRE, "VNI", false, k_vni},
	{SEC_WIRE, "Port", false, k_wire_port},
	{SEC_WIRE, "Cost", false, k_cost},
	{SEC_WIRE, "Priority", false, k_wire_priority},
};

/* wg-quick's own keys: they run commands or change the host, which vwired does not do. */
static const char *const wg_quick_keys[] = {
	"DNS", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig",
};

static int key_line(struct parser *p, char *key, char *val)
{
	unsigned int idx = 0;
	char q[VW_QUOTE_MAX + 8];

	vw_quote(q, sizeof(q), key);
	if (p->sect == SEC_NONE)
		return fail(p, q,
			    "outside of any section: put it under [Interface], [Peer], "
			    "[Bridge] or [Wire]");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].sect != p->sect)
			continue;
		if (!strcasecmp(key, keys[i].name)) {
			const struct key_def *k = &keys[i];

			if (!k->repeatable && p->seen[idx])
				return fail(p, k->name, "given twice (first at line %u)",
					    p->seen[idx]);
			p->seen[idx] = p->line;
			if (!*val && !k->repeatable)
				return fail(p, k->name, "empty value");
			return k->handle(p, k->name, val);
		}
		idx++;
	}
	if (p->sect == SEC_INTERFACE) {
		for (size_t i = 0; i < sizeof(wg_quick_keys) / sizeof(wg_quick_keys[0]); i++)
			if (!strcasecmp(key, wg_quick_keys[i]))
				return fail(
					p, wg_quick_keys[i],
					"is a wg-quick key; vwired does not run wg-quick hooks "
					"or change DNS, routes or files: remove it (or run "
					"wg-quick with WG_QUICK_USERSPACE_IMPLEMENTATION=vwired)");
	}
	return fail(p, q, "unknown key");
}

/* The reader's callbacks: it finds the lines, the parser knows what they mean. */
static int on_section(void *ctx, uint32_t line, char *name)
{
	struct parser *p = ctx;

	p->line = line;
	return begin_section(p, name);
}

static int on_key(void *ctx, uint32_t line, char *key, char *val)
{
	struct parser *p = ctx;

	p->line = line;
	return key_line(p, key, val);
}

static int on_error(void *ctx, uint32_t line, bool in_section, const char *what)
{
	struct parser *p = ctx;

	p->line = line;
	return fail_at(p, line, in_section ? p->sect : SEC_NONE, NULL, "%s", what);
}

/* ---- whole-file checks ---- */

static bool same_name(const char *a, const char *b)
{
	return a[0] && !strcmp(a, b);
}

/* Default Name: the file's name, as wg-quick names the interface after wg0.conf. */
static int default_name(struct parser *p)
{
	const char *base = strrchr(p->file, '/');
	char name[CONFIG_NAME_MAX + 1];
	size_t n;

	base = base ? base + 1 : p->file;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".conf"))
		n -= 5;
	if (n == 0 || n > CONFIG_NAME_MAX)
		goto bad;
	memcpy(name, base, n);
	name[n] = '\0';
	if (!vw_ifname_valid(name))
		goto bad;
	strcpy(p->cfg->iface.name, name);
	return 0;
bad:
	return fail_at(p, 0, SEC_INTERFACE, "Name",
		       "missing, and the file's name does not make an interface name");
}

struct key_line {
	uint8_t key[WG_KEY_LEN];
	uint32_t line;
};

static int key_line_cmp(const void *a, const void *b)
{
	const struct key_line *x = a, *y = b;
	int c = memcmp(x->key, y->key, WG_KEY_LEN);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorting keeps this O(n log n) for the largest allowed peer count. */
static int check_peers(struct parser *p)
{
	struct vw_config *cfg = p->cfg;
	uint8_t own[WG_KEY_LEN];
	struct key_line *kl;
	uint32_t dup_line = 0, first_line = 0;

	x25519_public(own, cfg->iface.private_key);
	for (uint32_t i = 0; i < cfg->n_peers; i++)
		if (!memcmp(cfg->peers[i].public_key, own, WG_KEY_LEN))
			return fail_at(p, p->public_key_lines[i], SEC_PEER, "PublicKey",
				       "is this interface's own public key");
	if (cfg->n_peers < 2)
		return 0;
	kl = malloc(cfg->n_peers * sizeof(*kl));
	if (!kl)
		return fail_at(p, 0, SEC_NONE, NULL, "out of memory");
	for (uint32_t i = 0; i < cfg->n_peers; i++) {
		memcpy(kl[i].key, cfg->peers[i].public_key, WG_KEY_LEN);
		kl[i].line = p->public_key_lines[i];
	}
	qsort(kl, cfg->n_peers, sizeof(*kl), key_line_cmp);
	/* Report the duplicate that comes first in the file. */
	for (uint32_t i = 1; i < cfg->n_peers; i++) {
		if (memcmp(kl[i - 1].key, kl[i].key, WG_KEY_LEN))
			continue;
		if (!dup_line || kl[i].line < dup_line) {
			dup_line = kl[i].line;
			first_line = kl[i - 1].line;
		}
	}
	free(kl);
	if (dup_line)
		return fail_at(p, dup_line, SEC_PEER, "PublicKey",
			       "the same peer as the PublicKey at line %u", first_line);
	return 0;
}

static bool has_ipv6(const struct config_prefix *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i].addr.family == AF_INET6)
			return true;
	return false;
}

static int check_interface(struct parser *p)
{
	struct config_interface *ifc = &p->cfg->iface;

	if (!p->interface_line)
		return fail_at(p, 0, SEC_INTERFACE, NULL, "missing");
	if (!p->private_key_line)
		return fail_at(p, 0, SEC_INTERFACE, "PrivateKey", "missing");
	if (!ifc->name[0] && default_name(p))
		return -1;
	if (ifc->mtu < 1280 && has_ipv6(ifc->addresses, ifc->n_addresses))
		return fail_at(p, p->iface_mtu_line, SEC_INTERFACE, "MTU",
			       "%u is below 1280, the least IPv6 needs, and Address has an IPv6 "
			       "address",
			       ifc->mtu);
	return 0;
}

static int check_bridge(struct parser *p)
{
	struct config_bridge *br = &p->cfg->bridge;

	if (!p->cfg->has_bridge)
		return 0;
	if (!br->name[0])
		return fail_at(p, p->bridge_line, SEC_BRIDGE, "Name", "missing in [Bridge]");
	if (br->mtu < 1280 && has_ipv6(br->addresses, br->n_addresses))
		return fail_at(p, p->bridge_mtu_line, SEC_BRIDGE, "MTU",
			       "%u is below 1280, the least IPv6 needs, and Address has an IPv6 "
			       "address",
			       br->mtu);
	/*
	 * 802.1D 17.14: 2 x (Forward Delay - 1) >= Max Age >= 2 x (Hello Time + 1).
	 * Blame MaxAge when it was given, else the other timer the file set.
	 */
	if (2 * (br->forward_delay - 1) < br->max_age) {
		if (p->max_age_line || !p->forward_delay_line)
			return fail_at(p, p->max_age_line ? p->max_age_line : p->bridge_line,
				       SEC_BRIDGE, "MaxAge",
				       "%u is more than 2 x (ForwardDelay - 1) = %u (802.1D timer "
				       "rule)",
				       br->max_age, 2 * (br->forward_delay - 1));
		return fail_at(p, p->forward_delay_line, SEC_BRIDGE, "ForwardDelay",
			       "%u is too short for MaxAge %u: 802.1D needs 2 x (ForwardDelay - 1) "
			       ">= MaxAge",
			       br->forward_delay, br->max_age);
	}
	if (br->max_age < 2 * (br->hello_time + 1)) {
		if (p->max_age_line || !p->hello_time_line)
			return fail_at(
				p, p->max_age_line ? p->max_age_line : p->bridge_line, SEC_BRIDGE,
				"MaxAge",
				"%u is less than 2 x (HelloTime + 1) = %u (802.1D timer rule)",
				br->max_age, 2 * (br->hello_time + 1));
		return fail_at(
			p, p->hello_time_line, SEC_BRIDGE, "HelloTime",
			"%u is too long for MaxAge %u: 802.1D needs MaxAge >= 2 x (HelloTime "
			"+ 1)",
			br->hello_time, br->max_age);
	}
	return 0;
}

/*
 * Edge is for ports facing hosts (VMs, containers), as BPDUGuard; it is RSTP's
 * AdminEdge, which 802.1D-1998 has no word for.
 */
static int check_edges(struct parser *p)
{
	struct config_bridge *br = &p->cfg->bridge;

	for (uint32_t e = 0; e < p->n_edges; e++) {
		uint32_t i;

		if (br->protocol != BR_PROTO_RSTP)
			return fail_at(p, p->edge_lines[e], SEC_BRIDGE, "Edge",
				       "needs Protocol = rstp (802.1D has no edge ports; Protocol "
				       "= stp at line %u)",
				       p->protocol_line);
		for (i = 0; i < br->n_ports && strcmp(p->edge_names[e], br->ports[i]); i++)
			;
		if (i == br->n_ports)
			return fail_at(p, p->edge_lines[e], SEC_BRIDGE, "Edge",
				       "\"%s\" is not one of the bridge's Ports", p->edge_names[e]);
		br->edge[i] = true;
	}
	return 0;
}

/* Interface, bridge, bridge ports and wires are all ports or devices: one name each. */
static int check_names(struct parser *p)
{
	struct vw_config *cfg = p->cfg;
	struct config_bridge *br = &cfg->bridge;
	const char *ifname = cfg->iface.name;

	if (cfg->has_bridge && same_name(br->name, ifname))
		return fail_at(p, p->bridge_name_line, SEC_BRIDGE, "Name",
			       "\"%s\" is also the [Interface] Name", br->name);
	for (uint32_t i = 0; i < br->n_ports; i++) {
		if (same_name(br->ports[i], ifname) || same_name(br->ports[i], br->name))
			return fail_at(p, p->port_lines[i], SEC_BRIDGE, "Ports",
				       "\"%s\" is also the name of the interface or the bridge",
				       br->ports[i]);
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(br->ports[i], br->ports[j]))
				return fail_at(p, p->port_lines[i], SEC_BRIDGE, "Ports",
					       "\"%s\" is listed twice", br->ports[i]);
	}
	/* Guard is for ports facing VMs: a wire or the bridge's own TAP always talks to bridges. */
	for (uint32_t g = 0; g < p->n_guards; g++) {
		uint32_t i;

		for (i = 0; i < br->n_ports && strcmp(p->guard_names[g], br->ports[i]); i++)
			;
		if (i == br->n_ports)
			return fail_at(p, p->guard_lines[g], SEC_BRIDGE, "BPDUGuard",
				       "\"%s\" is not one of the bridge's Ports",
				       p->guard_names[g]);
		br->bpdu_guard[i] = true;
	}
	if (check_edges(p))
		return -1;
	for (uint32_t i = 0; i < cfg->n_wires; i++) {
		const char *w = cfg->wires[i].name;
		uint32_t line = p->wire_lines[i].name;

		if (same_name(w, ifname) || same_name(w, br->name))
			return fail_at(p, line, SEC_WIRE, "Name",
				       "\"%s\" is also the name of the interface or the bridge", w);
		for (uint32_t j = 0; j < br->n_ports; j++)
			if (!strcmp(w, br->ports[j]))
				return fail_at(p, line, SEC_WIRE, "Name",
					       "\"%s\" is also a bridge port", w);
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(w, cfg->wires[j].name))
				return fail_at(p, line, SEC_WIRE, "Name",
					       "\"%s\" is also the wire at line %u", w,
					       cfg->wires[j].line);
	}
	return 0;
}

static const struct config_prefix *tunnel_ipv4(const struct config_interface *ifc)
{
	for (uint32_t i = 0; i < ifc->n_addresses; i++)
		if (ifc->addresses[i].addr.family == AF_INET)
			return &ifc->addresses[i];
	return NULL;
}

static bool routed_to_a_peer(const struct vw_config *cfg, const struct vw_ipaddr *ip)
{
	for (uint32_t i = 0; i < cfg->n_peers; i++)
		for (uint32_t j = 0; j < cfg->peers[i].n_allowed_ips; j++)
			if (prefix_contains(&cfg->peers[i].allowed_ips[j], ip))
				return true;
	return false;
}

static int check_wires(struct parser *p)
{
	struct vw_config *cfg = p->cfg;
	char a[INET_ADDRSTRLEN];

	if (!cfg->n_wires)
		return 0;
	if (!cfg->has_bridge)
		return fail_at(p, cfg->wires[0].line, SEC_WIRE, NULL,
			       "needs a [Bridge]: wires are ports of the bridge");
	if (!tunnel_ipv4(&cfg->iface))
		return fail_at(p, cfg->wires[0].line, SEC_WIRE, NULL,
			       "needs an IPv4 Address in [Interface]: it is the VXLAN source");
	for (uint32_t i = 0; i < cfg->n_wires; i++) {
		const struct config_wire *w = &cfg->wires[i];
		struct vw_ipaddr ip = {.family = AF_INET};

		memcpy(ip.bytes, w->remote, 4);
		inet_ntop(AF_INET, w->remote, a, sizeof(a));
		for (uint32_t k = 0; k < cfg->iface.n_addresses; k++) {
			const struct config_prefix *own = &cfg->iface.addresses[k];

			if (own->addr.family == AF_INET && !memcmp(own->addr.bytes, w->remote, 4))
				return fail_at(p, p->wire_lines[i].remote, SEC_WIRE, "Remote",
					       "%s is this host's own Address", a);
		}
		if (!routed_to_a_peer(cfg, &ip))
			return fail_at(p, p->wire_lines[i].remote, SEC_WIRE, "Remote",
				       "%s is inside no peer's AllowedIPs", a);
		for (uint32_t j = 0; j < i; j++)
			if (cfg->wires[j].vni == w->vni && cfg->wires[j].port == w->port)
				return fail_at(p, p->wire_lines[i].vni, SEC_WIRE, "VNI",
					       "%u on port %u is also the wire at line %u", w->vni,
					       w->port, cfg->wires[j].line);
	}
	return 0;
}

/* ---- entry points ---- */

static void set_defaults(struct vw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->iface.tun = true;
	cfg->iface.mtu = CONFIG_DEFAULT_MTU;
	cfg->bridge.mtu = CONFIG_DEFAULT_BRIDGE_MTU;
	cfg->bridge.stp = true;
	cfg->bridge.protocol = BR_PROTO_RSTP;
	cfg->bridge.priority = CONFIG_DEFAULT_BRIDGE_PRIORITY;
	cfg->bridge.hello_time = CONFIG_DEFAULT_HELLO_TIME;
	cfg->bridge.max_age = CONFIG_DEFAULT_MAX_AGE;
	cfg->bridge.forward_delay = CONFIG_DEFAULT_FORWARD_DELAY;
	cfg->bridge.ageing_time = CONFIG_DEFAULT_AGEING_TIME;
	cfg->bridge.max_learned = CONFIG_DEFAULT_MAX_LEARNED;
}

static int parse_lines(struct parser *p, const char *text, size_t len)
{
	static const struct vw_ini_ops ops = {on_section, on_key, on_error};

	if (vw_ini_read(text, len, CONFIG_MAX_LINE, &ops, p))
		return -1;
	p->line = 0;
	return finish_section(p);
}

int config_parse(const char *text, size_t len, const char *name_for_errors, struct vw_config *cfg,
		 char *err, size_t errlen)
{
	struct parser *p = calloc(1, sizeof(*p));
	int ret = -1;

	set_defaults(cfg);
	if (errlen)
		err[0] = '\0';
	if (!p) {
		snprintf(err, errlen, "%s: out of memory", name_for_errors ? name_for_errors : "");
		goto out;
	}
	p->file = name_for_errors ? name_for_errors : "config";
	p->err = err;
	p->errlen = errlen;
	p->cfg = cfg;
	if (len > CONFIG_MAX_FILE_SIZE) {
		fail_at(p, 0, SEC_NONE, NULL, "larger than %u bytes", CONFIG_MAX_FILE_SIZE);
		goto out;
	}
	if (parse_lines(p, text, len) || check_interface(p) || check_bridge(p) || check_names(p) ||
	    check_peers(p) || check_wires(p))
		goto out;
	ret = 0;
out:
	if (p)
		free(p->public_key_lines);
	free(p);
	if (ret)
		config_free(cfg);
	return ret;
}

int config_load_fd(int fd, const char *path, struct vw_config *cfg, char *err, size_t errlen)
{
	char *data;
	size_t len;
	int ret;

	set_defaults(cfg);
	if (fd >= 0 ? vw_read_fd(fd, path, CONFIG_MAX_FILE_SIZE, &data, &len, err, errlen)
		    : vw_read_file(path, CONFIG_MAX_FILE_SIZE, &data, &len, err, errlen))
		return -1;
	ret = config_parse(data, len, path, cfg, err, errlen);
	crypto_wipe(data, len);
	free(data);
	return ret;
}

int config_load(const char *path, struct vw_config *cfg, char *err, size_t errlen)
{
	return config_load_fd(-1, path, cfg, err, errlen);
}

void config_free(struct vw_config *cfg)
{
	crypto_wipe(cfg->iface.private_key, sizeof(cfg->iface.private_key));
	for (uint32_t i = 0; i < cfg->n_peers; i++) {
		crypto_wipe(cfg->peers[i].preshared_key, sizeof(cfg->peers[i].preshared_key));
		free(cfg->peers[i].allowed_ips);
	}
	free(cfg->peers);
	free(cfg->wires);
	set_defaults(cfg);
}
