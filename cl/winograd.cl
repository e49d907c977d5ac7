/* winograd.cl: stride-1 3x3 convolutions by Winograd's F(4x4, 3x3): each 4x4 block of outputs
 * from a 6x6 input patch with 36 multiplications per input channel instead of 144. Three
 * launches:
 *   wino_input   V = B^T d B for every 6x6 patch d (one per 4x4 output block, zero outside
 *                the input): 36 matrices V[xi][cin][P], stored as the panels of
 *                cl/conv_gemm.cl ([xi][ceil(P/VW)][cin][VW]); P = N * ceil(Ho/4) *
 *                ceil(Wo/4) blocks, the lanes past P zero. NDRange (ceil(P/VW)*VW, cin).
 *   wino_gemm    M[xi] = U[xi] V[xi] for the 36 xi: U = G g G^T of the weights, packed per xi
 *                as conv_gemm.cl's weights ([xi][ceil(cout/TM)][cin][TM], zero rows past
 *                cout). M is [xi][ceil(cout/TM)*TM][ceil(P/VW)*VW]. NDRange (mtiles,
 *                ceil(P/VW), 36), local (1,1,1).
 *   wino_output  Y = A^T M A per block, then the bias, the epilogue and the output parts as
 *                every conv kernel (cl/conv_out.h), the residual sum with `accumulate`.
 *                NDRange (P, cout).
 * B^T and A^T as in Lavin and Gray, 2015 (input_1d, output_1d below); G is applied on the host
 * (ops/conv_winograd.c).
 *
 * -D flags: VW, TM (wino_gemm; defaults in lanes.h and conv_common.h); PH, PW, the padding
 * (wino_input); the epilogue's RELU1, AFFINE, RELU2 (wino_output; see net.h).
 */

#ifndef PH
#define PH 1 // padding above and below
#endif
#ifndef PW
#define PW 1 // padding left and right
#endif
#define SH 1

#include "lanes.h"
#include "epilogue.h"
#include "conv_out.h"
#include "conv_common.h"

/* The 4x4 output blocks of an output of Ho x Wo, ceil(Ho/4) x ceil(Wo/4) per image. */
typedef struct blocks {
    int bh, bw, n, ty, tx;
} blocks;

static blocks block_of(int p, int Ho, int Wo)
{
    blocks b;
    b.bh = (Ho + 3) / 4, b.bw = (Wo + 3) / 4;
    b.n = p / (b.bh * b.bw);
    const int r = p - b.n * b.bh * b.bw;
    b.ty = r / b.bw, b.tx = r - b.ty * b.bw;
    return b;
}

/* r = B^T d for six values d (a column or a row of a patch), each of stride `step`. */
static void input_1d(const float *d, int step, float *r, int rstep)
{
    const float d0 = d[0], d1 = d[step], d2 = d[2 * step], d3 = d[3 * step], d4 = d[4 * step],
                d5 = d[5 * step];
    r[0] = 4.0f * d0 - 5.0f * d2 + d4;
    r[rstep] = -4.0f * (d1 + d2) + d3 + d4;
    r[2 * rstep] = 4.0f * (d1 - d2) - d3 + d4;
    r[3 * rstep] = 2.0f * (d3 - d1) - d2 + d4;
    r[4 * rstep] = 2.0f * (d1 - d3) - d2 + d4;
    r[5 * rstep] = 4.0f * d1 - 5.0f * d3 + d5;
}

__kernel void wino_input(__global const float *in, uint in_off, __global float *v, uint v_off,
                         int cin, int nimg, int H, int W, int Ho, int Wo, int npos)
{
    const int p = get_global_id(0), c = get_global_id(1), ptiles = get_global_size(0) / VW;
    float d[36], t[36], x[36];
    for (int i = 0; i < 36; i++) d[i] = 0.0f;
    if (p < npos) {
        const blocks b = block_of(p, Ho, Wo);
        __global const float *plane = in + in_off + ((size_t)c * nimg + b.n) * H * W;
        const int y0 = 4 * b.ty - PH, x0 = 4 * b.tx - PW;
        for (int i = 0; i < 6; i++) {
            const int y = y0 + i;
            if (y < 0 || y >= H) continue;
            for (int j = 0; j < 6; j++) {
                const int xx = x0 + j;
                if (xx >= 0 && xx < W) d[6 * i + j] = plane[y * W + xx];
            }
        }
    }
    for (int j = 0; j < 6; j++) input_1d(d + j, 6, t + j, 6); /* columns: B^T d */
    for (int i = 0; i < 6; i++) input_1d(t + 6 * i, 1, x + 6 * i, 1); /* rows: (B^T d) B */
    const size_t plane = (size_t)ptiles * cin * VW; /* one xi's panels */
    __global float *dst = v + v_off + ((size_t)(p / VW) * cin + c) * VW + p % VW;
    for (int xi = 0; xi < 36; xi++) dst[xi * plane] = x[xi];
}

__kernel void wino_gemm(__global const float *v, uint v_off, __global const float *u,
                        __global float *m, uint m_off, int cin, int mtiles)
{
    const int mt = get_global_id(0), t = get_global_id(1), xi = get_global_id(2);
    const int ptiles = get_global_size(1);
    __global const float *panel = v + v_off + ((size_t)xi * ptiles + t) * cin * VW;
    __global const float *wk = u + ((size_t)xi * mtiles + mt) * cin * TM;
    floatV acc[TM];
    for (int k = 0; k < TM; k++) acc[k] = (floatV)(0.0f);
    for (int c = 0; c < cin; c++) fma_tile(acc, wk + c * TM, vloadV(0, panel + c * VW));
    __global float *dst = m + m_off + (((size_t)xi * mtiles + mt) * TM * ptiles + t) * VW;
    for (int k = 0; k < TM; k++) vstoreV(acc[k], 0, dst + (size_t)k * ptiles * VW);
}

DEFINE_FINISH(finish_scalar, float)

/* r = A^T x for six values x of stride `step` (four results of stride rstep). */
static void output_1d(const float *x, int step, float *r, int rstep)
{
    const float x1 = x[step], x2 = x[2 * step], x3 = x[3 * step], x4 = x[4 * step];
    const float a = x1 + x2, b = x1 - x2, c = x3 + x4, d = x3 - x4;
    r[0] = x[0] + a + c;
    r[rstep] = b + 2.0f * d;
    r[2 * rstep] = a + 4.0f * c;
    r[3 * rstep] = b + 8.0f * d + x[5 * step];
}

__kernel void wino_output(__global const float *m, uint m_off, __global const float *bias,
                          __global const float *scale, __global const float *shift,
                          __global float *out, uint out_off, int seg1, uint off1, int seg2,
                          uint off2, int cout, int nimg, int Ho, int Wo, int mrows, int ppad,
                          int accumulate)
{
    const int p = get_global_id(0), co = get_global_id(1);
    __global const float *src = m + m_off + (size_t)co * ppad + p;
    const size_t step = (size_t)mrows * ppad; /* from one xi to the next */
    float x[36], t[24], y[16];
    for (int xi = 0; xi < 36; xi++) x[xi] = src[xi * step];
    for (int j = 0; j < 6; j++) output_1d(x + j, 6, t + j, 6); /* columns: A^T M (4 x 6) */
    for (int i = 0; i < 4; i++) output_1d(t + 6 * i, 1, y + 4 * i, 1); /* rows: (A^T M) A */
    const blocks b = block_of(p, Ho, Wo);
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, nimg * Ho * Wo);
    const conv_epi e = {bias, scale, shift};
    __global float *dst = d.out + out_start(&d, co) + (size_t)b.n * Ho * Wo;
    for (int i = 0; i < 16; i++) {
        const int oy = 4 * b.ty + i / 4, ox = 4 * b.tx + i % 4;
        if (oy >= Ho || ox >= Wo) continue;
        float r = y[i];
        if (accumulate) r += dst[oy * Wo + ox];
        dst[oy * Wo + ox] = finish_scalar(r, co, e);
    }
}
