/* daemon/casefields: the case field rules smsgwctl import-cases and the
 * HTTP API share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/casefields.h"

#define TODAY 20261121L

static struct case_rec c;
static char why[256];

static int
set(enum case_field f, const char *v)
{
	why[0] = '\0';
	return casefield_set(&c, f, v, strlen(v), "86", TODAY, why,
	    sizeof(why));
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(casefield_find("receipt_no", 0), CF_RECEIPT);
	assert_int_equal(casefield_find("Tracking_No", 1), CF_TRACKING);
	assert_int_equal(casefield_find("Tracking_No", 0), -1);
	assert_int_equal(casefield_find("deadline", 1), -1);
	for (int i = 0; i < CF_COUNT; i++)
		assert_int_equal(casefield_find(casefields[i].name, 0), i);
	assert_int_equal(casefields[CF_STATUS].size, 0);
	assert_int_equal(casefields[CF_REASON].size, sizeof(c.reason));
}

static void
test_receipt(void **state)
{
	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(set(CF_RECEIPT, "jx2026000123"), 0);
	assert_string_equal(c.receipt_no, "JX2026000123");   /* upper-cased */
	assert_int_equal(set(CF_RECEIPT, ""), -1);
	assert_string_equal(why, "receipt_no must be 1-32 letters or digits");
	assert_int_equal(set(CF_RECEIPT,
	    "A23456789012345678901234567890123"), -1);      /* 33 */
	assert_int_equal(set(CF_RECEIPT,
	    "A2345678901234567890123456789012"), 0);        /* 32 */
	assert_int_equal(set(CF_RECEIPT, "JX-1"), -1);
	assert_string_equal(why,
	    "receipt_no 'JX-1' must be letters and digits only");
}

static void
test_id_never_echoed(void **state)
{
	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(set(CF_ID, "11010519491231002x"), 0);
	assert_string_equal(c.id_number, "11010519491231002X");
	assert_int_equal(set(CF_ID, "110105194912310021"), -1);   /* check */
	assert_null(strstr(why, "110105194912310021"));
	assert_non_null(strstr(why, "id_number "));
	/* Born after today: refused. */
	assert_int_equal(set(CF_ID, "110105203001010018"), -1);
}

static void
test_name_and_text(void **state)
{
	char big[300];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(set(CF_NAME, "张三"), 0);
	assert_string_equal(c.name, "张三");
	assert_int_equal(set(CF_NAME, ""), -1);
	assert_string_equal(why, "name is empty");
	assert_int_equal(set(CF_NAME, "a\tb"), -1);
	assert_string_equal(why, "name has a control character");
	assert_int_equal(set(CF_COURIER, "\xff\xfe"), -1);
	assert_string_equal(why, "courier is not valid UTF-8");
	assert_int_equal(set(CF_COURIER, ""), 0);        /* optional: empty */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[sizeof(c.reason) - 1] = '\0';                 /* 256: fits */
	assert_int_equal(set(CF_REASON, big), 0);
	big[sizeof(c.reason) - 1] = 'x';
	big[sizeof(c.reason)] = '\0';                     /* 257: too long */
	assert_int_equal(set(CF_REASON, big), -1);
	assert_string_equal(why, "reason is 257 bytes, at most 256");
}

static void
test_msisdn(void **state)
{
	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(set(CF_MSISDN, "+8613800138000"), 0);
	assert_string_equal(c.msisdn, "13800138000");
	assert_int_equal(set(CF_MSISDN, "008613800138000"), 0);
	assert_string_equal(c.msisdn, "13800138000");
	assert_int_equal(set(CF_MSISDN, "123456"), -1);  /* under 7 digits */
	assert_string_equal(why, "msisdn is not a phone number");
	assert_int_equal(set(CF_MSISDN, "138-0013-8000"), -1);
	assert_string_equal(c.msisdn, "");                /* nothing half-set */
}

static void
test_status(void **state)
{
	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(set(CF_STATUS, "mailed"), 0);
	assert_int_equal(c.status, CASE_MAILED);
	assert_int_equal(set(CF_STATUS, "Mailed"), -1);
	assert_non_null(strstr(why, "status 'Mailed' is not one of accepted,"));
}

static void
test_dates(void **state)
{
	static const char *const good[] = { "2026-01-31", "2024-02-29",
	    "2000-02-29", "1900-01-01" };
	static const char *const bad[] = { "2023-02-29", "1900-02-29",
	    "2026-04-31", "2026-13-01", "2026-00-10", "2026-1-01",
	    "20260101", "2026-01-01 ", "２０２６-01-01", "" };

	(void)state;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(set(CF_SUBMITTED, good[i]), 0);
		assert_string_equal(c.submitted_at, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(set(CF_SUBMITTED, bad[i]), -1);
		assert_non_null(strstr(why, "is not a date (YYYY-MM-DD)"));
	}
	assert_int_equal(set(CF_SUBMITTED, "1899-12-31"), -1);
	assert_string_equal(why, "submitted_at '1899-12-31' is before 1900");
	assert_int_equal(casefield_set(&c, CF_COUNT, "x", 1, "86", TODAY, why,
	    sizeof(why)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_receipt),
		cmocka_unit_test(test_id_never_echoed),
		cmocka_unit_test(test_name_and_text),
		cmocka_unit_test(test_msisdn),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
