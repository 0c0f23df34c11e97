/* daemon/csv: RFC 4180 records, line numbers, errors and recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/csv.h"

struct fx {
	FILE              *f;
	struct csv_reader *r;
	struct csv_record  rec;
	char               err[128];
};

static struct fx *
fx_open(void **state, const char *text, size_t len)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	/* tmpfile, not fmemopen: the reader must work on a real FILE. */
	assert_non_null(fx->f = tmpfile());
	assert_int_equal(fwrite(text, 1, len, fx->f), len);
	rewind(fx->f);
	assert_non_null(fx->r = csv_new(fx->f));
	*state = fx;
	return fx;
}

#define OPEN(s) fx_open(state, (s), sizeof(s) - 1)

static int
teardown(void **state)
{
	struct fx *fx = *state;

	if (fx != NULL) {
		csv_free(fx->r);
		fclose(fx->f);
		free(fx);
	}
	return 0;
}

static int
next(struct fx *fx)
{
	fx->err[0] = '\0';
	return csv_read(fx->r, &fx->rec, fx->err, sizeof(fx->err));
}

/* The record's fields joined with '|', for compact assertions. */
static const char *
joined(struct fx *fx)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < fx->rec.nfields; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    i ? "|" : "", fx->rec.field[i]);
	return buf;
}

static void
expect(struct fx *fx, unsigned long line, const char *fields)
{
	assert_int_equal(next(fx), 1);
	assert_string_equal(joined(fx), fields);
	assert_int_equal(fx->rec.line, line);
}

static void
test_plain_lf(void **state)
{
	struct fx *fx = OPEN("a,b,c\n1,2,3\n");

	expect(fx, 1, "a|b|c");
	assert_int_equal(fx->rec.nfields, 3);
	assert_int_equal(fx->rec.len[2], 1);
	expect(fx, 2, "1|2|3");
	assert_int_equal(next(fx), 0);
	assert_int_equal(next(fx), 0);             /* EOF stays EOF */
	assert_int_equal(csv_offset(fx->r), 12);
}

static void
test_line_ends(void **state)
{
	struct fx *fx = OPEN("a,b\r\nc,d\re,f\ng,h");   /* no final newline */

	expect(fx, 1, "a|b");
	expect(fx, 2, "c|d");
	expect(fx, 3, "e|f");
	expect(fx, 4, "g|h");
	assert_int_equal(next(fx), 0);
}

static void
test_empty_fields(void **state)
{
	struct fx *fx = OPEN(",\na,,b,\n\"\"\n,,");

	expect(fx, 1, "|");
	assert_int_equal(fx->rec.nfields, 2);
	expect(fx, 2, "a||b|");
	assert_int_equal(fx->rec.nfields, 4);
	expect(fx, 3, "");                         /* one empty field */
	assert_int_equal(fx->rec.nfields, 1);
	expect(fx, 4, "||");
	assert_int_equal(next(fx), 0);
}

static void
test_quoted(void **state)
{
	struct fx *fx = OPEN("\"a,b\",\"say \"\"hi\"\"\",\"\"\"\"\n"
	    "\"two\nlines\",\"crlf\r\ninside\",x\r\n"
	    "\"\",last\n");

	expect(fx, 1, "a,b|say \"hi\"|\"");
	expect(fx, 2, "two\nlines|crlf\r\ninside|x");
	assert_int_equal(fx->rec.len[1], 12);
	expect(fx, 5, "|last");                    /* lines counted inside */
	assert_int_equal(next(fx), 0);
}

static void
test_bom_and_blank_lines(void **state)
{
	struct fx *fx = OPEN("\xEF\xBB\xBFh1,h2\n\n\r\nv1,\xEF\xBB\xBFv2\n\n");

	expect(fx, 1, "h1|h2");
	expect(fx, 4, "v1|\xEF\xBB\xBFv2");        /* only a leading BOM */
	assert_int_equal(next(fx), 0);
}

static void
test_empty_input(void **state)
{
	struct fx *fx = OPEN("");

	assert_int_equal(next(fx), 0);
}

static void
test_only_bom(void **state)
{
	struct fx *fx = OPEN("\xEF\xBB\xBF\n");

	assert_int_equal(next(fx), 0);
}

/* Each malformed record is reported with its line; reading goes on. */
static void
test_errors_and_recovery(void **state)
{
	struct fx *fx = OPEN("ok,1\n"
	    "ab\"c,2\n"                 /* 2: stray quote */
	    "\"x\"y,3\n"                /* 3: text after closing quote */
	    "ok,4\n"
	    "\"quoted\" ,5\n"           /* 5: a space after the quote */
	    "ok,6\n"
	    "\"never closed,7\nok,8\n");

	expect(fx, 1, "ok|1");
	assert_int_equal(next(fx), -1);
	assert_string_equal(fx->err, "quote inside an unquoted field");
	assert_int_equal(fx->rec.line, 2);
	assert_int_equal(next(fx), -1);
	assert_string_equal(fx->err, "text after a closing quote");
	assert_int_equal(fx->rec.line, 3);
	expect(fx, 4, "ok|4");
	assert_int_equal(next(fx), -1);
	assert_int_equal(fx->rec.line, 5);
	expect(fx, 6, "ok|6");
	assert_int_equal(next(fx), -1);
	assert_string_equal(fx->err, "unterminated quoted field");
	assert_int_equal(fx->rec.line, 7);
	assert_int_equal(next(fx), 0);
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "a,b\0c\nd,e\n";
	struct fx *fx = fx_open(state, text, sizeof(text) - 1);

	assert_int_equal(next(fx), -1);
	assert_string_equal(fx->err, "NUL byte");
	assert_int_equal(fx->rec.line, 1);
	expect(fx, 2, "d|e");
}

static void
test_record_too_long(void **state)
{
	size_t n = CSV_MAX_RECORD + 10;
	char *text = malloc(n + 16);
	struct fx *fx;

	assert_non_null(text);
	memset(text, 'x', n);
	memcpy(text + n, "\nshort,1\n", 9);
	fx = fx_open(state, text, n + 9);
	free(text);
	assert_int_equal(next(fx), -1);
	assert_string_equal(fx->err, "record too long");
	expect(fx, 2, "short|1");
}

/* Exactly at the limit is fine, and the line after it is not lost. */
static void
test_record_at_limit(void **state)
{
	size_t n = CSV_MAX_RECORD;
	char *text = malloc(n + 16);
	struct fx *fx;

	assert_non_null(text);
	memset(text, 'x', n);
	memcpy(text + n, "\nnext\n", 6);
	fx = fx_open(state, text, n + 6);
	free(text);
	assert_int_equal(next(fx), 1);
	assert_int_equal(fx->rec.len[0], CSV_MAX_RECORD);
	expect(fx, 2, "next");
}

/* Many empty fields count against the limit too. */
static void
test_too_many_fields(void **state)
{
	size_t n = CSV_MAX_RECORD + 10;
	char *text = malloc(n + 16);
	struct fx *fx;

	assert_non_null(text);
	memset(text, ',', n);
	memcpy(text + n, "\nafter\n", 7);
	fx = fx_open(state, text, n + 7);
	free(text);
	assert_int_equal(next(fx), -1);
	assert_string_equal(fx->err, "record too long");
	expect(fx, 2, "after");
}

/*
 * Many records through the 64 KiB read buffer, with a CRLF and a doubled
 * quote split across its boundaries: every record arrives intact.
 */
static void
test_across_buffers(void **state)
{
	enum { ROWS = 20000 };
	size_t cap = (size_t)ROWS * 48, n = 0;
	char *text = malloc(cap), want[64];
	struct fx *fx;

	assert_non_null(text);
	for (int i = 0; i < ROWS; i++)
		n += (size_t)snprintf(text + n, cap - n, i % 3 ?
		    "r%d,\"q\"\"%d\",%s\r\n" : "r%d,%d,%s\n", i, i,
		    i % 7 ? "x" : "\"a,b\"");
	fx = fx_open(state, text, n);
	free(text);
	for (int i = 0; i < ROWS; i++) {
		if (i % 3)
			snprintf(want, sizeof(want), "r%d|q\"%d|%s", i, i,
			    i % 7 ? "x" : "a,b");
		else
			snprintf(want, sizeof(want), "r%d|%d|%s", i, i,
			    i % 7 ? "x" : "a,b");
		expect(fx, (unsigned long)i + 1, want);
	}
	assert_int_equal(next(fx), 0);
	assert_int_equal(csv_offset(fx->r), (long long)n);
}

/* A CRLF and a doubled quote split exactly at the 64 KiB read size. */
static void
test_split_at_buffer_edge(void **state)
{
	enum { EDGE = 65536 };
	char *text = malloc(EDGE + 16);
	struct fx *fx;

	assert_non_null(text);
	memset(text, 'x', EDGE - 1);
	memcpy(text + EDGE - 1, "\r\na,b\n", 6);
	fx = fx_open(state, text, EDGE + 5);
	assert_int_equal(next(fx), 1);
	assert_int_equal(fx->rec.len[0], EDGE - 1);
	expect(fx, 2, "a|b");
	assert_int_equal(next(fx), 0);
	teardown(state);

	text[0] = '"';
	memset(text + 1, 'y', EDGE - 2);
	memcpy(text + EDGE - 1, "\"\"z\"\nc\n", 7);
	fx = fx_open(state, text, EDGE + 6);
	free(text);
	assert_int_equal(next(fx), 1);
	assert_int_equal(fx->rec.len[0], EDGE);    /* y…y"z */
	assert_memory_equal(fx->rec.field[0] + EDGE - 3, "y\"z", 4);
	expect(fx, 2, "c");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_plain_lf, teardown),
		cmocka_unit_test_teardown(test_line_ends, teardown),
		cmocka_unit_test_teardown(test_empty_fields, teardown),
		cmocka_unit_test_teardown(test_quoted, teardown),
		cmocka_unit_test_teardown(test_bom_and_blank_lines, teardown),
		cmocka_unit_test_teardown(test_empty_input, teardown),
		cmocka_unit_test_teardown(test_only_bom, teardown),
		cmocka_unit_test_teardown(test_errors_and_recovery, teardown),
		cmocka_unit_test_teardown(test_nul_byte, teardown),
		cmocka_unit_test_teardown(test_record_too_long, teardown),
		cmocka_unit_test_teardown(test_record_at_limit, teardown),
		cmocka_unit_test_teardown(test_too_many_fields, teardown),
		cmocka_unit_test_teardown(test_across_buffers, teardown),
		cmocka_unit_test_teardown(test_split_at_buffer_edge, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
