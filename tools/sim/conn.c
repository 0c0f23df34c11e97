/*
 * One ESME connection to the simulated SMSC: framing, binds, the session
 * PDUs, (optionally delayed) responses, enquire_link, and teardown. A closed
 * connection is reaped from a separate event, never inside its own callback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "tools/sim/sim.h"

#define SIM_SYSTEM_ID "smsc-sim"

/* A response held back by --delay-ms; the connection's FIFO keeps order. */
struct sim_delayed {
	TAILQ_ENTRY(sim_delayed) entry;
	uint64_t         due_ms;
	enum sim_after   after;
	struct sim_mo   *receipt;
	size_t           len;
	uint8_t          bytes[];
};

static const struct bind_mode {
	uint32_t    cmd;
	const char *name;
	bool        tx, rx;
} bind_modes[] = {
	{ PDU_BIND_TRANSMITTER, "transmitter", true, false },
	{ PDU_BIND_RECEIVER, "receiver", false, true },
	{ PDU_BIND_TRANSCEIVER, "transceiver", true, true },
};

/* One encoder buffer: the loop is single-threaded. */
static uint8_t encbuf[PDU_MAX_LEN];

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static void
json_conn_event(struct sim_conn *c, const char *event)
{
	struct sim_json j;

	sim_json_begin(&j, event);
	sim_json_int(&j, "conn", c->id);
	sim_json_end(&j);
}

bool
sim_conn_can_receive(const struct sim_conn *c)
{
	return c->rx && !c->dead && !c->draining;
}

static void
write_bytes(struct sim_conn *c, const uint8_t *b, size_t len)
{
	if (c->dead || c->draining)
		return;
	if (bufferevent_write(c->bev, b, len) == -1)
		sim_conn_close(c, "write failed");
}

/* Raw bytes (a CMPP frame); 0, or -1 when the write closed the link. */
int
sim_conn_write(struct sim_conn *c, const uint8_t *b, size_t len)
{
	write_bytes(c, b, len);
	return c->dead ? -1 : 0;
}

int
sim_conn_send(struct sim_conn *c, const struct pdu *p)
{
	char err[256];
	int n;

	if ((n = pdu_encode(p, encbuf, sizeof(encbuf), err, sizeof(err))) < 0) {
		sim_log("conn %u: cannot encode %s: %s", c->id,
		    pdu_command_name(p->command_id), err);
		return -1;
	}
	write_bytes(c, encbuf, (size_t)n);
	return c->dead ? -1 : 0;
}

/* Our own requests' sequence numbers: 1 .. 0x7FFFFFFF (SMPP 3.4 §3.2). */
uint32_t
sim_conn_next_seq(struct sim_conn *c)
{
	uint32_t seq = c->next_seq;

	c->next_seq = c->next_seq >= 0x7FFFFFFFu ? 1 : c->next_seq + 1;
	return seq;
}

static void
enquire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_conn *c = arg;
	struct pdu p;

	(void)fd;
	(void)what;
	if (c->sim->opt.protocol != SIM_SMPP) {
		sim_cmpp_active_test(c);
		return;
	}
	pdu_init(&p, PDU_ENQUIRE_LINK, 0, sim_conn_next_seq(c));
	sim_conn_send(c, &p);
}

/* Flush what is queued for the peer, then close (after unbind_resp). */
static void
close_after_flush(struct sim_conn *c, const char *reason)
{
	if (c->dead || c->draining)
		return;
	c->draining = true;
	c->drain_reason = reason;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		sim_conn_close(c, reason);
}

static void
run_after(struct sim_conn *c, enum sim_after after, struct sim_mo *receipt)
{
	struct timeval tv;

	switch (after) {
	case SIM_AFTER_NONE:
		break;
	case SIM_AFTER_BOUND:
		c->rx = c->pending_rx;
		if (c->sim->opt.enquire_link_s > 0 && c->enquire == NULL) {
			c->enquire = event_new(c->sim->base, -1, EV_PERSIST,
			    enquire_cb, c);
			tv.tv_sec = c->sim->opt.enquire_link_s;
			tv.tv_usec = 0;
			if (c->enquire != NULL)
				event_add(c->enquire, &tv);
		}
		sim_mo_pump(c->sim);
		if (c->sim->load != NULL)
			sim_load_bound(c);
		break;
	case SIM_AFTER_CLOSE:
		close_after_flush(c, "unbind");
		break;
	case SIM_AFTER_TERMINATE:
		close_after_flush(c, "terminate");
		break;
	case SIM_AFTER_RECEIPT:
		sim_mo_enqueue(c->sim, receipt);
		receipt = NULL;
		break;
	}
	free(receipt);
}

static void
delayed_free(struct sim_conn *c, struct sim_delayed *d)
{
	TAILQ_REMOVE(&c->delayed, d, entry);
	free(d->receipt);
	free(d);
}

static void
arm_delay(struct sim_conn *c, uint64_t now)
{
	struct sim_delayed *d = TAILQ_FIRST(&c->delayed);
	struct timeval tv;
	uint64_t ms;

	if (d == NULL)
		return;
	ms = d->due_ms > now ? d->due_ms - now : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->delay_timer, &tv);
}

/* Writes every response that is due, in the order they were made. */
static void
delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_conn *c = arg;
	struct sim_delayed *d;
	uint64_t now = sim_now_ms();

	(void)fd;
	(void)what;
	while ((d = TAILQ_FIRST(&c->delayed)) != NULL && d->due_ms <= now) {
		struct sim_mo *receipt = d->receipt;
		enum sim_after after = d->after;

		d->receipt = NULL;
		write_bytes(c, d->bytes, d->len);
		delayed_free(c, d);
		if (c->dead) {
			free(receipt);
			return;
		}
		run_after(c, after, receipt);
		if (c->dead)
			return;
	}
	arm_delay(c, now);
}

/*
 * Sends an encoded response now, or after --delay-ms. Takes ownership of
 * receipt (queued once the response is out, freed if the connection dies
 * first).
 */
void
sim_conn_respond_bytes(struct sim_conn *c, const uint8_t *b, size_t len,
    enum sim_after after, struct sim_mo *receipt)
{
	struct sim_delayed *d;
	uint64_t now;

	if (c->sim->opt.delay_ms == 0) {
		if (sim_conn_write(c, b, len) == 0)
			run_after(c, after, receipt);
		else
			free(receipt);
		return;
	}
	if ((d = calloc(1, sizeof(*d) + len)) == NULL) {
		sim_log("conn %u: out of memory delaying a response", c->id);
		free(receipt);
		return;
	}
	now = sim_now_ms();
	d->due_ms = now + (uint64_t)c->sim->opt.delay_ms;
	d->after = after;
	d->receipt = receipt;
	d->len = len;
	memcpy(d->bytes, b, len);
	TAILQ_INSERT_TAIL(&c->delayed, d, entry);
	if (!evtimer_pending(c->delay_timer, NULL))
		arm_delay(c, now);
}

void
sim_conn_respond(struct sim_conn *c, const struct pdu *r,
    enum sim_after after, struct sim_mo *receipt)
{
	char err[256];
	int n;

	if ((n = pdu_encode(r, encbuf, sizeof(encbuf), err, sizeof(err))) < 0) {
		sim_log("conn %u: cannot encode %s: %s", c->id,
		    pdu_command_name(r->command_id), err);
		free(receipt);
		return;
	}
	sim_conn_respond_bytes(c, encbuf, (size_t)n, after, receipt);
}

static void
on_bind(struct sim_conn *c, const struct pdu *p)
{
	const struct sim_opts *o = &c->sim->opt;
	const struct bind_mode *m = NULL;
	struct sim_json j;
	struct pdu r;
	uint32_t st = ESME_OK;
	size_t i;

	for (i = 0; i < sizeof(bind_modes) / sizeof(bind_modes[0]); i++)
		if (bind_modes[i].cmd == p->command_id)
			m = &bind_modes[i];
	if (c->mode != NULL)
		st = ESME_ALYBND;
	else if (strcmp(p->system_id, o->system_id) != 0)
		st = ESME_INVSYSID;
	else if (strcmp(p->password, o->password) != 0)
		st = ESME_INVPASWD;

	sim_json_begin(&j, "bind");
	sim_json_str(&j, "mode", m->name);
	sim_json_str(&j, "system_id", p->system_id);
	sim_json_str(&j, "status", pdu_status_name(st));
	sim_json_int(&j, "conn", c->id);
	sim_json_end(&j);
	sim_human_bind(c, m->name, p->system_id, st == ESME_OK ? NULL :
	    pdu_status_name(st));

	pdu_init(&r, p->command_id | PDU_RESP_BIT, st, p->sequence);
	snprintf(r.system_id, sizeof(r.system_id), "%s", SIM_SYSTEM_ID);
	if (st != ESME_OK) {
		sim_conn_respond(c, &r, SIM_AFTER_NONE, NULL);
		return;
	}
	/* Requests are accepted at once; deliver_sm waits for bind_resp to be
	 * out, so that none can precede it on the wire. */
	c->mode = m->name;
	snprintf(c->esme, sizeof(c->esme), "%s", p->system_id);
	c->tx = m->tx;
	c->pending_rx = m->rx;
	sim_conn_respond(c, &r, SIM_AFTER_BOUND, NULL);
}

static void
on_enquire_link(struct sim_conn *c, const struct pdu *p)
{
	struct pdu r;

	json_conn_event(c, "enquire_link");
	pdu_init(&r, PDU_ENQUIRE_LINK | PDU_RESP_BIT, ESME_OK, p->sequence);
	sim_conn_respond(c, &r, SIM_AFTER_NONE, NULL);
}

static void
on_unbind(struct sim_conn *c, const struct pdu *p)
{
	struct pdu r;

	json_conn_event(c, "unbind");
	/* No more deliver_sm on this link; what is outstanding is requeued. */
	c->rx = c->tx = c->pending_rx = false;
	pdu_init(&r, PDU_UNBIND | PDU_RESP_BIT, ESME_OK, p->sequence);
	sim_conn_respond(c, &r, SIM_AFTER_CLOSE, NULL);
}

/* Logged so tests can see the ESME answers our --enquire-link probes. */
static void
on_enquire_link_resp(struct sim_conn *c, const struct pdu *p)
{
	(void)p;
	json_conn_event(c, "enquire_link_resp");
}

static void
on_silent(struct sim_conn *c, const struct pdu *p)
{
	(void)c;
	(void)p;
}

static void
on_nack(struct sim_conn *c, const struct pdu *p)
{
	sim_log("conn %u: generic_nack seq %u status %s", c->id, p->sequence,
	    pdu_status_name(p->command_status));
	/* A nack for a deliver_sm counts as a failed delivery. */
	sim_mo_resp(c, p);
}

static const struct {
	uint32_t cmd;
	void   (*fn)(struct sim_conn *, const struct pdu *);
} handlers[] = {
	{ PDU_BIND_TRANSMITTER, on_bind },
	{ PDU_BIND_RECEIVER, on_bind },
	{ PDU_BIND_TRANSCEIVER, on_bind },
	{ PDU_ENQUIRE_LINK, on_enquire_link },
	{ PDU_UNBIND, on_unbind },
	{ PDU_SUBMIT_SM, sim_submit_handle },
	{ PDU_DELIVER_SM | PDU_RESP_BIT, sim_mo_resp },
	{ PDU_ENQUIRE_LINK | PDU_RESP_BIT, on_enquire_link_resp },
	{ PDU_UNBIND | PDU_RESP_BIT, on_silent },
	{ PDU_GENERIC_NACK, on_nack },
};

static void
nack(struct sim_conn *c, uint32_t status, uint32_t seq)
{
	struct pdu r;

	pdu_init(&r, PDU_GENERIC_NACK, status, seq);
	sim_conn_respond(c, &r, SIM_AFTER_NONE, NULL);
}

static void
handle(struct sim_conn *c, const uint8_t *buf, size_t len)
{
	struct sim_json j;
	struct pdu p;
	char err[256], herr[64];
	size_t i;

	if (pdu_decode(buf, len, &p, err, sizeof(err)) == -1) {
		memset(&p, 0, sizeof(p));
		pdu_header(buf, len, &p, herr, sizeof(herr));
		sim_json_begin(&j, "bad_pdu");
		sim_json_str(&j, "command", pdu_command_name(p.command_id));
		sim_json_int(&j, "seq", p.sequence);
		sim_json_str(&j, "error", err);
		sim_json_int(&j, "conn", c->id);
		sim_json_end(&j);
		/* A response's header is all we need from it; a request
		 * we cannot read is nacked. */
		if (!(p.command_id & PDU_RESP_BIT)) {
			nack(c, ESME_INVCMDLEN, p.sequence);
			return;
		}
	}
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].cmd == p.command_id) {
			handlers[i].fn(c, &p);
			return;
		}
	if (p.command_id & PDU_RESP_BIT)
		sim_log("conn %u: ignoring unexpected %s", c->id,
		    pdu_command_name(p.command_id));
	else
		nack(c, ESME_INVCMDID, p.sequence);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct sim_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	const struct sim_opts *o = &c->sim->opt;
	bool cmpp = o->protocol != SIM_SMPP;
	size_t hlen = cmpp ? CMPP_HEADER_LEN : PDU_HEADER_LEN;
	uint8_t hdr[PDU_HEADER_LEN > CMPP_HEADER_LEN ? PDU_HEADER_LEN :
	    CMPP_HEADER_LEN];
	struct pdu h;
	char err[128];

	while (!c->dead && !c->draining && evbuffer_get_length(in) >= hlen) {
		const uint8_t *buf;
		uint32_t len;

		evbuffer_copyout(in, hdr, hlen);
		if (cmpp && sim_cmpp_frame_len(hdr, hlen, &len, err,
		    sizeof(err)) == -1) {
			sim_log("conn %u: %s", c->id, err);
			sim_conn_close(c, "bad Total_Length");
			return;
		}
		if (!cmpp &&
		    pdu_header(hdr, hlen, &h, err, sizeof(err)) == -1) {
			sim_log("conn %u: %s", c->id, err);
			sim_conn_close(c, "bad command_length");
			return;
		}
		if (!cmpp)
			len = be32(hdr);
		if (evbuffer_get_length(in) < len)
			return;
		if ((buf = evbuffer_pullup(in, len)) == NULL) {
			sim_conn_close(c, "out of memory");
			return;
		}
		if (cmpp)
			sim_cmpp_handle(c, buf, len);
		else
			handle(c, buf, len);
		evbuffer_drain(in, len);
		c->rx_pdus++;
		if (o->drop_after > 0 && c->rx_pdus == (unsigned long)o->drop_after &&
		    !(o->drop_once && c->sim->dropped)) {
			c->sim->dropped = true;
			close_after_flush(c, "drop-after");
		}
	}
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct sim_conn *c = arg;

	if (c->draining && !c->dead &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		sim_conn_close(c, c->drain_reason);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sim_conn *c = arg;
	char why[128];

	(void)bev;
	if (what & BEV_EVENT_EOF)
		sim_conn_close(c, "peer closed");
	else if (what & BEV_EVENT_ERROR) {
		snprintf(why, sizeof(why), "socket error: %s",
		    strerror(EVUTIL_SOCKET_ERROR()));
		sim_conn_close(c, why);
	}
}

int
sim_conn_accept(struct sim *s, int fd, const char *peer)
{
	struct sim_conn *c;
	struct sim_json j;
	int one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	/* Responses go out at once: a Nagle stall would be measured as
	 * the ESME's latency. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->delay_timer = evtimer_new(s->base, delay_cb, c);
	if (c->bev == NULL || c->delay_timer == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		if (c->delay_timer != NULL)
			event_free(c->delay_timer);
		free(c);
		return -1;
	}
	c->sim = s;
	c->id = ++s->next_conn_id;
	c->next_seq = 1;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	TAILQ_INIT(&c->outstanding);
	TAILQ_INIT(&c->delayed);
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);

	sim_json_begin(&j, "connect");
	sim_json_int(&j, "conn", c->id);
	sim_json_str(&j, "peer", c->peer);
	sim_json_end(&j);
	return 0;
}

/*
 * Ends the session: reports it, requeues unacknowledged deliver_sm, drops
 * delayed responses. The memory goes at the next reap.
 */
void
sim_conn_close(struct sim_conn *c, const char *reason)
{
	struct sim *s = c->sim;
	struct sim_json j;

	if (c->dead)
		return;
	c->dead = true;
	c->rx = c->tx = false;
	sim_json_begin(&j, "close");
	sim_json_str(&j, "reason", reason);
	sim_json_int(&j, "conn", c->id);
	sim_json_end(&j);
	sim_human_close(c, reason);

	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (c->enquire != NULL) {
		event_free(c->enquire);
		c->enquire = NULL;
	}
	while (!TAILQ_EMPTY(&c->delayed))
		delayed_free(c, TAILQ_FIRST(&c->delayed));
	event_del(c->delay_timer);
	TAILQ_REMOVE(&s->conns, c, entry);
	TAILQ_INSERT_TAIL(&s->dead, c, entry);
	sim_mo_requeue(c);
	if (s->load != NULL)
		sim_load_closed(c);
	event_active(s->ev_reap, EV_TIMEOUT, 0);
	sim_mo_pump(s);
}

void
sim_conn_reap(struct sim *s)
{
	struct sim_conn *c;

	while ((c = TAILQ_FIRST(&s->dead)) != NULL) {
		TAILQ_REMOVE(&s->dead, c, entry);
		sim_mo_free_list(&c->outstanding);
		event_free(c->delay_timer);
		bufferevent_free(c->bev);
		free(c);
	}
}
