/*
 * Token bucket for the submit throughput cap (max_tps). Sub-second smooth:
 * the bucket holds at most a twentieth of a second of tokens, so a cap of
 * 100/s sends 5 at most in a burst, then one every 10 ms. Time is passed in.
 */
#ifndef DAEMON_TBUCKET_H
#define DAEMON_TBUCKET_H

#include <stdint.h>

struct tbucket {
	uint32_t rate;       /* tokens per second; 0 = unlimited */
	int64_t  micro;      /* tokens x 1e6 held */
	int64_t  cap;        /* capacity x 1e6 */
	uint64_t last_us;
};

void tbucket_init(struct tbucket *tb, uint32_t rate, uint64_t now_us);
/* Takes one token: 1 if taken, 0 if none is there yet. */
int tbucket_take(struct tbucket *tb, uint64_t now_us);
/* Microseconds until a token is there (0 if one is there now). */
uint64_t tbucket_wait_us(struct tbucket *tb, uint64_t now_us);

#endif
