/*
 * smsc-sim: a carrier SMSC (SMPP 3.4 server side) for tests and demos.
 * Options, the event loop, the listener, and MO texts from --inject and
 * stdin. stdout is JSON event lines, the first always
 * {"event":"listening","port":N}, unless stdin is a terminal: then it is
 * phone lines for a person (human.c), and --json brings the JSON back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "proto/reasm.h"
#include "tools/sim/sim.h"

#define REASM_SETS       4096
#define REASM_TIMEOUT_MS 120000
#define FIRST_MSGID      0xA0000000u   /* hex form starts with a letter */

void
sim_log(const char *fmt, ...)
{
	va_list ap;

	fputs("smsc-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t
sim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --exit-after-messages: leave a moment for the last responses to go out. */
void
sim_message_done(struct sim *s)
{
	struct timeval tv = { 0, 200000 };

	if (++s->messages == s->opt.exit_after)
		event_base_loopexit(s->base, &tv);
}

/* Option parsers for values that are not plain numbers or strings. */
static int
set_mo_long(struct sim_opts *o, const char *v, char *err, size_t errlen)
{
	static const struct { const char *name; enum seg_mode m; } t[] = {
		{ "udh", SEG_UDH }, { "sar", SEG_SAR }, { "payload", SEG_PAYLOAD },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(v, t[i].name) == 0) {
			o->mo_long = t[i].m;
			return 0;
		}
	snprintf(err, errlen, "expected udh, sar or payload");
	return -1;
}

static int
set_dlr_stat(struct sim_opts *o, const char *v, char *err, size_t errlen)
{
	if ((o->dlr_state = dlr_state_from_stat(v)) == DLR_UNKNOWN_STATE) {
		snprintf(err, errlen, "expected DELIVRD, UNDELIV, EXPIRED, "
		    "DELETED, REJECTD, ACCEPTD, ENROUTE or UNKNOWN");
		return -1;
	}
	return 0;
}

static int
set_msgid(struct sim_opts *o, const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "hex") != 0 && strcmp(v, "dec") != 0) {
		snprintf(err, errlen, "expected hex or dec");
		return -1;
	}
	o->msgid_dec = strcmp(v, "dec") == 0;
	return 0;
}

static int
frac_ppm(const char *v, uint32_t *ppm, char *err, size_t errlen)
{
	char *end;
	double f;

	errno = 0;
	f = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !(f >= 0 && f <= 1)) {
		snprintf(err, errlen, "expected a fraction between 0 and 1");
		return -1;
	}
	*ppm = (uint32_t)(f * 1e6 + 0.5);
	return 0;
}

static int
set_throttle(struct sim_opts *o, const char *v, char *err, size_t errlen)
{
	return frac_ppm(v, &o->throttle_ppm, err, errlen);
}

static int
set_msgqfull(struct sim_opts *o, const char *v, char *err, size_t errlen)
{
	return frac_ppm(v, &o->msgqfull_ppm, err, errlen);
}

/* PREFIX:STATUS, the status hex (0x0B) or decimal, one SMPP knows. */
static int
set_refuse(struct sim_opts *o, const char *v, char *err, size_t errlen)
{
	const char *colon = strrchr(v, ':'), *name;
	struct sim_refuse *r;
	unsigned long st;
	char *end;
	size_t n;

	if (o->nrefuse == SIM_REFUSE_MAX) {
		snprintf(err, errlen, "at most %d prefixes", SIM_REFUSE_MAX);
		return -1;
	}
	if (colon == NULL || (n = (size_t)(colon - v)) == 0 ||
	    n >= sizeof(r->prefix) || strspn(v, "0123456789") != n) {
		snprintf(err, errlen, "expected DIGITS:STATUS");
		return -1;
	}
	errno = 0;
	st = strtoul(colon + 1, &end, 0);
	name = pdu_status_name((uint32_t)st);
	if (errno != 0 || end == colon + 1 || *end != '\0' || st == 0 ||
	    st > 0xFFFFFFFFul || strcmp(name, "ESME_UNKNOWN_STATUS") == 0 ||
	    strcmp(name, "ESME_VENDOR_SPECIFIC") == 0) {
		snprintf(err, errlen, "expected an SMPP 3.4 error status "
		    "(0x0B or 11)");
		return -1;
	}
	r = &o->refuse[o->nrefuse++];
	memcpy(r->prefix, v, n);
	r->prefix[n] = '\0';
	r->status = (uint32_t)st;
	return 0;
}

static int
set_protocol(struct sim_opts *o, const char *v, char *err, size_t errlen)
{
	static const struct { const char *name; enum sim_proto p; } t[] = {
		{ "smpp", SIM_SMPP }, { "cmpp30", SIM_CMPP30 },
		{ "cmpp20", SIM_CMPP20 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(v, t[i].name) == 0) {
			o->protocol = t[i].p;
			return 0;
		}
	snprintf(err, errlen, "expected smpp, cmpp30 or cmpp20");
	return -1;
}

/* N[:FRAC]: a SUBMIT_RESP Result (1-255) for this fraction (1) of submits. */
static int
set_cmpp_result(struct sim_opts *o, const char *v, char *err, size_t errlen)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || n < 1 || n > 255 ||
	    (*end != '\0' && *end != ':')) {
		snprintf(err, errlen, "expected a Result 1-255, then :FRAC");
		return -1;
	}
	o->cmpp_result = (uint32_t)n;
	o->cmpp_result_ppm = 1000000;
	return *end == ':' ? frac_ppm(end + 1, &o->cmpp_result_ppm, err,
	    errlen) : 0;
}

enum optkind { K_FLAG, K_NUM, K_STR, K_FN };

static const struct optdef {
	const char  *name, *arg, *help;
	enum optkind kind;
	size_t       off, size;
	long         min, max;
	int        (*fn)(struct sim_opts *, const char *, char *, size_t);
} optdefs[] = {
#define OFF(f) offsetof(struct sim_opts, f)
#define SZ(f)  sizeof(((struct sim_opts *)0)->f)
	{ "listen", "HOST:PORT", "listen address (127.0.0.1:2775; port 0 = any)",
	    K_STR, OFF(listen), SZ(listen), 0, 0, NULL },
	{ "protocol", "smpp|cmpp30|cmpp20", "what the listener speaks (smpp)",
	    K_FN, 0, 0, 0, 0, set_protocol },
	{ "system-id", "ID", "system_id ESMEs must bind with; CMPP: the SP_Id "
	    "(smsgwd)", K_STR, OFF(system_id), SZ(system_id), 0, 0, NULL },
	{ "password", "PW", "bind password; CMPP: the shared secret (secret)",
	    K_STR, OFF(password), SZ(password), 0, 0, NULL },
	{ "inject", "FILE", "MO texts, lines '<phone> <text>'",
	    K_STR, OFF(inject), SZ(inject), 0, 0, NULL },
	{ "no-stdin", NULL, "do not read MO texts from stdin",
	    K_FLAG, OFF(no_stdin), 0, 0, 0, NULL },
	{ "json", NULL, "JSON event lines even when stdin is a terminal",
	    K_FLAG, OFF(json), 0, 0, 0, NULL },
	{ "short-code", "CODE", "destination_addr of MO texts (10659000)",
	    K_STR, OFF(short_code), SZ(short_code), 0, 0, NULL },
	{ "mo-long", "udh|sar|payload", "how long MO texts are split (udh)",
	    K_FN, 0, 0, 0, 0, set_mo_long },
	{ "mo-gbk", NULL, "CMPP: non-ASCII MO texts as Msg_Fmt 15 (GB18030)",
	    K_FLAG, OFF(mo_gbk), 0, 0, 0, NULL },
	{ "mo-udh16", NULL, "CMPP: long MO texts with a 16-bit reference UDH",
	    K_FLAG, OFF(mo_udh16), 0, 0, 0, NULL },
	{ "mo-window", "W", "unacknowledged deliver_sm per link (10)",
	    K_NUM, OFF(mo_window), 0, 1, 100000, NULL },
	{ "mo-retry-ms", "N", "redeliver after an error resp after N ms (1000)",
	    K_NUM, OFF(mo_retry_ms), 0, 0, 3600000, NULL },
	{ "dlr", NULL, "send receipts for registered_delivery submits",
	    K_FLAG, OFF(dlr), 0, 0, 0, NULL },
	{ "dlr-stat", "STAT", "receipt stat (DELIVRD)",
	    K_FN, 0, 0, 0, 0, set_dlr_stat },
	{ "dlr-id-other-form", NULL, "receipt text quotes the id in the other base",
	    K_FLAG, OFF(dlr_other_form), 0, 0, 0, NULL },
	{ "dlr-no-tlv", NULL, "receipts carry the text form only",
	    K_FLAG, OFF(dlr_no_tlv), 0, 0, 0, NULL },
	{ "msgid", "hex|dec", "message id format in submit_sm_resp (hex)",
	    K_FN, 0, 0, 0, 0, set_msgid },
	{ "drop-after", "K", "close a link after it has received K PDUs",
	    K_NUM, OFF(drop_after), 0, 1, LONG_MAX, NULL },
	{ "drop-once", NULL, "--drop-after applies to one link only",
	    K_FLAG, OFF(drop_once), 0, 0, 0, NULL },
	{ "throttle", "FRAC", "answer this fraction of submits ESME_RTHROTTLED",
	    K_FN, 0, 0, 0, 0, set_throttle },
	{ "msgqfull", "FRAC", "answer this fraction of submits ESME_RMSGQFUL "
	    "(at random, seeded)", K_FN, 0, 0, 0, 0, set_msgqfull },
	{ "refuse-prefix", "DIGITS:STATUS", "answer submits whose "
	    "destination_addr starts with DIGITS with STATUS (0x0B = "
	    "ESME_RINVDSTADR); repeatable",
	    K_FN, 0, 0, 0, 0, set_refuse },
	{ "cmpp-result", "N[:FRAC]", "CMPP: answer this fraction (1) of "
	    "submits with SUBMIT_RESP Result N (9, 13, ...)",
	    K_FN, 0, 0, 0, 0, set_cmpp_result },
	{ "delay-ms", "N", "delay every response by N ms",
	    K_NUM, OFF(delay_ms), 0, 0, 600000, NULL },
	{ "no-resp", NULL, "never answer submit_sm",
	    K_FLAG, OFF(no_resp), 0, 0, 0, NULL },
	{ "max-tps", "N", "submits beyond N per second are throttled",
	    K_NUM, OFF(max_tps), 0, 1, 1000000000, NULL },
	{ "enquire-link", "S", "send enquire_link every S seconds when bound",
	    K_NUM, OFF(enquire_link_s), 0, 1, 86400, NULL },
	{ "exit-after-messages", "N", "exit after N whole submitted messages",
	    K_NUM, OFF(exit_after), 0, 1, LONG_MAX, NULL },
	{ "load", "N", "benchmark: send N texts once an ESME binds, then exit",
	    K_NUM, OFF(load), 0, 1, 100000000, NULL },
	{ "load-window", "W", "--load: unacknowledged deliver_sm at most (64)",
	    K_NUM, OFF(load_window), 0, 1, 100000, NULL },
	{ "load-rate", "R", "--load: texts per second (as fast as the window)",
	    K_NUM, OFF(load_rate), 0, 1, 10000000, NULL },
	{ "load-cases", "FILE", "--load: CSV of key,msisdn (receipt or ID)",
	    K_STR, OFF(load_cases), SZ(load_cases), 0, 0, NULL },
#undef OFF
#undef SZ
};

#define NOPTS (sizeof(optdefs) / sizeof(optdefs[0]))

static void
usage(FILE *f)
{
	char left[64];

	fprintf(f, "usage: smsc-sim [options]\n");
	for (size_t i = 0; i < NOPTS; i++) {
		snprintf(left, sizeof(left), "--%s%s%s", optdefs[i].name,
		    optdefs[i].arg ? " " : "",
		    optdefs[i].arg ? optdefs[i].arg : "");
		fprintf(f, "  %-32s %s\n", left, optdefs[i].help);
	}
	fprintf(f, "  --help\n");
}

static int
set_option(struct sim_opts *o, const struct optdef *d, const char *v,
    char *err, size_t errlen)
{
	char *field = (char *)o + d->off, *end;
	long n;

	switch (d->kind) {
	case K_FLAG:
		*(bool *)(void *)field = true;
		return 0;
	case K_STR:
		if (strlen(v) >= d->size) {
			snprintf(err, errlen, "longer than %zu characters",
			    d->size - 1);
			return -1;
		}
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case K_NUM:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < d->min ||
		    n > d->max) {
			snprintf(err, errlen, "expected an integer in [%ld, %ld]",
			    d->min, d->max);
			return -1;
		}
		*(long *)(void *)field = n;
		return 0;
	case K_FN:
		return d->fn(o, v, err, errlen);
	}
	return -1;
}

static int
parse_options(int argc, char **argv, struct sim_opts *o)
{
	struct option lo[NOPTS + 2];
	char err[160];
	int c, i;

	memset(o, 0, sizeof(*o));
	snprintf(o->listen, sizeof(o->listen), "127.0.0.1:2775");
	snprintf(o->system_id, sizeof(o->system_id), "smsgwd");
	snprintf(o->password, sizeof(o->password), "secret");
	snprintf(o->short_code, sizeof(o->short_code), "10659000");
	o->mo_long = SEG_UDH;
	o->dlr_state = DLR_DELIVERED;
	o->mo_window = 10;
	o->mo_retry_ms = 1000;
	o->load_window = 64;

	for (i = 0; i < (int)NOPTS; i++) {
		lo[i].name = optdefs[i].name;
		lo[i].has_arg = optdefs[i].arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = 256 + i;
	}
	lo[i] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[i + 1] = (struct option){ NULL, 0, NULL, 0 };

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c < 256 || c >= 256 + (int)NOPTS) {
			usage(stderr);
			return -1;
		}
		if (set_option(o, &optdefs[c - 256], optarg, err,
		    sizeof(err)) == -1) {
			sim_log("--%s %s: %s", optdefs[c - 256].name, optarg, err);
			return -1;
		}
	}
	if (optind < argc) {
		sim_log("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (o->protocol == SIM_SMPP && strlen(o->password) > 8) {
		sim_log("--password %s: longer than 8 characters", o->password);
		return -1;
	}
	if (o->protocol != SIM_SMPP && strlen(o->system_id) > 6) {
		sim_log("--system-id %s: an SP_Id has 6 characters at most",
		    o->system_id);
		return -1;
	}
	if (o->load > 0 && o->load_cases[0] == '\0') {
		sim_log("--load needs --load-cases FILE");
		return -1;
	}
	return 0;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)sa;
	char host[INET_ADDRSTRLEN] = "?", peer[64];

	(void)l;
	if (salen >= (int)sizeof(*sin))
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
	snprintf(peer, sizeof(peer), "%s:%u", host, ntohs(sin->sin_port));
	if (sim_conn_accept(arg, fd, peer) == -1) {
		sim_log("cannot set up a connection from %s", peer);
		close(fd);
	}
}

static int
start_listener(struct sim *s)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char host[64], *colon, *end;
	unsigned long port;
	struct sim_json j;

	snprintf(host, sizeof(host), "%s", s->opt.listen);
	colon = strrchr(host, ':');
	if (colon == NULL) {
		sim_log("--listen %s: expected HOST:PORT", s->opt.listen);
		return -1;
	}
	*colon = '\0';
	port = strtoul(colon + 1, &end, 10);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (*end != '\0' || end == colon + 1 || port > 65535 ||
	    inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		sim_log("--listen %s: expected IPv4:PORT", s->opt.listen);
		return -1;
	}
	sin.sin_port = htons((uint16_t)port);
	s->listener = evconnlistener_new_bind(s->base, accept_cb, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (s->listener == NULL) {
		sim_log("cannot listen on %s: %s", s->opt.listen,
		    strerror(errno));
		return -1;
	}
	if (getsockname(evconnlistener_get_fd(s->listener),
	    (struct sockaddr *)&sin, &len) == -1) {
		sim_log("getsockname: %s", strerror(errno));
		return -1;
	}
	sim_json_begin(&j, "listening");
	sim_json_int(&j, "port", ntohs(sin.sin_port));
	if (s->opt.protocol != SIM_SMPP)
		sim_json_str(&j, "protocol", sim_cmpp_name(s));
	sim_json_end(&j);
	sim_human_listening(s, host, ntohs(sin.sin_port));
	return 0;
}

static void
add_line(struct sim *s, const char *line, size_t len, const char *where)
{
	char err[160];

	if (sim_mo_add_line(s, line, len, err, sizeof(err)) == -1)
		sim_log("%s: %s", where, err);
}

static int
load_inject(struct sim *s)
{
	char *line = NULL, where[4200];
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	FILE *f;

	if (s->opt.inject[0] == '\0')
		return 0;
	if ((f = fopen(s->opt.inject, "r")) == NULL) {
		sim_log("%s: %s", s->opt.inject, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		snprintf(where, sizeof(where), "%s:%ld", s->opt.inject, ++lineno);
		add_line(s, line, (size_t)n, where);
	}
	free(line);
	fclose(f);
	return 0;
}

static void
stdin_lines(struct sim *s, bool eof)
{
	size_t n;
	char *line;

	while ((line = evbuffer_readln(s->stdin_buf, &n,
	    EVBUFFER_EOL_LF)) != NULL) {
		add_line(s, line, n, "stdin");
		free(line);
	}
	/* A last line without a newline still counts at EOF. */
	if (eof && (n = evbuffer_get_length(s->stdin_buf)) > 0) {
		line = (char *)evbuffer_pullup(s->stdin_buf, -1);
		add_line(s, line, n, "stdin");
		evbuffer_drain(s->stdin_buf, n);
	}
}

/* Returns false at EOF or error: stdin is done, the simulator is not. */
static bool
read_stdin(struct sim *s)
{
	char buf[4096];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n > 0 && evbuffer_add(s->stdin_buf, buf, (size_t)n) == 0) {
		stdin_lines(s, false);
		return true;
	}
	if (n < 0)
		sim_log("stdin: %s", strerror(errno));
	stdin_lines(s, true);
	return false;
}

static void
stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim *s = arg;

	(void)fd;
	(void)what;
	if (!read_stdin(s))
		event_del(s->ev_stdin);
}

/*
 * Pipes, sockets and terminals are polled. A regular file or /dev/null
 * cannot be (epoll refuses them) and never blocks, so it is read at once.
 */
static int
start_stdin(struct sim *s)
{
	struct stat st;

	if (s->opt.no_stdin)
		return 0;
	if ((s->stdin_buf = evbuffer_new()) == NULL)
		return -1;
	if (fstat(STDIN_FILENO, &st) == -1)
		return 0;
	if (S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) &&
	    !isatty(STDIN_FILENO))) {
		while (read_stdin(s))
			;
		return 0;
	}
	s->ev_stdin = event_new(s->base, STDIN_FILENO, EV_READ | EV_PERSIST,
	    stdin_cb, s);
	if (s->ev_stdin == NULL || event_add(s->ev_stdin, NULL) == -1) {
		sim_log("cannot watch stdin");
		return -1;
	}
	return 0;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sim *s = arg;

	(void)what;
	sim_log("%s: exiting", sig == SIGINT ? "SIGINT" : "SIGTERM");
	event_base_loopbreak(s->base);
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sim_conn_reap(arg);
}

static void
free_event(struct event *ev)
{
	if (ev != NULL)
		event_free(ev);
}

static void
sim_free(struct sim *s)
{
	s->stopping = true;
	while (!TAILQ_EMPTY(&s->conns))
		sim_conn_close(TAILQ_FIRST(&s->conns), "shutdown");
	sim_conn_reap(s);
	sim_mo_free_list(&s->mo_queue);
	sim_load_free(s->load);
	sim_human_free(s);
	if (s->listener != NULL)
		evconnlistener_free(s->listener);
	free_event(s->ev_sigint);
	free_event(s->ev_sigterm);
	free_event(s->ev_stdin);
	free_event(s->ev_reap);
	free_event(s->ev_mo_retry);
	if (s->stdin_buf != NULL)
		evbuffer_free(s->stdin_buf);
	if (s->reasm != NULL)
		reasm_free(s->reasm);
	if (s->base != NULL)
		event_base_free(s->base);
}

int
main(int argc, char **argv)
{
	struct sim s;
	int rc = 1;

	memset(&s, 0, sizeof(s));
	TAILQ_INIT(&s.conns);
	TAILQ_INIT(&s.dead);
	TAILQ_INIT(&s.mo_queue);
	TAILQ_INIT(&s.owed);
	s.next_msgid = FIRST_MSGID;
	s.mo_ref = 1;
	if (parse_options(argc, argv, &s.opt) == -1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	/* A person typing texts reads phone lines; programs read JSON
	 * (their stdin is a pipe, a file or /dev/null), --load always. */
	sim_human = !s.opt.json && s.opt.load == 0 && isatty(STDIN_FILENO);

	if ((s.base = event_base_new()) == NULL ||
	    (s.reasm = reasm_new(REASM_SETS, REASM_TIMEOUT_MS)) == NULL ||
	    (s.ev_reap = event_new(s.base, -1, 0, reap_cb, &s)) == NULL ||
	    sim_mo_init(&s) == -1 ||
	    (s.ev_sigint = evsignal_new(s.base, SIGINT, signal_cb, &s)) == NULL ||
	    (s.ev_sigterm = evsignal_new(s.base, SIGTERM, signal_cb, &s)) == NULL ||
	    event_add(s.ev_sigint, NULL) == -1 ||
	    event_add(s.ev_sigterm, NULL) == -1) {
		sim_log("cannot set up the event loop");
		goto out;
	}
	if (s.opt.load > 0) {
		sim_json_quiet = true;
		if ((s.load = sim_load_new(&s)) == NULL) {
			sim_log("cannot set up --load");
			goto out;
		}
	}
	if (start_listener(&s) == -1 || load_inject(&s) == -1 ||
	    start_stdin(&s) == -1)
		goto out;
	if (event_base_dispatch(s.base) == -1) {
		sim_log("event loop failed");
		goto out;
	}
	rc = 0;
out:
	sim_free(&s);
	libevent_global_shutdown();
	return rc;
}
