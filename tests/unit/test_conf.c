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
	assert_string_equal(c.link[0].host, "127.0.0.1");
	assert_int_equal(c.link[0].port, 2775);
	assert_string_equal(c.link[0].system_id, "smsgwd");
	assert_int_equal(c.link[0].bind, CONF_BIND_TRANSCEIVER);
	assert_int_equal(c.link[0].window, 10);
	assert_int_equal(c.link[0].max_tps, 0);
	assert_int_equal(c.link[0].enquire_link_s, 30);
	assert_int_equal(c.link[0].response_timeout_s, 10);
	assert_int_equal(c.link[0].reconnect_min_s, 1);
	assert_int_equal(c.link[0].reconnect_max_s, 60);
	assert_int_equal(c.link[0].long_messages, CONF_LONG_UDH);
	assert_int_equal(c.link[0].registered_delivery, 1);
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
	assert_string_equal(c.link[0].host, "smsc.example");
	assert_int_equal(c.link[0].port, 3000);
	assert_string_equal(c.link[0].password, "p#;w");  /* values are literal */
	assert_int_equal(c.link[0].bind, CONF_BIND_PAIR);
	assert_int_equal(c.link[0].source_ton, 3);
	assert_int_equal(c.link[0].window, 64);
	assert_int_equal(c.link[0].max_tps, 200);
	assert_int_equal(c.link[0].long_messages, CONF_LONG_SAR);
	assert_int_equal(c.link[0].registered_delivery, 0);
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
	assert_non_null(strstr(errs, "bad.conf:2: [smpp] source_addr is "
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
	assert_int_equal(c.link[0].window, 7);  /* parsing went on */
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
	assert_int_equal(c.link[0].window, 3);
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
	    tiny, sizeof(tiny)), 3);
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
	assert_string_equal(c.link[0].password, "s3cr#t");
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

/* [smsc NAME] sections: one link each, in file order, with their own keys
 * and the defaults; [smpp] alone is the link "default". */
static void
test_links(void **state)
{
	(void)state;
	errs[0] = '\0';
	assert_int_equal(conf_load_string(&c, "x.conf", MINIMAL, errs,
	    sizeof(errs)), 0);
	assert_int_equal(c.nlinks, 1);
	assert_string_equal(c.link[0].name, "default");
	assert_int_equal(c.link[0].enabled, 1);
	assert_int_equal(c.routing.failover_s, 30);
	assert_string_equal(c.routing.routes, "");

	/* Run from the source tree: the routes file is conf/routes-cn.conf,
	 * whose links are mobile, unicom, telecom and broadnet. */
	assert_int_equal(conf_load_string(&c, "conf/x.conf",
	    "[smsc mobile]\nsystem_id = m\nsource_addr = 10659000\n"
	    "window = 32\nmax_tps = 300\nreroute_status = 0x45 11\n"
	    "[smsc unicom-2]\nsystem_id = u\nsource_addr = 10655000\n"
	    "port = 3000\nbind = pair\n"
	    "[smsc tele_com]\nsystem_id = t\nsource_addr = 1\n"
	    "enabled = no\n"
	    "[smsc unicom]\nsystem_id = u\nsource_addr = 1\n"
	    "[smsc telecom]\nsystem_id = t\nsource_addr = 1\n"
	    "[smsc broadnet]\nsystem_id = b\nsource_addr = 1\n"
	    "[routing]\nroutes = routes-cn.conf\nfailover_s = 5\n",
	    errs, sizeof(errs)), 0);
	assert_int_equal(c.nlinks, 6);
	assert_string_equal(c.link[0].name, "mobile");
	assert_int_equal(c.link[0].window, 32);
	assert_int_equal(c.link[0].max_tps, 300);
	assert_int_equal(c.link[0].port, 2775);
	assert_int_equal(c.link[0].nreroute, 2);
	assert_int_equal(c.link[0].reroute[0], 0x45);
	assert_int_equal(c.link[0].reroute[1], 11);
	assert_string_equal(c.link[1].name, "unicom-2");
	assert_int_equal(c.link[1].window, 10);
	assert_int_equal(c.link[1].port, 3000);
	assert_int_equal(c.link[1].bind, CONF_BIND_PAIR);
	assert_string_equal(c.link[1].source_addr, "10655000");
	assert_int_equal(c.link[2].enabled, 0);
	assert_int_equal(conf_link_find(&c, "tele_com"), 2);
	assert_int_equal(conf_link_find(&c, "nope"), -1);
	assert_string_equal(c.routing.routes, "conf/routes-cn.conf");
	assert_int_equal(c.routing.failover_s, 5);
}

/* What is wrong with links is reported with its line. */
static void
test_link_errors(void **state)
{
	(void)state;
	errs[0] = '\0';
	assert_int_equal(conf_load_string(&c, "m.conf",
	    "[smpp]\nsystem_id = a\nsource_addr = 1\n"      /* 1-3 */
	    "[smsc b]\nsystem_id = b\nsource_addr = 1\n",   /* 4-6 */
	    errs, sizeof(errs)), 1);
	assert_non_null(strstr(errs, "m.conf:5: [smsc b]: [smpp] and "
	    "[smsc NAME] sections in one file"));

	errs[0] = '\0';
	assert_int_equal(conf_load_string(&c, "n.conf",
	    "[smsc Mobile]\nsystem_id = a\nsource_addr = 1\n"   /* 1-3 */
	    "[smsc abcdefghijklmnop]\nsystem_id = a\n"          /* 4-5 */
	    "[smsc ok]\nsystem_id = a\nwindow = 0\nfoo = 1\n"  /* 6-9 */
	    "reroute_status = 0x45 x\n"                         /* 10 */
	    "[smsc]\nhost = h\n",                              /* 11-12 */
	    errs, sizeof(errs)), 7);
	assert_non_null(strstr(errs, "n.conf:2: [smsc Mobile]: a link name "
	    "is 1-15 of a-z 0-9 _ -\n"));
	assert_null(strstr(errs, "n.conf:3:"));       /* said once */
	assert_non_null(strstr(errs, "n.conf:5: [smsc abcdefghijklmnop]: a "
	    "link name"));
	assert_non_null(strstr(errs, "n.conf:8: [smsc ok] window: 0 is "
	    "outside 1..1024\n"));
	assert_non_null(strstr(errs, "n.conf:9: [smsc ok] foo: unknown key\n"));
	assert_non_null(strstr(errs, "n.conf:10: [smsc ok] reroute_status: "
	    "'x' is not a status code\n"));
	assert_non_null(strstr(errs, "n.conf:7: [smsc ok] source_addr is "
	    "required\n"));
	assert_non_null(strstr(errs, "n.conf:12: [smsc]: a link name"));

	errs[0] = '\0';
	assert_int_equal(conf_load_string(&c, "o.conf", "[locale]\n"
	    "country_code = 86\n", errs, sizeof(errs)), 1);
	assert_non_null(strstr(errs, "o.conf: no link: an [smpp] section, or "
	    "one [smsc NAME] section per carrier link, is required\n"));

	errs[0] = '\0';
	assert_int_equal(conf_load_string(&c, "p.conf", MINIMAL
	    "enabled = no\n", errs, sizeof(errs)), 1);
	assert_non_null(strstr(errs, "every link has enabled = no"));
}

/* At most CONF_MAX_LINKS links; the one over is an error, said once. */
static void
test_too_many_links(void **state)
{
	char text[8192] = "";
	size_t used = 0;

	(void)state;
	for (int i = 0; i <= CONF_MAX_LINKS; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		    "[smsc l%d]\nsystem_id = a\nsource_addr = 1\n", i);
	assert_int_equal(conf_load_string(&c, "q.conf", text, errs,
	    sizeof(errs)), 1);
	assert_non_null(strstr(errs, "q.conf:50: [smsc l16]: more than 16 "
	    "links\n"));
	assert_int_equal(c.nlinks, CONF_MAX_LINKS);
}

/* CMPP links: their keys and defaults; a key of the other protocol, an
 * SP_Id over 6 characters, CMPP on [smpp] are errors with their line. */
static void
test_cmpp_links(void **state)
{
	(void)state;
	errs[0] = '\0';
	assert_int_equal(conf_load_string(&c, "c.conf",
	    "[smsc mobile]\nprotocol = cmpp30\nsystem_id = 901234\n"
	    "password = a-shared-secret-of-24-ch\nsource_addr = 1065730\n"
	    "service_id = IDCARD\n"
	    "[smsc old]\nprotocol = cmpp20\nsystem_id = 901235\n"
	    "source_addr = 1065731\nport = 7000\nwindow = 4\n"
	    "active_test_s = 60\n"
	    "[smsc unicom]\nsystem_id = u\nsource_addr = 10655\n",
	    errs, sizeof(errs)), 0);
	assert_int_equal(c.link[0].protocol, CONF_PROTO_CMPP30);
	assert_int_equal(c.link[0].port, 7890);
	assert_int_equal(c.link[0].window, 16);
	assert_int_equal(c.link[0].response_timeout_s, 60);
	assert_int_equal(c.link[0].active_test_s, 180);
	assert_int_equal(c.link[0].enquire_link_s, 180);
	assert_string_equal(c.link[0].fee_type, "01");
	assert_string_equal(c.link[0].fee_code, "000000");
	assert_string_equal(c.link[0].service_id, "IDCARD");
	assert_string_equal(c.link[0].password, "a-shared-secret-of-24-ch");
	assert_int_equal(c.link[1].protocol, CONF_PROTO_CMPP20);
	assert_int_equal(c.link[1].port, 7000);
	assert_int_equal(c.link[1].window, 4);
	assert_int_equal(c.link[1].enquire_link_s, 60);
	assert_int_equal(c.link[2].protocol, CONF_PROTO_SMPP);
	assert_int_equal(c.link[2].port, 2775);

	errs[0] = '\0';
	assert_int_equal(conf_load_string(&c, "d.conf",
	    "[smsc mobile]\nprotocol = cmpp30\nsystem_id = 9012345\n"  /* 1-3 */
	    "source_addr = 1\nbind = pair\nenquire_link_s = 5\n"        /* 4-6 */
	    "[smsc unicom]\nsystem_id = u\nsource_addr = 1\n"           /* 7-9 */
	    "fee_code = 000001\npassword = 123456789\n",                /* 10-11 */
	    errs, sizeof(errs)), 5);
	assert_non_null(strstr(errs, "d.conf:3: [smsc mobile] system_id: a "
	    "CMPP SP_Id is at most 6 characters\n"));
	assert_non_null(strstr(errs, "d.conf:5: [smsc mobile] bind: not a key "
	    "of a CMPP link\n"));
	assert_non_null(strstr(errs, "d.conf:6: [smsc mobile] enquire_link_s: "
	    "not a key of a CMPP link\n"));
	assert_non_null(strstr(errs, "d.conf:10: [smsc unicom] fee_code: not "
	    "a key of an SMPP link\n"));
	assert_non_null(strstr(errs, "d.conf:11: [smsc unicom] password: "
	    "longer than 8 characters\n"));

	errs[0] = '\0';
	assert_int_equal(conf_load_string(&c, "e.conf", MINIMAL
	    "protocol = cmpp30\n", errs, sizeof(errs)), 1);
	assert_non_null(strstr(errs, "e.conf:4: [smpp] protocol: [smpp] is an "
	    "SMPP link"));
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
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_link_errors),
		cmocka_unit_test(test_too_many_links),
		cmocka_unit_test(test_cmpp_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
