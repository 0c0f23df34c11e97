/*
 * Golden test of the text parser: every text of tests/golden/texts.txt,
 * classified with the shipped conf/patterns.conf, must give the line of
 * tests/golden/expected.txt with the same number (format: tests/golden/README).
 * On a difference the whole output goes to build/golden.actual for diff -u.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parsers/intent.h"
#include "proto/charset.h"

#define MAX_CHARS 500   /* the shipped [limits] max_text_chars */
#define SHOWN     72    /* bytes of a text shown in a diagnostic */

struct lines {
	char   **v;
	size_t   n;
};

/* The repository root: the tests run from it unless SMSGWD_SRC says. */
static const char *
src_dir(void)
{
	const char *s = getenv("SMSGWD_SRC");

	return s != NULL && *s != '\0' ? s : ".";
}

static void
src_path(char *buf, size_t len, const char *rel)
{
	int n = snprintf(buf, len, "%s/%s", src_dir(), rel);

	assert_true(n > 0 && (size_t)n < len);
}

/* Every line of path without its newline. */
static void
read_lines(const char *path, struct lines *l)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;

	if (fp == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	l->v = NULL;
	l->n = 0;
	while ((got = getline(&line, &cap, fp)) != -1) {
		if (got > 0 && line[got - 1] == '\n')
			line[--got] = '\0';
		l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		assert_non_null(l->v);
		l->v[l->n] = malloc((size_t)got + 1);
		assert_non_null(l->v[l->n]);
		memcpy(l->v[l->n], line, (size_t)got + 1);
		l->n++;
	}
	free(line);
	fclose(fp);
}

static void
free_lines(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int
hex(const char *s, int n, unsigned long *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			*v = *v * 16 + (unsigned long)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			*v = *v * 16 + (unsigned long)(s[i] - 'a' + 10);
		else if (s[i] >= 'A' && s[i] <= 'F')
			*v = *v * 16 + (unsigned long)(s[i] - 'A' + 10);
		else
			return -1;
	}
	return 0;
}


/*
 * A line of texts.txt as the bytes of the text: \\ \t \n \r, \uXXXX and
 * \UXXXXXXXX (a code point, written as UTF-8) and \xHH (one raw byte, for
 * invalid UTF-8). out holds at least strlen(s) bytes. Returns the length,
 * or -1 on an unknown escape.
 */
static long
unescape(const char *s, char *out)
{
	size_t o = 0;
	unsigned long v;
	int digits, n;

	while (*s != '\0') {
		if (*s != '\\') {
			out[o++] = *s++;
			continue;
		}
		switch (s[1]) {
		case '\\':
			out[o++] = '\\';
			s += 2;
			continue;
		case 't':
			out[o++] = '\t';
			s += 2;
			continue;
		case 'n':
			out[o++] = '\n';
			s += 2;
			continue;
		case 'r':
			out[o++] = '\r';
			s += 2;
			continue;
		case 'x':
			digits = 2;
			break;
		case 'u':
			digits = 4;
			break;
		case 'U':
			digits = 8;
			break;
		default:
			return -1;
		}
		if (strnlen(s + 2, (size_t)digits) < (size_t)digits ||
		    hex(s + 2, digits, &v) == -1 || v > 0x10FFFF)
			return -1;
		if (s[1] == 'x')
			out[o++] = (char)v;
		else if ((n = utf8_put((uint32_t)v, out + o, 4)) < 0)
			return -1;          /* a surrogate: write it with \\x */
		else
			o += (size_t)n;
		s += 2 + digits;
	}
	return (long)o;
}

/* A field of an expected line: "-" when empty, tab, newline and backslash
 * escaped so that the line stays one line of tab-separated columns. */
static void
put_field(FILE *fp, const char *s)
{
	if (*s == '\0') {
		fputc('-', fp);
		return;
	}
	for (; *s != '\0'; s++) {
		if (*s == '\t')
			fputs("\\t", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if (*s == '\\')
			fputs("\\\\", fp);
		else
			fputc(*s, fp);
	}
}

/* "valid", "invalid:WHY" (what the reply will say is wrong), or "-". */
static const char *
id_state_name(const struct intent_match *m)
{
	switch (m->id_state) {
	case ID_VALID:
		return "valid";
	case ID_INVALID:
		break;
	default:
		return "-";
	}
	switch (m->id_error) {
	case IDCARD_BAD_LENGTH:
		return "invalid:length";
	case IDCARD_BAD_CHARS:
		return "invalid:chars";
	case IDCARD_BAD_DATE:
		return "invalid:date";
	case IDCARD_BAD_CHECKSUM:
		return "invalid:check";
	default:
		return "invalid:?";
	}
}

/* intent lang id_state id receipt name too_long, tab-separated, in buf. */
static void
format(const struct intent_match *m, char *buf, size_t len)
{
	FILE *fp = fmemopen(buf, len, "w");

	assert_non_null(fp);
	fprintf(fp, "%s\t%s\t%s\t", intent_name(m->intent), lang_name(m->lang),
	    id_state_name(m));
	put_field(fp, m->id);
	fputc('\t', fp);
	put_field(fp, m->receipt);
	fputc('\t', fp);
	put_field(fp, m->name);
	fprintf(fp, "\t%d", m->too_long);
	assert_int_equal(fclose(fp), 0);
}

/* How much of a text a diagnostic shows: at most SHOWN bytes, cut at a
 * character boundary. */
static int
shown(const char *s)
{
	size_t n = strlen(s);

	if (n <= SHOWN)
		return (int)n;
	n = SHOWN;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

static void
write_actual(char (*got)[512], size_t n)
{
	char path[4096];
	FILE *fp;
	size_t i;

	src_path(path, sizeof(path), "build");
	(void)mkdir(path, 0777);
	src_path(path, sizeof(path), "build/golden.actual");
	if ((fp = fopen(path, "w")) == NULL) {
		fprintf(stderr, "# %s: %s\n", path, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++)
		fprintf(fp, "%s\n", got[i]);
	fclose(fp);
	fprintf(stderr, "# diff -u tests/golden/expected.txt "
	    "build/golden.actual\n");
}

static struct intent_set *
load_shipped(void)
{
	char path[4096], errs[4096];
	struct intent_set *s;

	src_path(path, sizeof(path), "conf/patterns.conf");
	if ((s = intent_load(path, errs, sizeof(errs))) == NULL)
		fail_msg("%s", errs);
	return s;
}

static void
test_shipped_patterns_load(void **state)
{
	struct intent_set *s;

	(void)state;
	s = load_shipped();
	assert_true(intent_count(s) > 0);
	intent_free(s);
}

static void
test_golden(void **state)
{
	struct intent_set *s;
	struct intent_match m;
	struct lines texts, expected;
	char path[4096], (*got)[512], *text;
	size_t i, n;
	long len;
	int bad = 0;

	(void)state;
	s = load_shipped();
	src_path(path, sizeof(path), "tests/golden/texts.txt");
	read_lines(path, &texts);
	src_path(path, sizeof(path), "tests/golden/expected.txt");
	read_lines(path, &expected);
	assert_true(texts.n >= 100);
	got = calloc(texts.n, sizeof(*got));
	assert_non_null(got);

	for (i = 0; i < texts.n; i++) {
		text = malloc(strlen(texts.v[i]) + 1);
		assert_non_null(text);
		if ((len = unescape(texts.v[i], text)) < 0)
			fail_msg("texts.txt:%zu: bad escape", i + 1);
		intent_match(s, text, (size_t)len, MAX_CHARS, &m);
		free(text);
		format(&m, got[i], sizeof(got[i]));
		if (i >= expected.n || strcmp(got[i], expected.v[i]) != 0) {
			bad++;
			fprintf(stderr, "# line %zu: %.*s%s\n#   expected: %s\n"
			    "#   got:      %s\n", i + 1, shown(texts.v[i]),
			    texts.v[i], strlen(texts.v[i]) > SHOWN ? "…" : "",
			    i < expected.n ? expected.v[i] : "(none)", got[i]);
		}
	}
	if (expected.n != texts.n) {
		fprintf(stderr, "# %zu texts but %zu expected lines\n",
		    texts.n, expected.n);
		bad++;
	}
	if (bad > 0)
		write_actual(got, texts.n);
	n = texts.n;

	free(got);
	free_lines(&texts);
	free_lines(&expected);
	intent_free(s);
	if (bad > 0)
		fail_msg("%d of %zu texts differ from tests/golden/expected.txt",
		    bad, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_patterns_load),
		cmocka_unit_test(test_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
