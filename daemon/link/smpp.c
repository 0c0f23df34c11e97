/*
 * The ESME side of one SMPP 3.4 connection. A named state machine
 * (enter_state logs "old -> new" and runs the entry action); one timer
 * serves every deadline (connect, bind, enquire_link, window entries,
 * throttle pause, token bucket, drain, unbind), re-armed for the earliest.
 */
#include "daemon/link/smpp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "daemon/backoff.h"
#include "daemon/clock.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/rate.h"

enum link_state {
	ST_IDLE,          /* created, not started */
	ST_WAIT,          /* waiting to reconnect */
	ST_CONNECTING,
	ST_BINDING,
	ST_BOUND,
	ST_DRAINING,      /* stopping: waiting for outstanding submits */
	ST_UNBINDING,
	ST_STOPPED,
};

static const char *const state_names[] = {
	"idle", "wait", "connecting", "binding", "bound", "draining",
	"unbinding", "stopped",
};

/* Output above this stops reading until it drains below the low mark. */
#define OUT_HIGH_WATER   (1u << 20)
#define OUT_LOW_WATER    (256u << 10)
/* Throttle pause: first, and the cap it doubles up to. */
/* Bound this long before a drop: the next reconnect starts from min. */
#define STABLE_BIND_MS    10000
#define ENCODE_BUF        4096
#define READ_TURN_MAX     (64u << 10)  /* bytes read in one loop turn */

struct slot {
	int      used;
	uint32_t seq;
	uint64_t deadline;
	void    *cookie;
};

struct smpp_link {
	struct link          link;         /* first: a struct link */
	struct event_base   *base;
	struct evdns_base   *dns;
	struct link_cfg      cfg;
	char                 name[16], host[256], system_id[16];
	char                 password[9], system_type[13];
	struct link_cb       cb;
	void                *arg;

	enum link_state      state;
	int                  stopping;
	struct bufferevent  *bev;
	uint32_t             gen;          /* connection generation (tokens) */
	struct event        *timer;
	uint64_t             timer_at;     /* 0 = not armed */
	struct event        *reconnect;
	struct backoff       backoff;
	struct rate          rate;       /* max_tps and the learned rate */
	uint32_t             next_seq;

	struct slot         *win;
	int                  win_cap;      /* allocated slots */
	int                  outstanding;
	int                  want_ready;   /* someone was told "not now" */

	uint32_t             ctl_seq;      /* bind or unbind in flight */
	uint64_t             ctl_deadline;
	uint32_t             enq_seq;      /* enquire_link in flight */
	uint64_t             enq_deadline;
	uint64_t             last_resp;    /* last response to our request */
	uint64_t             bound_at;
	uint64_t             drain_deadline;
	int                  read_paused;
};

static void enter_state(struct smpp_link *, enum link_state);
static int op_can_submit(struct link *);
static void link_drop(struct smpp_link *, const char *);
static void arm(struct smpp_link *, uint64_t);

static uint64_t
timeout_ms(const struct smpp_link *l)
{
	return (uint64_t)l->cfg.response_timeout_s * 1000;
}

static uint32_t
next_seq(struct smpp_link *l)
{
	uint32_t s = l->next_seq;

	l->next_seq = s >= 0x7FFFFFFFu ? 1 : s + 1;
	return s;
}

static int
link_send(struct smpp_link *l, const struct pdu *p)
{
	uint8_t buf[ENCODE_BUF];
	char err[200];
	int n;

	if (l->bev == NULL)
		return -1;
	n = pdu_encode(p, buf, sizeof(buf), err, sizeof(err));
	if (n < 0) {
		log_err("smpp link=%s encode failed: %s", l->name, err);
		return -1;
	}
	if (bufferevent_write(l->bev, buf, (size_t)n) == -1) {
		log_err("smpp link=%s write failed", l->name);
		return -1;
	}
	if (!l->read_paused &&
	    evbuffer_get_length(bufferevent_get_output(l->bev)) >
	    OUT_HIGH_WATER) {
		/* The SMSC is not reading: stop producing answers for it. */
		bufferevent_disable(l->bev, EV_READ);
		l->read_paused = 1;
		log_warn("smpp link=%s output backlog, reading paused", l->name);
	}
	return 0;
}

static void
send_simple(struct smpp_link *l, uint32_t cmd, uint32_t status, uint32_t seq)
{
	struct pdu p;

	pdu_init(&p, cmd, status, seq);
	(void)link_send(l, &p);
}

static void
maybe_ready(struct smpp_link *l)
{
	if (l->want_ready && op_can_submit(&l->link)) {
		l->want_ready = 0;
		if (l->cb.on_ready != NULL)
			l->cb.on_ready(l->arg, &l->link);
	}
}

/* Hands every outstanding submit back with status; window emptied. */
static void
fail_window(struct smpp_link *l, uint32_t status)
{
	for (int i = 0; i < l->win_cap; i++) {
		struct slot *s = &l->win[i];
		void *cookie;

		if (!s->used)
			continue;
		cookie = s->cookie;
		s->used = 0;
		l->outstanding--;
		l->cb.on_submit_done(l->arg, cookie, status, NULL);
	}
}

static struct slot *
slot_find(struct smpp_link *l, uint32_t seq)
{
	for (int i = 0; i < l->win_cap; i++)
		if (l->win[i].used && l->win[i].seq == seq)
			return &l->win[i];
	return NULL;
}

static void
on_submit_resp(struct smpp_link *l, const struct pdu *p)
{
	struct slot *s = slot_find(l, p->sequence);
	void *cookie;

	if (s == NULL) {
		log_warn("smpp link=%s %s seq=%u matches no submit (late after "
		    "a timeout?)", l->name, pdu_command_name(p->command_id),
		    p->sequence);
		return;
	}
	cookie = s->cookie;
	s->used = 0;
	l->outstanding--;
	/* The carrier's answers teach the link its real rate: a throttle
	 * cuts it (once per burst of answers), acceptances raise it. */
	if (p->command_status == ESME_THROTTLED ||
	    p->command_status == ESME_MSGQFUL) {
		metrics_add(M_THROTTLED, NULL, 1);
		if (rate_throttled(&l->rate, clock_now_us()))
			log_info("smpp link=%s throttled status=%s: rate now "
			    "%u/s", l->name, pdu_status_name(p->command_status),
			    rate_current(&l->rate));
	} else if (p->command_status == ESME_OK) {
		rate_accepted(&l->rate, clock_now_us());
	}
	l->cb.on_submit_done(l->arg, cookie, p->command_status,
	    p->command_status == ESME_OK ? p->message_id : NULL);
	if (l->state == ST_DRAINING && l->outstanding == 0)
		enter_state(l, ST_UNBINDING);
	else
		maybe_ready(l);
}

static void
on_bind_resp(struct smpp_link *l, const struct pdu *p)
{
	if (l->state != ST_BINDING || p->sequence != l->ctl_seq) {
		log_warn("smpp link=%s unexpected %s seq=%u in state %s",
		    l->name, pdu_command_name(p->command_id), p->sequence,
		    state_names[l->state]);
		return;
	}
	if (p->command_status != ESME_OK) {
		log_err("smpp link=%s bind refused status=%s (0x%08x)", l->name,
		    pdu_status_name(p->command_status), p->command_status);
		link_drop(l, "bind refused");
		return;
	}
	l->ctl_seq = 0;
	enter_state(l, ST_BOUND);
}

static void
on_deliver(struct smpp_link *l, const struct pdu *p)
{
	uint32_t refuse = ESME_OK;

	if (l->cfg.mode == LINK_TX || l->state == ST_BINDING)
		refuse = ESME_INVBNDSTS;
	else if (l->stopping)
		refuse = ESME_X_T_APPN;   /* keep it at the SMSC for later */
	if (refuse != ESME_OK) {
		send_simple(l, PDU_DELIVER_SM_RESP, refuse, p->sequence);
		return;
	}
	l->cb.on_deliver(l->arg, &l->link, p, (uint64_t)l->gen << 32 | p->sequence);
}

/* One decoded PDU from the SMSC. Requests switch on the command; responses
 * are matched against what is in flight. */
static void
handle_pdu(struct smpp_link *l, const struct pdu *p)
{
	log_debug("smpp link=%s rx cmd=%s status=%s seq=%u", l->name,
	    pdu_command_name(p->command_id),
	    pdu_status_name(p->command_status), p->sequence);
	switch (p->command_id) {
	case PDU_BIND_TRANSCEIVER_RESP:
	case PDU_BIND_TRANSMITTER_RESP:
	case PDU_BIND_RECEIVER_RESP:
		on_bind_resp(l, p);
		break;
	case PDU_ENQUIRE_LINK:
		send_simple(l, PDU_ENQUIRE_LINK_RESP, ESME_OK, p->sequence);
		break;
	case PDU_ENQUIRE_LINK_RESP:
		if (p->sequence == l->enq_seq)
			l->enq_seq = 0;
		break;
	case PDU_UNBIND:
		send_simple(l, PDU_UNBIND_RESP, ESME_OK, p->sequence);
		link_drop(l, "SMSC unbound");
		break;
	case PDU_UNBIND_RESP:
		if (l->state == ST_UNBINDING)
			link_drop(l, "unbound");
		break;
	case PDU_SUBMIT_SM_RESP:
		on_submit_resp(l, p);
		break;
	case PDU_DELIVER_SM:
		on_deliver(l, p);
		break;
	case PDU_GENERIC_NACK:
		log_warn("smpp link=%s generic_nack status=%s seq=%u", l->name,
		    pdu_status_name(p->command_status), p->sequence);
		if (slot_find(l, p->sequence) != NULL)
			on_submit_resp(l, p);
		else if (p->sequence == l->ctl_seq && l->state == ST_BINDING)
			link_drop(l, "bind answered with generic_nack");
		break;
	default:
		if (p->command_id & PDU_RESP_BIT) {
			log_warn("smpp link=%s ignoring %s seq=%u", l->name,
			    pdu_command_name(p->command_id), p->sequence);
		} else {
			log_warn("smpp link=%s nacking %s (0x%08x) seq=%u",
			    l->name, pdu_command_name(p->command_id),
			    p->command_id, p->sequence);
			send_simple(l, PDU_GENERIC_NACK, ESME_INVCMDID,
			    p->sequence);
		}
	}
}

/*
 * A whole frame whose body does not unpack; only the header fields of h
 * are set (pdu_header). The framing is intact, so the link stays up: a
 * request is refused from its header (pdu_refusal: a deliver_sm for good,
 * or the SMSC would deliver it again forever), and a response is handled
 * from its header, whose status and sequence number are what our request
 * waits for. A submit_sm_resp
 * ESME_ROK with a broken message_id thus counts as accepted, with no SMSC
 * id (its receipt will match nothing): sending the part again would send
 * the citizen a second copy.
 */
static void
on_undecodable(struct smpp_link *l, const struct pdu *h, uint32_t len,
    const char *why)
{
	struct pdu resp, hdr;
	int answer = pdu_refusal(h, &resp);

	metrics_add(M_UNDECODABLE, pdu_command_name(h->command_id), 1);
	log_warn("smpp link=%s undecodable %s (0x%08x) seq=%u len=%u, %s: %s",
	    l->name, pdu_command_name(h->command_id), h->command_id,
	    h->sequence, len, !answer ? "handled from its header" :
	    resp.command_id == PDU_GENERIC_NACK ? "generic_nack" :
	    "refused for good", why);
	if (!answer) {
		/* The header alone: no message_id, no system_id. */
		pdu_init(&hdr, h->command_id, h->command_status, h->sequence);
		handle_pdu(l, &hdr);
		return;
	}
	if (resp.command_id == PDU_DELIVER_SM_RESP)
		metrics_add(M_INBOUND_REFUSED, NULL, 1);
	(void)link_send(l, &resp);
}

/*
 * Reads what the socket already holds into in, up to *more bytes in this
 * loop turn. Returns the bytes read; 0 at EOF, on EAGAIN or while reading
 * is paused (the bufferevent sees EOF on its own next read); -1 on a read
 * error, with errno: the caller drops the link.
 */
static ev_ssize_t
read_more(struct smpp_link *l, struct evbuffer *in, size_t *more)
{
	evutil_socket_t fd = bufferevent_getfd(l->bev);
	int n;

	if (*more == 0 || l->read_paused || fd < 0)
		return 0;
	/* A socket bufferevent keeps its input's end frozen outside its own
	 * reads (as link_drop does for the output's front). */
	evbuffer_unfreeze(in, 0);
	n = evbuffer_read(in, fd, *more < 4096 ? (int)*more : 4096);
	evbuffer_freeze(in, 0);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -1;
	if (n <= 0)
		return 0;
	*more -= (size_t)n;            /* evbuffer_read reads at most that */
	return n;
}

static const char *
read_error(char *buf, size_t len)
{
	snprintf(buf, len, "read failed: %s", strerror(errno));
	return buf;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct smpp_link *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	const char *bad = NULL;
	uint32_t gen = l->gen;
	size_t more = READ_TURN_MAX;
	ev_ssize_t got;
	char why[96];
	uint64_t outer = clock_turn_us;

	clock_turn_us = clock_us();
	/* Read while a whole frame is buffered; stop if the link drops. */
	while (l->gen == gen && l->bev != NULL) {
		uint8_t hdr[PDU_HEADER_LEN];
		struct pdu h, p;
		char err[200];
		uint8_t *data;
		uint32_t len;
		int rc;

		/* libevent reads 4 KiB per callback; what else has arrived
		 * joins this turn's batch and its one commit. */
		if (evbuffer_get_length(in) < PDU_HEADER_LEN) {
			if ((got = read_more(l, in, &more)) > 0)
				continue;
			if (got < 0)
				bad = read_error(why, sizeof(why));
			break;
		}
		evbuffer_copyout(in, hdr, sizeof(hdr));
		if (pdu_header(hdr, sizeof(hdr), &h, err, sizeof(err)) == -1) {
			log_err("smpp link=%s bad frame: %s", l->name, err);
			bad = "bad frame";
			break;
		}
		len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		    (uint32_t)hdr[2] << 8 | hdr[3];
		if (evbuffer_get_length(in) < len) {
			if ((got = read_more(l, in, &more)) > 0)
				continue;
			if (got < 0)
				bad = read_error(why, sizeof(why));
			break;
		}
		data = evbuffer_pullup(in, len);
		rc = pdu_decode(data, len, &p, err, sizeof(err));
		evbuffer_drain(in, len);
		if (h.command_id & PDU_RESP_BIT)
			l->last_resp = clock_now_ms();
		if (rc == -1)
			on_undecodable(l, &h, len, err);
		else
			handle_pdu(l, &p);
	}
	/* What was read before a bad frame is still answered. */
	if (l->gen == gen && l->cb.on_read_done != NULL)
		l->cb.on_read_done(l->arg, &l->link);
	if (bad != NULL && l->gen == gen)
		link_drop(l, bad);
	clock_turn_us = outer;
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct smpp_link *l = arg;

	if (l->read_paused) {
		l->read_paused = 0;
		bufferevent_enable(bev, EV_READ);
		log_info("smpp link=%s output drained, reading resumed",
		    l->name);
		read_cb(bev, l);
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct smpp_link *l = arg;
	char why[256];

	if (what & BEV_EVENT_CONNECTED) {
		int fd = bufferevent_getfd(bev), on = 1;

		/* Small PDUs must not wait for Nagle. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		enter_state(l, ST_BINDING);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		snprintf(why, sizeof(why), "connection closed by SMSC");
	} else {
		int dnserr = bufferevent_socket_get_dns_error(bev);

		snprintf(why, sizeof(why), "%s", dnserr ?
		    evutil_gai_strerror(dnserr) :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	link_drop(l, why);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smpp_link *l = arg;
	uint64_t now = clock_ms(), next = UINT64_MAX;

	(void)fd;
	(void)what;
	l->timer_at = 0;

	switch (l->state) {
	case ST_CONNECTING:
	case ST_BINDING:
	case ST_UNBINDING:
		if (now >= l->ctl_deadline) {
			link_drop(l, l->state == ST_CONNECTING ?
			    "connect timeout" : l->state == ST_BINDING ?
			    "bind timeout" : "unbind timeout");
			return;
		}
		next = l->ctl_deadline;
		break;
	case ST_BOUND:
	case ST_DRAINING:
		if (l->enq_seq != 0 && now >= l->enq_deadline) {
			link_drop(l, "enquire_link timeout");
			return;
		}
		/* Only a response to one of our requests shows that the SMSC
		 * still serves us; its own enquire_links do not. */
		if (l->enq_seq == 0 && now >= l->last_resp +
		    (uint64_t)l->cfg.enquire_link_s * 1000) {
			l->enq_seq = next_seq(l);
			l->enq_deadline = now + timeout_ms(l);
			send_simple(l, PDU_ENQUIRE_LINK, ESME_OK, l->enq_seq);
		}
		next = l->enq_seq != 0 ? l->enq_deadline :
		    l->last_resp + (uint64_t)l->cfg.enquire_link_s * 1000;
		for (int i = 0; i < l->win_cap; i++) {
			struct slot *s = &l->win[i];

			if (!s->used)
				continue;
			if (s->deadline <= now) {
				void *cookie = s->cookie;

				log_warn("smpp link=%s submit_sm seq=%u: no "
				    "response in %d s, will retry", l->name,
				    s->seq, l->cfg.response_timeout_s);
				s->used = 0;
				l->outstanding--;
				l->cb.on_submit_done(l->arg, cookie,
				    LINK_TIMEOUT, NULL);
				if (l->bev == NULL)
					return;
			} else if (s->deadline < next) {
				next = s->deadline;
			}
		}
		if (l->state == ST_DRAINING) {
			if (l->outstanding == 0 || now >= l->drain_deadline) {
				enter_state(l, ST_UNBINDING);
				return;
			}
			if (l->drain_deadline < next)
				next = l->drain_deadline;
		}
		maybe_ready(l);
		break;
	default:
		return;
	}
	if (next != UINT64_MAX)
		arm(l, next);
}

/* Makes sure the timer fires no later than when (monotonic ms). */
static void
arm(struct smpp_link *l, uint64_t when)
{
	uint64_t now, d;
	struct timeval tv;

	if (l->timer_at != 0 && l->timer_at <= when)
		return;
	now = clock_now_ms();
	d = when > now ? when - now : 0;
	tv.tv_sec = (time_t)(d / 1000);
	tv.tv_usec = (suseconds_t)(d % 1000) * 1000;
	evtimer_add(l->timer, &tv);
	l->timer_at = when;
}

static void
reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	enter_state(arg, ST_CONNECTING);
}

static void
start_connect(struct smpp_link *l)
{
	l->bev = bufferevent_socket_new(l->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (l->bev == NULL) {
		link_drop(l, "cannot create socket");
		return;
	}
	bufferevent_setcb(l->bev, read_cb, write_cb, event_cb, l);
	bufferevent_setwatermark(l->bev, EV_WRITE, OUT_LOW_WATER, 0);
	bufferevent_enable(l->bev, EV_READ);
	l->ctl_deadline = clock_ms() + timeout_ms(l);
	arm(l, l->ctl_deadline);
	if (bufferevent_socket_connect_hostname(l->bev, l->dns, AF_UNSPEC,
	    l->host, l->cfg.port) == -1 && l->bev != NULL &&
	    l->state == ST_CONNECTING)
		link_drop(l, "connect failed");
}

static void
send_bind(struct smpp_link *l)
{
	static const uint32_t cmd[] = {
		[LINK_TRX] = PDU_BIND_TRANSCEIVER,
		[LINK_TX] = PDU_BIND_TRANSMITTER,
		[LINK_RX] = PDU_BIND_RECEIVER,
	};
	struct pdu p;

	l->ctl_seq = next_seq(l);
	pdu_init(&p, cmd[l->cfg.mode], ESME_OK, l->ctl_seq);
	snprintf(p.system_id, sizeof(p.system_id), "%s", l->system_id);
	snprintf(p.password, sizeof(p.password), "%s", l->password);
	snprintf(p.system_type, sizeof(p.system_type), "%s", l->system_type);
	p.interface_version = 0x34;
	l->ctl_deadline = clock_ms() + timeout_ms(l);
	arm(l, l->ctl_deadline);
	if (link_send(l, &p) == -1)
		link_drop(l, "cannot send bind");
}

static void
enter_state(struct smpp_link *l, enum link_state next)
{
	enum link_state prev = l->state;
	struct timeval tv;
	uint32_t delay;

	if (prev == ST_STOPPED)
		return;
	log_info("smpp link=%s state %s -> %s", l->name, state_names[prev],
	    state_names[next]);
	l->state = next;
	switch (next) {
	case ST_WAIT:
		delay = backoff_next(&l->backoff);
		log_info("smpp link=%s reconnect in %u ms", l->name, delay);
		tv.tv_sec = delay / 1000;
		tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
		evtimer_add(l->reconnect, &tv);
		break;
	case ST_CONNECTING:
		if (prev == ST_WAIT)
			metrics_add(M_RECONNECTS, NULL, 1);
		start_connect(l);
		break;
	case ST_BINDING:
		send_bind(l);
		break;
	case ST_BOUND:
		/* The learned rate outlives the session: it is the
		 * carrier's. */
		l->bound_at = l->last_resp = clock_ms();
		arm(l, l->last_resp + (uint64_t)l->cfg.enquire_link_s * 1000);
		log_info("smpp link=%s bound system_id=%s host=%s port=%d",
		    l->name, l->system_id, l->host, l->cfg.port);
		if (l->cb.on_bound != NULL)
			l->cb.on_bound(l->arg, &l->link, 1);
		break;
	case ST_DRAINING:
		l->drain_deadline = clock_ms() + timeout_ms(l);
		arm(l, l->drain_deadline);
		break;
	case ST_UNBINDING:
		l->ctl_seq = next_seq(l);
		l->ctl_deadline = clock_ms() + timeout_ms(l);
		arm(l, l->ctl_deadline);
		send_simple(l, PDU_UNBIND, ESME_OK, l->ctl_seq);
		break;
	case ST_STOPPED:
		evtimer_del(l->timer);
		evtimer_del(l->reconnect);
		if (l->cb.on_stopped != NULL)
			l->cb.on_stopped(l->arg, &l->link);
		break;
	case ST_IDLE:
		break;
	}
}

/*
 * One non-blocking attempt to put what is queued (an unbind_resp, the last
 * deliver_sm_resps) on the wire: bufferevent_free discards it. libevent
 * freezes the front of a socket's output buffer outside its own write
 * callback, so this does what that callback does: unfreeze, write, freeze.
 */
static void
flush_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	if (evbuffer_get_length(out) == 0)
		return;
	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, bufferevent_getfd(bev));
	evbuffer_freeze(out, 1);
}

/* Closes the connection, hands back the window, and either waits to
 * reconnect or, when stopping, stops. */
static void
link_drop(struct smpp_link *l, const char *reason)
{
	int was_bound = l->state == ST_BOUND || l->state == ST_DRAINING ||
	    l->state == ST_UNBINDING;
	uint64_t now = clock_ms();

	if (l->state == ST_STOPPED)
		return;
	if (l->stopping && l->state == ST_UNBINDING)
		log_info("smpp link=%s closed: %s", l->name, reason);
	else
		log_warn("smpp link=%s dropped: %s", l->name, reason);
	if (l->bev != NULL) {
		flush_now(l->bev);
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	l->gen++;
	l->ctl_seq = l->enq_seq = 0;
	l->read_paused = 0;
	if (was_bound && now - l->bound_at >= STABLE_BIND_MS)
		backoff_reset(&l->backoff);
	fail_window(l, LINK_LOST);
	if (was_bound && l->cb.on_bound != NULL)
		l->cb.on_bound(l->arg, &l->link, 0);
	enter_state(l, l->stopping ? ST_STOPPED : ST_WAIT);
}

static const struct link_ops smpp_ops;
static void op_free(struct link *);

struct link *
smpp_link_new(struct event_base *base, const struct link_cfg *cfg,
    const struct link_cb *cb, void *arg)
{
	struct smpp_link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->base = base;
	l->cfg = *cfg;
	rate_init(&l->rate, (uint32_t)cfg->max_tps, clock_us());
	snprintf(l->name, sizeof(l->name), "%s", cfg->name);
	snprintf(l->host, sizeof(l->host), "%s", cfg->host);
	snprintf(l->system_id, sizeof(l->system_id), "%s", cfg->system_id);
	snprintf(l->password, sizeof(l->password), "%s", cfg->password);
	snprintf(l->system_type, sizeof(l->system_type), "%s",
	    cfg->system_type);
	l->cfg.name = l->cfg.host = l->cfg.system_id = l->cfg.password =
	    l->cfg.system_type = NULL;   /* use the copies above */
	l->cfg.source_addr = l->cfg.service_id = l->cfg.fee_type =
	    l->cfg.fee_code = NULL;      /* CMPP's */
	l->cb = *cb;
	l->arg = arg;
	l->next_seq = 1;
	l->win_cap = cfg->window;
	if ((l->win = calloc((size_t)l->win_cap, sizeof(*l->win))) == NULL)
		goto fail;
	if ((l->timer = evtimer_new(base, timer_cb, l)) == NULL ||
	    (l->reconnect = evtimer_new(base, reconnect_cb, l)) == NULL)
		goto fail;
	l->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (l->dns == NULL)   /* no resolv.conf: numeric hosts still work */
		l->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (l->dns == NULL)
		goto fail;
	backoff_init(&l->backoff, (uint32_t)cfg->reconnect_min_s * 1000,
	    (uint32_t)cfg->reconnect_max_s * 1000,
	    (uint64_t)getpid() << 32 ^ clock_us() ^ (uintptr_t)l);
	l->link.ops = &smpp_ops;
	return &l->link;
fail:
	op_free(&l->link);
	return NULL;
}

static void
op_free(struct link *lk)
{
	struct smpp_link *l = (struct smpp_link *)lk;

	if (l == NULL)
		return;
	if (l->win != NULL)
		fail_window(l, LINK_LOST);
	if (l->bev != NULL)
		bufferevent_free(l->bev);
	if (l->timer != NULL)
		event_free(l->timer);
	if (l->reconnect != NULL)
		event_free(l->reconnect);
	if (l->dns != NULL)
		evdns_base_free(l->dns, 0);
	free(l->win);
	free(l);
}

static void
op_start(struct link *lk)
{
	struct smpp_link *l = (struct smpp_link *)lk;

	if (l->state == ST_IDLE)
		enter_state(l, ST_CONNECTING);
}

static void
op_stop(struct link *lk)
{
	struct smpp_link *l = (struct smpp_link *)lk;

	if (l->stopping)
		return;
	l->stopping = 1;
	switch (l->state) {
	case ST_BOUND:
		if (l->outstanding == 0)
			enter_state(l, ST_UNBINDING);
		else
			enter_state(l, ST_DRAINING);
		break;
	case ST_IDLE:
	case ST_WAIT:
	case ST_CONNECTING:
	case ST_BINDING:
		link_drop(l, "stopping");
		break;
	default:
		break;
	}
}

static int
op_can_submit(struct link *lk)
{
	struct smpp_link *l = (struct smpp_link *)lk;

	uint64_t wait;

	if (l->state != ST_BOUND || l->bev == NULL || l->stopping ||
	    l->cfg.mode == LINK_RX)
		return 0;
	if (l->outstanding >= l->cfg.window || l->read_paused) {
		l->want_ready = 1;
		return 0;
	}
	/* The wait includes a pause after a throttle. */
	if ((wait = rate_wait_us(&l->rate, clock_now_us())) > 0) {
		l->want_ready = 1;
		arm(l, clock_now_ms() + (wait + 999) / 1000);
		return 0;
	}
	return 1;
}

static int
op_submit(struct link *lk, struct pdu *p, void *cookie, char *err,
    size_t errlen)
{
	struct smpp_link *l = (struct smpp_link *)lk;

	uint8_t buf[ENCODE_BUF];
	struct slot *s = NULL;
	int n;

	if (!op_can_submit(&l->link)) {
		snprintf(err, errlen, "link not ready");
		return -1;
	}
	for (int i = 0; i < l->win_cap; i++)
		if (!l->win[i].used) {
			s = &l->win[i];
			break;
		}
	if (s == NULL) {   /* window shrunk by a reload below outstanding */
		snprintf(err, errlen, "window full");
		l->want_ready = 1;
		return -1;
	}
	p->command_id = PDU_SUBMIT_SM;
	p->command_status = ESME_OK;
	p->sequence = next_seq(l);
	n = pdu_encode(p, buf, sizeof(buf), err, errlen);
	if (n < 0)
		return -1;
	if (bufferevent_write(l->bev, buf, (size_t)n) == -1) {
		snprintf(err, errlen, "write failed");
		return -1;
	}
	(void)rate_take(&l->rate, clock_now_us());
	s->used = 1;
	s->seq = p->sequence;
	s->cookie = cookie;
	s->deadline = clock_now_ms() + timeout_ms(l);
	l->outstanding++;
	arm(l, s->deadline);
	return 0;
}

static void
op_ack(struct link *lk, uint64_t token, uint32_t status)
{
	struct smpp_link *l = (struct smpp_link *)lk;

	if ((uint32_t)(token >> 32) != l->gen || l->bev == NULL) {
		log_debug("smpp link=%s ack for an earlier connection dropped; "
		    "the SMSC will deliver again", l->name);
		return;
	}
	send_simple(l, PDU_DELIVER_SM_RESP, status, (uint32_t)token);
}

static void
op_set_limits(struct link *lk, int window, int max_tps)
{
	struct smpp_link *l = (struct smpp_link *)lk;

	if (window > l->win_cap) {
		struct slot *w = realloc(l->win, (size_t)window * sizeof(*w));

		if (w == NULL) {
			log_err("smpp link=%s cannot grow window to %d",
			    l->name, window);
			return;
		}
		memset(w + l->win_cap, 0,
		    (size_t)(window - l->win_cap) * sizeof(*w));
		l->win = w;
		l->win_cap = window;
	}
	l->cfg.window = window;
	if (l->cfg.max_tps != max_tps) {
		l->cfg.max_tps = max_tps;
		rate_set_max(&l->rate, (uint32_t)max_tps, clock_us());
	}
	maybe_ready(l);
}

static uint32_t
op_rate(const struct link *lk)
{
	const struct smpp_link *l = (const struct smpp_link *)lk;

	return rate_current(&l->rate);
}

static int
op_is_bound(const struct link *lk)
{
	const struct smpp_link *l = (const struct smpp_link *)lk;

	return l->state == ST_BOUND;
}

static int
op_outstanding(const struct link *lk)
{
	const struct smpp_link *l = (const struct smpp_link *)lk;

	return l->outstanding;
}

static const char *
op_state(const struct link *lk)
{
	const struct smpp_link *l = (const struct smpp_link *)lk;

	return state_names[l->state];
}

static const char *
op_name(const struct link *lk)
{
	const struct smpp_link *l = (const struct smpp_link *)lk;

	return l->name;
}


static const struct link_ops smpp_ops = {
	.start = op_start,
	.stop = op_stop,
	.free = op_free,
	.can_submit = op_can_submit,
	.submit = op_submit,
	.ack = op_ack,
	.set_limits = op_set_limits,
	.is_bound = op_is_bound,
	.outstanding = op_outstanding,
	.state = op_state,
	.name = op_name,
	.rate = op_rate,
};
