/* SPDX-License-Identifier: MIT */
#include "showstp.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"

/* br_show_timer: whole seconds, then hundredths, as the kernel's clock_t values. */
static void sb_timer(struct vw_sbuf *b, uint64_t ns)
{
	uint64_t cs = ns / 10000000ULL;

	vw_sbuf_printf(b, "%4u.%02u", (unsigned)(cs / 100), (unsigned)(cs % 100));
}

static void sb_seconds(struct vw_sbuf *b, uint64_t ns)
{
	uint64_t cs = ns / 10000000ULL;

	vw_sbuf_printf(b, "%u.%02u", (unsigned)(cs / 100), (unsigned)(cs % 100));
}

/* A JSON string; port names are interface names, but escape whatever they hold. */
static void sb_json_str(struct vw_sbuf *b, const char *s)
{
	vw_sbuf_printf(b, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			vw_sbuf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			vw_sbuf_printf(b, "\\u%04x", ch);
		else
			vw_sbuf_printf(b, "%c", ch);
	}
	vw_sbuf_printf(b, "\"");
}

void br_format_bridge_id(uint64_t id, char buf[18])
{
	snprintf(buf, 18, "%04x.%04x%08x", (unsigned)(id >> 48), (unsigned)(id >> 32) & 0xffff,
		 (unsigned)id);
}

static const char *bool_str(bool v)
{
	return v ? "true" : "false";
}

/* Until the next FDB entry expires (the kernel shows its garbage collector's delay). */
static uint64_t gc_remaining(const struct bridge *br, uint64_t now)
{
	uint64_t next = fdb_next_expiry(&br->fdb, br_current_ageing_time(br));

	return next != UINT64_MAX && next > now ? next - now : 0;
}

static void showstp_bridge(struct vw_sbuf *b, const struct bridge *br, uint64_t now)
{
	const struct stp_bridge *s = &br->stp;
	char id[18], root[18];

	br_format_bridge_id(s->bridge_id, id);
	br_format_bridge_id(s->designated_root, root);
	vw_sbuf_printf(b, "%s\n", br->name);
	vw_sbuf_printf(b, " bridge id\t\t%s\n", id);
	vw_sbuf_printf(b, " designated root\t%s\n", root);
	vw_sbuf_printf(b, " root port\t\t%4u\t\t\tpath cost\t\t%4u\n", s->root_port,
		       s->root_path_cost);
	vw_sbuf_printf(b, " max age\t\t");
	sb_timer(b, s->max_age);
	vw_sbuf_printf(b, "\t\t\tbridge max age\t\t");
	sb_timer(b, s->bridge_max_age);
	vw_sbuf_printf(b, "\n hello time\t\t");
	sb_timer(b, s->hello_time);
	vw_sbuf_printf(b, "\t\t\tbridge hello time\t");
	sb_timer(b, s->bridge_hello_time);
	vw_sbuf_printf(b, "\n forward delay\t\t");
	sb_timer(b, s->forward_delay);
	vw_sbuf_printf(b, "\t\t\tbridge forward delay\t");
	sb_timer(b, s->bridge_forward_delay);
	vw_sbuf_printf(b, "\n ageing time\t\t");
	sb_timer(b, br_current_ageing_time(br));
	vw_sbuf_printf(b, "\n hello timer\t\t");
	sb_timer(b, stp_timer_remaining(&s->hello_timer, now));
	vw_sbuf_printf(b, "\t\t\ttcn timer\t\t");
	sb_timer(b, stp_timer_remaining(&s->tcn_timer, now));
	vw_sbuf_printf(b, "\n topology change timer\t");
	sb_timer(b, stp_timer_remaining(&s->topology_change_timer, now));
	vw_sbuf_printf(b, "\t\t\tgc timer\t\t");
	sb_timer(b, gc_remaining(br, now));
	vw_sbuf_printf(b, "\n flags\t\t\t");
	if (s->topology_change)
		vw_sbuf_printf(b, "TOPOLOGY_CHANGE ");
	if (s->topology_change_detected)
		vw_sbuf_printf(b, "TOPOLOGY_CHANGE_DETECTED ");
	vw_sbuf_printf(b, "\n\n\n");
}

static void showstp_port(struct vw_sbuf *b, const struct bridge *br, const struct stp_port *p,
			 uint64_t now)
{
	char root[18], bridge[18];

	br_format_bridge_id(p->designated_root, root);
	br_format_bridge_id(p->designated_bridge, bridge);
	vw_sbuf_printf(b, "%s (%u)\n", br->ports[p->port_no].name, p->port_no);
	vw_sbuf_printf(b, " port id\t\t%.4x\t\t\tstate\t\t%15s\n", p->port_id,
		       stp_state_name(p->state));
	vw_sbuf_printf(b, " designated root\t%s\tpath cost\t\t%4u\n", root, p->path_cost);
	vw_sbuf_printf(b, " designated bridge\t%s\tmessage age timer\t", bridge);
	sb_timer(b, stp_timer_remaining(&p->message_age_timer, now));
	vw_sbuf_printf(b, "\n designated port\t%.4x\t\t\tforward delay timer\t",
		       p->designated_port);
	sb_timer(b, stp_timer_remaining(&p->forward_delay_timer, now));
	vw_sbuf_printf(b, "\n designated cost\t%4u\t\t\thold timer\t\t", p->designated_cost);
	sb_timer(b, stp_timer_remaining(&p->hold_timer, now));
	vw_sbuf_printf(b, "\n flags\t\t\t");
	if (p->config_pending)
		vw_sbuf_printf(b, "CONFIG_PENDING ");
	if (p->topology_change_ack)
		vw_sbuf_printf(b, "TOPOLOGY_CHANGE_ACK ");
	vw_sbuf_printf(b, "\n\n");
}

/*
 * RSTP has no brctl to copy (the kernel bridge runs 802.1D): the same layout,
 * the fields 802.1D-2004 has instead of 802.1D-1998's timers.
 */
static void showrstp_bridge(struct vw_sbuf *b, const struct bridge *br, uint64_t now)
{
	struct br_stp_view v;
	char id[18], root[18];

	br_stp_get_view(br, &v);
	br_format_bridge_id(v.bridge_id, id);
	br_format_bridge_id(v.designated_root, root);
	vw_sbuf_printf(b, "%s\n", br->name);
	vw_sbuf_printf(b, " bridge id\t\t%s\n", id);
	vw_sbuf_printf(b, " designated root\t%s\n", root);
	vw_sbuf_printf(b, " root port\t\t%4u\t\t\tpath cost\t\t%4u\n", v.root_port,
		       v.root_path_cost);
	vw_sbuf_printf(b, " max age\t\t");
	sb_timer(b, v.max_age);
	vw_sbuf_printf(b, "\t\t\tbridge max age\t\t");
	sb_timer(b, v.bridge_max_age);
	vw_sbuf_printf(b, "\n hello time\t\t");
	sb_timer(b, v.hello_time);
	vw_sbuf_printf(b, "\t\t\tbridge hello time\t");
	sb_timer(b, v.bridge_hello_time);
	vw_sbuf_printf(b, "\n forward delay\t\t");
	sb_timer(b, v.forward_delay);
	vw_sbuf_printf(b, "\t\t\tbridge forward delay\t");
	sb_timer(b, v.bridge_forward_delay);
	vw_sbuf_printf(b, "\n ageing time\t\t");
	sb_timer(b, br_current_ageing_time(br));
	vw_sbuf_printf(b, "\t\t\tgc timer\t\t");
	sb_timer(b, gc_remaining(br, now));
	vw_sbuf_printf(b, "\n protocol\t\t%s\t\t\ttopology changes\t%4llu\n",
		       br_protocol_name(v.protocol), (unsigned long long)v.topology_change_count);
	vw_sbuf_printf(b, " flags\t\t\t%s\n\n\n", v.topology_change ? "TOPOLOGY_CHANGE " : "");
}

static void showrstp_port(struct vw_sbuf *b, const struct bridge *br, uint16_t port)
{
	const struct rstp_port *p = &br->rstp.ports[port];
	struct br_stp_port_view v;
	char root[18], bridge[18];

	br_stp_get_port_view(br, port, &v);
	br_format_bridge_id(v.designated_root, root);
	br_format_bridge_id(v.designated_bridge, bridge);
	vw_sbuf_printf(b, "%s (%u)\n", br->ports[port].name, port);
	vw_sbuf_printf(b, " port id\t\t%.4x\t\t\tstate\t\t%15s\n", v.port_id,
		       stp_state_name(v.state));
	vw_sbuf_printf(b, " role\t\t\t%-10s\t\tprotocol\t\t%s\n", v.role, v.rstp ? "rstp" : "stp");
	vw_sbuf_printf(b, " designated root\t%s\tpath cost\t\t%4u\n", root, v.path_cost);
	vw_sbuf_printf(b, " designated bridge\t%s\tedge\t\t\t%s%s\n", bridge,
		       v.oper_edge ? "yes" : "no", v.admin_edge ? " (admin)" : "");
	vw_sbuf_printf(b, " designated port\t%.4x\t\t\tpoint to point\t\t%s\n", v.designated_port,
		       v.point_to_point ? "yes" : "no");
	vw_sbuf_printf(b, " designated cost\t%4u\t\t\tmigrations\t\t%4llu\n", v.designated_cost,
		       (unsigned long long)v.migrations);
	vw_sbuf_printf(b, " tc detected\t\t%4llu\t\t\ttc received\t\t%4llu\n",
		       (unsigned long long)v.tc_detected, (unsigned long long)v.tc_received);
	vw_sbuf_printf(b, " flags\t\t\t");
	if (p->proposing)
		vw_sbuf_printf(b, "PROPOSING ");
	if (p->agreed)
		vw_sbuf_printf(b, "AGREED ");
	if (p->tc_while)
		vw_sbuf_printf(b, "TOPOLOGY_CHANGE ");
	vw_sbuf_printf(b, "\n\n");
}

static size_t showrstp(const struct bridge *br, uint64_t now, char *buf, size_t size)
{
	struct vw_sbuf b;

	vw_sbuf_init(&b, buf, size);
	showrstp_bridge(&b, br, now);
	for (uint16_t i = 1; i < br->port_end; i++)
		if (rstp_get_port_const(&br->rstp, i))
			showrstp_port(&b, br, i);
	return b.len;
}

size_t br_showstp(const struct bridge *br, uint64_t now, char *buf, size_t size)
{
	struct vw_sbuf b;

	if (br->protocol == BR_PROTO_RSTP)
		return showrstp(br, now, buf, size);
	vw_sbuf_init(&b, buf, size);
	showstp_bridge(&b, br, now);
	for (uint16_t i = 1; i < br->port_end; i++) {
		const struct stp_port *p = stp_get_port_const(&br->stp, i);

		if (p)
			showstp_port(&b, br, p, now);
	}
	return b.len;
}

static void json_timer(struct vw_sbuf *b, const char *key, uint64_t ns)
{
	vw_sbuf_printf(b, "\"%s\":", key);
	sb_seconds(b, ns);
	vw_sbuf_printf(b, ",");
}

/* What the port's neighbour could not do to the bridge, and how often it tried. */
static void json_port_guards(struct vw_sbuf *b, const struct bridge *br, uint16_t port,
			     const struct br_stp_port_view *v)
{
	const struct br_port *bp = &br->ports[port];

	vw_sbuf_printf(b, "\"learned_entries\":%u,\"learn_limit\":%llu,\"learn_full\":%llu,",
		       fdb_port_count(&br->fdb, port), (unsigned long long)bp->cnt.learn_limit,
		       (unsigned long long)bp->cnt.learn_full);
	vw_sbuf_printf(b, "\"bpdu_guard\":%s,\"bpdu_guard_disabled\":%s,\"bpdu_guard_trips\":%llu,",
		       bool_str(bp->bpdu_guard), bool_str(bp->bpdu_guard_disabled),
		       (unsigned long long)bp->cnt.bpdu_guard);
	vw_sbuf_printf(b, "\"bpdu_timers_clamped\":%llu,\"bpdu_aged_out\":%llu}",
		       (unsigned long long)v->rx_clamped, (unsigned long long)v->rx_aged_out);
}

/* BPDUs by kind, and RSTP's own counters where it runs. */
static void json_port_counters(struct vw_sbuf *b, const struct bridge *br,
			       const struct br_stp_port_view *v)
{
	vw_sbuf_printf(b,
		       "\"rx_config\":%llu,\"rx_tcn\":%llu,\"rx_rst\":%llu,\"tx_config\":%llu,"
		       "\"tx_tcn\":%llu,\"tx_rst\":%llu,\"transitions\":%llu,",
		       (unsigned long long)v->rx_config, (unsigned long long)v->rx_tcn,
		       (unsigned long long)v->rx_rst, (unsigned long long)v->tx_config,
		       (unsigned long long)v->tx_tcn, (unsigned long long)v->tx_rst,
		       (unsigned long long)v->transitions);
	if (br->protocol != BR_PROTO_RSTP)
		return;
	vw_sbuf_printf(b,
		       "\"migrations\":%llu,\"tc_detected\":%llu,\"tc_received\":%llu,"
		       "\"flushes\":%llu,\"rx_departed\":%llu,",
		       (unsigned long long)v->migrations, (unsigned long long)v->tc_detected,
		       (unsigned long long)v->tc_received, (unsigned long long)v->flushes,
		       (unsigned long long)v->rx_departed);
}

/* 802.1D-1998's timers and flags, which only stp.c has. */
static void json_stp_port_timers(struct vw_sbuf *b, const struct stp_port *p, uint64_t now)
{
	json_timer(b, "message_age_timer", stp_timer_remaining(&p->message_age_timer, now));
	json_timer(b, "forward_delay_timer", stp_timer_remaining(&p->forward_delay_timer, now));
	json_timer(b, "hold_timer", stp_timer_remaining(&p->hold_timer, now));
	vw_sbuf_printf(b, "\"config_pending\":%s,\"topology_change_ack\":%s,",
		       bool_str(p->config_pending), bool_str(p->topology_change_ack));
}

static void json_port(struct vw_sbuf *b, const struct bridge *br, uint16_t i, uint64_t now)
{
	struct br_stp_port_view v;
	char root[18], id[18];

	br_stp_get_port_view(br, i, &v);
	br_format_bridge_id(v.designated_root, root);
	br_format_bridge_id(v.designated_bridge, id);
	vw_sbuf_printf(b, "{\"name\":");
	sb_json_str(b, br->ports[i].name);
	vw_sbuf_printf(b, ",\"port_no\":%u,\"port_id\":\"%.4x\",\"state\":\"%s\",\"role\":\"%s\",",
		       i, v.port_id, stp_state_name(v.state), v.role);
	vw_sbuf_printf(b,
		       "\"protocol\":\"%s\",\"edge\":%s,\"admin_edge\":%s,\"point_to_point\":%s,",
		       v.rstp ? "rstp" : "stp", bool_str(v.oper_edge), bool_str(v.admin_edge),
		       bool_str(v.point_to_point));
	vw_sbuf_printf(b, "\"designated_root\":\"%s\",\"path_cost\":%u,", root, v.path_cost);
	vw_sbuf_printf(b, "\"designated_bridge\":\"%s\",\"designated_port\":\"%.4x\",", id,
		       v.designated_port);
	vw_sbuf_printf(b, "\"designated_cost\":%u,", v.designated_cost);
	if (br->ports[i].rtt_ns)
		vw_sbuf_printf(b, "\"rtt_ms\":%.1f,", (double)br->ports[i].rtt_ns / 1e6);
	if (br->protocol != BR_PROTO_RSTP)
		json_stp_port_timers(b, &br->stp.ports[i], now);
	json_port_counters(b, br, &v);
	json_port_guards(b, br, i, &v);
}

static void json_stp_bridge_timers(struct vw_sbuf *b, const struct stp_bridge *s, uint64_t now)
{
	json_timer(b, "hello_timer", stp_timer_remaining(&s->hello_timer, now));
	json_timer(b, "tcn_timer", stp_timer_remaining(&s->tcn_timer, now));
	json_timer(b, "topology_change_timer", stp_timer_remaining(&s->topology_change_timer, now));
	vw_sbuf_printf(b, "\"topology_change_detected\":%s,",
		       bool_str(s->topology_change_detected));
}

size_t br_showstp_json(const struct bridge *br, uint64_t now, char *buf, size_t size)
{
	struct br_stp_view v;
	char id[18], root[18];
	struct vw_sbuf b;
	bool first = true;

	vw_sbuf_init(&b, buf, size);
	br_stp_get_view(br, &v);
	br_format_bridge_id(v.bridge_id, id);
	br_format_bridge_id(v.designated_root, root);
	vw_sbuf_printf(&b, "{\"bridge\":");
	sb_json_str(&b, br->name);
	vw_sbuf_printf(&b,
		       ",\"stp_enabled\":%s,\"bridge_id\":\"%s\",\"designated_root\":\"%s\","
		       "\"protocol\":\"%s\",",
		       bool_str(v.enabled), id, root, br_protocol_name(v.protocol));
	vw_sbuf_printf(&b, "\"root_port\":%u,\"path_cost\":%u,\"is_root\":%s,", v.root_port,
		       v.root_path_cost, bool_str(v.is_root));
	json_timer(&b, "max_age", v.max_age);
	json_timer(&b, "bridge_max_age", v.bridge_max_age);
	json_timer(&b, "hello_time", v.hello_time);
	json_timer(&b, "bridge_hello_time", v.bridge_hello_time);
	json_timer(&b, "forward_delay", v.forward_delay);
	json_timer(&b, "bridge_forward_delay", v.bridge_forward_delay);
	json_timer(&b, "ageing_time", br_current_ageing_time(br));
	if (v.protocol != BR_PROTO_RSTP)
		json_stp_bridge_timers(&b, &br->stp, now);
	json_timer(&b, "gc_timer", gc_remaining(br, now));
	vw_sbuf_printf(&b, "\"topology_change\":%s,\"topology_change_count\":%llu,",
		       bool_str(v.topology_change), (unsigned long long)v.topology_change_count);
	vw_sbuf_printf(&b,
		       "\"max_learned\":%u,\"fdb_entries\":%u,\"fdb_capacity\":%u,"
		       "\"fdb_evicted\":%llu,\"fdb_learn_full\":%llu,\"fdb_learn_limit\":%llu,",
		       br->fdb.max_learned, br->fdb.count, br->fdb.cap,
		       (unsigned long long)br->fdb.st.evicted, (unsigned long long)br->fdb.st.full,
		       (unsigned long long)br->fdb.st.limited);
	vw_sbuf_printf(&b, "\"ports\":[");
	for (uint16_t i = 1; i < br->port_end; i++) {
		struct br_stp_port_view pv;

		if (!br_stp_get_port_view(br, i, &pv))
			continue;
		vw_sbuf_printf(&b, "%s", first ? "" : ",");
		first = false;
		json_port(&b, br, i, now);
	}
	vw_sbuf_printf(&b, "]}\n");
	return b.len;
}

static int cmp_entry_mac(const void *a, const void *b)
{
	const struct fdb_entry *const *x = a, *const *y = b;

	return memcmp((*x)->mac, (*y)->mac, 6);
}

/* The entries in MAC order, as brctl sorts them; unsorted if no memory. */
static const struct fdb_entry **sorted_entries(const struct fdb *f, uint32_t *n)
{
	const struct fdb_entry **v = malloc(((size_t)f->count + 1) * sizeof(*v));
	uint32_t k = 0;

	*n = 0;
	if (!v)
		return NULL;
	for (uint32_t i = 0; i < f->cap && k < f->count; i++) {
		const struct fdb_entry *e = fdb_entry_at(f, i);

		if (e)
			v[k++] = e;
	}
	qsort(v, k, sizeof(*v), cmp_entry_mac);
	*n = k;
	return v;
}

static uint64_t entry_age(const struct fdb_entry *e, uint64_t now)
{
	if ((e->flags & FDB_F_STATIC) || now < e->updated)
		return 0;
	return now - e->updated;
}

static void each_entry(const struct bridge *br, uint64_t now, struct vw_sbuf *b,
		       void (*fn)(struct vw_sbuf *, const struct bridge *, const struct fdb_entry *,
				  uint64_t, bool))
{
	uint32_t n;
	const struct fdb_entry **v = sorted_entries(&br->fdb, &n);

	if (v) {
		for (uint32_t i = 0; i < n; i++)
			fn(b, br, v[i], now, i == 0);
		free(v);
		return;
	}
	n = 0;
	for (uint32_t i = 0; i < br->fdb.cap; i++) {
		const struct fdb_entry *e = fdb_entry_at(&br->fdb, i);

		if (e)
			fn(b, br, e, now, n++ == 0);
	}
}

static void showmacs_line(struct vw_sbuf *b, const struct bridge *br, const struct fdb_entry *e,
			  uint64_t now, bool first)
{
	(void)br;
	(void)first;
	vw_sbuf_printf(b, "%3u\t%.2x:%.2x:%.2x:%.2x:%.2x:%.2x\t%s\t\t", e->port, e->mac[0],
		       e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5],
		       (e->flags & FDB_F_LOCAL) ? "yes" : "no");
	sb_timer(b, entry_age(e, now));
	vw_sbuf_printf(b, "\n");
}

size_t br_showmacs(const struct bridge *br, uint64_t now, char *buf, size_t size)
{
	struct vw_sbuf b;

	vw_sbuf_init(&b, buf, size);
	vw_sbuf_printf(&b, "port no\tmac addr\t\tis local?\tageing timer\n");
	each_entry(br, now, &b, showmacs_line);
	return b.len;
}

static void showmacs_json_entry(struct vw_sbuf *b, const struct bridge *br,
				const struct fdb_entry *e, uint64_t now, bool first)
{
	const char *port = e->port < BR_MAX_PORTS ? br->ports[e->port].name : "";

	vw_sbuf_printf(b, "%s{\"port_no\":%u,\"port\":", first ? "" : ",", e->port);
	sb_json_str(b, port);
	vw_sbuf_printf(b,
		       ",\"mac\":\"%.2x:%.2x:%.2x:%.2x:%.2x:%.2x\",\"is_local\":%s,\"static\":%s,",
		       e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5],
		       bool_str(e->flags & FDB_F_LOCAL), bool_str(e->flags & FDB_F_STATIC));
	vw_sbuf_printf(b, "\"ageing_timer\":");
	sb_seconds(b, entry_age(e, now));
	vw_sbuf_printf(b, "}");
}

size_t br_showmacs_json(const struct bridge *br, uint64_t now, char *buf, size_t size)
{
	struct vw_sbuf b;

	vw_sbuf_init(&b, buf, size);
	vw_sbuf_printf(&b, "{\"bridge\":");
	sb_json_str(&b, br->name);
	vw_sbuf_printf(&b, ",\"entries\":%u,\"capacity\":%u,\"macs\":[", br->fdb.count,
		       br->fdb.cap);
	each_entry(br, now, &b, showmacs_json_entry);
	vw_sbuf_printf(&b, "]}\n");
	return b.len;
}
