/* clblast_tuning.h: CLBlast's own tuner results applied to a context's device. */
#ifndef IRV2_CLBLAST_TUNING_H
#define IRV2_CLBLAST_TUNING_H

#include "runtime/context.h"

/* Applies the CLBlast tuner results (clblast_*.json) in the folder dir that are for this
 * device in single precision (CLBlastOverrideParameters); none when dir is NULL or "". Fails,
 * naming the file, on one that is not a tuner result or that CLBlast refuses. */
irv2_status ctx_apply_clblast_tuning(irv2_context *ctx, const char *dir);

#endif
