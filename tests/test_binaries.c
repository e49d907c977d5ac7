/* test_binaries.c: programs compiled ahead of time (runtime/binaries.h) on the test device
 * ($IRV2_DEVICE): a folder written from a context that ran the network, then a second context
 * with the compiler disabled (FAULT_NO_COMPILER) taking every program from it alone, with
 * logits equal bit for bit; in the compact kernel set (four programs) and in the device's
 * default kernels; then every way a folder can be wrong, each refused with a message naming
 * the folder, file or program. Untuned (IRV2_TUNE=0): each program is what the plan uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"
#include "runtime/context.h"
#include "runtime/fault.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMAGE (3u * 299u * 299u)
#define CLASSES 1000u

typedef struct state {
    float input[IMAGE];
    char dir[4096];            /* the compact set's folder, written by the first test */
} state;

#define assert_ok(expr)                                                                      \
    do {                                                                                     \
        irv2_status st_ = (expr);                                                            \
        if (st_ != IRV2_OK)                                                                  \
            fail_msg("%s: %s: %s", #expr, irv2_status_string(st_), irv2_last_error());       \
    } while (0)


/* Logits of synthetic:1 on input in a new context (IRV2_KERNELS=kernels, or unset for
 * NULL); with dir, the programs are taken from there with the compiler disabled, else built
 * from source and, with save, written into save. */
static float *logits_of(const float *input, const char *kernels, const char *dir,
                        const char *save, unsigned *programs)
{
    if (kernels) setenv("IRV2_KERNELS", kernels, 1);
    else unsetenv("IRV2_KERNELS");
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    float *out = malloc(CLASSES * sizeof(float));
    assert_non_null(out);
    assert_ok(irv2_context_create(test_device(), &ctx));
    if (dir) {
        assert_ok(irv2_context_load_binaries(ctx, dir));
        irv2_fault_set(FAULT_NO_COMPILER, 1);
    }
    irv2_model_options native = test_model_options(IRV2_GEMM_NATIVE);
    assert_ok(irv2_model_load(ctx, "synthetic:1", &native, &model));
    assert_ok(irv2_model_run(model, input, 1, out, 0));
    if (dir) {
        /* nothing was compiled: the compiler was never even asked for */
        assert_int_equal(irv2_fault_checks(FAULT_NO_COMPILER), 0);
        irv2_fault_clear();
    }
    if (save) assert_ok(irv2_model_save_binaries(model, save, programs));
    irv2_model_free(model);
    irv2_context_free(ctx);
    unsetenv("IRV2_KERNELS");
    return out;
}

static void expect_same(const float *a, const float *b, const char *what)
{
    if (memcmp(a, b, CLASSES * sizeof(float)) != 0) {
        double worst = 0;
        for (unsigned i = 0; i < CLASSES; i++)
            if (fabsf(a[i] - b[i]) > worst) worst = fabsf(a[i] - b[i]);
        fail_msg("%s: logits differ from the source build (max |diff| %g)", what, worst);
    }
}

/* The compact set: four programs (conv_wg.cl, pool.cl, head.cl with and without softmax),
 * and the folder alone runs the network. */
static void test_compact_folder(void **pstate)
{
    state *s = *pstate;
    unsigned programs = 0;
    float *src = logits_of(s->input, "compact", NULL, s->dir, &programs);
    print_message("  compact set: %u programs in %s\n", programs, s->dir);
    assert_int_equal(programs, 4);
    float *bin = logits_of(s->input, NULL, s->dir, NULL, NULL);
    expect_same(src, bin, "compact set from binaries");
    free(src), free(bin);
}

/* The device's own kernels (one program per layer shape and epilogue): more programs, the
 * same guarantee. */
static void test_default_folder(void **pstate)
{
    state *s = *pstate;
    char dir[4200];
    unsigned programs = 0;
    snprintf(dir, sizeof dir, "%s-default", s->dir);
    float *src = logits_of(s->input, NULL, NULL, dir, &programs);
    print_message("  default kernels: %u programs\n", programs);
    assert_true(programs > 4);
    float *bin = logits_of(s->input, NULL, dir, NULL, NULL);
    expect_same(src, bin, "default kernels from binaries");
    /* IRV2_BINARIES does the same at context creation */
    setenv("IRV2_BINARIES", dir, 1);
    irv2_context *ctx = NULL;
    assert_ok(irv2_context_create(test_device(), &ctx));
    assert_non_null(ctx->binaries);
    irv2_context_free(ctx);
    unsetenv("IRV2_BINARIES");
    test_remove_tree(dir);
    free(src), free(bin);
}

/* A copy of the compact folder, to break. */
static void copy_folder(const state *s, const char *to)
{
    char cmd[9000];
    test_remove_tree(to);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", s->dir, to);
    assert_int_equal(system(cmd), 0);
}

/* Replaces the first occurrence of from in file by to. */
static void edit_file(const char *path, const char *from, const char *to)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    size_t len = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    char *at = strstr(text, from);
    assert_non_null(at);
    char *out = malloc(len + strlen(to) + 1);
    assert_non_null(out);
    size_t head = (size_t)(at - text);
    memcpy(out, text, head);
    strcpy(out + head, to);
    strcat(out, at + strlen(from));
    assert_int_equal(test_write_file(path, out, strlen(out)), 0);
    free(text), free(out);
}

/* The status and message of loading dir and running the network from it. */
static irv2_status try_folder(const state *s, const char *dir, char *msg, size_t cap)
{
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    float out[CLASSES];
    irv2_model_options native = test_model_options(IRV2_GEMM_NATIVE);
    assert_ok(irv2_context_create(test_device(), &ctx));
    irv2_fault_set(FAULT_NO_COMPILER, 1);
    irv2_status st = irv2_context_load_binaries(ctx, dir);
    if (st == IRV2_OK) st = irv2_model_load(ctx, "synthetic:1", &native, &model);
    if (st == IRV2_OK) st = irv2_model_run(model, s->input, 1, out, 0);
    snprintf(msg, cap, "%s", irv2_last_error());
    irv2_fault_clear();
    irv2_model_free(model);
    irv2_context_free(ctx);
    print_message("  -> %s\n", msg);
    return st;
}

/* The name of the folder's binary of the first program built from cl/<file>. */
static void binary_of(const char *dir, const char *stem, char *path, size_t cap)
{
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "ls '%s'/%s-*.bin | head -1", dir, stem);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(path, (int)cap, p));
    path[strcspn(path, "\n")] = '\0';
    pclose(p);
}

static void test_broken_folders(void **pstate)
{
    state *s = *pstate;
    char dir[4200], path[4600], msg[1024], manifest[4300];
    snprintf(dir, sizeof dir, "%s-broken", s->dir);
    snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);

    /* a program missing */
    copy_folder(s, dir);
    binary_of(dir, "pool", path, sizeof path);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(try_folder(s, dir, msg, sizeof msg), IRV2_ERR_IO);
    assert_non_null(strstr(msg, path));
    assert_non_null(strstr(msg, "cl/pool.cl"));

    /* a program damaged */
    copy_folder(s, dir);
    binary_of(dir, "conv_wg", path, sizeof path);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 100, SEEK_SET);
    fputc(0x5a, f), fputc(0xa5, f);
    fclose(f);
    assert_int_equal(try_folder(s, dir, msg, sizeof msg), IRV2_ERR_FORMAT);
    assert_non_null(strstr(msg, path));
    assert_non_null(strstr(msg, "damaged"));

    /* built for another device */
    copy_folder(s, dir);
    edit_file(manifest, "\"name\": \"", "\"name\": \"another ");
    assert_int_equal(try_folder(s, dir, msg, sizeof msg), IRV2_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "another "));
    assert_non_null(strstr(msg, "not for"));

    /* compiled from other kernel sources */
    copy_folder(s, dir);
    edit_file(manifest, "\"source\": \"", "\"source\": \"0\", \"was\": \"");
    assert_int_equal(try_folder(s, dir, msg, sizeof msg), IRV2_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "another version"));

    /* a program the plans need that the folder does not list */
    copy_folder(s, dir);
    edit_file(manifest, "\"file\": \"pool.cl\"", "\"file\": \"pool-old.cl\"");
    assert_int_equal(try_folder(s, dir, msg, sizeof msg), IRV2_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "has no binary of cl/pool.cl"));

    /* not a manifest, a broken one, none at all */
    copy_folder(s, dir);
    assert_int_equal(test_write_file(manifest, "{\"format\": \"irv2-binaries-1\"}", 29), 0);
    assert_int_equal(try_folder(s, dir, msg, sizeof msg), IRV2_ERR_FORMAT);
    assert_non_null(strstr(msg, "not an irv2 binaries manifest"));
    assert_int_equal(test_write_file(manifest, "{\"format\": ", 11), 0);
    assert_int_equal(try_folder(s, dir, msg, sizeof msg), IRV2_ERR_FORMAT);
    assert_non_null(strstr(msg, manifest));
    assert_int_equal(unlink(manifest), 0);
    assert_int_equal(try_folder(s, dir, msg, sizeof msg), IRV2_ERR_IO);
    assert_non_null(strstr(msg, "no manifest.json"));

    /* a model that ran nothing has nothing to save; the tuner's candidates are not the
     * model's programs */
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    assert_ok(irv2_context_create(test_device(), &ctx));
    irv2_model_options native = test_model_options(IRV2_GEMM_NATIVE);
    assert_ok(irv2_model_load(ctx, "synthetic:1", &native, &model));
    assert_int_equal(irv2_model_save_binaries(model, dir, NULL), IRV2_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(irv2_last_error(), "no program was built for this model"));
    assert_int_equal(irv2_model_save_binaries(NULL, dir, NULL), IRV2_ERR_INVALID_ARGUMENT);
    assert_int_equal(irv2_context_load_binaries(ctx, NULL), IRV2_ERR_INVALID_ARGUMENT);
    irv2_model_free(model);
    irv2_context_free(ctx);
    test_remove_tree(dir);
}

static int setup(void **pstate)
{
    unsigned ndev = 0;
    if (irv2_device_count(&ndev) != IRV2_OK) return -1;
    state *s = calloc(1, sizeof *s);
    if (!s) return -1;
    test_fill_random(s->input, IMAGE, 41, -1.0f, 1.0f);
    char leaf[64];
    snprintf(leaf, sizeof leaf, "binaries-%ld", (long)getpid());
    snprintf(s->dir, sizeof s->dir, "%s", test_tmp_path(leaf));
    test_remove_tree(s->dir);
    setenv("IRV2_TUNE", "0", 1);
    *pstate = s;
    return 0;
}

static int teardown(void **pstate)
{
    state *s = *pstate;
    test_remove_tree(s->dir);
    free(s);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact_folder),
        cmocka_unit_test(test_default_folder),
        cmocka_unit_test(test_broken_folders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
