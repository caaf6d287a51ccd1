/* SPDX-License-Identifier: MIT */
/*
 * The 64-byte UDP load of bench/net/run: a sender and a sink that move datagrams in
 * batches (sendmmsg / recvmmsg), so that on a small machine the load generator is not
 * what the figure measures. iperf3 makes one system call per datagram at each end and
 * keeps per-datagram timing; on two cores shared with two data planes its own cost per
 * datagram was as large as the data plane's.
 *
 *   udpblast send ADDR PORT [-t SECONDS] [-l BYTES] [-r KPPS] [-b BATCH] [-w SNDBUF]
 *       datagrams of BYTES (default 64) to ADDR:PORT for SECONDS (default 5), as fast as
 *       the socket takes them, or paced to KPPS thousand per second; prints
 *       "sent PACKETS SECONDS REFUSED CPU" (REFUSED: batches the kernel turned down).
 *   udpblast recv PORT [-i IDLE] [-m MAXWAIT] [-w RCVBUF]
 *       counts datagrams on PORT until IDLE seconds (default 1) pass without one after
 *       the first, or MAXWAIT seconds (default 60) without any; prints
 *       "received PACKETS SECONDS_FIRST_TO_LAST REORDERED BYTES CPU".
 * CPU: the process's user + system seconds, as iperf3 reports its own (the kernel's work
 * in its system calls and in softirqs that ran on its time included).
 *
 * Each datagram starts with a 64-bit sequence number (host order: both ends are the
 * same machine), which the sink uses only to count datagrams that came after a later one.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define MAX_BATCH 256
#define MAX_LEN	  65507

struct batch {
	struct mmsghdr msg[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	uint8_t *data;
	size_t len;
};

static _Noreturn void usage(const char *why)
{
	fprintf(stderr,
		"udpblast: %s\n"
		"usage: udpblast send ADDR PORT [-t SECONDS] [-l BYTES] [-r KPPS] [-b BATCH] [-w "
		"SNDBUF]\n"
		"       udpblast recv PORT [-i IDLE] [-m MAXWAIT] [-w RCVBUF]\n",
		why);
	exit(2);
}

static _Noreturn void fail(const char *what)
{
	fprintf(stderr, "udpblast: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void batch_init(struct batch *b, size_t len)
{
	b->len = len;
	b->data = calloc(MAX_BATCH, len);
	if (!b->data)
		fail("calloc");
	memset(b->msg, 0, sizeof(b->msg));
	for (int i = 0; i < MAX_BATCH; i++) {
		b->iov[i] = (struct iovec){b->data + (size_t)i * len, len};
		b->msg[i].msg_hdr.msg_iov = &b->iov[i];
		b->msg[i].msg_hdr.msg_iovlen = 1;
	}
}

static void set_buffer(int fd, int opt, int bytes)
{
	if (bytes > 0 && setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes)) < 0)
		fail("setsockopt SO_SNDBUF/SO_RCVBUF");
}

/* How many datagrams may go now: all of a batch when flooding, else what the clock owes. */
static int sendable(double elapsed, double rate, uint64_t seq, int batch)
{
	uint64_t due;

	if (rate <= 0)
		return batch;
	due = (uint64_t)(elapsed * rate) + 1;
	if (due <= seq)
		return 0;
	return due - seq > (uint64_t)batch ? batch : (int)(due - seq);
}

static void pace_sleep(double elapsed, double rate, uint64_t seq)
{
	double wait = (double)(seq + 1) / rate - elapsed;
	struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};

	if (wait > 0)
		nanosleep(&ts, NULL);
}

static int blast_send(int argc, char **argv)
{
	double secs = 5, rate = 0, t0, t;
	int batch = 32, sndbuf = 0, fd, opt, n;
	size_t len = 64;
	uint64_t seq = 0, refused = 0;
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *ai;
	static struct batch b;

	if (argc < 4)
		usage("send needs ADDR and PORT");
	optind = 4;
	while ((opt = getopt(argc, argv, "t:l:r:b:w:")) != -1) {
		switch (opt) {
		case 't':
			secs = loadgen_number(optarg, "seconds", 0.1, 3600, usage);
			break;
		case 'l':
			len = (size_t)loadgen_number(optarg, "length", 8, MAX_LEN, usage);
			break;
		case 'r':
			rate = loadgen_number(optarg, "rate (kpps)", 0, 1e5, usage) * 1e3;
			break;
		case 'b':
			batch = (int)loadgen_number(optarg, "batch", 1, MAX_BATCH, usage);
			break;
		case 'w':
			sndbuf = (int)loadgen_number(optarg, "buffer", 0, 1 << 30, usage);
			break;
		default:
			usage("unknown option");
		}
	}
	if (optind != argc)
		usage("too many arguments");
	if (getaddrinfo(argv[2], argv[3], &hints, &ai) != 0)
		usage("ADDR must be a numeric IPv4 or IPv6 address and PORT a number");
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0)
		fail("socket");
	set_buffer(fd, SO_SNDBUF, sndbuf);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		fail("connect");
	freeaddrinfo(ai);
	batch_init(&b, len);

	t0 = t = loadgen_now();
	while (t - t0 < secs) {
		n = sendable(t - t0, rate, seq, batch);
		if (n == 0) {
			pace_sleep(t - t0, rate, seq);
			t = loadgen_now();
			continue;
		}
		for (int i = 0; i < n; i++) {
			uint64_t s = seq + (uint64_t)i;

			memcpy(b.data + (size_t)i * len, &s, sizeof(s));
		}
		n = sendmmsg(fd, b.msg, (unsigned)n, 0);
		if (n < 0) {
			/* A full qdisc or an ICMP error from an earlier datagram: count, go on. */
			if (errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED &&
			    errno != EINTR)
				fail("sendmmsg");
			refused++;
			n = 0;
		}
		seq += (uint64_t)n;
		t = loadgen_now();
	}
	printf("sent %llu %.6f %llu %.3f\n", (unsigned long long)seq, t - t0,
	       (unsigned long long)refused, loadgen_cpu_seconds());
	return 0;
}

static int bind_any(const char *port)
{
	struct addrinfo hints = {.ai_family = AF_INET6,
				 .ai_socktype = SOCK_DGRAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
			*ai;
	int fd, off = 0;

	if (getaddrinfo(NULL, port, &hints, &ai) != 0)
		usage("PORT must be a number");
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		fail("socket");
	/* One socket for IPv4 and IPv6 senders alike. */
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		fail("bind");
	freeaddrinfo(ai);
	return fd;
}

static int blast_recv(int argc, char **argv)
{
	double idle = 1, maxwait = 60, start, first = 0, last = 0, t;
	int rcvbuf = 0, fd, opt, n;
	uint64_t got = 0, reordered = 0, top = 0, bytes = 0;
	struct timeval tv = {0, 100000};
	static struct batch b;

	if (argc < 3)
		usage("recv needs PORT");
	optind = 3;
	while ((opt = getopt(argc, argv, "i:m:w:")) != -1) {
		switch (opt) {
		case 'i':
			idle = loadgen_number(optarg, "idle seconds", 0.1, 3600, usage);
			break;
		case 'm':
			maxwait = loadgen_number(optarg, "wait seconds", 0.1, 3600, usage);
			break;
		case 'w':
			rcvbuf = (int)loadgen_number(optarg, "buffer", 0, 1 << 30, usage);
			break;
		default:
			usage("unknown option");
		}
	}
	if (optind != argc)
		usage("too many arguments");
	fd = bind_any(argv[2]);
	set_buffer(fd, SO_RCVBUF, rcvbuf);
	/* Wake up now and then to notice the idle and wait limits. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		fail("setsockopt SO_RCVTIMEO");
	batch_init(&b, 2048);
	printf("listening\n");
	fflush(stdout);

	start = loadgen_now();
	for (;;) {
		n = recvmmsg(fd, b.msg, MAX_BATCH, MSG_WAITFORONE, NULL);
		t = loadgen_now();
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			fail("recvmmsg");
		for (int i = 0; i < n; i++) {
			uint64_t s;

			bytes += b.msg[i].msg_len;
			if (b.msg[i].msg_len < sizeof(s))
				continue;
			memcpy(&s, b.data + (size_t)i * b.len, sizeof(s));
			if (got > 0 && s < top)
				reordered++;
			else
				top = s;
			if (got++ == 0)
				first = t;
		}
		if (n > 0)
			last = t;
		if (got > 0 ? t - last >= idle : t - start >= maxwait)
			break;
	}
	printf("received %llu %.6f %llu %llu %.3f\n", (unsigned long long)got, last - first,
	       (unsigned long long)reordered, (unsigned long long)bytes, loadgen_cpu_seconds());
	return got > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "send") == 0)
		return blast_send(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "recv") == 0)
		return blast_recv(argc, argv);
	usage("first argument: send or recv");
}
