/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_PARSE_H
#define VW_CORE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A decimal number of digits only (no sign, no spaces, no base prefix) not above
 * max, as wg's config and UAPI values are written; false otherwise (out unchanged).
 */
bool vw_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* on/true/yes/1 give 1, off/false/no/0 give 0, in any case; anything else -1. */
int vw_parse_bool(const char *s);
/* Cuts blanks (space, tab, CR, VT, FF) off both ends in place; returns the new start. */
char *vw_trim(char *s);

/* IFNAMSIZ - 1: the kernel's limit on interface names. */
#define VW_IFNAME_MAX 15
/*
 * The interface names wg-quick accepts (1 to 15 of A-Z a-z 0-9 _ = + . -, not "."
 * or ".."): they also become socket and file names, so nothing else may pass.
 */
bool vw_ifname_valid(const char *s);
/*
 * A DNS name as getaddrinfo would look it up: labels of letters, digits, '-', '_'.
 * All-numeric dotted text (1.2.3.999) is refused: it is a mistyped address.
 */
bool vw_hostname_valid(const char *s);

/*
 * Messages quote at most this much of a value: printable ASCII, anything else as
 * '?', "..." when cut. out should hold VW_QUOTE_MAX + 8 bytes.
 */
#define VW_QUOTE_MAX 48
void vw_quote(char *out, size_t outlen, const char *val);

#endif
