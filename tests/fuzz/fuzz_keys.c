/* SPDX-License-Identifier: MIT */
/*
 * The key decoders take text from config files, the command line and the
 * userspace API. Whatever they accept must re-encode to exactly the input
 * (strict, canonical), and nothing may crash them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[128], again[WG_KEY_LEN_HEX + 1];
	uint8_t key[WG_KEY_LEN];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (key_from_base64(key, text)) {
		key_to_base64(again, key);
		if (strcmp(again, text))
			abort();
	}
	if (key_from_hex(key, text)) {
		key_to_hex(again, key);
		if (strcasecmp(again, text))
			abort();
	}
	return 0;
}
