/* conv_winograd_1d.c: stride-1 convs by Winograd's F(m, r) along the kernel's long axis, the
 * transforms fused into each work-group's panel GEMM (cl/winograd_1d.c): the shapes it takes,
 * G applied to the weights, and the one launch. */
#include "ops/conv_family.h"

#include <stdio.h>

#define MAX_T 8 /* transform points: F(2, 7)'s */

/* The axis the transform runs along (0: down the columns, 1: along the rows), or -1 where
 * the form does not exist: stride 1, with 3 taps down the columns (3x3, 3x1: F(4, 3)) or 7
 * (7x1: F(2, 7)), or 7 along the rows of a 1x7 kernel. */
static int axis_of(const conv_shape *s)
{
    if (s->stride != 1 || s->ho <= 0 || s->wo <= 0) return -1;
    if ((s->kh == 3 && (s->kw == 3 || s->kw == 1)) || (s->kh == 7 && s->kw == 1)) return 0;
    if (s->kh == 1 && s->kw == 7) return 1;
    return -1;
}

static int taps_along(const conv_shape *s) { return axis_of(s) ? s->kw : s->kh; }
static int taps_across(const conv_shape *s) { return axis_of(s) ? s->kh : s->kw; }
static int outputs_per_tile(const conv_shape *s) { return taps_along(s) == 3 ? 4 : 2; }
static int points(const conv_shape *s) { return outputs_per_tile(s) + taps_along(s) - 1; }

/* G for F(4, 3) (Lavin and Gray's) and F(2, 7) (Toom-Cook at 0, 1, -1, 2, -2, 1/2, -1/2 and
 * infinity), each row scaled by the inverse of its B^T row's scale in cl/winograd_1d.cl. */
static const double g43[6][3] = {{1.0 / 4, 0, 0},
                                 {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                 {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                 {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                 {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                 {0, 0, 1}};
static const double g27[8][7] = {
    {-1.0 / 4, 0, 0, 0, 0, 0, 0},
    {-1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18},
    {-1.0 / 18, 1.0 / 18, -1.0 / 18, 1.0 / 18, -1.0 / 18, 1.0 / 18, -1.0 / 18},
    {1.0 / 360, 1.0 / 180, 1.0 / 90, 1.0 / 45, 2.0 / 45, 4.0 / 45, 8.0 / 45},
    {1.0 / 360, -1.0 / 180, 1.0 / 90, -1.0 / 45, 2.0 / 45, -4.0 / 45, 8.0 / 45},
    {16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45, 1.0 / 45, 1.0 / 90, 1.0 / 180},
    {16.0 / 45, -8.0 / 45, 4.0 / 45, -2.0 / 45, 1.0 / 45, -1.0 / 90, 1.0 / 180},
    {0, 0, 0, 0, 0, 0, 1.0 / 4}};

/* G's entry (i, k) for the shape's transform. */
static double g_at(const conv_shape *s, int i, int k)
{
    return taps_along(s) == 3 ? g43[i][k] : g27[i][k];
}

/* The local panel: points x taps across x cin rows of vw floats (a pair's two panels at vw
 * CONV_PAIR_LANES). */
static size_t panel_bytes(const conv_shape *s, int vw)
{
    return (size_t)points(s) * taps_across(s) * s->cin * vw * sizeof(float);
}

static int winograd_1d_at(const irv2_context *ctx, const conv_shape *s, conv_vec_params t)
{
    if (axis_of(s) < 0) return 0;
    return (cl_ulong)panel_bytes(s, t.vw) <= ctx->profile.local_mem;
}

static size_t winograd_1d_packed_count(const conv_shape *s, const conv_form *f)
{
    return (size_t)conv_channel_tiles(s, f->p.vec.tm) * f->p.vec.tm * points(s) *
           taps_across(s) * s->cin;
}

/* [ceil(cout/tm)][T][taps across][cin][tm]: U_i = sum_k G[i][k] g(k) for the taps g(k) along
 * the axis at each tap across it, zero rows past cout. */
static void winograd_1d_pack(const conv_shape *s, const conv_form *f, const float *w,
                             float *packed)
{
    const int tm = f->p.vec.tm, t = points(s), ko = taps_across(s), r = taps_along(s);
    const int along_x = axis_of(s) == 1;
    size_t n = 0;
    for (int mt = 0; mt < conv_channel_tiles(s, tm); mt++)
        for (int i = 0; i < t; i++)
            for (int k = 0; k < ko; k++)
                for (int c = 0; c < s->cin; c++)
                    for (int m = 0; m < tm; m++) {
                        const int co = mt * tm + m;
                        double u = 0.0;
                        for (int a = 0; co < s->cout && a < r; a++) {
                            const int kh = along_x ? k : a, kw = along_x ? a : k;
                            u += g_at(s, i, a) *
                                 w[(((size_t)co * s->cin + c) * s->kh + kh) * s->kw + kw];
                        }
                        packed[n++] = (float)u;
                    }
}

/* The virtual outputs: tiles of outputs_per_tile along the axis. */
static size_t virtual_positions(const conv_shape *s)
{
    const int m = outputs_per_tile(s), along_x = axis_of(s) == 1;
    const size_t hv = along_x ? (size_t)s->ho : (size_t)(s->ho + m - 1) / m;
    const size_t wv = along_x ? (size_t)(s->wo + m - 1) / m : (size_t)s->wo;
    return (size_t)s->n * hv * wv;
}

static irv2_status winograd_1d_launches(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const out_args *o = &j->o;
    const conv_vec_params *t = &j->f->p.vec;
    irv2_status st = conv_vec_check(j, 1);
    if (st != IRV2_OK) return st;
    if (axis_of(s) < 0)
        return irv2_fail(IRV2_ERR_SHAPE, "no 1-D Winograd form for k%dx%d s%d", s->kh, s->kw,
                         s->stride);
    if ((cl_ulong)panel_bytes(s, t->vw) > j->ctx->profile.local_mem)
        return irv2_fail(IRV2_ERR_SHAPE, "k%dx%d x %d channels exceeds local memory", s->kh,
                         s->kw, s->cin);
    cl_int in_cstride = s->n * s->h * s->w, block = conv_weight_block(s, t->tm);
    cl_uint in_off = (cl_uint)b->in.off;
    char axis[16], opts[256];
    snprintf(axis, sizeof axis, " -DAXIS=%d", axis_of(s));
    conv_vec_options(j, OPT_TM | OPT_GEOMETRY | OPT_EPILOGUE, axis, opts, sizeof opts);
    const kernel_arg args[] = {
        ARG(b->in.mem),   ARG(in_off),     ARG(b->weights), ARG(b->bias),  ARG(j->scale),
        ARG(j->shift),    ARG(o->mem),     ARG(o->off0),    ARG(o->seg1),  ARG(o->off1),
        ARG(o->seg2),     ARG(o->off2),    ARG(s->cin),     ARG(s->cout),  ARG(s->n),
        ARG(s->h),        ARG(s->w),       ARG(s->ho),      ARG(s->wo),    ARG(in_cstride),
        ARG(j->residual), ARG(block),      {panel_bytes(s, t->vw), NULL}};
    op_launch *op = &ops[*n];
    st = op_kernel(j->ctx, "winograd_1d.cl", opts, "conv_winograd_1d",
                   sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 2;
    op_local_one(op);
    op->gws[0] = (virtual_positions(s) + t->vw - 1) / t->vw;
    op->gws[1] = ((size_t)conv_channel_tiles(s, t->tm) + block - 1) / block;
    (*n)++;
    return IRV2_OK;
}

/* Its parameters are the vector families' (vw, tm; kchunk 0), pairs included; fast tuning
 * times it at the tilings conv_fast_tiling names. The guard: the fused form's at the same lanes (rows read
 * VW floats at stride 1 down the columns, 2*VW at stride 2 along the rows). */
const conv_family conv_winograd_1d_row = {
    .name = "winograd1d", .excluded_by = IRV2_EXCLUDE_WINOGRAD, .offered = conv_vec_offered,
    .at_tiling = winograd_1d_at, .fast = conv_fast_tiling, .guard = conv_vec_guard,
    .guard_bound = conv_vec_guard_bound, .packed_count = winograd_1d_packed_count,
    .pack = winograd_1d_pack, .launches = winograd_1d_launches, .format = conv_vec_format,
    .parse = conv_vec_parse,
};
