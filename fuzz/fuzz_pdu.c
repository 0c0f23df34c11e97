/*
 * PDU framing and unpack (proto/pdu.h): the bytes an SMSC sends. The input
 * is one frame; its command_length is forced to the input size so most runs
 * reach the body decoder, and what decodes is encoded again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[PDU_MAX_LEN + 64], ref_out[PDU_MAX_LEN + 64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pdu p, q, r;
	char err[256];
	int n, rc;

	if (size < PDU_HEADER_LEN || size > PDU_MAX_LEN)
		return 0;
	/* The framing check on the bytes as they came. */
	(void)pdu_header(data, size, &p, err, sizeof(err));

	/* An exact-size heap copy, so ASan sees any read past the frame. */
	uint8_t *buf = malloc(size);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[0] = (uint8_t)(size >> 24);
	buf[1] = (uint8_t)(size >> 16);
	buf[2] = (uint8_t)(size >> 8);
	buf[3] = (uint8_t)size;
	if (pdu_header(buf, size, &p, err, sizeof(err)) != 0)
		abort();          /* a length in [16, PDU_MAX_LEN] must frame */
	rc = pdu_decode(buf, size, &p, err, sizeof(err));
	if (pdu_decode_reference(buf, size, &r, err, sizeof(err)) != rc ||
	    (rc == 0 && memcmp(&p, &r, sizeof(p)) != 0))
		abort();          /* the fast codec left libsmpp34's rules */
	if (rc == 0) {
		(void)pdu_command_name(p.command_id);
		(void)pdu_status_name(p.command_status);
		if (p.sm_len > PDU_SM_MAX || p.payload_len > PDU_PAYLOAD_MAX)
			abort();
		n = pdu_encode(&p, out, sizeof(out), err, sizeof(err));
		/* libsmpp34 packs at most 253 octets of short_message. */
		if (p.sm_len < PDU_SM_MAX) {
			int m = pdu_encode_reference(&p, ref_out,
			    sizeof(ref_out), err, sizeof(err));

			if (m != n || (n > 0 && memcmp(out, ref_out,
			    (size_t)n) != 0))
				abort();
		}
		if (n > 0)
			(void)pdu_decode(out, (size_t)n, &q, err,
			    sizeof(err));
	}
	free(buf);
	if (pdu_lib_allocations() != 0)
		abort();          /* libsmpp34 TLV list leaked past a call */
	return 0;
}
