/*
 * Send queue. Segments wait in one FIFO per class; a segment that failed
 * transiently waits in a list sorted by due time and, once due, goes back
 * to the head of its class so a message's parts stay close together.
 */
#include "daemon/outq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "daemon/smpp_link.h"

enum seg_state { SEG_WAITING, SEG_DELAYED, SEG_INFLIGHT, SEG_FINAL };

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

struct outq {
	enum seg_mode    mode;
	int              registered_delivery;
	int              held[OUTQ_NCLASS];
	size_t           nmsg[OUTQ_NCLASS];
	struct seg_list  ready[OUTQ_NCLASS];
	struct seg_list  delayed;     /* sorted by due */
	struct outq_msg *last;        /* pushed last (outq_set_born) */
	size_t           waiting, inflight;
	outq_final_fn    final;
	void            *arg;
};

/* Retry delay after a response timeout: 1 s doubling to a minute. */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS   60000

static void finish(struct outq *, struct outq_msg *);

struct outq *
outq_new(enum seg_mode mode, int registered_delivery, outq_final_fn final,
    void *arg)
{
	struct outq *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->mode = mode;
	q->registered_delivery = registered_delivery;
	q->final = final;
	q->arg = arg;
	for (int i = 0; i < OUTQ_NCLASS; i++)
		TAILQ_INIT(&q->ready[i]);
	TAILQ_INIT(&q->delayed);
	return q;
}

static void
msg_free(struct outq *q, struct outq_msg *m)
{
	q->nmsg[m->cls]--;
	segments_free(&m->seg);
	free(m->segs);
	free(m);
}

/* Frees every message that still has a segment queued; in-flight ones
 * belong to the link until it hands them back (it does, on stop). */
void
outq_free(struct outq *q)
{
	struct outq_seg *s;

	if (q == NULL)
		return;
	for (int i = 0; i <= OUTQ_NCLASS; i++) {
		struct seg_list *l = i < OUTQ_NCLASS ? &q->ready[i] :
		    &q->delayed;

		while ((s = TAILQ_FIRST(l)) != NULL) {
			struct outq_msg *m = s->msg;

			TAILQ_REMOVE(l, s, entry);
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
	/* The reference follows from the id: a resend after a restart
	 * continues the set the phone has begun. */
	if (segment_text(text, strlen(text), q->mode, (uint16_t)(id % 65535 +
	    1), &m->seg, err, errlen) == -1) {
		free(m);
		return -1;
	}
	m->segs = calloc((size_t)m->seg.total, sizeof(*m->segs));
	if (m->segs == NULL) {
		segments_free(&m->seg);
		free(m);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->id = id;
	m->cls = cls;
	m->src = *src;
	m->dst = *dst;
	m->pending = m->seg.total;
	m->registered_delivery = (uint8_t)q->registered_delivery;
	q->nmsg[cls]++;
	q->last = m;
	for (int i = 0; i < m->seg.total; i++) {
		struct outq_seg *s = &m->segs[i];

		s->msg = m;
		s->idx = i;
		if (done != NULL && done[i]) {
			s->state = SEG_FINAL;
			m->pending--;
			m->resumed = 1;
			continue;
		}
		s->state = SEG_WAITING;
		TAILQ_INSERT_TAIL(&q->ready[cls], s, entry);
		q->waiting++;
	}
	if (m->pending == 0) {        /* every part was already accepted */
		q->last = NULL;
		finish(q, m);
	}
	return 0;
}

int
outq_parts(const struct outq *q, const char *text)
{
	struct segments seg;
	char err[128];
	int n;

	if (segment_text(text, strlen(text), q->mode, 1, &seg, err,
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
outq_next(struct outq *q, uint64_t now_ms)
{
	struct outq_seg *s;

	/* Due retries go first within their class, in due order. */
	while ((s = TAILQ_LAST(&q->delayed, seg_list)) != NULL &&
	    s->due <= now_ms) {
		TAILQ_REMOVE(&q->delayed, s, entry);
		s->state = SEG_WAITING;
		TAILQ_INSERT_HEAD(&q->ready[s->msg->cls], s, entry);
	}
	for (int c = 0; c < OUTQ_NCLASS; c++) {
		if (q->held[c] || (s = TAILQ_FIRST(&q->ready[c])) == NULL)
			continue;
		TAILQ_REMOVE(&q->ready[c], s, entry);
		s->state = SEG_INFLIGHT;
		s->attempts++;
		s->msg->attempts++;
		q->waiting--;
		q->inflight++;
		return s;
	}
	return NULL;
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
	case SMPP_LINK_TIMEOUT:
	case SMPP_LINK_LOST:
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
	if (q->final != NULL)
		q->final(q->arg, &info);
	if (q->last == m)
		q->last = NULL;
	msg_free(q, m);
}

void
outq_done(struct outq *q, struct outq_seg *s, uint32_t status,
    const char *message_id, uint64_t now_ms)
{
	struct outq_msg *m = s->msg;

	q->inflight--;
	if (status == ESME_OK || !outq_transient(status) || m->failed) {
		s->state = SEG_FINAL;
		if (status == ESME_OK) {
			snprintf(s->message_id, sizeof(s->message_id), "%s",
			    message_id != NULL ? message_id : "");
		} else if (!m->failed) {
			m->failed = 1;
			m->status = status;
		}
		if (--m->pending == 0)
			finish(q, m);
		return;
	}
	q->waiting++;
	if (status == SMPP_LINK_TIMEOUT) {
		uint64_t d = RETRY_FIRST_MS;

		for (int i = 1; i < s->attempts && d < RETRY_MAX_MS; i++)
			d *= 2;
		delay(q, s, now_ms + (d > RETRY_MAX_MS ? RETRY_MAX_MS : d));
	} else {
		/* Throttling pauses the link itself; link loss waits for the
		 * next bind. Either way the segment is next in line. */
		s->state = SEG_WAITING;
		TAILQ_INSERT_HEAD(&q->ready[m->cls], s, entry);
	}
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
