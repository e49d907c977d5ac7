/* test_faults.c: device faults that a real device cannot be made to produce on demand, injected
 * through host/runtime/fault.h, each checked for its status, its message, the state it leaves behind
 * (no device buffer or program leaked: the cl_context's reference count, which every live
 * buffer, program and queue holds, is back where it was) and a context still usable after it:
 *  - a device allocation fails (at the first, second, middle and last allocation of a plan):
 *    IRV2_ERR_DEVICE_MEMORY naming the device; afterwards the same model runs and its logits
 *    equal a clean run's bit for bit;
 *  - a program fails to build (a deliberately broken source, so the log is the compiler's):
 *    IRV2_ERR_BUILD, and irv2_context_build_log() holds the compiler's diagnostic;
 *  - the device has no compiler: with an empty binary cache, IRV2_ERR_UNSUPPORTED naming the
 *    device; with a warm cache, the run succeeds from cached binaries with identical logits;
 *    with a corrupt cache, the binaries are rejected (compiler: rebuilt silently; none:
 *    IRV2_ERR_UNSUPPORTED);
 *  - the same faults through the CLI (IRV2_FAULT=...): exit status 1, one line naming the
 *    device (plus the build log for a build failure).
 * IRV2_TUNE=0 keeps kernel tuning out; each case gets its own IRV2_CACHE_DIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/context.h"
#include "runtime/fault.h"
#include "runtime/program.h"
#include "irv2.h"
#include "net/synthetic.h"
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IMAGE (3u * 299u * 299u)
#define CLASSES 1000u

typedef struct faults {
    int no_device;
    float *input;            /* 1 x 3 x 299 x 299 */
    float *ref;              /* synthetic:1's logits on input from a clean run */
    char base[4096];         /* this process's scratch folder */
    int ncache;
} faults;

/* ---- scratch folders -------------------------------------------------------------------- */

/* Points IRV2_CACHE_DIR at a new empty folder; dst receives its path. */
static const char *fresh_cache(faults *s, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s/cache%d", s->base, ++s->ncache);
    assert_int_equal(mkdir(dst, 0755), 0);
    assert_int_equal(setenv("IRV2_CACHE_DIR", dst, 1), 0);
    return dst;
}

/* The cached program binaries in dir. */
static int count_binaries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "program-", 8) == 0 && strstr(e->d_name, ".bin") != NULL;
    closedir(d);
    return n;
}

/* ---- models and runs -------------------------------------------------------------------- */

static irv2_context *make_context(void)
{
    irv2_context *ctx = NULL;
    irv2_status st = irv2_context_create(NULL, &ctx);
    if (st != IRV2_OK) fail_msg("context: %s: %s", irv2_status_string(st), irv2_last_error());
    return ctx;
}

static irv2_model *load(irv2_context *ctx, const char *weights)
{
    irv2_model *m = NULL;
    irv2_status st = irv2_model_load(ctx, weights, NULL, &m);
    if (st != IRV2_OK) fail_msg("%s: %s: %s", weights, irv2_status_string(st), irv2_last_error());
    return m;
}

/* Runs at batch 1 and returns the status; out holds CLASSES floats. */
static irv2_status run(irv2_model *m, const faults *s, float *out, const char *what)
{
    double t0 = test_now_s();
    irv2_status st = irv2_model_run(m, s->input, 1, out, 0);
    print_message("  %s: %s in %.2f s%s%s\n", what, irv2_status_string(st), test_now_s() - t0,
                  st ? ": " : "", st ? irv2_last_error() : "");
    return st;
}

static void run_ok_and_match(irv2_model *m, const faults *s, const char *what)
{
    float out[CLASSES];
    irv2_status st = run(m, s, out, what);
    if (st != IRV2_OK) fail_msg("%s: %s: %s", what, irv2_status_string(st), irv2_last_error());
    if (memcmp(out, s->ref, sizeof out) != 0) {
        for (unsigned i = 0; i < CLASSES; i++)
            if (memcmp(&out[i], &s->ref[i], sizeof(float)) != 0)
                fail_msg("%s: logit %u is %.9g, the clean run gave %.9g", what, i, out[i],
                         s->ref[i]);
    }
}

/* The device buffers the context holds (made by ctx_buffer and not released): a count back
 * at its earlier value means no buffer was leaked. Counted by irv2 itself rather than read
 * from CL_CONTEXT_REFERENCE_COUNT, which the OpenCL specification keeps for debugging only:
 * Intel's runtime reports 1 whatever is held, and PoCL's count moves with commands still
 * being retired. */
static size_t held_buffers(const irv2_context *ctx)
{
    assert_int_equal(clFinish(ctx->queue), CL_SUCCESS);
    return ctx->live_buffers;
}

static void expect_message(const char *m1, const char *m2)
{
    const char *msg = irv2_last_error();
    if (!strstr(msg, m1)) fail_msg("message \"%s\" does not name '%s'", msg, m1);
    if (m2 && !strstr(msg, m2)) fail_msg("message \"%s\" does not say '%s'", msg, m2);
}

#define SKIP_WITHOUT_DEVICE(s)      \
    do {                            \
        if ((s)->no_device) skip(); \
    } while (0)

/* One case's context and model, on the current binary cache. */
typedef struct session {
    irv2_context *ctx;
    irv2_model *m;
    const char *device;
    size_t buffers; /* the context's buffers before the model was loaded */
} session;

static void open_session(session *e)
{
    e->ctx = make_context();
    e->device = irv2_context_device(e->ctx)->name;
    e->buffers = held_buffers(e->ctx);
    e->m = load(e->ctx, "synthetic:1");
}

static void close_session(session *e)
{
    irv2_model_free(e->m);
    irv2_context_free(e->ctx);
    memset(e, 0, sizeof *e);
}

/* A first process-like pass with the compiler: a clean run, which fills the cache. */
static void fill_cache(const faults *s, const char *cache)
{
    session e;
    open_session(&e);
    run_ok_and_match(e.m, s, "with the compiler, filling the cache");
    close_session(&e);
    int binaries = count_binaries(cache);
    print_message("  %d program binaries cached\n", binaries);
    assert_true(binaries > 0);
}

/* ---- allocation failure ----------------------------------------------------------------- */

static void test_alloc_failure(void **state)
{
    faults *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char cache[4200];
    fresh_cache(s, cache, sizeof cache);
    session e;
    open_session(&e);

    /* A clean run builds every program (kept by the context) and counts the allocations. */
    irv2_fault_set(FAULT_ALLOC, 1000000000u);
    float out[CLASSES];
    assert_int_equal(run(e.m, s, out, "clean run counting allocations"), IRV2_OK);
    unsigned allocs = irv2_fault_checks(FAULT_ALLOC);
    irv2_fault_clear();
    print_message("  a batch-1 plan makes %u device allocations\n", allocs);
    assert_true(allocs > 10);
    irv2_model_free(e.m);
    const size_t buffers = held_buffers(e.ctx);

    e.m = load(e.ctx, "synthetic:1");
    const unsigned at[] = {1, 2, allocs / 2, allocs};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "allocation %u of %u fails", at[i], allocs);
        irv2_fault_set(FAULT_ALLOC, at[i]);
        assert_int_equal(run(e.m, s, out, what), IRV2_ERR_DEVICE_MEMORY);
        assert_int_equal(irv2_fault_hits(FAULT_ALLOC), 1); /* it stopped at the first */
        assert_int_equal(irv2_fault_checks(FAULT_ALLOC), at[i]);
        expect_message(e.device, "cannot allocate");
        assert_int_equal(irv2_context_cl_error(e.ctx), CL_MEM_OBJECT_ALLOCATION_FAILURE);
        assert_int_equal(irv2_model_device_bytes(e.m), 0);
        assert_int_equal(held_buffers(e.ctx), buffers); /* the partial plan was released */
    }
    irv2_fault_clear();
    run_ok_and_match(e.m, s, "after the faults, the same model");
    irv2_model_free(e.m);
    e.m = NULL;
    assert_int_equal(held_buffers(e.ctx), buffers);
    close_session(&e);
    test_remove_tree(cache);
}

/* ---- build failure ---------------------------------------------------------------------- */

static void test_build_failure(void **state)
{
    faults *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char cache[4200];
    fresh_cache(s, cache, sizeof cache);
    session e;
    open_session(&e);
    assert_string_equal(irv2_context_build_log(e.ctx), "");
    float out[CLASSES];
    const unsigned at[] = {1, 3};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "program build %u fails", at[i]);
        irv2_fault_set(FAULT_BUILD, at[i]);
        assert_int_equal(run(e.m, s, out, what), IRV2_ERR_BUILD);
        assert_int_equal(irv2_fault_hits(FAULT_BUILD), 1);
        expect_message(e.device, "building cl/");
        assert_int_equal(irv2_context_cl_error(e.ctx), CL_BUILD_PROGRAM_FAILURE);
        const char *log = irv2_context_build_log(e.ctx);
        print_message("  build log: %.200s\n", log);
        /* the compiler's own diagnostic, naming the undeclared identifier */
        assert_non_null(strstr(log, "irv2_injected_build_fault"));
        assert_int_equal(irv2_model_device_bytes(e.m), 0);
        /* the partial plan's buffers were released */
        assert_int_equal(held_buffers(e.ctx), e.buffers);
    }
    irv2_fault_clear();
    run_ok_and_match(e.m, s, "after the faults, the same model");
    close_session(&e);
    assert_int_equal(count_binaries(cache) > 0, 1);
    test_remove_tree(cache);
}

/* ---- no compiler ------------------------------------------------------------------------ */

static void test_no_compiler_cold_cache(void **state)
{
    faults *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char cache[4200];
    fresh_cache(s, cache, sizeof cache);
    session e;
    open_session(&e);
    float out[CLASSES];
    irv2_fault_set(FAULT_NO_COMPILER, 1);
    assert_int_equal(run(e.m, s, out, "no compiler, empty cache"), IRV2_ERR_UNSUPPORTED);
    assert_true(irv2_fault_hits(FAULT_NO_COMPILER) >= 1);
    expect_message(e.device, "no OpenCL compiler and no cached binary");
    assert_int_equal(irv2_model_device_bytes(e.m), 0);
    assert_int_equal(held_buffers(e.ctx), e.buffers);
    assert_int_equal(count_binaries(cache), 0);
    /* the same context works once a compiler is there */
    irv2_fault_clear();
    run_ok_and_match(e.m, s, "compiler back, same context");
    close_session(&e);
    test_remove_tree(cache);
}

static void test_no_compiler_warm_cache(void **state)
{
    faults *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char cache[4200];
    fresh_cache(s, cache, sizeof cache);
    fill_cache(s, cache);

    irv2_fault_set(FAULT_NO_COMPILER, 1);
    session e;
    open_session(&e);
    run_ok_and_match(e.m, s, "no compiler, warm cache");
    /* every program came from the cache: the compiler was never asked for */
    assert_int_equal(irv2_fault_hits(FAULT_NO_COMPILER), 0);
    irv2_fault_clear();
    close_session(&e);
    test_remove_tree(cache);
}

/* Damages every cached binary: every other one cut to its first half (a crash mid-copy, a
 * full disk), the others with one byte flipped in the middle (a bad sector). */
static void corrupt_binaries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char path[8300];
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "program-", 8) != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        if (n++ % 2 == 0) {
            assert_int_equal(truncate(path, st.st_size / 2), 0);
            continue;
        }
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        assert_int_equal(fseek(f, st.st_size / 2, SEEK_SET), 0);
        int c = fgetc(f);
        assert_int_equal(fseek(f, st.st_size / 2, SEEK_SET), 0);
        assert_int_equal(fputc(c ^ 0x5a, f), c ^ 0x5a);
        assert_int_equal(fclose(f), 0);
    }
    closedir(d);
    assert_true(n >= 2);
}

static void test_corrupt_binary_cache(void **state)
{
    faults *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char cache[4200];
    fresh_cache(s, cache, sizeof cache);
    fill_cache(s, cache);
    corrupt_binaries(cache);

    /* without a compiler the truncated binaries are refused with a clear status */
    irv2_fault_set(FAULT_NO_COMPILER, 1);
    session e;
    open_session(&e);
    float out[CLASSES];
    assert_int_equal(run(e.m, s, out, "no compiler, corrupt cache"), IRV2_ERR_UNSUPPORTED);
    expect_message(e.device, "no cached binary");
    irv2_fault_clear();
    /* with one they are rebuilt silently */
    run_ok_and_match(e.m, s, "compiler back, corrupt cache");
    close_session(&e);
    test_remove_tree(cache);
}

/* ---- the CLI ---------------------------------------------------------------------------- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Runs `env ENV irv2 run ...` through the shell; returns its exit status, stderr in err. */
static int run_cli(const faults *s, const char *env, const char *input, const char *output,
                   char **err)
{
    const char *cli = getenv("IRV2_CLI");
    if (!cli || !*cli) skip();
    char errfile[4200], cmd[16384];
    snprintf(errfile, sizeof errfile, "%s/cli.stderr", s->base);
    snprintf(cmd, sizeof cmd, "env %s '%s' run -q --weights synthetic:1 --input '%s' --output '%s' "
             "</dev/null >/dev/null 2>'%s'", env, cli, input, output, errfile);
    int rc = system(cmd);
    *err = read_text(errfile);
    assert_non_null(*err);
    remove(errfile);
    print_message("  %s irv2 run -> %d; stderr: %s", env, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1,
                  **err ? *err : "(empty)\n");
    assert_true(WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

/* The CLI with IRV2_FAULT=fault fails with exit status 1, stderr naming the device and
 * saying what (in one line unless log_follows), and no output file. Returns the stderr. */
static const char *expect_cli_fault(const faults *s, const char *cache, const char *fault,
                             const char *paths[2], const char *device, const char *says,
                             int log_follows)
{
    char env[8500], *err;
    snprintf(env, sizeof env, "IRV2_TUNE=0 IRV2_CACHE_DIR='%s' IRV2_FAULT=%s", cache, fault);
    assert_int_equal(run_cli(s, env, paths[0], paths[1], &err), 1);
    assert_non_null(strstr(err, device));
    assert_non_null(strstr(err, says));
    if (!log_follows) assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err));
    assert_false(test_file_exists(paths[1]));
    return err;
}

static void test_cli_faults(void **state)
{
    faults *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char cache[4200], input[4200], output[4200], env[8500], *err;
    fresh_cache(s, cache, sizeof cache);
    snprintf(input, sizeof input, "%s/input.npy", s->base);
    snprintf(output, sizeof output, "%s/out.npy", s->base);
    const char *paths[2] = {input, output};
    uint64_t shape[4] = {1, 3, 299, 299};
    assert_int_equal(irv2_npy_write(input, 4, shape, s->input), IRV2_OK);
    irv2_context *ctx = make_context();
    char device[300];
    snprintf(device, sizeof device, "'%s'", irv2_context_device(ctx)->name);
    irv2_context_free(ctx);

    expect_cli_fault(s, cache, "nocompiler", paths, device, "no OpenCL compiler", 0);
    expect_cli_fault(s, cache, "alloc:5", paths, device, "cannot allocate", 0);
    /* the one-line message, then the compiler's log */
    const char *log = expect_cli_fault(s, cache, "build:2", paths, device, "building cl/", 1);
    assert_non_null(strstr(log, "\nbuild log:\n"));
    assert_non_null(strstr(log, "irv2_injected_build_fault"));

    /* a malformed IRV2_FAULT arms nothing */
    snprintf(env, sizeof env, "IRV2_TUNE=0 IRV2_CACHE_DIR='%s' IRV2_FAULT=alloc:x,nosuch:3", cache);
    assert_int_equal(run_cli(s, env, input, output, &err), 0);
    assert_string_equal(err, "");
    assert_true(test_file_exists(output));
    remove(output);
    remove(input);
    test_remove_tree(cache);
}

/* ---- group setup ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    faults *s = calloc(1, sizeof *s);
    if (!s) return -1;
    *state = s;
    char name[64];
    snprintf(name, sizeof name, "faults_%ld", (long)getpid());
    snprintf(s->base, sizeof s->base, "%s", test_tmp_path(name));
    if (mkdir(s->base, 0755) != 0) return -1;
    setenv("IRV2_TUNE", "0", 1);
    unsetenv("IRV2_FAULT");
    unsigned ndev = 0;
    if (irv2_device_count(&ndev) == IRV2_ERR_NO_PLATFORM) {
        print_message("no OpenCL device (%s): skipping\n", irv2_last_error());
        s->no_device = 1;
        return 0;
    }
    s->input = malloc((size_t)IMAGE * sizeof(float));
    s->ref = malloc((size_t)CLASSES * sizeof(float));
    if (!s->input || !s->ref) return -1;
    synthetic_fill("input", 7, -1.0, 1.0, s->input, IMAGE);
    char cache[4200];
    snprintf(cache, sizeof cache, "%s/cache0", s->base);
    if (mkdir(cache, 0755) != 0 || setenv("IRV2_CACHE_DIR", cache, 1) != 0) return -1;
    irv2_context *ctx = NULL;
    irv2_model *m = NULL;
    irv2_status st = irv2_context_create(NULL, &ctx);
    if (st == IRV2_OK) st = irv2_model_load(ctx, "synthetic:1", NULL, &m);
    if (st == IRV2_OK) st = irv2_model_run(m, s->input, 1, s->ref, 0);
    if (st != IRV2_OK) print_message("clean run: %s\n", irv2_last_error());
    else print_message("device: %s\n", irv2_context_device(ctx)->name);
    irv2_model_free(m);
    irv2_context_free(ctx);
    test_remove_tree(cache);
    return st == IRV2_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    faults *s = *state;
    if (!s) return 0;
    irv2_fault_clear();
    test_remove_tree(s->base);
    free(s->input);
    free(s->ref);
    free(s);
    return 0;
}

/* The error message carries the build log's line that names the error, whatever the compiler
 * prints before it. */
static void test_build_log_headline(void **state)
{
    (void)state;
    char buf[64];
    const char *intel = "Compilation started\n1:1:63: error: use of undeclared identifier 'x'\n"
                        "Compilation failed\n";
    assert_string_equal(build_log_headline(intel, buf, sizeof buf),
                        "1:1:63: error: use of undeclared identifier 'x'");
    assert_string_equal(build_log_headline("\n\nk.cl:3:1: Error: bad\n", buf, sizeof buf),
                        "k.cl:3:1: Error: bad");
    assert_string_equal(build_log_headline("\nno details here\nsecond\n", buf, sizeof buf),
                        "no details here");
    assert_string_equal(build_log_headline(NULL, buf, sizeof buf), "");
    assert_string_equal(build_log_headline("", buf, sizeof buf), "");
    assert_string_equal(build_log_headline("error at the very end", buf, 6), "error");
}

/* A failed assertion must not leave a fault armed for the next test. */
static int clear_faults(void **state)
{
    (void)state;
    irv2_fault_clear();
    return 0;
}

#define TEST(f) cmocka_unit_test_teardown(f, clear_faults)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_alloc_failure),
        TEST(test_build_failure),
        TEST(test_no_compiler_cold_cache),
        TEST(test_no_compiler_warm_cache),
        TEST(test_corrupt_binary_cache),
        TEST(test_cli_faults),
        TEST(test_build_log_headline),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
