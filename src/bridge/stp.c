/* SPDX-License-Identifier: MIT */
#include "stp.h"

#include <string.h>

static const char *const stp_state_names[] = {
	[STP_DISABLED] = "disabled",	 [STP_LISTENING] = "listening", [STP_LEARNING] = "learning",
	[STP_FORWARDING] = "forwarding", [STP_BLOCKING] = "blocking",
};

const char *stp_state_name(enum stp_state s)
{
	if ((unsigned)s > STP_BLOCKING)
		return "unknown";
	return stp_state_names[s];
}

const char *stp_role_name(enum stp_role r)
{
	switch (r) {
	case STP_ROLE_ROOT:
		return "root";
	case STP_ROLE_DESIGNATED:
		return "designated";
	case STP_ROLE_BLOCKED:
		return "blocked";
	case STP_ROLE_DISABLED:
	default:
		return "disabled";
	}
}

const char *stp_check_times(const struct stp_times *t)
{
	if (t->hello_time < 1 * STP_SEC || t->hello_time > 10 * STP_SEC)
		return "HelloTime must be 1..10 s";
	if (t->max_age < 6 * STP_SEC || t->max_age > 40 * STP_SEC)
		return "MaxAge must be 6..40 s";
	if (t->forward_delay < 4 * STP_SEC || t->forward_delay > 30 * STP_SEC)
		return "ForwardDelay must be 4..30 s";
	if (2 * (t->forward_delay - STP_SEC) < t->max_age)
		return "2 x (ForwardDelay - 1 s) must be >= MaxAge";
	if (t->max_age < 2 * (t->hello_time + STP_SEC))
		return "MaxAge must be >= 2 x (HelloTime + 1 s)";
	return NULL;
}

struct stp_port *stp_get_port(struct stp_bridge *br, uint16_t port_no)
{
	if (port_no == 0 || port_no >= STP_MAX_PORTS || !br->ports[port_no].in_use)
		return NULL;
	return &br->ports[port_no];
}

const struct stp_port *stp_get_port_const(const struct stp_bridge *br, uint16_t port_no)
{
	if (port_no == 0 || port_no >= STP_MAX_PORTS || !br->ports[port_no].in_use)
		return NULL;
	return &br->ports[port_no];
}

#define for_each_port(br, p)                                                            \
	for (struct stp_port *p = &(br)->ports[1]; p < &(br)->ports[(br)->nports]; p++) \
		if (p->in_use)

bool stp_is_root_bridge(const struct stp_bridge *br)
{
	return br->designated_root == br->bridge_id;
}

bool stp_is_designated_port(const struct stp_bridge *br, const struct stp_port *p)
{
	return p->designated_bridge == br->bridge_id && p->designated_port == p->port_id;
}

bool stp_is_designated_for_some_port(const struct stp_bridge *br)
{
	for (const struct stp_port *p = &br->ports[1]; p < &br->ports[br->nports]; p++)
		if (p->in_use && p->state != STP_DISABLED && stp_is_designated_port(br, p))
			return true;
	return false;
}

enum stp_role stp_port_role(const struct stp_bridge *br, const struct stp_port *p)
{
	if (p->state == STP_DISABLED)
		return STP_ROLE_DISABLED;
	if (p->port_no == br->root_port)
		return STP_ROLE_ROOT;
	if (stp_is_designated_port(br, p))
		return STP_ROLE_DESIGNATED;
	return STP_ROLE_BLOCKED;
}

/* Age of the root port's information now, plus the increment a hop adds. */
static uint64_t transmitted_message_age(const struct stp_bridge *br)
{
	const struct stp_port *root = &br->ports[br->root_port];

	return br->now - root->info_rx_time + root->info_message_age + STP_MESSAGE_AGE_INCR;
}

/* 8.6.1 */
void stp_transmit_config(struct stp_bridge *br, struct stp_port *p)
{
	struct stp_bpdu bpdu = {.type = STP_BPDU_TYPE_CONFIG};
	struct stp_config_bpdu *c = &bpdu.config;
	uint64_t message_age = 0;

	if (stp_timer_pending(&p->hold_timer, br->now)) {
		p->config_pending = true;
		return;
	}
	if (!stp_is_root_bridge(br))
		message_age = transmitted_message_age(br);
	/* Information that old would be discarded by the receiver: stay silent. */
	if (message_age >= br->max_age)
		return;
	c->topology_change = br->topology_change;
	c->topology_change_ack = p->topology_change_ack;
	c->root_id = br->designated_root;
	c->root_path_cost = br->root_path_cost;
	c->bridge_id = br->bridge_id;
	c->port_id = p->port_id;
	c->message_age = stp_ns_to_ticks(message_age);
	c->max_age = stp_ns_to_ticks(br->max_age);
	c->hello_time = stp_ns_to_ticks(br->hello_time);
	c->forward_delay = stp_ns_to_ticks(br->forward_delay);
	if (br->tx && br->tx(br->ctx, p->port_no, &bpdu))
		p->cnt.tx_config++;
	else
		p->cnt.tx_dropped++;
	p->topology_change_ack = false;
	p->config_pending = false;
	stp_timer_start(&p->hold_timer, br->now,
			stp_round_second(br->now, br->now + STP_HOLD_TIME) - br->now);
}

/* 8.6.2 */
void stp_record_config_information(struct stp_bridge *br, struct stp_port *p,
				   const struct stp_config_bpdu *c)
{
	uint64_t age = stp_ticks_to_ns(c->message_age);
	uint64_t max_age = stp_ticks_to_ns(c->max_age);

	p->designated_root = c->root_id;
	p->designated_cost = c->root_path_cost;
	p->designated_bridge = c->bridge_id;
	p->designated_port = c->port_id;
	p->info_rx_time = br->now;
	p->info_message_age = age;
	/* The kernel runs the timer for the sender's max age less the age already spent. */
	stp_timer_start(&p->message_age_timer, br->now, max_age > age ? max_age - age : 0);
}

static void set_topology_change(struct stp_bridge *br, bool tc)
{
	br->topology_change = tc;
}

/* 8.6.3 */
void stp_record_config_timeout_values(struct stp_bridge *br, const struct stp_config_bpdu *c)
{
	br->max_age = stp_ticks_to_ns(c->max_age);
	br->hello_time = stp_ticks_to_ns(c->hello_time);
	br->forward_delay = stp_ticks_to_ns(c->forward_delay);
	set_topology_change(br, c->topology_change);
}

/* 8.6.4 */
void stp_config_bpdu_generation(struct stp_bridge *br)
{
	for_each_port(br, p) if (p->state != STP_DISABLED && stp_is_designated_port(br, p))
		stp_transmit_config(br, p);
}

/* 8.6.5 */
void stp_reply(struct stp_bridge *br, struct stp_port *p)
{
	stp_transmit_config(br, p);
}

/* 8.6.6 */
void stp_transmit_tcn(struct stp_bridge *br)
{
	struct stp_bpdu bpdu = {.type = STP_BPDU_TYPE_TCN};
	struct stp_port *p = stp_get_port(br, br->root_port);

	if (!p)
		return;
	if (br->tx && br->tx(br->ctx, p->port_no, &bpdu))
		p->cnt.tx_tcn++;
	else
		p->cnt.tx_dropped++;
}

/*
 * 8.6.8.3: is p's designated information better than the current root port's?
 * Lowest root, then root path cost through the port, designated bridge,
 * designated port, and finally the port's own identifier.
 */
static bool better_root_port(const struct stp_port *p, const struct stp_port *rp)
{
	uint64_t pc = (uint64_t)p->designated_cost + p->path_cost;
	uint64_t rc = (uint64_t)rp->designated_cost + rp->path_cost;

	if (p->designated_root != rp->designated_root)
		return p->designated_root < rp->designated_root;
	if (pc != rc)
		return pc < rc;
	if (p->designated_bridge != rp->designated_bridge)
		return p->designated_bridge < rp->designated_bridge;
	if (p->designated_port != rp->designated_port)
		return p->designated_port < rp->designated_port;
	return p->port_id < rp->port_id;
}

/* 8.6.8 */
void stp_root_selection(struct stp_bridge *br)
{
	struct stp_port *root = NULL;

	for_each_port(br, p)
	{
		if (p->state == STP_DISABLED || stp_is_designated_port(br, p))
			continue;
		if (p->designated_root >= br->bridge_id)
			continue;
		if (!root || better_root_port(p, root))
			root = p;
	}
	if (!root) {
		br->root_port = 0;
		br->designated_root = br->bridge_id;
		br->root_path_cost = 0;
	} else {
		uint64_t cost = (uint64_t)root->designated_cost + root->path_cost;

		br->root_port = root->port_no;
		br->designated_root = root->designated_root;
		br->root_path_cost = cost > UINT32_MAX ? UINT32_MAX : (uint32_t)cost;
	}
}

/* 8.6.9.3: should this bridge be designated for p's LAN? */
static bool should_become_designated_port(const struct stp_bridge *br, const struct stp_port *p)
{
	if (stp_is_designated_port(br, p))
		return true;
	if (p->designated_root != br->designated_root)
		return true;
	if (br->root_path_cost != p->designated_cost)
		return br->root_path_cost < p->designated_cost;
	if (br->bridge_id != p->designated_bridge)
		return br->bridge_id < p->designated_bridge;
	return p->port_id < p->designated_port;
}

/* 8.6.9 */
void stp_designated_port_selection(struct stp_bridge *br)
{
	for_each_port(br, p) if (p->state != STP_DISABLED && should_become_designated_port(br, p))
		stp_become_designated_port(br, p);
}

/* 8.6.10 */
void stp_become_designated_port(struct stp_bridge *br, struct stp_port *p)
{
	p->designated_root = br->designated_root;
	p->designated_cost = br->root_path_cost;
	p->designated_bridge = br->bridge_id;
	p->designated_port = p->port_id;
}

/* 8.6.7 */
void stp_configuration_update(struct stp_bridge *br)
{
	stp_root_selection(br);
	stp_designated_port_selection(br);
}

/* 8.6.15 */
void stp_set_port_state(struct stp_bridge *br, struct stp_port *p, enum stp_state state)
{
	enum stp_state old = p->state;

	if (old == state)
		return;
	p->state = state;
	p->cnt.transitions++;
	if (br->state_changed)
		br->state_changed(br->ctx, p->port_no, old, state);
}

/* 8.6.12 */
void stp_make_forwarding(struct stp_bridge *br, struct stp_port *p)
{
	if (p->state != STP_BLOCKING)
		return;
	if (!br->enabled) {
		/* No STP: forward at once. (Received times are clamped: the delay is never 0.) */
		stp_set_port_state(br, p, STP_FORWARDING);
		stp_topology_change_detection(br);
		stp_timer_stop(&p->forward_delay_timer);
		return;
	}
	stp_set_port_state(br, p, STP_LISTENING);
	stp_timer_start(&p->forward_delay_timer, br->now, br->forward_delay);
}

/* 8.6.13 */
void stp_make_blocking(struct stp_bridge *br, struct stp_port *p)
{
	if (p->state == STP_DISABLED || p->state == STP_BLOCKING)
		return;
	if (p->state == STP_FORWARDING || p->state == STP_LEARNING)
		stp_topology_change_detection(br);
	stp_set_port_state(br, p, STP_BLOCKING);
	stp_timer_stop(&p->forward_delay_timer);
}

/* 8.6.11 */
void stp_port_state_selection(struct stp_bridge *br)
{
	for_each_port(br, p)
	{
		if (p->state == STP_DISABLED)
			continue;
		if (p->port_no == br->root_port) {
			p->config_pending = false;
			p->topology_change_ack = false;
			stp_make_forwarding(br, p);
		} else if (stp_is_designated_port(br, p)) {
			stp_timer_stop(&p->message_age_timer);
			stp_make_forwarding(br, p);
		} else {
			p->config_pending = false;
			p->topology_change_ack = false;
			stp_make_blocking(br, p);
		}
	}
}

/* 8.6.14 */
void stp_topology_change_detection(struct stp_bridge *br)
{
	if (!br->enabled)
		return;
	if (stp_is_root_bridge(br)) {
		set_topology_change(br, true);
		stp_timer_start(&br->topology_change_timer, br->now,
				br->bridge_forward_delay + br->bridge_max_age);
	} else if (!br->topology_change_detected) {
		stp_transmit_tcn(br);
		stp_timer_start(&br->tcn_timer, br->now, br->bridge_hello_time);
	}
	if (!br->topology_change_detected) {
		br->topology_change_count++;
		br->last_topology_change = br->now;
	}
	br->topology_change_detected = true;
}

/* 8.6.15 (topology change acknowledged) */
void stp_topology_change_acknowledged(struct stp_bridge *br)
{
	br->topology_change_detected = false;
	stp_timer_stop(&br->tcn_timer);
}

/* 8.6.16 */
void stp_acknowledge_topology_change(struct stp_bridge *br, struct stp_port *p)
{
	p->topology_change_ack = true;
	stp_transmit_config(br, p);
}

/* 8.6.2.2: is the received information better than what the port holds? */
bool stp_supersedes_port_info(const struct stp_bridge *br, const struct stp_port *p,
			      const struct stp_config_bpdu *c)
{
	if (c->root_id != p->designated_root)
		return c->root_id < p->designated_root;
	if (c->root_path_cost != p->designated_cost)
		return c->root_path_cost < p->designated_cost;
	if (c->bridge_id != p->designated_bridge)
		return c->bridge_id < p->designated_bridge;
	/* Same designated bridge: accept unless it is our own BPDU looped back from a higher port.
	 */
	if (c->bridge_id != br->bridge_id)
		return true;
	return c->port_id <= p->designated_port;
}

/* The root role: own timer values, claim, hello timer (8.7.5/8.8.2 tail, br_become_root_bridge). */
void stp_become_root_bridge(struct stp_bridge *br)
{
	br->max_age = br->bridge_max_age;
	br->hello_time = br->bridge_hello_time;
	br->forward_delay = br->bridge_forward_delay;
	stp_topology_change_detection(br);
	stp_timer_stop(&br->tcn_timer);
	stp_config_bpdu_generation(br);
	stp_timer_start(&br->hello_timer, br->now, br->hello_time);
}

/* 8.7.1 */
void stp_received_config_bpdu(struct stp_bridge *br, struct stp_port *p,
			      const struct stp_config_bpdu *c)
{
	bool was_root = stp_is_root_bridge(br);

	p->cnt.rx_config++;
	if (stp_supersedes_port_info(br, p, c)) {
		stp_record_config_information(br, p, c);
		stp_configuration_update(br);
		stp_port_state_selection(br);
		if (!stp_is_root_bridge(br) && was_root) {
			stp_timer_stop(&br->hello_timer);
			if (br->topology_change_detected) {
				stp_timer_stop(&br->topology_change_timer);
				stp_transmit_tcn(br);
				stp_timer_start(&br->tcn_timer, br->now, br->bridge_hello_time);
			}
		}
		if (p->port_no == br->root_port) {
			stp_record_config_timeout_values(br, c);
			stp_config_bpdu_generation(br);
			if (c->topology_change_ack)
				stp_topology_change_acknowledged(br);
		}
	} else if (stp_is_designated_port(br, p)) {
		stp_reply(br, p);
	}
}

/* 8.7.2 */
void stp_received_tcn_bpdu(struct stp_bridge *br, struct stp_port *p)
{
	p->cnt.rx_tcn++;
	if (stp_is_designated_port(br, p)) {
		stp_topology_change_detection(br);
		stp_acknowledge_topology_change(br, p);
	}
}

static uint16_t clamp_u16(uint16_t v, uint16_t lo, uint16_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

enum stp_times_check stp_validate_config_times(const struct stp_config_bpdu *in,
					       struct stp_config_bpdu *out)
{
	const struct stp_config_bpdu sent = *in;

	*out = sent;
	out->max_age = clamp_u16(sent.max_age, STP_MIN_MAX_AGE, STP_MAX_MAX_AGE);
	out->hello_time = clamp_u16(sent.hello_time, STP_MIN_HELLO_TIME, STP_MAX_HELLO_TIME);
	out->forward_delay =
		clamp_u16(sent.forward_delay, STP_MIN_FORWARD_DELAY, STP_MAX_FORWARD_DELAY);
	if (sent.message_age >= sent.max_age || sent.message_age >= out->max_age)
		return STP_TIMES_AGED_OUT;
	if (out->max_age != sent.max_age || out->hello_time != sent.hello_time ||
	    out->forward_delay != sent.forward_delay)
		return STP_TIMES_CLAMPED;
	return STP_TIMES_OK;
}

/*
 * The times are checked here, where the procedures start, and not in the
 * decoder: stp_bpdu.c reports the wire as it is (tshark and the fuzzer compare
 * against that), while the ranges are this state machine's (8.10.2), and both
 * 8.6.2 (message age timer) and 8.6.3 (the times a non-root adopts) take them
 * from what is passed on from here.
 */
void stp_received_bpdu(struct stp_bridge *br, uint16_t port_no, const struct stp_bpdu *bpdu,
		       uint64_t now)
{
	struct stp_port *p = stp_get_port(br, port_no);
	struct stp_config_bpdu c;

	if (!p || !br->enabled)
		return;
	br->now = now;
	if (p->state == STP_DISABLED) {
		p->cnt.rx_ignored++;
		return;
	}
	if (bpdu->type == STP_BPDU_TYPE_CONFIG) {
		switch (stp_validate_config_times(&bpdu->config, &c)) {
		case STP_TIMES_AGED_OUT:
			p->cnt.rx_aged_out++;
			return;
		case STP_TIMES_CLAMPED:
			p->cnt.rx_clamped++;
			break;
		case STP_TIMES_OK:
			break;
		}
		stp_received_config_bpdu(br, p, &c);
	} else if (bpdu->type == STP_BPDU_TYPE_TCN) {
		stp_received_tcn_bpdu(br, p);
	} else if (bpdu->type == STP_BPDU_TYPE_RST) {
		p->cnt.rx_rst++;
	}
}

/* 8.8.1 */
void stp_initialization(struct stp_bridge *br, bool enabled, uint64_t bridge_id,
			const struct stp_times *times, uint64_t now, stp_tx_fn tx,
			stp_state_fn state_changed, void *ctx)
{
	memset(br, 0, sizeof(*br));
	br->enabled = enabled;
	br->bridge_id = bridge_id;
	br->designated_root = bridge_id;
	br->bridge_max_age = br->max_age = times->max_age;
	br->bridge_hello_time = br->hello_time = times->hello_time;
	br->bridge_forward_delay = br->forward_delay = times->forward_delay;
	br->tx = tx;
	br->state_changed = state_changed;
	br->ctx = ctx;
	br->nports = 1;
	br->now = now;
	if (enabled)
		stp_timer_start(&br->hello_timer, now, br->hello_time);
}

bool stp_add_port(struct stp_bridge *br, uint16_t port_no, uint8_t priority, uint32_t path_cost)
{
	struct stp_port *p;

	if (!stp_port_config_ok(port_no, priority, path_cost) || br->ports[port_no].in_use)
		return false;
	p = &br->ports[port_no];
	memset(p, 0, sizeof(*p));
	p->in_use = true;
	p->port_no = port_no;
	p->priority = priority;
	p->port_id = stp_make_port_id(priority, port_no);
	p->path_cost = path_cost;
	p->state = STP_DISABLED;
	stp_become_designated_port(br, p);
	if (port_no >= br->nports)
		br->nports = (uint16_t)(port_no + 1);
	return true;
}

/* 8.8.2 initialize_port */
static void initialize_port(struct stp_bridge *br, struct stp_port *p)
{
	p->port_id = stp_make_port_id(p->priority, p->port_no);
	stp_become_designated_port(br, p);
	stp_set_port_state(br, p, STP_BLOCKING);
	p->topology_change_ack = false;
	p->config_pending = false;
	stp_timer_stop(&p->message_age_timer);
	stp_timer_stop(&p->forward_delay_timer);
	stp_timer_stop(&p->hold_timer);
}

/* 8.8.2 */
void stp_enable_port(struct stp_bridge *br, uint16_t port_no, uint64_t now)
{
	struct stp_port *p = stp_get_port(br, port_no);

	if (!p || p->state != STP_DISABLED)
		return;
	br->now = now;
	initialize_port(br, p);
	stp_port_state_selection(br);
}

/* 8.8.3 */
void stp_disable_port(struct stp_bridge *br, uint16_t port_no, uint64_t now)
{
	struct stp_port *p = stp_get_port(br, port_no);
	bool was_root;

	if (!p || p->state == STP_DISABLED)
		return;
	br->now = now;
	was_root = stp_is_root_bridge(br);
	stp_become_designated_port(br, p);
	stp_set_port_state(br, p, STP_DISABLED);
	p->topology_change_ack = false;
	p->config_pending = false;
	stp_timer_stop(&p->message_age_timer);
	stp_timer_stop(&p->forward_delay_timer);
	stp_timer_stop(&p->hold_timer);
	stp_configuration_update(br);
	stp_port_state_selection(br);
	if (stp_is_root_bridge(br) && !was_root)
		stp_become_root_bridge(br);
}

/*
 * The port leaves the bridge (its wire removed): disabled first, as 8.8.3 does, so the
 * tree moves off it, then forgotten; the number may be given to a new port later.
 */
void stp_remove_port(struct stp_bridge *br, uint16_t port_no, uint64_t now)
{
	struct stp_port *p = stp_get_port(br, port_no);

	if (!p)
		return;
	stp_disable_port(br, port_no, now);
	memset(p, 0, sizeof(*p));
	while (br->nports > 1 && !br->ports[br->nports - 1].in_use)
		br->nports--;
}

/*
 * Management of Bridge Max Age, Hello Time and Forward Delay (8.5.3.4-8.5.3.6): what this
 * bridge would use as root. The root's own values are in use at once; elsewhere the root's
 * still rule, as the kernel does. times must pass stp_check_times.
 */
void stp_set_bridge_times(struct stp_bridge *br, const struct stp_times *times, uint64_t now)
{
	br->now = now;
	br->bridge_max_age = times->max_age;
	br->bridge_hello_time = times->hello_time;
	br->bridge_forward_delay = times->forward_delay;
	if (!stp_is_root_bridge(br))
		return;
	br->max_age = times->max_age;
	br->hello_time = times->hello_time;
	br->forward_delay = times->forward_delay;
}

/* 8.8.4 */
void stp_set_bridge_priority(struct stp_bridge *br, uint16_t priority, uint64_t now)
{
	uint64_t new_id = (br->bridge_id & 0xffffffffffffULL) | (uint64_t)priority << 48;
	bool was_root = stp_is_root_bridge(br);

	br->now = now;
	for_each_port(br, p) if (p->state != STP_DISABLED && stp_is_designated_port(br, p))
		p->designated_bridge = new_id;
	br->bridge_id = new_id;
	stp_configuration_update(br);
	stp_port_state_selection(br);
	if (stp_is_root_bridge(br) && !was_root)
		stp_become_root_bridge(br);
}

/* 8.8.5 */
void stp_set_port_priority(struct stp_bridge *br, uint16_t port_no, uint8_t priority, uint64_t now)
{
	struct stp_port *p = stp_get_port(br, port_no);
	uint16_t new_id;

	if (!p || !stp_port_priority_ok(priority))
		return;
	br->now = now;
	new_id = stp_make_port_id(priority, port_no);
	if (stp_is_designated_port(br, p))
		p->designated_port = new_id;
	p->port_id = new_id;
	p->priority = priority;
	if (p->designated_bridge == br->bridge_id && p->port_id < p->designated_port) {
		stp_become_designated_port(br, p);
		stp_port_state_selection(br);
	}
}

/* 8.8.6 */
void stp_set_path_cost(struct stp_bridge *br, uint16_t port_no, uint32_t path_cost, uint64_t now)
{
	struct stp_port *p = stp_get_port(br, port_no);

	if (!p || !stp_path_cost_ok(path_cost))
		return;
	br->now = now;
	p->path_cost = path_cost;
	stp_configuration_update(br);
	stp_port_state_selection(br);
}
