/* SPDX-License-Identifier: MIT */
/*
 * mac1, mac2 and cookie replies: known answers from vectors/noise_vectors.py,
 * then the rules: secret renewal after two minutes, cookies go stale a little
 * before that, a reply is accepted once, cookies are bound to address and port.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "tunnel/cookie.h"
#include "vectors/noise_vectors.h"

/* Hands out scripted bytes, then a counter: what the device's random hook would get. */
struct script {
	uint8_t bytes[64];
	size_t len, pos;
	uint8_t counter;
};

static void script_random(void *ctx, void *buf, size_t len)
{
	struct script *s = ctx;
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++)
		b[i] = s->pos < s->len ? s->bytes[s->pos++] : (uint8_t)(0x80 + s->counter++);
}

static void script_init(struct script *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->bytes, kat_cookie_secret, 32);
	memcpy(s->bytes + 32, kat_cookie_nonce, 24);
	s->len = 56;
}

static void src_endpoint(struct vw_endpoint *ep, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->in4.sin_family = AF_INET;
	ep->in4.sin_port = htons(port);
	inet_pton(AF_INET, KAT_SRC_ADDR, &ep->in4.sin_addr);
}

static void test_reply_known_answer(void **state)
{
	struct wg_cookie_checker checker;
	struct wg_cookie ck;
	struct vw_endpoint src;
	struct script s;
	uint8_t reply[WG_COOKIE_REPLY_SIZE], init[WG_INIT_SIZE];

	(void)state;
	script_init(&s);
	src_endpoint(&src, KAT_SRC_PORT);
	wg_cookie_checker_init(&checker, kat_s_pub_r);
	/* The responder under load answers the KAT initiation with the KAT cookie reply. */
	wg_cookie_create_reply(&checker, reply, kat_initiation_nopsk, WG_INIT_SIZE, KAT_SENDER_I,
			       &src, 0, script_random, &s);
	assert_memory_equal(reply, kat_cookie_reply_nopsk, WG_COOKIE_REPLY_SIZE);

	/* The initiator, having sent that initiation, takes the cookie out... */
	wg_cookie_init(&ck, kat_s_pub_r);
	memcpy(init, kat_initiation_nopsk, WG_INIT_SIZE);
	wg_cookie_add_macs(&ck, init, WG_INIT_SIZE, 0);
	assert_memory_equal(init, kat_initiation_nopsk, WG_INIT_SIZE); /* mac2 still zero */
	assert_true(wg_cookie_consume_reply(&ck, reply, WG_NS_PER_SEC));
	assert_memory_equal(ck.cookie, kat_cookie_nopsk, WG_COOKIE_SIZE);
	/* ...once: the same reply again is refused. */
	assert_false(wg_cookie_consume_reply(&ck, reply, WG_NS_PER_SEC));

	/* ...and the retry carries mac2, which the responder accepts. */
	wg_cookie_add_macs(&ck, init, WG_INIT_SIZE, 2 * WG_NS_PER_SEC);
	assert_memory_equal(init + WG_INIT_OFF_MAC2, kat_initiation_mac2_nopsk, WG_MAC_LEN);
	assert_int_equal(wg_cookie_validate(&checker, init, WG_INIT_SIZE, &src, true,
					    3 * WG_NS_PER_SEC, script_random, &s),
			 WG_COOKIE_VALID_MAC_WITH_COOKIE);
	/* From another port of the same host the cookie is wrong. */
	src_endpoint(&src, KAT_SRC_PORT + 1);
	assert_int_equal(wg_cookie_validate(&checker, init, WG_INIT_SIZE, &src, true,
					    3 * WG_NS_PER_SEC, script_random, &s),
			 WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
}

static void test_mac1(void **state)
{
	struct wg_cookie_checker checker;
	struct vw_endpoint src;
	struct script s;
	uint8_t init[WG_INIT_SIZE];

	(void)state;
	script_init(&s);
	src_endpoint(&src, KAT_SRC_PORT);
	wg_cookie_checker_init(&checker, kat_s_pub_r);
	assert_int_equal(wg_cookie_validate(&checker, kat_initiation_nopsk, WG_INIT_SIZE, &src,
					    false, 0, script_random, &s),
			 WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	/* Any change before mac1 breaks it, and so does a change of mac1 itself. */
	for (size_t off = 0; off < WG_INIT_OFF_MAC2; off += 7) {
		memcpy(init, kat_initiation_nopsk, WG_INIT_SIZE);
		init[off] ^= 0x80;
		assert_int_equal(wg_cookie_validate(&checker, init, WG_INIT_SIZE, &src, false, 0,
						    script_random, &s),
				 WG_COOKIE_INVALID_MAC);
	}
	/* mac2 is not covered by mac1. */
	memcpy(init, kat_initiation_nopsk, WG_INIT_SIZE);
	init[WG_INIT_OFF_MAC2] ^= 1;
	assert_int_equal(
		wg_cookie_validate(&checker, init, WG_INIT_SIZE, &src, false, 0, script_random, &s),
		WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	/* Keyed by the responder's public key: the initiator's own checker says no. */
	wg_cookie_checker_init(&checker, kat_s_pub_i);
	assert_int_equal(wg_cookie_validate(&checker, kat_initiation_nopsk, WG_INIT_SIZE, &src,
					    false, 0, script_random, &s),
			 WG_COOKIE_INVALID_MAC);
	/* Under load without mac2: valid mac1, but no cookie. */
	wg_cookie_checker_init(&checker, kat_s_pub_r);
	assert_int_equal(wg_cookie_validate(&checker, kat_initiation_nopsk, WG_INIT_SIZE, &src,
					    true, 0, script_random, &s),
			 WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
}

static void test_secret_rotation_and_staleness(void **state)
{
	struct wg_cookie_checker checker;
	struct wg_cookie ck;
	struct vw_endpoint src;
	struct script s;
	uint8_t reply[WG_COOKIE_REPLY_SIZE], init[WG_INIT_SIZE];
	const uint64_t t0 = 1000 * WG_NS_PER_SEC;

	(void)state;
	script_init(&s);
	src_endpoint(&src, KAT_SRC_PORT);
	wg_cookie_checker_init(&checker, kat_s_pub_r);
	wg_cookie_init(&ck, kat_s_pub_r);
	memcpy(init, kat_initiation_nopsk, WG_INIT_SIZE);
	wg_cookie_add_macs(&ck, init, WG_INIT_SIZE, t0);
	wg_cookie_create_reply(&checker, reply, init, WG_INIT_SIZE, 1, &src, t0, script_random, &s);
	assert_true(wg_cookie_consume_reply(&ck, reply, t0));

	/* The cookie is used for mac2 for 115 s (120 s minus the 5 s latency allowance)... */
	wg_cookie_add_macs(&ck, init, WG_INIT_SIZE, t0 + 115 * WG_NS_PER_SEC - 1);
	assert_int_equal(wg_cookie_validate(&checker, init, WG_INIT_SIZE, &src, true,
					    t0 + 119 * WG_NS_PER_SEC, script_random, &s),
			 WG_COOKIE_VALID_MAC_WITH_COOKIE);
	/* ...and after that mac2 is left zero. */
	wg_cookie_add_macs(&ck, init, WG_INIT_SIZE, t0 + 115 * WG_NS_PER_SEC);
	for (int i = 0; i < WG_MAC_LEN; i++)
		assert_int_equal(init[WG_INIT_OFF_MAC2 + i], 0);

	/* The responder renews its secret after 120 s: the old cookie no longer counts. */
	wg_cookie_add_macs(&ck, init, WG_INIT_SIZE, t0 + 100 * WG_NS_PER_SEC);
	assert_int_equal(wg_cookie_validate(&checker, init, WG_INIT_SIZE, &src, true,
					    t0 + 120 * WG_NS_PER_SEC, script_random, &s),
			 WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	assert_int_equal(checker.secret_birthdate, t0 + 120 * WG_NS_PER_SEC);
}

static void test_bad_replies(void **state)
{
	struct wg_cookie ck;
	uint8_t reply[WG_COOKIE_REPLY_SIZE], init[WG_INIT_SIZE];

	(void)state;
	wg_cookie_init(&ck, kat_s_pub_r);
	/* Nothing sent yet: nothing to accept a cookie for. */
	assert_false(wg_cookie_consume_reply(&ck, kat_cookie_reply_nopsk, 0));
	memcpy(init, kat_initiation_nopsk, WG_INIT_SIZE);
	wg_cookie_add_macs(&ck, init, WG_INIT_SIZE, 0);
	for (size_t off = WG_COOKIE_OFF_NONCE; off < WG_COOKIE_REPLY_SIZE; off += 5) {
		memcpy(reply, kat_cookie_reply_nopsk, sizeof(reply));
		reply[off] ^= 0x04;
		assert_false(wg_cookie_consume_reply(&ck, reply, 0));
	}
	assert_false(ck.is_valid);
	/* A reply to a different message (another mac1) does not decrypt either. */
	init[WG_INIT_OFF_SENDER] ^= 1;
	wg_cookie_add_macs(&ck, init, WG_INIT_SIZE, 0);
	assert_false(wg_cookie_consume_reply(&ck, kat_cookie_reply_nopsk, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_known_answer),
		cmocka_unit_test(test_mac1),
		cmocka_unit_test(test_secret_rotation_and_staleness),
		cmocka_unit_test(test_bad_replies),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
