/* pool.cl: pooling over [C][N][H][W] activations.
 *
 * Kernels (one per -D flag set; all share the optional epilogue AFFINE, RELU2 of the conv
 * kernels, cl/conv_common.h):
 *   maxpool         3x3 stride 2, no padding.  NDRange (C*N), local (1).
 *   avgpool         3x3 stride 1, padding 1, the average over in-image taps only
 *                   (count_include_pad = False).  NDRange (W_out, H_out, C*N).
 *   global_avgpool  the mean over H x W.  NDRange (C*N).
 * Channel c of plane p = c*N + n is p / N; the output of plane p starts at p*H_out*W_out.
 */

static float8 pool_epilogue8(float8 v, int c, __global const float *scale,
                             __global const float *shift)
{
#ifdef AFFINE
    v = fma(v, (float8)(scale[c]), (float8)(shift[c]));
#endif
#ifdef RELU2
    v = fmax(v, 0.0f);
#endif
    return v;
}

static float pool_epilogue(float v, int c, __global const float *scale,
                           __global const float *shift)
{
    return pool_epilogue8((float8)(v), c, scale, shift).s0;
}

/* One work-item per plane: eight outputs at a time from two 16-wide loads per input row
 * (even lanes at 2x and 2x + 2, odd lanes at 2x + 1), the ragged end one by one. Loads may
 * read one float past a row (the arena's guard covers the last row). */
__kernel void maxpool(__global const float *in, uint in_off, __global float *out, uint out_off,
                      __global const float *scale, __global const float *shift, int N, int H,
                      int W, int Ho, int Wo)
{
    const int p = get_global_id(0), c = p / N;
    __global const float *plane = in + in_off + (size_t)p * H * W;
    __global float *dst = out + out_off + (size_t)p * Ho * Wo;
    for (int oy = 0; oy < Ho; oy++) {
        __global const float *row = plane + (2 * oy) * W;
        int ox = 0;
        for (; ox + 8 <= Wo; ox += 8) {
            float8 m = vload16(0, row + 2 * ox).even;
            for (int ky = 0; ky < 3; ky++) {
                const float16 a = vload16(0, row + ky * W + 2 * ox);
                const float8 b = vload16(0, row + ky * W + 2 * ox + 2).even;
                m = fmax(m, fmax(fmax(a.even, a.odd), b));
            }
            vstore8(pool_epilogue8(m, c, scale, shift), 0, dst + oy * Wo + ox);
        }
        for (; ox < Wo; ox++) {
            __global const float *src = row + 2 * ox;
            float m = src[0];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) m = fmax(m, src[ky * W + kx]);
            dst[oy * Wo + ox] = pool_epilogue(m, c, scale, shift);
        }
    }
}

__kernel void avgpool(__global const float *in, uint in_off, __global float *out, uint out_off,
                      __global const float *scale, __global const float *shift, int N, int H,
                      int W, int Ho, int Wo)
{
    const int ox = get_global_id(0), oy = get_global_id(1), p = get_global_id(2);
    __global const float *src = in + in_off + (size_t)p * H * W;
    float s = 0.0f;
    int count = 0;
    for (int y = max(oy - 1, 0); y <= min(oy + 1, H - 1); y++)
        for (int x = max(ox - 1, 0); x <= min(ox + 1, W - 1); x++) {
            s += src[y * W + x];
            count++;
        }
    out[out_off + (size_t)p * Ho * Wo + oy * Wo + ox] =
        pool_epilogue(s / (float)count, p / N, scale, shift);
}

__kernel void global_avgpool(__global const float *in, uint in_off, __global float *out,
                             uint out_off, __global const float *scale,
                             __global const float *shift, int N, int H, int W, int Ho, int Wo)
{
    const int p = get_global_id(0);
    __global const float *src = in + in_off + (size_t)p * H * W;
    float s = 0.0f;
    for (int i = 0; i < H * W; i++) s += src[i];
    out[out_off + (size_t)p * Ho * Wo] = pool_epilogue(s / (float)(H * W), p / N, scale, shift);
}
