/*
 * Delivery-receipt text (proto/dlr.h): the "id:… stat:…" body of a
 * deliver_sm, any bytes, not NUL-terminated, then the id forms the outbox
 * looks a receipt up under. Also dlr_parse() on a deliver_sm carrying the
 * same text, with the TLV fields taken from the first bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dlr.h"
#include "proto/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct dlr *d)
{
	char v[3][PDU_MSGID_MAX];
	int n;

	if (memchr(d->id, '\0', sizeof(d->id)) == NULL ||
	    memchr(d->stat, '\0', sizeof(d->stat)) == NULL ||
	    memchr(d->submit_date, '\0', sizeof(d->submit_date)) == NULL ||
	    memchr(d->done_date, '\0', sizeof(d->done_date)) == NULL)
		abort();
	if ((unsigned)d->state > DLR_REJECTED)
		abort();
	(void)dlr_state_name(d->state);
	n = dlr_id_variants(d->id, v);
	if (n < 0 || n > 3)
		abort();
	for (int i = 0; i < n; i++)
		if (memchr(v[i], '\0', sizeof(v[i])) == NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dlr d;
	struct pdu p;
	char err[256], id[PDU_MSGID_MAX], v[3][PDU_MSGID_MAX];
	char *text;

	if ((text = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	if (dlr_parse_text(text, size, &d, err, sizeof(err)) == 0)
		check(&d);
	free(text);

	/* The input as an id of any shape the text could carry. */
	size_t n = size < sizeof(id) - 1 ? size : sizeof(id) - 1;
	memcpy(id, data, n);
	id[n] = '\0';
	(void)dlr_id_variants(id, v);

	if (size < 4)
		return 0;
	pdu_init(&p, PDU_DELIVER_SM, 0, 1);
	p.esm_class = PDU_ESM_RECEIPT;
	p.tlvs = data[0] & (PDU_HAS_RECEIPTED_ID | PDU_HAS_MSG_STATE |
	    PDU_HAS_NET_ERR);
	p.message_state = data[1];
	p.net_err[0] = data[2];
	p.net_err[1] = data[3];
	p.net_err[2] = data[1];
	data += 4;
	size -= 4;
	n = size < sizeof(p.receipted_id) - 1 ? size : sizeof(p.receipted_id) - 1;
	memcpy(p.receipted_id, data, n);
	p.receipted_id[n] = '\0';
	p.sm_len = size < PDU_SM_MAX ? (uint16_t)size : PDU_SM_MAX;
	memcpy(p.sm, data, p.sm_len);
	if (dlr_parse(&p, &d, err, sizeof(err)) == 0)
		check(&d);
	return 0;
}
