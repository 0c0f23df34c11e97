/*
 * Unit tests for proto/cmppmap: submit_sm → CMPP SUBMIT (Pk fields from
 * 8- and 16-bit UDHs, Msg_Fmt from data_coding, GSM 7-bit → ASCII, the
 * refusals), DELIVER → deliver_sm in ASCII, UCS-2 and GBK with and without
 * a UDH (octets checked), status reports → receipts, and the SMPP status
 * → DELIVER_RESP Result table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/charset.h"
#include "proto/cmpp.h"
#include "proto/cmppmap.h"
#include "proto/dlr.h"
#include "proto/pdu.h"

static char err[256];

static int
clear_err(void **state)
{
	(void)state;
	err[0] = '\0';
	return 0;
}

#define T(f) cmocka_unit_test_setup(f, clear_err)

static const struct cmppmap_sp sp = {
	.sp_id = "901234", .service_id = "SMSGW", .fee_type = "01",
	.fee_code = "000000",
};

/* A submit_sm from 10690001 to 13800138000 with sm = (s, n). */
static void
submit_sm(struct pdu *p, uint8_t esm, uint8_t dcs, const void *s, size_t n)
{
	pdu_init(p, PDU_SUBMIT_SM, ESME_OK, 7);
	snprintf(p->src.addr, sizeof(p->src.addr), "10690001");
	snprintf(p->dst.addr, sizeof(p->dst.addr), "13800138000");
	p->esm_class = esm;
	p->data_coding = dcs;
	assert_true(n <= sizeof(p->sm));
	memcpy(p->sm, s, n);
	p->sm_len = (uint16_t)n;
}

/* A DELIVER from 13800138000 to 10690001 with Msg_Content = (s, n). */
static void
deliver(struct cmpp *m, uint8_t fmt, uint8_t udhi, const void *s, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->command_id = CMPP_DELIVER;
	m->sequence = 42;
	m->msg_id = 0xbaa9eb41e2401234ull;
	snprintf(m->dest_id, sizeof(m->dest_id), "10690001");
	snprintf(m->src_terminal_id, sizeof(m->src_terminal_id),
	    "13800138000");
	m->msg_fmt = fmt;
	m->tp_udhi = udhi;
	assert_true(n <= sizeof(m->msg_content));
	memcpy(m->msg_content, s, n);
	m->msg_length = (uint8_t)n;
}

/* ---- SUBMIT ------------------------------------------------------------ */

static void
test_submit_ucs2_two_parts_udh8(void **state)
{
	/* UDH 05 00 03 ref=0x2A total=2 seq=n, then "AB" / "C" in UCS-2. */
	static const uint8_t part1[] = {
		0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0x00, 'A', 0x00, 'B',
	};
	static const uint8_t part2[] = {
		0x05, 0x00, 0x03, 0x2A, 0x02, 0x02, 0x00, 'C',
	};
	struct pdu p;
	struct cmpp m;

	(void)state;
	submit_sm(&p, PDU_ESM_UDHI, DCS_UCS2, part1, sizeof(part1));
	p.registered_delivery = 1;
	assert_int_equal(cmppmap_submit(&p, 1234, &sp, &m, err, sizeof(err)),
	    0);
	assert_int_equal(m.command_id, CMPP_SUBMIT);
	assert_int_equal(m.sequence, 1234);
	assert_int_equal(m.pk_total, 2);
	assert_int_equal(m.pk_number, 1);
	assert_int_equal(m.tp_udhi, 1);
	assert_int_equal(m.msg_fmt, CMPP_FMT_UCS2);
	assert_int_equal(m.registered_delivery, 1);
	assert_int_equal(m.msg_length, sizeof(part1));
	assert_memory_equal(m.msg_content, part1, sizeof(part1));
	assert_string_equal(m.service_id, "SMSGW");
	assert_string_equal(m.msg_src, "901234");
	assert_string_equal(m.fee_type, "01");
	assert_string_equal(m.fee_code, "000000");
	assert_string_equal(m.src_id, "10690001");
	assert_string_equal(m.dest_terminal_id, "13800138000");

	submit_sm(&p, PDU_ESM_UDHI, DCS_UCS2, part2, sizeof(part2));
	assert_int_equal(cmppmap_submit(&p, 1235, &sp, &m, err, sizeof(err)),
	    0);
	assert_int_equal(m.sequence, 1235);
	assert_int_equal(m.pk_total, 2);
	assert_int_equal(m.pk_number, 2);
	assert_int_equal(m.tp_udhi, 1);
	assert_int_equal(m.msg_fmt, CMPP_FMT_UCS2);
	assert_int_equal(m.registered_delivery, 0);
	assert_int_equal(m.msg_length, sizeof(part2));
	assert_memory_equal(m.msg_content, part2, sizeof(part2));
}

static void
test_submit_udh16(void **state)
{
	/* UDH 06 08 04 ref=0x1234 total=3 seq=2, then "Z" in UCS-2. */
	static const uint8_t sm[] = {
		0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02, 0x00, 'Z',
	};
	struct pdu p;
	struct cmpp m;

	(void)state;
	submit_sm(&p, PDU_ESM_UDHI, DCS_UCS2, sm, sizeof(sm));
	assert_int_equal(cmppmap_submit(&p, 9, &sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.pk_total, 3);
	assert_int_equal(m.pk_number, 2);
	assert_int_equal(m.tp_udhi, 1);
	assert_int_equal(m.msg_length, sizeof(sm));
	assert_memory_equal(m.msg_content, sm, sizeof(sm));
}

static void
test_submit_single_no_udh(void **state)
{
	struct pdu p;
	struct cmpp m;

	(void)state;
	submit_sm(&p, 0, DCS_IA5, "CX 1", 4);
	assert_int_equal(cmppmap_submit(&p, 3, &sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.pk_total, 1);
	assert_int_equal(m.pk_number, 1);
	assert_int_equal(m.tp_udhi, 0);
	assert_int_equal(m.msg_fmt, CMPP_FMT_ASCII);
	assert_int_equal(m.msg_length, 4);
	assert_memory_equal(m.msg_content, "CX 1", 4);
}

static void
test_submit_gsm7_ascii(void **state)
{
	/* GSM 03.38 septets, one an octet: 0x00 is '@', 0x11 is '_'. */
	static const uint8_t sm[] = { 'H', 'i', ' ', 0x00, 'x', 0x11, 'y' };
	/* The same behind an 8-bit concatenation UDH. */
	static const uint8_t udh_sm[] = {
		0x05, 0x00, 0x03, 0x01, 0x02, 0x02, 'O', 'K', 0x00,
	};
	static const uint8_t udh_want[] = {
		0x05, 0x00, 0x03, 0x01, 0x02, 0x02, 'O', 'K', '@',
	};
	struct pdu p;
	struct cmpp m;

	(void)state;
	submit_sm(&p, 0, DCS_GSM7, sm, sizeof(sm));
	assert_int_equal(cmppmap_submit(&p, 5, &sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.msg_fmt, CMPP_FMT_ASCII);
	assert_int_equal(m.msg_length, 7);
	assert_memory_equal(m.msg_content, "Hi @x_y", 7);

	submit_sm(&p, PDU_ESM_UDHI, DCS_GSM7, udh_sm, sizeof(udh_sm));
	assert_int_equal(cmppmap_submit(&p, 6, &sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.msg_fmt, CMPP_FMT_ASCII);
	assert_int_equal(m.pk_total, 2);
	assert_int_equal(m.pk_number, 2);
	assert_int_equal(m.msg_length, sizeof(udh_want));
	assert_memory_equal(m.msg_content, udh_want, sizeof(udh_want));
}

static void
test_submit_gsm7_not_ascii(void **state)
{
	/* 0x01 is '£', 0x1B 0x65 the euro sign: no ASCII form. */
	static const uint8_t pound[] = { 'A', 0x01, 'B' };
	static const uint8_t euro[] = { 'A', 0x1B, 0x65 };
	struct pdu p;
	struct cmpp m;

	(void)state;
	submit_sm(&p, 0, DCS_GSM7, pound, sizeof(pound));
	assert_int_equal(cmppmap_submit(&p, 5, &sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "outside ASCII"));

	err[0] = '\0';
	submit_sm(&p, 0, DCS_GSM7, euro, sizeof(euro));
	assert_int_equal(cmppmap_submit(&p, 5, &sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "outside ASCII"));
}

static void
test_submit_refused(void **state)
{
	uint8_t big[CMPPMAP_SMS_OCTETS + 1];
	struct pdu p;
	struct cmpp m;

	(void)state;
	submit_sm(&p, 0, DCS_UCS2, "\0A", 2);
	p.tlvs |= PDU_HAS_PAYLOAD;
	p.payload_len = 2;
	assert_int_equal(cmppmap_submit(&p, 1, &sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "message_payload"));

	submit_sm(&p, 0, DCS_UCS2, "\0A", 2);
	p.tlvs |= PDU_HAS_SAR;
	p.sar_total = 2;
	p.sar_seq = 1;
	assert_int_equal(cmppmap_submit(&p, 1, &sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SAR"));

	submit_sm(&p, 0, 0x04, "\x01\x02", 2);
	assert_int_equal(cmppmap_submit(&p, 1, &sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "data_coding 0x04"));

	/* 141 octets, one over; 140 go. */
	memset(big, 'a', sizeof(big));
	submit_sm(&p, 0, DCS_IA5, big, sizeof(big));
	assert_int_equal(cmppmap_submit(&p, 1, &sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over CMPP's 140"));
	submit_sm(&p, 0, DCS_GSM7, big, sizeof(big));
	assert_int_equal(cmppmap_submit(&p, 1, &sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over CMPP's 140"));
	submit_sm(&p, 0, DCS_IA5, big, sizeof(big) - 1);
	assert_int_equal(cmppmap_submit(&p, 1, &sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.msg_length, CMPPMAP_SMS_OCTETS);

	/* A UDH whose length runs past the text. */
	submit_sm(&p, PDU_ESM_UDHI, DCS_UCS2, "\x09\x00\x03", 3);
	assert_int_equal(cmppmap_submit(&p, 1, &sp, &m, err, sizeof(err)), -1);
	assert_string_not_equal(err, "");
}

/* ---- DELIVER → deliver_sm ---------------------------------------------- */

/* The envelope every deliver_sm from deliver() has. */
static void
assert_envelope(const struct pdu *p)
{
	assert_int_equal(p->command_id, PDU_DELIVER_SM);
	assert_int_equal(p->command_status, ESME_OK);
	assert_int_equal(p->sequence, 42);
	assert_string_equal(p->src.addr, "13800138000");
	assert_string_equal(p->dst.addr, "10690001");
	assert_int_equal(p->src.npi, 1);
	assert_int_equal(p->dst.npi, 1);
}

static void
test_deliver_ascii(void **state)
{
	struct cmpp m;
	struct pdu p;
	char why[160] = "";

	(void)state;
	deliver(&m, CMPP_FMT_ASCII, 0, "CX 123", 6);
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), 0);
	assert_envelope(&p);
	assert_int_equal(p.esm_class, 0);
	assert_int_equal(p.data_coding, DCS_IA5);
	assert_int_equal(p.sm_len, 6);
	assert_memory_equal(p.sm, "CX 123", 6);
	assert_int_equal(p.tlvs, 0);
}

static void
test_deliver_ucs2(void **state)
{
	static const uint8_t text[] = { 0x67, 0xE5, 0x8B, 0xE2 };  /* 查询 */
	static const uint8_t udh[] = {
		0x05, 0x00, 0x03, 0x07, 0x02, 0x01, 0x67, 0xE5, 0x8B, 0xE2,
	};
	struct cmpp m;
	struct pdu p;
	char why[160] = "";

	(void)state;
	deliver(&m, CMPP_FMT_UCS2, 0, text, sizeof(text));
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), 0);
	assert_envelope(&p);
	assert_int_equal(p.esm_class, 0);
	assert_int_equal(p.data_coding, DCS_UCS2);
	assert_int_equal(p.sm_len, sizeof(text));
	assert_memory_equal(p.sm, text, sizeof(text));

	deliver(&m, CMPP_FMT_UCS2, 1, udh, sizeof(udh));
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), 0);
	assert_envelope(&p);
	assert_int_equal(p.esm_class, PDU_ESM_UDHI);
	assert_int_equal(p.data_coding, DCS_UCS2);
	assert_int_equal(p.sm_len, sizeof(udh));
	assert_memory_equal(p.sm, udh, sizeof(udh));
}

/* 查询 身份证 in GBK and in UCS-2. */
static const uint8_t gbk[] = {
	0xB2, 0xE9, 0xD1, 0xAF, 0x20, 0xC9, 0xED, 0xB7, 0xDD, 0xD6, 0xA4,
};
static const uint8_t gbk_ucs2[] = {
	0x67, 0xE5, 0x8B, 0xE2, 0x00, 0x20, 0x8E, 0xAB, 0x4E, 0xFD, 0x8B, 0xC1,
};

static void
test_deliver_gbk(void **state)
{
	struct cmpp m;
	struct pdu p;
	char why[160] = "";

	(void)state;
	deliver(&m, CMPP_FMT_GBK, 0, gbk, sizeof(gbk));
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), 0);
	assert_envelope(&p);
	assert_int_equal(p.esm_class, 0);
	assert_int_equal(p.data_coding, DCS_UCS2);
	assert_int_equal(p.sm_len, sizeof(gbk_ucs2));
	assert_memory_equal(p.sm, gbk_ucs2, sizeof(gbk_ucs2));
}

static void
test_deliver_gbk_udh(void **state)
{
	static const uint8_t udh[] = { 0x05, 0x00, 0x03, 0x07, 0x02, 0x02 };
	uint8_t in[sizeof(udh) + sizeof(gbk)], want[sizeof(udh) +
	    sizeof(gbk_ucs2)];
	struct cmpp m;
	struct pdu p;
	char why[160] = "";

	(void)state;
	memcpy(in, udh, sizeof(udh));
	memcpy(in + sizeof(udh), gbk, sizeof(gbk));
	memcpy(want, udh, sizeof(udh));
	memcpy(want + sizeof(udh), gbk_ucs2, sizeof(gbk_ucs2));
	deliver(&m, CMPP_FMT_GBK, 1, in, sizeof(in));
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), 0);
	assert_envelope(&p);
	assert_int_equal(p.esm_class, PDU_ESM_UDHI);
	assert_int_equal(p.data_coding, DCS_UCS2);
	assert_int_equal(p.sm_len, sizeof(want));
	assert_memory_equal(p.sm, want, sizeof(want));
}

static void
test_deliver_gbk_invalid(void **state)
{
	static const uint8_t bad[] = { 'C', 'X', 0xB2, 0x20 };
	/* 查 and the lead octet of 询: the rest is in the next part. */
	static const uint8_t split[] = {
		0x05, 0x00, 0x03, 0x07, 0x02, 0x01, 0xB2, 0xE9, 0xD1,
	};
	struct cmpp m;
	struct pdu p;
	char why[160] = "";

	(void)state;
	deliver(&m, CMPP_FMT_GBK, 0, bad, sizeof(bad));
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "GBK text does not decode"));

	why[0] = '\0';
	deliver(&m, CMPP_FMT_GBK, 1, split, sizeof(split));
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "GBK text does not decode"));
}

static void
test_deliver_refused_and_passed(void **state)
{
	struct cmpp m;
	struct pdu p;
	char why[160] = "";

	(void)state;
	/* UDHL 9 in a 4-octet Msg_Content. */
	deliver(&m, CMPP_FMT_UCS2, 1, "\x09\x00\x03\x01", 4);
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), -1);
	assert_string_equal(why, "UDH longer than Msg_Content");

	/* Src_terminal_Id of 21 digits: SMPP holds 20. */
	deliver(&m, CMPP_FMT_ASCII, 0, "x", 1);
	snprintf(m.src_terminal_id, sizeof(m.src_terminal_id), "%s",
	    "123456789012345678901");
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), -1);
	assert_string_equal(why, "an address too long for SMPP");

	/* Msg_Fmt 4 (binary) is passed up for inbound to refuse. */
	deliver(&m, 4, 0, "\x01\x02\x03", 3);
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), 0);
	assert_int_equal(p.data_coding, 4);
	assert_int_equal(p.sm_len, 3);
	assert_memory_equal(p.sm, "\x01\x02\x03", 3);
}

/* ---- status reports ---------------------------------------------------- */

static void
report(struct cmpp *m, const char *stat)
{
	deliver(m, CMPP_FMT_ASCII, 0, "", 0);
	m->registered_delivery = 1;
	m->report.msg_id = 0xbaa9eb41e2401234ull;
	snprintf(m->report.stat, sizeof(m->report.stat), "%s", stat);
	snprintf(m->report.submit_time, sizeof(m->report.submit_time),
	    "2611211030");
	snprintf(m->report.done_time, sizeof(m->report.done_time),
	    "2611211031");
	snprintf(m->report.dest_terminal_id,
	    sizeof(m->report.dest_terminal_id), "13800138000");
}

static void
assert_sm(const struct pdu *p, const char *want)
{
	assert_int_equal(p->sm_len, strlen(want));
	assert_memory_equal(p->sm, want, strlen(want));
}

static void
test_report_delivered(void **state)
{
	struct cmpp m;
	struct pdu p;
	struct dlr d;
	char why[160] = "";

	(void)state;
	report(&m, "DELIVRD");
	assert_int_equal(cmppmap_deliver(&m, &p, why, sizeof(why)), 0);
	assert_envelope(&p);
	assert_int_equal(p.esm_class, PDU_ESM_RECEIPT);
	assert_int_equal(p.tlvs, PDU_HAS_RECEIPTED_ID);
	assert_string_equal(p.receipted_id, "baa9eb41e2401234");
	assert_int_equal(strlen(p.receipted_id), 16);
	assert_sm(&p, "id:baa9eb41e2401234 sub:001 dlvrd:001 submit "
	    "date:2611211030 done date:2611211031 stat:DELIVRD err:000 text:");
	/* proto/dlr reads it as the receipt it is. */
	assert_int_equal(dlr_parse(&p, &d, err, sizeof(err)), 0);
	assert_int_equal(d.state, DLR_DELIVERED);
}

static void
test_report_vendor_stat(void **state)
{
	struct cmpp_report r;
	struct pdu p;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.msg_id = 0x0000000000000001ull;
	snprintf(r.stat, sizeof(r.stat), "MA:0001");
	snprintf(r.submit_time, sizeof(r.submit_time), "2612041700");
	snprintf(r.done_time, sizeof(r.done_time), "2612041701");
	pdu_init(&p, PDU_DELIVER_SM, ESME_OK, 1);
	cmppmap_report(&r, &p);
	assert_int_equal(p.esm_class, PDU_ESM_RECEIPT);
	assert_int_equal(p.tlvs, PDU_HAS_RECEIPTED_ID | PDU_HAS_MSG_STATE);
	assert_int_equal(p.message_state, DLR_UNDELIVERABLE);
	assert_string_equal(p.receipted_id, "0000000000000001");
	assert_sm(&p, "id:0000000000000001 sub:001 dlvrd:001 submit "
	    "date:2612041700 done date:2612041701 stat:MA:0001 err:000 text:");
}

static void
test_report_odd_stat(void **state)
{
	struct cmpp_report r;
	struct pdu p;

	(void)state;
	/* A control character in Stat is shown as '?'; no Stat at all is
	 * UNKNOWN. Both are states SMPP has no word for. */
	memset(&r, 0, sizeof(r));
	r.msg_id = 0xffffffffffffffffull;
	memcpy(r.stat, "UN\nDELV", 7);
	pdu_init(&p, PDU_DELIVER_SM, ESME_OK, 1);
	cmppmap_report(&r, &p);
	assert_int_equal(p.message_state, DLR_UNDELIVERABLE);
	assert_true(p.tlvs & PDU_HAS_MSG_STATE);
	assert_sm(&p, "id:ffffffffffffffff sub:001 dlvrd:001 submit date: "
	    "done date: stat:UN?DELV err:000 text:");

	memset(r.stat, 0, sizeof(r.stat));
	pdu_init(&p, PDU_DELIVER_SM, ESME_OK, 1);
	cmppmap_report(&r, &p);
	assert_true(p.tlvs & PDU_HAS_MSG_STATE);
	assert_sm(&p, "id:ffffffffffffffff sub:001 dlvrd:001 submit date: "
	    "done date: stat:UNKNOWN err:000 text:");
}

/* ---- DELIVER_RESP Result ----------------------------------------------- */

static void
test_deliver_result_table(void **state)
{
	static const struct {
		uint32_t status, result;
	} t[] = {
		{ ESME_OK,         CMPPMAP_DRESULT_OK },
		{ ESME_X_T_APPN,   CMPPMAP_DRESULT_FLOW },
		{ ESME_THROTTLED,  CMPPMAP_DRESULT_FLOW },
		{ ESME_MSGQFUL,    CMPPMAP_DRESULT_FLOW },
		{ ESME_SYSERR,     CMPPMAP_DRESULT_FLOW },
		{ ESME_X_P_APPN,   CMPPMAP_DRESULT_OTHER },
		{ ESME_INVMSGLEN,  CMPPMAP_DRESULT_OTHER },
		{ ESME_INVDSTADR,  CMPPMAP_DRESULT_OTHER },
		{ ESME_INVCMDID,   CMPPMAP_DRESULT_OTHER },
		{ 0xFFFFFFFFu,     CMPPMAP_DRESULT_OTHER },
	};
	size_t i;

	(void)state;
	assert_int_equal(CMPPMAP_DRESULT_OK, 0);
	assert_int_equal(CMPPMAP_DRESULT_STRUCTURE, 1);
	assert_int_equal(CMPPMAP_DRESULT_FLOW, CMPP_RESULT_FLOW);
	assert_int_equal(CMPPMAP_DRESULT_OTHER, 9);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(cmppmap_deliver_result(t[i].status),
		    t[i].result);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_submit_ucs2_two_parts_udh8),
		T(test_submit_udh16),
		T(test_submit_single_no_udh),
		T(test_submit_gsm7_ascii),
		T(test_submit_gsm7_not_ascii),
		T(test_submit_refused),
		T(test_deliver_ascii),
		T(test_deliver_ucs2),
		T(test_deliver_gbk),
		T(test_deliver_gbk_udh),
		T(test_deliver_gbk_invalid),
		T(test_deliver_refused_and_passed),
		T(test_report_delivered),
		T(test_report_vendor_stat),
		T(test_report_odd_stat),
		T(test_deliver_result_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
