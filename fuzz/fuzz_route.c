/*
 * The routes file parser (daemon/route.h): route_load_string() on any text,
 * then lookups of numbers taken from the same input. Checks that a table
 * comes with no error and no table with one, that the error text is a
 * terminated string even in a tiny buffer, and that every lookup answers
 * at most max distinct, configured links.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/inifile.h"
#include "daemon/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const links[] = { "mobile", "unicom", "telecom",
    "broadnet" };
#define NLINKS 4

static void
check_lookup(const struct route_table *t, const char *number)
{
	uint8_t out[ROUTE_MAX_LINKS + 1];
	int n, i, j;

	out[ROUTE_MAX_LINKS] = 0xee;
	n = route_lookup(t, number, out, ROUTE_MAX_LINKS);
	if (n < 0 || n > ROUTE_MAX_LINKS || n > NLINKS ||
	    out[ROUTE_MAX_LINKS] != 0xee)
		abort();
	for (i = 0; i < n; i++) {
		if (out[i] >= NLINKS)
			abort();
		for (j = 0; j < i; j++)
			if (out[j] == out[i])
				abort();
	}
	/* A smaller max gets the first choices of the same answer. */
	if (n > 1) {
		uint8_t one;

		if (route_lookup(t, number, &one, 1) != 1 || one != out[0])
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errs[1024], small[8], number[32];
	struct route_table *t;
	struct errlist e;
	char *text;
	size_t i, k;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	errlist_init(&e, "fuzz.conf", errs, sizeof(errs));
	t = route_load_string("routes.conf", text, links, NLINKS, &e);
	if ((t == NULL) != (e.count > 0))
		abort();
	if (memchr(errs, '\0', sizeof(errs)) == NULL ||
	    strcmp(e.name, "fuzz.conf") != 0)
		abort();
	if (t != NULL) {
		if (route_count(t) < 0)
			abort();
		check_lookup(t, "");
		check_lookup(t, "13800138000");
		/* Every run of digits in the input, as a number. */
		for (i = 0; i < size; i = k + 1) {
			for (k = i; k < size && text[k] >= '0' &&
			    text[k] <= '9' && k - i < sizeof(number) - 1; k++)
				number[k - i] = text[k];
			number[k - i] = '\0';
			if (k > i)
				check_lookup(t, number);
		}
		route_free(t);
	}
	/* A tiny error buffer must truncate, not overflow; none at all
	 * must only count. */
	errlist_init(&e, "fuzz.conf", small, sizeof(small));
	route_free(route_load_string("routes.conf", text, links, NLINKS, &e));
	if (memchr(small, '\0', sizeof(small)) == NULL)
		abort();
	errlist_init(&e, "fuzz.conf", NULL, 0);
	route_free(route_load_string("routes.conf", text, links, NLINKS, &e));
	free(text);
	return 0;
}
