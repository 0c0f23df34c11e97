/*
 * case show: one case as aligned "field: value" lines, found by receipt
 * number or by ID number (the latest case). Personal data is masked as in
 * replies and logs unless --reveal is given.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "daemon/privacy.h"
#include "parsers/idcard.h"
#include "tools/ctl/ctl.h"

#define DEADLINE_DAYS 60    /* Identity Card Law, Art. 12 */

/* submitted_at + 60 days as YYYY-MM-DD; "" if the date does not parse. */
static void
deadline(const char *date, char *out, size_t cap)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	out[0] = '\0';
	if (sscanf(date, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday) != 3)
		return;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_mday += DEADLINE_DAYS;
	tm.tm_hour = 12;                   /* clear of DST edges */
	if ((t = timegm(&tm)) == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		return;
	strftime(out, cap, "%Y-%m-%d", &tm);
}

static void
print_case(const struct case_rec *c, int reveal)
{
	char id[24], name[72], msisdn[32], updated[40], due[16];
	struct tm tm;
	time_t t = (time_t)c->updated_at;
	const struct { const char *label, *value; } f[] = {
		{ "receipt_no", c->receipt_no },
		{ "id_number", id },
		{ "name", name },
		{ "msisdn", msisdn },
		{ "status", case_status_name(c->status) },
		{ "submitted_at", c->submitted_at },
		{ "deadline", due },
		{ "updated_at", updated },
		{ "courier", c->courier },
		{ "tracking_no", c->tracking_no },
		{ "pickup_place", c->pickup_place },
		{ "appointment", c->appointment },
		{ "reason", c->reason },
	};
	int width = 0, n;

	if (reveal) {
		snprintf(id, sizeof(id), "%s", c->id_number);
		snprintf(name, sizeof(name), "%s", c->name);
		snprintf(msisdn, sizeof(msisdn), "%s", c->msisdn);
	} else {
		idcard_mask(c->id_number, id);
		mask_name(c->name, name, sizeof(name));
		mask_msisdn(c->msisdn, msisdn, sizeof(msisdn));
	}
	deadline(c->submitted_at, due, sizeof(due));
	updated[0] = '\0';
	if (localtime_r(&t, &tm) != NULL)
		strftime(updated, sizeof(updated), "%Y-%m-%d %H:%M:%S %z", &tm);

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if ((n = (int)strlen(f[i].label)) > width)
			width = n;
	/* Empty optional fields are left out. */
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].value != NULL && f[i].value[0] != '\0')
			printf("%s:%*s %s\n", f[i].label,
			    width - (int)strlen(f[i].label), "", f[i].value);
}

int
ctl_case_show(struct ctl *ctl, int argc, char **argv)
{
	const char *key = NULL;
	char receipt[33], canon[19], masked[9];
	struct case_rec c;
	struct store *st;
	int reveal = 0, rc = 0;
	size_t n;

	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--reveal") == 0)
			reveal = 1;
		else if (argv[i][0] == '-' || key != NULL)
			return 2;
		else
			key = argv[i];
	if (key == NULL)
		return 2;
	if ((st = ctl_store(ctl)) == NULL)
		return 1;

	/* Receipts are stored upper-case; then try it as an ID number. */
	n = strlen(key);
	if (n < sizeof(receipt)) {
		for (size_t i = 0; i <= n; i++)
			receipt[i] = (char)toupper((unsigned char)key[i]);
		rc = store_case_by_receipt(st, receipt, &c);
	}
	if (rc == 0 && idcard_check(key, canon, 0) == IDCARD_OK)
		rc = store_case_latest_by_id(st, canon, &c);
	if (rc == -1) {
		ctl_err("reading the case failed: %s",
		    sqlite3_errmsg(store_db(st)));
		return 1;
	}
	if (rc == 0) {
		/* An ID-shaped key is not echoed whole. */
		if (reveal || n != 18)
			ctl_err("no case for '%s'", key);
		else {
			idcard_mask(key, masked);
			ctl_err("no case for %s", masked);
		}
		return 1;
	}
	print_case(&c, reveal);
	return 0;
}
