/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_CONFIG_H
#define VW_DAEMON_CONFIG_H

/*
 * The vwired config file (DESIGN.md, "User interface"): the `wg setconf` format
 * plus vwire's keys and the [Bridge] and [Wire] sections. The parser is pure
 * text to struct; only config_load touches the file system, to read the file.
 * A file is accepted whole or not at all: the first problem found fails the
 * parse with one message "FILE:LINE: [Section] Key: what is wrong" (no LINE for
 * whole-file problems such as a missing PrivateKey).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge/bridge_stp.h"
#include "core/addr.h"
#include "crypto/keys.h"

/* IFNAMSIZ - 1: the kernel's limit, and the UAPI socket is named after it. */
#define CONFIG_NAME_MAX 15
/* "[host]:port" with a DNS name of up to 253 characters. */
#define CONFIG_ENDPOINT_MAX 262

/* Bounds that keep a hostile or mistaken file from taking unbounded memory. */
#define CONFIG_MAX_FILE_SIZE	(64u << 20)
#define CONFIG_MAX_LINE		16384
#define CONFIG_MAX_PEERS	65536
#define CONFIG_MAX_ALLOWED_IPS	(1u << 20) /* summed over all peers */
#define CONFIG_MAX_WIRES	256
#define CONFIG_MAX_ADDRESSES	32 /* per [Interface] and per [Bridge] */
#define CONFIG_MAX_BRIDGE_PORTS 64

/* Defaults (DESIGN.md). */
#define CONFIG_DEFAULT_MTU	       1420
#define CONFIG_DEFAULT_BRIDGE_MTU      1500
#define CONFIG_DEFAULT_BRIDGE_PRIORITY 32768
#define CONFIG_DEFAULT_HELLO_TIME      2
#define CONFIG_DEFAULT_MAX_AGE	       20
#define CONFIG_DEFAULT_FORWARD_DELAY   15
#define CONFIG_DEFAULT_AGEING_TIME     300
/* Learned MACs per bridge port (the bridge's BR_DEFAULT_MAX_LEARNED; bridge.h says why). */
#define CONFIG_DEFAULT_MAX_LEARNED   1024
#define CONFIG_MAX_MAX_LEARNED	     (1u << 20)
#define CONFIG_DEFAULT_VXLAN_PORT    4789
#define CONFIG_DEFAULT_WIRE_COST     100 /* Cost = auto's, until a round trip is measured */
#define CONFIG_WIRE_COST_AUTO	     0	 /* the default: the port cost follows the round trip */
#define CONFIG_DEFAULT_WIRE_PRIORITY 128

/*
 * An address with a prefix length. For AllowedIPs the host bits are cleared (as
 * the kernel stores them); for Address they are kept, since 10.0.0.1/24 names
 * both the host and its subnet.
 */
struct config_prefix {
	struct vw_ipaddr addr;
	uint8_t cidr;
};

struct config_interface {
	char name[CONFIG_NAME_MAX + 1]; /* default: the file's name without ".conf" */
	uint8_t private_key[WG_KEY_LEN];
	uint16_t listen_port; /* 0: any free port, as wg */
	uint32_t fwmark;      /* 0: off */
	bool tun;	      /* default on */
	uint32_t mtu;	      /* default 1420 */
	/* In file order; the first IPv4 one is this host's VXLAN source address. */
	struct config_prefix addresses[CONFIG_MAX_ADDRESSES];
	uint32_t n_addresses;
};

struct config_peer {
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN]; /* all zero when has_preshared_key is false */
	bool has_preshared_key;
	/*
	 * Endpoint exactly as written ("" when none). endpoint is filled when the
	 * host is a numeric address; its family is AF_UNSPEC when the host is a
	 * name or an IPv6 address with a %zone, which the daemon resolves.
	 */
	char endpoint_str[CONFIG_ENDPOINT_MAX + 1];
	struct vw_endpoint endpoint;
	uint16_t persistent_keepalive;	   /* seconds, 0: off */
	struct config_prefix *allowed_ips; /* heap, in file order */
	uint32_t n_allowed_ips;
	uint32_t line; /* of the [Peer] header, for messages */
};

struct config_bridge {
	char name[CONFIG_NAME_MAX + 1]; /* the TAP that is this host's port on the bridge */
	struct config_prefix addresses[CONFIG_MAX_ADDRESSES];
	uint32_t n_addresses;
	uint32_t mtu;		   /* default 1500 */
	bool stp;		   /* default on */
	enum br_protocol protocol; /* Protocol = rstp (default) | stp */
	uint16_t priority;	   /* bridge priority, default 32768 */
	bool priority_auto;	   /* Priority = auto: from the wires' round trips */
	uint8_t hello_time;	   /* seconds, 1..10, default 2 */
	uint8_t max_age;	   /* seconds, 6..40, default 20 */
	uint8_t forward_delay;	   /* seconds, 4..30, default 15 */
	uint32_t ageing_time;	   /* seconds, 10..1000000, default 300 */
	/* MaxLearned: learned MACs per port, 0..CONFIG_MAX_MAX_LEARNED, 0 = no per-port cap. */
	uint32_t max_learned;
	/* UDPChecksum: the wires' VXLAN packets carry an outer UDP checksum (default no). */
	bool udp_csum;
	char ports[CONFIG_MAX_BRIDGE_PORTS][CONFIG_NAME_MAX + 1]; /* extra TAP ports */
	uint32_t n_ports;
	/* BPDUGuard = vm0, ...: names from Ports, flagged here parallel to ports[]. */
	bool bpdu_guard[CONFIG_MAX_BRIDGE_PORTS];
	/* Edge = vm0, ...: RSTP AdminEdge, names from Ports, parallel to ports[]. */
	bool edge[CONFIG_MAX_BRIDGE_PORTS];
	uint8_t mac[6]; /* valid when has_mac; else the daemon picks one */
	bool has_mac;
};

struct config_wire {
	char name[CONFIG_NAME_MAX + 1];
	uint8_t remote[4]; /* IPv4, network order: the far end's tunnel address */
	uint32_t vni;	   /* 0..2^24-1 */
	uint16_t port;	   /* UDP destination port, default 4789 */
	uint32_t cost;	   /* STP path cost, 1..65535, or CONFIG_WIRE_COST_AUTO (default) */
	uint8_t priority;  /* STP port priority, default 128 */
	uint32_t line;	   /* of the [Wire] header, for messages */
};

struct vw_config {
	struct config_interface iface;
	struct config_peer *peers; /* heap */
	uint32_t n_peers;
	bool has_bridge;
	struct config_bridge bridge;
	struct config_wire *wires; /* heap */
	uint32_t n_wires;
};

/*
 * Reads and parses PATH. Returns 0, or -1 with a message in err (always
 * NUL-terminated when errlen > 0); on failure cfg holds nothing to free.
 */
int config_load(const char *path, struct vw_config *cfg, char *err, size_t errlen);
/* The same from fd, opened by someone who may read PATH (fd < 0: PATH is opened). */
int config_load_fd(int fd, const char *path, struct vw_config *cfg, char *err, size_t errlen);
/*
 * Parses len bytes of text (no terminating NUL needed). name_for_errors starts
 * every message and, without a Name key, gives the interface its name as
 * wg-quick does: "/etc/vwire/wg0.conf" -> "wg0".
 */
int config_parse(const char *text, size_t len, const char *name_for_errors, struct vw_config *cfg,
		 char *err, size_t errlen);
/* Wipes the keys and frees what config_parse allocated; cfg is then empty. */
void config_free(struct vw_config *cfg);

#endif
