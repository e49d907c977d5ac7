/* conv.cl: direct convolution (any KHxKW, stride 1 or 2, any padding below the kernel size)
 * with a fused epilogue; with KH = KW = 1 it is the register-blocked GEMM for 1x1 convs.
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
 * Output parts: output channels [0, seg1) start at out_off, [seg1, seg2) at off1 and
 * [seg2, cout) at off2, each with the same channel stride, so sibling convs that read the same
 * input run as one (their weights stacked) while each writes its own tensor; a single conv
 * passes seg1 = seg2 = cout.
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

/* acc[m] += w[c][m] * x for the TM channels, over input channels c in [FROM, TO). */
#define ACCUMULATE_RANGE(FROM, TO, X_EXPR)                                                    \
    for (int c = (FROM); c < (TO); c++) {                                                     \
        const floatV x = X_EXPR;                                                              \
        __global const float *wc = wk + c * TM;                                               \
        _Pragma("unroll") for (int m = 0; m < TM; m++) acc[m] = fma((floatV)(wc[m]), x, acc[m]); \
    }
#define ACCUMULATE(X_EXPR) ACCUMULATE_RANGE(c0, c1, X_EXPR)

/* The last chunk over the input channels adds the bias and applies the activations. */
static floatV finish_value(floatV v, int co, __global const float *bias,
                           __global const float *scale, __global const float *shift)
{
    v += bias[co];
#ifdef RELU1
    v = fmax(v, 0.0f);
#endif
#ifdef AFFINE
    v = fma(v, (floatV)(scale[co]), (floatV)(shift[co]));
#endif
#ifdef RELU2
    v = fmax(v, 0.0f);
#endif
    return v;
}

/* Stores r as output channel co: contiguous at dst when idx is NULL (the first `count`
 * lanes), else lane l at dst[idx[l]] where idx[l] >= 0. Adds what is there when
 * accumulating; applies the epilogue on the last chunk. */
static void store_tile(floatV r, __global float *dst, const int *idx, int count, int co,
                       int accumulate, int finish, __global const float *bias,
                       __global const float *scale, __global const float *shift)
{
    float v[VW];
    const int whole = !idx && count == VW;
    if (accumulate) {
        if (whole) {
            r += vloadV(0, dst);
        } else {
            for (int l = 0; l < VW; l++)
                v[l] = idx ? (idx[l] >= 0 ? dst[idx[l]] : 0.0f) : (l < count ? dst[l] : 0.0f);
            r += vloadV(0, v);
        }
    }
    if (finish) r = finish_value(r, co, bias, scale, shift);
    if (whole) {
        vstoreV(r, 0, dst);
        return;
    }
    vstoreV(r, 0, v);
    for (int l = 0; l < VW; l++) {
        if (idx && idx[l] >= 0) dst[idx[l]] = v[l];
        else if (!idx && l < count) dst[l] = v[l];
    }
}

/* Where output channel co starts (see "Output parts" above); OUT_AT passes the kernel's own
 * part arguments. */
static size_t out_start(int co, size_t cstride, uint out_off, int seg1, uint off1, int seg2,
                        uint off2)
{
    return co < seg1   ? out_off + co * cstride
           : co < seg2 ? off1 + (co - seg1) * cstride
                       : off2 + (co - seg2) * cstride;
}
#define OUT_AT(co, cstride) out_start((co), (cstride), out_off, seg1, off1, seg2, off2)

__kernel void conv(__global const float *in, uint in_off, __global const float *weights,
                   __global const float *bias, __global const float *scale,
                   __global const float *shift, __global float *out, uint out_off, int seg1,
                   uint off1, int seg2, uint off2, int cin, int cout, int H, int W, int Ho,
                   int Wo, int in_cstride, int out_cstride, int c0, int c1, int accumulate,
                   int finish)
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
            const intV ok = (ix >= 0) & (ix < W);
            __global const float *p = src + iy * W + ox0 * SH + (kw - PW);
            __global const float *wk = wt + (kh * KW + kw) * cin * TM;
            if (all(ok | ox >= Wo)) {
                ACCUMULATE(LOAD_ROW(p + c * in_cstride))
            } else {
                ACCUMULATE(select((floatV)(0.0f), LOAD_ROW(p + c * in_cstride), ok))
            }
        }
    }
    const int first = oy * Wo + ox0;
    const int full = ox0 + VW <= Wo;
    const intV lane_idx = select((intV)(-1), first + LANES, ox < Wo);
#else
    const int q0 = tile * VW;
    const int npos = Ho * W;
    const intV q = q0 + LANES;
    const intV oy = q / W;
    const intV ox = q - oy * W;
    const intV needed = (q < npos) & (ox < Wo); /* the other lanes are computed and dropped */
    for (int kh = 0; kh < KH; kh++) {
#if PHASE
        const int dy = (kh - PH - ((kh - PH) & 1)) / 2, plane_y = (kh - PH) & 1;
#else
        const int dy = kh - PH;
#endif
        const intV iy = oy + dy;
        const intV row_ok = (iy >= 0) & (iy < H);
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
            if (all(ok | ~needed)) {
                ACCUMULATE(vloadV(0, p + c * in_cstride))
            } else if (any(ok & needed)) {
                ACCUMULATE(select((floatV)(0.0f), vloadV(0, p + c * in_cstride), ok))
            }
        }
    }
    const int first = q0;
    const int full = Wo == W && q0 + VW <= npos;
    const intV lane_idx = select((intV)(-1), oy * Wo + ox, needed);
#endif
    int idx[VW];
    if (!full) vstoreV(lane_idx, 0, idx);

    for (int m = 0; m < TM; m++) {
        const int co = mt * TM + m;
        if (co >= cout) break;
        __global float *dst = out + OUT_AT(co, out_cstride) + n * Ho * Wo;
        store_tile(acc[m], dst + (full ? first : 0), full ? NULL : idx, VW, co, accumulate,
                   finish, bias, scale, shift);
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

/* Panels for the 1x1 GEMM: the npos positions of each input channel (contiguous, channel
 * stride in_cstride) regrouped as [ceil(npos/VW)][cin][VW], zero past npos, so a GEMM tile
 * reads its whole reduction from one contiguous run. NDRange (tiles), local (1). */
__kernel void pack_panels(__global const float *in, uint in_off, __global float *out,
                          uint out_off, int cin, int npos, int in_cstride)
{
    const int t = get_global_id(0), p0 = t * VW;
    __global const float *src = in + in_off + p0;
    __global float *dst = out + out_off + (size_t)t * cin * VW;
    if (p0 + VW <= npos) {
        for (int c = 0; c < cin; c++) vstoreV(vloadV(0, src + (size_t)c * in_cstride), 0, dst + c * VW);
    } else {
        for (int c = 0; c < cin; c++)
            for (int l = 0; l < VW; l++)
                dst[c * VW + l] = p0 + l < npos ? src[(size_t)c * in_cstride + l] : 0.0f;
    }
}

/* The positions of the tile starting at p0 (lanes p0..p0+VW-1 of the flattened N x Ho x Wo
 * grid): per lane n, oy, ox; the tile spans row a (holding lane 0) and row b (from lane lb). */
#define TILE_GEOMETRY                                                                          \
    const intV p = p0 + LANES, n = p / plane, r = p - n * plane, oy = r / Wo, ox = r - oy * Wo; \
    const int n0 = p0 / plane, r0 = p0 - n0 * plane, oy0 = r0 / Wo, ox0 = r0 - oy0 * Wo;       \
    const int lb = Wo - ox0, pb = p0 + lb, nb = pb / plane, oyb = (pb - nb * plane) / Wo;     \
    const intV in_a = LANES < lb;

/* Packs tap (kh, kw) of the tile into DST[c * VW + lane] for c < cin: when Wo >= VW two row
 * loads per channel (base: where lane 0 of each would read) blended by lane, else a gather;
 * zero outside the image and past the last image. */
#define PACK_TAP(DST)                                                                          \
    {                                                                                          \
        const intV iy = oy * SH + kh - PH, ix = ox * SH + kw - PW;                             \
        const intV valid = (n < nimg) & (iy >= 0) & (iy < H) & (ix >= 0) & (ix < W);           \
        const int iya = oy0 * SH + kh - PH, iyb = oyb * SH + kh - PH;                          \
        const int a_ok = n0 < nimg && iya >= 0 && iya < H;                                     \
        const int b_ok = nb < nimg && iyb >= 0 && iyb < H;                                     \
        const int base_a = (n0 * H + iya) * W + ox0 * SH + kw - PW;                            \
        const int base_b = (nb * H + iyb) * W + kw - PW - lb * SH;                             \
        if (Wo >= VW && (a_ok || b_ok)) {                                                      \
            __global const float *ra = src + (a_ok ? base_a : base_b);                         \
            __global const float *rb = src + (b_ok ? base_b : base_a);                         \
            for (int c = 0; c < cin; c++) {                                                    \
                const size_t o = (size_t)c * in_cstride;                                       \
                const floatV v = select(LOAD_ROW(rb + o), LOAD_ROW(ra + o), in_a);             \
                vstoreV(select((floatV)(0.0f), v, valid), 0, (DST) + c * VW);                  \
            }                                                                                  \
        } else {                                                                               \
            int off[VW];                                                                       \
            vstoreV(select((intV)(-1), (n * H + iy) * W + ix, valid), 0, off);                 \
            for (int c = 0; c < cin; c++)                                                      \
                for (int l = 0; l < VW; l++)                                                   \
                    (DST)[c * VW + l] =                                                        \
                        off[l] >= 0 ? src[(size_t)c * in_cstride + off[l]] : 0.0f;             \
        }                                                                                      \
    }

/* Panels for a KHxKW conv run as a GEMM (im2col): row (kh*KW + kw)*cin + c of tile t holds
 * input channel c under tap (kh, kw) for the VW output positions t*VW.. of the flattened
 * N x Ho x Wo grid, zero outside the image and past npos; the layout is
 * [ceil(npos/VW)][KH*KW*cin][VW], matching the packed weights [cout/TM][KH][KW][cin][TM].
 * When the tile spans at most two output rows (Wo >= VW), each channel takes two row loads
 * blended by lane; narrower outputs gather lane by lane. NDRange (tiles, KH*KW), local (1,1). */
__kernel void pack_im2col(__global const float *in, uint in_off, __global float *out,
                          uint out_off, int cin, int nimg, int H, int W, int Ho, int Wo,
                          int in_cstride)
{
    const int t = get_global_id(0), tap = get_global_id(1);
    const int kh = tap / KW, kw = tap - kh * KW, plane = Ho * Wo, p0 = t * VW;
    __global const float *src = in + in_off;
    __global float *dst = out + out_off + ((size_t)t * KH * KW + tap) * cin * VW;
    TILE_GEOMETRY
    PACK_TAP(dst)
}

/* A conv as a GEMM over packed panels (pack_panels for 1x1, pack_im2col otherwise):
 * out[co][p] for the npos = N*Ho*Wo positions, batch folded in, with cin the panels' rows.
 * Same weights, epilogue and accumulate as conv. NDRange (MB, ceil(npos/VW), ceil(mtiles/MB)),
 * local (1,1,1): output-channel tile get_global_id(2) * MB + get_global_id(0); work-groups
 * run dimension 0 first, so a block of MB weight tiles stays in cache while every panel
 * passes it, and each panel serves the MB tiles from L1. */
__kernel void conv_panels(__global const float *panels, uint panels_off,
                          __global const float *weights, __global const float *bias,
                          __global const float *scale, __global const float *shift,
                          __global float *out, uint out_off, int seg1, uint off1, int seg2,
                          uint off2, int cin, int cout, int npos, int out_cstride,
                          int accumulate)
{
    const int mt = get_global_id(2) * get_global_size(0) + get_global_id(0);
    const int t = get_global_id(1), p0 = t * VW;
    if (mt * TM >= cout) return;
    __global const float *panel = panels + panels_off + (size_t)t * cin * VW;
    __global const float *wk = weights + (size_t)mt * cin * TM;
    if (accumulate) { /* start the old values' cache misses now, under the reduction */
        float touch = 0.0f;
        for (int m = 0; m < TM && mt * TM + m < cout; m++)
            touch += out[OUT_AT(mt * TM + m, out_cstride) + p0];
        volatile float sink = touch;
        (void)sink;
    }
    floatV acc[TM];
    for (int m = 0; m < TM; m++) acc[m] = (floatV)(0.0f);
    ACCUMULATE_RANGE(0, cin, vloadV(0, panel + c * VW))
    const int count = min(VW, npos - p0);
    for (int m = 0; m < TM; m++) {
        const int co = mt * TM + m;
        if (co >= cout) break;
        store_tile(acc[m], out + OUT_AT(co, out_cstride) + p0, NULL, count, co, accumulate, 1,
                   bias, scale, shift);
    }
}

/* The panel GEMM with its packing fused in: each work-group packs one tile's panel (as
 * pack_im2col does, 1x1 included) into local memory, then runs `mblock` output-channel tiles
 * over it. No scratch buffer, and the panel is written and read in cache. NDRange (tiles,
 * ceil(mtiles/mblock)), local (1,1); panel: KH*KW*cin*VW floats of local memory. */
__kernel void conv_fused(__global const float *in, uint in_off, __global const float *weights,
                         __global const float *bias, __global const float *scale,
                         __global const float *shift, __global float *out, uint out_off,
                         int seg1, uint off1, int seg2, uint off2, int cin, int cout, int nimg,
                         int H, int W, int Ho, int Wo,
                         int in_cstride, int accumulate, int mblock, __local float *panel)
{
    const int t = get_global_id(0), plane = Ho * Wo, p0 = t * VW, npos = nimg * plane;
    __global const float *src = in + in_off;
    TILE_GEOMETRY
    for (int tap = 0; tap < KH * KW; tap++) {
        const int kh = tap / KW, kw = tap - kh * KW;
        __local float *dst = panel + tap * cin * VW;
        PACK_TAP(dst)
    }
    const int rows = KH * KW * cin, count = min(VW, npos - p0);
    const int mt0 = get_global_id(1) * mblock, mt1 = min(mt0 + mblock, (cout + TM - 1) / TM);
    for (int mt = mt0; mt < mt1; mt++) {
        __global const float *wk = weights + (size_t)mt * rows * TM;
        floatV acc[TM];
        for (int m = 0; m < TM; m++) acc[m] = (floatV)(0.0f);
        ACCUMULATE_RANGE(0, rows, vloadV(0, panel + c * VW))
        for (int m = 0; m < TM; m++) {
            const int co = mt * TM + m;
            if (co >= cout) break;
            store_tile(acc[m], out + OUT_AT(co, npos) + p0, NULL, count, co, accumulate, 1, bias,
                       scale, shift);
        }
    }
}
