/* SPDX-License-Identifier: MIT */
/*
 * The virtio_net_hdr in front of every packet of a TUN/TAP with IFF_VNET_HDR: encoded and
 * decoded little endian byte by byte, pushed and pulled on a packet; and where the IP
 * header of an Ethernet frame starts (untagged, one 802.1Q tag, nothing else).
 */
#include "offload_harness.h"

/* ---- vnet header ---- */

static void test_vnet_hdr_codec(void **state)
{
	struct vnet_hdr h = {VNET_HDR_F_NEEDS_CSUM,
			     VNET_HDR_GSO_TCPV6 | VNET_HDR_GSO_ECN,
			     0x0134,
			     0x0564,
			     0x0028,
			     0x0010},
			g;
	/* Little endian on the wire whatever the host (TUNSETVNETLE). */
	const uint8_t want[VNET_HDR_LEN] = {0x01, 0x84, 0x34, 0x01, 0x64,
					    0x05, 0x28, 0x00, 0x10, 0x00};
	struct fixture *fx = *state;
	uint8_t b[VNET_HDR_LEN];
	struct pkt *p;

	vnet_hdr_encode(b, &h);
	assert_memory_equal(b, want, sizeof(want));
	vnet_hdr_decode(b, &g);
	assert_memory_equal(&g, &h, sizeof(h));

	p = pkt_alloc(&fx->pool);
	assert_true(vnet_hdr_push(p, &h));
	assert_int_equal(p->len, VNET_HDR_LEN);
	assert_memory_equal(p->data, want, sizeof(want));
	memcpy(pkt_put(p, 3), "abc", 3);
	memset(&g, 0, sizeof(g));
	assert_true(vnet_hdr_pull(p, &g));
	assert_memory_equal(&g, &h, sizeof(h));
	assert_int_equal(p->len, 3);
	assert_false(vnet_hdr_pull(p, &g));
	assert_int_equal(p->len, 3);
	/* No headroom left: refused, nothing changed. */
	pkt_reset(p, 4);
	assert_false(vnet_hdr_push(p, &h));
	assert_int_equal(p->len, 0);
	pkt_free(p);
	assert_string_equal(offload_drop_name(OFFLOAD_DROP_GSO_SIZE), "vnet_gso_size");
	assert_null(offload_drop_name(OFFLOAD_DROP_MAX));
}

/* ---- Ethernet frames: where the IP header starts ---- */

static void test_frame_l3_offset(void **state)
{
	struct eth e = eth_make();
	uint8_t b[64] = {0};

	(void)state;
	assert_int_equal(eth_put(&e, ETH_P_IP, b), 14);
	b[14] = 0x45;
	assert_int_equal(offload_eth_l3_offset(b, 34), 14);
	/* The IP version must be there and be the one the ethertype names. */
	assert_int_equal(offload_eth_l3_offset(b, 14), 0);
	assert_int_equal(offload_eth_l3_offset(b, 13), 0);
	assert_int_equal(offload_eth_l3_offset(b, 0), 0);
	b[14] = 0x60;
	assert_int_equal(offload_eth_l3_offset(b, 34), 0);
	eth_put(&e, ETH_P_IPV6, b);
	assert_int_equal(offload_eth_l3_offset(b, 54), 14);
	b[14] = 0x45;
	assert_int_equal(offload_eth_l3_offset(b, 54), 0);
	eth_put(&e, ETH_P_ARP, b);
	assert_int_equal(offload_eth_l3_offset(b, 42), 0);
	put_be16(b + 12, 0x0026); /* an 802.3 length: LLC follows */
	assert_int_equal(offload_eth_l3_offset(b, 60), 0);
	put_be16(b + 12, 0x88a8); /* 802.1ad outer tag: not taken */
	put_be16(b + 16, ETH_P_IP);
	assert_int_equal(offload_eth_l3_offset(b, 60), 0);
	e.vlan = true;
	e.tci = 0x2064;
	eth_put(&e, ETH_P_IP, b);
	b[18] = 0x45;
	assert_int_equal(offload_eth_l3_offset(b, 38), 18);
	assert_int_equal(offload_eth_l3_offset(b, 18), 0);
	assert_int_equal(offload_eth_l3_offset(b, 17), 0);
	eth_put(&e, ETH_P_IPV6, b);
	b[18] = 0x60;
	assert_int_equal(offload_eth_l3_offset(b, 58), 18);
	eth_put(&e, ETH_P_ARP, b);
	assert_int_equal(offload_eth_l3_offset(b, 46), 0);
	/* Two 802.1Q tags: only one is looked through. */
	eth_put(&e, ETH_P_VLAN, b);
	put_be16(b + 18, 0x0065);
	put_be16(b + 20, ETH_P_IP);
	assert_int_equal(offload_eth_l3_offset(b, 60), 0);
}

/* offload_stats_add sums every counter, the drops by reason and the last field included. */
static void test_stats_add(void **state)
{
	struct offload_stats to = {0}, from = {0};

	(void)state;
	for (int i = 0; i < OFFLOAD_DROP_MAX; i++) {
		to.drops[i] = (uint64_t)i;
		from.drops[i] = 100u + (uint64_t)i;
	}
	to.split_in = 1;
	from.split_in = 2;
	from.split_stalls = 7;
	to.gro_chained = 3;
	from.gro_chained = 4;
	to.gro_nomem = UINT64_C(1) << 40;
	from.gro_nomem = 5;
	offload_stats_add(&to, &from);
	for (int i = 0; i < OFFLOAD_DROP_MAX; i++)
		assert_int_equal(to.drops[i], 100u + 2u * (uint64_t)i);
	assert_int_equal(to.split_in, 3);
	assert_int_equal(to.split_stalls, 7);
	assert_int_equal(to.gro_chained, 7);
	assert_int_equal(to.gro_nomem, (UINT64_C(1) << 40) + 5);
	assert_int_equal(to.gro_in, 0);
	assert_int_equal(from.gro_chained, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vnet_hdr_codec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_l3_offset, setup, teardown),
		cmocka_unit_test(test_stats_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
