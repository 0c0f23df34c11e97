/*
 * SMSC delivery receipts: the de-facto text form of SMPP 3.4 Appendix B plus
 * the receipt TLVs. SMSCs disagree on case, field order and which fields they
 * send, so the text parser is lenient; only an id and a state are required.
 */
#include "proto/dlr.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Indexed by enum dlr_state; [0] is what we print for an unknown value. */
static const char *const state_names[] = {
	[DLR_UNKNOWN_STATE] = "UNKNOWN",
	[DLR_ENROUTE] = "ENROUTE", [DLR_DELIVERED] = "DELIVRD",
	[DLR_EXPIRED] = "EXPIRED", [DLR_DELETED] = "DELETED",
	[DLR_UNDELIVERABLE] = "UNDELIV", [DLR_ACCEPTED] = "ACCEPTD",
	[DLR_UNKNOWN] = "UNKNOWN", [DLR_REJECTED] = "REJECTD",
};

/* Spellings seen in the wild besides the 7-letter ones of Appendix B. */
static const struct {
	const char     *name;
	enum dlr_state  state;
} stat_aliases[] = {
	{ "DELIVERED", DLR_DELIVERED },     { "UNDELIVERABLE", DLR_UNDELIVERABLE },
	{ "ACCEPTED", DLR_ACCEPTED },       { "REJECTED", DLR_REJECTED },
	{ "UNDELIVERED", DLR_UNDELIVERABLE },
};

const char *
dlr_state_name(enum dlr_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return state_names[DLR_UNKNOWN_STATE];
	return state_names[s];
}

enum dlr_state
dlr_state_from_stat(const char *stat)
{
	size_t i;

	if (stat == NULL)
		return DLR_UNKNOWN_STATE;
	for (i = DLR_ENROUTE; i <= DLR_REJECTED; i++)
		if (strcasecmp(stat, state_names[i]) == 0)
			return (enum dlr_state)i;
	for (i = 0; i < sizeof(stat_aliases) / sizeof(stat_aliases[0]); i++)
		if (strcasecmp(stat, stat_aliases[i].name) == 0)
			return stat_aliases[i].state;
	return DLR_UNKNOWN_STATE;
}

enum field { F_ID, F_SUB, F_DLVRD, F_SUBMIT, F_DONE, F_STAT, F_ERR, F_TEXT };

/* A space in a key also matches '_' ("submit_date" is common). */
static const struct {
	const char *key;
	enum field  field;
} keys[] = {
	{ "id", F_ID }, { "sub", F_SUB }, { "dlvrd", F_DLVRD },
	{ "submit date", F_SUBMIT }, { "done date", F_DONE },
	{ "stat", F_STAT }, { "err", F_ERR }, { "text", F_TEXT },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Length of key matched at s (including the ':'), or 0. */
static size_t
match_key(const char *s, size_t len, const char *key)
{
	size_t i;

	for (i = 0; key[i] != '\0'; i++) {
		if (i >= len)
			return 0;
		if (key[i] == ' ') {
			if (s[i] != ' ' && s[i] != '_')
				return 0;
		} else if (tolower((unsigned char)s[i]) != key[i])
			return 0;
	}
	return i < len && s[i] == ':' ? i + 1 : 0;
}

static bool
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* Small non-negative decimal (or hex, for err: fields like "0x0b" or "00b"),
 * or -1 when the value is not a number we can hold. */
static int
parse_small_int(const char *v, size_t n, int allow_hex)
{
	long acc = 0;
	size_t i;
	int base = 10;

	if (allow_hex && n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		v += 2;
		n -= 2;
		base = 16;
	} else if (allow_hex && !all_digits(v, n))
		base = 16;
	if (n == 0 || n > 7)
		return -1;
	for (i = 0; i < n; i++) {
		int c = tolower((unsigned char)v[i]), d;

		if (isdigit(c))
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		acc = acc * base + d;
	}
	return (int)acc;
}

static void
dlr_reset(struct dlr *d)
{
	memset(d, 0, sizeof(*d));
	d->state = DLR_UNKNOWN_STATE;
	d->err = d->sub = d->dlvrd = -1;
}

/* Stores one field's value; the first occurrence of a key wins, so a
 * receipt's own "text:" quoting "stat:…" after the real one cannot spoof. */
static void
set_field(struct dlr *d, enum field f, const char *v, size_t n)
{
	char stat[16];

	switch (f) {
	case F_ID:
		if (n > 0 && n < sizeof(d->id)) {
			memcpy(d->id, v, n);
			d->id[n] = '\0';
		}
		break;
	case F_SUB:
		d->sub = parse_small_int(v, n, 0);
		break;
	case F_DLVRD:
		d->dlvrd = parse_small_int(v, n, 0);
		break;
	case F_SUBMIT:
	case F_DONE: {
		/* YYMMDDhhmm; some SMSCs add ss, which we drop. */
		char *dst = f == F_SUBMIT ? d->submit_date : d->done_date;

		if ((n == 10 || n == 12) && all_digits(v, n)) {
			memcpy(dst, v, 10);
			dst[10] = '\0';
		}
		break;
	}
	case F_STAT:
		if (n == 0 || n >= sizeof(stat))
			break;
		memcpy(stat, v, n);
		stat[n] = '\0';
		d->state = dlr_state_from_stat(stat);
		if (d->state == DLR_UNKNOWN_STATE) {
			/* A gateway's own code (CMPP's MA:0001, ...): kept
			 * verbatim for the log and the part, the state must
			 * come from elsewhere (message_state). */
			if (n < sizeof(d->stat))
				memcpy(d->stat, stat, n + 1);
			break;
		}
		if (n < sizeof(d->stat))
			memcpy(d->stat, stat, n + 1);
		else
			snprintf(d->stat, sizeof(d->stat), "%s",
			    dlr_state_name(d->state));
		break;
	case F_ERR:
		d->err = parse_small_int(v, n, 1);
		break;
	case F_TEXT:
		break;
	}
}

/* Fills *d from the text without judging completeness. */
static void
parse_text_fields(const char *s, size_t len, struct dlr *d)
{
	bool seen[NKEYS] = { false };
	size_t i = 0;

	while (i < len) {
		size_t k, klen = 0, vstart, vend;

		/* A key starts at the beginning or after whitespace. */
		if (i > 0 && !isspace((unsigned char)s[i - 1])) {
			i++;
			continue;
		}
		for (k = 0; k < NKEYS; k++)
			if ((klen = match_key(s + i, len - i, keys[k].key)) != 0)
				break;
		if (k == NKEYS) {
			i++;
			continue;
		}
		vstart = i + klen;
		vend = vstart;
		while (vend < len && !isspace((unsigned char)s[vend]) &&
		    s[vend] != '\0')
			vend++;
		if (!seen[k]) {
			seen[k] = true;
			set_field(d, keys[k].field, s + vstart, vend - vstart);
		}
		i = vend;
	}
}

static int
check_complete(const struct dlr *d, char *err, size_t errlen)
{
	if (d->id[0] == '\0') {
		snprintf(err, errlen, "receipt has no message id");
		return -1;
	}
	if (d->state == DLR_UNKNOWN_STATE) {
		snprintf(err, errlen, "receipt has no known state");
		return -1;
	}
	return 0;
}

int
dlr_parse_text(const char *text, size_t len, struct dlr *out, char *err,
    size_t errlen)
{
	dlr_reset(out);
	parse_text_fields(text, len, out);
	return check_complete(out, err, errlen);
}

/*
 * Receipt text as single-byte characters. The text form is ASCII; an SMSC
 * that sends it as UCS-2 gets its high bytes dropped (anything not ASCII
 * becomes '?', which the parser never needs).
 */
static size_t
receipt_text(const struct pdu *p, char *buf, size_t cap)
{
	const uint8_t *src = p->sm;
	size_t n = p->sm_len, i, o = 0;

	if (n == 0 && (p->tlvs & PDU_HAS_PAYLOAD)) {
		src = p->payload;
		n = p->payload_len;
	}
	if (p->data_coding == 0x08 && n % 2 == 0) {
		for (i = 0; i + 1 < n && o < cap; i += 2)
			buf[o++] = src[i] == 0 && src[i + 1] < 0x80 ?
			    (char)src[i + 1] : '?';
		return o;
	}
	for (i = 0; i < n && o < cap; i++)
		buf[o++] = (char)src[i];
	return o;
}

int
dlr_parse(const struct pdu *p, struct dlr *out, char *err, size_t errlen)
{
	char text[PDU_PAYLOAD_MAX];
	size_t n;

	dlr_reset(out);
	n = receipt_text(p, text, sizeof(text));
	parse_text_fields(text, n, out);

	if ((p->tlvs & PDU_HAS_RECEIPTED_ID) && p->receipted_id[0] != '\0')
		snprintf(out->id, sizeof(out->id), "%s", p->receipted_id);
	/* Out-of-range message_state values are ignored, not trusted. */
	if ((p->tlvs & PDU_HAS_MSG_STATE) && p->message_state >= DLR_ENROUTE &&
	    p->message_state <= DLR_REJECTED &&
	    p->message_state != out->state) {
		/* A vendor code in the text stays what the part shows. */
		int vendor = out->state == DLR_UNKNOWN_STATE &&
		    out->stat[0] != '\0';

		out->state = (enum dlr_state)p->message_state;
		if (!vendor)
			snprintf(out->stat, sizeof(out->stat), "%s",
			    dlr_state_name(out->state));
	}
	/* network_error_code: network type octet, then a 16-bit error. */
	if (p->tlvs & PDU_HAS_NET_ERR)
		out->err = (p->net_err[1] << 8) | p->net_err[2];
	return check_complete(out, err, errlen);
}

/* Parses s as an unsigned number in base 10 or 16; false on a non-digit or
 * overflow of 64 bits. */
static bool
parse_u64(const char *s, int base, uint64_t *v)
{
	uint64_t acc = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		int c = *s, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		if (acc > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		acc = acc * (uint64_t)base + (uint64_t)d;
	}
	*v = acc;
	return true;
}

static int
add_variant(char out[3][PDU_MSGID_MAX], int n, const char *v)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(out[i], v) == 0)
			return n;
	snprintf(out[n], PDU_MSGID_MAX, "%s", v);
	return n + 1;
}

int
dlr_id_variants(const char *id, char out[3][PDU_MSGID_MAX])
{
	char lower[PDU_MSGID_MAX], buf[24];
	size_t i, len = strlen(id);
	uint64_t v;
	int n = 0;

	if (len == 0 || len >= sizeof(lower))
		return 0;
	for (i = 0; i <= len; i++)
		lower[i] = (char)tolower((unsigned char)id[i]);
	n = add_variant(out, n, lower);
	if (parse_u64(lower, 10, &v)) {
		snprintf(buf, sizeof(buf), "%" PRIx64, v);
		n = add_variant(out, n, buf);
	}
	if (parse_u64(lower, 16, &v)) {
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
		n = add_variant(out, n, buf);
	}
	return n;
}
