/* SPDX-License-Identifier: MIT */
#ifndef VW_TESTS_UAPI_CLIENT_H
#define VW_TESTS_UAPI_CLIENT_H

/*
 * The other end of the WireGuard UAPI (daemon/uapi.h), as `wg` speaks it: write
 * a set request, read a get answer. vwired does neither; the tests and the
 * fuzzer hold the server's text against it, round trip by round trip.
 */

#include <stddef.h>

#include "daemon/uapi.h"

/* The request text for a parsed set, as `wg` would write it. Sized like snprintf. */
size_t uapi_format_set(const struct uapi_set *set, char *buf, size_t buflen);

/*
 * Parses a get answer (up to and including "errno=N\n\n") as `wg` reads it.
 * Fills *dev with heap arrays (free with uapi_device_free) and *errno_out with
 * N. Returns 0 or a negative errno (-EPROTO when malformed).
 */
int uapi_parse_get(const char *text, size_t len, struct uapi_device *dev, int *errno_out);
void uapi_device_free(struct uapi_device *dev);

#endif
