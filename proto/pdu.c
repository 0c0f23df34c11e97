/*
 * SMPP 3.4 PDU codec over libsmpp34. This file is the only user of the
 * library: it unpacks into libsmpp34's structs and copies what we use into
 * the flat struct pdu, so the library's global error buffer and its heap TLV
 * lists never escape. Header-only PDUs and error responses are handled here
 * directly (libsmpp34 mis-parses an error response that carries a body), and
 * so are the four PDUs of every exchange (submit_sm, deliver_sm and their
 * responses), by a hand-written codec that follows libsmpp34's rules octet
 * for octet: libsmpp34 stays the codec of the rest and the reference the
 * tests and fuzz/fuzz_pdu.c hold the fast path to (pdu_*_reference).
 */
#include "proto/pdu.h"
#include "proto/errf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smpp34.h>
#include <smpp34_heap.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

/*
 * libsmpp34 allocates TLV nodes with smpp34_malloc() and leaks the node it
 * was filling when a TLV fails to unpack. Every allocation it makes during
 * one call is therefore tracked on this list and released afterwards:
 * decode never leaks, whatever the input.
 */
struct arena_node {
	struct arena_node *prev, *next;
	max_align_t        align[];
};

static struct arena_node arena_head = { &arena_head, &arena_head };
static int arena_installed;

static void
arena_link(struct arena_node *n)
{
	n->next = arena_head.next;
	n->prev = &arena_head;
	arena_head.next->prev = n;
	arena_head.next = n;
}

static void
arena_unlink(struct arena_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

static struct arena_node *
arena_node_of(void *p)
{
	return (struct arena_node *)((char *)p -
	    offsetof(struct arena_node, align));
}

static void *
arena_malloc(size_t sz)
{
	struct arena_node *n = malloc(sizeof(*n) + sz);

	if (n == NULL)
		return NULL;
	arena_link(n);
	return n->align;
}

static void
arena_free(void *p)
{
	struct arena_node *n;

	if (p == NULL)
		return;
	n = arena_node_of(p);
	arena_unlink(n);
	free(n);
}

static void *
arena_realloc(void *p, size_t sz)
{
	struct arena_node *n, *m;

	if (p == NULL)
		return arena_malloc(sz);
	n = arena_node_of(p);
	arena_unlink(n);
	m = realloc(n, sizeof(*m) + sz);
	arena_link(m != NULL ? m : n);
	return m != NULL ? m->align : NULL;
}

size_t
pdu_lib_allocations(void)
{
	size_t n = 0;

	for (const struct arena_node *a = arena_head.next; a != &arena_head;
	    a = a->next)
		n++;
	return n;
}

static void
arena_release(void)
{
	while (arena_head.next != &arena_head) {
		struct arena_node *n = arena_head.next;

		arena_unlink(n);
		free(n);
	}
}

static void
arena_install(void)
{
	static const struct smpp34_memory_functions mf = {
		arena_malloc, arena_realloc, arena_free,
	};

	if (!arena_installed) {
		smpp34_set_memory_functions(&mf);
		arena_installed = 1;
	}
}

/* The last "[...]" of libsmpp34's field log names the field that failed. */
static const char *
smpp34_reason(char *buf, size_t len)
{
	const char *open = strrchr(smpp34_strerror, '[');
	const char *close;

	if (open == NULL)
		return "malformed body";
	close = strchr(open, ']');
	snprintf(buf, len, "%.*s", close ? (int)(close - open - 1) :
	    (int)strlen(open + 1), open + 1);
	return buf;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static const struct {
	uint32_t    id;
	const char *name;
} commands[] = {
	{ GENERIC_NACK, "generic_nack" },
	{ BIND_RECEIVER, "bind_receiver" },
	{ BIND_RECEIVER_RESP, "bind_receiver_resp" },
	{ BIND_TRANSMITTER, "bind_transmitter" },
	{ BIND_TRANSMITTER_RESP, "bind_transmitter_resp" },
	{ QUERY_SM, "query_sm" },
	{ QUERY_SM_RESP, "query_sm_resp" },
	{ SUBMIT_SM, "submit_sm" },
	{ SUBMIT_SM_RESP, "submit_sm_resp" },
	{ DELIVER_SM, "deliver_sm" },
	{ DELIVER_SM_RESP, "deliver_sm_resp" },
	{ UNBIND, "unbind" },
	{ UNBIND_RESP, "unbind_resp" },
	{ REPLACE_SM, "replace_sm" },
	{ REPLACE_SM_RESP, "replace_sm_resp" },
	{ CANCEL_SM, "cancel_sm" },
	{ CANCEL_SM_RESP, "cancel_sm_resp" },
	{ BIND_TRANSCEIVER, "bind_transceiver" },
	{ BIND_TRANSCEIVER_RESP, "bind_transceiver_resp" },
	{ OUTBIND, "outbind" },
	{ ENQUIRE_LINK, "enquire_link" },
	{ ENQUIRE_LINK_RESP, "enquire_link_resp" },
	{ SUBMIT_MULTI, "submit_multi" },
	{ SUBMIT_MULTI_RESP, "submit_multi_resp" },
	{ ALERT_NOTIFICATION, "alert_notification" },
	{ DATA_SM, "data_sm" },
	{ DATA_SM_RESP, "data_sm_resp" },
};

#define ST(x) { x, #x }
static const struct {
	uint32_t    status;
	const char *name;
} statuses[] = {
	ST(ESME_ROK), ST(ESME_RINVMSGLEN), ST(ESME_RINVCMDLEN),
	ST(ESME_RINVCMDID), ST(ESME_RINVBNDSTS), ST(ESME_RALYBND),
	ST(ESME_RINVPRTFLG), ST(ESME_RINVREGDLVFLG), ST(ESME_RSYSERR),
	ST(ESME_RINVSRCADR), ST(ESME_RINVDSTADR), ST(ESME_RINVMSGID),
	ST(ESME_RBINDFAIL), ST(ESME_RINVPASWD), ST(ESME_RINVSYSID),
	ST(ESME_RCANCELFAIL), ST(ESME_RREPLACEFAIL), ST(ESME_RMSGQFUL),
	ST(ESME_RINVSERTYP), ST(ESME_RINVNUMDESTS), ST(ESME_RINVDLNAME),
	ST(ESME_RINVDESTFLAG), ST(ESME_RINVSUBREP), ST(ESME_RINVESMCLASS),
	ST(ESME_RCNTSUBDL), ST(ESME_RSUBMITFAIL), ST(ESME_RINVSRCTON),
	ST(ESME_RINVSRCNPI), ST(ESME_RINVDSTTON), ST(ESME_RINVDSTNPI),
	ST(ESME_RINVSYSTYP), ST(ESME_RINVREPFLAG), ST(ESME_RINVNUMMSGS),
	ST(ESME_RTHROTTLED), ST(ESME_RINVSCHED), ST(ESME_RINVEXPIRY),
	ST(ESME_RINVDFTMSGID), ST(ESME_RX_T_APPN), ST(ESME_RX_P_APPN),
	ST(ESME_RX_R_APPN), ST(ESME_RQUERYFAIL), ST(ESME_RINVOPTPARSTREAM),
	ST(ESME_ROPTPARNOTALLWD), ST(ESME_RINVPARLEN),
	ST(ESME_RMISSINGOPTPARAM), ST(ESME_RINVOPTPARAMVAL),
	ST(ESME_RDELIVERYFAILURE), ST(ESME_RUNKNOWNERR),
};
#undef ST

const char *
pdu_command_name(uint32_t id)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].id == id)
			return commands[i].name;
	return "unknown_command";
}

const char *
pdu_status_name(uint32_t status)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].status == status)
			return statuses[i].name;
	if (status >= 0x400 && status <= 0x4FF)
		return "ESME_VENDOR_SPECIFIC";
	return "ESME_UNKNOWN_STATUS";
}

/* libsmpp34 refuses a PDU whose status is not in its table (the table above
 * is the same list) and sequence number 0; so does the fast codec. */
static const char *
header_invalid(uint32_t status, uint32_t seq)
{
	if (seq == 0)
		return "sequence_number";
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].status == status)
			return NULL;
	return "command_status";
}

/* PDUs with no body at all (§4.6, §4.11, §4.3). */
static int
header_only(uint32_t id)
{
	return id == ENQUIRE_LINK || id == ENQUIRE_LINK_RESP || id == UNBIND ||
	    id == UNBIND_RESP || id == GENERIC_NACK;
}

int
pdu_command_known(uint32_t id)
{
	switch (id) {
	case BIND_RECEIVER: case BIND_RECEIVER_RESP:
	case BIND_TRANSMITTER: case BIND_TRANSMITTER_RESP:
	case BIND_TRANSCEIVER: case BIND_TRANSCEIVER_RESP:
	case SUBMIT_SM: case SUBMIT_SM_RESP:
	case DELIVER_SM: case DELIVER_SM_RESP:
	case ENQUIRE_LINK: case ENQUIRE_LINK_RESP:
	case UNBIND: case UNBIND_RESP:
	case GENERIC_NACK:
		return 1;
	}
	return 0;
}

void
pdu_init(struct pdu *p, uint32_t command_id, uint32_t status, uint32_t seq)
{
	memset(p, 0, sizeof(*p));
	p->command_id = command_id;
	p->command_status = status;
	p->sequence = seq;
}

int
pdu_header(const uint8_t *buf, size_t len, struct pdu *p, char *err,
    size_t errlen)
{
	uint32_t cmdlen;

	if (len < PDU_HEADER_LEN) {
		errf(err, errlen, "short header: %zu bytes", len);
		return -1;
	}
	cmdlen = get32(buf);
	if (cmdlen < PDU_HEADER_LEN || cmdlen > PDU_MAX_LEN) {
		errf(err, errlen, "command_length %u outside [%d, %d]",
		    cmdlen, PDU_HEADER_LEN, PDU_MAX_LEN);
		return -1;
	}
	p->command_id = get32(buf + 4);
	p->command_status = get32(buf + 8);
	p->sequence = get32(buf + 12);
	return 0;
}

int
pdu_header_sound(const struct pdu *p)
{
	return header_invalid(p->command_status, p->sequence) == NULL;
}

int
pdu_refusal(const struct pdu *h, struct pdu *resp)
{
	if (h->command_id & PDU_RESP_BIT)
		return 0;
	if (h->command_id == DELIVER_SM && pdu_header_sound(h))
		pdu_init(resp, PDU_DELIVER_SM_RESP, ESME_X_P_APPN, h->sequence);
	else
		pdu_init(resp, PDU_GENERIC_NACK, ESME_INVCMDLEN, h->sequence);
	return 1;
}

/* Room for every libsmpp34 struct we unpack into. */
union lib_pdu {
	bind_transmitter_t        bind;
	bind_transmitter_resp_t   bind_resp;
	submit_sm_t               submit;
	submit_sm_resp_t          submit_resp;
	deliver_sm_t              deliver;
	deliver_sm_resp_t         deliver_resp;
};

static void
copy_cstr(char *dst, size_t cap, const uint8_t *src)
{
	size_t n = strnlen((const char *)src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Where the optional parameters start: the mandatory fields of submit_sm
 * and deliver_sm (§4.4.1, §4.6.1) or a bind response's system_id, walked
 * with bounds. 0 if they run past the end.
 */
static size_t
tlv_start(uint32_t id, const uint8_t *b, size_t len)
{
	/* 'c' a C-octet string, '1' one octet, 's' sm_length + its octets. */
	static const char sm_fields[] = "c11c11c111cc1111s";
	const char *f = "";
	size_t off = PDU_HEADER_LEN;

	if (id == SUBMIT_SM || id == DELIVER_SM)
		f = sm_fields;
	else if (id == BIND_RECEIVER_RESP || id == BIND_TRANSMITTER_RESP ||
	    id == BIND_TRANSCEIVER_RESP)
		f = "c";
	else
		return len;                  /* no optional parameters we read */
	for (; *f != '\0'; f++) {
		const uint8_t *nul;

		switch (*f) {
		case 'c':
			if (off >= len || (nul = memchr(b + off, '\0',
			    len - off)) == NULL)
				return 0;
			off = (size_t)(nul - b) + 1;
			break;
		case '1':
			if (off + 1 > len)
				return 0;
			off++;
			break;
		case 's':
			if (off + 1 > len || off + 1 + b[off] > len)
				return 0;
			off += 1 + (size_t)b[off];
			break;
		}
	}
	return off;
}

/*
 * Reads the optional parameters we use. libsmpp34 is never shown them:
 * it logs every field into a fixed 2 KiB global buffer and writes past its
 * end when a PDU carries a few dozen TLVs (found by fuzz/fuzz_pdu), and it
 * abandons a node when one fails. Unknown tags are skipped.
 */
static int
take_tlvs(struct pdu *p, const uint8_t *b, size_t off, size_t len,
    char *err, size_t errlen)
{
	while (off < len) {
		uint16_t tag, tl;
		const uint8_t *v;

		if (len - off < 4) {
			errf(err, errlen, "TLV header cut short at byte %zu",
			    off);
			return -1;
		}
		tag = (uint16_t)(b[off] << 8 | b[off + 1]);
		tl = (uint16_t)(b[off + 2] << 8 | b[off + 3]);
		v = b + off + 4;
		if (tl > len - off - 4) {
			errf(err, errlen, "TLV 0x%04x of %u octets runs past "
			    "the end", tag, tl);
			return -1;
		}
		off += 4 + (size_t)tl;
#define WANT(n) if (tl != (n)) { errf(err, errlen, "TLV 0x%04x has " \
	"length %u, not %u", tag, tl, (unsigned)(n)); return -1; }
		switch (tag) {
		case TLVID_sar_msg_ref_num:
			WANT(2);
			p->sar_ref = (uint16_t)(v[0] << 8 | v[1]);
			p->tlvs |= PDU_HAS_SAR;
			break;
		case TLVID_sar_total_segments:
			WANT(1);
			p->sar_total = v[0];
			p->tlvs |= PDU_HAS_SAR;
			break;
		case TLVID_sar_segment_seqnum:
			WANT(1);
			p->sar_seq = v[0];
			p->tlvs |= PDU_HAS_SAR;
			break;
		case TLVID_message_payload:
			if (tl > PDU_PAYLOAD_MAX) {
				errf(err, errlen, "message_payload of %u octets "
				    "(at most %d)", tl, PDU_PAYLOAD_MAX);
				return -1;
			}
			memcpy(p->payload, v, tl);
			p->payload_len = tl;
			p->tlvs |= PDU_HAS_PAYLOAD;
			break;
		case TLVID_receipted_message_id: {
			size_t n = strnlen((const char *)v, tl);

			if (n >= PDU_MSGID_MAX)
				n = PDU_MSGID_MAX - 1;
			memcpy(p->receipted_id, v, n);
			p->receipted_id[n] = '\0';
			p->tlvs |= PDU_HAS_RECEIPTED_ID;
			break;
		}
		case TLVID_message_state:
			WANT(1);
			p->message_state = v[0];
			p->tlvs |= PDU_HAS_MSG_STATE;
			break;
		case TLVID_network_error_code:
			WANT(3);
			memcpy(p->net_err, v, 3);
			p->tlvs |= PDU_HAS_NET_ERR;
			break;
		}
#undef WANT
	}
	return 0;
}

/* The message fields shared by submit_sm and deliver_sm. */
#define TAKE_SM(p, s) do {                                              \
	copy_cstr((p)->service_type, sizeof((p)->service_type),         \
	    (s)->service_type);                                         \
	(p)->src.ton = (s)->source_addr_ton;                            \
	(p)->src.npi = (s)->source_addr_npi;                            \
	copy_cstr((p)->src.addr, sizeof((p)->src.addr), (s)->source_addr); \
	(p)->dst.ton = (s)->dest_addr_ton;                              \
	(p)->dst.npi = (s)->dest_addr_npi;                              \
	copy_cstr((p)->dst.addr, sizeof((p)->dst.addr),                 \
	    (s)->destination_addr);                                     \
	(p)->esm_class = (s)->esm_class;                                \
	(p)->protocol_id = (s)->protocol_id;                            \
	(p)->priority_flag = (s)->priority_flag;                        \
	(p)->registered_delivery = (s)->registered_delivery;            \
	(p)->data_coding = (s)->data_coding;                            \
	(p)->sm_len = (s)->sm_length;                                   \
	memcpy((p)->sm, (s)->short_message, (s)->sm_length);            \
} while (0)

/*
 * libsmpp34 finds C-octet strings with strlen(), so the bytes it parses must
 * be followed by a NUL inside memory we own: a string that is not terminated
 * within the PDU then fails the length check instead of reading past it.
 */
static uint8_t scratch[PDU_MAX_LEN + 1];

/*
 * The hand-written decoder of the four PDUs of every exchange (submit_sm,
 * deliver_sm and their responses): libsmpp34 formats every field it reads
 * into its global error log, about a quarter of the daemon's CPU per text.
 * It keeps libsmpp34's rules exactly (tests/unit/test_pdu.c and
 * fuzz/fuzz_pdu.c compare the two on every input): a C-octet string of at
 * most max octets with its NUL, TON 0-6, the NPIs of §5.2.6, an empty
 * schedule_delivery_time and validity_period in deliver_sm, at most 254
 * octets of short_message, no bytes after the last field.
 */
struct rd {
	const uint8_t *b;
	size_t         off, end;
	const char    *field;             /* the field that failed */
};

static int
rd_cstr(struct rd *r, char *dst, size_t cap, size_t max, const char *field)
{
	const uint8_t *s = r->b + r->off, *nul;
	size_t n;

	r->field = field;
	if (r->off >= r->end ||
	    (nul = memchr(s, '\0', r->end - r->off)) == NULL)
		return -1;
	n = (size_t)(nul - s);
	if (n + 1 > max)
		return -1;
	if (dst != NULL) {
		size_t k = n < cap - 1 ? n : cap - 1;

		memcpy(dst, s, k);
		dst[k] = '\0';
	}
	r->off += n + 1;
	return 0;
}

static int
rd_u8(struct rd *r, uint8_t *v, const char *field)
{
	r->field = field;
	if (r->off >= r->end)
		return -1;
	*v = r->b[r->off++];
	return 0;
}

static int
ton_valid(uint8_t ton)
{
	return ton <= 6;
}

static int
npi_valid(uint8_t npi)
{
	switch (npi) {
	case 0: case 1: case 3: case 4: case 6: case 8: case 9: case 10:
	case 14: case 18:
		return 1;
	}
	return 0;
}

static int
rd_addr(struct rd *r, struct pdu_addr *a, const char *ton, const char *npi,
    const char *addr)
{
	if (rd_u8(r, &a->ton, ton) == -1 || !ton_valid(a->ton))
		return -1;
	if (rd_u8(r, &a->npi, npi) == -1 || !npi_valid(a->npi))
		return -1;
	return rd_cstr(r, a->addr, sizeof(a->addr), PDU_ADDR_MAX, addr);
}

/* The mandatory part of submit_sm or deliver_sm, exactly [16, end). */
static int
fast_sm(struct rd *r, struct pdu *p, size_t timecap)
{
	uint8_t skip;

	if (rd_cstr(r, p->service_type, sizeof(p->service_type),
	    sizeof(p->service_type), "service_type") == -1 ||
	    rd_addr(r, &p->src, "source_addr_ton", "source_addr_npi",
	    "source_addr") == -1 ||
	    rd_addr(r, &p->dst, "dest_addr_ton", "dest_addr_npi",
	    "destination_addr") == -1 ||
	    rd_u8(r, &p->esm_class, "esm_class") == -1 ||
	    rd_u8(r, &p->protocol_id, "protocol_id") == -1 ||
	    rd_u8(r, &p->priority_flag, "priority_flag") == -1 ||
	    rd_cstr(r, NULL, 0, timecap, "schedule_delivery_time") == -1 ||
	    rd_cstr(r, NULL, 0, timecap, "validity_period") == -1 ||
	    rd_u8(r, &p->registered_delivery, "registered_delivery") == -1 ||
	    rd_u8(r, &skip, "replace_if_present_flag") == -1 ||
	    rd_u8(r, &p->data_coding, "data_coding") == -1 ||
	    rd_u8(r, &skip, "sm_default_msg_id") == -1 ||
	    rd_u8(r, &skip, "sm_length") == -1)
		return -1;
	r->field = "short_message";
	if (skip > PDU_SM_MAX || skip > r->end - r->off)
		return -1;
	memcpy(p->sm, r->b + r->off, skip);
	p->sm_len = skip;
	r->off += skip;
	return 0;
}

/* 1 if the fast decoder handles id, then 0 or -1 in *rc. */
static int
fast_decode(uint32_t id, const uint8_t *buf, size_t mlen, struct pdu *p,
    char *err, size_t errlen, int *rc)
{
	struct rd r = { buf, PDU_HEADER_LEN, mlen, "PDU" };
	int ok;

	switch (id) {
	case SUBMIT_SM:
	case DELIVER_SM:
	case SUBMIT_SM_RESP:
	case DELIVER_SM_RESP:
		break;
	default:
		return 0;
	}
	if ((r.field = header_invalid(p->command_status, p->sequence)) != NULL) {
		errf(err, errlen, "%s does not unpack: %s is invalid",
		    pdu_command_name(id), r.field);
		*rc = -1;
		return 1;
	}
	switch (id) {
	case SUBMIT_SM:
		ok = fast_sm(&r, p, 17) == 0;
		break;
	case DELIVER_SM:
		ok = fast_sm(&r, p, 1) == 0;
		break;
	case SUBMIT_SM_RESP:
		ok = rd_cstr(&r, p->message_id, sizeof(p->message_id),
		    PDU_MSGID_MAX, "message_id") == 0;
		break;
	case DELIVER_SM_RESP:
		ok = rd_cstr(&r, NULL, 0, 1, "message_id") == 0;
		break;
	default:
		return 0;
	}
	if (ok && r.off != mlen) {
		r.field = "PDU length";
		ok = 0;
	}
	if (!ok) {
		errf(err, errlen, "%s does not unpack: %s is invalid",
		    pdu_command_name(id), r.field);
		*rc = -1;
	} else {
		*rc = 0;
	}
	return 1;
}

/* libsmpp34's unpack of the mandatory part [0, mlen) of a known id. */
static int
lib_decode(uint32_t id, const uint8_t *buf, size_t mlen, struct pdu *p,
    char *err, size_t errlen)
{
	union lib_pdu u;
	char why[160];
	int rc;

	arena_install();
	memcpy(scratch, buf, mlen);
	put32(scratch, (uint32_t)mlen);
	scratch[mlen] = '\0';
	memset(&u, 0, sizeof(u));
	rc = smpp34_unpack(id, &u, scratch, (int)mlen);
	if (rc != 0) {
		errf(err, errlen, "%s does not unpack: %s",
		    pdu_command_name(id), smpp34_reason(why, sizeof(why)));
		arena_release();
		return -1;
	}

	switch (id) {
	case BIND_RECEIVER:
	case BIND_TRANSMITTER:
	case BIND_TRANSCEIVER:
		copy_cstr(p->system_id, sizeof(p->system_id), u.bind.system_id);
		copy_cstr(p->password, sizeof(p->password), u.bind.password);
		copy_cstr(p->system_type, sizeof(p->system_type),
		    u.bind.system_type);
		p->interface_version = u.bind.interface_version;
		break;
	case BIND_RECEIVER_RESP:
	case BIND_TRANSMITTER_RESP:
	case BIND_TRANSCEIVER_RESP:
		copy_cstr(p->system_id, sizeof(p->system_id),
		    u.bind_resp.system_id);
		break;
	case SUBMIT_SM:
		TAKE_SM(p, &u.submit);
		break;
	case DELIVER_SM:
		TAKE_SM(p, &u.deliver);
		break;
	case SUBMIT_SM_RESP:
		copy_cstr(p->message_id, sizeof(p->message_id),
		    u.submit_resp.message_id);
		break;
	case DELIVER_SM_RESP:
		break;
	}
	arena_release();
	return 0;
}

static int
decode(const uint8_t *buf, size_t len, struct pdu *p, char *err,
    size_t errlen, int reference)
{
	char why[160];
	uint32_t id;
	size_t mlen;
	int rc;

	memset(p, 0, sizeof(*p));
	if (pdu_header(buf, len, p, err, errlen) == -1)
		return -1;
	if (get32(buf) != len) {
		errf(err, errlen, "command_length %u but %zu bytes framed",
		    get32(buf), len);
		return -1;
	}
	id = p->command_id;
	if (header_only(id)) {
		if (len != PDU_HEADER_LEN) {
			errf(err, errlen, "%s with a %zu-byte body",
			    pdu_command_name(id), len - PDU_HEADER_LEN);
			return -1;
		}
		return 0;
	}
	/* An error response's body is undefined in practice: header only. */
	if ((id & PDU_RESP_BIT) && p->command_status != ESME_OK)
		return 0;
	if (!pdu_command_known(id))
		return 0;

	/* libsmpp34 sees the mandatory part only; the TLVs are ours. */
	if ((mlen = tlv_start(id, buf, len)) == 0) {
		errf(err, errlen, "%s does not unpack: mandatory fields run "
		    "past the end", pdu_command_name(id));
		return -1;
	}
	if (take_tlvs(p, buf, mlen, len, why, sizeof(why)) == -1) {
		errf(err, errlen, "%s does not unpack: %s",
		    pdu_command_name(id), why);
		return -1;
	}
	if (!reference && fast_decode(id, buf, mlen, p, err, errlen, &rc))
		return rc;
	return lib_decode(id, buf, mlen, p, err, errlen);
}

int
pdu_decode(const uint8_t *buf, size_t len, struct pdu *p, char *err,
    size_t errlen)
{
	return decode(buf, len, p, err, errlen, 0);
}

int
pdu_decode_reference(const uint8_t *buf, size_t len, struct pdu *p,
    char *err, size_t errlen)
{
	return decode(buf, len, p, err, errlen, 1);
}

/* Appends one TLV to the chain being built on the caller's stack. */
static tlv_t *
tlv_add(tlv_t *slot, tlv_t **tail, uint16_t tag, uint16_t len)
{
	memset(slot, 0, sizeof(*slot));
	slot->tag = tag;
	slot->length = len;
	*tail = slot;
	return slot;
}

static int
encode_header_only(const struct pdu *p, uint8_t *buf, size_t cap,
    char *err, size_t errlen)
{
	if (cap < PDU_HEADER_LEN) {
		errf(err, errlen, "buffer too small for a header");
		return -1;
	}
	put32(buf, PDU_HEADER_LEN);
	put32(buf + 4, p->command_id);
	put32(buf + 8, p->command_status);
	put32(buf + 12, p->sequence);
	return PDU_HEADER_LEN;
}

#define PUT_SM(s, p) do {                                               \
	snprintf((char *)(s)->service_type, sizeof((s)->service_type),  \
	    "%s", (p)->service_type);                                   \
	(s)->source_addr_ton = (p)->src.ton;                            \
	(s)->source_addr_npi = (p)->src.npi;                            \
	snprintf((char *)(s)->source_addr, sizeof((s)->source_addr),    \
	    "%s", (p)->src.addr);                                       \
	(s)->dest_addr_ton = (p)->dst.ton;                              \
	(s)->dest_addr_npi = (p)->dst.npi;                              \
	snprintf((char *)(s)->destination_addr,                         \
	    sizeof((s)->destination_addr), "%s", (p)->dst.addr);        \
	(s)->esm_class = (p)->esm_class;                                \
	(s)->protocol_id = (p)->protocol_id;                            \
	(s)->priority_flag = (p)->priority_flag;                        \
	(s)->registered_delivery = (p)->registered_delivery;            \
	(s)->data_coding = (p)->data_coding;                            \
	(s)->sm_length = (uint8_t)(p)->sm_len;                          \
	memcpy((s)->short_message, (p)->sm, (p)->sm_len);               \
	(s)->tlv = tlvs;                                                \
} while (0)

/* The hand-written encoder of the four hot PDUs: the same octets as
 * libsmpp34's pack (the tests compare them), without its field log. */
struct wr {
	uint8_t *b;
	size_t   off, cap;
};

static void
wr_bytes(struct wr *w, const void *src, size_t n)
{
	/* Once over, stay over (off > cap) and write nothing more. */
	if (w->off > w->cap || n > w->cap - w->off) {
		w->off = w->cap + 1;
		return;
	}
	memcpy(w->b + w->off, src, n);
	w->off += n;
}

static void
wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

static void
wr_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	wr_bytes(w, b, 2);
}

/* As the library gets it: truncated to size - 1 octets, then the NUL. */
static void
wr_cstr(struct wr *w, const char *s, size_t size)
{
	wr_bytes(w, s, strnlen(s, size - 1));
	wr_u8(w, 0);
}

static void
wr_tlv(struct wr *w, uint16_t tag, const void *v, uint16_t len)
{
	wr_u16(w, tag);
	wr_u16(w, len);
	wr_bytes(w, v, len);
}

static int
fast_encode(const struct pdu *p, uint8_t *buf, size_t cap, char *err,
    size_t errlen, int *len)
{
	struct wr w = { buf, PDU_HEADER_LEN, cap > PDU_MAX_LEN ? PDU_MAX_LEN :
	    cap };
	uint32_t id = p->command_id;

	const char *bad;

	if (w.cap < PDU_HEADER_LEN) {
		errf(err, errlen, "%s does not pack: buffer too small",
		    pdu_command_name(id));
		return -1;
	}
	if ((bad = header_invalid(p->command_status, p->sequence)) != NULL) {
		errf(err, errlen, "%s does not pack: %s is invalid",
		    pdu_command_name(id), bad);
		return -1;
	}
	switch (id) {
	case SUBMIT_SM:
	case DELIVER_SM:
		if (!ton_valid(p->src.ton) || !npi_valid(p->src.npi) ||
		    !ton_valid(p->dst.ton) || !npi_valid(p->dst.npi)) {
			errf(err, errlen, "%s does not pack: TON %u/%u or NPI "
			    "%u/%u is invalid", pdu_command_name(id), p->src.ton,
			    p->dst.ton, p->src.npi, p->dst.npi);
			return -1;
		}
		wr_cstr(&w, p->service_type, sizeof(p->service_type));
		wr_u8(&w, p->src.ton);
		wr_u8(&w, p->src.npi);
		wr_cstr(&w, p->src.addr, PDU_ADDR_MAX);
		wr_u8(&w, p->dst.ton);
		wr_u8(&w, p->dst.npi);
		wr_cstr(&w, p->dst.addr, PDU_ADDR_MAX);
		wr_u8(&w, p->esm_class);
		wr_u8(&w, p->protocol_id);
		wr_u8(&w, p->priority_flag);
		wr_u8(&w, 0);                /* schedule_delivery_time */
		wr_u8(&w, 0);                /* validity_period */
		wr_u8(&w, p->registered_delivery);
		wr_u8(&w, 0);                /* replace_if_present_flag */
		wr_u8(&w, p->data_coding);
		wr_u8(&w, 0);                /* sm_default_msg_id */
		wr_u8(&w, (uint8_t)p->sm_len);
		wr_bytes(&w, p->sm, p->sm_len);
		if (p->tlvs & PDU_HAS_SAR) {
			wr_tlv(&w, TLVID_sar_msg_ref_num, (uint8_t[]){
			    (uint8_t)(p->sar_ref >> 8), (uint8_t)p->sar_ref }, 2);
			wr_tlv(&w, TLVID_sar_total_segments, &p->sar_total, 1);
			wr_tlv(&w, TLVID_sar_segment_seqnum, &p->sar_seq, 1);
		}
		if (p->tlvs & PDU_HAS_PAYLOAD)
			wr_tlv(&w, TLVID_message_payload, p->payload,
			    p->payload_len);
		if (p->tlvs & PDU_HAS_RECEIPTED_ID) {
			size_t n = strnlen(p->receipted_id, PDU_MSGID_MAX - 1);

			wr_u16(&w, TLVID_receipted_message_id);
			wr_u16(&w, (uint16_t)(n + 1));
			wr_cstr(&w, p->receipted_id, PDU_MSGID_MAX);
		}
		if (p->tlvs & PDU_HAS_MSG_STATE)
			wr_tlv(&w, TLVID_message_state, &p->message_state, 1);
		if (p->tlvs & PDU_HAS_NET_ERR)
			wr_tlv(&w, TLVID_network_error_code, p->net_err, 3);
		break;
	case SUBMIT_SM_RESP:
		wr_cstr(&w, p->message_id, PDU_MSGID_MAX);
		break;
	case DELIVER_SM_RESP:
		wr_u8(&w, 0);                /* message_id, unused */
		break;
	default:
		return 0;
	}
	if (w.off > w.cap) {
		errf(err, errlen, "%s does not pack: buffer too small",
		    pdu_command_name(id));
		return -1;
	}
	put32(buf, (uint32_t)w.off);
	put32(buf + 4, id);
	put32(buf + 8, p->command_status);
	put32(buf + 12, p->sequence);
	*len = (int)w.off;
	return 1;
}

static int
lib_encode(const struct pdu *p, uint8_t *buf, size_t cap, char *err,
    size_t errlen)
{
	union lib_pdu u;
	tlv_t slots[7], *tlvs = NULL, **tail = &tlvs;
	int n = 0, len = 0;
	uint32_t id = p->command_id;

	if (p->tlvs & PDU_HAS_SAR) {
		tlv_add(&slots[n], tail, TLVID_sar_msg_ref_num, 2)
		    ->value.val16 = p->sar_ref;
		tail = &slots[n++].next;
		tlv_add(&slots[n], tail, TLVID_sar_total_segments, 1)
		    ->value.val08 = p->sar_total;
		tail = &slots[n++].next;
		tlv_add(&slots[n], tail, TLVID_sar_segment_seqnum, 1)
		    ->value.val08 = p->sar_seq;
		tail = &slots[n++].next;
	}
	if (p->tlvs & PDU_HAS_PAYLOAD) {
		memcpy(tlv_add(&slots[n], tail, TLVID_message_payload,
		    p->payload_len)->value.octet, p->payload, p->payload_len);
		tail = &slots[n++].next;
	}
	if (p->tlvs & PDU_HAS_RECEIPTED_ID) {
		size_t idlen = strnlen(p->receipted_id, PDU_MSGID_MAX - 1) + 1;

		memcpy(tlv_add(&slots[n], tail, TLVID_receipted_message_id,
		    (uint16_t)idlen)->value.octet, p->receipted_id, idlen);
		slots[n].value.octet[idlen - 1] = '\0';
		tail = &slots[n++].next;
	}
	if (p->tlvs & PDU_HAS_MSG_STATE) {
		tlv_add(&slots[n], tail, TLVID_message_state, 1)
		    ->value.val08 = p->message_state;
		tail = &slots[n++].next;
	}
	if (p->tlvs & PDU_HAS_NET_ERR) {
		memcpy(tlv_add(&slots[n], tail, TLVID_network_error_code, 3)
		    ->value.octet, p->net_err, 3);
		tail = &slots[n++].next;
	}

	memset(&u, 0, sizeof(u));
	/* Every libsmpp34 struct starts with the same four header fields. */
	u.bind.command_length = 0;
	u.bind.command_id = id;
	u.bind.command_status = p->command_status;
	u.bind.sequence_number = p->sequence;

	switch (id) {
	case BIND_RECEIVER:
	case BIND_TRANSMITTER:
	case BIND_TRANSCEIVER:
		snprintf((char *)u.bind.system_id, sizeof(u.bind.system_id),
		    "%s", p->system_id);
		snprintf((char *)u.bind.password, sizeof(u.bind.password),
		    "%s", p->password);
		snprintf((char *)u.bind.system_type,
		    sizeof(u.bind.system_type), "%s", p->system_type);
		u.bind.interface_version = p->interface_version ?
		    p->interface_version : SMPP_VERSION;
		break;
	case BIND_RECEIVER_RESP:
	case BIND_TRANSMITTER_RESP:
	case BIND_TRANSCEIVER_RESP:
		snprintf((char *)u.bind_resp.system_id,
		    sizeof(u.bind_resp.system_id), "%s", p->system_id);
		break;
	case SUBMIT_SM:
		PUT_SM(&u.submit, p);
		break;
	case DELIVER_SM:
		PUT_SM(&u.deliver, p);
		break;
	case SUBMIT_SM_RESP:
		snprintf((char *)u.submit_resp.message_id,
		    sizeof(u.submit_resp.message_id), "%s", p->message_id);
		break;
	case DELIVER_SM_RESP:
		break;
	}

	arena_install();
	if (smpp34_pack(id, buf, (int)(cap > PDU_MAX_LEN ? PDU_MAX_LEN : cap),
	    &len, &u) != 0) {
		char why[160];

		errf(err, errlen, "%s does not pack: %s",
		    pdu_command_name(id), smpp34_reason(why, sizeof(why)));
		arena_release();
		return -1;
	}
	arena_release();
	return len;
}

static int
encode(const struct pdu *p, uint8_t *buf, size_t cap, char *err,
    size_t errlen, int reference)
{
	uint32_t id = p->command_id;
	int len;

	/* §4.4.2: a response with a non-zero status carries no body. */
	if (header_only(id) ||
	    ((id & PDU_RESP_BIT) && p->command_status != ESME_OK))
		return encode_header_only(p, buf, cap, err, errlen);
	if (!pdu_command_known(id)) {
		errf(err, errlen, "cannot encode command 0x%08x", id);
		return -1;
	}
	if (p->sm_len > PDU_SM_MAX || p->payload_len > PDU_PAYLOAD_MAX) {
		errf(err, errlen, "short_message %u or payload %u too long",
		    p->sm_len, p->payload_len);
		return -1;
	}
	if (!reference) {
		switch (fast_encode(p, buf, cap, err, errlen, &len)) {
		case 1:
			return len;
		case -1:
			return -1;
		}
	}
	return lib_encode(p, buf, cap, err, errlen);
}

int
pdu_encode(const struct pdu *p, uint8_t *buf, size_t cap, char *err,
    size_t errlen)
{
	return encode(p, buf, cap, err, errlen, 0);
}

int
pdu_encode_reference(const struct pdu *p, uint8_t *buf, size_t cap,
    char *err, size_t errlen)
{
	return encode(p, buf, cap, err, errlen, 1);
}
