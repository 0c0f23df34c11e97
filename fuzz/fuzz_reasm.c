/*
 * UDH parsing and reassembly (proto/udh.h, proto/reasm.h). The input is a
 * run of parts, each [sender][ref][total][seq][dcs][tick][len][len bytes]:
 * a part whose bytes start with a concatenation UDH uses it, as the
 * inbound path does, else the header's SAR-style fields. The set count
 * must never pass max_sets and a completed message holds only bytes that
 * were fed in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/reasm.h"
#include "proto/udh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SETS   4
#define TIMEOUT_MS 1000

static void
dropped(void *arg, const struct reasm_dropped *d)
{
	size_t *n = arg;

	if (d->src == NULL || d->dst == NULL || d->have > d->total)
		abort();
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const senders[] = {
		"8613800138000", "8613900139000", "10086", "",
	};
	struct reasm *r;
	struct reasm_msg msg;
	struct udh_concat c;
	char err[256];
	uint64_t now = 0;
	size_t fed = 0, ndropped = 0, hdr;

	if ((r = reasm_new(MAX_SETS, TIMEOUT_MS)) == NULL)
		return 0;
	while (size >= 7) {
		const char *src = senders[data[0] & 3];
		uint16_t ref = data[1];
		uint8_t total = data[2], seq = data[3], dcs = data[4];
		size_t len = data[6];
		const uint8_t *part;
		uint8_t *copy;
		int rc;

		now += (uint64_t)data[5] * 16;
		data += 7;
		size -= 7;
		if (len > size)
			len = size;
		part = data;
		data += len;
		size -= len;

		if ((copy = malloc(len + 1)) == NULL)
			break;
		memcpy(copy, part, len);
		if (udh_parse(copy, len, &c, &hdr, err, sizeof(err)) == 0) {
			if (hdr > len)
				abort();
			if (c.present) {
				if (c.total == 0 || c.seq == 0 ||
				    c.seq > c.total)
					abort();
				ref = c.ref;
				total = c.total;
				seq = c.seq;
			}
		}
		fed += len;
		memset(&msg, 0, sizeof(msg));
		rc = reasm_add(r, src, "10659000", ref, total, seq, dcs, copy,
		    len, now, &msg, err, sizeof(err));
		free(copy);
		if (rc < REASM_ERROR || rc > REASM_DUPLICATE)
			abort();
		if (rc == REASM_COMPLETE) {
			if (msg.len > fed || msg.total != total ||
			    msg.data_coding != dcs)
				abort();
			free(msg.data);
		}
		if (reasm_count(r) > MAX_SETS)
			abort();
		if (reasm_count(r) > 0 &&
		    reasm_next_expiry(r, now) > TIMEOUT_MS)
			abort();
		(void)reasm_expire(r, now, dropped, &ndropped);
	}
	(void)reasm_expire(r, now + 10 * TIMEOUT_MS, dropped, &ndropped);
	if (reasm_count(r) != 0)
		abort();
	reasm_free(r);
	return 0;
}
