/* test_tune.c: the tuner (host/plan/tune.c): what it chooses in each GEMM mode and tuning
 * mode, that it measures on its own buffers, remembers decisions on disk at once, and replaces
 * entries that do not name a candidate; the progress reports of a plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ops/conv_family.h"
#include "plan/progress.h"
#include "plan/tune.h"
#include "runtime/cache.h"
#include "runtime/table.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
    assert_ok(tuner_create(g_ctx, NULL, &t));
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

/* The form with its refinement (chunks, slices) cleared. */
static conv_form unrefined(conv_form f)
{
    if (f.family == CONV_WG || f.family == CONV_SIMT) f.p.wg.slices = 0;
    else if (f.family != CONV_CLBLAST) f.p.vec.kchunk = 0;
    return f;
}

/* f is one of c[0..n), or a refinement of one. */
static int is_candidate(const conv_form *f, const conv_form *c, size_t n)
{
    const conv_form base = unrefined(*f);
    for (size_t i = 0; i < n; i++)
        if (conv_form_equal(&c[i], &base)) return 1;
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
    free(g_ctx->cache_dir); /* the context's cache folder, as if opened with it */
    if (!(g_ctx->cache_dir = strdup(g_dir))) return -1;
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
    return conv_candidates(g_ctx, &job->shape, 1, ROWS_OWN, 0, c, 64);
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
    assert_true(f.family != CONV_CLBLAST);
    assert_true(is_candidate(&f, c, n));
    size_t len;
    char *text = cache_read(g_path, &len);
    assert_non_null(text);
    assert_int_equal(strchr(text, '\n') - text + 1, (long)len); /* one decision */
    char written[64];
    conv_form_format(&f, written, sizeof written);
    assert_non_null(strstr(text, written));
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
    assert_true(conv_form_equal(&again, &first));
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
    assert_true(again.family != CONV_CLBLAST);
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
    assert_int_equal(choose(&gemm).family, CONV_CLBLAST);
    assert_int_equal(test_file_exists(g_path), 0);
    tune_job conv = job_new(IRV2_GEMM_CLBLAST, 8, 8, 3, 1, 9);
    assert_true(choose(&conv).family != CONV_CLBLAST);
    gemm.mode = IRV2_GEMM_AUTO, gemm.parts = 2, gemm.from[1] = 20;
    assert_true(choose(&gemm).family != CONV_CLBLAST);
    job_free(&gemm);
    job_free(&conv);
}

/* IRV2_TUNE and the modes: off/0, fast (also unset or empty), full/1; anything else is refused
 * naming the value, by the tuner and by irv2_model_load. */
static void test_tune_modes(void **state)
{
    (void)state;
    static const struct {
        const char *env;
        irv2_tune_mode mode;
    } cases[] = {{NULL, IRV2_TUNE_FAST}, {"", IRV2_TUNE_FAST},    {"fast", IRV2_TUNE_FAST},
                 {"0", IRV2_TUNE_OFF},   {"off", IRV2_TUNE_OFF},  {"full", IRV2_TUNE_FULL},
                 {"1", IRV2_TUNE_FULL}};
    irv2_model_options o;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].env) assert_int_equal(setenv("IRV2_TUNE", cases[i].env, 1), 0);
        else assert_int_equal(unsetenv("IRV2_TUNE"), 0);
        irv2_model_options_init(&o);
        assert_ok(irv2_model_options_from_env(&o));
        /* unset or empty leaves the default, which a model runs as fast */
        assert_int_equal(o.tune, cases[i].env && *cases[i].env ? cases[i].mode
                                                               : IRV2_TUNE_DEFAULT);
        if (cases[i].env && *cases[i].env) {
            irv2_tune_mode parsed;
            assert_ok(irv2_tune_mode_parse(cases[i].env, &parsed));
            assert_int_equal(parsed, cases[i].mode);
        }
    }
    assert_int_equal(setenv("IRV2_TUNE", "fastest", 1), 0);
    irv2_model_options_init(&o);
    o.tune = IRV2_TUNE_FULL;
    assert_int_equal(irv2_model_options_from_env(&o), IRV2_ERR_INVALID_ARGUMENT);
    assert_string_equal(irv2_last_error(), "IRV2_TUNE=fastest: expected off, fast or full");
    assert_int_equal(o.tune, IRV2_TUNE_FULL); /* left as it was */
    irv2_model *model = NULL;
    assert_int_equal(irv2_model_load(g_ctx, "synthetic:1", NULL, &model),
                     IRV2_ERR_INVALID_ARGUMENT);
    assert_null(model);
    /* options given are not the environment's: the bad variable is not read */
    irv2_model_options_init(&o);
    o.tune = IRV2_TUNE_OFF;
    assert_ok(irv2_model_load(g_ctx, "synthetic:1", &o, &model));
    irv2_model_free(model);
    o.tune = (irv2_tune_mode)9;
    assert_int_equal(irv2_model_load(g_ctx, "synthetic:1", &o, &model),
                     IRV2_ERR_INVALID_ARGUMENT);
    assert_int_equal(unsetenv("IRV2_TUNE"), 0);
}

static void count_report(void *user, const irv2_progress *p)
{
    (void)p;
    ++*(unsigned *)user;
}

/* Fast mode times a short list: its choice is one of the fast tilings (or another family);
 * its decision is saved at once (before the tuner is freed) under a key of its own, and a
 * full decision for the same conv, once there, is what fast mode takes. */
static void test_fast_mode(void **state)
{
    (void)state;
    tune_job job = job_new(IRV2_GEMM_NATIVE, 24, 40, 3, 1, 15);
    job.tune = IRV2_TUNE_FAST;
    tuner *t;
    conv_form fast, full;
    progress pr;
    unsigned reports = 0;
    progress_begin(&pr, count_report, &reports, 1);
    progress_stage(&pr, "tuning", 1);
    assert_ok(tuner_create(g_ctx, NULL, &t));
    tuner_report_to(t, &pr, "a conv");
    assert_ok(tune_choose(t, &job, &fast));
    /* the start of the timing was reported, then each candidate timed, as the plan's layer in
     * progress */
    assert_true(reports > 1);
    assert_int_equal(pr.p.measured, reports - 1);
    assert_int_equal(pr.p.done, 0);
    assert_string_equal(pr.p.layer, "a conv");
    size_t len;
    char *text = cache_read(g_path, &len); /* already on disk: the tuner is still open */
    assert_non_null(text);
    assert_non_null(strstr(text, "|fast\t"));
    free(text);
    tuner_free(t);
    char written[64];
    conv_form_format(&fast, written, sizeof written);
    print_message("  fast: %s\n", written);
    if (fast.family != CONV_WG && fast.family != CONV_SIMT && fast.family != CONV_CLBLAST)
        assert_true(conv_fast_tiling(g_ctx, &fast));
    job.tune = IRV2_TUNE_FULL;
    full = choose(&job);
    text = cache_read(g_path, &len);
    assert_non_null(text);
    assert_int_equal(strchr(strchr(text, '\n') + 1, '\n') - text + 1, (long)len); /* two */
    free(text);
    forget_decisions();
    job.tune = IRV2_TUNE_FAST;
    conv_form again = choose(&job);
    assert_true(conv_form_equal(&again, &full));
    job_free(&job);
}

/* Reports of a plan's progress: tuning (one per conv step), then compiling (one per step and
 * the head), then in the first run caching (one per program whose binary was not yet in the
 * cache, named by its .cl file), counts rising to their totals, the batch, times that do not
 * go backwards. */
typedef struct reports {
    unsigned tuning, compiling, caching, tuning_total, compiling_total, last_total, batch, bad;
    double last_elapsed;
} reports;

static void on_progress(void *user, const irv2_progress *p)
{
    reports *r = user;
    const int tuning = strcmp(p->stage, "tuning") == 0, caching = strcmp(p->stage, "caching") == 0;
    unsigned *count = tuning ? &r->tuning : caching ? &r->caching : &r->compiling;
    if (!tuning && !caching && strcmp(p->stage, "compiling") != 0) r->bad++;
    if (p->done != *count + 1 || p->done > p->total || p->elapsed_s < r->last_elapsed ||
        !p->layer || !*p->layer || p->eta_s < 0 || (p->done == p->total && p->eta_s != 0))
        r->bad++;
    const char *dot = p->layer ? strrchr(p->layer, '.') : NULL;
    if (caching && (!dot || strcmp(dot, ".cl") != 0)) r->bad++;
    if (tuning) r->tuning_total = p->total;
    else if (r->tuning != r->tuning_total) r->bad++; /* tuning is over by then */
    if (caching && r->compiling != r->compiling_total) r->bad++; /* and compiling */
    if (!tuning && !caching) r->compiling_total = p->total;
    *count = p->done;
    if (!caching) r->last_total = p->total;
    r->batch = p->batch;
    r->last_elapsed = p->elapsed_s;
}

static void test_progress(void **state)
{
    (void)state;
    assert_int_equal(setenv("IRV2_TUNE", "0", 1), 0);
    reports r = {0};
    irv2_context_options copt;
    irv2_context_options_init(&copt);
    assert_ok(irv2_context_options_from_env(&copt));
    copt.device = test_device(), copt.progress = on_progress, copt.progress_user = &r;
    irv2_context *ctx = NULL;
    assert_ok(irv2_context_open(&copt, &ctx));
    irv2_model_options opt;
    irv2_model_options_init(&opt);
    assert_ok(irv2_model_options_from_env(&opt));
    opt.gemm = IRV2_GEMM_NATIVE;
    irv2_model *model = NULL;
    float *in = calloc(2 * 3 * 299 * 299, sizeof(float)), out[2 * 1000];
    assert_non_null(in);
    assert_ok(irv2_model_load(ctx, "synthetic:1", &opt, &model));
    assert_ok(irv2_model_run(model, in, 2, out, 0));
    print_message("  %u tuning, %u compiling and %u caching reports, batch %u, %.2f s\n",
                  r.tuning, r.compiling, r.caching, r.batch, r.last_elapsed);
    assert_int_equal(r.bad, 0);
    assert_true(r.tuning > 100); /* the network's conv steps */
    assert_int_equal(r.compiling, r.last_total);
    assert_true(r.compiling > r.tuning);
    assert_int_equal(r.batch, 2);
    irv2_model_free(model);
    irv2_context_free(ctx);
    free(in);
}

/* Two processes saving decisions at once (as two first runs tuning together do) keep every
 * one: each save merges the file under a lock before replacing it. */
static void test_concurrent_saves(void **state)
{
    (void)state;
    enum { KEYS = 40 };
    pid_t pids[2];
    for (int c = 0; c < 2; c++) {
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0) {
            table *t = table_new(g_dir, "tuning.txt");
            char key[64];
            for (int i = 0; t && i < KEYS; i++) {
                snprintf(key, sizeof key, "process %d key %d", c, i);
                if (table_set(t, key, "direct 8 8 0") != 0) _exit(2);
                table_save(t);
            }
            table_free(t);
            _exit(t ? 0 : 2);
        }
    }
    for (int c = 0; c < 2; c++) {
        int status = 0;
        assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    table *t = table_new(g_dir, "tuning.txt");
    assert_non_null(t);
    char key[64];
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < KEYS; i++) {
            snprintf(key, sizeof key, "process %d key %d", c, i);
            if (!table_get(t, key)) fail_msg("lost: %s", key);
        }
    assert_int_equal(table_count(t), 2 * KEYS);
    table_free(t);
}

/* Tuning off: the default form, nothing measured or saved. */
static void test_untuned_default(void **state)
{
    (void)state;
    tune_job jobs[2] = {job_new(IRV2_GEMM_AUTO, 32, 48, 1, 1, 6),
                        job_new(IRV2_GEMM_AUTO, 16, 16, 3, 1, 12)};
    for (int i = 0; i < 2; i++) {
        jobs[i].tune = IRV2_TUNE_OFF;
        conv_form f = choose(&jobs[i]), d = conv_default_form(g_ctx, &jobs[i].shape);
        assert_true(conv_form_equal(&f, &d));
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
        cmocka_unit_test_setup_teardown(test_tune_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_saves, setup, teardown),
    };
    return cmocka_run_group_tests_name("test_tune", tests, group_setup, group_teardown);
}
