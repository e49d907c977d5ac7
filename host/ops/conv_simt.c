/* conv_simt.c: the SIMT implicit-GEMM conv family (cl/conv_simt.cl): its tiles per device,
 * candidates, split reductions, scratch, weight packing and launch. A form is (positions,
 * channels, parts) in conv_wg_params: a tile of `channels` x `positions` with 8x8 sums per
 * work-item, the reduction split in `parts` (0 or 1: none). */
#include "ops/conv_family.h"

#include <stdio.h>
#include <string.h>

/* Reduction rows per local-memory slice (cl/conv_simt.cl BK; the packing's channel padding). */
#define SIMT_BK 8
/* Sums per work-item along each side (RM = RN). */
#define SIMT_R 8
/* Below this many tiles a conv leaves a large GPU idle (about 2 per compute unit of an H100's
 * 132): its reduction is worth splitting. */
#define SIMT_FEW_TILES 256
/* Splits offered: 2, 4, ... up to this many parts, each keeping SIMT_MIN_SLICES slices. */
#define SIMT_MAX_PARTS 16
#define SIMT_MIN_SLICES 4
/* Outputs of a rider (a max pool in the conv's launch) per work-item of its work-groups. */
#define SIMT_RIDER_PER_ITEM 4
/* Registers per work-item that give a 256-work-item group 16 warps per SM on NVIDIA (64K
 * registers per SM, 2 groups of 8 warps), as build option text. */
#define SIMT_NV_REGS "128"

/* Tiles as (positions, channels); 64x32's work-groups are one warp of 32 (not offered where
 * the hardware runs 64-wide waves: AMD). */
static const conv_wg_params simt_tiles[] = {
    {128, 128, 0}, {64, 128, 0}, {128, 64, 0}, {64, 64, 0}, {32, 64, 0}};
#define SIMT_TILES (sizeof simt_tiles / sizeof simt_tiles[0])

static size_t simt_group(conv_wg_params t)
{
    return (size_t)(t.positions / SIMT_R) * (size_t)(t.channels / SIMT_R);
}

/* The tile runs on this device: its work-group fits the device's largest and its first
 * dimension, both double-buffered operand slices fit the local memory, and a group below 64
 * work-items is offered only where warps are 32 wide. Not on Intel GPUs: Intel's compiler
 * (ocloc, pvc and adl-n) runs the 8x8 sums at SIMD32 and spills them (0.1-4.9 KB per
 * work-item; 256-register mode still spills the split kernel), so there the work-group
 * family and CLBlast are timed instead. */
static int simt_fits(const irv2_context *ctx, conv_wg_params t)
{
    const device_profile *p = &ctx->profile;
    const size_t group = simt_group(t);
    const cl_ulong local = 2ull * SIMT_BK * (cl_ulong)(t.positions + t.channels) * 4 + 4;
    if (t.positions <= 0 || t.channels <= 0 || t.positions % 32 || t.channels % 32) return 0;
    if ((group < 64 && p->vendor == VENDOR_AMD) || (p->vendor == VENDOR_INTEL && p->gpu))
        return 0;
    return group <= p->max_group && group <= p->max_items[0] && local <= p->local_mem;
}

int conv_simt_runs(const irv2_context *ctx)
{
    for (size_t i = 0; i < SIMT_TILES; i++)
        if (simt_fits(ctx, simt_tiles[i])) return 1;
    return 0;
}

/* Where the work-group family is (GPUs; IRV2_KERNELS=wg elsewhere), outside the compact
 * kernel set (whose point is few programs). */
static int simt_offered(const irv2_context *ctx)
{
    return (ctx->kernels & KERNELS_WG) && !(ctx->kernels & KERNELS_COMPACT_BIT);
}

/* The untuned form on GPUs: the 64x64 tile, the smallest 8x8-per-work-item tile every GPU
 * profile fits (64 work-items), so that small layers still fill the device; the tuner picks
 * larger tiles where they pay. Not where IRV2_KERNELS=wg puts the GPU shape on a CPU: PoCL
 * compiles these kernels slowly (minutes for a network's programs), and there the families
 * only run for their tests, which name SIMT forms themselves. */
static int simt_default(const irv2_context *ctx, const conv_shape *s, conv_form *f)
{
    (void)s;
    const conv_wg_params t = {64, 64, 0};
    if (!ctx->profile.gpu || !ctx_prefers_wg(ctx) || !simt_offered(ctx) || !simt_fits(ctx, t))
        return 0;
    *f = conv_simt_form(t.positions, t.channels, 0);
    return 1;
}

static size_t simt_candidates(const irv2_context *ctx, const conv_shape *s, int parts,
                              conv_form *out, size_t cap)
{
    (void)s, (void)parts;
    size_t n = 0;
    for (size_t i = 0; i < SIMT_TILES && n < cap; i++)
        if (simt_fits(ctx, simt_tiles[i]))
            out[n++] = conv_simt_form(simt_tiles[i].positions, simt_tiles[i].channels, 0);
    return n;
}

/* ---- geometry of a form ---- */

static int slices_of(const conv_shape *s)
{
    return s->kh * s->kw * ((s->cin + SIMT_BK - 1) / SIMT_BK);
}

static size_t tiles_of(const conv_shape *s, const conv_wg_params *t)
{
    const size_t npos = (size_t)s->n * s->ho * s->wo;
    return (npos + t->positions - 1) / t->positions *
           (((size_t)s->cout + t->channels - 1) / t->channels);
}

/* Slices per part and the parts launched for a split into `want` parts (0 or 1: one). */
static int slices_per_part(const conv_shape *s, int want)
{
    return want <= 1 ? slices_of(s) : (slices_of(s) + want - 1) / want;
}

static int parts_of(const conv_shape *s, int want)
{
    if (want <= 1) return 1;
    const int sper = slices_per_part(s, want);
    return (slices_of(s) + sper - 1) / sper;
}

/* The splits of tile t worth timing: 2, 4, 8, 16 parts where the conv has few tiles, the
 * parts' work-groups do not outnumber twice that, and each part keeps SIMT_MIN_SLICES. */
static size_t splits_of(const conv_shape *s, conv_wg_params t, conv_form *out, size_t cap)
{
    size_t n = 0;
    const size_t tiles = tiles_of(s, &t);
    for (int p = 2; p <= SIMT_MAX_PARTS && n < cap; p *= 2)
        if (tiles * (size_t)(p / 2) < SIMT_FEW_TILES && slices_of(s) >= p * SIMT_MIN_SLICES)
            out[n++] = conv_simt_form(t.positions, t.channels, p);
    return n;
}

static size_t simt_splits(const conv_shape *s, const conv_form *best, conv_form *out,
                          size_t cap)
{
    return splits_of(s, best->p.wg, out, cap);
}

/* Scratch: the parts' raw sums, parts x BM*BN floats per tile. (The tiles' counters live
 * after the packed weights: see simt_packed_count.) */
static size_t simt_scratch(const conv_shape *s, const conv_form *f)
{
    const conv_wg_params *t = &f->p.wg;
    if (t->slices <= 1) return 0;
    return tiles_of(s, t) * (size_t)parts_of(s, t->slices) * (size_t)t->positions *
           (size_t)t->channels;
}

/* ---- weights ---- */

/* Floats of the packed weights [ceil(cout/BM)][kh][kw][cinp][BM]. */
static size_t weight_count(const conv_shape *s, int bm)
{
    const size_t cinp = (size_t)(s->cin + SIMT_BK - 1) / SIMT_BK * SIMT_BK;
    return (size_t)(s->cout + bm - 1) / bm * s->kh * s->kw * cinp * bm;
}

/* The packed weights, then for a split one counter per tile, zero. The counters sit in the
 * step's own weights buffer because nothing else writes there (scratch is shared by every
 * step in turn, and another step's data would leave them non-zero): the kernel's last
 * work-group of a tile sets its counter back to 0, so they are zero at every launch. The
 * buffer is therefore read-write (plan.c, tune.c's workspace). */
static size_t simt_packed_count(const conv_shape *s, const conv_form *f)
{
    const size_t w = weight_count(s, f->p.wg.channels);
    return f->p.wg.slices > 1 ? w + tiles_of(s, &f->p.wg) : w;
}

static void simt_pack(const conv_shape *s, const conv_form *f, const float *w, float *packed)
{
    const int bm = f->p.wg.channels, cinp = (s->cin + SIMT_BK - 1) / SIMT_BK * SIMT_BK;
    size_t i = 0;
    for (int mt = 0; mt < (s->cout + bm - 1) / bm; mt++)
        for (int y = 0; y < s->kh; y++)
            for (int x = 0; x < s->kw; x++)
                for (int c = 0; c < cinp; c++)
                    for (int m = 0; m < bm; m++) {
                        const int co = mt * bm + m;
                        packed[i++] =
                            co < s->cout && c < s->cin
                                ? w[(((size_t)co * s->cin + c) * s->kh + y) * s->kw + x]
                                : 0.0f;
                    }
    memset(packed + i, 0, (simt_packed_count(s, f) - i) * sizeof(float)); /* the counters */
}

/* ---- launches ---- */

/* NVIDIA's build option capping the registers, on NVIDIA only (the other vendors' compilers
 * reject -cl-nv-* options), for the 128x128 tile: ptxas gives it 142 registers unasked, 8
 * warps per SM; capped at SIMT_NV_REGS it runs 16 with no spill or stack on sm_80 and sm_90
 * (tools/gpu-static). The 128-work-item tiles keep 12 warps: under the cap their split kernels
 * spill 4 to 8 bytes on sm_80 at some geometries (64x128 at 1x1, 128x64 at 7x1 and 3x1). */
static const char *nv_regs_option(const irv2_context *ctx, const conv_wg_params *t)
{
    if (ctx->profile.vendor != VENDOR_NVIDIA || t->positions != 128 || t->channels != 128)
        return "";
    return " -cl-nv-maxrregcount=" SIMT_NV_REGS;
}

/* A 1x1 stride-1 unpadded conv runs as one row of npos positions; with its input offset and
 * channel stride multiples of 4 it loads float4s (VECX). */
static int vecx_of(const conv_job *j)
{
    const conv_shape *s = j->s;
    return conv_is_gemm(s) && j->b->in.off % 4 == 0 && ((size_t)s->n * s->h * s->w) % 4 == 0;
}

static irv2_status simt_launches(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const out_args *o = &j->o;
    const conv_wg_params *t = &j->f->p.wg;
    if (!simt_fits(j->ctx, *t))
        return irv2_fail(IRV2_ERR_UNSUPPORTED, "no %dx%d SIMT tile on %s", t->channels,
                         t->positions, j->ctx->info.name);
    const int split = t->slices > 1, vecx = vecx_of(j), gemm = conv_is_gemm(s);
    if (split && b->scratch.mem == NULL && !j->ctx->record_program)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "a split reduction needs scratch");
    char eflags[96], opts[300];
    epilogue_options(j->ctx, j->epi, eflags, sizeof eflags);
    snprintf(opts, sizeof opts,
             "-DBM=%d -DBN=%d -DBK=%d -DRM=%d -DRN=%d -DVECX=%d -DKH=%d -DKW=%d -DSH=%d -DPH=%d "
             "-DPW=%d%s%s%s",
             t->channels, t->positions, SIMT_BK, SIMT_R, SIMT_R, vecx, s->kh, s->kw, s->stride,
             s->ph, s->pw, eflags, b->rider ? " -DRIDER=1" : "", nv_regs_option(j->ctx, t));
    const cl_int npos = s->n * s->ho * s->wo, in_cstride = s->n * s->h * s->w;
    /* the GEMM form: one image of one row of npos positions */
    const cl_int n1 = gemm ? 1 : s->n, h = gemm ? 1 : s->h, w = gemm ? npos : s->w,
                 ho = gemm ? 1 : s->ho, wo = gemm ? npos : s->wo;
    const cl_int epi = epilogue_bits(j->epi), sper = slices_per_part(s, t->slices);
    const cl_uint in_off = (cl_uint)b->in.off, part_off = (cl_uint)b->scratch.off,
                  count_off = (cl_uint)weight_count(s, t->channels);
    cl_mem part = b->scratch.mem;
    /* the conv's 27, the rider's after them (cl/conv_simt.cl CONV_SIMT_ARGS), then the
     * split's 5 */
    kernel_arg args[32 + RIDER_NARGS] = {
        ARG(b->in.mem), ARG(in_off),    ARG(b->weights),  ARG(b->bias),   ARG(j->scale),
        ARG(j->shift),  ARG(o->mem),    ARG(o->off0),     ARG(o->seg1),   ARG(o->off1),
        ARG(o->seg2),   ARG(o->off2),   ARG(s->cin),      ARG(s->cout),   ARG(n1),
        ARG(h),         ARG(w),         ARG(ho),          ARG(wo),        ARG(in_cstride),
        ARG(j->residual), ARG(s->kh),   ARG(s->kw),       ARG(s->stride), ARG(s->ph),
        ARG(s->pw),     ARG(epi)};
    const kernel_arg split_args[] = {ARG(part), ARG(part_off), ARG(b->weights), ARG(count_off),
                                     ARG(sper)};
    rider_vals rv;
    unsigned nargs = 27;
    if (b->rider) conv_rider_args(j, &rv, args + nargs), nargs += RIDER_NARGS;
    if (split) memcpy(args + nargs, split_args, sizeof split_args), nargs += 5;
    op_launch *op = &ops[*n];
    const char *name = split ? "conv_simt_split" : "conv_simt";
    irv2_status st = op_kernel(j->ctx, "conv_simt.cl", opts, name, nargs, args, op);
    const size_t group = simt_group(*t);
    if (st == IRV2_OK) st = op_check_group(j->ctx, op->kernel, name, group);
    if (st != IRV2_OK) return op_release(op), st;
    op->dims = split ? 3 : 2;
    op->gws[0] = ((size_t)npos + t->positions - 1) / t->positions * group;
    op->gws[1] = ((size_t)s->cout + t->channels - 1) / t->channels;
    op->gws[2] = (size_t)parts_of(s, t->slices);
    op->lws[0] = group, op->lws[1] = op->lws[2] = 1;
    if (b->rider) { /* rows of work-groups past the channel tiles, SIMT_RIDER_PER_ITEM each */
        const size_t items = op->gws[0] * op->gws[2] * SIMT_RIDER_PER_ITEM;
        op->gws[1] += (conv_rider_outputs(b->rider) + items - 1) / items;
    }
    (*n)++;
    return IRV2_OK;
}

/* Every tile timed in fast tuning as in full, its splits too (GPUs at batch 1); the untuned
 * form on GPUs (simt_default). Reads nothing outside its input: no guard. Its parameters are
 * written as the work-group family's. */
const conv_family conv_simt_row = {
    .name = "simt", .fast_refines = 1, .takes_rider = 1, .default_rank = 0,
    .offered = simt_offered,
    .default_form = simt_default, .candidates = simt_candidates,
    .refinements = simt_splits, .scratch = simt_scratch,
    .packed_count = simt_packed_count, .pack = simt_pack, .launches = simt_launches,
    .format = conv_tile_format, .parse = conv_tile_parse,
};
