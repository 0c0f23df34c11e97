/*
 * smsgwctl: options, the command table and dispatch. A command's name may
 * be two words ("case show"); its handler gets the arguments after it.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/ctl/ctl.h"

#define DEFAULT_CONF "/etc/smsgwd/smsgwd.conf"
#define ERRBUF       8192

static const struct command {
	const char *name;
	const char *args;
	const char *help;
	int       (*run)(struct ctl *, int, char **);
} commands[] = {
	{ "import-cases", "FILE.csv [--notify] [--json]",
	  "import or update cases from a CSV file, all or nothing; with "
	  "--notify, status changes queue notifications",
	  ctl_import_cases },
	{ "case show", "KEY [--reveal] [--json]",
	  "show a case by receipt number or ID number (the latest)",
	  ctl_case_show },
	{ "case set-status", "RECEIPT STATUS [--courier C] [--tracking T] "
	  "[--place P] [--reason R] [--appointment TEXT] [--json]",
	  "change a case's status and details; a change citizens are told "
	  "about queues one notification",
	  ctl_case_set_status },
	{ "messages", "[--msisdn N] [--limit N] [--reveal] [--json]",
	  "the message log, newest first (default 20)",
	  ctl_messages },
	{ "outbox", "[--state S] [--limit N] [--reveal] [--json]",
	  "outgoing messages not yet final (queued, submitted), or in state S",
	  ctl_outbox },
	{ "links", "[--json]",
	  "each carrier link: state, bind, window in use, learned rate, "
	  "messages queued for it, last error, time bound",
	  ctl_links },
	{ "stats", "[--json]",
	  "counts of cases, outbox states, messages, loss reports, opt-outs",
	  ctl_stats },
	{ "optout add", "MSISDN [--reveal] [--json]",
	  "stop notifications to a phone number (replies still go out)",
	  ctl_optout_add },
	{ "optout remove", "MSISDN [--reveal] [--json]",
	  "resume notifications to a phone number",
	  ctl_optout_remove },
	{ "optout list", "[--reveal] [--json]",
	  "the phone numbers that get no notifications",
	  ctl_optout_list },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void
ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("smsgwctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

long
ctl_today(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL)
		return 0;
	return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
}

struct store *
ctl_store(struct ctl *ctl)
{
	char err[512];

	if (ctl->st == NULL &&
	    (ctl->st = store_open(ctl->conf.store.path, err,
	    sizeof(err))) == NULL)
		ctl_err("%s", err);
	return ctl->st;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smsgwctl [-c FILE] COMMAND [ARGS]\n"
	    "  -c, --config FILE   configuration (default " DEFAULT_CONF ")\n"
	    "  -h, --help          this help\n"
	    "  -V, --version       print the version\n"
	    "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s %s\n      %s\n", commands[i].name,
		    commands[i].args, commands[i].help);
}

/* How many words of argv the command's name takes, or 0 if not this one. */
static int
match(const char *name, int argc, char **argv)
{
	int words = 0;
	size_t n;

	while (*name != '\0') {
		n = strcspn(name, " ");
		if (words == argc || strlen(argv[words]) != n ||
		    strncmp(argv[words], name, n) != 0)
			return 0;
		words++;
		name += n;
		name += strspn(name, " ");
	}
	return words;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct ctl ctl;
	const struct command *cmd = NULL;
	char errs[ERRBUF];
	int ch, words = 0, rc;

	ctl.conf_path = DEFAULT_CONF;
	/* "+": options end at the command; its own options are its own. */
	while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			ctl.conf_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("smsgwctl " SMSGWD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	for (size_t i = 0; i < NCOMMANDS && cmd == NULL; i++)
		if ((words = match(commands[i].name, argc, argv)) > 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		if (argc > 0)
			ctl_err("unknown command '%s'", argv[0]);
		usage(stderr);
		return 2;
	}
	for (int i = words; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: smsgwctl [-c FILE] %s %s\n  %s\n",
			    cmd->name, cmd->args, cmd->help);
			return 0;
		}

	/* The bind password is the daemon's alone (and a systemd credential
	 * only exists while the service runs). */
	conf_read_secrets(0);
	if (conf_load(&ctl.conf, ctl.conf_path, errs, sizeof(errs)) != 0) {
		fputs(errs, stderr);
		return 1;
	}
	rc = cmd->run(&ctl, argc - words, argv + words);
	if (rc == 2)
		fprintf(stderr, "usage: smsgwctl [-c FILE] %s %s\n", cmd->name,
		    cmd->args);
	store_close(ctl.st);
	return rc;
}
