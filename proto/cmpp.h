/*
 * China Mobile CMPP 3.0 and 2.0 codec (CMPP 3.0 spec, with the 2.0
 * differences): the frame header, the field layouts of CONNECT, TERMINATE,
 * SUBMIT, DELIVER (and its status report), ACTIVE_TEST and their responses
 * as tables per version, the authenticators (MD5 from nettle), Msg_Id.
 * Pure: no I/O, no clock. Integers are big-endian on the wire; C-strings
 * are fixed-width octet fields, NUL-padded, NUL-terminated here.
 */
#ifndef PROTO_CMPP_H
#define PROTO_CMPP_H

#include <stddef.h>
#include <stdint.h>

#define CMPP_HEADER_LEN   12
#define CMPP_MAX_LEN      4096      /* larger Total_Length: drop the link */
#define CMPP_CONTENT_MAX  255       /* Msg_Content octets */
#define CMPP_DEST_MAX     100       /* DestUsr_tl of a SUBMIT we decode */
#define CMPP_REPORT_LEN_V20 60      /* status report Msg_Content octets */
#define CMPP_REPORT_LEN_V30 71

enum cmpp_version { CMPP_V20 = 0x20, CMPP_V30 = 0x30 };

enum {
	CMPP_CONNECT          = 0x00000001u,
	CMPP_TERMINATE        = 0x00000002u,
	CMPP_SUBMIT           = 0x00000004u,
	CMPP_DELIVER          = 0x00000005u,
	CMPP_ACTIVE_TEST      = 0x00000008u,
	CMPP_RESP_BIT         = 0x80000000u,
	CMPP_CONNECT_RESP     = 0x80000001u,
	CMPP_TERMINATE_RESP   = 0x80000002u,
	CMPP_SUBMIT_RESP      = 0x80000004u,
	CMPP_DELIVER_RESP     = 0x80000005u,
	CMPP_ACTIVE_TEST_RESP = 0x80000008u,
};

/* Msg_Fmt values we read and write. */
enum { CMPP_FMT_ASCII = 0, CMPP_FMT_UCS2 = 8, CMPP_FMT_GBK = 15 };

/* SUBMIT_RESP Result values with a meaning for routing and rate. */
enum {
	CMPP_RESULT_OK          = 0,
	CMPP_RESULT_FLOW        = 8,    /* flow control: throttling */
	CMPP_RESULT_NO_SERVICE  = 9,    /* this gateway does not serve it */
	CMPP_RESULT_BAD_DEST    = 13,   /* bad Dest_terminal_Id */
};

/* A status report: the Msg_Content of a DELIVER with
 * Registered_Delivery = 1 (60 octets in 2.0, 71 in 3.0). */
struct cmpp_report {
	uint64_t msg_id;
	char     stat[8];               /* DELIVRD, UNDELIV, MA:0001, ... */
	char     submit_time[11];       /* YYMMDDHHMM */
	char     done_time[11];
	char     dest_terminal_id[33];
	uint32_t smsc_sequence;
};

/*
 * One CMPP message, flat. Which fields mean something depends on
 * command_id, as in struct pdu. Strings are NUL-terminated.
 */
struct cmpp {
	uint32_t command_id, sequence;

	/* CONNECT */
	char     source_addr[7];        /* SP_Id */
	uint8_t  authenticator[16];     /* AuthenticatorSource */
	uint8_t  version;
	uint32_t timestamp;             /* MMDDHHMMSS as a number */

	/* CONNECT_RESP (Status), SUBMIT_RESP and DELIVER_RESP (Result):
	 * 1 octet in 2.0, 4 in 3.0 */
	uint32_t status;
	uint8_t  auth_ismg[16];         /* CONNECT_RESP AuthenticatorISMG */

	/* SUBMIT, DELIVER, their responses */
	uint64_t msg_id;
	uint8_t  pk_total, pk_number;
	uint8_t  registered_delivery;
	uint8_t  msg_level;
	char     service_id[11];
	uint8_t  fee_usertype;
	char     fee_terminal_id[33];   /* 21 in 2.0 */
	uint8_t  fee_terminal_type;     /* 3.0 only */
	uint8_t  tp_pid, tp_udhi;
	uint8_t  msg_fmt;
	char     msg_src[7];
	char     fee_type[3];
	char     fee_code[7];
	char     valid_time[18], at_time[18];
	char     src_id[22];            /* SUBMIT: our short code */
	char     dest_terminal_id[33];  /* SUBMIT: one destination */
	uint8_t  dest_terminal_type;    /* 3.0 only */
	char     dest_id[22];           /* DELIVER: our short code */
	char     src_terminal_id[33];   /* DELIVER: the phone */
	uint8_t  src_terminal_type;     /* 3.0 only */
	uint8_t  msg_length;
	uint8_t  msg_content[CMPP_CONTENT_MAX];
	char     link_id[21];           /* 3.0 LinkID; 2.0 Reserve (8) */

	struct cmpp_report report;      /* DELIVER, registered_delivery 1 */
};

/*
 * Reads the 12-octet header at buf (len >= 12) into command_id and
 * sequence, and the Total_Length into *total. -1 with err when Total_Length
 * is outside [12, CMPP_MAX_LEN]: the stream is lost, drop the link.
 */
int cmpp_header(const uint8_t *buf, size_t len, struct cmpp *p,
    uint32_t *total, char *err, size_t errlen);

/*
 * Decodes one whole message of exactly len octets (len == Total_Length)
 * for version v. 0, or -1 with err when the body is not the layout of its
 * command (too short, a length field past the end, Msg_Length over the
 * content, octets after the last field, DestUsr_tl outside
 * [1, CMPP_DEST_MAX]). An unknown Command_Id decodes its header and
 * returns 0 (the caller drops the link: CMPP has no generic_nack; see
 * cmpp_command_known). *p is zeroed first; fixed-width strings end at
 * their first NUL. A SUBMIT to several destinations keeps the first.
 * ACTIVE_TEST_RESP without its Reserved octet is accepted. A DELIVER with
 * Registered_Delivery 1 also fills p->report; its Msg_Length must then be
 * cmpp_report_len(v) (msg_content keeps the raw octets too).
 */
int cmpp_decode(enum cmpp_version v, const uint8_t *buf, size_t len,
    struct cmpp *p, char *err, size_t errlen);

/* Encodes *p for version v into buf (cap octets). The length, or -1 with
 * err (a field too long, a Status/Result over 255 in 2.0, an unknown
 * command, no room). A SUBMIT goes to the one destination
 * dest_terminal_id (DestUsr_tl 1). A status report's content is built from
 * p->report when command_id is DELIVER and registered_delivery is 1
 * (msg_length and msg_content are then ignored). */
int cmpp_encode(enum cmpp_version v, const struct cmpp *p, uint8_t *buf,
    size_t cap, char *err, size_t errlen);

/* 1 if id is one of the ten commands above (a layout this codec has). */
int cmpp_command_known(uint32_t id);

/* The status report's Msg_Content length: 60 (2.0) or 71 (3.0). */
size_t cmpp_report_len(enum cmpp_version v);

/* AuthenticatorSource = MD5(Source_Addr + 9 zero octets + secret +
 * timestamp as 10 digits MMDDHHMMSS). */
void cmpp_auth_source(const char *sp_id, const char *secret,
    uint32_t timestamp, uint8_t out[16]);
/* AuthenticatorISMG = MD5(Status + AuthenticatorSource + secret); Status
 * is 1 octet in 2.0 and 4 (big-endian) in 3.0. */
void cmpp_auth_ismg(enum cmpp_version v, uint32_t status,
    const uint8_t source[16], const char *secret, uint8_t out[16]);

/* The timestamp MMDDHHMMSS of a broken-down local time. */
uint32_t cmpp_timestamp(int month, int day, int hour, int min, int sec);

/* Msg_Id: month 4 bits, day 5, hour 5, minute 6, second 6, gateway code
 * 22, sequence 16 (spec §7.4.5.1.4 / 2.0 §6.1.3). */
struct cmpp_msgid {
	unsigned month, day, hour, minute, second, gateway, sequence;
};
uint64_t cmpp_msgid_make(const struct cmpp_msgid *m);
void cmpp_msgid_split(uint64_t id, struct cmpp_msgid *m);
/* As 16 lower-case hex digits (the form the store keeps). */
void cmpp_msgid_hex(uint64_t id, char out[17]);
/* "MM-DD HH:MM:SS gw=N seq=N" for people. */
void cmpp_msgid_show(uint64_t id, char *out, size_t cap);

/* "CMPP_SUBMIT", ...; "0x%08x" for an unknown one (static buffer). */
const char *cmpp_command_name(uint32_t id);
/* CONNECT_RESP Status 1-4 (and 5 in 3.0): "bad structure", "bad source
 * address", "authentication failed", "version too high", ... */
const char *cmpp_connect_status_name(uint32_t status);
/* SUBMIT_RESP Result: "flow control (8)", ... */
const char *cmpp_result_name(uint32_t result);

#endif
