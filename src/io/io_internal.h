/* SPDX-License-Identifier: MIT */
#ifndef VW_IO_INTERNAL_H
#define VW_IO_INTERNAL_H

/* Shared by the loop, its sources and the two backends; not for other modules. */

#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "io/loop.h"
#include "io/tun.h"

enum io_src_kind { IO_SRC_UDP, IO_SRC_TUN };

struct ur_bufring;

/*
 * A packet source: a UDP socket or a TUN/TAP fd. Received packets collect in
 * rx and go to the owner once per iteration (or when rx is full).
 */
struct io_src {
	struct io_loop *loop;
	struct io_src *next;	     /* loop->srcs */
	struct io_src *next_pending; /* loop->pending, while rx holds packets */
	enum io_src_kind kind;
	int fd;
	int family;	/* UDP: AF_INET6 (dual-stack) or AF_INET */
	uint32_t cap;	/* bytes one receive may take */
	uint32_t depth; /* receives kept in flight (uring), read per readiness (epoll) */
	bool dead;	/* closed by the owner; freed once nothing refers to it */
	bool pending;	/* on loop->pending */
	bool starved;	/* epoll: EPOLLIN off because the pool ran empty */
	int failed;	/* -errno that stopped receiving for good (TUN/TAP deleted), else 0 */
	bool gso;	/* UDP: runs of equal-sized packets to one peer go out as one GSO send */
	bool gro;	/* UDP: receives may hold several datagrams (UDP_GRO), split on arrival */
	struct pkt_vec rx;
	struct io_stats stats;
	/* io_uring: op index of each receive slot (IO_SLOT_EMPTY when not armed). */
	uint32_t *slots;
	uint32_t armed;
	uint32_t inflight; /* operations whose completion still refers to this source */
	/*
	 * io_uring: the provided buffer ring of this source's multishot receive;
	 * NULL on the one-SQE-per-receive path (slots). The backend frees it.
	 */
	struct ur_bufring *bufring;
};

#define IO_SLOT_EMPTY UINT32_MAX

struct io_udp {
	struct io_src src; /* first: the backends see sources only */
	io_udp_rx_cb cb;
	void *ctx;
	uint16_t port;
	uint32_t fwmark;
	bool reuseport; /* a member of the port's SO_REUSEPORT group (one per worker) */
};

struct io_tun {
	struct io_src src;
	io_tun_rx_cb cb;
	void *ctx;
	io_tun_err_cb err_cb;
	void *err_ctx;
	enum io_tun_kind kind;
	bool uso;	  /* offloads include UDP segmentation (TUN_F_USO4/6) */
	bool multi_queue; /* one queue of an IFF_MULTI_QUEUE device (one per worker) */
	bool attached;
	int ifindex;
	char name[IFNAMSIZ];
};

struct io_watch {
	struct io_watch *next;
	int fd;
	io_fd_cb cb;
	void *ctx;
	bool dead;
	bool armed;  /* io_uring: a POLL_ADD is in flight */
	bool failed; /* io_uring: the poll itself failed (bad fd); not re-armed */
};

/*
 * What a backend provides. Sources and watches are created and freed by the
 * common code; a backend starts and stops I/O on them and tells, through
 * src->inflight and w->armed, when nothing in the kernel refers to them any more.
 */
struct io_backend_ops {
	const char *name;
	enum io_backend type;
	/* -errno, and in *why a few words for the log, when the backend cannot run. */
	int (*init)(struct io_loop *loop, const char **why);
	/* Cancel everything in flight, wait for it, release all. */
	void (*fini)(struct io_loop *loop);
	int (*src_add)(struct io_loop *loop, struct io_src *src);
	/* Stop receiving and close src->fd. */
	void (*src_del)(struct io_loop *loop, struct io_src *src);
	/* Receive from fd from now on; the old fd is closed. */
	int (*src_set_fd)(struct io_loop *loop, struct io_src *src, int fd);
	/* Takes every packet of v (each already checked to belong to the pool). */
	void (*send)(struct io_loop *loop, struct io_src *src, struct pkt_vec *v);
	int (*watch_add)(struct io_loop *loop, struct io_watch *w);
	void (*watch_del)(struct io_loop *loop, struct io_watch *w);
	/* One iteration: arm, submit, wait for at least one event, dispatch. */
	int (*wait)(struct io_loop *loop);
};

struct io_loop {
	const struct io_backend_ops *ops;
	struct pkt_pool *pool;
	uint32_t rx_depth;
	uint32_t sq_entries;
	bool no_multishot;  /* io_uring: one SQE per receive even where multishot works */
	bool one_thread;    /* asked for (io_loop_opts) */
	bool one_thread_on; /* granted by the backend */
	bool stop;
	uint64_t deadline;
	io_deadline_cb deadline_cb;
	void *deadline_ctx;
	struct io_src *srcs;
	struct io_src *pending;
	struct io_watch *watches;
	int sigfd;
	sigset_t sigmask_old;
	io_signal_cb sig_cb;
	void *sig_ctx;
	void *be; /* backend state */
};

extern const struct io_backend_ops io_uring_ops;
extern const struct io_backend_ops io_epoll_ops;

/* Common helpers for the backends. */
void io_src_received(struct io_src *src, struct pkt *p);
/* Starts receiving on src (fd, kind and family set); 0 or -errno. */
int io_src_open_common(struct io_loop *loop, struct io_src *src);
/* Checks each packet and hands the vector to the backend; v ends empty. */
void io_src_send_common(struct io_loop *loop, struct io_src *src, struct pkt_vec *v);
/*
 * A device write of p: *iov is NULL for a packet on its own, or the iovecs of a chained
 * super-packet (pkt_chain_iov) with their count in *n. false when a chain has no room
 * for them: p is then counted as dropped and freed.
 */
bool io_src_write_iov(struct io_src *src, struct pkt *p, struct iovec **iov, uint32_t *n);
void io_src_close_common(struct io_src *src);
void io_deliver_pending(struct io_loop *loop);
/*
 * True when a receive error means the source is gone for good (a deleted
 * TUN/TAP reads EBADFD): the backend then stops receiving on it.
 */
bool io_src_fatal(const struct io_src *src, int err);
/* Records the fatal error once and tells the owner (or logs). */
void io_src_fail(struct io_src *src, int err);
/* udp_msg.c: a datagram's metadata. */
/* Converts a received address: v4-mapped IPv6 becomes AF_INET. */
void io_endpoint_from_sockaddr(struct vw_endpoint *ep, const void *sa);
/* Room for one IP_PKTINFO or IPV6_PKTINFO control message. */
#define IO_PKTINFO_SPACE 96
/*
 * The local address a datagram arrived at, from its control messages, into
 * ep->local; returns the UDP GRO segment size when the receive holds several
 * datagrams (0 otherwise).
 */
uint16_t io_pktinfo_parse(const struct msghdr *msg, struct vw_endpoint *ep);
/* Hands a UDP receive to its source, one packet per datagram when it was GRO'd. */
void io_udp_received(struct io_src *src, struct pkt *p, uint16_t gro_size);
/*
 * The control messages of one UDP send: the source address (dst->local, when
 * with_src and known) and, when gso_size is not 0, UDP_SEGMENT so the kernel cuts
 * the payload into datagrams of gso_size. Their length; 0 when there is neither.
 */
size_t io_udp_cmsg_build(const struct vw_endpoint *dst, int sock_family, uint16_t gso_size,
			 bool with_src, void *buf, size_t cap);
/* Most datagrams one GSO send carries (the kernel's UDP_MAX_SEGMENTS) and their bytes. */
#define IO_GSO_MAX_SEGS	 64
#define IO_GSO_MAX_BYTES 65000
/*
 * How many packets from v->p[i] on one GSO send can carry: the same destination
 * and source, each as long as the first except a shorter last one. 1: send alone.
 */
uint32_t io_gso_run(const struct pkt_vec *v, uint32_t i);
/* Destination for a socket of `family`; false when it cannot be reached from it. */
bool io_endpoint_to_sockaddr(const struct vw_endpoint *ep, int family, struct sockaddr_in6 *out,
			     unsigned int *len);
/*
 * Sends v on a UDP source at once, with sendmmsg (GSO runs as one message each); what the
 * socket buffer cannot take is dropped and counted, never waited for. v ends empty. The
 * epoll backend's send, and io_udp_send_now's.
 */
void io_udp_sendmmsg(struct io_src *src, struct pkt_vec *v);
/*
 * The parallel arrays of one recvmmsg or sendmmsg of up to PKT_VEC_MAX messages: message
 * m has names[m] and ctl[m]; its iovecs are a range of iov (one per packet, so a GSO
 * run's are adjacent). Large (tens of KiB): callers keep one on their stack for one call.
 */
struct io_mmsg_batch {
	struct mmsghdr mm[PKT_VEC_MAX];
	struct iovec iov[PKT_VEC_MAX];
	struct sockaddr_in6 names[PKT_VEC_MAX];
	union {
		size_t align; /* struct cmsghdr alignment */
		uint8_t buf[IO_PKTINFO_SPACE];
	} ctl[PKT_VEC_MAX];
};

static inline void io_mmsg_iov(struct io_mmsg_batch *b, uint32_t i, void *data, size_t len)
{
	b->iov[i].iov_base = data;
	b->iov[i].iov_len = len;
}

/* Message m over iov[iov_first..+iov_n), with names[m] and all of ctl[m] as its room. */
static inline void io_mmsg_init(struct io_mmsg_batch *b, uint32_t m, uint32_t iov_first,
				uint32_t iov_n, socklen_t namelen)
{
	struct msghdr *h = &b->mm[m].msg_hdr;

	memset(&b->mm[m], 0, sizeof(b->mm[m]));
	h->msg_name = &b->names[m];
	h->msg_namelen = namelen;
	h->msg_iov = &b->iov[iov_first];
	h->msg_iovlen = iov_n;
	h->msg_control = b->ctl[m].buf;
	h->msg_controllen = sizeof(b->ctl[m].buf);
}

/* Message m's control messages are the first len bytes of ctl[m]; none when len is 0. */
static inline void io_mmsg_control(struct io_mmsg_batch *b, uint32_t m, size_t len)
{
	b->mm[m].msg_hdr.msg_controllen = len;
	b->mm[m].msg_hdr.msg_control = len ? b->ctl[m].buf : NULL;
}

/* Milliseconds until the deadline for a wait, -1 when there is none. */
int io_deadline_timeout_ms(const struct io_loop *loop);
bool io_pkt_in_pool(const struct io_loop *loop, const struct pkt *p);

static inline uint32_t io_pkt_index(const struct io_loop *loop, const struct pkt *p)
{
	return (uint32_t)(p - loop->pool->pkts);
}

#endif
