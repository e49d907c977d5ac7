/* test_tf.c: the `tf` variant (timm's inception_resnet_v2 layout, spec section "Variant tf")
 * end to end through the public API:
 *  (a) "synthetic:1" weights with opts.variant = IRV2_VARIANT_TF, with both GEMM backends, on
 *      the golden input against the float64 PyTorch reference in tests/data/tf_golden.npy
 *      (tools/make_golden_tf.py, model tools/irv2_reference_tf.py). Synthetic weights are
 *      generated from the key names the engine asks for, so this also proves that host/net/net_tf.c
 *      names every tensor exactly as timm's state_dict does: one differing name gives other
 *      values for that layer and the logits move far beyond the tolerance;
 *  (b) the model's reported variant, classes, class offset and FLOPs;
 *  (c) variant detection from a checkpoint's keys, with tiny safetensors files: a file with
 *      only 'foo.weight' matches neither layout; a file whose head is 'classif.weight' (1001
 *      rows) is taken as tf and then lacks the first tf tensor; 'classifier.weight' as seed.
 * The loaded models are shared by the tests (group setup). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"
#include "net/graph.h"
#include "net/synthetic.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 2
#define IMAGE (3u * 299u * 299u)
#define CLASSES 1000u
/* Multiply-adds of the tf network per image (convs + classifier), as counted by
 * tools/irv2_reference_tf.py: 13,155,794,016 (the spec rounds to 13.18 G). */
#define TF_MACS 13155794016.0
/* timm's state_dict for 1000 classes (tools/irv2_reference_tf.py): 1102 tensors besides
 * num_batches_tracked; 55,843,464 parameters (conv/linear weights and biases + BN gamma/beta,
 * the spec's count) + 60,544 BN running statistics over 204 BatchNorms of 30,272 channels. */
#define TF_TENSORS 1102
#define TF_PARAMS 55843464.0
#define TF_RUNNING 60544.0

typedef struct tf {
    int no_device;
    irv2_context *ctx;
    irv2_model *clblast, *native; /* "synthetic:1", variant tf, with each GEMM backend */
    float *input;                 /* BATCH x 3 x 299 x 299: synthetic_fill("input", 7, -1, 1) */
    float *golden;                /* BATCH x CLASSES, float64 reference stored as float32 */
    float *native_logits;         /* the native model's logits on input, once computed */
} tf;


static float *run_model(irv2_model *m, const float *input, unsigned batch, const char *what)
{
    float *out = malloc((size_t)batch * CLASSES * sizeof(float));
    assert_non_null(out);
    double t0 = test_now_s();
    irv2_status st = irv2_model_run(m, input, batch, out, 0);
    if (st != IRV2_OK) fail_msg("%s: %s: %s", what, irv2_status_string(st), irv2_last_error());
    print_message("  %s: batch %u in %.2f s\n", what, batch, test_now_s() - t0);
    return out;
}

#define SKIP_WITHOUT_DEVICE(s)      \
    do {                            \
        if ((s)->no_device) skip(); \
    } while (0)

static const float *native_logits(tf *s)
{
    if (!s->native_logits) s->native_logits = run_model(s->native, s->input, BATCH, "native, tf");
    return s->native_logits;
}

/* ---- group setup ------------------------------------------------------------------------ */

static int load_tf(irv2_context *ctx, irv2_gemm_backend gemm, irv2_model **out)
{
    irv2_model_options opts = test_model_options(gemm);
    opts.variant = IRV2_VARIANT_TF;
    double t0 = test_now_s();
    if (irv2_model_load(ctx, "synthetic:1", &opts, out) != IRV2_OK) {
        print_message("synthetic:1, tf, %s: %s\n", gemm == IRV2_GEMM_CLBLAST ? "clblast" : "native",
                      irv2_last_error());
        return -1;
    }
    print_message("  loaded synthetic:1 as tf (%s) in %.2f s\n",
                  gemm == IRV2_GEMM_CLBLAST ? "clblast" : "native", test_now_s() - t0);
    return 0;
}

static int group_setup(void **state)
{
    tf *s = calloc(1, sizeof *s);
    if (!s) return -1;
    *state = s;
    unsigned ndev = 0;
    if (irv2_device_count(&ndev) == IRV2_ERR_NO_PLATFORM) {
        print_message("no OpenCL device (%s): skipping\n", irv2_last_error());
        s->no_device = 1;
        return 0;
    }
    if (irv2_context_create(NULL, &s->ctx) != IRV2_OK) {
        print_message("context: %s\n", irv2_last_error());
        return -1;
    }
    print_message("device: %s (%s)\n", irv2_context_device(s->ctx)->name,
                  irv2_context_device(s->ctx)->spec);
    s->input = malloc((size_t)BATCH * IMAGE * sizeof(float));
    if (!s->input) return -1;
    synthetic_fill("input", 7, -1.0, 1.0, s->input, (size_t)BATCH * IMAGE);

    unsigned ndim;
    uint64_t shape[8];
    irv2_status st = irv2_npy_read(test_data_path("tf_golden.npy"), &ndim, shape, &s->golden);
    if (st != IRV2_OK || ndim != 2 || shape[0] != BATCH || shape[1] != CLASSES) {
        print_message("tf_golden.npy: %s\n", st != IRV2_OK ? irv2_last_error() : "wrong shape");
        return -1;
    }
    if (load_tf(s->ctx, IRV2_GEMM_CLBLAST, &s->clblast) || load_tf(s->ctx, IRV2_GEMM_NATIVE, &s->native))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    tf *s = *state;
    if (!s) return 0;
    irv2_model_free(s->clblast);
    irv2_model_free(s->native);
    irv2_context_free(s->ctx);
    free(s->input);
    free(s->golden);
    free(s->native_logits);
    free(s);
    return 0;
}

/* ---- (a) against the float64 reference -------------------------------------------------- */

/* The golden logits come from a float64 PyTorch forward pass; the engine computes in float32
 * through ~330 layers (convolutions summing up to 2080 products, 1x1 projections of 448 x 2080,
 * 40 residual blocks), so rounding differences accumulate: measured 8.4e-7 (native) and 9.9e-7
 * (CLBlast) of max|logit| on PoCL, like PyTorch's own float32 forward (9.2e-7). 1e-3 leaves a
 * wide margin for other devices and summation orders, yet a wrong layer fails: measured with
 * tools/irv2_reference_tf.py, one conv weight under another name (other synthetic values) moves
 * the logits by 1.3e-2 of max|logit|, a projection bias 6.9e-3, a residual scale 0.17 for 0.10
 * in one block 1.3e-2, counting the padding in mixed_5b's average pool 5.4e-3, a ReLU after the
 * last block8 6.5e-2. (A single BN running_var of other values can stay below 1e-3, 6.7e-4 in
 * repeat.3; but BN names are built from the same prefixes as the conv weights, and a wrong BN
 * leaf name would change all 204 of them.) The top-5 classes must be identical as well: the
 * closest two of the top 6 are 1.7e-2 of max|logit| apart. */
#define GOLDEN_TOLERANCE 1e-3

static void check_against_golden(const tf *s, const float *logits, const char *what)
{
    test_check_golden(logits, s->golden, BATCH, CLASSES, GOLDEN_TOLERANCE, what);
}

static void test_golden_native(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    check_against_golden(s, native_logits(s), "native");
}

static void test_golden_clblast(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    float *logits = run_model(s->clblast, s->input, BATCH, "clblast, tf");
    check_against_golden(s, logits, "clblast");
    free(logits);
}

/* Every conv that has a Winograd form forced into it (the tf network's 3x3 stride-1 convs),
 * then none (IRV2_EXCLUDE_WINOGRAD, --exact): both against the float64 reference
 * (testutil.h). */
static void test_golden_winograd(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    irv2_model_options opts = test_model_options(IRV2_GEMM_NATIVE);
    opts.variant = IRV2_VARIANT_TF;
    test_check_winograd_golden(s->ctx, "synthetic:1", &opts, s->input, BATCH, s->golden,
                               GOLDEN_TOLERANCE);
}

/* Every conv in the direct family, which takes riders: mixed_6a's and mixed_7a's max pools
 * ride the convs next to them; maxpool_3a and maxpool_5a, whose outputs the next convs read,
 * keep theirs (testutil.h). */
static void test_golden_riders(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    irv2_model_options opts = test_model_options(IRV2_GEMM_NATIVE);
    opts.variant = IRV2_VARIANT_TF;
    test_check_riders_golden(s->ctx, "synthetic:1", &opts, s->input, BATCH, s->golden,
                             GOLDEN_TOLERANCE, 2);
}

/* The host float64 reference (testutil.h) against PyTorch's on the golden input, so that it
 * stands in for PyTorch on the random checkpoint below. */
static void test_reference_matches_golden(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    test_check_reference("synthetic:1", IRV2_VARIANT_TF, s->input, s->golden);
}

/* A random checkpoint beside the golden one (another seed of the synthetic rule) against the
 * host float64 reference: Winograd forced everywhere, then excluded. */
static void test_winograd_random_checkpoint(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    test_check_winograd_reference(s->ctx, "synthetic:2", IRV2_VARIANT_TF, s->input,
                                  GOLDEN_TOLERANCE);
}

static void test_batch1_matches_batch2(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    const float *logits2 = native_logits(s);
    /* the second image alone: the input offset is honoured and images do not interact */
    float *logits1 = run_model(s->native, s->input + IMAGE, 1, "native, second image alone");
    double rel = test_rel_max_diff(logits1, logits2 + CLASSES, logits2 + CLASSES, CLASSES);
    print_message("  batch 1 (image 1) vs row 1 of batch 2: %.3e of max|logit|\n", rel);
    assert_true(rel <= 1e-5);
    free(logits1);
}

/* ---- (b) what the model reports --------------------------------------------------------- */

static void test_model_info(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    irv2_model *models[2] = {s->native, s->clblast};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(irv2_model_variant(models[i]), IRV2_VARIANT_TF);
        assert_int_equal(irv2_model_num_classes(models[i]), CLASSES);
        assert_int_equal(irv2_model_class_offset(models[i]), 0); /* 1000 classes: no background */
    }
    double flops = irv2_model_flops_per_image(s->native);
    print_message("  flops per image: %.0f (expected %.0f)\n", flops, 2.0 * TF_MACS);
    assert_true(flops == 2.0 * TF_MACS);
    /* the device buffers are planned at the first run */
    native_logits(s);
    print_message("  weights on the device: %.1f MB\n", irv2_model_weight_bytes(s->native) / 1e6);
    assert_true(irv2_model_weight_bytes(s->native) > 0);
}

/* The tensors host/net/net_tf.c asks for (the rule of host/net/weights.c: a conv with BN reads
 * <name>.conv.weight and <name>.bn.{weight,bias,running_mean,running_var}; any other conv and
 * the classifier <name>.weight and <name>.bias) add up to timm's state_dict. No device needed. */
static void test_tensor_inventory(void **state)
{
    (void)state;
    net n;
    assert_int_equal(net_build(NET_TF, CLASSES, &n), IRV2_OK);
    int tensors = 0, bns = 0, residual = 0;
    double params = 0, running = 0;
    for (int i = 0; i < n.nlayers; i++) {
        const net_layer *l = &n.layers[i];
        assert_false(l->epi.affine); /* tf has no BN after a sum or a concatenation */
        if (l->kind != LAYER_CONV) continue;
        double w = (double)l->cout * l->cin * l->kh * l->kw;
        if (l->has_bn) {
            tensors += 5, bns++;
            params += w + 2.0 * l->cout;
            running += 2.0 * l->cout;
        } else {
            tensors += 2;
            params += w + l->cout;
            residual += l->epi.residual;
            if (l->epi.residual) {
                /* timm: Block35 0.17, Block17 0.10, Block8 0.20 with ReLU; block8 1.0 without */
                float want = strncmp(l->name, "repeat_1.", 9) == 0   ? 0.10f
                             : strncmp(l->name, "repeat_2.", 9) == 0 ? 0.20f
                             : strncmp(l->name, "repeat.", 7) == 0   ? 0.17f
                                                                     : 1.0f;
                int relu = strcmp(l->name, "block8.conv2d") != 0;
                if (l->epi.residual_scale != want || l->epi.relu2 != relu || l->epi.relu1)
                    fail_msg("%s: scale %g relu %d, expected scale %g relu %d", l->name,
                             (double)l->epi.residual_scale, l->epi.relu2, (double)want, relu);
            }
        }
    }
    print_message("  %d tensors, %d BNs, %d residual projections, %.0f parameters + %.0f running\n",
                  tensors, bns, residual, params, running);
    assert_int_equal(tensors, TF_TENSORS);
    assert_int_equal(bns, 204);
    assert_int_equal(residual, 10 + 20 + 9 + 1);
    assert_true(params == TF_PARAMS);
    assert_true(running == TF_RUNNING);
    const net_layer *head = net_find_layer(&n, "classif");
    assert_non_null(head);
    assert_int_equal(head->cin, 1536);
    net_free(&n);
}

/* Synthetic weights with the variant left to AUTO are the seed network (irv2.h). */
static void test_synthetic_auto_is_seed(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    irv2_model *m = NULL;
    irv2_model_options opts = test_model_options(IRV2_GEMM_NATIVE);
    irv2_status st = irv2_model_load(s->ctx, "synthetic:1", &opts, &m);
    if (st != IRV2_OK) fail_msg("synthetic:1, auto: %s: %s", irv2_status_string(st), irv2_last_error());
    assert_int_equal(irv2_model_variant(m), IRV2_VARIANT_SEED);
    assert_int_equal(irv2_model_num_classes(m), CLASSES);
    irv2_model_free(m);
}

/* ---- (c) variant detection from checkpoint keys ----------------------------------------- */

typedef struct tiny_tensor {
    const char *name;
    const char *dtype; /* "F32" or "F16" */
    unsigned ndim;
    uint64_t shape[2];
} tiny_tensor;

/* Writes a safetensors file holding the given tensors, all zero. */
static void write_tiny_safetensors(const char *path, const tiny_tensor *t, int count)
{
    char header[1024];
    size_t len = (size_t)snprintf(header, sizeof header, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (int i = 0; i < count; i++) {
        uint64_t numel = 1;
        for (unsigned d = 0; d < t[i].ndim; d++) numel *= t[i].shape[d];
        uint64_t bytes = numel * (strcmp(t[i].dtype, "F16") == 0 ? 2 : 4);
        len += (size_t)snprintf(header + len, sizeof header - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                                t[i].name, t[i].dtype);
        for (unsigned d = 0; d < t[i].ndim; d++)
            len += (size_t)snprintf(header + len, sizeof header - len, "%s%llu", d ? "," : "",
                                    (unsigned long long)t[i].shape[d]);
        len += (size_t)snprintf(header + len, sizeof header - len,
                                "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                                (unsigned long long)(off + bytes));
        off += bytes;
    }
    len += (size_t)snprintf(header + len, sizeof header - len, "}");
    while (len % 8) header[len++] = ' ';
    assert_true(len < sizeof header);
    size_t total = 8 + len + (size_t)off;
    unsigned char *file = calloc(1, total);
    assert_non_null(file);
    for (int i = 0; i < 8; i++) file[i] = (unsigned char)((uint64_t)len >> (8 * i)); /* u64 LE */
    memcpy(file + 8, header, len);
    assert_int_equal(test_write_file(path, file, total), 0);
    free(file);
}

/* Loads path with the variant AUTO expecting failure with want; the message must name the
 * file and contain each of m1, m2. */
static void expect_load_error(tf *s, const char *path, irv2_status want, const char *m1,
                              const char *m2)
{
    static max_align_t sentinel;
    irv2_model *m = (irv2_model *)&sentinel; /* must come back NULL */
    irv2_model_options opts = test_model_options(IRV2_GEMM_NATIVE);
    irv2_status st = irv2_model_load(s->ctx, path, &opts, &m);
    const char *msg = irv2_last_error();
    print_message("  -> %s: %s\n", irv2_status_string(st), msg);
    if (st != want)
        fail_msg("%s: got %s, expected %s", path, irv2_status_string(st), irv2_status_string(want));
    assert_null(m);
    if (!strstr(msg, path)) fail_msg("message '%s' does not name the file '%s'", msg, path);
    if (m1 && !strstr(msg, m1)) fail_msg("message '%s' does not contain '%s'", msg, m1);
    if (m2 && !strstr(msg, m2)) fail_msg("message '%s' does not contain '%s'", msg, m2);
}

static void test_detect_unknown_layout(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char path[4096];
    test_tmp_file("tf", "foo.safetensors", path, sizeof path);
    const tiny_tensor t[] = {{"foo.weight", "F32", 2, {4, 3}}};
    write_tiny_safetensors(path, t, 1);
    expect_load_error(s, path, IRV2_ERR_MISSING_TENSOR, "'foo.weight'",
                      "matches neither the seed nor the tf layout");
    remove(path);
}

static void test_detect_tf_from_head(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char path[4096];
    test_tmp_file("tf", "tfhead.safetensors", path, sizeof path);
    /* a TF-slim style 1001-class head alone: taken as tf, and the first tf tensor is missing */
    const tiny_tensor t[] = {{"classif.weight", "F16", 2, {1001, 1536}},
                             {"classif.bias", "F16", 1, {1001}}};
    write_tiny_safetensors(path, t, 2);
    expect_load_error(s, path, IRV2_ERR_MISSING_TENSOR, "'conv2d_1a.conv.weight'", NULL);
    remove(path);
}

static void test_detect_seed_from_head(void **state)
{
    tf *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char path[4096];
    test_tmp_file("tf", "seedhead.safetensors", path, sizeof path);
    const tiny_tensor t[] = {{"classifier.weight", "F16", 2, {1000, 2144}},
                             {"classifier.bias", "F16", 1, {1000}}};
    write_tiny_safetensors(path, t, 2);
    expect_load_error(s, path, IRV2_ERR_MISSING_TENSOR, "'stem.conv1.conv.weight'", NULL);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_inventory),
        cmocka_unit_test(test_model_info),
        cmocka_unit_test(test_golden_native),
        cmocka_unit_test(test_golden_clblast),
        cmocka_unit_test(test_golden_winograd),
        cmocka_unit_test(test_golden_riders),
        cmocka_unit_test(test_reference_matches_golden),
        cmocka_unit_test(test_winograd_random_checkpoint),
        cmocka_unit_test(test_batch1_matches_batch2),
        cmocka_unit_test(test_synthetic_auto_is_seed),
        cmocka_unit_test(test_detect_unknown_layout),
        cmocka_unit_test(test_detect_tf_from_head),
        cmocka_unit_test(test_detect_seed_from_head),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
