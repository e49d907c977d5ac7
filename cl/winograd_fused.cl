/* winograd_fused.cl: stride-1 convolutions by Winograd's F(m, r) with the transforms inside a
 * panel GEMM, along one axis of the kernel or both: F(4, 3) down the columns of a 3x3 or 3x1
 * kernel or along a 1x3 one (6 products per 4 outputs and tap across, where the taps give 12),
 * F(6, 3) down the columns (8 per 6, where they give 18),
 * F(2, 7) down a 7x1 kernel or along a 1x7 one (8 per 2, where they give 14), F(4x4, 3x3) on
 * both axes of a 3x3 kernel (36 per 4x4 outputs, where the taps give 144).
 *
 * The outputs are grouped in tiles of WMY x WMX (the transformed axes' m, 1 on the others),
 * and the conv runs as one over those tiles ("virtual" outputs, ceil(Ho/WMY) x
 * ceil(Wo/WMX)) with a kernel of TY x TX taps (m + r - 1 points on a transformed axis, the
 * kernel's taps on the other) at strides WMY, WMX. Each work-group packs its VW virtual
 * positions' taps into a local panel as conv_fused does (cl/im2col.h, SY and SX the strides),
 * applies B^T along the transformed axes in place, then for each of its output-channel tiles
 * runs one GEMM per transform point, M_g = U_g V_g (U = the weights transformed by G on the
 * host: ops/conv_winograd_fused.c) over the remaining taps x Cin rows, and applies A^T and
 * the epilogue as the results leave the registers. Nothing leaves the work-group between the
 * input and the output. With PAIR, each work-item takes two neighbouring tiles of VW
 * positions, the second panel after the first, and each broadcast weight feeds two fmas (as
 * in cl/conv_gemm.cl).
 *
 * Layout: activations [C][N][H][W]; weights [ceil(Cout/TM)][NG][RT][Cin][TM] for the NG
 * transform points (GEMMs) and RT taps in each GEMM's reduction; the panel P x
 * [NG][RT][Cin][VW] floats of local memory (P = 2 under PAIR, else 1). NDRange
 * (ceil(npos/(P*VW)), ceil(mtiles/mblock)) over the npos = N * virtual outputs, local (1,1).
 *
 * B^T, G and A^T: Toom-Cook at the points 0, 1, -1, 2, -2 (F(4, 3): Lavin and Gray's, as
 * cl/winograd.cl) and 0, 1, -1, 2, -2, 1/2, -1/2 (F(2, 7) and F(6, 3)), each with the point at
 * infinity; rows of B^T scaled to integers, G's rows by the inverse.
 *
 * -D flags: VW, TM, PAIR; KH, KW, PH, PW; AXES (1: down the columns, 2: along the rows, 3:
 * both, 3x3 only); WM, m (default 4 for 3 taps, 2 for 7; 6 for 3 taps down the columns);
 * the epilogue's RELU1, AFFINE, RELU2 (see net.h). */

#ifndef KH
#define KH 3
#endif
#ifndef KW
#define KW 3
#endif
#ifndef PH
#define PH 1
#endif
#ifndef PW
#define PW 1
#endif
#ifndef AXES
#define AXES 1
#endif
#ifndef PAIR
#define PAIR 0 // 1: two neighbouring tiles per work-item
#endif
#define P (PAIR ? 2 : 1)

#define FY (AXES & 1)        // transformed down the columns
#define FX ((AXES >> 1) & 1) // transformed along the rows
#define R (FY ? KH : KW)     // taps of a transformed axis (both 3 when both are)
#ifndef WM                   // outputs per tile on a transformed axis: 4 or 6 for 3 taps, 2 for 7
#define WM (R == 3 ? 4 : 2)
#endif
#if !((R == 3 && WM == 4) || (R == 3 && WM == 6 && AXES == 1) || (R == 7 && WM == 2))
#error "F(4, 3), F(6, 3) down the columns and F(2, 7) only"
#endif
#if AXES == 3 && (KH != 3 || KW != 3)
#error "F(4x4, 3x3) only on both axes"
#endif
#define T (WM + R - 1) // transform points
#define WMY (FY ? WM : 1)
#define WMX (FX ? WM : 1)
#define TY (FY ? T : KH) // taps down the columns
#define TX (FX ? T : KW) // and along the rows
#define GY (FY ? T : 1)  // GEMMs per column tap group
#define GX (FX ? T : 1)
#define NG (GY * GX)           // GEMMs
#define RT (TY / GY * (TX / GX)) // taps in each GEMM's reduction
#define SH 1
#define SY WMY
#define SX WMX

#include "lanes.h"
#include "epilogue.h"
#include "conv_out.h"
#include "conv_common.h"
#include "im2col.h"

#if WM == 4
__constant float BT[T][T] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                             {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
__constant float AT[WM][T] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
#else /* the same 8 points for F(2, 7) and F(6, 3), so the same B^T */
__constant float BT[T][T] = {
    {-4, 0, 21, 0, -21, 0, 4, 0},  {0, 4, 4, -17, -17, 4, 4, 0},  {0, -4, 4, 17, -17, -4, 4, 0},
    {0, 2, 1, -10, -5, 8, 4, 0},   {0, -2, 1, 10, -5, -8, 4, 0},  {0, 4, 8, -5, -10, 1, 2, 0},
    {0, -4, 8, 5, -10, -1, 2, 0},  {0, -4, 0, 21, 0, -21, 0, 4}};
#if WM == 2
__constant float AT[WM][T] = {{1, 1, 1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0.5f, -0.5f, 1}};
#else
__constant float AT[WM][T] = {{1, 1, 1, 1, 1, 1, 1, 0},
                              {0, 1, -1, 2, -2, 0.5f, -0.5f, 0},
                              {0, 1, 1, 4, 4, 0.25f, 0.25f, 0},
                              {0, 1, -1, 8, -8, 0.125f, -0.125f, 0},
                              {0, 1, 1, 16, 16, 0.0625f, 0.0625f, 0},
                              {0, 1, -1, 32, -32, 0.03125f, -0.03125f, 1}};
#endif
#endif

DEFINE_PACK_TAP(pack_tap_local, __local)

/* out[i] = sum_l mat[i][l] x[l], l < T, over the nonzero coefficients (the unrolled loops fold
 * the tables, so zeros cost nothing and ones no product). */
#define APPLY(out, mat, rows, x)                                                               \
    _Pragma("unroll") for (int i_ = 0; i_ < (rows); i_++)                                      \
    {                                                                                          \
        floatV s_ = (floatV)(0.0f);                                                            \
        _Pragma("unroll") for (int l_ = 0; l_ < T; l_++) if (mat[i_][l_] != 0.0f) s_ =         \
            fma((floatV)(mat[i_][l_]), (x)[l_], s_);                                           \
        (out)[i_] = s_;                                                                        \
    }

/* The panel row of tap (ty, tx): its GEMM's rows first, then the tap within them. */
static int panel_row(int ty, int tx)
{
    const int g = (FY ? ty : 0) * GX + (FX ? tx : 0);
    const int r = (FY ? 0 : ty) * (TX / GX) + (FX ? 0 : tx);
    return g * RT + r;
}

/* B^T along one axis (x: along the rows), in place, for every input channel. */
static void transform_axis(__local float *panel, int cin, int x)
{
    for (int o = 0; o < (x ? TY : TX); o++)
        for (int c = 0; c < cin; c++) {
            floatV d[T], v[T];
            for (int i = 0; i < T; i++)
                d[i] = vloadV(0, panel + ((size_t)panel_row(x ? o : i, x ? i : o) * cin + c) * VW);
            APPLY(v, BT, T, d)
            for (int i = 0; i < T; i++)
                vstoreV(v[i], 0, panel + ((size_t)panel_row(x ? o : i, x ? i : o) * cin + c) * VW);
        }
}

/* Where output (jy, jx) of each lane's tile goes (-1: outside the output), and whether the
 * tile's rows run whole: its lanes in one virtual row of the output, every output inside it,
 * so each output row's WMX vectors interleave into WMX contiguous vector stores. */
typedef struct out_lanes {
    intV idx[WMY][WMX];
    int run[WMY];
} out_lanes;

static out_lanes out_lanes_of(const tile_geometry *g, int nimg, int Ho, int Wo)
{
    out_lanes o;
    for (int jy = 0; jy < WMY; jy++) {
        for (int jx = 0; jx < WMX; jx++) {
            const intV oy = g->oy * WMY + jy, ox = g->ox * WMX + jx;
            const intV ok = (g->n < nimg) & (oy < Ho) & (ox < Wo);
            o.idx[jy][jx] = select((intV)(-1), (g->n * Ho + oy) * Wo + ox, ok);
        }
        o.run[jy] = g->lb >= VW && g->n0 < nimg && g->oy0 * WMY + jy < Ho &&
                    (g->ox0 + VW) * WMX <= Wo;
    }
    return o;
}

/* The WMX vectors y (lane l: outputs l*WMX + jx) as WMX vectors of contiguous outputs z. */
static void interleave(const floatV *y, floatV *z)
{
#if WMX == 1
    z[0] = y[0];
#elif WMX == 2 && VW == 8
    z[0] = (floatV)(y[0].s0, y[1].s0, y[0].s1, y[1].s1, y[0].s2, y[1].s2, y[0].s3, y[1].s3);
    z[1] = (floatV)(y[0].s4, y[1].s4, y[0].s5, y[1].s5, y[0].s6, y[1].s6, y[0].s7, y[1].s7);
#elif WMX == 2
    z[0] = (floatV)(y[0].s0, y[1].s0, y[0].s1, y[1].s1, y[0].s2, y[1].s2, y[0].s3, y[1].s3,
                    y[0].s4, y[1].s4, y[0].s5, y[1].s5, y[0].s6, y[1].s6, y[0].s7, y[1].s7);
    z[1] = (floatV)(y[0].s8, y[1].s8, y[0].s9, y[1].s9, y[0].sa, y[1].sa, y[0].sb, y[1].sb,
                    y[0].sc, y[1].sc, y[0].sd, y[1].sd, y[0].se, y[1].se, y[0].sf, y[1].sf);
#elif VW == 8
#define Z4(a, b) (y[0].a, y[1].a, y[2].a, y[3].a, y[0].b, y[1].b, y[2].b, y[3].b)
    z[0] = (floatV)Z4(s0, s1), z[1] = (floatV)Z4(s2, s3);
    z[2] = (floatV)Z4(s4, s5), z[3] = (floatV)Z4(s6, s7);
#undef Z4
#else
#define Z4(a, b, c, d)                                                                         \
    (y[0].a, y[1].a, y[2].a, y[3].a, y[0].b, y[1].b, y[2].b, y[3].b, y[0].c, y[1].c, y[2].c,   \
     y[3].c, y[0].d, y[1].d, y[2].d, y[3].d)
    z[0] = (floatV)Z4(s0, s1, s2, s3), z[1] = (floatV)Z4(s4, s5, s6, s7);
    z[2] = (floatV)Z4(s8, s9, sa, sb), z[3] = (floatV)Z4(sc, sd, se, sf);
#undef Z4
#endif
}

/* A^T along the transformed axes of one channel's NG GEMM results m, then the epilogue and
 * the stores. */
static void store_outputs(const floatV *m, __global float *dst, const out_lanes *o, int co,
                          int accumulate, conv_epi e)
{
    floatV t[GY][WMX], y[WMY][WMX];
    for (int gy = 0; gy < GY; gy++) {
        if (FX) {
            APPLY(t[gy], AT, WMX, m + gy * GX)
        } else {
            t[gy][0] = m[gy];
        }
    }
    for (int jx = 0; jx < WMX; jx++) {
        floatV col[GY], out[WMY];
        for (int gy = 0; gy < GY; gy++) col[gy] = t[gy][jx];
        if (FY) {
            APPLY(out, AT, WMY, col)
        } else {
            out[0] = col[0];
        }
        for (int jy = 0; jy < WMY; jy++) y[jy][jx] = out[jy];
    }
    for (int jy = 0; jy < WMY; jy++) {
        if (WMX == 1 || o->run[jy]) { /* contiguous: whole vectors */
            floatV z[WMX];
            interleave(y[jy], z);
            const intV base = (intV)(o->idx[jy][0].s0) + LANES;
            for (int q = 0; q < WMX; q++)
                store_tile(z[q], dst, WMX == 1 ? o->idx[jy][0] : base + q * VW,
                           WMX == 1 ? o->run[jy] : 1, co, accumulate, 1, e);
            continue;
        }
        for (int jx = 0; jx < WMX; jx++)
            store_tile(y[jy][jx], dst, o->idx[jy][jx], 0, co, accumulate, 1, e);
    }
}

/* Output-channel tile mt: the NG GEMMs over the transformed panel (panels, under PAIR), then
 * the outputs (o: each panel's output lanes). */
static void tile_outputs(__local const float *panel, __global const float *wk, int rows,
                         int mt, const conv_dst *d, const out_lanes *o, int accumulate,
                         conv_epi e)
{
    floatV m[P][TM][NG];
    for (int g = 0; g < NG; g++) {
        floatV acc[TM], acc2[TM];
        for (int k = 0; k < TM; k++) acc[k] = acc2[k] = (floatV)(0.0f);
        __local const float *p = panel + (size_t)g * rows * VW, *p2 = p + (size_t)NG * rows * VW;
        __global const float *w = wk + (size_t)g * rows * TM;
        for (int c = 0; c < rows; c++) {
            if (PAIR)
                fma_tile2(acc, acc2, w + c * TM, vloadV(0, p + c * VW), vloadV(0, p2 + c * VW));
            else
                fma_tile(acc, w + c * TM, vloadV(0, p + c * VW));
        }
        for (int k = 0; k < TM; k++) m[0][k][g] = acc[k], m[P - 1][k][g] = PAIR ? acc2[k] : acc[k];
    }
    for (int q = 0; q < P; q++)
        for (int k = 0; k < TM; k++) {
            const int co = mt * TM + k;
            if (co >= d->cout) break;
            store_outputs(m[q][k], d->out + out_start(d, co), &o[q], co, accumulate, e);
        }
}

__kernel void conv_winograd_fused(__global const float *in, uint in_off,
                                  __global const float *weights, __global const float *bias,
                                  __global const float *scale, __global const float *shift,
                                  __global float *out, uint out_off, int seg1, uint off1,
                                  int seg2, uint off2, int cin, int cout, int nimg, int H,
                                  int W, int Ho, int Wo, int in_cstride, int accumulate,
                                  int mblock, __local float *panel)
{
    const int hv = (Ho + WMY - 1) / WMY, wv = (Wo + WMX - 1) / WMX;
    const int p0 = get_global_id(0) * P * VW, rows = RT * cin;
    __global const float *src = in + in_off;
    out_lanes o[P];
    for (int q = 0; q < P; q++) { /* under PAIR the second panel follows the first */
        __local float *pq = panel + (size_t)q * NG * rows * VW;
        const tile_geometry g = tile_geometry_of(p0 + q * VW, hv * wv, wv);
        for (int ty = 0; ty < TY; ty++)
            for (int tx = 0; tx < TX; tx++) {
                const tap_source ts = tap_source_of(src, &g, ty, tx, nimg, H, W, wv);
                pack_tap_local(pq + (size_t)panel_row(ty, tx) * cin * VW, src, &ts, cin,
                               in_cstride);
            }
        if (FY) transform_axis(pq, cin, 0);
        if (FX) transform_axis(pq, cin, 1);
        o[q] = out_lanes_of(&g, nimg, Ho, Wo);
    }
    const int mt0 = get_global_id(1) * mblock, mt1 = min(mt0 + mblock, (cout + TM - 1) / TM);
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, nimg * Ho * Wo);
    const conv_epi e = {bias, scale, shift};
    for (int mt = mt0; mt < mt1; mt++)
        tile_outputs(panel, weights + (size_t)mt * NG * rows * TM, rows, mt, &d, o, accumulate,
                     e);
}
