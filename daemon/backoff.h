/*
 * Reconnect delays: exponential from min to max with jitter, so a fleet of
 * gateways does not reconnect in step after a carrier outage.
 */
#ifndef DAEMON_BACKOFF_H
#define DAEMON_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint32_t min_ms, max_ms;
	uint32_t attempt;
	uint64_t rng;        /* xorshift state, never 0 */
};

void backoff_init(struct backoff *b, uint32_t min_ms, uint32_t max_ms,
    uint64_t seed);
/* Next delay in ms: base = min(max, min * 2^attempt), then a uniform pick
 * in [base/2, base] (never below min). Advances the attempt counter. */
uint32_t backoff_next(struct backoff *b);
void backoff_reset(struct backoff *b);

#endif
