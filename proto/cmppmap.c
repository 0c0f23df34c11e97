/*
 * SMPP ⇄ CMPP translation for the CMPP link: submit_sm → SUBMIT,
 * DELIVER → deliver_sm (texts and status reports), SMPP status →
 * DELIVER_RESP Result. Pure; see cmppmap.h.
 */
#include "proto/cmppmap.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "proto/charset.h"
#include "proto/dlr.h"
#include "proto/udh.h"

/* ---- SUBMIT from an SMPP submit_sm -------------------------------------- */

/* Msg_Content, Msg_Fmt, Pk_total/Pk_number and TP_udhi of p into m. */
static int
submit_content(const struct pdu *p, struct cmpp *m, char *err, size_t errlen)
{
	size_t hdr = 0, i;
	struct udh_concat cc = { 0 };

	if (p->tlvs & PDU_HAS_PAYLOAD) {
		snprintf(err, errlen, "message_payload not supported on CMPP");
		return -1;
	}
	if (p->tlvs & PDU_HAS_SAR) {
		snprintf(err, errlen, "SAR parameters not supported on CMPP");
		return -1;
	}
	m->pk_total = m->pk_number = 1;
	if (p->esm_class & PDU_ESM_UDHI) {
		if (udh_parse(p->sm, p->sm_len, &cc, &hdr, err, errlen) == -1)
			return -1;
		if (cc.present) {
			m->pk_total = cc.total;
			m->pk_number = cc.seq;
		}
		m->tp_udhi = 1;
	}
	switch (p->data_coding) {
	case DCS_UCS2:
		m->msg_fmt = CMPP_FMT_UCS2;
		break;
	case DCS_IA5:
		m->msg_fmt = CMPP_FMT_ASCII;
		break;
	case DCS_GSM7: {
		char text[PDU_SM_MAX * 2 + 1];
		int n;

		m->msg_fmt = CMPP_FMT_ASCII;
		n = charset_decode(CS_GSM7, p->sm + hdr, p->sm_len - hdr, text,
		    sizeof(text), err, errlen);
		if (n < 0)
			return -1;
		for (i = 0; i < (size_t)n; i++)
			if ((unsigned char)text[i] >= 0x80) {
				snprintf(err, errlen, "a GSM 7-bit text with "
				    "characters outside ASCII (CMPP Msg_Fmt 0)");
				return -1;
			}
		if (hdr + (size_t)n > CMPPMAP_SMS_OCTETS) {
			snprintf(err, errlen, "%zu octets as ASCII, over "
			    "CMPP's %d", hdr + (size_t)n, CMPPMAP_SMS_OCTETS);
			return -1;
		}
		memcpy(m->msg_content, p->sm, hdr);
		memcpy(m->msg_content + hdr, text, (size_t)n);
		m->msg_length = (uint8_t)(hdr + (size_t)n);
		return 0;
	}
	default:
		snprintf(err, errlen, "data_coding 0x%02x not supported on CMPP",
		    p->data_coding);
		return -1;
	}
	if (p->sm_len > CMPPMAP_SMS_OCTETS) {
		snprintf(err, errlen, "%u octets, over CMPP's %d", p->sm_len,
		    CMPPMAP_SMS_OCTETS);
		return -1;
	}
	memcpy(m->msg_content, p->sm, p->sm_len);
	m->msg_length = (uint8_t)p->sm_len;
	return 0;
}

int
cmppmap_submit(const struct pdu *p, uint32_t seq, const struct cmppmap_sp *sp,
    struct cmpp *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->command_id = CMPP_SUBMIT;
	m->sequence = seq;
	if (submit_content(p, m, err, errlen) == -1)
		return -1;
	if (strlen(p->dst.addr) >= sizeof(m->dest_terminal_id) ||
	    strlen(p->src.addr) >= sizeof(m->src_id)) {
		snprintf(err, errlen, "an address too long for CMPP");
		return -1;
	}
	m->registered_delivery = p->registered_delivery ? 1 : 0;
	snprintf(m->service_id, sizeof(m->service_id), "%s", sp->service_id);
	snprintf(m->msg_src, sizeof(m->msg_src), "%s", sp->sp_id);
	snprintf(m->fee_type, sizeof(m->fee_type), "%s", sp->fee_type);
	snprintf(m->fee_code, sizeof(m->fee_code), "%s", sp->fee_code);
	snprintf(m->src_id, sizeof(m->src_id), "%s", p->src.addr);
	snprintf(m->dest_terminal_id, sizeof(m->dest_terminal_id), "%s",
	    p->dst.addr);
	return 0;
}

/* ---- DELIVER to an SMPP deliver_sm -------------------------------------- */

void
cmppmap_report(const struct cmpp_report *r, struct pdu *p)
{
	char stat[sizeof(r->stat)], hex[17];
	size_t i;
	int n;

	for (i = 0; r->stat[i] != '\0' && i + 1 < sizeof(stat); i++)
		stat[i] = isgraph((unsigned char)r->stat[i]) ? r->stat[i] : '?';
	stat[i] = '\0';
	cmpp_msgid_hex(r->msg_id, hex);
	p->esm_class = PDU_ESM_RECEIPT;
	p->tlvs |= PDU_HAS_RECEIPTED_ID;
	snprintf(p->receipted_id, sizeof(p->receipted_id), "%s", hex);
	if (dlr_state_from_stat(stat) == DLR_UNKNOWN_STATE) {
		p->tlvs |= PDU_HAS_MSG_STATE;
		p->message_state = DLR_UNDELIVERABLE;
	}
	n = snprintf((char *)p->sm, sizeof(p->sm), "id:%s sub:001 dlvrd:001 "
	    "submit date:%.10s done date:%.10s stat:%s err:000 text:", hex,
	    r->submit_time, r->done_time, stat[0] != '\0' ? stat : "UNKNOWN");
	p->sm_len = (uint16_t)(n < (int)sizeof(p->sm) ? n : (int)sizeof(p->sm));
}

/* m's text as an SMPP deliver_sm body; see cmppmap_deliver. */
static int
text_pdu(const struct cmpp *m, struct pdu *p, char *why, size_t whylen)
{
	size_t hdr = 0;

	if (m->msg_length > PDU_SM_MAX) {
		snprintf(why, whylen, "Msg_Length %u over %d", m->msg_length,
		    PDU_SM_MAX);
		return -1;
	}
	if (m->tp_udhi) {
		p->esm_class = PDU_ESM_UDHI;
		hdr = m->msg_length > 0 ? (size_t)m->msg_content[0] + 1 : 1;
		if (hdr > m->msg_length) {
			snprintf(why, whylen, "UDH longer than Msg_Content");
			return -1;
		}
	}
	switch (m->msg_fmt) {
	case CMPP_FMT_UCS2:
		p->data_coding = DCS_UCS2;
		break;
	case CMPP_FMT_ASCII:
		p->data_coding = DCS_IA5;
		break;
	case CMPP_FMT_GBK: {
		char utf8[CMPP_CONTENT_MAX * 2 + 1], err[120];
		int n, k;

		n = charset_gbk_decode(m->msg_content + hdr,
		    m->msg_length - hdr, utf8, sizeof(utf8));
		if (n < 0) {
			snprintf(why, whylen, "GBK text does not decode "
			    "(invalid, or a character split between parts)");
			return -1;
		}
		k = ucs2_encode(utf8, (size_t)n, p->sm + hdr,
		    sizeof(p->sm) - hdr, err, sizeof(err));
		if (k < 0) {
			snprintf(why, whylen, "GBK text as UCS-2: %s", err);
			return -1;
		}
		memcpy(p->sm, m->msg_content, hdr);
		p->sm_len = (uint16_t)(hdr + (size_t)k);
		p->data_coding = DCS_UCS2;
		return 0;
	}
	default:
		p->data_coding = m->msg_fmt;
		break;
	}
	memcpy(p->sm, m->msg_content, m->msg_length);
	p->sm_len = m->msg_length;
	return 0;
}

/* A terminal id into an SMPP address; -1 if it does not fit. */
static int
copy_addr(char dst[PDU_ADDR_MAX], const char *src)
{
	size_t n = strlen(src);

	if (n >= PDU_ADDR_MAX)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int
cmppmap_deliver(const struct cmpp *m, struct pdu *p, char *why,
    size_t whylen)
{
	pdu_init(p, PDU_DELIVER_SM, ESME_OK, m->sequence);
	if (copy_addr(p->src.addr, m->src_terminal_id) == -1 ||
	    copy_addr(p->dst.addr, m->dest_id) == -1) {
		snprintf(why, whylen, "an address too long for SMPP");
		return -1;
	}
	p->src.npi = p->dst.npi = 1;
	if (m->registered_delivery == 1) {
		cmppmap_report(&m->report, p);
		return 0;
	}
	return text_pdu(m, p, why, whylen);
}

/* ---- DELIVER_RESP ------------------------------------------------------- */

uint32_t
cmppmap_deliver_result(uint32_t status)
{
	switch (status) {
	case ESME_OK:
		return CMPPMAP_DRESULT_OK;
	case ESME_X_T_APPN:
	case ESME_THROTTLED:
	case ESME_MSGQFUL:
	case ESME_SYSERR:
		return CMPPMAP_DRESULT_FLOW;
	default:
		return CMPPMAP_DRESULT_OTHER;
	}
}
