/* pool.c: launches cl/pool.cl (3x3/2 max pooling, 3x3/1 average pooling, global average), in
 * the CPU shape or, where ctx_prefers_wg(), the work-group shape. */
#include "ops/pool.h"

#include "runtime/window.h"

#include <string.h>

void pool_out_size(pool_kind kind, int h, int w, int *ho, int *wo)
{
    switch (kind) {
    case POOL_MAX3S2: *ho = window_out(h, 3, 2, 0), *wo = window_out(w, 3, 2, 0); break;
    case POOL_AVG3S1: *ho = h, *wo = w; break;
    case POOL_GLOBAL_AVG: *ho = 1, *wo = 1; break;
    }
}

/* Work-items per work-group of maxpool_wg (one output each), and the most per plane of
 * global_avgpool_wg (fewer for planes under that many floats). */
enum { MAXPOOL_WG = 256, GLOBAL_AVG_WG = 256 };

irv2_status pool_op(irv2_context *ctx, pool_kind kind, int c, int n, int h, int w,
                    op_epilogue epi, op_buf in, cl_mem scale, cl_mem shift, op_buf out,
                    op_launch *op)
{
    static const char *const names[][2] = {{"maxpool", "maxpool_wg"},
                                            {"avgpool", "avgpool"},
                                            {"global_avgpool", "global_avgpool_wg"}};
    char opts[96];
    int ho, wo;
    memset(op, 0, sizeof *op);
    pool_out_size(kind, h, w, &ho, &wo);
    if (c <= 0 || n <= 0 || ho <= 0 || wo <= 0)
        return irv2_fail(IRV2_ERR_SHAPE, "%s: unsupported input %dx%dx%d", names[kind][0], c, h,
                         w);
    const int wg = ctx_prefers_wg(ctx) != 0;
    const unsigned long long outputs = (unsigned long long)c * n * ho * wo;
    if (wg && kind == POOL_MAX3S2 && outputs > 0xffffffffull - MAXPOOL_WG)
        return irv2_fail(IRV2_ERR_SHAPE, "%s: %llu outputs do not fit 32-bit indices",
                         names[kind][1], outputs);
    epi.relu1 = epi.residual = 0;
    epilogue_options(ctx, epi, opts, sizeof opts);
    cl_int bits = epilogue_bits(epi);
    if (!scale) scale = in.mem;
    if (!shift) shift = in.mem;
    cl_uint in_off = (cl_uint)in.off, out_off = (cl_uint)out.off, total = (cl_uint)outputs;
    const kernel_arg args[] = {ARG(in.mem), ARG(in_off), ARG(out.mem), ARG(out_off), ARG(scale),
                               ARG(shift),  ARG(bits),   ARG(n),       ARG(h),       ARG(w),
                               ARG(ho),     ARG(wo),     ARG(total)};
    /* every kernel takes the first 12; maxpool_wg also takes total, global_avgpool_wg its
     * __local array (set below) */
    const unsigned nargs = wg && kind == POOL_MAX3S2 ? 13 : 12;
    irv2_status st = op_kernel(ctx, "pool.cl", opts, names[kind][wg], nargs, args, op);
    if (st != IRV2_OK) return st;
    size_t local = 0, want = 1;
    switch (kind) {
    case POOL_MAX3S2:
        op->dims = 1;
        if (!wg) {
            op->gws[0] = (size_t)c * n;
            op_local_one(op);
        } else if ((st = op_local_pow2(ctx, op->kernel, MAXPOOL_WG, &local)) == IRV2_OK) {
            op->gws[0] = (size_t)(outputs + local - 1) / local * local;
            op->lws[0] = local;
        }
        break;
    case POOL_AVG3S1: /* both shapes: dimension 0 is the column, local size the runtime's */
        op->dims = 3;
        op->gws[0] = (size_t)wo, op->gws[1] = (size_t)ho, op->gws[2] = (size_t)c * n;
        break;
    case POOL_GLOBAL_AVG:
        op->dims = 1;
        op->gws[0] = (size_t)c * n;
        if (!wg) break;
        while (want < (size_t)h * w && want < GLOBAL_AVG_WG) want *= 2;
        st = op_local_pow2(ctx, op->kernel, want, &local);
        if (st == IRV2_OK)
            st = op_local_arg(ctx, op, 12, local * sizeof(float));
        op->gws[0] *= local;
        op->lws[0] = local;
        break;
    }
    if (st != IRV2_OK) op_release(op);
    return st;
}
