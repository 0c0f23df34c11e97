/*
 * The gateway wires one SMSC session (a transceiver link, or a transmitter +
 * receiver pair) to the text pipeline: deliver_sm -> receipt or text
 * (UDH/SAR/payload reassembly, charset decode) -> reply -> send queue ->
 * submit_sm. It decides when a deliver_sm is acknowledged.
 */
#ifndef DAEMON_GATEWAY_H
#define DAEMON_GATEWAY_H

#include <stdint.h>

#include "proto/pdu.h"

struct event_base;
struct conf;
struct gateway;

/* One whole inbound text, decoded to UTF-8. */
struct inbound {
	struct pdu_addr src, dst;
	uint8_t         data_coding;
	int             parts;
	const char     *text;      /* NUL-terminated UTF-8 */
	size_t          len;
};

struct gateway *gateway_new(struct event_base *base, const struct conf *c);
void gateway_free(struct gateway *g);
void gateway_start(struct gateway *g);
/* Graceful stop; the event loop exits when every link has unbound (or a
 * bounded time has passed). */
void gateway_stop(struct gateway *g);
/* Applies the settings that can change live (window, max_tps); logs the
 * ones that need a restart. */
void gateway_reload(struct gateway *g, const struct conf *c);

/*
 * Queues a reply to in->src from our short code. Returns 0, or -1 when no
 * reply may be sent (alphanumeric sender, our own short code) or the text
 * does not encode.
 */
int gateway_reply(struct gateway *g, const struct inbound *in,
    const char *text);

#endif
