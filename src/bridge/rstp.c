/* SPDX-License-Identifier: MIT */
#include "rstp.h"

#include <string.h>

#include "rstp_sm.h"

/*
 * The entry points: each records what happened (a BPDU, a port up or down, a
 * second passed, a setting) in the machines' variables and runs the machines
 * (rstp_sm.c) until none moves, then tells the caller which port states
 * changed. BPDUs are sent once everything else has settled, so a BPDU carries
 * the outcome of the event rather than a step on the way (the transmit
 * machine waits for selected && !updtInfo anyway).
 */

/* Far beyond any cascade the machines make; a run cut there is a bug, counted in run_limit. */
#define RSTP_MAX_ROUNDS 256
/* Ticks run at once after a stall (a suspended host); every timer is 0 long before. */
#define RSTP_MAX_CATCH_UP 128

#define MAC_MASK 0xffffffffffffULL

const char *rstp_role_name(enum rstp_role r)
{
	switch (r) {
	case RSTP_ROLE_ROOT:
		return "root";
	case RSTP_ROLE_DESIGNATED:
		return "designated";
	case RSTP_ROLE_ALTERNATE:
		return "alternate";
	case RSTP_ROLE_BACKUP:
		return "backup";
	case RSTP_ROLE_DISABLED:
	default:
		return "disabled";
	}
}

struct rstp_port *rstp_get_port(struct rstp_bridge *br, uint16_t port_no)
{
	if (port_no == 0 || port_no >= STP_MAX_PORTS || !br->ports[port_no].in_use)
		return NULL;
	return &br->ports[port_no];
}

const struct rstp_port *rstp_get_port_const(const struct rstp_bridge *br, uint16_t port_no)
{
	if (port_no == 0 || port_no >= STP_MAX_PORTS || !br->ports[port_no].in_use)
		return NULL;
	return &br->ports[port_no];
}

bool rstp_is_root_bridge(const struct rstp_bridge *br)
{
	return br->root_priority.root_bridge_id == br->bridge_identifier;
}

enum stp_state rstp_port_state(const struct rstp_port *p)
{
	if (!p->port_enabled)
		return STP_DISABLED;
	if (p->forwarding)
		return STP_FORWARDING;
	if (p->learning)
		return STP_LEARNING;
	return STP_BLOCKING;
}

bool rstp_topology_change(const struct rstp_bridge *br)
{
	for (const struct rstp_port *p = &br->ports[1]; p < &br->ports[br->nports]; p++)
		if (p->in_use && p->tc_while != 0)
			return true;
	return false;
}

/* disableForwarding() and the like (17.21.3-6): the caller acts on the states it is told. */
static void report_states(struct rstp_bridge *br)
{
	rstp_for_each_port(br, p)
	{
		enum stp_state s = rstp_port_state(p), old = p->reported;

		if (s == old)
			continue;
		p->reported = s;
		p->cnt.transitions++;
		if (br->cb.state_changed)
			br->cb.state_changed(br->ctx, p->port_no, old, s);
	}
}

/* One pass of every machine but Port Transmit; true when any moved. */
static bool run_round(struct rstp_bridge *br)
{
	bool moved = false;

	rstp_for_each_port(br, p)
	{
		moved |= rstp_port_receive(br, p);
		moved |= rstp_port_protocol_migration(br, p);
		moved |= rstp_bridge_detection(br, p);
		moved |= rstp_port_information(br, p);
	}
	moved |= rstp_port_role_selection(br);
	rstp_for_each_port(br, p)
	{
		moved |= rstp_port_role_transitions(br, p);
		moved |= rstp_port_state_transition(br, p);
		moved |= rstp_topology_change_sm(br, p);
	}
	return moved;
}

static void run_state_machines(struct rstp_bridge *br)
{
	for (unsigned i = 0; i < RSTP_MAX_ROUNDS; i++) {
		bool sent = false;

		if (run_round(br))
			continue;
		rstp_for_each_port(br, p) sent |= rstp_port_transmit(br, p);
		if (!sent) {
			report_states(br);
			return;
		}
	}
	br->run_limit++;
	report_states(br);
}

static uint16_t whole_seconds(uint64_t ns)
{
	uint64_t s = (ns + STP_SEC / 2) / STP_SEC;

	return s > 0xff ? 0xff : (uint16_t)s;
}

bool rstp_init(struct rstp_bridge *br, uint64_t bridge_id, const struct stp_times *times,
	       uint64_t now, const struct rstp_callbacks *cb, void *ctx)
{
	if (stp_check_times(times) || !cb || !cb->tx)
		return false;
	memset(br, 0, sizeof(*br));
	br->bridge_identifier = bridge_id;
	br->bridge_priority = (struct rstp_priority){bridge_id, 0, bridge_id, 0};
	br->bridge_times = (struct rstp_times){
		.message_age = 0,
		.max_age = whole_seconds(times->max_age),
		.forward_delay = whole_seconds(times->forward_delay),
		.hello_time = whole_seconds(times->hello_time),
	};
	br->root_priority = br->bridge_priority;
	br->root_times = br->bridge_times;
	br->tx_hold_count = RSTP_DEFAULT_TX_HOLD_COUNT;
	br->cb = *cb;
	br->ctx = ctx;
	br->nports = 1;
	br->now = now;
	br->next_tick = now + STP_SEC;
	rstp_bridge_begin(br);
	return true;
}

bool rstp_add_port(struct rstp_bridge *br, uint16_t port_no, uint8_t priority, uint32_t path_cost)
{
	struct rstp_port *p;

	if (!stp_port_config_ok(port_no, priority, path_cost) || br->ports[port_no].in_use)
		return false;
	p = &br->ports[port_no];
	memset(p, 0, sizeof(*p));
	p->in_use = true;
	p->port_no = port_no;
	p->priority = priority;
	p->port_id = stp_make_port_id(priority, port_no);
	p->port_path_cost = path_cost;
	p->auto_edge = true;
	p->oper_point_to_point_mac = true;
	p->reported = STP_DISABLED;
	if (port_no >= br->nports)
		br->nports = (uint16_t)(port_no + 1);
	rstp_port_begin(br, p);
	return true;
}

void rstp_enable_port(struct rstp_bridge *br, uint16_t port_no, uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);

	if (!p || p->port_enabled)
		return;
	br->now = now;
	p->port_enabled = true;
	run_state_machines(br);
}

void rstp_disable_port(struct rstp_bridge *br, uint16_t port_no, uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);

	if (!p || !p->port_enabled)
		return;
	br->now = now;
	p->port_enabled = false;
	p->departed_held = false;
	run_state_machines(br);
}

/*
 * Only the root's own word is refused: a transit bridge's departure leaves the
 * root's news true, and the ports that went through it are re-selected by
 * 17.28 as for any link that goes down.
 */
void rstp_neighbour_leaving(struct rstp_bridge *br, uint16_t port_no, uint64_t hold, uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);
	uint64_t root;

	if (!p || !p->port_enabled || p->info_is != RSTP_INFO_RECEIVED)
		return;
	root = p->port_priority.root_bridge_id;
	if (p->port_priority.designated_bridge_id != root)
		return;
	br->now = now;
	br->departed_root = root;
	br->departed_until = now + hold;
	/* Aged as 17.27 CURRENT ages it: the machines carry on from there. */
	rstp_for_each_port(br, q)
	{
		if (q->info_is == RSTP_INFO_RECEIVED && q->send_rstp &&
		    q->port_priority.root_bridge_id == root)
			q->rcvd_info_while = 0;
	}
	run_state_machines(br);
}

/*
 * An RSTP neighbour's news of a root that left, within the hold. An 802.1D one (a kernel
 * bridge) hears no goodbye and has no liveness: it names that root until Max Age whatever
 * this bridge does, so its word is taken as before and the tree follows it meanwhile.
 */
static bool names_departed_root(const struct rstp_bridge *br, const struct stp_bpdu *bpdu)
{
	return bpdu->type == STP_BPDU_TYPE_RST && br->now < br->departed_until &&
	       bpdu->config.root_id == br->departed_root;
}

/* A parameter of the port's priority vectors changed: select the roles again. */
static void reselect(struct rstp_port *p)
{
	p->reselect = true;
	p->selected = false;
}

/*
 * The port leaves the bridge (its wire removed). Disabled first, so that its roles and
 * the FDB move off it as when its wire goes down; then the others select again without it
 * (a port that was the only one not synced may hold back their agreements).
 */
void rstp_remove_port(struct rstp_bridge *br, uint16_t port_no, uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);

	if (!p)
		return;
	rstp_disable_port(br, port_no, now);
	memset(p, 0, sizeof(*p));
	while (br->nports > 1 && !br->ports[br->nports - 1].in_use)
		br->nports--;
	rstp_for_each_port(br, q) reselect(q);
	run_state_machines(br);
}

/* BridgeTimes (17.18.4) from management: the roles are selected again, as for a priority. */
void rstp_set_bridge_times(struct rstp_bridge *br, const struct stp_times *times, uint64_t now)
{
	br->now = now;
	br->bridge_times.max_age = whole_seconds(times->max_age);
	br->bridge_times.forward_delay = whole_seconds(times->forward_delay);
	br->bridge_times.hello_time = whole_seconds(times->hello_time);
	rstp_for_each_port(br, p) reselect(p);
	run_state_machines(br);
}

void rstp_set_bridge_priority(struct rstp_bridge *br, uint16_t priority, uint64_t now)
{
	uint64_t id = (br->bridge_identifier & MAC_MASK) | (uint64_t)priority << 48;

	br->now = now;
	br->bridge_identifier = id;
	br->bridge_priority = (struct rstp_priority){id, 0, id, 0};
	rstp_for_each_port(br, p) reselect(p);
	run_state_machines(br);
}

void rstp_set_port_priority(struct rstp_bridge *br, uint16_t port_no, uint8_t priority,
			    uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);

	if (!p || !stp_port_priority_ok(priority))
		return;
	br->now = now;
	p->priority = priority;
	p->port_id = stp_make_port_id(priority, port_no);
	reselect(p);
	run_state_machines(br);
}

void rstp_set_path_cost(struct rstp_bridge *br, uint16_t port_no, uint32_t path_cost, uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);

	if (!p || !stp_path_cost_ok(path_cost))
		return;
	br->now = now;
	p->port_path_cost = path_cost;
	reselect(p);
	run_state_machines(br);
}

void rstp_set_tx_hold_count(struct rstp_bridge *br, uint8_t count, uint64_t now)
{
	if (count < 1 || count > RSTP_MAX_TX_HOLD_COUNT)
		return;
	br->now = now;
	br->tx_hold_count = count;
	run_state_machines(br);
}

void rstp_set_port_edge(struct rstp_bridge *br, uint16_t port_no, bool admin_edge, bool auto_edge,
			uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);

	if (!p)
		return;
	br->now = now;
	p->admin_edge = admin_edge;
	p->auto_edge = auto_edge;
	run_state_machines(br);
}

void rstp_set_port_point_to_point(struct rstp_bridge *br, uint16_t port_no, bool p2p, uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);

	if (!p)
		return;
	br->now = now;
	p->oper_point_to_point_mac = p2p;
	run_state_machines(br);
}

void rstp_mcheck(struct rstp_bridge *br, uint16_t port_no, uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);

	if (!p)
		return;
	br->now = now;
	p->mcheck = true;
	run_state_machines(br);
}

/* 9.3.4: a configuration BPDU with this port's own identifiers came back to it. */
static bool own_config(const struct rstp_bridge *br, const struct rstp_port *p,
		       const struct stp_config_bpdu *c)
{
	return c->bridge_id == br->bridge_identifier && c->port_id == p->port_id;
}

static bool times_clamped(const struct stp_config_bpdu *in, const struct stp_config_bpdu *out)
{
	return in->max_age != out->max_age || in->hello_time != out->hello_time ||
	       in->forward_delay != out->forward_delay;
}

/*
 * Counts the BPDU and says whether the machines may have it, in *out with its
 * times clamped. An RST BPDU whose message age reaches its max age is not
 * discarded: 17.21.23 gives its information no time to live instead.
 */
static bool accept_bpdu(struct rstp_bridge *br, struct rstp_port *p, const struct stp_bpdu *bpdu,
			struct stp_bpdu *out)
{
	enum stp_times_check check;

	*out = *bpdu;
	switch (bpdu->type) {
	case STP_BPDU_TYPE_TCN:
		p->cnt.rx_tcn++;
		return true;
	case STP_BPDU_TYPE_CONFIG:
		p->cnt.rx_config++;
		break;
	case STP_BPDU_TYPE_RST:
		p->cnt.rx_rst++;
		break;
	default:
		return false;
	}
	check = stp_validate_config_times(&bpdu->config, &out->config);
	if (times_clamped(&bpdu->config, &out->config))
		p->cnt.rx_clamped++;
	if (bpdu->type == STP_BPDU_TYPE_CONFIG && check == STP_TIMES_AGED_OUT) {
		p->cnt.rx_aged_out++;
		return false;
	}
	if (bpdu->type == STP_BPDU_TYPE_CONFIG && own_config(br, p, &bpdu->config)) {
		p->cnt.rx_looped++;
		return false;
	}
	if (names_departed_root(br, bpdu)) {
		p->cnt.rx_departed++;
		p->departed_bpdu = *out;
		p->departed_held = br->departed_held = true;
		return false;
	}
	return true;
}

void rstp_received_bpdu(struct rstp_bridge *br, uint16_t port_no, const struct stp_bpdu *bpdu,
			uint64_t now)
{
	struct rstp_port *p = rstp_get_port(br, port_no);
	struct stp_bpdu b;

	if (!p)
		return;
	br->now = now;
	if (!p->port_enabled) {
		p->cnt.rx_ignored++;
		return;
	}
	if (!accept_bpdu(br, p, bpdu, &b))
		return;
	p->departed_held = false; /* newer news */
	p->rcvd = b;
	p->rcvd_bpdu = true;
	run_state_machines(br);
}

/* The hold is over: what the ports last heard, news of that root included, counts again. */
static void replay_departed(struct rstp_bridge *br)
{
	br->departed_held = false;
	rstp_for_each_port(br, p)
	{
		if (!p->departed_held)
			continue;
		p->departed_held = false;
		if (p->port_enabled) {
			p->rcvd = p->departed_bpdu; /* checked and clamped when it came */
			p->rcvd_bpdu = true;
		}
	}
	run_state_machines(br);
}

void rstp_tick(struct rstp_bridge *br, uint64_t now)
{
	unsigned n = 0;

	br->now = now;
	if (br->departed_held && now >= br->departed_until)
		replay_departed(br);
	while (now >= br->next_tick) {
		if (++n > RSTP_MAX_CATCH_UP) {
			br->next_tick = now + STP_SEC;
			break;
		}
		br->next_tick += STP_SEC;
		rstp_for_each_port(br, p) rstp_port_timers_tick(p);
		run_state_machines(br);
	}
}

uint64_t rstp_next_deadline(const struct rstp_bridge *br)
{
	if (br->departed_held && br->departed_until < br->next_tick)
		return br->departed_until;
	return br->next_tick;
}
