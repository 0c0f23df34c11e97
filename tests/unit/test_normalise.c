/*
 * Unit tests for parsers/normalise: full-width forms, Unicode spaces,
 * separators, trimming and collapsing, and every kind of invalid UTF-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/normalise.h"

/* Output of the call under test; cleared before every test. */
static char out[256];

static int
clear_out(void **state)
{
	(void)state;
	memset(out, 0x55, sizeof(out));
	return 0;
}

#define T(f) cmocka_unit_test_setup(f, clear_out)

static int
norm(const char *s)
{
	return text_normalise(s, strlen(s), out, sizeof(out));
}

/* s normalises to want, and the returned length is want's. */
static void
check(const char *s, const char *want)
{
	assert_int_equal(norm(s), (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_ascii_unchanged(void **state)
{
	(void)state;
	check("CX 11010519491231002X", "CX 11010519491231002X");
	check("hello", "hello");
}

static void
test_case_kept(void **state)
{
	(void)state;
	check("cx 11010519491231002x", "cx 11010519491231002x");
	check("Zhang San", "Zhang San");
}

static void
test_full_width(void **state)
{
	(void)state;
	check("ＣＸ４４０５２４", "CX440524");
	check("ｃｘ１１０１０５ｘ", "cx110105x");
	/* U+FF01 and U+FF5E, the ends of the range; U+FF5F is outside. */
	check("！～", "!~");
	check("｟", "｟");
	check("？", "?");
	check("Ｓｔａｔｕｓ", "Status");
}

static void
test_unicode_spaces(void **state)
{
	(void)state;
	check("CX\xE3\x80\x80" "1", "CX 1");          /* ideographic space */
	check("CX\xC2\xA0" "1", "CX 1");              /* no-break space */
	check("CX\xE2\x80\x83" "1", "CX 1");          /* em space */
	check("CX\xE2\x80\xAF" "1", "CX 1");          /* narrow no-break */
	check("CX\xE2\x80\xA8" "1", "CX 1");          /* line separator */
	check("CX\xC2\x85" "1", "CX 1");              /* NEL */
	check("CX\t1", "CX 1");
	check("CX\r\n1", "CX 1");
	check("CX\x0B\x0C" "1", "CX 1");
}

static void
test_controls_are_spaces(void **state)
{
	static const char s[] = { 'C', 'X', '\0', '1', '\x1B', '2' };

	(void)state;
	assert_int_equal(text_normalise(s, sizeof(s), out, sizeof(out)), 6);
	assert_string_equal(out, "CX 1 2");
}

static void
test_separators(void **state)
{
	(void)state;
	check("查询，1", "查询 1");
	check("查询：1", "查询 1");
	check("查询；1", "查询 1");
	check("查询、1", "查询 1");
	check("查询－1", "查询 1");
	check("CX-1", "CX 1");
	check("CX:1", "CX 1");
	check("CX;1", "CX 1");
	check("CX,1", "CX 1");
	check("CX: 1", "CX 1");
	check("CX :- ,1", "CX 1");
}

static void
test_other_punctuation_kept(void **state)
{
	(void)state;
	check("CX 1' OR '1'='1", "CX 1' OR '1'='1");
	check("CX %s%n", "CX %s%n");
	check("查询 1。", "查询 1。");
	check("a.b/c", "a.b/c");
}

static void
test_trim_and_collapse(void **state)
{
	(void)state;
	check("   CX    1   ", "CX 1");
	check("\xE3\x80\x80\xE3\x80\x80" "CX\xE3\x80\x80\xE3\x80\x80" "1"
	    "\xE3\x80\x80", "CX 1");
	check(" \t\r\n", "");
	check("，，，", "");
	check("a , b", "a b");
}

static void
test_invisible_dropped(void **state)
{
	(void)state;
	check("\xEF\xBB\xBF" "CX 1", "CX 1");         /* byte order mark */
	check("C\xE2\x80\x8BX", "CX");                /* zero-width space */
	check("C\xE2\x80\x8D" "X", "CX");             /* zero-width joiner */
	check("C\xE2\x81\xA0" "X", "CX");             /* word joiner */
}

static void
test_non_ascii_kept(void **state)
{
	(void)state;
	check("张三", "张三");
	check("阿依古丽·买买提", "阿依古丽·买买提");
	check("José", "José");
	check("\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80");  /* U+1F600 */
	check("\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF");  /* U+10FFFF */
}

static void
test_empty(void **state)
{
	(void)state;
	assert_int_equal(text_normalise("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(text_normalise(NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void
test_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\x80",                 /* continuation without a lead */
		"CX \xBF",
		"\xC0\xAF",             /* overlong '/' */
		"\xC1\xBF",
		"\xE0\x80\xAF",         /* overlong, 3 bytes */
		"\xE0\x9F\xBF",
		"\xF0\x80\x80\xAF",     /* overlong, 4 bytes */
		"\xF0\x8F\xBF\xBF",
		"\xED\xA0\x80",         /* U+D800, a surrogate */
		"\xED\xBF\xBF",
		"\xF4\x90\x80\x80",     /* U+110000 */
		"\xF5\x80\x80\x80",
		"\xFE",
		"\xFF",
		"\xE6\x9F",             /* truncated at the end */
		"\xE6\x9F\x41",         /* truncated in the middle */
		"\xF0\x9F\x98",
		"\xC3",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(norm(bad[i]), -1);
}

static void
test_cap(void **state)
{
	const char *s = "CX 11010519491231002X";
	size_t n = strlen(s);

	(void)state;
	assert_int_equal(text_normalise(s, n, out, n + 1), (int)n);
	assert_string_equal(out, s);
	assert_int_equal(text_normalise(s, n, out, n), -1);
	assert_int_equal(text_normalise(s, n, out, 0), -1);
	assert_int_equal(text_normalise(s, n, NULL, 10), -1);
	assert_int_equal(text_normalise(NULL, 1, out, sizeof(out)), -1);
	/* A multi-byte character that does not fit whole is not cut. */
	assert_int_equal(text_normalise("a张", 4, out, 4), -1);
	assert_int_equal(text_normalise("a张", 4, out, 5), 4);
}

/* The header's promise: len + 1 bytes always suffice. */
static void
test_never_longer(void **state)
{
	static const char *const texts[] = {
		"ＣＸ　１１０１０５",
		"\xEF\xBB\xBF\xE3\x80\x80x\xE3\x80\x80",
		"a\xC2\xA0\xC2\xA0\x62",
		"张三，李四、王五",
		" a ",
		"\xF0\x9F\x98\x80 \xF0\x9F\x98\x80",
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		n = strlen(texts[i]);
		assert_in_range(text_normalise(texts[i], n, out, n + 1), 0, n);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ascii_unchanged),
		T(test_case_kept),
		T(test_full_width),
		T(test_unicode_spaces),
		T(test_controls_are_spaces),
		T(test_separators),
		T(test_other_punctuation_kept),
		T(test_trim_and_collapse),
		T(test_invisible_dropped),
		T(test_non_ascii_kept),
		T(test_empty),
		T(test_invalid_utf8),
		T(test_cap),
		T(test_never_longer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
