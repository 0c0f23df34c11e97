/* daemon/conf: defaults, ranges, every error with its line, paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/conf.h"

static struct conf c;
static char errs[4096];

#define MINIMAL "[smpp]\nsystem_id = smsgwd\nsource_addr = 10659000\n"

static void
test_defaults(void **state)
{
	(void)state;
	assert_int_equal(conf_load_string(&c, "/etc/x/a.conf", MINIMAL, errs,
	    sizeof(errs)), 0);
	assert_string_equal(errs, "");
	assert_string_equal(c.smpp.host, "127.0.0.1");
	assert_int_equal(c.smpp.port, 2775);
	assert_string_equal(c.smpp.system_id, "smsgwd");
	assert_int_equal(c.smpp.bind, CONF_BIND_TRANSCEIVER);
	assert_int_equal(c.smpp.window, 10);
	assert_int_equal(c.smpp.max_tps, 0);
	assert_int_equal(c.smpp.enquire_link_s, 30);
	assert_int_equal(c.smpp.response_timeout_s, 10);
	assert_int_equal(c.smpp.reconnect_min_s, 1);
	assert_int_equal(c.smpp.reconnect_max_s, 60);
	assert_int_equal(c.smpp.long_messages, CONF_LONG_UDH);
	assert_int_equal(c.smpp.registered_delivery, 1);
	assert_string_equal(c.dir, "/etc/x");
}

static void
test_all_keys(void **state)
{
	static const char text[] =
	    "; comment\n# comment\n[smpp]\nhost = smsc.example\nport = 3000\n"
	    "system_id = id\npassword = p#;w\nsystem_type = ID\n"
	    "bind = pair\nsource_addr = 106\nsource_ton = 3\nsource_npi = 9\n"
	    "window = 64\nmax_tps = 200\nenquire_link_s = 5\n"
	    "response_timeout_s = 2\nreconnect_min_s = 2\n"
	    "reconnect_max_s = 30\nlong_messages = sar\n"
	    "registered_delivery = 0\n";

	(void)state;
	assert_int_equal(conf_load_string(&c, "t.conf", text, errs,
	    sizeof(errs)), 0);
	assert_string_equal(c.smpp.host, "smsc.example");
	assert_int_equal(c.smpp.port, 3000);
	assert_string_equal(c.smpp.password, "p#;w");  /* values are literal */
	assert_int_equal(c.smpp.bind, CONF_BIND_PAIR);
	assert_int_equal(c.smpp.source_ton, 3);
	assert_int_equal(c.smpp.window, 64);
	assert_int_equal(c.smpp.max_tps, 200);
	assert_int_equal(c.smpp.long_messages, CONF_LONG_SAR);
	assert_int_equal(c.smpp.registered_delivery, 0);
}

static void
test_every_error_with_its_line(void **state)
{
	static const char text[] =
	    "[smpp]\n"                  /* 1 */
	    "system_id = smsgwd\n"      /* 2 */
	    "window = 0\n"              /* 3 */
	    "bogus = 1\n"               /* 4 */
	    "[nope]\n"                  /* 5 */
	    "x = 1\n"                   /* 6 */
	    "not a key value line\n"    /* 7 */
	    "[smpp]\n"                  /* 8 */
	    "port = 80x\n"              /* 9 */
	    "bind = both\n"             /* 10 */
	    "system_id = again\n"       /* 11 */
	    "password = 123456789\n"    /* 12 */
	    "reconnect_min_s = 10\n"    /* 13 */
	    "reconnect_max_s = 5\n";    /* 14 */

	(void)state;
	assert_int_equal(conf_load_string(&c, "bad.conf", text, errs,
	    sizeof(errs)), 10);
	assert_non_null(strstr(errs, "bad.conf:3: [smpp] window: 0 is outside "
	    "1..1024\n"));
	assert_non_null(strstr(errs, "bad.conf:4: [smpp] bogus: unknown key\n"));
	assert_non_null(strstr(errs, "bad.conf:6: [nope]: unknown section\n"));
	assert_non_null(strstr(errs, "bad.conf:7: syntax error"));
	assert_non_null(strstr(errs, "bad.conf:9: [smpp] port: '80x' is not a "
	    "whole number\n"));
	assert_non_null(strstr(errs, "bad.conf:10: [smpp] bind: 'both' is not "
	    "one of the choices\n"));
	assert_non_null(strstr(errs, "bad.conf:11: [smpp] system_id: set twice "
	    "(first on line 2)\n"));
	assert_non_null(strstr(errs, "bad.conf:12: [smpp] password: longer than "
	    "8 characters\n"));
	assert_non_null(strstr(errs, "bad.conf: [smpp] source_addr is "
	    "required\n"));
	assert_non_null(strstr(errs, "bad.conf:14: [smpp] reconnect_max_s (5) "
	    "is below reconnect_min_s (10)\n"));
}

static void
test_long_line(void **state)
{
	char *text = malloc(10000);

	(void)state;
	strcpy(text, MINIMAL "system_type = ");
	memset(text + strlen(text), 'a', 6000);
	strcpy(text + strlen(MINIMAL "system_type = ") + 6000, "\nwindow = 7\n");
	assert_int_equal(conf_load_string(&c, "l.conf", text, errs,
	    sizeof(errs)), 1);
	assert_non_null(strstr(errs, "l.conf:4: line longer than"));
	assert_int_equal(c.smpp.window, 7);  /* parsing went on */
	free(text);
}

static void
test_missing_file(void **state)
{
	(void)state;
	assert_int_equal(conf_load(&c, "/nonexistent/smsgwd.conf", errs,
	    sizeof(errs)), 1);
	assert_non_null(strstr(errs, "/nonexistent/smsgwd.conf: cannot open"));
}

static void
test_file_roundtrip(void **state)
{
	char path[] = "/tmp/smsgwd-conf-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, MINIMAL "window = 3\n",
	    strlen(MINIMAL "window = 3\n")), (ssize_t)strlen(MINIMAL
	    "window = 3\n"));
	close(fd);
	assert_int_equal(conf_load(&c, path, errs, sizeof(errs)), 0);
	assert_int_equal(c.smpp.window, 3);
	assert_string_equal(c.dir, "/tmp");
	unlink(path);
}

/* Errors beyond the buffer are counted, never written past it. */
static void
test_small_error_buffer(void **state)
{
	char tiny[16];

	(void)state;
	memset(tiny, 'Z', sizeof(tiny));
	assert_int_equal(conf_load_string(&c, "x.conf", "[a]\nb=1\n[c]\nd=2\n",
	    tiny, sizeof(tiny)), 4);
	assert_true(memchr(tiny, '\0', sizeof(tiny)) != NULL);
}

/* The bind password from a file (a systemd credential), never both. */
static void
test_password_file(void **state)
{
	char path[] = "/tmp/smsgwd-pw-XXXXXX", text[512];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cr#t\n", 7), 7);
	close(fd);
	snprintf(text, sizeof(text), MINIMAL "password_file = %s\n", path);
	assert_int_equal(conf_load_string(&c, "p.conf", text, errs,
	    sizeof(errs)), 0);
	assert_string_equal(c.smpp.password, "s3cr#t");
	snprintf(text, sizeof(text), MINIMAL "password = x\n"
	    "password_file = %s\n", path);
	assert_int_equal(conf_load_string(&c, "p.conf", text, errs,
	    sizeof(errs)), 1);
	assert_non_null(strstr(errs, "p.conf:5: [smpp] password_file: set "
	    "password or password_file, not both"));
	unlink(path);
	snprintf(text, sizeof(text), MINIMAL "password_file = %s\n", path);
	assert_int_equal(conf_load_string(&c, "p.conf", text, errs,
	    sizeof(errs)), 1);
	assert_non_null(strstr(errs, "No such file"));
}

static void
test_quiet_hours(void **state)
{
	(void)state;
	assert_int_equal(conf_load_string(&c, "q.conf", MINIMAL
	    "[notify]\nquiet_hours = 21:30-08:00\n", errs, sizeof(errs)), 0);
	assert_int_equal(c.notify.quiet_from, 21 * 60 + 30);
	assert_int_equal(c.notify.quiet_to, 8 * 60);
	assert_int_equal(conf_load_string(&c, "q.conf", MINIMAL
	    "[notify]\nquiet_hours = 25:00-8\n", errs, sizeof(errs)), 1);
	assert_non_null(strstr(errs, "q.conf:5: [notify] quiet_hours: "
	    "'25:00-8' is not HH:MM-HH:MM"));
	assert_int_equal(conf_load_string(&c, "q.conf", MINIMAL, errs,
	    sizeof(errs)), 0);
	assert_int_equal(c.notify.quiet_from, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_every_error_with_its_line),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_file_roundtrip),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_quiet_hours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
