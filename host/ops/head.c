/* head.c: launches cl/head.cl, turning [classes][N] logits into [N][classes] output, in the
 * CPU shape or, where ctx_prefers_wg(), the work-group shape. */
#include "ops/head.h"

/* Work-items per image of the work-group softmax (at most). */
enum { SOFTMAX_WG = 256 };


irv2_status head_op(irv2_context *ctx, int classes, int n, int softmax, op_buf logits,
                    cl_mem out, op_launch *op)
{
    const int wg = ctx_prefers_wg(ctx) != 0;
    cl_uint off = (cl_uint)logits.off;
    const kernel_arg args[] = {ARG(logits.mem), ARG(off), ARG(out), ARG(classes), ARG(n)};
    irv2_status st = op_kernel(ctx, "head.cl", softmax ? "-DSOFTMAX" : "", wg ? "head_wg" : "head",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    if (!wg) {
        op->dims = 1;
        op->gws[0] = (size_t)n;
    } else if (!softmax) {
        op->dims = 2;
        op->gws[0] = (size_t)classes, op->gws[1] = (size_t)n;
    } else {
        size_t local = 0, want = 1;
        while (want < (size_t)classes && want < SOFTMAX_WG) want *= 2;
        st = op_local_pow2(ctx, op->kernel, want, &local);
        if (st == IRV2_OK)
            st = op_local_arg(ctx, op, 5, local * sizeof(float));
        op->dims = 1;
        op->gws[0] = local * n, op->lws[0] = local;
    }
    if (st != IRV2_OK) op_release(op);
    return st;
}
