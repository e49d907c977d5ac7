/* test_kernels.c: each cl/ kernel, through its host/ops launcher, against naive C references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/context.h"
#include "ops/conv_family.h"
#include "ops/eltwise.h"
#include "ops/gemm_clblast.h"
#include "ops/head.h"
#include "ops/pool.h"
#include "testutil.h"

#include <clblast_c.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static irv2_context *g_ctx;

/* ---- helpers ------------------------------------------------------------------------------ */

#define assert_ok(expr)                                                                       \
    do {                                                                                      \
        irv2_status st_ = (expr);                                                             \
        if (st_ != IRV2_OK) print_message("%s: %s\n", #expr, irv2_last_error());              \
        assert_int_equal(st_, IRV2_OK);                                                       \
    } while (0)

static float *host_floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static double *host_doubles(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static float *random_floats(size_t n, uint64_t seed, float lo, float hi)
{
    float *p = host_floats(n);
    test_fill_random(p, n, seed, lo, hi);
    return p;
}

static void fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

static void upload(cl_mem m, size_t off, const float *src, size_t n)
{
    assert_int_equal(clEnqueueWriteBuffer(g_ctx->queue, m, CL_TRUE, off * sizeof(float),
                                          n * sizeof(float), src, 0, NULL, NULL),
                     CL_SUCCESS);
}

static void download(cl_mem m, size_t off, float *dst, size_t n)
{
    assert_int_equal(clEnqueueReadBuffer(g_ctx->queue, m, CL_TRUE, off * sizeof(float),
                                         n * sizeof(float), dst, 0, NULL, NULL),
                     CL_SUCCESS);
}

/* A device buffer of n floats holding src. */
static cl_mem dev_from(const float *src, size_t n)
{
    cl_int err;
    cl_mem m = clCreateBuffer(g_ctx->context, CL_MEM_READ_WRITE, n * sizeof(float), NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    upload(m, 0, src, n);
    return m;
}

static void release(cl_mem m)
{
    if (m) clReleaseMemObject(m);
}

/* Enqueues a prepared op, waits for it and releases it. */
static void run_op(op_launch *op)
{
    assert_ok(op_enqueue(g_ctx, op, NULL));
    assert_int_equal(clFinish(g_ctx->queue), CL_SUCCESS);
    op_release(op);
}

/* A device buffer of margin + count + margin floats; the tensor lives at offset margin.
 * init is the whole buffer as uploaded (margins NaN unless given). */
typedef struct guarded {
    cl_mem mem;
    size_t margin, count, total;
    float *init;
} guarded;

static guarded guarded_new(size_t count, size_t margin, const float *body)
{
    guarded g = {.margin = margin, .count = count, .total = count + 2 * margin};
    g.init = host_floats(g.total);
    fill_nan(g.init, g.total);
    if (body) memcpy(g.init + margin, body, count * sizeof(float));
    g.mem = dev_from(g.init, g.total);
    return g;
}

static op_buf guarded_buf(const guarded *g) { return (op_buf){g->mem, g->margin}; }

/* The whole buffer as it is now on the device (caller frees). */
static float *guarded_read(const guarded *g)
{
    float *now = host_floats(g->total);
    download(g->mem, 0, now, g->total);
    return now;
}

static void guarded_free(guarded *g)
{
    release(g->mem);
    free(g->init);
    memset(g, 0, sizeof *g);
}

/* Every float of now outside [lo, hi) is bit-identical to init (NaN guards included). */
static void expect_unchanged_outside(const char *what, const float *now, const float *init,
                                     size_t total, size_t lo, size_t hi)
{
    for (size_t i = 0; i < total; i++) {
        if (i >= lo && i < hi) continue;
        if (memcmp(&now[i], &init[i], sizeof(float)) != 0) {
            print_message("%s: float %zu outside the output [%zu, %zu) changed: %g -> %g\n", what,
                          i, lo, hi, (double)init[i], (double)now[i]);
            fail();
        }
    }
}

/* max |got - ref| <= tol_rel * (1 + max|ref|) + tol_abs; NaN anywhere fails. */
static void expect_close(const char *what, const float *got, const double *ref, size_t n,
                         double tol_rel, double tol_abs)
{
    double max_ref = 0.0, max_err = 0.0;
    for (size_t i = 0; i < n; i++) max_ref = fmax(max_ref, fabs(ref[i]));
    assert_true(max_ref > 0.0); /* the case must not be degenerate (e.g. all clamped by relu) */
    const double tol = tol_rel * (1.0 + max_ref) + tol_abs;
    size_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - ref[i]);
        if (!(err <= tol)) { /* NaN too */
            print_message("%s: element %zu of %zu: got %.9g, want %.9g (tol %.3g)\n", what, i, n,
                          (double)got[i], ref[i], tol);
            fail();
        }
        if (err > max_err) max_err = err, worst = i;
    }
    print_message("  %-44s %7zu values, max|err| %.2e at %zu (tol %.2e)\n", what, n, max_err,
                  worst, tol);
}

/* The shared epilogue of the conv kernels / eltwise.cl / pool.cl (net.h): bias, relu1, residual,
 * affine, relu2. */
static double epilogue_ref(double v, op_epilogue e, double old, double bias, double scale,
                           double shift)
{
    v += bias;
    if (e.relu1) v = fmax(v, 0.0);
    if (e.residual) v += old;
    if (e.affine) v = v * scale + shift;
    if (e.relu2) v = fmax(v, 0.0);
    return v;
}

/* Per-channel affine: scale of magnitude [0.25, 1.5), negative on even channels (so both
 * signs meet relu2), and shift in [-0.5, 0.5). */
static void affine_params(size_t c, uint64_t seed, float **scale, float **shift)
{
    *scale = random_floats(c, seed, 0.25f, 1.5f);
    for (size_t i = 0; i < c; i += 2) (*scale)[i] = -(*scale)[i];
    *shift = random_floats(c, seed + 1, -0.5f, 0.5f);
}

/* Epilogue flag sets {relu1, residual, affine, relu2}, usable in static tables. */
#define EPI_NONE {0, 0, 0, 0}
#define EPI_RELU1 {1, 0, 0, 0}
#define EPI_AFF {0, 0, 1, 1}  /* affine + relu2 */
#define EPI_BN {1, 0, 1, 1}   /* relu1 + affine + relu2 */
#define EPI_RES {0, 1, 1, 1}  /* residual + affine + relu2 */
#define EPI_ALL {1, 1, 1, 1}

/* ---- conv_launches (cl/conv_direct.cl, cl/conv_gemm.cl, cl/pack.cl, CLBlast) ------------ */

enum { T8 = 8, T12 = 12, T16 = 16, T24 = 24, TDEF = 0, TW32 = 32, TW64 = 64, TW128 = 128,
       TS128 = 1128, TS128x64 = 1064, TS32 = 1032, TP8 = 2008, TP12 = 2012 };

typedef struct conv_case {
    const char *name;
    int kh, kw, stride, ph, pw;
    int n, h, w, cin, cout;
    int tiling; /* T8: {vw 8, tm 8}; T12: {vw 16, tm 12}; T16: {vw 16, tm 4}; T24: {vw 16,
                 * tm 24} (the widest);
                 * TDEF: conv_default_tiling(ctx); work-group tiles (CONV_WG, positions x
                 * channels): TW32 {32, 32}, TW64 {64, 64}, TW128 {64, 128}; SIMT tiles
                 * (CONV_SIMT, the same): TW64, TW128, TS128 {128, 128}, TS128x64
                 * {128, 64}, TS32 {32, 64}; pairs of 16-lane panels (CONV_PANELS, vw
                 * CONV_PAIR_LANES): TP8 tm 8, TP12 tm 12 */
    int flat;   /* run as the plan runs 1x1 stride-1 convs: one GEMM with n = 1, h = 1, w = N*H*W */
    op_epilogue epi;
    conv_family_id method;
    int kchunk; /* input channels per launch (CONV_DIRECT, CONV_PHASE), panels per
                 * work-group (CONV_FUSED), m of F(m, 3) (CONV_WINOGRAD_1D: 6), reduction
                 * slices (CONV_WG) or parts (CONV_SIMT), 0 for one launch */
} conv_case;

/* Shapes of the network (and odd ones around them); configurations are shared where possible
 * because PoCL compiles each distinct -D set once. Columns: name, kh, kw, stride, ph, pw, n, h,
 * w, cin, cout, tiling, flat, epilogue, method, kchunk. In names, "bn" is relu1+affine+relu2,
 * "res" is residual+affine+relu2, "dflt" the device's default tiling, "(rows)" a stride-1
 * conv wider out than in (the conv_rows kernel; plain stride-1 convs run conv_grid),
 * "phase" the parity planes (CONV_PHASE), "panels"/"im2col" CONV_PANELS, "fused" CONV_FUSED,
 * "clblast" CONV_CLBLAST, "wg" CONV_WG, "winograd" CONV_WINOGRAD, "simt" CONV_SIMT. */
static const conv_case conv_cases[] = {
    {"conv 1x1 7x9 n1 cin17 cout13 T8", 1, 1, 1, 0, 0, 1, 7, 9, 17, 13, T8, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 1x1 on 1x1 n3 cin3 cout5 T16", 1, 1, 1, 0, 0, 3, 1, 1, 3, 5, T16, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 1x1 flat 8x8 n3 cin17 cout21 T8", 1, 1, 1, 0, 0, 3, 8, 8, 17, 21, T8, 1, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 1x1 flat 7x9 n2 cin3 cout13 T16", 1, 1, 1, 0, 0, 2, 7, 9, 3, 13, T16, 1, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 1x1 flat 7x9 n3 cin17 cout21 T8 res", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, T8, 1, EPI_RES, CONV_DIRECT, 0},
    {"conv 1x1 flat 13x13 n1 cin17 cout13 T16 res", 1, 1, 1, 0, 0, 1, 13, 13, 17, 13, T16, 1, EPI_RES, CONV_DIRECT, 0},
    {"conv 1x1 flat 5x7 n3 cin17 cout21 dflt bn", 1, 1, 1, 0, 0, 3, 5, 7, 17, 21, TDEF, 1, EPI_BN, CONV_DIRECT, 0},
    {"conv 3x3 p0 8x8 n3 cin3 cout5 T8", 3, 3, 1, 0, 0, 3, 8, 8, 3, 5, T8, 0, EPI_NONE, CONV_DIRECT, 0},
    {"conv 3x3 p0 7x9 n1 cin17 cout13 T16", 3, 3, 1, 0, 0, 1, 7, 9, 17, 13, T16, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 3x3 p1 13x13 n1 cin17 cout21 T16", 3, 3, 1, 1, 1, 1, 13, 13, 17, 21, T16, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 3x3 p1 7x9 n3 cin1 cout13 T8 bn", 3, 3, 1, 1, 1, 3, 7, 9, 1, 13, T8, 0, EPI_BN, CONV_DIRECT, 0},
    {"conv 3x3 p1 35x35 n1 cin3 cout21 dflt bn", 3, 3, 1, 1, 1, 1, 35, 35, 3, 21, TDEF, 0, EPI_BN, CONV_DIRECT, 0},
    {"conv 3x3 p2 (rows) 7x9 n3 cin3 cout5 T8", 3, 3, 1, 2, 2, 3, 7, 9, 3, 5, T8, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 3x3 s2 p0 17x17 n3 cin3 cout21 T8", 3, 3, 2, 0, 0, 3, 17, 17, 3, 21, T8, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 3x3 s2 p0 35x35 n1 cin17 cout5 T16", 3, 3, 2, 0, 0, 1, 35, 35, 17, 5, T16, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 3x3 s2 p0 8x8 n3 cin1 cout13 dflt", 3, 3, 2, 0, 0, 3, 8, 8, 1, 13, TDEF, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 3x3 s2 p1 9x9 n1 cin3 cout5 T8", 3, 3, 2, 1, 1, 1, 9, 9, 3, 5, T8, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 1x7 p0x3 17x17 n3 cin17 cout13 T8", 1, 7, 1, 0, 3, 3, 17, 17, 17, 13, T8, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 1x7 p0x3 7x9 n1 cin3 cout5 T16", 1, 7, 1, 0, 3, 1, 7, 9, 3, 5, T16, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 7x1 p3x0 17x17 n1 cin3 cout21 T16", 7, 1, 1, 3, 0, 1, 17, 17, 3, 21, T16, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 7x1 p3x0 8x8 n3 cin17 cout13 T8", 7, 1, 1, 3, 0, 3, 8, 8, 17, 13, T8, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 1x3 p0x1 8x8 n3 cin17 cout13 T8", 1, 3, 1, 0, 1, 3, 8, 8, 17, 13, T8, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 1x3 p0x1 7x9 n1 cin3 cout21 T16", 1, 3, 1, 0, 1, 1, 7, 9, 3, 21, T16, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 3x1 p1x0 8x8 n1 cin3 cout5 T16", 3, 1, 1, 1, 0, 1, 8, 8, 3, 5, T16, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 3x1 p1x0 13x13 n3 cin17 cout13 T8", 3, 1, 1, 1, 0, 3, 13, 13, 17, 13, T8, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 5x5 p2 13x13 n3 cin17 cout21 T8", 5, 5, 1, 2, 2, 3, 13, 13, 17, 21, T8, 0, EPI_RELU1, CONV_DIRECT, 0},
    {"conv 5x5 p2 8x8 n1 cin3 cout5 T16", 5, 5, 1, 2, 2, 1, 8, 8, 3, 5, T16, 0, EPI_NONE, CONV_DIRECT, 0},
    {"conv 3x3 s2 p0 phase 17x17 n3 cin3 cout21 T8", 3, 3, 2, 0, 0, 3, 17, 17, 3, 21, T8, 0, EPI_RELU1, CONV_PHASE, 0},
    {"conv 3x3 s2 p0 phase 35x35 n1 cin17 cout5 T16 bn", 3, 3, 2, 0, 0, 1, 35, 35, 17, 5, T16, 0, EPI_BN, CONV_PHASE, 0},
    {"conv 3x3 s2 p0 phase 8x8 n3 cin1 cout13 T8", 3, 3, 2, 0, 0, 3, 8, 8, 1, 13, T8, 0, EPI_RELU1, CONV_PHASE, 0},
    {"conv 3x3 s2 p1 phase 9x10 n2 cin3 cout5 T8", 3, 3, 2, 1, 1, 2, 9, 10, 3, 5, T8, 0, EPI_RELU1, CONV_PHASE, 0},
    {"conv 3x3 s2 p0 phase 16x15 n2 cin3 cout13 T16", 3, 3, 2, 0, 0, 2, 16, 15, 3, 13, T16, 0, EPI_RELU1, CONV_PHASE, 0},
    {"conv 1x1 flat 7x9 n3 cin17 cout21 T8 chunks of 5", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, T8, 1, EPI_RELU1, CONV_DIRECT, 5},
    {"conv 1x1 flat 8x8 n2 cin17 cout13 T16 res chunks of 8", 1, 1, 1, 0, 0, 2, 8, 8, 17, 13, T16, 1, EPI_RES, CONV_DIRECT, 8},
    {"conv 3x3 p1 13x13 n1 cin17 cout21 T8 bn chunks of 4", 3, 3, 1, 1, 1, 1, 13, 13, 17, 21, T8, 0, EPI_BN, CONV_DIRECT, 4},
    {"conv 3x3 s2 p0 phase 17x17 n2 cin17 cout5 T8 chunks of 6", 3, 3, 2, 0, 0, 2, 17, 17, 17, 5, T8, 0, EPI_RELU1, CONV_PHASE, 6},
    {"conv 1x1 panels 7x9 n3 cin17 cout21 T8", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, T8, 0, EPI_RELU1, CONV_PANELS, 0},
    {"conv 1x1 panels 8x8 n2 cin17 cout13 T16 res", 1, 1, 1, 0, 0, 2, 8, 8, 17, 13, T16, 0, EPI_RES, CONV_PANELS, 0},
    {"conv 1x1 panels 5x7 n1 cin3 cout5 dflt bn", 1, 1, 1, 0, 0, 1, 5, 7, 3, 5, TDEF, 0, EPI_BN, CONV_PANELS, 0},
    {"conv 1x1 panels 1x1 n3 cin33 cout7 T16", 1, 1, 1, 0, 0, 3, 1, 1, 33, 7, T16, 0, EPI_NONE, CONV_PANELS, 0},
    {"conv 1x1 panels 5x5 n2 cin9 cout300 T8 (two weight blocks)", 1, 1, 1, 0, 0, 2, 5, 5, 9, 300, T8, 0, EPI_RELU1, CONV_PANELS, 0},
    {"conv 3x3 s2 p0 im2col 17x17 n3 cin5 cout21 T8", 3, 3, 2, 0, 0, 3, 17, 17, 5, 21, T8, 0, EPI_RELU1, CONV_PANELS, 0},
    {"conv 3x3 s2 p0 im2col 35x35 n2 cin17 cout5 T16 bn", 3, 3, 2, 0, 0, 2, 35, 35, 17, 5, T16, 0, EPI_BN, CONV_PANELS, 0},
    {"conv 3x3 s2 p1 im2col 9x10 n2 cin3 cout13 T8", 3, 3, 2, 1, 1, 2, 9, 10, 3, 13, T8, 0, EPI_RELU1, CONV_PANELS, 0},
    {"conv 3x3 s2 p0 im2col 8x8 n1 cin1 cout5 T16", 3, 3, 2, 0, 0, 1, 8, 8, 1, 5, T16, 0, EPI_NONE, CONV_PANELS, 0},
    {"conv 3x3 s2 p1 im2col 35x35 n2 cin3 cout5 T16", 3, 3, 2, 1, 1, 2, 35, 35, 3, 5, T16, 0, EPI_RELU1, CONV_PANELS, 0},
    {"conv 3x3 p1 im2col 35x35 n2 cin5 cout13 T16", 3, 3, 1, 1, 1, 2, 35, 35, 5, 13, T16, 0, EPI_RELU1, CONV_PANELS, 0},
    {"conv 3x3 p1 im2col 8x8 n3 cin17 cout5 T8 res", 3, 3, 1, 1, 1, 3, 8, 8, 17, 5, T8, 0, EPI_RES, CONV_PANELS, 0},
    {"conv 1x7 p0x3 im2col 17x17 n2 cin5 cout21 T16", 1, 7, 1, 0, 3, 2, 17, 17, 5, 21, T16, 0, EPI_RELU1, CONV_PANELS, 0},
    {"conv 7x1 p3x0 im2col 17x17 n2 cin5 cout13 T8 bn", 7, 1, 1, 3, 0, 2, 17, 17, 5, 13, T8, 0, EPI_BN, CONV_PANELS, 0},
    {"conv 3x1 p1x0 im2col 8x8 n3 cin3 cout5 T16", 3, 1, 1, 1, 0, 3, 8, 8, 3, 5, T16, 0, EPI_RELU1, CONV_PANELS, 0},
    {"conv 1x1 fused 7x9 n3 cin17 cout21 T8", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, T8, 1, EPI_RELU1, CONV_FUSED, 0},
    {"conv 1x1 fused 8x8 n2 cin17 cout13 T16 res", 1, 1, 1, 0, 0, 2, 8, 8, 17, 13, T16, 1, EPI_RES, CONV_FUSED, 0},
    {"conv 1x1 fused 5x5 n2 cin9 cout300 T8 (two weight blocks)", 1, 1, 1, 0, 0, 2, 5, 5, 9, 300, T8, 1, EPI_BN, CONV_FUSED, 0},
    {"conv 3x3 s2 p0 fused 35x35 n2 cin17 cout5 T16 bn", 3, 3, 2, 0, 0, 2, 35, 35, 17, 5, T16, 0, EPI_BN, CONV_FUSED, 0},
    {"conv 3x3 s2 p1 fused 9x10 n2 cin3 cout13 T8", 3, 3, 2, 1, 1, 2, 9, 10, 3, 13, T8, 0, EPI_RELU1, CONV_FUSED, 0},
    {"conv 3x3 p1 fused 35x35 n2 cin5 cout13 T16", 3, 3, 1, 1, 1, 2, 35, 35, 5, 13, T16, 0, EPI_RELU1, CONV_FUSED, 0},
    {"conv 3x3 p0 fused 20x19 n2 cin3 cout7 T8", 3, 3, 1, 0, 0, 2, 20, 19, 3, 7, T8, 0, EPI_RELU1, CONV_FUSED, 0},
    {"conv 1x7 p0x3 fused 17x17 n2 cin5 cout21 T16", 1, 7, 1, 0, 3, 2, 17, 17, 5, 21, T16, 0, EPI_RELU1, CONV_FUSED, 0},
    {"conv 7x1 p3x0 fused 17x17 n2 cin5 cout13 T8 res", 7, 1, 1, 3, 0, 2, 17, 17, 5, 13, T8, 0, EPI_RES, CONV_FUSED, 0},
    {"conv 3x3 p1 13x13 n2 cin17 cout50 T24 bn", 3, 3, 1, 1, 1, 2, 13, 13, 17, 50, T24, 0, EPI_BN, CONV_DIRECT, 0},
    {"conv 3x3 s2 p0 phase 17x17 n2 cin5 cout29 T24", 3, 3, 2, 0, 0, 2, 17, 17, 5, 29, T24, 0, EPI_RELU1, CONV_PHASE, 0},
    {"conv 1x1 flat 7x9 n3 cin17 cout50 T24 res chunks of 8", 1, 1, 1, 0, 0, 3, 7, 9, 17, 50, T24, 1, EPI_RES, CONV_DIRECT, 8},
    {"conv 1x1 panels 8x8 n2 cin17 cout50 T24 res", 1, 1, 1, 0, 0, 2, 8, 8, 17, 50, T24, 0, EPI_RES, CONV_PANELS, 0},
    {"conv 1x1 panels 5x5 n2 cin9 cout300 T24 bn", 1, 1, 1, 0, 0, 2, 5, 5, 9, 300, T24, 0, EPI_BN, CONV_PANELS, 0},
    /* pairs of panels: a partial second panel (189 = 5 pairs + 29), whole pairs, a second
     * panel past the end (9 positions), the im2col panels */
    {"conv 1x1 panels pair flat 7x9 n3 cin17 cout21 TP12", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, TP12, 1, EPI_RELU1, CONV_PANELS, 0},
    {"conv 1x1 panels pair 8x8 n2 cin17 cout50 TP12 res", 1, 1, 1, 0, 0, 2, 8, 8, 17, 50, TP12, 0, EPI_RES, CONV_PANELS, 0},
    {"conv 1x1 panels pair 5x5 n1 cin9 cout13 TP8 bn", 1, 1, 1, 0, 0, 1, 5, 5, 9, 13, TP8, 0, EPI_BN, CONV_PANELS, 0},
    {"conv 1x1 panels pair 3x3 n1 cin5 cout7 TP8", 1, 1, 1, 0, 0, 1, 3, 3, 5, 7, TP8, 0, EPI_NONE, CONV_PANELS, 0},
    {"conv 3x3 s2 p0 im2col pair 17x17 n2 cin17 cout29 TP12 bn", 3, 3, 2, 0, 0, 2, 17, 17, 17, 29, TP12, 0, EPI_BN, CONV_PANELS, 0},
    {"conv 3x3 p1 fused pair 35x35 n2 cin5 cout13 TP12", 3, 3, 1, 1, 1, 2, 35, 35, 5, 13, TP12, 0, EPI_RELU1, CONV_FUSED, 0},
    {"conv 3x3 s2 p0 fused pair 9x10 n1 cin3 cout29 TP8 res", 3, 3, 2, 0, 0, 1, 9, 10, 3, 29, TP8, 0, EPI_RES, CONV_FUSED, 0},
    {"conv 1x1 fused pair 7x9 n3 cin17 cout21 TP12 bn", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, TP12, 1, EPI_BN, CONV_FUSED, 0},
    {"conv 1x7 p0x3 fused pair 17x17 n2 cin5 cout21 TP8", 1, 7, 1, 0, 3, 2, 17, 17, 5, 21, TP8, 0, EPI_RELU1, CONV_FUSED, 0},
    {"conv 3x3 s2 p0 fused 35x35 n2 cin17 cout29 T24", 3, 3, 2, 0, 0, 2, 35, 35, 17, 29, T24, 0, EPI_RELU1, CONV_FUSED, 0},
    {"conv 1x7 p0x3 fused 17x17 n2 cin5 cout50 T24 res", 1, 7, 1, 0, 3, 2, 17, 17, 5, 50, T24, 0, EPI_RES, CONV_FUSED, 0},
    /* fused with the kchunk column as panels per work-group (1x1 stride 1: packed in runs) */
    {"conv 1x1 fused 4 panels 7x9 n3 cin17 cout21 T8 (partial last)", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, T8, 1, EPI_RELU1, CONV_FUSED, 4},
    {"conv 1x1 fused 8 panels 13x13 n2 cin17 cout13 T16 res (empty last)", 1, 1, 1, 0, 0, 2, 13, 13, 17, 13, T16, 1, EPI_RES, CONV_FUSED, 8},
    {"conv 1x1 fused 4 panels 5x5 n2 cin9 cout300 T8 (two weight blocks)", 1, 1, 1, 0, 0, 2, 5, 5, 9, 300, T8, 0, EPI_BN, CONV_FUSED, 4},
    {"conv 1x1 fused pair 4 panels 7x9 n3 cin17 cout21 TP12 bn", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, TP12, 1, EPI_BN, CONV_FUSED, 4},
    {"conv 1x1 fused pair 8 panels 4x4 n1 cin5 cout7 TP8 (one short panel)", 1, 1, 1, 0, 0, 1, 4, 4, 5, 7, TP8, 1, EPI_RELU1, CONV_FUSED, 8},
    {"conv 1x1 clblast flat 7x9 n3 cin17 cout21 bn", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, TDEF, 1, EPI_BN, CONV_CLBLAST, 0},
    {"conv 1x1 clblast 8x8 n2 cin17 cout13 res", 1, 1, 1, 0, 0, 2, 8, 8, 17, 13, TDEF, 0, EPI_RES, CONV_CLBLAST, 0},
    {"conv 1x1 clblast 5x7 n1 cin3 cout5 relu1", 1, 1, 1, 0, 0, 1, 5, 7, 3, 5, TDEF, 0, EPI_RELU1, CONV_CLBLAST, 0},
    {"conv 1x7 p0x3 clblast 17x17 n1 cin17 cout13 relu1", 1, 7, 1, 0, 3, 1, 17, 17, 17, 13, TDEF, 0, EPI_RELU1, CONV_CLBLAST, 0},
    {"conv 7x1 p3x0 clblast 17x17 n1 cin5 cout21 bn", 7, 1, 1, 3, 0, 1, 17, 17, 5, 21, TDEF, 0, EPI_BN, CONV_CLBLAST, 0},
    {"conv 3x3 p1 clblast 13x13 n1 cin17 cout21 bn", 3, 3, 1, 1, 1, 1, 13, 13, 17, 21, TDEF, 0, EPI_BN, CONV_CLBLAST, 0},
    {"conv 3x3 p0 clblast 20x19 n1 cin33 cout70 relu1 (full tiles)", 3, 3, 1, 0, 0, 1, 20, 19, 33, 70, TDEF, 0, EPI_RELU1, CONV_CLBLAST, 0},
    {"conv 3x3 s2 p0 clblast 35x35 n1 cin17 cout5 none", 3, 3, 2, 0, 0, 1, 35, 35, 17, 5, TDEF, 0, EPI_NONE, CONV_CLBLAST, 0},
    {"conv 3x3 s2 p1 clblast 9x10 n1 cin3 cout13 bn", 3, 3, 2, 1, 1, 1, 9, 10, 3, 13, TDEF, 0, EPI_BN, CONV_CLBLAST, 0},
    {"conv 1x3 p0x1 clblast 7x9 n1 cin3 cout21 none", 1, 3, 1, 0, 1, 1, 7, 9, 3, 21, TDEF, 0, EPI_NONE, CONV_CLBLAST, 0},
    {"conv 3x1 p1x0 clblast 8x8 n1 cin17 cout13 bn", 3, 1, 1, 1, 0, 1, 8, 8, 17, 13, TDEF, 0, EPI_BN, CONV_CLBLAST, 0},
    {"conv 5x5 p2 clblast 13x13 n1 cin17 cout21 relu1", 5, 5, 1, 2, 2, 1, 13, 13, 17, 21, TDEF, 0, EPI_RELU1, CONV_CLBLAST, 0},
    {"conv 3x3 p1 clblast im2col 13x13 n3 cin17 cout21 bn", 3, 3, 1, 1, 1, 3, 13, 13, 17, 21, TDEF, 0, EPI_BN, CONV_CLBLAST, 1},
    {"conv 3x3 s2 p0 clblast im2col 9x10 n2 cin3 cout13 res", 3, 3, 2, 0, 0, 2, 9, 10, 3, 13, TDEF, 0, EPI_RES, CONV_CLBLAST, 1},
    {"conv 1x7 p0x3 clblast im2col 17x17 n2 cin17 cout13 relu1", 1, 7, 1, 0, 3, 2, 17, 17, 17, 13, TDEF, 0, EPI_RELU1, CONV_CLBLAST, 1},
    {"conv 7x1 p3x0 clblast im2col 8x8 n1 cin5 cout21 none", 7, 1, 1, 3, 0, 1, 8, 8, 5, 21, TDEF, 0, EPI_NONE, CONV_CLBLAST, 1},
    {"conv 3x3 p1 clblast im2col 245x245 n2 cin64 cout3 (a matrix per image)", 3, 3, 1, 1, 1, 2, 245, 245, 64, 3, TDEF, 0, EPI_RELU1, CONV_CLBLAST, 1},
    {"conv 1x1 wg 7x9 n3 cin17 cout21 TW32", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, TW32, 0, EPI_RELU1, CONV_WG, 0},
    {"conv 1x1 wg flat 8x8 n3 cin40 cout70 TW64 res", 1, 1, 1, 0, 0, 3, 8, 8, 40, 70, TW64, 1, EPI_RES, CONV_WG, 0},
    {"conv 1x1 wg 5x5 n2 cin9 cout300 TW128 bn", 1, 1, 1, 0, 0, 2, 5, 5, 9, 300, TW128, 0, EPI_BN, CONV_WG, 0},
    {"conv 3x3 p1 wg 13x13 n2 cin17 cout50 TW64 bn", 3, 3, 1, 1, 1, 2, 13, 13, 17, 50, TW64, 0, EPI_BN, CONV_WG, 0},
    {"conv 3x3 p0 wg 20x19 n1 cin3 cout7 TW32", 3, 3, 1, 0, 0, 1, 20, 19, 3, 7, TW32, 0, EPI_NONE, CONV_WG, 0},
    {"conv 3x3 s2 p0 wg 35x35 n2 cin17 cout29 TW64", 3, 3, 2, 0, 0, 2, 35, 35, 17, 29, TW64, 0, EPI_RELU1, CONV_WG, 0},
    {"conv 3x3 s2 p1 wg 9x10 n2 cin3 cout13 TW32", 3, 3, 2, 1, 1, 2, 9, 10, 3, 13, TW32, 0, EPI_RELU1, CONV_WG, 0},
    {"conv 1x7 p0x3 wg 17x17 n2 cin5 cout21 TW64", 1, 7, 1, 0, 3, 2, 17, 17, 5, 21, TW64, 0, EPI_RELU1, CONV_WG, 0},
    {"conv 7x1 p3x0 wg 17x17 n2 cin5 cout13 TW32 res", 7, 1, 1, 3, 0, 2, 17, 17, 5, 13, TW32, 0, EPI_RES, CONV_WG, 0},
    {"conv 1x3 p0x1 wg 8x8 n3 cin19 cout37 TW128", 1, 3, 1, 0, 1, 3, 8, 8, 19, 37, TW128, 0, EPI_BN, CONV_WG, 0},
    {"conv 3x1 p1x0 wg 8x8 n3 cin19 cout37 TW64 res", 3, 1, 1, 1, 0, 3, 8, 8, 19, 37, TW64, 0, EPI_RES, CONV_WG, 0},
    {"conv 5x5 p2 wg 11x9 n2 cin6 cout9 TW32", 5, 5, 1, 2, 2, 2, 11, 9, 6, 9, TW32, 0, EPI_RELU1, CONV_WG, 0},
    {"conv 3x3 p1 winograd 13x13 n1 cin17 cout21 T8", 3, 3, 1, 1, 1, 1, 13, 13, 17, 21, T8, 0, EPI_RELU1, CONV_WINOGRAD, 0},
    {"conv 3x3 p0 winograd 8x9 n2 cin3 cout13 T16 bn", 3, 3, 1, 0, 0, 2, 8, 9, 3, 13, T16, 0, EPI_BN, CONV_WINOGRAD, 0},
    {"conv 3x3 p1 winograd 7x9 n3 cin17 cout29 T24 res", 3, 3, 1, 1, 1, 3, 7, 9, 17, 29, T24, 0, EPI_RES, CONV_WINOGRAD, 0},
    {"conv 3x3 p1 winograd 35x35 n1 cin32 cout48 T8", 3, 3, 1, 1, 1, 1, 35, 35, 32, 48, T8, 0, EPI_RELU1, CONV_WINOGRAD, 0},
    {"conv 3x3 s2 p0 wg 17x17 n1 cin3 cout32 TW64 (stem)", 3, 3, 2, 0, 0, 1, 17, 17, 3, 32, TW64, 0, EPI_BN, CONV_WG, 0},
    {"conv 1x1 wg flat 8x8 n3 cin150 cout70 TW64 res 3 slices", 1, 1, 1, 0, 0, 3, 8, 8, 150, 70, TW64, 1, EPI_RES, CONV_WG, 3},
    {"conv 3x3 p1 wg 9x9 n2 cin33 cout37 TW32 bn 4 slices", 3, 3, 1, 1, 1, 2, 9, 9, 33, 37, TW32, 0, EPI_BN, CONV_WG, 4},
    {"conv 1x7 p0x3 wg 17x17 n1 cin40 cout21 TW128 16 slices", 1, 7, 1, 0, 3, 1, 17, 17, 40, 21, TW128, 0, EPI_RELU1, CONV_WG, 16},
    /* the split and its reduction on four work-groups: small enough for Oclgrind's CI run */
    {"conv 1x1 wg 3x3 n1 cin40 cout5 TW32 res 2 slices", 1, 1, 1, 0, 0, 1, 3, 3, 40, 5, TW32, 0, EPI_RES, CONV_WG, 2},
    /* every SIMT tile; flat with N*H*W % 4 == 0 runs float4 loads (VECX), else scalar */
    {"conv 3x3 p1 simt 13x13 n2 cin17 cout50 TS128 bn", 3, 3, 1, 1, 1, 2, 13, 13, 17, 50, TS128, 0, EPI_BN, CONV_SIMT, 0},
    {"conv 1x1 simt flat 8x8 n3 cin40 cout70 TS128x64 res", 1, 1, 1, 0, 0, 3, 8, 8, 40, 70, TS128x64, 1, EPI_RES, CONV_SIMT, 0},
    {"conv 1x1 simt flat 7x9 n3 cin17 cout21 TW64", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, TW64, 1, EPI_RELU1, CONV_SIMT, 0},
    {"conv 3x3 s2 p0 simt 35x35 n1 cin3 cout29 TW128", 3, 3, 2, 0, 0, 1, 35, 35, 3, 29, TW128, 0, EPI_RELU1, CONV_SIMT, 0},
    {"conv 1x7 p0x3 simt 17x17 n2 cin5 cout21 TS32", 1, 7, 1, 0, 3, 2, 17, 17, 5, 21, TS32, 0, EPI_NONE, CONV_SIMT, 0},
    {"conv 7x1 p3x0 simt 9x9 n2 cin12 cout13 TS32 res", 7, 1, 1, 3, 0, 2, 9, 9, 12, 13, TS32, 0, EPI_RES, CONV_SIMT, 0},
    {"conv 3x3 s2 p1 simt 9x10 n2 cin3 cout13 TW64 bn", 3, 3, 2, 1, 1, 2, 9, 10, 3, 13, TW64, 0, EPI_BN, CONV_SIMT, 0},
    {"conv 5x5 p2 simt 11x9 n2 cin6 cout9 TS128", 5, 5, 1, 2, 2, 2, 11, 9, 6, 9, TS128, 0, EPI_RELU1, CONV_SIMT, 0},
    {"conv 1x1 simt 7x7 n1 cin9 cout5 TS128x64", 1, 1, 1, 0, 0, 1, 7, 7, 9, 5, TS128x64, 0, EPI_RELU1, CONV_SIMT, 0},
    /* split reductions: the last work-group of a tile adds the parts */
    {"conv 1x1 simt flat 8x8 n3 cin150 cout70 TW64 res 4 parts", 1, 1, 1, 0, 0, 3, 8, 8, 150, 70, TW64, 1, EPI_RES, CONV_SIMT, 4},
    {"conv 3x3 p1 simt 9x9 n2 cin33 cout37 TS32 bn 3 parts", 3, 3, 1, 1, 1, 2, 9, 9, 33, 37, TS32, 0, EPI_BN, CONV_SIMT, 3},
    {"conv 1x1 simt 7x7 n3 cin37 cout65 TS128x64 2 parts", 1, 1, 1, 0, 0, 3, 7, 7, 37, 65, TS128x64, 0, EPI_RELU1, CONV_SIMT, 2},
    {"conv 1x1 simt flat 5x5 n4 cin44 cout70 TS128 res 3 parts", 1, 1, 1, 0, 0, 4, 5, 5, 44, 70, TS128, 1, EPI_RES, CONV_SIMT, 3},
    /* Winograd with a reduction as long as the network's (where it pays, from 128 channels):
     * its rounding bound grows with cin + 22 terms */
    {"conv 3x3 p1 winograd 9x9 n2 cin128 cout40 T16 bn", 3, 3, 1, 1, 1, 2, 9, 9, 128, 40, T16, 0, EPI_BN, CONV_WINOGRAD, 0},
    /* 1-D Winograd: outputs wider than the lanes (row loads, vector stores) and narrower (lane
     * by lane), heights not a multiple of the tile, every epilogue, up to 128 channels */
    {"conv 3x3 p1 wino1d 13x13 n1 cin17 cout21 T8", 3, 3, 1, 1, 1, 1, 13, 13, 17, 21, T8, 0, EPI_RELU1, CONV_WINOGRAD_1D, 0},
    {"conv 3x3 p0 wino1d 8x9 n2 cin3 cout13 T16 bn", 3, 3, 1, 0, 0, 2, 8, 9, 3, 13, T16, 0, EPI_BN, CONV_WINOGRAD_1D, 0},
    {"conv 3x3 p1 wino1d 35x35 n2 cin32 cout48 T24 res", 3, 3, 1, 1, 1, 2, 35, 35, 32, 48, T24, 0, EPI_RES, CONV_WINOGRAD_1D, 0},
    {"conv 3x3 p0 wino1d 19x21 n1 cin5 cout9 T8", 3, 3, 1, 0, 0, 1, 19, 21, 5, 9, T8, 0, EPI_NONE, CONV_WINOGRAD_1D, 0},
    {"conv 3x1 p1x0 wino1d 13x13 n3 cin17 cout13 T8", 3, 1, 1, 1, 0, 3, 13, 13, 17, 13, T8, 0, EPI_RELU1, CONV_WINOGRAD_1D, 0},
    {"conv 1x3 p0x1 wino1d 8x8 n3 cin17 cout13 T8 bn", 1, 3, 1, 0, 1, 3, 8, 8, 17, 13, T8, 0, EPI_BN, CONV_WINOGRAD_1D, 0},
    {"conv 1x3 p0x1 wino1d 5x70 n1 cin5 cout9 T16 res", 1, 3, 1, 0, 1, 1, 5, 70, 5, 9, T16, 0, EPI_RES, CONV_WINOGRAD_1D, 0},
    {"conv 7x1 p3x0 wino1d 17x17 n3 cin17 cout21 T16 res", 7, 1, 1, 3, 0, 3, 17, 17, 17, 21, T16, 0, EPI_RES, CONV_WINOGRAD_1D, 0},
    {"conv 7x1 p3x0 wino1d 8x8 n1 cin3 cout5 T8", 7, 1, 1, 3, 0, 1, 8, 8, 3, 5, T8, 0, EPI_RELU1, CONV_WINOGRAD_1D, 0},
    {"conv 1x7 p0x3 wino1d 17x17 n3 cin17 cout13 T8 bn", 1, 7, 1, 0, 3, 3, 17, 17, 17, 13, T8, 0, EPI_BN, CONV_WINOGRAD_1D, 0},
    {"conv 1x7 p0x3 wino1d 9x41 n2 cin5 cout13 T16", 1, 7, 1, 0, 3, 2, 9, 41, 5, 13, T16, 0, EPI_RELU1, CONV_WINOGRAD_1D, 0},
    {"conv 3x3 p1 wino1d 9x9 n2 cin128 cout40 T16 bn", 3, 3, 1, 1, 1, 2, 9, 9, 128, 40, T16, 0, EPI_BN, CONV_WINOGRAD_1D, 0},
    {"conv 7x1 p3x0 wino1d 17x17 n1 cin160 cout24 T24", 7, 1, 1, 3, 0, 1, 17, 17, 160, 24, T24, 0, EPI_RELU1, CONV_WINOGRAD_1D, 0},
    /* pairs: a second panel partly and wholly past the end, rows and lane-by-lane packing */
    {"conv 3x3 p1 wino1d pair 35x35 n1 cin32 cout29 TP12 res", 3, 3, 1, 1, 1, 1, 35, 35, 32, 29, TP12, 0, EPI_RES, CONV_WINOGRAD_1D, 0},
    {"conv 7x1 p3x0 wino1d pair 17x17 n2 cin17 cout13 TP8 bn", 7, 1, 1, 3, 0, 2, 17, 17, 17, 13, TP8, 0, EPI_BN, CONV_WINOGRAD_1D, 0},
    {"conv 1x7 p0x3 wino1d pair 17x17 n3 cin5 cout21 TP12", 1, 7, 1, 0, 3, 3, 17, 17, 5, 21, TP12, 0, EPI_RELU1, CONV_WINOGRAD_1D, 0},
    {"conv 3x1 p1x0 wino1d pair 5x3 n1 cin3 cout5 TP8", 3, 1, 1, 1, 0, 1, 5, 3, 3, 5, TP8, 0, EPI_NONE, CONV_WINOGRAD_1D, 0},
    /* F(6, 3) down the columns: the kchunk column 6 */
    {"conv 3x3 p1 wino1d F63 13x13 n1 cin17 cout21 T8", 3, 3, 1, 1, 1, 1, 13, 13, 17, 21, T8, 0, EPI_RELU1, CONV_WINOGRAD_1D, 6},
    {"conv 3x3 p0 wino1d F63 20x19 n2 cin5 cout13 T16 bn", 3, 3, 1, 0, 0, 2, 20, 19, 5, 13, T16, 0, EPI_BN, CONV_WINOGRAD_1D, 6},
    {"conv 3x3 p1 wino1d F63 35x35 n1 cin32 cout48 T24 res", 3, 3, 1, 1, 1, 1, 35, 35, 32, 48, T24, 0, EPI_RES, CONV_WINOGRAD_1D, 6},
    {"conv 3x3 p1 wino1d F63 9x5 n2 cin3 cout5 T8 (lane by lane)", 3, 3, 1, 1, 1, 2, 9, 5, 3, 5, T8, 0, EPI_NONE, CONV_WINOGRAD_1D, 6},
    {"conv 3x1 p1x0 wino1d F63 8x8 n3 cin17 cout13 T16", 3, 1, 1, 1, 0, 3, 8, 8, 17, 13, T16, 0, EPI_RELU1, CONV_WINOGRAD_1D, 6},
    {"conv 3x3 p1 wino1d F63 pair 17x17 n2 cin64 cout29 TP12 bn", 3, 3, 1, 1, 1, 2, 17, 17, 64, 29, TP12, 0, EPI_BN, CONV_WINOGRAD_1D, 6},
    /* F(4x4, 3x3) in the work-group: rows of 16 or more tiles (stride-4 loads, interleaved
     * vector stores) and narrower outputs (lane by lane), partial tiles on both axes, pairs */
    {"conv 3x3 p1 wino2d 13x13 n1 cin17 cout21 T8", 3, 3, 1, 1, 1, 1, 13, 13, 17, 21, T8, 0, EPI_RELU1, CONV_WINOGRAD_2D, 0},
    {"conv 3x3 p0 wino2d 8x9 n2 cin3 cout13 T16 bn", 3, 3, 1, 0, 0, 2, 8, 9, 3, 13, T16, 0, EPI_BN, CONV_WINOGRAD_2D, 0},
    {"conv 3x3 p1 wino2d 67x70 n2 cin5 cout9 T16 res", 3, 3, 1, 1, 1, 2, 67, 70, 5, 9, T16, 0, EPI_RES, CONV_WINOGRAD_2D, 0},
    {"conv 3x3 p0 wino2d 37x75 n1 cin32 cout29 T12", 3, 3, 1, 0, 0, 1, 37, 75, 32, 29, T12, 0, EPI_RELU1, CONV_WINOGRAD_2D, 0},
    {"conv 3x3 p1 wino2d 35x35 n2 cin32 cout48 T8 res", 3, 3, 1, 1, 1, 2, 35, 35, 32, 48, T8, 0, EPI_RES, CONV_WINOGRAD_2D, 0},
    {"conv 3x3 p1 wino2d pair 35x35 n1 cin17 cout13 TP12 bn", 3, 3, 1, 1, 1, 1, 35, 35, 17, 13, TP12, 0, EPI_BN, CONV_WINOGRAD_2D, 0},
    {"conv 3x3 p1 wino2d pair 9x9 n2 cin128 cout40 TP8", 3, 3, 1, 1, 1, 2, 9, 9, 128, 40, TP8, 0, EPI_RELU1, CONV_WINOGRAD_2D, 0},
    {"conv 3x3 p1 wino2d 9x40 n1 cin3 cout5 T8 res", 3, 3, 1, 1, 1, 1, 9, 40, 3, 5, T8, 0, EPI_RES, CONV_WINOGRAD_2D, 0},
};

/* The tiling as (vw, tm), or for the work-group family (positions, channels). */
static conv_vec_params tiling_of(int t)
{
    if (t == T8) return (conv_vec_params){8, 8, 0};
    if (t == T12) return (conv_vec_params){16, 12, 0};
    if (t == T16) return (conv_vec_params){16, 4, 0};
    if (t == T24) return (conv_vec_params){16, 24, 0};
    if (t == TW32) return (conv_vec_params){32, 32, 0};
    if (t == TW64) return (conv_vec_params){64, 64, 0};
    if (t == TW128) return (conv_vec_params){64, 128, 0};
    if (t == TS128) return (conv_vec_params){128, 128, 0};
    if (t == TS128x64) return (conv_vec_params){128, 64, 0};
    if (t == TS32) return (conv_vec_params){32, 64, 0};
    if (t == TP8) return (conv_vec_params){CONV_PAIR_LANES, 8, 0};
    if (t == TP12) return (conv_vec_params){CONV_PAIR_LANES, 12, 0};
    return conv_default_tiling(g_ctx);
}

/* The family's form at tiling t with kchunk (the work-group family: t as positions and
 * channels, kchunk as slices; CLBlast: kchunk 1 for the im2col form). */
static conv_form form_at(conv_family_id family, conv_vec_params t, int kchunk)
{
    if (family == CONV_WG) return conv_wg_form(t.vw, t.tm, kchunk);
    if (family == CONV_SIMT) return conv_simt_form(t.vw, t.tm, kchunk);
    if (family == CONV_CLBLAST) return kchunk ? conv_clblast_im2col_form() : conv_clblast_form();
    return conv_vec_form(family, t.vw, t.tm, kchunk);
}

/* ---- conv references and their rounding-error bounds ---------------------------------------
 * A float32 value formed from terms t_i of an exact sum, where the path from t_i to the result
 * passes through at most d roundings (a product, an fma, an addition, the rounding of a
 * coefficient to float), differs from the exact sum by at most gamma(d) * sum |t_i|, with
 * gamma(d) = d u / (1 - d u), u = 2^-24 (Higham, Accuracy and Stability of Numerical
 * Algorithms, 2nd ed., lemma 3.1 and section 3.1). Any summation order fits: a sum of n terms
 * passes each through at most n - 1 additions. So the conv kernels are checked element by
 * element against a bound derived from the data and the form's arithmetic, not a tolerance:
 *   direct, GEMM and tiled forms: d = cin*kh*kw (one fma or product and add per tap), on
 *     S = sum |x||w| over the taps;
 *   Winograd F(4x4, 3x3) (ops/conv_winograd.c, cl/winograd.cl), Y = A^T [sum_c (G g_c G^T) .*
 *     (B^T d_c B)] A: d = cin + 2 (depth(G) + depth(B^T) + depth(A^T)), the depth of a
 *     transform being the roundings along its longest row (winograd_depth), on
 *     S_w = |A^T| [sum_c (|G||g_c||G^T|) .* (|B^T||d_c||B|)] |A|: the transforms' conditioning
 *     enters through S_w, which is larger than S by the growth of |A^T|, |B^T| and |G|;
 *   then the epilogue: the bias and the residual add one rounding each (terms |bias|, |old|);
 *     the ReLUs are 1-Lipschitz; the affine step (an fma, or a multiply and an add) scales the
 *     bound by |scale| and adds gamma(2) (|scale v| + |shift|).
 * Terms of second order (gamma^2, and intermediates' magnitudes computed rather than exact)
 * are below 1e-5 of the bound, so BOUND_FACTOR 1 checks the worst case itself, every rounding
 * at its largest and all in one direction. Measured (max |err| / bound, printed per case; PoCL
 * on AVX-512): up to 0.39 for the direct and GEMM forms (short reductions, cin*kh*kw = 3, come
 * closest), 0.001 to 0.004 for the Winograd rows (0.001 at 128 channels: the worst case grows
 * with the terms, typical errors with their square root). At 17 channels, 3x3 on 13x13, S_w
 * is ~230x S and the largest error ~7x direct convolution's (2.3e-5 against 3.3e-6), as the
 * worst case over |A^T| (rows summing to 18) and |B^T| (to 10) is rarely approached. Yet one
 * coefficient of the transforms off by 2e-4 of itself (G's 1/6 as 0.1667f, or B^T's 5 as
 * 5.001f) fails the three Winograd rows of 3 and 17 channels, and 1/25 for 1/24 fails all
 * five. */
#define BOUND_FACTOR 1.0

static double gamma_of(int d)
{
    const double u = 0x1p-24;
    return d * u / (1.0 - d * u);
}

/* The reference values of a conv and each element's bound on |float32 result - value|. */
typedef struct conv_ref {
    double *value, *bound;
} conv_ref;

static void conv_ref_free(conv_ref *r) { free(r->value), free(r->bound); }

/* F(4x4, 3x3) of Lavin and Gray as the engine applies it: G (ops/conv_winograd.c, in float on
 * the host), B^T (cl/winograd.cl input_1d) and A^T (output_1d). */
static const double wino_g[6][3] = {{1.0 / 4, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};
static const double wino_bt[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0},
                                     {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0},
                                     {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const double wino_at[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0},
                                     {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

/* Roundings along the longest path through one application of the rows x cols matrix m (row
 * stride cols): per row, its nonzeros less one (additions), plus one where a coefficient is
 * not a power of two (the product rounds), plus one more where it is not a float either (the
 * coefficient itself was rounded). */
static int winograd_depth(const double *m, int rows, int cols)
{
    int most = 0;
    for (int i = 0; i < rows; i++) {
        int nz = 0, inexact = 0;
        for (int j = 0; j < cols; j++) {
            const double c = fabs(m[i * cols + j]);
            int e;
            if (c == 0.0) continue;
            nz++;
            if ((double)(float)c != c) inexact = 2;
            else if (frexp(c, &e) != 0.5 && inexact < 1) inexact = 1;
        }
        if (nz - 1 + inexact > most) most = nz - 1 + inexact;
    }
    return most;
}

/* F(2, 7) as ops/conv_winograd_fused.c (G) and cl/winograd_fused.cl (B^T, A^T) apply it: Toom-Cook
 * at 0, 1, -1, 2, -2, 1/2, -1/2 and infinity. (F(4, 3) there is the one above.) */
static const double wino27_g[8][7] = {
    {-1.0 / 4, 0, 0, 0, 0, 0, 0},
    {-1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18},
    {-1.0 / 18, 1.0 / 18, -1.0 / 18, 1.0 / 18, -1.0 / 18, 1.0 / 18, -1.0 / 18},
    {1.0 / 360, 1.0 / 180, 1.0 / 90, 1.0 / 45, 2.0 / 45, 4.0 / 45, 8.0 / 45},
    {1.0 / 360, -1.0 / 180, 1.0 / 90, -1.0 / 45, 2.0 / 45, -4.0 / 45, 8.0 / 45},
    {16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45, 1.0 / 45, 1.0 / 90, 1.0 / 180},
    {16.0 / 45, -8.0 / 45, 4.0 / 45, -2.0 / 45, 1.0 / 45, -1.0 / 90, 1.0 / 180},
    {0, 0, 0, 0, 0, 0, 1.0 / 4}};
static const double wino27_bt[8][8] = {
    {-4, 0, 21, 0, -21, 0, 4, 0},  {0, 4, 4, -17, -17, 4, 4, 0},  {0, -4, 4, 17, -17, -4, 4, 0},
    {0, 2, 1, -10, -5, 8, 4, 0},   {0, -2, 1, 10, -5, -8, 4, 0},  {0, 4, 8, -5, -10, 1, 2, 0},
    {0, -4, 8, 5, -10, -1, 2, 0},  {0, -4, 0, 21, 0, -21, 0, 4}};
static const double wino27_at[2][8] = {{1, 1, 1, 1, 1, 1, 1, 0},
                                       {0, 1, -1, 2, -2, 0.5, -0.5, 1}};

/* One F(m, r): G (t x r), B^T (t x t), A^T (m x t), t = m + r - 1. */
typedef struct wino_1d {
    int m, r, t;
    const double *g, *bt, *at;
} wino_1d;

/* F(6, 3) at F(2, 7)'s points, so with its B^T. */
static const double wino63_g[8][3] = {{-1.0 / 4, 0, 0},
                                      {-1.0 / 18, -1.0 / 18, -1.0 / 18},
                                      {-1.0 / 18, 1.0 / 18, -1.0 / 18},
                                      {1.0 / 360, 1.0 / 180, 1.0 / 90},
                                      {1.0 / 360, -1.0 / 180, 1.0 / 90},
                                      {16.0 / 45, 8.0 / 45, 4.0 / 45},
                                      {16.0 / 45, -8.0 / 45, 4.0 / 45},
                                      {0, 0, 1.0 / 4}};
static const double wino63_at[6][8] = {{1, 1, 1, 1, 1, 1, 1, 0},
                                       {0, 1, -1, 2, -2, 1.0 / 2, -1.0 / 2, 0},
                                       {0, 1, 1, 4, 4, 1.0 / 4, 1.0 / 4, 0},
                                       {0, 1, -1, 8, -8, 1.0 / 8, -1.0 / 8, 0},
                                       {0, 1, 1, 16, 16, 1.0 / 16, 1.0 / 16, 0},
                                       {0, 1, -1, 32, -32, 1.0 / 32, -1.0 / 32, 1}};

static const wino_1d wino43 = {4, 3, 6, &wino_g[0][0], &wino_bt[0][0], &wino_at[0][0]};
static const wino_1d wino27 = {2, 7, 8, &wino27_g[0][0], &wino27_bt[0][0], &wino27_at[0][0]};
static const wino_1d wino63 = {6, 3, 8, &wino63_g[0][0], &wino27_bt[0][0], &wino63_at[0][0]};

/* The test's matrices are a Winograd F(m, r): A^T [(G g) .* (B^T d)] is the correlation of d
 * with g, for random g and d (so S_w is the magnitude of the algorithm the engine runs). */
static void check_winograd_matrices(const wino_1d *f)
{
    float g[7], d[8];
    test_fill_random(g, (size_t)f->r, 91, -1.0f, 1.0f);
    test_fill_random(d, (size_t)f->t, 92, -1.0f, 1.0f);
    double m[8];
    for (int i = 0; i < f->t; i++) {
        double gg = 0, dd = 0;
        for (int k = 0; k < f->r; k++) gg += f->g[i * f->r + k] * g[k];
        for (int k = 0; k < f->t; k++) dd += f->bt[i * f->t + k] * d[k];
        m[i] = gg * dd;
    }
    for (int o = 0; o < f->m; o++) {
        double y = 0, want = 0;
        for (int i = 0; i < f->t; i++) y += f->at[o * f->t + i] * m[i];
        for (int k = 0; k < f->r; k++) want += (double)d[o + k] * g[k];
        assert_true(fabs(y - want) <= 1e-12);
    }
}

/* out = |L| x |L|^T for the rows x n matrix L and the n x n matrix x (rows x rows). */
static void abs_sandwich(const double *l, int rows, int n, const double *x, double *out)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < rows; j++) {
            double acc = 0;
            for (int k = 0; k < n; k++)
                for (int q = 0; q < n; q++)
                    acc += fabs(l[i * n + k]) * x[k * n + q] * fabs(l[j * n + q]);
            out[i * rows + j] = acc;
        }
}

/* S_w of every output and the Winograd form's depth for c (3x3, stride 1). */
static int winograd_magnitude(const conv_case *c, int ho, int wo, const float *x, const float *w,
                              double *sw)
{
    const int bh = (ho + 3) / 4, bw = (wo + 3) / 4;
    const size_t plane = (size_t)c->n * ho * wo, nblocks = (size_t)c->n * bh * bw;
    double *u = host_doubles((size_t)c->cout * c->cin * 36); /* |G||g||G^T| */
    double *v = host_doubles(nblocks * c->cin * 36);         /* |B^T||d||B| */
    for (size_t k = 0; k < (size_t)c->cout * c->cin; k++) {
        double g[9];
        for (int i = 0; i < 9; i++) g[i] = fabs(w[k * 9 + i]);
        abs_sandwich(&wino_g[0][0], 6, 3, g, u + k * 36);
    }
    for (size_t b = 0; b < nblocks; b++)
        for (int ci = 0; ci < c->cin; ci++) {
            const int n = (int)(b / ((size_t)bh * bw)), r = (int)(b % ((size_t)bh * bw));
            const int y0 = 4 * (r / bw) - c->ph, x0 = 4 * (r % bw) - c->pw;
            double d[36];
            for (int i = 0; i < 36; i++) {
                const int iy = y0 + i / 6, ix = x0 + i % 6;
                const int in = iy >= 0 && iy < c->h && ix >= 0 && ix < c->w;
                d[i] = in ? fabs(x[(((size_t)ci * c->n + n) * c->h + iy) * c->w + ix]) : 0.0;
            }
            abs_sandwich(&wino_bt[0][0], 6, 6, d, v + (b * c->cin + ci) * 36);
        }
    for (int co = 0; co < c->cout; co++)
        for (size_t b = 0; b < nblocks; b++) {
            double m[36] = {0}, y[16];
            for (int ci = 0; ci < c->cin; ci++) {
                const double *uc = u + ((size_t)co * c->cin + ci) * 36;
                const double *vc = v + (b * c->cin + ci) * 36;
                for (int i = 0; i < 36; i++) m[i] += uc[i] * vc[i];
            }
            abs_sandwich(&wino_at[0][0], 4, 6, m, y);
            const int n = (int)(b / ((size_t)bh * bw)), r = (int)(b % ((size_t)bh * bw));
            for (int i = 0; i < 16; i++) {
                const int oy = 4 * (r / bw) + i / 4, ox = 4 * (r % bw) + i % 4;
                if (oy < ho && ox < wo) sw[co * plane + ((size_t)n * ho + oy) * wo + ox] = y[i];
            }
        }
    free(u), free(v);
    return c->cin + 2 * (winograd_depth(&wino_g[0][0], 6, 3) +
                         winograd_depth(&wino_bt[0][0], 6, 6) +
                         winograd_depth(&wino_at[0][0], 4, 6));
}

/* S_w of every output and the form's depth for c run by the 1-D family
 * (ops/conv_winograd_fused.c): F(4, 3) down the columns of 3x3 and 3x1 kernels (F(6, 3) with
 * kchunk 6) and along 1x3 ones, F(2, 7) down 7x1 and along 1x7 ones. Output j of a tile is
 *   sum_i A^T[j][i] sum_{c, k across} (G g)_i (B^T d)_i,
 * so S_w = sum_i |A^T[j][i]| sum_{c, k} (|G||g|)_i (|B^T||d|)_i and d = k_across*cin +
 * depth(G) + depth(B^T) + depth(A^T) (each transform applied once). */
static int winograd_1d_magnitude(const conv_case *c, int ho, int wo, const float *x,
                                 const float *w, double *sw)
{
    const int along_x = c->kh == 1 && c->kw > 1;
    const wino_1d *f = (along_x ? c->kw : c->kh) == 7 ? &wino27
                       : c->kchunk == 6                  ? &wino63
                                                         : &wino43;
    const int across = along_x ? c->kh : c->kw;
    assert_int_equal(along_x ? c->kw : c->kh, f->r);
    check_winograd_matrices(f);
    const size_t plane = (size_t)c->n * ho * wo;
    for (int co = 0; co < c->cout; co++)
        for (int n = 0; n < c->n; n++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    const int o = along_x ? ox : oy, j = o % f->m, base = o - j;
                    double total = 0;
                    for (int i = 0; i < f->t; i++) {
                        double sum = 0;
                        for (int ci = 0; ci < c->cin; ci++)
                            for (int k = 0; k < across; k++) {
                                double u = 0, v = 0;
                                for (int a = 0; a < f->r; a++) {
                                    const int kh = along_x ? k : a, kw = along_x ? a : k;
                                    u += fabs(f->g[i * f->r + a]) *
                                         fabs(w[(((size_t)co * c->cin + ci) * c->kh + kh) *
                                                    c->kw + kw]);
                                }
                                for (int l = 0; l < f->t; l++) {
                                    const int iy = (along_x ? oy + k : base + l) - c->ph;
                                    const int ix = (along_x ? base + l : ox + k) - c->pw;
                                    if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                    v += fabs(f->bt[i * f->t + l]) *
                                         fabs(x[(((size_t)ci * c->n + n) * c->h + iy) * c->w +
                                                ix]);
                                }
                                sum += u * v;
                            }
                        total += fabs(f->at[j * f->t + i]) * sum;
                    }
                    sw[co * plane + ((size_t)n * ho + oy) * wo + ox] = total;
                }
    return across * c->cin + winograd_depth(f->g, f->t, f->r) +
           winograd_depth(f->bt, f->t, f->t) + winograd_depth(f->at, f->m, f->t);
}

/* Naive direct convolution of x [cin][n][h][w] with w [cout][cin][kh][kw] in double, with the
 * bound of the form c->method on each element (above). */
static conv_ref conv_reference(const conv_case *c, int ho, int wo, const float *x,
                               const float *w, const float *bias, const float *scale,
                               const float *shift, const float *old)
{
    size_t plane = (size_t)c->n * ho * wo;
    conv_ref r = {host_doubles((size_t)c->cout * plane), host_doubles((size_t)c->cout * plane)};
    double *sw = NULL;
    int depth = c->cin * c->kh * c->kw;
    if (c->method == CONV_WINOGRAD || c->method == CONV_WINOGRAD_2D) {
        assert_true(c->kh == 3 && c->kw == 3 && c->stride == 1);
        check_winograd_matrices(&wino43);
        sw = host_doubles((size_t)c->cout * plane);
        depth = winograd_magnitude(c, ho, wo, x, w, sw);
    }
    if (c->method == CONV_WINOGRAD_1D) {
        sw = host_doubles((size_t)c->cout * plane);
        depth = winograd_1d_magnitude(c, ho, wo, x, w, sw);
    }
    const op_epilogue before_affine = {c->epi.relu1, c->epi.residual, 0, 0};
    const int epi_depth = depth + 1 + c->epi.residual;
    for (int co = 0; co < c->cout; co++)
        for (int n = 0; n < c->n; n++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    double acc = 0.0, mag = 0.0;
                    for (int ci = 0; ci < c->cin; ci++)
                        for (int ky = 0; ky < c->kh; ky++)
                            for (int kx = 0; kx < c->kw; kx++) {
                                int iy = oy * c->stride + ky - c->ph;
                                int ix = ox * c->stride + kx - c->pw;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                size_t xi = (((size_t)ci * c->n + n) * c->h + iy) * c->w + ix;
                                size_t wi = (((size_t)co * c->cin + ci) * c->kh + ky) * c->kw + kx;
                                acc += (double)x[xi] * w[wi];
                                mag += fabs((double)x[xi] * w[wi]);
                            }
                    size_t o = co * plane + ((size_t)n * ho + oy) * wo + ox;
                    const double prev = old ? old[o] : 0.0, sc = scale ? scale[co] : 1.0;
                    const double sh = shift ? shift[co] : 0.0;
                    r.value[o] = epilogue_ref(acc, c->epi, prev, bias[co], sc, sh);
                    /* the bound before the affine step, then through it */
                    double b = gamma_of(epi_depth) *
                               ((sw ? sw[o] : mag) + fabs((double)bias[co]) + fabs(prev));
                    if (c->epi.affine) {
                        const double v = epilogue_ref(acc, before_affine, prev, bias[co], 1, 0);
                        b = fabs(sc) * b * (1 + gamma_of(2)) +
                            gamma_of(2) * (fabs(sc * v) + fabs(sh));
                    }
                    r.bound[o] = BOUND_FACTOR * b;
                }
    free(sw);
    return r;
}

/* |got - value| <= bound for each of the n elements of r from `from` (NaN fails); prints the
 * largest error and the largest error / bound. */
static void expect_bounded(const char *what, const float *got, const conv_ref *r, size_t from,
                           size_t n)
{
    const double *ref = r->value + from, *bound = r->bound + from;
    double max_ref = 0.0, max_err = 0.0, max_ratio = 0.0, max_bound = 0.0;
    for (size_t i = 0; i < n; i++) max_ref = fmax(max_ref, fabs(ref[i]));
    assert_true(max_ref > 0.0); /* the case must not be degenerate (e.g. all clamped by relu) */
    for (size_t i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - ref[i]);
        if (!(err <= bound[i])) { /* NaN too */
            print_message("%s: element %zu of %zu: got %.9g, want %.9g, |err| %.3g > bound %.3g\n",
                          what, i, n, (double)got[i], ref[i], err, bound[i]);
            fail();
        }
        max_err = fmax(max_err, err), max_bound = fmax(max_bound, bound[i]);
        if (bound[i] > 0) max_ratio = fmax(max_ratio, err / bound[i]);
    }
    print_message("  %-44s %7zu values, max|err| %.2e, max bound %.2e, max err/bound %.3f\n",
                  what, n, max_err, max_bound, max_ratio);
}

enum { OUT_MARGIN = 67 };

/* Launches of a direct pass in chunks of kchunk input channels. */
static int chunks_of(int cin, int kchunk)
{
    return kchunk > 0 && kchunk < cin ? (cin + kchunk - 1) / kchunk : 1;
}

/* Images per im2col matrix of the CLBlast family (conv_clblast.c: at most 64 Mi floats, at
 * least one image). */
static size_t im2col_images(const conv_shape *s)
{
    const size_t per = ((size_t)64 << 20) / ((size_t)s->kh * s->kw * s->cin * s->ho * s->wo);
    return per == 0 ? 1 : per < (size_t)s->n ? per : (size_t)s->n;
}

/* The launches a form makes: the parity split or the panel packing (unless shared) first,
 * a direct pass per chunk; CLBlast's GEMM and then the epilogue. */
static int launches_of(const conv_shape *s, const conv_form *f, int shared_panels)
{
    switch (f->family) {
    case CONV_DIRECT: return chunks_of(s->cin, f->p.vec.kchunk);
    case CONV_PHASE: return 1 + chunks_of(s->cin, f->p.vec.kchunk);
    case CONV_PANELS: return shared_panels ? 1 : 2;
    case CONV_FUSED: return 1;
    case CONV_WG: return f->p.wg.slices > 1 ? 2 : 1;
    case CONV_SIMT: return 1;
    case CONV_WINOGRAD: return 3;
    case CONV_WINOGRAD_1D: return 1;
    case CONV_WINOGRAD_2D: return 1;
    case CONV_CLBLAST: /* im2col and SGEMM per IM2COL_FLOATS (64 Mi floats) of matrix */
        return f->p.clblast.im2col
                   ? 1 + 2 * (int)((s->n + im2col_images(s) - 1) / im2col_images(s))
                   : 2;
    default: return 2;
    }
}

/* Builds the conv's launches (checking how many) and runs them in order. */
static void run_conv(const conv_shape *s, const conv_form *f, op_epilogue epi,
                     const conv_bufs *b)
{
    op_launch ops[OP_MAX_LAUNCHES];
    int nops = -1;
    assert_ok(conv_launches(g_ctx, s, f, epi, b, ops, &nops));
    assert_int_equal(nops, launches_of(s, f, b->shared_panels));
    for (int k = 0; k < nops; k++) run_op(&ops[k]);
}

/* Packs w for the form into a new device buffer. */
static cl_mem packed_weights(const conv_shape *s, const conv_form *f, const float *w)
{
    const size_t count = conv_packed_count(s, f);
    float *packed = host_floats(count);
    conv_pack(s, f, w, packed);
    cl_mem m = dev_from(packed, count);
    free(packed);
    return m;
}

static double pool_window(pool_kind kind, const float *src, int h, int w, int oy, int ox);

/* A max pool run by a conv's launch (conv_bufs.rider), on its own input of c planes of n
 * images of h x w: in the network a sibling of the conv, here any tensor. */
typedef struct rider_case {
    const char *name;
    conv_case conv;
    int c, n, h, w;
    op_epilogue epi;
} rider_case;

/* A rider's input (random), output (NaN inside NaN guards) and epilogue parameters. */
typedef struct rider_bufs {
    float *x, *scale, *shift;
    guarded in, out;
    cl_mem sb, hb;
    conv_rider rider;
} rider_bufs;

static void rider_new(const rider_case *r, uint64_t seed, rider_bufs *b)
{
    const size_t in_count = (size_t)r->c * r->n * r->h * r->w;
    const size_t out_count = (size_t)r->c * r->n * ((r->h - 3) / 2 + 1) * ((r->w - 3) / 2 + 1);
    memset(b, 0, sizeof *b);
    b->x = random_floats(in_count, seed, -1.0f, 1.0f);
    if (r->epi.affine) affine_params((size_t)r->c, seed + 1, &b->scale, &b->shift);
    b->in = guarded_new(in_count, OUT_MARGIN, b->x);
    b->out = guarded_new(out_count, OUT_MARGIN, NULL);
    b->sb = b->scale ? dev_from(b->scale, (size_t)r->c) : NULL;
    b->hb = b->shift ? dev_from(b->shift, (size_t)r->c) : NULL;
    b->rider = (conv_rider){guarded_buf(&b->in), guarded_buf(&b->out), b->sb, b->hb, r->epi,
                            r->c, r->n, r->h, r->w};
}

/* The rider's output against pool_window's max and the epilogue in double (the tolerance
 * of test_pool_case: a max is exact, then one affine fma), its guards unchanged. */
static void rider_check(const rider_case *r, rider_bufs *b)
{
    const int ho = (r->h - 3) / 2 + 1, wo = (r->w - 3) / 2 + 1;
    const size_t out_count = (size_t)r->c * r->n * ho * wo;
    double *ref = host_doubles(out_count);
    for (int ch = 0; ch < r->c; ch++)
        for (int n = 0; n < r->n; n++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    const float *src = b->x + ((size_t)ch * r->n + n) * r->h * r->w;
                    ref[(((size_t)ch * r->n + n) * ho + oy) * wo + ox] = epilogue_ref(
                        pool_window(POOL_MAX3S2, src, r->h, r->w, oy, ox), r->epi, 0.0, 0.0,
                        b->scale ? b->scale[ch] : 1.0, b->shift ? b->shift[ch] : 0.0);
                }
    float *now = guarded_read(&b->out);
    char label[160];
    snprintf(label, sizeof label, "%s (its pool)", r->name);
    expect_unchanged_outside(label, now, b->out.init, b->out.total, b->out.margin,
                             b->out.margin + b->out.count);
    expect_close(label, now + b->out.margin, ref, out_count, 1e-6, 0.0);
    free(now), free(ref);
    release(b->sb), release(b->hb);
    guarded_free(&b->in), guarded_free(&b->out);
    free(b->x), free(b->scale), free(b->shift);
}

/* The conv of c (and, with r, its rider) against the references. */
static void check_conv_case(const conv_case *c, uint64_t seed, const rider_case *r)
{
    conv_shape s = {.cin = c->cin, .cout = c->cout, .kh = c->kh, .kw = c->kw, .stride = c->stride,
                    .ph = c->ph, .pw = c->pw, .n = c->n, .h = c->h, .w = c->w};
    if (c->flat) s.n = 1, s.h = 1, s.w = c->n * c->h * c->w;
    assert_ok(conv_shape_finish(&s));
    const int ho = (c->h + 2 * c->ph - c->kh) / c->stride + 1;
    const int wo = (c->w + 2 * c->pw - c->kw) / c->stride + 1;
    assert_int_equal((size_t)s.n * s.ho * s.wo, (size_t)c->n * ho * wo);
    const conv_vec_params t = tiling_of(c->tiling);
    const conv_form form = form_at(c->method, t, c->kchunk);

    const size_t in_count = (size_t)c->cin * c->n * c->h * c->w;
    const size_t out_count = (size_t)c->cout * c->n * ho * wo;
    const size_t w_count = (size_t)c->cout * c->cin * c->kh * c->kw;
    float *x = random_floats(in_count, seed, -1.0f, 1.0f);
    float *w = random_floats(w_count, seed + 2, -0.5f, 0.5f);
    float *bias = random_floats((size_t)c->cout, seed + 3, -0.5f, 0.5f);
    float *scale = NULL, *shift = NULL, *old = NULL;
    if (c->epi.affine) affine_params((size_t)c->cout, seed + 4, &scale, &shift);
    if (c->epi.residual) old = random_floats(out_count, seed + 6, -1.0f, 1.0f);

    /* [cout/tm][kh][kw][cin][tm] with zero rows for irv2's kernels, [cout][cin] for CLBlast */
    /* and 36 such sets of [cout/tm][cin][tm] for Winograd's transformed 3x3 kernels */
    /* (SIMT: channels padded to 8, and a split's counters, one per tile, after them) */
    const size_t padded_rows = (size_t)(c->cout + t.tm - 1) / t.tm * t.tm * c->cin;
    const size_t simt_tiles = ((size_t)c->n * ho * wo + t.vw - 1) / t.vw *
                              (((size_t)c->cout + t.tm - 1) / t.tm);
    assert_int_equal(conv_packed_count(&s, &form),
                     c->method == CONV_CLBLAST     ? w_count
                     : c->method == CONV_WINOGRAD || c->method == CONV_WINOGRAD_2D
                         ? 36 * padded_rows
                     : c->method == CONV_WINOGRAD_1D
                         ? padded_rows * (c->kchunk == 6 ? 8 * c->kw
                                          : c->kh * c->kw == 7 ? 8
                                          : c->kh * c->kw == 9 ? 18
                                                               : 6)
                     : c->method == CONV_SIMT
                         ? padded_rows / c->cin * ((c->cin + 7) / 8 * 8) * c->kh * c->kw +
                               (c->kchunk > 1 ? simt_tiles : 0)
                         : padded_rows * c->kh * c->kw);

    /* Input inside NaN guards as wide as the kernel may read; output inside NaN guards and,
     * unless residual, NaN itself so every output must be written. */
    guarded in = guarded_new(in_count, conv_guard(&s, &form), x);
    cl_mem wbuf = packed_weights(&s, &form, w), bbuf = dev_from(bias, (size_t)c->cout);
    cl_mem sbuf = scale ? dev_from(scale, (size_t)c->cout) : NULL;
    cl_mem hbuf = shift ? dev_from(shift, (size_t)c->cout) : NULL;
    conv_ref ref = conv_reference(c, ho, wo, x, w, bias, scale, shift, old);
    /* The work-group family twice: as the context has it, then as the compact kernel set
     * (geometry and epilogue as kernel arguments). */
    const int passes = c->method == CONV_WG ? 2 : 1;
    for (int pass = 0; pass < passes; pass++) {
        guarded out = guarded_new(out_count, OUT_MARGIN, old);
        /* Parity planes and panels need scratch (NaN too: every float read must be written). */
        guarded scratch = {0};
        const size_t scratch_count = conv_scratch(&s, &form);
        if (c->method == CONV_PHASE || c->method == CONV_PANELS ||
            c->method == CONV_WINOGRAD || (c->method == CONV_WG && c->kchunk > 1) ||
            (c->method == CONV_SIMT && c->kchunk > 1) ||
            (c->method == CONV_CLBLAST && c->kchunk)) {
            assert_true(scratch_count > 0);
            scratch = guarded_new(scratch_count, conv_guard(&s, &form), NULL);
        } else {
            assert_int_equal(scratch_count, 0);
        }
        rider_bufs rb;
        if (r) rider_new(r, seed + 8, &rb);
        const conv_bufs b = {guarded_buf(&in), guarded_buf(&scratch), 0, wbuf, bbuf, sbuf, hbuf,
                             conv_out_one(guarded_buf(&out)), r ? &rb.rider : NULL};
        const ctx_kernels kernels = g_ctx->kernels;
        if (pass == 1) g_ctx->kernels = KERNELS_COMPACT;
        run_conv(&s, &form, c->epi, &b);
        g_ctx->kernels = kernels;
        if (r) rider_check(r, &rb);

        float *now = guarded_read(&out);
        expect_unchanged_outside(c->name, now, out.init, out.total, out.margin,
                                 out.margin + out.count);
        /* each element within its rounding-error bound (conv_reference) */
        char label[128];
        snprintf(label, sizeof label, "%s [%s vw%d tm%d%s]", c->name,
                 conv_family_name(c->method), t.vw, t.tm, pass ? " compact" : "");
        expect_bounded(label, now + out.margin, &ref, 0, out_count);
        free(now);
        if (scratch.mem) guarded_free(&scratch);
        guarded_free(&out);
    }
    conv_ref_free(&ref);
    release(wbuf), release(bbuf), release(sbuf), release(hbuf);
    guarded_free(&in);
    free(x), free(w), free(bias), free(scale), free(shift), free(old);
}

static void test_conv_case(void **state)
{
    const conv_case *c = *state;
    check_conv_case(c, 1000 + (uint64_t)(c - conv_cases) * 16, NULL);
}

/* The families that take riders (conv_takes_rider): the pool in the conv's first launch of
 * its main kernel, on work-items (direct, phase) or work-groups (SIMT, split or not) past
 * the channel tiles; odd sizes, batches unlike the conv's, either epilogue. */
static const rider_case rider_cases[] = {
    {"rider: maxpool 17x17 n3 c5 affine relu2 on conv 3x3 s2 p0 17x17 n3 cin3 cout21 T8",
     {"", 3, 3, 2, 0, 0, 3, 17, 17, 3, 21, T8, 0, EPI_RELU1, CONV_DIRECT, 0}, 5, 3, 17, 17,
     EPI_AFF},
    {"rider: maxpool 8x9 n2 c3 on conv 1x1 flat 8x8 n3 cin40 cout21 T8 in 3 chunks",
     {"", 1, 1, 1, 0, 0, 3, 8, 8, 40, 21, T8, 1, EPI_RES, CONV_DIRECT, 16}, 3, 2, 8, 9,
     EPI_NONE},
    {"rider: maxpool 35x35 n1 c4 on conv 3x3 s2 p0 phase 35x35 n1 cin17 cout5 T16 bn",
     {"", 3, 3, 2, 0, 0, 1, 35, 35, 17, 5, T16, 0, EPI_BN, CONV_PHASE, 0}, 4, 1, 35, 35,
     EPI_NONE},
    {"rider: maxpool 35x35 n1 c3 affine relu2 on conv 3x3 s2 p0 simt 35x35 n1 cin3 cout29 TW128",
     {"", 3, 3, 2, 0, 0, 1, 35, 35, 3, 29, TW128, 0, EPI_RELU1, CONV_SIMT, 0}, 3, 1, 35, 35,
     EPI_AFF},
    {"rider: maxpool 9x19 n2 c3 on conv 3x3 p1 simt 9x9 n2 cin33 cout37 TS32 bn 3 parts",
     {"", 3, 3, 1, 1, 1, 2, 9, 9, 33, 37, TS32, 0, EPI_BN, CONV_SIMT, 3}, 3, 2, 9, 19,
     EPI_NONE},
};

static void test_rider_case(void **state)
{
    const rider_case *r = *state;
    check_conv_case(&r->conv, 3000 + (uint64_t)(r - rider_cases) * 16, r);
}

/* A family that does not take riders refuses one, naming itself; a pool too small for a
 * 3x3 window is refused by shape. */
static void test_rider_refused(void **state)
{
    (void)state;
    conv_shape s = {.cin = 8, .cout = 8, .kh = 1, .kw = 1, .stride = 1, .n = 1, .h = 1, .w = 64};
    assert_ok(conv_shape_finish(&s));
    conv_rider r = {.c = 2, .n = 1, .h = 9, .w = 9};
    conv_bufs b = {.out = {NULL, 1, {0}, {0}}, .rider = &r};
    op_launch ops[OP_MAX_LAUNCHES];
    int n = -1;
    const conv_form fused = conv_vec_form(CONV_FUSED, 8, 8, 0);
    assert_false(conv_takes_rider(&fused));
    assert_int_equal(conv_launches(g_ctx, &s, &fused, (op_epilogue){0}, &b, ops, &n),
                     IRV2_ERR_UNSUPPORTED);
    assert_non_null(strstr(irv2_last_error(), "fused family runs no pool"));
    assert_int_equal(n, 0);
    const conv_form direct = conv_vec_form(CONV_DIRECT, 8, 8, 0);
    assert_true(conv_takes_rider(&direct));
    r.h = 2;
    assert_int_equal(conv_launches(g_ctx, &s, &direct, (op_epilogue){0}, &b, ops, &n),
                     IRV2_ERR_SHAPE);
    assert_non_null(strstr(irv2_last_error(), "max pool of 2 x 1 planes of 2x9"));
}

/* Stacked sibling convs: one conv whose output channels go to three places in parts of 5,
 * 9 and 7 channels (straddling the 8-channel and 4-channel tiles), in each form that 1x1
 * convs run in; each part must match the reference and the gaps between parts stay NaN. */
static void test_conv_output_parts(void **state)
{
    (void)state;
    const conv_case c = {"parts", 1, 1, 1, 0, 0, 2, 5, 7, 17, 21, T8, 1, EPI_RELU1, CONV_DIRECT, 0};
    conv_shape s = {.cin = 17, .cout = 21, .kh = 1, .kw = 1, .stride = 1, .n = 1, .h = 1,
                    .w = 2 * 5 * 7};
    assert_ok(conv_shape_finish(&s));
    const size_t plane = 70, gap = 13;
    const int from[3] = {0, 5, 14}, count[3] = {5, 9, 7};
    /* part 1 first, then part 2, then part 0, with gaps before each */
    const size_t off[3] = {gap + 9 * plane + gap + 7 * plane + gap, gap, gap + 9 * plane + gap};
    const size_t total = off[0] + 5 * plane + gap;
    float *x = random_floats(17 * plane, 7001, -1.0f, 1.0f);
    float *w = random_floats(21 * 17, 7002, -0.5f, 0.5f);
    float *bias = random_floats(21, 7003, -0.5f, 0.5f);
    conv_ref ref = conv_reference(&c, 5, 7, x, w, bias, NULL, NULL, NULL);
    const conv_form forms[] = {
        conv_vec_form(CONV_DIRECT, 8, 8, 0),   conv_vec_form(CONV_DIRECT, 16, 4, 0),
        conv_vec_form(CONV_PANELS, 8, 8, 0),   conv_vec_form(CONV_PANELS, 16, 6, 0),
        conv_vec_form(CONV_FUSED, 8, 8, 0),    conv_vec_form(CONV_FUSED, 16, 4, 0),
        conv_vec_form(CONV_DIRECT, 8, 8, 8),   conv_vec_form(CONV_PANELS, 16, 24, 0),
        conv_vec_form(CONV_DIRECT, 16, 16, 0), conv_wg_form(32, 32, 0),
        conv_wg_form(64, 128, 0),              conv_wg_form(32, 32, 3),
        conv_simt_form(64, 64, 0),             conv_simt_form(32, 64, 2)};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        cl_mem wbuf = packed_weights(&s, &forms[f], w), bbuf = dev_from(bias, 21);
        guarded in = guarded_new(17 * plane, conv_guard(&s, &forms[f]), x);
        guarded out = guarded_new(total, OUT_MARGIN, NULL);
        const size_t need = conv_scratch(&s, &forms[f]) ? conv_scratch(&s, &forms[f]) : 1;
        guarded scratch = guarded_new(need, conv_guard(&s, &forms[f]), NULL);
        conv_bufs b = {guarded_buf(&in), guarded_buf(&scratch), 0, wbuf, bbuf, NULL, NULL,
                       {out.mem, 3, {0, 5, 14}, {0}}, NULL};
        for (int k = 0; k < 3; k++) b.out.off[k] = out.margin + off[k];
        run_conv(&s, &forms[f], c.epi, &b);
        float *now = guarded_read(&out);
        char label[96], text[64];
        conv_form_format(&forms[f], text, sizeof text);
        for (int k = 0; k < 3; k++) {
            snprintf(label, sizeof label, "parts: form %zu (%s) part %d", f, text, k);
            expect_bounded(label, now + out.margin + off[k], &ref, from[k] * plane,
                           (size_t)count[k] * plane);
        }
        /* everything outside the three parts is untouched */
        size_t written = 0;
        for (size_t i = 0; i < out.total; i++) {
            int inside = 0;
            for (int k = 0; k < 3; k++)
                inside |= i >= out.margin + off[k] && i < out.margin + off[k] + count[k] * plane;
            if (inside) written++;
            else if (!isnan(now[i])) fail_msg("parts: form %zu wrote element %zu outside the parts", f, i);
        }
        assert_int_equal(written, 21 * plane);
        free(now);
        guarded_free(&scratch);
        guarded_free(&in);
        guarded_free(&out);
        release(wbuf), release(bbuf);
    }
    /* parts that do not rise within cout are refused, and CLBlast writes a single part */
    conv_bufs bad = {.out = {NULL, 3, {0, 14, 5}, {0}}};
    op_launch ops[OP_MAX_LAUNCHES];
    int nops = -1;
    conv_form direct = conv_vec_form(CONV_DIRECT, 8, 8, 0);
    assert_int_equal(conv_launches(g_ctx, &s, &direct, c.epi, &bad, ops, &nops), IRV2_ERR_SHAPE);
    assert_int_equal(nops, 0);
    print_message("  unordered parts -> %s\n", irv2_last_error());
    conv_bufs three = {.out = {NULL, 3, {0, 5, 14}, {0}}};
    conv_form clblast = conv_clblast_form();
    nops = -1;
    assert_int_equal(conv_launches(g_ctx, &s, &clblast, c.epi, &three, ops, &nops),
                     IRV2_ERR_SHAPE);
    assert_int_equal(nops, 0);
    print_message("  clblast with parts -> %s\n", irv2_last_error());
    irv2_clear_error();
    conv_ref_free(&ref), free(x), free(w), free(bias);
}

/* The CLBlast family's im2col form starts with cl/pack.cl's im2col_rows: run alone (the
 * SGEMM and epilogue after it are CLBlast's and eltwise.cl's, checked by the conv cases), it
 * writes the plain matrix [cin*KH*KW][n*Ho*Wo] of the images into scratch, bit-exact, zeros in
 * the padding, and nothing outside the matrix. */
static void test_im2col_rows(void **state)
{
    (void)state;
    static const conv_shape shapes[] = {
        {.cin = 5, .cout = 3, .kh = 3, .kw = 3, .stride = 2, .ph = 1, .pw = 1, .n = 3, .h = 9, .w = 10},
        {.cin = 3, .cout = 3, .kh = 1, .kw = 7, .stride = 1, .ph = 0, .pw = 3, .n = 2, .h = 6, .w = 5},
    };
    for (size_t z = 0; z < sizeof shapes / sizeof shapes[0]; z++) {
        conv_shape s = shapes[z];
        assert_ok(conv_shape_finish(&s));
        const conv_form f = conv_clblast_im2col_form();
        const size_t in_count = (size_t)s.cin * s.n * s.h * s.w, npos = (size_t)s.n * s.ho * s.wo;
        const size_t rows = (size_t)s.cin * s.kh * s.kw, out_count = (size_t)s.cout * npos;
        assert_int_equal(conv_scratch(&s, &f), rows * npos);
        float *x = random_floats(in_count, 4100 + z, -1.0f, 1.0f);
        guarded in = guarded_new(in_count, 16, x), scratch = guarded_new(rows * npos, 16, NULL);
        guarded out = guarded_new(out_count, 16, NULL);
        cl_mem bias = dev_from(x, (size_t)s.cout);
        const conv_bufs b = {guarded_buf(&in), guarded_buf(&scratch), 0, bias, bias, NULL, NULL,
                             conv_out_one(guarded_buf(&out)), NULL};
        op_launch ops[OP_MAX_LAUNCHES];
        int nops = 0;
        assert_ok(conv_launches(g_ctx, &s, &f, (op_epilogue){0, 0, 0, 0}, &b, ops, &nops));
        assert_int_equal(nops, 3); /* im2col, SGEMM, epilogue */
        run_op(&ops[0]);
        for (int k = 1; k < nops; k++) op_release(&ops[k]);
        float *now = guarded_read(&scratch);
        for (int c = 0; c < s.cin; c++)
            for (int kh = 0; kh < s.kh; kh++)
                for (int kw = 0; kw < s.kw; kw++)
                    for (size_t pos = 0; pos < npos; pos++) {
                        const int img = (int)(pos / ((size_t)s.ho * s.wo));
                        const int r = (int)(pos % ((size_t)s.ho * s.wo)), oy = r / s.wo;
                        const int iy = oy * s.stride - s.ph + kh;
                        const int ix = (r - oy * s.wo) * s.stride - s.pw + kw;
                        const int inside = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
                        const float want =
                            inside ? x[(((size_t)c * s.n + img) * s.h + iy) * s.w + ix] : 0.0f;
                        const size_t row = ((size_t)c * s.kh + kh) * s.kw + kw;
                        assert_memory_equal(&now[scratch.margin + row * npos + pos], &want,
                                            sizeof want);
                    }
        expect_unchanged_outside("im2col_rows", now, scratch.init, scratch.total, scratch.margin,
                                 scratch.margin + rows * npos);
        free(now), free(x);
        release(bias);
        guarded_free(&in), guarded_free(&scratch), guarded_free(&out);
    }
}

/* Sibling 1x1 convs that read one input: the second, with shared_panels, reuses the panels
 * the first packed into scratch (one launch instead of two); both must be right. A KxK conv
 * cannot share (its panels depend on its own geometry). */
static void test_conv_shared_panels(void **state)
{
    (void)state;
    const conv_case c1 = {"shared panels: first", 1, 1, 1, 0, 0, 2, 5, 7, 17, 21, T8, 1,
                          EPI_RELU1, CONV_PANELS, 0};
    conv_case c2 = c1;
    c2.name = "shared panels: second", c2.cout = 13, c2.epi = (op_epilogue)EPI_BN;
    conv_shape s1 = {.cin = 17, .cout = 21, .kh = 1, .kw = 1, .stride = 1, .n = 1, .h = 1,
                     .w = 70};
    assert_ok(conv_shape_finish(&s1));
    conv_shape s2 = s1;
    s2.cout = 13;
    const conv_form f = form_at(CONV_PANELS, tiling_of(TDEF), 0);
    float *x = random_floats(17 * 70, 7201, -1.0f, 1.0f);
    float *w1 = random_floats(21 * 17, 7202, -0.5f, 0.5f);
    float *w2 = random_floats(13 * 17, 7203, -0.5f, 0.5f);
    float *b1 = random_floats(21, 7204, -0.5f, 0.5f), *b2 = random_floats(13, 7205, -0.5f, 0.5f);
    float *scale, *shift;
    affine_params(13, 7206, &scale, &shift);
    guarded in = guarded_new(17 * 70, conv_guard(&s1, &f), x);
    guarded scratch = guarded_new(conv_scratch(&s1, &f), conv_guard(&s1, &f), NULL);
    assert_true(conv_reuse_key(&s1, &f) != 0);
    assert_int_equal(conv_reuse_key(&s2, &f), conv_reuse_key(&s1, &f));
    assert_int_equal(conv_scratch(&s2, &f), conv_scratch(&s1, &f));
    guarded o1 = guarded_new(21 * 70, OUT_MARGIN, NULL);
    guarded o2 = guarded_new(13 * 70, OUT_MARGIN, NULL);
    cl_mem wb1 = packed_weights(&s1, &f, w1), wb2 = packed_weights(&s2, &f, w2);
    cl_mem bb1 = dev_from(b1, 21), bb2 = dev_from(b2, 13);
    cl_mem sb = dev_from(scale, 13), hb = dev_from(shift, 13);
    const conv_bufs first = {guarded_buf(&in), guarded_buf(&scratch), 0, wb1, bb1, NULL, NULL,
                             conv_out_one(guarded_buf(&o1)), NULL};
    const conv_bufs second = {guarded_buf(&in), guarded_buf(&scratch), 1, wb2, bb2, sb, hb,
                              conv_out_one(guarded_buf(&o2)), NULL};
    run_conv(&s1, &f, c1.epi, &first);
    run_conv(&s2, &f, c2.epi, &second);

    const conv_case *cases[2] = {&c1, &c2};
    const float *ws[2] = {w1, w2}, *bs[2] = {b1, b2};
    const guarded *outs[2] = {&o1, &o2};
    for (int k = 0; k < 2; k++) {
        float *now = guarded_read(outs[k]);
        expect_unchanged_outside(cases[k]->name, now, outs[k]->init, outs[k]->total,
                                 outs[k]->margin, outs[k]->margin + outs[k]->count);
        conv_ref ref = conv_reference(cases[k], 5, 7, x, ws[k], bs[k], k ? scale : NULL,
                                      k ? shift : NULL, NULL);
        expect_bounded(cases[k]->name, now + outs[k]->margin, &ref, 0, outs[k]->count);
        conv_ref_free(&ref), free(now);
    }

    /* a 3x3 conv's panels are its own: sharing is refused, nothing is left allocated */
    conv_shape k3 = {.cin = 17, .cout = 13, .kh = 3, .kw = 3, .stride = 2, .n = 2, .h = 9, .w = 9};
    assert_ok(conv_shape_finish(&k3));
    op_launch ops[OP_MAX_LAUNCHES];
    int nops = -1;
    assert_int_equal(conv_launches(g_ctx, &k3, &f, c2.epi, &second, ops, &nops),
                     IRV2_ERR_INVALID_ARGUMENT);
    assert_int_equal(nops, 0);
    print_message("  shared panels on a 3x3 conv -> %s\n", irv2_last_error());
    irv2_clear_error();

    guarded_free(&in), guarded_free(&scratch), guarded_free(&o1), guarded_free(&o2);
    release(wb1), release(wb2), release(bb1), release(bb2), release(sb), release(hb);
    free(x), free(w1), free(w2), free(b1), free(b2), free(scale), free(shift);
}

static void test_conv_tiling_and_packing(void **state)
{
    (void)state;
    conv_vec_params d = conv_default_tiling(g_ctx);
    assert_true(d.vw == 8 || d.vw == 16);
    assert_true(d.tm > 0);
    print_message("  default tiling on '%s': vw %d tm %d\n", g_ctx->info.name, d.vw, d.tm);

    /* conv_pack: [cout/tm][kh][kw][cin][tm], zero rows padding cout to a multiple of tm */
    conv_shape s = {.cin = 2, .cout = 3, .kh = 1, .kw = 2, .stride = 1, .n = 1, .h = 1, .w = 2};
    assert_ok(conv_shape_finish(&s));
    conv_form f = conv_vec_form(CONV_DIRECT, 8, 2, 0);
    float w[12], packed[16];
    /* w[co][ci][0][kx] = 1 + co*4 + ci*2 + kx */
    for (int i = 0; i < 12; i++) w[i] = (float)(i + 1);
    assert_int_equal(conv_packed_count(&s, &f), 16);
    conv_pack(&s, &f, w, packed);
    static const float want[16] = {1, 5, 3, 7, 2, 6, 4, 8, 9, 0, 11, 0, 10, 0, 12, 0};
    assert_memory_equal(packed, want, sizeof want);
    /* CLBlast reads the canonical weights: a copy */
    f = conv_clblast_form();
    assert_int_equal(conv_packed_count(&s, &f), 12);
    conv_pack(&s, &f, w, packed);
    assert_memory_equal(packed, w, sizeof w);

    /* shapes the kernel does not support are refused */
    conv_shape bad = s;
    bad.stride = 3;
    assert_int_equal(conv_shape_finish(&bad), IRV2_ERR_SHAPE);
    bad = s, bad.kh = 3, bad.kw = 3, bad.ph = 3;
    assert_int_equal(conv_shape_finish(&bad), IRV2_ERR_SHAPE);
    bad = s, bad.kh = 3, bad.kw = 3, bad.h = 2, bad.w = 2;
    assert_int_equal(conv_shape_finish(&bad), IRV2_ERR_SHAPE);

    /* every family has a row and a name; a form's text reads back as the form */
    const conv_form texts[] = {conv_vec_form(CONV_PHASE, 16, 6, 28), conv_wg_form(64, 128, 4),
                               conv_clblast_form(), conv_clblast_im2col_form(),
                               conv_vec_form(CONV_WINOGRAD, 16, 24, 0)};
    static const char *const written[] = {"phase 16 6 28", "wg 64 128 4", "clblast",
                                          "clblast im2col", "winograd 16 24 0"};
    for (int m = 0; m < CONV_FAMILIES; m++) {
        assert_non_null(conv_family_of((conv_family_id)m));
        assert_string_not_equal(conv_family_name((conv_family_id)m), "unknown");
    }
    assert_string_equal(conv_family_name(CONV_PANELS), "panels");
    assert_string_equal(conv_family_name(CONV_FAMILIES), "unknown");
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char text[64];
        conv_form back;
        conv_form_format(&texts[i], text, sizeof text);
        assert_string_equal(text, written[i]);
        assert_true(conv_form_parse(text, &back));
        assert_true(conv_form_equal(&back, &texts[i]));
    }
    conv_form none;
    static const char *const bad_texts[] = {"wg 64 64", "clblast 1", "clblast im2col 1",
                                            "direct 8 8 0 x", "dir 8 8 0", "direct",
                                            "", "panels"};
    for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++)
        assert_false(conv_form_parse(bad_texts[i], &none));
}

/* ---- conv_candidates, conv_refinements (host/ops/conv.c) ---------------------------------- */

static int wide_device(void) { return conv_default_tiling(g_ctx).vw >= 16; }

/* The work-group side a device runs (conv_wg.c's rule): 16 with 256 work-items per group, else
 * 8 with 64, else 0. */
static int wg_side_expected(void)
{
    size_t group = 0, items[3] = {0};
    assert_int_equal(clGetDeviceInfo(g_ctx->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof group,
                                     &group, NULL),
                     CL_SUCCESS);
    assert_int_equal(clGetDeviceInfo(g_ctx->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof items,
                                     items, NULL),
                     CL_SUCCESS);
    for (int side = 16; side >= 8; side /= 2)
        if (group >= (size_t)(side * side) && items[0] >= (size_t)side && items[1] >= (size_t)side)
            return side;
    return 0;
}

static size_t expected_simt_candidates(conv_form *out);

/* The expected work-group candidates: where the context offers the family, except on a GPU
 * that runs a SIMT tile outside the compact kernel set, the six tiles in order (the compact
 * kernel set: the first only) whose sides are multiples of the work-group side, whose
 * positions divide the work-group, and whose two 16-row slices fit local memory. */
static size_t expected_wg_candidates(conv_form *out)
{
    static const conv_vec_params tiles[] = {{64, 64, 0},  {32, 32, 0},  {32, 64, 0},
                                            {64, 128, 0}, {128, 64, 0}, {128, 128, 0}};
    const int side = wg_side_expected();
    cl_ulong local = 0;
    assert_int_equal(clGetDeviceInfo(g_ctx->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local,
                                     &local, NULL),
                     CL_SUCCESS);
    size_t n = 0;
    if (!(g_ctx->kernels & KERNELS_WG) || side == 0) return 0;
    conv_form simt[8];
    if (g_ctx->profile.gpu && expected_simt_candidates(simt) > 0) return 0;
    const size_t ntiles =
        g_ctx->kernels & KERNELS_COMPACT_BIT ? 1 : sizeof tiles / sizeof tiles[0];
    for (size_t i = 0; i < ntiles; i++)
        if (tiles[i].vw % side == 0 && tiles[i].tm % side == 0 && (side * side) % tiles[i].vw == 0 &&
            16u * (tiles[i].vw + tiles[i].tm) * 4 <= local)
            out[n++] = conv_wg_form(tiles[i].vw, tiles[i].tm, 0);
    return n;
}

/* The expected SIMT candidates: where the context offers the work-group family, outside the
 * compact kernel set, the five tiles in order whose work-group ((positions/8) x (channels/8)
 * work-items) the device takes, whose double-buffered 8-row slices fit local memory, and
 * (on AMD, whose waves are 64 wide) whose work-group has at least 64 work-items; none on
 * Intel GPUs. */
static size_t expected_simt_candidates(conv_form *out)
{
    static const conv_vec_params tiles[] = {
        {128, 128, 0}, {64, 128, 0}, {128, 64, 0}, {64, 64, 0}, {32, 64, 0}};
    const device_profile *p = &g_ctx->profile;
    size_t n = 0;
    if (!(g_ctx->kernels & KERNELS_WG) || (g_ctx->kernels & KERNELS_COMPACT_BIT)) return 0;
    for (size_t i = 0; i < sizeof tiles / sizeof tiles[0]; i++) {
        const size_t group = (size_t)(tiles[i].vw / 8) * (tiles[i].tm / 8);
        if (group <= p->max_group && group <= p->max_items[0] &&
            2u * 8 * (tiles[i].vw + tiles[i].tm) * 4 + 4 <= p->local_mem &&
            (group >= 64 || p->vendor != VENDOR_AMD) && !(p->gpu && p->vendor == VENDOR_INTEL))
            out[n++] = conv_simt_form(tiles[i].vw, tiles[i].tm, 0);
    }
    return n;
}

/* The expected candidates, from the rules conv.h states: per tiling (the default one only
 * beside the work-group family; a pair of 16-lane panels only in the panel forms), direct;
 * panels for 1x1 stride-1 convs, stride-2 convs and outputs of at most 40x40 per image;
 * fused for KxK convs (and 1x1 on 16-wide devices) whose panel fits local memory; parity
 * planes for stride-2 convs whose output fits the planes; Winograd for 3x3 stride-1 convs
 * from 128 channels in and out; 1-D Winograd (pairs included) for stride-1 3x3, 3x1, 1x3, 7x1
 * and 1x7 convs whose transformed panel (6 or 8 points x the taps across x cin x vw floats) fits
 * local memory; F(4x4, 3x3) in the work-group (winograd2d) for stride-1 3x3 convs at tilings
 * of up to 12 channels whose 36 x cin x vw panel fits. */
static size_t expected_candidates(const conv_shape *s, conv_form *out)
{
    if (!(g_ctx->kernels & KERNELS_VEC)) return 0;
    cl_ulong local = 0;
    assert_int_equal(clGetDeviceInfo(g_ctx->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local,
                                     &local, NULL),
                     CL_SUCCESS);
    conv_vec_params t[CONV_MAX_TILINGS];
    size_t nt = conv_vec_tilings(g_ctx, t, CONV_MAX_TILINGS), n = 0;
    const int gemm = s->kh == 1 && s->kw == 1 && s->stride == 1 && s->ph == 0 && s->pw == 0;
    const int panels = gemm || s->stride == 2 || s->ho * s->wo <= 40 * 40;
    const int phase = s->stride == 2 && s->ho <= (s->h + 1) / 2 && s->wo <= (s->w + 1) / 2;
    const int winograd = s->kh == 3 && s->kw == 3 && s->stride == 1 && s->cin >= 128 &&
                         s->cout >= 128;
    const int wino1d_taps = s->stride != 1                     ? 0
                            : s->kh == 3 && s->kw == 3         ? 18
                            : s->kh == 3 && s->kw == 1         ? 6
                            : s->kh == 1 && s->kw == 3         ? 6
                            : (s->kh == 7) != (s->kw == 7) && s->kh * s->kw == 7 ? 8
                                                               : 0;
    for (size_t i = 0; i < nt; i++) {
        const int fused = (s->kh > 1 || s->kw > 1 || wide_device()) &&
                          (cl_ulong)s->kh * s->kw * s->cin * t[i].vw * 4 <= local;
        const int wino1d = wino1d_taps && (cl_ulong)wino1d_taps * s->cin * t[i].vw * 4 <= local;
        const int wino2d = s->kh == 3 && s->kw == 3 && s->stride == 1 && t[i].tm <= 12 &&
                           (cl_ulong)36 * s->cin * t[i].vw * 4 <= local;
        if (t[i].vw == CONV_PAIR_LANES) {
            if (panels) out[n++] = form_at(CONV_PANELS, t[i], 0);
            if (fused) out[n++] = form_at(CONV_FUSED, t[i], 0);
            if (wino1d) out[n++] = form_at(CONV_WINOGRAD_1D, t[i], 0);
            if (wino2d) out[n++] = form_at(CONV_WINOGRAD_2D, t[i], 0);
            continue;
        }
        out[n++] = form_at(CONV_DIRECT, t[i], 0);
        if (panels) out[n++] = form_at(CONV_PANELS, t[i], 0);
        if (fused) out[n++] = form_at(CONV_FUSED, t[i], 0);
        if (phase) out[n++] = form_at(CONV_PHASE, t[i], 0);
        if (winograd) out[n++] = form_at(CONV_WINOGRAD, t[i], 0);
        if (wino1d) out[n++] = form_at(CONV_WINOGRAD_1D, t[i], 0);
        if (wino2d) out[n++] = form_at(CONV_WINOGRAD_2D, t[i], 0);
    }
    return n;
}

static void expect_forms(const char *what, const conv_form *got, size_t ngot,
                         const conv_form *want, size_t nwant)
{
    if (ngot != nwant) fail_msg("%s: %zu forms, want %zu", what, ngot, nwant);
    for (size_t i = 0; i < ngot; i++)
        if (!conv_form_equal(&got[i], &want[i])) {
            char g[64], w[64];
            conv_form_format(&got[i], g, sizeof g);
            conv_form_format(&want[i], w, sizeof w);
            fail_msg("%s: form %zu is %s, want %s", what, i, g, w);
        }
}

static void check_candidate_lists(void);

static void test_conv_candidates(void **state)
{
    (void)state;
    /* the tilings: the 10 candidates in order, wide ones (vw 16, tm > 8) and the pairs of
     * 16-lane panels on 16-wide devices */
    static const conv_vec_params all[] = {
        {8, 8, 0},  {8, 12, 0},  {16, 4, 0},  {16, 6, 0},  {16, 8, 0},
        {16, 12, 0}, {16, 16, 0}, {16, 24, 0}, {CONV_PAIR_LANES, 8, 0}, {CONV_PAIR_LANES, 12, 0}};
    conv_vec_params t[CONV_MAX_TILINGS];
    const ctx_kernels old = g_ctx->kernels;
    g_ctx->kernels = KERNELS_VEC; /* beside the work-group family: the default tiling only */
    size_t nt = conv_vec_tilings(g_ctx, t, CONV_MAX_TILINGS), k = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (wide_device() ||
            (all[i].vw != CONV_PAIR_LANES && (all[i].vw < 16 || all[i].tm <= 8))) {
            assert_true(k < nt);
            assert_int_equal(t[k].vw, all[i].vw), assert_int_equal(t[k].tm, all[i].tm);
            k++;
        }
    assert_int_equal(k, nt);
    assert_int_equal(conv_vec_tilings(g_ctx, t, 2), 2);

    /* Winograd: every stride-1 3x3 conv has the form; it is a candidate from 128 channels in
     * and out */
    const struct {
        conv_shape s;
        int offered, pays;
    } wino[] = {{{256, 256, 3, 3, 1, 1, 1, 1, 35, 35, 0, 0}, 1, 1},
                {{256, 288, 3, 3, 1, 1, 1, 8, 17, 17, 0, 0}, 1, 1},
                {{64, 96, 3, 3, 1, 0, 0, 1, 73, 73, 0, 0}, 1, 0},
                {{256, 96, 3, 3, 1, 1, 1, 1, 35, 35, 0, 0}, 1, 0},
                {{256, 256, 3, 3, 2, 0, 0, 1, 35, 35, 0, 0}, 0, 0},
                {{256, 256, 1, 7, 1, 0, 3, 1, 17, 17, 0, 0}, 0, 0}};
    for (size_t i = 0; i < sizeof wino / sizeof wino[0]; i++) {
        conv_shape s = wino[i].s;
        conv_form c[7 * CONV_MAX_TILINGS];
        const conv_form f = conv_vec_form(CONV_WINOGRAD, 16, 8, 0);
        assert_ok(conv_shape_finish(&s));
        assert_int_equal(conv_scratch(&s, &f) > 0, wino[i].offered);
        size_t n = conv_candidates(g_ctx, &s, 1, ROWS_OWN, 0, c, 7 * CONV_MAX_TILINGS), has = 0;
        for (size_t k = 0; k < n; k++) has += c[k].family == CONV_WINOGRAD;
        assert_int_equal(has > 0, wino[i].pays);
    }

    /* the lists under each setting of the families offered (IRV2_KERNELS) */
    const ctx_kernels settings[] = {KERNELS_VEC, KERNELS_WG, KERNELS_BOTH, KERNELS_COMPACT};
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        g_ctx->kernels = settings[k];
        print_message("  families offered: %d\n", (int)settings[k]);
        check_candidate_lists();
    }
    g_ctx->kernels = old;
}

/* The candidate lists, CLBlast's and the untuned default for the network's kinds of conv,
 * under g_ctx->kernels. */
static void check_candidate_lists(void)
{
    /* conv_shape: cin, cout, kh, kw, stride, ph, pw, n, h, w (ho, wo derived) */
    const struct {
        const char *name;
        conv_shape s;
    } shapes[] = {
        {"1x1 35x35", {384, 32, 1, 1, 1, 0, 0, 1, 35, 35, 0, 0}},
        {"3x3 s1 p1 17x17", {32, 48, 3, 3, 1, 1, 1, 2, 17, 17, 0, 0}},
        {"3x3 s1 147x147", {32, 64, 3, 3, 1, 1, 1, 1, 147, 147, 0, 0}},
        {"3x3 s2 35x35", {384, 384, 3, 3, 2, 0, 0, 1, 35, 35, 0, 0}},
        {"3x3 s2 p1 9x9", {3, 5, 3, 3, 2, 1, 1, 1, 9, 9, 0, 0}},
        {"1x7 17x17", {128, 160, 1, 7, 1, 0, 3, 1, 17, 17, 0, 0}},
        {"3x3 cin 2048 8x8", {2048, 64, 3, 3, 1, 1, 1, 1, 8, 8, 0, 0}},
        {"3x3 s1 256 35x35", {256, 256, 3, 3, 1, 1, 1, 1, 35, 35, 0, 0}},
    };
    conv_form got[7 * CONV_MAX_TILINGS + 16], want[7 * CONV_MAX_TILINGS + 16];
    const size_t cap = sizeof got / sizeof got[0];
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        conv_shape s = shapes[i].s;
        assert_ok(conv_shape_finish(&s));
        /* irv2's own: the vector families, then the work-group and SIMT families (every
         * shape, the same tiles) */
        const size_t nvec = expected_candidates(&s, want);
        const size_t nwg = expected_wg_candidates(want + nvec);
        const size_t nwant = nvec + nwg + expected_simt_candidates(want + nvec + nwg);
        if ((g_ctx->kernels & KERNELS_WG) && wg_side_expected()) assert_true(nwg > 0);
        size_t n = conv_candidates(g_ctx, &s, 1, ROWS_OWN, 0, got, cap);
        expect_forms(shapes[i].name, got, n, want, nwant);
        if (n > 0) {
            char first[64], last[64];
            conv_form_format(&got[0], first, sizeof first);
            conv_form_format(&got[n - 1], last, sizeof last);
            print_message("  %-18s %zu candidates, first %s, last %s\n", shapes[i].name, n,
                          first, last);
            /* output parts do not restrict irv2's forms; cap cuts the list */
            expect_forms(shapes[i].name, got,
                         conv_candidates(g_ctx, &s, 3, ROWS_OWN, 0, got, cap), want, nwant);
            const size_t three = nwant < 3 ? nwant : 3;
            expect_forms(shapes[i].name, got, conv_candidates(g_ctx, &s, 1, ROWS_OWN, 0, got, 3),
                         want, three);
        }
        for (size_t f = 0; f < n; f++) {
            size_t scratch = conv_scratch(&s, &want[f]);
            assert_true(scratch <= conv_scratch_offered(g_ctx, &s));
            assert_true(conv_guard(&s, &want[f]) <= conv_guard_bound(&s));
            if (want[f].family == CONV_PHASE || want[f].family == CONV_PANELS ||
                want[f].family == CONV_WINOGRAD)
                assert_true(scratch > 0);
            else
                assert_int_equal(scratch, 0);
        }

        /* CLBlast, one output part only: SGEMM for 1x1 stride 1 at any batch; on GPUs only,
         * convgemm for the other shapes at batch 1 and SGEMM over an im2col matrix at any
         * batch; never in the compact kernel set */
        conv_form cl[3];
        const int gemm = conv_is_gemm(&s), lib = !(g_ctx->kernels & KERNELS_COMPACT_BIT);
        const int offered = !lib ? 0 : gemm ? 1 : g_ctx->profile.gpu ? (s.n == 1) + 1 : 0;
        assert_int_equal(gemm, s.kh == 1 && s.kw == 1);
        assert_int_equal(conv_candidates(g_ctx, &s, 1, ROWS_LIBRARY, 0, cl, 3), offered);
        for (int k = 0; k < offered; k++) {
            assert_int_equal(cl[k].family, CONV_CLBLAST);
            assert_int_equal(cl[k].p.clblast.im2col, !gemm && k == offered - 1);
            assert_int_equal(conv_scratch(&s, &cl[k]) > 0, cl[k].p.clblast.im2col);
        }
        assert_int_equal(conv_candidates(g_ctx, &s, 2, ROWS_LIBRARY, 0, cl, 2), 0);
        assert_int_equal(conv_candidates(g_ctx, &s, 1, ROWS_LIBRARY, 0, cl, 0), 0);
        if (!gemm) {
            /* convgemm refuses, before any launch or buffer: a batch, and a residual sum
             * (it overwrites its output) */
            conv_shape batch = s;
            batch.n = s.n == 1 ? 2 : s.n;
            assert_int_equal(conv_candidates(g_ctx, &batch, 1, ROWS_LIBRARY, 0, cl, 3),
                             lib && g_ctx->profile.gpu);
            const conv_form f = conv_clblast_form();
            const conv_bufs none = {.out = {NULL, 1, {0}, {0}}};
            op_launch ops[OP_MAX_LAUNCHES];
            int nops = -1;
            assert_int_equal(conv_launches(g_ctx, &batch, &f, (op_epilogue){1, 0, 0, 0}, &none,
                                           ops, &nops),
                             IRV2_ERR_SHAPE);
            assert_int_equal(nops, 0);
            conv_shape one = s;
            one.n = 1;
            assert_int_equal(conv_launches(g_ctx, &one, &f, (op_epilogue){0, 1, 1, 1}, &none,
                                           ops, &nops),
                             IRV2_ERR_UNSUPPORTED);
            assert_int_equal(nops, 0);
            irv2_clear_error();
        }

        /* the untuned form where the GPU shape is preferred: on a GPU the SIMT family's
         * 64x64 where it is offered (not in the compact set), else the work-group family's;
         * elsewhere KxK fused where it fits, else panels where they exist, else direct */
        conv_form d = conv_default_form(g_ctx, &s), own[64];
        const size_t nown = conv_candidates(g_ctx, &s, 1, ROWS_OWN, 0, own, 64);
        int simt64 = 0;
        for (size_t k = 0; k < nown; k++)
            simt64 |= own[k].family == CONV_SIMT && own[k].p.wg.positions == 64 &&
                      own[k].p.wg.channels == 64;
        if (ctx_prefers_wg(g_ctx) && nwg > 0) {
            assert_int_equal(d.family, simt64 && g_ctx->profile.gpu ? CONV_SIMT : CONV_WG);
            assert_int_equal(d.p.wg.positions, 64), assert_int_equal(d.p.wg.channels, 64);
            continue;
        }
        conv_vec_params dt = conv_default_tiling(g_ctx);
        assert_int_equal(d.p.vec.vw, dt.vw), assert_int_equal(d.p.vec.tm, dt.tm);
        assert_int_equal(d.p.vec.kchunk, 0);
        int fused = 0, panels = 0;
        for (size_t f = 0; f < nvec; f++)
            if (want[f].p.vec.vw == dt.vw && want[f].p.vec.tm == dt.tm) {
                fused |= want[f].family == CONV_FUSED && (s.kh > 1 || s.kw > 1);
                panels |= want[f].family == CONV_PANELS;
            }
        assert_int_equal(d.family, fused ? CONV_FUSED : panels ? CONV_PANELS : CONV_DIRECT);
    }
}

static void test_conv_refinements(void **state)
{
    (void)state;
    const conv_vec_params t = {8, 8, 0};
    const struct {
        const char *name;
        conv_shape s;
        conv_family_id method;
        int kchunks[2]; /* the refinements' kchunk, 0: none */
    } cases[] = {
        /* 1x1: 512 and 256 channels per launch; with 448 channels, 512 is one launch */
        {"1x1 cin 2144", {2144, 192, 1, 1, 1, 0, 0, 1, 8, 8, 0, 0}, CONV_DIRECT, {512, 256}},
        {"1x1 cin 448", {448, 64, 1, 1, 1, 0, 0, 1, 8, 8, 0, 0}, CONV_DIRECT, {256, 0}},
        /* 3x3: 512/9 = 56 and 256/9 = 28 channels */
        {"3x3 cin 64", {64, 96, 3, 3, 1, 0, 0, 1, 9, 9, 0, 0}, CONV_DIRECT, {56, 28}},
        {"3x3 cin 32", {32, 48, 3, 3, 1, 1, 1, 1, 9, 9, 0, 0}, CONV_DIRECT, {28, 0}},
        /* parity planes: 800/56 -> 15 chunks + the split = 16 launches; 800/28 -> 29: too many */
        {"3x3 s2 cin 800", {800, 64, 3, 3, 2, 0, 0, 1, 9, 9, 0, 0}, CONV_PHASE, {56, 0}},
        {"3x3 s2 cin 2048", {2048, 64, 3, 3, 2, 0, 0, 1, 9, 9, 0, 0}, CONV_PHASE, {0, 0}},
        /* fused 1x1: 4 and 8 panels per work-group; winograd1d down a 3-tap axis: F(6, 3);
         * panels, fused KxK, winograd1d along rows or on 7 taps, CLBlast: none */
        {"1x1 fused", {384, 96, 1, 1, 1, 0, 0, 1, 35, 35, 0, 0}, CONV_FUSED, {4, 8}},
        {"3x3 winograd1d", {32, 48, 3, 3, 1, 1, 1, 1, 35, 35, 0, 0}, CONV_WINOGRAD_1D, {6, 0}},
        {"3x1 winograd1d", {224, 256, 3, 1, 1, 1, 0, 1, 8, 8, 0, 0}, CONV_WINOGRAD_1D, {6, 0}},
        {"1x3 winograd1d", {192, 224, 1, 3, 1, 0, 1, 1, 8, 8, 0, 0}, CONV_WINOGRAD_1D, {0, 0}},
        {"7x1 winograd1d", {160, 192, 7, 1, 1, 3, 0, 1, 17, 17, 0, 0}, CONV_WINOGRAD_1D, {0, 0}},
        {"1x1 panels", {2144, 192, 1, 1, 1, 0, 0, 1, 8, 8, 0, 0}, CONV_PANELS, {0, 0}},
        {"3x3 fused", {64, 96, 3, 3, 1, 0, 0, 1, 9, 9, 0, 0}, CONV_FUSED, {0, 0}},
        {"1x1 clblast", {2144, 192, 1, 1, 1, 0, 0, 1, 8, 8, 0, 0}, CONV_CLBLAST, {0, 0}},
        /* work-group: the reduction in 4 and 16 slices where there are under 256 tiles
         * (8x8 / 8 x 192 / 8 = 192 here) and each slice keeps 4 x 16 rows */
        {"1x1 wg 8x8 cin 1792", {1792, 192, 1, 1, 1, 0, 0, 1, 8, 8, 0, 0}, CONV_WG, {4, 16}},
        {"3x3 wg 8x8 cin 64", {64, 96, 3, 3, 1, 1, 1, 1, 8, 8, 0, 0}, CONV_WG, {4, 0}},
        {"1x1 wg 35x35 n8", {320, 384, 1, 1, 1, 0, 0, 8, 35, 35, 0, 0}, CONV_WG, {0, 0}},
        {"1x1 wg 8x8 cin 200", {200, 192, 1, 1, 1, 0, 0, 1, 8, 8, 0, 0}, CONV_WG, {0, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conv_shape s = cases[i].s;
        assert_ok(conv_shape_finish(&s));
        const conv_form best = form_at(cases[i].method, t, 7); /* its own kchunk is replaced */
        conv_form got[4], want[2];
        size_t nwant = 0;
        for (int k = 0; k < 2; k++)
            if (cases[i].kchunks[k]) want[nwant++] = form_at(cases[i].method, t, cases[i].kchunks[k]);
        expect_forms(cases[i].name, got, conv_refinements(&s, &best, 0, got, 4), want, nwant);
        if (nwant) expect_forms(cases[i].name, got, conv_refinements(&s, &best, 0, got, 1), want, 1);
        /* fast tuning refines the work-group, fused and winograd1d families only */
        const conv_family_id m = cases[i].method;
        expect_forms(cases[i].name, got, conv_refinements(&s, &best, 1, got, 4), want,
                     m == CONV_WG || m == CONV_FUSED || m == CONV_WINOGRAD_1D ? nwant : 0);
        for (size_t k = 0; k < nwant; k++)
            assert_true(launches_of(&s, &want[k], 0) <= OP_MAX_LAUNCHES);
    }
}

/* ---- pool_op (cl/pool.cl) ----------------------------------------------------------------- */

/* The pooling, epilogue and head launchers pick their kernels from ctx_prefers_wg(g_ctx): the
 * CPU shape or the work-group shape. Their tests run every case in both, by setting
 * g_ctx->kernels (KERNELS_VEC: never wg; KERNELS_WG: wg on any device; KERNELS_COMPACT: wg
 * with the epilogue as an argument); with IRV2_KERNELS=wg, vec or compact, in that one only
 * (as the whole suite runs with a family forced). */
typedef struct small_shape {
    ctx_kernels kernels;
    int wg;
    const char *name;
} small_shape;

static const small_shape small_shapes[] = {{KERNELS_VEC, 0, "cpu shape"},
                                           {KERNELS_WG, 1, "wg shape"},
                                           {KERNELS_COMPACT, 1, "compact set"}};

/* small_shapes[s] is to be run (IRV2_KERNELS). */
static int shape_wanted(size_t s)
{
    const char *v = getenv("IRV2_KERNELS");
    if (v && strcmp(v, "wg") == 0) return small_shapes[s].kernels == KERNELS_WG;
    if (v && strcmp(v, "compact") == 0) return small_shapes[s].kernels == KERNELS_COMPACT;
    if (v && strcmp(v, "vec") == 0) return !small_shapes[s].wg;
    return 1;
}

/* Selects small_shapes[s] (returns the previous ctx->kernels, to restore) and writes
 * "what [shape]" into label. */
static ctx_kernels use_small_shape(size_t s, const char *what, char *label, size_t cap)
{
    const ctx_kernels old = g_ctx->kernels;
    g_ctx->kernels = small_shapes[s].kernels;
    assert_int_equal(ctx_prefers_wg(g_ctx) != 0, small_shapes[s].wg);
    snprintf(label, cap, "%s [%s]", what, small_shapes[s].name);
    return old;
}

/* A work-group launch as the wg kernels need it: 1-D, local size a power of two dividing the
 * NDRange. */
static void expect_pow2_groups(const char *what, const op_launch *op)
{
    const size_t l = op->lws[0];
    if (op->dims != 1 || l == 0 || (l & (l - 1)) != 0 || op->gws[0] % l != 0) {
        print_message("%s: NDRange %zu, local %zu (dims %u)\n", what, op->gws[0], l, op->dims);
        fail();
    }
}

typedef struct pool_case {
    const char *name;
    pool_kind kind;
    int c, n, h, w;
    op_epilogue epi;
} pool_case;

static const pool_case pool_cases[] = {
    {"maxpool 7x7 n2 c3", POOL_MAX3S2, 3, 2, 7, 7, EPI_NONE},
    {"maxpool 7x7 n2 c3 affine relu2", POOL_MAX3S2, 3, 2, 7, 7, EPI_AFF},
    {"maxpool 8x9 n2 c3", POOL_MAX3S2, 3, 2, 8, 9, EPI_NONE},
    {"maxpool 8x9 n2 c3 affine relu2", POOL_MAX3S2, 3, 2, 8, 9, EPI_AFF},
    {"maxpool 35x35 n2 c2 affine relu2", POOL_MAX3S2, 2, 2, 35, 35, EPI_AFF},
    {"maxpool 20x36 n3 c2", POOL_MAX3S2, 2, 3, 20, 36, EPI_NONE},
    {"maxpool 9x19 n1 c3", POOL_MAX3S2, 3, 1, 9, 19, EPI_NONE},
    {"maxpool 17x17 n3 c5 affine relu2", POOL_MAX3S2, 5, 3, 17, 17, EPI_AFF},
    {"maxpool 147x147 n1 c2", POOL_MAX3S2, 2, 1, 147, 147, EPI_NONE},
    {"avgpool 7x7 n2 c3", POOL_AVG3S1, 3, 2, 7, 7, EPI_NONE},
    {"avgpool 8x9 n2 c3 affine relu2", POOL_AVG3S1, 3, 2, 8, 9, EPI_AFF},
    {"avgpool 35x35 n2 c2", POOL_AVG3S1, 2, 2, 35, 35, EPI_NONE},
    {"avgpool 17x17 n3 c3 affine relu2", POOL_AVG3S1, 3, 3, 17, 17, EPI_AFF},
    {"global avg 8x8 n2 c5", POOL_GLOBAL_AVG, 5, 2, 8, 8, EPI_NONE},
    {"global avg 8x8 n2 c5 affine relu2", POOL_GLOBAL_AVG, 5, 2, 8, 8, EPI_AFF},
    {"global avg 3x5 n2 c5", POOL_GLOBAL_AVG, 5, 2, 3, 5, EPI_NONE},
    {"global avg 3x5 n2 c5 affine relu2", POOL_GLOBAL_AVG, 5, 2, 3, 5, EPI_AFF},
    {"global avg 7x7 n3 c5", POOL_GLOBAL_AVG, 5, 3, 7, 7, EPI_NONE},
    {"global avg 17x17 n1 c7 affine relu2", POOL_GLOBAL_AVG, 7, 1, 17, 17, EPI_AFF},
    {"global avg 35x35 n2 c3", POOL_GLOBAL_AVG, 3, 2, 35, 35, EPI_NONE},
};

static double pool_window(pool_kind kind, const float *src, int h, int w, int oy, int ox)
{
    if (kind == POOL_GLOBAL_AVG) {
        double s = 0.0;
        for (int i = 0; i < h * w; i++) s += src[i];
        return s / (h * w);
    }
    if (kind == POOL_MAX3S2) {
        double m = -INFINITY;
        for (int y = 2 * oy; y < 2 * oy + 3; y++)
            for (int x = 2 * ox; x < 2 * ox + 3; x++) m = fmax(m, src[y * w + x]);
        return m;
    }
    double s = 0.0; /* 3x3/1 pad 1, average over in-image taps only */
    int count = 0;
    for (int y = oy - 1; y <= oy + 1; y++)
        for (int x = ox - 1; x <= ox + 1; x++)
            if (y >= 0 && y < h && x >= 0 && x < w) s += src[y * w + x], count++;
    return s / count;
}

/* Runs pool_op on x [c][n][h][w] (at an offset inside NaN guards), writing channels
 * [2, 2+c) of a [c+3][n][ho][wo] NaN-filled buffer, in the shape g_ctx->kernels selects;
 * returns the slice (caller frees) after checking nothing else changed. */
static float *run_pool(const char *what, pool_kind kind, int c, int n, int h, int w,
                       op_epilogue epi, const float *x, const float *scale, const float *shift)
{
    int ho, wo;
    pool_out_size(kind, h, w, &ho, &wo);
    const size_t in_count = (size_t)c * n * h * w, cplane = (size_t)n * ho * wo;
    guarded in = guarded_new(in_count, 5, x);
    guarded out = guarded_new((size_t)(c + 3) * cplane, 7, NULL);
    cl_mem sbuf = scale ? dev_from(scale, (size_t)c) : NULL;
    cl_mem hbuf = shift ? dev_from(shift, (size_t)c) : NULL;
    op_buf dst = {out.mem, out.margin + 2 * cplane};

    op_launch op;
    assert_ok(pool_op(g_ctx, kind, c, n, h, w, epi, guarded_buf(&in), sbuf, hbuf, dst, &op));
    if (ctx_prefers_wg(g_ctx) && kind != POOL_AVG3S1) {
        expect_pow2_groups(what, &op);
        if (kind == POOL_GLOBAL_AVG) assert_int_equal(op.gws[0], op.lws[0] * c * n);
        else /* the outputs rounded up to whole work-groups */
            assert_int_equal(op.gws[0] / op.lws[0],
                             ((size_t)c * n * ho * wo + op.lws[0] - 1) / op.lws[0]);
    }
    run_op(&op);

    float *now = guarded_read(&out);
    expect_unchanged_outside(what, now, out.init, out.total, dst.off, dst.off + c * cplane);
    float *slice = host_floats(c * cplane);
    memcpy(slice, now + dst.off, c * cplane * sizeof(float));
    free(now);
    release(sbuf), release(hbuf);
    guarded_free(&in);
    guarded_free(&out);
    return slice;
}

static void test_pool_case(void **state)
{
    const pool_case *p = *state;
    const uint64_t seed = 2000 + (uint64_t)(p - pool_cases) * 16;
    int ho, wo;
    pool_out_size(p->kind, p->h, p->w, &ho, &wo);
    if (p->kind == POOL_MAX3S2) {
        assert_int_equal(ho, (p->h - 3) / 2 + 1);
        assert_int_equal(wo, (p->w - 3) / 2 + 1);
    } else if (p->kind == POOL_AVG3S1) {
        assert_int_equal(ho, p->h), assert_int_equal(wo, p->w);
    } else {
        assert_int_equal(ho, 1), assert_int_equal(wo, 1);
    }
    const size_t in_count = (size_t)p->c * p->n * p->h * p->w;
    const size_t out_count = (size_t)p->c * p->n * ho * wo;
    float *x = random_floats(in_count, seed, -1.0f, 1.0f);
    float *scale = NULL, *shift = NULL;
    if (p->epi.affine) affine_params((size_t)p->c, seed + 1, &scale, &shift);

    double *ref = host_doubles(out_count);
    for (int ch = 0; ch < p->c; ch++)
        for (int n = 0; n < p->n; n++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    const float *src = x + ((size_t)ch * p->n + n) * p->h * p->w;
                    double v = pool_window(p->kind, src, p->h, p->w, oy, ox);
                    ref[(((size_t)ch * p->n + n) * ho + oy) * wo + ox] =
                        epilogue_ref(v, p->epi, 0.0, 0.0, scale ? scale[ch] : 1.0,
                                     shift ? shift[ch] : 0.0);
                }
    /* max is exact; averages sum at most 35*35 = 1225 fp32 values in [-1,1] (in any order,
     * sequential or a tree: error well below 1e-6 relative), then one division and one affine
     * fma. The same tolerance for both shapes. */
    for (size_t s = 0; s < sizeof small_shapes / sizeof small_shapes[0]; s++) {
        if (!shape_wanted(s)) continue;
        char label[96];
        const ctx_kernels old = use_small_shape(s, p->name, label, sizeof label);
        float *got = run_pool(label, p->kind, p->c, p->n, p->h, p->w, p->epi, x, scale, shift);
        expect_close(label, got, ref, out_count, 1e-6, 0.0);
        free(got);
        g_ctx->kernels = old;
    }
    free(ref), free(x), free(scale), free(shift);
}

/* count_include_pad = False, by hand: corners average 4 taps, edges 6, the centre 9. */
static void test_avgpool_border_counts(void **state)
{
    (void)state;
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float want[9] = {3.0f, 3.5f, 4.0f, 4.5f, 5.0f, 5.5f, 6.0f, 6.5f, 7.0f};
    for (size_t s = 0; s < sizeof small_shapes / sizeof small_shapes[0]; s++) {
        if (!shape_wanted(s)) continue;
        char label[96];
        const ctx_kernels old = use_small_shape(s, "avgpool 3x3 by hand", label, sizeof label);
        float *got = run_pool(label, POOL_AVG3S1, 1, 1, 3, 3, (op_epilogue)EPI_NONE, x, NULL,
                              NULL);
        for (int i = 0; i < 9; i++) assert_float_equal(got[i], want[i], 1e-6f);
        free(got);
        g_ctx->kernels = old;
    }
}

static void test_pool_rejects_small_input(void **state)
{
    (void)state;
    op_launch op;
    float one = 0.0f;
    cl_mem m = dev_from(&one, 1);
    op_buf b = {m, 0};
    for (size_t s = 0; s < sizeof small_shapes / sizeof small_shapes[0]; s++) {
        if (!shape_wanted(s)) continue;
        char label[96];
        const ctx_kernels old = use_small_shape(s, "maxpool 2x2", label, sizeof label);
        assert_int_equal(pool_op(g_ctx, POOL_MAX3S2, 1, 1, 2, 2, (op_epilogue)EPI_NONE, b, NULL,
                                 NULL, b, &op),
                         IRV2_ERR_SHAPE);
        assert_null(op.kernel);
        g_ctx->kernels = old;
    }
    release(m);
}

/* ---- channel_epilogue_op (cl/eltwise.cl) -------------------------------------------------- */

typedef struct epi_case {
    const char *name;
    op_epilogue epi;
} epi_case;

static const epi_case epi_cases[] = {
    {"channel epilogue none", EPI_NONE},
    {"channel epilogue relu1", EPI_RELU1},
    {"channel epilogue affine relu2", EPI_AFF},
    {"channel epilogue relu1 affine relu2", EPI_BN},
    {"channel epilogue residual flag ignored", EPI_ALL},
};

/* One case on channels x plane floats, in the shape g_ctx->kernels selects. */
static void check_channel_epilogue(const epi_case *e, const char *label, int channels, int plane,
                                   uint64_t seed)
{
    const size_t count = (size_t)channels * plane;
    float *x = random_floats(count, seed, -1.0f, 1.0f);
    float *bias = random_floats(channels, seed + 1, -0.5f, 0.5f);
    float *scale = NULL, *shift = NULL;
    if (e->epi.affine) affine_params(channels, seed + 2, &scale, &shift);

    guarded buf = guarded_new(count, 13, x);
    cl_mem bbuf = dev_from(bias, channels);
    cl_mem sbuf = scale ? dev_from(scale, channels) : NULL;
    cl_mem hbuf = shift ? dev_from(shift, channels) : NULL;
    op_launch op;
    assert_ok(channel_epilogue_op(g_ctx, channels, plane, e->epi, guarded_buf(&buf), bbuf, sbuf,
                                  hbuf, &op));
    run_op(&op);

    float *now = guarded_read(&buf);
    expect_unchanged_outside(label, now, buf.init, buf.total, buf.margin, buf.margin + count);
    op_epilogue no_res = e->epi;
    no_res.residual = 0; /* the residual is already in x (the GEMM ran with beta = 1) */
    double *ref = host_doubles(count);
    for (int c = 0; c < channels; c++)
        for (int i = 0; i < plane; i++) {
            size_t k = (size_t)c * plane + i;
            ref[k] = epilogue_ref(x[k], no_res, 0.0, bias[c], scale ? scale[c] : 1.0,
                                  shift ? shift[c] : 0.0);
        }
    /* a few fp32 roundings (add, mul/fma) of values below ~3 */
    expect_close(label, now + buf.margin, ref, count, 1e-6, 0.0);

    free(ref), free(now);
    release(bbuf), release(sbuf), release(hbuf);
    guarded_free(&buf);
    free(x), free(bias), free(scale), free(shift);
}

/* Each flag set on 5 x 37 and 3 x (2 images of 17x17) floats, in both shapes. */
static void test_channel_epilogue_case(void **state)
{
    const epi_case *e = *state;
    const uint64_t seed = 3000 + (uint64_t)(e - epi_cases) * 16;
    for (size_t s = 0; s < sizeof small_shapes / sizeof small_shapes[0]; s++) {
        if (!shape_wanted(s)) continue;
        char label[96];
        const ctx_kernels old = use_small_shape(s, e->name, label, sizeof label);
        check_channel_epilogue(e, label, 5, 37, seed);
        check_channel_epilogue(e, label, 3, 2 * 17 * 17, seed + 8);
        g_ctx->kernels = old;
    }
}

/* ---- head_op (cl/head.cl) ----------------------------------------------------------------- */

/* Runs head_op on logits [classes][n] (at an offset), in the shape g_ctx->kernels selects,
 * and returns out [n][classes]. */
static float *run_head(int classes, int n, int softmax, const float *logits)
{
    const size_t count = (size_t)(unsigned)classes * (unsigned)n; /* both > 0 */
    guarded in = guarded_new(count, 9, logits);
    float *nan_fill = host_floats(count);
    fill_nan(nan_fill, count);
    cl_mem out = dev_from(nan_fill, count);
    op_launch op;
    assert_ok(head_op(g_ctx, classes, n, softmax, guarded_buf(&in), out, &op));
    if (ctx_prefers_wg(g_ctx) && softmax) { /* one work-group per image */
        expect_pow2_groups("head softmax", &op);
        assert_int_equal(op.gws[0], op.lws[0] * n);
    } else if (ctx_prefers_wg(g_ctx)) { /* one work-item per (class, image) */
        assert_int_equal(op.dims, 2);
        assert_int_equal(op.gws[0], classes), assert_int_equal(op.gws[1], n);
    }
    run_op(&op);
    download(out, 0, nan_fill, count);
    release(out);
    guarded_free(&in);
    return nan_fill;
}

/* The plain head is a transpose: bit-exact, in both shapes, for a few sizes (1001 classes as
 * TF-slim's checkpoint has). */
static void test_head_plain(void **state)
{
    (void)state;
    static const int sizes[][2] = {{10, 3}, {1001, 2}, {3, 8}}; /* classes, n */
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (size_t s = 0; s < sizeof small_shapes / sizeof small_shapes[0]; s++) {
            if (!shape_wanted(s)) continue;
            const int classes = sizes[z][0], n = sizes[z][1];
            char label[96];
            const ctx_kernels old = use_small_shape(s, "head", label, sizeof label);
            float *logits = random_floats((size_t)classes * n, 4000 + z, -5.0f, 5.0f);
            float *got = run_head(classes, n, 0, logits);
            for (int i = 0; i < n; i++)
                for (int k = 0; k < classes; k++)
                    if (memcmp(&got[i * classes + k], &logits[k * n + i], sizeof(float)) != 0) {
                        print_message("%s: out[%d][%d] = %g, want logits[%d][%d] = %g\n", label,
                                      i, k, (double)got[i * classes + k], k, i,
                                      (double)logits[k * n + i]);
                        fail();
                    }
            free(got), free(logits);
            g_ctx->kernels = old;
        }
}

/* Softmax in the shape g_ctx->kernels selects, against a double reference. Tolerances: each
 * probability to 1e-6 absolute (a few ulps: exp, the fp32 sum, one multiply); each row's sum
 * to 1 within 1e-6 up to 64 classes, beyond that within the worst case of the fp32 sum of the
 * exponentials, (classes - 1) * 2^-24 relative (1001 classes: the sequential sum of the CPU
 * shape is off by about 1e-6, which scales every probability of the row alike). */
static void check_softmax_now(const char *what, int classes, int n, const float *logits)
{
    const double tol = 1e-6, sum_tol = classes <= 64 ? 1e-6 : (classes - 1) * 0x1p-24;
    float *got = run_head(classes, n, 1, logits);
    double *ref = host_doubles((size_t)classes * n);
    for (int i = 0; i < n; i++) {
        double mx = -INFINITY, sum = 0.0, got_sum = 0.0;
        for (int k = 0; k < classes; k++) mx = fmax(mx, logits[k * n + i]);
        for (int k = 0; k < classes; k++) sum += exp((double)logits[k * n + i] - mx);
        for (int k = 0; k < classes; k++) {
            ref[i * classes + k] = exp((double)logits[k * n + i] - mx) / sum;
            got_sum += got[i * classes + k];
        }
        if (!(fabs(got_sum - 1.0) <= sum_tol)) {
            print_message("%s: row %d sums to %.9g\n", what, i, got_sum);
            fail();
        }
    }
    expect_close(what, got, ref, (size_t)classes * n, 0.0, tol);
    free(ref), free(got);
}

/* Softmax against a double reference, in both shapes. */
static void check_softmax(const char *what, int classes, int n, const float *logits)
{
    for (size_t s = 0; s < sizeof small_shapes / sizeof small_shapes[0]; s++) {
        if (!shape_wanted(s)) continue;
        char label[96];
        const ctx_kernels old = use_small_shape(s, what, label, sizeof label);
        check_softmax_now(label, classes, n, logits);
        g_ctx->kernels = old;
    }
}

static void test_head_softmax(void **state)
{
    (void)state;
    const int classes = 37, n = 3;
    float *logits = random_floats((size_t)classes * n, 4100, -8.0f, 8.0f);
    check_softmax("head softmax 37 classes n3", classes, n, logits);

    /* overflow safety: column 0 near 1000, column 1 spread over [-1000, 1000] (most
     * probabilities underflow to 0), column 2 all 1000 (uniform) */
    for (int k = 0; k < classes; k++) {
        logits[k * n + 0] = 990.0f + logits[k * n + 0];
        logits[k * n + 1] = logits[k * n + 1] * 125.0f;
        logits[k * n + 2] = 1000.0f;
    }
    logits[5 * n + 1] = 1000.0f, logits[6 * n + 1] = -1000.0f;
    check_softmax("head softmax large logits", classes, n, logits);
    free(logits);

    /* TF-slim's 1001 classes at batch 8 (several classes per work-item in the wg shape), and
     * fewer classes than work-items */
    logits = random_floats(1001 * 8, 4200, -8.0f, 8.0f);
    check_softmax("head softmax 1001 classes n8", 1001, 8, logits);
    free(logits);
    logits = random_floats(3, 4300, -8.0f, 8.0f);
    check_softmax("head softmax 3 classes n1", 3, 1, logits);
    free(logits);
}

/* ---- gemm_clblast_op ---------------------------------------------------------------------- */

static void check_gemm(int m, int n, int k, float beta, uint64_t seed)
{
    const size_t a_n = (size_t)m * k, b_n = (size_t)k * n, c_n = (size_t)m * n;
    float *a = random_floats(a_n, seed, -1.0f, 1.0f);
    float *b = random_floats(b_n, seed + 1, -1.0f, 1.0f);
    /* beta 0: C holds garbage that must be ignored; beta 1: the old values are added */
    float *c = beta == 0.0f ? random_floats(c_n, seed + 2, -100.0f, 100.0f)
                            : random_floats(c_n, seed + 2, -1.0f, 1.0f);
    guarded ga = guarded_new(a_n, 3, a), gb = guarded_new(b_n, 5, b), gc = guarded_new(c_n, 7, c);

    const op_sgemm g = {m, n, k, guarded_buf(&ga), guarded_buf(&gb), guarded_buf(&gc), beta, 0};
    op_launch op;
    gemm_clblast_op(&g, &op);
    run_op(&op);

    char what[64];
    snprintf(what, sizeof what, "gemm %dx%dx%d beta %g", m, n, k, (double)beta);
    float *now = guarded_read(&gc);
    expect_unchanged_outside(what, now, gc.init, gc.total, gc.margin, gc.margin + c_n);
    double *ref = host_doubles(c_n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = beta == 0.0f ? 0.0 : (double)beta * c[(size_t)i * n + j];
            for (int p = 0; p < k; p++) s += (double)a[(size_t)i * k + p] * b[(size_t)p * n + j];
            ref[(size_t)i * n + j] = s;
        }
    /* fp32 accumulation over k <= 384 products of values in [-1,1]: as for conv */
    expect_close(what, now + gc.margin, ref, c_n, 1e-5, 0.0);

    free(ref), free(now);
    guarded_free(&ga), guarded_free(&gb), guarded_free(&gc);
    free(a), free(b), free(c);
}

static void test_gemm_small(void **state)
{
    (void)state;
    check_gemm(7, 33, 19, 0.0f, 5000);
    check_gemm(7, 33, 19, 1.0f, 5010);

    /* a CLBlast call that fails (convgemm refuses zero channels): IRV2_ERR_CLBLAST, with a
     * line naming the call */
    const float zeros[64] = {0};
    cl_mem m = dev_from(zeros, 64);
    op_launch op;
    convgemm_clblast_op(&(op_convgemm){.cin = 0, .h = 4, .w = 4, .kh = 3, .kw = 3, .stride = 1,
                                       .cout = 2, .in = {m, 0}, .weights = {m, 0},
                                       .out = {m, 0}},
                        &op);
    assert_int_equal(op_enqueue(g_ctx, &op, NULL), IRV2_ERR_CLBLAST);
    print_message("  convgemm with no channels -> %s\n", irv2_last_error());
    assert_non_null(strstr(irv2_last_error(), "CLBlast convgemm k3x3 s1 p0x0 0->2 on 4x4"));
    irv2_clear_error();
    op_release(&op);
    release(m);
}

/* The SGEMM peak runs every GEMM form (direct, panels with their packing, CLBlast) to the
 * end and reports a positive rate for irv2's kernels and for CLBlast (0 in the compact
 * kernel set, which does not use CLBlast). */
static void test_sgemm_peak(void **state)
{
    (void)state;
    double native = 0, clblast = 0;
    assert_ok(irv2_context_sgemm_peak(g_ctx, 256, &native, &clblast));
    print_message("  sgemm 256^3: irv2 %.1f GFLOP/s, CLBlast %.1f GFLOP/s\n", native, clblast);
    assert_true(native > 0.0);
    if (g_ctx->kernels & KERNELS_COMPACT_BIT) assert_true(clblast == 0.0);
    else assert_true(clblast > 0.0);
    assert_int_equal(irv2_context_sgemm_peak(g_ctx, 9000, &native, &clblast),
                     IRV2_ERR_INVALID_ARGUMENT);
}

static void test_gemm_block_shaped(void **state)
{
    (void)state;
    check_gemm(32, 1225, 384, 0.0f, 5100);
    check_gemm(32, 1225, 384, 1.0f, 5110);
}

/* ---- main --------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    irv2_status st = irv2_context_create(test_device(), &g_ctx);
    if (st != IRV2_OK) {
        print_error("irv2_context_create(\"%s\"): %s\n", test_device(), irv2_last_error());
        return -1;
    }
    print_message("device: %s (%s)\n", g_ctx->info.name, g_ctx->info.platform_name);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    CLBlastClearCache();
    irv2_context_free(g_ctx);
    g_ctx = NULL;
    return 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Whether name matches one of the '|'-separated glob patterns in list (a pattern of more than
 * 255 characters matches nothing). */
static int matches_any(const char *name, const char *list)
{
    for (const char *p = list;;) {
        const char *end = strchr(p, '|');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        char pattern[256];
        if (len < sizeof pattern) {
            memcpy(pattern, p, len);
            pattern[len] = '\0';
            if (fnmatch(pattern, name, 0) == 0) return 1;
        }
        if (!end) return 0;
        p = end + 1;
    }
}

int main(void)
{
    struct CMUnitTest tests[COUNT(conv_cases) + COUNT(rider_cases) + COUNT(pool_cases) +
                            COUNT(epi_cases) + 14];
    size_t t = 0;
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_conv_tiling_and_packing);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_conv_output_parts);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_conv_shared_panels);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_im2col_rows);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_conv_candidates);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_conv_refinements);
    for (size_t i = 0; i < COUNT(conv_cases); i++)
        tests[t++] = (struct CMUnitTest){conv_cases[i].name, test_conv_case, NULL, NULL,
                                         (void *)&conv_cases[i]};
    for (size_t i = 0; i < COUNT(rider_cases); i++)
        tests[t++] = (struct CMUnitTest){rider_cases[i].name, test_rider_case, NULL, NULL,
                                         (void *)&rider_cases[i]};
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_rider_refused);
    for (size_t i = 0; i < COUNT(pool_cases); i++)
        tests[t++] = (struct CMUnitTest){pool_cases[i].name, test_pool_case, NULL, NULL,
                                         (void *)&pool_cases[i]};
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_avgpool_border_counts);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_pool_rejects_small_input);
    for (size_t i = 0; i < COUNT(epi_cases); i++)
        tests[t++] = (struct CMUnitTest){epi_cases[i].name, test_channel_epilogue_case, NULL, NULL,
                                         (void *)&epi_cases[i]};
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_head_plain);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_head_softmax);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_gemm_small);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_gemm_block_shaped);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_sgemm_peak);
    if (t != COUNT(tests)) return 1;
    /* IRV2_TEST_FILTER and IRV2_TEST_SKIP hold '|'-separated glob patterns (fnmatch) on the
     * test names: the tests that match a FILTER pattern (every test when unset) and no SKIP
     * pattern run, in one context (tools/oclgrind.sh picks cases this way). */
    const char *only = getenv("IRV2_TEST_FILTER"), *skip = getenv("IRV2_TEST_SKIP");
    size_t kept = 0;
    for (size_t i = 0; i < t; i++)
        if ((!only || !*only || matches_any(tests[i].name, only)) &&
            !(skip && *skip && matches_any(tests[i].name, skip)))
            tests[kept++] = tests[i];
    return _cmocka_run_group_tests("test_kernels", tests, kept, group_setup, group_teardown);
}
