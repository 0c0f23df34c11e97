/*
 * smsgwctl's output: every command builds one JSON value; --json prints it
 * as it is, otherwise it becomes aligned text columns. Also the command
 * option table parser and the masking of what operators see.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemon/privacy.h"
#include "proto/charset.h"
#include "tools/ctl/ctl.h"

#define GAP        2          /* spaces between text columns */
#define ID_DIGITS  15         /* a digit run this long may be an ID */

/* ---- command options ------------------------------------------------ */

int
ctl_args(int argc, char **argv, const struct ctl_opt *opts, char **pos,
    int maxpos)
{
	const struct ctl_opt *o;
	const char *eq;
	size_t n;
	int npos = 0, dashdash = 0;

	for (int i = 0; i < argc; i++) {
		if (dashdash || argv[i][0] != '-' || argv[i][1] == '\0') {
			if (npos == maxpos) {
				ctl_err("unexpected argument '%s'", argv[i]);
				return -1;
			}
			pos[npos++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			dashdash = 1;
			continue;
		}
		eq = strchr(argv[i], '=');
		n = eq != NULL ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		for (o = opts; o->name != NULL; o++)
			if (strlen(o->name) == n &&
			    strncmp(o->name, argv[i], n) == 0)
				break;
		if (o->name == NULL) {
			ctl_err("unknown option '%.*s'", (int)n, argv[i]);
			return -1;
		}
		if (o->flag != NULL) {
			if (eq != NULL) {
				ctl_err("%s takes no value", o->name);
				return -1;
			}
			*o->flag = 1;
		} else if (eq != NULL)
			*o->value = eq + 1;
		else if (i + 1 < argc)
			*o->value = argv[++i];
		else {
			ctl_err("%s needs a value", o->name);
			return -1;
		}
	}
	return npos;
}

/* ---- a growing string ---------------------------------------------- */

struct sbuf {
	char   *p;
	size_t  len, cap;
	int     oom;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 64 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

/* ---- text for a terminal --------------------------------------------- */

/* Columns a code point takes on a terminal: East Asian wide ones two. */
static int
cp_width(uint32_t c)
{
	if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F))
		return 0;
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
	    (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
	    (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
	    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
	    (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
	    (c >= 0x20000 && c <= 0x3FFFD))
		return 2;
	return 1;
}

static int
width(const char *s)
{
	size_t len = strlen(s);
	uint32_t c;
	int n, w = 0;

	while (len > 0) {
		if ((n = utf8_next(s, len, &c)) <= 0) {
			n = 1;
			c = '?';
		}
		w += cp_width(c);
		s += n;
		len -= (size_t)n;
	}
	return w;
}

/*
 * Appends s so that it cannot act on the terminal: control characters
 * (C0, DEL, C1), line and paragraph separators and bidi overrides are
 * written as escapes. Texts come from citizens' phones.
 */
static void
sb_safe(struct sbuf *b, const char *s)
{
	size_t len = strlen(s);
	uint32_t c;
	int n;

	while (len > 0) {
		if ((n = utf8_next(s, len, &c)) <= 0) {
			sb_add(b, "?", 1);
			n = 1;
		} else if (c == '\n')
			sb_add(b, "\\n", 2);
		else if (c == '\t')
			sb_add(b, "\\t", 2);
		else if (c == '\r')
			sb_add(b, "\\r", 2);
		else if (c < 0x20 || (c >= 0x7F && c <= 0x9F) ||
		    c == 0x2028 || c == 0x2029 ||
		    (c >= 0x202A && c <= 0x202E) ||
		    (c >= 0x2066 && c <= 0x2069))
			sb_printf(b, "\\u%04x", (unsigned)c);
		else
			sb_add(b, s, (size_t)n);
		s += n;
		len -= (size_t)n;
	}
}

/* One value as text: null "-", booleans yes/no, objects "k:v k:v". */
static void
cell(struct sbuf *b, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i, start = b->len;

	switch (json_typeof(v)) {
	case JSON_STRING:
		sb_safe(b, json_string_value(v));
		break;
	case JSON_INTEGER:
		sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		sb_printf(b, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		sb_add(b, "yes", 3);
		break;
	case JSON_FALSE:
		sb_add(b, "no", 2);
		break;
	case JSON_OBJECT:
		json_object_foreach(v, k, x) {
			if (b->len > start)
				sb_add(b, " ", 1);
			sb_safe(b, k);
			sb_add(b, ":", 1);
			cell(b, x);
		}
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, x) {
			if (i > 0)
				sb_add(b, ",", 1);
			cell(b, x);
		}
		break;
	case JSON_NULL:
		break;
	}
	if (b->len == start)
		sb_add(b, "-", 1);
}

/* An array of objects: a header of the first object's keys, upper-case,
 * then one line per object; the last column is not padded. */
static int
print_table(json_t *rows, const char *empty)
{
	size_t nrows = json_array_size(rows), ncols, r, c;
	struct sbuf *cells = NULL;
	int *w = NULL, rc = 0;
	const char *k;
	json_t *first = json_array_get(rows, 0), *v;

	if (nrows == 0 || !json_is_object(first)) {
		if (empty != NULL)
			printf("%s\n", empty);
		return 0;
	}
	ncols = json_object_size(first);
	cells = calloc((nrows + 1) * ncols, sizeof(*cells));
	w = calloc(ncols, sizeof(*w));
	if (cells == NULL || w == NULL) {
		rc = -1;
		goto out;
	}
	c = 0;
	json_object_foreach(first, k, v) {
		for (const char *p = k; *p != '\0'; p++) {
			char u = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);

			sb_add(&cells[c], &u, 1);
		}
		c++;
	}
	for (r = 0; r < nrows; r++) {
		json_t *row = json_array_get(rows, r);

		c = 0;
		json_object_foreach(first, k, v) {
			(void)v;
			cell(&cells[(r + 1) * ncols + c],
			    json_object_get(row, k));
			c++;
		}
	}
	for (r = 0; r <= nrows; r++)
		for (c = 0; c < ncols; c++) {
			if (cells[r * ncols + c].oom) {
				rc = -1;
				goto out;
			}
			if (width(cells[r * ncols + c].p) > w[c])
				w[c] = width(cells[r * ncols + c].p);
		}
	for (r = 0; r <= nrows; r++)
		for (c = 0; c < ncols; c++) {
			const char *s = cells[r * ncols + c].p;

			if (c + 1 == ncols)
				printf("%s\n", s);
			else
				printf("%s%*s", s, w[c] - width(s) + GAP, "");
		}
out:
	if (cells != NULL)
		for (r = 0; r < (nrows + 1) * ncols; r++)
			free(cells[r].p);
	free(cells);
	free(w);
	if (rc == -1)
		ctl_err("out of memory");
	return rc;
}

struct line {
	char *label, *value;
};

/* Flattens obj into label/value lines ("a.b"), leaving out empty ones. */
static int
flatten(json_t *obj, const char *prefix, struct line **lines, size_t *n,
    size_t *cap)
{
	struct sbuf label, value;
	const char *k;
	json_t *v;
	struct line *p;

	json_object_foreach(obj, k, v) {
		memset(&label, 0, sizeof(label));
		memset(&value, 0, sizeof(value));
		if (prefix != NULL) {
			sb_add(&label, prefix, strlen(prefix));
			sb_add(&label, ".", 1);
		}
		sb_safe(&label, k);
		if (json_is_object(v) && json_object_size(v) > 0) {
			if (!label.oom && flatten(v, label.p, lines, n,
			    cap) == -1)
				label.oom = 1;
			free(label.p);
			if (label.oom)
				return -1;
			continue;
		}
		if (json_is_null(v) || (json_is_string(v) &&
		    json_string_length(v) == 0)) {
			free(label.p);
			continue;
		}
		cell(&value, v);
		if (*n == *cap) {
			*cap = *cap == 0 ? 16 : *cap * 2;
			if ((p = realloc(*lines, *cap * sizeof(*p))) == NULL)
				label.oom = 1;
			else
				*lines = p;
		}
		if (label.oom || value.oom) {
			free(label.p);
			free(value.p);
			return -1;
		}
		(*lines)[*n].label = label.p;
		(*lines)[*n].value = value.p;
		(*n)++;
	}
	return 0;
}

static int
print_object(json_t *obj)
{
	struct line *lines = NULL;
	size_t n = 0, cap = 0;
	int w = 0, rc;

	rc = flatten(obj, NULL, &lines, &n, &cap);
	for (size_t i = 0; i < n; i++)
		if (width(lines[i].label) > w)
			w = width(lines[i].label);
	for (size_t i = 0; i < n && rc == 0; i++)
		printf("%s:%*s %s\n", lines[i].label,
		    w - width(lines[i].label), "", lines[i].value);
	for (size_t i = 0; i < n; i++) {
		free(lines[i].label);
		free(lines[i].value);
	}
	free(lines);
	if (rc == -1)
		ctl_err("out of memory");
	return rc;
}

int
ctl_print(json_t *doc, int json, const char *empty)
{
	int rc = 0;

	if (doc == NULL) {
		ctl_err("out of memory");
		return 1;
	}
	if (json) {
		rc = json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else if (json_is_array(doc))
		rc = print_table(doc, empty);
	else if (json_is_object(doc))
		rc = print_object(doc);
	else {
		struct sbuf b = { 0 };

		cell(&b, doc);
		printf("%s\n", b.p != NULL ? b.p : "");
		free(b.p);
	}
	json_decref(doc);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		ctl_err("writing the output failed");
		return 1;
	}
	return rc == 0 ? 0 : 1;
}

json_t *
ctl_jstr(const char *s)
{
	json_t *j;
	char *copy;
	size_t len;

	if (s == NULL)
		return json_null();
	len = strlen(s);
	if ((j = json_stringn(s, len)) != NULL || utf8_valid(s, len))
		return j;
	if ((copy = strdup(s)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; ) {
		uint32_t c;
		int n = utf8_next(copy + i, len - i, &c);

		if (n <= 0) {
			copy[i++] = '?';
			continue;
		}
		i += (size_t)n;
	}
	j = json_stringn(copy, len);
	free(copy);
	return j;
}

json_t *
ctl_jtime(int64_t t, int json)
{
	char buf[32] = "";
	time_t tt = (time_t)t;
	struct tm tm;

	if (json)
		return json_integer((json_int_t)t);
	if (localtime_r(&tt, &tm) != NULL)
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	return json_string(buf);
}

/* ---- masking ---------------------------------------------------------- */

void
ctl_msisdn(const char *msisdn, const char *cc, int reveal, char *out,
    size_t cap)
{
	char national[32];

	if (reveal) {
		snprintf(out, cap, "%s", msisdn);
		return;
	}
	if (msisdn_national(msisdn, cc, national, sizeof(national)) == -1)
		snprintf(national, sizeof(national), "%s", msisdn);
	mask_msisdn(national, out, cap);
}

static int
is_digit(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19);
}

static int
is_x(uint32_t c)
{
	return c == 'X' || c == 'x' || c == 0xFF38 || c == 0xFF58;
}

/* A character of a word (a name or a keyword), as opposed to digits,
 * spaces and punctuation in either width. */
static int
is_word(uint32_t c)
{
	if (is_digit(c) || c <= 0x20 || c == 0x7F || c == 0xA0 ||
	    c == 0x3000)
		return 0;
	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
	return !((c >= 0x3001 && c <= 0x303F) ||
	    (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
	    (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
	    (c >= 0x2000 && c <= 0x206F));
}

/* Decodes the code point at s (len bytes left) into *c; a malformed byte
 * counts as one '?' byte. Returns its length. */
static size_t
next(const char *s, size_t len, uint32_t *c)
{
	int n = utf8_next(s, len, c);

	if (n <= 0) {
		*c = '?';
		return 1;
	}
	return (size_t)n;
}

/* The run of ID-like characters at s: its length in bytes and its last
 * four characters in ASCII. Returns the number of characters. */
static size_t
digit_run(const char *s, size_t len, size_t *bytes, char last4[5])
{
	size_t i = 0, n, chars = 0;
	char tail[4] = { 0 };
	uint32_t c;
	int x = 0;

	while (i < len && !x) {
		n = next(s + i, len - i, &c);
		if (is_digit(c))
			tail[chars % 4] = (char)(c < 0x80 ? c : '0' +
			    (c - 0xFF10));
		else if (is_x(c) && chars > 0) {
			tail[chars % 4] = 'X';
			x = 1;
		} else
			break;
		chars++;
		i += n;
	}
	*bytes = i;
	for (size_t k = 0; k < 4; k++)
		last4[k] = tail[(chars + k) % 4];
	last4[4] = '\0';
	return chars;
}

/* The default loss-report keywords (DOMAIN.md): kept when a word starts
 * with one. Anything else in a loss report may be the citizen's name. */
static size_t
keyword_prefix(const char *s, size_t len)
{
	static const char *const kw[] = { "LOST", "GS", "挂失" };

	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (len >= strlen(kw[i]) &&
		    strncasecmp(s, kw[i], strlen(kw[i])) == 0)
			return strlen(kw[i]);
	return 0;
}

char *
ctl_mask_text(const char *text, int loss)
{
	struct sbuf b = { 0 };
	size_t len = strlen(text), i = 0, n, bytes, keep;
	char last4[5];
	uint32_t c;
	int words = 0;

	sb_add(&b, "", 0);
	while (i < len) {
		n = next(text + i, len - i, &c);
		if (is_digit(c)) {
			if (digit_run(text + i, len - i, &bytes, last4) >=
			    ID_DIGITS) {
				sb_add(&b, "****", 4);
				sb_add(&b, last4, 4);
			} else
				sb_add(&b, text + i, bytes);
			i += bytes;
		} else if (loss && is_word(c)) {
			for (bytes = 0; i + bytes < len; bytes += n) {
				n = next(text + i + bytes, len - i - bytes, &c);
				if (!is_word(c))
					break;
			}
			keep = words++ == 0 ? keyword_prefix(text + i,
			    bytes) : 0;
			sb_add(&b, text + i, keep);
			if (keep < bytes) {
				/* the first character and a star */
				n = next(text + i + keep, bytes - keep, &c);
				sb_add(&b, text + i + keep, n);
				sb_add(&b, "*", 1);
			}
			i += bytes;
		} else {
			sb_add(&b, text + i, n);
			i += n;
		}
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
