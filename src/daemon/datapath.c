/* SPDX-License-Identifier: MIT */
/*
 * The routed packet paths of DESIGN.md, as vector moves between io and tunnel:
 *   TUN read -> wg_device_send -> UDP send
 *   UDP receive -> wg_device_receive -> UDP send (handshakes) + TUN write
 *   deadline -> wg_device_expire_timers -> UDP send
 * The device consumes its input only while the outputs have room, so each call
 * is a loop: run, flush the outputs, run again on what is left. Every function here
 * runs under the lock (it takes the shared state) for one worker, whose loop, socket
 * and queues it sends through; the loop callbacks take and let go of the lock.
 */
#include "core/clock.h"
#include "daemon/vwired.h"

void vwired_send_udp(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *out)
{
	if (!out->n)
		return;
	if (!w->udp) {
		/* Deferred jobs may point into these packets: done with them before they go. */
		wg_encrypt_jobs_run(w->later.seal);
		sh->drops[VWIRED_DROP_UDP_NO_SOCKET] += out->n;
		pkt_vec_free(out);
		return;
	}
	/* Held until the lock is let go, when their AEAD runs (vwired_unlock). */
	for (uint32_t i = 0; i < out->n; i++) {
		if (w->backlog_n == VWIRED_BACKLOG_MAX)
			vwired_send_backlog(w);
		w->backlog[w->backlog_n++] = out->p[i];
	}
	out->n = 0;
}

/*
 * An offloading device takes every packet with a vnet header: flows' runs merged first,
 * as chains of the packets themselves that the write gathers (GRO_CHAIN), not copies.
 */
static void dev_write(struct vwired_worker *w, struct vwired_shared *sh, struct io_tun *dev,
		      struct pkt_vec *v, unsigned int gro_flags)
{
	if (io_tun_offloads(dev))
		gro_coalesce(v, &w->d->pool, &sh->offload,
			     gro_flags | GRO_CHAIN | (io_tun_offloads_udp(dev) ? GRO_UDP : 0));
	io_tun_write(w->loop, dev, v);
}

static void write_tun(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *out)
{
	if (!out->n)
		return;
	if (!w->tun) {
		sh->drops[VWIRED_DROP_NO_TUN] += out->n;
		pkt_vec_free(out);
		return;
	}
	/* Only decrypted packets come here: the AEAD vouched for their checksums. */
	dev_write(w, sh, w->tun, out, GRO_IP | GRO_TRUSTED);
}

void vwired_write_tap(struct vwired_worker *w, struct vwired_shared *sh, uint32_t port,
		      struct pkt_vec *v, bool authenticated)
{
	dev_write(w, sh, w->taps[port], v, GRO_FRAMES | (authenticated ? GRO_TRUSTED : 0));
}

void vwired_tunnel_send(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *v,
			uint64_t now)
{
	struct pkt_vec out;

	pkt_vec_init(&out);
	while (v->n) {
		wg_device_send(&sh->wg, v, now, &w->later, &out);
		vwired_send_udp(w, sh, &out);
	}
}

void vwired_sync_wall_clock(struct vwired_shared *sh)
{
	sh->wg.wall_offset_ns = (int64_t)(vw_clock_wall_ns() - vw_clock_mono_ns());
}

void vwired_rearm_timers(struct vwired_worker *w, struct vwired_shared *sh)
{
	uint64_t next = wg_device_next_timer(&sh->wg);
	uint64_t br = vwired_bridge_deadline(w->d, sh);

	if (br < next)
		next = br;
	/* Only worker 0 has the timers. */
	if (w->id != 0) {
		if (next < sh->deadline) {
			sh->deadline = next;
			vwired_wake_worker(w->d, 0);
		}
		return;
	}
	sh->deadline = next;
	io_loop_set_deadline(w->loop, next == UINT64_MAX ? IO_NO_DEADLINE : next);
}

/* Decrypted inner packets: to the bridge (wires' VXLAN) or the TUN. */
static void deliver_ip(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *out_ip,
		       uint64_t now)
{
	struct pkt_vec to_tun;

	if (!sh->has_bridge) {
		write_tun(w, sh, out_ip);
		return;
	}
	pkt_vec_init(&to_tun);
	vwired_bridge_rx_ip(w, sh, out_ip, &to_tun, now);
	write_tun(w, sh, &to_tun);
}

/* The device's calls have left what they sent and delivered: what follows from them. */
static void after_device(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now)
{
	vwired_wires_follow_sessions(w, sh, now);
	vwired_rearm_timers(w, sh);
}

static void udp_rx(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *v,
		   uint64_t now)
{
	struct pkt_vec out_udp, out_ip;

	sh->udp_batches++;
	pkt_vec_init(&out_udp);
	pkt_vec_init(&out_ip);
	do {
		/* Handshakes go to the device's queue: load is judged from its depth. */
		wg_device_receive(&sh->wg, v, now, false, &w->later, &out_udp, &out_ip);
		vwired_send_udp(w, sh, &out_udp);
		deliver_ip(w, sh, &out_ip, now);
	} while (v->n);
	after_device(w, sh, now);
}

/* The second half of a receive whose data messages were opened outside the lock. */
static void udp_rx_decrypted(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now)
{
	struct pkt_vec out_udp, out_ip;

	pkt_vec_init(&out_udp);
	pkt_vec_init(&out_ip);
	while (w->later.open->n) {
		wg_device_receive_decrypted(&sh->wg, &w->later, now, &out_udp, &out_ip);
		vwired_send_udp(w, sh, &out_udp);
		deliver_ip(w, sh, &out_ip, now);
	}
	after_device(w, sh, now);
}

/*
 * Super-packets from the kernel's TSO become MTU-sized packets first, without the lock:
 * the split copies every byte and completes every segment's checksum, most of what a
 * sender held the lock for (bench/README.md, "Cores"). Each run of segments is then sent
 * under it, and sealed as the lock is let go.
 */
static void tun_rx_split(struct vwired_worker *w, struct pkt_vec *v, uint64_t now)
{
	uint32_t cursor = 0;
	bool first = true;
	struct pkt_vec segs;

	pkt_vec_init(&segs);
	while (v->n) {
		struct offload_stats st = {0};
		enum gso_batch_status status = gso_split_batch(v, &cursor, &w->d->pool, &segs, &st);
		struct vwired_shared *sh = vwired_lock(w);
		uint32_t dropped = status == GSO_BATCH_NOMEM ? v->n : 0;

		if (dropped)
			pkt_vec_free(v);
		offload_stats_add(&sh->offload, &st);
		sh->drops[VWIRED_DROP_NO_BUFFER] += dropped;
		sh->tun_batches += first;
		first = false;
		vwired_tunnel_send(w, sh, &segs, now);
		if (!v->n)
			after_device(w, sh, now);
		vwired_unlock(w);
	}
}

static void deadline(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now)
{
	struct pkt_vec out;
	bool done;

	vwired_sync_wall_clock(sh);
	pkt_vec_init(&out);
	do {
		done = wg_device_expire_timers(&sh->wg, now, &w->later, &out);
		vwired_send_udp(w, sh, &out);
	} while (!done);
	vwired_wires_follow_sessions(w, sh, now);
	vwired_bridge_tick(w, sh, now);
	vwired_rearm_timers(w, sh);
}

/*
 * Moves the device's handshake queue along (VWIRED_HANDSHAKE_TAKES, vwired.h), the X25519 of
 * its one job list outside the lock (tunnel/device.h): a flood of initiations keeps the
 * workers that take them busy, not the lock every packet needs. Called without the lock.
 */
static void handshakes_run(struct vwired_worker *w)
{
	struct wg_handshake_jobs *jobs = w->hs_jobs;
	struct vwired_shared *sh;
	struct pkt_vec out;
	uint64_t now;

	for (uint32_t r = 0; r < VWIRED_HANDSHAKE_TAKES; r++) {
		sh = vwired_lock(w);
		if (!wg_device_handshakes_queued(&sh->wg)) {
			vwired_unlock(w);
			return;
		}
		now = vw_clock_mono_ns();
		pkt_vec_init(&out);
		wg_device_handshakes_take(&sh->wg, jobs, now, &out);
		vwired_send_udp(w, sh, &out);
		if (!jobs->n) {
			vwired_rearm_timers(w, sh);
			vwired_unlock(w);
			continue;
		}
		vwired_unlock(w);
		wg_handshake_jobs_run(jobs);
		sh = vwired_lock(w);
		while (jobs->n) {
			wg_device_handshakes_finish(&sh->wg, jobs, now, &w->later, &out);
			vwired_send_udp(w, sh, &out);
		}
		after_device(w, sh, now);
		vwired_unlock(w);
		return;
	}
}

void vwired_on_udp_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct vwired_worker *w = ctx;
	uint64_t now = vw_clock_mono_ns();
	struct vwired_shared *sh = vwired_lock(w);

	(void)sock;
	udp_rx(w, sh, v, now);
	if (w->later.open->n) {
		/* Lookups were under the lock; the AEAD is not: other workers go on meanwhile. */
		vwired_unlock(w);
		wg_decrypt_jobs_run(w->later.open);
		sh = vwired_lock(w);
		udp_rx_decrypted(w, sh, now);
	}
	vwired_unlock(w);
	handshakes_run(w);
}

void vwired_on_tun_rx(void *ctx, struct io_tun *tun, struct pkt_vec *v)
{
	struct vwired_worker *w = ctx;
	uint64_t now = vw_clock_mono_ns();
	struct vwired_shared *sh;

	if (io_tun_offloads(tun)) {
		tun_rx_split(w, v, now);
		return;
	}
	sh = vwired_lock(w);
	sh->tun_batches++;
	vwired_tunnel_send(w, sh, v, now);
	after_device(w, sh, now);
	vwired_unlock(w);
}

void vwired_on_deadline(void *ctx, uint64_t now_ns)
{
	struct vwired_worker *w = ctx;

	deadline(w, vwired_lock(w), now_ns);
	vwired_unlock(w);
	/* Handshakes left in the queue make the deadline now: worker 0 takes them too. */
	handshakes_run(w);
}
