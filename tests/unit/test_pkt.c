/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/pkt.h"

static void test_push_pull_put(void **state)
{
	struct pkt_pool pool;
	struct pkt *p;

	(void)state;
	assert_true(pkt_pool_init(&pool, 2, PKT_DEFAULT_SIZE));
	p = pkt_alloc(&pool);
	assert_non_null(p);
	assert_int_equal(pkt_headroom(p), PKT_HEADROOM);
	assert_int_equal(p->len, 0);
	assert_int_equal(pkt_tailroom(p), PKT_DEFAULT_SIZE - PKT_HEADROOM);

	memcpy(pkt_put(p, 4), "data", 4);
	memcpy(pkt_push(p, 3), "hdr", 3);
	assert_int_equal(p->len, 7);
	assert_memory_equal(p->data, "hdrdata", 7);
	assert_non_null(pkt_pull(p, 3));
	assert_memory_equal(p->data, "data", 4);

	/* Refusals change nothing. */
	assert_null(pkt_pull(p, 5));
	assert_null(pkt_push(p, PKT_HEADROOM + 4));
	assert_null(pkt_put(p, pkt_tailroom(p) + 1));
	assert_int_equal(p->len, 4);
	assert_memory_equal(p->data, "data", 4);

	pkt_trim(p, 2);
	assert_int_equal(p->len, 2);
	pkt_trim(p, 10);
	assert_int_equal(p->len, 2);
	pkt_free(p);
	pkt_pool_destroy(&pool);
}

/* The pool hands out each buffer once, runs dry, and takes every buffer back. */
static void test_pool_exhaustion(void **state)
{
	struct pkt_pool pool;
	struct pkt_vec v;
	struct pkt *p;

	(void)state;
	assert_true(pkt_pool_init(&pool, 5, 512));
	pkt_vec_init(&v);
	while ((p = pkt_alloc(&pool)))
		assert_true(pkt_vec_add(&v, p));
	assert_int_equal(v.n, 5);
	assert_int_equal(pool.nfree, 0);
	for (uint32_t i = 0; i < v.n; i++)
		for (uint32_t j = i + 1; j < v.n; j++)
			assert_ptr_not_equal(v.p[i]->head, v.p[j]->head);
	pkt_vec_free(&v);
	assert_int_equal(v.n, 0);
	assert_int_equal(pool.nfree, 5);
	pkt_pool_destroy(&pool);
	assert_false(pkt_pool_init(&pool, 0, 512));
	assert_false(pkt_pool_init(&pool, 4, 8));
}

/*
 * A shared pool (vwired's workers): threads allocating and freeing at once never get the
 * same packet, and every packet comes back. Each thread stamps the packets it holds and
 * checks the stamp is still its own when it frees them.
 */
#define SHARE_ROUNDS 100000
#define SHARE_HOLD   8

struct share_arg {
	struct pkt_pool *pool;
	uint32_t id;
	uint32_t clashes, empty;
};

static void *share_worker(void *arg)
{
	struct share_arg *a = arg;
	struct pkt *held[SHARE_HOLD];

	for (uint32_t r = 0; r < SHARE_ROUNDS; r++) {
		uint32_t n = 0;

		for (uint32_t k = 0; k < 1 + r % SHARE_HOLD; k++) {
			struct pkt *p = pkt_alloc(a->pool);

			if (!p) {
				a->empty++;
				continue;
			}
			memcpy(p->data, &a->id, sizeof(a->id));
			memcpy(p->data + 4, &r, sizeof(r));
			held[n++] = p;
		}
		for (uint32_t k = 0; k < n; k++) {
			uint32_t id, round;

			memcpy(&id, held[k]->data, sizeof(id));
			memcpy(&round, held[k]->data + 4, sizeof(round));
			if (id != a->id || round != r)
				a->clashes++;
			pkt_free(held[k]);
		}
	}
	return NULL;
}

static void test_pool_shared_threads(void **state)
{
	struct pkt_pool pool;
	struct share_arg args[3];
	pthread_t th[3];

	(void)state;
#ifdef VW_TEST_NO_THREADS
	skip();
#endif
	/* Fewer packets than the threads may hold at once: the empty pool is hit too. */
	assert_true(pkt_pool_init(&pool, 20, PKT_DEFAULT_SIZE));
	assert_true(pkt_pool_share(&pool));
	for (uint32_t i = 0; i < 3; i++) {
		args[i] = (struct share_arg){.pool = &pool, .id = i + 1};
		assert_int_equal(pthread_create(&th[i], NULL, share_worker, &args[i]), 0);
	}
	for (uint32_t i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].clashes, 0);
	}
	assert_int_equal(pool.nfree, pool.count);
	/* The free list is whole: every packet can be taken exactly once. */
	for (uint32_t i = 0; i < pool.count; i++)
		assert_non_null(pkt_alloc(&pool));
	assert_null(pkt_alloc(&pool));
	pkt_pool_destroy(&pool);
}

static void test_vec_capacity(void **state)
{
	struct pkt_vec v;
	struct pkt dummy;

	(void)state;
	pkt_vec_init(&v);
	for (int i = 0; i < PKT_VEC_MAX; i++)
		assert_true(pkt_vec_add(&v, &dummy));
	assert_true(pkt_vec_full(&v));
	assert_false(pkt_vec_add(&v, &dummy));
	assert_int_equal(v.n, PKT_VEC_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_pull_put),
		cmocka_unit_test(test_pool_exhaustion),
		cmocka_unit_test(test_vec_capacity),
		cmocka_unit_test(test_pool_shared_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
