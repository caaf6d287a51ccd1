/* SPDX-License-Identifier: MIT */
/*
 * vwirectl mesh's parser on arbitrary bytes: it must not crash, leak or overrun,
 * every failure names the file, and whatever it accepts it must be able to render
 * into configs vwired's own parser takes, with the wires and VNIs the mesh meant:
 * a mesh file that passes and a config that vwired refuses is a bug in the checks.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "ctl/mesh.h"
#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static char *render(const struct mesh *m, uint32_t i, enum mesh_output what)
{
	size_t need = mesh_render(m, i, what, NULL, 0);
	char *text = malloc(need + 1);

	check(text != NULL);
	check(mesh_render(m, i, what, text, need + 1) == need);
	check(strlen(text) == need);
	return text;
}

/* Host i's config parses as vwired's, with one peer and (vwired) one wire per mesh wire. */
static void check_config(const struct mesh *m, uint32_t i)
{
	const struct mesh_host *h = &m->hosts[i];
	char *text = render(m, i, MESH_CONF), name[32], err[512];
	struct vw_config cfg;
	uint32_t wires = 0;

	snprintf(name, sizeof(name), "out/%s.conf", h->name);
	for (uint32_t j = 0; j < m->n_hosts; j++)
		wires += mesh_wired(m, i, j);
	if (!h->has_private_key) {
		check(strstr(text, "PrivateKey = REPLACE-WITH-THE-PRIVATE-KEY-OF-") != NULL);
		free(text);
		return;
	}
	if (config_parse(text, strlen(text), name, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n%s\n", err, text);
		abort();
	}
	check(cfg.n_peers == wires);
	check(cfg.iface.listen_port == h->listen_port);
	if (h->kind == MESH_VWIRED) {
		check(cfg.has_bridge && cfg.n_wires == wires);
		for (uint32_t w = 0, j = 0; j < m->n_hosts; j++) {
			if (!mesh_wired(m, i, j))
				continue;
			check(!strcmp(cfg.wires[w].name, m->hosts[j].name));
			check(cfg.wires[w].vni == mesh_vni(i, j));
			check(!memcmp(cfg.wires[w].remote, m->hosts[j].tunnel, 4));
			w++;
		}
	} else {
		check(!cfg.has_bridge && cfg.n_wires == 0);
	}
	config_free(&cfg);
	crypto_wipe(text, strlen(text));
	free(text);
}

static void check_mesh(struct mesh *m)
{
	char err[256];

	check(m->n_hosts >= 2 && m->n_hosts <= MESH_MAX_HOSTS);
	for (uint32_t a = 0; a < m->n_hosts; a++) {
		uint32_t wires = 0;

		check(strnlen(m->hosts[a].name, sizeof(m->hosts[a].name)) >= 1);
		check(!m->hosts[a].nat == !!m->hosts[a].endpoint[0]);
		for (uint32_t b = 0; b < m->n_hosts; b++) {
			check(mesh_wired(m, a, b) == mesh_wired(m, b, a));
			check(!(mesh_wired(m, a, b) && a == b));
			check(!(mesh_wired(m, a, b) && m->hosts[a].nat && m->hosts[b].nat));
			check(a == b || memcmp(m->hosts[a].tunnel, m->hosts[b].tunnel, 4));
			wires += mesh_wired(m, a, b);
		}
		check(wires >= 1 && wires <= MESH_MAX_WIRES);
	}
	/* Keys as the file layer brings them. */
	for (uint32_t i = 0; i < m->n_hosts; i++) {
		uint8_t key[WG_KEY_LEN];

		if (!mesh_needs_key(&m->hosts[i]))
			continue;
		memset(key, 0xa5, sizeof(key));
		memcpy(key, &i, sizeof(i));
		mesh_set_private_key(&m->hosts[i], key);
	}
	/* Only a given key equal to one of these could clash: not the checks' fault. */
	if (mesh_check_keys(m, "fuzz.mesh", err, sizeof(err)))
		return;
	for (uint32_t i = 0; i < m->n_hosts; i++) {
		char *sh = render(m, i, MESH_SCRIPT);

		check_config(m, i);
		check((m->hosts[i].kind == MESH_KERNEL) == (sh[0] != '\0'));
		free(sh);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct mesh m;
	char err[256];

	if (!ready) {
		check(crypto_init());
		ready = true;
	}
	memset(err, 'x', sizeof(err));
	if (mesh_parse((const char *)data, size, "fuzz.mesh", &m, err, sizeof(err))) {
		check(memchr(err, '\0', sizeof(err)) != NULL);
		check(!strncmp(err, "fuzz.mesh", 9));
		check(m.hosts == NULL && m.wired == NULL);
		return 0;
	}
	check_mesh(&m);
	mesh_free(&m);
	check(m.hosts == NULL && m.n_hosts == 0);
	return 0;
}
