/*
 * The CSV reader behind smsgwctl import-cases (daemon/csv.h): any bytes as
 * a file. Every record must come back with fields whose lengths match
 * their NUL terminators, and a malformed record must not stop the reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader *r;
	struct csv_record rec;
	char err[256];
	unsigned long last = 0;
	FILE *f;
	int rc;

	if (size == 0)
		return 0;
	if ((f = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	if ((r = csv_new(f)) == NULL) {
		fclose(f);
		return 0;
	}
	/* Each read consumes at least one byte, so size + 1 reads suffice. */
	for (size_t i = 0; i <= size + 1; i++) {
		memset(&rec, 0, sizeof(rec));
		rc = csv_read(r, &rec, err, sizeof(err));
		if (rc == 0)
			break;
		if (rc != 1 && rc != -1)
			abort();
		if (rec.line < last)
			abort();          /* records come in file order */
		last = rec.line;
		if (rc == 1) {
			if (rec.nfields == 0)
				abort();
			for (size_t k = 0; k < rec.nfields; k++)
				if (strlen(rec.field[k]) != rec.len[k])
					abort();
		}
		if (csv_offset(r) < 0 || csv_offset(r) > (long long)size)
			abort();
		if (i == size + 1)
			abort();          /* the reader stopped advancing */
	}
	csv_free(r);
	fclose(f);
	return 0;
}
