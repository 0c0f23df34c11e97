/*
 * Gateway: owns the carrier links, the store, the pipeline, the reassembly
 * table and the send queue. Texts read in one go form a batch handled in one
 * transaction; only after its commit are they acknowledged (deliver_sm_resp)
 * and their replies queued, so an acknowledged text always has its reply on
 * disk. Segments are pumped into each link's transmitter whenever it has
 * room; the routes file (or the link a text came in on) picks the link.
 */
#include "daemon/gateway.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "daemon/clock.h"
#include "daemon/conf.h"
#include "daemon/http.h"
#include "daemon/inbound.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/outbox.h"
#include "daemon/outq.h"
#include "daemon/privacy.h"
#include "daemon/service.h"
#include "daemon/link/links.h"
#include "daemon/link/link.h"
#include "daemon/store.h"
#include "proto/cmpp.h"
#include "proto/reasm.h"

/* Incomplete concatenated texts are dropped after this long. */
#define REASM_TIMEOUT_MS (10 * 60 * 1000)
#define REASM_MAX_SETS   10000
/* deliver_sm handled per transaction at most (one commit, one fsync). */
#define BATCH_MAX        64
/* How long a commit may wait for another process's write lock. */
#define DAEMON_BUSY_MS   250
/* Notifications held in memory; the rest wait in the store. */
#define NOTIFY_IN_MEMORY 2000
/* How often to look for rows other processes added, and quiet hours. */
#define POLL_MS          500
#define QUIET_CHECK_S    20
/* Polls between two looks for messages past [outbox] validity_h. */
#define EXPIRE_EVERY_TICKS 20

/* One deliver_sm waiting for its batch to commit. */
struct pending {
	struct carrier   *c;
	struct link *link;
	uint64_t          token;
	uint32_t          status;     /* deliver_sm_resp status if committed */
	int               wrote;      /* wrote to the store in this batch */
	struct pdu_addr   to;
	int64_t           out_id;
	uint64_t          born_us;    /* when the deliver_sm arrived */
	char             *reply;      /* queued after the commit */
};

struct gateway {
	struct event_base *base;
	struct links      *links;
	unsigned           ticks;      /* polls so far */
	struct reasm      *reasm;
	struct event      *reasm_timer;
	struct outq       *outq;
	struct event      *pump_timer;
	struct store      *store;
	struct pipeline   *pipeline;
	struct outbox     *outbox;
	struct http_api   *http;
	struct event      *poll_timer;
	struct event      *quiet_timer;
	int                quiet_from, quiet_to;
	char               country_code[5];
	char               store_path[PATH_MAX];
	struct pending     batch[BATCH_MAX];
	int                nbatch;
	int                in_txn;
	int                batch_failed;
	struct event      *stop_timer;
	int                stopping;
	/* Backpressure: texts refused while too many replies wait. */
	int                reply_backlog;
	int                refusing;
	unsigned long      refused;    /* texts refused this time */
};

static int txn(struct gateway *);
static void commit_idle(struct gateway *);
static int backpressure(struct gateway *);

static const char *
mask_addr(const char *a, char *buf, size_t len)
{
	mask_msisdn(a, buf, len);
	return buf;
}

/* Fills one link's window from its queue; returns 1 if it sent any. */
static int
pump_link(struct gateway *g, struct carrier *c, uint64_t *now_us)
{
	struct outq_seg *seg;
	int sent = 0;

	while (link_can_submit(c->tx) &&
	    (seg = outq_next_on(g->outq, c->idx, clock_now_ms())) != NULL) {
		struct pdu p;
		char err[200];

		outq_seg_pdu(seg, &p);
		/* Each carrier knows us by its own short code. */
		p.src = c->src;
		if (link_submit(c->tx, &p, seg, err, sizeof(err)) == -1) {
			log_err("outbox submit_sm does not encode: %s", err);
			outq_done(g->outq, seg, LINK_ENCODE, NULL,
			    clock_now_ms());
		} else {
			int first;
			uint64_t born = outq_seg_born(seg, &first);

			sent = 1;
			metrics_add(M_SUBMITS, NULL, 1);
			c->submits++;      /* smsgwd_link_submits_total */
			/* The real clock (once per pump): the reply may leave
			 * in the same read callback as its text arrived. */
			if (first && born != 0) {
				if (*now_us == 0)
					*now_us = clock_us();
				metrics_observe(M_REPLY_LATENCY,
				    (double)(*now_us - born) / 1e6);
			}
		}
	}
	return sent;
}

static void
pump(struct gateway *g)
{
	uint64_t wait, now_us = 0;

	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		struct carrier *c = links_at(g->links, i);

		if (c != NULL && c->tx != NULL)
			(void)pump_link(g, c, &now_us);
	}
	metrics_set(M_OUTBOX_DEPTH, (int64_t)(outq_waiting(g->outq) +
	    outq_inflight(g->outq)));
	(void)backpressure(g);
	wait = outq_wait_ms(g->outq, clock_now_ms());
	if (wait != UINT64_MAX && !evtimer_pending(g->pump_timer, NULL)) {
		struct timeval tv = { (time_t)(wait / 1000),
		    (suseconds_t)(wait % 1000) * 1000 };

		evtimer_add(g->pump_timer, &tv);
	}
}

static void
pump_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
	commit_idle(arg);
}

/* Loads what other processes queued, and more notifications as the queue
 * drains. */
static void
fill(struct gateway *g, int startup)
{
	if (txn(g) == -1)
		return;
	if (outbox_fill(g->outbox, startup) == -1)
		log_err("outbox: loading queued messages failed");
	commit_idle(g);
	pump(g);
	commit_idle(g);
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gateway *g = arg;

	(void)fd;
	(void)what;
	links_tick(g->links);
	/* Messages no link took within [outbox] validity_h (every link of
	 * their route down that long) expire; checked every few seconds. */
	if (++g->ticks % EXPIRE_EVERY_TICKS == 0 && txn(g) == 0)
		(void)outq_expire(g->outq, (int64_t)time(NULL));
	commit_idle(g);
	/* Our own replies are queued as they commit: the scan is for
	 * notifications another process (or the API) added, or that did not
	 * fit in memory last time. */
	if (outbox_poll(g->outbox) || (outbox_more(g->outbox) &&
	    outq_messages(g->outq, OUTQ_NOTIFY) < NOTIFY_IN_MEMORY / 2))
		fill(g, 0);
}

/* 1 if now (local time) is inside [from, to), which may wrap midnight. */
static int
in_quiet_hours(int from, int to, time_t now)
{
	struct tm tm;
	int m;

	if (from < 0 || from == to)
		return 0;
	localtime_r(&now, &tm);
	m = tm.tm_hour * 60 + tm.tm_min;
	return from < to ? m >= from && m < to : m >= from || m < to;
}

static void
quiet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gateway *g = arg;
	int quiet = in_quiet_hours(g->quiet_from, g->quiet_to, time(NULL));

	(void)fd;
	(void)what;
	outq_hold(g->outq, OUTQ_NOTIFY, quiet);
	if (!quiet)
		pump(g);
	commit_idle(g);
}

static void
on_final(void *arg, const struct outq_msg_info *m)
{
	struct gateway *g = arg;
	char a[32];

	if (g->outbox != NULL && txn(g) == 0)
		(void)outbox_final(g->outbox, m);
	/* A sent message is in the message log with its parts' SMSC ids
	 * (smsgwctl outbox, the API); the journal gets one line per text
	 * and every failure, and this line with -v. */
	if (m->ok)
		log_debug("outbox sent id=%llu to=%s parts=%d smsc_ids=%s",
		    (unsigned long long)m->id,
		    mask_addr(m->dst->addr, a, sizeof(a)), m->parts,
		    m->message_ids);
	else
		log_warn("outbox failed id=%llu to=%s parts=%d status=%s",
		    (unsigned long long)m->id,
		    mask_addr(m->dst->addr, a, sizeof(a)), m->parts,
		    link_status_name(m->status));
}

/* Opens the shared transaction if it is not open: texts, part updates and
 * receipts of one event-loop turn commit together. */
static int
txn(struct gateway *g)
{
	char err[256];

	if (g->in_txn)
		return 0;
	if (store_begin(g->store, err, sizeof(err)) == -1) {
		log_err("store: cannot begin: %s", err);
		return -1;
	}
	g->in_txn = 1;
	return 0;
}

/* Commits what a turn with no texts in it wrote (part updates, receipts,
 * outcomes). */
static void
commit_idle(struct gateway *g)
{
	char err[256] = "";

	uint64_t t0 = clock_us();

	if (!g->in_txn || g->nbatch > 0)
		return;
	(void)outbox_sync_mark(g->outbox, 0);
	if (store_commit(g->store, err, sizeof(err)) == -1) {
		store_rollback(g->store);
		log_err("store: outbox updates not committed: %s; the parts "
		    "concerned may be sent again after a restart", err);
	} else {
		metrics_observe(M_COMMIT_LATENCY, (double)(clock_us() - t0) / 1e6);
	}
	g->in_txn = 0;
}


static void
queue_reply(struct gateway *g, const struct carrier *c,
    const struct pdu_addr *to, int64_t id, const char *text, uint64_t born_us)
{
	char err[200], a[32];
	int rc;

	/* The router puts the link the text came in on first. */
	links_reply_via(g->links, c->idx);
	rc = outbox_reply(g->outbox, (uint64_t)id, &c->src, to, text, err,
	    sizeof(err));
	links_reply_via(g->links, -1);
	if (rc == 0) {
		outq_set_born(g->outq, born_us);
		return;
	}
	log_err("reply id=%lld to=%s not queued: %s", (long long)id,
	    mask_addr(to->addr, a, sizeof(a)), err);
	if (txn(g) == 0)
		(void)outbox_reply_failed(g->outbox, (uint64_t)id);
}

static void
batch_clear(struct gateway *g)
{
	for (int i = 0; i < g->nbatch; i++)
		free(g->batch[i].reply);
	g->nbatch = 0;
	g->batch_failed = 0;
}

/*
 * Commits the batch, then answers every deliver_sm in it and queues the
 * replies. If the commit fails (disk full, read-only), the texts are
 * refused with a temporary error: the SMSC keeps them and delivers again.
 */
static void
batch_flush(struct gateway *g)
{
	char err[256] = "";
	int ok = 1;

	if (g->nbatch == 0) {
		commit_idle(g);
		pump(g);
		commit_idle(g);
		return;
	}
	if (g->in_txn) {
		uint64_t t0 = clock_us();

		if (!g->batch_failed)
			(void)outbox_sync_mark(g->outbox, 0);
		if (g->batch_failed || store_commit(g->store, err,
		    sizeof(err)) == -1) {
			store_rollback(g->store);
			ok = 0;
			log_err("store: batch of %d not committed%s%s; texts "
			    "refused for the SMSC to retry", g->nbatch,
			    err[0] ? ": " : "", err);
		} else {
			metrics_observe(M_COMMIT_LATENCY,
			    (double)(clock_us() - t0) / 1e6);
		}
		g->in_txn = 0;
	}
	for (int i = 0; i < g->nbatch; i++) {
		struct pending *p = &g->batch[i];

		link_ack(p->link, p->token, !ok && p->wrote ?
		    ESME_X_T_APPN : p->status);
	}
	for (int i = 0; ok && i < g->nbatch; i++)
		if (g->batch[i].reply != NULL)
			queue_reply(g, g->batch[i].c, &g->batch[i].to,
			    g->batch[i].out_id, g->batch[i].reply,
			    g->batch[i].born_us);
	batch_clear(g);
	pump(g);
	commit_idle(g);
}

/*
 * Backpressure. While more than reply_backlog replies wait to go out, new
 * texts are refused before anything is saved (ESME_RX_T_APPN: the SMSC
 * keeps them and delivers them again later), so a fast inbound stream
 * cannot outrun a slow submit path and grow memory without bound, and no
 * saved text is left unacknowledged. Accepting resumes when the backlog is
 * down to half. Returns 1 while refusing.
 */
static int
backpressure(struct gateway *g)
{
	size_t n = outq_messages(g->outq, OUTQ_REPLY);

	if (!g->refusing && n > (size_t)g->reply_backlog) {
		g->refusing = 1;
		g->refused = 0;
		log_warn("backpressure: %zu replies waiting (limit %d); new "
		    "texts refused for the SMSC to deliver again", n,
		    g->reply_backlog);
	} else if (g->refusing && n <= (size_t)g->reply_backlog / 2) {
		g->refusing = 0;
		log_info("backpressure over: %zu replies waiting, %lu texts "
		    "refused meanwhile", n, g->refused);
	}
	metrics_set(M_BACKPRESSURE, g->refusing);
	return g->refusing;
}

/* The link went down with texts uncommitted: forget them; the SMSC never
 * saw them acknowledged and will deliver them again. */
static void
batch_abort(struct gateway *g)
{
	if (g->nbatch == 0)
		return;
	if (g->in_txn)
		store_rollback(g->store);
	g->in_txn = 0;
	log_warn("link lost with %d texts unacknowledged; the SMSC will "
	    "deliver them again", g->nbatch);
	batch_clear(g);
}

/* 1 if we may answer this sender at all (DOMAIN.md: never an alphanumeric
 * sender, never our own short code). */
static int
repliable(const struct gateway *g, const struct pdu_addr *a)
{
	char mine[24], theirs[24];

	if (a->ton == 5 || a->addr[0] == '\0')
		return 0;
	if (msisdn_national(a->addr, g->country_code, theirs,
	    sizeof(theirs)) == -1)
		return 0;
	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		const struct carrier *c = links_at(g->links, i);

		if (c == NULL)
			continue;
		if (strcmp(a->addr, c->src.addr) == 0)
			return 0;
		if (msisdn_national(c->src.addr, g->country_code, mine,
		    sizeof(mine)) == 0 && strcmp(mine, theirs) == 0)
			return 0;
	}
	return 1;
}

static void
handle_text(struct gateway *g, struct pending *pd, const struct inbound *in)
{
	struct reply r;
	char err[256] = "", a[32];

	if (txn(g) == -1)
		g->batch_failed = 1;
	pd->wrote = 1;
	if (g->batch_failed)
		return;
	if (pipeline_handle(g->pipeline, in, repliable(g, &in->src), time(NULL),
	    &r, err, sizeof(err)) == -1) {
		log_err("store: text from=%s not handled: %s",
		    mask_addr(in->src.addr, a, sizeof(a)), err);
		g->batch_failed = 1;
		return;
	}
	if (!r.send)
		return;
	pd->to = in->src;
	pd->out_id = r.out_id;
	if ((pd->reply = strdup(r.text)) == NULL)
		g->batch_failed = 1;
}

static void
on_deliver(void *arg, struct link *l, const struct pdu *p,
    uint64_t token)
{
	struct carrier *c = arg;
	struct gateway *g = c->gw;
	struct pending *pd;
	struct inbound_item it;
	char a[32];

	if (g->nbatch == BATCH_MAX)
		batch_flush(g);
	pd = &g->batch[g->nbatch++];
	memset(pd, 0, sizeof(*pd));
	pd->c = c;
	pd->link = l;
	pd->token = token;
	pd->status = ESME_OK;
	pd->born_us = clock_now_us();

	/* Receipts still count: they add no reply. */
	if ((p->esm_class & PDU_ESM_TYPE_MASK) != PDU_ESM_RECEIPT &&
	    backpressure(g)) {
		metrics_add(M_INBOUND_REFUSED, NULL, 1);
		g->refused++;
		pd->status = ESME_X_T_APPN;
		return;
	}

	inbound_from_pdu(g->reasm, p, clock_now_ms(), &it);
	switch (it.kind) {
	case INB_RECEIPT:
		metrics_add(M_RECEIPTS, dlr_state_name(it.dlr.state), 1);
		c->receipts++;         /* smsgwd_link_receipts_total */
		/* Acknowledged only once its effect is committed. */
		pd->wrote = 1;
		if (txn(g) == -1 || outbox_receipt(g->outbox, c->cfg.name,
		    &it.dlr) == -1)
			g->batch_failed = 1;
		break;
	case INB_PART:
		if (!evtimer_pending(g->reasm_timer, NULL)) {
			struct timeval tv = { 1, 0 };

			evtimer_add(g->reasm_timer, &tv);
		}
		break;
	case INB_REFUSED:
		metrics_add(M_INBOUND_REFUSED, NULL, 1);
		log_warn("inbound from=%s refused: %s",
		    mask_addr(p->src.addr, a, sizeof(a)), it.why);
		/* A receipt we cannot read is still acknowledged. */
		if ((p->esm_class & PDU_ESM_TYPE_MASK) != PDU_ESM_RECEIPT)
			pd->status = ESME_X_P_APPN;
		break;
	case INB_TEXT:
		handle_text(g, pd, &it.in);
		break;
	}
	inbound_item_free(&it);
}

static void
on_read_done(void *arg, struct link *l)
{
	(void)l;
	batch_flush(((struct carrier *)arg)->gw);
}

static void
reasm_dropped(void *arg, const struct reasm_dropped *d)
{
	char a[32];

	(void)arg;
	log_warn("inbound from=%s incomplete concatenated text dropped "
	    "ref=%u have=%u/%u age_ms=%llu", mask_addr(d->src, a, sizeof(a)),
	    d->ref, d->have, d->total, (unsigned long long)d->age_ms);
}

static void
reasm_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gateway *g = arg;
	uint64_t next;

	(void)fd;
	(void)what;
	reasm_expire(g->reasm, clock_ms(), reasm_dropped, g);
	next = reasm_next_expiry(g->reasm, clock_ms());
	if (next != UINT64_MAX) {
		struct timeval tv = { (time_t)(next / 1000) + 1, 0 };

		evtimer_add(g->reasm_timer, &tv);
	}
}

static void
on_submit_done(void *arg, void *cookie, uint32_t status, const char *msgid)
{
	struct carrier *c = arg;
	struct gateway *g = c->gw;
	uint64_t id;
	int part;

	outq_seg_ref(cookie, &id, &part);
	if (status == ESME_THROTTLED || status == ESME_MSGQFUL ||
	    status == LINK_CMPP_RESULT(CMPP_RESULT_FLOW))
		metrics_add(M_LINK_THROTTLED, c->cfg.name, 1);
	if (status != ESME_OK && links_reroute_status(c, status)) {
		log_info("submit_sm link=%s outbox id=%llu status=%s: the "
		    "carrier cannot reach the number; trying the next link",
		    c->cfg.name, (unsigned long long)id,
		    link_status_name(status));
		outq_reroute(g->outq, cookie, status, clock_now_ms());
	} else {
		if (status != ESME_OK)
			log_info("submit_sm link=%s outcome status=%s%s",
			    c->cfg.name, link_status_name(status),
			    outq_transient(status) ? " (will retry)" : "");
		if (status == ESME_OK && txn(g) == 0)
			(void)outbox_part_done(g->outbox, c->cfg.name, id, part,
			    status, msgid);
		outq_done(g->outq, cookie, status, msgid, clock_now_ms());
	}
	if (!g->stopping)
		pump(g);
}

static void
on_bound(void *arg, struct link *l, int bound)
{
	struct carrier *c = arg;
	struct gateway *g = c->gw;

	links_bound(g->links, c, l, bound);
	if (bound)
		pump(g);
	else
		batch_abort(g);
	/* After the abort: its rollback must not take the row with it. */
	links_row(g->links, c);
	commit_idle(g);
}

static void
on_ready(void *arg, struct link *l)
{
	(void)l;
	pump(((struct carrier *)arg)->gw);
}

static void
on_stopped(void *arg, struct link *l)
{
	struct carrier *c = arg;
	struct gateway *g = c->gw;

	log_info("link=%s stopped", link_name(l));
	if (links_stopped(g->links, c))
		event_base_loopexit(g->base, NULL);
	commit_idle(g);
}

static void
stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gateway *g = arg;

	(void)fd;
	(void)what;
	log_warn("links did not stop in time; exiting anyway");
	event_base_loopexit(g->base, NULL);
}

static const struct tmpl_set *
http_templates(void *arg)
{
	return pipeline_templates(((struct gateway *)arg)->pipeline);
}

/* The API committed a notification on our own connection, which
 * PRAGMA data_version does not report: load it now. */
static void
http_changed(void *arg)
{
	fill(arg, 0);
}

static const struct link_cb link_cb = {
	.on_bound = on_bound,
	.on_deliver = on_deliver,
	.on_submit_done = on_submit_done,
	.on_ready = on_ready,
	.on_read_done = on_read_done,
	.on_stopped = on_stopped,
};

static void
pump_hook(void *arg)
{
	pump(arg);
}

static int
txn_hook(void *arg)
{
	return txn(arg);
}

/* The slot of the live link called name, or -1 (outbox: resume a message
 * on its link). */
static int
link_slot(void *arg, const char *name)
{
	return links_slot(((struct gateway *)arg)->links, name);
}

/* The first enabled link: its short code is the outbox rows' source. */
static const struct conf_smpp *
first_enabled(const struct conf *c)
{
	for (int i = 0; i < c->nlinks; i++)
		if (c->link[i].enabled)
			return &c->link[i];
	return &c->link[0];
}

struct gateway *
gateway_new(struct event_base *base, const struct conf *c)
{
	struct gateway *g = calloc(1, sizeof(*g));
	const struct conf_smpp *first = first_enabled(c);
	char err[4096] = "";

	if (g == NULL)
		return NULL;

	g->base = base;
	snprintf(g->country_code, sizeof(g->country_code), "%s",
	    c->locale.country_code);
	snprintf(g->store_path, sizeof(g->store_path), "%s", c->store.path);
	if ((g->store = store_open(c->store.path, err, sizeof(err))) == NULL) {
		log_err("store %s: %s", c->store.path, err);
		goto fail;
	}
	/* The event loop must not wait seconds for smsgwctl's write lock: a
	 * batch that cannot commit soon is refused and the SMSC retries it. */
	sqlite3_busy_timeout(store_db(g->store), DAEMON_BUSY_MS);
	if ((g->pipeline = pipeline_new(c, g->store, err, sizeof(err))) ==
	    NULL) {
		for (char *line = strtok(err, "\n"); line != NULL;
		    line = strtok(NULL, "\n"))
			log_err("%s", line);
		goto fail;
	}
	g->reasm = reasm_new(REASM_MAX_SETS, REASM_TIMEOUT_MS);
	g->outq = outq_new(SEG_UDH, first->registered_delivery, on_final, g);
	if (g->outq == NULL)
		goto fail;
	{
		struct links_hooks h = { &link_cb, pump_hook, txn_hook, g };

		if ((g->links = links_new(base, g->outq, g->store, c, &h)) ==
		    NULL)
			goto fail;
	}
	{
		struct pdu_addr src;
		struct outbox_cfg oc;

		memset(&src, 0, sizeof(src));
		src.ton = (uint8_t)first->source_ton;
		src.npi = (uint8_t)first->source_npi;
		snprintf(src.addr, sizeof(src.addr), "%s", first->source_addr);
		memset(&oc, 0, sizeof(oc));
		oc.source = &src;
		oc.country_code = c->locale.country_code;
		oc.retry_undelivered = c->outbox.retry_undelivered;
		oc.validity_h = c->outbox.validity_h;
		oc.notify_in_memory = NOTIFY_IN_MEMORY;
		oc.link_slot = link_slot;
		oc.link_arg = g;
		g->reply_backlog = c->outbox.reply_backlog;
		g->outbox = outbox_new(g->store, g->outq, &oc);
	}
	if (c->http.listen[0] != '\0' && (g->http = http_api_new(base, c,
	    g->store, http_templates, http_changed, g, err, sizeof(err))) ==
	    NULL) {
		log_err("http: %s", err);
		goto fail;
	}
	g->quiet_from = c->notify.quiet_from;
	g->quiet_to = c->notify.quiet_to;
	g->poll_timer = event_new(base, -1, EV_PERSIST, poll_cb, g);
	g->quiet_timer = event_new(base, -1, EV_PERSIST, quiet_cb, g);
	g->reasm_timer = evtimer_new(base, reasm_cb, g);
	g->pump_timer = evtimer_new(base, pump_cb, g);
	g->stop_timer = evtimer_new(base, stop_timeout_cb, g);
	if (g->reasm == NULL || g->outbox == NULL ||
	    g->poll_timer == NULL || g->quiet_timer == NULL ||
	    g->reasm_timer == NULL ||
	    g->pump_timer == NULL || g->stop_timer == NULL)
		goto fail;
	return g;
fail:
	gateway_free(g);
	return NULL;
}

void
gateway_free(struct gateway *g)
{
	if (g == NULL)
		return;
	/* Links first: they hand their in-flight segments back to the queue. */
	links_free(g->links);
	g->links = NULL;
	http_api_free(g->http);
	if (g->in_txn)
		store_rollback(g->store);
	g->in_txn = 0;
	/* A stop saves the mark, so the next start checks few rows. */
	if (g->outbox != NULL && txn(g) == 0) {
		(void)outbox_sync_mark(g->outbox, 1);
		commit_idle(g);
	}
	outq_free(g->outq);
	outbox_free(g->outbox);
	reasm_free(g->reasm);
	if (g->poll_timer != NULL)
		event_free(g->poll_timer);
	if (g->quiet_timer != NULL)
		event_free(g->quiet_timer);
	if (g->in_txn)
		store_rollback(g->store);
	batch_clear(g);
	pipeline_free(g->pipeline);
	store_close(g->store);
	if (g->reasm_timer != NULL)
		event_free(g->reasm_timer);
	if (g->pump_timer != NULL)
		event_free(g->pump_timer);
	if (g->stop_timer != NULL)
		event_free(g->stop_timer);
	free(g);
}

void
gateway_start(struct gateway *g)
{
	struct timeval poll = { 0, POLL_MS * 1000 }, quiet = { QUIET_CHECK_S, 0 };

	/* What a crash or a stop left unsent goes out first. */
	fill(g, 1);
	quiet_cb(-1, 0, g);
	evtimer_add(g->poll_timer, &poll);
	evtimer_add(g->quiet_timer, &quiet);
	links_start(g->links);
	links_rows(g->links);
	commit_idle(g);
}

void
gateway_stop(struct gateway *g)
{
	struct timeval tv = { 0, 0 };

	if (g->stopping)
		return;
	g->stopping = 1;
	log_info("stopping: no new texts, waiting for outstanding responses");
	evtimer_del(g->poll_timer);
	/* Bounded: drain + unbind each take at most response_timeout_s. */
	tv.tv_sec = 2 * links_response_timeout(g->links) + 1;
	evtimer_add(g->stop_timer, &tv);
	if (links_stop(g->links) == 0)
		event_base_loopexit(g->base, NULL);
}

void
gateway_reload(struct gateway *g, const struct conf *c)
{
	char errs[4096] = "";

	if (strcmp(c->store.path, g->store_path) != 0)
		log_warn("reload: [store] path changed; it takes effect at the "
		    "next restart");
	if (pipeline_reload(g->pipeline, c, errs, sizeof(errs)) == -1) {
		log_err("reload: patterns or templates rejected, the running "
		    "ones stay:");
		for (char *line = strtok(errs, "\n"); line != NULL;
		    line = strtok(NULL, "\n"))
			log_err("%s", line);
	} else {
		log_info("reload: patterns and templates replaced");
	}
	g->quiet_from = c->notify.quiet_from;
	g->quiet_to = c->notify.quiet_to;
	g->reply_backlog = c->outbox.reply_backlog;
	quiet_cb(-1, 0, g);
	links_reload(g->links, c);
	links_rows(g->links);
	commit_idle(g);
	pump(g);
}
