/*
 * The SQLite store. Every statement is prepared once at open from the
 * constant table below; the schema is a list of migrations applied in one
 * transaction, each ending by setting PRAGMA user_version.
 */
#include "daemon/store.h"
#include "proto/errf.h"

#include <ctype.h>
#include <mimalloc.h>
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

	/*
	 * 2 -> 3: the outbox's delivery tracking. ref is the concatenation
	 * reference a message's segments carry, kept so a resend after a
	 * crash continues the same set. One outbox_parts row per segment the
	 * SMSC accepted: receipts find it by the SMSC's message id (stored
	 * lower-case, so hex ids match whatever case the receipt uses).
	 */
	"ALTER TABLE messages ADD COLUMN ref INTEGER CHECK (ref IS NULL OR\n"
	"  ref BETWEEN 0 AND 65535);\n"
	"CREATE TABLE outbox_parts (\n"
	"  msg_id  INTEGER NOT NULL REFERENCES messages (id),\n"
	"  part    INTEGER NOT NULL CHECK (part >= 1),\n"
	"  smsc_id TEXT,\n"
	"  state   TEXT NOT NULL CHECK (state IN ('submitted', 'delivered',\n"
	"            'failed', 'expired')),\n"
	"  status  TEXT,\n"
	"  at      INTEGER NOT NULL,\n"
	"  PRIMARY KEY (msg_id, part)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX outbox_parts_smsc_id ON outbox_parts (smsc_id);\n"
	"PRAGMA user_version = 3;\n",

	/*
	 * 3 -> 4: the same CHECK rules, written as OR chains. SQLite checks
	 * "x IN (a, b, c, ...)" of three or more values by building an
	 * ephemeral table, a zeroed 4 KiB page, on every INSERT and UPDATE:
	 * about a fifth of the daemon's CPU per text. The rules accept the
	 * same values, so the stored rows stay valid and the table text is
	 * rewritten in place (SQLite's ALTER TABLE documentation, "making
	 * other kinds of table schema changes"); rewrite_checks() then bumps
	 * schema_version and checks that every old text is gone.
	 */
	"PRAGMA writable_schema = ON;\n"
	"UPDATE sqlite_schema SET sql = replace(sql,\n"
	"  'status IN (''accepted'',\n"
	"                 ''reviewing'', ''producing'', ''mailed'', ''ready'',\n"
	"                 ''collected'', ''rejected'', ''appointment'')',\n"
	"  '(status = ''accepted'' OR status = ''reviewing'' OR\n"
	"    status = ''producing'' OR status = ''mailed'' OR status = ''ready''\n"
	"    OR status = ''collected'' OR status = ''rejected'' OR\n"
	"    status = ''appointment'')')\n"
	"  WHERE type = 'table' AND name = 'cases';\n"
	"UPDATE sqlite_schema SET sql = replace(sql,\n"
	"  'state IN (''pending'', ''effective'',\n"
	"                ''released'')',\n"
	"  '(state = ''pending'' OR state = ''effective'' OR\n"
	"    state = ''released'')')\n"
	"  WHERE type = 'table' AND name = 'loss_reports';\n"
	"UPDATE sqlite_schema SET sql = replace(sql,\n"
	"  'state IN (''queued'', ''submitted'', ''delivered'', ''failed'',\n"
	"  ''expired'')',\n"
	"  '(state = ''queued'' OR state = ''submitted'' OR\n"
	"    state = ''delivered'' OR state = ''failed'' OR state = ''expired'')')\n"
	"  WHERE type = 'table' AND name = 'messages';\n"
	"UPDATE sqlite_schema SET sql = replace(sql,\n"
	"  'state IN (''submitted'', ''delivered'',\n"
	"            ''failed'', ''expired'')',\n"
	"  '(state = ''submitted'' OR state = ''delivered'' OR\n"
	"    state = ''failed'' OR state = ''expired'')')\n"
	"  WHERE type = 'table' AND name = 'outbox_parts';\n"
	"PRAGMA user_version = 4;\n",

	/*
	 * 4 -> 5: a cheaper outbox, the same promise (about 3 us less CPU
	 * per text; docs/BENCHMARKS.md).
	 *
	 * outbox_mark: the daemon writes a reply 'submitted' in the
	 * transaction that saves the text it answers (the reply goes to the
	 * SMSC as soon as that commits) and records only its parts as the
	 * SMSC accepts them: no message row is updated on the hot path. Every
	 * 'submitted' row below low had each part accepted or its failure
	 * recorded; at start-up the rows from low on are checked against
	 * their parts and what is missing is sent. The rows already written
	 * are complete, so the mark starts past them.
	 *
	 * messages_queued replaces messages_outbox: only queued rows (what
	 * still waits to be sent) are indexed. Submitted rows no longer
	 * enter and leave an index, and those whose receipt never comes no
	 * longer grow it.
	 *
	 * outbox_parts becomes a rowid table keyed msg_id * 256 + part
	 * (SEG_MAX_PARTS is 255): a part's row is an append at the table's
	 * end, where the (msg_id, part) key of a WITHOUT ROWID table split and
	 * rewrote pages; a message's parts are a range of ids.
	 */
	"CREATE TABLE outbox_mark (\n"
	"  id  INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"  low INTEGER NOT NULL CHECK (low >= 1)\n"
	");\n"
	"INSERT INTO outbox_mark (id, low)\n"
	"  SELECT 1, coalesce(max(id), 0) + 1 FROM messages;\n"
	"CREATE TABLE outbox_parts_v5 (\n"
	"  id      INTEGER PRIMARY KEY,\n"
	"  msg_id  INTEGER NOT NULL REFERENCES messages (id),\n"
	"  part    INTEGER NOT NULL CHECK (part BETWEEN 1 AND 255),\n"
	"  smsc_id TEXT,\n"
	"  state   TEXT NOT NULL CHECK (state = 'submitted' OR\n"
	"            state = 'delivered' OR state = 'failed' OR\n"
	"            state = 'expired'),\n"
	"  status  TEXT,\n"
	"  at      INTEGER NOT NULL,\n"
	"  CHECK (id = msg_id * 256 + part)\n"
	");\n"
	"INSERT INTO outbox_parts_v5 (id, msg_id, part, smsc_id, state, status,\n"
	"  at) SELECT msg_id * 256 + part, msg_id, part, smsc_id, state, status,\n"
	"  at FROM outbox_parts;\n"
	"DROP TABLE outbox_parts;\n"
	"ALTER TABLE outbox_parts_v5 RENAME TO outbox_parts;\n"
	"CREATE INDEX outbox_parts_smsc_id ON outbox_parts (smsc_id);\n"
	"DROP INDEX messages_outbox;\n"
	"CREATE INDEX messages_queued ON messages (id) WHERE state = 'queued';\n"
	"PRAGMA user_version = 5;\n",

	/*
	 * 5 -> 6: several carrier links. Each part records the link that
	 * accepted it, so a receipt is matched by (link, SMSC id) (two
	 * carriers may hand out the same id) and a restart resumes a
	 * message on the link that has its first parts. NULL: accepted
	 * before links had names; such a part matches a receipt from any
	 * link. links: each link's state as the daemon last wrote it, for
	 * smsgwctl links (node: the gateway node, '' for a single one).
	 */
	"ALTER TABLE outbox_parts ADD COLUMN link TEXT;\n"

	"CREATE TABLE links (\n"
	"  node        TEXT NOT NULL DEFAULT '',\n"
	"  name        TEXT NOT NULL,\n"
	"  state       TEXT NOT NULL,\n"
	"  bind        TEXT NOT NULL,\n"
	"  host        TEXT NOT NULL,\n"
	"  window_size INTEGER NOT NULL,\n"
	"  in_flight   INTEGER NOT NULL,\n"
	"  max_tps     INTEGER NOT NULL,\n"
	"  rate        INTEGER NOT NULL,\n"
	"  queued      INTEGER NOT NULL,\n"
	"  last_error  TEXT,\n"
	"  bound_at    INTEGER,\n"
	"  updated_at  INTEGER NOT NULL,\n"
	"  PRIMARY KEY (node, name)\n"
	") WITHOUT ROWID;\n"
	"PRAGMA user_version = 6;\n",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
    STORE_SCHEMA_VERSION, "one migration per schema version");

#define CASE_COLS "id, receipt_no, id_number, name, msisdn, status, " \
	"submitted_at, updated_at, courier, tracking_no, pickup_place, " \
	"appointment, reason"
#define LOSS_COLS "id, ref, id_number, msisdn, state, created_at, updated_at"
#define OB_COLS   "id, class, msisdn, ton, npi, text, state, attempts, ref, at"

enum stmt {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_CASE_BY_RECEIPT, S_CASE_LATEST_BY_ID, S_CASE_UPSERT,
	S_LOSS_OPEN, S_LOSS_BY_ID, S_LOSS_ADD, S_LOSS_SET_STATE,
	S_OPTOUT_SET, S_OPTOUT_CLEAR, S_OPTOUT_GET,
	S_MSG_ADD,
	S_OB_SCAN, S_OB_SCAN_QUEUED, S_OB_PART_STATES, S_OB_SET_REF, S_OB_PART,
	S_OB_PART_NEW, S_OB_STATE,
	S_OB_REQUEUE, S_OB_PARTS_DEL, S_OB_BY_SMSC_ID, S_OB_PART_COUNT,
	S_OB_COUNTS, S_OB_SCAN_OPEN, S_OB_MARK_GET, S_OB_MARK_SET, S_OB_GET,
	S_OB_PART_STATUS, S_OB_BY_LINK_ID, S_OB_PART_LINK, S_LINK_PUT,
	S_LINK_CLEAR, S_LINK_LIST,
	S_DATA_VERSION, S_PING,
	S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
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
	    " intent, reply_to, state, class)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	/* The log in id order from after_id: for a few rows (one message by
	 * id); only queued rows have an index. */
	[S_OB_SCAN] =
	    "SELECT " OB_COLS " FROM messages"
	    " WHERE id > ?1 AND (state = 'queued' OR state = 'submitted')"
	    " ORDER BY id LIMIT ?2",
	/* Only what still has a part to send: the rows that wait for
	 * receipts (which may never come) are not read at all. */
	[S_OB_SCAN_QUEUED] =
	    "SELECT " OB_COLS " FROM messages"
	    " WHERE state = 'queued' AND id > ?1 ORDER BY id LIMIT ?2",
	[S_OB_PART_STATES] =
	    "SELECT part, state FROM outbox_parts"
	    " WHERE id BETWEEN ?1 * 256 AND ?1 * 256 + 255",
	/* class IS NOT NULL: a log row from before the outbox stays one. */
	[S_OB_SET_REF] =
	    "UPDATE messages SET ref = ?2 WHERE id = ?1 AND class IS NOT NULL",
	[S_OB_PART] =
	    "INSERT INTO outbox_parts (id, msg_id, part, smsc_id, state,"
	    " status, at, link) VALUES (?1 * 256 + ?2, ?1, ?2, lower(?3), ?4,"
	    " ?5, ?6, ?7)"
	    " ON CONFLICT (id) DO UPDATE SET state = excluded.state,"
	    " smsc_id = coalesce(excluded.smsc_id, smsc_id),"
	    " link = coalesce(excluded.link, link),"
	    " status = coalesce(excluded.status, status), at = excluded.at",
	/* A part the SMSC has just accepted, the usual case: a plain insert,
	 * its id already lower-case. */
	[S_OB_PART_NEW] =
	    "INSERT INTO outbox_parts (id, msg_id, part, smsc_id, state, at,"
	    " link) VALUES (?1 * 256 + ?2, ?1, ?2, ?3, 'submitted', ?4, ?5)",
	[S_OB_STATE] =
	    "UPDATE messages SET state = ?2, attempts = coalesce(?3, attempts),"
	    " last_status = coalesce(?4, last_status)"
	    " WHERE id = ?1 AND class IS NOT NULL",
	/* The same, on one link: a part from before links had names
	 * (NULL) matches any. */
	[S_OB_BY_LINK_ID] =
	    "SELECT id >> 8, id & 255 FROM outbox_parts"
	    " WHERE smsc_id = lower(?1) AND (link = ?2 OR link IS NULL)"
	    " ORDER BY id DESC LIMIT 1",
	[S_OB_PART_LINK] =
	    "SELECT link FROM outbox_parts"
	    " WHERE id BETWEEN ?1 * 256 AND ?1 * 256 + 255"
	    " AND link IS NOT NULL LIMIT 1",
	[S_LINK_PUT] =
	    "INSERT OR REPLACE INTO links (node, name, state, bind, host,"
	    " window_size, in_flight, max_tps, rate, queued, last_error,"
	    " bound_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	    " ?9, ?10, ?11, ?12, ?13)",
	[S_LINK_CLEAR] = "DELETE FROM links WHERE node = ?1",
	[S_LINK_LIST] =
	    "SELECT node, name, state, bind, host, window_size, in_flight,"
	    " max_tps, rate, queued, coalesce(last_error, ''),"
	    " coalesce(bound_at, 0), updated_at FROM links ORDER BY node, name",
	[S_OB_PART_STATUS] =
	    "SELECT status FROM outbox_parts WHERE id = ?1 * 256 + ?2",
	[S_OB_REQUEUE] =
	    "UPDATE messages SET state = 'queued'"
	    " WHERE id = ?1 AND class IS NOT NULL",
	[S_OB_PARTS_DEL] = "DELETE FROM outbox_parts"
	    " WHERE id BETWEEN ?1 * 256 AND ?1 * 256 + 255",
	/* The index holds (smsc_id, id), id = msg_id * 256 + part: it alone
	 * answers, and the newest message wins without a sort should an SMSC
	 * ever reuse an id. */
	[S_OB_BY_SMSC_ID] =
	    "SELECT id >> 8, id & 255 FROM outbox_parts"
	    " WHERE smsc_id = lower(?1) ORDER BY id DESC LIMIT 1",
	[S_OB_PART_COUNT] =
	    "SELECT count(*) FROM outbox_parts"
	    " WHERE id BETWEEN ?1 * 256 AND ?1 * 256 + 255"
	    " AND (?2 IS NULL OR state = ?2)",
	/* The one statement that reads the whole log (for stats only). */
	[S_OB_COUNTS] =
	    "SELECT state, count(*) FROM messages WHERE state IS NOT NULL"
	    " GROUP BY state",
	/* 'submitted' rows from the mark on, whose parts may not all have
	 * gone (start-up): the log past the mark, which is short. */
	[S_OB_SCAN_OPEN] =
	    "SELECT " OB_COLS " FROM messages"
	    " WHERE id > ?1 AND state = 'submitted' ORDER BY id LIMIT ?2",
	[S_OB_MARK_GET] = "SELECT low FROM outbox_mark WHERE id = 1",
	/* One message by its rowid, whatever its state (a receipt may come
	 * for a row already finished). */
	[S_OB_GET] =
	    "SELECT state, attempts FROM messages"
	    " WHERE id = ?1 AND class IS NOT NULL",
	/* The mark only moves up. */
	[S_OB_MARK_SET] =
	    "UPDATE outbox_mark SET low = ?1 WHERE id = 1 AND low < ?1",
	[S_DATA_VERSION] = "PRAGMA data_version",
	/* Opens a read transaction and reads the file's header, where a bare
	 * SELECT 1 would not touch the file at all. */
	[S_PING] = "PRAGMA schema_version",
	/* Makes a multi-statement call atomic, in a transaction or not. */
	[S_SAVEPOINT] = "SAVEPOINT store_op",
	[S_RELEASE] = "RELEASE store_op",
	[S_ROLLBACK_TO] = "ROLLBACK TO store_op",
};

struct store {
	sqlite3      *db;
	sqlite3_stmt *stmt[S_COUNT];
	int           version;
	char         *text;         /* store_outbox_scan's row text */
	size_t        textcap;
};

static int
dberr(struct store *st, const char *what, char *err, size_t errlen)
{
	int sys = sqlite3_system_errno(st->db);
	int code = sqlite3_errcode(st->db) & 0xff;   /* primary of extended */

	/* "disk I/O error" alone does not tell an operator that the file is
	 * read-only or the disk full: add what the OS said. */
	if (sys != 0 && (code == SQLITE_IOERR || code == SQLITE_FULL ||
	    code == SQLITE_CANTOPEN || code == SQLITE_READONLY))
		errf(err, errlen, "%s: %s (%s)", what, sqlite3_errmsg(st->db),
		    strerror(sys));
	else
		errf(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

/* Days from 1970-01-01 to the proleptic Gregorian y-m-d (m 1..12; d may
 * run past the month, or be 0). Era arithmetic after H. Hinnant's
 * "chrono-compatible low-level date algorithms". */
static long
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, long *y, long *m, long *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

/* n digits at s as a number, or -1. */
static long
digits(const char *s, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Once per reply, so by arithmetic (sscanf, timegm and strftime took
 * 1.5% of the daemon's CPU per text). Out-of-range months and days roll
 * over as timegm's would ("2024-02-30" is 1 March). */
long
case_deadline(const char *submitted, char *out, size_t cap)
{
	long y = digits(submitted, 4), m, d;

	if (cap > 0)
		out[0] = '\0';
	if (y < 0 || submitted[4] != '-' || (m = digits(submitted + 5, 2)) < 0 ||
	    submitted[7] != '-' || (d = digits(submitted + 8, 2)) < 0)
		return 0;
	/* Month 0 is December before, 13 January after. */
	y += (m + 11) / 12 - 1;
	m = (m + 11) % 12 + 1;
	civil_from_days(days_from_civil(y, m, d) + CASE_LEGAL_DAYS, &y, &m,
	    &d);
	if (cap >= 11 && y >= 0 && y <= 9999) {
		out[0] = (char)('0' + y / 1000);
		out[1] = (char)('0' + y / 100 % 10);
		out[2] = (char)('0' + y / 10 % 10);
		out[3] = (char)('0' + y % 10);
		out[4] = '-';
		out[5] = (char)('0' + m / 10);
		out[6] = (char)('0' + m % 10);
		out[7] = '-';
		out[8] = (char)('0' + d / 10);
		out[9] = (char)('0' + d % 10);
		out[10] = '\0';
	} else if (cap > 0 && (size_t)snprintf(out, cap, "%04ld-%02ld-%02ld",
	    y, m, d) >= cap) {
		out[0] = '\0';
		return 0;
	}
	return y * 10000 + m * 100 + d;
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
 * The end of migration 3 -> 4: a new schema_version makes every connection
 * (this one too) parse the rewritten tables again. Fails unless all four
 * IN lists are gone and the schema still reads back whole.
 */
static int
rewrite_checks(struct store *st, char *err, size_t errlen)
{
	long long sv, left;
	char sql[64];

	if (pragma(st->db, "PRAGMA schema_version", NULL, 0, &sv) == -1)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA schema_version = %lld", sv + 1);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA writable_schema = OFF", NULL, NULL,
	    NULL) != SQLITE_OK)
		return -1;
	if (pragma(st->db, "SELECT count(*) FROM sqlite_schema WHERE"
	    " type = 'table' AND (sql LIKE '%status IN (''accepted''%'"
	    " OR sql LIKE '%state IN (''pending''%'"
	    " OR sql LIKE '%state IN (''queued''%'"
	    " OR sql LIKE '%state IN (''submitted''%')", NULL, 0, &left) == -1)
		return -1;
	if (left != 0) {
		errf(err, errlen, "%lld table(s) kept their old CHECK text",
		    left);
		return -1;
	}
	/* And each has its new rule: an old text that differed from what
	 * schema 3 wrote (replace() found nothing) fails here. */
	if (pragma(st->db, "SELECT count(*) FROM sqlite_schema WHERE"
	    " type = 'table' AND ("
	    "(name = 'cases' AND sql LIKE '%status = ''appointment'')%') OR"
	    " (name = 'loss_reports' AND sql LIKE '%state = ''released'')%') OR"
	    " (name = 'messages' AND sql LIKE '%state = ''expired'')%') OR"
	    " (name = 'outbox_parts' AND sql LIKE '%state = ''expired'')%'))",
	    NULL, 0, &left) == -1)
		return -1;
	if (left != 4) {
		errf(err, errlen, "%lld of 4 tables have the new CHECK text "
		    "(the old one was not what schema 3 wrote)", left);
		return -1;
	}
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
	for (; v < STORE_SCHEMA_VERSION; v++) {
		char why[160] = "";

		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) ==
		    SQLITE_OK && (v != 3 || rewrite_checks(st, why,
		    sizeof(why)) == 0))
			continue;
		snprintf(what, sizeof(what), "migration %lld -> %lld", v,
		    v + 1);
		if (why[0] != '\0')
			errf(err, errlen, "%s: %s", what, why);
		else
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

/*
 * SQLite's memory. This Debian build has no lookaside allocator, so every
 * statement mallocs and frees a score of small blocks, more of one size at
 * a time than glibc's per-thread cache keeps: its slow path was 5% of the
 * CPU per text. SQLite's blocks go to mimalloc (Debian's libmimalloc)
 * instead; ours stay with libc, where the sanitizers watch them. And no
 * memory statistics: sqlite3_malloc() then skips a global mutex and its
 * accounting on each allocation. Both are possible only before SQLite's
 * first use in the process; later calls fail harmlessly and SQLite keeps
 * what it had.
 */
static void *sq_malloc(int n) { return mi_malloc((size_t)n); }
static void sq_free(void *p) { mi_free(p); }
static void *sq_realloc(void *p, int n) { return mi_realloc(p, (size_t)n); }
static int sq_size(void *p) { return (int)mi_usable_size(p); }
static int sq_roundup(int n) { return (int)mi_good_size((size_t)n); }
static int sq_init(void *arg) { (void)arg; return SQLITE_OK; }
static void sq_shutdown(void *arg) { (void)arg; }

static void
sqlite_memory(void)
{
	static const sqlite3_mem_methods mi = { sq_malloc, sq_free,
	    sq_realloc, sq_size, sq_roundup, sq_init, sq_shutdown, NULL };

	(void)sqlite3_config(SQLITE_CONFIG_MALLOC, &mi);
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *st;
	char why[256] = "out of memory", what[32];
	long long v;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto fail;
	sqlite_memory();
	/* NOMUTEX: a handle is used by one thread only, so SQLite's own
	 * locking around every call (8% of the CPU per text) buys nothing. */
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
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
	free(st->text);
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

/* "what 12" or "what 12/3": formatted for error messages only. */
static const char *
ref_name(char *buf, size_t len, const char *what, int64_t id, int part)
{
	if (part > 0)
		snprintf(buf, len, "%s %lld/%d", what, (long long)id, part);
	else
		snprintf(buf, len, "%s %lld", what, (long long)id);
	return buf;
}

/*
 * Steps s once, resets it and clears its bindings. On an error the message
 * names what (with id and part when buf is given: built only then).
 */
static int
exec_named(struct store *st, sqlite3_stmt *s, const char *what, int64_t id,
    int part, char *buf, size_t len, char *err, size_t errlen)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		dberr(st, buf != NULL ? ref_name(buf, len, what, id, part) :
		    what, err, errlen);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* Steps a statement that returns no rows, then resets it. On failure the
 * error names what was being done. */
static int
exec_stmt(struct store *st, sqlite3_stmt *s, const char *what, char *err,
    size_t errlen)
{
	return exec_named(st, s, what, 0, 0, NULL, 0, err, errlen);
}

/* exec_stmt for a statement about one row: its name is built only when
 * there is an error to report. */
static int
exec_ref(struct store *st, sqlite3_stmt *s, const char *what, int64_t id,
    int part, char *err, size_t errlen)
{
	char buf[80];

	return exec_named(st, s, what, id, part, buf, sizeof(buf), err, errlen);
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

static const char *const class_names[] = { "reply", "notify" };
#define NCLASSES (int)(sizeof(class_names) / sizeof(class_names[0]))

static const char *const ob_names[OB_NSTATES] = {
	"queued", "submitted", "delivered", "failed", "expired",
};

int64_t
store_msg_add(struct store *st, const struct msg_rec *m, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_MSG_ADD];

	if (m->outbound && (m->cls < 0 || m->cls >= NCLASSES)) {
		errf(err, errlen, "message log: class %d out of range",
		    m->cls);
		return -1;
	}
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
	/* Every outbound row is an outbox row: queued until sent, or
	 * submitted for a reply the daemon sends as this commits. */
	if (m->outbound) {
		if (m->state != OB_QUEUED && m->state != OB_SUBMITTED) {
			errf(err, errlen, "message log: state %d for a new "
			    "row", m->state);
			return -1;
		}
		sqlite3_bind_text(s, 9, ob_names[m->state], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 10, class_names[m->cls], -1,
		    SQLITE_STATIC);
	}
	if (exec_stmt(st, s, "message log", err, errlen) == -1)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

/* ---- the outbox ----------------------------------------------------- */

const char *
outbox_state_name(int s)
{
	if (s < 0 || s >= OB_NSTATES)
		return NULL;
	return ob_names[s];
}

int
outbox_state_from_name(const char *n)
{
	if (n == NULL)
		return -1;
	for (int i = 0; i < OB_NSTATES; i++)
		if (strcmp(n, ob_names[i]) == 0)
			return i;
	return -1;
}

static int
class_from_name(const char *n)
{
	if (n == NULL)
		return -1;
	for (int i = 0; i < NCLASSES; i++)
		if (strcmp(n, class_names[i]) == 0)
			return i;
	return -1;
}

/* Copies the scan's text column into the store's buffer (grown as needed)
 * so the row handed out does not point into SQLite's memory. */
static char *
scan_text(struct store *st, sqlite3_stmt *s, int col)
{
	const unsigned char *src = sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);
	char *p;

	if (n + 1 > st->textcap) {
		if ((p = realloc(st->text, n + 1)) == NULL)
			return NULL;
		st->text = p;
		st->textcap = n + 1;
	}
	if (n > 0)
		memcpy(st->text, src, n);
	st->text[n] = '\0';
	return st->text;
}

static int
outbox_scan(struct store *st, sqlite3_stmt *s, int64_t after_id, int limit,
    int (*fn)(void *arg, const struct outbox_row *r), void *arg);

int
store_outbox_scan(struct store *st, int64_t after_id, int limit,
    int (*fn)(void *arg, const struct outbox_row *r), void *arg)
{
	return outbox_scan(st, st->stmt[S_OB_SCAN], after_id, limit, fn, arg);
}

int
store_outbox_scan_queued(struct store *st, int64_t after_id, int limit,
    int (*fn)(void *arg, const struct outbox_row *r), void *arg)
{
	return outbox_scan(st, st->stmt[S_OB_SCAN_QUEUED], after_id, limit, fn,
	    arg);
}

static int
outbox_scan(struct store *st, sqlite3_stmt *s, int64_t after_id, int limit,
    int (*fn)(void *arg, const struct outbox_row *r), void *arg)
{
	struct outbox_row r;
	int rc, n = 0, bad = 0;

	sqlite3_bind_int64(s, 1, after_id);
	sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(s, 0);
		r.cls = class_from_name((const char *)sqlite3_column_text(s,
		    1));
		col_copy(s, 2, r.msisdn, sizeof(r.msisdn));
		r.ton = sqlite3_column_int(s, 3);
		r.npi = sqlite3_column_int(s, 4);
		r.text = scan_text(st, s, 5);
		r.state = outbox_state_from_name((const char *)
		    sqlite3_column_text(s, 6));
		r.attempts = sqlite3_column_int(s, 7);
		r.ref = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(s, 8);
		r.at = sqlite3_column_int64(s, 9);
		n++;
		/* A row the store cannot describe is an error, not a skip:
		 * silently leaving it would strand the message. */
		if (r.cls == -1 || r.text == NULL) {
			bad = 1;
			break;
		}
		if (fn(arg, &r) == -1)
			break;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (bad || (rc != SQLITE_ROW && rc != SQLITE_DONE))
		return -1;
	return n;
}

int
store_outbox_scan_open(struct store *st, int64_t from_id, int limit,
    int (*fn)(void *arg, const struct outbox_row *r), void *arg)
{
	return outbox_scan(st, st->stmt[S_OB_SCAN_OPEN], from_id - 1, limit,
	    fn, arg);
}

/* The integer a one-row statement gives, or -1. */
static int64_t
query_int64(struct store *st, enum stmt i)
{
	sqlite3_stmt *s = st->stmt[i];
	int64_t v = -1;

	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

int64_t
store_outbox_mark(struct store *st)
{
	return query_int64(st, S_OB_MARK_GET);
}

int
store_outbox_set_mark(struct store *st, int64_t low, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_OB_MARK_SET];

	sqlite3_bind_int64(s, 1, low);
	return exec_stmt(st, s, "outbox mark", err, errlen);
}

int
store_outbox_part_states(struct store *st, int64_t msg_id, int *states,
    int n)
{
	sqlite3_stmt *s = st->stmt[S_OB_PART_STATES];
	int rc, part;

	for (int i = 0; i < n; i++)
		states[i] = -1;
	sqlite3_bind_int64(s, 1, msg_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		part = sqlite3_column_int(s, 0);
		if (part >= 1 && part <= n)
			states[part - 1] = outbox_state_from_name(
			    (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Steps an UPDATE of one outbox row; no row changed is an error. */
static int
exec_one(struct store *st, sqlite3_stmt *s, int64_t msg_id,
    const char *what, char *err, size_t errlen)
{
	char buf[80];

	if (exec_ref(st, s, what, msg_id, 0, err, errlen) == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		errf(err, errlen, "%s: no such outbox message",
		    ref_name(buf, sizeof(buf), what, msg_id, 0));
		return -1;
	}
	return 0;
}

int
store_outbox_set_ref(struct store *st, int64_t msg_id, int ref, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_OB_SET_REF];

	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_int(s, 2, ref);
	return exec_one(st, s, msg_id, "outbox ref", err, errlen);
}

int
store_outbox_part(struct store *st, int64_t msg_id, int part, int state,
    const char *smsc_id, const char *status, char *err, size_t errlen)
{
	return store_outbox_part_on(st, msg_id, part, state, smsc_id, status,
	    NULL, err, errlen);
}

int
store_outbox_part_on(struct store *st, int64_t msg_id, int part, int state,
    const char *smsc_id, const char *status, const char *link, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_OB_PART];
	char what[80], low[72];   /* SMPP message ids are at most 64 */

	/* A part exists only once the SMSC has accepted it. */
	if (state <= OB_QUEUED || state >= OB_NSTATES || part < 1) {
		errf(err, errlen, "%s: state %d out of range", ref_name(what,
		    sizeof(what), "outbox part", msg_id, part), state);
		return -1;
	}
	if (state == OB_SUBMITTED && smsc_id != NULL && status == NULL &&
	    strlen(smsc_id) < sizeof(low)) {
		sqlite3_stmt *n = st->stmt[S_OB_PART_NEW];
		size_t i;
		int rc;

		for (i = 0; smsc_id[i] != '\0'; i++)
			low[i] = (char)tolower((unsigned char)smsc_id[i]);
		low[i] = '\0';
		sqlite3_bind_int64(n, 1, msg_id);
		sqlite3_bind_int(n, 2, part);
		sqlite3_bind_text(n, 3, low, (int)i, SQLITE_STATIC);
		sqlite3_bind_int64(n, 4, (int64_t)time(NULL));
		if (link != NULL)
			sqlite3_bind_text(n, 5, link, -1, SQLITE_STATIC);
		rc = sqlite3_step(n);
		sqlite3_reset(n);
		sqlite3_clear_bindings(n);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_CONSTRAINT_PRIMARYKEY) {
			dberr(st, ref_name(what, sizeof(what), "outbox part",
			    msg_id, part), err, errlen);
			return -1;
		}
		/* Recorded before (a resend): the upsert below. */
	}
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_int(s, 2, part);
	if (smsc_id != NULL)
		sqlite3_bind_text(s, 3, smsc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, ob_names[state], -1, SQLITE_STATIC);
	if (status != NULL)
		sqlite3_bind_text(s, 5, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (int64_t)time(NULL));
	if (link != NULL)
		sqlite3_bind_text(s, 7, link, -1, SQLITE_STATIC);
	return exec_ref(st, s, "outbox part", msg_id, part, err, errlen);
}

int
store_outbox_state(struct store *st, int64_t msg_id, int state, int attempts,
    const char *last_status, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_OB_STATE];

	if (state < 0 || state >= OB_NSTATES || attempts < -1) {
		errf(err, errlen, "outbox state %lld: state %d attempts %d "
		    "out of range", (long long)msg_id, state, attempts);
		return -1;
	}
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_text(s, 2, ob_names[state], -1, SQLITE_STATIC);
	if (attempts >= 0)                  /* -1 keeps the count */
		sqlite3_bind_int(s, 3, attempts);
	if (last_status != NULL)
		sqlite3_bind_text(s, 4, last_status, -1, SQLITE_STATIC);
	return exec_one(st, s, msg_id, "outbox state", err, errlen);
}

int
store_outbox_requeue(struct store *st, int64_t msg_id, char *err,
    size_t errlen)
{
	sqlite3_stmt *s;

	if (exec_stmt(st, st->stmt[S_SAVEPOINT], "savepoint", err,
	    errlen) == -1)
		return -1;
	s = st->stmt[S_OB_REQUEUE];
	sqlite3_bind_int64(s, 1, msg_id);
	if (exec_one(st, s, msg_id, "outbox requeue", err, errlen) == -1)
		goto fail;
	s = st->stmt[S_OB_PARTS_DEL];
	sqlite3_bind_int64(s, 1, msg_id);
	if (exec_stmt(st, s, "outbox requeue", err, errlen) == -1 ||
	    exec_stmt(st, st->stmt[S_RELEASE], "release", err, errlen) == -1)
		goto fail;
	return 0;
fail:
	exec_stmt(st, st->stmt[S_ROLLBACK_TO], "rollback to", NULL, 0);
	exec_stmt(st, st->stmt[S_RELEASE], "release", NULL, 0);
	return -1;
}

int
store_outbox_by_smsc_id(struct store *st, const char *smsc_id,
    int64_t *msg_id, int *part)
{
	return store_outbox_by_link_id(st, NULL, smsc_id, msg_id, part);
}

int
store_outbox_by_link_id(struct store *st, const char *link,
    const char *smsc_id, int64_t *msg_id, int *part)
{
	sqlite3_stmt *s = st->stmt[link != NULL ? S_OB_BY_LINK_ID :
	    S_OB_BY_SMSC_ID];
	int rc;

	sqlite3_bind_text(s, 1, smsc_id, -1, SQLITE_STATIC);
	if (link != NULL)
		sqlite3_bind_text(s, 2, link, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*msg_id = sqlite3_column_int64(s, 0);
		*part = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_outbox_part_link(struct store *st, int64_t msg_id, char *buf,
    size_t cap)
{
	sqlite3_stmt *s = st->stmt[S_OB_PART_LINK];
	int rc;

	buf[0] = '\0';
	sqlite3_bind_int64(s, 1, msg_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(s,
		    0));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_link_clear(struct store *st, const char *node, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_LINK_CLEAR];

	sqlite3_bind_text(s, 1, node, -1, SQLITE_STATIC);
	return exec_stmt(st, s, "links", err, errlen);
}

int
store_link_put(struct store *st, const struct link_row *r, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_LINK_PUT];

	sqlite3_bind_text(s, 1, r->node, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->bind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->host, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, r->window);
	sqlite3_bind_int(s, 7, r->in_flight);
	sqlite3_bind_int(s, 8, r->max_tps);
	sqlite3_bind_int64(s, 9, r->rate);
	sqlite3_bind_int64(s, 10, r->queued);
	if (r->last_error[0] != '\0')
		sqlite3_bind_text(s, 11, r->last_error, -1, SQLITE_STATIC);
	if (r->bound_at != 0)
		sqlite3_bind_int64(s, 12, r->bound_at);
	sqlite3_bind_int64(s, 13, r->updated_at);
	return exec_stmt(st, s, "links", err, errlen);
}

int
store_link_list(struct store *st, int (*fn)(void *arg,
    const struct link_row *r), void *arg)
{
	sqlite3_stmt *s = st->stmt[S_LINK_LIST];
	struct link_row r;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		col_copy(s, 0, r.node, sizeof(r.node));
		col_copy(s, 1, r.name, sizeof(r.name));
		col_copy(s, 2, r.state, sizeof(r.state));
		col_copy(s, 3, r.bind, sizeof(r.bind));
		col_copy(s, 4, r.host, sizeof(r.host));
		r.window = sqlite3_column_int(s, 5);
		r.in_flight = sqlite3_column_int(s, 6);
		r.max_tps = sqlite3_column_int(s, 7);
		r.rate = sqlite3_column_int64(s, 8);
		r.queued = sqlite3_column_int64(s, 9);
		col_copy(s, 10, r.last_error, sizeof(r.last_error));
		r.bound_at = sqlite3_column_int64(s, 11);
		r.updated_at = sqlite3_column_int64(s, 12);
		if (fn(arg, &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_outbox_part_count(struct store *st, int64_t msg_id, int state)
{
	sqlite3_stmt *s = st->stmt[S_OB_PART_COUNT];
	int rc, n = 0;

	if (state >= OB_NSTATES)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	if (state >= 0)
		sqlite3_bind_text(s, 2, ob_names[state], -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? n : -1;
}

int
store_outbox_get(struct store *st, int64_t msg_id, int *state, int *attempts)
{
	sqlite3_stmt *s = st->stmt[S_OB_GET];
	int rc;

	sqlite3_bind_int64(s, 1, msg_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*state = outbox_state_from_name((const char *)
		    sqlite3_column_text(s, 0));
		*attempts = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return *state == -1 ? -1 : 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_outbox_part_status(struct store *st, int64_t msg_id, int part,
    char *buf, size_t cap)
{
	sqlite3_stmt *s = st->stmt[S_OB_PART_STATUS];
	int rc;

	buf[0] = '\0';
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_int(s, 2, part);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		col_copy(s, 0, buf, cap);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_outbox_counts(struct store *st, int64_t counts[OB_NSTATES])
{
	sqlite3_stmt *s = st->stmt[S_OB_COUNTS];
	int rc, i;

	for (i = 0; i < OB_NSTATES; i++)
		counts[i] = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((i = outbox_state_from_name((const char *)
		    sqlite3_column_text(s, 0))) >= 0)
			counts[i] = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int64_t
store_data_version(struct store *st)
{
	return query_int64(st, S_DATA_VERSION);
}

int
store_ping(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->stmt[S_PING];
	int rc = sqlite3_step(s);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		dberr(st, "ping", err, errlen);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
