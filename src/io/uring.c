/* SPDX-License-Identifier: MIT */
/*
 * The io_uring backend. Each iteration: arm what is missing (receives, fd
 * polls, the deadline timeout), submit everything in one io_uring_enter that
 * also waits, then reap the completions in batches.
 *
 * A one_thread loop's ring is SINGLE_ISSUER | DEFER_TASKRUN (6.1): the kernel
 * queues the work of completing receives until the loop enters to wait, rather
 * than interrupting the thread for each packet, and a busy loop waits for a
 * batch of completions (UR_BATCH_WAIT), so it is woken once per batch.
 *
 * Receives take one of two paths per source:
 *  - multishot (where the kernel has it, unless io_loop_opts.no_multishot): a
 *    provided buffer ring of pool packets per source, its own buffer group,
 *    and ONE recvmsg (UDP) or read (TUN/TAP) SQE that keeps completing, one
 *    CQE per datagram or frame, each naming the buffer it filled. The ring is
 *    topped up once per iteration; a receive that ended (ring ran empty,
 *    cancel, error) is armed again on the next one.
 *  - per operation: rx_depth SQEs per source, each with its own pool packet.
 *
 * Per-packet operation state (msghdr, iovec, address) lives in ops[], one entry
 * per pool packet: a packet is in at most one operation at a time, so the
 * array never runs out and needs no allocation. user_data says what a
 * completion belongs to (low 3 bits: the kind):
 *   UD_PKT    generation << 35 | packet index << 3; the generation makes a
 *             cancel hit only the operation it was meant for
 *   UD_WATCH  the io_watch pointer (8-byte aligned)
 *   UD_TIMER  timer generation << 3
 *   UD_IGNORE cancels and removals, whose completions carry nothing
 *   UD_RECV   generation << 32 | buffer group << 3: a multishot receive; the
 *             generation tells the one armed now from cancelled ones
 * Anything the kernel may still write to stays allocated until its completion
 * is reaped (src->inflight, w->armed, u->inflight, bufring->live).
 */
#include "io/io_internal.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

enum { UD_PKT = 1, UD_WATCH = 2, UD_TIMER = 3, UD_IGNORE = 4, UD_RECV = 5 };
#define UD_KIND(ud) ((unsigned)((ud)&7))

enum { OP_IDLE, OP_RX, OP_TX };

#define UR_CQE_BATCH 64
/* Completions handled per iteration before the loop delivers and checks the deadline. */
#define UR_REAP_MAX    4096
#define UR_MAX_CQ      65536
#define UR_SQE_RETRIES 16
#define UR_DRAIN_NS    (2 * NSEC_PER_SEC)
/*
 * After an iteration that handled at least UR_BATCH_WAIT completions, the next wait is
 * for that many or UR_BATCH_WAIT_NS, whichever comes first: under load a packet may wait
 * 30 µs more, and the thread is woken once per batch rather than once per packet.
 */
#define UR_BATCH_WAIT	 16
#define UR_BATCH_WAIT_NS 30000

/* Kernel 6.7; liburing before 2.5 has no name for it. */
#define UR_OP_READ_MULTISHOT 49
/* The kernel takes at most 32768 buffers per ring; bids are 16 bits. */
#define UR_BUFRING_MAX 32768

/*
 * The layout the kernel writes a multishot recvmsg into, at the start of each
 * buffer: struct io_uring_recvmsg_out, the name (a sockaddr_in6 padded to 8,
 * so the control messages after it are aligned), the control messages, then
 * the payload. The buffer is registered UR_MS_OFFSET into the packet so the
 * payload starts at PKT_HEADROOM, where every receive puts it.
 */
#define UR_MS_NAMELEN 32
#define UR_MS_CTLLEN  80
#define UR_MS_HDR     (sizeof(struct io_uring_recvmsg_out) + UR_MS_NAMELEN + UR_MS_CTLLEN)
#define UR_MS_OFFSET  (PKT_HEADROOM - UR_MS_HDR)
_Static_assert(UR_MS_HDR <= PKT_HEADROOM, "recvmsg header must fit the headroom");
_Static_assert(UR_MS_CTLLEN >= CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)),
	       "room for PKTINFO and UDP_GRO");
_Static_assert(UR_MS_NAMELEN >= sizeof(struct sockaddr_in6) && UR_MS_NAMELEN % 8 == 0, "name room");

/*
 * A GSO send: the iovecs and packets of one run that leaves in one sendmsg with
 * UDP_SEGMENT. Taken from a fixed free list; the run's first packet's op owns it
 * until its completion, which frees every packet of the run.
 */
#define UR_GSO_SLOTS 64
struct ur_gso {
	struct iovec iov[IO_GSO_MAX_SEGS];
	struct pkt *pkts[IO_GSO_MAX_SEGS];
	uint32_t n;
	struct ur_gso *next_free;
};

struct ur_op {
	struct ur_gso *gso; /* TX of a GSO run: its slot; NULL for one packet */
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_in6 addr;
	union {
		size_t align; /* struct cmsghdr alignment */
		uint8_t buf[IO_PKTINFO_SPACE];
	} ctl; /* PKTINFO: the local address received at, or to send from */
	struct io_src *src;
	uint32_t gen;
	uint32_t slot;
	uint8_t kind;
};

/*
 * A source's provided buffer ring. Every bid is either in the ring, holding the
 * pool packet pkts[bid], or free (on free_bids) until the next top-up gives it a
 * packet. The ring memory and the packets in it are the kernel's to use until
 * the ring is unregistered, which waits for the last multishot's final CQE.
 */
struct ur_bufring {
	struct io_src *src;
	struct io_uring_buf_ring *ring; /* shared with the kernel; page-aligned */
	struct pkt **pkts;
	uint16_t *free_bids;
	uint32_t nfree_bids;
	uint32_t entries; /* a power of two */
	uint32_t gen;	  /* of the multishot armed now */
	uint32_t live;	  /* multishots whose final CQE is not reaped: armed + cancelled */
	uint16_t bgid;
	bool armed;
	bool worked; /* a multishot here filled a buffer or went on: the kernel has it */
	/* UDP: what the kernel lays each buffer out by (see UR_MS_HDR). */
	struct msghdr msg;
	uint8_t name[UR_MS_NAMELEN];
	uint8_t ctl[UR_MS_CTLLEN];
};

struct ur_backend {
	struct io_uring ring;
	struct ur_op *ops;
	struct ur_gso *gso_slots, *gso_free;
	uint32_t inflight;	      /* SQEs handed out whose completion is not reaped yet */
	struct ur_bufring **bufrings; /* by buffer group id */
	uint32_t nbufrings;
	uint32_t recv_gen;
	bool recv_ms; /* UDP sockets get a buffer ring and a multishot recvmsg */
	bool read_ms; /* TUN/TAP the same with a multishot read */
	struct __kernel_timespec ts;
	uint64_t timer_at;
	uint32_t timer_gen;
	bool timer_armed;
	bool timer_abs; /* absolute CLOCK_BOOTTIME timeouts (5.15+); else relative */
	/*
	 * one_thread: created disabled, so that the thread that first waits, not the one
	 * that created the ring, becomes its only submitter (SINGLE_ISSUER).
	 */
	bool disabled;
	unsigned last_reap; /* completions the last iteration handled */
};

static inline struct ur_backend *ur(struct io_loop *loop)
{
	return loop->be;
}

static inline uint64_t ud_pkt(uint32_t idx, uint32_t gen)
{
	return ((uint64_t)(gen & 0x1fffffff) << 35) | ((uint64_t)idx << 3) | UD_PKT;
}

static inline uint32_t ud_pkt_idx(uint64_t ud)
{
	return (uint32_t)(ud >> 3);
}

static inline uint32_t ud_pkt_gen(uint64_t ud)
{
	return (uint32_t)(ud >> 35);
}

static inline uint64_t ud_watch(const struct io_watch *w)
{
	return (uint64_t)(uintptr_t)w | UD_WATCH;
}

/*
 * Every io_uring_enter goes through these two. A ring created disabled (one_thread) is
 * enabled by the first wait, in the thread that runs the loop (or frees it): that thread
 * becomes its only submitter. Until then submits are left queued for that wait, so that
 * setting the loop up from another thread does not make that thread the submitter.
 */
static int ur_enable(struct ur_backend *u)
{
	int ret;

	if (!u->disabled)
		return 0;
	/* liburing 2.3 declares io_uring_enable_rings but does not export it. */
	ret = (int)syscall(__NR_io_uring_register, u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
			   NULL, 0);
	if (ret < 0)
		return -errno;
	u->disabled = false;
	return 0;
}

static int ur_submit(struct ur_backend *u)
{
	return u->disabled ? 0 : io_uring_submit(&u->ring);
}

static int ur_submit_and_wait(struct ur_backend *u, unsigned nr, struct __kernel_timespec *ts)
{
	struct io_uring_cqe *cqe;
	int ret = ur_enable(u);

	if (ret < 0)
		return ret;
	if (!ts)
		return io_uring_submit_and_wait(&u->ring, nr);
	return io_uring_submit_and_wait_timeout(&u->ring, &cqe, nr, ts, NULL);
}

/*
 * An SQE, submitting what is queued when the SQ is full. NULL only when the
 * kernel keeps refusing (completion queue overflowing); callers then drop
 * and count, or retry on the next iteration.
 */
static struct io_uring_sqe *ur_sqe(struct ur_backend *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	for (int i = 0; !sqe && i < UR_SQE_RETRIES; i++) {
		ur_submit(u);
		sqe = io_uring_get_sqe(&u->ring);
	}
	if (sqe)
		u->inflight++;
	return sqe;
}

/* Cancel one receive; its completion (-ECANCELED or data) frees the slot. */
static void ur_cancel_slots(struct ur_backend *u, struct io_src *src)
{
	for (uint32_t i = 0; i < src->depth; i++) {
		struct io_uring_sqe *sqe;
		uint32_t idx = src->slots[i];

		if (idx == IO_SLOT_EMPTY)
			continue;
		sqe = ur_sqe(u);
		if (!sqe) {
			vw_err("io_uring: cannot queue a cancel; a receive stays armed");
			continue;
		}
		io_uring_prep_cancel64(sqe, ud_pkt(idx, u->ops[idx].gen), 0);
		io_uring_sqe_set_data64(sqe, UD_IGNORE);
	}
}

static void ur_arm_rx(struct io_loop *loop, struct ur_backend *u, struct io_src *src)
{
	bool short_of_pkts = false;

	for (uint32_t i = 0; i < src->depth && src->armed < src->depth; i++) {
		struct io_uring_sqe *sqe;
		struct ur_op *op;
		struct pkt *p;
		uint32_t idx;

		if (src->slots[i] != IO_SLOT_EMPTY)
			continue;
		p = pkt_alloc(loop->pool);
		if (!p) {
			short_of_pkts = true;
			break;
		}
		sqe = ur_sqe(u);
		if (!sqe) {
			pkt_free(p);
			break;
		}
		idx = io_pkt_index(loop, p);
		op = &u->ops[idx];
		op->kind = OP_RX;
		op->src = src;
		op->slot = i;
		op->gen++;
		if (src->kind == IO_SRC_UDP) {
			op->iov.iov_base = p->data;
			op->iov.iov_len = src->cap;
			memset(&op->msg, 0, sizeof(op->msg));
			op->msg.msg_name = &op->addr;
			op->msg.msg_namelen = sizeof(op->addr);
			op->msg.msg_iov = &op->iov;
			op->msg.msg_iovlen = 1;
			op->msg.msg_control = op->ctl.buf;
			op->msg.msg_controllen = sizeof(op->ctl.buf);
			/* MSG_TRUNC: the result is the datagram's full size, so truncation shows.
			 */
			io_uring_prep_recvmsg(sqe, src->fd, &op->msg, MSG_TRUNC);
		} else {
			io_uring_prep_read(sqe, src->fd, p->data, src->cap, 0);
		}
		io_uring_sqe_set_data64(sqe, ud_pkt(idx, op->gen));
		src->slots[i] = idx;
		src->armed++;
		src->inflight++;
	}
	if (short_of_pkts)
		src->stats.rx_nobuf++;
}

static void ur_arm_watch(struct ur_backend *u, struct io_watch *w)
{
	struct io_uring_sqe *sqe = ur_sqe(u);

	if (!sqe)
		return; /* next iteration */
	io_uring_prep_poll_add(sqe, w->fd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud_watch(w));
	w->armed = true;
}

/*
 * One timeout in flight at most. A later deadline leaves it alone (it fires
 * early, the loop sees the deadline is not reached and arms again); an earlier
 * one replaces it. So moving the deadline costs nothing most of the time.
 */
static void ur_sync_timer(struct io_loop *loop, struct ur_backend *u)
{
	uint64_t dl = loop->deadline, now;
	struct io_uring_sqe *sqe;
	unsigned flags = 0;

	if (dl == IO_NO_DEADLINE || (u->timer_armed && u->timer_at <= dl))
		return;
	if (u->timer_armed) {
		sqe = ur_sqe(u);
		if (!sqe)
			return;
		io_uring_prep_timeout_remove(sqe, ((uint64_t)u->timer_gen << 3) | UD_TIMER, 0);
		io_uring_sqe_set_data64(sqe, UD_IGNORE);
		u->timer_armed = false;
	}
	sqe = ur_sqe(u);
	if (!sqe)
		return;
	if (u->timer_abs) {
		u->ts.tv_sec = (int64_t)(dl / NSEC_PER_SEC);
		u->ts.tv_nsec = (long long)(dl % NSEC_PER_SEC);
		flags = IORING_TIMEOUT_ABS | IORING_TIMEOUT_BOOTTIME;
	} else {
		now = vw_clock_mono_ns();
		dl = dl > now ? dl - now : 0;
		u->ts.tv_sec = (int64_t)(dl / NSEC_PER_SEC);
		u->ts.tv_nsec = (long long)(dl % NSEC_PER_SEC);
	}
	u->timer_gen++;
	io_uring_prep_timeout(sqe, &u->ts, 0, flags);
	io_uring_sqe_set_data64(sqe, ((uint64_t)u->timer_gen << 3) | UD_TIMER);
	u->timer_armed = true;
	u->timer_at = loop->deadline;
}

static void ur_rx_done(struct io_src *src, struct ur_op *op, struct pkt *p, int res)
{
	src->slots[op->slot] = IO_SLOT_EMPTY;
	src->armed--;
	if (res < 0) {
		/* Cancelled by close or rebind: not an error. */
		if (res != -ECANCELED && res != -EINTR && !src->dead && !src->failed)
			src->stats.rx_errors++;
		pkt_free(p);
		if (io_src_fatal(src, res))
			io_src_fail(src, res); /* not re-armed: it would fail at once, forever */
		return;
	}
	if ((uint32_t)res > src->cap) {
		src->stats.rx_truncated++;
		pkt_free(p);
		return;
	}
	if (src->dead) {
		pkt_free(p);
		return;
	}
	p->len = (uint32_t)res;
	if (src->kind == IO_SRC_UDP) {
		io_endpoint_from_sockaddr(&p->src, &op->addr);
		io_udp_received(src, p, io_pktinfo_parse(&op->msg, &p->src));
		return;
	}
	io_src_received(src, p);
}

/*
 * The local address a peer's endpoint remembers may be gone (the host moved): the
 * kernel refuses that source (EINVAL for IPv6, ENETUNREACH for IPv4, ...). Send the
 * packet again and let the kernel pick the source, as the kernel's WireGuard does.
 */
static bool ur_resend_without_source(struct ur_backend *u, struct ur_op *op, uint32_t idx,
				     const struct pkt *p)
{
	struct io_uring_sqe *sqe;
	size_t again = io_udp_cmsg_build(&p->dst, op->src->family, op->gso ? (uint16_t)p->len : 0,
					 false, op->ctl.buf, sizeof(op->ctl.buf));

	if (again >= op->msg.msg_controllen || !(sqe = ur_sqe(u)))
		return false;
	op->msg.msg_controllen = again;
	op->msg.msg_control = again ? op->ctl.buf : NULL;
	op->gen++;
	op->src->stats.tx_source_retries++;
	io_uring_prep_sendmsg(sqe, op->src->fd, &op->msg, 0);
	io_uring_sqe_set_data64(sqe, ud_pkt(idx, op->gen));
	return true;
}

/* The end of a send: count it, free its packet(s) and its GSO slot. */
static void ur_tx_done(struct ur_backend *u, struct ur_op *op, struct pkt *p, int res)
{
	struct io_src *src = op->src;
	struct ur_gso *g = op->gso;
	uint32_t n = g ? g->n : 1;

	for (uint32_t k = 0; k < n; k++) {
		struct pkt *q = g ? g->pkts[k] : p;

		if (res >= 0) {
			src->stats.tx_packets++;
			src->stats.tx_bytes += pkt_chain_len(q);
		} else {
			src->stats.tx_errors++;
		}
		pkt_free(q);
	}
	if (g) {
		g->next_free = u->gso_free;
		u->gso_free = g;
		op->gso = NULL;
	}
}

static void ur_pkt_done(struct io_loop *loop, struct ur_backend *u, uint64_t ud, int res)
{
	uint32_t idx = ud_pkt_idx(ud);
	struct ur_op *op;
	struct io_src *src;
	struct pkt *p;

	if (idx >= loop->pool->count)
		return;
	op = &u->ops[idx];
	if (op->kind == OP_IDLE || (op->gen & 0x1fffffff) != ud_pkt_gen(ud)) {
		vw_err("io_uring: completion for an operation not in flight");
		return;
	}
	p = &loop->pool->pkts[idx];
	src = op->src;
	src->inflight--;
	if (op->kind == OP_RX) {
		op->kind = OP_IDLE;
		ur_rx_done(src, op, p, res);
		return;
	}
	if (res < 0 && res != -ECANCELED && op->msg.msg_controllen &&
	    ur_resend_without_source(u, op, idx, p)) {
		src->inflight++;
		return;
	}
	op->kind = OP_IDLE;
	ur_tx_done(u, op, p, res);
}

/* Multishot receives into provided buffer rings */

static inline uint64_t ud_recv(uint16_t bgid, uint32_t gen)
{
	return ((uint64_t)gen << 32) | ((uint64_t)bgid << 3) | UD_RECV;
}

static bool ur_ms_wanted(const struct ur_backend *u, const struct io_src *src)
{
	return src->kind == IO_SRC_UDP ? u->recv_ms : u->read_ms;
}

static uint32_t ur_pow2(uint32_t n)
{
	uint32_t r = 1;

	while (r < n && r < UR_BUFRING_MAX)
		r <<= 1;
	return r;
}

/* A free buffer group id, growing the table when all are taken; -1 when none is left. */
static int ur_bgid_alloc(struct ur_backend *u)
{
	uint32_t old = u->nbufrings, n = old ? 2 * old : 8;
	struct ur_bufring **grown;

	for (uint32_t i = 0; i < old; i++)
		if (!u->bufrings[i])
			return (int)i;
	if (n > UINT16_MAX + 1U)
		n = UINT16_MAX + 1U;
	if (n == old)
		return -1;
	grown = realloc(u->bufrings, n * sizeof(*grown));
	if (!grown)
		return -1;
	memset(grown + old, 0, (n - old) * sizeof(*grown));
	u->bufrings = grown;
	u->nbufrings = n;
	return (int)old;
}

static void ur_bufring_release(struct ur_bufring *bufring)
{
	free(bufring->ring);
	free(bufring->pkts);
	free(bufring->free_bids);
	free(bufring);
}

static struct ur_bufring *ur_bufring_alloc(struct io_src *src)
{
	struct ur_bufring *bufring = calloc(1, sizeof(*bufring));
	size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes;
	void *mem = NULL;

	if (!bufring)
		return NULL;
	bufring->src = src;
	bufring->entries = ur_pow2(src->depth);
	bytes = (bufring->entries * sizeof(struct io_uring_buf) + page - 1) / page * page;
	bufring->pkts = calloc(bufring->entries, sizeof(*bufring->pkts));
	bufring->free_bids = malloc(bufring->entries * sizeof(*bufring->free_bids));
	if (posix_memalign(&mem, page, bytes) || !bufring->pkts || !bufring->free_bids) {
		bufring->ring = mem;
		ur_bufring_release(bufring);
		return NULL;
	}
	memset(mem, 0, bytes);
	bufring->ring = mem;
	io_uring_buf_ring_init(bufring->ring);
	for (uint32_t i = 0; i < bufring->entries; i++)
		bufring->free_bids[bufring->nfree_bids++] = (uint16_t)(bufring->entries - 1 - i);
	bufring->msg.msg_name = bufring->name;
	bufring->msg.msg_namelen = UR_MS_NAMELEN;
	bufring->msg.msg_control = bufring->ctl;
	bufring->msg.msg_controllen = UR_MS_CTLLEN;
	return bufring;
}

/*
 * Gives src a buffer ring; false leaves it on the per-operation path. A kernel
 * without buffer rings (before 5.19) turns multishot off for every source.
 */
static bool ur_bufring_new(struct ur_backend *u, struct io_src *src)
{
	struct io_uring_buf_reg reg;
	struct ur_bufring *bufring = ur_bufring_alloc(src);
	int bgid = bufring ? ur_bgid_alloc(u) : -1, ret;

	if (bgid < 0) {
		if (bufring)
			ur_bufring_release(bufring);
		return false;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)bufring->ring;
	reg.ring_entries = bufring->entries;
	reg.bgid = (uint16_t)bgid;
	ret = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (ret < 0) {
		if (ret == -EINVAL || ret == -ENOSYS || ret == -EOPNOTSUPP) {
			u->recv_ms = u->read_ms = false;
		} else {
			vw_warn("io_uring: no buffer ring (%s): one receive per operation",
				strerror(-ret));
		}
		ur_bufring_release(bufring);
		return false;
	}
	bufring->bgid = (uint16_t)bgid;
	u->bufrings[bgid] = bufring;
	src->bufring = bufring;
	return true;
}

/*
 * Unregisters and frees the ring, every packet still in it back to the pool.
 * Only once no multishot refers to it (bufring->live == 0), or the ring is gone.
 */
static void ur_bufring_free(struct ur_backend *u, struct ur_bufring *bufring, bool registered)
{
	if (registered)
		io_uring_unregister_buf_ring(&u->ring, bufring->bgid);
	for (uint32_t b = 0; b < bufring->entries; b++)
		pkt_free(bufring->pkts[b]);
	u->bufrings[bufring->bgid] = NULL;
	bufring->src->bufring = NULL;
	ur_bufring_release(bufring);
}

/* Where the kernel writes into a packet: UDP leaves room for its recvmsg header. */
static uint8_t *ur_bufring_addr(const struct io_src *src, struct pkt *p)
{
	return src->kind == IO_SRC_UDP ? p->head + UR_MS_OFFSET : p->data;
}

static uint32_t ur_bufring_len(const struct io_src *src)
{
	return src->kind == IO_SRC_UDP ? (uint32_t)UR_MS_HDR + src->cap : src->cap;
}

/* Every free bid gets a fresh pool packet; rx_nobuf when the pool runs short. */
static void ur_bufring_fill(struct io_loop *loop, struct io_src *src, struct ur_bufring *bufring)
{
	int mask = io_uring_buf_ring_mask(bufring->entries), added = 0;

	while (bufring->nfree_bids) {
		struct pkt *p = pkt_alloc(loop->pool);
		uint16_t bid;

		if (!p) {
			src->stats.rx_nobuf++;
			break;
		}
		bid = bufring->free_bids[--bufring->nfree_bids];
		bufring->pkts[bid] = p;
		io_uring_buf_ring_add(bufring->ring, ur_bufring_addr(src, p), ur_bufring_len(src),
				      bid, mask, added++);
	}
	/* One release store makes the whole batch visible to the kernel. */
	if (added)
		io_uring_buf_ring_advance(bufring->ring, added);
}

/* The packet the kernel filled (its bid leaves the ring); NULL if there is none. */
static struct pkt *ur_bufring_take(struct ur_bufring *bufring, uint32_t cqe_flags)
{
	uint32_t bid = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
	struct pkt *p;

	if (!(cqe_flags & IORING_CQE_F_BUFFER))
		return NULL;
	if (bid >= bufring->entries || !bufring->pkts[bid]) {
		vw_err("io_uring: completion names buffer %u, not in the ring", bid);
		return NULL;
	}
	p = bufring->pkts[bid];
	bufring->pkts[bid] = NULL;
	bufring->free_bids[bufring->nfree_bids++] = (uint16_t)bid;
	return p;
}

static void ur_ms_arm(struct ur_backend *u, struct io_src *src, struct ur_bufring *bufring)
{
	struct io_uring_sqe *sqe = ur_sqe(u);

	if (!sqe)
		return; /* next iteration */
	if (src->kind == IO_SRC_UDP)
		/* MSG_TRUNC: an oversized datagram shows in the out-header's flags. */
		io_uring_prep_recvmsg_multishot(sqe, src->fd, &bufring->msg, MSG_TRUNC);
	else
		/* No address and no length: the buffer and its size come from the ring. */
		io_uring_prep_rw(UR_OP_READ_MULTISHOT, sqe, src->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = bufring->bgid;
	bufring->gen = ++u->recv_gen;
	io_uring_sqe_set_data64(sqe, ud_recv(bufring->bgid, bufring->gen));
	bufring->armed = true;
	bufring->live++;
	src->inflight++;
}

/* Once per iteration: top the ring up, and arm the receive if it ended. */
static void ur_ms_prepare(struct io_loop *loop, struct ur_backend *u, struct io_src *src)
{
	struct ur_bufring *bufring = src->bufring;

	ur_bufring_fill(loop, src, bufring);
	/* Armed on an empty ring it would end at once with ENOBUFS, again and again. */
	if (!bufring->armed && bufring->nfree_bids < bufring->entries && ur_ms_wanted(u, src))
		ur_ms_arm(u, src, bufring);
}

/* Cancels the receive armed now; its final CQE (or this, if none) frees the ring. */
static void ur_ms_stop(struct ur_backend *u, struct io_src *src, struct ur_bufring *bufring)
{
	struct io_uring_sqe *sqe;

	if (bufring->armed) {
		sqe = ur_sqe(u);
		if (!sqe) {
			vw_err("io_uring: cannot queue a cancel; a receive stays armed");
			return;
		}
		io_uring_prep_cancel64(sqe, ud_recv(bufring->bgid, bufring->gen), 0);
		io_uring_sqe_set_data64(sqe, UD_IGNORE);
		bufring->armed = false;
	}
	if (!bufring->live && src->dead)
		ur_bufring_free(u, bufring, true);
}

/*
 * A UDP datagram as the kernel laid it out (UR_MS_HDR). The out-header and
 * control messages are copied out first: with an odd pool buffer size they
 * are not aligned in the packet.
 */
static void ur_ms_udp(struct io_src *src, struct ur_bufring *bufring, struct pkt *p, int res)
{
	uint8_t *buf = ur_bufring_addr(src, p);
	union {
		struct cmsghdr align;
		uint8_t buf[UR_MS_CTLLEN];
	} ctl;
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, res, &bufring->msg), out;
	struct msghdr view = {.msg_control = ctl.buf};

	if (!o) {
		src->stats.rx_errors++;
		pkt_free(p);
		return;
	}
	memcpy(&out, o, sizeof(out));
	if (out.flags & MSG_TRUNC) {
		src->stats.rx_truncated++;
		pkt_free(p);
		return;
	}
	p->data = io_uring_recvmsg_payload(o, &bufring->msg);
	p->len = io_uring_recvmsg_payload_length(o, res, &bufring->msg);
	if (out.namelen >= sizeof(struct sockaddr_in) && out.namelen <= UR_MS_NAMELEN)
		io_endpoint_from_sockaddr(&p->src, io_uring_recvmsg_name(o));
	view.msg_controllen = out.controllen < UR_MS_CTLLEN ? out.controllen : UR_MS_CTLLEN;
	memcpy(ctl.buf, buf + sizeof(out) + UR_MS_NAMELEN, view.msg_controllen);
	io_udp_received(src, p, io_pktinfo_parse(&view, &p->src));
}

/* One filled buffer: handed on like a per-operation receive. */
static void ur_ms_data(struct io_src *src, struct ur_bufring *bufring, struct pkt *p, int res)
{
	if (res < 0 || src->dead) {
		if (res < 0 && res != -ECANCELED)
			src->stats.rx_errors++;
		pkt_free(p);
		return;
	}
	if (src->kind == IO_SRC_UDP) {
		ur_ms_udp(src, bufring, p, res);
		return;
	}
	if ((uint32_t)res > src->cap) {
		src->stats.rx_truncated++;
		pkt_free(p);
		return;
	}
	p->len = (uint32_t)res;
	io_src_received(src, p);
}

/*
 * Ends that are no error: cancelled (close, rebind), the ring ran empty
 * (ENOBUFS; the data waits in the socket), the CQ was full (the kernel ends a
 * multishot it cannot post for). All are armed again on the next iteration.
 */
static bool ur_ms_benign_end(int res)
{
	return res >= 0 || res == -ECANCELED || res == -EINTR || res == -ENOBUFS ||
	       res == -EOVERFLOW;
}

/* How a kernel refuses a multishot it does not have (before anything was received). */
static bool ur_ms_refused(int res)
{
	return res == -EINVAL || res == -EOPNOTSUPP || res == -EBADFD;
}

/* The final CQE of one multishot receive (no IORING_CQE_F_MORE). */
static void ur_ms_end(struct ur_backend *u, struct ur_bufring *bufring, uint32_t gen, int res)
{
	struct io_src *src = bufring->src;
	bool current = bufring->armed && gen == bufring->gen;

	bufring->live--;
	src->inflight--;
	if (current)
		bufring->armed = false;
	if (current && !bufring->worked && ur_ms_refused(res)) {
		/*
		 * Buffer rings (5.19) but not this multishot (recvmsg 6.0, read 6.7),
		 * or not on this fd. A TUN/TAP deleted just now also lands here; the
		 * per-operation reads then see it gone.
		 */
		vw_warn("io_uring: no multishot %s: one receive per operation",
			src->kind == IO_SRC_UDP ? "recvmsg" : "read");
		if (src->kind == IO_SRC_UDP)
			u->recv_ms = false;
		else
			u->read_ms = false;
	} else if (!ur_ms_benign_end(res) && !src->dead && !src->failed) {
		src->stats.rx_errors++;
		if (io_src_fatal(src, res))
			io_src_fail(src, res); /* not re-armed: it would fail at once, forever */
	}
	if (!bufring->live && (src->dead || src->failed || !ur_ms_wanted(u, src)))
		ur_bufring_free(u, bufring, true);
}

static void ur_recv_done(struct ur_backend *u, uint64_t ud, int res, uint32_t flags)
{
	uint32_t bgid = (uint32_t)(ud >> 3) & 0xffff;
	struct ur_bufring *bufring = bgid < u->nbufrings ? u->bufrings[bgid] : NULL;
	struct pkt *p;

	if (!bufring) {
		vw_err("io_uring: completion for a receive not in flight");
		return;
	}
	p = ur_bufring_take(bufring, flags);
	if (p)
		ur_ms_data(bufring->src, bufring, p, res);
	if (p || (flags & IORING_CQE_F_MORE))
		bufring->worked = true;
	if (flags & IORING_CQE_F_MORE)
		return;
	/* A final CQE may still carry a datagram (the kernel ended it for a full CQ). */
	ur_ms_end(u, bufring, (uint32_t)(ud >> 32), p ? 0 : res);
}

static void ur_watch_done(struct io_watch *w, int res)
{
	w->armed = false;
	if (w->dead)
		return;
	if (res < 0) {
		/* A poll that fails (fd closed under us) would fail again: stop. */
		w->failed = true;
		w->cb(w->ctx, w->fd, POLLERR | POLLNVAL);
		return;
	}
	w->cb(w->ctx, w->fd, (uint32_t)res);
	/* Re-armed by the next ur_wait unless the callback unwatched it. */
}

static void ur_timer_done(struct ur_backend *u, uint64_t ud, int res)
{
	if ((uint32_t)(ud >> 3) != u->timer_gen)
		return; /* a replaced timeout */
	u->timer_armed = false;
	if (res == -EINVAL && u->timer_abs) {
		/* Kernel before 5.15: no CLOCK_BOOTTIME timeouts; use relative ones. */
		u->timer_abs = false;
	}
}

static void ur_complete(struct io_loop *loop, struct ur_backend *u, uint64_t ud, int res,
			uint32_t flags)
{
	switch (UD_KIND(ud)) {
	case UD_RECV:
		ur_recv_done(u, ud, res, flags);
		/* One SQE, many CQEs: the SQE is done with its last one. */
		if (flags & IORING_CQE_F_MORE)
			return;
		break;
	case UD_PKT:
		ur_pkt_done(loop, u, ud, res);
		break;
	case UD_WATCH:
		ur_watch_done((struct io_watch *)(uintptr_t)(ud & ~(uint64_t)7), res);
		break;
	case UD_TIMER:
		ur_timer_done(u, ud, res);
		break;
	case UD_IGNORE:
		break;
	default:
		return; /* liburing's own (wait timeouts on old kernels): not counted */
	}
	u->inflight--;
}

static unsigned ur_reap(struct io_loop *loop, struct ur_backend *u)
{
	struct io_uring_cqe *cqes[UR_CQE_BATCH];
	uint64_t ud[UR_CQE_BATCH];
	uint32_t flags[UR_CQE_BATCH];
	int res[UR_CQE_BATCH];
	unsigned n, total = 0;

	while (total < UR_REAP_MAX && (n = io_uring_peek_batch_cqe(&u->ring, cqes, UR_CQE_BATCH))) {
		/* Copy out and give the slots back before callbacks run (they may submit). */
		for (unsigned i = 0; i < n; i++) {
			ud[i] = cqes[i]->user_data;
			res[i] = cqes[i]->res;
			flags[i] = cqes[i]->flags;
		}
		io_uring_cq_advance(&u->ring, n);
		for (unsigned i = 0; i < n; i++)
			ur_complete(loop, u, ud[i], res[i], flags[i]);
		total += n;
	}
	return total;
}

static int ur_wait(struct io_loop *loop)
{
	struct ur_backend *u = ur(loop);
	int ret;

	for (struct io_src *s = loop->srcs; s; s = s->next) {
		if (s->dead || s->failed)
			continue;
		if (s->bufring)
			ur_ms_prepare(loop, u, s);
		else if (s->armed < s->depth)
			ur_arm_rx(loop, u, s);
	}
	for (struct io_watch *w = loop->watches; w; w = w->next)
		if (!w->dead && !w->armed && !w->failed)
			ur_arm_watch(u, w);
	ur_sync_timer(loop, u);
	if (loop->one_thread_on && u->last_reap >= UR_BATCH_WAIT) {
		/*
		 * Busy: let completions gather for a few microseconds. With deferred task
		 * work the kernel does not even wake us before there are UR_BATCH_WAIT.
		 */
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = UR_BATCH_WAIT_NS};

		ret = ur_submit_and_wait(u, UR_BATCH_WAIT, &ts);
	} else {
		ret = ur_submit_and_wait(u, 1, NULL);
	}
	if (ret == -EBADR)
		/* The kernel could not keep an overflowed CQE (out of memory): say so, go on. */
		vw_err("io_uring: completions were lost");
	else if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY && ret != -ETIME)
		return ret;
	u->last_reap = ur_reap(loop, u);
	return 0;
}

static int ur_src_add(struct io_loop *loop, struct io_src *src)
{
	struct ur_backend *u = ur(loop);

	/* Slots also with a buffer ring: a kernel refusing the multishot falls back to them. */
	src->slots = malloc(src->depth * sizeof(*src->slots));
	if (!src->slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < src->depth; i++)
		src->slots[i] = IO_SLOT_EMPTY;
	if (ur_ms_wanted(u, src))
		ur_bufring_new(u, src);
	/* Receives are armed by the next ur_wait, all in its one submit. */
	return 0;
}

static void ur_src_del(struct io_loop *loop, struct io_src *src)
{
	ur_cancel_slots(ur(loop), src);
	if (src->bufring)
		ur_ms_stop(ur(loop), src, src->bufring);
	/* Now: the receives hold the socket (and its port) until they are cancelled. */
	ur_submit(ur(loop));
	/* In-flight operations hold their own file reference: closing is safe now. */
	close(src->fd);
}

/* The ring and its packets stay; the next ur_wait arms a multishot on the new fd. */
static int ur_src_set_fd(struct io_loop *loop, struct io_src *src, int fd)
{
	ur_src_del(loop, src);
	src->fd = fd;
	return 0;
}

static void ur_send(struct io_loop *loop, struct io_src *src, struct pkt_vec *v)
{
	struct ur_backend *u = ur(loop);
	struct pkt_vec ok;

	pkt_vec_init(&ok);
	for (uint32_t i = 0; i < v->n; i++) {
		struct sockaddr_in6 probe;
		unsigned int len;

		if (src->kind == IO_SRC_UDP &&
		    !io_endpoint_to_sockaddr(&v->p[i]->dst, src->family, &probe, &len)) {
			src->stats.tx_dropped++;
			pkt_free(v->p[i]);
			continue;
		}
		pkt_vec_add(&ok, v->p[i]);
	}
	for (uint32_t i = 0, run; i < ok.n; i += run) {
		struct pkt *p = ok.p[i];
		uint32_t idx = io_pkt_index(loop, p);
		struct ur_op *op = &u->ops[idx];
		struct io_uring_sqe *sqe;
		unsigned int namelen = 0;
		struct iovec *chain = NULL;
		uint32_t nchain = 0;

		run = src->kind == IO_SRC_UDP && src->gso && u->gso_free ? io_gso_run(&ok, i) : 1;
		/* A chained super-packet's iovecs live in its own buffer until the completion. */
		if (src->kind != IO_SRC_UDP && !io_src_write_iov(src, p, &chain, &nchain))
			continue;
		sqe = ur_sqe(u);
		if (!sqe) {
			for (uint32_t k = 0; k < run; k++) {
				src->stats.tx_dropped++;
				pkt_free(ok.p[i + k]);
			}
			continue;
		}
		op->kind = OP_TX;
		op->src = src;
		op->gen++;
		op->gso = NULL;
		if (src->kind == IO_SRC_UDP) {
			io_endpoint_to_sockaddr(&p->dst, src->family, &op->addr, &namelen);
			memset(&op->msg, 0, sizeof(op->msg));
			op->msg.msg_name = &op->addr;
			op->msg.msg_namelen = namelen;
			if (run > 1) {
				struct ur_gso *g = u->gso_free;

				u->gso_free = g->next_free;
				g->n = run;
				for (uint32_t k = 0; k < run; k++) {
					g->pkts[k] = ok.p[i + k];
					g->iov[k].iov_base = ok.p[i + k]->data;
					g->iov[k].iov_len = ok.p[i + k]->len;
				}
				op->gso = g;
				op->msg.msg_iov = g->iov;
				op->msg.msg_iovlen = run;
			} else {
				op->iov.iov_base = p->data;
				op->iov.iov_len = p->len;
				op->msg.msg_iov = &op->iov;
				op->msg.msg_iovlen = 1;
			}
			op->msg.msg_controllen = io_udp_cmsg_build(
				&p->dst, src->family, run > 1 ? (uint16_t)p->len : 0, true,
				op->ctl.buf, sizeof(op->ctl.buf));
			op->msg.msg_control = op->msg.msg_controllen ? op->ctl.buf : NULL;
			io_uring_prep_sendmsg(sqe, src->fd, &op->msg, 0);
		} else if (chain) {
			io_uring_prep_writev(sqe, src->fd, chain, nchain, 0);
		} else {
			io_uring_prep_write(sqe, src->fd, p->data, p->len, 0);
		}
		io_uring_sqe_set_data64(sqe, ud_pkt(idx, op->gen));
		src->inflight++;
	}
	v->n = 0;
	/* Submitted with the next wait, together with everything else of this iteration. */
}

static int ur_watch_add(struct io_loop *loop, struct io_watch *w)
{
	(void)loop;
	if ((uintptr_t)w & 7)
		return -EINVAL;
	return 0; /* armed by the next ur_wait */
}

static void ur_watch_del(struct io_loop *loop, struct io_watch *w)
{
	struct ur_backend *u = ur(loop);
	struct io_uring_sqe *sqe;

	if (!w->armed)
		return;
	sqe = ur_sqe(u);
	if (!sqe)
		return;
	/*
	 * A cancel by user data, not a poll remove: the remove missed a poll whose fd was
	 * ready but whose completion the loop had not reaped yet, and that poll then never
	 * completed (exit waited for it, "operations did not complete").
	 */
	io_uring_prep_cancel64(sqe, ud_watch(w), 0);
	io_uring_sqe_set_data64(sqe, UD_IGNORE);
	/* Now rather than at the next wait: the poll holds a reference to the file. */
	ur_submit(u);
}

static const uint8_t ur_needed_ops[] = {
	IORING_OP_RECVMSG,	  IORING_OP_SENDMSG,	  IORING_OP_READ,	 IORING_OP_WRITE,
	IORING_OP_WRITEV,	  IORING_OP_POLL_ADD,	  IORING_OP_POLL_REMOVE, IORING_OP_TIMEOUT,
	IORING_OP_TIMEOUT_REMOVE, IORING_OP_ASYNC_CANCEL,
};

static int ur_check(struct ur_backend *u, const struct io_uring_params *p, const char **why)
{
	const unsigned feats =
		IORING_FEAT_NODROP | IORING_FEAT_SUBMIT_STABLE | IORING_FEAT_FAST_POLL;
	struct io_uring_probe *probe;
	int err = 0;

	/* Without fast poll every waiting receive would park an io-wq thread. */
	if ((p->features & feats) != feats) {
		*why = "kernel io_uring lacks fast poll (before 5.7)";
		return -EOPNOTSUPP;
	}
	probe = io_uring_get_probe_ring(&u->ring);
	if (!probe) {
		*why = "kernel io_uring has no probe (before 5.6)";
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < sizeof(ur_needed_ops); i++) {
		if (!io_uring_opcode_supported(probe, ur_needed_ops[i])) {
			*why = "kernel io_uring lacks an operation vwire uses";
			err = -EOPNOTSUPP;
			break;
		}
	}
	/* Multishot recvmsg has no opcode of its own: a kernel without it says EINVAL. */
	u->read_ms = u->recv_ms && io_uring_opcode_supported(probe, UR_OP_READ_MULTISHOT);
	io_uring_free_probe(probe);
	return err;
}

#define UR_SETUP_OPTIONAL (IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN)
#define UR_SETUP_ONE_THREAD                                                            \
	(UR_SETUP_OPTIONAL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | \
	 IORING_SETUP_R_DISABLED)

static int ur_setup(struct ur_backend *u, const struct io_loop *loop, uint32_t cq, uint32_t flags,
		    struct io_uring_params *p)
{
	memset(p, 0, sizeof(*p));
	p->flags = IORING_SETUP_CQSIZE | flags;
	p->cq_entries = cq;
	return io_uring_queue_init_params(loop->sq_entries, &u->ring, p);
}

static int ur_init(struct io_loop *loop, const char **why)
{
	struct io_uring_params p;
	struct ur_backend *u;
	uint32_t cq;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->ops = calloc(loop->pool->count, sizeof(*u->ops));
	u->gso_slots = calloc(UR_GSO_SLOTS, sizeof(*u->gso_slots));
	if (!u->ops || !u->gso_slots) {
		free(u->ops);
		free(u->gso_slots);
		free(u);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < UR_GSO_SLOTS; i++) {
		u->gso_slots[i].next_free = u->gso_free;
		u->gso_free = &u->gso_slots[i];
	}
	/* Room for a completion of every packet, watch and timer at once: no overflow. */
	cq = loop->pool->count + 1024;
	if (cq < 2 * loop->sq_entries)
		cq = 2 * loop->sq_entries;
	if (cq > UR_MAX_CQ)
		cq = UR_MAX_CQ;
	ret = -EINVAL;
	/* The one-thread flags are 6.0/6.1, the optional ones 5.18/5.19: each step older. */
	if (loop->one_thread && (ret = ur_setup(u, loop, cq, UR_SETUP_ONE_THREAD, &p)) == 0)
		u->disabled = true;
	if (ret == -EINVAL)
		ret = ur_setup(u, loop, cq, UR_SETUP_OPTIONAL, &p);
	if (ret == -EINVAL)
		ret = ur_setup(u, loop, cq, 0, &p);
	if (ret < 0) {
		free(u->ops);
		free(u->gso_slots);
		free(u);
		return ret;
	}
	u->recv_ms = !loop->no_multishot;
	ret = ur_check(u, &p, why);
	if (ret) {
		io_uring_queue_exit(&u->ring);
		free(u->ops);
		free(u->gso_slots);
		free(u);
		return ret;
	}
	u->timer_abs = true;
	loop->one_thread_on = u->disabled;
	loop->be = u;
	return 0;
}

static void ur_fini(struct io_loop *loop)
{
	struct ur_backend *u = ur(loop);
	uint64_t give_up = vw_clock_mono_ns() + UR_DRAIN_NS;
	struct io_uring_sqe *sqe;

	if (u->timer_armed && (sqe = ur_sqe(u))) {
		io_uring_prep_timeout_remove(sqe, ((uint64_t)u->timer_gen << 3) | UD_TIMER, 0);
		io_uring_sqe_set_data64(sqe, UD_IGNORE);
	}
	/* Sources and watches were closed (cancels queued): wait until the kernel let go. */
	while (u->inflight) {
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};

		ur_submit_and_wait(u, 1, &ts);
		ur_reap(loop, u);
		if (vw_clock_mono_ns() > give_up) {
			vw_err("io_uring: %u operations did not complete at exit", u->inflight);
			break;
		}
	}
	io_uring_queue_exit(&u->ring);
	/* Left only when the drain gave up; with the ring gone the kernel let go of them. */
	for (uint32_t b = 0; b < u->nbufrings; b++)
		if (u->bufrings[b])
			ur_bufring_free(u, u->bufrings[b], false);
	free(u->bufrings);
	free(u->ops);
	free(u->gso_slots);
	free(u);
	loop->be = NULL;
}

const struct io_backend_ops io_uring_ops = {
	.name = "io_uring",
	.type = IO_URING,
	.init = ur_init,
	.fini = ur_fini,
	.src_add = ur_src_add,
	.src_del = ur_src_del,
	.src_set_fd = ur_src_set_fd,
	.send = ur_send,
	.watch_add = ur_watch_add,
	.watch_del = ur_watch_del,
	.wait = ur_wait,
};
