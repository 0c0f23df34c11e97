/*
 * Text normalisation and intent matching (parsers/normalise.h,
 * parsers/intent.h): a citizen's text, any bytes. conf/patterns.conf is
 * loaded once, from $SMSGWD_SRC or the current folder (the repo root).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/intent.h"
#include "parsers/normalise.h"
#include "proto/charset.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CHARS 160

static struct intent_set *set;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *src = getenv("SMSGWD_SRC");
	char path[PATH_MAX], errs[4096];

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/conf/patterns.conf",
	    src != NULL ? src : ".");
	if ((set = intent_load(path, errs, sizeof(errs))) == NULL) {
		fprintf(stderr, "fuzz_intent: %s: %s\n", path, errs);
		exit(1);
	}
	return 0;
}

static void
terminated(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intent_match m;
	char *in, *norm, *again;
	int n, n2;

	if ((in = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(in, data, size);

	/* The header promises len + 1 bytes always suffice. */
	norm = malloc(size + 1);
	again = malloc(size + 1);
	if (norm == NULL || again == NULL)
		goto out;
	n = text_normalise(in, size, norm, size + 1);
	if (n >= 0) {
		if ((size_t)n > size || norm[n] != '\0' ||
		    !utf8_valid(norm, (size_t)n))
			abort();
		/* Normal form is a fixed point. */
		n2 = text_normalise(norm, (size_t)n, again, size + 1);
		if (n2 != n || memcmp(norm, again, (size_t)n) != 0)
			abort();
	} else if (utf8_valid(in, size)) {
		abort();          /* valid text, enough room: must not fail */
	}

	intent_match(set, in, size, MAX_CHARS, &m);
	if ((unsigned)m.intent >= INTENT_COUNT ||
	    (unsigned)m.lang >= LANG_COUNT)
		abort();
	terminated(m.id, sizeof(m.id));
	terminated(m.receipt, sizeof(m.receipt));
	terminated(m.name, sizeof(m.name));
	if (!utf8_valid(m.name, strlen(m.name)))
		abort();
	(void)intent_name(m.intent);
	(void)lang_name(m.lang);
out:
	free(again);
	free(norm);
	free(in);
	return 0;
}
