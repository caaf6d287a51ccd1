/* SPDX-License-Identifier: MIT */
/*
 * The daemon's datapath (src/daemon/datapath.c) as its loop drives it: a vwired made by
 * vwired_init from a config file (one worker, epoll, Tun = off), whose callbacks the test
 * calls itself with vectors from the daemon's pool, without running the loop. The loop is
 * the real epoll one but for its send, which keeps every packet the worker sends or writes,
 * in order, and notes whether the lock was held then; the worker's TUN queue is an io_tun
 * that exists only for that send. The peer is a WireGuard device of the test's own.
 *
 * What a batch sends leaves after the unlock, sealed and in order, also past the backlog's
 * bound; received data reaches the TUN in order; the drops without a socket or a TUN keep
 * no buffer and no job; each UDP batch runs one handshake job list at most, or, under
 * load, VWIRED_HANDSHAKE_TAKES takes of cookie replies; and the lock is counted and timed
 * per batch, with its waits when another worker holds it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/byteorder.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/pkt.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "daemon/metrics.h"
#include "daemon/vwired.h"
#include "io/io_internal.h"
#include "tunnel/cookie.h"
#include "tunnel/messages.h"

#define GUARD_SECONDS 60

/* Tunnel addresses: vwired's, and the peer's (its allowed IP in vwired's config). */
#define VW_IP	"10.9.0.1"
#define PEER_IP "10.9.0.2"
/* Outer endpoints: nothing is sent for real, so documentation addresses will do. */
#define VW_ENDPOINT   "192.0.2.1"
#define PEER_ENDPOINT "192.0.2.2"
#define PEER_PORT     51820

/* The inner packets: IPv4/UDP whose payload starts with a sequence number. */
#define PAYLOAD 100
#define IP_LEN	(28 + PAYLOAD)

/* More sends than the backlog holds, not a whole number of batches. */
#define BACKLOG_SENDS (VWIRED_BACKLOG_MAX + 100)

/* The queue length at which the device counts as under load (handshake_queue.h). */
#define LOAD_DEPTH (WG_HANDSHAKE_QUEUE_DEFAULT / 8)

struct sent {
	struct pkt *p;
	bool locked; /* the lock was held when the worker handed it to its loop */
};

struct capture {
	struct sent *s;
	uint32_t n, cap;
};

struct env {
	uint32_t pool; /* buffers in the daemon's pool; 0: as vwired_init sized it */
};

static struct env env_default = {0};
static struct env env_big_pool = {BACKLOG_SENDS + 1024};

struct t {
	struct vwired d;
	struct vwired_worker *w;
	struct io_udp *udp; /* the worker's socket, also while a test takes it away */
	struct io_tun *tun; /* the worker's TUN queue: there only for the send below */
	const struct io_backend_ops *real_ops;
	struct io_backend_ops ops;
	struct capture udp_out, tun_out;
	char dir[64], conf[128];
	uint8_t vw_pub[WG_KEY_SIZE];
	struct vw_endpoint vw_ep, peer_ep;
	/* The peer. */
	struct pkt_pool ppool;
	struct wg_device peer;
	struct wg_peer *vw; /* vwired, as the peer knows it */
};

/* The backend's send has no context of its own. */
static struct t *cur;

static uint64_t now(void)
{
	return vw_clock_mono_ns();
}

static void make_ep(struct vw_endpoint *ep, const char *ip, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->in4.sin_family = AF_INET;
	ep->in4.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &ep->in4.sin_addr), 1);
}

static void capture_add(struct capture *c, struct pkt *p, bool locked)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->s = realloc(c->s, c->cap * sizeof(*c->s));
		assert_non_null(c->s);
	}
	c->s[c->n].p = p;
	c->s[c->n].locked = locked;
	c->n++;
}

static void capture_clear(struct capture *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->s[i].p)
			pkt_free(c->s[i].p);
	c->n = 0;
}

static uint32_t capture_locked(const struct capture *c)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->n; i++)
		n += c->s[i].locked;
	return n;
}

/* The loop's send: what the worker hands over is kept, with whether it held the lock. */
static void keep_send(struct io_loop *loop, struct io_src *src, struct pkt_vec *v)
{
	struct t *t = cur;
	struct capture *c = NULL;
	int rc = pthread_mutex_trylock(&t->d.lock);

	(void)loop;
	if (!rc)
		pthread_mutex_unlock(&t->d.lock);
	else
		assert_int_equal(rc, EBUSY);
	if (src == &t->udp->src)
		c = &t->udp_out;
	else if (src == &t->tun->src)
		c = &t->tun_out;
	else
		fail_msg("a send on a source the worker does not own");
	for (uint32_t i = 0; i < v->n; i++)
		capture_add(c, v->p[i], rc == EBUSY);
	v->n = 0;
}

static void fill_ip4(uint8_t *h, const char *src, const char *dst, uint32_t seq)
{
	memset(h, 0, 28);
	h[0] = 0x45;
	put_be16(h + 2, IP_LEN);
	h[8] = 64;
	h[9] = 17;
	assert_int_equal(inet_pton(AF_INET, src, h + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, h + 16), 1);
	put_be16(h + 20, 1000);
	put_be16(h + 22, 2000);
	put_be16(h + 24, 8 + PAYLOAD);
	put_be32(h + 28, seq);
	for (uint32_t i = 4; i < PAYLOAD; i++)
		h[28 + i] = (uint8_t)(seq * 31 + i);
}

static struct pkt *ip4(struct pkt_pool *pool, const char *src, const char *dst, uint32_t seq)
{
	struct pkt *p = pkt_alloc(pool);
	uint8_t *h;

	assert_non_null(p);
	h = pkt_put(p, IP_LEN);
	assert_non_null(h);
	fill_ip4(h, src, dst, seq);
	return p;
}

static void assert_ip4(const struct pkt *p, const char *src, const char *dst, uint32_t seq)
{
	uint8_t want[IP_LEN];

	fill_ip4(want, src, dst, seq);
	assert_int_equal(p->len, IP_LEN);
	if (memcmp(p->data, want, IP_LEN))
		fail_msg("inner packet %u differs (its payload says %u)", seq,
			 get_be32(p->data + 28));
}

/* A TUN batch of n packets vwired -> peer, numbered from seq. */
static void tun_batch(struct t *t, uint32_t seq, uint32_t n)
{
	struct pkt_vec v;

	pkt_vec_init(&v);
	for (uint32_t i = 0; i < n; i++)
		assert_true(pkt_vec_add(&v, ip4(&t->d.pool, VW_IP, PEER_IP, seq + i)));
	vwired_on_tun_rx(t->w, t->tun, &v);
	assert_int_equal(v.n, 0);
}

/* Datagrams from the peer, as the worker's socket reads them: copies in the daemon's pool. */
static void udp_batch(struct t *t, struct pkt_vec *from_peer)
{
	struct pkt_vec v;

	pkt_vec_init(&v);
	for (uint32_t i = 0; i < from_peer->n; i++) {
		struct pkt *q = from_peer->p[i], *p = pkt_alloc(&t->d.pool);

		assert_non_null(p);
		memcpy(pkt_put(p, q->len), q->data, q->len);
		p->src = t->peer_ep;
		pkt_vec_add(&v, p);
		pkt_free(q);
	}
	from_peer->n = 0;
	vwired_on_udp_rx(t->w, t->udp, &v);
}

/* The peer sends n packets peer -> vwired, numbered from seq: their data messages in out. */
static void peer_send(struct t *t, uint32_t seq, uint32_t n, struct pkt_vec *out)
{
	struct pkt_vec in;

	pkt_vec_init(&in);
	pkt_vec_init(out);
	for (uint32_t i = 0; i < n; i++)
		pkt_vec_add(&in, ip4(&t->ppool, PEER_IP, VW_IP, seq + i));
	assert_int_equal(wg_device_send(&t->peer, &in, now(), NULL, out), n);
	assert_int_equal(out->n, n);
}

/*
 * The peer receives everything the worker sent: data messages to its endpoint, with
 * consecutive counters (the order they were framed in), opening to vwired -> peer packets
 * numbered from seq in the same order.
 */
static void peer_receive_data(struct t *t, uint32_t seq)
{
	struct capture *c = &t->udp_out;
	struct pkt_vec in, out_udp, out_ip;
	uint64_t counter = 0;
	uint32_t got = 0;

	for (uint32_t i = 0; i < c->n;) {
		pkt_vec_init(&in);
		for (; i < c->n && in.n < PKT_VEC_MAX; i++) {
			struct pkt *p = c->s[i].p;
			uint64_t ctr;

			assert_int_equal(wg_message_classify(p->data, p->len), WG_MSG_DATA);
			assert_true(vw_endpoint_equal(&p->dst, &t->peer_ep));
			ctr = get_le64(p->data + WG_DATA_OFF_COUNTER);
			if (i && ctr != counter + 1)
				fail_msg("send %u has counter %llu after %llu", i,
					 (unsigned long long)ctr, (unsigned long long)counter);
			counter = ctr;
			p->src = t->vw_ep;
			pkt_vec_add(&in, p);
			c->s[i].p = NULL;
		}
		while (in.n) {
			pkt_vec_init(&out_udp);
			pkt_vec_init(&out_ip);
			wg_device_receive(&t->peer, &in, now(), false, NULL, &out_udp, &out_ip);
			assert_int_equal(out_udp.n, 0);
			for (uint32_t k = 0; k < out_ip.n; k++) {
				assert_ip4(out_ip.p[k], VW_IP, PEER_IP, seq + got);
				got++;
			}
			pkt_vec_free(&out_ip);
		}
	}
	assert_int_equal(got, c->n);
	c->n = 0;
}

/* The TUN got n packets peer -> vwired numbered from seq, in order, and nothing else. */
static void tun_received(struct t *t, uint32_t seq, uint32_t n)
{
	assert_int_equal(t->tun_out.n, n);
	for (uint32_t i = 0; i < n; i++)
		assert_ip4(t->tun_out.s[i].p, PEER_IP, VW_IP, seq + i);
	capture_clear(&t->tun_out);
}

/* Every buffer of the daemon's pool is free: nothing the datapath handled was kept. */
static void pool_all_free(struct t *t)
{
	assert_int_equal(pkt_pool_nfree(&t->d.pool), t->d.pool.count);
}

static void write_config(struct t *t, const uint8_t vw_priv[WG_KEY_SIZE],
			 const uint8_t peer_pub[WG_KEY_SIZE])
{
	char priv[WG_KEY_LEN_BASE64 + 1], pub[WG_KEY_LEN_BASE64 + 1];
	FILE *f;
	int fd;

	snprintf(t->conf, sizeof(t->conf), "%s/dp.conf", t->dir);
	fd = open(t->conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	key_to_base64(priv, vw_priv);
	key_to_base64(pub, peer_pub);
	fprintf(f,
		"[Interface]\nPrivateKey = %s\nTun = off\n\n"
		"[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s:%u\n",
		priv, pub, PEER_IP, PEER_ENDPOINT, PEER_PORT);
	assert_int_equal(fclose(f), 0);
	crypto_wipe(priv, sizeof(priv));
}

/*
 * The pool vwired_init makes for one worker without TUN or TAPs holds fewer buffers than
 * VWIRED_BACKLOG_MAX, too few to fill the backlog: it is replaced by a bigger one while no
 * buffer is out (the loop and the device know it by its address only).
 */
static void grow_pool(struct t *t, uint32_t count)
{
	uint32_t size = t->d.pool.bufsize;

	assert_true(count > t->d.pool.count);
	pool_all_free(t);
	pkt_pool_destroy(&t->d.pool);
	assert_true(pkt_pool_init(&t->d.pool, count, size));
}

static void peer_init(struct t *t, const uint8_t priv[WG_KEY_SIZE])
{
	struct wg_device_config cfg = {0};
	uint8_t a[4];

	assert_true(pkt_pool_init(&t->ppool, 256, PKT_DEFAULT_SIZE));
	cfg.pool = &t->ppool;
	cfg.max_peers = 4;
	cfg.mtu = CONFIG_DEFAULT_MTU;
	assert_int_equal(wg_device_init(&t->peer, &cfg), 0);
	t->peer.wall_offset_ns = (int64_t)(vw_clock_wall_ns() - vw_clock_mono_ns());
	wg_device_set_private_key(&t->peer, priv, now());
	assert_int_equal(wg_device_add_peer(&t->peer, t->vw_pub, &t->vw), 0);
	wg_peer_set_endpoint(t->vw, &t->vw_ep);
	assert_int_equal(inet_pton(AF_INET, VW_IP, a), 1);
	assert_int_equal(wg_peer_add_allowed_ip(t->vw, AF_INET, a, 32), 0);
}

/*
 * Every test starts with a session. The peer starts a handshake with a packet: the
 * initiation is one UDP batch, the worker answers it from its handshake queue after that
 * batch, and the packet the peer staged meanwhile confirms the session in the next batch
 * and reaches the TUN.
 */
static struct t *session(void **state)
{
	struct t *t = *state;
	struct pkt_vec in, out_udp, out_ip;
	struct pkt *p;

	pkt_vec_init(&in);
	pkt_vec_init(&out_udp);
	pkt_vec_init(&out_ip);
	pkt_vec_add(&in, ip4(&t->ppool, PEER_IP, VW_IP, 0));
	wg_device_send(&t->peer, &in, now(), NULL, &out_udp);
	assert_int_equal(out_udp.n, 1);
	assert_int_equal(wg_message_classify(out_udp.p[0]->data, out_udp.p[0]->len),
			 WG_MSG_HANDSHAKE_INITIATION);
	udp_batch(t, &out_udp);
	assert_int_equal(t->udp_out.n, 1);
	assert_false(t->udp_out.s[0].locked);
	p = t->udp_out.s[0].p;
	t->udp_out.n = 0;
	assert_int_equal(wg_message_classify(p->data, p->len), WG_MSG_HANDSHAKE_RESPONSE);
	p->src = t->vw_ep;
	pkt_vec_add(&in, p);
	wg_device_receive(&t->peer, &in, now(), false, NULL, &out_udp, &out_ip);
	assert_int_equal(in.n, 0);
	assert_int_equal(out_ip.n, 0);
	assert_int_equal(out_udp.n, 1);
	udp_batch(t, &out_udp);
	tun_received(t, 0, 1);
	assert_int_equal(t->udp_out.n, 0);
	assert_true(wg_peer_has_session(t->vw, now()));
	assert_true(wg_peer_has_session(wg_device_first_peer(&t->d.sh.wg), now()));
	pool_all_free(t);
	return t;
}

static int setup(void **state)
{
	const struct env *e = *state;
	struct vwired_options opt = {0};
	uint8_t vw_priv[WG_KEY_SIZE], peer_priv[WG_KEY_SIZE], peer_pub[WG_KEY_SIZE];
	struct t *t = calloc(1, sizeof(*t));

	alarm(GUARD_SECONDS);
	assert_non_null(t);
	assert_true(crypto_init());
	x25519_generate(vw_priv);
	x25519_public(t->vw_pub, vw_priv);
	x25519_generate(peer_priv);
	x25519_public(peer_pub, peer_priv);
	make_ep(&t->vw_ep, VW_ENDPOINT, PEER_PORT);
	make_ep(&t->peer_ep, PEER_ENDPOINT, PEER_PORT);
	snprintf(t->dir, sizeof(t->dir), "/tmp/vwire-dp-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	write_config(t, vw_priv, peer_pub);

	opt.config_path = t->conf;
	opt.run_dir = t->dir;
	opt.io = IO_EPOLL;
	opt.workers = 1;
	assert_int_equal(vwired_init(&t->d, &opt), 0);
	t->w = &t->d.workers[0];
	assert_int_equal(t->d.n_workers, 1);
	assert_null(t->w->tun);
	t->udp = t->w->udp;
	assert_non_null(t->udp);
	/* The epoll backend in all but its send. */
	t->real_ops = t->w->loop->ops;
	t->ops = *t->real_ops;
	t->ops.send = keep_send;
	t->w->loop->ops = &t->ops;
	t->tun = calloc(1, sizeof(*t->tun));
	assert_non_null(t->tun);
	t->tun->src.loop = t->w->loop;
	t->tun->src.kind = IO_SRC_TUN;
	t->tun->src.fd = -1;
	t->tun->kind = IO_DEV_TUN;
	t->w->tun = t->tun;
	cur = t;
	if (e->pool)
		grow_pool(t, e->pool);

	peer_init(t, peer_priv);
	crypto_wipe(vw_priv, sizeof(vw_priv));
	crypto_wipe(peer_priv, sizeof(peer_priv));
	*state = t;
	return 0;
}

/* What vwired_init made in the run dir (vwired_free took the sockets), and the config. */
static void remove_run_dir(struct t *t)
{
	const char *const names[] = {"wireguard", "vwire"};
	char path[160];

	unlink(t->conf);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, names[i]);
		rmdir(path);
	}
	assert_int_equal(rmdir(t->dir), 0);
}

/* Everything goes, also after a failed test; then the checks that nothing was left behind. */
static int teardown(void **state)
{
	struct t *t = *state;
	bool pool_ok, ppool_ok;

	capture_clear(&t->udp_out);
	capture_clear(&t->tun_out);
	free(t->udp_out.s);
	free(t->tun_out.s);
	pool_ok = pkt_pool_nfree(&t->d.pool) == t->d.pool.count;
	wg_device_free(&t->peer);
	ppool_ok = pkt_pool_nfree(&t->ppool) == t->ppool.count;
	pkt_pool_destroy(&t->ppool);
	t->w->udp = t->udp;
	t->w->tun = NULL;
	free(t->tun);
	t->w->loop->ops = t->real_ops;
	vwired_free(&t->d);
	cur = NULL;
	remove_run_dir(t);
	free(t);
	alarm(0);
	assert_true(pool_ok);
	assert_true(ppool_ok);
	return 0;
}

/*
 * A TUN batch for a peer with a session: one data message per packet leaves, in order,
 * each sealed, and none while the lock is held (their AEAD and sends run after it).
 */
static void test_tun_batch(void **state)
{
	struct t *t = session(state);
	const uint32_t sizes[] = {PKT_VEC_MAX, 1, 33};
	uint32_t seq = 1;

	for (uint32_t b = 0; b < sizeof(sizes) / sizeof(sizes[0]); b++) {
		tun_batch(t, seq, sizes[b]);
		assert_int_equal(t->udp_out.n, sizes[b]);
		assert_int_equal(capture_locked(&t->udp_out), 0);
		assert_int_equal(t->w->backlog_n, 0);
		assert_int_equal(t->w->later.seal->n, 0);
		assert_int_equal(t->tun_out.n, 0);
		peer_receive_data(t, seq);
		seq += sizes[b];
	}
	assert_int_equal(t->d.sh.drops[VWIRED_DROP_UDP_NO_SOCKET], 0);
	pool_all_free(t);
}

/* A UDP batch of data messages: each inner packet written to the TUN, in order. */
static void test_udp_batch(void **state)
{
	struct t *t = session(state);
	struct pkt_vec out;

	peer_send(t, 100, PKT_VEC_MAX, &out);
	udp_batch(t, &out);
	tun_received(t, 100, PKT_VEC_MAX);
	assert_int_equal(t->w->later.open->n, 0);
	assert_int_equal(t->udp_out.n, 0);
	assert_int_equal(t->d.sh.drops[VWIRED_DROP_NO_TUN], 0);
	assert_int_equal(t->d.sh.wg.drops[WG_DROP_RX_BAD_TAG], 0);
	pool_all_free(t);
}

/* Tun = off: the inner packets are counted and freed. */
static void test_udp_batch_no_tun(void **state)
{
	struct t *t = session(state);
	struct pkt_vec out;

	t->w->tun = NULL;
	peer_send(t, 100, PKT_VEC_MAX, &out);
	udp_batch(t, &out);
	assert_int_equal(t->d.sh.drops[VWIRED_DROP_NO_TUN], PKT_VEC_MAX);
	assert_int_equal(t->tun_out.n, 0);
	assert_int_equal(t->w->later.open->n, 0);
	pool_all_free(t);
}

/*
 * Without a socket the sends are counted and freed, and so are their jobs: a job left in
 * the list would seal into the buffers the next packets are given.
 */
static void test_no_socket(void **state)
{
	struct t *t = session(state);
	struct vwired_shared *sh;
	struct pkt_vec v;

	t->w->udp = NULL;
	tun_batch(t, 1, PKT_VEC_MAX);
	assert_int_equal(t->d.sh.drops[VWIRED_DROP_UDP_NO_SOCKET], PKT_VEC_MAX);
	assert_int_equal(t->udp_out.n, 0);
	assert_int_equal(t->w->backlog_n, 0);
	assert_int_equal(t->w->later.seal->n, 0);
	pool_all_free(t);

	/* Within one locked section: dropped, then sent on the socket back in place. */
	sh = vwired_lock(t->w);
	pkt_vec_init(&v);
	for (uint32_t i = 0; i < PKT_VEC_MAX; i++)
		pkt_vec_add(&v, ip4(&t->d.pool, VW_IP, PEER_IP, 1000 + i));
	vwired_tunnel_send(t->w, sh, &v, now());
	assert_int_equal(t->d.sh.drops[VWIRED_DROP_UDP_NO_SOCKET], 2 * PKT_VEC_MAX);
	assert_int_equal(t->w->later.seal->n, 0);
	pool_all_free(t);
	t->w->udp = t->udp;
	for (uint32_t i = 0; i < PKT_VEC_MAX; i++)
		pkt_vec_add(&v, ip4(&t->d.pool, VW_IP, PEER_IP, 2000 + i));
	vwired_tunnel_send(t->w, sh, &v, now());
	vwired_unlock(t->w);
	assert_int_equal(t->udp_out.n, PKT_VEC_MAX);
	assert_int_equal(capture_locked(&t->udp_out), 0);
	peer_receive_data(t, 2000);
	pool_all_free(t);
}

/*
 * More sends in one locked section than the backlog holds: a full backlog goes out at
 * once (under the lock, sealed first), the rest after the unlock, all in order.
 */
static void test_backlog_bound(void **state)
{
	struct t *t = session(state);
	struct vwired_shared *sh = vwired_lock(t->w);
	uint64_t at = now();
	uint32_t seq = 0;
	struct pkt_vec v;

	while (seq < BACKLOG_SENDS) {
		pkt_vec_init(&v);
		while (v.n < PKT_VEC_MAX && seq < BACKLOG_SENDS)
			pkt_vec_add(&v, ip4(&t->d.pool, VW_IP, PEER_IP, ++seq));
		vwired_tunnel_send(t->w, sh, &v, at);
		assert_true(t->w->backlog_n <= VWIRED_BACKLOG_MAX);
	}
	assert_int_equal(t->udp_out.n, VWIRED_BACKLOG_MAX);
	assert_int_equal(t->w->backlog_n, BACKLOG_SENDS - VWIRED_BACKLOG_MAX);
	vwired_unlock(t->w);
	assert_int_equal(t->w->backlog_n, 0);
	assert_int_equal(t->udp_out.n, BACKLOG_SENDS);
	for (uint32_t i = 0; i < BACKLOG_SENDS; i++)
		if (t->udp_out.s[i].locked != (i < VWIRED_BACKLOG_MAX))
			fail_msg("send %u went out %s the lock", i,
				 t->udp_out.s[i].locked ? "under" : "outside");
	peer_receive_data(t, 1);
	pool_all_free(t);
}

/*
 * A handshake initiation with a valid mac1 for vwired and random everything else, from
 * its own address: it is queued, and taken, it costs the X25519 and then fails.
 */
static struct pkt *junk_initiation(struct t *t, uint32_t i)
{
	struct pkt *p = pkt_alloc(&t->d.pool);
	struct wg_cookie ck;
	char ip[32];

	assert_non_null(p);
	crypto_random(pkt_put(p, WG_INIT_SIZE), WG_INIT_SIZE);
	p->data[0] = WG_MSG_HANDSHAKE_INITIATION;
	p->data[1] = p->data[2] = p->data[3] = 0;
	wg_cookie_init(&ck, t->vw_pub);
	wg_cookie_add_macs(&ck, p->data, WG_INIT_SIZE, now());
	snprintf(ip, sizeof(ip), "198.18.%u.%u", i >> 8, i & 255);
	make_ep(&p->src, ip, 1000);
	return p;
}

static uint64_t handshakes_failed(struct t *t)
{
	return t->d.sh.wg.drops[WG_DROP_RX_HANDSHAKE_DECRYPT] +
	       t->d.sh.wg.drops[WG_DROP_RX_HANDSHAKE_DH];
}

/*
 * A UDP batch of initiations, not enough to count as load: they wait in the device's
 * queue, the worker runs one job list of them after the batch, and the rest make worker
 * 0's deadline due, one job list at each.
 */
static void test_handshakes_per_batch(void **state)
{
	struct t *t = session(state);
	uint32_t queued = PKT_VEC_MAX;
	struct pkt_vec v;

	assert_true(queued < LOAD_DEPTH);
	pkt_vec_init(&v);
	for (uint32_t i = 0; i < queued; i++)
		pkt_vec_add(&v, junk_initiation(t, i));
	vwired_on_udp_rx(t->w, t->udp, &v);
	queued -= WG_HANDSHAKE_JOBS_MAX;
	assert_int_equal(wg_device_handshakes_queued(&t->d.sh.wg), queued);
	assert_int_equal(handshakes_failed(t), WG_HANDSHAKE_JOBS_MAX);
	while (queued) {
		assert_true(io_loop_deadline(t->w->loop) <= now());
		vwired_on_deadline(t->w, now());
		queued -= WG_HANDSHAKE_JOBS_MAX;
		assert_int_equal(wg_device_handshakes_queued(&t->d.sh.wg), queued);
	}
	assert_int_equal(handshakes_failed(t), PKT_VEC_MAX);
	assert_true(io_loop_deadline(t->w->loop) > now());
	assert_int_equal(t->udp_out.n, 0);
	assert_int_equal(t->d.sh.wg.drops[WG_DROP_RX_COOKIE_SENT], 0);
	pool_all_free(t);
}

/*
 * Under load (the queue at LOAD_DEPTH, filled as other workers' batches would) a take
 * costs cookie replies only, as many as one output vector holds: after its next UDP batch
 * the worker takes VWIRED_HANDSHAKE_TAKES times, answers in queue order, and leaves the
 * rest queued.
 */
static void test_handshakes_under_load(void **state)
{
	struct t *t = session(state);
	const uint32_t per_take =
		WG_HANDSHAKE_TAKE_MAX < PKT_VEC_MAX ? WG_HANDSHAKE_TAKE_MAX : PKT_VEC_MAX;
	const uint32_t replies = VWIRED_HANDSHAKE_TAKES * per_take;
	struct pkt_vec v, out_udp, out_ip;
	struct vwired_shared *sh;
	uint32_t i = 0;

	assert_true(replies < LOAD_DEPTH);
	while (i < LOAD_DEPTH) {
		pkt_vec_init(&v);
		while (v.n < PKT_VEC_MAX && i < LOAD_DEPTH)
			pkt_vec_add(&v, junk_initiation(t, i++));
		sh = vwired_lock(t->w);
		pkt_vec_init(&out_udp);
		pkt_vec_init(&out_ip);
		wg_device_receive(&sh->wg, &v, now(), false, &t->w->later, &out_udp, &out_ip);
		assert_int_equal(v.n + out_udp.n + out_ip.n, 0);
		vwired_unlock(t->w);
	}
	assert_int_equal(wg_device_handshakes_queued(&t->d.sh.wg), LOAD_DEPTH);

	peer_send(t, 100, 1, &out_udp);
	udp_batch(t, &out_udp);
	tun_received(t, 100, 1);
	assert_int_equal(t->udp_out.n, replies);
	assert_int_equal(capture_locked(&t->udp_out), 0);
	for (i = 0; i < replies; i++) {
		struct pkt *p = t->udp_out.s[i].p;
		struct vw_endpoint from;
		char ip[32];

		assert_int_equal(wg_message_classify(p->data, p->len), WG_MSG_HANDSHAKE_COOKIE);
		snprintf(ip, sizeof(ip), "198.18.%u.%u", i >> 8, i & 255);
		make_ep(&from, ip, 1000);
		if (!vw_endpoint_equal(&p->dst, &from))
			fail_msg("cookie reply %u is not for the initiation queued %u-th", i, i);
	}
	capture_clear(&t->udp_out);
	assert_int_equal(wg_device_handshakes_queued(&t->d.sh.wg), LOAD_DEPTH - replies);
	assert_int_equal(handshakes_failed(t), 0);
	pool_all_free(t);
}

/* The sample of a worker family in vwired_metrics' answer, for worker 0. */
static void assert_metric(struct t *t, const struct out *o, const char *family, const char *v)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s{instance=\"%s\",worker=\"0\"} %s\n", family, t->d.name,
		 v);
	if (!strstr(o->buf, want))
		fail_msg("no %s in the metrics", want + 1);
}

/*
 * The lock is counted per batch, not per packet: a TUN batch takes it once, a UDP batch of
 * data messages three times (the lookups, after the AEAD, the look at the handshake
 * queue), and each hold is timed. Alone, the worker never waits. The metrics give the
 * same numbers; the hold they are written in is counted, its time not yet.
 */
static void test_lock_counts(void **state)
{
	struct t *t = session(state);
	struct vwired_worker *w = t->w;
	uint64_t n = w->lock_acquired, held = w->lock_held_ns;
	struct out o = {0};
	struct pkt_vec out;
	char v[64];

	tun_batch(t, 1, PKT_VEC_MAX);
	assert_int_equal(w->lock_acquired, n + 1);
	assert_true(w->lock_held_ns > held);
	peer_receive_data(t, 1);
	held = w->lock_held_ns;
	peer_send(t, 100, PKT_VEC_MAX, &out);
	udp_batch(t, &out);
	tun_received(t, 100, PKT_VEC_MAX);
	assert_int_equal(w->lock_acquired, n + 4);
	assert_true(w->lock_held_ns > held);
	assert_int_equal(w->lock_contended, 0);
	assert_int_equal(w->lock_wait_ns, 0);

	vwired_lock(w);
	vwired_metrics(&t->d, &o, now());
	assert_false(o.oom);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)w->lock_acquired);
	assert_metric(t, &o, "vwire_worker_lock_acquisitions_total", v);
	assert_metric(t, &o, "vwire_worker_lock_contended_total", "0");
	snprintf(v, sizeof(v), "%llu.%06llu", (unsigned long long)(w->lock_held_ns / NSEC_PER_SEC),
		 (unsigned long long)(w->lock_held_ns % NSEC_PER_SEC / 1000));
	assert_metric(t, &o, "vwire_worker_lock_held_seconds_total", v);
	assert_metric(t, &o, "vwire_worker_lock_wait_seconds_total", "0.000000");
	vwired_unlock(w);
	free(o.buf);
	pool_all_free(t);
}

/* How long worker 0 holds the lock while another worker asks for it. */
#define CONTENDED_HOLD_MS 200

struct contender {
	struct vwired_worker *w;
	atomic_bool asking;
};

static void *contend(void *arg)
{
	struct contender *c = arg;

	atomic_store(&c->asking, true);
	vwired_lock(c->w);
	vwired_unlock(c->w);
	return NULL;
}

/*
 * A worker that finds the lock taken counts it and the time it waited until the holder let
 * go, and the holder's hold is timed whole. The second worker is a bare one (no loop,
 * socket or queues), enough to take the lock.
 */
static void test_lock_contended(void **state)
{
	struct t *t = *state;
	struct vwired_worker *w1 = &t->d.workers[1];
	struct vwired_worker saved = *w1;
	struct contender c = {.w = w1};
	uint64_t start, held;
	pthread_t th;

#ifdef VW_TEST_NO_THREADS
	skip(); /* qemu-user crashes in pthread_create (tests/unit/meson.build) */
#endif
	w1->d = &t->d;
	w1->id = 1;
	w1->later.seal = calloc(1, sizeof(*w1->later.seal));
	assert_non_null(w1->later.seal);
	held = t->w->lock_held_ns;
	vwired_lock(t->w);
	start = now();
	assert_int_equal(pthread_create(&th, NULL, contend, &c), 0);
	while (!atomic_load(&c.asking))
		usleep(1000);
	usleep(CONTENDED_HOLD_MS * 1000);
	vwired_unlock(t->w);
	held = t->w->lock_held_ns - held;
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(held >= CONTENDED_HOLD_MS * NSEC_PER_MSEC);
	assert_int_equal(w1->lock_acquired, 1);
	assert_int_equal(w1->lock_contended, 1);
	assert_true(w1->lock_wait_ns >= CONTENDED_HOLD_MS / 2 * NSEC_PER_MSEC);
	assert_true(w1->lock_wait_ns <= now() - start);
	assert_true(w1->lock_held_ns > 0);
	assert_int_equal(t->w->lock_contended, 0);
	free(w1->later.seal);
	*w1 = saved;
}

#define CASE(fn, env) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &env)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_tun_batch, env_default),
		CASE(test_udp_batch, env_default),
		CASE(test_udp_batch_no_tun, env_default),
		CASE(test_no_socket, env_default),
		CASE(test_backlog_bound, env_big_pool),
		CASE(test_handshakes_per_batch, env_default),
		CASE(test_handshakes_under_load, env_default),
		CASE(test_lock_counts, env_default),
		CASE(test_lock_contended, env_default),
	};

	vw_log_set_level(VW_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
