/*
 * Configuration: an INI file parsed (with Debian's libinih) into a fresh
 * struct conf against one table of keys (name, type, range, default). Every
 * error is reported as "file:line: message"; unknown sections and keys are
 * errors; relative paths resolve against the file's own folder.
 */
#ifndef DAEMON_CONF_H
#define DAEMON_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum conf_bind { CONF_BIND_TRANSCEIVER, CONF_BIND_PAIR };
enum conf_long { CONF_LONG_UDH, CONF_LONG_SAR, CONF_LONG_PAYLOAD };
enum conf_protocol { CONF_PROTO_SMPP, CONF_PROTO_CMPP30, CONF_PROTO_CMPP20 };

/* Carrier links in one file at most ([smsc NAME] sections). */
#define CONF_MAX_LINKS    16
/* Extra submit_sm_resp statuses that move a message to its next link. */
#define CONF_MAX_REROUTE  8

/* One carrier link: an [smsc NAME] section, or the lone [smpp] section,
 * which is the link named "default". */
struct conf_smpp {
	char name[16];               /* 1-15 of a-z 0-9 _ - */
	int  line;                   /* its section's first key */
	int  enabled;
	int  protocol;               /* enum conf_protocol */
	char host[256];
	int  port;
	char system_id[16];
	char password[33];           /* SMPP: 8 at most; CMPP's secret: 32 */
	char password_file[PATH_MAX];  /* first line is the password */
	char system_type[13];
	int  bind;                   /* enum conf_bind */
	char source_addr[21];
	int  source_ton, source_npi;
	int  window;
	int  max_tps;
	int  enquire_link_s;
	int  response_timeout_s;
	int  reconnect_min_s, reconnect_max_s;
	int  long_messages;          /* enum conf_long */
	int  registered_delivery;
	char reroute_status[64];     /* "0x0b 0x45" as written */
	/* CMPP only */
	char service_id[11];
	char fee_type[3], fee_code[7];
	int  active_test_s;
	uint32_t reroute[CONF_MAX_REROUTE];
	int  nreroute;
};

struct conf {
	char path[PATH_MAX];         /* the file as given */
	char dir[PATH_MAX];          /* its folder, for relative paths */
	struct conf_smpp link[CONF_MAX_LINKS];  /* in file order */
	int  nlinks;
	struct {
		char routes[PATH_MAX];   /* "" = first link, then file order */
		int  failover_s;         /* a link unbound this long is passed by */
	} routing;
	struct {
		char path[PATH_MAX];     /* the SQLite database */
	} store;
	struct {
		char patterns[PATH_MAX]; /* intent patterns file */
	} parsers;
	struct {
		char path[PATH_MAX];     /* reply templates file */
	} templates;
	struct {
		int per_sender_per_hour; /* texts answered per sender per hour */
		int max_text_chars;      /* longer texts get the hint */
	} limits;
	struct {
		char country_code[5];    /* stripped as +CC, 00CC, CC */
	} locale;
	struct {
		char quiet_hours[12];    /* "21:00-08:00" or "" */
		int  quiet_from, quiet_to;   /* minutes after midnight; -1 none */
	} notify;
	struct {
		int retry_undelivered;   /* one more try after UNDELIV etc. */
		int validity_h;          /* give up on a message after this */
		int reply_backlog;       /* replies queued before acks wait */
	} outbox;
	struct {
		int  bodies;             /* log message texts (masked) */
	} log;
	struct {
		char listen[64];         /* "127.0.0.1:8080", "" = off */
		char token_file[PATH_MAX];
		int  max_body;           /* bytes */
	} http;
};

/*
 * Parses path into *c (fully reset first, defaults applied). Returns the
 * number of errors (0 = good); each is written as one line "file:line: msg"
 * to errs (may be NULL) as long as errlen allows.
 */
int conf_load(struct conf *c, const char *path, char *errs, size_t errlen);

/* Same, from an in-memory string; name is used in messages and for the
 * folder that relative paths resolve against. */
int conf_load_string(struct conf *c, const char *name, const char *text,
    char *errs, size_t errlen);

/* 0: do not read secret files ([smpp] password_file). smsgwctl needs no
 * bind password, and the credential exists only while the service runs. */
void conf_read_secrets(int yes);

/* The index of the link called name, or -1. */
int conf_link_find(const struct conf *c, const char *name);

/* Writes every key with its type, range and default, one per line (for the
 * man page and --help-config). */
void conf_describe(FILE *f);

#endif
