/* SPDX-License-Identifier: MIT */
/*
 * The initiator's side: a device that has just sent the known-answer
 * initiation (a staged packet waits for the session) receives the records
 * (see fuzz_tunnel.h): responses, cookie replies, data. A seed's valid
 * response completes the handshake and releases the staged packet; mutations
 * (with mac1 fixed up) reach the response consumer, cookie decryption and
 * the session start.
 */
#include "fuzz_tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_node a;
	struct vw_endpoint src;
	struct pkt_vec in, out;
	uint64_t now;

	if (kd_node_init(&a, fz_pool(), true))
		abort();
	pkt_vec_init(&in);
	pkt_vec_init(&out);
	pkt_vec_add(&in, kd_packet(fz_pool(), kat_plaintext, sizeof(kat_plaintext), NULL));
	wg_device_send(&a.dev, &in, KD_NOW, NULL, &out);
	/* The seeds rely on this: it is the vectors' initiation. */
	if (out.n != 1 || memcmp(out.p[0]->data, kat_initiation_nopsk, WG_INIT_SIZE))
		abort();
	pkt_vec_free(&out);
	kd_endpoint(&src, "192.0.2.2");
	now = fz_run_records(&a, &src, data, size, KD_NOW);
	fz_expire_all(&a, now);
	fz_finish(&a);
	return 0;
}
