/* pool.c: launches cl/pool.cl (3x3/2 max pooling, 3x3/1 average pooling, global average). */
#include "ops/pool.h"

#include <string.h>

void pool_out_size(pool_kind kind, int h, int w, int *ho, int *wo)
{
    switch (kind) {
    case POOL_MAX3S2: *ho = h < 3 ? 0 : (h - 3) / 2 + 1, *wo = w < 3 ? 0 : (w - 3) / 2 + 1; break;
    case POOL_AVG3S1: *ho = h, *wo = w; break;
    case POOL_GLOBAL_AVG: *ho = 1, *wo = 1; break;
    }
}

irv2_status pool_op(irv2_context *ctx, pool_kind kind, int c, int n, int h, int w,
                    op_epilogue epi, op_buf in, cl_mem scale, cl_mem shift, op_buf out,
                    op_launch *op)
{
    static const char *const names[] = {"maxpool", "avgpool", "global_avgpool"};
    char opts[96];
    int ho, wo;
    memset(op, 0, sizeof *op);
    pool_out_size(kind, h, w, &ho, &wo);
    if (c <= 0 || n <= 0 || ho <= 0 || wo <= 0)
        return irv2_fail(IRV2_ERR_SHAPE, "%s: unsupported input %dx%dx%d", names[kind], c, h, w);
    epi.relu1 = epi.residual = 0;
    epilogue_flags(epi, opts, sizeof opts);
    if (!scale) scale = in.mem;
    if (!shift) shift = in.mem;
    cl_uint in_off = (cl_uint)in.off, out_off = (cl_uint)out.off;
    const kernel_arg args[] = {ARG(in.mem), ARG(in_off), ARG(out.mem), ARG(out_off), ARG(scale),
                               ARG(shift),  ARG(n),      ARG(h),       ARG(w),       ARG(ho),
                               ARG(wo)};
    irv2_status st = op_kernel(ctx, "pool.cl", opts, names[kind], sizeof args / sizeof args[0],
                               args, op);
    if (st != IRV2_OK) return st;
    if (kind != POOL_AVG3S1) {
        op->dims = 1;
        op->gws[0] = (size_t)c * n;
        if (kind == POOL_MAX3S2) op_local_one(op);
    } else {
        op->dims = 3;
        op->gws[0] = (size_t)wo, op->gws[1] = (size_t)ho, op->gws[2] = (size_t)c * n;
    }
    return IRV2_OK;
}
