/*
 * The SP side of one CMPP 3.0 / 2.0 connection to an ISMG, built like
 * link/smpp.c: a named state machine (enter_state logs "old -> new"), one
 * timer for every deadline, a window of SUBMITs matched by Sequence_Id,
 * the adaptive rate, backoff reconnect, drain then TERMINATE. Submits come
 * in as SMPP submit_sm and leave as SUBMIT; DELIVERs (texts and status
 * reports) go up as SMPP deliver_sm. CMPP has no generic_nack: an unknown
 * command or a broken frame drops the connection with the reason logged.
 */
#include "daemon/link/cmpp.h"

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
#include "proto/cmpp.h"
#include "proto/cmppmap.h"

enum link_state {
	ST_IDLE,          /* created, not started */
	ST_WAIT,          /* waiting to reconnect */
	ST_CONNECTING,    /* TCP */
	ST_BINDING,       /* CONNECT sent */
	ST_BOUND,
	ST_DRAINING,      /* stopping: waiting for outstanding submits */
	ST_UNBINDING,     /* TERMINATE sent */
	ST_STOPPED,
};

/* The SMPP session's names: `smsgwctl links` reads both alike. */
static const char *const state_names[] = {
	"idle", "wait", "connecting", "binding", "bound", "draining",
	"unbinding", "stopped",
};

#define OUT_HIGH_WATER   (1u << 20)
#define OUT_LOW_WATER    (256u << 10)
#define STABLE_BIND_MS    10000
#define READ_TURN_MAX     (64u << 10)
#define PEND_MAX          65536        /* DELIVERs handed up, not answered */

struct slot {
	int      used;
	uint32_t seq;
	uint64_t deadline;
	void    *cookie;
};

/* A DELIVER handed up and not yet answered: its DELIVER_RESP must carry
 * the Msg_Id, which the token (generation, Sequence_Id) has no room for. */
struct pend {
	uint32_t seq;
	int      live;
	uint64_t msg_id;
};

struct cmpp_link {
	struct link          link;         /* first: a struct link */
	enum cmpp_version    ver;
	struct event_base   *base;
	struct evdns_base   *dns;
	struct link_cfg      cfg;
	char                 name[16], host[256], sp_id[7], secret[64];
	char                 service_id[11], fee_type[3], fee_code[7];
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
	struct rate          rate;
	uint32_t             next_seq;
	uint8_t              auth[16];     /* AuthenticatorSource sent */

	struct slot         *win;
	int                  win_cap;
	int                  outstanding;
	int                  want_ready;

	struct pend         *pend;         /* a ring, oldest at pend_head */
	size_t               pend_cap, pend_head, pend_n;

	uint32_t             ctl_seq;      /* CONNECT or TERMINATE in flight */
	uint64_t             ctl_deadline;
	uint32_t             enq_seq;      /* ACTIVE_TEST in flight */
	uint64_t             enq_deadline, enq_sent;
	int                  enq_tries;
	uint64_t             last_resp;    /* last response to our request */
	uint64_t             bound_at;
	uint64_t             drain_deadline;
	int                  read_paused;
};

static void enter_state(struct cmpp_link *, enum link_state);
static int op_can_submit(struct link *);
static void link_drop(struct cmpp_link *, const char *);
static void arm(struct cmpp_link *, uint64_t);

static uint64_t
timeout_ms(const struct cmpp_link *l)
{
	return (uint64_t)l->cfg.response_timeout_s * 1000;
}

static uint32_t
next_seq(struct cmpp_link *l)
{
	uint32_t s = l->next_seq;

	l->next_seq = s >= 0x7FFFFFFFu ? 1 : s + 1;
	return s;
}

static void
msg_init(struct cmpp *p, uint32_t cmd, uint32_t seq)
{
	memset(p, 0, sizeof(*p));
	p->command_id = cmd;
	p->sequence = seq;
}

static void
check_backlog(struct cmpp_link *l)
{
	if (!l->read_paused &&
	    evbuffer_get_length(bufferevent_get_output(l->bev)) >
	    OUT_HIGH_WATER) {
		/* The ISMG is not reading: stop producing answers for it. */
		bufferevent_disable(l->bev, EV_READ);
		l->read_paused = 1;
		log_warn("cmpp link=%s output backlog, reading paused", l->name);
	}
}

/* Encodes and queues p; -1 with err. */
static int
send_msg(struct cmpp_link *l, const struct cmpp *p, char *err, size_t errlen)
{
	uint8_t buf[CMPP_MAX_LEN];
	int n;

	if (l->bev == NULL) {
		snprintf(err, errlen, "not connected");
		return -1;
	}
	if ((n = cmpp_encode(l->ver, p, buf, sizeof(buf), err, errlen)) < 0)
		return -1;
	if (bufferevent_write(l->bev, buf, (size_t)n) == -1) {
		snprintf(err, errlen, "write failed");
		return -1;
	}
	check_backlog(l);
	return 0;
}

static int
send_logged(struct cmpp_link *l, const struct cmpp *p)
{
	char err[200];

	if (send_msg(l, p, err, sizeof(err)) == -1) {
		log_err("cmpp link=%s cannot send %s: %s", l->name,
		    cmpp_command_name(p->command_id), err);
		return -1;
	}
	return 0;
}

static void
send_simple(struct cmpp_link *l, uint32_t cmd, uint32_t seq)
{
	struct cmpp p;

	msg_init(&p, cmd, seq);
	(void)send_logged(l, &p);
}

static void
send_deliver_resp(struct cmpp_link *l, uint32_t seq, uint64_t msg_id,
    uint32_t result)
{
	struct cmpp p;

	msg_init(&p, CMPP_DELIVER_RESP, seq);
	p.msg_id = msg_id;
	p.status = result;
	(void)send_logged(l, &p);
}

static void
maybe_ready(struct cmpp_link *l)
{
	if (l->want_ready && op_can_submit(&l->link)) {
		l->want_ready = 0;
		if (l->cb.on_ready != NULL)
			l->cb.on_ready(l->arg, &l->link);
	}
}

static void
fail_window(struct cmpp_link *l, uint32_t status)
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
slot_find(struct cmpp_link *l, uint32_t seq)
{
	for (int i = 0; i < l->win_cap; i++)
		if (l->win[i].used && l->win[i].seq == seq)
			return &l->win[i];
	return NULL;
}

/* ---- DELIVERs waiting for their answer ---------------------------------- */

static int
pend_push(struct cmpp_link *l, uint32_t seq, uint64_t msg_id)
{
	struct pend *e;

	if (l->pend_n == l->pend_cap) {
		size_t cap = l->pend_cap ? l->pend_cap * 2 : 64;
		struct pend *n;

		if (cap > PEND_MAX || (n = malloc(cap * sizeof(*n))) == NULL)
			return -1;
		/* Linearised: the oldest first. */
		for (size_t i = 0; i < l->pend_n; i++)
			n[i] = l->pend[(l->pend_head + i) % l->pend_cap];
		free(l->pend);
		l->pend = n;
		l->pend_cap = cap;
		l->pend_head = 0;
	}
	e = &l->pend[(l->pend_head + l->pend_n) % l->pend_cap];
	e->seq = seq;
	e->msg_id = msg_id;
	e->live = 1;
	l->pend_n++;
	return 0;
}

/* Takes the Msg_Id of the DELIVER seq; 0 if it is not waiting. Answers
 * come mostly in order, so the search starts at the oldest. */
static int
pend_take(struct cmpp_link *l, uint32_t seq, uint64_t *msg_id)
{
	int found = 0;

	for (size_t i = 0; i < l->pend_n; i++) {
		struct pend *e = &l->pend[(l->pend_head + i) % l->pend_cap];

		if (e->live && e->seq == seq) {
			*msg_id = e->msg_id;
			e->live = 0;
			found = 1;
			break;
		}
	}
	while (l->pend_n > 0 && !l->pend[l->pend_head].live) {
		l->pend_head = (l->pend_head + 1) % l->pend_cap;
		l->pend_n--;
	}
	return found;
}

/* ---- handlers ----------------------------------------------------------- */

static void
on_submit_resp(struct cmpp_link *l, const struct cmpp *m, int have_id)
{
	struct slot *s = slot_find(l, m->sequence);
	char hex[17];
	uint32_t status;
	void *cookie;

	if (s == NULL) {
		log_warn("cmpp link=%s %s seq=%u matches no submit (late after "
		    "a timeout?)", l->name, cmpp_command_name(m->command_id),
		    m->sequence);
		return;
	}
	cookie = s->cookie;
	s->used = 0;
	l->outstanding--;
	status = m->status == CMPP_RESULT_OK ? ESME_OK :
	    LINK_CMPP_RESULT(m->status);
	if (m->status == CMPP_RESULT_FLOW) {
		metrics_add(M_THROTTLED, NULL, 1);
		if (rate_throttled(&l->rate, clock_now_us()))
			log_info("cmpp link=%s throttled status=%s: rate now "
			    "%u/s", l->name, cmpp_result_name(m->status),
			    rate_current(&l->rate));
	} else if (m->status == CMPP_RESULT_OK) {
		rate_accepted(&l->rate, clock_now_us());
	}
	cmpp_msgid_hex(m->msg_id, hex);
	l->cb.on_submit_done(l->arg, cookie, status,
	    status == ESME_OK && have_id ? hex : NULL);
	if (l->state == ST_DRAINING && l->outstanding == 0)
		enter_state(l, ST_UNBINDING);
	else
		maybe_ready(l);
}

static void
on_connect_resp(struct cmpp_link *l, const struct cmpp *m)
{
	uint8_t want[16];

	if (l->state != ST_BINDING || m->sequence != l->ctl_seq) {
		log_warn("cmpp link=%s unexpected %s seq=%u in state %s",
		    l->name, cmpp_command_name(m->command_id), m->sequence,
		    state_names[l->state]);
		return;
	}
	if (m->status != 0) {
		log_err("cmpp link=%s connect refused status=%u (%s)", l->name,
		    m->status, cmpp_connect_status_name(m->status));
		link_drop(l, "connect refused");
		return;
	}
	cmpp_auth_ismg(l->ver, 0, l->auth, l->secret, want);
	if (memcmp(want, m->auth_ismg, sizeof(want)) != 0) {
		log_err("cmpp link=%s connect refused: AuthenticatorISMG does "
		    "not match (another secret at the ISMG, or not the ISMG)",
		    l->name);
		link_drop(l, "connect refused");
		return;
	}
	l->ctl_seq = 0;
	enter_state(l, ST_BOUND);
}

static void
on_deliver(struct cmpp_link *l, const struct cmpp *m)
{
	struct pdu p;
	char why[160];
	uint32_t refuse = CMPPMAP_DRESULT_OK;

	if (l->state != ST_BOUND && l->state != ST_DRAINING)
		refuse = CMPPMAP_DRESULT_FLOW;
	else if (l->stopping)
		refuse = CMPPMAP_DRESULT_FLOW;     /* keep it at the ISMG for later */
	if (refuse != CMPPMAP_DRESULT_OK) {
		send_deliver_resp(l, m->sequence, m->msg_id, refuse);
		return;
	}
	if (cmppmap_deliver(m, &p, why, sizeof(why)) == -1)
		goto refused;
	if (pend_push(l, m->sequence, m->msg_id) == -1) {
		log_warn("cmpp link=%s %zu DELIVERs unanswered: seq=%u refused "
		    "for now", l->name, l->pend_n, m->sequence);
		send_deliver_resp(l, m->sequence, m->msg_id, CMPPMAP_DRESULT_FLOW);
		return;
	}
	l->cb.on_deliver(l->arg, &l->link, &p,
	    (uint64_t)l->gen << 32 | m->sequence);
	return;
refused:
	metrics_add(M_INBOUND_REFUSED, NULL, 1);
	log_warn("cmpp link=%s DELIVER seq=%u Msg_Fmt=%u refused: %s", l->name,
	    m->sequence, m->msg_fmt, why);
	send_deliver_resp(l, m->sequence, m->msg_id, CMPPMAP_DRESULT_STRUCTURE);
}

/* One decoded message from the ISMG. */
static void
handle_msg(struct cmpp_link *l, const struct cmpp *m, int have_id)
{
	char why[96];

	log_debug("cmpp link=%s rx cmd=%s seq=%u", l->name,
	    cmpp_command_name(m->command_id), m->sequence);
	switch (m->command_id) {
	case CMPP_CONNECT_RESP:
		on_connect_resp(l, m);
		break;
	case CMPP_ACTIVE_TEST:
		send_simple(l, CMPP_ACTIVE_TEST_RESP, m->sequence);
		break;
	case CMPP_ACTIVE_TEST_RESP:
		l->enq_seq = 0;
		l->enq_tries = 0;
		break;
	case CMPP_TERMINATE:
		send_simple(l, CMPP_TERMINATE_RESP, m->sequence);
		link_drop(l, "ISMG terminated");
		break;
	case CMPP_TERMINATE_RESP:
		if (l->state == ST_UNBINDING)
			link_drop(l, "terminated");
		break;
	case CMPP_SUBMIT_RESP:
		on_submit_resp(l, m, have_id);
		break;
	case CMPP_DELIVER:
		on_deliver(l, m);
		break;
	case CMPP_DELIVER_RESP:
		log_warn("cmpp link=%s ignoring %s seq=%u", l->name,
		    cmpp_command_name(m->command_id), m->sequence);
		break;
	default:
		/* CMPP has no generic_nack: an ISMG that sends what we do
		 * not know, or an SP's request, has lost the plot. */
		snprintf(why, sizeof(why), "%s command %s",
		    cmpp_command_known(m->command_id) ? "unexpected" :
		    "unknown", cmpp_command_name(m->command_id));
		link_drop(l, why);
	}
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static uint64_t
be64(const uint8_t *b)
{
	return (uint64_t)be32(b) << 32 | be32(b + 4);
}

/*
 * A whole frame whose body is not its command's layout; only the header
 * of h is set. The framing is intact, so the link stays up. A DELIVER is
 * refused for good (DELIVER_RESP Result 1, with the Msg_Id if the body
 * holds one). A response is handled from what it holds: a SUBMIT_RESP
 * with room for Msg_Id and Result (extra octets after them) is read from
 * those; one too short for a Result counts as accepted with no ISMG id, as
 * in link/smpp.c: sending the part again would send the citizen a second
 * copy. Any other request cannot be answered: drop.
 */
static void
on_undecodable(struct cmpp_link *l, struct cmpp *h, const uint8_t *data,
    uint32_t len, const char *why)
{
	size_t rlen = l->ver == CMPP_V30 ? 4 : 1, body = len - CMPP_HEADER_LEN;
	const uint8_t *b = data + CMPP_HEADER_LEN;
	int have_id = 0;
	char reason[96];

	metrics_add(M_UNDECODABLE, cmpp_command_name(h->command_id), 1);
	log_warn("cmpp link=%s undecodable %s (0x%08x) seq=%u len=%u, %s: %s",
	    l->name, cmpp_command_name(h->command_id), h->command_id,
	    h->sequence, len, h->command_id == CMPP_DELIVER ?
	    "refused for good" : (h->command_id & CMPP_RESP_BIT) ?
	    "handled from its header" : "dropping", why);
	if (h->command_id == CMPP_DELIVER) {
		metrics_add(M_INBOUND_REFUSED, NULL, 1);
		send_deliver_resp(l, h->sequence, body >= 8 ? be64(b) : 0,
		    CMPPMAP_DRESULT_STRUCTURE);
		return;
	}
	if (!(h->command_id & CMPP_RESP_BIT)) {
		snprintf(reason, sizeof(reason), "undecodable %s",
		    cmpp_command_name(h->command_id));
		link_drop(l, reason);
		return;
	}
	if (h->command_id == CMPP_SUBMIT_RESP && body >= 8 + rlen) {
		h->msg_id = be64(b);
		h->status = rlen == 4 ? be32(b + 8) : b[8];
		have_id = 1;
	} else if (h->command_id == CMPP_CONNECT_RESP && body >= 1) {
		/* A refusal may come in the other version's layout: 21
		 * octets with a 4-octet Status (3.0), 18 with 1 (2.0). */
		h->status = body == 21 || (body != 18 && rlen == 4 &&
		    body >= 4) ? be32(b) : b[0];
	}
	handle_msg(l, h, have_id);
}

/* ---- I/O ---------------------------------------------------------------- */

static ev_ssize_t
read_more(struct cmpp_link *l, struct evbuffer *in, size_t *more)
{
	evutil_socket_t fd = bufferevent_getfd(l->bev);
	int n;

	if (*more == 0 || l->read_paused || fd < 0)
		return 0;
	evbuffer_unfreeze(in, 0);
	n = evbuffer_read(in, fd, *more < 4096 ? (int)*more : 4096);
	evbuffer_freeze(in, 0);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -1;
	if (n <= 0)
		return 0;
	*more -= (size_t)n;
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
	struct cmpp_link *l = arg;
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
		uint8_t hdr[CMPP_HEADER_LEN], head[CMPP_HEADER_LEN + 12];
		struct cmpp h, m;
		char err[200];
		uint8_t *data;
		uint32_t len;
		int rc;

		if (evbuffer_get_length(in) < CMPP_HEADER_LEN) {
			if ((got = read_more(l, in, &more)) > 0)
				continue;
			if (got < 0)
				bad = read_error(why, sizeof(why));
			break;
		}
		evbuffer_copyout(in, hdr, sizeof(hdr));
		memset(&h, 0, sizeof(h));
		if (cmpp_header(hdr, sizeof(hdr), &h, &len, err,
		    sizeof(err)) == -1) {
			log_err("cmpp link=%s bad frame: %s", l->name, err);
			bad = "bad frame";
			break;
		}
		if (evbuffer_get_length(in) < len) {
			if ((got = read_more(l, in, &more)) > 0)
				continue;
			if (got < 0)
				bad = read_error(why, sizeof(why));
			break;
		}
		data = evbuffer_pullup(in, len);
		rc = cmpp_decode(l->ver, data, len, &m, err, sizeof(err));
		/* What a broken frame's answer may need of its body. */
		memcpy(head, data, len < sizeof(head) ? len : sizeof(head));
		evbuffer_drain(in, len);
		if (h.command_id & CMPP_RESP_BIT)
			l->last_resp = clock_now_ms();
		if (rc == -1)
			on_undecodable(l, &h, head, len, err);
		else
			handle_msg(l, &m, 1);
	}
	if (l->gen == gen && l->cb.on_read_done != NULL)
		l->cb.on_read_done(l->arg, &l->link);
	if (bad != NULL && l->gen == gen)
		link_drop(l, bad);
	clock_turn_us = outer;
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct cmpp_link *l = arg;

	if (l->read_paused) {
		l->read_paused = 0;
		bufferevent_enable(bev, EV_READ);
		log_info("cmpp link=%s output drained, reading resumed",
		    l->name);
		read_cb(bev, l);
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cmpp_link *l = arg;
	char why[256];

	if (what & BEV_EVENT_CONNECTED) {
		int fd = bufferevent_getfd(bev), on = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		enter_state(l, ST_BINDING);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		snprintf(why, sizeof(why), "connection closed by ISMG");
	} else {
		int dnserr = bufferevent_socket_get_dns_error(bev);

		snprintf(why, sizeof(why), "%s", dnserr ?
		    evutil_gai_strerror(dnserr) :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	link_drop(l, why);
}

/* ACTIVE_TEST: after enquire_link_s without a response to one of ours,
 * then again each response_timeout_s it goes unanswered; after
 * active_test_tries unanswered, the link is dead. */
static int
keepalive(struct cmpp_link *l, uint64_t now, uint64_t *next)
{
	uint64_t idle = (uint64_t)l->cfg.enquire_link_s * 1000;
	int tries = l->cfg.active_test_tries > 0 ? l->cfg.active_test_tries : 1;
	char why[96];

	/* Any response since it left shows the ISMG serves us. */
	if (l->enq_seq != 0 && l->last_resp >= l->enq_sent) {
		l->enq_seq = 0;
		l->enq_tries = 0;
	}
	if (l->enq_seq != 0 && now >= l->enq_deadline) {
		if (++l->enq_tries >= tries) {
			snprintf(why, sizeof(why), "ACTIVE_TEST unanswered %d "
			    "times", l->enq_tries);
			link_drop(l, why);
			return -1;
		}
		log_warn("cmpp link=%s ACTIVE_TEST seq=%u unanswered in %d s, "
		    "try %d of %d", l->name, l->enq_seq,
		    l->cfg.response_timeout_s, l->enq_tries + 1, tries);
		l->enq_seq = 0;
		l->enq_sent = 0;
	}
	if (l->enq_seq == 0 && (l->enq_tries > 0 || now >= l->last_resp + idle)) {
		l->enq_seq = next_seq(l);
		l->enq_sent = now;
		l->enq_deadline = now + timeout_ms(l);
		send_simple(l, CMPP_ACTIVE_TEST, l->enq_seq);
	}
	*next = l->enq_seq != 0 ? l->enq_deadline : l->last_resp + idle;
	return 0;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cmpp_link *l = arg;
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
			    "CONNECT timeout" : "TERMINATE timeout");
			return;
		}
		next = l->ctl_deadline;
		break;
	case ST_BOUND:
	case ST_DRAINING:
		if (keepalive(l, now, &next) == -1)
			return;
		for (int i = 0; i < l->win_cap; i++) {
			struct slot *s = &l->win[i];

			if (!s->used)
				continue;
			if (s->deadline <= now) {
				void *cookie = s->cookie;

				log_warn("cmpp link=%s SUBMIT seq=%u: no "
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

static void
arm(struct cmpp_link *l, uint64_t when)
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
start_connect(struct cmpp_link *l)
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

/* CONNECT (§7.4.2.1): the timestamp is the local time, as the ISMG reads
 * it into AuthenticatorSource. */
static void
send_connect(struct cmpp_link *l)
{
	struct cmpp p;
	struct tm tm;
	time_t now = time(NULL);

	localtime_r(&now, &tm);
	l->ctl_seq = next_seq(l);
	msg_init(&p, CMPP_CONNECT, l->ctl_seq);
	snprintf(p.source_addr, sizeof(p.source_addr), "%s", l->sp_id);
	p.version = (uint8_t)l->ver;
	p.timestamp = cmpp_timestamp(tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	cmpp_auth_source(l->sp_id, l->secret, p.timestamp, l->auth);
	memcpy(p.authenticator, l->auth, sizeof(l->auth));
	l->ctl_deadline = clock_ms() + timeout_ms(l);
	arm(l, l->ctl_deadline);
	if (send_logged(l, &p) == -1)
		link_drop(l, "cannot send CONNECT");
}

static void
enter_state(struct cmpp_link *l, enum link_state next)
{
	enum link_state prev = l->state;
	struct timeval tv;
	uint32_t delay;

	if (prev == ST_STOPPED)
		return;
	log_info("cmpp link=%s state %s -> %s", l->name, state_names[prev],
	    state_names[next]);
	l->state = next;
	switch (next) {
	case ST_WAIT:
		delay = backoff_next(&l->backoff);
		log_info("cmpp link=%s reconnect in %u ms", l->name, delay);
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
		send_connect(l);
		break;
	case ST_BOUND:
		l->bound_at = l->last_resp = clock_ms();
		l->enq_seq = 0;
		l->enq_tries = 0;
		arm(l, l->last_resp + (uint64_t)l->cfg.enquire_link_s * 1000);
		log_info("cmpp link=%s bound system_id=%s host=%s port=%d "
		    "version=%s", l->name, l->sp_id, l->host, l->cfg.port,
		    l->ver == CMPP_V30 ? "3.0" : "2.0");
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
		send_simple(l, CMPP_TERMINATE, l->ctl_seq);
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

/* One non-blocking attempt to put what is queued (a TERMINATE_RESP, the
 * last DELIVER_RESPs) on the wire before the bufferevent goes: see
 * link/smpp.c. */
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

static void
link_drop(struct cmpp_link *l, const char *reason)
{
	int was_bound = l->state == ST_BOUND || l->state == ST_DRAINING ||
	    l->state == ST_UNBINDING;
	uint64_t now = clock_ms();

	if (l->state == ST_STOPPED)
		return;
	if (l->stopping && l->state == ST_UNBINDING)
		log_info("cmpp link=%s closed: %s", l->name, reason);
	else
		log_warn("cmpp link=%s dropped: %s", l->name, reason);
	if (l->bev != NULL) {
		flush_now(l->bev);
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	l->gen++;
	l->ctl_seq = l->enq_seq = 0;
	l->enq_tries = 0;
	l->read_paused = 0;
	/* Answers to those DELIVERs can no longer be sent: the ISMG
	 * delivers them again. */
	l->pend_head = l->pend_n = 0;
	if (was_bound && now - l->bound_at >= STABLE_BIND_MS)
		backoff_reset(&l->backoff);
	fail_window(l, LINK_LOST);
	if (was_bound && l->cb.on_bound != NULL)
		l->cb.on_bound(l->arg, &l->link, 0);
	enter_state(l, l->stopping ? ST_STOPPED : ST_WAIT);
}

/* ---- the link operations ------------------------------------------------ */

static const struct link_ops cmpp_ops;
static void op_free(struct link *);

struct link *
cmpp_link_new(int version, struct event_base *base,
    const struct link_cfg *cfg, const struct link_cb *cb, void *arg)
{
	struct cmpp_link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->ver = version == CMPP_V20 ? CMPP_V20 : CMPP_V30;
	l->base = base;
	l->cfg = *cfg;
	rate_init(&l->rate, (uint32_t)cfg->max_tps, clock_us());
	snprintf(l->name, sizeof(l->name), "%s", cfg->name);
	snprintf(l->host, sizeof(l->host), "%s", cfg->host);
	snprintf(l->sp_id, sizeof(l->sp_id), "%s",
	    cfg->system_id != NULL ? cfg->system_id : "");
	snprintf(l->secret, sizeof(l->secret), "%s",
	    cfg->password != NULL ? cfg->password : "");
	snprintf(l->service_id, sizeof(l->service_id), "%s",
	    cfg->service_id != NULL ? cfg->service_id : "");
	snprintf(l->fee_type, sizeof(l->fee_type), "%s",
	    cfg->fee_type != NULL && cfg->fee_type[0] != '\0' ?
	    cfg->fee_type : "01");
	snprintf(l->fee_code, sizeof(l->fee_code), "%s",
	    cfg->fee_code != NULL && cfg->fee_code[0] != '\0' ?
	    cfg->fee_code : "000000");
	l->cfg.name = l->cfg.host = l->cfg.system_id = l->cfg.password =
	    l->cfg.system_type = NULL;   /* use the copies above */
	l->cfg.source_addr = l->cfg.service_id = l->cfg.fee_type =
	    l->cfg.fee_code = NULL;
	l->cb = *cb;
	l->arg = arg;
	l->next_seq = 1;
	l->win_cap = cfg->window > 0 ? cfg->window : 1;
	if ((l->win = calloc((size_t)l->win_cap, sizeof(*l->win))) == NULL)
		goto fail;
	if ((l->timer = evtimer_new(base, timer_cb, l)) == NULL ||
	    (l->reconnect = evtimer_new(base, reconnect_cb, l)) == NULL)
		goto fail;
	l->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (l->dns == NULL)
		l->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (l->dns == NULL)
		goto fail;
	backoff_init(&l->backoff, (uint32_t)cfg->reconnect_min_s * 1000,
	    (uint32_t)cfg->reconnect_max_s * 1000,
	    (uint64_t)getpid() << 32 ^ clock_us() ^ (uintptr_t)l);
	l->link.ops = &cmpp_ops;
	return &l->link;
fail:
	op_free(&l->link);
	return NULL;
}

static void
op_free(struct link *lk)
{
	struct cmpp_link *l = (struct cmpp_link *)lk;

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
	free(l->pend);
	free(l->win);
	free(l);
}

static void
op_start(struct link *lk)
{
	struct cmpp_link *l = (struct cmpp_link *)lk;

	if (l->state == ST_IDLE)
		enter_state(l, ST_CONNECTING);
}

static void
op_stop(struct link *lk)
{
	struct cmpp_link *l = (struct cmpp_link *)lk;

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
	struct cmpp_link *l = (struct cmpp_link *)lk;
	uint64_t wait;

	if (l->state != ST_BOUND || l->bev == NULL || l->stopping)
		return 0;
	if (l->outstanding >= l->cfg.window || l->read_paused) {
		l->want_ready = 1;
		return 0;
	}
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
	struct cmpp_link *l = (struct cmpp_link *)lk;
	struct cmppmap_sp sp = { l->sp_id, l->service_id, l->fee_type,
	    l->fee_code };
	struct slot *s = NULL;
	struct cmpp m;
	uint32_t seq;

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
	seq = next_seq(l);
	if (cmppmap_submit(p, seq, &sp, &m, err, errlen) == -1 ||
	    send_msg(l, &m, err, errlen) == -1)
		return -1;
	p->sequence = seq;
	(void)rate_take(&l->rate, clock_now_us());
	s->used = 1;
	s->seq = seq;
	s->cookie = cookie;
	s->deadline = clock_now_ms() + timeout_ms(l);
	l->outstanding++;
	arm(l, s->deadline);
	return 0;
}

static void
op_ack(struct link *lk, uint64_t token, uint32_t status)
{
	struct cmpp_link *l = (struct cmpp_link *)lk;
	uint64_t msg_id;

	if ((uint32_t)(token >> 32) != l->gen || l->bev == NULL) {
		log_debug("cmpp link=%s ack for an earlier connection dropped; "
		    "the ISMG will deliver again", l->name);
		return;
	}
	if (!pend_take(l, (uint32_t)token, &msg_id)) {
		log_warn("cmpp link=%s ack for DELIVER seq=%u, which waits for "
		    "none", l->name, (uint32_t)token);
		return;
	}
	send_deliver_resp(l, (uint32_t)token, msg_id, cmppmap_deliver_result(status));
}

static void
op_set_limits(struct link *lk, int window, int max_tps)
{
	struct cmpp_link *l = (struct cmpp_link *)lk;

	if (window > l->win_cap) {
		struct slot *w = realloc(l->win, (size_t)window * sizeof(*w));

		if (w == NULL) {
			log_err("cmpp link=%s cannot grow window to %d",
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
	return rate_current(&((const struct cmpp_link *)lk)->rate);
}

static int
op_is_bound(const struct link *lk)
{
	return ((const struct cmpp_link *)lk)->state == ST_BOUND;
}

static int
op_outstanding(const struct link *lk)
{
	return ((const struct cmpp_link *)lk)->outstanding;
}

static const char *
op_state(const struct link *lk)
{
	return state_names[((const struct cmpp_link *)lk)->state];
}

static const char *
op_name(const struct link *lk)
{
	return ((const struct cmpp_link *)lk)->name;
}

static const struct link_ops cmpp_ops = {
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
