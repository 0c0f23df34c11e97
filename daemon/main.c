/*
 * smsgwd: the SMS gateway daemon. Parses the command line and the config,
 * runs the event loop in the foreground, and turns signals into loop events.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon/conf.h"
#include "daemon/gateway.h"
#include "daemon/log.h"
#include "daemon/pipeline.h"
#include "daemon/service.h"

#define DEFAULT_CONF "/etc/smsgwd/smsgwd.conf"
#define ERRBUF 8192

struct daemon {
	struct event_base *base;
	struct gateway    *gw;
	struct conf        conf;
	const char        *conf_path;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smsgwd [-c FILE] [--check-config] [-v] [-h] [-V]\n"
	    "  -c, --config FILE   configuration (default " DEFAULT_CONF ")\n"
	    "      --check-config  validate the configuration and exit\n"
	    "      --list-keys     print every configuration key and exit\n"
	    "  -v, --verbose       debug logging\n"
	    "      --syslog        log to syslog (default: stderr, which under\n"
	    "                      systemd is the journal, levels included)\n"
	    "  -V, --version       print the version\n");
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	log_info("signal %d: shutting down", (int)sig);
	service_stopping();
	gateway_stop(d->gw);
}

/* SIGHUP: the new file replaces the old only if all of it parses. */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct conf *fresh = malloc(sizeof(*fresh));
	char *errs = malloc(ERRBUF);

	(void)sig;
	(void)what;
	service_reloading();
	if (fresh == NULL || errs == NULL) {
		log_err("reload: out of memory; keeping the running config");
	} else if (conf_load(fresh, d->conf_path, errs, ERRBUF) != 0) {
		log_err("reload rejected, keeping the running config:");
		for (char *line = strtok(errs, "\n"); line != NULL;
		    line = strtok(NULL, "\n"))
			log_err("%s", line);
	} else {
		gateway_reload(d->gw, fresh);
		d->conf = *fresh;
	}
	service_ready();
	free(fresh);
	free(errs);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "list-keys", no_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	struct event *ev_int, *ev_term, *ev_hup;
	char errs[ERRBUF];
	int ch, check = 0, verbose = 0, use_syslog = 0;

	memset(&d, 0, sizeof(d));
	d.conf_path = DEFAULT_CONF;
	while ((ch = getopt_long(argc, argv, "c:vVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.conf_path = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'L':
			conf_describe(stdout);
			return 0;
		case 'v':
			verbose = 1;
			break;
		case 'S':
			use_syslog = 1;
			break;
		case 'V':
			puts("smsgwd " SMSGWD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("smsgwd", verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO, use_syslog);

	if (conf_load(&d.conf, d.conf_path, errs, sizeof(errs)) != 0) {
		fputs(errs, stderr);
		return 1;
	}
	/* Every pattern and template is compiled here too: a typo is found
	 * before start-up, not when a citizen's text needs it. */
	if (pipeline_check(&d.conf, errs, sizeof(errs)) != 0) {
		fputs(errs, stderr);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK\n", d.conf_path);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	/* Past a file-size limit a write fails (EFBIG) and the batch is
	 * refused for the SMSC to retry, like a full disk, instead of the
	 * signal killing us. */
	signal(SIGXFSZ, SIG_IGN);
	if ((d.base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	if ((d.gw = gateway_new(d.base, &d.conf)) == NULL)
		fatal("cannot set up the gateway");
	ev_int = evsignal_new(d.base, SIGINT, on_term, &d);
	ev_term = evsignal_new(d.base, SIGTERM, on_term, &d);
	ev_hup = evsignal_new(d.base, SIGHUP, on_hup, &d);
	if (ev_int == NULL || ev_term == NULL || ev_hup == NULL ||
	    evsignal_add(ev_int, NULL) == -1 ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_hup, NULL) == -1)
		fatal("cannot install signal handlers");

	log_info("smsgwd %s starting config=%s smsc=%s:%d", SMSGWD_VERSION,
	    d.conf_path, d.conf.link[0].host, d.conf.link[0].port);
	gateway_start(d.gw);
	/* The store is open and the API listening: ready, bound or not (a
	 * carrier outage must not fail the unit). */
	service_status("SMSC %s:%d: connecting", d.conf.link[0].host,
	    d.conf.link[0].port);
	service_ready();
	if (service_watchdog_start(d.base) == -1)
		fatal("cannot start the watchdog");
	/* From here on, info lines of a loop turn go out together. */
	if (log_defer(d.base) == -1)
		fatal("cannot set up logging");
	event_base_dispatch(d.base);
	/* The loop is over: a second SIGTERM (a supervisor, an impatient
	 * operator) must not cut the orderly end short (the outbox mark is
	 * saved below), and once the signal events are freed it would. */
	{
		sigset_t stop;

		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGHUP);
		(void)sigprocmask(SIG_BLOCK, &stop, NULL);
	}
	log_defer(NULL);
	service_watchdog_stop();

	gateway_free(d.gw);
	event_free(ev_int);
	event_free(ev_term);
	event_free(ev_hup);
	event_base_free(d.base);
	log_info("smsgwd stopped");
	return 0;
}
