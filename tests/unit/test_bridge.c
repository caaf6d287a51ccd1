/* SPDX-License-Identifier: MIT */
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

#define SEC 1000000000ULL
#define MS  1000000ULL
#define T0  (100 * SEC)

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t br_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t tap_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0e};

struct fixture {
	struct pkt_pool pool;
	struct bridge br;
	int nports;
};

static void mac_n(uint8_t mac[6], uint32_t n)
{
	mac[0] = 0x02;
	mac[1] = 0x10;
	put_be32(mac + 2, n);
}

static struct fixture *fixture_new(bool stp, int nports, uint32_t pool_size)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct br_config cfg;
	struct pkt_vec out;

	assert_non_null(f);
	assert_true(pkt_pool_init(&f->pool, pool_size, 2048));
	br_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "br0");
	cfg.stp = stp;
	cfg.protocol = BR_PROTO_STP;
	cfg.have_mac = true;
	memcpy(cfg.mac, br_mac, 6);
	cfg.pool = &f->pool;
	cfg.hash_key[0] = 42;
	assert_int_equal(br_init(&f->br, &cfg, T0), 0);
	assert_int_equal(br_fdb_add_local(&f->br, tap_mac), 0);
	pkt_vec_init(&out);
	for (int i = 1; i <= nports; i++) {
		struct br_port_config pc;
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		br_port_config_default(&pc, name);
		assert_int_equal(br_add_port(&f->br, &pc), i);
		assert_int_equal(br_port_enable(&f->br, (uint32_t)i, T0, &out), 0);
	}
	assert_int_equal(out.n, 0); /* no BPDU before the first hello */
	f->nports = nports;
	return f;
}

static void fixture_free(struct fixture *f)
{
	br_destroy(&f->br);
	assert_int_equal(f->pool.nfree, f->pool.count);
	pkt_pool_destroy(&f->pool);
	free(f);
}

static struct pkt *frame(struct fixture *f, const uint8_t dst[6], const uint8_t src[6],
			 uint32_t len, uint8_t tag)
{
	struct pkt *p = pkt_alloc(&f->pool);
	uint8_t *d;

	assert_non_null(p);
	d = pkt_put(p, len);
	if (!d)
		abort();
	memset(d, tag, len);
	if (len >= 6)
		memcpy(d, dst, 6);
	if (len >= 12)
		memcpy(d + 6, src, 6);
	if (len >= 14)
		put_be16(d + 12, 0x0800);
	return p;
}

/* Sends one frame in on a port; returns the egress ports in out (a bitmask). */
static uint64_t send1(struct fixture *f, uint32_t port, struct pkt *p, uint64_t now,
		      struct pkt_vec *out)
{
	struct pkt_vec in;
	uint64_t mask = 0;

	pkt_vec_init(&in);
	pkt_vec_add(&in, p);
	pkt_vec_init(out);
	assert_int_equal(br_input(&f->br, port, &in, now, out), 1);
	assert_int_equal(in.n, 0);
	for (uint32_t i = 0; i < out->n; i++)
		mask |= 1ULL << out->p[i]->port;
	return mask;
}

static uint64_t send_free(struct fixture *f, uint32_t port, struct pkt *p, uint64_t now)
{
	struct pkt_vec out;
	uint64_t m = send1(f, port, p, now, &out);

	pkt_vec_free(&out);
	return m;
}

static uint64_t drops(const struct fixture *f, uint32_t port, enum br_drop_reason r)
{
	return f->br.ports[port].cnt.drop[r];
}

static int fdb_port(const struct fixture *f, const uint8_t mac[6])
{
	const struct fdb_entry *e = fdb_lookup(&f->br.fdb, mac);

	return e ? e->port : -1;
}

/* Learning, flooding of unknown unicast and broadcast, then unicast forwarding. */
static void test_learn_flood_forward(void **state)
{
	struct fixture *f = fixture_new(false, 3, 64);
	uint8_t a[6], b[6];
	struct pkt_vec out;
	uint64_t m;

	(void)state;
	mac_n(a, 1);
	mac_n(b, 2);
	/* unknown destination: every port but the ingress, the local one included */
	m = send1(f, 1, frame(f, b, a, 100, 0x11), T0, &out);
	assert_true(m == (1 << 0 | 1 << 2 | 1 << 3));
	assert_int_equal(out.n, 3);
	/* copies are separate buffers with the same bytes, and headroom for encapsulation */
	for (uint32_t i = 0; i < out.n; i++) {
		assert_int_equal(out.p[i]->len, 100);
		assert_int_equal(out.p[i]->data[50], 0x11);
		assert_memory_equal(out.p[i]->data, b, 6);
		assert_true(pkt_headroom(out.p[i]) >= PKT_HEADROOM);
		for (uint32_t k = 0; k < i; k++)
			assert_ptr_not_equal(out.p[i], out.p[k]);
	}
	pkt_vec_free(&out);
	assert_int_equal(fdb_port(f, a), 1);
	/* b answers from port 3: a is known, straight to port 1 */
	m = send_free(f, 3, frame(f, a, b, 60, 0x22), T0 + 1);
	assert_true(m == 1 << 1);
	assert_int_equal(fdb_port(f, b), 3);
	/* and back: only port 3 */
	m = send_free(f, 1, frame(f, b, a, 60, 0x33), T0 + 2);
	assert_true(m == 1 << 3);
	/* broadcast and multicast flood */
	m = send_free(f, 2, frame(f, bcast, a, 60, 0), T0 + 3);
	assert_true(m == (1 << 0 | 1 << 1 | 1 << 3));
	assert_int_equal(fdb_port(f, a), 2); /* a moved */
	{
		const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

		m = send_free(f, 0, frame(f, mc, tap_mac, 60, 0), T0 + 4);
		assert_true(m == (1 << 1 | 1 << 2 | 1 << 3));
	}
	/* to the host's own address: the local port only */
	m = send_free(f, 2, frame(f, tap_mac, a, 60, 0), T0 + 5);
	assert_true(m == 1 << 0);
	/* destination behind the ingress port: filtered */
	m = send_free(f, 2, frame(f, a, b, 60, 0), T0 + 6);
	assert_true(m == 0);
	assert_int_equal(fdb_port(f, b), 2);
	m = send_free(f, 2, frame(f, b, a, 60, 0), T0 + 7);
	assert_true(m == 0);
	assert_int_equal(drops(f, 2, BR_DROP_FILTERED), 2);
	/* counters */
	assert_int_equal(f->br.ports[1].cnt.rx_frames, 2);
	assert_int_equal(f->br.ports[1].cnt.rx_bytes, 160);
	assert_int_equal(f->br.ports[3].cnt.tx_frames, 4);
	fixture_free(f);
}

/* 01:80:c2:00:00:0x is never forwarded; with STP on :00 goes to STP, with STP off it floods. */
static void test_reserved_addresses(void **state)
{
	uint8_t a[6], ll[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
	struct fixture *f;

	(void)state;
	mac_n(a, 1);
	for (int stp = 0; stp < 2; stp++) {
		f = fixture_new(stp, 3, 64);
		for (uint8_t x = 1; x <= 0x0f; x++) {
			ll[5] = x;
			assert_true(send_free(f, 1, frame(f, ll, a, 60, 0), T0) == 0);
			assert_true(send_free(f, 0, frame(f, ll, tap_mac, 60, 0), T0) == 0);
		}
		assert_int_equal(drops(f, 1, BR_DROP_LINK_LOCAL), 15);
		assert_int_equal(drops(f, 0, BR_DROP_LINK_LOCAL), 15);
		/* 01:80:c2:00:00:10 is an ordinary multicast */
		ll[5] = 0x10;
		assert_true(send_free(f, 0, frame(f, ll, tap_mac, 60, 0), T0) ==
			    (stp ? 0 : (1 << 1 | 1 << 2 | 1 << 3)));
		ll[5] = 0;
		if (stp) {
			/* not a BPDU (Ethernet II, junk): counted, never forwarded */
			assert_true(send_free(f, 1, frame(f, ll, a, 60, 0), T0) == 0);
			assert_int_equal(drops(f, 1, BR_DROP_BPDU_INVALID), 1);
			assert_int_equal(f->br.bpdu_errors[STP_BPDU_ERR_NOT_8023], 1);
			/* from the local interface: dropped */
			assert_true(send_free(f, 0, frame(f, ll, tap_mac, 60, 0), T0) == 0);
			assert_int_equal(drops(f, 0, BR_DROP_LINK_LOCAL), 16);
		} else {
			assert_true(send_free(f, 1, frame(f, ll, a, 60, 0), T0) ==
				    (1 << 0 | 1 << 2 | 1 << 3));
		}
		fixture_free(f);
	}
}

static void test_bad_frames(void **state)
{
	struct fixture *f = fixture_new(false, 2, 64);
	uint8_t a[6], zero[6] = {0};
	struct pkt_vec in, out;

	(void)state;
	mac_n(a, 1);
	assert_true(send_free(f, 1, frame(f, a, a, 13, 0), T0) == 0);
	assert_int_equal(drops(f, 1, BR_DROP_RUNT), 1);
	assert_true(send_free(f, 1, frame(f, a, bcast, 60, 0), T0) == 0);
	assert_true(send_free(f, 1, frame(f, a, zero, 60, 0), T0) == 0);
	assert_int_equal(drops(f, 1, BR_DROP_BAD_SRC), 2);
	assert_int_equal(f->br.fdb.count, 1); /* only the local address */
	/* frames for a port that does not exist are freed and counted */
	pkt_vec_init(&in);
	pkt_vec_init(&out);
	pkt_vec_add(&in, frame(f, a, a, 60, 0));
	assert_int_equal(br_input(&f->br, 9, &in, T0, &out), 1);
	assert_int_equal(br_input(&f->br, 5000, &in, T0, &out), 0);
	assert_int_equal(f->br.rx_bad_port, 1);
	assert_int_equal(out.n, 0);
	fixture_free(f);
}

/* No buffer for a copy: that egress port counts the drop, the others still get theirs. */
static void test_pool_exhaustion(void **state)
{
	struct fixture *f = fixture_new(false, 4, 3);
	uint8_t a[6];
	struct pkt_vec out;
	uint64_t m;
	uint64_t nobuf = 0;

	(void)state;
	mac_n(a, 1);
	/* 3 buffers: the frame itself, and two copies for 4 egress ports */
	m = send1(f, 1, frame(f, bcast, a, 60, 0), T0, &out);
	assert_int_equal(out.n, 3);
	for (uint32_t p = 0; p <= 4; p++)
		nobuf += drops(f, p, BR_DROP_NO_BUFFER);
	assert_int_equal(nobuf, 1);
	assert_true(m & (1 << 4)); /* the original goes to the last port */
	pkt_vec_free(&out);
	fixture_free(f);
}

/* A batch that floods to many ports stops before out could overflow, and resumes. */
static void test_input_resumes(void **state)
{
	struct fixture *f = fixture_new(false, 10, 1024);
	struct pkt_vec in, out;
	uint8_t a[6];
	uint32_t total = 0, calls = 0, per_port[11] = {0};

	(void)state;
	mac_n(a, 1);
	pkt_vec_init(&in);
	for (int i = 0; i < PKT_VEC_MAX; i++)
		pkt_vec_add(&in, frame(f, bcast, a, 60, (uint8_t)i));
	while (in.n) {
		uint32_t before = in.n, n;

		pkt_vec_init(&out);
		n = br_input(&f->br, 3, &in, T0, &out);
		assert_true(n > 0);
		assert_int_equal(in.n, before - n);
		assert_true(out.n <= PKT_VEC_MAX);
		for (uint32_t i = 0; i < out.n; i++)
			per_port[out.p[i]->port]++;
		total += out.n;
		calls++;
		pkt_vec_free(&out);
	}
	/* 64 frames to 10 other ports (9 STP ports + local), in order, nothing lost */
	assert_int_equal(total, 64 * 10);
	assert_true(calls >= 10);
	for (int p = 0; p <= 10; p++)
		assert_int_equal(per_port[p], p == 3 ? 0 : 64);
	fixture_free(f);
}

/*
 * With STP: a port enabled at T0 listens (no learning, no forwarding), learns
 * after a forward delay, forwards after two; a disabled port drops and its
 * addresses are forgotten.
 */
static void test_port_states_gate_traffic(void **state)
{
	struct fixture *f = fixture_new(true, 2, 64);
	const uint64_t fwd = 15 * SEC;
	uint8_t a[6], b[6];
	struct pkt_vec out;
	uint64_t t;

	(void)state;
	mac_n(a, 1);
	mac_n(b, 2);
	assert_int_equal(br_get_stp_port(&f->br, 1)->state, STP_LISTENING);
	assert_true(send_free(f, 1, frame(f, b, a, 60, 0), T0 + 1) == 0);
	assert_int_equal(fdb_port(f, a), -1);
	assert_int_equal(drops(f, 1, BR_DROP_PORT_STATE), 1);
	/* from the local port: STP ports are not forwarding yet */
	assert_true(send_free(f, 0, frame(f, b, tap_mac, 60, 0), T0 + 1) == 0);
	assert_int_equal(drops(f, 0, BR_DROP_NO_EGRESS), 1);
	/* run the clock by deadlines */
	for (t = T0; t < T0 + fwd;) {
		t = br_next_deadline(&f->br);
		if (t > T0 + fwd)
			break;
		pkt_vec_init(&out);
		br_tick(&f->br, t, &out);
		pkt_vec_free(&out);
	}
	assert_int_equal(br_get_stp_port(&f->br, 1)->state, STP_LEARNING);
	assert_true(send_free(f, 1, frame(f, b, a, 60, 0), T0 + fwd + 1) == 0);
	assert_int_equal(fdb_port(f, a), 1);
	assert_int_equal(drops(f, 1, BR_DROP_PORT_STATE), 2);
	for (;;) {
		t = br_next_deadline(&f->br);
		if (t > T0 + 2 * fwd)
			break;
		pkt_vec_init(&out);
		br_tick(&f->br, t, &out);
		pkt_vec_free(&out);
	}
	assert_int_equal(br_get_stp_port(&f->br, 1)->state, STP_FORWARDING);
	assert_true(send_free(f, 1, frame(f, b, a, 60, 0), T0 + 2 * fwd) == (1 << 0 | 1 << 2));
	assert_true(send_free(f, 0, frame(f, a, tap_mac, 60, 0), T0 + 2 * fwd) == 1 << 1);
	/* the wire goes down: state disabled, a's entry flushed, unicast to a floods nowhere */
	pkt_vec_init(&out);
	assert_int_equal(br_port_disable(&f->br, 1, T0 + 2 * fwd + 1, &out), 0);
	pkt_vec_free(&out);
	assert_int_equal(br_get_stp_port(&f->br, 1)->state, STP_DISABLED);
	assert_int_equal(fdb_port(f, a), -1);
	assert_true(send_free(f, 1, frame(f, b, a, 60, 0), T0 + 2 * fwd + 2) == 0);
	assert_true(send_free(f, 0, frame(f, a, tap_mac, 60, 0), T0 + 2 * fwd + 2) == 1 << 2);
	/* a frame to an address behind a port that stopped forwarding is not sent there */
	{
		const struct fdb_entry *e;

		fdb_learn(&f->br.fdb, b, 1, T0 + 2 * fwd + 3); /* stale entry on the dead port */
		e = fdb_lookup(&f->br.fdb, b);
		assert_non_null(e);
		assert_true(send_free(f, 2, frame(f, b, a, 60, 0), T0 + 2 * fwd + 3) == 0);
		assert_int_equal(drops(f, 2, BR_DROP_EGRESS_STATE), 1);
	}
	assert_int_equal(br_port_enable(&f->br, 7, T0, &out), -ENOENT);
	assert_int_equal(br_port_disable(&f->br, 0, T0, &out), -ENOENT);
	fixture_free(f);
}

/* FDB ageing through br_tick, with its deadline. */
static void test_ageing_deadline(void **state)
{
	struct fixture *f = fixture_new(false, 2, 64);
	uint8_t a[6];
	struct pkt_vec out;

	(void)state;
	mac_n(a, 1);
	assert_true(br_next_deadline(&f->br) == UINT64_MAX);
	send_free(f, 1, frame(f, bcast, a, 60, 0), T0 + 5 * SEC);
	assert_true(br_next_deadline(&f->br) == T0 + 305 * SEC);
	assert_true(br_current_ageing_time(&f->br) == 300 * SEC);
	pkt_vec_init(&out);
	br_tick(&f->br, T0 + 305 * SEC - 1, &out);
	assert_int_equal(fdb_port(f, a), 1);
	br_tick(&f->br, T0 + 305 * SEC, &out);
	assert_int_equal(fdb_port(f, a), -1);
	assert_int_equal(out.n, 0);
	assert_true(br_next_deadline(&f->br) == UINT64_MAX);
	fixture_free(f);
}

/*
 * The FDB is bounded: a MAC flood from the only port fills the table and is then
 * not learned (that port holds its whole fair share), the frames still flooded;
 * the local address stays.
 */
static void test_mac_flood_bounded(void **state)
{
	struct pkt_pool pool;
	struct bridge br;
	struct br_config cfg;
	struct br_port_config pc;
	struct pkt_vec in, out;
	uint32_t flooded = 0;

	(void)state;
	assert_true(pkt_pool_init(&pool, 256, 512));
	br_config_default(&cfg);
	cfg.stp = false;
	cfg.have_mac = true;
	memcpy(cfg.mac, br_mac, 6);
	cfg.fdb_max = 100;
	cfg.pool = &pool;
	assert_int_equal(br_init(&br, &cfg, T0), 0);
	assert_int_equal(br_fdb_add_local(&br, tap_mac), 0);
	br_port_config_default(&pc, "p1");
	assert_int_equal(br_add_port(&br, &pc), 1);
	pkt_vec_init(&out);
	br_port_enable(&br, 1, T0, &out);
	for (uint32_t i = 0; i < 10000; i++) {
		struct pkt *p = pkt_alloc(&pool);
		uint8_t *d = pkt_put(p, 60);

		if (!d)
			abort();
		memset(d, 0, 60);
		memcpy(d, bcast, 6);
		mac_n(d + 6, i);
		pkt_vec_init(&in);
		pkt_vec_add(&in, p);
		br_input(&br, 1, &in, T0 + i, &out);
		flooded += out.n;
		pkt_vec_free(&out);
	}
	assert_int_equal(flooded, 10000);
	assert_int_equal(br.fdb.count, 100);
	assert_int_equal(br.fdb.st.evicted, 0);
	assert_int_equal(br.ports[1].cnt.learn_full, 10000 - 99);
	assert_int_equal(br.ports[1].cnt.learn_limit, 0);
	assert_non_null(fdb_lookup(&br.fdb, tap_mac));
	{
		uint8_t mac[6];

		mac_n(mac, 98);
		assert_non_null(fdb_lookup(&br.fdb, mac));
		mac_n(mac, 99);
		assert_null(fdb_lookup(&br.fdb, mac));
	}
	br_destroy(&br);
	assert_int_equal(pool.nfree, pool.count);
	pkt_pool_destroy(&pool);
}

/*
 * MaxLearned: a port flooding random sources stops being learned at the cap,
 * its frames still flooded, and the other ports keep learning and keep their
 * entries; showstp --json shows the counts.
 */
static void test_port_learn_cap(void **state)
{
	struct fixture *f = fixture_new(false, 3, 64);
	uint8_t a[6], b[6], src[6];
	uint64_t seed = 12345;
	uint32_t flooded = 0;
	char buf[8192];

	(void)state;
	fdb_set_max_learned(&f->br.fdb, 8);
	mac_n(a, 1);
	mac_n(b, 2);
	send_free(f, 2, frame(f, bcast, a, 60, 0), T0);
	send_free(f, 3, frame(f, bcast, b, 60, 0), T0);
	for (uint32_t i = 0; i < 1000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		memcpy(src, &seed, 6);
		src[0] = (uint8_t)((src[0] & 0xfe) | 0x02);
		/* to an unknown unicast address: flooded to 0, 2 and 3 whether learned or not */
		flooded += send_free(f, 1, frame(f, (const uint8_t[6]){0x02, 0x77}, src, 60, 0),
				     T0 + i) == (1 << 0 | 1 << 2 | 1 << 3);
	}
	assert_int_equal(flooded, 1000);
	assert_int_equal(fdb_port_count(&f->br.fdb, 1), 8);
	assert_int_equal(f->br.ports[1].cnt.learn_limit, 1000 - 8);
	assert_int_equal(f->br.ports[2].cnt.learn_limit, 0);
	assert_int_equal(fdb_port(f, a), 2);
	assert_int_equal(fdb_port(f, b), 3);
	/* the others still learn, and are still reached directly */
	mac_n(src, 3);
	send_free(f, 2, frame(f, bcast, src, 60, 0), T0 + 2 * SEC);
	assert_int_equal(fdb_port(f, src), 2);
	assert_true(send_free(f, 3, frame(f, a, b, 60, 0), T0 + 2 * SEC) == 1 << 2);
	br_showstp_json(&f->br, T0 + 2 * SEC, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"max_learned\":8,\"fdb_entries\":12,"));
	assert_non_null(strstr(buf, "\"fdb_learn_limit\":992,"));
	assert_non_null(strstr(buf, "{\"name\":\"p1\","));
	assert_null(strstr(buf, "\"rtt_ms\""));
	assert_non_null(strstr(buf, "\"learned_entries\":8,\"learn_limit\":992,\"learn_full\":0,"));
	/* a round trip the port's owner measured shows; it is not part of the tree */
	br_set_port_rtt(&f->br, 2, 12500000);
	br_showstp_json(&f->br, T0 + 2 * SEC, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"designated_cost\":0,\"rtt_ms\":12.5,"));
	assert_non_null(strstr(buf, "\"learned_entries\":2,\"learn_limit\":0,\"learn_full\":0,"));
	fixture_free(f);
}

/* The default cap, and 0 = none but the FDB's own. */
static void test_max_learned_config(void **state)
{
	struct br_config cfg;
	struct bridge br;
	const char *why;

	(void)state;
	br_config_default(&cfg);
	cfg.pubkey[0] = 1;
	assert_int_equal(cfg.max_learned, BR_DEFAULT_MAX_LEARNED);
	assert_int_equal(br_init(&br, &cfg, 0), 0);
	assert_int_equal(br.fdb.max_learned, 1024);
	br_destroy(&br);
	cfg.max_learned = 0;
	assert_int_equal(br_init(&br, &cfg, 0), 0);
	assert_int_equal(br.fdb.max_learned, 0);
	br_destroy(&br);
	cfg.max_learned = FDB_MAX_ENTRIES + 1;
	assert_int_equal(br_config_check(&cfg, &why), -EINVAL);
	assert_non_null(strstr(why, "MaxLearned"));
}

struct guard_log {
	int calls;
	uint16_t port;
};

static void on_guard(void *ctx, const struct bridge *br, uint16_t port)
{
	struct guard_log *g = ctx;

	(void)br;
	g->calls++;
	g->port = port;
}

/* A configuration BPDU from a would-be root (priority 0) with the given source. */
static struct pkt *bpdu_frame(struct fixture *f, const uint8_t src[6])
{
	struct stp_config_bpdu c = {
		.root_id = stp_make_bridge_id(0, src),
		.bridge_id = stp_make_bridge_id(0, src),
		.port_id = 0x8001,
		.max_age = 20 * 256,
		.hello_time = 2 * 256,
		.forward_delay = 15 * 256,
	};
	struct pkt *p = pkt_alloc(&f->pool);
	uint8_t *d;

	assert_non_null(p);
	d = pkt_put(p, STP_FRAME_MAX);
	assert_non_null(d);
	p->len = (uint32_t)stp_bpdu_encode_config(d, src, &c);
	return p;
}

/* Ports 1, 2 plain, port 3 with BPDU guard; all enabled. */
static struct fixture *guard_fixture(bool stp, struct guard_log *g)
{
	struct fixture *f = fixture_new(stp, 2, 64);
	struct br_port_config pc;
	struct pkt_vec out;

	f->br.on_bpdu_guard = on_guard;
	f->br.cb_ctx = g;
	br_port_config_default(&pc, "vm0");
	pc.bpdu_guard = true;
	assert_int_equal(br_add_port(&f->br, &pc), 3);
	pkt_vec_init(&out);
	assert_int_equal(br_port_enable(&f->br, 3, T0, &out), 0);
	pkt_vec_free(&out);
	f->nports = 3;
	return f;
}

/*
 * BPDU guard: the first BPDU on a guarded port disables it (told once, counted
 * once), the BPDU goes nowhere, STP does not see it (no root is adopted);
 * unguarded ports take BPDUs as ever; enabling the port again lifts it.
 */
static void test_bpdu_guard(void **state)
{
	struct guard_log g = {0};
	struct fixture *f = guard_fixture(true, &g);
	uint8_t vm[6], ll[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
	struct pkt_vec out;
	char buf[8192];

	(void)state;
	mac_n(vm, 9);
	assert_true(f->br.ports[3].bpdu_guard);
	assert_int_equal(br_get_stp_port(&f->br, 3)->state, STP_LISTENING);
	assert_true(send_free(f, 3, bpdu_frame(f, vm), T0 + 1 * SEC) == 0);
	assert_int_equal(br_get_stp_port(&f->br, 3)->state, STP_DISABLED);
	assert_true(f->br.ports[3].bpdu_guard_disabled);
	assert_false(f->br.ports[3].enabled);
	assert_int_equal(f->br.ports[3].cnt.bpdu_guard, 1);
	assert_int_equal(drops(f, 3, BR_DROP_BPDU_GUARD), 1);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.port, 3);
	assert_true(stp_is_root_bridge(&f->br.stp));
	assert_int_equal(br_get_stp_port(&f->br, 3)->cnt.rx_config, 0);
	/* more BPDUs, or junk to the group address: dropped, not a second trip */
	assert_true(send_free(f, 3, bpdu_frame(f, vm), T0 + 2 * SEC) == 0);
	assert_true(send_free(f, 3, frame(f, ll, vm, 60, 0), T0 + 2 * SEC) == 0);
	assert_int_equal(f->br.ports[3].cnt.bpdu_guard, 1);
	assert_int_equal(drops(f, 3, BR_DROP_BPDU_GUARD), 3);
	assert_int_equal(g.calls, 1);
	/* the port's data goes nowhere either */
	assert_true(send_free(f, 3, frame(f, bcast, vm, 60, 0), T0 + 2 * SEC) == 0);
	assert_int_equal(drops(f, 3, BR_DROP_PORT_STATE), 1);
	/* showstp --json */
	br_showstp_json(&f->br, T0 + 2 * SEC, buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"name\":\"vm0\",\"port_no\":3,\"port_id\":\"8003\","
				    "\"state\":\"disabled\""));
	assert_non_null(strstr(buf, "\"bpdu_guard\":true,\"bpdu_guard_disabled\":true,"
				    "\"bpdu_guard_trips\":1,"));
	assert_non_null(strstr(buf, "\"bpdu_guard\":false,\"bpdu_guard_disabled\":false,"
				    "\"bpdu_guard_trips\":0,"));
	/* an unguarded port hears the same BPDU and takes its root */
	send_free(f, 1, bpdu_frame(f, vm), T0 + 3 * SEC); /* relayed as our own BPDUs */
	assert_false(stp_is_root_bridge(&f->br.stp));
	assert_int_equal(f->br.stp.root_port, 1);
	assert_int_equal(br_get_stp_port(&f->br, 1)->state, STP_LISTENING);
	assert_int_equal(f->br.ports[1].cnt.bpdu_guard, 0);
	/* enabled again (the TAP added again): up, guarded, and trips again */
	pkt_vec_init(&out);
	assert_int_equal(br_port_enable(&f->br, 3, T0 + 4 * SEC, &out), 0);
	pkt_vec_free(&out);
	assert_false(f->br.ports[3].bpdu_guard_disabled);
	assert_int_not_equal(br_get_stp_port(&f->br, 3)->state, STP_DISABLED);
	assert_true(send_free(f, 3, bpdu_frame(f, vm), T0 + 5 * SEC) == 0);
	assert_int_equal(br_get_stp_port(&f->br, 3)->state, STP_DISABLED);
	assert_int_equal(f->br.ports[3].cnt.bpdu_guard, 2);
	assert_int_equal(g.calls, 2);
	fixture_free(f);
}

/* Without STP, BPDUs are flooded like data, except from a guarded port: that port goes down. */
static void test_bpdu_guard_without_stp(void **state)
{
	struct guard_log g = {0};
	struct fixture *f = guard_fixture(false, &g);
	uint8_t vm[6];

	(void)state;
	mac_n(vm, 9);
	assert_int_equal(br_get_stp_port(&f->br, 3)->state, STP_FORWARDING);
	assert_true(send_free(f, 1, bpdu_frame(f, vm), T0) == (1 << 0 | 1 << 2 | 1 << 3));
	assert_true(send_free(f, 3, bpdu_frame(f, vm), T0) == 0);
	assert_int_equal(br_get_stp_port(&f->br, 3)->state, STP_DISABLED);
	assert_int_equal(f->br.ports[3].cnt.bpdu_guard, 1);
	assert_int_equal(g.calls, 1);
	/* and nothing is forwarded to it any more */
	assert_true(send_free(f, 1, frame(f, bcast, vm, 60, 0), T0) == (1 << 0 | 1 << 2));
	fixture_free(f);
}

static void test_config_checks(void **state)
{
	struct br_config cfg;
	struct bridge br;
	const char *why;
	struct br_port_config pc;
	struct br_stp_port_view v;

	(void)state;
	br_config_default(&cfg);
	/* no MAC and no key */
	assert_int_equal(br_config_check(&cfg, &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(br_init(&br, &cfg, 0), -EINVAL);
	cfg.pubkey[3] = 1;
	assert_int_equal(br_config_check(&cfg, &why), 0);
	assert_null(why);
	cfg.hello_time = 11 * SEC;
	assert_int_equal(br_config_check(&cfg, &why), -EINVAL);
	assert_non_null(strstr(why, "HelloTime"));
	cfg.hello_time = 2 * SEC;
	cfg.forward_delay = 10 * SEC; /* 2 x (10 - 1) < 20 */
	assert_int_equal(br_config_check(&cfg, &why), -EINVAL);
	cfg.forward_delay = 15 * SEC;
	cfg.ageing_time = 9 * SEC;
	assert_int_equal(br_config_check(&cfg, &why), -EINVAL);
	assert_non_null(strstr(why, "AgeingTime"));
	cfg.ageing_time = 300 * SEC;
	cfg.have_mac = true;
	cfg.mac[0] = 0x01; /* multicast */
	assert_int_equal(br_config_check(&cfg, &why), -EINVAL);
	cfg.mac[0] = 0x02;
	assert_int_equal(br_config_check(&cfg, &why), 0);
	assert_int_equal(br_init(&br, &cfg, 0), 0);
	/* ports: cost 1..65535, priority 0..63, at most 63 */
	br_port_config_default(&pc, "x");
	pc.path_cost = 0;
	assert_int_equal(br_add_port(&br, &pc), -EINVAL);
	pc.path_cost = 65536;
	assert_int_equal(br_add_port(&br, &pc), -EINVAL);
	pc.path_cost = 65535;
	pc.priority = 64;
	assert_int_equal(br_add_port(&br, &pc), -EINVAL);
	pc.priority = 63;
	for (int i = 1; i < BR_MAX_PORTS; i++)
		assert_int_equal(br_add_port(&br, &pc), i);
	assert_int_equal(br_add_port(&br, &pc), -ENOSPC);
	assert_true(br_get_stp_view(&br, 63, &v));
	assert_int_equal(v.port_id, 0xfc3f);
	br_destroy(&br);
}

/* The bridge id MAC: BLAKE2s-256("vwire bridge id" || key)[0..5], unicast, local. */
static void test_mac_from_pubkey(void **state)
{
	/* from Python: hashlib.blake2s(b"vwire bridge id" + key).digest()[:6], bits set */
	static const uint8_t want_zero[6] = {0xe2, 0x7b, 0x58, 0x44, 0xad, 0x62};
	static const uint8_t want_seq[6] = {0x7e, 0xdb, 0x5f, 0x61, 0xe7, 0x90};
	uint8_t key[32] = {0}, mac[6], mac2[6];
	struct br_config cfg;
	struct bridge br;

	(void)state;
	br_mac_from_pubkey(key, mac);
	assert_memory_equal(mac, want_zero, 6);
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i + 1);
	br_mac_from_pubkey(key, mac);
	assert_memory_equal(mac, want_seq, 6);
	for (int i = 0; i < 64; i++) {
		key[0] = (uint8_t)i;
		br_mac_from_pubkey(key, mac);
		assert_int_equal(mac[0] & 0x01, 0);
		assert_int_equal(mac[0] & 0x02, 0x02);
		br_mac_from_pubkey(key, mac2);
		assert_memory_equal(mac, mac2, 6);
	}
	/* used by br_init when no MAC is configured */
	br_config_default(&cfg);
	memcpy(cfg.pubkey, key, 32);
	cfg.priority = 0x1000;
	cfg.protocol = BR_PROTO_STP;
	assert_int_equal(br_init(&br, &cfg, 0), 0);
	assert_memory_equal(br.mac, mac, 6);
	assert_true(br.stp.bridge_id == stp_make_bridge_id(0x1000, mac));
	br_destroy(&br);
}

/* BPDU frames from the bridge: source address per port, group address, counted. */
static void test_bpdus_out(void **state)
{
	struct fixture *f = fixture_new(true, 2, 64);
	struct pkt_vec out;
	struct stp_bpdu b;

	(void)state;
	pkt_vec_init(&out);
	assert_true(br_next_deadline(&f->br) == T0 + 2 * SEC); /* the first hello */
	br_tick(&f->br, T0 + 2 * SEC, &out);
	assert_int_equal(out.n, 2);
	for (uint32_t i = 0; i < out.n; i++) {
		assert_int_equal(stp_bpdu_decode(out.p[i]->data, out.p[i]->len, &b), STP_BPDU_OK);
		assert_memory_equal(out.p[i]->data + 6, br_mac, 6);
		assert_true(b.config.root_id == stp_make_bridge_id(0x8000, br_mac));
		assert_int_equal(b.config.port_id, 0x8000 | out.p[i]->port);
		assert_int_equal(b.config.hello_time, 2 * 256);
		assert_int_equal(f->br.ports[out.p[i]->port].cnt.tx_bpdu, 1);
	}
	pkt_vec_free(&out);
	/* BPDUs need room: with a full output vector they are counted, not lost silently */
	for (int i = 0; i < PKT_VEC_MAX; i++)
		out.p[i] = NULL;
	out.n = PKT_VEC_MAX;
	br_tick(&f->br, T0 + 4 * SEC, &out);
	assert_int_equal(drops(f, 1, BR_DROP_OUT_FULL) + drops(f, 2, BR_DROP_OUT_FULL), 2);
	assert_int_equal(f->br.stp.ports[1].cnt.tx_dropped, 1);
	fixture_free(f);
}

/*
 * showstp: bridge-utils 1.7.1 prints these fields in this layout (checked
 * against `brctl showstp` on a kernel bridge); showmacs likewise.
 */
static void test_showstp_text(void **state)
{
	static const char want[] =
		"br0\n"
		" bridge id\t\t8000.020000000001\n"
		" designated root\t8000.020000000001\n"
		" root port\t\t   0\t\t\tpath cost\t\t   0\n"
		" max age\t\t  20.00\t\t\tbridge max age\t\t  20.00\n"
		" hello time\t\t   2.00\t\t\tbridge hello time\t   2.00\n"
		" forward delay\t\t  15.00\t\t\tbridge forward delay\t  15.00\n"
		" ageing time\t\t 300.00\n"
		" hello timer\t\t   1.75\t\t\ttcn timer\t\t   0.00\n"
		" topology change timer\t   0.00\t\t\tgc timer\t\t   0.00\n"
		" flags\t\t\t\n"
		"\n"
		"\n"
		"p1 (1)\n"
		" port id\t\t8001\t\t\tstate\t\t      listening\n"
		" designated root\t8000.020000000001\tpath cost\t\t 100\n"
		" designated bridge\t8000.020000000001\tmessage age timer\t   0.00\n"
		" designated port\t8001\t\t\tforward delay timer\t  14.75\n"
		" designated cost\t   0\t\t\thold timer\t\t   0.00\n"
		" flags\t\t\t\n"
		"\n"
		"p2 (2)\n"
		" port id\t\t1402\t\t\tstate\t\t       disabled\n"
		" designated root\t8000.020000000001\tpath cost\t\t   7\n"
		" designated bridge\t8000.020000000001\tmessage age timer\t   0.00\n"
		" designated port\t1402\t\t\tforward delay timer\t   0.00\n"
		" designated cost\t   0\t\t\thold timer\t\t   0.00\n"
		" flags\t\t\t\n"
		"\n";
	struct fixture *f = fixture_new(true, 1, 16);
	struct br_port_config pc;
	char buf[4096];
	size_t n;

	(void)state;
	br_port_config_default(&pc, "p2");
	pc.path_cost = 7;
	pc.priority = 5;
	assert_int_equal(br_add_port(&f->br, &pc), 2);
	n = br_showstp(&f->br, T0 + 250 * MS, buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
	/* cut short: NUL-terminated, length still reported in full */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(br_showstp(&f->br, T0 + 250 * MS, buf, 10), strlen(want));
	assert_int_equal(buf[9], 0);
	assert_int_equal(buf[10], 'x');
	assert_int_equal(br_showstp(&f->br, T0, NULL, 0), strlen(want));
	/* flags */
	f->br.stp.topology_change = f->br.stp.topology_change_detected = true;
	f->br.stp.ports[1].config_pending = f->br.stp.ports[1].topology_change_ack = true;
	br_showstp(&f->br, T0, buf, sizeof(buf));
	assert_non_null(strstr(buf, " flags\t\t\tTOPOLOGY_CHANGE TOPOLOGY_CHANGE_DETECTED \n"));
	assert_non_null(strstr(buf, " flags\t\t\tCONFIG_PENDING TOPOLOGY_CHANGE_ACK \n"));
	/* JSON carries the same data */
	br_showstp_json(&f->br, T0 + 250 * MS, buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"bridge\":\"br0\",\"stp_enabled\":true,"
				    "\"bridge_id\":\"8000.020000000001\""));
	assert_non_null(strstr(buf, "\"hello_timer\":1.75,"));
	assert_non_null(strstr(buf, "{\"name\":\"p2\",\"port_no\":2,\"port_id\":\"1402\","
				    "\"state\":\"disabled\",\"role\":\"disabled\""));
	assert_non_null(strstr(buf, "\"forward_delay_timer\":14.75,"));
	assert_true(buf[strlen(buf) - 2] == '}');
	fixture_free(f);
}

static void test_showmacs_text(void **state)
{
	static const char want[] = "port no\tmac addr\t\tis local?\tageing timer\n"
				   "  0\t02:00:00:00:00:0e\tyes\t\t   0.00\n"
				   "  2\t02:10:00:00:00:01\tno\t\t   1.45\n"
				   "  1\t02:10:00:00:00:02\tno\t\t 123.45\n";
	struct fixture *f = fixture_new(false, 2, 16);
	uint8_t a[6], b[6];
	char buf[2048];

	(void)state;
	mac_n(a, 1);
	mac_n(b, 2);
	send_free(f, 1, frame(f, bcast, b, 60, 0), T0);
	send_free(f, 2, frame(f, bcast, a, 60, 0), T0 + 122 * SEC);
	assert_int_equal(br_showmacs(&f->br, T0 + 123450 * MS, buf, sizeof(buf)), strlen(want));
	assert_string_equal(buf, want);
	br_showmacs_json(&f->br, T0 + 123450 * MS, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"{\"bridge\":\"br0\",\"entries\":3,\"capacity\":8192,\"macs\":["
		"{\"port_no\":0,\"port\":\"br0\",\"mac\":\"02:00:00:00:00:0e\",\"is_local\":true,"
		"\"static\":true,\"ageing_timer\":0.00},"
		"{\"port_no\":2,\"port\":\"p2\",\"mac\":\"02:10:00:00:00:01\",\"is_local\":false,"
		"\"static\":false,\"ageing_timer\":1.45},"
		"{\"port_no\":1,\"port\":\"p1\",\"mac\":\"02:10:00:00:00:02\",\"is_local\":false,"
		"\"static\":false,\"ageing_timer\":123.45}]}\n");
	/* names are escaped */
	snprintf(f->br.ports[1].name, BR_IFNAMSIZ, "a\"b\\c\x01");
	br_showmacs_json(&f->br, T0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"port\":\"a\\\"b\\\\c\\u0001\""));
	fixture_free(f);
}

/* A bridge running RSTP with nports ports; edge: the ports (bitmask) with Edge. */
static struct fixture *rstp_fixture(int nports, uint64_t edge, struct pkt_vec *out)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct br_config cfg;

	assert_non_null(f);
	assert_true(pkt_pool_init(&f->pool, 256, 2048));
	br_config_default(&cfg);
	assert_int_equal(cfg.protocol, BR_PROTO_RSTP); /* the default */
	snprintf(cfg.name, sizeof(cfg.name), "br0");
	cfg.have_mac = true;
	memcpy(cfg.mac, br_mac, 6);
	cfg.pool = &f->pool;
	assert_int_equal(br_init(&f->br, &cfg, T0), 0);
	pkt_vec_init(out);
	for (int i = 1; i <= nports; i++) {
		struct br_port_config pc;
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		br_port_config_default(&pc, name);
		pc.admin_edge = (edge >> i) & 1;
		assert_int_equal(br_add_port(&f->br, &pc), i);
		assert_int_equal(br_port_enable(&f->br, (uint32_t)i, T0, out), 0);
	}
	f->nports = nports;
	return f;
}

/* The BPDUs in out that went to port, decoded; how many. */
static int bpdus_on(const struct pkt_vec *out, uint32_t port, struct stp_bpdu *last)
{
	int n = 0;

	for (uint32_t i = 0; i < out->n; i++) {
		if (out->p[i]->port != port)
			continue;
		assert_int_equal(stp_bpdu_decode(out->p[i]->data, out->p[i]->len, last),
				 STP_BPDU_OK);
		n++;
	}
	return n;
}

/* A BPDU from a neighbour (MAC 02:..:99) received on port. */
static void bpdu_in(struct fixture *f, uint32_t port, const struct stp_bpdu *b, uint64_t now)
{
	static const uint8_t nb[6] = {0x02, 0, 0, 0, 0, 0x99};
	struct pkt *p = pkt_alloc(&f->pool);
	struct pkt_vec out;

	assert_non_null(p);
	p->len = (uint32_t)stp_bpdu_encode(pkt_put(p, STP_FRAME_MAX), nb, b);
	send1(f, port, p, now, &out);
	pkt_vec_free(&out);
}

/* Information from a better root (priority 0x1000) one hop away, on the neighbour's port 1. */
static struct stp_bpdu better_root(uint8_t type)
{
	static const uint8_t root_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
	struct stp_bpdu b = {.type = type, .version = type == STP_BPDU_TYPE_RST ? 2 : 0};

	b.config.root_id = stp_make_bridge_id(0x1000, root_mac);
	b.config.bridge_id = b.config.root_id;
	b.config.port_id = 0x8001;
	b.config.port_role = STP_RST_ROLE_DESIGNATED;
	b.config.max_age = 20 * 256;
	b.config.hello_time = 2 * 256;
	b.config.forward_delay = 15 * 256;
	return b;
}

/* RSTP: RST BPDUs go out as soon as a port is enabled, proposing; the view says rstp. */
static void test_rstp_bpdus_on_enable(void **state)
{
	struct pkt_vec out;
	struct fixture *f = rstp_fixture(2, 0, &out);
	struct br_stp_port_view v;
	struct stp_bpdu b;
	char buf[4096];

	(void)state;
	for (uint32_t port = 1; port <= 2; port++) {
		assert_true(bpdus_on(&out, port, &b) >= 1);
		assert_int_equal(b.type, STP_BPDU_TYPE_RST);
		assert_int_equal(b.version, STP_VERSION_RSTP);
		assert_int_equal(b.config.port_role, STP_RST_ROLE_DESIGNATED);
		assert_true(b.config.proposal);
		assert_true(br_get_stp_view(&f->br, port, &v));
		assert_true(v.rstp);
		assert_string_equal(v.role, "designated");
		assert_int_equal(v.state, STP_BLOCKING); /* discarding until agreed or fdWhile */
	}
	pkt_vec_free(&out);
	assert_null(br_get_stp_port(&f->br, 1)); /* no 802.1D port to look at */
	br_showstp(&f->br, T0, buf, sizeof(buf));
	assert_non_null(strstr(buf, " protocol\t\trstp\t"));
	assert_non_null(strstr(buf, " role\t\t\tdesignated"));
	br_showstp_json(&f->br, T0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"protocol\":\"rstp\""));
	assert_non_null(
		strstr(buf, "\"role\":\"designated\",\"protocol\":\"rstp\",\"edge\":false"));
	assert_non_null(strstr(buf, "\"migrations\":0,"));
	fixture_free(f);
}

/* Edge = the port: it forwards at once, and a BPDU on it makes it an ordinary port. */
static void test_rstp_edge_forwards_at_once(void **state)
{
	struct pkt_vec out;
	struct fixture *f = rstp_fixture(2, 1u << 2, &out);
	struct br_stp_port_view v;
	struct stp_bpdu b = better_root(STP_BPDU_TYPE_RST);

	(void)state;
	pkt_vec_free(&out);
	assert_true(br_get_stp_view(&f->br, 2, &v));
	assert_true(v.admin_edge && v.oper_edge);
	assert_int_equal(v.state, STP_FORWARDING);
	assert_true(br_get_stp_view(&f->br, 1, &v));
	assert_false(v.admin_edge || v.oper_edge);
	assert_int_not_equal(v.state, STP_FORWARDING);
	bpdu_in(f, 2, &b, T0 + MS);
	assert_true(br_get_stp_view(&f->br, 2, &v));
	assert_false(v.oper_edge);
	assert_string_equal(v.role, "root");
	fixture_free(f);
}

/*
 * What a reload changes on a running bridge: a removed port leaves the tree, the FDB and
 * the floods, and its number goes to the next port added; new times reach the BPDUs of
 * the root; another protocol is a new tree over the same ports, enabled as they were.
 */
static void test_reload_changes(void **state)
{
	struct pkt_vec out;
	struct fixture *f = rstp_fixture(3, 1u << 3, &out);
	struct br_port_config pc;
	struct br_stp_port_view v;
	struct br_stp_view bv;
	struct stp_bpdu b;
	uint8_t host[6];

	(void)state;
	pkt_vec_free(&out);
	mac_n(host, 7);
	send_free(f, 2, frame(f, bcast, host, 60, 1), T0 + SEC);
	assert_int_equal(fdb_port_count(&f->br.fdb, 2), 0); /* discarding: not learned */
	send_free(f, 3, frame(f, bcast, host, 60, 1), T0 + SEC);
	assert_int_equal(fdb_port_count(&f->br.fdb, 3), 1); /* edge: learned at once */

	pkt_vec_init(&out);
	assert_int_equal(br_remove_port(&f->br, 3, T0 + SEC, &out), 0);
	pkt_vec_free(&out);
	assert_int_equal(fdb_port_count(&f->br.fdb, 3), 0);
	assert_null(br_get_port(&f->br, 3));
	assert_false(br_get_stp_view(&f->br, 3, &v));
	assert_int_equal(br_port_by_name(&f->br, "p3"), -ENOENT);
	assert_int_equal(f->br.port_end, 3);
	assert_int_equal(br_remove_port(&f->br, 3, T0 + SEC, &out), -ENOENT);
	/* The lowest free number again, a new port in the tree, not enabled. */
	br_port_config_default(&pc, "p9");
	assert_int_equal(br_add_port(&f->br, &pc), 3);
	assert_true(br_get_stp_view(&f->br, 3, &v));
	assert_string_equal(v.role, "disabled");
	assert_false(v.admin_edge);

	/* Times: out of 802.1D's rule refused; in it, the root's BPDUs carry them. */
	assert_int_equal(br_set_times(&f->br, 10 * SEC, 6 * SEC, 4 * SEC, T0 + SEC, &out), -ERANGE);
	pkt_vec_init(&out);
	assert_int_equal(br_set_times(&f->br, 1 * SEC, 8 * SEC, 5 * SEC, T0 + 2 * SEC, &out), 0);
	br_tick(&f->br, T0 + 4 * SEC, &out);
	assert_true(bpdus_on(&out, 1, &b) >= 1);
	assert_int_equal(b.config.hello_time, 1 * 256);
	assert_int_equal(b.config.max_age, 8 * 256);
	assert_int_equal(b.config.forward_delay, 5 * 256);
	pkt_vec_free(&out);

	/* Another protocol: 802.1D over the same ports, the enabled ones listening again. */
	pkt_vec_init(&out);
	assert_int_equal(br_set_protocol(&f->br, BR_PROTO_STP, true, T0 + 5 * SEC, &out), 0);
	pkt_vec_free(&out);
	br_stp_get_view(&f->br, &bv);
	assert_int_equal(bv.protocol, BR_PROTO_STP);
	assert_int_equal(bv.bridge_max_age, 8 * SEC);
	assert_true(br_get_stp_view(&f->br, 1, &v));
	assert_false(v.rstp);
	assert_int_equal(v.state, STP_LISTENING);
	assert_true(br_get_stp_view(&f->br, 3, &v));
	assert_int_equal(v.state, STP_DISABLED);
	assert_non_null(br_get_stp_port(&f->br, 2));

	/* Ageing and MaxLearned checked as at start. */
	assert_int_equal(br_set_ageing(&f->br, 5 * SEC, 10), -ERANGE);
	assert_int_equal(br_set_ageing(&f->br, 60 * SEC, 10), 0);
	assert_int_equal(f->br.ageing_time, 60 * SEC);
	fixture_free(f);
}

/*
 * A topology change heard on the root port flushes what the other bridge-facing
 * ports learned (17.29), not what the root port learned (those addresses are
 * still behind it) nor an edge port's (hosts do not move with the tree).
 */
static void test_rstp_tc_flushes_other_ports(void **state)
{
	struct pkt_vec out;
	struct fixture *f = rstp_fixture(3, 0, &out);
	struct stp_bpdu b = better_root(STP_BPDU_TYPE_RST);
	struct stp_bpdu down = better_root(STP_BPDU_TYPE_RST);
	struct br_stp_port_view v;
	uint8_t m[4][6];
	uint64_t now = T0 + MS;

	(void)state;
	pkt_vec_free(&out);
	/* A bridge below us on port 3, worse than us: port 3 designated and not an edge. */
	down.config.root_path_cost = 200;
	down.config.bridge_id = stp_make_bridge_id(0x9000, tap_mac);
	/* The root's offer on port 1: port 1 root; port 2 hears nothing and turns edge. */
	for (int i = 0; i < 40 && br_stp_port_state(&f->br, 3) != STP_FORWARDING; i++) {
		bpdu_in(f, 1, &b, now);
		bpdu_in(f, 3, &down, now);
		now += SEC;
		pkt_vec_init(&out);
		br_tick(&f->br, now, &out);
		pkt_vec_free(&out);
	}
	assert_true(br_get_stp_view(&f->br, 2, &v));
	assert_true(v.oper_edge && !v.admin_edge);
	for (uint32_t port = 1; port <= 3; port++)
		assert_int_equal(br_stp_port_state(&f->br, (uint16_t)port), STP_FORWARDING);
	for (uint32_t port = 1; port <= 3; port++) {
		mac_n(m[port], 100 + port);
		send_free(f, port, frame(f, bcast, m[port], 64, 0), now);
		assert_int_equal(fdb_port(f, m[port]), (int)port);
	}
	assert_true(br_get_stp_view(&f->br, 3, &v));
	uint64_t flushes = v.flushes;
	b.config.topology_change = true;
	bpdu_in(f, 1, &b, now + MS);
	assert_int_equal(fdb_port(f, m[1]), 1);
	assert_int_equal(fdb_port(f, m[2]), 2);
	assert_int_equal(fdb_port(f, m[3]), -1);
	assert_true(br_get_stp_view(&f->br, 3, &v));
	assert_true(v.flushes > flushes);
	assert_true(v.tc_received == 0); /* heard on port 1, propagated here */
	assert_true(br_get_stp_view(&f->br, 1, &v));
	assert_true(v.tc_received >= 1);
	fixture_free(f);
}

/* An 802.1D neighbour: the port speaks 802.1D; mcheck tries RSTP again. */
static void test_rstp_migration_and_mcheck(void **state)
{
	struct pkt_vec out;
	struct fixture *f = rstp_fixture(2, 0, &out);
	struct stp_bpdu b = better_root(STP_BPDU_TYPE_CONFIG);
	struct br_stp_port_view v;
	uint64_t now = T0;

	(void)state;
	pkt_vec_free(&out);
	/* Past MigrateTime (3 s) the port listens to what its neighbour speaks. */
	for (int i = 0; i < 4; i++) {
		now += SEC;
		pkt_vec_init(&out);
		br_tick(&f->br, now, &out);
		pkt_vec_free(&out);
	}
	bpdu_in(f, 1, &b, now);
	assert_true(br_get_stp_view(&f->br, 1, &v));
	assert_false(v.rstp);
	assert_int_equal(v.migrations, 1);
	assert_string_equal(v.role, "root");
	/* What the port sends now is 802.1D's: a configuration BPDU or a TCN, never RST. */
	now += 4 * SEC;
	pkt_vec_init(&out);
	br_tick(&f->br, now, &out);
	for (uint32_t i = 0; i < out.n; i++) {
		struct stp_bpdu o;

		assert_int_equal(stp_bpdu_decode(out.p[i]->data, out.p[i]->len, &o), STP_BPDU_OK);
		if (out.p[i]->port == 1)
			assert_int_not_equal(o.type, STP_BPDU_TYPE_RST);
	}
	pkt_vec_free(&out);
	/* Port 2 kept RSTP: the neighbour there never spoke 802.1D. */
	assert_true(br_get_stp_view(&f->br, 2, &v));
	assert_true(v.rstp);
	/* mcheck: RSTP again, and RST BPDUs from the next hello on */
	pkt_vec_init(&out);
	assert_int_equal(br_mcheck(&f->br, 1, now, &out), 0);
	pkt_vec_free(&out);
	assert_true(br_get_stp_view(&f->br, 1, &v));
	assert_true(v.rstp);
	struct stp_bpdu o = {0};
	for (int i = 0; i < 2; i++) {
		now += SEC;
		pkt_vec_init(&out);
		br_tick(&f->br, now, &out);
		bpdus_on(&out, 1, &o);
		pkt_vec_free(&out);
	}
	assert_int_equal(o.type, STP_BPDU_TYPE_RST);
	assert_int_equal(br_mcheck(&f->br, 9, now, &out), -ENOENT);
	assert_int_equal(br_port_by_name(&f->br, "p2"), 2);
	assert_int_equal(br_port_by_name(&f->br, "br0"), -ENOENT);
	fixture_free(f);
	/* 802.1D has nothing to check */
	f = fixture_new(true, 1, 64);
	pkt_vec_init(&out);
	assert_int_equal(br_mcheck(&f->br, 1, T0, &out), -EOPNOTSUPP);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_flood_forward),
		cmocka_unit_test(test_reserved_addresses),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_pool_exhaustion),
		cmocka_unit_test(test_input_resumes),
		cmocka_unit_test(test_port_states_gate_traffic),
		cmocka_unit_test(test_ageing_deadline),
		cmocka_unit_test(test_mac_flood_bounded),
		cmocka_unit_test(test_port_learn_cap),
		cmocka_unit_test(test_max_learned_config),
		cmocka_unit_test(test_bpdu_guard),
		cmocka_unit_test(test_bpdu_guard_without_stp),
		cmocka_unit_test(test_config_checks),
		cmocka_unit_test(test_mac_from_pubkey),
		cmocka_unit_test(test_bpdus_out),
		cmocka_unit_test(test_showstp_text),
		cmocka_unit_test(test_showmacs_text),
		cmocka_unit_test(test_rstp_bpdus_on_enable),
		cmocka_unit_test(test_rstp_edge_forwards_at_once),
		cmocka_unit_test(test_rstp_tc_flushes_other_ports),
		cmocka_unit_test(test_rstp_migration_and_mcheck),
		cmocka_unit_test(test_reload_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
