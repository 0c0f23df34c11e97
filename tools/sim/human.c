/*
 * smsc-sim as a phone screen for a person at a terminal (make run): one
 * line per citizen text, per message smsgwd sends and per bind change, in
 * place of the JSON event stream. Text from the keyboard or the network is
 * made safe for a terminal before it is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/charset.h"
#include "tools/sim/sim.h"

/*
 * Reply or notice: smsgwd marks neither on the wire (both are plain
 * submit_sm from the short code), so a message counts as the answer to a
 * text when its phone sent smsgwd a text, still unanswered, within the
 * window; anything else is a notice. smsgwd answers within seconds, so the
 * window is generous; a text that gets no answer (rate limit, STOP) only
 * mislabels a notice to the same phone in the next minute.
 */
#define ANSWER_WINDOW_MS 60000
#define OWED_MAX         1024          /* phones remembered at most */

#define ARROW_IN  "\xe2\x86\x92"       /* → the citizen's text */
#define ARROW_OUT "\xe2\x86\x90"       /* ← what smsgwd sent */
#define NEWLINE   "\xe2\x8f\x8e"       /* ⏎ stands for a line break */
#define BADCHAR   "\xef\xbf\xbd"       /* U+FFFD */

bool sim_human;

/* A phone with texts delivered to smsgwd and not answered yet. */
struct sim_owed {
	TAILQ_ENTRY(sim_owed) entry;     /* oldest last_ms first */
	char     phone[PDU_ADDR_MAX];    /* normalised */
	unsigned texts;
	uint64_t last_ms;
};

static const char *const outcome_words[] = {
	[DLR_UNKNOWN_STATE] = "unknown", [DLR_ENROUTE] = "en route",
	[DLR_DELIVERED] = "delivered", [DLR_EXPIRED] = "expired",
	[DLR_DELETED] = "deleted", [DLR_UNDELIVERABLE] = "undeliverable",
	[DLR_ACCEPTED] = "accepted", [DLR_UNKNOWN] = "unknown",
	[DLR_REJECTED] = "rejected",
};

/* C0/C1 controls move the cursor or worse; bidi overrides reorder a line. */
static bool
unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static void
put_safe(const char *s, size_t n)
{
	size_t i = 0;
	uint32_t cp;
	int k;

	while (i < n) {
		if ((k = utf8_next(s + i, n - i, &cp)) <= 0) {
			fputs(BADCHAR, stdout);
			i++;
		} else {
			if (cp == '\n')
				fputs(NEWLINE, stdout);
			else if (cp == '\r')
				;
			else if (unsafe(cp))
				fputs(BADCHAR, stdout);
			else
				fwrite(s + i, 1, (size_t)k, stdout);
			i += (size_t)k;
		}
	}
}

static void
put_str(const char *s)
{
	put_safe(s, strlen(s));
}

static void
line_end(void)
{
	if (fputc('\n', stdout) == EOF || fflush(stdout) != 0)
		sim_log("cannot write to stdout");
}

/* "+8613800138000", "008613800138000" and "13800138000" are one phone. */
static void
normalise(const char *in, char out[PDU_ADDR_MAX])
{
	const char *p = in;

	if (*p == '+')
		p++;
	if (strncmp(p, "0086", 4) == 0)
		p += 4;
	else if (strncmp(p, "86", 2) == 0 && strlen(p) == 13)
		p += 2;
	snprintf(out, PDU_ADDR_MAX, "%s", p);
}

static void
owed_prune(struct sim *s, uint64_t now)
{
	struct sim_owed *o;

	while ((o = TAILQ_FIRST(&s->owed)) != NULL &&
	    (now - o->last_ms > ANSWER_WINDOW_MS || s->n_owed > OWED_MAX)) {
		TAILQ_REMOVE(&s->owed, o, entry);
		s->n_owed--;
		free(o);
	}
}

static struct sim_owed *
owed_find(struct sim *s, const char *phone)
{
	char norm[PDU_ADDR_MAX];
	struct sim_owed *o;

	normalise(phone, norm);
	TAILQ_FOREACH(o, &s->owed, entry)
		if (strcmp(o->phone, norm) == 0)
			return o;
	return NULL;
}

void
sim_human_listening(struct sim *s, const char *host, unsigned port)
{
	if (!sim_human)
		return;
	fputs("-- smsc-sim listening on ", stdout);
	put_str(host);
	printf(":%u, short code ", port);
	put_str(s->opt.short_code);
	line_end();
}

void
sim_human_bind(struct sim_conn *c, const char *mode, const char *system_id,
    const char *refusal)
{
	if (!sim_human)
		return;
	fputs("-- ", stdout);
	put_str(system_id);
	if (refusal == NULL)
		printf(" bound as %s (link %u)", mode, c->id);
	else
		printf(" bind refused: %s (link %u)", refusal, c->id);
	line_end();
}

void
sim_human_close(struct sim_conn *c, const char *reason)
{
	if (!sim_human)
		return;
	fputs("-- ", stdout);
	if (c->mode != NULL) {
		put_str(c->esme);
		printf(" unbound (link %u: ", c->id);
	} else
		printf("link %u closed (", c->id);
	put_str(reason);
	fputs(")", stdout);
	line_end();
}

void
sim_human_mo(struct sim *s, const char *phone, const char *text, size_t len,
    int parts)
{
	const struct sim_conn *c;
	bool bound = false;

	if (!sim_human)
		return;
	TAILQ_FOREACH(c, &s->conns, entry)
		if (sim_conn_can_receive(c))
			bound = true;
	put_str(phone);
	fputs(" " ARROW_IN " ", stdout);
	put_safe(text, len);
	if (parts > 1)
		printf(" (%d parts%s)", parts, bound ? "" : ", waiting for a bind");
	else if (!bound)
		fputs(" (waiting for a bind)", stdout);
	line_end();
}

/* A text's first delivery attempt makes its phone owed one answer. */
void
sim_human_mo_sent(struct sim *s, const struct sim_mo *mo)
{
	uint64_t now = sim_now_ms();
	struct sim_owed *o;

	if (!sim_human || mo->kind != SIM_MO_TEXT)
		return;
	owed_prune(s, now);
	if ((o = owed_find(s, mo->pdu.src.addr)) != NULL)
		TAILQ_REMOVE(&s->owed, o, entry);
	else if ((o = calloc(1, sizeof(*o))) != NULL) {
		normalise(mo->pdu.src.addr, o->phone);
		s->n_owed++;
	} else
		return;                  /* the next message reads as a notice */
	if (mo->part == 1 && mo->attempts == 1)
		o->texts++;
	o->last_ms = now;
	TAILQ_INSERT_TAIL(&s->owed, o, entry);
	owed_prune(s, now);
}

void
sim_human_refused(const struct sim_mo *mo, const char *status, long retry_ms)
{
	if (!sim_human)
		return;
	printf("-- smsgwd answered the %s ", mo->kind == SIM_MO_RECEIPT ?
	    "receipt for" : "text from");
	put_str(mo->pdu.src.addr);
	printf(" with %s; again in %ld ms", status, retry_ms);
	line_end();
}

void
sim_human_message(struct sim *s, const char *dst, const char *text, int n,
    const char *decode_error, int parts, const enum dlr_state *outcome)
{
	uint64_t now = sim_now_ms();
	struct sim_owed *o;
	bool notice = true;

	if (!sim_human)
		return;
	owed_prune(s, now);
	if ((o = owed_find(s, dst)) != NULL && o->texts > 0) {
		o->texts--;
		notice = false;
	}
	put_str(dst);
	fputs(" " ARROW_OUT " ", stdout);
	if (notice)
		fputs("[notice] ", stdout);
	if (text != NULL)
		put_safe(text, (size_t)n);
	else {
		fputs("[cannot decode: ", stdout);
		put_str(decode_error);
		fputs("]", stdout);
	}
	printf(" (%d part%s", parts, parts == 1 ? "" : "s");
	if (outcome != NULL && (size_t)*outcome <
	    sizeof(outcome_words) / sizeof(outcome_words[0]))
		printf(", %s", outcome_words[*outcome]);
	fputs(")", stdout);
	line_end();
}

void
sim_human_free(struct sim *s)
{
	struct sim_owed *o;

	while ((o = TAILQ_FIRST(&s->owed)) != NULL) {
		TAILQ_REMOVE(&s->owed, o, entry);
		free(o);
	}
	s->n_owed = 0;
}
