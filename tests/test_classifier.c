/* test_classifier.c: the fused global average pool and classifier (cl/classifier.cl through
 * ops/classifier.c) against a naive C reference in double precision, and when the plan
 * offers it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ops/classifier.h"
#include "runtime/context.h"
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static irv2_context *g_ctx;

/* Fails the test with the library's message unless st is IRV2_OK. */
static void expect_ok(irv2_status st)
{
    if (st != IRV2_OK) fail_msg("%s", irv2_last_error());
}

/* NaN margins around the input and the output: a read outside the tensor poisons a result, a
 * write outside it shows in the margins. */
enum { MARGIN = 13 };

static float *floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static cl_mem buffer(const float *src, size_t n)
{
    cl_int err;
    cl_mem m = clCreateBuffer(g_ctx->context, CL_MEM_READ_WRITE, (n ? n : 1) * sizeof(float),
                              NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    if (src && n)
        assert_int_equal(clEnqueueWriteBuffer(g_ctx->queue, m, CL_TRUE, 0, n * sizeof(float),
                                              src, 0, NULL, NULL),
                         CL_SUCCESS);
    return m;
}

static void read_back(cl_mem m, float *dst, size_t n)
{
    assert_int_equal(clEnqueueReadBuffer(g_ctx->queue, m, CL_TRUE, 0, n * sizeof(float), dst, 0,
                                         NULL, NULL),
                     CL_SUCCESS);
}

/* A case: the shape at batches 1 .. max_batch, in the given form (group 0: the device's). */
typedef struct classifier_case {
    const char *name;
    int features, h, w, classes, max_batch;
    classifier_form form;
} classifier_case;

static const classifier_case cases[] = {
    /* 5 slices, the last of 5 features; 4 class blocks, the last of 5 classes */
    {"odd sizes, split", 37, 5, 3, 29, 9, {8, 8}},
    /* one slice: no hand-over between work-groups; a 1x1 plane */
    {"odd sizes, one slice", 37, 1, 1, 29, 9, {16, 64}},
    /* planes shorter than the lanes summing them, one class */
    {"one class, 2x3 planes", 19, 2, 3, 1, 9, {8, 4}},
    {"device form, 8x8 planes", 150, 8, 8, 130, 9, {0, 0}},
    {"network's end, largest batch", 1536, 8, 8, 1000, CLASSIFIER_MAX_BATCH, {0, 0}},
};

/* The logits [classes][n] in double: bias + w x the planes' means; bound[k][n] is the sum of
 * the magnitudes it adds (the scale of float rounding). */
static void reference(const classifier_case *c, int n, const float *x, const float *w,
                      const float *bias, double *ref, double *bound)
{
    const int hw = c->h * c->w;
    const size_t planes = (size_t)c->features * n;
    double *mean = malloc(2 * planes * sizeof *mean), *abs_mean = mean + planes;
    assert_non_null(mean);
    for (size_t p = 0; p < planes; p++) { /* plane p: feature p / n, image p % n */
        double sum = 0.0, mag = 0.0;
        for (int i = 0; i < hw; i++) sum += x[p * hw + i], mag += fabs(x[p * hw + i]);
        mean[p] = sum / hw, abs_mean[p] = mag / hw;
    }
    for (int k = 0; k < c->classes; k++)
        for (int b = 0; b < n; b++) {
            double sum = bias[k], mag = fabs(bias[k]);
            for (int f = 0; f < c->features; f++) {
                const double wv = w[(size_t)k * c->features + f];
                sum += wv * mean[(size_t)f * n + b], mag += fabs(wv) * abs_mean[(size_t)f * n + b];
            }
            ref[(size_t)k * n + b] = sum, bound[(size_t)k * n + b] = mag;
        }
    free(mean);
}

/* Where output (class k, image b) of n images of `classes` lies for `what`. */
static size_t out_index(classifier_out what, int classes, int n, int k, int b)
{
    return what == CLASSIFIER_LOGITS_KN ? (size_t)k * n + b : (size_t)b * classes + k;
}

/* The logits' reference and bounds (reference) turned into what the launch writes: the same
 * values moved to [n][classes], or each image's softmax in double with its tolerance. A
 * logit within tol_k of its reference moves ln p_k by at most tol_k + max_j tol_j <= 2E (E
 * the image's largest tol), so p_k by at most p_k (exp(2E) - 1); the float evaluation adds
 * at most p_k (K + 8) FLT_EPSILON (exp within 3 ulp, a sum of K terms, the reciprocal within
 * 2.5 ulp and one product). */
static void expected(const classifier_case *c, classifier_out what, int n, const double *ref,
                     const double *tol, double *want, double *want_tol)
{
    for (int b = 0; b < n; b++) {
        double mx = -INFINITY, sum = 0.0, e = 0.0;
        for (int k = 0; k < c->classes; k++) {
            const size_t i = (size_t)k * n + b;
            mx = fmax(mx, ref[i]), e = fmax(e, tol[i]);
        }
        for (int k = 0; k < c->classes; k++) sum += exp(ref[(size_t)k * n + b] - mx);
        for (int k = 0; k < c->classes; k++) {
            const size_t i = (size_t)k * n + b, o = out_index(what, c->classes, n, k, b);
            const double p = exp(ref[i] - mx) / sum;
            want[o] = what == CLASSIFIER_SOFTMAX ? p : ref[i];
            want_tol[o] = what == CLASSIFIER_SOFTMAX
                              ? p * (expm1(2.0 * e) + (c->classes + 8) * FLT_EPSILON) + FLT_MIN
                              : tol[i];
        }
    }
}

/* One batch: the op run twice (the counters must be back at zero for the second), each result
 * within float rounding of the reference, the margins untouched, both runs equal bit for bit
 * (the parts are added in slice order whichever work-group arrives last). */
static void check_batch(const classifier_case *c, classifier_form f, classifier_out what, int n,
                        uint64_t seed)
{
    const classifier_shape s = {c->features, c->h, c->w, c->classes, n};
    const size_t in_count = (size_t)c->features * n * c->h * c->w;
    const size_t out_count = (size_t)c->classes * n, out_total = out_count + 2 * MARGIN;
    float *x = floats(in_count + 2 * MARGIN), *w = floats((size_t)c->classes * c->features);
    float *bias = floats((size_t)c->classes), *packed = floats(classifier_packed_count(&s, &f));
    float *out = floats(out_total), *first = floats(out_total);
    double *ref = malloc(out_count * sizeof *ref), *bound = malloc(out_count * sizeof *bound);
    double *want = malloc(out_count * sizeof *want), *tol = malloc(out_count * sizeof *tol);
    assert_true(ref && bound && want && tol);
    for (int i = 0; i < MARGIN; i++) x[i] = x[in_count + MARGIN + i] = NAN;
    test_fill_random(x + MARGIN, in_count, seed, -1.0f, 2.0f);
    test_fill_random(w, (size_t)c->classes * c->features, seed + 1, -0.2f, 0.2f);
    test_fill_random(bias, (size_t)c->classes, seed + 2, -1.0f, 1.0f);
    for (size_t i = 0; i < out_total; i++) out[i] = NAN;
    classifier_pack(&s, &f, w, packed);
    reference(c, n, x + MARGIN, w, bias, ref, bound);
    /* float sums of m terms are within m * FLT_EPSILON / 2 of the sum of their magnitudes:
     * the plane's hw floats, then features products and the bias (twice that, for margin) */
    const double terms = c->h * c->w + c->features + 2;
    for (size_t i = 0; i < out_count; i++) bound[i] *= terms * FLT_EPSILON;
    expected(c, what, n, ref, bound, want, tol);

    cl_mem xb = buffer(x, in_count + 2 * MARGIN), bb = buffer(bias, (size_t)c->classes);
    cl_mem wb = buffer(packed, classifier_packed_count(&s, &f));
    /* the partial sums zero-filled as the plan fills them (only atomics touch them: an
     * exchange reads the old value) */
    float *zeros = calloc(classifier_partials(&s, &f) + 1, sizeof *zeros);
    assert_non_null(zeros);
    cl_mem pb = buffer(zeros, classifier_partials(&s, &f)), ob = buffer(out, out_total);
    free(zeros);
    op_launch op;
    expect_ok(classifier_op(g_ctx, &s, &f, what, (op_buf){xb, MARGIN}, wb, bb, pb,
                            (op_buf){ob, MARGIN}, &op));
    assert_int_equal(op.lws[0], (size_t)f.group);
    assert_int_equal(op.gws[0] % op.lws[0], 0);
    for (int run = 0; run < 2; run++) {
        expect_ok(op_enqueue(g_ctx, &op, NULL));
        read_back(ob, run ? out : first, out_total);
    }
    op_release(&op);
    for (size_t i = 0; i < out_total; i++) {
        const int inside = i >= MARGIN && i < MARGIN + out_count;
        if (!inside) {
            if (!isnan(first[i]) || !isnan(out[i])) fail_msg("%s, batch %d: margin %zu written: %g %g", c->name, n, i, first[i], out[i]);
            continue;
        }
        const double w_i = want[i - MARGIN], t_i = tol[i - MARGIN];
        if (!(fabs(first[i] - w_i) <= t_i))
            fail_msg("%s, batch %d, output %d: value %zu is %.9g, want %.9g (tolerance %.3g)",
                     c->name, n, (int)what, i - MARGIN, first[i], w_i, t_i);
        assert_memory_equal(&first[i], &out[i], sizeof(float));
    }
    clReleaseMemObject(xb), clReleaseMemObject(bb), clReleaseMemObject(wb);
    clReleaseMemObject(pb), clReleaseMemObject(ob);
    free(x), free(w), free(bias), free(packed), free(out), free(first), free(ref), free(bound);
    free(want), free(tol);
}

static void test_case(void **state)
{
    const classifier_case *c = *state;
    classifier_form f = c->form.group ? c->form : classifier_form_for(g_ctx);
    assert_true(f.group > 0);
    for (int n = 1; n <= c->max_batch; n++)
        check_batch(c, f, CLASSIFIER_LOGITS_KN, n,
                    7000 + (uint64_t)(c - cases) * 64 + (uint64_t)n);
    /* as the network's end (the plan's launches): the first, second and largest batches */
    const int ends[] = {1, 2, c->max_batch};
    for (int what = CLASSIFIER_LOGITS; what <= CLASSIFIER_SOFTMAX; what++)
        for (int e = 0; e < 3; e++)
            check_batch(c, f, (classifier_out)what, ends[e],
                        7500 + (uint64_t)(c - cases) * 64 + (uint64_t)ends[e]);
}

/* Shapes it does not run fail before building anything. */
static void test_rejects(void **state)
{
    (void)state;
    op_launch op;
    const classifier_form f = {8, 8};
    const classifier_shape big = {8, 2, 2, 5, CLASSIFIER_MAX_BATCH + 1}, empty = {0, 2, 2, 5, 1};
    cl_mem m = buffer(NULL, 64);
    assert_int_equal(classifier_op(g_ctx, &big, &f, CLASSIFIER_LOGITS_KN, (op_buf){m, 0}, m, m,
                                   m, (op_buf){m, 0}, &op),
                     IRV2_ERR_SHAPE);
    assert_null(op.kernel);
    assert_int_equal(classifier_op(g_ctx, &empty, &f, CLASSIFIER_LOGITS_KN, (op_buf){m, 0}, m,
                                   m, m, (op_buf){m, 0}, &op),
                     IRV2_ERR_SHAPE);
    clReleaseMemObject(m);
}

/* Offered on devices taking the work-group kernels, up to CLASSIFIER_MAX_BATCH, else not;
 * read from the context's profile and kernel set alone. */
static void test_offered(void **state)
{
    (void)state;
    irv2_context ctx = {.kernels = KERNELS_BOTH};
    ctx.profile = (device_profile){.type = DEVICE_GPU, .max_group = 1024,
                                   .max_items = {1024, 1024, 64}};
    device_profile_derive(&ctx.profile);
    assert_true(classifier_offered(&ctx, 1));
    assert_true(classifier_offered(&ctx, CLASSIFIER_MAX_BATCH));
    assert_false(classifier_offered(&ctx, CLASSIFIER_MAX_BATCH + 1));
    assert_int_equal(classifier_form_for(&ctx).group, 128);
    ctx.profile.max_group = 4;
    assert_false(classifier_offered(&ctx, 1));
    ctx.profile = (device_profile){.type = DEVICE_CPU, .max_group = 4096,
                                   .max_items = {4096, 4096, 4096}};
    device_profile_derive(&ctx.profile);
    assert_false(classifier_offered(&ctx, 1)); /* a CPU takes the vector kernels */
    ctx.kernels = KERNELS_WG;                  /* unless the work-group ones are forced */
    assert_true(classifier_offered(&ctx, 1));
}

/* One context for every case: the device the tests run on. */
static int group_setup(void **state)
{
    (void)state;
    const irv2_status st = irv2_context_create(test_device(), &g_ctx);
    if (st != IRV2_OK) print_error("no context on %s: %s\n", test_device(), irv2_last_error());
    return st == IRV2_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    irv2_context_free(g_ctx);
    g_ctx = NULL;
    return 0;
}

int main(void)
{
    struct CMUnitTest tests[sizeof cases / sizeof cases[0] + 2];
    size_t t = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        tests[t++] = (struct CMUnitTest){cases[i].name, test_case, NULL, NULL, (void *)&cases[i]};
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_rejects);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_offered);
    return _cmocka_run_group_tests("test_classifier", tests, t, group_setup, group_teardown);
}
