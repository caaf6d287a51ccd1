/* SPDX-License-Identifier: MIT */
#include "bridge_stp.h"

#include "bridge.h"

static bool runs_rstp(const struct bridge *br)
{
	return br->protocol == BR_PROTO_RSTP;
}

const char *br_protocol_name(enum br_protocol proto)
{
	return proto == BR_PROTO_RSTP ? "rstp" : "stp";
}

static void flush_port(void *ctx, uint16_t port)
{
	struct bridge *br = ctx;

	fdb_flush_port(&br->fdb, port, false);
}

static void state_changed(void *ctx, uint16_t port, enum stp_state old_state,
			  enum stp_state new_state)
{
	(void)old_state;
	/* What was learned through a port that went down is stale (the kernel flushes too). */
	if (new_state == STP_DISABLED)
		flush_port(ctx, port);
}

void br_stp_init(struct bridge *br, enum br_protocol proto, bool enabled, uint64_t bridge_id,
		 const struct stp_times *times, uint64_t now)
{
	/* RSTP has no "off": a bridge without a tree is stp.c's disabled one. */
	br->protocol = enabled ? proto : BR_PROTO_STP;
	if (runs_rstp(br)) {
		struct rstp_callbacks cb = {br_tx_bpdu, state_changed, flush_port};

		rstp_init(&br->rstp, bridge_id, times, now, &cb, br);
		return;
	}
	stp_initialization(&br->stp, enabled, bridge_id, times, now, br_tx_bpdu, state_changed, br);
}

bool br_stp_add_port(struct bridge *br, uint16_t port, uint8_t priority, uint32_t cost,
		     bool admin_edge, bool point_to_point)
{
	if (!runs_rstp(br))
		return stp_add_port(&br->stp, port, priority, cost);
	if (!rstp_add_port(&br->rstp, port, priority, cost))
		return false;
	/* Before the port is enabled: Bridge Detection reads AdminEdge then (rstp.h). */
	rstp_set_port_edge(&br->rstp, port, admin_edge, true, br->rstp.now);
	rstp_set_port_point_to_point(&br->rstp, port, point_to_point, br->rstp.now);
	return true;
}

void br_stp_enable_port(struct bridge *br, uint16_t port, uint64_t now)
{
	if (runs_rstp(br))
		rstp_enable_port(&br->rstp, port, now);
	else
		stp_enable_port(&br->stp, port, now);
}

void br_stp_disable_port(struct bridge *br, uint16_t port, uint64_t now)
{
	if (runs_rstp(br))
		rstp_disable_port(&br->rstp, port, now);
	else
		stp_disable_port(&br->stp, port, now);
}

/* 802.1D-1998 has no such shortcut: its bridges age a root's news in Max Age. */
void br_stp_neighbour_leaving(struct bridge *br, uint16_t port, uint64_t hold, uint64_t now)
{
	if (runs_rstp(br))
		rstp_neighbour_leaving(&br->rstp, port, hold, now);
}

void br_stp_set_path_cost(struct bridge *br, uint16_t port, uint32_t cost, uint64_t now)
{
	if (runs_rstp(br))
		rstp_set_path_cost(&br->rstp, port, cost, now);
	else
		stp_set_path_cost(&br->stp, port, cost, now);
}

void br_stp_set_port_priority(struct bridge *br, uint16_t port, uint8_t priority, uint64_t now)
{
	if (runs_rstp(br))
		rstp_set_port_priority(&br->rstp, port, priority, now);
	else
		stp_set_port_priority(&br->stp, port, priority, now);
}

void br_stp_set_bridge_priority(struct bridge *br, uint16_t priority, uint64_t now)
{
	if (runs_rstp(br))
		rstp_set_bridge_priority(&br->rstp, priority, now);
	else
		stp_set_bridge_priority(&br->stp, priority, now);
}

void br_stp_remove_port(struct bridge *br, uint16_t port, uint64_t now)
{
	if (runs_rstp(br))
		rstp_remove_port(&br->rstp, port, now);
	else
		stp_remove_port(&br->stp, port, now);
}

void br_stp_set_bridge_times(struct bridge *br, const struct stp_times *times, uint64_t now)
{
	if (runs_rstp(br))
		rstp_set_bridge_times(&br->rstp, times, now);
	else
		stp_set_bridge_times(&br->stp, times, now);
}

void br_stp_set_port_edge(struct bridge *br, uint16_t port, bool admin_edge, uint64_t now)
{
	/* 802.1D has no edge ports: the setting waits for a switch to RSTP. */
	if (runs_rstp(br))
		rstp_set_port_edge(&br->rstp, port, admin_edge, true, now);
}

/* What a port was given when added, to give it again to a new tree. */
struct port_setup {
	bool in_use, enabled, p2p;
	uint8_t priority;
	uint32_t cost;
};

static void port_setup_of(const struct bridge *br, uint16_t port, struct port_setup *ps)
{
	struct br_stp_port_view v;

	*ps = (struct port_setup){0};
	if (!br->ports[port].in_use || !br_stp_get_port_view(br, port, &v))
		return;
	ps->in_use = true;
	ps->enabled = br->ports[port].enabled;
	ps->p2p = runs_rstp(br) ? v.point_to_point : true;
	ps->priority = (uint8_t)(v.port_id >> 10);
	ps->cost = v.path_cost;
}

/*
 * Another protocol, or STP turned on or off: a new tree, with the bridge id, times and
 * ports of the old one, and its ports enabled again as they were. Like a restart of the
 * tree, every port starts over (discarding, or blocking and listening with 802.1D).
 */
void br_stp_restart(struct bridge *br, enum br_protocol proto, bool enabled, uint64_t now)
{
	struct port_setup ports[STP_MAX_PORTS];
	struct br_stp_view v;
	struct stp_times t;

	br_stp_get_view(br, &v);
	t = (struct stp_times){v.bridge_max_age, v.bridge_hello_time, v.bridge_forward_delay};
	for (uint16_t i = 1; i < STP_MAX_PORTS; i++)
		port_setup_of(br, i, &ports[i]);
	br_stp_init(br, proto, enabled, v.bridge_id, &t, now);
	for (uint16_t i = 1; i < STP_MAX_PORTS; i++)
		if (ports[i].in_use)
			br_stp_add_port(br, i, ports[i].priority, ports[i].cost,
					br->ports[i].admin_edge, ports[i].p2p);
	for (uint16_t i = 1; i < STP_MAX_PORTS; i++)
		if (ports[i].enabled)
			br_stp_enable_port(br, i, now);
}

bool br_stp_mcheck(struct bridge *br, uint16_t port, uint64_t now)
{
	if (!runs_rstp(br))
		return false;
	rstp_mcheck(&br->rstp, port, now);
	return true;
}

void br_stp_received_bpdu(struct bridge *br, uint16_t port, const struct stp_bpdu *bpdu,
			  uint64_t now)
{
	if (runs_rstp(br))
		rstp_received_bpdu(&br->rstp, port, bpdu, now);
	else
		stp_received_bpdu(&br->stp, port, bpdu, now);
}

void br_stp_tick(struct bridge *br, uint64_t now)
{
	if (runs_rstp(br))
		rstp_tick(&br->rstp, now);
	else
		stp_tick(&br->stp, now);
}

uint64_t br_stp_next_deadline(const struct bridge *br)
{
	return runs_rstp(br) ? rstp_next_deadline(&br->rstp) : stp_next_deadline(&br->stp);
}

enum stp_state br_stp_port_state(const struct bridge *br, uint16_t port)
{
	if (port == 0)
		return STP_FORWARDING;
	if (runs_rstp(br))
		return rstp_port_state(&br->rstp.ports[port]);
	return br->stp.ports[port].state;
}

bool br_stp_fast_ageing(const struct bridge *br)
{
	return !runs_rstp(br) && stp_fast_ageing(&br->stp);
}

static uint64_t secs(uint16_t s)
{
	return (uint64_t)s * STP_SEC;
}

static void rstp_view(const struct rstp_bridge *r, struct br_stp_view *v)
{
	v->enabled = true;
	v->bridge_id = r->bridge_identifier;
	v->designated_root = r->root_priority.root_bridge_id;
	v->root_port = r->root_port;
	v->root_path_cost = r->root_priority.root_path_cost;
	v->is_root = rstp_is_root_bridge(r);
	v->topology_change = rstp_topology_change(r);
	v->topology_change_count = r->topology_change_count;
	v->max_age = secs(r->root_times.max_age);
	v->hello_time = secs(r->root_times.hello_time);
	v->forward_delay = secs(r->root_times.forward_delay);
	v->bridge_max_age = secs(r->bridge_times.max_age);
	v->bridge_hello_time = secs(r->bridge_times.hello_time);
	v->bridge_forward_delay = secs(r->bridge_times.forward_delay);
}

static void stp_view(const struct stp_bridge *s, struct br_stp_view *v)
{
	v->enabled = s->enabled;
	v->bridge_id = s->bridge_id;
	v->designated_root = s->designated_root;
	v->root_port = s->root_port;
	v->root_path_cost = s->root_path_cost;
	v->is_root = stp_is_root_bridge(s);
	v->topology_change = s->topology_change;
	v->topology_change_count = s->topology_change_count;
	v->max_age = s->max_age;
	v->hello_time = s->hello_time;
	v->forward_delay = s->forward_delay;
	v->bridge_max_age = s->bridge_max_age;
	v->bridge_hello_time = s->bridge_hello_time;
	v->bridge_forward_delay = s->bridge_forward_delay;
}

void br_stp_get_view(const struct bridge *br, struct br_stp_view *v)
{
	*v = (struct br_stp_view){.protocol = br->protocol};
	if (runs_rstp(br))
		rstp_view(&br->rstp, v);
	else
		stp_view(&br->stp, v);
}

static void rstp_port_view(const struct rstp_port *p, struct br_stp_port_view *v)
{
	const struct rstp_port_counters *c = &p->cnt;

	v->state = rstp_port_state(p);
	v->role = rstp_role_name(p->port_enabled ? p->role : RSTP_ROLE_DISABLED);
	v->rstp = p->send_rstp;
	v->admin_edge = p->admin_edge;
	v->oper_edge = p->oper_edge;
	v->point_to_point = p->oper_point_to_point_mac;
	v->port_id = p->port_id;
	v->path_cost = p->port_path_cost;
	v->designated_root = p->port_priority.root_bridge_id;
	v->designated_bridge = p->port_priority.designated_bridge_id;
	v->designated_cost = p->port_priority.root_path_cost;
	v->designated_port = p->port_priority.designated_port_id;
	v->rx_config = c->rx_config;
	v->rx_tcn = c->rx_tcn;
	v->rx_rst = c->rx_rst;
	v->tx_config = c->tx_config;
	v->tx_tcn = c->tx_tcn;
	v->tx_rst = c->tx_rst;
	v->rx_clamped = c->rx_clamped;
	v->rx_aged_out = c->rx_aged_out;
	v->rx_departed = c->rx_departed;
	v->migrations = c->migrations;
	v->tc_detected = c->tc_detected;
	v->tc_received = c->tc_received;
	v->flushes = c->flushes;
	v->transitions = c->transitions;
}

static void stp_port_view(const struct stp_bridge *s, const struct stp_port *p,
			  struct br_stp_port_view *v)
{
	const struct stp_port_counters *c = &p->cnt;

	v->state = p->state;
	v->role = stp_role_name(stp_port_role(s, p));
	v->port_id = p->port_id;
	v->path_cost = p->path_cost;
	v->designated_root = p->designated_root;
	v->designated_bridge = p->designated_bridge;
	v->designated_cost = p->designated_cost;
	v->designated_port = p->designated_port;
	v->rx_config = c->rx_config;
	v->rx_tcn = c->rx_tcn;
	v->rx_rst = c->rx_rst;
	v->tx_config = c->tx_config;
	v->tx_tcn = c->tx_tcn;
	v->rx_clamped = c->rx_clamped;
	v->rx_aged_out = c->rx_aged_out;
	v->transitions = c->transitions;
}

bool br_stp_get_port_view(const struct bridge *br, uint16_t port, struct br_stp_port_view *v)
{
	*v = (struct br_stp_port_view){0};
	if (port >= STP_MAX_PORTS)
		return false;
	if (runs_rstp(br)) {
		const struct rstp_port *p = rstp_get_port_const(&br->rstp, port);

		if (p)
			rstp_port_view(p, v);
		return p != NULL;
	}
	const struct stp_port *p = stp_get_port_const(&br->stp, port);

	if (p) {
		stp_port_view(&br->stp, p, v);
		v->admin_edge = br->ports[port].admin_edge;
	}
	return p != NULL;
}
