/* conv_wg.c: the work-group conv family (cl/conv_wg.cl): its tiles, what a device must offer
 * for them, its candidates and its launch. */
#include "ops/conv_family.h"

#include <stdio.h>

/* Reduction rows per local-memory slice (cl/conv_wg.cl TK). */
#define WG_TK 16
/* Below this many tiles a conv leaves much of a GPU idle (a large one runs 132 work-groups of
 * 256 at once, or more): its reduction is worth splitting. */
#define WG_FEW_TILES 256

/* Work-group tiles, as (positions, output channels) per work-group; the first is the
 * default. */
static const conv_wg_params wg_tiles[] = {{64, 64, 0},   {32, 32, 0},  {32, 64, 0},
                                          {64, 128, 0},  {128, 64, 0}, {128, 128, 0}};

/* The work-group's side (WX = WY): the device's square work-group side (16 or 8), or 0:
 * the family is not offered. */
static int wg_side(const irv2_context *ctx) { return ctx->profile.group_side; }

/* The tile runs on this device: its sides are multiples of the work-group's, the positions
 * divide the work-group (cl/conv_wg.cl loads one input column per work-item) and both
 * operand slices fit the local memory. */
static int wg_fits(const irv2_context *ctx, conv_wg_params t)
{
    const int side = wg_side(ctx);
    if (side == 0 || t.positions <= 0 || t.channels <= 0 || t.positions % side ||
        t.channels % side || (side * side) % t.positions)
        return 0;
    return (cl_ulong)WG_TK * (t.positions + t.channels) * sizeof(float) <= ctx->profile.local_mem;
}

static int wg_offered(const irv2_context *ctx) { return (ctx->kernels & KERNELS_WG) != 0; }

/* Every tile whose work-group and local memory the device offers, for every shape and
 * output parts; the default tile only in the compact kernel set (one program). Not on a GPU
 * that runs a SIMT tile (NVIDIA, AMD): there every tile of this family is bounded below 60%
 * of FP32 peak by its instruction mix (tools/gpu-static) and the SIMT family's reach 85%, so
 * the family serves GPUs without SIMT tiles (Intel's), the compact set and IRV2_KERNELS=wg
 * on other devices. */
static size_t wg_candidates(const irv2_context *ctx, const conv_shape *s, int parts,
                            conv_form *out, size_t cap)
{
    (void)s, (void)parts;
    size_t n = 0;
    const int compact = (ctx->kernels & KERNELS_COMPACT_BIT) != 0;
    if (!compact && ctx->profile.gpu && conv_simt_runs(ctx)) return 0;
    const size_t tiles = compact ? 1 : sizeof wg_tiles / sizeof wg_tiles[0];
    for (size_t i = 0; i < tiles && n < cap; i++)
        if (wg_fits(ctx, wg_tiles[i]))
            out[n++] = conv_wg_form(wg_tiles[i].positions, wg_tiles[i].channels, 0);
    return n;
}

/* The default tile (64 channels x 64 positions) where the context prefers the family
 * (ctx_prefers_wg: GPUs) and the device runs it. */
static int wg_default(const irv2_context *ctx, const conv_shape *s, conv_form *f)
{
    (void)s;
    if (!ctx_prefers_wg(ctx) || !wg_fits(ctx, wg_tiles[0])) return 0;
    *f = conv_wg_form(wg_tiles[0].positions, wg_tiles[0].channels, 0);
    return 1;
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
    snprintf(dst, cap, "-DTM=%d -DTN=%d -DTK=%d -DWX=%d -DWY=%d%s%s", j->f->p.wg.channels,
             j->f->p.wg.positions, WG_TK,
             side, side, geometry, eflags);
}

/* The tiles' NDRange and local size: (ceil(npos/vw), ceil(cout/tm), slices) groups. */
static void tile_range(const conv_job *j, int side, size_t slices, op_launch *op)
{
    const conv_shape *s = j->s;
    size_t npos = (size_t)s->n * s->ho * s->wo;
    op->dims = slices > 1 ? 3 : 2;
    const conv_wg_params *t = &j->f->p.wg;
    op->gws[0] = (npos + t->positions - 1) / t->positions * side;
    op->gws[1] = ((size_t)s->cout + t->channels - 1) / t->channels * side;
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
    if (st == IRV2_OK) st = op_check_group(j->ctx, op->kernel, "conv_wg", (size_t)side * side);
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
    if (st == IRV2_OK) st = op_check_group(j->ctx, ops[*n].kernel, "conv_wg_split", (size_t)side * side);
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

/* conv_wg alone, or with slices > 1 the split reduction and its sum (scratch:
 * wg_scratch). */
static irv2_status wg_launches(const conv_job *j, op_launch *ops, int *n)
{
    const int side = wg_side(j->ctx), slices = j->f->p.wg.slices;
    if (!wg_fits(j->ctx, j->f->p.wg))
        return irv2_fail(IRV2_ERR_UNSUPPORTED, "no %dx%d work-group tile on %s",
                         j->f->p.wg.channels, j->f->p.wg.positions, j->ctx->info.name);
    if (slices <= 1) {
        irv2_status st = whole_op(j, side, &ops[*n]);
        if (st == IRV2_OK) (*n)++;
        return st;
    }
    if (j->b->scratch.mem == NULL && !j->ctx->record_program)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "%d reduction slices need scratch", slices);
    return split_ops(j, side, slices, ops, n);
}

/* Floats of scratch the split reduction needs (slices partial outputs); 0 for slices <= 1. */
static size_t slices_scratch(const conv_shape *s, int slices)
{
    if (slices <= 1) return 0;
    return (size_t)slices * s->cout * s->n * s->ho * s->wo;
}

static size_t wg_scratch(const conv_shape *s, const conv_form *f)
{
    return slices_scratch(s, f->p.wg.slices);
}

/* The reduction in 4 and 16 slices, where the conv has too few tiles to fill a GPU and each
 * slice keeps at least 4 local-memory slices. */
static size_t wg_splits(const conv_shape *s, const conv_form *best, conv_form *out, size_t cap)
{
    size_t n = 0;
    const conv_wg_params *t = &best->p.wg;
    const size_t tiles = ((size_t)s->n * s->ho * s->wo + t->positions - 1) / t->positions *
                         (((size_t)s->cout + t->channels - 1) / t->channels);
    const int k = s->kh * s->kw * s->cin;
    for (int slices = 4; slices <= 16 && n < cap; slices *= 4)
        if (tiles < WG_FEW_TILES && k >= slices * 4 * WG_TK)
            out[n++] = conv_wg_form(t->positions, t->channels, slices);
    return n;
}

/* The guard of a kernel reading `positions` at a time (the vector families' rule). */
static size_t wg_guard(const conv_shape *s, const conv_form *f)
{
    return conv_guard_at(s, f->p.wg.positions);
}

static size_t wg_guard_bound(const conv_shape *s)
{
    size_t most = 0;
    for (size_t i = 0; i < sizeof wg_tiles / sizeof wg_tiles[0]; i++) {
        size_t g = conv_guard_at(s, wg_tiles[i].positions);
        if (g > most) most = g;
    }
    return most;
}

/* [ceil(cout/channels)][kh][kw][cin][channels], as the vector families pack at their tm. */
static size_t wg_packed_count(const conv_shape *s, const conv_form *f)
{
    return conv_tiled_count(s, f->p.wg.channels);
}

static void wg_pack(const conv_shape *s, const conv_form *f, const float *w, float *packed)
{
    conv_pack_tiled(s, f->p.wg.channels, w, packed);
}

void conv_tile_format(const conv_form *f, char *dst, size_t cap)
{
    snprintf(dst, cap, "%d %d %d", f->p.wg.positions, f->p.wg.channels, f->p.wg.slices);
}

int conv_tile_parse(const char *text, conv_form *f)
{
    char end;
    conv_wg_params *t = &f->p.wg;
    return sscanf(text, "%d %d %d%c", &t->positions, &t->channels, &t->slices, &end) == 3;
}

/* Timed in fast tuning as in full, its splits too (for GPUs at batch 1). */
const conv_family conv_wg_row = {
    .name = "wg", .fast_refines = 1, .default_rank = 1, .offered = wg_offered,
    .candidates = wg_candidates, .refinements = wg_splits, .scratch = wg_scratch,
    .guard = wg_guard, .guard_bound = wg_guard_bound,
    .packed_count = wg_packed_count, .pack = wg_pack, .launches = wg_launches,
    .default_form = wg_default, .format = conv_tile_format, .parse = conv_tile_parse,
};
