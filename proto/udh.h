/*
 * User Data Header (3GPP TS 23.040 §9.2.3.24): finds the concatenation
 * information element (IE 0x00, 8-bit reference; IE 0x08, 16-bit reference)
 * at the start of short_message when esm_class has UDHI set.
 */
#ifndef PROTO_UDH_H
#define PROTO_UDH_H

#include <stddef.h>
#include <stdint.h>

struct udh_concat {
	int      present;     /* 1 if a concatenation IE was found */
	uint16_t ref;
	uint8_t  total, seq;  /* seq is 1-based */
};

/*
 * Parses the UDH at sm[0..len). Returns 0 with *hdr_len = 1 + UDHL (bytes to
 * skip before the text) and *c filled, or -1 with err when UDHL or an IE
 * length runs past the end, or a concatenation IE is inconsistent
 * (total 0, seq 0 or seq > total).
 */
int udh_parse(const uint8_t *sm, size_t len, struct udh_concat *c,
    size_t *hdr_len, char *err, size_t errlen);

/* Writes the 6-byte 8-bit-reference concatenation UDH; returns 6. */
size_t udh_write_concat8(uint8_t out[6], uint8_t ref, uint8_t total,
    uint8_t seq);

#endif
