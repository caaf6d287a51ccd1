/* SPDX-License-Identifier: MIT */
/*
 * The bridged (L2) packet paths of DESIGN.md:
 *   out: TAP read -> bridge -> wire port -> VXLAN encap -> IPv4 fragments to the
 *        tunnel MTU -> WireGuard (peer by allowed IPs) -> UDP
 *   in:  UDP -> WireGuard -> inner IPv4 to our tunnel address -> reassembly ->
 *        VXLAN decap (wire by Remote, port, VNI) -> bridge -> TAP or another wire
 * Port 0 is the bridge's own TAP ([Bridge] Name); STP ports are the [Bridge]
 * Ports TAPs and the wires. A wire's port is enabled only while its peer has a
 * usable WireGuard session, and vwired keeps asking for one while it has none.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/showstp.h"
#include "core/byteorder.h"
#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "daemon/vwired.h"
#include "tunnel/send.h"

/* How often a disabled wire asks its peer for a session (the tunnel rate limits too). */
#define WIRE_KICK_INTERVAL (5 * NSEC_PER_SEC)
/* Reassembly timeouts are checked this often. */
#define FRAG_EXPIRE_INTERVAL NSEC_PER_SEC

/* The bridge port whose TAP queue (of worker w) tap is. */
static uint32_t port_of_tap(const struct vwired_worker *w, const struct io_tun *tap)
{
	for (uint32_t i = 0; i < BR_MAX_PORTS; i++)
		if (w->taps[i] == tap)
			return i;
	return UINT32_MAX;
}

/*
 * Moves the packets of v whose p->port equals the first one's into group (in
 * order; v keeps the rest, in order) and returns that port. v must not be empty.
 */
static uint32_t take_first_group(struct pkt_vec *v, struct pkt_vec *group)
{
	uint32_t port = v->p[0]->port, keep = 0;

	pkt_vec_init(group);
	for (uint32_t i = 0; i < v->n; i++) {
		if (v->p[i]->port == port)
			pkt_vec_add(group, v->p[i]);
		else
			v->p[keep++] = v->p[i];
	}
	v->n = keep;
	return port;
}

/* An IPv4 fragment that is not its datagram's last (More Fragments set). */
static bool more_fragments(const struct pkt *p)
{
	return p->len >= 20 && (p->data[0] >> 4) == 4 && (p->data[6] & 0x20);
}

/*
 * Moves the fragments that are not their datagram's last to the front, the rest keeping
 * its order. A datagram completes with its last fragment, so every flow's order is kept,
 * and the full-sized fragments form one run of equal-sized packets: one GSO send,
 * instead of runs of one as they alternate with the short tails.
 */
static void fragments_for_gso(struct pkt_vec *v)
{
	struct pkt *rest[PKT_VEC_MAX];
	uint32_t n = 0, k = 0;

	for (uint32_t i = 0; i < v->n; i++) {
		if (more_fragments(v->p[i]))
			v->p[k++] = v->p[i];
		else
			rest[n++] = v->p[i];
	}
	memcpy(v->p + k, rest, n * sizeof(rest[0]));
}

/* Frames for wires (p->port = wire index): encapsulate, fragment, encrypt, send. */
static void wires_send(struct vwired *d, struct pkt_vec *frames, uint64_t now)
{
	struct pkt_vec encapped, frags;

	pkt_vec_init(&encapped);
	pkt_vec_init(&frags);
	vx_encap_batch(&d->vx, frames, &encapped);
	while (encapped.n) {
		ipfrag_fragment_batch(&d->frag, &encapped, &d->pool, &frags);
		if (d->opt.offload)
			fragments_for_gso(&frags);
		vwired_tunnel_send(d, &frags, now);
	}
}

/* Hands each frame the bridge emitted to its egress port's carrier. */
static void bridge_output(struct vwired *d, struct pkt_vec *out, uint64_t now)
{
	struct pkt_vec one, wires;

	pkt_vec_init(&wires);
	while (out->n) {
		uint32_t port = take_first_group(out, &one);
		struct vw_port *vp = port < BR_MAX_PORTS ? &d->ports[port] : NULL;

		if (!vp || vp->kind == VW_PORT_NONE) {
			d->drops[VWIRED_DROP_BAD_PORT] += one.n;
			pkt_vec_free(&one);
		} else if (vp->kind == VW_PORT_WIRE) {
			for (uint32_t i = 0; i < one.n; i++) {
				one.p[i]->port = vp->wire;
				if (!pkt_vec_add(&wires, one.p[i])) {
					wires_send(d, &wires, now);
					pkt_vec_add(&wires, one.p[i]);
				}
			}
		} else {
			/* Written on the queue of the worker that holds the lock. */
			vwired_dev_write(d, d->cur->taps[port], &one, true);
		}
	}
	if (wires.n)
		wires_send(d, &wires, now);
}

/* Frames that arrived on `port` go through the bridge. */
static void bridge_input(struct vwired *d, uint32_t port, struct pkt_vec *in, uint64_t now)
{
	struct pkt_vec out;

	pkt_vec_init(&out);
	while (in->n) {
		br_input(&d->br, port, in, now, &out);
		bridge_output(d, &out, now);
	}
}

/*
 * The largest frame a wire carries without IP fragmentation: the tunnel MTU less the
 * outer IPv4, UDP and VXLAN headers (1384 for 1420). 0 without wires.
 */
static uint32_t wire_frame_max(const struct vwired *d)
{
	return d->cfg.n_wires ? d->cfg.iface.mtu - VX_ENCAP_LEN : 0;
}

/*
 * Super-frames from an offloading TAP become frames first. TCP is cut so that each
 * frame crosses a wire whole: one WireGuard packet per segment instead of two
 * fragments, and runs of equal-sized packets that leave as one GSO send.
 */
static void tap_input_offload(struct vwired *d, uint32_t port, struct pkt_vec *v, uint64_t now)
{
	uint32_t cursor = 0;
	struct pkt_vec segs;

	while (v->n) {
		enum gso_batch_status st;

		pkt_vec_init(&segs);
		st = gso_split_frames_batch(v, &cursor, &d->pool, &segs, &d->offload,
					    wire_frame_max(d));
		bridge_input(d, port, &segs, now);
		if (st == GSO_BATCH_NOMEM) {
			d->drops[VWIRED_DROP_NO_BUFFER] += v->n;
			pkt_vec_free(v);
		}
	}
}

void vwired_on_tap_rx(void *ctx, struct io_tun *tap, struct pkt_vec *v)
{
	struct vwired_worker *w = ctx;
	struct vwired *d = w->d;
	uint32_t port = port_of_tap(w, tap);
	uint64_t now = vw_clock_mono_ns();

	vwired_lock(d, w);
	if (port == UINT32_MAX) {
		d->drops[VWIRED_DROP_BAD_PORT] += v->n;
		pkt_vec_free(v);
	} else if (io_tun_offloads(tap)) {
		tap_input_offload(d, port, v, now);
	} else {
		bridge_input(d, port, v, now);
	}
	vwired_after_device_calls(d, now);
	/* Frames for wires went through the tunnel, which may have armed its timers. */
	vwired_kick_timers(d);
	vwired_unlock(d);
}

/*
 * Fragments that cannot be a wire's VXLAN are routed traffic: they go to the TUN as they
 * came, like any routed packet, and the rest of in stays (in order) for reassembly.
 */
static void route_foreign_fragments(struct vwired *d, struct pkt_vec *in, struct pkt_vec *to_tun)
{
	uint32_t keep = 0;

	for (uint32_t i = 0; i < in->n; i++) {
		struct pkt *p = in->p[i];
		bool fragment =
			p->len >= 20 && (p->data[0] >> 4) == 4 && (get_be16(p->data + 6) & 0x3fff);

		if (fragment && !vx_fragment_for_wires(&d->vx, p)) {
			d->vx.stats.passed++;
			pkt_vec_add(to_tun, p); /* room: to_tun is empty and as large as in */
		} else {
			in->p[keep++] = p;
		}
	}
	in->n = keep;
}

/*
 * Decrypted inner packets: IPv4 fragments of a wire's VXLAN are reassembled, VXLAN for a
 * wire goes to the bridge (grouped by wire), everything else to the TUN.
 */
void vwired_bridge_rx_ip(struct vwired *d, struct pkt_vec *in, struct pkt_vec *to_tun, uint64_t now)
{
	struct pkt_vec whole, frames, group;

	pkt_vec_init(&whole);
	pkt_vec_init(&frames);
	route_foreign_fragments(d, in, to_tun);
	ipfrag_reassemble_batch(&d->frag, in, &whole, now);
	vx_decap_batch(&d->vx, &whole, &frames, to_tun);
	while (frames.n) {
		uint32_t wire = take_first_group(&frames, &group);

		if (wire < d->cfg.n_wires) {
			d->wires[wire].rx_frames += group.n;
			bridge_input(d, d->wires[wire].port, &group, now);
		} else {
			d->drops[VWIRED_DROP_BAD_PORT] += group.n;
			pkt_vec_free(&group);
		}
	}
}

/* Called from inside the device: only note it, act once the device call returned. */
static void on_session_event(void *ctx, struct wg_peer *peer, bool up)
{
	struct vwired *d = ctx;

	(void)peer;
	(void)up;
	d->wires_dirty = true;
}

/* Wire ports follow their peers' sessions (DESIGN.md, issue 7). */
static void wires_reconcile(struct vwired *d, uint64_t now)
{
	struct pkt_vec out;

	pkt_vec_init(&out);
	d->wires_dirty = false;
	for (uint32_t i = 0; i < d->cfg.n_wires; i++) {
		struct vw_wire *w = &d->wires[i];
		bool up = w->peer && wg_peer_has_session(w->peer, now);

		if (up == w->up)
			continue;
		w->up = up;
		if (up) {
			vw_info("wire %s: tunnel to %s up, port %u enabled", d->cfg.wires[i].name,
				w->remote_str, w->port);
			br_port_enable(&d->br, w->port, now, &out);
		} else {
			vw_info("wire %s: tunnel to %s down, port %u disabled",
				d->cfg.wires[i].name, w->remote_str, w->port);
			br_port_disable(&d->br, w->port, now, &out);
		}
		bridge_output(d, &out, now);
	}
}

/* A wire without a session asks for one: a keepalive starts a handshake. */
static void wires_kick(struct vwired *d, uint64_t now)
{
	for (uint32_t i = 0; i < d->cfg.n_wires; i++) {
		struct vw_wire *w = &d->wires[i];

		if (w->peer && !w->up && w->peer->endpoint.sa.sa_family != AF_UNSPEC)
			wg_packet_send_keepalive(w->peer, now);
	}
	d->wire_kick_at = now + WIRE_KICK_INTERVAL;
}

void vwired_after_device_calls(struct vwired *d, uint64_t now)
{
	if (!d->has_bridge)
		return;
	for (int rounds = 0; d->wires_dirty && rounds < 4; rounds++)
		wires_reconcile(d, now);
}

void vwired_bridge_tick(struct vwired *d, uint64_t now)
{
	struct pkt_vec out;

	if (!d->has_bridge)
		return;
	pkt_vec_init(&out);
	br_tick(&d->br, now, &out);
	bridge_output(d, &out, now);
	if (now >= d->frag_expire_at) {
		ipfrag_expire(&d->frag, now);
		d->frag_expire_at = now + FRAG_EXPIRE_INTERVAL;
	}
	if (now >= d->wire_kick_at)
		wires_kick(d, now);
	vwired_after_device_calls(d, now);
}

uint64_t vwired_bridge_deadline(const struct vwired *d)
{
	uint64_t next;

	if (!d->has_bridge)
		return UINT64_MAX;
	next = br_next_deadline(&d->br);
	if (ipfrag_pending(&d->frag) && d->frag_expire_at < next)
		next = d->frag_expire_at;
	if (d->wire_kick_at < next)
		next = d->wire_kick_at;
	return next;
}

/* A TAP that disappears takes its port down; the bridge's own TAP takes vwired down. */
static void tap_failed(struct vwired *d, struct vwired_worker *w, struct io_tun *tap, int err)
{
	uint32_t port = port_of_tap(w, tap);
	uint64_t now = vw_clock_mono_ns();
	const struct stp_port *sp;
	struct pkt_vec out;

	if (port == BR_PORT_LOCAL || port == UINT32_MAX) {
		if (!d->stopping)
			vw_info("bridge device %s is gone (%s): exiting", io_tun_name(tap),
				strerror(-err));
		vwired_stop(d);
		return;
	}
	/* Every worker's queue of the TAP fails: the port goes down once. */
	sp = br_get_stp_port(&d->br, port);
	if (sp && sp->state == STP_DISABLED)
		return;
	vw_warn("bridge port %s failed (%s): port %u disabled", io_tun_name(tap), strerror(-err),
		port);
	pkt_vec_init(&out);
	br_port_disable(&d->br, port, now, &out);
	bridge_output(d, &out, now);
}

static void on_tap_error(void *ctx, struct io_tun *tap, int err)
{
	struct vwired_worker *w = ctx;

	vwired_lock(w->d, w);
	tap_failed(w->d, w, tap, err);
	vwired_unlock(w->d);
}

/* Worker w's queue of TAP name; with offloads when vnet. */
static struct io_tun *open_tap_queue(struct vwired *d, struct vwired_worker *w, const char *name,
				     bool vnet)
{
	return io_tun_open_queue(w->loop, name, vnet ? IO_DEV_TAP_VNET : IO_DEV_TAP,
				 d->n_workers > 1, vwired_on_tap_rx, w);
}

int vwired_bridge_open_queues(struct vwired *d, struct vwired_worker *w)
{
	for (uint32_t port = 0; port < BR_MAX_PORTS; port++) {
		struct io_tun *first = d->ports[port].tap;

		if (!first)
			continue;
		w->taps[port] = open_tap_queue(d, w, io_tun_name(first), io_tun_offloads(first));
		if (!w->taps[port])
			return -errno;
		io_tun_on_error(w->taps[port], on_tap_error, w);
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
	d->ports[port].tap = tap;
	d->workers[0].taps[port] = tap;
	io_tun_on_error(tap, on_tap_error, &d->workers[0]);
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
	bc.priority = cb->priority;
	bc.hello_time = cb->hello_time * NSEC_PER_SEC;
	bc.max_age = cb->max_age * NSEC_PER_SEC;
	bc.forward_delay = cb->forward_delay * NSEC_PER_SEC;
	bc.ageing_time = (uint64_t)cb->ageing_time * NSEC_PER_SEC;
	bc.max_learned = cb->max_learned;
	bc.on_bpdu_guard = on_bpdu_guard;
	bc.cb_ctx = d;
	bc.have_mac = cb->has_mac;
	memcpy(bc.mac, cb->mac, 6);
	wg_device_public_key(&d->wg, pub);
	memcpy(bc.pubkey, pub, 32);
	crypto_random(bc.hash_key, sizeof(bc.hash_key));
	bc.pool = &d->pool;
	if (br_config_check(&bc, &why)) {
		vw_err("%s: [Bridge]: %s", d->opt.config_path, why);
		return -1;
	}
	if ((rc = br_init(&d->br, &bc, vw_clock_mono_ns())) < 0) {
		vw_err("cannot create bridge %s: %s", cb->name, strerror(-rc));
		return -1;
	}
	d->br_ready = true;
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
	if (!vx_init(&d->vx, &vc)) {
		vw_err("cannot allocate the VXLAN wire table");
		return -1;
	}
	d->vx_ready = true;
	fc.mtu = d->cfg.iface.mtu;
	crypto_random(&fc.hash_seed, sizeof(fc.hash_seed));
	if (!ipfrag_init(&d->frag, &fc)) {
		vw_err("cannot allocate IPv4 reassembly memory");
		return -1;
	}
	d->frag_ready = true;
	return 0;
}

static int add_wire(struct vwired *d, uint32_t i)
{
	const struct config_wire *cw = &d->cfg.wires[i];
	struct vw_wire *w = &d->wires[i];
	struct br_port_config pc;
	int idx, port;

	idx = vx_wire_add(&d->vx, cw->remote, cw->port, cw->vni);
	if (idx != (int)i) {
		vw_err("%s:%u: [Wire] %s: cannot add VXLAN wire", d->opt.config_path, cw->line,
		       cw->name);
		return -1;
	}
	br_port_config_default(&pc, cw->name);
	pc.path_cost = cw->cost;
	/* 802.1D-1998 port priority (0..255, the port id's high byte) in the kernel's 6 bits. */
	pc.priority = cw->priority >> 2;
	port = br_add_port(&d->br, &pc);
	if (port < 0) {
		vw_err("%s:%u: [Wire] %s: cannot add bridge port: %s", d->opt.config_path, cw->line,
		       cw->name, strerror(-port));
		return -1;
	}
	w->port = (uint32_t)port;
	d->ports[port].kind = VW_PORT_WIRE;
	d->ports[port].wire = i;
	w->peer = wg_allowedips_lookup(&d->wg.peer_allowedips, AF_INET, cw->remote);
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
	d->has_bridge = true;
	if (setup_bridge_core(d) || setup_vxlan(d))
		return -1;
	d->wires = calloc(d->cfg.n_wires ? d->cfg.n_wires : 1, sizeof(*d->wires));
	if (!d->wires)
		return -1;

	/* Port 0: this host's interface on the bridge, like the kernel bridge device. */
	d->ports[BR_PORT_LOCAL].kind = VW_PORT_LOCAL;
	if (open_tap(d, BR_PORT_LOCAL, cb->name, cb->mtu, d->br.mac))
		return -1;
	for (uint32_t i = 0; i < cb->n_addresses; i++) {
		rc = io_tun_add_addr(d->ports[0].tap, &cb->addresses[i].addr,
				     cb->addresses[i].cidr);
		if (rc < 0) {
			vw_err("%s: cannot add address: %s", cb->name, strerror(-rc));
			return -1;
		}
	}
	if (io_tun_get_mac(d->ports[0].tap, mac) == 0)
		br_fdb_add_local(&d->br, mac);

	for (uint32_t i = 0; i < cb->n_ports; i++) {
		struct br_port_config pc;
		int port;

		br_port_config_default(&pc, cb->ports[i]);
		pc.bpdu_guard = cb->bpdu_guard[i];
		port = br_add_port(&d->br, &pc);
		if (port < 0) {
			vw_err("[Bridge] Ports: %s: %s", cb->ports[i], strerror(-port));
			return -1;
		}
		d->ports[port].kind = VW_PORT_TAP;
		if (open_tap(d, (uint32_t)port, cb->ports[i], cb->mtu, NULL))
			return -1;
	}
	for (uint32_t i = 0; i < d->cfg.n_wires; i++)
		if (add_wire(d, i))
			return -1;

	d->wg.session_event = on_session_event;
	d->wg.session_event_ctx = d;
	return 0;
}

/* TAP ports are cables: enabled once everything is set up. Wires wait for their tunnel. */
void vwired_bridge_start(struct vwired *d)
{
	uint64_t now = vw_clock_mono_ns();
	struct pkt_vec out;

	if (!d->has_bridge)
		return;
	pkt_vec_init(&out);
	for (uint32_t port = 1; port < BR_MAX_PORTS; port++) {
		if (d->ports[port].kind != VW_PORT_TAP)
			continue;
		br_port_enable(&d->br, port, now, &out);
		bridge_output(d, &out, now);
	}
	d->frag_expire_at = now + FRAG_EXPIRE_INTERVAL;
	wires_kick(d, now);
}

void vwired_bridge_free(struct vwired *d)
{
	for (uint32_t i = 0; i < BR_MAX_PORTS; i++)
		if (d->ports[i].tap)
			io_tun_close(d->ports[i].tap);
	if (d->br_ready)
		br_destroy(&d->br);
	if (d->vx_ready)
		vx_destroy(&d->vx);
	if (d->frag_ready)
		ipfrag_destroy(&d->frag);
	free(d->wires);
}
