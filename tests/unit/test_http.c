/*
 * daemon/http driven by libevent's own HTTP client in the same event loop:
 * a real SQLite store in a fresh temporary folder per test, the shipped
 * templates ($SMSGWD_SRC/conf/templates.conf, default "."), a token file,
 * the API on 127.0.0.1:0. Each request runs the loop until its response
 * arrives, bounded by a timer so no test can hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <sqlite3.h>

#include "daemon/conf.h"
#include "daemon/http.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/store.h"
#include "daemon/templates.h"
#include "tests/unit/testutil.h"

#define TOKEN     "s3cr3t-t0ken-for-tests-0123456789"
#define AUTH      "Bearer " TOKEN
#define ID        "11010519491231002X"
#define MAX_BODY  1024
/* Only a failing test waits this long; a loaded machine can stall seconds. */
#define WAIT_S    60

struct fx {
	char               dir[64];
	char               path[128];
	struct conf        conf;
	struct event_base *base;
	struct store      *st;
	struct tmpl_set   *tmpl;
	struct http_api   *api;
	int                changed;      /* calls of the changed callback */
	char               err[512];

	/* The last response. */
	int                done, timed_out;
	int                code;
	char              *body;
	json_t            *json;
	char               www_auth[128], allow[64], ctype[64], cache[32];
	char               clen[24];
};

static const struct tmpl_set *
templates_cb(void *arg)
{
	return ((struct fx *)arg)->tmpl;
}

static void
changed_cb(void *arg)
{
	((struct fx *)arg)->changed++;
}

static void
spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

/* The folder, store, templates and config; no API yet. */
static int
setup_base(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *src = getenv("SMSGWD_SRC");
	char tpath[256];

	if (fx == NULL)
		return -1;
	*state = fx;
	if (tu_tmpdir(fx->dir, sizeof(fx->dir), "test_http") == -1)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/smsgwd.db", fx->dir);
	snprintf(tpath, sizeof(tpath), "%s/conf/templates.conf",
	    src != NULL ? src : ".");
	if ((fx->tmpl = tmpl_load(tpath, fx->err, sizeof(fx->err))) == NULL) {
		fprintf(stderr, "%s\n", fx->err);
		return -1;
	}
	if ((fx->st = store_open(fx->path, fx->err, sizeof(fx->err))) == NULL)
		return -1;
	if ((fx->base = event_base_new()) == NULL)
		return -1;
	snprintf(fx->conf.http.listen, sizeof(fx->conf.http.listen),
	    "127.0.0.1:0");
	snprintf(fx->conf.http.token_file, sizeof(fx->conf.http.token_file),
	    "%s/api.token", fx->dir);
	fx->conf.http.max_body = MAX_BODY;
	snprintf(fx->conf.locale.country_code,
	    sizeof(fx->conf.locale.country_code), "86");
	spew(fx->conf.http.token_file, TOKEN "\n");
	return 0;
}

static struct http_api *
api_new(struct fx *fx)
{
	return http_api_new(fx->base, &fx->conf, fx->st, templates_cb,
	    changed_cb, fx, fx->err, sizeof(fx->err));
}

static int
setup(void **state)
{
	struct fx *fx;

	if (setup_base(state) == -1)
		return -1;
	fx = *state;
	if ((fx->api = api_new(fx)) == NULL) {
		fprintf(stderr, "%s\n", fx->err);
		return -1;
	}
	return 0;
}

static void
response_clear(struct fx *fx)
{
	free(fx->body);
	fx->body = NULL;
	json_decref(fx->json);
	fx->json = NULL;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	if (fx == NULL)
		return 0;
	response_clear(fx);
	http_api_free(fx->api);
	if (fx->base != NULL)
		event_base_free(fx->base);
	store_close(fx->st);
	tmpl_free(fx->tmpl);
	tu_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ---- the client ---------------------------------------------------------- */

static void
copy_header(struct evhttp_request *r, const char *name, char *out,
    size_t cap)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(r),
	    name);

	snprintf(out, cap, "%s", v != NULL ? v : "");
}

static void
on_response(struct evhttp_request *r, void *arg)
{
	struct fx *fx = arg;
	struct evbuffer *b;
	size_t n;

	fx->done = 1;
	if (r != NULL && (fx->code = evhttp_request_get_response_code(r)) > 0) {
		b = evhttp_request_get_input_buffer(r);
		n = evbuffer_get_length(b);
		fx->body = malloc(n + 1);
		assert_non_null(fx->body);
		evbuffer_remove(b, fx->body, n);
		fx->body[n] = '\0';
		copy_header(r, "WWW-Authenticate", fx->www_auth,
		    sizeof(fx->www_auth));
		copy_header(r, "Allow", fx->allow, sizeof(fx->allow));
		copy_header(r, "Content-Type", fx->ctype, sizeof(fx->ctype));
		copy_header(r, "Cache-Control", fx->cache, sizeof(fx->cache));
		copy_header(r, "Content-Length", fx->clen, sizeof(fx->clen));
		if (strcmp(fx->ctype, "application/json") == 0)
			fx->json = json_loads(fx->body, 0, NULL);
	}
	event_base_loopbreak(fx->base);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct fx *fx = arg;

	(void)fd;
	(void)what;
	fx->timed_out = 1;
	event_base_loopbreak(fx->base);
}

/*
 * Sends one request on a fresh connection and runs the loop until the
 * response (or WAIT_S). auth NULL sends no Authorization. Returns the
 * status code, 0 if the connection failed without one.
 */
static int
request(struct fx *fx, enum evhttp_cmd_type cmd, const char *uri,
    const char *auth, const char *body)
{
	struct evhttp_connection *conn;
	struct evhttp_request *r;
	struct evkeyvalq *oh;
	struct timeval tv = { WAIT_S, 0 };
	struct event *timer;

	response_clear(fx);
	fx->done = fx->timed_out = 0;
	fx->code = 0;
	fx->www_auth[0] = fx->allow[0] = fx->ctype[0] = fx->cache[0] = '\0';
	fx->clen[0] = '\0';
	conn = evhttp_connection_base_new(fx->base, NULL, "127.0.0.1",
	    (unsigned short)http_api_port(fx->api));
	assert_non_null(conn);
	r = evhttp_request_new(on_response, fx);
	assert_non_null(r);
	oh = evhttp_request_get_output_headers(r);
	evhttp_add_header(oh, "Host", "127.0.0.1");
	if (auth != NULL)
		evhttp_add_header(oh, "Authorization", auth);
	if (body != NULL) {
		evhttp_add_header(oh, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(r), body,
		    strlen(body));
	}
	assert_int_equal(evhttp_make_request(conn, r, cmd, uri), 0);
	timer = evtimer_new(fx->base, on_timeout, fx);
	assert_non_null(timer);
	evtimer_add(timer, &tv);
	while (!fx->done && !fx->timed_out)
		event_base_dispatch(fx->base);
	event_free(timer);
	evhttp_connection_free(conn);
	assert_false(fx->timed_out);
	return fx->code;
}

#define GET(fx, uri) request(fx, EVHTTP_REQ_GET, uri, AUTH, NULL)
#define PUT(fx, uri, body) request(fx, EVHTTP_REQ_PUT, uri, AUTH, body)
#define POST(fx, uri, body) request(fx, EVHTTP_REQ_POST, uri, AUTH, body)

/* A string member of the last JSON response ("" if absent). */
static const char *
jstr(struct fx *fx, const char *key)
{
	const char *v = json_string_value(json_object_get(fx->json, key));

	return v != NULL ? v : "";
}

#define query1(fx, sql) tu_query1(store_db((fx)->st), (sql))

static const char case_body[] =
    "{\"id_number\": \"" ID "\", \"name\": \"张三\","
    " \"msisdn\": \"+8613800138000\", \"status\": \"accepted\","
    " \"submitted_at\": \"2024-03-01\"}";

/* The 400 message for a PUT of case_body with one edit: the member
 * "from" (a literal piece of case_body) replaced by "to". */
static const char *
put_edited(struct fx *fx, const char *from, const char *to)
{
	char body[1024];
	const char *at = strstr(case_body, from);

	assert_non_null(at);
	snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - case_body),
	    case_body, to, at + strlen(from));
	assert_int_equal(PUT(fx, "/v1/cases/R1", body), 400);
	return jstr(fx, "error");
}

/* ---- tests ------------------------------------------------------------- */

static void
test_auth_missing(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1", NULL,
	    NULL), 401);
	assert_string_equal(fx->www_auth, "Bearer realm=\"smsgwd\"");
	assert_string_equal(fx->ctype, "application/json");
	assert_non_null(strstr(jstr(fx, "error"), "Bearer"));
	/* Every /v1 path, known or not, asks for the token first. */
	assert_int_equal(request(fx, EVHTTP_REQ_PUT, "/v1/nothing", NULL,
	    "{}"), 401);
}

static void
test_auth_wrong(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1",
	    "Bearer wrong", NULL), 401);
	assert_string_equal(fx->www_auth,
	    "Bearer realm=\"smsgwd\", error=\"invalid_token\"");
	assert_string_equal(jstr(fx, "error"), "invalid token");
	assert_null(strstr(fx->body, TOKEN));
	/* The right token with one more or one less character. */
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1",
	    AUTH "x", NULL), 401);
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1",
	    "Bearer s3cr3t-t0ken-for-tests-012345678", NULL), 401);
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1",
	    "Basic " TOKEN, NULL), 401);
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1",
	    "Bearer", NULL), 401);
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1",
	    "Bearer ", NULL), 401);
	/* The scheme's case does not matter (RFC 7235); the token's does. */
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1",
	    "bearer " TOKEN, NULL), 404);
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1",
	    "Bearer S3CR3T-T0KEN-FOR-TESTS-0123456789", NULL), 401);
	/* Nothing was touched. */
	assert_string_equal(query1(fx, "SELECT count(*) FROM cases"), "0");
}

static void
test_bad_json(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(PUT(fx, "/v1/cases/R1", "{\"id_number\": "), 400);
	assert_non_null(strstr(jstr(fx, "error"), "invalid JSON"));
	assert_int_equal(PUT(fx, "/v1/cases/R1", "[1, 2]"), 400);
	assert_string_equal(jstr(fx, "error"),
	    "the body must be a JSON object");
	assert_int_equal(PUT(fx, "/v1/cases/R1", ""), 400);
	assert_string_equal(jstr(fx, "error"),
	    "the body must be a JSON object");
	/* Invalid UTF-8 and duplicate members are refused by the parser. */
	assert_int_equal(PUT(fx, "/v1/cases/R1", "{\"name\": \"\xff\"}"), 400);
	assert_non_null(strstr(jstr(fx, "error"), "invalid JSON"));
	assert_int_equal(PUT(fx, "/v1/cases/R1",
	    "{\"name\": \"a\", \"name\": \"b\"}"), 400);
	assert_non_null(strstr(jstr(fx, "error"), "invalid JSON"));
	assert_int_equal(POST(fx, "/v1/cases/R1/status", "nonsense"), 400);
	assert_string_equal(query1(fx, "SELECT count(*) FROM cases"), "0");
}

static void
test_bad_fields(void **state)
{
	struct fx *fx = *state;

	assert_string_equal(put_edited(fx, "\"name\": \"张三\",", ""),
	    "missing field 'name'");
	assert_string_equal(put_edited(fx, " \"submitted_at\": \"2024-03-01\"",
	    " \"courier\": \"EMS\""), "missing field 'submitted_at'");
	assert_string_equal(put_edited(fx, "\"张三\"", "5"),
	    "name must be a string");
	assert_string_equal(put_edited(fx, "\"张三\"", "null"),
	    "name must be a string");
	assert_string_equal(put_edited(fx, "\"张三\"", "\"  \""),
	    "name is empty");
	assert_string_equal(put_edited(fx, "\"张三\"", "\"a\\u0007b\""),
	    "name has a control character");
	/* Only the last four characters of an ID number are ever shown. */
	assert_string_equal(put_edited(fx, ID, "110105194912310021"),
	    "id_number ****0021: check character does not match");
	assert_string_equal(put_edited(fx, "+8613800138000", "12345"),
	    "msisdn is not a phone number");
	assert_string_equal(put_edited(fx, "+8613800138000", "138-0013"),
	    "msisdn is not a phone number");
	/* The same rules and words as smsgwctl import-cases
	 * (daemon/casefields). */
	assert_non_null(strstr(put_edited(fx, "\"accepted\"", "\"sent\""),
	    "status 'sent' is not one of accepted,"));
	assert_string_equal(put_edited(fx, "2024-03-01", "2023-02-29"),
	    "submitted_at '2023-02-29' is not a date (YYYY-MM-DD)");
	assert_string_equal(put_edited(fx, "2024-03-01", "2024-3-1"),
	    "submitted_at '2024-3-1' is not a date (YYYY-MM-DD)");
	assert_string_equal(put_edited(fx, "2024-03-01", "1899-12-31"),
	    "submitted_at '1899-12-31' is before 1900");
	assert_string_equal(put_edited(fx, "\"name\"", "\"nmae\""),
	    "unknown field 'nmae'");
	assert_string_equal(put_edited(fx, "\"name\": \"张三\"",
	    "\"name\": \"张三\", \"receipt_no\": \"R2\""),
	    "receipt_no does not match the path");
	assert_string_equal(put_edited(fx, "\"name\": \"张三\"",
	    "\"name\": \"张三\", \"courier\": 7"), "courier must be a string");
	assert_string_equal(query1(fx, "SELECT count(*) FROM cases"), "0");
	/* A long value is refused before anything is copied. */
	{
		char big[MAX_BODY - 100], body[MAX_BODY];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		snprintf(body, sizeof(body), "{\"status\": \"ready\","
		    " \"reason\": \"%s\"}", big);
		assert_int_equal(POST(fx, "/v1/cases/R1/status", body), 400);
		assert_string_equal(jstr(fx, "error"), "reason is too long");
	}
}

static void
test_unknown_case(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(GET(fx, "/v1/cases/NOPE1"), 404);
	assert_string_equal(jstr(fx, "error"), "no case NOPE1");
	assert_int_equal(POST(fx, "/v1/cases/nope1/status",
	    "{\"status\": \"reviewing\"}"), 404);
	assert_string_equal(jstr(fx, "error"), "no case NOPE1");
	assert_string_equal(query1(fx, "SELECT count(*) FROM cases"), "0");
}

static void
test_put_then_get(void **state)
{
	struct fx *fx = *state;
	char body[1024];

	assert_int_equal(PUT(fx, "/v1/cases/jx2026000123", case_body), 201);
	assert_string_equal(fx->cache, "no-store");
	assert_string_equal(jstr(fx, "receipt_no"), "JX2026000123");
	assert_string_equal(jstr(fx, "notification"), "none");
	assert_string_equal(jstr(fx, "msisdn"), "13800138000");
	assert_int_equal(fx->changed, 0);

	assert_int_equal(GET(fx, "/v1/cases/JX2026000123"), 200);
	assert_string_equal(jstr(fx, "receipt_no"), "JX2026000123");
	assert_string_equal(jstr(fx, "id_number"), ID);
	assert_string_equal(jstr(fx, "name"), "张三");
	assert_string_equal(jstr(fx, "msisdn"), "13800138000");
	assert_string_equal(jstr(fx, "status"), "accepted");
	assert_string_equal(jstr(fx, "submitted_at"), "2024-03-01");
	assert_string_equal(jstr(fx, "deadline"), "2024-04-30");
	assert_int_equal(strlen(jstr(fx, "updated_at")), 20);
	assert_string_equal(jstr(fx, "courier"), "");
	assert_null(json_object_get(fx->json, "notification"));

	/* An update is 200; optional fields it leaves out keep their
	 * values, null clears one. A case read back can be written back. */
	snprintf(body, sizeof(body), "%.*s, \"courier\": \"EMS\","
	    " \"reason\": \"x\"}", (int)strlen(case_body) - 1, case_body);
	assert_int_equal(PUT(fx, "/v1/cases/JX2026000123", body), 200);
	assert_string_equal(jstr(fx, "courier"), "EMS");
	assert_int_equal(PUT(fx, "/v1/cases/JX2026000123", case_body), 200);
	assert_string_equal(jstr(fx, "courier"), "EMS");
	assert_string_equal(jstr(fx, "reason"), "x");
	assert_int_equal(GET(fx, "/v1/cases/JX2026000123"), 200);
	assert_int_equal(json_object_set_new(fx->json, "reason", json_null()),
	    0);
	{
		char *again = json_dumps(fx->json, 0);

		assert_non_null(again);
		assert_int_equal(PUT(fx, "/v1/cases/JX2026000123", again),
		    200);
		free(again);
	}
	assert_string_equal(jstr(fx, "reason"), "");
	assert_string_equal(jstr(fx, "courier"), "EMS");
	assert_string_equal(query1(fx, "SELECT count(*) FROM cases"), "1");
	assert_string_equal(query1(fx, "SELECT count(*) FROM messages"), "0");
}

static void
test_status_notifies_once(void **state)
{
	struct fx *fx = *state;
	int64_t counts[OB_NSTATES];
	static const char mailed[] = "{\"status\": \"mailed\","
	    " \"courier\": \"EMS\", \"tracking_no\": \"EA123456789CN\"}";

	assert_int_equal(PUT(fx, "/v1/cases/JX1", case_body), 201);
	assert_int_equal(POST(fx, "/v1/cases/JX1/status", mailed), 200);
	assert_string_equal(jstr(fx, "notification"), "queued");
	assert_string_equal(jstr(fx, "status"), "mailed");
	assert_string_equal(jstr(fx, "tracking_no"), "EA123456789CN");
	assert_string_equal(jstr(fx, "name"), "张三");    /* kept */
	assert_int_equal(fx->changed, 1);
	assert_int_equal(store_outbox_counts(fx->st, counts), 0);
	assert_int_equal(counts[OB_QUEUED], 1);
	assert_string_equal(query1(fx, "SELECT msisdn || ' ' || ton || ' ' ||"
	    " npi || ' ' || class FROM messages"), "8613800138000 1 1 notify");
	assert_non_null(strstr(query1(fx, "SELECT text FROM messages"),
	    "EA123456789CN"));

	/* The same change again: nothing. */
	assert_int_equal(POST(fx, "/v1/cases/JX1/status", mailed), 200);
	assert_string_equal(jstr(fx, "notification"), "none");
	assert_int_equal(fx->changed, 1);
	assert_int_equal(store_outbox_counts(fx->st, counts), 0);
	assert_int_equal(counts[OB_QUEUED], 1);
	assert_string_equal(query1(fx, "SELECT count(*) FROM messages"), "1");
}

static void
test_status_quiet_and_opted_out(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(PUT(fx, "/v1/cases/JX1", case_body), 201);
	/* A notified change needs what its text speaks of. */
	assert_int_equal(POST(fx, "/v1/cases/JX1/status",
	    "{\"status\": \"mailed\", \"courier\": \"EMS\"}"), 400);
	assert_string_equal(jstr(fx, "error"), "missing field 'tracking_no': "
	    "the mailed notification needs it");
	assert_string_equal(query1(fx, "SELECT status FROM cases"),
	    "accepted");
	/* ?notify=0 applies it silently (and so needs nothing). */
	assert_int_equal(request(fx, EVHTTP_REQ_POST,
	    "/v1/cases/JX1/status?notify=0", AUTH,
	    "{\"status\": \"mailed\"}"), 200);
	assert_string_equal(jstr(fx, "notification"), "none");
	assert_int_equal(request(fx, EVHTTP_REQ_POST,
	    "/v1/cases/JX1/status?notify=no", AUTH,
	    "{\"status\": \"ready\"}"), 400);
	assert_string_equal(jstr(fx, "error"), "notify must be 0 or 1");
	assert_int_equal(request(fx, EVHTTP_REQ_POST,
	    "/v1/cases/JX1/status?notfy=0", AUTH,
	    "{\"status\": \"ready\"}"), 400);
	assert_string_equal(jstr(fx, "error"), "unknown parameter 'notfy'");

	assert_int_equal(store_optout_set(fx->st, "13800138000", 1, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(POST(fx, "/v1/cases/JX1/status",
	    "{\"status\": \"ready\", \"pickup_place\": \"城关派出所\"}"), 200);
	assert_string_equal(jstr(fx, "notification"), "opted_out");
	assert_string_equal(jstr(fx, "pickup_place"), "城关派出所");
	assert_string_equal(query1(fx, "SELECT count(*) FROM messages"), "0");
	assert_int_equal(fx->changed, 0);

	/* A new case in a notified status notifies too. */
	assert_int_equal(store_optout_set(fx->st, "13800138000", 0, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(PUT(fx, "/v1/cases/JX2", "{\"id_number\": \"" ID
	    "\", \"name\": \"张三\", \"msisdn\": \"13800138000\","
	    " \"status\": \"rejected\", \"submitted_at\": \"2024-03-01\","
	    " \"reason\": \"照片不合格\"}"), 201);
	assert_string_equal(jstr(fx, "notification"), "queued");
	assert_int_equal(fx->changed, 1);
	assert_non_null(strstr(query1(fx, "SELECT text FROM messages"),
	    "照片不合格"));
}

static void
test_max_body(void **state)
{
	struct fx *fx = *state;
	char body[MAX_BODY + 200];

	memset(body, ' ', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memcpy(body, case_body, strlen(case_body));
	/* evhttp answers 413 itself and never calls the API. */
	assert_int_equal(PUT(fx, "/v1/cases/R1", body), 413);
	assert_string_equal(query1(fx, "SELECT count(*) FROM cases"), "0");
	/* Headers are capped too (8 KiB); evhttp calls that a bad request. */
	{
		char auth[9000];

		memset(auth, 'a', sizeof(auth) - 1);
		auth[sizeof(auth) - 1] = '\0';
		memcpy(auth, "Bearer ", 7);
		assert_int_equal(request(fx, EVHTTP_REQ_GET, "/v1/cases/R1",
		    auth, NULL), 400);
	}
	/* Just under the limit is fine. */
	body[MAX_BODY] = '\0';
	assert_int_equal(PUT(fx, "/v1/cases/R1", body), 201);
}

static void
test_routes(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(GET(fx, "/"), 404);
	assert_string_equal(fx->ctype, "application/json");
	assert_int_equal(GET(fx, "/health"), 404);
	assert_int_equal(GET(fx, "/healthz/"), 404);
	assert_int_equal(GET(fx, "/metrics/x"), 404);
	assert_int_equal(GET(fx, "/v1/cases"), 404);
	assert_int_equal(GET(fx, "/v1/cases/R1/"), 404);
	assert_int_equal(GET(fx, "/v1/cases/R1/history"), 404);
	assert_int_equal(request(fx, EVHTTP_REQ_DELETE, "/v1/cases/R1", AUTH,
	    NULL), 405);
	assert_string_equal(fx->allow, "GET, HEAD, PUT");
	assert_int_equal(POST(fx, "/v1/cases/R1", "{}"), 405);
	assert_int_equal(GET(fx, "/v1/cases/R1/status"), 405);
	assert_string_equal(fx->allow, "POST");
	assert_int_equal(request(fx, EVHTTP_REQ_PATCH, "/v1/messages", AUTH,
	    "{}"), 405);
	assert_string_equal(fx->allow, "GET, HEAD");
	assert_int_equal(GET(fx, "/v1/cases/AB-12"), 400);
	assert_string_equal(jstr(fx, "error"),
	    "the receipt number must be 1-32 letters or digits");
	assert_int_equal(GET(fx, "/v1/cases/%E5%BC%A0"), 400);
	assert_int_equal(GET(fx, "/v1/cases/"
	    "A23456789012345678901234567890123"), 400);
	assert_int_equal(GET(fx, "/v1/cases/"
	    "A2345678901234567890123456789012"), 404);
	assert_int_equal(GET(fx, "/v1/cases/R1?x=1"), 400);
	assert_string_equal(jstr(fx, "error"), "unknown parameter 'x'");
	assert_int_equal(request(fx, EVHTTP_REQ_HEAD, "/v1/cases/R1", AUTH,
	    NULL), 404);
}

static int64_t
add_msg(struct fx *fx, int outbound, const char *msisdn, const char *text)
{
	struct msg_rec m;
	int64_t id;

	memset(&m, 0, sizeof(m));
	m.outbound = outbound;
	m.cls = OUTBOX_REPLY;
	m.msisdn = msisdn;
	m.ton = outbound ? 1 : 0;
	m.npi = 1;
	m.text = text;
	m.intent = outbound ? NULL : "query";
	id = store_msg_add(fx->st, &m, fx->err, sizeof(fx->err));
	assert_true(id > 0);
	return id;
}

static void
test_messages(void **state)
{
	struct fx *fx = *state;
	json_t *list, *m;

	add_msg(fx, 0, "8613800138000", "CX 1");
	add_msg(fx, 1, "8613800138000", "回复一");
	add_msg(fx, 0, "13900139000", "someone else");
	add_msg(fx, 0, "+8613800138000", "CX 2");
	add_msg(fx, 1, "13800138000", "回复二");

	/* Every form of the number finds every form in the log. */
	assert_int_equal(GET(fx, "/v1/messages?msisdn=%2B8613800138000"), 200);
	assert_string_equal(jstr(fx, "msisdn"), "13800138000");
	list = json_object_get(fx->json, "messages");
	assert_int_equal(json_array_size(list), 4);
	m = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(m, "text")),
	    "回复二");
	assert_string_equal(json_string_value(json_object_get(m,
	    "direction")), "out");
	assert_string_equal(json_string_value(json_object_get(m, "state")),
	    "queued");
	m = json_array_get(list, 3);
	assert_string_equal(json_string_value(json_object_get(m, "text")),
	    "CX 1");
	assert_string_equal(json_string_value(json_object_get(m, "intent")),
	    "query");
	assert_true(json_is_null(json_object_get(m, "state")));

	assert_int_equal(GET(fx, "/v1/messages?msisdn=13800138000&limit=2"),
	    200);
	list = json_object_get(fx->json, "messages");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(list, 1), "text")), "CX 2");
	/* An unescaped '+' arrives as a space. */
	assert_int_equal(GET(fx, "/v1/messages?msisdn=+8613800138000"), 200);
	assert_int_equal(json_array_size(json_object_get(fx->json,
	    "messages")), 4);
	assert_int_equal(GET(fx, "/v1/messages?msisdn=008613900139000"), 200);
	assert_int_equal(json_array_size(json_object_get(fx->json,
	    "messages")), 1);
	assert_int_equal(GET(fx, "/v1/messages?msisdn=13700137000"), 200);
	assert_int_equal(json_array_size(json_object_get(fx->json,
	    "messages")), 0);

	assert_int_equal(GET(fx, "/v1/messages"), 400);
	assert_string_equal(jstr(fx, "error"), "missing parameter 'msisdn'");
	assert_int_equal(GET(fx, "/v1/messages?msisdn=abc"), 400);
	assert_string_equal(jstr(fx, "error"), "msisdn is not a phone number");
	assert_int_equal(GET(fx, "/v1/messages?msisdn=13800138000&limit=0"),
	    400);
	assert_string_equal(jstr(fx, "error"),
	    "limit must be a whole number from 1 to 1000");
	assert_int_equal(GET(fx, "/v1/messages?msisdn=13800138000&limit=1001"),
	    400);
	assert_int_equal(GET(fx, "/v1/messages?msisdn=13800138000&limit=-5"),
	    400);
	assert_int_equal(GET(fx, "/v1/messages?msisdn=13800138000&limit=1000"),
	    200);
	assert_int_equal(GET(fx,
	    "/v1/messages?msisdn=13800138000&msisdn=13900139000"), 400);
	assert_string_equal(jstr(fx, "error"),
	    "parameter 'msisdn' given twice");
}

static void
test_new_errors(void **state)
{
	struct fx *fx = *state;
	struct http_api *h;

	unlink(fx->conf.http.token_file);
	assert_null(api_new(fx));
	assert_non_null(strstr(fx->err, "No such file or directory"));
	assert_non_null(strstr(fx->err, fx->conf.http.token_file));

	spew(fx->conf.http.token_file, "\n");
	assert_null(api_new(fx));
	assert_non_null(strstr(fx->err, "is empty"));

	spew(fx->conf.http.token_file, "two words\n");
	assert_null(api_new(fx));
	assert_non_null(strstr(fx->err, "printable ASCII"));
	assert_null(strstr(fx->err, "two words"));

	{
		char big[600];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		spew(fx->conf.http.token_file, big);
		assert_null(api_new(fx));
		assert_non_null(strstr(fx->err, "longer than 512 bytes"));
	}

	fx->conf.http.token_file[0] = '\0';
	assert_null(api_new(fx));
	assert_non_null(strstr(fx->err, "token_file is not set"));
	snprintf(fx->conf.http.token_file, sizeof(fx->conf.http.token_file),
	    "%s/api.token", fx->dir);
	spew(fx->conf.http.token_file, TOKEN "\r\n");

	snprintf(fx->conf.http.listen, sizeof(fx->conf.http.listen), "8080");
	assert_null(api_new(fx));
	assert_string_equal(fx->err, "http: listen '8080' is not host:port");
	snprintf(fx->conf.http.listen, sizeof(fx->conf.http.listen),
	    "127.0.0.1:70000");
	assert_null(api_new(fx));

	/* A port in use is a start-up error too. */
	snprintf(fx->conf.http.listen, sizeof(fx->conf.http.listen),
	    "127.0.0.1:0");
	assert_non_null(fx->api = api_new(fx));
	snprintf(fx->conf.http.listen, sizeof(fx->conf.http.listen),
	    "127.0.0.1:%d", http_api_port(fx->api));
	h = api_new(fx);
	assert_null(h);
	assert_non_null(strstr(fx->err, "cannot listen"));

	/* The CRLF was trimmed: the token works. */
	assert_int_equal(GET(fx, "/v1/cases/R1"), 404);
	snprintf(fx->conf.http.listen, sizeof(fx->conf.http.listen),
	    "[::1]:0");
	if ((h = api_new(fx)) != NULL) {     /* where IPv6 is available */
		assert_true(http_api_port(h) > 0);
		http_api_free(h);
	}
}

/* GET /metrics: the registry's text, no token needed, token or not. */
static void
test_metrics(void **state)
{
	struct fx *fx = *state;

	metrics_reset();
	metrics_add(M_INBOUND_TEXTS, "help", 3);
	metrics_set(M_BOUND, 1);
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/metrics", NULL, NULL),
	    200);
	assert_string_equal(fx->ctype,
	    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(fx->cache, "no-store");
	assert_non_null(strstr(fx->body,
	    "# TYPE smsgwd_inbound_texts_total counter\n"
	    "smsgwd_inbound_texts_total{intent=\"help\"} 3\n"));
	assert_non_null(strstr(fx->body, "\nsmsgwd_smpp_bound 1\n"));
	assert_non_null(strstr(fx->body,
	    "\nsmsgwd_reply_latency_seconds_count 0\n"));
	{
		char *want = metrics_render();

		assert_non_null(want);
		assert_string_equal(fx->body, want);
		free(want);
	}
	/* A token, right or wrong, changes nothing. */
	assert_int_equal(GET(fx, "/metrics"), 200);
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/metrics",
	    "Bearer wrong", NULL), 200);
	/* A query string is ignored (a scrape config may add one). */
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/metrics?x=1", NULL,
	    NULL), 200);
	/* HEAD: the headers of a GET, its length, no body. */
	{
		char *want = metrics_render(), len[24];

		assert_non_null(want);
		snprintf(len, sizeof(len), "%zu", strlen(want));
		free(want);
		assert_int_equal(request(fx, EVHTTP_REQ_HEAD, "/metrics", NULL,
		    NULL), 200);
		assert_string_equal(fx->clen, len);
	}
	assert_string_equal(fx->ctype,
	    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(fx->body, "");
	assert_int_equal(request(fx, EVHTTP_REQ_POST, "/metrics", NULL, "{}"),
	    405);
	assert_string_equal(fx->allow, "GET, HEAD");
	assert_int_equal(request(fx, EVHTTP_REQ_DELETE, "/metrics", AUTH,
	    NULL), 405);
	metrics_reset();
}

static int
deny_all(void *arg, int action, const char *a, const char *b,
    const char *c, const char *d)
{
	(void)arg;
	(void)action;
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return SQLITE_DENY;
}

/* GET /healthz: the store and the bind state. */
static void
test_healthz(void **state)
{
	struct fx *fx = *state;

	metrics_reset();
	/* No link bound: not healthy, and it says why. */
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/healthz", NULL, NULL),
	    503);
	assert_string_equal(fx->ctype, "application/json");
	assert_string_equal(fx->body, "{\"status\":\"unbound\",\"store\":"
	    "\"ok\",\"smpp\":\"unbound\",\"links\":[]}\n");
	metrics_set(M_BOUND, 1);
	{
		struct link_row r;

		memset(&r, 0, sizeof(r));
		snprintf(r.name, sizeof(r.name), "mobile");
		snprintf(r.state, sizeof(r.state), "bound");
		r.bound_at = 1700000000;
		assert_int_equal(store_link_put(fx->st, &r, fx->err,
		    sizeof(fx->err)), 0);
		snprintf(r.name, sizeof(r.name), "unicom");
		snprintf(r.state, sizeof(r.state), "wait");
		r.bound_at = 0;
		assert_int_equal(store_link_put(fx->st, &r, fx->err,
		    sizeof(fx->err)), 0);
	}
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/healthz", NULL, NULL),
	    200);
	assert_string_equal(jstr(fx, "status"), "ok");
	assert_string_equal(jstr(fx, "smpp"), "bound");
	assert_string_equal(jstr(fx, "store"), "ok");
	assert_non_null(strstr(fx->body, "\"links\":[{\"name\":\"mobile\","
	    "\"state\":\"bound\",\"node\":\"\",\"bound_at\":1700000000},"
	    "{\"name\":\"unicom\",\"state\":\"wait\",\"node\":\"\","
	    "\"bound_at\":0}]"));
	assert_int_equal(request(fx, EVHTTP_REQ_HEAD, "/healthz", NULL, NULL),
	    200);
	assert_string_equal(fx->body, "");
	assert_string_equal(fx->clen, "176");
	assert_int_equal(request(fx, EVHTTP_REQ_PUT, "/healthz", NULL, "{}"),
	    405);
	assert_string_equal(fx->allow, "GET, HEAD");

	/* A store that refuses every statement: an authorizer that denies
	 * all (setting one expires the prepared statements, so the ping's
	 * is prepared again, and refused). */
	sqlite3_set_authorizer(store_db(fx->st), deny_all, NULL);
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/healthz", NULL, NULL),
	    503);
	assert_string_equal(jstr(fx, "status"), "error");
	assert_string_equal(jstr(fx, "store"), "error");
	assert_string_equal(jstr(fx, "smpp"), "bound");
	sqlite3_set_authorizer(store_db(fx->st), NULL, NULL);
	assert_int_equal(request(fx, EVHTTP_REQ_GET, "/healthz", NULL, NULL),
	    200);
	assert_string_equal(jstr(fx, "store"), "ok");
	metrics_reset();
}

/* The request log: one key=value line per request, and neither the token
 * (right or wrong) nor any personal data in it. */
static void
test_log_lines(void **state)
{
	struct fx *fx = *state;
	char logpath[128], text[8192];
	size_t n;
	FILE *f;
	int saved;

	snprintf(logpath, sizeof(logpath), "%s/log", fx->dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_non_null(f = fopen(logpath, "w"));
	dup2(fileno(f), STDERR_FILENO);
	fclose(f);
	log_set_level(LOG_LVL_INFO);

	request(fx, EVHTTP_REQ_GET, "/v1/cases/JX1", "Bearer wrong-token",
	    NULL);
	PUT(fx, "/v1/cases/jx1", case_body);
	POST(fx, "/v1/cases/JX1/status", "{\"status\": \"rejected\","
	    " \"reason\": \"照片不合格\"}");
	GET(fx, "/v1/messages?msisdn=13800138000");
	PUT(fx, "/v1/cases/JX1", "{\"id_number\": \"110105194912310021\"}");

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_set_level(getenv("TEST_HTTP_LOG") != NULL ? LOG_LVL_DEBUG :
	    LOG_LVL_WARN);
	assert_non_null(f = fopen(logpath, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';

	assert_non_null(strstr(text, "http method=GET path=/v1/cases/JX1 "
	    "status=401 ms="));
	assert_non_null(strstr(text, "http method=PUT path=/v1/cases/jx1 "
	    "status=201 ms="));
	assert_non_null(strstr(text, "http method=POST "
	    "path=/v1/cases/JX1/status status=200 ms="));
	assert_non_null(strstr(text, "http method=GET path=/v1/messages "
	    "status=200 ms="));
	assert_non_null(strstr(text, "http method=PUT path=/v1/cases/JX1 "
	    "status=400 ms="));
	assert_null(strstr(text, TOKEN));
	assert_null(strstr(text, "wrong-token"));
	assert_null(strstr(text, ID));
	assert_null(strstr(text, "110105194912310021"));
	assert_null(strstr(text, "13800138000"));
	assert_null(strstr(text, "张"));
	assert_null(strstr(text, "照片"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auth_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_auth_wrong, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_case, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_put_then_get, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_notifies_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_quiet_and_opted_out,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_healthz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_errors, setup_base,
		    teardown),
	};

	log_init("test_http", getenv("TEST_HTTP_LOG") != NULL ?
	    LOG_LVL_DEBUG : LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
