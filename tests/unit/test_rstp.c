/* SPDX-License-Identifier: MIT */
/*
 * RSTP (802.1D-2004 clause 17, rstp.c), BPDU by BPDU: two bridges whose BPDUs
 * the test hands from one to the other (through the wire format), or one
 * bridge fed BPDUs made here, on the tests' own clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bridge/rstp.h"
#include "bridge/stp.h"
#include "bridge/stp_bpdu.h"

#define SEC 1000000000ULL
#define MS  1000000ULL

/* ---- two bridges, BPDU by BPDU ---- */

/* One bridge of a pair: what it sent, in order, and what it told its caller. */
struct side {
	struct rstp_bridge br;
	struct stp_bpdu sent[256];
	uint16_t sent_port[256];
	int nsent, taken;
	uint32_t flushed[STP_MAX_PORTS];
	uint32_t state_changes;
};

static bool side_tx(void *ctx, uint16_t port, const struct stp_bpdu *b)
{
	struct side *s = ctx;
	uint8_t frame[STP_FRAME_MAX];

	assert_true(s->nsent < 256);
	/* through the wire format, as the bridge will send it */
	stp_bpdu_encode(frame, (const uint8_t[6]){0x02, 0, 0, 0, 0, 1}, b);
	assert_int_equal(stp_bpdu_decode(frame, sizeof(frame), &s->sent[s->nsent]), STP_BPDU_OK);
	s->sent_port[s->nsent++] = port;
	return true;
}

static void side_state(void *ctx, uint16_t port, enum stp_state o, enum stp_state n)
{
	struct side *s = ctx;

	(void)port;
	(void)o;
	(void)n;
	s->state_changes++;
}

static void side_flush(void *ctx, uint16_t port)
{
	struct side *s = ctx;

	s->flushed[port]++;
}

static const struct stp_times times_20_2_15 = {20 * SEC, 2 * SEC, 15 * SEC};

/* A bridge with one port (cost 100), not enabled, at time 0. */
static void side_init(struct side *s, uint16_t priority, uint8_t mac_low)
{
	static const struct rstp_callbacks cb = {side_tx, side_state, side_flush};

	memset(s, 0, sizeof(*s));
	assert_true(rstp_init(
		&s->br, stp_make_bridge_id(priority, (const uint8_t[6]){0x02, 0, 0, 0, 0, mac_low}),
		&times_20_2_15, 0, &cb, s));
	assert_true(rstp_add_port(&s->br, 1, STP_DEFAULT_PORT_PRIORITY, 100));
}

/* What `from` sent since the last call, delivered to `to`'s port 1 at `now`. */
static int pass(struct side *from, struct side *to, uint64_t now)
{
	int n = 0;

	while (from->taken < from->nsent) {
		rstp_received_bpdu(&to->br, 1, &from->sent[from->taken++], now);
		n++;
	}
	return n;
}

static const struct stp_bpdu *last_sent(const struct side *s)
{
	assert_true(s->nsent > 0);
	return &s->sent[s->nsent - 1];
}

/* 17.6: the order of the components, and what "superior" adds to "better". */
static void test_priority_vectors(void **state)
{
	const struct rstp_priority port = {0x8000000000000001ULL, 100, 0x8000020000000005ULL,
					   0x8003};
	struct rstp_priority m = port;

	(void)state;
	assert_int_equal(rstp_priority_compare(&m, &port), 0);
	assert_false(rstp_priority_superior(&m, &port)); /* the same: repeated, not superior */
	m.root_bridge_id--;
	assert_true(rstp_priority_compare(&m, &port) < 0);
	assert_true(rstp_priority_superior(&m, &port));
	m = port;
	m.root_path_cost = 99;
	assert_true(rstp_priority_superior(&m, &port));
	m.root_bridge_id++; /* a worse root outweighs a better cost */
	assert_true(rstp_priority_compare(&m, &port) > 0);
	m = port;
	m.designated_port_id = 0x8002;
	assert_true(rstp_priority_superior(&m, &port));
	/* worse, from another bridge: not superior */
	m = port;
	m.root_path_cost = 200;
	m.designated_bridge_id = 0x8000020000000006ULL;
	assert_false(rstp_priority_superior(&m, &port));
	/* worse, from the same designated bridge (MAC) and port (number): superior */
	m.designated_bridge_id = 0x9000020000000005ULL; /* priority changed, same MAC */
	m.designated_port_id = 0x1003;			/* port priority changed, same number */
	assert_true(rstp_priority_compare(&m, &port) > 0);
	assert_true(rstp_priority_superior(&m, &port));
	m.designated_port_id = 0x8004;
	assert_false(rstp_priority_superior(&m, &port));
}

/*
 * Two bridges, one link: each port comes up designated and proposes; b takes
 * a's (better) proposal, makes its port the root port, syncs (nothing to sync)
 * and agrees; a's port forwards on the agreement. No timer runs.
 */
static void test_proposal_agreement(void **state)
{
	struct side a, b;
	const struct stp_bpdu *m;
	const struct rstp_port *pa = &a.br.ports[1], *pb = &b.br.ports[1];

	(void)state;
	side_init(&a, 0x1000, 0xaa);
	side_init(&b, STP_DEFAULT_PRIORITY, 0xbb);
	rstp_enable_port(&a.br, 1, 0);
	rstp_enable_port(&b.br, 1, 0);
	/* the first BPDU: a proposal from a discarding designated port */
	m = &a.sent[0];
	assert_int_equal(a.nsent, 1);
	assert_int_equal(m->type, STP_BPDU_TYPE_RST);
	assert_int_equal(m->version, 2);
	assert_true(m->config.proposal);
	assert_int_equal(m->config.port_role, STP_RST_ROLE_DESIGNATED);
	assert_false(m->config.learning || m->config.forwarding || m->config.agreement);
	assert_true(m->config.root_id == a.br.bridge_identifier);
	assert_true(m->config.bridge_id == a.br.bridge_identifier);
	assert_int_equal(m->config.root_path_cost, 0);
	assert_int_equal(m->config.port_id, 0x8001);
	assert_int_equal(m->config.message_age, 0);
	assert_int_equal(m->config.max_age, 20 * 256);
	assert_int_equal(m->config.hello_time, 2 * 256);
	assert_int_equal(m->config.forward_delay, 15 * 256);
	assert_int_equal(rstp_port_state(pa), STP_BLOCKING);
	/* b hears a: root port, forwarding at once, and agrees */
	assert_int_equal(pass(&a, &b, 1 * MS), 1);
	assert_int_equal(pb->role, RSTP_ROLE_ROOT);
	assert_int_equal(rstp_port_state(pb), STP_FORWARDING);
	assert_int_equal(b.br.root_port, 1);
	assert_true(b.br.root_priority.root_bridge_id == a.br.bridge_identifier);
	assert_int_equal(b.br.root_priority.root_path_cost, 100);
	m = last_sent(&b);
	assert_int_equal(m->config.port_role, STP_RST_ROLE_ROOT);
	assert_true(m->config.agreement && m->config.learning && m->config.forwarding);
	assert_int_equal(m->config.message_age, 1 * 256);
	/* a hears b's proposal (inferior: answered) and the agreement */
	pass(&b, &a, 2 * MS);
	assert_int_equal(pa->role, RSTP_ROLE_DESIGNATED);
	assert_true(pa->agreed);
	assert_int_equal(rstp_port_state(pa), STP_FORWARDING);
	assert_true(rstp_is_root_bridge(&a.br));
	assert_false(rstp_is_root_bridge(&b.br));
	assert_int_equal(a.state_changes, 2); /* disabled -> blocking -> forwarding */
	assert_int_equal(pa->cnt.tx_config + pa->cnt.tx_tcn + pb->cnt.tx_config, 0);
	/* forwarding ports make a topology change: each side's TC flag, nothing else to flush */
	assert_true(pa->cnt.tc_detected == 1 && pb->cnt.tc_detected == 1);
	pass(&a, &b, 3 * MS);
	assert_true(rstp_topology_change(&b.br));
	/* hellos carry the same again: repeated information, nothing moves */
	rstp_tick(&a.br, 1 * SEC);
	rstp_tick(&a.br, 2 * SEC);
	assert_true(pass(&a, &b, 2 * SEC + 1 * MS) > 0);
	assert_int_equal(pb->rcvd_info, RSTP_REPEATED_DESIGNATED_INFO);
	assert_int_equal(pb->rcvd_info_while, 6);
}

/* A port that is not point-to-point takes no agreement: its designated port waits for timers. */
static void test_shared_port_waits(void **state)
{
	struct side a, b;
	const struct rstp_port *pa = &a.br.ports[1];
	uint64_t t;

	(void)state;
	side_init(&a, 0x1000, 0xaa);
	side_init(&b, STP_DEFAULT_PRIORITY, 0xbb);
	rstp_set_port_point_to_point(&a.br, 1, false, 0);
	rstp_enable_port(&a.br, 1, 0);
	rstp_enable_port(&b.br, 1, 0);
	pass(&a, &b, 1 * MS);
	pass(&b, &a, 2 * MS);
	assert_false(pa->agreed);
	assert_int_equal(rstp_port_state(pa), STP_BLOCKING);
	/* fdWhile starts at Max Age (DISABLED_PORT), then forwardDelay (a hello, RSTP) twice */
	for (t = 1 * SEC; rstp_port_state(pa) != STP_FORWARDING; t += SEC) {
		rstp_tick(&a.br, t);
		rstp_tick(&b.br, t);
		pass(&a, &b, t);
		pass(&b, &a, t);
		assert_true(t < 60 * SEC);
	}
	assert_true(t - SEC == 22 * SEC);
}

static struct stp_bpdu config_bpdu(uint64_t root, uint32_t cost, uint64_t bridge, uint16_t port)
{
	struct stp_bpdu b = {.type = STP_BPDU_TYPE_CONFIG};

	b.config.root_id = root;
	b.config.root_path_cost = cost;
	b.config.bridge_id = bridge;
	b.config.port_id = port;
	b.config.max_age = 20 * 256;
	b.config.hello_time = 2 * 256;
	b.config.forward_delay = 15 * 256;
	return b;
}

/* What 9.3.4 and the 8.10.2 ranges do with a received BPDU before the machines see it. */
static void test_received_bpdu_checks(void **state)
{
	struct side a;
	struct rstp_port *p = &a.br.ports[1];
	const uint64_t other = 0x0100020000000099ULL; /* a better root */
	struct stp_bpdu b;

	(void)state;
	side_init(&a, STP_DEFAULT_PRIORITY, 0xaa);
	/* disabled port: ignored */
	b = config_bpdu(other, 0, other, 0x8001);
	rstp_received_bpdu(&a.br, 1, &b, 0);
	assert_int_equal(p->cnt.rx_ignored, 1);
	assert_int_equal(p->cnt.rx_config, 0);
	rstp_enable_port(&a.br, 1, 0);
	/* message age not below max age: discarded */
	b.config.message_age = 20 * 256;
	rstp_received_bpdu(&a.br, 1, &b, 1);
	assert_int_equal(p->cnt.rx_aged_out, 1);
	assert_int_equal(p->info_is, RSTP_INFO_MINE);
	/* its own configuration BPDU, looped back: discarded */
	b = config_bpdu(a.br.bridge_identifier, 0, a.br.bridge_identifier, p->port_id);
	rstp_received_bpdu(&a.br, 1, &b, 2);
	assert_int_equal(p->cnt.rx_looped, 1);
	assert_int_equal(p->info_is, RSTP_INFO_MINE);
	/* times outside the ranges: used clamped */
	b = config_bpdu(other, 0, other, 0x8001);
	b.config.max_age = 0xffff;
	b.config.hello_time = 0;
	b.config.forward_delay = 1;
	rstp_received_bpdu(&a.br, 1, &b, 3);
	assert_int_equal(p->cnt.rx_clamped, 1);
	assert_int_equal(p->info_is, RSTP_INFO_RECEIVED);
	assert_int_equal(p->role, RSTP_ROLE_ROOT);
	assert_int_equal(p->port_times.max_age, 40);
	assert_int_equal(p->port_times.hello_time, 1);
	assert_int_equal(p->port_times.forward_delay, 4);
	assert_int_equal(p->rcvd_info_while, 3);
	assert_int_equal(p->cnt.rx_config, 3);
	/* an RST BPDU as old as its max age is taken (17.21.23) and aged at once */
	rstp_disable_port(&a.br, 1, 4);
	rstp_enable_port(&a.br, 1, 4);
	b.type = STP_BPDU_TYPE_RST;
	b.version = 2;
	b.config.port_role = STP_RST_ROLE_DESIGNATED;
	b.config.max_age = 20 * 256;
	b.config.message_age = 20 * 256;
	rstp_received_bpdu(&a.br, 1, &b, 5);
	assert_int_equal(p->cnt.rx_rst, 1);
	assert_int_equal(p->cnt.rx_aged_out, 1);
	assert_int_equal(p->info_is, RSTP_INFO_MINE);
	assert_int_equal(p->role, RSTP_ROLE_DESIGNATED);
	assert_true(rstp_is_root_bridge(&a.br));
}

/*
 * Protocol migration (17.24) on one port: 802.1D configuration BPDUs heard
 * while checking (the first MigrateTime) change nothing; heard while sensing,
 * they make the port speak 802.1D; a TCN there is acknowledged in the next
 * configuration BPDU; an RST BPDU heard when the selection has run out makes
 * it speak RSTP again.
 */
static void test_protocol_migration(void **state)
{
	struct side a;
	struct rstp_port *p = &a.br.ports[1];
	const uint64_t worse = 0x9000020000000099ULL;
	struct stp_bpdu b = config_bpdu(worse, 0, worse, 0x8001);
	struct stp_bpdu tcn = {.type = STP_BPDU_TYPE_TCN};
	uint64_t t = 0;

	(void)state;
	side_init(&a, STP_DEFAULT_PRIORITY, 0xaa);
	rstp_enable_port(&a.br, 1, 0);
	rstp_received_bpdu(&a.br, 1, &b, 1 * MS);
	assert_true(p->send_rstp);
	while (t < 3 * SEC) {
		t += SEC;
		rstp_tick(&a.br, t);
	}
	assert_int_equal(p->ppm, RSTP_PPM_SENSING);
	rstp_received_bpdu(&a.br, 1, &b, t + 1 * MS);
	assert_false(p->send_rstp);
	assert_int_equal(p->cnt.migrations, 1);
	/* a's designated port answers in 802.1D: a configuration BPDU */
	assert_int_equal(last_sent(&a)->type, STP_BPDU_TYPE_CONFIG);
	assert_int_equal(last_sent(&a)->version, 0);
	assert_true(p->cnt.tx_config > 0);
	/* a TCN: acknowledged (TCA), and the TC flag set */
	rstp_received_bpdu(&a.br, 1, &tcn, t + 2 * MS);
	assert_int_equal(p->cnt.rx_tcn, 1);
	assert_int_equal(p->cnt.tc_received, 1);
	assert_true(p->tc_ack);
	t += SEC;
	rstp_tick(&a.br, t);
	t += SEC;
	rstp_tick(&a.br, t);
	assert_int_equal(last_sent(&a)->type, STP_BPDU_TYPE_CONFIG);
	assert_true(last_sent(&a)->config.topology_change_ack);
	assert_true(last_sent(&a)->config.topology_change);
	assert_false(p->tc_ack);
	/* RSTP again once the selection has run its MigrateTime */
	t += SEC;
	rstp_tick(&a.br, t);
	assert_int_equal(p->ppm, RSTP_PPM_SENSING);
	b.type = STP_BPDU_TYPE_RST;
	b.version = 2;
	b.config.port_role = STP_RST_ROLE_DESIGNATED;
	rstp_received_bpdu(&a.br, 1, &b, t + 1 * MS);
	assert_true(p->send_rstp);
	assert_int_equal(p->cnt.migrations, 2);
	assert_int_equal(last_sent(&a)->type, STP_BPDU_TYPE_RST);
}

/*
 * The Port Timers tick once a second of the caller's clock; a long stall
 * runs a bounded number of ticks at once. Transmit Hold Count bounds the
 * BPDUs a port sends between two ticks.
 */
static void test_ticks_and_hold_count(void **state)
{
	struct side a;
	const uint64_t start = 5 * SEC + 123;
	const uint64_t root = 0x0100020000000099ULL;
	struct stp_bpdu b;

	(void)state;
	memset(&a, 0, sizeof(a));
	{
		static const struct rstp_callbacks cb = {side_tx, side_state, side_flush};
		const struct stp_times bad = {20 * SEC, 2 * SEC, 5 * SEC}; /* 2 * (5 - 1) < 20 */

		const uint64_t id = 0x8000020000000001ULL;

		assert_false(rstp_init(&a.br, id, &bad, start, &cb, &a));
		assert_false(rstp_init(&a.br, id, &times_20_2_15, start, NULL, &a));
		assert_true(rstp_init(&a.br, id, &times_20_2_15, start, &cb, &a));
		assert_true(rstp_add_port(&a.br, 1, STP_DEFAULT_PORT_PRIORITY, 100));
		assert_false(rstp_add_port(&a.br, 1, STP_DEFAULT_PORT_PRIORITY, 100));
		assert_false(rstp_add_port(&a.br, STP_MAX_PORTS, STP_DEFAULT_PORT_PRIORITY, 100));
		assert_false(rstp_add_port(&a.br, 2, 64, 100));
		assert_false(rstp_add_port(&a.br, 2, STP_DEFAULT_PORT_PRIORITY, 0));
	}
	assert_true(rstp_next_deadline(&a.br) == start + SEC);
	rstp_tick(&a.br, start + SEC - 1);
	assert_true(rstp_next_deadline(&a.br) == start + SEC);
	rstp_tick(&a.br, start + SEC);
	assert_true(rstp_next_deadline(&a.br) == start + 2 * SEC);
	rstp_tick(&a.br, start + 1000 * SEC);
	assert_true(rstp_next_deadline(&a.br) > start + 1000 * SEC);
	assert_true(rstp_next_deadline(&a.br) <= start + 1001 * SEC);
	/*
	 * Hold count 2: port 2 has said one thing (its proposal when enabled); of ten
	 * changes of what it should say, one more goes out before the next tick, and the
	 * latest at the tick.
	 */
	assert_true(rstp_add_port(&a.br, 2, STP_DEFAULT_PORT_PRIORITY, 100));
	rstp_set_tx_hold_count(&a.br, 2, start + 1000 * SEC);
	rstp_enable_port(&a.br, 2, start + 1000 * SEC);
	rstp_enable_port(&a.br, 1, start + 1000 * SEC);
	assert_int_equal(a.br.ports[2].cnt.tx_rst, 1);
	for (uint32_t cost = 10; cost > 0; cost--) {
		b = config_bpdu(root, cost, 0x0200020000000088ULL, 0x8001);
		b.type = STP_BPDU_TYPE_RST;
		b.version = 2;
		b.config.port_role = STP_RST_ROLE_DESIGNATED;
		rstp_received_bpdu(&a.br, 1, &b, start + 1000 * SEC + cost);
	}
	assert_int_equal(a.br.ports[2].cnt.tx_rst, 2);
	assert_int_equal(a.sent_port[a.nsent - 1], 2);
	assert_int_equal(last_sent(&a)->config.root_path_cost, 110);
	rstp_tick(&a.br, rstp_next_deadline(&a.br));
	assert_int_equal(a.br.ports[2].cnt.tx_rst, 3);
	assert_int_equal(last_sent(&a)->config.root_path_cost, 101);
	assert_int_equal(a.br.run_limit, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_vectors),
		cmocka_unit_test(test_proposal_agreement),
		cmocka_unit_test(test_shared_port_waits),
		cmocka_unit_test(test_received_bpdu_checks),
		cmocka_unit_test(test_protocol_migration),
		cmocka_unit_test(test_ticks_and_hold_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
