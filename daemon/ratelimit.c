/*
 * Fixed one-hour windows per sender in an open-addressing table of 16-byte
 * slots (linear probing, at most 3/4 full). A sender's key is its digits
 * packed into an integer behind a leading 1, so "0138..." and "138..." stay
 * apart; addresses that are not 1-18 digits (alphanumeric senders, long
 * numbers) are keyed by a 63-bit hash, in a space of their own. When the
 * table fills it is rebuilt without the windows that have expired, at twice
 * the number still live: memory follows the senders of the last hour, about
 * 32-43 bytes each, and every lookup is one or two cache lines.
 */
#include "daemon/ratelimit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_S 3600
#define MIN_CAP  1024                 /* a power of two */

struct slot {
	uint64_t key;                     /* 0: empty */
	uint32_t start;                   /* (uint32_t)time_t: wraps safely */
	uint32_t count;
};

struct ratelimit {
	unsigned     per_hour;
	size_t       n, cap;
	struct slot *t;
};

struct ratelimit *
ratelimit_new(unsigned per_hour)
{
	struct ratelimit *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->per_hour = per_hour;
	r->cap = MIN_CAP;
	if ((r->t = calloc(r->cap, sizeof(*r->t))) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
ratelimit_free(struct ratelimit *r)
{
	if (r == NULL)
		return;
	free(r->t);
	free(r);
}

static uint64_t
key_of(const char *s)
{
	uint64_t v = 1, h = 14695981039346656037u;      /* FNV-1a 64 */
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 18; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (i > 0 && s[i] == '\0')
		return v;                    /* < 2^61: never has bit 63 */
	for (i = 0; s[i] != '\0'; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h | 1ull << 63;
}

/* splitmix64's finaliser: packed digits are far from uniform. */
static size_t
slot_of(uint64_t k, size_t cap)
{
	k ^= k >> 30;
	k *= 0xbf58476d1ce4e5b9u;
	k ^= k >> 27;
	k *= 0x94d049bb133111ebu;
	k ^= k >> 31;
	return (size_t)k & (cap - 1);
}

static int
expired(const struct slot *s, time_t now)
{
	return (uint32_t)((uint32_t)now - s->start) >= WINDOW_S;
}

/* Rebuilds the table without expired windows; -1 if out of memory (the
 * old table stays). */
static int
rebuild(struct ratelimit *r, time_t now)
{
	size_t live = 0, cap = MIN_CAP;
	struct slot *t;

	for (size_t i = 0; i < r->cap; i++)
		if (r->t[i].key != 0 && !expired(&r->t[i], now))
			live++;
	while (cap < live * 2 + 2)
		cap *= 2;
	if ((t = calloc(cap, sizeof(*t))) == NULL)
		return -1;
	for (size_t i = 0; i < r->cap; i++) {
		size_t j;

		if (r->t[i].key == 0 || expired(&r->t[i], now))
			continue;
		for (j = slot_of(r->t[i].key, cap); t[j].key != 0;
		    j = (j + 1) & (cap - 1))
			;
		t[j] = r->t[i];
	}
	free(r->t);
	r->t = t;
	r->cap = cap;
	r->n = live;
	return 0;
}

enum rl_verdict
ratelimit_hit(struct ratelimit *r, const char *sender, time_t now)
{
	uint64_t k;
	struct slot *s;
	size_t i;

	if (r->per_hour == 0)
		return RL_OK;
	k = key_of(sender);
	for (i = slot_of(k, r->cap); r->t[i].key != 0 && r->t[i].key != k;
	    i = (i + 1) & (r->cap - 1))
		;
	s = &r->t[i];
	if (s->key == 0) {
		if ((r->n + 1) * 4 > r->cap * 3) {
			if (rebuild(r, now) == -1)
				return RL_OK;    /* no memory: answer rather
				                  * than drop */
			return ratelimit_hit(r, sender, now);
		}
		s->key = k;
		s->start = (uint32_t)now;
		s->count = 0;
		r->n++;
	} else if (expired(s, now)) {
		s->start = (uint32_t)now;
		s->count = 0;
	}
	if (s->count < UINT32_MAX)
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

size_t
ratelimit_bytes(const struct ratelimit *r)
{
	return sizeof(*r) + r->cap * sizeof(*r->t);
}
