/* conv.c: convolution forms and candidates, weight packing, and their launches (conv.h). */
#include "ops/conv.h"

#include "ops/eltwise.h"
#include "ops/gemm_clblast.h"

#include <stdio.h>
#include <string.h>

/* ---- shapes and tilings ---- */

static int window_out(int x, int k, int s, int p) { return x + 2 * p < k ? 0 : (x + 2 * p - k) / s + 1; }

irv2_status conv_shape_finish(conv_shape *s)
{
    if (s->cin <= 0 || s->cout <= 0 || s->kh <= 0 || s->kw <= 0 || s->n <= 0 || s->h <= 0 ||
        s->w <= 0 || (s->stride != 1 && s->stride != 2) || s->ph < 0 || s->pw < 0 ||
        s->ph >= s->kh || s->pw >= s->kw)
        return irv2_fail(IRV2_ERR_SHAPE, "conv: unsupported shape %dx%dx%d k%dx%d s%d p%dx%d",
                         s->cin, s->h, s->w, s->kh, s->kw, s->stride, s->ph, s->pw);
    s->ho = window_out(s->h, s->kh, s->stride, s->ph);
    s->wo = window_out(s->w, s->kw, s->stride, s->pw);
    if (s->ho <= 0 || s->wo <= 0)
        return irv2_fail(IRV2_ERR_SHAPE, "conv: k%dx%d does not fit a %dx%d input", s->kh, s->kw,
                         s->h, s->w);
    return IRV2_OK;
}

int conv_is_gemm(const conv_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->stride == 1 && s->ph == 0 && s->pw == 0;
}

conv_tiling conv_default_tiling(const irv2_context *ctx)
{
    /* One accumulator vector per register: 16 lanes with AVX-512, 8 otherwise. */
    return (conv_tiling){ctx->facts.float_width >= 16 ? 16 : 8, 8};
}

/* The device's native float vector is 16 wide (AVX-512): it gets the wide tilings and, for
 * 1x1 convs, the fused panel form. */
static int wide_vectors(const irv2_context *ctx) { return conv_default_tiling(ctx).vw >= 16; }

static const conv_tiling tilings[] = {{8, 8},   {8, 12},  {16, 4},  {16, 6},
                                      {16, 8},  {16, 12}, {16, 16}, {16, 24}};

_Static_assert(sizeof tilings / sizeof tilings[0] <= CONV_MAX_TILINGS,
               "CONV_MAX_TILINGS must hold every tiling");

int conv_fast_tiling(const irv2_context *ctx, conv_tiling t)
{
    static const conv_tiling narrow[] = {{16, 6}, {8, 12}}, wide[] = {{16, 12}, {16, 16}, {16, 24}};
    const int w = wide_vectors(ctx);
    const conv_tiling *list = w ? wide : narrow;
    const size_t n = w ? sizeof wide / sizeof wide[0] : sizeof narrow / sizeof narrow[0];
    for (size_t i = 0; i < n; i++)
        if (list[i].vw == t.vw && list[i].tm == t.tm) return 1;
    return 0;
}

size_t conv_tilings(const irv2_context *ctx, conv_tiling *out, size_t cap)
{
    int wide = wide_vectors(ctx);
    size_t n = 0;
    for (size_t i = 0; i < sizeof tilings / sizeof tilings[0] && n < cap; i++)
        if (wide || tilings[i].vw < 16 || tilings[i].tm <= 8) out[n++] = tilings[i];
    return n;
}

static int mtiles(const conv_shape *s, conv_tiling t) { return (s->cout + t.tm - 1) / t.tm; }

size_t conv_guard(const conv_shape *s, conv_tiling t)
{
    return (size_t)(s->kh + s->ph + 1) * s->w + s->kw + s->pw + 4 * t.vw;
}

/* ---- which forms a conv has ---- */

/* Parity planes of the input: ceil(H/2) x ceil(W/2) each. */
static void phase_size(const conv_shape *s, int *hp, int *wp)
{
    *hp = (s->h + 1) / 2, *wp = (s->w + 1) / 2;
}

static size_t phase_scratch(const conv_shape *s)
{
    int hp, wp;
    phase_size(s, &hp, &wp);
    if (s->stride != 2 || s->ho > hp || s->wo > wp) return 0;
    return (size_t)s->cin * s->n * 4 * hp * wp;
}

/* The panel form exists for 1x1 stride-1 convs (a plain regrouping), for stride-2 convs and
 * for stride-1 KxK convs with outputs of at most 40x40 per image (im2col, which the direct
 * kernel loses to there); the stem's large stride-1 maps run direct, where im2col would also
 * need tens of MB per image. */
static size_t panel_scratch(const conv_shape *s, conv_tiling t)
{
    if (!conv_is_gemm(s) && s->stride != 2 && s->ho * s->wo > 40 * 40) return 0;
    size_t npos = (size_t)s->n * s->ho * s->wo;
    return (npos + t.vw - 1) / t.vw * t.vw * s->kh * s->kw * s->cin;
}

/* The fused form's panel (kh*kw*cin*vw floats) fits the device's local memory. */
static int fused_fits(const irv2_context *ctx, const conv_shape *s, conv_tiling t)
{
    return (cl_ulong)s->kh * s->kw * s->cin * t.vw * sizeof(float) <= ctx->facts.local_mem;
}

/* The fused form is offered to KxK convs, and to 1x1 convs only on 16-wide devices: on 8-wide
 * CPUs a 1x1 conv in the network, its input coming from DRAM, runs faster over panels packed
 * into scratch (timed alone, its input warm in cache, it can show the opposite, so the choice
 * is made here rather than by the tuner); on 16-wide ones packing per work-group wins there
 * too. */
static int fused_offered(const irv2_context *ctx, const conv_shape *s, conv_tiling t)
{
    return (s->kh > 1 || s->kw > 1 || wide_vectors(ctx)) && fused_fits(ctx, s, t);
}

/* Launches of a direct pass in chunks of kchunk input channels. */
static int chunks_of(const conv_shape *s, int kchunk)
{
    return kchunk > 0 && kchunk < s->cin ? (s->cin + kchunk - 1) / kchunk : 1;
}

size_t conv_candidates(const irv2_context *ctx, const conv_shape *s, int parts, conv_form *out,
                       size_t cap)
{
    (void)parts; /* every form of irv2's kernels writes output parts */
    if (!(ctx->kernels & KERNELS_VEC)) return 0;
    conv_tiling t[CONV_MAX_TILINGS];
    size_t nt = conv_tilings(ctx, t, CONV_MAX_TILINGS), n = 0;
    /* Beside the work-group family (a GPU), the default tiling only: one work-item per
     * work-group rarely wins there, and each tiling is a program to build and time. */
    if (ctx->kernels == KERNELS_BOTH) t[0] = conv_default_tiling(ctx), nt = 1;
    for (size_t i = 0; i < nt; i++) {
        const int has[] = {1, panel_scratch(s, t[i]) != 0, fused_offered(ctx, s, t[i]),
                           phase_scratch(s) != 0, conv_winograd_pays(s)};
        const conv_method methods[] = {CONV_DIRECT, CONV_PANELS, CONV_FUSED, CONV_PHASE,
                                       CONV_WINOGRAD};
        for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++)
            if (has[k] && n < cap) out[n++] = (conv_form){methods[k], t[i], 0};
    }
    return n;
}

/* SGEMM needs an unpadded 1x1 stride-1 conv ([cin][N*H*W] is one matrix, at any batch);
 * convgemm takes any other shape but reads one NCHW image and has no batch stride, while
 * irv2's [cin][n][h][w] puts an image's channels n*h*w apart: at n == 1 they are [cin][h][w],
 * at n > 1 no candidate. Both write one contiguous [cout][positions] block: one output part.
 * convgemm is offered on GPUs only (where CLBlast is tuned): on CPUs it runs 19-38x slower
 * than the vector family and would only lengthen the first run. */
size_t conv_clblast_candidates(const irv2_context *ctx, const conv_shape *s, int parts,
                               conv_form *out, size_t cap)
{
    /* CLBlast compiles its own programs: not with a binaries folder, not in the compact set */
    if (cap == 0 || parts > 1 || ctx->binaries || (ctx->kernels & KERNELS_COMPACT_BIT)) return 0;
    if (!conv_is_gemm(s) && (s->n != 1 || !ctx->facts.gpu))
        return 0;
    out[0] = (conv_form){CONV_CLBLAST, conv_default_tiling(ctx), 0};
    return 1;
}

size_t conv_refinements(const conv_shape *s, const conv_form *best, conv_form *out, size_t cap)
{
    size_t n = 0;
    if (best->method == CONV_WG) return conv_wg_splits(s, best, out, cap);
    if (best->method != CONV_DIRECT && best->method != CONV_PHASE) return 0;
    const int taps = s->kh * s->kw;
    for (int terms = 512; terms >= 256 && n < cap; terms /= 2) {
        conv_form f = *best;
        f.kchunk = terms / taps > 0 ? terms / taps : 1;
        int chunks = chunks_of(s, f.kchunk);
        if (chunks >= 2 && chunks + 1 <= CONV_MAX_LAUNCHES) out[n++] = f;
    }
    return n;
}

conv_form conv_default_form(const irv2_context *ctx, const conv_shape *s)
{
    conv_form f = {CONV_DIRECT, conv_default_tiling(ctx), 0};
    if (ctx_prefers_wg(ctx) && conv_wg_default(ctx, &f)) return f;
    if ((s->kh > 1 || s->kw > 1) && fused_fits(ctx, s, f.tiling)) f.method = CONV_FUSED;
    else if (panel_scratch(s, f.tiling)) f.method = CONV_PANELS;
    return f;
}

size_t conv_scratch(const conv_shape *s, const conv_form *f)
{
    if (f->method == CONV_PHASE) return phase_scratch(s);
    if (f->method == CONV_PANELS) return panel_scratch(s, f->tiling);
    if (f->method == CONV_WG) return conv_wg_scratch(s, f->kchunk);
    if (f->method == CONV_WINOGRAD) return conv_winograd_scratch(s, f->tiling);
    return 0;
}

/* ---- weights ---- */

size_t conv_packed_count(const conv_shape *s, const conv_form *f)
{
    size_t per_channel = (size_t)s->kh * s->kw * s->cin;
    if (f->method == CONV_CLBLAST) return (size_t)s->cout * per_channel;
    if (f->method == CONV_WINOGRAD) return conv_winograd_packed_count(s, f->tiling);
    return (size_t)mtiles(s, f->tiling) * f->tiling.tm * per_channel;
}

void conv_pack(const conv_shape *s, const conv_form *f, const float *w, float *packed)
{
    if (f->method == CONV_CLBLAST) { /* SGEMM's A [cout][cin], convgemm's [cout][cin][kh][kw] */
        memcpy(packed, w, conv_packed_count(s, f) * sizeof(float));
        return;
    }
    if (f->method == CONV_WINOGRAD) {
        conv_winograd_pack(s, f->tiling, w, packed);
        return;
    }
    const conv_tiling t = f->tiling;
    size_t i = 0;
    for (int mt = 0; mt < mtiles(s, t); mt++)
        for (int kh = 0; kh < s->kh; kh++)
            for (int kw = 0; kw < s->kw; kw++)
                for (int c = 0; c < s->cin; c++)
                    for (int m = 0; m < t.tm; m++) {
                        int co = mt * t.tm + m;
                        packed[i++] = co < s->cout
                                          ? w[(((size_t)co * s->cin + c) * s->kh + kh) * s->kw + kw]
                                          : 0.0f;
                    }
}

/* ---- launches ---- */

static irv2_status out_args_of(const conv_out *o, int cout, out_args *a)
{
    int parts = o->parts < 1 ? 1 : o->parts;
    if (parts > CONV_MAX_PARTS || o->from[0] != 0)
        return irv2_fail(IRV2_ERR_SHAPE, "%d output parts (at most %d)", o->parts,
                         CONV_MAX_PARTS);
    for (int k = 1; k < parts; k++)
        if (o->from[k] <= o->from[k - 1] || o->from[k] >= cout)
            return irv2_fail(IRV2_ERR_SHAPE, "output part %d starts at channel %d of %d", k,
                             o->from[k], cout);
    *a = (out_args){o->mem,
                    parts,
                    (cl_uint)o->off[0],
                    parts > 1 ? (cl_uint)o->off[1] : 0,
                    parts > 2 ? (cl_uint)o->off[2] : 0,
                    parts > 1 ? o->from[1] : cout,
                    parts > 2 ? o->from[2] : cout};
    return IRV2_OK;
}


enum { OPT_TM = 1, OPT_GEOMETRY = 2, OPT_EPILOGUE = 4 };

/* The -D options of a kernel: VW, then those in `which`, then extra. */
static void kernel_options(const conv_job *j, int which, const char *extra, char *dst,
                           size_t cap)
{
    const conv_shape *s = j->s;
    char tm[32] = "", geometry[96] = "", eflags[96] = "";
    if (which & OPT_TM) snprintf(tm, sizeof tm, " -DTM=%d", j->t.tm);
    if (which & OPT_GEOMETRY)
        snprintf(geometry, sizeof geometry, " -DKH=%d -DKW=%d -DSH=%d -DPH=%d -DPW=%d", s->kh,
                 s->kw, s->stride, s->ph, s->pw);
    if (which & OPT_EPILOGUE) epilogue_flags(j->epi, eflags, sizeof eflags);
    snprintf(dst, cap, "-DVW=%d%s%s%s%s", j->t.vw, tm, geometry, eflags, extra);
}

/* Where a direct kernel reads: the input or its parity planes, with the sizes it indexes and
 * its channel stride. */
typedef struct conv_source {
    op_buf in;
    int phase, h, w, cstride;
} conv_source;

/* Lanes run along single output rows (conv_rows) for strided convs and for outputs wider
 * than inputs; otherwise over the virtual H_out x W grid (conv_grid), whose tiles wrap rows
 * without waste. */
static int use_rows(const conv_shape *s) { return s->stride != 1 || s->wo > s->w; }

/* One launch of cl/conv_direct.cl over input channels [c0, c1). */
static irv2_status direct_op(const conv_job *j, const conv_source *src, int c0, int c1,
                             op_launch *op)
{
    const conv_shape *s = j->s;
    const out_args *o = &j->o;
    const int rows = !src->phase && use_rows(s);
    char opts[256];
    kernel_options(j, OPT_TM | OPT_GEOMETRY | OPT_EPILOGUE, src->phase ? " -DPHASE=1" : "", opts,
                   sizeof opts);
    cl_int accumulate = j->residual || c0 > 0, finish = c1 == s->cin;
    cl_uint in_off = (cl_uint)src->in.off;
    cl_int out_cstride = s->n * s->ho * s->wo;
    const kernel_arg args[] = {
        ARG(src->in.mem), ARG(in_off),      ARG(j->b->weights), ARG(j->b->bias), ARG(j->scale),
        ARG(j->shift),    ARG(o->mem),      ARG(o->off0),       ARG(o->seg1),    ARG(o->off1),
        ARG(o->seg2),     ARG(o->off2),     ARG(s->cin),        ARG(s->cout),    ARG(src->h),
        ARG(src->w),      ARG(s->ho),       ARG(s->wo),         ARG(src->cstride), ARG(out_cstride),
        ARG(c0),          ARG(c1),          ARG(accumulate),    ARG(finish)};
    irv2_status st = op_kernel(j->ctx, "conv_direct.cl", opts, rows ? "conv_rows" : "conv_grid",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 3;
    op_local_one(op);
    op->gws[0] = (size_t)mtiles(s, j->t);
    op->gws[1] = rows ? (size_t)s->ho * ((s->wo + j->t.vw - 1) / j->t.vw)
                      : ((size_t)s->ho * src->w + j->t.vw - 1) / j->t.vw;
    op->gws[2] = (size_t)s->n;
    return IRV2_OK;
}

/* The parity planes of the input into scratch (cl/pack.cl phase_split). */
static irv2_status phase_split_op(const conv_job *j, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    int hp, wp;
    phase_size(s, &hp, &wp);
    cl_uint in_off = (cl_uint)b->in.off, s_off = (cl_uint)b->scratch.off;
    const kernel_arg args[] = {ARG(b->in.mem), ARG(in_off), ARG(b->scratch.mem), ARG(s_off),
                               ARG(s->h),      ARG(s->w),   ARG(hp),             ARG(wp)};
    irv2_status st =
        op_kernel(j->ctx, "pack.cl", "", "phase_split", sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 3;
    op->gws[0] = (size_t)wp, op->gws[1] = (size_t)hp;
    op->gws[2] = (size_t)s->cin * s->n;
    return IRV2_OK;
}

/* CONV_DIRECT and CONV_PHASE: the parity split first (PHASE), then one launch per chunk of
 * input channels. */
static irv2_status direct_ops(const conv_job *j, int kchunk, int phase, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    const int chunks = chunks_of(s, kchunk);
    conv_source src = {j->b->in, 0, s->h, s->w, s->n * s->h * s->w};
    if (chunks + phase > CONV_MAX_LAUNCHES)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "kchunk %d makes %d launches (at most %d)",
                         kchunk, chunks + phase, CONV_MAX_LAUNCHES);
    if (phase) {
        if (phase_scratch(s) == 0)
            return irv2_fail(IRV2_ERR_SHAPE, "no parity-plane form for k%dx%d s%d on %dx%d",
                             s->kh, s->kw, s->stride, s->h, s->w);
        src.in = j->b->scratch, src.phase = 1;
        phase_size(s, &src.h, &src.w);
        src.cstride = s->n * 4 * src.h * src.w;
        irv2_status st = phase_split_op(j, &ops[*n]);
        if (st != IRV2_OK) return st;
        (*n)++;
    }
    for (int k = 0; k < chunks; k++) {
        irv2_status st = direct_op(j, &src, k * s->cin / chunks, (k + 1) * s->cin / chunks,
                                   &ops[*n]);
        if (st != IRV2_OK) return st;
        (*n)++;
    }
    return IRV2_OK;
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
    kernel_options(j, plain ? 0 : OPT_GEOMETRY, "", opts, sizeof opts);
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
    op->gws[0] = ((size_t)npos + j->t.vw - 1) / j->t.vw;
    op->gws[1] = (size_t)s->kh * s->kw;
    return IRV2_OK;
}

/* Blocks of up to 32 weight tiles (192-384 rows): measured best on L2-sized caches. */
static int weight_block(const conv_shape *s, conv_tiling t)
{
    return mtiles(s, t) < 32 ? mtiles(s, t) : 32;
}

/* One GEMM over the panels in scratch (cl/conv_gemm.cl conv_panels). */
static irv2_status panels_gemm_op(const conv_job *j, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const out_args *o = &j->o;
    cl_int rows = s->kh * s->kw * s->cin, npos = s->n * s->ho * s->wo;
    cl_uint s_off = (cl_uint)b->scratch.off;
    char opts[256];
    kernel_options(j, OPT_TM | OPT_EPILOGUE, "", opts, sizeof opts);
    const kernel_arg args[] = {ARG(b->scratch.mem), ARG(s_off),   ARG(b->weights), ARG(b->bias),
                               ARG(j->scale),       ARG(j->shift), ARG(o->mem),    ARG(o->off0),
                               ARG(o->seg1),        ARG(o->off1), ARG(o->seg2),    ARG(o->off2),
                               ARG(rows),           ARG(s->cout), ARG(npos),       ARG(npos),
                               ARG(j->residual)};
    irv2_status st = op_kernel(j->ctx, "conv_gemm.cl", opts, "conv_panels",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    size_t block = (size_t)weight_block(s, j->t);
    op->dims = 3;
    op_local_one(op);
    op->gws[0] = block, op->gws[1] = ((size_t)npos + j->t.vw - 1) / j->t.vw;
    op->gws[2] = ((size_t)mtiles(s, j->t) + block - 1) / block;
    return IRV2_OK;
}

/* CONV_PANELS: the packing (unless a sibling's launch left this input's panels in scratch),
 * then the GEMM. */
static irv2_status panel_ops(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    if (panel_scratch(s, j->t) == 0)
        return irv2_fail(IRV2_ERR_SHAPE, "no panel form for k%dx%d s%d with %dx%d outputs",
                         s->kh, s->kw, s->stride, s->ho, s->wo);
    if (j->b->shared_panels && !conv_is_gemm(s))
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                         "shared panels on a k%dx%d s%d conv (1x1 stride 1 only)", s->kh, s->kw,
                         s->stride);
    if (!j->b->shared_panels) {
        irv2_status st = pack_op(j, &ops[*n]);
        if (st != IRV2_OK) return st;
        (*n)++;
    }
    irv2_status st = panels_gemm_op(j, &ops[*n]);
    if (st == IRV2_OK) (*n)++;
    return st;
}

/* CONV_FUSED: one launch of conv_fused, each work-group packing its tile's panel in local
 * memory. */
static irv2_status fused_op(const conv_job *j, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const out_args *o = &j->o;
    if (!fused_fits(j->ctx, s, j->t))
        return irv2_fail(IRV2_ERR_SHAPE, "k%dx%d x %d channels exceeds local memory", s->kh,
                         s->kw, s->cin);
    cl_int in_cstride = s->n * s->h * s->w, block = weight_block(s, j->t);
    cl_uint in_off = (cl_uint)b->in.off;
    size_t npos = (size_t)s->n * s->ho * s->wo;
    char opts[256];
    kernel_options(j, OPT_TM | OPT_GEOMETRY | OPT_EPILOGUE, "", opts, sizeof opts);
    const kernel_arg args[] = {
        ARG(b->in.mem),   ARG(in_off),     ARG(b->weights), ARG(b->bias),  ARG(j->scale),
        ARG(j->shift),    ARG(o->mem),     ARG(o->off0),    ARG(o->seg1),  ARG(o->off1),
        ARG(o->seg2),     ARG(o->off2),    ARG(s->cin),     ARG(s->cout),  ARG(s->n),
        ARG(s->h),        ARG(s->w),       ARG(s->ho),      ARG(s->wo),    ARG(in_cstride),
        ARG(j->residual), ARG(block),
        {(size_t)s->kh * s->kw * s->cin * j->t.vw * sizeof(float), NULL}}; /* the panel */
    irv2_status st = op_kernel(j->ctx, "conv_gemm.cl", opts, "conv_fused",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 2;
    op_local_one(op);
    op->gws[0] = (npos + j->t.vw - 1) / j->t.vw;
    op->gws[1] = ((size_t)mtiles(s, j->t) + block - 1) / block;
    return IRV2_OK;
}

/* CONV_CLBLAST other than 1x1: CLBlast's convgemm of the one image [cin][h][w] (n == 1) with
 * the canonical weights into [cout][ho][wo]. It overwrites its output, so it cannot add a
 * residual (in this network every residual conv is a 1x1 projection, which runs as SGEMM). */
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

/* CONV_CLBLAST: for a 1x1 stride-1 conv, SGEMM of the canonical weights [cout][cin] with the
 * input [cin][positions] (accumulating into the output for a residual sum); otherwise
 * convgemm (convgemm_op); then the epilogue in place. */
static irv2_status clblast_ops(const conv_job *j, op_launch *ops, int *n)
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

static irv2_status form_ops(const conv_job *j, const conv_form *f, op_launch *ops, int *n)
{
    const conv_tiling t = f->tiling;
    if (f->method != CONV_CLBLAST && f->method != CONV_WG && ((t.vw != 8 && t.vw != 16) || t.tm < 1))
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "no kernel has tiling vw %d tm %d", t.vw,
                         t.tm);
    switch (f->method) {
    case CONV_DIRECT: return direct_ops(j, f->kchunk, 0, ops, n);
    case CONV_PHASE: return direct_ops(j, f->kchunk, 1, ops, n);
    case CONV_PANELS: return panel_ops(j, ops, n);
    case CONV_FUSED: {
        irv2_status st = fused_op(j, &ops[*n]);
        if (st == IRV2_OK) (*n)++;
        return st;
    }
    case CONV_CLBLAST: return clblast_ops(j, ops, n);
    case CONV_WG: return conv_wg_ops(j, f->kchunk, ops, n);
    case CONV_WINOGRAD: return conv_winograd_ops(j, ops, n);
    default: return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "unknown method %d", (int)f->method);
    }
}

/* Fails with status st, the message naming the form before what went wrong. */
static irv2_status form_failure(irv2_status st, const conv_form *f)
{
    char msg[768], form[64] = "";
    snprintf(msg, sizeof msg, "%s", irv2_last_error());
    if (f->method != CONV_CLBLAST)
        snprintf(form, sizeof form, " (vw %d tm %d kchunk %d)", f->tiling.vw, f->tiling.tm,
                 f->kchunk);
    return irv2_fail(st, "conv %s%s: %s", conv_method_name(f->method), form, msg);
}

irv2_status conv_launches(irv2_context *ctx, const conv_shape *s, const conv_form *f,
                          op_epilogue epi, const conv_bufs *b, op_launch *ops, int *count)
{
    conv_job j = {ctx, s, f->tiling, epi, epi.residual, b, b->scale ? b->scale : b->bias,
                  b->shift ? b->shift : b->bias, {0}};
    j.epi.residual = 0;
    int n = 0;
    irv2_status st = IRV2_OK;
    *count = 0;
    if (epi.residual && epi.relu1)
        st = irv2_fail(IRV2_ERR_UNSUPPORTED, "ReLU before a residual sum");
    if (st == IRV2_OK) st = out_args_of(&b->out, s->cout, &j.o);
    if (st == IRV2_OK) st = form_ops(&j, f, ops, &n);
    if (st == IRV2_OK) {
        *count = n;
        return IRV2_OK;
    }
    while (n > 0) op_release(&ops[--n]);
    return form_failure(st, f);
}

const char *conv_method_name(conv_method m)
{
    static const char *const names[CONV_METHODS] = {
        [CONV_DIRECT] = "direct", [CONV_PHASE] = "phase",     [CONV_PANELS] = "panels",
        [CONV_FUSED] = "fused",   [CONV_CLBLAST] = "clblast", [CONV_WG] = "wg",
        [CONV_WINOGRAD] = "winograd",
    };
    return (unsigned)m < CONV_METHODS ? names[m] : "unknown";
}
