/* SPDX-License-Identifier: MIT */
/* The few rtnetlink requests vwire makes: add an address, delete a link. */
#include "io/tun.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct nl_addr_req {
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	uint8_t attrs[2 * RTA_SPACE(16)];
};

/* Appends one attribute; the buffer is 4-byte aligned like netlink wants. */
static void nl_put_attr(struct nl_addr_req *req, uint16_t type, const void *data, uint16_t len)
{
	struct rtattr rta = {.rta_len = (unsigned short)RTA_LENGTH(len), .rta_type = type};
	uint8_t *at = (uint8_t *)req + NLMSG_ALIGN(req->nh.nlmsg_len);

	memcpy(at, &rta, sizeof(rta));
	memcpy(at + RTA_LENGTH(0), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(rta.rta_len);
}

static int nl_ack(int fd, uint32_t seq)
{
	union {
		struct nlmsghdr nh;
		uint8_t buf[4096];
	} resp;

	for (;;) {
		ssize_t n = recv(fd, resp.buf, sizeof(resp.buf), 0);
		struct nlmsghdr *nh;
		size_t len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (size_t)n;
		for (nh = &resp.nh; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			struct nlmsgerr e;

			if (nh->nlmsg_seq != seq || nh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(e)))
				return -EPROTO;
			memcpy(&e, NLMSG_DATA(nh), sizeof(e));
			return e.error; /* 0 or -errno */
		}
	}
}

/* Sends one request and waits for the kernel's acknowledgement: 0 or -errno. */
static int nl_request(const struct nlmsghdr *req)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		err = -errno;
	else
		err = nl_ack(fd, req->nlmsg_seq);
	close(fd);
	return err;
}

int io_netlink_add_addr(int ifindex, const struct vw_ipaddr *addr, uint8_t prefixlen)
{
	struct nl_addr_req req;
	uint16_t alen;

	if (addr->family == AF_INET)
		alen = 4;
	else if (addr->family == AF_INET6)
		alen = 16;
	else
		return -EAFNOSUPPORT;
	if (prefixlen > alen * 8 || ifindex <= 0)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = addr->family;
	req.ifa.ifa_prefixlen = prefixlen;
	req.ifa.ifa_index = (uint32_t)ifindex;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	/* As `ip addr add`: IFA_LOCAL is ours; IFA_ADDRESS the same unless point-to-point. */
	nl_put_attr(&req, IFA_LOCAL, addr->bytes, alen);
	nl_put_attr(&req, IFA_ADDRESS, addr->bytes, alen);
	return nl_request(&req.nh);
}

int io_netlink_del_link(int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req;

	if (ifindex <= 0)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nh.nlmsg_type = RTM_DELLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	return nl_request(&req.nh);
}
