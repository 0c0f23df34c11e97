/*
 * daemon/store on a real SQLite file in a fresh temporary folder per test:
 * schema, PRAGMAs, every call (the outbox too), the v1 -> v4 and v2 -> v4
 * migrations with data, a refused newer schema, and two handles on one file
 * (smsgwd and smsgwctl).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <mimalloc.h>

#include <sqlite3.h>

#include "daemon/store.h"

/* outbox_parts' columns before schema 6 added link. */
#define OLD_COLS " (id, msg_id, part, smsc_id, state, status, at) "
#include "tests/unit/testutil.h"

struct fx {
	char          dir[64];
	char          path[128];
	struct store *st;
	char          err[256];
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if (tu_tmpdir(fx->dir, sizeof(fx->dir), "test_store") == -1) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/smsgwd.db", fx->dir);
	*state = fx;
	return 0;
}

/* Opens the store on the fixture's file (most tests start here). */
static int
setup_open(void **state)
{
	struct fx *fx;

	if (setup(state) == -1)
		return -1;
	fx = *state;
	fx->st = store_open(fx->path, fx->err, sizeof(fx->err));
	return fx->st == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	tu_rmdir(fx->dir);
	free(fx);
	return 0;
}

#define query1 tu_query1

static void check_rules(sqlite3 *db);

static struct case_rec
mkcase(const char *receipt, const char *id, const char *date, int status)
{
	struct case_rec c;

	memset(&c, 0, sizeof(c));
	snprintf(c.receipt_no, sizeof(c.receipt_no), "%s", receipt);
	snprintf(c.id_number, sizeof(c.id_number), "%s", id);
	snprintf(c.name, sizeof(c.name), "张三");
	snprintf(c.msisdn, sizeof(c.msisdn), "13800138000");
	snprintf(c.submitted_at, sizeof(c.submitted_at), "%s", date);
	c.status = status;
	return c;
}

static void
test_status_names(void **state)
{
	static const char *const names[] = { "accepted", "reviewing",
	    "producing", "mailed", "ready", "collected", "rejected",
	    "appointment" };

	(void)state;
	for (int i = 0; i < CASE_STATUS_COUNT; i++) {
		assert_string_equal(case_status_name(i), names[i]);
		assert_int_equal(case_status_from_name(names[i]), i);
	}
	assert_int_equal(case_status_from_name("Accepted"), -1);
	assert_int_equal(case_status_from_name(""), -1);
	assert_null(case_status_name(CASE_STATUS_COUNT));
	assert_null(case_status_name((enum case_status)-1));
}

/* The deadline agrees with timegm's calendar, rollover included. */
static void
test_case_deadline(void **state)
{
	char in[48], out[16], want[32];
	struct tm tm;

	(void)state;
	for (int y = 1899; y <= 2100; y += 7)
		for (int m = 0; m <= 13; m++)
			for (int d = 0; d <= 33; d++) {
				snprintf(in, sizeof(in), "%04d-%02d-%02d", y, m,
				    d);
				memset(&tm, 0, sizeof(tm));
				tm.tm_year = y - 1900;
				tm.tm_mon = m - 1;
				tm.tm_mday = d + CASE_LEGAL_DAYS;
				tm.tm_hour = 12;
				assert_true(timegm(&tm) != (time_t)-1);
				strftime(want, sizeof(want), "%Y-%m-%d", &tm);
				assert_int_equal(case_deadline(in, out,
				    sizeof(out)), (tm.tm_year + 1900L) * 10000 +
				    (tm.tm_mon + 1) * 100 + tm.tm_mday);
				assert_string_equal(out, want);
			}
	assert_int_equal(case_deadline("2026-11-21", out, sizeof(out)),
	    20270120);
	assert_string_equal(out, "2027-01-20");
	/* Not a date: 0 and "". */
	assert_int_equal(case_deadline("2026-1-21", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(case_deadline("", out, sizeof(out)), 0);
	assert_int_equal(case_deadline("2026-11-2x", out, sizeof(out)), 0);
	/* Too small a buffer: 0 and "", nothing past it. */
	memset(out, 'x', sizeof(out));
	assert_int_equal(case_deadline("2026-11-21", out, 10), 0);
	assert_string_equal(out, "");
	assert_int_equal(case_deadline("2026-11-21", NULL, 0), 20270120);
}

static void
test_open_creates_v5(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);

	assert_int_equal(STORE_SCHEMA_VERSION, 6);
	assert_int_equal(store_schema_version(fx->st), 6);
	assert_string_equal(query1(db, "PRAGMA user_version"), "6");
	assert_string_equal(query1(db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE type = 'table' AND name IN ('cases', 'loss_reports',"
	    " 'messages', 'optouts', 'outbox_parts', 'outbox_mark')"), "6");
	/* SQLite allocates from mimalloc (store_open configured it before
	 * SQLite's first use in this process). */
	{
		void *p = sqlite3_malloc(64);

		assert_non_null(p);
		assert_true(mi_check_owned(p));
		sqlite3_free(p);
		p = malloc(64);          /* and ours are libc's */
		assert_false(mi_check_owned(p));
		free(p);
	}
	/* An empty log: the mark starts at the first id. */
	assert_int_equal(store_outbox_mark(fx->st), 1);
	/* Only queued rows are indexed; parts are a rowid table. */
	assert_string_equal(query1(db, "SELECT group_concat(s.name || '(' ||"
	    " i.name || ')') FROM sqlite_schema s, pragma_index_info(s.name) i"
	    " WHERE s.type = 'index' AND s.tbl_name = 'messages'"),
	    "messages_queued(id)");
	assert_non_null(strstr(query1(db, "SELECT sql FROM sqlite_schema"
	    " WHERE name = 'messages_queued'"), "WHERE state = 'queued'"));
	assert_string_equal(query1(db, "SELECT group_concat(name) FROM"
	    " pragma_table_info('outbox_parts') WHERE pk = 1"), "id");
	assert_string_equal(query1(db, "SELECT count(*) FROM"
	    " pragma_table_info('messages') WHERE name IN ('state', 'class',"
	    " 'attempts', 'last_status', 'smsc_ids', 'ref')"), "6");
	/* Receipts find their part by the SMSC's id. */
	assert_string_equal(query1(db, "SELECT group_concat(i.name) FROM"
	    " sqlite_schema s, pragma_index_info(s.name) i WHERE s.type ="
	    " 'index' AND s.tbl_name = 'outbox_parts'"), "smsc_id");
	assert_string_equal(query1(db, "SELECT count(*) FROM"
	    " pragma_foreign_key_list('outbox_parts') WHERE \"table\" ="
	    " 'messages' AND \"from\" = 'msg_id'"), "1");
	/* The log has no index on msisdn: inserts stay cheap. */
	assert_string_equal(query1(db, "SELECT count(*) FROM sqlite_schema s,"
	    " pragma_index_info(s.name) i WHERE s.type = 'index' AND"
	    " s.tbl_name = 'messages' AND i.name = 'msisdn'"), "0");
}

static void
test_pragmas(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);

	assert_string_equal(query1(db, "PRAGMA journal_mode"), "wal");
	assert_string_equal(query1(db, "PRAGMA foreign_keys"), "1");
	assert_string_equal(query1(db, "PRAGMA synchronous"), "2");  /* FULL */
	assert_string_equal(query1(db, "PRAGMA busy_timeout"), "5000");
	assert_string_equal(query1(db, "PRAGMA journal_size_limit"),
	    "67108864");
}

/*
 * Every prepared statement finds its rows through an index, except the
 * outbox counts (stats over the whole log: a scan by nature) and the list
 * of links (every row of a table of a few rows, in key order: no sort).
 */
static void
test_query_plans(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);
	sqlite3_stmt *s = NULL, *plan;
	static const char counts_sql[] = "SELECT state, count(*) FROM"
	    " messages WHERE state IS NOT NULL";
	static const char links_sql[] = "SELECT node, name, state, bind,";
	char sql[2048];
	int n = 0, exempt = 0;

	while ((s = sqlite3_next_stmt(db, s)) != NULL) {
		if (strncmp(sqlite3_sql(s), counts_sql,
		    strlen(counts_sql)) == 0 || strncmp(sqlite3_sql(s),
		    links_sql, strlen(links_sql)) == 0) {
			exempt++;
			continue;
		}
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
		    sqlite3_sql(s));
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &plan, NULL),
		    SQLITE_OK);
		while (sqlite3_step(plan) == SQLITE_ROW) {
			const char *d = (const char *)sqlite3_column_text(plan,
			    3);
			if (strncmp(d, "SCAN ", 5) == 0 ||
			    strstr(d, "TEMP B-TREE") != NULL)
				fail_msg("%s\n  plan: %s", sqlite3_sql(s), d);
		}
		sqlite3_finalize(plan);
		n++;
	}
	assert_true(n >= 20);
	assert_int_equal(exempt, 2);
}

/* The text of the prepared statement that starts with prefix. */
static const char *
stmt_sql(sqlite3 *db, const char *prefix)
{
	sqlite3_stmt *s = NULL;

	while ((s = sqlite3_next_stmt(db, s)) != NULL)
		if (strncmp(sqlite3_sql(s), prefix, strlen(prefix)) == 0)
			return sqlite3_sql(s);
	fail_msg("no statement starts with %s", prefix);
	return NULL;
}

/* The query plan of the prepared statement that starts with prefix. */
static void
plan_of(sqlite3 *db, const char *prefix, char *all, size_t cap)
{
	sqlite3_stmt *plan;
	char sql[2048];
	size_t used = 0;

	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", stmt_sql(db,
	    prefix));
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &plan, NULL),
	    SQLITE_OK);
	all[0] = '\0';
	while (sqlite3_step(plan) == SQLITE_ROW && used < cap)
		used += (size_t)snprintf(all + used, cap - used, "%s\n",
		    sqlite3_column_text(plan, 3));
	sqlite3_finalize(plan);
}

#define OB_SELECT "SELECT id, class, msisdn, ton, npi, text, state," \
	" attempts, ref, at FROM messages WHERE "

/*
 * No outbox statement reads the whole log or sorts: the queued scan seeks
 * the queued-only index (start-up after a long outage reads what waits,
 * not what waits for receipts); the scans past an id seek the row id; the
 * part and SMSC-id lookups seek their keys.
 */
static void
test_outbox_scan_plan(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);
	char all[2048];

	plan_of(db, OB_SELECT "state = 'queued'", all, sizeof(all));
	assert_string_equal(all,
	    "SEARCH messages USING INDEX messages_queued (id>?)\n");
	plan_of(db, OB_SELECT "id > ?1 AND (state", all, sizeof(all));
	assert_string_equal(all,
	    "SEARCH messages USING INTEGER PRIMARY KEY (rowid>?)\n");
	plan_of(db, OB_SELECT "id > ?1 AND state = 'submitted'", all,
	    sizeof(all));
	assert_string_equal(all,
	    "SEARCH messages USING INTEGER PRIMARY KEY (rowid>?)\n");
	plan_of(db, "SELECT part, state FROM outbox_parts", all, sizeof(all));
	assert_string_equal(all, "SEARCH outbox_parts USING INTEGER PRIMARY"
	    " KEY (rowid>? AND rowid<?)\n");
	plan_of(db, "SELECT count(*) FROM outbox_parts", all, sizeof(all));
	assert_string_equal(all, "SEARCH outbox_parts USING INTEGER PRIMARY"
	    " KEY (rowid>? AND rowid<?)\n");
	/* The SMSC-id lookup needs no sort for its "newest first", nor the
	 * table: the index holds the row id. */
	plan_of(db, "SELECT id >> 8, id & 255 FROM outbox_parts WHERE smsc_id"
	    " = lower(?1) ORDER", all, sizeof(all));
	assert_string_equal(all, "SEARCH outbox_parts USING COVERING INDEX"
	    " outbox_parts_smsc_id (smsc_id=?)\n");
	/* On one link: the same seek, the link read from the row. */
	plan_of(db, "SELECT id >> 8, id & 255 FROM outbox_parts WHERE smsc_id"
	    " = lower(?1) AND", all, sizeof(all));
	assert_string_equal(all, "SEARCH outbox_parts USING INDEX"
	    " outbox_parts_smsc_id (smsc_id=?)\n");
}

static void
test_case_upsert(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase("R0001", "11010519491231002X", "2024-03-01",
	    CASE_ACCEPTED), got;
	time_t before = time(NULL);
	int64_t id;

	assert_int_equal(store_case_upsert(fx->st, &c, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(store_case_by_receipt(fx->st, "R0001", &got), 1);
	assert_string_equal(got.id_number, "11010519491231002X");
	assert_string_equal(got.name, "张三");
	assert_string_equal(got.msisdn, "13800138000");
	assert_int_equal(got.status, CASE_ACCEPTED);
	assert_string_equal(got.submitted_at, "2024-03-01");
	assert_true(got.updated_at >= before && got.updated_at <= time(NULL));
	assert_string_equal(got.courier, "");
	id = got.id;

	c.status = CASE_MAILED;
	snprintf(c.courier, sizeof(c.courier), "EMS");
	snprintf(c.tracking_no, sizeof(c.tracking_no), "1234567890");
	c.updated_at = 1700000000;
	assert_int_equal(store_case_upsert(fx->st, &c, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(store_case_by_receipt(fx->st, "R0001", &got), 1);
	assert_int_equal(got.id, id);              /* updated in place */
	assert_int_equal(got.status, CASE_MAILED);
	assert_string_equal(got.courier, "EMS");
	assert_string_equal(got.tracking_no, "1234567890");
	assert_int_equal(got.updated_at, 1700000000);
	assert_string_equal(query1(store_db(fx->st),
	    "SELECT count(*) FROM cases"), "1");

	c.status = CASE_STATUS_COUNT;
	assert_int_equal(store_case_upsert(fx->st, &c, fx->err,
	    sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "status"));
}

static void
test_case_latest_by_id(void **state)
{
	struct fx *fx = *state;
	struct case_rec a = mkcase("NEW", "440524188001010014", "2024-05-02",
	    CASE_REVIEWING);
	struct case_rec b = mkcase("OLD", "440524188001010014", "2023-01-09",
	    CASE_COLLECTED);
	struct case_rec other = mkcase("X", "11010519491231002X", "2025-01-01",
	    CASE_ACCEPTED), got;

	/* The newer case is inserted first: order is by date, not row. */
	assert_int_equal(store_case_upsert(fx->st, &a, NULL, 0), 0);
	assert_int_equal(store_case_upsert(fx->st, &b, NULL, 0), 0);
	assert_int_equal(store_case_upsert(fx->st, &other, NULL, 0), 0);
	assert_int_equal(store_case_latest_by_id(fx->st, "440524188001010014",
	    &got), 1);
	assert_string_equal(got.receipt_no, "NEW");
	assert_int_equal(got.status, CASE_REVIEWING);

	/* Same date: the later row wins. */
	snprintf(b.receipt_no, sizeof(b.receipt_no), "SAMEDAY");
	snprintf(b.submitted_at, sizeof(b.submitted_at), "2024-05-02");
	assert_int_equal(store_case_upsert(fx->st, &b, NULL, 0), 0);
	assert_int_equal(store_case_latest_by_id(fx->st, "440524188001010014",
	    &got), 1);
	assert_string_equal(got.receipt_no, "SAMEDAY");
}

static void
test_not_found(void **state)
{
	struct fx *fx = *state;
	struct case_rec c;
	struct loss_rec l;

	assert_int_equal(store_case_by_receipt(fx->st, "NOPE", &c), 0);
	assert_int_equal(store_case_latest_by_id(fx->st, "11010519491231002X",
	    &c), 0);
	assert_int_equal(store_loss_open(fx->st, "11010519491231002X", &l), 0);
	assert_int_equal(store_optout_get(fx->st, "13800138000"), 0);
}

/* Values longer than the struct (written by hand) are cut whole. */
static void
test_overlong_value_cut_at_char(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase("LONG", "11010519491231002X", "2024-01-01",
	    CASE_ACCEPTED), got;
	sqlite3_stmt *s;
	char name[301] = "";

	assert_int_equal(store_case_upsert(fx->st, &c, NULL, 0), 0);
	for (int i = 0; i < 100; i++)
		strcat(name, "张");                    /* 3 bytes each */
	assert_int_equal(sqlite3_prepare_v2(store_db(fx->st),
	    "UPDATE cases SET name = ?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	assert_int_equal(store_case_by_receipt(fx->st, "LONG", &got), 1);
	assert_int_equal(strlen(got.name), 63);      /* 21 whole characters */
	assert_memory_equal(got.name, name, 63);
}

static void
test_loss_reports(void **state)
{
	struct fx *fx = *state;
	struct loss_rec l, open, again;

	assert_int_equal(store_loss_add(fx->st, "11010519491231002X",
	    "13800138000", LOSS_PENDING, &l, fx->err, sizeof(fx->err)), 0);
	assert_true(l.id > 0);
	assert_int_equal(strlen(l.ref), 12);
	assert_int_equal(strncmp(l.ref, "GS", 2), 0);
	assert_int_equal(atoll(l.ref + 2), l.id);
	assert_int_equal(l.state, LOSS_PENDING);
	assert_string_equal(l.msisdn, "13800138000");
	assert_true(l.created_at > 0 && l.updated_at == l.created_at);

	assert_int_equal(store_loss_open(fx->st, "11010519491231002X", &open),
	    1);
	assert_int_equal(open.id, l.id);
	assert_string_equal(open.ref, l.ref);

	/* One open report per ID number. */
	assert_int_equal(store_loss_add(fx->st, "11010519491231002X",
	    "13900139000", LOSS_PENDING, &again, fx->err, sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "UNIQUE"));

	assert_int_equal(store_loss_set_state(fx->st, l.id, LOSS_EFFECTIVE,
	    fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_loss_open(fx->st, "11010519491231002X", &open),
	    1);
	assert_int_equal(open.state, LOSS_EFFECTIVE);

	assert_int_equal(store_loss_set_state(fx->st, l.id, LOSS_RELEASED,
	    fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_loss_open(fx->st, "11010519491231002X", &open),
	    0);

	/* After the release a new report is possible, with a new ref. */
	assert_int_equal(store_loss_add(fx->st, "11010519491231002X",
	    "13800138000", LOSS_EFFECTIVE, &again, fx->err, sizeof(fx->err)),
	    0);
	assert_string_not_equal(again.ref, l.ref);
	assert_int_equal(store_loss_open(fx->st, "11010519491231002X", &open),
	    1);
	assert_int_equal(open.id, again.id);

	assert_int_equal(store_loss_set_state(fx->st, 999, LOSS_RELEASED,
	    fx->err, sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "no such report"));
	assert_int_equal(store_loss_set_state(fx->st, l.id, (enum loss_state)7,
	    fx->err, sizeof(fx->err)), -1);
}

static void
test_optouts(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_optout_get(fx->st, "13800138000"), 0);
	assert_int_equal(store_optout_set(fx->st, "13800138000", 1, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(store_optout_set(fx->st, "13800138000", 1, fx->err,
	    sizeof(fx->err)), 0);                  /* twice is fine */
	assert_int_equal(store_optout_get(fx->st, "13800138000"), 1);
	assert_int_equal(store_optout_get(fx->st, "13900139000"), 0);
	assert_int_equal(store_optout_set(fx->st, "13800138000", 0, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(store_optout_get(fx->st, "13800138000"), 0);
	assert_int_equal(store_optout_set(fx->st, "13800138000", 0, fx->err,
	    sizeof(fx->err)), 0);                  /* clearing twice too */
}

static void
test_messages(void **state)
{
	struct fx *fx = *state;
	struct msg_rec in = { .msisdn = "+8613800138000", .ton = 1, .npi = 1,
	    .text = "CX 11010519491231002X", .intent = "query" };
	struct msg_rec out = { .outbound = 1, .cls = OUTBOX_REPLY,
	    .msisdn = "+8613800138000", .ton = 1, .npi = 1,
	    .text = "您的申请已受理" };
	sqlite3 *db = store_db(fx->st);
	int64_t a, b;

	assert_true((a = store_msg_add(fx->st, &in, fx->err,
	    sizeof(fx->err))) > 0);
	out.reply_to = a;
	assert_true((b = store_msg_add(fx->st, &out, fx->err,
	    sizeof(fx->err))) > a);
	assert_string_equal(query1(db, "SELECT direction || '|' || msisdn ||"
	    " '|' || ton || npi || '|' || intent || '|' || coalesce(reply_to,"
	    " 'null') FROM messages WHERE direction = 'in'"),
	    "in|+8613800138000|11|query|null");
	assert_string_equal(query1(db, "SELECT text || '|' || (reply_to ="
	    " (SELECT id FROM messages WHERE direction = 'in')) || '|' ||"
	    " coalesce(intent, 'null') || '|' || coalesce(state, 'null') ||"
	    " '|' || coalesce(class, 'null') || '|' || attempts || '|' ||"
	    " coalesce(ref, 'null') FROM messages WHERE direction = 'out'"),
	    "您的申请已受理|1|null|queued|reply|0|null");
	/* An inbound text is not an outbox row. */
	assert_string_equal(query1(db, "SELECT coalesce(state, 'null') || '|'"
	    " || coalesce(class, 'null') FROM messages WHERE direction ="
	    " 'in'"), "null|null");

	out.reply_to = 4242;                       /* no such message */
	assert_int_equal(store_msg_add(fx->st, &out, fx->err,
	    sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "FOREIGN KEY"));
	assert_string_equal(query1(db, "SELECT count(*) FROM messages"), "2");
}

static void
test_rollback_leaves_nothing(void **state)
{
	struct fx *fx = *state;
	struct case_rec c = mkcase("TX1", "11010519491231002X", "2024-01-01",
	    CASE_ACCEPTED), got;
	struct msg_rec m = { .msisdn = "13800138000", .text = "hi" };
	struct loss_rec l;

	assert_int_equal(store_begin(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_begin(fx->st, fx->err, sizeof(fx->err)), -1);
	assert_int_equal(store_case_upsert(fx->st, &c, NULL, 0), 0);
	assert_true(store_msg_add(fx->st, &m, NULL, 0) > 0);
	assert_int_equal(store_optout_set(fx->st, "13800138000", 1, NULL, 0),
	    0);
	assert_int_equal(store_loss_add(fx->st, "11010519491231002X",
	    "13800138000", LOSS_PENDING, &l, NULL, 0), 0);
	assert_int_equal(store_case_by_receipt(fx->st, "TX1", &got), 1);
	store_rollback(fx->st);
	store_rollback(fx->st);                    /* harmless when idle */

	assert_int_equal(store_case_by_receipt(fx->st, "TX1", &got), 0);
	assert_int_equal(store_optout_get(fx->st, "13800138000"), 0);
	assert_int_equal(store_loss_open(fx->st, "11010519491231002X", &l), 0);
	assert_string_equal(query1(store_db(fx->st),
	    "SELECT count(*) FROM messages"), "0");

	assert_int_equal(store_begin(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_case_upsert(fx->st, &c, NULL, 0), 0);
	assert_int_equal(store_commit(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_case_by_receipt(fx->st, "TX1", &got), 1);
	assert_int_equal(store_commit(fx->st, fx->err, sizeof(fx->err)), -1);
}

/* Schema version 1 exactly as released; never edit. */
static const char v1_sql[] =
    "CREATE TABLE cases (\n"
    "  id           INTEGER PRIMARY KEY,\n"
    "  receipt_no   TEXT NOT NULL UNIQUE,\n"
    "  id_number    TEXT NOT NULL,\n"
    "  name         TEXT NOT NULL,\n"
    "  msisdn       TEXT NOT NULL,\n"
    "  status       TEXT NOT NULL CHECK (status IN ('accepted',\n"
    "                 'reviewing', 'producing', 'mailed', 'ready',\n"
    "                 'collected', 'rejected', 'appointment')),\n"
    "  submitted_at TEXT NOT NULL CHECK (submitted_at GLOB\n"
    "                 '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),\n"
    "  updated_at   INTEGER NOT NULL,\n"
    "  courier      TEXT NOT NULL DEFAULT '',\n"
    "  tracking_no  TEXT NOT NULL DEFAULT '',\n"
    "  pickup_place TEXT NOT NULL DEFAULT '',\n"
    "  appointment  TEXT NOT NULL DEFAULT '',\n"
    "  reason       TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX cases_id_number ON cases (id_number, submitted_at);\n"
    "CREATE TABLE loss_reports (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  ref         TEXT UNIQUE,\n"
    "  id_number   TEXT NOT NULL,\n"
    "  msisdn      TEXT NOT NULL,\n"
    "  state       TEXT NOT NULL CHECK (state IN ('pending', 'effective',\n"
    "                'released')),\n"
    "  created_at  INTEGER NOT NULL,\n"
    "  updated_at  INTEGER NOT NULL\n"
    ");\n"
    "CREATE UNIQUE INDEX loss_reports_open ON loss_reports (id_number)\n"
    "  WHERE state <> 'released';\n"
    "CREATE TRIGGER loss_reports_ref AFTER INSERT ON loss_reports\n"
    "  WHEN NEW.ref IS NULL BEGIN\n"
    "  UPDATE loss_reports SET ref = printf('GS%010d', NEW.id)\n"
    "    WHERE id = NEW.id;\n"
    "END;\n"
    "CREATE TABLE messages (\n"
    "  id        INTEGER PRIMARY KEY,\n"
    "  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),\n"
    "  at        INTEGER NOT NULL,\n"
    "  msisdn    TEXT NOT NULL,\n"
    "  ton       INTEGER NOT NULL DEFAULT 0,\n"
    "  npi       INTEGER NOT NULL DEFAULT 0,\n"
    "  text      TEXT NOT NULL,\n"
    "  intent    TEXT,\n"
    "  reply_to  INTEGER REFERENCES messages (id)\n"
    ");\n"
    "CREATE TABLE optouts (\n"
    "  msisdn TEXT PRIMARY KEY,\n"
    "  at     INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "PRAGMA user_version = 1;\n";

static const char v1_rows[] =
    "INSERT INTO cases (receipt_no, id_number, name, msisdn, status,"
    "  submitted_at, updated_at, courier, tracking_no)"
    "  VALUES ('OLD1', '11010519491231002X', '李四', '13800138000',"
    "  'mailed', '2023-12-01', 1700000000, 'SF', 'SF123');"
    "INSERT INTO loss_reports (id_number, msisdn, state, created_at,"
    "  updated_at) VALUES ('440524188001010014', '13900139000',"
    "  'pending', 1700000001, 1700000001);"
    "INSERT INTO messages (direction, at, msisdn, text, intent)"
    "  VALUES ('in', 1700000002, '13800138000', 'CX OLD1', 'query');"
    "INSERT INTO messages (direction, at, msisdn, text, reply_to)"
    "  VALUES ('out', 1700000003, '13800138000', 'mailed', 1);"
    "INSERT INTO optouts VALUES ('13700137000', 1700000004);";

static void
test_migration_v1(void **state)
{
	struct fx *fx = *state;
	struct case_rec c;
	struct loss_rec l;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1_rows, NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	fx->st = store_open(fx->path, fx->err, sizeof(fx->err));
	assert_non_null(fx->st);
	db = store_db(fx->st);
	assert_int_equal(store_schema_version(fx->st), 6);
	assert_string_equal(query1(db, "PRAGMA user_version"), "6");

	assert_int_equal(store_case_by_receipt(fx->st, "OLD1", &c), 1);
	assert_string_equal(c.name, "李四");
	assert_int_equal(c.status, CASE_MAILED);
	assert_string_equal(c.tracking_no, "SF123");
	assert_int_equal(c.updated_at, 1700000000);
	assert_int_equal(store_loss_open(fx->st, "440524188001010014", &l), 1);
	assert_string_equal(l.ref, "GS0000000001");
	assert_int_equal(store_optout_get(fx->st, "13700137000"), 1);
	/* Old log rows get the new columns' defaults: not outbox rows. */
	assert_string_equal(query1(db, "SELECT group_concat(id || ':' ||"
	    " coalesce(state, '-') || ':' || coalesce(class, '-') || ':' ||"
	    " attempts || ':' || coalesce(reply_to, '-') || ':' ||"
	    " coalesce(ref, '-'), ' ') FROM messages"),
	    "1:-:-:0:-:- 2:-:-:0:1:-");
	/* The new columns and their checks work. */
	assert_int_equal(sqlite3_exec(db, "UPDATE messages SET state ="
	    " 'queued', class = 'reply' WHERE id = 2", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE messages SET state = 'bogus'"
	    " WHERE id = 2", NULL, NULL, NULL), SQLITE_CONSTRAINT_CHECK);
	assert_string_equal(query1(db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE name = 'messages_queued'"), "1");
	assert_int_equal(store_outbox_mark(fx->st), 3);

	/* Opening again is a no-op. */
	store_close(fx->st);
	fx->st = store_open(fx->path, fx->err, sizeof(fx->err));
	assert_non_null(fx->st);
	assert_int_equal(store_case_by_receipt(fx->st, "OLD1", &c), 1);
}

/* Schema version 2 exactly as released (v1 plus its step); never edit. */
static const char v2_step[] =
    "ALTER TABLE messages ADD COLUMN state TEXT CHECK (state IS NULL OR\n"
    "  state IN ('queued', 'submitted', 'delivered', 'failed',\n"
    "  'expired'));\n"
    "ALTER TABLE messages ADD COLUMN class TEXT CHECK (class IS NULL OR\n"
    "  class IN ('reply', 'notify'));\n"
    "ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0\n"
    "  CHECK (attempts >= 0);\n"
    "ALTER TABLE messages ADD COLUMN last_status TEXT;\n"
    "ALTER TABLE messages ADD COLUMN smsc_ids TEXT;\n"
    "CREATE INDEX messages_outbox ON messages (state, id)\n"
    "  WHERE state IN ('queued', 'submitted');\n"
    "PRAGMA user_version = 2;\n";

/* A v2 log: an old reply from before the outbox, and outbox rows in each
 * state a v2 daemon could leave behind. */
static const char v2_rows[] =
    "INSERT INTO messages (direction, at, msisdn, text, intent)"
    "  VALUES ('in', 1700000002, '13800138000', 'CX OLD1', 'query');"
    "INSERT INTO messages (direction, at, msisdn, text, reply_to)"
    "  VALUES ('out', 1700000003, '13800138000', 'old reply', 1);"
    "INSERT INTO messages (direction, at, msisdn, ton, npi, text, reply_to,"
    "  state, class) VALUES ('out', 1700000004, '13800138000', 1, 1,"
    "  'queued reply', 1, 'queued', 'reply');"
    "INSERT INTO messages (direction, at, msisdn, ton, npi, text, state,"
    "  class, attempts, smsc_ids) VALUES ('out', 1700000005,"
    "  '8613900139000', 1, 1, 'in flight', 'submitted', 'notify', 1,"
    "  'ABC1');"
    "INSERT INTO messages (direction, at, msisdn, text, state, class,"
    "  attempts, last_status) VALUES ('out', 1700000006, '13700137000',"
    "  'done', 'delivered', 'reply', 1, 'DELIVRD');";

struct seen {
	int     n;
	int64_t id[16];
	int     state[16], cls[16], ref[16], attempts[16], ton[16];
	char    text[16][64], msisdn[16][24];
	int64_t at[16];
	int     stop_after;     /* fn returns -1 after this many; 0 never */
};

static int
collect(void *arg, const struct outbox_row *r)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	s->id[s->n] = r->id;
	s->state[s->n] = r->state;
	s->cls[s->n] = r->cls;
	s->ref[s->n] = r->ref;
	s->attempts[s->n] = r->attempts;
	s->ton[s->n] = r->ton;
	s->at[s->n] = r->at;
	snprintf(s->text[s->n], sizeof(s->text[0]), "%s", r->text);
	snprintf(s->msisdn[s->n], sizeof(s->msisdn[0]), "%s", r->msisdn);
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after ? -1 : 0;
}

static void
test_migration_v2_to_v5(void **state)
{
	struct fx *fx = *state;
	struct seen seen;
	int64_t counts[OB_NSTATES], msg;
	int part;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v2_step, NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v2_rows, NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	fx->st = store_open(fx->path, fx->err, sizeof(fx->err));
	assert_non_null(fx->st);
	db = store_db(fx->st);
	assert_int_equal(store_schema_version(fx->st), 6);
	assert_string_equal(query1(db, "PRAGMA user_version"), "6");
	/* Every row written before is finished: the mark starts past them. */
	assert_int_equal(store_outbox_mark(fx->st), 6);
	/* Every row kept as it was; ref is new and NULL everywhere. */
	assert_string_equal(query1(db, "SELECT group_concat(id || ':' ||"
	    " coalesce(state, '-') || ':' || coalesce(class, '-') || ':' ||"
	    " attempts || ':' || coalesce(ref, '-') || ':' || text, ' ')"
	    " FROM messages"), "1:-:-:0:-:CX OLD1 2:-:-:0:-:old reply"
	    " 3:queued:reply:0:-:queued reply 4:submitted:notify:1:-:in flight"
	    " 5:delivered:reply:1:-:done");
	assert_string_equal(query1(db, "SELECT count(*) FROM outbox_parts"),
	    "0");

	/* The outbox after the upgrade: what was in flight is sent again. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan(fx->st, 0, 100, collect, &seen), 2);
	assert_int_equal(seen.id[0], 3);
	assert_int_equal(seen.state[0], OB_QUEUED);
	assert_int_equal(seen.cls[0], OUTBOX_REPLY);
	assert_int_equal(seen.ref[0], -1);
	assert_int_equal(seen.id[1], 4);
	assert_int_equal(seen.state[1], OB_SUBMITTED);
	assert_int_equal(seen.cls[1], OUTBOX_NOTIFY);
	assert_int_equal(seen.attempts[1], 1);
	assert_string_equal(seen.msisdn[1], "8613900139000");
	assert_int_equal(store_outbox_counts(fx->st, counts), 0);
	assert_int_equal(counts[OB_QUEUED], 1);
	assert_int_equal(counts[OB_SUBMITTED], 1);
	assert_int_equal(counts[OB_DELIVERED], 1);

	/* The new table and its checks work on migrated rows. */
	assert_int_equal(store_outbox_set_ref(fx->st, 4, 77, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_part(fx->st, 4, 1, OB_SUBMITTED, "ABC1",
	    NULL, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "abc1", &msg, &part),
	    1);
	assert_int_equal(msg, 4);
	assert_int_equal(part, 1);
	assert_int_equal(sqlite3_exec(db, "UPDATE messages SET ref = 70000"
	    " WHERE id = 4", NULL, NULL, NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO outbox_parts" OLD_COLS "VALUES"
	    " (4 * 256 + 2, 4, 2, 'x', 'queued', NULL, 1)", NULL, NULL, NULL),
	    SQLITE_CONSTRAINT_CHECK);
	/* An old log row cannot be made an outbox row by the outbox calls. */
	assert_int_equal(store_outbox_state(fx->st, 2, OB_SUBMITTED, 1, NULL,
	    fx->err, sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "no such outbox message"));

	/* Opening again is a no-op. */
	store_close(fx->st);
	fx->st = store_open(fx->path, fx->err, sizeof(fx->err));
	assert_non_null(fx->st);
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "ABC1", &msg, &part),
	    1);
	check_rules(store_db(fx->st));
}

/* The number of OpenEphemeral steps in sql's program. */
static int
ephemeral_ops(sqlite3 *db, const char *sql)
{
	char ex[1024];
	sqlite3_stmt *s;
	int n = 0;

	snprintf(ex, sizeof(ex), "EXPLAIN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, ex, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		if (strcmp((const char *)sqlite3_column_text(s, 1),
		    "OpenEphemeral") == 0)
			n++;
	sqlite3_finalize(s);
	return n;
}

/*
 * Schema 4: every CHECK list is an OR chain, so no INSERT or UPDATE builds
 * an ephemeral table, and the rules still take exactly the listed values.
 */
static void
check_rules(sqlite3 *db)
{
	static const char *const writes[] = {
		"INSERT INTO messages (direction, at, msisdn, text, state,"
		" class) VALUES ('out', 1, '1', 'x', 'queued', 'reply')",
		"UPDATE messages SET state = 'submitted' WHERE id = 1",
		"INSERT INTO outbox_parts" OLD_COLS "VALUES (257, 1, 1, 'a', 'submitted',"
		" NULL, 1)",
		"UPDATE outbox_parts SET state = 'delivered' WHERE msg_id = 1",
		"INSERT INTO cases (receipt_no, id_number, name, msisdn, status,"
		" submitted_at, updated_at) VALUES ('R', 'I', 'N', 'M',"
		" 'accepted', '2026-01-01', 1)",
		"INSERT INTO loss_reports (id_number, msisdn, state, created_at,"
		" updated_at) VALUES ('I', 'M', 'pending', 1, 1)",
	};
	static const char *const msg_states[] = { "queued", "submitted",
	    "delivered", "failed", "expired" };
	static const char *const part_states[] = { "submitted", "delivered",
	    "failed", "expired" };
	static const char *const statuses[] = { "accepted", "reviewing",
	    "producing", "mailed", "ready", "collected", "rejected",
	    "appointment" };
	static const char *const loss[] = { "pending", "effective",
	    "released" };
	char sql[256];

	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		assert_int_equal(ephemeral_ops(db, writes[i]), 0);

	assert_int_equal(sqlite3_exec(db, "INSERT INTO messages (id, direction,"
	    " at, msisdn, text) VALUES (900, 'out', 1, '1', 'x')", NULL, NULL,
	    NULL), SQLITE_OK);
	for (size_t i = 0; i < 5; i++) {
		snprintf(sql, sizeof(sql), "UPDATE messages SET state = '%s'"
		    " WHERE id = 900", msg_states[i]);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
	}
	for (size_t i = 0; i < 4; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO outbox_parts" OLD_COLS "VALUES"
		    " (900 * 256 + %zu, 900, %zu, 'x', '%s', NULL, 1)", i + 1,
		    i + 1, part_states[i]);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
	}
	for (size_t i = 0; i < 8; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO cases (receipt_no,"
		    " id_number, name, msisdn, status, submitted_at, updated_at)"
		    " VALUES ('CHK%zu', 'I', 'N', 'M', '%s', '2026-01-01', 1)",
		    i, statuses[i]);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO loss_reports (id_number,"
		    " msisdn, state, created_at, updated_at) VALUES ('L%zu', 'M',"
		    " '%s', 1, 1)", i, loss[i]);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
	}
	/* Anything else, and the wrong case, is refused. */
	assert_int_equal(sqlite3_exec(db, "UPDATE messages SET state = 'sent'"
	    " WHERE id = 900", NULL, NULL, NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "UPDATE messages SET state = 'Queued'"
	    " WHERE id = 900", NULL, NULL, NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO outbox_parts" OLD_COLS "VALUES"
	    " (900 * 256 + 9, 900, 9, 'x', 'queued', NULL, 1)", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO outbox_parts" OLD_COLS "VALUES"
	    " (900 * 256 + 9, 900, 9, 'x', NULL, NULL, 1)", NULL, NULL, NULL),
	    SQLITE_CONSTRAINT_NOTNULL);
	/* The key is msg_id * 256 + part, and a part is 1..255. */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO outbox_parts" OLD_COLS "VALUES"
	    " (900 * 256 + 8, 900, 9, 'x', 'submitted', NULL, 1)", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO outbox_parts" OLD_COLS "VALUES"
	    " (901 * 256, 900, 256, 'x', 'submitted', NULL, 1)", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO outbox_parts" OLD_COLS "VALUES"
	    " (900 * 256, 900, 0, 'x', 'submitted', NULL, 1)", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO cases (receipt_no,"
	    " id_number, name, msisdn, status, submitted_at, updated_at) VALUES"
	    " ('CHKX', 'I', 'N', 'M', 'lost', '2026-01-01', 1)", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO loss_reports (id_number,"
	    " msisdn, state, created_at, updated_at) VALUES ('LX', 'M',"
	    " 'open', 1, 1)", NULL, NULL, NULL), SQLITE_CONSTRAINT_CHECK);
	assert_string_equal(query1(db, "PRAGMA integrity_check"), "ok");
}

static void
test_checks_without_ephemeral_tables(void **state)
{
	struct fx *fx = *state;

	check_rules(store_db(fx->st));
}

/* A fresh file made by the store, opened raw to be edited. */
static sqlite3 *
fresh_raw(struct fx *fx)
{
	sqlite3 *db;

	fx->st = store_open(fx->path, fx->err, sizeof(fx->err));
	assert_non_null(fx->st);
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	return db;
}

/*
 * A schema-3 file whose CHECK text is not what schema 3 wrote (here, other
 * spacing) cannot be rewritten: the migration fails, says why, and leaves
 * the file at version 3, untouched.
 */
static void
test_migration_v4_refuses_unknown_text(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db;

	db = fresh_raw(fx);
	assert_int_equal(sqlite3_exec(db, "PRAGMA writable_schema = ON;"
	    " UPDATE sqlite_schema SET sql = replace(sql,"
	    " '(state = ''pending'' OR state = ''effective'' OR\n"
	    "    state = ''released'')',"
	    " 'state IN ( ''pending'', ''effective'', ''released'')')"
	    " WHERE name = 'loss_reports';"
	    " PRAGMA writable_schema = OFF; PRAGMA user_version = 3;", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* The table still works at version 3 (the edit was valid SQL). */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_string_equal(tu_query1(db, "SELECT count(*) FROM loss_reports"),
	    "0");
	sqlite3_close(db);

	assert_null(store_open(fx->path, fx->err, sizeof(fx->err)));
	assert_non_null(strstr(fx->err, "migration 3 -> 4: 3 of 4 tables have"
	    " the new CHECK text"));
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_string_equal(tu_query1(db, "PRAGMA user_version"), "3");
	assert_non_null(strstr(tu_query1(db, "SELECT sql FROM sqlite_schema"
	    " WHERE name = 'loss_reports'"),
	    "state IN ( 'pending', 'effective', 'released')"));
	sqlite3_close(db);
}

/*
 * Turns a fresh file back into schema 4 as released: outbox_parts keyed
 * (msg_id, part) WITHOUT ROWID, the (state, id) outbox index, no mark, no
 * links (schema 6).
 */
static const char v4_back[] =
    "DROP TABLE links;\n"
    "DROP TABLE outbox_mark;\n"
    "DROP TABLE outbox_parts;\n"
    "CREATE TABLE outbox_parts (\n"
    "  msg_id  INTEGER NOT NULL REFERENCES messages (id),\n"
    "  part    INTEGER NOT NULL CHECK (part >= 1),\n"
    "  smsc_id TEXT,\n"
    "  state   TEXT NOT NULL CHECK ((state = 'submitted' OR state ="
    " 'delivered' OR\n"
    "    state = 'failed' OR state = 'expired')),\n"
    "  status  TEXT,\n"
    "  at      INTEGER NOT NULL,\n"
    "  PRIMARY KEY (msg_id, part)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX outbox_parts_smsc_id ON outbox_parts (smsc_id);\n"
    "DROP INDEX messages_queued;\n"
    "CREATE INDEX messages_outbox ON messages (state, id)\n"
    "  WHERE state IN ('queued', 'submitted');\n"
    "PRAGMA user_version = 4;\n";

/*
 * 4 -> 5 keeps every part (now keyed msg_id * 256 + part, still found by
 * SMSC id and by message), swaps the outbox index, and starts the mark
 * past every row: a message a schema-4 daemon left submitted is complete,
 * and one it left queued is sent as before.
 */
static void
test_migration_v4_to_v5(void **state)
{
	struct fx *fx = *state;
	struct seen seen;
	int states[3];
	int64_t msg;
	int part;
	sqlite3 *db;

	db = fresh_raw(fx);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON;", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v4_back, NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO messages (id, direction, at, msisdn, text, state,"
	    " class, attempts) VALUES"
	    " (1, 'out', 1, '13800138000', 'two parts', 'submitted', 'reply',"
	    " 1), (2, 'out', 1, '13800138000', 'waits', 'queued', 'notify',"
	    " 0), (3, 'out', 1, '13800138000', 'done', 'delivered', 'reply',"
	    " 1);"
	    "INSERT INTO outbox_parts VALUES (1, 1, 'a1', 'delivered',"
	    " 'DELIVRD', 5), (1, 2, 'a2', 'submitted', NULL, 6),"
	    " (3, 1, 'c1', 'delivered', 'DELIVRD', 7);", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	fx->st = store_open(fx->path, fx->err, sizeof(fx->err));
	if (fx->st == NULL)
		print_error("store_open: %s\n", fx->err);
	assert_non_null(fx->st);
	db = store_db(fx->st);
	assert_string_equal(query1(db, "PRAGMA user_version"), "6");
	assert_string_equal(query1(db, "SELECT group_concat(id || ':' ||"
	    " msg_id || ':' || part || ':' || smsc_id || ':' || state || ':' ||"
	    " coalesce(status, '-') || ':' || at, ' ') FROM outbox_parts"),
	    "257:1:1:a1:delivered:DELIVRD:5 258:1:2:a2:submitted:-:6"
	    " 769:3:1:c1:delivered:DELIVRD:7");
	assert_int_equal(store_outbox_mark(fx->st), 4);
	assert_string_equal(query1(db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE name IN ('messages_outbox', 'outbox_parts_v5')"), "0");
	/* 5 -> 6: the old parts have no link, and match a receipt from
	 * any link. */
	assert_string_equal(query1(db, "SELECT count(*) FROM outbox_parts"
	    " WHERE link IS NULL"), "3");
	assert_int_equal(store_outbox_by_link_id(fx->st, "mobile", "C1", &msg,
	    &part), 1);
	assert_int_equal(msg, 3);
	assert_int_equal(store_outbox_part_states(fx->st, 1, states, 3), 0);
	assert_int_equal(states[0], OB_DELIVERED);
	assert_int_equal(states[1], OB_SUBMITTED);
	assert_int_equal(states[2], -1);
	assert_int_equal(store_outbox_part_count(fx->st, 1, -1), 2);
	assert_int_equal(store_outbox_part_count(fx->st, 1, OB_DELIVERED), 1);
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "a2", &msg, &part),
	    1);
	assert_int_equal(msg, 1);
	assert_int_equal(part, 2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan_queued(fx->st, 0, -1, collect,
	    &seen), 1);
	assert_int_equal(seen.id[0], 2);
	assert_string_equal(query1(db, "PRAGMA integrity_check"), "ok");
	assert_string_equal(query1(db, "SELECT count(*) FROM"
	    " pragma_foreign_key_check"), "0");
	check_rules(db);
}

/* A fresh database and a migrated one have the same schema. */
static void
test_migrated_equals_fresh(void **state)
{
	struct fx *fx = *state;
	char fresh[160], a[8192], b[8192];
	struct store *st;
	sqlite3 *db;
	static const char q[] = "SELECT group_concat(sql, ';') FROM (SELECT"
	    " sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name)";

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1_sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	fx->st = store_open(fx->path, fx->err, sizeof(fx->err));
	assert_non_null(fx->st);
	snprintf(a, sizeof(a), "%s", query1(store_db(fx->st), q));

	snprintf(fresh, sizeof(fresh), "%s/fresh.db", fx->dir);
	st = store_open(fresh, fx->err, sizeof(fx->err));
	assert_non_null(st);
	snprintf(b, sizeof(b), "%s", query1(store_db(st), q));
	store_close(st);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "smsc_ids"));
	assert_non_null(strstr(a, "outbox_parts"));

	/* From v2 as well. */
	snprintf(fresh, sizeof(fresh), "%s/from2.db", fx->dir);
	assert_int_equal(sqlite3_open(fresh, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v2_step, NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	st = store_open(fresh, fx->err, sizeof(fx->err));
	assert_non_null(st);
	snprintf(b, sizeof(b), "%s", query1(store_db(st), q));
	store_close(st);
	assert_string_equal(a, b);
}

static void
test_newer_version_refused(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE future (x);"
	    "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_null(store_open(fx->path, fx->err, sizeof(fx->err)));
	assert_non_null(strstr(fx->err, "smsgwd.db: database schema version 99"
	    " is newer than this program's 6"));

	/* Refused without touching it: not even switched to WAL. */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_string_equal(query1(db, "PRAGMA user_version"), "99");
	assert_string_equal(query1(db, "PRAGMA journal_mode"), "delete");
	assert_string_equal(query1(db, "SELECT count(*) FROM sqlite_schema"),
	    "1");
	sqlite3_close(db);
}

static void
test_not_a_database(void **state)
{
	struct fx *fx = *state;
	FILE *f = fopen(fx->path, "w");

	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite file\n", f);
	fclose(f);
	assert_null(store_open(fx->path, fx->err, sizeof(fx->err)));
	assert_non_null(strstr(fx->err, "smsgwd.db: "));
	assert_non_null(strstr(fx->err, "not a database"));
}

/* Other modules' tests may use a throw-away in-memory store. */
static void
test_in_memory(void **state)
{
	struct case_rec c = mkcase("MEM", "11010519491231002X", "2024-01-01",
	    CASE_ACCEPTED), got;
	struct store *st;
	char err[256];

	(void)state;
	assert_non_null(st = store_open(":memory:", err, sizeof(err)));
	assert_int_equal(store_schema_version(st), 6);
	assert_int_equal(store_case_upsert(st, &c, err, sizeof(err)), 0);
	assert_int_equal(store_case_by_receipt(st, "MEM", &got), 1);
	store_close(st);
}

static void
test_unopenable(void **state)
{
	struct fx *fx = *state;
	char p[160];

	snprintf(p, sizeof(p), "%s/no/such/dir/x.db", fx->dir);
	assert_null(store_open(p, fx->err, sizeof(fx->err)));
	assert_non_null(strstr(fx->err, "x.db: "));
	assert_non_null(strstr(fx->err, "unable to open"));
}

/* smsgwd and smsgwctl at once: a reader is not blocked by a writer's
 * open transaction, and sees the commit once it is made. */
static void
test_two_handles(void **state)
{
	struct fx *fx = *state;
	struct store *b = store_open(fx->path, fx->err, sizeof(fx->err));
	struct case_rec c = mkcase("BOTH", "11010519491231002X", "2024-01-01",
	    CASE_ACCEPTED), got;
	struct msg_rec m = { .msisdn = "13800138000", .text = "hi" };

	assert_non_null(b);
	assert_int_equal(store_begin(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_case_upsert(fx->st, &c, NULL, 0), 0);
	assert_int_equal(store_case_by_receipt(b, "BOTH", &got), 0);
	assert_int_equal(store_commit(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_case_by_receipt(b, "BOTH", &got), 1);

	/* Both write, alternately. */
	c.status = CASE_READY;
	assert_int_equal(store_case_upsert(b, &c, fx->err, sizeof(fx->err)), 0);
	assert_true(store_msg_add(fx->st, &m, fx->err, sizeof(fx->err)) > 0);
	assert_true(store_msg_add(b, &m, fx->err, sizeof(fx->err)) > 0);
	assert_int_equal(store_case_by_receipt(fx->st, "BOTH", &got), 1);
	assert_int_equal(got.status, CASE_READY);
	assert_string_equal(query1(store_db(b),
	    "SELECT count(*) FROM messages"), "2");
	store_close(b);
}

/* ---- the outbox ------------------------------------------------------ */

static int64_t
add_out(struct fx *fx, int cls, const char *msisdn, const char *text)
{
	struct msg_rec m = { .outbound = 1, .cls = cls, .msisdn = msisdn,
	    .ton = 1, .npi = 1, .text = text };
	int64_t id = store_msg_add(fx->st, &m, fx->err, sizeof(fx->err));

	assert_true(id > 0);
	return id;
}

static int64_t
add_in(struct fx *fx, const char *text)
{
	struct msg_rec m = { .msisdn = "13800138000", .text = text,
	    .intent = "query" };
	int64_t id = store_msg_add(fx->st, &m, fx->err, sizeof(fx->err));

	assert_true(id > 0);
	return id;
}

static void
test_outbox_state_names(void **state)
{
	static const char *const names[] = { "queued", "submitted",
	    "delivered", "failed", "expired" };

	(void)state;
	assert_int_equal(OB_NSTATES, 5);
	for (int i = 0; i < OB_NSTATES; i++) {
		assert_string_equal(outbox_state_name(i), names[i]);
		assert_int_equal(outbox_state_from_name(names[i]), i);
	}
	assert_null(outbox_state_name(OB_NSTATES));
	assert_null(outbox_state_name(-1));
	assert_int_equal(outbox_state_from_name("Queued"), -1);
	assert_int_equal(outbox_state_from_name(""), -1);
	assert_int_equal(outbox_state_from_name(NULL), -1);
}

static void
test_msg_add_classes(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);
	struct msg_rec bad = { .outbound = 1, .cls = 2, .msisdn = "1",
	    .text = "x" };

	add_in(fx, "CX R1");
	add_out(fx, OUTBOX_REPLY, "13800138000", "reply");
	add_out(fx, OUTBOX_NOTIFY, "8613800138000", "notice");
	assert_string_equal(query1(db, "SELECT group_concat(direction || ':' ||"
	    " coalesce(state, '-') || ':' || coalesce(class, '-'), ' ') FROM"
	    " messages"), "in:-:- out:queued:reply out:queued:notify");
	assert_int_equal(store_msg_add(fx->st, &bad, fx->err,
	    sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "class 2"));
	bad.cls = -1;
	assert_int_equal(store_msg_add(fx->st, &bad, fx->err,
	    sizeof(fx->err)), -1);
	/* A reply the daemon sends itself starts submitted, outside the
	 * queued index; no other state can start a row. */
	bad.cls = OUTBOX_REPLY;
	bad.state = OB_SUBMITTED;
	assert_true(store_msg_add(fx->st, &bad, fx->err, sizeof(fx->err)) > 0);
	assert_string_equal(query1(db, "SELECT state FROM messages WHERE id ="
	    " (SELECT max(id) FROM messages)"), "submitted");
	assert_string_equal(query1(db, "SELECT count(*) FROM messages"
	    " INDEXED BY messages_queued WHERE state = 'queued'"), "2");
	bad.state = OB_DELIVERED;
	assert_int_equal(store_msg_add(fx->st, &bad, fx->err,
	    sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "state 2 for a new row"));
	bad.state = OB_QUEUED;
	/* An inbound row's cls is ignored. */
	bad.outbound = 0;
	assert_true(store_msg_add(fx->st, &bad, fx->err, sizeof(fx->err)) > 0);
	assert_string_equal(query1(db, "SELECT count(*) FROM messages"), "5");
}

static void
test_outbox_scan(void **state)
{
	struct fx *fx = *state;
	struct seen seen;
	int64_t r1, n1, r2, r3, d;

	add_in(fx, "CX R1");
	r1 = add_out(fx, OUTBOX_REPLY, "13800138000", "第一");
	n1 = add_out(fx, OUTBOX_NOTIFY, "8613900139000", "second");
	add_in(fx, "CX R2");
	r2 = add_out(fx, OUTBOX_REPLY, "13700137000", "third");
	d = add_out(fx, OUTBOX_REPLY, "13700137000", "done");
	r3 = add_out(fx, OUTBOX_REPLY, "13600136000", "");
	/* submitted rows interleave with queued ones in id order */
	assert_int_equal(store_outbox_state(fx->st, n1, OB_SUBMITTED, 1, NULL,
	    fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_state(fx->st, d, OB_DELIVERED, 1, NULL,
	    fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_set_ref(fx->st, n1, 200, fx->err,
	    sizeof(fx->err)), 0);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan(fx->st, 0, 100, collect, &seen), 4);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.id[0], r1);
	assert_int_equal(seen.id[1], n1);
	assert_int_equal(seen.id[2], r2);
	assert_int_equal(seen.id[3], r3);
	assert_string_equal(seen.text[0], "第一");
	assert_string_equal(seen.text[3], "");
	assert_int_equal(seen.state[0], OB_QUEUED);
	assert_int_equal(seen.state[1], OB_SUBMITTED);
	assert_int_equal(seen.cls[0], OUTBOX_REPLY);
	assert_int_equal(seen.cls[1], OUTBOX_NOTIFY);
	assert_string_equal(seen.msisdn[1], "8613900139000");
	assert_int_equal(seen.ton[1], 1);
	assert_int_equal(seen.ref[0], -1);
	assert_int_equal(seen.ref[1], 200);
	assert_int_equal(seen.attempts[0], 0);
	assert_int_equal(seen.attempts[1], 1);
	assert_true(seen.at[0] > 1700000000);

	/* after_id and limit page through it. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan(fx->st, r1, 2, collect, &seen), 2);
	assert_int_equal(seen.id[0], n1);
	assert_int_equal(seen.id[1], r2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan(fx->st, r2, 2, collect, &seen), 1);
	assert_int_equal(seen.id[0], r3);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan(fx->st, r3, 2, collect, &seen), 0);

	/* limit -1: all of them */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan(fx->st, 0, -1, collect, &seen), 4);

	/* Queued only: the submitted notification is not even read. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan_queued(fx->st, 0, -1, collect,
	    &seen), 3);
	assert_int_equal(seen.id[0], r1);
	assert_int_equal(seen.id[1], r2);
	assert_int_equal(seen.id[2], r3);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan_queued(fx->st, r1, 1, collect,
	    &seen), 1);
	assert_int_equal(seen.id[0], r2);

	/* Submitted from an id on (the outbox mark): the notification. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan_open(fx->st, n1, -1, collect,
	    &seen), 1);
	assert_int_equal(seen.id[0], n1);
	assert_int_equal(seen.state[0], OB_SUBMITTED);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan_open(fx->st, n1 + 1, -1, collect,
	    &seen), 0);

	/* fn stops the scan; the rows it saw are counted. */
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 2;
	assert_int_equal(store_outbox_scan(fx->st, 0, 100, collect, &seen), 2);
	assert_int_equal(seen.n, 2);

	/* The statement was reset: a write after the stop does not wait on
	 * an open read, and the next scan sees it. */
	assert_int_equal(store_outbox_state(fx->st, r1, OB_FAILED, 1,
	    "ESME_RINVDSTADR", fx->err, sizeof(fx->err)), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan(fx->st, 0, 100, collect, &seen), 3);
	assert_int_equal(seen.id[0], n1);
}

struct finisher {
	struct store *st;
	int64_t       seen[64];
	int           n;
};

/* Moves the row it is given out of the outbox, as the daemon does for an
 * expired or opted-out notification found by the scan. */
static int
finish_current(void *arg, const struct outbox_row *r)
{
	struct finisher *f = arg;

	assert_true(f->n < 64);
	f->seen[f->n++] = r->id;
	if (r->id % 3 != 0)
		assert_int_equal(store_outbox_state(f->st, r->id,
		    r->id % 2 ? OB_EXPIRED : OB_SUBMITTED, r->attempts, "X",
		    NULL, 0), 0);
	return 0;
}

/* The callback may change the current row's state: every row is still
 * seen exactly once, in order. */
static void
test_outbox_scan_change_current(void **state)
{
	struct fx *fx = *state;
	struct finisher f = { .st = fx->st };
	int64_t counts[OB_NSTATES];

	for (int i = 0; i < 40; i++)
		add_out(fx, i % 4 == 0 ? OUTBOX_REPLY : OUTBOX_NOTIFY,
		    "13800138000", "x");
	for (int64_t id = 5; id <= 40; id += 5)
		assert_int_equal(store_outbox_state(fx->st, id, OB_SUBMITTED,
		    1, NULL, NULL, 0), 0);
	assert_int_equal(store_outbox_scan(fx->st, 0, -1, finish_current, &f),
	    40);
	assert_int_equal(f.n, 40);
	for (int i = 0; i < 40; i++)
		assert_int_equal(f.seen[i], i + 1);
	assert_int_equal(store_outbox_counts(fx->st, counts), 0);
	assert_int_equal(counts[OB_EXPIRED], 13);
}

static void
test_outbox_parts(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);
	int64_t a, b, msg = 0;
	int states[4], part = 0;

	a = add_out(fx, OUTBOX_NOTIFY, "8613800138000", "three parts");
	b = add_out(fx, OUTBOX_REPLY, "13800138000", "one part");

	assert_int_equal(store_outbox_part_states(fx->st, a, states, 4), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(states[i], -1);
	assert_int_equal(store_outbox_part_count(fx->st, a, -1), 0);

	assert_int_equal(store_outbox_part(fx->st, a, 1, OB_SUBMITTED,
	    "0A1B2C", NULL, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_part(fx->st, a, 3, OB_SUBMITTED, "12345",
	    NULL, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_part(fx->st, b, 1, OB_SUBMITTED,
	    "FFFF", NULL, fx->err, sizeof(fx->err)), 0);
	/* stored lower-case */
	assert_string_equal(query1(db, "SELECT group_concat(smsc_id, ' ') FROM"
	    " outbox_parts"), "0a1b2c 12345 ffff");

	assert_int_equal(store_outbox_part_states(fx->st, a, states, 4), 0);
	assert_int_equal(states[0], OB_SUBMITTED);
	assert_int_equal(states[1], -1);
	assert_int_equal(states[2], OB_SUBMITTED);
	assert_int_equal(states[3], -1);
	/* n smaller than the parts recorded: only those are written */
	states[1] = 99;
	assert_int_equal(store_outbox_part_states(fx->st, a, states, 1), 0);
	assert_int_equal(states[0], OB_SUBMITTED);
	assert_int_equal(states[1], 99);

	/* Receipts: any case finds the part. */
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "0a1b2c", &msg,
	    &part), 1);
	assert_int_equal(msg, a);
	assert_int_equal(part, 1);
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "0A1b2C", &msg,
	    &part), 1);
	assert_int_equal(msg, a);
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "12345", &msg,
	    &part), 1);
	assert_int_equal(part, 3);
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "nope", &msg, &part),
	    0);

	/* A receipt updates the state and status; NULL id keeps the id. */
	assert_int_equal(store_outbox_part(fx->st, a, 1, OB_DELIVERED, NULL,
	    "DELIVRD", fx->err, sizeof(fx->err)), 0);
	assert_string_equal(query1(db, "SELECT smsc_id || ':' || state || ':' ||"
	    " status FROM outbox_parts WHERE msg_id = 1 AND part = 1"),
	    "0a1b2c:delivered:DELIVRD");
	/* NULL status keeps it too; a new id replaces the old */
	assert_int_equal(store_outbox_part(fx->st, a, 1, OB_DELIVERED, "AA",
	    NULL, fx->err, sizeof(fx->err)), 0);
	assert_string_equal(query1(db, "SELECT smsc_id || ':' || status FROM"
	    " outbox_parts WHERE msg_id = 1 AND part = 1"), "aa:DELIVRD");
	{
		char stat[8] = "x";

		assert_int_equal(store_outbox_part_status(fx->st, a, 1, stat,
		    sizeof(stat)), 1);
		assert_string_equal(stat, "DELIVRD");
		/* No receipt yet: found, no status. */
		assert_int_equal(store_outbox_part_status(fx->st, a, 3, stat,
		    sizeof(stat)), 1);
		assert_string_equal(stat, "");
		assert_int_equal(store_outbox_part_status(fx->st, a, 9, stat,
		    sizeof(stat)), 0);
		assert_string_equal(stat, "");
	}
	/* Accepted again (a resend): the plain insert meets the row and the
	 * upsert takes over, keeping the status. */
	assert_int_equal(store_outbox_part(fx->st, a, 1, OB_SUBMITTED, "Bb",
	    NULL, fx->err, sizeof(fx->err)), 0);
	assert_string_equal(query1(db, "SELECT smsc_id || ':' || state || ':'"
	    " || status FROM outbox_parts WHERE msg_id = 1 AND part = 1"),
	    "bb:submitted:DELIVRD");
	assert_int_equal(store_outbox_part(fx->st, a, 1, OB_DELIVERED, "AA",
	    NULL, fx->err, sizeof(fx->err)), 0);
	/* An id longer than SMPP allows is still stored whole, lower-case. */
	{
		char longid[101];

		memset(longid, 'X', 100);
		longid[100] = '\0';
		assert_int_equal(store_outbox_part(fx->st, a, 4, OB_SUBMITTED,
		    longid, NULL, fx->err, sizeof(fx->err)), 0);
		assert_string_equal(query1(db, "SELECT length(smsc_id) ||"
		    " substr(smsc_id, 1, 2) FROM outbox_parts WHERE msg_id = 1"
		    " AND part = 4"), "100xx");
		assert_int_equal(sqlite3_exec(db, "DELETE FROM outbox_parts"
		    " WHERE msg_id = 1 AND part = 4", NULL, NULL, NULL),
		    SQLITE_OK);
	}
	/* A part of no message is refused, with its name. */
	assert_int_equal(store_outbox_part(fx->st, 999, 1, OB_SUBMITTED, "z",
	    NULL, fx->err, sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "outbox part 999/1"));
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "0a1b2c", &msg,
	    &part), 0);

	assert_int_equal(store_outbox_part_count(fx->st, a, -1), 2);
	assert_int_equal(store_outbox_part_count(fx->st, a, OB_DELIVERED), 1);
	assert_int_equal(store_outbox_part_count(fx->st, a, OB_SUBMITTED), 1);
	assert_int_equal(store_outbox_part_count(fx->st, a, OB_FAILED), 0);
	assert_int_equal(store_outbox_part_count(fx->st, b, -1), 1);
	assert_int_equal(store_outbox_part_count(fx->st, 999, -1), 0);
	assert_int_equal(store_outbox_part_count(fx->st, a, OB_NSTATES), -1);

	/* Parts are never queued; part numbers start at 1; the message
	 * must exist. */
	assert_int_equal(store_outbox_part(fx->st, a, 2, OB_QUEUED, "x", NULL,
	    fx->err, sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "state 0 out of range"));
	assert_int_equal(store_outbox_part(fx->st, a, 0, OB_SUBMITTED, "x",
	    NULL, fx->err, sizeof(fx->err)), -1);
	assert_int_equal(store_outbox_part(fx->st, a, 2, OB_NSTATES, "x", NULL,
	    fx->err, sizeof(fx->err)), -1);
	assert_int_equal(store_outbox_part(fx->st, 999, 1, OB_SUBMITTED, "x",
	    NULL, fx->err, sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "FOREIGN KEY"));
	assert_string_equal(query1(db, "SELECT count(*) FROM outbox_parts"),
	    "3");
}

/* Should an SMSC reuse a message id, the receipt goes to the newest. */
static void
test_outbox_smsc_id_reused(void **state)
{
	struct fx *fx = *state;
	int64_t a, b, msg;
	int part;

	a = add_out(fx, OUTBOX_REPLY, "13800138000", "old");
	b = add_out(fx, OUTBOX_REPLY, "13800138000", "new");
	assert_int_equal(store_outbox_part(fx->st, a, 1, OB_DELIVERED, "7",
	    NULL, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_part(fx->st, b, 2, OB_SUBMITTED, "7",
	    NULL, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "7", &msg, &part), 1);
	assert_int_equal(msg, b);
	assert_int_equal(part, 2);
}

static void
test_outbox_state(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);
	int64_t a, in;

	a = add_out(fx, OUTBOX_REPLY, "13800138000", "hi");
	in = add_in(fx, "CX");
	assert_int_equal(store_outbox_state(fx->st, a, OB_SUBMITTED, 1, NULL,
	    fx->err, sizeof(fx->err)), 0);
	assert_string_equal(query1(db, "SELECT state || ':' || attempts || ':'"
	    " || coalesce(last_status, '-') FROM messages WHERE id = 1"),
	    "submitted:1:-");
	assert_int_equal(store_outbox_state(fx->st, a, OB_QUEUED, 2,
	    "ESME_RTHROTTLED", fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_state(fx->st, a, OB_SUBMITTED, 3, NULL,
	    fx->err, sizeof(fx->err)), 0);
	/* NULL keeps the last status */
	assert_string_equal(query1(db, "SELECT state || ':' || attempts || ':'"
	    " || last_status FROM messages WHERE id = 1"),
	    "submitted:3:ESME_RTHROTTLED");
	/* attempts -1 keeps the count */
	assert_int_equal(store_outbox_state(fx->st, a, OB_EXPIRED, -1,
	    "EXPIRED", fx->err, sizeof(fx->err)), 0);
	assert_string_equal(query1(db, "SELECT state || ':' || attempts || ':'"
	    " || last_status FROM messages WHERE id = 1"), "expired:3:EXPIRED");
	/* Read back by id, whatever the state (a finished row too). */
	{
		int st = -1, att = -1;

		assert_int_equal(store_outbox_get(fx->st, a, &st, &att), 1);
		assert_int_equal(st, OB_EXPIRED);
		assert_int_equal(att, 3);
		assert_int_equal(store_outbox_get(fx->st, 999, &st, &att), 0);
		assert_int_equal(store_outbox_get(fx->st, in, &st, &att), 0);
	}

	assert_int_equal(store_outbox_state(fx->st, 999, OB_FAILED, 1, NULL,
	    fx->err, sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "outbox state 999: no such outbox"
	    " message"));
	/* An inbound row is not an outbox row. */
	assert_int_equal(store_outbox_state(fx->st, in, OB_FAILED, 1, NULL,
	    fx->err, sizeof(fx->err)), -1);
	assert_int_equal(store_outbox_set_ref(fx->st, in, 1, fx->err,
	    sizeof(fx->err)), -1);
	assert_int_equal(store_outbox_state(fx->st, a, OB_NSTATES, 1, NULL,
	    fx->err, sizeof(fx->err)), -1);
	assert_int_equal(store_outbox_state(fx->st, a, -1, 1, NULL, fx->err,
	    sizeof(fx->err)), -1);
	assert_int_equal(store_outbox_state(fx->st, a, OB_FAILED, -2, NULL,
	    fx->err, sizeof(fx->err)), -1);
	assert_string_equal(query1(db, "SELECT coalesce(state, '-') FROM"
	    " messages WHERE id = 2"), "-");

	assert_int_equal(store_outbox_set_ref(fx->st, a, 65536, fx->err,
	    sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "CHECK"));
	assert_int_equal(store_outbox_set_ref(fx->st, a, 65535, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_set_ref(fx->st, 999, 1, fx->err,
	    sizeof(fx->err)), -1);
}

static void
test_outbox_requeue(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);
	struct seen seen;
	int64_t a, b, msg;
	int part;

	a = add_out(fx, OUTBOX_NOTIFY, "8613800138000", "two parts");
	b = add_out(fx, OUTBOX_REPLY, "13800138000", "other");
	assert_int_equal(store_outbox_set_ref(fx->st, a, 42, NULL, 0), 0);
	assert_int_equal(store_outbox_part(fx->st, a, 1, OB_DELIVERED, "a1",
	    "DELIVRD", NULL, 0), 0);
	assert_int_equal(store_outbox_part(fx->st, a, 2, OB_FAILED, "a2",
	    "UNDELIV", NULL, 0), 0);
	assert_int_equal(store_outbox_part(fx->st, b, 1, OB_SUBMITTED, "b1",
	    NULL, NULL, 0), 0);
	assert_int_equal(store_outbox_state(fx->st, a, OB_FAILED, 1, "UNDELIV",
	    NULL, 0), 0);

	assert_int_equal(store_outbox_requeue(fx->st, a, fx->err,
	    sizeof(fx->err)), 0);
	assert_string_equal(query1(db, "SELECT state || ':' || attempts || ':'"
	    " || ref || ':' || last_status FROM messages WHERE id = 1"),
	    "queued:1:42:UNDELIV");
	assert_int_equal(store_outbox_part_count(fx->st, a, -1), 0);
	assert_int_equal(store_outbox_by_smsc_id(fx->st, "a1", &msg, &part), 0);
	/* the other message's parts are untouched */
	assert_int_equal(store_outbox_part_count(fx->st, b, -1), 1);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_outbox_scan(fx->st, 0, 10, collect, &seen), 2);
	assert_int_equal(seen.id[0], a);
	assert_int_equal(seen.ref[0], 42);
	assert_int_equal(seen.state[0], OB_QUEUED);

	/* Inside the caller's transaction, and rolled back with it. */
	assert_int_equal(store_outbox_part(fx->st, a, 1, OB_SUBMITTED, "a3",
	    NULL, NULL, 0), 0);
	assert_int_equal(store_begin(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_requeue(fx->st, a, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_part_count(fx->st, a, -1), 0);
	store_rollback(fx->st);
	assert_int_equal(store_outbox_part_count(fx->st, a, -1), 1);

	/* A failure changes nothing and leaves no transaction open. */
	assert_int_equal(store_outbox_requeue(fx->st, 999, fx->err,
	    sizeof(fx->err)), -1);
	assert_non_null(strstr(fx->err, "no such outbox message"));
	assert_true(sqlite3_get_autocommit(db));
	assert_int_equal(store_begin(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_requeue(fx->st, 999, fx->err,
	    sizeof(fx->err)), -1);
	assert_false(sqlite3_get_autocommit(db));   /* the caller's is open */
	assert_int_equal(store_commit(fx->st, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(store_outbox_part_count(fx->st, a, -1), 1);
}

static void
test_outbox_counts(void **state)
{
	struct fx *fx = *state;
	int64_t counts[OB_NSTATES], ids[6];

	assert_int_equal(store_outbox_counts(fx->st, counts), 0);
	for (int i = 0; i < OB_NSTATES; i++)
		assert_int_equal(counts[i], 0);
	add_in(fx, "CX");
	for (int i = 0; i < 6; i++)
		ids[i] = add_out(fx, i % 2, "13800138000", "x");
	assert_int_equal(store_outbox_state(fx->st, ids[1], OB_SUBMITTED, 1,
	    NULL, NULL, 0), 0);
	assert_int_equal(store_outbox_state(fx->st, ids[2], OB_DELIVERED, 1,
	    NULL, NULL, 0), 0);
	assert_int_equal(store_outbox_state(fx->st, ids[3], OB_DELIVERED, 1,
	    NULL, NULL, 0), 0);
	assert_int_equal(store_outbox_state(fx->st, ids[4], OB_EXPIRED, 1,
	    NULL, NULL, 0), 0);
	assert_int_equal(store_outbox_counts(fx->st, counts), 0);
	assert_int_equal(counts[OB_QUEUED], 2);
	assert_int_equal(counts[OB_SUBMITTED], 1);
	assert_int_equal(counts[OB_DELIVERED], 2);
	assert_int_equal(counts[OB_FAILED], 0);
	assert_int_equal(counts[OB_EXPIRED], 1);
}

/* Another connection's commit changes data_version; our own does not. */
static void
test_data_version(void **state)
{
	struct fx *fx = *state;
	struct store *b = store_open(fx->path, fx->err, sizeof(fx->err));
	int64_t v0, v1;

	assert_non_null(b);
	assert_true((v0 = store_data_version(fx->st)) >= 0);
	add_out(fx, OUTBOX_REPLY, "13800138000", "own");
	assert_int_equal(store_data_version(fx->st), v0);
	assert_int_equal(store_optout_set(b, "13800138000", 1, fx->err,
	    sizeof(fx->err)), 0);
	assert_true((v1 = store_data_version(fx->st)) != v0);
	assert_int_equal(store_data_version(fx->st), v1);   /* stable */
	store_close(b);
}

/* The links table: one row a (node, link), replaced; a node's rows
 * cleared at start. */
static void
test_link_rows(void **state)
{
	struct fx *fx = *state;
	struct link_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "mobile");
	snprintf(r.state, sizeof(r.state), "bound");
	snprintf(r.bind, sizeof(r.bind), "transceiver");
	snprintf(r.host, sizeof(r.host), "127.0.0.1:2775");
	r.window = 10;
	r.in_flight = 3;
	r.rate = 290;
	r.queued = 7;
	r.bound_at = 100;
	r.updated_at = 200;
	assert_int_equal(store_link_put(fx->st, &r, fx->err,
	    sizeof(fx->err)), 0);
	r.in_flight = 4;
	snprintf(r.last_error, sizeof(r.last_error), "bind refused");
	r.bound_at = 0;
	assert_int_equal(store_link_put(fx->st, &r, fx->err,
	    sizeof(fx->err)), 0);
	snprintf(r.name, sizeof(r.name), "unicom");
	assert_int_equal(store_link_put(fx->st, &r, fx->err,
	    sizeof(fx->err)), 0);
	assert_string_equal(query1(store_db(fx->st), "SELECT group_concat("
	    "name || ':' || in_flight || ':' || rate || ':' || coalesce("
	    "bound_at, '-') || ':' || last_error, ' ') FROM links"),
	    "mobile:4:290:-:bind refused unicom:4:290:-:bind refused");
	assert_int_equal(store_link_clear(fx->st, "", fx->err,
	    sizeof(fx->err)), 0);
	assert_string_equal(query1(store_db(fx->st), "SELECT count(*) FROM"
	    " links"), "0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test_setup_teardown(test_checks_without_ephemeral_tables,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_migration_v4_refuses_unknown_text, setup, teardown),
		cmocka_unit_test(test_case_deadline),
		cmocka_unit_test_setup_teardown(test_open_creates_v5,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_pragmas, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_query_plans, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_case_upsert, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_case_latest_by_id,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_overlong_value_cut_at_char,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_loss_reports, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_optouts, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_messages, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_migration_v1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migration_v2_to_v5, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migration_v4_to_v5, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migrated_equals_fresh,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_version_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup,
		    teardown),
		cmocka_unit_test(test_in_memory),
		cmocka_unit_test_setup_teardown(test_unopenable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_handles, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_link_rows, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outbox_scan_plan,
		    setup_open, teardown),
		cmocka_unit_test(test_outbox_state_names),
		cmocka_unit_test_setup_teardown(test_msg_add_classes,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_scan, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outbox_scan_change_current,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_parts, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outbox_smsc_id_reused,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_state, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outbox_requeue,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_counts, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_data_version, setup_open,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
