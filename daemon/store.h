/*
 * The SQLite store: one database file (WAL, busy_timeout, foreign keys),
 * schema versioned with PRAGMA user_version and migrated at open, prepared
 * statements only. Holds cases, loss reports, the message log (inbound texts
 * and the replies they got; later the outbox) and opt-outs. Safe to open
 * from smsgwd and smsgwctl at the same time.
 */
#ifndef DAEMON_STORE_H
#define DAEMON_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 2

enum case_status {
	CASE_ACCEPTED, CASE_REVIEWING, CASE_PRODUCING, CASE_MAILED,
	CASE_READY, CASE_COLLECTED, CASE_REJECTED, CASE_APPOINTMENT,
	CASE_STATUS_COUNT
};

/* "accepted", "reviewing", … (the names in CSV files and the database). */
const char *case_status_name(enum case_status s);
int case_status_from_name(const char *name);       /* -1 if unknown */

struct case_rec {
	int64_t id;
	char    receipt_no[33];
	char    id_number[19];
	char    name[65];
	char    msisdn[24];        /* national form: country code stripped */
	int     status;            /* enum case_status */
	char    submitted_at[11];  /* YYYY-MM-DD */
	int64_t updated_at;        /* unix seconds */
	char    courier[65];
	char    tracking_no[65];
	char    pickup_place[129];
	char    appointment[129];
	char    reason[257];
};

enum loss_state { LOSS_PENDING, LOSS_EFFECTIVE, LOSS_RELEASED };

struct loss_rec {
	int64_t id;
	char    ref[17];           /* reference given to the citizen */
	char    id_number[19];
	char    msisdn[24];        /* who reported it */
	int     state;             /* enum loss_state */
	int64_t created_at, updated_at;
};

struct store;

/* Opens (creating if needed) and migrates. NULL with err on failure. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *st);
int store_schema_version(struct store *st);

/* One transaction groups a batch of work (one commit, one fsync). */
int store_begin(struct store *st, char *err, size_t errlen);
int store_commit(struct store *st, char *err, size_t errlen);
void store_rollback(struct store *st);

/* 1 found, 0 not found, -1 error. */
int store_case_by_receipt(struct store *st, const char *receipt,
    struct case_rec *out);
/* The latest case (by submitted_at, then id) for an ID number. */
int store_case_latest_by_id(struct store *st, const char *id_number,
    struct case_rec *out);
/* Insert or update by receipt_no; updated_at set to now if 0. */
int store_case_upsert(struct store *st, const struct case_rec *c, char *err,
    size_t errlen);

/* The open (pending or effective) loss report for an ID number. */
int store_loss_open(struct store *st, const char *id_number,
    struct loss_rec *out);
/* Records a new report with a fresh reference; fills *out. 0 / -1. */
int store_loss_add(struct store *st, const char *id_number,
    const char *msisdn, enum loss_state state, struct loss_rec *out,
    char *err, size_t errlen);
int store_loss_set_state(struct store *st, int64_t id, enum loss_state s,
    char *err, size_t errlen);

/* Opt-outs from notifications, by national msisdn. get: 1/0/-1. */
int store_optout_set(struct store *st, const char *msisdn, int opted_out,
    char *err, size_t errlen);
int store_optout_get(struct store *st, const char *msisdn);

/* The message log. Returns the new row id, or -1 with err. */
struct msg_rec {
	int         outbound;      /* 0 inbound text, 1 reply/notification */
	const char *msisdn;        /* the citizen's number as on the wire */
	int         ton, npi;
	const char *text;          /* UTF-8 */
	const char *intent;        /* inbound: intent name; may be NULL */
	int64_t     reply_to;      /* outbound: the inbound row, or 0 */
};
int64_t store_msg_add(struct store *st, const struct msg_rec *m, char *err,
    size_t errlen);

/* The SQLite handle, for tools and tests that need a raw query. */
struct sqlite3 *store_db(struct store *st);

#endif
