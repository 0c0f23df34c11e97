/*
 * The one way errors are written into a caller's "char *err, size_t errlen"
 * pair across the codebase.
 */
#ifndef PROTO_ERRF_H
#define PROTO_ERRF_H

#include <stddef.h>

/* printf into err (errlen bytes, always NUL-terminated); err may be NULL. */
void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
