/* SPDX-License-Identifier: MIT */
#include "ini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static int read_line(char *line, uint32_t n, const struct vw_ini_ops *ops, void *ctx)
{
	char *hash = strchr(line, '#'), *eq;
	char q[VW_QUOTE_MAX + 8], what[VW_QUOTE_MAX + 64];

	if (hash)
		*hash = '\0';
	line = vw_trim(line);
	if (!*line)
		return 0;
	if (line[0] == '[') {
		size_t len = strlen(line);

		if (line[len - 1] != ']')
			return ops->error(ctx, n, false, "a section header needs a closing ']'");
		line[len - 1] = '\0';
		return ops->section(ctx, n, vw_trim(line + 1));
	}
	eq = strchr(line, '=');
	if (!eq) {
		vw_quote(q, sizeof(q), line);
		snprintf(what, sizeof(what), "\"%s\": expected Key = Value", q);
		return ops->error(ctx, n, true, what);
	}
	*eq = '\0';
	line = vw_trim(line);
	if (!*line)
		return ops->error(ctx, n, true, "a line starts with '=': expected Key = Value");
	return ops->key(ctx, n, line, vw_trim(eq + 1));
}

static int read_lines(const char *text, size_t len, size_t max_line, char *buf,
		      const struct vw_ini_ops *ops, void *ctx)
{
	uint32_t n = 0;
	size_t pos = 0;
	int ret;

	/* Editors on Windows start files with a UTF-8 byte order mark. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ln = nl ? (size_t)(nl - (text + pos)) : len - pos;

		n++;
		if (ln > max_line) {
			char what[64];

			snprintf(what, sizeof(what), "line longer than %zu bytes", max_line);
			return ops->error(ctx, n, true, what);
		}
		memcpy(buf, text + pos, ln);
		buf[ln] = '\0';
		if (strlen(buf) != ln)
			return ops->error(ctx, n, true, "NUL byte: this is not a text file");
		ret = read_line(buf, n, ops, ctx);
		if (ret)
			return ret;
		pos += ln + 1;
	}
	return 0;
}

int vw_ini_read(const char *text, size_t len, size_t max_line, const struct vw_ini_ops *ops,
		void *ctx)
{
	char *buf = malloc(max_line + 1);
	int ret;

	if (!buf)
		return ops->error(ctx, 0, false, "out of memory");
	ret = read_lines(text, len, max_line, buf, ops, ctx);
	explicit_bzero(buf, max_line + 1);
	free(buf);
	return ret;
}

void vw_ini_verror(char *err, size_t errlen, const char *file, uint32_t line, const char *section,
		   const char *key, const char *fmt, va_list ap)
{
	char where[16] = "", what[256];

	if (!errlen)
		return;
	if (line)
		snprintf(where, sizeof(where), ":%u", line);
	vsnprintf(what, sizeof(what), fmt, ap);
	if (!section)
		snprintf(err, errlen, "%s%s: %s%s%s", file, where, key ? key : "", key ? ": " : "",
			 what);
	else
		snprintf(err, errlen, "%s%s: [%s]%s%s: %s", file, where, section, key ? " " : "",
			 key ? key : "", what);
}
