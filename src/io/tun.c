/* SPDX-License-Identifier: MIT */
#include "io/io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

/* UDP segmentation offload on TUN/TAP (Linux 6.2); the uapi headers of older systems lack it. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

/*
 * Little-endian virtio_net_hdr (src/offload reads it so on every host), then the
 * offloads: checksums and TSO for IPv4 and IPv6, ECN-marked too, and UDP
 * segmentation where the kernel has it (*uso says so; before 6.2 it answers
 * EINVAL). -1 with errno.
 */
static int tun_enable_offloads(int fd, bool *uso)
{
	int le = 1;
	unsigned long offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	*uso = false;
	if (ioctl(fd, TUNSETVNETLE, &le) && errno != EINVAL)
		return -1;
	if (!ioctl(fd, TUNSETOFFLOAD, offloads | TUN_F_USO4 | TUN_F_USO6)) {
		*uso = true;
		return 0;
	}
	return ioctl(fd, TUNSETOFFLOAD, offloads) ? -1 : 0;
}

static bool tun_kind_is_tap(enum io_tun_kind kind)
{
	return kind == IO_DEV_TAP || kind == IO_DEV_TAP_VNET;
}

static bool tun_kind_has_vnet(enum io_tun_kind kind)
{
	return kind == IO_DEV_TUN_VNET || kind == IO_DEV_TAP_VNET;
}

struct io_tun *io_tun_open(struct io_loop *loop, const char *name, enum io_tun_kind kind,
			   io_tun_rx_cb cb, void *ctx)
{
	return io_tun_open_queue(loop, name, kind, false, cb, ctx);
}

struct io_tun *io_tun_open_queue(struct io_loop *loop, const char *name, enum io_tun_kind kind,
				 bool multi_queue, io_tun_rx_cb cb, void *ctx)
{
	struct ifreq ifr;
	struct io_tun *t;
	bool existed, uso = false;
	int fd, err;

	if (!cb || !name || !*name) {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(name) >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	/* A persistent device made by someone else: we attach, and may not reconfigure it. */
	existed = !strchr(name, '%') && if_nametoindex(name) != 0;
	/* Nonblocking for epoll, and so that io_uring polls instead of parking io-wq threads. */
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(tun_kind_is_tap(kind) ? IFF_TAP : IFF_TUN) | IFF_NO_PI |
			(tun_kind_has_vnet(kind) ? IFF_VNET_HDR : 0) |
			(multi_queue ? IFF_MULTI_QUEUE : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	if (tun_kind_has_vnet(kind) && tun_enable_offloads(fd, &uso)) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = 0;
	t->ifindex = (int)if_nametoindex(t->name);
	t->kind = kind;
	t->uso = uso;
	t->multi_queue = multi_queue;
	t->attached = existed;
	t->cb = cb;
	t->ctx = ctx;
	t->src.kind = IO_SRC_TUN;
	t->src.fd = fd;
	err = io_src_open_common(loop, &t->src);
	if (err) {
		close(fd);
		free(t->src.slots);
		free(t);
		errno = -err;
		return NULL;
	}
	return t;
}

bool io_tun_offloads(const struct io_tun *tun)
{
	return tun_kind_has_vnet(tun->kind);
}

bool io_tun_offloads_udp(const struct io_tun *tun)
{
	return tun->uso;
}

const char *io_tun_name(const struct io_tun *tun)
{
	return tun->name;
}

int io_tun_ifindex(const struct io_tun *tun)
{
	return tun->ifindex;
}

bool io_tun_attached(const struct io_tun *tun)
{
	return tun->attached;
}

/* EPERM on a device we only attached to is expected when unprivileged. */
static int tun_not_permitted(const struct io_tun *tun, int err, const char *what)
{
	if ((err == -EPERM || err == -EACCES) && tun->attached) {
		vw_warn("%s: not permitted to %s (attached unprivileged): leaving it as it is",
			tun->name, what);
		return 0;
	}
	return err;
}

int io_tun_set_mtu(struct io_tun *tun, uint32_t mtu)
{
	uint32_t cur;
	char what[32];

	if (!io_netdev_get_mtu(tun->name, &cur) && cur == mtu)
		return 0;
	snprintf(what, sizeof(what), "set MTU %u", mtu);
	return tun_not_permitted(tun, io_netdev_set_mtu(tun->name, mtu), what);
}

int io_tun_set_up(struct io_tun *tun)
{
	uint32_t flags;

	if (!io_netdev_get_flags(tun->name, &flags) && (flags & IFF_UP))
		return 0;
	return tun_not_permitted(tun, io_netdev_set_up(tun->name), "bring the link up");
}

int io_tun_add_addr(struct io_tun *tun, const struct vw_ipaddr *addr, uint8_t prefixlen)
{
	int err = io_netlink_add_addr(tun->ifindex, addr, prefixlen);

	if (err == -EEXIST)
		return 0;
	return tun_not_permitted(tun, err, "add an address");
}

int io_tun_get_mac(const struct io_tun *tun, uint8_t mac[6])
{
	if (!tun_kind_is_tap(tun->kind))
		return -EINVAL;
	return io_netdev_get_mac(tun->name, mac);
}

void io_tun_write(struct io_loop *loop, struct io_tun *tun, struct pkt_vec *v)
{
	io_src_send_common(loop, &tun->src, v);
}

const struct io_stats *io_tun_stats(const struct io_tun *tun)
{
	return &tun->src.stats;
}

void io_tun_on_error(struct io_tun *tun, io_tun_err_cb cb, void *ctx)
{
	tun->err_cb = cb;
	tun->err_ctx = ctx;
}

void io_tun_close(struct io_tun *tun)
{
	if (tun)
		io_src_close_common(&tun->src);
}

/* Interface ioctls: any socket will do; AF_UNIX exists even without IP. */
static int netdev_ioctl(unsigned long req, const char *ifname, struct ifreq *ifr)
{
	int fd, err = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	memset(ifr->ifr_name, 0, IFNAMSIZ);
	memcpy(ifr->ifr_name, ifname, strlen(ifname));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, req, ifr))
		err = -errno;
	close(fd);
	return err;
}

int io_netdev_get_mtu(const char *ifname, uint32_t *mtu)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = netdev_ioctl(SIOCGIFMTU, ifname, &ifr);
	if (!err)
		*mtu = (uint32_t)ifr.ifr_mtu;
	return err;
}

int io_netdev_set_mtu(const char *ifname, uint32_t mtu)
{
	struct ifreq ifr;

	if (mtu > 0x7fffffff)
		return -EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	return netdev_ioctl(SIOCSIFMTU, ifname, &ifr);
}

int io_netdev_get_flags(const char *ifname, uint32_t *flags)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = netdev_ioctl(SIOCGIFFLAGS, ifname, &ifr);
	if (!err)
		*flags = (uint16_t)ifr.ifr_flags;
	return err;
}

int io_netdev_set_up(const char *ifname)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = netdev_ioctl(SIOCGIFFLAGS, ifname, &ifr);
	if (err)
		return err;
	ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
	return netdev_ioctl(SIOCSIFFLAGS, ifname, &ifr);
}

int io_tun_set_mac(struct io_tun *tun, const uint8_t mac[6])
{
	struct ifreq ifr;
	uint8_t cur[6];

	if (!tun_kind_is_tap(tun->kind))
		return -EINVAL;
	if (!io_netdev_get_mac(tun->name, cur) && !memcmp(cur, mac, 6))
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return tun_not_permitted(tun, netdev_ioctl(SIOCSIFHWADDR, tun->name, &ifr), "set its MAC");
}

int io_netdev_get_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = netdev_ioctl(SIOCGIFHWADDR, ifname, &ifr);
	if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return err;
}
