/* SPDX-License-Identifier: MIT */
/*
 * Throughput of the primitives every packet and handshake pays for: BLAKE2s
 * (hash and HMAC), ChaCha20-Poly1305 seal and open in place, X25519.
 * ChaCha20-Poly1305 at 1420 bytes on one core is the bound for the data path.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/crypto.h"
#include "crypto/kdf.h"
#include "crypto/x25519.h"

static const size_t sizes[] = { 64, 256, 1420 };

int main(void)
{
	static uint8_t buf[1420 + AEAD_TAG_SIZE];
	uint8_t key[32], out[32], priv[32], pub[32];
	char name[64];

	if (!crypto_init())
		return 1;
	crypto_random(key, sizeof(key));
	crypto_random(buf, sizeof(buf));

	for (size_t i = 0; i < 3; i++) {
		size_t n = sizes[i];

		snprintf(name, sizeof(name), "blake2s-256 %zu B", n);
		BENCH(name, n, { blake2s(out, 32, buf, n, NULL, 0); buf[0] ^= out[0]; });
		snprintf(name, sizeof(name), "hmac-blake2s %zu B", n);
		BENCH(name, n, { hmac_blake2s(out, key, 32, buf, n); buf[0] ^= out[0]; });
	}
	for (size_t i = 0; i < 3; i++) {
		size_t n = sizes[i];
		uint64_t ctr = 0;

		snprintf(name, sizeof(name), "chacha20poly1305 seal %zu B", n);
		BENCH(name, n, { aead_encrypt(buf, buf, n, NULL, 0, ctr++, key); });
		aead_encrypt(buf, buf, n, NULL, 0, 7, key);
		snprintf(name, sizeof(name), "chacha20poly1305 open %zu B", n);
		/* Opening fails after the first in-place open; the cost is the same (MAC first). */
		BENCH(name, n, {
			uint8_t c[1420 + AEAD_TAG_SIZE];
			memcpy(c, buf, n + AEAD_TAG_SIZE);
			if (!aead_decrypt(c, c, n + AEAD_TAG_SIZE, NULL, 0, 7, key))
				return 1;
		});
	}
	x25519_generate(priv);
	x25519_public(pub, priv);
	BENCH("x25519 shared secret", 0, { if (!x25519(out, priv, pub)) return 1; pub[0] ^= out[1] & 0; });
	BENCH("x25519 public key", 0, { x25519_public(out, priv); priv[1] ^= out[0] & 1; });
	return 0;
}
