/* daemon/ratelimit: N per hour, one warning, silence, a new window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "daemon/ratelimit.h"

static void
test_limit_warn_silence_reset(void **state)
{
	struct ratelimit *r = ratelimit_new(3);
	time_t t = 1000000;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(ratelimit_hit(r, "13800138000", t + i), RL_OK);
	assert_int_equal(ratelimit_hit(r, "13800138000", t + 10), RL_WARN);
	assert_int_equal(ratelimit_hit(r, "13800138000", t + 20), RL_SILENT);
	assert_int_equal(ratelimit_hit(r, "13800138000", t + 3599), RL_SILENT);
	/* Another sender is not affected. */
	assert_int_equal(ratelimit_hit(r, "13900139000", t + 20), RL_OK);
	/* The hour has passed. */
	assert_int_equal(ratelimit_hit(r, "13800138000", t + 3600), RL_OK);
	ratelimit_free(r);
}

static void
test_zero_means_unlimited_and_live_change(void **state)
{
	struct ratelimit *r = ratelimit_new(0);

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ratelimit_hit(r, "1", 5), RL_OK);
	ratelimit_set(r, 1);
	assert_int_equal(ratelimit_hit(r, "2", 5), RL_OK);
	assert_int_equal(ratelimit_hit(r, "2", 5), RL_WARN);
	ratelimit_free(r);
}

/* Memory follows the senders of the last hour. */
static void
test_sweep_bounds_memory(void **state)
{
	struct ratelimit *r = ratelimit_new(5);
	char id[24];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "1380000%04d", i);
		ratelimit_hit(r, id, 100);
	}
	assert_int_equal(ratelimit_senders(r), 5000);
	for (int i = 0; i < 6000; i++) {
		snprintf(id, sizeof(id), "1390000%04d", i);
		ratelimit_hit(r, id, 100 + 3600);
	}
	/* The 5000 of the first hour were swept out along the way. */
	assert_int_equal(ratelimit_senders(r), 6000);
	ratelimit_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_warn_silence_reset),
		cmocka_unit_test(test_zero_means_unlimited_and_live_change),
		cmocka_unit_test(test_sweep_bounds_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
