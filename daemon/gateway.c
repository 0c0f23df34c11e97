/*
 * Gateway: owns the links, the reassembly table and the send queue, and
 * pumps segments into the transmitting link whenever it has room.
 */
#include "daemon/gateway.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "daemon/conf.h"
#include "daemon/log.h"
#include "daemon/outq.h"
#include "daemon/smpp_link.h"
#include "proto/charset.h"
#include "proto/dlr.h"
#include "proto/reasm.h"
#include "proto/udh.h"

/* Incomplete concatenated texts are dropped after this long. */
#define REASM_TIMEOUT_MS (10 * 60 * 1000)
#define REASM_MAX_SETS   10000

struct gateway {
	struct event_base *base;
	struct conf_smpp   smpp;
	struct smpp_link  *tx, *rx;    /* the same link for a transceiver */
	struct reasm      *reasm;
	struct event      *reasm_timer;
	struct outq       *outq;
	struct event      *pump_timer;
	struct event      *stop_timer;
	int                stopping;
	int                running;    /* links not stopped yet */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Phone numbers in logs keep their first 3 and last 4 digits
 * (138****8000): enough to follow a conversation, not to dial it.
 */
static const char *
mask_addr(const char *a, char *buf, size_t len)
{
	size_t n = strlen(a);

	if (n <= 7)
		snprintf(buf, len, "%s", n > 4 ? "****" : a);
	else
		snprintf(buf, len, "%.3s****%s", a, a + n - 4);
	return buf;
}

static void
pump(struct gateway *g)
{
	struct outq_seg *seg;
	uint64_t wait;

	if (g->tx == NULL)
		return;
	while (smpp_link_can_submit(g->tx) &&
	    (seg = outq_next(g->outq, now_ms())) != NULL) {
		struct pdu p;
		char err[200];

		outq_seg_pdu(seg, &p);
		if (smpp_link_submit(g->tx, &p, seg, err, sizeof(err)) == -1) {
			log_err("outbox submit_sm does not encode: %s", err);
			outq_done(g->outq, seg, SMPP_LINK_ENCODE, NULL,
			    now_ms());
		}
	}
	wait = outq_wait_ms(g->outq, now_ms());
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
}

static void
on_final(void *arg, const struct outq_msg_info *m)
{
	char a[32];

	(void)arg;
	if (m->ok)
		log_info("outbox sent id=%llu to=%s parts=%d smsc_ids=%s",
		    (unsigned long long)m->id,
		    mask_addr(m->dst->addr, a, sizeof(a)), m->parts,
		    m->message_ids);
	else
		log_warn("outbox failed id=%llu to=%s parts=%d status=%s",
		    (unsigned long long)m->id,
		    mask_addr(m->dst->addr, a, sizeof(a)), m->parts,
		    smpp_link_status_name(m->status));
}

/* 1 if we may answer this sender at all (DOMAIN.md: never an alphanumeric
 * sender, never our own short code). */
static int
repliable(const struct gateway *g, const struct pdu_addr *a)
{
	if (a->ton == 5 || a->addr[0] == '\0')
		return 0;
	if (strcmp(a->addr, g->smpp.source_addr) == 0)
		return 0;
	for (const char *p = a->addr; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) && !(p == a->addr && *p == '+'))
			return 0;
	return 1;
}

int
gateway_reply(struct gateway *g, const struct inbound *in, const char *text)
{
	struct pdu_addr src;
	char err[200], a[32];
	static uint64_t next_id = 1;

	if (!repliable(g, &in->src)) {
		log_info("reply suppressed to=%s ton=%u: not a phone number "
		    "we answer", mask_addr(in->src.addr, a, sizeof(a)),
		    in->src.ton);
		return -1;
	}
	memset(&src, 0, sizeof(src));
	src.ton = (uint8_t)g->smpp.source_ton;
	src.npi = (uint8_t)g->smpp.source_npi;
	snprintf(src.addr, sizeof(src.addr), "%s", g->smpp.source_addr);
	if (outq_push(g->outq, OUTQ_REPLY, next_id++, &src, &in->src, text,
	    err, sizeof(err)) == -1) {
		log_err("reply not queued to=%s: %s",
		    mask_addr(in->src.addr, a, sizeof(a)), err);
		return -1;
	}
	/* Sent from the next pump, after the deliver_sm_resp. */
	return 0;
}

/*
 * The text handler until the pipeline lands: a fixed acknowledgement that
 * quotes the text, so charset and segmentation can be seen end to end.
 */
static void
handle_text(struct gateway *g, const struct inbound *in)
{
	static const char prefix[] = "smsgwd received: ";
	size_t n = sizeof(prefix) + in->len;
	char *reply = malloc(n);

	if (reply == NULL) {
		log_err("out of memory for a reply");
		return;
	}
	snprintf(reply, n, "%s%s", prefix, in->text);
	(void)gateway_reply(g, in, reply);
	free(reply);
}

static void
handle_receipt(struct gateway *g, const struct pdu *p)
{
	struct dlr d;
	char err[200];

	(void)g;
	if (dlr_parse(p, &d, err, sizeof(err)) == -1) {
		log_warn("receipt unreadable: %s", err);
		return;
	}
	log_info("receipt smsc_id=%s stat=%s err=%d", d.id,
	    dlr_state_name(d.state), d.err);
}

/* Decodes a whole text and hands it on. Returns the deliver_sm_resp
 * status: a text that can never be decoded is refused for good. */
static uint32_t
finish_text(struct gateway *g, const struct pdu *p, uint8_t dcs,
    const uint8_t *data, size_t len, int parts)
{
	enum charset cs;
	struct inbound in;
	char err[200], a[32], *text;
	size_t cap;
	int n;

	if (charset_from_dcs(dcs, &cs, err, sizeof(err)) == -1 ||
	    cs == CS_BINARY) {
		log_warn("inbound from=%s refused: %s", mask_addr(p->src.addr,
		    a, sizeof(a)), cs == CS_BINARY ? "binary message" : err);
		return ESME_X_P_APPN;
	}
	cap = charset_utf8_bound(cs, len) + 1;
	if ((text = malloc(cap)) == NULL)
		return ESME_X_T_APPN;
	n = charset_decode(cs, data, len, text, cap, err, sizeof(err));
	if (n < 0) {
		log_warn("inbound from=%s refused: %s",
		    mask_addr(p->src.addr, a, sizeof(a)), err);
		free(text);
		return ESME_X_P_APPN;
	}
	memset(&in, 0, sizeof(in));
	in.src = p->src;
	in.dst = p->dst;
	in.data_coding = dcs;
	in.parts = parts;
	in.text = text;
	in.len = (size_t)n;
	log_info("inbound from=%s dcs=0x%02x parts=%d chars_bytes=%d",
	    mask_addr(p->src.addr, a, sizeof(a)), dcs, parts, n);
	handle_text(g, &in);
	free(text);
	return ESME_OK;
}

static uint32_t
handle_mo(struct gateway *g, const struct pdu *p)
{
	const uint8_t *data = p->sm;
	size_t len = p->sm_len, hdr = 0;
	struct udh_concat cc = { 0 };
	struct reasm_msg whole;
	char err[200], a[32];
	uint32_t status;
	int rc;

	if (p->tlvs & PDU_HAS_PAYLOAD) {
		data = p->payload;
		len = p->payload_len;
	}
	if (p->esm_class & PDU_ESM_UDHI) {
		if (udh_parse(data, len, &cc, &hdr, err, sizeof(err)) == -1) {
			log_warn("inbound from=%s refused: %s",
			    mask_addr(p->src.addr, a, sizeof(a)), err);
			return ESME_X_P_APPN;
		}
		data += hdr;
		len -= hdr;
	} else if ((p->tlvs & PDU_HAS_SAR) && p->sar_total > 1) {
		cc.present = 1;
		cc.ref = p->sar_ref;
		cc.total = p->sar_total;
		cc.seq = p->sar_seq;
	}
	if (!cc.present || cc.total <= 1)
		return finish_text(g, p, p->data_coding, data, len, 1);

	rc = reasm_add(g->reasm, p->src.addr, p->dst.addr, cc.ref, cc.total,
	    cc.seq, p->data_coding, data, len, now_ms(), &whole, err,
	    sizeof(err));
	switch (rc) {
	case REASM_PENDING:
	case REASM_DUPLICATE:
		if (!evtimer_pending(g->reasm_timer, NULL)) {
			struct timeval tv = { 1, 0 };

			evtimer_add(g->reasm_timer, &tv);
		}
		return ESME_OK;
	case REASM_COMPLETE:
		status = finish_text(g, p, whole.data_coding, whole.data,
		    whole.len, whole.total);
		free(whole.data);
		return status;
	default:
		log_warn("inbound from=%s part refused: %s",
		    mask_addr(p->src.addr, a, sizeof(a)), err);
		return ESME_X_P_APPN;
	}
}

static void
on_deliver(void *arg, struct smpp_link *l, const struct pdu *p,
    uint64_t token)
{
	struct gateway *g = arg;
	uint32_t status = ESME_OK;

	if ((p->esm_class & PDU_ESM_TYPE_MASK) == PDU_ESM_RECEIPT)
		handle_receipt(g, p);
	else
		status = handle_mo(g, p);
	smpp_link_ack(l, token, status);
	pump(g);
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
	reasm_expire(g->reasm, now_ms(), reasm_dropped, g);
	next = reasm_next_expiry(g->reasm, now_ms());
	if (next != UINT64_MAX) {
		struct timeval tv = { (time_t)(next / 1000) + 1, 0 };

		evtimer_add(g->reasm_timer, &tv);
	}
}

static void
on_submit_done(void *arg, void *cookie, uint32_t status, const char *msgid)
{
	struct gateway *g = arg;

	if (status != ESME_OK)
		log_info("submit_sm outcome status=%s%s",
		    smpp_link_status_name(status),
		    outq_transient(status) ? " (will retry)" : "");
	outq_done(g->outq, cookie, status, msgid, now_ms());
	if (!g->stopping)
		pump(g);
}

static void
on_bound(void *arg, struct smpp_link *l, int bound)
{
	struct gateway *g = arg;

	(void)l;
	if (bound)
		pump(g);
}

static void
on_ready(void *arg, struct smpp_link *l)
{
	(void)l;
	pump(arg);
}

static void
on_stopped(void *arg, struct smpp_link *l)
{
	struct gateway *g = arg;

	log_info("smpp link=%s stopped", smpp_link_name(l));
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

static struct smpp_link *
make_link(struct gateway *g, const struct conf_smpp *s, const char *name,
    enum smpp_link_mode mode)
{
	static const struct smpp_link_cb cb = {
		.on_bound = on_bound,
		.on_deliver = on_deliver,
		.on_submit_done = on_submit_done,
		.on_ready = on_ready,
		.on_stopped = on_stopped,
	};
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

	return smpp_link_new(g->base, &lc, &cb, g);
}

struct gateway *
gateway_new(struct event_base *base, const struct conf *c)
{
	static const enum seg_mode modes[] = {
		[CONF_LONG_UDH] = SEG_UDH,
		[CONF_LONG_SAR] = SEG_SAR,
		[CONF_LONG_PAYLOAD] = SEG_PAYLOAD,
	};
	struct gateway *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->base = base;
	g->smpp = c->smpp;
	if (c->smpp.bind == CONF_BIND_PAIR) {
		g->tx = make_link(g, &c->smpp, "tx", LINK_TX);
		g->rx = make_link(g, &c->smpp, "rx", LINK_RX);
		if (g->tx == NULL || g->rx == NULL)
			goto fail;
	} else {
		g->tx = g->rx = make_link(g, &c->smpp, "trx", LINK_TRX);
		if (g->tx == NULL)
			goto fail;
	}
	g->reasm = reasm_new(REASM_MAX_SETS, REASM_TIMEOUT_MS);
	g->outq = outq_new(modes[c->smpp.long_messages],
	    c->smpp.registered_delivery, on_final, g);
	g->reasm_timer = evtimer_new(base, reasm_cb, g);
	g->pump_timer = evtimer_new(base, pump_cb, g);
	g->stop_timer = evtimer_new(base, stop_timeout_cb, g);
	if (g->reasm == NULL || g->outq == NULL || g->reasm_timer == NULL ||
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
	if (g->rx != NULL && g->rx != g->tx)
		smpp_link_free(g->rx);
	smpp_link_free(g->tx);
	outq_free(g->outq);
	reasm_free(g->reasm);
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
	smpp_link_start(g->tx);
	g->running = 1;
	if (g->rx != g->tx) {
		smpp_link_start(g->rx);
		g->running = 2;
	}
}

void
gateway_stop(struct gateway *g)
{
	struct timeval tv = { 0, 0 };

	if (g->stopping)
		return;
	g->stopping = 1;
	log_info("stopping: no new texts, waiting for outstanding responses");
	/* Bounded: drain + unbind each take at most response_timeout_s. */
	tv.tv_sec = 2 * g->smpp.response_timeout_s + 1;
	evtimer_add(g->stop_timer, &tv);
	if (g->rx != g->tx)
		smpp_link_stop(g->rx);
	smpp_link_stop(g->tx);
}

void
gateway_reload(struct gateway *g, const struct conf *c)
{
	const struct conf_smpp *n = &c->smpp, *o = &g->smpp;

	if (strcmp(n->host, o->host) != 0 || n->port != o->port ||
	    strcmp(n->system_id, o->system_id) != 0 ||
	    strcmp(n->password, o->password) != 0 || n->bind != o->bind ||
	    strcmp(n->system_type, o->system_type) != 0)
		log_warn("reload: [smpp] connection settings changed; they "
		    "take effect at the next restart");
	smpp_link_set_limits(g->tx, n->window, n->max_tps);
	g->smpp.window = n->window;
	g->smpp.max_tps = n->max_tps;
	log_info("reload: window=%d max_tps=%d", n->window, n->max_tps);
	pump(g);
}
