/*
 * smsc-sim: a carrier SMSC for tests, demos and benchmarks. One event loop,
 * our proto/ codec, every observable event one JSON line on stdout (or, with
 * a person at the terminal, one line as a phone would show it). This header
 * is private to tools/sim/.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "proto/cmpp.h"
#include "proto/dlr.h"
#include "proto/pdu.h"
#include "proto/segment.h"

struct event;
struct event_base;
struct bufferevent;
struct evbuffer;
struct evconnlistener;
struct reasm;

/* --refuse-prefix PREFIX:STATUS: submits to these numbers get STATUS. */
#define SIM_REFUSE_MAX 8
struct sim_refuse {
	char     prefix[PDU_ADDR_MAX];
	uint32_t status;
};

/* --protocol: what the listener speaks. */
enum sim_proto { SIM_SMPP, SIM_CMPP30, SIM_CMPP20 };

struct sim_opts {
	char     listen[64];             /* host:port */
	char     system_id[16];          /* CMPP: the SP_Id (6 characters) */
	char     password[33];           /* SMPP: 8 characters at most */
	enum sim_proto protocol;
	bool     mo_gbk, mo_udh16;       /* CMPP MO: Msg_Fmt 15, 16-bit ref */
	uint32_t cmpp_result;            /* --cmpp-result N[:FRAC], 0 = off */
	uint32_t cmpp_result_ppm;
	char     inject[4096];           /* "" = none */
	char     short_code[PDU_ADDR_MAX];
	bool     no_stdin, dlr, dlr_no_tlv, dlr_other_form;
	bool     msgid_dec, drop_once, no_resp;
	bool     json;                   /* JSON lines even on a terminal */
	enum seg_mode  mo_long;
	enum dlr_state dlr_state;
	long     mo_window, mo_retry_ms, drop_after, delay_ms, max_tps;
	long     enquire_link_s, exit_after;
	uint32_t throttle_ppm;           /* parts per million of submits */
	uint32_t msgqfull_ppm;           /* --msgqfull, parts per million */
	long     load, load_window, load_rate;   /* --load: 0 = off */
	char     load_cases[4096];
	struct sim_refuse refuse[SIM_REFUSE_MAX];
	int      nrefuse;
};

enum sim_mo_kind { SIM_MO_TEXT, SIM_MO_RECEIPT };

/* One deliver_sm the SMSC owes the ESME until a deliver_sm_resp ESME_ROK. */
struct sim_mo {
	TAILQ_ENTRY(sim_mo) entry;
	enum sim_mo_kind kind;
	uint8_t  part, parts;
	unsigned attempts;
	uint64_t not_before_ms;          /* retry delay after an error resp */
	struct pdu pdu;                  /* sequence is set at each send */
	struct cmpp_report report;       /* CMPP: a receipt's status report */
};
TAILQ_HEAD(sim_mo_list, sim_mo);

/* What to do once a (possibly delayed) response has been written. */
enum sim_after { SIM_AFTER_NONE, SIM_AFTER_BOUND, SIM_AFTER_CLOSE,
	SIM_AFTER_RECEIPT, SIM_AFTER_TERMINATE };

struct sim_delayed;
TAILQ_HEAD(sim_delayed_list, sim_delayed);

struct sim_conn {
	TAILQ_ENTRY(sim_conn) entry;
	struct sim          *sim;
	struct bufferevent  *bev;
	unsigned             id;
	char                 peer[64];
	const char          *mode;       /* "transceiver" once bound, or NULL */
	char                 esme[16];   /* system_id it bound with */
	bool                 tx, rx;     /* may submit / may get deliver_sm */
	bool                 pending_rx; /* rx once bind_resp is written */
	bool                 dead;       /* closed, waiting to be reaped */
	bool                 draining;   /* flush output, then close */
	const char          *drain_reason;
	uint32_t             next_seq;
	unsigned long        rx_pdus;
	struct sim_mo_list   outstanding;
	long                 n_out;
	struct sim_delayed_list delayed;
	struct event        *delay_timer;
	struct event        *enquire;
};
TAILQ_HEAD(sim_conn_list, sim_conn);

struct sim_owed;                         /* human.c */
TAILQ_HEAD(sim_owed_list, sim_owed);

struct sim {
	struct sim_opts        opt;
	struct event_base     *base;
	struct evconnlistener *listener;
	struct event          *ev_sigint, *ev_sigterm, *ev_stdin;
	struct event          *ev_reap, *ev_mo_retry;
	struct evbuffer       *stdin_buf;
	struct sim_conn_list   conns, dead;
	struct sim_mo_list     mo_queue;
	struct reasm          *reasm;
	unsigned               next_conn_id;
	uint64_t               next_msgid;
	uint64_t               throttle_acc;
	uint64_t               msgqfull_rng;     /* xorshift state, 0 = unseeded */
	uint64_t               cmpp_result_acc;  /* --cmpp-result FRAC */
	uint16_t               cmpp_seq;         /* Msg_Id sequence */
	uint32_t               cmpp_report_seq;  /* SMSC_sequence */
	uint64_t               tps_second;
	long                   tps_count;
	long                   messages;
	bool                   dropped;
	bool                   pumping, pump_again;
	bool                   stopping;         /* no new sends at shutdown */
	uint16_t               mo_ref;
	struct sim_load       *load;             /* --load, or NULL */
	struct sim_owed_list   owed;             /* human.c: replies or notices */
	unsigned               n_owed;
};

/* main.c */
void     sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t sim_now_ms(void);
void     sim_message_done(struct sim *s);

/* json.c: one event per line on stdout, flushed. */
struct sim_json {
	char   *buf;
	size_t  len, cap;
	bool    failed;
	bool    mute;                    /* --load: only a few events print */
};
extern bool sim_json_quiet;
void sim_json_begin(struct sim_json *j, const char *event);
void sim_json_str(struct sim_json *j, const char *key, const char *v);
void sim_json_strn(struct sim_json *j, const char *key, const char *v,
    size_t n);
void sim_json_int(struct sim_json *j, const char *key, long long v);
void sim_json_end(struct sim_json *j);

/* conn.c */
int  sim_conn_accept(struct sim *s, int fd, const char *peer);
void sim_conn_close(struct sim_conn *c, const char *reason);
int  sim_conn_send(struct sim_conn *c, const struct pdu *p);
int  sim_conn_write(struct sim_conn *c, const uint8_t *b, size_t len);
uint32_t sim_conn_next_seq(struct sim_conn *c);
void sim_conn_respond(struct sim_conn *c, const struct pdu *r,
    enum sim_after after, struct sim_mo *receipt);
void sim_conn_respond_bytes(struct sim_conn *c, const uint8_t *b,
    size_t len, enum sim_after after, struct sim_mo *receipt);
void sim_conn_reap(struct sim *s);
bool sim_conn_can_receive(const struct sim_conn *c);

/* One part of a submitted message, from its UDH (or SAR): the same shape
 * whichever protocol carried it. */
struct sim_part {
	const uint8_t *data;
	size_t         len;
	uint16_t       ref;
	uint8_t        seq, total;
};

/* Where a submitted message goes and how its parts read, for the
 * "message" event; protocol is NULL for SMPP, else "cmpp30"/"cmpp20",
 * which also adds the Msg_Fmt to the event. */
struct sim_msg_route {
	const char *src, *dst;
	int         src_ton, dst_ton;
	const char *protocol;
	const enum dlr_state *fate;   /* the receipt it will get, or NULL */
};
/* Text of a whole message in coding (data_coding, or CMPP's Msg_Fmt):
 * malloc'd UTF-8 with its length in *n, or NULL with err. */
typedef char *(*sim_decode_fn)(uint8_t coding, const uint8_t *data,
    size_t len, int *n, char *err, size_t errlen);

/* submit.c */
/* Feeds an accepted part to reassembly; prints "message" (and the human
 * line) when the message is whole. */
void sim_reassemble(struct sim *s, const struct sim_msg_route *r,
    const struct sim_part *pt, uint8_t coding, sim_decode_fn decode);
void sim_submit_handle(struct sim_conn *c, const struct pdu *p);
uint32_t sim_submit_admit(struct sim *s);

/* mo.c */
int  sim_mo_init(struct sim *s);
int  sim_mo_add_line(struct sim *s, const char *line, size_t len, char *err,
    size_t errlen);
void sim_mo_enqueue(struct sim *s, struct sim_mo *mo);
void sim_mo_pump(struct sim *s);
void sim_mo_resp(struct sim_conn *c, const struct pdu *p);
void sim_mo_cmpp_resp(struct sim_conn *c, uint32_t seq, uint32_t result);
void sim_mo_requeue(struct sim_conn *c);
void sim_mo_free_list(struct sim_mo_list *l);

/*
 * human.c: with a terminal on stdin and no --json, these print the phone
 * lines and the JSON stream is muted; otherwise they do nothing.
 */
extern bool sim_human;
void sim_human_listening(struct sim *s, const char *host, unsigned port);
void sim_human_bind(struct sim_conn *c, const char *mode,
    const char *system_id, const char *refusal);
void sim_human_close(struct sim_conn *c, const char *reason);
void sim_human_mo(struct sim *s, const char *phone, const char *text,
    size_t len, int parts);
void sim_human_mo_sent(struct sim *s, const struct sim_mo *mo);
void sim_human_refused(const struct sim_mo *mo, const char *status,
    long retry_ms);
void sim_human_message(struct sim *s, const char *dst, const char *text,
    int n, const char *decode_error, int parts,
    const enum dlr_state *outcome);
void sim_human_free(struct sim *s);

/* load.c */
struct sim_load;
struct sim_load *sim_load_new(struct sim *s);
void sim_load_free(struct sim_load *l);
void sim_load_bound(struct sim_conn *c);
void sim_load_closed(struct sim_conn *c);
bool sim_load_resp(struct sim_conn *c, const struct pdu *p);
bool sim_load_ack(struct sim_conn *c, uint32_t seq, bool ok);
void sim_load_submit(struct sim_conn *c, const struct pdu *p);
void sim_load_count(struct sim_conn *c, const char *dst, bool first);
void sim_load_check_done(struct sim_load *l);

/*
 * cmpp.c: the listener as a China Mobile ISMG (CMPP 3.0 or 2.0): CONNECT
 * with the authenticator check, SUBMIT, DELIVER (MO texts, status
 * reports), ACTIVE_TEST, TERMINATE, and the --load driver's frames.
 */
const char *sim_cmpp_name(const struct sim *s);
int  sim_cmpp_frame_len(const uint8_t *hdr, size_t n, uint32_t *len,
    char *err, size_t errlen);
void sim_cmpp_handle(struct sim_conn *c, const uint8_t *buf, size_t len);
void sim_cmpp_active_test(struct sim_conn *c);
int  sim_cmpp_mo_split(struct sim *s, const char *text, size_t len,
    struct sim_mo_list *parts, uint8_t *fmt, char *err, size_t errlen);
int  sim_cmpp_send_mo(struct sim_conn *c, const struct sim_mo *mo);
int  sim_cmpp_send_text(struct sim_conn *c, uint32_t seq, const char *src,
    const char *text, size_t len);

#endif
