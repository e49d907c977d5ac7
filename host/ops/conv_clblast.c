/* conv_clblast.c: the CLBlast family: SGEMM of the canonical weights for 1x1 stride-1 convs;
 * for other shapes on GPUs, convgemm at batch 1 or an im2col matrix in scratch (cl/pack.cl
 * im2col_rows) multiplied by SGEMM at any batch (gemm_clblast.c makes the calls); then the
 * epilogue in place (cl/eltwise.cl). */
#include "ops/conv_family.h"

#include "ops/eltwise.h"
#include "ops/gemm_clblast.h"

#include <stdio.h>
#include <string.h>

/* CLBlast compiles its own programs: not with a binaries folder, not in the compact set. */
static int clblast_offered(const irv2_context *ctx)
{
    return !ctx->binaries && !(ctx->kernels & KERNELS_COMPACT_BIT);
}

/* Floats of the im2col matrix per launch pair at most (256 MB): images go through it a few at
 * a time, so a batch of large maps needs no more scratch than this (one image more if a
 * single image's matrix is larger). */
#define IM2COL_FLOATS ((size_t)64 << 20)
/* Launch pairs (im2col, SGEMM) at most, with the epilogue within OP_MAX_LAUNCHES. */
#define IM2COL_CHUNKS ((OP_MAX_LAUNCHES - 1) / 2)

/* Rows of the im2col matrix (kh*kw*cin) times one image's output positions. */
static size_t image_floats(const conv_shape *s)
{
    return (size_t)s->kh * s->kw * s->cin * s->ho * s->wo;
}

/* Images per im2col matrix: as many as IM2COL_FLOATS holds, at least one. */
static int images_per_chunk(const conv_shape *s)
{
    const size_t per = IM2COL_FLOATS / image_floats(s);
    return per >= (size_t)s->n ? s->n : per > 0 ? (int)per : 1;
}

/* The im2col form exists for a KxK conv whose batch goes through in IM2COL_CHUNKS matrices. */
static int im2col_fits(const conv_shape *s)
{
    const int per = images_per_chunk(s);
    return !conv_is_gemm(s) && (s->n + per - 1) / per <= IM2COL_CHUNKS;
}

/* SGEMM needs an unpadded 1x1 stride-1 conv ([cin][N*H*W] is one matrix, at any batch). Other
 * shapes have two forms, on GPUs only (where CLBlast is tuned; on CPUs convgemm runs 19-38x
 * slower than the vector family and would only lengthen the first run): convgemm, which reads
 * one NCHW image with no batch stride, while irv2's [cin][n][h][w] puts an image's channels
 * n*h*w apart, so at n == 1 only; and SGEMM over an im2col matrix, at any batch, so that a GPU
 * where irv2's kernels lose still gets CLBlast's tuned GEMM. Every form writes one contiguous
 * [cout][positions] block: one output part. convgemm cannot add a residual: its launches
 * refuse that with IRV2_ERR_UNSUPPORTED (every residual conv of the network is 1x1). */
static size_t clblast_candidates(const irv2_context *ctx, const conv_shape *s, int parts,
                                 conv_form *out, size_t cap)
{
    size_t n = 0;
    if (parts > 1) return 0;
    if (conv_is_gemm(s)) {
        if (cap > 0) out[n++] = conv_clblast_form();
        return n;
    }
    if (!ctx->profile.gpu) return 0;
    if (s->n == 1 && n < cap) out[n++] = conv_clblast_form();
    if (im2col_fits(s) && n < cap) out[n++] = conv_clblast_im2col_form();
    return n;
}

/* The im2col matrix of one chunk of images. */
static size_t clblast_scratch(const conv_shape *s, const conv_form *f)
{
    if (!f->p.clblast.im2col || !im2col_fits(s)) return 0;
    return image_floats(s) * images_per_chunk(s);
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

/* The im2col matrix of images [i0, i0 + count) into scratch (cl/pack.cl im2col_rows). */
static irv2_status im2col_op(const conv_job *j, int i0, int count, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    char opts[96];
    snprintf(opts, sizeof opts, "-DKH=%d -DKW=%d -DSH=%d -DPH=%d -DPW=%d", s->kh, s->kw,
             s->stride, s->ph, s->pw);
    cl_uint in_off = (cl_uint)(b->in.off + (size_t)i0 * s->h * s->w);
    cl_uint s_off = (cl_uint)b->scratch.off;
    cl_int in_cstride = s->n * s->h * s->w;
    const kernel_arg args[] = {ARG(b->in.mem), ARG(in_off), ARG(b->scratch.mem), ARG(s_off),
                               ARG(count),     ARG(s->h),   ARG(s->w),           ARG(s->ho),
                               ARG(s->wo),     ARG(in_cstride)};
    irv2_status st = op_kernel(j->ctx, "pack.cl", opts, "im2col_rows",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 3;
    op->lws[0] = 0; /* the implementation chooses */
    op->gws[0] = (size_t)count * s->ho * s->wo;
    op->gws[1] = (size_t)s->kh * s->kw, op->gws[2] = (size_t)s->cin;
    return IRV2_OK;
}

/* Per chunk of images, the im2col matrix and SGEMM of the canonical weights [cout][K] with it
 * into the chunk's columns of the output (rows n*ho*wo apart; adding to them for a residual
 * sum). */
static irv2_status im2col_ops(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    if (!im2col_fits(s) || (b->scratch.mem == NULL && !j->ctx->record_program))
        return irv2_fail(IRV2_ERR_SHAPE, "no CLBlast im2col form for k%dx%d on %dx%d at batch "
                         "%d (or no scratch)", s->kh, s->kw, s->h, s->w, s->n);
    const int per = images_per_chunk(s), plane = s->ho * s->wo;
    for (int i0 = 0; i0 < s->n; i0 += per) {
        const int count = s->n - i0 < per ? s->n - i0 : per;
        irv2_status st = im2col_op(j, i0, count, &ops[*n]);
        if (st != IRV2_OK) return st;
        (*n)++;
        const op_sgemm g = {s->cout, count * plane, s->kh * s->kw * s->cin, {b->weights, 0},
                            b->scratch, {b->out.mem, b->out.off[0] + (size_t)i0 * plane},
                            j->residual ? 1.0f : 0.0f, s->n * plane};
        gemm_clblast_op(&g, &ops[(*n)++]);
    }
    return IRV2_OK;
}

/* For a 1x1 stride-1 conv, SGEMM of the canonical weights [cout][cin] with the input
 * [cin][positions] (accumulating into the output for a residual sum); otherwise convgemm or
 * the im2col form; then the epilogue in place. */
static irv2_status clblast_launches(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    if (j->o.parts > 1)
        return irv2_fail(IRV2_ERR_SHAPE, "CLBlast writes one output part, not %d", j->o.parts);
    const int npos = s->n * s->ho * s->wo;
    const op_buf c = {b->out.mem, b->out.off[0]};
    irv2_status st = IRV2_OK;
    if (conv_is_gemm(s)) {
        const op_sgemm g = {s->cout, npos, s->cin, {b->weights, 0}, b->in, c,
                            j->residual ? 1.0f : 0.0f, 0};
        gemm_clblast_op(&g, &ops[(*n)++]);
    } else if (j->f->p.clblast.im2col) {
        st = im2col_ops(j, ops, n);
    } else if ((st = convgemm_op(j, c, &ops[*n])) == IRV2_OK) {
        (*n)++;
    }
    if (st == IRV2_OK)
        st = channel_epilogue_op(j->ctx, s->cout, npos, j->epi, c, b->bias, j->scale, j->shift,
                                 &ops[*n]);
    if (st == IRV2_OK) (*n)++;
    return st;
}

/* "im2col" for the im2col form; nothing for SGEMM and convgemm. */
static void clblast_format(const conv_form *f, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s", f->p.clblast.im2col ? "im2col" : "");
}

static int clblast_parse(const char *text, conv_form *f)
{
    f->p.clblast.im2col = strcmp(text, "im2col") == 0;
    return text[0] == '\0' || f->p.clblast.im2col;
}

const conv_family conv_clblast_row = {
    .name = "clblast", .library = 1, .offered = clblast_offered,
    .candidates = clblast_candidates, .fast = clblast_fast, .scratch = clblast_scratch,
    .packed_count = clblast_packed_count,
    .pack = clblast_pack, .launches = clblast_launches, .format = clblast_format,
    .parse = clblast_parse,
};
