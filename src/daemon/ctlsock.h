/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_CTLSOCK_H
#define VW_DAEMON_CTLSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/loop.h"

/*
 * The local-client machinery of the control sockets. Worker 0 serves their
 * clients without ever waiting on one: each client has its own bounded input and
 * output buffers, bytes move only as far as its socket takes them, and a client that
 * holds a slot too long is closed. Clients are watched through the socket's own epoll
 * set (readable or writable, whichever the client waits for) and timerfd, both watched
 * by worker 0's loop, so worker 0's shared deadline stays the datapath's alone.
 */
struct ctlsock;
struct ctlsock_client;

/* Clients one socket serves at once; more are accepted and closed at once (refused). */
#define CTLSOCK_MAX_CLIENTS 64
/* From connecting, or from its last answer being taken, until a request is complete. */
#define CTLSOCK_REQUEST_TIMEOUT_MS 5000
/* From an answer being queued until the client has taken all of it. */
#define CTLSOCK_ANSWER_TIMEOUT_MS 10000

struct ctlsock_stats {
	uint64_t clients_refused;   /* CTLSOCK_MAX_CLIENTS were connected */
	uint64_t clients_timed_out; /* closed by one of the two timeouts */
};

/* The request callback's "answered; close the client once the answer is out". */
#define CTLSOCK_LAST SIZE_MAX

/*
 * A server's request callback. in/len: what the client sent that no earlier call
 * consumed (in is writable scratch: the machinery wipes consumed bytes); end: no more
 * will come (the client shut its side, or len reached the socket's max_request). It
 * answers one complete request with ctlsock_reply/ctlsock_reply_take and returns the
 * bytes it consumed (> 0) or CTLSOCK_LAST; 0 while the request is incomplete (with end
 * the client is then closed unanswered). It is never called while an answer is still
 * being written: a client's next request waits until it has taken the last answer.
 */
typedef size_t (*ctlsock_request_cb)(void *ctx, struct ctlsock_client *c, char *in, size_t len,
				     bool end);

/* Listens at path (mode 0600), served on loop (worker 0's); NULL after logging why. */
struct ctlsock *ctlsock_new(struct io_loop *loop, const char *path, size_t max_request,
			    ctlsock_request_cb cb, void *ctx);
/* Closes every client and the socket, and removes the socket file. */
void ctlsock_free(struct ctlsock *s);
/* Queues a copy of buf as (part of) c's answer; 0 or -ENOMEM. */
int ctlsock_reply(struct ctlsock_client *c, const void *buf, size_t len);
/* The same, taking buf (malloc'd): c wipes and frees it, also on failure. 0 or -ENOMEM. */
int ctlsock_reply_take(struct ctlsock_client *c, char *buf, size_t len);
/* The file the client passed with its request (SCM_RIGHTS), now the caller's; -1: none. */
int ctlsock_client_take_fd(struct ctlsock_client *c);
/* Adds s's counters to *st. */
void ctlsock_add_stats(const struct ctlsock *s, struct ctlsock_stats *st);

#endif
