/*
 * The configuration table and its parser. Adding a key is adding a row to
 * conf_keys[]: parsing, defaults, range checks and documentation follow.
 */
#include "daemon/conf.h"
#include "daemon/inifile.h"
#include "daemon/route.h"

#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum conf_type { CT_INT, CT_STR, CT_ENUM, CT_PATH, CT_BOOL };

struct conf_key {
	const char    *section, *name;
	enum conf_type type;
	size_t         off;          /* into struct conf */
	size_t         size;         /* CT_STR/CT_PATH: buffer size */
	long           min, max;     /* CT_INT range; CT_STR: min 1 = required */
	const char    *def;          /* default, parsed like a file value */
	const char    *const *names; /* CT_ENUM choices, NULL-terminated */
	const char    *help;
};

static const char *const bind_names[] = { "transceiver", "pair", NULL };
static const char *const long_names[] = { "udh", "sar", "payload", NULL };

#define OFF(f) offsetof(struct conf, f)
#define SZ(f)  sizeof(((struct conf *)0)->f)
#define INT(s, k, f, lo, hi, d, h) \
	{ s, k, CT_INT, OFF(f), 0, lo, hi, d, NULL, h }
#define STR(s, k, f, req, d, h) \
	{ s, k, CT_STR, OFF(f), SZ(f), req, 0, d, NULL, h }
#define ENUM(s, k, f, n, d, h) \
	{ s, k, CT_ENUM, OFF(f), 0, 0, 0, d, n, h }
#define PATH(s, k, f, d, h) \
	{ s, k, CT_PATH, OFF(f), SZ(f), 0, 0, d, NULL, h }

/*
 * The keys of a carrier link, as [smpp] (the one link "default") or as
 * [smsc NAME]; offsets are into struct conf_smpp.
 */
#define LOFF(f) offsetof(struct conf_smpp, f)
#define LSZ(f)  sizeof(((struct conf_smpp *)0)->f)
#define LINT(k, f, lo, hi, d, h) \
	{ "smsc", k, CT_INT, LOFF(f), 0, lo, hi, d, NULL, h }
#define LSTR(k, f, req, d, h) \
	{ "smsc", k, CT_STR, LOFF(f), LSZ(f), req, 0, d, NULL, h }
#define LENUM(k, f, n, d, h) \
	{ "smsc", k, CT_ENUM, LOFF(f), 0, 0, 0, d, n, h }
#define LPATH(k, f, d, h) \
	{ "smsc", k, CT_PATH, LOFF(f), LSZ(f), 0, 0, d, NULL, h }

static const char *const yesno_names[] = { "no", "yes", NULL };
static const char *const proto_names[] = { "smpp", "cmpp30", "cmpp20", NULL };

static const struct conf_key link_keys[] = {
	LSTR("host", host, 1, "127.0.0.1", "SMSC host name or address"),
	LINT("port", port, 1, 65535, "2775", "SMSC TCP port"),
	LSTR("system_id", system_id, 1, NULL,
	    "bind system_id (at most 15 characters)"),
	LSTR("password", password, 0, "",
	    "bind password (at most 8 characters; CMPP: the shared secret, "
	    "at most 32)"),
	LPATH("password_file", password_file, "",
	    "file whose first line is the bind password (a systemd "
	    "credential); instead of password"),
	LSTR("system_type", system_type, 0, "",
	    "bind system_type (at most 12 characters)"),
	LENUM("bind", bind, bind_names, "transceiver",
	    "one transceiver link, or a transmitter + receiver pair"),
	LSTR("source_addr", source_addr, 1, NULL,
	    "our short code: source of every SMS we send on this link"),
	LINT("source_ton", source_ton, 0, 6, "0",
	    "type of number of source_addr"),
	LINT("source_npi", source_npi, 0, 18, "0",
	    "numbering plan of source_addr"),
	LINT("window", window, 1, 1024, "10",
	    "submit_sm outstanding without a response"),
	LINT("max_tps", max_tps, 0, 1000000, "0",
	    "submit_sm per second at most, 0 = unlimited; the link learns "
	    "the carrier's real rate below it from throttling answers"),
	LINT("enquire_link_s", enquire_link_s, 1, 3600, "30",
	    "enquire_link after this many seconds without a response"),
	LINT("response_timeout_s", response_timeout_s, 1, 600,
	    "10", "seconds to wait for any response"),
	LINT("reconnect_min_s", reconnect_min_s, 1, 3600, "1",
	    "first reconnect delay"),
	LINT("reconnect_max_s", reconnect_max_s, 1, 86400, "60",
	    "longest reconnect delay"),
	LENUM("long_messages", long_messages, long_names, "udh",
	    "how long texts are split: UDH, SAR TLVs or message_payload"),
	LINT("registered_delivery", registered_delivery, 0, 1,
	    "1", "ask the SMSC for delivery receipts"),
	LENUM("enabled", enabled, yesno_names, "yes",
	    "no: the link is configured but not connected"),
	LENUM("protocol", protocol, proto_names, "smpp",
	    "the link's protocol: SMPP 3.4, or China Mobile's CMPP 3.0 or "
	    "2.0 (port 7890, window 16, response_timeout_s 60 by default)"),
	LSTR("service_id", service_id, 0, "",
	    "CMPP: the Service_Id of every SUBMIT"),
	LSTR("fee_type", fee_type, 0, "01",
	    "CMPP: FeeType (01 = free)"),
	LSTR("fee_code", fee_code, 0, "000000",
	    "CMPP: FeeCode"),
	LINT("active_test_s", active_test_s, 1, 3600, "180",
	    "CMPP: ACTIVE_TEST after this many idle seconds"),
	LSTR("reroute_status", reroute_status, 0, "",
	    "submit_sm_resp statuses (hex or decimal, space-separated) that "
	    "move a message to its next link, besides ESME_RINVDSTADR, "
	    "ESME_RINVDSTTON and ESME_RINVDSTNPI"),
};
#define NLINKKEYS (sizeof(link_keys) / sizeof(link_keys[0]))

static const struct conf_key conf_keys[] = {
	PATH("routing", "routes", routing.routes, "",
	    "routes file: 'PREFIX LINK [LINK ...]' a line; empty = the first "
	    "link, then the others in file order"),
	INT("routing", "failover_s", routing.failover_s, 0, 86400, "30",
	    "a link not bound this long is passed by for the next link of "
	    "the rule"),
	PATH("store", "path", store.path, "smsgwd.db",
	    "the SQLite database file"),
	PATH("parsers", "patterns", parsers.patterns, "patterns.conf",
	    "intent patterns: one 'intent lang regex' per line"),
	PATH("templates", "path", templates.path, "templates.conf",
	    "reply templates: intent.outcome.lang = text"),
	INT("limits", "per_sender_per_hour", limits.per_sender_per_hour, 0,
	    100000, "10", "texts answered per sender per hour, 0 = no limit"),
	INT("limits", "max_text_chars", limits.max_text_chars, 1, 100000,
	    "500", "longer texts are answered with the hint, not matched"),
	STR("locale", "country_code", locale.country_code, 0, "86",
	    "country code stripped before numbers are compared"),
	STR("notify", "quiet_hours", notify.quiet_hours, 0, "",
	    "local HH:MM-HH:MM when notifications wait; empty = none"),
	INT("outbox", "retry_undelivered", outbox.retry_undelivered, 0, 1, "1",
	    "after an UNDELIV/EXPIRED/REJECTD receipt: one more try (1) or "
	    "fail (0)"),
	INT("outbox", "validity_h", outbox.validity_h, 1, 720, "48",
	    "a message not accepted by the SMSC within this many hours "
	    "expires"),
	INT("outbox", "reply_backlog", outbox.reply_backlog, 16, 1000000,
	    "2048", "replies waiting to be sent before new texts are refused "
	    "for the SMSC to deliver again"),
	INT("log", "bodies", log.bodies, 0, 1, "0",
	    "log the texts of messages (ID numbers masked)"),
	STR("http", "listen", http.listen, 0, "127.0.0.1:8080",
	    "HTTP API address:port; empty = no API"),
	PATH("http", "token_file", http.token_file, "api.token",
	    "file holding the API bearer token"),
	INT("http", "max_body", http.max_body, 1024, 16777216, "65536",
	    "largest request body in bytes"),
};
#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

struct parse_state {
	struct conf    *c;
	struct errlist  e;
	int             seen_line[NKEYS];
	int             link_seen[CONF_MAX_LINKS][NLINKKEYS];
	char            label[CONF_MAX_LINKS][24];   /* "smpp", "smsc NAME" */
	int             smpp_line, smsc_line;        /* first of each kind */
	int             mixed_reported, full_reported;
	char            bad_section[64];             /* reported once */
};

#define perr(ps, line, ...) errlist_add(&(ps)->e, line, __VA_ARGS__)

/* Sets one key of the struct at base (struct conf or struct conf_smpp);
 * sect names the section in messages. */
static int
set_value(struct parse_state *ps, void *base, const char *sect,
    const struct conf_key *k, const char *v, int line)
{
	char *field = (char *)base + k->off;
	char *end;
	long n;

	switch (k->type) {
	case CT_INT:
	case CT_BOOL:
		errno = 0;
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0) {
			perr(ps, line, "[%s] %s: '%s' is not a whole number",
			    sect, k->name, v);
			return -1;
		}
		if (n < k->min || n > k->max) {
			perr(ps, line, "[%s] %s: %ld is outside %ld..%ld",
			    sect, k->name, n, k->min, k->max);
			return -1;
		}
		*(int *)(void *)field = (int)n;
		return 0;
	case CT_ENUM:
		for (int i = 0; k->names[i] != NULL; i++)
			if (strcmp(v, k->names[i]) == 0) {
				*(int *)(void *)field = i;
				return 0;
			}
		perr(ps, line, "[%s] %s: '%s' is not one of the choices",
		    sect, k->name, v);
		return -1;
	case CT_STR:
		if (strlen(v) >= k->size) {
			perr(ps, line, "[%s] %s: longer than %zu characters",
			    sect, k->name, k->size - 1);
			return -1;
		}
		strcpy(field, v);
		return 0;
	case CT_PATH:
		if (*v != '/' && *v != '\0') {
			n = snprintf(field, k->size, "%s/%s", ps->c->dir, v);
		} else {
			n = snprintf(field, k->size, "%s", v);
		}
		if (n < 0 || (size_t)n >= k->size) {
			perr(ps, line, "[%s] %s: path too long", sect, k->name);
			return -1;
		}
		return 0;
	}
	return -1;
}

/* 1 if name is a link name: 1-15 of a-z 0-9 _ -. */
static int
link_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= 15 &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int
conf_link_find(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->nlinks; i++)
		if (strcmp(c->link[i].name, name) == 0)
			return i;
	return -1;
}

/* The link a [smpp] or [smsc NAME] section sets, created with its
 * defaults when first seen; -1 (reported) if the section is wrong. */
static int
link_for_section(struct parse_state *ps, const char *section, int line)
{
	struct conf *c = ps->c;
	const char *name;
	int smpp = strcmp(section, "smpp") == 0, i;

	if (smpp) {
		name = "default";
		if (ps->smpp_line == 0)
			ps->smpp_line = line;
	} else {
		name = section + 4;
		name += strspn(name, " \t");
		if (!link_name_ok(name)) {
			if (strcmp(ps->bad_section, section) != 0) {
				snprintf(ps->bad_section,
				    sizeof(ps->bad_section), "%s", section);
				perr(ps, line, "[%s]: a link name is 1-15 of "
				    "a-z 0-9 _ -", section);
			}
			return -1;
		}
		if (ps->smsc_line == 0)
			ps->smsc_line = line;
	}
	if (ps->smpp_line != 0 && ps->smsc_line != 0) {
		if (!ps->mixed_reported)
			perr(ps, line, "[%s]: [smpp] and [smsc NAME] sections "
			    "in one file; name every link with [smsc NAME]",
			    section);
		ps->mixed_reported = 1;
		return -1;
	}
	if ((i = conf_link_find(c, name)) != -1)
		return i;
	if (c->nlinks == CONF_MAX_LINKS) {
		if (!ps->full_reported)
			perr(ps, line, "[%s]: more than %d links", section,
			    CONF_MAX_LINKS);
		ps->full_reported = 1;
		return -1;
	}
	i = c->nlinks++;
	snprintf(c->link[i].name, sizeof(c->link[i].name), "%s", name);
	snprintf(ps->label[i], sizeof(ps->label[i]), "%s", section);
	c->link[i].line = line;
	for (size_t k = 0; k < NLINKKEYS; k++)
		if (link_keys[k].def != NULL)
			(void)set_value(ps, &c->link[i], ps->label[i],
			    &link_keys[k], link_keys[k].def, 0);
	return i;
}

static int
link_handler(struct parse_state *ps, int line, const char *section,
    const char *name, const char *value)
{
	int i = link_for_section(ps, section, line);

	if (i == -1)
		return 0;
	for (size_t k = 0; k < NLINKKEYS; k++) {
		if (strcmp(link_keys[k].name, name) != 0)
			continue;
		if (ps->link_seen[i][k]) {
			perr(ps, line, "[%s] %s: set twice (first on line "
			    "%d)", ps->label[i], name, ps->link_seen[i][k]);
			return 0;
		}
		ps->link_seen[i][k] = line;
		return set_value(ps, &ps->c->link[i], ps->label[i],
		    &link_keys[k], value, line) == 0;
	}
	perr(ps, line, "[%s] %s: unknown key", ps->label[i], name);
	return 0;
}

static int
handler(void *user, int line, const char *section, const char *name,
    const char *value)
{
	struct parse_state *ps = user;
	bool known_section = false;

	if (strcmp(section, "smpp") == 0 || strncmp(section, "smsc", 4) == 0)
		return link_handler(ps, line, section, name, value);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (strcmp(k->section, section) != 0)
			continue;
		known_section = true;
		if (strcmp(k->name, name) != 0)
			continue;
		if (ps->seen_line[i]) {
			perr(ps, line, "[%s] %s: set twice (first on line "
			    "%d)", section, name, ps->seen_line[i]);
			return 0;
		}
		ps->seen_line[i] = line;
		if (set_value(ps, ps->c, k->section, k, value, line) == -1) {
			return 0;
		}
		return 1;
	}
	if (known_section)
		perr(ps, line, "[%s] %s: unknown key", section, name);
	else
		perr(ps, line, "[%s]: unknown section", section);
	return 0;
}

static void
conf_defaults(struct parse_state *ps)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (conf_keys[i].def != NULL)
			(void)set_value(ps, ps->c, conf_keys[i].section,
			    &conf_keys[i], conf_keys[i].def, 0);
}

static int read_secrets = 1;

void
conf_read_secrets(int yes)
{
	read_secrets = yes;
}

/* The line a link's key was set on, 0 if it kept its default. */
static int
link_key_line(const struct parse_state *ps, int i, const char *name)
{
	for (size_t k = 0; k < NLINKKEYS; k++)
		if (strcmp(link_keys[k].name, name) == 0)
			return ps->link_seen[i][k];
	return 0;
}

/* SMPP's bind password is 8 characters at most; CMPP's shared secret
 * has no such limit in the spec: 32 here. */
static size_t
max_password(const struct conf_smpp *l)
{
	return l->protocol == CONF_PROTO_SMPP ? 8 : 32;
}

/* Keys that belong to one protocol: set on a link of the other, an error
 * with its line. */
static const char *const smpp_only[] = { "system_type", "bind",
    "source_ton", "source_npi", "enquire_link_s", "long_messages", NULL };
static const char *const cmpp_only[] = { "service_id", "fee_type",
    "fee_code", "active_test_s", NULL };

static void
protocol_check(struct parse_state *ps, int i)
{
	struct conf_smpp *l = &ps->c->link[i];
	int cmpp = l->protocol != CONF_PROTO_SMPP;
	const char *const *wrong = cmpp ? smpp_only : cmpp_only;
	int line;

	for (int k = 0; wrong[k] != NULL; k++)
		if ((line = link_key_line(ps, i, wrong[k])) != 0)
			perr(ps, line, "[%s] %s: not a key of %s link", ps->label[i],
			    wrong[k], cmpp ? "a CMPP" : "an SMPP");
	if (strcmp(ps->label[i], "smpp") == 0 && cmpp)
		perr(ps, link_key_line(ps, i, "protocol"), "[smpp] protocol: "
		    "[smpp] is an SMPP link; give a CMPP link an [smsc NAME] "
		    "section");
	if (strlen(l->password) > max_password(l))
		perr(ps, link_key_line(ps, i, "password"), "[%s] password: "
		    "longer than %zu characters", ps->label[i],
		    max_password(l));
	if (!cmpp)
		return;
	if (strlen(l->system_id) > 6)
		perr(ps, link_key_line(ps, i, "system_id"), "[%s] system_id: "
		    "a CMPP SP_Id is at most 6 characters", ps->label[i]);
	if (strlen(l->source_addr) > 20)
		perr(ps, link_key_line(ps, i, "source_addr"), "[%s] "
		    "source_addr: a CMPP Src_Id is at most 20 digits",
		    ps->label[i]);
	/* CMPP's defaults where the file does not say (spec: port 7890, a
	 * window of 16); long texts always carry a UDH. */
	if (link_key_line(ps, i, "port") == 0)
		l->port = 7890;
	if (link_key_line(ps, i, "window") == 0)
		l->window = 16;
	/* The spec's T: 60 s for a response (ACTIVE_TEST's among them). */
	if (link_key_line(ps, i, "response_timeout_s") == 0)
		l->response_timeout_s = 60;
	l->enquire_link_s = l->active_test_s;
	l->long_messages = CONF_LONG_UDH;
	l->bind = CONF_BIND_TRANSCEIVER;
}

/*
 * password_file: the password is the file's first line, so it can live in
 * a systemd credential instead of the config file.
 */
static void
read_secret(struct parse_state *ps, int i)
{
	struct conf_smpp *l = &ps->c->link[i];
	const char *sect = ps->label[i];
	int line = link_key_line(ps, i, "password_file");
	char buf[64];
	FILE *f;
	size_t n;

	if (link_key_line(ps, i, "password") != 0) {
		perr(ps, line, "[%s] password_file: set password or "
		    "password_file, not both", sect);
		return;
	}
	if ((f = fopen(l->password_file, "r")) == NULL) {
		perr(ps, line, "[%s] password_file: %s: %s", sect,
		    l->password_file, strerror(errno));
		return;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n > max_password(l)) {
		perr(ps, line, "[%s] password_file: the password is longer "
		    "than %zu characters", sect, max_password(l));
		return;
	}
	memcpy(l->password, buf, n + 1);
	memset(buf, 0, sizeof(buf));
}

/* "0x0b 69" -> l->reroute[]; -1 (reported) if a word is not a status. */
static void
parse_reroute(struct parse_state *ps, int i)
{
	struct conf_smpp *l = &ps->c->link[i];
	char buf[sizeof(l->reroute_status)], *w, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", l->reroute_status);
	l->nreroute = 0;
	for (w = strtok_r(buf, " \t,", &save); w != NULL;
	    w = strtok_r(NULL, " \t,", &save)) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(w, &end, 0);
		if (*end != '\0' || errno != 0 || v == 0 || v > 0xFFFFFFFFul ||
		    *w == '-') {
			perr(ps, link_key_line(ps, i, "reroute_status"),
			    "[%s] reroute_status: '%s' is not a status code",
			    ps->label[i], w);
			return;
		}
		if (l->nreroute == CONF_MAX_REROUTE) {
			perr(ps, link_key_line(ps, i, "reroute_status"),
			    "[%s] reroute_status: more than %d statuses",
			    ps->label[i], CONF_MAX_REROUTE);
			return;
		}
		l->reroute[l->nreroute++] = (uint32_t)v;
	}
}

static void
link_check(struct parse_state *ps, int i)
{
	struct conf_smpp *l = &ps->c->link[i];

	for (size_t k = 0; k < NLINKKEYS; k++)
		if (link_keys[k].type == CT_STR && link_keys[k].min == 1 &&
		    link_keys[k].def == NULL && !ps->link_seen[i][k])
			perr(ps, l->line, "[%s] %s is required", ps->label[i],
			    link_keys[k].name);
	protocol_check(ps, i);
	if (l->password_file[0] != '\0' && read_secrets)
		read_secret(ps, i);
	if (l->reconnect_max_s < l->reconnect_min_s)
		perr(ps, link_key_line(ps, i, "reconnect_max_s"),
		    "[%s] reconnect_max_s (%d) is below reconnect_min_s (%d)",
		    ps->label[i], l->reconnect_max_s, l->reconnect_min_s);
	parse_reroute(ps, i);
}

/* "21:00-08:00" -> minutes after midnight; "" -> -1 -1 (no quiet hours). */
static int
parse_quiet(const char *s, int *from, int *to)
{
	int h1, m1, h2, m2, n = 0;

	*from = *to = -1;
	if (*s == '\0')
		return 0;
	if (sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 ||
	    s[n] != '\0' || h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59 ||
	    h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0)
		return -1;
	*from = h1 * 60 + m1;
	*to = h2 * 60 + m2;
	return 0;
}

/* The line a key was set on, 0 if it kept its default. */
static int
key_line(const struct parse_state *ps, const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0)
			return ps->seen_line[i];
	return 0;
}

static void
conf_check(struct parse_state *ps)
{
	struct conf *c = ps->c;
	int enabled = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->type == CT_STR && k->min == 1 && !ps->seen_line[i] &&
		    k->def == NULL)
			perr(ps, 0, "[%s] %s is required", k->section, k->name);
	}
	for (int i = 0; i < c->nlinks; i++) {
		link_check(ps, i);
		enabled += c->link[i].enabled;
	}
	if (c->nlinks == 0)
		perr(ps, 0, "no link: an [smpp] section, or one [smsc NAME] "
		    "section per carrier link, is required");
	else if (enabled == 0)
		perr(ps, 0, "every link has enabled = no; at least one link "
		    "is required");
	if (c->locale.country_code[0] == '\0' ||
	    strspn(c->locale.country_code, "0123456789") !=
	    strlen(c->locale.country_code))
		perr(ps, key_line(ps, "locale", "country_code"),
		    "[locale] country_code: '%s' is not 1-4 digits",
		    c->locale.country_code);
	if (c->http.listen[0] != '\0') {
		const char *colon = strrchr(c->http.listen, ':');
		char *end;
		long port = colon != NULL ? strtol(colon + 1, &end, 10) : -1;

		if (colon == NULL || colon == c->http.listen ||
		    colon[1] == '\0' || *end != '\0' || port < 0 ||
		    port > 65535)
			perr(ps, key_line(ps, "http", "listen"),
			    "[http] listen: '%s' is not address:port",
			    c->http.listen);
	}
	if (c->routing.routes[0] != '\0' && c->nlinks > 0) {
		const char *names[CONF_MAX_LINKS];

		for (int i = 0; i < c->nlinks; i++)
			names[i] = c->link[i].name;
		route_free(route_load(c->routing.routes, names, c->nlinks,
		    &ps->e));
	}
	if (parse_quiet(c->notify.quiet_hours, &c->notify.quiet_from,
	    &c->notify.quiet_to) == -1)
		perr(ps, key_line(ps, "notify", "quiet_hours"),
		    "[notify] quiet_hours: '%s' is not HH:MM-HH:MM",
		    c->notify.quiet_hours);
}

static int
conf_run(struct conf *c, const char *name, const char *text, char *errs,
    size_t errlen)
{
	struct parse_state ps;
	char tmp[PATH_MAX];

	memset(c, 0, sizeof(*c));
	memset(&ps, 0, sizeof(ps));
	ps.c = c;
	errlist_init(&ps.e, name, errs, errlen);
	snprintf(c->path, sizeof(c->path), "%s", name);
	snprintf(tmp, sizeof(tmp), "%s", name);
	snprintf(c->dir, sizeof(c->dir), "%s", dirname(tmp));

	conf_defaults(&ps);
	if (inifile_parse(name, text, handler, &ps, &ps.e) == -1)
		return ps.e.count;
	conf_check(&ps);
	return ps.e.count;
}

int
conf_load(struct conf *c, const char *path, char *errs, size_t errlen)
{
	return conf_run(c, path, NULL, errs, errlen);
}

int
conf_load_string(struct conf *c, const char *name, const char *text,
    char *errs, size_t errlen)
{
	return conf_run(c, name, text, errs, errlen);
}

static void
describe_key(FILE *f, const char *sect, const struct conf_key *k)
{
	fprintf(f, "[%s] %s: ", sect, k->name);
	switch (k->type) {
	case CT_INT:
	case CT_BOOL:
		fprintf(f, "integer %ld..%ld", k->min, k->max);
		break;
	case CT_STR:
		fprintf(f, "string, at most %zu characters", k->size - 1);
		break;
	case CT_PATH:
		fprintf(f, "path");
		break;
	case CT_ENUM:
		for (int j = 0; k->names[j] != NULL; j++)
			fprintf(f, "%s%s", j ? "|" : "", k->names[j]);
		break;
	}
	fprintf(f, "; default %s; %s\n", k->def ? k->def : "(required)",
	    k->help);
}

void
conf_describe(FILE *f)
{
	for (size_t i = 0; i < NLINKKEYS; i++)
		describe_key(f, "smsc NAME", &link_keys[i]);
	for (size_t i = 0; i < NKEYS; i++)
		describe_key(f, conf_keys[i].section, &conf_keys[i]);
}
