/*
 * Conversions between the SMPP data_coding character sets and UTF-8, the
 * only text representation used above proto/. Follows 3GPP TS 23.038 §6.2.1
 * (GSM 7-bit default alphabet and extension table), RFC 3629 (UTF-8) and
 * RFC 2781 (UTF-16 surrogate pairs).
 */
#include "proto/charset.h"
#include "proto/errf.h"

#include <iconv.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GSM_ESC      0x1B
#define GSM_ESC_FLAG 0x1B00   /* gsm_enc code: escape pair 0x1B, low byte */

/*
 * TS 23.038 §6.2.1 default alphabet, septet -> Unicode. Slot 0x1B is the
 * escape to the extension table and never a character by itself.
 */
static const uint16_t gsm_basic[128] = {
	0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
	0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
	0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
	0x03A3, 0x0398, 0x039E, 0x0000, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
	0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
	0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
	0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
	0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
	0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
	0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
	0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
	0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
	0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
	0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
	0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
	0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* TS 23.038 §6.2.1.1 extension table (after 0x1B); 0 = not defined. */
static const uint16_t gsm_ext[128] = {
	[0x0A] = 0x000C,   /* form feed (page break) */
	[0x14] = 0x005E,   /* ^ */
	[0x28] = 0x007B,   /* { */
	[0x29] = 0x007D,   /* } */
	[0x2F] = 0x005C,   /* \ */
	[0x3C] = 0x005B,   /* [ */
	[0x3D] = 0x007E,   /* ~ */
	[0x3E] = 0x005D,   /* ] */
	[0x40] = 0x007C,   /* | */
	[0x65] = 0x20AC,   /* euro sign */
};

/*
 * The inverse of both tables above, sorted by code point for bsearch, minus
 * the ASCII characters that map to themselves (gsm_lookup checks those in
 * gsm_basic directly). A code >= GSM_ESC_FLAG is an escape pair. The unit
 * test round-trips every septet of both tables, so a drift between this
 * table and the two above fails the build's tests.
 */
struct gsm_enc {
	uint16_t cp;
	uint16_t code;
};

static const struct gsm_enc gsm_enc[] = {
	{0x000C, 0x1B0A}, {0x0024, 0x0002}, {0x0040, 0x0000}, {0x005B, 0x1B3C},
	{0x005C, 0x1B2F}, {0x005D, 0x1B3E}, {0x005E, 0x1B14}, {0x005F, 0x0011},
	{0x007B, 0x1B28}, {0x007C, 0x1B40}, {0x007D, 0x1B29}, {0x007E, 0x1B3D},
	{0x00A1, 0x0040}, {0x00A3, 0x0001}, {0x00A4, 0x0024}, {0x00A5, 0x0003},
	{0x00A7, 0x005F}, {0x00BF, 0x0060}, {0x00C4, 0x005B}, {0x00C5, 0x000E},
	{0x00C6, 0x001C}, {0x00C7, 0x0009}, {0x00C9, 0x001F}, {0x00D1, 0x005D},
	{0x00D6, 0x005C}, {0x00D8, 0x000B}, {0x00DC, 0x005E}, {0x00DF, 0x001E},
	{0x00E0, 0x007F}, {0x00E4, 0x007B}, {0x00E5, 0x000F}, {0x00E6, 0x001D},
	{0x00E8, 0x0004}, {0x00E9, 0x0005}, {0x00EC, 0x0007}, {0x00F1, 0x007D},
	{0x00F2, 0x0008}, {0x00F6, 0x007C}, {0x00F8, 0x000C}, {0x00F9, 0x0006},
	{0x00FC, 0x007E}, {0x0393, 0x0013}, {0x0394, 0x0010}, {0x0398, 0x0019},
	{0x039B, 0x0014}, {0x039E, 0x001A}, {0x03A0, 0x0016}, {0x03A3, 0x0018},
	{0x03A6, 0x0012}, {0x03A8, 0x0017}, {0x03A9, 0x0015}, {0x20AC, 0x1B65},
};

/* DCS -> charset (SMPP 3.4 §5.2.19; 0xF0-0xF7 are TS 23.038 §4 "data
 * coding/message class" values, whose bit 2 selects 8-bit data). */
struct dcs_map {
	uint8_t      lo, hi;
	enum charset cs;
};

static const struct dcs_map dcs_map[] = {
	{0x00, 0x00, CS_GSM7},
	{0x01, 0x01, CS_ASCII},
	{0x02, 0x02, CS_BINARY},
	{0x03, 0x03, CS_LATIN1},
	{0x04, 0x04, CS_BINARY},
	{0x08, 0x08, CS_UCS2},
	{0xF0, 0xF3, CS_GSM7},
	{0xF4, 0xF7, CS_BINARY},
};

/* Where decoded UTF-8 goes; cap excludes the room kept for the NUL. */
struct utf8_out {
	char  *buf;
	size_t cap;
	size_t len;
};

/* Results are returned as int, so never let a buffer look larger. */
static size_t
clamp_cap(size_t cap)
{
	return cap > (size_t)INT_MAX ? (size_t)INT_MAX : cap;
}

int
charset_from_dcs(uint8_t dcs, enum charset *cs, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(dcs_map) / sizeof(dcs_map[0]); i++) {
		if (dcs >= dcs_map[i].lo && dcs <= dcs_map[i].hi) {
			*cs = dcs_map[i].cs;
			return 0;
		}
	}
	errf(err, errlen, "unsupported data_coding 0x%02x", dcs);
	return -1;
}

size_t
charset_utf8_bound(enum charset cs, size_t inlen)
{
	/*
	 * Per input unit: a GSM septet yields at most 2 bytes (an escape
	 * pair at most 3 for 2 septets); a Latin-1 byte at most 2; a UCS-2
	 * unit at most 3 (a surrogate pair 4 for 4 bytes).
	 */
	switch (cs) {
	case CS_GSM7:
	case CS_LATIN1:
		return inlen > SIZE_MAX / 2 ? SIZE_MAX : inlen * 2;
	case CS_UCS2:
		/* An odd length fails before any output. */
		return inlen / 2 > SIZE_MAX / 3 ? SIZE_MAX : inlen / 2 * 3;
	case CS_ASCII:
	case CS_BINARY:
		return inlen;
	}
	return SIZE_MAX;
}

/* utf8_next, inlined into the loops below (once per character of every
 * text and reply). */
static inline int
next_cp(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c, min;
	size_t   n, i;

	if (len == 0)
		return -1;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	/* 0x80-0xC1 are continuations or overlong 2-byte leads; > 0xF4
	 * would exceed U+10FFFF. */
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
		c = p[0] & 0x1F;
		min = 0x80;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		c = p[0] & 0x0F;
		min = 0x800;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	} else
		return -1;
	if (len < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*cp = c;
	return (int)n;
}

int
utf8_next(const char *s, size_t len, uint32_t *cp)
{
	return next_cp(s, len, cp);
}

/* Also -1 for a value that is not a Unicode scalar value (a surrogate or
 * above U+10FFFF): writing it would produce invalid UTF-8. */
int
utf8_put(uint32_t cp, char *out, size_t cap)
{
	unsigned char *p = (unsigned char *)out;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	if (cp < 0x80) {
		if (cap < 1)
			return -1;
		p[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		if (cap < 2)
			return -1;
		p[0] = (unsigned char)(0xC0 | (cp >> 6));
		p[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		if (cap < 3)
			return -1;
		p[0] = (unsigned char)(0xE0 | (cp >> 12));
		p[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		p[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	if (cap < 4)
		return -1;
	p[0] = (unsigned char)(0xF0 | (cp >> 18));
	p[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	p[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	p[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* 1 if p[0..2] is a three-byte sequence led by E1..EC or EE..EF
 * (U+1000..U+CFFF, the CJK block among them, and U+E000..U+FFFF, the
 * full-width punctuation): none of those can be overlong (E0) or a
 * surrogate (ED), so two continuation bytes are all it takes. The hot
 * loops below take it before the general decoder. */
static inline int
plain3(const unsigned char *p, size_t left)
{
	return left >= 3 && p[0] >= 0xE1 && p[0] <= 0xEF && p[0] != 0xED &&
	    (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t   i = 0;
	int      n;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (plain3(p + i, len - i)) {
			i += 3;
			continue;
		}
		if ((n = next_cp(s + i, len - i, &cp)) < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

static int
out_put(struct utf8_out *o, uint32_t cp, char *err, size_t errlen)
{
	int n;

	if ((n = utf8_put(cp, o->buf + o->len, o->cap - o->len)) < 0) {
		errf(err, errlen, "output buffer too small (%zu bytes)",
		    o->cap + 1);
		return -1;
	}
	o->len += (size_t)n;
	return 0;
}

/*
 * TS 23.038 §6.2.1.1: an escape followed by a septet the extension table
 * does not define shows the basic-table character; 0x1B 0x1B (reserved
 * for a further extension table) shows a space.
 */
static int
decode_gsm7(const uint8_t *in, size_t inlen, struct utf8_out *o, char *err,
    size_t errlen)
{
	uint32_t cp;
	size_t   i;

	for (i = 0; i < inlen; i++) {
		if (in[i] > 0x7F) {
			errf(err, errlen,
			    "GSM septet 0x%02x > 0x7f at byte %zu", in[i], i);
			return -1;
		}
		if (in[i] != GSM_ESC) {
			cp = gsm_basic[in[i]];
		} else {
			if (i + 1 == inlen) {
				errf(err, errlen, "GSM escape at the end");
				return -1;
			}
			i++;
			if (in[i] > 0x7F) {
				errf(err, errlen,
				    "GSM septet 0x%02x > 0x7f at byte %zu",
				    in[i], i);
				return -1;
			}
			if (in[i] == GSM_ESC)
				cp = 0x20;
			else if (gsm_ext[in[i]] != 0)
				cp = gsm_ext[in[i]];
			else
				cp = gsm_basic[in[i]];
		}
		if (out_put(o, cp, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
decode_ascii(const uint8_t *in, size_t inlen, struct utf8_out *o, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < inlen; i++) {
		if (in[i] > 0x7F) {
			errf(err, errlen,
			    "IA5 byte 0x%02x > 0x7f at byte %zu", in[i], i);
			return -1;
		}
		if (out_put(o, in[i], err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
decode_latin1(const uint8_t *in, size_t inlen, struct utf8_out *o, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < inlen; i++)
		if (out_put(o, in[i], err, errlen) == -1)
			return -1;
	return 0;
}

/* RFC 2781 §2.2; a surrogate that is not part of a high+low pair is an
 * error rather than U+FFFD so a corrupt message is noticed, not shown. */
static int
decode_ucs2(const uint8_t *in, size_t inlen, struct utf8_out *o, char *err,
    size_t errlen)
{
	uint32_t u, lo;
	size_t   i;

	if (inlen % 2 != 0) {
		errf(err, errlen, "odd UCS-2 length %zu", inlen);
		return -1;
	}
	for (i = 0; i < inlen; i += 2) {
		u = (uint32_t)in[i] << 8 | in[i + 1];
		if (u >= 0xDC00 && u <= 0xDFFF) {
			errf(err, errlen,
			    "unpaired low surrogate 0x%04x at byte %zu",
			    (unsigned)u, i);
			return -1;
		}
		if (u >= 0xD800 && u <= 0xDBFF) {
			lo = i + 3 < inlen ?
			    (uint32_t)in[i + 2] << 8 | in[i + 3] : 0;
			if (lo < 0xDC00 || lo > 0xDFFF) {
				errf(err, errlen, "unpaired high surrogate "
				    "0x%04x at byte %zu", (unsigned)u, i);
				return -1;
			}
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			i += 2;
		}
		if (out_put(o, u, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
decode_binary(const uint8_t *in, size_t inlen, struct utf8_out *o, char *err,
    size_t errlen)
{
	if (inlen > o->cap) {
		errf(err, errlen, "output buffer too small (%zu bytes)",
		    o->cap + 1);
		return -1;
	}
	if (inlen > 0)
		memcpy(o->buf, in, inlen);
	o->len = inlen;
	return 0;
}

int
charset_decode(enum charset cs, const uint8_t *in, size_t inlen, char *out,
    size_t outcap, char *err, size_t errlen)
{
	struct utf8_out o;
	int rc = -1;

	if (outcap == 0) {
		errf(err, errlen, "output buffer too small (0 bytes)");
		return -1;
	}
	o.buf = out;
	o.cap = clamp_cap(outcap) - 1;
	o.len = 0;
	switch (cs) {
	case CS_GSM7:
		rc = decode_gsm7(in, inlen, &o, err, errlen);
		break;
	case CS_ASCII:
		rc = decode_ascii(in, inlen, &o, err, errlen);
		break;
	case CS_LATIN1:
		rc = decode_latin1(in, inlen, &o, err, errlen);
		break;
	case CS_UCS2:
		rc = decode_ucs2(in, inlen, &o, err, errlen);
		break;
	case CS_BINARY:
		rc = decode_binary(in, inlen, &o, err, errlen);
		break;
	default:
		errf(err, errlen, "unknown charset %d", (int)cs);
		break;
	}
	/* Always terminated, so a caller that ignores -1 still holds a
	 * string, never stale bytes. */
	out[rc == 0 ? o.len : 0] = '\0';
	return rc == 0 ? (int)o.len : -1;
}

/*
 * GB18030 is a superset of GBK and GB2312, so one decoder serves all three.
 * A converter per call: texts in GBK are rare (MO from a CMPP link with
 * Msg_Fmt 15), and no state then outlives the call.
 */
int
charset_gbk_decode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	iconv_t cd;
	char   *ip, *op;
	size_t  il, ol;
	int     rc = -1;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	if (len == 0)
		return 0;
	if ((cd = iconv_open("UTF-8", "GB18030")) == (iconv_t)-1)
		return -1;
	/* iconv's prototype wants char **; it never writes the input. */
	ip = (char *)(uintptr_t)in;
	il = len;
	op = out;
	ol = clamp_cap(cap) - 1;
	if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 && il == 0 &&
	    iconv(cd, NULL, NULL, &op, &ol) != (size_t)-1 &&
	    utf8_valid(out, (size_t)(op - out)))
		rc = (int)(op - out);
	iconv_close(cd);
	out[rc >= 0 ? rc : 0] = '\0';
	return rc;
}

static int
gsm_enc_cmp(const void *key, const void *elem)
{
	uint32_t cp = *(const uint32_t *)key;
	const struct gsm_enc *e = elem;

	return cp < e->cp ? -1 : cp > e->cp ? 1 : 0;
}

/* Septet code for cp (GSM_ESC_FLAG | x for an escape pair), or -1. */
static int
gsm_lookup(uint32_t cp)
{
	const struct gsm_enc *e;

	if (cp < 0x80 && gsm_basic[cp] == cp)
		return (int)cp;
	e = bsearch(&cp, gsm_enc, sizeof(gsm_enc) / sizeof(gsm_enc[0]),
	    sizeof(gsm_enc[0]), gsm_enc_cmp);
	return e != NULL ? e->code : -1;
}

bool
gsm7_fits(const char *utf8, size_t len)
{
	uint32_t cp;
	size_t   i = 0;
	int      n;

	while (i < len) {
		if ((n = next_cp(utf8 + i, len - i, &cp)) < 0 ||
		    gsm_lookup(cp) < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

int
gsm7_encode(const char *utf8, size_t len, uint8_t *out, size_t outcap,
    char *err, size_t errlen)
{
	uint32_t cp;
	size_t   i = 0, o = 0, need;
	int      n, code;

	outcap = clamp_cap(outcap);
	while (i < len) {
		if ((n = next_cp(utf8 + i, len - i, &cp)) < 0) {
			errf(err, errlen, "invalid UTF-8 at byte %zu", i);
			return -1;
		}
		if ((code = gsm_lookup(cp)) < 0) {
			errf(err, errlen,
			    "U+%04X at byte %zu has no GSM 03.38 encoding",
			    (unsigned)cp, i);
			return -1;
		}
		need = code >= GSM_ESC_FLAG ? 2 : 1;
		if (outcap - o < need) {
			errf(err, errlen, "output buffer too small "
			    "(%zu bytes)", outcap);
			return -1;
		}
		if (need == 2)
			out[o++] = GSM_ESC;
		out[o++] = (uint8_t)(code & 0x7F);
		i += (size_t)n;
	}
	return (int)o;
}

int
ucs2_encode(const char *utf8, size_t len, uint8_t *out, size_t outcap,
    char *err, size_t errlen)
{
	uint32_t cp, hi, lo;
	size_t   i = 0, o = 0, need;
	int      n;

	outcap = clamp_cap(outcap);
	while (i < len) {
		const unsigned char *p = (const unsigned char *)utf8 + i;

		if (p[0] < 0x80 && outcap - o >= 2) {
			out[o++] = 0;
			out[o++] = p[0];
			i++;
			continue;
		}
		if (plain3(p, len - i) && outcap - o >= 2) {
			out[o++] = (uint8_t)((p[0] & 0x0F) << 4 |
			    (p[1] & 0x3F) >> 2);
			out[o++] = (uint8_t)((p[1] & 0x03) << 6 | (p[2] & 0x3F));
			i += 3;
			continue;
		}
		if ((n = next_cp(utf8 + i, len - i, &cp)) < 0) {
			errf(err, errlen, "invalid UTF-8 at byte %zu", i);
			return -1;
		}
		need = cp >= 0x10000 ? 4 : 2;
		if (outcap - o < need) {
			errf(err, errlen, "output buffer too small "
			    "(%zu bytes)", outcap);
			return -1;
		}
		if (cp >= 0x10000) {
			hi = 0xD800 + ((cp - 0x10000) >> 10);
			lo = 0xDC00 + ((cp - 0x10000) & 0x3FF);
			out[o++] = (uint8_t)(hi >> 8);
			out[o++] = (uint8_t)(hi & 0xFF);
			out[o++] = (uint8_t)(lo >> 8);
			out[o++] = (uint8_t)(lo & 0xFF);
		} else {
			out[o++] = (uint8_t)(cp >> 8);
			out[o++] = (uint8_t)(cp & 0xFF);
		}
		i += (size_t)n;
	}
	return (int)o;
}
