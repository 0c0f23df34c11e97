/* sd_notify wrapper (see service.h). */
#include "daemon/service.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "daemon/log.h"

static struct event *watchdog;

void
service_ready(void)
{
	(void)sd_notify(0, "READY=1");
}

void
service_status(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)sd_notifyf(0, "STATUS=%s", buf);
}

void
service_reloading(void)
{
	(void)sd_notify(0, "RELOADING=1");
}

void
service_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}

/* The ping comes from the loop itself: a loop that stalls stops pinging
 * and systemd restarts us, which is the point. */
static void
ping(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	(void)sd_notify(0, "WATCHDOG=1");
}

int
service_watchdog_start(struct event_base *base)
{
	uint64_t usec = 0;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((watchdog = event_new(base, -1, EV_PERSIST, ping, NULL)) == NULL ||
	    event_add(watchdog, &tv) == -1) {
		log_err("watchdog: cannot start the ping timer");
		return -1;
	}
	log_info("watchdog: pinging every %llu ms",
	    (unsigned long long)usec / 1000);
	ping(-1, 0, NULL);
	return 0;
}

void
service_watchdog_stop(void)
{
	if (watchdog != NULL) {
		event_free(watchdog);
		watchdog = NULL;
	}
}
