/* conv_wg.c: the work-group conv family (cl/conv_wg.cl): its tiles, what a device must offer
 * for them, its candidates and its launch. */
#include "ops/conv.h"

#include <stdio.h>

/* Reduction rows per local-memory slice (cl/conv_wg.cl TK). */
#define WG_TK 16
/* Below this many tiles a conv leaves much of a GPU idle (a large one runs 132 work-groups of
 * 256 at once, or more): its reduction is worth splitting. */
#define WG_FEW_TILES 256

/* Work-group tiles, as (vw = positions, tm = output channels) per work-group. */
static const conv_tiling wg_tiles[] = {{64, 64}, {32, 32}, {32, 64},
                                       {64, 128}, {128, 64}, {128, 128}};

/* The work-group's side (WX = WY): 16 where the device runs 256 work-items per group, else 8
 * (64 work-items), else 0: the family is not offered. */
static int wg_side(const irv2_context *ctx)
{
    const device_facts *f = &ctx->facts;
    for (int side = 16; side >= 8; side /= 2)
        if (f->max_group >= (size_t)side * side && f->max_items[0] >= (size_t)side &&
            f->max_items[1] >= (size_t)side)
            return side;
    return 0;
}

/* The tile runs on this device: its sides are multiples of the work-group's, the positions
 * divide the work-group (cl/conv_wg.cl loads one input column per work-item) and both
 * operand slices fit the local memory. */
static int wg_fits(const irv2_context *ctx, conv_tiling t)
{
    const int side = wg_side(ctx);
    if (side == 0 || t.vw <= 0 || t.tm <= 0 || t.vw % side || t.tm % side ||
        (side * side) % t.vw)
        return 0;
    return (cl_ulong)WG_TK * (t.vw + t.tm) * sizeof(float) <= ctx->facts.local_mem;
}

size_t conv_wg_candidates(const irv2_context *ctx, const conv_shape *s, int parts,
                          conv_form *out, size_t cap)
{
    (void)s, (void)parts; /* every shape and output parts */
    size_t n = 0;
    if (!(ctx->kernels & KERNELS_WG)) return 0;
    /* the compact kernel set is one program: the default tile only */
    const size_t tiles =
        ctx->kernels & KERNELS_COMPACT_BIT ? 1 : sizeof wg_tiles / sizeof wg_tiles[0];
    for (size_t i = 0; i < tiles && n < cap; i++)
        if (wg_fits(ctx, wg_tiles[i])) out[n++] = (conv_form){CONV_WG, wg_tiles[i], 0};
    return n;
}

int conv_wg_default(const irv2_context *ctx, conv_form *f)
{
    if (!wg_fits(ctx, wg_tiles[0])) return 0;
    *f = (conv_form){CONV_WG, wg_tiles[0], 0};
    return 1;
}

/* Fails unless the built kernel runs work-groups of side x side work-items. */
static irv2_status check_group(const conv_job *j, cl_kernel k, int side)
{
    size_t max = 0;
    irv2_status st = ctx_cl_check(j->ctx,
                                  clGetKernelWorkGroupInfo(k, j->ctx->device,
                                                           CL_KERNEL_WORK_GROUP_SIZE, sizeof max,
                                                           &max, NULL),
                                  "clGetKernelWorkGroupInfo(conv_wg)");
    if (st == IRV2_OK && max < (size_t)side * side)
        st = irv2_fail(IRV2_ERR_UNSUPPORTED, "conv_wg runs at most %zu work-items per group on %s, "
                       "not %d", max, j->ctx->info.name, side * side);
    return st;
}

/* The -D options of the family's kernels for the job: the tile, then the geometry and the
 * epilogue, except in the compact kernel set, where both are arguments. */
static void wg_options(const conv_job *j, int side, char *dst, size_t cap)
{
    const conv_shape *s = j->s;
    char eflags[96], geometry[96] = "";
    epilogue_options(j->ctx, j->epi, eflags, sizeof eflags);
    if (!(j->ctx->kernels & KERNELS_COMPACT_BIT))
        snprintf(geometry, sizeof geometry, " -DKH=%d -DKW=%d -DSH=%d -DPH=%d -DPW=%d", s->kh,
                 s->kw, s->stride, s->ph, s->pw);
    snprintf(dst, cap, "-DTM=%d -DTN=%d -DTK=%d -DWX=%d -DWY=%d%s%s", j->t.tm, j->t.vw, WG_TK,
             side, side, geometry, eflags);
}

/* The tiles' NDRange and local size: (ceil(npos/vw), ceil(cout/tm), slices) groups. */
static void tile_range(const conv_job *j, int side, size_t slices, op_launch *op)
{
    const conv_shape *s = j->s;
    size_t npos = (size_t)s->n * s->ho * s->wo;
    op->dims = slices > 1 ? 3 : 2;
    op->gws[0] = (npos + j->t.vw - 1) / j->t.vw * side;
    op->gws[1] = ((size_t)s->cout + j->t.tm - 1) / j->t.tm * side;
    op->gws[2] = slices;
    op->lws[0] = op->lws[1] = (size_t)side, op->lws[2] = 1;
}

/* conv_wg: the whole reduction and the epilogue in one launch. */
static irv2_status whole_op(const conv_job *j, int side, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const out_args *o = &j->o;
    char opts[256];
    wg_options(j, side, opts, sizeof opts);
    cl_int in_cstride = s->n * s->h * s->w, epi = epilogue_bits(j->epi);
    cl_uint in_off = (cl_uint)b->in.off;
    const kernel_arg args[] = {
        ARG(b->in.mem), ARG(in_off),  ARG(b->weights), ARG(b->bias),  ARG(j->scale),
        ARG(j->shift),  ARG(o->mem),  ARG(o->off0),    ARG(o->seg1),  ARG(o->off1),
        ARG(o->seg2),   ARG(o->off2), ARG(s->cin),     ARG(s->cout),  ARG(s->n),
        ARG(s->h),      ARG(s->w),    ARG(s->ho),      ARG(s->wo),    ARG(in_cstride),
        ARG(j->residual), ARG(s->kh), ARG(s->kw),      ARG(s->stride), ARG(s->ph),
        ARG(s->pw),     ARG(epi)};
    irv2_status st = op_kernel(j->ctx, "conv_wg.cl", opts, "conv_wg",
                               sizeof args / sizeof args[0], args, op);
    if (st == IRV2_OK) st = check_group(j, op->kernel, side);
    if (st != IRV2_OK) return op_release(op), st;
    tile_range(j, side, 1, op);
    return IRV2_OK;
}

/* Reduction rows per slice: the K rows split into `slices` parts, each a whole number of
 * local-memory slices. */
static cl_int slice_rows(const conv_shape *s, int slices)
{
    const int k = s->kh * s->kw * s->cin, per = (k + slices - 1) / slices;
    return (per + WG_TK - 1) / WG_TK * WG_TK;
}

/* conv_wg_split, then conv_wg_reduce: the slices' sums in scratch, then added and stored. */
static irv2_status split_ops(const conv_job *j, int side, int slices, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const out_args *o = &j->o;
    char opts[256];
    wg_options(j, side, opts, sizeof opts);
    cl_int in_cstride = s->n * s->h * s->w, kper = slice_rows(s, slices), count = slices;
    cl_int npos = s->n * s->ho * s->wo, epi = epilogue_bits(j->epi);
    cl_uint in_off = (cl_uint)b->in.off, part_off = (cl_uint)b->scratch.off;
    const kernel_arg split_args[] = {
        ARG(b->in.mem), ARG(in_off), ARG(b->weights), ARG(b->scratch.mem), ARG(part_off),
        ARG(s->cin),    ARG(s->cout), ARG(s->n),      ARG(s->h),           ARG(s->w),
        ARG(s->ho),     ARG(s->wo),  ARG(in_cstride), ARG(kper),           ARG(s->kh),
        ARG(s->kw),     ARG(s->stride), ARG(s->ph),   ARG(s->pw)};
    irv2_status st = op_kernel(j->ctx, "conv_wg.cl", opts, "conv_wg_split",
                               sizeof split_args / sizeof split_args[0], split_args, &ops[*n]);
    if (st == IRV2_OK) st = check_group(j, ops[*n].kernel, side);
    if (st != IRV2_OK) return op_release(&ops[*n]), st;
    tile_range(j, side, (size_t)slices, &ops[(*n)++]);
    const kernel_arg reduce_args[] = {
        ARG(b->scratch.mem), ARG(part_off), ARG(count),   ARG(b->bias), ARG(j->scale),
        ARG(j->shift),       ARG(o->mem),   ARG(o->off0), ARG(o->seg1), ARG(o->off1),
        ARG(o->seg2),        ARG(o->off2),  ARG(s->cout), ARG(npos),    ARG(j->residual),
        ARG(epi)};
    st = op_kernel(j->ctx, "conv_wg.cl", opts, "conv_wg_reduce",
                   sizeof reduce_args / sizeof reduce_args[0], reduce_args, &ops[*n]);
    if (st != IRV2_OK) return st;
    ops[*n].dims = 2;
    ops[*n].gws[0] = (size_t)npos, ops[*n].gws[1] = (size_t)s->cout;
    (*n)++;
    return IRV2_OK;
}

irv2_status conv_wg_ops(const conv_job *j, int slices, op_launch *ops, int *n)
{
    const int side = wg_side(j->ctx);
    if (!wg_fits(j->ctx, j->t))
        return irv2_fail(IRV2_ERR_UNSUPPORTED, "no %dx%d work-group tile on %s", j->t.tm, j->t.vw,
                         j->ctx->info.name);
    if (slices <= 1) {
        irv2_status st = whole_op(j, side, &ops[*n]);
        if (st == IRV2_OK) (*n)++;
        return st;
    }
    if (j->b->scratch.mem == NULL || conv_wg_scratch(j->s, slices) == 0)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "%d reduction slices need scratch", slices);
    return split_ops(j, side, slices, ops, n);
}

size_t conv_wg_scratch(const conv_shape *s, int slices)
{
    if (slices <= 1) return 0;
    return (size_t)slices * s->cout * s->n * s->ho * s->wo;
}

size_t conv_wg_splits(const conv_shape *s, const conv_form *best, conv_form *out, size_t cap)
{
    size_t n = 0;
    if (best->method != CONV_WG) return 0;
    const size_t tiles = ((size_t)s->n * s->ho * s->wo + best->tiling.vw - 1) / best->tiling.vw *
                         (((size_t)s->cout + best->tiling.tm - 1) / best->tiling.tm);
    const int k = s->kh * s->kw * s->cin;
    for (int slices = 4; slices <= 16 && n < cap; slices *= 4)
        if (tiles < WG_FEW_TILES && k >= slices * 4 * WG_TK) {
            conv_form f = *best;
            f.kchunk = slices;
            out[n++] = f;
        }
    return n;
}
