/* SPDX-License-Identifier: MIT */
#include "stp_timer.h"

#include "stp.h"

/* 8.7.3 */
void stp_hello_timer_expiry(struct stp_bridge *br)
{
	stp_config_bpdu_generation(br);
	stp_timer_start(&br->hello_timer, br->now,
			stp_round_second(br->now, br->now + br->hello_time) - br->now);
}

/* 8.7.6 */
void stp_tcn_timer_expiry(struct stp_bridge *br)
{
	if (stp_is_root_bridge(br))
		return;
	stp_transmit_tcn(br);
	stp_timer_start(&br->tcn_timer, br->now, br->bridge_hello_time);
}

/* 8.7.7 */
void stp_topology_change_timer_expiry(struct stp_bridge *br)
{
	br->topology_change_detected = false;
	br->topology_change = false;
}

/* 8.7.4: the designated bridge for the port's LAN has gone quiet. */
void stp_message_age_timer_expiry(struct stp_bridge *br, uint16_t port_no)
{
	struct stp_port *p = stp_get_port(br, port_no);
	bool was_root;

	if (!p || p->state == STP_DISABLED)
		return;
	was_root = stp_is_root_bridge(br);
	stp_become_designated_port(br, p);
	stp_configuration_update(br);
	stp_port_state_selection(br);
	if (stp_is_root_bridge(br) && !was_root)
		stp_become_root_bridge(br);
}

/* 8.7.5 */
void stp_forward_delay_timer_expiry(struct stp_bridge *br, uint16_t port_no)
{
	struct stp_port *p = stp_get_port(br, port_no);

	if (!p)
		return;
	if (p->state == STP_LISTENING) {
		stp_set_port_state(br, p, STP_LEARNING);
		stp_timer_start(&p->forward_delay_timer, br->now, br->forward_delay);
	} else if (p->state == STP_LEARNING) {
		stp_set_port_state(br, p, STP_FORWARDING);
		if (stp_is_designated_for_some_port(br))
			stp_topology_change_detection(br);
	}
}

/* 8.7.8 */
void stp_hold_timer_expiry(struct stp_bridge *br, uint16_t port_no)
{
	struct stp_port *p = stp_get_port(br, port_no);

	if (p && p->config_pending)
		stp_transmit_config(br, p);
}

static void run_expired(struct stp_bridge *br, uint64_t now)
{
	if (stp_timer_expired(&br->hello_timer, now))
		stp_hello_timer_expiry(br);
	if (stp_timer_expired(&br->tcn_timer, now))
		stp_tcn_timer_expiry(br);
	if (stp_timer_expired(&br->topology_change_timer, now))
		stp_topology_change_timer_expiry(br);
	for (uint16_t i = 1; i < br->nports; i++) {
		struct stp_port *p = &br->ports[i];

		if (!p->in_use)
			continue;
		if (stp_timer_expired(&p->message_age_timer, now))
			stp_message_age_timer_expiry(br, i);
		if (stp_timer_expired(&p->forward_delay_timer, now))
			stp_forward_delay_timer_expiry(br, i);
		if (stp_timer_expired(&p->hold_timer, now))
			stp_hold_timer_expiry(br, i);
	}
}

/*
 * Bridge timers first, then each port's. A timer re-armed by its expiry would
 * be due again at once only with a zero time, which received BPDUs can no
 * longer set (they are clamped); a few passes still settle such a case, so that
 * afterwards stp_next_deadline() lies in the future.
 */
void stp_tick(struct stp_bridge *br, uint64_t now)
{
	if (!br->enabled)
		return;
	br->now = now;
	for (int pass = 0; pass < 4; pass++) {
		run_expired(br, now);
		if (stp_next_deadline(br) > now)
			break;
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t stp_next_deadline(const struct stp_bridge *br)
{
	uint64_t d = STP_TIMER_NEVER;

	if (!br->enabled)
		return d;
	d = min_u64(d, stp_timer_deadline(&br->hello_timer));
	d = min_u64(d, stp_timer_deadline(&br->tcn_timer));
	d = min_u64(d, stp_timer_deadline(&br->topology_change_timer));
	for (uint16_t i = 1; i < br->nports; i++) {
		const struct stp_port *p = &br->ports[i];

		if (!p->in_use)
			continue;
		d = min_u64(d, stp_timer_deadline(&p->message_age_timer));
		d = min_u64(d, stp_timer_deadline(&p->forward_delay_timer));
		d = min_u64(d, stp_timer_deadline(&p->hold_timer));
	}
	return d;
}
