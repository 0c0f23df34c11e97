/*
 * A deliver_sm -> what it is: a delivery receipt, one part of a longer text
 * (held for reassembly), a whole text decoded to UTF-8, or something to
 * refuse for good. UDH, SAR TLVs and message_payload are all understood.
 * No I/O: the caller supplies the reassembly table and the time.
 */
#ifndef DAEMON_INBOUND_H
#define DAEMON_INBOUND_H

#include <stdint.h>

#include "daemon/pipeline.h"
#include "proto/dlr.h"
#include "proto/pdu.h"
#include "proto/reasm.h"

enum inbound_kind {
	INB_TEXT,       /* item.in holds a whole text */
	INB_PART,       /* held until the other parts come */
	INB_RECEIPT,    /* item.dlr */
	INB_REFUSED,    /* undecodable for good: item.why */
};

struct inbound_item {
	enum inbound_kind kind;
	struct inbound    in;
	char             *text;     /* owns in.text */
	struct dlr        dlr;
	char              why[200];
};

/* Classifies and decodes p. Free with inbound_item_free(). */
void inbound_from_pdu(struct reasm *r, const struct pdu *p, uint64_t now_ms,
    struct inbound_item *out);
void inbound_item_free(struct inbound_item *it);

#endif
