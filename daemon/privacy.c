/* Masking and phone-number normalisation (DOMAIN.md, privacy rules). */
#include "daemon/privacy.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void
mask_name(const char *s, char *out, size_t cap)
{
	size_t n = 1;
	unsigned char c = (unsigned char)s[0];

	if (cap == 0)
		return;
	if (c == '\0') {
		snprintf(out, cap, "*");
		return;
	}
	/* Length of the first UTF-8 sequence; stops at a NUL. */
	if (c >= 0xF0)
		n = 4;
	else if (c >= 0xE0)
		n = 3;
	else if (c >= 0xC0)
		n = 2;
	for (size_t i = 1; i < n; i++)
		if (s[i] == '\0')
			n = i;
	snprintf(out, cap, "%.*s*", (int)n, s);
}

void
mask_msisdn(const char *m, char *out, size_t cap)
{
	size_t n = strlen(m);
	char buf[12];

	/* Built by hand (a text's log lines call it twice), then copied as
	 * snprintf would: cut to cap. */
	if (n <= 7) {
		memcpy(buf, "****", 5);
	} else {
		memcpy(buf, m, 3);
		memcpy(buf + 3, "****", 4);
		memcpy(buf + 7, m + n - 4, 5);
	}
	if (cap > 0) {
		size_t k = strlen(buf) < cap - 1 ? strlen(buf) : cap - 1;

		memcpy(out, buf, k);
		out[k] = '\0';
	}
}

int
msisdn_national(const char *in, const char *cc, char *out, size_t cap)
{
	const char *p = in;
	size_t cclen = strlen(cc), n;

	if (*p == '+')
		p++;
	for (const char *q = p; *q != '\0'; q++)
		if (!isdigit((unsigned char)*q))
			return -1;
	/* 00CC… is an international prefix; a leading CC only counts when
	 * a full national number (at least 7 digits) follows it. */
	if (strncmp(p, "00", 2) == 0 && strncmp(p + 2, cc, cclen) == 0)
		p += 2 + cclen;
	else if (cclen > 0 && strncmp(p, cc, cclen) == 0 &&
	    strlen(p + cclen) >= 7 && (in[0] == '+' || strlen(p + cclen) >= 11))
		p += cclen;
	n = strlen(p);
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, p, n + 1);
	return 0;
}

int
msisdn_same(const char *a, const char *b, const char *cc)
{
	char na[32], nb[32];

	if (msisdn_national(a, cc, na, sizeof(na)) == -1 ||
	    msisdn_national(b, cc, nb, sizeof(nb)) == -1)
		return 0;
	return strcmp(na, nb) == 0;
}

/* A byte fit for a quoted log value: control characters, quotes and
 * backslashes become '?'. */
static char
log_safe(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c < 0x20 || c == 0x7F || c == '"' || c == '\\' ? '?' : ch;
}

void
mask_text(const char *t, const char *name, char *out, size_t cap)
{
	size_t o = 0, nlen = name != NULL ? strlen(name) : 0;
	char masked[16];

	if (cap == 0)
		return;
	while (*t != '\0' && o + 1 < cap) {
		size_t run = strspn(t, "0123456789");

		if (run >= 15) {
			if (t[run] == 'X' || t[run] == 'x')
				run++;
			snprintf(masked, sizeof(masked), "****%.4s",
			    t + run - 4);
			for (const char *m = masked; *m != '\0' && o + 1 < cap;
			    m++)
				out[o++] = *m;
			t += run;
		} else if (run > 0) {
			while (run-- > 0 && o + 1 < cap)
				out[o++] = *t++;
		} else if (nlen > 0 && strncmp(t, name, nlen) == 0) {
			char m[64];

			mask_name(name, m, sizeof(m));
			for (const char *p = m; *p != '\0' && o + 1 < cap; p++)
				out[o++] = log_safe(*p);
			t += nlen;
		} else {
			out[o++] = log_safe(*t++);
		}
	}
	out[o] = '\0';
}
