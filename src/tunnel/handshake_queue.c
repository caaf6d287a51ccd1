/* SPDX-License-Identifier: MIT */
#include "handshake_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

int wg_handshake_queue_init(struct wg_handshake_queue *q, uint32_t cap)
{
	memset(q, 0, sizeof(*q));
	if (!cap)
		return 0;
	if (cap > (1u << 20))
		return -EINVAL;
	/* calloc: the slots become resident only as a flood reaches them. */
	q->slot = calloc(cap, sizeof(*q->slot));
	if (!q->slot)
		return -ENOMEM;
	q->cap = cap;
	return 0;
}

void wg_handshake_queue_free(struct wg_handshake_queue *q)
{
	if (q->slot) {
		/* Initiations carry encrypted static keys and timestamps: nothing secret, but
		 * nothing worth leaving in freed memory either. */
		crypto_wipe(q->slot, (size_t)q->cap * sizeof(*q->slot));
		free(q->slot);
	}
	memset(q, 0, sizeof(*q));
}

bool wg_handshake_queue_push(struct wg_handshake_queue *q, uint8_t type, const uint8_t *msg,
			     uint32_t len, const struct vw_endpoint *src)
{
	struct wg_queued_handshake *s;

	if (q->len == q->cap || len > sizeof(s->msg))
		return false;
	s = &q->slot[(q->head + q->len) % q->cap];
	s->src = *src;
	s->type = type;
	s->len = (uint8_t)len;
	memcpy(s->msg, msg, len);
	q->len++;
	if (q->len > q->high_water)
		q->high_water = q->len;
	return true;
}

bool wg_handshake_queue_pop(struct wg_handshake_queue *q, struct wg_queued_handshake *out)
{
	if (!q->len)
		return false;
	*out = q->slot[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return true;
}
