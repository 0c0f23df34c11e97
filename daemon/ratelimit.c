/*
 * Fixed one-hour windows per sender in a chained hash. Expired windows are
 * swept when the table has doubled since the last sweep, so memory follows
 * the number of senders seen in the last hour.
 */
#include "daemon/ratelimit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_S 3600
#define NBUCKETS 4096

struct sender {
	struct sender *next;
	time_t         start;
	unsigned       count;
	char           id[24];
};

struct ratelimit {
	unsigned       per_hour;
	size_t         n, swept_at;
	struct sender *bucket[NBUCKETS];
};

struct ratelimit *
ratelimit_new(unsigned per_hour)
{
	struct ratelimit *r = calloc(1, sizeof(*r));

	if (r != NULL) {
		r->per_hour = per_hour;
		r->swept_at = 1024;
	}
	return r;
}

void
ratelimit_free(struct ratelimit *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		while (r->bucket[i] != NULL) {
			struct sender *s = r->bucket[i];

			r->bucket[i] = s->next;
			free(s);
		}
	free(r);
}

static size_t
hash(const char *s)
{
	uint32_t h = 2166136261u;        /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % NBUCKETS;
}

static void
sweep(struct ratelimit *r, time_t now)
{
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct sender **pp = &r->bucket[i]; *pp != NULL;) {
			struct sender *s = *pp;

			if (now - s->start >= WINDOW_S) {
				*pp = s->next;
				free(s);
				r->n--;
			} else {
				pp = &s->next;
			}
		}
	r->swept_at = r->n * 2 > 1024 ? r->n * 2 : 1024;
}

enum rl_verdict
ratelimit_hit(struct ratelimit *r, const char *sender, time_t now)
{
	size_t h = hash(sender);
	struct sender *s;

	if (r->per_hour == 0)
		return RL_OK;
	for (s = r->bucket[h]; s != NULL; s = s->next)
		if (strcmp(s->id, sender) == 0)
			break;
	if (s == NULL) {
		if (r->n >= r->swept_at)
			sweep(r, now);
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return RL_OK;    /* no memory: answer rather than drop */
		strncpy(s->id, sender, sizeof(s->id) - 1);
		s->next = r->bucket[h];
		r->bucket[h] = s;
		r->n++;
		s->start = now;
	} else if (now - s->start >= WINDOW_S) {
		s->start = now;
		s->count = 0;
	}
	s->count++;
	if (s->count <= r->per_hour)
		return RL_OK;
	return s->count == r->per_hour + 1 ? RL_WARN : RL_SILENT;
}

void
ratelimit_set(struct ratelimit *r, unsigned per_hour)
{
	r->per_hour = per_hour;
}

size_t
ratelimit_senders(const struct ratelimit *r)
{
	return r->n;
}
