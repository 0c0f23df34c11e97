/*
 * daemon/store on a real SQLite file in a fresh temporary folder per test:
 * schema, PRAGMAs, every call, the v1 -> v2 migration, a refused newer
 * schema, and two handles on one file (smsgwd and smsgwctl).
 */
#include <dirent.h>
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

#include <sqlite3.h>

#include "daemon/store.h"

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
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_store.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(fx->dir) == NULL) {
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
	struct dirent *e;
	char p[384];
	DIR *d;

	store_close(fx->st);
	if ((d = opendir(fx->dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.') {
				snprintf(p, sizeof(p), "%s/%s", fx->dir,
				    e->d_name);
				unlink(p);
			}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* The first column of a one-row query, as text ("" for no row). */
static const char *
query1(sqlite3 *db, const char *sql)
{
	static char buf[8192];
	sqlite3_stmt *s;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		snprintf(buf, sizeof(buf), "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

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

static void
test_open_creates_v2(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);

	assert_int_equal(STORE_SCHEMA_VERSION, 2);
	assert_int_equal(store_schema_version(fx->st), 2);
	assert_string_equal(query1(db, "PRAGMA user_version"), "2");
	assert_string_equal(query1(db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE type = 'table' AND name IN ('cases', 'loss_reports',"
	    " 'messages', 'optouts')"), "4");
	assert_string_equal(query1(db, "SELECT count(*) FROM"
	    " pragma_table_info('messages') WHERE name IN ('state', 'class',"
	    " 'attempts', 'last_status', 'smsc_ids')"), "5");
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

/* Every prepared statement finds its rows through an index. */
static void
test_query_plans(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);
	sqlite3_stmt *s = NULL, *plan;
	char sql[2048];
	int n = 0;

	while ((s = sqlite3_next_stmt(db, s)) != NULL) {
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
	assert_true(n >= 10);
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
	struct msg_rec in = { 0, "+8613800138000", 1, 1,
	    "CX 11010519491231002X", "query", 0 };
	struct msg_rec out = { 1, "+8613800138000", 1, 1, "您的申请已受理", NULL,
	    0 };
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
	    " '|' || attempts FROM messages WHERE direction = 'out'"),
	    "您的申请已受理|1|null|null|0");

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
	struct msg_rec m = { 0, "13800138000", 0, 0, "hi", NULL, 0 };
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
test_migration_v1_to_v2(void **state)
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
	assert_int_equal(store_schema_version(fx->st), 2);
	assert_string_equal(query1(db, "PRAGMA user_version"), "2");

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
	    " attempts || ':' || coalesce(reply_to, '-'), ' ') FROM messages"),
	    "1:-:-:0:- 2:-:-:0:1");
	/* The new columns and their checks work. */
	assert_int_equal(sqlite3_exec(db, "UPDATE messages SET state ="
	    " 'queued', class = 'reply' WHERE id = 2", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE messages SET state = 'bogus'"
	    " WHERE id = 2", NULL, NULL, NULL), SQLITE_CONSTRAINT_CHECK);
	assert_string_equal(query1(db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE name = 'messages_outbox'"), "1");

	/* Opening again is a no-op. */
	store_close(fx->st);
	fx->st = store_open(fx->path, fx->err, sizeof(fx->err));
	assert_non_null(fx->st);
	assert_int_equal(store_case_by_receipt(fx->st, "OLD1", &c), 1);
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
	    " is newer than this program's 2"));

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
	assert_int_equal(store_schema_version(st), 2);
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
	struct msg_rec m = { 0, "13800138000", 0, 0, "hi", NULL, 0 };

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test_setup_teardown(test_open_creates_v2,
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
		cmocka_unit_test_setup_teardown(test_migration_v1_to_v2, setup,
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
