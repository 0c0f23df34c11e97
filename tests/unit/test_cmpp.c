/*
 * Unit tests for proto/cmpp: every message of CMPP 3.0 and 2.0 decoded
 * from frames written out by hand from the spec's tables (one string piece
 * per field, never produced by cmpp_encode), field by field; the encoder
 * held to the same octets; round trips; authenticators, Msg_Id, names and
 * the malformed frames a gateway may send.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nettle/md5.h>

#include "proto/cmpp.h"

static char err[256];

static int
clear_err(void **state)
{
	(void)state;
	err[0] = '\0';
	return 0;
}

#define T(f) cmocka_unit_test_setup(f, clear_err)

/* NUL padding of fixed-width fields, as string pieces. */
#define Z1  "\0"
#define Z2  Z1 Z1
#define Z4  Z2 Z2
#define Z8  Z4 Z4
#define Z16 Z8 Z8

/* A frame literal as (bytes, length): the literal's own NUL is not sent. */
#define F(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

/* AuthenticatorSource of SP 901234, secret "secret", timestamp
 * 0102030405: printf '901234\0\0\0\0\0\0\0\0\0secret0102030405' | md5sum */
#define AUTH_SRC \
	"\x1c\x39\xdf\x8b\x9c\x01\x79\x8a\x8f\x35\xc3\xc7\x85\xcf\x91\xce"
/* AuthenticatorISMG for Status 0, 3.0 (4 octets) and 2.0 (1 octet), from
 * { printf '\0\0\0\0'; printf AUTH_SRC; printf secret; } | md5sum */
#define AUTH_ISMG30 \
	"\xe9\xed\x19\x83\x50\x95\x2c\xc8\x9c\xfd\xfb\x0c\x74\x7e\x84\x38"
#define AUTH_ISMG20 \
	"\x9e\x21\xb4\xca\x73\xef\x61\x0a\xd7\xe2\xa0\xc6\x99\x0e\x10\x98"
/* Msg_Id 11-21 10:30:45, gateway 123456, sequence 0x1234 (see
 * test_msgid_known). */
#define MSGID   "\xba\xa9\xeb\x41\xe2\x40\x12\x34"
#define MSGID_V 0xbaa9eb41e2401234ull

/* ---- the frames -------------------------------------------------------- */

/* §7.4.2.1 CMPP_CONNECT, 12 + 27 octets. */
static const char connect30[] =
	"\x00\x00\x00\x27"              /* Total_Length 39 */
	"\x00\x00\x00\x01"              /* Command_Id CONNECT */
	"\x00\x00\x00\x01"              /* Sequence_Id 1 */
	"901234"                        /* Source_Addr 6 */
	AUTH_SRC                        /* AuthenticatorSource 16 */
	"\x30"                          /* Version 3.0 */
	"\x06\x14\xdc\x45";             /* Timestamp 0102030405 */

static const char connect20[] =
	"\x00\x00\x00\x27" "\x00\x00\x00\x01" "\x00\x00\x00\x01"
	"901234" AUTH_SRC
	"\x20"                          /* Version 2.0 */
	"\x06\x14\xdc\x45";

/* §7.4.2.2 CMPP_CONNECT_RESP: Status 4 octets in 3.0, 1 in 2.0. */
static const char connect_resp30[] =
	"\x00\x00\x00\x21"              /* Total_Length 33 */
	"\x80\x00\x00\x01"              /* CONNECT_RESP */
	"\x00\x00\x00\x01"              /* Sequence_Id 1 */
	"\x00\x00\x00\x00"              /* Status 0 */
	AUTH_ISMG30                     /* AuthenticatorISMG 16 */
	"\x30";                         /* Version */

static const char connect_resp20[] =
	"\x00\x00\x00\x1e"              /* Total_Length 30 */
	"\x80\x00\x00\x01" "\x00\x00\x00\x01"
	"\x00"                          /* Status 0 */
	AUTH_ISMG20
	"\x20";

static const char terminate[] =
	"\x00\x00\x00\x0c" "\x00\x00\x00\x02" "\x00\x00\x00\x05";
static const char terminate_resp[] =
	"\x00\x00\x00\x0c" "\x80\x00\x00\x02" "\x00\x00\x00\x05";
static const char active_test[] =
	"\x00\x00\x00\x0c" "\x00\x00\x00\x08" "\x00\x00\x00\x09";
static const char active_test_resp[] =
	"\x00\x00\x00\x0d" "\x80\x00\x00\x08" "\x00\x00\x00\x09"
	"\x00";                         /* Reserved */

/* §7.4.3.1 CMPP_SUBMIT 3.0: "你好" in UCS-2 to one phone. */
static const char submit30[] =
	"\x00\x00\x00\xc7"              /* Total_Length 199 */
	"\x00\x00\x00\x04"              /* SUBMIT */
	"\x00\x00\x00\x2a"              /* Sequence_Id 42 */
	Z8                              /* Msg_Id 0 */
	"\x01"                          /* Pk_total */
	"\x01"                          /* Pk_number */
	"\x01"                          /* Registered_Delivery */
	"\x00"                          /* Msg_level */
	"IDCARD" Z4                     /* Service_Id 10 */
	"\x02"                          /* Fee_UserType: the SP */
	Z16 Z16                         /* Fee_terminal_Id 32 */
	"\x00"                          /* Fee_terminal_type */
	"\x00"                          /* TP_pId */
	"\x00"                          /* TP_udhi */
	"\x08"                          /* Msg_Fmt UCS-2 */
	"901234"                        /* Msg_src 6 */
	"01"                            /* FeeType 2: free */
	"000000"                        /* FeeCode 6 */
	Z16 Z1                          /* ValId_Time 17 */
	Z16 Z1                          /* At_Time 17 */
	"10657000" Z8 Z4 Z1             /* Src_Id 21 */
	"\x01"                          /* DestUsr_tl */
	"13800138000" Z16 Z4 Z1         /* Dest_terminal_Id 32 */
	"\x00"                          /* Dest_terminal_type */
	"\x04"                          /* Msg_Length */
	"\x4f\x60\x59\x7d"              /* Msg_Content 你好 */
	Z16 Z4;                         /* LinkID 20 */

/* 2.0 §6.2.3: 21-octet terminal ids, no types, Reserve 8. */
static const char submit20[] =
	"\x00\x00\x00\xa3"              /* Total_Length 163 */
	"\x00\x00\x00\x04" "\x00\x00\x00\x2a"
	Z8                              /* Msg_Id */
	"\x01" "\x01" "\x01" "\x00"     /* Pk_total .. Msg_level */
	"IDCARD" Z4                     /* Service_Id 10 */
	"\x02"                          /* Fee_UserType */
	Z16 Z4 Z1                       /* Fee_terminal_Id 21 */
	"\x00" "\x00" "\x08"            /* TP_pId, TP_udhi, Msg_Fmt */
	"901234" "01" "000000"          /* Msg_src, FeeType, FeeCode */
	Z16 Z1 Z16 Z1                   /* ValId_Time, At_Time */
	"10657000" Z8 Z4 Z1             /* Src_Id 21 */
	"\x01"                          /* DestUsr_tl */
	"13800138000" Z8 Z2             /* Dest_terminal_Id 21 */
	"\x04" "\x4f\x60\x59\x7d"       /* Msg_Length, Msg_Content */
	Z8;                             /* Reserve 8 */

/* §7.4.3.2 CMPP_SUBMIT_RESP, Result 8: flow control. */
static const char submit_resp30[] =
	"\x00\x00\x00\x18"              /* Total_Length 24 */
	"\x80\x00\x00\x04" "\x00\x00\x00\x2a"
	MSGID                           /* Msg_Id */
	"\x00\x00\x00\x08";             /* Result 4 */
static const char submit_resp20[] =
	"\x00\x00\x00\x15"              /* Total_Length 21 */
	"\x80\x00\x00\x04" "\x00\x00\x00\x2a"
	MSGID
	"\x08";                         /* Result 1 */

/* §7.4.5.1 CMPP_DELIVER 3.0, an MO text "查询" in GBK. */
static const char deliver30[] =
	"\x00\x00\x00\x71"              /* Total_Length 113 */
	"\x00\x00\x00\x05" "\x00\x00\x01\x00"
	MSGID                           /* Msg_Id */
	"10657000" Z8 Z4 Z1             /* Dest_Id 21 */
	"IDCARD" Z4                     /* Service_Id 10 */
	"\x00"                          /* TP_pid */
	"\x00"                          /* TP_udhi */
	"\x0f"                          /* Msg_Fmt GBK */
	"13800138000" Z16 Z4 Z1         /* Src_terminal_Id 32 */
	"\x00"                          /* Src_terminal_type */
	"\x00"                          /* Registered_Delivery */
	"\x04"                          /* Msg_Length */
	"\xb2\xe9\xd1\xaf"              /* Msg_Content 查询 */
	"LINK-7" Z8 Z4 Z2;              /* LinkID 20 */

static const char deliver20[] =
	"\x00\x00\x00\x59"              /* Total_Length 89 */
	"\x00\x00\x00\x05" "\x00\x00\x01\x00"
	MSGID
	"10657000" Z8 Z4 Z1             /* Dest_Id 21 */
	"IDCARD" Z4                     /* Service_Id 10 */
	"\x00" "\x00" "\x0f"            /* TP_pid, TP_udhi, Msg_Fmt */
	"13800138000" Z8 Z2             /* Src_terminal_Id 21 */
	"\x00"                          /* Registered_Delivery */
	"\x04" "\xb2\xe9\xd1\xaf"       /* Msg_Length, Msg_Content */
	Z8;                             /* Reserve 8 */

/* A status report: DELIVER with Registered_Delivery 1 and the 71-octet
 * (3.0) or 60-octet (2.0) report as Msg_Content. */
static const char report30[] =
	"\x00\x00\x00\xb4"              /* Total_Length 180 */
	"\x00\x00\x00\x05" "\x00\x00\x01\x01"
	"\x01\x02\x03\x04\x05\x06\x07\x08" /* Msg_Id of the DELIVER */
	"10657000" Z8 Z4 Z1             /* Dest_Id */
	"IDCARD" Z4                     /* Service_Id */
	"\x00" "\x00" "\x00"            /* TP_pid, TP_udhi, Msg_Fmt */
	"13800138000" Z16 Z4 Z1         /* Src_terminal_Id 32 */
	"\x00"                          /* Src_terminal_type */
	"\x01"                          /* Registered_Delivery: report */
	"\x47"                          /* Msg_Length 71 */
	MSGID                           /*   Msg_Id of our SUBMIT */
	"DELIVRD"                       /*   Stat 7 */
	"2611211030"                    /*   Submit_time 10 */
	"2611211031"                    /*   Done_time 10 */
	"13800138000" Z16 Z4 Z1         /*   Dest_terminal_Id 32 */
	"\x00\x00\x00\x07"              /*   SMSC_sequence */
	Z16 Z4;                         /* LinkID */

static const char report20[] =
	"\x00\x00\x00\x91"              /* Total_Length 145 */
	"\x00\x00\x00\x05" "\x00\x00\x01\x01"
	"\x01\x02\x03\x04\x05\x06\x07\x08"
	"10657000" Z8 Z4 Z1             /* Dest_Id */
	"IDCARD" Z4                     /* Service_Id */
	"\x00" "\x00" "\x00"            /* TP_pid, TP_udhi, Msg_Fmt */
	"13800138000" Z8 Z2             /* Src_terminal_Id 21 */
	"\x01"                          /* Registered_Delivery */
	"\x3c"                          /* Msg_Length 60 */
	MSGID                           /*   Msg_Id */
	"MA:0001"                       /*   Stat: a vendor code */
	"2611211030" "2611211031"       /*   Submit_time, Done_time */
	"13800138000" Z8 Z2             /*   Dest_terminal_Id 21 */
	"\x00\x00\x00\x07"              /*   SMSC_sequence */
	Z8;                             /* Reserve */

/* §7.4.5.2 CMPP_DELIVER_RESP, Result 0. */
static const char deliver_resp30[] =
	"\x00\x00\x00\x18" "\x80\x00\x00\x05" "\x00\x00\x01\x00"
	MSGID "\x00\x00\x00\x00";
static const char deliver_resp20[] =
	"\x00\x00\x00\x15" "\x80\x00\x00\x05" "\x00\x00\x01\x00"
	MSGID "\x00";

/* ---- helpers ----------------------------------------------------------- */

static void
decode_ok(enum cmpp_version v, const uint8_t *b, size_t n, struct cmpp *p)
{
	int rc = cmpp_decode(v, b, n, p, err, sizeof(err));

	if (rc != 0)
		print_error("decode: %s\n", err);
	assert_int_equal(rc, 0);
}

static void
decode_fails(enum cmpp_version v, const uint8_t *b, size_t n,
    const char *why)
{
	struct cmpp p;

	err[0] = '\0';
	assert_int_equal(cmpp_decode(v, b, n, &p, err, sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		print_error("error \"%s\" lacks \"%s\"\n", err, why);
	assert_non_null(strstr(err, why));
}

/* Encodes p and requires exactly the octets of the frame. */
static void
encodes_to(enum cmpp_version v, const struct cmpp *p, const uint8_t *want,
    size_t n)
{
	uint8_t buf[CMPP_MAX_LEN];
	int rc = cmpp_encode(v, p, buf, sizeof(buf), err, sizeof(err));

	if (rc < 0)
		print_error("encode: %s\n", err);
	assert_int_equal(rc, (int)n);
	assert_memory_equal(buf, want, n);
}

/* Decode, encode, decode: the same struct, the same octets. */
static void
round_trip(enum cmpp_version v, const uint8_t *b, size_t n)
{
	uint8_t buf[CMPP_MAX_LEN];
	struct cmpp p, q;
	int rc;

	decode_ok(v, b, n, &p);
	rc = cmpp_encode(v, &p, buf, sizeof(buf), err, sizeof(err));
	assert_int_equal(rc, (int)n);
	assert_memory_equal(buf, b, n);
	decode_ok(v, buf, (size_t)rc, &q);
	assert_memory_equal(&p, &q, sizeof(p));
}

static void
set_str(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s);
}
#define SET(f, s) set_str(f, sizeof(f), s)

/* ---- CONNECT ----------------------------------------------------------- */

static void
connect_fields(enum cmpp_version v, const uint8_t *b, size_t n)
{
	struct cmpp p;

	decode_ok(v, b, n, &p);
	assert_int_equal(p.command_id, CMPP_CONNECT);
	assert_int_equal(p.sequence, 1);
	assert_string_equal(p.source_addr, "901234");
	assert_memory_equal(p.authenticator, AUTH_SRC, 16);
	assert_int_equal(p.version, v);
	assert_int_equal(p.timestamp, 102030405);
}

static void
connect_struct(enum cmpp_version v, struct cmpp *p)
{
	memset(p, 0, sizeof(*p));
	p->command_id = CMPP_CONNECT;
	p->sequence = 1;
	SET(p->source_addr, "901234");
	memcpy(p->authenticator, AUTH_SRC, 16);
	p->version = v;
	p->timestamp = cmpp_timestamp(1, 2, 3, 4, 5);
}

static void
test_connect(void **state)
{
	struct cmpp p;

	(void)state;
	connect_fields(CMPP_V30, F(connect30));
	connect_fields(CMPP_V20, F(connect20));
	connect_struct(CMPP_V30, &p);
	encodes_to(CMPP_V30, &p, F(connect30));
	connect_struct(CMPP_V20, &p);
	encodes_to(CMPP_V20, &p, F(connect20));
	round_trip(CMPP_V30, F(connect30));
	round_trip(CMPP_V20, F(connect20));
}

static void
test_connect_resp(void **state)
{
	struct cmpp p;

	(void)state;
	decode_ok(CMPP_V30, F(connect_resp30), &p);
	assert_int_equal(p.command_id, CMPP_CONNECT_RESP);
	assert_int_equal(p.sequence, 1);
	assert_int_equal(p.status, 0);
	assert_memory_equal(p.auth_ismg, AUTH_ISMG30, 16);
	assert_int_equal(p.version, 0x30);

	decode_ok(CMPP_V20, F(connect_resp20), &p);
	assert_int_equal(p.status, 0);
	assert_memory_equal(p.auth_ismg, AUTH_ISMG20, 16);
	assert_int_equal(p.version, 0x20);

	memset(&p, 0, sizeof(p));
	p.command_id = CMPP_CONNECT_RESP;
	p.sequence = 1;
	memcpy(p.auth_ismg, AUTH_ISMG30, 16);
	p.version = 0x30;
	encodes_to(CMPP_V30, &p, F(connect_resp30));
	memcpy(p.auth_ismg, AUTH_ISMG20, 16);
	p.version = 0x20;
	encodes_to(CMPP_V20, &p, F(connect_resp20));
	round_trip(CMPP_V30, F(connect_resp30));
	round_trip(CMPP_V20, F(connect_resp20));
}

/* A refusal: Status 3 occupies 4 octets in 3.0 and 1 in 2.0. */
static void
test_connect_resp_refused(void **state)
{
	static const char r30[] =
	    "\x00\x00\x00\x21" "\x80\x00\x00\x01" "\x00\x00\x00\x01"
	    "\x00\x00\x00\x03" Z16 "\x30";
	static const char r20[] =
	    "\x00\x00\x00\x1e" "\x80\x00\x00\x01" "\x00\x00\x00\x01"
	    "\x03" Z16 "\x20";
	struct cmpp p;

	(void)state;
	decode_ok(CMPP_V30, F(r30), &p);
	assert_int_equal(p.status, 3);
	assert_string_equal(cmpp_connect_status_name(p.status),
	    "authentication failed");
	decode_ok(CMPP_V20, F(r20), &p);
	assert_int_equal(p.status, 3);
	/* The other version's layout does not fit these lengths. */
	decode_fails(CMPP_V20, F(r30), "octets after");
	decode_fails(CMPP_V30, F(r20), "AuthenticatorISMG");
}

/* ---- header-only messages ----------------------------------------------- */

static void
test_header_only(void **state)
{
	static const struct {
		const char *frame;
		uint32_t    id, seq;
	} t[] = {
		{ terminate, CMPP_TERMINATE, 5 },
		{ terminate_resp, CMPP_TERMINATE_RESP, 5 },
		{ active_test, CMPP_ACTIVE_TEST, 9 },
	};
	enum cmpp_version vs[] = { CMPP_V30, CMPP_V20 };
	uint8_t longer[13];
	struct cmpp p;
	size_t i, j;

	(void)state;
	for (j = 0; j < 2; j++)
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			decode_ok(vs[j], (const uint8_t *)t[i].frame, 12,
			    &p);
			assert_int_equal(p.command_id, t[i].id);
			assert_int_equal(p.sequence, t[i].seq);
			memset(&p, 0, sizeof(p));
			p.command_id = t[i].id;
			p.sequence = t[i].seq;
			encodes_to(vs[j], &p,
			    (const uint8_t *)t[i].frame, 12);
			/* A body on a header-only message is an error. */
			memcpy(longer, t[i].frame, 12);
			longer[3] = 13;
			longer[12] = 0;
			decode_fails(vs[j], longer, 13, "1 octets after");
		}
}

static void
test_active_test_resp(void **state)
{
	uint8_t short12[12];
	struct cmpp p;

	(void)state;
	decode_ok(CMPP_V30, F(active_test_resp), &p);
	assert_int_equal(p.command_id, CMPP_ACTIVE_TEST_RESP);
	assert_int_equal(p.sequence, 9);
	memset(&p, 0, sizeof(p));
	p.command_id = CMPP_ACTIVE_TEST_RESP;
	p.sequence = 9;
	encodes_to(CMPP_V30, &p, F(active_test_resp));
	encodes_to(CMPP_V20, &p, F(active_test_resp));
	/* Some gateways leave the Reserved octet out: accepted. */
	memcpy(short12, active_test_resp, 12);
	short12[3] = 12;
	decode_ok(CMPP_V20, short12, 12, &p);
	assert_int_equal(p.command_id, CMPP_ACTIVE_TEST_RESP);
	round_trip(CMPP_V20, F(active_test_resp));
}

/* ---- SUBMIT ------------------------------------------------------------ */

static void
submit_struct(enum cmpp_version v, struct cmpp *p)
{
	memset(p, 0, sizeof(*p));
	p->command_id = CMPP_SUBMIT;
	p->sequence = 42;
	p->pk_total = 1;
	p->pk_number = 1;
	p->registered_delivery = 1;
	SET(p->service_id, "IDCARD");
	p->fee_usertype = 2;
	p->msg_fmt = CMPP_FMT_UCS2;
	SET(p->msg_src, "901234");
	SET(p->fee_type, "01");
	SET(p->fee_code, "000000");
	SET(p->src_id, "10657000");
	SET(p->dest_terminal_id, "13800138000");
	p->msg_length = 4;
	memcpy(p->msg_content, "\x4f\x60\x59\x7d", 4);
	(void)v;
}

static void
submit_fields(enum cmpp_version v, const uint8_t *b, size_t n)
{
	struct cmpp p;

	decode_ok(v, b, n, &p);
	assert_int_equal(p.command_id, CMPP_SUBMIT);
	assert_int_equal(p.sequence, 42);
	assert_true(p.msg_id == 0);
	assert_int_equal(p.pk_total, 1);
	assert_int_equal(p.pk_number, 1);
	assert_int_equal(p.registered_delivery, 1);
	assert_int_equal(p.msg_level, 0);
	assert_string_equal(p.service_id, "IDCARD");
	assert_int_equal(p.fee_usertype, 2);
	assert_string_equal(p.fee_terminal_id, "");
	assert_int_equal(p.fee_terminal_type, 0);
	assert_int_equal(p.tp_pid, 0);
	assert_int_equal(p.tp_udhi, 0);
	assert_int_equal(p.msg_fmt, CMPP_FMT_UCS2);
	assert_string_equal(p.msg_src, "901234");
	assert_string_equal(p.fee_type, "01");
	assert_string_equal(p.fee_code, "000000");
	assert_string_equal(p.valid_time, "");
	assert_string_equal(p.at_time, "");
	assert_string_equal(p.src_id, "10657000");
	assert_string_equal(p.dest_terminal_id, "13800138000");
	assert_int_equal(p.dest_terminal_type, 0);
	assert_int_equal(p.msg_length, 4);
	assert_memory_equal(p.msg_content, "\x4f\x60\x59\x7d", 4);
	assert_string_equal(p.link_id, "");
}

static void
test_submit(void **state)
{
	struct cmpp p;

	(void)state;
	submit_fields(CMPP_V30, F(submit30));
	submit_fields(CMPP_V20, F(submit20));
	submit_struct(CMPP_V30, &p);
	encodes_to(CMPP_V30, &p, F(submit30));
	submit_struct(CMPP_V20, &p);
	encodes_to(CMPP_V20, &p, F(submit20));
	round_trip(CMPP_V30, F(submit30));
	round_trip(CMPP_V20, F(submit20));
}

/* The 3.0-only octets and the LinkID land in their fields. */
static void
test_submit_v30_only_fields(void **state)
{
	uint8_t b[sizeof(submit30)];
	struct cmpp p;

	(void)state;
	memcpy(b, submit30, sizeof(b));
	b[12 + 8 + 4 + 10 + 1 + 32] = 1;          /* Fee_terminal_type */
	b[12 + 129 + 32] = 1;                       /* Dest_terminal_type */
	memcpy(b + 12 + 129 + 32 + 1 + 1 + 4, "LNK0123456789abcdefg", 20);
	decode_ok(CMPP_V30, b, sizeof(b) - 1, &p);
	assert_int_equal(p.fee_terminal_type, 1);
	assert_int_equal(p.dest_terminal_type, 1);
	assert_string_equal(p.link_id, "LNK0123456789abcdefg");
	round_trip(CMPP_V30, b, sizeof(b) - 1);
}

/* Several destinations: the first is kept, the length is checked. */
static void
test_submit_many_dests(void **state)
{
	uint8_t b[sizeof(submit30) + 64];
	size_t dests = 12 + 128, n = sizeof(submit30) - 1;
	struct cmpp p;

	(void)state;
	/* DestUsr_tl 3: two more 32-octet ids after the first. */
	memcpy(b, submit30, dests + 1 + 32);
	memset(b + dests + 1 + 32, 0, 64);
	memcpy(b + dests + 1 + 32, "13900139000", 11);
	memcpy(b + dests + 1 + 64, "13700137000", 11);
	memcpy(b + dests + 1 + 96, submit30 + dests + 1 + 32,
	    n - (dests + 1 + 32));
	b[dests] = 3;
	b[2] = (uint8_t)((n + 64) >> 8);
	b[3] = (uint8_t)(n + 64);
	decode_ok(CMPP_V30, b, n + 64, &p);
	assert_string_equal(p.dest_terminal_id, "13800138000");
	assert_int_equal(p.msg_length, 4);
	assert_memory_equal(p.msg_content, "\x4f\x60\x59\x7d", 4);

	/* DestUsr_tl 3 with room for one id: the ids run past the end. */
	memcpy(b, submit30, n);
	b[dests] = 3;
	decode_fails(CMPP_V30, b, n, "Dest_terminal_Id");
	b[dests] = 0;
	decode_fails(CMPP_V30, b, n, "DestUsr_tl 0");
	b[dests] = 101;
	decode_fails(CMPP_V30, b, n, "DestUsr_tl 101");
}

static void
test_submit_resp(void **state)
{
	struct cmpp p;

	(void)state;
	decode_ok(CMPP_V30, F(submit_resp30), &p);
	assert_int_equal(p.command_id, CMPP_SUBMIT_RESP);
	assert_int_equal(p.sequence, 42);
	assert_true(p.msg_id == MSGID_V);
	assert_int_equal(p.status, CMPP_RESULT_FLOW);
	decode_ok(CMPP_V20, F(submit_resp20), &p);
	assert_true(p.msg_id == MSGID_V);
	assert_int_equal(p.status, CMPP_RESULT_FLOW);

	memset(&p, 0, sizeof(p));
	p.command_id = CMPP_SUBMIT_RESP;
	p.sequence = 42;
	p.msg_id = MSGID_V;
	p.status = 8;
	encodes_to(CMPP_V30, &p, F(submit_resp30));
	encodes_to(CMPP_V20, &p, F(submit_resp20));
	round_trip(CMPP_V30, F(submit_resp30));
	round_trip(CMPP_V20, F(submit_resp20));
}

/* ---- DELIVER ----------------------------------------------------------- */

static void
deliver_fields(enum cmpp_version v, const uint8_t *b, size_t n)
{
	struct cmpp p;

	decode_ok(v, b, n, &p);
	assert_int_equal(p.command_id, CMPP_DELIVER);
	assert_int_equal(p.sequence, 256);
	assert_true(p.msg_id == MSGID_V);
	assert_string_equal(p.dest_id, "10657000");
	assert_string_equal(p.service_id, "IDCARD");
	assert_int_equal(p.tp_pid, 0);
	assert_int_equal(p.tp_udhi, 0);
	assert_int_equal(p.msg_fmt, CMPP_FMT_GBK);
	assert_string_equal(p.src_terminal_id, "13800138000");
	assert_int_equal(p.src_terminal_type, 0);
	assert_int_equal(p.registered_delivery, 0);
	assert_int_equal(p.msg_length, 4);
	assert_memory_equal(p.msg_content, "\xb2\xe9\xd1\xaf", 4);
	assert_string_equal(p.link_id, v == CMPP_V30 ? "LINK-7" : "");
	assert_true(p.report.msg_id == 0);
}

static void
deliver_struct(enum cmpp_version v, struct cmpp *p)
{
	memset(p, 0, sizeof(*p));
	p->command_id = CMPP_DELIVER;
	p->sequence = 256;
	p->msg_id = MSGID_V;
	SET(p->dest_id, "10657000");
	SET(p->service_id, "IDCARD");
	p->msg_fmt = CMPP_FMT_GBK;
	SET(p->src_terminal_id, "13800138000");
	p->msg_length = 4;
	memcpy(p->msg_content, "\xb2\xe9\xd1\xaf", 4);
	if (v == CMPP_V30)
		SET(p->link_id, "LINK-7");
}

static void
test_deliver(void **state)
{
	struct cmpp p;

	(void)state;
	deliver_fields(CMPP_V30, F(deliver30));
	deliver_fields(CMPP_V20, F(deliver20));
	deliver_struct(CMPP_V30, &p);
	encodes_to(CMPP_V30, &p, F(deliver30));
	deliver_struct(CMPP_V20, &p);
	encodes_to(CMPP_V20, &p, F(deliver20));
	round_trip(CMPP_V30, F(deliver30));
	round_trip(CMPP_V20, F(deliver20));
}

static void
report_fields(enum cmpp_version v, const uint8_t *b, size_t n)
{
	struct cmpp p;

	decode_ok(v, b, n, &p);
	assert_int_equal(p.command_id, CMPP_DELIVER);
	assert_true(p.msg_id == 0x0102030405060708ull);
	assert_string_equal(p.src_terminal_id, "13800138000");
	assert_int_equal(p.registered_delivery, 1);
	assert_int_equal(p.msg_length, cmpp_report_len(v));
	assert_true(p.report.msg_id == MSGID_V);
	assert_string_equal(p.report.stat,
	    v == CMPP_V30 ? "DELIVRD" : "MA:0001");
	assert_string_equal(p.report.submit_time, "2611211030");
	assert_string_equal(p.report.done_time, "2611211031");
	assert_string_equal(p.report.dest_terminal_id, "13800138000");
	assert_int_equal(p.report.smsc_sequence, 7);
	/* The raw octets are there too. */
	assert_memory_equal(p.msg_content, MSGID, 8);
}

static void
report_struct(enum cmpp_version v, struct cmpp *p)
{
	memset(p, 0, sizeof(*p));
	p->command_id = CMPP_DELIVER;
	p->sequence = 257;
	p->msg_id = 0x0102030405060708ull;
	SET(p->dest_id, "10657000");
	SET(p->service_id, "IDCARD");
	SET(p->src_terminal_id, "13800138000");
	p->registered_delivery = 1;
	p->report.msg_id = MSGID_V;
	SET(p->report.stat, v == CMPP_V30 ? "DELIVRD" : "MA:0001");
	SET(p->report.submit_time, "2611211030");
	SET(p->report.done_time, "2611211031");
	SET(p->report.dest_terminal_id, "13800138000");
	p->report.smsc_sequence = 7;
}

static void
test_report(void **state)
{
	struct cmpp p;

	(void)state;
	assert_int_equal(cmpp_report_len(CMPP_V30), 71);
	assert_int_equal(cmpp_report_len(CMPP_V20), 60);
	report_fields(CMPP_V30, F(report30));
	report_fields(CMPP_V20, F(report20));
	/* msg_length and msg_content are ignored: the report is built. */
	report_struct(CMPP_V30, &p);
	encodes_to(CMPP_V30, &p, F(report30));
	report_struct(CMPP_V20, &p);
	p.msg_length = 3;
	encodes_to(CMPP_V20, &p, F(report20));
	round_trip(CMPP_V30, F(report30));
	round_trip(CMPP_V20, F(report20));
}

/* A report whose Msg_Length is not the version's report size. */
static void
test_report_bad_length(void **state)
{
	uint8_t b[sizeof(report30)];
	size_t at = 12 + 8 + 21 + 10 + 3 + 32 + 1 + 1;
	size_t n = sizeof(report30) - 1;

	(void)state;
	memcpy(b, report30, sizeof(b));
	assert_int_equal(b[at], 71);
	/* A 2.0-sized report on a 3.0 link, the frame shortened to match. */
	b[at] = 60;
	memmove(b + at + 1 + 60, b + at + 1 + 71, 20);
	b[3] = (uint8_t)(n - 11);
	decode_fails(CMPP_V30, b, n - 11, "status report of 60 octets");
}

static void
test_deliver_resp(void **state)
{
	struct cmpp p;

	(void)state;
	decode_ok(CMPP_V30, F(deliver_resp30), &p);
	assert_int_equal(p.command_id, CMPP_DELIVER_RESP);
	assert_int_equal(p.sequence, 256);
	assert_true(p.msg_id == MSGID_V);
	assert_int_equal(p.status, 0);
	decode_ok(CMPP_V20, F(deliver_resp20), &p);
	assert_true(p.msg_id == MSGID_V);

	memset(&p, 0, sizeof(p));
	p.command_id = CMPP_DELIVER_RESP;
	p.sequence = 256;
	p.msg_id = MSGID_V;
	encodes_to(CMPP_V30, &p, F(deliver_resp30));
	encodes_to(CMPP_V20, &p, F(deliver_resp20));
	round_trip(CMPP_V30, F(deliver_resp30));
	round_trip(CMPP_V20, F(deliver_resp20));
}

/* ---- malformed frames -------------------------------------------------- */

static void
test_header(void **state)
{
	uint8_t b[12] = { 0, 0, 0, 12, 0x80, 0, 0, 4, 0, 0, 0, 7 };
	struct cmpp p;
	uint32_t total;

	(void)state;
	assert_int_equal(cmpp_header(b, 12, &p, &total, err, sizeof(err)), 0);
	assert_int_equal(total, 12);
	assert_int_equal(p.command_id, CMPP_SUBMIT_RESP);
	assert_int_equal(p.sequence, 7);
	assert_int_equal(cmpp_header(b, 11, &p, &total, err, sizeof(err)),
	    -1);
	b[3] = 11;
	assert_int_equal(cmpp_header(b, 12, &p, &total, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "Total_Length 11"));
	b[2] = 0x10;
	b[3] = 0x01;                            /* 4097 */
	assert_int_equal(cmpp_header(b, 12, &p, &total, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "Total_Length 4097"));
	b[3] = 0x00;                            /* 4096: the most we take */
	assert_int_equal(cmpp_header(b, 12, &p, &total, err, sizeof(err)), 0);
	assert_int_equal(total, CMPP_MAX_LEN);
}

static void
test_decode_errors(void **state)
{
	uint8_t b[CMPP_MAX_LEN];
	size_t n = sizeof(submit30) - 1;
	size_t at;

	(void)state;
	/* Fewer octets than a header. */
	decode_fails(CMPP_V30, (const uint8_t *)submit30, 8, "header");
	/* Total_Length and the frame disagree. */
	decode_fails(CMPP_V30, (const uint8_t *)submit30, n - 1,
	    "Total_Length 199 but 198");
	/* Total_Length < 12. */
	memcpy(b, terminate, 12);
	b[3] = 8;
	decode_fails(CMPP_V30, b, 12, "Total_Length 8");
	/* Too short: the frame ends inside Service_Id. */
	memcpy(b, submit30, n);
	b[3] = 29;
	decode_fails(CMPP_V30, b, 29, "Service_Id");
	/* Msg_Length past the end. */
	memcpy(b, deliver30, sizeof(deliver30) - 1);
	at = 12 + 8 + 21 + 10 + 3 + 32 + 1 + 1;
	assert_int_equal(b[at], 4);
	b[at] = 0xFF;
	decode_fails(CMPP_V30, b, sizeof(deliver30) - 1, "Msg_Content");
	/* The LinkID cut short. */
	memcpy(b, deliver30, sizeof(deliver30) - 1);
	b[3] -= 5;
	decode_fails(CMPP_V30, b, sizeof(deliver30) - 1 - 5, "LinkID");
	/* A 3.0 SUBMIT is not a 2.0 one. */
	decode_fails(CMPP_V20, F(submit30), "DestUsr_tl");
	/* An unknown version. */
	decode_fails((enum cmpp_version)0x21, F(terminate), "version");
}

static void
test_unknown_command(void **state)
{
	static const char query[] =
	    "\x00\x00\x00\x0e" "\x00\x00\x00\x06" "\x00\x00\x00\x03" "xy";
	uint8_t buf[64];
	struct cmpp p;

	(void)state;
	decode_ok(CMPP_V30, F(query), &p);
	assert_int_equal(p.command_id, 6);
	assert_int_equal(p.sequence, 3);
	assert_false(cmpp_command_known(6));
	assert_true(cmpp_command_known(CMPP_SUBMIT));
	assert_true(cmpp_command_known(CMPP_ACTIVE_TEST_RESP));
	assert_int_equal(cmpp_encode(CMPP_V30, &p, buf, sizeof(buf), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "CMPP_QUERY"));
}

static void
test_encode_errors(void **state)
{
	uint8_t buf[CMPP_MAX_LEN];
	struct cmpp p;

	(void)state;
	/* A 32-digit terminal id does not fit 2.0's 21 octets. */
	submit_struct(CMPP_V20, &p);
	SET(p.dest_terminal_id, "1234567890123456789012");
	assert_int_equal(cmpp_encode(CMPP_V30, &p, buf, sizeof(buf), err,
	    sizeof(err)), 195 + 4);
	assert_int_equal(cmpp_encode(CMPP_V20, &p, buf, sizeof(buf), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "Dest_terminal_Id: 22 octets"));
	/* A LinkID longer than 2.0's Reserve. */
	submit_struct(CMPP_V20, &p);
	SET(p.link_id, "123456789");
	assert_int_equal(cmpp_encode(CMPP_V20, &p, buf, sizeof(buf), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "Reserve"));
	/* A member without its NUL. */
	submit_struct(CMPP_V30, &p);
	memset(p.service_id, 'x', sizeof(p.service_id));
	assert_int_equal(cmpp_encode(CMPP_V30, &p, buf, sizeof(buf), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "Service_Id"));
	/* A Result over 255 does not fit 2.0's one octet. */
	memset(&p, 0, sizeof(p));
	p.command_id = CMPP_SUBMIT_RESP;
	p.status = 256;
	assert_int_equal(cmpp_encode(CMPP_V20, &p, buf, sizeof(buf), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "Result"));
	assert_int_equal(cmpp_encode(CMPP_V30, &p, buf, sizeof(buf), err,
	    sizeof(err)), 24);
	/* No room, at every length short of the frame. */
	submit_struct(CMPP_V30, &p);
	for (size_t cap = 0; cap < 199; cap++)
		assert_int_equal(cmpp_encode(CMPP_V30, &p, buf, cap, err,
		    sizeof(err)), -1);
	assert_int_equal(cmpp_encode(CMPP_V30, &p, buf, 199, err,
	    sizeof(err)), 199);
	assert_int_equal(cmpp_encode((enum cmpp_version)0, &p, buf,
	    sizeof(buf), err, sizeof(err)), -1);
}

/* Long content, UDH flag, a full 255-octet Msg_Content: both versions. */
static void
test_round_trip_built(void **state)
{
	enum cmpp_version vs[] = { CMPP_V30, CMPP_V20 };
	uint8_t buf[CMPP_MAX_LEN];
	struct cmpp p, q;
	int n, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		submit_struct(vs[k], &p);
		p.msg_id = 0xFFFFFFFFFFFFFFFFull;
		p.pk_total = 3;
		p.pk_number = 2;
		p.tp_udhi = 1;
		p.msg_length = CMPP_CONTENT_MAX;
		for (int i = 0; i < CMPP_CONTENT_MAX; i++)
			p.msg_content[i] = (uint8_t)i;
		SET(p.valid_time, "261121103000032+");
		SET(p.at_time, "261121103000032+");
		SET(p.fee_terminal_id, "13800138000");
		SET(p.link_id, vs[k] == CMPP_V30 ? "0123456789abcdefghij" :
		    "RSV12345");
		if (vs[k] == CMPP_V30) {
			p.fee_terminal_type = 1;
			p.dest_terminal_type = 1;
		}
		n = cmpp_encode(vs[k], &p, buf, sizeof(buf), err,
		    sizeof(err));
		assert_int_equal(n, (vs[k] == CMPP_V30 ? 195 : 159) + 255);
		decode_ok(vs[k], buf, (size_t)n, &q);
		assert_memory_equal(&p, &q, sizeof(p));
	}
}

/* ---- authenticators, timestamp, Msg_Id, names -------------------------- */

static void
test_timestamp(void **state)
{
	(void)state;
	assert_int_equal(cmpp_timestamp(1, 2, 3, 4, 5), 102030405);
	assert_int_equal(cmpp_timestamp(12, 31, 23, 59, 59), 1231235959u);
	assert_int_equal(cmpp_timestamp(1, 1, 0, 0, 0), 101000000);
}

static void
test_auth_source(void **state)
{
	uint8_t got[16], want[16], in[64];
	struct md5_ctx ctx;
	size_t n = 0;

	(void)state;
	cmpp_auth_source("901234", "secret", 102030405, got);
	/* The fixed digest from md5sum (see AUTH_SRC). */
	assert_memory_equal(got, AUTH_SRC, 16);
	/* And by hand: SP_Id, 9 zero octets, secret, "MMDDHHMMSS". */
	memcpy(in + n, "901234", 6);
	n += 6;
	memset(in + n, 0, 9);
	n += 9;
	memcpy(in + n, "pa55", 4);
	n += 4;
	memcpy(in + n, "1231235959", 10);
	n += 10;
	md5_init(&ctx);
	md5_update(&ctx, n, in);
	md5_digest(&ctx, 16, want);
	cmpp_auth_source("901234", "pa55", 1231235959u, got);
	assert_memory_equal(got, want, 16);
	/* A timestamp of fewer digits is zero-padded to 10. */
	memcpy(in + 19, "0101000000", 10);
	md5_init(&ctx);
	md5_update(&ctx, n, in);
	md5_digest(&ctx, 16, want);
	cmpp_auth_source("901234", "pa55", cmpp_timestamp(1, 1, 0, 0, 0),
	    got);
	assert_memory_equal(got, want, 16);
}

static void
test_auth_ismg(void **state)
{
	uint8_t got[16], want[16], in[64];
	struct md5_ctx ctx;

	(void)state;
	cmpp_auth_ismg(CMPP_V30, 0, (const uint8_t *)AUTH_SRC, "secret", got);
	assert_memory_equal(got, AUTH_ISMG30, 16);
	cmpp_auth_ismg(CMPP_V20, 0, (const uint8_t *)AUTH_SRC, "secret", got);
	assert_memory_equal(got, AUTH_ISMG20, 16);
	/* Status 3 by hand: 4 octets big-endian in 3.0, 1 in 2.0. */
	memcpy(in, "\x00\x00\x00\x03", 4);
	memcpy(in + 4, AUTH_SRC, 16);
	memcpy(in + 20, "secret", 6);
	md5_init(&ctx);
	md5_update(&ctx, 26, in);
	md5_digest(&ctx, 16, want);
	cmpp_auth_ismg(CMPP_V30, 3, (const uint8_t *)AUTH_SRC, "secret", got);
	assert_memory_equal(got, want, 16);
	md5_init(&ctx);
	md5_update(&ctx, 23, in + 3);
	md5_digest(&ctx, 16, want);
	cmpp_auth_ismg(CMPP_V20, 3, (const uint8_t *)AUTH_SRC, "secret", got);
	assert_memory_equal(got, want, 16);
}

static void
test_msgid_known(void **state)
{
	struct cmpp_msgid m = { 11, 21, 10, 30, 45, 123456, 0x1234 }, s;
	char hex[17], show[64];

	(void)state;
	assert_true(cmpp_msgid_make(&m) == MSGID_V);
	cmpp_msgid_split(MSGID_V, &s);
	assert_int_equal(s.month, 11);
	assert_int_equal(s.day, 21);
	assert_int_equal(s.hour, 10);
	assert_int_equal(s.minute, 30);
	assert_int_equal(s.second, 45);
	assert_int_equal(s.gateway, 123456);
	assert_int_equal(s.sequence, 0x1234);
	cmpp_msgid_hex(MSGID_V, hex);
	assert_string_equal(hex, "baa9eb41e2401234");
	cmpp_msgid_hex(1, hex);
	assert_string_equal(hex, "0000000000000001");
	cmpp_msgid_show(MSGID_V, show, sizeof(show));
	assert_string_equal(show, "11-21 10:30:45 gw=123456 seq=4660");
	cmpp_msgid_show(MSGID_V, show, 6);
	assert_string_equal(show, "11-21");
}

static void
test_msgid_round_trip(void **state)
{
	struct cmpp_msgid max = { 15, 31, 31, 63, 63, 0x3FFFFF, 0xFFFF }, s;
	struct cmpp_msgid one[7] = {
		{ 1, 0, 0, 0, 0, 0, 0 }, { 0, 1, 0, 0, 0, 0, 0 },
		{ 0, 0, 1, 0, 0, 0, 0 }, { 0, 0, 0, 1, 0, 0, 0 },
		{ 0, 0, 0, 0, 1, 0, 0 }, { 0, 0, 0, 0, 0, 1, 0 },
		{ 0, 0, 0, 0, 0, 0, 1 },
	};
	const uint64_t bit[7] = {
		1ull << 60, 1ull << 55, 1ull << 50, 1ull << 44, 1ull << 38,
		1ull << 16, 1,
	};
	uint64_t x = 0x0123456789abcdefull;

	(void)state;
	assert_true(cmpp_msgid_make(&max) == UINT64_MAX);
	for (int i = 0; i < 7; i++) {
		assert_true(cmpp_msgid_make(&one[i]) == bit[i]);
		cmpp_msgid_split(bit[i], &s);
		assert_memory_equal(&s, &one[i], sizeof(s));
	}
	for (int i = 0; i < 1000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		cmpp_msgid_split(x, &s);
		assert_true(cmpp_msgid_make(&s) == x);
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(cmpp_command_name(CMPP_SUBMIT), "CMPP_SUBMIT");
	assert_string_equal(cmpp_command_name(CMPP_ACTIVE_TEST_RESP),
	    "CMPP_ACTIVE_TEST_RESP");
	assert_string_equal(cmpp_command_name(0x12345678u), "0x12345678");
	assert_string_equal(cmpp_connect_status_name(0), "ok");
	assert_string_equal(cmpp_connect_status_name(1),
	    "bad message structure");
	assert_string_equal(cmpp_connect_status_name(2),
	    "bad source address");
	assert_string_equal(cmpp_connect_status_name(4), "version too high");
	assert_string_equal(cmpp_connect_status_name(5), "other error");
	assert_string_equal(cmpp_connect_status_name(0xFFFFFFFFu),
	    "other error");
	assert_string_equal(cmpp_result_name(CMPP_RESULT_OK), "ok (0)");
	assert_string_equal(cmpp_result_name(CMPP_RESULT_FLOW),
	    "flow control (8)");
	assert_string_equal(cmpp_result_name(CMPP_RESULT_NO_SERVICE),
	    "this gateway does not serve the number (9)");
	assert_string_equal(cmpp_result_name(CMPP_RESULT_BAD_DEST),
	    "bad Dest_terminal_Id (13)");
	assert_string_equal(cmpp_result_name(3), "duplicate Msg_Id (3)");
	assert_string_equal(cmpp_result_name(14), "other error (14)");
}

/*
 * Every frame above with each octet of its body set to a few values in
 * turn: whatever decodes encodes and decodes to the same struct (a
 * seeded, in-suite slice of fuzz/fuzz_cmpp.c).
 */
static void
test_mutations(void **state)
{
	static const struct {
		const char *f;
		size_t      n;
		enum cmpp_version v;
	} t[] = {
#define M(x, v) { x, sizeof(x) - 1, v }
		M(connect30, CMPP_V30), M(connect_resp30, CMPP_V30),
		M(connect_resp20, CMPP_V20), M(submit30, CMPP_V30),
		M(submit20, CMPP_V20), M(deliver30, CMPP_V30),
		M(deliver20, CMPP_V20), M(report30, CMPP_V30),
		M(report20, CMPP_V20), M(submit_resp20, CMPP_V20),
#undef M
	};
	static const uint8_t vals[] = { 0x00, 0x01, 0x02, 0x47, 0x65, 0xFF };
	uint8_t b[CMPP_MAX_LEN], out[CMPP_MAX_LEN], out2[CMPP_MAX_LEN];
	struct cmpp p, q;
	size_t i, j, k;
	int n, m, ok = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (j = 12; j < t[i].n; j++)
			for (k = 0; k < sizeof(vals); k++) {
				memcpy(b, t[i].f, t[i].n);
				b[j] = vals[k];
				if (cmpp_decode(t[i].v, b, t[i].n, &p, err,
				    sizeof(err)) != 0)
					continue;
				ok++;
				n = cmpp_encode(t[i].v, &p, out, sizeof(out),
				    err, sizeof(err));
				assert_true(n > 0);
				decode_ok(t[i].v, out, (size_t)n, &q);
				m = cmpp_encode(t[i].v, &q, out2,
				    sizeof(out2), err, sizeof(err));
				assert_int_equal(m, n);
				assert_memory_equal(out, out2, (size_t)n);
				/* A report's raw content may differ after
				 * a NUL inside a string; all else is equal. */
				if (p.registered_delivery == 1 &&
				    p.command_id == CMPP_DELIVER)
					memcpy(q.msg_content, p.msg_content,
					    sizeof(q.msg_content));
				assert_memory_equal(&p, &q, sizeof(p));
			}
	assert_true(ok > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_connect),
		T(test_connect_resp),
		T(test_connect_resp_refused),
		T(test_header_only),
		T(test_active_test_resp),
		T(test_submit),
		T(test_submit_v30_only_fields),
		T(test_submit_many_dests),
		T(test_submit_resp),
		T(test_deliver),
		T(test_report),
		T(test_report_bad_length),
		T(test_deliver_resp),
		T(test_header),
		T(test_decode_errors),
		T(test_unknown_command),
		T(test_encode_errors),
		T(test_round_trip_built),
		T(test_timestamp),
		T(test_auth_source),
		T(test_auth_ismg),
		T(test_msgid_known),
		T(test_msgid_round_trip),
		T(test_names),
		T(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
