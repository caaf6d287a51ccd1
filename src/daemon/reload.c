/* SPDX-License-Identifier: MIT */
/*
 * A reload applied (reload.h, DESIGN.md "Reload"). The file is read, parsed and its
 * endpoint names resolved before the lock is taken; under the lock, as worker 0, the
 * diff is made and everything that can fail is tried or allocated first (the listen
 * port, fwmark, the new wire tables), so a refusal leaves the running state as it was.
 * Then only what changed is touched: an unchanged peer keeps its sessions, endpoint and
 * counters, an unchanged wire its port, tree state and liveness.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "daemon/notify.h"
#include "daemon/reload.h"
#include "daemon/vwired.h"
#include "tunnel/allowedips.h"

/* A reload in progress: the new config and what is made ready before anything changes. */
struct reload {
	struct vwired *d;
	struct vwired_shared *sh;
	const char *path; /* the file read, for messages */
	struct vw_config cfg;
	struct reload_diff diff;
	struct vw_wire *wires;		     /* the new wire table, in the new config's order */
	bool *kept;			     /* per new wire: it brings its state along */
	uint32_t peers_added, peers_removed; /* as the device saw it */
	struct vx vx;
	bool vx_ready;
	uint64_t now;
	char *msg;
	size_t msglen;
};

/* Names were resolved once at start; a reload resolves them again, before the lock. */
static int resolve_endpoints(struct reload *r)
{
	for (uint32_t i = 0; i < r->cfg.n_peers; i++) {
		struct config_peer *cp = &r->cfg.peers[i];

		if (!cp->endpoint_str[0] || cp->endpoint.sa.sa_family != AF_UNSPEC)
			continue;
		if (vwired_resolve_endpoint(cp->endpoint_str, &cp->endpoint)) {
			snprintf(r->msg, r->msglen, "%s:%u: [Peer] Endpoint: cannot resolve '%s'",
				 r->path, cp->line, cp->endpoint_str);
			return -1;
		}
	}
	return 0;
}

/*
 * The running config's keys were wiped once the device had them: the diff compares the
 * new file's keys with the device's (so a `wg set` since is undone, as wg syncconf does).
 */
static void running_keys(struct vwired *d, bool put)
{
	struct vw_config *c = &d->cfg;

	if (put)
		memcpy(c->iface.private_key, d->sh.wg.static_identity.static_private, WG_KEY_LEN);
	else
		crypto_wipe(c->iface.private_key, WG_KEY_LEN);
	for (uint32_t i = 0; i < c->n_peers; i++) {
		struct config_peer *cp = &c->peers[i];
		struct wg_peer *peer = wg_device_find_peer(&d->sh.wg, cp->public_key);
		struct wg_peer_info info;

		crypto_wipe(cp->preshared_key, WG_KEY_LEN);
		if (!put || !peer)
			continue;
		wg_peer_get_info(peer, &info);
		memcpy(cp->preshared_key, info.preshared_key, WG_KEY_LEN);
		crypto_wipe(&info, sizeof(info));
	}
}

/* ---- what can fail, before anything changes ---- */

static int set_socket(struct reload *r)
{
	const struct config_interface *ni = &r->cfg.iface;
	uint32_t what = r->diff.iface;
	int rc;

	if ((what & RELOAD_IFACE_LISTEN_PORT) &&
	    (rc = vwired_set_listen_port(r->d, r->sh, ni->listen_port)) < 0) {
		snprintf(r->msg, r->msglen,
			 "[Interface] ListenPort: cannot listen on UDP port %u: %s",
			 ni->listen_port, strerror(-rc));
		return -1;
	}
	if ((what & RELOAD_IFACE_FWMARK) && (rc = vwired_set_fwmark(r->d, r->sh, ni->fwmark)) < 0) {
		snprintf(r->msg, r->msglen, "[Interface] FwMark: cannot set 0x%x: %s", ni->fwmark,
			 strerror(-rc));
		/* The one change made so far goes back: a refusal changes nothing. */
		if (what & RELOAD_IFACE_LISTEN_PORT)
			vwired_set_listen_port(r->d, r->sh, r->d->cfg.iface.listen_port);
		return -1;
	}
	return 0;
}

/* The new wire table and VXLAN table, empty of state yet: made whole or not at all. */
static int prepare_wires(struct reload *r)
{
	struct vx_config vc;
	uint32_t n = r->cfg.n_wires;

	if (!r->sh->has_bridge)
		return 0;
	vc = r->sh->vx.cfg;
	vc.max_wires = n ? n : 1;
	vc.no_udp_csum = !r->cfg.bridge.udp_csum;
	r->wires = calloc(n ? n : 1, sizeof(*r->wires));
	r->kept = calloc(n ? n : 1, sizeof(*r->kept));
	if (!r->wires || !r->kept || !vx_init(&r->vx, &vc)) {
		snprintf(r->msg, r->msglen, "out of memory for the wire tables");
		return -1;
	}
	r->vx_ready = true;
	for (uint32_t i = 0; i < n; i++) {
		const struct config_wire *cw = &r->cfg.wires[i];

		if (vx_wire_add(&r->vx, cw->remote, cw->port, cw->vni) != (int)i) {
			snprintf(r->msg, r->msglen, "%s:%u: [Wire] %s: cannot add VXLAN wire",
				 r->path, cw->line, cw->name);
			return -1;
		}
	}
	/* Every added wire takes a port: there must be enough free ones. */
	if (r->sh->br.nports - r->diff.n_wires_removed + r->diff.n_wires_added > BR_MAX_PORTS) {
		snprintf(r->msg, r->msglen, "[Wire]: more than %u bridge ports", BR_MAX_PORTS - 1);
		return -1;
	}
	return 0;
}

/* ---- the bridge: its parameters, and the ports of wires that go ---- */

static void flush_bridge(struct reload *r, struct pkt_vec *out)
{
	vwired_bridge_output(&r->d->workers[0], r->sh, out, r->now);
}

static void apply_port_flags(struct reload *r, struct pkt_vec *out)
{
	const struct config_bridge *nb = &r->cfg.bridge;

	for (uint32_t i = 0; i < nb->n_ports; i++) {
		int port = br_port_by_name(&r->sh->br, nb->ports[i]);

		if (port > 0)
			br_set_port_guards(&r->sh->br, (uint32_t)port, nb->bpdu_guard[i],
					   nb->edge[i], r->now, out);
		flush_bridge(r, out);
	}
}

static void apply_bridge(struct reload *r)
{
	const struct config_bridge *nb = &r->cfg.bridge;
	struct bridge *br = &r->sh->br;
	uint32_t what = r->diff.bridge;
	struct pkt_vec out;

	pkt_vec_init(&out);
	if (what & RELOAD_BRIDGE_PROTOCOL) {
		br_set_protocol(br, nb->protocol, nb->stp, r->now, &out);
		flush_bridge(r, &out);
	}
	if (what & RELOAD_BRIDGE_PRIORITY) {
		/* To auto: from the leaf's priority, as at start, until the round trips say. */
		r->sh->priority = nb->priority_auto ? WC_PRIORITY_LEAF : nb->priority;
		wc_prio_init(&r->sh->prio, r->now);
		br_set_priority(br, r->sh->priority, r->now, &out);
		r->sh->rtt_dirty = true;
		flush_bridge(r, &out);
	}
	if (what & RELOAD_BRIDGE_TIMES) {
		br_set_times(br, nb->hello_time * NSEC_PER_SEC, nb->max_age * NSEC_PER_SEC,
			     nb->forward_delay * NSEC_PER_SEC, r->now, &out);
		flush_bridge(r, &out);
	}
	if (what & RELOAD_BRIDGE_AGEING)
		br_set_ageing(br, (uint64_t)nb->ageing_time * NSEC_PER_SEC, nb->max_learned);
	if (what & RELOAD_BRIDGE_PORT_FLAGS)
		apply_port_flags(r, &out);
}

/* A wire's port leaves the bridge (the wire removed, or its ends changed). */
static void remove_wire_port(struct reload *r, uint32_t old)
{
	uint32_t port = r->sh->wires[old].port;
	struct pkt_vec out;

	pkt_vec_init(&out);
	br_remove_port(&r->sh->br, port, r->now, &out);
	r->sh->ports[port] = (struct vw_port){.kind = VW_PORT_NONE};
	flush_bridge(r, &out);
}

static void apply_wire_ports(struct reload *r)
{
	const struct reload_diff *df = &r->diff;
	struct pkt_vec out;

	pkt_vec_init(&out);
	for (uint32_t k = 0; k < df->n_wires_removed; k++)
		remove_wire_port(r, df->wires_removed[k]);
	for (uint32_t k = 0; k < df->n_wires_kept; k++) {
		const struct reload_pair *p = &df->wires_kept[k];
		const struct config_wire *cw = &r->cfg.wires[p->new];
		uint32_t port = r->sh->wires[p->old].port;

		if (p->what & RELOAD_WIRE_ENDS) {
			remove_wire_port(r, p->old);
			continue;
		}
		if (p->what & RELOAD_WIRE_COST)
			br_set_port_cost(&r->sh->br, port,
					 vwired_wire_cost(cw, &r->sh->wires[p->old]), r->now, &out);
		if (p->what & RELOAD_WIRE_PRIORITY)
			br_set_port_priority(&r->sh->br, port, cw->priority >> 2, r->now, &out);
		flush_bridge(r, &out);
	}
}

/* ---- peers ---- */

static void set_allowed_ips(struct wg_peer *peer, const struct config_peer *cp)
{
	wg_peer_clear_allowed_ips(peer);
	for (uint32_t i = 0; i < cp->n_allowed_ips; i++) {
		const struct config_prefix *a = &cp->allowed_ips[i];
		int rc = wg_peer_add_allowed_ip(peer, a->addr.family, a->addr.bytes, a->cidr);

		if (rc)
			vw_err("reload: [Peer] line %u: allowed IP: %s", cp->line, strerror(-rc));
	}
}

static void change_peer(struct reload *r, const struct config_peer *cp, uint32_t what)
{
	struct wg_peer *peer = wg_device_find_peer(&r->sh->wg, cp->public_key);

	/* Gone since the last load (`wg set ... remove`): the file brings it back. */
	if (!peer) {
		if (!vwired_apply_peer(r->d, cp, r->now))
			r->peers_added++;
		return;
	}
	if (what & RELOAD_PEER_ALLOWED_IPS)
		set_allowed_ips(peer, cp);
	/* As with wg, an Endpoint taken out leaves the one in use. */
	if ((what & RELOAD_PEER_ENDPOINT) && cp->endpoint_str[0])
		wg_peer_set_endpoint(peer, &cp->endpoint);
	if (what & RELOAD_PEER_KEEPALIVE)
		wg_peer_set_persistent_keepalive(peer, cp->persistent_keepalive, r->now);
	if (what & RELOAD_PEER_PSK)
		wg_peer_set_preshared_key(peer, cp->has_preshared_key ? cp->preshared_key : NULL);
}

static bool in_new_config(const struct reload *r, const uint8_t *key)
{
	for (uint32_t i = 0; i < r->diff.n_peers_kept; i++)
		if (!memcmp(r->cfg.peers[r->diff.peers_kept[i].new].public_key, key, WG_KEY_LEN))
			return true;
	for (uint32_t i = 0; i < r->diff.n_peers_added; i++)
		if (!memcmp(r->cfg.peers[r->diff.peers_added[i]].public_key, key, WG_KEY_LEN))
			return true;
	return false;
}

/* Peers the file never had (`wg set` added them) go as well, as with wg syncconf. */
static uint32_t remove_strangers(struct reload *r)
{
	struct wg_peer *peer = wg_device_first_peer(&r->sh->wg), *next;
	uint32_t n = 0;

	for (; peer; peer = next) {
		next = wg_device_next_peer(peer);
		if (!in_new_config(r, wg_peer_public_key(peer))) {
			wg_device_remove_peer(&r->sh->wg, peer);
			n++;
		}
	}
	return n;
}

static void apply_peers(struct reload *r)
{
	const struct reload_diff *df = &r->diff;

	/* Removed first: an allowed IP may move from a removed peer to a new one. */
	r->peers_removed = remove_strangers(r);
	for (uint32_t k = 0; k < df->n_peers_kept; k++)
		change_peer(r, &r->cfg.peers[df->peers_kept[k].new], df->peers_kept[k].what);
	for (uint32_t k = 0; k < df->n_peers_added; k++)
		if (!vwired_apply_peer(r->d, &r->cfg.peers[df->peers_added[k]], r->now))
			r->peers_added++;
	/* The summary says what the device saw: `wg set` may have been there first. */
	r->diff.n_peers_added = r->peers_added;
	r->diff.n_peers_removed = r->peers_removed;
}

/* ---- the new wire table ---- */

static void add_wire_port(struct reload *r, uint32_t i)
{
	const struct config_wire *cw = &r->cfg.wires[i];
	struct vw_wire *w = &r->wires[i];
	struct br_port_config pc;
	int port;

	br_port_config_default(&pc, cw->name);
	pc.path_cost = vwired_wire_cost(cw, w);
	pc.priority = cw->priority >> 2;
	/* prepare_wires counted the free numbers. */
	port = br_add_port(&r->sh->br, &pc);
	w->port = port > 0 ? (uint32_t)port : 0;
	memcpy(w->remote, cw->remote, 4);
	inet_ntop(AF_INET, cw->remote, w->remote_str, sizeof(w->remote_str));
	if (port <= 0)
		vw_err("reload: [Wire] %s: cannot add bridge port: %s", cw->name, strerror(-port));
}

/*
 * Kept wires bring their state along (port, carrier, liveness, counters); new ones and
 * those whose ends changed get a port. Then the tables are swapped at once.
 */
static void swap_wires(struct reload *r)
{
	struct vwired_shared *sh = r->sh;
	const struct reload_diff *df = &r->diff;

	for (uint32_t k = 0; k < df->n_wires_kept; k++) {
		const struct reload_pair *p = &df->wires_kept[k];

		if (p->what & RELOAD_WIRE_ENDS)
			continue;
		r->wires[p->new] = sh->wires[p->old];
		vx_wire_carry(&r->vx, p->new, &sh->vx, p->old);
		r->kept[p->new] = true;
	}
	for (uint32_t i = 0; i < r->cfg.n_wires; i++) {
		struct vw_wire *w = &r->wires[i];

		if (!r->kept[i])
			add_wire_port(r, i);
		if (w->port) {
			sh->ports[w->port].kind = VW_PORT_WIRE;
			sh->ports[w->port].wire = i;
		}
	}
	r->vx.stats = sh->vx.stats;
	vx_destroy(&sh->vx);
	sh->vx = r->vx;
	r->vx_ready = false;
	free(sh->wires);
	sh->wires = r->wires;
	sh->n_wires = r->cfg.n_wires;
	r->wires = NULL;
	vwired_wires_find_peers(sh);
}

/* ---- the whole ---- */

static void apply(struct reload *r)
{
	struct vwired *d = r->d;
	struct vwired_worker *w0 = &d->workers[0];

	if (r->diff.iface & RELOAD_IFACE_PRIVATE_KEY) {
		wg_device_set_private_key(&r->sh->wg, r->cfg.iface.private_key, r->now);
		if (r->sh->has_bridge && !r->cfg.bridge.has_mac)
			vw_info("%s: new private key: the bridge keeps its address, derived from "
				"the old public key, until vwired restarts",
				d->name);
	}
	if (r->sh->has_bridge) {
		apply_bridge(r);
		apply_wire_ports(r);
	}
	apply_peers(r);
	if (r->sh->has_bridge)
		swap_wires(r);
	/* The running config is the new one; its keys go, as at start. */
	config_free(&d->cfg);
	d->cfg = r->cfg;
	memset(&r->cfg, 0, sizeof(r->cfg));
	running_keys(d, false);
	r->sh->wires_dirty = true;
	vwired_wires_follow_sessions(w0, r->sh, r->now);
	vwired_rearm_timers(w0, r->sh);
}

static int diff_and_apply(struct reload *r)
{
	char err[1024];
	int rc;

	running_keys(r->d, true);
	rc = reload_diff(&r->d->cfg, &r->cfg, &r->diff, err, sizeof(err));
	running_keys(r->d, false);
	if (rc) {
		snprintf(r->msg, r->msglen, "%s: %s", r->path, err);
		return -1;
	}
	r->now = vw_clock_mono_ns();
	if (prepare_wires(r) || set_socket(r))
		return -1;
	/* Even when the files agree: peers `wg set` added or removed since are put right. */
	apply(r);
	return 0;
}

static void reload_free(struct reload *r)
{
	config_free(&r->cfg);
	reload_diff_free(&r->diff);
	free(r->wires);
	free(r->kept);
	if (r->vx_ready)
		vx_destroy(&r->vx);
}

/* systemd's Type=notify: reloading from now until READY=1 (MONOTONIC_USEC for notify-reload). */
static void notify_reloading(void)
{
	char state[64];

	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)(vw_clock_mono_ns() / 1000));
	vwired_notify(state);
}

int vwired_reload_file(struct vwired *d, int fd, const char *path, char *msg, size_t msglen)
{
	struct reload r = {
		.d = d, .path = path ? path : d->opt.config_path, .msg = msg, .msglen = msglen};
	char summary[256];
	int rc = -1;

	if (!d->opt.config_path) {
		snprintf(msg, msglen,
			 "%s was started without a config file (-c): nothing to reload", d->name);
		vw_warn("%s", msg);
		return -1;
	}
	notify_reloading();
	if (config_load_fd(fd, r.path, &r.cfg, msg, msglen) == 0 && !resolve_endpoints(&r)) {
		r.sh = vwired_lock(&d->workers[0]);
		rc = diff_and_apply(&r);
		if (rc == 0)
			reload_summary(&r.diff, summary, sizeof(summary));
		vwired_unlock(&d->workers[0]);
	}
	if (rc == 0) {
		snprintf(msg, msglen, "%s", summary);
		vw_info("%s: reloaded %s: %s", d->name, r.path, summary);
	} else {
		vw_err("%s: reload refused, running config kept: %s", d->name, msg);
	}
	reload_free(&r);
	vwired_notify("READY=1");
	return rc;
}

int vwired_reload(struct vwired *d, char *msg, size_t msglen)
{
	return vwired_reload_file(d, -1, NULL, msg, msglen);
}
