/*
 * SMSC delivery receipts (SMPP 3.4 §5.2.12 esm_class 0x04, Appendix B text
 * form "id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…",
 * and the receipted_message_id / message_state / network_error_code TLVs).
 * TLVs win over the text when both are present.
 */
#ifndef PROTO_DLR_H
#define PROTO_DLR_H

#include <stddef.h>
#include <stdint.h>

#include "proto/pdu.h"

enum dlr_state {          /* message_state values, SMPP 3.4 §5.2.28 */
	DLR_UNKNOWN_STATE = 0,
	DLR_ENROUTE = 1, DLR_DELIVERED = 2, DLR_EXPIRED = 3, DLR_DELETED = 4,
	DLR_UNDELIVERABLE = 5, DLR_ACCEPTED = 6, DLR_UNKNOWN = 7,
	DLR_REJECTED = 8,
};

struct dlr {
	char     id[PDU_MSGID_MAX];   /* as the SMSC wrote it */
	enum dlr_state state;
	char     stat[8];             /* DELIVRD, UNDELIV, … as in the text */
	int      err;                 /* err: field or network error; -1 absent */
	int      sub, dlvrd;          /* -1 when absent */
	char     submit_date[11], done_date[11];   /* YYMMDDhhmm or "" */
};

/*
 * Parses a receipt from a decoded deliver_sm. Returns 0, or -1 with err when
 * no message id or no state can be found.
 */
int dlr_parse(const struct pdu *p, struct dlr *out, char *err, size_t errlen);

/* Parses the text form alone (text need not be NUL-terminated). */
int dlr_parse_text(const char *text, size_t len, struct dlr *out, char *err,
    size_t errlen);

/*
 * The forms under which an SMSC may quote the same message id: as given
 * (lower-cased), decimal -> hex, hex -> decimal. Writes up to 3 distinct
 * NUL-terminated ids into out and returns how many.
 */
int dlr_id_variants(const char *id, char out[3][PDU_MSGID_MAX]);

/* "DELIVRD", "UNDELIV", … for a state. */
const char *dlr_state_name(enum dlr_state s);

/* Maps the 7-letter text stat to a state; DLR_UNKNOWN_STATE if unknown. */
enum dlr_state dlr_state_from_stat(const char *stat);

#endif
