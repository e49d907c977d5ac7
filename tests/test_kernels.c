/* test_kernels.c: each cl/ kernel, through its host/ops launcher, against naive C references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cache.h"
#include "context.h"
#include "ops/ops.h"
#include "testutil.h"
#include "tune.h"

#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* The shared epilogue of conv.cl / eltwise.cl / pool.cl (net.h): bias, relu1, residual,
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

/* ---- conv_op (cl/conv.cl) ----------------------------------------------------------------- */

enum { T8 = 8, T16 = 16, T24 = 24, TDEF = 0 };

typedef struct conv_case {
    const char *name;
    int kh, kw, stride, ph, pw;
    int n, h, w, cin, cout;
    int tiling; /* T8: {vw 8, tm 8}; T16: {vw 16, tm 4}; T24: {vw 16, tm 24} (the widest);
                 * TDEF: conv_default_tiling(ctx) */
    int flat;   /* run as the plan runs 1x1 stride-1 convs: one GEMM with n = 1, h = 1, w = N*H*W */
    op_epilogue epi;
    int phase;  /* stride 2 through the input's parity planes (conv_phase_op) */
    int kchunk; /* input channels per launch (conv_launches), 0 for one launch */
    int panels; /* as a GEMM over input panels, 1x1 or im2col: 1 in scratch, 2 fused */
} conv_case;

/* Shapes of the network (and odd ones around them); configurations are shared where possible
 * because PoCL compiles each distinct -D set once. Columns: name, kh, kw, stride, ph, pw, n, h,
 * w, cin, cout, tiling, flat, epilogue, phase, kchunk, panels. In names, "bn" is relu1+affine+relu2, "res" is
 * residual+affine+relu2, "dflt" the device's default tiling, "(rows)" a stride-1 conv wider
 * out than in (the kernel's ROWS=1 lane layout). */
static const conv_case conv_cases[] = {
    {"conv 1x1 7x9 n1 cin17 cout13 T8", 1, 1, 1, 0, 0, 1, 7, 9, 17, 13, T8, 0, EPI_RELU1, 0, 0, 0},
    {"conv 1x1 on 1x1 n3 cin3 cout5 T16", 1, 1, 1, 0, 0, 3, 1, 1, 3, 5, T16, 0, EPI_RELU1, 0, 0, 0},
    {"conv 1x1 flat 8x8 n3 cin17 cout21 T8", 1, 1, 1, 0, 0, 3, 8, 8, 17, 21, T8, 1, EPI_RELU1, 0, 0, 0},
    {"conv 1x1 flat 7x9 n2 cin3 cout13 T16", 1, 1, 1, 0, 0, 2, 7, 9, 3, 13, T16, 1, EPI_RELU1, 0, 0, 0},
    {"conv 1x1 flat 7x9 n3 cin17 cout21 T8 res", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, T8, 1, EPI_RES, 0, 0, 0},
    {"conv 1x1 flat 13x13 n1 cin17 cout13 T16 res", 1, 1, 1, 0, 0, 1, 13, 13, 17, 13, T16, 1, EPI_RES, 0, 0, 0},
    {"conv 1x1 flat 5x7 n3 cin17 cout21 dflt bn", 1, 1, 1, 0, 0, 3, 5, 7, 17, 21, TDEF, 1, EPI_BN, 0, 0, 0},
    {"conv 3x3 p0 8x8 n3 cin3 cout5 T8", 3, 3, 1, 0, 0, 3, 8, 8, 3, 5, T8, 0, EPI_NONE, 0, 0, 0},
    {"conv 3x3 p0 7x9 n1 cin17 cout13 T16", 3, 3, 1, 0, 0, 1, 7, 9, 17, 13, T16, 0, EPI_RELU1, 0, 0, 0},
    {"conv 3x3 p1 13x13 n1 cin17 cout21 T16", 3, 3, 1, 1, 1, 1, 13, 13, 17, 21, T16, 0, EPI_RELU1, 0, 0, 0},
    {"conv 3x3 p1 7x9 n3 cin1 cout13 T8 bn", 3, 3, 1, 1, 1, 3, 7, 9, 1, 13, T8, 0, EPI_BN, 0, 0, 0},
    {"conv 3x3 p1 35x35 n1 cin3 cout21 dflt bn", 3, 3, 1, 1, 1, 1, 35, 35, 3, 21, TDEF, 0, EPI_BN, 0, 0, 0},
    {"conv 3x3 p2 (rows) 7x9 n3 cin3 cout5 T8", 3, 3, 1, 2, 2, 3, 7, 9, 3, 5, T8, 0, EPI_RELU1, 0, 0, 0},
    {"conv 3x3 s2 p0 17x17 n3 cin3 cout21 T8", 3, 3, 2, 0, 0, 3, 17, 17, 3, 21, T8, 0, EPI_RELU1, 0, 0, 0},
    {"conv 3x3 s2 p0 35x35 n1 cin17 cout5 T16", 3, 3, 2, 0, 0, 1, 35, 35, 17, 5, T16, 0, EPI_RELU1, 0, 0, 0},
    {"conv 3x3 s2 p0 8x8 n3 cin1 cout13 dflt", 3, 3, 2, 0, 0, 3, 8, 8, 1, 13, TDEF, 0, EPI_RELU1, 0, 0, 0},
    {"conv 3x3 s2 p1 9x9 n1 cin3 cout5 T8", 3, 3, 2, 1, 1, 1, 9, 9, 3, 5, T8, 0, EPI_RELU1, 0, 0, 0},
    {"conv 1x7 p0x3 17x17 n3 cin17 cout13 T8", 1, 7, 1, 0, 3, 3, 17, 17, 17, 13, T8, 0, EPI_RELU1, 0, 0, 0},
    {"conv 1x7 p0x3 7x9 n1 cin3 cout5 T16", 1, 7, 1, 0, 3, 1, 7, 9, 3, 5, T16, 0, EPI_RELU1, 0, 0, 0},
    {"conv 7x1 p3x0 17x17 n1 cin3 cout21 T16", 7, 1, 1, 3, 0, 1, 17, 17, 3, 21, T16, 0, EPI_RELU1, 0, 0, 0},
    {"conv 7x1 p3x0 8x8 n3 cin17 cout13 T8", 7, 1, 1, 3, 0, 3, 8, 8, 17, 13, T8, 0, EPI_RELU1, 0, 0, 0},
    {"conv 1x3 p0x1 8x8 n3 cin17 cout13 T8", 1, 3, 1, 0, 1, 3, 8, 8, 17, 13, T8, 0, EPI_RELU1, 0, 0, 0},
    {"conv 1x3 p0x1 7x9 n1 cin3 cout21 T16", 1, 3, 1, 0, 1, 1, 7, 9, 3, 21, T16, 0, EPI_RELU1, 0, 0, 0},
    {"conv 3x1 p1x0 8x8 n1 cin3 cout5 T16", 3, 1, 1, 1, 0, 1, 8, 8, 3, 5, T16, 0, EPI_RELU1, 0, 0, 0},
    {"conv 3x1 p1x0 13x13 n3 cin17 cout13 T8", 3, 1, 1, 1, 0, 3, 13, 13, 17, 13, T8, 0, EPI_RELU1, 0, 0, 0},
    {"conv 5x5 p2 13x13 n3 cin17 cout21 T8", 5, 5, 1, 2, 2, 3, 13, 13, 17, 21, T8, 0, EPI_RELU1, 0, 0, 0},
    {"conv 5x5 p2 8x8 n1 cin3 cout5 T16", 5, 5, 1, 2, 2, 1, 8, 8, 3, 5, T16, 0, EPI_NONE, 0, 0, 0},
    {"conv 3x3 s2 p0 phase 17x17 n3 cin3 cout21 T8", 3, 3, 2, 0, 0, 3, 17, 17, 3, 21, T8, 0, EPI_RELU1, 1, 0, 0},
    {"conv 3x3 s2 p0 phase 35x35 n1 cin17 cout5 T16 bn", 3, 3, 2, 0, 0, 1, 35, 35, 17, 5, T16, 0, EPI_BN, 1, 0, 0},
    {"conv 3x3 s2 p0 phase 8x8 n3 cin1 cout13 T8", 3, 3, 2, 0, 0, 3, 8, 8, 1, 13, T8, 0, EPI_RELU1, 1, 0, 0},
    {"conv 3x3 s2 p1 phase 9x10 n2 cin3 cout5 T8", 3, 3, 2, 1, 1, 2, 9, 10, 3, 5, T8, 0, EPI_RELU1, 1, 0, 0},
    {"conv 3x3 s2 p0 phase 16x15 n2 cin3 cout13 T16", 3, 3, 2, 0, 0, 2, 16, 15, 3, 13, T16, 0, EPI_RELU1, 1, 0, 0},
    {"conv 1x1 flat 7x9 n3 cin17 cout21 T8 chunks of 5", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, T8, 1, EPI_RELU1, 0, 5, 0},
    {"conv 1x1 flat 8x8 n2 cin17 cout13 T16 res chunks of 8", 1, 1, 1, 0, 0, 2, 8, 8, 17, 13, T16, 1, EPI_RES, 0, 8, 0},
    {"conv 3x3 p1 13x13 n1 cin17 cout21 T8 bn chunks of 4", 3, 3, 1, 1, 1, 1, 13, 13, 17, 21, T8, 0, EPI_BN, 0, 4, 0},
    {"conv 3x3 s2 p0 phase 17x17 n2 cin17 cout5 T8 chunks of 6", 3, 3, 2, 0, 0, 2, 17, 17, 17, 5, T8, 0, EPI_RELU1, 1, 6, 0},
    {"conv 1x1 panels 7x9 n3 cin17 cout21 T8", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, T8, 0, EPI_RELU1, 0, 0, 1},
    {"conv 1x1 panels 8x8 n2 cin17 cout13 T16 res", 1, 1, 1, 0, 0, 2, 8, 8, 17, 13, T16, 0, EPI_RES, 0, 0, 1},
    {"conv 1x1 panels 5x7 n1 cin3 cout5 dflt bn", 1, 1, 1, 0, 0, 1, 5, 7, 3, 5, TDEF, 0, EPI_BN, 0, 0, 1},
    {"conv 1x1 panels 1x1 n3 cin33 cout7 T16", 1, 1, 1, 0, 0, 3, 1, 1, 33, 7, T16, 0, EPI_NONE, 0, 0, 1},
    {"conv 1x1 panels 5x5 n2 cin9 cout300 T8 (two weight blocks)", 1, 1, 1, 0, 0, 2, 5, 5, 9, 300, T8, 0, EPI_RELU1, 0, 0, 1},
    {"conv 3x3 s2 p0 im2col 17x17 n3 cin5 cout21 T8", 3, 3, 2, 0, 0, 3, 17, 17, 5, 21, T8, 0, EPI_RELU1, 0, 0, 1},
    {"conv 3x3 s2 p0 im2col 35x35 n2 cin17 cout5 T16 bn", 3, 3, 2, 0, 0, 2, 35, 35, 17, 5, T16, 0, EPI_BN, 0, 0, 1},
    {"conv 3x3 s2 p1 im2col 9x10 n2 cin3 cout13 T8", 3, 3, 2, 1, 1, 2, 9, 10, 3, 13, T8, 0, EPI_RELU1, 0, 0, 1},
    {"conv 3x3 s2 p0 im2col 8x8 n1 cin1 cout5 T16", 3, 3, 2, 0, 0, 1, 8, 8, 1, 5, T16, 0, EPI_NONE, 0, 0, 1},
    {"conv 3x3 s2 p1 im2col 35x35 n2 cin3 cout5 T16", 3, 3, 2, 1, 1, 2, 35, 35, 3, 5, T16, 0, EPI_RELU1, 0, 0, 1},
    {"conv 3x3 p1 im2col 35x35 n2 cin5 cout13 T16", 3, 3, 1, 1, 1, 2, 35, 35, 5, 13, T16, 0, EPI_RELU1, 0, 0, 1},
    {"conv 3x3 p1 im2col 8x8 n3 cin17 cout5 T8 res", 3, 3, 1, 1, 1, 3, 8, 8, 17, 5, T8, 0, EPI_RES, 0, 0, 1},
    {"conv 1x7 p0x3 im2col 17x17 n2 cin5 cout21 T16", 1, 7, 1, 0, 3, 2, 17, 17, 5, 21, T16, 0, EPI_RELU1, 0, 0, 1},
    {"conv 7x1 p3x0 im2col 17x17 n2 cin5 cout13 T8 bn", 7, 1, 1, 3, 0, 2, 17, 17, 5, 13, T8, 0, EPI_BN, 0, 0, 1},
    {"conv 3x1 p1x0 im2col 8x8 n3 cin3 cout5 T16", 3, 1, 1, 1, 0, 3, 8, 8, 3, 5, T16, 0, EPI_RELU1, 0, 0, 1},
    {"conv 1x1 fused 7x9 n3 cin17 cout21 T8", 1, 1, 1, 0, 0, 3, 7, 9, 17, 21, T8, 1, EPI_RELU1, 0, 0, 2},
    {"conv 1x1 fused 8x8 n2 cin17 cout13 T16 res", 1, 1, 1, 0, 0, 2, 8, 8, 17, 13, T16, 1, EPI_RES, 0, 0, 2},
    {"conv 1x1 fused 5x5 n2 cin9 cout300 T8 (two weight blocks)", 1, 1, 1, 0, 0, 2, 5, 5, 9, 300, T8, 1, EPI_BN, 0, 0, 2},
    {"conv 3x3 s2 p0 fused 35x35 n2 cin17 cout5 T16 bn", 3, 3, 2, 0, 0, 2, 35, 35, 17, 5, T16, 0, EPI_BN, 0, 0, 2},
    {"conv 3x3 s2 p1 fused 9x10 n2 cin3 cout13 T8", 3, 3, 2, 1, 1, 2, 9, 10, 3, 13, T8, 0, EPI_RELU1, 0, 0, 2},
    {"conv 3x3 p1 fused 35x35 n2 cin5 cout13 T16", 3, 3, 1, 1, 1, 2, 35, 35, 5, 13, T16, 0, EPI_RELU1, 0, 0, 2},
    {"conv 3x3 p0 fused 20x19 n2 cin3 cout7 T8", 3, 3, 1, 0, 0, 2, 20, 19, 3, 7, T8, 0, EPI_RELU1, 0, 0, 2},
    {"conv 1x7 p0x3 fused 17x17 n2 cin5 cout21 T16", 1, 7, 1, 0, 3, 2, 17, 17, 5, 21, T16, 0, EPI_RELU1, 0, 0, 2},
    {"conv 7x1 p3x0 fused 17x17 n2 cin5 cout13 T8 res", 7, 1, 1, 3, 0, 2, 17, 17, 5, 13, T8, 0, EPI_RES, 0, 0, 2},
    {"conv 3x3 p1 13x13 n2 cin17 cout50 T24 bn", 3, 3, 1, 1, 1, 2, 13, 13, 17, 50, T24, 0, EPI_BN, 0, 0, 0},
    {"conv 3x3 s2 p0 phase 17x17 n2 cin5 cout29 T24", 3, 3, 2, 0, 0, 2, 17, 17, 5, 29, T24, 0, EPI_RELU1, 1, 0, 0},
    {"conv 1x1 flat 7x9 n3 cin17 cout50 T24 res chunks of 8", 1, 1, 1, 0, 0, 3, 7, 9, 17, 50, T24, 1, EPI_RES, 0, 8, 0},
    {"conv 1x1 panels 8x8 n2 cin17 cout50 T24 res", 1, 1, 1, 0, 0, 2, 8, 8, 17, 50, T24, 0, EPI_RES, 0, 0, 1},
    {"conv 1x1 panels 5x5 n2 cin9 cout300 T24 bn", 1, 1, 1, 0, 0, 2, 5, 5, 9, 300, T24, 0, EPI_BN, 0, 0, 1},
    {"conv 3x3 s2 p0 fused 35x35 n2 cin17 cout29 T24", 3, 3, 2, 0, 0, 2, 35, 35, 17, 29, T24, 0, EPI_RELU1, 0, 0, 2},
    {"conv 1x7 p0x3 fused 17x17 n2 cin5 cout50 T24 res", 1, 7, 1, 0, 3, 2, 17, 17, 5, 50, T24, 0, EPI_RES, 0, 0, 2},
};

static conv_tiling tiling_of(int t)
{
    if (t == T8) return (conv_tiling){8, 8};
    if (t == T16) return (conv_tiling){16, 4};
    if (t == T24) return (conv_tiling){16, 24};
    return conv_default_tiling(g_ctx);
}

/* Naive direct convolution of x [cin][n][h][w] with w [cout][cin][kh][kw], in double. */
static double *conv_reference(const conv_case *c, int ho, int wo, const float *x, const float *w,
                              const float *bias, const float *scale, const float *shift,
                              const float *old)
{
    size_t plane = (size_t)c->n * ho * wo;
    double *ref = host_doubles((size_t)c->cout * plane);
    for (int co = 0; co < c->cout; co++)
        for (int n = 0; n < c->n; n++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    double acc = 0.0;
                    for (int ci = 0; ci < c->cin; ci++)
                        for (int ky = 0; ky < c->kh; ky++)
                            for (int kx = 0; kx < c->kw; kx++) {
                                int iy = oy * c->stride + ky - c->ph;
                                int ix = ox * c->stride + kx - c->pw;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                size_t xi = (((size_t)ci * c->n + n) * c->h + iy) * c->w + ix;
                                size_t wi = (((size_t)co * c->cin + ci) * c->kh + ky) * c->kw + kx;
                                acc += (double)x[xi] * w[wi];
                            }
                    size_t o = co * plane + ((size_t)n * ho + oy) * wo + ox;
                    ref[o] = epilogue_ref(acc, c->epi, old ? old[o] : 0.0, bias[co],
                                          scale ? scale[co] : 1.0, shift ? shift[co] : 0.0);
                }
    return ref;
}

enum { OUT_MARGIN = 67 };

static void test_conv_case(void **state)
{
    const conv_case *c = *state;
    const uint64_t seed = 1000 + (uint64_t)(c - conv_cases) * 16;
    conv_shape s = {.cin = c->cin, .cout = c->cout, .kh = c->kh, .kw = c->kw, .stride = c->stride,
                    .ph = c->ph, .pw = c->pw, .n = c->n, .h = c->h, .w = c->w};
    if (c->flat) s.n = 1, s.h = 1, s.w = c->n * c->h * c->w;
    assert_ok(conv_shape_finish(&s));
    const int ho = (c->h + 2 * c->ph - c->kh) / c->stride + 1;
    const int wo = (c->w + 2 * c->pw - c->kw) / c->stride + 1;
    assert_int_equal((size_t)s.n * s.ho * s.wo, (size_t)c->n * ho * wo);
    const conv_tiling t = tiling_of(c->tiling);

    const size_t in_count = (size_t)c->cin * c->n * c->h * c->w;
    const size_t out_count = (size_t)c->cout * c->n * ho * wo;
    const size_t w_count = (size_t)c->cout * c->cin * c->kh * c->kw;
    float *x = random_floats(in_count, seed, -1.0f, 1.0f);
    float *w = random_floats(w_count, seed + 2, -0.5f, 0.5f);
    float *bias = random_floats((size_t)c->cout, seed + 3, -0.5f, 0.5f);
    float *scale = NULL, *shift = NULL, *old = NULL;
    if (c->epi.affine) affine_params((size_t)c->cout, seed + 4, &scale, &shift);
    if (c->epi.residual) old = random_floats(out_count, seed + 6, -1.0f, 1.0f);

    const size_t packed_count = conv_packed_count(&s, t);
    assert_int_equal(packed_count,
                     (size_t)(c->cout + t.tm - 1) / t.tm * t.tm * c->cin * c->kh * c->kw);
    float *packed = host_floats(packed_count);
    conv_pack(&s, t, w, packed);

    /* Input inside NaN guards as wide as the kernel may read; output inside NaN guards and,
     * unless residual, NaN itself so every output must be written. */
    guarded in = guarded_new(in_count, conv_guard(&s, t), x);
    guarded out = guarded_new(out_count, OUT_MARGIN, old);
    cl_mem wbuf = dev_from(packed, packed_count), bbuf = dev_from(bias, (size_t)c->cout);
    cl_mem sbuf = scale ? dev_from(scale, (size_t)c->cout) : NULL;
    cl_mem hbuf = shift ? dev_from(shift, (size_t)c->cout) : NULL;

    /* Parity planes and channel chunks go through conv_launches; plain convs through conv_op. */
    guarded scratch = {0};
    if (c->phase || c->panels) {
        size_t scratch_count = c->phase ? conv_phase_scratch(&s) : conv_panel_scratch(&s, t);
        assert_true(scratch_count > 0);
        scratch = guarded_new(scratch_count, conv_guard(&s, t), NULL);
    }
    if (c->phase || c->kchunk || c->panels) {
        op_launch ops[CONV_MAX_LAUNCHES];
        int nops = 0;
        conv_form form = {t, c->phase, c->kchunk, c->panels};
        conv_out dst = conv_out_one(guarded_buf(&out));
        assert_ok(conv_launches(g_ctx, &s, &form, c->epi, guarded_buf(&in), guarded_buf(&scratch),
                                wbuf, bbuf, sbuf, hbuf, &dst, ops, &nops));
        int want = c->panels == 2 ? 1 : c->panels == 1 ? 2 : c->phase + conv_chunks(&s, c->kchunk);
        assert_int_equal(nops, want);
        for (int k = 0; k < nops; k++) run_op(&ops[k]);
    } else {
        op_launch op;
        assert_ok(conv_op(g_ctx, &s, t, c->epi, guarded_buf(&in), wbuf, bbuf, sbuf, hbuf,
                          guarded_buf(&out), &op));
        run_op(&op);
    }

    float *now = guarded_read(&out);
    expect_unchanged_outside(c->name, now, out.init, out.total, out.margin,
                             out.margin + out.count);
    double *ref = conv_reference(c, ho, wo, x, w, bias, scale, shift, old);
    /* fp32 fma accumulation over cin*kh*kw <= 425 products of inputs in [-1,1] and weights in
     * [-0.5,0.5]: the rounding error grows like sqrt(terms) * 2^-24 * |partial sums|, about
     * 1e-6 relative to max|ref|; 1e-5 * (1 + max|ref|) leaves margin yet is far below one
     * missing or misplaced tap (~0.1 on average). */
    char label[96];
    snprintf(label, sizeof label, "%s [vw%d tm%d]", c->name, t.vw, t.tm);
    expect_close(label, now + out.margin, ref, out_count, 1e-5, 0.0);

    free(ref);
    free(now);
    if (c->phase || c->panels) guarded_free(&scratch);
    release(wbuf), release(bbuf), release(sbuf), release(hbuf);
    guarded_free(&in);
    guarded_free(&out);
    free(packed), free(x), free(w), free(bias), free(scale), free(shift), free(old);
}

/* Stacked sibling convs: one conv whose output channels go to three places in parts of 5,
 * 9 and 7 channels (straddling the 8-channel and 4-channel tiles), in each form that 1x1
 * convs run in; each part must match the reference and the gaps between parts stay NaN. */
static void test_conv_output_parts(void **state)
{
    (void)state;
    const conv_case c = {"parts", 1, 1, 1, 0, 0, 2, 5, 7, 17, 21, T8, 1, EPI_RELU1, 0, 0, 0};
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
    double *ref = conv_reference(&c, 5, 7, x, w, bias, NULL, NULL, NULL);
    const conv_form forms[] = {{{8, 8}, 0, 0, 0}, {{16, 4}, 0, 0, 0}, {{8, 8}, 0, 0, 1},
                               {{16, 6}, 0, 0, 1}, {{8, 8}, 0, 0, 2}, {{16, 4}, 0, 0, 2},
                               {{8, 8}, 0, 8, 0}, {{16, 24}, 0, 0, 1}, {{16, 16}, 0, 0, 0}};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        conv_tiling t = forms[f].tiling;
        float *packed = host_floats(conv_packed_count(&s, t));
        conv_pack(&s, t, w, packed);
        cl_mem wbuf = dev_from(packed, conv_packed_count(&s, t)), bbuf = dev_from(bias, 21);
        guarded in = guarded_new(17 * plane, conv_guard(&s, t), x);
        guarded out = guarded_new(total, OUT_MARGIN, NULL);
        guarded scratch = guarded_new(conv_panel_scratch(&s, t), conv_guard(&s, t), NULL);
        conv_out dst = {out.mem, 3, {0, 5, 14}, {0}};
        for (int k = 0; k < 3; k++) dst.off[k] = out.margin + off[k];
        op_launch ops[CONV_MAX_LAUNCHES];
        int nops = 0;
        assert_ok(conv_launches(g_ctx, &s, &forms[f], c.epi, guarded_buf(&in),
                                guarded_buf(&scratch), wbuf, bbuf, NULL, NULL, &dst, ops, &nops));
        for (int k = 0; k < nops; k++) run_op(&ops[k]);
        float *now = guarded_read(&out);
        char label[96];
        for (int k = 0; k < 3; k++) {
            snprintf(label, sizeof label, "parts: form %zu (vw%d tm%d panels %d kchunk %d) part %d",
                     f, t.vw, t.tm, forms[f].panels, forms[f].kchunk, k);
            expect_close(label, now + out.margin + off[k], ref + from[k] * plane,
                         (size_t)count[k] * plane, 1e-5, 0.0);
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
        free(packed);
    }
    /* parts that do not rise within cout are refused */
    conv_out bad = {NULL, 3, {0, 14, 5}, {0}};
    op_launch ops[CONV_MAX_LAUNCHES];
    int nops = 0;
    conv_form direct = {{8, 8}, 0, 0, 0};
    assert_int_equal(conv_launches(g_ctx, &s, &direct, c.epi, (op_buf){0}, (op_buf){0}, NULL,
                                   NULL, NULL, NULL, &bad, ops, &nops),
                     IRV2_ERR_SHAPE);
    print_message("  unordered parts -> %s\n", irv2_last_error());
    irv2_clear_error();
    free(ref), free(x), free(w), free(bias);
}

static void test_conv_tiling_and_packing(void **state)
{
    (void)state;
    conv_tiling d = conv_default_tiling(g_ctx);
    assert_true(d.vw == 8 || d.vw == 16);
    assert_true(d.tm > 0);
    print_message("  default tiling on '%s': vw %d tm %d\n", g_ctx->info.name, d.vw, d.tm);

    /* conv_pack: [cout/tm][kh][kw][cin][tm], zero rows padding cout to a multiple of tm */
    conv_shape s = {.cin = 2, .cout = 3, .kh = 1, .kw = 2, .stride = 1, .n = 1, .h = 1, .w = 2};
    assert_ok(conv_shape_finish(&s));
    conv_tiling t = {8, 2};
    float w[12], packed[16];
    /* w[co][ci][0][kx] = 1 + co*4 + ci*2 + kx */
    for (int i = 0; i < 12; i++) w[i] = (float)(i + 1);
    assert_int_equal(conv_packed_count(&s, t), 16);
    conv_pack(&s, t, w, packed);
    static const float want[16] = {1, 5, 3, 7, 2, 6, 4, 8, 9, 0, 11, 0, 10, 0, 12, 0};
    assert_memory_equal(packed, want, sizeof want);

    /* shapes the kernel does not support are refused */
    conv_shape bad = s;
    bad.stride = 3;
    assert_int_equal(conv_shape_finish(&bad), IRV2_ERR_SHAPE);
    bad = s, bad.kh = 3, bad.kw = 3, bad.ph = 3;
    assert_int_equal(conv_shape_finish(&bad), IRV2_ERR_SHAPE);
    bad = s, bad.kh = 3, bad.kw = 3, bad.h = 2, bad.w = 2;
    assert_int_equal(conv_shape_finish(&bad), IRV2_ERR_SHAPE);
}

/* ---- pool_op (cl/pool.cl) ----------------------------------------------------------------- */

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
    {"avgpool 7x7 n2 c3", POOL_AVG3S1, 3, 2, 7, 7, EPI_NONE},
    {"avgpool 8x9 n2 c3 affine relu2", POOL_AVG3S1, 3, 2, 8, 9, EPI_AFF},
    {"avgpool 35x35 n2 c2", POOL_AVG3S1, 2, 2, 35, 35, EPI_NONE},
    {"global avg 8x8 n2 c5", POOL_GLOBAL_AVG, 5, 2, 8, 8, EPI_NONE},
    {"global avg 8x8 n2 c5 affine relu2", POOL_GLOBAL_AVG, 5, 2, 8, 8, EPI_AFF},
    {"global avg 3x5 n2 c5", POOL_GLOBAL_AVG, 5, 2, 3, 5, EPI_NONE},
    {"global avg 3x5 n2 c5 affine relu2", POOL_GLOBAL_AVG, 5, 2, 3, 5, EPI_AFF},
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
 * [2, 2+c) of a [c+3][n][ho][wo] NaN-filled buffer; returns the slice (caller frees) after
 * checking nothing else changed. */
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

    float *got = run_pool(p->name, p->kind, p->c, p->n, p->h, p->w, p->epi, x, scale, shift);

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
    /* max is exact; averages sum at most 35*35 = 1225 fp32 values in [-1,1] (error well below
     * 1e-6 relative), then one division and one affine fma. */
    expect_close(p->name, got, ref, out_count, 1e-6, 0.0);
    free(ref), free(got), free(x), free(scale), free(shift);
}

/* count_include_pad = False, by hand: corners average 4 taps, edges 6, the centre 9. */
static void test_avgpool_border_counts(void **state)
{
    (void)state;
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float want[9] = {3.0f, 3.5f, 4.0f, 4.5f, 5.0f, 5.5f, 6.0f, 6.5f, 7.0f};
    float *got = run_pool("avgpool 3x3 by hand", POOL_AVG3S1, 1, 1, 3, 3, (op_epilogue)EPI_NONE,
                          x, NULL, NULL);
    for (int i = 0; i < 9; i++) assert_float_equal(got[i], want[i], 1e-6f);
    free(got);
}

static void test_pool_rejects_small_input(void **state)
{
    (void)state;
    op_launch op;
    float one = 0.0f;
    cl_mem m = dev_from(&one, 1);
    op_buf b = {m, 0};
    assert_int_equal(pool_op(g_ctx, POOL_MAX3S2, 1, 1, 2, 2, (op_epilogue)EPI_NONE, b, NULL, NULL,
                             b, &op),
                     IRV2_ERR_SHAPE);
    assert_null(op.kernel);
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

static void test_channel_epilogue_case(void **state)
{
    const epi_case *e = *state;
    const uint64_t seed = 3000 + (uint64_t)(e - epi_cases) * 16;
    const int channels = 5, plane = 37;
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
    expect_unchanged_outside(e->name, now, buf.init, buf.total, buf.margin, buf.margin + count);
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
    expect_close(e->name, now + buf.margin, ref, count, 1e-6, 0.0);

    free(ref), free(now);
    release(bbuf), release(sbuf), release(hbuf);
    guarded_free(&buf);
    free(x), free(bias), free(scale), free(shift);
}

/* ---- head_op (cl/head.cl) ----------------------------------------------------------------- */

/* Runs head_op on logits [classes][n] (at an offset) and returns out [n][classes]. */
static float *run_head(int classes, int n, int softmax, const float *logits)
{
    const size_t count = (size_t)classes * n;
    guarded in = guarded_new(count, 9, logits);
    float *nan_fill = host_floats(count);
    fill_nan(nan_fill, count);
    cl_mem out = dev_from(nan_fill, count);
    op_launch op;
    assert_ok(head_op(g_ctx, classes, n, softmax, guarded_buf(&in), out, &op));
    run_op(&op);
    download(out, 0, nan_fill, count);
    release(out);
    guarded_free(&in);
    return nan_fill;
}

static void test_head_plain(void **state)
{
    (void)state;
    const int classes = 10, n = 3;
    float *logits = random_floats((size_t)classes * n, 4000, -5.0f, 5.0f);
    float *got = run_head(classes, n, 0, logits);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < classes; k++)
            if (memcmp(&got[i * classes + k], &logits[k * n + i], sizeof(float)) != 0) {
                print_message("head: out[%d][%d] = %g, want logits[%d][%d] = %g\n", i, k,
                              (double)got[i * classes + k], k, i, (double)logits[k * n + i]);
                fail();
            }
    free(got), free(logits);
}

static void check_softmax(const char *what, int classes, int n, const float *logits)
{
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
        /* a few ulps per probability (exp, the fp32 sum, one multiply) */
        if (!(fabs(got_sum - 1.0) <= 1e-6)) {
            print_message("%s: row %d sums to %.9g\n", what, i, got_sum);
            fail();
        }
    }
    expect_close(what, got, ref, (size_t)classes * n, 0.0, 1e-6);
    free(ref), free(got);
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
}

/* ---- gemm_clblast ------------------------------------------------------------------------- */

static void check_gemm(int m, int n, int k, float beta, uint64_t seed)
{
    const size_t a_n = (size_t)m * k, b_n = (size_t)k * n, c_n = (size_t)m * n;
    float *a = random_floats(a_n, seed, -1.0f, 1.0f);
    float *b = random_floats(b_n, seed + 1, -1.0f, 1.0f);
    /* beta 0: C holds garbage that must be ignored; beta 1: the old values are added */
    float *c = beta == 0.0f ? random_floats(c_n, seed + 2, -100.0f, 100.0f)
                            : random_floats(c_n, seed + 2, -1.0f, 1.0f);
    guarded ga = guarded_new(a_n, 3, a), gb = guarded_new(b_n, 5, b), gc = guarded_new(c_n, 7, c);

    assert_ok(gemm_clblast(g_ctx, m, n, k, ga.mem, ga.margin, guarded_buf(&gb), guarded_buf(&gc),
                           beta, NULL));
    assert_int_equal(clFinish(g_ctx->queue), CL_SUCCESS);

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
}

/* The SGEMM peak runs every GEMM form (direct, panels with their packing, CLBlast) to the
 * end and reports a positive rate for irv2's kernels and for CLBlast. */
static void test_sgemm_peak(void **state)
{
    (void)state;
    double native = 0, clblast = 0;
    assert_ok(irv2_context_sgemm_peak(g_ctx, 256, &native, &clblast));
    print_message("  sgemm 256^3: irv2 %.1f GFLOP/s, CLBlast %.1f GFLOP/s\n", native, clblast);
    assert_true(native > 0.0);
    assert_true(clblast > 0.0);
    assert_int_equal(irv2_context_sgemm_peak(g_ctx, 9000, &native, &clblast),
                     IRV2_ERR_INVALID_ARGUMENT);
}

static void test_gemm_block_shaped(void **state)
{
    (void)state;
    check_gemm(32, 1225, 384, 0.0f, 5100);
    check_gemm(32, 1225, 384, 1.0f, 5110);
}

/* ---- tune_choose (host/tune.c) ----------------------------------------------------------- */

/* Drops the context's tuning table, so the next choice reads tuning.txt again, as a new
 * process would. */
static void forget_tuning(void)
{
    tune_table_free(g_ctx->tune);
    g_ctx->tune = NULL;
}

/* A decision on disk that does not parse (here a tiling no kernel has) is measured again and
 * replaced in tuning.txt, so later starts find a valid one rather than measuring at each. */
static void test_tuning_replaces_unreadable_entry(void **state)
{
    (void)state;
    char dir[1024], path[1100], *saved = getenv("IRV2_CACHE_DIR");
    saved = saved ? strdup(saved) : NULL;
    snprintf(dir, sizeof dir, "%s", test_tmp_path("tune-cache"));
    test_remove_tree(dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/tuning.txt", dir);
    assert_int_equal(setenv("IRV2_CACHE_DIR", dir, 1), 0);
    assert_int_equal(unsetenv("IRV2_TUNE"), 0);

    conv_shape s = {.cin = 17, .cout = 21, .kh = 1, .kw = 1, .stride = 1, .n = 1, .h = 1, .w = 70};
    assert_ok(conv_shape_finish(&s));
    const conv_tiling widest = {16, 24};
    float *x = random_floats(17 * 70, 7101, -1.0f, 1.0f);
    float *w = random_floats(21 * 17, 7102, -0.5f, 0.5f);
    float *bias = random_floats(21, 7103, -0.5f, 0.5f);
    guarded in = guarded_new(17 * 70, conv_guard(&s, widest), x);
    guarded out = guarded_new(21 * 70, OUT_MARGIN, NULL);
    guarded scratch = guarded_new(conv_panel_scratch(&s, widest), conv_guard(&s, widest), NULL);
    cl_mem bbuf = dev_from(bias, 21);
    const tune_job job = {.mode = IRV2_GEMM_NATIVE, .shape = s, .weights = w, .bias = bbuf,
                          .in = guarded_buf(&in), .out = conv_out_one(guarded_buf(&out)),
                          .scratch = guarded_buf(&scratch)};

    conv_choice first, again;
    forget_tuning();
    assert_ok(tune_choose(g_ctx, &job, &first));
    tune_save(g_ctx);
    size_t len;
    char *text = cache_read(path, &len), *tab = text ? strchr(text, '\t') : NULL;
    assert_non_null(tab);
    assert_int_equal(strchr(text, '\n') - text + 1, (long)len); /* one decision */
    *tab = '\0';
    char key[600], bad[700];
    snprintf(key, sizeof key, "%s\t", text);
    snprintf(bad, sizeof bad, "%snative 16 99 0 0 2\n", key);
    assert_int_equal(test_write_file(path, bad, strlen(bad)), 0);

    forget_tuning();
    assert_ok(tune_choose(g_ctx, &job, &again));
    assert_false(again.clblast);
    assert_in_range(again.form.tiling.tm, 1, 24);
    tune_save(g_ctx);
    char *now = cache_read(path, &len);
    assert_non_null(now);
    print_message("  tuning.txt after: %s", now);
    assert_null(strstr(now, "native 16 99"));
    assert_true(strncmp(now, key, strlen(key)) == 0);

    forget_tuning();
    free(now), free(text), free(x), free(w), free(bias);
    guarded_free(&in), guarded_free(&out), guarded_free(&scratch);
    release(bbuf);
    test_remove_tree(dir);
    assert_int_equal(saved ? setenv("IRV2_CACHE_DIR", saved, 1) : unsetenv("IRV2_CACHE_DIR"), 0);
    free(saved);
}

/* ---- main --------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    irv2_status st = irv2_context_create("cpu", &g_ctx);
    if (st != IRV2_OK) {
        print_error("irv2_context_create(\"cpu\"): %s\n", irv2_last_error());
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

int main(void)
{
    struct CMUnitTest tests[COUNT(conv_cases) + COUNT(pool_cases) + COUNT(epi_cases) + 10];
    size_t t = 0;
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_conv_tiling_and_packing);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_conv_output_parts);
    for (size_t i = 0; i < COUNT(conv_cases); i++)
        tests[t++] = (struct CMUnitTest){conv_cases[i].name, test_conv_case, NULL, NULL,
                                         (void *)&conv_cases[i]};
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
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_tuning_replaces_unreadable_entry);
    if (t != COUNT(tests)) return 1;
    return cmocka_run_group_tests_name("test_kernels", tests, group_setup, group_teardown);
}
