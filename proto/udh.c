/*
 * User Data Header parsing for inbound concatenated messages and writing of
 * the 8-bit concatenation header for outbound ones (3GPP TS 23.040
 * §9.2.3.24.1 and §9.2.3.24.8). Every length read from the message is
 * checked against the bytes actually present.
 */
#include "proto/udh.h"
#include "proto/errf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define IEI_CONCAT8   0x00
#define IEI_CONCAT16  0x08

/* One concatenation IE body (after IEI and length). */
static int
parse_concat(uint8_t iei, const uint8_t *v, size_t vlen, struct udh_concat *c,
    char *err, size_t errlen)
{
	size_t want = iei == IEI_CONCAT8 ? 3 : 4;

	if (vlen != want) {
		errf(err, errlen, "concatenation IE 0x%02x length %zu, "
		    "expected %zu", iei, vlen, want);
		return -1;
	}
	if (iei == IEI_CONCAT8) {
		c->ref = v[0];
		v += 1;
	} else {
		c->ref = (uint16_t)(v[0] << 8 | v[1]);
		v += 2;
	}
	c->total = v[0];
	c->seq = v[1];
	if (c->total == 0 || c->seq == 0 || c->seq > c->total) {
		errf(err, errlen, "concatenation IE part %u of %u",
		    c->seq, c->total);
		return -1;
	}
	c->present = 1;
	return 0;
}

/*
 * TS 23.040 §9.2.3.24 says a repeated non-repeatable IE is resolved by
 * using the last occurrence, so a later concatenation IE overrides an
 * earlier one (of either reference size).
 */
int
udh_parse(const uint8_t *sm, size_t len, struct udh_concat *c,
    size_t *hdr_len, char *err, size_t errlen)
{
	size_t udhl, pos, end, iel;
	uint8_t iei;

	memset(c, 0, sizeof(*c));
	*hdr_len = 0;
	if (len == 0) {
		errf(err, errlen, "UDH indicated but short_message is empty");
		return -1;
	}
	udhl = sm[0];
	if (1 + udhl > len) {
		errf(err, errlen, "UDH length %zu runs past the end "
		    "(%zu bytes after it)", udhl, len - 1);
		return -1;
	}
	end = 1 + udhl;
	for (pos = 1; pos < end; pos += 2 + iel) {
		if (end - pos < 2) {
			errf(err, errlen, "truncated IE header at UDH "
			    "byte %zu", pos);
			goto fail;
		}
		iei = sm[pos];
		iel = sm[pos + 1];
		if (iel > end - pos - 2) {
			errf(err, errlen, "IE 0x%02x length %zu runs past "
			    "the UDH end", iei, iel);
			goto fail;
		}
		if (iei == IEI_CONCAT8 || iei == IEI_CONCAT16) {
			if (parse_concat(iei, sm + pos + 2, iel, c, err,
			    errlen) == -1)
				goto fail;
		}
	}
	*hdr_len = end;
	return 0;

fail:
	/* No half-parsed concatenation info escapes a failed parse. */
	memset(c, 0, sizeof(*c));
	return -1;
}

size_t
udh_write_concat8(uint8_t out[6], uint8_t ref, uint8_t total, uint8_t seq)
{
	out[0] = 5;             /* UDHL: the one IE below */
	out[1] = IEI_CONCAT8;
	out[2] = 3;
	out[3] = ref;
	out[4] = total;
	out[5] = seq;
	return 6;
}
