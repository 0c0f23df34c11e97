/*
 * One SMPP 3.4 connection from us (the ESME) to the carrier's SMSC: connect,
 * bind, keep alive with enquire_link, a window of outstanding submit_sm
 * matched by sequence number, the adaptive send rate (daemon/rate),
 * reconnect with backoff, graceful unbind. It knows nothing of texts: it
 * hands decoded deliver_sm up and takes ready-made submit_sm down. Used
 * through the struct link operations (daemon/link/link.h).
 */
#ifndef DAEMON_LINK_SMPP_H
#define DAEMON_LINK_SMPP_H

#include "daemon/link/link.h"

struct link *smpp_link_new(struct event_base *base,
    const struct link_cfg *cfg, const struct link_cb *cb, void *arg);

#endif
