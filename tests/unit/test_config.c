/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "daemon/config.h"

/* The throwaway keys of tests/unit/configs. */
#define KEY_A	  "0GPHPkNwQFjGdPoZ1i1UnwxV4p5B/KOwVU65TQQpnXQ="
#define KEY_B_PUB "BPAoNkwGX+HSRB/StMJPG1Z6ErhK10LfP/J88o3YGlE="
#define KEY_C_PUB "6I9VyZ/59H9JnprlKI6V+ERb8esoSpHE1AA+VIfhQDo="
#define KEY_D_PUB "L06Juu42hU/r2Y6EWqtyqwJHbjUviT5vfxgFj37w1lI="
#define PSK	  "ayReiO0/jcf4s4IYFD7+drZy1vC60gf18zxgGmx6wsw="

#define CONFIGS "configs"

static char err[512];

static void load_ok(const char *name, struct vw_config *cfg)
{
	char path[256];

	snprintf(path, sizeof(path), CONFIGS "/%s", name);
	if (config_load(path, cfg, err, sizeof(err))) {
		print_error("%s: %s\n", name, err);
		fail();
	}
}

static void assert_key(const uint8_t key[WG_KEY_LEN], const char *b64)
{
	uint8_t want[WG_KEY_LEN];

	assert_true(key_from_base64(want, b64));
	assert_memory_equal(key, want, WG_KEY_LEN);
}

static void assert_prefix(const struct config_prefix *p, const char *ip, unsigned int cidr)
{
	uint8_t want[16] = {0};
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, ip, want), 1);
	assert_int_equal(p->addr.family, family);
	assert_memory_equal(p->addr.bytes, want, family == AF_INET ? 4 : 16);
	assert_int_equal(p->cidr, cidr);
}

static void test_good_minimal(void **state)
{
	struct vw_config cfg;

	(void)state;
	load_ok("good-minimal.conf", &cfg);
	assert_key(cfg.iface.private_key, KEY_A);
	assert_string_equal(cfg.iface.name, "good-minimal"); /* from the file name */
	assert_true(cfg.iface.tun);
	assert_int_equal(cfg.iface.mtu, 1420);
	assert_int_equal(cfg.iface.listen_port, 0);
	assert_int_equal(cfg.iface.fwmark, 0);
	assert_int_equal(cfg.iface.n_addresses, 0);
	assert_int_equal(cfg.n_peers, 0);
	assert_false(cfg.has_bridge);
	assert_int_equal(cfg.n_wires, 0);
	config_free(&cfg);
}

static void test_good_wg(void **state)
{
	struct vw_config cfg;
	const struct config_peer *p;

	(void)state;
	load_ok("good-wg.conf", &cfg);
	assert_key(cfg.iface.private_key, KEY_A);
	assert_int_equal(cfg.iface.listen_port, 51820);
	assert_int_equal(cfg.iface.fwmark, 0x42);
	assert_string_equal(cfg.iface.name, "wg-test");
	assert_int_equal(cfg.n_peers, 3);

	p = &cfg.peers[0];
	assert_key(p->public_key, KEY_B_PUB);
	assert_true(p->has_preshared_key);
	assert_key(p->preshared_key, PSK);
	assert_int_equal(p->n_allowed_ips, 3);
	assert_prefix(&p->allowed_ips[0], "10.0.0.2", 32);
	assert_prefix(&p->allowed_ips[1], "10.2.0.0", 16); /* host bits cleared, as the kernel */
	assert_prefix(&p->allowed_ips[2], "fd00::", 64);
	assert_string_equal(p->endpoint_str, "[2001:db8::1]:51821");
	assert_int_equal(p->endpoint.sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(p->endpoint.in6.sin6_port), 51821);
	assert_int_equal(p->persistent_keepalive, 25);
	assert_int_equal(p->line, 8);

	p = &cfg.peers[1];
	assert_key(p->public_key, KEY_C_PUB);
	assert_false(p->has_preshared_key);
	assert_int_equal(p->n_allowed_ips, 1);
	assert_prefix(&p->allowed_ips[0], "10.0.0.3", 32);
	/* A name: kept for the daemon to resolve. */
	assert_string_equal(p->endpoint_str, "vpn.example.com:51820");
	assert_int_equal(p->endpoint.sa.sa_family, AF_UNSPEC);
	assert_int_equal(p->persistent_keepalive, 0);

	p = &cfg.peers[2];
	assert_key(p->public_key, KEY_D_PUB);
	assert_int_equal(p->n_allowed_ips, 0);
	assert_int_equal(p->endpoint.sa.sa_family, AF_INET);
	assert_int_equal(ntohs(p->endpoint.in4.sin_port), 4500);
	assert_int_equal(ntohl(p->endpoint.in4.sin_addr.s_addr), 0xc0000204);
	config_free(&cfg);
}

static void test_good_full(void **state)
{
	struct vw_config cfg;
	const struct config_bridge *br = &cfg.bridge;
	static const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};

	(void)state;
	load_ok("good-full.conf", &cfg);
	assert_string_equal(cfg.iface.name, "wg0");
	assert_int_equal(cfg.iface.listen_port, 56560);
	assert_false(cfg.iface.tun);
	assert_int_equal(cfg.iface.mtu, 1380);
	assert_int_equal(cfg.iface.n_addresses, 3);
	assert_prefix(&cfg.iface.addresses[0], "10.0.0.1", 24); /* host bits kept */
	assert_prefix(&cfg.iface.addresses[1], "fd00::1", 64);
	assert_prefix(&cfg.iface.addresses[2], "10.9.9.9", 32);

	assert_int_equal(cfg.n_peers, 2);
	assert_string_equal(cfg.peers[1].endpoint_str, "[fe80::1%eth0]:56560");
	assert_int_equal(cfg.peers[1].endpoint.sa.sa_family, AF_UNSPEC); /* zone: daemon resolves */

	assert_true(cfg.has_bridge);
	assert_string_equal(br->name, "internet");
	assert_int_equal(br->n_addresses, 1);
	assert_prefix(&br->addresses[0], "10.1.0.1", 24);
	assert_int_equal(br->mtu, 1500);
	assert_true(br->stp);
	assert_int_equal(br->priority, 4096);
	assert_int_equal(br->hello_time, 1);
	assert_int_equal(br->max_age, 6);
	assert_int_equal(br->forward_delay, 4);
	assert_int_equal(br->ageing_time, 30);
	assert_int_equal(br->n_ports, 3);
	assert_string_equal(br->ports[0], "vm0");
	assert_string_equal(br->ports[1], "vm1");
	assert_string_equal(br->ports[2], "ct0");
	/* BPDUGuard names ports given before and after it */
	assert_false(br->bpdu_guard[0]);
	assert_true(br->bpdu_guard[1]);
	assert_true(br->bpdu_guard[2]);
	assert_int_equal(br->max_learned, 256);
	assert_true(br->has_mac);
	assert_memory_equal(br->mac, mac, 6);

	assert_int_equal(cfg.n_wires, 2);
	assert_string_equal(cfg.wires[0].name, "bob");
	assert_memory_equal(cfg.wires[0].remote, "\x0a\x00\x00\x02", 4);
	assert_int_equal(cfg.wires[0].vni, 2);
	assert_int_equal(cfg.wires[0].port, 4789);
	assert_int_equal(cfg.wires[0].cost, CONFIG_WIRE_COST_AUTO); /* the default */
	assert_int_equal(cfg.wires[0].priority, 128);
	assert_string_equal(cfg.wires[1].name, "carol");
	assert_int_equal(cfg.wires[1].vni, 16777215);
	assert_int_equal(cfg.wires[1].port, 8472);
	assert_int_equal(cfg.wires[1].cost, 65535);
	assert_int_equal(cfg.wires[1].priority, 255);
	config_free(&cfg);
}

static void test_good_bridge_defaults(void **state)
{
	struct vw_config cfg;

	(void)state;
	load_ok("good-bridge-defaults.conf", &cfg);
	assert_true(cfg.has_bridge);
	assert_string_equal(cfg.bridge.name, "br-vw");
	assert_int_equal(cfg.bridge.mtu, 1500);
	assert_true(cfg.bridge.stp);
	assert_int_equal(cfg.bridge.priority, 32768);
	assert_false(cfg.bridge.priority_auto);
	assert_int_equal(cfg.bridge.hello_time, 2);
	assert_int_equal(cfg.bridge.max_age, 20);
	assert_int_equal(cfg.bridge.forward_delay, 15);
	assert_int_equal(cfg.bridge.ageing_time, 300);
	assert_int_equal(cfg.bridge.n_ports, 0);
	assert_int_equal(cfg.bridge.max_learned, 1024);
	assert_false(cfg.bridge.udp_csum);
	assert_false(cfg.bridge.bpdu_guard[0]);
	assert_false(cfg.bridge.has_mac);
	assert_int_equal(cfg.n_wires, 1);
	assert_int_equal(cfg.wires[0].vni, 0);
	assert_int_equal(cfg.wires[0].line, 10);
	assert_int_equal(cfg.wires[0].cost, CONFIG_WIRE_COST_AUTO);
	config_free(&cfg);
}

/* Cost = auto and Priority = auto; an explicit number beside them stays. */
static void test_good_auto(void **state)
{
	struct vw_config cfg;

	(void)state;
	load_ok("good-auto.conf", &cfg);
	assert_true(cfg.bridge.priority_auto);
	assert_int_equal(cfg.n_wires, 2);
	assert_int_equal(cfg.wires[0].cost, CONFIG_WIRE_COST_AUTO);
	assert_int_equal(cfg.wires[1].cost, 250);
	config_free(&cfg);
}

static void test_good_crlf(void **state)
{
	struct vw_config cfg;

	(void)state;
	load_ok("good-crlf.conf", &cfg); /* CRLF, and no newline at the end */
	assert_string_equal(cfg.iface.name, "crlf");
	assert_int_equal(cfg.n_peers, 1);
	assert_int_equal(cfg.peers[0].n_allowed_ips, 2);
	assert_prefix(&cfg.peers[0].allowed_ips[0], "0.0.0.0", 0);
	assert_prefix(&cfg.peers[0].allowed_ips[1], "::", 0);
	config_free(&cfg);
}

static int has_prefix_suffix(const char *s, const char *pre, const char *suf)
{
	size_t n = strlen(s), np = strlen(pre), ns = strlen(suf);

	return n > np + ns && !strncmp(s, pre, np) && !strcmp(s + n - ns, suf);
}

/* Every good-*.conf parses, and each is checked above. */
static void test_all_good_files_parse(void **state)
{
	DIR *d = opendir(CONFIGS);
	struct dirent *de;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		struct vw_config cfg;

		if (!has_prefix_suffix(de->d_name, "good-", ".conf"))
			continue;
		load_ok(de->d_name, &cfg);
		config_free(&cfg);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 6);
}

/* Reads the "# expect: TEXT" first line of a bad file. */
static void read_expect(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	char line[512];

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(strncmp(line, "# expect: ", 10), 0);
	line[strcspn(line, "\n")] = '\0';
	snprintf(out, outlen, "%s", line + 10);
}

static void test_bad_files(void **state)
{
	DIR *d = opendir(CONFIGS);
	struct dirent *de;
	int n = 0, failed = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		struct vw_config cfg;
		char path[512], expect[512];

		if (!has_prefix_suffix(de->d_name, "bad-", ".conf"))
			continue;
		snprintf(path, sizeof(path), CONFIGS "/%s", de->d_name);
		read_expect(path, expect, sizeof(expect));
		n++;
		if (!config_load(path, &cfg, err, sizeof(err))) {
			print_error("%s: parsed, expected \"%s\"\n", de->d_name, expect);
			config_free(&cfg);
			failed++;
			continue;
		}
		if (!strstr(err, expect)) {
			print_error("%s:\n  got      \"%s\"\n  expected \"%s\"\n", de->d_name, err,
				    expect);
			failed++;
		}
		/* Nothing to free after a failure, and nothing left behind. */
		assert_null(cfg.peers);
		assert_null(cfg.wires);
		assert_true(key_is_zero(cfg.iface.private_key));
	}
	closedir(d);
	assert_true(n >= 75);
	assert_int_equal(failed, 0);
}

static void test_missing_file(void **state)
{
	struct vw_config cfg;

	(void)state;
	assert_int_equal(config_load(CONFIGS "/no-such-file.conf", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "configs/no-such-file.conf: No such file or directory"));
	assert_int_equal(config_load(CONFIGS, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
}

static int parse_str(const char *text, struct vw_config *cfg)
{
	return config_parse(text, strlen(text), "t.conf", cfg, err, sizeof(err));
}

/* parse_str of the text fmt makes (which must fit). */
static int __attribute__((format(printf, 2, 3)))
parse_fmt(struct vw_config *cfg, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(text));
	return parse_str(text, cfg);
}

/* rc of a parse that had to succeed: else what was parsed and the message. */
static void assert_parsed(int rc, const char *what)
{
	if (rc) {
		print_error("\"%s\": %s\n", what, err);
		fail();
	}
}

static void test_parse_from_memory(void **state)
{
	struct vw_config cfg;

	(void)state;
	assert_int_equal(parse_str("[Interface]\nPrivateKey=" KEY_A, &cfg), 0);
	assert_string_equal(cfg.iface.name, "t");
	config_free(&cfg);
	/* config_free leaves an empty config that can be freed again. */
	assert_true(key_is_zero(cfg.iface.private_key));
	assert_null(cfg.peers);
	config_free(&cfg);

	/* A UTF-8 byte order mark is skipped. */
	assert_int_equal(parse_str("\xef\xbb\xbf[Interface]\nPrivateKey=" KEY_A, &cfg), 0);
	config_free(&cfg);

	/* A NULL name still gives messages, and no interface name to derive. */
	assert_int_equal(config_parse("[Interface]\n", 12, NULL, &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "config: [Interface] PrivateKey: missing");
	/* A tiny error buffer is truncated, not overrun. */
	{
		char small[8];

		assert_int_equal(config_parse("x", 1, "t.conf", &cfg, small, sizeof(small)), -1);
		assert_string_equal(small, "t.conf:");
	}
	/* text need not be NUL-terminated: len is the end. */
	{
		char text[] = "[Interface]\nPrivateKey = " KEY_A "\nListenPort = 7XYZ";

		assert_int_equal(
			config_parse(text, strlen(text) - 3, "t.conf", &cfg, err, sizeof(err)), 0);
		assert_int_equal(cfg.iface.listen_port, 7);
		config_free(&cfg);
	}
}

static void test_long_line(void **state)
{
	size_t n = CONFIG_MAX_LINE + 100;
	char *text = malloc(n + 64);
	struct vw_config cfg;

	(void)state;
	strcpy(text, "[Interface]\n# ");
	memset(text + 14, 'x', n);
	strcpy(text + 14 + n, "\n");
	assert_int_equal(parse_str(text, &cfg), -1);
	assert_string_equal(err, "t.conf:2: [Interface]: line longer than 16384 bytes");
	free(text);
}

/* Builds a config with n peers (peer i has 10.(i/256).(i%256).0/24) and optional extras. */
static char *many_peers(unsigned int n, const char *extra)
{
	size_t cap = 128 + (size_t)n * 128 + strlen(extra);
	char *text = malloc(cap), *p = text;
	uint8_t key[WG_KEY_LEN] = {0};
	char b64[WG_KEY_LEN_BASE64 + 1];

	p += sprintf(p, "[Interface]\nPrivateKey = %s\nAddress = 10.255.255.1/8\n", KEY_A);
	for (unsigned int i = 0; i < n; i++) {
		key[0] = (uint8_t)(i >> 8);
		key[1] = (uint8_t)i;
		key[2] = 1;
		key_to_base64(b64, key);
		p += sprintf(p, "[Peer]\nPublicKey = %s\nAllowedIPs = 10.%u.%u.0/24\n", b64,
			     (i >> 8) & 255, i & 255);
	}
	strcpy(p, extra);
	return text;
}

static void test_many_peers(void **state)
{
	struct vw_config cfg;
	char *text = many_peers(3000, "");

	(void)state;
	assert_int_equal(parse_str(text, &cfg), 0);
	assert_int_equal(cfg.n_peers, 3000);
	assert_prefix(&cfg.peers[2999].allowed_ips[0], "10.11.183.0", 24);
	config_free(&cfg);
	free(text);

	/* A duplicate far from its twin is still found (the check sorts). */
	text = many_peers(3000,
			  "[Peer]\nPublicKey = AAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	assert_int_equal(parse_str(text, &cfg), -1);
	assert_string_equal(err, "t.conf:9005: [Peer] PublicKey: the same peer as the PublicKey "
				 "at line 5");
	free(text);
}

static void test_too_many_wires(void **state)
{
	size_t cap = 64 * (CONFIG_MAX_WIRES + 2);
	char *extra = malloc(cap), *p = extra;
	struct vw_config cfg;
	char *text;

	(void)state;
	p += sprintf(p, "[Bridge]\nName = br0\n");
	for (unsigned int i = 0; i < CONFIG_MAX_WIRES; i++)
		p += sprintf(p, "[Wire]\nName = w%u\nRemote = 10.0.0.%u\nVNI = %u\n", i,
			     i % 250 + 2, i);
	text = many_peers(1, extra);
	assert_int_equal(parse_str(text, &cfg), 0);
	assert_int_equal(cfg.n_wires, CONFIG_MAX_WIRES);
	assert_string_equal(cfg.wires[255].name, "w255");
	config_free(&cfg);
	free(text);

	strcpy(p, "[Wire]\n");
	text = many_peers(1, extra);
	assert_int_equal(parse_str(text, &cfg), -1);
	assert_non_null(strstr(err, "[Wire]: too many wires (at most 256)"));
	free(text);
	free(extra);
}

/* The wire check finds a Remote in any peer's prefix, IPv4 only, at any prefix length. */
static void test_wire_remote_routing(void **state)
{
	static const char *const ok[] = {"10.0.0.0/8", "0.0.0.0/0", "10.1.2.3/32", "10.1.2.2/31"};
	static const char *const no[] = {"10.1.2.0/31", "fd00::/8", "::/0", "11.0.0.0/8"};
	struct vw_config cfg;

	(void)state;
	for (size_t i = 0; i < 8; i++) {
		const char *allowed = i < 4 ? ok[i] : no[i - 4];
		int rc =
			parse_fmt(&cfg,
				  "[Interface]\nPrivateKey=%s\nAddress=10.9.0.1/16\n[Peer]\n"
				  "PublicKey=%s\nAllowedIPs=%s\n[Bridge]\nName=br\n[Wire]\nName=w\n"
				  "Remote=10.1.2.3\nVNI=1\n",
				  KEY_A, KEY_B_PUB, allowed);

		if (i < 4) {
			assert_parsed(rc, allowed);
			config_free(&cfg);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(err, "t.conf:11: [Wire] Remote: 10.1.2.3 is inside no "
						 "peer's AllowedIPs");
		}
	}
}

/* Values wg accepts that a careful parser must not misread. */
static void test_value_edges(void **state)
{
	static const struct {
		const char *line;
		int ok;
	} cases[] = {
		{"FwMark = off", 1},
		{"FwMark = 0xffffffff", 1},
		{"FwMark = 4294967295", 1},
		{"FwMark = 4294967296", 0},
		{"FwMark = 0x", 0},
		{"ListenPort = 00080", 1},
		{"ListenPort = 18446744073709551617", 0},
		{"ListenPort = -1", 0},
		{"Tun = OFF", 1},
		{"Tun = yes", 1},
		{"MTU = 576", 1},
		{"MTU = 65536", 0},
		{"Name = .", 0},
		{"Name = ..", 0},
		{"Name = a.b-c_d=e+f", 1},
		{"Address = 10.0.0.1/24 , fd00::1/64", 1},
		{"Address = fe80::1%eth0/64", 0},
		{"Address = 10.0.0.1/", 0},
		{"Address = 10.0.0.1/24/1", 0},
		{"Address = 010.0.0.1/24", 0},
	};
	struct vw_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = parse_fmt(&cfg, "[Interface]\nPrivateKey=%s\n%s\n", KEY_A, cases[i].line);

		if ((ret == 0) != cases[i].ok) {
			print_error("\"%s\": %s\n", cases[i].line, ret ? err : "accepted");
			fail();
		}
		if (!ret)
			config_free(&cfg);
		else
			assert_non_null(strstr(err, "t.conf:3: [Interface] "));
	}
}

/* An interface and bridge br0 with lines added to the [Bridge] section. */
static int parse_bridge(struct vw_config *cfg, const char *lines)
{
	return parse_fmt(cfg, "[Interface]\nPrivateKey=%s\n[Bridge]\nName=br0\n%s", KEY_A, lines);
}

/* UDPChecksum: a yes/no as ip link's udpcsum/noudpcsum; anything else names the line. */
static void test_bridge_udp_checksum(void **state)
{
	struct vw_config cfg;

	(void)state;
	assert_parsed(parse_bridge(&cfg, "UDPChecksum = yes\n"), "UDPChecksum = yes");
	assert_true(cfg.bridge.udp_csum);
	config_free(&cfg);
	assert_parsed(parse_bridge(&cfg, "udpchecksum = off\n"), "udpchecksum = off");
	assert_false(cfg.bridge.udp_csum);
	config_free(&cfg);
	assert_int_equal(parse_bridge(&cfg, "UDPChecksum = sometimes\n"), -1);
	assert_non_null(strstr(err, "t.conf:5: [Bridge] UDPChecksum: \"sometimes\" is neither on "
				    "nor off"));
}

/* A per-port list (BPDUGuard, Edge) names ports[i] just where bit i of bits is set. */
static void assert_port_bits(const bool flags[CONFIG_MAX_BRIDGE_PORTS], uint8_t bits)
{
	for (uint32_t p = 0; p < CONFIG_MAX_BRIDGE_PORTS; p++)
		assert_int_equal(flags[p], p < 8 && ((bits >> p) & 1));
}

/* MaxLearned's edges (0 = no per-port cap) and BPDUGuard's list forms. */
static void test_bridge_guards(void **state)
{
	static const struct {
		const char *lines;
		uint32_t max_learned;
		uint8_t guarded; /* bit i: ports[i] */
	} ok[] = {
		{"MaxLearned = 0\n", 0, 0},
		{"MaxLearned = 1048576\n", 1048576, 0},
		{"maxlearned = 1\nBPDUGuard =\n", 1, 0},
		{"Ports = a, b, c\nBPDUGuard = c\nbpduguard = a , c\n", 1024, 1 | 4},
		{"BPDUGuard = b\nPorts = a\nPorts = b\n", 1024, 2},
	};
	struct vw_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_parsed(parse_bridge(&cfg, ok[i].lines), ok[i].lines);
		assert_int_equal(cfg.bridge.max_learned, ok[i].max_learned);
		assert_port_bits(cfg.bridge.bpdu_guard, ok[i].guarded);
		config_free(&cfg);
	}
	/* a wire is not a port BPDU guard can name */
	assert_int_equal(
		parse_fmt(&cfg,
			  "[Interface]\nPrivateKey=%s\nAddress=10.0.0.1/24\n[Peer]\nPublicKey="
			  "BPAoNkwGX+HSRB/StMJPG1Z6ErhK10LfP/J88o3YGlE=\nAllowedIPs=10.0.0.0/24\n"
			  "[Bridge]\nName=br0\nBPDUGuard=w1\n[Wire]\nName=w1\nRemote=10.0.0.2\n"
			  "VNI=1\n",
			  KEY_A),
		-1);
	assert_non_null(strstr(err, "t.conf:9: [Bridge] BPDUGuard: \"w1\" is not one of the "
				    "bridge's Ports"));
}

/* Protocol (rstp by default) and Edge, a list of Ports as BPDUGuard's, RSTP only. */
static void test_bridge_protocol_edge(void **state)
{
	static const struct {
		const char *lines;
		enum br_protocol protocol;
		uint8_t edge; /* bit i: ports[i] */
	} ok[] = {
		{"", BR_PROTO_RSTP, 0},
		{"Protocol = stp\n", BR_PROTO_STP, 0},
		{"protocol = RSTP\nEdge =\n", BR_PROTO_RSTP, 0},
		{"Ports = a, b, c\nEdge = c\nedge = a , c\nBPDUGuard = c\n", BR_PROTO_RSTP, 1 | 4},
		{"Edge = b\nPorts = a\nPorts = b\nProtocol = rstp\n", BR_PROTO_RSTP, 2},
	};
	static const struct {
		const char *lines;
		const char *err;
	} bad[] = {
		{"Protocol = mstp\n",
		 "t.conf:5: [Bridge] Protocol: \"mstp\" is neither rstp nor stp"},
		{"Protocol = rstp\nProtocol = stp\n", "t.conf:6: [Bridge] Protocol: "},
		{"Ports = a\nEdge = b\n",
		 "t.conf:6: [Bridge] Edge: \"b\" is not one of the bridge's "
		 "Ports"},
		{"Ports = a\nEdge = a\nProtocol = stp\n",
		 "t.conf:6: [Bridge] Edge: needs Protocol = rstp (802.1D has no edge ports; "
		 "Protocol = stp at line 7)"},
		{"Edge = br0\n",
		 "t.conf:5: [Bridge] Edge: \"br0\" is not one of the bridge's Ports"},
	};
	struct vw_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_parsed(parse_bridge(&cfg, ok[i].lines), ok[i].lines);
		assert_int_equal(cfg.bridge.protocol, ok[i].protocol);
		assert_port_bits(cfg.bridge.edge, ok[i].edge);
		config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_bridge(&cfg, bad[i].lines), -1);
		if (!strstr(err, bad[i].err)) {
			print_error("\"%s\": got %s\n", bad[i].lines, err);
			fail();
		}
	}
}

static void test_endpoint_forms(void **state)
{
	static const struct {
		const char *ep;
		int family; /* -1: rejected */
	} cases[] = {
		{"192.0.2.1:51820", AF_INET},
		{"[::1]:1", AF_INET6},
		{"[::ffff:192.0.2.1]:65535", AF_INET6},
		{"[fe80::1%2]:51820", AF_UNSPEC},
		{"host-1.example:51820", AF_UNSPEC},
		{"localhost:51820", AF_UNSPEC},
		{"a..b:1", -1},
		{"192.0.2.1:65536", -1},
		{"192.0.2.1:", -1},
		{":51820", -1},
		{"[::1]51820", -1},
		{"[::1:51820", -1},
		{"[1.2.3.4]:1", -1},
		{"ho st:1", -1},
		{"1.2.3:80", -1},
	};
	struct vw_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = parse_fmt(
			&cfg, "[Interface]\nPrivateKey=%s\n[Peer]\nPublicKey=%s\nEndpoint=%s\n",
			KEY_A, KEY_B_PUB, cases[i].ep);

		if (cases[i].family < 0) {
			if (!ret) {
				print_error("\"%s\" accepted\n", cases[i].ep);
				fail();
			}
			assert_non_null(strstr(err, "t.conf:5: [Peer] Endpoint: "));
			continue;
		}
		assert_parsed(ret, cases[i].ep);
		assert_string_equal(cfg.peers[0].endpoint_str, cases[i].ep);
		assert_int_equal(cfg.peers[0].endpoint.sa.sa_family, cases[i].family);
		config_free(&cfg);
	}
}

/* A secret never appears in a message, even a mistyped one. */
static void test_key_not_echoed(void **state)
{
	struct vw_config cfg;

	(void)state;
	assert_int_equal(parse_str("[Interface]\nPrivateKey = SECRETSECRETSECRET\n", &cfg), -1);
	assert_null(strstr(err, "SECRET"));
	assert_non_null(strstr(err, "t.conf:2: [Interface] PrivateKey: not a key"));
}

/* Non-printable bytes in a quoted value come out as '?', long ones cut. */
static void test_quoting(void **state)
{
	struct vw_config cfg;

	(void)state;
	assert_int_equal(parse_fmt(&cfg, "[Interface]\nPrivateKey=%s\nName=a\x1b[2Jb\n", KEY_A),
			 -1);
	assert_non_null(strstr(err, "\"a?[2Jb\""));
	assert_int_equal(
		parse_fmt(&cfg, "[Interface]\nPrivateKey=%s\nName=%s\n", KEY_A,
			  "0123456789012345678901234567890123456789012345678901234567890123456789"),
		-1);
	assert_non_null(strstr(err, "\"012345678901234567890123456789012345678901234567...\""));
}

static int setup(void **state)
{
	(void)state;
	return crypto_init() ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_minimal),
		cmocka_unit_test(test_good_wg),
		cmocka_unit_test(test_good_full),
		cmocka_unit_test(test_good_bridge_defaults),
		cmocka_unit_test(test_good_auto),
		cmocka_unit_test(test_good_crlf),
		cmocka_unit_test(test_all_good_files_parse),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_parse_from_memory),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_many_peers),
		cmocka_unit_test(test_too_many_wires),
		cmocka_unit_test(test_wire_remote_routing),
		cmocka_unit_test(test_value_edges),
		cmocka_unit_test(test_bridge_guards),
		cmocka_unit_test(test_bridge_udp_checksum),
		cmocka_unit_test(test_bridge_protocol_edge),
		cmocka_unit_test(test_endpoint_forms),
		cmocka_unit_test(test_key_not_echoed),
		cmocka_unit_test(test_quoting),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
