/* SPDX-License-Identifier: MIT */
#ifndef VW_CORE_PARSE_H
#define VW_CORE_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A decimal number of digits only (no sign, no spaces, no base prefix) not above
 * max, as wg's config and UAPI values are written; false otherwise (out unchanged).
 */
bool vw_parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif
