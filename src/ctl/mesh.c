/* SPDX-License-Identifier: MIT */
#include "mesh.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/ini.h"
#include "core/sbuf.h"
#include "crypto/crypto.h"
#include "crypto/x25519.h"

enum msect { MS_NONE, MS_NETWORK, MS_HOST };

static const char *const sect_names[] = {
	[MS_NONE] = "", [MS_NETWORK] = "Network", [MS_HOST] = "Host"};

/* A key's number is its slot in its section's seen[] lines. */
enum {
	NK_TUNNEL,
	NK_BRIDGE,
	NK_BRIDGE_NAME,
	NK_IFNAME,
	NK_PORT,
	NK_MTU,
	NK_HELLO,
	NK_MAX_AGE,
	NK_FWD,
	NK_ROOT,
	NK_KEEPALIVE,
	NK_PROTOCOL,
	NK_PRIORITY,
	NK_COUNT
};

enum {
	HK_NAME,
	HK_ENDPOINT,
	HK_NAT,
	HK_KIND,
	HK_ADDRESS,
	HK_BRIDGE_ADDRESS,
	HK_PORT,
	HK_IFNAME,
	HK_PRIVATE,
	HK_PUBLIC,
	HK_WIRES,
	HK_PRIORITY,
	HK_ENDPOINT_FROM,
	HK_COUNT
};

/* What a [Host] said, kept until the whole file is known: defaults and names come later. */
struct host_raw {
	uint32_t seen[HK_COUNT];	  /* line of each key, 0 when not given */
	uint8_t tunnel_cidr, bridge_cidr; /* as written, 0 for a bare address */
};

/* One name from a Wires list, resolved once every host is known. */
struct wire_ref {
	uint32_t host;
	uint32_t line;
	char name[VW_IFNAME_MAX + 1];
};

/* An EndpointFrom as written, resolved once every host is known. */
struct from_ref {
	uint32_t host;
	uint32_t line;
	char name[VW_IFNAME_MAX + 1];
	char endpoint[MESH_ENDPOINT_MAX + 1];
};

struct mparser {
	const char *file;
	char *err;
	size_t errlen;
	struct mesh *m;
	uint32_t line;
	enum msect sect;
	uint32_t network_line;
	uint32_t net_seen[NK_COUNT];
	struct host_raw *raw; /* parallel to m->hosts */
	char ifname[VW_IFNAME_MAX + 1];
	uint16_t port;
	char root[VW_IFNAME_MAX + 1];
	struct wire_ref *refs;
	uint32_t n_refs, refs_cap;
	struct from_ref *froms;
	uint32_t n_froms, froms_cap;
};

static int __attribute__((format(printf, 5, 6)))
fail_at(struct mparser *p, uint32_t line, enum msect sect, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vw_ini_verror(p->err, p->errlen, p->file, line, sect == MS_NONE ? NULL : sect_names[sect],
		      key, fmt, ap);
	va_end(ap);
	return -1;
}

#define fail(p, key, ...) fail_at(p, (p)->line, (p)->sect, key, __VA_ARGS__)

static struct mesh_host *cur_host(struct mparser *p)
{
	return &p->m->hosts[p->m->n_hosts - 1];
}

static struct host_raw *cur_raw(struct mparser *p)
{
	return &p->raw[p->m->n_hosts - 1];
}

/* ---- values ---- */

static int u16_value(struct mparser *p, const char *key, const char *val, uint64_t lo, uint64_t hi,
		     uint16_t *out)
{
	char q[VW_QUOTE_MAX + 8];
	uint64_t v = 0;

	if (vw_parse_uint(val, hi, &v) && v >= lo) {
		*out = (uint16_t)v;
		return 0;
	}
	vw_quote(q, sizeof(q), val);
	return fail(p, key, "\"%s\" is not a number from %llu to %llu", q, (unsigned long long)lo,
		    (unsigned long long)hi);
}

static int name_value(struct mparser *p, const char *key, const char *val, char out[])
{
	char q[VW_QUOTE_MAX + 8];

	if (vw_ifname_valid(val)) {
		strcpy(out, val);
		return 0;
	}
	vw_quote(q, sizeof(q), val);
	return fail(p, key,
		    "\"%s\" is not a valid interface name (1 to %d of A-Z a-z 0-9 _ = + . -)", q,
		    VW_IFNAME_MAX);
}

/* An IPv4 address with an optional prefix length; cidr 0 when there is none. */
static int ipv4_value(struct mparser *p, const char *key, const char *val, uint8_t out[4],
		      uint8_t *cidr)
{
	struct vw_ipaddr ip;
	char q[VW_QUOTE_MAX + 8];

	if (!vw_prefix_parse(val, &ip, cidr) || ip.family != AF_INET) {
		vw_quote(q, sizeof(q), val);
		return fail(p, key, "\"%s\" is not an IPv4 address like 10.0.0.1", q);
	}
	memcpy(out, ip.bytes, 4);
	if (!strchr(val, '/'))
		*cidr = 0;
	return 0;
}

static uint32_t ipv4_u32(const uint8_t ip[4])
{
	return (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];
}

static void u32_ipv4(uint32_t v, uint8_t ip[4])
{
	ip[0] = (uint8_t)(v >> 24);
	ip[1] = (uint8_t)(v >> 16);
	ip[2] = (uint8_t)(v >> 8);
	ip[3] = (uint8_t)v;
}

static uint32_t host_mask(uint8_t cidr)
{
	return cidr ? UINT32_MAX >> cidr : UINT32_MAX;
}

/* A network hosts are numbered in: host bits clear, room for two hosts at least. */
static int net_value(struct mparser *p, const char *key, const char *val, uint8_t net[4],
		     uint8_t *cidr)
{
	char q[VW_QUOTE_MAX + 8];
	uint32_t v;

	vw_quote(q, sizeof(q), val);
	if (ipv4_value(p, key, val, net, cidr))
		return -1;
	if (!strchr(val, '/') || *cidr < 8 || *cidr > 30)
		return fail(p, key,
			    "\"%s\": expected an IPv4 network from /8 to /30, like 10.0.0.0/24", q);
	v = ipv4_u32(net);
	if (v & host_mask(*cidr)) {
		u32_ipv4(v & ~host_mask(*cidr), net);
		return fail(p, key, "\"%s\" has host bits set: the network is %u.%u.%u.%u/%u", q,
			    net[0], net[1], net[2], net[3], *cidr);
	}
	return 0;
}

static int key_value(struct mparser *p, const char *key, const char *val, uint8_t out[WG_KEY_LEN],
		     bool *given)
{
	/* The value may be a secret: say what is wrong with it, never echo it. */
	if (!key_from_base64(out, val))
		return fail(p, key, "not a key: %s", KEY_BASE64_HELP);
	if (key_is_zero(out))
		return fail(p, key, "is all zeros");
	*given = true;
	return 0;
}

/* ---- [Network] ---- */

static int k_tunnel(struct mparser *p, const char *key, char *val)
{
	return net_value(p, key, val, p->m->tunnel_net, &p->m->tunnel_cidr);
}

static int k_bridge(struct mparser *p, const char *key, char *val)
{
	p->m->has_bridge_net = true;
	return net_value(p, key, val, p->m->bridge_net, &p->m->bridge_cidr);
}

static int k_bridge_name(struct mparser *p, const char *key, char *val)
{
	return name_value(p, key, val, p->m->bridge_name);
}

static int k_net_ifname(struct mparser *p, const char *key, char *val)
{
	return name_value(p, key, val, p->ifname);
}

static int k_net_port(struct mparser *p, const char *key, char *val)
{
	return u16_value(p, key, val, 1, 65535, &p->port);
}

static int k_mtu(struct mparser *p, const char *key, char *val)
{
	/* 576: what vwired's config takes, every IPv4 host takes datagrams that large. */
	return u16_value(p, key, val, 576, 65535, &p->m->mtu);
}

/* 802.1D's ranges, in seconds; the rule between the three is checked once all are known. */
static int k_hello(struct mparser *p, const char *key, char *val)
{
	return u16_value(p, key, val, 1, 10, &p->m->hello_time);
}

static int k_max_age(struct mparser *p, const char *key, char *val)
{
	return u16_value(p, key, val, 6, 40, &p->m->max_age);
}

static int k_fwd(struct mparser *p, const char *key, char *val)
{
	return u16_value(p, key, val, 4, 30, &p->m->forward_delay);
}

static int k_root(struct mparser *p, const char *key, char *val)
{
	return name_value(p, key, val, p->root);
}

static int k_keepalive(struct mparser *p, const char *key, char *val)
{
	return u16_value(p, key, val, 1, 65535, &p->m->keepalive);
}

static int k_protocol(struct mparser *p, const char *key, char *val)
{
	char q[VW_QUOTE_MAX + 8];

	if (!strcasecmp(val, "rstp") || !strcasecmp(val, "stp")) {
		p->m->stp = !strcasecmp(val, "stp");
		return 0;
	}
	vw_quote(q, sizeof(q), val);
	return fail(p, key, "\"%s\" is neither rstp nor stp", q);
}

/* ---- [Host] ---- */

static int k_name(struct mparser *p, const char *key, char *val)
{
	return name_value(p, key, val, cur_host(p)->name);
}

static int k_endpoint(struct mparser *p, const char *key, char *val)
{
	char why[VW_QUOTE_MAX + 64];

	if (!vw_endpoint_check(val, MESH_ENDPOINT_MAX, why, sizeof(why)))
		return fail(p, key, "%s", why);
	strcpy(cur_host(p)->endpoint, val);
	return 0;
}

static int k_nat(struct mparser *p, const char *key, char *val)
{
	char q[VW_QUOTE_MAX + 8];
	int b = vw_parse_bool(val);

	if (b < 0) {
		vw_quote(q, sizeof(q), val);
		return fail(p, key, "\"%s\" is neither yes nor no", q);
	}
	cur_host(p)->nat = b;
	return 0;
}

static int k_kind(struct mparser *p, const char *key, char *val)
{
	char q[VW_QUOTE_MAX + 8];

	if (!strcasecmp(val, "vwired")) {
		cur_host(p)->kind = MESH_VWIRED;
		return 0;
	}
	if (!strcasecmp(val, "kernel")) {
		cur_host(p)->kind = MESH_KERNEL;
		return 0;
	}
	vw_quote(q, sizeof(q), val);
	return fail(p, key, "\"%s\" is neither vwired nor kernel", q);
}

static int k_address(struct mparser *p, const char *key, char *val)
{
	return ipv4_value(p, key, val, cur_host(p)->tunnel, &cur_raw(p)->tunnel_cidr);
}

static int k_bridge_address(struct mparser *p, const char *key, char *val)
{
	return ipv4_value(p, key, val, cur_host(p)->bridge, &cur_raw(p)->bridge_cidr);
}

static int k_host_port(struct mparser *p, const char *key, char *val)
{
	return u16_value(p, key, val, 1, 65535, &cur_host(p)->listen_port);
}

static int k_host_ifname(struct mparser *p, const char *key, char *val)
{
	return name_value(p, key, val, cur_host(p)->ifname);
}

static int k_private(struct mparser *p, const char *key, char *val)
{
	return key_value(p, key, val, cur_host(p)->private_key, &cur_host(p)->has_private_key);
}

static int k_public(struct mparser *p, const char *key, char *val)
{
	return key_value(p, key, val, cur_host(p)->public_key, &cur_host(p)->has_public_key);
}

/* A host named in a value (resolved once the whole file is read): the name's form only. */
static int host_name_value(struct mparser *p, const char *key, const char *name)
{
	char q[VW_QUOTE_MAX + 8];

	if (vw_ifname_valid(name))
		return 0;
	vw_quote(q, sizeof(q), name);
	return fail(p, key, "\"%s\" is not a host name", q);
}

/* Room for one more element in the list *list of *n (capacity *cap), doubling it. */
static int grow(struct mparser *p, const char *key, void **list, uint32_t n, uint32_t *cap,
		size_t size)
{
	uint32_t want = *cap ? *cap * 2 : 16;
	void *bigger;

	if (n < *cap)
		return 0;
	bigger = realloc(*list, (size_t)want * size);
	if (!bigger)
		return fail(p, key, "out of memory");
	*list = bigger;
	*cap = want;
	return 0;
}

static int add_ref(struct mparser *p, const char *key, const char *name)
{
	struct wire_ref *r;

	if (host_name_value(p, key, name) ||
	    grow(p, key, (void **)&p->refs, p->n_refs, &p->refs_cap, sizeof(*r)))
		return -1;
	r = &p->refs[p->n_refs++];
	r->host = p->m->n_hosts - 1;
	r->line = p->line;
	strcpy(r->name, name);
	return 0;
}

/* "Wires = rho, bob": names of hosts, resolved once the whole file is read. */
static int k_wires(struct mparser *p, const char *key, char *val)
{
	uint32_t n = 0;

	for (char *next, *it = val; it; it = next) {
		next = strchr(it, ',');
		if (next)
			*next++ = '\0';
		it = vw_trim(it);
		if (!*it)
			return fail(p, key, "empty item in the comma-separated list");
		if (++n >= MESH_MAX_HOSTS)
			return fail(p, key, "more names than hosts (at most %u)", MESH_MAX_HOSTS);
		if (add_ref(p, key, it))
			return -1;
	}
	return 0;
}

/* "EndpointFrom = bob 192.168.1.7:51820": bob reaches this host at that address (a LAN). */
static int k_endpoint_from(struct mparser *p, const char *key, char *val)
{
	char why[VW_QUOTE_MAX + 64];
	char *ep = val + strcspn(val, " \t");
	struct from_ref *r;

	if (*ep)
		*ep++ = '\0';
	ep = vw_trim(ep);
	if (!*ep)
		return fail(p, key,
			    "expected a host's name and the address:port it uses for this one");
	if (host_name_value(p, key, val))
		return -1;
	if (!vw_endpoint_check(ep, MESH_ENDPOINT_MAX, why, sizeof(why)))
		return fail(p, key, "%s", why);
	if (grow(p, key, (void **)&p->froms, p->n_froms, &p->froms_cap, sizeof(*r)))
		return -1;
	r = &p->froms[p->n_froms++];
	r->host = p->m->n_hosts - 1;
	r->line = p->line;
	strcpy(r->name, val);
	strcpy(r->endpoint, ep);
	return 0;
}

/* A bridge priority, or auto: vwired picks it from its wires' round trips. */
static int priority_value(struct mparser *p, const char *key, char *val, uint16_t *prio,
			  bool *is_auto)
{
	*is_auto = !strcasecmp(val, "auto");
	return *is_auto ? 0 : u16_value(p, key, val, 0, 65535, prio);
}

static int k_priority(struct mparser *p, const char *key, char *val)
{
	return priority_value(p, key, val, &cur_host(p)->priority, &cur_host(p)->priority_auto);
}

static int k_net_priority(struct mparser *p, const char *key, char *val)
{
	return priority_value(p, key, val, &p->m->priority, &p->m->priority_auto);
}

struct key_def {
	enum msect sect;
	unsigned int slot;
	const char *name;
	int (*handle)(struct mparser *p, const char *key, char *val);
	bool repeats; /* may be given more than once in a section */
};

static const struct key_def keys[] = {
	{MS_NETWORK, NK_TUNNEL, "TunnelPrefix", k_tunnel},
	{MS_NETWORK, NK_BRIDGE, "BridgePrefix", k_bridge},
	{MS_NETWORK, NK_BRIDGE_NAME, "BridgeName", k_bridge_name},
	{MS_NETWORK, NK_IFNAME, "Interface", k_net_ifname},
	{MS_NETWORK, NK_PORT, "ListenPort", k_net_port},
	{MS_NETWORK, NK_MTU, "MTU", k_mtu},
	{MS_NETWORK, NK_HELLO, "HelloTime", k_hello},
	{MS_NETWORK, NK_MAX_AGE, "MaxAge", k_max_age},
	{MS_NETWORK, NK_FWD, "ForwardDelay", k_fwd},
	{MS_NETWORK, NK_ROOT, "Root", k_root},
	{MS_NETWORK, NK_KEEPALIVE, "PersistentKeepalive", k_keepalive},
	{MS_NETWORK, NK_PROTOCOL, "Protocol", k_protocol},
	{MS_NETWORK, NK_PRIORITY, "Priority", k_net_priority},
	{MS_HOST, HK_NAME, "Name", k_name},
	{MS_HOST, HK_ENDPOINT, "Endpoint", k_endpoint},
	{MS_HOST, HK_NAT, "BehindNAT", k_nat},
	{MS_HOST, HK_KIND, "Kind", k_kind},
	{MS_HOST, HK_ADDRESS, "Address", k_address},
	{MS_HOST, HK_BRIDGE_ADDRESS, "BridgeAddress", k_bridge_address},
	{MS_HOST, HK_PORT, "ListenPort", k_host_port},
	{MS_HOST, HK_IFNAME, "Interface", k_host_ifname},
	{MS_HOST, HK_PRIVATE, "PrivateKey", k_private},
	{MS_HOST, HK_PUBLIC, "PublicKey", k_public},
	{MS_HOST, HK_WIRES, "Wires", k_wires},
	{MS_HOST, HK_PRIORITY, "Priority", k_priority},
	{MS_HOST, HK_ENDPOINT_FROM, "EndpointFrom", k_endpoint_from, true},
};

/* ---- the reader's callbacks ---- */

static int on_section(void *ctx, uint32_t line, char *name)
{
	struct mparser *p = ctx;
	struct mesh *m = p->m;
	char q[VW_QUOTE_MAX + 8];

	p->line = line;
	if (!strcasecmp(name, "Network")) {
		p->sect = MS_NETWORK;
		if (p->network_line)
			return fail(p, NULL, "given twice (first at line %u)", p->network_line);
		p->network_line = line;
		return 0;
	}
	if (strcasecmp(name, "Host")) {
		vw_quote(q, sizeof(q), name);
		return fail_at(p, line, MS_NONE, NULL,
			       "[%s]: unknown section (expected [Network] or [Host])", q);
	}
	p->sect = MS_HOST;
	if (m->n_hosts == MESH_MAX_HOSTS)
		return fail(p, NULL, "too many hosts (at most %u)", MESH_MAX_HOSTS);
	memset(&m->hosts[m->n_hosts], 0, sizeof(m->hosts[0]));
	memset(&p->raw[m->n_hosts], 0, sizeof(p->raw[0]));
	m->hosts[m->n_hosts].line = line;
	m->n_hosts++;
	return 0;
}

static int on_key(void *ctx, uint32_t line, char *key, char *val)
{
	struct mparser *p = ctx;
	char q[VW_QUOTE_MAX + 8];
	uint32_t *seen;

	p->line = line;
	vw_quote(q, sizeof(q), key);
	if (p->sect == MS_NONE)
		return fail(p, q, "outside of any section: put it under [Network] or [Host]");
	seen = p->sect == MS_NETWORK ? p->net_seen : cur_raw(p)->seen;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key_def *k = &keys[i];

		if (k->sect != p->sect || strcasecmp(key, k->name))
			continue;
		if (seen[k->slot] && !k->repeats)
			return fail(p, k->name, "given twice (first at line %u)", seen[k->slot]);
		seen[k->slot] = line;
		if (!*val)
			return fail(p, k->name, "empty value");
		return k->handle(p, k->name, val);
	}
	return fail(p, q, "unknown key");
}

static int on_error(void *ctx, uint32_t line, bool in_section, const char *what)
{
	struct mparser *p = ctx;

	return fail_at(p, line, in_section ? p->sect : MS_NONE, NULL, "%s", what);
}

/* ---- the whole file ---- */

static int check_network(struct mparser *p)
{
	struct mesh *m = p->m;
	static const char *const timer_keys[] = {"HelloTime", "MaxAge", "ForwardDelay"};
	const uint32_t *lines = &p->net_seen[NK_HELLO];
	uint32_t blame = 0;

	if (!p->network_line)
		return fail_at(p, 0, MS_NETWORK, NULL, "missing");
	if (!p->net_seen[NK_TUNNEL])
		return fail_at(p, p->network_line, MS_NETWORK, "TunnelPrefix",
			       "missing in [Network]");
	/* 802.1D 17.14; of the timers the file set, blame the one written last. */
	if (2 * (m->forward_delay - 1) < m->max_age || m->max_age < 2 * (m->hello_time + 1)) {
		for (unsigned int i = 1; i < 3; i++)
			if (lines[i] > lines[blame])
				blame = i;
		return fail_at(
			p, lines[blame] ? lines[blame] : p->network_line, MS_NETWORK,
			timer_keys[blame],
			"802.1D needs 2 x (ForwardDelay - 1) >= MaxAge >= 2 x (HelloTime + 1): "
			"HelloTime %u, MaxAge %u and ForwardDelay %u do not",
			m->hello_time, m->max_age, m->forward_delay);
	}
	if (m->has_bridge_net) {
		uint8_t c = m->tunnel_cidr < m->bridge_cidr ? m->tunnel_cidr : m->bridge_cidr;

		if (!((ipv4_u32(m->tunnel_net) ^ ipv4_u32(m->bridge_net)) & ~host_mask(c)))
			return fail_at(
				p, p->net_seen[NK_BRIDGE], MS_NETWORK, "BridgePrefix",
				"overlaps TunnelPrefix: the bridge needs a network of its own");
	}
	return 0;
}

static uint32_t host_key_line(struct mparser *p, uint32_t i, unsigned int k)
{
	return p->raw[i].seen[k] ? p->raw[i].seen[k] : p->m->hosts[i].line;
}

static int find_host(const struct mesh *m, const char *name)
{
	for (uint32_t i = 0; i < m->n_hosts; i++)
		if (!strcmp(m->hosts[i].name, name))
			return (int)i;
	return -1;
}

/* Defaults from [Network], and the rules one host or a pair of hosts must keep. */
static int check_hosts(struct mparser *p)
{
	struct mesh *m = p->m;
	int root = -1;

	if (m->n_hosts < 2)
		return fail_at(p, 0, MS_HOST, NULL, "a network needs two at least, the file has %u",
			       m->n_hosts);
	if (p->root[0]) {
		root = find_host(m, p->root);
		if (root < 0)
			return fail_at(p, p->net_seen[NK_ROOT], MS_NETWORK, "Root",
				       "\"%s\" is no [Host] of this file", p->root);
	}
	for (uint32_t i = 0; i < m->n_hosts; i++) {
		struct mesh_host *h = &m->hosts[i];
		const uint32_t *seen = p->raw[i].seen;

		if (!h->name[0])
			return fail_at(p, h->line, MS_HOST, "Name", "missing in this [Host]");
		if (h->nat && h->endpoint[0])
			return fail_at(p, seen[HK_NAT], MS_HOST, "BehindNAT",
				       "%s has an Endpoint: a host behind NAT has none (the others "
				       "cannot dial it)",
				       h->name);
		if (!h->nat && !h->endpoint[0])
			return fail_at(
				p, h->line, MS_HOST, "Endpoint",
				"missing for %s: give its public host:port, or BehindNAT = yes",
				h->name);
		if (!h->ifname[0])
			strcpy(h->ifname, p->ifname);
		if (!h->listen_port && h->endpoint[0]) {
			struct vw_endpoint_text t;
			uint64_t port = 0;

			/* What the others dial is where it listens, unless ListenPort says. */
			if (vw_endpoint_split(h->endpoint, &t) &&
			    vw_parse_uint(t.port, 65535, &port))
				h->listen_port = (uint16_t)port;
		}
		if (!h->listen_port)
			h->listen_port = p->port;
		if (!seen[HK_PRIORITY]) {
			h->priority = (int)i == root ? MESH_ROOT_PRIORITY : m->priority;
			h->priority_auto = (int)i != root && m->priority_auto;
		}
		if (!strcmp(h->ifname, m->bridge_name))
			return fail_at(p, host_key_line(p, i, HK_IFNAME), MS_HOST, "Interface",
				       "%s's interface \"%s\" has the bridge's name", h->name,
				       h->ifname);
	}
	for (uint32_t i = 0; i < m->n_hosts; i++) {
		const struct mesh_host *h = &m->hosts[i];
		uint32_t line = p->raw[i].seen[HK_NAME];

		/* Each host names its wire to h after h: no device of theirs may have that name. */
		if (!strcmp(h->name, m->bridge_name))
			return fail_at(p, line, MS_HOST, "Name",
				       "\"%s\" is also the bridge's name, and the other hosts name "
				       "their wire to this host after it",
				       h->name);
		for (uint32_t j = 0; j < m->n_hosts; j++) {
			const struct mesh_host *o = &m->hosts[j];

			if (j < i && !strcmp(h->name, o->name))
				return fail_at(p, line, MS_HOST, "Name",
					       "\"%s\" is also the host at line %u", h->name,
					       o->line);
			if (!strcmp(h->name, o->ifname))
				return fail_at(p, line, MS_HOST, "Name",
					       "\"%s\" is also %s's WireGuard interface, and the "
					       "other hosts name their wire to this host after it",
					       h->name, o->name);
			if (j < i && h->endpoint[0] && !strcmp(h->endpoint, o->endpoint))
				return fail_at(p, p->raw[i].seen[HK_ENDPOINT], MS_HOST, "Endpoint",
					       "%s is also %s's Endpoint", h->endpoint, o->name);
		}
	}
	return 0;
}

/*
 * Addresses given are checked; the hosts without one take the network's addresses
 * in file order, from the first, skipping those given.
 */
static int assign_addresses(struct mparser *p, bool bridge)
{
	struct mesh *m = p->m;
	const char *key = bridge ? "BridgeAddress" : "Address";
	const char *net_key = bridge ? "BridgePrefix" : "TunnelPrefix";
	unsigned int k = bridge ? HK_BRIDGE_ADDRESS : HK_ADDRESS;
	uint8_t cidr = bridge ? m->bridge_cidr : m->tunnel_cidr;
	uint32_t net = ipv4_u32(bridge ? m->bridge_net : m->tunnel_net), next = 1;
	uint32_t last = host_mask(cidr) - 1;

	for (uint32_t i = 0; i < m->n_hosts; i++) {
		struct mesh_host *h = &m->hosts[i];
		uint8_t given = bridge ? p->raw[i].bridge_cidr : p->raw[i].tunnel_cidr;
		uint8_t *a = bridge ? h->bridge : h->tunnel;
		uint32_t line = p->raw[i].seen[k], v = ipv4_u32(a);

		if (!line)
			continue;
		if (bridge && !m->has_bridge_net)
			return fail_at(p, line, MS_HOST, key, "needs BridgePrefix in [Network]");
		if ((v & ~host_mask(cidr)) != net || (v & host_mask(cidr)) == 0 ||
		    (v & host_mask(cidr)) == host_mask(cidr))
			return fail_at(p, line, MS_HOST, key,
				       "%u.%u.%u.%u is no host address of %s %u.%u.%u.%u/%u", a[0],
				       a[1], a[2], a[3], net_key, net >> 24, (net >> 16) & 0xff,
				       (net >> 8) & 0xff, net & 0xff, cidr);
		if (given && given != cidr)
			return fail_at(p, line, MS_HOST, key,
				       "/%u is not the prefix length of %s (/%u): leave it out",
				       given, net_key, cidr);
		for (uint32_t j = 0; j < i; j++)
			if (p->raw[j].seen[k] &&
			    !memcmp(a, bridge ? m->hosts[j].bridge : m->hosts[j].tunnel, 4))
				return fail_at(p, line, MS_HOST, key, "%u.%u.%u.%u is also %s's",
					       a[0], a[1], a[2], a[3], m->hosts[j].name);
	}
	if (bridge && !m->has_bridge_net)
		return 0;
	for (uint32_t i = 0; i < m->n_hosts; i++) {
		struct mesh_host *h = &m->hosts[i];
		uint8_t *a = bridge ? h->bridge : h->tunnel;
		bool taken;

		if (p->raw[i].seen[k])
			continue;
		do {
			if (next > last)
				return fail_at(p, h->line, MS_HOST, key,
					       "none left for %s: %s /%u has %u host addresses",
					       h->name, net_key, cidr, last);
			u32_ipv4(net | next++, a);
			taken = false;
			for (uint32_t j = 0; j < m->n_hosts && !taken; j++)
				taken = p->raw[j].seen[k] &&
					!memcmp(a, bridge ? m->hosts[j].bridge : m->hosts[j].tunnel,
						4);
		} while (taken);
	}
	return 0;
}

/* No two hosts with the same key; with all, no host without one either. */
static int check_keys(struct mparser *p, const struct mesh *m, bool all)
{
	for (uint32_t i = 0; i < m->n_hosts; i++) {
		const struct mesh_host *h = &m->hosts[i];

		if (!h->has_public_key) {
			if (all)
				return fail_at(p, h->line, MS_HOST, NULL, "%s has no key", h->name);
			continue;
		}
		for (uint32_t j = 0; j < i; j++)
			if (m->hosts[j].has_public_key &&
			    !memcmp(h->public_key, m->hosts[j].public_key, WG_KEY_LEN))
				return fail_at(p, h->key_line ? h->key_line : h->line, MS_HOST,
					       h->key_line ? "PublicKey" : NULL,
					       "%s has the same key as %s (line %u)", h->name,
					       m->hosts[j].name, m->hosts[j].line);
	}
	return 0;
}

static int check_given_keys(struct mparser *p)
{
	for (uint32_t i = 0; i < p->m->n_hosts; i++) {
		struct mesh_host *h = &p->m->hosts[i];
		uint8_t pub[WG_KEY_LEN];

		h->key_line = p->raw[i].seen[HK_PUBLIC] ? p->raw[i].seen[HK_PUBLIC]
							: p->raw[i].seen[HK_PRIVATE];
		if (!h->has_private_key)
			continue;
		x25519_public(pub, h->private_key);
		if (h->has_public_key && memcmp(pub, h->public_key, WG_KEY_LEN))
			return fail_at(p, p->raw[i].seen[HK_PUBLIC], MS_HOST, "PublicKey",
				       "is not the public key of %s's PrivateKey: give one of them",
				       h->name);
		memcpy(h->public_key, pub, WG_KEY_LEN);
		h->has_public_key = true;
	}
	return check_keys(p, p->m, false);
}

/*
 * A pair is wired when either host names the other in Wires, or when neither has
 * Wires and one can dial the other (not both behind NAT).
 */
static int check_wires(struct mparser *p)
{
	struct mesh *m = p->m;
	uint32_t n = m->n_hosts;

	for (uint32_t r = 0; r < p->n_refs; r++) {
		const struct wire_ref *ref = &p->refs[r];
		const struct mesh_host *h = &m->hosts[ref->host];
		int o = find_host(m, ref->name);

		if (o < 0)
			return fail_at(p, ref->line, MS_HOST, "Wires",
				       "\"%s\" is no [Host] of this file", ref->name);
		if ((uint32_t)o == ref->host)
			return fail_at(p, ref->line, MS_HOST, "Wires",
				       "%s is this host: a wire joins two hosts", ref->name);
		if (h->nat && m->hosts[o].nat)
			return fail_at(p, ref->line, MS_HOST, "Wires",
				       "%s and %s are both behind NAT: neither can dial the other",
				       h->name, ref->name);
		if (m->wired[ref->host * n + (uint32_t)o] & 2)
			return fail_at(p, ref->line, MS_HOST, "Wires", "%s is listed twice",
				       ref->name);
		/* Bit 2: named in this host's own list; bit 1: wired. */
		m->wired[ref->host * n + (uint32_t)o] |= 3;
		m->wired[(uint32_t)o * n + ref->host] |= 1;
	}
	for (uint32_t a = 0; a < n; a++)
		for (uint32_t b = 0; b < n; b++) {
			if (a != b && !p->raw[a].seen[HK_WIRES] && !p->raw[b].seen[HK_WIRES] &&
			    !(m->hosts[a].nat && m->hosts[b].nat))
				m->wired[a * n + b] = 1;
			m->wired[a * n + b] &= 1;
		}
	return 0;
}

/* Each EndpointFrom names another host, once, that has a wire to this one. */
static int check_endpoint_from(struct mparser *p)
{
	struct mesh *m = p->m;

	if (!p->n_froms)
		return 0;
	m->endpoint_from = calloc(p->n_froms, sizeof(*m->endpoint_from));
	if (!m->endpoint_from)
		return fail_at(p, 0, MS_NONE, NULL, "out of memory");
	for (uint32_t r = 0; r < p->n_froms; r++) {
		const struct from_ref *f = &p->froms[r];
		const char *host = m->hosts[f->host].name;
		int o = find_host(m, f->name);
		struct mesh_endpoint_from *e;

		if (o < 0)
			return fail_at(p, f->line, MS_HOST, "EndpointFrom",
				       "\"%s\" is no [Host] of this file", f->name);
		if ((uint32_t)o == f->host)
			return fail_at(p, f->line, MS_HOST, "EndpointFrom",
				       "%s is this host: name the host that uses the address",
				       f->name);
		if (!mesh_wired(m, f->host, (uint32_t)o))
			return fail_at(p, f->line, MS_HOST, "EndpointFrom",
				       "%s has no wire to %s: the address would never be used",
				       f->name, host);
		for (uint32_t q = 0; q < r; q++)
			if (p->froms[q].host == f->host && !strcmp(p->froms[q].name, f->name))
				return fail_at(p, f->line, MS_HOST, "EndpointFrom",
					       "%s given twice (first at line %u)", f->name,
					       p->froms[q].line);
		e = &m->endpoint_from[m->n_endpoint_from++];
		e->host = f->host;
		e->from = (uint32_t)o;
		strcpy(e->endpoint, f->endpoint);
	}
	return 0;
}

const char *mesh_endpoint(const struct mesh *m, uint32_t host, uint32_t from)
{
	for (uint32_t i = 0; i < m->n_endpoint_from; i++)
		if (m->endpoint_from[i].host == host && m->endpoint_from[i].from == from)
			return m->endpoint_from[i].endpoint;
	return m->hosts[host].endpoint;
}

/* Every host has a wire and room for its wires, and the wires join all hosts into one. */
static int check_network_shape(struct mparser *p)
{
	struct mesh *m = p->m;
	uint32_t n = m->n_hosts, head = 0, tail = 1;
	uint32_t *queue = calloc(n, sizeof(*queue));
	bool *reached = calloc(n, sizeof(*reached));
	int ret = -1;

	if (!queue || !reached) {
		fail_at(p, 0, MS_NONE, NULL, "out of memory");
		goto out;
	}
	for (uint32_t a = 0; a < n; a++) {
		uint32_t wires = 0;

		for (uint32_t b = 0; b < n; b++)
			wires += mesh_wired(m, a, b);
		if (!wires) {
			fail_at(p, m->hosts[a].line, MS_HOST, NULL,
				"%s has no wire: name a host in its Wires, or it in another's",
				m->hosts[a].name);
			goto out;
		}
		if (wires > MESH_MAX_WIRES) {
			fail_at(p, host_key_line(p, a, HK_WIRES), MS_HOST,
				p->raw[a].seen[HK_WIRES] ? "Wires" : NULL,
				"%s has %u wires, and a bridge has room for %u", m->hosts[a].name,
				wires, MESH_MAX_WIRES);
			goto out;
		}
	}
	reached[0] = true;
	while (head < tail) {
		uint32_t a = queue[head++];

		for (uint32_t b = 0; b < n; b++)
			if (mesh_wired(m, a, b) && !reached[b]) {
				reached[b] = true;
				queue[tail++] = b;
			}
	}
	for (uint32_t b = 0; b < n; b++)
		if (!reached[b]) {
			fail_at(p, m->hosts[b].line, MS_HOST, NULL,
				"no path of wires joins %s to %s: the wires make two networks",
				m->hosts[b].name, m->hosts[0].name);
			goto out;
		}
	ret = 0;
out:
	free(queue);
	free(reached);
	return ret;
}

static void set_defaults(struct mesh *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->bridge_name, MESH_DEFAULT_BRIDGE);
	m->mtu = MESH_DEFAULT_MTU;
	m->keepalive = MESH_DEFAULT_KEEPALIVE;
	m->hello_time = MESH_DEFAULT_HELLO;
	m->max_age = MESH_DEFAULT_MAX_AGE;
	m->forward_delay = MESH_DEFAULT_FWD_DELAY;
	m->priority = MESH_DEFAULT_PRIORITY;
}

int mesh_parse(const char *text, size_t len, const char *file, struct mesh *m, char *err,
	       size_t errlen)
{
	static const struct vw_ini_ops ops = {on_section, on_key, on_error};
	struct mparser p = {.file = file ? file : "mesh", .err = err, .errlen = errlen, .m = m};
	int ret = -1;

	set_defaults(m);
	strcpy(p.ifname, MESH_DEFAULT_IFNAME);
	p.port = MESH_DEFAULT_PORT;
	if (errlen)
		err[0] = '\0';
	m->hosts = calloc(MESH_MAX_HOSTS, sizeof(*m->hosts));
	p.raw = calloc(MESH_MAX_HOSTS, sizeof(*p.raw));
	if (!m->hosts || !p.raw) {
		fail_at(&p, 0, MS_NONE, NULL, "out of memory");
		goto out;
	}
	if (len > MESH_MAX_FILE_SIZE) {
		fail_at(&p, 0, MS_NONE, NULL, "larger than %u bytes", MESH_MAX_FILE_SIZE);
		goto out;
	}
	if (vw_ini_read(text, len, MESH_MAX_LINE, &ops, &p) || check_network(&p) ||
	    check_hosts(&p) || assign_addresses(&p, false) || assign_addresses(&p, true) ||
	    check_given_keys(&p))
		goto out;
	m->wired = calloc((size_t)m->n_hosts * m->n_hosts, 1);
	if (!m->wired) {
		fail_at(&p, 0, MS_NONE, NULL, "out of memory");
		goto out;
	}
	if (check_wires(&p) || check_network_shape(&p) || check_endpoint_from(&p))
		goto out;
	ret = 0;
out:
	free(p.raw);
	free(p.refs);
	free(p.froms);
	if (ret)
		mesh_free(m);
	return ret;
}

void mesh_free(struct mesh *m)
{
	if (m->hosts)
		crypto_wipe(m->hosts, MESH_MAX_HOSTS * sizeof(*m->hosts));
	free(m->hosts);
	free(m->wired);
	free(m->endpoint_from);
	set_defaults(m);
}

uint32_t mesh_vni(uint32_t a, uint32_t b)
{
	uint32_t lo = a < b ? a : b, hi = a < b ? b : a;

	/* Readable in `ip -d link` and showstp: 1002 is the wire between hosts 1 and 2. */
	return (lo + 1) * 1000 + hi + 1;
}

void mesh_set_private_key(struct mesh_host *h, const uint8_t key[WG_KEY_LEN])
{
	memcpy(h->private_key, key, WG_KEY_LEN);
	x25519_public(h->public_key, h->private_key);
	h->has_private_key = true;
	h->has_public_key = true;
}

int mesh_check_keys(const struct mesh *m, const char *file, char *err, size_t errlen)
{
	struct mparser p = {.file = file ? file : "mesh", .err = err, .errlen = errlen};

	return check_keys(&p, m, true);
}

/* ---- rendering ---- */

static void put_ip(struct vw_sbuf *b, const uint8_t ip[4])
{
	vw_sbuf_printf(b, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

static void put_key(struct vw_sbuf *b, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_LEN_BASE64 + 1];

	key_to_base64(b64, key);
	vw_sbuf_printf(b, "%s = %s\n", name, b64);
	crypto_wipe(b64, sizeof(b64));
}

/* [Interface] and the [Peer]s: the same for vwired and wg-quick but for Name. */
static void render_tunnel(const struct mesh *m, uint32_t i, struct vw_sbuf *b)
{
	const struct mesh_host *h = &m->hosts[i];

	vw_sbuf_printf(b, "[Interface]\n");
	if (h->kind == MESH_VWIRED)
		vw_sbuf_printf(b, "Name = %s\n", h->ifname);
	if (h->has_private_key) {
		put_key(b, "PrivateKey", h->private_key);
	} else {
		char b64[WG_KEY_LEN_BASE64 + 1];

		key_to_base64(b64, h->public_key);
		vw_sbuf_printf(b,
			       "# The mesh file gives only %s's public key, %s:\n"
			       "# put its private key here.\n"
			       "PrivateKey = REPLACE-WITH-THE-PRIVATE-KEY-OF-%s\n",
			       h->name, b64, h->name);
	}
	vw_sbuf_printf(b, "ListenPort = %u\nAddress = ", h->listen_port);
	put_ip(b, h->tunnel);
	vw_sbuf_printf(b, "/%u\nMTU = %u\n", m->tunnel_cidr, m->mtu);
	for (uint32_t j = 0; j < m->n_hosts; j++) {
		const struct mesh_host *o = &m->hosts[j];

		if (!mesh_wired(m, i, j))
			continue;
		vw_sbuf_printf(b, "\n# %s\n[Peer]\n", o->name);
		put_key(b, "PublicKey", o->public_key);
		vw_sbuf_printf(b, "AllowedIPs = ");
		put_ip(b, o->tunnel);
		vw_sbuf_printf(b, "/32\n");
		if (*mesh_endpoint(m, j, i))
			vw_sbuf_printf(b, "Endpoint = %s\n", mesh_endpoint(m, j, i));
		/* Behind NAT: the mapping must stay open for the peer's packets to come in. */
		if (h->nat)
			vw_sbuf_printf(b, "PersistentKeepalive = %u\n", m->keepalive);
	}
}

static void render_vwired_bridge(const struct mesh *m, uint32_t i, struct vw_sbuf *b)
{
	const struct mesh_host *h = &m->hosts[i];

	vw_sbuf_printf(b, "\n[Bridge]\nName = %s\n", m->bridge_name);
	if (m->has_bridge_net) {
		vw_sbuf_printf(b, "Address = ");
		put_ip(b, h->bridge);
		vw_sbuf_printf(b, "/%u\n", m->bridge_cidr);
	}
	vw_sbuf_printf(b, "STP = on\nProtocol = %s\n", m->stp ? "stp" : "rstp");
	if (h->priority_auto)
		vw_sbuf_printf(b, "Priority = auto\n");
	else
		vw_sbuf_printf(b, "Priority = %u\n", h->priority);
	vw_sbuf_printf(b, "HelloTime = %u\nMaxAge = %u\nForwardDelay = %u\n", m->hello_time,
		       m->max_age, m->forward_delay);
	for (uint32_t j = 0; j < m->n_hosts; j++) {
		if (!mesh_wired(m, i, j))
			continue;
		vw_sbuf_printf(b, "\n[Wire]\nName = %s\nRemote = ", m->hosts[j].name);
		put_ip(b, m->hosts[j].tunnel);
		vw_sbuf_printf(b, "\nVNI = %u\n", mesh_vni(i, j));
	}
}

/* As tests/net/fivehost.sh builds a kernel host: the kernel's timers are in 1/100 s. */
static void render_script(const struct mesh *m, uint32_t i, struct vw_sbuf *b)
{
	const struct mesh_host *h = &m->hosts[i];

	vw_sbuf_printf(
		b,
		"#!/bin/sh\n"
		"# %s on the kernel path: a vxlan device per wire, in a bridge with 802.1D\n"
		"# spanning tree. Made by `vwirectl mesh`; run it as root once the tunnel is\n"
		"# up (`wg-quick up` with %s.conf), `sh %s.sh down` to remove it all.\n"
		"set -e\n"
		"if [ \"${1:-up}\" = down ]; then\n"
		"\tip link del %s\n",
		h->name, h->name, h->name, m->bridge_name);
	for (uint32_t j = 0; j < m->n_hosts; j++)
		if (mesh_wired(m, i, j))
			vw_sbuf_printf(b, "\tip link del %s\n", m->hosts[j].name);
	vw_sbuf_printf(
		b,
		"\texit 0\n"
		"fi\n"
		"ip link add %s type bridge stp_state 1 priority %u hello_time %u max_age %u "
		"forward_delay %u\n",
		m->bridge_name, h->priority_auto ? MESH_DEFAULT_PRIORITY : h->priority,
		m->hello_time * 100u, m->max_age * 100u, m->forward_delay * 100u);
	for (uint32_t j = 0; j < m->n_hosts; j++) {
		const char *w = m->hosts[j].name;

		if (!mesh_wired(m, i, j))
			continue;
		/* Not bound to the WireGuard device: bound, the kernel caps the MTU at 1370. */
		vw_sbuf_printf(b, "ip link add %s type vxlan id %u remote ", w, mesh_vni(i, j));
		put_ip(b, m->hosts[j].tunnel);
		vw_sbuf_printf(b, " local ");
		put_ip(b, h->tunnel);
		vw_sbuf_printf(b,
			       " dstport %u nolearning\n"
			       "ip link set %s mtu %u master %s\n"
			       "ip link set %s type bridge_slave cost %u\n"
			       "ip link set %s up\n",
			       MESH_VXLAN_PORT, w, MESH_BRIDGE_MTU, m->bridge_name, w,
			       MESH_WIRE_COST, w);
	}
	if (m->has_bridge_net) {
		vw_sbuf_printf(b, "ip addr add ");
		put_ip(b, h->bridge);
		vw_sbuf_printf(b, "/%u dev %s\n", m->bridge_cidr, m->bridge_name);
	}
	vw_sbuf_printf(b, "ip link set %s up\n", m->bridge_name);
}

size_t mesh_render(const struct mesh *m, uint32_t i, enum mesh_output what, char *buf, size_t size)
{
	const struct mesh_host *h = &m->hosts[i];
	struct vw_sbuf b;

	vw_sbuf_init(&b, buf, size);
	if (what == MESH_SCRIPT) {
		if (h->kind == MESH_KERNEL)
			render_script(m, i, &b);
		return b.len;
	}
	if (h->kind == MESH_VWIRED)
		vw_sbuf_printf(&b,
			       "# %s: `vwired -c %s.conf`. Made by `vwirectl mesh` from the "
			       "network's\n# mesh file: change that and run it again rather than "
			       "editing this.\n",
			       h->name, h->name);
	else
		vw_sbuf_printf(
			&b,
			"# %s's tunnel, for wg-quick: it names the interface after the file, "
			"so install\n# this as /etc/wireguard/%s.conf. Then %s.sh makes the "
			"bridge. Made by `vwirectl mesh`.\n",
			h->name, h->ifname, h->name);
	render_tunnel(m, i, &b);
	if (h->kind == MESH_VWIRED)
		render_vwired_bridge(m, i, &b);
	return b.len;
}
