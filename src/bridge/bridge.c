/* SPDX-License-Identifier: MIT */
#include "bridge.h"

#include <errno.h>
#include <string.h>

#include "crypto/blake2s.h"

#define ETH_HLEN   14
#define NS_PER_SEC 1000000000ULL

#define BR_DROP_NAME_(id, name) [BR_DROP_##id] = name,
static const char *const br_drop_names[BR_DROP_MAX] = {BR_DROP_REASONS(BR_DROP_NAME_)};
#undef BR_DROP_NAME_

const char *br_drop_name(enum br_drop_reason r)
{
	return (unsigned)r < BR_DROP_MAX ? br_drop_names[r] : NULL;
}

void br_config_default(struct br_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->stp = true;
	cfg->protocol = BR_PROTO_RSTP;
	cfg->priority = STP_DEFAULT_PRIORITY;
	cfg->hello_time = 2 * NS_PER_SEC;
	cfg->max_age = 20 * NS_PER_SEC;
	cfg->forward_delay = 15 * NS_PER_SEC;
	cfg->ageing_time = 300 * NS_PER_SEC;
	cfg->fdb_max = FDB_DEFAULT_MAX;
	cfg->max_learned = BR_DEFAULT_MAX_LEARNED;
}

void br_port_config_default(struct br_port_config *pc, const char *name)
{
	memset(pc, 0, sizeof(*pc));
	if (name) {
		strncpy(pc->name, name, BR_IFNAMSIZ - 1);
		pc->name[BR_IFNAMSIZ - 1] = 0;
	}
	pc->path_cost = STP_DEFAULT_PATH_COST;
	pc->priority = STP_DEFAULT_PORT_PRIORITY;
	pc->point_to_point = true;
}

static bool is_zero(const uint8_t *b, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

static bool is_multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

/* 01:80:c2:00:00:00 .. 0f: 802.1D reserved, never relayed by a bridge. */
static bool is_link_local(const uint8_t *mac)
{
	return mac[0] == 0x01 && mac[1] == 0x80 && mac[2] == 0xc2 && mac[3] == 0 && mac[4] == 0 &&
	       (mac[5] & 0xf0) == 0;
}

int br_config_check(const struct br_config *cfg, const char **why)
{
	struct stp_times t = {cfg->max_age, cfg->hello_time, cfg->forward_delay};
	const char *err = stp_check_times(&t);

	if (!err && (cfg->ageing_time < 10 * NS_PER_SEC || cfg->ageing_time > 1000000 * NS_PER_SEC))
		err = "AgeingTime must be 10..1000000 s";
	if (!err && cfg->fdb_max > FDB_MAX_ENTRIES)
		err = "FDB size too large";
	if (!err && cfg->max_learned > FDB_MAX_ENTRIES)
		err = "MaxLearned too large";
	if (!err && cfg->protocol != BR_PROTO_RSTP && cfg->protocol != BR_PROTO_STP)
		err = "Protocol must be rstp or stp";
	if (!err && cfg->have_mac && (is_zero(cfg->mac, 6) || is_multicast(cfg->mac)))
		err = "bridge MAC must be a unicast, non-zero address";
	if (!err && !cfg->have_mac && is_zero(cfg->pubkey, 32))
		err = "bridge needs a MAC or a public key";
	if (why)
		*why = err;
	return err ? -EINVAL : 0;
}

void br_mac_from_pubkey(const uint8_t pubkey[32], uint8_t mac[6])
{
	static const char label[] = "vwire bridge id";
	struct blake2s_state s;
	uint8_t h[BLAKE2S_HASH_SIZE];

	blake2s_init(&s, sizeof(h));
	blake2s_update(&s, label, sizeof(label) - 1);
	blake2s_update(&s, pubkey, 32);
	blake2s_final(&s, h);
	memcpy(mac, h, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

static void count_drop(struct bridge *br, uint16_t port, enum br_drop_reason r)
{
	br->ports[port].cnt.drop[r]++;
}

static void drop(struct bridge *br, uint16_t port, struct pkt *p, enum br_drop_reason r)
{
	count_drop(br, port, r);
	pkt_free(p);
}

static void emit(struct bridge *br, struct pkt_vec *out, struct pkt *p, uint16_t port)
{
	struct br_port_counters *c = &br->ports[port].cnt;

	if (!pkt_vec_add(out, p)) {
		drop(br, port, p, BR_DROP_OUT_FULL);
		return;
	}
	p->port = port;
	c->tx_frames++;
	c->tx_bytes += p->len;
}

/* The tree hands us a BPDU for a port: frame it and queue it. */
bool br_tx_bpdu(void *ctx, uint16_t port, const struct stp_bpdu *bpdu)
{
	struct bridge *br = ctx;
	struct br_port *bp = &br->ports[port];
	struct pkt *p;
	uint8_t *d;

	if (!br->out || pkt_vec_full(br->out)) {
		count_drop(br, port, BR_DROP_OUT_FULL);
		return false;
	}
	p = br->pool ? pkt_alloc(br->pool) : NULL;
	if (!p) {
		count_drop(br, port, BR_DROP_NO_BUFFER);
		return false;
	}
	d = pkt_put(p, STP_FRAME_MAX);
	if (!d) {
		drop(br, port, p, BR_DROP_TOO_BIG);
		return false;
	}
	p->len = (uint32_t)stp_bpdu_encode(d, bp->mac, bpdu);
	bp->cnt.tx_bpdu++;
	emit(br, br->out, p, port);
	return true;
}

int br_init(struct bridge *br, const struct br_config *cfg, uint64_t now)
{
	struct stp_times t = {cfg->max_age, cfg->hello_time, cfg->forward_delay};
	struct br_port *local;
	int err = br_config_check(cfg, NULL);

	memset(br, 0, sizeof(*br));
	if (err)
		return err;
	memcpy(br->name, cfg->name, BR_IFNAMSIZ);
	br->name[BR_IFNAMSIZ - 1] = 0;
	if (cfg->have_mac)
		memcpy(br->mac, cfg->mac, 6);
	else
		br_mac_from_pubkey(cfg->pubkey, br->mac);
	if (!fdb_init(&br->fdb, cfg->fdb_max ? cfg->fdb_max : FDB_DEFAULT_MAX, cfg->hash_key))
		return -ENOMEM;
	fdb_set_max_learned(&br->fdb, cfg->max_learned);
	br->on_bpdu_guard = cfg->on_bpdu_guard;
	br->cb_ctx = cfg->cb_ctx;
	br->stp_on = cfg->stp;
	br->ageing_time = cfg->ageing_time;
	br->pool = cfg->pool;
	local = &br->ports[BR_PORT_LOCAL];
	local->in_use = true;
	local->enabled = true;
	memcpy(local->name, br->name, BR_IFNAMSIZ);
	memcpy(local->mac, br->mac, 6);
	br->nports = 1;
	br->port_end = 1;
	br_stp_init(br, cfg->protocol, cfg->stp, stp_make_bridge_id(cfg->priority, br->mac), &t,
		    now);
	return 0;
}

void br_destroy(struct bridge *br)
{
	fdb_destroy(&br->fdb);
	memset(br, 0, sizeof(*br));
}

/* Before a number is picked, so a bad config is -EINVAL even on a full bridge. */
static int br_port_config_check(const struct br_port_config *pc)
{
	if (!stp_path_cost_ok(pc->path_cost) || !stp_port_priority_ok(pc->priority))
		return -EINVAL;
	if (pc->have_mac && (is_zero(pc->mac, 6) || is_multicast(pc->mac)))
		return -EINVAL;
	return 0;
}

int br_add_port(struct bridge *br, const struct br_port_config *pc)
{
	uint16_t no;
	struct br_port *bp;
	int err = br_port_config_check(pc);

	if (err)
		return err;
	/* The lowest free number, as the kernel picks. */
	for (no = 1; no < BR_MAX_PORTS && br->ports[no].in_use; no++)
		;
	if (no == BR_MAX_PORTS)
		return -ENOSPC;
	if (!br_stp_add_port(br, no, pc->priority, pc->path_cost, pc->admin_edge,
			     pc->point_to_point))
		return -EINVAL;
	bp = &br->ports[no];
	memset(bp, 0, sizeof(*bp));
	bp->in_use = true;
	memcpy(bp->name, pc->name, BR_IFNAMSIZ);
	bp->name[BR_IFNAMSIZ - 1] = 0;
	memcpy(bp->mac, pc->have_mac ? pc->mac : br->mac, 6);
	bp->bpdu_guard = pc->bpdu_guard;
	bp->admin_edge = pc->admin_edge;
	br->nports++;
	if (no >= br->port_end)
		br->port_end = (uint16_t)(no + 1);
	return no;
}

static struct br_port *stp_port_of(struct bridge *br, uint32_t port)
{
	if (port == BR_PORT_LOCAL || port >= BR_MAX_PORTS || !br->ports[port].in_use)
		return NULL;
	return &br->ports[port];
}

int br_port_enable(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out)
{
	struct br_port *bp = stp_port_of(br, port);

	if (!bp)
		return -ENOENT;
	bp->enabled = true;
	bp->bpdu_guard_disabled = false;
	br->out = out;
	br_stp_enable_port(br, (uint16_t)port, now);
	br->out = NULL;
	return 0;
}

static int port_down(struct bridge *br, uint32_t port, uint64_t hold, uint64_t now,
		     struct pkt_vec *out)
{
	struct br_port *bp = stp_port_of(br, port);

	if (!bp)
		return -ENOENT;
	bp->enabled = false;
	br->out = out;
	if (hold)
		br_stp_neighbour_leaving(br, (uint16_t)port, hold, now);
	br_stp_disable_port(br, (uint16_t)port, now);
	br->out = NULL;
	return 0;
}

int br_port_disable(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out)
{
	return port_down(br, port, 0, now, out);
}

int br_port_goodbye(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out)
{
	return port_down(br, port, RSTP_DEPARTED_HOLD, now, out);
}

int br_port_silent(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out)
{
	return port_down(br, port, RSTP_SILENT_HOLD, now, out);
}

int br_set_port_cost(struct bridge *br, uint32_t port, uint32_t cost, uint64_t now,
		     struct pkt_vec *out)
{
	if (!stp_port_of(br, port))
		return -ENOENT;
	if (!stp_path_cost_ok(cost))
		return -ERANGE;
	br->out = out;
	br_stp_set_path_cost(br, (uint16_t)port, cost, now);
	br->out = NULL;
	return 0;
}

int br_set_port_priority(struct bridge *br, uint32_t port, uint32_t priority, uint64_t now,
			 struct pkt_vec *out)
{
	if (!stp_port_of(br, port))
		return -ENOENT;
	if (!stp_port_priority_ok(priority))
		return -ERANGE;
	br->out = out;
	br_stp_set_port_priority(br, (uint16_t)port, (uint8_t)priority, now);
	br->out = NULL;
	return 0;
}

int br_set_priority(struct bridge *br, uint32_t priority, uint64_t now, struct pkt_vec *out)
{
	if (priority > 0xffff)
		return -ERANGE;
	br->out = out;
	br_stp_set_bridge_priority(br, (uint16_t)priority, now);
	br->out = NULL;
	return 0;
}

int br_remove_port(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out)
{
	if (!stp_port_of(br, port))
		return -ENOENT;
	br->out = out;
	br_stp_remove_port(br, (uint16_t)port, now);
	br->out = NULL;
	/* Static entries too: nothing may point at a number a new port will get. */
	fdb_flush_port(&br->fdb, (uint16_t)port, true);
	memset(&br->ports[port], 0, sizeof(br->ports[port]));
	br->nports--;
	while (br->port_end > 1 && !br->ports[br->port_end - 1].in_use)
		br->port_end--;
	return 0;
}

int br_set_times(struct bridge *br, uint64_t hello_time, uint64_t max_age, uint64_t forward_delay,
		 uint64_t now, struct pkt_vec *out)
{
	struct stp_times t = {max_age, hello_time, forward_delay};

	if (stp_check_times(&t))
		return -ERANGE;
	br->out = out;
	br_stp_set_bridge_times(br, &t, now);
	br->out = NULL;
	return 0;
}

int br_set_protocol(struct bridge *br, enum br_protocol protocol, bool stp_on, uint64_t now,
		    struct pkt_vec *out)
{
	if (protocol != BR_PROTO_RSTP && protocol != BR_PROTO_STP)
		return -EINVAL;
	br->stp_on = stp_on;
	br->out = out;
	br_stp_restart(br, protocol, stp_on, now);
	br->out = NULL;
	/* Learned through a tree that is gone: the new one learns again. */
	for (uint16_t i = 1; i < br->port_end; i++)
		fdb_flush_port(&br->fdb, i, false);
	return 0;
}

int br_set_ageing(struct bridge *br, uint64_t ageing_time, uint32_t max_learned)
{
	if (ageing_time < 10 * NS_PER_SEC || ageing_time > 1000000 * NS_PER_SEC ||
	    max_learned > FDB_MAX_ENTRIES)
		return -ERANGE;
	br->ageing_time = ageing_time;
	fdb_set_max_learned(&br->fdb, max_learned);
	return 0;
}

int br_set_port_guards(struct bridge *br, uint32_t port, bool bpdu_guard, bool admin_edge,
		       uint64_t now, struct pkt_vec *out)
{
	struct br_port *bp = stp_port_of(br, port);

	if (!bp)
		return -ENOENT;
	bp->bpdu_guard = bpdu_guard;
	if (bp->admin_edge == admin_edge)
		return 0;
	bp->admin_edge = admin_edge;
	br->out = out;
	br_stp_set_port_edge(br, (uint16_t)port, admin_edge, now);
	br->out = NULL;
	return 0;
}

int br_mcheck(struct bridge *br, uint32_t port, uint64_t now, struct pkt_vec *out)
{
	bool done;

	if (!stp_port_of(br, port))
		return -ENOENT;
	br->out = out;
	done = br_stp_mcheck(br, (uint16_t)port, now);
	br->out = NULL;
	return done ? 0 : -EOPNOTSUPP;
}

int br_port_by_name(const struct bridge *br, const char *name)
{
	for (uint16_t i = 1; i < br->port_end; i++)
		if (br->ports[i].in_use && !strncmp(br->ports[i].name, name, BR_IFNAMSIZ))
			return i;
	return -ENOENT;
}

int br_fdb_add_local(struct bridge *br, const uint8_t mac[6])
{
	if (is_multicast(mac) || is_zero(mac, 6))
		return -EINVAL;
	return fdb_add_static(&br->fdb, mac, BR_PORT_LOCAL, FDB_F_LOCAL) ? 0 : -ENOSPC;
}

static enum stp_state port_state(const struct bridge *br, uint16_t port)
{
	return br_stp_port_state(br, port);
}

static bool port_forwarding(const struct bridge *br, uint16_t port)
{
	return br->ports[port].in_use && port_state(br, port) == STP_FORWARDING;
}

static struct pkt *copy_frame(struct bridge *br, const struct pkt *p, uint16_t egress)
{
	struct pkt *c = br->pool ? pkt_alloc(br->pool) : NULL;
	uint8_t *d;

	if (!c) {
		count_drop(br, egress, BR_DROP_NO_BUFFER);
		return NULL;
	}
	d = pkt_put(c, p->len);
	if (!d) {
		drop(br, egress, c, BR_DROP_TOO_BIG);
		return NULL;
	}
	memcpy(d, p->data, p->len);
	c->flags = p->flags;
	return c;
}

/* Unknown unicast, broadcast, multicast: every forwarding port but the ingress. */
static void flood(struct bridge *br, uint16_t in_port, struct pkt *p, struct pkt_vec *out)
{
	uint16_t eg[BR_MAX_PORTS];
	uint32_t n = 0;

	for (uint16_t i = 0; i < br->port_end; i++)
		if (i != in_port && port_forwarding(br, i))
			eg[n++] = i;
	if (n == 0) {
		drop(br, in_port, p, BR_DROP_NO_EGRESS);
		return;
	}
	for (uint32_t k = 0; k + 1 < n; k++) {
		struct pkt *c = copy_frame(br, p, eg[k]);

		if (c)
			emit(br, out, c, eg[k]);
	}
	emit(br, out, p, eg[n - 1]);
}

/*
 * BPDU guard: the port faces a VM, and a VM sending BPDUs is a bridge (or a
 * loop, or an attempt at the root) where none belongs. Any frame to the group
 * address counts, valid BPDU or not: a malformed one is no better. The port is
 * disabled as management would (8.8.3), once; more such frames are dropped.
 */
static void bpdu_guard(struct bridge *br, uint16_t port, struct pkt *p, uint64_t now)
{
	struct br_port *bp = &br->ports[port];

	if (!bp->bpdu_guard_disabled) {
		bp->bpdu_guard_disabled = true;
		bp->enabled = false;
		bp->cnt.bpdu_guard++;
		br_stp_disable_port(br, port, now);
		if (br->on_bpdu_guard)
			br->on_bpdu_guard(br->cb_ctx, br, port);
	}
	drop(br, port, p, BR_DROP_BPDU_GUARD);
}

static void handle_bpdu(struct bridge *br, uint16_t port, struct pkt *p, uint64_t now)
{
	struct stp_bpdu bpdu;
	enum stp_bpdu_error err;

	/* The local interface is not an STP port: whatever it sends there goes nowhere. */
	if (port == BR_PORT_LOCAL) {
		drop(br, port, p, BR_DROP_LINK_LOCAL);
		return;
	}
	err = stp_bpdu_decode(p->data, p->len, &bpdu);
	if (err != STP_BPDU_OK) {
		br->bpdu_errors[err]++;
		drop(br, port, p, BR_DROP_BPDU_INVALID);
		return;
	}
	br->ports[port].cnt.rx_bpdu++;
	br_stp_received_bpdu(br, port, &bpdu, now);
	pkt_free(p);
}

static void handle_frame(struct bridge *br, uint16_t port, struct pkt *p, uint64_t now,
			 struct pkt_vec *out)
{
	struct br_port_counters *c = &br->ports[port].cnt;
	const uint8_t *dst, *src;
	const struct fdb_entry *e;
	enum stp_state state;

	c->rx_frames++;
	c->rx_bytes += p->len;
	if (p->len < ETH_HLEN) {
		drop(br, port, p, BR_DROP_RUNT);
		return;
	}
	dst = p->data;
	src = p->data + 6;
	if (is_multicast(src) || is_zero(src, 6)) {
		drop(br, port, p, BR_DROP_BAD_SRC);
		return;
	}
	if (is_link_local(dst)) {
		if (dst[5] == 0 && br->ports[port].bpdu_guard) {
			bpdu_guard(br, port, p, now);
			return;
		}
		if (dst[5] == 0 && br->stp_on) {
			handle_bpdu(br, port, p, now);
			return;
		}
		/* Without STP the group address is flooded, so loops stay visible (kernel). */
		if (dst[5] != 0) {
			drop(br, port, p, BR_DROP_LINK_LOCAL);
			return;
		}
	}
	state = port_state(br, port);
	if (state != STP_LEARNING && state != STP_FORWARDING) {
		drop(br, port, p, BR_DROP_PORT_STATE);
		return;
	}
	switch (fdb_learn(&br->fdb, src, port, now)) {
	case FDB_PORT_LIMIT:
		c->learn_limit++;
		break;
	case FDB_FULL:
		c->learn_full++;
		break;
	default:
		break;
	}
	if (state != STP_FORWARDING) {
		drop(br, port, p, BR_DROP_PORT_STATE);
		return;
	}
	if (is_multicast(dst)) {
		flood(br, port, p, out);
		return;
	}
	e = fdb_lookup(&br->fdb, dst);
	if (!e) {
		flood(br, port, p, out);
		return;
	}
	if (e->port == port) {
		drop(br, port, p, BR_DROP_FILTERED);
		return;
	}
	if (!port_forwarding(br, e->port)) {
		drop(br, port, p, BR_DROP_EGRESS_STATE);
		return;
	}
	emit(br, out, p, e->port);
}

uint32_t br_input(struct bridge *br, uint32_t port, struct pkt_vec *in, uint64_t now,
		  struct pkt_vec *out)
{
	uint32_t i = 0;

	if (port >= BR_MAX_PORTS || !br->ports[port].in_use) {
		br->rx_bad_port += in->n;
		i = in->n;
		pkt_vec_free(in);
		return i;
	}
	br->out = out;
	for (; i < in->n; i++) {
		/* Worst case per frame: a flood to every other port, or one BPDU per port. */
		if (out->n > 0 && out->n + br->nports > PKT_VEC_MAX)
			break;
		handle_frame(br, (uint16_t)port, in->p[i], now, out);
	}
	br->out = NULL;
	memmove(&in->p[0], &in->p[i], (in->n - i) * sizeof(in->p[0]));
	in->n -= i;
	return i;
}

uint64_t br_current_ageing_time(const struct bridge *br)
{
	return br_stp_fast_ageing(br) ? br->stp.forward_delay : br->ageing_time;
}

void br_tick(struct bridge *br, uint64_t now, struct pkt_vec *out)
{
	br->out = out;
	br_stp_tick(br, now);
	br->out = NULL;
	fdb_age(&br->fdb, now, br_current_ageing_time(br));
}

uint64_t br_next_deadline(const struct bridge *br)
{
	uint64_t s = br_stp_next_deadline(br);
	uint64_t f = fdb_next_expiry(&br->fdb, br_current_ageing_time(br));

	return s < f ? s : f;
}

const struct br_port *br_get_port(const struct bridge *br, uint32_t port)
{
	if (port >= BR_MAX_PORTS || !br->ports[port].in_use)
		return NULL;
	return &br->ports[port];
}

void br_set_port_rtt(struct bridge *br, uint32_t port, uint64_t rtt_ns)
{
	if (port < BR_MAX_PORTS && br->ports[port].in_use)
		br->ports[port].rtt_ns = rtt_ns;
}

bool br_get_stp_view(const struct bridge *br, uint32_t port, struct br_stp_port_view *v)
{
	if (port == BR_PORT_LOCAL || port >= BR_MAX_PORTS || !br->ports[port].in_use)
		return false;
	return br_stp_get_port_view(br, (uint16_t)port, v);
}

const struct stp_port *br_get_stp_port(const struct bridge *br, uint32_t port)
{
	if (port >= BR_MAX_PORTS || br->protocol != BR_PROTO_STP)
		return NULL;
	return stp_get_port_const(&br->stp, (uint16_t)port);
}
