/* pool.cl: pooling over [C][N][H][W] activations.
 *
 * Kernels (all share the optional epilogue AFFINE, RELU2, as the conv kernels apply it: -D
 * flags, or the argument `epi` with -DEPI_ARG, cl/epilogue.h). Two launch shapes, chosen by
 * ops/pool.c from ctx_prefers_wg():
 * the CPU shape (PoCL: one work-item per plane, vector loops) and the work-group shape (GPUs:
 * neighbouring work-items on neighbouring outputs, so reads and writes coalesce).
 *   maxpool            3x3 stride 2, no padding; CPU shape.  NDRange (C*N), local (1).
 *   maxpool_wg         the same, one work-item per output: item i writes output float i
 *                      (plane i / (Ho*Wo), then row, then column); one more argument, total
 *                      = C*N*Ho*Wo.  NDRange (total rounded up to the local size), local a
 *                      power of two chosen by the launcher; items from total on do nothing.
 *   avgpool            3x3 stride 1, padding 1, the average over in-image taps only
 *                      (count_include_pad = False).  NDRange (W_out, H_out, C*N), local left to
 *                      the implementation; both shapes (dimension 0 is the column).
 *   global_avgpool     the mean over H x W; CPU shape.  NDRange (C*N).
 *   global_avgpool_wg  the same, one work-group per plane: its L work-items (L a power of two,
 *                      the size of the __local argument `part` in floats) read the plane with
 *                      stride L and reduce their sums in local memory.  NDRange (C*N*L),
 *                      local (L).
 * Channel c of plane p = c*N + n is p / N; the output of plane p starts at p*H_out*W_out.
 */

#include "epilogue.h"
#include "pool_rider.h"

static float pool_epilogue(float v, int c, __global const float *scale,
                           __global const float *shift, int epi)
{
    if (EPI_AFFINE_ON(epi)) v = fma(v, scale[c], shift[c]);
    if (EPI_RELU2_ON(epi)) v = fmax(v, 0.0f);
    return v;
}

/* One work-item per plane (cl/pool_rider.h max_plane). */
__kernel void maxpool(__global const float *in, uint in_off, __global float *out, uint out_off,
                      __global const float *scale, __global const float *shift, int epi, int N,
                      int H, int W, int Ho, int Wo)
{
    const int p = get_global_id(0), c = p / N;
    const int affine = EPI_AFFINE_ON(epi);
    max_plane(in + in_off + (size_t)p * H * W, out + out_off + (size_t)p * Ho * Wo, W, Ho, Wo,
              affine ? scale[c] : 1.0f, affine ? shift[c] : 0.0f, affine, EPI_RELU2_ON(epi));
}

/* One work-item per output: item i writes output float i, so neighbouring items write
 * neighbouring floats and read windows two floats apart. Items from `total` on (the NDRange is
 * rounded up to the local size) do nothing. Reads stay inside the plane. */
__kernel void maxpool_wg(__global const float *in, uint in_off, __global float *out,
                         uint out_off, __global const float *scale,
                         __global const float *shift, int epi, int N, int H, int W, int Ho, int Wo,
                         uint total)
{
    const uint i = (uint)get_global_id(0);
    if (i >= total) return;
    const uint per_plane = (uint)(Ho * Wo), p = i / per_plane, r = i - p * per_plane;
    const uint oy = r / (uint)Wo, ox = r - oy * (uint)Wo;
    const float m = max3x3(in + in_off + (size_t)p * H * W + (2 * oy) * W + 2 * ox, W);
    out[(size_t)out_off + i] = pool_epilogue(m, (int)(p / (uint)N), scale, shift, epi);
}

__kernel void avgpool(__global const float *in, uint in_off, __global float *out, uint out_off,
                      __global const float *scale, __global const float *shift, int epi, int N,
                      int H, int W, int Ho, int Wo)
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
        pool_epilogue(s / (float)count, p / N, scale, shift, epi);
}

__kernel void global_avgpool(__global const float *in, uint in_off, __global float *out,
                             uint out_off, __global const float *scale,
                             __global const float *shift, int epi, int N, int H, int W, int Ho,
                             int Wo)
{
    const int p = get_global_id(0);
    __global const float *src = in + in_off + (size_t)p * H * W;
    float s = 0.0f;
    for (int i = 0; i < H * W; i++) s += src[i];
    out[out_off + (size_t)p * Ho * Wo] =
        pool_epilogue(s / (float)(H * W), p / N, scale, shift, epi);
}

/* One work-group of L = get_local_size(0) work-items (a power of two; part holds L floats)
 * per plane: item j sums floats j, j + L, ... (neighbouring items read neighbouring floats),
 * then a tree reduction in local memory; item 0 writes the mean. */
__kernel void global_avgpool_wg(__global const float *in, uint in_off, __global float *out,
                                uint out_off, __global const float *scale,
                                __global const float *shift, int epi, int N, int H, int W, int Ho,
                                int Wo, __local float *part)
{
    const int j = get_local_id(0), L = get_local_size(0), p = get_group_id(0);
    __global const float *src = in + in_off + (size_t)p * H * W;
    float s = 0.0f;
    for (int i = j; i < H * W; i += L) s += src[i];
    part[j] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = L / 2; step > 0; step /= 2) {
        if (j < step) part[j] += part[j + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (j == 0)
        out[out_off + (size_t)p * Ho * Wo] =
            pool_epilogue(part[0] / (float)(H * W), p / N, scale, shift, epi);
}
