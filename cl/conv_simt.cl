/* conv_simt.cl: convolution as an implicit GEMM in the CUTLASS SIMT style, for GPUs (any
 * KHxKW, stride 1 or 2, any padding below the kernel size), with the fused epilogue.
 *
 * Layout: activations [C][N][H][W]; out[co][pos] = sum over k of w[co][k] x[k][pos], npos =
 * N*H_out*W_out, k = (kh*KW + kw)*cinp + c tap-major over the channels padded to cinp =
 * ceil(Cin/BK)*BK (a slice of BK rows lies in one tap), S = KH*KW*cinp/BK slices. Weights
 * packed as [ceil(Cout/BM)][KH][KW][cinp][BM], zero for c >= Cin and co >= Cout.
 *
 * A work-group of GROUP = (BM/RM)*(BN/RN) work-items computes BM channels x BN positions.
 * Per slice both operand tiles are staged in local memory, double-buffered (the next slice's
 * global loads in registers during this one's FMAs, one barrier per slice). The input is
 * gathered as im2col would lay it out (zeros in the padding), each work-item on fixed
 * positions whose window origin it computes once, advancing tap and channel with no division.
 * A work-item holds RM x RN sums: channels ty*4 + {0..3} (+ BM/2 for RM = 8), positions
 * tx*4 + {0..3} (+ BN/2 for RN = 8), each fragment one 128-bit local load; a warp's 32 lanes
 * are WX = min(8, BN/RN) tx x 32/WX ty, so a fragment load reads at most 8 distinct float4s.
 * The sums are float2 pairs of positions (one packed FMA on AMD's gfx90a).
 *
 * conv_simt: NDRange (ceil(npos/BN)*GROUP, ceil(Cout/BM)), local (GROUP, 1).
 * conv_simt_split: the reduction in parts = ceil(S/sper) of sper slices, z = get_group_id(2):
 * NDRange (ceil(npos/BN)*GROUP, ceil(Cout/BM), parts), local (GROUP, 1, 1). Each work-group
 * writes its raw sums (all BM*BN) to part[tile][z] (tile = y*tiles_x + x; tiles*parts*BM*BN
 * floats) and counts itself in counters[tile] (tiles ints, zero before the first launch);
 * the last to arrive adds the parts, stores the tile and sets its counter back to 0. OpenCL
 * 1.2 makes global memory visible across work-groups only through atomics: the partial sums
 * are written and read by atomics too (atomic_xchg; atomic_or with 0).
 * Output parts: cl/conv_out.h. `accumulate` adds the output's old value (in-place residual).
 * With RIDER, both kernels take the RIDER_ARGS of a max pool after `epi` (before the split's
 * arguments) and R more rows of work-groups in dimension 1 (ceil(Cout/BM) + R), which run it.
 *
 * -D flags below; the epilogue's RELU1, AFFINE, RELU2 (cl/epilogue.h). KH, KW, SH, PH, PW
 * all given fix the geometry; none given, the kernels read their arguments kh ... pw (the
 * compact set, with -DEPI_ARG). The kernels take those arguments either way.
 */

#ifndef BM
#define BM 128 // output channels per work-group
#endif
#ifndef BN
#define BN 128 // output positions per work-group
#endif
#ifndef BK
#define BK 8 // reduction rows per local-memory slice (the packing's channel padding)
#endif
#ifndef RM
#define RM 8 // output channels per work-item (4 or 8)
#endif
#ifndef RN
#define RN 8 // output positions per work-item (4 or 8)
#endif
#ifndef RIDER
#define RIDER 0 // 1: work-groups past the channel tiles run a max pool (cl/pool_rider.h)
#endif
#ifndef VECX
#define VECX 0 // 1: float4 input loads (1x1 stride-1 unpadded only, run as n = h = 1, w = npos; in_off, in_cstride multiples of 4)
#endif
#if defined(KH) != defined(KW) || defined(KH) != defined(SH) || defined(KH) != defined(PH) || \
    defined(KH) != defined(PW)
#error "KH, KW, SH, PH and PW are given together or not at all"
#endif

#define TY (BM / RM)
#define TX (BN / RN)
#define GROUP (TX * TY)
#define WX (TX < 8 ? TX : 8) /* a warp's work-items along the positions */
#define GM (RM / 4) /* float4 fragments per work-item along the channels */
#define GN (RN / 4) /* ... along the positions */
#define WT4 (BK * BM / 4 / GROUP) /* float4 weight loads per work-item per slice */
#define XCOLS (VECX ? BN / 4 : BN) /* input loaders per row of a slice */
#define XSTEP (GROUP / XCOLS)     /* rows between one work-item's input loads */
#define XN (BK / XSTEP)           /* input loads per work-item per slice */
#define XW (VECX ? 4 : 1)     /* floats per input load */
#if VECX
typedef float4 xval;
#else
typedef float xval;
#endif
#if (RM != 4 && RM != 8) || (RN != 4 && RN != 8) || BM % RM || BN % RN || TX % WX || \
    TY % (32 / WX) || 32 % WX
#error "RM, RN 4 or 8; a warp of 32 work-items tiles the work-group as WX x 32/WX"
#endif
#if GROUP % XCOLS || BK % XSTEP || (BK * BM) % (4 * GROUP)
#error "the tile's slices do not divide evenly among the work-group"
#endif

#include "epilogue.h"
#include "conv_out.h"
#if RIDER
#include "pool_rider.h"
#define SIMT_RIDER_ARGS , RIDER_ARGS
/* Work-groups from the channel tiles on (dimension 1) run the pool and leave: a whole group
 * at once, before any barrier. */
#define SIMT_RIDER_TAKE                                                                         \
    if ((int)get_group_id(1) >= (cout + BM - 1) / BM) {                                         \
        const uint nx = get_num_groups(0), ny = get_num_groups(1) - (cout + BM - 1) / BM;       \
        const uint r = (get_group_id(2) * ny + get_group_id(1) - (cout + BM - 1) / BM) * nx +   \
                       get_group_id(0);                                                         \
        RIDER_RUN(r * GROUP + lid, nx * ny * get_num_groups(2) * GROUP);                        \
        return;                                                                                 \
    }
#else
#define SIMT_RIDER_ARGS
#define SIMT_RIDER_TAKE
#endif
DEFINE_FINISH(finish_one, float)
#ifndef SIMT_FN /* every helper inlined, so the sums stay in registers (-O0: -DSIMT_FN=static) */
#define SIMT_FN static inline __attribute__((always_inline))
#endif
/* Orders this work-item's global accesses for the whole device (the split's hand-over):
 * OpenCL 1.2 leaves mem_fence's scope open, and NVIDIA's may be the work-group's. */
#if defined(__NVPTX__) || defined(__NV_CL_C_VERSION)
#define DEVICE_FENCE() __asm__ volatile("membar.gl;" ::: "memory")
#else
#define DEVICE_FENCE() mem_fence(CLK_GLOBAL_MEM_FENCE)
#endif
/* The work-group size; on AMD also 4 waves per SIMD and 2 rows of a slice unrolled, else its
 * scheduler hoists the local loads of many rows and runs 2 waves in 200+ VGPRs. */
#ifdef __AMDGCN__
#define KK_UNROLL 2
#define SIMT_GROUP __attribute__((reqd_work_group_size(GROUP, 1, 1), amdgpu_waves_per_eu(4)))
#else
#define KK_UNROLL BK
#define SIMT_GROUP __attribute__((reqd_work_group_size(GROUP, 1, 1)))
#endif
typedef struct simt_geom { int kh, kw, sh, ph, pw; } simt_geom;
#ifdef KH
#define GEOM {KH, KW, SH, PH, PW}
#else
#define GEOM {kh, kw, sh, ph, pw}
#endif
/* What a work-item needs to gather its input loads: at, its first row's offset in `in` in
 * the slice (valid only in_image; offsets below 2^32); iy0, ix0, its positions' window
 * origin; the slice's tap (kh, kw) and first channel c0, advanced per slice with no division;
 * left, the slice's rows of this work-item that are real channels; n, its positions < npos
 * (read in the loop with VECX only: past npos iy0 is SIMT_OUTSIDE, one register fewer). */
typedef struct simt_src { uint at; int n, iy0, ix0, kh, kw, c0, left; } simt_src;
/* A window origin row above every image whatever the tap (kernels are far below 2^29 rows). */
#define SIMT_OUTSIDE (-(1 << 29))
/* The work-item's source from slice s0 on, for input row `row` of each slice: the only
 * divisions, once per kernel. */
SIMT_FN simt_src source_of(simt_geom g, __global const float *in, uint in_off, int pos, int npos,
                           int h, int w, int ho, int wo, int cin, int cstride, int row, int s0,
                           int spt)
{
    const int tap = s0 / spt, kh = tap / g.kw;
    simt_src s = {in_off, clamp(npos - pos, 0, VECX ? 4 : 1), 0, 0, kh, tap - kh * g.kw,
                  (s0 - tap * spt) * BK, 0};
    if (VECX) s.at += pos;
    else if (s.n) {
        const int img = pos / (ho * wo), r = pos - img * (ho * wo), oy = r / wo;
        s.iy0 = oy * g.sh - g.ph, s.ix0 = (r - oy * wo) * g.sh - g.pw;
        s.at += img * h * w + s.iy0 * w + s.ix0;
    } else
        s.iy0 = SIMT_OUTSIDE;
    s.at += (s.c0 + row) * cstride + s.kh * w + s.kw;
    s.left = cin - s.c0 - row;
    return s;
}

/* The next slice: the next BK channels, else channel 0 of the next tap. */
SIMT_FN void advance(simt_src *s, simt_geom g, int cin, int cinp, int cstride, int w)
{
    int step = BK * cstride;
    s->c0 += BK, s->left -= BK;
    if (s->c0 == cinp) {
        step += 1 - cinp * cstride, s->c0 = 0, s->left += cinp, s->kw++;
        if (s->kw == g.kw) step += w - g.kw, s->kw = 0, s->kh++;
    }
    s->at += step;
}

/* The slice's global loads into registers: the weight rows (contiguous in the packing) and
 * the work-item's input rows r*XSTEP on at its positions, 0 past Cin, npos or the image. */
SIMT_FN void load_slice(__global const float4 *wt, __global const float *in, simt_src s, int h,
                        int w, int cstride, float4 wr[WT4], xval xr[XN])
{
#pragma unroll
    for (int q = 0; q < WT4; q++) wr[q] = wt[q * GROUP];
#if VECX
    __global const float *p = in + s.at;
#pragma unroll
    for (int r = 0; r < XN; r++, p += XSTEP * cstride) {
        const int on = r * XSTEP < s.left;
        if (on && s.n == 4) xr[r] = *(__global const float4 *)p;
        else xr[r] = (float4)(on && s.n > 0 ? p[0] : 0.0f, on && s.n > 1 ? p[1] : 0.0f,
                              on && s.n > 2 ? p[2] : 0.0f, 0.0f);
    }
#else
    const int in_image = (uint)(s.iy0 + s.kh) < (uint)h && (uint)(s.ix0 + s.kw) < (uint)w;
    __global const float *p = in + s.at;
#pragma unroll
    for (int r = 0; r < XN; r++, p += XSTEP * cstride)
        xr[r] = in_image && r * XSTEP < s.left ? *p : 0.0f;
#endif
}

/* The registers of load_slice into the local buffers wb (BK x BM) and xb (BK x BN), each
 * store a pointer plus a constant (see slice_fmas). */
SIMT_FN void store_slice(__local float4 *wb, __local float *xb, int lid, const float4 wr[WT4],
                         const xval xr[XN])
{
    wb += lid, xb += lid / XCOLS * BN + lid % XCOLS * XW;
#pragma unroll
    for (int q = 0; q < WT4; q++) wb[q * GROUP] = wr[q];
#pragma unroll
    for (int r = 0; r < XN; r++) *(__local xval *)(xb + r * XSTEP * BN) = xr[r];
}

/* The FMAs of one slice from the local buffers wb, xb into acc: per row, the work-item's
 * RM channels and RN positions as float4 fragments. The work-item's offsets ty, tx go into
 * the pointers once, so that every fragment is a pointer plus a constant (an immediate of
 * the local load); indexed by ty + constant, NVIDIA's build keeps one address per fragment
 * and row in registers (16 more on the 128-work-item tiles, which then spill under a
 * 128-register cap). */
SIMT_FN void slice_fmas(__local const float4 *wb, __local const float4 *xb, int tx, int ty,
                        float2 acc[RM][RN / 2])
{
    wb += ty, xb += tx;
#pragma unroll KK_UNROLL
    for (int kk = 0; kk < BK; kk++) {
        float a[RM];
        float2 b[RN / 2];
#pragma unroll
        for (int i = 0; i < GM; i++) {
            const float4 v = wb[kk * (BM / 4) + i * (BM / 8)];
            a[4 * i] = v.s0, a[4 * i + 1] = v.s1, a[4 * i + 2] = v.s2, a[4 * i + 3] = v.s3;
        }
#pragma unroll
        for (int j = 0; j < GN; j++) {
            const float4 v = xb[kk * (BN / 4) + j * (BN / 8)];
            b[2 * j] = v.s01, b[2 * j + 1] = v.s23;
        }
#pragma unroll
        for (int i = 0; i < RM; i++)
#pragma unroll
            for (int j = 0; j < RN / 2; j++) acc[i][j] = fma((float2)(a[i]), b[j], acc[i][j]);
    }
}

/* One slice from buffer `cur`; with `more`, the next slice's loads in flight meanwhile and
 * stored to the other buffer after (one barrier per slice). `more` and, in the loop, `cur`
 * are constants after inlining, so the buffers are constant offsets. */
SIMT_FN void slice_step(int more, int cur, simt_geom g, __global const float *in,
                        __global const float4 **wt, simt_src *src, int cin, int cinp, int h,
                        int w, int cstride, __local float4 *wtile, __local float4 *xtile, int tx,
                        int ty, float2 acc[RM][RN / 2])
{
    float4 wr[WT4];
    xval xr[XN];
    if (more) {
        *wt += BK * BM / 4;
        advance(src, g, cin, cinp, cstride, w);
        load_slice(*wt, in, *src, h, w, cstride, wr, xr);
    }
    slice_fmas(wtile + cur * (BK * BM / 4), xtile + cur * (BK * BN / 4), tx, ty, acc);
    if (more) {
        store_slice(wtile + (cur ^ 1) * (BK * BM / 4),
                    (__local float *)(xtile + (cur ^ 1) * (BK * BN / 4)), get_local_id(0), wr, xr);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* The work-group's sums over slices [s0, s1) into acc. Every work-item calls it (barriers). */
SIMT_FN void tile_sums(simt_geom g, __global const float *in, uint in_off,
                       __global const float *weights, int cin, int npos, int h, int w, int ho,
                       int wo, int cstride, int s0, int s1, __local float4 *wtile,
                       __local float4 *xtile, int tx, int ty, float2 acc[RM][RN / 2])
{
    const int lid = get_local_id(0), cinp = (cin + BK - 1) / BK * BK, spt = cinp / BK;
    const size_t K = (size_t)g.kh * g.kw * cinp;
    __global const float4 *wt =
        (__global const float4 *)(weights + (get_group_id(1) * K + (size_t)s0 * BK) * BM) + lid;
    const int pos = get_group_id(0) * BN + lid % XCOLS * XW;
    simt_src src =
        source_of(g, in, in_off, pos, npos, h, w, ho, wo, cin, cstride, lid / XCOLS, s0, spt);
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RN / 2; j++) acc[i][j] = (float2)(0.0f);
    if (s0 >= s1) return;
    float4 wr[WT4];
    xval xr[XN];
    load_slice(wt, in, src, h, w, cstride, wr, xr);
    store_slice(wtile, (__local float *)xtile, lid, wr, xr);
    barrier(CLK_LOCAL_MEM_FENCE);
#define STEP(more, cur)                                                                         \
    slice_step(more, cur, g, in, &wt, &src, cin, cinp, h, w, cstride, wtile, xtile, tx, ty, acc)
#ifdef __AMDGCN__ /* each step's loads conditional: AMD's scheduler then fits 128 VGPRs */
    for (int s = s0; s < s1; s += 2) {
        STEP(s + 1 < s1, 0);
        if (s + 1 < s1) STEP(s + 2 < s1, 1);
    }
#else /* the pair's first step always loads: fewer branches in NVIDIA's loop */
    int s = s0;
    for (; s + 1 < s1; s += 2) STEP(1, 0), STEP(s + 2 < s1, 1);
    if (s < s1) STEP(0, 0);
#endif
#undef STEP
}

/* The work-item's place in the tile: a warp's 32 lanes are WX along the positions x 32/WX
 * along the channels, the warps tiling the rest. */
SIMT_FN int2 item_of(int lid)
{
    const int lane = lid % 32, warp = lid / 32;
    return (int2)(lane % WX + WX * (warp % (TX / WX)), lane / WX + 32 / WX * (warp / (TX / WX)));
}

/* The epilogue into the output parts: acc[i][j] is channel m0 + (i/4)*(BM/2) + ty*4 + i%4 at
 * position p0 + (j/4)*(BN/2) + tx*4 + j%4; accumulate adds what the output holds. */
SIMT_FN void store_tile(const float2 acc[RM][RN / 2], int tx, int ty, conv_dst d, conv_epi e,
                       int npos, int accumulate)
{
    const int m0 = get_group_id(1) * BM + ty * 4, p0 = get_group_id(0) * BN + tx * 4;
#pragma unroll
    for (int i = 0; i < RM; i++) {
        const int co = m0 + (i / 4) * (BM / 2) + i % 4;
        __global float *dst = d.out + out_start(&d, co);
#pragma unroll
        for (int j = 0; j < RN; j++) {
            const int pos = p0 + (j / 4) * (BN / 2) + j % 4;
            const float a = j % 2 ? acc[i][j / 2].s1 : acc[i][j / 2].s0;
            if (co < d.cout && pos < npos) dst[pos] = finish_one(accumulate ? a + dst[pos] : a, co, e);
        }
    }
}

#define CONV_SIMT_ARGS                                                                          \
    __global const float *in, uint in_off, __global const float *weights,                       \
        __global const float *bias, __global const float *scale, __global const float *shift,   \
        __global float *out, uint out_off, int seg1, uint off1, int seg2, uint off2, int cin,   \
        int cout, int n, int h, int w, int ho, int wo, int in_cstride, int accumulate, int kh,  \
        int kw, int sh, int ph, int pw, int epi SIMT_RIDER_ARGS

/* What both kernels begin with. */
#define SIMT_PROLOGUE                                                                           \
    __local float4 wtile[2 * BK * BM / 4], xtile[2 * BK * BN / 4];                              \
    float2 acc[RM][RN / 2];                                                                     \
    const simt_geom g = GEOM;                                                                   \
    const int lid = get_local_id(0), npos = n * ho * wo, S = g.kh * g.kw * ((cin + BK - 1) / BK); \
    const int2 t = item_of(lid);                                                                \
    const conv_dst d = conv_dst_of(out, out_off, seg1, off1, seg2, off2, cout, (size_t)npos);  \
    const conv_epi e = {bias, scale, shift, epi}

/* The whole reduction, then the epilogue. */
__kernel SIMT_GROUP void conv_simt(CONV_SIMT_ARGS)
{
    SIMT_PROLOGUE;
    SIMT_RIDER_TAKE;
    tile_sums(g, in, in_off, weights, cin, npos, h, w, ho, wo, in_cstride, 0, S, wtile, xtile,
              t.x, t.y, acc);
    store_tile(acc, t.x, t.y, d, e, npos, accumulate);
}

/* Slices [z*sper, (z+1)*sper) of the reduction; the last work-group of a tile to finish adds
 * the other parts' sums (at part_off in part) and stores the tile. The partial sums and the
 * counters (at count_off in counters) are only accessed by atomics. */
__kernel SIMT_GROUP void conv_simt_split(CONV_SIMT_ARGS, __global float *part, uint part_off,
                                         volatile __global int *counters, uint count_off,
                                         int sper)
{
    SIMT_PROLOGUE;
    SIMT_RIDER_TAKE;
    __local int last;
    const int z = get_group_id(2), parts = get_num_groups(2);
    tile_sums(g, in, in_off, weights, cin, npos, h, w, ho, wo, in_cstride, z * sper,
              min(S, (z + 1) * sper), wtile, xtile, t.x, t.y, acc);
    const int tile = get_group_id(1) * get_num_groups(0) + get_group_id(0);
    volatile __global float *tp = part + part_off + (size_t)tile * parts * (BM * BN) + lid;
#pragma unroll
    for (int k = 0; k < RM * RN; k++) /* every row and position, past Cout and npos too */
        atomic_xchg(tp + (size_t)z * (BM * BN) + k * GROUP,
                    k % 2 ? acc[k / RN][k % RN / 2].s1 : acc[k / RN][k % RN / 2].s0);
    DEVICE_FENCE(); /* the sums reach memory before the count */
    barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE);
    counters += count_off + tile;
    if (lid == 0) last = atomic_inc(counters) == parts - 1;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (!last) return;
    DEVICE_FENCE();
    for (int zz = 0; zz < parts; zz++) {
        volatile __global int *src = (volatile __global int *)(tp + (size_t)zz * (BM * BN));
#pragma unroll
        for (int k = 0; k < RM * RN && zz != z; k += 2)
            acc[k / RN][k % RN / 2] += (float2)(as_float(atomic_or(src + k * GROUP, 0)),
                                                as_float(atomic_or(src + (k + 1) * GROUP, 0)));
    }
    if (lid == 0) atomic_xchg(counters, 0); /* ready for the next launch */
    store_tile(acc, t.x, t.y, d, e, npos, accumulate);
}
