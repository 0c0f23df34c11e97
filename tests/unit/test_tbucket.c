/* daemon/tbucket and daemon/backoff: pacing arithmetic with a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/backoff.h"
#include "daemon/tbucket.h"

static void
test_unlimited(void **state)
{
	struct tbucket tb;

	(void)state;
	tbucket_init(&tb, 0, 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(tbucket_take(&tb, 0), 1);
	assert_int_equal(tbucket_wait_us(&tb, 0), 0);
}

/* 100/s: a burst of 5 (1/20 s), then exactly one per 10 ms. */
static void
test_rate_and_burst(void **state)
{
	struct tbucket tb;
	uint64_t t = 1000000;
	int sent = 0;

	(void)state;
	tbucket_init(&tb, 100, t);
	while (tbucket_take(&tb, t))
		sent++;
	assert_int_equal(sent, 5);
	assert_int_equal(tbucket_wait_us(&tb, t), 10000);
	assert_int_equal(tbucket_take(&tb, t + 9999), 0);
	assert_int_equal(tbucket_take(&tb, t + 10000), 1);
	/* Over 10 simulated seconds in 1 ms steps: 1000 more, not one over. */
	sent = 0;
	for (uint64_t now = t + 10000; now <= t + 10000 + 10000000; now += 1000)
		while (tbucket_take(&tb, now))
			sent++;
	assert_int_equal(sent, 1000);
}

static void
test_slow_rate_single_token(void **state)
{
	struct tbucket tb;

	(void)state;
	tbucket_init(&tb, 3, 0);
	assert_int_equal(tbucket_take(&tb, 0), 1);
	assert_int_equal(tbucket_take(&tb, 0), 0);
	assert_int_equal(tbucket_wait_us(&tb, 0), 333334);
	assert_int_equal(tbucket_take(&tb, 333334), 1);
}

static void
test_backoff_grows_with_jitter_and_caps(void **state)
{
	struct backoff b;
	uint32_t d;

	(void)state;
	backoff_init(&b, 1000, 60000, 42);
	d = backoff_next(&b);                     /* base 1000 */
	assert_true(d >= 1000 && d <= 1000);
	d = backoff_next(&b);                     /* base 2000 */
	assert_true(d >= 1000 && d <= 2000);
	d = backoff_next(&b);                     /* base 4000 */
	assert_true(d >= 2000 && d <= 4000);
	for (int i = 0; i < 20; i++)
		d = backoff_next(&b);
	assert_true(d >= 30000 && d <= 60000);
	backoff_reset(&b);
	assert_int_equal(backoff_next(&b), 1000);
}

static void
test_backoff_jitter_varies(void **state)
{
	struct backoff b;
	uint32_t seen[8];
	int distinct = 0;

	(void)state;
	backoff_init(&b, 1000, 64000, 7);
	for (int i = 0; i < 8; i++) {
		b.attempt = 6;                    /* base 64000 each time */
		seen[i] = backoff_next(&b);
		assert_true(seen[i] >= 32000 && seen[i] <= 64000);
	}
	for (int i = 1; i < 8; i++)
		distinct += seen[i] != seen[0];
	assert_true(distinct > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_rate_and_burst),
		cmocka_unit_test(test_slow_rate_single_token),
		cmocka_unit_test(test_backoff_grows_with_jitter_and_caps),
		cmocka_unit_test(test_backoff_jitter_varies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
