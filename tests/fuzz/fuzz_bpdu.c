/* SPDX-License-Identifier: MIT */
/*
 * BPDU parsing feeding the spanning tree state machines.
 *
 * 1. The whole input as one frame: whatever stp_bpdu_decode accepts must
 *    encode and decode to the same BPDU.
 * 2. The first byte chooses the tree the bridge (bridge.c) runs: bit 0 set
 *    RSTP, clear 802.1D (`[Bridge] Protocol`). The rest is a script for a
 *    bridge with three ports (hello 1, max age 6, forward delay 4): records of
 *      ctl(1) len(1) bytes(len)
 *    ctl bits 0-1: port (0 = local), bit 2: wrap the bytes as a BPDU (group
 *    address, 802.3 length, LLC 42 42 03 in front, so the fuzzer works on the
 *    BPDU itself), bit 3: toggle the port (enable/disable), bits 4-7: advance
 *    the clock by that many 250 ms steps, running the timers on the way.
 *    After every step the bridge must be consistent, its times within the
 *    802.1D ranges whatever the BPDUs said, deadlines must move on, and at the
 *    end every buffer must be back in the pool.
 *    The same script drives an RSTP bridge (rstp.c) with three ports: every
 *    frame that decodes as a BPDU is handed to it on the same port, at the same
 *    time. After every step: one root port at most, and it has received
 *    information; no alternate, backup or disabled port learns or forwards; the
 *    times in use are within the ranges; the machines settle; every BPDU it
 *    sends encodes and decodes to itself.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge.h"
#include "bridge/rstp.h"
#include "core/byteorder.h"

#define SEC 1000000000ULL
#define MS  1000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const uint8_t *data, size_t size)
{
	struct stp_bpdu a, b;
	uint8_t buf[STP_FRAME_MAX];

	if (stp_bpdu_decode(data, size, &a) != STP_BPDU_OK)
		return;
	stp_bpdu_encode(buf, data + 6, &a);
	if (stp_bpdu_decode(buf, sizeof(buf), &b) != STP_BPDU_OK)
		abort();
	if (a.type != b.type)
		abort();
	if (a.type == STP_BPDU_TYPE_CONFIG && memcmp(&a.config, &b.config, sizeof(a.config)) != 0)
		abort();
}

/* A role whose port must neither learn nor forward. */
static bool blocked_role(const char *role)
{
	return !strcmp(role, "blocked") || !strcmp(role, "alternate") || !strcmp(role, "backup") ||
	       !strcmp(role, "disabled");
}

/* What the bridge shows of its tree (showstp's view), whichever protocol runs. */
static void check_bridge(const struct bridge *br, const struct pkt_vec *out, enum br_protocol proto)
{
	struct br_stp_view v;
	struct br_stp_port_view pv;

	for (uint32_t i = 0; i < out->n; i++)
		if (out->p[i]->port >= BR_MAX_PORTS || !br->ports[out->p[i]->port].in_use)
			abort();
	br_stp_get_view(br, &v);
	if (v.protocol != proto || !v.enabled || v.is_root != (v.root_port == 0))
		abort();
	if (v.root_port == 0) {
		if (v.designated_root != v.bridge_id || v.root_path_cost != 0)
			abort();
	} else if (!br_stp_get_port_view(br, v.root_port, &pv) || pv.state == STP_DISABLED ||
		   v.designated_root >= v.bridge_id) {
		abort();
	}
	for (uint16_t i = 1; i <= 3; i++) {
		if (!br_stp_get_port_view(br, i, &pv))
			abort();
		if ((unsigned)pv.state > STP_BLOCKING)
			abort();
		/* a disabled port never forwards, a blocked one never learns */
		if ((pv.state == STP_FORWARDING || pv.state == STP_LEARNING) &&
		    blocked_role(pv.role))
			abort();
		if (!strcmp(pv.role, "root") != (i == v.root_port))
			abort();
	}
	if (br->fdb.count > br->fdb.cap)
		abort();
	/* whatever the wire said, the times in use are 802.1D's (8.10.2) and ageing never stops */
	if (v.max_age < 6 * SEC || v.max_age > 40 * SEC || v.hello_time < 1 * SEC ||
	    v.hello_time > 10 * SEC || v.forward_delay < 4 * SEC || v.forward_delay > 30 * SEC)
		abort();
	if (br_current_ageing_time(br) < 4 * SEC)
		abort();
}

/* Every BPDU the RSTP bridge sends survives the wire format. */
static bool rstp_tx(void *ctx, uint16_t port, const struct stp_bpdu *b)
{
	uint8_t frame[STP_FRAME_MAX];
	struct stp_bpdu back;

	(void)ctx;
	if (port < 1 || port > 3)
		abort();
	stp_bpdu_encode(frame, (const uint8_t[6]){0x02, 0, 0, 0, 0, 9}, b);
	if (stp_bpdu_decode(frame, sizeof(frame), &back) != STP_BPDU_OK || back.type != b->type)
		abort();
	if (b->type != STP_BPDU_TYPE_TCN && memcmp(&back.config, &b->config, sizeof(b->config)))
		abort();
	return true;
}

static bool times_in_range(const struct rstp_times *t)
{
	return t->max_age >= 6 && t->max_age <= 40 && t->hello_time >= 1 && t->hello_time <= 10 &&
	       t->forward_delay >= 4 && t->forward_delay <= 30;
}

static void check_rstp(const struct rstp_bridge *r, uint64_t now)
{
	int roots = 0;

	if (r->run_limit || rstp_next_deadline(r) <= now)
		abort();
	if (!times_in_range(&r->root_times))
		abort();
	for (uint16_t i = 1; i <= 3; i++) {
		const struct rstp_port *p = rstp_get_port_const(r, i);
		bool blocked = p->role == RSTP_ROLE_ALTERNATE || p->role == RSTP_ROLE_BACKUP ||
			       p->role == RSTP_ROLE_DISABLED;

		if (p->role == RSTP_ROLE_ROOT) {
			roots++;
			if (r->root_port != i || p->info_is != RSTP_INFO_RECEIVED ||
			    !p->port_enabled)
				abort();
		}
		if (blocked && (p->learning || p->forwarding))
			abort();
		if (!p->port_enabled &&
		    (p->role != RSTP_ROLE_DISABLED || rstp_port_state(p) != STP_DISABLED))
			abort();
		if (!times_in_range(&p->designated_times))
			abort();
	}
	if (roots > 1 || (roots == 0) != (r->root_port == 0))
		abort();
	if (rstp_is_root_bridge(r) != (r->root_port == 0))
		abort();
}

static void rstp_input(struct rstp_bridge *r, uint32_t port, const uint8_t *frame, size_t len,
		       uint64_t now)
{
	struct stp_bpdu b;

	if (port == 0 || stp_bpdu_decode(frame, len, &b) != STP_BPDU_OK)
		return;
	rstp_received_bpdu(r, (uint16_t)port, &b, now);
	check_rstp(r, now);
}

static void run(struct bridge *br, struct rstp_bridge *r, const uint8_t *data, size_t size,
		struct pkt_pool *pool, enum br_protocol proto)
{
	uint64_t now = 10 * SEC;
	bool up[4] = {true, true, true, true};
	struct pkt_vec in, out;
	size_t off = 0;

	pkt_vec_init(&out);
	for (uint32_t port = 1; port <= 3; port++) {
		br_port_enable(br, port, now, &out);
		rstp_enable_port(r, (uint16_t)port, now);
	}
	pkt_vec_free(&out);
	check_rstp(r, now);
	while (off + 2 <= size) {
		uint8_t ctl = data[off], len = data[off + 1];
		uint32_t port = ctl & 3;
		struct pkt *p;
		uint8_t *d;

		off += 2;
		if (len > size - off)
			len = (uint8_t)(size - off);
		/* time passes, timers run at each deadline on the way */
		for (uint64_t until = now + (ctl >> 4) * 250 * MS; now < until;) {
			uint64_t next = br_next_deadline(br);

			if (rstp_next_deadline(r) < next)
				next = rstp_next_deadline(r);
			now = next < until ? (next > now ? next : now) : until;
			br_tick(br, now, &out);
			check_bridge(br, &out, proto);
			pkt_vec_free(&out);
			if (br_next_deadline(br) <= now)
				abort();
			rstp_tick(r, now);
			check_rstp(r, now);
		}
		if ((ctl & 8) && port) {
			up[port] = !up[port];
			if (up[port]) {
				br_port_enable(br, port, now, &out);
				rstp_enable_port(r, (uint16_t)port, now);
			} else {
				/* an odd time step: the neighbour said goodbye first */
				if (ctl & 0x10) {
					br_port_goodbye(br, port, now, &out);
					rstp_neighbour_leaving(r, (uint16_t)port,
							       RSTP_DEPARTED_HOLD, now);
				} else {
					br_port_disable(br, port, now, &out);
				}
				rstp_disable_port(r, (uint16_t)port, now);
			}
			check_bridge(br, &out, proto);
			check_rstp(r, now);
			pkt_vec_free(&out);
		}
		p = pkt_alloc(pool);
		if (!p)
			abort(); /* every buffer is returned after each step */
		if (ctl & 4) {
			d = pkt_put(p, 17 + len);
			if (!d)
				abort();
			memcpy(d, stp_group_address, 6);
			memcpy(d + 6, (const uint8_t[6]){0x02, 0, 0, 0, 0, (uint8_t)(port + 1)}, 6);
			put_be16(d + 12, (uint16_t)(3 + len));
			d[14] = d[15] = STP_LLC_SAP;
			d[16] = STP_LLC_UI;
			memcpy(d + 17, data + off, len);
		} else {
			d = pkt_put(p, len);
			if (!d)
				abort();
			memcpy(d, data + off, len);
		}
		off += len;
		rstp_input(r, port, p->data, p->len, now);
		pkt_vec_init(&in);
		pkt_vec_add(&in, p);
		while (in.n) {
			br_input(br, port, &in, now, &out);
			check_bridge(br, &out, proto);
			pkt_vec_free(&out);
		}
		if (pool->nfree != pool->count)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = {1, 2, 3};
	static const struct rstp_callbacks cb = {rstp_tx, NULL, NULL};
	struct br_config cfg;
	struct bridge *br;
	struct rstp_bridge *r;
	struct pkt_pool pool;
	enum br_protocol proto;

	check_round_trip(data, size);
	if (size < 1 || size > 4096)
		return 0;
	proto = data[0] & 1 ? BR_PROTO_RSTP : BR_PROTO_STP;
	br = calloc(1, sizeof(*br));
	r = calloc(1, sizeof(*r));
	if (!br || !r || !pkt_pool_init(&pool, 128, 512))
		abort();
	br_config_default(&cfg);
	memcpy(cfg.pubkey, key, sizeof(key));
	cfg.hello_time = 1 * SEC;
	cfg.max_age = 6 * SEC;
	cfg.forward_delay = 4 * SEC;
	cfg.fdb_max = 32;
	cfg.pool = &pool;
	cfg.protocol = proto;
	if (br_init(br, &cfg, 10 * SEC) != 0)
		abort();
	for (int i = 0; i < 3; i++) {
		struct br_port_config pc;

		br_port_config_default(&pc, "p");
		pc.path_cost = (uint32_t)(10 + 40 * i);
		if (br_add_port(br, &pc) != i + 1)
			abort();
	}
	{
		const struct stp_times t = {6 * SEC, 1 * SEC, 4 * SEC};

		if (!rstp_init(r, stp_make_bridge_id(0x8000, (const uint8_t[6]){2, 0, 0, 0, 0, 7}),
			       &t, 10 * SEC, &cb, NULL))
			abort();
		for (uint16_t i = 1; i <= 3; i++)
			if (!rstp_add_port(r, i, STP_DEFAULT_PORT_PRIORITY,
					   (uint32_t)(10 + 40 * (i - 1))))
				abort();
	}
	run(br, r, data + 1, size - 1, &pool, proto);
	br_destroy(br);
	free(br);
	free(r);
	if (pool.nfree != pool.count)
		abort();
	pkt_pool_destroy(&pool);
	return 0;
}
