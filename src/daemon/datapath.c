/* SPDX-License-Identifier: MIT */
/*
 * The routed packet paths of DESIGN.md, as vector moves between io and tunnel:
 *   TUN read -> wg_device_send -> UDP send
 *   UDP receive -> wg_device_receive -> UDP send (handshakes) + TUN write
 *   deadline -> wg_device_expire_timers -> UDP send
 * The device consumes its input only while the outputs have room, so each call
 * is a loop: run, flush the outputs, run again on what is left.
 */
#include "core/clock.h"
#include "daemon/vwired.h"

/*
 * After each batch (and worker 0 at each deadline while the queue is not empty) a worker
 * takes handshakes off the queue up to VWIRED_HANDSHAKE_TAKES times, but runs one job list
 * at most: the X25519 it does per batch (16) stays below what a batch brings in (64), so a
 * flood fills the queue, where it counts as load, instead of the socket; and under load,
 * when messages only cost a cookie reply, it drains faster than they come.
 */
#define VWIRED_HANDSHAKE_TAKES 4

/* Sends leave through the socket of the worker that holds the lock (workers.c). */
void vwired_flush_udp(struct vwired *d, struct pkt_vec *out)
{
	struct vwired_worker *w = d->cur;

	if (!out->n)
		return;
	if (!w->udp) {
		/* Deferred jobs may point into these packets: done with them before they go. */
		if (w->jobs)
			wg_encrypt_jobs_run(w->jobs);
		d->drops[VWIRED_DROP_UDP_NO_SOCKET] += out->n;
		pkt_vec_free(out);
		return;
	}
	if (!w->backlog) {
		io_udp_send(w->loop, w->udp, out);
		return;
	}
	/* Held until the lock is let go, when their AEAD runs (workers.c). */
	for (uint32_t i = 0; i < out->n; i++) {
		if (w->backlog_n == VWIRED_BACKLOG_MAX)
			vwired_send_backlog(w);
		w->backlog[w->backlog_n++] = out->p[i];
	}
	out->n = 0;
}

static void flush_tun(struct vwired *d, struct pkt_vec *out)
{
	struct vwired_worker *w = d->cur;

	if (!out->n)
		return;
	if (!w->tun) {
		d->drops[VWIRED_DROP_NO_TUN] += out->n;
		pkt_vec_free(out);
		return;
	}
	vwired_dev_write(d, w->tun, out, false);
}

void vwired_dev_write(struct vwired *d, struct io_tun *dev, struct pkt_vec *v, bool frames)
{
	/* An offloading device takes every packet with a vnet header: flows' runs merged. */
	if (io_tun_offloads(dev))
		gro_coalesce(v, &d->pool, &d->offload,
			     (frames ? GRO_FRAMES : GRO_IP) |
				     (io_tun_offloads_udp(dev) ? GRO_UDP : 0));
	io_tun_write(d->cur->loop, dev, v);
}

void vwired_tunnel_send(struct vwired *d, struct pkt_vec *v, uint64_t now)
{
	const struct wg_aead_later later = {.seal = d->cur->jobs};
	struct pkt_vec out;

	pkt_vec_init(&out);
	while (v->n) {
		wg_device_send(&d->wg, v, now, &later, &out);
		vwired_flush_udp(d, &out);
	}
}

void vwired_sync_wall_clock(struct vwired *d)
{
	d->wg.wall_offset_ns = (int64_t)(vw_clock_wall_ns() - vw_clock_mono_ns());
}

void vwired_kick_timers(struct vwired *d)
{
	uint64_t next = wg_device_next_timer(&d->wg);
	uint64_t br = vwired_bridge_deadline(d);

	if (br < next)
		next = br;
	/* Only worker 0 has the timers; another worker wakes it when they moved earlier. */
	if (d->cur->id != 0) {
		if (next < d->timer_at) {
			d->timer_at = next;
			vwired_kick_worker(d, 0);
		}
		return;
	}
	d->timer_at = next;
	io_loop_set_deadline(d->loop, next == UINT64_MAX ? IO_NO_DEADLINE : next);
}

/* Decrypted inner packets: to the bridge (wires' VXLAN) or the TUN. */
static void deliver_ip(struct vwired *d, struct pkt_vec *out_ip, uint64_t now)
{
	struct pkt_vec to_tun;

	if (!d->has_bridge) {
		flush_tun(d, out_ip);
		return;
	}
	pkt_vec_init(&to_tun);
	vwired_bridge_rx_ip(d, out_ip, &to_tun, now);
	flush_tun(d, &to_tun);
}

static void udp_rx(struct vwired *d, struct io_udp *sock, struct pkt_vec *v, uint64_t now)
{
	const struct wg_aead_later later = {.seal = d->cur->jobs, .open = d->cur->rx_jobs};
	struct pkt_vec out_udp, out_ip;

	(void)sock;
	d->udp_batches++;
	pkt_vec_init(&out_udp);
	pkt_vec_init(&out_ip);
	do {
		/* Handshakes go to the device's queue: load is judged from its depth. */
		wg_device_receive(&d->wg, v, now, false, &later, &out_udp, &out_ip);
		vwired_flush_udp(d, &out_udp);
		deliver_ip(d, &out_ip, now);
	} while (v->n);
	vwired_after_device_calls(d, now);
	vwired_kick_timers(d);
}

/* The second half of a receive whose data messages were opened outside the lock. */
static void udp_rx_decrypted(struct vwired *d, struct wg_decrypt_jobs *jobs, uint64_t now)
{
	const struct wg_aead_later later = {.seal = d->cur->jobs, .open = jobs};
	struct pkt_vec out_udp, out_ip;

	pkt_vec_init(&out_udp);
	pkt_vec_init(&out_ip);
	while (jobs->n) {
		wg_device_receive_decrypted(&d->wg, &later, now, &out_udp, &out_ip);
		vwired_flush_udp(d, &out_udp);
		deliver_ip(d, &out_ip, now);
	}
	vwired_after_device_calls(d, now);
	vwired_kick_timers(d);
}

static void tun_rx(struct vwired *d, struct io_tun *tun, struct pkt_vec *v)
{
	uint64_t now = vw_clock_mono_ns();
	struct pkt_vec segs;

	d->tun_batches++;
	if (!io_tun_offloads(tun)) {
		vwired_tunnel_send(d, v, now);
	} else {
		/* Super-packets from the kernel's TSO become MTU-sized packets first. */
		pkt_vec_init(&segs);
		while (v->n) {
			enum gso_batch_status st =
				gso_split_batch(v, &d->gso_cursor, &d->pool, &segs, &d->offload);

			vwired_tunnel_send(d, &segs, now);
			if (st == GSO_BATCH_NOMEM) {
				d->drops[VWIRED_DROP_NO_BUFFER] += v->n;
				pkt_vec_free(v);
				d->gso_cursor = 0;
			}
		}
	}
	vwired_after_device_calls(d, now);
	vwired_kick_timers(d);
}

static void deadline(struct vwired *d, uint64_t now_ns)
{
	const struct wg_aead_later later = {.seal = d->cur->jobs};
	struct pkt_vec out;
	bool done;

	vwired_sync_wall_clock(d);
	pkt_vec_init(&out);
	do {
		done = wg_device_expire_timers(&d->wg, now_ns, &later, &out);
		vwired_flush_udp(d, &out);
	} while (!done);
	vwired_after_device_calls(d, now_ns);
	vwired_bridge_tick(d, now_ns);
	vwired_kick_timers(d);
}

/*
 * Moves the device's handshake queue along (VWIRED_HANDSHAKE_TAKES above), the X25519 of
 * its one job list outside the lock (tunnel/device.h): a flood of initiations keeps the
 * workers that take them busy, not the lock every packet needs. Called without the lock.
 */
static void handshakes_run(struct vwired *d, struct vwired_worker *w)
{
	struct wg_handshake_jobs *jobs = w->hs_jobs;
	const struct wg_aead_later later = {.seal = w->jobs};
	struct pkt_vec out;
	uint64_t now;

	for (uint32_t r = 0; r < VWIRED_HANDSHAKE_TAKES; r++) {
		vwired_lock(d, w);
		if (!wg_device_handshakes_queued(&d->wg)) {
			vwired_unlock(d);
			return;
		}
		now = vw_clock_mono_ns();
		pkt_vec_init(&out);
		wg_device_handshakes_take(&d->wg, jobs, now, &out);
		vwired_flush_udp(d, &out);
		if (!jobs->n) {
			vwired_kick_timers(d);
			vwired_unlock(d);
			continue;
		}
		vwired_unlock(d);
		wg_handshake_jobs_run(jobs);
		vwired_lock(d, w);
		while (jobs->n) {
			wg_device_handshakes_finish(&d->wg, jobs, now, &later, &out);
			vwired_flush_udp(d, &out);
		}
		vwired_after_device_calls(d, now);
		vwired_kick_timers(d);
		vwired_unlock(d);
		return;
	}
}

void vwired_on_udp_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v)
{
	struct vwired_worker *w = ctx;
	struct vwired *d = w->d;

	struct wg_decrypt_jobs *jobs = w->rx_jobs;
	uint64_t now = vw_clock_mono_ns();

	vwired_lock(d, w);
	udp_rx(d, sock, v, now);
	if (jobs && jobs->n) {
		/* Lookups were under the lock; the AEAD is not: other workers go on meanwhile. */
		vwired_unlock(d);
		wg_decrypt_jobs_run(jobs);
		vwired_lock(d, w);
		udp_rx_decrypted(d, jobs, now);
	}
	vwired_unlock(d);
	handshakes_run(d, w);
}

void vwired_on_tun_rx(void *ctx, struct io_tun *tun, struct pkt_vec *v)
{
	struct vwired_worker *w = ctx;
	struct vwired *d = w->d;

	vwired_lock(d, w);
	tun_rx(d, tun, v);
	vwired_unlock(d);
}

void vwired_on_deadline(void *ctx, uint64_t now_ns)
{
	struct vwired *d = ctx;

	vwired_lock(d, &d->workers[0]);
	deadline(d, now_ns);
	vwired_unlock(d);
	/* Handshakes left in the queue make the deadline now: worker 0 takes them too. */
	handshakes_run(d, &d->workers[0]);
}
