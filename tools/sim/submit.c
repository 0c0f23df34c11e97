/*
 * submit_sm as the carrier sees it: admission (bind state, --no-resp,
 * --throttle, --msgqfull, --max-tps; the last three in --load mode too), a
 * message id, one "submit_sm" line per part, one "message" line (or phone
 * line) per reassembled text, and the delivery receipt (--dlr).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/charset.h"
#include "proto/reasm.h"
#include "proto/udh.h"
#include "tools/sim/sim.h"

#define SIM_ESME_RINVESMCLASS 0x43
#define PPM 1000000u

/* Where this submit_sm's text is and which part of a message it is. */
/* UDH concatenation wins over SAR TLVs; message_payload is a whole text. */
static int
part_of(const struct pdu *p, struct sim_part *pt, char *err, size_t errlen)
{
	struct udh_concat uc;
	size_t hl;

	pt->data = p->sm;
	pt->len = p->sm_len;
	pt->ref = 0;
	pt->seq = pt->total = 1;
	if (p->sm_len == 0 && (p->tlvs & PDU_HAS_PAYLOAD)) {
		pt->data = p->payload;
		pt->len = p->payload_len;
	}
	if (p->esm_class & PDU_ESM_UDHI) {
		if (udh_parse(pt->data, pt->len, &uc, &hl, err, errlen) == -1)
			return -1;
		pt->data += hl;
		pt->len -= hl;
		if (uc.present) {
			pt->ref = uc.ref;
			pt->total = uc.total;
			pt->seq = uc.seq;
		}
	} else if (p->tlvs & PDU_HAS_SAR) {
		if (p->sar_total == 0 || p->sar_seq == 0 ||
		    p->sar_seq > p->sar_total) {
			snprintf(err, errlen, "SAR segment %u of %u",
			    p->sar_seq, p->sar_total);
			return -1;
		}
		pt->ref = p->sar_ref;
		pt->total = p->sar_total;
		pt->seq = p->sar_seq;
	}
	return 0;
}

/* Decodes to a malloc'd UTF-8 string (*n bytes), or NULL with err. */
static char *
decode(uint8_t dcs, const uint8_t *data, size_t len, int *n, char *err,
    size_t errlen)
{
	enum charset cs;
	size_t cap;
	char *out;

	if (charset_from_dcs(dcs, &cs, err, errlen) == -1)
		return NULL;
	cap = charset_utf8_bound(cs, len) + 1;
	if ((out = malloc(cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((*n = charset_decode(cs, data, len, out, cap, err, errlen)) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Deterministic: the accumulator overflows exactly every 1/FRAC submits. */
static bool
throttled(struct sim *s)
{
	if (s->opt.throttle_ppm == 0)
		return false;
	s->throttle_acc += s->opt.throttle_ppm;
	if (s->throttle_acc < PPM)
		return false;
	s->throttle_acc -= PPM;
	return true;
}

/* A seeded xorshift64: every run refuses the same submits, at random. */
static bool
queue_full(struct sim *s)
{
	uint64_t x = s->msgqfull_rng != 0 ? s->msgqfull_rng :
	    0x9E3779B97F4A7C15ull;

	if (s->opt.msgqfull_ppm == 0)
		return false;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s->msgqfull_rng = x;
	return x % PPM < s->opt.msgqfull_ppm;
}

/* --refuse-prefix: the status for this destination, or ESME_OK. */
static uint32_t
refused(const struct sim *s, const struct pdu *p)
{
	for (int i = 0; i < s->opt.nrefuse; i++)
		if (strncmp(p->dst.addr, s->opt.refuse[i].prefix,
		    strlen(s->opt.refuse[i].prefix)) == 0)
			return s->opt.refuse[i].status;
	return ESME_OK;
}

static bool
over_tps(struct sim *s)
{
	uint64_t second = sim_now_ms() / 1000;

	if (s->opt.max_tps <= 0)
		return false;
	if (second != s->tps_second) {
		s->tps_second = second;
		s->tps_count = 0;
	}
	if (s->tps_count >= s->opt.max_tps)
		return true;
	s->tps_count++;
	return false;
}

/* --throttle, then --msgqfull, then --max-tps (which counts only the
 * submits it lets through): ESME_OK or the status to answer with. */
static uint32_t
admit(struct sim *s)
{
	if (throttled(s))
		return ESME_THROTTLED;
	if (queue_full(s))
		return ESME_MSGQFUL;
	if (over_tps(s))
		return ESME_THROTTLED;
	return ESME_OK;
}

/* admit() for the CMPP side (cmpp.c), which answers Result 8 for both. */
uint32_t
sim_submit_admit(struct sim *s)
{
	return admit(s);
}

static void
format_id(uint64_t v, bool dec, char *buf, size_t len)
{
	if (dec)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIx64, v);
}

/* Receipt "text:" quotes the first 20 characters; non-ASCII becomes '?'. */
static void
receipt_snippet(const char *utf8, int n, char out[21])
{
	int i = 0, o = 0, k;
	uint32_t cp;

	while (i < n && o < 20) {
		k = utf8_next(utf8 + i, (size_t)(n - i), &cp);
		if (k <= 0) {
			k = 1;
			cp = '?';
		}
		out[o++] = cp >= 0x20 && cp < 0x7f ? (char)cp : '?';
		i += k;
	}
	out[o] = '\0';
}

static bool
state_ok(enum dlr_state st)
{
	return st == DLR_DELIVERED || st == DLR_ENROUTE || st == DLR_ACCEPTED;
}

/* Whether --dlr sends a receipt for this submit_sm: registered_delivery
 * bits 0-1 are 1 for always, 2 for on failure only. */
static bool
receipt_wanted(const struct sim_opts *o, const struct pdu *p)
{
	return o->dlr && ((p->registered_delivery & 3) == 1 ||
	    ((p->registered_delivery & 3) == 2 && !state_ok(o->dlr_state)));
}

/* The deliver_sm receipt for an accepted submit_sm (SMPP 3.4 Appendix B). */
static struct sim_mo *
receipt_new(struct sim *s, const struct pdu *p, uint64_t idval,
    const char *text, int textlen)
{
	const struct sim_opts *o = &s->opt;
	enum dlr_state st = o->dlr_state;
	bool ok = state_ok(st);
	char id[24], textid[24], date[64], snip[21];
	struct sim_mo *mo;
	struct tm tm;
	time_t now = time(NULL);
	int n;

	if (!receipt_wanted(o, p))
		return NULL;
	if ((mo = calloc(1, sizeof(*mo))) == NULL)
		return NULL;
	format_id(idval, o->msgid_dec, id, sizeof(id));
	format_id(idval, o->msgid_dec != o->dlr_other_form, textid,
	    sizeof(textid));
	localtime_r(&now, &tm);
	/* YYMMDDhhmm: the receipt format only has two year digits. */
	snprintf(date, sizeof(date), "%02d%02d%02d%02d%02d", tm.tm_year % 100,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
	receipt_snippet(text != NULL ? text : "", text != NULL ? textlen : 0,
	    snip);

	mo->kind = SIM_MO_RECEIPT;
	mo->part = mo->parts = 1;
	pdu_init(&mo->pdu, PDU_DELIVER_SM, 0, 0);
	mo->pdu.src = p->dst;
	mo->pdu.dst = p->src;
	mo->pdu.esm_class = PDU_ESM_RECEIPT;
	n = snprintf((char *)mo->pdu.sm, sizeof(mo->pdu.sm),
	    "id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s "
	    "err:%s text:%s", textid, ok ? "001" : "000", date, date,
	    dlr_state_name(st), ok ? "000" : "001", snip);
	mo->pdu.sm_len = (uint16_t)(n < (int)sizeof(mo->pdu.sm) ? n :
	    (int)sizeof(mo->pdu.sm) - 1);
	if (!o->dlr_no_tlv) {
		mo->pdu.tlvs = PDU_HAS_RECEIPTED_ID | PDU_HAS_MSG_STATE;
		snprintf(mo->pdu.receipted_id, sizeof(mo->pdu.receipted_id),
		    "%s", id);
		mo->pdu.message_state = (uint8_t)st;
	}
	return mo;
}

static void
expired(void *arg, const struct reasm_dropped *d)
{
	(void)arg;
	sim_log("reassembly of %s -> %s ref %u dropped: %u of %u parts after "
	    "%" PRIu64 " ms", d->src, d->dst, d->ref, d->have, d->total,
	    d->age_ms);
}

void
sim_reassemble(struct sim *s, const struct sim_msg_route *r,
    const struct sim_part *pt, uint8_t coding, sim_decode_fn decode_fn)
{
	struct reasm_msg m;
	struct sim_json j;
	char err[256] = "";
	char *text;
	int rc, n = 0;

	reasm_expire(s->reasm, sim_now_ms(), expired, NULL);
	rc = reasm_add(s->reasm, r->src, r->dst, pt->ref, pt->total, pt->seq,
	    coding, pt->data, pt->len, sim_now_ms(), &m, err, sizeof(err));
	if (rc == REASM_ERROR)
		sim_log("reassembly: %s", err);
	if (rc != REASM_COMPLETE)
		return;
	text = decode_fn(m.data_coding, m.data, m.len, &n, err, sizeof(err));
	sim_json_begin(&j, "message");
	sim_json_str(&j, "src", r->src);
	sim_json_str(&j, "dst", r->dst);
	sim_json_int(&j, "dst_ton", r->dst_ton);
	sim_json_int(&j, "parts", m.total);
	sim_json_int(&j, "dcs", m.data_coding);
	sim_json_strn(&j, "text", text != NULL ? text : "",
	    text != NULL ? (size_t)n : 0);
	sim_json_int(&j, "src_ton", r->src_ton);
	sim_json_int(&j, "ref", pt->ref);
	if (text == NULL)
		sim_json_str(&j, "decode_error", err);
	if (r->protocol != NULL) {
		sim_json_int(&j, "msg_fmt", m.data_coding);
		sim_json_str(&j, "protocol", r->protocol);
	}
	sim_json_end(&j);
	/* The simulated handset's fate is fixed at acceptance (--dlr-stat),
	 * so the line shows what the receipt will say without waiting. */
	sim_human_message(s, r->dst, text, n, err, m.total, r->fate);
	free(text);
	free(m.data);
	sim_message_done(s);
}

/* Feeds an accepted submit_sm part to reassembly. */
static void
reassemble(struct sim *s, const struct pdu *p, const struct sim_part *pt)
{
	struct sim_msg_route r = {
		.src = p->src.addr, .dst = p->dst.addr,
		.src_ton = p->src.ton, .dst_ton = p->dst.ton,
		.fate = receipt_wanted(&s->opt, p) ? &s->opt.dlr_state : NULL,
	};

	sim_reassemble(s, &r, pt, p->data_coding, decode);
}

void
sim_submit_handle(struct sim_conn *c, const struct pdu *p)
{
	struct sim *s = c->sim;
	struct sim_mo *receipt = NULL;
	struct sim_json j;
	struct sim_part pt;
	struct pdu r;
	char perr[128] = "", derr[128] = "", msgid[24] = "";
	uint32_t st = ESME_OK;
	uint64_t idval = 0;
	bool answer = true, parsed;
	char *text = NULL;
	int n = 0;

	if (s->load != NULL) {
		/* A refused submit is no reply: the load counts accepted ones. */
		if (c->tx && (st = admit(s)) != ESME_OK) {
			pdu_init(&r, PDU_SUBMIT_SM | PDU_RESP_BIT, st,
			    p->sequence);
			sim_conn_send(c, &r);
			return;
		}
		sim_load_submit(c, p);
		return;
	}
	parsed = part_of(p, &pt, perr, sizeof(perr)) == 0;
	if (!c->tx)
		st = ESME_INVBNDSTS;
	else if (!parsed)
		st = SIM_ESME_RINVESMCLASS;
	else if (s->opt.no_resp)
		answer = false;
	else if ((st = refused(s, p)) != ESME_OK)
		;
	else
		st = admit(s);
	if (answer && st == ESME_OK) {
		idval = s->next_msgid++;
		format_id(idval, s->opt.msgid_dec, msgid, sizeof(msgid));
	}
	if (parsed)
		text = decode(p->data_coding, pt.data, pt.len, &n, derr,
		    sizeof(derr));

	sim_json_begin(&j, "submit_sm");
	sim_json_int(&j, "seq", p->sequence);
	sim_json_str(&j, "message_id", msgid);
	sim_json_str(&j, "src", p->src.addr);
	sim_json_int(&j, "src_ton", p->src.ton);
	sim_json_int(&j, "src_npi", p->src.npi);
	sim_json_str(&j, "dst", p->dst.addr);
	sim_json_int(&j, "dst_ton", p->dst.ton);
	sim_json_int(&j, "dst_npi", p->dst.npi);
	sim_json_int(&j, "dcs", p->data_coding);
	sim_json_int(&j, "esm_class", p->esm_class);
	sim_json_int(&j, "registered_delivery", p->registered_delivery);
	sim_json_int(&j, "part", parsed ? pt.seq : 0);
	sim_json_int(&j, "parts", parsed ? pt.total : 0);
	sim_json_int(&j, "ref", parsed ? pt.ref : 0);
	sim_json_strn(&j, "text", text != NULL ? text : "",
	    text != NULL ? (size_t)n : 0);
	sim_json_str(&j, "status", answer ? pdu_status_name(st) :
	    "NO_RESPONSE");
	if (!parsed)
		sim_json_str(&j, "error", perr);
	else if (text == NULL)
		sim_json_str(&j, "decode_error", derr);
	sim_json_int(&j, "conn", c->id);
	sim_json_end(&j);

	if (answer && st == ESME_OK) {
		reassemble(s, p, &pt);
		receipt = receipt_new(s, p, idval, text, n);
	}
	free(text);
	if (!answer)
		return;
	pdu_init(&r, PDU_SUBMIT_SM | PDU_RESP_BIT, st, p->sequence);
	snprintf(r.message_id, sizeof(r.message_id), "%s", msgid);
	sim_conn_respond(c, &r, receipt != NULL ? SIM_AFTER_RECEIPT :
	    SIM_AFTER_NONE, receipt);
}
