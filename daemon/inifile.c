/* A line-counting reader in front of libinih (see inifile.h). */
#include "daemon/inifile.h"

#define INIFILE_MAX_LINE 4096

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void
errlist_init(struct errlist *e, const char *name, char *buf, size_t len)
{
	e->name = name;
	e->buf = buf;
	e->len = len;
	e->used = 0;
	e->count = 0;
	if (buf != NULL && len > 0)
		buf[0] = '\0';
}

static void
append(struct errlist *e, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
append(struct errlist *e, const char *fmt, va_list ap)
{
	int n;

	if (e->buf == NULL || e->used + 1 >= e->len)
		return;
	n = vsnprintf(e->buf + e->used, e->len - e->used, fmt, ap);
	if (n < 0)
		return;
	e->used = (size_t)n < e->len - e->used ? e->used + (size_t)n :
	    e->len - 1;
}

static void
appendf(struct errlist *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
appendf(struct errlist *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append(e, fmt, ap);
	va_end(ap);
}

void
errlist_add(struct errlist *e, int line, const char *fmt, ...)
{
	va_list ap;

	e->count++;
	if (line > 0)
		appendf(e, "%s:%d: ", e->name, line);
	else
		appendf(e, "%s: ", e->name);
	va_start(ap, fmt);
	append(e, fmt, ap);
	va_end(ap);
	appendf(e, "\n");
}

struct state {
	FILE           *fp;
	const char     *text;
	int             line;
	inifile_fn      fn;
	void           *arg;
	struct errlist *e;
};

/* Blank, comment, [section] or key = value: what inih accepts. */
static int
well_formed(const char *s)
{
	s += strspn(s, " \t\r\n");
	if (*s == '\0' || *s == ';' || *s == '#')
		return 1;
	if (*s == '[')
		return strchr(s, ']') != NULL;
	return strpbrk(s, "=:") != NULL && *s != '=' && *s != ':';
}

static void
skip_rest(struct state *st)
{
	int ch;

	if (st->fp != NULL) {
		while ((ch = fgetc(st->fp)) != EOF && ch != '\n')
			;
	} else {
		while (*st->text != '\0' && *st->text++ != '\n')
			;
	}
}

static char *
reader(char *str, int num, void *stream)
{
	struct state *st = stream;
	size_t len;

	if (st->fp != NULL) {
		if (fgets(str, num, st->fp) == NULL)
			return NULL;
	} else {
		const char *nl;

		if (*st->text == '\0')
			return NULL;
		nl = strchr(st->text, '\n');
		len = nl ? (size_t)(nl - st->text) + 1 : strlen(st->text);
		if (len >= (size_t)num)
			len = (size_t)num - 1;
		memcpy(str, st->text, len);
		str[len] = '\0';
		st->text += len;
	}
	st->line++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n') {
		errlist_add(st->e, st->line, "line longer than %d characters",
		    num - 3);
		skip_rest(st);
		str[0] = '\0';
	} else if (!well_formed(str)) {
		errlist_add(st->e, st->line, "syntax error (expected [section] "
		    "or key = value)");
		str[0] = '\0';   /* reported here; inih need not see it */
	}
	return str;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct state *st = user;

	return st->fn(st->arg, st->line, section, name, value);
}

int
inifile_parse(const char *path, const char *text, inifile_fn fn, void *arg,
    struct errlist *e)
{
	struct state st = { NULL, text, 0, fn, arg, e };

	if (text == NULL && (st.fp = fopen(path, "r")) == NULL) {
		errlist_add(e, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	/* Values are literal: a '#' or ';' in a password stays in it. */
	ini_allow_inline_comments = false;
	ini_allow_multiline = false;
	/* Templates run to a few hundred bytes: a heap line buffer. */
	ini_use_stack = false;
	ini_max_line = INIFILE_MAX_LINE;
	ini_initial_alloc = INIFILE_MAX_LINE;
	/* Syntax and semantics are reported as they are read, so inih's
	 * "first bad line" result adds nothing beyond allocation failure. */
	if (ini_parse_stream(reader, &st, handler, &st) < 0)
		errlist_add(e, 0, "out of memory while parsing");
	if (st.fp != NULL)
		fclose(st.fp);
	return 0;
}
