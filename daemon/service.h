/*
 * Talking to the service manager (systemd's sd_notify protocol, through
 * libsystemd): READY=1 when the store is open and the HTTP listener is up,
 * STATUS= lines with the SMPP bind state, STOPPING=1, and WATCHDOG=1 pings
 * from a timer in the event loop when the unit asks for them. Without a
 * NOTIFY_SOCKET every call is a no-op.
 */
#ifndef DAEMON_SERVICE_H
#define DAEMON_SERVICE_H

struct event_base;

void service_ready(void);
void service_status(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void service_stopping(void);
/* RELOADING=1; service_ready() again when the reload is done. */
void service_reloading(void);
/* Starts WATCHDOG=1 pings at half WatchdogSec if the unit set one. */
int service_watchdog_start(struct event_base *base);
void service_watchdog_stop(void);

#endif
