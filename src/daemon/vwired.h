/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_VWIRED_H
#define VW_DAEMON_VWIRED_H

/*
 * vwired: the one place that knows every module (DESIGN.md principle 2). It owns the
 * packet pool, the workers (each with its event loop, UDP socket and device queues), the
 * state they share under one lock (the WireGuard device, bridge, VXLAN, reassembly) and
 * the control sockets, and moves packet vectors between them (datapath.c, bridged.c).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridge/bridge.h"
#include "bridge/wirecost.h"
#include "core/clock.h"
#include "core/pkt.h"
#include "crypto/keys.h"
#include "daemon/config.h"
#include "daemon/ctlsock.h"
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
	X(NO_BUFFER, "split_no_buffer")	  /* TUN super-packet left unsplit: pool empty */

#define VWIRED_DROP_ENUM_(id, name) VWIRED_DROP_##id,
enum vwired_drop { VWIRED_DROP_REASONS(VWIRED_DROP_ENUM_) VWIRED_DROP_MAX };
#undef VWIRED_DROP_ENUM_

/*
 * Whether a wire's peer answers (liveness.c): the time of the last message that proved it,
 * as the tunnel noted it when last looked at, and the probes sent since without an answer.
 */
struct vw_liveness {
	uint64_t seen_rx;    /* the peer's last_authenticated_rx, as last looked at */
	uint64_t probe_at;   /* next probe while the peer is quiet */
	uint64_t probed_at;  /* the peer's last probe: it watches, this side need not */
	uint64_t wait_until; /* silence waits for the workers to read until then; 0: not yet */
	uint32_t unanswered; /* probes sent since seen_rx last moved */
	bool silent;	     /* VWIRED_LIVE_MISSES probes went unanswered, or it said goodbye */
	bool goodbye;	     /* silent because it said goodbye */
	uint16_t seq;	     /* ICMP sequence of the next probe */
	uint64_t probes_sent, goodbyes_rx, silences, waits;
};

/*
 * A wire's measured round trip (liveness.c: the answers to its probes) and what the tree
 * makes of it (bridge/wirecost.h): the cost of `[Wire] Cost = auto` follows `hyst`.
 */
struct vw_rtt {
	struct wc_rtt rtt;
	struct wc_hyst hyst;
	uint64_t probe_at; /* next probe sent whether or not traffic flows */
	uint64_t probes_sent;
	uint64_t bad_samples; /* answers whose clock cannot be a round trip of ours */
	uint32_t cost;	      /* the auto path cost in use, 0 before the first sample */
};

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
	bool up;	      /* port enabled: a usable session with a peer that answers */
	uint8_t remote[4];
	char remote_str[16];
	uint64_t rx_frames;
	struct vw_liveness live; /* liveness.c */
	struct vw_rtt rtt;	 /* liveness.c, applied by bridge_setup.c */
};

/* Receives each worker keeps in flight per socket, TUN and TAP queue: the pool counts them. */
#define VWIRED_RX_DEPTH 32

/* The most workers vwired runs (one per core by default, --workers N). */
#define VWIRED_MAX_WORKERS 16

/* UDP sends a worker holds back while it has the lock; more are sent at once. */
#define VWIRED_BACKLOG_MAX 8192

/*
 * After each batch (and worker 0 at each deadline while the queue is not empty) a worker
 * takes handshakes off the queue up to VWIRED_HANDSHAKE_TAKES times, but runs one job list
 * at most: the X25519 it does per batch (16) stays below what a batch brings in (64), so a
 * flood fills the queue, where it counts as load, instead of the socket; and under load,
 * when messages only cost a cookie reply, it drains faster than they come.
 */
#define VWIRED_HANDSHAKE_TAKES 4

struct vwired;

/*
 * A worker: a thread with its own event loop (its own ring), its own UDP socket in the
 * listen port's SO_REUSEPORT group and its own queue of the TUN and of every TAP. Only its
 * own thread touches what is here, except where said. Worker 0 is the main thread; it alone
 * has the timers, signals and control sockets.
 */
struct vwired_worker {
	struct vwired *d; /* for what is set up before the workers start: read-only after */
	uint32_t id;
	pthread_t thread;
	bool running;
	struct io_loop *loop;
	struct io_udp *udp;
	struct io_tun *tun;
	struct io_tun *taps[BR_MAX_PORTS];
	int wake_fd;	 /* eventfd, written by any thread: look at the shared state */
	uint32_t fwmark; /* the mark its socket carries */
	/* Its io counters as of its last batch, copied under the lock for vwirectl show. */
	uint64_t udp_rx, udp_tx, tun_rx, tun_tx;
	/*
	 * Its use of d->lock, the measure of how far the workers scale (bench/README.md,
	 * "Cores"): times taken, times it was found taken (the worker then waited), time held
	 * and waited. Written only while it holds the lock, so read under it; lock_since is
	 * when it got it this time.
	 */
	uint64_t lock_acquired, lock_contended, lock_held_ns, lock_wait_ns;
	uint64_t lock_since;
	/*
	 * The AEAD of the data messages it sends and receives is left for after the lock (the
	 * job lists in later), and its UDP sends wait for it, in order (backlog); so is the
	 * X25519 of the handshakes it takes (hs_jobs).
	 */
	struct wg_aead_later later;
	struct wg_handshake_jobs *hs_jobs;
	struct pkt **backlog;
	uint32_t backlog_n;
};

/*
 * What the workers share. A worker reads or changes it only while it holds d->lock
 * (vwired_lock hands it out): a function that takes a `struct vwired_shared *` runs under
 * the lock, and one that takes a `struct vwired_worker *` sends through that worker's
 * loop, socket and queues. Set-up and tear-down, before the workers start and after they
 * stopped, use d->sh directly.
 */
struct vwired_shared {
	struct wg_device wg;
	bool wg_ready;
	uint16_t listen_port; /* configured; the bound one is io_udp_port() */
	uint32_t fwmark;

	bool has_bridge, br_ready, vx_ready, frag_ready;
	struct bridge br;
	struct vx vx;
	struct ipfrag frag;
	struct vw_port ports[BR_MAX_PORTS];
	struct vw_wire *wires; /* n_wires of them: the config's [Wire]s, in order */
	uint32_t n_wires;
	bool wires_dirty;    /* a session came or went: the wire ports follow */
	bool rtt_dirty;	     /* a wire's filtered round trip moved: auto cost and priority follow */
	uint16_t priority;   /* the bridge priority in use (Priority = auto moves it) */
	struct wc_prio prio; /* Priority = auto's start-up (wirecost.h) */
	uint64_t wire_request_at, frag_expire_at;

	struct offload_stats offload; /* TSO split on TUN reads, GRO coalesce on TUN writes */
	uint64_t drops[VWIRED_DROP_MAX];
	uint64_t udp_batches, tun_batches;

	uint64_t deadline; /* worker 0's deadline as last armed */
	bool stopping;
};

struct vwired_options {
	const char *config_path; /* NULL: wireguard-go mode, configured over the UAPI only */
	const char *ifname;	 /* wireguard-go mode: the TUN and the UAPI socket name */
	const char *run_dir;	 /* default "/run" */
	enum io_backend io;
	const char *user; /* drop to this user after setup; NULL: stay */
	bool offload;	  /* TUN with TSO/GRO offloads (src/offload), 64 KiB buffers */
	uint32_t workers; /* 0: one per online core */
	bool verbose;
	const char *version; /* meson's project() version, for vwirectl metrics; NULL: unknown */
};

struct vwired {
	/* Set up before the workers start; read-only while they run. */
	struct vwired_options opt;
	struct vw_config cfg;
	char name[CONFIG_NAME_MAX + 1];
	struct pkt_pool
		pool; /* shared (pkt_pool_share): one worker reads a packet, another sends it */
	uint64_t started_ns;
	uint32_t n_workers;
	struct vwired_worker workers[VWIRED_MAX_WORKERS];
	/* Served on worker 0's loop. */
	struct ctlsock *uapi;
	struct ctlsock *ctl;
	struct ctlsock *ctl_bridge;

	pthread_mutex_t lock;
	struct vwired_shared sh; /* under lock */
};

const char *vwired_drop_name(enum vwired_drop reason);

/* Sets up everything the options and config describe. 0, or -1 after logging why. */
int vwired_init(struct vwired *d, const struct vwired_options *opt);
/* Runs until SIGTERM/SIGINT. */
int vwired_run(struct vwired *d);
/* Closes every socket and device, removes the socket files, wipes the keys. */
void vwired_free(struct vwired *d);

/* workers.c: the lock. Every callback on a worker's loop takes it for w first. */
struct vwired_shared *vwired_lock(struct vwired_worker *w);
/* Lets go, then runs w's deferred AEAD and sends its backlog, beside the other workers. */
void vwired_unlock(struct vwired_worker *w);
/* Runs w's deferred AEAD and sends its backlog on w's socket (lock held or not). */
void vwired_send_backlog(struct vwired_worker *w);

/* datapath.c: the routed paths, and the sends every path shares (under the lock). */
void vwired_on_udp_rx(void *ctx, struct io_udp *sock, struct pkt_vec *v);
void vwired_on_tun_rx(void *ctx, struct io_tun *tun, struct pkt_vec *v);
void vwired_on_deadline(void *ctx, uint64_t now_ns);
/* UDP out through w's socket, held in its backlog until the unlock; out ends empty. */
void vwired_send_udp(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *out);
/*
 * Ethernet frames out through w's queue of bridge port `port`'s TAP; v ends empty.
 * authenticated: they all came off a wire, through WireGuard's AEAD (their checksums are
 * taken as good when merged, as for the TUN).
 */
void vwired_write_tap(struct vwired_worker *w, struct vwired_shared *sh, uint32_t port,
		      struct pkt_vec *v, bool authenticated);
/* Plaintext IP packets (routed, or VXLAN fragments of a wire) into the tunnel; v ends empty. */
void vwired_tunnel_send(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *v,
			uint64_t now);
/*
 * After anything that may have moved a timer (a batch, a UAPI set): worker 0 arms its
 * deadline; another worker wakes worker 0 when the deadline moved earlier.
 */
void vwired_rearm_timers(struct vwired_worker *w, struct vwired_shared *sh);
/* Keeps the device's wall-clock offset right for TAI64N and `wg show`. */
void vwired_sync_wall_clock(struct vwired_shared *sh);

/* daemon.c */
/* The TUN (any worker's queue) went away: vwired exits. */
void vwired_on_tun_error(void *ctx, struct io_tun *tun, int err);
/* UDP GSO and GRO on a worker's socket when offloads are on (warned when unavailable). */
void vwired_udp_offloads(const struct vwired *d, struct io_udp *udp);
/* Changing the listen port or fwmark: as worker 0, under the lock; 0 or -errno. */
int vwired_set_listen_port(struct vwired *d, struct vwired_shared *sh, uint16_t port);
int vwired_set_fwmark(struct vwired *d, struct vwired_shared *sh, uint32_t mark);

/* Endpoint = host:port where host is a name: resolved (blocking). 0 or -errno. */
int vwired_resolve_endpoint(const char *s, struct vw_endpoint *out);
/* A [Peer] into the device (added, or the existing one set); 0, or -1 after logging. */
int vwired_apply_peer(struct vwired *d, const struct config_peer *cp, uint64_t now);

/*
 * reload.c: vwirectl reload and SIGHUP, as worker 0 without the lock held. Reads the
 * config file again and applies what changed (DESIGN.md, "Reload"); a file that does
 * not parse, or changes a key only a restart can, is refused whole. 0 and the summary
 * in msg, or -1 and why; logged either way.
 */
int vwired_reload(struct vwired *d, char *msg, size_t msglen);
/*
 * The same from another file than -c's, opened by the caller (fd >= 0) or by vwired:
 * under systemd vwired reads a copy made at start (LoadCredential=), and `vwirectl
 * reload NAME FILE`, run as root, hands it the file it cannot open itself.
 */
int vwired_reload_file(struct vwired *d, int fd, const char *path, char *msg, size_t msglen);

/* How often a wire without a session asks its peer for one (the tunnel rate limits too). */
#define VWIRED_WIRE_REQUEST_INTERVAL (5 * NSEC_PER_SEC)
/* Reassembly timeouts are checked this often. */
#define VWIRED_FRAG_EXPIRE_INTERVAL NSEC_PER_SEC

/* bridged.c: the L2 paths (under the lock). */
void vwired_on_tap_rx(void *ctx, struct io_tun *tap, struct pkt_vec *v);
void vwired_on_tap_error(void *ctx, struct io_tun *tap, int err);
/* Decrypted inner packets: wires' VXLAN to the bridge, the rest into to_tun. */
void vwired_bridge_rx_ip(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *in,
			 struct pkt_vec *to_tun, uint64_t now);
/* Frames the bridge emitted, to their egress ports (a TAP, or a wire through the tunnel). */
void vwired_bridge_output(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *out,
			  uint64_t now);
/* Wire ports follow their peers' sessions: after every call into the WireGuard device. */
void vwired_wires_follow_sessions(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now);
/* A wire without a session asks its peer for one (a keepalive starts a handshake). */
void vwired_wires_request_sessions(struct vwired_shared *sh, uint64_t now);
/* The bridge's timers, reassembly expiry and the wires' session requests, when due. */
void vwired_bridge_tick(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now);
uint64_t vwired_bridge_deadline(const struct vwired *d, const struct vwired_shared *sh);

/* liveness.c: a wire's carrier follows whether its peer answers (under the lock). */
/*
 * What carries a wire's port, in one word, as vwirectl show and the metrics name it: "up";
 * "silent", a session whose peer stopped answering; "left", a peer that said goodbye;
 * "down", no session.
 */
const char *vwired_wire_state_name(const struct vw_wire *wire);
/*
 * The decisions alone, for a virtual clock: _heard notes the peer's last authenticated
 * message (true when that ended a silence); _check, at now, says whether a probe is due
 * (true) and sets *changed when the wire fell silent or came back; before a miss silences
 * the wire it asks input_waiting(ctx) whether the workers have unread datagrams.
 */
bool vwired_liveness_heard(struct vw_liveness *l, uint64_t rx);
bool vwired_liveness_check(struct vw_liveness *l, uint64_t rx, uint64_t now,
			   bool (*input_waiting)(void *ctx), void *ctx, bool *changed);
/* Whether the wire's peer answered lately (what the tunnel saw since the last look counts). */
bool vwired_wire_alive(struct vwired_shared *sh, struct vw_wire *wire);
/* Probes for the quiet wires, and silence for those that did not answer. */
void vwired_liveness_tick(struct vwired_worker *w, struct vwired_shared *sh, uint64_t now);
uint64_t vwired_liveness_deadline(const struct vwired_shared *sh);
/* Takes the probes, answers and goodbyes out of decrypted inner packets; answers probes. */
void vwired_liveness_rx(struct vwired_worker *w, struct vwired_shared *sh, struct pkt_vec *in,
			uint64_t now);
/* After the loop stopped: tells every wire's live peer that this host is leaving. */
void vwired_liveness_goodbye(struct vwired *d);

/* bridge_setup.c: the [Bridge], its TAP ports and the [Wire]s */
/* Each wire's peer found again by its Remote, after the peers changed (under the lock). */
void vwired_wires_find_peers(struct vwired_shared *sh);
/* A wire's port cost: its number, or with Cost = auto what its round trip gave (100 before). */
uint32_t vwired_wire_cost(const struct config_wire *cw, const struct vw_wire *w);
/* The base64 public key of the wire's peer; "" while no peer holds its Remote. */
void vwired_wire_peer_key(const struct vw_wire *w, char key[WG_KEY_LEN_BASE64 + 1]);
int vwired_bridge_init(struct vwired *d);
void vwired_bridge_start(struct vwired *d);
void vwired_bridge_free(struct vwired *d);
/* Worker w's queue of every TAP worker 0 opened; 0 or -errno. */
int vwired_bridge_open_queues(struct vwired *d, struct vwired_worker *w);

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
/* Worker 0's job lists, and its wake eventfd with more than one worker; 0 or -1 after logging. */
int vwired_workers_prepare(struct vwired *d);
/* Opens workers 1..n-1 (loop, socket, queues); fewer, with a warning, if that fails. */
void vwired_workers_open(struct vwired *d);
/* Starts their threads; vwired_workers_stop asks them to end and waits for them. */
void vwired_workers_start(struct vwired *d);
void vwired_workers_stop(struct vwired *d);
void vwired_workers_free(struct vwired *d);
/* Under the lock, from worker w: every worker's loop stops (fatal device errors). */
void vwired_stop(struct vwired_worker *w, struct vwired_shared *sh);
/* Under the lock: the other workers look at the listen port and fwmark again. */
void vwired_wake_others(struct vwired *d);
/* Wakes worker i to look at the shared state (worker 0: its deadline). */
void vwired_wake_worker(struct vwired *d, uint32_t i);

/* uapi_server.c: RUNDIR/wireguard/NAME.sock */
/* The socket serving the wg UAPI (get=1, set=1) on worker 0's loop; NULL after logging. */
struct ctlsock *uapi_server_new(struct vwired *d, const char *path);

/* ctl.c: RUNDIR/vwire/NAME.ctl */
/* The socket serving vwirectl's requests on worker 0's loop; NULL after logging. */
struct ctlsock *ctl_server_new(struct vwired *d, const char *path);

#endif
