/*
 * Reply decisions. The privacy rules of DOMAIN.md live here: case details
 * only to the registered phone; one fixed reply for "no such case" and
 * "not your case"; the same loss-report wording for every phone that is not
 * the holder's; ID numbers and names masked in replies and logs.
 */
#include "daemon/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/conf.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/privacy.h"
#include "daemon/ratelimit.h"
#include "daemon/store.h"
#include "daemon/templates.h"
#include "parsers/idcard.h"


struct pipeline {
	struct store      *st;
	struct intent_set *intents;
	struct tmpl_set   *tmpl;
	struct ratelimit  *rl;
	char               cc[5];
	int                max_chars;
	int                log_bodies;
};

/* What one handling decided, before rendering. */
struct outcome {
	enum tmpl_id     id;
	struct tmpl_vars v;              /* point into the fields below */
	struct case_rec  c;
	char             last4[9], name[64], deadline[32], ref[33];
};

static int
load_sets(const struct conf *c, struct intent_set **is, struct tmpl_set **ts,
    char *errs, size_t errlen)
{
	size_t used;

	*is = intent_load(c->parsers.patterns, errs, errlen);
	used = errs != NULL ? strlen(errs) : 0;
	*ts = tmpl_load(c->templates.path, errs != NULL ? errs + used : NULL,
	    errlen - used);
	if (*is == NULL || *ts == NULL) {
		intent_free(*is);
		tmpl_free(*ts);
		return -1;
	}
	return 0;
}

int
pipeline_check(const struct conf *c, char *errs, size_t errlen)
{
	struct intent_set *is;
	struct tmpl_set *ts;
	int n = 0;

	if (load_sets(c, &is, &ts, errs, errlen) == -1) {
		for (const char *p = errs; p != NULL && *p != '\0'; p++)
			n += *p == '\n';
		return n > 0 ? n : 1;
	}
	intent_free(is);
	tmpl_free(ts);
	return 0;
}

struct pipeline *
pipeline_new(const struct conf *c, struct store *st, char *errs,
    size_t errlen)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		snprintf(errs, errlen, "out of memory\n");
		return NULL;
	}
	p->st = st;
	if (load_sets(c, &p->intents, &p->tmpl, errs, errlen) == -1 ||
	    (p->rl = ratelimit_new((unsigned)c->limits.per_sender_per_hour))
	    == NULL) {
		pipeline_free(p);
		return NULL;
	}
	snprintf(p->cc, sizeof(p->cc), "%s", c->locale.country_code);
	p->max_chars = c->limits.max_text_chars;
	p->log_bodies = c->log.bodies;
	return p;
}

void
pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	intent_free(p->intents);
	tmpl_free(p->tmpl);
	ratelimit_free(p->rl);
	free(p);
}

const struct tmpl_set *
pipeline_templates(const struct pipeline *p)
{
	return p->tmpl;
}

int
pipeline_reload(struct pipeline *p, const struct conf *c, char *errs,
    size_t errlen)
{
	struct intent_set *is;
	struct tmpl_set *ts;

	if (load_sets(c, &is, &ts, errs, errlen) == -1)
		return -1;
	intent_free(p->intents);
	tmpl_free(p->tmpl);
	p->intents = is;
	p->tmpl = ts;
	ratelimit_set(p->rl, (unsigned)c->limits.per_sender_per_hour);
	snprintf(p->cc, sizeof(p->cc), "%s", c->locale.country_code);
	p->max_chars = c->limits.max_text_chars;
	p->log_bodies = c->log.bodies;
	return 0;
}

/* The local date of t; localtime_r once a minute at most (every zone's
 * midnight falls on a whole minute). */
static long
yyyymmdd(time_t t)
{
	static time_t minute = -1;
	static long date;
	struct tm tm;

	if (t / 60 == minute)
		return date;
	localtime_r(&t, &tm);
	minute = t / 60;
	date = (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
	return date;
}

static void
set_id(struct outcome *o, const char *id)
{
	idcard_mask(id, o->last4);
	o->v.v[TV_ID_LAST4] = o->last4;
}

/*
 * The reply to an ID number that idcard_check refused, by intent and by
 * why: a citizen who typed a digit too few or too many, or a wrong birth
 * date, is told so; anything else (the check character, a letter inside)
 * gets the intent's invalid_id reply. Only the last four characters are
 * shown.
 */
static void
invalid_id(struct outcome *o, const struct intent_match *m)
{
	static const struct {
		enum tmpl_id length, date, other;
	} by_intent[INTENT_COUNT] = {
		[INTENT_QUERY] = { T_QUERY_ID_LENGTH, T_QUERY_ID_DATE,
		    T_QUERY_INVALID_ID },
		[INTENT_REPORT_LOSS] = { T_LOSS_ID_LENGTH, T_LOSS_ID_DATE,
		    T_LOSS_INVALID_ID },
		[INTENT_FOUND] = { T_FOUND_ID_LENGTH, T_FOUND_ID_DATE,
		    T_FOUND_INVALID_ID },
	};

	set_id(o, m->id);
	switch (m->id_error) {
	case IDCARD_BAD_LENGTH:
		o->id = by_intent[m->intent].length;
		break;
	case IDCARD_BAD_DATE:
		o->id = by_intent[m->intent].date;
		break;
	default:
		o->id = by_intent[m->intent].other;
		break;
	}
}

static int
query(struct pipeline *p, const struct intent_match *m, const char *sender,
    enum lang lang, time_t now, struct outcome *o)
{
	static const enum tmpl_id by_status[CASE_STATUS_COUNT] = {
		[CASE_ACCEPTED] = T_QUERY_STATUS,
		[CASE_REVIEWING] = T_QUERY_STATUS,
		[CASE_PRODUCING] = T_QUERY_STATUS,
		[CASE_MAILED] = T_QUERY_MAILED,
		[CASE_READY] = T_QUERY_READY,
		[CASE_COLLECTED] = T_QUERY_COLLECTED,
		[CASE_REJECTED] = T_QUERY_REJECTED,
		[CASE_APPOINTMENT] = T_QUERY_APPOINTMENT,
	};
	struct case_rec *c = &o->c;
	long due;
	int rc;

	if (m->id_state == ID_INVALID) {
		invalid_id(o, m);
		return 0;
	}
	if (m->id_state == ID_VALID)
		rc = store_case_latest_by_id(p->st, m->id, c);
	else if (m->receipt[0] != '\0')
		rc = store_case_by_receipt(p->st, m->receipt, c);
	else {
		o->id = T_QUERY_MISSING;
		return 0;
	}
	if (rc == -1)
		return -1;
	if (rc == 0 || !msisdn_same(c->msisdn, sender, p->cc)) {
		o->id = T_QUERY_PRIVACY;    /* the same for both: no oracle */
		return 0;
	}
	if (c->status < 0 || c->status >= CASE_STATUS_COUNT) {
		o->id = T_QUERY_PRIVACY;    /* a damaged row tells nothing */
		return 0;
	}
	set_id(o, c->id_number);
	due = case_deadline(c->submitted_at, o->deadline, sizeof(o->deadline));
	o->v.v[TV_REF] = c->receipt_no;
	o->v.v[TV_STATUS] = tmpl_status(p->tmpl, c->status, lang);
	o->v.v[TV_DEADLINE] = o->deadline;
	o->v.v[TV_COURIER] = c->courier;
	o->v.v[TV_TRACKING_NO] = c->tracking_no;
	o->v.v[TV_PLACE] = c->pickup_place;
	o->v.v[TV_REASON] = c->reason;
	o->v.v[TV_APPOINTMENT] = c->appointment;
	o->id = by_status[c->status];
	/* Not mailed or ready by the legal deadline: say so. */
	if (o->id == T_QUERY_STATUS && due != 0 && yyyymmdd(now) > due)
		o->id = T_QUERY_OVERDUE;
	return 0;
}

static int
same_name(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

static int
report_loss(struct pipeline *p, const struct intent_match *m,
    const char *sender, struct outcome *o, char *err, size_t errlen)
{
	struct case_rec c;
	struct loss_rec open, added;
	int found, have_open, holder;

	if (m->id_state == ID_INVALID) {
		invalid_id(o, m);
		return 0;
	}
	if (m->id_state == ID_VALID)
		set_id(o, m->id);
	if (m->id_state != ID_VALID || m->name[0] == '\0') {
		o->id = T_LOSS_MISSING;
		return 0;
	}
	if ((found = store_case_latest_by_id(p->st, m->id, &c)) == -1 ||
	    (have_open = store_loss_open(p->st, m->id, &open)) == -1)
		return -1;
	holder = found && same_name(c.name, m->name) &&
	    msisdn_same(c.msisdn, sender, p->cc);
	if (!holder) {
		/* Recorded for the station to confirm; the wording is the
		 * same whether or not a case or a report exists. */
		if (!have_open && store_loss_add(p->st, m->id, sender,
		    LOSS_PENDING, &added, err, errlen) == -1)
			return -1;
		o->id = T_LOSS_PENDING;
		return 0;
	}
	if (have_open && open.state == LOSS_EFFECTIVE) {
		snprintf(o->ref, sizeof(o->ref), "%s", open.ref);
		o->id = T_LOSS_ALREADY;
	} else if (have_open) {
		if (store_loss_set_state(p->st, open.id, LOSS_EFFECTIVE, err,
		    errlen) == -1)
			return -1;
		snprintf(o->ref, sizeof(o->ref), "%s", open.ref);
		o->id = T_LOSS_EFFECTIVE;
	} else {
		if (store_loss_add(p->st, m->id, sender, LOSS_EFFECTIVE, &added,
		    err, errlen) == -1)
			return -1;
		snprintf(o->ref, sizeof(o->ref), "%s", added.ref);
		o->id = T_LOSS_EFFECTIVE;
	}
	o->v.v[TV_REF] = o->ref;
	mask_name(c.name, o->name, sizeof(o->name));
	o->v.v[TV_NAME_MASKED] = o->name;
	return 0;
}

static int
found_card(struct pipeline *p, const struct intent_match *m,
    const char *sender, struct outcome *o, char *err, size_t errlen)
{
	struct case_rec c;
	struct loss_rec open;
	int found, have_open;

	if (m->id_state == ID_INVALID) {
		invalid_id(o, m);
		return 0;
	}
	if (m->id_state != ID_VALID) {
		o->id = T_FOUND_MISSING;
		return 0;
	}
	set_id(o, m->id);
	if ((found = store_case_latest_by_id(p->st, m->id, &c)) == -1 ||
	    (have_open = store_loss_open(p->st, m->id, &open)) == -1)
		return -1;
	if (!found || !have_open || !msisdn_same(c.msisdn, sender, p->cc)) {
		o->id = T_FOUND_NONE;
		return 0;
	}
	if (store_loss_set_state(p->st, open.id, LOSS_RELEASED, err,
	    errlen) == -1)
		return -1;
	snprintf(o->ref, sizeof(o->ref), "%s", open.ref);
	o->v.v[TV_REF] = o->ref;
	o->id = T_FOUND_RELEASED;
	return 0;
}

int
pipeline_handle(struct pipeline *p, const struct inbound *in, int answer,
    time_t now, struct reply *r, char *err, size_t errlen)
{
	struct intent_match m;
	struct outcome o;
	struct msg_rec rec;
	enum rl_verdict verdict;
	char sender[24], masked[32];
	int rc = 0;

	memset(r, 0, sizeof(*r));
	memset(&o, 0, sizeof(o));
	if (msisdn_national(in->src.addr, p->cc, sender, sizeof(sender)) == -1)
		snprintf(sender, sizeof(sender), "%s", in->src.addr);
	intent_match(p->intents, in->text, in->len, (size_t)p->max_chars, &m);
	r->intent = m.intent;
	metrics_add(M_INBOUND_TEXTS, intent_name(m.intent), 1);

	memset(&rec, 0, sizeof(rec));
	rec.msisdn = in->src.addr;
	rec.ton = in->src.ton;
	rec.npi = in->src.npi;
	rec.text = in->text;
	rec.intent = intent_name(m.intent);
	if ((r->in_id = store_msg_add(p->st, &rec, err, errlen)) == -1)
		return -1;
	if (!answer) {
		r->outcome = "not_answered";
		log_info("text from=%s ton=%d intent=%s outcome=not_answered",
		    in->src.addr[0] != '\0' ? "(not a phone)" : "-", in->src.ton,
		    intent_name(m.intent));
		return 0;
	}

	verdict = ratelimit_hit(p->rl, sender, now);
	if (verdict == RL_SILENT) {
		r->outcome = "limit.silent";
	} else if (verdict == RL_WARN) {
		o.id = T_RATE_LIMITED;
	} else {
		switch (m.intent) {
		case INTENT_QUERY:
			rc = query(p, &m, sender, m.lang, now, &o);
			break;
		case INTENT_REPORT_LOSS:
			rc = report_loss(p, &m, sender, &o, err, errlen);
			break;
		case INTENT_FOUND:
			rc = found_card(p, &m, sender, &o, err, errlen);
			break;
		case INTENT_HELP:
			o.id = T_HELP;
			break;
		case INTENT_STOP:
		case INTENT_START:
			rc = store_optout_set(p->st, sender,
			    m.intent == INTENT_STOP, err, errlen);
			o.id = m.intent == INTENT_STOP ? T_STOP : T_START;
			break;
		default:
			o.id = T_UNKNOWN;
			break;
		}
	}
	if (rc == -1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "store query failed");
		return -1;
	}
	mask_msisdn(sender, masked, sizeof(masked));
	if (verdict != RL_SILENT) {
		r->outcome = tmpl_name(o.id);
		if (tmpl_render(p->tmpl, o.id, m.lang, &o.v, r->text,
		    sizeof(r->text)) < 0) {
			snprintf(err, errlen, "reply %s does not fit",
			    r->outcome);
			return -1;
		}
		memset(&rec, 0, sizeof(rec));
		rec.outbound = 1;
		rec.msisdn = in->src.addr;
		rec.ton = in->src.ton;
		rec.npi = in->src.npi;
		rec.text = r->text;
		rec.reply_to = r->in_id;
		/* The gateway sends it as this batch commits (outbox mark). */
		rec.state = OB_SUBMITTED;
		if ((r->out_id = store_msg_add(p->st, &rec, err, errlen)) == -1)
			return -1;
		r->send = 1;
	}
	log_info("text from=%s intent=%s lang=%s id=%s outcome=%s", masked,
	    intent_name(m.intent), lang_name(m.lang),
	    m.id_state == ID_ABSENT ? "-" : o.last4[0] ? o.last4 : "****",
	    r->outcome);
	if (p->log_bodies) {
		char shown[REPLY_MAX];

		mask_text(in->text, m.name, shown, sizeof(shown));
		log_info("text from=%s body=\"%s\"", masked, shown);
		if (r->send) {
			mask_text(r->text, NULL, shown, sizeof(shown));
			log_info("reply to=%s body=\"%s\"", masked, shown);
		}
	}
	return 0;
}
