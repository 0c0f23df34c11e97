/*
 * case show: one case as aligned "field: value" lines (or a JSON object
 * with --json), found by receipt number or by ID number (the latest case).
 * Personal data is masked as in replies and logs unless --reveal is given.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "daemon/privacy.h"
#include "parsers/idcard.h"
#include "tools/ctl/ctl.h"


/* The case as an object; personal data masked unless reveal. */
static json_t *
case_json(const struct case_rec *c, int reveal, int json)
{
	char id[24], name[72], msisdn[32], due[16], when[40] = "";
	time_t t = (time_t)c->updated_at;
	struct tm tm;

	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	if (reveal) {
		snprintf(id, sizeof(id), "%s", c->id_number);
		snprintf(name, sizeof(name), "%s", c->name);
		snprintf(msisdn, sizeof(msisdn), "%s", c->msisdn);
	} else {
		idcard_mask(c->id_number, id);
		mask_name(c->name, name, sizeof(name));
		mask_msisdn(c->msisdn, msisdn, sizeof(msisdn));
	}
	(void)case_deadline(c->submitted_at, due, sizeof(due));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
	    " s:o, s:o, s:o}",
	    "receipt_no", ctl_jstr(c->receipt_no),
	    "id_number", ctl_jstr(id),
	    "name", ctl_jstr(name),
	    "msisdn", ctl_jstr(msisdn),
	    "status", ctl_jstr(case_status_name(c->status)),
	    "submitted_at", ctl_jstr(c->submitted_at),
	    "deadline", ctl_jstr(due),
	    "updated_at", json ? json_integer(c->updated_at) :
	    ctl_jstr(when),
	    "courier", ctl_jstr(c->courier),
	    "tracking_no", ctl_jstr(c->tracking_no),
	    "pickup_place", ctl_jstr(c->pickup_place),
	    "appointment", ctl_jstr(c->appointment),
	    "reason", ctl_jstr(c->reason));
}

int
ctl_case_show(struct ctl *ctl, int argc, char **argv)
{
	const char *key = NULL;
	char receipt[33], canon[19], masked[9];
	struct case_rec c;
	struct store *st;
	int reveal = 0, json = 0, rc = 0;
	const struct ctl_opt opts[] = {
		{ "--reveal", NULL, &reveal }, { "--json", NULL, &json },
		{ NULL, NULL, NULL },
	};
	char *pos[1];
	size_t n;

	if (ctl_args(argc, argv, opts, pos, 1) != 1)
		return 2;
	key = pos[0];
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
	return ctl_print(case_json(&c, reveal, json), json, NULL);
}
