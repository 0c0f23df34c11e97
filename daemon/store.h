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

#define STORE_SCHEMA_VERSION 6

enum case_status {
	CASE_ACCEPTED, CASE_REVIEWING, CASE_PRODUCING, CASE_MAILED,
	CASE_READY, CASE_COLLECTED, CASE_REJECTED, CASE_APPOINTMENT,
	CASE_STATUS_COUNT
};

/* "accepted", "reviewing", … (the names in CSV files and the database). */
const char *case_status_name(enum case_status s);
int case_status_from_name(const char *name);       /* -1 if unknown */

/* Identity Card Law, Art. 12: the card is issued within 60 days. */
#define CASE_LEGAL_DAYS 60

/*
 * The legal deadline of a case submitted on submitted_at (YYYY-MM-DD):
 * written to out as YYYY-MM-DD and returned as YYYYMMDD; "" and 0 if the
 * date does not parse.
 */
long case_deadline(const char *submitted_at, char *out, size_t cap);

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

/*
 * The message log. Returns the new row id, or -1 with err. An outbound row
 * is also an outbox row: state from state (queued or submitted), class from
 * cls.
 */
enum outbox_class { OUTBOX_REPLY, OUTBOX_NOTIFY };
struct msg_rec {
	int         outbound;      /* 0 inbound text, 1 reply/notification */
	int         cls;           /* outbound: enum outbox_class */
	const char *msisdn;        /* the citizen's number as on the wire */
	int         ton, npi;
	const char *text;          /* UTF-8 */
	const char *intent;        /* inbound: intent name; may be NULL */
	int64_t     reply_to;      /* outbound: the inbound row, or 0 */
	int         state;         /* outbound: OB_QUEUED, or OB_SUBMITTED
	                            * for a reply the daemon itself sends as
	                            * the row commits (see outbox_mark) */
};
int64_t store_msg_add(struct store *st, const struct msg_rec *m, char *err,
    size_t errlen);

/*
 * The outbox (schema 3; CHECKs rewritten in 4; mark, rowid parts and the
 * queued-only index in 5): outbound rows in state queued -> submitted ->
 * delivered | failed | expired, and one outbox_parts row (id msg_id * 256
 * + part) per segment the SMSC accepted (its message id, its own state).
 * A reply the daemon sends itself is written submitted at once; the outbox
 * mark says which of those may still have parts unsent (store_outbox_mark).
 * A message is delivered when every part is. The concatenation reference
 * follows from the id, so a resend after a crash continues the same set.
 */
enum outbox_state { OB_QUEUED, OB_SUBMITTED, OB_DELIVERED, OB_FAILED,
	OB_EXPIRED, OB_NSTATES };
const char *outbox_state_name(int s);       /* "queued", … */
int outbox_state_from_name(const char *n);  /* -1 if unknown */

struct outbox_row {
	int64_t id;
	int     cls;               /* enum outbox_class */
	char    msisdn[24];        /* destination as it goes on the wire */
	int     ton, npi;
	char   *text;              /* owned by the store until fn returns */
	int     state;             /* OB_QUEUED or OB_SUBMITTED */
	int     attempts;
	int     ref;               /* concatenation reference, -1 if none yet */
	int64_t at;                /* created, unix seconds */
};

/*
 * Calls fn for up to limit rows in state queued or submitted with id >
 * after_id, in id order (reading the log from after_id on: meant for one
 * message or a few). fn returns 0 to go on, -1 to stop. Returns the
 * number of rows seen, or -1 on error.
 */
int store_outbox_scan(struct store *st, int64_t after_id, int limit,
    int (*fn)(void *arg, const struct outbox_row *r), void *arg);
/* The same for rows in state queued only (what still has parts to send):
 * the cost does not grow with the rows that wait for receipts. */
int store_outbox_scan_queued(struct store *st, int64_t after_id, int limit,
    int (*fn)(void *arg, const struct outbox_row *r), void *arg);
/* The same for rows in state submitted with id >= from_id: those from
 * the outbox mark on may still have parts to send. */
int store_outbox_scan_open(struct store *st, int64_t from_id, int limit,
    int (*fn)(void *arg, const struct outbox_row *r), void *arg);
/*
 * The outbox mark (schema 5): every row below it in state submitted had
 * each part accepted by the SMSC or its outcome recorded. Returns it, or
 * -1. set moves it up (never down) inside the caller's transaction.
 */
int64_t store_outbox_mark(struct store *st);
int store_outbox_set_mark(struct store *st, int64_t low, char *err,
    size_t errlen);
/* States of parts 1..n of a message into states[0..n-1]; -1 where the SMSC
 * has not accepted the part yet. Returns 0 / -1. */
int store_outbox_part_states(struct store *st, int64_t msg_id, int *states,
    int n);
/* Records the reference a message's parts carry. */
int store_outbox_set_ref(struct store *st, int64_t msg_id, int ref,
    char *err, size_t errlen);
/* Inserts or updates part (1-based) of msg_id: state, SMSC id (stored
 * lower-case; NULL keeps the old one), status text (NULL keeps). */
int store_outbox_part(struct store *st, int64_t msg_id, int part,
    int state, const char *smsc_id, const char *status, char *err,
    size_t errlen);
/* The same, recording the link that accepted the part (NULL keeps it). */
int store_outbox_part_on(struct store *st, int64_t msg_id, int part,
    int state, const char *smsc_id, const char *status, const char *link,
    char *err, size_t errlen);
/* Message-level state, attempts (-1 keeps them) and last status (NULL
 * keeps it). */
int store_outbox_state(struct store *st, int64_t msg_id, int state,
    int attempts, const char *last_status, char *err, size_t errlen);
/* Back to queued with its parts forgotten (a retry after UNDELIV). */
int store_outbox_requeue(struct store *st, int64_t msg_id, char *err,
    size_t errlen);
/* The message and part an SMSC message id (any case) belongs to: 1 found,
 * 0 not, -1 error. */
int store_outbox_by_smsc_id(struct store *st, const char *smsc_id,
    int64_t *msg_id, int *part);
/* The same for a receipt that came on link: only that link's parts (and
 * those from before links had names) match. */
int store_outbox_by_link_id(struct store *st, const char *link,
    const char *smsc_id, int64_t *msg_id, int *part);
/* The link that accepted a message's parts into buf ("" if none): 1
 * found, 0 none, -1 error. */
int store_outbox_part_link(struct store *st, int64_t msg_id, char *buf,
    size_t cap);

/* A carrier link's state as the daemon last wrote it (smsgwctl links). */
struct link_row {
	char    node[32];
	char    name[16];
	char    state[16];
	char    bind[16];           /* transceiver, pair */
	char    host[280];          /* host:port */
	int     window, in_flight, max_tps;
	int64_t rate;               /* learned submits/s, 0 none */
	int64_t queued;             /* segments waiting for it */
	char    last_error[96];
	int64_t bound_at;           /* 0 while not bound */
	int64_t updated_at;
};
/* Replaces one link's row; clears a node's rows. 0, or -1 with err. */
int store_link_put(struct store *st, const struct link_row *r, char *err,
    size_t errlen);
int store_link_clear(struct store *st, const char *node, char *err,
    size_t errlen);
/* Calls fn for every link row, by node and name, until it returns
 * non-zero. 0, or -1 on a database error. */
int store_link_list(struct store *st, int (*fn)(void *arg,
    const struct link_row *r), void *arg);

/* How many parts a message has recorded and how many are in state. */
int store_outbox_part_count(struct store *st, int64_t msg_id, int state);
/* A message's state and attempts, by id whatever the state: 1 found, 0 no
 * such outbox row, -1 error. */
int store_outbox_get(struct store *st, int64_t msg_id, int *state,
    int *attempts);
/* The status text a part's receipt left (UNDELIV, …) into buf (cap >= 1;
 * "" if none): 1 found, 0 no such part, -1 error. */
int store_outbox_part_status(struct store *st, int64_t msg_id, int part,
    char *buf, size_t cap);
/* Outbound rows per state into counts[OB_NSTATES]. 0 / -1. */
int store_outbox_counts(struct store *st, int64_t counts[OB_NSTATES]);
/* PRAGMA data_version: changes when another connection commits. */
int64_t store_data_version(struct store *st);
/* Runs a trivial query that reads the database file (GET /healthz).
 * 0, or -1 with err. */
int store_ping(struct store *st, char *err, size_t errlen);

/* The SQLite handle, for tools and tests that need a raw query. */
struct sqlite3 *store_db(struct store *st);

#endif
