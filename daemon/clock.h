/*
 * The monotonic clock in the units the daemon's timers use. Inline: the
 * hot path reads it several times per text.
 */
#ifndef DAEMON_CLOCK_H
#define DAEMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static inline uint64_t
clock_ms(void)
{
	return clock_us() / 1000;
}

/*
 * The time the current read of an SMPP link began, while its callback
 * runs (0 outside): one clock read for the dozens of PDUs of a read
 * rather than several per PDU. For what may be a loop turn old
 * (deadlines, the token bucket, latency stamps); durations use clock_us().
 */
extern uint64_t clock_turn_us;

static inline uint64_t
clock_now_us(void)
{
	return clock_turn_us != 0 ? clock_turn_us : clock_us();
}

static inline uint64_t
clock_now_ms(void)
{
	return clock_now_us() / 1000;
}

#endif
