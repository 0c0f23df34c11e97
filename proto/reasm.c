/*
 * Reassembly table for inbound concatenated messages. Sets are found by a
 * small chained hash on (src, dst, ref, total) and kept on a list in
 * arrival order, so expiry and eviction look only at the head. A hash
 * rather than a linear scan because a flood of first parts from many
 * senders (or one sender cycling refs) would make every add O(sets).
 */
#include "proto/reasm.h"
#include "proto/errf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASM_PART_MAX  65535
#define REASM_BUCKETS_MIN 16
#define REASM_BUCKETS_MAX 65536

struct rpart {
	uint8_t *data;      /* NULL for an empty part; see got */
	size_t   len;
	int      got;
};

struct rset {
	struct rset  *prev, *next;   /* live: arrival order; evicted: FIFO */
	struct rset  *hnext;         /* hash bucket chain (live sets only) */
	uint32_t      hash;
	uint16_t      ref;
	uint8_t       total, have, data_coding;
	uint64_t      first_ms;      /* arrival of the first part */
	uint64_t      age_ms;        /* age when evicted */
	struct rpart *parts;         /* total entries; NULL once evicted */
	char         *src, *dst;     /* into key[] */
	char          key[];
};

/*
 * Evicted sets keep only their header (parts freed at once, so max_sets
 * really bounds part memory) until reasm_expire reports them. At most
 * max_sets headers are kept; beyond that only a count survives, so a
 * caller that never calls reasm_expire cannot grow memory without bound.
 */
struct reasm {
	size_t        max_sets, count;
	uint64_t      timeout_ms;
	struct rset  *head, *tail;           /* live sets, oldest first */
	struct rset  *ev_head, *ev_tail;     /* evicted, not yet reported */
	size_t        ev_count, ev_lost;
	struct rset **bucket;
	size_t        nbucket;               /* a power of two */
};

/* FNV-1a: short keys, no adversary who can see the table's layout. */
static uint32_t
fnv1a(uint32_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t
key_hash(const char *src, const char *dst, uint16_t ref, uint8_t total)
{
	uint8_t  tail[3] = { (uint8_t)(ref >> 8), (uint8_t)ref, total };
	uint32_t h = 2166136261u;

	/* Include the NULs so ("ab", "c") and ("a", "bc") differ. */
	h = fnv1a(h, src, strlen(src) + 1);
	h = fnv1a(h, dst, strlen(dst) + 1);
	return fnv1a(h, tail, sizeof(tail));
}

static uint64_t
age_of(const struct rset *s, uint64_t now_ms)
{
	return now_ms > s->first_ms ? now_ms - s->first_ms : 0;
}

static void
set_free_parts(struct rset *s)
{
	uint8_t i;

	if (s->parts == NULL)
		return;
	for (i = 0; i < s->total; i++)
		free(s->parts[i].data);
	free(s->parts);
	s->parts = NULL;
}

static void
set_free(struct rset *s)
{
	set_free_parts(s);
	free(s);
}

/* Takes s off the live list and its hash chain; does not free it. */
static void
set_unlink(struct reasm *r, struct rset *s)
{
	struct rset **pp;

	for (pp = &r->bucket[s->hash & (r->nbucket - 1)]; *pp != s;
	    pp = &(*pp)->hnext)
		;
	*pp = s->hnext;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		r->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		r->tail = s->prev;
	s->prev = s->next = s->hnext = NULL;
	r->count--;
}

static struct rset *
set_find(const struct reasm *r, uint32_t hash, const char *src,
    const char *dst, uint16_t ref, uint8_t total)
{
	struct rset *s;

	for (s = r->bucket[hash & (r->nbucket - 1)]; s != NULL; s = s->hnext)
		if (s->hash == hash && s->ref == ref && s->total == total &&
		    strcmp(s->src, src) == 0 && strcmp(s->dst, dst) == 0)
			return s;
	return NULL;
}

static struct rset *
set_new(struct reasm *r, uint32_t hash, const char *src, const char *dst,
    uint16_t ref, uint8_t total, uint8_t data_coding, uint64_t now_ms)
{
	size_t srclen = strlen(src), dstlen = strlen(dst);
	struct rset *s;
	size_t b;

	if ((s = calloc(1, sizeof(*s) + srclen + 1 + dstlen + 1)) == NULL)
		return NULL;
	if ((s->parts = calloc(total, sizeof(*s->parts))) == NULL) {
		free(s);
		return NULL;
	}
	s->src = s->key;
	s->dst = s->key + srclen + 1;
	memcpy(s->src, src, srclen + 1);
	memcpy(s->dst, dst, dstlen + 1);
	s->hash = hash;
	s->ref = ref;
	s->total = total;
	s->data_coding = data_coding;
	s->first_ms = now_ms;

	b = hash & (r->nbucket - 1);
	s->hnext = r->bucket[b];
	r->bucket[b] = s;
	s->prev = r->tail;
	if (r->tail != NULL)
		r->tail->next = s;
	else
		r->head = s;
	r->tail = s;
	r->count++;
	return s;
}

/* Drops the oldest live set to make room, keeping its header to report. */
static void
evict_oldest(struct reasm *r, uint64_t now_ms)
{
	struct rset *s = r->head, *old;

	set_unlink(r, s);
	set_free_parts(s);
	s->age_ms = age_of(s, now_ms);
	if (r->ev_count == r->max_sets) {
		old = r->ev_head;
		r->ev_head = old->next;
		if (r->ev_head == NULL)
			r->ev_tail = NULL;
		free(old);
		r->ev_count--;
		r->ev_lost++;
	}
	if (r->ev_tail != NULL)
		r->ev_tail->next = s;
	else
		r->ev_head = s;
	r->ev_tail = s;
	r->ev_count++;
}

/* max_sets 0 is taken as 1: a table that can hold nothing is useless. */
struct reasm *
reasm_new(size_t max_sets, uint64_t timeout_ms)
{
	struct reasm *r;
	size_t nb = REASM_BUCKETS_MIN;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->max_sets = max_sets > 0 ? max_sets : 1;
	r->timeout_ms = timeout_ms;
	while (nb < r->max_sets && nb < REASM_BUCKETS_MAX)
		nb *= 2;
	r->nbucket = nb;
	if ((r->bucket = calloc(nb, sizeof(*r->bucket))) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
reasm_free(struct reasm *r)
{
	struct rset *s, *next;

	if (r == NULL)
		return;
	for (s = r->head; s != NULL; s = next) {
		next = s->next;
		set_free(s);
	}
	for (s = r->ev_head; s != NULL; s = next) {
		next = s->next;
		set_free(s);
	}
	free(r->bucket);
	free(r);
}

/* Concatenates the parts of a complete set in seq order into *out. */
static int
set_join(const struct rset *s, struct reasm_msg *out)
{
	size_t len = 0, off = 0;
	uint8_t i;

	for (i = 0; i < s->total; i++)
		len += s->parts[i].len;
	/* malloc(0) may return NULL; an empty message is still a message. */
	if ((out->data = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	for (i = 0; i < s->total; i++) {
		if (s->parts[i].len > 0)
			memcpy(out->data + off, s->parts[i].data,
			    s->parts[i].len);
		off += s->parts[i].len;
	}
	out->len = len;
	out->total = s->total;
	out->data_coding = s->data_coding;
	return 0;
}

/*
 * A rejected part (REASM_ERROR) leaves an existing set as it was. The
 * first copy of a part wins: a later one with other bytes is still only
 * REASM_DUPLICATE, since nothing says which copy is right and keeping the
 * first makes the result independent of retransmissions.
 */
int
reasm_add(struct reasm *r, const char *src, const char *dst, uint16_t ref,
    uint8_t total, uint8_t seq, uint8_t data_coding, const uint8_t *data,
    size_t len, uint64_t now_ms, struct reasm_msg *out, char *err,
    size_t errlen)
{
	struct rpart *p;
	struct rset *s;
	uint32_t hash;

	memset(out, 0, sizeof(*out));
	if (src == NULL || dst == NULL || (data == NULL && len > 0)) {
		errf(err, errlen, "missing address or data");
		return REASM_ERROR;
	}
	if (total == 0 || seq == 0 || seq > total) {
		errf(err, errlen, "part %u of %u from %s (ref %u) is out "
		    "of range", seq, total, src, ref);
		return REASM_ERROR;
	}
	if (len > REASM_PART_MAX) {
		errf(err, errlen, "part %u of %u from %s is %zu bytes "
		    "(max %d)", seq, total, src, len, REASM_PART_MAX);
		return REASM_ERROR;
	}

	if (total == 1) {
		if ((out->data = malloc(len > 0 ? len : 1)) == NULL)
			goto oom;
		if (len > 0)
			memcpy(out->data, data, len);
		out->len = len;
		out->total = 1;
		out->data_coding = data_coding;
		return REASM_COMPLETE;
	}

	hash = key_hash(src, dst, ref, total);
	if ((s = set_find(r, hash, src, dst, ref, total)) == NULL) {
		if (r->count == r->max_sets)
			evict_oldest(r, now_ms);
		s = set_new(r, hash, src, dst, ref, total, data_coding,
		    now_ms);
		if (s == NULL)
			goto oom;
	} else if (s->data_coding != data_coding) {
		errf(err, errlen, "part %u of %u from %s (ref %u): "
		    "data_coding 0x%02x differs from the set's 0x%02x",
		    seq, total, src, ref, data_coding, s->data_coding);
		return REASM_ERROR;
	}

	p = &s->parts[seq - 1];
	if (p->got)
		return REASM_DUPLICATE;
	if (len > 0) {
		if ((p->data = malloc(len)) == NULL)
			goto oom_set;
		memcpy(p->data, data, len);
	}
	p->len = len;
	p->got = 1;
	if (++s->have < s->total)
		return REASM_PENDING;

	if (set_join(s, out) == -1)
		goto oom_set;
	set_unlink(r, s);
	set_free(s);
	return REASM_COMPLETE;

oom_set:
	/* A set that just lost a part can never complete: drop it now. */
	set_unlink(r, s);
	set_free(s);
oom:
	memset(out, 0, sizeof(*out));
	errf(err, errlen, "out of memory");
	return REASM_ERROR;
}

static void
report(const struct rset *s, uint64_t age_ms,
    void (*cb)(void *arg, const struct reasm_dropped *d), void *arg)
{
	struct reasm_dropped d;

	if (cb == NULL)
		return;
	d.src = s->src;
	d.dst = s->dst;
	d.ref = s->ref;
	d.total = s->total;
	d.have = s->have;
	d.age_ms = age_ms;
	cb(arg, &d);
}

/*
 * Evicted sets are reported first, with their age at eviction. The strings
 * in *d live only during cb; cb must not call back into r. The return
 * value also counts evictions whose header was not kept (no cb for them).
 * Expiry looks at the head only, so now_ms must not go backwards.
 */
size_t
reasm_expire(struct reasm *r, uint64_t now_ms,
    void (*cb)(void *arg, const struct reasm_dropped *d), void *arg)
{
	struct rset *s;
	size_t n = 0;

	while ((s = r->ev_head) != NULL) {
		r->ev_head = s->next;
		report(s, s->age_ms, cb, arg);
		set_free(s);
		n++;
	}
	r->ev_tail = NULL;
	r->ev_count = 0;
	n += r->ev_lost;
	r->ev_lost = 0;

	while ((s = r->head) != NULL && age_of(s, now_ms) >= r->timeout_ms) {
		set_unlink(r, s);
		report(s, age_of(s, now_ms), cb, arg);
		set_free(s);
		n++;
	}
	return n;
}

size_t
reasm_count(const struct reasm *r)
{
	return r->count;
}

/* 0 while evictions wait to be reported, so a timer driven by this value
 * reports them promptly. */
uint64_t
reasm_next_expiry(const struct reasm *r, uint64_t now_ms)
{
	uint64_t age;

	if (r->ev_head != NULL || r->ev_lost > 0)
		return 0;
	if (r->head == NULL)
		return UINT64_MAX;
	age = age_of(r->head, now_ms);
	return age >= r->timeout_ms ? 0 : r->timeout_ms - age;
}
