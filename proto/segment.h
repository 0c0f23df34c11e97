/*
 * Outbound segmentation: a UTF-8 text becomes one or more short messages.
 * GSM 03.38 when every character fits, else UCS-2. Multi-part texts carry
 * 153 septets or 67 UCS-2 units per part, with an 8-bit-reference UDH
 * (default), SAR TLVs, or one message_payload. Never splits an escape pair
 * or a surrogate pair.
 */
#ifndef PROTO_SEGMENT_H
#define PROTO_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

/* SEG_CMPP: as SEG_UDH, but a text of ASCII alone goes as 8-bit octets
 * (140 a message, 134 a part: CMPP's Msg_Fmt 0), not GSM 7-bit septets. */
enum seg_mode { SEG_UDH, SEG_SAR, SEG_PAYLOAD, SEG_CMPP };

#define SEG_MAX_PARTS 255

struct seg_part {
	const uint8_t *data;  /* into segments.buf: UDH (SEG_UDH) + encoded text */
	size_t         len;   /* <= 254 except SEG_PAYLOAD (<= PDU_PAYLOAD_MAX) */
	uint8_t        seq;   /* 1-based */
};

struct segments {
	uint8_t  data_coding;   /* DCS_GSM7, DCS_UCS2 (or DCS_IA5: SEG_CMPP) */
	uint8_t  esm_class;     /* PDU_ESM_UDHI when parts carry a UDH */
	enum seg_mode mode;     /* as used: SEG_PAYLOAD falls back to SEG_UDH
	                           when the text exceeds PDU_PAYLOAD_MAX octets */
	uint16_t ref;           /* UDH: low 8 bits; SAR: 16 bits */
	int      total;         /* number of parts, 1..SEG_MAX_PARTS */
	struct seg_part *parts; /* total entries, owned */
	uint8_t *buf;           /* owns the part bytes */
};

/*
 * Splits utf8[0..len) into parts. A text that fits one message is one part
 * with no UDH and no SAR. Returns 0, or -1 with err (invalid UTF-8, empty
 * text, more than SEG_MAX_PARTS parts). Free with segments_free().
 */
int segment_text(const char *utf8, size_t len, enum seg_mode mode,
    uint16_t ref, struct segments *out, char *err, size_t errlen);

void segments_free(struct segments *s);

#endif
