/* SPDX-License-Identifier: MIT */
/*
 * 802.1D spanning tree on a simulated network: whole bridges (struct bridge)
 * joined by virtual cables with a 1 ms delay, on a virtual clock that jumps to
 * the next thing to happen (a frame arriving, or a bridge's br_next_deadline).
 * The tree each run must reach is computed here, independently, from the
 * bridge ids, port ids and costs; broadcasts injected all along must never be
 * duplicated or circulate.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bridge/bridge.h"
#include "bridge/showstp.h"
#include "core/byteorder.h"

#define SEC	       1000000000ULL
#define MS	       1000000ULL
#define MAX_HOSTS      8
#define MAX_LINKS      24
#define QMAX	       16384
#define MAX_IDS	       8192
#define TEST_ETHERTYPE 0x88b5
#define NEVER	       UINT64_MAX

struct link {
	int a, b;   /* hosts */
	int pa, pb; /* their port numbers */
	uint32_t cost_a, cost_b;
	uint8_t prio_a, prio_b;
	bool up;
};

struct host {
	const char *name;
	struct bridge br;
	bool alive;
	uint64_t clock_off; /* each host's clock has its own origin, as in life */
	uint16_t priority;
	uint8_t local_mac[6];
	int port_link[BR_MAX_PORTS]; /* link index per port, -1 */
};

struct inflight {
	uint64_t at;
	int host;
	int port;
	struct pkt *p;
};

struct sim {
	struct pkt_pool pool;
	struct stp_times times;
	uint64_t now;
	uint64_t delay;
	int nh, nl;
	struct host h[MAX_HOSTS];
	struct link l[MAX_LINKS];
	struct inflight *q;
	uint32_t qhead, qtail; /* FIFO: frames sent later arrive later */
	uint32_t max_inflight;
	/* per test frame id: transmissions on cables and deliveries per host */
	uint32_t next_id;
	uint16_t *wire_tx;
	uint8_t (*delivered)[MAX_HOSTS];
	uint32_t id_src[MAX_IDS];
	bool id_bcast[MAX_IDS];
	uint64_t id_time[MAX_IDS];
};

/* ---- expected tree, computed independently ---- */

enum role { R_DISABLED, R_ROOT, R_DESIGNATED, R_BLOCKED };

struct expect {
	uint64_t root[MAX_HOSTS];
	uint64_t cost[MAX_HOSTS];
	int root_port[MAX_HOSTS];
	enum role role[MAX_HOSTS][BR_MAX_PORTS];
};

static uint64_t bid(const struct sim *s, int h)
{
	return s->h[h].br.stp.bridge_id;
}

static uint16_t pid(uint8_t prio, int port)
{
	return (uint16_t)(prio << 10 | port);
}

static bool link_live(const struct sim *s, const struct link *l)
{
	return l->up && s->h[l->a].alive && s->h[l->b].alive;
}

/* One end of a live link seen from host h: our port, their host, their port. */
struct end {
	int port, peer, peer_port;
	uint32_t cost;
	uint16_t id, peer_id;
};

static struct end end_of(const struct link *l, int h)
{
	struct end e;

	if (l->a == h) {
		e = (struct end){l->pa,
				 l->b,
				 l->pb,
				 l->cost_a,
				 pid(l->prio_a, l->pa),
				 pid(l->prio_b, l->pb)};
	} else {
		e = (struct end){l->pb,
				 l->a,
				 l->pa,
				 l->cost_b,
				 pid(l->prio_b, l->pb),
				 pid(l->prio_a, l->pa)};
	}
	return e;
}

static bool lex_less(const uint64_t *a, const uint64_t *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i];
	return false;
}

static void compute_expected(const struct sim *s, struct expect *x)
{
	memset(x, 0, sizeof(*x));
	/* components: the root is the lowest bridge id reachable over live links */
	for (int h = 0; h < s->nh; h++)
		x->root[h] = bid(s, h);
	for (int round = 0; round < s->nh; round++)
		for (int i = 0; i < s->nl; i++) {
			const struct link *l = &s->l[i];

			if (!link_live(s, l))
				continue;
			if (x->root[l->a] < x->root[l->b])
				x->root[l->b] = x->root[l->a];
			else
				x->root[l->a] = x->root[l->b];
		}
	/* root path costs: Bellman-Ford, a hop costs the receiving port's path cost */
	for (int h = 0; h < s->nh; h++)
		x->cost[h] = x->root[h] == bid(s, h) ? 0 : NEVER;
	for (int round = 0; round < s->nh; round++)
		for (int i = 0; i < s->nl; i++) {
			const struct link *l = &s->l[i];

			if (!link_live(s, l))
				continue;
			if (x->cost[l->a] != NEVER && x->cost[l->a] + l->cost_b < x->cost[l->b])
				x->cost[l->b] = x->cost[l->a] + l->cost_b;
			if (x->cost[l->b] != NEVER && x->cost[l->b] + l->cost_a < x->cost[l->a])
				x->cost[l->a] = x->cost[l->b] + l->cost_a;
		}
	/* root port: best (cost through it, neighbour id, neighbour port id, own port id) */
	for (int h = 0; h < s->nh; h++) {
		uint64_t best[4] = {NEVER, NEVER, NEVER, NEVER};

		x->root_port[h] = 0;
		if (!s->h[h].alive || x->root[h] == bid(s, h))
			continue;
		for (int i = 0; i < s->nl; i++) {
			struct end e;
			uint64_t t[4];

			if (!link_live(s, &s->l[i]) || (s->l[i].a != h && s->l[i].b != h))
				continue;
			e = end_of(&s->l[i], h);
			t[0] = x->cost[e.peer] + e.cost;
			t[1] = bid(s, e.peer);
			t[2] = e.peer_id;
			t[3] = e.id;
			if (lex_less(t, best, 4)) {
				memcpy(best, t, sizeof(t));
				x->root_port[h] = e.port;
			}
		}
		assert_true(best[0] == x->cost[h]);
	}
	/* every live link: the end with the better (root cost, bridge id, port id) is designated */
	for (int h = 0; h < s->nh; h++)
		for (int p = 1; p < BR_MAX_PORTS; p++)
			x->role[h][p] = s->h[h].port_link[p] >= 0 ? R_DESIGNATED : R_DISABLED;
	for (int i = 0; i < s->nl; i++) {
		const struct link *l = &s->l[i];
		struct end ea, eb;
		bool a_wins;

		if (!l->up) {
			x->role[l->a][l->pa] = x->role[l->b][l->pb] = R_DISABLED;
			continue;
		}
		if (!link_live(s, l))
			continue; /* the far end is dead: ours claims the LAN */
		ea = end_of(l, l->a);
		eb = end_of(l, l->b);
		if (x->cost[l->a] != x->cost[l->b])
			a_wins = x->cost[l->a] < x->cost[l->b];
		else if (bid(s, l->a) != bid(s, l->b))
			a_wins = bid(s, l->a) < bid(s, l->b);
		else
			a_wins = ea.id < eb.id;
		x->role[l->a][l->pa] = a_wins ? R_DESIGNATED : R_BLOCKED;
		x->role[l->b][l->pb] = a_wins ? R_BLOCKED : R_DESIGNATED;
	}
	for (int h = 0; h < s->nh; h++)
		if (x->root_port[h])
			x->role[h][x->root_port[h]] = R_ROOT;
}

static enum stp_state expected_state(enum role r)
{
	switch (r) {
	case R_ROOT:
	case R_DESIGNATED:
		return STP_FORWARDING;
	case R_BLOCKED:
		return STP_BLOCKING;
	default:
		return STP_DISABLED;
	}
}

static enum stp_role to_stp_role(enum role r)
{
	static const enum stp_role m[] = {STP_ROLE_DISABLED, STP_ROLE_ROOT, STP_ROLE_DESIGNATED,
					  STP_ROLE_BLOCKED};
	return m[r];
}

/* true when every live bridge holds exactly the expected tree with final port states */
static bool tree_matches(const struct sim *s, const struct expect *x, bool verbose)
{
	for (int h = 0; h < s->nh; h++) {
		const struct stp_bridge *b = &s->h[h].br.stp;

		if (!s->h[h].alive)
			continue;
		if (b->designated_root != x->root[h] || b->root_port != x->root_port[h] ||
		    b->root_path_cost != x->cost[h]) {
			if (verbose)
				print_message("%s: root %016llx port %u cost %u, want %016llx %d "
					      "%llu\n",
					      s->h[h].name, (unsigned long long)b->designated_root,
					      b->root_port, b->root_path_cost,
					      (unsigned long long)x->root[h], x->root_port[h],
					      (unsigned long long)x->cost[h]);
			return false;
		}
		for (int p = 1; p < BR_MAX_PORTS; p++) {
			const struct stp_port *sp = stp_get_port_const(b, (uint16_t)p);

			if (!sp)
				continue;
			if (stp_port_role(b, sp) != to_stp_role(x->role[h][p]) ||
			    sp->state != expected_state(x->role[h][p])) {
				if (verbose)
					print_message(
						"%s port %d: role %s state %s, want role %d\n",
						s->h[h].name, p,
						stp_role_name(stp_port_role(b, sp)),
						stp_state_name(sp->state), x->role[h][p]);
				return false;
			}
		}
	}
	return true;
}

/* ---- the simulator ---- */

/* Host h's clock: what its bridge is given as `now`. */
static uint64_t HNOW(const struct sim *s, int h)
{
	return s->now + s->h[h].clock_off;
}

static struct sim *sim_new(const struct stp_times *t)
{
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	assert_true(pkt_pool_init(&s->pool, 8192, 320));
	s->q = calloc(QMAX, sizeof(*s->q));
	s->wire_tx = calloc(MAX_IDS, sizeof(*s->wire_tx));
	s->delivered = calloc(MAX_IDS, sizeof(*s->delivered));
	assert_non_null(s->q);
	assert_non_null(s->wire_tx);
	assert_non_null(s->delivered);
	s->times = *t;
	s->delay = 1 * MS;
	s->now = 1 * SEC;
	return s;
}

static void sim_free(struct sim *s)
{
	for (uint32_t i = s->qhead; i != s->qtail; i = (i + 1) % QMAX)
		pkt_free(s->q[i].p);
	for (int h = 0; h < s->nh; h++)
		if (s->h[h].br.fdb.e)
			br_destroy(&s->h[h].br);
	/* every buffer came back: nothing leaked on any path */
	assert_int_equal(s->pool.nfree, s->pool.count);
	pkt_pool_destroy(&s->pool);
	free(s->q);
	free(s->wire_tx);
	free(s->delivered);
	free(s);
}

static void host_pubkey(const char *name, uint8_t key[32])
{
	memset(key, 0, 32);
	for (int i = 0; name[i]; i++)
		key[i % 32] ^= (uint8_t)(name[i] * (i + 7));
	key[31] ^= 0x5a;
}

static void host_start(struct sim *s, int h)
{
	struct host *ho = &s->h[h];
	struct br_config cfg;

	if (ho->br.fdb.e)
		br_destroy(&ho->br);

	br_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", ho->name);
	cfg.protocol = BR_PROTO_STP;
	cfg.priority = ho->priority;
	cfg.hello_time = s->times.hello_time;
	cfg.max_age = s->times.max_age;
	cfg.forward_delay = s->times.forward_delay;
	host_pubkey(ho->name, cfg.pubkey);
	cfg.hash_key[0] = 0x1234 + (uint64_t)h;
	cfg.pool = &s->pool;
	cfg.fdb_max = 256;
	assert_int_equal(br_init(&ho->br, &cfg, HNOW(s, h)), 0);
	assert_int_equal(br_fdb_add_local(&ho->br, ho->local_mac), 0);
	ho->alive = true;
	for (int p = 0; p < BR_MAX_PORTS; p++)
		ho->port_link[p] = -1;
}

static int sim_add_host(struct sim *s, const char *name, uint16_t priority)
{
	int h = s->nh++;

	s->h[h].name = name;
	s->h[h].priority = priority;
	s->h[h].local_mac[0] = 0x02;
	s->h[h].local_mac[5] = (uint8_t)(0x10 + h);
	s->h[h].clock_off = (uint64_t)h * 237 * MS + 61 * MS;
	host_start(s, h);
	return h;
}

static int add_port(struct sim *s, int h, const char *peer, uint32_t cost, uint8_t prio)
{
	struct br_port_config pc;
	int port;

	br_port_config_default(&pc, peer);
	pc.path_cost = cost;
	pc.priority = prio;
	port = br_add_port(&s->h[h].br, &pc);
	assert_true(port > 0);
	return port;
}

static void sim_add_link(struct sim *s, int a, int b, uint32_t cost_a, uint32_t cost_b,
			 uint8_t prio_a, uint8_t prio_b)
{
	struct link *l = &s->l[s->nl];

	l->a = a;
	l->b = b;
	l->cost_a = cost_a;
	l->cost_b = cost_b;
	l->prio_a = prio_a;
	l->prio_b = prio_b;
	l->pa = add_port(s, a, s->h[b].name, cost_a, prio_a);
	l->pb = add_port(s, b, s->h[a].name, cost_b, prio_b);
	s->h[a].port_link[l->pa] = s->nl;
	s->h[b].port_link[l->pb] = s->nl;
	s->nl++;
}

static void sim_enqueue(struct sim *s, int host, int port, struct pkt *p)
{
	uint32_t n = (s->qtail + QMAX - s->qhead) % QMAX;

	assert_true(n + 1 < QMAX);
	s->q[s->qtail] = (struct inflight){s->now + s->delay, host, port, p};
	s->qtail = (s->qtail + 1) % QMAX;
	if (n + 1 > s->max_inflight)
		s->max_inflight = n + 1;
}

static bool test_frame_id(const struct pkt *p, uint32_t *id)
{
	if (p->len < 18 || get_be16(p->data + 12) != TEST_ETHERTYPE)
		return false;
	*id = get_be32(p->data + 14);
	return *id < MAX_IDS;
}

/* Frames a bridge sent: to its host (port 0) or down a cable. */
static void sim_emit(struct sim *s, int h, struct pkt_vec *out)
{
	for (uint32_t i = 0; i < out->n; i++) {
		struct pkt *p = out->p[i];
		uint32_t id;
		int li;
		const struct link *l;

		if (p->port == BR_PORT_LOCAL) {
			if (test_frame_id(p, &id))
				s->delivered[id][h]++;
			pkt_free(p);
			continue;
		}
		li = s->h[h].port_link[p->port];
		assert_true(li >= 0);
		if (getenv("SIMTRACE")) {
			struct stp_bpdu b;

			if (stp_bpdu_decode(p->data, p->len, &b) == STP_BPDU_OK)
				print_message("%llu %s:%d %s tc%d tca%d age%u cost%u\n",
					      (unsigned long long)(s->now / MS), s->h[h].name,
					      p->port, b.type ? "TCN" : "CFG",
					      b.config.topology_change,
					      b.config.topology_change_ack, b.config.message_age,
					      b.config.root_path_cost);
		}
		l = &s->l[li];
		if (test_frame_id(p, &id))
			s->wire_tx[id]++;
		if (!l->up) {
			pkt_free(p);
			continue;
		}
		if (l->a == h)
			sim_enqueue(s, l->b, l->pb, p);
		else
			sim_enqueue(s, l->a, l->pa, p);
	}
	out->n = 0;
}

static void sim_input(struct sim *s, int h, int port, struct pkt_vec *in)
{
	struct pkt_vec out;

	if (!s->h[h].alive) {
		pkt_vec_free(in);
		return;
	}
	pkt_vec_init(&out);
	while (in->n) {
		br_input(&s->h[h].br, (uint32_t)port, in, HNOW(s, h), &out);
		sim_emit(s, h, &out);
	}
}

static uint64_t sim_next_event(const struct sim *s)
{
	uint64_t t = s->qhead != s->qtail ? s->q[s->qhead].at : NEVER;

	for (int h = 0; h < s->nh; h++) {
		uint64_t d;

		if (!s->h[h].alive)
			continue;
		d = br_next_deadline(&s->h[h].br);
		if (d != NEVER && d - s->h[h].clock_off < t)
			t = d - s->h[h].clock_off;
	}
	return t;
}

/* Advances to the next event (or `limit`) and handles everything due then. */
static void sim_step(struct sim *s, uint64_t limit)
{
	static struct pkt_vec batch[MAX_HOSTS][BR_MAX_PORTS];
	uint64_t t = sim_next_event(s);
	struct pkt_vec out;

	if (t > limit)
		t = limit;
	if (t > s->now)
		s->now = t;
	for (int h = 0; h < s->nh; h++)
		for (int p = 0; p < BR_MAX_PORTS; p++)
			pkt_vec_init(&batch[h][p]);
	while (s->qhead != s->qtail && s->q[s->qhead].at <= s->now) {
		struct inflight *f = &s->q[s->qhead];
		struct pkt_vec *v = &batch[f->host][f->port];

		if (pkt_vec_full(v))
			sim_input(s, f->host, f->port, v);
		pkt_vec_add(v, f->p);
		s->qhead = (s->qhead + 1) % QMAX;
	}
	for (int h = 0; h < s->nh; h++)
		for (int p = 0; p < BR_MAX_PORTS; p++)
			if (batch[h][p].n)
				sim_input(s, h, p, &batch[h][p]);
	pkt_vec_init(&out);
	for (int h = 0; h < s->nh; h++) {
		if (!s->h[h].alive || br_next_deadline(&s->h[h].br) > HNOW(s, h))
			continue;
		br_tick(&s->h[h].br, HNOW(s, h), &out);
		sim_emit(s, h, &out);
		/* whatever the tick was for is done: the deadline moved on */
		assert_true(br_next_deadline(&s->h[h].br) > HNOW(s, h));
	}
}

static void sim_run_until(struct sim *s, uint64_t t)
{
	while (s->now < t)
		sim_step(s, t);
}

static struct pkt *make_frame(struct sim *s, const uint8_t dst[6], const uint8_t src[6],
			      uint32_t id)
{
	struct pkt *p = pkt_alloc(&s->pool);
	uint8_t *d;

	assert_non_null(p);
	d = pkt_put(p, 60);
	if (!d)
		abort();
	memset(d, 0, 60);
	memcpy(d, dst, 6);
	memcpy(d + 6, src, 6);
	put_be16(d + 12, TEST_ETHERTYPE);
	put_be32(d + 14, id);
	return p;
}

static uint32_t sim_send(struct sim *s, int h, const uint8_t dst[6])
{
	struct pkt_vec in;
	uint32_t id = s->next_id++;

	assert_true(id < MAX_IDS);
	s->id_src[id] = (uint32_t)h;
	s->id_bcast[id] = dst[0] & 1;
	s->id_time[id] = s->now;
	pkt_vec_init(&in);
	pkt_vec_add(&in, make_frame(s, dst, s->h[h].local_mac, id));
	sim_input(s, h, BR_PORT_LOCAL, &in);
	return id;
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void sim_broadcast_all(struct sim *s)
{
	for (int h = 0; h < s->nh; h++)
		if (s->h[h].alive)
			sim_send(s, h, bcast);
}

/*
 * The no-loop property for every frame sent so far: no host gets a frame
 * twice, and a frame crosses each cable at most once (a tree has no cycle).
 */
static void check_no_duplicates(const struct sim *s)
{
	for (uint32_t id = 0; id < s->next_id; id++) {
		assert_true(s->wire_tx[id] <= s->nl);
		for (int h = 0; h < s->nh; h++)
			assert_true(s->delivered[id][h] <= 1);
	}
}

/* In a converged network a broadcast reaches every host of its component exactly once. */
static void check_delivery(const struct sim *s, uint32_t id, const struct expect *x)
{
	int src = (int)s->id_src[id];

	for (int h = 0; h < s->nh; h++) {
		int want = h != src && s->h[h].alive && x->root[h] == x->root[src];

		if (s->id_bcast[id] && s->delivered[id][h] != want)
			print_message("frame %u from %s: %s got it %u times\n", id, s->h[src].name,
				      s->h[h].name, s->delivered[id][h]);
		if (s->id_bcast[id])
			assert_int_equal(s->delivered[id][h], want);
	}
}

/*
 * Runs until `until`, sending broadcasts from every host every 250 ms, and
 * returns when the expected tree was reached for good (NEVER if it was not).
 */
static uint64_t sim_converge(struct sim *s, uint64_t until, struct expect *x)
{
	uint64_t reached = NEVER;
	uint64_t next_bcast = s->now;

	compute_expected(s, x);
	while (s->now < until) {
		if (s->now >= next_bcast) {
			sim_broadcast_all(s);
			next_bcast = s->now + 250 * MS;
		}
		sim_step(s, next_bcast < until ? next_bcast : until);
		if (tree_matches(s, x, false)) {
			if (reached == NEVER)
				reached = s->now;
		} else {
			reached = NEVER;
		}
	}
	check_no_duplicates(s);
	if (reached == NEVER)
		tree_matches(s, x, true);
	return reached;
}

/* After convergence: broadcasts reach every host once; returns after they settled. */
static void check_connectivity(struct sim *s, const struct expect *x)
{
	uint32_t first = s->next_id;

	sim_broadcast_all(s);
	sim_run_until(s, s->now + 100 * MS);
	for (uint32_t id = first; id < s->next_id; id++)
		check_delivery(s, id, x);
	check_no_duplicates(s);
}

static void sim_kill(struct sim *s, int h)
{
	s->h[h].alive = false;
}

static const struct stp_times short_times = {6 * SEC, 1 * SEC, 4 * SEC};
static const struct stp_times default_times = {20 * SEC, 2 * SEC, 15 * SEC};

enum { RHO, EPSILON, VORKE, BOB, PI0 };
static const char *const names[] = {"rho", "epsilon", "vorke", "bob", "pi0"};

/*
 * The seed's network: a full mesh of rho, epsilon, vorke and bob (6 wires)
 * and pi0 hanging off rho: 7 wires. costs[i] = {cost at a, cost at b}.
 */
static struct sim *five_hosts(const struct stp_times *t, const uint16_t prio[5],
			      const uint32_t costs[7][2])
{
	static const int pairs[7][2] = {{RHO, EPSILON}, {RHO, VORKE}, {RHO, BOB}, {EPSILON, VORKE},
					{EPSILON, BOB}, {VORKE, BOB}, {RHO, PI0}};
	struct sim *s = sim_new(t);

	for (int h = 0; h < 5; h++)
		sim_add_host(s, names[h], prio ? prio[h] : STP_DEFAULT_PRIORITY);
	for (int i = 0; i < 7; i++)
		sim_add_link(s, pairs[i][0], pairs[i][1], costs ? costs[i][0] : 100,
			     costs ? costs[i][1] : 100, STP_DEFAULT_PORT_PRIORITY,
			     STP_DEFAULT_PORT_PRIORITY);
	return s;
}

static void sim_enable_all(struct sim *s)
{
	struct pkt_vec out;

	pkt_vec_init(&out);
	for (int i = 0; i < s->nl; i++) {
		s->l[i].up = true;
		br_port_enable(&s->h[s->l[i].a].br, (uint32_t)s->l[i].pa, HNOW(s, s->l[i].a), &out);
		sim_emit(s, s->l[i].a, &out);
		br_port_enable(&s->h[s->l[i].b].br, (uint32_t)s->l[i].pb, HNOW(s, s->l[i].b), &out);
		sim_emit(s, s->l[i].b, &out);
	}
}

/* Cable cut (a wire loses its session): both ends see their port go down. */
static void sim_cut(struct sim *s, int li)
{
	struct link *l = &s->l[li];
	struct pkt_vec out;

	pkt_vec_init(&out);
	l->up = false;
	if (s->h[l->a].alive) {
		br_port_disable(&s->h[l->a].br, (uint32_t)l->pa, HNOW(s, l->a), &out);
		sim_emit(s, l->a, &out);
	}
	if (s->h[l->b].alive) {
		br_port_disable(&s->h[l->b].br, (uint32_t)l->pb, HNOW(s, l->b), &out);
		sim_emit(s, l->b, &out);
	}
}

static int expected_root_host(const struct sim *s, const struct expect *x, int h)
{
	for (int r = 0; r < s->nh; r++)
		if (bid(s, r) == x->root[h])
			return r;
	return -1;
}

/* ---- tests ---- */

/* Convergence from a cold start, then connectivity, with the 802.1D timing. */
static void converge_and_check(struct sim *s, struct expect *x)
{
	uint64_t t0 = s->now, reached;
	const uint64_t fwd = s->times.forward_delay;

	sim_enable_all(s);
	reached = sim_converge(s, t0 + 2 * fwd + s->times.max_age + 5 * SEC, x);
	assert_true(reached != NEVER);
	/* ports start listening at once and forward after 2 x forward delay (+ a hello, + hops) */
	assert_true(reached <= t0 + 2 * fwd + s->times.hello_time + 100 * MS);
	check_connectivity(s, x);
}

static void test_five_hosts_default_priorities(void **state)
{
	struct sim *s = five_hosts(&short_times, NULL, NULL);
	struct expect x;
	int root;

	(void)state;
	converge_and_check(s, &x);
	root = expected_root_host(s, &x, RHO);
	print_message("five hosts: root %s\n", s->h[root].name);
	/* with equal costs every non-root reaches the root directly, pi0 through rho */
	for (int h = 0; h < 5; h++)
		assert_int_equal(x.root[h], bid(s, root));
	assert_int_equal(x.cost[PI0], root == PI0 ? 0 : (root == RHO ? 100 : 200));
	/* 7 wires, 5 bridges: exactly 3 wires blocked at one end */
	{
		int blocked = 0;

		for (int h = 0; h < 5; h++)
			for (int p = 1; p < BR_MAX_PORTS; p++)
				blocked += x.role[h][p] == R_BLOCKED;
		assert_int_equal(blocked, 3);
	}
	sim_free(s);
}

/* Each host in turn is made root by the lowest priority: the tree follows. */
static void test_five_hosts_each_root(void **state)
{
	(void)state;
	for (int r = 0; r < 5; r++) {
		uint16_t prio[5] = {32768, 32768, 32768, 32768, 32768};
		struct expect x;
		struct sim *s;

		prio[r] = 4096;
		s = five_hosts(&short_times, prio, NULL);
		converge_and_check(s, &x);
		for (int h = 0; h < 5; h++) {
			assert_true(x.root[h] == bid(s, r));
			assert_true(s->h[h].br.stp.designated_root == bid(s, r));
		}
		assert_true(stp_is_root_bridge(&s->h[r].br.stp));
		sim_free(s);
	}
}

/* Costs and priorities that make ties and detours: tie-breaks by bridge and port id. */
static void test_five_hosts_random_costs(void **state)
{
	uint32_t seed = 0x9e3779b9;

	(void)state;
	for (int run = 0; run < 12; run++) {
		uint32_t costs[7][2];
		uint16_t prio[5];
		struct expect x;
		struct sim *s;

		for (int i = 0; i < 7; i++)
			for (int k = 0; k < 2; k++) {
				seed ^= seed << 13;
				seed ^= seed >> 17;
				seed ^= seed << 5;
				/* few distinct values, so equal-cost paths are common */
				costs[i][k] = 10 * (1 + seed % 4);
			}
		for (int h = 0; h < 5; h++) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			prio[h] = (uint16_t)(run % 3 == 0 ? 32768 : 4096 * (seed % 3 + 7));
		}
		s = five_hosts(&short_times, prio, (const uint32_t(*)[2])costs);
		converge_and_check(s, &x);
		sim_free(s);
	}
}

/*
 * Parallel wires between two bridges: the one whose far end has the lower port
 * id wins, as port priority and number decide.
 */
static void test_parallel_links_port_priority(void **state)
{
	struct sim *s = sim_new(&short_times);
	struct expect x;
	int a, b;

	(void)state;
	a = sim_add_host(s, "a", 4096);
	b = sim_add_host(s, "b", 32768);
	sim_add_link(s, a, b, 100, 100, 32, 32);
	sim_add_link(s, a, b, 100, 100, 16, 32); /* a's port 2 has the better port id */
	sim_add_link(s, a, b, 100, 50, 32, 32);	 /* cheaper at b, so b prefers it anyway */
	converge_and_check(s, &x);
	assert_int_equal(x.root_port[b], s->l[2].pb);
	assert_int_equal(s->h[b].br.stp.root_port, s->l[2].pb);
	assert_int_equal(s->h[b].br.stp.root_path_cost, 50);
	/* without the cheap wire, a's port priority decides */
	sim_cut(s, 2);
	assert_true(sim_converge(s, s->now + 20 * SEC, &x) != NEVER);
	assert_int_equal(s->h[b].br.stp.root_port, s->l[1].pb);
	sim_free(s);
}

/* How long until the expected tree holds after a change at `t0`, broadcasting all along. */
static uint64_t reconverge(struct sim *s, struct expect *x, uint64_t t0)
{
	uint64_t reached =
		sim_converge(s, t0 + s->times.max_age + 2 * s->times.forward_delay + 10 * SEC, x);

	assert_true(reached != NEVER);
	return reached - t0;
}

static void dies_and_reconverges(const struct stp_times *t, int victim_kind)
{
	struct sim *s = five_hosts(t, NULL, NULL);
	struct expect x;
	uint64_t took, bound = t->max_age + 2 * t->forward_delay;
	int root, victim;

	converge_and_check(s, &x);
	root = expected_root_host(s, &x, RHO);
	/*
	 * victim: the root itself, or the best of the other mesh bridges (lowest
	 * id), which is designated on its wires to the rest: they must wait out
	 * max age before their blocked ports take over.
	 */
	victim = root;
	if (victim_kind == 1) {
		victim = -1;
		for (int h = RHO; h <= BOB; h++)
			if (h != root && (victim < 0 || bid(s, h) < bid(s, victim)))
				victim = h;
	}
	/* die just after a hello went out: the slowest case for max age */
	sim_run_until(s, s->now + 2 * SEC);
	while (stp_timer_remaining(&s->h[root].br.stp.hello_timer, HNOW(s, root)) <
	       t->hello_time - 10 * MS)
		sim_step(s, s->now + 10 * MS);
	sim_kill(s, victim);
	took = reconverge(s, &x, s->now);
	print_message("%s died: reconverged in %llu ms (max age + 2 x forward delay = %llu ms)\n",
		      s->h[victim].name, (unsigned long long)(took / MS),
		      (unsigned long long)(bound / MS));
	/* counted from the last BPDU it sent: that reached its neighbours a cable delay later */
	assert_true(took <= bound + s->delay);
	check_connectivity(s, &x);
	if (victim == RHO) /* pi0 only had rho: it is its own root now */
		assert_true(stp_is_root_bridge(&s->h[PI0].br.stp));
	/* the dead bridge comes back (restarted, same key): the old tree returns */
	host_start(s, victim);
	for (int i = 0; i < s->nl; i++) {
		struct link *l = &s->l[i];

		if (l->a == victim || l->b == victim) {
			uint32_t cost = l->a == victim ? l->cost_a : l->cost_b;
			uint8_t prio = l->a == victim ? l->prio_a : l->prio_b;
			const char *peer = s->h[l->a == victim ? l->b : l->a].name;
			int port = add_port(s, victim, peer, cost, prio);
			struct pkt_vec out;

			if (l->a == victim)
				l->pa = port;
			else
				l->pb = port;
			s->h[victim].port_link[port] = i;
			pkt_vec_init(&out);
			br_port_enable(&s->h[victim].br, (uint32_t)port, HNOW(s, victim), &out);
			sim_emit(s, victim, &out);
		}
	}
	took = reconverge(s, &x, s->now);
	print_message("%s back: converged in %llu ms\n", s->h[victim].name,
		      (unsigned long long)(took / MS));
	check_connectivity(s, &x);
	sim_free(s);
}

static void test_root_dies(void **state)
{
	(void)state;
	dies_and_reconverges(&short_times, 0);
}

static void test_non_root_dies(void **state)
{
	(void)state;
	dies_and_reconverges(&short_times, 1);
}

static void test_root_dies_default_timers(void **state)
{
	(void)state;
	dies_and_reconverges(&default_times, 0);
}

static uint64_t sum_rx_tcn(const struct bridge *br)
{
	uint64_t n = 0;

	for (int p = 1; p < BR_MAX_PORTS; p++) {
		const struct stp_port *sp = br_get_stp_port(br, (uint32_t)p);

		if (sp)
			n += sp->cnt.rx_tcn;
	}
	return n;
}

/* A cable plugged in at run time (a wire's session comes up). */
static void sim_plug(struct sim *s, int li)
{
	struct link *l = &s->l[li];
	struct pkt_vec out;

	pkt_vec_init(&out);
	l->up = true;
	br_port_enable(&s->h[l->a].br, (uint32_t)l->pa, HNOW(s, l->a), &out);
	sim_emit(s, l->a, &out);
	br_port_enable(&s->h[l->b].br, (uint32_t)l->pb, HNOW(s, l->b), &out);
	sim_emit(s, l->b, &out);
}

/*
 * TCN. Costs make vorke reach the root (rho) through epsilon, and bob directly
 * over an expensive wire; the vorke-bob wire is down. When it comes up, bob's
 * root port moves to it and bob's old root port (forwarding) blocks: a
 * topology change bob reports with a TCN up its new root port to vorke, which
 * relays it to epsilon, which relays it to rho. The root then sets TC in its
 * BPDUs for max age + forward delay, and every bridge ages its FDB with the
 * forward delay instead of AgeingTime.
 */
static void test_tcn_reaches_root_and_fdbs_age_fast(void **state)
{
	uint16_t prio[5] = {4096, 32768, 32768, 32768, 32768};
	uint32_t costs[7][2];
	const uint64_t fwd = short_times.forward_delay;
	struct sim *s;
	struct expect x;
	uint64_t t_plug, t_tc = NEVER, tcn_root, tcn_eps, tcn_vorke;
	const int vb = 5;

	(void)state;
	for (int i = 0; i < 7; i++)
		costs[i][0] = costs[i][1] = 100;
	costs[1][1] = 1000; /* rho-vorke, at vorke */
	costs[3][1] = 10;   /* epsilon-vorke, at vorke */
	costs[2][1] = 1000; /* rho-bob, at bob */
	costs[4][1] = 1000; /* epsilon-bob, at bob */
	s = five_hosts(&short_times, prio, (const uint32_t(*)[2])costs);
	for (int i = 0; i < s->nl; i++) {
		struct pkt_vec out;

		if (i == vb)
			continue;
		pkt_vec_init(&out);
		s->l[i].up = true;
		br_port_enable(&s->h[s->l[i].a].br, (uint32_t)s->l[i].pa, HNOW(s, s->l[i].a), &out);
		sim_emit(s, s->l[i].a, &out);
		br_port_enable(&s->h[s->l[i].b].br, (uint32_t)s->l[i].pb, HNOW(s, s->l[i].b), &out);
		sim_emit(s, s->l[i].b, &out);
	}
	assert_true(sim_converge(s, s->now + 2 * fwd + 3 * SEC, &x) != NEVER);
	assert_int_equal(s->h[VORKE].br.stp.root_port, s->l[3].pb);
	assert_int_equal(s->h[BOB].br.stp.root_port, s->l[2].pb);
	/* let the start-up topology change run out */
	sim_run_until(s, s->now + short_times.max_age + fwd + 2 * SEC);
	for (int h = 0; h < 5; h++)
		assert_false(s->h[h].br.stp.topology_change);
	/* every host talks: every FDB learns every host; normal ageing keeps them */
	sim_broadcast_all(s);
	sim_run_until(s, s->now + 100 * MS);
	for (int h = 0; h < 5; h++) {
		assert_int_equal(s->h[h].br.fdb.count, 5);
		assert_true(br_current_ageing_time(&s->h[h].br) == 300 * SEC);
	}
	tcn_root = sum_rx_tcn(&s->h[RHO].br);
	tcn_eps = sum_rx_tcn(&s->h[EPSILON].br);
	tcn_vorke = sum_rx_tcn(&s->h[VORKE].br);
	sim_run_until(s, s->now + 3 * SEC);
	t_plug = s->now;
	sim_plug(s, vb);
	compute_expected(s, &x);
	assert_int_equal(x.root_port[BOB], s->l[vb].pb);
	while (s->now < t_plug + 3 * SEC) {
		sim_step(s, t_plug + 3 * SEC);
		if (t_tc == NEVER && s->h[RHO].br.stp.topology_change)
			t_tc = s->now;
	}
	assert_true(t_tc != NEVER);
	print_message("wire plugged at %llu ms, root has the topology change at %llu ms\n",
		      (unsigned long long)(t_plug / MS), (unsigned long long)(t_tc / MS));
	/*
	 * bob hears vorke within a hello, plus what the hold timer adds to each
	 * relay on the way (hello = hold = 1 s here); TCNs are not held.
	 */
	assert_true(t_tc <= t_plug + 3 * SEC);
	/* the TCN went bob -> vorke -> epsilon -> rho, acknowledged hop by hop */
	assert_true(s->h[BOB].br.stp.ports[s->l[vb].pb].cnt.tx_tcn > 0);
	assert_true(sum_rx_tcn(&s->h[VORKE].br) > tcn_vorke);
	assert_true(s->h[VORKE].br.stp.ports[s->l[3].pb].cnt.tx_tcn > 0);
	assert_true(sum_rx_tcn(&s->h[EPSILON].br) > tcn_eps);
	assert_true(s->h[EPSILON].br.stp.ports[s->l[0].pb].cnt.tx_tcn > 0);
	assert_true(sum_rx_tcn(&s->h[RHO].br) > tcn_root);
	/*
	 * Each TCN was acknowledged (TCA from the designated bridge): the senders
	 * stopped repeating them within a few hellos.
	 */
	sim_run_until(s, t_tc + 3 * SEC);
	for (int h = 0; h < 5; h++) {
		assert_false(s->h[h].br.stp.tcn_timer.active);
		if (h != RHO)
			assert_false(s->h[h].br.stp.topology_change_detected);
	}
	assert_true(s->h[BOB].br.stp.ports[s->l[vb].pb].cnt.tx_tcn <= 3);
	/* TC is propagated: within a hello and a hold time per hop every bridge ages fast */
	sim_run_until(s, t_tc + 4 * SEC);
	for (int h = 0; h < 5; h++) {
		if (!s->h[h].br.stp.topology_change)
			print_message("%s has no TC\n", s->h[h].name);
		assert_true(s->h[h].br.stp.topology_change);
		assert_true(br_current_ageing_time(&s->h[h].br) == fwd);
	}
	/* nobody talks: a forward delay later every learned address is gone */
	sim_run_until(s, t_tc + 4 * SEC + fwd);
	for (int h = 0; h < 5; h++)
		assert_int_equal(s->h[h].br.fdb.count, 1); /* the local address only */
	/* the tree settles with the new wire */
	assert_true(sim_converge(s, t_plug + 2 * fwd + 2 * SEC, &x) != NEVER);
	/*
	 * The new wire's designated port went forwarding at t_plug + 2 x forward
	 * delay: another change, which restarted the root's topology change timer.
	 * It runs max age + forward delay; the next hellos carry no TC.
	 */
	assert_true(s->h[RHO].br.stp.topology_change_timer.active);
	{
		uint64_t t_end = s->h[RHO].br.stp.topology_change_timer.expires;

		assert_true(t_end <= t_plug + 2 * fwd + short_times.max_age + fwd + 100 * MS);
		sim_run_until(s, t_end - 100 * MS);
		assert_true(s->h[RHO].br.stp.topology_change);
		sim_run_until(s, t_end + 4 * SEC);
	}
	for (int h = 0; h < 5; h++) {
		if (s->h[h].br.stp.topology_change)
			print_message(
				"%s TC (det %d) at %llu ms, root tc timer %d %llu\n", s->h[h].name,
				s->h[h].br.stp.topology_change_detected,
				(unsigned long long)(s->now / MS),
				s->h[RHO].br.stp.topology_change_timer.active,
				(unsigned long long)(s->h[RHO]
							     .br.stp.topology_change_timer.expires /
						     MS));
		assert_false(s->h[h].br.stp.topology_change);
		assert_true(br_current_ageing_time(&s->h[h].br) == 300 * SEC);
	}
	check_connectivity(s, &x);
	sim_free(s);
}

/*
 * Two bridges, one wire: the BPDUs the non-root relays carry the root's times,
 * a message age one unit older, and the TC / TCA flags of the exchange.
 */
static void test_bpdu_contents(void **state)
{
	struct sim *s = sim_new(&short_times);
	struct expect x;
	int a, b;
	struct pkt_vec out;
	struct stp_bpdu bpdu;
	bool saw_relay = false;

	(void)state;
	a = sim_add_host(s, "a", 4096);
	b = sim_add_host(s, "b", 32768);
	sim_add_link(s, a, b, 100, 100, 32, 32);
	sim_add_link(s, a, b, 100, 100, 32, 32);
	converge_and_check(s, &x);
	/* b: port 1 root, port 2 blocked (a is designated on both wires) */
	assert_int_equal(s->h[b].br.stp.root_port, 1);
	assert_int_equal(stp_port_role(&s->h[b].br.stp, &s->h[b].br.stp.ports[2]),
			 STP_ROLE_BLOCKED);
	/* b has no designated port: it relays nothing; force one and look at it */
	pkt_vec_init(&out);
	s->h[b].br.out = &out;
	s->h[b].br.stp.now = HNOW(s, b) + 500 * MS;
	stp_transmit_config(&s->h[b].br.stp, &s->h[b].br.stp.ports[2]);
	s->h[b].br.out = NULL;
	assert_int_equal(out.n, 1);
	assert_int_equal(stp_bpdu_decode(out.p[0]->data, out.p[0]->len, &bpdu), STP_BPDU_OK);
	assert_true(bpdu.config.root_id == bid(s, a));
	assert_true(bpdu.config.bridge_id == bid(s, b));
	assert_int_equal(bpdu.config.root_path_cost, 100);
	assert_int_equal(bpdu.config.port_id, 0x8002);
	assert_int_equal(bpdu.config.max_age, 6 * 256);
	assert_int_equal(bpdu.config.hello_time, 256);
	assert_int_equal(bpdu.config.forward_delay, 4 * 256);
	/* the root's info was received with age 0 at most a hello ago; +500 ms, +1 unit */
	assert_true(bpdu.config.message_age >= 128 + 1);
	assert_true(bpdu.config.message_age <= 128 + 256 + 1);
	assert_memory_equal(out.p[0]->data + 6, s->h[b].br.mac, 6);
	saw_relay = true;
	pkt_vec_free(&out);
	/* hold timer: a second one within 1 s is held back (config pending) */
	s->h[b].br.out = &out;
	stp_transmit_config(&s->h[b].br.stp, &s->h[b].br.stp.ports[2]);
	s->h[b].br.out = NULL;
	assert_int_equal(out.n, 0);
	assert_true(s->h[b].br.stp.ports[2].config_pending);
	assert_true(saw_relay);
	sim_free(s);
}

/* The 802.1D ranges and relations of the bridge times. */
static void test_parameter_ranges(void **state)
{
	struct stp_times t;

	(void)state;
	t = default_times;
	assert_null(stp_check_times(&t));
	t = short_times;
	assert_null(stp_check_times(&t));
	t = (struct stp_times){40 * SEC, 10 * SEC, 30 * SEC};
	assert_null(stp_check_times(&t));
	t = (struct stp_times){6 * SEC, 1 * SEC, 4 * SEC};
	assert_null(stp_check_times(&t));
	t = (struct stp_times){20 * SEC, 0, 15 * SEC};
	assert_non_null(stp_check_times(&t));
	t = (struct stp_times){40 * SEC, 11 * SEC, 30 * SEC};
	assert_non_null(stp_check_times(&t));
	t = (struct stp_times){5 * SEC, 1 * SEC, 15 * SEC};
	assert_non_null(stp_check_times(&t));
	t = (struct stp_times){41 * SEC, 2 * SEC, 30 * SEC};
	assert_non_null(stp_check_times(&t));
	t = (struct stp_times){6 * SEC, 1 * SEC, 3 * SEC};
	assert_non_null(stp_check_times(&t));
	t = (struct stp_times){20 * SEC, 2 * SEC, 31 * SEC};
	assert_non_null(stp_check_times(&t));
	/* 2 x (forward delay - 1) >= max age: 2 x (10 - 1) = 18 < 20 */
	t = (struct stp_times){20 * SEC, 2 * SEC, 10 * SEC};
	assert_non_null(stp_check_times(&t));
	t = (struct stp_times){18 * SEC, 2 * SEC, 10 * SEC};
	assert_null(stp_check_times(&t));
	/* max age >= 2 x (hello + 1): 2 x (4 + 1) = 10 > 8 */
	t = (struct stp_times){8 * SEC, 4 * SEC, 15 * SEC};
	assert_non_null(stp_check_times(&t));
	t = (struct stp_times){10 * SEC, 4 * SEC, 15 * SEC};
	assert_null(stp_check_times(&t));
	/* sub-second values, as the kernel allows, follow the same rules */
	t = (struct stp_times){6 * SEC, 1500 * MS, 4 * SEC};
	assert_null(stp_check_times(&t));
	t = (struct stp_times){6 * SEC, 2500 * MS, 4 * SEC};
	assert_non_null(stp_check_times(&t));
}

/* ---- times a neighbour sends: 8.10.2 ranges, 9.3.4 message age ---- */

#define U(sec) ((uint16_t)((sec)*256)) /* seconds in BPDU time units */

struct times_case {
	uint16_t message_age, max_age, hello_time, forward_delay;
	enum stp_times_check want;
	uint16_t max_age_used, hello_used, forward_delay_used; /* when not aged out */
};

/* Each time alone out of range, at 0, at the top of its field, and the message age rule. */
static void test_validate_config_times(void **state)
{
	static const struct times_case cases[] = {
		{0, U(20), U(2), U(15), STP_TIMES_OK, U(20), U(2), U(15)},
		{0, U(6), U(1), U(4), STP_TIMES_OK, U(6), U(1), U(4)},
		{0, U(40), U(10), U(30), STP_TIMES_OK, U(40), U(10), U(30)},
		/* forward delay: 0, under, over, the field's top */
		{0, U(20), U(2), 0, STP_TIMES_CLAMPED, U(20), U(2), U(4)},
		{0, U(20), U(2), U(4) - 1, STP_TIMES_CLAMPED, U(20), U(2), U(4)},
		{0, U(20), U(2), U(30) + 1, STP_TIMES_CLAMPED, U(20), U(2), U(30)},
		{0, U(20), U(2), 0xffff, STP_TIMES_CLAMPED, U(20), U(2), U(30)},
		/* hello time */
		{0, U(20), 0, U(15), STP_TIMES_CLAMPED, U(20), U(1), U(15)},
		{0, U(20), U(11), U(15), STP_TIMES_CLAMPED, U(20), U(10), U(15)},
		{0, U(20), 0xffff, U(15), STP_TIMES_CLAMPED, U(20), U(10), U(15)},
		/* max age: 0 is no information at all (message age 0 is not below it) */
		{0, 0, U(2), U(15), STP_TIMES_AGED_OUT, 0, 0, 0},
		{0, U(3), U(2), U(15), STP_TIMES_CLAMPED, U(6), U(2), U(15)},
		{0, U(41), U(2), U(15), STP_TIMES_CLAMPED, U(40), U(2), U(15)},
		{0, 0xffff, U(2), U(15), STP_TIMES_CLAMPED, U(40), U(2), U(15)},
		{0, 0xffff, 0xffff, 0xffff, STP_TIMES_CLAMPED, U(40), U(10), U(30)},
		{0, 0, 0, 0, STP_TIMES_AGED_OUT, 0, 0, 0},
		/* message age: below max age, as sent and as clamped */
		{U(20) - 1, U(20), U(2), U(15), STP_TIMES_OK, U(20), U(2), U(15)},
		{U(20), U(20), U(2), U(15), STP_TIMES_AGED_OUT, 0, 0, 0},
		{U(20) + 1, U(20), U(2), U(15), STP_TIMES_AGED_OUT, 0, 0, 0},
		{0xffff, U(20), U(2), U(15), STP_TIMES_AGED_OUT, 0, 0, 0},
		{U(30), U(100), U(2), U(15), STP_TIMES_CLAMPED, U(40), U(2), U(15)},
		{U(40), U(100), U(2), U(15), STP_TIMES_AGED_OUT, 0, 0, 0},
		{U(2), U(3), U(2), U(15), STP_TIMES_CLAMPED, U(6), U(2), U(15)},
		{U(3), U(3), U(2), U(15), STP_TIMES_AGED_OUT, 0, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct times_case *tc = &cases[i];
		struct stp_config_bpdu in = {
			.root_id = 1,
			.message_age = tc->message_age,
			.max_age = tc->max_age,
			.hello_time = tc->hello_time,
			.forward_delay = tc->forward_delay,
		};
		struct stp_config_bpdu out;
		enum stp_times_check got = stp_validate_config_times(&in, &out);

		if (got != tc->want) {
			print_error("case %zu: got %d, want %d\n", i, got, tc->want);
			fail();
		}
		if (got == STP_TIMES_AGED_OUT)
			continue;
		assert_int_equal(out.max_age, tc->max_age_used);
		assert_int_equal(out.hello_time, tc->hello_used);
		assert_int_equal(out.forward_delay, tc->forward_delay_used);
		assert_int_equal(out.message_age, tc->message_age);
		assert_true(out.root_id == 1);
		/* in place works too */
		assert_int_equal(stp_validate_config_times(&in, &in), got);
		assert_int_equal(in.max_age, out.max_age);
		assert_int_equal(in.hello_time, out.hello_time);
		assert_int_equal(in.forward_delay, out.forward_delay);
	}
}

struct lone {
	struct pkt_pool pool;
	struct bridge br;
	uint64_t now;
};

/* One bridge (priority 0x8000), two enabled STP ports, nobody else. */
static struct lone *lone_new(void)
{
	struct lone *l = calloc(1, sizeof(*l));
	struct br_config cfg;
	struct pkt_vec out;

	assert_non_null(l);
	assert_true(pkt_pool_init(&l->pool, 64, 320));
	br_config_default(&cfg);
	cfg.protocol = BR_PROTO_STP;
	cfg.have_mac = true;
	memcpy(cfg.mac, (const uint8_t[6]){0x02, 0, 0, 0, 0, 0x80}, 6);
	cfg.pool = &l->pool;
	l->now = 50 * SEC;
	assert_int_equal(br_init(&l->br, &cfg, l->now), 0);
	pkt_vec_init(&out);
	for (int i = 1; i <= 2; i++) {
		struct br_port_config pc;

		br_port_config_default(&pc, i == 1 ? "w1" : "w2");
		assert_int_equal(br_add_port(&l->br, &pc), i);
		assert_int_equal(br_port_enable(&l->br, (uint32_t)i, l->now, &out), 0);
	}
	pkt_vec_free(&out);
	return l;
}

static void lone_free(struct lone *l)
{
	br_destroy(&l->br);
	assert_int_equal(l->pool.nfree, l->pool.count);
	pkt_pool_destroy(&l->pool);
	free(l);
}

/* A configuration BPDU from a better root (priority 0x1000) arrives on port 1. */
static void lone_rx(struct lone *l, const struct stp_config_bpdu *c)
{
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x10};
	struct pkt_vec in, out;
	struct pkt *p = pkt_alloc(&l->pool);
	uint8_t *d;

	assert_non_null(p);
	d = pkt_put(p, STP_FRAME_MAX);
	assert_non_null(d);
	p->len = (uint32_t)stp_bpdu_encode_config(d, src, c);
	pkt_vec_init(&in);
	pkt_vec_init(&out);
	pkt_vec_add(&in, p);
	assert_int_equal(br_input(&l->br, 1, &in, l->now, &out), 1);
	pkt_vec_free(&out);
}

static struct stp_config_bpdu root_bpdu(uint16_t message_age, uint16_t max_age, uint16_t hello,
					uint16_t forward_delay)
{
	static const uint8_t root_mac[6] = {0x02, 0, 0, 0, 0, 0x10};

	return (struct stp_config_bpdu){
		.root_id = stp_make_bridge_id(0x1000, root_mac),
		.bridge_id = stp_make_bridge_id(0x1000, root_mac),
		.port_id = 0x8001,
		.message_age = message_age,
		.max_age = max_age,
		.hello_time = hello,
		.forward_delay = forward_delay,
	};
}

/*
 * A root that asks for no forward delay and signals a topology change: the
 * times the bridge adopts are clamped (so ports still listen and learn, and the
 * FDB ages by 4 s, never by 0), and each such BPDU is counted.
 */
static void test_zero_times_from_the_wire(void **state)
{
	struct lone *l = lone_new();
	struct stp_config_bpdu c = root_bpdu(0, U(20), 0, 0);
	const struct stp_port *p1;

	(void)state;
	c.topology_change = true;
	lone_rx(l, &c);
	p1 = br_get_stp_port(&l->br, 1);
	assert_int_equal(l->br.stp.root_port, 1);
	assert_true(l->br.stp.forward_delay == 4 * SEC);
	assert_true(l->br.stp.hello_time == 1 * SEC);
	assert_true(l->br.stp.max_age == 20 * SEC);
	assert_true(l->br.stp.topology_change);
	assert_true(br_current_ageing_time(&l->br) == 4 * SEC);
	assert_int_equal(p1->cnt.rx_clamped, 1);
	assert_int_equal(p1->cnt.rx_aged_out, 0);
	/*
	 * The root port, listening since it was enabled, does not forward at once: it
	 * learns for the (clamped) forward delay first.
	 */
	assert_int_equal(p1->state, STP_LISTENING);
	{
		struct pkt_vec out;

		pkt_vec_init(&out);
		l->now = stp_timer_deadline(&p1->forward_delay_timer);
		br_tick(&l->br, l->now, &out);
		assert_int_equal(p1->state, STP_LEARNING);
		assert_true(stp_timer_remaining(&p1->forward_delay_timer, l->now) == 4 * SEC);
		l->now += 4 * SEC;
		br_tick(&l->br, l->now, &out);
		assert_int_equal(p1->state, STP_FORWARDING);
		pkt_vec_free(&out);
	}
	/* the bridge's own times are untouched */
	assert_true(l->br.stp.bridge_forward_delay == 15 * SEC);
	lone_free(l);
}

/* Huge times: the message age timer runs for 40 s, not 256; forward delay is 30 s. */
static void test_huge_times_from_the_wire(void **state)
{
	struct lone *l = lone_new();
	struct stp_config_bpdu c = root_bpdu(0, 0xffff, 0xffff, 0xffff);
	const struct stp_port *p1;

	(void)state;
	lone_rx(l, &c);
	p1 = br_get_stp_port(&l->br, 1);
	assert_int_equal(l->br.stp.root_port, 1);
	assert_true(l->br.stp.max_age == 40 * SEC);
	assert_true(l->br.stp.hello_time == 10 * SEC);
	assert_true(l->br.stp.forward_delay == 30 * SEC);
	assert_true(stp_timer_remaining(&p1->message_age_timer, l->now) == 40 * SEC);
	assert_int_equal(p1->cnt.rx_clamped, 1);
	/* silence for 40 s: the root's information is gone, this bridge is root again */
	l->now += 40 * SEC;
	{
		struct pkt_vec out;

		pkt_vec_init(&out);
		br_tick(&l->br, l->now, &out);
		pkt_vec_free(&out);
	}
	assert_true(stp_is_root_bridge(&l->br.stp));
	lone_free(l);
}

/* 9.3.4: message age not below max age (as sent, or as clamped) is discarded, counted. */
static void test_message_age_discarded(void **state)
{
	static const struct {
		uint16_t message_age, max_age;
	} aged[] = {
		{U(20), U(20)}, /* equal: the kernel would take it */
		{U(21), U(20)},
		{0, 0},
		{U(45), U(100)}, /* below what was sent, not below the 40 s it is clamped to */
	};
	struct lone *l = lone_new();
	const struct stp_port *p1 = br_get_stp_port(&l->br, 1);

	(void)state;
	for (size_t i = 0; i < sizeof(aged) / sizeof(aged[0]); i++) {
		struct stp_config_bpdu c =
			root_bpdu(aged[i].message_age, aged[i].max_age, U(2), U(15));

		lone_rx(l, &c);
		assert_true(stp_is_root_bridge(&l->br.stp));
		assert_int_equal(p1->cnt.rx_aged_out, i + 1);
		assert_int_equal(p1->cnt.rx_config, 0);
	}
	assert_int_equal(l->br.ports[1].cnt.rx_bpdu, 4);
	/* one unit younger is taken */
	{
		struct stp_config_bpdu c = root_bpdu(U(20) - 1, U(20), U(2), U(15));

		lone_rx(l, &c);
		assert_false(stp_is_root_bridge(&l->br.stp));
		assert_int_equal(p1->cnt.rx_config, 1);
		assert_int_equal(p1->cnt.rx_clamped, 0);
	}
	lone_free(l);
}

/* Identifiers: bridge id = priority.MAC, port id = priority << 10 | number (kernel). */
static void test_identifiers(void **state)
{
	static const uint8_t mac[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
	char buf[18];

	(void)state;
	assert_true(stp_make_bridge_id(0x8000, mac) == 0x80000242ac110002ULL);
	assert_true(stp_make_bridge_id(0, mac) == 0x00000242ac110002ULL);
	assert_int_equal(stp_make_port_id(32, 1), 0x8001);
	assert_int_equal(stp_make_port_id(5, 2), 0x1402); /* as `bridge link set priority 5` */
	assert_int_equal(stp_make_port_id(63, 63), 0xfc3f);
	br_format_bridge_id(0x80000242ac110002ULL, buf);
	assert_string_equal(buf, "8000.0242ac110002");
}

/* A port disabled and enabled at run time, and management changes (8.8.4-8.8.6). */
static void test_management(void **state)
{
	struct sim *s = sim_new(&short_times);
	struct expect x;
	int a, b, c;
	struct pkt_vec out;

	(void)state;
	a = sim_add_host(s, "a", 32768);
	b = sim_add_host(s, "b", 32768);
	c = sim_add_host(s, "c", 32768);
	sim_add_link(s, a, b, 100, 100, 32, 32);
	sim_add_link(s, b, c, 100, 100, 32, 32);
	sim_add_link(s, c, a, 100, 100, 32, 32);
	converge_and_check(s, &x);
	/* make the current non-root with the highest id root by priority */
	{
		int want = a;

		for (int h = 0; h < 3; h++)
			if (bid(s, h) > bid(s, want))
				want = h;
		pkt_vec_init(&out);
		assert_int_equal(br_set_priority(&s->h[want].br, 100, HNOW(s, want), &out), 0);
		sim_emit(s, want, &out);
		assert_true(reconverge(s, &x, s->now) < 2 * short_times.forward_delay + 2 * SEC);
		assert_true(stp_is_root_bridge(&s->h[want].br.stp));
		assert_int_equal(br_set_priority(&s->h[want].br, 70000, s->now, &out), -ERANGE);
	}
	/* path cost: b's expensive root port makes it go around */
	for (int h = 0; h < 3; h++) {
		int rp = s->h[h].br.stp.root_port;

		if (stp_is_root_bridge(&s->h[h].br.stp))
			continue;
		pkt_vec_init(&out);
		assert_int_equal(
			br_set_port_cost(&s->h[h].br, (uint32_t)rp, 1000, HNOW(s, h), &out), 0);
		sim_emit(s, h, &out);
		for (int i = 0; i < s->nl; i++) {
			if (s->l[i].a == h && s->l[i].pa == rp)
				s->l[i].cost_a = 1000;
			if (s->l[i].b == h && s->l[i].pb == rp)
				s->l[i].cost_b = 1000;
		}
		assert_int_not_equal(s->h[h].br.stp.root_port, rp);
		assert_int_equal(br_set_port_cost(&s->h[h].br, 1, 0, s->now, &out), -ERANGE);
		assert_int_equal(br_set_port_cost(&s->h[h].br, 1, 65536, s->now, &out), -ERANGE);
		assert_int_equal(br_set_port_priority(&s->h[h].br, 1, 64, s->now, &out), -ERANGE);
		break;
	}
	reconverge(s, &x, s->now);
	check_connectivity(s, &x);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identifiers),
		cmocka_unit_test(test_parameter_ranges),
		cmocka_unit_test(test_validate_config_times),
		cmocka_unit_test(test_zero_times_from_the_wire),
		cmocka_unit_test(test_huge_times_from_the_wire),
		cmocka_unit_test(test_message_age_discarded),
		cmocka_unit_test(test_five_hosts_default_priorities),
		cmocka_unit_test(test_five_hosts_each_root),
		cmocka_unit_test(test_five_hosts_random_costs),
		cmocka_unit_test(test_parallel_links_port_priority),
		cmocka_unit_test(test_root_dies),
		cmocka_unit_test(test_non_root_dies),
		cmocka_unit_test(test_root_dies_default_timers),
		cmocka_unit_test(test_tcn_reaches_root_and_fdbs_age_fast),
		cmocka_unit_test(test_bpdu_contents),
		cmocka_unit_test(test_management),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
