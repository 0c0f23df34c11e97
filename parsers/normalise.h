/*
 * Normalisation of citizens' texts before matching: full-width ASCII to
 * half-width (U+FF01..U+FF5E), the ideographic space and other Unicode
 * spaces to ' ', the separators , ， : ： ; ； 、 and - to ' ', then spaces
 * collapsed and trimmed. Letters keep their case (patterns are caseless).
 */
#ifndef PARSERS_NORMALISE_H
#define PARSERS_NORMALISE_H

#include <stddef.h>

/*
 * Writes the normalised form of utf8[0..len) to out (NUL-terminated; at
 * most len + 1 bytes are ever needed). Returns its length, or -1 if the
 * input is not valid UTF-8 or out is too small.
 */
int text_normalise(const char *utf8, size_t len, char *out, size_t cap);

#endif
