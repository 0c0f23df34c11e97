/*
 * Outbound segmentation: encodes a UTF-8 text once (GSM 03.38 if it fits,
 * else UCS-2) and cuts the encoded bytes into short messages, so the part
 * limits are counted in the units the SMSC counts (3GPP TS 23.040 §9.2.3.24.1,
 * SMPP 3.4 §5.3.2.22-24 for SAR, §5.3.2.32 for message_payload).
 */
#include "proto/segment.h"
#include "proto/errf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/charset.h"
#include "proto/pdu.h"
#include "proto/udh.h"

#define UDH_CONCAT8_LEN 6

/*
 * Limits in encoded bytes (one byte per unpacked septet, two per UCS-2
 * unit). A multi-part limit is what is left of 140 octets after the 6-byte
 * UDH: 153 septets (with the fill bit) or 134 octets = 67 UCS-2 units. SAR
 * parts use the same sizes so a receiving SMSC may convert them to UDH.
 */
struct seg_limits {
	uint8_t dcs;
	size_t  single;
	size_t  multi;
};

static const struct seg_limits lim_gsm7 = { DCS_GSM7, 160, 153 };
static const struct seg_limits lim_ucs2 = { DCS_UCS2, 140, 134 };
static const struct seg_limits lim_ascii = { DCS_IA5, 140, 134 };

/* 1 if every byte is 7-bit ASCII (SEG_CMPP sends such a text as it is). */
static int
ascii_only(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/*
 * A UTF-8 text longer than this cannot fit SEG_MAX_PARTS parts: every GSM
 * septet stands for at most 2 UTF-8 bytes (every UCS-2 unit for at most 3
 * per 2 bytes, a lower ratio). Checked first so the encode buffer of
 * 2 * len bytes stays small.
 */
#define SEG_TEXT_MAX ((size_t)SEG_MAX_PARTS * 153 * 2)

/*
 * End of the part that starts at enc[start], at most limit bytes long.
 * Moves the cut back so an escape pair or a surrogate pair is not split:
 * in our own GSM encoding 0x1B only ever starts a pair (no extension code
 * is 0x1B), and a high surrogate only ever starts a pair.
 */
static size_t
seg_cut(const uint8_t *enc, size_t enc_len, size_t start, size_t limit,
    uint8_t dcs)
{
	size_t end = start + limit;

	if (end >= enc_len)
		return enc_len;
	if (dcs == DCS_GSM7 && enc[end - 1] == 0x1B)
		end--;
	else if (dcs == DCS_UCS2 && enc[end - 2] >= 0xD8 &&
	    enc[end - 2] <= 0xDB)
		end -= 2;
	return end;
}

int
segment_text(const char *utf8, size_t len, enum seg_mode mode, uint16_t ref,
    struct segments *out, char *err, size_t errlen)
{
	const struct seg_limits *lim;
	uint8_t *enc = NULL, *buf = NULL, *p;
	size_t   cuts[SEG_MAX_PARTS + 1];
	size_t   enc_len, start;
	int      n, total, i;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		errf(err, errlen, "empty text");
		return -1;
	}
	if (!utf8_valid(utf8, len)) {
		errf(err, errlen, "text is not valid UTF-8");
		return -1;
	}
	if (len > SEG_TEXT_MAX) {
		errf(err, errlen, "text of %zu bytes needs more than %d "
		    "parts", len, SEG_MAX_PARTS);
		return -1;
	}

	if (mode == SEG_CMPP)
		lim = ascii_only(utf8, len) ? &lim_ascii : &lim_ucs2;
	else
		lim = gsm7_fits(utf8, len) ? &lim_gsm7 : &lim_ucs2;
	if ((enc = malloc(2 * len)) == NULL) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	if (lim->dcs == DCS_IA5) {
		memcpy(enc, utf8, len);
		n = (int)len;
	} else if (lim->dcs == DCS_GSM7) {
		n = gsm7_encode(utf8, len, enc, 2 * len, err, errlen);
	} else {
		n = ucs2_encode(utf8, len, enc, 2 * len, err, errlen);
	}
	if (n < 0)
		goto fail;
	enc_len = (size_t)n;

	if (mode == SEG_PAYLOAD && enc_len > PDU_PAYLOAD_MAX)
		mode = SEG_UDH;

	/*
	 * cuts[i] .. cuts[i + 1] is part i + 1. A single part keeps the
	 * requested mode but never has a UDH or needs SAR TLVs: the caller
	 * sends it plain (SEG_PAYLOAD: in message_payload).
	 */
	cuts[0] = 0;
	if (enc_len <= lim->single ||
	    (mode == SEG_PAYLOAD && enc_len <= PDU_PAYLOAD_MAX)) {
		total = 1;
		cuts[1] = enc_len;
	} else {
		for (total = 0, start = 0; start < enc_len; total++) {
			if (total == SEG_MAX_PARTS) {
				errf(err, errlen, "text needs more than %d "
				    "parts", SEG_MAX_PARTS);
				goto fail;
			}
			start = seg_cut(enc, enc_len, start, lim->multi,
			    lim->dcs);
			cuts[total + 1] = start;
		}
	}

	/* Only as many part slots as there are parts: a queue of thousands
	 * of short messages should not carry 255 slots each. */
	if ((out->parts = calloc((size_t)total, sizeof(*out->parts))) == NULL) {
		errf(err, errlen, "out of memory");
		goto fail;
	}
	out->data_coding = lim->dcs;
	out->mode = mode;
	out->total = total;
	out->ref = mode == SEG_UDH || mode == SEG_CMPP ? (ref & 0xFF) : ref;
	if (total == 1 || (mode != SEG_UDH && mode != SEG_CMPP)) {
		/* No header to insert: the parts are slices of enc. */
		buf = enc;
		enc = NULL;
		for (i = 0; i < total; i++) {
			out->parts[i].data = buf + cuts[i];
			out->parts[i].len = cuts[i + 1] - cuts[i];
			out->parts[i].seq = (uint8_t)(i + 1);
		}
	} else {
		if ((buf = malloc(enc_len + (size_t)total * UDH_CONCAT8_LEN)) ==
		    NULL) {
			errf(err, errlen, "out of memory");
			goto fail;
		}
		out->esm_class = PDU_ESM_UDHI;
		for (i = 0, p = buf; i < total; i++) {
			out->parts[i].data = p;
			p += udh_write_concat8(p, (uint8_t)(ref & 0xFF),
			    (uint8_t)total, (uint8_t)(i + 1));
			memcpy(p, enc + cuts[i], cuts[i + 1] - cuts[i]);
			p += cuts[i + 1] - cuts[i];
			out->parts[i].len = (size_t)(p - out->parts[i].data);
			out->parts[i].seq = (uint8_t)(i + 1);
		}
		free(enc);
	}
	out->buf = buf;
	return 0;

fail:
	free(enc);
	free(out->parts);
	memset(out, 0, sizeof(*out));
	return -1;
}

void
segments_free(struct segments *s)
{
	free(s->parts);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}
