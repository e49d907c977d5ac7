/* conv_gemm.c: the panel families (cl/conv_gemm.cl): the input packed into panels in scratch
 * by cl/pack.cl, then one GEMM over them (panels), or each work-group packing its tile's panel
 * in local memory (fused). */
#include "ops/conv_family.h"

#include <stdio.h>

/* The panel form exists for 1x1 stride-1 convs (a plain regrouping), for stride-2 convs and
 * for stride-1 KxK convs with outputs of at most 40x40 per image (im2col, which the direct
 * kernel loses to there); the stem's large stride-1 maps run direct, where im2col would also
 * need tens of MB per image. */
static size_t panel_scratch(const conv_shape *s, int vw)
{
    if (!conv_is_gemm(s) && s->stride != 2 && s->ho * s->wo > 40 * 40) return 0;
    size_t npos = (size_t)s->n * s->ho * s->wo;
    return (npos + vw - 1) / vw * vw * s->kh * s->kw * s->cin;
}

/* The fused form's panel: kh*kw*cin rows of vw floats, in bytes. */
static size_t fused_panel_bytes(const conv_shape *s, int vw)
{
    return (size_t)s->kh * s->kw * s->cin * vw * sizeof(float);
}

/* Panels (pairs) per work-group of a fused form: its third parameter, 0 meaning 1. */
static int fused_panels(const conv_form *f) { return f->p.vec.kchunk > 1 ? f->p.vec.kchunk : 1; }

/* It fits the device's local memory. */
static int fused_fits(const irv2_context *ctx, const conv_shape *s, int vw)
{
    return (cl_ulong)fused_panel_bytes(s, vw) <= ctx->profile.local_mem;
}

/* The input's panels into scratch: pack_panels for 1x1 stride-1 convs, pack_im2col for the
 * rest (cl/pack.cl). */
static irv2_status pack_op(const conv_job *j, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const int plain = conv_is_gemm(s);
    cl_int npos = s->n * s->ho * s->wo, in_cstride = s->n * s->h * s->w;
    cl_uint in_off = (cl_uint)b->in.off, s_off = (cl_uint)b->scratch.off;
    char opts[256];
    conv_vec_options(j, plain ? 0 : OPT_GEOMETRY, "", opts, sizeof opts);
    const kernel_arg plain_args[] = {ARG(b->in.mem), ARG(in_off), ARG(b->scratch.mem),
                                     ARG(s_off),     ARG(s->cin), ARG(npos),
                                     ARG(in_cstride)};
    const kernel_arg im2col_args[] = {ARG(b->in.mem), ARG(in_off), ARG(b->scratch.mem),
                                      ARG(s_off),     ARG(s->cin), ARG(s->n),
                                      ARG(s->h),      ARG(s->w),   ARG(s->ho),
                                      ARG(s->wo),     ARG(in_cstride)};
    irv2_status st =
        plain ? op_kernel(j->ctx, "pack.cl", opts, "pack_panels",
                          sizeof plain_args / sizeof plain_args[0], plain_args, op)
              : op_kernel(j->ctx, "pack.cl", opts, "pack_im2col",
                          sizeof im2col_args / sizeof im2col_args[0], im2col_args, op);
    if (st != IRV2_OK) return st;
    op_local_one(op);
    op->dims = plain ? 1 : 2;
    /* panels of the vector's lanes; a pair's come in twos (the last one zeros past npos) */
    const int vw = j->f->p.vec.vw, lanes = conv_vec_lanes(&j->f->p.vec);
    op->gws[0] = ((size_t)npos + vw - 1) / vw * (size_t)(vw / lanes);
    op->gws[1] = (size_t)s->kh * s->kw;
    return IRV2_OK;
}

/* One GEMM over the panels in scratch (cl/conv_gemm.cl conv_panels). */
static irv2_status panels_gemm_op(const conv_job *j, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const out_args *o = &j->o;
    const conv_vec_params *t = &j->f->p.vec;
    cl_int rows = s->kh * s->kw * s->cin, npos = s->n * s->ho * s->wo;
    cl_uint s_off = (cl_uint)b->scratch.off;
    char opts[256];
    conv_vec_options(j, OPT_TM | OPT_EPILOGUE, "", opts, sizeof opts);
    const kernel_arg args[] = {ARG(b->scratch.mem), ARG(s_off),   ARG(b->weights), ARG(b->bias),
                               ARG(j->scale),       ARG(j->shift), ARG(o->mem),    ARG(o->off0),
                               ARG(o->seg1),        ARG(o->off1), ARG(o->seg2),    ARG(o->off2),
                               ARG(rows),           ARG(s->cout), ARG(npos),       ARG(npos),
                               ARG(j->residual)};
    irv2_status st = op_kernel(j->ctx, "conv_gemm.cl", opts, "conv_panels",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    size_t block = (size_t)conv_weight_block(s, t->tm);
    op->dims = 3;
    op_local_one(op);
    op->gws[0] = block, op->gws[1] = ((size_t)npos + t->vw - 1) / t->vw;
    op->gws[2] = ((size_t)conv_channel_tiles(s, t->tm) + block - 1) / block;
    return IRV2_OK;
}

/* The packing (unless an earlier launch left this input's panels in scratch), then the
 * GEMM. */
static irv2_status panel_launches(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    irv2_status st = conv_vec_check(j, 1);
    if (st != IRV2_OK) return st;
    if (panel_scratch(s, j->f->p.vec.vw) == 0)
        return irv2_fail(IRV2_ERR_SHAPE, "no panel form for k%dx%d s%d with %dx%d outputs",
                         s->kh, s->kw, s->stride, s->ho, s->wo);
    if (j->b->shared_panels && !conv_is_gemm(s))
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                         "shared panels on a k%dx%d s%d conv (1x1 stride 1 only)", s->kh, s->kw,
                         s->stride);
    if (!j->b->shared_panels) {
        st = pack_op(j, &ops[*n]);
        if (st != IRV2_OK) return st;
        (*n)++;
    }
    st = panels_gemm_op(j, &ops[*n]);
    if (st == IRV2_OK) (*n)++;
    return st;
}

/* One launch of conv_fused, each work-group packing its tile's panel in local memory. */
static irv2_status fused_launches(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    irv2_status st = conv_vec_check(j, 1);
    if (st != IRV2_OK) return st;
    /* one work-group per qp panels: ceil(ceil(npos/qp)/vw) = ceil(npos/(qp*vw)) of them */
    const int qp = fused_panels(j->f);
    char extra[32];
    snprintf(extra, sizeof extra, " -DQP=%d", qp);
    st = conv_local_panel_op(j, "conv_gemm.cl", "conv_fused", extra,
                             fused_panel_bytes(s, j->f->p.vec.vw) * qp,
                             ((size_t)s->n * s->ho * s->wo + qp - 1) / qp, &ops[*n]);
    if (st == IRV2_OK) (*n)++;
    return st;
}

static int panels_at(const irv2_context *ctx, const conv_shape *s, conv_vec_params t)
{
    (void)ctx;
    return panel_scratch(s, t.vw) != 0;
}

/* The fused form is offered to KxK convs, and to 1x1 convs only on 16-wide devices: on 8-wide
 * CPUs a 1x1 conv in the network, its input coming from DRAM, runs faster over panels packed
 * into scratch (timed alone, its input warm in cache, it can show the opposite, so the choice
 * is made here rather than by the tuner); on 16-wide ones packing per work-group wins there
 * too. */
static int fused_at(const irv2_context *ctx, const conv_shape *s, conv_vec_params t)
{
    return (s->kh > 1 || s->kw > 1 || conv_wide_vectors(ctx)) && fused_fits(ctx, s, t.vw);
}

static size_t panels_form_scratch(const conv_shape *s, const conv_form *f)
{
    return panel_scratch(s, f->p.vec.vw);
}

/* A 1x1 stride-1 conv's panels are a plain regrouping of its input at the width vw. */
static int panels_reuse(const conv_shape *s, const conv_form *f)
{
    return conv_is_gemm(s) ? f->p.vec.vw : 0;
}

/* A 1x1 stride-1 conv's fused form also packs 4 or 8 panels per work-group, channel by
 * channel in runs of contiguous positions. */
static size_t fused_blocks(const conv_shape *s, const conv_form *best, conv_form *out, size_t cap)
{
    static const int qps[] = {4, 8};
    size_t n = 0;
    if (!conv_is_gemm(s)) return 0;
    for (size_t i = 0; i < sizeof qps / sizeof qps[0] && n < cap; i++) {
        out[n] = *best;
        out[n++].p.vec.kchunk = qps[i];
    }
    return n;
}

static int fused_default(const irv2_context *ctx, const conv_shape *s, conv_form *f)
{
    const conv_vec_params t = conv_default_tiling(ctx);
    if ((s->kh == 1 && s->kw == 1) || !fused_fits(ctx, s, t.vw)) return 0;
    *f = conv_vec_form(CONV_FUSED, t.vw, t.tm, 0);
    return 1;
}

static int panels_default(const irv2_context *ctx, const conv_shape *s, conv_form *f)
{
    const conv_vec_params t = conv_default_tiling(ctx);
    if (!panel_scratch(s, t.vw)) return 0;
    *f = conv_vec_form(CONV_PANELS, t.vw, t.tm, 0);
    return 1;
}

/* Fast tuning times both at the tilings conv_fast_tiling names: the panel forms won 108 of
 * 120 decisions of a full tuning on an AVX2 machine. */
const conv_family conv_panels_row = {
    .name = "panels", .default_rank = 3, .offered = conv_vec_offered, .at_tiling = panels_at,
    .fast = conv_fast_tiling, .scratch = panels_form_scratch,
    .guard = conv_vec_guard,
    .guard_bound = conv_vec_guard_bound, .reuse_key = panels_reuse,
    .packed_count = conv_vec_packed_count, .pack = conv_vec_pack, .launches = panel_launches,
    .default_form = panels_default, .format = conv_vec_format, .parse = conv_vec_parse,
};

const conv_family conv_fused_row = {
    .name = "fused", .fast_refines = 1, .default_rank = 2, .offered = conv_vec_offered,
    .at_tiling = fused_at, .fast = conv_fast_tiling, .refinements = fused_blocks,
    .guard = conv_vec_guard, .guard_bound = conv_vec_guard_bound,
    .packed_count = conv_vec_packed_count, .pack = conv_vec_pack, .launches = fused_launches,
    .default_form = fused_default, .format = conv_vec_format, .parse = conv_vec_parse,
};
