/* SPDX-License-Identifier: MIT */
/*
 * The example configs the package installs (docs/examples) are files vwired accepts once
 * their key placeholders are filled in, and vwired.conf(5) shows them as they are: a
 * user copying either gets a config that starts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "daemon/config.h"

#define DOCS "../../docs"

/* tests/unit/configs' throwaway keys: a private key, then distinct public keys. */
static const char *const keys[] = {
	"0GPHPkNwQFjGdPoZ1i1UnwxV4p5B/KOwVU65TQQpnXQ=",
	"BPAoNkwGX+HSRB/StMJPG1Z6ErhK10LfP/J88o3YGlE=",
	"6I9VyZ/59H9JnprlKI6V+ERb8esoSpHE1AA+VIfhQDo=",
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f) {
		print_error("%s: cannot open\n", path);
		fail();
	}
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Each "<...>" becomes the next key, in file order. */
static char *fill_keys(const char *text)
{
	char *out = malloc(strlen(text) + 1 + 64 * 8), *o = out;
	size_t k = 0;

	assert_non_null(out);
	while (*text) {
		const char *end;

		if (*text != '<' || !(end = strchr(text, '>'))) {
			*o++ = *text++;
			continue;
		}
		assert_true(k < sizeof(keys) / sizeof(keys[0]));
		o += sprintf(o, "%s", keys[k++]);
		text = end + 1;
	}
	*o = '\0';
	return out;
}

static void parse_example(const char *name, struct vw_config *cfg)
{
	char path[128], err[512];
	char *text, *filled;

	snprintf(path, sizeof(path), DOCS "/examples/%s", name);
	text = slurp(path);
	filled = fill_keys(text);
	if (config_parse(filled, strlen(filled), path, cfg, err, sizeof(err))) {
		print_error("%s\n", err);
		fail();
	}
	free(filled);
	free(text);
}

/* The example as the man page's .EX block holds it: its text, without troff escapes. */
static bool in_man_page(const char *name)
{
	char path[128];
	char *man = slurp(DOCS "/man/vwired.conf.5");
	char *file, *body, *m, *plain, *p;
	bool found;

	snprintf(path, sizeof(path), DOCS "/examples/%s", name);
	file = slurp(path);
	/* The file's opening comment says how to install it; the page says that itself. */
	for (body = file; *body == '#';)
		body = strchr(body, '\n') + 1;
	plain = malloc(strlen(man) + 1);
	assert_non_null(plain);
	for (m = man, p = plain; *m;) {
		if (!strncmp(m, "\\(aq", 4)) {
			*p++ = '\'';
			m += 4;
		} else if (!strncmp(m, "\\-", 2)) {
			*p++ = '-';
			m += 2;
		} else {
			*p++ = *m++;
		}
	}
	*p = '\0';
	found = strstr(plain, body) != NULL;
	free(plain);
	free(file);
	free(man);
	return found;
}

static void test_routed(void **state)
{
	struct vw_config cfg;

	(void)state;
	parse_example("wg0.conf", &cfg);
	assert_string_equal(cfg.iface.name, "wg0");
	assert_int_equal(cfg.iface.listen_port, 51820);
	assert_int_equal(cfg.n_peers, 1);
	assert_int_equal(cfg.peers[0].n_allowed_ips, 2);
	assert_false(cfg.has_bridge);
	config_free(&cfg);
	assert_true(in_man_page("wg0.conf"));
}

static void test_bridged(void **state)
{
	struct vw_config cfg;

	(void)state;
	parse_example("bridged.conf", &cfg);
	assert_string_equal(cfg.iface.name, "wg0");
	assert_false(cfg.iface.tun);
	assert_int_equal(cfg.n_peers, 2);
	assert_true(cfg.has_bridge);
	assert_string_equal(cfg.bridge.name, "lan");
	assert_int_equal(cfg.bridge.n_ports, 1);
	assert_true(cfg.bridge.bpdu_guard[0]);
	assert_int_equal(cfg.n_wires, 2);
	assert_int_equal(cfg.wires[1].cost, 200);
	config_free(&cfg);
	assert_true(in_man_page("bridged.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routed),
		cmocka_unit_test(test_bridged),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
