/*
 * The HTTP API (see http.h). Each request is answered inside its callback:
 * authenticate, route, validate, one transaction, reply. Personal data goes
 * only into responses to the authenticated caller, never into the log.
 */
#include "daemon/http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <sqlite3.h>

#include "daemon/casefields.h"
#include "daemon/conf.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "daemon/privacy.h"
#include "daemon/store.h"
#include "daemon/templates.h"
#include "parsers/idcard.h"
#include "proto/charset.h"
#include "proto/errf.h"

#define HTTP_MAX_HEADERS (8 * 1024)
#define HTTP_TIMEOUT_S   30       /* to read a request or write a reply */
#define TOKEN_MAX        512
#define TOKEN_SHORT      16       /* shorter tokens get a warning */
#define RECEIPT_MAX      32
#define VALUE_MAX        320      /* longer than any field may be */
#define LIMIT_DEFAULT    50
#define LIMIT_MAX        1000
#define LOG_PATH_MAX     64
#define REALM            "Bearer realm=\"smsgwd\""

struct http_api {
	struct evhttp              *http;
	struct evhttp_bound_socket *sock;
	struct store               *st;
	const struct tmpl_set    *(*templates)(void *);
	void                      (*changed)(void *);
	void                       *arg;
	char                        cc[sizeof(((struct conf *)0)->locale
	                                .country_code)];
	char                        token[TOKEN_MAX + 1];
	size_t                      toklen;
	int                         port;
};

/* The request being answered. */
struct req {
	struct http_api       *h;
	struct evhttp_request *r;
	struct timespec        t0;
	const char            *path;       /* without the query */
	char                   receipt[RECEIPT_MAX + 1];
	int                    quiet;      /* log success at debug level */
};

/* ---- replies ----------------------------------------------------------- */

static const struct {
	enum evhttp_cmd_type cmd;
	const char          *name;
} methods[] = {
	{ EVHTTP_REQ_GET, "GET" }, { EVHTTP_REQ_POST, "POST" },
	{ EVHTTP_REQ_HEAD, "HEAD" }, { EVHTTP_REQ_PUT, "PUT" },
	{ EVHTTP_REQ_DELETE, "DELETE" }, { EVHTTP_REQ_OPTIONS, "OPTIONS" },
	{ EVHTTP_REQ_TRACE, "TRACE" }, { EVHTTP_REQ_CONNECT, "CONNECT" },
	{ EVHTTP_REQ_PATCH, "PATCH" },
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const char *
method_name(enum evhttp_cmd_type cmd)
{
	for (size_t i = 0; i < NMETHODS; i++)
		if (methods[i].cmd == cmd)
			return methods[i].name;
	return "?";
}

/* s as printable ASCII for a log line or a message, at most cap-1 bytes;
 * anything else shows as '?'. */
static const char *
shown(const char *s, char *out, size_t cap)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
		out[i] = s[i] > ' ' && s[i] < 0x7F ? s[i] : '?';
	out[i] = '\0';
	return out;
}

static int
dump_cb(const char *buf, size_t size, void *data)
{
	return evbuffer_add(data, buf, size);
}

/* Sends b (may be NULL: no body) as ctype and logs the request. */
static void
send_body(struct req *rq, int code, const char *ctype, struct evbuffer *b)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(rq->r);
	struct timespec t1;
	char path[LOG_PATH_MAX + 1], clen[24];

	evhttp_add_header(oh, "Content-Type", ctype);
	/* Responses carry personal data: no cache may keep them. */
	evhttp_add_header(oh, "Cache-Control", "no-store");
	/* libevent 2.1 would send the body after a HEAD's headers too, and
	 * leaves out its length: the headers alone, with the GET's length
	 * (RFC 9110 §9.3.2). */
	if (evhttp_request_get_command(rq->r) == EVHTTP_REQ_HEAD) {
		snprintf(clen, sizeof(clen), "%zu",
		    b != NULL ? evbuffer_get_length(b) : 0);
		evhttp_add_header(oh, "Content-Length", clen);
		b = NULL;
	}
	evhttp_send_reply(rq->r, code, NULL, b);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* A scraper or a health check asks every few seconds: their
	 * successes are not events worth a line each. */
	log_msg(rq->quiet && code < 400 ? LOG_LVL_DEBUG : LOG_LVL_INFO,
	    "http method=%s path=%s%s status=%d ms=%.1f",
	    method_name(evhttp_request_get_command(rq->r)),
	    shown(rq->path, path, sizeof(path)),
	    strlen(rq->path) > LOG_PATH_MAX ? "..." : "", code,
	    (double)(t1.tv_sec - rq->t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - rq->t0.tv_nsec) / 1e6);
}

/* Sends body (consumed; NULL means out of memory) as JSON. */
static void
reply(struct req *rq, int code, json_t *body)
{
	static const char oom[] = "{\"error\":\"out of memory\"}\n";
	struct evbuffer *b = evbuffer_new();

	if (b != NULL && (body == NULL || json_dump_callback(body, dump_cb, b,
	    JSON_COMPACT) == -1 || evbuffer_add(b, "\n", 1) == -1)) {
		evbuffer_drain(b, evbuffer_get_length(b));
		evbuffer_add(b, oom, sizeof(oom) - 1);
		code = HTTP_INTERNAL;
	}
	json_decref(body);
	send_body(rq, code, "application/json", b);
	if (b != NULL)
		evbuffer_free(b);
}

static void reply_error(struct req *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* {"error": "message"} with code. */
static void
reply_error(struct req *rq, int code, const char *fmt, ...)
{
	char msg[512];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Cutting to fit may split a character; JSON text must be UTF-8. */
	n = strlen(msg);
	while (n > 0 && !utf8_valid(msg, n))
		n--;
	reply(rq, code, json_pack("{s:s%}", "error", msg, n));
}

/* ---- JSON of the store's records --------------------------------------- */

/* Sets o[key] to the string, or null when it is NULL or not UTF-8 (only
 * possible if someone wrote the database by hand). */
static void
set_str(json_t *o, const char *key, const char *v)
{
	json_t *s = v != NULL ? json_string(v) : NULL;

	json_object_set_new(o, key, s != NULL ? s : json_null());
}

static void
set_time(json_t *o, const char *key, int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	char buf[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		set_str(o, key, NULL);
	else
		set_str(o, key, buf);
}

static json_t *
case_json(const struct case_rec *c)
{
	json_t *o = json_object();
	char due[16];

	if (o == NULL)
		return NULL;
	(void)case_deadline(c->submitted_at, due, sizeof(due));
	set_str(o, "receipt_no", c->receipt_no);
	set_str(o, "id_number", c->id_number);
	set_str(o, "name", c->name);
	set_str(o, "msisdn", c->msisdn);
	set_str(o, "status", case_status_name(c->status));
	set_str(o, "submitted_at", c->submitted_at);
	set_str(o, "deadline", due);
	set_time(o, "updated_at", c->updated_at);
	set_str(o, "courier", c->courier);
	set_str(o, "tracking_no", c->tracking_no);
	set_str(o, "pickup_place", c->pickup_place);
	set_str(o, "appointment", c->appointment);
	set_str(o, "reason", c->reason);
	return o;
}

/* ---- request parts ------------------------------------------------------ */

static int
token_equal(const char *want, size_t wlen, const char *got, size_t glen)
{
	/* Time depends on the length given, never on the token. */
	volatile unsigned char diff = (unsigned char)(wlen != glen);

	for (size_t i = 0; i < glen; i++)
		diff |= (unsigned char)(got[i] ^ want[i % wlen]);
	return diff == 0;
}

enum auth { AUTH_OK, AUTH_MISSING, AUTH_SCHEME, AUTH_WRONG };

static enum auth
check_auth(const struct http_api *h, struct evhttp_request *r)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(r),
	    "Authorization");
	size_t n;

	if (v == NULL)
		return AUTH_MISSING;
	/* The scheme name is case-insensitive (RFC 7235 §2.1). */
	if (strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
		return AUTH_SCHEME;
	for (v += 6; *v == ' ' || *v == '\t'; v++)
		;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return token_equal(h->token, h->toklen, v, n) ? AUTH_OK : AUTH_WRONG;
}

/* RFC 6750 §3: an error code only when credentials were given. */
static void
reply_unauthorized(struct req *rq, enum auth a)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(rq->r);

	evhttp_add_header(oh, "WWW-Authenticate", a == AUTH_WRONG ?
	    REALM ", error=\"invalid_token\"" : REALM);
	reply_error(rq, 401, "%s", a == AUTH_MISSING ?
	    "missing Authorization: Bearer token" : a == AUTH_SCHEME ?
	    "Authorization must be a Bearer token" : "invalid token");
}

/* Receipt numbers: 1-32 letters or digits, stored upper-case. */
static int
receipt_parse(const char *s, size_t len, char out[RECEIPT_MAX + 1])
{
	if (len == 0 || len > RECEIPT_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isascii((unsigned char)s[i]) ||
		    !isalnum((unsigned char)s[i]))
			return -1;
		out[i] = (char)toupper((unsigned char)s[i]);
	}
	out[len] = '\0';
	return 0;
}

/*
 * Splits the query string into vals[i] for names[i] (NULL where absent).
 * Any other parameter, or one given twice, is a 400, sent here. The values
 * live in q, which the caller clears. 0, or -1 once answered.
 */
static int
query_get(struct req *rq, struct evkeyvalq *q, const char *const *names,
    const char **vals, size_t n)
{
	const char *s = evhttp_uri_get_query(
	    evhttp_request_get_evhttp_uri(rq->r));
	struct evkeyval *kv;
	char name[48];
	size_t i;

	TAILQ_INIT(q);
	for (i = 0; i < n; i++)
		vals[i] = NULL;
	if (s == NULL)
		return 0;
	if (evhttp_parse_query_str(s, q) == -1) {
		reply_error(rq, 400, "malformed query string");
		return -1;
	}
	TAILQ_FOREACH(kv, q, next) {
		for (i = 0; i < n && strcmp(kv->key, names[i]) != 0; i++)
			;
		if (i == n) {
			reply_error(rq, 400, "unknown parameter '%s'",
			    shown(kv->key, name, sizeof(name)));
			return -1;
		}
		if (vals[i] != NULL) {
			reply_error(rq, 400, "parameter '%s' given twice",
			    names[i]);
			return -1;
		}
		vals[i] = kv->value;
	}
	return 0;
}

/* ?notify=0|1, default 1. 0, or -1 once answered. */
static int
query_notify(struct req *rq, int *notify)
{
	static const char *const names[] = { "notify" };
	struct evkeyvalq q;
	const char *v;
	int rc = -1;

	if (query_get(rq, &q, names, &v, 1) == -1)
		goto out;
	if (v == NULL || strcmp(v, "1") == 0)
		*notify = 1;
	else if (strcmp(v, "0") == 0)
		*notify = 0;
	else {
		reply_error(rq, 400, "notify must be 0 or 1");
		goto out;
	}
	rc = 0;
out:
	evhttp_clear_headers(&q);
	return rc;
}

/* The request body as a JSON object; NULL once answered. */
static json_t *
body_object(struct req *rq)
{
	struct evbuffer *b = evhttp_request_get_input_buffer(rq->r);
	size_t len = evbuffer_get_length(b);
	const unsigned char *data;
	json_error_t je;
	json_t *j;

	if (len == 0 || (data = evbuffer_pullup(b, -1)) == NULL) {
		reply_error(rq, 400, "the body must be a JSON object");
		return NULL;
	}
	/* jansson refuses invalid UTF-8 and \u0000 in strings. */
	j = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		reply_error(rq, 400, "invalid JSON at line %d column %d: %s",
		    je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(rq, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* ---- case fields: daemon/casefields, as smsgwctl import-cases ------------ */

enum use { U_NO, U_REQUIRED, U_OPTIONAL, U_IGNORED };

/*
 * The members a body may have, and their use in a PUT (the whole case) and
 * a POST .../status (the change). The fields a GET answers with but which
 * cannot be written are ignored, so a case read can be written back. The
 * receipt number is the path's: a body may repeat it, not change it.
 */
#define F_RECEIPT (-1)                /* checked against the path */
#define F_NONE    (-2)                /* read-only: ignored */
static const struct field {
	const char   *name;
	unsigned char put, post;     /* enum use */
	int           cf;            /* enum case_field, F_RECEIPT, F_NONE */
} fields[] = {
	{ "id_number", U_REQUIRED, U_NO, CF_ID },
	{ "name", U_REQUIRED, U_NO, CF_NAME },
	{ "msisdn", U_REQUIRED, U_NO, CF_MSISDN },
	{ "status", U_REQUIRED, U_REQUIRED, CF_STATUS },
	{ "submitted_at", U_REQUIRED, U_NO, CF_SUBMITTED },
	{ "courier", U_OPTIONAL, U_OPTIONAL, CF_COURIER },
	{ "tracking_no", U_OPTIONAL, U_OPTIONAL, CF_TRACKING },
	{ "pickup_place", U_OPTIONAL, U_OPTIONAL, CF_PICKUP },
	{ "appointment", U_OPTIONAL, U_OPTIONAL, CF_APPOINTMENT },
	{ "reason", U_OPTIONAL, U_OPTIONAL, CF_REASON },
	{ "receipt_no", U_OPTIONAL, U_OPTIONAL, F_RECEIPT },
	{ "deadline", U_IGNORED, U_NO, F_NONE },
	{ "updated_at", U_IGNORED, U_NO, F_NONE },
	{ "notification", U_IGNORED, U_NO, F_NONE },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* What each notified status's template speaks of: a change into it that
 * is to be notified needs these filled in. */
static const struct {
	int         status;
	const char *field;
	size_t      off;
} needs[] = {
	{ CASE_MAILED, "courier", offsetof(struct case_rec, courier) },
	{ CASE_MAILED, "tracking_no", offsetof(struct case_rec, tracking_no) },
	{ CASE_READY, "pickup_place", offsetof(struct case_rec, pickup_place) },
	{ CASE_REJECTED, "reason", offsetof(struct case_rec, reason) },
	{ CASE_APPOINTMENT, "appointment",
	  offsetof(struct case_rec, appointment) },
};

static long
today_ymd(void)
{
	time_t t = time(NULL);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
}

/*
 * Fills *c (receipt_no already set) from the body's members, for a PUT
 * (put 1) or a POST .../status (put 0); given[i] marks fields[i] present.
 * Leading and trailing spaces are trimmed; null is an empty optional
 * field. 0, or -1 once answered.
 */
static int
case_from_json(struct req *rq, json_t *obj, int put, struct case_rec *c,
    unsigned char given[NFIELDS])
{
	char why[256], buf[VALUE_MAX], name[48];
	const char *key, *s;
	json_t *v;
	size_t i, len;
	int use;

	memset(given, 0, NFIELDS);
	json_object_foreach(obj, key, v) {
		for (i = 0; i < NFIELDS; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		use = i < NFIELDS ? (put ? fields[i].put : fields[i].post) :
		    U_NO;
		if (use == U_NO) {
			reply_error(rq, 400, "unknown field '%s'",
			    shown(key, name, sizeof(name)));
			return -1;
		}
		given[i] = 1;
		if (use == U_IGNORED)
			continue;
		if (json_is_null(v) && use == U_OPTIONAL)
			s = "";
		else if (json_is_string(v))
			s = json_string_value(v);
		else {
			reply_error(rq, 400, "%s must be a string",
			    fields[i].name);
			return -1;
		}
		while (*s == ' ' || *s == '\t')
			s++;
		len = strlen(s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len >= sizeof(buf)) {
			reply_error(rq, 400, "%s is too long", fields[i].name);
			return -1;
		}
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (fields[i].cf == F_RECEIPT) {
			if (strcasecmp(buf, c->receipt_no) != 0) {
				reply_error(rq, 400, "receipt_no does not match "
				    "the path");
				return -1;
			}
		} else if (casefield_set(c, (enum case_field)fields[i].cf, buf,
		    len, rq->h->cc, today_ymd(), why, sizeof(why)) == -1) {
			reply_error(rq, 400, "%s", why);
			return -1;
		}
	}
	for (i = 0; i < NFIELDS; i++)
		if (!given[i] && (put ? fields[i].put : fields[i].post) ==
		    U_REQUIRED) {
			reply_error(rq, 400, "missing field '%s'",
			    fields[i].name);
			return -1;
		}
	return 0;
}

/* ---- handlers ------------------------------------------------------------ */

static const char *
notification_name(enum notify_result r)
{
	switch (r) {
	case NOTIFY_QUEUED:    return "queued";
	case NOTIFY_OPTED_OUT: return "opted_out";
	default:               return "none";
	}
}

/* Opens the request's transaction; 0, or -1 once answered. */
static int
begin(struct req *rq)
{
	sqlite3 *db = store_db(rq->h->st);
	char err[256];

	/* The daemon commits its batches before returning to the loop;
	 * an open transaction here would be a bug, not ours to commit. */
	if (!sqlite3_get_autocommit(db)) {
		log_err("http: a store transaction is already open");
		reply_error(rq, 503, "the store is busy; try again");
		return -1;
	}
	if (store_begin(rq->h->st, err, sizeof(err)) == -1) {
		if (sqlite3_errcode(db) == SQLITE_BUSY) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    rq->r), "Retry-After", "1");
			reply_error(rq, 503, "the store is busy; try again");
		} else {
			log_err("http: store: %s", err);
			reply_error(rq, 500, "store: %s", err);
		}
		return -1;
	}
	return 0;
}

/* Rolls the request's transaction back and answers 500. err may be
 * SQLite's message, which the rollback overwrites: it is copied first. */
static void
fail(struct req *rq, const char *what, const char *err)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", err);
	store_rollback(rq->h->st);
	log_err("http: case %s: %s: %s", rq->receipt, what, why);
	reply_error(rq, 500, "%s: %s", what, why);
}

/*
 * One change in one transaction: the new record is built from the body
 * (in) and the case as stored, applied through notify_case_update(), and
 * answered with the case as stored after it. A PUT creates or replaces
 * (optional fields it leaves out keep their values, as in import-cases);
 * a POST changes the status and the fields it names of an existing case.
 */
static void
apply_change(struct req *rq, const struct case_rec *in,
    const unsigned char given[NFIELDS], int put, int notify)
{
	struct http_api *h = rq->h;
	const struct tmpl_set *t;
	struct case_rec old, c;
	enum notify_result nr;
	char err[256];
	json_t *o;
	int found;

	if (begin(rq) == -1)
		return;
	if ((found = store_case_by_receipt(h->st, rq->receipt, &old)) == -1) {
		fail(rq, "reading the case failed",
		    sqlite3_errmsg(store_db(h->st)));
		return;
	}
	if (!found && !put) {
		store_rollback(h->st);
		reply_error(rq, 404, "no case %s", rq->receipt);
		return;
	}
	c = put ? *in : old;
	if (!put)
		c.status = in->status;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct casefield *f;

		if (fields[i].put != U_OPTIONAL || fields[i].cf < 0)
			continue;
		f = &casefields[fields[i].cf];
		if (given[i])
			memcpy((char *)&c + f->off, (const char *)in + f->off,
			    f->size);
		else if (put && found)
			memcpy((char *)&c + f->off, (char *)&old + f->off,
			    f->size);
	}
	c.updated_at = 0;

	if (notify && notify_status_notifies(c.status) &&
	    (!found || old.status != c.status))
		for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
			if (needs[i].status == c.status &&
			    *((char *)&c + needs[i].off) == '\0') {
				store_rollback(h->st);
				reply_error(rq, 400, "missing field '%s': "
				    "the %s notification needs it",
				    needs[i].field,
				    case_status_name(c.status));
				return;
			}

	if ((t = h->templates(h->arg)) == NULL) {
		fail(rq, "saving the case failed", "no templates loaded");
		return;
	}
	nr = notify_case_update(h->st, t, &c, h->cc, notify, NULL, err,
	    sizeof(err));
	if (nr == NOTIFY_ERROR) {
		fail(rq, "saving the case failed", err);
		return;
	}
	if (store_case_by_receipt(h->st, rq->receipt, &c) != 1) {
		fail(rq, "reading the case back failed",
		    sqlite3_errmsg(store_db(h->st)));
		return;
	}
	if (store_commit(h->st, err, sizeof(err)) == -1) {
		fail(rq, "commit failed", err);
		return;
	}
	if (nr == NOTIFY_QUEUED && h->changed != NULL)
		h->changed(h->arg);
	if ((o = case_json(&c)) != NULL)
		json_object_set_new(o, "notification",
		    json_string(notification_name(nr)));
	reply(rq, found ? 200 : 201, o);
}

static void
case_get(struct req *rq)
{
	struct evkeyvalq q;
	struct case_rec c;
	int rc;

	rc = query_get(rq, &q, NULL, NULL, 0);
	evhttp_clear_headers(&q);
	if (rc == -1)
		return;
	if ((rc = store_case_by_receipt(rq->h->st, rq->receipt, &c)) == -1) {
		log_err("http: case %s: %s", rq->receipt,
		    sqlite3_errmsg(store_db(rq->h->st)));
		reply_error(rq, 500, "reading the case failed");
	} else if (rc == 0)
		reply_error(rq, 404, "no case %s", rq->receipt);
	else
		reply(rq, 200, case_json(&c));
}

static void
case_put_or_status(struct req *rq, int put)
{
	unsigned char given[NFIELDS];
	struct case_rec in;
	json_t *body;
	int notify;

	if (query_notify(rq, &notify) == -1 || (body = body_object(rq)) == NULL)
		return;
	memset(&in, 0, sizeof(in));
	memcpy(in.receipt_no, rq->receipt, sizeof(in.receipt_no));
	if (case_from_json(rq, body, put, &in, given) == 0)
		apply_change(rq, &in, given, put, notify);
	json_decref(body);
}

static void
case_put(struct req *rq)
{
	case_put_or_status(rq, 1);
}

static void
case_status(struct req *rq)
{
	case_put_or_status(rq, 0);
}

/* One row of the message log; NULL columns are null. */
static json_t *
message_json(sqlite3_stmt *s)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
	set_str(o, "direction", (const char *)sqlite3_column_text(s, 1));
	set_time(o, "at", sqlite3_column_int64(s, 2));
	set_str(o, "msisdn", (const char *)sqlite3_column_text(s, 3));
	json_object_set_new(o, "ton", json_integer(sqlite3_column_int(s, 4)));
	json_object_set_new(o, "npi", json_integer(sqlite3_column_int(s, 5)));
	set_str(o, "text", (const char *)sqlite3_column_text(s, 6));
	set_str(o, "intent", (const char *)sqlite3_column_text(s, 7));
	if (sqlite3_column_type(s, 8) == SQLITE_NULL)
		json_object_set_new(o, "reply_to", json_null());
	else
		json_object_set_new(o, "reply_to",
		    json_integer(sqlite3_column_int64(s, 8)));
	set_str(o, "class", (const char *)sqlite3_column_text(s, 9));
	set_str(o, "state", (const char *)sqlite3_column_text(s, 10));
	json_object_set_new(o, "attempts",
	    json_integer(sqlite3_column_int(s, 11)));
	set_str(o, "last_status", (const char *)sqlite3_column_text(s, 12));
	return o;
}

/*
 * The log holds numbers as they were on the wire, so a number is looked up
 * in each form it can take there. There is deliberately no index on msisdn
 * (insert cost); newest first by id stops after limit matches.
 */
static const char messages_sql[] =
    "SELECT id, direction, at, msisdn, ton, npi, text, intent, reply_to,"
    " class, state, attempts, last_status FROM messages"
    " WHERE msisdn IN (?1, ?2, ?3, ?4) ORDER BY id DESC LIMIT ?5";

static void
messages_get(struct req *rq)
{
	static const char *const names[] = { "msisdn", "limit" };
	const char *vals[2], *cc = rq->h->cc, *v;
	char nat[24], forms[3][40], *end;
	sqlite3 *db = store_db(rq->h->st);
	sqlite3_stmt *s = NULL;
	struct evkeyvalq q;
	json_t *arr = NULL, *m;
	long limit = LIMIT_DEFAULT;
	int rc, plus = 0;

	if (query_get(rq, &q, names, vals, 2) == -1)
		goto out;
	if ((v = vals[0]) == NULL) {
		reply_error(rq, 400, "missing parameter 'msisdn'");
		goto out;
	}
	/* A '+' not escaped in a query string arrives as a space. */
	for (; *v == ' '; v++)
		plus = 1;
	if (strlen(v) >= sizeof(forms[0]) - 1) {
		reply_error(rq, 400, "msisdn is not a phone number");
		goto out;
	}
	snprintf(forms[0], sizeof(forms[0]), "%s%s", plus ? "+" : "", v);
	if (msisdn_national(forms[0], cc, nat, sizeof(nat)) == -1 ||
	    strlen(nat) < MSISDN_MIN) {
		reply_error(rq, 400, "msisdn is not a phone number");
		goto out;
	}
	if (vals[1] != NULL) {
		errno = 0;
		limit = strtol(vals[1], &end, 10);
		if (!isdigit((unsigned char)vals[1][0]) || *end != '\0' ||
		    errno != 0 || limit < 1 || limit > LIMIT_MAX) {
			reply_error(rq, 400, "limit must be a whole number "
			    "from 1 to %d", LIMIT_MAX);
			goto out;
		}
	}
	snprintf(forms[0], sizeof(forms[0]), "%s%s", cc, nat);
	snprintf(forms[1], sizeof(forms[1]), "+%s%s", cc, nat);
	snprintf(forms[2], sizeof(forms[2]), "00%s%s", cc, nat);

	if ((arr = json_array()) == NULL)
		goto oom;
	if (sqlite3_prepare_v2(db, messages_sql, -1, &s, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(s, 1, nat, -1, SQLITE_STATIC);
	for (int i = 0; i < 3; i++)
		sqlite3_bind_text(s, i + 2, forms[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((m = message_json(s)) == NULL ||
		    json_array_append_new(arr, m) == -1)
			goto oom;
	if (rc != SQLITE_DONE)
		goto dberr;
	reply(rq, 200, json_pack("{s:s, s:o}", "msisdn", nat, "messages",
	    arr));
	arr = NULL;
	goto out;
dberr:
	log_err("http: messages: %s", sqlite3_errmsg(db));
	reply_error(rq, 500, "reading the message log failed");
	goto out;
oom:
	reply(rq, 500, NULL);
out:
	sqlite3_finalize(s);
	json_decref(arr);
	evhttp_clear_headers(&q);
}

/* ---- metrics and health ---------------------------------------------------- */

/*
 * GET /metrics and GET /healthz need no token: they carry counts by
 * intent, state and receipt stat, latencies and the bind state, never a
 * number, a name or a text; and [http] listen is loopback by default
 * (127.0.0.1:8080), so only the host's own scraper reaches them.
 */
static void
metrics_get(struct req *rq)
{
	struct evbuffer *b;
	char *text;

	rq->quiet = 1;
	if ((text = metrics_render()) == NULL ||
	    (b = evbuffer_new()) == NULL) {
		free(text);
		reply(rq, 500, NULL);
		return;
	}
	if (evbuffer_add(b, text, strlen(text)) == -1)
		reply(rq, 500, NULL);
	else    /* the Prometheus text exposition format, version 0.0.4 */
		send_body(rq, 200, "text/plain; version=0.0.4; charset=utf-8",
		    b);
	evbuffer_free(b);
	free(text);
}

static int
add_link(void *arg, const struct link_row *r)
{
	json_t *a = arg;

	(void)json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}",
	    "name", r->name, "state", r->state, "node", r->node, "bound_at",
	    (json_int_t)r->bound_at));
	return 0;
}

/*
 * 200 while the store answers a query and at least one carrier link is
 * bound; else 503 with why (status "error": the store; "unbound": no link
 * bound). The body lists every link's state as the daemon last stored it.
 */
static void
healthz_get(struct req *rq)
{
	int bound = metrics_gauge(M_BOUND) != 0;
	const char *smpp = bound ? "bound" : "unbound";
	json_t *links = json_array();
	char err[256];

	rq->quiet = 1;
	if (store_ping(rq->h->st, err, sizeof(err)) == -1) {
		log_err("http: healthz: store: %s", err);
		reply(rq, 503, json_pack("{s:s, s:s, s:s, s:o}", "status",
		    "error", "store", "error", "smpp", smpp, "links", links));
		return;
	}
	if (links != NULL && store_link_list(rq->h->st, add_link, links) ==
	    -1)
		log_err("http: healthz: links: %s",
		    sqlite3_errmsg(store_db(rq->h->st)));
	reply(rq, bound ? 200 : 503, json_pack("{s:s, s:s, s:s, s:o}",
	    "status", bound ? "ok" : "unbound", "store", "ok", "smpp", smpp,
	    "links", links));
}

/* ---- routing ------------------------------------------------------------- */

static const struct route {
	const char *pattern;    /* '*' stands for one segment: the receipt */
	int         method;     /* enum evhttp_cmd_type; GET serves HEAD too */
	void      (*fn)(struct req *);
} routes[] = {
	{ "/metrics", EVHTTP_REQ_GET, metrics_get },
	{ "/healthz", EVHTTP_REQ_GET, healthz_get },
	{ "/v1/cases/*", EVHTTP_REQ_GET, case_get },
	{ "/v1/cases/*", EVHTTP_REQ_PUT, case_put },
	{ "/v1/cases/*/status", EVHTTP_REQ_POST, case_status },
	{ "/v1/messages", EVHTTP_REQ_GET, messages_get },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* 1 if path fits pattern; *seg and *seglen get the '*' segment. */
static int
match(const char *pattern, const char *path, const char **seg,
    size_t *seglen)
{
	while (*pattern != '\0') {
		if (*pattern == '*') {
			*seg = path;
			*seglen = strcspn(path, "/");
			path += *seglen;
			pattern++;
		} else if (*pattern++ != *path++)
			return 0;
	}
	return *path == '\0';
}

static void
on_request(struct evhttp_request *r, void *arg)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(r);
	const struct route *hit = NULL;
	const char *seg = NULL;
	size_t seglen = 0, n = 0;
	char allow[64] = "";
	struct req rq;
	enum auth a;
	int found = 0;

	memset(&rq, 0, sizeof(rq));
	rq.h = arg;
	rq.r = r;
	clock_gettime(CLOCK_MONOTONIC, &rq.t0);
	rq.path = u != NULL && evhttp_uri_get_path(u) != NULL ?
	    evhttp_uri_get_path(u) : "";

	/* Everything under /v1 needs the token, known path or not; outside
	 * it are only /metrics and /healthz (see metrics_get). */
	if (strncmp(rq.path, "/v1/", 4) == 0 &&
	    (a = check_auth(rq.h, r)) != AUTH_OK) {
		reply_unauthorized(&rq, a);
		return;
	}
	for (size_t i = 0; i < NROUTES; i++) {
		if (!match(routes[i].pattern, rq.path, &seg, &seglen))
			continue;
		found = 1;
		n += (size_t)snprintf(allow + n, sizeof(allow) - n, "%s%s%s",
		    n > 0 ? ", " : "", method_name(routes[i].method),
		    routes[i].method == EVHTTP_REQ_GET ? ", HEAD" : "");
		if ((int)cmd == routes[i].method ||
		    (cmd == EVHTTP_REQ_HEAD && routes[i].method ==
		    EVHTTP_REQ_GET))
			hit = &routes[i];
	}
	if (!found) {
		reply_error(&rq, 404, "not found");
		return;
	}
	if (hit == NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(r),
		    "Allow", allow);
		reply_error(&rq, 405, "method %s not allowed; allowed: %s",
		    method_name(cmd), allow);
		return;
	}
	if (seg != NULL && receipt_parse(seg, seglen, rq.receipt) == -1) {
		reply_error(&rq, 400, "the receipt number must be 1-%d letters "
		    "or digits", RECEIPT_MAX);
		return;
	}
	hit->fn(&rq);
}

/* ---- set-up -------------------------------------------------------------- */

/* The bearer token: the file's contents less trailing white space. */
static int
token_load(struct http_api *h, const char *path, char *err, size_t errlen)
{
	char buf[TOKEN_MAX + 2];
	size_t len = 0;
	struct stat sb;
	ssize_t n = 0;
	int fd, rc = -1;

	if (path[0] == '\0') {
		errf(err, errlen, "http: [http] token_file is not set; the API "
		    "never runs without a token");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		errf(err, errlen, "http: token file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & S_IROTH))
		log_warn("http: token file %s is readable by every user; "
		    "chmod o-r it", path);
	while (len < sizeof(buf) && ((n = read(fd, buf + len,
	    sizeof(buf) - len)) > 0 || (n == -1 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	if (n == -1) {
		errf(err, errlen, "http: token file %s: %s", path,
		    strerror(errno));
		goto out;
	}
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	if (len == 0) {
		errf(err, errlen, "http: token file %s is empty; the API never "
		    "runs without a token", path);
		goto out;
	}
	if (len > TOKEN_MAX) {
		errf(err, errlen, "http: token file %s: the token is longer "
		    "than %d bytes", path, TOKEN_MAX);
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] <= ' ' || buf[i] >= 0x7F) {
			errf(err, errlen, "http: token file %s: the token may "
			    "hold only printable ASCII, no spaces", path);
			goto out;
		}
	if (len < TOKEN_SHORT)
		log_warn("http: the API token is short (%zu characters); use "
		    "at least 32 random ones", len);
	memcpy(h->token, buf, len);
	h->token[len] = '\0';
	h->toklen = len;
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* "host:port" or "[v6]:port". 0 / -1. */
static int
split_listen(const char *s, char *host, size_t cap, int *port)
{
	const char *h = s, *hend, *p;
	long v;

	if (*s == '[') {
		h = s + 1;
		if ((hend = strchr(h, ']')) == NULL || hend[1] != ':')
			return -1;
		p = hend + 2;
	} else {
		if ((hend = strrchr(s, ':')) == NULL)
			return -1;
		p = hend + 1;
	}
	if (hend == h || (size_t)(hend - h) >= cap || *p == '\0' ||
	    strlen(p) > 5 || strspn(p, "0123456789") != strlen(p) ||
	    (v = strtol(p, NULL, 10)) > 65535)
		return -1;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	*port = (int)v;
	return 0;
}

static int
bound_port(struct evhttp_bound_socket *sock)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(evhttp_bound_socket_get_fd(sock),
	    (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

struct http_api *
http_api_new(struct event_base *base, const struct conf *c, struct store *st,
    const struct tmpl_set *(*templates)(void *arg),
    void (*changed)(void *arg), void *arg, char *err, size_t errlen)
{
	struct http_api *h;
	char host[sizeof(c->http.listen)];
	int port;

	if (templates == NULL) {
		errf(err, errlen, "http: no templates callback");
		return NULL;
	}
	if (split_listen(c->http.listen, host, sizeof(host), &port) == -1) {
		errf(err, errlen, "http: listen '%s' is not host:port",
		    c->http.listen);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		errf(err, errlen, "http: out of memory");
		return NULL;
	}
	h->st = st;
	h->templates = templates;
	h->changed = changed;
	h->arg = arg;
	snprintf(h->cc, sizeof(h->cc), "%s", c->locale.country_code);
	if (token_load(h, c->http.token_file, err, errlen) == -1)
		goto fail;
	if ((h->http = evhttp_new(base)) == NULL) {
		errf(err, errlen, "http: out of memory");
		goto fail;
	}
	evhttp_set_max_body_size(h->http, c->http.max_body);
	evhttp_set_max_headers_size(h->http, HTTP_MAX_HEADERS);
	evhttp_set_timeout(h->http, HTTP_TIMEOUT_S);
	/* Every method reaches on_request, which answers 405 with Allow. */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, on_request, h);
	errno = 0;
	if ((h->sock = evhttp_bind_socket_with_handle(h->http, host,
	    (ev_uint16_t)port)) == NULL) {
		errf(err, errlen, "http: cannot listen on %s: %s",
		    c->http.listen, errno != 0 ? strerror(errno) :
		    "cannot resolve or bind");
		goto fail;
	}
	if ((h->port = bound_port(h->sock)) == -1) {
		errf(err, errlen, "http: %s: %s", c->http.listen,
		    strerror(errno));
		goto fail;
	}
	log_info("http: API listening on %s port %d", host, h->port);
	return h;
fail:
	http_api_free(h);
	return NULL;
}

void
http_api_free(struct http_api *h)
{
	if (h == NULL)
		return;
	if (h->http != NULL)
		evhttp_free(h->http);
	explicit_bzero(h->token, sizeof(h->token));
	free(h);
}

int
http_api_port(const struct http_api *h)
{
	return h->port;
}
