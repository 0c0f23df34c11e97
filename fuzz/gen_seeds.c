/*
 * Writes the PDU, charset, receipt and reassembly seeds into fuzz/corpus/
 * from the unit tests' vectors, using the codec itself (pdu_encode), so the
 * seeds are real frames. Run from the repo root by `make fuzz-seeds`; the
 * output is committed, so the fuzzers never need it at run time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pdu.h"
#include "proto/udh.h"

int main(void);

static void
put(const char *dir, const char *name, const void *b, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "fuzz/corpus/%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(b, 1, n, f) != n ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
pdu(const char *name, const struct pdu *p)
{
	static uint8_t buf[PDU_MAX_LEN];
	char err[256];
	int n;

	if ((n = pdu_encode(p, buf, sizeof(buf), err, sizeof(err))) < 0) {
		fprintf(stderr, "%s: %s\n", name, err);
		exit(1);
	}
	put("pdu", name, buf, (size_t)n);
}

int
main(void)
{
	static const char rcpt[] = "id:0123456789 sub:001 dlvrd:001 "
	    "submit date:2611210930 done date:2611210931 stat:DELIVRD "
	    "err:000 text:CX 11010519491231002X";
	static const char undeliv[] = "id:7F3A sub:001 dlvrd:000 "
	    "submit date:2611210930 done date:2611211030 stat:UNDELIV "
	    "err:034 text:";
	struct pdu p;
	uint8_t b[512];
	size_t n;

	pdu_init(&p, PDU_BIND_TRANSCEIVER, 0, 1);
	strcpy(p.system_id, "smsgwd");
	strcpy(p.password, "secret");
	p.interface_version = 0x34;
	pdu("bind_transceiver", &p);
	pdu_init(&p, PDU_BIND_TRANSCEIVER_RESP, 0, 1);
	strcpy(p.system_id, "SMSC");
	pdu("bind_transceiver_resp", &p);
	pdu_init(&p, PDU_ENQUIRE_LINK, 0, 2);
	pdu("enquire_link", &p);
	pdu_init(&p, PDU_SUBMIT_SM_RESP, ESME_THROTTLED, 3);
	pdu("submit_sm_resp_throttled", &p);
	pdu_init(&p, PDU_SUBMIT_SM_RESP, 0, 4);
	strcpy(p.message_id, "5f3a9c01");
	pdu("submit_sm_resp", &p);

	pdu_init(&p, PDU_DELIVER_SM, 0, 5);
	strcpy(p.src.addr, "8613800138000");
	p.src.ton = 1;
	p.src.npi = 1;
	strcpy(p.dst.addr, "10659000");
	memcpy(p.sm, "CX 11010519491231002X", 21);
	p.sm_len = 21;
	pdu("deliver_sm_gsm7", &p);
	p.data_coding = 0x08;
	memcpy(p.sm, "\x67\xe5\x8b\xe2\x00\x20\x00\x31\x00\x31", 10);
	p.sm_len = 10;
	pdu("deliver_sm_ucs2", &p);
	n = udh_write_concat8(p.sm, 0x42, 2, 1);
	memcpy(p.sm + n, "\x67\xe5\x8b\xe2", 4);
	p.sm_len = (uint16_t)(n + 4);
	p.esm_class = PDU_ESM_UDHI;
	pdu("deliver_sm_udh", &p);
	p.esm_class = 0;
	p.data_coding = 0;
	p.tlvs = PDU_HAS_SAR;
	p.sar_ref = 0x1234;
	p.sar_total = 3;
	p.sar_seq = 2;
	memcpy(p.sm, "GS 110105194912310", 18);
	p.sm_len = 18;
	pdu("deliver_sm_sar", &p);
	p.tlvs = PDU_HAS_PAYLOAD;
	p.sm_len = 0;
	memcpy(p.payload, "HELP", 4);
	p.payload_len = 4;
	pdu("deliver_sm_payload", &p);

	pdu_init(&p, PDU_DELIVER_SM, 0, 6);
	p.esm_class = PDU_ESM_RECEIPT;
	strcpy(p.src.addr, "8613800138000");
	strcpy(p.dst.addr, "10659000");
	memcpy(p.sm, rcpt, sizeof(rcpt) - 1);
	p.sm_len = sizeof(rcpt) - 1;
	p.tlvs = PDU_HAS_RECEIPTED_ID | PDU_HAS_MSG_STATE | PDU_HAS_NET_ERR;
	strcpy(p.receipted_id, "0123456789");
	p.message_state = 2;
	pdu("deliver_sm_receipt", &p);

	pdu_init(&p, PDU_SUBMIT_SM, 0, 7);
	strcpy(p.src.addr, "10659000");
	strcpy(p.dst.addr, "8613800138000");
	p.registered_delivery = 1;
	p.data_coding = 0x08;
	memcpy(p.sm, "\x5d\xf2\x90\xae\x5b\xc4", 6);
	p.sm_len = 6;
	pdu("submit_sm", &p);

	/* charset: first byte picks the charset (index mod 5). */
	put("charset", "gsm7", "\x00" "CX \x1b\x65\x1b\x14 @\x11", 11);
	put("charset", "ascii", "\x01" "STATUS JX2026000123", 20);
	put("charset", "binary", "\x02\x00\xff\x80", 4);
	put("charset", "latin1", "\x03" "caf\xe9 \xa3", 7);
	put("charset", "ucs2", "\x04\x67\xe5\x8b\xe2\xd8\x3d\xde\x00", 9);

	put("dlr", "delivrd", rcpt, sizeof(rcpt) - 1);
	put("dlr", "undeliv", undeliv, sizeof(undeliv) - 1);
	put("dlr", "tlv_only", "\x1c\x02\x00\x01" "abc123", 10);

	/* reasm: [sender][ref][total][seq][dcs][tick][len][bytes] parts. */
	n = 0;
	memcpy(b + n, "\x00\x07\x02\x02\x00\x01\x04" "DEFG", 11);
	n += 11;
	memcpy(b + n, "\x00\x07\x02\x01\x00\x01\x04" "ABCD", 11);
	n += 11;
	memcpy(b + n, "\x01\x00\x00\x00\x08\x02\x08"
	    "\x05\x00\x03\x42\x02\x01\x67\xe5", 15);
	n += 15;
	memcpy(b + n, "\x01\x00\x00\x00\x08\x02\x08"
	    "\x05\x00\x03\x42\x02\x02\x8b\xe2", 15);
	n += 15;
	put("reasm", "two_sets", b, n);
	put("reasm", "udh16", "\x02\x00\x00\x00\x00\x00\x09"
	    "\x06\x08\x04\x12\x34\x02\x01" "AB", 16);
	return 0;
}
