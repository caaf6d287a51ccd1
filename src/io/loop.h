/* SPDX-License-Identifier: MIT */
#ifndef VW_IO_LOOP_H
#define VW_IO_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pkt.h"

/*
 * The event loop: the only code on the packet path that makes system calls
 * (DESIGN.md principle 2). Two backends behind one API:
 *
 *   io_uring  every receive, send, TUN/TAP read and write, fd poll and the
 *             deadline is an SQE; many SQEs go in one io_uring_submit and
 *             completions are reaped in batches.
 *   epoll     nonblocking fds; recvmmsg/sendmmsg for UDP, read/write loops
 *             for TUN/TAP, the deadline as the epoll_wait timeout.
 *
 * IO_AUTO takes io_uring and falls back to epoll, with one log line, where
 * io_uring is refused (ENOSYS under qemu-user or old kernels, EPERM under a
 * seccomp profile) or lacks what vwire needs.
 *
 * Single-threaded: a loop and everything opened on it belong to one thread (a one_thread
 * loop may be set up by another first; see io_loop_opts). Callbacks run inside
 * io_loop_run(). vwired runs one loop per worker, all on one shared pool.
 *
 * Ownership rules
 *  - Packets: every pkt handed to a send/write function belongs to the loop
 *    from the call on, whatever happens (sent, failed, dropped: always counted)
 *    and goes back to its pool when the operation is over. The vector is
 *    emptied by the call; the caller keeps the vector itself.
 *    Packets must come from the loop's pool (they are dropped otherwise).
 *  - Received packets: the rx callback gets a vector whose packets belong to
 *    the callee from then on: it must free or pass on each of them. The vector
 *    is the loop's; it is emptied when the callback returns.
 *  - Receives in flight hold pool packets (rx_depth per source). When the pool
 *    is empty a receive is not armed, rx_nobuf is counted, and it is armed
 *    again on a later iteration once packets were freed.
 *  - io_uring with provided buffer rings and multishot receives (UDP: kernel
 *    6.0, TUN/TAP reads: 6.7; else one SQE per receive as above): each source
 *    has a ring of rx_depth (rounded up to a power of two) pool packets that
 *    its one multishot receive fills. Packets in a ring are the loop's; the
 *    ring is topped up from the pool once per iteration (rx_nobuf when the
 *    pool runs short). Closing or rebinding cancels the receive; once its last
 *    completion is reaped the ring is unregistered and every packet still in
 *    it goes back to the pool.
 *  - io_uring SQEs and the per-operation state (msghdr, iovec, address) are
 *    the loop's; the memory an operation points into stays valid until its
 *    completion is reaped, also across close: closing cancels the operations
 *    and the object is freed only once they have all completed.
 *  - io_loop_free cancels everything in flight, waits for the completions,
 *    returns every buffer to the pool and closes every fd it opened.
 *    The pool is the caller's and must outlive the loop.
 *  - Closing a UDP socket, TUN/TAP or fd watch from inside a callback is
 *    allowed (memory is released at the end of the iteration); io_loop_free
 *    from inside a callback is not.
 */

enum io_backend { IO_AUTO, IO_URING, IO_EPOLL };

#define IO_NO_DEADLINE UINT64_MAX

struct io_loop;
struct io_udp;
struct io_tun;

struct io_loop_opts {
	uint32_t rx_depth;   /* receives kept in flight per UDP socket or TUN/TAP; 0: 32 */
	uint32_t sq_entries; /* io_uring submission queue; 0: 256 */
	/* io_uring: one SQE per receive even where the kernel has multishot (tests) */
	bool no_multishot;
	/*
	 * Only one thread uses the loop: the first one to run it (io_loop_run). Before that
	 * any thread may set it up (sources, watches, sends wait for the first run); from
	 * then on only that thread may call anything on it, io_loop_free included. io_uring
	 * (6.1+) then does the kernel's completion work only when the loop waits, in
	 * batches, instead of interrupting the thread for each packet (SINGLE_ISSUER |
	 * DEFER_TASKRUN).
	 */
	bool one_thread;
};

/* Counters of one UDP socket or TUN/TAP: every drop has its reason. */
struct io_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_nobuf;     /* times a receive could not be armed: pool empty */
	uint64_t rx_truncated; /* datagram or frame larger than a buffer: dropped */
	uint64_t rx_errors;    /* receive failed */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_errors;	    /* the kernel refused the send (no route, unreachable, ...) */
	uint64_t tx_dropped;	    /* not sent: no or wrong-family destination, foreign pool,
				       closed source, socket buffer full (epoll) */
	uint64_t tx_source_retries; /* sent again without the remembered source address */
	uint64_t rx_coalesced;	    /* UDP GRO receives that held several datagrams */
};

/* NULL with errno set when the backend cannot be created. opts may be NULL. */
struct io_loop *io_loop_new(enum io_backend backend, struct pkt_pool *pool,
			    const struct io_loop_opts *opts);
void io_loop_free(struct io_loop *loop);
enum io_backend io_loop_backend(const struct io_loop *loop);
/* "io_uring" or "epoll". */
const char *io_loop_backend_name(const struct io_loop *loop);
/* True when one_thread was asked for and the kernel's io_uring granted it. */
bool io_loop_one_thread(const struct io_loop *loop);
/* "auto", "uring" (or "io_uring"), "epoll"; false when s is none of them. */
bool io_backend_parse(const char *s, enum io_backend *out);

/* Runs until io_loop_stop(); 0, or -errno when waiting itself failed. */
int io_loop_run(struct io_loop *loop);
void io_loop_stop(struct io_loop *loop);

/*
 * One loop-level deadline on the vw_clock_mono_ns() clock. When it is reached
 * the deadline is cleared and the callback runs with the current time; it
 * usually sets the next one. IO_NO_DEADLINE disarms. Setting it is cheap
 * (no system call): the backend re-arms once per iteration when needed.
 */
typedef void (*io_deadline_cb)(void *ctx, uint64_t now_ns);
void io_loop_on_deadline(struct io_loop *loop, io_deadline_cb cb, void *ctx);
void io_loop_set_deadline(struct io_loop *loop, uint64_t ns);
uint64_t io_loop_deadline(const struct io_loop *loop);

/*
 * Readiness of any fd for reading (control sockets, signalfd). events are
 * poll(2) bits (POLLIN, POLLHUP, POLLERR). The callback does the I/O itself,
 * so the fd should be nonblocking. The watch stays until io_unwatch_fd, which
 * must come before the fd is closed. -EEXIST if fd is already watched.
 */
typedef void (*io_fd_cb)(void *ctx, int fd, uint32_t events);
int io_watch_fd(struct io_loop *loop, int fd, io_fd_cb cb, void *ctx);
void io_unwatch_fd(struct io_loop *loop, int fd);

/*
 * SIGTERM, SIGINT and SIGHUP through a signalfd (blocked for normal delivery
 * while the loop lives). cb (may be NULL) runs first; TERM and INT then stop
 * the loop. io_loop_free restores the signal mask. 0 or -errno.
 */
typedef void (*io_signal_cb)(void *ctx, int signo);
int io_loop_catch_signals(struct io_loop *loop, io_signal_cb cb, void *ctx);

/*
 * UDP: one socket for IPv4 and IPv6 (AF_INET6, IPV6_V6ONLY off; AF_INET only
 * where IPv6 is missing). IPv4 peers appear as plain AF_INET endpoints, never
 * as v4-mapped IPv6. port 0 picks a random port.
 * Received packets: data at PKT_HEADROOM, p->src the sender.
 */
typedef void (*io_udp_rx_cb)(void *ctx, struct io_udp *sock, struct pkt_vec *v);
/* NULL with errno set (EADDRINUSE, ...). */
struct io_udp *io_udp_open(struct io_loop *loop, uint16_t port, io_udp_rx_cb cb, void *ctx);
/*
 * With reuseport, the socket joins port's SO_REUSEPORT group: several loops (workers)
 * each have their own socket on one port, the kernel spreads the flows among them by
 * hash, and what any of them sends leaves from the same port. Every member, the first
 * included, must be opened so (with port 0 the first picks it: pass the others
 * io_udp_port of the first). Rebinding (io_udp_set_port) keeps the option.
 */
struct io_udp *io_udp_open_shared(struct io_loop *loop, uint16_t port, bool reuseport,
				  io_udp_rx_cb cb, void *ctx);
uint16_t io_udp_port(const struct io_udp *sock);
/* Moves to another port (0: random); on failure the old socket stays. 0 or -errno. */
int io_udp_set_port(struct io_udp *sock, uint16_t port);
/* SO_MARK for routing (wg fwmark); 0 clears. 0 or -errno (EPERM without CAP_NET_ADMIN). */
int io_udp_set_fwmark(struct io_udp *sock, uint32_t mark);
/*
 * UDP GSO (UDP_SEGMENT): from now on, runs of packets in one send vector that go
 * to the same endpoint with the same length (a shorter last one allowed) leave in
 * one sendmsg, cut into datagrams by the kernel. 0, or -errno where unsupported.
 */
int io_udp_enable_gso(struct io_udp *sock);
/*
 * UDP GRO (UDP_GRO): the kernel may hand over several datagrams of one flow in one
 * receive (a GSO send over veth, a NIC's GRO); they are split into one packet each
 * before the callback. Needs receive buffers of 64 KiB (else -EMSGSIZE). 0 or -errno.
 */
int io_udp_enable_gro(struct io_udp *sock);
/* Sends each packet to p->dst. Takes every packet (see ownership rules). */
void io_udp_send(struct io_loop *loop, struct io_udp *sock, struct pkt_vec *v);
/*
 * The same, but out of the socket before it returns, whatever the backend (io_uring queues
 * sends until the loop's next wait): for the last words after the loop stopped.
 */
void io_udp_send_now(struct io_udp *sock, struct pkt_vec *v);
/*
 * Whether a datagram waits in the socket's receive queue, not yet taken by the loop: for a
 * caller on another thread, a hint that this socket's loop is behind.
 */
bool io_udp_has_input(const struct io_udp *sock);
const struct io_stats *io_udp_stats(const struct io_udp *sock);
void io_udp_close(struct io_udp *sock);

#endif
