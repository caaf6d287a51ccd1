/* SPDX-License-Identifier: MIT */
/*
 * vwirectl mesh's parser and renderer (src/ctl/mesh.c): errors name the file, line,
 * section and key; both ends of a wire get the same VNI; the NAT rules; the output
 * is the same for the same input; and every config it writes is one vwired's own
 * parser (config_parse) takes, with the peers, wires and bridge the mesh file meant.
 */
#include <arpa/inet.h>
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
#include "crypto/x25519.h"
#include "ctl/mesh.h"
#include "daemon/config.h"

/* The seed's five hosts: pi0 behind NAT with one wire, to rho; epsilon on the kernel path. */
static const char five[] = "# five hosts\n"		      /* 1 */
			   "[Network]\n"		      /* 2 */
			   "TunnelPrefix = 10.0.0.0/24\n"     /* 3 */
			   "BridgePrefix = 10.1.0.0/24\n"     /* 4 */
			   "BridgeName = internet\n"	      /* 5 */
			   "HelloTime = 1\n"		      /* 6 */
			   "ForwardDelay = 4\n"		      /* 7 */
			   "MaxAge = 6\n"		      /* 8 */
			   "Root = rho\n"		      /* 9 */
			   "\n"				      /* 10 */
			   "[Host]\n"			      /* 11 */
			   "Name = rho\n"		      /* 12 */
			   "Endpoint = 192.168.200.1:51820\n" /* 13 */
			   "[Host]\n"			      /* 14 */
			   "Name = epsilon\n"		      /* 15 */
			   "Endpoint = 192.168.200.2:51820\n" /* 16 */
			   "Kind = kernel\n"		      /* 17 */
			   "[Host]\n"			      /* 18 */
			   "Name = vorke\n"		      /* 19 */
			   "Endpoint = vorke.example.net:51821\n"
			   "[Host]\n"
			   "Name = bob\n"
			   "Endpoint = [2001:db8::4]:51820\n"
			   "[Host]\n"
			   "Name = pi0\n"
			   "BehindNAT = yes\n"
			   "Wires = rho\n";

static char err[512];

/* Keys as the file layer would bring them, but the same every run: host i's is i+1 repeated. */
static void give_keys(struct mesh *m)
{
	for (uint32_t i = 0; i < m->n_hosts; i++) {
		uint8_t key[WG_KEY_LEN];

		if (!mesh_needs_key(&m->hosts[i]))
			continue;
		memset(key, (int)i + 1, sizeof(key));
		mesh_set_private_key(&m->hosts[i], key);
	}
	if (mesh_check_keys(m, "mesh.conf", err, sizeof(err))) {
		print_error("%s\n", err);
		fail();
	}
}

static void parse_ok(const char *text, struct mesh *m)
{
	if (mesh_parse(text, strlen(text), "mesh.conf", m, err, sizeof(err))) {
		print_error("%s\n", err);
		fail();
	}
	give_keys(m);
}

static void parse_fails(const char *text, const char *expect)
{
	struct mesh m;

	if (!mesh_parse(text, strlen(text), "mesh.conf", &m, err, sizeof(err))) {
		print_error("accepted, expected \"%s\":\n%s\n", expect, text);
		mesh_free(&m);
		fail();
	}
	if (!strstr(err, expect)) {
		print_error("message \"%s\"\ndoes not contain \"%s\"\n", err, expect);
		fail();
	}
	assert_null(m.hosts);
	assert_null(m.wired);
}

static char *render(const struct mesh *m, uint32_t i, enum mesh_output what)
{
	size_t need = mesh_render(m, i, what, NULL, 0);
	char *text = malloc(need + 1);

	assert_non_null(text);
	assert_int_equal(mesh_render(m, i, what, text, need + 1), need);
	assert_int_equal(strlen(text), need);
	return text;
}

/* Host i's config through vwired's parser, under the name vwirectl mesh writes it. */
static void load_config(const struct mesh *m, uint32_t i, struct vw_config *cfg)
{
	char *text = render(m, i, MESH_CONF), name[64];

	snprintf(name, sizeof(name), "out/%s.conf", m->hosts[i].name);
	if (config_parse(text, strlen(text), name, cfg, err, sizeof(err))) {
		print_error("%s\n%s\n", err, text);
		fail();
	}
	free(text);
}

static int host_index(const struct mesh *m, const char *name)
{
	for (uint32_t i = 0; i < m->n_hosts; i++)
		if (!strcmp(m->hosts[i].name, name))
			return (int)i;
	fail_msg("no host %s", name);
	return -1;
}

static const struct config_peer *peer_with_key(const struct vw_config *cfg,
					       const uint8_t key[WG_KEY_LEN])
{
	for (uint32_t i = 0; i < cfg->n_peers; i++)
		if (!memcmp(cfg->peers[i].public_key, key, WG_KEY_LEN))
			return &cfg->peers[i];
	return NULL;
}

static const struct config_wire *wire_named(const struct vw_config *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->n_wires; i++)
		if (!strcmp(cfg->wires[i].name, name))
			return &cfg->wires[i];
	return NULL;
}

static void test_five_hosts(void **state)
{
	struct vw_config cfg[5];
	struct mesh m;
	int pi0, rho, eps;
	uint32_t wires = 0;

	(void)state;
	parse_ok(five, &m);
	assert_int_equal(m.n_hosts, 5);
	pi0 = host_index(&m, "pi0");
	rho = host_index(&m, "rho");
	eps = host_index(&m, "epsilon");
	for (uint32_t i = 0; i < 5; i++)
		load_config(&m, i, &cfg[i]);
	for (uint32_t a = 0; a < 5; a++) {
		const struct mesh_host *h = &m.hosts[a];
		uint8_t want[4] = {10, 0, 0, (uint8_t)(a + 1)};

		assert_memory_equal(cfg[a].iface.addresses[0].addr.bytes, want, 4);
		assert_int_equal(cfg[a].iface.addresses[0].cidr, 24);
		assert_int_equal(cfg[a].iface.mtu, 1420);
		assert_int_equal(cfg[a].iface.listen_port, a == 2 ? 51821 : 51820);
		if ((int)a == eps) {
			/* wg-quick's file: no Name, no vwired sections; the bridge is in the
			 * script. */
			assert_string_equal(cfg[a].iface.name, "epsilon");
			assert_false(cfg[a].has_bridge);
			assert_int_equal(cfg[a].n_wires, 0);
		} else {
			assert_string_equal(cfg[a].iface.name, "wg0");
			assert_true(cfg[a].has_bridge);
			assert_string_equal(cfg[a].bridge.name, "internet");
			assert_int_equal(cfg[a].bridge.priority, (int)a == rho ? 4096 : 32768);
			assert_int_equal(cfg[a].bridge.hello_time, 1);
			assert_int_equal(cfg[a].bridge.max_age, 6);
			assert_int_equal(cfg[a].bridge.forward_delay, 4);
			want[1] = 1;
			assert_memory_equal(cfg[a].bridge.addresses[0].addr.bytes, want, 4);
		}
		for (uint32_t b = 0; b < 5; b++) {
			const struct config_peer *peer =
				peer_with_key(&cfg[a], m.hosts[b].public_key);
			const struct config_wire *w = wire_named(&cfg[a], m.hosts[b].name);
			/* Every pair of the four, and pi0 to rho only. */
			bool expect = a != b && ((int)a == pi0 || (int)b == pi0
							 ? (int)a == rho || (int)b == rho
							 : true);

			assert_int_equal(mesh_wired(&m, a, b), expect);
			if (!expect) {
				assert_null(peer);
				assert_null(w);
				continue;
			}
			wires++;
			assert_non_null(peer);
			assert_int_equal(peer->n_allowed_ips, 1);
			assert_int_equal(peer->allowed_ips[0].cidr, 32);
			assert_memory_equal(peer->allowed_ips[0].addr.bytes, m.hosts[b].tunnel, 4);
			/* Nobody knows where pi0 is; it keeps its NAT mapping open. */
			if ((int)b == pi0)
				assert_string_equal(peer->endpoint_str, "");
			else
				assert_string_equal(peer->endpoint_str, m.hosts[b].endpoint);
			assert_int_equal(peer->persistent_keepalive, (int)a == pi0 ? 25 : 0);
			if ((int)a == eps)
				continue;
			assert_non_null(w);
			assert_memory_equal(w->remote, m.hosts[b].tunnel, 4);
			assert_int_equal(w->vni, mesh_vni(a, b));
			/* The far end, if it runs vwired, has the same VNI for the wire back. */
			if ((int)b != eps)
				assert_int_equal(wire_named(&cfg[b], h->name)->vni, w->vni);
		}
	}
	assert_int_equal(wires, 2 * 7);
	for (uint32_t i = 0; i < 5; i++)
		config_free(&cfg[i]);
	mesh_free(&m);
}

/*
 * EndpointFrom: the host that reaches another at another address (a LAN, a relay) gets
 * that address for it; every other host keeps the public Endpoint; a host behind NAT
 * can be given one for a neighbour. Protocol reaches every vwired config.
 */
static void test_endpoint_from(void **state)
{
	static const char text[] = "[Network]\nTunnelPrefix = 10.0.0.0/24\nProtocol = stp\n"
				   "[Host]\nName = a\nEndpoint = 198.51.100.1:51820\n"
				   "EndpointFrom = b 192.168.1.1:51820\n"
				   "[Host]\nName = b\nEndpoint = 198.51.100.2:51820\n"
				   "[Host]\nName = c\nBehindNAT = yes\n"
				   "EndpointFrom = b 192.168.1.3:51820\n";
	struct vw_config cfg[3];
	struct mesh m;

	(void)state;
	parse_ok(text, &m);
	for (uint32_t i = 0; i < 3; i++)
		load_config(&m, i, &cfg[i]);
	assert_string_equal(mesh_endpoint(&m, 0, 1), "192.168.1.1:51820");
	assert_string_equal(mesh_endpoint(&m, 0, 2), "198.51.100.1:51820");
	/* b reaches a and c on the LAN, c reaches a at its public address, nobody else c. */
	assert_string_equal(peer_with_key(&cfg[1], m.hosts[0].public_key)->endpoint_str,
			    "192.168.1.1:51820");
	assert_string_equal(peer_with_key(&cfg[1], m.hosts[2].public_key)->endpoint_str,
			    "192.168.1.3:51820");
	assert_string_equal(peer_with_key(&cfg[2], m.hosts[0].public_key)->endpoint_str,
			    "198.51.100.1:51820");
	assert_string_equal(peer_with_key(&cfg[0], m.hosts[1].public_key)->endpoint_str,
			    "198.51.100.2:51820");
	assert_string_equal(peer_with_key(&cfg[0], m.hosts[2].public_key)->endpoint_str, "");
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(cfg[i].bridge.protocol, BR_PROTO_STP);
		config_free(&cfg[i]);
	}
	mesh_free(&m);
}

/*
 * [Network] Priority = auto: every vwired host sets its own (Priority = auto in its config)
 * but Root's (4096) and one that gives a number; a kernel host, which cannot, gets 32768.
 */
static void test_priority_auto(void **state)
{
	static const char text[] = "[Network]\nTunnelPrefix = 10.0.0.0/24\nPriority = auto\n"
				   "Root = a\n"
				   "[Host]\nName = a\nEndpoint = 198.51.100.1:51820\n"
				   "[Host]\nName = b\nEndpoint = 198.51.100.2:51820\n"
				   "[Host]\nName = c\nEndpoint = 198.51.100.3:51820\nPriority = 8192\n"
				   "[Host]\nName = d\nEndpoint = 198.51.100.4:51820\nKind = kernel\n";
	struct vw_config cfg[3];
	struct mesh m;
	char *sh;

	(void)state;
	parse_ok(text, &m);
	for (uint32_t i = 0; i < 3; i++)
		load_config(&m, i, &cfg[i]);
	assert_false(cfg[0].bridge.priority_auto);
	assert_int_equal(cfg[0].bridge.priority, 4096);
	assert_true(cfg[1].bridge.priority_auto);
	assert_false(cfg[2].bridge.priority_auto);
	assert_int_equal(cfg[2].bridge.priority, 8192);
	sh = render(&m, 3, MESH_SCRIPT);
	assert_non_null(strstr(sh, "type bridge stp_state 1 priority 32768 "));
	free(sh);
	for (uint32_t i = 0; i < 3; i++)
		config_free(&cfg[i]);
	mesh_free(&m);
}

static void test_kernel_script(void **state)
{
	struct mesh m;
	char *sh, *line;
	int eps;

	(void)state;
	parse_ok(five, &m);
	eps = host_index(&m, "epsilon");
	assert_int_equal(mesh_render(&m, 0, MESH_SCRIPT, NULL, 0), 0); /* vwired: no script */
	sh = render(&m, (uint32_t)eps, MESH_SCRIPT);
	assert_non_null(strstr(sh, "#!/bin/sh\n"));
	assert_non_null(strstr(sh, "ip link add internet type bridge stp_state 1 priority 32768 "
				   "hello_time 100 max_age 600 forward_delay 400\n"));
	/* Same VNIs as the vwired ends: 1002 with host 1, 2003 with host 3, ... */
	assert_non_null(strstr(sh, "ip link add rho type vxlan id 1002 remote 10.0.0.1 local "
				   "10.0.0.2 dstport 4789 nolearning\n"));
	assert_non_null(strstr(sh, "ip link add vorke type vxlan id 2003 remote 10.0.0.3 "));
	assert_non_null(strstr(sh, "ip link add bob type vxlan id 2004 remote 10.0.0.4 "));
	assert_null(strstr(sh, "pi0"));
	assert_non_null(strstr(sh, "ip link set bob mtu 1500 master internet\n"));
	assert_non_null(strstr(sh, "ip addr add 10.1.0.2/24 dev internet\n"));
	line = strstr(sh, "ip link set internet up\n");
	assert_non_null(line);
	assert_string_equal(line, "ip link set internet up\n"); /* the last line */
	free(sh);
	mesh_free(&m);
}

static void test_vni(void **state)
{
	(void)state;
	for (uint32_t a = 0; a < MESH_MAX_HOSTS; a++)
		for (uint32_t b = 0; b < MESH_MAX_HOSTS; b++) {
			uint32_t v = mesh_vni(a, b);

			if (a == b)
				continue;
			assert_int_equal(v, mesh_vni(b, a));
			assert_true(v < (1u << 24));
			/* Different pairs, different VNIs: the lower index and the higher read
			 * back. */
			assert_int_equal(v / 1000 - 1, a < b ? a : b);
			assert_int_equal(v % 1000 - 1, a < b ? b : a);
		}
}

static void test_deterministic(void **state)
{
	struct mesh a, b;

	(void)state;
	parse_ok(five, &a);
	parse_ok(five, &b);
	for (uint32_t i = 0; i < a.n_hosts; i++)
		for (int what = MESH_CONF; what <= MESH_SCRIPT; what++) {
			char *x = render(&a, i, (enum mesh_output)what);
			char *y = render(&b, i, (enum mesh_output)what);

			assert_string_equal(x, y);
			free(x);
			free(y);
		}
	mesh_free(&a);
	mesh_free(&b);
}

/* Default wires: two NATed hosts get none between them, each one to every host it can dial. */
static void test_nat_defaults(void **state)
{
	static const char text[] = "[Network]\nTunnelPrefix = 10.9.0.0/16\n"
				   "[Host]\nName = a\nBehindNAT = yes\n"
				   "[Host]\nName = b\nBehindNAT = on\n"
				   "[Host]\nName = c\nEndpoint = 198.51.100.1:1\n"
				   "[Host]\nName = d\nEndpoint = 198.51.100.2:1\n";
	struct vw_config cfg;
	struct mesh m;

	(void)state;
	parse_ok(text, &m);
	assert_false(mesh_wired(&m, 0, 1));
	assert_true(mesh_wired(&m, 0, 2) && mesh_wired(&m, 0, 3));
	assert_true(mesh_wired(&m, 1, 2) && mesh_wired(&m, 1, 3));
	assert_true(mesh_wired(&m, 2, 3));
	/* A NATed host listens on the network's port; no bridge address without a prefix. */
	assert_int_equal(m.hosts[0].listen_port, 51820);
	assert_int_equal(m.hosts[2].listen_port, 1);
	assert_false(m.has_bridge_net);
	load_config(&m, 2, &cfg);
	assert_int_equal(cfg.bridge.n_addresses, 0);
	assert_string_equal(cfg.bridge.name, "br0");
	assert_int_equal(cfg.bridge.priority, 32768);
	assert_int_equal(cfg.iface.addresses[0].cidr, 16);
	config_free(&cfg);
	mesh_free(&m);
}

/* Given addresses stand; the others take the network's from the first, skipping those. */
static void test_addresses(void **state)
{
	static const char text[] =
		"[Network]\nTunnelPrefix = 10.0.0.0/29\n"
		"BridgePrefix = 10.1.0.0/29\n"
		"[Host]\nName = a\nEndpoint = 198.51.100.1:1\nAddress = 10.0.0.2\n"
		"BridgeAddress = 10.1.0.4/29\n"
		"[Host]\nName = b\nEndpoint = 198.51.100.2:1\n"
		"[Host]\nName = c\nEndpoint = 198.51.100.3:1\nAddress = 10.0.0.1/29\n"
		"[Host]\nName = d\nEndpoint = 198.51.100.4:1\n";
	static const uint8_t tunnel[] = {2, 3, 1, 4}, bridge[] = {4, 1, 2, 3};
	struct mesh m;

	(void)state;
	parse_ok(text, &m);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(m.hosts[i].tunnel[3], tunnel[i]);
		assert_int_equal(m.hosts[i].bridge[3], bridge[i]);
		assert_int_equal(m.hosts[i].bridge[0], 10);
		assert_int_equal(m.hosts[i].bridge[1], 1);
	}
	mesh_free(&m);
}

static void test_explicit_wires(void **state)
{
	/* A hub: the spokes name it, the hub names nobody; a and b also wire to each other. */
	static const char text[] = "[Network]\nTunnelPrefix = 10.0.0.0/24\n"
				   "[Host]\nName = hub\nEndpoint = 198.51.100.1:1\n"
				   "[Host]\nName = a\nBehindNAT = yes\nWires = hub\n"
				   "[Host]\nName = b\nEndpoint = 198.51.100.3:1\nWires = hub, a\n"
				   "[Host]\nName = c\nEndpoint = 198.51.100.4:1\nWires=hub\n";
	struct mesh m;

	(void)state;
	parse_ok(text, &m);
	assert_true(mesh_wired(&m, 0, 1) && mesh_wired(&m, 1, 0));
	assert_true(mesh_wired(&m, 0, 2) && mesh_wired(&m, 0, 3));
	assert_true(mesh_wired(&m, 1, 2) && mesh_wired(&m, 2, 1));
	assert_false(mesh_wired(&m, 1, 3));
	assert_false(mesh_wired(&m, 2, 3));
	mesh_free(&m);
}

/* A host whose private key the user keeps: a placeholder vwired refuses until it is filled. */
static void test_public_key_only(void **state)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	char b64[WG_KEY_LEN_BASE64 + 1], text[1024], filled[2048], *conf, *at;
	struct vw_config cfg;
	struct mesh m;

	(void)state;
	memset(priv, 0x42, sizeof(priv));
	x25519_public(pub, priv);
	key_to_base64(b64, pub);
	snprintf(text, sizeof(text),
		 "[Network]\nTunnelPrefix = 10.0.0.0/24\n"
		 "[Host]\nName = a\nEndpoint = 198.51.100.1:1\nPublicKey = %s\n"
		 "[Host]\nName = b\nEndpoint = 198.51.100.2:1\n",
		 b64);
	parse_ok(text, &m);
	assert_false(m.hosts[0].has_private_key);
	assert_memory_equal(m.hosts[0].public_key, pub, WG_KEY_LEN);
	/* b's config has a's public key as it was given. */
	load_config(&m, 1, &cfg);
	assert_memory_equal(cfg.peers[0].public_key, pub, WG_KEY_LEN);
	config_free(&cfg);
	conf = render(&m, 0, MESH_CONF);
	assert_non_null(strstr(conf, b64));
	at = strstr(conf, "PrivateKey = REPLACE-WITH-THE-PRIVATE-KEY-OF-a\n");
	assert_non_null(at);
	assert_int_equal(config_parse(conf, strlen(conf), "a.conf", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[Interface] PrivateKey: not a key"));
	/* Once the user puts the key in, vwired takes it. */
	key_to_base64(b64, priv);
	*at = '\0';
	snprintf(filled, sizeof(filled), "%sPrivateKey = %s%s", conf, b64, strchr(at + 1, '\n'));
	assert_int_equal(config_parse(filled, strlen(filled), "a.conf", &cfg, err, sizeof(err)), 0);
	config_free(&cfg);
	free(conf);
	mesh_free(&m);
}

static void test_private_key_given(void **state)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	char b64[WG_KEY_LEN_BASE64 + 1], pub64[WG_KEY_LEN_BASE64 + 1], text[1024];
	struct mesh m;

	(void)state;
	memset(priv, 0x17, sizeof(priv));
	x25519_public(pub, priv);
	key_to_base64(b64, priv);
	key_to_base64(pub64, pub);
	snprintf(text, sizeof(text),
		 "[Network]\nTunnelPrefix = 10.0.0.0/24\n"
		 "[Host]\nName = a\nEndpoint = 198.51.100.1:1\nPrivateKey = %s\nPublicKey = %s\n"
		 "[Host]\nName = b\nEndpoint = 198.51.100.2:1\n",
		 b64, pub64);
	parse_ok(text, &m);
	assert_false(mesh_needs_key(&m.hosts[0]));
	assert_memory_equal(m.hosts[0].public_key, pub, WG_KEY_LEN);
	mesh_free(&m);
	/* A public key that is not the private key's. */
	snprintf(text, sizeof(text),
		 "[Network]\nTunnelPrefix = 10.0.0.0/24\n"
		 "[Host]\nName = a\nEndpoint = 198.51.100.1:1\nPrivateKey = %s\nPublicKey = %s\n"
		 "[Host]\nName = b\nEndpoint = 198.51.100.2:1\n",
		 b64, b64);
	parse_fails(text, "mesh.conf:7: [Host] PublicKey: is not the public key of a's PrivateKey");
	/* Two hosts with one key. */
	snprintf(text, sizeof(text),
		 "[Network]\nTunnelPrefix = 10.0.0.0/24\n"
		 "[Host]\nName = a\nEndpoint = 198.51.100.1:1\nPrivateKey = %s\n"
		 "[Host]\nName = b\nEndpoint = 198.51.100.2:1\nPublicKey = %s\n",
		 b64, pub64);
	parse_fails(text, "mesh.conf:10: [Host] PublicKey: b has the same key as a (line 3)");
	crypto_wipe(b64, sizeof(b64));
}

#define NET "[Network]\nTunnelPrefix = 10.0.0.0/24\n"
#define A   "[Host]\nName = a\nEndpoint = 198.51.100.1:51820\n"
#define B   "[Host]\nName = b\nEndpoint = 198.51.100.2:51820\n"

/* Each problem once, with the line, section and key the message must name. */
static void test_errors(void **state)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{"[Network]\nFoo = 1\n", "mesh.conf:2: [Network] Foo: unknown key"},
		{"Name = a\n", "mesh.conf:1: Name: outside of any section"},
		{"[Hosts]\n", "mesh.conf:1: [Hosts]: unknown section"},
		{"[Host\n", "mesh.conf:1: a section header needs a closing ']'"},
		{NET "MTU\n", "mesh.conf:3: [Network]: \"MTU\": expected Key = Value"},
		{NET "mtu = 100\n", "mesh.conf:3: [Network] MTU: \"100\" is not a number from 576"},
		{NET "TunnelPrefix = 10.0.0.0/24\n", "mesh.conf:3: [Network] TunnelPrefix: given "
						     "twice (first at line 2)"},
		{NET "[network]\n", "mesh.conf:3: [Network]: given twice (first at line 1)"},
		{A B, "mesh.conf: [Network]: missing"},
		{"[Network]\n" A B, "mesh.conf:1: [Network] TunnelPrefix: missing"},
		{"[Network]\nTunnelPrefix = 10.0.0.1/24\n",
		 "mesh.conf:2: [Network] TunnelPrefix: \"10.0.0.1/24\" has host bits set: the "
		 "network is 10.0.0.0/24"},
		{"[Network]\nTunnelPrefix = 10.0.0.0/31\n",
		 "mesh.conf:2: [Network] TunnelPrefix: \"10.0.0.0/31\": expected an IPv4 network"},
		{"[Network]\nTunnelPrefix = fd00::/64\n",
		 "mesh.conf:2: [Network] TunnelPrefix: \"fd00::/64\" is not an IPv4 address"},
		{NET "BridgePrefix = 10.0.0.128/25\n" A B,
		 "mesh.conf:3: [Network] BridgePrefix: overlaps TunnelPrefix"},
		{NET "MaxAge = 30\n" A B, "mesh.conf:3: [Network] MaxAge: 802.1D needs 2 x "
					  "(ForwardDelay - 1) >= MaxAge >= 2 x (HelloTime + 1)"},
		{NET "HelloTime = 10\n" A B, "mesh.conf:3: [Network] HelloTime: 802.1D needs"},
		{NET "Root = c\n" A B,
		 "mesh.conf:3: [Network] Root: \"c\" is no [Host] of this file"},
		{NET A, "mesh.conf: [Host]: a network needs two at least, the file has 1"},
		{NET A "[Host]\nEndpoint = 198.51.100.2:1\n",
		 "mesh.conf:6: [Host] Name: missing in this [Host]"},
		{NET A "[Host]\nName = a b\n",
		 "mesh.conf:7: [Host] Name: \"a b\" is not a valid interface name"},
		{NET A "[Host]\nName = a\nEndpoint = 198.51.100.2:1\n",
		 "mesh.conf:7: [Host] Name: \"a\" is also the host at line 3"},
		{NET "BridgeName = a\n" A B,
		 "mesh.conf:5: [Host] Name: \"a\" is also the bridge's name"},
		{NET A B "[Host]\nName = wg0\nBehindNAT = yes\n",
		 "mesh.conf:10: [Host] Name: \"wg0\" is also a's WireGuard interface"},
		{NET A "[Host]\nName = b\n",
		 "mesh.conf:6: [Host] Endpoint: missing for b: give its "
		 "public host:port, or BehindNAT = yes"},
		{NET A "[Host]\nName = b\nEndpoint = 198.51.100.2:1\nBehindNAT = yes\n",
		 "mesh.conf:9: [Host] BehindNAT: b has an Endpoint"},
		{NET A "[Host]\nName = b\nEndpoint = 198.51.100.1:51820\n",
		 "mesh.conf:8: [Host] Endpoint: 198.51.100.1:51820 is also a's Endpoint"},
		{NET A "[Host]\nName = b\nEndpoint = 198.51.100.2\n",
		 "mesh.conf:8: [Host] Endpoint: \"198.51.100.2\": expected host:port"},
		{NET A "[Host]\nName = b\nEndpoint = fd00::1:5\n",
		 "mesh.conf:8: [Host] Endpoint: \"fd00::1:5\": an IPv6 address needs brackets"},
		{NET A "[Host]\nName = b\nEndpoint = 1.2.3.4:0\n",
		 "mesh.conf:8: [Host] Endpoint: \"1.2.3.4:0\": the port is not a number"},
		{NET A "EndpointFrom = b\n" B,
		 "mesh.conf:6: [Host] EndpointFrom: expected a host's name and the address:port"},
		{NET A "EndpointFrom = b 198.51.100.9\n" B,
		 "mesh.conf:6: [Host] EndpointFrom: \"198.51.100.9\": expected host:port"},
		{NET A "EndpointFrom = c 198.51.100.9:1\n" B,
		 "mesh.conf:6: [Host] EndpointFrom: \"c\" is no [Host] of this file"},
		{NET A "EndpointFrom = a 198.51.100.9:1\n" B,
		 "mesh.conf:6: [Host] EndpointFrom: a is this host"},
		{NET A "EndpointFrom = b 198.51.100.9:1\nEndpointFrom = b 198.51.100.8:1\n" B,
		 "mesh.conf:7: [Host] EndpointFrom: b given twice (first at line 6)"},
		{NET A "Wires = b\n" B "[Host]\nName = c\nEndpoint = 198.51.100.3:1\nWires = b\n"
		       "EndpointFrom = a 198.51.100.9:1\n",
		 "mesh.conf:14: [Host] EndpointFrom: a has no wire to c"},
		{NET "Priority = fast\n" A B,
		 "mesh.conf:3: [Network] Priority: \"fast\" is not a number from 0 to 65535"},
		{NET "Protocol = mstp\n" A B,
		 "mesh.conf:3: [Network] Protocol: \"mstp\" is neither rstp nor stp"},
		{NET A "Kind = bsd\n" B, "mesh.conf:6: [Host] Kind: \"bsd\" is neither vwired nor "
					 "kernel"},
		{NET A "BehindNAT = maybe\n" B,
		 "mesh.conf:6: [Host] BehindNAT: \"maybe\" is neither yes nor no"},
		{NET A "PrivateKey = abc\n" B,
		 "mesh.conf:6: [Host] PrivateKey: not a key: expected "
		 "44 characters"},
		{NET A "PublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" B,
		 "mesh.conf:6: [Host] PublicKey: is all zeros"},
		{NET A "Address = 10.0.1.1\n" B,
		 "mesh.conf:6: [Host] Address: 10.0.1.1 is no host address of TunnelPrefix "
		 "10.0.0.0/24"},
		{NET A "Address = 10.0.0.255\n" B, "mesh.conf:6: [Host] Address: 10.0.0.255 is no "
						   "host address"},
		{NET A "Address = 10.0.0.0\n" B, "mesh.conf:6: [Host] Address: 10.0.0.0 is no host "
						 "address"},
		{NET A "Address = 10.0.0.5/16\n" B,
		 "mesh.conf:6: [Host] Address: /16 is not the prefix length of TunnelPrefix (/24)"},
		{NET A "Address = 10.0.0.5\n" B "Address = 10.0.0.5\n",
		 "mesh.conf:10: [Host] Address: 10.0.0.5 is also a's"},
		{NET A "BridgeAddress = 10.1.0.5\n" B,
		 "mesh.conf:6: [Host] BridgeAddress: needs BridgePrefix in [Network]"},
		{"[Network]\nTunnelPrefix = 10.0.0.0/30\n" A B
		 "[Host]\nName = c\nEndpoint = 198.51.100.3:1\n",
		 "mesh.conf:9: [Host] Address: none left for c: TunnelPrefix /30 has 2 host "
		 "addresses"},
		{NET A "Wires = c\n" B,
		 "mesh.conf:6: [Host] Wires: \"c\" is no [Host] of this file"},
		{NET A "Wires = a\n" B, "mesh.conf:6: [Host] Wires: a is this host"},
		{NET A "Wires = b, b\n" B, "mesh.conf:6: [Host] Wires: b is listed twice"},
		{NET A "Wires = b,\n" B, "mesh.conf:6: [Host] Wires: empty item"},
		{NET A "Wires =\n" B, "mesh.conf:6: [Host] Wires: empty value"},
		{NET A "[Host]\nName = n1\nBehindNAT = yes\n[Host]\nName = n2\nBehindNAT = "
		       "yes\nWires = n1\n",
		 "mesh.conf:12: [Host] Wires: n2 and n1 are both behind NAT: neither can dial the "
		 "other"},
		{NET A "Wires = b\n" B "Wires = a\n"
		       "[Host]\nName = c\nEndpoint = 198.51.100.3:1\nWires = d\n"
		       "[Host]\nName = d\nEndpoint = 198.51.100.4:1\nWires = c\n",
		 "mesh.conf:11: [Host]: no path of wires joins c to a: the wires make two "
		 "networks"},
		{NET A B "Wires = c\n[Host]\nName = c\nEndpoint = 198.51.100.3:1\nWires = b\n",
		 "mesh.conf:3: [Host]: a has no wire"},
		{NET A "Kind = vwired\nkind = kernel\n" B,
		 "mesh.conf:7: [Host] Kind: given twice (first at line 6)"},
		{NET A "Interface = br0\n" B,
		 "mesh.conf:6: [Host] Interface: a's interface \"br0\" has the bridge's name"},
		{NET "\x01\n", "mesh.conf:3: [Network]: \"?\": expected Key = Value"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_fails(cases[i].text, cases[i].expect);
}

static void test_too_many(void **state)
{
	size_t size = 64 * (MESH_MAX_HOSTS + 2), n = 0;
	char *text = malloc(size);

	(void)state;
	assert_non_null(text);
	n += (size_t)snprintf(text + n, size - n, "[Network]\nTunnelPrefix = 10.0.0.0/16\n");
	for (unsigned int i = 0; i <= MESH_MAX_HOSTS; i++)
		n += (size_t)snprintf(text + n, size - n,
				      "[Host]\nName = h%u\nEndpoint = 10.%u.%u.1:1\n", i, i / 256,
				      i % 256);
	parse_fails(text, "[Host]: too many hosts (at most 256)");
	/* 64 hosts, all wired to each other by default: 63 wires each, a bridge's limit. */
	n = (size_t)snprintf(text, size, "[Network]\nTunnelPrefix = 10.0.0.0/16\n");
	for (unsigned int i = 0; i < 64; i++)
		n += (size_t)snprintf(text + n, size - n,
				      "[Host]\nName = h%u\nEndpoint = 10.%u.%u.1:1\n", i, i / 256,
				      i % 256);
	{
		struct mesh m;
		struct vw_config cfg;

		parse_ok(text, &m);
		load_config(&m, 63, &cfg);
		assert_int_equal(cfg.n_wires, 63);
		config_free(&cfg);
		mesh_free(&m);
	}
	snprintf(text + n, size - n, "[Host]\nName = h64\nEndpoint = 10.1.1.1:1\n");
	parse_fails(text, "mesh.conf:3: [Host]: h0 has 64 wires, and a bridge has room for 63");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_five_hosts),
		cmocka_unit_test(test_kernel_script),
		cmocka_unit_test(test_vni),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_nat_defaults),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_explicit_wires),
		cmocka_unit_test(test_public_key_only),
		cmocka_unit_test(test_private_key_given),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_endpoint_from),
		cmocka_unit_test(test_priority_auto),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
