/*
 * stats and optout: counts across the database, and the phone numbers
 * that get no notifications (by national form, as the daemon checks them).
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "daemon/casefields.h"
#include "daemon/privacy.h"
#include "tools/ctl/ctl.h"


/*
 * Runs a "SELECT key, count(*) … GROUP BY key" into obj, whose keys (in
 * display order) are set to 0 beforehand; keys it did not expect are
 * added at the end. 0, or -1 after saying why.
 */
static int
count_into(struct store *st, const char *sql, json_t *obj)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);

		if (json_object_set_new(obj, k != NULL ? k : "null",
		    json_integer(sqlite3_column_int64(s, 1))) == -1) {
			sqlite3_finalize(s);
			ctl_err("out of memory");
			return -1;
		}
	}
	if (rc != SQLITE_DONE) {
		ctl_err("stats: %s", sqlite3_errmsg(store_db(st)));
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
fail:
	ctl_err("stats: %s", sqlite3_errmsg(store_db(st)));
	return -1;
}

/* An object with each name set to 0. */
static json_t *
zeros(const char *const *names, int n)
{
	json_t *o = json_object();

	for (int i = 0; o != NULL && i < n; i++)
		if (json_object_set_new(o, names[i], json_integer(0)) == -1) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

int
ctl_stats(struct ctl *ctl, int argc, char **argv)
{
	static const char *const dirs[] = { "in", "out" };
	static const char *const loss[] = { "pending", "effective",
	    "released" };
	const char *status[CASE_STATUS_COUNT], *ob[OB_NSTATES];
	int json = 0;
	const struct ctl_opt opts[] = {
		{ "--json", NULL, &json }, { NULL, NULL, NULL },
	};
	json_t *doc = NULL, *cases, *outbox, *msgs, *lr, *opt;
	int64_t counts[OB_NSTATES];
	struct store *st;

	if (ctl_args(argc, argv, opts, NULL, 0) != 0)
		return 2;
	if ((st = ctl_store(ctl)) == NULL)
		return 1;
	for (int i = 0; i < CASE_STATUS_COUNT; i++)
		status[i] = case_status_name(i);
	for (int i = 0; i < OB_NSTATES; i++)
		ob[i] = outbox_state_name(i);
	cases = zeros(status, CASE_STATUS_COUNT);
	outbox = zeros(ob, OB_NSTATES);
	msgs = zeros(dirs, 2);
	lr = zeros(loss, 3);
	opt = json_object();
	if (cases == NULL || outbox == NULL || msgs == NULL || lr == NULL ||
	    opt == NULL ||
	    (doc = json_pack("{s:o, s:o, s:o, s:o}", "cases", cases, "outbox",
	    outbox, "messages", msgs, "loss_reports", lr)) == NULL) {
		json_decref(opt);
		ctl_err("out of memory");
		return 1;
	}
	if (store_outbox_counts(st, counts) == -1) {
		ctl_err("stats: %s", sqlite3_errmsg(store_db(st)));
		goto fail;
	}
	for (int i = 0; i < OB_NSTATES; i++)
		json_object_set_new(outbox, ob[i], json_integer(counts[i]));
	if (count_into(st, "SELECT status, count(*) FROM cases GROUP BY"
	    " status", cases) == -1 ||
	    count_into(st, "SELECT direction, count(*) FROM messages GROUP BY"
	    " direction", msgs) == -1 ||
	    count_into(st, "SELECT state, count(*) FROM loss_reports GROUP BY"
	    " state", lr) == -1 ||
	    count_into(st, "SELECT 'optouts', count(*) FROM optouts", opt) ==
	    -1)
		goto fail;
	json_object_set(doc, "optouts", json_object_get(opt, "optouts"));
	json_decref(opt);
	return ctl_print(doc, json, NULL);
fail:
	json_decref(opt);
	json_decref(doc);
	return 1;
}

/* ---- opt-outs --------------------------------------------------------- */

static int
optout_set(struct ctl *ctl, int argc, char **argv, int on)
{
	int json = 0, reveal = 0, was;
	const struct ctl_opt opts[] = {
		{ "--json", NULL, &json }, { "--reveal", NULL, &reveal },
		{ NULL, NULL, NULL },
	};
	char *pos[1], national[24], shown[32], err[512];
	const char *what;
	struct store *st;

	if (ctl_args(argc, argv, opts, pos, 1) != 1)
		return 2;
	if (msisdn_national(pos[0], ctl->conf.locale.country_code, national,
	    sizeof(national)) == -1 || strlen(national) < MSISDN_MIN) {
		ctl_err("'%s' is not a phone number", pos[0]);
		return 2;
	}
	if ((st = ctl_store(ctl)) == NULL)
		return 1;
	if ((was = store_optout_get(st, national)) == -1) {
		ctl_err("opt-out: %s", sqlite3_errmsg(store_db(st)));
		return 1;
	}
	if (store_optout_set(st, national, on, err, sizeof(err)) == -1) {
		ctl_err("%s", err);
		return 1;
	}
	ctl_msisdn(national, ctl->conf.locale.country_code, reveal, shown,
	    sizeof(shown));
	if (json)
		return ctl_print(json_pack("{s:s, s:b, s:b}", "msisdn", shown,
		    "opted_out", on, "changed", was != on), 1, NULL);
	if (on)
		what = was ? "already opted out" : "opted out of notifications";
	else
		what = was ? "notifications resumed" : "was not opted out";
	printf("%s: %s\n", shown, what);
	return fflush(stdout) == EOF ? 1 : 0;
}

int
ctl_optout_add(struct ctl *ctl, int argc, char **argv)
{
	return optout_set(ctl, argc, argv, 1);
}

int
ctl_optout_remove(struct ctl *ctl, int argc, char **argv)
{
	return optout_set(ctl, argc, argv, 0);
}

int
ctl_optout_list(struct ctl *ctl, int argc, char **argv)
{
	int json = 0, reveal = 0, oom = 0, rc = SQLITE_DONE;
	const struct ctl_opt opts[] = {
		{ "--json", NULL, &json }, { "--reveal", NULL, &reveal },
		{ NULL, NULL, NULL },
	};
	char shown[32];
	struct store *st;
	sqlite3_stmt *s;
	json_t *doc, *row;

	if (ctl_args(argc, argv, opts, NULL, 0) != 0)
		return 2;
	if ((st = ctl_store(ctl)) == NULL)
		return 1;
	if (sqlite3_prepare_v2(store_db(st), "SELECT msisdn, at FROM optouts"
	    " ORDER BY msisdn", -1, &s, NULL) != SQLITE_OK) {
		ctl_err("opt-outs: %s", sqlite3_errmsg(store_db(st)));
		return 1;
	}
	if ((doc = json_array()) == NULL)
		oom = 1;
	while (!oom && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);

		ctl_msisdn(m != NULL ? m : "", ctl->conf.locale.country_code,
		    reveal, shown, sizeof(shown));
		row = json_pack("{s:o, s:o}", "msisdn", ctl_jstr(shown),
		    "at", ctl_jtime(sqlite3_column_int64(s, 1), json));
		if (row == NULL || json_array_append_new(doc, row) == -1)
			oom = 1;
	}
	if (!oom && rc != SQLITE_DONE) {
		ctl_err("opt-outs: %s", sqlite3_errmsg(store_db(st)));
		sqlite3_finalize(s);
		json_decref(doc);
		return 1;
	}
	sqlite3_finalize(s);
	if (oom) {
		json_decref(doc);
		ctl_err("out of memory");
		return 1;
	}
	return ctl_print(doc, json, "no opt-outs");
}
