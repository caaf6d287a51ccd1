/* SPDX-License-Identifier: MIT */
/*
 * vwirectl metrics' pure parts: label values escaped as the exposition format wants
 * (daemon/metrics.c), the answer buffer growing without losing text (daemon/out.c), and
 * the merge of several instances' expositions into one with each family's HELP and TYPE
 * once and its series together (ctl/metrics_merge.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/metrics_merge.h"
#include "daemon/metrics.h"

static void test_label_escaping(void **state)
{
	struct out o = {0};

	(void)state;
	metrics_label_value(&o, "plain");
	outf(&o, "|");
	metrics_label_value(&o, "a\\b\"c\nd");
	outf(&o, "|");
	metrics_label_value(&o, "\n\n\"");
	outf(&o, "|");
	metrics_label_value(&o, "");
	assert_false(o.oom);
	assert_int_equal(o.len, strlen(o.buf));
	assert_string_equal(o.buf, "plain|a\\\\b\\\"c\\nd|\\n\\n\\\"|");
	free(o.buf);
}

static void test_out_grows(void **state)
{
	struct out o = {0};
	char big[10000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 5; i++)
		outf(&o, "%d%s", i, big);
	assert_false(o.oom);
	assert_int_equal(o.len, 5 * sizeof(big));
	for (int i = 0; i < 5; i++)
		assert_int_equal(o.buf[i * sizeof(big)], '0' + i);
	free(o.buf);
}

static char *merge(const char *const *texts, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(metrics_merge(f, texts, n), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_merge(void **state)
{
	static const char a[] = "# HELP x_total X.\n"
				"# TYPE x_total counter\n"
				"x_total{instance=\"a\",k=\"1\"} 1\n"
				"x_total{instance=\"a\",k=\"2\"} 2\n"
				"# a comment goes\n"
				"\n"
				"# HELP only_a A.\n"
				"# TYPE only_a gauge\n"
				"only_a{instance=\"a\"} 3\n";
	static const char b[] = "# HELP x_total X, as b says it.\n"
				"# TYPE x_total counter\n"
				"x_total{instance=\"b\",k=\"1\"} 4\n"
				"# HELP only_b B.\n"
				"# TYPE only_b gauge\n"
				"only_b{instance=\"b\"} 5\n"
				"# HELP only_a A.\n"
				"# TYPE only_a gauge\n"
				"only_a{instance=\"b\"} 6"; /* no newline at the end */
	const char *texts[] = {a, b};
	char *m;

	(void)state;
	m = merge(texts, 2);
	assert_string_equal(m, "# HELP x_total X.\n"
			       "# TYPE x_total counter\n"
			       "x_total{instance=\"a\",k=\"1\"} 1\n"
			       "x_total{instance=\"a\",k=\"2\"} 2\n"
			       "x_total{instance=\"b\",k=\"1\"} 4\n"
			       "# HELP only_a A.\n"
			       "# TYPE only_a gauge\n"
			       "only_a{instance=\"a\"} 3\n"
			       "only_a{instance=\"b\"} 6\n"
			       "# HELP only_b B.\n"
			       "# TYPE only_b gauge\n"
			       "only_b{instance=\"b\"} 5\n");
	free(m);
}

/* One text comes out as it went in, less what does not count; none, as nothing. */
static void test_merge_one_and_none(void **state)
{
	static const char a[] = "untyped{instance=\"a\"} 7\n"
				"# TYPE t gauge\n"
				"t{instance=\"a\"} 8\n"
				"# HELP t T, after its TYPE.\n";
	const char *texts[] = {a};
	char *m;

	(void)state;
	m = merge(texts, 1);
	assert_string_equal(m, "untyped{instance=\"a\"} 7\n"
			       "# TYPE t gauge\n"
			       "# HELP t T, after its TYPE.\n"
			       "t{instance=\"a\"} 8\n");
	free(m);
	m = merge(texts, 0);
	assert_string_equal(m, "");
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_out_grows),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_one_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
