/*
 * GBK/GB18030 decoding (charset_gbk_decode in proto/charset.h): the
 * Msg_Content of a CMPP DELIVER with Msg_Fmt 15. The result must fit the
 * documented bound, be NUL-terminated valid UTF-8, and one octet less room
 * must fail cleanly; a failure leaves "".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/charset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bound = size * 3 / 2 + 1;
	uint8_t *in;
	char *out, *small;
	int n, m;

	/* An exact-size copy, so ASan sees any read past the input. */
	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	if ((out = malloc(bound)) == NULL) {
		free(in);
		return 0;
	}
	n = charset_gbk_decode(in, size, out, bound);
	if (n >= 0) {
		if ((size_t)n >= bound || out[n] != '\0' ||
		    !utf8_valid(out, (size_t)n))
			abort();
	} else if (out[0] != '\0')
		abort();
	if (n > 0 && (small = malloc((size_t)n)) != NULL) {
		m = charset_gbk_decode(in, size, small, (size_t)n);
		if (m != -1 || small[0] != '\0')
			abort();
		/* Exactly enough room decodes to the same text. */
		free(small);
		if ((small = malloc((size_t)n + 1)) != NULL) {
			if (charset_gbk_decode(in, size, small,
			    (size_t)n + 1) != n ||
			    memcmp(small, out, (size_t)n + 1) != 0)
				abort();
			free(small);
		}
	}
	free(out);
	free(in);
	return 0;
}
