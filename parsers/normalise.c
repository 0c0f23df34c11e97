/*
 * Normalisation of citizens' texts before pattern matching: what a Chinese
 * input method or a phone adds (full-width forms, ideographic spaces, Chinese
 * separators, zero-width characters) is folded away so that the patterns
 * file only has to describe ASCII keywords, Han keywords and single spaces.
 */
#include "parsers/normalise.h"

#include <limits.h>
#include <stdint.h>

#include "proto/charset.h"

#define CP_DROP  UINT32_MAX   /* map_cp: the code point disappears */


/*
 * Spaces: ASCII white space and every other control character (a NUL or an
 * escape in an SMS is noise, and must not reach C strings), NEL, the Unicode
 * space separators (Zs) and the line and paragraph separators.
 */
static int
is_space(uint32_t c)
{
	return c <= 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Zero-width characters that copy-and-paste leaves inside words. */
static int
is_invisible(uint32_t c)
{
	return c == 0x180E || (c >= 0x200B && c <= 0x200D) || c == 0x2060 ||
	    c == 0xFEFF;
}

/* What one code point becomes: a character, ' ' or CP_DROP. */
static uint32_t
map_cp(uint32_t c)
{
	if (c >= 0xFF01 && c <= 0xFF5E)
		c -= 0xFEE0;            /* full-width ASCII form */
	if (is_invisible(c))
		return CP_DROP;
	if (is_space(c))
		return ' ';
	switch (c) {
	case ',':
	case ':':
	case ';':
	case '-':
	case 0x3001:                    /* 、 ideographic comma */
		return ' ';
	default:
		return c;
	}
}

int
text_normalise(const char *utf8, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;
	int step, elen, k, pending_space = 0;
	uint32_t c;
	char enc[4];

	if (out == NULL || cap == 0 || len > INT_MAX - 1 ||
	    (utf8 == NULL && len > 0))
		return -1;
	for (i = 0; i < len; i += (size_t)step) {
		if ((step = utf8_next(utf8 + i, len - i, &c)) < 0)
			return -1;
		c = map_cp(c);
		if (c == CP_DROP)
			continue;
		if (c == ' ') {
			/* Leading spaces vanish, runs collapse to one. */
			pending_space = o > 0;
			continue;
		}
		elen = utf8_put(c, enc, sizeof(enc));
		if (elen < 0 || o + (size_t)pending_space + (size_t)elen >= cap)
			return -1;
		if (pending_space)
			out[o++] = ' ';
		pending_space = 0;
		for (k = 0; k < elen; k++)
			out[o++] = enc[k];
	}
	out[o] = '\0';
	return (int)o;
}
