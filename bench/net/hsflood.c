/* SPDX-License-Identifier: MIT */
/*
 * A flood of WireGuard handshake initiations that a responder cannot turn away cheaply: every
 * message carries a valid mac1 for the responder's public key, so it passes the first check
 * and costs the responder a Diffie-Hellman before the encrypted static fails to open. The rest
 * is random (sender index, ephemeral, encrypted static and timestamp), mac2 is zero: what
 * anyone who knows a server's public key can send without any key of its own.
 *
 *   hsflood ADDR PORT -k PUBKEY [-t SECONDS] [-r RATE] [-n PORTS] [-b BATCH] [-p FIRST]
 *           [-s SRCADDR] [-c] [-l LINGER] [-w SNDBUF] [-v]
 *       -k  the responder's static public key (base64 as wg prints it, or 64 hex digits)
 *       -t  seconds to send (default 5)
 *       -r  initiations per second over all ports, 0 = as fast as possible (default 0)
 *       -n  source UDP ports, one socket each, used in turn (default 1000)
 *       -b  initiations per sendmmsg on one port (default 16)
 *       -p  bind ports FIRST..FIRST+PORTS-1 (default: ports the kernel picks)
 *       -s  bind this local address (default: the one the route picks)
 *       -c  read the sockets and count what comes back: cookie replies (type 3) prove the
 *           responder went "under load"; anything else is counted as other replies
 *       -l  seconds to keep reading after the last send with -c (default 0.5)
 *       -w  SO_SNDBUF of each socket
 *       -v  a human-readable summary on stderr too
 *   prints "sent INITIATIONS SECONDS REFUSED CPU COOKIE_REPLIES OTHER_REPLIES"
 *   (REFUSED: sendmmsg calls the kernel turned down; CPU: user + system seconds).
 *   SIGINT or SIGTERM ends the flood early and still prints the line, so a script can flood
 *   for as long as its own measurements take.
 *
 * mac1 is computed with vwire's own BLAKE2s: libsodium's generichash is BLAKE2b, which is
 * not what WireGuard uses.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "loadgen.h"

#include "crypto/blake2s.h"
#include "crypto/keys.h"
#include "tunnel/messages.h"

#define MAX_BATCH 256
#define MAX_PORTS 60000
#define RX_BATCH  64
#define RX_LEN	  2048

static volatile sig_atomic_t stop;

static const char mac1_label[8] = {'m', 'a', 'c', '1', '-', '-', '-', '-'};

struct sock {
	int fd;
};

struct opts {
	double secs, rate, linger;
	int ports, batch, first_port, sndbuf;
	bool read_replies, verbose;
	const char *src;
};

struct counts {
	uint64_t sent, refused, cookies, other;
};

static _Noreturn void usage(const char *why)
{
	fprintf(stderr,
		"hsflood: %s\n"
		"usage: hsflood ADDR PORT -k PUBKEY [-t SECONDS] [-r RATE] [-n PORTS] [-b BATCH]\n"
		"               [-p FIRST] [-s SRCADDR] [-c] [-l LINGER] [-w SNDBUF] [-v]\n",
		why);
	exit(2);
}

static _Noreturn void fail(const char *what)
{
	fprintf(stderr, "hsflood: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void parse_key(uint8_t key[WG_KEY_LEN], const char *s)
{
	char msg[160];

	if (key_from_base64(key, s) || key_from_hex(key, s))
		return;
	snprintf(msg, sizeof(msg), "bad public key (-k) '%.80s': base64 or hex of 32 bytes", s);
	usage(msg);
}

/* HASH("mac1----" || Spub_r): the key mac1 is made with (whitepaper 5.4.4). */
static void mac1_key_of(uint8_t out[BLAKE2S_HASH_SIZE], const uint8_t pub[WG_KEY_LEN])
{
	struct blake2s_state s;

	blake2s_init(&s, BLAKE2S_HASH_SIZE);
	blake2s_update(&s, mac1_label, sizeof(mac1_label));
	blake2s_update(&s, pub, WG_KEY_LEN);
	blake2s_final(&s, out);
}

/*
 * Fills n initiations: random bytes first, in one call for the whole batch, then the fixed
 * header and the macs written over them.
 */
static void make_initiations(uint8_t *data, int n, const uint8_t mac1_key[BLAKE2S_HASH_SIZE])
{
	randombytes_buf(data, (size_t)n * WG_INIT_SIZE);
	for (int i = 0; i < n; i++) {
		uint8_t *m = data + (size_t)i * WG_INIT_SIZE;

		wg_message_put_type(m, WG_MSG_HANDSHAKE_INITIATION);
		blake2s(m + WG_INIT_OFF_MAC1, WG_MAC_LEN, m, WG_INIT_OFF_MAC1, mac1_key,
			BLAKE2S_HASH_SIZE);
		memset(m + WG_INIT_OFF_MAC2, 0, WG_MAC_LEN);
	}
}

static void raise_fd_limit(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static struct sock *open_sockets(const struct opts *o, const char *addr, const char *port, int epfd)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *dst,
			*src = NULL;
	struct sock *s = calloc((size_t)o->ports, sizeof(*s));
	char pbuf[16];

	if (!s)
		fail("calloc");
	if (getaddrinfo(addr, port, &hints, &dst) != 0)
		usage("ADDR must be a numeric IPv4 or IPv6 address and PORT a number");
	hints.ai_family = dst->ai_family;
	hints.ai_flags |= AI_PASSIVE;
	raise_fd_limit(o->ports + 64);
	for (int i = 0; i < o->ports; i++) {
		int fd = socket(dst->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			fail("socket (raise the open files limit for many ports)");
		if (o->sndbuf > 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof(o->sndbuf)) < 0)
			fail("setsockopt SO_SNDBUF");
		if (o->src || o->first_port) {
			snprintf(pbuf, sizeof(pbuf), "%d", o->first_port ? o->first_port + i : 0);
			if (getaddrinfo(o->src, pbuf, &hints, &src) != 0)
				usage("bad source address (-s): numeric, of ADDR's family");
			if (bind(fd, src->ai_addr, src->ai_addrlen) < 0)
				fail("bind");
			freeaddrinfo(src);
		}
		/* Connected: no address per message, and every socket gets its own port now. */
		if (connect(fd, dst->ai_addr, dst->ai_addrlen) < 0)
			fail("connect");
		if (epfd >= 0) {
			struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

			if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
				fail("epoll_ctl");
		}
		s[i].fd = fd;
	}
	freeaddrinfo(dst);
	return s;
}

struct rx {
	struct mmsghdr msg[RX_BATCH];
	struct iovec iov[RX_BATCH];
	uint8_t buf[RX_BATCH][RX_LEN];
};

static void drain(int fd, struct rx *rx, struct counts *c)
{
	for (;;) {
		int n = recvmmsg(fd, rx->msg, RX_BATCH, MSG_DONTWAIT, NULL);

		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			const uint8_t *m = rx->buf[i];

			if (wg_message_classify(m, rx->msg[i].msg_len) == WG_MSG_HANDSHAKE_COOKIE)
				c->cookies++;
			else
				c->other++;
		}
	}
}

/* Reads whatever is waiting on any socket, waiting up to timeout_ms for the first. */
static void read_replies(int epfd, const struct sock *s, struct rx *rx, struct counts *c,
			 int timeout_ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(epfd, ev, 64, timeout_ms);

	for (int i = 0; i < n; i++)
		drain(s[ev[i].data.u32].fd, rx, c);
}

/* How many initiations may go now: a whole batch when flooding, else what the clock owes. */
static int sendable(double elapsed, double rate, uint64_t sent, int batch)
{
	uint64_t due;

	if (rate <= 0)
		return batch;
	due = (uint64_t)(elapsed * rate) + 1;
	if (due <= sent)
		return 0;
	return due - sent > (uint64_t)batch ? batch : (int)(due - sent);
}

static void flood(const struct opts *o, const struct sock *s, int epfd,
		  const uint8_t mac1_key[BLAKE2S_HASH_SIZE], struct counts *c, double *secs)
{
	static struct mmsghdr msg[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static uint8_t data[MAX_BATCH * WG_INIT_SIZE];
	static struct rx rx;
	double t0, t;
	int next = 0;

	for (int i = 0; i < MAX_BATCH; i++) {
		iov[i] = (struct iovec){data + (size_t)i * WG_INIT_SIZE, WG_INIT_SIZE};
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	for (int i = 0; i < RX_BATCH; i++) {
		rx.iov[i] = (struct iovec){rx.buf[i], RX_LEN};
		rx.msg[i].msg_hdr.msg_iov = &rx.iov[i];
		rx.msg[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = t = loadgen_now();
	while (t - t0 < o->secs && !stop) {
		int n = sendable(t - t0, o->rate, c->sent, o->batch);

		if (n == 0) {
			double wait = (double)(c->sent + 1) / o->rate - (t - t0);

			/* epoll_wait sleeps whole milliseconds: the rest is slept apart. */
			if (epfd >= 0) {
				read_replies(epfd, s, &rx, c, wait > 0 ? (int)(wait * 1e3) : 0);
				wait = (double)(c->sent + 1) / o->rate - (loadgen_now() - t0);
			}
			if (wait > 0) {
				struct timespec ts = {(time_t)wait,
						      (long)((wait - (double)(time_t)wait) * 1e9)};

				nanosleep(&ts, NULL);
			}
			t = loadgen_now();
			continue;
		}
		make_initiations(data, n, mac1_key);
		n = sendmmsg(s[next].fd, msg, (unsigned)n, 0);
		if (n < 0) {
			/* A full qdisc, or an ICMP error for an earlier datagram: count, go on. */
			if (errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED &&
			    errno != EINTR)
				fail("sendmmsg");
			c->refused++;
			n = 0;
		}
		c->sent += (uint64_t)n;
		/* The next port in turn: the responder sees o->ports sources taking turns. */
		if (++next == o->ports)
			next = 0;
		if (epfd >= 0 && next % 16 == 0)
			read_replies(epfd, s, &rx, c, 0);
		t = loadgen_now();
	}
	*secs = t - t0;
	if (epfd >= 0) {
		double end = loadgen_now() + o->linger;

		while ((t = loadgen_now()) < end && !stop)
			read_replies(epfd, s, &rx, c, (int)((end - t) * 1e3) + 1);
	}
}

int main(int argc, char **argv)
{
	struct opts o = {.secs = 5, .linger = 0.5, .ports = 1000, .batch = 16};
	uint8_t pub[WG_KEY_LEN], mac1_key[BLAKE2S_HASH_SIZE];
	struct sigaction sa = {.sa_handler = on_signal};
	struct counts c = {0};
	bool have_key = false;
	struct sock *s;
	double secs, cpu;
	int opt, epfd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		usage("a flood of handshake initiations with a valid mac1");
	if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-')
		usage("needs ADDR and PORT first");
	optind = 3;
	while ((opt = getopt(argc, argv, "k:t:r:n:b:p:s:cl:w:v")) != -1) {
		switch (opt) {
		case 'k':
			parse_key(pub, optarg);
			have_key = true;
			break;
		case 't':
			o.secs = loadgen_number(optarg, "seconds (-t)", 0.01, 86400, usage);
			break;
		case 'r':
			o.rate = loadgen_number(optarg, "rate (-r)", 0, 1e8, usage);
			break;
		case 'n':
			o.ports = (int)loadgen_number(optarg, "ports (-n)", 1, MAX_PORTS, usage);
			break;
		case 'b':
			o.batch = (int)loadgen_number(optarg, "batch (-b)", 1, MAX_BATCH, usage);
			break;
		case 'p':
			o.first_port =
				(int)loadgen_number(optarg, "first port (-p)", 1, 65535, usage);
			break;
		case 's':
			o.src = optarg;
			break;
		case 'c':
			o.read_replies = true;
			break;
		case 'l':
			o.linger = loadgen_number(optarg, "linger seconds (-l)", 0, 3600, usage);
			break;
		case 'w':
			o.sndbuf = (int)loadgen_number(optarg, "buffer (-w)", 0, 1 << 30, usage);
			break;
		case 'v':
			o.verbose = true;
			break;
		default:
			usage("unknown option");
		}
	}
	if (optind != argc)
		usage("too many arguments");
	if (!have_key)
		usage("-k PUBKEY (the responder's public key) is required");
	if (o.first_port && o.first_port + o.ports - 1 > 65535)
		usage("bad first port (-p): FIRST + PORTS - 1 is past 65535");
	if (sodium_init() < 0)
		usage("libsodium did not initialise");

	/* No SA_RESTART: a blocked sendmmsg or epoll_wait returns and the loop sees stop. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	mac1_key_of(mac1_key, pub);
	if (o.read_replies) {
		epfd = epoll_create1(EPOLL_CLOEXEC);
		if (epfd < 0)
			fail("epoll_create1");
	}
	s = open_sockets(&o, argv[1], argv[2], epfd);
	flood(&o, s, epfd, mac1_key, &c, &secs);
	cpu = loadgen_cpu_seconds();
	printf("sent %llu %.6f %llu %.3f %llu %llu\n", (unsigned long long)c.sent, secs,
	       (unsigned long long)c.refused, cpu, (unsigned long long)c.cookies,
	       (unsigned long long)c.other);
	if (o.verbose)
		fprintf(stderr,
			"hsflood: %llu initiations in %.2f s (%.0f/s) from %d ports to %s:%s, "
			"%llu sendmmsg refused, CPU %.2f s (%.0f %% of one core); "
			"cookie replies received: %llu%s, other replies: %llu\n",
			(unsigned long long)c.sent, secs, secs > 0 ? (double)c.sent / secs : 0,
			o.ports, argv[1], argv[2], (unsigned long long)c.refused, cpu,
			secs > 0 ? 100 * cpu / secs : 0, (unsigned long long)c.cookies,
			o.read_replies ? "" : " (not read: -c)", (unsigned long long)c.other);
	for (int i = 0; i < o.ports; i++)
		close(s[i].fd);
	free(s);
	return 0;
}
