/*
 * Resident identity numbers (GB 11643-1999): 6-digit region, 8-digit birth
 * date, 3-digit sequence, check character from weights 7 9 10 5 8 4 2 1 6 3
 * 7 9 10 5 8 4 2 mod 11 into "10X98765432". Lower-case x means X.
 */
#ifndef PARSERS_IDCARD_H
#define PARSERS_IDCARD_H

#include <stddef.h>

enum idcard_result {
	IDCARD_OK = 0,
	IDCARD_BAD_LENGTH,     /* not 18 characters (15-digit ones included) */
	IDCARD_BAD_CHARS,      /* not 17 digits + digit/X */
	IDCARD_BAD_DATE,       /* birth date not a real date, or in the future */
	IDCARD_BAD_CHECKSUM,
};

/*
 * Checks s; when IDCARD_OK writes the canonical form (upper-case X) to
 * out[19]. today_yyyymmdd bounds the birth date (0 = no bound).
 */
enum idcard_result idcard_check(const char *s, char out[19],
    long today_yyyymmdd);

/*
 * 1 if s[0..n) has the shape of an ID number, right or mistyped: 15 to 19
 * characters, all digits except the last, which may be X or x. Such a token
 * is an ID number (the first-generation 15-digit form included, which is no
 * longer valid), never a receipt number.
 */
int idcard_shaped(const char *s, size_t n);

/* "****002X": the last four characters only (what replies and logs show).
 * Shorter inputs are all stars. */
void idcard_mask(const char *s, char out[9]);

const char *idcard_strerror(enum idcard_result r);

#endif
