/* SPDX-License-Identifier: MIT */
/*
 * What a reload changes (reload.h): two parsed configs in, the peers, wires and
 * parameters that differ out. Peers are matched by PublicKey, wires by Name, TAP ports
 * by name. Nothing here touches the running daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/sbuf.h"
#include "crypto/crypto.h"
#include "daemon/reload.h"

static bool prefix_equal(const struct config_prefix *a, const struct config_prefix *b)
{
	size_t len = a->addr.family == AF_INET ? 4 : 16;

	return a->addr.family == b->addr.family && a->cidr == b->cidr &&
	       !memcmp(a->addr.bytes, b->addr.bytes, len);
}

static bool prefixes_equal(const struct config_prefix *a, uint32_t na,
			   const struct config_prefix *b, uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++)
		if (!prefix_equal(&a[i], &b[i]))
			return false;
	return true;
}

/* ---- what only a restart changes ---- */

struct restart_list {
	struct vw_sbuf b;
	int n;
};

static void needs_restart(struct restart_list *r, bool changed, const char *key)
{
	if (changed)
		vw_sbuf_printf(&r->b, "%s%s", r->n++ ? ", " : "", key);
}

static bool port_listed(const struct config_bridge *b, const char *name)
{
	for (uint32_t i = 0; i < b->n_ports; i++)
		if (!strcmp(b->ports[i], name))
			return true;
	return false;
}

/* The same TAPs, in any order (their flags are compared apart: they apply live). */
static bool same_ports(const struct config_bridge *a, const struct config_bridge *b)
{
	if (a->n_ports != b->n_ports)
		return false;
	for (uint32_t i = 0; i < a->n_ports; i++)
		if (!port_listed(b, a->ports[i]))
			return false;
	return true;
}

/*
 * The TUN, the TAPs and their addresses and MTUs are made once, and the packet pool is
 * sized for their queues at start (DESIGN.md, "Reload", says why each stays).
 */
static void check_restart_only(const struct vw_config *o, const struct vw_config *n,
			       struct restart_list *r)
{
	const struct config_interface *oi = &o->iface, *ni = &n->iface;
	const struct config_bridge *ob = &o->bridge, *nb = &n->bridge;

	needs_restart(r, strcmp(oi->name, ni->name), "[Interface] Name");
	needs_restart(r, oi->tun != ni->tun, "[Interface] Tun");
	needs_restart(r, oi->mtu != ni->mtu, "[Interface] MTU");
	needs_restart(
		r, !prefixes_equal(oi->addresses, oi->n_addresses, ni->addresses, ni->n_addresses),
		"[Interface] Address");
	if (o->has_bridge != n->has_bridge) {
		needs_restart(r, true, o->has_bridge ? "[Bridge] removed" : "[Bridge] added");
		return;
	}
	if (!o->has_bridge)
		return;
	needs_restart(r, strcmp(ob->name, nb->name), "[Bridge] Name");
	needs_restart(
		r, !prefixes_equal(ob->addresses, ob->n_addresses, nb->addresses, nb->n_addresses),
		"[Bridge] Address");
	needs_restart(r, ob->mtu != nb->mtu, "[Bridge] MTU");
	needs_restart(r, ob->has_mac != nb->has_mac || memcmp(ob->mac, nb->mac, 6), "[Bridge] MAC");
	needs_restart(r, !same_ports(ob, nb), "[Bridge] Ports");
}

/* ---- [Interface] and [Bridge] parameters ---- */

static uint32_t iface_changes(const struct config_interface *o, const struct config_interface *n)
{
	uint32_t what = 0;

	if (!crypto_equal(o->private_key, n->private_key, sizeof(o->private_key)))
		what |= RELOAD_IFACE_PRIVATE_KEY;
	if (o->listen_port != n->listen_port)
		what |= RELOAD_IFACE_LISTEN_PORT;
	if (o->fwmark != n->fwmark)
		what |= RELOAD_IFACE_FWMARK;
	return what;
}

static bool port_flags_equal(const struct config_bridge *o, const struct config_bridge *n)
{
	for (uint32_t i = 0; i < n->n_ports; i++)
		for (uint32_t j = 0; j < o->n_ports; j++)
			if (!strcmp(n->ports[i], o->ports[j]) &&
			    (n->edge[i] != o->edge[j] || n->bpdu_guard[i] != o->bpdu_guard[j]))
				return false;
	return true;
}

static uint32_t bridge_changes(const struct config_bridge *o, const struct config_bridge *n)
{
	uint32_t what = 0;

	if (o->priority_auto != n->priority_auto ||
	    (!n->priority_auto && o->priority != n->priority))
		what |= RELOAD_BRIDGE_PRIORITY;
	if (o->hello_time != n->hello_time || o->max_age != n->max_age ||
	    o->forward_delay != n->forward_delay)
		what |= RELOAD_BRIDGE_TIMES;
	if (o->protocol != n->protocol || o->stp != n->stp)
		what |= RELOAD_BRIDGE_PROTOCOL;
	if (o->ageing_time != n->ageing_time || o->max_learned != n->max_learned)
		what |= RELOAD_BRIDGE_AGEING;
	if (!port_flags_equal(o, n))
		what |= RELOAD_BRIDGE_PORT_FLAGS;
	if (o->udp_csum != n->udp_csum)
		what |= RELOAD_BRIDGE_UDP_CSUM;
	return what;
}

/* ---- peers, matched by public key through both lists sorted ---- */

struct keyed {
	const uint8_t *key;
	uint32_t idx;
};

static int keyed_cmp(const void *a, const void *b)
{
	return memcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key, WG_KEY_LEN);
}

static struct keyed *sorted_peers(const struct vw_config *c)
{
	struct keyed *k = calloc(c->n_peers ? c->n_peers : 1, sizeof(*k));

	if (!k)
		return NULL;
	for (uint32_t i = 0; i < c->n_peers; i++)
		k[i] = (struct keyed){c->peers[i].public_key, i};
	qsort(k, c->n_peers, sizeof(*k), keyed_cmp);
	return k;
}

static uint32_t peer_changes(const struct config_peer *o, const struct config_peer *n)
{
	uint32_t what = 0;

	if (!prefixes_equal(o->allowed_ips, o->n_allowed_ips, n->allowed_ips, n->n_allowed_ips))
		what |= RELOAD_PEER_ALLOWED_IPS;
	if (strcmp(o->endpoint_str, n->endpoint_str))
		what |= RELOAD_PEER_ENDPOINT;
	if (o->persistent_keepalive != n->persistent_keepalive)
		what |= RELOAD_PEER_KEEPALIVE;
	if (o->has_preshared_key != n->has_preshared_key ||
	    !crypto_equal(o->preshared_key, n->preshared_key, sizeof(o->preshared_key)))
		what |= RELOAD_PEER_PSK;
	return what;
}

static int diff_peers(const struct vw_config *o, const struct vw_config *n, struct reload_diff *d)
{
	struct keyed *ko = sorted_peers(o), *kn = sorted_peers(n);
	uint32_t i = 0, j = 0;
	int rc = -1;

	d->peers_added = calloc(n->n_peers + 1, sizeof(uint32_t));
	d->peers_removed = calloc(o->n_peers + 1, sizeof(uint32_t));
	d->peers_kept = calloc(n->n_peers + 1, sizeof(struct reload_pair));
	if (!ko || !kn || !d->peers_added || !d->peers_removed || !d->peers_kept)
		goto out;
	while (i < o->n_peers || j < n->n_peers) {
		int c = i == o->n_peers ? 1 : j == n->n_peers ? -1 : keyed_cmp(&ko[i], &kn[j]);

		if (c < 0) {
			d->peers_removed[d->n_peers_removed++] = ko[i++].idx;
		} else if (c > 0) {
			d->peers_added[d->n_peers_added++] = kn[j++].idx;
		} else {
			struct reload_pair *p = &d->peers_kept[d->n_peers_kept++];

			*p = (struct reload_pair){ko[i].idx, kn[j].idx, 0};
			p->what = peer_changes(&o->peers[p->old], &n->peers[p->new]);
			d->n_peers_changed += p->what != 0;
			i++;
			j++;
		}
	}
	rc = 0;
out:
	free(ko);
	free(kn);
	return rc;
}

/* ---- wires, matched by name ---- */

static uint32_t wire_changes(const struct config_wire *o, const struct config_wire *n)
{
	uint32_t what = 0;

	if (memcmp(o->remote, n->remote, 4) || o->vni != n->vni || o->port != n->port)
		what |= RELOAD_WIRE_ENDS;
	if (o->cost != n->cost)
		what |= RELOAD_WIRE_COST;
	if (o->priority != n->priority)
		what |= RELOAD_WIRE_PRIORITY;
	return what;
}

static int wire_named(const struct vw_config *c, const char *name)
{
	for (uint32_t i = 0; i < c->n_wires; i++)
		if (!strcmp(c->wires[i].name, name))
			return (int)i;
	return -1;
}

static int diff_wires(const struct vw_config *o, const struct vw_config *n, struct reload_diff *d)
{
	d->wires_added = calloc(n->n_wires + 1, sizeof(uint32_t));
	d->wires_removed = calloc(o->n_wires + 1, sizeof(uint32_t));
	d->wires_kept = calloc(n->n_wires + 1, sizeof(struct reload_pair));
	if (!d->wires_added || !d->wires_removed || !d->wires_kept)
		return -1;
	for (uint32_t i = 0; i < o->n_wires; i++)
		if (wire_named(n, o->wires[i].name) < 0)
			d->wires_removed[d->n_wires_removed++] = i;
	for (uint32_t j = 0; j < n->n_wires; j++) {
		int i = wire_named(o, n->wires[j].name);
		struct reload_pair *p;

		if (i < 0) {
			d->wires_added[d->n_wires_added++] = j;
			continue;
		}
		p = &d->wires_kept[d->n_wires_kept++];
		*p = (struct reload_pair){(uint32_t)i, j, 0};
		p->what = wire_changes(&o->wires[i], &n->wires[j]);
		d->n_wires_changed += p->what != 0;
	}
	return 0;
}

int reload_diff(const struct vw_config *old, const struct vw_config *new, struct reload_diff *d,
		char *err, size_t errlen)
{
	char keys[512];
	struct restart_list r = {.n = 0};

	memset(d, 0, sizeof(*d));
	vw_sbuf_init(&r.b, keys, sizeof(keys));
	check_restart_only(old, new, &r);
	if (r.n) {
		snprintf(err, errlen, "%s %s only at a restart of vwired; nothing was changed",
			 keys, r.n == 1 ? "changes" : "change");
		return -1;
	}
	d->iface = iface_changes(&old->iface, &new->iface);
	if (old->has_bridge)
		d->bridge = bridge_changes(&old->bridge, &new->bridge);
	if (diff_peers(old, new, d) || diff_wires(old, new, d)) {
		reload_diff_free(d);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void reload_diff_free(struct reload_diff *d)
{
	free(d->peers_added);
	free(d->peers_removed);
	free(d->peers_kept);
	free(d->wires_added);
	free(d->wires_removed);
	free(d->wires_kept);
	memset(d, 0, sizeof(*d));
}

bool reload_diff_empty(const struct reload_diff *d)
{
	return !d->iface && !d->bridge && !d->n_peers_added && !d->n_peers_removed &&
	       !d->n_peers_changed && !d->n_wires_added && !d->n_wires_removed &&
	       !d->n_wires_changed;
}

static void flag_names(struct vw_sbuf *b, const char *what, uint32_t bits, const char *const *names,
		       uint32_t n)
{
	int k = 0;

	if (!bits)
		return;
	vw_sbuf_printf(b, "; %s: ", what);
	for (uint32_t i = 0; i < n; i++)
		if (bits & (1u << i))
			vw_sbuf_printf(b, "%s%s", k++ ? ", " : "", names[i]);
}

size_t reload_summary(const struct reload_diff *d, char *buf, size_t len)
{
	static const char *const iface[] = {"private key", "listen port", "fwmark"};
	static const char *const bridge[] = {"priority", "times",      "protocol",
					     "ageing",	 "port flags", "UDP checksum"};
	struct vw_sbuf b;

	vw_sbuf_init(&b, buf, len);
	vw_sbuf_printf(&b,
		       "peers: %u added, %u removed, %u changed; wires: %u added, %u removed, %u "
		       "changed",
		       d->n_peers_added, d->n_peers_removed, d->n_peers_changed, d->n_wires_added,
		       d->n_wires_removed, d->n_wires_changed);
	flag_names(&b, "bridge", d->bridge, bridge, 6);
	flag_names(&b, "interface", d->iface, iface, 3);
	return b.len;
}
