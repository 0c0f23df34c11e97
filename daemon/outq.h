/*
 * The send queue: messages split into segments, two priority classes
 * (replies to citizens always before notifications), retry scheduling for
 * transient failures, and a message's outcome once every segment has one.
 * It owns what is waiting and in flight; the durable copy (issue 4) lives in
 * the store and is referred to by id.
 */
#ifndef DAEMON_OUTQ_H
#define DAEMON_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include "proto/pdu.h"
#include "proto/segment.h"

enum outq_class { OUTQ_REPLY, OUTQ_NOTIFY, OUTQ_NCLASS };

struct outq;
struct outq_seg;

struct outq_msg_info {
	uint64_t         id;
	enum outq_class  cls;
	const struct pdu_addr *src, *dst;
	int              parts;
	int              attempts;    /* submits made, all parts together */
	int              ok;          /* 1 all parts accepted by the SMSC */
	uint32_t         status;      /* the failing status when !ok */
	const char      *message_ids; /* space-separated, one per part */
	int              resumed;     /* 1 if some parts were accepted before
	                               * it was queued (a restart): receipts
	                               * may have come before this outcome */
};

/* Called once per message when its last segment has an outcome. */
typedef void (*outq_final_fn)(void *arg, const struct outq_msg_info *m);

struct outq *outq_new(enum seg_mode mode, int registered_delivery,
    outq_final_fn final, void *arg);
void outq_free(struct outq *q);

/*
 * Queues text from src to dst. id is the caller's reference (its outbox
 * row); the concatenation reference is derived from it, so a message resent
 * after a restart continues the same set. done, if not NULL, flags parts
 * (done[0] for part 1, up to SEG_MAX_PARTS) the SMSC already accepted: they
 * are not sent again. Returns 0, or -1 with err when the text does not
 * encode.
 */
int outq_push(struct outq *q, enum outq_class cls, uint64_t id,
    const struct pdu_addr *src, const struct pdu_addr *dst,
    const char *text, const uint8_t *done, char *err, size_t errlen);

/* How many parts text makes in this queue's mode, or -1 if it does not
 * encode. */
int outq_parts(const struct outq *q, const char *text);

/* When the message's cause arrived (monotonic µs, e.g. its deliver_sm),
 * for the reply-latency histogram; 0 if unknown. Applies to the message
 * pushed last. */
void outq_set_born(struct outq *q, uint64_t born_us);

/* The born time of a segment's message, and 1 if this is the first
 * submit of its first part (where latency is measured). */
uint64_t outq_seg_born(const struct outq_seg *seg, int *first);

/* The message (caller's id) and 1-based part a segment belongs to. */
void outq_seg_ref(const struct outq_seg *seg, uint64_t *id, int *part);

/* Holds back (1) or releases (0) a class, e.g. notifications in quiet
 * hours. Segments in flight are not affected. */
void outq_hold(struct outq *q, enum outq_class cls, int held);

/* Messages held in memory (waiting or in flight), per class. */
size_t outq_messages(const struct outq *q, enum outq_class cls);

/* The next segment to send at now_ms (replies first), marked in flight;
 * NULL if none is due. */
struct outq_seg *outq_next(struct outq *q, uint64_t now_ms);

/* Fills *p with the submit_sm for seg (the link sets the sequence). */
void outq_seg_pdu(const struct outq_seg *seg, struct pdu *p);

/*
 * The outcome of an in-flight segment: ESME_OK with the SMSC message id,
 * a transient status (throttled, queue full, system error, timeout, link
 * lost: retried later), or a permanent one (the message fails).
 */
void outq_done(struct outq *q, struct outq_seg *seg, uint32_t status,
    const char *message_id, uint64_t now_ms);

/* 1 if status means "try the same segment again later". */
int outq_transient(uint32_t status);

/* ms from now_ms until a deferred segment is due; UINT64_MAX if none. */
uint64_t outq_wait_ms(const struct outq *q, uint64_t now_ms);

size_t outq_waiting(const struct outq *q);    /* not yet in flight */
size_t outq_inflight(const struct outq *q);

#endif
