/* SPDX-License-Identifier: MIT */
#include "io/io_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for bursts between two iterations; the kernel caps it at rmem_max/wmem_max. */
#define UDP_SOCKBUF (4 << 20)

static void udp_set_buffers(int fd)
{
	int size = UDP_SOCKBUF;

	/* The FORCE variants pass the sysctl cap with CAP_NET_ADMIN; else take what is allowed. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* reuseport: joins the port's SO_REUSEPORT group (set before bind, on every member). */
static int udp_socket6(uint16_t port, bool reuseport)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	int off = 0, on = 1, fd, err;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* PKTINFO: learn the local address each datagram arrived at (replies leave from it). */
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on))) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int udp_socket4(uint16_t port, bool reuseport)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int on = 1, fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on))) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* A bound socket for both families where the host has IPv6, else IPv4 only. */
static int udp_bind(uint16_t port, uint32_t fwmark, bool reuseport, int *family, uint16_t *bound)
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);
	int fd;

	fd = udp_socket6(port, reuseport);
	*family = AF_INET6;
	if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) {
		fd = udp_socket4(port, reuseport);
		*family = AF_INET;
	}
	if (fd < 0)
		return fd;
	if (getsockname(fd, (struct sockaddr *)&sa, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* sin_port and sin6_port sit at the same offset. */
	*bound = ntohs(sa.sin6_port);
	udp_set_buffers(fd);
	if (fwmark)
		setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark));
	return fd;
}

struct io_udp *io_udp_open(struct io_loop *loop, uint16_t port, io_udp_rx_cb cb, void *ctx)
{
	return io_udp_open_shared(loop, port, false, cb, ctx);
}

struct io_udp *io_udp_open_shared(struct io_loop *loop, uint16_t port, bool reuseport,
				  io_udp_rx_cb cb, void *ctx)
{
	struct io_udp *u;
	int fd, err;

	if (!cb) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->reuseport = reuseport;
	fd = udp_bind(port, 0, reuseport, &u->src.family, &u->port);
	if (fd < 0) {
		free(u);
		errno = -fd;
		return NULL;
	}
	u->src.kind = IO_SRC_UDP;
	u->src.fd = fd;
	u->cb = cb;
	u->ctx = ctx;
	err = io_src_open_common(loop, &u->src);
	if (err) {
		close(fd);
		free(u->src.slots);
		free(u);
		errno = -err;
		return NULL;
	}
	return u;
}

int io_udp_enable_gso(struct io_udp *sock)
{
	int size = 1280, off = 0;

	/* Probe: setting a socket-wide segment size works where UDP GSO exists; undo it. */
	if (setsockopt(sock->src.fd, SOL_UDP, UDP_SEGMENT, &size, sizeof(size)))
		return -errno;
	setsockopt(sock->src.fd, SOL_UDP, UDP_SEGMENT, &off, sizeof(off));
	sock->src.gso = true;
	return 0;
}

int io_udp_enable_gro(struct io_udp *sock)
{
	int on = 1;

	if (sock->src.cap < 65535)
		return -EMSGSIZE;
	if (setsockopt(sock->src.fd, SOL_UDP, UDP_GRO, &on, sizeof(on)))
		return -errno;
	sock->src.gro = true;
	return 0;
}

uint16_t io_udp_port(const struct io_udp *sock)
{
	return sock->port;
}

int io_udp_set_port(struct io_udp *sock, uint16_t port)
{
	struct io_loop *loop = sock->src.loop;
	uint16_t bound;
	int fd, family, err;

	if (sock->src.dead)
		return -EBADF;
	if (port && port == sock->port)
		return 0;
	fd = udp_bind(port, sock->fwmark, sock->reuseport, &family, &bound);
	if (fd < 0)
		return fd;
	/* The new socket must coalesce too: the receive buffers are sized for it. */
	if (sock->src.gro) {
		int on = 1;

		setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on));
	}
	err = loop->ops->src_set_fd(loop, &sock->src, fd);
	if (err) {
		close(fd);
		return err;
	}
	sock->src.family = family;
	sock->port = bound;
	return 0;
}

int io_udp_set_fwmark(struct io_udp *sock, uint32_t mark)
{
	if (sock->src.dead)
		return -EBADF;
	if (setsockopt(sock->src.fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)))
		return -errno;
	sock->fwmark = mark;
	return 0;
}

void io_udp_send(struct io_loop *loop, struct io_udp *sock, struct pkt_vec *v)
{
	io_src_send_common(loop, &sock->src, v);
}

void io_udp_send_now(struct io_udp *sock, struct pkt_vec *v)
{
	if (sock->src.dead) {
		sock->src.stats.tx_dropped += v->n;
		pkt_vec_free(v);
		return;
	}
	io_udp_sendmmsg(&sock->src, v);
}

bool io_udp_has_input(const struct io_udp *sock)
{
	int n = 0;

	/* FIONREAD on UDP: the size of the next datagram, 0 when the queue is empty. */
	return !sock->src.dead && ioctl(sock->src.fd, FIONREAD, &n) == 0 && n > 0;
}

const struct io_stats *io_udp_stats(const struct io_udp *sock)
{
	return &sock->src.stats;
}

void io_udp_close(struct io_udp *sock)
{
	if (sock)
		io_src_close_common(&sock->src);
}
