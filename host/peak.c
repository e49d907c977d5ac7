/* peak.c: measuring the device's SGEMM peak (irv2's GEMM kernels at each tiling, direct and
 * over packed panels with the packing counted, and CLBlast) on a square product, so
 * benchmarks can state each layer's fraction of it. */
#include "context.h"
#include "ops/ops.h"
#include "tune.h"

#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Best seconds per call (all nops launches, or CLBlast when nops is 0) over three timed
 * groups of reps calls, after one warm-up call. */
static double best_time(irv2_context *ctx, const op_launch *ops, int nops, const cl_mem *gemm_bufs,
                        unsigned size, int reps)
{
    double best = -1;
    for (int round = 0; round < 4; round++) {
        double t0 = now_s();
        for (int r = 0; r < (round ? reps : 1); r++) {
            irv2_status st = IRV2_OK;
            for (int k = 0; k < nops && st == IRV2_OK; k++) st = op_enqueue(ctx, &ops[k], NULL);
            if (nops == 0)
                st = gemm_clblast(ctx, (int)size, (int)size, (int)size, gemm_bufs[0], 0,
                                  (op_buf){gemm_bufs[1], 0}, (op_buf){gemm_bufs[2], 0}, 0.0f, NULL);
            if (st != IRV2_OK) return -1;
        }
        if (clFinish(ctx->queue) != CL_SUCCESS) return -1;
        double t = (now_s() - t0) / (round ? reps : 1);
        if (round && (best < 0 || t < best)) best = t;
    }
    return best;
}

irv2_status irv2_context_sgemm_peak(irv2_context *ctx, unsigned size, double *native_gflops,
                                    double *clblast_gflops)
{
    conv_tiling tilings[TUNE_MAX_TILINGS];
    irv2_clear_error();
    if (!ctx || !native_gflops || !clblast_gflops)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_context_sgemm_peak: NULL argument");
    if (size == 0) size = 1024;
    if (size > 8192) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "sgemm peak: size %u", size);
    size_t ntilings = tune_tilings(ctx, tilings, TUNE_MAX_TILINGS);
    *native_gflops = *clblast_gflops = 0;
    /* A and C with room for the widest tile's padding and the kernel's guard reads. */
    size_t n = (size_t)size * size, guard = 4096, a_count = (size_t)(size + 32) * size;
    conv_shape s = {.cin = (int)size, .cout = (int)size, .kh = 1, .kw = 1, .stride = 1, .n = 1,
                    .h = 1, .w = (int)size};
    irv2_status st = conv_shape_finish(&s);
    cl_mem bufs[5] = {0};
    const char *what[5] = {"peak A", "peak B", "peak C", "peak bias", "peak panels"};
    const size_t counts[5] = {a_count, n + 2 * guard, n + 2 * guard, size + 16,
                              conv_panel_scratch(&s, (conv_tiling){16, 16})};
    for (int i = 0; i < 5 && st == IRV2_OK; i++) {
        float v = 0.01f;
        st = ctx_buffer(ctx, counts[i] * sizeof(float), CL_MEM_READ_WRITE, what[i], &bufs[i]);
        if (st == IRV2_OK)
            st = ctx_cl_check(ctx, clEnqueueFillBuffer(ctx->queue, bufs[i], &v, sizeof v, 0,
                                                       counts[i] * sizeof(float), 0, NULL, NULL),
                              "clEnqueueFillBuffer");
    }
    double flop = 2.0 * size * size * size;
    for (size_t i = 0; st == IRV2_OK && i < 2 * ntilings; i++) {
        conv_form f = {tilings[i / 2], 0, 0, (int)(i % 2)};
        op_launch ops[CONV_MAX_LAUNCHES];
        int nops = 0;
        conv_out out = conv_out_one((op_buf){bufs[2], guard});
        if (conv_launches(ctx, &s, &f, (op_epilogue){0}, (op_buf){bufs[1], guard},
                          (op_buf){bufs[4], 0}, bufs[0], bufs[3], NULL, NULL, &out, ops,
                          &nops) != IRV2_OK)
            continue;
        double t = best_time(ctx, ops, nops, NULL, size, 2);
        if (t > 0 && flop / t * 1e-9 > *native_gflops) *native_gflops = flop / t * 1e-9;
        while (nops > 0) op_release(&ops[--nops]);
    }
    if (st == IRV2_OK) {
        double t = best_time(ctx, NULL, 0, bufs, size, 2);
        if (t > 0) *clblast_gflops = flop / t * 1e-9;
    }
    for (int i = 0; i < 5; i++)
        if (bufs[i]) clReleaseMemObject(bufs[i]);
    if (st == IRV2_OK) irv2_clear_error();
    return st;
}
