/* daemon/route: the routes file, its errors, and longest-prefix lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/inifile.h"
#include "daemon/route.h"
#include "testutil.h"

enum { MOBILE, UNICOM, TELECOM, BROADNET };
static const char *const links[] = { "mobile", "unicom", "telecom",
    "broadnet" };
#define NLINKS 4

static char errs[4096];
static struct errlist e;

static int
setup(void **state)
{
	(void)state;
	errlist_init(&e, "smsgwd.conf", errs, sizeof(errs));
	return 0;
}

static struct route_table *
load(const char *text)
{
	return route_load_string("r.conf", text, links, NLINKS, &e);
}

static struct route_table *
load_ok(const char *text)
{
	struct route_table *t = load(text);

	if (t == NULL)
		fail_msg("route_load_string: %s", errs);
	assert_string_equal(errs, "");
	assert_int_equal(e.count, 0);
	return t;
}

/* The one error text a bad table gives. */
static void
load_bad(const char *text, const char *want)
{
	assert_null(load(text));
	assert_string_equal(errs, want);
	/* The caller's file name is back for its own next error. */
	assert_string_equal(e.name, "smsgwd.conf");
	errlist_init(&e, "smsgwd.conf", errs, sizeof(errs));
}

/* The links of number, as "a b c" ("" for none). */
static const char *
lookup(const struct route_table *t, const char *number)
{
	static char buf[256];
	uint8_t out[ROUTE_MAX_LINKS];
	int n = route_lookup(t, number, out, ROUTE_MAX_LINKS);

	buf[0] = '\0';
	assert_in_range(n, 0, ROUTE_MAX_LINKS);
	for (int i = 0; i < n; i++) {
		assert_in_range(out[i], 0, NLINKS - 1);
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, links[out[i]]);
	}
	return buf;
}

static void
test_longest_prefix(void **state)
{
	struct route_table *t;

	(void)state;
	t = load_ok("13 unicom\n134 mobile telecom\n1349 telecom mobile\n");
	assert_int_equal(route_count(t), 3);
	assert_string_equal(lookup(t, "13412345678"), "mobile telecom");
	assert_string_equal(lookup(t, "13491234567"), "telecom mobile");
	assert_string_equal(lookup(t, "13012345678"), "unicom");
	assert_string_equal(lookup(t, "1349"), "telecom mobile");
	assert_string_equal(lookup(t, "134"), "mobile telecom");
	/* Shorter than every prefix but "13", and no default. */
	assert_string_equal(lookup(t, "1"), "");
	assert_string_equal(lookup(t, ""), "");
	assert_string_equal(lookup(t, "15012345678"), "");
	/* The walk stops at the first non-digit. */
	assert_string_equal(lookup(t, "134x9"), "mobile telecom");
	route_free(t);

	/* Order in the file does not matter. */
	t = load_ok("1349 telecom\n13 unicom\n134 mobile\n");
	assert_string_equal(lookup(t, "13499"), "telecom");
	assert_string_equal(lookup(t, "13489"), "mobile");
	assert_string_equal(lookup(t, "13999"), "unicom");
	route_free(t);
}

static void
test_default(void **state)
{
	struct route_table *t;

	(void)state;
	t = load_ok("*\tbroadnet telecom\n138 mobile\n");
	assert_int_equal(route_count(t), 2);
	assert_string_equal(lookup(t, "13800138000"), "mobile");
	assert_string_equal(lookup(t, "13900138000"), "broadnet telecom");
	assert_string_equal(lookup(t, "1"), "broadnet telecom");
	assert_string_equal(lookup(t, ""), "broadnet telecom");
	assert_string_equal(lookup(t, NULL), "broadnet telecom");
	route_free(t);
}

static void
test_no_default(void **state)
{
	struct route_table *t;
	uint8_t out[4] = { 9, 9, 9, 9 };

	(void)state;
	t = load_ok("138 mobile unicom\n");
	assert_int_equal(route_lookup(t, "13912345678", out, 4), 0);
	assert_int_equal(out[0], 9);
	route_free(t);

	t = load_ok("");
	assert_int_equal(route_count(t), 0);
	assert_int_equal(route_lookup(t, "13912345678", out, 4), 0);
	route_free(t);
}

/* max caps what is written; the first choices come first. */
static void
test_max(void **state)
{
	struct route_table *t;
	uint8_t out[4] = { 9, 9, 9, 9 };

	(void)state;
	t = load_ok("1 telecom unicom mobile broadnet\n");
	assert_int_equal(route_lookup(t, "1", out, 2), 2);
	assert_int_equal(out[0], TELECOM);
	assert_int_equal(out[1], UNICOM);
	assert_int_equal(out[2], 9);
	assert_int_equal(route_lookup(t, "1", out, 0), 0);
	assert_int_equal(route_lookup(t, "1", out, 4), 4);
	assert_int_equal(out[3], BROADNET);
	route_free(t);
}

static void
test_comments_and_blanks(void **state)
{
	struct route_table *t;

	(void)state;
	t = load_ok("# routes\n\n   \n\t# indented comment\n"
	    "130 unicom   # trailing comment\n"
	    "131 unicom#no space before it\n"
	    "  132\t \tunicom \t mobile  \n"
	    "# 133 telecom\n"
	    "*   mobile # default\n"
	    "# last line without a newline");
	assert_int_equal(route_count(t), 4);
	assert_string_equal(lookup(t, "13012345678"), "unicom");
	assert_string_equal(lookup(t, "13112345678"), "unicom");
	assert_string_equal(lookup(t, "13212345678"), "unicom mobile");
	assert_string_equal(lookup(t, "13312345678"), "mobile");
	route_free(t);
}

static void
test_crlf(void **state)
{
	struct route_table *t;

	(void)state;
	t = load_ok("\xef\xbb\xbf# written on Windows\r\n\r\n"
	    "139 mobile unicom\r\n1349 telecom # sat\r\n* unicom\r\n");
	assert_int_equal(route_count(t), 3);
	assert_string_equal(lookup(t, "13912345678"), "mobile unicom");
	assert_string_equal(lookup(t, "13491234567"), "telecom");
	assert_string_equal(lookup(t, "13312345678"), "unicom");
	route_free(t);
	/* The line numbers still count CRLF lines. */
	load_bad("# x\r\n\r\n139 mobile\r\n139 unicom\r\n",
	    "r.conf:4: duplicate prefix \"139\" (first on line 3)\n");
}

static void
test_twenty_digits(void **state)
{
	struct route_table *t;

	(void)state;
	t = load_ok("12345678901234567890 telecom\n1234567890123456789 unicom\n"
	    "* mobile\n");
	assert_string_equal(lookup(t, "12345678901234567890"), "telecom");
	assert_string_equal(lookup(t, "123456789012345678901"), "telecom");
	assert_string_equal(lookup(t, "12345678901234567891"), "unicom");
	assert_string_equal(lookup(t, "1234567890123456788"), "mobile");
	route_free(t);
	load_bad("123456789012345678901 telecom\n",
	    "r.conf:1: bad prefix \"123456789012345678901\": 1-20 digits, "
	    "or * for the default rule\n");
}

static void
test_errors(void **state)
{
	(void)state;
	load_bad("# ok\n138 mobile\n138 unicom\n",
	    "r.conf:3: duplicate prefix \"138\" (first on line 2)\n");
	load_bad("* mobile\n\n* unicom\n",
	    "r.conf:3: duplicate prefix \"*\" (first on line 1)\n");
	load_bad("138 mobile vodafone\n",
	    "r.conf:1: unknown link \"vodafone\"\n");
	/* Link names are exact: no case folding, no prefixes of a name. */
	load_bad("138 Mobile\n", "r.conf:1: unknown link \"Mobile\"\n");
	load_bad("138 mobil\n", "r.conf:1: unknown link \"mobil\"\n");
	load_bad("138 mobile unicom mobile\n",
	    "r.conf:1: link \"mobile\" named twice in one rule\n");
	load_bad("13a8 mobile\n",
	    "r.conf:1: bad prefix \"13a8\": 1-20 digits, or * for the "
	    "default rule\n");
	load_bad("+86138 mobile\n",
	    "r.conf:1: bad prefix \"+86138\": 1-20 digits, or * for the "
	    "default rule\n");
	load_bad("** mobile\n",
	    "r.conf:1: bad prefix \"**\": 1-20 digits, or * for the "
	    "default rule\n");
	load_bad("138*\tmobile\n",
	    "r.conf:1: bad prefix \"138*\": 1-20 digits, or * for the "
	    "default rule\n");
	load_bad("\n\n138\n", "r.conf:3: no link for prefix \"138\"\n");
	load_bad("*   # mobile\n", "r.conf:1: no link for prefix \"*\"\n");
	load_bad("1 mobile unicom telecom broadnet mobile unicom telecom "
	    "broadnet mobile unicom telecom broadnet mobile unicom telecom "
	    "broadnet mobile\n",
	    "r.conf:1: link \"mobile\" named twice in one rule\n"
	    "r.conf:1: link \"unicom\" named twice in one rule\n"
	    "r.conf:1: link \"telecom\" named twice in one rule\n"
	    "r.conf:1: link \"broadnet\" named twice in one rule\n"
	    "r.conf:1: link \"mobile\" named twice in one rule\n"
	    "r.conf:1: link \"unicom\" named twice in one rule\n"
	    "r.conf:1: link \"telecom\" named twice in one rule\n"
	    "r.conf:1: link \"broadnet\" named twice in one rule\n"
	    "r.conf:1: link \"mobile\" named twice in one rule\n"
	    "r.conf:1: link \"unicom\" named twice in one rule\n"
	    "r.conf:1: link \"telecom\" named twice in one rule\n"
	    "r.conf:1: link \"broadnet\" named twice in one rule\n"
	    "r.conf:1: too many links: at most 16 in one rule\n");
}

/* Too many links with distinct names: a table of 17 links. */
static void
test_too_many_links(void **state)
{
	static const char *const many[] = { "a", "b", "c", "d", "e", "f",
	    "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q" };
	struct route_table *t;

	(void)state;
	t = route_load_string("r.conf",
	    "1 a b c d e f g h i j k l m n o p\n", many, 17, &e);
	assert_non_null(t);
	assert_int_equal(route_lookup(t, "1", (uint8_t[16]){ 0 }, 16), 16);
	route_free(t);
	assert_null(route_load_string("r.conf",
	    "1 a b c d e f g h i j k l m n o p q\n", many, 17, &e));
	assert_string_equal(errs,
	    "r.conf:1: too many links: at most 16 in one rule\n");
}

static void
test_line_too_long(void **state)
{
	char text[ROUTE_MAX_LINE + 64];
	struct route_table *t;

	(void)state;
	/* Exactly the limit, padded by a comment, then the CR: fine. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "138 mobile #", 12);
	memcpy(text + ROUTE_MAX_LINE, "\r\n* unicom\n", 12);
	t = load_ok(text);
	assert_string_equal(lookup(t, "138"), "mobile");
	route_free(t);
	/* One over, on line 2: that line is reported, the rest still read. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "\n138 mobile #", 13);
	memcpy(text + 1 + ROUTE_MAX_LINE + 1, "\n139 mobile\n139 unicom\n", 24);
	load_bad(text, "r.conf:2: line too long: more than 1024 characters\n"
	    "r.conf:4: duplicate prefix \"139\" (first on line 3)\n");
}

/* Every fault is reported, not just the first. */
static void
test_all_errors_reported(void **state)
{
	(void)state;
	load_bad("x1 mobile\n138 nokia\n138 mobile\n\n139\n",
	    "r.conf:1: bad prefix \"x1\": 1-20 digits, or * for the default "
	    "rule\n"
	    "r.conf:2: unknown link \"nokia\"\n"
	    "r.conf:3: duplicate prefix \"138\" (first on line 2)\n"
	    "r.conf:5: no link for prefix \"139\"\n");
	/* The quoted token is clipped. */
	load_bad("1 mobile aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "r.conf:1: unknown link "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n");
}

/* Errors already in the list (the config file's) are kept; the table is
 * refused only for its own. */
static void
test_errlist_shared(void **state)
{
	struct route_table *t;

	(void)state;
	errlist_add(&e, 7, "earlier");
	t = load("1 mobile\n");
	assert_non_null(t);
	route_free(t);
	assert_null(load("1 x\n"));
	assert_string_equal(errs, "smsgwd.conf:7: earlier\n"
	    "r.conf:1: unknown link \"x\"\n");
	assert_int_equal(e.count, 2);
	assert_string_equal(e.name, "smsgwd.conf");
}

static void
test_file(void **state)
{
	char dir[256], path[512], want[600];
	struct route_table *t;
	FILE *f;

	(void)state;
	assert_int_equal(tu_tmpdir(dir, sizeof(dir), "test_route"), 0);
	snprintf(path, sizeof(path), "%s/routes.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("# r\n186 unicom mobile\n", f);
	fclose(f);
	t = route_load(path, links, NLINKS, &e);
	assert_non_null(t);
	assert_string_equal(lookup(t, "18612345678"), "unicom mobile");
	route_free(t);

	assert_non_null(f = fopen(path, "w"));
	fputs("186 unicom\n186 unicom\n", f);
	fclose(f);
	assert_null(route_load(path, links, NLINKS, &e));
	snprintf(want, sizeof(want),
	    "%s:2: duplicate prefix \"186\" (first on line 1)\n", path);
	assert_string_equal(errs, want);
	assert_string_equal(e.name, "smsgwd.conf");
	tu_rmdir(dir);

	errlist_init(&e, "smsgwd.conf", errs, sizeof(errs));
	assert_null(route_load(path, links, NLINKS, &e));
	snprintf(want, sizeof(want), "%s: No such file or directory\n", path);
	assert_string_equal(errs, want);
	assert_string_equal(e.name, "smsgwd.conf");
}

/* The repository root: the tests run from it unless SMSGWD_SRC says. */
static void
src_path(char *buf, size_t len, const char *rel)
{
	const char *s = getenv("SMSGWD_SRC");
	int n = snprintf(buf, len, "%s/%s", s != NULL && *s != '\0' ? s : ".",
	    rel);

	assert_true(n > 0 && (size_t)n < len);
}

/*
 * The shipped table: a number of every segment goes to its carrier first,
 * then the others (China Mobile, China Unicom, China Telecom order; China
 * Broadnet last, and first for its own numbers).
 */
static void
test_routes_cn(void **state)
{
	static const struct {
		const char *number, *want;
	} cases[] = {
#define M "mobile unicom telecom broadnet"
#define U "unicom mobile telecom broadnet"
#define T "telecom mobile unicom broadnet"
#define B "broadnet mobile unicom telecom"
		/* China Mobile */
		{ "13400000000", M }, { "13481234567", M }, { "13512345678", M },
		{ "13612345678", M }, { "13712345678", M }, { "13800138000", M },
		{ "13912345678", M }, { "14712345678", M }, { "14812345678", M },
		{ "15012345678", M }, { "15112345678", M }, { "15212345678", M },
		{ "15712345678", M }, { "15812345678", M }, { "15912345678", M },
		{ "16512345678", M }, { "17031234567", M }, { "17051234567", M },
		{ "17061234567", M }, { "17212345678", M }, { "17812345678", M },
		{ "18212345678", M }, { "18312345678", M }, { "18412345678", M },
		{ "18712345678", M }, { "18812345678", M }, { "19512345678", M },
		{ "19712345678", M }, { "19812345678", M },
		/* China Unicom */
		{ "13012345678", U }, { "13112345678", U }, { "13212345678", U },
		{ "14512345678", U }, { "14612345678", U }, { "15512345678", U },
		{ "15612345678", U }, { "16612345678", U }, { "16712345678", U },
		{ "17041234567", U }, { "17071234567", U }, { "17081234567", U },
		{ "17091234567", U }, { "17112345678", U }, { "17512345678", U },
		{ "17612345678", U }, { "18512345678", U }, { "18612345678", U },
		{ "19612345678", U },
		/* China Telecom */
		{ "13312345678", T }, { "13491234567", T }, { "14912345678", T },
		{ "15312345678", T }, { "16212345678", T }, { "17001234567", T },
		{ "17011234567", T }, { "17021234567", T }, { "17312345678", T },
		{ "17400012345", T }, { "17712345678", T }, { "18012345678", T },
		{ "18112345678", T }, { "18912345678", T }, { "19012345678", T },
		{ "19112345678", T }, { "19312345678", T }, { "19912345678", T },
		/* China Broadnet */
		{ "19212345678", B },
		/* Unallocated or not a person's phone: the default rule. */
		{ "14012345678", M }, { "15412345678", M }, { "17491234567", M },
		{ "19412345678", M }, { "10086", M }, { "", M },
#undef M
#undef U
#undef T
#undef B
	};
	char path[512];
	struct route_table *t;

	(void)state;
	src_path(path, sizeof(path), "conf/routes-cn.conf");
	t = route_load(path, links, NLINKS, &e);
	if (t == NULL)
		fail_msg("%s", errs);
	assert_int_equal(route_count(t), 67);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = lookup(t, cases[i].number);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"",
			    cases[i].number, got, cases[i].want);
	}
	route_free(t);

	/* A config without broadnet cannot load it: the link is named. */
	errlist_init(&e, "smsgwd.conf", errs, sizeof(errs));
	assert_null(route_load(path, links, 3, &e));
	assert_non_null(strstr(errs, "routes-cn.conf:"));
	assert_non_null(strstr(errs, ": unknown link \"broadnet\"\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_longest_prefix, setup),
		cmocka_unit_test_setup(test_default, setup),
		cmocka_unit_test_setup(test_no_default, setup),
		cmocka_unit_test_setup(test_max, setup),
		cmocka_unit_test_setup(test_comments_and_blanks, setup),
		cmocka_unit_test_setup(test_crlf, setup),
		cmocka_unit_test_setup(test_twenty_digits, setup),
		cmocka_unit_test_setup(test_errors, setup),
		cmocka_unit_test_setup(test_too_many_links, setup),
		cmocka_unit_test_setup(test_line_too_long, setup),
		cmocka_unit_test_setup(test_all_errors_reported, setup),
		cmocka_unit_test_setup(test_errlist_shared, setup),
		cmocka_unit_test_setup(test_file, setup),
		cmocka_unit_test_setup(test_routes_cn, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
