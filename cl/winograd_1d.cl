/* winograd_1d.cl: stride-1 convolutions with Winograd's F(m, r) along one axis of the kernel,
 * the transforms fused into a panel GEMM: F(4, 3) down the columns of a 3x3 or 3x1 kernel
 * (6 products per 4 outputs and tap across the axis, where the taps give 12), F(2, 7) down a
 * 7x1 kernel or along a 1x7 one (8 per 2, where they give 14).
 *
 * The outputs are grouped in tiles of WM along the axis, and the conv runs as one over those
 * tiles ("virtual" outputs: ceil(Ho/WM) x Wo along y, Ho x ceil(Wo/WM) along x) with a kernel
 * of T = WM + R - 1 taps along the axis, stride WM there: each work-group packs its VW virtual
 * positions' T x KO taps into a local panel as conv_fused does (cl/im2col.h, SY and SX the
 * strides), applies B^T along the axis in place (V_i = sum_l BT[i][l] d_l, for each of the KO
 * taps across the axis and each input channel), then for each of its output-channel tiles runs
 * the T GEMMs M_i = U_i V_i (U_i = (G g)_i, the weights transformed on the host:
 * ops/conv_winograd_1d.c) over KO * Cin rows each, and stores Y_j = sum_i AT[j][i] M_i, j < WM,
 * through the epilogue at output (oy, ox) = (vy * WM + j, vx) along y or (vy, vx * WM + j)
 * along x. Nothing leaves the work-group between the input and the output.
 *
 * With PAIR, each work-item takes two neighbouring tiles of VW positions, the second panel
 * after the first, and each broadcast weight feeds two fmas (as in cl/conv_gemm.cl).
 *
 * Layout: activations [C][N][H][W]; weights [ceil(Cout/TM)][T][KO][Cin][TM]; the panel
 * P x [T][KO][Cin][VW] floats of local memory (P = 2 under PAIR, else 1). NDRange
 * (ceil(npos/(P*VW)), ceil(mtiles/mblock)) over the npos = N * virtual outputs, local (1,1).
 *
 * B^T, G and A^T: Toom-Cook at the points 0, 1, -1, 2, -2 (F(4, 3): Lavin and Gray's, as
 * cl/winograd.cl) and 0, 1, -1, 2, -2, 1/2, -1/2 (F(2, 7)), each with the point at infinity;
 * rows of B^T scaled to integers, G's rows by the inverse (ops/conv_winograd_1d.c).
 *
 * -D flags: VW, TM, PAIR; KH, KW, PH, PW; AXIS (0: down the columns, 1: along the rows); the
 * epilogue's RELU1, AFFINE, RELU2 (see net.h). WM follows from the kernel: 4 for 3 taps, 2 for
 * 7. */

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
#ifndef AXIS
#define AXIS 0
#endif
#ifndef PAIR
#define PAIR 0 // 1: two neighbouring tiles per work-item
#endif
#define P (PAIR ? 2 : 1)

#define R (AXIS ? KW : KH)  // taps along the axis
#define KO (AXIS ? KH : KW) // taps across it
#if R == 3
#define WM 4
#elif R == 7
#define WM 2
#else
#error "F(m, r) for r = 3 or 7 only"
#endif
#define T (WM + R - 1)
#define SH 1
#define SY (AXIS ? 1 : WM)
#define SX (AXIS ? WM : 1)

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
#else
__constant float BT[T][T] = {
    {-4, 0, 21, 0, -21, 0, 4, 0},  {0, 4, 4, -17, -17, 4, 4, 0},  {0, -4, 4, 17, -17, -4, 4, 0},
    {0, 2, 1, -10, -5, 8, 4, 0},   {0, -2, 1, 10, -5, -8, 4, 0},  {0, 4, 8, -5, -10, 1, 2, 0},
    {0, -4, 8, 5, -10, -1, 2, 0},  {0, -4, 0, 21, 0, -21, 0, 4}};
__constant float AT[WM][T] = {{1, 1, 1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0.5f, -0.5f, 1}};
#endif

DEFINE_PACK_TAP(pack_tap_local, __local)

/* out[i] = sum_l m[i][l] x[l] over the nonzero coefficients (the unrolled loops fold the
 * tables, so zeros cost nothing and ones no product). */
#define APPLY(out, mat, rows, x)                                                               \
    _Pragma("unroll") for (int i_ = 0; i_ < (rows); i_++)                                      \
    {                                                                                          \
        floatV s_ = (floatV)(0.0f);                                                            \
        _Pragma("unroll") for (int l_ = 0; l_ < T; l_++) if (mat[i_][l_] != 0.0f) s_ =         \
            fma((floatV)(mat[i_][l_]), (x)[l_], s_);                                           \
        (out)[i_] = s_;                                                                        \
    }

/* B^T along the axis, in place, for the panel's rows (KO * Cin of them per tap i). */
static void transform_input(__local float *panel, int rows)
{
    for (int r = 0; r < rows; r++) {
        floatV d[T], v[T];
        for (int i = 0; i < T; i++) d[i] = vloadV(0, panel + ((size_t)i * rows + r) * VW);
        APPLY(v, BT, T, d)
        for (int i = 0; i < T; i++) vstoreV(v[i], 0, panel + ((size_t)i * rows + r) * VW);
    }
}

/* Where output j of each lane's tile goes (-1: outside the output), and whether the lanes are
 * VW contiguous outputs (a vector store). */
typedef struct out_lanes {
    intV idx[WM];
    int whole[WM];
} out_lanes;

static out_lanes out_lanes_of(const tile_geometry *g, int nimg, int Ho, int Wo)
{
    out_lanes o;
    for (int j = 0; j < WM; j++) {
        const intV oy = AXIS ? g->oy : g->oy * WM + j, ox = AXIS ? g->ox * WM + j : g->ox;
        const intV ok = (g->n < nimg) & (oy < Ho) & (ox < Wo);
        o.idx[j] = select((intV)(-1), (g->n * Ho + oy) * Wo + ox, ok);
        o.whole[j] = !AXIS && g->lb >= VW && g->n0 < nimg && g->oy0 * WM + j < Ho &&
                     g->ox0 + VW <= Wo;
    }
    return o;
}

/* Output-channel tile mt: the T GEMMs over the transformed panel (panels, under PAIR), then
 * A^T and the epilogue on the way out (o: each panel's output lanes). */
static void tile_outputs(__local const float *panel, __global const float *wk, int rows,
                         int mt, const conv_dst *d, const out_lanes *o, int accumulate,
                         conv_epi e)
{
    floatV m[P][TM][T];
    for (int i = 0; i < T; i++) {
        floatV acc[TM], acc2[TM];
        for (int k = 0; k < TM; k++) acc[k] = acc2[k] = (floatV)(0.0f);
        __local const float *p = panel + (size_t)i * rows * VW, *p2 = p + (size_t)T * rows * VW;
        __global const float *w = wk + (size_t)i * rows * TM;
        for (int c = 0; c < rows; c++) {
            if (PAIR)
                fma_tile2(acc, acc2, w + c * TM, vloadV(0, p + c * VW), vloadV(0, p2 + c * VW));
            else
                fma_tile(acc, w + c * TM, vloadV(0, p + c * VW));
        }
        for (int k = 0; k < TM; k++) m[0][k][i] = acc[k], m[P - 1][k][i] = PAIR ? acc2[k] : acc[k];
    }
    for (int q = 0; q < P; q++)
        for (int k = 0; k < TM; k++) {
            const int co = mt * TM + k;
            if (co >= d->cout) break;
            floatV y[WM];
            APPLY(y, AT, WM, m[q][k])
            __global float *dst = d->out + out_start(d, co);
            for (int j = 0; j < WM; j++)
                store_tile(y[j], dst, o[q].idx[j], o[q].whole[j], co, accumulate, 1, e);
        }
}

__kernel void conv_winograd_1d(__global const float *in, uint in_off,
                               __global const float *weights, __global const float *bias,
                               __global const float *scale, __global const float *shift,
                               __global float *out, uint out_off, int seg1, uint off1, int seg2,
                               uint off2, int cin, int cout, int nimg, int H, int W, int Ho,
                               int Wo, int in_cstride, int accumulate, int mblock,
                               __local float *panel)
{
    const int hv = AXIS ? Ho : (Ho + WM - 1) / WM, wv = AXIS ? (Wo + WM - 1) / WM : Wo;
    const int p0 = get_global_id(0) * P * VW, rows = KO * cin;
    __global const float *src = in + in_off;
    out_lanes o[P];
    for (int q = 0; q < P; q++) { /* under PAIR the second panel follows the first */
        __local float *pq = panel + (size_t)q * T * rows * VW;
        const tile_geometry g = tile_geometry_of(p0 + q * VW, hv * wv, wv);
        for (int i = 0; i < T; i++)
            for (int k = 0; k < KO; k++) {
                const tap_source ts =
                    tap_source_of(src, &g, AXIS ? k : i, AXIS ? i : k, nimg, H, W, wv);
                pack_tap_local(pq + ((size_t)i * KO + k) * cin * VW, src, &ts, cin, in_cstride);
            }
        transform_input(pq, rows);
        o[q] = out_lanes_of(&g, nimg, Ho, Wo);
    }
    const int mt0 = get_global_id(1) * mblock, mt1 = min(mt0 + mblock, (cout + TM - 1) / TM);
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, nimg * Ho * Wo);
    const conv_epi e = {bias, scale, shift};
    for (int mt = mt0; mt < mt1; mt++)
        tile_outputs(panel, weights + (size_t)mt * T * rows * TM, rows, mt, &d, o, accumulate,
                     e);
}
