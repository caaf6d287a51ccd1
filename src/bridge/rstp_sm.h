/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_RSTP_SM_H
#define VW_BRIDGE_RSTP_SM_H

#include <stdbool.h>

#include "rstp.h"

/*
 * The state machines of 802.1D-2004 17.22-17.31, for rstp.c. Each *_begin
 * puts a machine in its BEGIN state. Each machine function takes at most one
 * transition from the state its machine rests in (passing through the states
 * that lead on unconditionally, UCT) and says whether it took one; rstp.c runs
 * them all until none does, which is the standard's "all machines run until
 * no transition is possible".
 */

void rstp_port_begin(struct rstp_bridge *br, struct rstp_port *p);
void rstp_bridge_begin(struct rstp_bridge *br);

/* 17.22: one second passed (tick). */
void rstp_port_timers_tick(struct rstp_port *p);

bool rstp_port_receive(struct rstp_bridge *br, struct rstp_port *p);		/* 17.23 */
bool rstp_port_protocol_migration(struct rstp_bridge *br, struct rstp_port *p); /* 17.24 */
bool rstp_bridge_detection(struct rstp_bridge *br, struct rstp_port *p);	/* 17.25 */
bool rstp_port_transmit(struct rstp_bridge *br, struct rstp_port *p);		/* 17.26 */
bool rstp_port_information(struct rstp_bridge *br, struct rstp_port *p);	/* 17.27 */
bool rstp_port_role_selection(struct rstp_bridge *br);				/* 17.28 */
bool rstp_port_role_transitions(struct rstp_bridge *br, struct rstp_port *p);	/* 17.29 */
bool rstp_port_state_transition(struct rstp_bridge *br, struct rstp_port *p);	/* 17.30 */
bool rstp_topology_change_sm(struct rstp_bridge *br, struct rstp_port *p);	/* 17.31 */

#define rstp_for_each_port(br, p)                                                        \
	for (struct rstp_port *p = &(br)->ports[1]; p < &(br)->ports[(br)->nports]; p++) \
		if (p->in_use)

#endif
