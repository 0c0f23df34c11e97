/* daemon/log: whole lines, deferred to the end of a loop turn inside the
 * loop, errors at once, long lines cut and marked. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "daemon/log.h"

static char path[] = "/tmp/test_log.XXXXXX";
static int saved_stderr = -1;

/* stderr goes to a temporary file for the whole group. */
static int
setup(void **state)
{
	int fd = mkstemp(path);

	(void)state;
	if (fd == -1)
		return -1;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	if (saved_stderr == -1 || dup2(fd, STDERR_FILENO) == -1)
		return -1;
	close(fd);
	log_init("t", LOG_LVL_INFO, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	unlink(path);
	return 0;
}

/* What stderr holds so far. */
static char *
written(void)
{
	static char buf[32768];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static struct event_base *cb_base;

static void
turn_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	for (int i = 0; i < 100; i++)
		log_info("turn line=%d", i);
	/* Still gathered while the turn runs ... */
	assert_int_equal(count_lines(written(), "turn line="), 0);
	/* ... but a warning goes at once, after what came before it. */
	log_warn("turn warning");
	assert_int_equal(count_lines(written(), "turn line="), 100);
	assert_non_null(strstr(written(), "t[warn] turn warning\n"));
	log_info("after the warning");
	assert_null(strstr(written(), "after the warning"));
}

static void
test_deferred_to_end_of_turn(void **state)
{
	struct event *ev;

	(void)state;
	assert_non_null(cb_base = event_base_new());
	assert_int_equal(log_defer(cb_base), 0);
	ev = event_new(cb_base, -1, 0, turn_cb, NULL);
	event_active(ev, EV_TIMEOUT, 0);
	assert_int_equal(event_base_loop(cb_base, EVLOOP_ONCE), 0);
	/* The turn is over: everything is out, in order. */
	assert_non_null(strstr(written(), "after the warning\n"));
	assert_true(strstr(written(), "turn line=99\n") <
	    strstr(written(), "turn warning"));

	/* Lines logged outside a turn wait for the flush log_defer does. */
	log_info("last words");
	assert_null(strstr(written(), "last words"));
	assert_int_equal(log_defer(NULL), 0);
	assert_non_null(strstr(written(), "last words\n"));
	/* Without a loop, every line goes at once. */
	log_info("direct");
	assert_non_null(strstr(written(), "direct\n"));
	event_free(ev);
	event_base_free(cb_base);
}

static void
test_long_line_cut(void **state)
{
	char *big = malloc(20000), *w, *line;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	log_info("big=%s", big);
	log_info("next");
	w = written();
	line = strstr(w, "big=");
	assert_non_null(line);
	/* One line, cut to the line limit, marked, then the next line. */
	assert_non_null(strstr(line, "xxx...(cut)\n"));
	assert_true(strchr(line, '\n') - line < 8192);
	assert_non_null(strstr(line, "] next\n"));
	free(big);
}

static void
test_levels(void **state)
{
	(void)state;
	log_debug("hidden debug");
	assert_null(strstr(written(), "hidden debug"));
	log_set_level(LOG_LVL_DEBUG);
	log_debug("shown debug");
	assert_non_null(strstr(written(), "t[debug] shown debug\n"));
	log_set_level(LOG_LVL_INFO);
}

static int
ours(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
ours(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = log_format(out, cap, fmt, ap);
	va_end(ap);
	return n;
}

/* log_format and snprintf agree, text and return value, at every buffer
 * size from 0 to past the end. */
#define SAME(...) do {                                                    \
	char want[256], got[256];                                         \
	int wn = snprintf(want, sizeof(want), __VA_ARGS__);               \
                                                                          \
	for (size_t cap = 0; cap <= (size_t)wn + 2; cap++) {              \
		memset(got, 'x', sizeof(got));                            \
		assert_int_equal(ours(got, cap, __VA_ARGS__), wn);        \
		if (cap > 0) {                                            \
			snprintf(want, cap, __VA_ARGS__);                 \
			assert_string_equal(got, want);                   \
		}                                                         \
		assert_int_equal(got[cap], 'x');                          \
	}                                                                 \
} while (0)

static void
test_format_like_snprintf(void **state)
{
	const char *nul = getenv("SMSGWD_TEST_UNSET_VARIABLE");   /* NULL */

	(void)state;
	SAME("plain text, no conversion");
	SAME("%s", "");
	SAME("text from=%s intent=%s lang=%s id=%s outcome=%s", "138****8000",
	    "query_status", "zh", "002X", "found");
	SAME("%d %i %u", INT_MIN, INT_MAX, UINT_MAX);
	SAME("%ld %lu %lld %llu", LONG_MIN, ULONG_MAX, LLONG_MIN, ULLONG_MAX);
	SAME("%zu|%c|%%|100%%", (size_t)-1, 'Z');
	SAME("%d%d%s", 0, -7, "end");
	SAME("id=%lld parts=%d %s", (long long)1234567890123, 3, "中文");
	/* Left to vsnprintf: flags, widths, precision, other conversions. */
	SAME("%5d|%-3s|%.2s|%x|%08.3f|%p", 42, "a", "abcdef", 255u, 3.14159,
	    (void *)0);
	SAME("%.*s and %s", 3, "abcdef", "rest");
	SAME("%5s", "ab");
	/* NULL for %s prints as glibc does. */
	{
		char got[16];

		assert_int_equal(ours(got, sizeof(got), "[%s]", nul), 8);
		assert_string_equal(got, "[(null)]");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deferred_to_end_of_turn),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_format_like_snprintf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
