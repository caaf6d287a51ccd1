/* SPDX-License-Identifier: MIT */
/*
 * vwired's workers. N threads, each with its own event loop (its own ring), its own UDP
 * socket in the listen port's SO_REUSEPORT group and its own queue of the multi-queue TUN
 * and TAPs: the kernel spreads flows over the sockets and queues, so the system calls and
 * the kernel's copies of different flows run on different cores. Worker 0 is the main
 * thread and alone runs the timers, signals and control sockets.
 *
 * What they share (struct vwired_shared: the WireGuard device, so each peer's nonce
 * counter, replay window and timers change in one order, exactly as with one thread; the
 * bridge, VXLAN, reassembly and the counters) is serialized by one lock, d->lock. A
 * worker takes it for each batch it got, and the datapath is handed both the shared
 * state and the worker, whose own loop, socket and queues it sends through. What runs
 * beside the other workers, outside the lock: the system calls, the AEAD of data messages
 * (job lists the device fills under the lock, run after it: vwired_unlock for sends,
 * datapath.c for receives) and the X25519 of queued handshakes (datapath.c). The packet
 * pool is shared (pkt_pool_share): a packet one worker read may be staged and later sent
 * by another.
 *
 * Workers other than 0 never touch another loop: what they need from the others (stop,
 * rebind to a new listen port, a new fwmark, an earlier deadline for worker 0) comes as a
 * write to their wake eventfd, and they look at the shared state under the lock. That
 * makes each loop one thread's (vwired_loop_opts: io_uring's single-issuer rings with
 * deferred completion work): the main thread sets a worker's loop up, the worker runs it
 * and frees it when it stops.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "daemon/vwired.h"

/* Each loop belongs to its worker's thread: worker 0's to the main thread (vwired_free). */
const struct io_loop_opts vwired_loop_opts = {.one_thread = true, .rx_depth = VWIRED_RX_DEPTH};

uint32_t vwired_workers_wanted(const struct vwired_options *opt)
{
	long n = opt->workers ? (long)opt->workers : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > VWIRED_MAX_WORKERS)
		n = VWIRED_MAX_WORKERS;
	return (uint32_t)n;
}

/*
 * Counted so that vwirectl show says how much of a worker's time the lock serializes. A
 * clock read when it is got and one when it is let go (a third when it had to wait); a
 * vDSO read per batch, not per packet.
 */
struct vwired_shared *vwired_lock(struct vwired_worker *w)
{
	uint64_t asked;

	if (pthread_mutex_trylock(&w->d->lock) == 0) {
		w->lock_since = vw_clock_mono_ns();
	} else {
		asked = vw_clock_mono_ns();
		pthread_mutex_lock(&w->d->lock);
		w->lock_since = vw_clock_mono_ns();
		w->lock_contended++;
		w->lock_wait_ns += w->lock_since - asked;
	}
	w->lock_acquired++;
	return &w->d->sh;
}

/* The io counters belong to the worker's loop: only its own thread reads them. */
static void publish_counters(struct vwired_worker *w)
{
	const struct io_stats *us = w->udp ? io_udp_stats(w->udp) : NULL;
	const struct io_stats *ts = w->tun ? io_tun_stats(w->tun) : NULL;

	w->udp_rx = us ? us->rx_packets : 0;
	w->udp_tx = us ? us->tx_packets : 0;
	w->tun_rx = ts ? ts->rx_packets : 0;
	w->tun_tx = ts ? ts->tx_packets : 0;
}

/*
 * The packets' counters were taken under the lock; their AEAD and sends need only this
 * worker's own jobs, packets and socket, so they run after it, beside the other workers.
 */
void vwired_send_backlog(struct vwired_worker *w)
{
	struct pkt_vec v;
	uint32_t i = 0;

	wg_encrypt_jobs_run(w->later.seal);
	while (i < w->backlog_n) {
		pkt_vec_init(&v);
		while (i < w->backlog_n && pkt_vec_add(&v, w->backlog[i]))
			i++;
		io_udp_send(w->loop, w->udp, &v);
	}
	w->backlog_n = 0;
}

void vwired_unlock(struct vwired_worker *w)
{
	publish_counters(w);
	w->lock_held_ns += vw_clock_mono_ns() - w->lock_since;
	pthread_mutex_unlock(&w->d->lock);
	if (w->backlog_n || w->later.seal->n)
		vwired_send_backlog(w);
}

static void wake(struct vwired_worker *w)
{
	uint64_t one = 1;

	if (w->wake_fd >= 0)
		(void)!write(w->wake_fd, &one, sizeof(one));
}

/*
 * A worker's socket follows worker 0's: same port (its SO_REUSEPORT group), same mark.
 * Under the lock: worker 0's socket and the fwmark change only under it.
 */
static void sync_socket(struct vwired_worker *w, const struct vwired_shared *sh)
{
	uint16_t port = io_udp_port(w->d->workers[0].udp);
	int rc;

	if (w->udp && io_udp_port(w->udp) != port && (rc = io_udp_set_port(w->udp, port)) < 0)
		vw_warn("worker %u: cannot move to UDP port %u: %s", w->id, port, strerror(-rc));
	if (w->udp && w->fwmark != sh->fwmark) {
		if ((rc = io_udp_set_fwmark(w->udp, sh->fwmark)) < 0)
			vw_warn("worker %u: cannot set fwmark: %s", w->id, strerror(-rc));
		w->fwmark = sh->fwmark;
	}
}

static void on_wake(void *ctx, int fd, uint32_t events)
{
	struct vwired_worker *w = ctx;
	struct vwired_shared *sh;
	uint64_t n;

	(void)events;
	(void)!read(fd, &n, sizeof(n));
	sh = vwired_lock(w);
	if (sh->stopping)
		io_loop_stop(w->loop);
	else if (w->id == 0)
		vwired_rearm_timers(w, sh);
	else
		sync_socket(w, sh);
	vwired_unlock(w);
}

void vwired_wake_worker(struct vwired *d, uint32_t i)
{
	if (i < d->n_workers)
		wake(&d->workers[i]);
}

void vwired_wake_others(struct vwired *d)
{
	for (uint32_t i = 1; i < d->n_workers; i++)
		wake(&d->workers[i]);
}

void vwired_stop(struct vwired_worker *w, struct vwired_shared *sh)
{
	struct vwired *d = w->d;

	sh->stopping = true;
	for (uint32_t i = 0; i < d->n_workers; i++) {
		if (&d->workers[i] == w)
			io_loop_stop(w->loop);
		else
			wake(&d->workers[i]);
	}
}

/* The AEAD outside the lock, in batches, needs job lists and a send backlog per worker. */
static int alloc_deferral(struct vwired_worker *w)
{
	w->later.seal = calloc(1, sizeof(*w->later.seal));
	w->later.open = calloc(1, sizeof(*w->later.open));
	w->hs_jobs = calloc(1, sizeof(*w->hs_jobs));
	w->backlog = calloc(VWIRED_BACKLOG_MAX, sizeof(*w->backlog));
	return w->later.seal && w->later.open && w->hs_jobs && w->backlog ? 0 : -ENOMEM;
}

/* The lists hold key copies: wiped before they go. */
static void free_deferral(struct vwired_worker *w)
{
	if (w->later.seal)
		crypto_wipe(w->later.seal, sizeof(*w->later.seal));
	if (w->later.open)
		crypto_wipe(w->later.open, sizeof(*w->later.open));
	if (w->hs_jobs)
		crypto_wipe(w->hs_jobs, sizeof(*w->hs_jobs));
	free(w->later.seal);
	free(w->later.open);
	free(w->hs_jobs);
	free(w->backlog);
	w->later.seal = NULL;
	w->later.open = NULL;
	w->hs_jobs = NULL;
	w->backlog = NULL;
}

/* Worker 0's queue, offloading where the kernel lets it; mq: IFF_MULTI_QUEUE. */
static struct io_tun *open_queue0(struct vwired *d, const char *name, bool tap, bool mq,
				  io_tun_rx_cb cb)
{
	struct io_loop *loop = d->workers[0].loop;
	const char *what = tap ? "TAP" : "TUN";
	struct io_tun *t;

	if (d->opt.offload) {
		t = io_tun_open_queue(loop, name, tap ? IO_DEV_TAP_VNET : IO_DEV_TUN_VNET, mq, cb,
				      &d->workers[0]);
		/* EINVAL with multi-queue is the device's queueing, not its offloads. */
		if (t || (mq && errno == EINVAL))
			return t;
		vw_warn("%s: %s offloads refused (%s): plain %s", name, what, strerror(errno),
			what);
	}
	return io_tun_open_queue(loop, name, tap ? IO_DEV_TAP : IO_DEV_TUN, mq, cb, &d->workers[0]);
}

struct io_tun *vwired_open_first_queue(struct vwired *d, const char *name, bool tap,
				       io_tun_rx_cb cb)
{
	struct io_tun *t = open_queue0(d, name, tap, d->n_workers > 1, cb);

	if (!t && d->n_workers > 1 && errno == EINVAL) {
		vw_info("%s: a single-queue device: running one worker", name);
		d->n_workers = 1;
		t = open_queue0(d, name, tap, false, cb);
	}
	return t;
}

static int watch_wakes(struct vwired_worker *w)
{
	int rc;

	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0)
		return -errno;
	if ((rc = io_watch_fd(w->loop, w->wake_fd, on_wake, w)) < 0) {
		close(w->wake_fd);
		w->wake_fd = -1;
		return rc;
	}
	return 0;
}

int vwired_workers_prepare(struct vwired *d)
{
	int rc;

	/* One worker defers too: the AEAD then runs on whole batches (aead_seal_batch). */
	if ((rc = alloc_deferral(&d->workers[0])) < 0) {
		vw_err("cannot set up worker 0's job lists: %s", strerror(-rc));
		return -1;
	}
	if (d->n_workers < 2)
		return 0;
	if (!pkt_pool_share(&d->pool)) {
		vw_err("cannot share the packet pool between workers");
		return -1;
	}
	if ((rc = watch_wakes(&d->workers[0])) < 0) {
		vw_err("cannot set up worker 0 for other workers: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

/*
 * The worker's loop and what is on it. The wake eventfd stays open (close_worker):
 * other threads may still write to it until the worker is joined.
 */
static void close_loop(struct vwired_worker *w)
{
	for (uint32_t p = 0; p < BR_MAX_PORTS; p++)
		if (w->taps[p])
			io_tun_close(w->taps[p]);
	if (w->tun)
		io_tun_close(w->tun);
	if (w->udp)
		io_udp_close(w->udp);
	if (w->wake_fd >= 0 && w->loop)
		io_unwatch_fd(w->loop, w->wake_fd);
	if (w->loop)
		io_loop_free(w->loop);
	memset(w->taps, 0, sizeof(w->taps));
	w->tun = NULL;
	w->udp = NULL;
	w->loop = NULL;
}

static void close_worker(struct vwired_worker *w)
{
	close_loop(w);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	w->wake_fd = -1;
	free_deferral(w);
}

/* Worker i's loop, socket and queues, like worker 0's. */
static int open_worker(struct vwired *d, struct vwired_worker *w)
{
	const struct vwired_worker *w0 = &d->workers[0];
	int rc;

	/* Worker 0 already chose (and logged) the backend: the others take the same. */
	w->loop = io_loop_new(io_loop_backend(w0->loop), &d->pool, &vwired_loop_opts);
	if (!w->loop)
		return -errno;
	if ((rc = watch_wakes(w)) < 0 || (rc = alloc_deferral(w)) < 0)
		return rc;
	w->udp = io_udp_open_shared(w->loop, io_udp_port(w0->udp), true, vwired_on_udp_rx, w);
	if (!w->udp)
		return -errno;
	vwired_udp_offloads(d, w->udp);
	sync_socket(w, &d->sh);
	if (w0->tun) {
		w->tun = io_tun_open_queue(w->loop, io_tun_name(w0->tun),
					   io_tun_offloads(w0->tun) ? IO_DEV_TUN_VNET : IO_DEV_TUN,
					   true, vwired_on_tun_rx, w);
		if (!w->tun)
			return -errno;
		io_tun_on_error(w->tun, vwired_on_tun_error, w);
	}
	return vwired_bridge_open_queues(d, w);
}

void vwired_workers_open(struct vwired *d)
{
	for (uint32_t i = 1; i < d->n_workers; i++) {
		int rc = open_worker(d, &d->workers[i]);

		if (rc < 0) {
			vw_warn("cannot open worker %u (%s): running %u worker%s", i, strerror(-rc),
				i, i == 1 ? "" : "s");
			close_worker(&d->workers[i]);
			d->n_workers = i;
			break;
		}
	}
}

static void *worker_main(void *arg)
{
	struct vwired_worker *w = arg;
	int rc = io_loop_run(w->loop);

	if (rc < 0)
		vw_err("worker %u: event loop failed: %s", w->id, strerror(-rc));
	/* Its loop is this thread's alone (vwired_loop_opts): it goes here, not at join. */
	close_loop(w);
	return NULL;
}

void vwired_workers_start(struct vwired *d)
{
	/* What start-up sent (STP, keepalives for the wires) waits in worker 0's backlog. */
	if (d->workers[0].backlog_n)
		vwired_send_backlog(&d->workers[0]);
	for (uint32_t i = 1; i < d->n_workers; i++) {
		struct vwired_worker *w = &d->workers[i];
		int rc = pthread_create(&w->thread, NULL, worker_main, w);

		if (rc) {
			/* Its socket and queues stay open but idle: the others carry the flows. */
			vw_warn("cannot start worker %u: %s", i, strerror(rc));
			continue;
		}
		w->running = true;
	}
}

void vwired_workers_stop(struct vwired *d)
{
	struct vwired_shared *sh = vwired_lock(&d->workers[0]);

	sh->stopping = true;
	vwired_wake_others(d);
	vwired_unlock(&d->workers[0]);
	for (uint32_t i = 1; i < d->n_workers; i++) {
		if (d->workers[i].running)
			pthread_join(d->workers[i].thread, NULL);
		d->workers[i].running = false;
	}
}

void vwired_workers_free(struct vwired *d)
{
	struct vwired_worker *w0 = &d->workers[0];

	for (uint32_t i = 1; i < d->n_workers; i++)
		close_worker(&d->workers[i]);
	if (w0->wake_fd >= 0 && w0->loop) {
		io_unwatch_fd(w0->loop, w0->wake_fd);
		close(w0->wake_fd);
		w0->wake_fd = -1;
	}
	free_deferral(w0);
}
