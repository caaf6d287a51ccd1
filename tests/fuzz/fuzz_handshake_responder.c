/* SPDX-License-Identifier: MIT */
/*
 * The responder's side of the handshake: records (see fuzz_tunnel.h) arrive
 * at a device that knows the known-answer initiator as a peer, so a seed's
 * valid initiation is consumed and answered, and mutations of it (with mac1
 * fixed up) reach every check of the Noise consumer, the cookie path under
 * load, the rate limiter and the replay and flood rules. Every input runs twice: handled
 * inline, and through a handshake queue in three steps, as vwired's workers do it.
 */
#include "fuzz_tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_node b;
	struct vw_endpoint src;
	uint64_t now;

	if (kd_node_init(&b, fz_pool(), false))
		abort();
	kd_endpoint(&src, "192.0.2.1");
	now = fz_run_records(&b, &src, data, size, KD_NOW);
	fz_expire_all(&b, now);
	fz_finish(&b);

	if (kd_node_init(&b, fz_pool(), false) || wg_handshake_queue_init(&b.dev.handshakes, 8))
		abort();
	now = fz_run_records(&b, &src, data, size, KD_NOW);
	fz_expire_all(&b, now);
	fz_finish(&b);
	return 0;
}
