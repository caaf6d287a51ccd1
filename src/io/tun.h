/* SPDX-License-Identifier: MIT */
#ifndef VW_IO_TUN_H
#define VW_IO_TUN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "io/loop.h"

/*
 * TUN (IP packets) and TAP (Ethernet frames) devices, always IFF_NO_PI: a
 * packet's data is exactly the IP packet or the frame.
 *
 * io_tun_open creates the device, which needs CAP_NET_ADMIN, or attaches to an
 * existing persistent one (`ip tuntap add NAME mode tun user U`), which needs
 * nothing but being U. On an attached device an unprivileged process cannot
 * change MTU, flags or addresses: the setters below then log one warning and
 * return 0 (the device's owner is expected to have configured it). Values that
 * are already right are not set again, so a well-prepared device gives no
 * warning at all.
 *
 * Reads are batched like UDP receives (rx_depth in flight, each into a pool
 * packet, delivered as vectors); writes take a vector and free each packet
 * when its write is over.
 */

/*
 * IO_DEV_TUN_VNET: a TUN whose packets carry a 10-byte virtio_net_hdr in front
 * (IFF_VNET_HDR, little-endian), with checksum and TCP segmentation offloads on, so
 * the kernel hands over TCP super-packets of up to 64 KiB and accepts them back
 * (src/offload splits and coalesces). Reads then need buffers of 64 KiB + 10.
 * IO_DEV_TAP_VNET: the same for a TAP; the frames' offsets count from the Ethernet
 * header (and reads need room for it too).
 */
enum io_tun_kind { IO_DEV_TUN, IO_DEV_TAP, IO_DEV_TUN_VNET, IO_DEV_TAP_VNET };

typedef void (*io_tun_rx_cb)(void *ctx, struct io_tun *tun, struct pkt_vec *v);

/*
 * Called once when the device stops working for good: it was deleted (`ip link
 * del`, `wg-quick down`) and reads fail with -EBADFD. Receiving stops; the
 * owner usually shuts down, as wireguard-go does. Without a callback the loop
 * logs one error line.
 */
typedef void (*io_tun_err_cb)(void *ctx, struct io_tun *tun, int err);

/* name may be a template ("vw%d"). NULL with errno set. */
struct io_tun *io_tun_open(struct io_loop *loop, const char *name, enum io_tun_kind kind,
			   io_tun_rx_cb cb, void *ctx);
/*
 * One queue of a multi-queue device (IFF_MULTI_QUEUE): every queue of the device must be
 * opened so, each on its worker's loop, by the same name (the first one creates it, give
 * the others io_tun_name of the first). The kernel spreads flows over the queues and
 * takes writes on any. A device made single-queue refuses it (EINVAL).
 */
struct io_tun *io_tun_open_queue(struct io_loop *loop, const char *name, enum io_tun_kind kind,
				 bool multi_queue, io_tun_rx_cb cb, void *ctx);
const char *io_tun_name(const struct io_tun *tun);
int io_tun_ifindex(const struct io_tun *tun);
/* True when the device was opened as IO_DEV_TUN_VNET and the kernel took the offloads. */
bool io_tun_offloads(const struct io_tun *tun);
/*
 * True when the offloads include UDP segmentation (TUN_F_USO4/6, Linux 6.2+): the
 * device takes UDP_L4 super-packets (and may hand them over, split by src/offload).
 */
bool io_tun_offloads_udp(const struct io_tun *tun);
/* True when the device existed before io_tun_open (persistent, made by someone else). */
bool io_tun_attached(const struct io_tun *tun);
/* 0 on success or when not permitted on an attached device (warned); -errno otherwise. */
int io_tun_set_mtu(struct io_tun *tun, uint32_t mtu);
int io_tun_set_up(struct io_tun *tun);
/* An address already present counts as success. */
int io_tun_add_addr(struct io_tun *tun, const struct vw_ipaddr *addr, uint8_t prefixlen);
/* TAP only: sets the MAC (before the link is up); 0 also when not permitted on an
 * attached device (warned). -errno otherwise. */
int io_tun_set_mac(struct io_tun *tun, const uint8_t mac[6]);
/* TAP only; 0 or -errno. */
int io_tun_get_mac(const struct io_tun *tun, uint8_t mac[6]);
/* Writes each packet (p->data, p->len). Takes every packet. */
void io_tun_write(struct io_loop *loop, struct io_tun *tun, struct pkt_vec *v);
const struct io_stats *io_tun_stats(const struct io_tun *tun);
void io_tun_on_error(struct io_tun *tun, io_tun_err_cb cb, void *ctx);
/* A created (non-persistent) device disappears; an attached one stays. */
void io_tun_close(struct io_tun *tun);

/* By interface name, for any device; 0 or -errno. */
int io_netdev_get_mtu(const char *ifname, uint32_t *mtu);
int io_netdev_set_mtu(const char *ifname, uint32_t mtu);
int io_netdev_get_flags(const char *ifname, uint32_t *flags);
int io_netdev_set_up(const char *ifname);
int io_netdev_get_mac(const char *ifname, uint8_t mac[6]);

/* Netlink RTM_NEWADDR; -EEXIST when the address is already there. 0 or -errno. */
int io_netlink_add_addr(int ifindex, const struct vw_ipaddr *addr, uint8_t prefixlen);
/* Netlink RTM_DELLINK: deletes an interface (a persistent TUN/TAP, ...). 0 or -errno. */
int io_netlink_del_link(int ifindex);

#endif
