/* launch.h: helpers shared by the op launchers in host/ops/. */
#ifndef IRV2_LAUNCH_H
#define IRV2_LAUNCH_H

#include "ops.h"

typedef struct kernel_arg {
    size_t size;
    const void *value;
} kernel_arg;

#define ARG(x) ((kernel_arg){sizeof(x), &(x)})

/* " -DRELU1 -DAFFINE ..." for the epilogue's flags. */
void epilogue_flags(op_epilogue epi, char *dst, size_t cap);
irv2_status set_args(irv2_context *ctx, cl_kernel k, const char *what, unsigned count,
                     const kernel_arg *args);

#endif
