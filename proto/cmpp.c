/*
 * China Mobile CMPP 3.0 / 2.0 codec. Every message body is a table of
 * fields per (version, command); one decode loop and one encode loop walk
 * the tables, so a field size that differs between 2.0 and 3.0 is a
 * number in a table, not a branch. Field orders and sizes follow CMPP 3.0
 * §7.4 (and 2.0 §6.2 for the 2.0 tables). Pure: no I/O, no clock.
 */
#include "proto/cmpp.h"
#include "proto/errf.h"

#include <stdio.h>
#include <string.h>

#include <nettle/md5.h>

/*
 * Field kinds. F_INT: a big-endian unsigned integer of size octets into a
 * member of msize octets (1, 4 or 8). F_STR: a fixed-width octet string,
 * NUL-padded on the wire, NUL-terminated in the struct (msize > size, held
 * at compile time by FITS). F_RAW: size octets copied as they are
 * (authenticators). F_DESTS: DestUsr_tl, then that many terminal ids of
 * size octets each; the first is kept. F_CONTENT: Msg_Length, then that
 * many octets of Msg_Content (the status report of a DELIVER with
 * Registered_Delivery 1). F_RESERVED: size octets, zero on the wire,
 * ignored when read.
 */
enum ftype { F_INT, F_STR, F_RAW, F_DESTS, F_CONTENT, F_RESERVED };

#define F_OPTIONAL 0x01           /* may be missing at the end of a frame */

struct field {
	const char *name;
	uint16_t    off;            /* in struct cmpp or struct cmpp_report */
	uint8_t     type;           /* enum ftype */
	uint8_t     size;           /* wire octets (of one id, for F_DESTS) */
	uint8_t     msize;          /* member octets */
	uint8_t     flags;
};

#define MSIZE(T, m)  sizeof(((T *)0)->m)
/* w, or a compile error when the member cannot hold w octets and a NUL. */
#define FITS(w, ms)  ((w) + 0 * sizeof(char[(ms) > (w) ? 1 : -1]))

#define INT_(T, n, m, w) \
	{ n, offsetof(T, m), F_INT, w, MSIZE(T, m), 0 }
#define STR_(T, n, m, w) \
	{ n, offsetof(T, m), F_STR, FITS(w, MSIZE(T, m)), MSIZE(T, m), 0 }
#define INT(n, m, w)   INT_(struct cmpp, n, m, w)
#define STR(n, m, w)   STR_(struct cmpp, n, m, w)
#define RAW(n, m, w) \
	{ n, offsetof(struct cmpp, m), F_RAW, \
	  w + 0 * sizeof(char[MSIZE(struct cmpp, m) == (w) ? 1 : -1]), w, 0 }
#define DESTS(n, w) \
	{ n, offsetof(struct cmpp, dest_terminal_id), F_DESTS, \
	  FITS(w, MSIZE(struct cmpp, dest_terminal_id)), \
	  MSIZE(struct cmpp, dest_terminal_id), 0 }
#define CONTENT \
	{ "Msg_Length", offsetof(struct cmpp, msg_content), F_CONTENT, 1, \
	  CMPP_CONTENT_MAX, 0 }
#define RESERVED(n, w, fl)  { n, 0, F_RESERVED, w, 0, fl }

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* §7.4.2.1: the same in 2.0. */
static const struct field connect_both[] = {
	STR("Source_Addr", source_addr, 6),
	RAW("AuthenticatorSource", authenticator, 16),
	INT("Version", version, 1),
	INT("Timestamp", timestamp, 4),
};

/* §7.4.2.2 */
static const struct field connect_resp30[] = {
	INT("Status", status, 4),
	RAW("AuthenticatorISMG", auth_ismg, 16),
	INT("Version", version, 1),
};
static const struct field connect_resp20[] = {
	INT("Status", status, 1),
	RAW("AuthenticatorISMG", auth_ismg, 16),
	INT("Version", version, 1),
};

/* §7.4.3.1 */
static const struct field submit30[] = {
	INT("Msg_Id", msg_id, 8),
	INT("Pk_total", pk_total, 1),
	INT("Pk_number", pk_number, 1),
	INT("Registered_Delivery", registered_delivery, 1),
	INT("Msg_level", msg_level, 1),
	STR("Service_Id", service_id, 10),
	INT("Fee_UserType", fee_usertype, 1),
	STR("Fee_terminal_Id", fee_terminal_id, 32),
	INT("Fee_terminal_type", fee_terminal_type, 1),
	INT("TP_pId", tp_pid, 1),
	INT("TP_udhi", tp_udhi, 1),
	INT("Msg_Fmt", msg_fmt, 1),
	STR("Msg_src", msg_src, 6),
	STR("FeeType", fee_type, 2),
	STR("FeeCode", fee_code, 6),
	STR("ValId_Time", valid_time, 17),
	STR("At_Time", at_time, 17),
	STR("Src_Id", src_id, 21),
	DESTS("Dest_terminal_Id", 32),
	INT("Dest_terminal_type", dest_terminal_type, 1),
	CONTENT,
	STR("LinkID", link_id, 20),
};
static const struct field submit20[] = {
	INT("Msg_Id", msg_id, 8),
	INT("Pk_total", pk_total, 1),
	INT("Pk_number", pk_number, 1),
	INT("Registered_Delivery", registered_delivery, 1),
	INT("Msg_level", msg_level, 1),
	STR("Service_Id", service_id, 10),
	INT("Fee_UserType", fee_usertype, 1),
	STR("Fee_terminal_Id", fee_terminal_id, 21),
	INT("TP_pId", tp_pid, 1),
	INT("TP_udhi", tp_udhi, 1),
	INT("Msg_Fmt", msg_fmt, 1),
	STR("Msg_src", msg_src, 6),
	STR("FeeType", fee_type, 2),
	STR("FeeCode", fee_code, 6),
	STR("ValId_Time", valid_time, 17),
	STR("At_Time", at_time, 17),
	STR("Src_Id", src_id, 21),
	DESTS("Dest_terminal_Id", 21),
	CONTENT,
	STR("Reserve", link_id, 8),
};

/* §7.4.3.2; DELIVER_RESP (§7.4.5.2) has the same shape. */
static const struct field msgid_result30[] = {
	INT("Msg_Id", msg_id, 8),
	INT("Result", status, 4),
};
static const struct field msgid_result20[] = {
	INT("Msg_Id", msg_id, 8),
	INT("Result", status, 1),
};

/* §7.4.5.1 */
static const struct field deliver30[] = {
	INT("Msg_Id", msg_id, 8),
	STR("Dest_Id", dest_id, 21),
	STR("Service_Id", service_id, 10),
	INT("TP_pid", tp_pid, 1),
	INT("TP_udhi", tp_udhi, 1),
	INT("Msg_Fmt", msg_fmt, 1),
	STR("Src_terminal_Id", src_terminal_id, 32),
	INT("Src_terminal_type", src_terminal_type, 1),
	INT("Registered_Delivery", registered_delivery, 1),
	CONTENT,
	STR("LinkID", link_id, 20),
};
static const struct field deliver20[] = {
	INT("Msg_Id", msg_id, 8),
	STR("Dest_Id", dest_id, 21),
	STR("Service_Id", service_id, 10),
	INT("TP_pid", tp_pid, 1),
	INT("TP_udhi", tp_udhi, 1),
	INT("Msg_Fmt", msg_fmt, 1),
	STR("Src_terminal_Id", src_terminal_id, 21),
	INT("Registered_Delivery", registered_delivery, 1),
	CONTENT,
	STR("Reserve", link_id, 8),
};

/* §7.4.9.2: one Reserved octet, which some gateways leave out. */
static const struct field active_test_resp[] = {
	RESERVED("Reserved", 1, F_OPTIONAL),
};

/* §7.4.5.1 Msg_Content of a status report. */
#define RINT(n, m, w)  INT_(struct cmpp_report, n, m, w)
#define RSTR(n, m, w)  STR_(struct cmpp_report, n, m, w)
static const struct field report30[] = {
	RINT("Msg_Id", msg_id, 8),
	RSTR("Stat", stat, 7),
	RSTR("Submit_time", submit_time, 10),
	RSTR("Done_time", done_time, 10),
	RSTR("Dest_terminal_Id", dest_terminal_id, 32),
	RINT("SMSC_sequence", smsc_sequence, 4),
};
static const struct field report20[] = {
	RINT("Msg_Id", msg_id, 8),
	RSTR("Stat", stat, 7),
	RSTR("Submit_time", submit_time, 10),
	RSTR("Done_time", done_time, 10),
	RSTR("Dest_terminal_Id", dest_terminal_id, 21),
	RINT("SMSC_sequence", smsc_sequence, 4),
};

struct layout {
	uint8_t             version;
	uint32_t            command;
	const struct field *fields;
	size_t              n;
};

#define L(v, c, t)  { v, c, t, NELEM(t) }
#define L0(v, c)    { v, c, NULL, 0 }
static const struct layout layouts[] = {
	L(CMPP_V30, CMPP_CONNECT, connect_both),
	L(CMPP_V20, CMPP_CONNECT, connect_both),
	L(CMPP_V30, CMPP_CONNECT_RESP, connect_resp30),
	L(CMPP_V20, CMPP_CONNECT_RESP, connect_resp20),
	L0(CMPP_V30, CMPP_TERMINATE),
	L0(CMPP_V20, CMPP_TERMINATE),
	L0(CMPP_V30, CMPP_TERMINATE_RESP),
	L0(CMPP_V20, CMPP_TERMINATE_RESP),
	L(CMPP_V30, CMPP_SUBMIT, submit30),
	L(CMPP_V20, CMPP_SUBMIT, submit20),
	L(CMPP_V30, CMPP_SUBMIT_RESP, msgid_result30),
	L(CMPP_V20, CMPP_SUBMIT_RESP, msgid_result20),
	L(CMPP_V30, CMPP_DELIVER, deliver30),
	L(CMPP_V20, CMPP_DELIVER, deliver20),
	L(CMPP_V30, CMPP_DELIVER_RESP, msgid_result30),
	L(CMPP_V20, CMPP_DELIVER_RESP, msgid_result20),
	L0(CMPP_V30, CMPP_ACTIVE_TEST),
	L0(CMPP_V20, CMPP_ACTIVE_TEST),
	L(CMPP_V30, CMPP_ACTIVE_TEST_RESP, active_test_resp),
	L(CMPP_V20, CMPP_ACTIVE_TEST_RESP, active_test_resp),
};

static const struct layout *
layout_of(enum cmpp_version v, uint32_t command)
{
	size_t i;

	for (i = 0; i < NELEM(layouts); i++)
		if (layouts[i].version == v && layouts[i].command == command)
			return &layouts[i];
	return NULL;
}

static int
version_ok(enum cmpp_version v, char *err, size_t errlen)
{
	if (v == CMPP_V20 || v == CMPP_V30)
		return 0;
	errf(err, errlen, "unknown CMPP version 0x%02x", (unsigned)v);
	return -1;
}

size_t
cmpp_report_len(enum cmpp_version v)
{
	return v == CMPP_V20 ? CMPP_REPORT_LEN_V20 : CMPP_REPORT_LEN_V30;
}

static const struct field *
report_fields(enum cmpp_version v, size_t *n)
{
	if (v == CMPP_V20) {
		*n = NELEM(report20);
		return report20;
	}
	*n = NELEM(report30);
	return report30;
}

static int
is_report(const struct cmpp *p)
{
	return p->command_id == CMPP_DELIVER && p->registered_delivery == 1;
}

/* ---- integers ---------------------------------------------------------- */

static uint64_t
get_be(const uint8_t *b, size_t n)
{
	uint64_t v = 0;
	size_t   i;

	for (i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static void
put_be(uint8_t *b, size_t n, uint64_t v)
{
	while (n-- > 0) {
		b[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
member_get(const void *m, size_t msize)
{
	uint32_t u32;
	uint64_t u64;

	switch (msize) {
	case 1:
		return *(const uint8_t *)m;
	case 4:
		memcpy(&u32, m, 4);
		return u32;
	default:
		memcpy(&u64, m, 8);
		return u64;
	}
}

static void
member_set(void *m, size_t msize, uint64_t v)
{
	uint32_t u32 = (uint32_t)v;
	uint8_t  u8 = (uint8_t)v;

	switch (msize) {
	case 1:
		memcpy(m, &u8, 1);
		break;
	case 4:
		memcpy(m, &u32, 4);
		break;
	default:
		memcpy(m, &v, 8);
		break;
	}
}

/* ---- decode ------------------------------------------------------------ */

struct cursor {
	const uint8_t *b;
	size_t         len, pos;
};

static int
need(const struct cursor *c, size_t n, const char *what, char *err,
    size_t errlen)
{
	if (c->len - c->pos >= n)
		return 0;
	errf(err, errlen, "%s: %zu octets needed at offset %zu, %zu left",
	    what, n, c->pos, c->len - c->pos);
	return -1;
}

/* Fixed width string: up to the first NUL; the member is zero already. */
static void
get_str(char *m, const uint8_t *b, size_t w)
{
	const uint8_t *z = memchr(b, 0, w);

	memcpy(m, b, z != NULL ? (size_t)(z - b) : w);
}

static int decode_report(enum cmpp_version v, struct cmpp *p, char *err,
    size_t errlen);

static int
decode_fields(enum cmpp_version v, const struct field *f, size_t n,
    void *base, struct cursor *c, struct cmpp *p, char *err, size_t errlen)
{
	size_t i, k, cnt;

	for (i = 0; i < n; i++, f++) {
		char *m = (char *)base + f->off;

		if ((f->flags & F_OPTIONAL) && c->pos == c->len)
			continue;
		if (need(c, f->type == F_DESTS ? 1 : f->size, f->name, err,
		    errlen) == -1)
			return -1;
		switch (f->type) {
		case F_INT:
			member_set(m, f->msize, get_be(c->b + c->pos,
			    f->size));
			c->pos += f->size;
			break;
		case F_STR:
			get_str(m, c->b + c->pos, f->size);
			c->pos += f->size;
			break;
		case F_RAW:
			memcpy(m, c->b + c->pos, f->size);
			c->pos += f->size;
			break;
		case F_DESTS:
			cnt = c->b[c->pos];
			if (cnt < 1 || cnt > CMPP_DEST_MAX) {
				errf(err, errlen, "DestUsr_tl %zu outside "
				    "[1, %d]", cnt, CMPP_DEST_MAX);
				return -1;
			}
			c->pos++;
			if (need(c, cnt * f->size, f->name, err,
			    errlen) == -1)
				return -1;
			get_str(m, c->b + c->pos, f->size);
			c->pos += cnt * f->size;
			break;
		case F_CONTENT:
			k = c->b[c->pos++];
			if (need(c, k, "Msg_Content", err, errlen) == -1)
				return -1;
			p->msg_length = (uint8_t)k;
			memcpy(p->msg_content, c->b + c->pos, k);
			c->pos += k;
			if (is_report(p) &&
			    decode_report(v, p, err, errlen) == -1)
				return -1;
			break;
		case F_RESERVED:
			c->pos += f->size;
			break;
		}
	}
	return 0;
}

static int
decode_report(enum cmpp_version v, struct cmpp *p, char *err, size_t errlen)
{
	struct cursor c = { p->msg_content, p->msg_length, 0 };
	const struct field *f;
	size_t n;

	if (p->msg_length != cmpp_report_len(v)) {
		errf(err, errlen, "status report of %u octets, not %zu",
		    p->msg_length, cmpp_report_len(v));
		return -1;
	}
	f = report_fields(v, &n);
	return decode_fields(v, f, n, &p->report, &c, p, err, errlen);
}

int
cmpp_header(const uint8_t *buf, size_t len, struct cmpp *p, uint32_t *total,
    char *err, size_t errlen)
{
	uint32_t t;

	if (len < CMPP_HEADER_LEN) {
		errf(err, errlen, "header of %zu octets, not %d", len,
		    CMPP_HEADER_LEN);
		return -1;
	}
	t = (uint32_t)get_be(buf, 4);
	if (t < CMPP_HEADER_LEN || t > CMPP_MAX_LEN) {
		errf(err, errlen, "Total_Length %u outside [%d, %d]", t,
		    CMPP_HEADER_LEN, CMPP_MAX_LEN);
		return -1;
	}
	p->command_id = (uint32_t)get_be(buf + 4, 4);
	p->sequence = (uint32_t)get_be(buf + 8, 4);
	if (total != NULL)
		*total = t;
	return 0;
}

int
cmpp_decode(enum cmpp_version v, const uint8_t *buf, size_t len,
    struct cmpp *p, char *err, size_t errlen)
{
	const struct layout *l;
	struct cursor c = { buf, len, CMPP_HEADER_LEN };
	uint32_t total;

	memset(p, 0, sizeof(*p));
	if (version_ok(v, err, errlen) == -1 ||
	    cmpp_header(buf, len, p, &total, err, errlen) == -1)
		return -1;
	if (total != len) {
		errf(err, errlen, "Total_Length %u but %zu octets", total,
		    len);
		return -1;
	}
	if ((l = layout_of(v, p->command_id)) == NULL)
		return 0;
	if (decode_fields(v, l->fields, l->n, p, &c, p, err, errlen) == -1)
		return -1;
	if (c.pos != len) {
		errf(err, errlen, "%zu octets after the body of %s",
		    len - c.pos, cmpp_command_name(p->command_id));
		return -1;
	}
	return 0;
}

/* ---- encode ------------------------------------------------------------ */

struct writer {
	uint8_t *b;
	size_t   cap, pos;
};

static uint8_t *
room(struct writer *w, size_t n, const char *what, char *err, size_t errlen)
{
	uint8_t *at;

	if (w->cap - w->pos < n) {
		errf(err, errlen, "%s: no room (%zu octets)", what, w->cap);
		return NULL;
	}
	at = w->b + w->pos;
	memset(at, 0, n);
	w->pos += n;
	return at;
}

static int
put_str(struct writer *w, const struct field *f, const char *m, char *err,
    size_t errlen)
{
	size_t   n = strnlen(m, f->msize);
	uint8_t *at;

	if (n > f->size) {
		errf(err, errlen, "%s: %zu octets, at most %u", f->name, n,
		    f->size);
		return -1;
	}
	if ((at = room(w, f->size, f->name, err, errlen)) == NULL)
		return -1;
	memcpy(at, m, n);
	return 0;
}

static int encode_report(enum cmpp_version v, const struct cmpp *p,
    struct writer *w, char *err, size_t errlen);

static int
encode_fields(enum cmpp_version v, const struct field *f, size_t n,
    const void *base, const struct cmpp *p, struct writer *w, char *err,
    size_t errlen)
{
	uint8_t *at;
	uint64_t x;
	size_t   i;

	for (i = 0; i < n; i++, f++) {
		const char *m = (const char *)base + f->off;

		switch (f->type) {
		case F_INT:
			x = member_get(m, f->msize);
			if (f->size < 8 && x >> (8 * f->size) != 0) {
				errf(err, errlen, "%s: %llu does not fit %u "
				    "octet(s)", f->name,
				    (unsigned long long)x, f->size);
				return -1;
			}
			if ((at = room(w, f->size, f->name, err,
			    errlen)) == NULL)
				return -1;
			put_be(at, f->size, x);
			break;
		case F_STR:
			if (put_str(w, f, m, err, errlen) == -1)
				return -1;
			break;
		case F_RAW:
			if ((at = room(w, f->size, f->name, err,
			    errlen)) == NULL)
				return -1;
			memcpy(at, m, f->size);
			break;
		case F_DESTS:
			/* We send to exactly one destination. */
			if ((at = room(w, 1, "DestUsr_tl", err,
			    errlen)) == NULL)
				return -1;
			*at = 1;
			if (put_str(w, f, m, err, errlen) == -1)
				return -1;
			break;
		case F_CONTENT:
			if (is_report(p)) {
				if (encode_report(v, p, w, err, errlen) == -1)
					return -1;
				break;
			}
			if ((at = room(w, 1u + p->msg_length, "Msg_Content",
			    err, errlen)) == NULL)
				return -1;
			at[0] = p->msg_length;
			memcpy(at + 1, p->msg_content, p->msg_length);
			break;
		case F_RESERVED:
			if (room(w, f->size, f->name, err, errlen) == NULL)
				return -1;
			break;
		}
	}
	return 0;
}

static int
encode_report(enum cmpp_version v, const struct cmpp *p, struct writer *w,
    char *err, size_t errlen)
{
	const struct field *f;
	uint8_t *at;
	size_t   n;

	if ((at = room(w, 1, "Msg_Length", err, errlen)) == NULL)
		return -1;
	*at = (uint8_t)cmpp_report_len(v);
	f = report_fields(v, &n);
	return encode_fields(v, f, n, &p->report, p, w, err, errlen);
}

int
cmpp_encode(enum cmpp_version v, const struct cmpp *p, uint8_t *buf,
    size_t cap, char *err, size_t errlen)
{
	const struct layout *l;
	struct writer w = { buf, cap > CMPP_MAX_LEN ? CMPP_MAX_LEN : cap, 0 };
	uint8_t *h;

	if (version_ok(v, err, errlen) == -1)
		return -1;
	if ((l = layout_of(v, p->command_id)) == NULL) {
		errf(err, errlen, "cannot encode %s",
		    cmpp_command_name(p->command_id));
		return -1;
	}
	if ((h = room(&w, CMPP_HEADER_LEN, "header", err, errlen)) == NULL ||
	    encode_fields(v, l->fields, l->n, p, p, &w, err, errlen) == -1)
		return -1;
	put_be(h, 4, w.pos);
	put_be(h + 4, 4, p->command_id);
	put_be(h + 8, 4, p->sequence);
	return (int)w.pos;
}

int
cmpp_command_known(uint32_t id)
{
	return layout_of(CMPP_V30, id) != NULL;
}

/* ---- authenticators, timestamps, Msg_Id -------------------------------- */

void
cmpp_auth_source(const char *sp_id, const char *secret, uint32_t timestamp,
    uint8_t out[16])
{
	static const uint8_t zeros[9];
	struct md5_ctx ctx;
	char ts[16];

	snprintf(ts, sizeof(ts), "%010u", (unsigned)timestamp);
	md5_init(&ctx);
	md5_update(&ctx, strlen(sp_id), (const uint8_t *)sp_id);
	md5_update(&ctx, sizeof(zeros), zeros);
	md5_update(&ctx, strlen(secret), (const uint8_t *)secret);
	md5_update(&ctx, 10, (const uint8_t *)ts);
	md5_digest(&ctx, MD5_DIGEST_SIZE, out);
}

void
cmpp_auth_ismg(enum cmpp_version v, uint32_t status, const uint8_t source[16],
    const char *secret, uint8_t out[16])
{
	struct md5_ctx ctx;
	uint8_t st[4];
	size_t  n = v == CMPP_V20 ? 1 : 4;

	put_be(st, n, status);
	md5_init(&ctx);
	md5_update(&ctx, n, st);
	md5_update(&ctx, 16, source);
	md5_update(&ctx, strlen(secret), (const uint8_t *)secret);
	md5_digest(&ctx, MD5_DIGEST_SIZE, out);
}

uint32_t
cmpp_timestamp(int month, int day, int hour, int min, int sec)
{
	return (uint32_t)month * 100000000u + (uint32_t)day * 1000000u +
	    (uint32_t)hour * 10000u + (uint32_t)min * 100u + (uint32_t)sec;
}

/* Bit positions from the least significant end: sequence 0-15, gateway
 * 16-37, second 38-43, minute 44-49, hour 50-54, day 55-59, month 60-63. */
static const struct {
	size_t   off;
	unsigned shift, bits;
} msgid_bits[] = {
	{ offsetof(struct cmpp_msgid, month), 60, 4 },
	{ offsetof(struct cmpp_msgid, day), 55, 5 },
	{ offsetof(struct cmpp_msgid, hour), 50, 5 },
	{ offsetof(struct cmpp_msgid, minute), 44, 6 },
	{ offsetof(struct cmpp_msgid, second), 38, 6 },
	{ offsetof(struct cmpp_msgid, gateway), 16, 22 },
	{ offsetof(struct cmpp_msgid, sequence), 0, 16 },
};

uint64_t
cmpp_msgid_make(const struct cmpp_msgid *m)
{
	uint64_t id = 0;
	unsigned u;
	size_t   i;

	for (i = 0; i < NELEM(msgid_bits); i++) {
		memcpy(&u, (const char *)m + msgid_bits[i].off, sizeof(u));
		id |= ((uint64_t)u & ((1ull << msgid_bits[i].bits) - 1)) <<
		    msgid_bits[i].shift;
	}
	return id;
}

void
cmpp_msgid_split(uint64_t id, struct cmpp_msgid *m)
{
	unsigned u;
	size_t   i;

	for (i = 0; i < NELEM(msgid_bits); i++) {
		u = (unsigned)((id >> msgid_bits[i].shift) &
		    ((1ull << msgid_bits[i].bits) - 1));
		memcpy((char *)m + msgid_bits[i].off, &u, sizeof(u));
	}
}

void
cmpp_msgid_hex(uint64_t id, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)id);
}

void
cmpp_msgid_show(uint64_t id, char *out, size_t cap)
{
	struct cmpp_msgid m;

	if (cap == 0)
		return;
	cmpp_msgid_split(id, &m);
	snprintf(out, cap, "%02u-%02u %02u:%02u:%02u gw=%u seq=%u", m.month,
	    m.day, m.hour, m.minute, m.second, m.gateway, m.sequence);
}

/* ---- names ------------------------------------------------------------- */

static const struct {
	uint32_t    id;
	const char *name;
} commands[] = {
	{ CMPP_CONNECT, "CMPP_CONNECT" },
	{ CMPP_CONNECT_RESP, "CMPP_CONNECT_RESP" },
	{ CMPP_TERMINATE, "CMPP_TERMINATE" },
	{ CMPP_TERMINATE_RESP, "CMPP_TERMINATE_RESP" },
	{ CMPP_SUBMIT, "CMPP_SUBMIT" },
	{ CMPP_SUBMIT_RESP, "CMPP_SUBMIT_RESP" },
	{ CMPP_DELIVER, "CMPP_DELIVER" },
	{ CMPP_DELIVER_RESP, "CMPP_DELIVER_RESP" },
	{ CMPP_ACTIVE_TEST, "CMPP_ACTIVE_TEST" },
	{ CMPP_ACTIVE_TEST_RESP, "CMPP_ACTIVE_TEST_RESP" },
	{ 0x00000006u, "CMPP_QUERY" },
	{ 0x80000006u, "CMPP_QUERY_RESP" },
	{ 0x00000007u, "CMPP_CANCEL" },
	{ 0x80000007u, "CMPP_CANCEL_RESP" },
};

const char *
cmpp_command_name(uint32_t id)
{
	static char buf[16];
	size_t i;

	for (i = 0; i < NELEM(commands); i++)
		if (commands[i].id == id)
			return commands[i].name;
	snprintf(buf, sizeof(buf), "0x%08x", id);
	return buf;
}

/* §7.4.2.2 Status. */
static const char *const connect_status[] = {
	"ok",
	"bad message structure",
	"bad source address",
	"authentication failed",
	"version too high",
};

const char *
cmpp_connect_status_name(uint32_t status)
{
	return status < NELEM(connect_status) ? connect_status[status] :
	    "other error";
}

/* §7.4.3.2 Result. */
static const char *const results[] = {
	"ok (0)",
	"bad message structure (1)",
	"bad command (2)",
	"duplicate Msg_Id (3)",
	"bad message length (4)",
	"bad fee code (5)",
	"message too long (6)",
	"bad Service_Id (7)",
	"flow control (8)",
	"this gateway does not serve the number (9)",
	"bad Src_Id (10)",
	"bad Msg_src (11)",
	"bad Fee_terminal_Id (12)",
	"bad Dest_terminal_Id (13)",
};

const char *
cmpp_result_name(uint32_t result)
{
	static char buf[32];

	if (result < NELEM(results))
		return results[result];
	snprintf(buf, sizeof(buf), "other error (%u)", result);
	return buf;
}
