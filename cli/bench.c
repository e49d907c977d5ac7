/* bench.c: `irv2 bench`: per device, start-up time (cold and warm with --cold), the SGEMM
 * peak (--peak), then per batch size an untimed warm-up, timed runs (images/s, latency
 * median/min/max, GFLOP/s) and one profiled run for the time per layer kind. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "cli.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_KINDS 32

typedef struct device_figures {
    irv2_device_info dev;
    double cold_ms, warm_ms;          /* context + load + first run; cold_ms < 0 if not measured */
    double peak_native, peak_clblast; /* GFLOP/s; 0 if not measured */
} device_figures;

typedef struct bench_result {
    const device_figures *fig;
    unsigned batch;
    double ips, median, min, max, gflops, peak_mib, weight_mib;
    unsigned launches;
    irv2_layer_profile kinds[MAX_KINDS];
    size_t nkinds;
} bench_result;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *bench_input(unsigned batch)
{
    size_t count = (size_t)batch * 3 * 299 * 299;
    float *input = malloc(count * sizeof(float));
    for (size_t i = 0; input && i < count; i++)
        input[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    return input;
}

/* --layers: every layer's device time in the profiled run, slowest first. */
static void print_layers(const irv2_model *model)
{
    enum { MAX_LAYERS = 1024 };
    irv2_layer_profile *layers = malloc(MAX_LAYERS * sizeof *layers);
    size_t n = 0;
    if (layers && irv2_model_profile_layers(model, layers, MAX_LAYERS, &n) == IRV2_OK) {
        for (size_t i = 1; i < n; i++) /* insertion sort by time, descending */
            for (size_t j = i; j > 0 && layers[j].ms > layers[j - 1].ms; j--) {
                irv2_layer_profile t = layers[j];
                layers[j] = layers[j - 1], layers[j - 1] = t;
            }
        printf("      layer                              ms    GFLOP/s\n");
        for (size_t i = 0; i < n; i++)
            printf("      %-32s %7.3f %9.1f\n", layers[i].kind, layers[i].ms,
                   layers[i].ms > 0 ? layers[i].gflop / (layers[i].ms * 1e-3) : 0.0);
    }
    free(layers);
}

static irv2_status bench_one(irv2_model *model, const cli_args *a, unsigned batch,
                             bench_result *r)
{
    float *input = bench_input(batch);
    float *output = malloc((size_t)batch * irv2_model_num_classes(model) * sizeof(float));
    double *times = malloc((size_t)a->iters * sizeof(double));
    irv2_status st = input && output && times ? IRV2_OK : IRV2_ERR_HOST_MEMORY;
    r->batch = batch;
    if (st == IRV2_OK) st = irv2_model_run(model, input, batch, output, 0); /* warm-up */
    double total = 0;
    for (unsigned it = 0; st == IRV2_OK && it < a->iters; it++) {
        double t0 = now_ms();
        st = irv2_model_run(model, input, batch, output, 0);
        times[it] = now_ms() - t0;
        total += times[it];
    }
    if (st == IRV2_OK) {
        qsort(times, (size_t)a->iters, sizeof *times, cmp_double);
        r->median = a->iters % 2 ? times[a->iters / 2]
                                 : 0.5 * (times[a->iters / 2 - 1] + times[a->iters / 2]);
        r->min = times[0], r->max = times[a->iters - 1];
        r->ips = batch * a->iters / (total * 1e-3);
        r->gflops = irv2_model_flops_per_image(model) * batch / (r->median * 1e6);
        st = irv2_model_set_profiling(model, 1);
        if (st == IRV2_OK) st = irv2_model_run(model, input, batch, output, 0);
        if (st == IRV2_OK) st = irv2_model_profile(model, r->kinds, MAX_KINDS, &r->nkinds);
        if (st == IRV2_OK && a->layers) print_layers(model);
        irv2_model_set_profiling(model, 0);
        for (size_t k = 0; k < r->nkinds; k++) r->launches += r->kinds[k].launches;
        r->peak_mib = irv2_model_device_bytes(model) / 1048576.0;
        r->weight_mib = irv2_model_weight_bytes(model) / 1048576.0;
    }
    free(input);
    free(output);
    free(times);
    return st;
}

static double peak_of(const bench_result *r)
{
    double p = r->fig->peak_native > r->fig->peak_clblast ? r->fig->peak_native
                                                          : r->fig->peak_clblast;
    return p;
}

static void print_result(const bench_result *r)
{
    printf("%-28.28s %5u %9.2f %9.1f %9.1f %9.1f %8.1f %9.1f\n", r->fig->dev.name, r->batch,
           r->ips, r->median, r->min, r->max, r->gflops, r->peak_mib);
    double total = 0, peak = peak_of(r);
    for (size_t k = 0; k < r->nkinds; k++) total += r->kinds[k].ms;
    printf("      %u kernel launches per run (%.1f per image); device time by layer kind:\n",
           r->launches, (double)r->launches / r->batch);
    for (size_t k = 0; k < r->nkinds; k++) {
        const irv2_layer_profile *p = &r->kinds[k];
        double gf = p->ms > 0 ? p->gflop / (p->ms * 1e-3) : 0.0;
        printf("      %-16s %9.2f ms %5.1f%% %8.1f GFLOP/s", p->kind, p->ms,
               total > 0 ? 100.0 * p->ms / total : 0.0, gf);
        if (peak > 0 && p->gflop > 0) printf(" %5.1f%% of peak", 100.0 * gf / peak);
        printf(" %5u launches\n", p->launches);
    }
}

/* s as a JSON string body: quotes, backslashes and control characters escaped. */
static void json_string(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
}

static void json_result(FILE *f, const bench_result *r)
{
    const device_figures *d = r->fig;
    double total = 0, peak = peak_of(r);
    for (size_t k = 0; k < r->nkinds; k++) total += r->kinds[k].ms;
    fprintf(f, "\n  {\"device\": \"");
    json_string(f, d->dev.name);
    fprintf(f,
            "\", \"batch\": %u, \"images_per_s\": %.4f, "
            "\"latency_ms\": {\"median\": %.3f, \"min\": %.3f, \"max\": %.3f}, "
            "\"gflops\": %.3f, \"peak_device_mib\": %.2f, \"weight_mib\": %.2f, "
            "\"launches_per_run\": %u, \"start_ms\": {\"cold\": %.1f, \"warm\": %.1f}, "
            "\"sgemm_peak_gflops\": {\"native\": %.2f, \"clblast\": %.2f}, "
            "\"clblast_tuned\": %s, \"layers\": [",
            r->batch, r->ips, r->median, r->min, r->max, r->gflops, r->peak_mib, r->weight_mib,
            r->launches, d->cold_ms, d->warm_ms, d->peak_native, d->peak_clblast,
            d->dev.clblast_tuned ? "true" : "false");
    for (size_t k = 0; k < r->nkinds; k++) {
        const irv2_layer_profile *p = &r->kinds[k];
        double gf = p->ms > 0 ? p->gflop / (p->ms * 1e-3) : 0.0;
        fprintf(f,
                "%s{\"kind\": \"%s\", \"ms\": %.4f, \"share\": %.4f, \"gflop\": %.4f, "
                "\"gflops\": %.2f, \"peak_fraction\": %.4f, \"launches\": %u}",
                k ? ", " : "", p->kind, p->ms, total > 0 ? p->ms / total : 0.0, p->gflop, gf,
                peak > 0 ? gf / peak : 0.0, p->launches);
    }
    fprintf(f, "]}");
}

static int write_json(const char *path, const bench_result *rs, int n)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        cli_error("%s: cannot write", path);
        return -1;
    }
    fprintf(f, "{\"results\": [");
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', f);
        json_result(f, &rs[i]);
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        cli_error("%s: cannot write", path);
        return -1;
    }
    return 0;
}

/* Devices to measure: every device for "all", else the one the spec selects. */
static int device_list(const char *spec, char specs[][32], int cap)
{
    if (!spec || strcmp(spec, "all") != 0) {
        snprintf(specs[0], 32, "%s", spec ? spec : "");
        return 1;
    }
    unsigned n;
    if (irv2_device_count(&n) != IRV2_OK) return -1;
    int count = 0;
    for (unsigned i = 0; i < n && count < cap; i++) snprintf(specs[count++], 32, "%u", i);
    return count;
}

/* Context + model + first run of the first batch size: the start-up a user waits for. */
static irv2_status start(const char *spec, const cli_args *a, irv2_context **ctx,
                         irv2_model **model, double *ms)
{
    double t0 = now_ms();
    float *input = bench_input(a->batches[0]), *output = NULL;
    irv2_status st = input ? irv2_context_create(spec, ctx) : IRV2_ERR_HOST_MEMORY;
    irv2_model_options options = a->model;
    if (!a->quiet) options.progress = cli_progress;
    if (st == IRV2_OK) st = irv2_model_load(*ctx, a->weights, &options, model);
    if (st == IRV2_OK) {
        output = malloc((size_t)a->batches[0] * irv2_model_num_classes(*model) * sizeof(float));
        st = output ? irv2_model_run(*model, input, a->batches[0], output, 0)
                    : IRV2_ERR_HOST_MEMORY;
    }
    *ms = now_ms() - t0;
    free(input);
    free(output);
    return st;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* --cold: fresh, empty irv2 and PoCL caches for this process (before any OpenCL call). */
static int use_fresh_caches(char *dir, size_t cap)
{
    char sub[4200];
    snprintf(dir, cap, "/tmp/irv2-cold-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(sub, sizeof sub, "%s/irv2", dir);
    setenv("IRV2_CACHE_DIR", sub, 1);
    snprintf(sub, sizeof sub, "%s/pocl", dir);
    setenv("POCL_CACHE_DIR", sub, 1);
    return 0;
}

static irv2_status bench_device(const char *spec, const cli_args *a, device_figures *fig,
                                bench_result *results, int *nres)
{
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    double ms;
    fig->cold_ms = -1;
    irv2_status st = start(spec, a, &ctx, &model, &ms);
    if (st == IRV2_OK && a->cold) { /* that was cold; start again with the caches filled */
        fig->cold_ms = ms;
        irv2_model_free(model), model = NULL;
        irv2_context_free(ctx), ctx = NULL;
        st = start(spec, a, &ctx, &model, &ms);
    }
    fig->warm_ms = ms;
    if (st == IRV2_OK) fig->dev = *irv2_context_device(ctx);
    if (st == IRV2_OK && a->peak)
        st = irv2_context_sgemm_peak(ctx, 0, &fig->peak_native, &fig->peak_clblast);
    if (st == IRV2_OK) {
        if (fig->cold_ms >= 0) printf("%s: cold start %.0f ms, ", fig->dev.name, fig->cold_ms);
        else printf("%s: ", fig->dev.name);
        printf("start-up %.0f ms (context, weights, first run of batch %u)\n", fig->warm_ms,
               a->batches[0]);
        if (a->peak)
            printf("%s: SGEMM peak 1024^3: irv2 %.1f GFLOP/s, CLBlast %.1f GFLOP/s (%s)\n",
                   fig->dev.name, fig->peak_native, fig->peak_clblast,
                   fig->dev.clblast_tuned ? "with the CLBlast tuner results applied"
                                          : "CLBlast's built-in parameters");
    }
    if (st == IRV2_OK)
        printf("%-28s %5s %9s %9s %9s %9s %8s %9s\n", "device", "batch", "images/s", "median_ms",
               "min_ms", "max_ms", "GFLOP/s", "peak_MiB");
    for (int b = 0; st == IRV2_OK && b < a->nbatches; b++) {
        bench_result *r = &results[*nres];
        r->fig = fig;
        st = bench_one(model, a, a->batches[b], r);
        if (st == IRV2_OK) print_result(&results[(*nres)++]);
    }
    irv2_model_free(model);
    irv2_context_free(ctx);
    return st;
}

int cmd_bench(cli_args *a_)
{
    const cli_args a = *a_;
    char cold_dir[64] = "";
    if (a.json_path && cli_check_output("bench", "--json", a.json_path) != 0)
        return CLI_EXIT_FAILURE;
    if (a.cold && use_fresh_caches(cold_dir, sizeof cold_dir) != 0) {
        cli_error("bench: --cold: cannot create a temporary cache folder");
        return CLI_EXIT_FAILURE;
    }
    char specs[16][32];
    int ndev = device_list(a.device, specs, 16), nres = 0, rc = 0;
    bench_result *results = ndev > 0 ? calloc((size_t)ndev * a.nbatches, sizeof *results) : NULL;
    device_figures *figs = ndev > 0 ? calloc((size_t)ndev, sizeof *figs) : NULL;
    if (ndev < 0) rc = cli_fail(IRV2_ERR_NO_PLATFORM, NULL);
    else if (!results || !figs) rc = cli_fail(IRV2_ERR_HOST_MEMORY, NULL);
    for (int d = 0; d < ndev && rc == 0; d++) {
        irv2_status st = bench_device(specs[d], &a, &figs[d], results, &nres);
        if (st != IRV2_OK) rc = cli_fail(st, NULL);
    }
    if (rc == 0 && a.json_path && write_json(a.json_path, results, nres) != 0) rc = 1;
    if (*cold_dir) nftw(cold_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(results);
    free(figs);
    return rc;
}
