/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_INI_H
#define VW_CORE_INI_H

/*
 * The text format vwired's config file and vwirectl's mesh file share: "[Section]"
 * headers, "Key = Value" lines, '#' starts a comment to the end of the line,
 * blanks around everything are trimmed, a UTF-8 byte order mark is skipped. The
 * reader knows no section or key: it hands each line to its caller, which keeps
 * the state and names the file, so that the messages of both files read
 * "FILE:LINE: [Section] Key: what is wrong".
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vw_ini_ops {
	/* "[NAME]": brackets off, name trimmed. */
	int (*section)(void *ctx, uint32_t line, char *name);
	/* "KEY = VALUE": both trimmed; the key is never empty, the value may be. */
	int (*key)(void *ctx, uint32_t line, char *key, char *value);
	/*
	 * A line that is neither, or no text at all. in_section is false when the line
	 * was meant as a section header: its message should not name the section the
	 * line happens to be in.
	 */
	int (*error)(void *ctx, uint32_t line, bool in_section, const char *what);
};

/*
 * Reads len bytes (no terminating NUL needed) line by line, none longer than
 * max_line. Returns 0, or the first non-zero a callback returned. The copy of a
 * line it works on is wiped before it returns: files of keys are read with it.
 */
int vw_ini_read(const char *text, size_t len, size_t max_line, const struct vw_ini_ops *ops,
		void *ctx);

/*
 * "FILE:LINE: [Section] Key: what" into err, always NUL-terminated when errlen > 0.
 * line 0 leaves out ":LINE", section NULL "[Section]", key NULL " Key".
 */
void vw_ini_verror(char *err, size_t errlen, const char *file, uint32_t line, const char *section,
		   const char *key, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

#endif
