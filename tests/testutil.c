/* testutil.c: helpers shared by the cmocka tests. */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/graph.h"
#include "net/weights.h"
#include "ops/conv_family.h"
#include "runtime/context.h"

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *test_tmp_path(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", env_or("IRV2_TEST_TMP", "/tmp"), name);
    return buf;
}

const char *test_data_path(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", env_or("IRV2_TEST_DATA", "tests/data"), name);
    return buf;
}

int test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    int rc = fclose(f);
    return (w == len && rc == 0) ? 0 : -1;
}

void test_fill_random(float *dst, size_t n, uint64_t seed, float lo, float hi)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        dst[i] = lo + (hi - lo) * (float)((s >> 40) * (1.0 / 16777216.0));
    }
}

int test_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int test_temp_leftovers(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash) *slash = '\0';
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s.tmp", base);
    DIR *d = opendir(slash ? (*dir ? dir : "/") : ".");
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(d);
    return n;
}

const char *test_tmp_file(const char *prefix, const char *leaf, char *buf, size_t size)
{
    char name[256];
    snprintf(name, sizeof name, "%s_%ld_%s", prefix, (long)getpid(), leaf);
    snprintf(buf, size, "%s", test_tmp_path(name));
    return buf;
}

const char *test_device(void)
{
    const char *spec = getenv("IRV2_DEVICE");
    return spec && *spec ? spec : "cpu";
}

irv2_model_options test_model_options(irv2_gemm_backend gemm)
{
    irv2_model_options o;
    irv2_model_options_init(&o);
    if (irv2_model_options_from_env(&o) != IRV2_OK) irv2_model_options_init(&o);
    o.gemm = gemm;
    return o;
}

double test_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double test_rel_max_diff(const float *a, const float *b, const float *ref, size_t n)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (e > d || isnan(e)) d = isnan(e) ? INFINITY : e;
        if (fabs((double)ref[i]) > m) m = fabs((double)ref[i]);
    }
    return m > 0 ? d / m : d;
}

void test_top5(const float *row, size_t n, size_t out[5])
{
    for (int k = 0; k < 5; k++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            int taken = 0;
            for (int j = 0; j < k; j++) taken |= out[j] == i;
            if (!taken && (best == SIZE_MAX || row[i] > row[best])) best = i;
        }
        out[k] = best;
    }
}

void test_check_golden(const float *logits, const float *ref, int batch, int classes,
                       double tolerance, const char *what)
{
    double rel = test_rel_max_diff(logits, ref, ref, (size_t)batch * classes);
    print_message("  %s: max|diff| / max|ref| = %.3e\n", what, rel);
    if (!(rel <= tolerance))
        fail_msg("%s: logits differ from the float64 reference by %.3e of max|ref| (> %g)", what,
                 rel, tolerance);
    for (int b = 0; b < batch; b++) {
        size_t ours[5], want[5];
        test_top5(logits + (size_t)b * classes, (size_t)classes, ours);
        test_top5(ref + (size_t)b * classes, (size_t)classes, want);
        for (int k = 0; k < 5; k++)
            if (ours[k] != want[k])
                fail_msg("%s: image %d: top-5 %zu %zu %zu %zu %zu, reference %zu %zu %zu %zu %zu",
                         what, b, ours[0], ours[1], ours[2], ours[3], ours[4], want[0], want[1],
                         want[2], want[3], want[4]);
    }
}

void test_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[8300];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) test_remove_tree(path);
        else remove(path);
    }
    closedir(d);
    rmdir(dir);
}

float *test_model_logits(irv2_context *ctx, const char *weights, const irv2_model_options *opts,
                         const float *input, unsigned batch, int winograd, unsigned *forced)
{
    irv2_model *m = NULL;
    irv2_status st = irv2_model_load(ctx, weights, opts, &m);
    if (st != IRV2_OK) fail_msg("loading %s: %s", weights, irv2_last_error());
    const size_t classes = irv2_model_num_classes(m);
    float *out = malloc((size_t)batch * classes * sizeof(float));
    assert_non_null(out);
    /* the forms are chosen when the plan is made, at the first run */
    ctx->winograd_everywhere = winograd, ctx->winograd_forced = 0;
    double t0 = test_now_s();
    st = irv2_model_run(m, input, batch, out, 0);
    ctx->winograd_everywhere = 0;
    if (forced) *forced = ctx->winograd_forced;
    irv2_model_free(m);
    if (st != IRV2_OK) {
        free(out);
        fail_msg("running %s: %s", weights, irv2_last_error());
    }
    print_message("  %s%s: batch %u planned and run in %.2f s\n", weights,
                  winograd ? ", a Winograd family forced where allowed" : "", batch,
                  test_now_s() - t0);
    return out;
}

/* The convs of the network that have a form of the Winograd family (never stacked: the plan
 * stacks 1x1 siblings only): F(4x4, 3x3) for 3x3 stride 1; the fused families where their
 * panel fits local memory at 8 lanes (their first tiling): the 1-D one for 3x3, 3x1, 1x3, 7x1
 * and 1x7 stride 1 (6 or 8 points x the taps across x cin), the 2-D one for 3x3 stride 1 (36 x
 * cin). */
static unsigned winograd_convs(const irv2_context *ctx, irv2_variant variant,
                               conv_family_id family)
{
    net n;
    assert_int_equal(net_build(variant == IRV2_VARIANT_TF ? NET_TF : NET_SEED, 1000, &n),
                     IRV2_OK);
    unsigned count = 0;
    for (int i = 0; i < n.nlayers; i++) {
        const net_layer *l = &n.layers[i];
        if (l->kind != LAYER_CONV || l->sh != 1 || l->sw != 1) continue;
        if (family == CONV_WINOGRAD) {
            count += l->kh == 3 && l->kw == 3;
            continue;
        }
        if (family == CONV_WINOGRAD_2D) {
            count += l->kh == 3 && l->kw == 3 &&
                     (cl_ulong)36 * l->cin * 8 * sizeof(float) <= ctx->profile.local_mem;
            continue;
        }
        const int taps = l->kh == 3 && l->kw == 3                     ? 18
                         : l->kh * l->kw == 3 && l->kh != l->kw        ? 6
                         : l->kh * l->kw == 7 && l->kh != l->kw        ? 8
                                                                       : 0;
        count += taps && (cl_ulong)taps * l->cin * 8 * sizeof(float) <= ctx->profile.local_mem;
    }
    net_free(&n);
    return count;
}

/* The least gap between the 5th and 6th largest logits of a row of ref (batch x 1000), over
 * max|ref|: what an error may not cross for the top-5 to stay the same. */
static double top5_margin(const float *ref, int batch)
{
    double margin = INFINITY, top = 0;
    for (size_t i = 0; i < (size_t)batch * 1000; i++) top = fmax(top, fabs((double)ref[i]));
    for (int b = 0; b < batch; b++) {
        const float *row = ref + (size_t)b * 1000;
        size_t five[5];
        test_top5(row, 1000, five);
        double sixth = -INFINITY;
        for (size_t i = 0; i < 1000; i++) {
            int in = 0;
            for (int k = 0; k < 5; k++) in |= five[k] == i;
            if (!in) sixth = fmax(sixth, row[i]);
        }
        margin = fmin(margin, ((double)row[five[4]] - sixth) / top);
    }
    return margin;
}

/* F(4x4, 3x3) rounds more than direct convolution (its transforms enlarge the magnitudes the
 * rounding errors scale with; test_kernels bounds it per layer), and the tuner takes it only
 * where it is faster: forced everywhere, the whole network must still meet the reference.
 * Measured on PoCL (AVX-512), max |diff| / max |ref|, Winograd forced / exact: seed 1.32e-6 /
 * 1.38e-6 (synthetic:2 1.47e-6 / 1.65e-6, synthetic:3 1.34e-6 / 1.09e-6); tf 1.15e-6 /
 * 0.99e-6 (synthetic:2 1.18e-6 / 0.87e-6); the references' 5th and 6th logits are 4.9e-3 to
 * 3.5e-2 apart. So the layers' rounding stays far below the tolerance, while G's 1/24 as
 * 1/25 moves the seed logits by 2.5e-3 and fails. */
void test_check_winograd_golden(irv2_context *ctx, const char *weights,
                                const irv2_model_options *opts, const float *input, int batch,
                                const float *ref, double tolerance)
{
    print_message("  %s: reference's 5th and 6th logits %.2e of max|logit| apart\n", weights,
                  top5_margin(ref, batch));
    irv2_model_options o = *opts;
    char what[160];
    /* each Winograd family forced (the 1-D one also with F(6, 3) down 3-tap columns), then
     * the exact run with all excluded */
    static const conv_family_id families[] = {CONV_WINOGRAD, CONV_WINOGRAD_1D, CONV_WINOGRAD_1D,
                                              CONV_WINOGRAD_2D, CONV_WINOGRAD};
    for (int k = 0; k < 5; k++) {
        const int exact = k == 4, refined = k == 2;
        const conv_family_id family = families[k];
        if (!exact && !conv_family_of(family)->offered(ctx)) {
            print_message("  no Winograd form in this context (no vector kernels)\n");
            continue;
        }
        o.exclude = exact ? opts->exclude | IRV2_EXCLUDE_WINOGRAD
                          : opts->exclude & ~IRV2_EXCLUDE_WINOGRAD;
        unsigned forced = 0;
        ctx->winograd_refined = refined;
        float *logits = test_model_logits(ctx, weights, &o, input, (unsigned)batch,
                                          (int)family + 1, &forced);
        ctx->winograd_refined = 0;
        const unsigned want = exact ? 0 : winograd_convs(ctx, o.variant, family);
        print_message("  %u convs forced into %s (expected %u)\n", forced,
                      conv_family_name(family), want);
        assert_int_equal(forced, want);
        snprintf(what, sizeof what, "%s%s, %s%s", weights,
                 o.variant == IRV2_VARIANT_TF ? " (tf)" : "",
                 exact ? "exact (Winograd excluded)" : conv_family_name(family),
                 refined ? " with F(6, 3)" : "");
        test_check_golden(logits, ref, batch, 1000, tolerance, what);
        free(logits);
    }
}

void test_check_riders_golden(irv2_context *ctx, const char *weights,
                              const irv2_model_options *opts, const float *input, int batch,
                              const float *ref, double tolerance, unsigned pools_launched)
{
    if (!conv_family_of(CONV_DIRECT)->offered(ctx)) {
        print_message("  no direct family in this context (no vector kernels)\n");
        return;
    }
    irv2_model *m = NULL;
    if (irv2_model_load(ctx, weights, opts, &m) != IRV2_OK)
        fail_msg("loading %s: %s", weights, irv2_last_error());
    float *out = malloc((size_t)batch * 1000 * sizeof(float));
    assert_non_null(out);
    assert_int_equal(irv2_model_set_profiling(m, 1), IRV2_OK);
    ctx->winograd_everywhere = CONV_DIRECT + 1, ctx->winograd_forced = 0;
    irv2_status st = irv2_model_run(m, input, (unsigned)batch, out, 0);
    ctx->winograd_everywhere = 0;
    if (st != IRV2_OK) fail_msg("running %s: %s", weights, irv2_last_error());
    irv2_layer_profile kinds[32];
    size_t n = 0;
    assert_int_equal(irv2_model_profile(m, kinds, 32, &n), IRV2_OK);
    unsigned pools = 0, seen = 0;
    for (size_t k = 0; k < n; k++)
        if (strcmp(kinds[k].kind, "maxpool") == 0) pools += kinds[k].launches, seen = 1;
    print_message("  %u convs forced into direct; max pools in their own launches: %u "
                  "(expected %u)\n", ctx->winograd_forced, pools, pools_launched);
    assert_true(seen);
    assert_int_equal(pools, pools_launched);
    char what[160];
    snprintf(what, sizeof what, "%s, direct with the max pools riding", weights);
    test_check_golden(out, ref, batch, 1000, tolerance, what);
    free(out);
    irv2_model_free(m);
}

/* ---- a float64 reference of the whole network ---- */

/* The epilogue (net.h) on v, the conv's sum plus its bias, at channel co; old is the output's
 * value before (residual). */
static double reference_epilogue(const net_layer *l, const layer_weights *lw, int co, double v,
                                 double old)
{
    if (l->epi.relu1) v = fmax(v, 0.0);
    if (l->epi.residual) v += old;
    if (l->epi.affine) v = v * lw->scale[co] + lw->shift[co];
    if (l->epi.relu2) v = fmax(v, 0.0);
    return v;
}

/* The output columns ox whose input column ox * s - p + k lies in [0, w): [*lo, *hi). */
static void tap_range(int wo, int s, int p, int k, int w, int *lo, int *hi)
{
    *lo = 0, *hi = wo;
    while (*lo < wo && *lo * s - p + k < 0) (*lo)++;
    while (*hi > *lo && (*hi - 1) * s - p + k >= w) (*hi)--;
}

static void reference_conv(const net_layer *l, const layer_weights *lw, const net_tensor *x,
                           const double *in, const net_tensor *y, double *out)
{
    const size_t plane = (size_t)y->h * y->w;
    double *acc = malloc(plane * sizeof *acc);
    assert_non_null(acc);
    for (int co = 0; co < l->cout; co++) {
        for (size_t i = 0; i < plane; i++) acc[i] = 0.0;
        for (int ci = 0; ci < l->cin; ci++)
            for (int ky = 0; ky < l->kh; ky++)
                for (int kx = 0; kx < l->kw; kx++) {
                    const double wv = lw->w[(((size_t)co * l->cin + ci) * l->kh + ky) * l->kw + kx];
                    int lo, hi;
                    tap_range(y->w, l->sw, l->pw, kx, x->w, &lo, &hi);
                    for (int oy = 0; oy < y->h; oy++) {
                        const int iy = oy * l->sh - l->ph + ky;
                        if (iy < 0 || iy >= x->h) continue;
                        const double *row = in + ((size_t)ci * x->h + iy) * x->w;
                        double *dst = acc + (size_t)oy * y->w;
                        const int shift = kx - l->pw;
                        for (int ox = lo; ox < hi; ox++) dst[ox] += wv * row[ox * l->sw + shift];
                    }
                }
        for (size_t i = 0; i < plane; i++)
            out[co * plane + i] = reference_epilogue(l, lw, co, acc[i] + lw->bias[co],
                                                     out[co * plane + i]);
    }
    free(acc);
}

static void reference_pool(const net_layer *l, const layer_weights *lw, const net_tensor *x,
                           const double *in, const net_tensor *y, double *out)
{
    for (int c = 0; c < x->c; c++)
        for (int oy = 0; oy < y->h; oy++)
            for (int ox = 0; ox < y->w; ox++) {
                const double *src = in + (size_t)c * x->h * x->w;
                double v = l->kind == LAYER_MAXPOOL ? -INFINITY : 0.0;
                int count = 0;
                /* max 3x3 stride 2 unpadded; average 3x3 stride 1 padded 1, padding not
                 * counted; global average over the whole plane */
                const int g = l->kind == LAYER_GLOBAL_AVGPOOL;
                const int y0 = g ? 0 : l->kind == LAYER_MAXPOOL ? 2 * oy : oy - 1;
                const int x0 = g ? 0 : l->kind == LAYER_MAXPOOL ? 2 * ox : ox - 1;
                const int y1 = g ? x->h : y0 + 3, x1 = g ? x->w : x0 + 3;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        if (iy < 0 || iy >= x->h || ix < 0 || ix >= x->w) continue;
                        const double e = src[(size_t)iy * x->w + ix];
                        v = l->kind == LAYER_MAXPOOL ? fmax(v, e) : v + e;
                        count++;
                    }
                if (l->kind != LAYER_MAXPOOL) v /= count;
                double *o = out + ((size_t)c * y->h + oy) * y->w + ox;
                *o = reference_epilogue(l, lw, c, v, *o);
            }
}

/* The storage of tensor t within its root's (one image, [c][h][w]). */
static double *tensor_at(const net *n, double **roots, int t)
{
    int coff;
    const int r = net_root(n, t, &coff);
    if (!roots[r]) {
        const net_tensor *rt = &n->tensors[r];
        roots[r] = calloc((size_t)rt->c * rt->h * rt->w, sizeof(double));
        assert_non_null(roots[r]);
    }
    return roots[r] + (size_t)coff * n->tensors[t].h * n->tensors[t].w;
}

float *test_reference_logits(const char *weights, irv2_variant variant, const float *image)
{
    const double t0 = test_now_s();
    net n;
    layer_weights *lw = NULL;
    if (weights_load(weights, variant, &n, &lw) != IRV2_OK)
        fail_msg("loading %s: %s", weights, irv2_last_error());
    double **roots = calloc((size_t)n.ntensors, sizeof *roots);
    int *last = malloc((size_t)n.ntensors * sizeof *last); /* the last layer using each root */
    assert_non_null(roots), assert_non_null(last);
    for (int t = 0; t < n.ntensors; t++) last[t] = -1;
    for (int i = 0; i < n.nlayers; i++) {
        last[net_root(&n, n.layers[i].in, NULL)] = i;
        last[net_root(&n, n.layers[i].out, NULL)] = i;
    }
    const net_tensor *in = &n.tensors[n.input];
    double *x = tensor_at(&n, roots, n.input);
    for (size_t i = 0; i < (size_t)in->c * in->h * in->w; i++) x[i] = image[i];
    for (int i = 0; i < n.nlayers; i++) {
        const net_layer *l = &n.layers[i];
        /* a layer never reads the storage it writes (residual sums add into another root) */
        assert_true(net_root(&n, l->in, NULL) != net_root(&n, l->out, NULL));
        const double *src = tensor_at(&n, roots, l->in);
        double *dst = tensor_at(&n, roots, l->out);
        if (l->kind == LAYER_CONV)
            reference_conv(l, &lw[i], &n.tensors[l->in], src, &n.tensors[l->out], dst);
        else reference_pool(l, &lw[i], &n.tensors[l->in], src, &n.tensors[l->out], dst);
        const int ends[2] = {net_root(&n, l->in, NULL), net_root(&n, l->out, NULL)};
        for (int k = 0; k < 2; k++)
            if (last[ends[k]] == i && ends[k] != net_root(&n, n.logits, NULL))
                free(roots[ends[k]]), roots[ends[k]] = NULL;
    }
    float *logits = malloc((size_t)n.classes * sizeof *logits);
    assert_non_null(logits);
    const double *y = tensor_at(&n, roots, n.logits);
    for (int i = 0; i < n.classes; i++) logits[i] = (float)y[i];
    print_message("  %s: float64 host reference in %.1f s\n", weights, test_now_s() - t0);
    for (int t = 0; t < n.ntensors; t++) free(roots[t]);
    free(roots), free(last);
    weights_free(lw, n.nlayers);
    net_free(&n);
    return logits;
}

void test_check_winograd_reference(irv2_context *ctx, const char *weights, irv2_variant variant,
                                   const float *image, double tolerance)
{
    float *ref = test_reference_logits(weights, variant, image);
    irv2_model_options opts = test_model_options(IRV2_GEMM_NATIVE);
    opts.variant = variant;
    test_check_winograd_golden(ctx, weights, &opts, image, 1, ref, tolerance);
    free(ref);
}

/* The host reference and PyTorch's float64 compute the same network and differ only by BN
 * folded in float32 on the host: measured 1.2e-7 (seed) and 7.6e-8 (tf) of max|logit|. 1e-5
 * catches any layer taken wrongly (a wrong one moves the logits by ~1e-2). */
#define REFERENCE_TOLERANCE 1e-5

void test_check_reference(const char *weights, irv2_variant variant, const float *image,
                          const float *golden)
{
    float *ref = test_reference_logits(weights, variant, image);
    test_check_golden(ref, golden, 1, 1000, REFERENCE_TOLERANCE, "host float64 reference");
    free(ref);
}
