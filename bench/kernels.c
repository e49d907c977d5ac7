/* kernels.c: irv2-kernels, a developer benchmark of single convolutions of the network's
 * shapes (batch 1, and two flat GEMMs): every form the tuner would time in full tuning
 * (every family's candidates and their refinements), one line per form in GFLOP/s, the best
 * of a few timed groups of about 20 ms after a warm-up.
 * Usage: irv2-kernels [device-spec] [groups] [case-filter] [form-filter] [cold-MiB]
 * (filters: substrings of the case name and of the form as tuning.txt writes it,
 * "direct 16 6 0"; cold-MiB: a host buffer of that size written before each timed run, to
 * time each form from cold caches). */
#include "ops/conv.h"
#include "runtime/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench_case {
    const char *name;
    int cin, cout, kh, kw, stride, ph, pw, h, w;
    int n; /* images */
} bench_case;

static const bench_case cases[] = {
    {"stem conv3 3x3 32->64 147", 32, 64, 3, 3, 1, 1, 1, 147, 147, 1},
    {"stem conv4 3x3s2 64->96 147", 64, 96, 3, 3, 2, 0, 0, 147, 147, 1},
    {"stem 3x3 64->96 73 valid", 64, 96, 3, 3, 1, 0, 0, 73, 73, 1},
    {"A 1x1 384->32 35", 384, 32, 1, 1, 1, 0, 0, 35, 35, 1},
    {"A proj 1x1 128->384 35", 128, 384, 1, 1, 1, 0, 0, 35, 35, 1},
    {"A 3x3 32->48 35", 32, 48, 3, 3, 1, 1, 1, 35, 35, 1},
    {"redA 3x3s2 384->384 35", 384, 384, 3, 3, 2, 0, 0, 35, 35, 1},
    {"redB 3x3s2 256->384 17", 256, 384, 3, 3, 2, 0, 0, 17, 17, 1},
    {"stem conv6 3x3s2 192->192 71 b8", 192, 192, 3, 3, 2, 0, 0, 71, 71, 8},
    {"redA 3x3s2 384->384 35 b8", 384, 384, 3, 3, 2, 0, 0, 35, 35, 8},
    {"B 1x1 1152->192 17", 1152, 192, 1, 1, 1, 0, 0, 17, 17, 1},
    {"B 1x7 128->160 17", 128, 160, 1, 7, 1, 0, 3, 17, 17, 1},
    {"B 7x1 160->192 17", 160, 192, 7, 1, 1, 3, 0, 17, 17, 1},
    {"B proj 1x1 384->1152 17", 384, 1152, 1, 1, 1, 0, 0, 17, 17, 1},
    {"C 1x1 2144->192 8", 2144, 192, 1, 1, 1, 0, 0, 8, 8, 1},
    {"C proj 1x1 448->2144 8", 448, 2144, 1, 1, 1, 0, 0, 8, 8, 1},
    /* as the plan runs 1x1 convs: one GEMM over all positions (here batch 8's) */
    {"stem 1x1 reduces 160->128 flat b8", 160, 128, 1, 1, 1, 0, 0, 1, 8 * 73 * 73, 1},
    {"A 1x1 stacked 384->96 flat b8", 384, 96, 1, 1, 1, 0, 0, 1, 8 * 35 * 35, 1},
    {"A proj 1x1 128->384 flat b8", 128, 384, 1, 1, 1, 0, 0, 1, 8 * 35 * 35, 1},
    {"B 1x1+reduce 1152->320 flat b8", 1152, 320, 1, 1, 1, 0, 0, 1, 8 * 17 * 17, 1},
    {"sgemm 1024^3 flat", 1024, 1024, 1, 1, 1, 0, 0, 1, 1024, 1},
};

static const char *form_filter; /* substring of form_name(), or NULL */

#define MAX_FORMS 128

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A device buffer of floats, every one 0.25 (NULL on failure). */
static cl_mem filled(irv2_context *ctx, size_t floats)
{
    cl_mem m = NULL;
    float v = 0.25f;
    if (ctx_buffer(ctx, floats * sizeof(float), CL_MEM_READ_WRITE, "bench", &m) != IRV2_OK)
        return NULL;
    if (clEnqueueFillBuffer(ctx->queue, m, &v, sizeof v, 0, floats * sizeof(float), 0, NULL,
                            NULL) != CL_SUCCESS) {
        clReleaseMemObject(m);
        return NULL;
    }
    return m;
}

/* Seconds for `reps` runs of the launches in order, one wait at the end; -1 on failure. */
static double run_ops(irv2_context *ctx, const op_launch *ops, int nops, int reps)
{
    double t0 = now_s();
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < nops; k++)
            if (op_enqueue(ctx, &ops[k], NULL) != IRV2_OK) return -1;
    if (clFinish(ctx->queue) != CL_SUCCESS) return -1;
    return now_s() - t0;
}

static char *evict;    /* written before each timed run (cold-MiB), else NULL */
static size_t evict_n; /* its bytes */

/* Seconds per run: two warm-ups (the first compiles), then the best of `groups` groups of
 * about 20 ms each; with an eviction buffer, of `groups` single runs each after writing it,
 * so that the run starts with its buffers out of the caches. */
static double time_ops(irv2_context *ctx, const op_launch *ops, int nops, int groups)
{
    if (run_ops(ctx, ops, nops, 1) < 0) return -1;
    double once = run_ops(ctx, ops, nops, 1), best = -1;
    if (once < 0) return -1;
    int reps = once >= 0.02 || evict ? 1 : (int)(0.02 / (once > 1e-6 ? once : 1e-6)) + 1;
    for (int g = 0; g < groups; g++) {
        if (evict) memset(evict, g + 1, evict_n);
        double t = run_ops(ctx, ops, nops, reps);
        if (t < 0) return -1;
        if (best < 0 || t / reps < best) best = t / reps;
    }
    return best;
}

/* The forms to time: every family's candidates (the tuner's full list), then their
 * refinements. */
static size_t forms_of(irv2_context *ctx, const conv_shape *s, conv_form *forms)
{
    size_t n = conv_candidates(ctx, s, 1, ROWS_ALL, 0, forms, MAX_FORMS);
    for (size_t i = 0, end = n; i < end; i++)
        n += conv_refinements(s, &forms[i], 0, forms + n, MAX_FORMS - n);
    return n;
}

/* The form as tuning.txt writes it ("direct 16 6 0", "clblast"), padded to a column. */
static void form_name(const conv_form *f, char *dst, size_t cap)
{
    char text[64];
    conv_form_format(f, text, sizeof text);
    snprintf(dst, cap, "%-20s", text);
}

/* Times every form of one case; returns nonzero if its buffers could not be made. */
static int bench(irv2_context *ctx, const bench_case *bc, int groups)
{
    conv_shape s = {.cin = bc->cin, .cout = bc->cout, .kh = bc->kh, .kw = bc->kw,
                    .stride = bc->stride, .ph = bc->ph, .pw = bc->pw, .n = bc->n, .h = bc->h,
                    .w = bc->w};
    if (bc->kh == 1 && bc->kw == 1) /* as the plan runs 1x1 */
        s.h = 1, s.w = s.n * bc->h * bc->w, s.n = 1;
    if (conv_shape_finish(&s) != IRV2_OK) return 1;
    conv_form forms[MAX_FORMS];
    size_t nforms = forms_of(ctx, &s, forms), scratch_n = 1, w_n = 1;
    for (size_t i = 0; i < nforms; i++) {
        size_t sc = conv_scratch(&s, &forms[i]), wc = conv_packed_count(&s, &forms[i]);
        scratch_n = sc > scratch_n ? sc : scratch_n, w_n = wc > w_n ? wc : w_n;
    }
    const double flop = 2.0 * s.cout * s.cin * s.kh * s.kw * s.n * s.ho * s.wo;
    const size_t guard = conv_guard_bound(&s);
    const size_t in_n = (size_t)s.cin * s.n * s.h * s.w,
                 out_n = (size_t)s.cout * s.n * s.ho * s.wo;
    cl_mem in = filled(ctx, in_n + 2 * guard), out = filled(ctx, out_n + 2 * guard);
    cl_mem scratch = filled(ctx, scratch_n + 2 * guard), w = filled(ctx, w_n);
    cl_mem bias = filled(ctx, (size_t)s.cout);
    int failed = !in || !out || !scratch || !w || !bias;
    const conv_bufs b = {{in, guard}, {scratch, guard}, 0, w, bias, NULL, NULL,
                         conv_out_one((op_buf){out, guard}), NULL};
    for (size_t i = 0; !failed && i < nforms; i++) {
        op_launch ops[OP_MAX_LAUNCHES];
        int nops = 0;
        double t = -1;
        char name[64];
        form_name(&forms[i], name, sizeof name);
        if (form_filter && !strstr(name, form_filter)) continue;
        if (conv_launches(ctx, &s, &forms[i], (op_epilogue){1, 0, 0, 0}, &b, ops, &nops) == IRV2_OK)
            t = time_ops(ctx, ops, nops, groups);
        while (nops > 0) op_release(&ops[--nops]);
        if (t > 0) printf("%-30s %s %8.1f GFLOP/s\n", bc->name, name, flop / t * 1e-9);
        else printf("%-30s %s %8s  %s\n", bc->name, name, "fail", irv2_last_error());
        fflush(stdout);
    }
    cl_mem all[] = {in, out, scratch, w, bias};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i]) clReleaseMemObject(all[i]);
    return failed;
}

int main(int argc, char **argv)
{
    irv2_context *ctx;
    int groups = argc > 2 ? atoi(argv[2]) : 5;
    const char *filter = argc > 3 ? argv[3] : NULL;
    form_filter = argc > 4 && argv[4][0] ? argv[4] : NULL;
    evict_n = argc > 5 ? (size_t)strtoul(argv[5], NULL, 10) << 20 : 0;
    if (irv2_context_create(argc > 1 && argv[1][0] ? argv[1] : NULL, &ctx) != IRV2_OK) {
        fprintf(stderr, "irv2-kernels: %s\n", irv2_last_error());
        return 1;
    }
    if (evict_n && !(evict = malloc(evict_n))) {
        fprintf(stderr, "irv2-kernels: no memory for a %s MiB eviction buffer\n", argv[5]);
        irv2_context_free(ctx);
        return 1;
    }
    printf("%s: best of %d %s; case, form (family, parameters), rate\n", ctx->info.name,
           groups < 1 ? 1 : groups, evict ? "cold runs" : "groups");
    int status = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
        if (!filter || strstr(cases[ci].name, filter))
            if (bench(ctx, &cases[ci], groups < 1 ? 1 : groups)) {
                fprintf(stderr, "irv2-kernels: %s: %s\n", cases[ci].name, irv2_last_error());
                status = 1;
            }
    irv2_context_free(ctx);
    free(evict);
    return status;
}
