/*
 * What the unit tests on a real SQLite file share: a fresh temporary folder
 * per test (under $TMPDIR), removed with everything in it, and the first
 * column of a one-row query. Include after <cmocka.h>.
 */
#ifndef TESTS_UNIT_TESTUTIL_H
#define TESTS_UNIT_TESTUTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

/* Makes $TMPDIR/NAME.XXXXXX (or /tmp/...) in dir; 0 or -1. */
static inline int
tu_tmpdir(char *dir, size_t cap, const char *name)
{
	const char *t = getenv("TMPDIR");

	if ((size_t)snprintf(dir, cap, "%s/%s.XXXXXX", t != NULL ? t : "/tmp",
	    name) >= cap)
		return -1;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

/* Removes dir and the files in it (the tests make no subfolders). */
static inline void
tu_rmdir(const char *dir)
{
	struct dirent *e;
	char p[512];
	DIR *d;

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

/* The first column of a one-row query, as text ("" for no row). */
static inline const char *
tu_query1(sqlite3 *db, const char *sql)
{
	static char buf[8192];
	sqlite3_stmt *s;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		snprintf(buf, sizeof(buf), "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

#endif
