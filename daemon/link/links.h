/*
 * The carrier links of a gateway: one per [smsc NAME] section ([smpp] is
 * the link "default"), each in a slot (the index the send queue and the
 * routes file use) and each a transceiver session or a transmitter +
 * receiver pair. This module owns their life (start, stop, live reload:
 * add, drain, reconnect, update), the failover grace of a link that is not
 * bound, the choice of links for a message (the send queue's router), and
 * their rows in the store's links table. The sessions' PDUs go to the
 * gateway through the smpp_link callbacks it hands in; their arg is the
 * struct carrier.
 */
#ifndef DAEMON_LINK_LINKS_H
#define DAEMON_LINK_LINKS_H

#include <stdint.h>
#include <time.h>

#include "daemon/conf.h"
#include "daemon/link/link.h"
#include "proto/pdu.h"

struct event;
struct event_base;
struct links;
struct outq;
struct store;

/* One carrier link. The gateway reads these fields; links.c writes them. */
struct carrier {
	struct links     *set;
	void             *gw;         /* the hooks' arg */
	int               idx;        /* its slot */
	struct conf_smpp  cfg;
	struct link *tx, *rx;    /* the same for a transceiver; NULL
	                               * while disabled */
	struct pdu_addr   src;        /* our short code on this carrier */
	struct event     *failover;   /* failover_s after it went down */
	int               running;    /* sessions not stopped yet */
	int               removed;    /* taken out by a reload: draining */
	time_t            bound_at;   /* 0 while not bound */
	/* Counted on the hot path, added to the labelled metrics by
	 * links_tick (a label lookup per submit costs more than this). */
	uint64_t          submits, receipts;
	uint64_t          submits_shown, receipts_shown;
	char              last_error[96];
};

struct links_hooks {
	const struct link_cb *cb;   /* the sessions' callbacks */
	void (*pump)(void *gw);          /* messages moved: send what can go */
	int  (*txn)(void *gw);           /* the turn's transaction: 0 / -1 */
	void  *gw;
};

/*
 * The links of c, in slots 0..c->nlinks-1 in file order, with the routes
 * file loaded; sessions made, not started. NULL (logged) on failure.
 */
struct links *links_new(struct event_base *base, struct outq *q,
    struct store *st, const struct conf *c, const struct links_hooks *h);
/* Frees every link; their in-flight segments go back to the queue. */
void links_free(struct links *s);
void links_start(struct links *s);
/* Graceful stop of every link; returns how many are still running (0:
 * nothing to wait for). */
int links_stop(struct links *s);
/* Applies a reloaded config's links and routes file. */
void links_reload(struct links *s, const struct conf *c);

/* The link in a slot, or NULL. */
struct carrier *links_at(const struct links *s, int slot);
/* The slot of the live link called name, or -1. */
int links_slot(const struct links *s, const char *name);
/* The longest response_timeout_s of any link (the stop's bound). */
int links_response_timeout(const struct links *s);

/* The link a reply is being queued for: the router tries it first. -1
 * after. */
void links_reply_via(struct links *s, int slot);

/* 1 if status from this link means "it cannot reach the number": the
 * message goes to the next link of its route. */
int links_reroute_status(const struct carrier *c, uint32_t status);

/* A session of c bound (1) or not: availability in the queue, the failover
 * grace, metrics, the service status, its row. */
void links_bound(struct links *s, struct carrier *c, struct link *l,
    int bound);
/* A session of c stopped for good. Returns 1 when the gateway is stopping
 * and every link has stopped; a link a reload took out is freed (later,
 * outside its callback). */
int links_stopped(struct links *s, struct carrier *c);

/* Twice a second: the per-link gauges; every few seconds the rows. */
void links_tick(struct links *s);
/* Writes one link's row in the turn's transaction (at a bind change). */
void links_row(struct links *s, const struct carrier *c);
/* Rewrites every link's row (after a start or reload). */
void links_rows(struct links *s);

#endif
