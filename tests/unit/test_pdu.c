/* proto/pdu: encode/decode round trips, framing limits, malformed bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/pdu.h"

static uint8_t buf[PDU_MAX_LEN + 64];
static char err[256];

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static uint32_t
get_cmd(const uint8_t *p)
{
	return (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	    (uint32_t)p[6] << 8 | p[7];
}

static void
test_submit_roundtrip_with_sar(void **state)
{
	struct pdu p, q;
	int n;

	(void)state;
	pdu_init(&p, PDU_SUBMIT_SM, 0, 7);
	strcpy(p.src.addr, "10659000");
	p.dst.ton = 1;
	p.dst.npi = 1;
	strcpy(p.dst.addr, "8613800138000");
	p.data_coding = 8;
	p.registered_delivery = 1;
	p.sm_len = 8;
	memcpy(p.sm, "\x67\xe5\x8b\xe2\x8f\xdb\x5e\xa6", 8);
	p.tlvs = PDU_HAS_SAR;
	p.sar_ref = 300;
	p.sar_total = 3;
	p.sar_seq = 2;
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	assert_true(n > PDU_HEADER_LEN);
	assert_int_equal(buf[3] | buf[2] << 8, n);
	assert_int_equal(pdu_decode(buf, (size_t)n, &q, err, sizeof(err)), 0);
	assert_int_equal(q.command_id, PDU_SUBMIT_SM);
	assert_int_equal(q.sequence, 7);
	assert_string_equal(q.src.addr, "10659000");
	assert_string_equal(q.dst.addr, "8613800138000");
	assert_int_equal(q.dst.ton, 1);
	assert_int_equal(q.data_coding, 8);
	assert_int_equal(q.registered_delivery, 1);
	assert_int_equal(q.sm_len, 8);
	assert_memory_equal(q.sm, p.sm, 8);
	assert_int_equal(q.tlvs, PDU_HAS_SAR);
	assert_int_equal(q.sar_ref, 300);
	assert_int_equal(q.sar_total, 3);
	assert_int_equal(q.sar_seq, 2);
}

static void
test_deliver_receipt_tlvs_and_payload(void **state)
{
	struct pdu p, q;
	int n;

	(void)state;
	pdu_init(&p, PDU_DELIVER_SM, 0, 0x7fffffff);
	strcpy(p.src.addr, "8613800138000");
	strcpy(p.dst.addr, "10659000");
	p.esm_class = PDU_ESM_RECEIPT;
	p.tlvs = PDU_HAS_RECEIPTED_ID | PDU_HAS_MSG_STATE | PDU_HAS_PAYLOAD |
	    PDU_HAS_NET_ERR;
	strcpy(p.receipted_id, "1a2b3c");
	p.message_state = 5;
	p.payload_len = PDU_PAYLOAD_MAX;
	memset(p.payload, 'a', PDU_PAYLOAD_MAX);
	memcpy(p.net_err, "\x03\x00\x05", 3);
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	assert_true(n > 0);
	assert_int_equal(pdu_decode(buf, (size_t)n, &q, err, sizeof(err)), 0);
	assert_int_equal(q.esm_class, PDU_ESM_RECEIPT);
	assert_string_equal(q.receipted_id, "1a2b3c");
	assert_int_equal(q.message_state, 5);
	assert_int_equal(q.payload_len, PDU_PAYLOAD_MAX);
	assert_memory_equal(q.payload, p.payload, PDU_PAYLOAD_MAX);
	assert_memory_equal(q.net_err, "\x03\x00\x05", 3);
}

static void
test_bind_and_resp(void **state)
{
	struct pdu p, q;
	int n;

	(void)state;
	pdu_init(&p, PDU_BIND_TRANSCEIVER, 0, 1);
	strcpy(p.system_id, "smsgwd");
	strcpy(p.password, "secret");
	strcpy(p.system_type, "ID");
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	assert_int_equal(pdu_decode(buf, (size_t)n, &q, err, sizeof(err)), 0);
	assert_string_equal(q.system_id, "smsgwd");
	assert_string_equal(q.password, "secret");
	assert_string_equal(q.system_type, "ID");
	assert_int_equal(q.interface_version, 0x34);

	pdu_init(&p, PDU_SUBMIT_SM_RESP, 0, 9);
	strcpy(p.message_id, "ABCDEF0123");
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	assert_int_equal(pdu_decode(buf, (size_t)n, &q, err, sizeof(err)), 0);
	assert_string_equal(q.message_id, "ABCDEF0123");
}

/* §4.4.2: an error response has no body; one that has one still decodes. */
static void
test_error_response_header_only(void **state)
{
	struct pdu p, q;
	int n;

	(void)state;
	pdu_init(&p, PDU_SUBMIT_SM_RESP, ESME_THROTTLED, 5);
	strcpy(p.message_id, "ignored");
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	assert_int_equal(n, PDU_HEADER_LEN);
	/* The same with a body some SMSCs add anyway. */
	memcpy(buf + 16, "x\0", 2);
	put32(buf, 18);
	assert_int_equal(pdu_decode(buf, 18, &q, err, sizeof(err)), 0);
	assert_int_equal(q.command_status, ESME_THROTTLED);
	assert_string_equal(pdu_status_name(q.command_status),
	    "ESME_RTHROTTLED");
	assert_string_equal(pdu_status_name(0x401), "ESME_VENDOR_SPECIFIC");
}

static void
test_header_limits(void **state)
{
	struct pdu p;

	(void)state;
	memset(buf, 0, 16);
	put32(buf, 15);
	assert_int_equal(pdu_header(buf, 16, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "command_length 15"));
	put32(buf, PDU_MAX_LEN + 1);
	assert_int_equal(pdu_header(buf, 16, &p, err, sizeof(err)), -1);
	put32(buf, 16);
	put32(buf + 4, PDU_ENQUIRE_LINK);
	put32(buf + 12, 3);
	assert_int_equal(pdu_header(buf, 16, &p, err, sizeof(err)), 0);
	assert_int_equal(p.command_id, PDU_ENQUIRE_LINK);
	assert_int_equal(pdu_header(buf, 15, &p, err, sizeof(err)), -1);
}

/* A C-octet string with no NUL before the end must not be read past. */
static void
test_unterminated_string(void **state)
{
	struct pdu q;

	(void)state;
	memset(buf, 'A', 40);
	put32(buf, 40);
	put32(buf + 4, PDU_DELIVER_SM);
	put32(buf + 8, 0);
	put32(buf + 12, 1);
	assert_int_equal(pdu_decode(buf, 40, &q, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "deliver_sm does not unpack"));
}

static void
test_length_mismatch_and_short_body(void **state)
{
	struct pdu p, q;
	int n;

	(void)state;
	pdu_init(&p, PDU_DELIVER_SM, 0, 4);
	strcpy(p.src.addr, "1");
	p.sm_len = 2;
	memcpy(p.sm, "hi", 2);
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	/* sm_length says more than there is. */
	buf[n - 3] = 200;
	assert_int_equal(pdu_decode(buf, (size_t)n, &q, err, sizeof(err)), -1);
	/* Framed length differs from command_length. */
	assert_int_equal(pdu_decode(buf, (size_t)n - 1, &q, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "framed"));
	/* A header-only command with a body. */
	memset(buf, 0, 20);
	put32(buf, 20);
	put32(buf + 4, PDU_ENQUIRE_LINK);
	put32(buf + 12, 1);
	assert_int_equal(pdu_decode(buf, 20, &q, err, sizeof(err)), -1);
}

/* A truncated TLV: libsmpp34 abandons the node it was filling; pdu.c must
 * release every allocation the library made during the call. */
static void
test_truncated_tlv_no_leak(void **state)
{
	struct pdu p, q;
	int n;

	(void)state;
	pdu_init(&p, PDU_DELIVER_SM, 0, 4);
	strcpy(p.src.addr, "1");
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	memcpy(buf + n, "\x04\x24\x00\x10\x41", 5);   /* payload, len 16, 1 byte */
	put32(buf, (uint32_t)n + 5);
	assert_int_equal(pdu_decode(buf, (size_t)n + 5, &q, err, sizeof(err)),
	    -1);
	assert_int_equal(pdu_lib_allocations(), 0);
	/* Vendor-specific TLVs are skipped, not fatal. */
	memcpy(buf + n, "\x14\x01\x00\x02\xaa\xbb", 6);
	put32(buf, (uint32_t)n + 6);
	assert_int_equal(pdu_decode(buf, (size_t)n + 6, &q, err, sizeof(err)),
	    0);
	assert_int_equal(q.tlvs, 0);
	assert_int_equal(pdu_lib_allocations(), 0);
}

static void
test_unknown_command(void **state)
{
	struct pdu q;

	(void)state;
	memset(buf, 0, 24);
	put32(buf, 24);
	put32(buf + 4, 0x00000103);     /* data_sm: not ours to decode */
	put32(buf + 12, 77);
	assert_int_equal(pdu_decode(buf, 24, &q, err, sizeof(err)), 0);
	assert_int_equal(pdu_command_known(q.command_id), 0);
	assert_int_equal(q.sequence, 77);
	assert_string_equal(pdu_command_name(0x00000103), "data_sm");
	assert_string_equal(pdu_command_name(0x12345), "unknown_command");
}

static void
test_encode_limits(void **state)
{
	struct pdu p;

	(void)state;
	pdu_init(&p, PDU_SUBMIT_SM, 0, 1);
	p.sm_len = PDU_SM_MAX + 1;
	assert_int_equal(pdu_encode(&p, buf, sizeof(buf), err, sizeof(err)),
	    -1);
	pdu_init(&p, PDU_DELIVER_SM_RESP, 0, 0);   /* sequence 0 is invalid */
	assert_int_equal(pdu_encode(&p, buf, sizeof(buf), err, sizeof(err)),
	    -1);
	pdu_init(&p, 0x00000103, 0, 1);
	assert_int_equal(pdu_encode(&p, buf, sizeof(buf), err, sizeof(err)),
	    -1);
}

/* Found by fuzz/fuzz_pdu (fuzz/repro/pdu-libsmpp34-errlog-overflow): dozens
 * of TLVs made libsmpp34 write past its 2 KiB error-log buffer. They never
 * reach it now; ours are read and the rest skipped. */
static void
test_many_tlvs(void **state)
{
	struct pdu p, q;
	int n;

	(void)state;
	pdu_init(&p, PDU_DELIVER_SM, 0, 3);
	strcpy(p.src.addr, "12345678901234567890");
	strcpy(p.dst.addr, "10659000");
	p.sm_len = 4;
	memcpy(p.sm, "\x67\xe5\x8b\xe2", 4);
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	for (int i = 0; i < 500; i++) {
		memcpy(buf + n, "\x14\x01\x00\x00", 4);   /* vendor, empty */
		n += 4;
	}
	memcpy(buf + n, "\x04\x27\x00\x01\x02", 5);      /* message_state */
	n += 5;
	put32(buf, (uint32_t)n);
	assert_int_equal(pdu_decode(buf, (size_t)n, &q, err, sizeof(err)), 0);
	assert_string_equal(q.src.addr, "12345678901234567890");
	assert_int_equal(q.sm_len, 4);
	assert_int_equal(q.tlvs, PDU_HAS_MSG_STATE);
	assert_int_equal(q.message_state, 2);
	assert_int_equal(pdu_lib_allocations(), 0);
}

static void
test_tlv_errors(void **state)
{
	struct pdu p, q;
	int n;

	(void)state;
	pdu_init(&p, PDU_DELIVER_SM, 0, 3);
	strcpy(p.src.addr, "1");
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	/* sar_total_segments with two octets. */
	memcpy(buf + n, "\x02\x0e\x00\x02\x00\x03", 6);
	put32(buf, (uint32_t)n + 6);
	assert_int_equal(pdu_decode(buf, (size_t)n + 6, &q, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "TLV 0x020e has length 2, not 1"));
	/* A TLV header cut short. */
	memcpy(buf + n, "\x04\x27\x00", 3);
	put32(buf, (uint32_t)n + 3);
	assert_int_equal(pdu_decode(buf, (size_t)n + 3, &q, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "TLV header cut short"));
	/* message_payload over 1024 octets. */
	memcpy(buf + n, "\x04\x24\x04\x01", 4);
	memset(buf + n + 4, 'a', 1025);
	put32(buf, (uint32_t)n + 4 + 1025);
	assert_int_equal(pdu_decode(buf, (size_t)n + 4 + 1025, &q, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "message_payload of 1025 octets"));
	/* Mandatory fields cut short: sm_length past the end. */
	pdu_init(&p, PDU_SUBMIT_SM, 0, 4);
	p.sm_len = 10;
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	put32(buf, (uint32_t)n - 5);
	assert_int_equal(pdu_decode(buf, (size_t)n - 5, &q, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "submit_sm does not unpack"));
}

/* The answer pdu_refusal gives to the header h, encoded: 16 octets. */
static void
assert_refusal(const struct pdu *h, uint32_t cmd, uint32_t status)
{
	struct pdu r, q;
	uint8_t out[64];

	assert_int_equal(pdu_refusal(h, &r), 1);
	assert_int_equal(r.command_id, cmd);
	assert_int_equal(r.command_status, status);
	assert_int_equal(r.sequence, h->sequence);
	assert_int_equal(pdu_encode(&r, out, sizeof(out), err, sizeof(err)),
	    PDU_HEADER_LEN);
	assert_int_equal(pdu_header(out, PDU_HEADER_LEN, &q, err,
	    sizeof(err)), 0);
	assert_int_equal(q.command_id, cmd);
	assert_int_equal(q.command_status, status);
	assert_int_equal(q.sequence, h->sequence);
}

/*
 * A whole frame whose body does not unpack is answered from its header:
 * a deliver_sm for good (ESME_RX_P_APPN), another request or an unsound
 * header with generic_nack, a response not at all.
 */
static void
test_refusal(void **state)
{
	struct pdu p, q, h;
	int n;

	(void)state;
	pdu_init(&p, PDU_DELIVER_SM, 0, 47);
	strcpy(p.src.addr, "8613800138000");
	p.sm_len = 3;
	memcpy(p.sm, "abc", 3);
	n = pdu_encode(&p, buf, sizeof(buf), err, sizeof(err));
	assert_true(n > PDU_HEADER_LEN);

	/* short_message length past the end of the PDU. */
	buf[n - 4] = 200;
	assert_int_equal(pdu_decode(buf, (size_t)n, &q, err, sizeof(err)), -1);
	assert_int_equal(pdu_header(buf, (size_t)n, &h, err, sizeof(err)), 0);
	assert_int_equal(pdu_header_sound(&h), 1);
	assert_refusal(&h, PDU_DELIVER_SM_RESP, ESME_X_P_APPN);
	assert_int_equal(pdu_lib_allocations(), 0);

	/* A TLV whose length runs past the end. */
	buf[n - 4] = 3;
	memcpy(buf + n, "\x04\x24\x00\x09" "ab", 6);
	put32(buf, (uint32_t)n + 6);
	put32(buf + 12, 48);
	assert_int_equal(pdu_decode(buf, (size_t)n + 6, &q, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "runs past the end"));
	assert_int_equal(pdu_header(buf, (size_t)n + 6, &h, err, sizeof(err)),
	    0);
	assert_refusal(&h, PDU_DELIVER_SM_RESP, ESME_X_P_APPN);

	/* The same deliver_sm with an unsound header: generic_nack. */
	put32(buf + 12, 0);
	assert_int_equal(pdu_header(buf, (size_t)n + 6, &h, err, sizeof(err)),
	    0);
	assert_int_equal(pdu_header_sound(&h), 0);
	assert_refusal(&h, PDU_GENERIC_NACK, ESME_INVCMDLEN);
	put32(buf + 8, 0x12345);                   /* no such status */
	put32(buf + 12, 49);
	assert_int_equal(pdu_header(buf, (size_t)n + 6, &h, err, sizeof(err)),
	    0);
	assert_int_equal(pdu_header_sound(&h), 0);
	assert_refusal(&h, PDU_GENERIC_NACK, ESME_INVCMDLEN);

	/* Another request: enquire_link with a body. */
	memset(buf, 0, 20);
	put32(buf, 20);
	put32(buf + 4, PDU_ENQUIRE_LINK);
	put32(buf + 12, 50);
	assert_int_equal(pdu_decode(buf, 20, &q, err, sizeof(err)), -1);
	assert_int_equal(pdu_header(buf, 20, &h, err, sizeof(err)), 0);
	assert_refusal(&h, PDU_GENERIC_NACK, ESME_INVCMDLEN);

	/* A response is never answered: a submit_sm_resp ESME_ROK whose
	 * message_id has no NUL. */
	memset(buf, 'A', 24);
	put32(buf, 24);
	put32(buf + 4, PDU_SUBMIT_SM_RESP);
	put32(buf + 8, ESME_OK);
	put32(buf + 12, 51);
	assert_int_equal(pdu_decode(buf, 24, &q, err, sizeof(err)), -1);
	assert_int_equal(pdu_header(buf, 24, &h, err, sizeof(err)), 0);
	assert_int_equal(pdu_header_sound(&h), 1);
	memset(&q, 0xa5, sizeof(q));
	assert_int_equal(pdu_refusal(&h, &q), 0);
	assert_int_equal(q.command_id, 0xa5a5a5a5u);   /* left alone */
	pdu_init(&h, PDU_GENERIC_NACK, ESME_OK, 52);
	assert_int_equal(pdu_refusal(&h, &q), 0);
}

/*
 * The hand-written codec of submit_sm, deliver_sm and their responses
 * against libsmpp34 (pdu_*_reference): the same verdict and the same
 * fields on every input, the same octets on every encode. Inputs are
 * seeded, so a failure repeats; the count is fixed.
 */
static uint32_t rng = 2463534242u;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* A random string: usually short, sometimes at or past the field's limit. */
static void
rnd_str(char *dst, size_t cap)
{
	size_t n;

	switch (rnd() % 4) {
	case 0:
		n = 0;
		break;
	case 1:
		n = cap - 1;                 /* fills the array */
		break;
	default:
		n = rnd() % cap;
		break;
	}
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)('0' + rnd() % 10);
	if (n < cap)
		dst[n] = '\0';
}

static const uint32_t hot_ids[] = {
	PDU_SUBMIT_SM, PDU_DELIVER_SM, PDU_SUBMIT_SM_RESP, PDU_DELIVER_SM_RESP,
};

static void
rnd_pdu(struct pdu *p)
{
	static const uint8_t addr_vals[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	    14, 18, 19, 255 };

	uint32_t status = 0, seq = rnd() % 64 == 0 ? 0 : rnd();

	switch (rnd() % 8) {
	case 0:
		status = rnd() % 0x200;      /* known and unknown */
		break;
	case 1:
		status = rnd();
		break;
	}
	pdu_init(p, hot_ids[rnd() % 4], status, seq);
	rnd_str(p->service_type, sizeof(p->service_type));
	p->src.ton = addr_vals[rnd() % sizeof(addr_vals)] % (rnd() % 4 ? 7 : 256);
	p->src.npi = addr_vals[rnd() % sizeof(addr_vals)];
	rnd_str(p->src.addr, sizeof(p->src.addr));
	p->dst.ton = addr_vals[rnd() % sizeof(addr_vals)] % 7;
	p->dst.npi = addr_vals[rnd() % sizeof(addr_vals)] % (rnd() % 4 ? 2 : 256);
	rnd_str(p->dst.addr, sizeof(p->dst.addr));
	p->esm_class = (uint8_t)rnd();
	p->protocol_id = (uint8_t)rnd();
	p->priority_flag = (uint8_t)rnd();
	p->registered_delivery = (uint8_t)rnd();
	p->data_coding = (uint8_t)rnd();
	p->sm_len = (uint16_t)(rnd() % 8 == 0 ? 254 : rnd() % 160);
	for (size_t i = 0; i < p->sm_len; i++)
		p->sm[i] = (uint8_t)rnd();
	p->tlvs = rnd() & 0x1f;
	p->sar_ref = (uint16_t)rnd();
	p->sar_total = (uint8_t)rnd();
	p->sar_seq = (uint8_t)rnd();
	p->payload_len = (uint16_t)(rnd() % 8 == 0 ? PDU_PAYLOAD_MAX :
	    rnd() % 64);
	for (size_t i = 0; i < p->payload_len; i++)
		p->payload[i] = (uint8_t)rnd();
	rnd_str(p->receipted_id, sizeof(p->receipted_id));
	p->message_state = (uint8_t)rnd();
	memcpy(p->net_err, "\x03\x00\x01", 3);
	rnd_str(p->message_id, sizeof(p->message_id));
}

static void
check_decode_agrees(const uint8_t *b, size_t n, int *ok_count)
{
	static struct pdu fast, ref;
	char e1[256], e2[256];
	int r1 = pdu_decode(b, n, &fast, e1, sizeof(e1));
	int r2 = pdu_decode_reference(b, n, &ref, e2, sizeof(e2));

	if (r1 != r2)
		fail_msg("%s of %zu octets: fast %d (%s), libsmpp34 %d (%s)",
		    pdu_command_name(get_cmd(b)), n, r1, r1 ? e1 : "",
		    r2, r2 ? e2 : "");
	if (r1 == 0) {
		assert_memory_equal(&fast, &ref, sizeof(fast));
		(*ok_count)++;
	}
	assert_int_equal(pdu_lib_allocations(), 0);
}

static void
test_fast_codec_matches_libsmpp34(void **state)
{
	static uint8_t b1[PDU_MAX_LEN], b2[PDU_MAX_LEN], m[PDU_MAX_LEN];
	int encoded = 0, refused = 0, decoded = 0, wide = 0;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct pdu p;
		int n1, n2;

		rnd_pdu(&p);
		char e2[256];

		n1 = pdu_encode(&p, b1, sizeof(b1), err, sizeof(err));
		n2 = pdu_encode_reference(&p, b2, sizeof(b2), e2, sizeof(e2));
		/* libsmpp34 packs at most 253 octets of short_message (it
		 * unpacks 254, as §5.2.22 allows): at 254 the fast encoder's
		 * octets are checked by libsmpp34's decoder instead. */
		if (p.sm_len == PDU_SM_MAX && n1 > 0 && n2 == -1) {
			struct pdu q;

			assert_int_equal(pdu_decode_reference(b1, (size_t)n1,
			    &q, err, sizeof(err)), 0);
			assert_int_equal(q.sm_len, PDU_SM_MAX);
			assert_memory_equal(q.sm, p.sm, PDU_SM_MAX);
			assert_int_equal(q.sequence, p.sequence);
			wide++;
			continue;
		}
		if (n1 != n2)
			fail_msg("encode %s: fast %d (%s), libsmpp34 %d (%s)",
			    pdu_command_name(p.command_id), n1, n1 < 0 ? err :
			    "", n2, n2 < 0 ? e2 : "");
		if (n1 < 0) {
			refused++;
			continue;
		}
		assert_memory_equal(b1, b2, (size_t)n1);
		encoded++;
		/* Too small a buffer fails both ways alike, and the fast
		 * encoder writes nothing past it: exact-size heap buffers,
		 * so AddressSanitizer sees any overrun. */
		for (size_t cut = 1; cut <= 3 && cut < (size_t)n1; cut++) {
			size_t cap = (size_t)n1 - cut;
			uint8_t *h = malloc(cap);

			assert_non_null(h);
			assert_int_equal(pdu_encode(&p, h, cap, err,
			    sizeof(err)), -1);
			free(h);
		}
		assert_int_equal(pdu_encode_reference(&p, b2, (size_t)n1 - 1,
		    err, sizeof(err)), -1);
		if (i % 100 == 0)
			for (size_t cap = 0; cap < 24 && cap < (size_t)n1;
			    cap++) {
				uint8_t *h = malloc(cap ? cap : 1);

				assert_non_null(h);
				assert_int_equal(pdu_encode(&p, h, cap, err,
				    sizeof(err)), -1);
				free(h);
			}

		check_decode_agrees(b1, (size_t)n1, &decoded);
		/* Mutations: one to four octets changed, the body cut or
		 * extended; the length field follows the frame. */
		for (int k = 0; k < 4; k++) {
			size_t n = (size_t)n1;

			memcpy(m, b1, n);
			for (uint32_t c = 1 + rnd() % 4; c > 0; c--) {
				size_t at = PDU_HEADER_LEN + rnd() %
				    (n - PDU_HEADER_LEN + (n == PDU_HEADER_LEN));
				static const uint8_t vals[] = { 0, 0, 1, 7,
				    0x1f, 0xff, '1' };

				if (at < n)
					m[at] = rnd() % 2 ? vals[rnd() %
					    sizeof(vals)] : (uint8_t)rnd();
			}
			if (rnd() % 3 == 0 && n > PDU_HEADER_LEN)
				n -= 1 + rnd() % (n - PDU_HEADER_LEN);
			else if (rnd() % 5 == 0)
				m[n++] = (uint8_t)(rnd() % 2 ? 0 : rnd());
			put32(m, (uint32_t)n);
			check_decode_agrees(m, n, &decoded);
		}
	}
	/* The run covers both verdicts of both directions. */
	assert_true(encoded > 5000);
	assert_true(refused > 1000);
	assert_true(decoded > 10000);
	assert_true(decoded < 5 * encoded);
	assert_true(wide > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submit_roundtrip_with_sar),
		cmocka_unit_test(test_deliver_receipt_tlvs_and_payload),
		cmocka_unit_test(test_bind_and_resp),
		cmocka_unit_test(test_error_response_header_only),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_unterminated_string),
		cmocka_unit_test(test_length_mismatch_and_short_body),
		cmocka_unit_test(test_truncated_tlv_no_leak),
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_many_tlvs),
		cmocka_unit_test(test_tlv_errors),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_fast_codec_matches_libsmpp34),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
