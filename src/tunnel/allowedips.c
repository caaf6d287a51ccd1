/* SPDX-License-Identifier: MIT */
#include "tunnel/allowedips.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/byteorder.h"

/*
 * Keys are 128-bit integers in two host-order words, most significant bit
 * first; an IPv4 address sits in the top 32 bits so both families share one
 * code path. Path compression: a node stores its whole prefix, and a lookup
 * checks it before following the bit at position cidr. Large tables are
 * bound by memory latency (one dependent load per level), so a node is half
 * a cache line and the peer pointer, needed once per lookup, lives apart.
 */
struct wg_aip_node {
	uint64_t key[2];
	uint32_t child[2];
	uint8_t cidr;
	uint8_t has_peer; /* mirrors peer[i] != NULL, so lookups read only the node */
	uint8_t is_v6;	  /* the trie it hangs in, for removing a peer from its list */
};

_Static_assert(sizeof(struct wg_aip_node) == 32, "two nodes per cache line");

/* A doubly linked list per peer, so a prefix leaves it without a search. */
struct wg_aip_link {
	uint32_t next;
	uint32_t prev;
};

struct wg_aip_owner {
	void *peer; /* NULL: free slot */
	uint32_t head;
	uint32_t count;
};

#define NONE 0u
/* Nodes on one root-to-leaf path have strictly growing cidr 0..128. */
#define AIP_MAX_DEPTH	 129
#define AIP_STACK	 (AIP_MAX_DEPTH + 2)
#define AIP_FIRST_CAP	 64u
#define AIP_ALIGN	 64
#define AIP_FIRST_OWNERS 16u
/* foreach sorts this many prefixes without allocating: most peers have a few. */
#define AIP_SORT_STACK 16

struct aip_family {
	uint32_t *root;
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
	return common_bits(k, n->key, 128) >= n->cidr;
}

/* Fibonacci hashing: heap pointers differ mostly in their middle bits. */
static uint32_t owner_home(const struct wg_allowedips *t, const void *peer)
{
	return (uint32_t)(((uint64_t)(uintptr_t)peer * 0x9e3779b97f4a7c15ULL) >> 32) &
	       (t->owner_cap - 1);
}

/* The slot holding peer, or the free slot where it would go. */
static uint32_t owner_slot(const struct wg_allowedips *t, const void *peer)
{
	uint32_t i = owner_home(t, peer);

	while (t->owner[i].peer && t->owner[i].peer != peer)
		i = (i + 1) & (t->owner_cap - 1);
	return i;
}

static const struct wg_aip_owner *owner_find(const struct wg_allowedips *t, const void *peer)
{
	const struct wg_aip_owner *o;

	if (!t->owner_cap)
		return NULL;
	o = &t->owner[owner_slot(t, peer)];
	return o->peer ? o : NULL;
}

/* Room for one more peer, so that giving a node to a new peer cannot fail. */
static int owner_reserve(struct wg_allowedips *t)
{
	struct wg_aip_owner *old = t->owner;
	uint32_t old_cap = t->owner_cap, cap = old_cap ? old_cap : AIP_FIRST_OWNERS;

	while (((uint64_t)t->owners + 1) * 2 > cap) {
		if (cap > UINT32_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	if (cap == old_cap)
		return 0;
	t->owner = calloc(cap, sizeof(*t->owner));
	if (!t->owner) {
		t->owner = old;
		return -ENOMEM;
	}
	t->owner_cap = cap;
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i].peer)
			t->owner[owner_slot(t, old[i].peer)] = old[i];
	free(old);
	return 0;
}

/*
 * Empties slot hole without tombstones: each later entry of the same run
 * moves back into it when its probe path passes the hole (its home is not
 * cyclically between the hole and itself), so every lookup still finds it.
 */
static void owner_delete(struct wg_allowedips *t, uint32_t hole)
{
	uint32_t mask = t->owner_cap - 1, j = hole;

	for (;;) {
		j = (j + 1) & mask;
		if (!t->owner[j].peer)
			break;
		if (((j - owner_home(t, t->owner[j].peer)) & mask) >= ((j - hole) & mask)) {
			t->owner[hole] = t->owner[j];
			hole = j;
		}
	}
	t->owner[hole].peer = NULL;
	t->owners--;
}

static void list_add(struct wg_allowedips *t, uint32_t i, void *peer)
{
	struct wg_aip_owner *o = &t->owner[owner_slot(t, peer)];

	if (!o->peer) {
		o->peer = peer;
		o->head = NONE;
		o->count = 0;
		t->owners++;
	}
	t->link[i].prev = NONE;
	t->link[i].next = o->head;
	if (o->head != NONE)
		t->link[o->head].prev = i;
	o->head = i;
	o->count++;
}

static void list_del(struct wg_allowedips *t, uint32_t i, const void *peer)
{
	uint32_t slot = owner_slot(t, peer);
	struct wg_aip_owner *o = &t->owner[slot];
	const struct wg_aip_link *l = &t->link[i];

	if (l->prev != NONE)
		t->link[l->prev].next = l->next;
	else
		o->head = l->next;
	if (l->next != NONE)
		t->link[l->next].prev = l->prev;
	if (--o->count == 0)
		owner_delete(t, slot);
}

/* The one place a node changes owner: the per-peer lists follow it here. */
static void set_peer(struct wg_allowedips *t, uint32_t i, void *peer)
{
	void *old = t->peer[i];

	if (old == peer)
		return;
	if (old) {
		list_del(t, i, old);
		t->prefixes--;
	}
	if (peer) {
		list_add(t, i, peer);
		t->prefixes++;
	}
	t->peer[i] = peer;
	t->node[i].has_peer = peer != NULL;
}

/* Makes room for n more nodes, so that an insert cannot fail half done. */
static int reserve(struct wg_allowedips *t, uint32_t n)
{
	uint32_t cap, used = (uint32_t)t->nodes + 1; /* slot 0 is never used */
	struct wg_aip_node *node;
	struct wg_aip_link *link;
	void **peer;

	if (t->cap >= used && t->cap - used >= n)
		return 0;
	cap = t->cap ? t->cap : AIP_FIRST_CAP;
	while (cap - used < n) {
		if (cap > UINT32_MAX / 2 || (size_t)cap * 2 > SIZE_MAX / sizeof(*node))
			return -ENOMEM;
		cap *= 2;
	}
	if (posix_memalign((void **)&node, AIP_ALIGN, (size_t)cap * sizeof(*node)))
		return -ENOMEM;
	/* The parallel arrays may grow before the arena fails: they only get longer. */
	peer = realloc(t->peer, (size_t)cap * sizeof(*peer));
	if (peer)
		t->peer = peer;
	link = peer ? realloc(t->link, (size_t)cap * sizeof(*link)) : NULL;
	if (!link) {
		free(node);
		return -ENOMEM;
	}
	t->link = link;
	if (t->cap)
		memcpy(node, t->node, (size_t)t->cap * sizeof(*node));
	free(t->node);
	t->node = node;
	/* Lowest new index first out of the free list. */
	for (uint32_t i = cap - 1; i >= (t->cap ? t->cap : 1); i--) {
		node[i].child[0] = t->free_head;
		t->free_head = i;
	}
	t->cap = cap;
	return 0;
}

static uint32_t node_new(struct wg_allowedips *t, const uint64_t k[2], uint8_t cidr, bool is_v6,
			 void *peer)
{
	uint32_t i = t->free_head;
	struct wg_aip_node *n = &t->node[i];
	uint64_t m[2];

	t->free_head = n->child[0];
	prefix_mask(cidr, m);
	n->key[0] = k[0] & m[0];
	n->key[1] = k[1] & m[1];
	n->child[0] = NONE;
	n->child[1] = NONE;
	n->cidr = cidr;
	n->is_v6 = is_v6;
	/* A fresh or freed slot is on no list. */
	n->has_peer = 0;
	t->peer[i] = NULL;
	set_peer(t, i, peer);
	t->nodes++;
	return i;
}

static void node_release(struct wg_allowedips *t, uint32_t i)
{
	set_peer(t, i, NULL);
	t->node[i].child[0] = t->free_head;
	t->free_head = i;
	t->nodes--;
}

/*
 * Restores the invariant at *slot: a node without a peer and with fewer than
 * two children carries no information, so it is replaced by its only child
 * (or by nothing). Its child's prefix already extends the node's own.
 */
static void prune(struct wg_allowedips *t, uint32_t *slot)
{
	uint32_t i = *slot;
	const struct wg_aip_node *n = &t->node[i];

	if (i == NONE || n->has_peer || (n->child[0] && n->child[1]))
		return;
	*slot = n->child[0] ? n->child[0] : n->child[1];
	node_release(t, i);
}

void wg_allowedips_init(struct wg_allowedips *t)
{
	memset(t, 0, sizeof(*t));
}

void wg_allowedips_free(struct wg_allowedips *t)
{
	free(t->node);
	free(t->peer);
	free(t->link);
	free(t->owner);
	memset(t, 0, sizeof(*t));
}

/* An empty table gives its arena back, so a flushed table costs nothing. */
static void release_if_empty(struct wg_allowedips *t)
{
	if (t->nodes == 0)
		wg_allowedips_free(t);
}

int wg_allowedips_insert(struct wg_allowedips *t, uint8_t family, const uint8_t *addr, uint8_t cidr,
			 void *peer)
{
	struct aip_family f;
	uint32_t *slot, i, leaf, branch;
	uint64_t k[2];
	bool v6 = family == AF_INET6;

	if (!family_of(t, family, &f) || cidr > f.maxbits || !peer)
		return -EINVAL;
	/* Before any pointer into the arena is taken: growing moves it. */
	if (reserve(t, 2) || owner_reserve(t))
		return -ENOMEM;
	key_from_addr(family, addr, k);
	slot = f.root;
	while ((i = *slot) != NONE) {
		struct wg_aip_node *n = &t->node[i];
		uint8_t cpl = common_bits(k, n->key, cidr < n->cidr ? cidr : n->cidr);

		if (cpl == n->cidr) {
			if (n->cidr == cidr) {
				set_peer(t, i, peer);
				return 0;
			}
			slot = &n->child[key_bit(k, n->cidr)];
			continue;
		}
		/* The new prefix leaves n's path above n: it goes in between. */
		leaf = node_new(t, k, cidr, v6, peer);
		if (cpl == cidr) {
			t->node[leaf].child[key_bit(n->key, cidr)] = i;
			*slot = leaf;
			return 0;
		}
		branch = node_new(t, k, cpl, v6, NULL);
		t->node[branch].child[key_bit(k, cpl)] = leaf;
		t->node[branch].child[key_bit(n->key, cpl)] = i;
		*slot = branch;
		return 0;
	}
	*slot = node_new(t, k, cidr, v6, peer);
	return 0;
}

/* Takes peer's prefix k/cidr (k masked) out of the trie at root: 0 or -ENOENT. */
static int remove_prefix(struct wg_allowedips *t, uint32_t *root, const uint64_t k[2], uint8_t cidr,
			 const void *peer)
{
	uint32_t *slot = root, *parent = NULL, i;
	const struct wg_aip_node *n = NULL;

	while ((i = *slot) != NONE) {
		n = &t->node[i];
		if (n->cidr >= cidr || !node_covers(n, k))
			break;
		parent = slot;
		slot = &t->node[i].child[key_bit(k, n->cidr)];
	}
	if (i == NONE || n->cidr != cidr || n->key[0] != k[0] || n->key[1] != k[1] || !peer ||
	    t->peer[i] != peer)
		return -ENOENT;
	set_peer(t, i, NULL);
	prune(t, slot);
	/* Only when the node went away entirely can its parent have lost a child. */
	if (parent)
		prune(t, parent);
	return 0;
}

int wg_allowedips_remove(struct wg_allowedips *t, uint8_t family, const uint8_t *addr, uint8_t cidr,
			 void *peer)
{
	struct aip_family f;
	uint64_t k[2], m[2];
	int rc;

	if (!family_of(t, family, &f) || cidr > f.maxbits)
		return -EINVAL;
	key_from_addr(family, addr, k);
	prefix_mask(cidr, m);
	k[0] &= m[0];
	k[1] &= m[1];
	rc = remove_prefix(t, f.root, k, cidr, peer);
	release_if_empty(t);
	return rc;
}

/* One prefix at a time from the peer's list, each found again from its root. */
void wg_allowedips_remove_by_peer(struct wg_allowedips *t, void *peer)
{
	const struct wg_aip_owner *o;

	while (peer && (o = owner_find(t, peer)) != NULL) {
		const struct wg_aip_node *n = &t->node[o->head];
		uint64_t k[2] = {n->key[0], n->key[1]};

		/* Cannot fail while the lists are right; never loop if they were not. */
		if (remove_prefix(t, n->is_v6 ? &t->root6 : &t->root4, k, n->cidr, peer))
			break;
	}
	release_if_empty(t);
}

void *wg_allowedips_lookup(const struct wg_allowedips *t, uint8_t family, const uint8_t *addr)
{
	const struct wg_aip_node *node = t->node;
	uint32_t i, best = NONE;
	uint8_t maxbits;
	uint64_t k[2];

	if (family == AF_INET) {
		i = t->root4;
		maxbits = 32;
	} else if (family == AF_INET6) {
		i = t->root6;
		maxbits = 128;
	} else {
		return NULL;
	}
	key_from_addr(family, addr, k);
	while (i != NONE) {
		const struct wg_aip_node *n = &node[i];

		if (!node_covers(n, k))
			break;
		if (n->has_peer)
			best = i;
		if (n->cidr >= maxbits)
			break;
		i = n->child[key_bit(k, n->cidr)];
	}
	return best != NONE ? t->peer[best] : NULL;
}

/* Pre-order, 0 before 1: prefixes come out in address order, shorter first. */
static void walk_tree(const struct wg_allowedips *t, uint32_t root, uint8_t family, void *peer,
		      void (*cb)(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr),
		      void *ctx)
{
	uint32_t stack[AIP_STACK];
	unsigned int sp = 0;
	uint8_t addr[16];

	if (root != NONE)
		stack[sp++] = root;
	while (sp) {
		uint32_t i = stack[--sp];
		const struct wg_aip_node *n = &t->node[i];

		if (t->peer[i] == peer) {
			key_to_addr(family, n->key, addr);
			cb(ctx, family, addr, n->cidr);
		}
		if (n->child[1] != NONE)
			stack[sp++] = n->child[1];
		if (n->child[0] != NONE)
			stack[sp++] = n->child[0];
	}
}

struct aip_entry {
	uint64_t key[2];
	uint8_t is_v6;
	uint8_t cidr;
};

/* The order of walk_tree over both tries: IPv4 first, address, then length. */
static int entry_cmp(const void *pa, const void *pb)
{
	const struct aip_entry *a = pa, *b = pb;

	if (a->is_v6 != b->is_v6)
		return a->is_v6 < b->is_v6 ? -1 : 1;
	for (int w = 0; w < 2; w++)
		if (a->key[w] != b->key[w])
			return a->key[w] < b->key[w] ? -1 : 1;
	return (a->cidr > b->cidr) - (a->cidr < b->cidr);
}

void wg_allowedips_foreach(const struct wg_allowedips *t, void *peer,
			   void (*cb)(void *ctx, uint8_t family, const uint8_t *addr, uint8_t cidr),
			   void *ctx)
{
	struct aip_entry local[AIP_SORT_STACK], *e = local;
	const struct wg_aip_owner *o;
	uint32_t n = 0;
	uint8_t addr[16];

	if (!peer || !cb || !(o = owner_find(t, peer)))
		return;
	if (o->count > AIP_SORT_STACK && !(e = malloc(o->count * sizeof(*e)))) {
		/* Out of memory: the same order, at the cost of the whole table. */
		walk_tree(t, t->root4, AF_INET, peer, cb, ctx);
		walk_tree(t, t->root6, AF_INET6, peer, cb, ctx);
		return;
	}
	for (uint32_t i = o->head; i != NONE; i = t->link[i].next) {
		e[n].key[0] = t->node[i].key[0];
		e[n].key[1] = t->node[i].key[1];
		e[n].is_v6 = t->node[i].is_v6;
		e[n].cidr = t->node[i].cidr;
		n++;
	}
	qsort(e, n, sizeof(*e), entry_cmp);
	for (uint32_t j = 0; j < n; j++) {
		uint8_t family = e[j].is_v6 ? AF_INET6 : AF_INET;

		key_to_addr(family, e[j].key, addr);
		cb(ctx, family, addr, e[j].cidr);
	}
	if (e != local)
		free(e);
}

size_t wg_allowedips_count(const struct wg_allowedips *t, void *peer)
{
	const struct wg_aip_owner *o;

	if (!peer)
		return t->prefixes;
	o = owner_find(t, peer);
	return o ? o->count : 0;
}
