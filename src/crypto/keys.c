/* SPDX-License-Identifier: MIT */
#include "keys.h"

#include <string.h>

#include "crypto.h"

/*
 * Base64 without table lookups indexed by secret data: each 6-bit value maps to
 * its character with arithmetic and masks, and back again, so the time taken
 * does not depend on the key (the same care `wg` takes).
 */
static char b64_encode6(unsigned int v)
{
	int x = (int)v;
	int c = x + 'A';

	c += ((25 - x) >> 8) & ('a' - 'A' - 26);
	c += ((51 - x) >> 8) & ('0' - 'a' - 26);
	c += ((61 - x) >> 8) & ('+' - '0' - 10);
	c += ((62 - x) >> 8) & ('/' - '+' - 1);
	return (char)c;
}

/* Returns the 6-bit value of c, or -1 (all bits set) for a non-base64 character. */
static int b64_decode6(unsigned char ch)
{
	int c = ch, ret = -1;

	ret += (((('A' - 1) - c) & (c - ('Z' + 1))) >> 8) & (c - 'A' + 1);
	ret += (((('a' - 1) - c) & (c - ('z' + 1))) >> 8) & (c - 'a' + 26 + 1);
	ret += (((('0' - 1) - c) & (c - ('9' + 1))) >> 8) & (c - '0' + 52 + 1);
	ret += ((('+' - 1 - c) & (c - ('+' + 1))) >> 8) & 63;
	ret += ((('/' - 1 - c) & (c - ('/' + 1))) >> 8) & 64;
	return ret;
}

void key_to_base64(char out[WG_KEY_LEN_BASE64 + 1], const uint8_t key[WG_KEY_LEN])
{
	unsigned int i;

	for (i = 0; i < WG_KEY_LEN / 3; i++) {
		const uint8_t *k = key + 3 * i;

		out[4 * i + 0] = b64_encode6(k[0] >> 2);
		out[4 * i + 1] = b64_encode6(((k[0] << 4) | (k[1] >> 4)) & 63);
		out[4 * i + 2] = b64_encode6(((k[1] << 2) | (k[2] >> 6)) & 63);
		out[4 * i + 3] = b64_encode6(k[2] & 63);
	}
	/* 32 = 10 * 3 + 2: the last group holds two bytes and one '='. */
	out[40] = b64_encode6(key[30] >> 2);
	out[41] = b64_encode6(((key[30] << 4) | (key[31] >> 4)) & 63);
	out[42] = b64_encode6((key[31] << 2) & 63);
	out[43] = '=';
	out[44] = '\0';
}

/*
 * The end of a decode: key gets out only when bad, the OR of every check, is not
 * negative, so a failed decode leaves key as it was; out is wiped either way.
 */
static bool key_decoded(uint8_t key[WG_KEY_LEN], uint8_t out[WG_KEY_LEN], int bad)
{
	bool ok = bad >= 0;

	if (ok)
		memcpy(key, out, WG_KEY_LEN);
	crypto_wipe(out, WG_KEY_LEN);
	return ok;
}

bool key_from_base64(uint8_t key[WG_KEY_LEN], const char *in)
{
	uint8_t out[WG_KEY_LEN];
	int bad = 0;
	int v[4];

	if (strlen(in) != WG_KEY_LEN_BASE64 || in[WG_KEY_LEN_BASE64 - 1] != '=')
		return false;
	for (unsigned int i = 0; i < 11; i++) {
		for (int j = 0; j < 4; j++)
			v[j] = (i == 10 && j == 3) ? 0 : b64_decode6((unsigned char)in[4 * i + j]);
		bad |= v[0] | v[1] | v[2] | v[3];
		/* Masked before shifting: an invalid character is -1, and shifting it is UB. */
		for (int j = 0; j < 4; j++)
			v[j] &= 63;
		out[3 * i] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		out[3 * i + 1] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		if (i < 10)
			out[3 * i + 2] = (uint8_t)(v[2] << 6 | v[3]);
	}
	/* Canonical only: the bits of the last character past the key must be zero. */
	bad |= -(v[2] & 3);
	return key_decoded(key, out, bad);
}

void key_to_hex(char out[WG_KEY_LEN_HEX + 1], const uint8_t key[WG_KEY_LEN])
{
	for (unsigned int i = 0; i < WG_KEY_LEN; i++) {
		unsigned int hi = key[i] >> 4, lo = key[i] & 15;

		/* 87 = 'a' - 10; the mask adds it for nibbles above 9 without a branch. */
		out[2 * i] = (char)(48 + hi + (((9 - (int)hi) >> 8) & 39));
		out[2 * i + 1] = (char)(48 + lo + (((9 - (int)lo) >> 8) & 39));
	}
	out[WG_KEY_LEN_HEX] = '\0';
}

/* Value of a hex digit, or -1 (all bits set); lowercase and uppercase accepted. */
static int hex_decode4(unsigned char ch)
{
	int c = ch, ret = -1;

	ret += (((('0' - 1) - c) & (c - ('9' + 1))) >> 8) & (c - '0' + 1);
	c |= 0x20;
	ret += (((('a' - 1) - c) & (c - ('f' + 1))) >> 8) & (c - 'a' + 10 + 1);
	return ret;
}

bool key_from_hex(uint8_t key[WG_KEY_LEN], const char *in)
{
	uint8_t out[WG_KEY_LEN];
	int bad = 0;

	if (strlen(in) != WG_KEY_LEN_HEX)
		return false;
	for (unsigned int i = 0; i < WG_KEY_LEN; i++) {
		int hi = hex_decode4((unsigned char)in[2 * i]);
		int lo = hex_decode4((unsigned char)in[2 * i + 1]);

		bad |= hi | lo;
		out[i] = (uint8_t)((hi & 15) << 4 | (lo & 15));
	}
	return key_decoded(key, out, bad);
}

bool key_is_zero(const uint8_t key[WG_KEY_LEN])
{
	uint8_t acc = 0;

	for (unsigned int i = 0; i < WG_KEY_LEN; i++)
		acc |= key[i];
	return acc == 0;
}
