/* test_settings.c: the options structs of irv2.h: their defaults, the environment laid over
 * them (irv2_*_options_from_env, the library's only reading of it), the text forms, the size
 * check, and a context opened from options with a hostile environment that it must not read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define assert_ok(expr) assert_int_equal((expr), IRV2_OK)

static char g_device[64]; /* test_device(), read before the tests change IRV2_DEVICE */

static const char *const variables[] = {"IRV2_DEVICE",         "IRV2_KERNELS",
                                        "IRV2_CACHE_DIR",      "IRV2_BINARIES",
                                        "IRV2_CLBLAST_TUNING", "IRV2_MAX_ALLOC_BYTES",
                                        "IRV2_TUNE",           "IRV2_EXACT"};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++) unsetenv(variables[i]);
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    irv2_context_options c;
    irv2_model_options m;
    memset(&c, 0xAB, sizeof c);
    memset(&m, 0xAB, sizeof m);
    irv2_context_options_init(&c);
    irv2_model_options_init(&m);
    assert_int_equal(c.size, sizeof c);
    assert_null(c.device);
    assert_int_equal(c.kernels, IRV2_KERNELS_AUTO);
    assert_null(c.cache_dir);
    assert_null(c.binaries);
    assert_null(c.clblast_tuning);
    assert_int_equal(c.max_alloc_bytes, 0);
    assert_null(c.progress);
    assert_null(c.cl_context);
    assert_int_equal(m.size, sizeof m);
    assert_int_equal(m.gemm, IRV2_GEMM_AUTO);
    assert_int_equal(m.variant, IRV2_VARIANT_AUTO);
    assert_int_equal(m.tune, IRV2_TUNE_DEFAULT);
    assert_int_equal(m.exclude, 0);
    /* with nothing set, the environment changes nothing */
    irv2_context_options c2 = c;
    irv2_model_options m2 = m;
    assert_ok(irv2_context_options_from_env(&c2));
    assert_ok(irv2_model_options_from_env(&m2));
    assert_memory_equal(&c, &c2, sizeof c);
    assert_memory_equal(&m, &m2, sizeof m);
}

static void test_from_env(void **state)
{
    (void)state;
    setenv("IRV2_DEVICE", "0:0", 1);
    setenv("IRV2_KERNELS", "compact", 1);
    setenv("IRV2_CACHE_DIR", "off", 1);
    setenv("IRV2_BINARIES", "/some/folder", 1);
    setenv("IRV2_CLBLAST_TUNING", "/tuned", 1);
    setenv("IRV2_MAX_ALLOC_BYTES", "123456", 1);
    setenv("IRV2_TUNE", "1", 1);
    setenv("IRV2_EXACT", "1", 1);
    irv2_context_options c;
    irv2_model_options m;
    irv2_context_options_init(&c);
    irv2_model_options_init(&m);
    assert_ok(irv2_context_options_from_env(&c));
    assert_ok(irv2_model_options_from_env(&m));
    assert_string_equal(c.device, "0:0");
    assert_int_equal(c.kernels, IRV2_KERNELS_COMPACT);
    assert_string_equal(c.cache_dir, ""); /* off: no cache */
    assert_string_equal(c.binaries, "/some/folder");
    assert_string_equal(c.clblast_tuning, "/tuned");
    assert_int_equal(c.max_alloc_bytes, 123456);
    assert_int_equal(m.tune, IRV2_TUNE_FULL);
    assert_int_equal(m.exclude, IRV2_EXCLUDE_WINOGRAD);
    setenv("IRV2_CACHE_DIR", "/cache", 1);
    setenv("IRV2_EXACT", "0", 1);
    assert_ok(irv2_context_options_from_env(&c));
    assert_ok(irv2_model_options_from_env(&m));
    assert_string_equal(c.cache_dir, "/cache");
    assert_int_equal(m.exclude, 0);
    /* a value that cannot be read fails naming the variable and changes nothing */
    static const struct {
        const char *name, *value, *message;
    } bad[] = {
        {"IRV2_KERNELS", "gpu", "IRV2_KERNELS=gpu: expected auto, wg, vec or compact"},
        {"IRV2_MAX_ALLOC_BYTES", "12k", "IRV2_MAX_ALLOC_BYTES=12k: expected a positive count of "
                                        "bytes"},
        {"IRV2_MAX_ALLOC_BYTES", "-5", "IRV2_MAX_ALLOC_BYTES=-5: expected a positive count of "
                                       "bytes"},
        {"IRV2_TUNE", "fastest", "IRV2_TUNE=fastest: expected off, fast or full"},
        {"IRV2_EXACT", "yes", "IRV2_EXACT=yes: expected 1 or 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clear_env(NULL);
        setenv(bad[i].name, bad[i].value, 1);
        irv2_context_options_init(&c);
        irv2_model_options_init(&m);
        irv2_context_options c0 = c;
        irv2_model_options m0 = m;
        irv2_status st = strcmp(bad[i].name, "IRV2_TUNE") && strcmp(bad[i].name, "IRV2_EXACT")
                             ? irv2_context_options_from_env(&c)
                             : irv2_model_options_from_env(&m);
        assert_int_equal(st, IRV2_ERR_INVALID_ARGUMENT);
        assert_string_equal(irv2_last_error(), bad[i].message);
        assert_memory_equal(&c, &c0, sizeof c);
        assert_memory_equal(&m, &m0, sizeof m);
    }
    clear_env(NULL);
}

/* Every value's name parses back to it; other spellings and unknown text. */
static void test_text_forms(void **state)
{
    (void)state;
    for (int v = 0; v <= IRV2_KERNELS_COMPACT; v++) {
        irv2_kernels k;
        assert_ok(irv2_kernels_parse(irv2_kernels_name((irv2_kernels)v), &k));
        assert_int_equal(k, v);
    }
    for (int v = 0; v <= IRV2_TUNE_FULL; v++) {
        irv2_tune_mode t;
        assert_ok(irv2_tune_mode_parse(irv2_tune_mode_name((irv2_tune_mode)v), &t));
        assert_int_equal(t, v);
    }
    for (int v = 0; v <= IRV2_GEMM_NATIVE; v++) {
        irv2_gemm_backend g;
        assert_ok(irv2_gemm_parse(irv2_gemm_name((irv2_gemm_backend)v), &g));
        assert_int_equal(g, v);
    }
    for (int v = 0; v <= IRV2_VARIANT_TF; v++) {
        irv2_variant x;
        assert_ok(irv2_variant_parse(irv2_variant_name((irv2_variant)v), &x));
        assert_int_equal(x, v);
    }
    irv2_tune_mode t;
    assert_ok(irv2_tune_mode_parse("0", &t));
    assert_int_equal(t, IRV2_TUNE_OFF);
    assert_ok(irv2_tune_mode_parse("1", &t));
    assert_int_equal(t, IRV2_TUNE_FULL);
    assert_string_equal(irv2_tune_mode_name(IRV2_TUNE_OFF), "off");
    assert_string_equal(irv2_kernels_name((irv2_kernels)17), "");
    irv2_gemm_backend g = IRV2_GEMM_CLBLAST;
    assert_int_equal(irv2_gemm_parse("cublas", &g), IRV2_ERR_INVALID_ARGUMENT);
    assert_string_equal(irv2_last_error(), "GEMM backend 'cublas': expected auto, clblast or "
                                           "native");
    assert_int_equal(g, IRV2_GEMM_CLBLAST);
    assert_int_equal(irv2_variant_parse(NULL, NULL), IRV2_ERR_INVALID_ARGUMENT);
}

/* A struct whose size is not this irv2.h's is refused by name, before any device work. */
static void test_size_checked(void **state)
{
    (void)state;
    irv2_context_options c;
    irv2_context_options_init(&c);
    irv2_context *ctx = (irv2_context *)&c;
    c.size = sizeof c + 8; /* from a newer irv2.h */
    assert_int_equal(irv2_context_open(&c, &ctx), IRV2_ERR_INVALID_ARGUMENT);
    assert_null(ctx);
    assert_non_null(strstr(irv2_last_error(), "irv2_context_options.size is"));
    c.size = 0; /* not initialised */
    assert_int_equal(irv2_context_options_from_env(&c), IRV2_ERR_INVALID_ARGUMENT);
    irv2_model_options m;
    irv2_model_options_init(&m);
    m.size = 4;
    assert_int_equal(irv2_model_options_from_env(&m), IRV2_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(irv2_last_error(), "irv2_model_options.size is 4"));
    irv2_context_options_init(&c);
    c.kernels = (irv2_kernels)9;
    assert_int_equal(irv2_context_open(&c, &ctx), IRV2_ERR_INVALID_ARGUMENT);
}

/* irv2_context_open reads no environment: every variable set to something it would refuse
 * or that names another device, and the options alone decide. The cache folder given gets
 * the tuning choices; "" keeps none. */
static void test_open_ignores_env(void **state)
{
    (void)state;
    setenv("IRV2_DEVICE", "77", 1);
    setenv("IRV2_KERNELS", "gpu", 1);
    setenv("IRV2_BINARIES", "/nonexistent", 1);
    setenv("IRV2_CLBLAST_TUNING", "/nonexistent", 1);
    setenv("IRV2_TUNE", "fastest", 1);
    irv2_context *ctx = NULL;
    assert_int_equal(irv2_context_create(NULL, &ctx), IRV2_ERR_INVALID_ARGUMENT);
    assert_string_equal(irv2_last_error(), "IRV2_KERNELS=gpu: expected auto, wg, vec or compact");
    char cache[1024];
    snprintf(cache, sizeof cache, "%s", test_tmp_path("settings-cache"));
    test_remove_tree(cache);
    irv2_context_options c;
    irv2_context_options_init(&c);
    c.device = g_device;
    c.kernels = IRV2_KERNELS_VEC;
    c.cache_dir = cache;
    c.max_alloc_bytes = 20000000; /* about two images' activations */
    assert_ok(irv2_context_open(&c, &ctx));
    assert_int_equal(irv2_context_device(ctx)->max_alloc_bytes, 20000000);
    irv2_model_options m;
    irv2_model_options_init(&m);
    m.gemm = IRV2_GEMM_NATIVE;
    irv2_model *model = NULL;
    assert_ok(irv2_model_load(ctx, "synthetic:1", &m, &model)); /* IRV2_TUNE not read */
    unsigned fits = 0;
    assert_ok(irv2_model_max_batch(model, 5, &fits));
    assert_true(fits >= 1 && fits < 5); /* the lowered allocation limit splits batches */
    irv2_model_free(model);
    irv2_context_free(ctx);
    clear_env(NULL);
}

int main(void)
{
    snprintf(g_device, sizeof g_device, "%s", test_device());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_from_env, clear_env),
        cmocka_unit_test_setup(test_text_forms, clear_env),
        cmocka_unit_test_setup(test_size_checked, clear_env),
        cmocka_unit_test_setup(test_open_ignores_env, clear_env),
    };
    return cmocka_run_group_tests_name("test_settings", tests, NULL, NULL);
}
