/*
 * Charset decoders (proto/charset.h): short_message bytes in any supported
 * data_coding. The first byte picks the charset, the rest is the text. A
 * decode must fit charset_utf8_bound() and, but for binary, be valid UTF-8;
 * a too-small buffer must fail cleanly. Valid text goes back through the
 * encoders the reply path uses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/charset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum charset sets[] = {
	CS_GSM7, CS_ASCII, CS_BINARY, CS_LATIN1, CS_UCS2,
};
#define NSETS (sizeof(sets) / sizeof(sets[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum charset cs;
	char err[256];
	size_t bound, inlen;
	char *out;
	uint8_t *in;
	int n, m;

	if (size < 1)
		return 0;
	(void)charset_from_dcs(data[0], &cs, err, sizeof(err));
	cs = sets[data[0] % NSETS];
	inlen = size - 1;
	if ((in = malloc(inlen + 1)) == NULL)
		return 0;
	memcpy(in, data + 1, inlen);
	bound = charset_utf8_bound(cs, inlen);
	if ((out = malloc(bound + 1)) == NULL) {
		free(in);
		return 0;
	}
	n = charset_decode(cs, in, inlen, out, bound + 1, err, sizeof(err));
	if (n >= 0) {
		if ((size_t)n > bound || out[n] != '\0')
			abort();
		if (cs != CS_BINARY && !utf8_valid(out, (size_t)n))
			abort();
	}
	/* One byte short of what the first decode needed: fail, never spill. */
	if (n > 0) {
		char *small = malloc((size_t)n);
		if (small != NULL) {
			m = charset_decode(cs, in, inlen, small, (size_t)n,
			    err, sizeof(err));
			if (m != -1)
				abort();
			free(small);
		}
	}
	if (n >= 0 && cs != CS_BINARY) {
		size_t cap = (size_t)n * 2 + 4;
		uint8_t *enc = malloc(cap);
		if (enc != NULL) {
			if (gsm7_fits(out, (size_t)n))
				(void)gsm7_encode(out, (size_t)n, enc, cap,
				    err, sizeof(err));
			(void)ucs2_encode(out, (size_t)n, enc, cap, err,
			    sizeof(err));
			free(enc);
		}
	}
	/* The raw bytes as UTF-8: validator and step decoder must agree. */
	{
		const char *s = (const char *)in;
		size_t i = 0;
		uint32_t cp;
		int ok = 1, k;

		while (i < inlen) {
			if ((k = utf8_next(s + i, inlen - i, &cp)) <= 0) {
				ok = 0;
				break;
			}
			i += (size_t)k;
		}
		if (ok != (int)utf8_valid(s, inlen))
			abort();
	}
	free(out);
	free(in);
	return 0;
}
