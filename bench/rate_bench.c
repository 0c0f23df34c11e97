/*
 * Cost of daemon/rate on the hot path: rate_take + rate_accepted per submit,
 * unthrottled (max_tps = 0, never throttled) and paced (max_tps = 100000),
 * at 80,000 submits per simulated second. Built by hand:
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -I. -o build/rate_bench \
 *       bench/rate_bench.c daemon/rate.c daemon/tbucket.c && build/rate_bench
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "daemon/rate.h"

#define N 100000000ULL

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
run(const char *name, uint32_t max_tps)
{
	struct rate r;
	volatile uint64_t sink = 0;
	uint64_t taken = 0;
	double t0;

	rate_init(&r, max_tps, 0);
	t0 = now_s();
	for (uint64_t i = 0; i < N; i++) {
		uint64_t t = i * 25 / 2;          /* 12.5 us: 80,000/s */

		if (rate_take(&r, t)) {
			taken++;
			rate_accepted(&r, t + 1000);
		}
	}
	sink = taken;
	printf("%-12s %.2f ns per rate_take + rate_accepted (%llu taken)\n",
	    name, (now_s() - t0) * 1e9 / (double)N, (unsigned long long)sink);
}

int
main(void)
{
	run("unthrottled", 0);
	run("max_tps", 100000);
	return 0;
}
