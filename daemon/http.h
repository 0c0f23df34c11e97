/*
 * The HTTP API for the agency's case system (libevent evhttp, JSON):
 *
 *   PUT  /v1/cases/{receipt}          upsert a case (201 new, 200 updated)
 *   POST /v1/cases/{receipt}/status   change its status (404 if unknown)
 *   GET  /v1/cases/{receipt}          the case (404 if unknown)
 *   GET  /v1/messages?msisdn=N&limit=L  a number's message log, newest first
 *   GET  /metrics                     Prometheus text format 0.0.4
 *   GET  /healthz                     {"status", "store", "smpp"}: 200 while
 *                                     the store answers, else 503
 *
 * Every /v1 request needs "Authorization: Bearer <token>"; /metrics and
 * /healthz do not (no personal data in them). HEAD works as GET. A change
 * is one transaction through notify_case_update(), so it notifies exactly
 * as "smsgwctl case set-status" does; ?notify=0 applies it silently. A PUT
 * that leaves an optional field out keeps its stored value (as
 * import-cases does); null clears it. Errors are {"error": "..."}.
 */
#ifndef DAEMON_HTTP_H
#define DAEMON_HTTP_H

#include <stddef.h>

struct event_base;
struct conf;
struct store;
struct tmpl_set;
struct http_api;

/*
 * Reads the token from c->http.token_file and listens on c->http.listen
 * (which must not be empty: "" means the daemon runs no API). Takes what it
 * needs from c, which may be freed afterwards; st must outlive the API.
 * templates(arg) gives the template set at the time of each request.
 * changed(arg), if not NULL, is called after a commit that queued a
 * notification. Returns NULL with err on failure.
 */
struct http_api *http_api_new(struct event_base *base, const struct conf *c,
    struct store *st, const struct tmpl_set *(*templates)(void *arg),
    void (*changed)(void *arg), void *arg, char *err, size_t errlen);
void http_api_free(struct http_api *h);

/* The port it listens on (useful when listen gave port 0). */
int http_api_port(const struct http_api *h);

#endif
