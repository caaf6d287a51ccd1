/* SPDX-License-Identifier: MIT */
/*
 * The tree our RSTP (rstp.c) builds from measured round trips (wirecost.c), on
 * the seed's geography, in one process: five bridges joined by links whose
 * one-way delay is half their round trip, on a virtual clock that jumps to the
 * next BPDU arrival or bridge deadline. Once the tree has settled, each pair's
 * round trip over the tree is compared with its shortest round trip over the
 * wires (the stretch). docs/DESIGN.md, "Latency-aware costs", has the paper
 * version; test_rstp.c has the simulator that checks RSTP itself.
 * WIRETREE_TRACE=1 prints each run's tree and stretches.
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
#include "bridge/stp_bpdu.h"
#include "bridge/wirecost.h"

#define SEC   1000000000ULL
#define MS    1000000ULL
#define NEVER UINT64_MAX
#define NODES 5
#define LINKS 7
#define QMAX  4096

enum { RHO, EPSILON, VORKE, BOB, PI0 };
static const char *const names[NODES] = {"rho", "epsilon", "vorke", "bob", "pi0"};
static const struct {
	int a, b;
	uint64_t rtt;
} seed_links[LINKS] = {
	{RHO, BOB, 10 * MS},	 {RHO, EPSILON, 90 * MS}, {RHO, VORKE, 90 * MS},
	{BOB, EPSILON, 98 * MS}, {BOB, VORKE, 98 * MS},	  {EPSILON, VORKE, 20 * MS},
	{PI0, RHO, 15 * MS},
};

/* What one end of a link measures, as vwired would (liveness.c): its own samples. */
struct end {
	struct wc_rtt rtt;
	struct wc_hyst hyst;
	uint64_t next_sample; /* start-up test: when this end next samples (NEVER: no session) */
};

struct net;

struct node {
	struct net *net;
	struct rstp_bridge br;
	uint8_t mac[6];
	uint16_t priority;
	struct wc_prio prio;
	int nports;
	int port_link[STP_MAX_PORTS];
	struct end ends[STP_MAX_PORTS];
};

struct link {
	int a, b, pa, pb;
	uint64_t rtt;
};

struct frame {
	uint64_t at;
	int node, port;
	size_t len;
	uint8_t data[STP_FRAME_MAX];
};

struct net {
	uint64_t now;
	struct node n[NODES];
	struct link l[LINKS];
	struct frame q[QMAX];
	size_t nq;
};

static const struct stp_times times = {6 * SEC, 1 * SEC, 4 * SEC}; /* fivehost.sh's */

static bool node_tx(void *ctx, uint16_t port, const struct stp_bpdu *b)
{
	struct node *nd = ctx;
	struct net *net = nd->net;
	const struct link *l = &net->l[nd->port_link[port]];
	int self = (int)(nd - net->n);
	struct frame *f;

	assert_true(net->nq < QMAX);
	f = &net->q[net->nq++];
	f->len = stp_bpdu_encode(f->data, nd->mac, b);
	f->at = net->now + l->rtt / 2;
	f->node = l->a == self ? l->b : l->a;
	f->port = l->a == self ? l->pb : l->pa;
	return true;
}

typedef uint32_t (*cost_fn)(uint64_t rtt);

static uint32_t cost_auto(uint64_t rtt)
{
	return wc_cost_from_rtt(rtt, WC_MAX_COST_STP);
}

static uint32_t cost_default(uint64_t rtt)
{
	(void)rtt;
	return STP_DEFAULT_PATH_COST;
}

static uint32_t cost_linear(uint64_t rtt)
{
	return (uint32_t)(rtt / MS);
}

/* The auto priority of a node from the true round trips of its wires. */
static uint16_t auto_priority(const struct net *net, int i)
{
	uint64_t rtts[STP_MAX_PORTS];
	size_t n = 0;

	for (int li = 0; li < LINKS; li++)
		if (net->l[li].a == i || net->l[li].b == i)
			rtts[n++] = net->l[li].rtt;
	return wc_auto_priority(rtts, n, 0);
}

/* The seed's network; priorities[i] 0 for auto. Ports enabled, nothing run yet. */
static struct net *seed_net(cost_fn cost, const uint16_t priorities[NODES])
{
	static const struct rstp_callbacks cb = {node_tx, NULL, NULL};
	struct net *net = calloc(1, sizeof(*net));

	assert_non_null(net);
	net->now = 1 * SEC;
	for (int li = 0; li < LINKS; li++)
		net->l[li] =
			(struct link){seed_links[li].a, seed_links[li].b, 0, 0, seed_links[li].rtt};
	for (int i = 0; i < NODES; i++) {
		struct node *nd = &net->n[i];

		nd->net = net;
		nd->mac[0] = 0x02;
		nd->mac[5] = (uint8_t)(0x10 + i);
		nd->priority = priorities[i] ? priorities[i] : auto_priority(net, i);
		assert_true(rstp_init(&nd->br, stp_make_bridge_id(nd->priority, nd->mac), &times,
				      net->now, &cb, nd));
	}
	for (int li = 0; li < LINKS; li++) {
		struct link *l = &net->l[li];
		struct node *a = &net->n[l->a], *b = &net->n[l->b];

		l->pa = ++a->nports;
		l->pb = ++b->nports;
		a->port_link[l->pa] = li;
		b->port_link[l->pb] = li;
		assert_true(rstp_add_port(&a->br, (uint16_t)l->pa, STP_DEFAULT_PORT_PRIORITY,
					  cost(l->rtt)));
		assert_true(rstp_add_port(&b->br, (uint16_t)l->pb, STP_DEFAULT_PORT_PRIORITY,
					  cost(l->rtt)));
	}
	for (int li = 0; li < LINKS; li++) {
		rstp_enable_port(&net->n[net->l[li].a].br, (uint16_t)net->l[li].pa, net->now);
		rstp_enable_port(&net->n[net->l[li].b].br, (uint16_t)net->l[li].pb, net->now);
	}
	return net;
}

static uint64_t next_event(const struct net *net)
{
	uint64_t t = NEVER;

	for (size_t i = 0; i < net->nq; i++)
		if (net->q[i].at < t)
			t = net->q[i].at;
	for (int i = 0; i < NODES; i++) {
		uint64_t d = rstp_next_deadline(&net->n[i].br);

		if (d < t)
			t = d;
	}
	return t;
}

static void deliver_due(struct net *net)
{
	for (size_t i = 0; i < net->nq;) {
		struct frame f = net->q[i];
		struct stp_bpdu b;

		if (f.at > net->now) {
			i++;
			continue;
		}
		net->q[i] = net->q[--net->nq]; /* order among equals does not matter here */
		assert_int_equal(stp_bpdu_decode(f.data, f.len, &b), STP_BPDU_OK);
		rstp_received_bpdu(&net->n[f.node].br, (uint16_t)f.port, &b, net->now);
	}
}

static void run_until(struct net *net, uint64_t until)
{
	while (net->now < until) {
		uint64_t t = next_event(net);

		net->now = t < until ? t : until;
		deliver_due(net);
		for (int i = 0; i < NODES; i++)
			if (rstp_next_deadline(&net->n[i].br) <= net->now)
				rstp_tick(&net->n[i].br, net->now);
	}
}

static bool link_forwarding(const struct net *net, int li)
{
	const struct link *l = &net->l[li];

	return rstp_port_state(&net->n[l->a].br.ports[l->pa]) == STP_FORWARDING &&
	       rstp_port_state(&net->n[l->b].br.ports[l->pb]) == STP_FORWARDING;
}

/* Shortest round trips over the links in `use`, all pairs (Floyd-Warshall). */
static void distances(const struct net *net, const bool use[LINKS], uint64_t d[NODES][NODES])
{
	for (int i = 0; i < NODES; i++)
		for (int j = 0; j < NODES; j++)
			d[i][j] = i == j ? 0 : NEVER;
	for (int li = 0; li < LINKS; li++)
		if (use[li])
			d[net->l[li].a][net->l[li].b] = d[net->l[li].b][net->l[li].a] =
				net->l[li].rtt;
	for (int k = 0; k < NODES; k++)
		for (int i = 0; i < NODES; i++)
			for (int j = 0; j < NODES; j++)
				if (d[i][k] != NEVER && d[k][j] != NEVER &&
				    d[i][k] + d[k][j] < d[i][j])
					d[i][j] = d[i][k] + d[k][j];
}

struct stretch {
	double mean, worst, ev;
	int tree_links;
	uint64_t root;
};

static struct stretch tree_stretch(const struct net *net)
{
	bool all[LINKS], tree[LINKS];
	uint64_t direct[NODES][NODES], over[NODES][NODES];
	struct stretch s = {0, 0, 0, 0, net->n[0].br.root_priority.root_bridge_id};
	int pairs = 0;

	for (int li = 0; li < LINKS; li++) {
		all[li] = true;
		tree[li] = link_forwarding(net, li);
		s.tree_links += tree[li];
	}
	distances(net, all, direct);
	distances(net, tree, over);
	for (int i = 0; i < NODES; i++) {
		assert_int_equal(net->n[i].br.root_priority.root_bridge_id, s.root);
		for (int j = i + 1; j < NODES; j++) {
			double x;

			assert_true(over[i][j] != NEVER); /* one tree spans all */
			x = (double)over[i][j] / (double)direct[i][j];
			s.mean += x;
			pairs++;
			if (x > s.worst)
				s.worst = x;
		}
	}
	s.mean /= pairs;
	s.ev = (double)over[EPSILON][VORKE] / (double)direct[EPSILON][VORKE];
	if (getenv("WIRETREE_TRACE")) {
		print_message("root %04llx tree:", (unsigned long long)(s.root >> 48));
		for (int li = 0; li < LINKS; li++)
			if (tree[li])
				print_message(" %s-%s", names[net->l[li].a], names[net->l[li].b]);
		print_message("; mean %.3f worst %.2f epsilon-vorke %.2f\n", s.mean, s.worst, s.ev);
	}
	return s;
}

static struct stretch settle(cost_fn cost, const uint16_t priorities[NODES])
{
	struct net *net = seed_net(cost, priorities);
	struct stretch s;

	run_until(net, 60 * SEC);
	s = tree_stretch(net);
	assert_int_equal(s.tree_links, NODES - 1);
	for (int i = 0; i < NODES; i++)
		assert_int_equal(net->n[i].br.run_limit, 0);
	free(net);
	return s;
}

static const uint16_t all_auto[NODES] = {0};

/*
 * The short-paths targets, with auto costs and auto priorities: epsilon-vorke at most
 * 1.5x its direct round trip, the mean stretch over all pairs at most 1.3, the worst 2.
 */
static void test_auto_meets_targets(void **state)
{
	struct stretch s = settle(cost_auto, all_auto);

	(void)state;
	assert_true(s.ev <= 1.5);
	assert_true(s.mean <= 1.3);
	assert_true(s.worst <= 2.0);
	/* epsilon or vorke (tied at the same step, the lower MAC wins): epsilon. */
	assert_int_equal(s.root, stp_make_bridge_id(7 * 4096, (const uint8_t[6]){2, 0, 0, 0, 0,
										 0x10 + EPSILON}));
}

/* The trap: without the squared cost or without the root rule, a short pair splits. */
static void test_trap(void **state)
{
	const uint16_t defaults[NODES] = {32768, 32768, 32768, 32768, 32768};
	const uint16_t seeds_choice[NODES] = {4096, 32768, 32768, 32768, 32768};
	const uint16_t central_root[NODES] = {4096, 0, 0, 0, 0};
	struct stretch s;

	(void)state;
	s = settle(cost_default, defaults); /* 802.1D defaults: rho (lowest MAC) as root */
	assert_true(s.ev > 8.9);
	s = settle(cost_default, seeds_choice);
	assert_true(s.ev > 8.9);
	s = settle(cost_linear, all_auto); /* epsilon as root: bob goes straight to it */
	assert_true(s.worst > 18.7);
	s = settle(cost_auto, central_root); /* the most central host as root */
	assert_true(s.ev > 8.9);
}

static uint64_t jitter(uint64_t *seed, uint64_t rtt)
{
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return rtt - rtt / 10 + (*seed >> 33) % (rtt / 5 + 1);
}

/* One end takes a sample; its port cost and its bridge's priority follow, filtered. */
static void measure(struct net *net, int i, int port, uint64_t sample)
{
	struct node *nd = &net->n[i];
	struct end *e = &nd->ends[port];
	uint64_t rtts[STP_MAX_PORTS];
	uint16_t prio;

	assert_true(wc_rtt_sample(&e->rtt, sample));
	if (wc_hyst_update(&e->hyst, &e->rtt, net->now))
		rstp_set_path_cost(&nd->br, (uint16_t)port, cost_auto(e->hyst.applied), net->now);
	for (int p = 1; p <= nd->nports; p++)
		rtts[p - 1] = nd->ends[p].hyst.applied;
	prio = wc_auto_priority(rtts, (size_t)nd->nports, nd->priority);
	if (prio != nd->priority) {
		nd->priority = prio;
		rstp_set_bridge_priority(&nd->br, prio, net->now);
	}
}

/*
 * From nothing measured (cost 100 and the leaf priority everywhere) to the tree of
 * measured round trips, then ten minutes of +-10 % jitter on every wire, both ends
 * sampling every 2 s: the tree must not change at all.
 */
static void test_jitter_keeps_tree(void **state)
{
	const uint16_t unmeasured[NODES] = {WC_PRIORITY_LEAF, WC_PRIORITY_LEAF, WC_PRIORITY_LEAF,
					    WC_PRIORITY_LEAF, WC_PRIORITY_LEAF};
	struct net *net = seed_net(cost_default, unmeasured);
	uint64_t seed = 1, tcs = 0, t;
	bool tree[LINKS];
	struct stretch s;

	(void)state;
	for (int i = 0; i < NODES; i++) {
		net->n[i].priority = WC_PRIORITY_LEAF;
		for (int p = 0; p < STP_MAX_PORTS; p++)
			wc_hyst_init(&net->n[i].ends[p].hyst);
	}
	for (t = 2 * SEC; t <= 12 * 60 * SEC; t += 2 * SEC) {
		run_until(net, t);
		for (int li = 0; li < LINKS; li++) {
			const struct link *l = &net->l[li];

			measure(net, l->a, l->pa, jitter(&seed, l->rtt));
			measure(net, l->b, l->pb, jitter(&seed, l->rtt));
		}
		if (t == 2 * 60 * SEC) { /* settled: from here on nothing may move */
			s = tree_stretch(net);
			assert_true(s.ev <= 1.5 && s.mean <= 1.3 && s.worst <= 2.0);
			for (int li = 0; li < LINKS; li++)
				tree[li] = link_forwarding(net, li);
			for (int i = 0; i < NODES; i++)
				tcs += net->n[i].br.topology_change_count;
		}
	}
	run_until(net, t + 10 * SEC);
	for (int li = 0; li < LINKS; li++)
		assert_int_equal(link_forwarding(net, li), tree[li]);
	for (int i = 0; i < NODES; i++)
		tcs -= net->n[i].br.topology_change_count;
	assert_int_equal(tcs, 0);
	s = tree_stretch(net);
	assert_true(s.ev <= 1.5 && s.mean <= 1.3 && s.worst <= 2.0);
	free(net);
}

/* Priority = auto through start-up: wirecost's start-up rule, or none (the first version). */
enum startup_rule { FROM_WHAT_IS_MEASURED, WAIT_FOR_WARM_UP };

/* One end's sample, at the pace of liveness.c's round-trip probes: fast through warm-up. */
static void startup_sample(struct net *net, int i, int port, uint64_t *seed)
{
	struct node *nd = &net->n[i];
	struct end *e = &nd->ends[port];

	assert_true(wc_rtt_sample(&e->rtt, jitter(seed, net->l[nd->port_link[port]].rtt)));
	if (wc_hyst_update(&e->hyst, &e->rtt, net->now))
		rstp_set_path_cost(&nd->br, (uint16_t)port, cost_auto(e->hyst.applied), net->now);
	e->next_sample += e->rtt.samples <= WC_WARMUP_SAMPLES ? 250 * MS : 2 * SEC;
}

static void startup_priority(struct net *net, int i, enum startup_rule rule)
{
	struct node *nd = &net->n[i];
	uint64_t rtts[STP_MAX_PORTS];
	bool warming = false;
	uint16_t prio;

	for (int p = 1; p <= nd->nports; p++) {
		const struct end *e = &nd->ends[p];
		bool warm = e->rtt.samples > WC_WARMUP_SAMPLES;

		rtts[p - 1] = rule == WAIT_FOR_WARM_UP && !warm ? 0 : e->hyst.applied;
		warming |= !warm;
	}
	if (rule == WAIT_FOR_WARM_UP)
		prio = wc_prio_update(&nd->prio, rtts, (size_t)nd->nports, warming, nd->priority,
				      net->now);
	else
		prio = wc_auto_priority(rtts, (size_t)nd->nports, nd->priority);
	if (prio != nd->priority) {
		nd->priority = prio;
		rstp_set_bridge_priority(&nd->br, prio, net->now);
	}
}

/* What one bridge saw of the root after the leaf phase (every bridge at the leaf priority). */
struct roots_seen {
	uint64_t last;
	int changes;	  /* from one root that is not a leaf to another */
	int prio_changes; /* of those, to a root of another priority */
	bool any;
};

static void note_root(struct roots_seen *r, uint64_t root)
{
	if (root >> 48 == WC_PRIORITY_LEAF)
		return;
	if (r->any && root != r->last) {
		r->changes++;
		r->prio_changes += root >> 48 != r->last >> 48;
	}
	r->any = true;
	r->last = root;
}

/*
 * Start-up on the seed's graph: every bridge at the leaf priority, its ports down; each
 * link's session comes up at its own time within the first seconds (handshakes, a peer
 * started late), then each end samples like liveness.c. Returns the most root changes
 * any bridge saw after the leaf phase in the first 60 s (and the most to a root of another
 * priority in *prio_changes), and checks that all agree on the root in the end.
 */
static int startup_root_changes(enum startup_rule rule, uint64_t seed, int *prio_changes)
{
	const uint16_t leaf[NODES] = {WC_PRIORITY_LEAF, WC_PRIORITY_LEAF, WC_PRIORITY_LEAF,
				      WC_PRIORITY_LEAF, WC_PRIORITY_LEAF};
	struct net *net = seed_net(cost_default, leaf);
	struct roots_seen seen[NODES] = {{0}};
	int most = 0;

	*prio_changes = 0;
	for (int i = 0; i < NODES; i++) {
		wc_prio_init(&net->n[i].prio, net->now);
		for (int p = 1; p <= net->n[i].nports; p++) {
			wc_hyst_init(&net->n[i].ends[p].hyst);
			rstp_disable_port(&net->n[i].br, (uint16_t)p, net->now);
		}
	}
	for (int li = 0; li < LINKS; li++) {
		struct link *l = &net->l[li];
		uint64_t up = net->now + jitter(&seed, 3 * SEC); /* 2.7 .. 3.3 s */

		up -= jitter(&seed, 2 * SEC); /* 0.5 .. 1.5 s in all, give or take */
		net->n[l->a].ends[l->pa].next_sample = up + l->rtt + jitter(&seed, 125 * MS);
		net->n[l->b].ends[l->pb].next_sample = up + l->rtt + jitter(&seed, 125 * MS);
	}
	for (uint64_t t = net->now; t < 60 * SEC; t += 50 * MS) {
		run_until(net, t);
		for (int i = 0; i < NODES; i++) {
			for (int p = 1; p <= net->n[i].nports; p++) {
				struct end *e = &net->n[i].ends[p];

				if (e->rtt.samples == 0 && e->next_sample <= t)
					rstp_enable_port(&net->n[i].br, (uint16_t)p, t);
				if (e->next_sample <= t)
					startup_sample(net, i, p, &seed);
			}
			startup_priority(net, i, rule);
			note_root(&seen[i], net->n[i].br.root_priority.root_bridge_id);
		}
	}
	for (int i = 0; i < NODES; i++) {
		assert_int_equal(seen[i].last, seen[0].last);
		if (seen[i].changes > most)
			most = seen[i].changes;
		if (seen[i].prio_changes > *prio_changes)
			*prio_changes = seen[i].prio_changes;
	}
	free(net);
	return most;
}

/*
 * Start-up churn: with the priority computed from whichever wires are measured so far,
 * the root moves several times in the first seconds (rho takes 4096 while only its two
 * 90 ms wires have samples); with wirecost's start-up rule it goes from the leaf phase
 * straight to a host of the final priority, epsilon or vorke. Both are at 28672: when
 * vorke leaves the leaf phase a moment before epsilon it is root until epsilon (the lower
 * MAC) follows, one more change between two equally good roots, which nothing a bridge
 * measures can foresee (docs/DESIGN.md). Over 20 start-ups with their own timings.
 */
static void test_startup_root_moves_once(void **state)
{
	int old_most = 0, old_prio = 0, ties = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		int prio, oprio;
		int most = startup_root_changes(WAIT_FOR_WARM_UP, seed, &prio);
		int old = startup_root_changes(FROM_WHAT_IS_MEASURED, seed, &oprio);

		if (getenv("WIRETREE_TRACE"))
			print_message("seed %llu: root changes %d (%d to another priority), "
				      "first version %d (%d)\n",
				      (unsigned long long)seed, most, prio, old, oprio);
		assert_int_equal(prio, 0);
		assert_true(most <= 1);
		ties += most;
		if (old > old_most)
			old_most = old;
		if (oprio > old_prio)
			old_prio = oprio;
	}
	assert_true(ties < 20); /* most start-ups go straight to epsilon */
	assert_true(old_most > 1 && old_prio > 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_meets_targets),
		cmocka_unit_test(test_trap),
		cmocka_unit_test(test_jitter_keeps_tree),
		cmocka_unit_test(test_startup_root_moves_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
