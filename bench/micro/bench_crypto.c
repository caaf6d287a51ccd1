/* SPDX-License-Identifier: MIT */
/*
 * Throughput of the primitives every packet and handshake pays for: BLAKE2s
 * (hash and HMAC), ChaCha20-Poly1305 seal and open in place, X25519.
 * ChaCha20-Poly1305 at 1420 bytes on one core is the bound for the data path.
 * The batch lines seal and open 64 messages per op, next to the same 64 one by one:
 * 96 bytes is a 64-byte UDP payload in IPv4/UDP padded to 16, 1440 a full-size one.
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

#define NBATCH	 64
#define BATCH_SZ (1440 + AEAD_TAG_SIZE)

static uint8_t batch_buf[NBATCH][BATCH_SZ], batch_ct[NBATCH][BATCH_SZ];

static int bench_batches(const uint8_t key[32])
{
	static const uint32_t blens[] = {96, 1440};
	struct aead_msg m[NBATCH];
	char name[64];

	for (size_t b = 0; b < 2; b++) {
		uint32_t len = blens[b];
		uint64_t bytes = (uint64_t)NBATCH * len;

		for (size_t i = 0; i < NBATCH; i++)
			m[i] = (struct aead_msg){
				.data = batch_buf[i], .len = len, .counter = i, .key = key};
		snprintf(name, sizeof(name), "seal %d x %u B one by one", NBATCH, len);
		BENCH(name, bytes, {
			for (size_t i = 0; i < NBATCH; i++)
				aead_encrypt(batch_buf[i], batch_buf[i], len, NULL, 0, i, key);
		});
		snprintf(name, sizeof(name), "aead_seal_batch %d x %u B", NBATCH, len);
		BENCH(name, bytes, { aead_seal_batch(m, NBATCH); });

		for (size_t i = 0; i < NBATCH; i++)
			aead_encrypt(batch_ct[i], batch_buf[i], len, NULL, 0, i, key);
		/* Both open fresh copies: a batch whose tags fail skips the decryption. */
		snprintf(name, sizeof(name), "open %d x %u B one by one (+copy)", NBATCH, len);
		BENCH(name, bytes, {
			for (size_t i = 0; i < NBATCH; i++) {
				memcpy(batch_buf[i], batch_ct[i], len + AEAD_TAG_SIZE);
				if (!aead_decrypt(batch_buf[i], batch_buf[i], len + AEAD_TAG_SIZE,
						  NULL, 0, i, key))
					return 1;
			}
		});
		snprintf(name, sizeof(name), "aead_open_batch %d x %u B (+copy)", NBATCH, len);
		BENCH(name, bytes, {
			for (size_t i = 0; i < NBATCH; i++)
				memcpy(batch_buf[i], batch_ct[i], len + AEAD_TAG_SIZE);
			aead_open_batch(m, NBATCH);
			if (!m[NBATCH - 1].ok)
				return 1;
		});
	}
	return 0;
}

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
	if (bench_batches(key))
		return 1;
	x25519_generate(priv);
	x25519_public(pub, priv);
	BENCH("x25519 shared secret", 0, { if (!x25519(out, priv, pub)) return 1; pub[0] ^= out[1] & 0; });
	BENCH("x25519 public key", 0, { x25519_public(out, priv); priv[1] ^= out[0] & 1; });
	return 0;
}
