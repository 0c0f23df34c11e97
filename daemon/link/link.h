/*
 * One session to a carrier's gateway, whatever protocol it speaks (SMPP
 * 3.4 in link/smpp.c, CMPP 3.0/2.0 in link/cmpp.c): connect, bind, keep
 * alive, a window of outstanding submits, the adaptive send rate, reconnect
 * with backoff, graceful stop. Above this line nothing knows the protocol:
 * a session hands up inbound messages and receipts as SMPP deliver_sm in a
 * struct pdu (the gateway's one model of a message) and takes submits as
 * SMPP submit_sm, which it translates.
 */
#ifndef DAEMON_LINK_LINK_H
#define DAEMON_LINK_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "proto/pdu.h"

struct event_base;
struct link;

enum link_mode { LINK_TRX, LINK_TX, LINK_RX };
enum link_protocol { LINK_SMPP, LINK_CMPP30, LINK_CMPP20 };

/* Outcomes of a submit that are not a gateway's answer. */
#define LINK_TIMEOUT  0xFFFF0001u   /* no response in time */
#define LINK_LOST     0xFFFF0002u   /* the link dropped while outstanding */
#define LINK_ENCODE   0xFFFF0003u   /* the submit does not encode */
#define LINK_EXPIRED  0xFFFF0004u   /* not sent within [outbox] validity_h */
/* A CMPP SUBMIT_RESP Result r, in the same space as SMPP statuses. */
#define LINK_CMPP_RESULT(r)  (0x434D0000u | ((uint32_t)(r) & 0xFFFFu))
#define LINK_IS_CMPP(s)      (((s) & 0xFFFF0000u) == 0x434D0000u)

struct link_cfg {
	const char *name;            /* for logs: "trx", "mobile.tx", ... */
	const char *host;
	int         port;
	const char *system_id, *password, *system_type;
	enum link_mode mode;
	int         window;
	int         max_tps;
	int         enquire_link_s;  /* CMPP: ACTIVE_TEST after this idle */
	int         response_timeout_s;
	int         reconnect_min_s, reconnect_max_s;
	/* CMPP */
	const char *source_addr;     /* Src_Id */
	const char *service_id, *fee_type, *fee_code;
	int         active_test_tries;
};

struct link_cb {
	/* Bound (1) or not any more (0). */
	void (*on_bound)(void *arg, struct link *l, int bound);
	/*
	 * An inbound message or receipt, as an SMPP deliver_sm. The receiver
	 * answers it, now or later, with link_ack(l, token, status) (an SMPP
	 * status; a CMPP link maps it to a Result); a token from before a
	 * reconnect is ignored.
	 */
	void (*on_deliver)(void *arg, struct link *l, const struct pdu *p,
	    uint64_t token);
	/* A submit's outcome: ESME_OK with the gateway's message id, an
	 * error status, LINK_TIMEOUT or LINK_LOST. */
	void (*on_submit_done)(void *arg, void *cookie, uint32_t status,
	    const char *message_id);
	/* The window, the rate or a pause has room again. */
	void (*on_ready)(void *arg, struct link *l);
	/* Every message buffered by one read has been handled: the moment to
	 * commit a batch and answer it. May be NULL. */
	void (*on_read_done)(void *arg, struct link *l);
	/* Stopped for good after link_stop(). */
	void (*on_stopped)(void *arg, struct link *l);
};

struct link_ops {
	void        (*start)(struct link *);
	void        (*stop)(struct link *);
	void        (*free)(struct link *);
	int         (*can_submit)(struct link *);
	int         (*submit)(struct link *, struct pdu *, void *, char *,
	                size_t);
	void        (*ack)(struct link *, uint64_t, uint32_t);
	void        (*set_limits)(struct link *, int, int);
	int         (*is_bound)(const struct link *);
	int         (*outstanding)(const struct link *);
	const char *(*state)(const struct link *);
	const char *(*name)(const struct link *);
	uint32_t    (*rate)(const struct link *);
};

/* The first member of every session. */
struct link {
	const struct link_ops *ops;
};

/* A session of the protocol asked for, made but not started; NULL if out
 * of memory. */
struct link *link_new(enum link_protocol proto, struct event_base *base,
    const struct link_cfg *cfg, const struct link_cb *cb, void *arg);

/* Frees the link; submits still outstanding come back through
 * on_submit_done with LINK_LOST first. NULL is fine. */
static inline void link_free(struct link *l)
{
	if (l != NULL)
		l->ops->free(l);
}
/* Starts connecting. */
static inline void link_start(struct link *l) { l->ops->start(l); }
/* Graceful stop: no new submits, new inbound messages refused with a
 * temporary error, the window drains (at most response_timeout_s), then
 * unbind, close and on_stopped. */
static inline void link_stop(struct link *l) { l->ops->stop(l); }
/* 1 if a submit would be sent now: bound, window room, the rate allows,
 * not stopping. */
static inline int link_can_submit(struct link *l)
{
	return l->ops->can_submit(l);
}
/* Sends p (an SMPP submit_sm; the sequence is assigned here). 0, or -1
 * when link_can_submit() is false or it does not encode (err says which).
 * cookie comes back in on_submit_done exactly once. */
static inline int link_submit(struct link *l, struct pdu *p, void *cookie,
    char *err, size_t errlen)
{
	return l->ops->submit(l, p, cookie, err, errlen);
}
/* Answers an inbound message handed up by on_deliver. */
static inline void link_ack(struct link *l, uint64_t token, uint32_t status)
{
	l->ops->ack(l, token, status);
}
/* Changes window and max_tps live (reload). */
static inline void link_set_limits(struct link *l, int window, int max_tps)
{
	l->ops->set_limits(l, window, max_tps);
}
static inline int link_is_bound(const struct link *l)
{
	return l->ops->is_bound(l);
}
static inline int link_outstanding(const struct link *l)
{
	return l->ops->outstanding(l);
}
static inline const char *link_state(const struct link *l)
{
	return l->ops->state(l);
}
static inline const char *link_name(const struct link *l)
{
	return l->ops->name(l);
}
/* The send rate in force (submits/s): the learned one or max_tps,
 * whichever is lower; 0 = no limit. */
static inline uint32_t link_rate(const struct link *l)
{
	return l->ops->rate(l);
}

/* A name for a submit outcome: an SMPP status name, a CMPP result, or one
 * of the local outcomes. */
const char *link_status_name(uint32_t status);

#endif
