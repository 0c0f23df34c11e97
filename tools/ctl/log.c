/*
 * messages and outbox: the message log newest first, and the outbound
 * messages still on their way (or in a given state) with their parts.
 * Phone numbers and ID numbers in texts are masked unless --reveal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "daemon/privacy.h"
#include "parsers/intent.h"
#include "proto/cmpp.h"
#include "tools/ctl/ctl.h"

#define DEFAULT_LIMIT 20
/* The link of each part the SMSC accepted, in part order ("-": before
 * links had names); NULL for a message with no part accepted. */
#define PART_LINKS "(SELECT group_concat(coalesce(link, '-'), ' ') FROM" \
	" (SELECT link FROM outbox_parts WHERE id BETWEEN messages.id * 256" \
	" AND messages.id * 256 + 255 ORDER BY id))"
#define MAX_LIMIT     10000000L

static int
parse_limit(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 ||
	    v > MAX_LIMIT) {
		ctl_err("--limit '%s' is not a number from 1 to %ld", s,
		    MAX_LIMIT);
		return -1;
	}
	*out = v;
	return 0;
}

static const char *
col_text(sqlite3_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(s, col);
}

/* The text column as the operator may see it. */
static json_t *
text_of(sqlite3_stmt *s, int col, int loss, int reveal)
{
	const char *text = col_text(s, col);
	char *masked;
	json_t *j;

	if (text == NULL || reveal)
		return ctl_jstr(text);
	if ((masked = ctl_mask_text(text, loss)) == NULL)
		return NULL;
	j = ctl_jstr(masked);
	free(masked);
	return j;
}

static json_t *
msisdn_of(sqlite3_stmt *s, int col, const char *cc, int reveal)
{
	char out[64];
	const char *m = col_text(s, col);

	ctl_msisdn(m != NULL ? m : "", cc, reveal, out, sizeof(out));
	return ctl_jstr(out);
}

/* Adds value under key; a NULL value (out of memory) is remembered. */
static void
put(json_t *obj, const char *key, json_t *value, int *oom)
{
	if (value == NULL || json_object_set_new(obj, key, value) == -1)
		*oom = 1;
}

static int
db_fail(struct store *st, const char *what)
{
	ctl_err("%s: %s", what, sqlite3_errmsg(store_db(st)));
	return 1;
}

int
ctl_messages(struct ctl *ctl, int argc, char **argv)
{
	const char *msisdn = NULL, *limit_s = NULL, *cc =
	    ctl->conf.locale.country_code;
	int json = 0, reveal = 0, oom = 0, rc, step = SQLITE_DONE;
	const struct ctl_opt opts[] = {
		{ "--msisdn", &msisdn, NULL }, { "--limit", &limit_s, NULL },
		{ "--json", NULL, &json }, { "--reveal", NULL, &reveal },
		{ NULL, NULL, NULL },
	};
	char want[32], got[32];
	long limit = DEFAULT_LIMIT, n = 0;
	struct store *st;
	sqlite3_stmt *s;
	json_t *doc, *row;

	if (ctl_args(argc, argv, opts, NULL, 0) != 0)
		return 2;
	if (limit_s != NULL && parse_limit(limit_s, &limit) == -1)
		return 2;
	if (msisdn != NULL &&
	    msisdn_national(msisdn, cc, want, sizeof(want)) == -1) {
		ctl_err("--msisdn '%s' is not a phone number", msisdn);
		return 2;
	}
	if ((st = ctl_store(ctl)) == NULL)
		return 1;
	/*
	 * Newest first by the primary key. The log has no msisdn index (by
	 * design: inserts stay cheap), so --msisdn reads back through it
	 * until enough rows match.
	 */
	if (sqlite3_prepare_v2(store_db(st), "SELECT id, at, direction, class,"
	    " state, msisdn, intent, text, " PART_LINKS " FROM messages"
	    " ORDER BY id DESC LIMIT ?1", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, "messages");
	sqlite3_bind_int64(s, 1, msisdn != NULL ? -1 : limit);
	if ((doc = json_array()) == NULL)
		oom = 1;
	while (!oom && n < limit && (step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *dir = col_text(s, 2), *intent = col_text(s, 6);
		int loss = dir != NULL && strcmp(dir, "in") == 0 &&
		    intent != NULL && strcmp(intent,
		    intent_name(INTENT_REPORT_LOSS)) == 0;

		if (msisdn != NULL && (col_text(s, 5) == NULL ||
		    msisdn_national(col_text(s, 5), cc, got,
		    sizeof(got)) == -1 || strcmp(got, want) != 0))
			continue;
		if ((row = json_object()) == NULL ||
		    json_array_append_new(doc, row) == -1) {
			oom = 1;
			break;
		}
		put(row, "id", json_integer(sqlite3_column_int64(s, 0)), &oom);
		put(row, "at", ctl_jtime(sqlite3_column_int64(s, 1), json),
		    &oom);
		put(row, "direction", ctl_jstr(dir), &oom);
		put(row, "class", ctl_jstr(col_text(s, 3)), &oom);
		put(row, "state", ctl_jstr(col_text(s, 4)), &oom);
		put(row, "msisdn", msisdn_of(s, 5, cc, reveal), &oom);
		put(row, "intent", ctl_jstr(intent), &oom);
		put(row, "links", ctl_jstr(col_text(s, 8)), &oom);
		put(row, "text", text_of(s, 7, loss, reveal), &oom);
		n++;
	}
	rc = !oom && n < limit && step != SQLITE_DONE;
	if (rc)
		db_fail(st, "messages");
	sqlite3_finalize(s);
	if (rc) {
		json_decref(doc);
		return 1;
	}
	if (oom) {
		json_decref(doc);
		ctl_err("out of memory");
		return 1;
	}
	return ctl_print(doc, json, "no messages");
}

/* "delivered": 1, "submitted": 2 for one message. */
static json_t *
parts_of(sqlite3_stmt *p, int64_t id)
{
	json_t *o = json_object();

	sqlite3_bind_int64(p, 1, id);
	while (o != NULL && sqlite3_step(p) == SQLITE_ROW)
		if (json_object_set_new(o, col_text(p, 0),
		    json_integer(sqlite3_column_int64(p, 1))) == -1) {
			json_decref(o);
			o = NULL;
		}
	sqlite3_reset(p);
	return o;
}

/*
 * Each accepted part's SMSC id in part order, "-" for none; a CMPP link's
 * Msg_Id (16 hex digits) also decoded: "0123…ef (12-04 16:10:05 gw=12345
 * seq=7)". NULL-valued JSON when no part was accepted.
 */
static json_t *
smsc_ids_of(sqlite3_stmt *q, int64_t id, const struct conf *c)
{
	char buf[1024], shown[64];
	size_t used = 0;

	buf[0] = '\0';
	sqlite3_bind_int64(q, 1, id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *smsc = col_text(q, 0), *link = col_text(q, 1);
		int i = link != NULL ? conf_link_find(c, link) : -1;
		int n;

		shown[0] = '\0';
		if (smsc != NULL && i >= 0 &&
		    c->link[i].protocol != CONF_PROTO_SMPP &&
		    strlen(smsc) == 16 && strspn(smsc, "0123456789abcdef") == 16)
			cmpp_msgid_show(strtoull(smsc, NULL, 16), shown,
			    sizeof(shown));
		n = snprintf(buf + used, sizeof(buf) - used, "%s%s%s%s%s",
		    used > 0 ? ", " : "", smsc != NULL ? smsc : "-",
		    shown[0] != '\0' ? " (" : "", shown,
		    shown[0] != '\0' ? ")" : "");
		if (n < 0 || (size_t)n >= sizeof(buf) - used)
			break;
		used += (size_t)n;
	}
	sqlite3_reset(q);
	return used > 0 ? ctl_jstr(buf) : json_null();
}

int
ctl_outbox(struct ctl *ctl, int argc, char **argv)
{
	const char *state_s = NULL, *limit_s = NULL, *cc =
	    ctl->conf.locale.country_code;
	int json = 0, reveal = 0, oom = 0, state = -1, step = SQLITE_DONE;
	const struct ctl_opt opts[] = {
		{ "--state", &state_s, NULL }, { "--limit", &limit_s, NULL },
		{ "--json", NULL, &json }, { "--reveal", NULL, &reveal },
		{ NULL, NULL, NULL },
	};
	long limit = -1;                       /* all */
	struct store *st;
	sqlite3_stmt *s = NULL, *p = NULL, *q = NULL;
	json_t *doc, *row;

	if (ctl_args(argc, argv, opts, NULL, 0) != 0)
		return 2;
	if (limit_s != NULL && parse_limit(limit_s, &limit) == -1)
		return 2;
	if (state_s != NULL &&
	    (state = outbox_state_from_name(state_s)) == -1) {
		ctl_err("unknown state '%s': one of queued, submitted, "
		    "delivered, failed, expired", state_s);
		return 2;
	}
	if ((st = ctl_store(ctl)) == NULL)
		return 1;
	/* Not yet final. Queued rows have an index (messages_queued); the
	 * submitted ones are found by reading the log in id order, which on
	 * a long log takes a moment (schema 5 keeps them out of any index, so
	 * the daemon's hot path does not maintain one). */
	if (sqlite3_prepare_v2(store_db(st), state == -1 ?
	    "SELECT id, at, class, state, attempts, msisdn, ref, last_status,"
	    " text, " PART_LINKS " FROM messages WHERE state IN ('queued',"
	    " 'submitted') ORDER BY id LIMIT ?1" :
	    "SELECT id, at, class, state, attempts, msisdn, ref, last_status,"
	    " text, " PART_LINKS " FROM messages WHERE state = ?2 ORDER BY id"
	    " LIMIT ?1", -1,
	    &s, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(store_db(st), "SELECT state, count(*) FROM"
	    " outbox_parts WHERE id BETWEEN ?1 * 256 AND ?1 * 256 + 255"
	    " GROUP BY state ORDER BY state",
	    -1, &p, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(store_db(st), "SELECT smsc_id, link FROM"
	    " outbox_parts WHERE id BETWEEN ?1 * 256 AND ?1 * 256 + 255"
	    " ORDER BY id", -1, &q, NULL) != SQLITE_OK) {
		db_fail(st, "outbox");
		sqlite3_finalize(s);
		sqlite3_finalize(p);
		return 1;
	}
	sqlite3_bind_int64(s, 1, limit);
	if (state != -1)
		sqlite3_bind_text(s, 2, outbox_state_name(state), -1,
		    SQLITE_STATIC);
	if ((doc = json_array()) == NULL)
		oom = 1;
	while (!oom && (step = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);

		if ((row = json_object()) == NULL ||
		    json_array_append_new(doc, row) == -1) {
			oom = 1;
			break;
		}
		put(row, "id", json_integer(id), &oom);
		put(row, "at", ctl_jtime(sqlite3_column_int64(s, 1), json),
		    &oom);
		put(row, "class", ctl_jstr(col_text(s, 2)), &oom);
		put(row, "state", ctl_jstr(col_text(s, 3)), &oom);
		put(row, "attempts", json_integer(sqlite3_column_int(s, 4)),
		    &oom);
		put(row, "msisdn", msisdn_of(s, 5, cc, reveal), &oom);
		put(row, "ref", sqlite3_column_type(s, 6) == SQLITE_NULL ?
		    json_null() : json_integer(sqlite3_column_int(s, 6)),
		    &oom);
		put(row, "parts", parts_of(p, id), &oom);
		put(row, "links", ctl_jstr(col_text(s, 9)), &oom);
		put(row, "smsc_ids", smsc_ids_of(q, id, &ctl->conf), &oom);
		put(row, "last_status", ctl_jstr(col_text(s, 7)), &oom);
		put(row, "text", text_of(s, 8, 0, reveal), &oom);
	}
	if (!oom && step != SQLITE_DONE)
		db_fail(st, "outbox");
	sqlite3_finalize(s);
	sqlite3_finalize(p);
	sqlite3_finalize(q);
	if (!oom && step != SQLITE_DONE) {
		json_decref(doc);
		return 1;
	}
	if (oom) {
		json_decref(doc);
		ctl_err("out of memory");
		return 1;
	}
	return ctl_print(doc, json, "outbox empty");
}
