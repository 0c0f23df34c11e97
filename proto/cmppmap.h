/*
 * Translation between the gateway's SMPP model (struct pdu) and CMPP
 * messages (struct cmpp): a SUBMIT from a submit_sm, a deliver_sm from a
 * DELIVER (texts and status reports), and the DELIVER_RESP Result for an
 * SMPP status. Pure: no I/O, no clock; the link's settings come in as
 * plain parameters.
 */
#ifndef PROTO_CMPPMAP_H
#define PROTO_CMPPMAP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/cmpp.h"
#include "proto/pdu.h"

#define CMPPMAP_SMS_OCTETS  140     /* one SUBMIT's Msg_Content */

/*
 * DELIVER_RESP Results we send (CMPP 3.0 §7.4.5.2). The spec has no
 * "temporary" result; 8 (flow control) is the one an ISMG takes as "try
 * again later", so every temporary refusal uses it. 1 (message structure
 * error) is for content we cannot read; 9 ("other error") for the rest.
 */
enum {
	CMPPMAP_DRESULT_OK        = 0,
	CMPPMAP_DRESULT_STRUCTURE = 1,
	CMPPMAP_DRESULT_FLOW      = 8,
	CMPPMAP_DRESULT_OTHER     = 9,
};

/* The SUBMIT fields a link's configuration gives (NULL-free strings;
 * each is cut to its CMPP field). */
struct cmppmap_sp {
	const char *sp_id;          /* Msg_src */
	const char *service_id;
	const char *fee_type;
	const char *fee_code;
};

/*
 * A CMPP SUBMIT with Sequence_Id seq from the SMPP submit_sm p, into *m
 * (zeroed first). Pk_total/Pk_number come from a concatenation IE in the
 * UDH (8- or 16-bit reference; 1/1 without one). data_coding 8 stays
 * UCS-2 (Msg_Fmt 8), 1 (IA5) is ASCII (Msg_Fmt 0), and 0 (GSM 03.38 as
 * unpacked septets) becomes ASCII when every character is one; the UDH
 * stays in front. 0, or -1 with err: message_payload or SAR parameters,
 * another data_coding, a GSM text outside ASCII, more than
 * CMPPMAP_SMS_OCTETS octets (the segmenter must cut CMPP texts to fit), an
 * address too long for CMPP.
 */
int cmppmap_submit(const struct pdu *p, uint32_t seq,
    const struct cmppmap_sp *sp, struct cmpp *m, char *err, size_t errlen);

/*
 * The SMPP deliver_sm for the DELIVER m, into *p (pdu_init'd with m's
 * Sequence_Id; addresses with NPI 1). A status report (Registered_Delivery
 * 1) becomes a receipt as cmppmap_report does. A text: Msg_Fmt 8 stays
 * UCS-2, 0 is IA5, 15 (GBK/GB18030) becomes UCS-2 behind the same UDH, any
 * other Msg_Fmt is passed through as data_coding for inbound to refuse.
 * 0, or -1 with why (the DELIVER is refused, Result 1) when an address
 * does not fit SMPP, the UDH is longer than the content, GBK does not
 * decode (a character split between two parts too) or its UCS-2 form does
 * not fit.
 */
int cmppmap_deliver(const struct cmpp *m, struct pdu *p, char *why,
    size_t whylen);

/*
 * A status report as an SMPP receipt in *p: esm_class 0x04,
 * receipted_message_id = Msg_Id as 16 hex digits, and the SMPP 3.4
 * Appendix B text for proto/dlr. A Stat outside the SMPP words (a vendor
 * code such as MA:0001) stays in the text; message_state then says the
 * message was not delivered, which is what every such code means.
 */
void cmppmap_report(const struct cmpp_report *r, struct pdu *p);

/*
 * An SMPP status as a DELIVER_RESP Result: ESME_OK is 0; the gateway's
 * temporary refusals (backpressure, stopping, a failed commit) are 8, flow
 * control, which an ISMG delivers again later; anything else (the text is
 * refused for good) is 9.
 */
uint32_t cmppmap_deliver_result(uint32_t status);

#endif
