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
 * Everything here runs under the lock, for the worker whose queues it writes to;
 * setting the bridge up and tearing it down is bridge_setup.c's.
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
static void wires_send(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *frames,
		       uint64_t now)
{
	struct pkt_vec encapped, frags;

	pkt_vec_init(&encapped);
	pkt_vec_init(&frags);
	vx_encap_batch(&sh->vx, frames, &encapped);
	while (encapped.n) {
		ipfrag_fragment_batch(&sh->frag, &encapped, &w->d->pool, &frags);
		if (w->d->opt.offload)
			fragments_for_gso(&frags);
		vwired_tunnel_send(w, sh, &frags, now);
	}
}

/*
 * Frames to their egress ports; from_wire: they all came in on a wire, so a TAP may take
 * their checksums as good (the kernel's WireGuard marks every level of a decrypted packet
 * checked, the inner frame of a VXLAN included).
 */
static void bridge_output(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *out,
			  uint64_t now, bool from_wire)
{
	struct pkt_vec one, wires;

	pkt_vec_init(&wires);
	while (out->n) {
		uint32_t port = take_first_group(out, &one);
		struct vw_port *vp = port < BR_MAX_PORTS ? &sh->ports[port] : NULL;

		if (!vp || vp->kind == VW_PORT_NONE) {
			sh->drops[VWIRED_DROP_BAD_PORT] += one.n;
			pkt_vec_free(&one);
		} else if (vp->kind == VW_PORT_WIRE) {
			for (uint32_t i = 0; i < one.n; i++) {
				one.p[i]->port = vp->wire;
				if (!pkt_vec_add(&wires, one.p[i])) {
					wires_send(w, sh, &wires, now);
					pkt_vec_add(&wires, one.p[i]);
				}
			}
		} else {
			vwired_write_tap(w, sh, port, &one, from_wire);
		}
	}
	if (wires.n)
		wires_send(w, sh, &wires, now);
}

void vwired_bridge_output(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *out,
			  uint64_t now)
{
	bridge_output(w, sh, out, now, false);
}

/* Frames that arrived on `port` go through the bridge. */
static void bridge_input(struct vwired_worker *w, struct vwired_shared *sh, uint32_t port,
			 struct pkt_vec *in, uint64_t now)
{
	bool from_wire = port < BR_MAX_PORTS && sh->ports[port].kind == VW_PORT_WIRE;
	struct pkt_vec out;

	pkt_vec_init(&out);
	while (in->n) {
		br_input(&sh->br, port, in, now, &out);
		bridge_output(w, sh, &out, now, from_wire);
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
static void tap_input_offload(struct vwired_worker *w, struct vwired_shared *sh, uint32_t port,
			      struct pkt_vec *v, uint64_t now)
{
	uint32_t cursor = 0;
	struct pkt_vec segs;

	while (v->n) {
		enum gso_batch_status st;

		pkt_vec_init(&segs);
		st = gso_split_frames_batch(v, &cursor, &w->d->pool, &segs, &sh->offload,
					    wire_frame_max(w->d));
		bridge_input(w, sh, port, &segs, now);
		if (st == GSO_BATCH_NOMEM) {
			sh->drops[VWIRED_DROP_NO_BUFFER] += v->n;
			pkt_vec_free(v);
		}
	}
}

static void tap_rx(struct vwired_worker *w, struct vwired_shared *sh, struct io_tun *tap,
		   struct pkt_vec *v)
{
	uint32_t port = port_of_tap(w, tap);
	uint64_t now = vw_clock_mono_ns();

	if (port == UINT32_MAX) {
		sh->drops[VWIRED_DROP_BAD_PORT] += v->n;
		pkt_vec_free(v);
	} else if (io_tun_offloads(tap)) {
		tap_input_offload(w, sh, port, v, now);
	} else {
		bridge_input(w, sh, port, v, now);
	}
	vwired_wires_follow_sessions(w, sh, now);
	/* Frames for wires went through the tunnel, which may have armed its timers. */
	vwired_rearm_timers(w, sh);
}

void vwired_on_tap_rx(void *ctx, struct io_tun *tap, struct pkt_vec *v)
{
	struct vwired_worker *w = ctx;

	tap_rx(w, vwired_lock(w), tap, v);
	vwired_unlock(w);
}

/*
 * Fragments that cannot be a wire's VXLAN are routed traffic: they go to the TUN as they
 * came, like any routed packet, and the rest of in stays (in order) for reassembly.
 */
static void route_foreign_fragments(struct vwired_shared *sh, struct pkt_vec *in,
				    struct pkt_vec *to_tun)
{
	uint32_t keep = 0;

	for (uint32_t i = 0; i < in->n; i++) {
		struct pkt *p = in->p[i];
		bool fragment =
			p->len >= 20 && (p->data[0] >> 4) == 4 && (get_be16(p->data + 6) & 0x3fff);

		if (fragment && !vx_fragment_for_wires(&sh->vx, p)) {
			sh->vx.stats.passed++;
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
void vwired_bridge_rx_ip(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *in,
			 struct pkt_vec *to_tun, uint64_t now)
{
	struct pkt_vec whole, frames, group;

	pkt_vec_init(&whole);
	pkt_vec_init(&frames);
	vwired_liveness_rx(w, sh, in, now);
	route_foreign_fragments(sh, in, to_tun);
	ipfrag_reassemble_batch(&sh->frag, in, &whole, now);
	vx_decap_batch(&sh->vx, &whole, &frames, to_tun);
	while (frames.n) {
		uint32_t wire = take_first_group(&frames, &group);

		if (wire < w->d->cfg.n_wires) {
			sh->wires[wire].rx_frames += group.n;
			bridge_input(w, sh, sh->wires[wire].port, &group, now);
		} else {
			sh->drops[VWIRED_DROP_BAD_PORT] += group.n;
			pkt_vec_free(&group);
		}
	}
}

/* Wire ports follow their peers' sessions (DESIGN.md, "Packet paths"). */
static void wires_reconcile(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now)
{
	const struct vw_config *cfg = &w->d->cfg;
	struct pkt_vec out;

	pkt_vec_init(&out);
	sh->wires_dirty = false;
	for (uint32_t i = 0; i < cfg->n_wires; i++) {
		struct vw_wire *wire = &sh->wires[i];
		bool session = wire->peer && wg_peer_has_session(wire->peer, now);
		bool up = session && vwired_wire_alive(sh, wire);

		if (up == wire->up)
			continue;
		wire->up = up;
		sh->rtt_dirty = true; /* Priority = auto waits for the wires that are up */
		if (up) {
			vw_info("wire %s: tunnel to %s up, port %u enabled", cfg->wires[i].name,
				wire->remote_str, wire->port);
			br_port_enable(&sh->br, wire->port, now, &out);
		} else {
			vw_info("wire %s: tunnel to %s %s, port %u disabled", cfg->wires[i].name,
				wire->remote_str,
				!session	     ? "down"
				: wire->live.goodbye ? "down (its host said goodbye)"
						     : "silent (no answer to probes)",
				wire->port);
			if (wire->live.goodbye)
				br_port_goodbye(&sh->br, wire->port, now, &out);
			else if (session)
				br_port_silent(&sh->br, wire->port, now, &out);
			else
				br_port_disable(&sh->br, wire->port, now, &out);
		}
		vwired_bridge_output(w, sh, &out, now);
	}
}

/* Priority = auto from the wires past warm-up, once start-up allows (wirecost.h). */
static void follow_auto_priority(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now)
{
	const struct vw_config *cfg = &w->d->cfg;
	uint64_t rtts[CONFIG_MAX_WIRES];
	bool warming = false;
	struct pkt_vec out;
	uint16_t prio;

	for (uint32_t i = 0; i < cfg->n_wires; i++) {
		const struct vw_wire *wire = &sh->wires[i];
		bool warm = wire->rtt.rtt.samples > WC_WARMUP_SAMPLES;

		rtts[i] = warm ? wire->rtt.hyst.applied : 0;
		warming |= !warm;
	}
	prio = wc_prio_update(&sh->prio, rtts, cfg->n_wires, warming, sh->priority, now);
	if (prio == sh->priority)
		return;
	vw_info("bridge %s: priority %u (auto, from %u)", cfg->bridge.name, prio, sh->priority);
	sh->priority = prio;
	pkt_vec_init(&out);
	br_set_priority(&sh->br, prio, now, &out);
	vwired_bridge_output(w, sh, &out, now);
}

/* A wire's filtered round trip moved: Cost = auto ports and Priority = auto follow. */
static void wires_follow_rtt(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now)
{
	const struct vw_config *cfg = &w->d->cfg;
	struct pkt_vec out;

	pkt_vec_init(&out);
	sh->rtt_dirty = false;
	for (uint32_t i = 0; i < cfg->n_wires; i++) {
		struct vw_wire *wire = &sh->wires[i];
		uint64_t rtt = wire->rtt.hyst.applied;
		uint32_t cost = wc_cost_from_rtt(rtt, WC_MAX_COST_STP);

		if (cfg->wires[i].cost != CONFIG_WIRE_COST_AUTO || !rtt || cost == wire->rtt.cost)
			continue;
		vw_info("wire %s: round trip %.1f ms, path cost %u", cfg->wires[i].name,
			(double)rtt / 1e6, cost);
		wire->rtt.cost = cost;
		br_set_port_cost(&sh->br, wire->port, cost, now, &out);
		vwired_bridge_output(w, sh, &out, now);
	}
	if (cfg->bridge.priority_auto)
		follow_auto_priority(w, sh, now);
}

/* Start-up's next step for Priority = auto, if it waits for one. */
static uint64_t auto_priority_deadline(const struct vwired *d, const struct vwired_shared *sh)
{
	return d->cfg.bridge.priority_auto ? sh->prio.next_at : UINT64_MAX;
}

void vwired_wires_request_sessions(struct vwired_shared *sh, uint64_t now)
{
	for (struct vw_wire *wire = sh->wires; wire && wire < sh->wires + sh->n_wires; wire++)
		if (wire->peer && !wire->up && wire->peer->endpoint.sa.sa_family != AF_UNSPEC)
			wg_packet_send_keepalive(wire->peer, now);
	sh->wire_request_at = now + VWIRED_WIRE_REQUEST_INTERVAL;
}

/*
 * The device only notes session changes (on_session_event, bridge_setup.c): enabling a
 * port sends BPDUs through the tunnel, which must not happen from inside the device. A few
 * rounds, as those sends may bring more sessions up or down.
 */
void vwired_wires_follow_sessions(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now)
{
	if (!sh->has_bridge)
		return;
	for (int rounds = 0; sh->wires_dirty && rounds < 4; rounds++)
		wires_reconcile(w, sh, now);
}

void vwired_bridge_tick(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now)
{
	struct pkt_vec out;

	if (!sh->has_bridge)
		return;
	pkt_vec_init(&out);
	br_tick(&sh->br, now, &out);
	vwired_bridge_output(w, sh, &out, now);
	if (now >= sh->frag_expire_at) {
		ipfrag_expire(&sh->frag, now);
		sh->frag_expire_at = now + VWIRED_FRAG_EXPIRE_INTERVAL;
	}
	if (now >= sh->wire_request_at)
		vwired_wires_request_sessions(sh, now);
	vwired_liveness_tick(w, sh, now);
	vwired_wires_follow_sessions(w, sh, now);
	if (sh->rtt_dirty || now >= auto_priority_deadline(w->d, sh))
		wires_follow_rtt(w, sh, now);
}

uint64_t vwired_bridge_deadline(const struct vwired *d, const struct vwired_shared *sh)
{
	uint64_t next, live, prio;

	if (!sh->has_bridge)
		return UINT64_MAX;
	next = br_next_deadline(&sh->br);
	if (ipfrag_pending(&sh->frag) && sh->frag_expire_at < next)
		next = sh->frag_expire_at;
	if (sh->wire_request_at < next)
		next = sh->wire_request_at;
	live = vwired_liveness_deadline(sh);
	if (live < next)
		next = live;
	prio = auto_priority_deadline(d, sh);
	return prio < next ? prio : next;
}

/* A TAP that disappears takes its port down; the bridge's own TAP takes vwired down. */
static void tap_failed(struct vwired_worker *w, struct vwired_shared *sh, struct io_tun *tap,
		       int err)
{
	uint32_t port = port_of_tap(w, tap);
	uint64_t now = vw_clock_mono_ns();
	struct pkt_vec out;

	if (port == BR_PORT_LOCAL || port == UINT32_MAX) {
		if (!sh->stopping)
			vw_info("bridge device %s is gone (%s): exiting", io_tun_name(tap),
				strerror(-err));
		vwired_stop(w, sh);
		return;
	}
	/* Every worker's queue of the TAP fails: the port goes down once. */
	if (br_stp_port_state(&sh->br, (uint16_t)port) == STP_DISABLED)
		return;
	vw_warn("bridge port %s failed (%s): port %u disabled", io_tun_name(tap), strerror(-err),
		port);
	pkt_vec_init(&out);
	br_port_disable(&sh->br, port, now, &out);
	vwired_bridge_output(w, sh, &out, now);
}

void vwired_on_tap_error(void *ctx, struct io_tun *tap, int err)
{
	struct vwired_worker *w = ctx;

	tap_failed(w, vwired_lock(w), tap, err);
	vwired_unlock(w);
}
