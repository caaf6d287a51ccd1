/* SPDX-License-Identifier: MIT */
/*
 * wanrelay: a wide-area network between namespaces, for tests and benchmarks on a
 * kernel without netem. It carries each linked pair of hosts' UDP (WireGuard) with a
 * one-way delay, jitter and loss per direction, and cuts links or hosts on command.
 *
 *   wanrelay --listen IP [--base-port 40000] --host NAME[=IP:PORT]...
 *            --link A,B[,delay=MS|rtt=MS][,jitter=MS][,loss=PCT][,reorder=on]...
 *            [--preset seed] [--seed N] [--ctl PATH] [--reorder]
 *            [--queue-packets 8192] [--queue-bytes 16777216] [--max-datagram 9216]
 *   wanrelay ctl PATH COMMAND...
 *
 * For a link {A,B} (the i-th, preset links first, then --link in order) the relay
 * binds two UDP sockets on IP: face A->B on base-port + 2i, A's Endpoint for B, and
 * face B->A on base-port + 2i + 1, B's Endpoint for A. What A sends to A->B leaves
 * B->A for B, so B sees it come from its own Endpoint for A, and the answers take the
 * same way back. Each face remembers where its host last sent from (starting at the
 * --host address, if any): that is where the other side's packets go, so a host may
 * move or sit behind a NAT, and each of its peers learns the move separately, as
 * they would over the real Internet.
 *
 * At start it prints "seed N", one "face A->B port P addr X" line per face and
 * "ready". Control lines (wanrelay_ctl.h) come over the unix socket PATH, one or
 * more per connection; each answer is its lines, then "ok" or "error: WHY".
 * SIGINT/SIGTERM print the stats and end it.
 *
 * A test tool: one thread, epoll and a timerfd, its own system calls.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/clock.h"
#include "wanrelay_ctl.h"

#define MAX_HOSTS      32
#define MAX_LINKS      64
#define BATCH	       64
#define RECV_ROUNDS    4 /* batches read from one face before the others get a turn */
#define MAX_CLIENTS    8
#define CLIENT_NS      (10 * NSEC_PER_SEC) /* a control connection's whole life */
#define CLIENT_OUT_MAX (1 << 20)
#define SOCKBUF	       (4 << 20)

enum tag { TAG_FACE = 1, TAG_TIMER, TAG_SIGNAL, TAG_LISTEN, TAG_CLIENT };

struct host {
	char name[WAN_NAME_MAX + 1];
	struct vw_endpoint addr; /* from --host; family 0 until the host sends */
	bool given;
	bool down; /* "cut HOST": every link of the host */
};

struct counters {
	uint64_t in, out, lost, cut, qdrop, noaddr, oversize, err, bytes_in, bytes_out;
};

struct pkt {
	uint64_t release, seq;
	uint32_t len;
	uint8_t data[];
};

struct face;

/* One direction of a link: what one host sends to the other. */
struct dir {
	int src, dst;
	struct face *to; /* leaves through this face, to its host */
	struct wan_params p;
	bool cut;
	uint64_t rng;
	/* A min-heap on (release, seq): FIFO when releases never decrease, which is
	 * what the no-reorder rule makes them. */
	struct pkt **heap;
	uint32_t n, cap;
	uint64_t qbytes, seq, last_release;
	struct counters c;
};

struct face {
	int fd;
	uint16_t port;
	int host;
	struct dir *in;		 /* what its host sends to it */
	struct vw_endpoint peer; /* where its host was last seen */
};

struct link {
	int h[2];
	struct face face[2]; /* face[i]: h[i]'s Endpoint for h[1 - i] */
	struct dir dir[2];   /* dir[i]: from h[i] to h[1 - i] */
};

struct client {
	int fd; /* -1: free */
	uint64_t deadline;
	bool eof;
	bool skipping; /* the rest of a line that was too long */
	uint32_t events;
	size_t inlen;
	char in[WAN_LINE_MAX + 2];
	char *out;
	size_t outlen, outoff, outcap;
};

struct relay {
	struct host hosts[MAX_HOSTS];
	int nhosts;
	struct link links[MAX_LINKS];
	int nlinks;
	struct vw_ipaddr listen;
	unsigned base_port;
	uint32_t qmax_pkts;
	uint64_t qmax_bytes;
	uint32_t max_datagram;
	bool reorder_default;
	uint64_t seed;
	const char *ctl_path;
	int ep, tfd, sfd, lfd;
	uint64_t armed; /* the timer's expiry; 0: disarmed */
	bool stop;
	struct client clients[MAX_CLIENTS];
	uint8_t *rxbuf;
	struct mmsghdr rxmsg[BATCH];
	struct iovec rxiov[BATCH];
	struct vw_endpoint rxaddr[BATCH];
	/* How late releases left, against their scheduled time. */
	uint64_t released, late_sum_ns, late_max_ns, late_over_1ms;
	uint64_t moves;
};

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("wanrelay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
	va_list ap;

	fputs("wanrelay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: small, fast and good enough to decide losses and jitter. */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- hosts and links ---- */

static int host_find(const struct relay *r, const char *name)
{
	for (int i = 0; i < r->nhosts; i++) {
		if (!strcmp(r->hosts[i].name, name))
			return i;
	}
	return -1;
}

static int host_add(struct relay *r, const char *name)
{
	int i = host_find(r, name);

	if (i >= 0)
		return i;
	if (r->nhosts == MAX_HOSTS)
		die("more than %d hosts", MAX_HOSTS);
	snprintf(r->hosts[r->nhosts].name, sizeof(r->hosts[0].name), "%s", name);
	return r->nhosts++;
}

static struct link *link_find(struct relay *r, int a, int b)
{
	for (int i = 0; i < r->nlinks; i++) {
		struct link *l = &r->links[i];

		if ((l->h[0] == a && l->h[1] == b) || (l->h[0] == b && l->h[1] == a))
			return l;
	}
	return NULL;
}

static void params_apply(struct wan_params *to, const struct wan_params *from)
{
	if (from->mask & WAN_P_DELAY)
		to->delay_us = from->delay_us;
	if (from->mask & WAN_P_JITTER)
		to->jitter_us = from->jitter_us;
	if (from->mask & WAN_P_LOSS)
		to->loss_ppm = from->loss_ppm;
	if (from->mask & WAN_P_REORDER)
		to->reorder = from->reorder;
}

/* A --link or preset link: a new link, or new settings for one declared before. */
static void link_declare(struct relay *r, const struct wan_link_spec *s)
{
	int a = host_find(r, s->a), b = host_find(r, s->b);
	struct link *l;

	if (a < 0 || b < 0)
		die("link %s,%s: unknown host '%s' (declare it with --host)", s->a, s->b,
		    a < 0 ? s->a : s->b);
	l = link_find(r, a, b);
	if (!l) {
		if (r->nlinks == MAX_LINKS)
			die("more than %d links", MAX_LINKS);
		l = &r->links[r->nlinks];
		memset(l, 0, sizeof(*l));
		for (int i = 0; i < 2; i++) {
			struct dir *d = &l->dir[i];
			uint64_t mix = r->seed ^
				       (0xd1b54a32d192ed03ull * (uint64_t)(2 * r->nlinks + i + 1));

			l->h[i] = i ? b : a;
			l->face[i].fd = -1;
			l->face[i].host = l->h[i];
			l->face[i].in = d;
			d->src = i ? b : a;
			d->dst = i ? a : b;
			d->to = &l->face[1 - i];
			d->p.reorder = r->reorder_default;
			/* Each direction draws from its own stream, so one direction's
			 * traffic does not change another's losses. */
			d->rng = rng_next(&mix);
		}
		r->nlinks++;
	}
	for (int i = 0; i < 2; i++)
		params_apply(&l->dir[i].p, &s->params);
}

static bool dir_blocked(const struct relay *r, const struct dir *d)
{
	return d->cut || r->hosts[d->src].down || r->hosts[d->dst].down;
}

/* ---- the queue of one direction ---- */

static bool pkt_before(const struct pkt *a, const struct pkt *b)
{
	return a->release < b->release || (a->release == b->release && a->seq < b->seq);
}

static bool heap_push(struct dir *d, struct pkt *p)
{
	uint32_t i;

	if (d->n == d->cap) {
		uint32_t cap = d->cap ? 2 * d->cap : 64;
		struct pkt **h = realloc(d->heap, cap * sizeof(*h));

		if (!h)
			return false;
		d->heap = h;
		d->cap = cap;
	}
	for (i = d->n++; i > 0; i = (i - 1) / 2) {
		struct pkt *up = d->heap[(i - 1) / 2];

		if (!pkt_before(p, up))
			break;
		d->heap[i] = up;
	}
	d->heap[i] = p;
	return true;
}

static struct pkt *heap_pop(struct dir *d)
{
	struct pkt *top = d->heap[0], *last = d->heap[--d->n];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= d->n)
			break;
		if (c + 1 < d->n && pkt_before(d->heap[c + 1], d->heap[c]))
			c++;
		if (!pkt_before(d->heap[c], last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->n)
		d->heap[i] = last;
	return top;
}

static void enqueue(struct relay *r, struct dir *d, const uint8_t *data, uint32_t len,
		    bool truncated, uint64_t now)
{
	uint64_t rel;
	struct pkt *p;

	d->c.in++;
	d->c.bytes_in += len;
	if (truncated) {
		d->c.oversize++;
		return;
	}
	if (dir_blocked(r, d)) {
		d->c.cut++;
		return;
	}
	if (d->p.loss_ppm && rng_next(&d->rng) % WAN_LOSS_MAX_PPM < d->p.loss_ppm) {
		d->c.lost++;
		return;
	}
	if (d->n >= r->qmax_pkts || d->qbytes + len > r->qmax_bytes) {
		d->c.qdrop++;
		return;
	}
	rel = now + (uint64_t)d->p.delay_us * 1000;
	if (d->p.jitter_us) {
		uint64_t j = (uint64_t)d->p.jitter_us * 1000;
		uint64_t off = rng_next(&d->rng) % (2 * j + 1);

		rel = rel + off < j || rel + off - j < now ? now : rel + off - j;
	}
	/* No packet leaves before the one sent before it, unless reordering is allowed. */
	if (!d->p.reorder && rel < d->last_release)
		rel = d->last_release;
	if (rel > d->last_release)
		d->last_release = rel;
	p = malloc(sizeof(*p) + len);
	if (p) {
		p->release = rel;
		p->seq = d->seq++;
		p->len = len;
		memcpy(p->data, data, len);
	}
	if (!p || !heap_push(d, p)) {
		free(p);
		d->c.qdrop++;
		return;
	}
	d->qbytes += len;
}

/* Sends what is due in one direction, in batches. */
static void release_dir(struct relay *r, struct dir *d, uint64_t now)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct pkt *out[BATCH];
	bool failed[BATCH];

	while (d->n && d->heap[0]->release <= now) {
		int k = 0, done = 0;
		uint64_t t;

		while (k < BATCH && d->n && d->heap[0]->release <= now) {
			struct pkt *p = heap_pop(d);

			d->qbytes -= p->len;
			if (dir_blocked(r, d)) {
				d->c.cut++;
				free(p);
				continue;
			}
			if (!d->to->peer.sa.sa_family) {
				d->c.noaddr++;
				free(p);
				continue;
			}
			iov[k].iov_base = p->data;
			iov[k].iov_len = p->len;
			memset(&m[k], 0, sizeof(m[k]));
			m[k].msg_hdr.msg_name = &d->to->peer.sa;
			m[k].msg_hdr.msg_namelen = vw_endpoint_len(&d->to->peer);
			m[k].msg_hdr.msg_iov = &iov[k];
			m[k].msg_hdr.msg_iovlen = 1;
			failed[k] = false;
			out[k++] = p;
		}
		t = vw_clock_mono_ns();
		while (done < k) {
			int s = sendmmsg(d->to->fd, m + done, (unsigned)(k - done), MSG_DONTWAIT);

			if (s < 0 && errno == EINTR)
				continue;
			if (s < 0) {
				/* The kernel refused the first of the rest: count it, go on. */
				if (d->c.err < 10)
					note("send from port %u: %s", d->to->port, strerror(errno));
				failed[done++] = true;
				continue;
			}
			done += s;
		}
		for (int i = 0; i < k; i++) {
			uint64_t late = t - out[i]->release;

			if (failed[i]) {
				d->c.err++;
			} else {
				d->c.out++;
				d->c.bytes_out += out[i]->len;
			}
			r->released++;
			r->late_sum_ns += late;
			if (late > r->late_max_ns)
				r->late_max_ns = late;
			if (late > NSEC_PER_MSEC)
				r->late_over_1ms++;
			free(out[i]);
		}
	}
}

static void release_due(struct relay *r)
{
	uint64_t now = vw_clock_mono_ns();

	for (int i = 0; i < r->nlinks; i++) {
		for (int j = 0; j < 2; j++)
			release_dir(r, &r->links[i].dir[j], now);
	}
}

/* ---- the faces ---- */

static void face_open(struct relay *r, struct face *f)
{
	struct vw_endpoint a;
	int one = 1, buf = SOCKBUF;

	memset(&a, 0, sizeof(a));
	if (r->listen.family == AF_INET) {
		a.in4.sin_family = AF_INET;
		memcpy(&a.in4.sin_addr, r->listen.bytes, 4);
		a.in4.sin_port = htons(f->port);
	} else {
		a.in6.sin6_family = AF_INET6;
		memcpy(&a.in6.sin6_addr, r->listen.bytes, 16);
		a.in6.sin6_port = htons(f->port);
	}
	f->fd = socket(r->listen.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		die("socket: %s", strerror(errno));
	if (r->listen.family == AF_INET6)
		setsockopt(f->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Room for bursts while the thread sleeps; FORCE needs CAP_NET_ADMIN. */
	if (setsockopt(f->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(f->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(f->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(f->fd, &a.sa, vw_endpoint_len(&a)))
		die("bind port %u: %s", f->port, strerror(errno));
}

static void face_name(const struct relay *r, const struct link *l, int side, char *buf, size_t size)
{
	snprintf(buf, size, "%s->%s", r->hosts[l->h[side]].name, r->hosts[l->h[1 - side]].name);
}

static void face_recv(struct relay *r, struct face *f)
{
	for (int round = 0; round < RECV_ROUNDS; round++) {
		uint64_t now;
		int n;

		for (int i = 0; i < BATCH; i++) {
			r->rxiov[i].iov_base = r->rxbuf + (size_t)i * r->max_datagram;
			r->rxiov[i].iov_len = r->max_datagram;
			memset(&r->rxmsg[i].msg_hdr, 0, sizeof(r->rxmsg[i].msg_hdr));
			r->rxmsg[i].msg_hdr.msg_name = &r->rxaddr[i].sa;
			r->rxmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in6);
			r->rxmsg[i].msg_hdr.msg_iov = &r->rxiov[i];
			r->rxmsg[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(f->fd, r->rxmsg, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now = vw_clock_mono_ns();
		for (int i = 0; i < n; i++) {
			struct vw_endpoint *src = &r->rxaddr[i];

			if (!vw_endpoint_equal(src, &f->peer) &&
			    src->sa.sa_family == r->listen.family) {
				char was[64], is[64];

				/* A source that flaps would fill the log: the first moves say
				 * enough. */
				if (r->moves++ < 100) {
					vw_endpoint_format(&f->peer, was, sizeof(was));
					vw_endpoint_format(src, is, sizeof(is));
					note("%s is at %s (was %s) as seen on port %u",
					     r->hosts[f->host].name, is, was, f->port);
				}
				f->peer = *src;
			}
			enqueue(r, f->in, r->rxbuf + (size_t)i * r->max_datagram,
				r->rxmsg[i].msg_len,
				(r->rxmsg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, now);
		}
		if (n < BATCH)
			return;
	}
}

/* ---- control ---- */

struct text {
	char *s;
	size_t len, cap;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || t->full)
		return;
	if (t->len + (size_t)n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		char *s;

		while (cap < t->len + (size_t)n + 1)
			cap *= 2;
		if (cap > CLIENT_OUT_MAX || !(s = realloc(t->s, cap))) {
			t->full = true;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static bool dir_matches(const struct dir *d, const struct wan_target *t, int a, int b)
{
	switch (t->scope) {
	case WAN_HOST:
		return d->src == a || d->dst == a;
	case WAN_PAIR:
		return (d->src == a && d->dst == b) || (d->src == b && d->dst == a);
	case WAN_DIR:
		return d->src == a && d->dst == b;
	default:
		return true;
	}
}

static const char *dir_state(const struct relay *r, const struct dir *d)
{
	if (r->hosts[d->src].down || r->hosts[d->dst].down)
		return "down";
	return d->cut ? "cut" : "up";
}

static void stats_dir(const struct relay *r, const struct dir *d, struct text *o)
{
	char delay[24], jitter[24], loss[24];

	wan_fixed_format(d->p.delay_us, 3, delay, sizeof(delay));
	wan_fixed_format(d->p.jitter_us, 3, jitter, sizeof(jitter));
	wan_fixed_format(d->p.loss_ppm, 4, loss, sizeof(loss));
	text_add(o,
		 "dir %s>%s state=%s delay=%s jitter=%s loss=%s reorder=%s in=%llu out=%llu "
		 "lost=%llu cut=%llu qdrop=%llu noaddr=%llu oversize=%llu err=%llu queue=%u "
		 "qbytes=%llu bytes_in=%llu bytes_out=%llu\n",
		 r->hosts[d->src].name, r->hosts[d->dst].name, dir_state(r, d), delay, jitter, loss,
		 d->p.reorder ? "on" : "off", (unsigned long long)d->c.in,
		 (unsigned long long)d->c.out, (unsigned long long)d->c.lost,
		 (unsigned long long)d->c.cut, (unsigned long long)d->c.qdrop,
		 (unsigned long long)d->c.noaddr, (unsigned long long)d->c.oversize,
		 (unsigned long long)d->c.err, d->n, (unsigned long long)d->qbytes,
		 (unsigned long long)d->c.bytes_in, (unsigned long long)d->c.bytes_out);
}

static void stats_relay(const struct relay *r, struct text *o)
{
	text_add(o, "relay released=%llu late_avg_us=%.1f late_max_us=%.1f late_over_1ms=%llu\n",
		 (unsigned long long)r->released,
		 r->released ? (double)r->late_sum_ns / (double)r->released / 1e3 : 0.0,
		 (double)r->late_max_ns / 1e3, (unsigned long long)r->late_over_1ms);
}

static void faces_list(const struct relay *r, struct text *o)
{
	for (int i = 0; i < r->nlinks; i++) {
		const struct link *l = &r->links[i];

		for (int s = 0; s < 2; s++) {
			char name[2 * WAN_NAME_MAX + 3], addr[64] = "-";

			face_name(r, l, s, name, sizeof(name));
			if (l->face[s].peer.sa.sa_family)
				vw_endpoint_format(&l->face[s].peer, addr, sizeof(addr));
			text_add(o, "face %s port %u addr %s\n", name, l->face[s].port, addr);
		}
	}
}

static const char help_text[] =
	"cut A | cut A B | cut A>B     drop all of host A's links, link A-B, or A to B only\n"
	"heal A | heal A B | heal A>B  undo the cut of the same form\n"
	"set A B|A>B|A SETTINGS        delay=MS (one way) or rtt=MS, jitter=MS (+-),\n"
	"                              loss=PERCENT, reorder=on|off\n"
	"stats [A | A B | A>B]         per direction: in out lost cut qdrop ... queue\n"
	"faces                         each face's port and its host's address\n";

/* Runs one parsed command; its answer, "ok" or "error: ...", goes to o. */
static void cmd_run(struct relay *r, const struct wan_cmd *c, struct text *o)
{
	const struct wan_target *t = &c->target;
	int a = -1, b = -1, matched = 0;

	if (t->scope != WAN_ANY) {
		a = host_find(r, t->a);
		if (a < 0) {
			text_add(o, "error: unknown host '%s'\n", t->a);
			return;
		}
	}
	if (t->scope == WAN_PAIR || t->scope == WAN_DIR) {
		b = host_find(r, t->b);
		if (b < 0) {
			text_add(o, "error: unknown host '%s'\n", t->b);
			return;
		}
		if (!link_find(r, a, b)) {
			text_add(o, "error: no link between '%s' and '%s'\n", t->a, t->b);
			return;
		}
	}
	switch (c->verb) {
	case WAN_HELP:
		text_add(o, "%s", help_text);
		break;
	case WAN_FACES:
		faces_list(r, o);
		break;
	case WAN_CUT:
	case WAN_HEAL:
		/* A host's switch and a link's are separate: "heal A B" does not bring a
		 * host back that "cut A" took down. */
		if (t->scope == WAN_HOST) {
			r->hosts[a].down = c->verb == WAN_CUT;
			break;
		}
		/* fallthrough */
	default:
		for (int i = 0; i < r->nlinks; i++) {
			for (int j = 0; j < 2; j++) {
				struct dir *d = &r->links[i].dir[j];

				if (!dir_matches(d, t, a, b))
					continue;
				matched++;
				if (c->verb == WAN_CUT || c->verb == WAN_HEAL)
					d->cut = c->verb == WAN_CUT;
				else if (c->verb == WAN_SET)
					params_apply(&d->p, &c->params);
				else
					stats_dir(r, d, o);
			}
		}
		if (c->verb == WAN_STATS)
			stats_relay(r, o);
		if (!matched && c->verb == WAN_SET) {
			text_add(o, "error: host '%s' has no links\n", t->a);
			return;
		}
	}
	text_add(o, "ok\n");
}

static void line_run(struct relay *r, const char *line, size_t len, struct text *o)
{
	char err[WAN_ERR_MAX];
	struct wan_cmd c;
	int rc = wan_cmd_parse(line, len, &c, err, sizeof(err));

	if (rc < 0)
		text_add(o, "error: %s\n", err);
	else if (rc == 0)
		cmd_run(r, &c, o);
}

static void epoll_set(struct relay *r, int op, int fd, enum tag tag, uint32_t index,
		      uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)tag << 32) | index};

	if (epoll_ctl(r->ep, op, fd, &ev))
		die("epoll_ctl: %s", strerror(errno));
}

static void client_close(struct relay *r, struct client *c)
{
	epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

/* Sends what it can of the answers; closes once all is said and the client is done. */
static void client_flush(struct relay *r, struct client *c)
{
	uint32_t want;

	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			client_close(r, c);
			return;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->eof && !c->outlen) {
		client_close(r, c);
		return;
	}
	want = (c->eof ? 0 : EPOLLIN) | (c->outlen ? EPOLLOUT : 0);
	if (want != c->events) {
		epoll_set(r, EPOLL_CTL_MOD, c->fd, TAG_CLIENT, (uint32_t)(c - r->clients), want);
		c->events = want;
	}
}

static void client_read(struct relay *r, struct client *c)
{
	struct text o = {c->out, c->outlen, c->outcap, false};

	while (!c->eof) {
		ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* The last line may come without its newline. */
			if (c->inlen && !c->skipping)
				line_run(r, c->in, c->inlen, &o);
			c->inlen = 0;
			c->eof = true;
			break;
		}
		c->inlen += (size_t)n;
		while ((nl = memchr(c->in, '\n', c->inlen))) {
			size_t len = (size_t)(nl - c->in) + 1;

			if (c->skipping)
				c->skipping = false;
			else
				line_run(r, c->in, len, &o);
			memmove(c->in, c->in + len, c->inlen - len);
			c->inlen -= len;
		}
		/* Too long: answer once and skip to its end, reading on so that the
		 * client's close does not reset the connection under the answer. */
		if (c->inlen == sizeof(c->in)) {
			if (!c->skipping)
				text_add(&o, "error: line longer than %d bytes\n", WAN_LINE_MAX);
			c->skipping = true;
			c->inlen = 0;
		}
	}
	c->out = o.s;
	c->outlen = o.len;
	c->outcap = o.cap;
	if (o.full) {
		/* A client that sends and never reads: not worth the memory. */
		client_close(r, c);
		return;
	}
	client_flush(r, c);
}

static void ctl_accept(struct relay *r)
{
	for (;;) {
		int fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CLIENTS && !c; i++) {
			if (r->clients[i].fd < 0)
				c = &r->clients[i];
		}
		if (!c) {
			static const char busy[] = "error: busy, try again\n";

			send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->deadline = vw_clock_mono_ns() + CLIENT_NS;
		c->events = EPOLLIN;
		epoll_set(r, EPOLL_CTL_ADD, fd, TAG_CLIENT, (uint32_t)(c - r->clients), EPOLLIN);
	}
}

static void ctl_listen(struct relay *r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;

	if (strlen(r->ctl_path) >= sizeof(sun.sun_path))
		die("--ctl %s: path longer than %zu bytes", r->ctl_path, sizeof(sun.sun_path) - 1);
	strcpy(sun.sun_path, r->ctl_path);
	r->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->lfd < 0)
		die("socket: %s", strerror(errno));
	/* A socket left by a relay that died is in the way; anything else is not ours. */
	if (!lstat(r->ctl_path, &st)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (!S_ISSOCK(st.st_mode))
			die("--ctl %s exists and is not a socket", r->ctl_path);
		if (probe >= 0 && !connect(probe, (struct sockaddr *)&sun, sizeof(sun)))
			die("--ctl %s: another relay answers there", r->ctl_path);
		close(probe);
		unlink(r->ctl_path);
	}
	if (bind(r->lfd, (struct sockaddr *)&sun, sizeof(sun)) || listen(r->lfd, 16))
		die("--ctl %s: %s", r->ctl_path, strerror(errno));
	epoll_set(r, EPOLL_CTL_ADD, r->lfd, TAG_LISTEN, 0, EPOLLIN);
}

/* ---- the loop ---- */

static uint64_t next_deadline(const struct relay *r)
{
	uint64_t next = UINT64_MAX;

	for (int i = 0; i < r->nlinks; i++) {
		for (int j = 0; j < 2; j++) {
			const struct dir *d = &r->links[i].dir[j];

			if (d->n && d->heap[0]->release < next)
				next = d->heap[0]->release;
		}
	}
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (r->clients[i].fd >= 0 && r->clients[i].deadline < next)
			next = r->clients[i].deadline;
	}
	return next;
}

static void timer_arm(struct relay *r, uint64_t at)
{
	struct itimerspec its = {0};

	if (at == UINT64_MAX)
		at = 0; /* disarm */
	if (at == r->armed)
		return;
	its.it_value.tv_sec = (time_t)(at / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(at % NSEC_PER_SEC);
	if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		die("timerfd_settime: %s", strerror(errno));
	r->armed = at;
}

static void expire_clients(struct relay *r)
{
	uint64_t now = vw_clock_mono_ns();

	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (r->clients[i].fd >= 0 && r->clients[i].deadline <= now)
			client_close(r, &r->clients[i]);
	}
}

static void loop(struct relay *r)
{
	struct epoll_event ev[32];

	while (!r->stop) {
		uint64_t next = next_deadline(r);
		int timeout = -1, n;

		if (next <= vw_clock_mono_ns())
			timeout = 0;
		else
			timer_arm(r, next);
		n = epoll_wait(r->ep, ev, 32, timeout);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			uint32_t tag = (uint32_t)(ev[i].data.u64 >> 32);
			uint32_t idx = (uint32_t)ev[i].data.u64;

			switch (tag) {
			case TAG_FACE:
				face_recv(r, &r->links[idx / 2].face[idx % 2]);
				break;
			case TAG_TIMER: {
				uint64_t ticks;

				if (read(r->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					die("timerfd: %s", strerror(errno));
				r->armed = 0;
				break;
			}
			case TAG_SIGNAL:
				r->stop = true;
				break;
			case TAG_LISTEN:
				ctl_accept(r);
				break;
			case TAG_CLIENT:
				if (r->clients[idx].fd < 0)
					break;
				if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					client_read(r, &r->clients[idx]);
				else
					client_flush(r, &r->clients[idx]);
				break;
			}
		}
		release_due(r);
		expire_clients(r);
	}
}

/* ---- start-up ---- */

struct preset_link {
	const char *a, *b;
	unsigned rtt_ms;
};

/* The project's hosts: Paris, the UK, the eastern US, Ottawa, a laptop near Paris. */
static const char *const seed_hosts[] = {"rho", "bob", "epsilon", "vorke", "pi0"};
static const struct preset_link seed_links[] = {
	{"rho", "bob", 10},	{"rho", "epsilon", 90}, {"rho", "vorke", 90},
	{"bob", "epsilon", 98}, {"bob", "vorke", 98},	{"epsilon", "vorke", 20},
	{"pi0", "rho", 15},
};

static const char usage_text[] =
	"usage: wanrelay --listen IP [--base-port N] --host NAME[=IP:PORT]...\n"
	"                --link A,B[,delay=MS|rtt=MS][,jitter=MS][,loss=PCT][,reorder=on]...\n"
	"                [--preset seed] [--seed N] [--ctl PATH] [--reorder]\n"
	"                [--queue-packets N] [--queue-bytes N] [--max-datagram N]\n"
	"       wanrelay ctl PATH COMMAND...\n"
	"Face A->B (A's Endpoint for B) is base-port + 2i for the i-th link A,B and B->A the\n"
	"next port; --preset seed declares rho bob epsilon vorke pi0 and their links first.\n"
	"Commands:\n";

static __attribute__((noreturn)) void usage(int rc)
{
	fputs(usage_text, rc ? stderr : stdout);
	fputs(help_text, rc ? stderr : stdout);
	exit(rc);
}

static uint64_t opt_uint(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		die("%s wants a number from %llu to %llu, not '%s'", opt, (unsigned long long)min,
		    (unsigned long long)max, s);
	return v;
}

static int ctl_main(int argc, char **argv);

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"base-port", required_argument, NULL, 'p'},
		{"host", required_argument, NULL, 'H'},
		{"link", required_argument, NULL, 'L'},
		{"preset", required_argument, NULL, 'P'},
		{"seed", required_argument, NULL, 's'},
		{"ctl", required_argument, NULL, 'c'},
		{"reorder", no_argument, NULL, 'r'},
		{"queue-packets", required_argument, NULL, 'q'},
		{"queue-bytes", required_argument, NULL, 'Q'},
		{"max-datagram", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct relay relay;
	struct relay *r = &relay;
	const char *listen_arg = NULL;
	char **host_args, **link_args;
	int nhost_args = 0, nlink_args = 0, opt;
	bool preset = false, seeded = false;
	sigset_t sigs;

	if (argc >= 2 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc, argv);
	host_args = calloc((size_t)argc, sizeof(char *));
	link_args = calloc((size_t)argc, sizeof(char *));
	if (!host_args || !link_args)
		die("out of memory");
	r->base_port = 40000;
	r->qmax_pkts = 8192;
	r->qmax_bytes = 16 << 20;
	r->max_datagram = 9216;
	r->lfd = -1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen_arg = optarg;
			break;
		case 'p':
			r->base_port = (unsigned)opt_uint("--base-port", optarg, 1, 65534);
			break;
		case 'H':
			host_args[nhost_args++] = optarg;
			break;
		case 'L':
			link_args[nlink_args++] = optarg;
			break;
		case 'P':
			if (strcmp(optarg, "seed"))
				die("--preset %s: the one preset is 'seed'", optarg);
			preset = true;
			break;
		case 's':
			r->seed = opt_uint("--seed", optarg, 0, UINT64_MAX);
			seeded = true;
			break;
		case 'c':
			r->ctl_path = optarg;
			break;
		case 'r':
			r->reorder_default = true;
			break;
		case 'q':
			r->qmax_pkts = (uint32_t)opt_uint("--queue-packets", optarg, 1, 1 << 24);
			break;
		case 'Q':
			r->qmax_bytes = opt_uint("--queue-bytes", optarg, 1, 1ull << 34);
			break;
		case 'm':
			r->max_datagram = (uint32_t)opt_uint("--max-datagram", optarg, 64, 65535);
			break;
		case 'h':
			usage(0);
		default:
			usage(1);
		}
	}
	if (optind != argc)
		die("unexpected argument '%s'", argv[optind]);
	if (!listen_arg || !vw_ipaddr_parse(&r->listen, listen_arg))
		die("--listen wants the relay's IPv4 or IPv6 address%s%s",
		    listen_arg ? ", not " : "", listen_arg ? listen_arg : "");
	if (!seeded && getrandom(&r->seed, sizeof(r->seed), 0) != sizeof(r->seed))
		die("getrandom: %s", strerror(errno));

	if (preset) {
		for (size_t i = 0; i < sizeof(seed_hosts) / sizeof(seed_hosts[0]); i++)
			host_add(r, seed_hosts[i]);
	}
	for (int i = 0; i < nhost_args; i++) {
		char *eq = strchr(host_args[i], '=');
		size_t nl = eq ? (size_t)(eq - host_args[i]) : strlen(host_args[i]);
		char name[WAN_NAME_MAX + 1];
		struct host *h;

		if (!wan_name_ok(host_args[i], nl))
			die("--host %s: a name is 1-%d letters, digits, '-', '_', '.'",
			    host_args[i], WAN_NAME_MAX);
		memcpy(name, host_args[i], nl);
		name[nl] = '\0';
		h = &r->hosts[host_add(r, name)];
		if (h->given)
			die("--host %s: given twice", name);
		h->given = true;
		if (!eq)
			continue;
		if (!vw_endpoint_parse(&h->addr, eq + 1))
			die("--host %s: the address is IP:PORT or [IPv6]:PORT, not '%s'", name,
			    eq + 1);
		if (h->addr.sa.sa_family != r->listen.family)
			die("--host %s: not the address family of --listen %s", host_args[i],
			    listen_arg);
	}
	if (preset) {
		for (size_t i = 0; i < sizeof(seed_links) / sizeof(seed_links[0]); i++) {
			struct wan_link_spec s = {
				.params = {.mask = WAN_P_DELAY,
					   .delay_us = seed_links[i].rtt_ms * 500}};

			snprintf(s.a, sizeof(s.a), "%s", seed_links[i].a);
			snprintf(s.b, sizeof(s.b), "%s", seed_links[i].b);
			link_declare(r, &s);
		}
	}
	for (int i = 0; i < nlink_args; i++) {
		struct wan_link_spec s;
		char err[WAN_ERR_MAX];

		if (wan_link_parse(link_args[i], strlen(link_args[i]), &s, err, sizeof(err)))
			die("--link %s: %s", link_args[i], err);
		link_declare(r, &s);
	}
	if (!r->nlinks)
		die("no links: give --link A,B (or --preset seed)");
	if (r->base_port + 2u * (unsigned)r->nlinks - 1 > 65535)
		die("--base-port %u leaves no room for %d faces", r->base_port, 2 * r->nlinks);

	r->ep = epoll_create1(EPOLL_CLOEXEC);
	r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	r->sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	r->rxbuf = malloc((size_t)BATCH * r->max_datagram);
	if (r->ep < 0 || r->tfd < 0 || r->sfd < 0 || !r->rxbuf)
		die("setting up: %s", strerror(errno));
	/* The timer fires when asked, not up to 50 us later. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	epoll_set(r, EPOLL_CTL_ADD, r->tfd, TAG_TIMER, 0, EPOLLIN);
	epoll_set(r, EPOLL_CTL_ADD, r->sfd, TAG_SIGNAL, 0, EPOLLIN);
	for (int i = 0; i < MAX_CLIENTS; i++)
		r->clients[i].fd = -1;
	for (int i = 0; i < r->nlinks; i++) {
		for (int s = 0; s < 2; s++) {
			struct face *f = &r->links[i].face[s];

			f->port = (uint16_t)(r->base_port + 2u * (unsigned)i + (unsigned)s);
			f->peer = r->hosts[f->host].addr;
			face_open(r, f);
			epoll_set(r, EPOLL_CTL_ADD, f->fd, TAG_FACE, (uint32_t)(2 * i + s),
				  EPOLLIN);
		}
	}
	if (r->ctl_path)
		ctl_listen(r);

	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		struct text o = {0};

		text_add(&o, "seed %llu\n", (unsigned long long)r->seed);
		faces_list(r, &o);
		text_add(&o, "ready\n");
		fputs(o.s, stdout);
		free(o.s);
	}

	loop(r);

	{
		struct text o = {0};

		for (int i = 0; i < r->nlinks; i++) {
			for (int j = 0; j < 2; j++)
				stats_dir(r, &r->links[i].dir[j], &o);
		}
		stats_relay(r, &o);
		fputs(o.s ? o.s : "", stdout);
		free(o.s);
	}
	if (r->ctl_path)
		unlink(r->ctl_path);
	free(host_args);
	free(link_args);
	return 0;
}

/* ---- the client: wanrelay ctl PATH COMMAND... ---- */

static int ctl_main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 10};
	struct text line = {0}, ans = {0};
	bool ok = false, failed = false;
	char *p;
	int fd;

	if (argc < 4)
		usage(1);
	if (strlen(argv[2]) >= sizeof(sun.sun_path))
		die("%s: path too long", argv[2]);
	strcpy(sun.sun_path, argv[2]);
	for (int i = 3; i < argc; i++)
		text_add(&line, "%s%s", argv[i], i + 1 < argc ? " " : "\n");
	if (line.full || line.len > WAN_LINE_MAX + 1)
		die("the command is longer than %d bytes", WAN_LINE_MAX);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		die("%s: %s", argv[2], strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	signal(SIGPIPE, SIG_IGN);
	if (send(fd, line.s, line.len, 0) != (ssize_t)line.len)
		die("%s: sending: %s", argv[2], strerror(errno));
	shutdown(fd, SHUT_WR);
	for (;;) {
		char buf[4096];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("%s: reading the answer: %s", argv[2], strerror(errno));
		if (n == 0)
			break;
		text_add(&ans, "%.*s", (int)n, buf);
		if (ans.full)
			die("%s: the answer is too long", argv[2]);
	}
	close(fd);
	for (p = ans.s; p && *p;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		if (!strcmp(p, "ok"))
			ok = true;
		else if (!strncmp(p, "error: ", 7)) {
			fprintf(stderr, "wanrelay: %s\n", p + 7);
			failed = true;
		} else
			puts(p);
		if (!nl)
			break;
		p = nl + 1;
	}
	free(line.s);
	free(ans.s);
	if (!ok && !failed)
		die("%s: no answer", argv[2]);
	return failed ? 1 : 0;
}
