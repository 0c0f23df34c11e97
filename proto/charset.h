/*
 * Character sets of SMPP data_coding (SMPP 3.4 §5.2.19, 3GPP TS 23.038):
 * GSM 03.38 default alphabet as unpacked septets with its escape table,
 * IA5/ASCII, Latin-1, UCS-2 big-endian with surrogate pairs, and 8-bit
 * binary. Internally every text is UTF-8. Pure functions over buffers.
 */
#ifndef PROTO_CHARSET_H
#define PROTO_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum charset {
	CS_GSM7,      /* data_coding 0x00 (and GSM DCS 0xF0-0xF3) */
	CS_ASCII,     /* 0x01 IA5 */
	CS_BINARY,    /* 0x02, 0x04 (and 0xF4-0xF7): bytes kept as they are */
	CS_LATIN1,    /* 0x03 */
	CS_UCS2,      /* 0x08 */
};

#define DCS_GSM7    0x00
#define DCS_UCS2    0x08
#define DCS_IA5     0x01

/* Maps a data_coding byte to a charset. -1 with err for unsupported codings. */
int charset_from_dcs(uint8_t dcs, enum charset *cs, char *err, size_t errlen);

/* Worst-case UTF-8 bytes (without NUL) that decoding inlen bytes can yield. */
size_t charset_utf8_bound(enum charset cs, size_t inlen);

/*
 * Decodes in[0..inlen) to UTF-8 in out (outcap bytes, NUL-terminated).
 * Returns the UTF-8 length, or -1 with err: odd UCS-2 length, unpaired
 * surrogate, byte > 0x7F in GSM/ASCII, escape at the end, or out too small.
 * CS_BINARY copies the bytes unchanged (the result need not be UTF-8).
 */
int charset_decode(enum charset cs, const uint8_t *in, size_t inlen,
    char *out, size_t outcap, char *err, size_t errlen);

/*
 * Decodes GBK/GB18030 octets (CMPP Msg_Fmt 15) to UTF-8 in out (cap
 * octets, NUL-terminated) with glibc's iconv. Returns the UTF-8 length, or
 * -1 (out holds "") for an invalid or truncated sequence or when out is
 * too small. A GB18030 character of n octets yields at most 3n/2 UTF-8
 * octets, so cap = len * 3 / 2 + 1 is always enough.
 */
int charset_gbk_decode(const uint8_t *in, size_t len, char *out, size_t cap);

/* 1 if every code point of the UTF-8 text has a GSM 03.38 encoding. */
bool gsm7_fits(const char *utf8, size_t len);

/*
 * UTF-8 -> unpacked GSM septets (escape pairs as 0x1B + code). Returns the
 * septet count, or -1 with err (invalid UTF-8, a character outside GSM
 * 03.38, or out too small).
 */
int gsm7_encode(const char *utf8, size_t len, uint8_t *out, size_t outcap,
    char *err, size_t errlen);

/* UTF-8 -> UCS-2 big-endian, surrogate pairs for U+10000 and above. Returns
 * bytes written, or -1 with err. */
int ucs2_encode(const char *utf8, size_t len, uint8_t *out, size_t outcap,
    char *err, size_t errlen);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t len);

/*
 * Decodes one UTF-8 code point at s (len bytes left). Returns its byte length
 * and sets *cp, or -1 on malformed input.
 */
int utf8_next(const char *s, size_t len, uint32_t *cp);

/* Appends cp as UTF-8 to out; returns bytes written (1-4) or -1 if no room. */
int utf8_put(uint32_t cp, char *out, size_t cap);

#endif
