/*
 * Case changes -> proactive notifications: the upsert and the one outbox
 * row a change calls for are written in the caller's transaction, so a
 * change is notified exactly when it is stored.
 */
#include "daemon/notify.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "daemon/privacy.h"
#include "parsers/idcard.h"
#include "proto/errf.h"

#define NOTIFY_MAX  2048    /* bytes of one rendered notification */

/* The template for a change into each status; T_COUNT: not notified. */
static const enum tmpl_id by_status[CASE_STATUS_COUNT] = {
	[CASE_ACCEPTED] = T_COUNT,
	[CASE_REVIEWING] = T_COUNT,
	[CASE_PRODUCING] = T_COUNT,
	[CASE_MAILED] = T_NOTIFY_MAILED,
	[CASE_READY] = T_NOTIFY_READY,
	[CASE_COLLECTED] = T_COUNT,
	[CASE_REJECTED] = T_NOTIFY_REJECTED,
	[CASE_APPOINTMENT] = T_NOTIFY_APPOINTMENT,
};

int
notify_status_notifies(int s)
{
	return s >= 0 && s < CASE_STATUS_COUNT && by_status[s] != T_COUNT;
}

/*
 * Renders c's notification and queues it to the case's phone in
 * international form. Returns NOTIFY_QUEUED, NOTIFY_OPTED_OUT or
 * NOTIFY_ERROR.
 */
static enum notify_result
queue(struct store *st, const struct tmpl_set *t, const struct case_rec *c,
    const char *cc, char *err, size_t errlen)
{
	char national[24], intl[32], last4[9], due[16], text[NOTIFY_MAX];
	struct tmpl_vars v;
	struct msg_rec m;
	int rc;

	if (msisdn_national(c->msisdn, cc, national, sizeof(national)) == -1) {
		errf(err, errlen, "case %s: the phone number is not one",
		    c->receipt_no);
		return NOTIFY_ERROR;
	}
	if ((rc = store_optout_get(st, national)) == -1) {
		errf(err, errlen, "case %s: reading opt-outs: %s",
		    c->receipt_no, sqlite3_errmsg(store_db(st)));
		return NOTIFY_ERROR;
	}
	if (rc == 1)
		return NOTIFY_OPTED_OUT;

	memset(&v, 0, sizeof(v));
	idcard_mask(c->id_number, last4);
	(void)case_deadline(c->submitted_at, due, sizeof(due));
	v.v[TV_REF] = c->receipt_no;
	v.v[TV_ID_LAST4] = last4;
	/* A citizen's language is unknown here: the service's default. */
	v.v[TV_STATUS] = tmpl_status(t, c->status, LANG_ZH);
	v.v[TV_DEADLINE] = due;
	v.v[TV_COURIER] = c->courier;
	v.v[TV_TRACKING_NO] = c->tracking_no;
	v.v[TV_PLACE] = c->pickup_place;
	v.v[TV_REASON] = c->reason;
	v.v[TV_APPOINTMENT] = c->appointment;
	if (tmpl_render(t, by_status[c->status], LANG_ZH, &v, text,
	    sizeof(text)) == -1) {
		errf(err, errlen, "case %s: %s is longer than %d bytes",
		    c->receipt_no, tmpl_name(by_status[c->status]),
		    NOTIFY_MAX - 1);
		return NOTIFY_ERROR;
	}
	snprintf(intl, sizeof(intl), "%s%s", cc, national);

	memset(&m, 0, sizeof(m));
	m.outbound = 1;
	m.cls = OUTBOX_NOTIFY;
	m.msisdn = intl;
	m.ton = 1;                  /* international */
	m.npi = 1;                  /* E.164 */
	m.text = text;
	if (store_msg_add(st, &m, err, errlen) == -1)
		return NOTIFY_ERROR;
	return NOTIFY_QUEUED;
}

enum notify_result
notify_case_update(struct store *st, const struct tmpl_set *t,
    const struct case_rec *c, const char *cc, int notify, int *prev_status,
    char *err, size_t errlen)
{
	struct case_rec old;
	int found, prev;

	if (c->status < 0 || c->status >= CASE_STATUS_COUNT) {
		errf(err, errlen, "case %s: status %d out of range",
		    c->receipt_no, c->status);
		return NOTIFY_ERROR;
	}
	if ((found = store_case_by_receipt(st, c->receipt_no, &old)) == -1) {
		errf(err, errlen, "case %s: reading it: %s", c->receipt_no,
		    sqlite3_errmsg(store_db(st)));
		return NOTIFY_ERROR;
	}
	prev = found ? old.status : -1;
	if (prev_status != NULL)
		*prev_status = prev;
	if (store_case_upsert(st, c, err, errlen) == -1)
		return NOTIFY_ERROR;
	/* Only a change is news: the same status again queues nothing. */
	if (!notify || prev == c->status || !notify_status_notifies(c->status))
		return NOTIFY_NONE;
	return queue(st, t, c, cc, err, errlen);
}
