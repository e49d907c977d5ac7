/* pack.cl: the layout kernels that prepare a conv's input in scratch.
 *
 * Layout: activations [C][N][H][W]. Kernels, each built with only the flags it reads:
 *   phase_split  (no flags) the four parity planes of x for a PHASE conv
 *                (cl/conv_direct.cl): out[c][n][2*py + px][i][j] = x[c][n][2i + py][2j + px],
 *                zero where that lies outside x. NDRange (Wp, Hp, C*N).
 *   pack_panels  (VW) panels for a 1x1 conv run as a GEMM (cl/conv_gemm.cl): the npos
 *                positions of each input channel (contiguous, channel stride in_cstride)
 *                regrouped as [ceil(npos/VW)][cin][VW], zero past npos, so a GEMM tile reads
 *                its whole reduction from one contiguous run. NDRange (tiles), local (1).
 *   pack_im2col  (VW, KH, KW, SH, PH, PW) panels for a KHxKW conv run as a GEMM: row
 *                (kh*KW + kw)*cin + c of tile t holds input channel c under tap (kh, kw) for
 *                the VW output positions t*VW.. of the flattened N x Ho x Wo grid, zero outside
 *                the image and past npos; the layout is [ceil(npos/VW)][KH*KW*cin][VW],
 *                matching the packed weights [cout/TM][KH][KW][cin][TM] (see cl/im2col.h).
 *                NDRange (tiles, KH*KW), local (1,1).
 *   im2col_rows  (KH, KW, SH, PH, PW) the plain im2col matrix a library SGEMM multiplies by
 *                the canonical weights [cout][cin][KH][KW]: row (c*KH + kh)*KW + kw, column
 *                pos of the flattened N x Ho x Wo grid holds input channel c under tap
 *                (kh, kw) at that output position, zero outside the image; the layout is
 *                [cin*KH*KW][npos], so neighbouring work-items write (and mostly read)
 *                neighbouring floats. NDRange (npos, KH*KW, cin), local left to the
 *                implementation.
 */

#ifndef KH
#define KH 1 // kernel height (pack_im2col)
#endif
#ifndef KW
#define KW 1 // kernel width (pack_im2col)
#endif
#ifndef SH
#define SH 1 // stride, 1 or 2 (pack_im2col)
#endif
#ifndef PH
#define PH 0 // padding above and below (pack_im2col)
#endif
#ifndef PW
#define PW 0 // padding left and right (pack_im2col)
#endif

#include "lanes.h"
#include "im2col.h"

DEFINE_PACK_TAP(pack_tap_global, __global)

__kernel void phase_split(__global const float *in, uint in_off, __global float *out,
                          uint out_off, int H, int W, int Hp, int Wp)
{
    const int j = get_global_id(0), i = get_global_id(1), p = get_global_id(2);
    __global const float *src = in + in_off + (size_t)p * H * W;
    __global float *dst = out + out_off + (size_t)p * 4 * Hp * Wp + i * Wp + j;
    for (int py = 0; py < 2; py++)
        for (int px = 0; px < 2; px++) {
            const int y = 2 * i + py, x = 2 * j + px;
            dst[(py * 2 + px) * Hp * Wp] = y < H && x < W ? src[y * W + x] : 0.0f;
        }
}

__kernel void pack_panels(__global const float *in, uint in_off, __global float *out,
                          uint out_off, int cin, int npos, int in_cstride)
{
    const int t = get_global_id(0), p0 = t * VW;
    __global const float *src = in + in_off + p0;
    __global float *dst = out + out_off + (size_t)t * cin * VW;
    if (p0 + VW <= npos) {
        for (int c = 0; c < cin; c++)
            vstoreV(vloadV(0, src + (size_t)c * in_cstride), 0, dst + c * VW);
    } else {
        for (int c = 0; c < cin; c++)
            for (int l = 0; l < VW; l++)
                dst[c * VW + l] = p0 + l < npos ? src[(size_t)c * in_cstride + l] : 0.0f;
    }
}

__kernel void pack_im2col(__global const float *in, uint in_off, __global float *out,
                          uint out_off, int cin, int nimg, int H, int W, int Ho, int Wo,
                          int in_cstride)
{
    const int t = get_global_id(0), tap = get_global_id(1);
    const int kh = tap / KW, kw = tap - kh * KW, p0 = t * VW;
    __global const float *src = in + in_off;
    __global float *dst = out + out_off + ((size_t)t * KH * KW + tap) * cin * VW;
    const tile_geometry g = tile_geometry_of(p0, Ho * Wo, Wo);
    const tap_source ts = tap_source_of(src, &g, kh, kw, nimg, H, W, Wo);
    pack_tap_global(dst, src, &ts, cin, in_cstride);
}

__kernel void im2col_rows(__global const float *in, uint in_off, __global float *out,
                          uint out_off, int nimg, int H, int W, int Ho, int Wo, int in_cstride)
{
    const int pos = get_global_id(0), tap = get_global_id(1), c = get_global_id(2);
    const int npos = nimg * Ho * Wo;
    if (pos >= npos) return;
    const int img = pos / (Ho * Wo), r = pos - img * (Ho * Wo), oy = r / Wo, ox = r - oy * Wo;
    const int kh = tap / KW, kw = tap - kh * KW;
    const int iy = oy * SH - PH + kh, ix = ox * SH - PW + kw;
    const float v = iy >= 0 && iy < H && ix >= 0 && ix < W
                        ? in[in_off + (size_t)c * in_cstride + ((size_t)img * H + iy) * W + ix]
                        : 0.0f;
    out[out_off + ((size_t)c * KH * KW + tap) * npos + pos] = v;
}
