/*
 * Case field rules (see casefields.h). Error texts name the field and, for
 * short codes, the value given, so a CSV line or an API caller can see what
 * was wrong; ID numbers only ever appear masked.
 */
#include "daemon/casefields.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/privacy.h"
#include "parsers/idcard.h"
#include "proto/charset.h"
#include "proto/errf.h"

#define FIELD(f) offsetof(struct case_rec, f), \
	sizeof(((struct case_rec *)0)->f)

const struct casefield casefields[CF_COUNT] = {
	[CF_RECEIPT]     = { "receipt_no", FIELD(receipt_no) },
	[CF_ID]          = { "id_number", FIELD(id_number) },
	[CF_NAME]        = { "name", FIELD(name) },
	[CF_MSISDN]      = { "msisdn", FIELD(msisdn) },
	[CF_STATUS]      = { "status", 0, 0 },
	[CF_SUBMITTED]   = { "submitted_at", FIELD(submitted_at) },
	[CF_COURIER]     = { "courier", FIELD(courier) },
	[CF_TRACKING]    = { "tracking_no", FIELD(tracking_no) },
	[CF_PICKUP]      = { "pickup_place", FIELD(pickup_place) },
	[CF_APPOINTMENT] = { "appointment", FIELD(appointment) },
	[CF_REASON]      = { "reason", FIELD(reason) },
};

int
casefield_find(const char *name, int nocase)
{
	for (int i = 0; i < CF_COUNT; i++)
		if ((nocase ? strcasecmp(name, casefields[i].name) :
		    strcmp(name, casefields[i].name)) == 0)
			return i;
	return -1;
}

static int
set_receipt(char *dst, const char *v, size_t len, char *why, size_t cap)
{
	if (len == 0 || len > 32) {
		errf(why, cap, "receipt_no must be 1-32 letters or digits");
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)v[i])) {
			errf(why, cap, "receipt_no '%.40s' must be letters and "
			    "digits only", v);
			return -1;
		}
	/* Citizens' texts are upper-cased before lookup. */
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)toupper((unsigned char)v[i]);
	dst[len] = '\0';
	return 0;
}

/* Text for a column: UTF-8, no control characters, fits the field. */
static int
set_text(const struct casefield *f, char *dst, const char *v, size_t len,
    char *why, size_t cap)
{
	if (len >= f->size) {
		errf(why, cap, "%s is %zu bytes, at most %zu", f->name, len,
		    f->size - 1);
		return -1;
	}
	if (!utf8_valid(v, len)) {
		errf(why, cap, "%s is not valid UTF-8", f->name);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7F) {
			errf(why, cap, "%s has a control character", f->name);
			return -1;
		}
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

/* A real date, YYYY-MM-DD, from 1900 on. */
static int
set_date(char *dst, const char *v, size_t len, char *why, size_t cap)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, m, d, leap;

	if (len != 10 || strspn(v, "0123456789") != 4 || v[4] != '-' ||
	    strspn(v + 5, "0123456789") != 2 || v[7] != '-' ||
	    strspn(v + 8, "0123456789") != 2)
		goto bad;
	y = atoi(v);
	m = atoi(v + 5);
	d = atoi(v + 8);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !leap))
		goto bad;
	if (y < 1900) {
		errf(why, cap, "submitted_at '%s' is before 1900", v);
		return -1;
	}
	memcpy(dst, v, 11);
	return 0;
bad:
	errf(why, cap, "submitted_at '%.20s' is not a date (YYYY-MM-DD)", v);
	return -1;
}

int
casefield_set(struct case_rec *c, enum case_field f, const char *v,
    size_t len, const char *cc, long today, char *why, size_t cap)
{
	const struct casefield *cf;
	char *dst, masked[9];
	enum idcard_result r;

	if ((int)f < 0 || f >= CF_COUNT) {
		errf(why, cap, "no such case field");
		return -1;
	}
	cf = &casefields[f];
	dst = (char *)c + cf->off;
	switch (f) {
	case CF_RECEIPT:
		return set_receipt(dst, v, len, why, cap);
	case CF_ID:
		if ((r = idcard_check(v, c->id_number, today)) != IDCARD_OK) {
			idcard_mask(v, masked);  /* never a whole ID number */
			errf(why, cap, "id_number %s: %s", masked,
			    idcard_strerror(r));
			return -1;
		}
		return 0;
	case CF_NAME:
		if (len == 0) {
			errf(why, cap, "name is empty");
			return -1;
		}
		return set_text(cf, dst, v, len, why, cap);
	case CF_MSISDN:
		if (msisdn_national(v, cc, dst, cf->size) == -1 ||
		    strlen(dst) < MSISDN_MIN) {
			dst[0] = '\0';
			errf(why, cap, "msisdn is not a phone number");
			return -1;
		}
		return 0;
	case CF_STATUS:
		if ((c->status = case_status_from_name(v)) == -1) {
			errf(why, cap, "status '%.20s' is not one of accepted, "
			    "reviewing, producing, mailed, ready, collected, "
			    "rejected, appointment", v);
			return -1;
		}
		return 0;
	case CF_SUBMITTED:
		return set_date(dst, v, len, why, cap);
	default:
		return set_text(cf, dst, v, len, why, cap);
	}
}
