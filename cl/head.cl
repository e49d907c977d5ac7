/* head.cl: the network's output: logits stored [classes][N] (the classifier is a 1x1 conv
 * in channel-major layout) are written as [N][classes], as probabilities with -DSOFTMAX
 * (max-subtracted for range safety). Where the plan fuses the global average pool and the
 * classifier (cl/classifier.cl), that launch writes the output itself and this one is not
 * run. Two launch shapes, chosen by ops/head.c from
 * ctx_prefers_wg():
 *   head     CPU shape: one work-item per image.  NDRange (N).
 *   head_wg  work-group shape. Plain: one work-item per (class, image), neighbouring
 *            work-items on neighbouring classes (coalesced writes).  NDRange (classes, N),
 *            local left to the implementation. With SOFTMAX: one work-group of L work-items
 *            per image (L a power of two; the __local argument `part` holds L floats), each
 *            taking classes j, j + L, ...; the max and the sum are reduced in local memory.
 *            NDRange (L*N), local (L).
 */
__kernel void head(__global const float *logits, uint off, __global float *out, int classes,
                   int N)
{
    const int n = get_global_id(0);
    __global const float *src = logits + off + n;
    __global float *dst = out + (size_t)n * classes;
#ifdef SOFTMAX
    float mx = src[0];
    for (int k = 1; k < classes; k++) mx = fmax(mx, src[k * N]);
    float sum = 0.0f;
    for (int k = 0; k < classes; k++) {
        const float e = exp(src[k * N] - mx);
        dst[k] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (int k = 0; k < classes; k++) dst[k] *= inv;
#else
    for (int k = 0; k < classes; k++) dst[k] = src[k * N];
#endif
}

#ifdef SOFTMAX
#include "reduce.h"

__kernel void head_wg(__global const float *logits, uint off, __global float *out, int classes,
                      int N, __local float *part)
{
    const int j = get_local_id(0), L = get_local_size(0), n = get_group_id(0);
    __global const float *src = logits + off + n;
    __global float *dst = out + (size_t)n * classes;
    float mx = -INFINITY;
    for (int k = j; k < classes; k += L) mx = fmax(mx, src[k * N]);
    part[j] = mx;
    tree_reduce(part, j, L, 1);
    mx = part[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* every item has read part[0] before it is overwritten */
    float sum = 0.0f;
    for (int k = j; k < classes; k += L) sum += exp(src[k * N] - mx);
    part[j] = sum;
    tree_reduce(part, j, L, 0);
    const float inv = 1.0f / part[0];
    for (int k = j; k < classes; k += L) dst[k] = exp(src[k * N] - mx) * inv;
}
#else
__kernel void head_wg(__global const float *logits, uint off, __global float *out, int classes,
                      int N)
{
    const int k = get_global_id(0), n = get_global_id(1);
    out[(size_t)n * classes + k] = logits[off + (size_t)k * N + n];
}
#endif
