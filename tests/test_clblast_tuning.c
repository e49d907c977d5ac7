/* test_clblast_tuning.c: CLBlast tuner results applied from IRV2_CLBLAST_TUNING: a result for
 * this device is applied (and SGEMM through CLBlast stays correct with it), results for other
 * devices or precisions are skipped, and a folder, file or parameter set that cannot be used
 * fails context creation with an error naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/context.h"
#include "ops/gemm_clblast.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char g_device[256];

/* Xgemm's full parameter set, as clblast_tuner_xgemm reported it on a CPU. */
static const char *const XGEMM_PARAMS =
    "GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=8 MDIMC=8 MWG=64 NDIMB=16 NDIMC=16 NWG=64 "
    "PRECISION=32 SA=1 SB=1 STRM=0 STRN=0 VWM=4 VWN=4";

/* A fresh folder named leaf under the test's temporary folder, holding the given files. */
static const char *folder(const char *leaf, int count, const char *const *names,
                          const char *const *texts)
{
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s", test_tmp_path(leaf));
    test_remove_tree(dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    for (int i = 0; i < count; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assert_int_equal(test_write_file(path, texts[i], strlen(texts[i])), 0);
    }
    return dir;
}

static char *result_json(const char *device, const char *precision, const char *kernel,
                         const char *params)
{
    static char buf[4][1024];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0],
             "{\"kernel_family\": \"xgemm_1\", \"precision\": \"%s\", \"best_kernel\": \"%s\", "
             "\"best_time\": \"1.0\", \"best_parameters\": \"%s\", \"device\": \"%s\", "
             "\"results\": []}\n",
             precision, kernel, params, device);
    return b;
}

/* A context created with IRV2_CLBLAST_TUNING = dir: its status (ctx freed unless kept). */
static irv2_status create_with(const char *dir, irv2_context **keep)
{
    setenv("IRV2_CLBLAST_TUNING", dir, 1);
    irv2_context *ctx = NULL;
    irv2_status st = irv2_context_create(test_device(), &ctx);
    unsetenv("IRV2_CLBLAST_TUNING");
    if (keep) *keep = ctx;
    else irv2_context_free(ctx);
    return st;
}

static int setup(void **state)
{
    (void)state;
    irv2_context *ctx = NULL;
    if (irv2_context_create(test_device(), &ctx) != IRV2_OK) return -1;
    snprintf(g_device, sizeof g_device, "%s", ctx->info.name);
    assert_string_equal(ctx->clblast_tuning, ""); /* nothing applied without the variable */
    irv2_context_free(ctx);
    return 0;
}

/* C = A B through CLBlast against a double-precision loop. */
static void check_sgemm(irv2_context *ctx, int m, int n, int k)
{
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c = malloc(sizeof(float) * m * n);
    assert_true(a && b && c);
    test_fill_random(a, (size_t)m * k, 11, -1.0f, 1.0f);
    test_fill_random(b, (size_t)k * n, 12, -1.0f, 1.0f);
    cl_mem da, db, dc;
    assert_int_equal(ctx_buffer(ctx, sizeof(float) * m * k, CL_MEM_READ_ONLY, "A", &da), IRV2_OK);
    assert_int_equal(ctx_buffer(ctx, sizeof(float) * k * n, CL_MEM_READ_ONLY, "B", &db), IRV2_OK);
    assert_int_equal(ctx_buffer(ctx, sizeof(float) * m * n, CL_MEM_READ_WRITE, "C", &dc), IRV2_OK);
    assert_int_equal(clEnqueueWriteBuffer(ctx->queue, da, CL_TRUE, 0, sizeof(float) * m * k, a,
                                          0, NULL, NULL),
                     CL_SUCCESS);
    assert_int_equal(clEnqueueWriteBuffer(ctx->queue, db, CL_TRUE, 0, sizeof(float) * k * n, b,
                                          0, NULL, NULL),
                     CL_SUCCESS);
    op_launch gemm;
    gemm_clblast_op(&(op_sgemm){m, n, k, {da, 0}, {db, 0}, {dc, 0}, 0.0f, 0}, &gemm);
    assert_int_equal(op_enqueue(ctx, &gemm, NULL), IRV2_OK);
    assert_int_equal(clEnqueueReadBuffer(ctx->queue, dc, CL_TRUE, 0, sizeof(float) * m * n, c, 0,
                                         NULL, NULL),
                     CL_SUCCESS);
    /* k = 200 products of values in [-1, 1]: fp32 accumulation errs by about 1e-5 at most */
    double worst = 0.0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double ref = 0.0;
            for (int p = 0; p < k; p++) ref += (double)a[i * k + p] * b[p * n + j];
            double err = fabs(ref - c[i * n + j]);
            if (err > worst) worst = err;
        }
    print_message("  SGEMM %dx%dx%d with the tuned parameters: max|err| %.2e\n", m, n, k, worst);
    assert_true(worst < 1e-4);
    clReleaseMemObject(da), clReleaseMemObject(db), clReleaseMemObject(dc);
    free(a), free(b), free(c);
}

static void test_applied_for_this_device(void **state)
{
    (void)state;
    const char *names[3] = {"clblast_xgemm_1_32.json", "clblast_xgemm_1_64.json",
                            "other_device.json"};
    const char *texts[3] = {result_json(g_device, "32", "Xgemm", XGEMM_PARAMS),
                            result_json(g_device, "64", "Xgemm", "KWG=1"),
                            result_json("some other device", "32", "Xgemm", "KWG=1")};
    irv2_context *ctx = NULL;
    assert_int_equal(create_with(folder("clblast-ok", 3, names, texts), &ctx), IRV2_OK);
    /* only the single-precision result for this device counts (the others would be refused) */
    assert_int_equal(strlen(ctx->clblast_tuning), 16);
    assert_true(ctx->info.clblast_tuned);
    check_sgemm(ctx, 67, 129, 200);
    irv2_context_free(ctx);

    /* the results of other devices alone change nothing */
    assert_int_equal(create_with(folder("clblast-other", 2, names + 1, texts + 1), &ctx), IRV2_OK);
    assert_string_equal(ctx->clblast_tuning, "");
    assert_false(ctx->info.clblast_tuned);
    irv2_context_free(ctx);
}

static void expect_failure(const char *leaf, const char *text, irv2_status want,
                           const char *needle)
{
    const char *name = "clblast_xgemm_1_32.json";
    const char *dir = folder(leaf, 1, &name, &text);
    assert_int_equal(create_with(dir, NULL), want);
    print_message("  %s -> %s\n", leaf, irv2_last_error());
    assert_non_null(strstr(irv2_last_error(), needle));
    assert_non_null(strstr(irv2_last_error(), dir)); /* names the file */
}

static void test_bad_results_fail(void **state)
{
    (void)state;
    expect_failure("clblast-not-json", "{\"device\": ", IRV2_ERR_FORMAT, "not JSON");
    expect_failure("clblast-no-fields", "{\"precision\": \"32\"}", IRV2_ERR_FORMAT,
                   "not a CLBlast tuner result");
    expect_failure("clblast-bad-params", result_json(g_device, "32", "Xgemm", "KWG=32 MWG"),
                   IRV2_ERR_FORMAT, "bad best_parameters");
    expect_failure("clblast-bad-value", result_json(g_device, "32", "Xgemm", "KWG=x"),
                   IRV2_ERR_FORMAT, "bad best_parameters");
    /* well-formed, but not Xgemm's whole parameter set: CLBlast refuses it */
    expect_failure("clblast-incomplete", result_json(g_device, "32", "Xgemm", "KWG=32 MWG=64"),
                   IRV2_ERR_CLBLAST, "refused");
    expect_failure("clblast-unknown-kernel",
                   result_json(g_device, "32", "NoSuchKernel", XGEMM_PARAMS), IRV2_ERR_CLBLAST,
                   "NoSuchKernel");

    assert_int_equal(create_with(test_tmp_path("clblast-no-such-folder"), NULL), IRV2_ERR_IO);
    print_message("  missing folder -> %s\n", irv2_last_error());
    assert_non_null(strstr(irv2_last_error(), "clblast-no-such-folder"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applied_for_this_device),
        cmocka_unit_test(test_bad_results_fail),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
