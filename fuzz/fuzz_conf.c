/*
 * The config parser (daemon/conf.h): conf_load_string() on any text.
 * Secret files are not read, so a fuzzed password_file opens nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conf c;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	conf_read_secrets(0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errs[1024], small[8];
	char *text;
	int n;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	n = conf_load_string(&c, "fuzz.conf", text, errs, sizeof(errs));
	if (n < 0)
		abort();
	if (n > 0 && memchr(errs, '\0', sizeof(errs)) == NULL)
		abort();
	/* A tiny error buffer must truncate, not overflow. */
	(void)conf_load_string(&c, "fuzz.conf", text, small, sizeof(small));
	(void)conf_load_string(&c, "fuzz.conf", text, NULL, 0);
	if (c.nlinks < 0 || c.nlinks > CONF_MAX_LINKS)
		abort();
	for (int i = 0; n == 0 && i < c.nlinks; i++)
		if (memchr(c.link[i].host, '\0', sizeof(c.link[i].host)) ==
		    NULL || memchr(c.link[i].password, '\0',
		    sizeof(c.link[i].password)) == NULL ||
		    memchr(c.link[i].name, '\0', sizeof(c.link[i].name)) ==
		    NULL || c.link[i].nreroute > CONF_MAX_REROUTE)
			abort();
	if (n == 0 && memchr(c.locale.country_code, '\0',
	    sizeof(c.locale.country_code)) == NULL)
		abort();
	free(text);
	return 0;
}
