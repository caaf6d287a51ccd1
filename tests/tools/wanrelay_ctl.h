/* SPDX-License-Identifier: MIT */
#ifndef VW_TESTS_WANRELAY_CTL_H
#define VW_TESTS_WANRELAY_CTL_H

/*
 * The text wanrelay reads: control lines ("cut rho bob", "set rho>bob delay=45
 * loss=1%") and --link specs ("rho,bob,rtt=10,jitter=1"). Pure functions on
 * bytes, without the relay's sockets, so tests/fuzz can link them alone.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WAN_NAME_MAX 31	  /* a host name's bytes */
#define WAN_LINE_MAX 1024 /* a control line's bytes, without its newline */
#define WAN_ERR_MAX  160  /* an error message's bytes, with its NUL */

/* Limits of the settings: a minute one way, and a loss rate in parts per million. */
#define WAN_DELAY_MAX_US  60000000u
#define WAN_JITTER_MAX_US 60000000u
#define WAN_LOSS_MAX_PPM  1000000u

enum wan_verb {
	WAN_CUT = 1,
	WAN_HEAL,
	WAN_SET,
	WAN_STATS,
	WAN_FACES,
	WAN_HELP,
};

/* What a command applies to: every link (stats only), a host, a pair or one direction. */
enum wan_scope {
	WAN_ANY,
	WAN_HOST, /* a */
	WAN_PAIR, /* a b: both directions */
	WAN_DIR,  /* a>b: from a to b only */
};

struct wan_target {
	enum wan_scope scope;
	char a[WAN_NAME_MAX + 1];
	char b[WAN_NAME_MAX + 1];
};

/* Which fields of wan_params a command or spec sets; the others stay as they were. */
enum {
	WAN_P_DELAY = 1,
	WAN_P_JITTER = 2,
	WAN_P_LOSS = 4,
	WAN_P_REORDER = 8,
};

struct wan_params {
	unsigned mask;
	uint32_t delay_us;  /* one way */
	uint32_t jitter_us; /* uniform, +- */
	uint32_t loss_ppm;  /* independent per packet */
	bool reorder;	    /* jitter may reorder the direction's packets */
};

struct wan_cmd {
	enum wan_verb verb;
	struct wan_target target;
	struct wan_params params;
};

struct wan_link_spec {
	char a[WAN_NAME_MAX + 1];
	char b[WAN_NAME_MAX + 1];
	struct wan_params params;
};

/*
 * One control line (a trailing "\n" or "\r\n" allowed): 0 and *cmd filled, 1 for a
 * blank line or a '#' comment, -1 with a message for a person in err (always
 * NUL-terminated when errlen > 0).
 */
int wan_cmd_parse(const char *line, size_t len, struct wan_cmd *cmd, char *err, size_t errlen);
/* "A,B[,key=value]...": 0 or -1 with err as above. */
int wan_link_parse(const char *s, size_t len, struct wan_link_spec *spec, char *err, size_t errlen);
/*
 * The text that parses back to the same command or spec, as snprintf: the length it
 * needs, written up to size - 1 bytes and NUL-terminated when size > 0.
 */
size_t wan_cmd_format(const struct wan_cmd *cmd, char *buf, size_t size);
size_t wan_link_format(const struct wan_link_spec *spec, char *buf, size_t size);
/* The settings in mask, "delay=7.5 jitter=1 loss=0.25 reorder=on", separated by sep. */
size_t wan_params_format(const struct wan_params *p, char sep, char *buf, size_t size);
/* v / 10^decimals as a decimal without trailing zeros: (7500, 3) -> "7.5". */
void wan_fixed_format(uint64_t v, unsigned decimals, char *buf, size_t size);
/* 1 to WAN_NAME_MAX letters, digits, '-', '_' or '.'. */
bool wan_name_ok(const char *s, size_t len);

#endif
