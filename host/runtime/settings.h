/* settings.h: the library's copies of the callers' options structs (irv2.h "Settings"),
 * checked and completed with the defaults. */
#ifndef IRV2_SETTINGS_H
#define IRV2_SETTINGS_H

#include "irv2.h"

/* *dst = the defaults, overlaid by the fields src (NULL: none) carries by its size; fails
 * naming the struct when src->size is not one an irv2.h ever had. Strings are not copied. */
irv2_status settings_context(const irv2_context_options *src, irv2_context_options *dst);
irv2_status settings_model(const irv2_model_options *src, irv2_model_options *dst);

/* The kernel families' and the tuning modes' text forms, failing with "<label>: expected a, b
 * or c" (label names where the text came from). */
irv2_status settings_parse_kernels(const char *text, int *out, const char *label);
irv2_status settings_parse_tune(const char *text, int *out, const char *label);

#endif
