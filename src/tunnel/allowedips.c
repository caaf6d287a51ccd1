/* SPDX-License-Identifier: MIT */
#include "tunnel/allowedips.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/byteorder.h"

/*
 * Keys are 128-bit integers in two host-order words, most significant bit
 * first; an IPv4 address sits in the top 32 bits so both families share one
 * code path. Path compression: a node stores its whole prefix, and a lookup
 * compares it under the node's mask before following the bit at position cidr.
 */
struct wg_aip_node {
	struct wg_aip_node *bit[2];
	void *peer; /* NULL: branch point only, which then has two children */
	uint64_t key[2];
	uint64_t mask[2];
	uint8_t cidr;
};

/* Nodes on one root-to-leaf path have strictly growing cidr 0..128. */
#define AIP_MAX_DEPTH 129
#define AIP_STACK     (AIP_MAX_DEPTH + 2)

struct aip_family {
	struct wg_aip_node **root;
	uint8_t maxbits;
};

static bool family_of(struct wg_allowedips *t, uint8_t family, struct aip_family *f)
{
	if (family == AF_INET) {
		f->root = &t->root4;
		f->maxbits = 32;
		return true;
	}
	if (family == AF_INET6) {
		f->root = &t->root6;
		f->maxbits = 128;
		return true;
	}
	return false;
}

static void key_from_addr(uint8_t family, const uint8_t *addr, uint64_t k[2])
{
	if (family == AF_INET) {
		k[0] = (uint64_t)get_be32(addr) << 32;
		k[1] = 0;
	} else {
		k[0] = get_be64(addr);
		k[1] = get_be64(addr + 8);
	}
}

static void key_to_addr(uint8_t family, const uint64_t k[2], uint8_t *addr)
{
	if (family == AF_INET) {
		put_be32(addr, (uint32_t)(k[0] >> 32));
	} else {
		put_be64(addr, k[0]);
		put_be64(addr + 8, k[1]);
	}
}

static void prefix_mask(uint8_t cidr, uint64_t m[2])
{
	m[0] = cidr == 0 ? 0 : cidr >= 64 ? ~0ULL : ~0ULL << (64 - cidr);
	m[1] = cidr <= 64 ? 0 : ~0ULL << (128 - cidr);
}

static inline unsigned int key_bit(const uint64_t k[2], uint8_t pos)
{
	if (pos < 64)
		return (unsigned int)(k[0] >> (63 - pos)) & 1;
	return (unsigned int)(k[1] >> (127 - pos)) & 1;
}

/* Length of the common leading bits of a and b, at most limit. */
static uint8_t common_bits(const uint64_t a[2], const uint64_t b[2], uint8_t limit)
{
	uint64_t x0 = a[0] ^ b[0], x1 = a[1] ^ b[1];
	unsigned int n;

	if (x0)
		n = (unsigned int)__builtin_clzll(x0);
	else if (x1)
		n = 64 + (unsigned int)__builtin_clzll(x1);
	else
		n = 128;
	return n < limit ? (uint8_t)n : limit;
}

static inline bool node_covers(const struct wg_aip_node *n, const uint64_t k[2])
{
	return (((k[0] ^ n->key[0]) & n->mask[0]) | ((k[1] ^ n->key[1]) & n->mask[1])) == 0;
}

static struct wg_aip_node *node_new(struct wg_allowedips *t, const uint64_t k[2], uint8_t cidr,
				    void *peer)
{
	struct wg_aip_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	prefix_mask(cidr, n->mask);
	n->key[0] = k[0] & n->mask[0];
	n->key[1] = k[1] & n->mask[1];
	n->cidr = cidr;
	n->peer = peer;
	t->nodes++;
	return n;
}

/*
 * Restores the invariant at *slot: a node without a peer and with fewer than
 * two children carries no information, so it is replaced by its only child
 * (or by nothing). Its child's prefix already extends the node's own.
 */
static void prune(struct wg_allowedips *t, struct wg_aip_node **slot)
{
	struct wg_aip_node *n = *slot;

	if (!n || n->peer || (n->bit[0] && n->bit[1]))
		return;
	*slot = n->bit[0] ? n->bit[0] : n->bit[1];
	free(n);
	t->nodes--;
}

void wg_allowedips_init(struct wg_allowedips *t)
{
	t->root4 = NULL;
	t->root6 = NULL;
	t->nodes = 0;
}

static void free_tree(struct wg_allowedips *t, struct wg_aip_node **root)
{
	struct wg_aip_node *stack[AIP_STACK];
	unsigned int sp = 0;

	if (*root)
		stack[sp++] = *root;
	*root = NULL;
	while (sp) {
		struct wg_aip_node *n = stack[--sp];

		if (n->bit[0])
			stack[sp++] = n->bit[0];
		if (n->bit[1])
			stack[sp++] = n->bit[1];
		free(n);
		t->nodes--;
	}
}

void wg_allowedips_free(struct wg_allowedips *t)
{
	free_tree(t, &t->root4);
	free_tree(t, &t->root6);
}

int wg_allowedips_insert(struct wg_allowedips *t, uint8_t family, const uint8_t *addr, uint8_t cidr,
			 void *peer)
{
	struct aip_family f;
	struct wg_aip_node **slot, *n, *leaf, *branch;
	uint64_t k[2];

	if (!family_of(t, family, &f) || cidr > f.maxbits || !peer)
		return -EINVAL;
	key_from_addr(family, addr, k);
	slot = f.root;
	while ((n = *slot)) {
		uint8_t cpl = common_bits(k, n->key, cidr < n->cidr ? cidr : n->cidr);

		if (cpl == n->cidr) {
			if (n->cidr == cidr) {
				n->peer = peer;
				return 0;
			}
			slot = &n->bit[key_bit(k, n->cidr)];
			continue;
		}
		/* The new prefix leaves n's path above n: it goes between. */
		leaf = node_new(t, k, cidr, peer);
		if (!leaf)
			return -ENOMEM;
		if (cpl == cidr) {
			leaf->bit[key_bit(n->key, cidr)] = n;
			*slot = leaf;
			return 0;
		}
		branch = node_new(t, k, cpl, NULL);
		if (!branch) {
			free(leaf);
			t->nodes--;
			return -ENOMEM;
		}
		branch->bit[key_bit(k, cpl)] = leaf;
		branch->bit[key_bit(n->key, cpl)] = n;
		*slot = branch;
		return 0;
	}
	*slot = node_new(t, k, cidr, peer);
	return *slot ? 0 : -ENOMEM;
}

int wg_allowedips_remove(struct wg_allowedips *t, uint8_t family, const uint8_t *addr, uint8_t cidr,
			 void *peer)
{
	struct aip_family f;
	struct wg_aip_node **slot, **parent = NULL, *n;
	uint64_t k[2], m[2];

	if (!family_of(t, family, &f) || cidr > f.maxbits)
		return -EINVAL;
	key_from_addr(family, addr, k);
	prefix_mask(cidr, m);
	k[0] &= m[0];
	k[1] &= m[1];
	slot = f.root;
	while ((n = *slot) && n->cidr < cidr && node_covers(n, k)) {
		parent = slot;
		slot = &n->bit[key_bit(k, n->cidr)];
	}
	if (!n || n->cidr != cidr || n->key[0] != k[0] || n->key[1] != k[1] || !peer ||
	    n->peer != peer)
		return -ENOENT;
	n->peer = NULL;
	prune(t, slot);
	/* Only when n went away entirely can its parent have lost a child. */
	if (parent)
		prune(t, parent);
	return 0;
}

/* Post-order walk, so that every subtree is final before its root is pruned. */
static void remove_tree_peer(struct wg_allowedips *t, struct wg_aip_node **root, void *peer)
{
	struct {
		struct wg_aip_node **slot;
		unsigned int next;
	} stack[AIP_STACK];
	int sp = 0;

	if (!*root)
		return;
	stack[0].slot = root;
	stack[0].next = 0;
	while (sp >= 0) {
		struct wg_aip_node *n = *stack[sp].slot;

		if (stack[sp].next < 2) {
			struct wg_aip_node **child = &n->bit[stack[sp].next++];

			if (*child) {
				sp++;
				stack[sp].slot = child;
				stack[sp].next = 0;
			}
			continue;
		}
		if (n->peer == peer)
			n->peer = NULL;
		prune(t, stack[sp].slot);
		sp--;
	}
}

void wg_allowedips_remove_by_peer(struct wg_allowedips *t, void *peer)
{
	if (!peer)
		return;
	remove_tree_peer(t, &t->root4, peer);
	remove_tree_peer(t, &t->root6, peer);
}

void *wg_allowedips_lookup(const struct wg_allowedips *t, uint8_t family, const uint8_t *addr)
{
	const struct wg_aip_node *n;
	uint8_t maxbits;
	uint64_t k[2];
	void *best = NULL;

	if (family == AF_INET) {
		n = t->root4;
		maxbits = 32;
	} else if (family == AF_INET6) {
		n = t->root6;
		maxbits = 128;
	} else {
		return NULL;
	}
	key_from_addr(family, addr, k);
	while (n && node_covers(n, k)) {
		if (n->peer)
			best = n->peer;
		if (n->cidr >= maxbits)
			break;
		n = n->bit[key_bit(k, n->cidr)];
	}
	return best;
}

/* Pre-order, 0 before 1: prefixes come out in address order, shorter first. */
static size_t walk_tree(const struct wg_aip_node *root, uint8_t family, void *peer,
			void (*cb)(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr),
			void *ctx)
{
	const struct wg_aip_node *stack[AIP_STACK];
	unsigned int sp = 0;
	size_t count = 0;
	uint8_t addr[16];

	if (root)
		stack[sp++] = root;
	while (sp) {
		const struct wg_aip_node *n = stack[--sp];

		if (n->peer && (!peer || n->peer == peer)) {
			count++;
			if (cb) {
				key_to_addr(family, n->key, addr);
				cb(ctx, family, addr, n->cidr);
			}
		}
		if (n->bit[1])
			stack[sp++] = n->bit[1];
		if (n->bit[0])
			stack[sp++] = n->bit[0];
	}
	return count;
}

void wg_allowedips_foreach(const struct wg_allowedips *t, void *peer,
			   void (*cb)(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr),
			   void *ctx)
{
	if (!peer || !cb)
		return;
	walk_tree(t->root4, AF_INET, peer, cb, ctx);
	walk_tree(t->root6, AF_INET6, peer, cb, ctx);
}

size_t wg_allowedips_count(const struct wg_allowedips *t, void *peer)
{
	return walk_tree(t->root4, AF_INET, peer, NULL, NULL) +
	       walk_tree(t->root6, AF_INET6, peer, NULL, NULL);
}
