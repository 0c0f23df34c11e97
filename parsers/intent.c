/*
 * A citizen's text -> an intent: the operator's patterns file compiled with
 * PCRE2 (JIT where the platform has it) and tried in file order against the
 * normalised text, under match, depth and heap limits.
 */
#include "parsers/intent.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsers/idcard.h"
#include "parsers/normalise.h"

/*
 * Work bounds per pattern and text. Anchored keyword patterns need a few
 * dozen steps on a 500-character text; a nested quantifier on hostile input
 * needs millions, and gets "no match" instead.
 */
#define MATCH_LIMIT     10000
#define DEPTH_LIMIT     1000
#define HEAP_LIMIT_KIB  2048

#define COMPILE_OPTS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | \
    PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C)

#define BUF_SLACK    64   /* zeroed bytes after the normalised text */

#define RECEIPT_MIN  6
#define RECEIPT_MAX  24

static const char *const intent_names[INTENT_COUNT] = {
	[INTENT_UNKNOWN] = "unknown",
	[INTENT_QUERY] = "query",
	[INTENT_REPORT_LOSS] = "report_loss",
	[INTENT_FOUND] = "found",
	[INTENT_HELP] = "help",
	[INTENT_STOP] = "stop",
	[INTENT_START] = "start",
};

static const char *const lang_names[LANG_COUNT] = {
	[LANG_ZH] = "zh",
	[LANG_EN] = "en",
};

/* The only named groups a pattern may have: the fields of intent_match. */
static const char *const group_names[] = { "id", "receipt", "name" };
#define NGROUPS (sizeof(group_names) / sizeof(group_names[0]))

struct pattern {
	pcre2_code   *code;
	int           jit;           /* JIT-compiled: pcre2_jit_match */
	enum intent   intent;
	enum lang     lang;
	int           line;
};

/*
 * What intent_match reuses between calls: the match data (sized for the
 * pattern with the most groups) and the buffer for the normalised text.
 * intent_match takes a const set yet writes here, so one set must never be
 * used by two threads at once. The daemon is single-threaded.
 */
struct scratch {
	pcre2_match_data *md;
	char             *buf;
	size_t            cap;
};

struct intent_set {
	struct pattern      *pats;
	size_t               n;
	pcre2_match_context *mctx;
	struct scratch      *scr;
};

/* Error lines "file:line: message\n" appended to the caller's buffer. */
struct errlist {
	const char *file;
	char       *buf;
	size_t      len;
	size_t      used;
	int         count;
};

static void errlist_add(struct errlist *e, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errlist_add(struct errlist *e, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	e->count++;
	if (e->buf == NULL || e->used + 1 >= e->len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		n = snprintf(e->buf + e->used, e->len - e->used, "%s:%d: %s\n",
		    e->file, line, msg);
	else
		n = snprintf(e->buf + e->used, e->len - e->used, "%s: %s\n",
		    e->file, msg);
	if (n < 0)
		return;
	e->used = (size_t)n < e->len - e->used ? e->used + (size_t)n :
	    e->len - 1;
}

const char *
intent_name(enum intent i)
{
	if ((int)i < 0 || i >= INTENT_COUNT)
		return "?";
	return intent_names[i];
}

int
intent_from_name(const char *name)
{
	int i;

	for (i = 0; i < INTENT_COUNT; i++)
		if (strcmp(name, intent_names[i]) == 0)
			return i;
	return -1;
}

const char *
lang_name(enum lang l)
{
	if ((int)l < 0 || l >= LANG_COUNT)
		return "?";
	return lang_names[l];
}

int
lang_from_name(const char *name)
{
	int i;

	for (i = 0; i < LANG_COUNT; i++)
		if (strcmp(name, lang_names[i]) == 0)
			return i;
	return -1;
}

void
intent_free(struct intent_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		pcre2_code_free(s->pats[i].code);
	free(s->pats);
	pcre2_match_context_free(s->mctx);
	if (s->scr != NULL) {
		pcre2_match_data_free(s->scr->md);
		free(s->scr->buf);
		free(s->scr);
	}
	free(s);
}

size_t
intent_count(const struct intent_set *s)
{
	return s != NULL ? s->n : 0;
}

/* Every named group of code is one of group_names; reports the others. */
static int
check_groups(const pcre2_code *code, struct errlist *e, int line)
{
	uint32_t count, size, i;
	PCRE2_SPTR table;
	const char *name;
	size_t k;
	int ok = 1;

	pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
	for (i = 0; i < count; i++) {
		/* An entry: the group number in two bytes, then the name. */
		name = (const char *)(table + (size_t)i * size + 2);
		for (k = 0; k < NGROUPS; k++)
			if (strcmp(name, group_names[k]) == 0)
				break;
		if (k == NGROUPS) {
			errlist_add(e, line, "unknown group name '%s' (id, "
			    "receipt or name)", name);
			ok = 0;
		}
	}
	return ok;
}

static char *
skip_space(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Cuts the next blank-separated word off *p. */
static char *
next_word(char **p)
{
	char *w = skip_space(*p), *end = w;

	while (*end != '\0' && *end != ' ' && *end != '\t')
		end++;
	if (*end != '\0')
		*end++ = '\0';
	*p = end;
	return w;
}

/* Adds the pattern on line `line` to s, which has room for it. Errors go to
 * e, and the caller checks e's count at the end: every line is reported. */
static void
parse_line(struct intent_set *s, char *text, int line, struct errlist *e,
    uint32_t *max_groups)
{
	char *p = text, *w_intent, *w_lang, *re, *end;
	int intent, lang, errcode, jit;
	PCRE2_SIZE erroff;
	PCRE2_UCHAR msg[256];
	pcre2_code *code;
	uint32_t groups;
	struct pattern *pat;
	int ok = 1;

	end = text + strlen(text);
	while (end > text && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	p = skip_space(p);
	if (*p == '\0' || *p == '#')
		return;
	w_intent = next_word(&p);
	w_lang = next_word(&p);
	re = skip_space(p);
	if (*w_lang == '\0' || *re == '\0') {
		errlist_add(e, line, "expected INTENT LANG REGEX");
		return;
	}
	if ((intent = intent_from_name(w_intent)) == -1) {
		errlist_add(e, line, "unknown intent '%s'", w_intent);
		ok = 0;
	}
	if ((lang = lang_from_name(w_lang)) == -1) {
		errlist_add(e, line, "unknown language '%s' (zh or en)",
		    w_lang);
		ok = 0;
	}
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	    COMPILE_OPTS, &errcode, &erroff, NULL);
	if (code == NULL) {
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		errlist_add(e, line, "bad regex at offset %zu: %s",
		    (size_t)erroff, (const char *)msg);
		return;
	}
	if (!check_groups(code, e, line) || !ok) {
		pcre2_code_free(code);
		return;
	}
	/* Without JIT support the interpreter runs the same pattern. */
	jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
	if (groups > *max_groups)
		*max_groups = groups;
	pat = &s->pats[s->n++];
	pat->code = code;
	pat->jit = jit;
	pat->intent = (enum intent)intent;
	pat->lang = (enum lang)lang;
	pat->line = line;
}

static int
read_file(struct intent_set *s, FILE *fp, struct errlist *e,
    uint32_t *max_groups)
{
	char *text = NULL;
	size_t tcap = 0, pcap = 0;
	ssize_t got;
	struct pattern *np;
	int line = 0;

	while ((got = getline(&text, &tcap, fp)) != -1) {
		line++;
		if (strlen(text) != (size_t)got) {
			errlist_add(e, line, "NUL byte in line");
			continue;
		}
		if (s->n == pcap) {
			pcap = pcap ? pcap * 2 : 32;
			if ((np = realloc(s->pats, pcap * sizeof(*np))) ==
			    NULL) {
				errlist_add(e, line, "out of memory");
				break;
			}
			s->pats = np;
		}
		parse_line(s, text, line, e, max_groups);
	}
	if (ferror(fp))
		errlist_add(e, 0, "read error: %s", strerror(errno));
	free(text);
	return e->count == 0 ? 0 : -1;
}

struct intent_set *
intent_load(const char *path, char *errs, size_t errlen)
{
	struct errlist e = { path, errs, errlen, 0, 0 };
	struct intent_set *s;
	uint32_t max_groups = 0;
	FILE *fp;

	if (errs != NULL && errlen > 0)
		errs[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL) {
		errlist_add(&e, 0, "%s", strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->scr = calloc(1, sizeof(*s->scr))) == NULL) {
		errlist_add(&e, 0, "out of memory");
		goto fail;
	}
	if (read_file(s, fp, &e, &max_groups) == -1)
		goto fail;
	if (s->n == 0) {
		errlist_add(&e, 0, "no patterns");
		goto fail;
	}
	if ((s->mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (s->scr->md = pcre2_match_data_create(max_groups + 1, NULL)) ==
	    NULL) {
		errlist_add(&e, 0, "out of memory");
		goto fail;
	}
	pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(s->mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(s->mctx, HEAP_LIMIT_KIB);
	fclose(fp);
	return s;
fail:
	fclose(fp);
	intent_free(s);
	return NULL;
}

/* Local date as YYYYMMDD: the latest birth date an ID number may carry.
 * Every zone's midnight falls on a whole minute, so one localtime_r a
 * minute does (not one per text). */
static long
today_yyyymmdd(void)
{
	static time_t minute = -1;
	static long today;
	time_t now = time(NULL);
	struct tm tm;

	if (now / 60 == minute)
		return today;
	if (localtime_r(&now, &tm) == NULL)
		return 0;
	minute = now / 60;
	today = (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
	return today;
}

/* Copies at most cap - 1 bytes of p[0..n) to out, cut back to a code-point
 * boundary (p is valid UTF-8). */
static void
copy_utf8(char *out, size_t cap, const char *p, size_t n)
{
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * An ID number as typed: spaces dropped (people type it in groups), letters
 * upper-cased (x as X), cut to the field. id_state says whether idcard_check
 * accepts it and id_error why not; a valid one is stored in its canonical
 * form.
 */
static void
take_id(struct intent_match *out, const char *p, size_t n, long today)
{
	char tok[sizeof(out->id) + 4] = { 0 }, canon[19];
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < sizeof(tok); i++)
		if (p[i] != ' ')
			tok[k++] = p[i] >= 'a' && p[i] <= 'z' ?
			    (char)(p[i] - 'a' + 'A') : p[i];
	copy_utf8(out->id, sizeof(out->id), tok, k);
	out->id_error = k < sizeof(out->id) ?
	    idcard_check(out->id, canon, today) : IDCARD_BAD_LENGTH;
	if (out->id_error == IDCARD_OK) {
		memcpy(out->id, canon, sizeof(canon));
		out->id_state = ID_VALID;
	} else
		out->id_state = ID_INVALID;
}

/* A receipt number: 6-24 ASCII letters and digits, upper-cased; anything
 * else leaves the field empty. */
static void
take_receipt(struct intent_match *out, const char *p, size_t n)
{
	size_t i;

	if (n < RECEIPT_MIN || n > RECEIPT_MAX)
		return;
	for (i = 0; i < n; i++)
		if (!is_alnum(p[i]))
			return;
	for (i = 0; i < n; i++)
		out->receipt[i] = p[i] >= 'a' && p[i] <= 'z' ?
		    (char)(p[i] - 'a' + 'A') : p[i];
	out->receipt[n] = '\0';
}

/* The first set group called name in the last match: its span in subj. */
static int
group_span(const pcre2_code *code, pcre2_match_data *md, int rc,
    const char *name, const char *subj, const char **p, size_t *n)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	PCRE2_SPTR first, last, e;
	uint32_t g;
	int size;

	size = pcre2_substring_nametable_scan(code, (PCRE2_SPTR)name, &first,
	    &last);
	if (size <= 0)
		return 0;
	for (e = first; e <= last; e += size) {
		g = (uint32_t)e[0] << 8 | e[1];
		if (g < (uint32_t)rc && ov[2 * g] != PCRE2_UNSET) {
			*p = subj + ov[2 * g];
			*n = ov[2 * g + 1] - ov[2 * g];
			return 1;
		}
	}
	return 0;
}

/*
 * The fields of a match. A token in the id group is an ID number whatever
 * it looks like (so a garbled one is reported invalid); one in the receipt
 * group is an ID number if it has an ID's shape (idcard_shaped: 15-19
 * digits, the last may be X, so a mistyped ID number gets the invalid-ID
 * reply, not the privacy reply of an unknown receipt), else a receipt number
 * if it has a receipt's, else nothing.
 */
static void
take_fields(const struct pattern *pat, pcre2_match_data *md, int rc,
    const char *subj, struct intent_match *out)
{
	const char *p;
	size_t n;
	long today = today_yyyymmdd();

	if (group_span(pat->code, md, rc, "id", subj, &p, &n))
		take_id(out, p, n, today);
	if (group_span(pat->code, md, rc, "receipt", subj, &p, &n)) {
		if (idcard_shaped(p, n)) {
			if (out->id_state == ID_ABSENT)
				take_id(out, p, n, today);
		} else
			take_receipt(out, p, n);
	}
	if (group_span(pat->code, md, rc, "name", subj, &p, &n))
		copy_utf8(out->name, sizeof(out->name), p, n);
}

/* Code points in utf8[0..len): bytes that do not continue a sequence. */
static size_t
count_chars(const char *utf8, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += ((unsigned char)utf8[i] & 0xC0) != 0x80;
	return n;
}

/*
 * max_chars 0 means no limit. A text that is too long is not normalised or
 * matched at all, so its size bounds nothing but this count.
 */
void
intent_match(const struct intent_set *s, const char *utf8, size_t len,
    size_t max_chars, struct intent_match *out)
{
	struct scratch *scr;
	const struct pattern *pat;
	size_t i, ncap;
	char *nb;
	int n, rc;

	memset(out, 0, sizeof(*out));
	out->intent = INTENT_UNKNOWN;
	out->lang = LANG_ZH;
	out->id_state = ID_ABSENT;
	if (s == NULL || (utf8 == NULL && len > 0))
		return;
	if (max_chars > 0 && count_chars(utf8, len) > max_chars) {
		out->too_long = 1;
		return;
	}
	scr = s->scr;
	if (scr->cap < len + 1) {
		/* Zeroed slack after the text: JIT code may load the subject
		 * 16 bytes at a time, past its end (never across a page),
		 * and memory checkers should see defined bytes there. */
		if (len > SIZE_MAX / 2)
			return;
		ncap = (len + 1 + BUF_SLACK + 63) & ~(size_t)63;
		if ((nb = realloc(scr->buf, ncap)) == NULL)
			return;
		memset(nb + scr->cap, 0, ncap - scr->cap);
		scr->buf = nb;
		scr->cap = ncap;
	}
	if ((n = text_normalise(utf8, len, scr->buf, scr->cap)) < 0)
		return;
	for (i = 0; i < s->n; i++) {
		pat = &s->pats[i];
		/* The normaliser only writes valid UTF-8: skip PCRE2's check,
		 * which costs more than the match. A JIT-compiled pattern goes
		 * straight to its code (pcre2jit(3): the fast path, without
		 * pcre2_match's argument checks; ours are the same each call). */
		if (pat->jit)
			rc = pcre2_jit_match(pat->code, (PCRE2_SPTR)scr->buf,
			    (size_t)n, 0, PCRE2_NO_UTF_CHECK, scr->md, s->mctx);
		else
			rc = pcre2_match(pat->code, (PCRE2_SPTR)scr->buf,
			    (size_t)n, 0, PCRE2_NO_UTF_CHECK, scr->md, s->mctx);
		if (rc < 0)
			continue;   /* no match, or a limit hit: the next one */
		out->intent = pat->intent;
		out->lang = pat->lang;
		out->line = pat->line;
		take_fields(pat, scr->md, rc, scr->buf, out);
		return;
	}
}
