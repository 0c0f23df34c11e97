/*
 * smsgwctl: the operators' tool. Shares smsgwd's config file and database
 * (WAL + busy_timeout make that safe while smsgwd runs). One handler per
 * command; main.c holds the command table.
 */
#ifndef TOOLS_CTL_CTL_H
#define TOOLS_CTL_CTL_H

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

/* The database named by the config; NULL after printing why. */
struct store *ctl_store(struct ctl *ctl);

/* "smsgwctl: message" on stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Today's local date as YYYYMMDD (bounds birth dates in ID numbers). */
long ctl_today(void);

#endif
