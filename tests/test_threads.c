/* test_threads.c: the thread-safety rule of include/irv2.h ("distinct contexts may be used from
 * distinct threads at once") held to: two threads, each creating its own context and model
 * (synthetic:1 and synthetic:2), plan and run concurrently, switching batch size (1, 2, 1) so
 * that plans are torn down and rebuilt while the other thread runs; every result must equal
 * the single-threaded result for its model bit for bit. Once with an empty program cache (both
 * threads compile and write binaries at once), once with the cache they filled. Errors met in
 * a thread are recorded there (with that thread's irv2_last_error()) and asserted afterwards,
 * since cmocka's assertions may only fail on the main thread. IRV2_TUNE=0 keeps tuning out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"
#include "net/synthetic.h"
#include "testutil.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IMAGE (3u * 299u * 299u)
#define CLASSES 1000u
#define MODELS 2
#define ROUNDS 3

static const char *const weights[MODELS] = {"synthetic:1", "synthetic:2"};

/* The batch size of round r: 1, 2, 1, ... */
static unsigned round_batch(int r) { return r % 2 ? 2u : 1u; }

typedef struct threads_state {
    int no_device;
    float *input;                   /* 2 x 3 x 299 x 299 */
    float *ref[MODELS][3];          /* [model][batch]: single-threaded logits */
    char base[4096];
    int ncache;
} threads_state;

typedef struct worker {
    const threads_state *s;
    int model;
    pthread_barrier_t *barrier;
    /* results, read by the main thread after the join */
    int ok_rounds;
    int mismatch_round;             /* -1: none */
    unsigned mismatch_index;
    float got, want;
    irv2_status failed;
    char message[1100];
    double seconds;
} worker;

static void fresh_cache(threads_state *s, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s/cache%d", s->base, ++s->ncache);
    assert_int_equal(mkdir(dst, 0755), 0);
    assert_int_equal(setenv("IRV2_CACHE_DIR", dst, 1), 0);
}

/* ---- the worker thread ------------------------------------------------------------------ */

static void record_failure(worker *w, irv2_status st, const char *what)
{
    w->failed = st;
    snprintf(w->message, sizeof w->message, "%s: %s: %s", what, irv2_status_string(st),
             irv2_last_error());
}

static void *work(void *arg)
{
    worker *w = arg;
    irv2_context *ctx = NULL;
    irv2_model *m = NULL;
    float *out = malloc((size_t)2 * CLASSES * sizeof(float));
    /* everyone waits here, so that context creation and loading overlap too */
    pthread_barrier_wait(w->barrier);
    double t0 = test_now_s();
    irv2_status st = out ? IRV2_OK : IRV2_ERR_HOST_MEMORY;
    if (st == IRV2_OK) st = irv2_context_create(NULL, &ctx);
    if (st != IRV2_OK) record_failure(w, st, "irv2_context_create");
    if (st == IRV2_OK && (st = irv2_model_load(ctx, weights[w->model], NULL, &m)) != IRV2_OK)
        record_failure(w, st, weights[w->model]);
    for (int r = 0; st == IRV2_OK && r < ROUNDS; r++) {
        unsigned batch = round_batch(r);
        st = irv2_model_run(m, w->s->input, batch, out, 0);
        if (st != IRV2_OK) {
            record_failure(w, st, "irv2_model_run");
            break;
        }
        const float *ref = w->s->ref[w->model][batch];
        for (unsigned i = 0; i < batch * CLASSES; i++) {
            if (memcmp(&out[i], &ref[i], sizeof(float)) != 0) {
                w->mismatch_round = r;
                w->mismatch_index = i;
                w->got = out[i], w->want = ref[i];
                st = IRV2_ERR_INVALID_ARGUMENT; /* stop */
                break;
            }
        }
        if (st == IRV2_OK) w->ok_rounds++;
    }
    w->seconds = test_now_s() - t0;
    irv2_model_free(m);
    irv2_context_free(ctx);
    free(out);
    return NULL;
}

static void run_two_threads(threads_state *s)
{
    pthread_barrier_t barrier;
    assert_int_equal(pthread_barrier_init(&barrier, NULL, MODELS), 0);
    worker w[MODELS];
    pthread_t tid[MODELS];
    for (int k = 0; k < MODELS; k++) {
        w[k] = (worker){.s = s, .model = k, .barrier = &barrier, .mismatch_round = -1};
        assert_int_equal(pthread_create(&tid[k], NULL, work, &w[k]), 0);
    }
    for (int k = 0; k < MODELS; k++) assert_int_equal(pthread_join(tid[k], NULL), 0);
    pthread_barrier_destroy(&barrier);
    for (int k = 0; k < MODELS; k++) {
        print_message("  thread %d (%s): %d of %d rounds identical to the single-threaded run, "
                      "%.2f s\n", k, weights[k], w[k].ok_rounds, ROUNDS, w[k].seconds);
        if (w[k].failed) fail_msg("thread %d: %s", k, w[k].message);
        if (w[k].mismatch_round >= 0)
            fail_msg("thread %d (%s), round %d (batch %u): logit %u is %.9g, single-threaded "
                     "%.9g", k, weights[k], w[k].mismatch_round,
                     round_batch(w[k].mismatch_round), w[k].mismatch_index, w[k].got, w[k].want);
        assert_int_equal(w[k].ok_rounds, ROUNDS);
    }
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_two_models_cold_cache(void **state)
{
    threads_state *s = *state;
    if (s->no_device) skip();
    char cache[4200];
    fresh_cache(s, cache, sizeof cache);
    run_two_threads(s);
}

/* Runs after the cold test: both threads now load the binaries it wrote, at once. */
static void test_two_models_warm_cache(void **state)
{
    threads_state *s = *state;
    if (s->no_device) skip();
    run_two_threads(s);
}

/* ---- group setup: the single-threaded references ---------------------------------------- */

static int group_setup(void **state)
{
    threads_state *s = calloc(1, sizeof *s);
    if (!s) return -1;
    *state = s;
    char name[64];
    snprintf(name, sizeof name, "threads_%ld", (long)getpid());
    snprintf(s->base, sizeof s->base, "%s", test_tmp_path(name));
    if (mkdir(s->base, 0755) != 0) return -1;
    setenv("IRV2_TUNE", "0", 1);
    unsigned ndev = 0;
    if (irv2_device_count(&ndev) == IRV2_ERR_NO_PLATFORM) {
        print_message("no OpenCL device (%s): skipping\n", irv2_last_error());
        s->no_device = 1;
        return 0;
    }
    s->input = malloc((size_t)2 * IMAGE * sizeof(float));
    if (!s->input) return -1;
    synthetic_fill("input", 7, -1.0, 1.0, s->input, (size_t)2 * IMAGE);
    char cache[4200];
    snprintf(cache, sizeof cache, "%s/cache0", s->base);
    if (mkdir(cache, 0755) != 0 || setenv("IRV2_CACHE_DIR", cache, 1) != 0) return -1;
    irv2_status st = IRV2_OK;
    for (int k = 0; st == IRV2_OK && k < MODELS; k++) {
        irv2_context *ctx = NULL;
        irv2_model *m = NULL;
        st = irv2_context_create(NULL, &ctx);
        if (st == IRV2_OK) st = irv2_model_load(ctx, weights[k], NULL, &m);
        for (unsigned b = 1; st == IRV2_OK && b <= 2; b++) {
            s->ref[k][b] = malloc((size_t)b * CLASSES * sizeof(float));
            st = s->ref[k][b] ? irv2_model_run(m, s->input, b, s->ref[k][b], 0)
                              : IRV2_ERR_HOST_MEMORY;
        }
        if (st != IRV2_OK) print_message("%s: %s\n", weights[k], irv2_last_error());
        else if (k == 0) print_message("device: %s\n", irv2_context_device(ctx)->name);
        irv2_model_free(m);
        irv2_context_free(ctx);
    }
    test_remove_tree(cache);
    /* the two models must differ, or the test could not tell them apart */
    if (st == IRV2_OK && memcmp(s->ref[0][1], s->ref[1][1], CLASSES * sizeof(float)) == 0) {
        print_message("synthetic:1 and synthetic:2 give the same logits\n");
        return -1;
    }
    return st == IRV2_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    threads_state *s = *state;
    if (!s) return 0;
    for (int i = 1; i <= s->ncache; i++) {
        char cache[4200];
        snprintf(cache, sizeof cache, "%s/cache%d", s->base, i);
        test_remove_tree(cache);
    }
    rmdir(s->base);
    free(s->input);
    for (int k = 0; k < MODELS; k++)
        for (int b = 0; b < 3; b++) free(s->ref[k][b]);
    free(s);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_models_cold_cache),
        cmocka_unit_test(test_two_models_warm_cache),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
