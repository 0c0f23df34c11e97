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

/* Keys: leading zeros, long numbers and alphanumeric senders stay apart. */
static void
test_distinct_senders(void **state)
{
	static const char *const ids[] = {
		"13800138000", "013800138000", "0013800138000",
		"123456789012345678", "1234567890123456789",
		"12345678901234567890", "12345678901234567891",
		"ICBC", "icbc", "", "0", "00", "8613800138000", "+8613800138000",
	};
	size_t n = sizeof(ids) / sizeof(ids[0]);
	struct ratelimit *r = ratelimit_new(1);

	(void)state;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ratelimit_hit(r, ids[i], 50), RL_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ratelimit_hit(r, ids[i], 60), RL_WARN);
	assert_int_equal(ratelimit_senders(r), n);
	ratelimit_free(r);
}

/* 200,000 senders in one hour: all counted apart, in a table of at most
 * 64 bytes each (the chained hash it replaced used about 60). */
static void
test_many_senders_compact(void **state)
{
	struct ratelimit *r = ratelimit_new(2);
	char id[24];

	(void)state;
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 200000; i++) {
			snprintf(id, sizeof(id), "199%08d", i);
			assert_int_equal(ratelimit_hit(r, id, 1000 + round),
			    round < 2 ? RL_OK : RL_WARN);
		}
	assert_int_equal(ratelimit_senders(r), 200000);
	assert_true(ratelimit_bytes(r) <= 200000 * 64);
	ratelimit_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_warn_silence_reset),
		cmocka_unit_test(test_zero_means_unlimited_and_live_change),
		cmocka_unit_test(test_sweep_bounds_memory),
		cmocka_unit_test(test_distinct_senders),
		cmocka_unit_test(test_many_senders_compact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
