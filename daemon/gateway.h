/*
 * The gateway wires one SMSC session (a transceiver link, or a transmitter +
 * receiver pair) to the text pipeline: deliver_sm -> receipt or text
 * (UDH/SAR/payload reassembly, charset decode) -> reply -> send queue ->
 * submit_sm. It decides when a deliver_sm is acknowledged.
 */
#ifndef DAEMON_GATEWAY_H
#define DAEMON_GATEWAY_H

#include <stdint.h>

#include "daemon/pipeline.h"
#include "proto/pdu.h"

struct event_base;
struct conf;
struct gateway;

/* Opens the store and loads the pipeline; NULL (errors logged) if not. */
struct gateway *gateway_new(struct event_base *base, const struct conf *c);
void gateway_free(struct gateway *g);
void gateway_start(struct gateway *g);
/* Graceful stop; the event loop exits when every link has unbound (or a
 * bounded time has passed). */
void gateway_stop(struct gateway *g);
/* Applies the settings that can change live (window, max_tps, patterns,
 * templates, limits); logs the ones that need a restart. */
void gateway_reload(struct gateway *g, const struct conf *c);


#endif
