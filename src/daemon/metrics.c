/* SPDX-License-Identifier: MIT */
/*
 * vwirectl metrics: the counters of `vwirectl show --json` and showstp, in the Prometheus
 * text exposition format 0.0.4. One family per name, its HELP and TYPE first and all its
 * series after, so that vwirectl can merge instances family by family. Names take base
 * units (seconds, bytes) and counters end in _total. An enumeration (a wire's tunnel state,
 * a port's STP state and role) is one series per possible value, 1 for the current one, so
 * that a query never finds the series it asks for missing.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bridge/bridge.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "daemon/metrics.h"
#include "daemon/vwired.h"

void metrics_label_value(struct out *o, const char *v)
{
	while (*v) {
		size_t n = strcspn(v, "\\\"\n");

		outf(o, "%.*s", (int)n, v);
		v += n;
		if (*v)
			outf(o, "\\%c", *v == '\n' ? 'n' : *v);
		v += !!*v;
	}
}

/* A family, then its series: sample() opens one, label() adds to it, value*() ends it. */
struct mw {
	struct out *o;
	const char *instance;
};

static void family(struct mw *m, const char *name, const char *type, const char *help)
{
	outf(m->o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct mw *m, const char *name)
{
	outf(m->o, "%s{instance=\"", name);
	metrics_label_value(m->o, m->instance);
	outf(m->o, "\"");
}

static void label(struct mw *m, const char *key, const char *value)
{
	outf(m->o, ",%s=\"", key);
	metrics_label_value(m->o, value);
	outf(m->o, "\"");
}

static void value(struct mw *m, uint64_t v)
{
	outf(m->o, "} %" PRIu64 "\n", v);
}

static void value_seconds(struct mw *m, uint64_t ns)
{
	outf(m->o, "} %" PRIu64 ".%03" PRIu64 "\n", (uint64_t)(ns / NSEC_PER_SEC),
	     (uint64_t)(ns % NSEC_PER_SEC / NSEC_PER_MSEC));
}

/* Seconds with microseconds: round trips are a few milliseconds, a lock hold less. */
static void value_seconds_us(struct mw *m, uint64_t ns)
{
	outf(m->o, "} %" PRIu64 ".%06" PRIu64 "\n", (uint64_t)(ns / NSEC_PER_SEC),
	     (uint64_t)(ns % NSEC_PER_SEC / 1000));
}

/* A family of one series with the instance label alone. */
static void single(struct mw *m, const char *name, const char *type, const char *help, uint64_t v)
{
	family(m, name, type, help);
	sample(m, name);
	value(m, v);
}

/* A counter of some struct, by its offset: the tables below name them once. */
struct field {
	const char *name, *help;
	size_t at;
};

static uint64_t u64_at(const void *base, size_t at)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)base + at, sizeof(v));
	return v;
}

static void process(struct mw *m, const struct vwired *d)
{
	uint64_t wall_offset = (uint64_t)d->sh.wg.wall_offset_ns;

	family(m, "vwire_build_info", "gauge", "vwired's version, as a label; always 1.");
	sample(m, "vwire_build_info");
	label(m, "version", d->opt.version ? d->opt.version : "unknown");
	value(m, 1);
	family(m, "vwire_start_time_seconds", "gauge",
	       "When vwired started, in seconds since the epoch.");
	sample(m, "vwire_start_time_seconds");
	value_seconds(m, d->started_ns + wall_offset);
	single(m, "vwire_offload_enabled", "gauge", "1 when TUN/TAP and UDP offloads are on.",
	       d->opt.offload);
	single(m, "vwire_workers", "gauge", "Worker threads.", d->n_workers);
}

static void peer_sample(struct mw *m, const char *name, const struct wg_peer *p)
{
	char key[WG_KEY_LEN_BASE64 + 1];

	key_to_base64(key, wg_peer_public_key(p));
	sample(m, name);
	label(m, "public_key", key);
}

enum peer_value {
	PEER_RX_BYTES,
	PEER_TX_BYTES,
	PEER_HANDSHAKE,
	PEER_SESSION,
	PEER_RX_DROPS,
	PEER_TX_DROPS
};

static const struct {
	const char *name, *type, *help;
} peer_families[] = {
	[PEER_RX_BYTES] = {"vwire_peer_receive_bytes_total", "counter",
			   "Bytes received from the peer, as wg show's transfer."},
	[PEER_TX_BYTES] = {"vwire_peer_transmit_bytes_total", "counter",
			   "Bytes sent to the peer, as wg show's transfer."},
	[PEER_HANDSHAKE] = {"vwire_peer_last_handshake_timestamp_seconds", "gauge",
			    "Latest handshake with the peer in seconds since the epoch; 0: none."},
	[PEER_SESSION] = {"vwire_peer_session_up", "gauge", "1 while the peer has a session."},
	[PEER_RX_DROPS] = {"vwire_peer_receive_drops_total", "counter",
			   "Packets from the peer dropped (its share of vwire_drops_total)."},
	[PEER_TX_DROPS] = {"vwire_peer_transmit_drops_total", "counter",
			   "Packets to the peer dropped (its share of vwire_drops_total)."},
};

static uint64_t peer_value(const struct vwired *d, const struct wg_peer *p, enum peer_value what)
{
	struct wg_peer_info info;
	uint64_t v = 0;

	wg_peer_get_info(p, &info);
	switch (what) {
	case PEER_RX_BYTES:
		v = info.rx_bytes;
		break;
	case PEER_TX_BYTES:
		v = info.tx_bytes;
		break;
	case PEER_HANDSHAKE:
		/* Whole seconds of wall time, as the UAPI gives `wg show` (uapi_server.c). */
		if (info.has_handshake)
			v = (info.last_handshake_ns + (uint64_t)d->sh.wg.wall_offset_ns) /
			    NSEC_PER_SEC;
		break;
	case PEER_SESSION:
		v = info.session_up;
		break;
	case PEER_RX_DROPS:
		v = p->rx_dropped;
		break;
	case PEER_TX_DROPS:
		v = p->tx_dropped;
		break;
	}
	crypto_wipe(&info, sizeof(info));
	return v;
}

static void peers(struct mw *m, struct vwired *d)
{
	for (size_t f = 0; f < sizeof(peer_families) / sizeof(peer_families[0]); f++) {
		family(m, peer_families[f].name, peer_families[f].type, peer_families[f].help);
		for (struct wg_peer *p = wg_device_first_peer(&d->sh.wg); p;
		     p = wg_device_next_peer(p)) {
			peer_sample(m, peer_families[f].name, p);
			value(m, peer_value(d, p, (enum peer_value)f));
		}
	}
}

static void wire_sample(struct mw *m, const struct vwired *d, const char *name, uint32_t i)
{
	sample(m, name);
	label(m, "wire", d->cfg.wires[i].name);
	label(m, "remote", d->sh.wires[i].remote_str);
}

static const struct field wire_counters[] = {
	{"vwire_wire_probes_sent_total", "Liveness probes sent to the wire's Remote.",
	 offsetof(struct vw_wire, live.probes_sent)},
	{"vwire_wire_silences_total", "Times the wire's peer stopped answering probes.",
	 offsetof(struct vw_wire, live.silences)},
	{"vwire_wire_goodbyes_received_total", "Goodbyes the wire's peer sent as it stopped.",
	 offsetof(struct vw_wire, live.goodbyes_rx)},
	{"vwire_wire_liveness_waits_total",
	 "Times a wire's silence waited for unread input or a late check (vwired was behind).",
	 offsetof(struct vw_wire, live.waits)},
	{"vwire_wire_receive_frames_total", "Frames the wire's VXLAN delivered to the bridge.",
	 offsetof(struct vw_wire, rx_frames)},
	{"vwire_wire_rtt_probes_sent_total",
	 "Probes sent for the round trip alone, every 2 s while the wire has a session.",
	 offsetof(struct vw_wire, rtt.probes_sent)},
	{"vwire_wire_rtt_samples_total", "Round trips measured from answers to probes.",
	 offsetof(struct vw_wire, rtt.rtt.samples)},
	{"vwire_wire_rtt_bad_samples_total",
	 "Answers to probes whose clock could not be a round trip (left out).",
	 offsetof(struct vw_wire, rtt.bad_samples)},
};

/* The smoothed round trip of each measured wire (RFC 6298's SRTT and RTTVAR). */
static void wire_rtts(struct mw *m, const struct vwired *d)
{
	static const struct field gauges[] = {
		{"vwire_wire_rtt_seconds",
		 "The wire's smoothed round trip (SRTT); no series: not measured yet.",
		 offsetof(struct vw_wire, rtt.rtt.srtt)},
		{"vwire_wire_rtt_variation_seconds",
		 "The variation of the wire's round trip (RTTVAR); no series: not measured yet.",
		 offsetof(struct vw_wire, rtt.rtt.rttvar)},
	};

	for (size_t f = 0; f < sizeof(gauges) / sizeof(gauges[0]); f++) {
		family(m, gauges[f].name, "gauge", gauges[f].help);
		for (uint32_t i = 0; i < d->cfg.n_wires; i++) {
			if (!d->sh.wires[i].rtt.rtt.samples)
				continue;
			wire_sample(m, d, gauges[f].name, i);
			value_seconds_us(m, u64_at(&d->sh.wires[i], gauges[f].at));
		}
	}
}

static void wires(struct mw *m, const struct vwired *d, uint64_t now)
{
	static const char *const states[] = {"up", "silent", "left", "down"};
	char key[WG_KEY_LEN_BASE64 + 1], vni[12];

	family(m, "vwire_wire_info", "gauge", "A wire's VNI and its peer's public key; always 1.");
	for (uint32_t i = 0; i < d->cfg.n_wires; i++) {
		vwired_wire_peer_key(&d->sh.wires[i], key);
		snprintf(vni, sizeof(vni), "%u", d->cfg.wires[i].vni);
		wire_sample(m, d, "vwire_wire_info", i);
		label(m, "vni", vni);
		label(m, "public_key", key);
		value(m, 1);
	}
	family(m, "vwire_wire_state", "gauge",
	       "1 for the wire's tunnel state as vwirectl show names it: up, silent (its peer "
	       "stopped answering), left (it said goodbye) or down (no session).");
	for (uint32_t i = 0; i < d->cfg.n_wires; i++) {
		const char *cur = vwired_wire_state_name(&d->sh.wires[i]);

		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
			wire_sample(m, d, "vwire_wire_state", i);
			label(m, "state", states[s]);
			value(m, !strcmp(cur, states[s]));
		}
	}
	family(m, "vwire_wire_last_heard_seconds", "gauge",
	       "Seconds since the wire's peer last sent anything that authenticated; no series: "
	       "never.");
	for (uint32_t i = 0; i < d->cfg.n_wires; i++) {
		const struct wg_peer *p = d->sh.wires[i].peer;

		if (!p || !p->last_authenticated_rx)
			continue;
		wire_sample(m, d, "vwire_wire_last_heard_seconds", i);
		value_seconds(m, now - p->last_authenticated_rx);
	}
	wire_rtts(m, d);
	for (size_t f = 0; f < sizeof(wire_counters) / sizeof(wire_counters[0]); f++) {
		family(m, wire_counters[f].name, "counter", wire_counters[f].help);
		for (uint32_t i = 0; i < d->cfg.n_wires; i++) {
			wire_sample(m, d, wire_counters[f].name, i);
			value(m, u64_at(&d->sh.wires[i], wire_counters[f].at));
		}
	}
}

static void port_sample(struct mw *m, const struct vwired *d, const char *name, uint32_t port)
{
	sample(m, name);
	label(m, "bridge", d->cfg.bridge.name);
	label(m, "port", d->sh.br.ports[port].name);
}

static void bridge_sample(struct mw *m, const struct vwired *d, const char *name)
{
	sample(m, name);
	label(m, "bridge", d->cfg.bridge.name);
}

static void bridge_single(struct mw *m, const struct vwired *d, const char *name, const char *type,
			  const char *help, uint64_t v)
{
	family(m, name, type, help);
	bridge_sample(m, d, name);
	value(m, v);
}

static const struct field port_counters[] = {
	{"vwire_bridge_port_receive_frames_total", "Frames the bridge took in on the port.",
	 offsetof(struct br_port_counters, rx_frames)},
	{"vwire_bridge_port_receive_bytes_total", "Bytes of those frames.",
	 offsetof(struct br_port_counters, rx_bytes)},
	{"vwire_bridge_port_transmit_frames_total", "Frames the bridge sent out of the port.",
	 offsetof(struct br_port_counters, tx_frames)},
	{"vwire_bridge_port_transmit_bytes_total", "Bytes of those frames.",
	 offsetof(struct br_port_counters, tx_bytes)},
	{"vwire_bridge_port_bpdus_received_total", "BPDUs received on the port.",
	 offsetof(struct br_port_counters, rx_bpdu)},
	{"vwire_bridge_port_bpdus_sent_total", "BPDUs sent on the port.",
	 offsetof(struct br_port_counters, tx_bpdu)},
	{"vwire_bridge_port_learn_limit_total",
	 "Source addresses not learned: the port held [Bridge] MaxLearned.",
	 offsetof(struct br_port_counters, learn_limit)},
	{"vwire_bridge_port_learn_full_total",
	 "Source addresses not learned: the FDB was full and the port held its fair share.",
	 offsetof(struct br_port_counters, learn_full)},
	{"vwire_bridge_port_bpdu_guard_trips_total", "Times BPDU guard disabled the port.",
	 offsetof(struct br_port_counters, bpdu_guard)},
};

/* From the tree's view of a port, whichever protocol runs. */
static const struct field tree_port_counters[] = {
	{"vwire_bridge_port_bpdu_timers_clamped_total",
	 "Configuration BPDUs with a timer outside 802.1D's ranges, used clamped.",
	 offsetof(struct br_stp_port_view, rx_clamped)},
	{"vwire_bridge_port_bpdu_aged_out_total",
	 "Configuration BPDUs discarded: message age at or past max age.",
	 offsetof(struct br_stp_port_view, rx_aged_out)},
	{"vwire_bridge_port_state_transitions_total", "Changes of the port's state.",
	 offsetof(struct br_stp_port_view, transitions)},
	{"vwire_bridge_port_migrations_total",
	 "RSTP: switches of the protocol the port speaks (RSTP, 802.1D).",
	 offsetof(struct br_stp_port_view, migrations)},
	{"vwire_bridge_port_topology_changes_detected_total",
	 "RSTP: topology changes the port started.",
	 offsetof(struct br_stp_port_view, tc_detected)},
	{"vwire_bridge_port_topology_changes_received_total",
	 "RSTP: topology change flags and TCNs the port heard.",
	 offsetof(struct br_stp_port_view, tc_received)},
	{"vwire_bridge_port_departed_root_bpdus_total",
	 "RSTP: BPDUs naming as root a bridge that had just left, discarded for a hold.",
	 offsetof(struct br_stp_port_view, rx_departed)},
};

/*
 * A port's role, one series per role the bridge's protocol has (802.1D calls the port that
 * breaks a loop blocked, RSTP alternate or backup); a role outside the list gets its own.
 */
static void port_role(struct mw *m, const struct vwired *d, uint32_t port, const char *role)
{
	static const char *const stp_roles[] = {"root", "designated", "blocked", "disabled", NULL};
	static const char *const rstp_roles[] = {"root",   "designated", "alternate",
						 "backup", "disabled",	 NULL};
	const char *const *roles = d->sh.br.protocol == BR_PROTO_RSTP ? rstp_roles : stp_roles;
	bool listed = false;

	for (; *roles; roles++) {
		listed |= !strcmp(role, *roles);
		port_sample(m, d, "vwire_bridge_port_role", port);
		label(m, "role", *roles);
		value(m, !strcmp(role, *roles));
	}
	if (!listed) {
		port_sample(m, d, "vwire_bridge_port_role", port);
		label(m, "role", role);
		value(m, 1);
	}
}

/* The spanning tree's view of the bridge and its ports (the local port has none). */
static void port_tree(struct mw *m, const struct vwired *d)
{
	const struct bridge *br = &d->sh.br;
	struct br_stp_port_view v;
	struct br_stp_view bv;

	family(m, "vwire_bridge_port_state", "gauge", "1 for the port's spanning tree state.");
	for (uint32_t port = 1; port < BR_MAX_PORTS; port++) {
		for (int s = STP_DISABLED; br_get_stp_view(br, port, &v) && s <= STP_BLOCKING;
		     s++) {
			port_sample(m, d, "vwire_bridge_port_state", port);
			label(m, "state", stp_state_name((enum stp_state)s));
			value(m, v.state == (enum stp_state)s);
		}
	}
	family(m, "vwire_bridge_port_role", "gauge", "1 for the port's spanning tree role.");
	for (uint32_t port = 1; port < BR_MAX_PORTS; port++)
		if (br_get_stp_view(br, port, &v))
			port_role(m, d, port, v.role);
	family(m, "vwire_bridge_port_rstp", "gauge",
	       "1 while the port speaks RSTP, 0 while it speaks 802.1D.");
	for (uint32_t port = 1; port < BR_MAX_PORTS; port++) {
		if (!br_get_stp_view(br, port, &v))
			continue;
		port_sample(m, d, "vwire_bridge_port_rstp", port);
		value(m, v.rstp);
	}
	for (size_t f = 0; f < sizeof(tree_port_counters) / sizeof(tree_port_counters[0]); f++) {
		family(m, tree_port_counters[f].name, "counter", tree_port_counters[f].help);
		for (uint32_t port = 1; port < BR_MAX_PORTS; port++) {
			if (!br_get_stp_view(br, port, &v))
				continue;
			port_sample(m, d, tree_port_counters[f].name, port);
			value(m, u64_at(&v, tree_port_counters[f].at));
		}
	}
	br_stp_get_view(br, &bv);
	family(m, "vwire_bridge_info", "gauge",
	       "The spanning tree protocol the bridge runs; always 1.");
	bridge_sample(m, d, "vwire_bridge_info");
	label(m, "protocol", bv.enabled ? br_protocol_name(bv.protocol) : "off");
	value(m, 1);
	bridge_single(m, d, "vwire_bridge_root", "gauge",
		      "1 while this bridge is the spanning tree's root.", bv.is_root);
	bridge_single(m, d, "vwire_bridge_topology_changes_total", "counter",
		      "Topology changes the bridge saw.", bv.topology_change_count);
}

static void bridge(struct mw *m, const struct vwired *d)
{
	const struct bridge *br = &d->sh.br;
	const struct fdb *fdb = &br->fdb;

	if (!d->sh.has_bridge)
		return;
	port_tree(m, d);
	for (size_t f = 0; f < sizeof(port_counters) / sizeof(port_counters[0]); f++) {
		family(m, port_counters[f].name, "counter", port_counters[f].help);
		for (uint32_t port = 0; port < BR_MAX_PORTS; port++) {
			const struct br_port *bp = br_get_port(br, port);

			if (!bp)
				continue;
			port_sample(m, d, port_counters[f].name, port);
			value(m, u64_at(&bp->cnt, port_counters[f].at));
		}
	}
	family(m, "vwire_bridge_port_drops_total", "counter",
	       "Frames the bridge dropped on the port, by reason.");
	for (uint32_t port = 0; port < BR_MAX_PORTS; port++) {
		const struct br_port *bp = br_get_port(br, port);

		for (uint32_t r = 0; bp && r < BR_DROP_MAX; r++) {
			port_sample(m, d, "vwire_bridge_port_drops_total", port);
			label(m, "reason", br_drop_name(r));
			value(m, bp->cnt.drop[r]);
		}
	}
	family(m, "vwire_bridge_bpdu_errors_total", "counter",
	       "Frames to the STP group address that were not valid BPDUs, by reason.");
	for (uint32_t r = 0; r < STP_BPDU_ERR_MAX; r++) {
		bridge_sample(m, d, "vwire_bridge_bpdu_errors_total");
		label(m, "reason", stp_bpdu_error_name(r));
		value(m, br->bpdu_errors[r]);
	}
	bridge_single(m, d, "vwire_fdb_entries", "gauge",
		      "Entries in the bridge's forwarding database.", fdb->count);
	bridge_single(m, d, "vwire_fdb_entries_max", "gauge", "The forwarding database's capacity.",
		      fdb->cap);
	bridge_single(m, d, "vwire_fdb_learned_per_port_max", "gauge",
		      "[Bridge] MaxLearned: learned entries a port may hold; 0: only the capacity.",
		      fdb->max_learned);
	bridge_single(m, d, "vwire_fdb_evicted_total", "counter",
		      "Entries evicted from the full forwarding database.", fdb->st.evicted);
}

/* One series each: the counters of a module's stats struct. */
static void singles(struct mw *m, const struct field *f, size_t n, const void *base)
{
	for (size_t i = 0; i < n; i++)
		single(m, f[i].name, "counter", f[i].help, u64_at(base, f[i].at));
}

static const struct field ipfrag_counters[] = {
	{"vwire_ipfrag_fragmented_packets_total", "Wire packets over the tunnel MTU, fragmented.",
	 offsetof(struct ipfrag_stats, fragmented)},
	{"vwire_ipfrag_fragments_sent_total", "The fragments those made.",
	 offsetof(struct ipfrag_stats, fragments_out)},
	{"vwire_ipfrag_fragments_received_total", "Fragments taken in for reassembly.",
	 offsetof(struct ipfrag_stats, fragments_in)},
	{"vwire_ipfrag_reassembled_packets_total", "Packets reassembled from them.",
	 offsetof(struct ipfrag_stats, reassembled)},
};

static const struct field vxlan_counters[] = {
	{"vwire_vxlan_encapsulated_frames_total", "Frames encapsulated onto a wire.",
	 offsetof(struct vx_stats, encap_packets)},
	{"vwire_vxlan_decapsulated_frames_total", "Frames decapsulated from a wire.",
	 offsetof(struct vx_stats, decap_packets)},
	{"vwire_vxlan_passed_packets_total", "Tunnel packets that were no wire's: to the TUN.",
	 offsetof(struct vx_stats, passed)},
};

static const struct field offload_counters[] = {
	{"vwire_offload_split_packets_total", "GSO super-packets split.",
	 offsetof(struct offload_stats, split_in)},
	{"vwire_offload_split_segments_total", "Segments they were split into.",
	 offsetof(struct offload_stats, split_segs)},
	{"vwire_offload_split_stalls_total",
	 "Splits stopped early (out full, pool empty), resumed.",
	 offsetof(struct offload_stats, split_stalls)},
	{"vwire_offload_checksums_completed_total", "Partial checksums completed.",
	 offsetof(struct offload_stats, csum_completed)},
	{"vwire_offload_gro_input_packets_total", "Packets given to coalescing.",
	 offsetof(struct offload_stats, gro_in)},
	{"vwire_offload_gro_output_packets_total", "Packets coalescing handed out.",
	 offsetof(struct offload_stats, gro_out)},
	{"vwire_offload_gro_super_packets_total", "Super-packets coalescing built.",
	 offsetof(struct offload_stats, gro_super)},
	{"vwire_offload_gro_merged_segments_total", "Segments merged into them.",
	 offsetof(struct offload_stats, gro_merged)},
	{"vwire_offload_gro_super_udp_packets_total", "Of the super-packets, UDP ones.",
	 offsetof(struct offload_stats, gro_super_udp)},
	{"vwire_offload_gro_chained_packets_total",
	 "Of the super-packets, chains of the decrypted packets written without a copy.",
	 offsetof(struct offload_stats, gro_chained)},
	{"vwire_offload_gro_bad_checksum_total", "Candidates with a bad checksum, passed unmerged.",
	 offsetof(struct offload_stats, gro_bad_csum)},
	{"vwire_offload_gro_nomem_total", "Groups passed unmerged: the big-buffer pool was empty.",
	 offsetof(struct offload_stats, gro_nomem)},
};

static void drop_sample(struct mw *m, const char *module, const char *reason, uint64_t v)
{
	sample(m, "vwire_drops_total");
	label(m, "module", module);
	label(m, "reason", reason);
	value(m, v);
}

/* Every drop reason of every module (DESIGN.md principle 6); the bridge's are per port. */
static void drops(struct mw *m, const struct vwired *d)
{
	family(m, "vwire_drops_total", "counter",
	       "Packets dropped, by module and reason (vwirectl show --json's names).");
	for (uint32_t r = 0; r < WG_DROP_MAX; r++)
		drop_sample(m, "wireguard", wg_drop_name(r), d->sh.wg.drops[r]);
	for (uint32_t r = 0; r < VWIRED_DROP_MAX; r++)
		drop_sample(m, "vwired", vwired_drop_name(r), d->sh.drops[r]);
	for (uint32_t r = 0; d->sh.frag_ready && r < IPFRAG_DROP_MAX; r++)
		drop_sample(m, "ipfrag", ipfrag_drop_name(r), d->sh.frag.stats.drops[r]);
	for (uint32_t r = 0; d->sh.vx_ready && r < VX_DROP_MAX; r++)
		drop_sample(m, "vxlan", vx_drop_name(r), d->sh.vx.stats.drops[r]);
	for (uint32_t r = 0; r < OFFLOAD_DROP_MAX; r++)
		drop_sample(m, "offload", offload_drop_name(r), d->sh.offload.drops[r]);
}

static const struct field worker_counters[] = {
	{"vwire_worker_udp_receive_packets_total", "Datagrams the worker's UDP socket received.",
	 offsetof(struct vwired_worker, udp_rx)},
	{"vwire_worker_udp_transmit_packets_total", "Datagrams the worker's UDP socket sent.",
	 offsetof(struct vwired_worker, udp_tx)},
	{"vwire_worker_tun_receive_packets_total", "Packets the worker read from its TUN queue.",
	 offsetof(struct vwired_worker, tun_rx)},
	{"vwire_worker_tun_transmit_packets_total", "Packets the worker wrote to its TUN queue.",
	 offsetof(struct vwired_worker, tun_tx)},
	{"vwire_worker_lock_acquisitions_total",
	 "Times the worker took the lock the workers share.",
	 offsetof(struct vwired_worker, lock_acquired)},
	{"vwire_worker_lock_contended_total",
	 "Of those, times another thread held it and the worker waited.",
	 offsetof(struct vwired_worker, lock_contended)},
};

/* In nanoseconds, given in seconds. */
static const struct field worker_times[] = {
	{"vwire_worker_lock_held_seconds_total", "Time the worker held the shared lock.",
	 offsetof(struct vwired_worker, lock_held_ns)},
	{"vwire_worker_lock_wait_seconds_total",
	 "Time the worker waited for the shared lock while another thread held it.",
	 offsetof(struct vwired_worker, lock_wait_ns)},
};

static void worker_family(struct mw *m, const struct vwired *d, const struct field *f, bool seconds)
{
	char id[12];

	family(m, f->name, "counter", f->help);
	for (uint32_t i = 0; i < d->n_workers; i++) {
		uint64_t v = u64_at(&d->workers[i], f->at);

		snprintf(id, sizeof(id), "%u", i);
		sample(m, f->name);
		label(m, "worker", id);
		if (seconds)
			value_seconds_us(m, v);
		else
			value(m, v);
	}
}

/*
 * Each worker's io counters as of its last batch and its use of the lock, written under
 * the lock; worker 0's current hold is not in yet.
 */
static void workers(struct mw *m, const struct vwired *d)
{
	for (size_t f = 0; f < sizeof(worker_counters) / sizeof(worker_counters[0]); f++)
		worker_family(m, d, &worker_counters[f], false);
	for (size_t f = 0; f < sizeof(worker_times) / sizeof(worker_times[0]); f++)
		worker_family(m, d, &worker_times[f], true);
}

/* The bounded tables of README's "Security and limits", each with its cap. */
static void limits(struct mw *m, struct vwired *d)
{
	const struct wg_handshake_queue *q = &d->sh.wg.handshakes;
	const struct wg_ratelimiter *rl = &d->sh.wg.ratelimiter;
	struct ctlsock_stats st = {0};

	single(m, "vwire_packet_pool_buffers", "gauge", "Buffers in the packet pool.",
	       d->pool.count);
	single(m, "vwire_packet_pool_free_buffers", "gauge", "Of those, free.",
	       pkt_pool_nfree(&d->pool));
	single(m, "vwire_staged_packets", "gauge", "Packets staged for peers without a session.",
	       d->sh.wg.staged_total);
	single(m, "vwire_staged_packets_max", "gauge", "The staging budget over all peers.",
	       d->sh.wg.max_staged);
	single(m, "vwire_handshake_queue_length", "gauge", "Handshake messages queued.", q->len);
	single(m, "vwire_handshake_queue_max", "gauge", "The handshake queue's capacity.", q->cap);
	single(m, "vwire_handshake_queue_high_water", "gauge",
	       "The most handshake messages ever queued at once.", q->high_water);
	single(m, "vwire_ratelimiter_sources", "gauge",
	       "Sources the handshake rate limiter tracks.", rl->count);
	single(m, "vwire_ratelimiter_sources_max", "gauge", "The rate limiter's capacity.",
	       rl->max_entries);
	single(m, "vwire_ratelimiter_limited_total", "counter",
	       "Handshakes over their source's rate.", rl->stats.limited);
	single(m, "vwire_ratelimiter_table_full_total", "counter",
	       "Sources admitted into a full rate limiter table.", rl->stats.table_full);
	single(m, "vwire_ratelimiter_evicted_total", "counter",
	       "Rate limiter entries evicted to make way.", rl->stats.evicted);
	ctlsock_add_stats(d->uapi, &st);
	ctlsock_add_stats(d->ctl, &st);
	ctlsock_add_stats(d->ctl_bridge, &st);
	single(m, "vwire_control_clients_refused_total", "counter",
	       "Control-socket clients refused: every slot was taken.", st.clients_refused);
	single(m, "vwire_control_clients_timed_out_total", "counter",
	       "Control-socket clients cut for being slow.", st.clients_timed_out);
}

void vwired_metrics(struct vwired *d, struct out *o, uint64_t now)
{
	struct mw m = {o, d->name};

	process(&m, d);
	peers(&m, d);
	wires(&m, d, now);
	bridge(&m, d);
	drops(&m, d);
	if (d->sh.frag_ready)
		singles(&m, ipfrag_counters, sizeof(ipfrag_counters) / sizeof(ipfrag_counters[0]),
			&d->sh.frag.stats);
	if (d->sh.vx_ready)
		singles(&m, vxlan_counters, sizeof(vxlan_counters) / sizeof(vxlan_counters[0]),
			&d->sh.vx.stats);
	singles(&m, offload_counters, sizeof(offload_counters) / sizeof(offload_counters[0]),
		&d->sh.offload);
	workers(&m, d);
	limits(&m, d);
}
