/* head.c: launches cl/head.cl, turning [classes][N] logits into [N][classes] output. */
#include "launch.h"

#include <string.h>

irv2_status head_op(irv2_context *ctx, int classes, int n, int softmax, op_buf logits,
                    cl_mem out, op_launch *op)
{
    memset(op, 0, sizeof *op);
    irv2_status st = ctx_kernel(ctx, "head.cl", softmax ? "-DSOFTMAX" : "", "head", &op->kernel);
    if (st != IRV2_OK) return st;
    cl_uint off = (cl_uint)logits.off;
    const kernel_arg args[] = {ARG(logits.mem), ARG(off), ARG(out), ARG(classes), ARG(n)};
    st = set_args(ctx, op->kernel, "head", sizeof args / sizeof args[0], args);
    if (st != IRV2_OK) {
        op_release(op);
        return st;
    }
    op->dims = 1;
    op->gws[0] = (size_t)n;
    return IRV2_OK;
}
