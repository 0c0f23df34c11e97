/*
 * The CSV reader: a byte-at-a-time state machine over a large read buffer,
 * accumulating one record's fields in a growing buffer.
 */
#include "daemon/csv.h"

#include <stdlib.h>
#include <string.h>

#define CSV_BUFSIZE 65536
#define CSV_EOF     (-1)

struct csv_reader {
	FILE          *f;
	unsigned char  buf[CSV_BUFSIZE];
	size_t         pos, end;
	long long      base;         /* offset of buf[0] in the input */
	int            started;      /* first fill done (BOM checked) */
	int            ioerr;
	unsigned long  line;         /* current line, 1-based */

	char          *data;         /* this record's fields, NUL-separated */
	size_t         dlen, dcap;
	size_t        *start;        /* field offsets into data */
	size_t        *len;
	char         **ptr;
	size_t         nf, fcap;
};

enum csv_state { ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE };

struct csv_reader *
csv_new(FILE *f)
{
	struct csv_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->f = f;
	r->line = 1;
	return r;
}

void
csv_free(struct csv_reader *r)
{
	if (r == NULL)
		return;
	free(r->data);
	free(r->start);
	free(r->len);
	free(r->ptr);
	free(r);
}

long long
csv_offset(const struct csv_reader *r)
{
	return r->base + (long long)r->pos;
}

static int
fill(struct csv_reader *r)
{
	r->base += (long long)r->end;
	r->pos = 0;
	r->end = fread(r->buf, 1, sizeof(r->buf), r->f);
	if (r->end == 0 && ferror(r->f))
		r->ioerr = 1;
	if (!r->started) {
		r->started = 1;
		if (r->end >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
			r->pos = 3;
	}
	return r->pos < r->end;
}

static inline int
next_byte(struct csv_reader *r)
{
	if (r->pos == r->end && !fill(r))
		return CSV_EOF;
	return r->buf[r->pos++];
}

static inline int
peek_byte(struct csv_reader *r)
{
	if (r->pos == r->end && !fill(r))
		return CSV_EOF;
	return r->buf[r->pos];
}

/* A line end is LF, CRLF or a lone CR; consumes the LF of a CRLF. */
static int
line_end(struct csv_reader *r, int c)
{
	if (c == '\r' && peek_byte(r) == '\n')
		r->pos++;
	return c == '\r' || c == '\n';
}

/* Appends a byte; -1 when out of memory. */
static int
append(struct csv_reader *r, int c)
{
	char *p;
	size_t n;

	if (r->dlen + 1 >= r->dcap) {
		n = r->dcap ? r->dcap * 2 : 256;
		if ((p = realloc(r->data, n)) == NULL)
			return -1;
		r->data = p;
		r->dcap = n;
	}
	r->data[r->dlen++] = (char)c;
	return 0;
}

/* A byte of field data: bounded by CSV_MAX_RECORD. */
static int
put(struct csv_reader *r, int c, const char **why)
{
	if (r->dlen >= CSV_MAX_RECORD) {
		*why = "record too long";
		return -1;
	}
	if (append(r, c) == -1) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

static int
begin_field(struct csv_reader *r, const char **why)
{
	size_t n = r->fcap ? r->fcap * 2 : 16, *start, *len;
	char **ptr;

	/* Each field takes at least its NUL in data: this bounds them too. */
	if (r->dlen >= CSV_MAX_RECORD) {
		*why = "record too long";
		return -1;
	}
	*why = "out of memory";
	if (r->nf == r->fcap) {
		if ((start = realloc(r->start, n * sizeof(*start))) == NULL)
			return -1;
		r->start = start;
		if ((len = realloc(r->len, n * sizeof(*len))) == NULL)
			return -1;
		r->len = len;
		if ((ptr = realloc(r->ptr, n * sizeof(*ptr))) == NULL)
			return -1;
		r->ptr = ptr;
		r->fcap = n;
	}
	r->start[r->nf++] = r->dlen;
	return 0;
}

static int
end_field(struct csv_reader *r, const char **why)
{
	r->len[r->nf - 1] = r->dlen - r->start[r->nf - 1];
	*why = "out of memory";
	return append(r, '\0');
}

/* After a malformed record: drop the rest of its line. */
static void
skip_line(struct csv_reader *r)
{
	int c;

	while ((c = next_byte(r)) != CSV_EOF)
		if (line_end(r, c)) {
			r->line++;
			return;
		}
}

int
csv_read(struct csv_reader *r, struct csv_record *rec, char *err,
    size_t errlen)
{
	enum csv_state s = ST_FIELD;
	const char *why = NULL;
	int c;

	r->dlen = 0;
	r->nf = 0;
	rec->nfields = 0;
	rec->line = r->line;
	for (;;) {
		c = next_byte(r);
		if (c == CSV_EOF && r->ioerr) {
			why = "read error";
			goto bad;
		}
		if (c == '\0') {
			why = "NUL byte";
			goto bad;
		}
		switch (s) {
		case ST_FIELD:
			if (c == CSV_EOF && r->nf == 0)
				return 0;
			if (r->nf == 0 && line_end(r, c)) {
				rec->line = ++r->line;   /* a blank line */
				continue;
			}
			if (begin_field(r, &why) == -1)
				goto bad;
			if (c == '"') {
				s = ST_QUOTED;
				continue;
			}
			s = ST_UNQUOTED;
			/* FALLTHROUGH */
		case ST_UNQUOTED:
			if (c == '"') {
				why = "quote inside an unquoted field";
				goto bad;
			}
			break;
		case ST_QUOTED:
			if (c == CSV_EOF) {
				why = "unterminated quoted field";
				goto bad;
			}
			if (c == '"')
				s = ST_QUOTE;
			else if (put(r, c, &why) == -1)
				goto bad;
			else if (c == '\n' || (c == '\r' &&
			    peek_byte(r) != '\n'))
				r->line++;
			continue;
		case ST_QUOTE:
			if (c == '"') {
				s = ST_QUOTED;        /* a doubled quote */
				if (put(r, c, &why) == -1)
					goto bad;
				continue;
			}
			if (c != ',' && c != '\r' && c != '\n' &&
			    c != CSV_EOF) {
				why = "text after a closing quote";
				goto bad;
			}
			break;
		}
		/* Unquoted text, or what follows a closing quote. */
		if (c == ',' || c == CSV_EOF || line_end(r, c)) {
			if (end_field(r, &why) == -1)
				goto bad;
			if (c == ',') {
				s = ST_FIELD;
				continue;
			}
			if (c != CSV_EOF)
				r->line++;
			break;
		}
		if (put(r, c, &why) == -1)
			goto bad;
	}
	for (size_t i = 0; i < r->nf; i++)
		r->ptr[i] = r->data + r->start[i];
	rec->nfields = r->nf;
	rec->field = r->ptr;
	rec->len = r->len;
	return 1;
bad:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why);
	/* Go on at the next line; c may be what ends this one. */
	if (s != ST_QUOTED && line_end(r, c))
		r->line++;
	else if (c != CSV_EOF)
		skip_line(r);
	return -1;
}
