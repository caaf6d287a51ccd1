/* SPDX-License-Identifier: MIT */
/*
 * vwired's lifecycle: turn options and config into a running set of sockets,
 * devices and the WireGuard device; tear it all down on SIGTERM.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "daemon/rundir.h"
#include "daemon/vwired.h"

/*
 * The packet pool: buffers of ~2.2 KiB, or with offloads
 * 64 KiB + the 10-byte virtio_net_hdr (only the pages a packet touches become resident,
 * so many such buffers cost little RSS). It holds three shares, sized apart so that no
 * one can take another's:
 *  - every receive ring's buffers: workers x sources x VWIRED_RX_DEPTH;
 *  - packets staged for peers without a session: at most VWIRED_MAX_STAGED, a bound the
 *    WireGuard device enforces over all peers together (longest queue evicted);
 *  - the working set of the batches in flight (TUN reads split into packets, sends the
 *    kernel has not finished, handshakes): VWIRED_POOL_WORKING{,_OFFLOAD}, the whole
 *    pool before the other two were counted apart.
 */
#define VWIRED_POOL_WORKING	    4096
#define VWIRED_POOL_WORKING_OFFLOAD 2048
#define VWIRED_MAX_STAGED	    1024
#define VWIRED_BUF_OFFLOAD	    (PKT_HEADROOM + 65536 + 64 + PKT_TAILROOM)

/* Buffers for the pool: the three shares above. */
static uint32_t pool_packets(const struct vwired *d)
{
	uint32_t sources = 1 /* UDP */ + (d->cfg.iface.tun ? 1 : 0);

	if (d->cfg.has_bridge)
		sources += 1 + d->cfg.bridge.n_ports;
	return d->n_workers * sources * VWIRED_RX_DEPTH + VWIRED_MAX_STAGED +
	       (d->opt.offload ? VWIRED_POOL_WORKING_OFFLOAD : VWIRED_POOL_WORKING);
}

const char *vwired_drop_name(enum vwired_drop reason)
{
#define VWIRED_DROP_NAME_(id, name) [VWIRED_DROP_##id] = name,
	static const char *const names[] = {VWIRED_DROP_REASONS(VWIRED_DROP_NAME_)};
#undef VWIRED_DROP_NAME_
	return (unsigned)reason < VWIRED_DROP_MAX ? names[reason] : NULL;
}

/* Endpoint = host:port where host is a name: resolved once at start, as wg does. */
int vwired_resolve_endpoint(const char *s, struct vw_endpoint *out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
	char host[CONFIG_ENDPOINT_MAX + 1];
	const char *colon = strrchr(s, ':');
	int rc;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc)
		return -EHOSTUNREACH;
	memset(out, 0, sizeof(*out));
	memcpy(&out->sa, res->ai_addr,
	       res->ai_addrlen < sizeof(*out) ? res->ai_addrlen : sizeof(*out));
	freeaddrinfo(res);
	return 0;
}

int vwired_apply_peer(struct vwired *d, const struct config_peer *cp, uint64_t now)
{
	struct wg_peer *peer;
	char key[WG_KEY_LEN_BASE64 + 1];
	int rc;

	key_to_base64(key, cp->public_key);
	rc = wg_device_add_peer(&d->sh.wg, cp->public_key, &peer);
	if (rc == -EINVAL) {
		vw_warn("peer %s (line %u) is this interface's own key: ignored", key, cp->line);
		return 0;
	}
	if (rc && rc != -EEXIST) {
		vw_err("%s:%u: [Peer] PublicKey %s: %s", d->opt.config_path, cp->line, key,
		       rc == -ENOSPC ? "too many peers" : strerror(-rc));
		return -1;
	}
	if (cp->has_preshared_key)
		wg_peer_set_preshared_key(peer, cp->preshared_key);
	if (cp->endpoint_str[0]) {
		struct vw_endpoint ep = cp->endpoint;

		if (ep.sa.sa_family == AF_UNSPEC &&
		    vwired_resolve_endpoint(cp->endpoint_str, &ep)) {
			vw_err("%s:%u: [Peer] Endpoint: cannot resolve '%s'", d->opt.config_path,
			       cp->line, cp->endpoint_str);
			return -1;
		}
		wg_peer_set_endpoint(peer, &ep);
	}
	for (uint32_t i = 0; i < cp->n_allowed_ips; i++) {
		const struct config_prefix *a = &cp->allowed_ips[i];

		rc = wg_peer_add_allowed_ip(peer, a->addr.family, a->addr.bytes, a->cidr);
		if (rc) {
			vw_err("peer %s: allowed IP: %s", key, strerror(-rc));
			return -1;
		}
	}
	if (cp->persistent_keepalive)
		wg_peer_set_persistent_keepalive(peer, cp->persistent_keepalive, now);
	return 0;
}

static int apply_config(struct vwired *d)
{
	uint64_t now = vw_clock_mono_ns();

	wg_device_set_private_key(&d->sh.wg, d->cfg.iface.private_key, now);
	for (uint32_t i = 0; i < d->cfg.n_peers; i++)
		if (vwired_apply_peer(d, &d->cfg.peers[i], now))
			return -1;
	/* The device has its own copies now; these would only outlive their use. */
	crypto_wipe(d->cfg.iface.private_key, sizeof(d->cfg.iface.private_key));
	for (uint32_t i = 0; i < d->cfg.n_peers; i++)
		crypto_wipe(d->cfg.peers[i].preshared_key, sizeof(d->cfg.peers[i].preshared_key));
	return 0;
}

/*
 * A config file holds the private key (config_load insists): like wg-quick, say so when
 * more than its owner may read it. vwired still starts: the owner may mean it.
 */
static void warn_config_access(const struct vwired *d)
{
	const char *path = d->opt.config_path, *who = "others";
	bool psk = false;
	struct stat st;

	if (stat(path, &st) || !(st.st_mode & (S_IRGRP | S_IROTH)))
		return;
	if (st.st_mode & S_IRGRP)
		who = st.st_mode & S_IROTH ? "group and others" : "group";
	for (uint32_t i = 0; i < d->cfg.n_peers; i++)
		psk |= d->cfg.peers[i].has_preshared_key;
	vw_warn("%s is readable by %s (mode %04o) and holds %s: chmod 600 %s", path, who,
		(unsigned)(st.st_mode & 07777),
		psk ? "the private key and preshared keys" : "the private key", path);
}

/* The TUN went away (`ip link del`, `wg-quick down`): exit, as wireguard-go does. */
void vwired_on_tun_error(void *ctx, struct io_tun *tun, int err)
{
	struct vwired_worker *w = ctx;
	struct vwired_shared *sh = vwired_lock(w);

	if (!sh->stopping)
		vw_info("%s: device %s is gone (%s): exiting", w->d->name, io_tun_name(tun),
			strerror(-err));
	vwired_stop(w, sh);
	vwired_unlock(w);
}

static int open_tun(struct vwired *d, const char *name, uint32_t mtu,
		    const struct config_prefix *addrs, uint32_t naddrs)
{
	struct io_tun *tun = vwired_open_first_queue(d, name, false, vwired_on_tun_rx);
	int rc;

	d->workers[0].tun = tun;
	if (!tun) {
		vw_err("cannot create or attach TUN device '%s': %s%s", name, strerror(errno),
		       errno == EPERM ? " (needs CAP_NET_ADMIN, or a persistent device: "
					"ip tuntap add NAME mode tun user USER)"
				      : "");
		return -1;
	}
	io_tun_on_error(tun, vwired_on_tun_error, &d->workers[0]);
	if ((rc = io_tun_set_mtu(tun, mtu)) < 0) {
		vw_err("%s: cannot set MTU %u: %s", name, mtu, strerror(-rc));
		return -1;
	}
	for (uint32_t i = 0; i < naddrs; i++) {
		rc = io_tun_add_addr(tun, &addrs[i].addr, addrs[i].cidr);
		if (rc < 0) {
			vw_err("%s: cannot add address: %s", name, strerror(-rc));
			return -1;
		}
	}
	if ((rc = io_tun_set_up(tun)) < 0) {
		vw_err("%s: cannot bring the link up: %s", name, strerror(-rc));
		return -1;
	}
	return 0;
}

void vwired_udp_offloads(const struct vwired *d, struct io_udp *udp)
{
	int rc;

	/* With offloads, runs of equal-sized packets to a peer leave as one GSO send. */
	if (d->opt.offload && (rc = io_udp_enable_gso(udp)) < 0)
		vw_warn("UDP GSO unavailable (%s): one send per packet", strerror(-rc));
	if (d->opt.offload && (rc = io_udp_enable_gro(udp)) < 0)
		vw_warn("UDP GRO unavailable (%s): one receive per packet", strerror(-rc));
}

/* Worker 0's socket moves first; the others follow it when woken (workers.c). */
int vwired_set_listen_port(struct vwired *d, struct vwired_shared *sh, uint16_t port)
{
	struct vwired_worker *w0 = &d->workers[0];
	int rc;

	if (!w0->udp) {
		w0->udp =
			io_udp_open_shared(w0->loop, port, d->n_workers > 1, vwired_on_udp_rx, w0);
		if (!w0->udp)
			return -errno;
		vwired_udp_offloads(d, w0->udp);
	} else if ((rc = io_udp_set_port(w0->udp, port)) < 0) {
		return rc;
	}
	sh->listen_port = port;
	if (sh->fwmark)
		io_udp_set_fwmark(w0->udp, sh->fwmark);
	vwired_wake_others(d);
	return 0;
}

int vwired_set_fwmark(struct vwired *d, struct vwired_shared *sh, uint32_t mark)
{
	struct vwired_worker *w0 = &d->workers[0];
	int rc = w0->udp ? io_udp_set_fwmark(w0->udp, mark) : 0;

	if (!rc) {
		sh->fwmark = mark;
		w0->fwmark = mark;
		vwired_wake_others(d);
	}
	return rc;
}

static int drop_privileges(const char *user, uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		vw_err("--user %s: cannot switch user: %s", user, strerror(errno));
		return -1;
	}
	vw_info("running as %s (uid %u)", user, (unsigned)uid);
	return 0;
}

/* The UAPI socket, vwirectl's, and the bridge's (vwirectl showstp BRIDGE finds it by name). */
enum vwired_socket { SOCK_UAPI, SOCK_CTL, SOCK_BRIDGE, SOCK_MAX };

static bool socket_path(const struct vwired *d, enum vwired_socket which, char *buf, size_t len)
{
	switch (which) {
	case SOCK_UAPI:
		snprintf(buf, len, "%s/wireguard/%s.sock", d->opt.run_dir, d->name);
		return true;
	case SOCK_CTL:
		snprintf(buf, len, "%s/vwire/%s.ctl", d->opt.run_dir, d->name);
		return true;
	case SOCK_BRIDGE:
		snprintf(buf, len, "%s/vwire/%s.bridge", d->opt.run_dir, d->cfg.bridge.name);
		return d->cfg.has_bridge;
	default:
		return false;
	}
}

/*
 * Before anything is created: a safe run dir, and socket paths that are free or a dead
 * vwired's (a live one answers: this name is taken, and its TUN too).
 */
static int claim_run_dir(const struct vwired *d)
{
	char path[PATH_MAX];

	if (vwired_rundir_check(d->opt.run_dir))
		return -1;
	for (int i = 0; i < SOCK_MAX; i++)
		if (socket_path(d, i, path, sizeof(path)) &&
		    vwired_rundir_claim(path, i == SOCK_BRIDGE ? d->cfg.bridge.name : d->name))
			return -1;
	return 0;
}

static int open_control_sockets(struct vwired *d)
{
	char path[PATH_MAX];

	socket_path(d, SOCK_UAPI, path, sizeof(path));
	if (!(d->uapi = uapi_server_new(d, path)))
		return -1;
	vwired_cleaner_add(path);
	socket_path(d, SOCK_CTL, path, sizeof(path));
	if (!(d->ctl = ctl_server_new(d, path)))
		return -1;
	vwired_cleaner_add(path);
	if (socket_path(d, SOCK_BRIDGE, path, sizeof(path)) && d->sh.has_bridge) {
		if (!(d->ctl_bridge = ctl_server_new(d, path)))
			return -1;
		vwired_cleaner_add(path);
	}
	return 0;
}

/* SIGHUP: the config file again, as vwirectl reload (the loop stops itself on the others). */
static void on_signal(void *ctx, int signo)
{
	char msg[1024];

	if (signo == SIGHUP)
		vwired_reload(ctx, msg, sizeof(msg));
}

int vwired_init(struct vwired *d, const struct vwired_options *opt)
{
	struct wg_device_config wcfg = {0};
	struct vwired_worker *w0 = &d->workers[0];
	uid_t user_uid = 0;
	gid_t user_gid = 0;
	char err[1024];
	int rc;

	memset(d, 0, sizeof(*d));
	d->opt = *opt;
	pthread_mutex_init(&d->lock, NULL);
	d->n_workers = vwired_workers_wanted(opt);
	for (uint32_t i = 0; i < VWIRED_MAX_WORKERS; i++) {
		d->workers[i].d = d;
		d->workers[i].id = i;
		d->workers[i].wake_fd = -1;
	}
	if (!d->opt.run_dir)
		d->opt.run_dir = "/run";
	d->started_ns = vw_clock_mono_ns();
	if (opt->user) {
		struct passwd *pw = getpwnam(opt->user);

		if (!pw) {
			vw_err("--user %s: no such user", opt->user);
			return -1;
		}
		user_uid = pw->pw_uid;
		user_gid = pw->pw_gid;
		/* Forked before the config is read: it never holds a key. */
		if (vwired_cleaner_start())
			return -1;
	}
	if (!crypto_init()) {
		vw_err("cannot initialise libsodium");
		return -1;
	}
	if (opt->config_path) {
		if (config_load(opt->config_path, &d->cfg, err, sizeof(err))) {
			vw_err("%s", err);
			return -1;
		}
		snprintf(d->name, sizeof(d->name), "%s", d->cfg.iface.name);
		warn_config_access(d);
	} else {
		snprintf(d->name, sizeof(d->name), "%s", opt->ifname);
		d->cfg.iface.tun = true;
		d->cfg.iface.mtu = CONFIG_DEFAULT_MTU;
	}
	if (claim_run_dir(d))
		return -1;

	if (!pkt_pool_init(&d->pool, pool_packets(d),
			   opt->offload ? VWIRED_BUF_OFFLOAD : PKT_DEFAULT_SIZE)) {
		vw_err("cannot allocate the packet buffers");
		return -1;
	}
	/* Until the workers start, worker 0 (this thread) does everything. */
	w0->loop = io_loop_new(opt->io, &d->pool, &vwired_loop_opts);
	if (!w0->loop) {
		vw_err("cannot start the %s event loop: %s",
		       opt->io == IO_EPOLL ? "epoll" : "io_uring", strerror(errno));
		return -1;
	}
	io_loop_on_deadline(w0->loop, vwired_on_deadline, w0);
	if ((rc = io_loop_catch_signals(w0->loop, on_signal, d)) < 0) {
		vw_err("cannot catch signals: %s", strerror(-rc));
		return -1;
	}

	wcfg.pool = &d->pool;
	wcfg.mtu = d->cfg.iface.mtu;
	/* As many peers as a config file may hold (the UAPI adds within the same cap). */
	wcfg.max_peers = CONFIG_MAX_PEERS;
	wcfg.max_staged = VWIRED_MAX_STAGED;
	/* Handshakes wait for the workers there, their X25519 outside the lock. */
	wcfg.handshake_queue = WG_HANDSHAKE_QUEUE_DEFAULT;
	if ((rc = wg_device_init(&d->sh.wg, &wcfg)) < 0) {
		vw_err("cannot create the WireGuard device: %s", strerror(-rc));
		return -1;
	}
	d->sh.wg_ready = true;
	vwired_sync_wall_clock(&d->sh);

	if (d->cfg.iface.tun && open_tun(d, d->name, d->cfg.iface.mtu, d->cfg.iface.addresses,
					 d->cfg.iface.n_addresses))
		return -1;
	if ((rc = vwired_set_listen_port(d, &d->sh, d->cfg.iface.listen_port)) < 0) {
		vw_err("cannot listen on UDP port %u: %s", d->cfg.iface.listen_port, strerror(-rc));
		return -1;
	}
	if (d->cfg.iface.fwmark && (rc = vwired_set_fwmark(d, &d->sh, d->cfg.iface.fwmark)) < 0) {
		vw_err("cannot set fwmark 0x%x: %s", d->cfg.iface.fwmark, strerror(-rc));
		return -1;
	}
	if (opt->config_path && apply_config(d))
		return -1;
	if (vwired_bridge_init(d))
		return -1;
	if (open_control_sockets(d))
		return -1;
	if (vwired_workers_prepare(d))
		return -1;
	vwired_workers_open(d);
	vwired_bridge_start(d);
	if (opt->user && drop_privileges(opt->user, user_uid, user_gid))
		return -1;
	vwired_rearm_timers(w0, &d->sh);
	vw_info("%s: listening on UDP %u, %s%s, %s event loop, %u worker%s", d->name,
		io_udp_port(w0->udp), w0->tun ? "TUN " : "no TUN",
		w0->tun ? io_tun_name(w0->tun) : "", io_loop_backend_name(w0->loop), d->n_workers,
		d->n_workers == 1 ? "" : "s");
	return 0;
}

int vwired_run(struct vwired *d)
{
	int rc;

	vwired_workers_start(d);
	rc = io_loop_run(d->workers[0].loop);
	if (rc == 0 && d->sh.has_bridge)
		vwired_liveness_goodbye(d);
	vwired_workers_stop(d);

	if (rc < 0)
		vw_err("event loop failed: %s", strerror(-rc));
	else
		vw_info("%s: shutting down", d->name);
	return rc < 0 ? -1 : 0;
}

void vwired_free(struct vwired *d)
{
	ctlsock_free(d->uapi);
	ctlsock_free(d->ctl);
	ctlsock_free(d->ctl_bridge);
	struct vwired_worker *w0 = &d->workers[0];

	vwired_bridge_free(d);
	if (w0->udp)
		io_udp_close(w0->udp);
	if (w0->tun)
		io_tun_close(w0->tun);
	/* The device frees staged packets into the pool: before the pool goes. */
	if (d->sh.wg_ready)
		wg_device_free(&d->sh.wg);
	vwired_workers_free(d);
	if (w0->loop)
		io_loop_free(w0->loop);
	if (d->pool.pkts)
		pkt_pool_destroy(&d->pool);
	config_free(&d->cfg);
	pthread_mutex_destroy(&d->lock);
	crypto_wipe(d, sizeof(*d));
	/* Last: the sockets are closed (and, were it still root, removed) by now. */
	vwired_cleaner_stop();
}
