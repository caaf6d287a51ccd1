/* SPDX-License-Identifier: MIT */
/*
 * The bridge's per-frame work with 10k known MACs: an FDB learn (refresh) of
 * the source and a lookup of the destination; then whole frames through
 * br_input in batches of 64 (parse, learn, look up, forward), and the flood
 * path that copies a broadcast to four ports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bridge/bridge.h"
#include "core/byteorder.h"

#define NMACS  10000
#define NPORTS 8
#define SEC    1000000000ULL

static uint8_t macs[NMACS][6];
static volatile unsigned sink;

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void fill_macs(void)
{
	for (int i = 0; i < NMACS; i++) {
		uint64_t r = rng();

		memcpy(macs[i], &r, 6);
		macs[i][0] = (uint8_t)((macs[i][0] & 0xfe) | 0x02);
	}
}

static unsigned lookup_miss(const struct fdb *f, uint32_t n)
{
	uint8_t m[6];

	m[0] = 0x02;
	m[1] = 0xff;
	put_be32(m + 2, n);
	return fdb_lookup(f, m) != NULL;
}

static void bench_fdb(void)
{
	const uint64_t key[2] = {rng(), rng()};
	struct fdb f;
	uint64_t now = SEC;
	uint32_t i = 0;

	if (!fdb_init(&f, 16384, key))
		exit(1);
	for (int k = 0; k < NMACS; k++)
		fdb_learn(&f, macs[k], (uint16_t)(k % NPORTS), now);
	/* one frame: learn its source, look up its destination */
	BENCH("fdb learn+lookup (10k MACs)", 0, {
		const struct fdb_entry *e;

		now += 100;
		fdb_learn(&f, macs[i % NMACS], (uint16_t)(i % NPORTS), now);
		e = fdb_lookup(&f, macs[(i * 7919u + 13) % NMACS]);
		sink += e ? e->port : 0;
		i++;
	});
	BENCH("fdb lookup miss (10k MACs)", 0, { sink += lookup_miss(&f, i++); });
	fdb_destroy(&f);
}

static struct bridge br;

static void setup_bridge(struct pkt_pool *pool)
{
	struct br_config cfg;
	struct pkt_vec out;

	br_config_default(&cfg);
	cfg.stp = false;
	cfg.have_mac = true;
	memcpy(cfg.mac, (const uint8_t[6]){0x02, 0, 0, 0, 0, 1}, 6);
	cfg.fdb_max = 16384;
	cfg.pool = pool;
	cfg.hash_key[0] = rng();
	cfg.hash_key[1] = rng();
	if (br_init(&br, &cfg, SEC))
		exit(1);
	pkt_vec_init(&out);
	for (int p = 1; p <= NPORTS; p++) {
		struct br_port_config pc;

		br_port_config_default(&pc, "p");
		br_add_port(&br, &pc);
		br_port_enable(&br, (uint32_t)p, SEC, &out);
	}
	for (int k = 0; k < NMACS; k++)
		fdb_learn(&br.fdb, macs[k], (uint16_t)(1 + k % NPORTS), SEC);
}

/* 64 unicast frames between known hosts, in on one port, out to others. */
static void input_batch(struct pkt_pool *pool, uint32_t *i, uint64_t now)
{
	struct pkt_vec in, out;

	pkt_vec_init(&in);
	pkt_vec_init(&out);
	for (int k = 0; k < 64; k++) {
		struct pkt *p = pkt_alloc(pool);
		uint8_t *d = pkt_put(p, 64);
		uint32_t src, dst;

		/* a source that lives on port 1, a destination on another port */
		do
			src = (*i)++ * 2654435761u % NMACS;
		while (src % NPORTS != 0);
		do
			dst = ((*i)++ * 40503u + 7) % NMACS;
		while (dst % NPORTS == 0);
		memcpy(d, macs[dst], 6);
		memcpy(d + 6, macs[src], 6);
		put_be16(d + 12, 0x0800);
		pkt_vec_add(&in, p);
	}
	while (in.n) {
		br_input(&br, 1, &in, now, &out);
		sink += out.n;
		pkt_vec_free(&out);
	}
}

static void bench_input(struct pkt_pool *pool)
{
	uint64_t now = 2 * SEC, batches = 0, t0 = bench_now_ns(), t;
	uint32_t i = 0;

	do {
		for (int k = 0; k < 256; k++, batches++)
			input_batch(pool, &i, now += 1000);
		t = bench_now_ns() - t0;
	} while (t < BENCH_MIN_NS);
	/* includes making the frames: alloc, 64-byte write, free after output */
	bench_report("br_input unicast, batches of 64, per frame", batches * 64, t, 0);
}

static void bench_flood(struct pkt_pool *pool)
{
	struct pkt_vec in, out;
	uint64_t now = 3 * SEC;

	BENCH("br_input broadcast to 8 ports, 64-byte frames", 0, {
		struct pkt *p = pkt_alloc(pool);
		uint8_t *d = pkt_put(p, 64);

		memset(d, 0xff, 6);
		memcpy(d + 6, macs[8], 6);
		put_be16(d + 12, 0x0806);
		pkt_vec_init(&in);
		pkt_vec_init(&out);
		pkt_vec_add(&in, p);
		br_input(&br, 1, &in, now++, &out);
		sink += out.n;
		pkt_vec_free(&out);
	});
}

int main(void)
{
	struct pkt_pool pool;

	fill_macs();
	bench_fdb();
	if (!pkt_pool_init(&pool, 1024, PKT_DEFAULT_SIZE))
		return 1;
	setup_bridge(&pool);
	bench_input(&pool);
	bench_flood(&pool);
	br_destroy(&br);
	pkt_pool_destroy(&pool);
	return 0;
}
