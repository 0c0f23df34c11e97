/* Token bucket in integer micro-tokens, so no drift from floating point. */
#include "daemon/tbucket.h"

#define MICRO 1000000LL

static void
refill(struct tbucket *tb, uint64_t now_us)
{
	if (now_us > tb->last_us) {
		int64_t add = (int64_t)(now_us - tb->last_us) * tb->rate;

		tb->micro = add > tb->cap - tb->micro ? tb->cap :
		    tb->micro + add;
	}
	tb->last_us = now_us;
}

void
tbucket_init(struct tbucket *tb, uint32_t rate, uint64_t now_us)
{
	uint32_t burst = rate / 20;

	tb->rate = rate;
	tb->cap = (int64_t)(burst > 0 ? burst : 1) * MICRO;
	tb->micro = tb->cap;
	tb->last_us = now_us;
}

int
tbucket_take(struct tbucket *tb, uint64_t now_us)
{
	if (tb->rate == 0)
		return 1;
	refill(tb, now_us);
	if (tb->micro < MICRO)
		return 0;
	tb->micro -= MICRO;
	return 1;
}

uint64_t
tbucket_wait_us(struct tbucket *tb, uint64_t now_us)
{
	if (tb->rate == 0)
		return 0;
	refill(tb, now_us);
	if (tb->micro >= MICRO)
		return 0;
	return (uint64_t)((MICRO - tb->micro + tb->rate - 1) / tb->rate);
}
