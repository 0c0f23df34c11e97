/*
 * links: each carrier link's state as the daemon last stored it (at every
 * bind change and every few seconds): state, bind type, window in use,
 * learned rate, messages queued for it, last error, time bound. Also
 * reports when the daemon's rows are stale (it is not running).
 */
#include <stdio.h>
#include <time.h>

#include <sqlite3.h>

#include "tools/ctl/ctl.h"

/* Rows older than this were left by a daemon that is not running. */
#define STALE_S 30

struct acc {
	json_t *doc;
	int     json, oom;
};

static void
put(json_t *obj, const char *key, json_t *value, int *oom)
{
	if (value == NULL || json_object_set_new(obj, key, value) == -1)
		*oom = 1;
}

static int
add(void *arg, const struct link_row *r)
{
	struct acc *a = arg;
	json_t *row = json_object();
	char win[32];

	if (row == NULL || json_array_append_new(a->doc, row) == -1) {
		a->oom = 1;
		return 1;
	}
	snprintf(win, sizeof(win), "%d/%d", r->in_flight, r->window);
	if (r->node[0] != '\0')
		put(row, "node", ctl_jstr(r->node), &a->oom);
	put(row, "link", ctl_jstr(r->name), &a->oom);
	put(row, "state", ctl_jstr(time(NULL) - r->updated_at > STALE_S &&
	    !a->json ? "(stale)" : r->state), &a->oom);
	if (a->json)
		put(row, "stored_state", ctl_jstr(r->state), &a->oom);
	put(row, "bind", ctl_jstr(r->bind), &a->oom);
	put(row, "smsc", ctl_jstr(r->host), &a->oom);
	if (a->json) {
		put(row, "in_flight", json_integer(r->in_flight), &a->oom);
		put(row, "window", json_integer(r->window), &a->oom);
	} else {
		put(row, "window", ctl_jstr(win), &a->oom);
	}
	put(row, "max_tps", json_integer(r->max_tps), &a->oom);
	put(row, "rate", json_integer(r->rate), &a->oom);
	put(row, "queued", json_integer(r->queued), &a->oom);
	put(row, "bound_since", r->bound_at != 0 ? ctl_jtime(r->bound_at,
	    a->json) : json_null(), &a->oom);
	put(row, "last_error", ctl_jstr(r->last_error[0] != '\0' ?
	    r->last_error : NULL), &a->oom);
	put(row, "updated", ctl_jtime(r->updated_at, a->json), &a->oom);
	return a->oom;
}

int
ctl_links(struct ctl *ctl, int argc, char **argv)
{
	struct acc a = { NULL, 0, 0 };
	const struct ctl_opt opts[] = {
		{ "--json", NULL, &a.json }, { NULL, NULL, NULL },
	};
	struct store *st;

	if (ctl_args(argc, argv, opts, NULL, 0) != 0)
		return 2;
	if ((st = ctl_store(ctl)) == NULL)
		return 1;
	if ((a.doc = json_array()) == NULL) {
		ctl_err("out of memory");
		return 1;
	}
	if (store_link_list(st, add, &a) == -1) {
		ctl_err("links: %s", sqlite3_errmsg(store_db(st)));
		json_decref(a.doc);
		return 1;
	}
	if (a.oom) {
		json_decref(a.doc);
		ctl_err("out of memory");
		return 1;
	}
	return ctl_print(a.doc, a.json, "no links stored: smsgwd has not "
	    "run with this database yet");
}
