/* SPDX-License-Identifier: MIT */
#ifndef VW_FUZZ_TUNNEL_H
#define VW_FUZZ_TUNNEL_H

/*
 * Shared by the tunnel fuzz targets. An input is a sequence of records
 *   u8 flags, u16 little-endian length, length bytes (a UDP payload)
 * delivered one by one to a device with the known-answer keys
 * (../unit/kat_devices.h). flags: bit 0 recompute mac1 (and mac2, if a cookie
 * is held) for the receiving device, so mutations get past the MAC check into
 * the Noise code; bit 1 the receiver is under load; bits 2-7 advance the
 * clock by that many 100 ms steps first. Every buffer must come back to the
 * pool after each input: a leak aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "../unit/kat_devices.h"
#include "tunnel/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline struct pkt_pool *fz_pool(void)
{
	static struct pkt_pool pool;
	static bool ready;

	if (!ready) {
		if (!pkt_pool_init(&pool, 256, PKT_DEFAULT_SIZE))
			abort();
		ready = true;
	}
	return &pool;
}

static inline void fz_free_outputs(struct pkt_vec *a, struct pkt_vec *b)
{
	pkt_vec_free(a);
	pkt_vec_free(b);
}

/* Deferred encryption points into the outputs: done before they are freed. */
static inline void fz_seal(const struct wg_aead_later *later)
{
	if (later && later->seal)
		wg_encrypt_jobs_run(later->seal);
}

/* A device with a handshake queue: its handshakes taken, run and finished as vwired does. */
static inline void fz_handshakes(struct kd_node *dst, uint64_t now,
				 const struct wg_aead_later *later)
{
	static struct wg_handshake_jobs jobs;
	struct pkt_vec out, none;

	pkt_vec_init(&none);
	while (wg_device_handshakes_queued(&dst->dev)) {
		pkt_vec_init(&out);
		wg_device_handshakes_take(&dst->dev, &jobs, now, &out);
		fz_free_outputs(&out, &none);
		wg_handshake_jobs_run(&jobs);
		while (jobs.n) {
			wg_device_handshakes_finish(&dst->dev, &jobs, now, later, &out);
			fz_seal(later);
			fz_free_outputs(&out, &none);
		}
	}
}

/*
 * Delivers one payload to dst from src at now, the AEAD left to later's lists if given
 * (as vwired's workers leave it); outputs are dropped.
 */
static inline void fz_deliver(struct kd_node *dst, const struct vw_endpoint *src,
			      const uint8_t *msg, size_t len, bool fix_mac1, bool under_load,
			      uint64_t now, const struct wg_aead_later *later)
{
	struct pkt_vec in, out_udp, out_ip;
	struct pkt *p = kd_packet(fz_pool(), msg, len, src);

	if (!p)
		return;
	if (fix_mac1 && len >= WG_MACS_SIZE) {
		struct wg_cookie ck;

		/* The sender's view of the receiver's keys: mac1 over our public key. */
		wg_cookie_init(&ck, dst->dev.static_identity.static_public);
		wg_cookie_add_macs(&ck, p->data, p->len, now);
	}
	pkt_vec_init(&in);
	pkt_vec_init(&out_udp);
	pkt_vec_init(&out_ip);
	pkt_vec_add(&in, p);
	while (in.n) {
		wg_device_receive(&dst->dev, &in, now, under_load, later, &out_udp, &out_ip);
		fz_seal(later);
		fz_free_outputs(&out_udp, &out_ip);
	}
	fz_handshakes(dst, now, later);
	/* With deferred decryption: open, then finish what was recorded. */
	if (later && later->open) {
		wg_decrypt_jobs_run(later->open);
		while (later->open->n) {
			wg_device_receive_decrypted(&dst->dev, later, now, &out_udp, &out_ip);
			fz_seal(later);
			fz_free_outputs(&out_udp, &out_ip);
		}
	}
}

/* Runs the records of data against dst; returns the final clock. */
static inline uint64_t fz_run_records(struct kd_node *dst, const struct vw_endpoint *src,
				      const uint8_t *data, size_t size, uint64_t now)
{
	while (size >= 3) {
		uint8_t flags = data[0];
		size_t len = get_le16(data + 1);

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		now += (uint64_t)(flags >> 2) * 100000000ULL;
		fz_deliver(dst, src, data, len, flags & 1, flags & 2, now, NULL);
		data += len;
		size -= len;
	}
	return now;
}

/* Lets every timer run (retries, keepalives, zeroing) and drops what they send. */
static inline void fz_expire_all(struct kd_node *n, uint64_t now)
{
	struct pkt_vec out;

	for (int i = 0; i < 64; i++) {
		uint64_t t = wg_device_next_timer(&n->dev);

		if (t == UINT64_MAX)
			break;
		if (t > now)
			now = t;
		pkt_vec_init(&out);
		wg_device_expire_timers(&n->dev, now, NULL, &out);
		pkt_vec_free(&out);
	}
}

static inline void fz_finish(struct kd_node *n)
{
	wg_device_free(&n->dev);
	if (fz_pool()->nfree != fz_pool()->count)
		abort();
}

#endif
