/* conv_clblast.c: the CLBlast family: SGEMM of the canonical weights for 1x1 stride-1 convs,
 * convgemm for other shapes at batch 1 (gemm_clblast.c makes the calls), then the epilogue
 * in place (cl/eltwise.cl). */
#include "ops/conv_family.h"

#include "ops/eltwise.h"
#include "ops/gemm_clblast.h"

#include <string.h>

/* CLBlast compiles its own programs: not with a binaries folder, not in the compact set. */
static int clblast_offered(const irv2_context *ctx)
{
    return !ctx->binaries && !(ctx->kernels & KERNELS_COMPACT_BIT);
}

/* SGEMM needs an unpadded 1x1 stride-1 conv ([cin][N*H*W] is one matrix, at any batch);
 * convgemm takes any other shape but reads one NCHW image and has no batch stride, while
 * irv2's [cin][n][h][w] puts an image's channels n*h*w apart: at n == 1 they are [cin][h][w],
 * at n > 1 no candidate. Both write one contiguous [cout][positions] block: one output part.
 * convgemm is offered on GPUs only (where CLBlast is tuned): on CPUs it runs 19-38x slower
 * than the vector family and would only lengthen the first run. convgemm cannot add a
 * residual: its launches refuse that with IRV2_ERR_UNSUPPORTED (every residual conv of the
 * network is 1x1). */
static size_t clblast_candidates(const irv2_context *ctx, const conv_shape *s, int parts,
                                 conv_form *out, size_t cap)
{
    if (cap == 0 || parts > 1) return 0;
    if (!conv_is_gemm(s) && (s->n != 1 || !ctx->profile.gpu)) return 0;
    out[0] = conv_clblast_form();
    return 1;
}

/* Timed in fast tuning only on GPUs: on CPUs it has lost every layer, 13x slower than the
 * vector families. */
static int clblast_fast(const irv2_context *ctx, const conv_form *f)
{
    (void)f;
    return ctx->profile.gpu;
}

/* SGEMM's A [cout][cin], convgemm's [cout][cin][kh][kw]: the canonical weights. */
static size_t clblast_packed_count(const conv_shape *s, const conv_form *f)
{
    (void)f;
    return (size_t)s->cout * s->kh * s->kw * s->cin;
}

static void clblast_pack(const conv_shape *s, const conv_form *f, const float *w, float *packed)
{
    memcpy(packed, w, clblast_packed_count(s, f) * sizeof(float));
}

/* convgemm of the one image [cin][h][w] (n == 1) with the canonical weights into
 * [cout][ho][wo]. It overwrites its output, so it cannot add a residual (in this network
 * every residual conv is a 1x1 projection, which runs as SGEMM). */
static irv2_status convgemm_op(const conv_job *j, op_buf out, op_launch *op)
{
    const conv_shape *s = j->s;
    if (s->n != 1)
        return irv2_fail(IRV2_ERR_SHAPE, "no CLBlast form for k%dx%d s%d p%dx%d at batch %d "
                         "(convgemm reads one NCHW image)", s->kh, s->kw, s->stride, s->ph,
                         s->pw, s->n);
    if (j->residual)
        return irv2_fail(IRV2_ERR_UNSUPPORTED, "CLBlast convgemm cannot add a residual "
                         "(k%dx%d): it overwrites its output", s->kh, s->kw);
    const op_convgemm g = {.cin = s->cin, .h = s->h, .w = s->w, .kh = s->kh, .kw = s->kw,
                           .stride = s->stride, .ph = s->ph, .pw = s->pw, .cout = s->cout,
                           .in = j->b->in, .weights = {j->b->weights, 0}, .out = out};
    convgemm_clblast_op(&g, op);
    return IRV2_OK;
}

/* For a 1x1 stride-1 conv, SGEMM of the canonical weights [cout][cin] with the input
 * [cin][positions] (accumulating into the output for a residual sum); otherwise convgemm;
 * then the epilogue in place. */
static irv2_status clblast_launches(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    if (j->o.parts > 1)
        return irv2_fail(IRV2_ERR_SHAPE, "CLBlast writes one output part, not %d", j->o.parts);
    const int npos = s->n * s->ho * s->wo;
    const op_buf c = {b->out.mem, b->out.off[0]};
    if (conv_is_gemm(s)) {
        const op_sgemm g = {s->cout, npos, s->cin, {b->weights, 0}, b->in, c,
                            j->residual ? 1.0f : 0.0f};
        gemm_clblast_op(&g, &ops[(*n)++]);
    } else {
        irv2_status st = convgemm_op(j, c, &ops[*n]);
        if (st != IRV2_OK) return st;
        (*n)++;
    }
    irv2_status st = channel_epilogue_op(j->ctx, s->cout, npos, j->epi, c, b->bias, j->scale,
                                         j->shift, &ops[*n]);
    if (st == IRV2_OK) (*n)++;
    return st;
}

const conv_family conv_clblast_row = {
    .name = "clblast", .library = 1, .offered = clblast_offered,
    .candidates = clblast_candidates, .fast = clblast_fast,
    .packed_count = clblast_packed_count, .pack = clblast_pack, .launches = clblast_launches,
};
