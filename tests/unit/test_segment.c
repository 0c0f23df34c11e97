/*
 * Unit tests for proto/segment: single/multi-part limits for GSM 03.38 and
 * UCS-2, UDH/SAR/payload modes, and the escape and surrogate pair cuts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/charset.h"
#include "proto/pdu.h"
#include "proto/segment.h"

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

/*
 * Text built from pieces: n copies of unit, appended at *len. The caller
 * frees the result of text_new.
 */
static char *
text_new(size_t cap)
{
	char *s = malloc(cap);

	assert_non_null(s);
	return s;
}

static void
text_add(char *s, size_t cap, size_t *len, const char *unit, size_t n)
{
	size_t ul = strlen(unit), i;

	assert_true(*len + ul * n <= cap);
	for (i = 0; i < n; i++) {
		memcpy(s + *len, unit, ul);
		*len += ul;
	}
}

static void
assert_udh(const struct seg_part *p, uint8_t ref, uint8_t total, uint8_t seq)
{
	const uint8_t want[] = { 0x05, 0x00, 0x03, ref, total, seq };

	assert_true(p->len >= 6);
	assert_memory_equal(p->data, want, sizeof(want));
	assert_int_equal(p->seq, seq);
}

static void
test_short_gsm(void **state)
{
	struct segments s;

	(void)state;
	assert_int_equal(segment_text("Hello", 5, SEG_UDH, 7, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.data_coding, DCS_GSM7);
	assert_int_equal(s.esm_class, 0);
	assert_int_equal(s.parts[0].len, 5);
	assert_int_equal(s.parts[0].seq, 1);
	assert_memory_equal(s.parts[0].data, "Hello", 5);
	segments_free(&s);
}

static void
test_short_ucs2(void **state)
{
	static const uint8_t want[] = {
		0x67, 0xE5, 0x8B, 0xE2, 0x8F, 0xDB, 0x5E, 0xA6,
	};
	struct segments s;

	(void)state;
	assert_int_equal(segment_text("查询进度", 12, SEG_UDH, 7, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.data_coding, DCS_UCS2);
	assert_int_equal(s.esm_class, 0);
	assert_int_equal(s.parts[0].len, 8);
	assert_memory_equal(s.parts[0].data, want, sizeof(want));
	segments_free(&s);
}

static void
test_gsm_160_one_part(void **state)
{
	struct segments s;
	char *t = text_new(200);
	size_t len = 0;

	(void)state;
	text_add(t, 200, &len, "a", 160);
	assert_int_equal(segment_text(t, len, SEG_UDH, 1, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.esm_class, 0);
	assert_int_equal(s.parts[0].len, 160);
	assert_memory_equal(s.parts[0].data, t, 160);
	segments_free(&s);
	free(t);
}

static void
test_gsm_161_two_parts(void **state)
{
	struct segments s;
	char *t = text_new(200);
	size_t len = 0;

	(void)state;
	text_add(t, 200, &len, "a", 161);
	assert_int_equal(segment_text(t, len, SEG_UDH, 0x42, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 2);
	assert_int_equal(s.mode, SEG_UDH);
	assert_int_equal(s.data_coding, DCS_GSM7);
	assert_int_equal(s.esm_class, PDU_ESM_UDHI);
	assert_int_equal(s.ref, 0x42);
	assert_int_equal(s.parts[0].len, 6 + 153);
	assert_int_equal(s.parts[1].len, 6 + 8);
	assert_udh(&s.parts[0], 0x42, 2, 1);
	assert_udh(&s.parts[1], 0x42, 2, 2);
	assert_memory_equal(s.parts[0].data + 6, t, 153);
	assert_memory_equal(s.parts[1].data + 6, t, 8);
	segments_free(&s);
	free(t);
}

/* An escape pair costs two septets against the 160 limit. */
static void
test_gsm_escape_counts_double(void **state)
{
	struct segments s;
	char *t = text_new(200);
	size_t len = 0;

	(void)state;
	text_add(t, 200, &len, "a", 158);
	text_add(t, 200, &len, "€", 1);
	assert_int_equal(segment_text(t, len, SEG_UDH, 1, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.parts[0].len, 160);
	segments_free(&s);

	text_add(t, 200, &len, "a", 1);
	assert_int_equal(segment_text(t, len, SEG_UDH, 1, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 2);
	segments_free(&s);
	free(t);
}

static void
test_escape_pair_at_boundary_moves(void **state)
{
	static const uint8_t tail[] = { 0x1B, 0x65, 'b', 'b' };
	struct segments s;
	char *t = text_new(200);
	size_t len = 0;

	(void)state;
	/* Septets 153 and 154 are the pair: all of it goes to part 2. */
	text_add(t, 200, &len, "a", 152);
	text_add(t, 200, &len, "€", 1);
	text_add(t, 200, &len, "b", 10);
	assert_int_equal(segment_text(t, len, SEG_UDH, 9, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 2);
	assert_int_equal(s.parts[0].len, 6 + 152);
	assert_int_equal(s.parts[0].data[6 + 151], 'a');
	assert_int_equal(s.parts[1].len, 6 + 12);
	assert_memory_equal(s.parts[1].data + 6, tail, sizeof(tail));
	segments_free(&s);
	free(t);
}

static void
test_escape_pair_fitting_stays(void **state)
{
	static const uint8_t end[] = { 'a', 0x1B, 0x65 };
	struct segments s;
	char *t = text_new(200);
	size_t len = 0;

	(void)state;
	/* Septets 152 and 153: the pair still fits part 1. */
	text_add(t, 200, &len, "a", 151);
	text_add(t, 200, &len, "€", 1);
	text_add(t, 200, &len, "b", 10);
	assert_int_equal(segment_text(t, len, SEG_UDH, 9, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 2);
	assert_int_equal(s.parts[0].len, 6 + 153);
	assert_memory_equal(s.parts[0].data + 6 + 150, end, sizeof(end));
	assert_int_equal(s.parts[1].len, 6 + 10);
	assert_int_equal(s.parts[1].data[6], 'b');
	segments_free(&s);
	free(t);
}

static void
test_ucs2_70_one_part(void **state)
{
	struct segments s;
	char *t = text_new(300);
	size_t len = 0;

	(void)state;
	text_add(t, 300, &len, "中", 70);
	assert_int_equal(segment_text(t, len, SEG_UDH, 1, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.data_coding, DCS_UCS2);
	assert_int_equal(s.esm_class, 0);
	assert_int_equal(s.parts[0].len, 140);
	assert_int_equal(s.parts[0].data[0], 0x4E);
	assert_int_equal(s.parts[0].data[1], 0x2D);
	segments_free(&s);
	free(t);
}

static void
test_ucs2_71_two_parts(void **state)
{
	struct segments s;
	char *t = text_new(300);
	size_t len = 0;

	(void)state;
	text_add(t, 300, &len, "中", 71);
	assert_int_equal(segment_text(t, len, SEG_UDH, 3, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 2);
	assert_int_equal(s.esm_class, PDU_ESM_UDHI);
	assert_int_equal(s.parts[0].len, 6 + 134);
	assert_int_equal(s.parts[1].len, 6 + 8);
	assert_udh(&s.parts[0], 3, 2, 1);
	assert_udh(&s.parts[1], 3, 2, 2);
	segments_free(&s);
	free(t);
}

/* Also the one mixed-script case: one non-GSM character makes it UCS-2. */
static void
test_gsm_text_with_one_chinese_char(void **state)
{
	struct segments s;
	char *t = text_new(300);
	size_t len = 0;

	(void)state;
	text_add(t, 300, &len, "a", 69);
	text_add(t, 300, &len, "中", 1);
	assert_int_equal(segment_text(t, len, SEG_UDH, 1, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.data_coding, DCS_UCS2);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.parts[0].len, 140);
	assert_int_equal(s.parts[0].data[0], 0x00);
	assert_int_equal(s.parts[0].data[1], 'a');
	segments_free(&s);
	free(t);
}

static void
test_chinese_200_three_parts(void **state)
{
	struct segments s;
	char *t = text_new(1000), out[1000];
	uint8_t joined[400];
	size_t len = 0, jlen = 0;
	int i;

	(void)state;
	text_add(t, 1000, &len, "身份证办理进度查询中", 20);
	assert_int_equal(len, 600);
	assert_int_equal(segment_text(t, len, SEG_UDH, 0xA5, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 3);
	assert_int_equal(s.data_coding, DCS_UCS2);
	assert_int_equal(s.esm_class, PDU_ESM_UDHI);
	assert_int_equal(s.parts[0].len, 6 + 67 * 2);
	assert_int_equal(s.parts[1].len, 6 + 67 * 2);
	assert_int_equal(s.parts[2].len, 6 + 66 * 2);
	for (i = 0; i < 3; i++) {
		assert_udh(&s.parts[i], 0xA5, 3, (uint8_t)(i + 1));
		memcpy(joined + jlen, s.parts[i].data + 6, s.parts[i].len - 6);
		jlen += s.parts[i].len - 6;
	}
	assert_int_equal(charset_decode(CS_UCS2, joined, jlen, out,
	    sizeof(out), err, sizeof(err)), 600);
	assert_memory_equal(out, t, 600);
	segments_free(&s);
	free(t);
}

static void
test_surrogate_pair_at_boundary_moves(void **state)
{
	static const uint8_t pair[] = { 0xD8, 0x3D, 0xDE, 0x00, 0x4E, 0x2D };
	struct segments s;
	char *t = text_new(300);
	size_t len = 0;

	(void)state;
	/* Units 67 and 68 are the pair: all of it goes to part 2. */
	text_add(t, 300, &len, "中", 66);
	text_add(t, 300, &len, "\xF0\x9F\x98\x80", 1);
	text_add(t, 300, &len, "中", 10);
	assert_int_equal(segment_text(t, len, SEG_UDH, 5, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 2);
	assert_int_equal(s.parts[0].len, 6 + 66 * 2);
	assert_int_equal(s.parts[1].len, 6 + 12 * 2);
	assert_memory_equal(s.parts[1].data + 6, pair, sizeof(pair));
	segments_free(&s);
	free(t);
}

static void
test_surrogate_pair_fitting_stays(void **state)
{
	static const uint8_t end[] = { 0xD8, 0x3D, 0xDE, 0x00 };
	struct segments s;
	char *t = text_new(300);
	size_t len = 0;

	(void)state;
	text_add(t, 300, &len, "中", 65);
	text_add(t, 300, &len, "\xF0\x9F\x98\x80", 1);
	text_add(t, 300, &len, "中", 10);
	assert_int_equal(segment_text(t, len, SEG_UDH, 5, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 2);
	assert_int_equal(s.parts[0].len, 6 + 134);
	assert_memory_equal(s.parts[0].data + 6 + 130, end, sizeof(end));
	assert_int_equal(s.parts[1].len, 6 + 20);
	segments_free(&s);
	free(t);
}

static void
test_udh_ref_low_byte(void **state)
{
	struct segments s;
	char *t = text_new(200);
	size_t len = 0;

	(void)state;
	text_add(t, 200, &len, "x", 170);
	assert_int_equal(segment_text(t, len, SEG_UDH, 0x1234, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.ref, 0x34);
	assert_udh(&s.parts[0], 0x34, 2, 1);
	segments_free(&s);
	free(t);
}

static void
test_sar_mode(void **state)
{
	struct segments s;
	char *t = text_new(200);
	size_t len = 0;

	(void)state;
	text_add(t, 200, &len, "a", 161);
	assert_int_equal(segment_text(t, len, SEG_SAR, 0x1234, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.mode, SEG_SAR);
	assert_int_equal(s.total, 2);
	assert_int_equal(s.esm_class, 0);
	assert_int_equal(s.ref, 0x1234);
	assert_int_equal(s.parts[0].len, 153);
	assert_int_equal(s.parts[1].len, 8);
	assert_int_equal(s.parts[0].seq, 1);
	assert_int_equal(s.parts[1].seq, 2);
	assert_memory_equal(s.parts[0].data, t, 153);
	assert_memory_equal(s.parts[1].data, t, 8);
	segments_free(&s);
	free(t);
}

static void
test_sar_mode_ucs2(void **state)
{
	struct segments s;
	char *t = text_new(1000);
	size_t len = 0;

	(void)state;
	text_add(t, 1000, &len, "身份证办理进度查询中", 20);
	assert_int_equal(segment_text(t, len, SEG_SAR, 0xBEEF, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 3);
	assert_int_equal(s.esm_class, 0);
	assert_int_equal(s.parts[0].len, 134);
	assert_int_equal(s.parts[1].len, 134);
	assert_int_equal(s.parts[2].len, 132);
	assert_int_equal(s.parts[0].data[0], 0x8E);   /* 身 U+8EAB */
	assert_int_equal(s.parts[0].data[1], 0xAB);
	segments_free(&s);
	free(t);
}

static void
test_payload_single_part(void **state)
{
	struct segments s;
	char *t = text_new(1100);
	size_t len = 0;

	(void)state;
	text_add(t, 1100, &len, "a", 300);
	assert_int_equal(segment_text(t, len, SEG_PAYLOAD, 1, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.mode, SEG_PAYLOAD);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.esm_class, 0);
	assert_int_equal(s.parts[0].len, 300);
	assert_memory_equal(s.parts[0].data, t, 300);
	segments_free(&s);

	/* Exactly PDU_PAYLOAD_MAX octets still fit. */
	text_add(t, 1100, &len, "a", PDU_PAYLOAD_MAX - 300);
	assert_int_equal(segment_text(t, len, SEG_PAYLOAD, 1, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.mode, SEG_PAYLOAD);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.parts[0].len, PDU_PAYLOAD_MAX);
	segments_free(&s);
	free(t);
}

static void
test_payload_single_part_ucs2(void **state)
{
	struct segments s;
	char *t = text_new(2000);
	size_t len = 0;

	(void)state;
	text_add(t, 2000, &len, "中", PDU_PAYLOAD_MAX / 2);
	assert_int_equal(segment_text(t, len, SEG_PAYLOAD, 1, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.mode, SEG_PAYLOAD);
	assert_int_equal(s.data_coding, DCS_UCS2);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.parts[0].len, PDU_PAYLOAD_MAX);
	segments_free(&s);
	free(t);
}

static void
test_payload_fallback_to_udh(void **state)
{
	struct segments s;
	char *t = text_new(1100);
	size_t len = 0;

	(void)state;
	text_add(t, 1100, &len, "a", PDU_PAYLOAD_MAX + 1);
	assert_int_equal(segment_text(t, len, SEG_PAYLOAD, 0x77, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.mode, SEG_UDH);
	assert_int_equal(s.esm_class, PDU_ESM_UDHI);
	/* 1025 = 6 * 153 + 107 */
	assert_int_equal(s.total, 7);
	assert_int_equal(s.parts[5].len, 6 + 153);
	assert_int_equal(s.parts[6].len, 6 + 107);
	assert_udh(&s.parts[6], 0x77, 7, 7);
	segments_free(&s);
	free(t);
}

static void
test_max_parts(void **state)
{
	struct segments s;
	size_t cap = 255 * 153 + 1, len = 0;
	char *t = text_new(cap);

	(void)state;
	text_add(t, cap, &len, "a", 255 * 153);
	assert_int_equal(segment_text(t, len, SEG_UDH, 1, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 255);
	assert_udh(&s.parts[254], 1, 255, 255);
	assert_int_equal(s.parts[254].len, 6 + 153);
	segments_free(&s);

	text_add(t, cap, &len, "a", 1);
	assert_int_equal(segment_text(t, len, SEG_UDH, 1, &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "text needs more than 255 parts");
	assert_int_equal(s.total, 0);
	assert_null(s.buf);
	segments_free(&s);
	free(t);
}

static void
test_too_long_text(void **state)
{
	struct segments s;
	size_t cap = 255 * 153 * 2 + 1, len = 0;
	char *t = text_new(cap);

	(void)state;
	text_add(t, cap, &len, "a", cap);
	assert_int_equal(segment_text(t, len, SEG_SAR, 1, &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "text of 78031 bytes needs more than 255 parts");
	free(t);
}

static void
test_empty_and_invalid(void **state)
{
	struct segments s;

	(void)state;
	assert_int_equal(segment_text("", 0, SEG_UDH, 1, &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "empty text");
	assert_int_equal(segment_text("ab\xC0\x80", 4, SEG_UDH, 1, &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "text is not valid UTF-8");
	assert_int_equal(segment_text("\xED\xA0\x80", 3, SEG_UDH, 1, &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "text is not valid UTF-8");
	assert_null(s.buf);
	assert_int_equal(s.total, 0);
}

static void
test_segments_free_safe(void **state)
{
	struct segments s;

	(void)state;
	memset(&s, 0, sizeof(s));
	segments_free(&s);
	segments_free(&s);
	assert_int_equal(segment_text("hi", 2, SEG_UDH, 1, &s, err,
	    sizeof(err)), 0);
	assert_non_null(s.buf);
	segments_free(&s);
	assert_null(s.buf);
	assert_int_equal(s.total, 0);
	segments_free(&s);
}

/* SEG_CMPP: ASCII goes as octets, 140 in one message, 134 a part with the
 * 6-octet UDH (CMPP's Msg_Fmt 0); '@' and '{' are ASCII, not GSM escapes. */
static void
test_cmpp_ascii(void **state)
{
	struct segments s;
	char *t = text_new(300);
	size_t len = 0;

	(void)state;
	text_add(t, 300, &len, "a{@", 46);
	text_add(t, 300, &len, "xx", 1);                 /* 140 octets */
	assert_int_equal(segment_text(t, len, SEG_CMPP, 9, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 1);
	assert_int_equal(s.data_coding, DCS_IA5);
	assert_int_equal(s.esm_class, 0);
	assert_int_equal(s.parts[0].len, 140);
	assert_memory_equal(s.parts[0].data, t, 140);
	segments_free(&s);

	text_add(t, 300, &len, "b", 1);                  /* 141 */
	assert_int_equal(segment_text(t, len, SEG_CMPP, 0x1234, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 2);
	assert_int_equal(s.data_coding, DCS_IA5);
	assert_int_equal(s.esm_class, PDU_ESM_UDHI);
	assert_int_equal(s.mode, SEG_CMPP);
	assert_udh(&s.parts[0], 0x34, 2, 1);
	assert_udh(&s.parts[1], 0x34, 2, 2);
	assert_int_equal(s.parts[0].len, 6 + 134);
	assert_int_equal(s.parts[1].len, 6 + 7);
	assert_memory_equal(s.parts[1].data + 6, t + 134, 7);
	segments_free(&s);
	free(t);
}

/* SEG_CMPP with anything outside ASCII: UCS-2 as in SEG_UDH. */
static void
test_cmpp_ucs2(void **state)
{
	struct segments s;
	char *t = text_new(400);
	size_t len = 0;

	(void)state;
	text_add(t, 400, &len, "您", 71);
	assert_int_equal(segment_text(t, len, SEG_CMPP, 5, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.data_coding, DCS_UCS2);
	assert_int_equal(s.total, 2);
	assert_udh(&s.parts[0], 5, 2, 1);
	assert_int_equal(s.parts[0].len, 6 + 134);
	segments_free(&s);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_short_gsm),
		T(test_short_ucs2),
		T(test_gsm_160_one_part),
		T(test_gsm_161_two_parts),
		T(test_gsm_escape_counts_double),
		T(test_escape_pair_at_boundary_moves),
		T(test_escape_pair_fitting_stays),
		T(test_ucs2_70_one_part),
		T(test_ucs2_71_two_parts),
		T(test_gsm_text_with_one_chinese_char),
		T(test_chinese_200_three_parts),
		T(test_surrogate_pair_at_boundary_moves),
		T(test_surrogate_pair_fitting_stays),
		T(test_udh_ref_low_byte),
		T(test_sar_mode),
		T(test_sar_mode_ucs2),
		T(test_payload_single_part),
		T(test_payload_single_part_ucs2),
		T(test_payload_fallback_to_udh),
		T(test_max_parts),
		T(test_too_long_text),
		T(test_empty_and_invalid),
		T(test_segments_free_safe),
		T(test_cmpp_ascii),
		T(test_cmpp_ucs2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
