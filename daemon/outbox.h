/*
 * The durable side of sending: outbound rows in the store are the truth,
 * the send queue (daemon/outq) a window onto them. This module loads rows
 * into the queue (every unfinished message at start-up; notifications as
 * other processes add them, a bounded number at a time), records each
 * part's SMSC message id and each message's outcome, and applies delivery
 * receipts. Every write happens inside the caller's open transaction.
 */
#ifndef DAEMON_OUTBOX_H
#define DAEMON_OUTBOX_H

#include <stdint.h>

#include "daemon/outq.h"
#include "daemon/store.h"
#include "proto/dlr.h"

struct outbox;

struct outbox_cfg {
	const struct pdu_addr *source;   /* our short code */
	const char *country_code;
	int         retry_undelivered;   /* one more try after UNDELIV etc. */
	int         validity_h;          /* unsent after this: expired */
	size_t      notify_in_memory;    /* notifications held in the queue */
	/* The queue's slot of the link called name, or -1 (gone): a message
	 * resumed after a restart stays on the link that took its first
	 * parts. NULL: no pinning (one link). */
	int       (*link_slot)(void *arg, const char *name);
	void       *link_arg;
};

struct outbox *outbox_new(struct store *st, struct outq *q,
    const struct outbox_cfg *cfg);
void outbox_free(struct outbox *ob);

/*
 * Loads unfinished rows into the queue: with startup set, every queued
 * reply and then notifications; otherwise new notifications past the
 * cursor while the queue has room. Returns the number loaded, or -1.
 */
int outbox_fill(struct outbox *ob, int startup);

/* 1 if the last fill stopped with rows possibly left behind (the queue
 * was full, or the scan reached its limit): fill again as it drains. */
int outbox_more(const struct outbox *ob);

/* 1 when another process has committed since the last call. */
int outbox_poll(struct outbox *ob);

/* A part's submit_sm_resp on link (its name; NULL for none): ESME_OK
 * records it as submitted there. */
int outbox_part_done(struct outbox *ob, const char *link, uint64_t msg_id,
    int part, uint32_t status, const char *smsc_id);
/*
 * Queues a reply whose row the caller has just committed in state
 * submitted, and keeps it open (below the outbox mark's reach) until every
 * part has an outcome. -1 with err if the text does not encode: the caller
 * records that with outbox_reply_failed() inside a transaction.
 */
int outbox_reply(struct outbox *ob, uint64_t id, const struct pdu_addr *src,
    const struct pdu_addr *dst, const char *text, char *err, size_t errlen);
int outbox_reply_failed(struct outbox *ob, uint64_t id);

/* The oldest open message, or past the newest opened: every submitted row
 * below it is finished in memory. */
int64_t outbox_low(const struct outbox *ob);

/* Writes the outbox mark, inside the caller's transaction, once it is
 * MARK_STEP behind outbox_low() (always, with force). 0, or -1 if the
 * write failed (the stored mark then lags, which is safe). */
int outbox_sync_mark(struct outbox *ob, int force);

/* Every part has an outcome: the message is submitted or failed. */
int outbox_final(struct outbox *ob, const struct outq_msg_info *m);
/* A delivery receipt that came on link (NULL: any): updates the part the
 * link's SMSC id names and, with it, the message. */
int outbox_receipt(struct outbox *ob, const char *link, const struct dlr *d);

#endif
