/*
 * Carrier links (see links.h): slots of sessions, the failover grace, the
 * router of the send queue, live reload and the links table.
 */
#include "daemon/link/links.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon/inifile.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/outq.h"
#include "daemon/privacy.h"
#include "daemon/route.h"
#include "daemon/service.h"
#include "daemon/store.h"
#include "proto/cmpp.h"

/* How often each link's row in the links table is refreshed, in ticks. */
#define ROW_EVERY_TICKS 10

struct links {
	struct event_base  *base;
	struct outq        *q;
	struct store       *st;
	struct links_hooks  h;
	struct carrier     *link[CONF_MAX_LINKS];   /* NULL: a free slot */
	struct route_table *routes;
	char                cc[5];                  /* country code */
	int                 failover_s;
	int                 reply_via;              /* slot, or -1 */
	int                 running;                /* links not stopped */
	int                 stopping;
	unsigned            ticks;
};

static const enum seg_mode modes[] = {
	[CONF_LONG_UDH] = SEG_UDH,
	[CONF_LONG_SAR] = SEG_SAR,
	[CONF_LONG_PAYLOAD] = SEG_PAYLOAD,
};

/* How a link splits long texts: CMPP sends ASCII as octets, with a UDH. */
static enum seg_mode
seg_mode(const struct conf_smpp *k)
{
	return k->protocol != CONF_PROTO_SMPP ? SEG_CMPP :
	    modes[k->long_messages];
}

struct carrier *
links_at(const struct links *s, int slot)
{
	return slot >= 0 && slot < CONF_MAX_LINKS ? s->link[slot] : NULL;
}

int
links_slot(const struct links *s, const char *name)
{
	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (s->link[i] != NULL && !s->link[i]->removed &&
		    strcmp(s->link[i]->cfg.name, name) == 0)
			return i;
	return -1;
}

int
links_response_timeout(const struct links *s)
{
	int t = 1;

	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (s->link[i] != NULL && s->link[i]->cfg.response_timeout_s > t)
			t = s->link[i]->cfg.response_timeout_s;
	return t;
}

void
links_reply_via(struct links *s, int slot)
{
	s->reply_via = slot;
}

int
links_reroute_status(const struct carrier *c, uint32_t status)
{
	/* SMPP's "bad destination"; CMPP's "this gateway does not serve
	 * that number" (9) and "bad Dest_terminal_Id" (13). */
	if (status == ESME_INVDSTADR || status == ESME_INVDSTTON ||
	    status == ESME_INVDSTNPI ||
	    status == LINK_CMPP_RESULT(CMPP_RESULT_NO_SERVICE) ||
	    status == LINK_CMPP_RESULT(CMPP_RESULT_BAD_DEST))
		return 1;
	for (int i = 0; i < c->cfg.nreroute; i++)
		if (c->cfg.reroute[i] == status)
			return 1;
	return 0;
}

/*
 * The router of the send queue: a reply first tries the link its text came
 * in on; then the routes file's rule for the number (or, without a file or
 * a rule, every enabled link in file order). A disabled or removed link is
 * never available, so the queue passes it by.
 */
static int
route(void *arg, enum outq_class cls, uint64_t id,
    const struct pdu_addr *dst, uint8_t *links, int max)
{
	struct links *s = arg;
	uint8_t r[ROUTE_MAX_LINKS];
	char national[24];
	int n = 0, nr = 0;

	(void)id;
	if (cls == OUTQ_REPLY && s->reply_via >= 0 && max > 0)
		links[n++] = (uint8_t)s->reply_via;
	if (s->routes != NULL && msisdn_national(dst->addr, s->cc, national,
	    sizeof(national)) == 0)
		nr = route_lookup(s->routes, national, r, ROUTE_MAX_LINKS);
	if (nr == 0)
		for (int i = 0; i < CONF_MAX_LINKS && nr < ROUTE_MAX_LINKS; i++)
			if (s->link[i] != NULL && s->link[i]->cfg.enabled)
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

/* ---- the links table ------------------------------------------------------ */

/* One link's row (smsgwctl links, /healthz), in the turn's transaction. */
void
links_row(struct links *s, const struct carrier *c)
{
	struct link_row r;
	char err[256] = "";

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", c->cfg.name);
	snprintf(r.state, sizeof(r.state), "%s", c->removed ? "draining" :
	    !c->cfg.enabled ? "disabled" : c->bound_at != 0 ? "bound" :
	    c->tx != NULL ? link_state(c->tx) : "idle");
	snprintf(r.bind, sizeof(r.bind), "%s",
	    c->cfg.bind == CONF_BIND_PAIR ? "pair" : "transceiver");
	snprintf(r.host, sizeof(r.host), "%s:%d", c->cfg.host, c->cfg.port);
	r.window = c->cfg.window;
	r.in_flight = c->tx != NULL ? link_outstanding(c->tx) : 0;
	r.max_tps = c->cfg.max_tps;
	r.rate = c->tx != NULL ? link_rate(c->tx) : 0;
	r.queued = (int64_t)outq_waiting_on(s->q, c->idx);
	snprintf(r.last_error, sizeof(r.last_error), "%s", c->last_error);
	r.bound_at = (int64_t)c->bound_at;
	r.updated_at = (int64_t)time(NULL);
	if (s->h.txn(s->h.gw) == -1 || store_link_put(s->st, &r, err,
	    sizeof(err)) == -1)
		log_warn("links: link=%s state not stored: %s", c->cfg.name,
		    err);
}

void
links_rows(struct links *s)
{
	char err[256] = "";

	if (s->h.txn(s->h.gw) == -1 || store_link_clear(s->st, "", err,
	    sizeof(err)) == -1) {
		log_warn("links: not stored: %s", err);
		return;
	}
	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (s->link[i] != NULL)
			links_row(s, s->link[i]);
}

void
links_tick(struct links *s)
{
	int rows = ++s->ticks % ROW_EVERY_TICKS == 0;

	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		struct carrier *c = s->link[i];

		if (c == NULL)
			continue;
		metrics_add(M_LINK_SUBMITS, c->cfg.name,
		    c->submits - c->submits_shown);
		metrics_add(M_LINK_RECEIPTS, c->cfg.name,
		    c->receipts - c->receipts_shown);
		c->submits_shown = c->submits;
		c->receipts_shown = c->receipts;
		if (rows)
			links_row(s, c);
		if (c->removed)
			continue;
		metrics_set_label(M_LINK_QUEUE, c->cfg.name,
		    (int64_t)outq_waiting_on(s->q, i));
		if (c->tx != NULL)
			metrics_set_label(M_LINK_RATE, c->cfg.name,
			    link_rate(c->tx));
	}
}

/* ---- bind state and failover ---------------------------------------------- */

static void
report_bound(struct links *s, struct carrier *c, struct link *l,
    int bound)
{
	int total = 0, n = 0;

	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		const struct carrier *o = s->link[i];

		if (o == NULL || o->removed || !o->cfg.enabled)
			continue;
		total++;
		n += o->bound_at != 0;
	}
	if (strcmp(c->cfg.name, "default") == 0)
		service_status("SMSC %s:%d: link %s %s", c->cfg.host,
		    c->cfg.port, link_name(l), bound ? "bound" :
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
	struct links *s = c->set;

	(void)fd;
	(void)what;
	if (c->bound_at != 0)
		return;
	log_warn("link=%s not bound for %d s: its messages go to the next "
	    "link of their route", c->cfg.name, s->failover_s);
	outq_link_available(s->q, c->idx, 0);
	s->h.pump(s->h.gw);
}

/* Starts the grace after which a link that is not bound is passed by. */
static void
failover_arm(struct carrier *c)
{
	struct timeval tv = { c->set->failover_s, 0 };

	if (c->failover != NULL && !evtimer_pending(c->failover, NULL))
		evtimer_add(c->failover, &tv);
}

void
links_bound(struct links *s, struct carrier *c, struct link *l,
    int bound)
{
	/* While a link reports its drop it still says bound: trust "bound". */
	int up = bound && link_is_bound(c->tx) &&
	    link_is_bound(c->rx);

	if (up && c->bound_at == 0) {
		c->bound_at = time(NULL);
		c->last_error[0] = '\0';
		metrics_add(M_LINK_BINDS, c->cfg.name, 1);
		if (c->failover != NULL)
			evtimer_del(c->failover);
		if (!c->removed)
			outq_link_available(s->q, c->idx, 1);
	} else if (!up && c->bound_at != 0) {
		c->bound_at = 0;
		snprintf(c->last_error, sizeof(c->last_error), "%s at %s",
		    link_name(l), link_state(l));
		if (!s->stopping && !c->removed)
			failover_arm(c);
	}
	metrics_set_label(M_LINK_BOUND, c->cfg.name, c->bound_at != 0);
	report_bound(s, c, l, bound);
}

/* ---- life ----------------------------------------------------------------- */

static struct link *
make_session(struct carrier *c, const char *name, enum link_mode mode)
{
	const struct conf_smpp *k = &c->cfg;
	struct link_cfg lc = {
		.name = name,
		.host = k->host,
		.port = k->port,
		.system_id = k->system_id,
		.password = k->password,
		.system_type = k->system_type,
		.mode = mode,
		.window = k->window,
		.max_tps = k->max_tps,
		.enquire_link_s = k->enquire_link_s,
		.response_timeout_s = k->response_timeout_s,
		.reconnect_min_s = k->reconnect_min_s,
		.reconnect_max_s = k->reconnect_max_s,
		.source_addr = k->source_addr,
		.service_id = k->service_id,
		.fee_type = k->fee_type,
		.fee_code = k->fee_code,
		.active_test_tries = 3,
	};
	static const enum link_protocol protos[] = {
		[CONF_PROTO_SMPP] = LINK_SMPP,
		[CONF_PROTO_CMPP30] = LINK_CMPP30,
		[CONF_PROTO_CMPP20] = LINK_CMPP20,
	};

	return link_new(protos[k->protocol], c->set->base, &lc, c->set->h.cb,
	    c);
}

static void
carrier_free(struct carrier *c)
{
	if (c == NULL)
		return;
	/* They hand their in-flight segments back to the queue. */
	if (c->rx != NULL && c->rx != c->tx)
		link_free(c->rx);
	link_free(c->tx);
	if (c->failover != NULL)
		event_free(c->failover);
	free(c);
}

static void
carrier_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	carrier_free(arg);
}

/* A link in slot idx from its config; its sessions are made (not started)
 * only when it is enabled. */
static struct carrier *
carrier_new(struct links *s, int idx, const struct conf_smpp *cfg)
{
	struct carrier *c = calloc(1, sizeof(*c));
	int dflt = strcmp(cfg->name, "default") == 0;
	char tx[24], rx[24];

	if (c == NULL)
		return NULL;
	c->set = s;
	c->gw = s->h.gw;
	c->idx = idx;
	c->cfg = *cfg;
	c->src.ton = (uint8_t)cfg->source_ton;
	c->src.npi = (uint8_t)cfg->source_npi;
	snprintf(c->src.addr, sizeof(c->src.addr), "%s", cfg->source_addr);
	if ((c->failover = evtimer_new(s->base, failover_cb, c)) == NULL)
		goto fail;
	outq_link_mode(s->q, idx, seg_mode(cfg), cfg->registered_delivery);
	if (!cfg->enabled)
		return c;
	metrics_set_label(M_LINK_BOUND, cfg->name, 0);
	/* The lone [smpp] link keeps the names it always had in the log. */
	snprintf(tx, sizeof(tx), "%s%s", dflt ? "" : cfg->name,
	    dflt ? "tx" : ".tx");
	snprintf(rx, sizeof(rx), "%s%s", dflt ? "" : cfg->name,
	    dflt ? "rx" : ".rx");
	if (cfg->bind == CONF_BIND_PAIR) {
		c->tx = make_session(c, tx, LINK_TX);
		c->rx = make_session(c, rx, LINK_RX);
		if (c->tx == NULL || c->rx == NULL)
			goto fail;
	} else {
		c->tx = c->rx = make_session(c, dflt ? "trx" : cfg->name,
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
	c->set->running++;
	c->running = 1;
	link_start(c->tx);
	if (c->rx != c->tx) {
		link_start(c->rx);
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
		link_stop(c->rx);
	link_stop(c->tx);
}

/* The routes file against the names by slot ("" for a free slot): a
 * rule's link index is the slot. NULL with the errors logged. */
static struct route_table *
load_routes(const struct links *s, const struct conf *c, const char *what)
{
	const char *names[CONF_MAX_LINKS];
	char errs[4096] = "";
	struct route_table *t;
	struct errlist e;

	for (int i = 0; i < CONF_MAX_LINKS; i++)
		names[i] = s->link[i] != NULL && !s->link[i]->removed ?
		    s->link[i]->cfg.name : "";
	errlist_init(&e, c->path, errs, sizeof(errs));
	if ((t = route_load(c->routing.routes, names, CONF_MAX_LINKS, &e)) !=
	    NULL)
		return t;
	log_err("%s", what);
	for (char *line = strtok(errs, "\n"); line != NULL;
	    line = strtok(NULL, "\n"))
		log_err("%s", line);
	return NULL;
}

struct links *
links_new(struct event_base *base, struct outq *q, struct store *st,
    const struct conf *c, const struct links_hooks *h)
{
	struct links *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base = base;
	s->q = q;
	s->st = st;
	s->h = *h;
	s->reply_via = -1;
	s->failover_s = c->routing.failover_s;
	snprintf(s->cc, sizeof(s->cc), "%s", c->locale.country_code);
	for (int i = 0; i < c->nlinks; i++) {
		if ((s->link[i] = carrier_new(s, i, &c->link[i])) == NULL)
			goto fail;
		/* Waiting for its first bind counts as the grace. */
		outq_link_available(q, i, c->link[i].enabled);
	}
	if (c->routing.routes[0] != '\0' && (s->routes = load_routes(s, c,
	    "routes file:")) == NULL)
		goto fail;
	outq_set_router(q, route, s);
	return s;
fail:
	links_free(s);
	return NULL;
}

void
links_free(struct links *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < CONF_MAX_LINKS; i++)
		carrier_free(s->link[i]);
	route_free(s->routes);
	free(s);
}

void
links_start(struct links *s)
{
	for (int i = 0; i < CONF_MAX_LINKS; i++)
		if (s->link[i] != NULL)
			carrier_start(s->link[i]);
}

int
links_stop(struct links *s)
{
	s->stopping = 1;
	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		struct carrier *c = s->link[i];

		if (c == NULL)
			continue;
		if (c->failover != NULL)
			evtimer_del(c->failover);
		carrier_stop(c);
	}
	return s->running;
}

int
links_stopped(struct links *s, struct carrier *c)
{
	if (--c->running > 0)
		return 0;
	if (c->removed && !s->stopping) {
		/* Taken out by a reload: gone once it has unbound, freed
		 * outside its own callback. */
		s->link[c->idx] = NULL;
		log_info("reload: link=%s drained and unbound: removed",
		    c->cfg.name);
		if (event_base_once(s->base, -1, EV_TIMEOUT, carrier_free_cb,
		    c, NULL) == -1)
			log_err("link=%s: cannot schedule its release",
			    c->cfg.name);
		/* Its row goes with it. */
		links_rows(s);
		return 0;
	}
	return --s->running == 0 && s->stopping;
}

/* ---- reload --------------------------------------------------------------- */

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
	    a->reconnect_max_s != b->reconnect_max_s ||
	    a->protocol != b->protocol || a->active_test_s != b->active_test_s ||
	    strcmp(a->service_id, b->service_id) != 0 ||
	    strcmp(a->fee_type, b->fee_type) != 0 ||
	    strcmp(a->fee_code, b->fee_code) != 0;
}

/*
 * Takes a link out: its waiting messages go to the next link of their
 * route at once (even those with parts it accepted: it will not take the
 * rest), its parts in flight are awaited and come back to the queue if the
 * window does not drain, then it unbinds and is freed.
 */
static void
link_remove(struct links *s, struct carrier *c, const char *why)
{
	log_info("reload: link=%s %s: draining, its queued messages are "
	    "routed again", c->cfg.name, why);
	c->removed = 1;
	if (c->failover != NULL)
		evtimer_del(c->failover);
	outq_link_gone(s->q, c->idx);
	if (c->running > 0) {
		s->running--;       /* freed on its own, not awaited by a stop */
		carrier_stop(c);
	} else {
		s->link[c->idx] = NULL;
		carrier_free(c);
	}
}

/* A new link in a free slot, started. */
static void
link_add(struct links *s, const struct conf_smpp *cfg)
{
	struct carrier *c;
	int slot = -1;

	for (int i = 0; i < CONF_MAX_LINKS && slot == -1; i++)
		if (s->link[i] == NULL)
			slot = i;
	if (slot == -1) {
		log_err("reload: link=%s not added: every slot is taken by a "
		    "link still draining; reload again later", cfg->name);
		return;
	}
	if ((c = carrier_new(s, slot, cfg)) == NULL) {
		log_err("reload: link=%s not added: out of memory", cfg->name);
		return;
	}
	s->link[slot] = c;
	log_info("reload: link=%s added", cfg->name);
	outq_link_available(s->q, slot, cfg->enabled);
	carrier_start(c);
}

/* Live changes of a link whose session stays. */
static void
link_update(struct links *s, struct carrier *c, const struct conf_smpp *n)
{
	if (c->tx != NULL) {
		link_set_limits(c->tx, n->window, n->max_tps);
		if (c->rx != c->tx)
			link_set_limits(c->rx, n->window, n->max_tps);
	}
	if (n->window != c->cfg.window || n->max_tps != c->cfg.max_tps)
		log_info("reload: link=%s window=%d max_tps=%d", n->name,
		    n->window, n->max_tps);
	c->cfg = *n;
	c->src.ton = (uint8_t)n->source_ton;
	c->src.npi = (uint8_t)n->source_npi;
	snprintf(c->src.addr, sizeof(c->src.addr), "%s", n->source_addr);
	outq_link_mode(s->q, c->idx, seg_mode(n), n->registered_delivery);
}

void
links_reload(struct links *s, const struct conf *c)
{
	struct route_table *routes;

	for (int i = 0; i < CONF_MAX_LINKS; i++) {
		struct carrier *l = s->link[i];
		int j;

		if (l == NULL || l->removed)
			continue;
		if ((j = conf_link_find(c, l->cfg.name)) == -1)
			link_remove(s, l, "removed");
		else if (session_changed(&l->cfg, &c->link[j]))
			link_remove(s, l, "changed");
	}
	for (int j = 0; j < c->nlinks; j++) {
		int slot = links_slot(s, c->link[j].name);

		if (slot == -1)
			link_add(s, &c->link[j]);
		else
			link_update(s, s->link[slot], &c->link[j]);
	}
	s->failover_s = c->routing.failover_s;
	if (c->routing.routes[0] == '\0') {
		route_free(s->routes);
		s->routes = NULL;
		return;
	}
	if ((routes = load_routes(s, c, "reload: routes file rejected, the "
	    "running one stays:")) == NULL)
		return;
	route_free(s->routes);
	s->routes = routes;
	log_info("reload: routes file: %d rules", route_count(routes));
}
