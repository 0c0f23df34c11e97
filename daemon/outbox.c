/*
 * Outbox: between the store's outbound rows and the in-memory send queue.
 * Replies are pushed by the gateway as soon as their batch commits, so the
 * cursor scan here skips them except at start-up; notifications come only
 * through the scan, a bounded number at a time, so a bulk of 100,000 never
 * sits in memory and never gets ahead of replies.
 *
 * A reply's row is written 'submitted' with the text it answers, and only
 * its parts are recorded as the SMSC accepts them: the hot path updates no
 * message row. Until every part has an outcome the message is "open"; the
 * store's outbox mark is kept at or below the oldest open one, so a start
 * after a crash checks the rows from the mark on and sends what is
 * missing (outbox_fill). The mark is written every MARK_STEP ids and when
 * the daemon stops: the rows a start checks stay few.
 */
#include "daemon/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/privacy.h"
#include "daemon/link/link.h"

/* Messages remembered as retried once (a restart forgets: at worst one
 * more try). */
#define RETRIED_RING 1024

/* The stored mark moves once it is this many ids behind. */
#define MARK_STEP 1024

struct open_msg {
	int64_t id;
	int     done;
};

struct outbox {
	struct store     *st;
	struct outq      *q;
	struct pdu_addr   source;
	char              cc[5];
	int               retry_undelivered;
	int               validity_h;
	size_t            notify_max;
	int             (*link_slot)(void *, const char *);
	void             *link_arg;
	int64_t           cursor;        /* last notification row looked at */
	int64_t           data_version;
	int               startup;
	int               loaded;
	int               more;          /* the last fill left rows behind */
	int64_t           force_id;      /* load this row whatever its class */
	int64_t           retried[RETRIED_RING];  /* retried once already */
	size_t            retried_next;
	/* Open messages by ascending id in open[head .. head + n); done ones
	 * leave once nothing older is open. */
	struct open_msg  *open;
	size_t            open_head, open_n, open_cap;
	int64_t           open_next;     /* past the newest opened */
	int64_t           mark_stored;   /* the store's mark, as last written */
};

static int settle(struct outbox *, int64_t, int, int);

struct outbox *
outbox_new(struct store *st, struct outq *q, const struct outbox_cfg *cfg)
{
	struct outbox *ob = calloc(1, sizeof(*ob));

	if (ob == NULL)
		return NULL;
	ob->st = st;
	ob->q = q;
	ob->source = *cfg->source;
	snprintf(ob->cc, sizeof(ob->cc), "%s", cfg->country_code);
	ob->retry_undelivered = cfg->retry_undelivered;
	ob->validity_h = cfg->validity_h;
	ob->notify_max = cfg->notify_in_memory;
	ob->link_slot = cfg->link_slot;
	ob->link_arg = cfg->link_arg;
	ob->data_version = store_data_version(st);
	if ((ob->mark_stored = store_outbox_mark(st)) < 1) {
		log_err("outbox: cannot read the outbox mark");
		free(ob);
		return NULL;
	}
	ob->open_next = ob->mark_stored;
	return ob;
}

void
outbox_free(struct outbox *ob)
{
	if (ob != NULL)
		free(ob->open);
	free(ob);
}

/* Index in open[] of the first entry with id >= id. */
static size_t
open_find(const struct outbox *ob, int64_t id)
{
	size_t lo = ob->open_head, hi = ob->open_head + ob->open_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ob->open[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Opens id (normally newer than every open one: ids only grow). */
static int
open_add(struct outbox *ob, int64_t id)
{
	size_t at;

	if (ob->open_head + ob->open_n == ob->open_cap) {
		if (ob->open_head > 0 && ob->open_head >= ob->open_cap / 2) {
			memmove(ob->open, ob->open + ob->open_head,
			    ob->open_n * sizeof(*ob->open));
			ob->open_head = 0;
		} else {
			size_t cap = ob->open_cap ? ob->open_cap * 2 : 256;
			struct open_msg *p = realloc(ob->open,
			    cap * sizeof(*p));

			if (p == NULL)
				return -1;
			ob->open = p;
			ob->open_cap = cap;
		}
	}
	at = open_find(ob, id);
	if (at < ob->open_head + ob->open_n && ob->open[at].id == id)
		return 0;
	memmove(ob->open + at + 1, ob->open + at,
	    (ob->open_head + ob->open_n - at) * sizeof(*ob->open));
	ob->open[at].id = id;
	ob->open[at].done = 0;
	ob->open_n++;
	if (id >= ob->open_next)
		ob->open_next = id + 1;
	return 0;
}

/* 1 if id is open: a reply some of whose parts have no outcome yet. */
static int
open_has(const struct outbox *ob, int64_t id)
{
	size_t at = open_find(ob, id);

	return at < ob->open_head + ob->open_n && ob->open[at].id == id &&
	    !ob->open[at].done;
}

/* Closes id; 1 if it was open. */
static int
open_close(struct outbox *ob, int64_t id)
{
	size_t at = open_find(ob, id);

	if (at == ob->open_head + ob->open_n || ob->open[at].id != id ||
	    ob->open[at].done)
		return 0;
	ob->open[at].done = 1;
	while (ob->open_n > 0 && ob->open[ob->open_head].done) {
		ob->open_head++;
		ob->open_n--;
	}
	if (ob->open_n == 0)
		ob->open_head = 0;
	return 1;
}

int64_t
outbox_low(const struct outbox *ob)
{
	return ob->open_n > 0 ? ob->open[ob->open_head].id : ob->open_next;
}

int
outbox_sync_mark(struct outbox *ob, int force)
{
	int64_t low = outbox_low(ob);
	char err[200];

	if (low <= ob->mark_stored ||
	    (!force && low - ob->mark_stored < MARK_STEP))
		return 0;
	if (store_outbox_set_mark(ob->st, low, err, sizeof(err)) == -1) {
		/* The stored mark lags: a start checks more rows, no more. */
		log_err("outbox mark: %s", err);
		return -1;
	}
	ob->mark_stored = low;
	return 0;
}

static int
fail_row(struct outbox *ob, int64_t id, int state, int attempts,
    const char *why)
{
	char err[200];

	metrics_add(M_OUTBOUND, outbox_state_name(state), 1);
	if (store_outbox_state(ob->st, id, state, attempts, why, err,
	    sizeof(err)) == -1) {
		log_err("outbox id=%lld: %s", (long long)id, err);
		return -1;
	}
	return 0;
}

static int
load_row(void *arg, const struct outbox_row *r)
{
	struct outbox *ob = arg;
	uint8_t done[SEG_MAX_PARTS];
	int states[SEG_MAX_PARTS];
	struct pdu_addr dst;
	char err[200], national[24];

	if (r->id == ob->force_id || ob->startup == 2) {
		;                  /* a retry, or open past the mark: load it */
	} else if (r->cls == OUTBOX_NOTIFY) {
		if (ob->startup == 1)
			return 0;            /* the replies pass */
		if (outq_messages(ob->q, OUTQ_NOTIFY) >= ob->notify_max) {
			ob->more = 1;
			return -1;           /* full: the cursor stays here */
		}
		ob->cursor = r->id;
	} else if (!ob->startup) {
		ob->cursor = r->id;          /* pushed when its batch committed */
		return 0;
	}
	if (r->state != OB_QUEUED && ob->startup != 2)
		return 0;                    /* every part accepted: receipts */
	if (time(NULL) - r->at > (int64_t)ob->validity_h * 3600) {
		log_warn("outbox id=%lld expired unsent after %d h",
		    (long long)r->id, ob->validity_h);
		return fail_row(ob, r->id, OB_EXPIRED, r->attempts,
		    "VALIDITY_EXPIRED") == -1 ? -1 : 0;
	}
	if (r->cls == OUTBOX_NOTIFY && r->state == OB_QUEUED &&
	    msisdn_national(r->msisdn, ob->cc,
	    national, sizeof(national)) == 0 &&
	    store_optout_get(ob->st, national) == 1) {
		log_info("outbox id=%lld not sent: the number opted out",
		    (long long)r->id);
		return fail_row(ob, r->id, OB_FAILED, r->attempts, "OPTED_OUT")
		    == -1 ? -1 : 0;
	}
	if (store_outbox_part_states(ob->st, r->id, states, SEG_MAX_PARTS)
	    == -1)
		return -1;
	for (int i = 0; i < SEG_MAX_PARTS; i++)
		done[i] = states[i] >= 0;
	if (r->state == OB_SUBMITTED) {
		/* Past the mark: open only if a part is still unsent. */
		int parts = outq_parts(ob->q, r->text), i = 0;

		while (i < parts && done[i])
			i++;
		if (parts > 0 && i == parts)
			return 0;
		if (open_add(ob, r->id) == -1)
			return -1;
	}
	memset(&dst, 0, sizeof(dst));
	dst.ton = (uint8_t)r->ton;
	dst.npi = (uint8_t)r->npi;
	if (strlen(r->msisdn) >= sizeof(dst.addr)) {
		/* Truncating would send someone else's notice elsewhere. */
		log_err("outbox id=%lld: destination longer than %zu digits",
		    (long long)r->id, sizeof(dst.addr) - 1);
		return fail_row(ob, r->id, OB_FAILED, r->attempts,
		    "BAD_DESTINATION") == -1 ? -1 : 0;
	}
	memcpy(dst.addr, r->msisdn, strlen(r->msisdn) + 1);
	if (outq_push(ob->q, r->cls == OUTBOX_NOTIFY ? OUTQ_NOTIFY :
	    OUTQ_REPLY, (uint64_t)r->id, &ob->source, &dst, r->text, done, err,
	    sizeof(err)) == -1) {
		log_err("outbox id=%lld cannot be sent: %s", (long long)r->id,
		    err);
		(void)open_close(ob, r->id);
		return fail_row(ob, r->id, OB_FAILED, r->attempts,
		    "ENCODE_FAILED") == -1 ? -1 : 0;
	}
	outq_set_expiry(ob->q, r->at + (int64_t)ob->validity_h * 3600);
	/* Parts accepted before a restart: the rest go the same way. */
	if (ob->link_slot != NULL && memchr(done, 1, SEG_MAX_PARTS) != NULL) {
		char link[32];
		int slot;

		if (store_outbox_part_link(ob->st, r->id, link, sizeof(link))
		    == 1 && (slot = ob->link_slot(ob->link_arg, link)) >= 0)
			outq_pin_last(ob->q, slot);
	}
	ob->loaded++;
	return 0;
}

int
outbox_fill(struct outbox *ob, int startup)
{
	int n, limit;

	ob->loaded = 0;
	if (startup) {
		/* Pass 0: rows past the mark that a crash left with parts
		 * unsent; pass 1: every queued reply; pass 2: notifications. */
		ob->startup = 2;
		if (store_outbox_scan_open(ob->st, ob->mark_stored, -1,
		    load_row, ob) == -1)
			return -1;
		ob->startup = 1;
		if (store_outbox_scan_queued(ob->st, 0, -1, load_row, ob) ==
		    -1)
			return -1;
		ob->cursor = 0;
	}
	ob->startup = 0;
	if (outq_messages(ob->q, OUTQ_NOTIFY) >= ob->notify_max) {
		ob->more = 1;                /* full: fill again as it drains */
		return ob->loaded;
	}
	limit = (int)(ob->notify_max - outq_messages(ob->q, OUTQ_NOTIFY)) * 4 +
	    64;
	ob->more = 0;                    /* load_row sets it if it fills up */
	n = store_outbox_scan_queued(ob->st, ob->cursor, limit, load_row, ob);
	if (n == -1 || n >= limit)
		ob->more = 1;
	return n == -1 ? -1 : ob->loaded;
}

int
outbox_more(const struct outbox *ob)
{
	return ob->more;
}

int
outbox_poll(struct outbox *ob)
{
	int64_t v = store_data_version(ob->st);

	if (v == ob->data_version)
		return 0;
	ob->data_version = v;
	return 1;
}

int
outbox_part_done(struct outbox *ob, const char *link, uint64_t msg_id,
    int part, uint32_t status, const char *smsc_id)
{
	char err[200];

	if (status != ESME_OK)
		return 0;    /* the message outcome says it (outbox_final) */
	if (store_outbox_part_on(ob->st, (int64_t)msg_id, part, OB_SUBMITTED,
	    smsc_id, NULL, link, err, sizeof(err)) == -1) {
		log_err("outbox id=%llu part %d: %s", (unsigned long long)msg_id,
		    part, err);
		return -1;
	}
	return 0;
}

int
outbox_reply(struct outbox *ob, uint64_t id, const struct pdu_addr *src,
    const struct pdu_addr *dst, const char *text, char *err, size_t errlen)
{
	if (open_add(ob, (int64_t)id) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (outq_push(ob->q, OUTQ_REPLY, id, src, dst, text, NULL, err,
	    errlen) == -1) {
		(void)open_close(ob, (int64_t)id);
		return -1;
	}
	outq_set_expiry(ob->q, (int64_t)time(NULL) +
	    (int64_t)ob->validity_h * 3600);
	return 0;
}

int
outbox_reply_failed(struct outbox *ob, uint64_t id)
{
	return fail_row(ob, (int64_t)id, OB_FAILED, 0, "ENCODE_FAILED");
}

int
outbox_final(struct outbox *ob, const struct outq_msg_info *m)
{
	int was_open = open_close(ob, (int64_t)m->id);

	if (!m->ok && m->status == LINK_EXPIRED) {
		log_warn("outbox id=%llu expired unsent after %d h",
		    (unsigned long long)m->id, ob->validity_h);
		return fail_row(ob, (int64_t)m->id, OB_EXPIRED, m->attempts,
		    "VALIDITY_EXPIRED");
	}
	if (!m->ok)
		return fail_row(ob, (int64_t)m->id, OB_FAILED, m->attempts,
		    link_status_name(m->status));
	/* Its row says submitted already and its one part row has the
	 * SMSC's id: nothing to write. */
	if (was_open && m->parts == 1 && !m->resumed) {
		metrics_add(M_OUTBOUND, outbox_state_name(OB_SUBMITTED), 1);
		return 0;
	}
	if (fail_row(ob, (int64_t)m->id, OB_SUBMITTED, m->attempts, NULL) ==
	    -1)
		return -1;
	/* Receipts may have come before the last part was accepted (they
	 * only recorded their part): now every part is, so they decide. Not
	 * for a one-part message this process submitted: its receipt can
	 * only follow the submit_sm_resp that brought us here. */
	if (m->parts == 1 && !m->resumed)
		return 0;
	return settle(ob, (int64_t)m->id, m->parts, m->attempts);
}

static int
was_retried(struct outbox *ob, int64_t id)
{
	for (size_t i = 0; i < RETRIED_RING; i++)
		if (ob->retried[i] == id)
			return 1;
	return 0;
}

/*
 * A part was not delivered. With retry_undelivered the whole message is
 * queued once more (parts and all: the phone needs a whole set), else it
 * fails with the receipt's state.
 */
static int
undelivered(struct outbox *ob, int64_t msg, int state, const char *stat)
{
	char err[200];
	int mstate, attempts, rc;

	if (store_outbox_get(ob->st, msg, &mstate, &attempts) != 1)
		return -1;
	if (!ob->retry_undelivered || was_retried(ob, msg))
		return fail_row(ob, msg, state, attempts, stat);
	ob->retried[ob->retried_next++ % RETRIED_RING] = msg;
	log_info("outbox id=%lld %s: one more try", (long long)msg, stat);
	if (store_outbox_requeue(ob->st, msg, err, sizeof(err)) == -1) {
		log_err("outbox id=%lld: %s", (long long)msg, err);
		return -1;
	}
	/* Back into the queue now, whatever its class. */
	ob->force_id = msg;
	rc = store_outbox_scan(ob->st, msg - 1, 1, load_row, ob);
	ob->force_id = 0;
	return rc == -1 ? -1 : 0;
}

/*
 * A message's outcome from its parts, once the SMSC has accepted all of
 * them (parts, or with 0 as many as are recorded, which then is all):
 * delivered when every part has a delivered receipt, the undelivered rules
 * as soon as one part failed or expired, else still waiting (no write).
 * Receipts come in any order, some before the last part is even accepted;
 * only the whole set decides. attempts -1 keeps the recorded count.
 */
static int
settle(struct outbox *ob, int64_t id, int parts, int attempts)
{
	int states[SEG_MAX_PARTS], delivered = 0;
	char stat[16];

	if (store_outbox_part_states(ob->st, id, states, SEG_MAX_PARTS) == -1)
		return -1;
	if (parts == 0)
		for (int i = 0; i < SEG_MAX_PARTS; i++)
			if (states[i] >= 0)
				parts = i + 1;
	for (int i = 0; i < parts; i++) {
		if (states[i] == OB_DELIVERED) {
			delivered++;
		} else if (states[i] == OB_FAILED || states[i] == OB_EXPIRED) {
			if (store_outbox_part_status(ob->st, id, i + 1, stat,
			    sizeof(stat)) == -1)
				return -1;
			return undelivered(ob, id, states[i], stat[0] != '\0' ?
			    stat : outbox_state_name(states[i]));
		}
	}
	if (parts > 0 && delivered == parts)
		return fail_row(ob, id, OB_DELIVERED, attempts, "DELIVRD");
	return 0;
}

int
outbox_receipt(struct outbox *ob, const char *link, const struct dlr *d)
{
	char ids[3][PDU_MSGID_MAX], err[200];
	const char *stat;
	int64_t msg = 0;
	int part = 0, found = 0, n, state, mstate, attempts;

	n = dlr_id_variants(d->id, ids);
	for (int i = 0; i < n && !found; i++)
		if ((found = store_outbox_by_link_id(ob->st, link, ids[i],
		    &msg, &part)) == -1)
			return -1;
	if (!found) {
		log_info("receipt link=%s smsc_id=%s stat=%s matches no "
		    "message", link != NULL ? link : "-", d->id,
		    dlr_state_name(d->state));
		return 0;
	}
	switch (d->state) {
	case DLR_DELIVERED:
		state = OB_DELIVERED;
		break;
	case DLR_EXPIRED:
		state = OB_EXPIRED;
		break;
	case DLR_UNDELIVERABLE:
	case DLR_REJECTED:
	case DLR_DELETED:
	case DLR_UNKNOWN:
		state = OB_FAILED;
		break;
	default:
		return 0;                    /* en route, accepted: no news */
	}
	/* A gateway's own code (CMPP's MA:0001, ...) is kept verbatim; the
	 * usual words are kept in their standard spelling. */
	stat = d->stat[0] != '\0' &&
	    dlr_state_from_stat(d->stat) == DLR_UNKNOWN_STATE ? d->stat :
	    dlr_state_name(d->state);
	log_info("receipt id=%lld part=%d smsc_id=%s stat=%s", (long long)msg,
	    part, d->id, stat);
	if (store_outbox_part(ob->st, msg, part, state, NULL, stat, err,
	    sizeof(err)) == -1) {
		log_err("receipt id=%lld: %s", (long long)msg, err);
		return -1;
	}
	if ((found = store_outbox_get(ob->st, msg, &mstate, &attempts)) != 1)
		return found;
	/*
	 * While the SMSC has not accepted every part (the row is queued, or
	 * an open reply), the receipt only records its part: the last
	 * submit_sm_resp settles the message (outbox_final). A message that
	 * is finished keeps its outcome: a repeated receipt changes nothing.
	 */
	if (mstate != OB_SUBMITTED || open_has(ob, msg))
		return 0;
	return settle(ob, msg, 0, -1);
}
