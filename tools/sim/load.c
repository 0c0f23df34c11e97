/*
 * smsc-sim --load: a load driver for benchmarks. Once an ESME binds with
 * rx, sends N deliver_sm (at most W unacknowledged, optionally R per
 * second) from distinct senders with a realistic mix of texts, answers
 * every submit_sm at once, matches each reply to its text by destination
 * address and prints one JSON summary line with the latency percentiles.
 * Over CMPP (--protocol) the texts are DELIVERs and the replies SUBMITs,
 * matched by Dest_terminal_Id (cmpp.c builds the frames).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "proto/segment.h"
#include "proto/udh.h"
#include "tools/sim/sim.h"

#define LOAD_SEQ_BASE   0x40000000u  /* above the conn's own sequences */
#define OTHER_BASE      19900000000ull  /* senders of non-query texts */
#define IDLE_TIMEOUT_S  10           /* no progress for this long: give up */
#define RATE_SECONDS    86400        /* submits per second are counted this long */

enum load_state { L_UNSENT, L_OUT, L_ACKED };

struct load_case {
	char     key[25];                /* receipt_no or id_number */
	uint64_t msisdn;
};

struct load_msg {
	uint64_t sender;
	uint64_t sent_ns;                /* first send */
	uint32_t lat_us;                 /* 0 = no reply yet */
	uint8_t  state;
	uint8_t  kind;                   /* 0 query, 1 other, 2 garbage */
	uint32_t arg;                    /* case index or variant */
};

struct sim_load {
	struct sim       *sim;
	struct sim_conn  *conn;
	struct load_case *cases;
	size_t            ncases;
	struct load_msg  *msgs;
	size_t            n, next, out, acked, replies, dups, retries;
	size_t            unmatched, resp_errors;
	uint32_t         *retry;         /* indexes to send again */
	size_t            nretry;
	uint64_t         *hkeys;         /* sender -> index + 1 */
	uint32_t         *hvals;
	size_t            hmask;
	uint64_t          t0_ns, last_reply_ns, last_progress_ns;
	uint32_t         *sub_sec;       /* submit_sm per second since t0 */
	uint32_t         *other_sec;     /* of which not to a load sender */
	uint64_t          rng;
	struct event     *tick;
	bool              started, done;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
rnd(struct sim_load *l)
{
	/* xorshift64*: deterministic runs, cheap. */
	l->rng ^= l->rng >> 12;
	l->rng ^= l->rng << 25;
	l->rng ^= l->rng >> 27;
	return l->rng * 2685821657736338717ull;
}

static uint64_t
hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

/* Returns false when k was there already (the later text wins). */
static bool
hput(struct sim_load *l, uint64_t k, uint32_t v)
{
	size_t i = hash64(k) & l->hmask;
	bool fresh;

	while (l->hkeys[i] != 0 && l->hkeys[i] != k)
		i = (i + 1) & l->hmask;
	fresh = l->hkeys[i] == 0;
	l->hkeys[i] = k;
	l->hvals[i] = v;
	return fresh;
}

static long
hget(const struct sim_load *l, uint64_t k)
{
	size_t i = hash64(k) & l->hmask;

	while (l->hkeys[i] != 0) {
		if (l->hkeys[i] == k)
			return (long)l->hvals[i];
		i = (i + 1) & l->hmask;
	}
	return -1;
}

/* The national number: digits only, a leading 86 of a 13-digit form cut. */
static uint64_t
addr_number(const char *a)
{
	uint64_t v = 0;
	size_t n = 0;

	if (*a == '+')
		a++;
	for (; *a != '\0'; a++, n++) {
		if (*a < '0' || *a > '9' || n >= 19)
			return 0;
		v = v * 10 + (uint64_t)(*a - '0');
	}
	if (n == 13 && v / 100000000000ull == 86)
		v %= 100000000000ull;
	return v;
}

static int
read_cases(struct sim_load *l, const char *path)
{
	char *line = NULL, *comma, *end;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		sim_log("--load-cases %s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		struct load_case *c;
		uint64_t m;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((comma = strchr(line, ',')) == NULL ||
		    (size_t)(comma - line) >= sizeof(c->key) || comma == line)
			continue;
		errno = 0;
		m = strtoull(comma + 1, &end, 10);
		if (errno != 0 || end == comma + 1 || *end != '\0' || m == 0)
			continue;       /* the header, or a row without a phone */
		if (l->ncases == alloc) {
			size_t na = alloc ? alloc * 2 : 65536;
			struct load_case *nc = realloc(l->cases, na * sizeof(*nc));

			if (nc == NULL)
				break;
			l->cases = nc;
			alloc = na;
		}
		c = &l->cases[l->ncases++];
		memcpy(c->key, line, (size_t)(comma - line));
		c->key[comma - line] = '\0';
		c->msisdn = addr_number(comma + 1);
	}
	free(line);
	fclose(f);
	if (l->ncases == 0) {
		sim_log("--load-cases %s: no (key, msisdn) rows", path);
		return -1;
	}
	return 0;
}

/* The mix: 80% queries from the case's phone, 10% other intents, 10%
 * garbage. Queries walk the cases in order so senders stay distinct. */
static void
plan(struct sim_load *l)
{
	size_t i, q = (size_t)(rnd(l) % l->ncases), other = 0, shared = 0;

	for (i = 0; i < l->n; i++) {
		struct load_msg *m = &l->msgs[i];
		unsigned r = (unsigned)(rnd(l) % 100);

		m->kind = r < 80 ? 0 : r < 90 ? 1 : 2;
		if (m->kind == 0) {
			m->arg = (uint32_t)q;
			m->sender = l->cases[q].msisdn;
			q = (q + 1) % l->ncases;
		} else {
			m->arg = (uint32_t)(rnd(l) & 0x7fffffff);
			m->sender = OTHER_BASE + other++;
		}
		if (!hput(l, m->sender, (uint32_t)i))
			shared++;
	}
	/* Replies are matched by sender: a shared one makes them ambiguous. */
	if (shared > 0)
		sim_log("load: %zu texts share a sender with an earlier one "
		    "(fewer cases or phones than texts): their replies count "
		    "as duplicates or missing", shared);
}

static size_t
text_of(struct sim_load *l, const struct load_msg *m, char *buf, size_t len)
{
	static const char *const query[] = { "CX %s", "查询 %s", "STATUS %s",
	    "cx%s" };
	static const char *const other[] = { "BZ", "HELP", "TD", "DY",
	    "GS %s 张三", "JG %s", "LOST %s", "帮助" };
	static const char *const junk[] = { "你好在吗", "zq%u wvk", "谢谢",
	    "mmm %u?", "请问 %u 号", "wq" };
	const struct load_case *c;
	int n;

	switch (m->kind) {
	case 0:
		c = &l->cases[m->arg];
		n = snprintf(buf, len, query[m->arg % 4], c->key);
		break;
	case 1:
		c = &l->cases[m->arg % l->ncases];
		n = snprintf(buf, len, other[m->arg % 8], c->key);
		break;
	default:
		n = snprintf(buf, len, junk[m->arg % 6], m->arg % 10000);
		break;
	}
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

static int
send_one(struct sim_load *l, uint32_t i)
{
	struct load_msg *m = &l->msgs[i];
	struct segments sg;
	struct pdu p;
	char text[160], err[128], src[24];
	size_t n = text_of(l, m, text, sizeof(text));

	if (l->sim->opt.protocol != SIM_SMPP) {
		snprintf(src, sizeof(src), "%" PRIu64, m->sender);
		if (m->sent_ns == 0)
			m->sent_ns = now_ns();
		m->state = L_OUT;
		l->out++;
		return sim_cmpp_send_text(l->conn, LOAD_SEQ_BASE + i, src, text,
		    n);
	}
	if (segment_text(text, n, SEG_UDH, 0, &sg, err, sizeof(err)) == -1) {
		sim_log("load: text %u: %s", i, err);
		return -1;
	}
	if (sg.total != 1) {
		segments_free(&sg);
		sim_log("load: text %u does not fit one SMS", i);
		return -1;
	}
	pdu_init(&p, PDU_DELIVER_SM, 0, LOAD_SEQ_BASE + i);
	snprintf(p.src.addr, sizeof(p.src.addr), "%" PRIu64, m->sender);
	p.src.npi = 1;
	snprintf(p.dst.addr, sizeof(p.dst.addr), "%s", l->sim->opt.short_code);
	p.dst.npi = 1;
	p.data_coding = sg.data_coding;
	memcpy(p.sm, sg.parts[0].data, sg.parts[0].len);
	p.sm_len = (uint16_t)sg.parts[0].len;
	segments_free(&sg);
	if (m->sent_ns == 0)
		m->sent_ns = now_ns();
	m->state = L_OUT;
	l->out++;
	return sim_conn_send(l->conn, &p);
}

static void finish(struct sim_load *l, const char *why);

/* Sends what the window and the rate allow. */
static void
pump(struct sim_load *l)
{
	const struct sim_opts *o = &l->sim->opt;
	size_t allowed = l->n;
	uint32_t i;

	if (l->done || l->conn == NULL || !sim_conn_can_receive(l->conn))
		return;
	if (o->load_rate > 0) {
		uint64_t el = now_ns() - l->t0_ns;

		allowed = (size_t)(el / 1000 * (uint64_t)o->load_rate / 1000000)
		    + 1;
	}
	while (l->out < (size_t)o->load_window && !l->conn->dead) {
		if (l->nretry > 0)
			i = l->retry[--l->nretry];
		else if (l->next < l->n && l->next < allowed)
			i = (uint32_t)l->next++;
		else
			break;
		if (send_one(l, i) == -1)
			break;
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint32_t *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p * (double)n);
	if (k >= n)
		k = n - 1;
	return v[k] / 1000.0;
}

/*
 * submit_sm per second over the whole seconds of the run, the first one
 * left out (the session was starting): the mean, the lowest and the
 * highest second, of all submits and of those to other numbers than the
 * load's senders (notifications). What max_tps is checked against.
 */
static void
put_rates(const struct sim_load *l, struct sim_json *j)
{
	uint64_t end = l->last_reply_ns > l->t0_ns ? l->last_reply_ns :
	    now_ns();
	size_t last = (size_t)((end - l->t0_ns) / 1000000000ull), secs = 0;
	uint64_t all = 0, other = 0;
	uint32_t amin = UINT32_MAX, amax = 0, omin = UINT32_MAX, omax = 0;
	char num[32];

	if (last > RATE_SECONDS)
		last = RATE_SECONDS;
	for (size_t i = 1; i < last; i++, secs++) {
		all += l->sub_sec[i];
		other += l->other_sec[i];
		amin = l->sub_sec[i] < amin ? l->sub_sec[i] : amin;
		amax = l->sub_sec[i] > amax ? l->sub_sec[i] : amax;
		omin = l->other_sec[i] < omin ? l->other_sec[i] : omin;
		omax = l->other_sec[i] > omax ? l->other_sec[i] : omax;
	}
	sim_json_int(j, "rate_window_s", (long long)secs);
	if (secs == 0)
		return;
	snprintf(num, sizeof(num), "%.1f", (double)all / (double)secs);
	sim_json_str(j, "submits_per_s", num);
	sim_json_int(j, "submits_per_s_min", amin);
	sim_json_int(j, "submits_per_s_max", amax);
	snprintf(num, sizeof(num), "%.1f", (double)other / (double)secs);
	sim_json_str(j, "other_submits_per_s", num);
	sim_json_int(j, "other_submits_per_s_min", omin);
	sim_json_int(j, "other_submits_per_s_max", omax);
}

static void
finish(struct sim_load *l, const char *why)
{
	struct sim_json j;
	uint32_t *lat;
	size_t i, k = 0;
	double el, rps;
	char num[64];
	struct timeval tv = { 0, 100000 };

	if (l->done)
		return;
	l->done = true;
	if ((lat = malloc((l->replies + 1) * sizeof(*lat))) == NULL) {
		sim_log("load: out of memory for the summary");
		event_base_loopexit(l->sim->base, &tv);
		return;
	}
	for (i = 0; i < l->n; i++)
		if (l->msgs[i].lat_us != 0)
			lat[k++] = l->msgs[i].lat_us;
	qsort(lat, k, sizeof(*lat), cmp_u32);
	el = l->last_reply_ns > l->t0_ns ?
	    (double)(l->last_reply_ns - l->t0_ns) / 1e9 : 0;
	rps = el > 0 ? (double)l->replies / el : 0;

	sim_json_begin(&j, "load");
	sim_json_str(&j, "end", why);
	sim_json_int(&j, "texts", (long long)l->n);
	sim_json_int(&j, "sent", (long long)l->next);
	sim_json_int(&j, "acked", (long long)l->acked);
	sim_json_int(&j, "replies", (long long)l->replies);
	sim_json_int(&j, "missing", (long long)(l->n - l->replies));
	sim_json_int(&j, "duplicates", (long long)l->dups);
	sim_json_int(&j, "unmatched", (long long)l->unmatched);
	sim_json_int(&j, "resp_errors", (long long)l->resp_errors);
	sim_json_int(&j, "window", l->sim->opt.load_window);
	sim_json_int(&j, "rate", l->sim->opt.load_rate);
	/* Numbers with decimals: sim_json has integers only. */
	snprintf(num, sizeof(num), "%.3f", el);
	sim_json_str(&j, "elapsed_s", num);
	snprintf(num, sizeof(num), "%.0f", rps);
	sim_json_str(&j, "replies_per_s", num);
	snprintf(num, sizeof(num), "%.3f", pct(lat, k, 0.50));
	sim_json_str(&j, "p50_ms", num);
	snprintf(num, sizeof(num), "%.3f", pct(lat, k, 0.90));
	sim_json_str(&j, "p90_ms", num);
	snprintf(num, sizeof(num), "%.3f", pct(lat, k, 0.99));
	sim_json_str(&j, "p99_ms", num);
	snprintf(num, sizeof(num), "%.3f", k ? lat[k - 1] / 1000.0 : 0);
	sim_json_str(&j, "max_ms", num);
	put_rates(l, &j);
	sim_json_end(&j);
	free(lat);
	event_base_loopexit(l->sim->base, &tv);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_load *l = arg;
	uint64_t now = now_ns();

	(void)fd;
	(void)what;
	if (l->done || !l->started)
		return;
	if (l->replies >= l->n && l->acked >= l->n) {
		finish(l, "complete");
		return;
	}
	if (now - l->last_progress_ns > (uint64_t)IDLE_TIMEOUT_S * 1000000000ull) {
		finish(l, "idle timeout");
		return;
	}
	pump(l);
}

struct sim_load *
sim_load_new(struct sim *s)
{
	const struct sim_opts *o = &s->opt;
	struct sim_load *l = calloc(1, sizeof(*l));
	struct timeval tv = { 0, 1000 };
	size_t hs = 1;

	if (l == NULL)
		return NULL;
	l->sim = s;
	l->n = (size_t)o->load;
	l->rng = 0x9E3779B97F4A7C15ull;
	while (hs < l->n * 2)
		hs <<= 1;
	l->hmask = hs - 1;
	if (read_cases(l, o->load_cases) == -1 ||
	    (l->msgs = calloc(l->n, sizeof(*l->msgs))) == NULL ||
	    (l->retry = calloc(l->n, sizeof(*l->retry))) == NULL ||
	    (l->hkeys = calloc(hs, sizeof(*l->hkeys))) == NULL ||
	    (l->hvals = calloc(hs, sizeof(*l->hvals))) == NULL ||
	    (l->sub_sec = calloc(RATE_SECONDS, sizeof(*l->sub_sec))) == NULL ||
	    (l->other_sec = calloc(RATE_SECONDS, sizeof(*l->other_sec))) ==
	    NULL ||
	    (l->tick = event_new(s->base, -1, EV_PERSIST, tick_cb, l)) == NULL ||
	    event_add(l->tick, &tv) == -1) {
		sim_load_free(l);
		return NULL;
	}
	plan(l);
	return l;
}

void
sim_load_free(struct sim_load *l)
{
	if (l == NULL)
		return;
	if (l->tick != NULL)
		event_free(l->tick);
	free(l->cases);
	free(l->msgs);
	free(l->retry);
	free(l->hkeys);
	free(l->hvals);
	free(l->sub_sec);
	free(l->other_sec);
	free(l);
}

void
sim_load_bound(struct sim_conn *c)
{
	struct sim_load *l = c->sim->load;

	if (l->conn != NULL || !c->rx)
		return;
	l->conn = c;
	if (!l->started) {
		l->started = true;
		l->t0_ns = l->last_progress_ns = now_ns();
		sim_log("load: %zu texts, %zu cases, window %ld, rate %ld/s",
		    l->n, l->ncases, c->sim->opt.load_window,
		    c->sim->opt.load_rate);
	}
	pump(l);
}

/* The link went down: unacknowledged texts go again on the next bind. */
void
sim_load_closed(struct sim_conn *c)
{
	struct sim_load *l = c->sim->load;
	size_t i;

	if (l->conn != c)
		return;
	l->conn = NULL;
	for (i = 0; i < l->n; i++)
		if (l->msgs[i].state == L_OUT) {
			l->msgs[i].state = L_UNSENT;
			l->retry[l->nretry++] = (uint32_t)i;
		}
	l->out = 0;
}

/* Returns true when p answered one of our deliver_sm. */
bool
sim_load_resp(struct sim_conn *c, const struct pdu *p)
{
	return sim_load_ack(c, p->sequence, p->command_id != PDU_GENERIC_NACK &&
	    p->command_status == ESME_OK);
}

/* The same for any protocol: true when seq is one of ours. */
bool
sim_load_ack(struct sim_conn *c, uint32_t seq, bool ok)
{
	struct sim_load *l = c->sim->load;
	uint32_t i;

	if (seq < LOAD_SEQ_BASE || seq - LOAD_SEQ_BASE >= l->n)
		return false;
	i = seq - LOAD_SEQ_BASE;
	if (l->msgs[i].state != L_OUT)
		return true;
	l->out--;
	if (!ok) {
		l->resp_errors++;
		l->msgs[i].state = L_UNSENT;
		l->retry[l->nretry++] = i;
	} else {
		l->msgs[i].state = L_ACKED;
		l->acked++;
		l->last_progress_ns = now_ns();
	}
	pump(l);
	return true;
}

/* Is this submit_sm the first part of its message (or a whole one)? */
static bool
first_part(const struct pdu *p)
{
	struct udh_concat uc;
	char err[64];
	size_t hl;

	if (p->esm_class & PDU_ESM_UDHI)
		return udh_parse(p->sm, p->sm_len, &uc, &hl, err,
		    sizeof(err)) == 0 && (!uc.present || uc.seq == 1);
	if (p->tlvs & PDU_HAS_SAR)
		return p->sar_seq == 1;
	return true;
}

void
sim_load_submit(struct sim_conn *c, const struct pdu *p)
{
	struct sim *s = c->sim;
	struct pdu r;

	sim_load_count(c, p->dst.addr, first_part(p));
	pdu_init(&r, PDU_SUBMIT_SM | PDU_RESP_BIT, c->tx ? ESME_OK :
	    ESME_INVBNDSTS, p->sequence);
	snprintf(r.message_id, sizeof(r.message_id), "%" PRIx64,
	    s->next_msgid++);
	sim_conn_send(c, &r);
	sim_load_check_done(s->load);
}

/* Counts a submit to dst (first: the first part of its message, or a
 * whole one) and matches it to the text it replies to. */
void
sim_load_count(struct sim_conn *c, const char *dst, bool first)
{
	struct sim_load *l = c->sim->load;
	uint64_t t = now_ns();
	long i;

	i = hget(l, addr_number(dst));
	if (l->started && t >= l->t0_ns) {
		uint64_t sec = (t - l->t0_ns) / 1000000000ull;

		if (sec < RATE_SECONDS) {
			l->sub_sec[sec]++;
			if (i < 0)
				l->other_sec[sec]++;
		}
	}
	if (first) {
		if (i < 0 ||
		    l->msgs[i].sent_ns == 0 || l->msgs[i].sent_ns > t)
			l->unmatched++;     /* or a shared sender's, not sent yet */
		else if (l->msgs[i].lat_us != 0)
			l->dups++;
		else {
			uint64_t us = (t - l->msgs[i].sent_ns) / 1000;

			l->msgs[i].lat_us = us == 0 ? 1 : us > UINT32_MAX ?
			    UINT32_MAX : (uint32_t)us;
			l->replies++;
			l->last_reply_ns = l->last_progress_ns = t;
		}
	}
}

void
sim_load_check_done(struct sim_load *l)
{
	if (l->replies >= l->n && l->acked >= l->n)
		finish(l, "complete");
}
