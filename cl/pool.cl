/* pool.cl: pooling over [C][N][H][W] activations.
 *
 * Kernels (one per -D flag set; all share the optional epilogue AFFINE, RELU2 of conv.cl):
 *   maxpool         3x3 stride 2, no padding.  NDRange (W_out, H_out, C*N).
 *   avgpool         3x3 stride 1, padding 1, the average over in-image taps only
 *                   (count_include_pad = False).  NDRange (W_out, H_out, C*N).
 *   global_avgpool  the mean over H x W.  NDRange (C*N).
 * Channel c of plane p = c*N + n is p / N; the output of plane p starts at p*H_out*W_out.
 */

static float pool_epilogue(float v, int c, __global const float *scale,
                           __global const float *shift)
{
#ifdef AFFINE
    v = v * scale[c] + shift[c];
#endif
#ifdef RELU2
    v = fmax(v, 0.0f);
#endif
    return v;
}

__kernel void maxpool(__global const float *in, uint in_off, __global float *out, uint out_off,
                      __global const float *scale, __global const float *shift, int N, int H,
                      int W, int Ho, int Wo)
{
    const int ox = get_global_id(0), oy = get_global_id(1), p = get_global_id(2);
    __global const float *src = in + in_off + (size_t)p * H * W + (2 * oy) * W + 2 * ox;
    float m = src[0];
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) m = fmax(m, src[ky * W + kx]);
    out[out_off + (size_t)p * Ho * Wo + oy * Wo + ox] = pool_epilogue(m, p / N, scale, shift);
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
