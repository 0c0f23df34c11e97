/*
 * What every session shares: the constructor by protocol and the names of
 * submit outcomes.
 */
#include "daemon/link/link.h"

#include <stdio.h>

#include "daemon/link/cmpp.h"
#include "daemon/link/smpp.h"
#include "proto/cmpp.h"

struct link *
link_new(enum link_protocol proto, struct event_base *base,
    const struct link_cfg *cfg, const struct link_cb *cb, void *arg)
{
	switch (proto) {
	case LINK_SMPP:
		return smpp_link_new(base, cfg, cb, arg);
	case LINK_CMPP30:
		return cmpp_link_new(CMPP_V30, base, cfg, cb, arg);
	case LINK_CMPP20:
		return cmpp_link_new(CMPP_V20, base, cfg, cb, arg);
	}
	return NULL;
}

const char *
link_status_name(uint32_t status)
{
	static char buf[32];

	if (status == LINK_TIMEOUT)
		return "RESPONSE_TIMEOUT";
	if (status == LINK_LOST)
		return "LINK_LOST";
	if (status == LINK_ENCODE)
		return "ENCODE_FAILED";
	if (status == LINK_EXPIRED)
		return "VALIDITY_EXPIRED";
	if (LINK_IS_CMPP(status)) {
		snprintf(buf, sizeof(buf), "CMPP_RESULT_%u", status & 0xFFFFu);
		return buf;
	}
	return pdu_status_name(status);
}
