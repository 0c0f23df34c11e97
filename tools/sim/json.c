/*
 * JSON event lines for smsc-sim's stdout. Tests parse every line, so each
 * one must be valid JSON and valid UTF-8 whatever bytes the peer sent:
 * malformed UTF-8 becomes U+FFFD, control characters are escaped. Muted
 * while human.c prints phone lines instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/charset.h"
#include "tools/sim/sim.h"

/* Set by --load: per-PDU lines would cost more than the load itself. */
bool sim_json_quiet;

static void
put(struct sim_json *j, const char *s, size_t n)
{
	if (j->failed || j->mute)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *nb;

		while (cap < j->len + n + 1)
			cap *= 2;
		if ((nb = realloc(j->buf, cap)) == NULL) {
			j->failed = true;
			return;
		}
		j->buf = nb;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void
put_escaped(struct sim_json *j, const char *v, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	put(j, "\"", 1);
	while (i < n) {
		unsigned char c = (unsigned char)v[i];
		uint32_t cp;
		int k;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			put(j, e, 2);
			i++;
		} else if (c == '\n') {
			put(j, "\\n", 2);
			i++;
		} else if (c == '\r') {
			put(j, "\\r", 2);
			i++;
		} else if (c == '\t') {
			put(j, "\\t", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4],
			    hex[c & 15] };

			put(j, e, 6);
			i++;
		} else if (c < 0x80) {
			put(j, v + i, 1);
			i++;
		} else if ((k = utf8_next(v + i, n - i, &cp)) > 0) {
			put(j, v + i, (size_t)k);
			i += (size_t)k;
		} else {
			put(j, "\\ufffd", 6);
			i++;
		}
	}
	put(j, "\"", 1);
}

static void
put_key(struct sim_json *j, const char *key)
{
	put(j, ",", 1);
	put_escaped(j, key, strlen(key));
	put(j, ":", 1);
}

void
sim_json_begin(struct sim_json *j, const char *event)
{
	memset(j, 0, sizeof(*j));
	j->mute = sim_human || (sim_json_quiet &&
	    strcmp(event, "listening") != 0 &&
	    strcmp(event, "load") != 0 && strcmp(event, "bind") != 0 &&
	    strcmp(event, "close") != 0);
	put(j, "{\"event\":", 9);
	put_escaped(j, event, strlen(event));
}

void
sim_json_strn(struct sim_json *j, const char *key, const char *v, size_t n)
{
	put_key(j, key);
	put_escaped(j, v, n);
}

void
sim_json_str(struct sim_json *j, const char *key, const char *v)
{
	sim_json_strn(j, key, v, strlen(v));
}

void
sim_json_int(struct sim_json *j, const char *key, long long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", v);

	put_key(j, key);
	put(j, num, (size_t)n);
}

void
sim_json_end(struct sim_json *j)
{
	put(j, "}\n", 2);
	if (j->mute)
		;
	else if (j->failed)
		sim_log("out of memory writing an event line");
	else if (fwrite(j->buf, 1, j->len, stdout) != j->len ||
	    fflush(stdout) != 0)
		sim_log("cannot write to stdout");
	free(j->buf);
	memset(j, 0, sizeof(*j));
}
