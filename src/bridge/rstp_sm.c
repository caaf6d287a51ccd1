/* SPDX-License-Identifier: MIT */
#include "rstp_sm.h"

/*
 * 802.1D-2004 17.21-17.31. A state's entry actions are a function named after
 * the state; a state left unconditionally (UCT) calls the next state's entry
 * function at its end, so each machine rests only in the states where it can
 * wait (enum rstp_*_state in rstp.h).
 */

/* rstpVersion (17.20): Force Protocol Version is always 2 here. */
#define RSTP_VERSION true

#define MAC_MASK      0xffffffffffffULL
#define PORT_NUM_MASK 0x3ff

/* ---- 17.20 conditions and parameters ---- */

static uint16_t fwd_delay(const struct rstp_port *p) /* FwdDelay */
{
	return p->designated_times.forward_delay;
}

static uint16_t hello_time(const struct rstp_port *p) /* HelloTime */
{
	return p->designated_times.hello_time;
}

static uint16_t max_age(const struct rstp_port *p) /* MaxAge */
{
	return p->designated_times.max_age;
}

/* forwardDelay: an RSTP port waits a hello for an agreement, an 802.1D one the forward delay. */
static uint16_t forward_delay(const struct rstp_port *p)
{
	return p->send_rstp ? hello_time(p) : fwd_delay(p);
}

/*
 * EdgeDelay (802.1Q-2005 13.25): how long a designated port proposing hears
 * nothing before it takes itself for an edge (AutoEdge, 17.25).
 */
static uint16_t edge_delay(const struct rstp_port *p)
{
	return p->oper_point_to_point_mac ? RSTP_MIGRATE_TIME : max_age(p);
}

/*
 * allSynced: every port has the role it was selected for, and is synced or is
 * the root port (the root port never syncs: it is the one agreeing).
 */
static bool all_synced(const struct rstp_bridge *br)
{
	for (const struct rstp_port *p = &br->ports[1]; p < &br->ports[br->nports]; p++) {
		if (!p->in_use)
			continue;
		if (!p->selected || p->role != p->selected_role)
			return false;
		if (!p->synced && p->role != RSTP_ROLE_ROOT)
			return false;
	}
	return true;
}

/* reRooted: no other port's rrWhile runs (no recent root port can still forward). */
static bool re_rooted(const struct rstp_bridge *br, const struct rstp_port *self)
{
	for (const struct rstp_port *p = &br->ports[1]; p < &br->ports[br->nports]; p++)
		if (p->in_use && p != self && p->rr_while != 0)
			return false;
	return true;
}

/* ---- 17.6 priority vectors ---- */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

int rstp_priority_compare(const struct rstp_priority *a, const struct rstp_priority *b)
{
	if (a->root_bridge_id != b->root_bridge_id)
		return cmp_u64(a->root_bridge_id, b->root_bridge_id);
	if (a->root_path_cost != b->root_path_cost)
		return cmp_u64(a->root_path_cost, b->root_path_cost);
	if (a->designated_bridge_id != b->designated_bridge_id)
		return cmp_u64(a->designated_bridge_id, b->designated_bridge_id);
	return cmp_u64(a->designated_port_id, b->designated_port_id);
}

static bool same_designated_port(const struct rstp_priority *a, const struct rstp_priority *b)
{
	return (a->designated_bridge_id & MAC_MASK) == (b->designated_bridge_id & MAC_MASK) &&
	       (a->designated_port_id & PORT_NUM_MASK) == (b->designated_port_id & PORT_NUM_MASK);
}

bool rstp_priority_superior(const struct rstp_priority *msg, const struct rstp_priority *port)
{
	int c = rstp_priority_compare(msg, port);

	return c < 0 || (c > 0 && same_designated_port(msg, port));
}

static bool same_times(const struct rstp_times *a, const struct rstp_times *b)
{
	return a->message_age == b->message_age && a->max_age == b->max_age &&
	       a->forward_delay == b->forward_delay && a->hello_time == b->hello_time;
}

/* ---- 17.21 procedures ---- */

/* 17.21.1 */
static bool betterorsame_info(const struct rstp_port *p, enum rstp_info_is new_info_is)
{
	if (new_info_is == RSTP_INFO_RECEIVED && p->info_is == RSTP_INFO_RECEIVED)
		return rstp_priority_compare(&p->msg_priority, &p->port_priority) <= 0;
	if (new_info_is == RSTP_INFO_MINE && p->info_is == RSTP_INFO_MINE)
		return rstp_priority_compare(&p->designated_priority, &p->port_priority) <= 0;
	return false;
}

/*
 * Not in 802.1D-2004: a designated port keeps its agreement (agreed) across
 * new information of its own only while the root bridge stays the same. 17.27
 * UPDATE keeps it for any better or same vector (betterorsameInfo): better
 * news of the same tree does not turn the agreeing bridge's ports round. A
 * better root is another tree. After a root's death, stale news of it goes
 * round a cycle (the count to infinity) and comes back better than the new
 * root's: each bridge of the cycle took it on its root port, its designated
 * ports kept the agreements given for the new root, so allSynced held at once,
 * it agreed, and the last designated port of the cycle forwarded on that
 * agreement: the cycle closed (the hosts' triangle when rho died). Without the
 * agreement, the port discards and proposes (17.29 DESIGNATED_DISCARD,
 * DESIGNATED_PROPOSE), and sync goes round the cycle with the news.
 */
static bool same_root(const struct rstp_priority *a, const struct rstp_priority *b)
{
	return a->root_bridge_id == b->root_bridge_id;
}

/* 17.21.2 */
static void clear_reselect_tree(struct rstp_bridge *br)
{
	rstp_for_each_port(br, p) p->reselect = false;
}

/*
 * fdbFlush (17.19.7) with rstpVersion: the entries go at once, so the
 * filtering database's reset of the flag follows at once too.
 */
static void set_fdb_flush(struct rstp_bridge *br, struct rstp_port *p)
{
	p->fdb_flush = true;
	p->cnt.flushes++;
	if (br->cb.flush)
		br->cb.flush(br->ctx, p->port_no);
	p->fdb_flush = false;
}

static bool any_tc_while(const struct rstp_bridge *br)
{
	for (const struct rstp_port *p = &br->ports[1]; p < &br->ports[br->nports]; p++)
		if (p->in_use && p->tc_while != 0)
			return true;
	return false;
}

/* 17.21.7 */
static void new_tc_while(struct rstp_bridge *br, struct rstp_port *p)
{
	if (p->tc_while != 0)
		return;
	if (!any_tc_while(br)) {
		br->topology_change_count++;
		br->last_topology_change = br->now;
	}
	if (p->send_rstp) {
		p->tc_while = (uint16_t)(hello_time(p) + 1);
		p->new_info = true;
	} else {
		p->tc_while = (uint16_t)(br->root_times.max_age + br->root_times.forward_delay);
	}
}

/* The times of a received BPDU, to the nearest whole second (17.21.8). */
static uint16_t whole_seconds(uint16_t ticks)
{
	return (uint16_t)(((uint32_t)ticks + 128) / 256);
}

static void decode_message(struct rstp_port *p)
{
	const struct stp_config_bpdu *c = &p->rcvd.config;

	p->msg_priority.root_bridge_id = c->root_id;
	p->msg_priority.root_path_cost = c->root_path_cost;
	p->msg_priority.designated_bridge_id = c->bridge_id;
	p->msg_priority.designated_port_id = c->port_id;
	p->msg_times.message_age = whole_seconds(c->message_age);
	p->msg_times.max_age = whole_seconds(c->max_age);
	p->msg_times.forward_delay = whole_seconds(c->forward_delay);
	p->msg_times.hello_time = whole_seconds(c->hello_time);
}

/*
 * The role a message conveys: a configuration BPDU a designated port's
 * (17.21.8), and so does an RST BPDU with the Unknown role (9.2.9).
 */
static bool conveys_designated(const struct stp_bpdu *b)
{
	if (b->type == STP_BPDU_TYPE_CONFIG)
		return true;
	return b->config.port_role == STP_RST_ROLE_DESIGNATED ||
	       b->config.port_role == STP_RST_ROLE_UNKNOWN;
}

/* 17.21.8 */
static enum rstp_rcvd_info rcv_info(struct rstp_port *p)
{
	int c;

	if (p->rcvd.type == STP_BPDU_TYPE_TCN)
		return RSTP_OTHER_INFO;
	decode_message(p);
	c = rstp_priority_compare(&p->msg_priority, &p->port_priority);
	if (conveys_designated(&p->rcvd)) {
		if (rstp_priority_superior(&p->msg_priority, &p->port_priority) ||
		    (c == 0 && !same_times(&p->msg_times, &p->port_times)))
			return RSTP_SUPERIOR_DESIGNATED_INFO;
		/* the same again from the port's designated bridge (not this port's own, looped) */
		if (c == 0 && p->info_is == RSTP_INFO_RECEIVED)
			return RSTP_REPEATED_DESIGNATED_INFO;
		return RSTP_INFERIOR_DESIGNATED_INFO;
	}
	if (c >= 0)
		return RSTP_INFERIOR_ROOT_ALTERNATE_INFO;
	return RSTP_OTHER_INFO;
}

/*
 * Not in 802.1D-2004: whether an agreement can answer this designated port's
 * present information (portPriority, which is designatedPriority). An
 * agreement sent before the port's information changed root bridge, or
 * before a role change brought it back to this root, answers an older
 * proposal: same_root() dropped the agreement it stood for, and it must not
 * come back in flight. A root port agreeing says its bridge's root path runs
 * through this port, so its root path cost is above this port's own; one not
 * above it agreed to something this port no longer says (after the role
 * change, the epsilon-vorke link of test_rstp's hosts when rho dies silently).
 * rcvInfo's "same or worse" (17.21.8) lets both through.
 */
static bool agreement_answers(const struct rstp_port *p)
{
	const struct rstp_priority *m = &p->msg_priority, *v = &p->port_priority;

	if (!same_root(m, v))
		return false;
	return p->rcvd.config.port_role != STP_RST_ROLE_ROOT ||
	       m->root_path_cost > v->root_path_cost;
}

/*
 * Not in 802.1D-2004 either: while the port has news it could not send yet
 * (newInfo held back by the Transmit Hold Count, 17.26), its neighbour has not
 * heard its present role or information, so no agreement can answer them. A
 * port made designated again waited up to a second to say so, and meanwhile
 * took agreements its neighbour had sent to an older proposal, while that
 * neighbour forwarded on the agreement this port gave as an alternate: both
 * ends of a link forwarded as designated ports until the next tick.
 */
static bool news_sent(const struct rstp_port *p)
{
	return !p->new_info;
}

/* 17.21.9 */
static void record_agreement(struct rstp_port *p)
{
	if (RSTP_VERSION && p->oper_point_to_point_mac && p->rcvd.type == STP_BPDU_TYPE_RST &&
	    p->rcvd.config.agreement && agreement_answers(p) && news_sent(p)) {
		p->agreed = true;
		p->proposing = false;
	} else {
		p->agreed = false;
	}
}

/*
 * 17.21.10: an inferior designated message from a port that is learning says
 * the other end did not hear this one (a link working one way): this port
 * must not forward.
 */
static void record_dispute(struct rstp_port *p)
{
	if (p->rcvd.type == STP_BPDU_TYPE_RST && p->rcvd.config.learning) {
		p->disputed = true;
		p->agreed = false;
	}
}

/* 17.21.11 */
static void record_proposal(struct rstp_port *p)
{
	if (conveys_designated(&p->rcvd) && p->rcvd.type == STP_BPDU_TYPE_RST &&
	    p->rcvd.config.proposal)
		p->proposed = true;
}

/* 17.21.12 */
static void record_priority(struct rstp_port *p)
{
	p->port_priority = p->msg_priority;
}

/* 17.21.13 */
static void record_times(struct rstp_port *p)
{
	p->port_times = p->msg_times;
}

/* 17.21.14 */
static void set_sync_tree(struct rstp_bridge *br)
{
	rstp_for_each_port(br, p) p->sync = true;
}

/* 17.21.15 */
static void set_re_root_tree(struct rstp_bridge *br)
{
	rstp_for_each_port(br, p) p->re_root = true;
}

/* 17.21.16 */
static void set_selected_tree(struct rstp_bridge *br)
{
	rstp_for_each_port(br, p) if (p->reselect) return;
	rstp_for_each_port(br, p) p->selected = true;
}

/* 17.21.17 */
static void set_tc_flags(struct rstp_port *p)
{
	if (p->rcvd.type == STP_BPDU_TYPE_TCN) {
		p->rcvd_tcn = true;
		return;
	}
	if (p->rcvd.config.topology_change)
		p->rcvd_tc = true;
	if (p->rcvd.config.topology_change_ack)
		p->rcvd_tc_ack = true;
}

/* 17.21.18 */
static void set_tc_prop_tree(struct rstp_bridge *br, struct rstp_port *self)
{
	rstp_for_each_port(br, p) if (p != self) p->tc_prop = true;
}

static void transmit(struct rstp_bridge *br, struct rstp_port *p, const struct stp_bpdu *b,
		     uint64_t *counter)
{
	if (br->cb.tx && br->cb.tx(br->ctx, p->port_no, b))
		(*counter)++;
	else
		p->cnt.tx_dropped++;
}

/* The priority vector and times a BPDU from this port carries: designatedPriority, -Times. */
static void fill_message(const struct rstp_port *p, struct stp_config_bpdu *c)
{
	c->root_id = p->designated_priority.root_bridge_id;
	c->root_path_cost = p->designated_priority.root_path_cost;
	c->bridge_id = p->designated_priority.designated_bridge_id;
	c->port_id = p->designated_priority.designated_port_id;
	c->message_age = stp_ns_to_ticks(p->designated_times.message_age * STP_SEC);
	c->max_age = stp_ns_to_ticks(p->designated_times.max_age * STP_SEC);
	c->hello_time = stp_ns_to_ticks(p->designated_times.hello_time * STP_SEC);
	c->forward_delay = stp_ns_to_ticks(p->designated_times.forward_delay * STP_SEC);
	c->topology_change = p->tc_while != 0;
}

/* 17.21.19 */
static void tx_config(struct rstp_bridge *br, struct rstp_port *p)
{
	struct stp_bpdu b = {.type = STP_BPDU_TYPE_CONFIG, .version = STP_VERSION_STP};

	fill_message(p, &b.config);
	b.config.topology_change_ack = p->tc_ack;
	transmit(br, p, &b, &p->cnt.tx_config);
}

static uint8_t encoded_role(enum rstp_role r)
{
	switch (r) {
	case RSTP_ROLE_ROOT:
		return STP_RST_ROLE_ROOT;
	case RSTP_ROLE_DESIGNATED:
		return STP_RST_ROLE_DESIGNATED;
	case RSTP_ROLE_ALTERNATE:
	case RSTP_ROLE_BACKUP:
		return STP_RST_ROLE_ALTERNATE_BACKUP;
	default:
		return STP_RST_ROLE_UNKNOWN;
	}
}

/* 17.21.20 */
static void tx_rstp(struct rstp_bridge *br, struct rstp_port *p)
{
	struct stp_bpdu b = {.type = STP_BPDU_TYPE_RST, .version = STP_VERSION_RSTP};
	struct stp_config_bpdu *c = &b.config;

	fill_message(p, c);
	c->port_role = encoded_role(p->role);
	c->agreement = p->agree;
	c->proposal = p->proposing;
	c->learning = p->learning;
	c->forwarding = p->forwarding;
	transmit(br, p, &b, &p->cnt.tx_rst);
}

/* 17.21.21 */
static void tx_tcn(struct rstp_bridge *br, struct rstp_port *p)
{
	struct stp_bpdu b = {.type = STP_BPDU_TYPE_TCN, .version = STP_VERSION_STP};

	transmit(br, p, &b, &p->cnt.tx_tcn);
}

/* 17.21.22 */
static void updt_bpdu_version(struct rstp_port *p)
{
	const struct stp_bpdu *b = &p->rcvd;

	if (b->type == STP_BPDU_TYPE_RST)
		p->rcvd_rstp = true;
	else if (b->version <= 1)
		p->rcvd_stp = true;
}

/* 17.21.23: the information lives three hellos, unless it is already too old. */
static void updt_rcvd_info_while(struct rstp_port *p)
{
	const struct rstp_times *t = &p->port_times;

	if (t->message_age + 1 <= t->max_age)
		p->rcvd_info_while = (uint16_t)(3 * t->hello_time);
	else
		p->rcvd_info_while = 0;
}

/* 17.21.24 */
static void updt_role_disabled_tree(struct rstp_bridge *br)
{
	rstp_for_each_port(br, p) p->selected_role = RSTP_ROLE_DISABLED;
}

/*
 * 17.21.25 a)-b): the best root path priority vector (port priority vector
 * plus the port's path cost) among ports with received information not from
 * this bridge, ties broken by the receiving port's portId; NULL when the
 * bridge's own vector is better (this bridge is root).
 */
static struct rstp_port *select_root_port(struct rstp_bridge *br, struct rstp_priority *best)
{
	struct rstp_port *root = NULL;

	*best = br->bridge_priority;
	rstp_for_each_port(br, p)
	{
		struct rstp_priority v = p->port_priority;
		uint64_t cost = (uint64_t)v.root_path_cost + p->port_path_cost;
		int c;

		if (p->info_is != RSTP_INFO_RECEIVED)
			continue;
		if ((v.designated_bridge_id & MAC_MASK) == (br->bridge_identifier & MAC_MASK))
			continue;
		v.root_path_cost = cost > UINT32_MAX ? UINT32_MAX : (uint32_t)cost;
		c = rstp_priority_compare(&v, best);
		if (c < 0 || (c == 0 && root && p->port_id < root->port_id)) {
			*best = v;
			root = p;
		}
	}
	return root;
}

/* c): the root's times, a second older for the hop. */
static void updt_root_times(struct rstp_bridge *br, const struct rstp_port *root)
{
	if (root) {
		br->root_times = root->port_times;
		br->root_times.message_age++;
	} else {
		br->root_times = br->bridge_times;
	}
}

/* d), e): what each port would send as designated port; the hello time is our own. */
static void updt_designated(struct rstp_bridge *br)
{
	rstp_for_each_port(br, p)
	{
		p->designated_priority.root_bridge_id = br->root_priority.root_bridge_id;
		p->designated_priority.root_path_cost = br->root_priority.root_path_cost;
		p->designated_priority.designated_bridge_id = br->bridge_identifier;
		p->designated_priority.designated_port_id = p->port_id;
		p->designated_times = br->root_times;
		p->designated_times.hello_time = br->bridge_times.hello_time;
	}
}

/* f)-l): each port's selectedRole and whether its information must be updated. */
static void updt_port_role(struct rstp_bridge *br, struct rstp_port *p,
			   const struct rstp_port *root)
{
	switch (p->info_is) {
	case RSTP_INFO_DISABLED:
		p->selected_role = RSTP_ROLE_DISABLED;
		break;
	case RSTP_INFO_AGED:
		p->selected_role = RSTP_ROLE_DESIGNATED;
		p->updt_info = true;
		break;
	case RSTP_INFO_MINE:
		p->selected_role = RSTP_ROLE_DESIGNATED;
		if (rstp_priority_compare(&p->port_priority, &p->designated_priority) != 0 ||
		    !same_times(&p->port_times, &p->designated_times))
			p->updt_info = true;
		break;
	case RSTP_INFO_RECEIVED:
		if (p == root) {
			p->selected_role = RSTP_ROLE_ROOT;
			p->updt_info = false;
		} else if (rstp_priority_compare(&p->designated_priority, &p->port_priority) >= 0) {
			/* the LAN has a better designated port: ours blocks */
			if (p->port_priority.designated_bridge_id != br->bridge_identifier)
				p->selected_role = RSTP_ROLE_ALTERNATE;
			else
				p->selected_role = RSTP_ROLE_BACKUP;
			p->updt_info = false;
		} else {
			p->selected_role = RSTP_ROLE_DESIGNATED;
			p->updt_info = true;
		}
		break;
	}
}

/* 17.21.25 */
static void updt_roles_tree(struct rstp_bridge *br)
{
	struct rstp_port *root = select_root_port(br, &br->root_priority);

	br->root_port_id = root ? root->port_id : 0;
	br->root_port = root ? root->port_no : 0;
	updt_root_times(br, root);
	updt_designated(br);
	rstp_for_each_port(br, p) updt_port_role(br, p, root);
}

/* ---- 17.22 Port Timers ---- */

static void dec(uint16_t *t)
{
	if (*t)
		(*t)--;
}

void rstp_port_timers_tick(struct rstp_port *p)
{
	dec(&p->hello_when);
	dec(&p->tc_while);
	dec(&p->fd_while);
	dec(&p->rcvd_info_while);
	dec(&p->rr_while);
	dec(&p->rb_while);
	dec(&p->mdelay_while);
	dec(&p->edge_delay_while);
	if (p->tx_count)
		p->tx_count--;
}

/* ---- 17.23 Port Receive ---- */

static void prx_discard(struct rstp_port *p)
{
	p->prx = RSTP_PRX_DISCARD;
	p->rcvd_bpdu = p->rcvd_rstp = p->rcvd_stp = false;
	p->rcvd_msg = false; /* clearAllRcvdMsgs() */
	p->edge_delay_while = RSTP_MIGRATE_TIME;
}

static void prx_receive(struct rstp_port *p)
{
	p->prx = RSTP_PRX_RECEIVE;
	updt_bpdu_version(p);
	p->oper_edge = p->rcvd_bpdu = false;
	p->rcvd_msg = true;
	p->edge_delay_while = RSTP_MIGRATE_TIME;
}

bool rstp_port_receive(struct rstp_bridge *br, struct rstp_port *p)
{
	(void)br;
	if ((p->rcvd_bpdu || p->edge_delay_while != RSTP_MIGRATE_TIME) && !p->port_enabled) {
		prx_discard(p);
		return true;
	}
	if (p->rcvd_bpdu && p->port_enabled && (p->prx == RSTP_PRX_DISCARD || !p->rcvd_msg)) {
		prx_receive(p);
		return true;
	}
	return false;
}

/* ---- 17.24 Port Protocol Migration ---- */

static void set_send_rstp(struct rstp_port *p, bool v)
{
	if (p->send_rstp != v)
		p->cnt.migrations++;
	p->send_rstp = v;
}

static void ppm_checking_rstp(struct rstp_port *p)
{
	p->ppm = RSTP_PPM_CHECKING_RSTP;
	p->mcheck = false;
	set_send_rstp(p, RSTP_VERSION);
	p->mdelay_while = RSTP_MIGRATE_TIME;
}

static void ppm_selecting_stp(struct rstp_port *p)
{
	p->ppm = RSTP_PPM_SELECTING_STP;
	set_send_rstp(p, false);
	p->mdelay_while = RSTP_MIGRATE_TIME;
}

static void ppm_sensing(struct rstp_port *p)
{
	p->ppm = RSTP_PPM_SENSING;
	p->rcvd_rstp = p->rcvd_stp = false;
}

bool rstp_port_protocol_migration(struct rstp_bridge *br, struct rstp_port *p)
{
	(void)br;
	switch (p->ppm) {
	case RSTP_PPM_CHECKING_RSTP:
		if (p->mdelay_while != RSTP_MIGRATE_TIME && !p->port_enabled) {
			ppm_checking_rstp(p);
			return true;
		}
		if (p->mdelay_while == 0) {
			ppm_sensing(p);
			return true;
		}
		return false;
	case RSTP_PPM_SELECTING_STP:
		if (p->mdelay_while == 0 || !p->port_enabled || p->mcheck) {
			ppm_sensing(p);
			return true;
		}
		return false;
	case RSTP_PPM_SENSING:
		if (!p->port_enabled || p->mcheck ||
		    (RSTP_VERSION && !p->send_rstp && p->rcvd_rstp)) {
			ppm_checking_rstp(p);
			return true;
		}
		if (p->send_rstp && p->rcvd_stp) {
			ppm_selecting_stp(p);
			return true;
		}
		return false;
	}
	return false;
}

/*
 * ---- 17.25 Bridge Detection ----
 *
 * 802.1D-2004 starts edgeDelayWhile only when a BPDU arrives, and an
 * alternate or root port sends none once it has agreed: a designated port
 * facing one has heard nothing for long when it proposes again (a sync), and
 * took itself for an edge at once, forwarding into a bridge. DESIGNATED_PROPOSE
 * starts the timer, as 802.1Q-2005 does, so a proposal waits EdgeDelay for an
 * answer before the port counts as an edge.
 */

static void bdm_edge(struct rstp_port *p)
{
	p->bdm = RSTP_BDM_EDGE;
	p->oper_edge = true;
}

static void bdm_not_edge(struct rstp_port *p)
{
	p->bdm = RSTP_BDM_NOT_EDGE;
	p->oper_edge = false;
}

bool rstp_bridge_detection(struct rstp_bridge *br, struct rstp_port *p)
{
	(void)br;
	if (p->bdm == RSTP_BDM_EDGE) {
		if ((!p->port_enabled && !p->admin_edge) || !p->oper_edge) {
			bdm_not_edge(p);
			return true;
		}
		return false;
	}
	/* no BPDU for MigrateTime while proposing: nothing that speaks RSTP is there */
	if ((!p->port_enabled && p->admin_edge) ||
	    (p->edge_delay_while == 0 && p->auto_edge && p->send_rstp && p->proposing)) {
		bdm_edge(p);
		return true;
	}
	return false;
}

/* ---- 17.26 Port Transmit ---- */

static void ptx_idle(struct rstp_port *p)
{
	p->ptx = RSTP_PTX_IDLE;
	p->hello_when = hello_time(p);
}

static void ptx_transmit_init(struct rstp_port *p)
{
	p->ptx = RSTP_PTX_TRANSMIT_INIT;
	p->new_info = true;
	p->tx_count = 0;
}

static bool ptx_send(struct rstp_bridge *br, struct rstp_port *p)
{
	if (p->send_rstp) { /* TRANSMIT_RSTP */
		p->new_info = false;
		tx_rstp(br, p);
		p->tx_count++;
		p->tc_ack = false;
	} else if (p->role == RSTP_ROLE_ROOT) { /* TRANSMIT_TCN */
		p->new_info = false;
		tx_tcn(br, p);
		p->tx_count++;
	} else if (p->role == RSTP_ROLE_DESIGNATED) { /* TRANSMIT_CONFIG */
		p->new_info = false;
		tx_config(br, p);
		p->tx_count++;
		p->tc_ack = false;
	} else {
		return false; /* an 802.1D alternate port is silent */
	}
	ptx_idle(p);
	return true;
}

/*
 * The standard's machine starts at BEGIN only; a port whose MAC is down sends
 * nothing, so here it also waits in TRANSMIT_INIT while disabled (as 802.1Q
 * words it), and starts with newInfo when it comes up.
 */
bool rstp_port_transmit(struct rstp_bridge *br, struct rstp_port *p)
{
	if (!p->port_enabled) {
		if (p->ptx == RSTP_PTX_TRANSMIT_INIT)
			return false;
		ptx_transmit_init(p);
		return true;
	}
	if (p->ptx == RSTP_PTX_TRANSMIT_INIT) {
		ptx_idle(p);
		return true;
	}
	if (!p->selected || p->updt_info)
		return false;
	if (p->hello_when == 0) { /* TRANSMIT_PERIODIC */
		p->new_info = p->new_info || p->role == RSTP_ROLE_DESIGNATED ||
			      (p->role == RSTP_ROLE_ROOT && p->tc_while != 0);
		ptx_idle(p);
		return true;
	}
	if (p->new_info && p->tx_count < br->tx_hold_count)
		return ptx_send(br, p);
	return false;
}

/* ---- 17.27 Port Information ---- */

static void pim_disabled(struct rstp_port *p)
{
	p->pim = RSTP_PIM_DISABLED;
	p->rcvd_msg = false;
	p->proposing = p->proposed = p->agree = p->agreed = false;
	p->rcvd_info_while = 0;
	p->info_is = RSTP_INFO_DISABLED;
	p->reselect = true;
	p->selected = false;
}

static void pim_aged(struct rstp_port *p)
{
	p->pim = RSTP_PIM_AGED;
	p->info_is = RSTP_INFO_AGED;
	p->reselect = true;
	p->selected = false;
}

/* UPDATE, then CURRENT */
static void pim_update(struct rstp_port *p)
{
	p->proposing = p->proposed = false;
	p->agreed = p->agreed && betterorsame_info(p, RSTP_INFO_MINE) &&
		    same_root(&p->designated_priority, &p->port_priority);
	p->synced = p->synced && p->agreed;
	p->port_priority = p->designated_priority;
	p->port_times = p->designated_times;
	p->updt_info = false;
	p->info_is = RSTP_INFO_MINE;
	p->new_info = true;
	p->pim = RSTP_PIM_CURRENT;
}

/*
 * The root port's side of same_root(): 17.27 keeps agree for better or same
 * information, so a proposal of it is agreed to at once (ROOT_AGREED on
 * proposed && agree) without a sync. Stale news of a dead root is better than
 * the new root's: agreed to at once, it opened the upstream port while this
 * bridge's designated ports still forwarded on agreements given for the new
 * root, and the cycle the stale news came round closed. Another root must be
 * synced to, as worse information is.
 */
static void pim_superior_designated(struct rstp_port *p)
{
	p->agreed = p->proposing = false;
	record_proposal(p);
	set_tc_flags(p);
	p->agree = p->agree && betterorsame_info(p, RSTP_INFO_RECEIVED) &&
		   same_root(&p->msg_priority, &p->port_priority);
	record_priority(p);
	record_times(p);
	updt_rcvd_info_while(p);
	p->info_is = RSTP_INFO_RECEIVED;
	p->reselect = true;
	p->selected = false;
}

static void pim_repeated_designated(struct rstp_port *p)
{
	record_proposal(p);
	set_tc_flags(p);
	updt_rcvd_info_while(p);
}

/*
 * Beyond recordDispute(), a designated port answers at once: the other end
 * thinks itself designated on the LAN, and 802.1D-2004 would leave it so until
 * this port's next hello. 802.1D-1998 replies the same way (8.6.5, stp_reply);
 * the answer is this port's designated information, as any BPDU from it.
 */
static void pim_inferior_designated(struct rstp_port *p)
{
	record_dispute(p);
	if (p->role == RSTP_ROLE_DESIGNATED)
		p->new_info = true;
}

static void pim_not_designated(struct rstp_port *p)
{
	record_agreement(p);
	set_tc_flags(p);
}

/*
 * Not in 802.1D-2004: the port holds designated information from a bridge
 * port that now says it is a root, alternate or backup port on this LAN. Then
 * it is not the designated port any more and what the port recorded from it
 * is obsolete; the standard keeps it until rcvdInfoWhile runs out (three
 * hellos). That happens when designated BPDUs cross, each end taking the
 * other's as better while its own changes (a root's death, as the news of it
 * and stale news of the root meet): both ends hold the other's older vector,
 * neither is designated, nothing refreshes or replaces it, and the stale root
 * lives on for seconds, forwarding loops included. Ageing it at once makes the
 * port designated, and it sends what is true now. In consistent operation it
 * never applies: a bridge makes its port root or alternate only on
 * information from the other end's designated port, which then holds Mine.
 */
static bool designated_port_retired(const struct rstp_port *p)
{
	return p->rcvd.type == STP_BPDU_TYPE_RST && !conveys_designated(&p->rcvd) &&
	       p->info_is == RSTP_INFO_RECEIVED &&
	       same_designated_port(&p->msg_priority, &p->port_priority);
}

/*
 * RECEIVE and the state rcvdInfo leads to, then CURRENT. A TCN BPDU is
 * OtherInfo, which in 17.27 reaches no setTcFlags(): 17.21.17 says the TCN
 * sets rcvdTcn, so OTHER does it here (as 802.1Q-2005 does in rcvInfo).
 */
static void pim_receive(struct rstp_port *p)
{
	p->rcvd_info = rcv_info(p);
	switch (p->rcvd_info) {
	case RSTP_SUPERIOR_DESIGNATED_INFO:
		pim_superior_designated(p);
		break;
	case RSTP_REPEATED_DESIGNATED_INFO:
		pim_repeated_designated(p);
		break;
	case RSTP_INFERIOR_DESIGNATED_INFO:
		pim_inferior_designated(p);
		break;
	case RSTP_INFERIOR_ROOT_ALTERNATE_INFO:
		pim_not_designated(p);
		break;
	case RSTP_OTHER_INFO:
		if (p->rcvd.type == STP_BPDU_TYPE_TCN)
			set_tc_flags(p);
		break;
	}
	if (designated_port_retired(p))
		p->rcvd_info_while = 0;
	p->rcvd_msg = false;
	p->pim = RSTP_PIM_CURRENT;
}

bool rstp_port_information(struct rstp_bridge *br, struct rstp_port *p)
{
	(void)br;
	if (!p->port_enabled && p->info_is != RSTP_INFO_DISABLED) {
		pim_disabled(p);
		return true;
	}
	switch (p->pim) {
	case RSTP_PIM_DISABLED:
		if (p->rcvd_msg) {
			pim_disabled(p);
			return true;
		}
		if (p->port_enabled) {
			pim_aged(p);
			return true;
		}
		return false;
	case RSTP_PIM_AGED:
		if (p->selected && p->updt_info) {
			pim_update(p);
			return true;
		}
		return false;
	case RSTP_PIM_CURRENT:
		if (p->selected && p->updt_info) {
			pim_update(p);
			return true;
		}
		if (p->info_is == RSTP_INFO_RECEIVED && p->rcvd_info_while == 0 && !p->updt_info &&
		    !p->rcvd_msg) {
			pim_aged(p);
			return true;
		}
		if (p->rcvd_msg && !p->updt_info) {
			pim_receive(p);
			return true;
		}
		return false;
	}
	return false;
}

/* ---- 17.28 Port Role Selection ---- */

static void prs_role_selection(struct rstp_bridge *br)
{
	br->prs = RSTP_PRS_ROLE_SELECTION;
	clear_reselect_tree(br);
	updt_roles_tree(br);
	set_selected_tree(br);
}

bool rstp_port_role_selection(struct rstp_bridge *br)
{
	if (br->prs == RSTP_PRS_INIT_BRIDGE) {
		updt_role_disabled_tree(br);
		prs_role_selection(br);
		return true;
	}
	rstp_for_each_port(br, p) if (p->reselect)
	{
		prs_role_selection(br);
		return true;
	}
	return false;
}

/* ---- 17.29 Port Role Transitions ---- */

static void prt_init_port(struct rstp_port *p)
{
	p->prt = RSTP_PRT_INIT_PORT;
	p->role = RSTP_ROLE_DISABLED;
	p->learn = p->forward = false;
	p->synced = false;
	p->sync = p->re_root = true;
	p->rr_while = fwd_delay(p);
	p->fd_while = max_age(p);
	p->rb_while = 0;
}

/*
 * role = DisabledPort: on the way from INIT_PORT the roles may already have
 * been selected (here the role selection runs first), and taking selectedRole
 * then would leave the port in this group with another role.
 */
static void prt_disable_port(struct rstp_port *p)
{
	p->prt = RSTP_PRT_DISABLE_PORT;
	p->role = RSTP_ROLE_DISABLED;
	p->learn = p->forward = false;
}

static void prt_disabled_port(struct rstp_port *p)
{
	p->prt = RSTP_PRT_DISABLED_PORT;
	p->fd_while = max_age(p);
	p->synced = true;
	p->rr_while = 0;
	p->sync = p->re_root = false;
}

static bool prt_disabled_group(struct rstp_port *p)
{
	if (p->prt == RSTP_PRT_DISABLE_PORT) {
		if (p->learning || p->forwarding)
			return false;
		prt_disabled_port(p);
		return true;
	}
	if (p->fd_while != max_age(p) || p->sync || p->re_root || !p->synced) {
		prt_disabled_port(p);
		return true;
	}
	return false;
}

static void prt_root_port(struct rstp_port *p)
{
	p->prt = RSTP_PRT_ROOT_PORT;
	p->role = RSTP_ROLE_ROOT;
	p->rr_while = fwd_delay(p);
}

/* ROOT_LEARN and ROOT_FORWARD: at once when no recent root port can still forward. */
static bool root_may_forward(struct rstp_bridge *br, struct rstp_port *p)
{
	return p->fd_while == 0 || (re_rooted(br, p) && p->rb_while == 0 && RSTP_VERSION);
}

static bool prt_root_group(struct rstp_bridge *br, struct rstp_port *p)
{
	if (p->proposed && !p->agree) { /* ROOT_PROPOSED */
		set_sync_tree(br);
		p->proposed = false;
	} else if ((all_synced(br) && !p->agree) || (p->proposed && p->agree)) { /* ROOT_AGREED */
		p->proposed = p->sync = false;
		p->agree = true;
		p->new_info = true;
	} else if (!p->forward && !p->re_root) { /* REROOT */
		set_re_root_tree(br);
	} else if (p->rr_while != fwd_delay(p)) {
		/* ROOT_PORT again */
	} else if (p->re_root && p->forward) { /* REROOTED */
		p->re_root = false;
	} else if (root_may_forward(br, p) && !p->learn) { /* ROOT_LEARN */
		p->fd_while = forward_delay(p);
		p->learn = true;
	} else if (root_may_forward(br, p) && p->learn && !p->forward) { /* ROOT_FORWARD */
		p->fd_while = 0;
		p->forward = true;
	} else {
		return false;
	}
	prt_root_port(p);
	return true;
}

static void prt_designated_port(struct rstp_port *p)
{
	p->prt = RSTP_PRT_DESIGNATED_PORT;
	p->role = RSTP_ROLE_DESIGNATED;
}

/* DESIGNATED_LEARN and DESIGNATED_FORWARD */
static bool designated_may_forward(const struct rstp_port *p)
{
	return (p->fd_while == 0 || p->agreed || p->oper_edge) &&
	       (p->rr_while == 0 || !p->re_root) && !p->sync;
}

static bool designated_must_discard(const struct rstp_port *p)
{
	return ((p->sync && !p->synced) || (p->re_root && p->rr_while != 0) || p->disputed) &&
	       !p->oper_edge && (p->learn || p->forward);
}

static bool designated_synced(const struct rstp_port *p)
{
	return (!p->learning && !p->forwarding && !p->synced) || (p->agreed && !p->synced) ||
	       (p->oper_edge && !p->synced) || (p->sync && p->synced);
}

static bool prt_designated_group(struct rstp_port *p)
{
	if (!p->forward && !p->agreed && !p->proposing && !p->oper_edge) { /* DESIGNATED_PROPOSE */
		p->proposing = true;
		p->edge_delay_while = edge_delay(p);
		p->new_info = true;
	} else if (designated_synced(p)) { /* DESIGNATED_SYNCED */
		p->rr_while = 0;
		p->synced = true;
		p->sync = false;
	} else if (p->rr_while == 0 && p->re_root) { /* DESIGNATED_RETIRED */
		p->re_root = false;
	} else if (designated_must_discard(p)) { /* DESIGNATED_DISCARD */
		p->learn = p->forward = p->disputed = false;
		p->fd_while = forward_delay(p);
	} else if (designated_may_forward(p) && !p->learn) { /* DESIGNATED_LEARN */
		p->learn = true;
		p->fd_while = forward_delay(p);
	} else if (designated_may_forward(p) && p->learn && !p->forward) { /* DESIGNATED_FORWARD */
		p->forward = true;
		p->fd_while = 0;
		p->agreed = p->send_rstp;
	} else {
		return false;
	}
	prt_designated_port(p);
	return true;
}

static void prt_block_port(struct rstp_port *p)
{
	p->prt = RSTP_PRT_BLOCK_PORT;
	p->role = p->selected_role;
	p->learn = p->forward = false;
}

static void prt_alternate_port(struct rstp_port *p)
{
	p->prt = RSTP_PRT_ALTERNATE_PORT;
	p->fd_while = forward_delay(p);
	p->synced = true;
	p->rr_while = 0;
	p->sync = p->re_root = false;
}

static bool prt_alternate_group(struct rstp_bridge *br, struct rstp_port *p)
{
	if (p->prt == RSTP_PRT_BLOCK_PORT) {
		if (p->learning || p->forwarding)
			return false;
	} else if (p->proposed && !p->agree) { /* ALTERNATE_PROPOSED */
		set_sync_tree(br);
		p->proposed = false;
	} else if ((all_synced(br) && !p->agree) || (p->proposed && p->agree)) {
		/* ALTERNATE_AGREED */
		p->proposed = false;
		p->agree = true;
		p->new_info = true;
	} else if (p->fd_while != forward_delay(p) || p->sync || p->re_root || !p->synced) {
		/* ALTERNATE_PORT again */
	} else if (p->rb_while != 2 * hello_time(p) && p->role == RSTP_ROLE_BACKUP) {
		/* BACKUP_PORT */
		p->rb_while = (uint16_t)(2 * hello_time(p));
	} else {
		return false;
	}
	prt_alternate_port(p);
	return true;
}

/* The selected role differs from the role: go to its group's first state. */
static void prt_take_selected_role(struct rstp_port *p)
{
	switch (p->selected_role) {
	case RSTP_ROLE_DISABLED:
		prt_disable_port(p);
		break;
	case RSTP_ROLE_ROOT:
		prt_root_port(p);
		break;
	case RSTP_ROLE_DESIGNATED:
		prt_designated_port(p);
		break;
	case RSTP_ROLE_ALTERNATE:
	case RSTP_ROLE_BACKUP:
		prt_block_port(p);
		break;
	}
}

bool rstp_port_role_transitions(struct rstp_bridge *br, struct rstp_port *p)
{
	if (p->prt == RSTP_PRT_INIT_PORT) {
		prt_disable_port(p);
		return true;
	}
	/* every other transition waits for the roles to be selected and the information updated */
	if (!p->selected || p->updt_info)
		return false;
	if (p->selected_role != p->role) {
		prt_take_selected_role(p);
		return true;
	}
	switch (p->prt) {
	case RSTP_PRT_DISABLE_PORT:
	case RSTP_PRT_DISABLED_PORT:
		return prt_disabled_group(p);
	case RSTP_PRT_ROOT_PORT:
		return prt_root_group(br, p);
	case RSTP_PRT_DESIGNATED_PORT:
		return prt_designated_group(p);
	case RSTP_PRT_BLOCK_PORT:
	case RSTP_PRT_ALTERNATE_PORT:
		return prt_alternate_group(br, p);
	case RSTP_PRT_INIT_PORT:
		break;
	}
	return false;
}

/* ---- 17.30 Port State Transition ---- */

/* disableLearning(), disableForwarding() and the enable ones take effect when rstp.c reports. */
static void pst_discarding(struct rstp_port *p)
{
	p->pst = RSTP_PST_DISCARDING;
	p->learning = false;
	p->forwarding = false;
}

bool rstp_port_state_transition(struct rstp_bridge *br, struct rstp_port *p)
{
	(void)br;
	switch (p->pst) {
	case RSTP_PST_DISCARDING:
		if (!p->learn)
			return false;
		p->pst = RSTP_PST_LEARNING;
		p->learning = true;
		return true;
	case RSTP_PST_LEARNING:
		if (p->forward) {
			p->pst = RSTP_PST_FORWARDING;
			p->forwarding = true;
			return true;
		}
		if (!p->learn) {
			pst_discarding(p);
			return true;
		}
		return false;
	case RSTP_PST_FORWARDING:
		if (p->forward)
			return false;
		pst_discarding(p);
		return true;
	}
	return false;
}

/* ---- 17.31 Topology Change ---- */

static void tcm_inactive(struct rstp_bridge *br, struct rstp_port *p)
{
	p->tcm = RSTP_TCM_INACTIVE;
	set_fdb_flush(br, p);
	p->tc_while = 0;
	p->tc_ack = false;
}

static void tcm_learning(struct rstp_port *p)
{
	p->tcm = RSTP_TCM_LEARNING;
	p->rcvd_tc = p->rcvd_tcn = p->rcvd_tc_ack = false;
	p->tc_prop = false;
}

static bool root_or_designated(const struct rstp_port *p)
{
	return p->role == RSTP_ROLE_ROOT || p->role == RSTP_ROLE_DESIGNATED;
}

static bool tc_flags_pending(const struct rstp_port *p)
{
	return p->rcvd_tc || p->rcvd_tcn || p->rcvd_tc_ack || p->tc_prop;
}

/* DETECTED: this port starts forwarding; everyone else must forget what they learned. */
static void tcm_detected(struct rstp_bridge *br, struct rstp_port *p)
{
	p->cnt.tc_detected++;
	new_tc_while(br, p);
	set_tc_prop_tree(br, p);
	p->new_info = true;
	p->tcm = RSTP_TCM_ACTIVE;
}

/* NOTIFIED_TC, then ACTIVE */
static void tcm_notified_tc(struct rstp_bridge *br, struct rstp_port *p)
{
	p->cnt.tc_received++;
	p->rcvd_tcn = p->rcvd_tc = false;
	if (p->role == RSTP_ROLE_DESIGNATED)
		p->tc_ack = true;
	set_tc_prop_tree(br, p);
}

static bool tcm_active(struct rstp_bridge *br, struct rstp_port *p)
{
	if (!root_or_designated(p) || p->oper_edge) {
		tcm_learning(p);
	} else if (p->rcvd_tcn) { /* NOTIFIED_TCN */
		new_tc_while(br, p);
		tcm_notified_tc(br, p);
	} else if (p->rcvd_tc) {
		tcm_notified_tc(br, p);
	} else if (p->tc_prop && !p->oper_edge) { /* PROPAGATING */
		new_tc_while(br, p);
		set_fdb_flush(br, p);
		p->tc_prop = false;
	} else if (p->rcvd_tc_ack) { /* ACKNOWLEDGED */
		p->tc_while = 0;
		p->rcvd_tc_ack = false;
	} else {
		return false;
	}
	return true;
}

bool rstp_topology_change_sm(struct rstp_bridge *br, struct rstp_port *p)
{
	switch (p->tcm) {
	case RSTP_TCM_INACTIVE:
		if (!p->learn || p->fdb_flush)
			return false;
		tcm_learning(p);
		return true;
	case RSTP_TCM_LEARNING:
		if (root_or_designated(p) && p->forward && !p->oper_edge) {
			tcm_detected(br, p);
			return true;
		}
		if (!root_or_designated(p) && !(p->learn || p->learning) && !tc_flags_pending(p)) {
			tcm_inactive(br, p);
			return true;
		}
		if (tc_flags_pending(p)) {
			tcm_learning(p);
			return true;
		}
		return false;
	case RSTP_TCM_ACTIVE:
		return tcm_active(br, p);
	}
	return false;
}

/* ---- BEGIN ---- */

void rstp_port_begin(struct rstp_bridge *br, struct rstp_port *p)
{
	p->designated_priority = br->root_priority;
	p->designated_priority.designated_bridge_id = br->bridge_identifier;
	p->designated_priority.designated_port_id = p->port_id;
	p->designated_times = br->root_times;
	p->designated_times.hello_time = br->bridge_times.hello_time;
	p->port_priority = p->designated_priority;
	p->port_times = p->designated_times;
	prx_discard(p);
	p->send_rstp = RSTP_VERSION; /* what CHECKING_RSTP sets: no migration */
	ppm_checking_rstp(p);
	if (p->admin_edge)
		bdm_edge(p);
	else
		bdm_not_edge(p);
	ptx_transmit_init(p);
	pim_disabled(p);
	p->selected_role = RSTP_ROLE_DISABLED;
	prt_init_port(p);
	pst_discarding(p);
	/* INACTIVE; a port just added has no FDB entries to flush */
	p->tcm = RSTP_TCM_INACTIVE;
	p->tc_while = 0;
	p->tc_ack = false;
}

void rstp_bridge_begin(struct rstp_bridge *br)
{
	br->prs = RSTP_PRS_INIT_BRIDGE;
}
