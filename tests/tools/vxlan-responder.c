/* SPDX-License-Identifier: MIT */
/*
 * vxlan-responder: the far end of a kernel vxlan device, made of src/vxlan.
 *
 *   vxlan-responder --tun NAME --local A --remote B --vni N --ip C
 *                   [--port 4789] [--mac M] [--mtu 1420] [--seconds S] [--no-udp-csum]
 *
 * Owns TUN NAME (IPv4 packets, no PI header): whatever is routed to it is what the
 * kernel vxlan device sends to its remote A (this tool's tunnel address). It
 * reassembles and decapsulates with src/vxlan, answers ARP for C and ICMP echo to C
 * as a host with MAC M would, and sends the replies back encapsulated (from A to B)
 * and fragmented to --mtu. On SIGTERM/SIGINT or after S seconds it prints key=value
 * lines: its counters, every drop by reason, and what it saw of the kernel's packets
 * (outer TTL, DF, UDP checksum, source ports, fragment sizes).
 *
 * A test tool: it makes its own system calls; the daemon does not work this way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/byteorder.h"
#include "core/csum.h"
#include "core/pkt.h"
#include "vxlan/ipfrag.h"
#include "vxlan/vxlan.h"

#define MAX_SIZES 16

struct observed {
	uint64_t packets, fragments, first_fragments, whole;
	uint64_t df_set, df_clear, csum_zero, csum_nonzero;
	int ttl_min, ttl_max;
	uint32_t sport_min, sport_max;
	uint32_t sizes[MAX_SIZES];
	uint32_t nsizes;
	uint32_t max_len;
};

struct responder {
	int fd;
	uint8_t ip[4];
	uint8_t mac[6];
	uint16_t ip_id;
	struct pkt_pool pool;
	struct vx vx;
	struct ipfrag frag;	 /* outer packets: the tunnel's fragments */
	struct ipfrag host_frag; /* inner datagrams to our address, as the host's IP stack would */
	struct observed rx;
	struct observed tx;
	uint64_t arp_requests, arp_replies, echo_requests, echo_replies, frames_in, frames_other;
	uint64_t inner_fragments;
	uint64_t tun_write_errors, tun_writes, max_frame_in, max_frame_out;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int tun_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		die("/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF");
	return fd;
}

static void observe_size(struct observed *o, uint32_t len)
{
	for (uint32_t i = 0; i < o->nsizes; i++)
		if (o->sizes[i] == len)
			return;
	if (o->nsizes < MAX_SIZES)
		o->sizes[o->nsizes++] = len;
}

/* Notes the outer header of a packet as it crosses the TUN, before any reassembly. */
static void observe(struct observed *o, const uint8_t *ip, uint32_t len)
{
	uint32_t ihl;
	uint16_t frag;

	if (len < 20 || ip[0] >> 4 != 4)
		return;
	ihl = (ip[0] & 15u) * 4;
	frag = get_be16(ip + 6);
	o->packets++;
	if (!o->ttl_min || ip[8] < o->ttl_min)
		o->ttl_min = ip[8];
	if (ip[8] > o->ttl_max)
		o->ttl_max = ip[8];
	if (frag & 0x4000)
		o->df_set++;
	else
		o->df_clear++;
	if (len > o->max_len)
		o->max_len = len;
	if (frag & 0x3fff) {
		o->fragments++;
		observe_size(o, len);
	} else {
		o->whole++;
	}
	if (!(frag & 0x1fff) && ip[9] == 17 && ihl + 8 <= len) {
		uint16_t sport = get_be16(ip + ihl);

		if (frag & 0x2000)
			o->first_fragments++;
		if (get_be16(ip + ihl + 6))
			o->csum_nonzero++;
		else
			o->csum_zero++;
		if (!o->sport_min || sport < o->sport_min)
			o->sport_min = sport;
		if (sport > o->sport_max)
			o->sport_max = sport;
	}
}

/* ARP request for our address: turn the frame around into the reply, in place. */
static bool answer_arp(struct responder *r, struct pkt *p)
{
	uint8_t *f = p->data, *a = f + 14;

	if (p->len < 42 || get_be16(a) != 1 || get_be16(a + 2) != 0x0800 || a[4] != 6 ||
	    a[5] != 4 || get_be16(a + 6) != 1 || memcmp(a + 24, r->ip, 4) != 0)
		return false;
	r->arp_requests++;
	memcpy(f, a + 8, 6);
	memcpy(f + 6, r->mac, 6);
	put_be16(a + 6, 2);
	memcpy(a + 18, a + 8, 10); /* target = the asker */
	memcpy(a + 8, r->mac, 6);
	memcpy(a + 14, r->ip, 4);
	p->len = 42;
	r->arp_replies++;
	return true;
}

/* ICMP echo to our address: the reply, with DF set as Linux sets it on its replies. */
static bool answer_echo(struct responder *r, struct pkt *p)
{
	uint8_t *f = p->data, *ip = f + 14;
	uint32_t ihl, tot;

	if (p->len < 14 + 28 || ip[0] >> 4 != 4)
		return false;
	ihl = (ip[0] & 15u) * 4;
	tot = get_be16(ip + 2);
	if (ihl < 20 || tot < ihl + 8 || 14 + tot > p->len || ip[9] != 1 ||
	    memcmp(ip + 16, r->ip, 4) != 0 || (get_be16(ip + 6) & 0x3fff) || ip[ihl] != 8)
		return false;
	r->echo_requests++;
	memcpy(f, f + 6, 6);
	memcpy(f + 6, r->mac, 6);
	memcpy(ip + 16, ip + 12, 4);
	memcpy(ip + 12, r->ip, 4);
	put_be16(ip + 4, r->ip_id++);
	put_be16(ip + 6, 0x4000);
	ip[8] = 64;
	put_be16(ip + 10, 0);
	put_be16(ip + 10, csum_ipv4_header(ip, ihl));
	ip[ihl] = 0;
	put_be16(ip + ihl + 2, 0);
	put_be16(ip + ihl + 2, csum_fold(csum_partial(ip + ihl, tot - ihl, 0)));
	p->len = 14 + tot;
	r->echo_replies++;
	return true;
}

static void write_out(struct responder *r, struct pkt_vec *v)
{
	for (uint32_t i = 0; i < v->n; i++) {
		struct pkt *p = v->p[i];

		observe(&r->tx, p->data, p->len);
		if (write(r->fd, p->data, p->len) != (ssize_t)p->len)
			r->tun_write_errors++;
		else
			r->tun_writes++;
	}
	pkt_vec_free(v);
}

/*
 * Inner IPv4 fragments (a sender whose path MTU dropped to 1370 fragments its own
 * packets) are put together the way the host's stack would, with a second ipfrag.
 * Returns the frame holding the whole datagram, or NULL while it is incomplete.
 */
static struct pkt *host_reassemble(struct responder *r, struct pkt *p)
{
	uint8_t eth[14];

	if (p->len < 14 + 20 || get_be16(p->data + 12) != 0x0800 ||
	    !(get_be16(p->data + 14 + 6) & 0x3fff))
		return p;
	r->inner_fragments++;
	memcpy(eth, p->data, 14);
	pkt_pull(p, 14);
	p = ipfrag_reassemble(&r->host_frag, p, now_ns());
	if (p)
		memcpy(pkt_push(p, 14), eth, 14);
	return p;
}

static void handle_frames(struct responder *r, struct pkt_vec *frames)
{
	struct pkt_vec replies, out;

	pkt_vec_init(&replies);
	for (uint32_t i = 0; i < frames->n; i++) {
		struct pkt *p = frames->p[i];
		uint16_t type = p->len >= 14 ? get_be16(p->data + 12) : 0;
		bool answered = false;

		r->frames_in++;
		if (p->len > r->max_frame_in)
			r->max_frame_in = p->len;
		p = host_reassemble(r, p);
		if (!p)
			continue;
		if (type == 0x0806)
			answered = answer_arp(r, p);
		else if (type == 0x0800)
			answered = answer_echo(r, p);
		if (!answered) {
			r->frames_other++;
			pkt_free(p);
			continue;
		}
		if (p->len > r->max_frame_out)
			r->max_frame_out = p->len;
		p->port = 0;
		pkt_vec_add(&replies, p);
	}
	frames->n = 0;

	/* Encapsulate, then fragment to the tunnel MTU in as many vectors as it takes. */
	pkt_vec_init(&out);
	vx_encap_batch(&r->vx, &replies, &out);
	while (out.n) {
		struct pkt_vec frags;

		pkt_vec_init(&frags);
		ipfrag_fragment_batch(&r->frag, &out, &r->pool, &frags);
		write_out(r, &frags);
	}
}

static void run_batch(struct responder *r, struct pkt_vec *in)
{
	struct pkt_vec whole, frames, pass;

	pkt_vec_init(&whole);
	pkt_vec_init(&frames);
	pkt_vec_init(&pass);
	for (uint32_t i = 0; i < in->n; i++)
		observe(&r->rx, in->p[i]->data, in->p[i]->len);
	ipfrag_reassemble_batch(&r->frag, in, &whole, now_ns());
	vx_decap_batch(&r->vx, &whole, &frames, &pass);
	pkt_vec_free(&pass); /* not VXLAN for us: a real host would route it */
	handle_frames(r, &frames);
}

static void read_batch(struct responder *r)
{
	struct pkt_vec in;

	pkt_vec_init(&in);
	while (!pkt_vec_full(&in)) {
		struct pkt *p = pkt_alloc(&r->pool);
		ssize_t n;

		if (!p)
			break;
		n = read(r->fd, p->data, pkt_tailroom(p));
		if (n <= 0) {
			pkt_free(p);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("read tun");
			break;
		}
		p->len = (uint32_t)n;
		pkt_vec_add(&in, p);
	}
	if (in.n)
		run_batch(r, &in);
}

static void print_observed(const char *side, const struct observed *o)
{
	printf("%s_packets=%llu\n%s_fragments=%llu\n%s_whole=%llu\n", side,
	       (unsigned long long)o->packets, side, (unsigned long long)o->fragments, side,
	       (unsigned long long)o->whole);
	printf("%s_df_set=%llu\n%s_df_clear=%llu\n", side, (unsigned long long)o->df_set, side,
	       (unsigned long long)o->df_clear);
	printf("%s_udp_csum_zero=%llu\n%s_udp_csum_nonzero=%llu\n", side,
	       (unsigned long long)o->csum_zero, side, (unsigned long long)o->csum_nonzero);
	printf("%s_ttl_min=%d\n%s_ttl_max=%d\n", side, o->ttl_min, side, o->ttl_max);
	printf("%s_sport_min=%u\n%s_sport_max=%u\n%s_max_len=%u\n", side, o->sport_min, side,
	       o->sport_max, side, o->max_len);
	printf("%s_fragment_sizes=", side);
	for (uint32_t i = 0; i < o->nsizes; i++)
		printf("%s%u", i ? "," : "", o->sizes[i]);
	printf("\n");
}

static void print_stats(const struct responder *r)
{
	printf("arp_requests=%llu\narp_replies=%llu\n", (unsigned long long)r->arp_requests,
	       (unsigned long long)r->arp_replies);
	printf("echo_requests=%llu\necho_replies=%llu\n", (unsigned long long)r->echo_requests,
	       (unsigned long long)r->echo_replies);
	printf("inner_fragments=%llu\ninner_reassembled=%llu\n",
	       (unsigned long long)r->inner_fragments,
	       (unsigned long long)r->host_frag.stats.reassembled);
	printf("frames_in=%llu\nframes_other=%llu\nmax_frame_in=%llu\nmax_frame_out=%llu\n",
	       (unsigned long long)r->frames_in, (unsigned long long)r->frames_other,
	       (unsigned long long)r->max_frame_in, (unsigned long long)r->max_frame_out);
	printf("tun_writes=%llu\ntun_write_errors=%llu\n", (unsigned long long)r->tun_writes,
	       (unsigned long long)r->tun_write_errors);
	printf("vx_decap=%llu\nvx_encap=%llu\nvx_passed=%llu\n",
	       (unsigned long long)r->vx.stats.decap_packets,
	       (unsigned long long)r->vx.stats.encap_packets,
	       (unsigned long long)r->vx.stats.passed);
	printf("ipfrag_reassembled=%llu\nipfrag_fragments_in=%llu\nipfrag_fragmented=%llu\n"
	       "ipfrag_fragments_out=%llu\n",
	       (unsigned long long)r->frag.stats.reassembled,
	       (unsigned long long)r->frag.stats.fragments_in,
	       (unsigned long long)r->frag.stats.fragmented,
	       (unsigned long long)r->frag.stats.fragments_out);
	for (int i = 0; i < VX_DROP_MAX; i++)
		printf("vx_drop_%s=%llu\n", vx_drop_name((enum vx_drop)i),
		       (unsigned long long)r->vx.stats.drops[i]);
	for (int i = 0; i < IPFRAG_DROP_MAX; i++)
		printf("ipfrag_drop_%s=%llu\n", ipfrag_drop_name((enum ipfrag_drop)i),
		       (unsigned long long)r->frag.stats.drops[i]);
	print_observed("rx", &r->rx);
	print_observed("tx", &r->tx);
	fflush(stdout);
}

static void parse_ip(const char *s, uint8_t out[4])
{
	if (inet_pton(AF_INET, s, out) != 1) {
		fprintf(stderr, "bad IPv4 address: %s\n", s);
		exit(2);
	}
}

static void parse_mac(const char *s, uint8_t out[6])
{
	unsigned m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "bad MAC: %s\n", s);
		exit(2);
	}
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)m[i];
}

static void usage(void)
{
	fprintf(stderr, "usage: vxlan-responder --tun NAME --local A --remote B --vni N --ip C "
			"[--port P] [--mac M] [--mtu MTU] [--seconds S] [--no-udp-csum]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"tun", required_argument, NULL, 't'},
		{"local", required_argument, NULL, 'l'},
		{"remote", required_argument, NULL, 'r'},
		{"vni", required_argument, NULL, 'v'},
		{"ip", required_argument, NULL, 'i'},
		{"port", required_argument, NULL, 'p'},
		{"mac", required_argument, NULL, 'm'},
		{"mtu", required_argument, NULL, 'u'},
		{"seconds", required_argument, NULL, 's'},
		{"no-udp-csum", no_argument, NULL, 'z'},
		{NULL, 0, NULL, 0},
	};
	static struct responder r;
	struct vx_config vcfg = {0};
	struct ipfrag_config fcfg = {0};
	const char *tun = NULL;
	uint8_t remote[4] = {0};
	uint32_t vni = 0, port = VX_PORT_DEFAULT, seconds = 0, seed[2];
	bool have_local = false, have_remote = false, have_ip = false;
	uint64_t deadline;
	int c;

	parse_mac("02:00:00:5e:00:02", r.mac);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tun = optarg;
			break;
		case 'l':
			parse_ip(optarg, vcfg.local);
			have_local = true;
			break;
		case 'r':
			parse_ip(optarg, remote);
			have_remote = true;
			break;
		case 'v':
			vni = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'i':
			parse_ip(optarg, r.ip);
			have_ip = true;
			break;
		case 'p':
			port = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'm':
			parse_mac(optarg, r.mac);
			break;
		case 'u':
			fcfg.mtu = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 's':
			seconds = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'z':
			vcfg.no_udp_csum = true;
			break;
		default:
			usage();
		}
	}
	if (!tun || !have_local || !have_remote || !have_ip || !port || port > 65535)
		usage();
	if (getrandom(seed, sizeof(seed), 0) != sizeof(seed))
		die("getrandom");
	vcfg.hash_seed = seed[0];
	fcfg.hash_seed = seed[1];
	r.ip_id = (uint16_t)(seed[0] >> 16);
	if (!pkt_pool_init(&r.pool, 1024, PKT_DEFAULT_SIZE) || !vx_init(&r.vx, &vcfg) ||
	    !ipfrag_init(&r.frag, &fcfg) || !ipfrag_init(&r.host_frag, &fcfg))
		die("init");
	if (vx_wire_add(&r.vx, remote, (uint16_t)port, vni) != 0) {
		fprintf(stderr, "bad wire (vni %u, port %u)\n", vni, port);
		return 2;
	}
	r.fd = tun_open(tun);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready tun=%s\n", tun);
	fflush(stdout);

	deadline = seconds ? now_ns() + seconds * 1000000000ull : UINT64_MAX;
	while (!stop && now_ns() < deadline) {
		struct pollfd pfd = {.fd = r.fd, .events = POLLIN};

		if (poll(&pfd, 1, 100) > 0)
			read_batch(&r);
		ipfrag_expire(&r.frag, now_ns());
		ipfrag_expire(&r.host_frag, now_ns());
	}
	print_stats(&r);
	close(r.fd);
	ipfrag_destroy(&r.frag);
	ipfrag_destroy(&r.host_frag);
	vx_destroy(&r.vx);
	pkt_pool_destroy(&r.pool);
	return 0;
}
