/* SPDX-License-Identifier: MIT */
/*
 * The vwirectl control socket: one request line in, the answer out, close.
 * Requests: "show NAME [--json]", "showstp|showmacs BRIDGE [--json]", "dot BRIDGE",
 * "mcheck BRIDGE PORT", "reload".
 * Answers that start with "error: " are failures.
 * The clients themselves (limits, timeouts, never waiting on one) are ctlsock.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge/showstp.h"
#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "daemon/metrics.h"
#include "daemon/out.h"
#include "daemon/vwired.h"

#define CTL_MAX_REQUEST 512

static void format_ago(char *buf, size_t len, uint64_t ns)
{
	uint64_t s = (uint64_t)(ns / NSEC_PER_SEC);

	if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 " h %" PRIu64 " min ago", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRIu64 " min %" PRIu64 " s ago", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 " s ago", s);
}

struct ip_text {
	struct out *o;
	bool json;
	int n;
};

static void ip_to_text(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr)
{
	struct ip_text *t = ctx;
	char s[64];

	inet_ntop(family, addr, s, sizeof(s));
	if (t->json)
		outf(t->o, "%s\"%s/%u\"", t->n ? ", " : "", s, cidr);
	else
		outf(t->o, "%s%s/%u", t->n ? ", " : "", s, cidr);
	t->n++;
}

/* Milliseconds since the wire's peer last proved itself; -1: never. */
static int64_t wire_quiet_ms(const struct vw_wire *w, uint64_t now)
{
	uint64_t rx = w->peer ? w->peer->last_authenticated_rx : 0;

	return rx ? (int64_t)((now - rx) / NSEC_PER_MSEC) : -1;
}

/* The round trip of a wire, smoothed (liveness.c), and the auto cost made of it. */
static void show_wire_rtt_text(const struct config_wire *cw, const struct vw_wire *w, struct out *o)
{
	const struct vw_rtt *r = &w->rtt;

	if (r->rtt.samples)
		outf(o,
		     "  round trip: %.3f ms (var %.3f ms, %" PRIu64 " samples, cost from %.3f ms)",
		     (double)r->rtt.srtt / 1e6, (double)r->rtt.rttvar / 1e6, r->rtt.samples,
		     (double)r->hyst.applied / 1e6);
	else
		outf(o, "  round trip: not measured yet");
	if (cw->cost == CONFIG_WIRE_COST_AUTO)
		outf(o, "; path cost auto\n");
	else
		outf(o, "; path cost %u (set)\n", cw->cost);
}

static void show_wire_rtt_json(const struct config_wire *cw, const struct vw_wire *w, struct out *o)
{
	const struct vw_rtt *r = &w->rtt;

	outf(o,
	     ", \"srtt_ms\": %.3f, \"rttvar_ms\": %.3f, \"rtt_samples\": %" PRIu64
	     ", \"rtt_cost_from_ms\": %.3f, \"rtt_probes_sent\": %" PRIu64
	     ", \"rtt_bad_samples\": %" PRIu64 ", \"cost_auto\": %s",
	     (double)r->rtt.srtt / 1e6, (double)r->rtt.rttvar / 1e6, r->rtt.samples,
	     (double)r->hyst.applied / 1e6, r->probes_sent, r->bad_samples,
	     cw->cost == CONFIG_WIRE_COST_AUTO ? "true" : "false");
}

/* A wire as `vwirectl show` lists it: its peer, VNI, tunnel and port state, counters. */
static void show_wire_text(struct vwired *d, uint32_t i, struct out *o, uint64_t now)
{
	const struct config_wire *cw = &d->cfg.wires[i];
	const struct vw_wire *w = &d->sh.wires[i];
	const struct br_port *bp = br_get_port(&d->sh.br, w->port);
	struct br_stp_port_view sp;
	bool stp = br_get_stp_view(&d->sh.br, w->port, &sp);
	char key[WG_KEY_LEN_BASE64 + 1];

	vwired_wire_peer_key(w, key);
	outf(o, "\nwire: %s\n  remote: %s vni %u port %u\n  peer: %s\n", cw->name, w->remote_str,
	     cw->vni, cw->port, key[0] ? key : "(none: Remote is in no peer's AllowedIPs)");
	outf(o, "  tunnel: %s", vwired_wire_state_name(w));
	if (wire_quiet_ms(w, now) >= 0)
		outf(o, " (last heard %" PRId64 " ms ago)", wire_quiet_ms(w, now));
	outf(o,
	     "\n  liveness: %" PRIu64 " probes sent, %" PRIu64 " silences, %" PRIu64
	     " goodbyes received, %" PRIu64 " waits for unread input\n",
	     w->live.probes_sent, w->live.silences, w->live.goodbyes_rx, w->live.waits);
	show_wire_rtt_text(cw, w, o);
	outf(o, "  bridge port: %u, state %s, path cost %u\n", w->port,
	     stp ? stp_state_name(sp.state) : "?", stp ? sp.path_cost : 0);
	if (bp)
		outf(o,
		     "  frames: %" PRIu64 " received, %" PRIu64 " sent; BPDUs %" PRIu64
		     " received, %" PRIu64 " sent\n",
		     bp->cnt.rx_frames, bp->cnt.tx_frames, bp->cnt.rx_bpdu, bp->cnt.tx_bpdu);
}

/* The offload counters both views print, in one place so that they agree. */
static const struct {
	const char *name;
	size_t at;
} offload_counters[] = {
	{"split_in", offsetof(struct offload_stats, split_in)},
	{"split_segs", offsetof(struct offload_stats, split_segs)},
	{"csum_completed", offsetof(struct offload_stats, csum_completed)},
	{"gro_in", offsetof(struct offload_stats, gro_in)},
	{"gro_out", offsetof(struct offload_stats, gro_out)},
	{"gro_super", offsetof(struct offload_stats, gro_super)},
	{"gro_merged", offsetof(struct offload_stats, gro_merged)},
	{"gro_super_udp", offsetof(struct offload_stats, gro_super_udp)},
	{"gro_chained", offsetof(struct offload_stats, gro_chained)},
	{"gro_bad_csum", offsetof(struct offload_stats, gro_bad_csum)},
	{"gro_nomem", offsetof(struct offload_stats, gro_nomem)},
};

static uint64_t offload_counter(const struct offload_stats *st, size_t i)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)st + offload_counters[i].at, sizeof(v));
	return v;
}

/* TUN/TAP segmentation and coalescing: the split and merge counts and their drops. */
static void show_offload(const struct vwired *d, struct out *o, bool json)
{
	const struct offload_stats *st = &d->sh.offload;

	if (!json) {
		outf(o, "  offload: %s\n", d->opt.offload ? "on" : "off");
		for (size_t i = 0; i < sizeof(offload_counters) / sizeof(offload_counters[0]); i++)
			if (offload_counter(st, i))
				outf(o, "  offload %s: %" PRIu64 "\n", offload_counters[i].name,
				     offload_counter(st, i));
		for (uint32_t i = 0; i < OFFLOAD_DROP_MAX; i++)
			if (st->drops[i])
				outf(o, "  drop %s: %" PRIu64 "\n", offload_drop_name(i),
				     st->drops[i]);
		return;
	}
	outf(o, "\"offload\": {\"enabled\": %s", d->opt.offload ? "true" : "false");
	for (size_t i = 0; i < sizeof(offload_counters) / sizeof(offload_counters[0]); i++)
		outf(o, ", \"%s\": %" PRIu64, offload_counters[i].name, offload_counter(st, i));
	for (uint32_t i = 0; i < OFFLOAD_DROP_MAX; i++)
		outf(o, ", \"%s\": %" PRIu64, offload_drop_name(i), st->drops[i]);
	outf(o, "}, ");
}

/* The wires' IPv4 fragmentation and reassembly (only frames over the tunnel MTU use it). */
static void show_ipfrag(const struct vwired *d, struct out *o, bool json)
{
	const struct ipfrag_stats *st = &d->sh.frag.stats;

	if (!d->sh.frag_ready)
		return;
	if (json) {
		outf(o,
		     "\"ipfrag\": {\"fragmented\": %" PRIu64 ", \"fragments_out\": %" PRIu64
		     ", \"fragments_in\": %" PRIu64 ", \"reassembled\": %" PRIu64 ", \"drops\": {",
		     st->fragmented, st->fragments_out, st->fragments_in, st->reassembled);
		for (uint32_t i = 0; i < IPFRAG_DROP_MAX; i++)
			outf(o, "%s\"%s\": %" PRIu64, i ? ", " : "", ipfrag_drop_name(i),
			     st->drops[i]);
		outf(o, "}}, ");
		return;
	}
	outf(o,
	     "  ipfrag: %" PRIu64 " packets fragmented into %" PRIu64 ", %" PRIu64
	     " fragments reassembled into %" PRIu64 "\n",
	     st->fragmented, st->fragments_out, st->fragments_in, st->reassembled);
	for (uint32_t i = 0; i < IPFRAG_DROP_MAX; i++)
		if (st->drops[i])
			outf(o, "  ipfrag drop %s: %" PRIu64 "\n", ipfrag_drop_name(i),
			     st->drops[i]);
}

/* The wires' VXLAN: frames encapsulated and decapsulated, and what decap refused, by why. */
static void show_vxlan(const struct vwired *d, struct out *o, bool json)
{
	const struct vx_stats *st = &d->sh.vx.stats;

	if (!d->sh.vx_ready)
		return;
	if (json) {
		outf(o,
		     "\"vxlan\": {\"encap\": %" PRIu64 ", \"decap\": %" PRIu64
		     ", \"passed\": %" PRIu64 ", \"drops\": {",
		     st->encap_packets, st->decap_packets, st->passed);
		for (uint32_t i = 0; i < VX_DROP_MAX; i++)
			outf(o, "%s\"%s\": %" PRIu64, i ? ", " : "", vx_drop_name(i), st->drops[i]);
		outf(o, "}}, ");
		return;
	}
	outf(o,
	     "  vxlan: %" PRIu64 " frames encapsulated, %" PRIu64 " decapsulated, %" PRIu64
	     " packets not for a wire\n",
	     st->encap_packets, st->decap_packets, st->passed);
	for (uint32_t i = 0; i < VX_DROP_MAX; i++)
		if (st->drops[i])
			outf(o, "  vxlan drop %s: %" PRIu64 "\n", vx_drop_name(i), st->drops[i]);
}

/* Milliseconds with microseconds, for the text form. */
static void out_ms(struct out *o, uint64_t ns)
{
	outf(o, "%" PRIu64 ".%03" PRIu64 " ms", (uint64_t)(ns / NSEC_PER_MSEC),
	     (uint64_t)(ns % NSEC_PER_MSEC / 1000));
}

static void show_worker_text(const struct vwired *d, struct out *o, uint32_t i)
{
	const struct vwired_worker *w = &d->workers[i];

	if (d->n_workers > 1)
		outf(o,
		     "  worker %u: udp %" PRIu64 " received, %" PRIu64 " sent; tun %" PRIu64
		     " read, %" PRIu64 " written\n",
		     i, w->udp_rx, w->udp_tx, w->tun_rx, w->tun_tx);
	outf(o,
	     "  worker %u: lock taken %" PRIu64 " times, %" PRIu64 " of them after a wait; held ",
	     i, w->lock_acquired, w->lock_contended);
	out_ms(o, w->lock_held_ns);
	outf(o, ", waited ");
	out_ms(o, w->lock_wait_ns);
	outf(o, "\n");
}

/*
 * What each worker's socket and TUN queue received and sent, as of its last batch, and
 * its use of the lock. Shown under the lock as worker 0, whose current hold is not in yet.
 */
static void show_workers(const struct vwired *d, struct out *o, bool json)
{
	if (!json)
		outf(o, "  workers: %u\n", d->n_workers);
	else
		outf(o, "\"workers\": [");
	for (uint32_t i = 0; i < d->n_workers; i++) {
		const struct vwired_worker *w = &d->workers[i];

		if (!json) {
			show_worker_text(d, o, i);
			continue;
		}
		outf(o,
		     "%s{\"udp_rx\": %" PRIu64 ", \"udp_tx\": %" PRIu64 ", \"tun_rx\": %" PRIu64
		     ", \"tun_tx\": %" PRIu64 ", \"lock_acquired\": %" PRIu64
		     ", \"lock_contended\": %" PRIu64 ", \"lock_held_ns\": %" PRIu64
		     ", \"lock_wait_ns\": %" PRIu64 "}",
		     i ? ", " : "", w->udp_rx, w->udp_tx, w->tun_rx, w->tun_tx, w->lock_acquired,
		     w->lock_contended, w->lock_held_ns, w->lock_wait_ns);
	}
	if (json)
		outf(o, "], ");
}

/* The control sockets' own guard rails: clients refused (all slots taken) and timed out. */
static void show_control(const struct vwired *d, struct out *o, bool json)
{
	struct ctlsock_stats st = {0};

	ctlsock_add_stats(d->uapi, &st);
	ctlsock_add_stats(d->ctl, &st);
	ctlsock_add_stats(d->ctl_bridge, &st);
	if (json)
		outf(o,
		     "\"control\": {\"clients_refused\": %" PRIu64
		     ", \"clients_timed_out\": %" PRIu64 "}, ",
		     st.clients_refused, st.clients_timed_out);
	else
		outf(o, "  control clients: %" PRIu64 " refused, %" PRIu64 " timed out\n",
		     st.clients_refused, st.clients_timed_out);
}

/* The learning bridge's bounds, summed over its ports (showstp --json has them per port). */
struct bridge_guards {
	uint64_t learn_limit, learn_full, bpdu_guard_trips, bpdu_timers_clamped, bpdu_aged_out;
};

static void bridge_guards(const struct bridge *br, struct bridge_guards *g)
{
	memset(g, 0, sizeof(*g));
	for (uint32_t port = 0; port < BR_MAX_PORTS; port++) {
		const struct br_port *bp = br_get_port(br, port);
		struct br_stp_port_view sp;

		if (!bp || !bp->in_use)
			continue;
		g->learn_limit += bp->cnt.learn_limit;
		g->learn_full += bp->cnt.learn_full;
		g->bpdu_guard_trips += bp->cnt.bpdu_guard;
		if (br_get_stp_view(br, port, &sp)) {
			g->bpdu_timers_clamped += sp.rx_clamped;
			g->bpdu_aged_out += sp.rx_aged_out;
		}
	}
}

/*
 * Every bounded table a sender can push on, with its cap and what the bound has done
 * (README, "Security and limits"); the drops the bounds cause are in "drops".
 */
static void show_limits(struct vwired *d, struct out *o, bool json)
{
	const struct wg_handshake_queue *q = &d->sh.wg.handshakes;
	const struct wg_ratelimiter *rl = &d->sh.wg.ratelimiter;
	struct bridge_guards g;

	if (json) {
		outf(o,
		     "\"limits\": {\"packet_pool\": {\"buffers\": %u, \"free\": %u}, "
		     "\"staged\": {\"packets\": %u, \"max\": %u}, "
		     "\"handshake_queue\": {\"queued\": %u, \"max\": %u, \"high_water\": %u}, "
		     "\"ratelimiter\": {\"sources\": %u, \"max\": %u, \"limited\": %" PRIu64
		     ", \"table_full\": %" PRIu64 ", \"evicted\": %" PRIu64 "}",
		     d->pool.count, pkt_pool_nfree(&d->pool), d->sh.wg.staged_total,
		     d->sh.wg.max_staged, q->len, q->cap, q->high_water, rl->count, rl->max_entries,
		     rl->stats.limited, rl->stats.table_full, rl->stats.evicted);
	} else {
		outf(o,
		     "  limits: pool %u buffers (%u free); staged %u of %u; handshake queue %u of "
		     "%u (at most %u); rate limiter %u of %u sources, %" PRIu64 " limited, %" PRIu64
		     " full-table admissions, %" PRIu64 " evicted\n",
		     d->pool.count, pkt_pool_nfree(&d->pool), d->sh.wg.staged_total,
		     d->sh.wg.max_staged, q->len, q->cap, q->high_water, rl->count, rl->max_entries,
		     rl->stats.limited, rl->stats.table_full, rl->stats.evicted);
	}
	if (!d->sh.has_bridge) {
		if (json)
			outf(o, "}, ");
		return;
	}
	bridge_guards(&d->sh.br, &g);
	if (json)
		outf(o,
		     ", \"fdb\": {\"entries\": %u, \"max\": %u, \"max_learned_per_port\": %u, "
		     "\"evicted\": %" PRIu64 ", \"learn_limit\": %" PRIu64
		     ", \"learn_full\": %" PRIu64 "}, \"bpdu\": {\"guard_trips\": %" PRIu64
		     ", \"timers_clamped\": %" PRIu64 ", \"aged_out\": %" PRIu64 "}}, ",
		     d->sh.br.fdb.count, d->sh.br.fdb.cap, d->sh.br.fdb.max_learned,
		     d->sh.br.fdb.st.evicted, g.learn_limit, g.learn_full, g.bpdu_guard_trips,
		     g.bpdu_timers_clamped, g.bpdu_aged_out);
	else
		outf(o,
		     "  bridge limits: fdb %u of %u (%u per port), %" PRIu64 " evicted, %" PRIu64
		     " not learned at a port's limit, %" PRIu64 " with the table full; BPDU guard "
		     "%" PRIu64 ", BPDU timers clamped %" PRIu64 ", aged out %" PRIu64 "\n",
		     d->sh.br.fdb.count, d->sh.br.fdb.cap, d->sh.br.fdb.max_learned,
		     d->sh.br.fdb.st.evicted, g.learn_limit, g.learn_full, g.bpdu_guard_trips,
		     g.bpdu_timers_clamped, g.bpdu_aged_out);
}

static void show_text(struct vwired *d, struct out *o, uint64_t now)
{
	const struct vwired_worker *w0 = &d->workers[0];
	uint8_t pub[WG_KEY_LEN];
	char key[WG_KEY_LEN_BASE64 + 1], ep[80], ago[64];

	outf(o, "interface: %s\n", d->name);
	if (wg_device_public_key(&d->sh.wg, pub)) {
		key_to_base64(key, pub);
		outf(o, "  public key: %s\n", key);
	}
	outf(o, "  listening port: %u\n", w0->udp ? io_udp_port(w0->udp) : 0);
	outf(o, "  tun: %s\n", w0->tun ? io_tun_name(w0->tun) : "off");
	outf(o, "  io: %s\n", io_loop_backend_name(w0->loop));
	outf(o, "  peers: %u\n", d->sh.wg.npeers);
	for (uint32_t i = 0; i < WG_DROP_MAX; i++)
		if (d->sh.wg.drops[i])
			outf(o, "  drop %s: %" PRIu64 "\n", wg_drop_name(i), d->sh.wg.drops[i]);
	for (uint32_t i = 0; i < VWIRED_DROP_MAX; i++)
		if (d->sh.drops[i])
			outf(o, "  drop %s: %" PRIu64 "\n", vwired_drop_name(i), d->sh.drops[i]);
	show_offload(d, o, false);
	show_ipfrag(d, o, false);
	show_vxlan(d, o, false);
	show_workers(d, o, false);
	show_control(d, o, false);
	show_limits(d, o, false);
	if (d->sh.has_bridge)
		outf(o, "  bridge: %s\n", d->cfg.bridge.name);
	for (uint32_t i = 0; i < d->cfg.n_wires; i++)
		show_wire_text(d, i, o, now);
	for (struct wg_peer *p = wg_device_first_peer(&d->sh.wg); p; p = wg_device_next_peer(p)) {
		struct wg_peer_info info;
		struct ip_text t = {o, false, 0};

		wg_peer_get_info(p, &info);
		key_to_base64(key, info.public_key);
		outf(o, "\npeer: %s\n", key);
		if (info.endpoint.sa.sa_family != AF_UNSPEC) {
			vw_endpoint_format(&info.endpoint, ep, sizeof(ep));
			outf(o, "  endpoint: %s\n", ep);
		}
		outf(o, "  allowed ips: ");
		wg_peer_foreach_allowed_ip(p, ip_to_text, &t);
		outf(o, "%s\n", t.n ? "" : "(none)");
		if (info.has_handshake) {
			format_ago(ago, sizeof(ago), now - info.last_handshake_ns);
			outf(o, "  latest handshake: %s\n", ago);
		}
		outf(o, "  session: %s\n", info.session_up ? "up" : "down");
		outf(o, "  transfer: %" PRIu64 " B received, %" PRIu64 " B sent\n", info.rx_bytes,
		     info.tx_bytes);
		outf(o, "  dropped: %" PRIu64 " received, %" PRIu64 " sent\n", p->rx_dropped,
		     p->tx_dropped);
		if (info.persistent_keepalive_interval)
			outf(o, "  persistent keepalive: every %u s\n",
			     info.persistent_keepalive_interval);
		crypto_wipe(&info, sizeof(info));
	}
}

static void show_json(struct vwired *d, struct out *o, uint64_t now)
{
	const struct vwired_worker *w0 = &d->workers[0];
	uint8_t pub[WG_KEY_LEN];
	char key[WG_KEY_LEN_BASE64 + 1], ep[80];
	bool first = true;

	outf(o, "{\"name\": \"%s\", ", d->name);
	if (wg_device_public_key(&d->sh.wg, pub)) {
		key_to_base64(key, pub);
		outf(o, "\"public_key\": \"%s\", ", key);
	}
	outf(o, "\"listen_port\": %u, \"tun\": ", w0->udp ? io_udp_port(w0->udp) : 0);
	if (w0->tun)
		outf(o, "\"%s\", ", io_tun_name(w0->tun));
	else
		outf(o, "null, ");
	outf(o, "\"io\": \"%s\", \"drops\": {", io_loop_backend_name(w0->loop));
	for (uint32_t i = 0; i < WG_DROP_MAX; i++, first = false)
		outf(o, "%s\"%s\": %" PRIu64, first ? "" : ", ", wg_drop_name(i),
		     d->sh.wg.drops[i]);
	for (uint32_t i = 0; i < VWIRED_DROP_MAX; i++)
		outf(o, ", \"%s\": %" PRIu64, vwired_drop_name(i), d->sh.drops[i]);
	outf(o, "}, ");
	show_offload(d, o, true);
	show_ipfrag(d, o, true);
	show_vxlan(d, o, true);
	show_workers(d, o, true);
	show_control(d, o, true);
	show_limits(d, o, true);
	outf(o, "\"bridge\": ");
	if (d->sh.has_bridge)
		outf(o, "\"%s\"", d->cfg.bridge.name);
	else
		outf(o, "null");
	outf(o, ", \"wires\": [");
	for (uint32_t i = 0; i < d->cfg.n_wires; i++) {
		const struct config_wire *cw = &d->cfg.wires[i];
		const struct vw_wire *w = &d->sh.wires[i];
		const struct br_port *bp = br_get_port(&d->sh.br, w->port);
		struct br_stp_port_view sp;
		bool stp = br_get_stp_view(&d->sh.br, w->port, &sp);

		vwired_wire_peer_key(w, key);
		outf(o,
		     "%s{\"name\": \"%s\", \"remote\": \"%s\", \"vni\": %u, \"port\": %u, "
		     "\"peer\": \"%s\", \"tunnel_up\": %s, \"tunnel\": \"%s\", "
		     "\"last_heard_ms\": %" PRId64 ", \"probes_sent\": %" PRIu64
		     ", \"silences\": %" PRIu64 ", \"goodbyes_rx\": %" PRIu64
		     ", \"waits\": %" PRIu64 ", \"bridge_port\": %u, \"state\": \"%s\"",
		     i ? ", " : "", cw->name, w->remote_str, cw->vni, cw->port, key,
		     w->up ? "true" : "false", vwired_wire_state_name(w), wire_quiet_ms(w, now),
		     w->live.probes_sent, w->live.silences, w->live.goodbyes_rx, w->live.waits,
		     w->port, stp ? stp_state_name(sp.state) : "");
		show_wire_rtt_json(cw, w, o);
		if (stp)
			outf(o, ", \"path_cost\": %u", sp.path_cost);
		if (bp)
			outf(o,
			     ", \"rx_frames\": %" PRIu64 ", \"tx_frames\": %" PRIu64
			     ", \"rx_bpdu\": %" PRIu64 ", \"tx_bpdu\": %" PRIu64,
			     bp->cnt.rx_frames, bp->cnt.tx_frames, bp->cnt.rx_bpdu,
			     bp->cnt.tx_bpdu);
		outf(o, "}");
	}
	outf(o, "], \"peers\": [");
	first = true;
	for (struct wg_peer *p = wg_device_first_peer(&d->sh.wg); p; p = wg_device_next_peer(p)) {
		struct wg_peer_info info;
		struct ip_text t = {o, true, 0};

		wg_peer_get_info(p, &info);
		key_to_base64(key, info.public_key);
		outf(o, "%s{\"public_key\": \"%s\", \"endpoint\": ", first ? "" : ", ", key);
		first = false;
		if (info.endpoint.sa.sa_family != AF_UNSPEC) {
			vw_endpoint_format(&info.endpoint, ep, sizeof(ep));
			outf(o, "\"%s\"", ep);
		} else {
			outf(o, "null");
		}
		outf(o, ", \"allowed_ips\": [");
		wg_peer_foreach_allowed_ip(p, ip_to_text, &t);
		outf(o, "], \"latest_handshake_seconds_ago\": ");
		if (info.has_handshake)
			outf(o, "%" PRIu64,
			     (uint64_t)((now - info.last_handshake_ns) / NSEC_PER_SEC));
		else
			outf(o, "null");
		outf(o,
		     ", \"session_up\": %s, \"rx_bytes\": %" PRIu64 ", \"tx_bytes\": %" PRIu64
		     ", \"rx_dropped\": %" PRIu64 ", \"tx_dropped\": %" PRIu64
		     ", \"persistent_keepalive\": %u}",
		     info.session_up ? "true" : "false", info.rx_bytes, info.tx_bytes,
		     p->rx_dropped, p->tx_dropped, info.persistent_keepalive_interval);
		crypto_wipe(&info, sizeof(info));
	}
	outf(o, "]}\n");
}

/* Formats with one of the snprintf-like bridge printers into the answer. */
static void show_with(struct out *o, size_t (*fn)(const struct bridge *, uint64_t, char *, size_t),
		      const struct bridge *br, uint64_t now)
{
	size_t need = fn(br, now, NULL, 0);
	char *buf = malloc(need + 1);

	if (!buf) {
		o->oom = true;
		return;
	}
	fn(br, now, buf, need + 1);
	outf(o, "%s", buf);
	free(buf);
}

/* The spanning tree as this bridge sees it, for graphviz: its ports, their roles and LANs. */
static void show_dot(struct vwired *d, struct out *o)
{
	char id[18], root[18], peer[18];
	struct br_stp_view v;

	br_stp_get_view(&d->sh.br, &v);
	br_format_bridge_id(v.bridge_id, id);
	br_format_bridge_id(v.designated_root, root);
	outf(o, "graph \"%s\" {\n  \"%s\" [label=\"%s\\n%s%s\", shape=box];\n", d->cfg.bridge.name,
	     id, d->cfg.bridge.name, id, v.is_root ? "\\nroot" : "");
	for (uint32_t port = 1; port < BR_MAX_PORTS; port++) {
		const struct br_port *bp = br_get_port(&d->sh.br, port);
		struct br_stp_port_view sp;
		bool cut;

		if (!bp || !bp->in_use || !br_get_stp_view(&d->sh.br, port, &sp))
			continue;
		/* Not a branch of the tree: 802.1D's blocked, RSTP's alternate and backup,
		 * disabled. */
		cut = strcmp(sp.role, "root") && strcmp(sp.role, "designated");
		br_format_bridge_id(sp.designated_bridge, peer);
		outf(o,
		     "  \"%s\" -- \"%s:%s\" [label=\"%s %s cost %u\", style=%s];\n"
		     "  \"%s:%s\" [label=\"%s\\ndesignated %s\", shape=ellipse];\n",
		     id, id, bp->name, bp->name, sp.role, sp.path_cost, cut ? "dashed" : "solid",
		     id, bp->name, bp->name, peer);
	}
	outf(o, "  label=\"root %s (%s)\";\n}\n", root, br_protocol_name(v.protocol));
}

static void show_bridge(struct vwired *d, const char *what, bool json, struct out *o)
{
	uint64_t now = vw_clock_mono_ns();

	if (!strcmp(what, "showstp"))
		show_with(o, json ? br_showstp_json : br_showstp, &d->sh.br, now);
	else if (!strcmp(what, "showmacs"))
		show_with(o, json ? br_showmacs_json : br_showmacs, &d->sh.br, now);
	else
		show_dot(d, o);
}

/*
 * "mcheck BRIDGE PORT": RSTP tries again on the port (its 802.1D neighbour replaced by
 * an RSTP one). The BPDUs it sends go out through worker 0, as a timer's would.
 */
static void do_mcheck(struct vwired *d, const char *port_name, struct out *o)
{
	struct vwired_shared *sh = &d->sh;
	uint64_t now = vw_clock_mono_ns();
	int port = br_port_by_name(&sh->br, port_name);
	struct pkt_vec out;
	int rc;

	if (port < 0) {
		outf(o, "error: %s has no port '%s'\n", sh->br.name, port_name);
		return;
	}
	pkt_vec_init(&out);
	rc = br_mcheck(&sh->br, (uint32_t)port, now, &out);
	vwired_bridge_output(&d->workers[0], sh, &out, now);
	vwired_rearm_timers(&d->workers[0], sh);
	if (rc == -EOPNOTSUPP)
		outf(o, "error: %s runs 802.1D (Protocol = stp): no mcheck\n", sh->br.name);
	else if (rc < 0)
		outf(o, "error: mcheck %s: %s\n", port_name, strerror(-rc));
	else
		outf(o, "ok\n");
}

static void handle_request(struct vwired *d, char *req, struct out *o)
{
	char *argv[4] = {0};
	int argc = 0;
	bool json = false;

	for (char *tok = strtok(req, " \t\r\n"); tok && argc < 4; tok = strtok(NULL, " \t\r\n"))
		argv[argc++] = tok;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			json = true;
	if (argc >= 1 && !strcmp(argv[0], "show")) {
		if (json)
			show_json(d, o, vw_clock_mono_ns());
		else
			show_text(d, o, vw_clock_mono_ns());
		return;
	}
	if (argc >= 1 && !strcmp(argv[0], "metrics")) {
		vwired_metrics(d, o, vw_clock_mono_ns());
		return;
	}
	if (argc >= 1 && (!strcmp(argv[0], "showstp") || !strcmp(argv[0], "showmacs") ||
			  !strcmp(argv[0], "dot"))) {
		if (!d->sh.has_bridge) {
			outf(o, "error: %s has no bridge\n", d->name);
			return;
		}
		show_bridge(d, argv[0], json, o);
		return;
	}
	if (argc >= 1 && !strcmp(argv[0], "mcheck")) {
		if (!d->sh.has_bridge)
			outf(o, "error: %s has no bridge\n", d->name);
		else if (argc != 3)
			outf(o, "error: usage: mcheck BRIDGE PORT\n");
		else
			do_mcheck(d, argv[2], o);
		return;
	}
	outf(o, "error: unknown request '%s'\n", argc ? argv[0] : "");
}

/* "reload", or "reload FILE" with FILE open and passed along (vwirectl reload NAME FILE). */
static bool is_reload(char *req, char **file)
{
	char *save = NULL, *cmd = strtok_r(req, " \t\r", &save);

	*file = cmd ? strtok_r(NULL, " \t\r", &save) : NULL;
	return cmd && !strcmp(cmd, "reload") && !strtok_r(NULL, " \t\r", &save);
}

/* Reading and parsing the file happen before the lock (reload.c takes it itself). */
static void answer_reload(struct vwired *d, struct ctlsock_client *c, const char *file,
			  struct out *o)
{
	int fd = ctlsock_client_take_fd(c);
	char msg[1024];

	if (file && (fd < 0 || file[0] != '/'))
		outf(o, "error: reload FILE: FILE must be an absolute path, passed open "
			"(vwirectl reload NAME FILE)\n");
	else if (vwired_reload_file(d, file ? fd : -1, file, msg, sizeof(msg)))
		outf(o, "error: %s\n", msg);
	else
		outf(o, "%s\n", msg);
	if (fd >= 0)
		close(fd);
}

/*
 * A request is the first line, or all the client sent before shutting its side (or
 * CTL_MAX_REQUEST bytes of it). Its answer is the last: the client is closed once it
 * has taken it.
 */
static size_t on_request(void *ctx, struct ctlsock_client *c, char *in, size_t len, bool end)
{
	struct vwired *d = ctx;
	char req[CTL_MAX_REQUEST + 1], copy[CTL_MAX_REQUEST + 1], *file;
	const char *nl = memchr(in, '\n', len);
	struct out o = {0};

	if (!nl && !end)
		return 0;
	if (nl)
		len = (size_t)(nl - in);
	if (len > CTL_MAX_REQUEST)
		len = CTL_MAX_REQUEST;
	memcpy(req, in, len);
	req[len] = '\0';
	memcpy(copy, req, len + 1);
	if (is_reload(copy, &file)) {
		answer_reload(d, c, file, &o);
	} else {
		/* Answers read the shared state: under the lock, as worker 0, into o. */
		vwired_lock(&d->workers[0]);
		handle_request(d, req, &o);
		vwired_unlock(&d->workers[0]);
	}
	if (o.oom) {
		static const char msg[] = "error: out of memory\n";

		free(o.buf);
		ctlsock_reply(c, msg, sizeof(msg) - 1);
	} else {
		/* The client owns the answer from here on and frees it once it is out. */
		ctlsock_reply_take(c, o.buf, o.len);
	}
	return CTLSOCK_LAST;
}

struct ctlsock *ctl_server_new(struct vwired *d, const char *path)
{
	return ctlsock_new(d->workers[0].loop, path, CTL_MAX_REQUEST, on_request, d);
}
