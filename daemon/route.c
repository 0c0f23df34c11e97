/*
 * The routes file and its digit trie (see route.h): national-number prefix
 * -> ordered carrier links, looked up once per outbound message.
 */
#include "daemon/route.h"
#include "daemon/inifile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A routes file is a few hundred lines; anything this big is a mistake. */
#define ROUTE_MAX_FILE  (4 * 1024 * 1024)
/* How much of a bad token an error message quotes. */
#define ROUTE_QUOTE     40

struct route_rule {
	int     line;                    /* where it was written */
	uint8_t nlinks;
	uint8_t link[ROUTE_MAX_LINKS];   /* indices into the caller's links */
};

/* child[d] is the node for one more digit d; 0 is "none", as the root
 * (node 0) is nobody's child. */
struct route_node {
	uint32_t child[10];
	int32_t  rule;                   /* index into rule[], or -1 */
};

struct route_table {
	struct route_node *node;
	size_t             nnode, capnode;
	struct route_rule *rule;
	size_t             nrule, caprule;
	int32_t            def;          /* the "*" rule, or -1 */
};

struct parse {
	struct route_table *t;
	const char *const  *links;
	int                 nlinks;
	struct errlist     *e;
	int                 line;
	bool                nomem;
};

static int
quote_len(size_t len)
{
	return len > ROUTE_QUOTE ? ROUTE_QUOTE : (int)len;
}

static struct route_table *
table_new(void)
{
	struct route_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->def = -1;
	t->capnode = 64;
	if ((t->node = malloc(t->capnode * sizeof(*t->node))) == NULL) {
		free(t);
		return NULL;
	}
	memset(&t->node[0], 0, sizeof(t->node[0]));
	t->node[0].rule = -1;
	t->nnode = 1;
	return t;
}

void
route_free(struct route_table *t)
{
	if (t == NULL)
		return;
	free(t->node);
	free(t->rule);
	free(t);
}

/* The node of prefix (digits only), made on the way; 0 when out of memory
 * (the root is never a prefix's node: prefixes have a digit at least). */
static uint32_t
trie_node(struct route_table *t, const char *prefix, size_t len)
{
	uint32_t at = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(prefix[i] - '0');
		uint32_t next = t->node[at].child[d];

		if (next == 0) {
			if (t->nnode == t->capnode) {
				size_t cap = t->capnode * 2;
				struct route_node *n;

				n = realloc(t->node, cap * sizeof(*n));
				if (n == NULL)
					return 0;
				t->node = n;
				t->capnode = cap;
			}
			next = (uint32_t)t->nnode++;
			memset(&t->node[next], 0, sizeof(t->node[next]));
			t->node[next].rule = -1;
			t->node[at].child[d] = next;
		}
		at = next;
	}
	return at;
}

/* A new rule's index, or -1 when out of memory. */
static int32_t
rule_new(struct route_table *t)
{
	if (t->nrule == t->caprule) {
		size_t cap = t->caprule == 0 ? 64 : t->caprule * 2;
		struct route_rule *r;

		if ((r = realloc(t->rule, cap * sizeof(*r))) == NULL)
			return -1;
		t->rule = r;
		t->caprule = cap;
	}
	memset(&t->rule[t->nrule], 0, sizeof(t->rule[t->nrule]));
	return (int32_t)t->nrule++;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next blank-separated token of [*s, end), or false at the end. */
static bool
next_token(const char **s, const char *end, const char **tok, size_t *len)
{
	const char *p = *s;

	while (p < end && is_blank(*p))
		p++;
	if (p == end) {
		*s = p;
		return false;
	}
	*tok = p;
	while (p < end && !is_blank(*p))
		p++;
	*len = (size_t)(p - *tok);
	*s = p;
	return true;
}

static bool
prefix_ok(const char *s, size_t len)
{
	if (len == 0 || len > ROUTE_MAX_PREFIX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
link_find(const struct parse *p, const char *name, size_t len)
{
	for (int i = 0; i < p->nlinks; i++)
		if (strlen(p->links[i]) == len &&
		    memcmp(p->links[i], name, len) == 0)
			return i;
	return -1;
}

/*
 * One line, without its line end. Reports every fault it finds; a rule is
 * entered whenever its prefix is good, so that a later duplicate is caught
 * even if this line's links are not (the table is dropped on any error).
 */
static void
parse_line(struct parse *p, const char *s, size_t len)
{
	const char *end = s + len, *hash, *pre, *tok;
	size_t prelen, toklen;
	uint8_t link[ROUTE_MAX_LINKS];
	int nlink = 0, ntok = 0, i;
	bool good, isdef;
	int32_t *slot, r;

	if ((hash = memchr(s, '#', len)) != NULL)
		end = hash;
	if (!next_token(&s, end, &pre, &prelen))
		return;
	isdef = prelen == 1 && pre[0] == '*';
	good = isdef || prefix_ok(pre, prelen);
	if (!good)
		errlist_add(p->e, p->line, "bad prefix \"%.*s\": 1-%d digits, "
		    "or * for the default rule", quote_len(prelen), pre,
		    ROUTE_MAX_PREFIX);
	while (next_token(&s, end, &tok, &toklen)) {
		if (++ntok > ROUTE_MAX_LINKS) {
			errlist_add(p->e, p->line, "too many links: at most %d "
			    "in one rule", ROUTE_MAX_LINKS);
			break;
		}
		if ((i = link_find(p, tok, toklen)) < 0) {
			errlist_add(p->e, p->line, "unknown link \"%.*s\"",
			    quote_len(toklen), tok);
			continue;
		}
		if (memchr(link, i, (size_t)nlink) != NULL) {
			errlist_add(p->e, p->line, "link \"%s\" named twice in "
			    "one rule", p->links[i]);
			continue;
		}
		link[nlink++] = (uint8_t)i;
	}
	if (!good)
		return;
	if (ntok == 0)
		errlist_add(p->e, p->line, "no link for prefix \"%.*s\"",
		    quote_len(prelen), pre);

	if (isdef)
		slot = &p->t->def;
	else {
		uint32_t n = trie_node(p->t, pre, prelen);

		if (n == 0) {
			p->nomem = true;
			return;
		}
		slot = &p->t->node[n].rule;
	}
	if (*slot >= 0) {
		errlist_add(p->e, p->line, "duplicate prefix \"%.*s\" (first on "
		    "line %d)", quote_len(prelen), pre, p->t->rule[*slot].line);
		return;
	}
	if ((r = rule_new(p->t)) < 0) {
		p->nomem = true;
		return;
	}
	*slot = r;
	p->t->rule[r].line = p->line;
	p->t->rule[r].nlinks = (uint8_t)nlink;
	memcpy(p->t->rule[r].link, link, (size_t)nlink);
}

/* The parser proper, over len bytes of text (NUL bytes are just bytes). */
static struct route_table *
load(const char *name, const char *text, size_t len,
    const char *const *links, int nlinks, struct errlist *e)
{
	const char *oldname = e->name, *s = text, *end = text + len, *nl;
	int errors = e->count;
	struct parse p;
	size_t n;

	e->name = name;
	memset(&p, 0, sizeof(p));
	p.links = links;
	p.nlinks = nlinks;
	p.e = e;
	if (nlinks < 0 || nlinks > 255 || (nlinks > 0 && links == NULL)) {
		errlist_add(e, 0, "%d links: 0 to 255 can be routed to",
		    nlinks);
		goto fail;
	}
	if ((p.t = table_new()) == NULL) {
		p.nomem = true;
		goto fail;
	}
	/* A UTF-8 byte order mark, as some editors write. */
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (s < end && !p.nomem) {
		p.line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (size_t)((nl != NULL ? nl : end) - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > ROUTE_MAX_LINE)
			errlist_add(e, p.line, "line too long: more than %d "
			    "characters", ROUTE_MAX_LINE);
		else
			parse_line(&p, s, n);
		s = nl != NULL ? nl + 1 : end;
	}
	if (p.nomem || e->count != errors)
		goto fail;
	e->name = oldname;
	return p.t;

fail:
	if (p.nomem)
		errlist_add(e, 0, "out of memory");
	route_free(p.t);
	e->name = oldname;
	return NULL;
}

struct route_table *
route_load_string(const char *name, const char *text,
    const char *const *links, int nlinks, struct errlist *e)
{
	return load(name, text, strlen(text), links, nlinks, e);
}

struct route_table *
route_load(const char *path, const char *const *links, int nlinks,
    struct errlist *e)
{
	const char *oldname = e->name;
	struct route_table *t = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	FILE *f;

	e->name = path;
	if ((f = fopen(path, "rb")) == NULL) {
		errlist_add(e, 0, "%s", strerror(errno));
		goto out;
	}
	for (;;) {
		if (len == cap) {
			char *b;

			if (cap >= ROUTE_MAX_FILE) {
				errlist_add(e, 0, "more than %d bytes: not a "
				    "routes file", ROUTE_MAX_FILE);
				goto out;
			}
			cap = cap == 0 ? 8192 : cap * 2;
			if ((b = realloc(buf, cap)) == NULL) {
				errlist_add(e, 0, "out of memory");
				goto out;
			}
			buf = b;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		errlist_add(e, 0, "%s", strerror(errno));
		goto out;
	}
	t = load(path, buf != NULL ? buf : "", len, links, nlinks, e);
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	e->name = oldname;
	return t;
}

int
route_lookup(const struct route_table *t, const char *national,
    uint8_t *out, int max)
{
	const struct route_node *n = &t->node[0];
	const struct route_rule *r;
	int32_t best = t->def;
	int k;

	if (national != NULL)
		for (const char *s = national; *s >= '0' && *s <= '9'; s++) {
			uint32_t c = n->child[*s - '0'];

			if (c == 0)
				break;
			n = &t->node[c];
			if (n->rule >= 0)
				best = n->rule;
		}
	if (best < 0 || max <= 0)
		return 0;
	r = &t->rule[best];
	k = r->nlinks < max ? r->nlinks : max;
	memcpy(out, r->link, (size_t)k);
	return k;
}

int
route_count(const struct route_table *t)
{
	return (int)t->nrule;
}
