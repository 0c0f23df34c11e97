/*
 * Template rendering (daemon/templates.h): conf/templates.conf loaded once
 * ($SMSGWD_SRC or the current folder); the input is split at '\n' into the
 * variable values (case data an operator or the HTTP API wrote). Every
 * template in every language is rendered; no reply may carry "://".
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/templates.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tmpl_set *set;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *src = getenv("SMSGWD_SRC");
	char path[PATH_MAX], errs[4096];

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/conf/templates.conf",
	    src != NULL ? src : ".");
	if ((set = tmpl_load(path, errs, sizeof(errs))) == NULL) {
		fprintf(stderr, "fuzz_templates: %s: %s\n", path, errs);
		exit(1);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl_vars vars;
	char *text, *p, out[2048], small[32];
	int n;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&vars, 0, sizeof(vars));
	p = text;
	for (int v = 0; v < TV_COUNT && p != NULL; v++) {
		char *nl = strchr(p, '\n');

		vars.v[v] = p;
		if (nl != NULL)
			*nl++ = '\0';
		p = nl;
	}
	for (int id = 0; id < T_COUNT; id++)
		for (int l = 0; l < LANG_COUNT; l++) {
			n = tmpl_render(set, id, l, &vars, out, sizeof(out));
			if (n >= 0) {
				if ((size_t)n >= sizeof(out) || out[n] != '\0')
					abort();
				if (strstr(out, "://") != NULL) {
					fprintf(stderr, "link in %s/%s: %s\n",
					    tmpl_name(id), lang_name(l), out);
					abort();
				}
			}
			(void)tmpl_render(set, id, l, &vars, small,
			    sizeof(small));
		}
	for (int s = 0; s < CASE_STATUS_COUNT; s++)
		for (int l = 0; l < LANG_COUNT; l++)
			(void)tmpl_status(set, s, l);
	free(text);
	return 0;
}
