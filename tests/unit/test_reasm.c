/*
 * Unit tests for proto/reasm: ordering, duplicates, bad parts, key
 * separation, timeout and eviction, and the outbound -> inbound round trip
 * through segment, udh and charset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/charset.h"
#include "proto/reasm.h"
#include "proto/segment.h"
#include "proto/udh.h"

#define TIMEOUT 60000

/* Error text of the call under test; cleared before every test. */
static char err[128];

/* What the expiry callback saw. */
struct drops {
	int                  n;
	struct reasm_dropped d[8];
	char                 src[8][32], dst[8][32];
};

static int
setup(void **state)
{
	err[0] = '\0';
	*state = reasm_new(16, TIMEOUT);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	reasm_free(*state);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static int
add(struct reasm *r, const char *src, uint16_t ref, uint8_t total,
    uint8_t seq, const char *data, uint64_t now, struct reasm_msg *out)
{
	return reasm_add(r, src, "10086", ref, total, seq, 0x00,
	    (const uint8_t *)data, strlen(data), now, out, err, sizeof(err));
}

static void
on_drop(void *arg, const struct reasm_dropped *d)
{
	struct drops *dr = arg;

	assert_true(dr->n < 8);
	dr->d[dr->n] = *d;
	/* d's strings live only during the callback: keep copies. */
	strncpy(dr->src[dr->n], d->src, sizeof(dr->src[0]) - 1);
	strncpy(dr->dst[dr->n], d->dst, sizeof(dr->dst[0]) - 1);
	dr->n++;
}

static void
test_single_part_completes(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;

	assert_int_equal(reasm_add(r, "8613800000000", "10086", 1, 1, 1, 0x08,
	    (const uint8_t *)"\x67\xE5", 2, 0, &m, err, sizeof(err)),
	    REASM_COMPLETE);
	assert_int_equal(m.len, 2);
	assert_int_equal(m.total, 1);
	assert_int_equal(m.data_coding, 0x08);
	assert_memory_equal(m.data, "\x67\xE5", 2);
	assert_int_equal(reasm_count(r), 0);
	free(m.data);
}

static void
test_in_order(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;

	assert_int_equal(add(r, "a", 7, 2, 1, "hello ", 0, &m), REASM_PENDING);
	assert_null(m.data);
	assert_int_equal(reasm_count(r), 1);
	assert_int_equal(add(r, "a", 7, 2, 2, "world", 10, &m), REASM_COMPLETE);
	assert_int_equal(m.len, 11);
	assert_int_equal(m.total, 2);
	assert_int_equal(m.data_coding, 0);
	assert_memory_equal(m.data, "hello world", 11);
	assert_int_equal(reasm_count(r), 0);
	free(m.data);
}

static void
test_out_of_order(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;

	assert_int_equal(add(r, "a", 7, 3, 3, "C", 0, &m), REASM_PENDING);
	assert_int_equal(add(r, "a", 7, 3, 1, "A", 1, &m), REASM_PENDING);
	assert_int_equal(add(r, "a", 7, 3, 2, "B", 2, &m), REASM_COMPLETE);
	assert_int_equal(m.len, 3);
	assert_memory_equal(m.data, "ABC", 3);
	free(m.data);
}

static void
test_duplicate_first_wins(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;

	assert_int_equal(add(r, "a", 7, 2, 1, "first", 0, &m), REASM_PENDING);
	assert_int_equal(add(r, "a", 7, 2, 1, "second", 1, &m),
	    REASM_DUPLICATE);
	assert_null(m.data);
	assert_int_equal(reasm_count(r), 1);
	assert_int_equal(add(r, "a", 7, 2, 2, "!", 2, &m), REASM_COMPLETE);
	assert_int_equal(m.len, 6);
	assert_memory_equal(m.data, "first!", 6);
	free(m.data);
}

static void
test_data_coding_mismatch(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;

	assert_int_equal(add(r, "a", 7, 2, 1, "x", 0, &m), REASM_PENDING);
	assert_int_equal(reasm_add(r, "a", "10086", 7, 2, 2, 0x08,
	    (const uint8_t *)"\x00y", 2, 1, &m, err, sizeof(err)), REASM_ERROR);
	assert_string_equal(err, "part 2 of 2 from a (ref 7): data_coding "
	    "0x08 differs from the set's 0x00");
	/* The set is untouched and still completes with the right coding. */
	assert_int_equal(reasm_count(r), 1);
	assert_int_equal(add(r, "a", 7, 2, 2, "y", 2, &m), REASM_COMPLETE);
	assert_memory_equal(m.data, "xy", 2);
	free(m.data);
}

static void
test_bad_seq_total(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;

	assert_int_equal(add(r, "a", 7, 3, 0, "x", 0, &m), REASM_ERROR);
	assert_string_equal(err, "part 0 of 3 from a (ref 7) is out of range");
	assert_int_equal(add(r, "a", 7, 3, 4, "x", 0, &m), REASM_ERROR);
	assert_string_equal(err, "part 4 of 3 from a (ref 7) is out of range");
	assert_int_equal(add(r, "a", 7, 0, 1, "x", 0, &m), REASM_ERROR);
	assert_string_equal(err, "part 1 of 0 from a (ref 7) is out of range");
	assert_int_equal(add(r, "a", 7, 0, 0, "x", 0, &m), REASM_ERROR);
	assert_int_equal(reasm_count(r), 0);
	assert_null(m.data);
}

static void
test_part_too_large(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;
	uint8_t *big = calloc(1, 65536);

	assert_non_null(big);
	assert_int_equal(reasm_add(r, "a", "b", 1, 2, 1, 0x04, big, 65536, 0,
	    &m, err, sizeof(err)), REASM_ERROR);
	assert_string_equal(err, "part 1 of 2 from a is 65536 bytes "
	    "(max 65535)");
	assert_int_equal(reasm_add(r, "a", "b", 1, 2, 1, 0x04, big, 65535, 0,
	    &m, err, sizeof(err)), REASM_PENDING);
	assert_int_equal(reasm_add(r, "a", "b", 1, 2, 2, 0x04, big, 65535, 0,
	    &m, err, sizeof(err)), REASM_COMPLETE);
	assert_int_equal(m.len, 2 * 65535);
	free(m.data);
	free(big);
}

static void
test_empty_parts(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;

	assert_int_equal(add(r, "a", 7, 2, 1, "", 0, &m), REASM_PENDING);
	assert_int_equal(add(r, "a", 7, 2, 1, "", 0, &m), REASM_DUPLICATE);
	assert_int_equal(add(r, "a", 7, 2, 2, "", 0, &m), REASM_COMPLETE);
	assert_int_equal(m.len, 0);
	assert_non_null(m.data);
	free(m.data);
}

static void
test_senders_do_not_mix(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;

	assert_int_equal(add(r, "8613800000001", 9, 2, 1, "A1", 0, &m),
	    REASM_PENDING);
	assert_int_equal(add(r, "8613800000002", 9, 2, 2, "B2", 1, &m),
	    REASM_PENDING);
	/* Same sender and ref, other recipient. */
	assert_int_equal(reasm_add(r, "8613800000001", "10010", 9, 2, 2, 0,
	    (const uint8_t *)"C2", 2, 2, &m, err, sizeof(err)), REASM_PENDING);
	/* Same sender, recipient and ref, other total. */
	assert_int_equal(add(r, "8613800000001", 9, 3, 2, "D2", 3, &m),
	    REASM_PENDING);
	assert_int_equal(reasm_count(r), 4);

	assert_int_equal(add(r, "8613800000002", 9, 2, 1, "B1", 4, &m),
	    REASM_COMPLETE);
	assert_memory_equal(m.data, "B1B2", 4);
	free(m.data);
	assert_int_equal(add(r, "8613800000001", 9, 2, 2, "A2", 5, &m),
	    REASM_COMPLETE);
	assert_memory_equal(m.data, "A1A2", 4);
	free(m.data);
	assert_int_equal(reasm_count(r), 2);
}

/* Keys built from the same characters split differently stay apart. */
static void
test_key_boundaries(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;

	assert_int_equal(reasm_add(r, "12", "3", 1, 2, 1, 0,
	    (const uint8_t *)"x", 1, 0, &m, err, sizeof(err)), REASM_PENDING);
	assert_int_equal(reasm_add(r, "1", "23", 1, 2, 2, 0,
	    (const uint8_t *)"y", 1, 0, &m, err, sizeof(err)), REASM_PENDING);
	assert_int_equal(reasm_count(r), 2);
}

static void
test_timeout_drops_incomplete(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;
	struct drops dr = { 0 };

	assert_int_equal(reasm_next_expiry(r, 0), UINT64_MAX);
	assert_int_equal(add(r, "8613800000001", 0x21, 3, 1, "a", 1000, &m),
	    REASM_PENDING);
	assert_int_equal(add(r, "8613800000001", 0x21, 3, 3, "c", 5000, &m),
	    REASM_PENDING);
	assert_int_equal(add(r, "8613800000002", 0x22, 2, 1, "x", 30000, &m),
	    REASM_PENDING);
	assert_int_equal(reasm_next_expiry(r, 1000), TIMEOUT);
	assert_int_equal(reasm_next_expiry(r, 50000), TIMEOUT - 49000);

	assert_int_equal(reasm_expire(r, 1000 + TIMEOUT - 1, on_drop, &dr), 0);
	assert_int_equal(dr.n, 0);
	assert_int_equal(reasm_next_expiry(r, 1000 + TIMEOUT), 0);
	assert_int_equal(reasm_expire(r, 1000 + TIMEOUT, on_drop, &dr), 1);
	assert_int_equal(dr.n, 1);
	assert_string_equal(dr.src[0], "8613800000001");
	assert_string_equal(dr.dst[0], "10086");
	assert_int_equal(dr.d[0].ref, 0x21);
	assert_int_equal(dr.d[0].total, 3);
	assert_int_equal(dr.d[0].have, 2);
	assert_int_equal(dr.d[0].age_ms, TIMEOUT);
	assert_int_equal(reasm_count(r), 1);
	/* The other set arrived at 30000: 31000 of its 60000 ms are gone. */
	assert_int_equal(reasm_next_expiry(r, 1000 + TIMEOUT), 29000);

	/* A late part of the dropped set starts a new, incomplete set. */
	assert_int_equal(add(r, "8613800000001", 0x21, 3, 2, "b", 62000, &m),
	    REASM_PENDING);
	assert_int_equal(reasm_count(r), 2);

	assert_int_equal(reasm_expire(r, 200000, NULL, NULL), 2);
	assert_int_equal(reasm_count(r), 0);
	assert_int_equal(reasm_next_expiry(r, 200000), UINT64_MAX);
}

static void
test_eviction_at_max_sets(void **state)
{
	struct reasm *r = reasm_new(2, TIMEOUT);
	struct reasm_msg m;
	struct drops dr = { 0 };

	(void)state;
	assert_non_null(r);
	assert_int_equal(add(r, "s1", 1, 2, 1, "a", 100, &m), REASM_PENDING);
	assert_int_equal(add(r, "s2", 2, 3, 1, "b", 200, &m), REASM_PENDING);
	assert_int_equal(add(r, "s2", 2, 3, 2, "b", 250, &m), REASM_PENDING);
	assert_int_equal(reasm_next_expiry(r, 300), TIMEOUT - 200);
	/* A third set evicts the oldest, s1. */
	assert_int_equal(add(r, "s3", 3, 2, 1, "c", 400, &m), REASM_PENDING);
	assert_int_equal(reasm_count(r), 2);
	/* The eviction waits to be reported: due now. */
	assert_int_equal(reasm_next_expiry(r, 400), 0);
	/* s1's part 2 no longer completes anything. */
	assert_int_equal(add(r, "s1", 1, 2, 2, "a", 500, &m), REASM_PENDING);
	assert_int_equal(reasm_count(r), 2);   /* evicted s2 this time */

	assert_int_equal(reasm_expire(r, 600, on_drop, &dr), 2);
	assert_int_equal(dr.n, 2);
	assert_string_equal(dr.src[0], "s1");
	assert_int_equal(dr.d[0].have, 1);
	assert_int_equal(dr.d[0].total, 2);
	assert_int_equal(dr.d[0].age_ms, 300);
	assert_string_equal(dr.src[1], "s2");
	assert_int_equal(dr.d[1].ref, 2);
	assert_int_equal(dr.d[1].have, 2);
	assert_int_equal(dr.d[1].total, 3);
	assert_int_equal(dr.d[1].age_ms, 300);
	assert_int_equal(reasm_next_expiry(r, 600), TIMEOUT - 200);

	/* The survivors are s3 and the new s1. */
	assert_int_equal(add(r, "s3", 3, 2, 2, "C", 700, &m), REASM_COMPLETE);
	assert_memory_equal(m.data, "cC", 2);
	free(m.data);
	assert_int_equal(reasm_count(r), 1);
	reasm_free(r);
}

/* Evictions never reported: headers are bounded, the count is kept. */
static void
test_eviction_flood(void **state)
{
	struct reasm *r = reasm_new(2, TIMEOUT);
	struct reasm_msg m;
	struct drops dr = { 0 };
	uint16_t ref;

	(void)state;
	assert_non_null(r);
	for (ref = 0; ref < 10; ref++)
		assert_int_equal(add(r, "s", ref, 2, 1, "z", ref, &m),
		    REASM_PENDING);
	assert_int_equal(reasm_count(r), 2);
	/* 8 evicted: 2 headers kept for the callback, 6 only counted. */
	assert_int_equal(reasm_expire(r, 10, on_drop, &dr), 8);
	assert_int_equal(dr.n, 2);
	assert_int_equal(dr.d[0].ref, 6);
	assert_int_equal(dr.d[1].ref, 7);
	assert_int_equal(reasm_expire(r, 10, on_drop, &dr), 0);
	reasm_free(r);
}

/* Freeing a table with pending and evicted sets leaks nothing (ASan). */
static void
test_free_with_pending(void **state)
{
	struct reasm *r = reasm_new(1, TIMEOUT);
	struct reasm_msg m;

	(void)state;
	assert_non_null(r);
	assert_int_equal(add(r, "s", 1, 3, 1, "x", 0, &m), REASM_PENDING);
	assert_int_equal(add(r, "s", 2, 3, 1, "y", 0, &m), REASM_PENDING);
	assert_int_equal(reasm_count(r), 1);
	reasm_free(r);
	reasm_free(NULL);
}

/*
 * The round trip: 200 Chinese characters -> 3 UDH parts of
 * 67/67/66 units -> parts fed out of order, one twice -> the same text.
 */
static void
test_chinese_200_round_trip(void **state)
{
	static const uint8_t order[] = { 3, 1, 3, 2 };
	static const int want[] = {
		REASM_PENDING, REASM_PENDING, REASM_DUPLICATE, REASM_COMPLETE,
	};
	const char *unit = "身份证办理进度查询中";
	struct reasm *r = *state;
	struct segments s;
	struct udh_concat c;
	struct reasm_msg m = { 0 };
	char text[700], out[700];
	size_t len = 0, hl, i;
	int rc;

	for (i = 0; i < 20; i++) {
		memcpy(text + len, unit, strlen(unit));
		len += strlen(unit);
	}
	text[len] = '\0';
	assert_int_equal(len, 600);
	assert_int_equal(segment_text(text, len, SEG_UDH, 0x5A, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.total, 3);
	assert_int_equal(s.parts[0].len - 6, 67 * 2);
	assert_int_equal(s.parts[1].len - 6, 67 * 2);
	assert_int_equal(s.parts[2].len - 6, 66 * 2);

	for (i = 0; i < sizeof(order); i++) {
		const struct seg_part *p = &s.parts[order[i] - 1];

		assert_int_equal(udh_parse(p->data, p->len, &c, &hl, err,
		    sizeof(err)), 0);
		assert_int_equal(c.present, 1);
		assert_int_equal(c.seq, order[i]);
		rc = reasm_add(r, "8613800000000", "10086", c.ref, c.total,
		    c.seq, s.data_coding, p->data + hl, p->len - hl,
		    1000 + i, &m, err, sizeof(err));
		assert_int_equal(rc, want[i]);
	}
	assert_int_equal(m.total, 3);
	assert_int_equal(m.data_coding, DCS_UCS2);
	assert_int_equal(m.len, 400);
	assert_int_equal(charset_decode(CS_UCS2, m.data, m.len, out,
	    sizeof(out), err, sizeof(err)), 600);
	assert_string_equal(out, text);
	assert_int_equal(reasm_count(r), 0);
	free(m.data);
	segments_free(&s);
}

/* A surrogate pair split across parts by another sender survives, because
 * parts are joined before decoding. */
static void
test_split_surrogate_survives(void **state)
{
	struct reasm *r = *state;
	struct reasm_msg m;
	char out[16];

	assert_int_equal(reasm_add(r, "a", "b", 1, 2, 1, 0x08,
	    (const uint8_t *)"\x00\x41\xD8\x3D", 4, 0, &m, err, sizeof(err)),
	    REASM_PENDING);
	assert_int_equal(reasm_add(r, "a", "b", 1, 2, 2, 0x08,
	    (const uint8_t *)"\xDE\x00", 2, 0, &m, err, sizeof(err)),
	    REASM_COMPLETE);
	assert_int_equal(charset_decode(CS_UCS2, m.data, m.len, out,
	    sizeof(out), err, sizeof(err)), 5);
	assert_string_equal(out, "A\xF0\x9F\x98\x80");
	free(m.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_single_part_completes),
		T(test_in_order),
		T(test_out_of_order),
		T(test_duplicate_first_wins),
		T(test_data_coding_mismatch),
		T(test_bad_seq_total),
		T(test_part_too_large),
		T(test_empty_parts),
		T(test_senders_do_not_mix),
		T(test_key_boundaries),
		T(test_timeout_drops_incomplete),
		T(test_eviction_at_max_sets),
		T(test_eviction_flood),
		T(test_free_with_pending),
		T(test_chinese_200_round_trip),
		T(test_split_surrogate_survives),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
