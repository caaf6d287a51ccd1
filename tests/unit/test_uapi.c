/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
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
#include "daemon/uapi.h"
#include "uapi_client.h"

/*
 * Keys and request texts captured from wireguard-tools v1.0.20210914 (`wg set`,
 * `wg setconf`) talking to a socket, and the get answer of wireguard-go
 * v0.0.20220316 after that setconf: what vwired must read and write.
 */
#define PRIV  "d86db0a76c68d4ef4868e84da95683ab8687745a48128d72004034fb8061a05a"
#define PEER  "16e7eaf87fb9ec1681c3dd8e5d684abb7ea02ea492d1650dc24df924dbcf7508"
#define PEER2 "68acfd1d8a649f2f37938c4f6bc2341325bdd18c279e77345b7dfb328ace6b7f"
#define PSK   "0341dc143a9b3654497334c3420ac5066e51708ebd8026d4dc4b469e529638dc"

/* wg set IF peer P allowed-ips 10.0.0.2/32,fd00::2/128 endpoint 192.0.2.1:51820 */
static const char wg_set_peer[] = "set=1\n"
				  "public_key=" PEER "\n"
				  "endpoint=192.0.2.1:51820\n"
				  "replace_allowed_ips=true\n"
				  "allowed_ip=10.0.0.2/32\n"
				  "allowed_ip=fd00::2/128\n"
				  "\n";

/* wg set IF listen-port 51820 private-key FILE peer P remove */
static const char wg_set_remove[] = "set=1\n"
				    "private_key=" PRIV "\n"
				    "listen_port=51820\n"
				    "public_key=" PEER "\n"
				    "remove=true\n"
				    "\n";

/* wg setconf IF FILE (FwMark = 0x42, two peers, AllowedIPs on two lines) */
static const char wg_setconf[] = "set=1\n"
				 "private_key=" PRIV "\n"
				 "listen_port=51820\n"
				 "fwmark=66\n"
				 "replace_peers=true\n"
				 "public_key=" PEER "\n"
				 "preshared_key=" PSK "\n"
				 "endpoint=[2001:db8::1]:51821\n"
				 "persistent_keepalive_interval=25\n"
				 "replace_allowed_ips=true\n"
				 "allowed_ip=10.0.0.2/32\n"
				 "allowed_ip=10.2.0.0/16\n"
				 "allowed_ip=fd00::/64\n"
				 "public_key=" PEER2 "\n"
				 "replace_allowed_ips=true\n"
				 "allowed_ip=10.0.0.3/32\n"
				 "\n";

/* wg set IF peer P persistent-keepalive off preshared-key FILE allowed-ips "" */
static const char wg_set_psk[] = "set=1\n"
				 "public_key=" PEER "\n"
				 "preshared_key=" PSK "\n"
				 "persistent_keepalive_interval=0\n"
				 "replace_allowed_ips=true\n"
				 "\n";

/* wg set IF fwmark off peer P endpoint [fe80::1%lo]:1234 persistent-keepalive 25 */
static const char wg_set_zone[] = "set=1\n"
				  "fwmark=0\n"
				  "public_key=" PEER "\n"
				  "endpoint=[fe80::1%lo]:1234\n"
				  "persistent_keepalive_interval=25\n"
				  "\n";

/* wireguard-go's answer to get=1 after wg_setconf (PEER2 is its own key: ignored). */
static const char wgo_get[] = "private_key=" PRIV "\n"
			      "listen_port=51820\n"
			      "fwmark=66\n"
			      "public_key=" PEER "\n"
			      "preshared_key=" PSK "\n"
			      "protocol_version=1\n"
			      "endpoint=[2001:db8::1]:51821\n"
			      "last_handshake_time_sec=0\n"
			      "last_handshake_time_nsec=0\n"
			      "tx_bytes=0\n"
			      "rx_bytes=0\n"
			      "persistent_keepalive_interval=25\n"
			      "allowed_ip=10.0.0.2/32\n"
			      "allowed_ip=10.2.0.0/16\n"
			      "allowed_ip=fd00::/64\n"
			      "errno=0\n"
			      "\n";

static void hex_key(uint8_t key[WG_KEY_LEN], const char *hex)
{
	assert_true(key_from_hex(key, hex));
}

static void assert_key_hex(const uint8_t key[WG_KEY_LEN], const char *hex)
{
	uint8_t want[WG_KEY_LEN];

	hex_key(want, hex);
	assert_memory_equal(key, want, WG_KEY_LEN);
}

static void assert_aip(const struct uapi_allowed_ip *a, const char *ip, unsigned int cidr,
		       bool remove)
{
	uint8_t want[16] = {0};
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, ip, want), 1);
	assert_int_equal(a->addr.family, family);
	assert_memory_equal(a->addr.bytes, want, family == AF_INET ? 4 : 16);
	assert_int_equal(a->cidr, cidr);
	assert_int_equal(a->remove, remove);
}

static int parse(const char *text, struct uapi_set *s)
{
	return uapi_parse_set(text, strlen(text), s);
}

/* The parse keeps everything `wg` said: formatting it again gives the same bytes. */
static void assert_round_trip(const struct uapi_set *s, const char *text)
{
	char buf[4096];
	size_t n = uapi_format_set(s, buf, sizeof(buf));

	assert_int_equal(n, strlen(text));
	assert_string_equal(buf, text);
}

/* ---- splitting ---- */

static void test_split_get(void **state)
{
	size_t len;

	(void)state;
	assert_int_equal(uapi_request_split("get=1\n\n", 7, &len), UAPI_REQ_GET);
	assert_int_equal(len, 7);
	/* Every shorter prefix asks for more. */
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(uapi_request_split("get=1\n\n", i, &len), UAPI_REQ_INCOMPLETE);
	assert_int_equal(uapi_request_split("get=1\nx", 7, &len), UAPI_REQ_INVALID);
	assert_int_equal(uapi_request_split("get=2\n\n", 7, &len), UAPI_REQ_INVALID);
	assert_int_equal(uapi_request_split("GET=1\n\n", 7, &len), UAPI_REQ_INVALID);
	assert_int_equal(uapi_request_split("x", 1, &len), UAPI_REQ_INVALID);
	assert_int_equal(uapi_request_split("\n", 1, &len), UAPI_REQ_INVALID);
}

static void test_split_set(void **state)
{
	size_t n = strlen(wg_setconf), len;

	(void)state;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(uapi_request_split(wg_setconf, i, &len), UAPI_REQ_INCOMPLETE);
	assert_int_equal(uapi_request_split(wg_setconf, n, &len), UAPI_REQ_SET);
	assert_int_equal(len, n);
	/* An empty set is the header's newline and one more. */
	assert_int_equal(uapi_request_split("set=1\n\n", 7, &len), UAPI_REQ_SET);
	assert_int_equal(len, 7);
	assert_int_equal(uapi_request_split("set=1\r\n\n", 8, &len), UAPI_REQ_INVALID);
}

static void test_split_pipelined(void **state)
{
	char buf[1024];
	size_t len, off = 0, total;

	(void)state;
	total = (size_t)snprintf(buf, sizeof(buf), "get=1\n\n%sget=1\n\nset", wg_set_peer);
	assert_int_equal(uapi_request_split(buf, total, &len), UAPI_REQ_GET);
	off += len;
	assert_int_equal(uapi_request_split(buf + off, total - off, &len), UAPI_REQ_SET);
	assert_int_equal(len, strlen(wg_set_peer));
	off += len;
	assert_int_equal(uapi_request_split(buf + off, total - off, &len), UAPI_REQ_GET);
	off += len;
	assert_int_equal(uapi_request_split(buf + off, total - off, &len), UAPI_REQ_INCOMPLETE);
	assert_int_equal(off + 3, total);
}

static void test_split_too_large(void **state)
{
	char *buf = malloc(UAPI_MAX_REQUEST);
	size_t len;

	(void)state;
	memcpy(buf, "set=1\n", 6);
	memset(buf + 6, 'x', UAPI_MAX_REQUEST - 6);
	assert_int_equal(uapi_request_split(buf, UAPI_MAX_REQUEST - 1, &len), UAPI_REQ_INCOMPLETE);
	assert_int_equal(uapi_request_split(buf, UAPI_MAX_REQUEST, &len), UAPI_REQ_TOO_LARGE);
	free(buf);
}

/* ---- set: what wg sends ---- */

static void test_set_peer(void **state)
{
	struct uapi_set s;
	const struct uapi_peer_op *p;

	(void)state;
	assert_int_equal(parse(wg_set_peer, &s), 0);
	assert_int_equal(s.flags, 0);
	assert_int_equal(s.n_peers, 1);
	p = &s.peers[0];
	assert_key_hex(p->public_key, PEER);
	assert_int_equal(p->flags, UAPI_PEER_HAS_ENDPOINT | UAPI_PEER_REPLACE_ALLOWED_IPS);
	assert_int_equal(p->endpoint.sa.sa_family, AF_INET);
	assert_int_equal(ntohl(p->endpoint.in4.sin_addr.s_addr), 0xc0000201);
	assert_int_equal(ntohs(p->endpoint.in4.sin_port), 51820);
	assert_int_equal(p->first_allowed_ip, 0);
	assert_int_equal(p->n_allowed_ips, 2);
	assert_aip(&s.allowed_ips[0], "10.0.0.2", 32, false);
	assert_aip(&s.allowed_ips[1], "fd00::2", 128, false);
	assert_round_trip(&s, wg_set_peer);
	uapi_set_free(&s);
	assert_null(s.peers);
}

static void test_set_remove(void **state)
{
	struct uapi_set s;

	(void)state;
	assert_int_equal(parse(wg_set_remove, &s), 0);
	assert_int_equal(s.flags, UAPI_SET_PRIVATE_KEY | UAPI_SET_LISTEN_PORT);
	assert_key_hex(s.private_key, PRIV);
	assert_int_equal(s.listen_port, 51820);
	assert_int_equal(s.n_peers, 1);
	assert_int_equal(s.peers[0].flags, UAPI_PEER_REMOVE);
	assert_round_trip(&s, wg_set_remove);
	uapi_set_free(&s);
	assert_true(key_is_zero(s.private_key));
}

static void test_setconf(void **state)
{
	struct uapi_set s;
	const struct uapi_peer_op *p;

	(void)state;
	assert_int_equal(parse(wg_setconf, &s), 0);
	assert_int_equal(s.flags, UAPI_SET_PRIVATE_KEY | UAPI_SET_LISTEN_PORT | UAPI_SET_FWMARK |
					  UAPI_SET_REPLACE_PEERS);
	assert_int_equal(s.fwmark, 66);
	assert_int_equal(s.n_peers, 2);
	p = &s.peers[0];
	assert_int_equal(p->flags, UAPI_PEER_HAS_PRESHARED_KEY | UAPI_PEER_HAS_ENDPOINT |
					   UAPI_PEER_HAS_KEEPALIVE | UAPI_PEER_REPLACE_ALLOWED_IPS);
	assert_key_hex(p->preshared_key, PSK);
	assert_int_equal(p->endpoint.sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(p->endpoint.in6.sin6_port), 51821);
	assert_int_equal(p->persistent_keepalive_interval, 25);
	assert_int_equal(p->n_allowed_ips, 3);
	assert_aip(&s.allowed_ips[p->first_allowed_ip + 1], "10.2.0.0", 16, false);
	p = &s.peers[1];
	assert_key_hex(p->public_key, PEER2);
	assert_int_equal(p->first_allowed_ip, 3);
	assert_int_equal(p->n_allowed_ips, 1);
	assert_aip(&s.allowed_ips[3], "10.0.0.3", 32, false);
	assert_round_trip(&s, wg_setconf);
	uapi_set_free(&s);
}

static void test_set_psk_keepalive_off(void **state)
{
	struct uapi_set s;

	(void)state;
	assert_int_equal(parse(wg_set_psk, &s), 0);
	assert_int_equal(s.peers[0].flags, UAPI_PEER_HAS_PRESHARED_KEY | UAPI_PEER_HAS_KEEPALIVE |
						   UAPI_PEER_REPLACE_ALLOWED_IPS);
	assert_int_equal(s.peers[0].persistent_keepalive_interval, 0);
	assert_int_equal(s.peers[0].n_allowed_ips, 0);
	assert_round_trip(&s, wg_set_psk);
	uapi_set_free(&s);
}

static void test_set_zone(void **state)
{
	struct uapi_set s;
	const struct uapi_peer_op *p;

	(void)state;
	assert_int_equal(parse(wg_set_zone, &s), 0);
	assert_int_equal(s.flags, UAPI_SET_FWMARK);
	assert_int_equal(s.fwmark, 0);
	p = &s.peers[0];
	assert_int_equal(p->flags, UAPI_PEER_HAS_ENDPOINT | UAPI_PEER_ENDPOINT_ZONE_NAME |
					   UAPI_PEER_HAS_KEEPALIVE);
	assert_string_equal(p->endpoint_zone, "lo");
	assert_int_equal(p->endpoint.in6.sin6_scope_id, 0);
	assert_round_trip(&s, wg_set_zone);
	uapi_set_free(&s);

	/* A numeric zone needs no lookup. */
	assert_int_equal(parse("set=1\npublic_key=" PEER "\nendpoint=[fe80::1%7]:9\n\n", &s), 0);
	assert_int_equal(s.peers[0].flags, UAPI_PEER_HAS_ENDPOINT);
	assert_int_equal(s.peers[0].endpoint.in6.sin6_scope_id, 7);
	assert_round_trip(&s, "set=1\npublic_key=" PEER "\nendpoint=[fe80::1%7]:9\n\n");
	uapi_set_free(&s);
}

/* ---- set: semantics wireguard-go gives the keys ---- */

static void test_set_remove_ignores_rest(void **state)
{
	struct uapi_set s;

	(void)state;
	/* Keys after remove are checked, then dropped; keys before it are dropped too. */
	assert_int_equal(parse("set=1\npublic_key=" PEER
			       "\nallowed_ip=10.0.0.1/32\nendpoint=1.2.3.4:5\n"
			       "remove=true\nallowed_ip=10.0.0.2/32\npreshared_key=" PSK
			       "\npublic_key=" PEER2 "\nallowed_ip=10.0.0.3/32\n\n",
			       &s),
			 0);
	assert_int_equal(s.n_peers, 2);
	assert_int_equal(s.peers[0].flags, UAPI_PEER_REMOVE);
	assert_int_equal(s.peers[0].n_allowed_ips, 0);
	assert_true(key_is_zero(s.peers[0].preshared_key));
	assert_int_equal(s.n_allowed_ips, 1);
	assert_int_equal(s.peers[1].first_allowed_ip, 0);
	assert_aip(&s.allowed_ips[0], "10.0.0.3", 32, false);
	uapi_set_free(&s);
	/* ... and a bad value after remove still fails the request. */
	assert_int_equal(parse("set=1\npublic_key=" PEER "\nremove=true\nendpoint=x\n\n", &s),
			 -EINVAL);
}

static void test_set_replace_allowed_ips_order(void **state)
{
	struct uapi_set s;

	(void)state;
	/* replace_allowed_ips after allowed_ip lines undoes them, as in wireguard-go. */
	assert_int_equal(parse("set=1\npublic_key=" PEER "\nallowed_ip=10.0.0.1/32\n"
			       "replace_allowed_ips=true\nallowed_ip=10.0.0.2/32\n"
			       "allowed_ip=-10.9.0.0/16\n\n",
			       &s),
			 0);
	assert_int_equal(s.peers[0].flags, UAPI_PEER_REPLACE_ALLOWED_IPS);
	assert_int_equal(s.peers[0].n_allowed_ips, 2);
	assert_aip(&s.allowed_ips[0], "10.0.0.2", 32, false);
	assert_aip(&s.allowed_ips[1], "10.9.0.0", 16, true);
	uapi_set_free(&s);
}

static void test_set_misc(void **state)
{
	struct uapi_set s;

	(void)state;
	/* update_only, protocol_version, uppercase hex, zero private key, a peer twice. */
	assert_int_equal(
		parse("set=1\nprivate_key=0000000000000000000000000000000000000000000000000"
		      "000000000000000\npublic_key=16E7EAF87FB9EC1681C3DD8E5D684ABB7EA02EA"
		      "492D1650DC24DF924DBCF7508\nprotocol_version=1\nupdate_only=true\n"
		      "public_key=" PEER "\npersistent_keepalive_interval=65535\n\n",
		      &s),
		0);
	assert_int_equal(s.flags, UAPI_SET_PRIVATE_KEY);
	assert_true(key_is_zero(s.private_key));
	assert_int_equal(s.n_peers, 2);
	assert_key_hex(s.peers[0].public_key, PEER);
	assert_int_equal(s.peers[0].flags, UAPI_PEER_UPDATE_ONLY);
	assert_int_equal(s.peers[1].persistent_keepalive_interval, 65535);
	uapi_set_free(&s);
	/* An empty set, and one without the blank line (wireguard-go stops at EOF too). */
	assert_int_equal(parse("set=1\n\n", &s), 0);
	assert_int_equal(s.n_peers, 0);
	uapi_set_free(&s);
	assert_int_equal(parse("set=1\nlisten_port=1", &s), 0);
	assert_int_equal(s.listen_port, 1);
	uapi_set_free(&s);
}

static void test_set_errors(void **state)
{
	static const struct {
		const char *body;
		int err;
	} cases[] = {
		{"listen_port\n", -EPROTO},
		{"=1\n", -EINVAL},
		{"bogus=1\n", -EINVAL},
		{"listen_port=65536\n", -EINVAL},
		{"listen_port=-1\n", -EINVAL},
		{"listen_port=\n", -EINVAL},
		{"listen_port= 1\n", -EINVAL},
		{"fwmark=4294967296\n", -EINVAL},
		{"fwmark=0x1\n", -EINVAL},
		{"private_key=" PRIV "0\n", -EINVAL},
		{"private_key=zz6db0a76c68d4ef4868e84da95683ab8687745a48128d72004034fb8061a05a\n",
		 -EINVAL},
		{"replace_peers=false\n", -EINVAL},
		{"replace_peers=True\n", -EINVAL},
		{"endpoint=1.2.3.4:5\n", -EINVAL}, /* a peer key before any public_key */
		{"public_key=" PEER "\nlisten_port=1\n", -EINVAL},
		{"public_key=" PEER "\nprivate_key=" PRIV "\n", -EINVAL},
		{"public_key=" PEER "\nlast_handshake_time_sec=0\n", -EINVAL},
		{"public_key=" PEER "\nremove=yes\n", -EINVAL},
		{"public_key=" PEER "\nupdate_only=1\n", -EINVAL},
		{"public_key=" PEER "\nprotocol_version=2\n", -EINVAL},
		{"public_key=" PEER "\nallowed_ip=10.0.0.0\n", -EINVAL},
		{"public_key=" PEER "\nallowed_ip=10.0.0.0/33\n", -EINVAL},
		{"public_key=" PEER "\nallowed_ip=fd00::/129\n", -EINVAL},
		{"public_key=" PEER "\nallowed_ip=+10.0.0.0/8\n", -EINVAL},
		{"public_key=" PEER "\nallowed_ip=fe80::%lo/64\n", -EINVAL},
		{"public_key=" PEER "\nendpoint=2001:db8::1:51820\n", -EINVAL},
		{"public_key=" PEER "\nendpoint=example.com:51820\n", -EINVAL},
		{"public_key=" PEER "\nendpoint=1.2.3.4\n", -EINVAL},
		{"public_key=" PEER "\nendpoint=1.2.3.4:65536\n", -EINVAL},
		{"public_key=" PEER "\nendpoint=[1.2.3.4]:1\n", -EINVAL},
		{"public_key=" PEER "\nendpoint=[fe80::1%]:1\n", -EINVAL},
		{"public_key=" PEER "\nendpoint=[fe80::1%a/b]:1\n", -EINVAL},
		{"public_key=" PEER "\npersistent_keepalive_interval=65536\n", -EINVAL},
		{"public_key=" PEER "\npreshared_key=00\n", -EINVAL},
		{"public_key=" PEER "0\n", -EINVAL},
	};
	char text[2048];
	struct uapi_set s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		snprintf(text, sizeof(text), "set=1\n%s\n", cases[i].body);
		ret = parse(text, &s);
		if (ret != cases[i].err) {
			print_error("case %zu \"%s\": %d, expected %d\n", i, cases[i].body, ret,
				    cases[i].err);
			fail();
		}
		/* Nothing is left to free on error. */
		assert_null(s.peers);
		assert_null(s.allowed_ips);
	}
	/* Not a set request, a NUL in a line, a line too long. */
	assert_int_equal(parse("get=1\n\n", &s), -EINVAL);
	assert_int_equal(uapi_parse_set("set=1\nfwmark=1\0\n\n", 17, &s), -EPROTO);
	{
		char *big = malloc(UAPI_MAX_LINE + 64);

		strcpy(big, "set=1\nendpoint=");
		memset(big + 15, '1', UAPI_MAX_LINE);
		strcpy(big + 15 + UAPI_MAX_LINE, "\n\n");
		assert_int_equal(parse(big, &s), -EINVAL);
		free(big);
	}
}

static void test_set_peer_cap(void **state)
{
	size_t line = strlen("public_key=" PEER "\n");
	size_t n = (size_t)UAPI_MAX_SET_PEERS + 1;
	char *text = malloc(8 + n * line), *p = text;
	struct uapi_set s;

	(void)state;
	p += sprintf(p, "set=1\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "public_key=" PEER "\n");
	*p++ = '\n';
	assert_int_equal(uapi_parse_set(text, (size_t)(p - text), &s), -E2BIG);
	/* One fewer is fine. */
	p -= line + 1;
	*p++ = '\n';
	assert_int_equal(uapi_parse_set(text, (size_t)(p - text), &s), 0);
	assert_int_equal(s.n_peers, UAPI_MAX_SET_PEERS);
	uapi_set_free(&s);
	free(text);
}

/* ---- get ---- */

static const struct uapi_allowed_ip wgo_aips[] = {
	{.addr = {AF_INET, {10, 0, 0, 2}}, .cidr = 32},
	{.addr = {AF_INET, {10, 2, 0, 0}}, .cidr = 16},
	{.addr = {AF_INET6, {0xfd}}, .cidr = 64},
};

static void wgo_snapshot(struct uapi_device *dev, struct uapi_peer_info *peer)
{
	memset(dev, 0, sizeof(*dev));
	memset(peer, 0, sizeof(*peer));
	hex_key(dev->private_key, PRIV);
	dev->listen_port = 51820;
	dev->fwmark = 66;
	hex_key(peer->public_key, PEER);
	hex_key(peer->preshared_key, PSK);
	peer->endpoint.in6.sin6_family = AF_INET6;
	peer->endpoint.in6.sin6_port = htons(51821);
	inet_pton(AF_INET6, "2001:db8::1", &peer->endpoint.in6.sin6_addr);
	peer->persistent_keepalive_interval = 25;
	peer->allowed_ips = wgo_aips;
	peer->n_allowed_ips = 3;
	dev->peers = peer;
	dev->n_peers = 1;
}

/* Byte for byte what wireguard-go answers for the same state. */
static void test_get_matches_wireguard_go(void **state)
{
	struct uapi_device dev;
	struct uapi_peer_info peer;
	char buf[2048];

	(void)state;
	wgo_snapshot(&dev, &peer);
	assert_int_equal(uapi_format_get(&dev, buf, sizeof(buf)), strlen(wgo_get));
	assert_string_equal(buf, wgo_get);
}

static void test_get_sizes(void **state)
{
	struct uapi_device dev;
	struct uapi_peer_info peer;
	size_t n;
	char small[10];

	(void)state;
	wgo_snapshot(&dev, &peer);
	n = uapi_format_get(&dev, NULL, 0);
	assert_int_equal(n, strlen(wgo_get));
	/* Truncated like snprintf: NUL-terminated, the full length returned. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(uapi_format_get(&dev, small, sizeof(small)), n);
	assert_string_equal(small, "private_k");
}

static void test_get_empty_device(void **state)
{
	struct uapi_device dev = {0};
	char buf[64];

	(void)state;
	/* No private key, no port, no mark: only the status, as wireguard-go. */
	assert_int_equal(uapi_format_get(&dev, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "errno=0\n\n");
	assert_int_equal(uapi_format_errno(-EINVAL, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "errno=-22\n\n");
}

static void test_get_peer_fields(void **state)
{
	struct uapi_peer_info peer = {0};
	/* No private key, port or mark: the answer is the peer and the status. */
	struct uapi_device dev = {.peers = &peer, .n_peers = 1};
	char buf[1024];

	(void)state;
	hex_key(peer.public_key, PEER);
	peer.endpoint.in6.sin6_family = AF_INET6;
	peer.endpoint.in6.sin6_port = htons(1);
	peer.endpoint.in6.sin6_scope_id = 3;
	inet_pton(AF_INET6, "fe80::1", &peer.endpoint.in6.sin6_addr);
	peer.last_handshake_time_sec = 1700000000;
	peer.last_handshake_time_nsec = 999999999;
	peer.rx_bytes = UINT64_MAX;
	peer.tx_bytes = 1;
	uapi_format_get(&dev, buf, sizeof(buf));
	assert_string_equal(buf,
			    "public_key=" PEER "\n"
			    "preshared_key="
			    "0000000000000000000000000000000000000000000000000000000000000000\n"
			    "protocol_version=1\n"
			    "endpoint=[fe80::1%3]:1\n"
			    "last_handshake_time_sec=1700000000\n"
			    "last_handshake_time_nsec=999999999\n"
			    "tx_bytes=1\n"
			    "rx_bytes=18446744073709551615\n"
			    "persistent_keepalive_interval=0\n"
			    "errno=0\n\n");
}

static void test_get_round_trip(void **state)
{
	struct uapi_device dev, back;
	struct uapi_peer_info peers[3];
	static const struct uapi_allowed_ip aips[] = {
		{.addr = {AF_INET, {0}}, .cidr = 0},
		{.addr = {AF_INET6, {0}}, .cidr = 0},
	};
	char *buf;
	size_t n;
	int err;

	(void)state;
	wgo_snapshot(&dev, &peers[0]);
	memset(&peers[1], 0, sizeof(peers[1]));
	peers[1].public_key[0] = 1;
	peers[1].endpoint.in4.sin_family = AF_INET;
	peers[1].endpoint.in4.sin_port = htons(4500);
	peers[1].endpoint.in4.sin_addr.s_addr = htonl(0xc0000202);
	peers[1].rx_bytes = 12345;
	peers[1].last_handshake_time_sec = 5;
	peers[1].allowed_ips = aips;
	peers[1].n_allowed_ips = 2;
	memset(&peers[2], 0, sizeof(peers[2]));
	peers[2].public_key[31] = 2;
	dev.peers = peers;
	dev.n_peers = 3;

	n = uapi_format_get(&dev, NULL, 0);
	buf = malloc(n + 1);
	assert_int_equal(uapi_format_get(&dev, buf, n + 1), n);
	assert_int_equal(uapi_parse_get(buf, n, &back, &err), 0);
	assert_int_equal(err, 0);
	assert_memory_equal(back.private_key, dev.private_key, WG_KEY_LEN);
	assert_int_equal(back.listen_port, 51820);
	assert_int_equal(back.fwmark, 66);
	assert_int_equal(back.n_peers, 3);
	for (uint32_t i = 0; i < 3; i++) {
		const struct uapi_peer_info *a = &peers[i], *b = &back.peers[i];

		assert_memory_equal(a->public_key, b->public_key, WG_KEY_LEN);
		assert_memory_equal(a->preshared_key, b->preshared_key, WG_KEY_LEN);
		assert_true(vw_endpoint_equal(&a->endpoint, &b->endpoint));
		assert_int_equal(a->persistent_keepalive_interval,
				 b->persistent_keepalive_interval);
		assert_int_equal(a->last_handshake_time_sec, b->last_handshake_time_sec);
		assert_int_equal(a->rx_bytes, b->rx_bytes);
		assert_int_equal(a->n_allowed_ips, b->n_allowed_ips);
		if (a->n_allowed_ips)
			assert_memory_equal(a->allowed_ips, b->allowed_ips,
					    a->n_allowed_ips * sizeof(*a->allowed_ips));
	}
	uapi_device_free(&back);
	free(buf);
}

static void test_parse_get_errors(void **state)
{
	struct uapi_device dev;
	int err;

	(void)state;
	assert_int_equal(uapi_parse_get("errno=-22\n\n", 11, &dev, &err), 0);
	assert_int_equal(err, -22);
	assert_int_equal(dev.n_peers, 0);
	assert_int_equal(uapi_parse_get(wgo_get, strlen(wgo_get) - 1, &dev, &err), -EPROTO);
	assert_int_equal(uapi_parse_get("listen_port=1\n\n", 15, &dev, &err), -EPROTO);
	assert_int_equal(uapi_parse_get("errno=0\nfwmark=1\n\n", 18, &dev, &err), -EPROTO);
	assert_int_equal(uapi_parse_get("foo=1\nerrno=0\n\n", 15, &dev, &err), -EPROTO);
	assert_int_equal(uapi_parse_get("allowed_ip=1.2.3.4/32\nerrno=0\n\n", 31, &dev, &err),
			 -EPROTO);
	assert_null(dev.peers);
}

static int setup(void **state)
{
	(void)state;
	return crypto_init() ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_get),
		cmocka_unit_test(test_split_set),
		cmocka_unit_test(test_split_pipelined),
		cmocka_unit_test(test_split_too_large),
		cmocka_unit_test(test_set_peer),
		cmocka_unit_test(test_set_remove),
		cmocka_unit_test(test_setconf),
		cmocka_unit_test(test_set_psk_keepalive_off),
		cmocka_unit_test(test_set_zone),
		cmocka_unit_test(test_set_remove_ignores_rest),
		cmocka_unit_test(test_set_replace_allowed_ips_order),
		cmocka_unit_test(test_set_misc),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_set_peer_cap),
		cmocka_unit_test(test_get_matches_wireguard_go),
		cmocka_unit_test(test_get_sizes),
		cmocka_unit_test(test_get_empty_device),
		cmocka_unit_test(test_get_peer_fields),
		cmocka_unit_test(test_get_round_trip),
		cmocka_unit_test(test_parse_get_errors),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
