/* test_batch_split.c: batches too big for the device's largest allocation run in chunks
 * (IRV2_MAX_ALLOC_BYTES lowers the limit) and give the same logits; one image that cannot
 * fit is refused with a message naming the device; without a device limit, 32-bit offsets
 * still bound a pass. */
#include "irv2.h"
#include "net/synthetic.h"
#include "runtime/context.h"
#include "testutil.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define IMAGE (3 * 299 * 299)

static irv2_model *load(irv2_context **ctx, const char *limit)
{
    irv2_model *model = NULL;
    setenv("IRV2_MAX_ALLOC_BYTES", limit, 1);
    assert_int_equal(irv2_context_create(test_device(), ctx), IRV2_OK);
    unsetenv("IRV2_MAX_ALLOC_BYTES");
    assert_int_equal(irv2_model_load(*ctx, "synthetic:1", NULL, &model), IRV2_OK);
    return model;
}

static void test_chunks_match_golden(void **state)
{
    (void)state;
    irv2_context *ctx;
    irv2_model *model = load(&ctx, "20000000"); /* about two images' activations */
    unsigned fits = 0;
    assert_int_equal(irv2_model_max_batch(model, 5, &fits), IRV2_OK);
    assert_true(fits >= 1 && fits < 5);

    /* Batch 5 = golden images 0, 1, 0, 1, 0: at least one chunk is padded. */
    float *two = malloc(2 * IMAGE * sizeof(float)), *in = malloc(5 * IMAGE * sizeof(float));
    float *out = malloc(5 * 1000 * sizeof(float)), *golden;
    assert_non_null(two), assert_non_null(in), assert_non_null(out);
    synthetic_fill("input", 7, -1.0, 1.0, two, 2 * IMAGE);
    for (int i = 0; i < 5; i++) memcpy(in + (size_t)i * IMAGE, two + (size_t)(i % 2) * IMAGE, IMAGE * sizeof(float));
    assert_int_equal(irv2_model_run(model, in, 5, out, 0), IRV2_OK);

    unsigned ndim;
    uint64_t shape[8];
    assert_int_equal(irv2_npy_read(test_data_path("seed_golden.npy"), &ndim, shape, &golden), IRV2_OK);
    double max_ref = 0, max_err = 0;
    for (int i = 0; i < 2000; i++) max_ref = fmax(max_ref, fabs(golden[i]));
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 1000; k++)
            max_err = fmax(max_err, fabs(out[i * 1000 + k] - golden[(i % 2) * 1000 + k]));
    /* The same tolerance as test_e2e: fp32 against the float64 reference. */
    assert_true(max_err <= 1e-3 * max_ref);
    free(two), free(in), free(out), free(golden);
    irv2_model_free(model);
    irv2_context_free(ctx);
}

static void test_one_image_too_big(void **state)
{
    (void)state;
    irv2_context *ctx;
    irv2_model *model = load(&ctx, "2000000");
    float *in = calloc(IMAGE, sizeof(float)), out[1000];
    assert_non_null(in);
    assert_int_equal(irv2_model_run(model, in, 1, out, 0), IRV2_ERR_DEVICE_MEMORY);
    assert_non_null(strstr(irv2_last_error(), irv2_context_device(ctx)->name));
    assert_non_null(strstr(irv2_last_error(), "largest allocation"));
    unsigned fits = 7;
    assert_int_equal(irv2_model_max_batch(model, 4, &fits), IRV2_ERR_DEVICE_MEMORY);
    free(in);
    irv2_model_free(model);
    irv2_context_free(ctx);
}

/* A device that allows any allocation (no CL_DEVICE_MAX_MEM_ALLOC_SIZE limit, or one above
 * 16 GiB as on large GPUs) still gets its batches split where a buffer would pass 2^32 - 1
 * floats, the most the kernels' 32-bit offsets address: about 1,900 images here. */
static void test_offsets_bound_batches(void **state)
{
    (void)state;
    irv2_context *ctx;
    irv2_model *model = load(&ctx, "");
    ctx->info.max_alloc_bytes = 0; /* as a device that states no limit */
    unsigned fits = 0, again = 0;
    assert_int_equal(irv2_model_max_batch(model, 60000, &fits), IRV2_OK);
    print_message("  no allocation limit: batches of up to %u images in one pass\n", fits);
    assert_true(fits > 100 && fits < 60000);
    assert_int_equal(irv2_model_max_batch(model, fits + 1, &again), IRV2_OK);
    assert_int_equal(again, fits);
    assert_int_equal(irv2_model_max_batch(model, fits, &again), IRV2_OK);
    assert_int_equal(again, fits);
    irv2_model_free(model);
    irv2_context_free(ctx);
}

int main(void)
{
    setenv("IRV2_TUNE", "0", 1); /* kernel choice does not matter here; skip measuring */
    unsigned n;
    if (irv2_device_count(&n) != IRV2_OK) {
        fprintf(stderr, "no OpenCL device: skipping\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_match_golden),
        cmocka_unit_test(test_one_image_too_big),
        cmocka_unit_test(test_offsets_bound_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
