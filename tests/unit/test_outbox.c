/*
 * daemon/outbox: a reply written 'submitted' is open until every part has
 * an outcome; the outbox mark stays at or below the oldest open one; a
 * start after a crash sends exactly the parts past the mark that the SMSC
 * never accepted; one-part replies cost no message-row write on the hot
 * path; a message is delivered only when every one of its parts has a
 * delivered receipt, whatever the order of acceptances and receipts, and
 * across a restart. Runs the real store (a SQLite file) and the real send
 * queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/outbox.h"
#include "daemon/outq.h"
#include "daemon/link/link.h"
#include "daemon/store.h"
#include "testutil.h"

/* More than 160 GSM characters: two parts. */
#define LONG_TEXT \
	"0123456789012345678901234567890123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789012345678901234567890123456789" \
	"01234567890123456789012345678901234567890123456789"
/* 380 GSM characters: three parts of at most 153. */
#define LONG3_TEXT LONG_TEXT LONG_TEXT

struct fx {
	char           dir[256], path[300];
	struct store  *st;
	struct outq   *q;
	struct outbox *ob;
	int            finals;
	int            retry;      /* [outbox] retry_undelivered */
	int          (*link_slot)(void *, const char *);  /* NULL: one link */
};

static struct pdu_addr src = { 0, 0, "10659000" };
static struct pdu_addr dst = { 1, 1, "8613800138000" };

static void
on_final(void *arg, const struct outq_msg_info *m)
{
	struct fx *fx = arg;

	fx->finals++;
	assert_int_equal(outbox_final(fx->ob, m), 0);
}

/* The slot of a link in the tests that route: unicom is slot 2. */
static int
slot_of(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "unicom") == 0 ? 2 : -1;
}

/* A daemon's outbox on the fixture's file (a start, or a restart). */
static void
start(struct fx *fx)
{
	struct outbox_cfg cfg = { .source = &src, .country_code = "86",
	    .retry_undelivered = fx->retry, .validity_h = 48,
	    .notify_in_memory = 100, .link_slot = fx->link_slot };
	char err[256];

	fx->st = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->st);
	fx->q = outq_new(SEG_UDH, 1, on_final, fx);
	assert_non_null(fx->q);
	/* The slot slot_of() names for unicom. */
	outq_link_available(fx->q, 2, 1);
	fx->ob = outbox_new(fx->st, fx->q, &cfg);
	assert_non_null(fx->ob);
	fx->finals = 0;
}

/* What a kill -9 leaves: the file, whatever was committed. */
static void
crash(struct fx *fx)
{
	outq_free(fx->q);
	outbox_free(fx->ob);
	store_close(fx->st);
	fx->q = NULL;
	fx->ob = NULL;
	fx->st = NULL;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || tu_tmpdir(fx->dir, sizeof(fx->dir), "outbox") == -1)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/smsgwd.db", fx->dir);
	log_init("test_outbox", LOG_LVL_ERR, 0);
	metrics_reset();
	start(fx);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	crash(fx);
	tu_rmdir(fx->dir);
	free(fx);
	return 0;
}

static const char *
q1(struct fx *fx, const char *sql)
{
	return tu_query1(store_db(fx->st), sql);
}

/* A reply as the pipeline writes it: 'submitted', inside a transaction. */
static int64_t
add_reply(struct fx *fx, const char *text)
{
	struct msg_rec in = { .msisdn = "13800138000", .text = "CX 1" };
	struct msg_rec out = { .outbound = 1, .cls = OUTBOX_REPLY,
	    .msisdn = "8613800138000", .ton = 1, .npi = 1, .text = text,
	    .state = OB_SUBMITTED };
	char err[256];
	int64_t id;

	assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
	assert_true((out.reply_to = store_msg_add(fx->st, &in, err,
	    sizeof(err))) > 0);
	assert_true((id = store_msg_add(fx->st, &out, err, sizeof(err))) > 0);
	assert_int_equal(store_commit(fx->st, err, sizeof(err)), 0);
	return id;
}

/* A notification as smsgwctl or the API writes it: 'queued'. */
static int64_t
add_notify(struct fx *fx, const char *text)
{
	struct msg_rec out = { .outbound = 1, .cls = OUTBOX_NOTIFY,
	    .msisdn = "8613800138000", .ton = 1, .npi = 1, .text = text,
	    .state = OB_QUEUED };
	char err[256];
	int64_t id;

	assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
	assert_true((id = store_msg_add(fx->st, &out, err, sizeof(err))) > 0);
	assert_int_equal(store_commit(fx->st, err, sizeof(err)), 0);
	return id;
}

/* A message of class cls into the queue the way the daemon does it. */
static int64_t
send_msg(struct fx *fx, enum outbox_class cls, const char *text)
{
	char err[256];
	int64_t id;

	if (cls == OUTBOX_REPLY) {
		id = add_reply(fx, text);
		assert_int_equal(outbox_reply(fx->ob, (uint64_t)id, &src, &dst,
		    text, err, sizeof(err)), 0);
	} else {
		id = add_notify(fx, text);
		assert_int_equal(outbox_fill(fx->ob, 0), 1);
	}
	return id;
}

/* The link the tests' parts go on and their receipts come from. */
static const char *on_link = "mobile";

/* A delivery receipt, committed as the gateway does. */
static void
receipt(struct fx *fx, const char *smsc_id, enum dlr_state state)
{
	struct dlr d;
	char err[256];

	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%s", smsc_id);
	d.state = state;
	assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
	assert_int_equal(outbox_receipt(fx->ob, on_link, &d), 0);
	assert_int_equal(store_commit(fx->st, err, sizeof(err)), 0);
}

/* The message row's state (and with full, ":attempts:last_status"). */
static const char *
row_state(struct fx *fx, int64_t id, int full)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT state%s FROM messages WHERE id ="
	    " %lld", full ? " || ':' || attempts || ':' ||"
	    " coalesce(last_status, '-')" : "", (long long)id);
	return q1(fx, sql);
}

/* The message's parts as "part:smsc_id:state …". */
static const char *
part_rows(struct fx *fx, int64_t id)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT coalesce(group_concat(part || ':' ||"
	    " smsc_id || ':' || state, ' '), '') FROM (SELECT * FROM"
	    " outbox_parts WHERE msg_id = %lld ORDER BY part)", (long long)id);
	return q1(fx, sql);
}

/* The SMSC answers seg: the gateway's on_submit_done, then its commit. */
static void
answer_seg(struct fx *fx, struct outq_seg *seg, uint32_t status,
    const char *smsc_id, uint64_t *id, int *part)
{
	char err[256];

	assert_non_null(seg);
	outq_seg_ref(seg, id, part);
	assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
	assert_int_equal(outbox_part_done(fx->ob, on_link, *id, *part,
	    status, smsc_id), 0);
	outq_done(fx->q, seg, status, smsc_id, 0);
	assert_int_equal(outbox_sync_mark(fx->ob, 0), 0);
	assert_int_equal(store_commit(fx->st, err, sizeof(err)), 0);
}

/* The SMSC answers the next segment due. */
static void
answer(struct fx *fx, uint32_t status, const char *smsc_id,
    uint64_t *id, int *part)
{
	answer_seg(fx, outq_next(fx->q, 0), status, smsc_id, id, part);
}

static void
test_reply_accepted_writes_no_row(void **state)
{
	struct fx *fx = *state;
	char err[256], sql[200];
	int64_t r;
	uint64_t id;
	int part;

	r = add_reply(fx, "您好");
	assert_int_equal(outbox_low(fx->ob), 1);
	assert_int_equal(outbox_reply(fx->ob, (uint64_t)r, &src, &dst, "您好",
	    err, sizeof(err)), 0);
	assert_int_equal(outbox_low(fx->ob), r);
	answer(fx, ESME_OK, "AB12", &id, &part);
	assert_int_equal(id, (uint64_t)r);
	assert_int_equal(part, 1);
	assert_int_equal(fx->finals, 1);
	/* The row is as the batch wrote it; the part has the SMSC's id. */
	snprintf(sql, sizeof(sql), "SELECT state || ':' || attempts FROM"
	    " messages WHERE id = %lld", (long long)r);
	assert_string_equal(q1(fx, sql), "submitted:0");
	snprintf(sql, sizeof(sql), "SELECT id || ':' || smsc_id || ':' || state"
	    " FROM outbox_parts WHERE msg_id = %lld", (long long)r);
	snprintf(err, sizeof(err), "%lld:ab12:submitted",
	    (long long)r * 256 + 1);
	assert_string_equal(q1(fx, sql), err);
	/* Nothing open: the mark may pass it. Not stored until a step's
	 * worth of ids, or a stop. */
	assert_int_equal(outbox_low(fx->ob), r + 1);
	assert_int_equal(store_outbox_mark(fx->st), 1);
	assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
	assert_int_equal(outbox_sync_mark(fx->ob, 1), 0);
	assert_int_equal(store_commit(fx->st, err, sizeof(err)), 0);
	assert_int_equal(store_outbox_mark(fx->st), r + 1);
}

/*
 * Two replies committed, the first accepted, the second still out; the
 * process dies. The restart sends the second only, and a receipt for the
 * first still settles it.
 */
static void
test_restart_sends_what_was_not_accepted(void **state)
{
	struct fx *fx = *state;
	struct outq_seg *seg;
	char err[256], sql[200];
	int64_t r1, r2;
	uint64_t id;
	int part;

	r1 = add_reply(fx, "first");
	r2 = add_reply(fx, "second");
	assert_int_equal(outbox_reply(fx->ob, (uint64_t)r1, &src, &dst,
	    "first", err, sizeof(err)), 0);
	assert_int_equal(outbox_reply(fx->ob, (uint64_t)r2, &src, &dst,
	    "second", err, sizeof(err)), 0);
	answer(fx, ESME_OK, "1", &id, &part);
	assert_int_equal(id, (uint64_t)r1);
	assert_int_equal(outbox_low(fx->ob), r2);
	/* The second is still queued when the process dies. */
	crash(fx);

	start(fx);
	assert_int_equal(outbox_fill(fx->ob, 1), 1);
	assert_int_equal(outbox_low(fx->ob), r2);
	seg = outq_next(fx->q, 0);
	assert_non_null(seg);
	outq_seg_ref(seg, &id, &part);
	assert_int_equal(id, (uint64_t)r2);
	assert_null(outq_next(fx->q, 0));
	outq_done(fx->q, seg, ESME_THROTTLED, NULL, 0);  /* back to wait */
	answer(fx, ESME_OK, "2", &id, &part);
	assert_int_equal(id, (uint64_t)r2);
	assert_int_equal(outbox_low(fx->ob), r2 + 1);

	/* A receipt for the first, accepted before the crash. */
	{
		struct dlr d;

		memset(&d, 0, sizeof(d));
		snprintf(d.id, sizeof(d.id), "1");
		d.state = DLR_DELIVERED;
		assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
		assert_int_equal(outbox_receipt(fx->ob, on_link, &d), 0);
		assert_int_equal(store_commit(fx->st, err, sizeof(err)), 0);
	}
	snprintf(sql, sizeof(sql), "SELECT group_concat(state, ' ') FROM"
	    " (SELECT state FROM messages WHERE id IN (%lld, %lld) ORDER BY"
	    " id)", (long long)r1, (long long)r2);
	assert_string_equal(q1(fx, sql), "delivered submitted");

	/* A clean stop stores the mark; the next start finds nothing. */
	assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
	assert_int_equal(outbox_sync_mark(fx->ob, 1), 0);
	assert_int_equal(store_commit(fx->st, err, sizeof(err)), 0);
	crash(fx);
	start(fx);
	assert_int_equal(store_outbox_mark(fx->st), r2 + 1);
	assert_int_equal(outbox_fill(fx->ob, 1), 0);
	assert_null(outq_next(fx->q, 0));
}

/* A two-part reply with part 1 accepted: the restart sends part 2 only,
 * and the message row is written when its last part is. */
static void
test_restart_resumes_a_long_reply(void **state)
{
	struct fx *fx = *state;
	struct outq_seg *seg;
	char err[256], sql[200];
	int64_t r;
	uint64_t id;
	int part;

	r = add_reply(fx, LONG_TEXT);
	assert_int_equal(outbox_reply(fx->ob, (uint64_t)r, &src, &dst,
	    LONG_TEXT, err, sizeof(err)), 0);
	answer(fx, ESME_OK, "p1", &id, &part);
	assert_int_equal(part, 1);
	assert_int_equal(fx->finals, 0);
	crash(fx);

	start(fx);
	assert_int_equal(outbox_fill(fx->ob, 1), 1);
	seg = outq_next(fx->q, 0);
	assert_non_null(seg);
	outq_seg_ref(seg, &id, &part);
	assert_int_equal(id, (uint64_t)r);
	assert_int_equal(part, 2);
	assert_null(outq_next(fx->q, 0));
	outq_done(fx->q, seg, ESME_THROTTLED, NULL, 0);
	answer(fx, ESME_OK, "p2", &id, &part);
	assert_int_equal(fx->finals, 1);
	snprintf(sql, sizeof(sql), "SELECT state || ':' || attempts || ':' ||"
	    " (SELECT group_concat(smsc_id, ' ') FROM outbox_parts WHERE"
	    " msg_id = %lld) FROM messages WHERE id = %lld", (long long)r,
	    (long long)r);
	/* Two submits of part 2: throttled once, then accepted. */
	assert_string_equal(q1(fx, sql), "submitted:2:p1 p2");
	assert_int_equal(outbox_low(fx->ob), r + 1);
}

/* A permanent refusal is written at once; the mark passes it. */
static void
test_refused_reply_fails(void **state)
{
	struct fx *fx = *state;
	char err[256], sql[200];
	int64_t r;
	uint64_t id;
	int part;

	r = add_reply(fx, "x");
	assert_int_equal(outbox_reply(fx->ob, (uint64_t)r, &src, &dst, "x",
	    err, sizeof(err)), 0);
	answer(fx, 0x0B /* ESME_RINVDSTADR */, NULL, &id, &part);
	snprintf(sql, sizeof(sql), "SELECT state || ':' || last_status FROM"
	    " messages WHERE id = %lld", (long long)r);
	assert_string_equal(q1(fx, sql), "failed:ESME_RINVDSTADR");
	assert_int_equal(outbox_low(fx->ob), r + 1);
}

/* The stored mark moves in steps (one write per MARK_STEP ids), only up,
 * and never past a message still open. */
static void
test_mark_steps(void **state)
{
	struct fx *fx = *state;
	struct outq_seg *held = NULL;
	char err[256];
	int64_t first = 0, r = 0;
	uint64_t id;
	int part;

	for (int i = 0; i < 600; i++) {
		r = add_reply(fx, "ok");
		assert_int_equal(outbox_reply(fx->ob, (uint64_t)r, &src, &dst,
		    "ok", err, sizeof(err)), 0);
		if (i == 0) {
			first = r;
			held = outq_next(fx->q, 0);   /* no answer yet */
		} else {
			answer(fx, ESME_OK, "x", &id, &part);
			assert_int_equal(id, (uint64_t)r);
		}
	}
	/* The first is open all along: nothing to store. */
	assert_int_equal(outbox_low(fx->ob), first);
	assert_int_equal(store_outbox_mark(fx->st), 1);
	answer_seg(fx, held, ESME_OK, "x", &id, &part);
	assert_int_equal(id, (uint64_t)first);
	/* 1,200 rows (texts and replies): one step, stored in the commit. */
	assert_int_equal(outbox_low(fx->ob), r + 1);
	assert_int_equal(store_outbox_mark(fx->st), r + 1);
	/* Down is refused by the store. */
	assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
	assert_int_equal(store_outbox_set_mark(fx->st, 2, err, sizeof(err)),
	    0);
	assert_int_equal(store_commit(fx->st, err, sizeof(err)), 0);
	assert_int_equal(store_outbox_mark(fx->st), r + 1);
}

/*
 * Issue 11: a receipt for part 1 that comes before the last part is
 * accepted only records part 1. The message is delivered when the last
 * part's receipt is in, not before.
 */
static void
test_early_receipt_part_one_of_three(void **state)
{
	struct fx *fx = *state;
	struct outq_seg *seg[3];
	uint64_t id;
	int64_t r;
	int part;

	assert_int_equal(outq_parts(fx->q, LONG3_TEXT), 3);
	r = send_msg(fx, OUTBOX_REPLY, LONG3_TEXT);
	for (int i = 0; i < 3; i++)
		assert_non_null(seg[i] = outq_next(fx->q, 0));
	answer_seg(fx, seg[0], ESME_OK, "E1", &id, &part);
	receipt(fx, "e1", DLR_DELIVERED);
	/* Parts 2 and 3 are not accepted yet: the message is not delivered
	 * (counting only the recorded parts would say 1 of 1). */
	assert_string_equal(row_state(fx, r, 0), "submitted");
	assert_string_equal(part_rows(fx, r), "1:e1:delivered");
	assert_int_equal(outbox_low(fx->ob), r);
	answer_seg(fx, seg[1], ESME_OK, "E2", &id, &part);
	receipt(fx, "E2", DLR_DELIVERED);
	assert_string_equal(row_state(fx, r, 0), "submitted");
	/* The last submit_sm_resp comes after the receipts of the others:
	 * the message is complete but part 3 has no receipt yet. */
	answer_seg(fx, seg[2], ESME_OK, "E3", &id, &part);
	assert_int_equal(fx->finals, 1);
	assert_string_equal(row_state(fx, r, 1), "submitted:3:-");
	assert_int_equal(outbox_low(fx->ob), r + 1);
	assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"), 0);
	receipt(fx, "E3", DLR_DELIVERED);
	assert_string_equal(row_state(fx, r, 1), "delivered:3:DELIVRD");
	assert_string_equal(part_rows(fx, r),
	    "1:e1:delivered 2:e2:delivered 3:e3:delivered");
	assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"), 1);
	/* A receipt repeated (the SMSC redelivers a refused batch) or a
	 * stray failure afterwards changes nothing. */
	receipt(fx, "E3", DLR_DELIVERED);
	receipt(fx, "E1", DLR_UNDELIVERABLE);
	assert_string_equal(row_state(fx, r, 1), "delivered:3:DELIVRD");
	assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"), 1);
	assert_int_equal(metrics_counter(M_OUTBOUND, "failed"), 0);
	assert_null(outq_next(fx->q, 0));
}

/* Every order of events: accept part i (its submit_sm_resp) and its
 * receipt, the receipt always after its own acceptance. */
struct orders {
	struct fx *fx;
	int        cls;
	int        n;           /* parts */
	int        runs;
};

static void
run_order(struct orders *o, const int *ev)
{
	struct fx *fx = o->fx;
	struct outq_seg *seg[3];
	uint64_t before = metrics_counter(M_OUTBOUND, "delivered"), id;
	char smsc[32], order[64];
	size_t used = 0;
	int64_t r;
	int part;

	r = send_msg(fx, o->cls, o->n == 3 ? LONG3_TEXT : LONG_TEXT);
	for (int i = 0; i < o->n; i++) {
		assert_non_null(seg[i] = outq_next(fx->q, 0));
		outq_seg_ref(seg[i], &id, &part);
		assert_int_equal(id, (uint64_t)r);
		assert_int_equal(part, i + 1);
	}
	assert_null(outq_next(fx->q, 0));
	for (int e = 0; e < 2 * o->n; e++)
		used += (size_t)snprintf(order + used, sizeof(order) - used,
		    "%s%c%d", e ? " " : "", ev[e] < o->n ? 'A' : 'R',
		    ev[e] % o->n + 1);
	for (int e = 0; e < 2 * o->n; e++) {
		int p = ev[e] % o->n;

		snprintf(smsc, sizeof(smsc), "%llx%02d", (long long)r, p + 1);
		if (ev[e] < o->n)
			answer_seg(fx, seg[p], ESME_OK, smsc, &id, &part);
		else
			receipt(fx, smsc, DLR_DELIVERED);
		/* Delivered exactly at the last receipt, never before. */
		if (strcmp(row_state(fx, r, 0), e == 2 * o->n - 1 ?
		    "delivered" : o->cls == OUTBOX_NOTIFY &&
		    fx->finals == o->runs ? "queued" : "submitted") != 0)
			fail_msg("%s order %s: after event %d the row is %s",
			    o->cls == OUTBOX_REPLY ? "reply" : "notification",
			    order, e + 1, row_state(fx, r, 0));
	}
	assert_int_equal(fx->finals, o->runs + 1);
	assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"),
	    before + 1);
	if (o->cls == OUTBOX_REPLY)
		assert_int_equal(outbox_low(fx->ob), r + 1);
	o->runs++;
}

static void
each_order(struct orders *o, int *ev, int depth, unsigned used)
{
	if (depth == 2 * o->n) {
		run_order(o, ev);
		return;
	}
	for (int e = 0; e < 2 * o->n; e++) {
		if (used & (1u << e))
			continue;
		if (e >= o->n && !(used & (1u << (e - o->n))))
			continue;            /* no receipt before its accept */
		ev[depth] = e;
		each_order(o, ev, depth + 1, used | (1u << e));
	}
}

static void
test_every_order_of_accepts_and_receipts(void **state)
{
	struct fx *fx = *state;
	int ev[6];

	/* 192 messages, a commit per event: durability is not the point
	 * here, and fsync would make this the slowest unit test. */
	assert_int_equal(sqlite3_exec(store_db(fx->st),
	    "PRAGMA synchronous = OFF", NULL, NULL, NULL), SQLITE_OK);

	for (int cls = OUTBOX_REPLY; cls <= OUTBOX_NOTIFY; cls++) {
		for (int n = 2; n <= 3; n++) {
			struct orders o = { .fx = fx, .cls = cls, .n = n };

			fx->finals = 0;
			each_order(&o, ev, 0, 0);
			/* (2n)! / 2^n orders: 6 for two parts, 90 for three. */
			assert_int_equal(o.runs, n == 2 ? 6 : 90);
		}
	}
	assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"),
	    2 * (6 + 90));
	assert_string_equal(q1(fx, "SELECT count(*) FROM messages WHERE"
	    " state IS NOT NULL AND state <> 'delivered'"), "0");
}

/*
 * UNDELIV for part 1 while parts 2 and 3 are not accepted: the rule is
 * unchanged (no retry configured: failed with the receipt's state), it
 * only waits until every part has an outcome.
 */
static void
test_early_undelivered_fails_when_complete(void **state)
{
	struct fx *fx = *state;
	uint64_t id;
	int64_t r;
	int part;

	r = send_msg(fx, OUTBOX_REPLY, LONG3_TEXT);
	answer(fx, ESME_OK, "u1", &id, &part);
	receipt(fx, "u1", DLR_UNDELIVERABLE);
	assert_string_equal(row_state(fx, r, 0), "submitted");
	assert_string_equal(part_rows(fx, r), "1:u1:failed");
	answer(fx, ESME_OK, "u2", &id, &part);
	receipt(fx, "u2", DLR_DELIVERED);
	assert_string_equal(row_state(fx, r, 0), "submitted");
	answer(fx, ESME_OK, "u3", &id, &part);
	assert_int_equal(fx->finals, 1);
	assert_string_equal(row_state(fx, r, 1), "failed:3:UNDELIV");
	/* The last receipt does not bring it back. */
	receipt(fx, "u3", DLR_DELIVERED);
	assert_string_equal(row_state(fx, r, 1), "failed:3:UNDELIV");
	assert_int_equal(metrics_counter(M_OUTBOUND, "failed"), 1);
	assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"), 0);
	assert_null(outq_next(fx->q, 0));
	assert_int_equal(outbox_low(fx->ob), r + 1);

	/* A permanent refusal of a later part wins over an early
	 * delivered receipt. */
	r = send_msg(fx, OUTBOX_REPLY, LONG_TEXT);
	answer(fx, ESME_OK, "v1", &id, &part);
	receipt(fx, "v1", DLR_DELIVERED);
	answer(fx, 0x0B /* ESME_RINVDSTADR */, NULL, &id, &part);
	assert_string_equal(row_state(fx, r, 1), "failed:2:ESME_RINVDSTADR");
}

/* With retry_undelivered the whole message goes once more, when every
 * part of the first try has an outcome; a second UNDELIV fails it. */
static void
test_early_undelivered_retries_when_complete(void **state)
{
	struct fx *fx = *state;
	struct outq_seg *seg;
	uint64_t id;
	int64_t r;
	int part;

	crash(fx);
	fx->retry = 1;
	start(fx);
	r = send_msg(fx, OUTBOX_NOTIFY, LONG_TEXT);
	answer(fx, ESME_OK, "w1", &id, &part);
	receipt(fx, "w1", DLR_EXPIRED);
	assert_string_equal(row_state(fx, r, 0), "queued");
	assert_string_equal(part_rows(fx, r), "1:w1:expired");
	answer(fx, ESME_OK, "w2", &id, &part);
	/* Complete: part 1 expired, so back to queued with the parts
	 * forgotten, and in the queue again, both parts. */
	assert_int_equal(fx->finals, 1);
	assert_string_equal(row_state(fx, r, 0), "queued");
	assert_string_equal(part_rows(fx, r), "");
	receipt(fx, "w2", DLR_DELIVERED);     /* the old try: no match */
	assert_string_equal(row_state(fx, r, 0), "queued");
	for (int i = 1; i <= 2; i++) {
		char smsc[16];

		seg = outq_next(fx->q, 0);
		assert_non_null(seg);
		snprintf(smsc, sizeof(smsc), "x%d", i);
		answer_seg(fx, seg, ESME_OK, smsc, &id, &part);
		assert_int_equal(id, (uint64_t)r);
		assert_int_equal(part, i);
	}
	assert_string_equal(row_state(fx, r, 0), "submitted");
	receipt(fx, "x2", DLR_DELIVERED);
	assert_string_equal(row_state(fx, r, 0), "submitted");
	receipt(fx, "x1", DLR_UNDELIVERABLE);
	assert_string_equal(row_state(fx, r, 1), "failed:2:UNDELIV");
	assert_null(outq_next(fx->q, 0));
	assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"), 0);
}

/*
 * Part 1 accepted and its receipt stored, then the process dies. The
 * restart sends parts 2 and 3 only; once they are accepted (in reverse
 * order) and receipted the message is delivered, exactly once.
 */
static void
test_restart_after_early_receipt(void **state)
{
	struct fx *fx = *state;
	struct outq_seg *seg[2];
	uint64_t id, delivered = 0;
	int64_t r;
	int part;

	for (int cls = OUTBOX_REPLY; cls <= OUTBOX_NOTIFY; cls++) {
		r = send_msg(fx, cls, LONG3_TEXT);
		answer(fx, ESME_OK, cls ? "n1" : "r1", &id, &part);
		receipt(fx, cls ? "n1" : "r1", DLR_DELIVERED);
		assert_string_equal(row_state(fx, r, 0), cls ? "queued" :
		    "submitted");
		crash(fx);

		start(fx);
		assert_int_equal(outbox_fill(fx->ob, 1), 1);
		for (int i = 0; i < 2; i++) {
			assert_non_null(seg[i] = outq_next(fx->q, 0));
			outq_seg_ref(seg[i], &id, &part);
			assert_int_equal(id, (uint64_t)r);
			assert_int_equal(part, i + 2);
		}
		assert_null(outq_next(fx->q, 0));
		answer_seg(fx, seg[1], ESME_OK, cls ? "n3" : "r3", &id, &part);
		receipt(fx, cls ? "n3" : "r3", DLR_DELIVERED);
		assert_string_equal(row_state(fx, r, 0), cls ? "queued" :
		    "submitted");
		answer_seg(fx, seg[0], ESME_OK, cls ? "n2" : "r2", &id, &part);
		assert_int_equal(fx->finals, 1);
		assert_string_equal(row_state(fx, r, 0), "submitted");
		assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"),
		    delivered);
		receipt(fx, cls ? "n2" : "r2", DLR_DELIVERED);
		assert_string_equal(row_state(fx, r, 1), "delivered:2:DELIVRD");
		assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"),
		    ++delivered);
		receipt(fx, cls ? "n2" : "r2", DLR_DELIVERED);
		assert_int_equal(metrics_counter(M_OUTBOUND, "delivered"),
		    delivered);

		/* Another restart sends nothing and changes nothing. */
		crash(fx);
		start(fx);
		assert_int_equal(outbox_fill(fx->ob, 1), 0);
		assert_null(outq_next(fx->q, 0));
		assert_string_equal(row_state(fx, r, 0), "delivered");
	}
}

/* Two carriers hand out the same SMSC id: a receipt updates the part of
 * the link it came on, never the other's; a part from before links had
 * names matches any link. */
static void
test_receipt_matched_by_link(void **state)
{
	struct fx *fx = *state;
	char err[256], sql[200];
	int64_t r1, r2;
	uint64_t id;
	int part;

	r1 = add_reply(fx, "first");
	r2 = add_reply(fx, "second");
	assert_int_equal(outbox_reply(fx->ob, (uint64_t)r1, &src, &dst,
	    "first", err, sizeof(err)), 0);
	assert_int_equal(outbox_reply(fx->ob, (uint64_t)r2, &src, &dst,
	    "second", err, sizeof(err)), 0);
	on_link = "mobile";
	answer(fx, ESME_OK, "77", &id, &part);
	assert_int_equal(id, (uint64_t)r1);
	on_link = "unicom";
	answer(fx, ESME_OK, "77", &id, &part);
	assert_int_equal(id, (uint64_t)r2);
	snprintf(sql, sizeof(sql), "SELECT group_concat(link, ' ') FROM"
	    " (SELECT link FROM outbox_parts WHERE msg_id IN (%lld, %lld)"
	    " ORDER BY id)", (long long)r1, (long long)r2);
	assert_string_equal(q1(fx, sql), "mobile unicom");

	/* unicom's receipt: the second message, the first untouched. */
	receipt(fx, "77", DLR_DELIVERED);
	assert_string_equal(row_state(fx, r1, 0), "submitted");
	assert_string_equal(row_state(fx, r2, 0), "delivered");
	/* telecom never had it. */
	on_link = "telecom";
	receipt(fx, "77", DLR_DELIVERED);
	assert_string_equal(row_state(fx, r1, 0), "submitted");
	on_link = "mobile";
	receipt(fx, "77", DLR_DELIVERED);
	assert_string_equal(row_state(fx, r1, 0), "delivered");

	/* A part recorded before schema 6 (no link) matches any. */
	snprintf(sql, sizeof(sql), "UPDATE outbox_parts SET link = NULL,"
	    " state = 'submitted' WHERE msg_id = %lld; UPDATE messages SET"
	    " state = 'submitted' WHERE id = %lld", (long long)r1,
	    (long long)r1);
	assert_int_equal(sqlite3_exec(store_db(fx->st), sql, NULL, NULL,
	    NULL), SQLITE_OK);
	on_link = "broadnet";
	receipt(fx, "77", DLR_DELIVERED);
	assert_string_equal(row_state(fx, r1, 0), "delivered");
	on_link = "mobile";
}


/* A long reply whose first part one link accepted before a crash: the
 * restart sends the rest on that link, whichever link the queue would
 * choose for a new message. */
static void
test_restart_resumes_on_its_link(void **state)
{
	struct fx *fx = *state;
	char err[256], text[400];
	int64_t r;
	uint64_t id;
	int part;

	memset(text, 'a', 300);
	text[300] = '\0';
	r = add_reply(fx, text);
	assert_int_equal(outbox_reply(fx->ob, (uint64_t)r, &src, &dst, text,
	    err, sizeof(err)), 0);
	on_link = "unicom";
	answer(fx, ESME_OK, "p1", &id, &part);
	assert_int_equal(part, 1);
	crash(fx);
	fx->link_slot = slot_of;
	start(fx);
	assert_int_equal(outbox_fill(fx->ob, 1), 1);
	assert_null(outq_next_on(fx->q, 0, 0));
	answer_seg(fx, outq_next_on(fx->q, 2, 0), ESME_OK, "p2", &id, &part);
	assert_int_equal(part, 2);
	assert_int_equal(fx->finals, 1);
	on_link = "mobile";
}

/* A reply no link took within validity_h: its row expires, with why. */
static void
test_waiting_reply_expires(void **state)
{
	struct fx *fx = *state;
	char err[256];
	int64_t r;

	r = add_reply(fx, "late");
	assert_int_equal(outbox_reply(fx->ob, (uint64_t)r, &src, &dst, "late",
	    err, sizeof(err)), 0);
	assert_int_equal(outq_expire(fx->q, (int64_t)time(NULL) + 3600), 0);
	assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
	assert_int_equal(outq_expire(fx->q, (int64_t)time(NULL) + 48 * 3600 +
	    5), 1);
	assert_int_equal(store_commit(fx->st, err, sizeof(err)), 0);
	assert_int_equal(fx->finals, 1);
	assert_string_equal(row_state(fx, r, 1), "expired:0:VALIDITY_EXPIRED");
	assert_null(outq_next(fx->q, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_waiting_reply_expires,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_receipt_matched_by_link,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_resumes_on_its_link,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reply_accepted_writes_no_row, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_sends_what_was_not_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_resumes_a_long_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_reply_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_steps, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_early_receipt_part_one_of_three, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_every_order_of_accepts_and_receipts, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_early_undelivered_fails_when_complete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_early_undelivered_retries_when_complete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_after_early_receipt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
