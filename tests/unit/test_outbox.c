/*
 * daemon/outbox: a reply written 'submitted' is open until every part has
 * an outcome; the outbox mark stays at or below the oldest open one; a
 * start after a crash sends exactly the parts past the mark that the SMSC
 * never accepted; one-part replies cost no message-row write on the hot
 * path. Runs the real store (a SQLite file) and the real send queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/log.h"
#include "daemon/outbox.h"
#include "daemon/outq.h"
#include "daemon/smpp_link.h"
#include "daemon/store.h"
#include "testutil.h"

/* More than 160 GSM characters: two parts. */
#define LONG_TEXT \
	"0123456789012345678901234567890123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789012345678901234567890123456789" \
	"01234567890123456789012345678901234567890123456789"

struct fx {
	char           dir[256], path[300];
	struct store  *st;
	struct outq   *q;
	struct outbox *ob;
	int            finals;
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

/* A daemon's outbox on the fixture's file (a start, or a restart). */
static void
start(struct fx *fx)
{
	struct outbox_cfg cfg = { .source = &src, .country_code = "86",
	    .validity_h = 48, .notify_in_memory = 100 };
	char err[256];

	fx->st = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->st);
	fx->q = outq_new(SEG_UDH, 1, on_final, fx);
	assert_non_null(fx->q);
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

/* The SMSC answers seg: the gateway's on_submit_done, then its commit. */
static void
answer_seg(struct fx *fx, struct outq_seg *seg, uint32_t status,
    const char *smsc_id, uint64_t *id, int *part)
{
	char err[256];

	assert_non_null(seg);
	outq_seg_ref(seg, id, part);
	assert_int_equal(store_begin(fx->st, err, sizeof(err)), 0);
	assert_int_equal(outbox_part_done(fx->ob, *id, *part, status,
	    smsc_id), 0);
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
		assert_int_equal(outbox_receipt(fx->ob, &d), 0);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
