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
                  winograd ? ", Winograd forced where allowed" : "", batch, test_now_s() - t0);
    return out;
}

/* The convs of the network that have a Winograd form: 3x3, stride 1 (never stacked: the
 * plan stacks 1x1 siblings only). */
static unsigned winograd_convs(irv2_variant variant)
{
    net n;
    assert_int_equal(net_build(variant == IRV2_VARIANT_TF ? NET_TF : NET_SEED, 1000, &n),
                     IRV2_OK);
    unsigned count = 0;
    for (int i = 0; i < n.nlayers; i++) {
        const net_layer *l = &n.layers[i];
        count += l->kind == LAYER_CONV && l->kh == 3 && l->kw == 3 && l->sh == 1 && l->sw == 1;
    }
    net_free(&n);
    return count;
}

/* F(4x4, 3x3) rounds more than direct convolution (its transforms enlarge the magnitudes the
 * rounding errors scale with; test_kernels bounds it per layer), and the tuner takes it only
 * where it is faster: forced everywhere, the whole network must still meet the reference.
 * Measured on PoCL (AVX-512), max |diff| / max |ref|: seed 1.32e-6 forced, 1.38e-6 exact; tf
 * 1.15e-6 forced, 0.99e-6 exact: the layers' rounding stays far below the tolerance, while
 * G's 1/24 as 1/25 moves the seed logits by 2.5e-3 and fails. */
void test_check_winograd_golden(irv2_context *ctx, const char *weights,
                                const irv2_model_options *opts, const float *input, int batch,
                                const float *ref, double tolerance)
{
    if (!conv_family_of(CONV_WINOGRAD)->offered(ctx)) {
        print_message("  the context offers no Winograd form (no vector kernels): skipped\n");
        skip();
    }
    irv2_model_options o = *opts;
    char what[160];
    for (int exact = 0; exact < 2; exact++) {
        o.exclude = exact ? opts->exclude | IRV2_EXCLUDE_WINOGRAD
                          : opts->exclude & ~IRV2_EXCLUDE_WINOGRAD;
        unsigned forced = 0;
        float *logits = test_model_logits(ctx, weights, &o, input, (unsigned)batch, 1, &forced);
        const unsigned want = exact ? 0 : winograd_convs(o.variant);
        print_message("  %u convs forced into the Winograd form (expected %u)\n", forced, want);
        assert_int_equal(forced, want);
        snprintf(what, sizeof what, "%s%s, %s", weights,
                 o.variant == IRV2_VARIANT_TF ? " (tf)" : "",
                 exact ? "exact (Winograd excluded)" : "Winograd everywhere");
        test_check_golden(logits, ref, batch, 1000, tolerance, what);
        free(logits);
    }
}
