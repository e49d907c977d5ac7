/* kernels.c: irv2-kernels, a developer benchmark of single convolutions of the network's
 * shapes: cl/conv.cl at several tilings against CLBlast SGEMM (1x1 shapes), in GFLOP/s.
 * Usage: irv2-kernels [device-spec] [iterations]. */
#include "context.h"
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct bench_case {
    const char *name;
    int cin, cout, kh, kw, stride, ph, pw, h, w;
} bench_case;

static const bench_case cases[] = {
    {"stem conv3 3x3 32->64 147", 32, 64, 3, 3, 1, 1, 1, 147, 147},
    {"stem conv4 3x3s2 64->96 147", 64, 96, 3, 3, 2, 0, 0, 147, 147},
    {"stem 3x3 64->96 73 valid", 64, 96, 3, 3, 1, 0, 0, 73, 73},
    {"A 1x1 384->32 35", 384, 32, 1, 1, 1, 0, 0, 35, 35},
    {"A proj 1x1 128->384 35", 128, 384, 1, 1, 1, 0, 0, 35, 35},
    {"A 3x3 32->48 35", 32, 48, 3, 3, 1, 1, 1, 35, 35},
    {"redA 3x3s2 384->384 35", 384, 384, 3, 3, 2, 0, 0, 35, 35},
    {"redB 3x3s2 256->384 17", 256, 384, 3, 3, 2, 0, 0, 17, 17},
    {"B 1x1 1152->192 17", 1152, 192, 1, 1, 1, 0, 0, 17, 17},
    {"B 1x7 128->160 17", 128, 160, 1, 7, 1, 0, 3, 17, 17},
    {"B 7x1 160->192 17", 160, 192, 7, 1, 1, 3, 0, 17, 17},
    {"B proj 1x1 384->1152 17", 384, 1152, 1, 1, 1, 0, 0, 17, 17},
    {"C 1x1 2144->192 8", 2144, 192, 1, 1, 1, 0, 0, 8, 8},
    {"C proj 1x1 448->2144 8", 448, 2144, 1, 1, 1, 0, 0, 8, 8},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static cl_mem filled(irv2_context *ctx, size_t floats)
{
    cl_mem m = NULL;
    float zero = 0.25f;
    if (ctx_buffer(ctx, floats * sizeof(float), CL_MEM_READ_WRITE, "bench", &m) != IRV2_OK) return NULL;
    clEnqueueFillBuffer(ctx->queue, m, &zero, sizeof zero, 0, floats * sizeof(float), 0, NULL, NULL);
    return m;
}

/* Seconds per call of fn over iters calls after one warm-up; one wait at the end. */
static double time_op(irv2_context *ctx, const op_launch *op, int iters)
{
    op_enqueue(ctx, op, NULL);
    clFinish(ctx->queue);
    double t0 = now_s();
    for (int i = 0; i < iters; i++) op_enqueue(ctx, op, NULL);
    clFinish(ctx->queue);
    return (now_s() - t0) / iters;
}

static double time_gemm(irv2_context *ctx, int m, int n, int k, cl_mem a, op_buf b, op_buf c,
                        int iters)
{
    if (gemm_clblast(ctx, m, n, k, a, 0, b, c, 0.0f, NULL) != IRV2_OK) return -1;
    clFinish(ctx->queue);
    double t0 = now_s();
    for (int i = 0; i < iters; i++) gemm_clblast(ctx, m, n, k, a, 0, b, c, 0.0f, NULL);
    clFinish(ctx->queue);
    return (now_s() - t0) / iters;
}

int main(int argc, char **argv)
{
    irv2_context *ctx;
    int iters = argc > 2 ? atoi(argv[2]) : 10;
    if (irv2_context_create(argc > 1 ? argv[1] : NULL, &ctx) != IRV2_OK) {
        fprintf(stderr, "irv2-kernels: %s\n", irv2_last_error());
        return 1;
    }
    const conv_tiling tilings[] = {{8, 8}, {16, 4}, {8, 12}, {16, 6}};
    printf("%-30s %8s %8s %8s %8s %8s  (GFLOP/s)\n", "case", "v8m8", "v16m4", "v8m12", "v16m6",
           "clblast");
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const bench_case *bc = &cases[ci];
        conv_shape s = {bc->cin, bc->cout, bc->kh, bc->kw, bc->stride, bc->ph, bc->pw, 1, bc->h, bc->w, 0, 0};
        if (bc->kh == 1 && bc->kw == 1) s.h = 1, s.w = bc->h * bc->w;
        if (conv_shape_finish(&s) != IRV2_OK) return 1;
        double flop = 2.0 * s.cout * s.cin * s.kh * s.kw * s.ho * s.wo;
        size_t guard = 4096, in_n = (size_t)s.cin * s.h * s.w, out_n = (size_t)s.cout * s.ho * s.wo;
        cl_mem in = filled(ctx, in_n + 2 * guard), out = filled(ctx, out_n + 2 * guard);
        cl_mem w = filled(ctx, (size_t)(s.cout + 16) * s.cin * s.kh * s.kw), bias = filled(ctx, s.cout);
        printf("%-30s", bc->name);
        for (size_t t = 0; t < sizeof tilings / sizeof tilings[0]; t++) {
            op_launch op;
            op_epilogue epi = {1, 0, 0, 0};
            if (conv_op(ctx, &s, tilings[t], epi, (op_buf){in, guard}, w, bias, NULL, NULL,
                        (op_buf){out, guard}, &op) != IRV2_OK) {
                printf(" %8s", "fail");
                continue;
            }
            printf(" %8.1f", flop / time_op(ctx, &op, iters) * 1e-9);
            fflush(stdout);
            op_release(&op);
        }
        size_t scratch_n = conv_phase_scratch(&s);
        if (scratch_n) { /* stride 2 through the parity planes */
            cl_mem scratch = filled(ctx, scratch_n + 2 * guard);
            printf("\n%-30s", "  ...as parity planes");
            for (size_t t = 0; t < sizeof tilings / sizeof tilings[0]; t++) {
                op_launch split, op;
                op_epilogue epi = {1, 0, 0, 0};
                if (conv_phase_op(ctx, &s, tilings[t], epi, (op_buf){in, guard},
                                  (op_buf){scratch, guard}, w, bias, NULL, NULL,
                                  (op_buf){out, guard}, &split, &op) != IRV2_OK) {
                    printf(" %8s", "fail");
                    continue;
                }
                double secs = time_op(ctx, &split, iters) + time_op(ctx, &op, iters);
                printf(" %8.1f", flop / secs * 1e-9);
                fflush(stdout);
                op_release(&split);
                op_release(&op);
            }
            clReleaseMemObject(scratch);
        }
        if (s.kh == 1 && s.kw == 1) {
            double t = time_gemm(ctx, s.cout, s.w, s.cin, w, (op_buf){in, guard}, (op_buf){out, guard}, iters);
            printf(" %8.1f", t > 0 ? flop / t * 1e-9 : 0.0);
        }
        printf("\n");
        clReleaseMemObject(in), clReleaseMemObject(out), clReleaseMemObject(w), clReleaseMemObject(bias);
    }
    irv2_context_free(ctx);
    return 0;
}
