/*
 * Resident identity numbers (GB 11643-1999): validation of the 18-character
 * form, the shape of a mistyped one, and the masked form that replies and
 * logs are allowed to show.
 */
#include "parsers/idcard.h"

#include <string.h>

#define ID_LEN       18
#define OLDEST_YEAR  1800   /* a birth year before this is a typo */
#define SHAPE_MIN    15     /* a first-generation number */
#define SHAPE_MAX    19     /* one digit too many */

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* s[0..n) as a decimal number; the caller has checked the digits. */
static long
digits(const char *s, int n)
{
	long v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

/* The YYYYMMDD at s is a calendar date in OLDEST_YEAR.. and not after today
 * (0 = no upper bound). */
static int
date_ok(const char *s, long today)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	long y = digits(s, 4), m = digits(s + 4, 2), d = digits(s + 6, 2);
	long last;

	if (y < OLDEST_YEAR || m < 1 || m > 12 || d < 1)
		return 0;
	last = mdays[m - 1] + (m == 2 && is_leap(y));
	if (d > last)
		return 0;
	return today <= 0 || y * 10000 + m * 100 + d <= today;
}

/* GB 11643-1999 §8.2: ISO 7064 MOD 11-2 over the first 17 digits. */
static char
check_char(const char *s)
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
	    8, 4, 2 };
	static const char map[] = "10X98765432";
	int i, sum = 0;

	for (i = 0; i < 17; i++)
		sum += (s[i] - '0') * w[i];
	return map[sum % 11];
}

enum idcard_result
idcard_check(const char *s, char out[19], long today_yyyymmdd)
{
	char last;
	int i;

	if (s == NULL || strlen(s) != ID_LEN)
		return IDCARD_BAD_LENGTH;
	for (i = 0; i < 17; i++)
		if (!is_digit(s[i]))
			return IDCARD_BAD_CHARS;
	last = s[17] == 'x' ? 'X' : s[17];
	if (!is_digit(last) && last != 'X')
		return IDCARD_BAD_CHARS;
	if (!date_ok(s + 6, today_yyyymmdd))
		return IDCARD_BAD_DATE;
	if (check_char(s) != last)
		return IDCARD_BAD_CHECKSUM;
	memcpy(out, s, 17);
	out[17] = last;
	out[18] = '\0';
	return IDCARD_OK;
}

int
idcard_shaped(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n < SHAPE_MIN || n > SHAPE_MAX)
		return 0;
	for (i = 0; i + 1 < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return is_digit(s[n - 1]) || s[n - 1] == 'X' || s[n - 1] == 'x';
}

/*
 * Only ASCII letters and digits are shown (x as X); anything else in the last
 * four bytes, and every position of an input under four bytes, is a star, so
 * the result is always eight characters and never a split UTF-8 sequence.
 */
void
idcard_mask(const char *s, char out[9])
{
	size_t n = s != NULL ? strlen(s) : 0;
	int i;
	char c;

	memcpy(out, "********", 9);
	if (n < 4)
		return;
	for (i = 0; i < 4; i++) {
		c = s[n - 4 + (size_t)i];
		if (c == 'x')
			c = 'X';
		if (is_digit(c) || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z'))
			out[4 + i] = c;
	}
}

const char *
idcard_strerror(enum idcard_result r)
{
	switch (r) {
	case IDCARD_OK:
		return "valid";
	case IDCARD_BAD_LENGTH:
		return "not 18 characters";
	case IDCARD_BAD_CHARS:
		return "not 17 digits and a digit or X";
	case IDCARD_BAD_DATE:
		return "birth date is not a real date";
	case IDCARD_BAD_CHECKSUM:
		return "check character does not match";
	}
	return "unknown result";
}
