/*
 * smsgwctl: the operators' tool. Shares smsgwd's config file and database
 * (WAL + busy_timeout make that safe while smsgwd runs). One handler per
 * command; main.c holds the command table, out.c the output (aligned text
 * or one JSON document) and the masking of personal data.
 */
#ifndef TOOLS_CTL_CTL_H
#define TOOLS_CTL_CTL_H

#include <stdint.h>

#include <jansson.h>

#include "daemon/conf.h"
#include "daemon/store.h"

struct ctl {
	const char   *conf_path;
	struct conf   conf;
	struct store *st;           /* opened by ctl_store() on first use */
};

/* Command handlers: argv[0] is the first argument after the command's
 * name. They return the exit status: 0, 1 failure, 2 usage. */
int ctl_import_cases(struct ctl *ctl, int argc, char **argv);
int ctl_case_show(struct ctl *ctl, int argc, char **argv);
int ctl_case_set_status(struct ctl *ctl, int argc, char **argv);
int ctl_messages(struct ctl *ctl, int argc, char **argv);
int ctl_outbox(struct ctl *ctl, int argc, char **argv);
int ctl_stats(struct ctl *ctl, int argc, char **argv);
int ctl_optout_add(struct ctl *ctl, int argc, char **argv);
int ctl_optout_remove(struct ctl *ctl, int argc, char **argv);
int ctl_optout_list(struct ctl *ctl, int argc, char **argv);
int ctl_links(struct ctl *ctl, int argc, char **argv);

/* The database named by the config; NULL after printing why. */
struct store *ctl_store(struct ctl *ctl);

/* "smsgwctl: message" on stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Today's local date as YYYYMMDD (bounds birth dates in ID numbers). */
long ctl_today(void);

/*
 * A command's own options, from a table: a switch sets *flag to 1, an
 * option with a value ("--x V" or "--x=V") sets *value. Everything else is
 * positional, up to maxpos of them. Returns the number of positional
 * arguments, or -1 after saying what was wrong (a usage error).
 */
struct ctl_opt {
	const char  *name;          /* "--courier" */
	const char **value;         /* takes a value, or NULL */
	int         *flag;          /* a switch, or NULL */
};
int ctl_args(int argc, char **argv, const struct ctl_opt *opts,
    char **pos, int maxpos);

/*
 * Prints doc and releases it: with json one JSON document, else aligned
 * text (an array of objects as a table with a header; an object as
 * "key: value" lines, nested keys joined with dots, empty values left
 * out). empty is printed for an empty array in text. Returns 0, or 1 if
 * stdout could not be written.
 */
int ctl_print(json_t *doc, int json, const char *empty);

/* A JSON string of s (NULL -> null); invalid UTF-8 bytes become '?'. */
json_t *ctl_jstr(const char *s);
/* t as an integer in JSON, as local "YYYY-MM-DD HH:MM:SS" in text. */
json_t *ctl_jtime(int64_t t, int json);

/* The number as stored (reveal) or masked in national form, "138****8000". */
void ctl_msisdn(const char *msisdn, const char *cc, int reveal, char *out,
    size_t cap);
/*
 * A message text fit for the operator's screen: every run of 15 or more
 * digits (ASCII or full-width, maybe ending in X) becomes "****" and its
 * last four; with loss set (a citizen's loss report, which carries a
 * name) every word but the leading keyword becomes its first character
 * and "*". Returns a malloc'd string, NULL if out of memory.
 */
char *ctl_mask_text(const char *text, int loss);

#endif
