/*
 * smsc-sim as a China Mobile ISMG (--protocol cmpp30|cmpp20): CONNECT with
 * the authenticator check, SUBMIT (admission, Msg_Id, reassembly, status
 * reports), MO texts as DELIVER (Msg_Fmt 0, 8 or 15 with an 8- or 16-bit
 * reference UDH), ACTIVE_TEST, TERMINATE, and the --load driver's frames.
 * The bytes are proto/cmpp.c's; the JSON events are the SMPP side's names
 * and fields with "protocol" added, so a test reads both protocols alike.
 */
#include <iconv.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/charset.h"
#include "proto/cmpp.h"
#include "proto/reasm.h"
#include "proto/udh.h"
#include "tools/sim/sim.h"

#define GATEWAY_CODE     12345     /* the ISMG code in our Msg_Ids */
#define PPM              1000000u
#define SMS_OCTETS       140       /* Msg_Fmt 8 and 15: one SMS */
#define SMS_ASCII        160       /* Msg_Fmt 0: the handset's 7-bit SMS */
#define UDH8_LEN         6
#define UDH16_LEN        7
#define FMT_BINARY       4
#define RESULT_STRUCTURE 1         /* SUBMIT_RESP: bad message structure */
#define RESULT_MSG_SRC   11        /* SUBMIT_RESP: bad Msg_src */
#define STATUS_OTHER     5         /* CONNECT_RESP: other error */

/* One encoder buffer: the loop is single-threaded. */
static uint8_t encbuf[CMPP_MAX_LEN];

/* Where a SUBMIT's text is and which part of a message it is. */
static enum cmpp_version
version(const struct sim *s)
{
	return s->opt.protocol == SIM_CMPP20 ? CMPP_V20 : CMPP_V30;
}

const char *
sim_cmpp_name(const struct sim *s)
{
	return s->opt.protocol == SIM_CMPP20 ? "cmpp20" : "cmpp30";
}

/* Every CMPP event says which protocol it is about. */
static void
json_end(const struct sim *s, struct sim_json *j)
{
	sim_json_str(j, "protocol", sim_cmpp_name(s));
	sim_json_end(j);
}

int
sim_cmpp_frame_len(const uint8_t *hdr, size_t n, uint32_t *len, char *err,
    size_t errlen)
{
	struct cmpp h;

	return cmpp_header(hdr, n, &h, len, err, errlen);
}

/* Encodes p in version v's layout; the length, or -1 (logged). */
static int
encode(struct sim_conn *c, enum cmpp_version v, const struct cmpp *p)
{
	char err[256];
	int n;

	n = cmpp_encode(v, p, encbuf, sizeof(encbuf), err, sizeof(err));
	if (n < 0)
		sim_log("conn %u: cannot encode %s: %s", c->id,
		    cmpp_command_name(p->command_id), err);
	return n;
}

static int
send_cmpp(struct sim_conn *c, const struct cmpp *p)
{
	int n = encode(c, version(c->sim), p);

	return n < 0 ? -1 : sim_conn_write(c, encbuf, (size_t)n);
}

/* A response, now or after --delay-ms (sim_conn_respond_bytes). */
static void
respond_v(struct sim_conn *c, enum cmpp_version v, const struct cmpp *r,
    enum sim_after after, struct sim_mo *receipt)
{
	int n = encode(c, v, r);

	if (n < 0) {
		free(receipt);
		return;
	}
	sim_conn_respond_bytes(c, encbuf, (size_t)n, after, receipt);
}

static void
respond(struct sim_conn *c, const struct cmpp *r, enum sim_after after,
    struct sim_mo *receipt)
{
	respond_v(c, version(c->sim), r, after, receipt);
}

/* A C-string into a smaller field, cut at cap - 1 (for the JSON and
 * phone lines only: the frames are built from the full fields). */
static void
copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
init(struct cmpp *p, uint32_t cmd, uint32_t seq)
{
	memset(p, 0, sizeof(*p));
	p->command_id = cmd;
	p->sequence = seq;
}

/* Local time, looked up once a second: --load asks for it per message. */
static const struct tm *
now_tm(void)
{
	static time_t last = -1;
	static struct tm tm;
	time_t now = time(NULL);

	if (now != last) {
		localtime_r(&now, &tm);
		last = now;
	}
	return &tm;
}

/* Msg_Id as the spec builds it: the time now, our gateway code, and a
 * sequence counting up (16 bits, wrapping). */
static uint64_t
new_msgid(struct sim *s)
{
	const struct tm *tm = now_tm();
	struct cmpp_msgid m;

	m.month = (unsigned)tm->tm_mon + 1;
	m.day = (unsigned)tm->tm_mday;
	m.hour = (unsigned)tm->tm_hour;
	m.minute = (unsigned)tm->tm_min;
	m.second = (unsigned)tm->tm_sec;
	m.gateway = GATEWAY_CODE;
	m.sequence = s->cmpp_seq++;
	return cmpp_msgid_make(&m);
}

/* ---- text ------------------------------------------------------------ */

/* GB18030 (a superset of GBK) to UTF-8 with iconv; invalid input is an
 * error, not a replacement character. Returns the UTF-8 length or -1. */
static int
gbk_decode(const uint8_t *in, size_t len, char *out, size_t cap, char *err,
    size_t errlen)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	char *ip = (char *)(uintptr_t)in, *op = out;
	size_t il = len, ol = cap - 1;

	if (cd == (iconv_t)-1) {
		snprintf(err, errlen, "iconv cannot convert GB18030");
		return -1;
	}
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		snprintf(err, errlen, "invalid GB18030 at octet %zu",
		    len - il);
		iconv_close(cd);
		return -1;
	}
	iconv_close(cd);
	*op = '\0';
	return (int)(op - out);
}

/* Msg_Content in Msg_Fmt fmt as malloc'd UTF-8 (*n bytes), or NULL with
 * err. */
static char *
decode_text(uint8_t fmt, const uint8_t *data, size_t len, int *n, char *err,
    size_t errlen)
{
	enum charset cs;
	size_t cap;
	char *out;

	switch (fmt) {
	case CMPP_FMT_ASCII:
		cs = CS_ASCII;
		break;
	case CMPP_FMT_UCS2:
		cs = CS_UCS2;
		break;
	case FMT_BINARY:
		cs = CS_BINARY;
		break;
	case CMPP_FMT_GBK:
		cs = CS_BINARY;         /* for the bound only */
		break;
	default:
		snprintf(err, errlen, "Msg_Fmt %u not supported", fmt);
		return NULL;
	}
	/* GB18030 grows at most 3/2 (2 octets to 3), 4 to 4. */
	cap = (fmt == CMPP_FMT_GBK ? len * 2 : charset_utf8_bound(cs, len)) + 1;
	if ((out = malloc(cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (fmt == CMPP_FMT_GBK)
		*n = gbk_decode(data, len, out, cap, err, errlen);
	else
		*n = charset_decode(cs, data, len, out, cap, err, errlen);
	if (*n < 0) {
		free(out);
		return NULL;
	}
	return out;
}

static bool
all_ascii(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] >= 0x80)
			return false;
	return true;
}

/* One code point (u8[0..k)) in Msg_Fmt fmt; its octets, or -1. */
static int
encode_char(iconv_t cd, uint8_t fmt, uint32_t cp, const char *u8, int k,
    uint8_t out[4])
{
	char *ip = (char *)(uintptr_t)u8, *op = (char *)out;
	size_t il = (size_t)k, ol = 4;

	switch (fmt) {
	case CMPP_FMT_ASCII:
		out[0] = (uint8_t)cp;
		return 1;
	case CMPP_FMT_UCS2:
		if (cp < 0x10000) {
			out[0] = (uint8_t)(cp >> 8);
			out[1] = (uint8_t)cp;
			return 2;
		}
		cp -= 0x10000;
		out[0] = (uint8_t)(0xD8 | (cp >> 18));
		out[1] = (uint8_t)(cp >> 10);
		out[2] = (uint8_t)(0xDC | ((cp >> 8) & 3));
		out[3] = (uint8_t)cp;
		return 4;
	default:
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
			return -1;
		return (int)(4 - ol);
	}
}

static struct sim_mo *
new_part(struct sim_mo_list *parts, uint8_t fmt)
{
	struct sim_mo *mo = calloc(1, sizeof(*mo));

	if (mo == NULL)
		return NULL;
	pdu_init(&mo->pdu, PDU_DELIVER_SM, 0, 0);
	mo->pdu.data_coding = fmt;
	TAILQ_INSERT_TAIL(parts, mo, entry);
	return mo;
}

static size_t
write_udh(uint8_t *out, bool udh16, uint16_t ref, uint8_t total, uint8_t seq)
{
	if (!udh16)
		return udh_write_concat8(out, (uint8_t)ref, total, seq);
	out[0] = 6;                     /* UDHL */
	out[1] = 0x08;                  /* concatenation, 16-bit reference */
	out[2] = 4;
	out[3] = (uint8_t)(ref >> 8);
	out[4] = (uint8_t)ref;
	out[5] = total;
	out[6] = seq;
	return UDH16_LEN;
}

/*
 * Splits an MO text into DELIVER parts (data_coding holds the Msg_Fmt):
 * ASCII as 0, anything else as 8 (UCS-2) or with --mo-gbk 15 (GB18030).
 * One SMS holds 160 ASCII characters or 140 octets; a long text gets a
 * UDH of 6 octets (8-bit reference) or with --mo-udh16 of 7, and never
 * splits a character (surrogate pair, GB18030 sequence). Returns the part
 * count, or -1 with err (the caller frees what is in parts).
 */
int
sim_cmpp_mo_split(struct sim *s, const char *text, size_t len,
    struct sim_mo_list *parts, uint8_t *fmt, char *err, size_t errlen)
{
	bool udh16 = s->opt.mo_udh16, ascii = all_ascii(text, len);
	size_t cap, single, *starts = NULL, nchars = 0, total_len = 0;
	uint16_t ref = s->mo_ref++;
	iconv_t cd = (iconv_t)-1;
	uint8_t *enc = NULL;
	int total = 0, rc = -1;
	size_t i, at, udhl = udh16 ? UDH16_LEN : UDH8_LEN;

	*fmt = ascii ? CMPP_FMT_ASCII : s->opt.mo_gbk ? CMPP_FMT_GBK :
	    CMPP_FMT_UCS2;
	if (*fmt == CMPP_FMT_GBK &&
	    (cd = iconv_open("GB18030", "UTF-8")) == (iconv_t)-1) {
		snprintf(err, errlen, "iconv cannot convert to GB18030");
		return -1;
	}
	if ((enc = malloc(len * 4 + 4)) == NULL ||
	    (starts = malloc((len + 1) * sizeof(*starts))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < len; ) {
		uint32_t cp;
		int k = utf8_next(text + i, len - i, &cp), m;

		if (k <= 0) {
			snprintf(err, errlen, "invalid UTF-8 at byte %zu", i);
			goto out;
		}
		if ((m = encode_char(cd, *fmt, cp, text + i, k,
		    enc + total_len)) < 0) {
			snprintf(err, errlen, "U+%04X has no GB18030 form", cp);
			goto out;
		}
		starts[nchars++] = total_len;
		total_len += (size_t)m;
		i += (size_t)k;
	}
	starts[nchars] = total_len;

	single = ascii ? SMS_ASCII : SMS_OCTETS;
	if (total_len <= single) {
		struct sim_mo *mo = new_part(parts, *fmt);

		if (mo == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		memcpy(mo->pdu.sm, enc, total_len);
		mo->pdu.sm_len = (uint16_t)total_len;
		mo->part = mo->parts = 1;
		rc = 1;
		goto out;
	}
	/* ASCII beside a UDH: 153 septets (152 with the 16-bit one). */
	cap = ascii ? (udh16 ? 152 : 153) : SMS_OCTETS - udhl;
	for (i = 0, at = 0; i < nchars; total++) {
		size_t from = starts[i];
		struct sim_mo *mo;

		while (i < nchars && starts[i + 1] - from <= cap)
			i++;
		if (total == SEG_MAX_PARTS) {
			snprintf(err, errlen, "more than %d parts",
			    SEG_MAX_PARTS);
			goto out;
		}
		if ((mo = new_part(parts, *fmt)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		at = starts[i] - from;
		mo->pdu.esm_class = PDU_ESM_UDHI;
		mo->part = (uint8_t)(total + 1);
		/* The UDH is written once the part count is known. */
		mo->pdu.sm_len = (uint16_t)(udhl + at);
		memcpy(mo->pdu.sm + udhl, enc + from, at);
	}
	{
		struct sim_mo *mo;

		TAILQ_FOREACH(mo, parts, entry) {
			mo->parts = (uint8_t)total;
			write_udh(mo->pdu.sm, udh16, ref, (uint8_t)total,
			    mo->part);
		}
	}
	rc = total;
out:
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	free(enc);
	free(starts);
	return rc;
}

/* ---- DELIVER ------------------------------------------------------------ */

/* An MO text part or a status report (mo->report), as a DELIVER. */
int
sim_cmpp_send_mo(struct sim_conn *c, const struct sim_mo *mo)
{
	struct cmpp p;

	init(&p, CMPP_DELIVER, mo->pdu.sequence);
	p.msg_id = new_msgid(c->sim);
	snprintf(p.dest_id, sizeof(p.dest_id), "%s", mo->pdu.dst.addr);
	snprintf(p.src_terminal_id, sizeof(p.src_terminal_id), "%s",
	    mo->pdu.src.addr);
	if (mo->kind == SIM_MO_RECEIPT) {
		/* The whole number: src.addr may have been cut. */
		snprintf(p.src_terminal_id, sizeof(p.src_terminal_id), "%s",
		    mo->report.dest_terminal_id);
		p.registered_delivery = 1;
		p.msg_fmt = CMPP_FMT_ASCII;
		p.report = mo->report;
	} else {
		p.tp_udhi = (mo->pdu.esm_class & PDU_ESM_UDHI) ? 1 : 0;
		p.msg_fmt = mo->pdu.data_coding;
		p.msg_length = (uint8_t)mo->pdu.sm_len;
		memcpy(p.msg_content, mo->pdu.sm, mo->pdu.sm_len);
	}
	return send_cmpp(c, &p);
}

/* --load: one text from src in one DELIVER, ASCII or UCS-2. */
int
sim_cmpp_send_text(struct sim_conn *c, uint32_t seq, const char *src,
    const char *text, size_t len)
{
	struct cmpp p;
	char err[128];
	int n;

	init(&p, CMPP_DELIVER, seq);
	p.msg_id = new_msgid(c->sim);
	snprintf(p.dest_id, sizeof(p.dest_id), "%s", c->sim->opt.short_code);
	snprintf(p.src_terminal_id, sizeof(p.src_terminal_id), "%s", src);
	if (all_ascii(text, len) && len <= SMS_ASCII) {
		p.msg_fmt = CMPP_FMT_ASCII;
		memcpy(p.msg_content, text, len);
		n = (int)len;
	} else {
		p.msg_fmt = CMPP_FMT_UCS2;
		n = ucs2_encode(text, len, p.msg_content, SMS_OCTETS, err,
		    sizeof(err));
	}
	if (n < 0) {
		sim_log("load: text %u: %s", seq, err);
		return -1;
	}
	p.msg_length = (uint8_t)n;
	return send_cmpp(c, &p);
}

void
sim_cmpp_active_test(struct sim_conn *c)
{
	struct cmpp p;

	init(&p, CMPP_ACTIVE_TEST, sim_conn_next_seq(c));
	send_cmpp(c, &p);
}

/* ---- SUBMIT ------------------------------------------------------------- */

static int
part_of(const struct cmpp *p, struct sim_part *pt, char *err, size_t errlen)
{
	struct udh_concat uc;
	size_t hl;

	pt->data = p->msg_content;
	pt->len = p->msg_length;
	pt->ref = 0;
	pt->seq = pt->total = 1;
	if (!p->tp_udhi)
		return 0;
	if (udh_parse(pt->data, pt->len, &uc, &hl, err, errlen) == -1)
		return -1;
	pt->data += hl;
	pt->len -= hl;
	if (uc.present) {
		pt->ref = uc.ref;
		pt->total = uc.total;
		pt->seq = uc.seq;
	}
	return 0;
}

/* Deterministic, as --throttle: exactly every 1/FRAC submits. */
static uint32_t
forced_result(struct sim *s)
{
	if (s->opt.cmpp_result == 0)
		return 0;
	s->cmpp_result_acc += s->opt.cmpp_result_ppm;
	if (s->cmpp_result_acc < PPM)
		return 0;
	s->cmpp_result_acc -= PPM;
	return s->opt.cmpp_result;
}

/* --refuse-prefix in CMPP terms: ESME_RINVDSTADR is Result 13 (bad
 * Dest_terminal_Id), a throttling status 8, anything else 9 (this gateway
 * does not serve the number). 0 when the number is not refused. */
static uint32_t
refused(const struct sim *s, const char *dst)
{
	for (int i = 0; i < s->opt.nrefuse; i++) {
		const struct sim_refuse *r = &s->opt.refuse[i];

		if (strncmp(dst, r->prefix, strlen(r->prefix)) != 0)
			continue;
		if (r->status == ESME_INVDSTADR)
			return CMPP_RESULT_BAD_DEST;
		if (r->status == ESME_THROTTLED || r->status == ESME_MSGQFUL)
			return CMPP_RESULT_FLOW;
		return CMPP_RESULT_NO_SERVICE;
	}
	return 0;
}

static const char *
result_status(uint32_t result)
{
	return result == 0 ? "ESME_ROK" : cmpp_result_name(result);
}

/* The report's times: the format has two year digits. */
static void
yymmddhhmm(const struct tm *tm, char out[11])
{
	const int v[5] = { tm->tm_year % 100, tm->tm_mon + 1, tm->tm_mday,
	    tm->tm_hour, tm->tm_min };

	for (int i = 0; i < 5; i++) {
		out[2 * i] = (char)('0' + v[i] / 10 % 10);
		out[2 * i + 1] = (char)('0' + v[i] % 10);
	}
	out[10] = '\0';
}

/* A status report owed for an accepted SUBMIT with Registered_Delivery 1
 * (--dlr), or NULL. */
static struct sim_mo *
receipt_new(struct sim *s, const struct cmpp *p, uint64_t id)
{
	const struct tm *tm = now_tm();
	struct cmpp_report *r;
	struct sim_mo *mo;

	if (!s->opt.dlr || p->registered_delivery != 1 ||
	    (mo = calloc(1, sizeof(*mo))) == NULL)
		return NULL;
	mo->kind = SIM_MO_RECEIPT;
	mo->part = mo->parts = 1;
	pdu_init(&mo->pdu, PDU_DELIVER_SM, 0, 0);
	copy(mo->pdu.src.addr, sizeof(mo->pdu.src.addr), p->dest_terminal_id);
	copy(mo->pdu.dst.addr, sizeof(mo->pdu.dst.addr), p->src_id);
	r = &mo->report;
	r->msg_id = id;
	snprintf(r->stat, sizeof(r->stat), "%s",
	    dlr_state_name(s->opt.dlr_state));
	/* YYMMDDHHMM; the simulated handset answers at once. */
	yymmddhhmm(tm, r->submit_time);
	memcpy(r->done_time, r->submit_time, sizeof(r->done_time));
	snprintf(r->dest_terminal_id, sizeof(r->dest_terminal_id), "%s",
	    p->dest_terminal_id);
	r->smsc_sequence = ++s->cmpp_report_seq;
	return mo;
}

/* Feeds an accepted SUBMIT part to reassembly. */
static void
reassemble(struct sim *s, const struct cmpp *p, const struct sim_part *pt)
{
	struct sim_msg_route r = {
		.src = p->src_id, .dst = p->dest_terminal_id,
		.protocol = sim_cmpp_name(s),
		.fate = s->opt.dlr && p->registered_delivery == 1 ?
		    &s->opt.dlr_state : NULL,
	};

	sim_reassemble(s, &r, pt, p->msg_fmt, decode_text);
}

static bool
first_part(const struct cmpp *p)
{
	struct sim_part pt;
	char err[64];

	return part_of(p, &pt, err, sizeof(err)) == 0 && pt.seq == 1;
}

/* --load: admission, the match to a text, an answer at once. */
static void
load_submit(struct sim_conn *c, const struct cmpp *p)
{
	struct sim *s = c->sim;
	struct cmpp r;

	init(&r, CMPP_SUBMIT_RESP, p->sequence);
	if (sim_submit_admit(s) != ESME_OK) {
		/* A refused submit is no reply: the load counts only
		 * accepted ones. */
		r.status = CMPP_RESULT_FLOW;
		send_cmpp(c, &r);
		return;
	}
	sim_load_count(c, p->dest_terminal_id, first_part(p));
	r.msg_id = new_msgid(s);
	send_cmpp(c, &r);
	sim_load_check_done(s->load);
}

static void
on_submit(struct sim_conn *c, const struct cmpp *p)
{
	struct sim *s = c->sim;
	const struct sim_opts *o = &s->opt;
	struct sim_mo *receipt = NULL;
	struct sim_json j;
	struct sim_part pt;
	struct cmpp r;
	char perr[128] = "", derr[128] = "", hex[17] = "";
	uint32_t result = 0;
	uint64_t id = 0;
	bool answer = true, parsed;
	char *text = NULL;
	int n = 0;

	if (c->mode == NULL) {
		sim_conn_close(c, "SUBMIT before CONNECT");
		return;
	}
	if (s->load != NULL) {
		load_submit(c, p);
		return;
	}
	parsed = part_of(p, &pt, perr, sizeof(perr)) == 0;
	if (!parsed)
		result = RESULT_STRUCTURE;
	else if (o->no_resp)
		answer = false;
	else if (strcmp(p->msg_src, o->system_id) != 0)
		result = RESULT_MSG_SRC;
	else if ((result = refused(s, p->dest_terminal_id)) != 0)
		;
	else if ((result = forced_result(s)) != 0)
		;
	else if (sim_submit_admit(s) != ESME_OK)
		result = CMPP_RESULT_FLOW;
	if (answer && result == 0) {
		id = new_msgid(s);
		cmpp_msgid_hex(id, hex);
	}
	if (parsed)
		text = decode_text(p->msg_fmt, pt.data, pt.len, &n, derr,
		    sizeof(derr));

	sim_json_begin(&j, "submit_sm");
	sim_json_int(&j, "seq", p->sequence);
	sim_json_str(&j, "message_id", hex);
	sim_json_str(&j, "src", p->src_id);
	sim_json_str(&j, "dst", p->dest_terminal_id);
	sim_json_int(&j, "dcs", p->msg_fmt);
	sim_json_int(&j, "esm_class", p->tp_udhi ? PDU_ESM_UDHI : 0);
	sim_json_int(&j, "registered_delivery", p->registered_delivery);
	sim_json_int(&j, "part", parsed ? pt.seq : 0);
	sim_json_int(&j, "parts", parsed ? pt.total : 0);
	sim_json_int(&j, "ref", parsed ? pt.ref : 0);
	sim_json_strn(&j, "text", text != NULL ? text : "",
	    text != NULL ? (size_t)n : 0);
	sim_json_str(&j, "status", answer ? result_status(result) :
	    "NO_RESPONSE");
	if (!parsed)
		sim_json_str(&j, "error", perr);
	else if (text == NULL)
		sim_json_str(&j, "decode_error", derr);
	sim_json_int(&j, "conn", c->id);
	sim_json_int(&j, "result", answer ? (long long)result : -1);
	sim_json_int(&j, "msg_fmt", p->msg_fmt);
	sim_json_int(&j, "tp_udhi", p->tp_udhi);
	sim_json_int(&j, "pk_total", p->pk_total);
	sim_json_int(&j, "pk_number", p->pk_number);
	sim_json_str(&j, "msg_src", p->msg_src);
	sim_json_str(&j, "service_id", p->service_id);
	sim_json_int(&j, "fee_usertype", p->fee_usertype);
	sim_json_str(&j, "fee_type", p->fee_type);
	sim_json_str(&j, "fee_code", p->fee_code);
	json_end(s, &j);

	if (answer && result == 0) {
		reassemble(s, p, &pt);
		receipt = receipt_new(s, p, id);
	}
	free(text);
	if (!answer)
		return;
	init(&r, CMPP_SUBMIT_RESP, p->sequence);
	r.msg_id = id;
	r.status = result;
	respond(c, &r, receipt != NULL ? SIM_AFTER_RECEIPT : SIM_AFTER_NONE,
	    receipt);
}

/* ---- the session -------------------------------------------------------- */

static void
conn_event(struct sim_conn *c, const char *event, uint32_t cmd)
{
	struct sim_json j;

	sim_json_begin(&j, event);
	sim_json_int(&j, "conn", c->id);
	sim_json_str(&j, "command", cmpp_command_name(cmd));
	json_end(c->sim, &j);
}

/*
 * CONNECT: Status 4 for another version than --protocol, 2 for another
 * SP_Id than --system-id, 3 when AuthenticatorSource is not MD5(SP_Id, 9
 * zero octets, --password, the message's timestamp), 5 on a connected
 * link. The answer has the layout of the version the client asked for, so
 * that it can read a refusal; AuthenticatorISMG is empty then (spec).
 */
static void
on_connect(struct sim_conn *c, const struct cmpp *p)
{
	struct sim *s = c->sim;
	const struct sim_opts *o = &s->opt;
	enum cmpp_version v = version(s), rv;
	const char *why = NULL;
	uint8_t want[16];
	struct sim_json j;
	struct cmpp r;
	uint32_t st = 0;

	rv = p->version == CMPP_V20 || p->version == CMPP_V30 ?
	    (enum cmpp_version)p->version : v;
	cmpp_auth_source(o->system_id, o->password, p->timestamp, want);
	if (c->mode != NULL)
		st = STATUS_OTHER;
	else if (p->version != v)
		st = 4;
	else if (strcmp(p->source_addr, o->system_id) != 0)
		st = 2;
	else if (memcmp(want, p->authenticator, sizeof(want)) != 0)
		st = 3;
	if (st != 0)
		why = cmpp_connect_status_name(st);

	sim_json_begin(&j, "bind");
	sim_json_str(&j, "mode", "transceiver");
	sim_json_str(&j, "system_id", p->source_addr);
	sim_json_str(&j, "status", st == 0 ? "ESME_ROK" : why);
	sim_json_int(&j, "conn", c->id);
	sim_json_int(&j, "cmpp_status", st);
	sim_json_int(&j, "version", p->version);
	if (why != NULL)
		sim_json_str(&j, "error", why);
	json_end(s, &j);
	if (st != STATUS_OTHER)
		sim_human_bind(c, "transceiver", p->source_addr, why);
	if (why != NULL)
		sim_log("conn %u: CONNECT from %s refused: %s (status %u)",
		    c->id, p->source_addr, why, st);

	init(&r, CMPP_CONNECT_RESP, p->sequence);
	r.status = st;
	r.version = (uint8_t)v;
	if (st != 0) {
		respond_v(c, rv, &r, SIM_AFTER_NONE, NULL);
		return;
	}
	cmpp_auth_ismg(v, 0, p->authenticator, o->password, r.auth_ismg);
	/* SUBMIT is accepted at once; DELIVER waits for CONNECT_RESP to be
	 * out, so that none can precede it on the wire. */
	c->mode = "transceiver";
	snprintf(c->esme, sizeof(c->esme), "%s", p->source_addr);
	c->tx = true;
	c->pending_rx = true;
	respond(c, &r, SIM_AFTER_BOUND, NULL);
}

static void
on_active_test(struct sim_conn *c, const struct cmpp *p)
{
	struct cmpp r;

	conn_event(c, "enquire_link", p->command_id);
	init(&r, CMPP_ACTIVE_TEST_RESP, p->sequence);
	respond(c, &r, SIM_AFTER_NONE, NULL);
}

/* Logged so tests can see the SP answers our --enquire-link probes. */
static void
on_active_test_resp(struct sim_conn *c, const struct cmpp *p)
{
	conn_event(c, "enquire_link_resp", p->command_id);
}

static void
on_terminate(struct sim_conn *c, const struct cmpp *p)
{
	struct cmpp r;

	conn_event(c, "unbind", p->command_id);
	/* No more DELIVER on this link; what is outstanding is requeued. */
	c->rx = c->tx = c->pending_rx = false;
	init(&r, CMPP_TERMINATE_RESP, p->sequence);
	respond(c, &r, SIM_AFTER_TERMINATE, NULL);
}

static void
on_deliver_resp(struct sim_conn *c, const struct cmpp *p)
{
	sim_mo_cmpp_resp(c, p->sequence, p->status);
}

static void
on_silent(struct sim_conn *c, const struct cmpp *p)
{
	(void)c;
	(void)p;
}

static const struct {
	uint32_t cmd;
	void   (*fn)(struct sim_conn *, const struct cmpp *);
} handlers[] = {
	{ CMPP_CONNECT, on_connect },
	{ CMPP_SUBMIT, on_submit },
	{ CMPP_DELIVER_RESP, on_deliver_resp },
	{ CMPP_ACTIVE_TEST, on_active_test },
	{ CMPP_ACTIVE_TEST_RESP, on_active_test_resp },
	{ CMPP_TERMINATE, on_terminate },
	{ CMPP_TERMINATE_RESP, on_silent },
};

/*
 * One whole frame. CMPP has no generic_nack: a SUBMIT we cannot read is
 * answered Result 1 (bad structure), any other unreadable or unknown
 * message drops the link with the reason logged, as the spec says.
 */
void
sim_cmpp_handle(struct sim_conn *c, const uint8_t *buf, size_t len)
{
	struct sim_json j;
	struct cmpp p, r;
	char err[256], herr[64], why[96];
	uint32_t total;
	size_t i;

	if (cmpp_decode(version(c->sim), buf, len, &p, err,
	    sizeof(err)) == -1) {
		memset(&p, 0, sizeof(p));
		cmpp_header(buf, len, &p, &total, herr, sizeof(herr));
		sim_json_begin(&j, "bad_pdu");
		sim_json_str(&j, "command", cmpp_command_name(p.command_id));
		sim_json_int(&j, "seq", p.sequence);
		sim_json_str(&j, "error", err);
		sim_json_int(&j, "conn", c->id);
		json_end(c->sim, &j);
		sim_log("conn %u: cannot decode %s: %s", c->id,
		    cmpp_command_name(p.command_id), err);
		if (p.command_id == CMPP_SUBMIT && c->mode != NULL) {
			init(&r, CMPP_SUBMIT_RESP, p.sequence);
			r.status = RESULT_STRUCTURE;
			respond(c, &r, SIM_AFTER_NONE, NULL);
			return;
		}
		snprintf(why, sizeof(why), "undecodable %s",
		    cmpp_command_name(p.command_id));
		sim_conn_close(c, why);
		return;
	}
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].cmd == p.command_id) {
			handlers[i].fn(c, &p);
			return;
		}
	snprintf(why, sizeof(why), "unknown command %s",
	    cmpp_command_name(p.command_id));
	sim_log("conn %u: %s (CMPP has no generic_nack)", c->id, why);
	sim_conn_close(c, why);
}
