/*
 * SMPP 3.4 PDU codec: the only module that talks to libsmpp34. Decodes a
 * framed PDU into a flat struct pdu and encodes one back; libsmpp34's global
 * error state and heap TLV lists never leave pdu.c. Pure: no I/O, no clock.
 */
#ifndef PROTO_PDU_H
#define PROTO_PDU_H

#include <stddef.h>
#include <stdint.h>

#define PDU_HEADER_LEN   16
#define PDU_MAX_LEN      65536        /* larger command_length: drop the link */
#define PDU_SM_MAX       254          /* short_message octets (§5.2.22) */
#define PDU_PAYLOAD_MAX  1024         /* message_payload octets libsmpp34 carries */
#define PDU_MSGID_MAX    65
#define PDU_ADDR_MAX     21

/* Command ids and statuses: libsmpp34's names are used by value only. */
enum {
	PDU_GENERIC_NACK       = 0x80000000u,
	PDU_BIND_RECEIVER      = 0x00000001u,
	PDU_BIND_TRANSMITTER   = 0x00000002u,
	PDU_SUBMIT_SM          = 0x00000004u,
	PDU_DELIVER_SM         = 0x00000005u,
	PDU_UNBIND             = 0x00000006u,
	PDU_BIND_TRANSCEIVER   = 0x00000009u,
	PDU_ENQUIRE_LINK       = 0x00000015u,
	PDU_RESP_BIT           = 0x80000000u,
	PDU_BIND_RECEIVER_RESP    = 0x80000001u,
	PDU_BIND_TRANSMITTER_RESP = 0x80000002u,
	PDU_SUBMIT_SM_RESP        = 0x80000004u,
	PDU_DELIVER_SM_RESP       = 0x80000005u,
	PDU_UNBIND_RESP           = 0x80000006u,
	PDU_BIND_TRANSCEIVER_RESP = 0x80000009u,
	PDU_ENQUIRE_LINK_RESP     = 0x80000015u,
};

enum {
	ESME_OK          = 0x00,
	ESME_INVMSGLEN   = 0x01,
	ESME_INVCMDLEN   = 0x02,
	ESME_INVCMDID    = 0x03,
	ESME_INVBNDSTS   = 0x04,
	ESME_ALYBND      = 0x05,
	ESME_SYSERR      = 0x08,
	ESME_INVDSTADR   = 0x0B,
	ESME_BINDFAIL    = 0x0D,
	ESME_INVPASWD    = 0x0E,
	ESME_INVSYSID    = 0x0F,
	ESME_MSGQFUL     = 0x14,
	ESME_INVDSTTON   = 0x50,
	ESME_INVDSTNPI   = 0x51,
	ESME_THROTTLED   = 0x58,
	ESME_X_T_APPN    = 0x64,
	ESME_X_P_APPN    = 0x65,
};

/* Optional parameters we understand (SMPP 3.4 §5.3.2). */
enum pdu_tlv_flag {
	PDU_HAS_SAR           = 1u << 0,  /* sar_msg_ref_num + total + seqnum */
	PDU_HAS_PAYLOAD       = 1u << 1,  /* message_payload */
	PDU_HAS_RECEIPTED_ID  = 1u << 2,  /* receipted_message_id */
	PDU_HAS_MSG_STATE     = 1u << 3,  /* message_state */
	PDU_HAS_NET_ERR       = 1u << 4,  /* network_error_code */
};

struct pdu_addr {
	uint8_t ton, npi;
	char    addr[PDU_ADDR_MAX];
};

/*
 * One PDU, flat. Which fields mean something depends on command_id: bind_*
 * use system_id/password/system_type/interface_version; *_resp of binds use
 * system_id; submit_sm/deliver_sm use the message fields; submit_sm_resp uses
 * message_id. Strings are NUL-terminated; byte fields carry their length.
 */
struct pdu {
	uint32_t command_id, command_status, sequence;

	char     system_id[16], password[9], system_type[13];
	uint8_t  interface_version;

	char     service_type[6];
	struct pdu_addr src, dst;
	uint8_t  esm_class, protocol_id, priority_flag, registered_delivery;
	uint8_t  data_coding;
	uint8_t  sm[PDU_SM_MAX];
	uint16_t sm_len;

	uint32_t tlvs;                    /* enum pdu_tlv_flag bits */
	uint16_t sar_ref;
	uint8_t  sar_total, sar_seq;
	uint8_t  payload[PDU_PAYLOAD_MAX];
	uint16_t payload_len;
	char     receipted_id[PDU_MSGID_MAX];
	uint8_t  message_state;
	uint8_t  net_err[3];

	char     message_id[PDU_MSGID_MAX];
};

/* esm_class bits (§5.2.12) */
#define PDU_ESM_UDHI       0x40
#define PDU_ESM_TYPE_MASK  0x3C
#define PDU_ESM_RECEIPT    0x04

/*
 * Reads the 16-byte header at buf (len >= 16). Returns 0 and fills the four
 * header fields of *p, or -1 with err when command_length is outside
 * [16, PDU_MAX_LEN]: the caller must drop the link (the stream is lost).
 */
int pdu_header(const uint8_t *buf, size_t len, struct pdu *p, char *err,
    size_t errlen);

/*
 * 1 if the header fields of *p (from pdu_header) are ones a PDU can decode
 * with: sequence_number not 0 and a command_status of SMPP 3.4 §5.1.3
 * (libsmpp34's rule, which pdu_decode keeps). 0 if not.
 */
int pdu_header_sound(const struct pdu *p);

/*
 * The answer to a framed PDU whose body does not unpack, from its header h
 * alone (SMPP 3.4 §4.3, §4.6.2). A deliver_sm with a sound header gets
 * deliver_sm_resp ESME_RX_P_APPN, a permanent refusal, so that the SMSC
 * stops delivering it again; any other request, or a deliver_sm whose
 * header is not sound, gets generic_nack ESME_RINVCMDLEN. Returns 1 with
 * *resp filled (same sequence number), or 0 for a response: a response is
 * never answered (its sequence number is one of ours).
 */
int pdu_refusal(const struct pdu *h, struct pdu *resp);

/*
 * Decodes one whole PDU of exactly len bytes (len == command_length).
 * Returns 0, or -1 with a message in err when the body does not unpack.
 * Error responses (command_status != 0) decode their header only.
 * Unknown command ids decode their header and return 0: the caller nacks.
 */
int pdu_decode(const uint8_t *buf, size_t len, struct pdu *p, char *err,
    size_t errlen);

/*
 * Encodes *p into buf (cap bytes). Returns the PDU length, or -1 with err.
 * command_length is computed; TLVs are emitted for the bits set in p->tlvs.
 */
int pdu_encode(const struct pdu *p, uint8_t *buf, size_t cap, char *err,
    size_t errlen);

/*
 * The same as pdu_decode and pdu_encode, always through libsmpp34: the
 * reference the hand-written codec of the hot PDUs is tested against.
 */
int pdu_decode_reference(const uint8_t *buf, size_t len, struct pdu *p,
    char *err, size_t errlen);
int pdu_encode_reference(const struct pdu *p, uint8_t *buf, size_t cap,
    char *err, size_t errlen);

/* Zero *p and set its header (length is computed at encode time). */
void pdu_init(struct pdu *p, uint32_t command_id, uint32_t status,
    uint32_t seq);

/* "submit_sm", "ESME_RTHROTTLED"; never NULL (unknown: "0x%08x" in a static
 * buffer per call site is avoided: returns "unknown"). */
const char *pdu_command_name(uint32_t command_id);
const char *pdu_status_name(uint32_t status);

/* Allocations libsmpp34 holds right now: 0 between calls, or a leak. */
size_t pdu_lib_allocations(void);

/* 1 if id is a command this codec decodes, 0 otherwise (answer generic_nack). */
int pdu_command_known(uint32_t command_id);

#endif
