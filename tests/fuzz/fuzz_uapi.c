/* SPDX-License-Identifier: MIT */
/*
 * The UAPI text functions on arbitrary bytes, as a client could send them: split
 * the stream into requests, parse each set, and check that what parses formats
 * back into text that parses to the same thing. The input is also tried as a
 * get answer, with the same round trip.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "daemon/uapi.h"
#include "uapi_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static char *format_set(const struct uapi_set *s, size_t *len)
{
	char *buf;

	*len = uapi_format_set(s, NULL, 0);
	buf = malloc(*len + 1);
	check(buf != NULL);
	check(uapi_format_set(s, buf, *len + 1) == *len);
	return buf;
}

static void set_round_trip(const char *text, size_t len)
{
	struct uapi_set s, again;
	char *t1, *t2;
	size_t n1, n2;

	if (uapi_parse_set(text, len, &s)) {
		check(s.peers == NULL && s.allowed_ips == NULL);
		return;
	}
	t1 = format_set(&s, &n1);
	check(uapi_parse_set(t1, n1, &again) == 0);
	check(again.flags == s.flags && again.n_peers == s.n_peers &&
	      again.n_allowed_ips == s.n_allowed_ips);
	t2 = format_set(&again, &n2);
	check(n1 == n2 && !memcmp(t1, t2, n1));
	free(t1);
	free(t2);
	uapi_set_free(&again);
	uapi_set_free(&s);
}

static char *format_get(const struct uapi_device *dev, size_t *len)
{
	char *buf;

	*len = uapi_format_get(dev, NULL, 0);
	buf = malloc(*len + 1);
	check(buf != NULL);
	check(uapi_format_get(dev, buf, *len + 1) == *len);
	return buf;
}

static void get_round_trip(const char *text, size_t len)
{
	struct uapi_device dev, again;
	char *t1, *t2;
	size_t n1, n2;
	int err;

	if (uapi_parse_get(text, len, &dev, &err))
		return;
	t1 = format_get(&dev, &n1);
	check(uapi_parse_get(t1, n1, &again, &err) == 0 && err == 0);
	check(again.n_peers == dev.n_peers);
	t2 = format_get(&again, &n2);
	check(n1 == n2 && !memcmp(t1, t2, n1));
	free(t1);
	free(t2);
	uapi_device_free(&again);
	uapi_device_free(&dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *text = (const char *)data;
	size_t off = 0, len;

	if (!ready) {
		check(crypto_init());
		ready = true;
	}
	while (off < size) {
		enum uapi_request_kind kind = uapi_request_split(text + off, size - off, &len);

		if (kind != UAPI_REQ_GET && kind != UAPI_REQ_SET)
			break;
		check(len > 0 && len <= size - off);
		check(text[off + len - 1] == '\n' && text[off + len - 2] == '\n');
		if (kind == UAPI_REQ_SET)
			set_round_trip(text + off, len);
		off += len;
	}
	/* Also as a set without the splitter's framing, and as a get answer. */
	set_round_trip(text, size);
	get_round_trip(text, size);
	return 0;
}
