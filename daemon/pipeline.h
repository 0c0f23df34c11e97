/*
 * The citizen text pipeline: one whole inbound text -> intent (parsers/) ->
 * what the store says (cases, loss reports, opt-outs) -> one templated reply
 * or none. Every text and its reply are written to the message log inside
 * the caller's transaction; nothing is sent from here.
 */
#ifndef DAEMON_PIPELINE_H
#define DAEMON_PIPELINE_H

#include <stdint.h>
#include <time.h>

#include "parsers/intent.h"
#include "proto/pdu.h"

struct conf;
struct store;
struct tmpl_set;

/* One whole inbound text, decoded to UTF-8. */
struct inbound {
	struct pdu_addr src, dst;
	uint8_t         data_coding;
	int             parts;
	const char     *text;      /* NUL-terminated UTF-8 */
	size_t          len;
};

#define REPLY_MAX 1600

struct reply {
	int          send;          /* 0: no reply (rate limited, silent) */
	char         text[REPLY_MAX];
	enum intent  intent;
	const char  *outcome;       /* template name, e.g. "query.mailed" */
	int64_t      in_id, out_id; /* message-log rows */
};

struct pipeline;

/* Loads patterns and templates named by c; NULL with file:line errors. */
struct pipeline *pipeline_new(const struct conf *c, struct store *st,
    char *errs, size_t errlen);
void pipeline_free(struct pipeline *p);

/* Replaces patterns, templates and limits only if both files load. */
int pipeline_reload(struct pipeline *p, const struct conf *c, char *errs,
    size_t errlen);

/* The templates in use now (they change on reload). */
const struct tmpl_set *pipeline_templates(const struct pipeline *p);

/* For --check-config: loads and frees; returns the number of errors. */
int pipeline_check(const struct conf *c, char *errs, size_t errlen);

/*
 * Handles one text at now: logs it, decides the reply, logs the reply.
 * answer 0 (a sender we never answer: alphanumeric, our own short code)
 * only logs the text. Returns 0, or -1 on a store error (the caller rolls
 * the batch back).
 */
int pipeline_handle(struct pipeline *p, const struct inbound *in, int answer,
    time_t now, struct reply *r, char *err, size_t errlen);

#endif
