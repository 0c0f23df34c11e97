/*
 * INI files through libinih with what inih lacks: the line number of every
 * key, syntax errors and over-long lines reported with their line, values
 * taken literally (no inline comments, no continuation lines), and an error
 * list in "file:line: message" form shared by every file we read.
 */
#ifndef DAEMON_INIFILE_H
#define DAEMON_INIFILE_H

#include <stddef.h>

/* Accumulates "name:line: message\n" lines into a caller's buffer. */
struct errlist {
	const char *name;      /* file name used in messages */
	char       *buf;       /* may be NULL: errors are only counted */
	size_t      len, used;
	int         count;
};

void errlist_init(struct errlist *e, const char *name, char *buf,
    size_t len);
/* line 0 means "the file as a whole". */
void errlist_add(struct errlist *e, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Called per key; return 0 to count the line as rejected (the handler has
 * reported why through the errlist). */
typedef int (*inifile_fn)(void *arg, int line, const char *section,
    const char *key, const char *value);

/*
 * Parses the file at path (text == NULL) or the string text. Returns 0, or
 * -1 when the file cannot be opened (reported in e).
 */
int inifile_parse(const char *path, const char *text, inifile_fn fn,
    void *arg, struct errlist *e);

#endif
