/* SPDX-License-Identifier: MIT */
/*
 * Reload (src/daemon/reload_diff.c, reload.c): two configs in, the list of changes out,
 * and the restart-only keys refused; then a vwired made by vwired_init (one worker,
 * epoll, Tun = off, no bridge: no TUN or TAP needed) reloaded from its file: a bad file
 * or a restart-only change leaves the device and the running config as they were, a
 * good one adds, changes and removes peers and moves the listen port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "daemon/reload.h"
#include "daemon/vwired.h"
#include "tunnel/allowedips.h"

/* Throwaway keys, made at start. */
static char priv[WG_KEY_LEN_BASE64 + 1], priv2[WG_KEY_LEN_BASE64 + 1];
static char pub_a[WG_KEY_LEN_BASE64 + 1], pub_b[WG_KEY_LEN_BASE64 + 1],
	pub_c[WG_KEY_LEN_BASE64 + 1], psk[WG_KEY_LEN_BASE64 + 1];
static uint8_t key_a[WG_KEY_LEN], key_b[WG_KEY_LEN], key_c[WG_KEY_LEN];

static void make_key(char *b64_priv, char *b64_pub, uint8_t *pub_out)
{
	uint8_t k[WG_KEY_LEN], pub[WG_KEY_LEN];

	x25519_generate(k);
	x25519_public(pub, k);
	if (b64_priv)
		key_to_base64(b64_priv, k);
	if (b64_pub)
		key_to_base64(b64_pub, pub);
	if (pub_out)
		memcpy(pub_out, pub, WG_KEY_LEN);
}

static int setup_keys(void **state)
{
	(void)state;
	assert_true(crypto_init());
	make_key(priv, NULL, NULL);
	make_key(priv2, NULL, NULL);
	make_key(NULL, pub_a, key_a);
	make_key(NULL, pub_b, key_b);
	make_key(NULL, pub_c, key_c);
	make_key(psk, NULL, NULL);
	return 0;
}

/* The parts of a test config: an interface, peers A, B (C sometimes), a bridge, wires. */
struct spec {
	const char *iface_extra; /* more [Interface] lines */
	const char *priv;	 /* default priv */
	const char *a_ips;	 /* A's AllowedIPs, default 10.0.0.2/32 */
	const char *a_extra;	 /* more lines for A */
	bool no_b, with_c;
	bool bridge;
	const char *bridge_extra;
	const char *ports; /* default vm0, vm1 */
	const char *wires; /* whole [Wire] sections */
};

static char *render(const struct spec *s)
{
	static char buf[8192];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "[Interface]\nPrivateKey = %s\nAddress = 10.0.0.1/24\n%s\n"
		     "[Peer]\nPublicKey = %s\nAllowedIPs = %s\n%s\n",
		     s->priv ? s->priv : priv, s->iface_extra ? s->iface_extra : "", pub_a,
		     s->a_ips ? s->a_ips : "10.0.0.2/32", s->a_extra ? s->a_extra : "");
	if (!s->no_b)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			      "[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.3/32\n"
			      "Endpoint = 192.0.2.3:51820\n\n",
			      pub_b);
	if (s->with_c)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			      "[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.4/32\n\n", pub_c);
	if (s->bridge)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			      "[Bridge]\nName = br-t\nPorts = %s\n%s\n%s",
			      s->ports ? s->ports : "vm0, vm1",
			      s->bridge_extra ? s->bridge_extra : "", s->wires ? s->wires : "");
	return buf;
}

static void parse(const struct spec *s, struct vw_config *c)
{
	char err[512];
	const char *text = render(s);

	if (config_parse(text, strlen(text), "t.conf", c, err, sizeof(err))) {
		print_error("%s\n%s\n", err, text);
		fail();
	}
}

/* old -> new: 0 and the diff, or the refusal's message in err. */
static int diff(const struct spec *o, const struct spec *n, struct reload_diff *d, char *err,
		size_t errlen)
{
	struct vw_config co, cn;
	int rc;

	parse(o, &co);
	parse(n, &cn);
	rc = reload_diff(&co, &cn, d, err, errlen);
	config_free(&co);
	config_free(&cn);
	return rc;
}

static void diff_ok(const struct spec *o, const struct spec *n, struct reload_diff *d)
{
	char err[512];

	if (diff(o, n, d, err, sizeof(err))) {
		print_error("%s\n", err);
		fail();
	}
}

static const char *summary(const struct reload_diff *d)
{
	static char buf[256];

	reload_summary(d, buf, sizeof(buf));
	return buf;
}

static void test_same(void **state)
{
	struct spec s = {.bridge = true,
			 .wires = "[Wire]\nName = w1\nRemote = 10.0.0.2\nVNI = 12\n"};
	struct reload_diff d;

	(void)state;
	diff_ok(&s, &s, &d);
	assert_true(reload_diff_empty(&d));
	assert_int_equal(d.n_peers_kept, 2);
	assert_int_equal(d.n_wires_kept, 1);
	assert_int_equal(d.peers_kept[0].what | d.peers_kept[1].what, 0);
	assert_string_equal(summary(&d), "peers: 0 added, 0 removed, 0 changed; wires: 0 added, 0 "
					 "removed, 0 changed");
	reload_diff_free(&d);
}

/* A peer whose line moved but not its content is no change: peers match by key. */
static void test_peers(void **state)
{
	struct spec o = {.a_extra = "PersistentKeepalive = 25"};
	struct spec n = {.a_ips = "10.0.0.2/32, 10.9.0.0/16",
			 .a_extra = "PersistentKeepalive = 5",
			 .no_b = true,
			 .with_c = true};
	struct reload_diff d;

	(void)state;
	diff_ok(&o, &n, &d);
	assert_int_equal(d.n_peers_added, 1);
	assert_int_equal(d.peers_added[0], 1); /* C, the new file's second peer */
	assert_int_equal(d.n_peers_removed, 1);
	assert_int_equal(d.peers_removed[0], 1); /* B */
	assert_int_equal(d.n_peers_kept, 1);
	assert_int_equal(d.n_peers_changed, 1);
	assert_int_equal(d.peers_kept[0].old, 0);
	assert_int_equal(d.peers_kept[0].new, 0);
	assert_int_equal(d.peers_kept[0].what, RELOAD_PEER_ALLOWED_IPS | RELOAD_PEER_KEEPALIVE);
	assert_string_equal(summary(&d), "peers: 1 added, 1 removed, 1 changed; wires: 0 added, 0 "
					 "removed, 0 changed");
	reload_diff_free(&d);
}

static void test_peer_endpoint_psk(void **state)
{
	char extra[256];
	struct spec o = {.a_extra = "Endpoint = 192.0.2.2:1"};
	struct spec n = {.a_extra = extra};
	struct reload_diff d;

	(void)state;
	snprintf(extra, sizeof(extra), "Endpoint = 192.0.2.2:2\nPresharedKey = %s", psk);
	diff_ok(&o, &n, &d);
	assert_int_equal(d.n_peers_changed, 1);
	for (uint32_t i = 0; i < d.n_peers_kept; i++)
		if (d.peers_kept[i].new == 0)
			assert_int_equal(d.peers_kept[i].what,
					 RELOAD_PEER_ENDPOINT | RELOAD_PEER_PSK);
	reload_diff_free(&d);
}

static void test_interface(void **state)
{
	struct spec o = {.iface_extra = "ListenPort = 51820"};
	struct spec n = {.iface_extra = "ListenPort = 51821\nFwMark = 0x10", .priv = priv2};
	struct reload_diff d;

	(void)state;
	diff_ok(&o, &n, &d);
	assert_int_equal(d.iface,
			 RELOAD_IFACE_PRIVATE_KEY | RELOAD_IFACE_LISTEN_PORT | RELOAD_IFACE_FWMARK);
	assert_false(reload_diff_empty(&d));
	assert_non_null(strstr(summary(&d), "; interface: private key, listen port, fwmark"));
	reload_diff_free(&d);
}

static void test_wires(void **state)
{
	struct spec o = {.bridge = true,
			 .wires = "[Wire]\nName = w1\nRemote = 10.0.0.2\nVNI = 12\n\n"
				  "[Wire]\nName = w2\nRemote = 10.0.0.3\nVNI = 13\n\n"
				  "[Wire]\nName = w3\nRemote = 10.0.0.3\nVNI = 14\n"};
	struct spec n = {.bridge = true,
			 .with_c = true,
			 .wires = "[Wire]\nName = w4\nRemote = 10.0.0.4\nVNI = 15\n\n"
				  "[Wire]\nName = w3\nRemote = 10.0.0.3\nVNI = 16\n\n"
				  "[Wire]\nName = w1\nRemote = 10.0.0.2\nVNI = 12\nCost = 7\n"
				  "Priority = 64\n"};
	struct reload_diff d;

	(void)state;
	diff_ok(&o, &n, &d);
	assert_int_equal(d.n_wires_added, 1);
	assert_int_equal(d.wires_added[0], 0); /* w4 */
	assert_int_equal(d.n_wires_removed, 1);
	assert_int_equal(d.wires_removed[0], 1); /* w2 */
	assert_int_equal(d.n_wires_kept, 2);
	assert_int_equal(d.n_wires_changed, 2);
	/* In the new file's order: w3 (its VNI: other ends), then w1 (cost and priority). */
	assert_int_equal(d.wires_kept[0].old, 2);
	assert_int_equal(d.wires_kept[0].new, 1);
	assert_int_equal(d.wires_kept[0].what, RELOAD_WIRE_ENDS);
	assert_int_equal(d.wires_kept[1].old, 0);
	assert_int_equal(d.wires_kept[1].new, 2);
	assert_int_equal(d.wires_kept[1].what, RELOAD_WIRE_COST | RELOAD_WIRE_PRIORITY);
	assert_int_equal(d.n_peers_added, 1);
	assert_int_equal(d.bridge, 0);
	reload_diff_free(&d);
}

static void test_bridge(void **state)
{
	struct spec o = {.bridge = true, .bridge_extra = "Edge = vm0"};
	struct spec n = {.bridge = true,
			 .bridge_extra = "Priority = 4096\nHelloTime = 1\nProtocol = stp\n"
					 "AgeingTime = 60\nUDPChecksum = yes\n"};
	struct spec again = {.bridge = true, .bridge_extra = "BPDUGuard = vm0\nEdge = vm0"};
	struct reload_diff d;

	(void)state;
	diff_ok(&o, &n, &d);
	assert_int_equal(d.bridge, RELOAD_BRIDGE_PRIORITY | RELOAD_BRIDGE_TIMES |
					   RELOAD_BRIDGE_PROTOCOL | RELOAD_BRIDGE_AGEING |
					   RELOAD_BRIDGE_PORT_FLAGS | RELOAD_BRIDGE_UDP_CSUM);
	assert_non_null(strstr(summary(&d), "; bridge: priority, times, protocol, ageing, port "
					    "flags, UDP checksum"));
	reload_diff_free(&d);
	diff_ok(&o, &again, &d);
	assert_int_equal(d.bridge, RELOAD_BRIDGE_PORT_FLAGS);
	reload_diff_free(&d);
}

static void refused(const struct spec *o, const struct spec *n, const char *keys)
{
	struct reload_diff d;
	char err[512];

	assert_int_equal(diff(o, n, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, keys));
	assert_non_null(strstr(err, "restart"));
	assert_true(reload_diff_empty(&d));
	assert_null(d.peers_kept);
}

static void test_restart_only(void **state)
{
	struct spec br = {.bridge = true};

	(void)state;
	refused(&(struct spec){0}, &(struct spec){.iface_extra = "MTU = 1400"},
		"[Interface] MTU changes only");
	refused(&(struct spec){0}, &(struct spec){.iface_extra = "Name = other"},
		"[Interface] Name");
	refused(&(struct spec){0},
		&(struct spec){.iface_extra = "Tun = off\nAddress = 10.1.0.1/24"},
		"[Interface] Tun, [Interface] Address change only");
	refused(&(struct spec){0}, &br, "[Bridge] added");
	refused(&br, &(struct spec){0}, "[Bridge] removed");
	refused(&br, &(struct spec){.bridge = true, .bridge_extra = "MTU = 9000"}, "[Bridge] MTU");
	refused(&br, &(struct spec){.bridge = true, .bridge_extra = "MAC = 02:00:00:00:00:01"},
		"[Bridge] MAC");
	/* The TAP ports are opened in every worker at start; the same ones in another order are
	 * fine. */
	refused(&br, &(struct spec){.bridge = true, .ports = "vm0, vm2"}, "[Bridge] Ports");
	{
		struct reload_diff d;

		diff_ok(&br, &(struct spec){.bridge = true, .ports = "vm1, vm0"}, &d);
		assert_true(reload_diff_empty(&d));
		reload_diff_free(&d);
	}
}

/* ---- a running vwired ---- */

struct t {
	char dir[64], conf[128];
	struct vwired d;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int setup_daemon(void **state)
{
	struct vwired_options opt = {0};
	struct t *t = calloc(1, sizeof(*t));
	char text[4096];

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/vwire-reload-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->conf, sizeof(t->conf), "%s/rl%d.conf", t->dir, (int)getpid() % 10000);
	snprintf(text, sizeof(text), "%s", render(&(struct spec){.iface_extra = "Tun = off"}));
	write_file(t->conf, text);
	chmod(t->conf, 0600);
	opt.config_path = t->conf;
	opt.run_dir = t->dir;
	opt.io = IO_EPOLL;
	opt.workers = 1;
	assert_int_equal(vwired_init(&t->d, &opt), 0);
	*state = t;
	return 0;
}

static int teardown_daemon(void **state)
{
	struct t *t = *state;
	char cmd[256];

	vwired_free(&t->d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static struct wg_peer *peer_of(struct t *t, const uint8_t *key)
{
	return wg_device_find_peer(&t->d.sh.wg, key);
}

static struct wg_peer *peer_for(struct t *t, const char *ip)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, ip, a), 1);
	return wg_allowedips_lookup(&t->d.sh.wg.peer_allowedips, AF_INET, a);
}

/* The file broken at a known line: refused with FILE:LINE, and nothing changes. */
static void test_bad_file_refused(void **state)
{
	struct t *t = *state;
	struct wg_peer *a = peer_of(t, key_a), *b = peer_of(t, key_b);
	char msg[1024], want[256];
	uint16_t port = io_udp_port(t->d.workers[0].udp);

	assert_non_null(a);
	assert_non_null(b);
	write_file(t->conf, "[Interface]\nTun = off\nListenPort = 4000\n[Peer]\nAllowedIPs = x\n");
	assert_int_equal(vwired_reload(&t->d, msg, sizeof(msg)), -1);
	snprintf(want, sizeof(want), "%s:5:", t->conf);
	assert_non_null(strstr(msg, want));
	assert_ptr_equal(peer_of(t, key_a), a);
	assert_ptr_equal(peer_of(t, key_b), b);
	assert_ptr_equal(peer_for(t, "10.0.0.2"), a);
	assert_int_equal(t->d.cfg.n_peers, 2);
	assert_int_equal(io_udp_port(t->d.workers[0].udp), port);

	/* A restart-only key: refused whole, the new peer C and the port not applied either. */
	write_file(t->conf, render(&(struct spec){.iface_extra = "Tun = off\nMTU = 1300\n"
								 "ListenPort = 4001",
						  .with_c = true}));
	assert_int_equal(vwired_reload(&t->d, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "[Interface] MTU changes only at a restart"));
	assert_null(peer_of(t, key_c));
	assert_int_equal(io_udp_port(t->d.workers[0].udp), port);
	assert_int_equal(t->d.cfg.iface.mtu, 1420);
}

/* What stays keeps its peer object (sessions, counters, endpoint); the rest follows. */
static void test_good_reload(void **state)
{
	struct t *t = *state;
	struct wg_peer *a = peer_of(t, key_a);
	struct vw_endpoint roamed;
	char msg[1024];
	uint16_t port;

	/* A roamed endpoint must survive a reload that does not touch A. */
	assert_true(vw_endpoint_parse(&roamed, "198.51.100.7:999"));
	wg_peer_set_endpoint(a, &roamed);
	write_file(t->conf, render(&(struct spec){.iface_extra = "Tun = off\nListenPort = 0",
						  .a_ips = "10.0.0.2/32, 10.7.0.0/16",
						  .no_b = true,
						  .with_c = true}));
	assert_int_equal(vwired_reload(&t->d, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "peers: 1 added, 1 removed, 1 changed; wires: 0 added, 0 "
				 "removed, 0 changed");
	assert_ptr_equal(peer_of(t, key_a), a);
	assert_true(vw_endpoint_equal(&a->endpoint, &roamed));
	assert_ptr_equal(peer_for(t, "10.7.1.1"), a);
	assert_null(peer_of(t, key_b));
	assert_non_null(peer_of(t, key_c));
	assert_ptr_equal(peer_for(t, "10.0.0.4"), peer_of(t, key_c));
	assert_int_equal(t->d.cfg.n_peers, 2);

	/* The same file again: nothing to do. A new listen port is taken. */
	assert_int_equal(vwired_reload(&t->d, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "peers: 0 added, 0 removed, 0 changed; wires: 0 added, 0 "
				 "removed, 0 changed");
	port = io_udp_port(t->d.workers[0].udp);
	write_file(t->conf, render(&(struct spec){.iface_extra = "Tun = off\nListenPort = 0",
						  .a_ips = "10.0.0.2/32, 10.7.0.0/16",
						  .no_b = true,
						  .with_c = true,
						  .priv = priv2}));
	assert_int_equal(vwired_reload(&t->d, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "interface: private key"));
	assert_int_equal(io_udp_port(t->d.workers[0].udp), port);
	/* The running config's keys are wiped again once the device has them. */
	for (uint32_t i = 0; i < WG_KEY_LEN; i++)
		assert_int_equal(t->d.cfg.iface.private_key[i], 0);
}

/* A peer `wg set` added goes, one it removed comes back, as with wg syncconf. */
static void test_uapi_changes_undone(void **state)
{
	struct t *t = *state;
	struct wg_peer *stranger;
	char msg[1024];

	assert_int_equal(wg_device_add_peer(&t->d.sh.wg, key_c, &stranger), 0);
	wg_device_remove_peer(&t->d.sh.wg, peer_of(t, key_b));
	assert_int_equal(vwired_reload(&t->d, msg, sizeof(msg)), 0);
	assert_null(peer_of(t, key_c));
	assert_non_null(peer_of(t, key_b));
	assert_ptr_equal(peer_for(t, "10.0.0.3"), peer_of(t, key_b));
	assert_string_equal(msg, "peers: 1 added, 1 removed, 0 changed; wires: 0 added, 0 "
				 "removed, 0 changed");
}

/* A file handed over open (vwirectl reload NAME FILE): read from the fd, named by its path. */
static void test_passed_file(void **state)
{
	struct t *t = *state;
	char path[160], msg[1024], extra[64];
	int fd;

	/* Another file's name would be another interface's: Name keeps it this one. */
	snprintf(path, sizeof(path), "%s/other.conf", t->dir);
	snprintf(extra, sizeof(extra), "Tun = off\nName = %s", t->d.name);
	write_file(path, render(&(struct spec){.iface_extra = extra, .with_c = true}));
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	/* Gone from the file system: only the open file has it. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(vwired_reload_file(&t->d, fd, path, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "peers: 1 added, 0 removed, 0 changed; wires: 0 added, 0 "
				 "removed, 0 changed");
	assert_non_null(peer_of(t, key_c));
	close(fd);
	/* Errors name the path given. */
	write_file(path, "[Interface]\nPrivateKey = nope\n");
	fd = open(path, O_RDONLY);
	assert_int_equal(vwired_reload_file(&t->d, fd, "/etc/vwire/x.conf", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "/etc/vwire/x.conf:2: [Interface] PrivateKey"));
	close(fd);
	assert_non_null(peer_of(t, key_c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_peer_endpoint_psk),
		cmocka_unit_test(test_interface),
		cmocka_unit_test(test_wires),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_restart_only),
		cmocka_unit_test_setup_teardown(test_bad_file_refused, setup_daemon,
						teardown_daemon),
		cmocka_unit_test_setup_teardown(test_good_reload, setup_daemon, teardown_daemon),
		cmocka_unit_test_setup_teardown(test_uapi_changes_undone, setup_daemon,
						teardown_daemon),
		cmocka_unit_test_setup_teardown(test_passed_file, setup_daemon, teardown_daemon),
	};

	vw_log_set_level(VW_LOG_WARN);
	if (setup_keys(NULL))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
