/* classifier.cl: the network's end at small batches in one launch: the global average pool
 * and the fully connected classifier, logits[k][n] = bias[k] + sum over c of
 * w[k][c] * mean(in[c][n]), the activations [C][N][H][W], the logits [K][N] (the layout of the
 * 1x1 conv it replaces).
 *
 * classifier: NDRange (S*GROUP, B), local (GROUP, 1): work-group (s, b) takes features
 * [s*SLICE, (s+1)*SLICE) (S = ceil(C/SLICE) slices of the reduction) and classes
 * [b*GROUP, (b+1)*GROUP) (B = ceil(K/GROUP) blocks), one class per work-item. It sums its
 * features' planes itself (the slice's planes are contiguous: C-major, then image), LANES
 * work-items per plane, into local memory; then each work-item multiplies its class's
 * weights (packed [C][Kp], Kp = B*GROUP, zero past K, so neighbouring items read neighbouring
 * floats) by the NB sums, one sum per image in registers. With S > 1 each work-group writes
 * its NB sums to part[b][s][n][item] and counts itself in counters[b] (B + 1 ints at
 * count_off, zero before the first launch: one per block, then HEAD 2's count of blocks);
 * the last of block b to arrive adds the S parts in slice order (the result does not depend
 * on which arrives last), writes the logits and sets its counter back to 0. OpenCL 1.2
 * makes global memory visible across work-groups only through atomics: the parts are
 * written and read by atomics (atomic_xchg; atomic_or with 0).
 *
 * With HEAD the kernel also ends the network (cl/head.cl's work, no launch of its own): the
 * logits go to out as [NB][K] (HEAD 1), or as probabilities (HEAD 2, softmax over each
 * image's K, max-subtracted): each block's logits are written by atomics, the block counts
 * itself in counters[B] (after the blocks' counters), and the last block to arrive reads all
 * K x NB logits back and rewrites them as probabilities, its work-items taking classes
 * j, j + GROUP, ... and reducing the max and the sum in local memory.
 *
 * -D flags: GROUP (work-items per group, a power of two, a multiple of LANES), SLICE
 * (features per slice), NB (images, the batch), SPLIT (1 where S > 1: the hand-over is
 * compiled only where it runs, and its barriers are never under a branch, which PoCL's
 * work-group loops mishandle), HEAD (0: logits [K][NB]; 1, 2 above).
 */

/* Work-items summing one plane: neighbouring items read neighbouring floats. */
#define LANES 8
#ifndef HEAD
#define HEAD 0
#endif

/* Orders this work-item's global accesses for the whole device (the hand-over of the parts):
 * OpenCL 1.2 leaves mem_fence's scope open, and NVIDIA's may be the work-group's. */
#if defined(__NVPTX__) || defined(__NV_CL_C_VERSION)
#define DEVICE_FENCE() __asm__ volatile("membar.gl;" ::: "memory")
#else
#define DEVICE_FENCE() mem_fence(CLK_GLOBAL_MEM_FENCE)
#endif

/* The sums of the slice's planes (fs*NB of HW floats, contiguous from src) into pooled. */
static void pool_slice(__global const float *src, int planes, int HW, __local float *pooled,
                       __local float *red)
{
    const int lid = get_local_id(0), lane = lid % LANES, row = lid / LANES;
    for (int p0 = 0; p0 < planes; p0 += GROUP / LANES) { /* uniform across the group */
        const int p = p0 + row;
        float sum = 0.0f;
        if (p < planes)
            for (int i = lane; i < HW; i += LANES) sum += src[(size_t)p * HW + i];
        red[lid] = sum;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lane == 0 && p < planes) {
            float t = red[lid];
            for (int l = 1; l < LANES; l++) t += red[lid + l];
            pooled[p] = t;
        }
        barrier(CLK_LOCAL_MEM_FENCE); /* red is free, pooled complete, for the next round */
    }
}

/* acc (this work-group's part, slice s) becomes the sum of the S parts of the block (at
 * parts, NB * GROUP floats apart, this work-item's first), added in slice order. */
static void sum_parts(__global float *parts, int s, int S, float *acc)
{
    float own[NB];
#pragma unroll
    for (int n = 0; n < NB; n++) own[n] = acc[n], acc[n] = 0.0f;
    for (int z = 0; z < S; z++) {
        volatile __global int *src = (volatile __global int *)(parts + (size_t)z * NB * GROUP);
#pragma unroll
        for (int n = 0; n < NB; n++)
            acc[n] += z == s ? own[n] : as_float(atomic_or(src + n * GROUP, 0));
    }
}

#if HEAD == 2
#include "reduce.h"

/* After each block's logits are out (done: this work-group wrote its block's), the last block
 * to arrive turns every image's K logits at out into probabilities; counter: the blocks'
 * count, back to 0 after. The loop's trip count is the same for the whole work-group, so
 * its barriers are never under a branch. */
static void softmax_last(volatile __global int *counter, int done, __global float *out, int K,
                         __local float *red, __local int *lastb)
{
    const int lid = get_local_id(0), B = get_num_groups(1);
    DEVICE_FENCE(); /* the logits reach memory before the count */
    barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE);
    if (lid == 0) *lastb = done && atomic_inc(counter) == B - 1;
    barrier(CLK_LOCAL_MEM_FENCE);
    const int images = *lastb ? NB : 0;
    if (images) DEVICE_FENCE();
    for (int n = 0; n < images; n++) {
        volatile __global int *row = (volatile __global int *)(out + (size_t)n * K);
        float mx = -INFINITY, sum = 0.0f;
        for (int k = lid; k < K; k += GROUP) mx = fmax(mx, as_float(atomic_or(row + k, 0)));
        red[lid] = mx;
        tree_reduce(red, lid, GROUP, 1);
        mx = red[0];
        barrier(CLK_LOCAL_MEM_FENCE); /* every item has read red[0] before it is overwritten */
        for (int k = lid; k < K; k += GROUP) sum += exp(as_float(atomic_or(row + k, 0)) - mx);
        red[lid] = sum;
        tree_reduce(red, lid, GROUP, 0);
        const float inv = 1.0f / red[0];
        for (int k = lid; k < K; k += GROUP)
            atomic_xchg(row + k, as_int(exp(as_float(atomic_or(row + k, 0)) - mx) * inv));
        barrier(CLK_LOCAL_MEM_FENCE); /* red[0] read by all before the next image */
    }
    if (images && lid == 0) atomic_xchg(counter, 0); /* ready for the next launch */
}
#endif

__kernel __attribute__((reqd_work_group_size(GROUP, 1, 1))) void
classifier(__global const float *in, uint in_off, __global const float *wt,
           __global const float *bias, volatile __global int *counters, uint count_off,
           __global float *part, __global float *out, uint out_off, int C, int HW, int K, int Kp)
{
    __local float pooled[SLICE * NB], red[GROUP];
    __local int last;
    int done = 1; /* this work-group stores its block's logits */
    const int lid = get_local_id(0), s = get_group_id(0), b = get_group_id(1);
    const int c0 = s * SLICE, fs = min(SLICE, C - c0);
    const int k = b * GROUP + lid;
    pool_slice(in + in_off + (size_t)c0 * NB * HW, fs * NB, HW, pooled, red);

    float acc[NB];
#pragma unroll
    for (int n = 0; n < NB; n++) acc[n] = 0.0f;
    __global const float *w = wt + (size_t)c0 * Kp + k;
    for (int c = 0; c < fs; c++) {
        const float wv = w[(size_t)c * Kp];
#pragma unroll
        for (int n = 0; n < NB; n++) acc[n] = fma(wv, pooled[c * NB + n], acc[n]);
    }

    int store = k < K; /* split: in the last work-group of the block only */
#if SPLIT
    {
        const int S = get_num_groups(0);
        volatile __global float *mine = part + ((size_t)(b * S + s) * NB) * GROUP + lid;
#pragma unroll
        for (int n = 0; n < NB; n++) atomic_xchg(mine + n * GROUP, acc[n]);
        DEVICE_FENCE(); /* the parts reach memory before the count */
        barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE);
        if (lid == 0) last = atomic_inc(counters + count_off + b) == S - 1;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (last) {
            DEVICE_FENCE();
            sum_parts(part + (size_t)b * S * NB * GROUP + lid, s, S, acc);
            if (lid == 0) atomic_xchg(counters + count_off + b, 0); /* ready for the next launch */
        }
        store = store && last, done = last;
    }
#endif
    if (store) {
        const float inv = 1.0f / (float)HW, bk = bias[k];
#pragma unroll
        for (int n = 0; n < NB; n++) {
            const float v = fma(acc[n], inv, bk);
#if HEAD == 0
            out[out_off + (size_t)k * NB + n] = v;
#elif HEAD == 1
            out[out_off + (size_t)n * K + k] = v;
#else
            atomic_xchg((volatile __global float *)(out + out_off + (size_t)n * K + k), v);
#endif
        }
    }
#if HEAD == 2
    softmax_last(counters + count_off + get_num_groups(1), done, out + out_off, K, red, &last);
#endif
}
