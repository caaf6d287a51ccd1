/* SPDX-License-Identifier: MIT */
/*
 * Setting up and tearing down what bridged.c's packet paths use: the bridge of [Bridge]
 * (port 0 its own TAP, then the Ports TAPs), VXLAN and reassembly for the [Wire]s, a port
 * for each wire, and every worker's queue of every TAP. It runs before the workers start
 * and after they stopped, on the shared state directly (d->sh), as worker 0.
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
#include "daemon/vwired.h"

/* Called from inside the device: only note it, act once the device call returned. */
static void on_session_event(void *ctx, struct wg_peer *peer, bool up)
{
	struct vwired_shared *sh = ctx;

	(void)peer;
	(void)up;
	sh->wires_dirty = true;
}

/* Worker w's queue of TAP name; with offloads when vnet. */
static struct io_tun *open_tap_queue(const struct vwired *d, struct vwired_worker *w,
				     const char *name, bool vnet)
{
	return io_tun_open_queue(w->loop, name, vnet ? IO_DEV_TAP_VNET : IO_DEV_TAP,
				 d->n_workers > 1, vwired_on_tap_rx, w);
}

int vwired_bridge_open_queues(struct vwired *d, struct vwired_worker *w)
{
	for (uint32_t port = 0; port < BR_MAX_PORTS; port++) {
		struct io_tun *first = d->sh.ports[port].tap;

		if (!first)
			continue;
		w->taps[port] = open_tap_queue(d, w, io_tun_name(first), io_tun_offloads(first));
		if (!w->taps[port])
			return -errno;
		io_tun_on_error(w->taps[port], vwired_on_tap_error, w);
	}
	return 0;
}

/* mac: the address to give the TAP (the bridge's own, stable across restarts), or NULL. */
static int open_tap(struct vwired *d, uint32_t port, const char *name, uint32_t mtu,
		    const uint8_t *mac)
{
	struct io_tun *tap = vwired_open_first_queue(d, name, true, vwired_on_tap_rx);
	int rc;

	if (!tap) {
		vw_err("cannot create or attach TAP device '%s': %s", name, strerror(errno));
		return -1;
	}
	d->sh.ports[port].tap = tap;
	d->workers[0].taps[port] = tap;
	io_tun_on_error(tap, vwired_on_tap_error, &d->workers[0]);
	if (mac && (rc = io_tun_set_mac(tap, mac)) < 0) {
		vw_err("%s: cannot set MAC: %s", name, strerror(-rc));
		return -1;
	}
	if ((rc = io_tun_set_mtu(tap, mtu)) < 0 || (rc = io_tun_set_up(tap)) < 0) {
		vw_err("%s: cannot set MTU %u and bring it up: %s", name, mtu, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Once per trip: the port stays down, so this cannot flood the log. */
static void on_bpdu_guard(void *ctx, const struct bridge *br, uint16_t port)
{
	(void)ctx;
	vw_warn("bridge %s: BPDU received on port %u (%s), which has BPDUGuard: port disabled "
		"until vwired restarts",
		br->name, port, br->ports[port].name);
}

static int setup_bridge_core(struct vwired *d)
{
	const struct config_bridge *cb = &d->cfg.bridge;
	struct br_config bc;
	const char *why = "";
	uint8_t pub[32] = {0};
	int rc;

	br_config_default(&bc);
	snprintf(bc.name, sizeof(bc.name), "%s", cb->name);
	bc.stp = cb->stp;
	bc.protocol = cb->protocol;
	/* Priority = auto: nothing measured yet, a leaf's priority until there is. */
	bc.priority = cb->priority_auto ? WC_PRIORITY_LEAF : cb->priority;
	d->sh.priority = (uint16_t)bc.priority;
	wc_prio_init(&d->sh.prio, vw_clock_mono_ns());
	bc.hello_time = cb->hello_time * NSEC_PER_SEC;
	bc.max_age = cb->max_age * NSEC_PER_SEC;
	bc.forward_delay = cb->forward_delay * NSEC_PER_SEC;
	bc.ageing_time = (uint64_t)cb->ageing_time * NSEC_PER_SEC;
	bc.max_learned = cb->max_learned;
	bc.on_bpdu_guard = on_bpdu_guard;
	bc.cb_ctx = d;
	bc.have_mac = cb->has_mac;
	memcpy(bc.mac, cb->mac, 6);
	wg_device_public_key(&d->sh.wg, pub);
	memcpy(bc.pubkey, pub, 32);
	crypto_random(bc.hash_key, sizeof(bc.hash_key));
	bc.pool = &d->pool;
	if (br_config_check(&bc, &why)) {
		vw_err("%s: [Bridge]: %s", d->opt.config_path, why);
		return -1;
	}
	if ((rc = br_init(&d->sh.br, &bc, vw_clock_mono_ns())) < 0) {
		vw_err("cannot create bridge %s: %s", cb->name, strerror(-rc));
		return -1;
	}
	d->sh.br_ready = true;
	return 0;
}

static int setup_vxlan(struct vwired *d)
{
	struct vx_config vc = {0};
	struct ipfrag_config fc = {0};
	bool have_local = false;

	for (uint32_t i = 0; i < d->cfg.iface.n_addresses; i++) {
		if (d->cfg.iface.addresses[i].addr.family == AF_INET) {
			memcpy(vc.local, d->cfg.iface.addresses[i].addr.bytes, 4);
			have_local = true;
			break;
		}
	}
	if (d->cfg.n_wires && !have_local) {
		vw_err("%s: [Wire] needs an IPv4 Address in [Interface] (the VXLAN source)",
		       d->opt.config_path);
		return -1;
	}
	crypto_random(&vc.hash_seed, sizeof(vc.hash_seed));
	vc.max_wires = d->cfg.n_wires ? d->cfg.n_wires : 1;
	vc.no_udp_csum = !d->cfg.bridge.udp_csum;
	if (!vx_init(&d->sh.vx, &vc)) {
		vw_err("cannot allocate the VXLAN wire table");
		return -1;
	}
	d->sh.vx_ready = true;
	fc.mtu = d->cfg.iface.mtu;
	crypto_random(&fc.hash_seed, sizeof(fc.hash_seed));
	if (!ipfrag_init(&d->sh.frag, &fc)) {
		vw_err("cannot allocate IPv4 reassembly memory");
		return -1;
	}
	d->sh.frag_ready = true;
	return 0;
}

static int add_wire(struct vwired *d, uint32_t i)
{
	const struct config_wire *cw = &d->cfg.wires[i];
	struct vw_wire *w = &d->sh.wires[i];
	struct br_port_config pc;
	int idx, port;

	idx = vx_wire_add(&d->sh.vx, cw->remote, cw->port, cw->vni);
	if (idx != (int)i) {
		vw_err("%s:%u: [Wire] %s: cannot add VXLAN wire", d->opt.config_path, cw->line,
		       cw->name);
		return -1;
	}
	br_port_config_default(&pc, cw->name);
	pc.path_cost = vwired_wire_cost(cw, w);
	wc_hyst_init(&w->rtt.hyst);
	w->rtt.probe_at = UINT64_MAX;
	/* 802.1D-1998 port priority (0..255, the port id's high byte) in the kernel's 6 bits. */
	pc.priority = cw->priority >> 2;
	port = br_add_port(&d->sh.br, &pc);
	if (port < 0) {
		vw_err("%s:%u: [Wire] %s: cannot add bridge port: %s", d->opt.config_path, cw->line,
		       cw->name, strerror(-port));
		return -1;
	}
	w->port = (uint32_t)port;
	d->sh.ports[port].kind = VW_PORT_WIRE;
	d->sh.ports[port].wire = i;
	w->peer = wg_allowedips_lookup(&d->sh.wg.peer_allowedips, AF_INET, cw->remote);
	memcpy(w->remote, cw->remote, 4);
	inet_ntop(AF_INET, cw->remote, w->remote_str, sizeof(w->remote_str));
	if (!w->peer) {
		vw_err("%s:%u: [Wire] %s: Remote %s is in no peer's AllowedIPs", d->opt.config_path,
		       cw->line, cw->name, w->remote_str);
		return -1;
	}
	return 0;
}

int vwired_bridge_init(struct vwired *d)
{
	const struct config_bridge *cb = &d->cfg.bridge;
	uint8_t mac[6];
	int rc;

	if (!d->cfg.has_bridge)
		return 0;
	d->sh.has_bridge = true;
	if (setup_bridge_core(d) || setup_vxlan(d))
		return -1;
	d->sh.wires = calloc(d->cfg.n_wires ? d->cfg.n_wires : 1, sizeof(*d->sh.wires));
	if (!d->sh.wires)
		return -1;
	d->sh.n_wires = d->cfg.n_wires;

	/* Port 0: this host's interface on the bridge, like the kernel bridge device. */
	d->sh.ports[BR_PORT_LOCAL].kind = VW_PORT_LOCAL;
	if (open_tap(d, BR_PORT_LOCAL, cb->name, cb->mtu, d->sh.br.mac))
		return -1;
	for (uint32_t i = 0; i < cb->n_addresses; i++) {
		rc = io_tun_add_addr(d->sh.ports[0].tap, &cb->addresses[i].addr,
				     cb->addresses[i].cidr);
		if (rc < 0) {
			vw_err("%s: cannot add address: %s", cb->name, strerror(-rc));
			return -1;
		}
	}
	if (io_tun_get_mac(d->sh.ports[0].tap, mac) == 0)
		br_fdb_add_local(&d->sh.br, mac);

	for (uint32_t i = 0; i < cb->n_ports; i++) {
		struct br_port_config pc;
		int port;

		br_port_config_default(&pc, cb->ports[i]);
		pc.bpdu_guard = cb->bpdu_guard[i];
		pc.admin_edge = cb->edge[i];
		port = br_add_port(&d->sh.br, &pc);
		if (port < 0) {
			vw_err("[Bridge] Ports: %s: %s", cb->ports[i], strerror(-port));
			return -1;
		}
		d->sh.ports[port].kind = VW_PORT_TAP;
		if (open_tap(d, (uint32_t)port, cb->ports[i], cb->mtu, NULL))
			return -1;
	}
	for (uint32_t i = 0; i < d->cfg.n_wires; i++)
		if (add_wire(d, i))
			return -1;

	d->sh.wg.session_event = on_session_event;
	d->sh.wg.session_event_ctx = &d->sh;
	return 0;
}

/* TAP ports are cables: enabled once everything is set up. Wires wait for their tunnel. */
void vwired_bridge_start(struct vwired *d)
{
	struct vwired_shared *sh = &d->sh;
	uint64_t now = vw_clock_mono_ns();
	struct pkt_vec out;

	if (!sh->has_bridge)
		return;
	pkt_vec_init(&out);
	for (uint32_t port = 1; port < BR_MAX_PORTS; port++) {
		if (sh->ports[port].kind != VW_PORT_TAP)
			continue;
		br_port_enable(&sh->br, port, now, &out);
		/* Worker 0's backlog holds the BPDUs until the workers start. */
		vwired_bridge_output(&d->workers[0], sh, &out, now);
	}
	sh->frag_expire_at = now + VWIRED_FRAG_EXPIRE_INTERVAL;
	vwired_wires_request_sessions(sh, now);
}

void vwired_bridge_free(struct vwired *d)
{
	struct vwired_shared *sh = &d->sh;

	for (uint32_t i = 0; i < BR_MAX_PORTS; i++)
		if (sh->ports[i].tap)
			io_tun_close(sh->ports[i].tap);
	if (sh->br_ready)
		br_destroy(&sh->br);
	if (sh->vx_ready)
		vx_destroy(&sh->vx);
	if (sh->frag_ready)
		ipfrag_destroy(&sh->frag);
	free(sh->wires);
}

/*
 * A wire follows whichever peer's AllowedIPs hold its Remote: after `wg set` removed that
 * peer or moved the address to another (and after a reload), the wire must not keep a
 * pointer to a freed peer, nor credit the new peer with what was known of the old one.
 * A wire left without a peer goes down with the next reconcile.
 */
void vwired_wires_find_peers(struct vwired_shared *sh)
{
	for (uint32_t i = 0; i < sh->n_wires; i++) {
		struct vw_wire *w = &sh->wires[i];
		struct wg_peer *peer =
			wg_allowedips_lookup(&sh->wg.peer_allowedips, AF_INET, w->remote);

		if (peer == w->peer)
			continue;
		w->live = (struct vw_liveness){0};
		w->peer = peer;
		sh->wires_dirty = true;
	}
}

void vwired_wire_peer_key(const struct vw_wire *w, char key[WG_KEY_LEN_BASE64 + 1])
{
	if (w->peer)
		key_to_base64(key, wg_peer_public_key(w->peer));
	else
		key[0] = '\0';
}

uint32_t vwired_wire_cost(const struct config_wire *cw, const struct vw_wire *w)
{
	if (cw->cost != CONFIG_WIRE_COST_AUTO)
		return cw->cost;
	/* Cost = auto starts at the default and follows the round trip once measured. */
	return w->rtt.cost ? w->rtt.cost : CONFIG_DEFAULT_WIRE_COST;
}
