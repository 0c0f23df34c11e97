/*
 * import-cases: a CSV file of cases, upserted by receipt number in one
 * transaction. Every row is validated; if any is bad, each bad row is
 * reported as "FILE:N: why" and the transaction is rolled back, so a file
 * is imported whole or not at all. Fields are trimmed of spaces and tabs;
 * receipt numbers are upper-cased (citizens' texts are); ID numbers are
 * stored canonical and phone numbers in national form. Optional columns the
 * file lacks keep the values already stored. With --notify every row goes
 * through daemon/notify, so a status change queues its one notification in
 * the same transaction; without, cases change silently.
 */
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "daemon/casefields.h"
#include "daemon/csv.h"
#include "daemon/notify.h"
#include "daemon/privacy.h"
#include "daemon/templates.h"
#include "parsers/idcard.h"
#include "proto/charset.h"
#include "tools/ctl/ctl.h"

#define WHY_MAX        512
#define PROGRESS_NS    100000000L    /* redraw at most 10 times a second */
#define PROGRESS_EVERY 1024          /* rows between clock reads */
#define IMPORT_CACHE_KB "262144"     /* page cache: 256 MiB at most */
#define IMPORT_TRIM_BYTES (64 * 1024 * 1024)

/* The columns a file may have (daemon/casefields: names, rules and where
 * each goes in struct case_rec); the first six are required. */
#define C_NCOLS        CF_COUNT
#define C_FIRST_OPTIONAL CF_COURIER

struct import {
	struct ctl      *ctl;
	struct store    *st;
	const char      *file;
	long             today;
	int              field[C_NCOLS];   /* index in each record, or -1 */
	int              col[C_NCOLS];     /* column of each field */
	size_t           nfields;          /* fields in the header */
	int              bad_header;
	int              partial;          /* optional columns missing */
	unsigned long    rows, bad;

	const struct tmpl_set *tmpl;       /* set: notify (--notify) */
	unsigned long    queued, opted_out;

	int              tty;
	long long        size;
	struct timespec  drawn;
};

/* ---- rows --------------------------------------------------------------- */

static void
trim(char **v, size_t *len)
{
	char *s = *v;
	size_t n = *len;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	*v = s;
	*len = n;
}

static void
progress(struct import *im, long long done, int final)
{
	struct timespec now;
	long long ns;

	if (!im->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (now.tv_sec - im->drawn.tv_sec) * 1000000000LL +
	    (now.tv_nsec - im->drawn.tv_nsec);
	if (!final && ns < PROGRESS_NS)
		return;
	im->drawn = now;
	if (im->size > 0)
		fprintf(stderr, "\r%s: %3lld%% %lu rows", im->file,
		    done * 100 / im->size, im->rows);
	else
		fprintf(stderr, "\r%s: %lu rows", im->file, im->rows);
	fputs(final ? "\n" : "\033[K", stderr);
}

static void report(struct import *, unsigned long, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
report(struct import *im, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	if (im->tty)
		fputs("\r\033[K", stderr);     /* over the progress line */
	fprintf(stderr, "%s:%lu: ", im->file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	im->bad++;
}

/* Maps header names to columns; every problem is reported on line 1. */
static int
header(struct import *im, struct csv_record *rec)
{
	unsigned long bad = im->bad;
	size_t i, len;
	char *v;
	int c;

	for (c = 0; c < C_NCOLS; c++)
		im->field[c] = -1;
	im->nfields = rec->nfields;
	for (i = 0; i < rec->nfields; i++) {
		v = rec->field[i];
		len = rec->len[i];
		trim(&v, &len);
		if ((c = casefield_find(v, 1)) == -1)
			report(im, rec->line, "unknown column '%.40s'", v);
		else if (im->field[c] != -1)
			report(im, rec->line, "column '%s' appears twice",
			    casefields[c].name);
		else {
			/* i < C_NCOLS unless an earlier field was bad. */
			im->field[c] = (int)i;
			if (i < C_NCOLS)
				im->col[i] = c;
		}
	}
	for (c = 0; c < C_NCOLS; c++) {
		if (im->field[c] == -1 && c < C_FIRST_OPTIONAL)
			report(im, rec->line, "missing column '%s'",
			    casefields[c].name);
		if (im->field[c] == -1)
			im->partial = 1;
	}
	im->bad_header = im->bad != bad;
	return im->bad_header ? -1 : 0;
}

/*
 * Validates one record into *c. Columns the file does not have keep the
 * case's current values, so a file without "courier" never erases one.
 */
static int
row(struct import *im, struct csv_record *rec, struct case_rec *c)
{
	char why[WHY_MAX], one[256], *v;
	size_t wn = 0, len;
	struct case_rec old;
	int ok = 1;

	if (rec->nfields != im->nfields) {
		report(im, rec->line, "%zu fields, the header has %zu",
		    rec->nfields, im->nfields);
		return -1;
	}
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < rec->nfields; i++) {
		int k = im->col[i];

		v = rec->field[i];
		len = rec->len[i];
		trim(&v, &len);
		if (casefield_set(c, (enum case_field)k, v, len,
		    im->ctl->conf.locale.country_code, im->today, one,
		    sizeof(one)) == -1) {
			wn += (size_t)snprintf(why + wn, sizeof(why) - wn,
			    "%s%s", ok ? "" : "; ", one);
			if (wn >= sizeof(why))
				wn = sizeof(why) - 1;
			ok = 0;
		}
	}
	if (!ok) {
		report(im, rec->line, "%s", why);
		return -1;
	}
	if (im->partial && im->bad == 0 &&
	    store_case_by_receipt(im->st, c->receipt_no, &old) == 1)
		for (int k = C_FIRST_OPTIONAL; k < C_NCOLS; k++)
			if (im->field[k] == -1)
				memcpy((char *)c + casefields[k].off,
				    (char *)&old + casefields[k].off,
				    casefields[k].size);
	return 0;
}

static long long
count_cases(struct store *st)
{
	sqlite3_stmt *s;
	long long n = -1;

	if (sqlite3_prepare_v2(store_db(st), "SELECT count(*) FROM cases", -1,
	    &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* Upserts one case; with --notify, queues what its change calls for. */
static int
save(struct import *im, const struct case_rec *c, char *err, size_t errlen)
{
	if (im->tmpl == NULL)
		return store_case_upsert(im->st, c, err, errlen);
	switch (notify_case_update(im->st, im->tmpl, c,
	    im->ctl->conf.locale.country_code, 1, NULL, err, errlen)) {
	case NOTIFY_QUEUED:
		im->queued++;
		return 0;
	case NOTIFY_OPTED_OUT:
		im->opted_out++;
		return 0;
	case NOTIFY_NONE:
		return 0;
	case NOTIFY_ERROR:
		break;
	}
	return -1;
}

/* Reads every record; writes while no row has been bad. 0 or -1. */
static int
import_file(struct import *im, struct csv_reader *r)
{
	struct csv_record rec;
	struct case_rec c;
	char err[512];
	int rc;

	if ((rc = csv_read(r, &rec, err, sizeof(err))) != 1) {
		report(im, rec.line, "%s", rc == 0 ?
		    "empty file: expected a header" : err);
		im->bad_header = 1;
		return -1;
	}
	if (header(im, &rec) == -1)
		return -1;
	while ((rc = csv_read(r, &rec, err, sizeof(err))) != 0) {
		if (rc == -1) {
			report(im, rec.line, "%s", err);
			continue;
		}
		im->rows++;
		if (row(im, &rec, &c) == 0 && im->bad == 0 &&
		    save(im, &c, err, sizeof(err)) == -1)
			report(im, rec.line, "%s", err);
		if (im->rows % PROGRESS_EVERY == 0)
			progress(im, csv_offset(r), 0);
	}
	progress(im, csv_offset(r), 1);
	return im->bad == 0 ? 0 : -1;
}

int
ctl_import_cases(struct ctl *ctl, int argc, char **argv)
{
	struct import im;
	struct csv_reader *r = NULL;
	struct tmpl_set *tmpl = NULL;
	struct stat sb;
	long long before, after;
	char err[8192], *pos[1];
	FILE *f;
	int rc = 1, notify = 0, json = 0;
	const struct ctl_opt opts[] = {
		{ "--notify", NULL, &notify }, { "--json", NULL, &json },
		{ NULL, NULL, NULL },
	};

	if (ctl_args(argc, argv, opts, pos, 1) != 1)
		return 2;
	memset(&im, 0, sizeof(im));
	im.ctl = ctl;
	im.file = pos[0];
	if (notify) {
		if ((tmpl = tmpl_load(ctl->conf.templates.path, err,
		    sizeof(err))) == NULL) {
			fputs(err, stderr);
			return 1;
		}
		im.tmpl = tmpl;
	}
	im.today = ctl_today();
	if ((f = fopen(im.file, "rb")) == NULL) {
		ctl_err("%s: %s", im.file, strerror(errno));
		tmpl_free(tmpl);
		return 1;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode))
		im.size = (long long)sb.st_size;
	im.tty = isatty(STDERR_FILENO);
	if ((r = csv_new(f)) == NULL) {
		ctl_err("out of memory");
		goto out;
	}
	if ((im.st = ctl_store(ctl)) == NULL)
		goto out;
	/*
	 * A big page cache keeps the indexes in memory instead of spilling
	 * half-built pages to the WAL and reading them back. Each upsert that
	 * updates opens a statement savepoint whose ~90 KB buffer then sits
	 * on top of the heap: glibc would give it back to the kernel and take
	 * it again per row (2-3x the run time in page faults) unless told not
	 * to trim.
	 */
#ifdef M_TRIM_THRESHOLD
	mallopt(M_TRIM_THRESHOLD, IMPORT_TRIM_BYTES);
#endif
	sqlite3_exec(store_db(im.st), "PRAGMA cache_size = -" IMPORT_CACHE_KB,
	    NULL, NULL, NULL);
	if (store_begin(im.st, err, sizeof(err)) == -1) {
		ctl_err("%s", err);
		goto out;
	}
	if ((before = count_cases(im.st)) == -1 ||
	    import_file(&im, r) == -1 ||
	    (after = count_cases(im.st)) == -1) {
		store_rollback(im.st);
		if (im.bad_header)
			ctl_err("%s: bad header; nothing imported", im.file);
		else if (im.bad > 0)
			ctl_err("%s: %lu bad row%s; nothing imported", im.file,
			    im.bad, im.bad == 1 ? "" : "s");
		else
			ctl_err("%s", sqlite3_errmsg(store_db(im.st)));
		goto out;
	}
	if (store_commit(im.st, err, sizeof(err)) == -1) {
		store_rollback(im.st);
		ctl_err("%s; nothing imported", err);
		goto out;
	}
	if (json)
		rc = ctl_print(json_pack("{s:o, s:I, s:I, s:I, s:o, s:o}",
		    "file", ctl_jstr(im.file), "rows", (json_int_t)im.rows,
		    "new", (json_int_t)(after - before),
		    "updated", (json_int_t)((long long)im.rows -
		    (after - before)),
		    "notifications", notify ? json_integer((json_int_t)
		    im.queued) : json_null(),
		    "opted_out", notify ? json_integer((json_int_t)
		    im.opted_out) : json_null()), 1, NULL);
	else {
		printf("imported %lu cases (%lld new, %lld updated)", im.rows,
		    after - before, (long long)im.rows - (after - before));
		if (notify)
			printf("; %lu notification%s queued, %lu opted out",
			    im.queued, im.queued == 1 ? "" : "s",
			    im.opted_out);
		printf("\n");
		rc = 0;
	}
out:
	csv_free(r);
	fclose(f);
	tmpl_free(tmpl);
	return rc;
}
