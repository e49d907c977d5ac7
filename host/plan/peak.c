/* peak.c: the device's SGEMM peak on a square product, for judging each layer's GFLOP/s:
 * every form of irv2's own kernels the tuner would time for it (packing included), and
 * CLBlast's. */
#include "ops/conv.h"
#include "plan/timing.h"

enum { PEAK_A, PEAK_B, PEAK_C, PEAK_BIAS, PEAK_SCRATCH, PEAK_BUFS };

/* GFLOP/s of the best form among c[0..n) (0 when none ran). */
static double best_gflops(irv2_context *ctx, const conv_shape *s, const conv_form *c, size_t n,
                          const cl_mem *bufs, size_t guard)
{
    double flop = 2.0 * s->cout * s->cin * s->w, best = 0;
    for (size_t i = 0; i < n; i++) {
        op_launch ops[OP_MAX_LAUNCHES];
        int nops = 0;
        conv_bufs b = {{bufs[PEAK_B], guard}, {bufs[PEAK_SCRATCH], 0}, 0, bufs[PEAK_A],
                       bufs[PEAK_BIAS], NULL, NULL, conv_out_one((op_buf){bufs[PEAK_C], guard}), NULL};
        if (conv_launches(ctx, s, &c[i], (op_epilogue){0}, &b, ops, &nops) != IRV2_OK) continue;
        double t = time_ops(ctx, ops, nops);
        if (t > 0 && flop / t * 1e-9 > best) best = flop / t * 1e-9;
        while (nops > 0) op_release(&ops[--nops]);
    }
    return best;
}

irv2_status irv2_context_sgemm_peak(irv2_context *ctx, unsigned size, double *native_gflops,
                                    double *clblast_gflops)
{
    irv2_clear_error();
    if (!ctx || !native_gflops || !clblast_gflops)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_context_sgemm_peak: NULL argument");
    if (size == 0) size = 1024;
    if (size > 8192) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "sgemm peak: size %u", size);
    *native_gflops = *clblast_gflops = 0;
    conv_shape s = {.cin = (int)size, .cout = (int)size, .kh = 1, .kw = 1, .stride = 1, .n = 1,
                    .h = 1, .w = (int)size};
    irv2_status st = conv_shape_finish(&s);
    conv_form native[64], clblast[4];
    size_t nn = conv_candidates(ctx, &s, 1, ROWS_OWN, 0, native, 64);
    size_t nc = conv_candidates(ctx, &s, 1, ROWS_LIBRARY, 0, clblast, 4);
    /* A with room for the widest tile's padding (128 channels), B and C for the kernels'
     * guard reads. */
    size_t guard = conv_guard_bound(&s), n = (size_t)size * size, scratch = 1;
    for (size_t i = 0; i < nn; i++)
        if (conv_scratch(&s, &native[i]) > scratch) scratch = conv_scratch(&s, &native[i]);
    cl_mem bufs[PEAK_BUFS] = {0};
    const char *what[PEAK_BUFS] = {"peak A", "peak B", "peak C", "peak bias", "peak scratch"};
    const size_t counts[PEAK_BUFS] = {(size_t)(size + 128) * size, n + 2 * guard, n + 2 * guard,
                                      size + 16, scratch};
    for (int i = 0; i < PEAK_BUFS && st == IRV2_OK; i++) {
        float v = 0.01f;
        st = ctx_buffer(ctx, counts[i] * sizeof(float), CL_MEM_READ_WRITE, what[i], &bufs[i]);
        if (st == IRV2_OK)
            st = ctx_cl_check(ctx, clEnqueueFillBuffer(ctx->queue, bufs[i], &v, sizeof v, 0,
                                                       counts[i] * sizeof(float), 0, NULL, NULL),
                              "clEnqueueFillBuffer");
    }
    if (st == IRV2_OK) {
        *native_gflops = best_gflops(ctx, &s, native, nn, bufs, guard);
        *clblast_gflops = best_gflops(ctx, &s, clblast, nc, bufs, guard);
    }
    for (int i = 0; i < PEAK_BUFS; i++)
        ctx_buffer_release(ctx, &bufs[i]);
    if (st == IRV2_OK) irv2_clear_error();
    return st;
}
