/* SPDX-License-Identifier: MIT */
/*
 * The message parser: any UDP payload, as it comes off the wire, to both a
 * device waiting for a handshake response and one waiting for initiations,
 * under load and not. Whatever it is, it is classified by type and exact
 * size, dropped and counted or processed, and never crashes or leaks.
 */
#include "fuzz_tunnel.h"

static struct wg_decrypt_jobs rx_jobs;
static struct wg_encrypt_jobs tx_jobs;
static const struct wg_aead_later later = {.seal = &tx_jobs, .open = &rx_jobs};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_node a, b;
	struct vw_endpoint src;
	struct pkt_vec in, out;
	enum wg_message_type type = wg_message_classify(data, size);
	uint64_t total = 0;

	/* Classification agrees with the sizes in the whitepaper. */
	if ((type == WG_MSG_HANDSHAKE_INITIATION && size != WG_INIT_SIZE) ||
	    (type == WG_MSG_HANDSHAKE_RESPONSE && size != WG_RESP_SIZE) ||
	    (type == WG_MSG_HANDSHAKE_COOKIE && size != WG_COOKIE_REPLY_SIZE) ||
	    (type == WG_MSG_DATA && size < WG_DATA_MIN_SIZE))
		abort();
	if (size > 2048)
		return 0;
	if (kd_node_init(&a, fz_pool(), true) || kd_node_init(&b, fz_pool(), false))
		abort();
	pkt_vec_init(&in);
	pkt_vec_init(&out);
	pkt_vec_add(&in, kd_packet(fz_pool(), kat_plaintext, sizeof(kat_plaintext), NULL));
	wg_device_send(&a.dev, &in, KD_NOW, NULL, &out);
	pkt_vec_free(&out);

	kd_endpoint(&src, "192.0.2.2");
	fz_deliver(&a, &src, data, size, false, false, KD_NOW, NULL);
	fz_deliver(&a, &src, data, size, false, true, KD_NOW + 1, NULL);
	kd_endpoint(&src, "192.0.2.1");
	fz_deliver(&b, &src, data, size, false, false, KD_NOW, NULL);
	/* Again with the AEAD and the handshakes left to the caller, as vwired's workers run them.
	 */
	if (wg_handshake_queue_init(&b.dev.handshakes, 8))
		abort();
	fz_deliver(&b, &src, data, size, false, true, KD_NOW + 1, &later);
	/* A payload is one drop at most per delivery, never more. */
	for (int r = 0; r < WG_DROP_MAX; r++)
		total += a.dev.drops[r] + b.dev.drops[r];
	if (total > 4)
		abort();
	wg_device_free(&b.dev);
	fz_finish(&a);
	return 0;
}
