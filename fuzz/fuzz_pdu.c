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

static uint8_t out[PDU_MAX_LEN + 64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pdu p, q;
	char err[256];
	int n;

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
	if (pdu_decode(buf, size, &p, err, sizeof(err)) == 0) {
		(void)pdu_command_name(p.command_id);
		(void)pdu_status_name(p.command_status);
		if (p.sm_len > PDU_SM_MAX || p.payload_len > PDU_PAYLOAD_MAX)
			abort();
		n = pdu_encode(&p, out, sizeof(out), err, sizeof(err));
		if (n > 0)
			(void)pdu_decode(out, (size_t)n, &q, err,
			    sizeof(err));
	}
	free(buf);
	if (pdu_lib_allocations() != 0)
		abort();          /* libsmpp34 TLV list leaked past a call */
	return 0;
}
