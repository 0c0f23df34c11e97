/*
 * Unit tests for proto/charset: GSM 03.38 vectors and tables, IA5, Latin-1,
 * UCS-2 with surrogate pairs, binary, DCS mapping and strict UTF-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/charset.h"

/* Error text of the call under test; cleared before every test. */
static char err[128];

static int
clear_err(void **state)
{
	(void)state;
	err[0] = '\0';
	return 0;
}

#define T(f) cmocka_unit_test_setup(f, clear_err)

static int
decode(enum charset cs, const uint8_t *in, size_t inlen, char *out,
    size_t outcap)
{
	err[0] = '\0';
	return charset_decode(cs, in, inlen, out, outcap, err, sizeof(err));
}

static void
test_dcs_map(void **state)
{
	enum charset cs;
	unsigned d;

	(void)state;
	for (d = 0; d <= 0xFF; d++) {
		int want;

		switch (d) {
		case 0x00: case 0xF0: case 0xF1: case 0xF2: case 0xF3:
			want = CS_GSM7;
			break;
		case 0x01:
			want = CS_ASCII;
			break;
		case 0x02: case 0x04: case 0xF4: case 0xF5: case 0xF6: case 0xF7:
			want = CS_BINARY;
			break;
		case 0x03:
			want = CS_LATIN1;
			break;
		case 0x08:
			want = CS_UCS2;
			break;
		default:
			want = -1;
			break;
		}
		cs = (enum charset)99;
		if (want == -1) {
			assert_int_equal(charset_from_dcs((uint8_t)d, &cs, err,
			    sizeof(err)), -1);
		} else {
			assert_int_equal(charset_from_dcs((uint8_t)d, &cs, err,
			    sizeof(err)), 0);
			assert_int_equal(cs, want);
		}
	}
}

static void
test_dcs_unknown_message(void **state)
{
	enum charset cs;

	(void)state;
	assert_int_equal(charset_from_dcs(0x05, &cs, err, sizeof(err)), -1);
	assert_string_equal(err, "unsupported data_coding 0x05");
	assert_int_equal(charset_from_dcs(0x18, &cs, err, sizeof(err)), -1);
	assert_string_equal(err, "unsupported data_coding 0x18");
	/* A NULL err buffer is allowed. */
	assert_int_equal(charset_from_dcs(0x05, &cs, NULL, 0), -1);
}

static void
test_gsm7_basic_vector(void **state)
{
	static const uint8_t want[] = { 0x00, 0x01, 0x02, 0x03 };
	const char *text = "@£$¥";
	uint8_t sept[8];
	char out[16];

	(void)state;
	assert_int_equal(gsm7_encode(text, strlen(text), sept, sizeof(sept),
	    err, sizeof(err)), 4);
	assert_memory_equal(sept, want, sizeof(want));
	assert_int_equal(decode(CS_GSM7, want, sizeof(want), out, sizeof(out)),
	    (int)strlen(text));
	assert_string_equal(out, text);
}

static void
test_gsm7_euro_vector(void **state)
{
	static const uint8_t want[] = { 0x1B, 0x65 };
	uint8_t sept[4];
	char out[8];

	(void)state;
	assert_int_equal(gsm7_encode("€", 3, sept, sizeof(sept), err,
	    sizeof(err)), 2);
	assert_memory_equal(sept, want, sizeof(want));
	assert_int_equal(decode(CS_GSM7, want, sizeof(want), out, sizeof(out)),
	    3);
	assert_string_equal(out, "€");
}

static void
test_gsm7_escape_table(void **state)
{
	static const uint8_t want[] = {
		0x1B, 0x0A, 0x1B, 0x14, 0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x2F,
		0x1B, 0x3C, 0x1B, 0x3D, 0x1B, 0x3E, 0x1B, 0x40, 0x1B, 0x65,
	};
	const char *text = "\f^{}\\[~]|€";
	uint8_t sept[32];
	char out[32];

	(void)state;
	assert_int_equal(gsm7_encode(text, strlen(text), sept, sizeof(sept),
	    err, sizeof(err)), (int)sizeof(want));
	assert_memory_equal(sept, want, sizeof(want));
	assert_int_equal(decode(CS_GSM7, want, sizeof(want), out, sizeof(out)),
	    (int)strlen(text));
	assert_string_equal(out, text);
}

static void
test_gsm7_mixed_text(void **state)
{
	static const uint8_t want[] = {
		'H', 'i', ' ', 0x10, 0x1F, 0x7F, 0x11, 0x1B, 0x28, '1', 0x1B,
		0x29, 0x0A,
	};
	const char *text = "Hi ΔÉà_{1}\n";
	uint8_t sept[32];
	char out[32];

	(void)state;
	assert_int_equal(gsm7_encode(text, strlen(text), sept, sizeof(sept),
	    err, sizeof(err)), (int)sizeof(want));
	assert_memory_equal(sept, want, sizeof(want));
	assert_int_equal(decode(CS_GSM7, want, sizeof(want), out, sizeof(out)),
	    (int)strlen(text));
	assert_string_equal(out, text);
}

/* Every septet of both tables decodes and encodes back to itself. */
static void
test_gsm7_table_round_trip(void **state)
{
	static const uint8_t ext[] = {
		0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65,
	};
	uint8_t in[2], back[4];
	char out[8];
	int n;
	unsigned s;

	(void)state;
	for (s = 0; s < 0x80; s++) {
		if (s == 0x1B)
			continue;
		in[0] = (uint8_t)s;
		n = decode(CS_GSM7, in, 1, out, sizeof(out));
		assert_true(n >= 1 && n <= 2);
		assert_true(gsm7_fits(out, (size_t)n));
		assert_int_equal(gsm7_encode(out, (size_t)n, back, sizeof(back),
		    err, sizeof(err)), 1);
		assert_int_equal(back[0], s);
	}
	for (s = 0; s < sizeof(ext); s++) {
		in[0] = 0x1B;
		in[1] = ext[s];
		n = decode(CS_GSM7, in, 2, out, sizeof(out));
		assert_true(n >= 1 && n <= 3);
		assert_int_equal(gsm7_encode(out, (size_t)n, back, sizeof(back),
		    err, sizeof(err)), 2);
		assert_memory_equal(back, in, 2);
	}
}

static void
test_gsm7_unknown_escape(void **state)
{
	static const uint8_t in[] = { 0x1B, 0x41, 0x1B, 0x00, 0x1B, 0x1B, 'x' };
	char out[16];

	(void)state;
	/* TS 23.038: undefined extension codes show the basic character;
	 * 0x1B 0x1B shows a space. */
	assert_int_equal(decode(CS_GSM7, in, sizeof(in), out, sizeof(out)), 4);
	assert_string_equal(out, "A@ x");
}

static void
test_gsm7_trailing_escape(void **state)
{
	static const uint8_t in[] = { 'a', 'b', 0x1B };
	char out[16];

	(void)state;
	assert_int_equal(decode(CS_GSM7, in, sizeof(in), out, sizeof(out)), -1);
	assert_string_equal(err, "GSM escape at the end");
	assert_string_equal(out, "");
}

static void
test_gsm7_byte_over_7f(void **state)
{
	static const uint8_t in[] = { 'a', 0x80 };
	static const uint8_t esc[] = { 0x1B, 0xE5 };
	char out[16];

	(void)state;
	assert_int_equal(decode(CS_GSM7, in, sizeof(in), out, sizeof(out)), -1);
	assert_string_equal(err, "GSM septet 0x80 > 0x7f at byte 1");
	assert_int_equal(decode(CS_GSM7, esc, sizeof(esc), out, sizeof(out)),
	    -1);
	assert_string_equal(err, "GSM septet 0xe5 > 0x7f at byte 1");
}

static void
test_gsm7_encode_errors(void **state)
{
	uint8_t sept[8];

	(void)state;
	assert_int_equal(gsm7_encode("a\xC0\x80", 3, sept, sizeof(sept), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "invalid UTF-8 at byte 1");
	assert_int_equal(gsm7_encode("ab\xE6\x9F", 4, sept, sizeof(sept), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "invalid UTF-8 at byte 2");
	assert_int_equal(gsm7_encode("a查", 4, sept, sizeof(sept), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "U+67E5 at byte 1 has no GSM 03.38 encoding");
	assert_int_equal(gsm7_encode("`", 1, sept, sizeof(sept), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "U+0060 at byte 0 has no GSM 03.38 encoding");
}

static void
test_gsm7_encode_too_small(void **state)
{
	uint8_t sept[4];

	(void)state;
	assert_int_equal(gsm7_encode("abcde", 5, sept, 4, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "output buffer too small (4 bytes)");
	/* An escape pair needs both septets of room. */
	assert_int_equal(gsm7_encode("abc€", 6, sept, 4, err, sizeof(err)),
	    -1);
	assert_int_equal(gsm7_encode("ab€", 5, sept, 4, err, sizeof(err)), 4);
	assert_int_equal(gsm7_encode("", 0, sept, 0, err, sizeof(err)), 0);
}

static void
test_gsm7_fits(void **state)
{
	(void)state;
	assert_true(gsm7_fits("Hello @ 100€ {ok}", strlen("Hello @ 100€ {ok}")));
	assert_true(gsm7_fits("", 0));
	assert_false(gsm7_fits("查询", strlen("查询")));
	assert_false(gsm7_fits("a`b", 3));
	assert_false(gsm7_fits("ç", strlen("ç")));
	assert_false(gsm7_fits("a\xFF", 2));
}

static void
test_ascii(void **state)
{
	static const uint8_t in[] = { 'C', 'X', ' ', '4', '4', '~', 0x7F };
	static const uint8_t bad[] = { 'a', 0xE9 };
	char out[16];

	(void)state;
	assert_int_equal(decode(CS_ASCII, in, sizeof(in), out, sizeof(out)), 7);
	assert_memory_equal(out, "CX 44~\x7F", 8);
	assert_int_equal(decode(CS_ASCII, bad, sizeof(bad), out, sizeof(out)),
	    -1);
	assert_string_equal(err, "IA5 byte 0xe9 > 0x7f at byte 1");
}

static void
test_latin1(void **state)
{
	static const uint8_t in[] = { 'c', 'a', 'f', 0xE9, ' ', 0xA3, 0xFF };
	char out[16];

	(void)state;
	assert_int_equal(decode(CS_LATIN1, in, sizeof(in), out, sizeof(out)),
	    10);
	assert_string_equal(out, "café £ÿ");
}

static void
test_ucs2_chinese(void **state)
{
	static const uint8_t want[] = {
		0x67, 0xE5, 0x8B, 0xE2, 0x8F, 0xDB, 0x5E, 0xA6,
	};
	const char *text = "查询进度";
	uint8_t ucs[16];
	char out[32];

	(void)state;
	assert_int_equal(ucs2_encode(text, strlen(text), ucs, sizeof(ucs), err,
	    sizeof(err)), 8);
	assert_memory_equal(ucs, want, sizeof(want));
	assert_int_equal(decode(CS_UCS2, want, sizeof(want), out, sizeof(out)),
	    12);
	assert_string_equal(out, text);
}

static void
test_ucs2_emoji(void **state)
{
	static const uint8_t want[] = { 0xD8, 0x3D, 0xDE, 0x00 };
	const char *text = "\xF0\x9F\x98\x80";   /* U+1F600 */
	uint8_t ucs[8];
	char out[16];

	(void)state;
	assert_int_equal(ucs2_encode(text, 4, ucs, sizeof(ucs), err,
	    sizeof(err)), 4);
	assert_memory_equal(ucs, want, sizeof(want));
	assert_int_equal(decode(CS_UCS2, want, sizeof(want), out, sizeof(out)),
	    4);
	assert_string_equal(out, text);
}

static void
test_ucs2_max_code_point(void **state)
{
	static const uint8_t want[] = { 0x00, 'A', 0xDB, 0xFF, 0xDF, 0xFF };
	const char *text = "A\xF4\x8F\xBF\xBF";   /* A U+10FFFF */
	uint8_t ucs[8];
	char out[16];

	(void)state;
	assert_int_equal(ucs2_encode(text, 5, ucs, sizeof(ucs), err,
	    sizeof(err)), 6);
	assert_memory_equal(ucs, want, sizeof(want));
	assert_int_equal(decode(CS_UCS2, want, sizeof(want), out, sizeof(out)),
	    5);
	assert_string_equal(out, text);
}

static void
test_ucs2_odd_length(void **state)
{
	static const uint8_t in[] = { 0x67, 0xE5, 0x8B };
	char out[16];

	(void)state;
	assert_int_equal(decode(CS_UCS2, in, sizeof(in), out, sizeof(out)), -1);
	assert_string_equal(err, "odd UCS-2 length 3");
}

static void
test_ucs2_high_surrogate_at_end(void **state)
{
	static const uint8_t in[] = { 0x00, 0x41, 0xD8, 0x3D };
	char out[16];

	(void)state;
	assert_int_equal(decode(CS_UCS2, in, sizeof(in), out, sizeof(out)), -1);
	assert_string_equal(err, "unpaired high surrogate 0xd83d at byte 2");
}

static void
test_ucs2_high_surrogate_then_bmp(void **state)
{
	static const uint8_t in[] = { 0xD8, 0x3D, 0x00, 0x41 };
	static const uint8_t two_high[] = { 0xD8, 0x3D, 0xD8, 0x3D, 0xDE, 0x00 };
	char out[16];

	(void)state;
	assert_int_equal(decode(CS_UCS2, in, sizeof(in), out, sizeof(out)), -1);
	assert_string_equal(err, "unpaired high surrogate 0xd83d at byte 0");
	assert_int_equal(decode(CS_UCS2, two_high, sizeof(two_high), out,
	    sizeof(out)), -1);
	assert_string_equal(err, "unpaired high surrogate 0xd83d at byte 0");
}

static void
test_ucs2_lone_low_surrogate(void **state)
{
	static const uint8_t in[] = { 0x00, 0x41, 0xDE, 0x00, 0x00, 0x42 };
	char out[16];

	(void)state;
	assert_int_equal(decode(CS_UCS2, in, sizeof(in), out, sizeof(out)), -1);
	assert_string_equal(err, "unpaired low surrogate 0xde00 at byte 2");
}

static void
test_ucs2_encode_errors(void **state)
{
	uint8_t ucs[8];

	(void)state;
	/* Encoded surrogate (CESU-style) is not UTF-8. */
	assert_int_equal(ucs2_encode("\xED\xA0\xBD", 3, ucs, sizeof(ucs), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "invalid UTF-8 at byte 0");
	assert_int_equal(ucs2_encode("ab", 2, ucs, 3, err, sizeof(err)), -1);
	assert_string_equal(err, "output buffer too small (3 bytes)");
	/* A surrogate pair needs all four bytes of room. */
	assert_int_equal(ucs2_encode("a\xF0\x9F\x98\x80", 5, ucs, 4, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "output buffer too small (4 bytes)");
}

static void
test_binary(void **state)
{
	static const uint8_t in[] = { 0x00, 0xFF, 0x1B, 0x80, 0x7F };
	char out[8];

	(void)state;
	memset(out, 'z', sizeof(out));
	assert_int_equal(decode(CS_BINARY, in, sizeof(in), out, sizeof(out)), 5);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(out[5], '\0');
	assert_int_equal(decode(CS_BINARY, in, sizeof(in), out, 5), -1);
	assert_string_equal(err, "output buffer too small (5 bytes)");
}

static void
test_decode_out_too_small(void **state)
{
	static const uint8_t gsm[] = { 'a', 'b', 'c' };
	static const uint8_t ucs[] = { 0x67, 0xE5 };
	static const uint8_t lat[] = { 0xE9 };
	char out[8];

	(void)state;
	/* The NUL needs a byte too. */
	assert_int_equal(decode(CS_GSM7, gsm, 3, out, 3), -1);
	assert_string_equal(err, "output buffer too small (3 bytes)");
	assert_int_equal(decode(CS_GSM7, gsm, 3, out, 4), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(decode(CS_UCS2, ucs, 2, out, 3), -1);
	assert_int_equal(decode(CS_UCS2, ucs, 2, out, 4), 3);
	assert_int_equal(decode(CS_LATIN1, lat, 1, out, 2), -1);
	assert_int_equal(decode(CS_ASCII, gsm, 3, out, 0), -1);
	assert_int_equal(decode(CS_ASCII, gsm, 0, out, 1), 0);
	assert_string_equal(out, "");
}

/* The bound holds for the worst case of each charset. */
static void
test_utf8_bound(void **state)
{
	static const uint8_t gsm[] = { 0x10, 0x10, 0x1B, 0x65 };   /* ΔΔ€ */
	static const uint8_t lat[] = { 0xFF, 0xFF };
	static const uint8_t ucs[] = { 0xFF, 0xFF, 0xD8, 0x3D, 0xDE, 0x00 };
	char out[32];

	(void)state;
	assert_true((size_t)decode(CS_GSM7, gsm, sizeof(gsm), out, sizeof(out))
	    <= charset_utf8_bound(CS_GSM7, sizeof(gsm)));
	assert_true((size_t)decode(CS_LATIN1, lat, sizeof(lat), out,
	    sizeof(out)) <= charset_utf8_bound(CS_LATIN1, sizeof(lat)));
	assert_true((size_t)decode(CS_UCS2, ucs, sizeof(ucs), out, sizeof(out))
	    <= charset_utf8_bound(CS_UCS2, sizeof(ucs)));
	assert_int_equal(charset_utf8_bound(CS_GSM7, 160), 320);
	assert_int_equal(charset_utf8_bound(CS_ASCII, 160), 160);
	assert_int_equal(charset_utf8_bound(CS_BINARY, 140), 140);
	assert_int_equal(charset_utf8_bound(CS_UCS2, 140), 210);
	assert_int_equal(charset_utf8_bound(CS_LATIN1, 140), 280);
	assert_int_equal(charset_utf8_bound(CS_GSM7, SIZE_MAX), SIZE_MAX);
}

static void
test_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		size_t      len;
		bool        ok;
	} v[] = {
		{ "", 0, true },
		{ "\x7F", 1, true },
		{ "\xC2\x80", 2, true },               /* U+0080 */
		{ "\xDF\xBF", 2, true },               /* U+07FF */
		{ "\xE0\xA0\x80", 3, true },           /* U+0800 */
		{ "\xEF\xBF\xBF", 3, true },           /* U+FFFF */
		{ "\xF0\x90\x80\x80", 4, true },       /* U+10000 */
		{ "\xF4\x8F\xBF\xBF", 4, true },       /* U+10FFFF */
		{ "\x80", 1, false },                  /* stray continuation */
		{ "\xC0\x80", 2, false },              /* overlong NUL */
		{ "\xC1\xBF", 2, false },              /* overlong U+007F */
		{ "\xE0\x80\x80", 3, false },          /* overlong */
		{ "\xE0\x9F\xBF", 3, false },          /* overlong U+07FF */
		{ "\xF0\x80\x80\x80", 4, false },      /* overlong */
		{ "\xF0\x8F\xBF\xBF", 4, false },      /* overlong U+FFFF */
		{ "\xED\xA0\x80", 3, false },          /* U+D800 */
		{ "\xED\xBF\xBF", 3, false },          /* U+DFFF */
		{ "\xF4\x90\x80\x80", 4, false },      /* U+110000 */
		{ "\xF5\x80\x80\x80", 4, false },
		{ "\xFF", 1, false },
		{ "\xE6\x9F", 2, false },              /* truncated */
		{ "\xE6\x9F\x41", 3, false },          /* bad continuation */
		{ "ok\xC3", 3, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (utf8_valid(v[i].s, v[i].len) != v[i].ok)
			fail_msg("utf8_valid case %zu", i);
	}
}

static void
test_utf8_next_put(void **state)
{
	static const uint32_t cps[] = {
		0x0, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0x67E5, 0xFFFF,
		0x10000, 0x1F600, 0x10FFFF,
	};
	static const int lens[] = { 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4 };
	char buf[4];
	uint32_t cp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		assert_int_equal(utf8_put(cps[i], buf, sizeof(buf)), lens[i]);
		assert_int_equal(utf8_next(buf, (size_t)lens[i], &cp), lens[i]);
		assert_int_equal(cp, cps[i]);
		/* One byte short of room. */
		assert_int_equal(utf8_put(cps[i], buf, (size_t)lens[i] - 1), -1);
	}
	assert_int_equal(utf8_put(0xD800, buf, sizeof(buf)), -1);
	assert_int_equal(utf8_put(0x110000, buf, sizeof(buf)), -1);
	assert_int_equal(utf8_next("", 0, &cp), -1);
	assert_int_equal(utf8_next("\xE6\x9F\xA5", 2, &cp), -1);
	assert_int_equal(utf8_put(0x20AC, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "\xE2\x82\xAC", 3);
}

/*
 * The validator's and the UCS-2 encoder's fast paths (ASCII; three-byte
 * sequences led by E1..EF but ED) agree with the general decoder
 * (utf8_next, one code point at a time) on 100,000 strings built to sit
 * near every boundary: ASCII, every lead byte, continuation bytes,
 * truncations.
 */
static void
test_fast_paths_agree(void **state)
{
	static const uint8_t pool[] = { 'a', 0x7F, 0x80, 0x8F, 0x9F, 0xA0,
	    0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xE4, 0xE9, 0xEC, 0xED, 0xEE,
	    0xEF, 0xF0, 0xF4, 0xF5, 0xFF };
	uint32_t x = 12345;
	char s[16], why[64];
	uint8_t fast[64], ref[64];

	(void)state;
	for (int t = 0; t < 100000; t++) {
		size_t len, i = 0, o = 0;
		uint32_t cp;
		int n, ok = 1, got;

		x = x * 1103515245u + 12345u;
		len = (x >> 16) % 12;
		for (size_t k = 0; k < len; k++) {
			x = x * 1103515245u + 12345u;
			s[k] = (char)pool[(x >> 16) % sizeof(pool)];
		}
		while (i < len) {
			if ((n = utf8_next(s + i, len - i, &cp)) < 0) {
				ok = 0;
				break;
			}
			if (cp >= 0x10000) {
				uint32_t hi = 0xD800 + ((cp - 0x10000) >> 10);
				uint32_t lo = 0xDC00 + ((cp - 0x10000) & 0x3FF);

				ref[o++] = (uint8_t)(hi >> 8);
				ref[o++] = (uint8_t)hi;
				ref[o++] = (uint8_t)(lo >> 8);
				ref[o++] = (uint8_t)lo;
			} else {
				ref[o++] = (uint8_t)(cp >> 8);
				ref[o++] = (uint8_t)cp;
			}
			i += (size_t)n;
		}
		assert_int_equal(utf8_valid(s, len), ok);
		got = ucs2_encode(s, len, fast, sizeof(fast), why, sizeof(why));
		if (!ok) {
			assert_int_equal(got, -1);
			continue;
		}
		assert_int_equal(got, (int)o);
		assert_memory_equal(fast, ref, o);
	}
}

/* ---- GBK / GB18030 (CMPP Msg_Fmt 15) ---------------------------------- */

static void
test_gbk_chinese(void **state)
{
	/* 查询 身份证 in GBK: two-octet characters, an ASCII space. */
	static const uint8_t in[] = {
		0xB2, 0xE9, 0xD1, 0xAF, 0x20, 0xC9, 0xED, 0xB7, 0xDD,
		0xD6, 0xA4,
	};
	char out[64];

	(void)state;
	assert_int_equal(charset_gbk_decode(in, sizeof(in), out, sizeof(out)),
	    (int)strlen("查询 身份证"));
	assert_string_equal(out, "查询 身份证");
}

static void
test_gbk_ascii_and_four_octets(void **state)
{
	/* "CX " then GB18030 four-octet sequences: 0x81308130 is U+0080,
	 * 0x9439FC36 is U+1F600 (outside the BMP); 0xA2E3 is the euro. */
	static const uint8_t in[] = {
		'C', 'X', ' ', 0x81, 0x30, 0x81, 0x30, 0x94, 0x39, 0xFC, 0x36,
		0xA2, 0xE3,
	};
	char out[64];

	(void)state;
	assert_int_equal(charset_gbk_decode(in, sizeof(in), out, sizeof(out)),
	    3 + 2 + 4 + 3);
	assert_string_equal(out, "CX \xC2\x80\xF0\x9F\x98\x80\xE2\x82\xAC");
}

static void
test_gbk_invalid(void **state)
{
	static const struct {
		uint8_t b[4];
		size_t  n;
	} bad[] = {
		{ { 0x80 }, 1 },                   /* not a lead octet */
		{ { 0xFF }, 1 },
		{ { 0xB2, 0x20 }, 2 },             /* a bad trail octet */
		{ { 0xB2, 0x7F }, 2 },
		{ { 0xB2 }, 1 },                   /* truncated */
		{ { 0x81, 0x30, 0x81 }, 3 },       /* truncated four-octet */
		{ { 0x81, 0x30, 0x20, 0x30 }, 4 }, /* bad third octet */
	};
	char out[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(charset_gbk_decode(bad[i].b, bad[i].n, out,
		    sizeof(out)), -1);
		assert_string_equal(out, "");
	}
	/* Good text, then a truncated character at the end. */
	{
		static const uint8_t tail[] = { 0xB2, 0xE9, 0xD1 };

		assert_int_equal(charset_gbk_decode(tail, sizeof(tail), out,
		    sizeof(out)), -1);
		assert_string_equal(out, "");
	}
}

static void
test_gbk_out_too_small(void **state)
{
	static const uint8_t in[] = { 0xB2, 0xE9, 0xD1, 0xAF };  /* 查询 */
	char out[8];

	(void)state;
	/* 6 octets of UTF-8 and the NUL: 7 fits, 6 does not. */
	assert_int_equal(charset_gbk_decode(in, sizeof(in), out, 7), 6);
	assert_string_equal(out, "查询");
	assert_int_equal(charset_gbk_decode(in, sizeof(in), out, 6), -1);
	assert_string_equal(out, "");
	assert_int_equal(charset_gbk_decode(in, sizeof(in), out, 0), -1);
	/* The documented bound: len * 3 / 2 + 1. */
	assert_int_equal(charset_gbk_decode(in, sizeof(in), out,
	    sizeof(in) * 3 / 2 + 1), 6);
}

static void
test_gbk_empty(void **state)
{
	char out[4] = "xyz";

	(void)state;
	assert_int_equal(charset_gbk_decode(NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(charset_gbk_decode((const uint8_t *)"", 0, out, 1),
	    0);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dcs_map),
		T(test_dcs_unknown_message),
		T(test_gsm7_basic_vector),
		T(test_gsm7_euro_vector),
		T(test_gsm7_escape_table),
		T(test_gsm7_mixed_text),
		T(test_gsm7_table_round_trip),
		T(test_gsm7_unknown_escape),
		T(test_gsm7_trailing_escape),
		T(test_gsm7_byte_over_7f),
		T(test_gsm7_encode_errors),
		T(test_gsm7_encode_too_small),
		T(test_gsm7_fits),
		T(test_ascii),
		T(test_latin1),
		T(test_ucs2_chinese),
		T(test_ucs2_emoji),
		T(test_ucs2_max_code_point),
		T(test_ucs2_odd_length),
		T(test_ucs2_high_surrogate_at_end),
		T(test_ucs2_high_surrogate_then_bmp),
		T(test_ucs2_lone_low_surrogate),
		T(test_ucs2_encode_errors),
		T(test_binary),
		T(test_decode_out_too_small),
		T(test_utf8_bound),
		T(test_utf8_valid),
		T(test_utf8_next_put),
		T(test_fast_paths_agree),
		T(test_gbk_chinese),
		T(test_gbk_ascii_and_four_octets),
		T(test_gbk_invalid),
		T(test_gbk_out_too_small),
		T(test_gbk_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
