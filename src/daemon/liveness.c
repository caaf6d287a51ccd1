/* SPDX-License-Identifier: MIT */
/*
 * A wire's carrier follows whether its peer answers, not only whether a session exists: a
 * WireGuard session stays usable for REJECT_AFTER_TIME (180 s) after the peer died, while
 * the tree should move traffic off that wire within a second.
 *
 * The tunnel notes when each peer last proved itself (peer->last_authenticated_rx: a data
 * message, keepalive or handshake message that authenticated). A wire whose peer has been
 * quiet for VWIRED_LIVE_IDLE sends a probe inside the tunnel every VWIRED_LIVE_INTERVAL: an
 * ICMP echo request from this host's tunnel address to the wire's Remote. Any WireGuard
 * peer's IP stack answers it (kernel-path hosts too), and vwired answers its own kind
 * itself, with or without a TUN. After VWIRED_LIVE_MISSES probes without an answer the wire
 * is silent: its port goes down at once and the tree moves off it. Any message from the
 * peer brings it back, and the port then joins the tree as a new link does.
 *
 * The bound: a dead peer is noticed IDLE + MISSES x INTERVAL = 550 ms after its last
 * message, as long as the wire's round trip is below (MISSES - 1) x INTERVAL (the answer to
 * the first probe must come before the third goes unanswered): 200 ms here, which covers
 * every pair of the project's hosts (at most 98 ms). What it costs: nothing while traffic
 * flows both ways. On an idle wire one side probes and the other answers: a side that was
 * probed holds its own probes back for an INTERVAL longer (so a peer that dies while only
 * probing is noticed an INTERVAL later), which leaves one probe and one answer per IDLE +
 * round trip, four of each a second at most. A silent wire is probed every
 * VWIRED_LIVE_SILENT_INTERVAL, to notice it come back. A host that is behind on its own
 * reading (silence_must_wait) may take up to VWIRED_LIVE_MAX_WAIT longer.
 *
 * A vwired that stops cleanly says goodbye: an echo request with another payload on each
 * wire whose peer answers, which a vwired peer takes as "silent now" (a kernel host answers
 * it, harmlessly), so the tree moves without waiting for the probes.
 */
#include <string.h>

#include "core/byteorder.h"
#include "core/clock.h"
#include "core/csum.h"
#include "daemon/vwired.h"

#define VWIRED_LIVE_IDLE	    (250 * NSEC_PER_MSEC)
#define VWIRED_LIVE_INTERVAL	    (100 * NSEC_PER_MSEC)
#define VWIRED_LIVE_MISSES	    3
#define VWIRED_LIVE_SILENT_INTERVAL (500 * NSEC_PER_MSEC)
#define VWIRED_LIVE_LATE	    (50 * NSEC_PER_MSEC)
#define VWIRED_LIVE_MAX_WAIT	    (250 * NSEC_PER_MSEC)
/*
 * Round trips for `[Wire] Cost = auto` (DESIGN.md, "Latency-aware costs"): the answers to
 * the probes above, and while traffic keeps those quiet, one probe every RTT_INTERVAL:
 * a packet and its answer every 2 s, within the failover issue's budget of less than one
 * packet a second per wire while traffic flows, and 15 samples in the hysteresis's 30 s.
 * Through warm-up (WC_WARMUP_SAMPLES) one every RTT_WARMUP_INTERVAL: every wire is past it
 * about 4 s after its session came up, on both sides alike (the side that answers the
 * liveness probes has no samples from them), so Priority = auto's start-up (wirecost.h)
 * ends at about the same time on every host; a probe and an answer every 250 ms for 4 s
 * is what the liveness probes of an idle wire send anyway.
 */
#define VWIRED_RTT_INTERVAL	   (2 * NSEC_PER_SEC)
#define VWIRED_RTT_WARMUP_INTERVAL (250 * NSEC_PER_MSEC)

/* The echo payload: 8 bytes saying what it is, 8 of the sender's clock (for round trips). */
#define LIVE_IP_LEN	  20
#define LIVE_ICMP_LEN	  8
#define LIVE_DATA_LEN	  16
#define LIVE_LEN	  (LIVE_IP_LEN + LIVE_ICMP_LEN + LIVE_DATA_LEN)
#define ICMP_ECHO_REPLY	  0
#define ICMP_ECHO_REQUEST 8
#define LIVE_ICMP_ID	  0x7677

static const uint8_t probe_magic[8] = "vwirelv1";
static const uint8_t goodbye_magic[8] = "vwirebye";

/* An echo request or reply from src to dst carrying magic; NULL when the pool is empty. */
static struct pkt *echo_packet(struct pkt_pool *pool, const uint8_t src[4], const uint8_t dst[4],
			       uint8_t type, uint16_t seq, const uint8_t magic[8], uint64_t now)
{
	struct pkt *p = pkt_alloc(pool);
	uint8_t *h;

	if (!p)
		return NULL;
	h = pkt_put(p, LIVE_LEN);
	if (!h) {
		pkt_free(p);
		return NULL;
	}
	memset(h, 0, LIVE_LEN);
	h[0] = 0x45;
	put_be16(h + 2, LIVE_LEN);
	put_be16(h + 6, 0x4000); /* DF: never worth fragmenting */
	h[8] = 64;
	h[9] = 1; /* ICMP */
	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	put_be16(h + 10, csum_ipv4_header(h, LIVE_IP_LEN));
	h[20] = type;
	put_be16(h + 24, LIVE_ICMP_ID);
	put_be16(h + 26, seq);
	memcpy(h + 28, magic, 8);
	put_be64(h + 36, now);
	put_be16(h + 22, csum_fold(csum_partial(h + 20, LIVE_ICMP_LEN + LIVE_DATA_LEN, 0)));
	return p;
}

bool vwired_liveness_heard(struct vw_liveness *l, uint64_t rx)
{
	if (rx == l->seen_rx)
		return false;
	l->seen_rx = rx;
	l->unanswered = 0;
	l->goodbye = false;
	l->wait_until = 0;
	l->probe_at = rx + VWIRED_LIVE_IDLE;
	if (!l->silent)
		return false;
	l->silent = false;
	return true;
}

/* The peer said something since we last looked: it is there. */
static void note_rx(struct vwired_shared *sh, struct vw_wire *wire)
{
	if (vwired_liveness_heard(&wire->live, wire->peer->last_authenticated_rx))
		sh->wires_dirty = true;
}

const char *vwired_wire_state_name(const struct vw_wire *wire)
{
	if (wire->up)
		return "up";
	if (wire->live.silent)
		return wire->live.goodbye ? "left" : "silent";
	return "down";
}

bool vwired_wire_alive(struct vwired_shared *sh, struct vw_wire *wire)
{
	note_rx(sh, wire);
	return !wire->live.silent;
}

/* A probe to the wire's Remote into out; *sent counts it. */
static void probe(struct vwired_worker *w, struct vwired_shared *sh, struct vw_wire *wire,
		  struct pkt_vec *out, uint64_t now, uint64_t *sent)
{
	struct pkt *p = echo_packet(&w->d->pool, sh->vx.cfg.local, wire->remote, ICMP_ECHO_REQUEST,
				    wire->live.seq++, probe_magic, now);

	if (p && pkt_vec_add(out, p))
		(*sent)++;
	else if (p)
		pkt_free(p);
}

/*
 * Silencing a wire needs this host to have read what the peer sent. A check that comes
 * long after its time means vwired did not run for a while (a loaded host, a paused VM),
 * and a datagram waiting in a worker's socket (input_waiting) means a worker is behind:
 * either way the answer may be there unread, and calling a live peer silent would move the
 * tree for nothing. The decision waits for the workers to read, VWIRED_LIVE_LATE at a
 * time and VWIRED_LIVE_MAX_WAIT in all, so a host that is always behind (a flood keeps
 * its sockets full) still notices a dead peer, that much later.
 */
static bool silence_must_wait(struct vw_liveness *l, uint64_t now, bool (*input_waiting)(void *),
			      void *ctx)
{
	bool late = now > l->probe_at + VWIRED_LIVE_LATE;

	if (!l->wait_until)
		l->wait_until = now + VWIRED_LIVE_MAX_WAIT;
	if (now >= l->wait_until || (!late && !input_waiting(ctx)))
		return false;
	l->waits++;
	l->probe_at = now + VWIRED_LIVE_LATE;
	return true;
}

bool vwired_liveness_check(struct vw_liveness *l, uint64_t rx, uint64_t now,
			   bool (*input_waiting)(void *ctx), void *ctx, bool *changed)
{
	uint64_t quiet_until;

	*changed = vwired_liveness_heard(l, rx);
	quiet_until = l->seen_rx + VWIRED_LIVE_IDLE;
	if (l->probed_at + VWIRED_LIVE_IDLE + VWIRED_LIVE_INTERVAL > quiet_until)
		quiet_until = l->probed_at + VWIRED_LIVE_IDLE + VWIRED_LIVE_INTERVAL;
	if (now < quiet_until) {
		l->probe_at = quiet_until;
		return false;
	}
	if (now < l->probe_at)
		return false;
	if (l->unanswered >= VWIRED_LIVE_MISSES && !l->silent) {
		if (silence_must_wait(l, now, input_waiting, ctx))
			return false;
		l->wait_until = 0;
		l->silent = true;
		l->silences++;
		*changed = true;
	}
	if (l->unanswered < VWIRED_LIVE_MISSES)
		l->unanswered++;
	l->probe_at = now + (l->silent ? VWIRED_LIVE_SILENT_INTERVAL : VWIRED_LIVE_INTERVAL);
	return true;
}

/* Whether any worker has datagrams it has not read yet. */
static bool workers_behind(void *ctx)
{
	const struct vwired *d = ctx;

	for (uint32_t i = 0; i < d->n_workers; i++)
		if (d->workers[i].udp && io_udp_has_input(d->workers[i].udp))
			return true;
	return false;
}

/* One wire's part of the tick: probes while its peer is quiet, silence after the misses. */
static void wire_tick(struct vwired_worker *w, struct vwired_shared *sh, struct vw_wire *wire,
		      struct pkt_vec *out, uint64_t now)
{
	bool changed;

	if (!wire->peer || !wg_peer_has_session(wire->peer, now)) {
		/* Nothing to probe through: a new session is the next sign of life. */
		wire->live.probe_at = UINT64_MAX;
		return;
	}
	if (vwired_liveness_check(&wire->live, wire->peer->last_authenticated_rx, now,
				  workers_behind, w->d, &changed))
		probe(w, sh, wire, out, now, &wire->live.probes_sent);
	if (changed)
		sh->wires_dirty = true;
}

/* A probe for the round trip alone, whether or not the peer is quiet: it counts no miss. */
static void rtt_probe_due(struct vwired_worker *w, struct vwired_shared *sh, struct vw_wire *wire,
			  struct pkt_vec *out, uint64_t now)
{
	struct vw_rtt *r = &wire->rtt;

	if (!wire->peer || !wg_peer_has_session(wire->peer, now)) {
		r->probe_at = UINT64_MAX; /* the first tick with a session probes */
		return;
	}
	if (r->probe_at != UINT64_MAX && now < r->probe_at)
		return;
	r->probe_at = now + (r->rtt.samples <= WC_WARMUP_SAMPLES ? VWIRED_RTT_WARMUP_INTERVAL
								 : VWIRED_RTT_INTERVAL);
	probe(w, sh, wire, out, now, &r->probes_sent);
}

/*
 * An answer to one of our probes: it carries our clock of when it left. A peer could put
 * anything there; what cannot be a round trip is counted and left out.
 */
static void rtt_sample(struct vwired_shared *sh, struct vw_wire *wire, const struct pkt *p,
		       uint64_t now)
{
	uint64_t sent = get_be64(p->data + 36);

	if (sent >= now || !wc_rtt_sample(&wire->rtt.rtt, now - sent)) {
		wire->rtt.bad_samples++;
		return;
	}
	br_set_port_rtt(&sh->br, wire->port, wire->rtt.rtt.srtt);
	if (wc_hyst_update(&wire->rtt.hyst, &wire->rtt.rtt, now) ||
	    wire->rtt.rtt.samples == WC_WARMUP_SAMPLES + 1) /* past warm-up: Priority = auto */
		sh->rtt_dirty = true;
}

void vwired_liveness_tick(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now)
{
	struct pkt_vec out;

	pkt_vec_init(&out);
	for (uint32_t i = 0; i < sh->n_wires; i++) {
		if (pkt_vec_full(&out))
			vwired_tunnel_send(w, sh, &out, now);
		wire_tick(w, sh, &sh->wires[i], &out, now);
		if (pkt_vec_full(&out))
			vwired_tunnel_send(w, sh, &out, now);
		rtt_probe_due(w, sh, &sh->wires[i], &out, now);
	}
	vwired_tunnel_send(w, sh, &out, now);
}

uint64_t vwired_liveness_deadline(const struct vwired_shared *sh)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < sh->n_wires; i++) {
		const struct vw_wire *wire = &sh->wires[i];

		if (wire->peer && wire->live.probe_at < next)
			next = wire->live.probe_at;
		if (wire->peer && wire->rtt.probe_at < next)
			next = wire->rtt.probe_at;
	}
	return next;
}

/* The wire whose Remote sent p to this host's tunnel address, if p is one of ours. */
static struct vw_wire *echo_wire(struct vwired_shared *sh, const struct pkt *p, uint8_t *type,
				 const uint8_t **magic)
{
	const uint8_t *h = p->data;

	if (p->len < LIVE_LEN || h[0] != 0x45 || h[9] != 1 || (get_be16(h + 6) & 0x3fff) ||
	    get_be16(h + 2) != p->len || memcmp(h + 16, sh->vx.cfg.local, 4) ||
	    (h[20] != ICMP_ECHO_REQUEST && h[20] != ICMP_ECHO_REPLY) || h[21] != 0 ||
	    get_be16(h + 24) != LIVE_ICMP_ID ||
	    (memcmp(h + 28, probe_magic, 8) && memcmp(h + 28, goodbye_magic, 8)))
		return NULL;
	for (uint32_t i = 0; i < sh->n_wires; i++) {
		if (!memcmp(h + 12, sh->wires[i].remote, 4)) {
			*type = h[20];
			*magic = h + 28;
			return &sh->wires[i];
		}
	}
	return NULL;
}

/* Turns a probe into its answer, in place. */
static void answer_probe(struct pkt *p)
{
	uint8_t *h = p->data, a[4];

	memcpy(a, h + 12, 4);
	memcpy(h + 12, h + 16, 4);
	memcpy(h + 16, a, 4);
	h[8] = 64;
	put_be16(h + 10, 0);
	put_be16(h + 10, csum_ipv4_header(h, LIVE_IP_LEN));
	h[20] = ICMP_ECHO_REPLY;
	put_be16(h + 22, 0);
	put_be16(h + 22, csum_fold(csum_partial(h + 20, p->len - LIVE_IP_LEN, 0)));
}

void vwired_liveness_rx(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *in,
			uint64_t now)
{
	struct pkt_vec answers;
	uint32_t keep = 0;

	pkt_vec_init(&answers);
	for (uint32_t i = 0; i < in->n; i++) {
		struct pkt *p = in->p[i];
		const uint8_t *magic = NULL;
		uint8_t type = 0;
		struct vw_wire *wire = echo_wire(sh, p, &type, &magic);

		if (!wire) {
			in->p[keep++] = p;
		} else if (type == ICMP_ECHO_REPLY) {
			if (!memcmp(magic, probe_magic, 8))
				rtt_sample(sh, wire, p, now);
			pkt_free(p); /* its arrival was the sign of life */
		} else if (!memcmp(magic, goodbye_magic, 8)) {
			/* This very message moved the peer's rx time: not a sign of life. */
			wire->live.seen_rx = wire->peer ? wire->peer->last_authenticated_rx : 0;
			wire->live.unanswered = VWIRED_LIVE_MISSES;
			wire->live.goodbye = true;
			wire->live.goodbyes_rx++;
			if (!wire->live.silent) {
				wire->live.silent = true;
				wire->live.silences++;
				sh->wires_dirty = true;
			}
			pkt_free(p);
		} else {
			wire->live.probed_at = now; /* the peer is watching: no need for both */
			answer_probe(p);
			pkt_vec_add(&answers, p); /* room: as large as in */
		}
	}
	in->n = keep;
	vwired_tunnel_send(w, sh, &answers, now);
}

void vwired_liveness_goodbye(struct vwired *d)
{
	struct vwired_worker *w0 = &d->workers[0];
	struct vwired_shared *sh = vwired_lock(w0);
	uint64_t now = vw_clock_mono_ns();
	struct pkt_vec plain, out;

	pkt_vec_init(&plain);
	pkt_vec_init(&out);
	for (uint32_t i = 0; i < sh->n_wires && !pkt_vec_full(&plain); i++) {
		struct vw_wire *wire = &sh->wires[i];
		struct pkt *p;

		if (!wire->up)
			continue;
		p = echo_packet(&d->pool, sh->vx.cfg.local, wire->remote, ICMP_ECHO_REQUEST,
				wire->live.seq++, goodbye_magic, now);
		if (p)
			pkt_vec_add(&plain, p);
	}
	/* Sealed here and sent at once: the loop has stopped, the backlog would wait for it. */
	while (plain.n) {
		wg_device_send(&sh->wg, &plain, now, NULL, &out);
		if (w0->udp)
			io_udp_send_now(w0->udp, &out);
		else
			pkt_vec_free(&out);
	}
	vwired_unlock(w0);
}
