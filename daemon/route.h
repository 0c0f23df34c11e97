/*
 * The outbound routing table: the national-form number's longest matching
 * prefix picks an ordered list of carrier links (the first, then fallbacks).
 * A digit trie, so a lookup costs one step per digit and allocates nothing.
 */
#ifndef DAEMON_ROUTE_H
#define DAEMON_ROUTE_H

#include <stdint.h>

struct errlist;
struct route_table;

#define ROUTE_MAX_LINKS  16    /* links named in one rule at most */
#define ROUTE_MAX_PREFIX 20    /* digits in a prefix at most */
#define ROUTE_MAX_LINE   1024  /* characters in a line at most, without EOL */

/*
 * Parses a routes file: one rule a line, "PREFIX LINK [LINK ...]"; PREFIX is
 * 1-20 digits of the national-form number or "*" (the default rule); links
 * after the first are fallbacks, tried in order. Blank lines and '#'
 * comments (whole-line and trailing) are allowed, as are CRLF line ends.
 * links[0..nlinks) are the configured link names (nlinks at most 255); a
 * rule's link is stored as its index in that array.
 *
 * Every error is added to e as "path:line: message" (e->name is set to path
 * meanwhile and restored after): unknown link, duplicate prefix, a link
 * named twice in one rule, bad prefix, no link, too many links, line too
 * long; "path: strerror" when the file cannot be read. Returns NULL when
 * there was any error, else the table (route_free() it). A file without
 * rules is a valid, empty table.
 */
struct route_table *route_load(const char *path, const char *const *links,
    int nlinks, struct errlist *e);
/* Same, from a string (tests, fuzzing); name is used in messages. */
struct route_table *route_load_string(const char *name, const char *text,
    const char *const *links, int nlinks, struct errlist *e);
void route_free(struct route_table *t);

/*
 * The links for a national-form number (digits; the walk stops at the first
 * other character): the rule of the longest matching prefix, else the "*"
 * rule. Writes up to max link indices to out, first choice first, and
 * returns how many (0 when no rule matches and there is no "*").
 */
int route_lookup(const struct route_table *t, const char *national,
    uint8_t *out, int max);
/* Rules in the table, "*" included. */
int route_count(const struct route_table *t);

#endif
