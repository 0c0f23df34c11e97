/*
 * Unit tests for proto/udh: concatenation IEs (8- and 16-bit references),
 * skipped IEs, and every malformed length.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/udh.h"

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
parse(const uint8_t *sm, size_t len, struct udh_concat *c, size_t *hdr_len)
{
	return udh_parse(sm, len, c, hdr_len, err, sizeof(err));
}

static void
test_concat8(void **state)
{
	static const uint8_t sm[] = { 0x05, 0x00, 0x03, 0xAB, 0x03, 0x02,
	    'h', 'i' };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), 0);
	assert_int_equal(hl, 6);
	assert_int_equal(c.present, 1);
	assert_int_equal(c.ref, 0xAB);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.seq, 2);
}

static void
test_concat16(void **state)
{
	static const uint8_t sm[] = { 0x06, 0x08, 0x04, 0x12, 0x34, 0x05, 0x05,
	    0x67, 0xE5 };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), 0);
	assert_int_equal(hl, 7);
	assert_int_equal(c.present, 1);
	assert_int_equal(c.ref, 0x1234);
	assert_int_equal(c.total, 5);
	assert_int_equal(c.seq, 5);
}

static void
test_other_ies_skipped(void **state)
{
	/* National language single shift (0x24), an empty IE (0x70), then
	 * the concatenation IE, then application port addressing (0x04). */
	static const uint8_t sm[] = {
		0x0E,
		0x24, 0x01, 0x01,
		0x70, 0x00,
		0x00, 0x03, 0x7F, 0x02, 0x01,
		0x04, 0x02, 0x0B, 0x84,
		'x',
	};
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), 0);
	assert_int_equal(hl, 15);
	assert_int_equal(c.present, 1);
	assert_int_equal(c.ref, 0x7F);
	assert_int_equal(c.total, 2);
	assert_int_equal(c.seq, 1);
}

static void
test_no_concat_ie(void **state)
{
	static const uint8_t sm[] = { 0x03, 0x24, 0x01, 0x01, 'a', 'b' };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), 0);
	assert_int_equal(hl, 4);
	assert_int_equal(c.present, 0);
}

static void
test_empty_udh(void **state)
{
	static const uint8_t sm[] = { 0x00, 'a' };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), 0);
	assert_int_equal(hl, 1);
	assert_int_equal(c.present, 0);
	/* A UDH that fills the whole message leaves no text: still valid. */
	assert_int_equal(parse(sm, 1, &c, &hl), 0);
	assert_int_equal(hl, 1);
}

static void
test_last_concat_ie_wins(void **state)
{
	static const uint8_t sm[] = {
		0x0B,
		0x00, 0x03, 0x01, 0x02, 0x01,
		0x08, 0x04, 0xBE, 0xEF, 0x03, 0x02,
	};
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), 0);
	assert_int_equal(hl, 12);
	assert_int_equal(c.ref, 0xBEEF);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.seq, 2);
}

static void
test_empty_message(void **state)
{
	static const uint8_t sm[] = { 0x00 };
	struct udh_concat c;
	size_t hl = 99;

	(void)state;
	assert_int_equal(parse(sm, 0, &c, &hl), -1);
	assert_string_equal(err, "UDH indicated but short_message is empty");
	assert_int_equal(hl, 0);
}

static void
test_udhl_past_end(void **state)
{
	static const uint8_t sm[] = { 0x05, 0x00, 0x03, 0x01 };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), -1);
	assert_string_equal(err,
	    "UDH length 5 runs past the end (3 bytes after it)");
	assert_int_equal(c.present, 0);
}

static void
test_ie_length_past_end(void **state)
{
	/* UDHL fits the message, but the IE claims 5 bytes of a 3-byte rest. */
	static const uint8_t sm[] = { 0x05, 0x00, 0x05, 0x01, 0x02, 0x01,
	    'a', 'b', 'c' };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), -1);
	assert_string_equal(err, "IE 0x00 length 5 runs past the UDH end");
	assert_int_equal(c.present, 0);
}

static void
test_ie_past_end_after_good_concat(void **state)
{
	static const uint8_t sm[] = { 0x07, 0x00, 0x03, 0x01, 0x02, 0x01,
	    0x24, 0x09 };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), -1);
	assert_string_equal(err, "IE 0x24 length 9 runs past the UDH end");
	/* Nothing half-parsed is left behind. */
	assert_int_equal(c.present, 0);
	assert_int_equal(c.ref, 0);
}

static void
test_truncated_ie_header(void **state)
{
	static const uint8_t sm[] = { 0x06, 0x00, 0x03, 0x01, 0x02, 0x01, 0x24 };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(sm, sizeof(sm), &c, &hl), -1);
	assert_string_equal(err, "truncated IE header at UDH byte 6");
}

static void
test_concat_wrong_length(void **state)
{
	static const uint8_t c8[] = { 0x04, 0x00, 0x02, 0x02, 0x01 };
	static const uint8_t c16[] = { 0x05, 0x08, 0x03, 0x01, 0x02, 0x01 };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(c8, sizeof(c8), &c, &hl), -1);
	assert_string_equal(err,
	    "concatenation IE 0x00 length 2, expected 3");
	assert_int_equal(parse(c16, sizeof(c16), &c, &hl), -1);
	assert_string_equal(err,
	    "concatenation IE 0x08 length 3, expected 4");
}

static void
test_concat_bad_numbers(void **state)
{
	static const uint8_t total0[] = { 0x05, 0x00, 0x03, 0x01, 0x00, 0x01 };
	static const uint8_t seq0[] = { 0x05, 0x00, 0x03, 0x01, 0x02, 0x00 };
	static const uint8_t seqbig[] = { 0x06, 0x08, 0x04, 0x00, 0x01, 0x02,
	    0x03 };
	struct udh_concat c;
	size_t hl;

	(void)state;
	assert_int_equal(parse(total0, sizeof(total0), &c, &hl), -1);
	assert_string_equal(err, "concatenation IE part 1 of 0");
	assert_int_equal(parse(seq0, sizeof(seq0), &c, &hl), -1);
	assert_string_equal(err, "concatenation IE part 0 of 2");
	assert_int_equal(parse(seqbig, sizeof(seqbig), &c, &hl), -1);
	assert_string_equal(err, "concatenation IE part 3 of 2");
	assert_int_equal(c.present, 0);
}

static void
test_write_concat8(void **state)
{
	static const uint8_t want[] = { 0x05, 0x00, 0x03, 0x2A, 0x03, 0x01 };
	struct udh_concat c;
	uint8_t buf[6];
	size_t hl;

	(void)state;
	assert_int_equal(udh_write_concat8(buf, 0x2A, 3, 1), 6);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(parse(buf, sizeof(buf), &c, &hl), 0);
	assert_int_equal(hl, 6);
	assert_int_equal(c.present, 1);
	assert_int_equal(c.ref, 0x2A);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.seq, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_concat8),
		T(test_concat16),
		T(test_other_ies_skipped),
		T(test_no_concat_ie),
		T(test_empty_udh),
		T(test_last_concat_ie_wins),
		T(test_empty_message),
		T(test_udhl_past_end),
		T(test_ie_length_past_end),
		T(test_ie_past_end_after_good_concat),
		T(test_truncated_ie_header),
		T(test_concat_wrong_length),
		T(test_concat_bad_numbers),
		T(test_write_concat8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
