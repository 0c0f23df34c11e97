/*
 * The metrics registry (see metrics.h): a table of metrics, their values in
 * fixed arrays (nothing is allocated when a value changes), and a renderer
 * for the Prometheus text exposition format 0.0.4.
 */
#include "daemon/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/charset.h"

#define LABELS_MAX   32         /* label values per metric before "other" */
#define LABEL_LEN    48         /* bytes of a label value, with the NUL */
#define OTHER        "other"

enum mtype { T_COUNTER, T_GAUGE, T_HISTOGRAM };

static const char *const type_names[] = { "counter", "gauge", "histogram" };

/* Upper bounds (le) of the histogram buckets, in seconds, ascending;
 * +Inf is implicit. From half a millisecond (a commit on a quiet disk) to
 * seconds (a reply held up by throttling or a slow SMSC). */
static const double buckets[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5,
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static const struct mdef {
	const char *name;       /* smsgwd_..., a counter's ends in _total */
	const char *help;
	enum mtype  type;
	const char *label;      /* the label's name, or NULL */
} defs[] = {
	[M_INBOUND_TEXTS] = { "smsgwd_inbound_texts_total",
	    "Citizen texts received, by the intent they were read as.",
	    T_COUNTER, "intent" },
	[M_OUTBOUND] = { "smsgwd_outbound_total",
	    "Outbound messages (replies and notifications) reaching a state.",
	    T_COUNTER, "state" },
	[M_RECEIPTS] = { "smsgwd_receipts_total",
	    "Delivery receipts received, by their stat field.",
	    T_COUNTER, "stat" },
	[M_RECONNECTS] = { "smsgwd_reconnects_total",
	    "SMPP reconnection attempts.",
	    T_COUNTER, NULL },
	[M_THROTTLED] = { "smsgwd_throttled_total",
	    "Throttling events (submits answered ESME_RTHROTTLED).",
	    T_COUNTER, NULL },
	[M_SUBMITS] = { "smsgwd_submits_total",
	    "submit_sm PDUs sent.",
	    T_COUNTER, NULL },
	[M_INBOUND_REFUSED] = { "smsgwd_inbound_refused_total",
	    "Inbound texts refused rather than answered.",
	    T_COUNTER, NULL },
	[M_UNDECODABLE] = { "smsgwd_undecodable_pdus_total",
	    "SMPP PDUs from the SMSC, whole, whose body did not unpack, by "
	    "command; a deliver_sm is refused for good (ESME_RX_P_APPN).",
	    T_COUNTER, "command" },
	[M_LINK_BINDS] = { "smsgwd_link_binds_total",
	    "Sessions bound, by carrier link.",
	    T_COUNTER, "link" },
	[M_LINK_SUBMITS] = { "smsgwd_link_submits_total",
	    "submit_sm PDUs sent, by carrier link (counted twice a second).",
	    T_COUNTER, "link" },
	[M_LINK_THROTTLED] = { "smsgwd_link_throttled_total",
	    "Submits answered ESME_RTHROTTLED or ESME_RMSGQFUL, by carrier "
	    "link.",
	    T_COUNTER, "link" },
	[M_LINK_RECEIPTS] = { "smsgwd_link_receipts_total",
	    "Delivery receipts received, by carrier link (counted twice a "
	    "second).",
	    T_COUNTER, "link" },
	[M_BOUND] = { "smsgwd_smpp_bound",
	    "1 if at least one carrier link is bound, 0 if none is.",
	    T_GAUGE, NULL },
	[M_OUTBOX_DEPTH] = { "smsgwd_outbox_depth",
	    "Outbound segments waiting or in flight.",
	    T_GAUGE, NULL },
	[M_BACKPRESSURE] = { "smsgwd_backpressure",
	    "1 while new texts are refused because too many replies wait.",
	    T_GAUGE, NULL },
	[M_LINK_BOUND] = { "smsgwd_link_bound",
	    "1 if the carrier link is bound, 0 if not.",
	    T_GAUGE, "link" },
	[M_LINK_QUEUE] = { "smsgwd_link_queue_depth",
	    "Outbound segments waiting for the carrier link (not in flight).",
	    T_GAUGE, "link" },
	[M_LINK_RATE] = { "smsgwd_link_rate",
	    "The send rate the carrier link has learned from throttling, in "
	    "submits per second; 0 while it has never been throttled.",
	    T_GAUGE, "link" },
	[M_REPLY_LATENCY] = { "smsgwd_reply_latency_seconds",
	    "Time from a deliver_sm received to its reply's submit_sm sent.",
	    T_HISTOGRAM, NULL },
	[M_COMMIT_LATENCY] = { "smsgwd_sqlite_commit_seconds",
	    "Time taken by a SQLite COMMIT.",
	    T_HISTOGRAM, NULL },
};
_Static_assert(sizeof(defs) / sizeof(defs[0]) == M_COUNT,
    "one row in defs[] per enum metric");

struct series {
	char     label[LABEL_LEN];
	uint64_t count;
};

/* One metric's values; which members are used depends on its type. */
struct mval {
	/* Counters: series[0] alone when unlabelled; else one per label
	 * value seen, in order of first use, and at most one more, "other",
	 * once LABELS_MAX are taken. */
	struct series series[LABELS_MAX + 1];
	size_t        nseries;
	int64_t       gauge;
	uint64_t      bucket[NBUCKETS + 1];   /* not cumulative; last: +Inf */
	uint64_t      hcount;
	double        hsum;
};

static struct mval vals[M_COUNT];

static const struct mdef *
def_of(enum metric m, enum mtype type)
{
	if ((int)m < 0 || m >= M_COUNT || defs[m].type != type)
		return NULL;
	return &defs[m];
}

static int
find(const struct mval *v, const char *label)
{
	for (size_t i = 0; i < v->nseries; i++)
		if (strcmp(v->series[i].label, label) == 0)
			return (int)i;
	return -1;
}

/*
 * The series a label value counts in, created on first use. A value that
 * could not be shown as it is (NULL, empty, too long, not UTF-8: it may
 * come off the network, as a receipt's stat does) and any new value once
 * LABELS_MAX are taken go to "other".
 */
static struct series *
series_of(struct mval *v, const char *label)
{
	size_t len = label != NULL ? strlen(label) : 0;
	int i;

	if (len == 0 || len >= LABEL_LEN || !utf8_valid(label, len))
		label = OTHER;
	if ((i = find(v, label)) != -1)
		return &v->series[i];
	if (v->nseries >= LABELS_MAX) {
		if ((i = find(v, OTHER)) != -1)
			return &v->series[i];
		label = OTHER;
	}
	i = (int)v->nseries++;
	snprintf(v->series[i].label, LABEL_LEN, "%s", label);
	return &v->series[i];
}

void
metrics_add(enum metric m, const char *label, uint64_t n)
{
	const struct mdef *d = def_of(m, T_COUNTER);
	struct mval *v = &vals[m];

	if (d == NULL)
		return;
	if (d->label == NULL) {
		v->nseries = 1;
		v->series[0].count += n;
	} else
		series_of(v, label)->count += n;
}

void
metrics_set(enum metric m, int64_t value)
{
	if (def_of(m, T_GAUGE) != NULL)
		vals[m].gauge = value;
}

void
metrics_observe(enum metric m, double seconds)
{
	struct mval *v = &vals[m];
	size_t i;

	/* NaN or infinity would poison _sum for good: a caller's slip. */
	if (def_of(m, T_HISTOGRAM) == NULL || !isfinite(seconds))
		return;
	/* A monotonic clock never goes back; a negative is a slip too. */
	if (seconds < 0)
		seconds = 0;
	for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
		;
	v->bucket[i]++;
	v->hcount++;
	v->hsum += seconds;
}

void
metrics_set_label(enum metric m, const char *label, int64_t value)
{
	const struct mdef *d = def_of(m, T_GAUGE);

	if (d == NULL)
		return;
	if (d->label == NULL)
		vals[m].gauge = value;
	else
		series_of(&vals[m], label)->count = (uint64_t)value;
}

int64_t
metrics_gauge(enum metric m)
{
	return def_of(m, T_GAUGE) != NULL ? vals[m].gauge : 0;
}

uint64_t
metrics_counter(enum metric m, const char *label)
{
	const struct mdef *d = def_of(m, T_COUNTER);
	int i;

	if (d == NULL)
		return 0;
	if (d->label == NULL)
		return vals[m].series[0].count;
	i = find(&vals[m], label != NULL ? label : OTHER);
	return i != -1 ? vals[m].series[i].count : 0;
}

void
metrics_reset(void)
{
	memset(vals, 0, sizeof(vals));
}

/* ---- rendering ----------------------------------------------------------- */

/* A label value with \ " and newline escaped (exposition format 0.0.4). */
static void
put_label_value(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* HELP text escapes only \ and newline. */
static void
put_help(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
render_counter(FILE *f, const struct mdef *d, const struct mval *v)
{
	if (d->label == NULL) {
		fprintf(f, "%s %" PRIu64 "\n", d->name, v->series[0].count);
		return;
	}
	for (size_t i = 0; i < v->nseries; i++) {
		fprintf(f, "%s{%s=\"", d->name, d->label);
		put_label_value(f, v->series[i].label);
		fprintf(f, "\"} %" PRIu64 "\n", v->series[i].count);
	}
}

/* Buckets are cumulative: le="x" counts every observation <= x, and
 * le="+Inf" is the count. %g prints a '.' decimal point: the daemon never
 * calls setlocale(), so it runs in the C locale. */
static void
render_histogram(FILE *f, const struct mdef *d, const struct mval *v)
{
	uint64_t cum = 0;

	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += v->bucket[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", d->name,
		    buckets[i], cum);
	}
	cum += v->bucket[NBUCKETS];
	fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", d->name, cum);
	fprintf(f, "%s_sum %.17g\n", d->name, v->hsum);
	fprintf(f, "%s_count %" PRIu64 "\n", d->name, v->hcount);
}

char *
metrics_render(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	for (int m = 0; m < M_COUNT; m++) {
		const struct mdef *d = &defs[m];

		fprintf(f, "# HELP %s ", d->name);
		put_help(f, d->help);
		fprintf(f, "\n# TYPE %s %s\n", d->name, type_names[d->type]);
		switch (d->type) {
		case T_COUNTER:
			render_counter(f, d, &vals[m]);
			break;
		case T_GAUGE:
			if (d->label == NULL) {
				fprintf(f, "%s %" PRId64 "\n", d->name,
				    vals[m].gauge);
				break;
			}
			for (size_t i = 0; i < vals[m].nseries; i++) {
				fprintf(f, "%s{%s=\"", d->name, d->label);
				put_label_value(f, vals[m].series[i].label);
				fprintf(f, "\"} %" PRId64 "\n",
				    (int64_t)vals[m].series[i].count);
			}
			break;
		case T_HISTOGRAM:
			render_histogram(f, d, &vals[m]);
			break;
		}
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
