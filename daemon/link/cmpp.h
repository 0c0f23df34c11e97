/*
 * One CMPP 3.0 or 2.0 connection from us (the SP) to China Mobile's ISMG:
 * CONNECT with the authenticators, ACTIVE_TEST keep-alive, a window of
 * outstanding SUBMITs matched by Sequence_Id, the adaptive send rate,
 * reconnect with backoff, graceful TERMINATE. SMPP submit_sm in, SMPP
 * deliver_sm out: it translates both ways, so nothing above the link
 * (daemon/link/link.h) knows the protocol.
 */
#ifndef DAEMON_LINK_CMPP_H
#define DAEMON_LINK_CMPP_H

#include "daemon/link/link.h"

/* version: CMPP_V30 or CMPP_V20 (proto/cmpp.h). NULL if out of memory. */
struct link *cmpp_link_new(int version, struct event_base *base,
    const struct link_cfg *cfg, const struct link_cb *cb, void *arg);

#endif
