/* SPDX-License-Identifier: MIT */
/*
 * What a full 1514-byte frame costs on a wire: out, VXLAN encap + IPv4 fragmentation
 * to 1420 (1420 + 150); in, reassembly of those two fragments + decap. With and
 * without the outer UDP checksum (the kernel's default is with). Single frames and
 * batches of 32 (reported per frame). The "copy" line is the harness's cost of putting
 * the two fragments into fresh buffers with a new IP ID, which the "in" lines include.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/byteorder.h"
#include "core/csum.h"
#include "core/pkt.h"
#include "vxlan/ipfrag.h"
#include "vxlan/vxlan.h"

#define FRAME 1514
#define BATCH 32

struct side {
	struct vx vx;
	struct ipfrag frag;
};

static struct pkt_pool pool;
static struct side tx, rx;
static uint8_t frame[FRAME], frag1[1420], frag2[150];
static uint32_t len1, len2;
static uint16_t ip_id;

static void die(const char *what)
{
	fprintf(stderr, "bench_vxlan: %s\n", what);
	exit(1);
}

static void side_init(struct side *s, const uint8_t local[4], const uint8_t remote[4], bool csum)
{
	struct vx_config vc = {.hash_seed = 42, .no_udp_csum = !csum};
	struct ipfrag_config fc = {.hash_seed = 43};

	memcpy(vc.local, local, 4);
	if (!vx_init(&s->vx, &vc) || vx_wire_add(&s->vx, remote, 4789, 2) != 0 ||
	    !ipfrag_init(&s->frag, &fc))
		die("init");
}

static void side_destroy(struct side *s)
{
	vx_destroy(&s->vx);
	ipfrag_destroy(&s->frag);
}

/* A frame as a TAP read leaves it: data at PKT_HEADROOM. */
static struct pkt *frame_pkt(void)
{
	struct pkt *p = pkt_alloc(&pool);

	if (!p)
		die("pool empty");
	memcpy(pkt_put(p, FRAME), frame, FRAME);
	return p;
}

/* Out: encap + fragment; the fragments are freed (a send would take them). */
static void out_one(struct pkt *p)
{
	struct pkt_vec v;
	enum vx_drop why;

	pkt_vec_init(&v);
	/* The buffer keeps the frame bytes: only the headroom and the trim change. */
	pkt_reset(p, PKT_HEADROOM);
	p->len = FRAME;
	if (vx_encap(&tx.vx, 0, p, &why) || ipfrag_fragment(&tx.frag, p, &pool, &v) != 2)
		die("out");
	pkt_free(v.p[1]);
}

/* A fresh ID for the next datagram, or the table would see duplicates of one datagram. */
static void next_id(void)
{
	ip_id++;
	for (int i = 0; i < 2; i++) {
		uint8_t *h = i ? frag2 : frag1;

		put_be16(h + 4, ip_id);
		put_be16(h + 10, 0);
		put_be16(h + 10, csum_ipv4_header(h, 20));
	}
}

static struct pkt *copy_in(const uint8_t *b, uint32_t n)
{
	struct pkt *p = pkt_alloc(&pool);

	memcpy(pkt_put(p, n), b, n);
	return p;
}

/* In: the two fragments arrive (copied into buffers), reassembly, decap. */
static void in_one(void)
{
	struct pkt *p;
	enum vx_drop why;

	next_id();
	if (ipfrag_reassemble(&rx.frag, copy_in(frag1, len1), 0))
		die("early");
	p = ipfrag_reassemble(&rx.frag, copy_in(frag2, len2), 0);
	if (!p || vx_decap(&rx.vx, p, &why) != VX_DECAP_OK || p->len != FRAME)
		die("in");
	pkt_free(p);
}

static void make_fragments(void)
{
	struct pkt *p = frame_pkt();
	struct pkt_vec v;
	enum vx_drop why;

	pkt_vec_init(&v);
	if (vx_encap(&tx.vx, 0, p, &why) || ipfrag_fragment(&tx.frag, p, &pool, &v) != 2)
		die("fragments");
	len1 = v.p[0]->len;
	len2 = v.p[1]->len;
	memcpy(frag1, v.p[0]->data, len1);
	memcpy(frag2, v.p[1]->data, len2);
	pkt_vec_free(&v);
}

static void bench_side(bool csum)
{
	static const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 4};
	struct pkt *p = frame_pkt(), *batch[BATCH];
	char name[80];
	const char *tag = csum ? "udp csum" : "no csum";

	side_init(&tx, a, b, csum);
	side_init(&rx, b, a, csum);
	make_fragments();
	if (csum) {
		BENCH("copy: two fragments into buffers, new ID", FRAME, {
			next_id();
			pkt_free(copy_in(frag1, len1));
			pkt_free(copy_in(frag2, len2));
		});
	}

	snprintf(name, sizeof(name), "out: encap+fragment 1514 B (%s)", tag);
	BENCH(name, FRAME, out_one(p));
	snprintf(name, sizeof(name), "in: reassemble+decap 1514 B (%s)", tag);
	BENCH(name, FRAME, in_one());

	for (int i = 0; i < BATCH; i++)
		batch[i] = frame_pkt();
	snprintf(name, sizeof(name), "out: batch of %d, per frame (%s)", BATCH, tag);
	{
		uint64_t t0 = bench_now_ns(), n = 0;

		while (bench_now_ns() - t0 < BENCH_MIN_NS) {
			struct pkt_vec in, mid, out;

			pkt_vec_init(&in);
			pkt_vec_init(&mid);
			for (int i = 0; i < BATCH; i++) {
				pkt_reset(batch[i], PKT_HEADROOM);
				batch[i]->len = FRAME;
				batch[i]->port = 0;
				pkt_vec_add(&in, batch[i]);
			}
			vx_encap_batch(&tx.vx, &in, &mid);
			while (mid.n) {
				pkt_vec_init(&out);
				ipfrag_fragment_batch(&tx.frag, &mid, &pool, &out);
				/* Keep the firsts (the batch's own buffers), free the rest. */
				for (uint32_t i = 0; i < out.n; i++)
					if (get_be16(out.p[i]->data + 6) & 0x1fff)
						pkt_free(out.p[i]);
			}
			n += BATCH;
		}
		bench_report(name, n, bench_now_ns() - t0, FRAME);
	}
	snprintf(name, sizeof(name), "in: batch of %d, per frame (%s)", BATCH, tag);
	{
		uint64_t t0 = bench_now_ns(), n = 0;

		while (bench_now_ns() - t0 < BENCH_MIN_NS) {
			struct pkt_vec in, whole, frames, pass;

			pkt_vec_init(&in);
			pkt_vec_init(&whole);
			pkt_vec_init(&frames);
			pkt_vec_init(&pass);
			for (int i = 0; i < BATCH; i++) {
				next_id();
				pkt_vec_add(&in, copy_in(frag1, len1));
				pkt_vec_add(&in, copy_in(frag2, len2));
			}
			ipfrag_reassemble_batch(&rx.frag, &in, &whole, 0);
			vx_decap_batch(&rx.vx, &whole, &frames, &pass);
			if (frames.n != BATCH)
				die("in batch");
			pkt_vec_free(&frames);
			n += BATCH;
		}
		bench_report(name, n, bench_now_ns() - t0, FRAME);
	}
	for (int i = 0; i < BATCH; i++)
		pkt_free(batch[i]);
	pkt_free(p);
	side_destroy(&tx);
	side_destroy(&rx);
}

int main(void)
{
	if (!pkt_pool_init(&pool, 256, PKT_DEFAULT_SIZE))
		die("pool");
	for (int i = 0; i < FRAME; i++)
		frame[i] = (uint8_t)(i * 7);
	memcpy(frame, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00\x45\x00\x05\xdc", 18);
	frame[14 + 9] = 17;
	bench_side(true);
	bench_side(false);
	if (pool.nfree != pool.count)
		die("leak");
	pkt_pool_destroy(&pool);
	return 0;
}
