/*
 * Mobile-originated texts and receipts towards the ESME. Like a real SMSC,
 * every deliver_sm stays owed until a deliver_sm_resp ESME_ROK: a dropped
 * link puts it back at the head of the queue for the next bind, an error
 * response puts it at the tail after --mo-retry-ms.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "proto/charset.h"
#include "tools/sim/sim.h"

/* One SMS holds 160 septets or 140 octets (3GPP TS 23.038). */
#define SMS_GSM7_SEPTETS 160
#define SMS_UCS2_OCTETS  140

static const char *
kind_name(enum sim_mo_kind k)
{
	return k == SIM_MO_RECEIPT ? "receipt" : "mo";
}

/*
 * Sender numbering as a carrier would present it: "+8613..." international,
 * digits alone of unknown type, anything with letters alphanumeric
 * (SMPP 3.4 §5.2.5, TON 5).
 */
static void
set_sender(struct pdu_addr *a, const char *phone)
{
	const char *p = phone;
	bool digits = true;

	if (*p == '+')
		p++;
	for (const char *q = p; *q != '\0'; q++)
		if (!isdigit((unsigned char)*q))
			digits = false;
	snprintf(a->addr, sizeof(a->addr), "%s", digits ? p : phone);
	a->ton = !digits ? 5 : p != phone ? 1 : 0;
	a->npi = digits ? 1 : 0;
}

/* Fills one deliver_sm per part of the text. */
static void
fill_part(const struct segments *sg, int i, struct sim_mo *mo)
{
	const struct seg_part *sp = &sg->parts[i];
	struct pdu *p = &mo->pdu;

	mo->part = sp->seq;
	mo->parts = (uint8_t)sg->total;
	p->data_coding = sg->data_coding;
	/* A text that fits one SMS goes plain whatever --mo-long says. */
	if (sg->total == 1 && sp->len <= (sg->data_coding == DCS_GSM7 ?
	    SMS_GSM7_SEPTETS : SMS_UCS2_OCTETS)) {
		memcpy(p->sm, sp->data, sp->len);
		p->sm_len = (uint16_t)sp->len;
		return;
	}
	switch (sg->mode) {
	case SEG_UDH:
	case SEG_CMPP:
		p->esm_class = sg->esm_class;
		memcpy(p->sm, sp->data, sp->len);
		p->sm_len = (uint16_t)sp->len;
		break;
	case SEG_SAR:
		memcpy(p->sm, sp->data, sp->len);
		p->sm_len = (uint16_t)sp->len;
		p->tlvs |= PDU_HAS_SAR;
		p->sar_ref = sg->ref;
		p->sar_total = (uint8_t)sg->total;
		p->sar_seq = sp->seq;
		break;
	case SEG_PAYLOAD:
		memcpy(p->payload, sp->data, sp->len);
		p->payload_len = (uint16_t)sp->len;
		p->tlvs |= PDU_HAS_PAYLOAD;
		break;
	}
}

/* SMPP: one deliver_sm per part, split as --mo-long says. */
static int
split_smpp(struct sim *s, const char *text, size_t len,
    struct sim_mo_list *parts, uint8_t *dcs, char *err, size_t errlen)
{
	struct segments sg;
	int i, total;

	if (segment_text(text, len, s->opt.mo_long, s->mo_ref++, &sg, err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < sg.total; i++) {
		struct sim_mo *mo = calloc(1, sizeof(*mo));

		if (mo == NULL) {
			snprintf(err, errlen, "out of memory");
			segments_free(&sg);
			return -1;
		}
		pdu_init(&mo->pdu, PDU_DELIVER_SM, 0, 0);
		fill_part(&sg, i, mo);
		TAILQ_INSERT_TAIL(parts, mo, entry);
	}
	*dcs = sg.data_coding;
	total = sg.total;
	segments_free(&sg);
	return total;
}

static int
add_text(struct sim *s, const char *phone, const char *text, size_t len,
    char *err, size_t errlen)
{
	struct sim_mo_list parts = TAILQ_HEAD_INITIALIZER(parts);
	struct sim_json j;
	struct sim_mo *mo;
	uint8_t dcs = 0;
	int total;

	if (s->opt.protocol == SIM_SMPP)
		total = split_smpp(s, text, len, &parts, &dcs, err, errlen);
	else
		total = sim_cmpp_mo_split(s, text, len, &parts, &dcs, err,
		    errlen);
	if (total == -1) {
		sim_mo_free_list(&parts);
		return -1;
	}
	TAILQ_FOREACH(mo, &parts, entry) {
		mo->kind = SIM_MO_TEXT;
		set_sender(&mo->pdu.src, phone);
		snprintf(mo->pdu.dst.addr, sizeof(mo->pdu.dst.addr), "%s",
		    s->opt.short_code);
		mo->pdu.dst.npi = 1;
	}
	sim_json_begin(&j, "mo_queued");
	sim_json_str(&j, "from", phone);
	sim_json_str(&j, "to", s->opt.short_code);
	sim_json_int(&j, "parts", total);
	sim_json_int(&j, "dcs", dcs);
	sim_json_strn(&j, "text", text, len);
	if (s->opt.protocol != SIM_SMPP)
		sim_json_str(&j, "protocol", sim_cmpp_name(s));
	sim_json_end(&j);
	sim_human_mo(s, phone, text, len, total);
	TAILQ_CONCAT(&s->mo_queue, &parts, entry);
	sim_mo_pump(s);
	return 0;
}

/* "<phone> <text>"; blank lines and '#' comments are skipped (return 0). */
int
sim_mo_add_line(struct sim *s, const char *line, size_t len, char *err,
    size_t errlen)
{
	char phone[PDU_ADDR_MAX];
	size_t i = 0, p0;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	p0 = i;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	if (i - p0 >= sizeof(phone)) {
		snprintf(err, errlen, "phone number longer than %zu characters",
		    sizeof(phone) - 1);
		return -1;
	}
	memcpy(phone, line + p0, i - p0);
	phone[i - p0] = '\0';
	if (i < len)
		i++;                    /* one separator; the text keeps the rest */
	if (i == len) {
		snprintf(err, errlen, "no text after the phone number");
		return -1;
	}
	return add_text(s, phone, line + i, len - i, err, errlen);
}

void
sim_mo_enqueue(struct sim *s, struct sim_mo *mo)
{
	TAILQ_INSERT_TAIL(&s->mo_queue, mo, entry);
	sim_mo_pump(s);
}

static void
send_mo(struct sim_conn *c, struct sim_mo *mo)
{
	struct sim_json j;

	mo->pdu.sequence = sim_conn_next_seq(c);
	mo->attempts++;
	TAILQ_INSERT_TAIL(&c->outstanding, mo, entry);
	c->n_out++;

	sim_json_begin(&j, "deliver_sm");
	sim_json_int(&j, "seq", mo->pdu.sequence);
	sim_json_str(&j, "kind", kind_name(mo->kind));
	sim_json_str(&j, "src", mo->pdu.src.addr);
	sim_json_str(&j, "dst", mo->pdu.dst.addr);
	sim_json_int(&j, "part", mo->part);
	sim_json_int(&j, "parts", mo->parts);
	sim_json_int(&j, "attempt", mo->attempts);
	sim_json_int(&j, "conn", c->id);
	if (c->sim->opt.protocol != SIM_SMPP) {
		sim_json_str(&j, "protocol", sim_cmpp_name(c->sim));
		sim_json_int(&j, "msg_fmt", mo->pdu.data_coding);
	}
	sim_json_end(&j);
	sim_human_mo_sent(c->sim, mo);
	/* On failure the close has already requeued it. */
	if (c->sim->opt.protocol != SIM_SMPP)
		sim_cmpp_send_mo(c, mo);
	else
		sim_conn_send(c, &mo->pdu);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sim_mo_pump(arg);
}

int
sim_mo_init(struct sim *s)
{
	s->ev_mo_retry = evtimer_new(s->base, retry_cb, s);
	return s->ev_mo_retry != NULL ? 0 : -1;
}

static struct sim_mo *
first_ready(struct sim *s, uint64_t now)
{
	struct sim_mo *mo;

	TAILQ_FOREACH(mo, &s->mo_queue, entry)
		if (mo->not_before_ms <= now)
			return mo;
	return NULL;
}

static void
pump_once(struct sim *s)
{
	uint64_t now = sim_now_ms();
	struct sim_conn *c;
	struct sim_mo *mo;

restart:
	TAILQ_FOREACH(c, &s->conns, entry) {
		while (sim_conn_can_receive(c) && c->n_out < s->opt.mo_window &&
		    (mo = first_ready(s, now)) != NULL) {
			TAILQ_REMOVE(&s->mo_queue, mo, entry);
			send_mo(c, mo);
			/* A failed write closed c: the list changed under us. */
			if (c->dead)
				goto restart;
		}
	}
}

/*
 * Fills every receiver's window from the queue, in queue order. Closing a
 * link pumps too, so a nested call only asks the running one to go again.
 */
void
sim_mo_pump(struct sim *s)
{
	struct sim_mo *mo;
	uint64_t now, wake = UINT64_MAX;

	if (s->stopping)
		return;
	if (s->pumping) {
		s->pump_again = true;
		return;
	}
	s->pumping = true;
	do {
		s->pump_again = false;
		pump_once(s);
	} while (s->pump_again);
	s->pumping = false;

	now = sim_now_ms();
	TAILQ_FOREACH(mo, &s->mo_queue, entry)
		if (mo->not_before_ms > now && mo->not_before_ms < wake)
			wake = mo->not_before_ms;
	if (wake != UINT64_MAX && s->ev_mo_retry != NULL) {
		struct timeval tv;
		uint64_t ms = wake - now;

		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		event_add(s->ev_mo_retry, &tv);
	}
}

/*
 * The answer to our deliver_sm (DELIVER) seq: ok, or refused with status
 * (a name). result is the CMPP Result, or -1 for SMPP; nack: a
 * generic_nack, which need not be about a deliver_sm at all.
 */
static void
answered(struct sim_conn *c, uint32_t seq, bool ok, const char *status,
    long result, bool nack)
{
	struct sim *s = c->sim;
	struct sim_json j;
	struct sim_mo *mo;

	TAILQ_FOREACH(mo, &c->outstanding, entry)
		if (mo->pdu.sequence == seq)
			break;
	if (mo == NULL) {
		if (!nack)
			sim_log("conn %u: deliver_sm_resp for unknown seq %u",
			    c->id, seq);
		return;
	}
	TAILQ_REMOVE(&c->outstanding, mo, entry);
	c->n_out--;

	sim_json_begin(&j, "deliver_sm_resp");
	sim_json_int(&j, "seq", seq);
	sim_json_str(&j, "status", status);
	sim_json_str(&j, "to", mo->pdu.src.addr);
	sim_json_str(&j, "kind", kind_name(mo->kind));
	sim_json_int(&j, "conn", c->id);
	if (result >= 0) {
		sim_json_int(&j, "result", result);
		sim_json_str(&j, "protocol", sim_cmpp_name(s));
	}
	sim_json_end(&j);

	if (!ok) {
		sim_human_refused(mo, status, s->opt.mo_retry_ms);
		mo->not_before_ms = sim_now_ms() + (uint64_t)s->opt.mo_retry_ms;
		TAILQ_INSERT_TAIL(&s->mo_queue, mo, entry);
	} else
		free(mo);
	sim_mo_pump(s);
}

/* deliver_sm_resp, or a generic_nack that may answer a deliver_sm. */
void
sim_mo_resp(struct sim_conn *c, const struct pdu *p)
{
	if (c->sim->load != NULL && sim_load_resp(c, p))
		return;
	answered(c, p->sequence, p->command_id != PDU_GENERIC_NACK &&
	    p->command_status == ESME_OK, pdu_status_name(p->command_status),
	    -1, p->command_id == PDU_GENERIC_NACK);
}

/* A CMPP DELIVER_RESP: Result 0 is "ESME_ROK" in the event, as for SMPP,
 * so that a test reads both protocols alike. */
void
sim_mo_cmpp_resp(struct sim_conn *c, uint32_t seq, uint32_t result)
{
	if (c->sim->load != NULL && sim_load_ack(c, seq, result == 0))
		return;
	answered(c, seq, result == 0, result == 0 ? "ESME_ROK" :
	    cmpp_result_name(result), (long)result, false);
}

/* Puts a dead link's unacknowledged deliver_sm back first in line. */
void
sim_mo_requeue(struct sim_conn *c)
{
	struct sim_mo *mo;

	while ((mo = TAILQ_LAST(&c->outstanding, sim_mo_list)) != NULL) {
		TAILQ_REMOVE(&c->outstanding, mo, entry);
		mo->not_before_ms = 0;
		TAILQ_INSERT_HEAD(&c->sim->mo_queue, mo, entry);
	}
	c->n_out = 0;
}

void
sim_mo_free_list(struct sim_mo_list *l)
{
	struct sim_mo *mo;

	while ((mo = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, mo, entry);
		free(mo);
	}
}
