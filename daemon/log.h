/*
 * Logging: one line per event in key=value form, to stderr in the
 * foreground (with a timestamp) or to syslog. Levels as syslog's.
 */
#ifndef DAEMON_LOG_H
#define DAEMON_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6,
    LOG_LVL_DEBUG = 7 };

/* ident names the program; to_syslog 0 logs to stderr. */
void log_init(const char *ident, enum log_level level, int to_syslog);
void log_set_level(enum log_level level);
int  log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_enabled(LOG_LVL_DEBUG))            \
	log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

/*
 * Inside base's loop, info and debug lines are gathered and written at the
 * end of the loop turn that logged them (one write() for the turn); errors
 * and warnings flush at once. log_defer(NULL) flushes and goes back to
 * writing every line at once: call it before freeing base.
 */
/* vsnprintf for log lines: %s, %c, %% and %d %i %u (no length, l, ll;
 * %zu) by hand, anything else by vsnprintf itself. Same result, same
 * return value. */
int log_format(char *out, size_t cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

struct event_base;
int  log_defer(struct event_base *base);
void log_flush(void);

/* Start-up failures and out-of-memory only: logs and exits 1. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
