/*
 * HTTP API case bodies (PUT /v1/cases/{receipt}, POST .../status). The
 * handlers' JSON code in daemon/http.c is static, so this target goes
 * through the smallest public seam: the body parsed with the same jansson
 * call (json_loadb, JSON_REJECT_DUPLICATES), then every string member fed
 * to each public checker and masker the handlers apply to a value:
 * idcard_check/idcard_mask, msisdn_national/mask_msisdn, mask_name,
 * mask_text, case_status_from_name, case_deadline, tmpl_has_link; and the
 * object dumped again as a reply is. Routing, auth and the store are not
 * reached (see docs/FUZZING.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/privacy.h"
#include "daemon/store.h"
#include "daemon/templates.h"
#include "parsers/idcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TODAY 20261121L

static void
terminated(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void
value(const char *v)
{
	char id[19], mid[9], nat[sizeof(((struct case_rec *)0)->msisdn)];
	char mm[32], mn[16], mt[256], dl[16];

	memset(id, 0, sizeof(id));
	if (idcard_check(v, id, TODAY) == IDCARD_OK && strlen(id) != 18)
		abort();
	idcard_mask(v, mid);
	terminated(mid, sizeof(mid));
	if (msisdn_national(v, "86", nat, sizeof(nat)) == 0)
		terminated(nat, sizeof(nat));
	mask_msisdn(v, mm, sizeof(mm));
	terminated(mm, sizeof(mm));
	mask_name(v, mn, sizeof(mn));
	terminated(mn, sizeof(mn));
	mask_text(v, v, mt, sizeof(mt));
	terminated(mt, sizeof(mt));
	if (strchr(mt, '\n') != NULL || strchr(mt, '"') != NULL)
		abort();          /* a masked log value stays one field */
	(void)case_status_from_name(v);
	(void)case_deadline(v, dl, sizeof(dl));
	terminated(dl, sizeof(dl));
	(void)tmpl_has_link(v);
	(void)msisdn_same(v, "13800138000", "86");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	const char *key;
	json_t *j, *v;
	char *dump;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		return 0;
	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			value(key);
			if (json_is_string(v))
				value(json_string_value(v));
		}
	}
	if ((dump = json_dumps(j, JSON_COMPACT)) != NULL)
		free(dump);
	json_decref(j);
	return 0;
}
