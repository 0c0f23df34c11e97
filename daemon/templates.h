/*
 * Reply templates: one text per intent x outcome x language, from the
 * operator's templates file ([zh] and [en] sections of "intent.outcome =
 * text" lines, plus "status.NAME" display names). Every template must exist
 * in every language and may use only the placeholders its table row allows,
 * so a typo is a start-up error, not a surprise at send time. No template
 * may carry a link.
 */
#ifndef DAEMON_TEMPLATES_H
#define DAEMON_TEMPLATES_H

#include <stddef.h>

#include "daemon/store.h"
#include "parsers/intent.h"

enum tmpl_id {
	T_QUERY_STATUS,        /* accepted, reviewing, producing */
	T_QUERY_MAILED,
	T_QUERY_READY,
	T_QUERY_COLLECTED,
	T_QUERY_REJECTED,
	T_QUERY_APPOINTMENT,
	T_QUERY_OVERDUE,       /* deadline passed, not mailed or ready */
	T_QUERY_PRIVACY,       /* no such case, or not the registered phone */
	T_QUERY_INVALID_ID,    /* check character (or a letter) wrong */
	T_QUERY_ID_LENGTH,     /* not 18 characters */
	T_QUERY_ID_DATE,       /* no such birth date */
	T_QUERY_MISSING,       /* keyword without an ID or receipt number */
	T_LOSS_EFFECTIVE,
	T_LOSS_PENDING,        /* other phone, wrong name, or no such case */
	T_LOSS_ALREADY,        /* the registered phone reports again */
	T_LOSS_INVALID_ID,     /* check character (or a letter) wrong */
	T_LOSS_ID_LENGTH,      /* not 18 characters */
	T_LOSS_ID_DATE,        /* no such birth date */
	T_LOSS_MISSING,        /* no ID number or no name */
	T_FOUND_RELEASED,
	T_FOUND_NONE,          /* nothing this phone may release */
	T_FOUND_INVALID_ID,    /* check character (or a letter) wrong */
	T_FOUND_ID_LENGTH,     /* not 18 characters */
	T_FOUND_ID_DATE,       /* no such birth date */
	T_FOUND_MISSING,
	T_HELP,
	T_STOP,
	T_START,
	T_UNKNOWN,
	T_RATE_LIMITED,
	T_NOTIFY_MAILED,       /* proactive notices of a case change */
	T_NOTIFY_READY,
	T_NOTIFY_REJECTED,
	T_NOTIFY_APPOINTMENT,
	T_COUNT
};

enum tmpl_var {
	TV_STATUS, TV_COURIER, TV_TRACKING_NO, TV_PLACE, TV_REASON,
	TV_DEADLINE, TV_ID_LAST4, TV_NAME_MASKED, TV_REF, TV_APPOINTMENT,
	TV_COUNT
};

/* Values for one rendering; NULL renders as empty. */
struct tmpl_vars {
	const char *v[TV_COUNT];
};

struct tmpl_set;

/* Loads and checks a templates file; NULL with "file:line: message" lines
 * in errs for every problem. */
struct tmpl_set *tmpl_load(const char *path, char *errs, size_t errlen);
void tmpl_free(struct tmpl_set *t);

/*
 * Renders template id in lang into out (NUL-terminated). A value that
 * contains a link is rendered empty. Returns the length, or -1 if out is
 * too small.
 */
int tmpl_render(const struct tmpl_set *t, enum tmpl_id id, enum lang lang,
    const struct tmpl_vars *vars, char *out, size_t cap);

/* A case status in the reply's language ("已邮寄", "mailed"). */
const char *tmpl_status(const struct tmpl_set *t, enum case_status s,
    enum lang lang);

/* "query.status" for T_QUERY_STATUS. */
const char *tmpl_name(enum tmpl_id id);

/* 1 if text holds something a phone would show as a link. */
int tmpl_has_link(const char *text);

#endif
