/* SPDX-License-Identifier: MIT */
/*
 * VXLAN decap takes whatever a peer sends inside the tunnel. The input is an
 * outer IPv4 packet for a host at 10.0.0.1 with wires from 10.0.0.4 (VNI 2, port
 * 4789) and 10.0.0.9 (VNI 0xabcdef, port 8472). Nothing may crash; a refused packet
 * must come back unchanged; an accepted frame must lie inside the input, and
 * encapsulating it back at the sender and decapsulating again must give it intact.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pkt.h"
#include "vxlan/vxlan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t host[4] = {10, 0, 0, 1}, far_a[4] = {10, 0, 0, 4}, far_b[4] = {10, 0, 0, 9};

struct fuzz_state {
	struct pkt_pool pool;
	struct vx us, a, b;
};

static struct fuzz_state *fuzz_setup(void)
{
	static struct fuzz_state st;
	static int ready;
	struct vx_config cfg = {.hash_seed = 1};

	if (ready)
		return &st;
	memcpy(cfg.local, host, 4);
	if (!pkt_pool_init(&st.pool, 4, PKT_HEADROOM + 65536 + PKT_TAILROOM) ||
	    !vx_init(&st.us, &cfg))
		abort();
	vx_wire_add(&st.us, far_a, 4789, 2);
	vx_wire_add(&st.us, far_b, 8472, 0xabcdef);
	memcpy(cfg.local, far_a, 4);
	if (!vx_init(&st.a, &cfg) || vx_wire_add(&st.a, host, 4789, 2) != 0)
		abort();
	memcpy(cfg.local, far_b, 4);
	cfg.no_udp_csum = true;
	if (!vx_init(&st.b, &cfg) || vx_wire_add(&st.b, host, 8472, 0xabcdef) != 0)
		abort();
	ready = 1;
	return &st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state *st = fuzz_setup();
	struct pkt *p, *q;
	enum vx_drop why = VX_DROP_MAX;
	enum vx_verdict v;
	uint8_t *frame;
	uint32_t flen;

	if (size > 65536)
		return 0;
	p = pkt_alloc(&st->pool);
	memcpy(pkt_put(p, (uint32_t)size), data, size);
	vx_flow_sport(&st->us, data, (uint32_t)size);

	v = vx_decap(&st->us, p, &why);
	switch (v) {
	case VX_DECAP_OK:
		frame = p->data;
		flen = p->len;
		if (flen < 14 || frame < p->head + PKT_HEADROOM ||
		    frame + flen > p->head + PKT_HEADROOM + size || p->port > 1)
			abort();
		/* Back the other way: the sender's encap, our decap, the same frame. */
		q = pkt_alloc(&st->pool);
		memcpy(pkt_put(q, flen), frame, flen);
		if (vx_encap(p->port ? &st->b : &st->a, 0, q, &why) != 0)
			abort();
		if (vx_decap(&st->us, q, &why) != VX_DECAP_OK || q->len != flen ||
		    memcmp(q->data, frame, flen) != 0 || q->port != p->port)
			abort();
		pkt_free(q);
		break;
	case VX_DECAP_PASS:
	case VX_DECAP_DROP:
		if (p->len != size || memcmp(p->data, data, size) != 0)
			abort();
		/* A drop names its reason; a pass names none. */
		if ((v == VX_DECAP_DROP) != ((unsigned)why < VX_DROP_MAX))
			abort();
		break;
	default:
		abort();
	}
	pkt_free(p);
	return 0;
}
