/* head.c: launches cl/head.cl, turning [classes][N] logits into [N][classes] output. */
#include "ops/head.h"

irv2_status head_op(irv2_context *ctx, int classes, int n, int softmax, op_buf logits,
                    cl_mem out, op_launch *op)
{
    cl_uint off = (cl_uint)logits.off;
    const kernel_arg args[] = {ARG(logits.mem), ARG(off), ARG(out), ARG(classes), ARG(n)};
    irv2_status st = op_kernel(ctx, "head.cl", softmax ? "-DSOFTMAX" : "", "head",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 1;
    op->gws[0] = (size_t)n;
    return IRV2_OK;
}
