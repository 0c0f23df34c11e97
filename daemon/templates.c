/*
 * Templates: the catalogue below says which templates must exist and which
 * placeholders each may use; the file supplies the words.
 */
#include "daemon/templates.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/inifile.h"

#define VAR(x) (1u << (x))
#define CASE_VARS (VAR(TV_STATUS) | VAR(TV_DEADLINE) | VAR(TV_ID_LAST4) | \
	VAR(TV_REF))

static const struct {
	const char *name;
	unsigned    vars;           /* placeholders it may use */
} catalogue[T_COUNT] = {
	[T_QUERY_STATUS] = { "query.status", CASE_VARS },
	[T_QUERY_MAILED] = { "query.mailed", CASE_VARS | VAR(TV_COURIER) |
	    VAR(TV_TRACKING_NO) },
	[T_QUERY_READY] = { "query.ready", CASE_VARS | VAR(TV_PLACE) },
	[T_QUERY_COLLECTED] = { "query.collected", CASE_VARS },
	[T_QUERY_REJECTED] = { "query.rejected", CASE_VARS | VAR(TV_REASON) },
	[T_QUERY_APPOINTMENT] = { "query.appointment", CASE_VARS |
	    VAR(TV_APPOINTMENT) },
	[T_QUERY_OVERDUE] = { "query.overdue", CASE_VARS },
	[T_QUERY_PRIVACY] = { "query.privacy", 0 },
	[T_QUERY_INVALID_ID] = { "query.invalid_id", VAR(TV_ID_LAST4) },
	[T_QUERY_ID_LENGTH] = { "query.id_length", VAR(TV_ID_LAST4) },
	[T_QUERY_ID_DATE] = { "query.id_date", VAR(TV_ID_LAST4) },
	[T_QUERY_MISSING] = { "query.missing", 0 },
	[T_LOSS_EFFECTIVE] = { "report_loss.effective", VAR(TV_REF) |
	    VAR(TV_ID_LAST4) | VAR(TV_NAME_MASKED) },
	[T_LOSS_PENDING] = { "report_loss.pending", VAR(TV_ID_LAST4) },
	[T_LOSS_ALREADY] = { "report_loss.already", VAR(TV_REF) |
	    VAR(TV_ID_LAST4) },
	[T_LOSS_INVALID_ID] = { "report_loss.invalid_id", VAR(TV_ID_LAST4) },
	[T_LOSS_ID_LENGTH] = { "report_loss.id_length", VAR(TV_ID_LAST4) },
	[T_LOSS_ID_DATE] = { "report_loss.id_date", VAR(TV_ID_LAST4) },
	[T_LOSS_MISSING] = { "report_loss.missing", 0 },
	[T_FOUND_RELEASED] = { "found.released", VAR(TV_REF) |
	    VAR(TV_ID_LAST4) },
	[T_FOUND_NONE] = { "found.none", VAR(TV_ID_LAST4) },
	[T_FOUND_INVALID_ID] = { "found.invalid_id", VAR(TV_ID_LAST4) },
	[T_FOUND_ID_LENGTH] = { "found.id_length", VAR(TV_ID_LAST4) },
	[T_FOUND_ID_DATE] = { "found.id_date", VAR(TV_ID_LAST4) },
	[T_FOUND_MISSING] = { "found.missing", 0 },
	[T_HELP] = { "help.list", 0 },
	[T_STOP] = { "stop.done", 0 },
	[T_START] = { "start.done", 0 },
	[T_UNKNOWN] = { "unknown.hint", 0 },
	[T_RATE_LIMITED] = { "limit.exceeded", 0 },
	[T_NOTIFY_MAILED] = { "notify.mailed", CASE_VARS | VAR(TV_COURIER) |
	    VAR(TV_TRACKING_NO) },
	[T_NOTIFY_READY] = { "notify.ready", CASE_VARS | VAR(TV_PLACE) },
	[T_NOTIFY_REJECTED] = { "notify.rejected", CASE_VARS |
	    VAR(TV_REASON) },
	[T_NOTIFY_APPOINTMENT] = { "notify.appointment", CASE_VARS |
	    VAR(TV_APPOINTMENT) },
};

static const char *const var_names[TV_COUNT] = {
	[TV_STATUS] = "status", [TV_COURIER] = "courier",
	[TV_TRACKING_NO] = "tracking_no", [TV_PLACE] = "place",
	[TV_REASON] = "reason", [TV_DEADLINE] = "deadline",
	[TV_ID_LAST4] = "id_last4", [TV_NAME_MASKED] = "name_masked",
	[TV_REF] = "ref", [TV_APPOINTMENT] = "appointment",
};

struct tmpl_set {
	char *text[T_COUNT][LANG_COUNT];
	char *status[CASE_STATUS_COUNT][LANG_COUNT];
	int   line[T_COUNT][LANG_COUNT];
};

const char *
tmpl_name(enum tmpl_id id)
{
	return catalogue[id].name;
}

int
tmpl_has_link(const char *s)
{
	static const char *const marks[] = { "://", "www.", "WWW.", NULL };

	for (int i = 0; marks[i] != NULL; i++)
		if (strstr(s, marks[i]) != NULL)
			return 1;
	return 0;
}

static int
var_index(const char *name, size_t len)
{
	for (int i = 0; i < TV_COUNT; i++)
		if (strlen(var_names[i]) == len &&
		    strncmp(var_names[i], name, len) == 0)
			return i;
	return -1;
}

/* Every {placeholder} must be known and allowed for this template. */
static void
check_placeholders(struct errlist *e, int line, enum tmpl_id id,
    const char *s)
{
	for (const char *p = strchr(s, '{'); p != NULL;
	    p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		int v;

		if (end == NULL) {
			errlist_add(e, line, "%s: '{' without '}'",
			    catalogue[id].name);
			return;
		}
		v = var_index(p + 1, (size_t)(end - p - 1));
		if (v < 0)
			errlist_add(e, line, "%s: unknown placeholder {%.*s}",
			    catalogue[id].name, (int)(end - p - 1), p + 1);
		else if (!(catalogue[id].vars & VAR(v)))
			errlist_add(e, line, "%s: {%s} has no value here",
			    catalogue[id].name, var_names[v]);
	}
}

struct load {
	struct tmpl_set *t;
	struct errlist   e;
};

static int
on_key(void *arg, int line, const char *section, const char *key,
    const char *value)
{
	struct load *ld = arg;
	char **slot = NULL;
	int lang = lang_from_name(section);

	if (lang < 0) {
		errlist_add(&ld->e, line, "[%s]: unknown language section",
		    section);
		return 0;
	}
	if (strncmp(key, "status.", 7) == 0) {
		int s = case_status_from_name(key + 7);

		if (s < 0) {
			errlist_add(&ld->e, line, "%s: unknown case status",
			    key);
			return 0;
		}
		slot = &ld->t->status[s][lang];
	} else {
		for (int i = 0; i < T_COUNT; i++)
			if (strcmp(key, catalogue[i].name) == 0) {
				slot = &ld->t->text[i][lang];
				ld->t->line[i][lang] = line;
				check_placeholders(&ld->e, line, i, value);
			}
		if (slot == NULL) {
			errlist_add(&ld->e, line, "%s: unknown template", key);
			return 0;
		}
	}
	if (*slot != NULL) {
		errlist_add(&ld->e, line, "[%s] %s: set twice", section, key);
		return 0;
	}
	if (tmpl_has_link(value)) {
		errlist_add(&ld->e, line, "%s: replies may not carry links",
		    key);
		return 0;
	}
	if ((*slot = strdup(value)) == NULL) {
		errlist_add(&ld->e, line, "out of memory");
		return 0;
	}
	return 1;
}

void
tmpl_free(struct tmpl_set *t)
{
	if (t == NULL)
		return;
	for (int l = 0; l < LANG_COUNT; l++) {
		for (int i = 0; i < T_COUNT; i++)
			free(t->text[i][l]);
		for (int s = 0; s < CASE_STATUS_COUNT; s++)
			free(t->status[s][l]);
	}
	free(t);
}

struct tmpl_set *
tmpl_load(const char *path, char *errs, size_t errlen)
{
	struct load ld;

	errlist_init(&ld.e, path, errs, errlen);
	if ((ld.t = calloc(1, sizeof(*ld.t))) == NULL) {
		errlist_add(&ld.e, 0, "out of memory");
		return NULL;
	}
	if (inifile_parse(path, NULL, on_key, &ld, &ld.e) == 0) {
		for (int l = 0; l < LANG_COUNT; l++) {
			for (int i = 0; i < T_COUNT; i++)
				if (ld.t->text[i][l] == NULL)
					errlist_add(&ld.e, 0, "[%s] %s is "
					    "missing", lang_name(l),
					    catalogue[i].name);
			for (int s = 0; s < CASE_STATUS_COUNT; s++)
				if (ld.t->status[s][l] == NULL)
					errlist_add(&ld.e, 0, "[%s] status.%s "
					    "is missing", lang_name(l),
					    case_status_name(s));
		}
	}
	if (ld.e.count > 0) {
		tmpl_free(ld.t);
		return NULL;
	}
	return ld.t;
}

const char *
tmpl_status(const struct tmpl_set *t, enum case_status s, enum lang lang)
{
	return t->status[s][lang];
}

int
tmpl_render(const struct tmpl_set *t, enum tmpl_id id, enum lang lang,
    const struct tmpl_vars *vars, char *out, size_t cap)
{
	const char *p = t->text[id][lang];
	size_t used = 0;

	while (*p != '\0') {
		const char *val = NULL, *end;
		size_t n;
		int v;

		if (*p == '{' && (end = strchr(p, '}')) != NULL &&
		    (v = var_index(p + 1, (size_t)(end - p - 1))) >= 0) {
			val = vars != NULL ? vars->v[v] : NULL;
			/* Case data is operators' text: it may not smuggle a
			 * link into a reply. */
			if (val == NULL || tmpl_has_link(val))
				val = "";
			p = end + 1;
		} else {
			val = p;
			end = p + 1 + strcspn(p + 1, "{");
			n = (size_t)(end - p);
			if (used + n >= cap)
				return -1;
			memcpy(out + used, val, n);
			used += n;
			p = end;
			continue;
		}
		n = strlen(val);
		if (used + n >= cap)
			return -1;
		memcpy(out + used, val, n);
		used += n;
	}
	if (used >= cap)
		return -1;
	out[used] = '\0';
	return (int)used;
}
