/*
 * Unit tests for parsers/idcard: the GB 11643-1999 check character, birth
 * dates (leap years, the future), lengths and characters, and the mask.
 * Numbers other than the two from the standard have a computed check
 * character and a made-up birth date.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/idcard.h"

#define TODAY 20260115L   /* a fixed "today" for the future-date tests */

/* Canonical form written by the call under test; poisoned before each. */
static char canon[19];

static int
poison(void **state)
{
	(void)state;
	memset(canon, '#', sizeof(canon));
	return 0;
}

#define T(f) cmocka_unit_test_setup(f, poison)

static enum idcard_result
check(const char *s)
{
	return idcard_check(s, canon, TODAY);
}

static void
test_valid_examples(void **state)
{
	(void)state;
	assert_int_equal(check("11010519491231002X"), IDCARD_OK);
	assert_string_equal(canon, "11010519491231002X");
	assert_int_equal(check("440524188001010014"), IDCARD_OK);
	assert_string_equal(canon, "440524188001010014");
	assert_int_equal(check("510101198510153217"), IDCARD_OK);
	assert_int_equal(check("110105200001010059"), IDCARD_OK);
}

static void
test_lower_case_x(void **state)
{
	(void)state;
	assert_int_equal(check("11010519491231002x"), IDCARD_OK);
	assert_string_equal(canon, "11010519491231002X");
}

static void
test_bad_checksum(void **state)
{
	(void)state;
	assert_int_equal(check("110105194912310021"), IDCARD_BAD_CHECKSUM);
	assert_int_equal(check("440524188001010015"), IDCARD_BAD_CHECKSUM);
	/* Two digits swapped: the weights catch it (…0027 would be right). */
	assert_int_equal(check("01110519491231002X"), IDCARD_BAD_CHECKSUM);
	/* X where a digit is due, and a digit where X is due. */
	assert_int_equal(check("44052418800101001X"), IDCARD_BAD_CHECKSUM);
	assert_int_equal(check("110105194912310020"), IDCARD_BAD_CHECKSUM);
}

static void
test_canon_untouched_on_error(void **state)
{
	(void)state;
	assert_int_equal(check("110105194912310021"), IDCARD_BAD_CHECKSUM);
	assert_int_equal(canon[0], '#');
}

static void
test_leap_days(void **state)
{
	(void)state;
	/* 2000 is a leap year (divisible by 400), 1900 is not (by 100). */
	assert_int_equal(check("320102200002291235"), IDCARD_OK);
	assert_int_equal(check("320102190002291239"), IDCARD_BAD_DATE);
	/* 2012 by 4. */
	assert_int_equal(check("35020320120229001X"), IDCARD_OK);
}

static void
test_bad_dates(void **state)
{
	(void)state;
	assert_int_equal(check("110105194902301234"), IDCARD_BAD_DATE);
	assert_int_equal(check("110105194913010010"), IDCARD_BAD_DATE);
	assert_int_equal(check("110105194900010011"), IDCARD_BAD_DATE);
	assert_int_equal(check("110105194901000018"), IDCARD_BAD_DATE);
	assert_int_equal(check("110105194904310011"), IDCARD_BAD_DATE);
	assert_int_equal(check("11010500000101001X"), IDCARD_BAD_DATE);
}

static void
test_future(void **state)
{
	(void)state;
	assert_int_equal(check("110105209912311232"), IDCARD_BAD_DATE);
	/* Born today is fine, tomorrow is not. */
	assert_int_equal(check("110105202601150011"), IDCARD_OK);
	assert_int_equal(check("110105202601160017"), IDCARD_BAD_DATE);
	/* Without a bound only the calendar counts. */
	assert_int_equal(idcard_check("110105209912311232", canon, 0),
	    IDCARD_OK);
}

static void
test_fifteen_digits(void **state)
{
	(void)state;
	assert_int_equal(check("110105491231002"), IDCARD_BAD_LENGTH);
}

static void
test_lengths(void **state)
{
	(void)state;
	assert_int_equal(check(""), IDCARD_BAD_LENGTH);
	assert_int_equal(check("11010519491231002"), IDCARD_BAD_LENGTH);
	assert_int_equal(check("11010519491231002X0"), IDCARD_BAD_LENGTH);
	assert_int_equal(check(" 11010519491231002X"), IDCARD_BAD_LENGTH);
	assert_int_equal(idcard_check(NULL, canon, TODAY), IDCARD_BAD_LENGTH);
}

static void
test_letters(void **state)
{
	(void)state;
	assert_int_equal(check("JX2026000123456789"), IDCARD_BAD_CHARS);
	assert_int_equal(check("1101051949123100XX"), IDCARD_BAD_CHARS);
	assert_int_equal(check("11010519491231002Y"), IDCARD_BAD_CHARS);
	assert_int_equal(check("11010519491231 02X"), IDCARD_BAD_CHARS);
	/* Full-width digits are not digits here: normalise first. */
	assert_int_equal(check("１１０１０５"), IDCARD_BAD_CHARS);   /* 18 bytes */
}

/* The shape that makes a token an ID number, right or mistyped. */
static void
test_shaped(void **state)
{
	(void)state;
	assert_true(idcard_shaped("11010519491231002X", 18));
	assert_true(idcard_shaped("11010519491231002x", 18));
	assert_true(idcard_shaped("110105491231002", 15));       /* old */
	assert_true(idcard_shaped("1101051949123100", 16));
	assert_true(idcard_shaped("11010519491231002", 17));
	assert_true(idcard_shaped("1101051949123100212", 19));
	assert_true(idcard_shaped("110105194912310021X", 19));
	assert_true(idcard_shaped("1101051949123X", 14) == 0);   /* 14 */
	assert_true(idcard_shaped("11010519491231", 14) == 0);
	assert_true(idcard_shaped("11010519491231002123", 20) == 0);
	/* Only the last may be X; letters and spaces are no ID shape. */
	assert_true(idcard_shaped("11010519491231002XX", 19) == 0);
	assert_true(idcard_shaped("1101051949123100X2", 18) == 0);
	assert_true(idcard_shaped("11010519491231002Y", 18) == 0);
	assert_true(idcard_shaped("JX2026000123456789", 18) == 0);
	assert_true(idcard_shaped("110105 19491231002", 18) == 0);
	/* n, not the NUL, bounds the token. */
	assert_true(idcard_shaped("11010519491231002X tail", 18));
	assert_true(idcard_shaped(NULL, 18) == 0);
	/* What idcard_check says of each: the reason a reply gives. */
	assert_int_equal(check("1101051949123100"), IDCARD_BAD_LENGTH);
	assert_int_equal(check("1101051949123100212"), IDCARD_BAD_LENGTH);
	assert_int_equal(check("44052418800101001X"), IDCARD_BAD_CHECKSUM);
}

static void
test_mask(void **state)
{
	char m[9];

	(void)state;
	idcard_mask("11010519491231002X", m);
	assert_string_equal(m, "****002X");
	idcard_mask("11010519491231002x", m);
	assert_string_equal(m, "****002X");
	idcard_mask("440524188001010014", m);
	assert_string_equal(m, "****0014");
	idcard_mask("110105491231002", m);
	assert_string_equal(m, "****1002");
	idcard_mask("1234", m);
	assert_string_equal(m, "****1234");
}

static void
test_mask_short_and_odd(void **state)
{
	char m[9];

	(void)state;
	idcard_mask("123", m);
	assert_string_equal(m, "********");
	idcard_mask("", m);
	assert_string_equal(m, "********");
	idcard_mask(NULL, m);
	assert_string_equal(m, "********");
	/* Never half a UTF-8 sequence, never a control character. */
	idcard_mask("12张三", m);
	assert_string_equal(m, "********");
	idcard_mask("1234\n5", m);
	assert_string_equal(m, "****34*5");
}

static void
test_strerror(void **state)
{
	int r;

	(void)state;
	for (r = IDCARD_OK; r <= IDCARD_BAD_CHECKSUM; r++) {
		assert_non_null(idcard_strerror((enum idcard_result)r));
		assert_true(strlen(idcard_strerror((enum idcard_result)r)) > 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_valid_examples),
		T(test_lower_case_x),
		T(test_bad_checksum),
		T(test_canon_untouched_on_error),
		T(test_leap_days),
		T(test_bad_dates),
		T(test_future),
		T(test_fifteen_digits),
		T(test_lengths),
		T(test_letters),
		T(test_shaped),
		T(test_mask),
		T(test_mask_short_and_odd),
		T(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
