/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_X25519_H
#define VW_CRYPTO_X25519_H

#include <stdbool.h>
#include <stdint.h>

#define X25519_KEY_SIZE 32

/* Clamps a private key as RFC 7748 and `wg genkey` do. */
void x25519_clamp(uint8_t key[X25519_KEY_SIZE]);
/* A fresh random, clamped private key. */
void x25519_generate(uint8_t priv[X25519_KEY_SIZE]);
/* The public key of a private key (clamped internally, like `wg pubkey`). */
void x25519_public(uint8_t pub[X25519_KEY_SIZE], const uint8_t priv[X25519_KEY_SIZE]);
/*
 * The whitepaper's DH(priv, pub). False when the shared secret is all zeros (a
 * low-order public key): the handshake must be refused, out is zeroed.
 */
bool x25519(uint8_t out[X25519_KEY_SIZE], const uint8_t priv[X25519_KEY_SIZE],
	    const uint8_t pub[X25519_KEY_SIZE]);

#endif
