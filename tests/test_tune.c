/* test_tune.c: the tuner (host/plan/tune.c): what it chooses in each GEMM mode, that it
 * measures on its own buffers, remembers decisions on disk, and replaces entries that do not
 * name a candidate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "plan/tune.h"
#include "runtime/cache.h"
#include "runtime/table.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static irv2_context *g_ctx;
static char g_dir[1024], g_path[1100];

#define assert_ok(expr)                                                                       \
    do {                                                                                      \
        irv2_status st_ = (expr);                                                             \
        if (st_ != IRV2_OK) print_message("%s: %s\n", #expr, irv2_last_error());              \
        assert_int_equal(st_, IRV2_OK);                                                       \
    } while (0)

/* A conv's job with random weights (freed by job_free). */
static tune_job job_new(irv2_gemm_backend mode, int cin, int cout, int k, int stride, int h)
{
    conv_shape s = {.cin = cin, .cout = cout, .kh = k, .kw = k, .stride = stride, .ph = k / 2,
                    .pw = k / 2, .n = 1, .h = h, .w = h};
    if (k == 1 && stride == 1) s.h = 1, s.w = h * h;
    assert_ok(conv_shape_finish(&s));
    size_t wcount = (size_t)cout * cin * k * k;
    float *w = malloc(wcount * sizeof *w), *bias = malloc((size_t)cout * sizeof *bias);
    assert_true(w && bias);
    test_fill_random(w, wcount, 7102, -0.5f, 0.5f);
    test_fill_random(bias, (size_t)cout, 7103, -0.5f, 0.5f);
    return (tune_job){.mode = mode, .shape = s, .epi = {1, 0, 0, 0}, .parts = 1, .weights = w,
                      .bias = bias};
}

static void job_free(tune_job *job)
{
    free((void *)job->weights);
    free((void *)job->bias);
}

/* One choice through a fresh tuner, saved to disk as the plan does. */
static conv_form choose(const tune_job *job)
{
    tuner *t;
    conv_form f;
    assert_ok(tuner_create(g_ctx, &t));
    assert_ok(tune_choose(t, job, &f));
    tuner_free(t);
    return f;
}

/* Drops the context's decisions, so the next choice reads tuning.txt again, as a new process
 * would. */
static void forget_decisions(void)
{
    table_free(g_ctx->choices);
    g_ctx->choices = NULL;
}

static int is_candidate(const conv_form *f, const conv_form *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].method == f->method && c[i].tiling.vw == f->tiling.vw &&
            c[i].tiling.tm == f->tiling.tm)
            return 1;
    return 0;
}

/* A fresh cache folder per test; tuning on. */
static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s", test_tmp_path("tune-cache"));
    test_remove_tree(g_dir);
    if (mkdir(g_dir, 0755) != 0) return -1;
    snprintf(g_path, sizeof g_path, "%s/tuning.txt", g_dir);
    forget_decisions();
    return setenv("IRV2_CACHE_DIR", g_dir, 1) || unsetenv("IRV2_TUNE");
}

static int teardown(void **state)
{
    (void)state;
    forget_decisions();
    test_remove_tree(g_dir);
    return unsetenv("IRV2_TUNE");
}

/* irv2's own candidates for the job: both families, each where the context offers it
 * (IRV2_KERNELS). */
static size_t native_candidates(const tune_job *job, conv_form *c)
{
    size_t n = conv_candidates(g_ctx, &job->shape, 1, c, 64);
    return n + conv_wg_candidates(g_ctx, &job->shape, 1, c + n, 64 - n);
}

/* Native mode picks one of irv2's own candidates (or a refinement) and saves one decision. */
static void test_native_choice_is_a_candidate(void **state)
{
    (void)state;
    tune_job job = job_new(IRV2_GEMM_NATIVE, 24, 40, 3, 2, 19);
    conv_form c[64];
    size_t n = native_candidates(&job, c);
    assert_true(n > 0);
    conv_form f = choose(&job);
    assert_true(f.method != CONV_CLBLAST);
    assert_true(is_candidate(&f, c, n));
    size_t len;
    char *text = cache_read(g_path, &len);
    assert_non_null(text);
    assert_int_equal(strchr(text, '\n') - text + 1, (long)len); /* one decision */
    assert_non_null(strstr(text, conv_method_name(f.method)));
    free(text);
    job_free(&job);
}

/* A remembered decision is used as it is: the second choice (from disk) equals the first. */
static void test_decision_remembered(void **state)
{
    (void)state;
    tune_job job = job_new(IRV2_GEMM_NATIVE, 16, 24, 1, 1, 9);
    conv_form first = choose(&job);
    forget_decisions();
    size_t len;
    char *before = cache_read(g_path, &len);
    assert_non_null(before);
    conv_form again = choose(&job);
    assert_int_equal(again.method, first.method);
    assert_int_equal(again.tiling.vw, first.tiling.vw);
    assert_int_equal(again.tiling.tm, first.tiling.tm);
    assert_int_equal(again.kchunk, first.kchunk);
    char *after = cache_read(g_path, &len);
    assert_non_null(after);
    assert_string_equal(before, after);
    free(before), free(after);
    job_free(&job);
}

/* A decision on disk that names no candidate (here a tiling no kernel has) is measured again
 * and replaced, so later starts find a valid one rather than measuring at each. */
static void test_unreadable_entry_replaced(void **state)
{
    (void)state;
    tune_job job = job_new(IRV2_GEMM_NATIVE, 17, 21, 1, 1, 7);
    choose(&job);
    size_t len;
    char *text = cache_read(g_path, &len), *tab = text ? strchr(text, '\t') : NULL;
    assert_non_null(tab);
    *tab = '\0';
    char key[600], bad[700];
    snprintf(key, sizeof key, "%s\t", text);
    snprintf(bad, sizeof bad, "%sfused 16 99 0\n", key);
    assert_int_equal(test_write_file(g_path, bad, strlen(bad)), 0);
    forget_decisions();
    conv_form again = choose(&job), c[64];
    assert_true(again.method != CONV_CLBLAST);
    assert_true(is_candidate(&again, c, native_candidates(&job, c)));
    char *now = cache_read(g_path, &len);
    assert_non_null(now);
    assert_null(strstr(now, "16 99"));
    assert_true(strncmp(now, key, strlen(key)) == 0);
    free(now), free(text);
    job_free(&job);
}

/* --gemm clblast: CLBlast for a 1x1 conv without measuring (nothing saved), irv2's kernels
 * where CLBlast has no form; stacked siblings (several output parts) never go to CLBlast. */
static void test_clblast_mode(void **state)
{
    (void)state;
    tune_job gemm = job_new(IRV2_GEMM_CLBLAST, 32, 48, 1, 1, 6);
    assert_int_equal(choose(&gemm).method, CONV_CLBLAST);
    assert_int_equal(test_file_exists(g_path), 0);
    tune_job conv = job_new(IRV2_GEMM_CLBLAST, 8, 8, 3, 1, 9);
    assert_true(choose(&conv).method != CONV_CLBLAST);
    gemm.mode = IRV2_GEMM_AUTO, gemm.parts = 2, gemm.from[1] = 20;
    assert_true(choose(&gemm).method != CONV_CLBLAST);
    job_free(&gemm);
    job_free(&conv);
}

/* IRV2_TUNE=0: the default form, nothing measured or saved. */
static void test_untuned_default(void **state)
{
    (void)state;
    assert_int_equal(setenv("IRV2_TUNE", "0", 1), 0);
    tune_job jobs[2] = {job_new(IRV2_GEMM_AUTO, 32, 48, 1, 1, 6),
                        job_new(IRV2_GEMM_AUTO, 16, 16, 3, 1, 12)};
    for (int i = 0; i < 2; i++) {
        conv_form f = choose(&jobs[i]), d = conv_default_form(g_ctx, &jobs[i].shape);
        assert_int_equal(f.method, d.method);
        assert_int_equal(f.tiling.vw, d.tiling.vw);
        assert_int_equal(f.tiling.tm, d.tiling.tm);
        job_free(&jobs[i]);
    }
    assert_int_equal(test_file_exists(g_path), 0);
}

static int group_setup(void **state)
{
    (void)state;
    irv2_status st = irv2_context_create(test_device(), &g_ctx);
    if (st != IRV2_OK) {
        print_error("irv2_context_create(\"%s\"): %s\n", test_device(), irv2_last_error());
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    irv2_context_free(g_ctx);
    return unsetenv("IRV2_CACHE_DIR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_native_choice_is_a_candidate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decision_remembered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_entry_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clblast_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untuned_default, setup, teardown),
    };
    return cmocka_run_group_tests_name("test_tune", tests, group_setup, group_teardown);
}
