/*
 * One SMPP 3.4 connection from us (the ESME) to the carrier's SMSC: connect,
 * bind, keep alive with enquire_link, a window of outstanding submit_sm
 * matched by sequence number, a max_tps token bucket, throttling pauses,
 * reconnect with backoff, graceful unbind. It knows nothing of texts: it
 * hands decoded deliver_sm up and takes ready-made submit_sm down.
 */
#ifndef DAEMON_LINK_SMPP_H
#define DAEMON_LINK_SMPP_H

#include <stdint.h>

#include "proto/pdu.h"

struct event_base;
struct smpp_link;

enum smpp_link_mode { LINK_TRX, LINK_TX, LINK_RX };

/* Outcomes of a submit that are not SMSC statuses. */
#define SMPP_LINK_TIMEOUT  0xFFFF0001u   /* no submit_sm_resp in time */
#define SMPP_LINK_LOST     0xFFFF0002u   /* link dropped while outstanding */
#define SMPP_LINK_ENCODE   0xFFFF0003u   /* submit_sm does not encode */

struct smpp_link_cfg {
	const char *name;            /* "trx", "tx", "rx": for logs */
	const char *host;
	int         port;
	const char *system_id, *password, *system_type;
	enum smpp_link_mode mode;
	int         window;
	int         max_tps;
	int         enquire_link_s;
	int         response_timeout_s;
	int         reconnect_min_s, reconnect_max_s;
};

struct smpp_link_cb {
	/* Bound (1) or not any more (0). */
	void (*on_bound)(void *arg, struct smpp_link *l, int bound);
	/*
	 * A deliver_sm. The receiver answers it, now or later, with
	 * smpp_link_ack(l, token, status); a token from before a reconnect is
	 * ignored (the SMSC redelivers what was never acknowledged).
	 */
	void (*on_deliver)(void *arg, struct smpp_link *l, const struct pdu *p,
	    uint64_t token);
	/* A submit's outcome: ESME_OK with the SMSC's message id, an SMSC
	 * error status, SMPP_LINK_TIMEOUT or SMPP_LINK_LOST. */
	void (*on_submit_done)(void *arg, void *cookie, uint32_t status,
	    const char *message_id);
	/* The window, the token bucket or a throttle pause has room again. */
	void (*on_ready)(void *arg, struct smpp_link *l);
	/* Every PDU buffered by one read has been handled: the moment to
	 * commit a batch and answer it. May be NULL. */
	void (*on_read_done)(void *arg, struct smpp_link *l);
	/* Stopped for good after smpp_link_stop(). */
	void (*on_stopped)(void *arg, struct smpp_link *l);
};

struct smpp_link *smpp_link_new(struct event_base *base,
    const struct smpp_link_cfg *cfg, const struct smpp_link_cb *cb,
    void *arg);
/* Frees the link; submits still outstanding come back through
 * on_submit_done with SMPP_LINK_LOST first. */
void smpp_link_free(struct smpp_link *l);

/* Starts connecting. */
void smpp_link_start(struct smpp_link *l);

/*
 * Graceful stop: no new submits, answer new deliver_sm with a temporary
 * error so the SMSC keeps them, wait (at most response_timeout_s) for the
 * window to drain, unbind, close, then on_stopped.
 */
void smpp_link_stop(struct smpp_link *l);

/* 1 if a submit_sm would be sent now: bound, window room, a token, no
 * throttle pause, not stopping. */
int smpp_link_can_submit(struct smpp_link *l);

/*
 * Sends p (a submit_sm; sequence is assigned here). Returns 0, or -1 when
 * smpp_link_can_submit() is false or the PDU does not encode (err says
 * which). cookie comes back in on_submit_done exactly once.
 */
int smpp_link_submit(struct smpp_link *l, struct pdu *p, void *cookie,
    char *err, size_t errlen);

/* Answers a deliver_sm handed up by on_deliver. */
void smpp_link_ack(struct smpp_link *l, uint64_t token, uint32_t status);

/* Changes window and max_tps live (reload). */
void smpp_link_set_limits(struct smpp_link *l, int window, int max_tps);

/* The send rate in force (submits/s): the rate learned from throttling or
 * max_tps, whichever is lower; 0 = no limit. */
uint32_t smpp_link_rate(const struct smpp_link *l);
int smpp_link_is_bound(const struct smpp_link *l);
int smpp_link_outstanding(const struct smpp_link *l);
const char *smpp_link_state(const struct smpp_link *l);
const char *smpp_link_name(const struct smpp_link *l);
enum smpp_link_mode smpp_link_mode(const struct smpp_link *l);

/* Name for a submit outcome: pdu_status_name() or the two local ones. */
const char *smpp_link_status_name(uint32_t status);

#endif
