/*
 * Send queue. Segments wait in one FIFO per link and class; a segment that
 * failed transiently waits in a list sorted by due time and, once due, goes
 * back to the head of its list so a message's parts stay close together.
 * A message with no available link waits parked, per class.
 */
#include "daemon/outq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "daemon/link/link.h"
#include "proto/cmpp.h"

enum seg_state { SEG_WAITING, SEG_DELAYED, SEG_INFLIGHT, SEG_HELD, SEG_FINAL };

/* Where a message's waiting segments are listed when it has no link. */
#define PARKED (-1)

struct outq_msg {
	uint64_t         id;
	enum outq_class  cls;
	struct pdu_addr  src, dst;
	struct segments  seg;
	int              pending;     /* segments without an outcome */
	int              failed;
	uint32_t         status;
	uint8_t          registered_delivery;
	int              attempts;
	int              resumed;
	uint64_t         born_us;
	struct outq_seg *segs;
	/* Routing. */
	int              link;        /* its list: a link, or PARKED */
	uint8_t          route[OUTQ_MAX_LINKS];
	uint8_t          nroute;
	uint8_t          pinned;      /* parts accepted before a restart */
	uint32_t         excluded;    /* links that refused its number */
	int              inflight;
	int              accepted;
	int              rerouting;   /* held segments wait for inflight 0 */
	uint32_t         reroute_status;
	char            *text;        /* kept when links split differently */
	int64_t          expires;     /* unix s; 0 never */
	int              expiring;    /* collected by outq_expire */
};

struct outq_seg {
	struct outq_msg *msg;
	int              idx;
	enum seg_state   state;
	int              attempts;
	uint64_t         due;
	char             message_id[PDU_MSGID_MAX];
	TAILQ_ENTRY(outq_seg) entry;
};

TAILQ_HEAD(seg_list, outq_seg);

struct outq_link {
	enum seg_mode    mode;
	int              registered_delivery;
	struct seg_list  ready[OUTQ_NCLASS];
	size_t           waiting;
};

struct outq {
	int              held[OUTQ_NCLASS];
	size_t           nmsg[OUTQ_NCLASS];
	struct outq_link lk[OUTQ_MAX_LINKS];
	struct seg_list  parked[OUTQ_NCLASS];
	size_t           nparked;
	struct seg_list  delayed;     /* sorted by due */
	struct outq_msg *last;        /* pushed last (outq_set_born) */
	size_t           waiting, inflight;
	uint32_t         avail;       /* bit per available link */
	uint32_t         gone;        /* bit per link taken out for good */
	int              mixed_modes; /* links do not all split alike */
	outq_route_fn    route;
	void            *route_arg;
	outq_final_fn    final;
	void            *arg;
};

/* Retry delay after a response timeout: 1 s doubling to a minute. */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS   60000

static void finish(struct outq *, struct outq_msg *);
static void seg_final(struct outq *, struct outq_seg *, uint32_t,
    const char *);

struct outq *
outq_new(enum seg_mode mode, int registered_delivery, outq_final_fn final,
    void *arg)
{
	struct outq *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->final = final;
	q->arg = arg;
	q->avail = 1;                 /* link 0, as with one link */
	for (int l = 0; l < OUTQ_MAX_LINKS; l++) {
		q->lk[l].mode = mode;
		q->lk[l].registered_delivery = registered_delivery;
		for (int i = 0; i < OUTQ_NCLASS; i++)
			TAILQ_INIT(&q->lk[l].ready[i]);
	}
	for (int i = 0; i < OUTQ_NCLASS; i++)
		TAILQ_INIT(&q->parked[i]);
	TAILQ_INIT(&q->delayed);
	return q;
}

static void
msg_free(struct outq *q, struct outq_msg *m)
{
	q->nmsg[m->cls]--;
	segments_free(&m->seg);
	free(m->segs);
	free(m->text);
	free(m);
}

static struct seg_list *
list_of(struct outq *q, int link, enum outq_class cls)
{
	return link == PARKED ? &q->parked[cls] : &q->lk[link].ready[cls];
}

/* Lists a waiting segment on its message's link (or parked). */
static void
enlist(struct outq *q, struct outq_seg *s, int head)
{
	struct outq_msg *m = s->msg;
	struct seg_list *l = list_of(q, m->link, m->cls);

	s->state = SEG_WAITING;
	if (head)
		TAILQ_INSERT_HEAD(l, s, entry);
	else
		TAILQ_INSERT_TAIL(l, s, entry);
	if (m->link == PARKED)
		q->nparked++;
	else
		q->lk[m->link].waiting++;
}

static void
delist(struct outq *q, struct outq_seg *s)
{
	struct outq_msg *m = s->msg;

	TAILQ_REMOVE(list_of(q, m->link, m->cls), s, entry);
	if (m->link == PARKED)
		q->nparked--;
	else
		q->lk[m->link].waiting--;
}

/* Frees every message that still has a segment queued; in-flight ones
 * belong to the link until it hands them back (it does, on stop). */
void
outq_free(struct outq *q)
{
	if (q == NULL)
		return;
	for (int l = -1; l <= OUTQ_MAX_LINKS; l++)
		for (int c = 0; c < OUTQ_NCLASS; c++) {
			struct seg_list *list = l == OUTQ_MAX_LINKS ?
			    &q->delayed : list_of(q, l, c);
			struct outq_seg *s;

			if (l == OUTQ_MAX_LINKS && c > 0)
				break;
			while ((s = TAILQ_FIRST(list)) != NULL) {
				struct outq_msg *m = s->msg;

				TAILQ_REMOVE(list, s, entry);
				s->state = SEG_FINAL;
				if (--m->pending == 0) {
					if (q->last == m)
						q->last = NULL;
					msg_free(q, m);
				}
			}
		}
	free(q);
}

/* The first link of m's route that is available and did not refuse it. */
static int
choose(const struct outq *q, const struct outq_msg *m)
{
	for (int i = 0; i < m->nroute; i++) {
		uint32_t bit = 1u << m->route[i];

		if ((q->avail & bit) && !(m->excluded & bit))
			return m->route[i];
	}
	return PARKED;
}

/* 1 if m may change links: nothing of it is out or was accepted, or its
 * link is gone for good and nothing is out. */
static int
movable(const struct outq *q, const struct outq_msg *m)
{
	if (m->inflight > 0 || m->rerouting)
		return 0;
	if (m->link != PARKED && (q->gone & (1u << m->link)))
		return 1;
	return !m->pinned && m->accepted == 0;
}

/* 1 if some link of m's route has not refused it (it may yet go). */
static int
routable(const struct outq_msg *m)
{
	for (int i = 0; i < m->nroute; i++)
		if (!(m->excluded & (1u << m->route[i])))
			return 1;
	return 0;
}

/* Splits the text for the link's mode; the reference follows from the id,
 * so a resend after a restart continues the set the phone has begun. */
static int
split(struct outq *q, struct outq_msg *m, const char *text, char *err,
    size_t errlen)
{
	struct outq_link *lk = &q->lk[m->link == PARKED ? m->route[0] :
	    m->link];

	if (segment_text(text, strlen(text), lk->mode, (uint16_t)(m->id %
	    65535 + 1), &m->seg, err, errlen) == -1)
		return -1;
	m->registered_delivery = (uint8_t)lk->registered_delivery;
	m->segs = calloc((size_t)m->seg.total, sizeof(*m->segs));
	if (m->segs == NULL) {
		segments_free(&m->seg);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->pending = m->seg.total;
	for (int i = 0; i < m->seg.total; i++) {
		m->segs[i].msg = m;
		m->segs[i].idx = i;
	}
	return 0;
}

/* Takes m's segments that are not in flight off every list. */
static void
unlist_all(struct outq *q, struct outq_msg *m)
{
	for (int i = 0; i < m->seg.total; i++) {
		struct outq_seg *s = &m->segs[i];

		if (s->state == SEG_WAITING) {
			delist(q, s);
			s->state = SEG_HELD;
		} else if (s->state == SEG_DELAYED) {
			TAILQ_REMOVE(&q->delayed, s, entry);
			s->state = SEG_HELD;
		}
	}
}

/*
 * Moves m's segments that are not in flight to link (or parked). Only a
 * message with nothing out may change links; one whose new link splits
 * texts another way is split again (it kept its text for that).
 */
static void
move(struct outq *q, struct outq_msg *m, int link)
{
	int to = link == PARKED ? m->route[0] : link;

	unlist_all(q, m);
	m->link = link;
	m->registered_delivery = (uint8_t)q->lk[to].registered_delivery;
	if (m->text != NULL && m->seg.mode != q->lk[to].mode &&
	    m->pending == m->seg.total) {
		struct segments old = m->seg;
		struct outq_seg *olds = m->segs;
		char err[128];

		q->waiting -= (size_t)m->seg.total;
		if (split(q, m, m->text, err, sizeof(err)) == 0) {
			segments_free(&old);
			free(olds);
			for (int i = 0; i < m->seg.total; i++)
				m->segs[i].state = SEG_HELD;
		} else {
			m->seg = old;   /* keep the split it has */
			m->segs = olds;
			m->pending = m->seg.total;
		}
		q->waiting += (size_t)m->seg.total;
	}
	for (int i = 0; i < m->seg.total; i++)
		if (m->segs[i].state == SEG_HELD)
			enlist(q, &m->segs[i], 0);
}

int
outq_push(struct outq *q, enum outq_class cls, uint64_t id,
    const struct pdu_addr *src, const struct pdu_addr *dst,
    const char *text, const uint8_t *done, char *err, size_t errlen)
{
	struct outq_msg *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->id = id;
	m->cls = cls;
	if (q->route != NULL)
		m->nroute = (uint8_t)q->route(q->route_arg, cls, id, dst,
		    m->route, OUTQ_MAX_LINKS);
	if (m->nroute == 0) {
		m->route[0] = 0;
		m->nroute = 1;
	}
	m->link = choose(q, m);
	/* Links that split texts differently: keep the text, a move may
	 * need it split again. */
	if (q->mixed_modes && (m->text = strdup(text)) == NULL) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (split(q, m, text, err, errlen) == -1) {
		free(m->text);
		free(m);
		return -1;
	}
	m->src = *src;
	m->dst = *dst;
	q->nmsg[cls]++;
	q->last = m;
	for (int i = 0; i < m->seg.total; i++) {
		struct outq_seg *s = &m->segs[i];

		if (done != NULL && done[i]) {
			s->state = SEG_FINAL;
			m->pending--;
			m->accepted++;
			m->resumed = 1;
			continue;
		}
		enlist(q, s, 0);
		q->waiting++;
	}
	if (m->pending == 0) {        /* every part was already accepted */
		q->last = NULL;
		finish(q, m);
	}
	return 0;
}

void
outq_set_router(struct outq *q, outq_route_fn fn, void *arg)
{
	q->route = fn;
	q->route_arg = arg;
}

void
outq_link_mode(struct outq *q, int link, enum seg_mode mode,
    int registered_delivery)
{
	if (link < 0 || link >= OUTQ_MAX_LINKS)
		return;
	q->lk[link].mode = mode;
	q->lk[link].registered_delivery = registered_delivery;
	q->mixed_modes = 0;
	for (int l = 1; l < OUTQ_MAX_LINKS; l++)
		if (q->lk[l].mode != q->lk[0].mode)
			q->mixed_modes = 1;
}

/* Every message whose waiting segments are on list: moved to where its
 * route now says, unless it is pinned to where it is. */
static void
replace_list(struct outq *q, struct seg_list *list)
{
	struct outq_seg *s, *next;

	for (s = TAILQ_FIRST(list); s != NULL; s = next) {
		struct outq_msg *m = s->msg;
		int to;

		next = TAILQ_NEXT(s, entry);
		if (!movable(q, m))
			continue;
		if ((to = choose(q, m)) == m->link)
			continue;
		/* Skip this message's other segments that follow: the move
		 * takes them all. */
		while (next != NULL && next->msg == m)
			next = TAILQ_NEXT(next, entry);
		move(q, m, to);
	}
}

void
outq_link_available(struct outq *q, int link, int yes)
{
	uint32_t bit = 1u << link;

	if (link < 0 || link >= OUTQ_MAX_LINKS || !!(q->avail & bit) == !!yes)
		return;
	if (yes) {
		q->avail |= bit;
		q->gone &= ~bit;
	} else {
		q->avail &= ~bit;
	}
	for (int c = 0; c < OUTQ_NCLASS; c++) {
		replace_list(q, &q->parked[c]);
		for (int l = 0; l < OUTQ_MAX_LINKS; l++)
			if (l == link || yes)
				replace_list(q, &q->lk[l].ready[c]);
	}
}

void
outq_link_gone(struct outq *q, int link)
{
	if (link < 0 || link >= OUTQ_MAX_LINKS)
		return;
	q->gone |= 1u << link;
	if (q->avail & (1u << link)) {
		outq_link_available(q, link, 0);
		return;
	}
	for (int c = 0; c < OUTQ_NCLASS; c++)
		replace_list(q, &q->lk[link].ready[c]);
}

void
outq_pin_last(struct outq *q, int link)
{
	struct outq_msg *m = q->last;

	if (m == NULL || link < 0 || link >= OUTQ_MAX_LINKS)
		return;
	m->pinned = 1;
	if (m->link != link)
		move(q, m, link);
}

size_t
outq_waiting_on(const struct outq *q, int link)
{
	return link >= 0 && link < OUTQ_MAX_LINKS ? q->lk[link].waiting : 0;
}

size_t
outq_parked(const struct outq *q)
{
	return q->nparked;
}

int
outq_parts(const struct outq *q, const char *text)
{
	struct segments seg;
	char err[128];
	int n;

	if (segment_text(text, strlen(text), q->lk[0].mode, 1, &seg, err,
	    sizeof(err)) == -1)
		return -1;
	n = seg.total;
	segments_free(&seg);
	return n;
}

void
outq_set_born(struct outq *q, uint64_t born_us)
{
	if (q->last != NULL)
		q->last->born_us = born_us;
}

void
outq_set_expiry(struct outq *q, int64_t unix_s)
{
	if (q->last != NULL)
		q->last->expires = unix_s;
}

/* Collects into *v (grown as needed) the expired messages listed on l. */
static void
collect_expired(struct seg_list *l, int64_t now, struct outq_msg ***v,
    size_t *n, size_t *cap)
{
	struct outq_seg *s;

	TAILQ_FOREACH(s, l, entry) {
		struct outq_msg *m = s->msg, **nv;

		if (m->expiring || m->expires == 0 || now < m->expires ||
		    m->inflight > 0 || m->rerouting)
			continue;
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 16;
			if ((nv = realloc(*v, *cap * sizeof(**v))) == NULL)
				return;       /* the rest next time */
			*v = nv;
		}
		m->expiring = 1;
		(*v)[(*n)++] = m;
	}
}

size_t
outq_expire(struct outq *q, int64_t now_unix)
{
	struct outq_msg **v = NULL;
	size_t n = 0, cap = 0;

	for (int c = 0; c < OUTQ_NCLASS; c++) {
		collect_expired(&q->parked[c], now_unix, &v, &n, &cap);
		for (int l = 0; l < OUTQ_MAX_LINKS; l++)
			collect_expired(&q->lk[l].ready[c], now_unix, &v, &n,
			    &cap);
	}
	collect_expired(&q->delayed, now_unix, &v, &n, &cap);
	for (size_t i = 0; i < n; i++) {
		struct outq_msg *m = v[i];
		int left;

		unlist_all(q, m);
		left = m->pending;
		for (int k = 0; k < m->seg.total && left > 0; k++) {
			if (m->segs[k].state != SEG_HELD)
				continue;
			q->waiting--;
			/* The last one frees m. */
			if (--left == 0) {
				seg_final(q, &m->segs[k], LINK_EXPIRED, NULL);
				break;
			}
			seg_final(q, &m->segs[k], LINK_EXPIRED, NULL);
		}
	}
	free(v);
	return n;
}

uint64_t
outq_seg_born(const struct outq_seg *seg, int *first)
{
	*first = seg->idx == 0 && seg->attempts == 1;
	return seg->msg->born_us;
}

void
outq_seg_ref(const struct outq_seg *seg, uint64_t *id, int *part)
{
	*id = seg->msg->id;
	*part = seg->idx + 1;
}

int
outq_seg_link(const struct outq_seg *seg)
{
	return seg->msg->link;
}

void
outq_hold(struct outq *q, enum outq_class cls, int held)
{
	q->held[cls] = held;
}

size_t
outq_messages(const struct outq *q, enum outq_class cls)
{
	return q->nmsg[cls];
}

struct outq_seg *
outq_next_on(struct outq *q, int link, uint64_t now_ms)
{
	struct outq_seg *s;

	if (link < 0 || link >= OUTQ_MAX_LINKS)
		return NULL;
	/* Due retries go first within their list, in due order. */
	while ((s = TAILQ_LAST(&q->delayed, seg_list)) != NULL &&
	    s->due <= now_ms) {
		struct outq_msg *m = s->msg;

		TAILQ_REMOVE(&q->delayed, s, entry);
		enlist(q, s, 1);
		if (movable(q, m) && m->link != PARKED &&
		    !(q->avail & (1u << m->link)))
			move(q, m, choose(q, m));
	}
	for (int c = 0; c < OUTQ_NCLASS; c++) {
		struct outq_link *lk = &q->lk[link];

		if (q->held[c] || (s = TAILQ_FIRST(&lk->ready[c])) == NULL)
			continue;
		TAILQ_REMOVE(&lk->ready[c], s, entry);
		lk->waiting--;
		s->state = SEG_INFLIGHT;
		s->attempts++;
		s->msg->attempts++;
		s->msg->inflight++;
		q->waiting--;
		q->inflight++;
		return s;
	}
	return NULL;
}

struct outq_seg *
outq_next(struct outq *q, uint64_t now_ms)
{
	return outq_next_on(q, 0, now_ms);
}

void
outq_seg_pdu(const struct outq_seg *seg, struct pdu *p)
{
	const struct outq_msg *m = seg->msg;
	const struct seg_part *part = &m->seg.parts[seg->idx];

	pdu_init(p, PDU_SUBMIT_SM, ESME_OK, 0);
	p->src = m->src;
	p->dst = m->dst;
	p->data_coding = m->seg.data_coding;
	p->esm_class = m->seg.esm_class;
	p->registered_delivery = m->registered_delivery;
	if (m->seg.mode == SEG_PAYLOAD) {
		p->tlvs |= PDU_HAS_PAYLOAD;
		p->payload_len = (uint16_t)part->len;
		memcpy(p->payload, part->data, part->len);
	} else {
		p->sm_len = (uint16_t)part->len;
		memcpy(p->sm, part->data, part->len);
	}
	if (m->seg.mode == SEG_SAR && m->seg.total > 1) {
		p->tlvs |= PDU_HAS_SAR;
		p->sar_ref = m->seg.ref;
		p->sar_total = (uint8_t)m->seg.total;
		p->sar_seq = part->seq;
	}
}

int
outq_transient(uint32_t status)
{
	switch (status) {
	case ESME_THROTTLED:
	case ESME_MSGQFUL:
	case ESME_SYSERR:
	case ESME_X_T_APPN:
	case LINK_TIMEOUT:
	case LINK_LOST:
	case LINK_CMPP_RESULT(CMPP_RESULT_FLOW):
		return 1;
	}
	return 0;
}

static void
delay(struct outq *q, struct outq_seg *s, uint64_t due)
{
	struct outq_seg *at;

	s->state = SEG_DELAYED;
	s->due = due;
	/* Sorted, latest first at the head: most inserts are near the head. */
	TAILQ_FOREACH(at, &q->delayed, entry)
		if (at->due <= due)
			break;
	if (at != NULL)
		TAILQ_INSERT_BEFORE(at, s, entry);
	else
		TAILQ_INSERT_TAIL(&q->delayed, s, entry);
}

static void
finish(struct outq *q, struct outq_msg *m)
{
	char ids[SEG_MAX_PARTS * 8 + 1];
	size_t used = 0;
	struct outq_msg_info info;

	/* Space-separated, whole ids only (by hand: once per message). */
	for (int i = 0; i < m->seg.total; i++) {
		size_t n = strlen(m->segs[i].message_id) + (i > 0);

		if (used + n >= sizeof(ids))
			break;
		if (i > 0)
			ids[used] = ' ';
		memcpy(ids + used + (i > 0), m->segs[i].message_id, n - (i > 0));
		used += n;
	}
	ids[used] = '\0';
	info.id = m->id;
	info.cls = m->cls;
	info.src = &m->src;
	info.dst = &m->dst;
	info.parts = m->seg.total;
	info.attempts = m->attempts;
	info.ok = m->failed == 0;
	info.status = m->status;
	info.message_ids = ids;
	info.resumed = m->resumed;
	info.link = m->link;
	if (q->final != NULL)
		q->final(q->arg, &info);
	if (q->last == m)
		q->last = NULL;
	msg_free(q, m);
}

/* A segment's outcome is final: accepted, or failed for the message. */
static void
seg_final(struct outq *q, struct outq_seg *s, uint32_t status,
    const char *message_id)
{
	struct outq_msg *m = s->msg;

	s->state = SEG_FINAL;
	if (status == ESME_OK) {
		m->accepted++;
		snprintf(s->message_id, sizeof(s->message_id), "%s",
		    message_id != NULL ? message_id : "");
	} else if (!m->failed) {
		m->failed = 1;
		m->status = status;
	}
	if (--m->pending == 0)
		finish(q, m);
}

/*
 * The last part of a rerouted message is back from its link: the held
 * parts go to the next link of the route, or fail when a part was accepted
 * meanwhile or no link is left (m is freed then).
 */
static void
reroute_release(struct outq *q, struct outq_msg *m)
{
	int left = m->pending;

	m->rerouting = 0;
	if (m->accepted == 0 && !m->failed && routable(m)) {
		move(q, m, choose(q, m));
		return;
	}
	for (int i = 0; i < m->seg.total; i++) {
		struct outq_seg *s = &m->segs[i];

		if (s->state != SEG_HELD)
			continue;
		q->waiting--;
		/* The last one frees m. */
		if (--left == 0) {
			seg_final(q, s, m->reroute_status, NULL);
			return;
		}
		seg_final(q, s, m->reroute_status, NULL);
	}
}

void
outq_reroute(struct outq *q, struct outq_seg *s, uint32_t status,
    uint64_t now_ms)
{
	struct outq_msg *m = s->msg;

	if (m->accepted > 0 || m->pinned || m->link == PARKED) {
		/* A message is never split between links. */
		outq_done(q, s, status, NULL, now_ms);
		return;
	}
	q->inflight--;
	m->inflight--;
	m->excluded |= 1u << m->link;
	if (!m->rerouting) {
		m->rerouting = 1;
		m->reroute_status = status;
		unlist_all(q, m);
	}
	s->state = SEG_HELD;
	q->waiting++;
	if (m->inflight == 0)
		reroute_release(q, m);
}

void
outq_done(struct outq *q, struct outq_seg *s, uint32_t status,
    const char *message_id, uint64_t now_ms)
{
	struct outq_msg *m = s->msg;

	q->inflight--;
	m->inflight--;
	if (status == ESME_OK || !outq_transient(status) || m->failed) {
		/* While rerouting, held parts keep m alive past this. */
		int release = m->rerouting && m->inflight == 0;

		seg_final(q, s, status, message_id);
		if (release)
			reroute_release(q, m);
		return;
	}
	q->waiting++;
	if (m->rerouting) {
		s->state = SEG_HELD;
		if (m->inflight == 0)
			reroute_release(q, m);
		return;
	}
	if (status == LINK_TIMEOUT) {
		uint64_t d = RETRY_FIRST_MS;

		for (int i = 1; i < s->attempts && d < RETRY_MAX_MS; i++)
			d *= 2;
		delay(q, s, now_ms + (d > RETRY_MAX_MS ? RETRY_MAX_MS : d));
		return;
	}
	/* Throttling pauses the link itself; link loss waits for the next
	 * bind. Either way the segment is next in line. */
	enlist(q, s, 1);
	/* Nothing of it is out any more: if its link is gone, it may move. */
	if (movable(q, m) && m->link != PARKED && !(q->avail & (1u << m->link)))
		move(q, m, choose(q, m));
}

uint64_t
outq_wait_ms(const struct outq *q, uint64_t now_ms)
{
	const struct outq_seg *s = TAILQ_LAST(&q->delayed, seg_list);

	if (s == NULL)
		return UINT64_MAX;
	return s->due > now_ms ? s->due - now_ms : 0;
}

size_t
outq_waiting(const struct outq *q)
{
	return q->waiting;
}

size_t
outq_inflight(const struct outq *q)
{
	return q->inflight;
}
