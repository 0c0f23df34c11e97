/*
 * The SQLite store. Every statement is prepared once at open from the
 * constant table below; the schema is a list of migrations applied in one
 * transaction, each ending by setting PRAGMA user_version.
 */
#include "daemon/store.h"
#include "proto/errf.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_BUSY_MS   5000
#define STORE_WAL_LIMIT "67108864"

static const char *const status_names[CASE_STATUS_COUNT] = {
	"accepted", "reviewing", "producing", "mailed",
	"ready", "collected", "rejected", "appointment",
};

static const char *const loss_names[] = { "pending", "effective", "released" };
#define LOSS_NSTATES (int)(sizeof(loss_names) / sizeof(loss_names[0]))

/*
 * migrations[i] takes a database from user_version i to i + 1. Never edit
 * a released step: databases in the field are at its end state. Add one.
 */
static const char *const migrations[] = {
	/* 0 -> 1: cases, loss reports, the message log, opt-outs. */
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
	/* At most one open report per ID number; also the lookup for it. */
	"CREATE UNIQUE INDEX loss_reports_open ON loss_reports (id_number)\n"
	"  WHERE state <> 'released';\n"
	/* The reference comes from the row id, so it is set in the same
	 * statement that inserts the row, whoever inserts it. */
	"CREATE TRIGGER loss_reports_ref AFTER INSERT ON loss_reports\n"
	"  WHEN NEW.ref IS NULL BEGIN\n"
	"  UPDATE loss_reports SET ref = printf('GS%010d', NEW.id)\n"
	"    WHERE id = NEW.id;\n"
	"END;\n"
	/* Append-only; deliberately no index on msisdn (insert cost). */
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
	"PRAGMA user_version = 1;\n",

	/*
	 * 1 -> 2: the outbox columns. NULL state and class mean "not an
	 * outbox row" (inbound texts, replies logged before the outbox), so
	 * nothing already logged is ever sent again. The partial index holds
	 * only messages still in flight: the outbox finds them at start-up
	 * without scanning the log, and log inserts do not pay for it.
	 */
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
	"PRAGMA user_version = 2;\n",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
    STORE_SCHEMA_VERSION, "one migration per schema version");

#define CASE_COLS "id, receipt_no, id_number, name, msisdn, status, " \
	"submitted_at, updated_at, courier, tracking_no, pickup_place, " \
	"appointment, reason"
#define LOSS_COLS "id, ref, id_number, msisdn, state, created_at, updated_at"

enum stmt {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_CASE_BY_RECEIPT, S_CASE_LATEST_BY_ID, S_CASE_UPSERT,
	S_LOSS_OPEN, S_LOSS_BY_ID, S_LOSS_ADD, S_LOSS_SET_STATE,
	S_OPTOUT_SET, S_OPTOUT_CLEAR, S_OPTOUT_GET,
	S_MSG_ADD,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",  /* take the write lock up front: a
	                                 * deferred upgrade can fail with BUSY
	                                 * without waiting busy_timeout */
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_CASE_BY_RECEIPT] =
	    "SELECT " CASE_COLS " FROM cases WHERE receipt_no = ?1",
	[S_CASE_LATEST_BY_ID] =
	    "SELECT " CASE_COLS " FROM cases WHERE id_number = ?1"
	    " ORDER BY submitted_at DESC, id DESC LIMIT 1",
	[S_CASE_UPSERT] =
	    "INSERT INTO cases (receipt_no, id_number, name, msisdn, status,"
	    " submitted_at, updated_at, courier, tracking_no, pickup_place,"
	    " appointment, reason)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
	    " ON CONFLICT (receipt_no) DO UPDATE SET"
	    " id_number = excluded.id_number, name = excluded.name,"
	    " msisdn = excluded.msisdn, status = excluded.status,"
	    " submitted_at = excluded.submitted_at,"
	    " updated_at = excluded.updated_at, courier = excluded.courier,"
	    " tracking_no = excluded.tracking_no,"
	    " pickup_place = excluded.pickup_place,"
	    " appointment = excluded.appointment, reason = excluded.reason",
	/* The same term as the partial index, so the index is usable. */
	[S_LOSS_OPEN] =
	    "SELECT " LOSS_COLS " FROM loss_reports"
	    " WHERE id_number = ?1 AND state <> 'released'",
	[S_LOSS_BY_ID] =
	    "SELECT " LOSS_COLS " FROM loss_reports WHERE id = ?1",
	[S_LOSS_ADD] =
	    "INSERT INTO loss_reports (id_number, msisdn, state, created_at,"
	    " updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
	[S_LOSS_SET_STATE] =
	    "UPDATE loss_reports SET state = ?2, updated_at = ?3 WHERE id = ?1",
	[S_OPTOUT_SET] =
	    "INSERT INTO optouts (msisdn, at) VALUES (?1, ?2)"
	    " ON CONFLICT (msisdn) DO UPDATE SET at = excluded.at",
	[S_OPTOUT_CLEAR] = "DELETE FROM optouts WHERE msisdn = ?1",
	[S_OPTOUT_GET] = "SELECT 1 FROM optouts WHERE msisdn = ?1",
	[S_MSG_ADD] =
	    "INSERT INTO messages (direction, at, msisdn, ton, npi, text,"
	    " intent, reply_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
};

struct store {
	sqlite3      *db;
	sqlite3_stmt *stmt[S_COUNT];
	int           version;
};

static int
dberr(struct store *st, const char *what, char *err, size_t errlen)
{
	errf(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

const char *
case_status_name(enum case_status s)
{
	if ((int)s < 0 || s >= CASE_STATUS_COUNT)
		return NULL;
	return status_names[s];
}

int
case_status_from_name(const char *name)
{
	for (int i = 0; i < CASE_STATUS_COUNT; i++)
		if (strcmp(name, status_names[i]) == 0)
			return i;
	return -1;
}

static int
loss_from_name(const char *name)
{
	for (int i = 0; i < LOSS_NSTATES; i++)
		if (strcmp(name, loss_names[i]) == 0)
			return i;
	return -1;
}

/*
 * Copies a text column into dst[cap], cutting an over-long value (only
 * possible if someone wrote the database by hand) at a UTF-8 boundary.
 */
static void
col_copy(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
	const char *src = (const char *)sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	if (src == NULL)
		n = 0;
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Runs a one-row pragma and returns its first column as an integer or
 * copies it as text; -1 on error. */
static int
pragma(sqlite3 *db, const char *sql, char *text, size_t cap,
    long long *num)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (text != NULL)
			col_copy(s, 0, text, cap);
		if (num != NULL)
			*num = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
version_ok(long long v, char *err, size_t errlen)
{
	if (v >= 0 && v <= STORE_SCHEMA_VERSION)
		return 1;
	errf(err, errlen, "database schema version %lld is newer than this "
	    "program's %d: upgrade smsgwd", v, STORE_SCHEMA_VERSION);
	return 0;
}

/*
 * Brings the schema to STORE_SCHEMA_VERSION. The version is read again
 * under the write lock, so two processes opening an old file at once
 * migrate it once.
 */
static int
migrate(struct store *st, long long v, char *err, size_t errlen)
{
	char what[64];

	if (v == STORE_SCHEMA_VERSION)
		goto done;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return dberr(st, "migration", err, errlen);
	if (pragma(st->db, "PRAGMA user_version", NULL, 0, &v) == -1) {
		dberr(st, "reading user_version", err, errlen);
		goto fail;
	}
	if (!version_ok(v, err, errlen))
		goto fail;
	for (; v < STORE_SCHEMA_VERSION; v++)
		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) !=
		    SQLITE_OK) {
			snprintf(what, sizeof(what), "migration %lld -> %lld",
			    v, v + 1);
			dberr(st, what, err, errlen);
			goto fail;
		}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		dberr(st, "migration commit", err, errlen);
		goto fail;
	}
done:
	st->version = (int)v;
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Connection settings; each is checked, since a PRAGMA fails silently. */
static int
configure(struct store *st, int in_memory, char *err, size_t errlen)
{
	char mode[16];
	long long on = 0;

	if (pragma(st->db, "PRAGMA journal_mode = WAL", mode, sizeof(mode),
	    NULL) == -1)
		return dberr(st, "journal_mode", err, errlen);
	/* An in-memory database (tests) cannot be WAL. */
	if (strcmp(mode, "wal") != 0 &&
	    !(in_memory && strcmp(mode, "memory") == 0)) {
		errf(err, errlen, "cannot use WAL (journal_mode is %s)",
		    mode);
		return -1;
	}
	/* journal_size_limit: a big import leaves no big WAL behind. */
	if (pragma(st->db, "PRAGMA synchronous = FULL", NULL, 0, NULL) == -1 ||
	    pragma(st->db, "PRAGMA journal_size_limit = " STORE_WAL_LIMIT, NULL,
	    0, NULL) == -1 ||
	    pragma(st->db, "PRAGMA foreign_keys = ON", NULL, 0, NULL) == -1 ||
	    pragma(st->db, "PRAGMA foreign_keys", NULL, 0, &on) == -1)
		return dberr(st, "pragma", err, errlen);
	if (on != 1) {
		errf(err, errlen, "SQLite without foreign keys");
		return -1;
	}
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *st;
	char why[256] = "out of memory", what[32];
	long long v;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto fail;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		if (st->db != NULL)
			dberr(st, "open", why, sizeof(why));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	/* A newer schema is refused before anything in the file changes. */
	if (pragma(st->db, "PRAGMA user_version", NULL, 0, &v) == -1) {
		dberr(st, "reading user_version", why, sizeof(why));
		goto fail;
	}
	if (!version_ok(v, why, sizeof(why)) ||
	    configure(st, strcmp(path, ":memory:") == 0, why,
	    sizeof(why)) == -1 || migrate(st, v, why, sizeof(why)) == -1)
		goto fail;
	for (int i = 0; i < S_COUNT; i++)
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
		    SQLITE_OK) {
			snprintf(what, sizeof(what), "preparing statement %d",
			    i);
			dberr(st, what, why, sizeof(why));
			goto fail;
		}
	return st;
fail:
	errf(err, errlen, "%s: %s", path, why);
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

int
store_schema_version(struct store *st)
{
	return st->version;
}

struct sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

/*
 * Steps a statement that returns no rows, then resets it. On failure the
 * error names what was being done.
 */
static int
exec_stmt(struct store *st, sqlite3_stmt *s, const char *what, char *err,
    size_t errlen)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		dberr(st, what, err, errlen);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int
store_begin(struct store *st, char *err, size_t errlen)
{
	return exec_stmt(st, st->stmt[S_BEGIN], "begin", err, errlen);
}

int
store_commit(struct store *st, char *err, size_t errlen)
{
	return exec_stmt(st, st->stmt[S_COMMIT], "commit", err, errlen);
}

void
store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		exec_stmt(st, st->stmt[S_ROLLBACK], "rollback", NULL, 0);
}

/* ---- cases ---------------------------------------------------------- */

static int
case_fetch(sqlite3_stmt *s, struct case_rec *c)
{
	int rc = sqlite3_step(s), status = 0;

	if (rc == SQLITE_ROW) {
		memset(c, 0, sizeof(*c));
		c->id = sqlite3_column_int64(s, 0);
		col_copy(s, 1, c->receipt_no, sizeof(c->receipt_no));
		col_copy(s, 2, c->id_number, sizeof(c->id_number));
		col_copy(s, 3, c->name, sizeof(c->name));
		col_copy(s, 4, c->msisdn, sizeof(c->msisdn));
		status = case_status_from_name(
		    (const char *)sqlite3_column_text(s, 5));
		c->status = status;
		col_copy(s, 6, c->submitted_at, sizeof(c->submitted_at));
		c->updated_at = sqlite3_column_int64(s, 7);
		col_copy(s, 8, c->courier, sizeof(c->courier));
		col_copy(s, 9, c->tracking_no, sizeof(c->tracking_no));
		col_copy(s, 10, c->pickup_place, sizeof(c->pickup_place));
		col_copy(s, 11, c->appointment, sizeof(c->appointment));
		col_copy(s, 12, c->reason, sizeof(c->reason));
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return status == -1 ? -1 : 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_case_by_receipt(struct store *st, const char *receipt,
    struct case_rec *out)
{
	sqlite3_stmt *s = st->stmt[S_CASE_BY_RECEIPT];

	sqlite3_bind_text(s, 1, receipt, -1, SQLITE_STATIC);
	return case_fetch(s, out);
}

int
store_case_latest_by_id(struct store *st, const char *id_number,
    struct case_rec *out)
{
	sqlite3_stmt *s = st->stmt[S_CASE_LATEST_BY_ID];

	sqlite3_bind_text(s, 1, id_number, -1, SQLITE_STATIC);
	return case_fetch(s, out);
}

int
store_case_upsert(struct store *st, const struct case_rec *c, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_CASE_UPSERT];
	const char *status = case_status_name(c->status);
	const char *text[] = { c->receipt_no, c->id_number, c->name,
	    c->msisdn, status, c->submitted_at };
	const char *opt[] = { c->courier, c->tracking_no, c->pickup_place,
	    c->appointment, c->reason };
	int col = 1;

	if (status == NULL) {
		errf(err, errlen, "case %s: status %d out of range",
		    c->receipt_no, c->status);
		return -1;
	}
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		sqlite3_bind_text(s, col++, text[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, col++, c->updated_at != 0 ? c->updated_at :
	    (int64_t)time(NULL));
	for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		sqlite3_bind_text(s, col++, opt[i], -1, SQLITE_STATIC);
	return exec_stmt(st, s, "case upsert", err, errlen);
}

/* ---- loss reports --------------------------------------------------- */

static int
loss_fetch(sqlite3_stmt *s, struct loss_rec *l)
{
	int rc = sqlite3_step(s), state = 0;

	if (rc == SQLITE_ROW) {
		memset(l, 0, sizeof(*l));
		l->id = sqlite3_column_int64(s, 0);
		col_copy(s, 1, l->ref, sizeof(l->ref));
		col_copy(s, 2, l->id_number, sizeof(l->id_number));
		col_copy(s, 3, l->msisdn, sizeof(l->msisdn));
		state = loss_from_name((const char *)sqlite3_column_text(s, 4));
		l->state = state;
		l->created_at = sqlite3_column_int64(s, 5);
		l->updated_at = sqlite3_column_int64(s, 6);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return state == -1 ? -1 : 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_loss_open(struct store *st, const char *id_number,
    struct loss_rec *out)
{
	sqlite3_stmt *s = st->stmt[S_LOSS_OPEN];

	sqlite3_bind_text(s, 1, id_number, -1, SQLITE_STATIC);
	return loss_fetch(s, out);
}

int
store_loss_add(struct store *st, const char *id_number, const char *msisdn,
    enum loss_state state, struct loss_rec *out, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_LOSS_ADD];
	int64_t id;

	if ((int)state < 0 || (int)state >= LOSS_NSTATES) {
		errf(err, errlen, "loss report: state %d out of range",
		    (int)state);
		return -1;
	}
	sqlite3_bind_text(s, 1, id_number, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, msisdn, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, loss_names[state], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)time(NULL));
	if (exec_stmt(st, s, "loss report", err, errlen) == -1)
		return -1;
	id = sqlite3_last_insert_rowid(st->db);
	s = st->stmt[S_LOSS_BY_ID];
	sqlite3_bind_int64(s, 1, id);
	if (loss_fetch(s, out) != 1)
		return dberr(st, "reading the new loss report", err, errlen);
	return 0;
}

int
store_loss_set_state(struct store *st, int64_t id, enum loss_state state,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_LOSS_SET_STATE];
	char what[48];

	snprintf(what, sizeof(what), "loss report %lld", (long long)id);
	if ((int)state < 0 || (int)state >= LOSS_NSTATES) {
		errf(err, errlen, "%s: state %d out of range", what,
		    (int)state);
		return -1;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, loss_names[state], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
	if (exec_stmt(st, s, what, err, errlen) == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		errf(err, errlen, "%s: no such report", what);
		return -1;
	}
	return 0;
}

/* ---- opt-outs ------------------------------------------------------- */

int
store_optout_set(struct store *st, const char *msisdn, int opted_out,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = st->stmt[opted_out ? S_OPTOUT_SET : S_OPTOUT_CLEAR];

	sqlite3_bind_text(s, 1, msisdn, -1, SQLITE_STATIC);
	if (opted_out)
		sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
	return exec_stmt(st, s, "opt-out", err, errlen);
}

int
store_optout_get(struct store *st, const char *msisdn)
{
	sqlite3_stmt *s = st->stmt[S_OPTOUT_GET];
	int rc;

	sqlite3_bind_text(s, 1, msisdn, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- the message log ------------------------------------------------ */

int64_t
store_msg_add(struct store *st, const struct msg_rec *m, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_MSG_ADD];

	sqlite3_bind_text(s, 1, m->outbound ? "out" : "in", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
	sqlite3_bind_text(s, 3, m->msisdn, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, m->ton);
	sqlite3_bind_int(s, 5, m->npi);
	sqlite3_bind_text(s, 6, m->text, -1, SQLITE_STATIC);
	if (m->intent != NULL)
		sqlite3_bind_text(s, 7, m->intent, -1, SQLITE_STATIC);
	if (m->reply_to != 0)
		sqlite3_bind_int64(s, 8, m->reply_to);
	if (exec_stmt(st, s, "message log", err, errlen) == -1)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}
