/* conv.cl: direct convolution (any KHxKW, stride 1 or 2, any padding below the kernel size)
 * with a fused epilogue; with KH = KW = 1 it is the register-blocked GEMM for 1x1 convs.
 *
 * Layout: activations are [C][N][H][W] (channel-major, batch inside), so a channel slice of a
 * concatenation is one contiguous range. Weights are packed at load time as
 * [ceil(Cout/TM)][KH][KW][Cin][TM] (zero rows pad Cout to a multiple of TM).
 *
 * Each work-item computes TM output channels x VW output positions in VW-wide vector
 * accumulators: per input channel one vector load of the shifted input row, then TM fmas
 * with broadcast weights. Out-of-image lanes are zeroed with select() (never multiplied, so
 * a NaN in guard memory cannot leak in); reads may touch up to a row plus 2*VW floats outside
 * the tensor, so the host keeps guard space around every activation buffer.
 *
 * Required -D flags:
 *   VW      lanes per work-item: 8 or 16            TM  output channels per work-item
 *   KH, KW  kernel size    SH  stride (1 or 2)      PH, PW  padding
 *   ROWS    0: lanes run over a virtual grid of H_out x W positions (stride 1 only; the
 *              W - W_out rightmost columns are computed and dropped), so tiles wrap rows;
 *           1: lanes run along one output row (any stride).
 *   PHASE   (with ROWS=0, SH=2) the input was split by kernel phase_split into its four
 *           (row, column) parity planes [C][N][4][H][W] (H, W here are the planes' size):
 *           tap (kh, kw) of a stride-2 conv reads plane ((kh-PH)&1, (kw-PW)&1) shifted by
 *           (floor((kh-PH)/2), floor((kw-PW)/2)), which makes it a stride-1 pass.
 * Optional epilogue flags (see net.h): RELU1, AFFINE, RELU2.
 *
 * Runtime arguments c0, c1 restrict the sum to input channels [c0, c1), so a long reduction
 * can run as several launches (chunks that keep their panels in cache): `accumulate` adds the
 * value already in the output (the partial sum of earlier chunks, or the residual of an
 * in-place residual sum), `finish` (the last chunk) adds the bias and applies the epilogue.
 *
 * NDRange: (ceil(Cout/TM), tiles, N), local (1,1,1); tiles = ceil(H_out*W/VW) for ROWS=0,
 * H_out * ceil(W_out/VW) for ROWS=1.
 */

#if VW == 8
#define floatV float8
#define intV int8
#define vloadV vload8
#define vstoreV vstore8
#define LANES ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#elif VW == 16
#define floatV float16
#define intV int16
#define vloadV vload16
#define vstoreV vstore16
#define LANES ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#else
#error "VW must be 8 or 16"
#endif

#if SH == 1 || PHASE
#define LOAD_ROW(p) vloadV(0, (p))
#elif SH == 2
#define LOAD_ROW(p) ((floatV)(vloadV(0, (p)).even, vloadV(0, (p) + VW).even))
#else
#error "SH must be 1 or 2"
#endif

/* acc[m] += w[c][m] * x for the TM channels, over input channels c. */
#define ACCUMULATE(X_EXPR)                                                                    \
    for (int c = c0; c < c1; c++) {                                                           \
        const floatV x = X_EXPR;                                                              \
        __global const float *wc = wk + c * TM;                                               \
        _Pragma("unroll") for (int m = 0; m < TM; m++) acc[m] = fma((floatV)(wc[m]), x, acc[m]); \
    }

/* The last chunk over the input channels adds the bias and applies the activations. */
static float finish_value(float v, int co, __global const float *bias,
                          __global const float *scale, __global const float *shift)
{
    v += bias[co];
#ifdef RELU1
    v = fmax(v, 0.0f);
#endif
#ifdef AFFINE
    v = v * scale[co] + shift[co];
#endif
#ifdef RELU2
    v = fmax(v, 0.0f);
#endif
    return v;
}

__kernel void conv(__global const float *in, uint in_off, __global const float *weights,
                   __global const float *bias, __global const float *scale,
                   __global const float *shift, __global float *out, uint out_off, int cin,
                   int cout, int H, int W, int Ho, int Wo, int in_cstride, int out_cstride,
                   int c0, int c1, int accumulate, int finish)
{
    const int mt = get_global_id(0);
    const int tile = get_global_id(1);
    const int n = get_global_id(2);
#if PHASE
    __global const float *src = in + in_off + n * 4 * H * W;
#else
    __global const float *src = in + in_off + n * H * W;
#endif
    __global const float *wt = weights + (size_t)mt * KH * KW * cin * TM;

    floatV acc[TM];
    for (int m = 0; m < TM; m++) acc[m] = (floatV)(0.0f);

#if ROWS
    const int tiles_x = (Wo + VW - 1) / VW;
    const int oy = tile / tiles_x;
    const int ox0 = (tile - oy * tiles_x) * VW;
    const intV ox = ox0 + LANES;
    for (int kh = 0; kh < KH; kh++) {
        const int iy = oy * SH + kh - PH;
        if (iy < 0 || iy >= H) continue;
        for (int kw = 0; kw < KW; kw++) {
            const intV ix = ox * SH + (kw - PW);
            const intV ok = (ix >= 0) & (ix < W) & (ox < Wo);
            __global const float *p = src + iy * W + ox0 * SH + (kw - PW);
            __global const float *wk = wt + (kh * KW + kw) * cin * TM;
            if (all(ok)) {
                ACCUMULATE(LOAD_ROW(p + c * in_cstride))
            } else {
                ACCUMULATE(select((floatV)(0.0f), LOAD_ROW(p + c * in_cstride), ok))
            }
        }
    }
    const int first = oy * Wo + ox0;
    const int full = ox0 + VW <= Wo;
#else
    const int q0 = tile * VW;
    const int npos = Ho * W;
    const intV q = q0 + LANES;
    const intV oy = q / W;
    const intV ox = q - oy * W;
    for (int kh = 0; kh < KH; kh++) {
#if PHASE
        const int dy = (kh - PH - ((kh - PH) & 1)) / 2, plane_y = (kh - PH) & 1;
#else
        const int dy = kh - PH;
#endif
        const intV iy = oy + dy;
        const intV row_ok = (iy >= 0) & (iy < H) & (q < npos);
        for (int kw = 0; kw < KW; kw++) {
#if PHASE
            const int dx = (kw - PW - ((kw - PW) & 1)) / 2;
            const int plane = plane_y * 2 + ((kw - PW) & 1);
            __global const float *p = src + plane * H * W + q0 + dy * W + dx;
#else
            const int dx = kw - PW;
            __global const float *p = src + q0 + dy * W + dx;
#endif
            const intV ix = ox + dx;
            const intV ok = row_ok & (ix >= 0) & (ix < W);
            __global const float *wk = wt + (kh * KW + kw) * cin * TM;
            if (all(ok)) {
                ACCUMULATE(vloadV(0, p + c * in_cstride))
            } else if (any(ok)) {
                ACCUMULATE(select((floatV)(0.0f), vloadV(0, p + c * in_cstride), ok))
            }
        }
    }
    const int first = q0;
    const int full = Wo == W && q0 + VW <= npos;
#endif

    for (int m = 0; m < TM; m++) {
        const int co = mt * TM + m;
        if (co >= cout) break;
        __global float *dst = out + out_off + co * out_cstride + n * Ho * Wo;
        float v[VW];
        if (full) {
            floatV r = acc[m];
            if (accumulate) r += vloadV(0, dst + first);
            vstoreV(r, 0, v);
            if (finish)
                for (int l = 0; l < VW; l++) v[l] = finish_value(v[l], co, bias, scale, shift);
            vstoreV(vloadV(0, v), 0, dst + first);
        } else {
            vstoreV(acc[m], 0, v);
            for (int l = 0; l < VW; l++) {
#if ROWS
                const int x = ox0 + l, y = oy;
                if (x >= Wo) break;
#else
                const int qq = q0 + l, y = qq / W, x = qq - y * W;
                if (qq >= npos) break;
                if (x >= Wo) continue;
#endif
                const int idx = y * Wo + x;
                float r = accumulate ? v[l] + dst[idx] : v[l];
                dst[idx] = finish ? finish_value(r, co, bias, scale, shift) : r;
            }
        }
    }
}

/* The four parity planes of x for a PHASE conv: out[c][n][2*py + px][i][j] =
 * x[c][n][2i + py][2j + px], zero where that lies outside x. NDRange (Wp, Hp, C*N). */
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
