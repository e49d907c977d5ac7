/* conv_gemm.cl: a convolution as one GEMM over input panels, the taps folded into the
 * reduction, with a fused epilogue.
 *
 * Layout: activations [C][N][H][W]; weights packed as [ceil(Cout/TM)][KH][KW][Cin][TM] (as for
 * cl/conv_direct.cl); panels [ceil(npos/VW)][KH*KW*Cin][VW] over the npos = N*H_out*W_out
 * output positions, batch folded in (cl/pack.cl: pack_panels for 1x1, pack_im2col otherwise).
 * Each work-item computes TM output channels x VW positions of one panel: per panel row one
 * vector load, then TM fmas with broadcast weights. With PAIR, the work-items take two
 * neighbouring panels each (2*VW positions), so each broadcast weight feeds two fmas:
 * per panel row 2 vector loads and TM broadcasts for 2*TM fmas, where one panel takes TM + 1
 * loads for TM fmas (a CPU that loads two vectors per cycle and runs two fmas then waits on
 * the loads). The panels are packed at VW, an even number of them (conv_fused: both in its
 * local panel, the second after the first).
 *
 * Kernels:
 *   conv_panels  over panels packed in scratch. Needs VW, TM, PAIR only. NDRange
 *                (MB, ceil(npos/(VW*P)), ceil(mtiles/MB)) with P = 2 under PAIR, else 1,
 *                local (1,1,1): output-channel tile
 *                get_global_id(2) * MB + get_global_id(0); work-groups run dimension 0 first,
 *                so a block of MB weight tiles stays in cache while every panel passes it, and
 *                each panel serves the MB tiles from L1.
 *   conv_fused   each work-group packs QP tiles' panels (as pack_im2col does, 1x1 included;
 *                with QP > 1 a 1x1 stride-1 conv's channel by channel, each channel's
 *                QP*P*VW positions one contiguous run) into local memory, then runs `mblock`
 *                output-channel tiles over each: no scratch, and the panels are written and
 *                read in cache. NDRange (ceil(npos/(VW*P*QP)), ceil(mtiles/mblock)), local
 *                (1,1); panels: QP*P*KH*KW*Cin*VW floats of local memory (P = 2 under PAIR,
 *                else 1).
 * Output parts: see cl/conv_out.h. `accumulate` adds the value already in the output (an
 * in-place residual sum); the epilogue always applies.
 *
 * -D flags (defaults and meanings below; VW's in lanes.h, TM's in conv_common.h): VW, TM;
 * PAIR; QP, KH, KW, SH, PH, PW (conv_fused); the epilogue's RELU1, AFFINE, RELU2
 * (optional; see net.h).
 */

#ifndef PAIR
#define PAIR 0 // 1: two neighbouring panels per work-item
#endif

#ifndef QP
#define QP 1 // panels (pairs under PAIR) per work-group (conv_fused)
#endif

#ifndef KH
#define KH 1 // kernel height (conv_fused)
#endif
#ifndef KW
#define KW 1 // kernel width (conv_fused)
#endif
#ifndef SH
#define SH 1 // stride, 1 or 2 (conv_fused)
#endif
#ifndef PH
#define PH 0 // padding above and below (conv_fused)
#endif
#ifndef PW
#define PW 0 // padding left and right (conv_fused)
#endif

#include "lanes.h"
#include "epilogue.h"
#include "conv_out.h"
#include "conv_common.h"
#include "im2col.h"

DEFINE_PACK_TAP(pack_tap_local, __local)

/* Defines NAME(panel, wk, rows, mt, d, p0, npos, accumulate, e): weight tile mt (wk, rows x TM
 * weights) over `rows` rows of the panel at `panel` in address space SPACE and, under PAIR,
 * of the next panel (rows * VW floats on), stored at positions p0 (and p0 + VW) through the
 * epilogue. One copy per address space: OpenCL 1.2 has no generic one. */
#define DEFINE_TILE_GEMM(NAME, SPACE)                                                          \
    static void NAME(SPACE const float *panel, __global const float *wk, int rows, int mt,     \
                     const conv_dst *d, int p0, int npos, int accumulate, conv_epi e)          \
    {                                                                                          \
        floatV acc[TM], acc2[TM];                                                              \
        for (int m = 0; m < TM; m++) acc[m] = acc2[m] = (floatV)(0.0f);                        \
        SPACE const float *panel2 = panel + (size_t)rows * VW;                                 \
        for (int c = 0; c < rows; c++) {                                                       \
            if (PAIR)                                                                          \
                fma_tile2(acc, acc2, wk + c * TM, vloadV(0, panel + c * VW),                   \
                          vloadV(0, panel2 + c * VW));                                         \
            else                                                                               \
                fma_tile(acc, wk + c * TM, vloadV(0, panel + c * VW));                         \
        }                                                                                      \
        const int count = min(VW, npos - p0), count2 = min(VW, npos - p0 - VW);                \
        if (PAIR && count2 > 0)                                                                \
            store_channels(acc2, mt, d, p0 + VW, first_lanes(count2), count2 == VW,            \
                           accumulate, 1, e);                                                  \
        store_channels(acc, mt, d, p0, first_lanes(count), count == VW, accumulate, 1, e);     \
    }

DEFINE_TILE_GEMM(tile_gemm_global, __global)
DEFINE_TILE_GEMM(tile_gemm_local, __local)

/* cin: the panels' rows (KH*KW*Cin). */
__kernel void conv_panels(__global const float *panels, uint panels_off,
                          __global const float *weights, __global const float *bias,
                          __global const float *scale, __global const float *shift,
                          __global float *out, uint out_off, int seg1, uint off1, int seg2,
                          uint off2, int cin, int cout, int npos, int out_cstride,
                          int accumulate)
{
    const int mt = get_global_id(2) * get_global_size(0) + get_global_id(0);
    const int t = get_global_id(1) * (PAIR ? 2 : 1), p0 = t * VW;
    if (mt * TM >= cout) return;
    __global const float *panel = panels + panels_off + (size_t)t * cin * VW;
    __global const float *wk = weights + (size_t)mt * cin * TM;
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, out_cstride);
    if (accumulate) { /* start the old values' cache misses now, under the reduction */
        float touch = 0.0f;
        for (int m = 0; m < TM && mt * TM + m < cout; m++)
            touch += out[out_start(&d, mt * TM + m) + p0];
        volatile float sink = touch;
        (void)sink;
    }
    const conv_epi e = {bias, scale, shift};
    tile_gemm_global(panel, wk, cin, mt, &d, p0, npos, accumulate, e);
}

/* A 1x1 stride-1 conv's QP * P panels from p0 on, channel by channel: each channel's positions
 * are one contiguous run of the input (read in order, as a hardware prefetcher follows it),
 * its VW-float pieces stored to the panels; lanes past npos are zero. */
static void pack_runs(__local float *panel, __global const float *src, int p0, int npos,
                      int cin, int in_cstride)
{
    const int k_all = QP * (PAIR ? 2 : 1), full = clamp((npos - p0) / VW, 0, k_all);
    for (int c = 0; c < cin; c++) {
        __global const float *run = src + (size_t)c * in_cstride + p0;
        for (int k = 0; k < full; k++)
            vstoreV(vloadV(k, run), 0, panel + ((size_t)k * cin + c) * VW);
        for (int k = full; k < k_all; k++)
            for (int l = 0; l < VW; l++)
                panel[((size_t)k * cin + c) * VW + l] =
                    p0 + k * VW + l < npos ? run[k * VW + l] : 0.0f;
    }
}

__kernel void conv_fused(__global const float *in, uint in_off, __global const float *weights,
                         __global const float *bias, __global const float *scale,
                         __global const float *shift, __global float *out, uint out_off,
                         int seg1, uint off1, int seg2, uint off2, int cin, int cout, int nimg,
                         int H, int W, int Ho, int Wo, int in_cstride, int accumulate,
                         int mblock, __local float *panel)
{
    const int P = PAIR ? 2 : 1, t = get_global_id(0) * P * QP, plane = Ho * Wo, p0 = t * VW;
    const int npos = nimg * plane, rows = KH * KW * cin;
    __global const float *src = in + in_off;
    if (KH * KW == 1 && SH == 1 && PH == 0 && PW == 0 && QP > 1)
        pack_runs(panel, src, p0, npos, cin, in_cstride);
    else
        for (int k = 0; k < P * QP; k++) { /* under PAIR the second panel follows */
            const tile_geometry g = tile_geometry_of(p0 + k * VW, plane, Wo);
            for (int tap = 0; tap < KH * KW; tap++) {
                const int kh = tap / KW, kw = tap - kh * KW;
                const tap_source ts = tap_source_of(src, &g, kh, kw, nimg, H, W, Wo);
                pack_tap_local(panel + (k * rows + tap * cin) * VW, src, &ts, cin, in_cstride);
            }
        }
    const int mt0 = get_global_id(1) * mblock, mt1 = min(mt0 + mblock, (cout + TM - 1) / TM);
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, npos);
    const conv_epi e = {bias, scale, shift};
    for (int q = 0; q < QP && p0 + q * P * VW < npos; q++) /* each panel (pair) in turn */
        for (int mt = mt0; mt < mt1; mt++)
            tile_gemm_local(panel + (size_t)q * P * rows * VW, weights + (size_t)mt * rows * TM,
                            rows, mt, &d, p0 + q * P * VW, npos, accumulate, e);
}
