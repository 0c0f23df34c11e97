/*
 * The rules for a case's fields, one place for both ways a case comes in:
 * smsgwctl import-cases (CSV) and the HTTP API (JSON). Each rule checks a
 * value and writes it into struct case_rec, or says why not, without ever
 * echoing a whole ID number.
 */
#ifndef DAEMON_CASEFIELDS_H
#define DAEMON_CASEFIELDS_H

#include <stddef.h>

#include "daemon/store.h"

#define MSISDN_MIN 7                 /* digits of a national number */

enum case_field {
	CF_RECEIPT, CF_ID, CF_NAME, CF_MSISDN, CF_STATUS, CF_SUBMITTED,
	CF_COURIER, CF_TRACKING, CF_PICKUP, CF_APPOINTMENT, CF_REASON,
	CF_COUNT
};

struct casefield {
	const char *name;                /* the CSV column and JSON member */
	size_t      off, size;           /* in struct case_rec; status: 0 0 */
};

extern const struct casefield casefields[CF_COUNT];

/* The field called name (exact, or ignoring case with nocase), or -1. */
int casefield_find(const char *name, int nocase);

/*
 * Checks v (len bytes, NUL-terminated, already trimmed) as field f and
 * writes it into *c. The rules: receipt_no 1-32 letters and digits, kept
 * upper-case; id_number a valid GB 11643 number born by today (YYYYMMDD);
 * name non-empty; msisdn a phone number of at least 7 digits, stored in
 * national form (country code cc stripped); status one of the eight names;
 * submitted_at a real YYYY-MM-DD from 1900; every text field valid UTF-8,
 * without control characters, fitting its column. Returns 0, or -1 with
 * the reason in why.
 */
int casefield_set(struct case_rec *c, enum case_field f, const char *v,
    size_t len, const char *cc, long today, char *why, size_t cap);

#endif
