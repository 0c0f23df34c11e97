/*
 * A streaming RFC 4180 CSV reader: quoted fields with doubled quotes,
 * commas and line breaks inside; CRLF, LF or CR line ends; a UTF-8 byte
 * order mark at the start is skipped; blank lines are skipped. Fields are
 * bytes: validating them (UTF-8, lengths) is the caller's business.
 */
#ifndef DAEMON_CSV_H
#define DAEMON_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_RECORD (1024 * 1024)   /* bytes of field data per record */

struct csv_reader;

struct csv_record {
	size_t         nfields;
	char         **field;     /* NUL-terminated, valid until next read */
	const size_t  *len;       /* field lengths */
	unsigned long  line;      /* line (1-based) where the record starts */
};

/* Reads from f, which the caller keeps and closes. NULL if out of memory. */
struct csv_reader *csv_new(FILE *f);
void csv_free(struct csv_reader *r);

/*
 * Reads the next record into *rec. Returns 1, 0 at end of file, or -1 for
 * a malformed record (a stray quote, text after a closing quote, an
 * unterminated quote, a NUL byte, a record over CSV_MAX_RECORD) or a read
 * error, with why in err and the record's line in rec->line. After a
 * malformed record the reader skips to the next line, so the caller can go
 * on and report every bad record.
 */
int csv_read(struct csv_reader *r, struct csv_record *rec, char *err,
    size_t errlen);

/* Bytes of input consumed so far (for progress). */
long long csv_offset(const struct csv_reader *r);

#endif
