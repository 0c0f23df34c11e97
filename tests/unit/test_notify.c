/*
 * daemon/notify: a case change queues exactly the one notification it
 * calls for. A real SQLite file in a fresh temporary folder per test; the
 * shipped templates ($SMSGWD_SRC/conf/templates.conf, default the current
 * folder).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "daemon/notify.h"
#include "daemon/store.h"
#include "daemon/templates.h"
#include "tests/unit/testutil.h"

struct fx {
	char             dir[64];
	char             path[128];
	struct store    *st;
	struct tmpl_set *t;
	char             err[512];
};

static void
src_path(char *out, size_t cap, const char *rel)
{
	const char *src = getenv("SMSGWD_SRC");

	snprintf(out, cap, "%s/%s", src != NULL ? src : ".", rel);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char tp[PATH_MAX];

	if (fx == NULL)
		return -1;
	*state = fx;
	if (tu_tmpdir(fx->dir, sizeof(fx->dir), "test_notify") == -1)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/smsgwd.db", fx->dir);
	if ((fx->st = store_open(fx->path, fx->err, sizeof(fx->err))) == NULL)
		return -1;
	src_path(tp, sizeof(tp), "conf/templates.conf");
	if ((fx->t = tmpl_load(tp, fx->err, sizeof(fx->err))) == NULL) {
		fprintf(stderr, "# %s", fx->err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	tmpl_free(fx->t);
	tu_rmdir(fx->dir);
	free(fx);
	return 0;
}

#define query1(fx, sql) tu_query1(store_db((fx)->st), (sql))

static int
notices(struct fx *fx)
{
	return atoi(query1(fx, "SELECT count(*) FROM messages"
	    " WHERE class = 'notify'"));
}

static struct case_rec
mkcase(int status)
{
	struct case_rec c;

	memset(&c, 0, sizeof(c));
	snprintf(c.receipt_no, sizeof(c.receipt_no), "JX2026000123");
	snprintf(c.id_number, sizeof(c.id_number), "11010519491231002X");
	snprintf(c.name, sizeof(c.name), "张三");
	snprintf(c.msisdn, sizeof(c.msisdn), "13800138000");
	snprintf(c.submitted_at, sizeof(c.submitted_at), "2026-01-10");
	c.status = status;
	return c;
}

static enum notify_result
update(struct fx *fx, const struct case_rec *c, int *prev)
{
	return notify_case_update(fx->st, fx->t, c, "86", 1, prev, fx->err,
	    sizeof(fx->err));
}

static void
test_statuses(void **state)
{
	(void)state;
	assert_false(notify_status_notifies(CASE_ACCEPTED));
	assert_false(notify_status_notifies(CASE_REVIEWING));
	assert_false(notify_status_notifies(CASE_PRODUCING));
	assert_true(notify_status_notifies(CASE_MAILED));
	assert_true(notify_status_notifies(CASE_READY));
	assert_false(notify_status_notifies(CASE_COLLECTED));
	assert_true(notify_status_notifies(CASE_REJECTED));
	assert_true(notify_status_notifies(CASE_APPOINTMENT));
	assert_false(notify_status_notifies(-1));
	assert_false(notify_status_notifies(CASE_STATUS_COUNT));
}

static void
test_new_mailed_queued_once(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_MAILED), got;
	struct tmpl_vars v;
	char want[1024];
	int prev = 99;

	snprintf(c.courier, sizeof(c.courier), "EMS");
	snprintf(c.tracking_no, sizeof(c.tracking_no), "E123456789CN");
	assert_int_equal(update(fx, &c, &prev), NOTIFY_QUEUED);
	assert_int_equal(prev, -1);
	assert_int_equal(store_case_by_receipt(fx->st, "JX2026000123", &got),
	    1);
	assert_int_equal(got.status, CASE_MAILED);

	memset(&v, 0, sizeof(v));
	v.v[TV_REF] = "JX2026000123";
	v.v[TV_COURIER] = "EMS";
	v.v[TV_TRACKING_NO] = "E123456789CN";
	assert_true(tmpl_render(fx->t, T_NOTIFY_MAILED, LANG_ZH, &v, want,
	    sizeof(want)) > 0);
	assert_int_equal(notices(fx), 1);
	assert_string_equal(query1(fx, "SELECT text FROM messages"), want);
	assert_non_null(strstr(want, "E123456789CN"));
	assert_non_null(strstr(want, "JX2026000123"));
	assert_string_equal(query1(fx, "SELECT direction || '|' || msisdn ||"
	    " '|' || ton || '|' || npi || '|' || state || '|' || class || '|'"
	    " || coalesce(reply_to, '-') || '|' || coalesce(intent, '-') FROM"
	    " messages"), "out|8613800138000|1|1|queued|notify|-|-");

	/* The same change again: nothing more. */
	assert_int_equal(update(fx, &c, &prev), NOTIFY_NONE);
	assert_int_equal(prev, CASE_MAILED);
	assert_int_equal(notices(fx), 1);
	/* Nor when only a detail changes. */
	snprintf(c.tracking_no, sizeof(c.tracking_no), "E000");
	assert_int_equal(update(fx, &c, NULL), NOTIFY_NONE);
	assert_int_equal(notices(fx), 1);
	assert_int_equal(store_case_by_receipt(fx->st, "JX2026000123", &got),
	    1);
	assert_string_equal(got.tracking_no, "E000");    /* but it is stored */
}

static void
test_quiet_statuses(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_REVIEWING);
	int prev;

	assert_int_equal(update(fx, &c, &prev), NOTIFY_NONE);
	assert_int_equal(prev, -1);
	c.status = CASE_PRODUCING;
	assert_int_equal(update(fx, &c, &prev), NOTIFY_NONE);
	assert_int_equal(prev, CASE_REVIEWING);
	c.status = CASE_COLLECTED;
	assert_int_equal(update(fx, &c, &prev), NOTIFY_NONE);
	assert_int_equal(notices(fx), 0);
	assert_string_equal(query1(fx, "SELECT count(*) FROM messages"), "0");
}

static void
test_change_to_ready(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_PRODUCING);
	int prev;

	assert_int_equal(update(fx, &c, &prev), NOTIFY_NONE);
	c.status = CASE_READY;
	snprintf(c.pickup_place, sizeof(c.pickup_place), "东城分局户籍大厅");
	assert_int_equal(update(fx, &c, &prev), NOTIFY_QUEUED);
	assert_int_equal(prev, CASE_PRODUCING);
	assert_int_equal(notices(fx), 1);
	assert_non_null(strstr(query1(fx, "SELECT text FROM messages"),
	    "东城分局户籍大厅"));
	/* Away and back is a change again. */
	c.status = CASE_PRODUCING;
	assert_int_equal(update(fx, &c, &prev), NOTIFY_NONE);
	c.status = CASE_READY;
	assert_int_equal(update(fx, &c, &prev), NOTIFY_QUEUED);
	assert_int_equal(notices(fx), 2);
}

static void
test_opted_out(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_REVIEWING), got;
	int prev;

	assert_int_equal(store_optout_set(fx->st, "13800138000", 1, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(update(fx, &c, &prev), NOTIFY_NONE);
	c.status = CASE_MAILED;
	assert_int_equal(update(fx, &c, &prev), NOTIFY_OPTED_OUT);
	assert_int_equal(prev, CASE_REVIEWING);
	assert_string_equal(query1(fx, "SELECT count(*) FROM messages"), "0");
	/* the case is updated all the same */
	assert_int_equal(store_case_by_receipt(fx->st, "JX2026000123", &got),
	    1);
	assert_int_equal(got.status, CASE_MAILED);

	/* A case phone written in international form is the same phone. */
	snprintf(c.msisdn, sizeof(c.msisdn), "+8613800138000");
	c.status = CASE_READY;
	assert_int_equal(update(fx, &c, &prev), NOTIFY_OPTED_OUT);
	assert_int_equal(store_optout_set(fx->st, "13800138000", 0, fx->err,
	    sizeof(fx->err)), 0);
	c.status = CASE_REJECTED;
	assert_int_equal(update(fx, &c, &prev), NOTIFY_QUEUED);
	assert_string_equal(query1(fx, "SELECT msisdn FROM messages"),
	    "8613800138000");
}

static void
test_rejected_with_reason(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_REVIEWING);
	struct tmpl_vars v;
	char want[1024];

	assert_int_equal(update(fx, &c, NULL), NOTIFY_NONE);
	c.status = CASE_REJECTED;
	snprintf(c.reason, sizeof(c.reason), "照片不符合要求");
	assert_int_equal(update(fx, &c, NULL), NOTIFY_QUEUED);
	memset(&v, 0, sizeof(v));
	v.v[TV_REF] = c.receipt_no;
	v.v[TV_REASON] = c.reason;
	assert_true(tmpl_render(fx->t, T_NOTIFY_REJECTED, LANG_ZH, &v, want,
	    sizeof(want)) > 0);
	assert_string_equal(query1(fx, "SELECT text FROM messages"), want);
	assert_non_null(strstr(want, "照片不符合要求"));
}

static void
test_appointment_new_case(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_APPOINTMENT);

	snprintf(c.appointment, sizeof(c.appointment),
	    "2026-02-01 09:30 东城分局");
	assert_int_equal(update(fx, &c, NULL), NOTIFY_QUEUED);
	assert_non_null(strstr(query1(fx, "SELECT text FROM messages"),
	    "2026-02-01 09:30 东城分局"));
}

/* notify = 0 (a plain import): the case changes, nothing is queued, and
 * no templates are needed. */
static void
test_no_notify_flag(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_MAILED), got;
	int prev;

	assert_int_equal(notify_case_update(fx->st, NULL, &c, "86", 0, &prev,
	    fx->err, sizeof(fx->err)), NOTIFY_NONE);
	assert_int_equal(prev, -1);
	assert_int_equal(store_case_by_receipt(fx->st, c.receipt_no, &got), 1);
	assert_string_equal(query1(fx, "SELECT count(*) FROM messages"), "0");
	/* and a later notifying run sees no change */
	assert_int_equal(update(fx, &c, &prev), NOTIFY_NONE);
}

/* Every value a notification may use, in a template that uses them all. */
static void
test_all_vars(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_MAILED);
	char src[PATH_MAX], dst[192], line[2048];
	struct tmpl_set *t;
	FILE *in, *out;
	int sect = 0;

	src_path(src, sizeof(src), "conf/templates.conf");
	snprintf(dst, sizeof(dst), "%s/templates.conf", fx->dir);
	assert_non_null(in = fopen(src, "r"));
	assert_non_null(out = fopen(dst, "w"));
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, "[", 1) == 0)
			sect = strncmp(line, "[zh]", 4) == 0;
		if (sect && strncmp(line, "notify.mailed", 13) == 0)
			fputs("notify.mailed = {ref}|{id_last4}|{status}|"
			    "{deadline}|{courier}|{tracking_no}\n", out);
		else
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	assert_non_null(t = tmpl_load(dst, fx->err, sizeof(fx->err)));

	snprintf(c.courier, sizeof(c.courier), "SF");
	snprintf(c.tracking_no, sizeof(c.tracking_no), "SF001");
	assert_int_equal(notify_case_update(fx->st, t, &c, "86", 1, NULL,
	    fx->err, sizeof(fx->err)), NOTIFY_QUEUED);
	/* 2026-01-10 + 60 days = 2026-03-11 */
	assert_string_equal(query1(fx, "SELECT text FROM messages"),
	    "JX2026000123|****002X|已邮寄|2026-03-11|SF|SF001");
	tmpl_free(t);
}

static void
test_rollback(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_READY), got;

	assert_int_equal(store_begin(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(update(fx, &c, NULL), NOTIFY_QUEUED);
	store_rollback(fx->st);
	assert_int_equal(store_case_by_receipt(fx->st, c.receipt_no, &got), 0);
	assert_string_equal(query1(fx, "SELECT count(*) FROM messages"), "0");
	/* so the change is still news next time */
	assert_int_equal(update(fx, &c, NULL), NOTIFY_QUEUED);
}

static void
test_errors(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase(CASE_STATUS_COUNT);

	assert_int_equal(update(fx, &c, NULL), NOTIFY_ERROR);
	assert_non_null(strstr(fx->err, "JX2026000123: status 8 out of range"));
	c.status = CASE_MAILED;
	snprintf(c.msisdn, sizeof(c.msisdn), "not-a-phone");
	assert_int_equal(update(fx, &c, NULL), NOTIFY_ERROR);
	assert_non_null(strstr(fx->err, "phone number"));
	assert_string_equal(query1(fx, "SELECT count(*) FROM messages"), "0");
	/* The longest values a case can hold still render whole. */
	c = mkcase(CASE_REJECTED);
	memset(c.reason, 'x', sizeof(c.reason) - 1);
	assert_int_equal(update(fx, &c, NULL), NOTIFY_QUEUED);
	assert_non_null(strstr(query1(fx, "SELECT text FROM messages"),
	    c.reason));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statuses),
		cmocka_unit_test_setup_teardown(test_new_mailed_queued_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_statuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_change_to_ready, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_opted_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rejected_with_reason,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_appointment_new_case,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_notify_flag, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_all_vars, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
