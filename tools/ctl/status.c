/*
 * case set-status: one case's status and details changed in one
 * transaction with the notification the change calls for (daemon/notify),
 * so the citizen hears of each change once, whoever makes it.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "daemon/notify.h"
#include "daemon/templates.h"
#include "proto/charset.h"
#include "tools/ctl/ctl.h"

#define ERRBUF 8192

#define FIELD(f) offsetof(struct case_rec, f), \
	sizeof(((struct case_rec *)0)->f)

/* The details an operator may set, and which status's notice needs each. */
static const struct detail {
	const char *opt;
	size_t      off, size;
	int         needed_by;      /* enum case_status, or -1 */
} details[] = {
	{ "--courier", FIELD(courier), CASE_MAILED },
	{ "--tracking", FIELD(tracking_no), CASE_MAILED },
	{ "--place", FIELD(pickup_place), CASE_READY },
	{ "--reason", FIELD(reason), CASE_REJECTED },
	{ "--appointment", FIELD(appointment), CASE_APPOINTMENT },
};
#define NDETAILS (sizeof(details) / sizeof(details[0]))

/* A detail fits its field and is printable UTF-8 (it goes into an SMS). */
static int
detail_ok(const struct detail *d, const char *v)
{
	size_t len = strlen(v);

	if (len >= d->size) {
		ctl_err("%s is %zu bytes, at most %zu", d->opt, len,
		    d->size - 1);
		return 0;
	}
	if (!utf8_valid(v, len)) {
		ctl_err("%s is not valid UTF-8", d->opt);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7F) {
			ctl_err("%s has a control character", d->opt);
			return 0;
		}
	return 1;
}

/* Receipt numbers are stored upper-case (citizens' texts are). */
static int
receipt_of(const char *in, char out[33])
{
	size_t n = strlen(in);

	if (n == 0 || n > 32)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && !isalnum((unsigned char)in[i]))
			return -1;
		out[i] = (char)toupper((unsigned char)in[i]);
	}
	return 0;
}

static int
print_result(const struct case_rec *c, int prev, enum notify_result r,
    long long msg_id, int json)
{
	const char *from = prev >= 0 ? case_status_name(prev) : NULL;
	const char *to = case_status_name(c->status), *why;
	json_t *doc;

	if (r == NOTIFY_QUEUED)
		why = NULL;
	else if (r == NOTIFY_OPTED_OUT)
		why = "opted out";
	else if (prev == c->status)
		why = "unchanged";
	else
		why = "not notified";
	if (json) {
		doc = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o}",
		    "receipt_no", c->receipt_no,
		    "from", ctl_jstr(from),
		    "to", to,
		    "notification", r == NOTIFY_QUEUED ? "queued" :
		    r == NOTIFY_OPTED_OUT ? "opted_out" : "none",
		    "reason", ctl_jstr(why),
		    "message_id", r == NOTIFY_QUEUED ?
		    json_integer(msg_id) : json_null());
		return ctl_print(doc, 1, NULL);
	}
	printf("%s: %s -> %s; ", c->receipt_no, from, to);
	if (r == NOTIFY_QUEUED)
		printf("notification queued (id %lld)\n", msg_id);
	else if (why != NULL && strcmp(why, "not notified") == 0)
		printf("no notification (%s is not notified)\n", to);
	else
		printf("no notification (%s)\n", why);
	return fflush(stdout) == EOF ? 1 : 0;
}

int
ctl_case_set_status(struct ctl *ctl, int argc, char **argv)
{
	const char *val[NDETAILS] = { NULL };
	struct ctl_opt opts[NDETAILS + 2];
	struct tmpl_set *t = NULL;
	struct case_rec c;
	struct store *st;
	enum notify_result r;
	char *pos[2], receipt[33], err[ERRBUF];
	long long msg_id = 0;
	int json = 0, status, prev, found, rc = 1;

	memset(opts, 0, sizeof(opts));
	for (size_t i = 0; i < NDETAILS; i++) {
		opts[i].name = details[i].opt;
		opts[i].value = &val[i];
	}
	opts[NDETAILS].name = "--json";
	opts[NDETAILS].flag = &json;
	if (ctl_args(argc, argv, opts, pos, 2) != 2)
		return 2;
	if (receipt_of(pos[0], receipt) == -1) {
		ctl_err("'%s' is not a receipt number (1-32 letters and "
		    "digits)", pos[0]);
		return 2;
	}
	if ((status = case_status_from_name(pos[1])) == -1) {
		ctl_err("unknown status '%s': one of accepted, reviewing, "
		    "producing, mailed, ready, collected, rejected, "
		    "appointment", pos[1]);
		return 2;
	}
	for (size_t i = 0; i < NDETAILS; i++)
		if (val[i] != NULL && !detail_ok(&details[i], val[i]))
			return 1;
	if ((t = tmpl_load(ctl->conf.templates.path, err,
	    sizeof(err))) == NULL) {
		fputs(err, stderr);
		return 1;
	}
	if ((st = ctl_store(ctl)) == NULL)
		goto out;
	if (store_begin(st, err, sizeof(err)) == -1) {
		ctl_err("%s", err);
		goto out;
	}
	if ((found = store_case_by_receipt(st, receipt, &c)) != 1) {
		if (found == 0)
			ctl_err("no such case: %s", receipt);
		else
			ctl_err("reading case %s: %s", receipt,
			    sqlite3_errmsg(store_db(st)));
		goto fail;
	}
	prev = c.status;
	c.status = status;
	c.updated_at = 0;                     /* now */
	for (size_t i = 0; i < NDETAILS; i++)
		if (val[i] != NULL)
			snprintf((char *)&c + details[i].off, details[i].size,
			    "%s", val[i]);
	/* A notice with a blank where the tracking number should be cannot
	 * be taken back: refuse the change instead. */
	if (prev != status)
		for (size_t i = 0; i < NDETAILS; i++)
			if (details[i].needed_by == status &&
			    *((char *)&c + details[i].off) == '\0') {
				ctl_err("%s: %s needs %s", receipt,
				    case_status_name(status), details[i].opt);
				goto fail;
			}
	r = notify_case_update(st, t, &c, ctl->conf.locale.country_code, 1,
	    &prev, err, sizeof(err));
	if (r == NOTIFY_ERROR) {
		ctl_err("%s", err);
		goto fail;
	}
	/* The notification is the last row notify_case_update inserted. */
	if (r == NOTIFY_QUEUED)
		msg_id = (long long)sqlite3_last_insert_rowid(store_db(st));
	if (store_commit(st, err, sizeof(err)) == -1) {
		ctl_err("%s; nothing changed", err);
		goto fail;
	}
	rc = print_result(&c, prev, r, msg_id, json);
	goto out;
fail:
	store_rollback(st);
out:
	tmpl_free(t);
	return rc;
}
