/* deliver_sm classification and text decoding (see inbound.h). */
#include "daemon/inbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/charset.h"
#include "proto/udh.h"

void
inbound_item_free(struct inbound_item *it)
{
	free(it->text);
	it->text = NULL;
}

static void
decode(struct inbound_item *it, const struct pdu *p, uint8_t dcs,
    const uint8_t *data, size_t len, int parts)
{
	enum charset cs;
	size_t cap;
	int n;

	if (charset_from_dcs(dcs, &cs, it->why, sizeof(it->why)) == -1)
		goto refuse;
	if (cs == CS_BINARY) {
		snprintf(it->why, sizeof(it->why), "binary message (data_coding "
		    "0x%02x)", dcs);
		goto refuse;
	}
	cap = charset_utf8_bound(cs, len) + 1;
	if ((it->text = malloc(cap)) == NULL) {
		snprintf(it->why, sizeof(it->why), "out of memory");
		goto refuse;
	}
	n = charset_decode(cs, data, len, it->text, cap, it->why,
	    sizeof(it->why));
	if (n < 0)
		goto refuse;
	it->kind = INB_TEXT;
	it->in.src = p->src;
	it->in.dst = p->dst;
	it->in.data_coding = dcs;
	it->in.parts = parts;
	it->in.text = it->text;
	it->in.len = (size_t)n;
	return;
refuse:
	inbound_item_free(it);
	it->kind = INB_REFUSED;
}

void
inbound_from_pdu(struct reasm *r, const struct pdu *p, uint64_t now_ms,
    struct inbound_item *it)
{
	const uint8_t *data = p->sm;
	size_t len = p->sm_len, hdr = 0;
	struct udh_concat cc = { 0 };
	struct reasm_msg whole;
	int rc;

	memset(it, 0, sizeof(*it));
	if ((p->esm_class & PDU_ESM_TYPE_MASK) == PDU_ESM_RECEIPT) {
		it->kind = dlr_parse(p, &it->dlr, it->why, sizeof(it->why)) == 0 ?
		    INB_RECEIPT : INB_REFUSED;
		return;
	}
	if (p->tlvs & PDU_HAS_PAYLOAD) {
		data = p->payload;
		len = p->payload_len;
	}
	if (p->esm_class & PDU_ESM_UDHI) {
		if (udh_parse(data, len, &cc, &hdr, it->why,
		    sizeof(it->why)) == -1) {
			it->kind = INB_REFUSED;
			return;
		}
		data += hdr;
		len -= hdr;
	} else if ((p->tlvs & PDU_HAS_SAR) && p->sar_total > 1) {
		cc.present = 1;
		cc.ref = p->sar_ref;
		cc.total = p->sar_total;
		cc.seq = p->sar_seq;
	}
	if (!cc.present || cc.total <= 1) {
		decode(it, p, p->data_coding, data, len, 1);
		return;
	}
	rc = reasm_add(r, p->src.addr, p->dst.addr, cc.ref, cc.total, cc.seq,
	    p->data_coding, data, len, now_ms, &whole, it->why,
	    sizeof(it->why));
	switch (rc) {
	case REASM_PENDING:
	case REASM_DUPLICATE:
		it->kind = INB_PART;
		return;
	case REASM_COMPLETE:
		decode(it, p, whole.data_coding, whole.data, whole.len,
		    whole.total);
		free(whole.data);
		return;
	default:
		it->kind = INB_REFUSED;
		return;
	}
}
