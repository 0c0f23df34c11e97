/*
 * Logging back end. Foreground lines carry an ISO-8601 UTC timestamp and the
 * level; syslog lines carry neither (journald adds both).
 */
#include "daemon/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

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

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	if (!log_enabled(level))
		return;
	if (log_syslog) {
		vsyslog((int)level, fmt, ap);
		return;
	}
	if (log_journal) {
		fprintf(stderr, "<%d>", (int)level);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%s] ", when, ts.tv_nsec / 1000000,
	    log_ident, level_name(level));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
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
	exit(1);
}
