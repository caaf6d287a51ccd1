/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing lookup with 100k random prefixes per family, listing and
 * removing every peer of a large device, the data replay window in and out of
 * order, and the handshake rate limiter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench.h"
#include "tunnel/allowedips.h"
#include "tunnel/ratelimiter.h"
#include "tunnel/replay.h"

#define NPREFIX	  100000
#define NPROBE	  (1 << 16)
#define NPEERS	  256
#define REJECT_AM (UINT64_MAX - (1ULL << 13))

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static int peers[NPEERS];
static uint8_t prefixes[NPREFIX][16];
static uint8_t probes[NPROBE][16];
static void *volatile sink;
static volatile unsigned int sink_count;

/*
 * Prefix lengths spread like a routing table: v4 mostly /16../32, v6 mostly
 * /32../64 and /128. Half of the probes fall inside a stored prefix.
 */
static void fill(struct wg_allowedips *t, uint8_t family, unsigned int nprefix)
{
	unsigned int len = family == AF_INET ? 4 : 16;

	for (unsigned int i = 0; i < nprefix; i++) {
		uint8_t cidr;

		for (unsigned int b = 0; b < len; b++)
			prefixes[i][b] = (uint8_t)rng();
		if (family == AF_INET)
			cidr = (uint8_t)(16 + rng() % 17);
		else
			cidr = rng() % 4 == 0 ? 128 : (uint8_t)(32 + rng() % 33);
		if (wg_allowedips_insert(t, family, prefixes[i], cidr, &peers[rng() % NPEERS])) {
			fprintf(stderr, "insert failed\n");
			exit(1);
		}
	}
	for (unsigned int i = 0; i < NPROBE; i++) {
		for (unsigned int b = 0; b < len; b++)
			probes[i][b] = (uint8_t)rng();
		if (i % 2)
			memcpy(probes[i], prefixes[rng() % nprefix], len / 2);
	}
}

static void bench_lookup(uint8_t family, unsigned int nprefix, const char *name)
{
	struct wg_allowedips t;
	unsigned int i = 0, hits = 0;
	uint64_t t0;

	wg_allowedips_init(&t);
	t0 = bench_now_ns();
	fill(&t, family, nprefix);
	printf("# %s: %u prefixes, %zu nodes, insert %.0f ns/prefix\n", name, nprefix, t.nodes,
	       (double)(bench_now_ns() - t0) / nprefix);
	BENCH(name, 0, {
		void *p = wg_allowedips_lookup(&t, family, probes[i++ & (NPROBE - 1)]);
		hits += p != NULL;
		sink = p;
	});
	sink_count = hits;
	wg_allowedips_free(&t);
}

static void list_cb(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr)
{
	(void)family;
	(void)addr;
	*(unsigned int *)ctx += cidr;
}

/*
 * What a control answer does (wg show dump, vwirectl show): every peer's
 * prefixes, one peer at a time. Each peer owns a /32 and a /128, as in the
 * large-device net tests; then the peers are removed one by one.
 */
static void bench_per_peer(unsigned int npeers)
{
	static char owner[20000];
	struct wg_allowedips t;
	unsigned int sum = 0;
	char name[96];
	uint64_t t0;

	if (npeers > sizeof(owner))
		exit(1);
	wg_allowedips_init(&t);
	for (unsigned int i = 0; i < npeers; i++) {
		uint8_t a4[4] = {10, (uint8_t)(100 + i / 65536), (uint8_t)(i / 256), (uint8_t)i};
		uint8_t a6[16] = {0xfd, 0x99};

		a6[14] = (uint8_t)(i >> 8);
		a6[15] = (uint8_t)i;
		if (wg_allowedips_insert(&t, AF_INET, a4, 32, &owner[i]) ||
		    wg_allowedips_insert(&t, AF_INET6, a6, 128, &owner[i])) {
			fprintf(stderr, "insert failed\n");
			exit(1);
		}
	}
	snprintf(name, sizeof(name), "allowedips list all %u peers", npeers);
	BENCH(name, 0, {
		for (unsigned int i = 0; i < npeers; i++)
			wg_allowedips_foreach(&t, &owner[i], list_cb, &sum);
	});
	snprintf(name, sizeof(name), "allowedips count all %u peers", npeers);
	BENCH(name, 0, {
		for (unsigned int i = 0; i < npeers; i++)
			sum += (unsigned int)wg_allowedips_count(&t, &owner[i]);
	});
	t0 = bench_now_ns();
	for (unsigned int i = 0; i < npeers; i++)
		wg_allowedips_remove_by_peer(&t, &owner[i]);
	bench_report("allowedips remove_by_peer, all peers", 1, bench_now_ns() - t0, 0);
	sink_count = sum + (unsigned int)t.nodes;
	wg_allowedips_free(&t);
}

static void bench_replay(void)
{
	static struct wg_replay r;
	uint64_t c = 0;
	unsigned int ok = 0;

	wg_replay_init(&r);
	BENCH("replay check, in order", 0, { ok += wg_replay_check(&r, c++, REJECT_AM); });
	/* Reversed inside blocks of 64: every packet is late but in the window. */
	wg_replay_init(&r);
	c = 0;
	BENCH("replay check, out of order (64-reversed)", 0, {
		ok += wg_replay_check(&r, c ^ 63, REJECT_AM);
		c++;
	});
	/* Jumps across words, so the window slides a word at a time. */
	wg_replay_init(&r);
	c = 0;
	BENCH("replay check, jumps of 100", 0, {
		ok += wg_replay_check(&r, c, REJECT_AM);
		c += 100;
	});
	wg_replay_init(&r);
	wg_replay_check(&r, 1000, REJECT_AM);
	BENCH("replay check, duplicate (rejected)", 0,
	      { ok += wg_replay_check(&r, 1000, REJECT_AM); });
	sink_count = ok;
}

static void bench_ratelimiter(void)
{
	struct wg_ratelimiter rl;
	struct vw_endpoint e;
	uint64_t now = 1000000000000ULL;
	unsigned int i = 0, ok = 0;

	if (wg_ratelimiter_init(&rl, 65536, rng())) {
		fprintf(stderr, "ratelimiter init failed\n");
		exit(1);
	}
	memset(&e, 0, sizeof(e));
	e.in4.sin_family = AF_INET;
	BENCH("ratelimiter allow, 50k sources", 0, {
		uint32_t a = 0x0a000000u + (i++ % 50000);
		e.in4.sin_addr.s_addr = a;
		ok += wg_ratelimiter_allow(&rl, &e, now);
		now += 1000;
	});
	sink_count = ok;
	wg_ratelimiter_free(&rl);
}

/* An argument runs one group: "lookup" or "per-peer". */
int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;

	if (!only || !strcmp(only, "lookup")) {
		bench_lookup(AF_INET, NPREFIX, "allowedips lookup v4, 100k prefixes");
		bench_lookup(AF_INET6, NPREFIX, "allowedips lookup v6, 100k prefixes");
		/* Typical configurations: a few peers, every node in cache. */
		bench_lookup(AF_INET, 1000, "allowedips lookup v4, 1k prefixes");
		bench_lookup(AF_INET6, 1000, "allowedips lookup v6, 1k prefixes");
	}
	if (!only || !strcmp(only, "per-peer")) {
		bench_per_peer(3000);
		bench_per_peer(20000);
	}
	if (!only) {
		bench_replay();
		bench_ratelimiter();
	}
	return 0;
}
