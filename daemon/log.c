/*
 * Logging back end. Foreground lines carry an ISO-8601 UTC timestamp and the
 * level; syslog lines carry neither (journald adds both).
 */
#include "daemon/log.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

static const char *log_ident = "smsgwd";
static enum log_level log_level = LOG_LVL_INFO;
static int log_syslog;
static int log_journal;    /* stderr is journald's: "<N>" prefixes */

/* systemd sets JOURNAL_STREAM to the device:inode of the stream it gave
 * us; if stderr is still that stream, journald adds time and reads the
 * level from a "<N>" prefix. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident, enum log_level level, int to_syslog)
{
	log_ident = ident;
	log_level = level;
	log_syslog = to_syslog;
	log_journal = !to_syslog && stderr_is_journal();
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_enabled(enum log_level level)
{
	return level <= log_level;
}

static const char *
level_name(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERR:   return "error";
	case LOG_LVL_WARN:  return "warn";
	case LOG_LVL_INFO:  return "info";
	case LOG_LVL_DEBUG: return "debug";
	}
	return "?";
}

/*
 * Output. Every line is formatted whole and written with one write(), so
 * lines never interleave. Inside the event loop (log_defer) lines of one
 * loop turn are gathered and written together by an event that runs at the
 * end of that same turn: a text costs no system call of its own, and a
 * line waits at most for the turn that logged it. Errors and warnings, and
 * everything outside the loop, are written at once.
 */
#define LOG_LINE_MAX 8192
#define LOG_BUF_MAX  (64 * 1024)

static char          log_buf[LOG_BUF_MAX];
static size_t        log_len;
static struct event *log_ev;
static int           log_ev_pending;

static void
out_write(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;              /* nowhere left to say it */
		}
		s += w;
		n -= (size_t)w;
	}
}

void
log_flush(void)
{
	if (log_len > 0) {
		out_write(log_buf, log_len);
		log_len = 0;
	}
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_ev_pending = 0;
	log_flush();
}

int
log_defer(struct event_base *base)
{
	log_flush();
	if (log_ev != NULL) {
		event_free(log_ev);
		log_ev = NULL;
		log_ev_pending = 0;
	}
	if (base != NULL && (log_ev = event_new(base, -1, 0, flush_cb,
	    NULL)) == NULL)
		return -1;
	return 0;
}

static void
emit(const char *line, size_t n, int urgent)
{
	if (log_ev == NULL || urgent) {
		log_flush();
		out_write(line, n);
		return;
	}
	if (log_len + n > LOG_BUF_MAX)
		log_flush();
	memcpy(log_buf + log_len, line, n);
	log_len += n;
	if (!log_ev_pending) {
		log_ev_pending = 1;
		event_active(log_ev, EV_TIMEOUT, 0);
	}
}

/* "2026-11-21T10:00:00", formatted once a second. */
static const char *
stamp(time_t sec)
{
	static time_t last = (time_t)-1;
	static char when[32];
	struct tm tm;

	if (sec != last) {
		gmtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		last = sec;
	}
	return when;
}

/* Appends k bytes of s at out[n] as vsnprintf would (cut to cap - 1);
 * returns the length the whole would have. */
static size_t
put(char *out, size_t cap, size_t n, const char *s, size_t k)
{
	if (n + 1 < cap)
		memcpy(out + n, s, n + k < cap ? k : cap - 1 - n);
	return n + k;
}

static size_t
put_u(char *out, size_t cap, size_t n, unsigned long long v, int neg)
{
	char d[24];
	size_t i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (neg)
		d[--i] = '-';
	return put(out, cap, n, d + i, sizeof(d) - i);
}

/* 1 if fmt has only %s, %c, %%, and %d, %i, %u with no length, l or ll
 * (or %zu): what log_format does by hand. */
static int
simple_format(const char *fmt)
{
	for (const char *p = fmt; (p = strchr(p, '%')) != NULL; ) {
		p++;
		if (*p == '%' || *p == 's' || *p == 'c') {
			p++;
			continue;
		}
		if (p[0] == 'z' && p[1] == 'u') {
			p += 2;
			continue;
		}
		if (p[0] == 'l' && p[1] == 'l')
			p += 2;
		else if (p[0] == 'l')
			p++;
		if (*p != 'd' && *p != 'i' && *p != 'u')
			return 0;
		p++;
	}
	return 1;
}

int
log_format(char *out, size_t cap, const char *fmt, va_list ap)
{
	const char *s;
	size_t n = 0;

	if (!simple_format(fmt))
		return vsnprintf(out, cap, fmt, ap);
	for (const char *p = fmt; *p != '\0'; p++) {
		long long v;
		int l = 0;
		char c;

		if (*p != '%') {
			for (s = p; p[1] != '\0' && p[1] != '%'; p++)
				;
			n = put(out, cap, n, s, (size_t)(p - s) + 1);
			continue;
		}
		for (p++; *p == 'l'; p++)
			l++;
		if (*p == 'z') {
			p++;
			n = put_u(out, cap, n, va_arg(ap, size_t), 0);
			continue;
		}
		switch (*p) {
		case '%':
			n = put(out, cap, n, "%", 1);
			break;
		case 's':
			if ((s = va_arg(ap, const char *)) == NULL)
				s = "(null)";
			n = put(out, cap, n, s, strlen(s));
			break;
		case 'c':
			c = (char)va_arg(ap, int);
			n = put(out, cap, n, &c, 1);
			break;
		case 'u':
			n = put_u(out, cap, n, l == 2 ?
			    va_arg(ap, unsigned long long) : l == 1 ?
			    va_arg(ap, unsigned long) : va_arg(ap, unsigned), 0);
			break;
		default:                     /* d, i */
			v = l == 2 ? va_arg(ap, long long) : l == 1 ?
			    va_arg(ap, long) : va_arg(ap, int);
			n = put_u(out, cap, n, v < 0 ?
			    0ull - (unsigned long long)v : (unsigned long long)v,
			    v < 0);
			break;
		}
	}
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	return n > INT_MAX ? INT_MAX : (int)n;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	int n = 0, m;

	if (!log_enabled(level))
		return;
	if (log_syslog) {
		vsyslog((int)level, fmt, ap);
		return;
	}
	/* The prefix by hand: snprintf was a third of a line's cost. */
	if (log_journal) {
		line[n++] = '<';
		line[n++] = (char)('0' + (int)level % 10);
		line[n++] = '>';
	} else {
		long ms;

		clock_gettime(CLOCK_REALTIME, &ts);
		ms = ts.tv_nsec / 1000000;
		n = (int)(stpcpy(line, stamp(ts.tv_sec)) - line);
		line[n++] = '.';
		line[n++] = (char)('0' + ms / 100);
		line[n++] = (char)('0' + ms / 10 % 10);
		line[n++] = (char)('0' + ms % 10);
		line[n++] = 'Z';
		line[n++] = ' ';
		/* The ident is a short program name; cut, never overrun. */
		for (const char *p = log_ident; *p != '\0' && n < 64; p++)
			line[n++] = *p;
		line[n++] = '[';
		n = (int)(stpcpy(line + n, level_name(level)) - line);
		line[n++] = ']';
		line[n++] = ' ';
	}
	m = log_format(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	if ((size_t)(n + m) >= sizeof(line) - 1) {
		/* Cut long lines, and say so. */
		static const char cut[] = "...(cut)";

		n = (int)sizeof(line) - 1 - (int)sizeof(cut);
		memcpy(line + n, cut, sizeof(cut) - 1);
		n += (int)sizeof(cut) - 1;
	} else {
		n += m;
	}
	line[n++] = '\n';
	emit(line, (size_t)n, level <= LOG_LVL_WARN);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	log_flush();
	exit(1);
}
