/*
 * Unit tests for parsers/intent: loading a patterns file (every error as
 * file:line), matching order, fields and their classification, truncation,
 * the length and work limits, and invalid UTF-8. Each test writes its own
 * patterns file to a temporary path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parsers/intent.h"

struct fixture {
	char                path[256];
	char                errs[4096];
	struct intent_set  *s;
	struct intent_match m;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (f == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/test_intent.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if ((fd = mkstemp(f->path)) == -1) {
		free(f);
		return -1;
	}
	close(fd);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	intent_free(f->s);
	unlink(f->path);
	free(f);
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static void
write_file(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Loads text as a patterns file, which must be good. */
static void
load(struct fixture *f, const char *text)
{
	write_file(f, text);
	f->s = intent_load(f->path, f->errs, sizeof(f->errs));
	if (f->s == NULL)
		fail_msg("%s", f->errs);
	assert_string_equal(f->errs, "");
}

/* Loads text as a patterns file, which must be bad. */
static void
load_bad(struct fixture *f, const char *text)
{
	write_file(f, text);
	f->s = intent_load(f->path, f->errs, sizeof(f->errs));
	assert_null(f->s);
}

/* errs holds the line "path:line: msg" (msg is a prefix of the rest). */
static void
has_error(struct fixture *f, int line, const char *msg)
{
	char want[512];

	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", f->path, line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", f->path, msg);
	if (strstr(f->errs, want) == NULL)
		fail_msg("no \"%s\" in:\n%s", want, f->errs);
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
match(struct fixture *f, const char *text, size_t max_chars)
{
	intent_match(f->s, text, strlen(text), max_chars, &f->m);
}

static void
test_load_ok(void **state)
{
	struct fixture *f = *state;

	load(f, "# a comment\n"
	    "\n"
	    "   # an indented comment\n"
	    "query zh ^CX\\s*(?<id>[0-9X]+)$\n"
	    "  help\ten\t^HELP   \r\n"
	    "stop en ^STOP");                 /* no final newline */
	assert_int_equal(intent_count(f->s), 3);
	match(f, "HELP", 0);
	assert_int_equal(f->m.intent, INTENT_HELP);
	assert_int_equal(f->m.line, 5);
	match(f, "STOP", 0);
	assert_int_equal(f->m.intent, INTENT_STOP);
	assert_int_equal(f->m.line, 6);
}

static void
test_load_every_error(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "# errors on every line but 1 and 8\n"
	    "query zh ^CX(?<id>[0-9]+$\n"
	    "querry zh ^CX\n"
	    "help fr ^HELP\n"
	    "help zh ^(?<phone>[0-9]+)$\n"
	    "help\n"
	    "help zh\n"
	    "stop en ^STOP\n"
	    "bogus xx ^a)\n");
	has_error(f, 2, "bad regex at offset 16: missing closing parenthesis");
	has_error(f, 3, "unknown intent 'querry'");
	has_error(f, 4, "unknown language 'fr' (zh or en)");
	has_error(f, 5, "unknown group name 'phone' (id, receipt or name)");
	has_error(f, 6, "expected INTENT LANG REGEX");
	has_error(f, 7, "expected INTENT LANG REGEX");
	has_error(f, 9, "unknown intent 'bogus'");
	has_error(f, 9, "unknown language 'xx'");
	has_error(f, 9, "bad regex at offset 2: ");
	assert_int_equal(count_lines(f->errs), 9);
}

static void
test_load_bad_regex_where(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "help zh ^HELP\n"
	    "help zh ^BZ(?<name>\\p{Nope})$\n");
	has_error(f, 2, "bad regex at offset 19: unknown property after \\P or \\p");
	assert_int_equal(count_lines(f->errs), 1);
}

static void
test_load_every_bad_group(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "query zh ^(?<ID>[0-9]+) (?<receipt>\\w+) (?<x>.)$\n");
	has_error(f, 1, "unknown group name 'ID'");
	has_error(f, 1, "unknown group name 'x'");
	assert_int_equal(count_lines(f->errs), 2);
}

static void
test_load_missing_file(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	assert_null(intent_load(f->path, f->errs, sizeof(f->errs)));
	has_error(f, 0, "No such file or directory");
}

static void
test_load_no_patterns(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "# nothing but comments\n\n   \n");
	has_error(f, 0, "no patterns");
}

static void
test_load_small_err_buffer(void **state)
{
	struct fixture *f = *state;
	char small[12];

	write_file(f, "x zh ^a\ny zh ^b\n");
	memset(small, 'Z', sizeof(small));
	assert_null(intent_load(f->path, small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_null(intent_load(f->path, NULL, 0));
}

static void
test_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < INTENT_COUNT; i++)
		assert_int_equal(intent_from_name(intent_name(
		    (enum intent)i)), i);
	for (i = 0; i < LANG_COUNT; i++)
		assert_int_equal(lang_from_name(lang_name((enum lang)i)), i);
	assert_string_equal(intent_name(INTENT_REPORT_LOSS), "report_loss");
	assert_string_equal(lang_name(LANG_EN), "en");
	assert_int_equal(intent_from_name("QUERY"), -1);
	assert_int_equal(intent_from_name(""), -1);
	assert_int_equal(lang_from_name("fr"), -1);
}

static void
test_first_match_wins(void **state)
{
	struct fixture *f = *state;

	load(f, "unknown zh ^CX SPAM\n"
	    "query zh ^CX\n"
	    "help en ^CX\n");
	match(f, "CX 1", 0);
	assert_int_equal(f->m.intent, INTENT_QUERY);
	assert_int_equal(f->m.lang, LANG_ZH);
	assert_int_equal(f->m.line, 2);
	match(f, "cx spam", 0);
	assert_int_equal(f->m.intent, INTENT_UNKNOWN);
	assert_int_equal(f->m.line, 1);
	match(f, "nothing", 0);
	assert_int_equal(f->m.intent, INTENT_UNKNOWN);
	assert_int_equal(f->m.line, 0);
}

static void
test_normalised_before_matching(void **state)
{
	struct fixture *f = *state;

	load(f, "query en ^STATUS (?<id>\\S+)$\n");
	match(f, "\xE3\x80\x80ＳＴＡＴＵＳ：\xE3\x80\x80１１０１０５１９４９"
	    "１２３１００２ｘ\xE3\x80\x80", 0);
	assert_int_equal(f->m.intent, INTENT_QUERY);
	assert_int_equal(f->m.lang, LANG_EN);
	assert_int_equal(f->m.id_state, ID_VALID);
	assert_string_equal(f->m.id, "11010519491231002X");
}

static void
test_id_group(void **state)
{
	struct fixture *f = *state;

	load(f, "found zh ^F (?<id>.+)$\n");
	match(f, "F 11010519491231002x", 0);
	assert_int_equal(f->m.id_state, ID_VALID);
	assert_string_equal(f->m.id, "11010519491231002X");
	/* Spaces inside are dropped: people type the number in groups. */
	match(f, "F 110105 19491231 002x", 0);
	assert_int_equal(f->m.id_state, ID_VALID);
	assert_string_equal(f->m.id, "11010519491231002X");
	/* Whatever else the group holds is an invalid ID number. */
	match(f, "F 110105194912310021", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	assert_int_equal(f->m.id_error, IDCARD_BAD_CHECKSUM);
	assert_string_equal(f->m.id, "110105194912310021");
	match(f, "F 110105491231002", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	assert_int_equal(f->m.id_error, IDCARD_BAD_LENGTH);
	match(f, "F 110105209912311232", 0);      /* born in 2099 */
	assert_int_equal(f->m.id_state, ID_INVALID);
	assert_int_equal(f->m.id_error, IDCARD_BAD_DATE);
	match(f, "F 11010519491231002A", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	assert_int_equal(f->m.id_error, IDCARD_BAD_CHARS);
	match(f, "F jx2026000123", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	assert_int_equal(f->m.id_error, IDCARD_BAD_LENGTH);
	assert_string_equal(f->m.id, "JX2026000123");
	assert_string_equal(f->m.receipt, "");
	/* The reason does not outlive its text. */
	match(f, "F 11010519491231002x", 0);
	assert_int_equal(f->m.id_state, ID_VALID);
	assert_int_equal(f->m.id_error, IDCARD_OK);
}

static void
test_id_group_cut(void **state)
{
	struct fixture *f = *state;

	load(f, "found zh ^F (?<id>.+)$\n");
	/* 40 digits: cut to the field, and invalid even if the first 18
	 * would be a valid number. */
	match(f, "F 11010519491231002X1234567890123456789012", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	assert_int_equal(strlen(f->m.id), sizeof(f->m.id) - 1);
	/* Ten Han characters are 30 bytes: cut after the 7th (21 bytes). */
	match(f, "F 张三张三张三张三张三", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	assert_string_equal(f->m.id, "张三张三张三张");
}

static void
test_receipt_group(void **state)
{
	struct fixture *f = *state;

	load(f, "query zh ^Q (?<receipt>\\S+)$\n");
	match(f, "Q jx2026000123", 0);
	assert_int_equal(f->m.id_state, ID_ABSENT);
	assert_string_equal(f->m.receipt, "JX2026000123");
	match(f, "Q 123456", 0);
	assert_string_equal(f->m.receipt, "123456");
	match(f, "Q 123456789012345678901234", 0);
	assert_string_equal(f->m.receipt, "123456789012345678901234");
	/* An ID number's shape makes it an ID number. */
	match(f, "Q 11010519491231002x", 0);
	assert_int_equal(f->m.id_state, ID_VALID);
	assert_string_equal(f->m.id, "11010519491231002X");
	assert_string_equal(f->m.receipt, "");
	match(f, "Q 110105194912310021", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	match(f, "Q 110105491231002", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	/* So does a digit too few or too many (15-19 digits, the last
	 * perhaps X): the reply says the length is wrong, not that no such
	 * case exists. */
	match(f, "Q 11010519491231002", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	assert_int_equal(f->m.id_error, IDCARD_BAD_LENGTH);
	assert_string_equal(f->m.id, "11010519491231002");
	assert_string_equal(f->m.receipt, "");
	match(f, "Q 1101051949123100", 0);
	assert_int_equal(f->m.id_error, IDCARD_BAD_LENGTH);
	match(f, "Q 1101051949123100212", 0);
	assert_int_equal(f->m.id_error, IDCARD_BAD_LENGTH);
	match(f, "Q 110105194912310021x", 0);
	assert_int_equal(f->m.id_state, ID_INVALID);
	assert_string_equal(f->m.id, "110105194912310021X");
	match(f, "Q 44052418800101001X", 0);
	assert_int_equal(f->m.id_error, IDCARD_BAD_CHECKSUM);
	/* 14 and 20 digits, or an X inside, keep a receipt's shape. */
	match(f, "Q 11010519491231", 0);
	assert_int_equal(f->m.id_state, ID_ABSENT);
	assert_string_equal(f->m.receipt, "11010519491231");
	match(f, "Q 11010519491231002123", 0);
	assert_int_equal(f->m.id_state, ID_ABSENT);
	assert_string_equal(f->m.receipt, "11010519491231002123");
	match(f, "Q 11010519491231002XX", 0);
	assert_int_equal(f->m.id_state, ID_ABSENT);
	assert_string_equal(f->m.receipt, "11010519491231002XX");
	/* Neither: the field stays empty, the intent stands. */
	match(f, "Q 12345", 0);
	assert_int_equal(f->m.intent, INTENT_QUERY);
	assert_int_equal(f->m.id_state, ID_ABSENT);
	assert_string_equal(f->m.receipt, "");
	match(f, "Q 1234567890123456789012345", 0);
	assert_string_equal(f->m.receipt, "");
	match(f, "Q JX2026'00", 0);
	assert_string_equal(f->m.receipt, "");
	match(f, "Q 张三张三张三", 0);
	assert_string_equal(f->m.receipt, "");
}

static void
test_name_group(void **state)
{
	struct fixture *f = *state;
	char text[128];
	int i;

	load(f, "report_loss zh ^N (?<name>.+)$\n");
	match(f, "N 阿依古丽·买买提", 0);
	assert_string_equal(f->m.name, "阿依古丽·买买提");
	match(f, "N Zhang San", 0);
	assert_string_equal(f->m.name, "Zhang San");

	/* 40 two-byte letters: the name is cut at a character boundary. */
	strcpy(text, "N ");
	for (i = 0; i < 40; i++)
		strcat(text, "é");
	match(f, text, 0);
	assert_int_equal(strlen(f->m.name), 62);
	/* One byte more in front: 63 bytes fit exactly. */
	strcpy(text, "N a");
	for (i = 0; i < 40; i++)
		strcat(text, "é");
	match(f, text, 0);
	assert_int_equal(strlen(f->m.name), 63);
	assert_int_equal((unsigned char)f->m.name[62], 0xA9);
}

static void
test_unset_groups(void **state)
{
	struct fixture *f = *state;

	/* A group in the branch that did not match is absent. */
	load(f, "query zh ^Q (?:(?<id>[0-9]{17}[0-9X])|(?<receipt>\\w+))$\n");
	match(f, "Q JX2026000123", 0);
	assert_int_equal(f->m.id_state, ID_ABSENT);
	assert_string_equal(f->m.receipt, "JX2026000123");
	match(f, "Q 11010519491231002X", 0);
	assert_int_equal(f->m.id_state, ID_VALID);
	assert_string_equal(f->m.receipt, "");
}

static void
test_duplicate_names(void **state)
{
	struct fixture *f = *state;

	load(f, "report_loss zh (?J)^G (?:(?<id>[0-9X]+) (?<name>\\p{Han}+)|"
	    "(?<name>\\p{Han}+) (?<id>[0-9X]+))$\n");
	match(f, "G 11010519491231002X 张三", 0);
	assert_string_equal(f->m.id, "11010519491231002X");
	assert_string_equal(f->m.name, "张三");
	match(f, "G 李四 440524188001010014", 0);
	assert_string_equal(f->m.id, "440524188001010014");
	assert_string_equal(f->m.name, "李四");
}

static void
test_match_data_fits_every_pattern(void **state)
{
	struct fixture *f = *state;

	/* The shared match data must hold the pattern with most groups,
	 * whichever line it is on. */
	load(f, "help zh ^H(a)?$\n"
	    "query zh ^(1)(2)(3)(4)(5)(6)(7)(8)(9)(0)(1)(2) (?<id>\\S+)$\n");
	match(f, "123456789012 440524188001010014", 0);
	assert_int_equal(f->m.intent, INTENT_QUERY);
	assert_int_equal(f->m.id_state, ID_VALID);
	assert_string_equal(f->m.id, "440524188001010014");
}

static void
test_too_long(void **state)
{
	struct fixture *f = *state;

	load(f, "query zh ^(?:CX|查询)\n");
	match(f, "CX 123", 5);
	assert_int_equal(f->m.too_long, 1);
	assert_int_equal(f->m.intent, INTENT_UNKNOWN);
	assert_int_equal(f->m.line, 0);
	/* Code points, not bytes: five Han characters are 15 bytes. */
	match(f, "查询查询查", 5);
	assert_int_equal(f->m.too_long, 0);
	assert_int_equal(f->m.intent, INTENT_QUERY);
	match(f, "查询查询查询", 5);
	assert_int_equal(f->m.too_long, 1);
	/* Spaces count: the text is what the citizen sent. */
	match(f, "CX      ", 5);
	assert_int_equal(f->m.too_long, 1);
	/* 0: no limit. */
	match(f, "CX 12345678901234567890", 0);
	assert_int_equal(f->m.too_long, 0);
	assert_int_equal(f->m.intent, INTENT_QUERY);
}

static void
test_invalid_utf8(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"CX \xFF", "CX \xC0\xAF", "CX \xED\xA0\x80", "CX \xE6\x9F",
		"\x80\x43\x58", "CX \xF4\x90\x80\x80",
	};
	size_t i;

	load(f, "query zh ^CX\n");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		match(f, bad[i], 500);
		assert_int_equal(f->m.intent, INTENT_UNKNOWN);
		assert_int_equal(f->m.too_long, 0);
		assert_int_equal(f->m.line, 0);
	}
	match(f, "CX", 500);
	assert_int_equal(f->m.intent, INTENT_QUERY);
}

/*
 * CPU seconds this process used since *t0 (CLOCK_PROCESS_CPUTIME_ID): the
 * work a match did, which a busy machine does not inflate as it does wall
 * time. 2^40 backtracking steps would take hours either way.
 */
static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
test_limits(void **state)
{
	struct fixture *f = *state;
	struct timespec t0;
	char text[64];

	/* Without a match limit, ^(a+)+$ against a^40 b tries 2^40 ways. */
	load(f, "help en ^(a+)+$\n"
	    "query zh ^a+b$\n");
	memset(text, 'a', 40);
	text[40] = 'b';
	text[41] = '\0';
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	match(f, text, 500);
	/* The limit counts as no match; the next pattern still runs. */
	assert_int_equal(f->m.intent, INTENT_QUERY);
	assert_int_equal(f->m.line, 2);
	text[40] = 'c';
	match(f, text, 500);
	assert_int_equal(f->m.intent, INTENT_UNKNOWN);
	assert_true(seconds_since(&t0) < 2.0);
	/* The pattern works on what it can decide within the limit. */
	match(f, "aaaa", 500);
	assert_int_equal(f->m.intent, INTENT_HELP);
}

static void
test_limits_nested_unbounded(void **state)
{
	struct fixture *f = *state;
	struct timespec t0;
	char text[501];

	/* A long text of the worst kind for a careless pattern. */
	load(f, "help en ^(\\w+\\s?)*$\n");
	memset(text, 'a', 499);
	text[499] = '!';
	text[500] = '\0';
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	match(f, text, 500);
	assert_int_equal(f->m.intent, INTENT_UNKNOWN);
	assert_true(seconds_since(&t0) < 2.0);
}

static void
test_null_set(void **state)
{
	struct intent_match m;

	(void)state;
	intent_match(NULL, "CX", 2, 500, &m);
	assert_int_equal(m.intent, INTENT_UNKNOWN);
	assert_int_equal(m.id_state, ID_ABSENT);
	assert_int_equal(intent_count(NULL), 0);
	intent_free(NULL);
}

static void
test_empty_text(void **state)
{
	struct fixture *f = *state;

	load(f, "help zh ^$\n");
	match(f, "", 500);
	assert_int_equal(f->m.intent, INTENT_HELP);
	match(f, " \xE3\x80\x80 ", 500);
	assert_int_equal(f->m.intent, INTENT_HELP);
	intent_match(f->s, NULL, 0, 500, &f->m);
	assert_int_equal(f->m.intent, INTENT_HELP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_load_ok),
		T(test_load_every_error),
		T(test_load_bad_regex_where),
		T(test_load_every_bad_group),
		T(test_load_missing_file),
		T(test_load_no_patterns),
		T(test_load_small_err_buffer),
		cmocka_unit_test(test_names),
		T(test_first_match_wins),
		T(test_normalised_before_matching),
		T(test_id_group),
		T(test_id_group_cut),
		T(test_receipt_group),
		T(test_name_group),
		T(test_unset_groups),
		T(test_duplicate_names),
		T(test_match_data_fits_every_pattern),
		T(test_too_long),
		T(test_invalid_utf8),
		T(test_limits),
		T(test_limits_nested_unbounded),
		T(test_null_set),
		T(test_empty_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
