/* eltwise.c: launches cl/eltwise.cl, the per-channel epilogue after a CLBlast GEMM. */
#include "ops/eltwise.h"

irv2_status channel_epilogue_op(irv2_context *ctx, int channels, int plane, op_epilogue epi,
                                op_buf x, cl_mem bias, cl_mem scale, cl_mem shift,
                                op_launch *op)
{
    char opts[96];
    epi.residual = 0; /* the GEMM already accumulated into the residual */
    epilogue_flags(epi, opts, sizeof opts);
    if (!scale) scale = bias; /* unread without AFFINE, but every argument must be a buffer */
    if (!shift) shift = bias;
    cl_uint off = (cl_uint)x.off;
    const kernel_arg args[] = {ARG(x.mem), ARG(off), ARG(bias), ARG(scale), ARG(shift), ARG(plane)};
    irv2_status st = op_kernel(ctx, "eltwise.cl", opts, "channel_epilogue",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 2;
    op->gws[0] = (size_t)plane, op->gws[1] = (size_t)channels;
    return IRV2_OK;
}
