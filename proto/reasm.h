/*
 * Inbound reassembly of concatenated messages, keyed by sender + recipient +
 * reference + total. Parts may arrive out of order or twice; an incomplete
 * set is dropped after a timeout. Raw part bytes are concatenated before
 * decoding, so an escape or surrogate pair split across parts survives.
 * Time is passed in by the caller (milliseconds, any monotonic origin).
 */
#ifndef PROTO_REASM_H
#define PROTO_REASM_H

#include <stddef.h>
#include <stdint.h>

struct reasm;

enum reasm_result {
	REASM_ERROR = -1,
	REASM_PENDING = 0,    /* stored, set not complete yet */
	REASM_COMPLETE = 1,   /* *out holds the whole message */
	REASM_DUPLICATE = 2,  /* this part was already held; ignored */
};

struct reasm_msg {
	uint8_t  data_coding;
	uint8_t *data;        /* concatenated part bytes, caller frees */
	size_t   len;
	uint8_t  total;
};

struct reasm_dropped {
	const char *src, *dst;
	uint16_t    ref;
	uint8_t     total, have;
	uint64_t    age_ms;
};

/* max_sets bounds memory: when full, the oldest set is dropped (and
 * reported through the next reasm_expire callback count). */
struct reasm *reasm_new(size_t max_sets, uint64_t timeout_ms);
void reasm_free(struct reasm *r);

/*
 * Adds part seq (1-based) of total. data_coding must match the other parts
 * (else REASM_ERROR). Returns an enum reasm_result.
 */
int reasm_add(struct reasm *r, const char *src, const char *dst,
    uint16_t ref, uint8_t total, uint8_t seq, uint8_t data_coding,
    const uint8_t *data, size_t len, uint64_t now_ms, struct reasm_msg *out,
    char *err, size_t errlen);

/*
 * Drops every set older than the timeout (and any evicted for space), calling
 * cb for each so the caller can log it. Returns the number dropped.
 */
size_t reasm_expire(struct reasm *r, uint64_t now_ms,
    void (*cb)(void *arg, const struct reasm_dropped *d), void *arg);

/* Sets currently held. */
size_t reasm_count(const struct reasm *r);

/* Milliseconds until the oldest set expires, or UINT64_MAX if none. */
uint64_t reasm_next_expiry(const struct reasm *r, uint64_t now_ms);

#endif
