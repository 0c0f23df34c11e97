/* Exponential backoff with "equal jitter". */
#include "daemon/backoff.h"

void
backoff_init(struct backoff *b, uint32_t min_ms, uint32_t max_ms,
    uint64_t seed)
{
	b->min_ms = min_ms > 0 ? min_ms : 1;
	b->max_ms = max_ms >= b->min_ms ? max_ms : b->min_ms;
	b->attempt = 0;
	b->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

uint32_t
backoff_next(struct backoff *b)
{
	uint64_t base = b->min_ms;
	uint64_t half, pick;

	for (uint32_t i = 0; i < b->attempt && base < b->max_ms; i++)
		base *= 2;
	if (base > b->max_ms)
		base = b->max_ms;
	if (b->attempt < 64)
		b->attempt++;
	half = base / 2;
	pick = half + xorshift(&b->rng) % (base - half + 1);
	return (uint32_t)(pick < b->min_ms ? b->min_ms : pick);
}

void
backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}
