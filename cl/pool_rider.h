/* pool_rider.h: a 3x3 stride-2 max pool (no padding) run as extra work of a conv's launch
 * (a "rider": the pool and the conv read inputs ready at the same time and write disjoint
 * outputs, so one launch does both and the pool costs no launch of its own). Included by
 * cl/pool.cl (its 9-tap window and its plane loop) and by the conv files whose families take riders
 * (ops/conv_family.h takes_rider), which add RIDER_ARGS after their own arguments when built
 * with -DRIDER=1 and hand their surplus work-items to rider_run (one output each, GPUs) or
 * rider_planes (one plane each, CPUs).
 *
 * Layout as cl/pool.cl: [C][N][H][W] in, [C][N][Ho][Wo] out, Ho = (H - 3)/2 + 1 (Wo alike);
 * output float i is plane i / (Ho*Wo), channel plane / N. The epilogue (AFFINE, RELU2) is
 * read from the bits of repi (cl/epilogue.h EPI_BIT_*): the conv's own -D flags do not
 * apply to the pool.
 */
#ifndef IRV2_POOL_RIDER_H
#define IRV2_POOL_RIDER_H

/* The largest of the 3x3 window whose top-left float is src, in rows W floats apart. */
static float max3x3(__global const float *src, int W)
{
    float m = src[0];
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) m = fmax(m, src[ky * W + kx]);
    return m;
}

/* One plane of the pool (the CPU shape: one work-item per plane): eight outputs at a time
 * from three 16-wide loads per input row, the even lanes of each (columns 2x, 2x + 1 and
 * 2x + 2), the ragged end one by one; then v * scale + shift with affine, max(v, 0) with
 * relu2. Loads may read two floats past a row (the arena's guard covers the last row). Only
 * even lanes are taken: Oclgrind 21.10's uninitialised-value checker marks lane 11 of a
 * 16-lane shuffle (as in `.odd`) uninitialised whatever it holds. */
static void max_plane(__global const float *plane, __global float *dst, int W, int Ho, int Wo,
                      float scale, float shift, int affine, int relu2)
{
    for (int oy = 0; oy < Ho; oy++) {
        __global const float *row = plane + (2 * oy) * W;
        int ox = 0;
        for (; ox + 8 <= Wo; ox += 8) {
            float8 m = vload16(0, row + 2 * ox).even;
            for (int ky = 0; ky < 3; ky++) {
                __global const float *r = row + ky * W + 2 * ox;
                const float8 a = vload16(0, r).even, b = vload16(0, r + 1).even,
                             d = vload16(0, r + 2).even;
                m = fmax(m, fmax(fmax(a, b), d));
            }
            if (affine) m = fma(m, (float8)(scale), (float8)(shift));
            if (relu2) m = fmax(m, 0.0f);
            vstore8(m, 0, dst + oy * Wo + ox);
        }
        for (; ox < Wo; ox++) {
            float v = max3x3(row + 2 * ox, W);
            if (affine) v = fma(v, scale, shift);
            if (relu2) v = fmax(v, 0.0f);
            dst[oy * Wo + ox] = v;
        }
    }
}

#define RIDER_ARGS                                                                             \
    __global const float *rin, uint rin_off, __global float *rout, uint rout_off,             \
        __global const float *rscale, __global const float *rshift, int repi, int rN, int rH, \
        int rW, uint rtotal

/* Outputs first, first + stride, ... below rtotal of the pool in RIDER_ARGS. */
#define RIDER_RUN(first, stride)                                                                \
    rider_run(rin, rin_off, rout, rout_off, rscale, rshift, repi, rN, rH, rW, rtotal, first,    \
              stride)

static void rider_run(RIDER_ARGS, uint first, uint stride)
{
    const int Ho = (rH - 3) / 2 + 1, Wo = (rW - 3) / 2 + 1;
    const uint per_plane = (uint)(Ho * Wo);
    for (uint i = first; i < rtotal; i += stride) {
        const uint p = i / per_plane, r = i - p * per_plane;
        const uint oy = r / (uint)Wo, ox = r - oy * (uint)Wo;
        const int c = (int)(p / (uint)rN);
        float v = max3x3(rin + rin_off + (size_t)p * rH * rW + (2 * oy) * rW + 2 * ox, rW);
        if (repi & EPI_BIT_AFFINE) v = fma(v, rscale[c], rshift[c]);
        if (repi & EPI_BIT_RELU2) v = fmax(v, 0.0f);
        rout[(size_t)rout_off + i] = v;
    }
}

/* Planes first, first + stride, ... of the pool in RIDER_ARGS, max_plane each. */
#define RIDER_PLANES(first, stride)                                                             \
    rider_planes(rin, rin_off, rout, rout_off, rscale, rshift, repi, rN, rH, rW, rtotal, first, \
                 stride)

static void rider_planes(RIDER_ARGS, uint first, uint stride)
{
    const int Ho = (rH - 3) / 2 + 1, Wo = (rW - 3) / 2 + 1;
    const int affine = (repi & EPI_BIT_AFFINE) != 0, relu2 = (repi & EPI_BIT_RELU2) != 0;
    for (uint p = first; p < rtotal / (uint)(Ho * Wo); p += stride) {
        const int c = (int)(p / (uint)rN);
        max_plane(rin + rin_off + (size_t)p * rH * rW, rout + rout_off + (size_t)p * Ho * Wo, rW,
                  Ho, Wo, affine ? rscale[c] : 1.0f, affine ? rshift[c] : 0.0f, affine, relu2);
    }
}

#endif
