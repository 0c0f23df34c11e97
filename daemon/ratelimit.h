/*
 * Per-sender rate limit: at most N texts answered per sender per hour. The
 * text after the Nth gets one "too many requests" reply, then silence until
 * the sender's hour has passed. In memory: a restart forgives everyone,
 * which is cheaper than an index on the message log.
 */
#ifndef DAEMON_RATELIMIT_H
#define DAEMON_RATELIMIT_H

#include <stddef.h>
#include <time.h>

enum rl_verdict { RL_OK, RL_WARN, RL_SILENT };

struct ratelimit;

struct ratelimit *ratelimit_new(unsigned per_hour);
void ratelimit_free(struct ratelimit *r);
/* Counts one text from sender at now; per_hour 0 means no limit. */
enum rl_verdict ratelimit_hit(struct ratelimit *r, const char *sender,
    time_t now);
void ratelimit_set(struct ratelimit *r, unsigned per_hour);
size_t ratelimit_senders(const struct ratelimit *r);
/* Heap bytes the table holds. */
size_t ratelimit_bytes(const struct ratelimit *r);

#endif
