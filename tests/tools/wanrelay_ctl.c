/* SPDX-License-Identifier: MIT */
#include "wanrelay_ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_WORDS 16
/* How much of an offending word an error message quotes. */
#define QUOTE_MAX 40

struct word {
	const char *s;
	size_t n;
};

__attribute__((format(printf, 3, 4))) static void errf(char *err, size_t errlen, const char *fmt,
						       ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Quoted words are cut short: an error must fit one line of WAN_ERR_MAX. */
static int qlen(size_t n)
{
	return (int)(n > QUOTE_MAX ? QUOTE_MAX : n);
}

static bool word_is(struct word w, const char *s)
{
	return w.n == strlen(s) && !memcmp(w.s, s, w.n);
}

static bool has_char(struct word w, char c)
{
	return memchr(w.s, c, w.n) != NULL;
}

bool wan_name_ok(const char *s, size_t len)
{
	if (len < 1 || len > WAN_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static int copy_name(char *dst, struct word w, char *err, size_t errlen)
{
	if (!wan_name_ok(w.s, w.n)) {
		errf(err, errlen, "bad host name '%.*s' (1-%d letters, digits, '-', '_', '.')",
		     qlen(w.n), w.s, WAN_NAME_MAX);
		return -1;
	}
	memcpy(dst, w.s, w.n);
	dst[w.n] = '\0';
	return 0;
}

/*
 * Digits, then optionally '.' and at most `decimals` digits, then optionally the
 * unit: the value times 10^decimals, not above max.
 */
static bool parse_fixed(struct word w, unsigned decimals, const char *unit, uint64_t max,
			uint64_t *out)
{
	size_t i = 0, ul = strlen(unit);
	uint64_t v = 0;
	unsigned frac = 0, ints = 0;

	if (w.n >= ul && ul && !memcmp(w.s + w.n - ul, unit, ul))
		w.n -= ul;
	for (; i < w.n && w.s[i] >= '0' && w.s[i] <= '9'; i++) {
		/* Twelve digits cannot overflow and are far above any limit. */
		if (++ints > 12)
			return false;
		v = v * 10 + (uint64_t)(w.s[i] - '0');
	}
	if (!ints)
		return false;
	if (i < w.n && w.s[i] == '.') {
		i++;
		if (i == w.n)
			return false;
		for (; i < w.n && w.s[i] >= '0' && w.s[i] <= '9'; i++) {
			if (++frac > decimals)
				return false;
			v = v * 10 + (uint64_t)(w.s[i] - '0');
		}
	}
	if (i != w.n)
		return false;
	for (; frac < decimals; frac++)
		v *= 10;
	if (v > max)
		return false;
	*out = v;
	return true;
}

void wan_fixed_format(uint64_t v, unsigned decimals, char *buf, size_t size)
{
	uint64_t scale = 1;
	char frac[24];
	int n;

	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	if (!(v % scale) || !decimals) {
		snprintf(buf, size, "%llu", (unsigned long long)(v / scale));
		return;
	}
	n = snprintf(frac, sizeof(frac), "%0*llu", (int)decimals, (unsigned long long)(v % scale));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(buf, size, "%llu.%s", (unsigned long long)(v / scale), frac);
}

/* One "key=value" into p; `seen` tracks the keys already given in this command. */
static int parse_param(struct word w, struct wan_params *p, unsigned *seen, char *err,
		       size_t errlen)
{
	const char *eq = memchr(w.s, '=', w.n);
	struct word key = {w.s, (size_t)(eq - w.s)};
	struct word val = {eq + 1, w.n - key.n - 1};
	unsigned bit;
	uint64_t v;

	if (word_is(key, "delay") || word_is(key, "rtt"))
		bit = WAN_P_DELAY;
	else if (word_is(key, "jitter"))
		bit = WAN_P_JITTER;
	else if (word_is(key, "loss"))
		bit = WAN_P_LOSS;
	else if (word_is(key, "reorder"))
		bit = WAN_P_REORDER;
	else {
		errf(err, errlen, "unknown setting '%.*s' (delay, rtt, jitter, loss, reorder)",
		     qlen(key.n), key.s);
		return -1;
	}
	if (*seen & bit) {
		if (bit == WAN_P_DELAY)
			errf(err, errlen, "the delay is given twice (delay= or rtt=, once)");
		else
			errf(err, errlen, "'%.*s' is given twice", qlen(key.n), key.s);
		return -1;
	}
	*seen |= bit;
	switch (bit) {
	case WAN_P_DELAY:
		if (word_is(key, "rtt")) {
			if (!parse_fixed(val, 3, "ms", 2ull * WAN_DELAY_MAX_US, &v))
				goto bad_ms;
			v /= 2;
		} else if (!parse_fixed(val, 3, "ms", WAN_DELAY_MAX_US, &v)) {
			goto bad_ms;
		}
		p->delay_us = (uint32_t)v;
		break;
	case WAN_P_JITTER:
		if (!parse_fixed(val, 3, "ms", WAN_JITTER_MAX_US, &v))
			goto bad_ms;
		p->jitter_us = (uint32_t)v;
		break;
	case WAN_P_LOSS:
		if (!parse_fixed(val, 4, "%", WAN_LOSS_MAX_PPM, &v)) {
			errf(err, errlen,
			     "loss is a percentage from 0 to 100 with at most 4 decimals, not "
			     "'%.*s'",
			     qlen(val.n), val.s);
			return -1;
		}
		p->loss_ppm = (uint32_t)v;
		break;
	default:
		if (word_is(val, "on") || word_is(val, "yes") || word_is(val, "1")) {
			p->reorder = true;
		} else if (word_is(val, "off") || word_is(val, "no") || word_is(val, "0")) {
			p->reorder = false;
		} else {
			errf(err, errlen, "reorder is on or off, not '%.*s'", qlen(val.n), val.s);
			return -1;
		}
	}
	p->mask |= bit;
	return 0;
bad_ms:
	errf(err, errlen,
	     "%.*s is milliseconds (at most 3 decimals, up to %s), like 20 or 7.5, not '%.*s'",
	     qlen(key.n), key.s, word_is(key, "rtt") ? "120000" : "60000", qlen(val.n), val.s);
	return -1;
}

/* A target of one word ("a" or "a>b") or two ("a b"). */
static int parse_target(const struct word *w, size_t n, struct wan_target *t, char *err,
			size_t errlen)
{
	if (n == 0) {
		t->scope = WAN_ANY;
		return 0;
	}
	if (n == 1 && has_char(w[0], '>')) {
		const char *gt = memchr(w[0].s, '>', w[0].n);
		struct word a = {w[0].s, (size_t)(gt - w[0].s)};
		struct word b = {gt + 1, w[0].n - a.n - 1};

		if (copy_name(t->a, a, err, errlen) || copy_name(t->b, b, err, errlen))
			return -1;
		t->scope = WAN_DIR;
	} else if (n == 1) {
		if (copy_name(t->a, w[0], err, errlen))
			return -1;
		t->scope = WAN_HOST;
		return 0;
	} else if (n == 2) {
		for (size_t i = 0; i < 2; i++) {
			if (has_char(w[i], '>')) {
				errf(err, errlen, "'%.*s': A>B is one direction; give it alone",
				     qlen(w[i].n), w[i].s);
				return -1;
			}
		}
		if (copy_name(t->a, w[0], err, errlen) || copy_name(t->b, w[1], err, errlen))
			return -1;
		t->scope = WAN_PAIR;
	} else {
		errf(err, errlen,
		     "too many hosts: give one host, two (A B) or one direction (A>B)");
		return -1;
	}
	if (!strcmp(t->a, t->b)) {
		errf(err, errlen, "a link joins two different hosts, not '%s' and itself", t->a);
		return -1;
	}
	return 0;
}

int wan_cmd_parse(const char *line, size_t len, struct wan_cmd *cmd, char *err, size_t errlen)
{
	struct word w[MAX_WORDS];
	size_t nw = 0, nt = 0, i;
	unsigned seen = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (errlen)
		err[0] = '\0';
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (len > WAN_LINE_MAX) {
		errf(err, errlen, "line longer than %d bytes", WAN_LINE_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f) {
			errf(err, errlen, "byte 0x%02x at column %zu: commands are printable ASCII",
			     c, i + 1);
			return -1;
		}
	}
	for (i = 0; i < len;) {
		size_t start;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (nw == MAX_WORDS) {
			errf(err, errlen, "more than %d words", MAX_WORDS);
			return -1;
		}
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		w[nw].s = line + start;
		w[nw].n = i - start;
		nw++;
	}
	if (!nw || w[0].s[0] == '#')
		return 1;

	if (word_is(w[0], "cut"))
		cmd->verb = WAN_CUT;
	else if (word_is(w[0], "heal"))
		cmd->verb = WAN_HEAL;
	else if (word_is(w[0], "set"))
		cmd->verb = WAN_SET;
	else if (word_is(w[0], "stats"))
		cmd->verb = WAN_STATS;
	else if (word_is(w[0], "faces"))
		cmd->verb = WAN_FACES;
	else if (word_is(w[0], "help"))
		cmd->verb = WAN_HELP;
	else {
		errf(err, errlen, "unknown command '%.*s' (cut, heal, set, stats, faces, help)",
		     qlen(w[0].n), w[0].s);
		return -1;
	}

	/* The hosts come first, then the settings. */
	while (1 + nt < nw && !has_char(w[1 + nt], '='))
		nt++;
	for (i = 1 + nt; i < nw; i++) {
		if (!has_char(w[i], '=')) {
			errf(err, errlen, "'%.*s' after the settings: the hosts come first",
			     qlen(w[i].n), w[i].s);
			return -1;
		}
	}
	if (cmd->verb != WAN_SET && 1 + nt < nw) {
		errf(err, errlen, "settings like '%.*s' go with set", qlen(w[1 + nt].n),
		     w[1 + nt].s);
		return -1;
	}
	if ((cmd->verb == WAN_FACES || cmd->verb == WAN_HELP) && nt) {
		errf(err, errlen, "%.*s takes no arguments", qlen(w[0].n), w[0].s);
		return -1;
	}
	if (parse_target(w + 1, nt, &cmd->target, err, errlen))
		return -1;
	if ((cmd->verb == WAN_CUT || cmd->verb == WAN_HEAL || cmd->verb == WAN_SET) && !nt) {
		errf(err, errlen, "%.*s needs a host, two hosts (A B) or a direction (A>B)",
		     qlen(w[0].n), w[0].s);
		return -1;
	}
	for (i = 1 + nt; i < nw; i++) {
		if (parse_param(w[i], &cmd->params, &seen, err, errlen))
			return -1;
	}
	if (cmd->verb == WAN_SET && !cmd->params.mask) {
		errf(err, errlen,
		     "set needs at least one of delay=, rtt=, jitter=, loss=, reorder=");
		return -1;
	}
	return 0;
}

int wan_link_parse(const char *s, size_t len, struct wan_link_spec *spec, char *err, size_t errlen)
{
	struct wan_target t;
	struct word f[2];
	unsigned seen = 0;
	size_t i = 0, nf = 0;

	memset(spec, 0, sizeof(*spec));
	if (errlen)
		err[0] = '\0';
	if (len > WAN_LINE_MAX) {
		errf(err, errlen, "link longer than %d bytes", WAN_LINE_MAX);
		return -1;
	}
	while (i <= len) {
		const char *comma = memchr(s + i, ',', len - i);
		struct word w = {s + i, comma ? (size_t)(comma - (s + i)) : len - i};

		if (nf < 2) {
			if (has_char(w, '=')) {
				errf(err, errlen, "a link is A,B[,key=value]..., not '%.*s'",
				     qlen(len), s);
				return -1;
			}
			f[nf++] = w;
		} else if (!has_char(w, '=')) {
			errf(err, errlen, "'%.*s' in a link: settings are key=value", qlen(w.n),
			     w.s);
			return -1;
		} else if (parse_param(w, &spec->params, &seen, err, errlen)) {
			return -1;
		}
		i += w.n + 1;
	}
	if (nf < 2) {
		errf(err, errlen, "a link is A,B[,key=value]..., not '%.*s'", qlen(len), s);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		if (has_char(f[i], '>')) {
			errf(err, errlen, "a link joins two hosts both ways: '%.*s'", qlen(len), s);
			return -1;
		}
	}
	if (parse_target(f, 2, &t, err, errlen))
		return -1;
	memcpy(spec->a, t.a, sizeof(spec->a));
	memcpy(spec->b, t.b, sizeof(spec->b));
	return 0;
}

/* snprintf's contract over a cursor that may run past the end. */
struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->len < o->size) {
		size_t room = o->size - o->len - 1;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
	if (o->size)
		o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
}

static void put_param(struct out *o, char sep, bool *first, const char *key, const char *val)
{
	char s[2] = {sep, '\0'};

	if (!*first)
		put(o, s);
	*first = false;
	put(o, key);
	put(o, "=");
	put(o, val);
}

size_t wan_params_format(const struct wan_params *p, char sep, char *buf, size_t size)
{
	struct out o = {buf, size, 0};
	bool first = true;
	char v[32];

	if (size)
		buf[0] = '\0';
	if (p->mask & WAN_P_DELAY) {
		wan_fixed_format(p->delay_us, 3, v, sizeof(v));
		put_param(&o, sep, &first, "delay", v);
	}
	if (p->mask & WAN_P_JITTER) {
		wan_fixed_format(p->jitter_us, 3, v, sizeof(v));
		put_param(&o, sep, &first, "jitter", v);
	}
	if (p->mask & WAN_P_LOSS) {
		wan_fixed_format(p->loss_ppm, 4, v, sizeof(v));
		put_param(&o, sep, &first, "loss", v);
	}
	if (p->mask & WAN_P_REORDER)
		put_param(&o, sep, &first, "reorder", p->reorder ? "on" : "off");
	return o.len;
}

size_t wan_cmd_format(const struct wan_cmd *cmd, char *buf, size_t size)
{
	static const char *const verbs[] = {
		[WAN_CUT] = "cut",     [WAN_HEAL] = "heal",   [WAN_SET] = "set",
		[WAN_STATS] = "stats", [WAN_FACES] = "faces", [WAN_HELP] = "help",
	};
	struct out o = {buf, size, 0};
	char params[128];

	if (size)
		buf[0] = '\0';
	put(&o, cmd->verb >= WAN_CUT && cmd->verb <= WAN_HELP ? verbs[cmd->verb] : "?");
	switch (cmd->target.scope) {
	case WAN_HOST:
		put(&o, " ");
		put(&o, cmd->target.a);
		break;
	case WAN_PAIR:
		put(&o, " ");
		put(&o, cmd->target.a);
		put(&o, " ");
		put(&o, cmd->target.b);
		break;
	case WAN_DIR:
		put(&o, " ");
		put(&o, cmd->target.a);
		put(&o, ">");
		put(&o, cmd->target.b);
		break;
	default:
		break;
	}
	if (cmd->params.mask) {
		wan_params_format(&cmd->params, ' ', params, sizeof(params));
		put(&o, " ");
		put(&o, params);
	}
	return o.len;
}

size_t wan_link_format(const struct wan_link_spec *spec, char *buf, size_t size)
{
	struct out o = {buf, size, 0};
	char params[128];

	if (size)
		buf[0] = '\0';
	put(&o, spec->a);
	put(&o, ",");
	put(&o, spec->b);
	if (spec->params.mask) {
		wan_params_format(&spec->params, ',', params, sizeof(params));
		put(&o, ",");
		put(&o, params);
	}
	return o.len;
}
