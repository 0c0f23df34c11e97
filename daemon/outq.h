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

/* Carrier links the queue routes between (indices 0..OUTQ_MAX_LINKS-1). */
#define OUTQ_MAX_LINKS 16

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
	int              link;        /* the link its parts went on, -1 none */
};

/* Called once per message when its last segment has an outcome. */
typedef void (*outq_final_fn)(void *arg, const struct outq_msg_info *m);

/*
 * Where a message may go: writes its links (indices), first choice first,
 * to links[0..max) and returns how many. Called once per message as it is
 * pushed. Without a router every message goes to link 0.
 */
typedef int (*outq_route_fn)(void *arg, enum outq_class cls, uint64_t id,
    const struct pdu_addr *dst, uint8_t *links, int max);

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

/*
 * Routing between links. A message waits on the first link of its route
 * that is available and has not refused its number; with none it is
 * parked (it waits, it does not fail). Once a part is in flight or
 * accepted, the message is pinned: every part goes on that link.
 */
void outq_set_router(struct outq *q, outq_route_fn fn, void *arg);
/* How a link splits texts and whether it asks for receipts. */
void outq_link_mode(struct outq *q, int link, enum seg_mode mode,
    int registered_delivery);
/* A link becomes available (bound, or down for less than the failover
 * grace) or not: waiting messages that are not pinned move. */
void outq_link_available(struct outq *q, int link, int yes);
/* A link is gone for good (a reload took it out): like unavailable, and
 * its messages move even with parts it accepted, as it will not take the
 * rest. A slot made available again is a new link. */
void outq_link_gone(struct outq *q, int link);
/* Pins the message pushed last to link (its parts were accepted there
 * before a restart). */
void outq_pin_last(struct outq *q, int link);
/* Segments waiting for link (not in flight), and parked (no link). */
size_t outq_waiting_on(const struct outq *q, int link);
size_t outq_parked(const struct outq *q);

/* How many parts text makes in this queue's mode, or -1 if it does not
 * encode. */
int outq_parts(const struct outq *q, const char *text);

/* When the message's cause arrived (monotonic µs, e.g. its deliver_sm),
 * for the reply-latency histogram; 0 if unknown. Applies to the message
 * pushed last. */
void outq_set_born(struct outq *q, uint64_t born_us);

/* When the message pushed last expires (unix seconds; 0: never), unless
 * a part of it is out by then. */
void outq_set_expiry(struct outq *q, int64_t unix_s);
/* Ends every message past its expiry with nothing in flight: its parts
 * not accepted fail with LINK_EXPIRED (on_final). Returns how many. */
size_t outq_expire(struct outq *q, int64_t now_unix);

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

/* The next segment to send on link at now_ms (replies first), marked in
 * flight; NULL if none is due. outq_next is outq_next_on link 0. */
struct outq_seg *outq_next_on(struct outq *q, int link, uint64_t now_ms);
struct outq_seg *outq_next(struct outq *q, uint64_t now_ms);

/* The link a segment is listed on or in flight on. */
int outq_seg_link(const struct outq_seg *seg);

/* Fills *p with the submit_sm for seg (the link sets the sequence). */
void outq_seg_pdu(const struct outq_seg *seg, struct pdu *p);

/*
 * The outcome of an in-flight segment: ESME_OK with the SMSC message id,
 * a transient status (throttled, queue full, system error, timeout, link
 * lost: retried later), or a permanent one (the message fails).
 */
void outq_done(struct outq *q, struct outq_seg *seg, uint32_t status,
    const char *message_id, uint64_t now_ms);

/*
 * An in-flight segment's link answered with a routing error (the carrier
 * does not serve the number): the message moves to the next link of its
 * route once its other parts in flight are back, unless a part was
 * already accepted (then it fails with status, as with no link left).
 */
void outq_reroute(struct outq *q, struct outq_seg *seg, uint32_t status,
    uint64_t now_ms);

/* 1 if status means "try the same segment again later". */
int outq_transient(uint32_t status);

/* ms from now_ms until a deferred segment is due; UINT64_MAX if none. */
uint64_t outq_wait_ms(const struct outq *q, uint64_t now_ms);

size_t outq_waiting(const struct outq *q);    /* not yet in flight */
size_t outq_inflight(const struct outq *q);

#endif
