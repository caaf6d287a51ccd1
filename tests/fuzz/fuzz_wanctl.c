/* SPDX-License-Identifier: MIT */
/*
 * wanrelay's parsers on arbitrary bytes, as a control socket or a command line could
 * give them: the input as one control line and as a --link spec. Whatever parses
 * must format into text that parses to the same thing, and an error must say
 * something that fits its buffer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wanrelay_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool params_equal(const struct wan_params *a, const struct wan_params *b)
{
	return a->mask == b->mask && (!(a->mask & WAN_P_DELAY) || a->delay_us == b->delay_us) &&
	       (!(a->mask & WAN_P_JITTER) || a->jitter_us == b->jitter_us) &&
	       (!(a->mask & WAN_P_LOSS) || a->loss_ppm == b->loss_ppm) &&
	       (!(a->mask & WAN_P_REORDER) || a->reorder == b->reorder);
}

static void check_params(const struct wan_params *p)
{
	check(!(p->mask & ~(unsigned)(WAN_P_DELAY | WAN_P_JITTER | WAN_P_LOSS | WAN_P_REORDER)));
	check(p->delay_us <= WAN_DELAY_MAX_US && p->jitter_us <= WAN_JITTER_MAX_US &&
	      p->loss_ppm <= WAN_LOSS_MAX_PPM);
}

static void check_err(const char *err, int rc)
{
	size_t n = strnlen(err, WAN_ERR_MAX);

	check(n < WAN_ERR_MAX);
	check(rc >= 0 || n > 0);
}

static void cmd_round_trip(const char *text, size_t len)
{
	struct wan_cmd c, again;
	char err[WAN_ERR_MAX], *buf;
	size_t n;
	int rc = wan_cmd_parse(text, len, &c, err, sizeof(err));

	check_err(err, rc);
	if (rc)
		return;
	check(c.verb >= WAN_CUT && c.verb <= WAN_HELP);
	check(c.target.scope == WAN_ANY || wan_name_ok(c.target.a, strlen(c.target.a)));
	check(c.target.scope < WAN_PAIR || wan_name_ok(c.target.b, strlen(c.target.b)));
	check(c.target.scope < WAN_PAIR || strcmp(c.target.a, c.target.b));
	check(c.verb == WAN_SET ? c.params.mask != 0 : c.params.mask == 0);
	check_params(&c.params);
	n = wan_cmd_format(&c, NULL, 0);
	buf = malloc(n + 1);
	check(buf != NULL);
	check(wan_cmd_format(&c, buf, n + 1) == n && strlen(buf) == n);
	check(wan_cmd_parse(buf, n, &again, err, sizeof(err)) == 0);
	check(again.verb == c.verb && again.target.scope == c.target.scope);
	check(!strcmp(again.target.a, c.target.a) && !strcmp(again.target.b, c.target.b));
	check(params_equal(&again.params, &c.params));
	free(buf);
}

static void link_round_trip(const char *text, size_t len)
{
	struct wan_link_spec s, again;
	char err[WAN_ERR_MAX], buf[512];
	size_t n;
	int rc = wan_link_parse(text, len, &s, err, sizeof(err));

	check_err(err, rc);
	if (rc)
		return;
	check(wan_name_ok(s.a, strlen(s.a)) && wan_name_ok(s.b, strlen(s.b)) && strcmp(s.a, s.b));
	check_params(&s.params);
	n = wan_link_format(&s, buf, sizeof(buf));
	check(n < sizeof(buf));
	check(wan_link_parse(buf, n, &again, err, sizeof(err)) == 0);
	check(!strcmp(again.a, s.a) && !strcmp(again.b, s.b));
	check(params_equal(&again.params, &s.params));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: a read past the end is ASan's to see. */
	char *text = malloc(size ? size : 1);

	check(text != NULL);
	memcpy(text, data, size);
	cmd_round_trip(text, size);
	link_round_trip(text, size);
	free(text);
	return 0;
}
