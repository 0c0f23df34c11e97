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
#include "daemon/inifile.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/outbox.h"
#include "daemon/outq.h"
#include "daemon/privacy.h"
#include "daemon/route.h"
#include "daemon/service.h"
#include "daemon/smpp_link.h"
#include "daemon/store.h"
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
/* How often each link's row in the links table is refreshed. */
#define LINKS_WRITE_S    5
#define QUIET_CHECK_S    20

/* One carrier link: an [smsc NAME] section (or [smpp], "default"): a
 * transceiver, or a transmitter + receiver pair. */
struct carrier {
	struct gateway   *g;
	int               idx;        /* slot: outq link, routes, reply link */
	struct conf_smpp  cfg;
	struct smpp_link *tx, *rx;    /* the same link for a transceiver */
	struct pdu_addr   src;        /* our short code on this carrier */
	struct event     *failover;   /* failover_s after the link went down */
	int               running;    /* smpp_links not stopped yet */
	int               removed;    /* reload took it out: draining */
	time_t            bound_at;   /* 0 while not bound */
	char              last_error[96];
};

/* One deliver_sm waiting for its batch to commit. */
struct pending {
	struct carrier   *c;
	struct smpp_link *link;
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
	struct carrier    *link[CONF_MAX_LINKS];   /* NULL: free slot */
	struct route_table *routes;
	int                failover_s;
	int                reply_link; /* the link of the text being answered */
	int                response_timeout_s;     /* the longest of any link */
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
	int                running;    /* links not stopped yet */
	/* Backpressure: texts refused while too many replies wait. */
	int                reply_backlog;
	int                refusing;
	unsigned           polls;
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

	while (smpp_link_can_submit(c->tx) &&
	    (seg = outq_next_on(g->outq, c->idx, clock_now_ms())) != NULL) {
		struct pdu p;
		char err[200];

		outq_seg_pdu(seg, &p);
		/* Each carrier knows us by its own short code. */
		p.src = c->src;
		if (smpp_link_submit(c->tx, &p, seg, err, sizeof(err)) == -1) {
			log_err("outbox submit_sm does not encode: %s", err);
			outq_done(g->outq, seg, SMPP_LINK_ENCODE, NULL,
			    clock_now_ms());
		} else {
			int first;
			uint64_t born = outq_seg_born(seg, &first);

			sent = 1;
			metrics_add(M_SUBMITS, NULL, 1);
			metrics_add(M_LINK_SUBMITS, c->cfg.name, 1);
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

	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (g->link[i] != NULL && g->link[i]->tx != NULL)
			(void)pump_link(g, g->link[i], &now_us);
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

/* One link's row in the store's links table (smsgwctl links, /healthz),
 * inside the turn's transaction. */
static void
link_row_put(struct gateway *g, const struct carrier *c)
{
	struct link_row r;
	char err[256];

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", c->cfg.name);
	snprintf(r.state, sizeof(r.state), "%s", c->removed ? "draining" :
	    !c->cfg.enabled ? "disabled" : c->bound_at != 0 ? "bound" :
	    c->tx != NULL ? smpp_link_state(c->tx) : "idle");
	snprintf(r.bind, sizeof(r.bind), "%s",
	    c->cfg.bind == CONF_BIND_PAIR ? "pair" : "transceiver");
	snprintf(r.host, sizeof(r.host), "%s:%d", c->cfg.host, c->cfg.port);
	r.window = c->cfg.window;
	r.in_flight = c->tx != NULL ? smpp_link_outstanding(c->tx) : 0;
	r.max_tps = c->cfg.max_tps;
	r.rate = c->tx != NULL ? smpp_link_rate(c->tx) : 0;
	r.queued = (int64_t)outq_waiting_on(g->outq, c->idx);
	snprintf(r.last_error, sizeof(r.last_error), "%s", c->last_error);
	r.bound_at = (int64_t)c->bound_at;
	r.updated_at = (int64_t)time(NULL);
	if (txn(g) == -1 || store_link_put(g->store, &r, err, sizeof(err)) ==
	    -1)
		log_warn("links: link=%s state not stored: %s", c->cfg.name,
		    err);
}

/* Every link's row, the table cleared first (start, reload). */
static void
links_rewrite(struct gateway *g)
{
	char err[256];

	if (txn(g) == -1 || store_link_clear(g->store, "", err,
	    sizeof(err)) == -1) {
		log_warn("links: not stored: %s", err);
		return;
	}
	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (g->link[i] != NULL)
			link_row_put(g, g->link[i]);
}

/* The per-link gauges that change with every submit: set twice a second
 * rather than on the hot path. */
static void
link_gauges(struct gateway *g)
{
	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		const struct carrier *c = g->link[i];

		if (c == NULL || c->removed)
			continue;
		metrics_set_label(M_LINK_QUEUE, c->cfg.name,
		    (int64_t)outq_waiting_on(g->outq, i));
		if (c->tx != NULL)
			metrics_set_label(M_LINK_RATE, c->cfg.name,
			    smpp_link_rate(c->tx));
	}
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gateway *g = arg;

	(void)fd;
	(void)what;
	link_gauges(g);
	/* The links table every LINKS_WRITE_S (and at every bind change). */
	if (++g->polls % (LINKS_WRITE_S * 1000 / POLL_MS) == 0) {
		for (int i = 0; i < CONF_MAX_LINKS; i++)
			if (g->link[i] != NULL)
				link_row_put(g, g->link[i]);
		commit_idle(g);
	}
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
		    smpp_link_status_name(m->status));
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
	g->reply_link = c->idx;
	rc = outbox_reply(g->outbox, (uint64_t)id, &c->src, to, text, err,
	    sizeof(err));
	g->reply_link = -1;
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

		smpp_link_ack(p->link, p->token, !ok && p->wrote ?
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
		const struct carrier *c = g->link[i];

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
on_deliver(void *arg, struct smpp_link *l, const struct pdu *p,
    uint64_t token)
{
	struct carrier *c = arg;
	struct gateway *g = c->g;
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
		metrics_add(M_LINK_RECEIPTS, c->cfg.name, 1);
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
on_read_done(void *arg, struct smpp_link *l)
{
	(void)l;
	batch_flush(((struct carrier *)arg)->g);
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

/* 1 if status from this carrier means "it cannot reach that number":
 * the message moves to the next link of its route. */
static int
reroute_status(const struct carrier *c, uint32_t status)
{
	if (status == ESME_INVDSTADR || status == ESME_INVDSTTON ||
	    status == ESME_INVDSTNPI)
		return 1;
	for (int i = 0; i < c->cfg.nreroute; i++)
		if (c->cfg.reroute[i] == status)
			return 1;
	return 0;
}

static void
on_submit_done(void *arg, void *cookie, uint32_t status, const char *msgid)
{
	struct carrier *c = arg;
	struct gateway *g = c->g;
	uint64_t id;
	int part;

	outq_seg_ref(cookie, &id, &part);
	if (status == ESME_THROTTLED || status == ESME_MSGQFUL)
		metrics_add(M_LINK_THROTTLED, c->cfg.name, 1);
	if (status != ESME_OK && reroute_status(c, status)) {
		log_info("submit_sm link=%s outbox id=%llu status=%s: the "
		    "carrier cannot reach the number; trying the next link",
		    c->cfg.name, (unsigned long long)id,
		    smpp_link_status_name(status));
		outq_reroute(g->outq, cookie, status, clock_now_ms());
	} else {
		if (status != ESME_OK)
			log_info("submit_sm link=%s outcome status=%s%s",
			    c->cfg.name, smpp_link_status_name(status),
			    outq_transient(status) ? " (will retry)" : "");
		if (status == ESME_OK && txn(g) == 0)
			(void)outbox_part_done(g->outbox, c->cfg.name, id, part,
			    status, msgid);
		outq_done(g->outq, cookie, status, msgid, clock_now_ms());
	}
	if (!g->stopping)
		pump(g);
}

/* Links bound now, for the status line and the bound gauge. */
static int
links_bound(const struct gateway *g, int *total)
{
	int n = 0;

	*total = 0;
	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		const struct carrier *c = g->link[i];

		if (c == NULL || c->removed)
			continue;
		(*total)++;
		n += c->bound_at != 0;
	}
	return n;
}

static void
report_bound(struct gateway *g, struct carrier *c, struct smpp_link *l,
    int bound)
{
	int total, n = links_bound(g, &total);

	if (strcmp(c->cfg.name, "default") == 0)
		service_status("SMSC %s:%d: link %s %s", c->cfg.host,
		    c->cfg.port, smpp_link_name(l), bound ? "bound" :
		    "not bound");
	else
		service_status("links: %d of %d bound; %s %s", n, total,
		    c->cfg.name, bound ? "bound" : "not bound");
	metrics_set(M_BOUND, n > 0);
}

/* The grace after a link went down is over: its waiting messages take the
 * next link of their route. */
static void
failover_cb(evutil_socket_t fd, short what, void *arg)
{
	struct carrier *c = arg;

	(void)fd;
	(void)what;
	if (c->bound_at != 0)
		return;
	log_warn("link=%s not bound for %d s: its messages go to the next "
	    "link of their route", c->cfg.name, c->g->failover_s);
	outq_link_available(c->g->outq, c->idx, 0);
	pump(c->g);
}

/* Starts the grace after which a link that is not bound is passed by. */
static void
failover_arm(struct carrier *c)
{
	struct timeval tv = { c->g->failover_s, 0 };

	if (c->failover != NULL && !evtimer_pending(c->failover, NULL))
		evtimer_add(c->failover, &tv);
}

static void
on_bound(void *arg, struct smpp_link *l, int bound)
{
	struct carrier *c = arg;
	struct gateway *g = c->g;
	/* While a link reports its drop it still says bound: trust "bound". */
	int up = bound && smpp_link_is_bound(c->tx) &&
	    smpp_link_is_bound(c->rx);

	if (up && c->bound_at == 0) {
		c->bound_at = time(NULL);
		metrics_add(M_LINK_BINDS, c->cfg.name, 1);
		if (c->failover != NULL)
			evtimer_del(c->failover);
		outq_link_available(g->outq, c->idx, 1);
	} else if (!up && c->bound_at != 0) {
		c->bound_at = 0;
		snprintf(c->last_error, sizeof(c->last_error), "%s",
		    smpp_link_state(l));
		if (!g->stopping && !c->removed)
			failover_arm(c);
	}
	metrics_set_label(M_LINK_BOUND, c->cfg.name, c->bound_at != 0);
	report_bound(g, c, l, bound);
	if (bound)
		pump(g);
	else
		batch_abort(g);
	/* After the abort: its rollback must not take the row with it. */
	link_row_put(g, c);
	commit_idle(g);
}

static void
on_ready(void *arg, struct smpp_link *l)
{
	(void)l;
	pump(((struct carrier *)arg)->g);
}

static void carrier_free(struct carrier *);

static void
carrier_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	carrier_free(arg);
}

static void
on_stopped(void *arg, struct smpp_link *l)
{
	struct carrier *c = arg;
	struct gateway *g = c->g;

	log_info("smpp link=%s stopped", smpp_link_name(l));
	if (--c->running > 0)
		return;
	if (c->removed && !g->stopping) {
		/* A link reload took out: gone once it has unbound (not
		 * from inside its own callback). */
		g->link[c->idx] = NULL;
		if (event_base_once(g->base, -1, EV_TIMEOUT, carrier_free_cb,
		    c, NULL) == -1)
			log_err("link=%s: cannot schedule its release",
			    c->cfg.name);
		return;
	}
	if (--g->running == 0)
		event_base_loopexit(g->base, NULL);
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

/*
 * The router of the send queue: a reply first tries the link its text came
 * in on; then the routes file's rule for the number (or, without one, every
 * enabled link in file order). Links are slots; a disabled or removed link
 * is never available, so the queue passes it by.
 */
static int
route_msg(void *arg, enum outq_class cls, uint64_t id,
    const struct pdu_addr *dst, uint8_t *links, int max)
{
	struct gateway *g = arg;
	uint8_t r[ROUTE_MAX_LINKS];
	char national[24];
	int n = 0, nr = 0;

	(void)id;
	if (cls == OUTQ_REPLY && g->reply_link >= 0 && max > 0)
		links[n++] = (uint8_t)g->reply_link;
	if (g->routes != NULL && msisdn_national(dst->addr, g->country_code,
	    national, sizeof(national)) == 0)
		nr = route_lookup(g->routes, national, r, ROUTE_MAX_LINKS);
	if (nr == 0)
		for (int i = 0; i < CONF_MAX_LINKS && nr < ROUTE_MAX_LINKS; i++)
			if (g->link[i] != NULL && g->link[i]->cfg.enabled)
				r[nr++] = (uint8_t)i;
	for (int i = 0; i < nr && n < max; i++) {
		int dup = 0;

		for (int j = 0; j < n; j++)
			dup |= links[j] == r[i];
		if (!dup)
			links[n++] = r[i];
	}
	return n;
}

static struct smpp_link *
make_link(struct carrier *c, const char *name, enum smpp_link_mode mode)
{
	static const struct smpp_link_cb cb = {
		.on_bound = on_bound,
		.on_deliver = on_deliver,
		.on_submit_done = on_submit_done,
		.on_ready = on_ready,
		.on_read_done = on_read_done,
		.on_stopped = on_stopped,
	};
	const struct conf_smpp *s = &c->cfg;
	struct smpp_link_cfg lc = {
		.name = name,
		.host = s->host,
		.port = s->port,
		.system_id = s->system_id,
		.password = s->password,
		.system_type = s->system_type,
		.mode = mode,
		.window = s->window,
		.max_tps = s->max_tps,
		.enquire_link_s = s->enquire_link_s,
		.response_timeout_s = s->response_timeout_s,
		.reconnect_min_s = s->reconnect_min_s,
		.reconnect_max_s = s->reconnect_max_s,
	};

	return smpp_link_new(c->g->base, &lc, &cb, c);
}

static void
carrier_free(struct carrier *c)
{
	if (c == NULL)
		return;
	/* They hand their in-flight segments back to the queue. */
	if (c->rx != NULL && c->rx != c->tx)
		smpp_link_free(c->rx);
	smpp_link_free(c->tx);
	if (c->failover != NULL)
		event_free(c->failover);
	free(c);
}

/* A carrier link in slot idx from its config; its sessions are made (not
 * started) only when it is enabled. */
static struct carrier *
carrier_new(struct gateway *g, int idx, const struct conf_smpp *cfg)
{
	static const enum seg_mode modes[] = {
		[CONF_LONG_UDH] = SEG_UDH,
		[CONF_LONG_SAR] = SEG_SAR,
		[CONF_LONG_PAYLOAD] = SEG_PAYLOAD,
	};
	struct carrier *c = calloc(1, sizeof(*c));
	int dflt = strcmp(cfg->name, "default") == 0;
	char tx[24], rx[24];

	if (c == NULL)
		return NULL;
	c->g = g;
	c->idx = idx;
	c->cfg = *cfg;
	c->src.ton = (uint8_t)cfg->source_ton;
	c->src.npi = (uint8_t)cfg->source_npi;
	snprintf(c->src.addr, sizeof(c->src.addr), "%s", cfg->source_addr);
	if ((c->failover = evtimer_new(g->base, failover_cb, c)) == NULL)
		goto fail;
	outq_link_mode(g->outq, idx, modes[cfg->long_messages],
	    cfg->registered_delivery);
	if (!cfg->enabled)
		return c;
	metrics_set_label(M_LINK_BOUND, cfg->name, 0);
	/* The lone [smpp] link keeps the names it always had in the log. */
	snprintf(tx, sizeof(tx), "%s%s", dflt ? "" : cfg->name,
	    dflt ? "tx" : ".tx");
	snprintf(rx, sizeof(rx), "%s%s", dflt ? "" : cfg->name,
	    dflt ? "rx" : ".rx");
	if (cfg->bind == CONF_BIND_PAIR) {
		c->tx = make_link(c, tx, LINK_TX);
		c->rx = make_link(c, rx, LINK_RX);
		if (c->tx == NULL || c->rx == NULL)
			goto fail;
	} else {
		c->tx = c->rx = make_link(c, dflt ? "trx" : cfg->name,
		    LINK_TRX);
		if (c->tx == NULL)
			goto fail;
	}
	return c;
fail:
	carrier_free(c);
	return NULL;
}

static void
carrier_start(struct carrier *c)
{
	if (c->tx == NULL)
		return;
	c->g->running++;
	c->running = 1;
	smpp_link_start(c->tx);
	if (c->rx != c->tx) {
		smpp_link_start(c->rx);
		c->running = 2;
	}
	/* Not bound yet: its messages wait for it only so long. */
	failover_arm(c);
}

static void
carrier_stop(struct carrier *c)
{
	if (c->tx == NULL || c->running == 0)
		return;
	if (c->rx != c->tx)
		smpp_link_stop(c->rx);
	smpp_link_stop(c->tx);
}

/* Loads the routes file, if any, against the links' names. */
static int
load_routes(struct gateway *g, const struct conf *c, struct route_table **out)
{
	const char *names[CONF_MAX_LINKS];
	char errs[4096] = "";
	struct errlist e;

	*out = NULL;
	if (c->routing.routes[0] == '\0')
		return 0;
	(void)g;
	for (int i = 0; i < c->nlinks; i++)
		names[i] = c->link[i].name;
	errlist_init(&e, c->path, errs, sizeof(errs));
	if ((*out = route_load(c->routing.routes, names, c->nlinks, &e)) !=
	    NULL)
		return 0;
	for (char *line = strtok(errs, "\n"); line != NULL;
	    line = strtok(NULL, "\n"))
		log_err("%s", line);
	return -1;
}

/* The slot of the live link called name, or -1. */
static int
link_slot(void *arg, const char *name)
{
	struct gateway *g = arg;

	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (g->link[i] != NULL && !g->link[i]->removed &&
		    strcmp(g->link[i]->cfg.name, name) == 0)
			return i;
	return -1;
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
	g->reply_link = -1;
	g->failover_s = c->routing.failover_s;
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
	if (load_routes(g, c, &g->routes) == -1)
		goto fail;
	g->reasm = reasm_new(REASM_MAX_SETS, REASM_TIMEOUT_MS);
	g->outq = outq_new(SEG_UDH, first->registered_delivery, on_final, g);
	if (g->outq == NULL)
		goto fail;
	outq_set_router(g->outq, route_msg, g);
	for (int i = 0; i < c->nlinks; i++) {
		if ((g->link[i] = carrier_new(g, i, &c->link[i])) == NULL)
			goto fail;
		if (c->link[i].response_timeout_s > g->response_timeout_s)
			g->response_timeout_s = c->link[i].response_timeout_s;
		/* Waiting for its first bind counts as the grace. */
		outq_link_available(g->outq, i, c->link[i].enabled);
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
	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		carrier_free(g->link[i]);
		g->link[i] = NULL;
	}
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
	route_free(g->routes);
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
	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (g->link[i] != NULL)
			carrier_start(g->link[i]);
	links_rewrite(g);
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
	tv.tv_sec = 2 * g->response_timeout_s + 1;
	evtimer_add(g->stop_timer, &tv);
	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (g->link[i] != NULL) {
			if (g->link[i]->failover != NULL)
				evtimer_del(g->link[i]->failover);
			carrier_stop(g->link[i]);
		}
	if (g->running == 0)
		event_base_loopexit(g->base, NULL);
}

/* 1 if the two configs of a link differ in what its session was bound
 * with (a change reconnects it); the rest changes live. */
static int
session_changed(const struct conf_smpp *a, const struct conf_smpp *b)
{
	return strcmp(a->host, b->host) != 0 || a->port != b->port ||
	    strcmp(a->system_id, b->system_id) != 0 ||
	    strcmp(a->password, b->password) != 0 ||
	    strcmp(a->system_type, b->system_type) != 0 ||
	    a->bind != b->bind || a->enabled != b->enabled ||
	    a->enquire_link_s != b->enquire_link_s ||
	    a->response_timeout_s != b->response_timeout_s ||
	    a->reconnect_min_s != b->reconnect_min_s ||
	    a->reconnect_max_s != b->reconnect_max_s;
}

/* The live link called name, or NULL (draining ones do not count). */
static struct carrier *
find_link(struct gateway *g, const char *name)
{
	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (g->link[i] != NULL && !g->link[i]->removed &&
		    strcmp(g->link[i]->cfg.name, name) == 0)
			return g->link[i];
	return NULL;
}

/*
 * Takes a link out: its waiting messages go to the next link of their
 * route at once, its parts in flight are awaited (they come back to the
 * queue if the window does not drain), then it unbinds and is freed.
 */
static void
link_remove(struct gateway *g, struct carrier *c, const char *why)
{
	log_info("reload: link=%s %s: draining, its queued messages are "
	    "routed again", c->cfg.name, why);
	c->removed = 1;
	if (c->failover != NULL)
		evtimer_del(c->failover);
	outq_link_available(g->outq, c->idx, 0);
	if (c->running > 0) {
		g->running--;       /* freed on its own, not awaited by a stop */
		carrier_stop(c);
	} else {
		g->link[c->idx] = NULL;
		carrier_free(c);
	}
}

/* A new link in a free slot, started. */
static void
link_add(struct gateway *g, const struct conf_smpp *cfg)
{
	struct carrier *c;
	int slot = -1;

	for (int i = 0; i < CONF_MAX_LINKS && slot == -1; i++)
		if (g->link[i] == NULL)
			slot = i;
	if (slot == -1) {
		log_err("reload: link=%s not added: every slot is taken by a "
		    "link still draining; reload again later", cfg->name);
		return;
	}
	if ((c = carrier_new(g, slot, cfg)) == NULL) {
		log_err("reload: link=%s not added: out of memory", cfg->name);
		return;
	}
	g->link[slot] = c;
	log_info("reload: link=%s added", cfg->name);
	outq_link_available(g->outq, slot, cfg->enabled);
	carrier_start(c);
}

/* Live changes of a link whose session stays. */
static void
link_update(struct gateway *g, struct carrier *c, const struct conf_smpp *n)
{
	static const enum seg_mode modes[] = {
		[CONF_LONG_UDH] = SEG_UDH,
		[CONF_LONG_SAR] = SEG_SAR,
		[CONF_LONG_PAYLOAD] = SEG_PAYLOAD,
	};

	if (c->tx != NULL) {
		smpp_link_set_limits(c->tx, n->window, n->max_tps);
		if (c->rx != c->tx)
			smpp_link_set_limits(c->rx, n->window, n->max_tps);
	}
	if (n->window != c->cfg.window || n->max_tps != c->cfg.max_tps)
		log_info("reload: link=%s window=%d max_tps=%d", n->name,
		    n->window, n->max_tps);
	c->cfg = *n;
	c->src.ton = (uint8_t)n->source_ton;
	c->src.npi = (uint8_t)n->source_npi;
	snprintf(c->src.addr, sizeof(c->src.addr), "%s", n->source_addr);
	outq_link_mode(g->outq, c->idx, modes[n->long_messages],
	    n->registered_delivery);
}

/* Links: the ones gone drain, the changed ones reconnect, new ones
 * start, the rest keep their sessions; then the routes file again. */
static void
reload_links(struct gateway *g, const struct conf *c)
{
	struct route_table *routes;
	const char *names[CONF_MAX_LINKS];
	char errs[4096] = "";
	struct errlist e;

	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		struct carrier *l = g->link[i];
		int j;

		if (l == NULL || l->removed)
			continue;
		if ((j = conf_link_find(c, l->cfg.name)) == -1)
			link_remove(g, l, "removed");
		else if (session_changed(&l->cfg, &c->link[j]))
			link_remove(g, l, "changed");
	}
	for (int j = 0; j < c->nlinks; j++) {
		struct carrier *l = find_link(g, c->link[j].name);

		if (l == NULL)
			link_add(g, &c->link[j]);
		else
			link_update(g, l, &c->link[j]);
	}
	g->failover_s = c->routing.failover_s;
	g->response_timeout_s = 0;
	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		const struct carrier *l = g->link[i];

		names[i] = l != NULL && !l->removed ? l->cfg.name : "";
		if (l != NULL && l->cfg.response_timeout_s >
		    g->response_timeout_s)
			g->response_timeout_s = l->cfg.response_timeout_s;
	}
	if (c->routing.routes[0] == '\0') {
		route_free(g->routes);
		g->routes = NULL;
		return;
	}
	/* The names by slot: a rule's link index is the slot. */
	errlist_init(&e, c->path, errs, sizeof(errs));
	if ((routes = route_load(c->routing.routes, names, CONF_MAX_LINKS,
	    &e)) == NULL) {
		log_err("reload: routes file rejected, the running one stays:");
		for (char *line = strtok(errs, "\n"); line != NULL;
		    line = strtok(NULL, "\n"))
			log_err("%s", line);
		return;
	}
	route_free(g->routes);
	g->routes = routes;
	log_info("reload: routes file: %d rules", route_count(routes));
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
	reload_links(g, c);
	links_rewrite(g);
	commit_idle(g);
	pump(g);
}
