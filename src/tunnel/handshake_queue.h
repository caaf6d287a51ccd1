/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_HANDSHAKE_QUEUE_H
#define VW_TUNNEL_HANDSHAKE_QUEUE_H

/*
 * Received handshake messages (initiations and responses) wait in one bounded FIFO per
 * device, as the kernel's WireGuard queues them for its handshake workers, for two
 * reasons:
 *  - the X25519 work of an initiation can run outside the lock that serializes a shared
 *    device (wg_handshake_jobs, device.h), so a flood of initiations costs the workers
 *    that process it, not every packet of every worker;
 *  - the queue's depth says whether the device is under load (at 1/8 of its length, as
 *    the kernel), for all workers at once, whatever batch each one happens to read.
 * Messages are copied out of their packet buffers (at most 148 bytes each), so a full
 * queue holds no pool buffers. When it is full, new messages are dropped and counted.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "messages.h"

/* As the kernel's MAX_QUEUED_INCOMING_HANDSHAKES. */
#define WG_HANDSHAKE_QUEUE_DEFAULT 4096

struct wg_queued_handshake {
	struct vw_endpoint src;
	uint8_t type; /* WG_MSG_HANDSHAKE_INITIATION or _RESPONSE */
	uint8_t len;
	uint8_t msg[WG_INIT_SIZE]; /* the larger of the two */
};

struct wg_handshake_queue {
	struct wg_queued_handshake *slot; /* NULL: no queue, handshakes are handled inline */
	uint32_t cap;
	uint32_t head; /* oldest */
	uint32_t len;
	uint32_t high_water; /* the longest it has been */
};

/* cap 0 leaves the queue off. 0, -EINVAL (cap over 1 << 20) or -ENOMEM. */
int wg_handshake_queue_init(struct wg_handshake_queue *q, uint32_t cap);
void wg_handshake_queue_free(struct wg_handshake_queue *q);
/* Copies the message in; false when the queue is full. */
bool wg_handshake_queue_push(struct wg_handshake_queue *q, uint8_t type, const uint8_t *msg,
			     uint32_t len, const struct vw_endpoint *src);
/* The oldest message, copied out; false when the queue is empty. */
bool wg_handshake_queue_pop(struct wg_handshake_queue *q, struct wg_queued_handshake *out);

#endif
