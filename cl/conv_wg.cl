/* conv_wg.cl: convolution as an implicit GEMM with work-groups and local memory, for GPUs (any
 * KHxKW, stride 1 or 2, any padding below the kernel size), with the fused epilogue.
 *
 * Layout: activations [C][N][H][W]; weights packed as [ceil(Cout/TM)][KH][KW][Cin][TM] (as
 * for the vector kernels, with this family's TM). The GEMM is out[co][pos] = sum over the
 * K = KH*KW*Cin reduction rows k = (kh*KW + kw)*Cin + c of w[co][k] x[k][pos], over the
 * npos = N*H_out*W_out output positions, batch folded in.
 *
 * Kernel conv_wg: a work-group of WX x WY work-items computes a tile of TM output channels x
 * TN positions. Per slice of TK reduction rows it stages both operand tiles in local memory:
 * the weight rows (contiguous in the packing) and the input rows, gathered from the tensor
 * as im2col would lay them out (zeros for padding), never materialised in global memory.
 * Neighbouring work-items load neighbouring floats of both, so loads coalesce. Each
 * work-item then accumulates a register block of RM = TM/WY channels x RN = TN/WX positions,
 * channels ty + i*WY and positions tx + j*WX, so that its neighbours store neighbouring
 * positions. NDRange (ceil(npos/TN)*WX, ceil(Cout/TM)*WY), local (WX, WY).
 * Kernels conv_wg_split and conv_wg_reduce: the same with the reduction split into slices,
 * run by parallel work-groups into a scratch buffer and then summed, for convs with too few
 * tiles to fill a GPU (the 8x8 and 17x17 layers at batch 1).
 * Output parts: see cl/conv_out.h. `accumulate` adds the value already in the output (an
 * in-place residual sum); the epilogue always applies.
 *
 * -D flags (defaults and meanings below); TM a multiple of WY, TN a multiple of WX dividing
 * WX*WY; the epilogue's RELU1, AFFINE, RELU2 (optional; see cl/epilogue.h).
 * The geometry: KH, KW, SH, PH, PW all given, it is fixed at build time (a program per layer
 * shape, the compiler folding it in); none given, the kernels read it from their arguments
 * kh, kw, sh, ph, pw (the compact kernel set: one program for every conv, with -DEPI_ARG for
 * the epilogue). The kernels take those arguments either way.
 */

#ifndef TM
#define TM 64 // output channels per work-group
#endif
#ifndef TN
#define TN 64 // output positions per work-group
#endif
#ifndef TK
#define TK 16 // reduction rows per local-memory slice
#endif
#ifndef WX
#define WX 16 // work-items along the positions
#endif
#ifndef WY
#define WY 16 // work-items along the output channels
#endif
#if defined(KH) != defined(KW) || defined(KH) != defined(SH) || defined(KH) != defined(PH) || \
    defined(KH) != defined(PW)
#error "KH, KW, SH, PH and PW are given together or not at all"
#endif

#define RM (TM / WY)
#define RN (TN / WX)
#define GROUP (WX * WY)

#if TM % WY != 0 || TN % WX != 0 || GROUP % TN != 0
#error "TM must be a multiple of WY, TN a multiple of WX dividing WX*WY"
#endif

#include "epilogue.h"
#include "conv_out.h"

DEFINE_FINISH(finish_one, float)

/* The conv's window: kernel kh x kw, stride sh (1 or 2), padding ph above and below, pw left
 * and right. */
typedef struct wg_geom {
    int kh, kw, sh, ph, pw;
} wg_geom;

/* The window from the -D flags where they are given, else from the arguments. */
static wg_geom geom_of(int kh, int kw, int sh, int ph, int pw)
{
#ifdef KH
    const wg_geom g = {KH, KW, SH, PH, PW};
#else
    const wg_geom g = {kh, kw, sh, ph, pw};
#endif
    return g;
}

/* The input tile's source position of one work-item: where output position pos reads tap
 * (0, 0) of image img; valid is 0 past the last position. */
typedef struct wg_source {
    int valid, iy0, ix0;
    size_t base;
} wg_source;

static wg_source source_of(wg_geom g, int pos, int npos, int h, int w, int ho, int wo,
                           uint in_off)
{
    wg_source s = {pos < npos, 0, 0, 0};
    if (!s.valid) return s;
    const int img = pos / (ho * wo), r = pos - img * (ho * wo), oy = r / wo;
    s.iy0 = oy * g.sh - g.ph, s.ix0 = (r - oy * wo) * g.sh - g.pw;
    s.base = in_off + (size_t)img * h * w;
    return s;
}

/* Input row k (channel c, tap (kh, kw)) at the source's position, 0 in the padding. */
static float input_at(__global const float *in, wg_geom g, wg_source s, int k, int cin, int h,
                      int w, int in_cstride)
{
    int c = k, kh = 0, kw = 0;
    if (g.kh * g.kw != 1) {
        const int tap = k / cin;
        c = k - tap * cin, kh = tap / g.kw, kw = tap - kh * g.kw;
    }
    const int iy = s.iy0 + kh, ix = s.ix0 + kw;
    if (iy < 0 || iy >= h || ix < 0 || ix >= w) return 0.0f;
    return in[s.base + (size_t)c * in_cstride + iy * w + ix];
}

/* The work-group's tile of sums over reduction rows [kb, ke) into acc: per slice of TK rows,
 * both operand tiles staged in local memory (wtile, xtile), then the register block. Every
 * work-item of the group calls it (it has barriers). */
static void tile_sums(wg_geom g, __global const float *in, uint in_off,
                      __global const float *weights, int cin, int n, int h, int w, int ho, int wo,
                      int in_cstride, int kb, int ke, __local float (*wtile)[TM],
                      __local float (*xtile)[TN], float acc[RM][RN])
{
    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * WX + tx;
    const int p0 = get_group_id(0) * TN, mt = get_group_id(1);
    const int npos = n * ho * wo, K = g.kh * g.kw * cin;
    __global const float *wt = weights + (size_t)mt * K * TM;
    /* This work-item loads input column lp of the tile, rows lk, lk + GROUP/TN, ... */
    const int lp = lid % TN, lk = lid / TN;
    const wg_source src = source_of(g, p0 + lp, npos, h, w, ho, wo, in_off);

    for (int i = 0; i < RM; i++)
        for (int j = 0; j < RN; j++) acc[i][j] = 0.0f;
    for (int k0 = kb; k0 < ke; k0 += TK) {
        for (int i = lid; i < TK * TM; i += GROUP)
            wtile[i / TM][i % TM] = k0 + i / TM < ke ? wt[(size_t)k0 * TM + i] : 0.0f;
        for (int kk = lk; kk < TK; kk += GROUP / TN)
            xtile[kk][lp] = src.valid && k0 + kk < ke
                                ? input_at(in, g, src, k0 + kk, cin, h, w, in_cstride)
                                : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TK; kk++) {
            float a[RM], b[RN];
            for (int i = 0; i < RM; i++) a[i] = wtile[kk][ty + i * WY];
            for (int j = 0; j < RN; j++) b[j] = xtile[kk][tx + j * WX];
            for (int i = 0; i < RM; i++)
                for (int j = 0; j < RN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* The whole reduction, then the epilogue into the output parts. */
__kernel __attribute__((reqd_work_group_size(WX, WY, 1))) void
conv_wg(__global const float *in, uint in_off, __global const float *weights,
        __global const float *bias, __global const float *scale, __global const float *shift,
        __global float *out, uint out_off, int seg1, uint off1, int seg2, uint off2, int cin,
        int cout, int n, int h, int w, int ho, int wo, int in_cstride, int accumulate, int kh,
        int kw, int sh, int ph, int pw, int epi)
{
    __local float wtile[TK][TM], xtile[TK][TN];
    float acc[RM][RN];
    const wg_geom g = geom_of(kh, kw, sh, ph, pw);
    tile_sums(g, in, in_off, weights, cin, n, h, w, ho, wo, in_cstride, 0, g.kh * g.kw * cin,
              wtile, xtile, acc);
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int p0 = get_group_id(0) * TN, mt = get_group_id(1), npos = n * ho * wo;
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, (size_t)npos);
    const conv_epi e = {bias, scale, shift, epi};
    for (int i = 0; i < RM; i++) {
        const int co = mt * TM + ty + i * WY;
        if (co >= cout) break;
        __global float *dst = out + out_start(&d, co);
        for (int j = 0; j < RN; j++) {
            const int pos = p0 + tx + j * WX;
            if (pos >= npos) break;
            const float v = accumulate ? acc[i][j] + dst[pos] : acc[i][j];
            dst[pos] = finish_one(v, co, e);
        }
    }
}

/* Split reduction, first launch: work-group z = get_group_id(2) sums rows [z*kper,
 * (z+1)*kper) and writes them raw to part[z][co][pos] (cout x npos floats per slice).
 * NDRange (ceil(npos/TN)*WX, ceil(Cout/TM)*WY, slices), local (WX, WY, 1). */
__kernel __attribute__((reqd_work_group_size(WX, WY, 1))) void
conv_wg_split(__global const float *in, uint in_off, __global const float *weights,
              __global float *part, uint part_off, int cin, int cout, int n, int h, int w,
              int ho, int wo, int in_cstride, int kper, int kh, int kw, int sh, int ph, int pw)
{
    __local float wtile[TK][TM], xtile[TK][TN];
    float acc[RM][RN];
    const wg_geom g = geom_of(kh, kw, sh, ph, pw);
    const int z = get_group_id(2), K = g.kh * g.kw * cin;
    tile_sums(g, in, in_off, weights, cin, n, h, w, ho, wo, in_cstride, z * kper,
              min(K, (z + 1) * kper), wtile, xtile, acc);
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int p0 = get_group_id(0) * TN, mt = get_group_id(1), npos = n * ho * wo;
    for (int i = 0; i < RM; i++) {
        const int co = mt * TM + ty + i * WY;
        if (co >= cout) break;
        __global float *dst = part + part_off + ((size_t)z * cout + co) * npos;
        for (int j = 0; j < RN; j++) {
            const int pos = p0 + tx + j * WX;
            if (pos >= npos) break;
            dst[pos] = acc[i][j];
        }
    }
}

/* Split reduction, second launch: the slices' sums added, then as conv_wg stores them.
 * NDRange (npos, Cout), local left to the implementation. */
__kernel void conv_wg_reduce(__global const float *part, uint part_off, int slices,
                             __global const float *bias, __global const float *scale,
                             __global const float *shift, __global float *out, uint out_off,
                             int seg1, uint off1, int seg2, uint off2, int cout, int npos,
                             int accumulate, int epi)
{
    const int pos = get_global_id(0), co = get_global_id(1);
    __global const float *src = part + part_off + (size_t)co * npos + pos;
    float v = 0.0f;
    for (int z = 0; z < slices; z++) v += src[(size_t)z * cout * npos];
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, (size_t)npos);
    const conv_epi e = {bias, scale, shift, epi};
    __global float *dst = out + out_start(&d, co) + pos;
    if (accumulate) v += *dst;
    *dst = finish_one(v, co, e);
}
