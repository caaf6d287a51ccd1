/* SPDX-License-Identifier: MIT */
#include "x25519.h"

#include <sodium.h>
#include <string.h>

#include "crypto.h"

void x25519_clamp(uint8_t key[X25519_KEY_SIZE])
{
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
}

void x25519_generate(uint8_t priv[X25519_KEY_SIZE])
{
	crypto_random(priv, X25519_KEY_SIZE);
	x25519_clamp(priv);
}

void x25519_public(uint8_t pub[X25519_KEY_SIZE], const uint8_t priv[X25519_KEY_SIZE])
{
	crypto_scalarmult_curve25519_base(pub, priv);
}

bool x25519(uint8_t out[X25519_KEY_SIZE], const uint8_t priv[X25519_KEY_SIZE],
	    const uint8_t pub[X25519_KEY_SIZE])
{
	/*
	 * libsodium refuses (returns -1) when the result is all zeros, i.e. the peer
	 * sent a low-order point; WireGuard must refuse that handshake too.
	 */
	if (crypto_scalarmult_curve25519(out, priv, pub) != 0) {
		crypto_wipe(out, X25519_KEY_SIZE);
		return false;
	}
	return true;
}
