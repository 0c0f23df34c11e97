/*
 * daemon/metrics: counters with and without labels, label escaping, the
 * "other" overflow, histogram buckets, reset, and the shape of the text
 * exposition format 0.0.4. Each test starts from metrics_reset().
 */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/metrics.h"

static int
setup(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

/* 1 if text has line (without its newline) as a whole line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static void
assert_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("no line \"%s\" in:\n%s", line, text);
}

/* The value of the sample whose name and labels are exactly series. */
static double
sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; (p = strstr(p, series)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	fail_msg("no sample %s in:\n%s", series, text);
	return -1;
}

static void
test_counter_unlabelled(void **state)
{
	char *t;

	(void)state;
	metrics_add(M_SUBMITS, NULL, 1);
	metrics_add(M_SUBMITS, NULL, 4);
	metrics_add(M_RECONNECTS, NULL, 1);
	/* A label on an unlabelled metric changes nothing. */
	metrics_add(M_RECONNECTS, "x", 2);
	assert_int_equal(metrics_counter(M_SUBMITS, NULL), 5);
	assert_int_equal(metrics_counter(M_RECONNECTS, NULL), 3);

	assert_non_null(t = metrics_render());
	assert_line(t, "# TYPE smsgwd_submits_total counter");
	assert_line(t, "smsgwd_submits_total 5");
	assert_line(t, "smsgwd_reconnects_total 3");
	/* Never touched: still there, at 0. */
	assert_line(t, "smsgwd_throttled_total 0");
	assert_line(t, "smsgwd_inbound_refused_total 0");
	assert_null(strstr(t, "smsgwd_reconnects_total{"));
	free(t);
}

static void
test_counter_labels(void **state)
{
	char *t;

	(void)state;
	/* Before any value, a labelled counter has HELP and TYPE only. */
	assert_non_null(t = metrics_render());
	assert_line(t, "# TYPE smsgwd_inbound_texts_total counter");
	assert_null(strstr(t, "smsgwd_inbound_texts_total{"));
	free(t);

	for (int i = 0; i < 3; i++)
		metrics_add(M_INBOUND_TEXTS, "help", 1);
	metrics_add(M_INBOUND_TEXTS, "query", 1);
	metrics_add(M_INBOUND_TEXTS, "unknown", 1);
	metrics_add(M_OUTBOUND, "submitted", 5);
	metrics_add(M_OUTBOUND, "delivered", 0);    /* declares the series */
	metrics_add(M_RECEIPTS, "DELIVRD", 2);
	assert_int_equal(metrics_counter(M_INBOUND_TEXTS, "help"), 3);
	assert_int_equal(metrics_counter(M_INBOUND_TEXTS, "stop"), 0);
	assert_int_equal(metrics_counter(M_OUTBOUND, "submitted"), 5);

	assert_non_null(t = metrics_render());
	assert_line(t, "smsgwd_inbound_texts_total{intent=\"help\"} 3");
	assert_line(t, "smsgwd_inbound_texts_total{intent=\"query\"} 1");
	assert_line(t, "smsgwd_inbound_texts_total{intent=\"unknown\"} 1");
	assert_line(t, "smsgwd_outbound_total{state=\"submitted\"} 5");
	assert_line(t, "smsgwd_outbound_total{state=\"delivered\"} 0");
	assert_line(t, "smsgwd_receipts_total{stat=\"DELIVRD\"} 2");
	/* In the order first seen, right after the metric's TYPE line. */
	assert_non_null(strstr(t, "# TYPE smsgwd_inbound_texts_total counter\n"
	    "smsgwd_inbound_texts_total{intent=\"help\"} 3\n"
	    "smsgwd_inbound_texts_total{intent=\"query\"} 1\n"
	    "smsgwd_inbound_texts_total{intent=\"unknown\"} 1\n"
	    "# HELP smsgwd_outbound_total "));
	free(t);
}

/* PDUs whose body did not unpack, by command (daemon/link/smpp). */
static void
test_undecodable(void **state)
{
	char *t;

	(void)state;
	assert_non_null(t = metrics_render());
	assert_line(t, "# TYPE smsgwd_undecodable_pdus_total counter");
	assert_null(strstr(t, "smsgwd_undecodable_pdus_total{"));
	free(t);
	metrics_add(M_UNDECODABLE, "deliver_sm", 1);
	metrics_add(M_UNDECODABLE, "deliver_sm", 1);
	metrics_add(M_UNDECODABLE, "submit_sm_resp", 1);
	assert_int_equal(metrics_counter(M_UNDECODABLE, "deliver_sm"), 2);
	assert_non_null(t = metrics_render());
	assert_line(t,
	    "smsgwd_undecodable_pdus_total{command=\"deliver_sm\"} 2");
	assert_line(t,
	    "smsgwd_undecodable_pdus_total{command=\"submit_sm_resp\"} 1");
	free(t);
}

static void
test_label_escaping(void **state)
{
	char *t;

	(void)state;
	metrics_add(M_RECEIPTS, "a\"b\\c\nd", 1);
	metrics_add(M_RECEIPTS, "\\", 2);
	metrics_add(M_RECEIPTS, "状态", 3);        /* UTF-8 is kept as it is */
	assert_int_equal(metrics_counter(M_RECEIPTS, "a\"b\\c\nd"), 1);
	assert_non_null(t = metrics_render());
	assert_line(t, "smsgwd_receipts_total{stat=\"a\\\"b\\\\c\\nd\"} 1");
	assert_line(t, "smsgwd_receipts_total{stat=\"\\\\\"} 2");
	assert_line(t, "smsgwd_receipts_total{stat=\"状态\"} 3");
	free(t);
}

/* Values that cannot be shown as they are go to "other". */
static void
test_bad_labels(void **state)
{
	char long_label[64], *t;

	(void)state;
	memset(long_label, 'A', sizeof(long_label) - 1);
	long_label[sizeof(long_label) - 1] = '\0';
	metrics_add(M_RECEIPTS, "\xff\xfe", 1);       /* not UTF-8 */
	metrics_add(M_RECEIPTS, "\xe7\x8a", 1);       /* cut in a character */
	metrics_add(M_RECEIPTS, long_label, 1);
	metrics_add(M_RECEIPTS, "", 1);
	metrics_add(M_RECEIPTS, NULL, 1);
	long_label[47] = '\0';                         /* 47 bytes: fits */
	metrics_add(M_RECEIPTS, long_label, 1);
	assert_int_equal(metrics_counter(M_RECEIPTS, "other"), 5);
	assert_int_equal(metrics_counter(M_RECEIPTS, long_label), 1);
	assert_non_null(t = metrics_render());
	assert_line(t, "smsgwd_receipts_total{stat=\"other\"} 5");
	assert_null(strstr(t, "\xff"));
	free(t);
}

static void
test_other_overflow(void **state)
{
	char label[16], line[96], *t;

	(void)state;
	for (int i = 0; i < 32; i++) {
		snprintf(label, sizeof(label), "s%02d", i);
		metrics_add(M_OUTBOUND, label, (uint64_t)i + 1);
	}
	/* Full: new values are pooled, known ones still count alone. */
	metrics_add(M_OUTBOUND, "s32", 10);
	metrics_add(M_OUTBOUND, "s33", 20);
	metrics_add(M_OUTBOUND, "s00", 100);
	metrics_add(M_OUTBOUND, "s32", 1);
	assert_int_equal(metrics_counter(M_OUTBOUND, "s32"), 0);
	assert_int_equal(metrics_counter(M_OUTBOUND, "other"), 31);
	assert_int_equal(metrics_counter(M_OUTBOUND, "s00"), 101);
	assert_int_equal(metrics_counter(M_OUTBOUND, "s31"), 32);
	/* Other metrics have their own 32. */
	metrics_add(M_INBOUND_TEXTS, "help", 1);
	assert_int_equal(metrics_counter(M_INBOUND_TEXTS, "help"), 1);

	assert_non_null(t = metrics_render());
	for (int i = 1; i < 32; i++) {
		snprintf(line, sizeof(line),
		    "smsgwd_outbound_total{state=\"s%02d\"} %d", i, i + 1);
		assert_line(t, line);
	}
	assert_line(t, "smsgwd_outbound_total{state=\"s00\"} 101");
	assert_line(t, "smsgwd_outbound_total{state=\"other\"} 31");
	assert_null(strstr(t, "s32"));
	assert_null(strstr(t, "s33"));
	free(t);
}

/* "other" given by the caller early is one series with the overflow. */
static void
test_other_given(void **state)
{
	char label[16];

	(void)state;
	metrics_add(M_OUTBOUND, "other", 1);
	for (int i = 0; i < 40; i++) {
		snprintf(label, sizeof(label), "s%02d", i);
		metrics_add(M_OUTBOUND, label, 1);
	}
	/* 31 slots were left after "other": s31..s39 overflow. */
	assert_int_equal(metrics_counter(M_OUTBOUND, "s30"), 1);
	assert_int_equal(metrics_counter(M_OUTBOUND, "s31"), 0);
	assert_int_equal(metrics_counter(M_OUTBOUND, "other"), 10);
}

static void
test_gauges(void **state)
{
	char *t;

	(void)state;
	assert_int_equal(metrics_gauge(M_BOUND), 0);
	metrics_set(M_BOUND, 1);
	metrics_set(M_OUTBOX_DEPTH, 17);
	metrics_set(M_OUTBOX_DEPTH, 12);
	assert_int_equal(metrics_gauge(M_BOUND), 1);
	assert_int_equal(metrics_gauge(M_OUTBOX_DEPTH), 12);
	assert_non_null(t = metrics_render());
	assert_line(t, "# TYPE smsgwd_smpp_bound gauge");
	assert_line(t, "smsgwd_smpp_bound 1");
	assert_line(t, "# TYPE smsgwd_outbox_depth gauge");
	assert_line(t, "smsgwd_outbox_depth 12");
	free(t);
	metrics_set(M_OUTBOX_DEPTH, -3);
	assert_non_null(t = metrics_render());
	assert_line(t, "smsgwd_outbox_depth -3");
	free(t);
}

/* A call meant for another type of metric changes nothing. */
static void
test_wrong_type(void **state)
{
	char *before, *after;

	(void)state;
	assert_non_null(before = metrics_render());
	metrics_add(M_BOUND, NULL, 1);
	metrics_add(M_REPLY_LATENCY, NULL, 1);
	metrics_set(M_SUBMITS, 5);
	metrics_set(M_COMMIT_LATENCY, 5);
	metrics_observe(M_SUBMITS, 0.1);
	metrics_observe(M_OUTBOX_DEPTH, 0.1);
	metrics_add(M_COUNT, NULL, 1);
	metrics_set(M_COUNT, 1);
	metrics_observe(M_COUNT, 1);
	assert_int_equal(metrics_gauge(M_SUBMITS), 0);
	assert_int_equal(metrics_counter(M_BOUND, NULL), 0);
	assert_non_null(after = metrics_render());
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static const char *const les[] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "+Inf",
};
#define NLES (sizeof(les) / sizeof(les[0]))

static void
test_histogram(void **state)
{
	static const double obs[] = {
		0.0005,       /* on a bound: counts in le="0.0005" */
		0.0004, 0.0007, 0.003, 0.003, 0.2, 1, 4.9,
		7,            /* past the last bound: +Inf only */
		-0.5,         /* counts as 0 */
	};
	/* Expected cumulative counts per le. */
	static const int want[NLES] = {
		3, 4, 4, 6, 6, 6, 6, 6, 7, 7, 8, 8, 9, 10,
	};
	char series[96], *t;
	double sum = 0, prev = 0, v;

	(void)state;
	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++) {
		metrics_observe(M_REPLY_LATENCY, obs[i]);
		sum += obs[i] > 0 ? obs[i] : 0;
	}
	metrics_observe(M_REPLY_LATENCY, NAN);
	metrics_observe(M_REPLY_LATENCY, INFINITY);
	metrics_observe(M_REPLY_LATENCY, -INFINITY);
	metrics_observe(M_COMMIT_LATENCY, 0.002);

	assert_non_null(t = metrics_render());
	assert_line(t, "# TYPE smsgwd_reply_latency_seconds histogram");
	for (size_t i = 0; i < NLES; i++) {
		snprintf(series, sizeof(series),
		    "smsgwd_reply_latency_seconds_bucket{le=\"%s\"}", les[i]);
		v = sample(t, series);
		assert_int_equal((int)v, want[i]);
		assert_true(v >= prev);
		prev = v;
	}
	assert_int_equal((int)sample(t, "smsgwd_reply_latency_seconds_count"),
	    10);
	assert_int_equal((int)prev, 10);            /* +Inf == _count */
	assert_true(fabs(sample(t, "smsgwd_reply_latency_seconds_sum") - sum) <
	    1e-9);
	/* The buckets, in le order, right after TYPE; then _sum, _count. */
	assert_non_null(strstr(t,
	    "# TYPE smsgwd_reply_latency_seconds histogram\n"
	    "smsgwd_reply_latency_seconds_bucket{le=\"0.0005\"} 3\n"));
	assert_non_null(strstr(t,
	    "smsgwd_reply_latency_seconds_bucket{le=\"5\"} 9\n"
	    "smsgwd_reply_latency_seconds_bucket{le=\"+Inf\"} 10\n"
	    "smsgwd_reply_latency_seconds_sum "));

	assert_line(t, "smsgwd_sqlite_commit_seconds_bucket{le=\"0.001\"} 0");
	assert_line(t, "smsgwd_sqlite_commit_seconds_bucket{le=\"0.0025\"} 1");
	assert_line(t, "smsgwd_sqlite_commit_seconds_bucket{le=\"+Inf\"} 1");
	assert_line(t, "smsgwd_sqlite_commit_seconds_count 1");
	free(t);
}

static void
test_histogram_empty(void **state)
{
	char *t;

	(void)state;
	assert_non_null(t = metrics_render());
	assert_line(t, "smsgwd_sqlite_commit_seconds_bucket{le=\"0.0005\"} 0");
	assert_line(t, "smsgwd_sqlite_commit_seconds_bucket{le=\"+Inf\"} 0");
	assert_line(t, "smsgwd_sqlite_commit_seconds_sum 0");
	assert_line(t, "smsgwd_sqlite_commit_seconds_count 0");
	free(t);
}

static void
test_reset(void **state)
{
	char *fresh, *t;

	(void)state;
	assert_non_null(fresh = metrics_render());
	metrics_add(M_INBOUND_TEXTS, "help", 3);
	metrics_add(M_SUBMITS, NULL, 9);
	metrics_set(M_BOUND, 1);
	metrics_observe(M_COMMIT_LATENCY, 0.01);
	assert_non_null(t = metrics_render());
	assert_string_not_equal(t, fresh);
	free(t);

	metrics_reset();
	assert_int_equal(metrics_counter(M_INBOUND_TEXTS, "help"), 0);
	assert_int_equal(metrics_counter(M_SUBMITS, NULL), 0);
	assert_int_equal(metrics_gauge(M_BOUND), 0);
	assert_non_null(t = metrics_render());
	assert_string_equal(t, fresh);
	assert_null(strstr(t, "intent=\"help\""));
	free(t);
	free(fresh);
}

/* ---- the format ------------------------------------------------------------ */

static int
is_name(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' ||
	    s[0] == ':'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' ||
		    s[i] == ':'))
			return 0;
	return 1;
}

/*
 * Every line of a render: "# HELP name text", "# TYPE name type", or
 * "name[{label="value"}] number", whose name is the last TYPE's (or it
 * plus _bucket, _sum, _count for a histogram). Names are smsgwd_...;
 * counters end in _total; each metric has HELP then TYPE, once.
 */
static void
check_format(const char *t)
{
	char family[128] = "", type[16] = "", help_for[128] = "";
	int families = 0;
	const char *line = t, *nl;

	assert_true(strlen(t) > 0);
	assert_int_equal(t[strlen(t) - 1], '\n');
	for (; *line != '\0'; line = nl + 1) {
		size_t len, n;
		char *end;

		nl = strchr(line, '\n');
		assert_non_null(nl);
		len = (size_t)(nl - line);
		if (strncmp(line, "# HELP ", 7) == 0) {
			n = strcspn(line + 7, " \n");
			assert_true(is_name(line + 7, n));
			assert_true(n < sizeof(help_for));
			memcpy(help_for, line + 7, n);
			help_for[n] = '\0';
			assert_int_equal(line[7 + n], ' ');
			assert_string_not_equal(help_for, family);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			n = strcspn(line + 7, " \n");
			assert_true(is_name(line + 7, n));
			assert_true(n < sizeof(family));
			memcpy(family, line + 7, n);
			family[n] = '\0';
			assert_string_equal(family, help_for);
			snprintf(type, sizeof(type), "%.*s",
			    (int)(len - 8 - n), line + 8 + n);
			assert_true(strcmp(type, "counter") == 0 ||
			    strcmp(type, "gauge") == 0 ||
			    strcmp(type, "histogram") == 0);
			assert_int_equal(strncmp(family, "smsgwd_", 7), 0);
			if (strcmp(type, "counter") == 0)
				assert_string_equal(family + strlen(family) - 6,
				    "_total");
			families++;
			continue;
		}
		assert_int_not_equal(line[0], '#');
		assert_true(family[0] != '\0');
		n = strcspn(line, "{ ");
		assert_true(is_name(line, n));
		if (strcmp(type, "histogram") == 0) {
			size_t f = strlen(family);

			assert_true(n > f);
			assert_memory_equal(line, family, f);
			assert_true(strncmp(line + f, "_bucket", n - f) == 0 ||
			    strncmp(line + f, "_sum", n - f) == 0 ||
			    strncmp(line + f, "_count", n - f) == 0);
		} else {
			assert_int_equal(n, strlen(family));
			assert_memory_equal(line, family, n);
		}
		if (line[n] == '{') {
			const char *p = line + n + 1;

			n = strcspn(p, "=");
			assert_true(is_name(p, n));
			p += n;
			assert_int_equal(p[1], '"');
			for (p += 2; *p != '"'; p++) {
				assert_true(*p != '\n');
				if (*p == '\\') {
					p++;
					assert_non_null(strchr("\\\"n", *p));
				}
			}
			assert_int_equal(p[1], '}');
			n = (size_t)(p + 2 - line);
		}
		assert_int_equal(line[n], ' ');
		(void)strtod(line + n + 1, &end);
		assert_ptr_equal(end, nl);
	}
	assert_int_equal(families, M_COUNT);
}

static void
test_format(void **state)
{
	char *t;

	(void)state;
	assert_non_null(t = metrics_render());
	check_format(t);
	free(t);

	metrics_add(M_INBOUND_TEXTS, "help", 3);
	metrics_add(M_OUTBOUND, "a\"b\\c\nd", 1);
	metrics_add(M_RECEIPTS, "DELIVRD", 1);
	metrics_set(M_OUTBOX_DEPTH, 4);
	metrics_observe(M_REPLY_LATENCY, 0.3);
	metrics_observe(M_COMMIT_LATENCY, 1e-7);
	assert_non_null(t = metrics_render());
	check_format(t);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_counter_unlabelled, setup),
		cmocka_unit_test_setup(test_counter_labels, setup),
		cmocka_unit_test_setup(test_undecodable, setup),
		cmocka_unit_test_setup(test_label_escaping, setup),
		cmocka_unit_test_setup(test_bad_labels, setup),
		cmocka_unit_test_setup(test_other_overflow, setup),
		cmocka_unit_test_setup(test_other_given, setup),
		cmocka_unit_test_setup(test_gauges, setup),
		cmocka_unit_test_setup(test_wrong_type, setup),
		cmocka_unit_test_setup(test_histogram, setup),
		cmocka_unit_test_setup(test_histogram_empty, setup),
		cmocka_unit_test_setup(test_reset, setup),
		cmocka_unit_test_setup(test_format, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
