/*
 * A citizen's text -> an intent with its fields. Texts are normalised first
 * (parsers/normalise.h), then matched against the operator's patterns file
 * (PCRE2, UTF + caseless, JIT-compiled once) in file order; the first match
 * wins. Named groups id, receipt and name carry the arguments.
 */
#ifndef PARSERS_INTENT_H
#define PARSERS_INTENT_H

#include <stddef.h>

#include "parsers/idcard.h"

enum intent {
	INTENT_UNKNOWN,
	INTENT_QUERY,         /* progress query: id or receipt */
	INTENT_REPORT_LOSS,   /* id and name */
	INTENT_FOUND,         /* loss found / release: id */
	INTENT_HELP,
	INTENT_STOP,          /* stop notifications */
	INTENT_START,         /* resume notifications */
	INTENT_COUNT
};

enum lang { LANG_ZH, LANG_EN, LANG_COUNT };

enum id_state { ID_ABSENT, ID_VALID, ID_INVALID };

struct intent_match {
	enum intent   intent;
	enum lang     lang;
	int           too_long;      /* text over max chars: not matched */
	enum id_state id_state;
	enum idcard_result id_error; /* why, when ID_INVALID; else IDCARD_OK */
	char          id[24];        /* as typed after normalising, X upper */
	char          receipt[25];   /* 6-24 letters/digits, upper-cased */
	char          name[64];      /* UTF-8 */
	int           line;          /* patterns-file line that matched, 0 */
};

struct intent_set;

/*
 * Loads and compiles a patterns file. Returns NULL with every error as
 * "file:line: message" lines in errs (a bad regex says where in it).
 */
struct intent_set *intent_load(const char *path, char *errs, size_t errlen);
void intent_free(struct intent_set *s);
size_t intent_count(const struct intent_set *s);   /* patterns loaded */

/*
 * Classifies utf8[0..len). Texts longer than max_chars code points get
 * INTENT_UNKNOWN with too_long set. Match and depth limits bound the work a
 * hostile text or a careless pattern can cause; hitting them counts as no
 * match. Invalid UTF-8 is INTENT_UNKNOWN. Never fails.
 */
void intent_match(const struct intent_set *s, const char *utf8, size_t len,
    size_t max_chars, struct intent_match *out);

const char *intent_name(enum intent i);        /* "query", "report_loss", … */
int intent_from_name(const char *name);        /* -1 if unknown */
const char *lang_name(enum lang l);            /* "zh", "en" */
int lang_from_name(const char *name);          /* -1 if unknown */

#endif
