/* conv_direct.cl: direct convolution (any KHxKW, stride 1 or 2, any padding below the kernel
 * size) with a fused epilogue, reading the shifted input rows straight from the tensor (or
 * from its parity planes); with KH = KW = 1 it is the register-blocked GEMM for 1x1 convs.
 *
 * Layout: activations are [C][N][H][W] (channel-major, batch inside), so a channel slice of a
 * concatenation is one contiguous range. Weights are packed at load time as
 * [ceil(Cout/TM)][KH][KW][Cin][TM] (zero rows pad Cout to a multiple of TM).
 *
 * Each work-item computes TM output channels x VW output positions in VW-wide vector
 * accumulators: per input channel one vector load of the shifted input row, then TM fmas
 * with broadcast weights. Lanes of wanted outputs that fall outside the image are zeroed
 * with select() (never multiplied, so a NaN in guard memory cannot leak into them); lanes of
 * dropped outputs read whatever lies there unmasked, which keeps valid convs and parity
 * planes on the unmasked path. Reads may touch up to a row plus 2*VW floats outside the
 * tensor, so the host keeps guard space around every activation buffer.
 *
 * Kernels (same arguments; the host picks one by name):
 *   conv_grid  lanes over a virtual grid of H_out x W positions (stride 1: the W - W_out
 *              rightmost columns are computed and dropped), so tiles wrap rows. With PHASE
 *              the input was split by phase_split (cl/pack.cl) into its four (row, column)
 *              parity planes [C][N][4][H][W] (H, W here are the planes' size): tap (kh, kw)
 *              of a stride-2 conv reads plane ((kh-PH)&1, (kw-PW)&1) shifted by
 *              (floor((kh-PH)/2), floor((kw-PW)/2)), which makes it a stride-1 pass.
 *   conv_rows  lanes along one output row (any stride SH).
 * NDRange (ceil(Cout/TM) + R, tiles, N), local (1,1,1); tiles = ceil(H_out*W/VW) for
 * conv_grid, H_out * ceil(W_out/VW) for conv_rows; R = 0, or with RIDER the columns of
 * work-items that run the pool of the RIDER_ARGS after the kernel's own arguments.
 *
 * -D flags (defaults and meanings below; VW's in lanes.h, TM's in conv_common.h): VW, TM, KH,
 * KW, SH, PH, PW, PHASE, RIDER; the epilogue's RELU1, AFFINE, RELU2 (optional).
 *
 * Output parts: see cl/conv_out.h. Runtime arguments c0, c1 restrict the sum to input
 * channels [c0, c1), so a long reduction can run as several launches (chunks that keep their
 * panels in cache): `accumulate` adds the value already in the output (the partial sum of
 * earlier chunks, or the residual of an in-place residual sum), `finish` (the last chunk)
 * adds the bias and applies the epilogue (optional flags RELU1, AFFINE, RELU2; see net.h).
 */

#ifndef KH
#define KH 1 // kernel height
#endif
#ifndef KW
#define KW 1 // kernel width
#endif
#ifndef SH
#define SH 1 // stride of conv_rows: 1 or 2 (conv_grid runs stride 1, or 2 through PHASE)
#endif
#ifndef PH
#define PH 0 // padding above and below
#endif
#ifndef PW
#define PW 0 // padding left and right
#endif
#ifndef PHASE
#define PHASE 0 // 1: conv_grid reads the parity planes of a stride-2 conv
#endif
#ifndef RIDER
#define RIDER 0 // 1: work-items past the channel tiles run a max pool (cl/pool_rider.h)
#endif

#include "lanes.h"
#include "epilogue.h"
#include "conv_out.h"
#include "conv_common.h"
#if RIDER
#include "pool_rider.h"
#define DIRECT_RIDER_ARGS , RIDER_ARGS
/* Work-items from the channel tiles on (dimension 0) run the pool, a plane each, and
 * leave. */
#define DIRECT_RIDER_TAKE(mt, tile, n, cout)                                                    \
    const int ctiles = (cout + TM - 1) / TM;                                                    \
    if (mt >= ctiles) {                                                                         \
        const uint g1 = get_global_size(1), g2 = get_global_size(2);                            \
        RIDER_PLANES(((uint)(mt - ctiles) * g1 + (uint)tile) * g2 + (uint)n,                    \
                     ((uint)get_global_size(0) - (uint)ctiles) * g1 * g2);                      \
        return;                                                                                 \
    }
#else
#define DIRECT_RIDER_ARGS
#define DIRECT_RIDER_TAKE(mt, tile, n, cout)
#endif

/* Tap k of a conv with padding p reads the input shifted by k - p; in parity planes, plane
 * tap_plane(k, p) shifted by tap_shift(k, p). */
static int tap_shift(int k, int p) { return PHASE ? (k - p - ((k - p) & 1)) / 2 : k - p; }
static int tap_plane(int k, int p) { return PHASE ? (k - p) & 1 : 0; }

/* Stores a direct kernel's tile of image n (Ho x Wo outputs each): lane l at position
 * lane_idx[l] where that is >= 0; full: every lane wanted and contiguous. */
static void store_image_tile(const floatV *acc, int mt, const conv_dst *d, int n, int Ho,
                             int Wo, int full, intV lane_idx, int accumulate, int finish,
                             conv_epi e)
{
    store_channels(acc, mt, d, n * Ho * Wo, lane_idx, full, accumulate, finish, e);
}

__kernel void conv_grid(__global const float *in, uint in_off, __global const float *weights,
                        __global const float *bias, __global const float *scale,
                        __global const float *shift, __global float *out, uint out_off,
                        int seg1, uint off1, int seg2, uint off2, int cin, int cout, int H,
                        int W, int Ho, int Wo, int in_cstride, int out_cstride, int c0, int c1,
                        int accumulate, int finish DIRECT_RIDER_ARGS)
{
    const int mt = get_global_id(0);
    const int tile = get_global_id(1);
    const int n = get_global_id(2);
    DIRECT_RIDER_TAKE(mt, tile, n, cout);
    __global const float *src = in + in_off + n * (PHASE ? 4 : 1) * H * W;
    __global const float *wt = weights + (size_t)mt * KH * KW * cin * TM;

    floatV acc[TM];
    for (int m = 0; m < TM; m++) acc[m] = (floatV)(0.0f);

    const int q0 = tile * VW;
    const int npos = Ho * W;
    const intV q = q0 + LANES;
    const intV oy = q / W;
    const intV ox = q - oy * W;
    const intV needed = (q < npos) & (ox < Wo); /* the other lanes are computed and dropped */
    for (int kh = 0; kh < KH; kh++) {
        const int dy = tap_shift(kh, PH);
        const intV iy = oy + dy;
        const intV row_ok = (iy >= 0) & (iy < H);
        for (int kw = 0; kw < KW; kw++) {
            const int dx = tap_shift(kw, PW);
            const int plane = tap_plane(kh, PH) * 2 + tap_plane(kw, PW);
            __global const float *p = src + plane * H * W + q0 + dy * W + dx;
            const intV ix = ox + dx;
            const intV ok = row_ok & (ix >= 0) & (ix < W);
            __global const float *wk = wt + (kh * KW + kw) * cin * TM;
            if (all(ok | ~needed)) {
                for (int c = c0; c < c1; c++)
                    fma_tile(acc, wk + c * TM, vloadV(0, p + c * in_cstride));
            } else if (any(ok & needed)) {
                for (int c = c0; c < c1; c++)
                    fma_tile(acc, wk + c * TM,
                             select((floatV)(0.0f), vloadV(0, p + c * in_cstride), ok));
            }
        }
    }
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, out_cstride);
    const conv_epi e = {bias, scale, shift};
    /* with Wo == W, oy * Wo + ox is q: contiguous when every lane lies before npos */
    store_image_tile(acc, mt, &d, n, Ho, Wo, Wo == W && q0 + VW <= npos,
                     select((intV)(-1), oy * Wo + ox, needed), accumulate, finish, e);
}

__kernel void conv_rows(__global const float *in, uint in_off, __global const float *weights,
                        __global const float *bias, __global const float *scale,
                        __global const float *shift, __global float *out, uint out_off,
                        int seg1, uint off1, int seg2, uint off2, int cin, int cout, int H,
                        int W, int Ho, int Wo, int in_cstride, int out_cstride, int c0, int c1,
                        int accumulate, int finish DIRECT_RIDER_ARGS)
{
    const int mt = get_global_id(0);
    const int tile = get_global_id(1);
    const int n = get_global_id(2);
    DIRECT_RIDER_TAKE(mt, tile, n, cout);
    __global const float *src = in + in_off + n * H * W;
    __global const float *wt = weights + (size_t)mt * KH * KW * cin * TM;

    floatV acc[TM];
    for (int m = 0; m < TM; m++) acc[m] = (floatV)(0.0f);

    const int tiles_x = (Wo + VW - 1) / VW;
    const int oy = tile / tiles_x;
    const int ox0 = (tile - oy * tiles_x) * VW;
    const intV ox = ox0 + LANES;
    for (int kh = 0; kh < KH; kh++) {
        const int iy = oy * SH + kh - PH;
        if (iy < 0 || iy >= H) continue;
        for (int kw = 0; kw < KW; kw++) {
            const intV ix = ox * SH + (kw - PW);
            const intV ok = (ix >= 0) & (ix < W);
            __global const float *p = src + iy * W + ox0 * SH + (kw - PW);
            __global const float *wk = wt + (kh * KW + kw) * cin * TM;
            if (all(ok | (ox >= Wo))) {
                for (int c = c0; c < c1; c++)
                    fma_tile(acc, wk + c * TM, load_row(p + c * in_cstride));
            } else {
                for (int c = c0; c < c1; c++)
                    fma_tile(acc, wk + c * TM,
                             select((floatV)(0.0f), load_row(p + c * in_cstride), ok));
            }
        }
    }
    const int first = oy * Wo + ox0;
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, out_cstride);
    const conv_epi e = {bias, scale, shift};
    store_image_tile(acc, mt, &d, n, Ho, Wo, ox0 + VW <= Wo,
                     select((intV)(-1), first + LANES, ox < Wo), accumulate, finish, e);
}
