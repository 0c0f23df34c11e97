/*
 * Counters, gauges and histograms for GET /metrics (Prometheus text
 * exposition format 0.0.4). One process-wide registry: the daemon is one
 * thread, and every metric is a row in the table in metrics.c.
 */
#ifndef DAEMON_METRICS_H
#define DAEMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metric {
	/* counters */
	M_INBOUND_TEXTS,        /* labels: intent */
	M_OUTBOUND,             /* labels: state (submitted, failed, …) */
	M_RECEIPTS,             /* labels: stat (DELIVRD, UNDELIV, …) */
	M_RECONNECTS,
	M_THROTTLED,
	M_SUBMITS,              /* submit_sm sent */
	M_INBOUND_REFUSED,
	M_UNDECODABLE,          /* labels: command (deliver_sm, …) */
	M_LINK_BINDS,           /* labels: link; sessions bound */
	M_LINK_SUBMITS,         /* labels: link */
	M_LINK_THROTTLED,       /* labels: link */
	M_LINK_RECEIPTS,        /* labels: link */
	/* gauges */
	M_BOUND,                /* 1 bound, 0 not */
	M_OUTBOX_DEPTH,         /* segments waiting + in flight */
	M_BACKPRESSURE,         /* 1 while texts are refused: replies wait */
	M_LINK_BOUND,           /* labels: link; 1 bound, 0 not */
	M_LINK_QUEUE,           /* labels: link; segments waiting for it */
	M_LINK_RATE,            /* labels: link; learned submits/s, 0 none */
	/* histograms (seconds) */
	M_REPLY_LATENCY,        /* deliver_sm in -> reply's submit_sm out */
	M_COMMIT_LATENCY,       /* SQLite COMMIT */
	M_COUNT
};

/* Adds n to a counter; label is NULL for unlabelled metrics. Label
 * values come from small fixed sets (intent names, states, stats); the
 * value is copied. Past 32 values per metric, and for a value that is
 * NULL, empty, over 47 bytes or not UTF-8, the count goes to "other".
 * Nothing is allocated; a call on a metric of another type is ignored. */
void metrics_add(enum metric m, const char *label, uint64_t n);
void metrics_set(enum metric m, int64_t v);
/* Sets a labelled gauge's value for one label value (a link's name). */
void metrics_set_label(enum metric m, const char *label, int64_t v);
/* Ignores NaN and infinities; a negative counts as 0. */
void metrics_observe(enum metric m, double seconds);

/* A gauge's value (GET /healthz reads M_BOUND); 0 for other metrics. */
int64_t metrics_gauge(enum metric m);
/* A counter's value for a label (NULL if unlabelled); 0 if never added. */
uint64_t metrics_counter(enum metric m, const char *label);

/* Renders every metric; returns a malloc'd NUL-terminated string, or
 * NULL if out of memory. */
char *metrics_render(void);
/* Forgets everything (tests). */
void metrics_reset(void);

#endif
