/* error.h: recording a failure's one-line message (thread-local) alongside its status. */
#ifndef IRV2_ERROR_H
#define IRV2_ERROR_H

#include "irv2.h"

#if defined(__GNUC__)
#define IRV2_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define IRV2_PRINTF(a, b)
#endif

/* Records the message for irv2_last_error() and returns status, so callers can write
 * `return irv2_fail(IRV2_ERR_IO, "%s: cannot open", path);`. */
irv2_status irv2_fail(irv2_status status, const char *fmt, ...) IRV2_PRINTF(2, 3);

/* Clears the message (called at the start of each public entry point that can fail). */
void irv2_clear_error(void);

#endif
