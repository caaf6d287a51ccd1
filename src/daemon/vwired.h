/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_VWIRED_H
#define VW_DAEMON_VWIRED_H

/*
 * vwired: the one place that knows every module (DESIGN.md principle 2). It owns
 * the packet pool, the event loop, the UDP socket, the TUN, the WireGuard device
 * and the control sockets, and moves packet vectors between them (datapath.c).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridge/bridge.h"
#include "core/pkt.h"
#include "daemon/config.h"
#include "io/loop.h"
#include "io/tun.h"
#include "offload/gro.h"
#include "offload/gso.h"
#include "tunnel/device.h"
#include "vxlan/ipfrag.h"
#include "vxlan/vxlan.h"

/* Counters of the daemon's own decisions, shown by vwirectl show. */
#define VWIRED_DROP_REASONS(X)                                                           \
	X(NO_TUN, "no_tun")		  /* inner packet for the TUN while Tun = off */ \
	X(UDP_NO_SOCKET, "udp_no_socket") /* UDP out while the socket is being moved */  \
	X(BAD_PORT, "bad_port")		  /* frame for a bridge port with no carrier */  \
	X(NO_BUFFER, "no_buffer")	  /* TUN super-packet left unsplit: pool empty */

#define VWIRED_DROP_ENUM_(id, name) VWIRED_DROP_##id,
enum vwired_drop { VWIRED_DROP_REASONS(VWIRED_DROP_ENUM_) VWIRED_DROP_MAX };
#undef VWIRED_DROP_ENUM_

struct uapi_server;
struct ctl_server;

/* What carries a bridge port: the local TAP (port 0), an extra TAP, or a wire. */
enum vw_port_kind { VW_PORT_NONE, VW_PORT_LOCAL, VW_PORT_TAP, VW_PORT_WIRE };

struct vw_port {
	enum vw_port_kind kind;
	struct io_tun *tap; /* LOCAL and TAP */
	uint32_t wire;	    /* WIRE: index into the config's wires */
};

/* A [Wire]: a bridge port whose frames ride VXLAN inside the tunnel to Remote. */
struct vw_wire {
	uint32_t port;	      /* bridge port number */
	struct wg_peer *peer; /* the peer whose allowed IPs hold Remote */
	bool up;	      /* port enabled: the peer has a usable session */
	char remote_str[16];
	uint64_t rx_frames;
};

/* Receives each worker keeps in flight per socket, TUN and TAP queue: the pool counts them. */
#define VWIRED_RX_DEPTH 32

/* The most workers vwired runs (one per core by default, --workers N). */
#define VWIRED_MAX_WORKERS 16

struct vwired;

/*
 * A worker: a thread with its own event loop (its own ring), its own UDP socket in the
 * listen port's SO_REUSEPORT group and its own queue of the TUN and of every TAP.
 * Worker 0 is the main thread; it alone has the timers, signals and control sockets.
 */
struct vwired_worker {
	struct vwired *d;
	uint32_t id;
	pthread_t thread;
	bool running;
	struct io_loop *loop;
	struct io_udp *udp;
	struct io_tun *tun;
	struct io_tun *taps[BR_MAX_PORTS];
	int kick_fd;	 /* eventfd: another worker asks this one to look at the shared state */
	uint32_t fwmark; /* the mark its socket carries */
	/* Its io counters as of its last batch, copied under the lock for vwirectl show. */
	uint64_t udp_rx, udp_tx, tun_rx, tun_tx;
	/*
	 * With several workers: the AEAD of the data packets it sends is left for after the
	 * lock (jobs), and the UDP sends wait for it, in order (backlog).
	 */
	struct wg_encrypt_jobs *jobs;
	struct pkt **backlog;
	uint32_t backlog_n;
	struct wg_decrypt_jobs *rx_jobs;   /* the same for the data messages it receives */
	struct wg_handshake_jobs *hs_jobs; /* and the X25519 of the handshakes it takes */
};

/* UDP sends a worker holds back while it has the lock; more are sent at once. */
#define VWIRED_BACKLOG_MAX 8192

struct vwired_options {
	const char *config_path; /* NULL: wireguard-go mode, configured over the UAPI only */
	const char *ifname;	 /* wireguard-go mode: the TUN and the UAPI socket name */
	const char *run_dir;	 /* default "/run" */
	enum io_backend io;
	const char *user; /* drop to this user after setup; NULL: stay */
	bool offload;	  /* TUN with TSO/GRO offloads (src/offload), 64 KiB buffers */
	uint32_t workers; /* 0: one per online core */
	bool verbose;
};

struct vwired {
	struct vwired_options opt;
	struct vw_config cfg;
	char name[CONFIG_NAME_MAX + 1];

	struct pkt_pool pool;
	struct io_loop *loop;
	struct io_udp *udp;
	struct io_tun *tun;
	struct wg_device wg;
	bool wg_ready;
	uint16_t listen_port; /* configured; the bound one is io_udp_port() */
	uint32_t fwmark;

	struct uapi_server *uapi;
	struct ctl_server *ctl;
	struct ctl_server *ctl_bridge;

	bool has_bridge, br_ready, vx_ready, frag_ready;
	struct bridge br;
	struct vx vx;
	struct ipfrag frag;
	struct vw_port ports[BR_MAX_PORTS];
	struct vw_wire *wires; /* cfg.n_wires */
	bool wires_dirty;
	uint64_t wire_kick_at, frag_expire_at;

	struct offload_stats offload; /* TSO split on TUN reads, GRO coalesce on TUN writes */
	uint32_t gso_cursor;	      /* where gso_split_batch stopped in a super-packet */

	uint64_t started_ns;
	uint64_t drops[VWIRED_DROP_MAX];
	uint64_t udp_batches, tun_batches;

	/*
	 * Workers (workers.c). d->loop, d->udp, d->tun and the ports' taps are worker 0's.
	 * Everything above is shared and changes only under lock; cur is the worker that
	 * holds it, and the datapath sends through cur's loop, socket and queues.
	 */
	pthread_mutex_t lock;
	uint32_t n_workers;
	struct vwired_worker workers[VWIRED_MAX_WORKERS];
	struct vwired_worker *cur;
	uint64_t timer_at; /* worker 0's deadline as last armed */
	bool stopping;
};

const char *vwired_drop_name(enum vwired_drop reason);

/* Sets up everything the options and config describe. 0, or -1 after logging why. */
int vwired_init(struct vwired *d, const struct vwired_options *opt);
/* Runs until SIGTERM/SIGINT. */
int vwired_run(struct vwired *d);
/* Closes every socket and device, removes the socket files, wipes the keys. */
void vwired_free(struct vwired *d);

/* datapath.c */
void vwired_on_udp_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v);
void vwired_on_tun_rx(void *ctx, struct io_tun *tun, struct pkt_vec *v);
void vwired_on_deadline(void *ctx, uint64_t now_ns);
void vwired_flush_udp(struct vwired *d, struct pkt_vec *out);
/*
 * Writes v to dev, one of the current worker's TUN (frames false) or TAP (true) queues;
 * an offloading device gets it coalesced first (GRO, UDP too with USO). v ends empty.
 */
void vwired_dev_write(struct vwired *d, struct io_tun *dev, struct pkt_vec *v, bool frames);
/* Plaintext IP packets (routed, or VXLAN fragments of a wire) into the tunnel; v ends empty. */
void vwired_tunnel_send(struct vwired *d, struct pkt_vec *v, uint64_t now);
/* After anything that may have changed the device's timers (config, UAPI set). */
void vwired_kick_timers(struct vwired *d);
/* Keeps the device's wall-clock offset right for TAI64N and `wg show`. */
void vwired_sync_wall_clock(struct vwired *d);

/* The TUN (any worker's queue) went away: vwired exits. */
void vwired_on_tun_error(void *ctx, struct io_tun *tun, int err);
/* UDP GSO and GRO on a worker's socket when offloads are on (warned when unavailable). */
void vwired_udp_offloads(struct vwired *d, struct io_udp *udp);

/* Changing the listen port or fwmark (UAPI); 0 or -errno. */
int vwired_set_listen_port(struct vwired *d, uint16_t port);
int vwired_set_fwmark(struct vwired *d, uint32_t mark);

/* bridged.c: the [Bridge], its TAP ports and the [Wire]s */
int vwired_bridge_init(struct vwired *d);
void vwired_bridge_start(struct vwired *d);
void vwired_bridge_free(struct vwired *d);
void vwired_on_tap_rx(void *ctx, struct io_tun *tap, struct pkt_vec *v);
/* Worker w's queue of every TAP worker 0 opened; 0 or -errno. */
int vwired_bridge_open_queues(struct vwired *d, struct vwired_worker *w);
/* Decrypted inner packets: wires' VXLAN to the bridge, the rest into to_tun. */
void vwired_bridge_rx_ip(struct vwired *d, struct pkt_vec *in, struct pkt_vec *to_tun,
			 uint64_t now);
/* Wire ports follow sessions: call after every device call. */
void vwired_after_device_calls(struct vwired *d, uint64_t now);
void vwired_bridge_tick(struct vwired *d, uint64_t now);
uint64_t vwired_bridge_deadline(const struct vwired *d);

/*
 * ctlsock.c: the local-client machinery of the control sockets. Worker 0 serves their
 * clients without ever waiting on one: each client has its own bounded input and
 * output buffers, bytes move only as far as its socket takes them, and a client that
 * holds a slot too long is closed. Clients are watched through the socket's own epoll
 * set (readable or writable, whichever the client waits for) and timerfd, both watched
 * by worker 0's loop, so worker 0's shared deadline stays the datapath's alone.
 */
struct ctlsock;
struct ctlsock_client;

/* Clients one socket serves at once; more are accepted and closed at once (refused). */
#define CTLSOCK_MAX_CLIENTS 64
/* From connecting, or from its last answer being taken, until a request is complete. */
#define CTLSOCK_REQUEST_TIMEOUT_MS 5000
/* From an answer being queued until the client has taken all of it. */
#define CTLSOCK_ANSWER_TIMEOUT_MS 10000

struct ctlsock_stats {
	uint64_t clients_refused;   /* CTLSOCK_MAX_CLIENTS were connected */
	uint64_t clients_timed_out; /* closed by one of the two timeouts */
};

/* The request callback's "answered; close the client once the answer is out". */
#define CTLSOCK_LAST SIZE_MAX

/*
 * A server's request callback. in/len: what the client sent that no earlier call
 * consumed (in is writable scratch: the machinery wipes consumed bytes); end: no more
 * will come (the client shut its side, or len reached the socket's max_request). It
 * answers one complete request with ctlsock_reply/ctlsock_reply_take and returns the
 * bytes it consumed (> 0) or CTLSOCK_LAST; 0 while the request is incomplete (with end
 * the client is then closed unanswered). It is never called while an answer is still
 * being written: a client's next request waits until it has taken the last answer.
 */
typedef size_t (*ctlsock_request_cb)(void *ctx, struct ctlsock_client *c, char *in, size_t len,
				     bool end);

/* Listens at path (mode 0600) on worker 0's loop; NULL after logging why. */
struct ctlsock *ctlsock_new(struct vwired *d, const char *path, size_t max_request,
			    ctlsock_request_cb cb, void *ctx);
/* Closes every client and the socket, and removes the socket file. */
void ctlsock_free(struct ctlsock *s);
/* Queues a copy of buf as (part of) c's answer; 0 or -ENOMEM. */
int ctlsock_reply(struct ctlsock_client *c, const void *buf, size_t len);
/* The same, taking buf (malloc'd): c wipes and frees it, also on failure. 0 or -ENOMEM. */
int ctlsock_reply_take(struct ctlsock_client *c, char *buf, size_t len);
/* Adds s's counters to *st. */
void ctlsock_add_stats(const struct ctlsock *s, struct ctlsock_stats *st);

/* A control socket at path (mode 0600) served by cb: its fd, or -1 after logging why. */
int vwired_listen(struct vwired *d, const char *path, io_fd_cb cb, void *ctx);
/* Stops serving it and removes the socket file. */
void vwired_unlisten(struct vwired *d, int fd, const char *path);

/* workers.c */
/*
 * Worker 0's queue of the TUN (tap false) or a TAP called name: with offloads where the
 * kernel takes them (else warned, plain), multi-queue with several workers. A persistent
 * single-queue device refuses IFF_MULTI_QUEUE (EINVAL): then vwired runs one worker.
 * NULL with errno set.
 */
struct io_tun *vwired_open_first_queue(struct vwired *d, const char *name, bool tap,
				       io_tun_rx_cb cb);
/* How vwired's loops are made: each is used by its worker's thread only. */
extern const struct io_loop_opts vwired_loop_opts;
/* How many workers to run (options, cores); called before anything is opened. */
uint32_t vwired_workers_wanted(const struct vwired_options *opt);
/* Takes the shared state for worker w: every callback on a worker's loop starts so. */
void vwired_lock(struct vwired *d, struct vwired_worker *w);
void vwired_unlock(struct vwired *d);
/* Worker 0's kick eventfd (with more than one worker); 0 or -1 after logging. */
int vwired_workers_prepare(struct vwired *d);
/* Opens workers 1..n-1 (loop, socket, queues); fewer, with a warning, if that fails. */
void vwired_workers_open(struct vwired *d);
/* Starts their threads; vwired_workers_stop asks them to end and waits for them. */
void vwired_workers_start(struct vwired *d);
void vwired_workers_stop(struct vwired *d);
void vwired_workers_free(struct vwired *d);
/* Under the lock: stop every worker's loop (fatal device errors). */
void vwired_stop(struct vwired *d);
/* Under the lock: the other workers look at the listen port, fwmark and timers again. */
void vwired_workers_kick(struct vwired *d);
/* Wakes worker i to look at the shared state (worker 0: its timers). */
void vwired_kick_worker(struct vwired *d, uint32_t i);
/* Encrypts what w deferred and sends its backlog on its own socket (lock held or not). */
void vwired_send_backlog(struct vwired_worker *w);

/* uapi_server.c: RUNDIR/wireguard/NAME.sock */
struct uapi_server *uapi_server_new(struct vwired *d, const char *path);
void uapi_server_free(struct uapi_server *s);
void uapi_server_add_stats(const struct uapi_server *s, struct ctlsock_stats *st);

/* ctl.c: RUNDIR/vwire/NAME.ctl */
struct ctl_server *ctl_server_new(struct vwired *d, const char *path);
void ctl_server_free(struct ctl_server *s);
void ctl_server_add_stats(const struct ctl_server *s, struct ctlsock_stats *st);

#endif
