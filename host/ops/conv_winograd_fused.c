/* conv_winograd_fused.c: stride-1 convs by Winograd's F(m, r) with the transforms inside each
 * work-group's panel GEMM (cl/winograd_fused.cl), two rows: winograd1d along the kernel's long
 * axis (3x3, 3x1 and 7x1 down the columns, 1x3 and 1x7 along the rows), winograd2d on both
 * axes of a 3x3 kernel. The shapes each takes, G applied to the weights, and the one launch. */
#include "ops/conv_family.h"

#include <stdio.h>

/* The axes transformed (1: down the columns, 2: along the rows, 3: both), 0 where the family
 * has no form for the shape: stride 1 with 3 or 7 taps down the columns (a 3x3 kernel's
 * transformed down them) or along the rows of a 1x3 or 1x7 kernel. */
static int axes_1d(const conv_shape *s)
{
    if (s->stride != 1 || s->ho <= 0 || s->wo <= 0) return 0;
    if ((s->kh == 3 && (s->kw == 3 || s->kw == 1)) || (s->kh == 7 && s->kw == 1)) return 1;
    if (s->kh == 1 && (s->kw == 7 || s->kw == 3)) return 2;
    return 0;
}

static int axes_2d(const conv_shape *s)
{
    return s->stride == 1 && s->kh == 3 && s->kw == 3 && s->ho > 0 && s->wo > 0 ? 3 : 0;
}

static int axes_of(const conv_shape *s, const conv_form *f)
{
    return f->family == CONV_WINOGRAD_2D ? axes_2d(s) : axes_1d(s);
}

/* The form is F(6, 3) down the columns (winograd1d with kchunk 6; 0 is F(4, 3) or F(2, 7)). */
static int six_of(const conv_form *f)
{
    return f->family == CONV_WINOGRAD_1D && f->p.vec.kchunk == 6;
}

/* Outputs per tile (m) and transform points (m + r - 1) for r taps. */
static int outputs_for(int r, int six) { return r == 3 ? (six ? 6 : 4) : 2; }
static int points_for(int r, int six) { return outputs_for(r, six) + r - 1; }

/* Taps of the packed kernel down the columns and along the rows (points on a transformed
 * axis), and the GEMMs (points) and taps each GEMM reduces over. */
typedef struct wino_geometry {
    int axes, ty, tx, gemms, taps, my, mx;
} wino_geometry;

static wino_geometry geometry_of(const conv_shape *s, const conv_form *f)
{
    const int axes = axes_of(s, f), six = six_of(f);
    wino_geometry g = {axes, s->kh, s->kw, 1, 1, 1, 1};
    if (axes & 1) g.ty = points_for(s->kh, six), g.my = outputs_for(s->kh, six);
    if (axes & 2) g.tx = points_for(s->kw, 0), g.mx = outputs_for(s->kw, 0);
    g.gemms = (axes & 1 ? g.ty : 1) * (axes & 2 ? g.tx : 1);
    g.taps = g.ty * g.tx / g.gemms;
    return g;
}

/* G for F(4, 3) (Lavin and Gray's; ops/conv_winograd.c applies it too) and F(2, 7)
 * (Toom-Cook at 0, 1, -1, 2, -2, 1/2, -1/2 and infinity), each row scaled by the inverse of
 * its B^T row's scale in cl/winograd_fused.cl. */
const double conv_winograd_g43[6][3] = {{1.0 / 4, 0, 0},
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
/* F(6, 3) at the same points as F(2, 7) (so with its B^T): g27's first three columns but for
 * the point at infinity. */
static const double g63[8][3] = {
    {-1.0 / 4, 0, 0},          {-1.0 / 18, -1.0 / 18, -1.0 / 18},
    {-1.0 / 18, 1.0 / 18, -1.0 / 18}, {1.0 / 360, 1.0 / 180, 1.0 / 90},
    {1.0 / 360, -1.0 / 180, 1.0 / 90}, {16.0 / 45, 8.0 / 45, 4.0 / 45},
    {16.0 / 45, -8.0 / 45, 4.0 / 45},  {0, 0, 1.0 / 4}};

/* The packed kernel's tap t along an axis of r taps from tap a of the conv's: G's entry where
 * the axis is transformed (six: F(6, 3)), else the identity. */
static double axis_weight(int transformed, int r, int six, int t, int a)
{
    if (!transformed) return t == a;
    return r == 3 ? (six ? g63[t][a] : conv_winograd_g43[t][a]) : g27[t][a];
}

/* The local panel: ty x tx taps x cin rows of vw floats (a pair's two panels at vw
 * CONV_PAIR_LANES). */
static size_t panel_bytes(const conv_shape *s, const wino_geometry *g, int vw)
{
    return (size_t)g->ty * g->tx * s->cin * vw * sizeof(float);
}

static int fits(const irv2_context *ctx, const conv_shape *s, conv_family_id family,
                conv_vec_params t)
{
    const conv_form f = conv_vec_form(family, t.vw, t.tm, 0);
    const wino_geometry g = geometry_of(s, &f);
    return g.axes && (cl_ulong)panel_bytes(s, &g, t.vw) <= ctx->profile.local_mem;
}

static int winograd_1d_at(const irv2_context *ctx, const conv_shape *s, conv_vec_params t)
{
    return fits(ctx, s, CONV_WINOGRAD_1D, t);
}

/* Up to 12 channels per work-item: its 36 GEMMs' sums wait in private memory for A^T. */
static int winograd_2d_at(const irv2_context *ctx, const conv_shape *s, conv_vec_params t)
{
    return t.tm <= 12 && fits(ctx, s, CONV_WINOGRAD_2D, t);
}

static size_t packed_count(const conv_shape *s, const conv_form *f)
{
    const wino_geometry g = geometry_of(s, f);
    return (size_t)conv_channel_tiles(s, f->p.vec.tm) * f->p.vec.tm * g.ty * g.tx * s->cin;
}

/* U of tap (ty, tx) for output channel co and input channel c. */
static double transformed_weight(const conv_shape *s, const wino_geometry *g, const float *w,
                                 int co, int c, int ty, int tx)
{
    const int six = g->my == 6;
    double u = 0.0;
    for (int a = 0; a < s->kh; a++)
        for (int b = 0; b < s->kw; b++)
            u += axis_weight(g->axes & 1, s->kh, six, ty, a) *
                 axis_weight(g->axes & 2, s->kw, 0, tx, b) *
                 w[(((size_t)co * s->cin + c) * s->kh + a) * s->kw + b];
    return u;
}

/* [ceil(cout/tm)][gemms][taps][cin][tm] (cl/winograd_fused.cl panel_row), zero rows past
 * cout. */
static void pack(const conv_shape *s, const conv_form *f, const float *w, float *packed)
{
    const int tm = f->p.vec.tm;
    const wino_geometry g = geometry_of(s, f);
    const int gx = g.axes & 2 ? g.tx : 1, per_row = g.tx / gx;
    for (int mt = 0; mt < conv_channel_tiles(s, tm); mt++)
        for (int ty = 0; ty < g.ty; ty++)
            for (int tx = 0; tx < g.tx; tx++) {
                const int gemm = (g.axes & 1 ? ty : 0) * gx + (g.axes & 2 ? tx : 0);
                const int tap = (g.axes & 1 ? 0 : ty) * per_row + (g.axes & 2 ? 0 : tx);
                float *dst = packed + (((size_t)mt * g.gemms + gemm) * g.taps + tap) * s->cin * tm;
                for (int c = 0; c < s->cin; c++)
                    for (int m = 0; m < tm; m++) {
                        const int co = mt * tm + m;
                        dst[c * tm + m] =
                            co < s->cout ? (float)transformed_weight(s, &g, w, co, c, ty, tx) : 0;
                    }
            }
}

static irv2_status launches(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    irv2_status st = conv_vec_check(j, 1);
    if (st != IRV2_OK) return st;
    const int axes = axes_of(s, j->f), m = j->f->p.vec.kchunk;
    if (!axes)
        return irv2_fail(IRV2_ERR_SHAPE, "no %s form for k%dx%d s%d",
                         conv_family_name(j->f->family), s->kh, s->kw, s->stride);
    if (m != 0 && !(six_of(j->f) && axes == 1 && s->kh == 3))
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "no %s form with m %d for k%dx%d",
                         conv_family_name(j->f->family), m, s->kh, s->kw);
    const wino_geometry g = geometry_of(s, j->f);
    char extra[32];
    snprintf(extra, sizeof extra, " -DAXES=%d -DWM=%d", axes, axes & 1 ? g.my : g.mx);
    /* the virtual outputs: tiles of my x mx outputs */
    const size_t npos = (size_t)s->n * ((s->ho + g.my - 1) / g.my) * ((s->wo + g.mx - 1) / g.mx);
    st = conv_local_panel_op(j, "winograd_fused.cl", "conv_winograd_fused", extra,
                             panel_bytes(s, &g, j->f->p.vec.vw), npos, &ops[*n]);
    if (st == IRV2_OK) (*n)++;
    return st;
}

/* A 3-tap axis down the columns (3x3 and 3x1 kernels) also has F(6, 3): 8 products per 6
 * outputs instead of 6 per 4, from transforms with larger coefficients (its error bound is
 * in tests/test_kernels.c). */
static size_t six_refinement(const conv_shape *s, const conv_form *best, conv_form *out,
                             size_t cap)
{
    if (cap == 0 || axes_1d(s) != 1 || s->kh != 3) return 0;
    out[0] = *best;
    out[0].p.vec.kchunk = 6;
    return 1;
}

/* Their parameters are the vector families' (vw, tm; kchunk 0, or 6 for winograd1d's
 * F(6, 3)), pairs included; fast tuning times them at the tilings conv_fast_tiling names,
 * and F(6, 3) from the best winograd1d form. The guard: the fused form's at the same lanes
 * (rows read up to 4*VW floats along the rows, the stride's multiple of VW). */
const conv_family conv_winograd_1d_row = {
    .name = "winograd1d", .excluded_by = IRV2_EXCLUDE_WINOGRAD, .fast_refines = 1,
    .offered = conv_vec_offered, .at_tiling = winograd_1d_at, .fast = conv_fast_tiling,
    .refinements = six_refinement, .guard = conv_vec_guard,
    .guard_bound = conv_vec_guard_bound, .packed_count = packed_count, .pack = pack,
    .launches = launches, .format = conv_vec_format, .parse = conv_vec_parse,
};

const conv_family conv_winograd_2d_row = {
    .name = "winograd2d", .excluded_by = IRV2_EXCLUDE_WINOGRAD, .offered = conv_vec_offered,
    .at_tiling = winograd_2d_at, .fast = conv_fast_tiling, .guard = conv_vec_guard,
    .guard_bound = conv_vec_guard_bound, .packed_count = packed_count, .pack = pack,
    .launches = launches, .format = conv_vec_format, .parse = conv_vec_parse,
};
