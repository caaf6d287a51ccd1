/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_UAPI_H
#define VW_DAEMON_UAPI_H

/*
 * The WireGuard cross-platform userspace API (wireguard.com/xplatform), the
 * text protocol `wg` speaks on /var/run/wireguard/IFNAME.sock, as pure text
 * functions: find a request in the bytes read so far, parse a set request into
 * a list of operations, format the answer to get. The daemon applies the
 * operations and fills the snapshot. Errors are negative errno values, which
 * is what wireguard-go writes after "errno=" and what `wg` expects there.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "crypto/keys.h"

/* The largest request the daemon need buffer: a `wg setconf` of many peers. */
#define UAPI_MAX_REQUEST (16u << 20)
/* A longer line is no line `wg` writes. */
#define UAPI_MAX_LINE 1024
/* Caps on one set request (its size bounds them too). */
#define UAPI_MAX_SET_PEERS	 65536
#define UAPI_MAX_SET_ALLOWED_IPS (1u << 20)

enum uapi_request_kind {
	UAPI_REQ_INCOMPLETE, /* read more */
	UAPI_REQ_GET,	     /* "get=1\n\n" */
	UAPI_REQ_SET,	     /* "set=1\n" ... "\n\n" */
	UAPI_REQ_INVALID,    /* not a request: answer errno=-EINVAL (or -EPROTO) and close */
	UAPI_REQ_TOO_LARGE,  /* no end within UAPI_MAX_REQUEST: answer -EMSGSIZE and close */
};

/*
 * Looks at the bytes read so far from a connection. For GET and SET, *reqlen is
 * the length of the request including its terminating blank line; the caller
 * consumes that much and looks again (a client may send several in a row).
 */
enum uapi_request_kind uapi_request_split(const char *buf, size_t len, size_t *reqlen);

struct uapi_allowed_ip {
	struct vw_ipaddr addr; /* as sent: the host bits are not cleared here */
	uint8_t cidr;
	bool remove; /* "allowed_ip=-prefix" (wireguard-tools since 2025): remove only this one */
};

/* uapi_peer_op.flags */
#define UAPI_PEER_REMOVE	      (1u << 0) /* remove=true: delete the peer, nothing else */
#define UAPI_PEER_UPDATE_ONLY	      (1u << 1) /* update_only=true: skip if it does not exist */
#define UAPI_PEER_HAS_PRESHARED_KEY   (1u << 2) /* all zero: remove the preshared key */
#define UAPI_PEER_HAS_ENDPOINT	      (1u << 3)
#define UAPI_PEER_HAS_KEEPALIVE	      (1u << 4)
#define UAPI_PEER_REPLACE_ALLOWED_IPS (1u << 5) /* drop the old ones before adding these */
/* The endpoint has an IPv6 zone given by name: resolve endpoint_zone, set sin6_scope_id. */
#define UAPI_PEER_ENDPOINT_ZONE_NAME (1u << 6)

/*
 * One "public_key=" block. Apply in this order: if REMOVE, remove the peer and
 * stop; if UPDATE_ONLY and the peer does not exist, stop; create the peer if
 * needed (a key equal to the device's own public key is ignored, as
 * wireguard-go does); set the fields whose flags are set; if
 * REPLACE_ALLOWED_IPS, drop its allowed IPs; then add (or remove) the listed
 * allowed IPs in order.
 */
struct uapi_peer_op {
	uint8_t public_key[WG_KEY_LEN];
	uint32_t flags;
	uint8_t preshared_key[WG_KEY_LEN];
	struct vw_endpoint endpoint;
	char endpoint_zone[16];
	uint16_t persistent_keepalive_interval; /* seconds, 0: off */
	uint32_t first_allowed_ip;		/* index into uapi_set.allowed_ips */
	uint32_t n_allowed_ips;
};

/* uapi_set.flags */
#define UAPI_SET_PRIVATE_KEY   (1u << 0) /* all zero: remove the private key */
#define UAPI_SET_LISTEN_PORT   (1u << 1) /* 0: any free port */
#define UAPI_SET_FWMARK	       (1u << 2) /* 0: off */
#define UAPI_SET_REPLACE_PEERS (1u << 3)

/*
 * A parsed set request: device changes (apply first; REPLACE_PEERS removes every
 * peer before the blocks run), then the peer blocks in request order. A peer
 * may appear in several blocks; apply them one after the other.
 */
struct uapi_set {
	uint32_t flags;
	uint8_t private_key[WG_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	struct uapi_peer_op *peers; /* heap */
	uint32_t n_peers;
	struct uapi_allowed_ip *allowed_ips; /* heap, shared by all blocks */
	uint32_t n_allowed_ips;
	uint32_t peers_cap, allowed_ips_cap;
};

/*
 * Parses one set request as uapi_request_split delimits it (from "set=1\n" up to
 * and including the blank line). Returns 0, or a negative errno as wireguard-go
 * answers: -EPROTO for a line without '=', -EINVAL for an unknown key or a bad
 * value, -E2BIG past the caps, -ENOMEM. Nothing is applied on error, so unlike
 * wireguard-go a bad line leaves the device as it was. *out is always
 * initialised; free it with uapi_set_free either way.
 */
int uapi_parse_set(const char *text, size_t len, struct uapi_set *out);
/* Wipes the keys and frees. */
void uapi_set_free(struct uapi_set *set);

/* A peer in a get answer; allowed_ips point into the caller's memory. */
struct uapi_peer_info {
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN]; /* all zero: none */
	struct vw_endpoint endpoint;	   /* AF_UNSPEC: none yet */
	uint16_t persistent_keepalive_interval;
	uint64_t last_handshake_time_sec; /* Unix time; 0 and 0: never */
	uint32_t last_handshake_time_nsec;
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	const struct uapi_allowed_ip *allowed_ips;
	uint32_t n_allowed_ips;
};

/* The snapshot of a device that a get answer shows. */
struct uapi_device {
	uint8_t private_key[WG_KEY_LEN]; /* all zero: none */
	uint16_t listen_port;		 /* the bound port; 0: not bound */
	uint32_t fwmark;
	const struct uapi_peer_info *peers;
	uint32_t n_peers;
};

/*
 * Formats the whole answer to "get=1", in wireguard-go's key order, ending
 * "errno=0\n\n". Like snprintf: returns the length of the full answer, writes at
 * most buflen bytes including a NUL (buf may be NULL when buflen is 0), so a
 * caller sizes its buffer with a first call. The text holds the private key:
 * wipe the buffer after sending it.
 */
size_t uapi_format_get(const struct uapi_device *dev, char *buf, size_t buflen);
/* "errno=N\n\n" with N = err (0 or a negative errno). */
size_t uapi_format_errno(int err, char *buf, size_t buflen);

/*
 * The pieces of the text both ends write and read, public so that a client of
 * the protocol (tests/lib/uapi_client.c) speaks exactly the server's syntax.
 */

/*
 * Calls fn(ctx, key, value) for each "key=value" line of text from pos up to a
 * blank line or the end; key and value are NUL-terminated copies that fn may
 * change. Stops at the first nonzero return of fn and returns it; -EPROTO for a
 * line without '=' or with a NUL, -EINVAL for one longer than UAPI_MAX_LINE.
 */
int uapi_for_each_line(const char *text, size_t len, size_t pos,
		       int (*fn)(void *ctx, char *key, char *value), void *ctx);
/* "[-]addr/cidr" (s is changed); false if it is not one. */
bool uapi_parse_allowed_ip(char *s, struct uapi_allowed_ip *out);
/*
 * A numeric endpoint into op->endpoint: "a.b.c.d:port", "[v6]:port" or
 * "[v6%zone]:port". A zone that is a number sets sin6_scope_id; one that names an
 * interface goes to op->endpoint_zone with UAPI_PEER_ENDPOINT_ZONE_NAME set.
 */
bool uapi_parse_endpoint(const char *s, struct uapi_peer_op *op);

/* Text appended like snprintf: len counts all of it, buf holds what fits in cap. */
struct uapi_writer {
	char *buf;
	size_t cap, len;
};

void uapi_put(struct uapi_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "name=hex\n"; the hex copy on the stack is wiped. */
void uapi_put_key(struct uapi_writer *w, const char *name, const uint8_t key[WG_KEY_LEN]);
/* "endpoint=...\n"; zone_name (NULL or empty: none) takes the place of a scope id. */
void uapi_put_endpoint(struct uapi_writer *w, const struct vw_endpoint *e, const char *zone_name);
void uapi_put_allowed_ip(struct uapi_writer *w, const struct uapi_allowed_ip *a);
/* NUL-terminates when it fits; returns the full length. */
size_t uapi_finish(struct uapi_writer *w);

#endif
