/*
 * What personal data looks like when it leaves the store: in replies, logs
 * and operator output. ID numbers show their last four characters, names
 * the surname and a star, phone numbers their first three and last four
 * digits. Phone numbers are compared in national form.
 */
#ifndef DAEMON_PRIVACY_H
#define DAEMON_PRIVACY_H

#include <stddef.h>

/* "张*" / "Z*": the first character (code point) and one star. */
void mask_name(const char *utf8, char *out, size_t cap);
/* "138****8000"; short numbers are all stars. */
void mask_msisdn(const char *msisdn, char *out, size_t cap);

/*
 * National form of a phone number: strips "+", then the country code
 * written as "00CC" or "CC" (e.g. +86, 0086, 86 for cc "86") when what
 * remains is a plausible national number. Writes at most cap-1 bytes;
 * returns 0, or -1 when the input is not a phone number.
 */
int msisdn_national(const char *in, const char *cc, char *out, size_t cap);

/*
 * A text fit for a log line: every run of 15 or more digits (an ID number,
 * with a trailing X) shows only its last four ("****002X"), each occurrence
 * of name (if not NULL or empty) its surname, and quotes, backslashes and
 * control characters become '?', so a key="value" line stays one line.
 */
void mask_text(const char *text, const char *name, char *out, size_t cap);

/* 1 if a and b are the same number once both are in national form. */
int msisdn_same(const char *a, const char *b, const char *cc);

#endif
