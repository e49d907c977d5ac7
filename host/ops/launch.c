/* launch.c: enqueueing and releasing prepared kernel launches, and the -D flags of the
 * shared epilogue. */
#include "launch.h"

#include <stdio.h>
#include <string.h>

irv2_status op_enqueue(irv2_context *ctx, const op_launch *op, cl_event *event)
{
    static const size_t one[3] = {1, 1, 1};
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, op->kernel, op->dims, NULL, op->gws,
                                        op->local_one ? one : NULL, 0, NULL, event);
    return ctx_cl_check(ctx, err, "clEnqueueNDRangeKernel");
}

void op_release(op_launch *op)
{
    if (op->kernel) clReleaseKernel(op->kernel);
    memset(op, 0, sizeof *op);
}

void epilogue_flags(op_epilogue epi, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s%s%s%s", epi.relu1 ? " -DRELU1" : "", epi.residual ? " -DRESIDUAL" : "",
             epi.affine ? " -DAFFINE" : "", epi.relu2 ? " -DRELU2" : "");
}

irv2_status set_args(irv2_context *ctx, cl_kernel k, const char *what, unsigned count,
                     const kernel_arg *args)
{
    for (unsigned i = 0; i < count; i++) {
        cl_int err = clSetKernelArg(k, i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            char msg[128];
            snprintf(msg, sizeof msg, "clSetKernelArg(%s, %u)", what, i);
            return ctx_cl_check(ctx, err, msg);
        }
    }
    return IRV2_OK;
}
