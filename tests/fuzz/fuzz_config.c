/* SPDX-License-Identifier: MIT */
/*
 * The config parser on arbitrary bytes: it must not crash, leak or overrun, every
 * failure must come with a message naming the file, and an accepted config must
 * hold the invariants the daemon relies on.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool name_ok(const char *s)
{
	size_t n = strnlen(s, CONFIG_NAME_MAX + 1);

	return n >= 1 && n <= CONFIG_NAME_MAX;
}

static void check_config(const struct vw_config *cfg)
{
	check(name_ok(cfg->iface.name));
	check(!key_is_zero(cfg->iface.private_key));
	check(cfg->iface.n_addresses <= CONFIG_MAX_ADDRESSES);
	check(cfg->n_peers <= CONFIG_MAX_PEERS);
	for (uint32_t i = 0; i < cfg->n_peers; i++) {
		const struct config_peer *p = &cfg->peers[i];

		check(strnlen(p->endpoint_str, sizeof(p->endpoint_str)) < sizeof(p->endpoint_str));
		for (uint32_t j = 0; j < p->n_allowed_ips; j++) {
			const struct config_prefix *a = &p->allowed_ips[j];

			check(a->addr.family == AF_INET
				      ? a->cidr <= 32
				      : a->addr.family == AF_INET6 && a->cidr <= 128);
		}
	}
	check(cfg->n_wires <= CONFIG_MAX_WIRES);
	check(!cfg->n_wires || cfg->has_bridge);
	for (uint32_t i = 0; i < cfg->n_wires; i++) {
		check(name_ok(cfg->wires[i].name));
		check(cfg->wires[i].vni < (1u << 24));
	}
	if (cfg->has_bridge) {
		const struct config_bridge *br = &cfg->bridge;

		check(name_ok(br->name));
		check(br->n_ports <= CONFIG_MAX_BRIDGE_PORTS);
		check(2 * (br->forward_delay - 1) >= br->max_age);
		check(br->max_age >= 2 * (br->hello_time + 1));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct vw_config cfg;
	char err[256];

	if (!ready) {
		check(crypto_init());
		ready = true;
	}
	memset(err, 'x', sizeof(err));
	if (config_parse((const char *)data, size, "fuzz.conf", &cfg, err, sizeof(err))) {
		check(memchr(err, '\0', sizeof(err)) != NULL);
		check(!strncmp(err, "fuzz.conf", 9));
		check(cfg.peers == NULL && cfg.wires == NULL);
		return 0;
	}
	check_config(&cfg);
	config_free(&cfg);
	check(cfg.peers == NULL && key_is_zero(cfg.iface.private_key));
	return 0;
}
