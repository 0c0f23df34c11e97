/*
 * Unit tests for proto/dlr.c: receipt text in the shapes real SMSCs send,
 * receipt TLVs, their precedence, and the message id variants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/dlr.h"

#define FULL(id, stat, err) \
	"id:" id " sub:001 dlvrd:001 submit date:2401151230 " \
	"done date:2401151231 stat:" stat " err:" err " text:hello"

static int
parse(const char *text, struct dlr *d)
{
	char err[128];

	return dlr_parse_text(text, strlen(text), d, err, sizeof(err));
}

/* A deliver_sm receipt carrying text in short_message. */
static void
make_pdu(struct pdu *p, const char *text)
{
	memset(p, 0, sizeof(*p));
	p->command_id = PDU_DELIVER_SM;
	p->esm_class = PDU_ESM_RECEIPT;
	p->sm_len = (uint16_t)strlen(text);
	memcpy(p->sm, text, p->sm_len);
}

static void
test_delivrd(void **state)
{
	struct dlr d;

	(void)state;
	assert_int_equal(parse(FULL("1234567890", "DELIVRD", "000"), &d), 0);
	assert_string_equal(d.id, "1234567890");
	assert_int_equal(d.state, DLR_DELIVERED);
	assert_string_equal(d.stat, "DELIVRD");
	assert_int_equal(d.err, 0);
	assert_int_equal(d.sub, 1);
	assert_int_equal(d.dlvrd, 1);
	assert_string_equal(d.submit_date, "2401151230");
	assert_string_equal(d.done_date, "2401151231");
}

static void
test_undeliv(void **state)
{
	struct dlr d;

	(void)state;
	assert_int_equal(parse(FULL("77", "UNDELIV", "034"), &d), 0);
	assert_int_equal(d.state, DLR_UNDELIVERABLE);
	assert_string_equal(d.stat, "UNDELIV");
	assert_int_equal(d.err, 34);
}

static void
test_expired(void **state)
{
	struct dlr d;

	(void)state;
	assert_int_equal(parse(FULL("abc", "EXPIRED", "000"), &d), 0);
	assert_int_equal(d.state, DLR_EXPIRED);
	assert_string_equal(d.id, "abc");
}

static void
test_rejectd(void **state)
{
	struct dlr d;

	(void)state;
	assert_int_equal(parse(FULL("9", "REJECTD", "00b"), &d), 0);
	assert_int_equal(d.state, DLR_REJECTED);
	assert_int_equal(d.err, 11);
}

static void
test_all_stat_names(void **state)
{
	static const struct {
		const char *stat;
		enum dlr_state st;
	} t[] = {
		{ "ENROUTE", DLR_ENROUTE }, { "DELIVRD", DLR_DELIVERED },
		{ "EXPIRED", DLR_EXPIRED }, { "DELETED", DLR_DELETED },
		{ "UNDELIV", DLR_UNDELIVERABLE }, { "ACCEPTD", DLR_ACCEPTED },
		{ "UNKNOWN", DLR_UNKNOWN }, { "REJECTD", DLR_REJECTED },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(dlr_state_from_stat(t[i].stat), t[i].st);
		assert_string_equal(dlr_state_name(t[i].st), t[i].stat);
	}
	assert_int_equal(dlr_state_from_stat("delivrd"), DLR_DELIVERED);
	assert_int_equal(dlr_state_from_stat("DELIVERED"), DLR_DELIVERED);
	assert_int_equal(dlr_state_from_stat("BOGUS"), DLR_UNKNOWN_STATE);
	assert_int_equal(dlr_state_from_stat(""), DLR_UNKNOWN_STATE);
}

static void
test_text_only_via_pdu(void **state)
{
	struct pdu p;
	struct dlr d;
	char err[128];

	(void)state;
	make_pdu(&p, FULL("0A1B2C", "DELIVRD", "000"));
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), 0);
	assert_string_equal(d.id, "0A1B2C");
	assert_int_equal(d.state, DLR_DELIVERED);
	assert_int_equal(d.err, 0);
}

static void
test_text_in_payload(void **state)
{
	const char *t = FULL("55", "EXPIRED", "001");
	struct pdu p;
	struct dlr d;
	char err[128];

	(void)state;
	make_pdu(&p, "");
	p.tlvs = PDU_HAS_PAYLOAD;
	p.payload_len = (uint16_t)strlen(t);
	memcpy(p.payload, t, p.payload_len);
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), 0);
	assert_string_equal(d.id, "55");
	assert_int_equal(d.state, DLR_EXPIRED);
	assert_int_equal(d.err, 1);
}

static void
test_tlv_only(void **state)
{
	struct pdu p;
	struct dlr d;
	char err[128];

	(void)state;
	make_pdu(&p, "");
	p.tlvs = PDU_HAS_RECEIPTED_ID | PDU_HAS_MSG_STATE | PDU_HAS_NET_ERR;
	strcpy(p.receipted_id, "ff00aa");
	p.message_state = DLR_UNDELIVERABLE;
	p.net_err[0] = 3;        /* GSM */
	p.net_err[1] = 0x01;
	p.net_err[2] = 0x02;
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), 0);
	assert_string_equal(d.id, "ff00aa");
	assert_int_equal(d.state, DLR_UNDELIVERABLE);
	assert_string_equal(d.stat, "UNDELIV");
	assert_int_equal(d.err, 0x0102);
	assert_int_equal(d.sub, -1);
	assert_string_equal(d.submit_date, "");
}

static void
test_tlv_overrides_text(void **state)
{
	struct pdu p;
	struct dlr d;
	char err[128];

	(void)state;
	make_pdu(&p, FULL("111", "DELIVRD", "000"));
	p.tlvs = PDU_HAS_RECEIPTED_ID | PDU_HAS_MSG_STATE | PDU_HAS_NET_ERR;
	strcpy(p.receipted_id, "6f");
	p.message_state = DLR_EXPIRED;
	p.net_err[2] = 7;
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), 0);
	assert_string_equal(d.id, "6f");
	assert_int_equal(d.state, DLR_EXPIRED);
	assert_string_equal(d.stat, "EXPIRED");
	assert_int_equal(d.err, 7);
	/* Fields the TLVs do not carry still come from the text. */
	assert_string_equal(d.done_date, "2401151231");
}

static void
test_tlv_bad_state_falls_back(void **state)
{
	struct pdu p;
	struct dlr d;
	char err[128];

	(void)state;
	make_pdu(&p, FULL("111", "REJECTD", "000"));
	p.tlvs = PDU_HAS_MSG_STATE;
	p.message_state = 99;
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), 0);
	assert_int_equal(d.state, DLR_REJECTED);
}

static void
test_hex_id_variants(void **state)
{
	char v[3][PDU_MSGID_MAX];

	(void)state;
	assert_int_equal(dlr_id_variants("0A1B2C", v), 2);
	assert_string_equal(v[0], "0a1b2c");
	assert_string_equal(v[1], "662316");
}

static void
test_decimal_id_variants(void **state)
{
	char v[3][PDU_MSGID_MAX];

	(void)state;
	/* Decimal digits are also hex digits: three readings. */
	assert_int_equal(dlr_id_variants("255", v), 3);
	assert_string_equal(v[0], "255");
	assert_string_equal(v[1], "ff");
	assert_string_equal(v[2], "597");
	/* Leading zeros go from the derived forms. */
	assert_int_equal(dlr_id_variants("0016", v), 3);
	assert_string_equal(v[1], "10");
	assert_string_equal(v[2], "22");
	/* Distinct values only: "1" is 1 in both bases. */
	assert_int_equal(dlr_id_variants("1", v), 1);
	assert_string_equal(v[0], "1");
}

static void
test_id_variants_limits(void **state)
{
	char v[3][PDU_MSGID_MAX];

	(void)state;
	/* UINT64_MAX fits; one more does not. */
	assert_int_equal(dlr_id_variants("18446744073709551615", v), 2);
	assert_string_equal(v[1], "ffffffffffffffff");
	assert_int_equal(dlr_id_variants("18446744073709551616", v), 1);
	assert_int_equal(dlr_id_variants("FFFFFFFFFFFFFFFF", v), 2);
	assert_string_equal(v[1], "18446744073709551615");
	assert_int_equal(dlr_id_variants("10000000000000000", v), 2);
	/* Alphanumeric: only the lower-cased form. */
	assert_int_equal(dlr_id_variants("MSG-42x", v), 1);
	assert_string_equal(v[0], "msg-42x");
	assert_int_equal(dlr_id_variants("", v), 0);
}

static void
test_long_alnum_id(void **state)
{
	char text[200], id[65];
	struct dlr d;

	(void)state;
	memset(id, 'z', 64);
	id[64] = '\0';
	snprintf(text, sizeof(text), "id:%s stat:DELIVRD", id);
	assert_int_equal(parse(text, &d), 0);
	assert_string_equal(d.id, id);
	/* 65 characters do not fit: no id. */
	snprintf(text, sizeof(text), "id:%sz stat:DELIVRD", id);
	assert_int_equal(parse(text, &d), -1);
}

static void
test_garbage(void **state)
{
	struct dlr d;
	struct pdu p;
	char err[128];

	(void)state;
	assert_int_equal(parse("hello, this is not a receipt", &d), -1);
	assert_int_equal(parse("", &d), -1);
	assert_int_equal(parse("id: stat:", &d), -1);
	assert_int_equal(parse("xid:1 xstat:DELIVRD", &d), -1);
	assert_int_equal(parse("id:1 stat:SUPERB", &d), -1);
	make_pdu(&p, "\x01\x02\xff garbage");
	err[0] = '\0';
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

static void
test_truncated(void **state)
{
	const char *full = FULL("123", "DELIVRD", "000");
	const char *stat = strstr(full, "stat:");
	struct dlr d;
	char err[128];
	size_t cut;

	(void)state;
	/* Cut anywhere before the stat value is complete: no state. */
	for (cut = 0; cut < (size_t)(stat - full) + 5 + 7; cut++)
		assert_int_equal(dlr_parse_text(full, cut, &d, err,
		    sizeof(err)), -1);
	/* Cut after it: parses, with whatever followed missing. */
	cut = (size_t)(stat - full) + 5 + 7;
	assert_int_equal(dlr_parse_text(full, cut, &d, err, sizeof(err)), 0);
	assert_int_equal(d.state, DLR_DELIVERED);
	assert_int_equal(d.err, -1);
	/* A date cut short is left empty, not half-filled. */
	assert_int_equal(parse("id:5 done date:24011 stat:ACCEPTD", &d), 0);
	assert_string_equal(d.done_date, "");
	assert_int_equal(d.state, DLR_ACCEPTED);
}

static void
test_key_case(void **state)
{
	struct dlr d;

	(void)state;
	assert_int_equal(parse("ID:42 SUB:001 DLVRD:000 SUBMIT DATE:2401010000 "
	    "DONE DATE:2401010001 STAT:UNDELIV ERR:005 TEXT:x", &d), 0);
	assert_string_equal(d.id, "42");
	assert_int_equal(d.state, DLR_UNDELIVERABLE);
	assert_int_equal(d.err, 5);
	assert_int_equal(d.dlvrd, 0);
	assert_string_equal(d.submit_date, "2401010000");
	assert_int_equal(parse("Id:42 Stat:delivrd submit_date:240101000059",
	    &d), 0);
	assert_int_equal(d.state, DLR_DELIVERED);
	assert_string_equal(d.stat, "delivrd");
	assert_string_equal(d.submit_date, "2401010000");
}

static void
test_any_order_missing_err(void **state)
{
	struct dlr d;

	(void)state;
	assert_int_equal(parse("stat:DELETED text:bye id:abc123", &d), 0);
	assert_string_equal(d.id, "abc123");
	assert_int_equal(d.state, DLR_DELETED);
	assert_int_equal(d.err, -1);
	assert_int_equal(d.sub, -1);
	assert_int_equal(d.dlvrd, -1);
}

static void
test_first_key_wins(void **state)
{
	struct dlr d;

	(void)state;
	/* The quoted original text must not override the real fields. */
	assert_int_equal(parse("id:1 stat:DELIVRD err:000 text:id:2 stat:UNDELIV",
	    &d), 0);
	assert_string_equal(d.id, "1");
	assert_int_equal(d.state, DLR_DELIVERED);
}

static void
test_ucs2_receipt(void **state)
{
	const char *t = "id:9 stat:DELIVRD";
	struct pdu p;
	struct dlr d;
	char err[128];
	size_t i;

	(void)state;
	make_pdu(&p, "");
	p.data_coding = 0x08;
	for (i = 0; t[i] != '\0'; i++) {
		p.sm[2 * i] = 0;
		p.sm[2 * i + 1] = (uint8_t)t[i];
	}
	p.sm_len = (uint16_t)(2 * i);
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), 0);
	assert_string_equal(d.id, "9");
	assert_int_equal(d.state, DLR_DELIVERED);
}

/* A gateway's own stat code (CMPP's MA:0001) is kept verbatim when
 * message_state gives the state; alone it is no known state. */
static void
test_vendor_stat(void **state)
{
	struct pdu p;
	struct dlr d;
	char err[128];

	(void)state;
	make_pdu(&p, FULL("0123456789abcdef", "MA:0001", "000"));
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), -1);
	p.tlvs = PDU_HAS_RECEIPTED_ID | PDU_HAS_MSG_STATE;
	strcpy(p.receipted_id, "0123456789abcdef");
	p.message_state = DLR_UNDELIVERABLE;
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), 0);
	assert_int_equal(d.state, DLR_UNDELIVERABLE);
	assert_string_equal(d.stat, "MA:0001");
	/* A standard word still reads as the state's name. */
	make_pdu(&p, FULL("1", "DELIVRD", "000"));
	p.tlvs = PDU_HAS_MSG_STATE;
	p.message_state = DLR_UNDELIVERABLE;
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), 0);
	assert_string_equal(d.stat, "UNDELIV");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivrd),
		cmocka_unit_test(test_undeliv),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_rejectd),
		cmocka_unit_test(test_all_stat_names),
		cmocka_unit_test(test_text_only_via_pdu),
		cmocka_unit_test(test_text_in_payload),
		cmocka_unit_test(test_tlv_only),
		cmocka_unit_test(test_vendor_stat),
		cmocka_unit_test(test_tlv_overrides_text),
		cmocka_unit_test(test_tlv_bad_state_falls_back),
		cmocka_unit_test(test_hex_id_variants),
		cmocka_unit_test(test_decimal_id_variants),
		cmocka_unit_test(test_id_variants_limits),
		cmocka_unit_test(test_long_alnum_id),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_key_case),
		cmocka_unit_test(test_any_order_missing_err),
		cmocka_unit_test(test_first_key_wins),
		cmocka_unit_test(test_ucs2_receipt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
