/* SPDX-License-Identifier: MIT */
#ifndef VW_CTL_MESH_H
#define VW_CTL_MESH_H

/*
 * `vwirectl mesh FILE -o DIR`: one file describes the whole network (DESIGN.md, "User
 * interface"), and each host's config is made from it. This module is text in,
 * struct, text out: it parses and checks the mesh file and renders the configs.
 * mesh_write.c reads and writes the files and keeps the keys.
 *
 * Errors read like vwired's: "FILE:LINE: [Section] Key: what is wrong" (no LINE for
 * whole-file problems), the first problem found, and then nothing is written.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/parse.h"
#include "crypto/keys.h"

/* Bounds that keep a mistaken file from taking unbounded memory. */
#define MESH_MAX_FILE_SIZE (1u << 20)
#define MESH_MAX_LINE	   16384
#define MESH_MAX_HOSTS	   256
/* A host's wires are its bridge's ports: STP_MAX_PORTS less the bridge's own. */
#define MESH_MAX_WIRES 63
/* "[host]:port" with a DNS name of up to 253 characters, as vwired's config takes. */
#define MESH_ENDPOINT_MAX 262

/* Defaults (DESIGN.md). */
#define MESH_DEFAULT_IFNAME    "wg0"
#define MESH_DEFAULT_BRIDGE    "br0"
#define MESH_DEFAULT_PORT      51820
#define MESH_DEFAULT_MTU       1420
#define MESH_DEFAULT_KEEPALIVE 25
#define MESH_DEFAULT_PRIORITY  32768
#define MESH_ROOT_PRIORITY     4096
#define MESH_DEFAULT_HELLO     2
#define MESH_DEFAULT_MAX_AGE   20
#define MESH_DEFAULT_FWD_DELAY 15
#define MESH_VXLAN_PORT	       4789
#define MESH_WIRE_COST	       100
#define MESH_BRIDGE_MTU	       1500

enum mesh_kind {
	MESH_VWIRED, /* NAME.conf for vwired -c */
	MESH_KERNEL, /* NAME.conf for wg-quick, NAME.sh for the vxlan devices and the bridge */
};

struct mesh_host {
	char name[VW_IFNAME_MAX + 1];	      /* also its wires' name on the other hosts */
	char ifname[VW_IFNAME_MAX + 1];	      /* the WireGuard interface (vwired's Name) */
	char endpoint[MESH_ENDPOINT_MAX + 1]; /* as written; "" when behind NAT */
	bool nat;
	enum mesh_kind kind;
	uint8_t tunnel[4]; /* IPv4, network order */
	uint8_t bridge[4]; /* when the network has a BridgePrefix */
	uint16_t listen_port;
	uint16_t priority;  /* the bridge's */
	bool priority_auto; /* Priority = auto: vwired sets it from its round trips */
	uint8_t private_key[WG_KEY_LEN];
	uint8_t public_key[WG_KEY_LEN];
	bool has_private_key;
	bool has_public_key; /* always, once mesh_check_keys passed */
	uint32_t line;	     /* of its [Host] header */
	uint32_t key_line;   /* of PrivateKey or PublicKey, 0 when neither was given */
};

/* "EndpointFrom = FROM ADDR:PORT" in host's [Host]: FROM reaches host there, not at its Endpoint.
 */
struct mesh_endpoint_from {
	uint32_t host, from;
	char endpoint[MESH_ENDPOINT_MAX + 1];
};

struct mesh {
	uint8_t tunnel_net[4];
	uint8_t tunnel_cidr;
	bool has_bridge_net;
	uint8_t bridge_net[4];
	uint8_t bridge_cidr;
	char bridge_name[VW_IFNAME_MAX + 1];
	uint16_t mtu;
	uint16_t keepalive; /* PersistentKeepalive from a NATed host to its peers */
	uint16_t hello_time, max_age, forward_delay; /* seconds */
	bool stp;				     /* Protocol = stp (802.1D); default rstp */
	uint16_t priority;			     /* [Network] Priority: the hosts' default */
	bool priority_auto;			     /* [Network] Priority = auto */
	struct mesh_host *hosts;		     /* heap, in file order */
	uint32_t n_hosts;
	uint8_t *wired; /* heap, n_hosts x n_hosts: wired[a * n_hosts + b], symmetric */
	struct mesh_endpoint_from *endpoint_from; /* heap, in file order */
	uint32_t n_endpoint_from;
};

/*
 * Parses and checks len bytes of text (no terminating NUL needed); file starts every
 * message. Returns 0, or -1 with a message in err (always NUL-terminated when
 * errlen > 0) and m holding nothing to free.
 */
int mesh_parse(const char *text, size_t len, const char *file, struct mesh *m, char *err,
	       size_t errlen);
void mesh_free(struct mesh *m);

static inline bool mesh_wired(const struct mesh *m, uint32_t a, uint32_t b)
{
	return m->wired[a * m->n_hosts + b];
}

/* Where host `from` sends to reach host `host`: an EndpointFrom, its Endpoint, or "" (NAT). */
const char *mesh_endpoint(const struct mesh *m, uint32_t host, uint32_t from);

/* The VNI of the wire between hosts a and b (indexes from 0): both ends get the same. */
uint32_t mesh_vni(uint32_t a, uint32_t b);

/* Neither key was given: the caller brings one (kept from an earlier run, or new). */
static inline bool mesh_needs_key(const struct mesh_host *h)
{
	return !h->has_private_key && !h->has_public_key;
}
/* Gives a host its private key, and the public key from it. */
void mesh_set_private_key(struct mesh_host *h, const uint8_t key[WG_KEY_LEN]);
/* Once keys are in: every host has a public key, and no two have the same. */
int mesh_check_keys(const struct mesh *m, const char *file, char *err, size_t errlen);

enum mesh_output {
	MESH_CONF,   /* NAME.conf: vwired's config, or wg-quick's for a kernel host */
	MESH_SCRIPT, /* NAME.sh: a kernel host's vxlan devices and bridge; nothing for vwired */
};
/*
 * Host i's file into buf, snprintf's way: at most size bytes including the final
 * NUL, and returns the length the whole text needs. A host without a private key
 * gets a placeholder in its place, which vwired and wg refuse until it is replaced.
 */
size_t mesh_render(const struct mesh *m, uint32_t i, enum mesh_output what, char *buf, size_t size);

/* `vwirectl mesh FILE -o DIR` (mesh_write.c); argv[0] is "mesh". Returns the exit status. */
int mesh_main(int argc, char **argv);

#endif
