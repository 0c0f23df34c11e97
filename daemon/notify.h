/*
 * Case changes -> proactive notifications. One function applies a case
 * update (from smsgwctl, the HTTP API or an import) and, in the same
 * transaction, queues the one SMS the change calls for: the status changed
 * to mailed, ready, rejected or appointment; the phone has not opted out.
 * The same change again queues nothing, so each change is notified once.
 */
#ifndef DAEMON_NOTIFY_H
#define DAEMON_NOTIFY_H

#include <stddef.h>

#include "daemon/store.h"
#include "daemon/templates.h"

enum notify_result { NOTIFY_ERROR = -1, NOTIFY_NONE = 0, NOTIFY_QUEUED = 1,
	NOTIFY_OPTED_OUT = 2 };

/*
 * Upserts c (by receipt_no) inside the caller's transaction. When notify is
 * set and the change calls for it, renders the notify.<status> template and
 * queues it as an outbox row (class notify) to the case's phone in
 * international form (country code cc + national number, TON 1, NPI 1).
 * *prev_status gets the status before (-1 for a new case) if not NULL.
 */
enum notify_result notify_case_update(struct store *st,
    const struct tmpl_set *t, const struct case_rec *c, const char *cc,
    int notify, int *prev_status, char *err, size_t errlen);

/* 1 if a change into status s is one citizens are told about. */
int notify_status_notifies(int s);

#endif
