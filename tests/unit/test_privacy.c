/* daemon/privacy: what personal data looks like in replies, logs and
 * operator output, and phone numbers in national form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/privacy.h"

static void
test_mask_name(void **state)
{
	char out[32];

	(void)state;
	mask_name("张三", out, sizeof(out));
	assert_string_equal(out, "张*");
	mask_name("欧阳娜娜", out, sizeof(out));
	assert_string_equal(out, "欧*");
	mask_name("Wang Wu", out, sizeof(out));
	assert_string_equal(out, "W*");
	mask_name("", out, sizeof(out));
	assert_string_equal(out, "*");
	mask_name("\xe5", out, sizeof(out));      /* truncated UTF-8 */
	assert_string_equal(out, "\xe5*");
}

static void
test_mask_msisdn(void **state)
{
	char out[32];

	(void)state;
	mask_msisdn("13800138000", out, sizeof(out));
	assert_string_equal(out, "138****8000");
	mask_msisdn("8613800138000", out, sizeof(out));
	assert_string_equal(out, "861****8000");
	mask_msisdn("10086", out, sizeof(out));
	assert_string_equal(out, "****");
	mask_msisdn("1380013", out, sizeof(out));          /* 7: all hidden */
	assert_string_equal(out, "****");
	mask_msisdn("13800138", out, sizeof(out));         /* 8: 3 + 4 */
	assert_string_equal(out, "138****0138");
	mask_msisdn("", out, sizeof(out));
	assert_string_equal(out, "****");
	/* A 20-digit address keeps only its ends. */
	mask_msisdn("12345678901234567890", out, sizeof(out));
	assert_string_equal(out, "123****7890");
	/* A small buffer cuts, always terminated. */
	mask_msisdn("13800138000", out, 6);
	assert_string_equal(out, "138**");
	mask_msisdn("13800138000", out, 1);
	assert_string_equal(out, "");
}

static void
test_national_forms(void **state)
{
	char out[24];

	(void)state;
	assert_int_equal(msisdn_national("+8613800138000", "86", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "13800138000");
	assert_int_equal(msisdn_national("008613800138000", "86", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "13800138000");
	assert_int_equal(msisdn_national("8613800138000", "86", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "13800138000");
	assert_int_equal(msisdn_national("13800138000", "86", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "13800138000");
	/* A short national number that starts with 86 keeps its digits. */
	assert_int_equal(msisdn_national("8612345", "86", out, sizeof(out)),
	    0);
	assert_string_equal(out, "8612345");
	assert_int_equal(msisdn_national("ABCBANK", "86", out, sizeof(out)),
	    -1);
	assert_int_equal(msisdn_national("", "86", out, sizeof(out)), -1);
	assert_true(msisdn_same("+8613800138000", "13800138000", "86"));
	assert_true(msisdn_same("008613800138000", "8613800138000", "86"));
	assert_false(msisdn_same("13800138001", "13800138000", "86"));
	assert_false(msisdn_same("ABC", "ABC", "86"));
}

static void
test_mask_text(void **state)
{
	char out[128];

	(void)state;
	mask_text("挂失 11010519491231002X 张三", "张三", out, sizeof(out));
	assert_string_equal(out, "挂失 ****002X 张*");
	mask_text("CX 440524188001010014", NULL, out, sizeof(out));
	assert_string_equal(out, "CX ****0014");
	mask_text("JX2026000123 ok", NULL, out, sizeof(out));
	assert_string_equal(out, "JX2026000123 ok");     /* not an ID */
	mask_text("a\"b\\c\nd", NULL, out, sizeof(out));
	assert_string_equal(out, "a?b?c?d");
	mask_text("CX 11010519491231002X", NULL, out, 8);
	assert_int_equal(strlen(out), 7);                /* bounded */
	assert_null(strstr(out, "1101051949"));
}

/* Found by fuzz/fuzz_http: a name starting with a quote came back
 * through its masked form unescaped, breaking a key="value" log line. */
static void
test_mask_text_name_quote(void **state)
{
	char out[128];

	(void)state;
	mask_text("\"appointment", "\"appointment", out, sizeof(out));
	assert_string_equal(out, "?*");
	mask_text("GS \\x", "\\x", out, sizeof(out));
	assert_string_equal(out, "GS ?*");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_name),
		cmocka_unit_test(test_mask_msisdn),
		cmocka_unit_test(test_national_forms),
		cmocka_unit_test(test_mask_text),
		cmocka_unit_test(test_mask_text_name_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
