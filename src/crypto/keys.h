/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_KEYS_H
#define VW_CRYPTO_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#define WG_KEY_LEN 32
/* 43 base64 characters and one '=', without the terminating NUL. */
#define WG_KEY_LEN_BASE64 44
#define WG_KEY_LEN_HEX 64
/* What a key in a file must look like, for messages about one that does not decode. */
#define KEY_BASE64_HELP "expected 44 characters of base64 ending in '=', as `wg genkey` prints"

/*
 * Keys as `wg` writes them: standard base64 of 32 bytes (config files, CLI) and
 * lowercase hex (the userspace API). Decoding is strict and constant-time in the
 * key bytes: a non-canonical encoding is rejected as `wg` rejects it.
 */
void key_to_base64(char out[WG_KEY_LEN_BASE64 + 1], const uint8_t key[WG_KEY_LEN]);
bool key_from_base64(uint8_t key[WG_KEY_LEN], const char *in);
void key_to_hex(char out[WG_KEY_LEN_HEX + 1], const uint8_t key[WG_KEY_LEN]);
bool key_from_hex(uint8_t key[WG_KEY_LEN], const char *in);
/* True when every byte is zero (wg's "no key"); constant time. */
bool key_is_zero(const uint8_t key[WG_KEY_LEN]);

#endif
