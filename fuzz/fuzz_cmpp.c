/*
 * CMPP framing and decode (proto/cmpp.h): the bytes an ISMG (or, for
 * smsc-sim, an SP) sends. The input is one frame; its Total_Length is
 * forced to the input size so most runs reach the field tables, and it is
 * decoded as 3.0 and as 2.0. Whatever decodes is encoded again, and that
 * encoding decodes to the same struct and encodes to the same octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cmpp.h"
#include "proto/cmppmap.h"
#include "proto/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[CMPP_MAX_LEN], out2[CMPP_MAX_LEN];

static int
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void
check(enum cmpp_version v, const uint8_t *buf, size_t size)
{
	static struct cmpp p, q;
	char err[256], show[64], hex[17];
	int n, m;

	if (cmpp_decode(v, buf, size, &p, err, sizeof(err)) != 0)
		return;
	(void)cmpp_command_name(p.command_id);
	(void)cmpp_connect_status_name(p.status);
	(void)cmpp_result_name(p.status);
	cmpp_msgid_hex(p.msg_id, hex);
	cmpp_msgid_show(p.report.msg_id, show, sizeof(show));
	if (!terminated(p.source_addr, sizeof(p.source_addr)) ||
	    !terminated(p.service_id, sizeof(p.service_id)) ||
	    !terminated(p.fee_terminal_id, sizeof(p.fee_terminal_id)) ||
	    !terminated(p.dest_terminal_id, sizeof(p.dest_terminal_id)) ||
	    !terminated(p.src_terminal_id, sizeof(p.src_terminal_id)) ||
	    !terminated(p.link_id, sizeof(p.link_id)) ||
	    !terminated(p.report.stat, sizeof(p.report.stat)) ||
	    !terminated(p.report.dest_terminal_id,
	    sizeof(p.report.dest_terminal_id)))
		abort();
	if (p.command_id == CMPP_DELIVER) {
		/* What link/cmpp hands the gateway (proto/cmppmap): any
		 * DELIVER becomes a deliver_sm in bounds, or a refusal with
		 * its reason. */
		static struct pdu d;
		char why[128];

		if (cmppmap_deliver(&p, &d, why, sizeof(why)) == 0) {
			if (d.sm_len > sizeof(d.sm) ||
			    !terminated(d.src.addr, sizeof(d.src.addr)) ||
			    !terminated(d.dst.addr, sizeof(d.dst.addr)) ||
			    !terminated(d.receipted_id,
			    sizeof(d.receipted_id)))
				abort();
		} else if (!terminated(why, sizeof(why)) || why[0] == '\0') {
			abort();
		}
	}
	if (!cmpp_command_known(p.command_id))
		return;           /* header only: the caller drops the link */
	n = cmpp_encode(v, &p, out, sizeof(out), err, sizeof(err));
	if (n < CMPP_HEADER_LEN)
		abort();          /* a decoded message always encodes */
	if (cmpp_decode(v, out, (size_t)n, &q, err, sizeof(err)) != 0)
		abort();
	/* A report's raw Msg_Content keeps octets after a NUL inside a
	 * string field; the re-encoded one does not. */
	if (p.command_id == CMPP_DELIVER && p.registered_delivery == 1)
		memcpy(q.msg_content, p.msg_content, sizeof(q.msg_content));
	if (memcmp(&p, &q, sizeof(p)) != 0)
		abort();
	m = cmpp_encode(v, &q, out2, sizeof(out2), err, sizeof(err));
	if (m != n || memcmp(out, out2, (size_t)n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cmpp h;
	char err[256];
	uint32_t total;
	uint8_t *buf;

	if (size < CMPP_HEADER_LEN || size > CMPP_MAX_LEN)
		return 0;
	/* The framing check on the bytes as they came. */
	(void)cmpp_header(data, size, &h, &total, err, sizeof(err));
	(void)cmpp_decode(CMPP_V30, data, size, &h, err, sizeof(err));

	/* An exact-size heap copy, so ASan sees any read past the frame. */
	if ((buf = malloc(size)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[0] = (uint8_t)(size >> 24);
	buf[1] = (uint8_t)(size >> 16);
	buf[2] = (uint8_t)(size >> 8);
	buf[3] = (uint8_t)size;
	if (cmpp_header(buf, size, &h, &total, err, sizeof(err)) != 0 ||
	    total != size)
		abort();          /* a length in [12, CMPP_MAX_LEN] must frame */
	check(CMPP_V30, buf, size);
	check(CMPP_V20, buf, size);
	free(buf);
	return 0;
}
