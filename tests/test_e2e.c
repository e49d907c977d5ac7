/* test_e2e.c: the whole network on the OpenCL device through the public API:
 *  (a) "synthetic:1" weights on the golden input, with both GEMM backends, against the float64
 *      PyTorch reference in tests/data/seed_golden.npy (tools/make_golden.py); softmax output;
 *      batch 1 against the first row of batch 2;
 *  (b) the same weights written from C to a real safetensors file (F32, then F16), loaded
 *      through the checkpoint path;
 *  (c) error paths: bad files, bad tensors, bad specs and bad arguments, each with its status
 *      and a message naming the file, tensor or device.
 * The loaded models and the ~130 MB checkpoint are shared by the tests (group setup). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"
#include "io/halves.h"
#include "net/graph.h"
#include "net/synthetic.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the safetensors writer below writes host floats as they are: little-endian hosts only"
#endif

#define BATCH 2
#define IMAGE (3u * 299u * 299u)
#define CLASSES 1000u

/* ---- shared state ----------------------------------------------------------------------- */

typedef struct e2e {
    int no_device;
    irv2_context *ctx;
    irv2_model *clblast, *native;   /* "synthetic:1" with each GEMM backend */
    float *input;                   /* BATCH x 3 x 299 x 299: synthetic_fill("input", 7, -1, 1) */
    float *golden;                  /* BATCH x CLASSES, float64 reference stored as float32 */
    float *native_logits;           /* the native model's logits on input, once computed */
    char ckpt[4096];                /* the F32 safetensors file of seed 1, once written */
} e2e;


static float *run_model(irv2_model *m, const float *input, unsigned batch, int softmax,
                        const char *what)
{
    float *out = malloc((size_t)batch * CLASSES * sizeof(float));
    assert_non_null(out);
    double t0 = test_now_s();
    irv2_status st = irv2_model_run(m, input, batch, out, softmax);
    if (st != IRV2_OK) fail_msg("%s: %s: %s", what, irv2_status_string(st), irv2_last_error());
    print_message("  %s: batch %u in %.2f s\n", what, batch, test_now_s() - t0);
    return out;
}

static irv2_model *load_model(irv2_context *ctx, const char *weights, irv2_gemm_backend gemm)
{
    irv2_model_options opts = test_model_options(gemm);
    irv2_model *m = NULL;
    double t0 = test_now_s();
    irv2_status st = irv2_model_load(ctx, weights, &opts, &m);
    if (st != IRV2_OK)
        fail_msg("loading %s: %s: %s", weights, irv2_status_string(st), irv2_last_error());
    assert_non_null(m);
    assert_int_equal(irv2_model_num_classes(m), CLASSES);
    print_message("  loaded %s (%s) in %.2f s\n", weights,
                  gemm == IRV2_GEMM_CLBLAST ? "clblast" : "native", test_now_s() - t0);
    return m;
}

#define SKIP_WITHOUT_DEVICE(s) \
    do {                       \
        if ((s)->no_device) skip(); \
    } while (0)

/* The native model's logits on the golden input (computed once). */
static const float *native_logits(e2e *s)
{
    if (!s->native_logits)
        s->native_logits = run_model(s->native, s->input, BATCH, 0, "native, synthetic:1");
    return s->native_logits;
}

/* ---- a safetensors writer --------------------------------------------------------------- */

/* One tensor the network needs, named and shaped exactly as host/net/weights.c asks for it. */
typedef struct st_tensor {
    char name[NET_NAME_MAX + 32];
    unsigned ndim;
    uint64_t shape[4];
    int is_i64; /* the extra num_batches_tracked scalar */
} st_tensor;

typedef struct st_list {
    st_tensor *t;
    int count, cap;
} st_list;

static void st_add(st_list *l, const char *prefix, const char *leaf, unsigned ndim, uint64_t d0,
                   uint64_t d1, uint64_t d2, uint64_t d3)
{
    char name[NET_NAME_MAX + 32];
    snprintf(name, sizeof name, "%s.%s", prefix, leaf);
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->t[i].name, name) == 0) return; /* a BN shared by several layers: once */
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->t = realloc(l->t, (size_t)l->cap * sizeof *l->t);
        assert_non_null(l->t);
    }
    st_tensor *t = &l->t[l->count++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = d0, t->shape[1] = d1, t->shape[2] = d2, t->shape[3] = d3;
}

static const char *const bn_leaves[4] = {"weight", "bias", "running_mean", "running_var"};

/* Every tensor of the seed network with 1000 classes, in layer order, plus an I64
 * "stem.conv1.bn.num_batches_tracked" after that BN (PyTorch's state_dict order). */
static void seed_tensor_list(st_list *l)
{
    net n;
    assert_int_equal(net_build(NET_SEED, CLASSES, &n), IRV2_OK);
    memset(l, 0, sizeof *l);
    for (int i = 0; i < n.nlayers; i++) {
        const net_layer *y = &n.layers[i];
        char p[NET_NAME_MAX + 8];
        if (y->kind == LAYER_CONV) {
            if (y->has_bn) {
                st_add(l, y->name, "conv.weight", 4, y->cout, y->cin, y->kh, y->kw);
                snprintf(p, sizeof p, "%s.bn", y->name);
                for (int k = 0; k < 4; k++) st_add(l, p, bn_leaves[k], 1, y->cout, 0, 0, 0);
                if (strcmp(y->name, "stem.conv1") == 0) {
                    st_add(l, p, "num_batches_tracked", 0, 0, 0, 0, 0);
                    l->t[l->count - 1].is_i64 = 1;
                }
            } else {
                if (y->weight_2d) st_add(l, y->name, "weight", 2, y->cout, y->cin, 0, 0);
                else st_add(l, y->name, "weight", 4, y->cout, y->cin, y->kh, y->kw);
                st_add(l, y->name, "bias", 1, y->cout, 0, 0, 0);
            }
        }
        if (y->epi.affine)
            for (int k = 0; k < 4; k++)
                st_add(l, y->epi.affine_bn, bn_leaves[k], 1, y->epi.affine_channels, 0, 0, 0);
    }
    net_free(&n);
}

static uint64_t st_numel(const st_tensor *t)
{
    uint64_t c = 1;
    for (unsigned d = 0; d < t->ndim; d++) c *= t->shape[d];
    return c;
}

/* How to write the file: F16 data; one tensor renamed; one tensor's header shape replaced by
 * another of the same element count. */
typedef struct st_options {
    int f16;
    const char *rename_from, *rename_to;
    const char *reshape;
    unsigned reshape_ndim;
    uint64_t reshape_shape[4];
} st_options;

typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
}

/* Writes the synthetic seed-1 checkpoint: values synthetic_fill(name, 1, synthetic_range(name,
 * fan_in)), exactly what "synthetic:1" builds in memory. Returns the file size. */
static uint64_t write_seed_checkpoint(const char *path, const st_options *o)
{
    st_list l;
    seed_tensor_list(&l);
    strbuf h = {0};
    sb_printf(&h, "{\"__metadata__\": {\"format\": \"pt\", \"written_by\": \"irv2 test_e2e\"}");
    uint64_t off = 0, largest = 0;
    int renamed = 0, reshaped = 0;
    for (int i = 0; i < l.count; i++) {
        const st_tensor *t = &l.t[i];
        uint64_t numel = st_numel(t), bytes = t->is_i64 ? 8 : numel * (o->f16 ? 2 : 4);
        if (numel > largest) largest = numel;
        const char *name = t->name;
        if (o->rename_from && strcmp(name, o->rename_from) == 0) name = o->rename_to, renamed = 1;
        unsigned ndim = t->ndim;
        const uint64_t *shape = t->shape;
        if (o->reshape && strcmp(t->name, o->reshape) == 0) {
            ndim = o->reshape_ndim, shape = o->reshape_shape, reshaped = 1;
            uint64_t c = 1;
            for (unsigned d = 0; d < ndim; d++) c *= shape[d];
            assert_int_equal(c, numel); /* same bytes: only the header's shape differs */
        }
        sb_printf(&h, ", \"%s\": {\"dtype\": \"%s\", \"shape\": [", name,
                  t->is_i64 ? "I64" : o->f16 ? "F16" : "F32");
        for (unsigned d = 0; d < ndim; d++)
            sb_printf(&h, "%s%llu", d ? ", " : "", (unsigned long long)shape[d]);
        sb_printf(&h, "], \"data_offsets\": [%llu, %llu]}", (unsigned long long)off,
                  (unsigned long long)(off + bytes));
        off += bytes;
    }
    sb_printf(&h, "}");
    while (h.len % 8) sb_printf(&h, " ");
    if (o->rename_from) assert_true(renamed);
    if (o->reshape) assert_true(reshaped);

    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot create %s", path);
    unsigned char len_le[8];
    for (int i = 0; i < 8; i++) len_le[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    assert_int_equal(fwrite(len_le, 1, 8, f), 8);
    assert_int_equal(fwrite(h.s, 1, h.len, f), h.len);
    float *vals = malloc((size_t)largest * sizeof(float));
    uint16_t *halves = malloc((size_t)largest * sizeof(uint16_t));
    assert_non_null(vals);
    assert_non_null(halves);
    for (int i = 0; i < l.count; i++) {
        const st_tensor *t = &l.t[i];
        if (t->is_i64) {
            unsigned char v[8] = {0x39, 0x30}; /* 12345 */
            assert_int_equal(fwrite(v, 1, 8, f), 8);
            continue;
        }
        size_t n = (size_t)st_numel(t);
        double lo, hi;
        synthetic_range(t->name, t->ndim >= 2 ? n / t->shape[0] : 0, &lo, &hi);
        synthetic_fill(t->name, 1, lo, hi, vals, n);
        if (o->f16) {
            for (size_t k = 0; k < n; k++) halves[k] = half_from_float(vals[k]);
            assert_int_equal(fwrite(halves, 2, n, f), n);
        } else {
            assert_int_equal(fwrite(vals, 4, n, f), n);
        }
    }
    assert_int_equal(fclose(f), 0);
    free(vals);
    free(halves);
    free(h.s);
    free(l.t);
    return 8 + h.len + off;
}

/* The F32 checkpoint, written once. */
static const char *valid_checkpoint(e2e *s)
{
    if (!s->ckpt[0]) {
        char path[4096];
        test_tmp_file("e2e", "seed1.safetensors", path, sizeof path);
        double t0 = test_now_s();
        st_options o = {0};
        uint64_t bytes = write_seed_checkpoint(path, &o);
        print_message("  wrote %s: %.1f MB in %.2f s\n", path, bytes / 1e6, test_now_s() - t0);
        snprintf(s->ckpt, sizeof s->ckpt, "%s", path);
    }
    return s->ckpt;
}

/* ---- group setup ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    e2e *s = calloc(1, sizeof *s);
    if (!s) return -1;
    *state = s;
    unsigned ndev = 0;
    if (irv2_device_count(&ndev) == IRV2_ERR_NO_PLATFORM) {
        print_message("no OpenCL device (%s): skipping\n", irv2_last_error());
        s->no_device = 1;
        return 0;
    }
    irv2_status st = irv2_context_create(NULL, &s->ctx);
    if (st != IRV2_OK) {
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
    st = irv2_npy_read(test_data_path("seed_golden.npy"), &ndim, shape, &s->golden);
    if (st != IRV2_OK || ndim != 2 || shape[0] != BATCH || shape[1] != CLASSES) {
        print_message("golden: %s\n", irv2_last_error());
        return -1;
    }
    irv2_model_options opts = test_model_options(IRV2_GEMM_CLBLAST);
    if (irv2_model_load(s->ctx, "synthetic:1", &opts, &s->clblast) != IRV2_OK) {
        print_message("synthetic:1 (clblast): %s\n", irv2_last_error());
        return -1;
    }
    opts.gemm = IRV2_GEMM_NATIVE;
    if (irv2_model_load(s->ctx, "synthetic:1", &opts, &s->native) != IRV2_OK) {
        print_message("synthetic:1 (native): %s\n", irv2_last_error());
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    e2e *s = *state;
    if (!s) return 0;
    irv2_model_free(s->clblast);
    irv2_model_free(s->native);
    irv2_context_free(s->ctx);
    if (s->ckpt[0]) remove(s->ckpt);
    free(s->input);
    free(s->golden);
    free(s->native_logits);
    free(s);
    return 0;
}

/* ---- (a) against the float64 reference -------------------------------------------------- */

/* The golden logits come from a float64 PyTorch forward pass; we compute in float32 through
 * ~250 layers (convolutions summing up to 2144 x 9 products, 20 residual blocks), so rounding
 * differences accumulate. The error actually measured is about 1.4e-6 of max|logit|, so 1e-3
 * leaves a wide margin for other devices and summation orders, yet a single wrong layer (a
 * misplaced slice, a wrong padding or BN, a dropped residual) moves the logits by more than
 * 1e-2 of their range and fails. Identical top-5 classes per image is checked as well. */
#define GOLDEN_TOLERANCE 1e-3

static void check_against_golden(const e2e *s, const float *logits, const char *what)
{
    test_check_golden(logits, s->golden, BATCH, CLASSES, GOLDEN_TOLERANCE, what);
}

static void test_golden_clblast(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    float *logits = run_model(s->clblast, s->input, BATCH, 0, "clblast, synthetic:1");
    check_against_golden(s, logits, "clblast");
    free(logits);
}

static void test_golden_native(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    check_against_golden(s, native_logits(s), "native");
    /* A second run of the same plan gives the same bits: the residual blocks add into their
     * input in place, so a plan that does not rewrite that storage would drift here. */
    float *again = run_model(s->native, s->input, BATCH, 0, "native, again");
    assert_memory_equal(native_logits(s), again, (size_t)BATCH * CLASSES * sizeof(float));
    free(again);
    assert_true(irv2_model_flops_per_image(s->native) == 2.0 * 9257953632.0);
    assert_true(irv2_model_weight_bytes(s->native) > 0);
}

/* Without tuning every conv takes the default form (1x1 convs over packed panels, siblings
 * sharing one packing), so that path is checked whatever the tuner picks on this machine. */
static void test_golden_untuned(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    /* The forms are chosen when the plan is made, at the first run: IRV2_TUNE=0 until then,
     * and afterwards back to what it was (the suite may run wholly untuned). */
    const char *was = getenv("IRV2_TUNE");
    char *saved = was ? strdup(was) : NULL;
    assert_true(!was || saved);
    assert_int_equal(setenv("IRV2_TUNE", "0", 1), 0);
    irv2_model *m = load_model(s->ctx, "synthetic:1", IRV2_GEMM_NATIVE);
    float *logits = run_model(m, s->input, BATCH, 0, "untuned, synthetic:1");
    assert_int_equal(saved ? setenv("IRV2_TUNE", saved, 1) : unsetenv("IRV2_TUNE"), 0);
    free(saved);
    check_against_golden(s, logits, "untuned");
    free(logits);
    irv2_model_free(m);
}

/* Every conv that has a Winograd form forced into it (the seed network's 21 3x3 stride-1
 * convs), then none (IRV2_EXCLUDE_WINOGRAD, --exact): both against the float64 reference
 * (testutil.h). */
static void test_golden_winograd(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    irv2_model_options opts = test_model_options(IRV2_GEMM_NATIVE);
    test_check_winograd_golden(s->ctx, "synthetic:1", &opts, s->input, BATCH, s->golden,
                               GOLDEN_TOLERANCE);
}

/* Every conv in the direct family, which takes riders: the stem's two max pools and the
 * reductions' ride the 3x3 stride-2 convs next to them, and no max pool keeps a launch
 * (testutil.h). */
static void test_golden_riders(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    irv2_model_options opts = test_model_options(IRV2_GEMM_NATIVE);
    test_check_riders_golden(s->ctx, "synthetic:1", &opts, s->input, BATCH, s->golden,
                             GOLDEN_TOLERANCE, 0);
}

/* The host float64 reference (testutil.h) against PyTorch's on the golden input, so that it
 * stands in for PyTorch on the random checkpoints below. */
static void test_reference_matches_golden(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    test_check_reference("synthetic:1", IRV2_VARIANT_AUTO, s->input, s->golden);
}

/* Random checkpoints beside the golden one (other seeds of the synthetic rule) against the
 * host float64 reference: Winograd forced everywhere, then excluded, at GOLDEN_TOLERANCE with
 * the same top-5. */
static void test_winograd_random_checkpoints(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    test_check_winograd_reference(s->ctx, "synthetic:2", IRV2_VARIANT_AUTO, s->input,
                                  GOLDEN_TOLERANCE);
    test_check_winograd_reference(s->ctx, "synthetic:3", IRV2_VARIANT_AUTO, s->input,
                                  GOLDEN_TOLERANCE);
}

static void test_softmax(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    const float *logits = native_logits(s);
    float *probs = run_model(s->native, s->input, BATCH, 1, "native, softmax");
    for (int b = 0; b < BATCH; b++) {
        const float *z = logits + (size_t)b * CLASSES, *p = probs + (size_t)b * CLASSES;
        double zmax = z[0], denom = 0, sum = 0, worst = 0, pmax = 0;
        for (unsigned i = 0; i < CLASSES; i++) zmax = z[i] > zmax ? z[i] : zmax;
        for (unsigned i = 0; i < CLASSES; i++) denom += exp((double)z[i] - zmax);
        for (unsigned i = 0; i < CLASSES; i++) {
            double want = exp((double)z[i] - zmax) / denom;
            assert_true(p[i] >= 0.0f && p[i] <= 1.0f);
            sum += p[i];
            if (fabs(p[i] - want) > worst) worst = fabs(p[i] - want);
            if (want > pmax) pmax = want;
        }
        print_message("  image %d: sum %.7f, max|p - softmax(z)| = %.2e (max p %.4f)\n", b, sum,
                      worst, pmax);
        assert_true(fabs(sum - 1.0) <= 1e-5);
        assert_true(worst <= 1e-5 * pmax);
    }
    free(probs);
}

static void test_batch1_matches_batch2(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    const float *logits2 = native_logits(s);
    float *logits1 = run_model(s->native, s->input, 1, 0, "native, first image alone");
    double rel = test_rel_max_diff(logits1, logits2, logits2, CLASSES);
    print_message("  batch 1 vs row 0 of batch 2: %.3e of max|logit|\n", rel);
    assert_true(rel <= 1e-5);
    free(logits1);
    /* and the second image alone matches row 1 (the input offset is honoured) */
    logits1 = run_model(s->clblast, s->input + IMAGE, 1, 0, "clblast, second image alone");
    rel = test_rel_max_diff(logits1, logits2 + CLASSES, logits2 + CLASSES, CLASSES);
    print_message("  clblast batch 1 (image 1) vs native row 1 of batch 2: %.3e\n", rel);
    assert_true(rel <= 1e-5);
    free(logits1);
}

/* ---- (b) the checkpoint path ------------------------------------------------------------ */

static void test_f16_conversion(void **state)
{
    (void)state;
    static const struct { float f; uint16_t h; } cases[] = {
        {0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3C00}, {-2.0f, 0xC000}, {65504.0f, 0x7BFF},
        {65520.0f, 0x7C00},                  /* rounds up past the largest half: inf */
        {1.0f + 0x1p-11f, 0x3C00},           /* tie: to even (down) */
        {1.0f + 0x3p-11f, 0x3C02},           /* tie: to even (up) */
        {1.0f + 0x1p-11f + 0x1p-20f, 0x3C01}, /* above the tie: up */
        {0x1p-24f, 0x0001}, {0x1p-25f, 0x0000}, {0x3p-26f, 0x0001}, {0x1p-14f, 0x0400},
        {0x1.ff8p-15f, 0x03FF},              /* the largest subnormal */
        {0x1.ffcp-15f, 0x0400},              /* a tie above it: to even, the smallest normal */
        {0.1f, 0x2E66}, {INFINITY, 0x7C00},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (half_from_float(cases[i].f) != cases[i].h)
            fail_msg("half_from_float(%a) = 0x%04x, expected 0x%04x", (double)cases[i].f,
                     half_from_float(cases[i].f), cases[i].h);
    assert_true((half_from_float(NAN) & 0x7fff) > 0x7C00);
}

static void test_checkpoint_matches_synthetic(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    const char *path = valid_checkpoint(s);
    irv2_model *m = load_model(s->ctx, path, IRV2_GEMM_NATIVE);
    float *logits = run_model(m, s->input, BATCH, 0, "native, F32 safetensors");
    irv2_model_free(m);
    const float *ref = native_logits(s);
    size_t n = (size_t)BATCH * CLASSES;
    double rel = test_rel_max_diff(logits, ref, ref, n);
    print_message("  F32 file vs synthetic:1: %s, %.3e of max|logit|\n",
                  memcmp(logits, ref, n * sizeof(float)) == 0 ? "bit-identical" : "differ", rel);
    /* the same float32 weights folded the same way: identical up to rounding at most */
    assert_true(rel <= 1e-6);
    free(logits);
}

static void test_f16_checkpoint(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char path[4096];
    test_tmp_file("e2e", "seed1_f16.safetensors", path, sizeof path);
    st_options o = {.f16 = 1};
    double t0 = test_now_s();
    uint64_t bytes = write_seed_checkpoint(path, &o);
    print_message("  wrote %s: %.1f MB in %.2f s\n", path, bytes / 1e6, test_now_s() - t0);
    irv2_model *m = load_model(s->ctx, path, IRV2_GEMM_NATIVE);
    remove(path);
    float *logits = run_model(m, s->input, BATCH, 0, "native, F16 safetensors");
    irv2_model_free(m);
    const float *ref = native_logits(s);
    double rel = test_rel_max_diff(logits, ref, ref, (size_t)BATCH * CLASSES);
    print_message("  F16 file vs synthetic:1: %.3e of max|logit|\n", rel);
    /* Every weight is rounded to 11 significant bits (relative error <= 2^-11 = 4.9e-4, and
     * BN statistics alike); these independent errors partly cancel over the ~250 layers and
     * were measured near 1e-3 of max|logit|. 1e-2 bounds that, while reading F16 bits wrongly
     * (byte order, exponent bias, subnormals) would give garbage. */
    assert_true(rel <= 1e-2);
    assert_true(rel > 0); /* the rounding did happen: this was not the F32 file */
    free(logits);
}

/* ---- (c) error paths -------------------------------------------------------------------- */

/* Loads weights expecting failure with want; the message must contain each of the mentions. */
static void expect_load_error(e2e *s, const char *weights, irv2_status want, const char *m1,
                              const char *m2)
{
    static max_align_t sentinel;
    irv2_model *m = (irv2_model *)&sentinel; /* must come back NULL */
    irv2_model_options opts = test_model_options(IRV2_GEMM_NATIVE);
    irv2_status st = irv2_model_load(s->ctx, weights, &opts, &m);
    const char *msg = irv2_last_error();
    print_message("  %s -> %s: %s\n", weights, irv2_status_string(st), msg);
    if (st != want)
        fail_msg("%s: got %s, expected %s", weights, irv2_status_string(st),
                 irv2_status_string(want));
    assert_null(m);
    if (m1 && !strstr(msg, m1)) fail_msg("message '%s' does not name '%s'", msg, m1);
    if (m2 && !strstr(msg, m2)) fail_msg("message '%s' does not name '%s'", msg, m2);
}

static void test_error_missing_and_empty_file(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char path[4096];
    test_tmp_file("e2e", "missing.safetensors", path, sizeof path);
    remove(path);
    expect_load_error(s, path, IRV2_ERR_IO, path, NULL);
    test_tmp_file("e2e", "empty.safetensors", path, sizeof path);
    assert_int_equal(test_write_file(path, "", 0), 0);
    expect_load_error(s, path, IRV2_ERR_FORMAT, path, NULL);
    remove(path);
}

static void test_error_renamed_tensor(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char path[4096];
    test_tmp_file("e2e", "renamed.safetensors", path, sizeof path);
    st_options o = {.rename_from = "block_b.7.conv_1x7.weight",
                    .rename_to = "block_b.7.conv_1x7.kernel"};
    write_seed_checkpoint(path, &o);
    expect_load_error(s, path, IRV2_ERR_MISSING_TENSOR, path, "'block_b.7.conv_1x7.weight'");
    remove(path);
}

static void test_error_reshaped_tensor(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    char path[4096];
    test_tmp_file("e2e", "reshaped.safetensors", path, sizeof path);
    /* [224, 192, 1, 3] stored as [224, 192, 3, 1]: same bytes, a transposed kernel */
    st_options o = {.reshape = "block_c.2.conv_1x3.weight",
                    .reshape_ndim = 4,
                    .reshape_shape = {224, 192, 3, 1}};
    write_seed_checkpoint(path, &o);
    expect_load_error(s, path, IRV2_ERR_SHAPE, path, "'block_c.2.conv_1x3.weight'");
    remove(path);
    /* a BN vector given as a matrix */
    o = (st_options){.reshape = "reduction_b.bn.running_var",
                     .reshape_ndim = 2,
                     .reshape_shape = {2, 1072}};
    write_seed_checkpoint(path, &o);
    expect_load_error(s, path, IRV2_ERR_SHAPE, path, "'reduction_b.bn.running_var'");
    remove(path);
}

static void test_error_truncated_file(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    const char *valid = valid_checkpoint(s);
    char path[4096];
    test_tmp_file("e2e", "truncated.safetensors", path, sizeof path);
    /* the first half of the valid file: the header promises more data than there is */
    FILE *in = fopen(valid, "rb");
    assert_non_null(in);
    assert_int_equal(fseek(in, 0, SEEK_END), 0);
    long size = ftell(in);
    assert_true(size > 0);
    rewind(in);
    size_t keep = (size_t)size / 2;
    char *bytes = malloc(keep);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, keep, in), keep);
    fclose(in);
    assert_int_equal(test_write_file(path, bytes, keep), 0);
    expect_load_error(s, path, IRV2_ERR_FORMAT, path, NULL);
    /* and only its first 1000 bytes: the header itself is cut */
    assert_int_equal(test_write_file(path, bytes, 1000), 0);
    expect_load_error(s, path, IRV2_ERR_FORMAT, path, NULL);
    free(bytes);
    remove(path);
}

static void test_error_bad_synthetic_spec(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    expect_load_error(s, "synthetic:abc", IRV2_ERR_INVALID_ARGUMENT, "synthetic:abc", NULL);
    expect_load_error(s, "synthetic:", IRV2_ERR_INVALID_ARGUMENT, "synthetic:", NULL);
    expect_load_error(s, "synthetic:12x", IRV2_ERR_INVALID_ARGUMENT, "synthetic:12x", NULL);
}

static void expect_context_error(const char *spec)
{
    static max_align_t sentinel;
    irv2_context *ctx = (irv2_context *)&sentinel;
    irv2_status st = irv2_context_create(spec, &ctx);
    print_message("  context '%s' -> %s: %s\n", spec, irv2_status_string(st), irv2_last_error());
    assert_int_equal(st, IRV2_ERR_DEVICE_SPEC);
    assert_null(ctx);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", spec);
    if (!strstr(irv2_last_error(), quoted))
        fail_msg("message '%s' does not name %s", irv2_last_error(), quoted);
}

static void test_error_device_spec(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    expect_context_error("gpu7x");
    expect_context_error("9:9");
    expect_context_error("4096");
}

static void test_error_bad_arguments(void **state)
{
    e2e *s = *state;
    SKIP_WITHOUT_DEVICE(s);
    float out[CLASSES];
    struct {
        irv2_model *m;
        const float *in;
        unsigned batch;
        float *out;
    } cases[] = {
        {s->native, s->input, 0, out},
        {s->native, NULL, 1, out},
        {s->native, s->input, 1, NULL},
        {NULL, s->input, 1, out},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        irv2_status st = irv2_model_run(cases[i].m, cases[i].in, cases[i].batch, cases[i].out, 0);
        print_message("  run case %zu -> %s: %s\n", i, irv2_status_string(st), irv2_last_error());
        assert_int_equal(st, IRV2_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(irv2_last_error(), "irv2_model_run"));
    }
    irv2_model *m = NULL;
    assert_int_equal(irv2_model_load(NULL, "synthetic:1", NULL, &m), IRV2_ERR_INVALID_ARGUMENT);
    assert_null(m);
    assert_int_equal(irv2_model_load(s->ctx, NULL, NULL, &m), IRV2_ERR_INVALID_ARGUMENT);
    assert_int_equal(irv2_model_load(s->ctx, "synthetic:1", NULL, NULL), IRV2_ERR_INVALID_ARGUMENT);
    irv2_model_options bad = test_model_options((irv2_gemm_backend)7);
    assert_int_equal(irv2_model_load(s->ctx, "synthetic:1", &bad, &m), IRV2_ERR_INVALID_ARGUMENT);
    assert_null(m);
    print_message("  bad gemm -> %s\n", irv2_last_error());
    assert_int_equal(irv2_context_create("cpu", NULL), IRV2_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_clblast),
        cmocka_unit_test(test_golden_native),
        cmocka_unit_test(test_golden_untuned),
        cmocka_unit_test(test_golden_winograd),
        cmocka_unit_test(test_golden_riders),
        cmocka_unit_test(test_reference_matches_golden),
        cmocka_unit_test(test_winograd_random_checkpoints),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_batch1_matches_batch2),
        cmocka_unit_test(test_f16_conversion),
        cmocka_unit_test(test_checkpoint_matches_synthetic),
        cmocka_unit_test(test_f16_checkpoint),
        cmocka_unit_test(test_error_missing_and_empty_file),
        cmocka_unit_test(test_error_renamed_tensor),
        cmocka_unit_test(test_error_reshaped_tensor),
        cmocka_unit_test(test_error_truncated_file),
        cmocka_unit_test(test_error_bad_synthetic_spec),
        cmocka_unit_test(test_error_device_spec),
        cmocka_unit_test(test_error_bad_arguments),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
