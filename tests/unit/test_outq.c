/* daemon/outq: priority classes, segment PDUs, transient vs permanent
 * outcomes, retry timing, message completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/outq.h"
#include "daemon/link/link.h"
#include "proto/charset.h"

static struct outq_msg_info last;
static char last_ids[256];
static int finals;

static void
on_final(void *arg, const struct outq_msg_info *m)
{
	(void)arg;
	last = *m;
	snprintf(last_ids, sizeof(last_ids), "%s", m->message_ids);
	last.message_ids = last_ids;
	finals++;
}

static struct pdu_addr src = { 0, 0, "10659000" };
static struct pdu_addr dst = { 1, 1, "8613800138000" };

static int
setup(void **state)
{
	*state = outq_new(SEG_UDH, 1, on_final, NULL);
	finals = 0;
	memset(&last, 0, sizeof(last));
	return *state == NULL;
}

static int
teardown(void **state)
{
	outq_free(*state);
	return 0;
}

static void
test_replies_before_notifications(void **state)
{
	struct outq *q = *state;
	char err[100];
	struct outq_seg *s;
	struct pdu p;

	assert_int_equal(outq_push(q, OUTQ_NOTIFY, 1, &src, &dst, "notice", NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(outq_push(q, OUTQ_REPLY, 2, &src, &dst, "reply", NULL,
	    err,
	    sizeof(err)), 0);
	assert_int_equal(outq_waiting(q), 2);
	s = outq_next(q, 0);
	outq_seg_pdu(s, &p);
	assert_int_equal(p.sm_len, 5);
	assert_memory_equal(p.sm, "reply", 5);
	assert_string_equal(p.dst.addr, "8613800138000");
	assert_int_equal(p.dst.ton, 1);
	assert_string_equal(p.src.addr, "10659000");
	assert_int_equal(p.registered_delivery, 1);
	assert_int_equal(p.data_coding, DCS_GSM7);
	outq_done(q, s, ESME_OK, "m2", 0);
	assert_int_equal(finals, 1);
	assert_int_equal(last.id, 2);
	assert_int_equal(last.ok, 1);
	assert_string_equal(last.message_ids, "m2");
	s = outq_next(q, 0);
	outq_seg_pdu(s, &p);
	assert_memory_equal(p.sm, "notice", 6);
	outq_done(q, s, ESME_OK, "m1", 0);
	assert_null(outq_next(q, 0));
	assert_int_equal(outq_waiting(q), 0);
	assert_int_equal(outq_inflight(q), 0);
}

/* A message is done when all its parts are; ids in part order. */
static void
test_multipart_completion(void **state)
{
	struct outq *q = *state;
	char err[100], text[400];
	struct outq_seg *s[3];
	struct pdu p;

	memset(text, 'a', 300);
	text[300] = '\0';
	assert_int_equal(outq_push(q, OUTQ_REPLY, 9, &src, &dst, text, NULL,
	    err,
	    sizeof(err)), 0);
	for (int i = 0; i < 2; i++) {
		s[i] = outq_next(q, 0);
		assert_non_null(s[i]);
		outq_seg_pdu(s[i], &p);
		assert_int_equal(p.esm_class, 0x40);
		assert_int_equal(p.sm[5], i + 1);
	}
	assert_null(outq_next(q, 0));
	outq_done(q, s[1], ESME_OK, "b", 0);
	assert_int_equal(finals, 0);
	outq_done(q, s[0], ESME_OK, "a", 0);
	assert_int_equal(finals, 1);
	assert_int_equal(last.parts, 2);
	assert_string_equal(last.message_ids, "a b");
}

static void
test_transient_retries_permanent_fails(void **state)
{
	struct outq *q = *state;
	char err[100];
	struct outq_seg *s;

	assert_true(outq_transient(ESME_THROTTLED));
	assert_true(outq_transient(ESME_MSGQFUL));
	assert_true(outq_transient(LINK_TIMEOUT));
	assert_true(outq_transient(LINK_LOST));
	assert_false(outq_transient(0x0B));          /* ESME_RINVDSTADR */
	assert_false(outq_transient(LINK_ENCODE));
	assert_true(outq_transient(LINK_CMPP_RESULT(8)));   /* flow control */
	assert_false(outq_transient(LINK_CMPP_RESULT(9)));
	assert_false(outq_transient(LINK_EXPIRED));

	assert_int_equal(outq_push(q, OUTQ_REPLY, 3, &src, &dst, "x", NULL,
	    err,
	    sizeof(err)), 0);
	/* Throttled and link loss: next in line again at once. */
	s = outq_next(q, 1000);
	outq_done(q, s, ESME_THROTTLED, NULL, 1000);
	s = outq_next(q, 1000);
	assert_non_null(s);
	outq_done(q, s, LINK_LOST, NULL, 1000);
	s = outq_next(q, 1000);
	assert_non_null(s);
	/* A timeout waits 2^(attempts - 1) s: this was attempt 3, so 4 s. */
	outq_done(q, s, LINK_TIMEOUT, NULL, 1000);
	assert_null(outq_next(q, 1000));
	assert_int_equal(outq_wait_ms(q, 1000), 4 * 1000);
	s = outq_next(q, 5000);
	assert_non_null(s);
	assert_int_equal(finals, 0);
	/* A permanent status fails the message with that status. */
	outq_done(q, s, 0x0B, NULL, 5000);
	assert_int_equal(finals, 1);
	assert_int_equal(last.ok, 0);
	assert_int_equal(last.status, 0x0B);
	assert_int_equal(outq_wait_ms(q, 5000), UINT64_MAX);
}

/* Retry backoff after timeouts: 1, 2, 4 s … capped at 60 s. */
static void
test_timeout_backoff_caps(void **state)
{
	struct outq *q = *state;
	char err[100];
	struct outq_seg *s;
	uint64_t now = 0, waited = 0;

	assert_int_equal(outq_push(q, OUTQ_REPLY, 4, &src, &dst, "y", NULL,
	    err,
	    sizeof(err)), 0);
	for (int i = 0; i < 10; i++) {
		s = outq_next(q, now);
		assert_non_null(s);
		outq_done(q, s, LINK_TIMEOUT, NULL, now);
		waited = outq_wait_ms(q, now);
		now += waited;
	}
	assert_int_equal(waited, 60000);
	s = outq_next(q, now);
	outq_done(q, s, ESME_OK, "z", now);
	assert_int_equal(last.ok, 1);
}

/* Unsendable text: an error, nothing queued. Unicode picks UCS-2. */
static void
test_push_errors_and_ucs2(void **state)
{
	struct outq *q = *state;
	char err[100];
	struct outq_seg *s;
	struct pdu p;

	assert_int_equal(outq_push(q, OUTQ_REPLY, 5, &src, &dst, "\xff\xfe", NULL,
	    err, sizeof(err)), -1);
	assert_int_equal(outq_waiting(q), 0);
	assert_int_equal(outq_push(q, OUTQ_REPLY, 6, &src, &dst, "查询", NULL,
	    err,
	    sizeof(err)), 0);
	s = outq_next(q, 0);
	outq_seg_pdu(s, &p);
	assert_int_equal(p.data_coding, DCS_UCS2);
	assert_int_equal(p.sm_len, 4);
	outq_done(q, s, ESME_OK, "u", 0);
}

/* SAR mode puts the reference in TLVs; freeing with work queued and in
 * flight (handed back first) leaks nothing. */
static void
test_sar_and_free_with_work(void **state)
{
	struct outq *q = outq_new(SEG_SAR, 0, on_final, NULL);
	char err[100], text[400];
	struct outq_seg *s;
	struct pdu p;

	(void)state;
	memset(text, 'b', 200);
	text[200] = '\0';
	assert_int_equal(outq_push(q, OUTQ_NOTIFY, 7, &src, &dst, text, NULL,
	    err,
	    sizeof(err)), 0);
	s = outq_next(q, 0);
	outq_seg_pdu(s, &p);
	assert_int_equal(p.tlvs & PDU_HAS_SAR, PDU_HAS_SAR);
	assert_int_equal(p.sar_total, 2);
	assert_int_equal(p.sar_seq, 1);
	assert_int_equal(p.esm_class, 0);
	assert_int_equal(p.registered_delivery, 0);
	outq_done(q, s, LINK_LOST, NULL, 0);
	outq_free(q);
}

/* A resumed message: parts the SMSC accepted before are not sent again,
 * and the reference is the same as before (it follows from the id). */
static void
test_resume_skips_done_parts(void **state)
{
	struct outq *q = *state;
	char err[100], text[500];
	uint8_t done[SEG_MAX_PARTS] = { 1, 0, 1 };
	struct outq_seg *s;
	struct pdu p;
	uint64_t id;
	int part;

	memset(text, 'c', sizeof(text));
	text[153 * 3 - 10] = '\0';          /* three parts */
	assert_int_equal(outq_push(q, OUTQ_REPLY, 0x1234, &src, &dst, text,
	    done, err, sizeof(err)), 0);
	assert_int_equal(outq_waiting(q), 1);
	s = outq_next(q, 0);
	outq_seg_ref(s, &id, &part);
	assert_int_equal(id, 0x1234);
	assert_int_equal(part, 2);
	outq_seg_pdu(s, &p);
	assert_int_equal(p.sm[3], (0x1234 % 65535 + 1) & 0xFF);  /* ref */
	assert_int_equal(p.sm[4], 3);                            /* total */
	assert_int_equal(p.sm[5], 2);                            /* seq */
	outq_done(q, s, ESME_OK, "x2", 0);
	assert_int_equal(finals, 1);
	assert_int_equal(last.ok, 1);
	assert_int_equal(last.resumed, 1);   /* receipts may have come */
	/* All parts done already: final at once, nothing to send. */
	memset(done, 1, 3);
	assert_int_equal(outq_push(q, OUTQ_REPLY, 7, &src, &dst, text, done,
	    err, sizeof(err)), 0);
	assert_int_equal(finals, 2);
	assert_int_equal(last.resumed, 1);
	assert_null(outq_next(q, 0));
	/* Nothing done before: not resumed. */
	memset(done, 0, 3);
	assert_int_equal(outq_push(q, OUTQ_REPLY, 8, &src, &dst, "x", done,
	    err, sizeof(err)), 0);
	s = outq_next(q, 0);
	outq_done(q, s, ESME_OK, "x8", 0);
	assert_int_equal(finals, 3);
	assert_int_equal(last.resumed, 0);
}

/* Held notifications wait; replies still go. */
static void
test_hold_class(void **state)
{
	struct outq *q = *state;
	char err[100];
	struct outq_seg *s;

	assert_int_equal(outq_push(q, OUTQ_NOTIFY, 1, &src, &dst, "n", NULL,
	    err, sizeof(err)), 0);
	outq_hold(q, OUTQ_NOTIFY, 1);
	assert_null(outq_next(q, 0));
	assert_int_equal(outq_messages(q, OUTQ_NOTIFY), 1);
	assert_int_equal(outq_push(q, OUTQ_REPLY, 2, &src, &dst, "r", NULL,
	    err, sizeof(err)), 0);
	s = outq_next(q, 0);
	assert_non_null(s);
	outq_done(q, s, ESME_OK, "r", 0);
	assert_null(outq_next(q, 0));
	outq_hold(q, OUTQ_NOTIFY, 0);
	s = outq_next(q, 0);
	assert_non_null(s);
	outq_done(q, s, ESME_OK, "n", 0);
	assert_int_equal(outq_messages(q, OUTQ_NOTIFY), 0);
}

/* A router for the tests: numbers starting 139 go to 1 then 0, 186 to 2
 * then 1, everything else to 0 only. */
static int
router(void *arg, enum outq_class cls, uint64_t id,
    const struct pdu_addr *to, uint8_t *links, int max)
{
	(void)arg;
	(void)cls;
	(void)id;
	assert_true(max >= 2);
	if (strncmp(to->addr, "139", 3) == 0) {
		links[0] = 1;
		links[1] = 0;
		return 2;
	}
	if (strncmp(to->addr, "186", 3) == 0) {
		links[0] = 2;
		links[1] = 1;
		return 2;
	}
	links[0] = 0;
	return 1;
}

static struct pdu_addr to139 = { 1, 1, "13900000001" };
static struct pdu_addr to186 = { 1, 1, "18600000001" };

static void
routed(struct outq *q)
{
	outq_set_router(q, router, NULL);
	outq_link_available(q, 1, 1);
	outq_link_available(q, 2, 1);
}

static uint64_t
seg_id(const struct outq_seg *s)
{
	uint64_t id;
	int part;

	outq_seg_ref(s, &id, &part);
	return id;
}

/* Each message waits for the first link of its route; each link serves
 * only its own messages. */
static void
test_route_by_link(void **state)
{
	struct outq *q = *state;
	char err[100];
	struct outq_seg *s;

	routed(q);
	assert_int_equal(outq_push(q, OUTQ_NOTIFY, 1, &src, &to139, "a", NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(outq_push(q, OUTQ_NOTIFY, 2, &src, &to186, "b", NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(outq_push(q, OUTQ_NOTIFY, 3, &src, &dst, "c", NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(outq_waiting_on(q, 0), 1);
	assert_int_equal(outq_waiting_on(q, 1), 1);
	assert_int_equal(outq_waiting_on(q, 2), 1);
	s = outq_next_on(q, 2, 0);
	assert_int_equal(seg_id(s), 2);
	assert_int_equal(outq_seg_link(s), 2);
	assert_null(outq_next_on(q, 2, 0));
	outq_done(q, s, ESME_OK, "x", 0);
	assert_int_equal(last.link, 2);
	s = outq_next_on(q, 1, 0);
	assert_int_equal(seg_id(s), 1);
	outq_done(q, s, ESME_OK, "y", 0);
	s = outq_next(q, 0);
	assert_int_equal(seg_id(s), 3);
	outq_done(q, s, ESME_OK, "z", 0);
	assert_int_equal(finals, 3);
	assert_null(outq_next_on(q, -1, 0));
	assert_null(outq_next_on(q, OUTQ_MAX_LINKS, 0));
}

/* A link that goes away: its waiting messages move to the next link of
 * their route, and come back when it returns; a message with no link left
 * waits parked, it does not fail. */
static void
test_failover_and_back(void **state)
{
	struct outq *q = *state;
	char err[100];
	struct outq_seg *s;

	routed(q);
	assert_int_equal(outq_push(q, OUTQ_REPLY, 1, &src, &to139, "a", NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(outq_push(q, OUTQ_REPLY, 2, &src, &dst, "b", NULL,
	    err, sizeof(err)), 0);
	outq_link_available(q, 1, 0);
	assert_int_equal(outq_waiting_on(q, 1), 0);
	assert_int_equal(outq_waiting_on(q, 0), 2);
	outq_link_available(q, 1, 1);
	assert_int_equal(outq_waiting_on(q, 1), 1);
	assert_int_equal(outq_waiting_on(q, 0), 1);
	outq_link_available(q, 0, 0);
	outq_link_available(q, 1, 0);
	assert_int_equal(outq_parked(q), 2);
	assert_null(outq_next_on(q, 0, 0));
	assert_null(outq_next_on(q, 1, 0));
	assert_int_equal(finals, 0);
	/* A new message with no link parks as well. */
	assert_int_equal(outq_push(q, OUTQ_REPLY, 3, &src, &to139, "c", NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(outq_parked(q), 3);
	outq_link_available(q, 0, 1);
	assert_int_equal(outq_parked(q), 0);
	assert_int_equal(outq_waiting_on(q, 0), 3);
	s = outq_next_on(q, 0, 0);
	assert_int_equal(seg_id(s), 2);   /* parked first */
	outq_done(q, s, ESME_OK, "x", 0);
	assert_int_equal(outq_waiting(q), 2);
}

/* Parts of one message never split between links: a message with a part
 * in flight or accepted stays where it is when its link goes away. */
static void
test_pinned_stays(void **state)
{
	struct outq *q = *state;
	char err[100], text[400];
	struct outq_seg *s1, *s2;

	routed(q);
	memset(text, 'a', 300);
	text[300] = '\0';
	assert_int_equal(outq_push(q, OUTQ_REPLY, 1, &src, &to139, text, NULL,
	    err, sizeof(err)), 0);
	s1 = outq_next_on(q, 1, 0);
	outq_link_available(q, 1, 0);             /* part 1 in flight */
	assert_int_equal(outq_waiting_on(q, 1), 1);
	outq_done(q, s1, ESME_OK, "p1", 0);       /* accepted there */
	outq_link_available(q, 1, 1);
	outq_link_available(q, 1, 0);
	assert_int_equal(outq_waiting_on(q, 1), 1);
	assert_null(outq_next_on(q, 0, 0));
	outq_link_available(q, 1, 1);
	s2 = outq_next_on(q, 1, 0);
	assert_non_null(s2);
	outq_done(q, s2, ESME_OK, "p2", 0);
	assert_int_equal(finals, 1);
	assert_string_equal(last.message_ids, "p1 p2");
	assert_int_equal(last.link, 1);

	/* Link lost with the only part in flight: nothing is out, the
	 * message may move once it is back. */
	assert_int_equal(outq_push(q, OUTQ_REPLY, 2, &src, &to139, "b", NULL,
	    err, sizeof(err)), 0);
	s1 = outq_next_on(q, 1, 0);
	outq_link_available(q, 1, 0);
	assert_int_equal(outq_waiting_on(q, 0), 0);
	outq_done(q, s1, LINK_LOST, NULL, 0);
	assert_int_equal(outq_waiting_on(q, 0), 1);
	s1 = outq_next_on(q, 0, 0);
	assert_int_equal(seg_id(s1), 2);
	outq_done(q, s1, ESME_OK, "q", 0);
	assert_int_equal(last.link, 0);

	/* A resumed message is pinned to the link that took its parts. */
	assert_int_equal(outq_push(q, OUTQ_REPLY, 3, &src, &to139, text,
	    (const uint8_t[]){ 1, 0 }, err, sizeof(err)), 0);
	outq_pin_last(q, 2);
	assert_int_equal(outq_waiting_on(q, 2), 1);
	outq_link_available(q, 2, 0);
	assert_int_equal(outq_waiting_on(q, 2), 1);
}

/* A routing error moves the message to the next link of its route, once
 * every part in flight is back; with no link left it fails with that
 * status; a message with a part accepted fails at once. */
static void
test_reroute(void **state)
{
	struct outq *q = *state;
	char err[100], text[400];
	struct outq_seg *s1, *s2;

	routed(q);
	memset(text, 'a', 300);
	text[300] = '\0';
	assert_int_equal(outq_push(q, OUTQ_REPLY, 1, &src, &to186, text, NULL,
	    err, sizeof(err)), 0);
	s1 = outq_next_on(q, 2, 0);
	s2 = outq_next_on(q, 2, 0);
	outq_reroute(q, s1, 0x0B, 0);
	assert_int_equal(outq_waiting_on(q, 1), 0);   /* s2 still out */
	outq_done(q, s2, LINK_TIMEOUT, NULL, 0);
	assert_int_equal(outq_waiting_on(q, 1), 2);
	assert_int_equal(outq_waiting(q), 2);
	s1 = outq_next_on(q, 1, 0);
	s2 = outq_next_on(q, 1, 0);
	outq_reroute(q, s2, 0x0B, 0);
	outq_reroute(q, s1, 0x0B, 0);
	/* 186 routes 2 then 1: both refused it. */
	assert_int_equal(finals, 1);
	assert_int_equal(last.ok, 0);
	assert_int_equal(last.status, 0x0B);
	assert_int_equal(outq_waiting(q), 0);
	assert_int_equal(outq_inflight(q), 0);

	assert_int_equal(outq_push(q, OUTQ_REPLY, 2, &src, &to186, text, NULL,
	    err, sizeof(err)), 0);
	s1 = outq_next_on(q, 2, 0);
	s2 = outq_next_on(q, 2, 0);
	outq_done(q, s1, ESME_OK, "p1", 0);
	outq_reroute(q, s2, 0x0B, 0);
	assert_int_equal(finals, 2);
	assert_int_equal(last.ok, 0);
	assert_int_equal(last.link, 2);

	/* Accepted while the refused part waited for it: fails too. */
	assert_int_equal(outq_push(q, OUTQ_REPLY, 3, &src, &to186, text, NULL,
	    err, sizeof(err)), 0);
	s1 = outq_next_on(q, 2, 0);
	s2 = outq_next_on(q, 2, 0);
	outq_reroute(q, s1, 0x0B, 0);
	outq_done(q, s2, ESME_OK, "p2", 0);
	assert_int_equal(finals, 3);
	assert_int_equal(last.ok, 0);
	assert_int_equal(outq_waiting(q), 0);
}

/* Links that split long texts differently: a message moved before any
 * part went out is split again for its new link. */
static void
test_mixed_modes(void **state)
{
	struct outq *q = *state;
	char err[100], text[400];
	struct outq_seg *s;
	struct pdu p;

	routed(q);
	outq_link_mode(q, 0, SEG_PAYLOAD, 0);
	memset(text, 'a', 300);
	text[300] = '\0';
	assert_int_equal(outq_push(q, OUTQ_REPLY, 1, &src, &to139, text, NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(outq_waiting_on(q, 1), 2);   /* UDH: 2 parts */
	outq_link_available(q, 1, 0);
	assert_int_equal(outq_waiting_on(q, 0), 1);   /* payload: 1 */
	assert_int_equal(outq_waiting(q), 1);
	s = outq_next_on(q, 0, 0);
	outq_seg_pdu(s, &p);
	assert_true(p.tlvs & PDU_HAS_PAYLOAD);
	assert_int_equal(p.payload_len, 300);
	assert_int_equal(p.registered_delivery, 0);
	outq_done(q, s, ESME_OK, "x", 0);
	assert_int_equal(last.parts, 1);
	assert_int_equal(outq_waiting(q), 0);
}

/* A link a reload took out: its messages move, even one with a part it
 * accepted (it will not take the rest), once nothing of it is out. */
static void
test_link_gone(void **state)
{
	struct outq *q = *state;
	char err[100], text[400];
	struct outq_seg *s1, *s2;
	struct pdu p;

	routed(q);
	memset(text, 'a', 300);
	text[300] = '\0';
	assert_int_equal(outq_push(q, OUTQ_REPLY, 1, &src, &to139, text, NULL,
	    err, sizeof(err)), 0);
	s1 = outq_next_on(q, 1, 0);
	s2 = outq_next_on(q, 1, 0);
	outq_done(q, s1, ESME_OK, "p1", 0);
	outq_link_gone(q, 1);
	assert_int_equal(outq_waiting_on(q, 0), 0);      /* part 2 is out */
	outq_done(q, s2, LINK_LOST, NULL, 0);
	assert_int_equal(outq_waiting_on(q, 1), 0);
	assert_int_equal(outq_waiting_on(q, 0), 1);
	s2 = outq_next_on(q, 0, 0);
	outq_seg_pdu(s2, &p);
	assert_int_equal(p.sm[5], 2);                      /* part 2 of 2 */
	outq_done(q, s2, ESME_OK, "p2", 0);
	assert_int_equal(finals, 1);
	assert_string_equal(last.message_ids, "p1 p2");
	/* The slot, made available again, is a new link. */
	outq_link_available(q, 1, 1);
	assert_int_equal(outq_push(q, OUTQ_REPLY, 2, &src, &to139, "b", NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(outq_waiting_on(q, 1), 1);
}

/* A message that waits past its expiry ends with LINK_EXPIRED, parked or
 * listed; one with a part in flight waits for it; no expiry, no end. */
static void
test_expire(void **state)
{
	struct outq *q = *state;
	char err[100], text[400];
	struct outq_seg *s1;

	routed(q);
	memset(text, 'a', 300);
	text[300] = '\0';
	assert_int_equal(outq_push(q, OUTQ_NOTIFY, 1, &src, &to139, "a", NULL,
	    err, sizeof(err)), 0);
	outq_set_expiry(q, 1000);
	assert_int_equal(outq_push(q, OUTQ_NOTIFY, 2, &src, &to186, text, NULL,
	    err, sizeof(err)), 0);
	outq_set_expiry(q, 1000);
	assert_int_equal(outq_push(q, OUTQ_NOTIFY, 3, &src, &dst, "c", NULL,
	    err, sizeof(err)), 0);                      /* never expires */
	outq_link_available(q, 1, 0);
	outq_link_available(q, 0, 0);                    /* 1 and 3 parked */
	s1 = outq_next_on(q, 2, 0);                      /* 2: a part out */
	assert_int_equal(outq_expire(q, 999), 0);
	assert_int_equal(outq_expire(q, 1000), 1);
	assert_int_equal(finals, 1);
	assert_int_equal(last.id, 1);
	assert_int_equal(last.ok, 0);
	assert_int_equal(last.status, LINK_EXPIRED);
	assert_int_equal(outq_parked(q), 1);
	/* Its part back, the long one expires whole. */
	outq_done(q, s1, LINK_LOST, NULL, 0);
	assert_int_equal(outq_expire(q, 2000), 1);
	assert_int_equal(finals, 2);
	assert_int_equal(last.id, 2);
	assert_int_equal(last.status, LINK_EXPIRED);
	assert_int_equal(outq_waiting(q), 1);
	assert_int_equal(outq_expire(q, 1L << 40), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replies_before_notifications,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipart_completion, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_transient_retries_permanent_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_backoff_caps, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_push_errors_and_ucs2, setup,
		    teardown),
		cmocka_unit_test(test_sar_and_free_with_work),
		cmocka_unit_test_setup_teardown(test_resume_skips_done_parts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_by_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failover_and_back, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pinned_stays, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reroute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_modes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_link_gone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_class, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
