/* gemm_clblast.c: CLBlast's row-major SGEMM and its convgemm (convolution of one NCHW image
 * as an implicit GEMM) on buffer offsets, no copies; each CLBlast status becomes an irv2
 * status with a line naming the call. */
#include "ops/gemm_clblast.h"

#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* IRV2_OK, or fails with a message naming the call (`what`) and CLBlast's status. */
static irv2_status clblast_check(irv2_context *ctx, CLBlastStatusCode s, const char *what)
{
    if (s == CLBlastSuccess) return IRV2_OK;
    if (s < 0 && s > -100) ctx->last_cl_error = (cl_int)s;
    int memory = s == CLBlastTempBufferAllocFailure || s == CLBlastOpenCLOutOfResources;
    return irv2_fail(memory ? IRV2_ERR_DEVICE_MEMORY : IRV2_ERR_CLBLAST,
                     "device '%s': CLBlast %s failed with status %d", ctx->info.name, what,
                     (int)s);
}

/* The op's library arguments, or NULL if they are not of this kind. */
static const op_library *library_args(const op_launch *op, op_library_kind kind)
{
    return op->lib.kind == kind ? &op->lib : NULL;
}

static irv2_status sgemm(irv2_context *ctx, const op_launch *op, cl_event *event)
{
    const op_library *lib = library_args(op, OP_LIB_SGEMM);
    if (!lib) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "CLBlast SGEMM: not an SGEMM op");
    const op_sgemm *g = &lib->u.sgemm;
    ctx->clblast_used = 1;
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                       CLBlastTransposeNo, (size_t)g->m, (size_t)g->n,
                                       (size_t)g->k, 1.0f, g->a.mem, g->a.off, (size_t)g->k,
                                       g->b.mem, g->b.off, (size_t)g->n, g->beta, g->c.mem,
                                       g->c.off, (size_t)(g->ldc ? g->ldc : g->n), &ctx->queue,
                                       event);
    char what[64];
    snprintf(what, sizeof what, "SGEMM %dx%dx%d", g->m, g->n, g->k);
    return clblast_check(ctx, s, what);
}

/* Whether [off, off + count) lies within CLBlast's int offsets (its kernels index with int). */
static int int_range(size_t off, size_t count) { return off <= (size_t)INT_MAX - count; }

static irv2_status convgemm(irv2_context *ctx, const op_launch *op, cl_event *event)
{
    const op_library *lib = library_args(op, OP_LIB_CONVGEMM);
    if (!lib) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "CLBlast convgemm: not a convgemm op");
    const op_convgemm *c = &lib->u.convgemm;
    char what[96];
    snprintf(what, sizeof what, "convgemm k%dx%d s%d p%dx%d %d->%d on %dx%d", c->kh, c->kw,
             c->stride, c->ph, c->pw, c->cin, c->cout, c->h, c->w);
    /* CLBlast divides by the stride and takes kh - 1: those must be positive; zero sizes it
     * refuses itself */
    if (c->cin < 0 || c->h < 0 || c->w < 0 || c->kh < 1 || c->kw < 1 || c->stride < 1 ||
        c->ph < 0 || c->pw < 0 || c->cout < 0)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "CLBlast %s: invalid size", what);
    /* the output size as CLBlast derives it */
    const size_t hp = (size_t)c->h + 2 * (size_t)c->ph, wp = (size_t)c->w + 2 * (size_t)c->pw;
    const size_t ho = hp >= (size_t)c->kh ? (hp - c->kh) / c->stride + 1 : 1;
    const size_t wo = wp >= (size_t)c->kw ? (wp - c->kw) / c->stride + 1 : 1;
    const size_t in = (size_t)c->cin * c->h * c->w, out = (size_t)c->cout * ho * wo;
    const size_t weights = (size_t)c->cout * c->cin * c->kh * c->kw;
    if (!int_range(c->in.off, in) || !int_range(c->weights.off, weights) ||
        !int_range(c->out.off, out))
        return irv2_fail(IRV2_ERR_UNSUPPORTED, "CLBlast %s: buffer offsets beyond 2^31 floats",
                         what);
    ctx->clblast_used = 1;
    CLBlastStatusCode s = CLBlastSconvgemm(
        CLBlastKernelModeCrossCorrelation, (size_t)c->cin, (size_t)c->h, (size_t)c->w,
        (size_t)c->kh, (size_t)c->kw, (size_t)c->ph, (size_t)c->pw, (size_t)c->stride,
        (size_t)c->stride, 1, 1, (size_t)c->cout, 1, c->in.mem, c->in.off, c->weights.mem,
        c->weights.off, c->out.mem, c->out.off, &ctx->queue, event);
    return clblast_check(ctx, s, what);
}

void gemm_clblast_op(const op_sgemm *g, op_launch *op)
{
    memset(op, 0, sizeof *op);
    op->call = sgemm;
    op->lib.kind = OP_LIB_SGEMM;
    op->lib.u.sgemm = *g;
}

void convgemm_clblast_op(const op_convgemm *c, op_launch *op)
{
    memset(op, 0, sizeof *op);
    op->call = convgemm;
    op->lib.kind = OP_LIB_CONVGEMM;
    op->lib.u.convgemm = *c;
}
