/* conv_direct.c: the direct families (cl/conv_direct.cl): shifted input rows read straight
 * from the tensor (direct), or, for stride 2, from the input's four parity planes split into
 * scratch by cl/pack.cl (phase); each in chunks of input channels where refined. */
#include "ops/conv_family.h"

#include <stdio.h>

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

/* Launches of a direct pass in chunks of kchunk input channels. */
static int chunks_of(const conv_shape *s, int kchunk)
{
    return kchunk > 0 && kchunk < s->cin ? (s->cin + kchunk - 1) / kchunk : 1;
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

/* One launch of cl/conv_direct.cl over input channels [c0, c1), with the job's rider if
 * `rider` (in extra columns of work-items past the channel tiles). */
static irv2_status direct_op(const conv_job *j, const conv_source *src, int c0, int c1,
                             int rider, op_launch *op)
{
    const conv_shape *s = j->s;
    const out_args *o = &j->o;
    const conv_vec_params *t = &j->f->p.vec;
    const int rows = !src->phase && use_rows(s);
    char opts[256];
    conv_vec_options(j, OPT_TM | OPT_GEOMETRY | OPT_EPILOGUE,
                     src->phase ? (rider ? " -DPHASE=1 -DRIDER=1" : " -DPHASE=1")
                                : (rider ? " -DRIDER=1" : ""),
                     opts, sizeof opts);
    cl_int accumulate = j->residual || c0 > 0, finish = c1 == s->cin;
    cl_uint in_off = (cl_uint)src->in.off;
    cl_int out_cstride = s->n * s->ho * s->wo;
    kernel_arg args[24 + RIDER_NARGS] = {
        ARG(src->in.mem), ARG(in_off),      ARG(j->b->weights), ARG(j->b->bias), ARG(j->scale),
        ARG(j->shift),    ARG(o->mem),      ARG(o->off0),       ARG(o->seg1),    ARG(o->off1),
        ARG(o->seg2),     ARG(o->off2),     ARG(s->cin),        ARG(s->cout),    ARG(src->h),
        ARG(src->w),      ARG(s->ho),       ARG(s->wo),         ARG(src->cstride), ARG(out_cstride),
        ARG(c0),          ARG(c1),          ARG(accumulate),    ARG(finish)};
    rider_vals rv;
    if (rider) conv_rider_args(j, &rv, args + 24);
    irv2_status st = op_kernel(j->ctx, "conv_direct.cl", opts, rows ? "conv_rows" : "conv_grid",
                               rider ? 24 + RIDER_NARGS : 24, args, op);
    if (st != IRV2_OK) return st;
    op->dims = 3;
    op_local_one(op);
    op->gws[0] = (size_t)conv_channel_tiles(s, t->tm);
    op->gws[1] = rows ? (size_t)s->ho * ((s->wo + t->vw - 1) / t->vw)
                      : ((size_t)s->ho * src->w + t->vw - 1) / t->vw;
    op->gws[2] = (size_t)s->n;
    if (rider) { /* a plane of the pool per work-item */
        const conv_rider *r = j->b->rider;
        const size_t items = op->gws[1] * op->gws[2], planes = (size_t)r->c * r->n;
        op->gws[0] += (planes + items - 1) / items;
    }
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

/* The parity split first (phase), then one launch per chunk of input channels. */
static irv2_status direct_ops(const conv_job *j, int phase, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    const int kchunk = j->f->p.vec.kchunk, chunks = chunks_of(s, kchunk);
    conv_source src = {j->b->in, 0, s->h, s->w, s->n * s->h * s->w};
    irv2_status st = conv_vec_check(j, 0);
    if (st != IRV2_OK) return st;
    if (chunks + phase > OP_MAX_LAUNCHES)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "kchunk %d makes %d launches (at most %d)",
                         kchunk, chunks + phase, OP_MAX_LAUNCHES);
    if (phase) {
        if (phase_scratch(s) == 0)
            return irv2_fail(IRV2_ERR_SHAPE, "no parity-plane form for k%dx%d s%d on %dx%d",
                             s->kh, s->kw, s->stride, s->h, s->w);
        src.in = j->b->scratch, src.phase = 1;
        phase_size(s, &src.h, &src.w);
        src.cstride = s->n * 4 * src.h * src.w;
        st = phase_split_op(j, &ops[*n]);
        if (st != IRV2_OK) return st;
        (*n)++;
    }
    for (int k = 0; k < chunks; k++) {
        st = direct_op(j, &src, k * s->cin / chunks, (k + 1) * s->cin / chunks,
                       k == 0 && j->b->rider, &ops[*n]);
        if (st != IRV2_OK) return st;
        (*n)++;
    }
    return IRV2_OK;
}

static irv2_status direct_launches(const conv_job *j, op_launch *ops, int *n)
{
    return direct_ops(j, 0, ops, n);
}

static irv2_status phase_launches(const conv_job *j, op_launch *ops, int *n)
{
    return direct_ops(j, 1, ops, n);
}

/* The best form split into chunks of about 512 and 256 reduction terms. */
static size_t chunked(const conv_shape *s, const conv_form *best, conv_form *out, size_t cap)
{
    size_t n = 0;
    const int taps = s->kh * s->kw;
    for (int terms = 512; terms >= 256 && n < cap; terms /= 2) {
        conv_form f = *best;
        f.p.vec.kchunk = terms / taps > 0 ? terms / taps : 1;
        int chunks = chunks_of(s, f.p.vec.kchunk);
        if (chunks >= 2 && chunks + 1 <= OP_MAX_LAUNCHES) out[n++] = f;
    }
    return n;
}

static int direct_at(const irv2_context *ctx, const conv_shape *s, conv_vec_params t)
{
    (void)ctx, (void)s; /* any shape, any single-vector tiling */
    return conv_vec_single(t);
}

static int phase_at(const irv2_context *ctx, const conv_shape *s, conv_vec_params t)
{
    (void)ctx;
    return conv_vec_single(t) && phase_scratch(s) != 0;
}

/* Fast tuning leaves the direct forms out: in a full tuning on an AVX2 machine they won 6 of
 * 120 decisions (at any tiling), the parity planes none. */
static int never_fast(const irv2_context *ctx, const conv_form *f)
{
    (void)ctx, (void)f;
    return 0;
}

static size_t phase_form_scratch(const conv_shape *s, const conv_form *f)
{
    (void)f;
    return phase_scratch(s);
}

static int direct_default(const irv2_context *ctx, const conv_shape *s, conv_form *f)
{
    (void)s; /* the last resort: any shape */
    const conv_vec_params t = conv_default_tiling(ctx);
    *f = conv_vec_form(CONV_DIRECT, t.vw, t.tm, 0);
    return 1;
}

const conv_family conv_direct_row = {
    .name = "direct", .takes_rider = 1, .default_rank = 4, .offered = conv_vec_offered,
    .at_tiling = direct_at,
    .fast = never_fast, .refinements = chunked, .guard = conv_vec_guard,
    .guard_bound = conv_vec_guard_bound, .packed_count = conv_vec_packed_count,
    .pack = conv_vec_pack, .launches = direct_launches, .default_form = direct_default,
    .format = conv_vec_format, .parse = conv_vec_parse,
};

const conv_family conv_phase_row = {
    .name = "phase", .takes_rider = 1, .offered = conv_vec_offered, .at_tiling = phase_at,
    .fast = never_fast,
    .refinements = chunked, .scratch = phase_form_scratch,
    .guard = conv_vec_guard, .guard_bound = conv_vec_guard_bound,
    .packed_count = conv_vec_packed_count, .pack = conv_vec_pack, .launches = phase_launches,
    .format = conv_vec_format, .parse = conv_vec_parse,
};
