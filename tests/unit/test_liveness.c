/* SPDX-License-Identifier: MIT */
/*
 * A wire's liveness decisions (src/daemon/liveness.c: vwired_liveness_check and _heard) on
 * a virtual clock. A simulated peer answers each probe after a round trip, or not at all;
 * a simulated loop runs the check when it is due, or late, or not at all while "stalled",
 * and reads answers only when it runs. The bound the design promises (silent 550 ms after
 * the last message) and what it must not do (call a live peer silent because this host
 * did not run) are both asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/clock.h"
#include "daemon/vwired.h"

#define MS NSEC_PER_MSEC

/* The peer answers a probe sent at t at t + rtt (0: never); its answer is read when the
 * loop runs at or after that time. */
struct sim {
	struct vw_liveness l;
	uint64_t rtt;
	uint64_t answers[64]; /* arrival times of answers not yet read */
	unsigned n_answers;
	uint64_t rx; /* the tunnel's last_authenticated_rx, as read */
	uint64_t probes;
	bool reader_stalled; /* the worker that reads the peer's answers does not run */
	uint64_t silent_at;  /* first time the wire fell silent; 0: never */
	uint64_t back_at;    /* first time it came back after that */
};

static void sim_init(struct sim *s, uint64_t rtt, uint64_t t0)
{
	memset(s, 0, sizeof(*s));
	s->rtt = rtt;
	s->rx = t0;
	vwired_liveness_heard(&s->l, t0);
}

/* The loop reads what arrived by now (the workers' receives). */
static void sim_read(struct sim *s, uint64_t now)
{
	unsigned keep = 0;

	if (s->reader_stalled)
		return;
	for (unsigned i = 0; i < s->n_answers; i++) {
		if (s->answers[i] <= now) {
			if (s->answers[i] > s->rx)
				s->rx = s->answers[i];
		} else {
			s->answers[keep++] = s->answers[i];
		}
	}
	s->n_answers = keep;
	/* the receive path's look (vwired_wire_alive) */
	if (vwired_liveness_heard(&s->l, s->rx) && s->silent_at && !s->back_at)
		s->back_at = now;
}

static uint64_t sim_now;

/* What workers_behind asks the sockets: an answer arrived and nobody read it. */
static bool sim_input_waiting(void *ctx)
{
	const struct sim *s = ctx;

	for (unsigned i = 0; i < s->n_answers; i++)
		if (s->answers[i] <= sim_now)
			return true;
	return false;
}

/* The loop's deadline fired at now: the check, and the probe it asks for. */
static void sim_check(struct sim *s, uint64_t now)
{
	bool changed = false;

	sim_now = now;
	if (vwired_liveness_check(&s->l, s->rx, now, sim_input_waiting, s, &changed)) {
		s->probes++;
		if (s->rtt && s->n_answers < 64)
			s->answers[s->n_answers++] = now + s->rtt;
	}
	if (changed && s->l.silent && !s->silent_at)
		s->silent_at = now;
	if (changed && !s->l.silent && s->silent_at && !s->back_at)
		s->back_at = now;
}

/* A loop that runs on time, 1 ms granularity, from `from` to `to`, reading before checks
 * (as the epoll loop dispatches reads before the deadline). */
static void sim_run(struct sim *s, uint64_t from, uint64_t to)
{
	for (uint64_t now = from; now < to; now += MS) {
		sim_read(s, now);
		if (now >= s->l.probe_at)
			sim_check(s, now);
	}
}

/* A peer that died at 1 s is silent 550 ms after its last message, and stays silent. */
static void test_dead_peer_bound(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 0, 1000 * MS);
	sim_run(&s, 1000 * MS, 5000 * MS);
	assert_int_equal(s.silent_at, 1550 * MS);
	assert_true(s.l.silent);
	assert_int_equal(s.l.silences, 1);
	/* three probes before the silence, then one every 500 ms to notice it come back */
	assert_in_range(s.probes, 3 + 6, 3 + 8);
	assert_int_equal(s.l.waits, 0);
}

/* A peer that answers within the bound's round trip is never called silent, and an idle
 * wire costs a few probes a second. */
static void test_answering_peer(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 190 * MS, 1000 * MS);
	sim_run(&s, 1000 * MS, 11000 * MS);
	assert_int_equal(s.silent_at, 0);
	assert_false(s.l.silent);
	assert_in_range(s.probes, 10, 10 * 4);
}

/*
 * The worker that reads the peer's answers does not run for 400 ms (a loaded host) while
 * the one that runs the checks does, and the peer answers every probe in 20 ms: the miss
 * that would silence the wire finds answers waiting unread and waits for the worker to
 * read them; the peer is not called silent.
 */
static void test_worker_behind_is_not_silence(void **state)
{
	struct sim s;
	uint64_t t;

	(void)state;
	sim_init(&s, 20 * MS, 1000 * MS);
	sim_run(&s, 1000 * MS, 2000 * MS);
	t = s.l.probe_at;
	s.reader_stalled = true;
	sim_run(&s, t, t + 400 * MS);
	assert_true(s.l.waits >= 1);
	assert_int_equal(s.silent_at, 0);
	s.reader_stalled = false;
	sim_run(&s, t + 400 * MS, t + 3000 * MS);
	assert_int_equal(s.silent_at, 0);
	assert_false(s.l.silent);
}

/*
 * The whole of vwired does not run for 700 ms (a paused VM) while the peer answers: the
 * deadline is long past when it runs again, and the check that fires before the reads
 * waits for them instead of counting a miss.
 */
static void test_own_stall_is_not_silence(void **state)
{
	struct sim s;
	uint64_t now;

	(void)state;
	sim_init(&s, 20 * MS, 1000 * MS);
	sim_run(&s, 1000 * MS, 2000 * MS);
	/* Three probes leave and are answered, but nothing is read: the loop stalls. */
	now = s.l.probe_at;
	for (int i = 0; i < 3; i++) {
		sim_check(&s, now);
		now = s.l.probe_at;
	}
	assert_int_equal(s.l.unanswered, 3);
	now += 700 * MS;
	/* The deadline fires first (it was due long ago), then the reads. */
	sim_check(&s, now);
	assert_int_equal(s.l.waits, 1);
	assert_int_equal(s.silent_at, 0);
	sim_run(&s, now, now + 3000 * MS);
	assert_int_equal(s.silent_at, 0);
	assert_false(s.l.silent);
}

/* A loop that is always late still finds a dead peer: the silence waits, but not forever. */
static void test_always_late_loop_still_detects(void **state)
{
	struct sim s;
	uint64_t now = 1000 * MS;

	(void)state;
	sim_init(&s, 0, now);
	/* Every check runs 80 ms after its time. */
	while (!s.silent_at && now < 5000 * MS) {
		now = s.l.probe_at + 80 * MS;
		sim_read(&s, now);
		sim_check(&s, now);
	}
	assert_true(s.silent_at > 0);
	/* 550 ms, the lateness of each check, and the most the silence waits */
	assert_true(s.silent_at - 1000 * MS <= 550 * MS + 4 * 80 * MS + 250 * MS + 80 * MS);
	assert_true(s.l.waits >= 1);
}

/* A wire that fell silent comes back with the peer's next message. */
static void test_silent_then_back(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 0, 1000 * MS);
	sim_run(&s, 1000 * MS, 2000 * MS);
	assert_true(s.l.silent);
	s.rtt = 30 * MS; /* the peer is back: the next probe is answered */
	sim_run(&s, 2000 * MS, 3000 * MS);
	assert_false(s.l.silent);
	assert_true(s.back_at > s.silent_at);
	/* the next probe (every 500 ms while silent) brings the answer */
	assert_true(s.back_at - 2000 * MS <= 500 * MS + 30 * MS);
}

/* A side the peer probes holds its own probes back: on an idle wire one side probes. */
static void test_probed_side_defers(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 20 * MS, 1000 * MS);
	/* The peer probes every 250 ms and this side answers (which is what rx shows). */
	for (uint64_t now = 1000 * MS; now < 4000 * MS; now += MS) {
		if ((now - 1000 * MS) % (250 * MS) == 0) {
			s.l.probed_at = now;
			s.rx = now;
		}
		if (now >= s.l.probe_at)
			sim_check(&s, now);
	}
	assert_int_equal(s.probes, 0);
	assert_false(s.l.silent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dead_peer_bound),
		cmocka_unit_test(test_answering_peer),
		cmocka_unit_test(test_worker_behind_is_not_silence),
		cmocka_unit_test(test_own_stall_is_not_silence),
		cmocka_unit_test(test_always_late_loop_still_detects),
		cmocka_unit_test(test_silent_then_back),
		cmocka_unit_test(test_probed_side_defers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
