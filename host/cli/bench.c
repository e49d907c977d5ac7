/* bench.c: `irv2 bench`: per device and batch size, an untimed warm-up, timed runs (images/s,
 * latency median/min/max, GFLOP/s), then one profiled run for the time per layer kind. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCHES 16
#define MAX_KINDS 32

typedef struct bench_args {
    const char *device, *weights, *json;
    unsigned batches[MAX_BATCHES];
    int nbatches, iters;
    irv2_model_options options;
} bench_args;

typedef struct bench_result {
    irv2_device_info dev;
    unsigned batch;
    double ips, median, min, max, gflops, peak_mib, weight_mib, load_ms, first_ms;
    irv2_layer_profile kinds[MAX_KINDS];
    size_t nkinds;
} bench_result;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int parse_batches(const char *s, bench_args *a)
{
    a->nbatches = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 4096 || a->nbatches == MAX_BATCHES) return -1;
        a->batches[a->nbatches++] = (unsigned)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return a->nbatches ? 0 : -1;
}

static int parse(int argc, char **argv, bench_args *a)
{
    memset(a, 0, sizeof *a);
    a->weights = "synthetic";
    a->iters = 5;
    a->batches[0] = 1, a->nbatches = 1;
    for (int i = 1; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "irv2: bench: option '%s' needs a value\n", o);
            return -1;
        }
        if (strcmp(o, "--device") == 0) a->device = v;
        else if (strcmp(o, "--weights") == 0) a->weights = v;
        else if (strcmp(o, "--json") == 0) a->json = v;
        else if (strcmp(o, "--iters") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 100000) {
                fprintf(stderr, "irv2: bench: --iters '%s': expected a positive count\n", v);
                return -1;
            }
            a->iters = (int)n;
        } else if (strcmp(o, "--batch") == 0) {
            if (parse_batches(v, a) != 0) {
                fprintf(stderr, "irv2: bench: --batch '%s': expected a list like 1,8\n", v);
                return -1;
            }
        } else if (strcmp(o, "--variant") == 0) {
            if (cli_parse_variant(v, &a->options) != 0) {
                fprintf(stderr, "irv2: bench: --variant '%s': use auto, seed or tf\n", v);
                return -1;
            }
        } else if (strcmp(o, "--gemm") == 0) {
            if (cli_parse_gemm(v, &a->options) != 0) {
                fprintf(stderr, "irv2: bench: --gemm '%s': use auto, clblast or native\n", v);
                return -1;
            }
        } else {
            fprintf(stderr, "irv2: bench: unknown option '%s'\n", o);
            return -1;
        }
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static irv2_status bench_one(irv2_model *model, const bench_args *a, unsigned batch,
                             bench_result *r)
{
    size_t in_count = (size_t)batch * 3 * 299 * 299;
    float *input = malloc(in_count * sizeof(float));
    float *output = malloc((size_t)batch * irv2_model_num_classes(model) * sizeof(float));
    double *times = malloc((size_t)a->iters * sizeof(double));
    irv2_status st = IRV2_OK;
    if (!input || !output || !times) {
        fprintf(stderr, "irv2: bench: out of host memory for batch %u\n", batch);
        st = IRV2_ERR_HOST_MEMORY;
    }
    for (size_t i = 0; st == IRV2_OK && i < in_count; i++)
        input[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    r->batch = batch;
    double t0 = now_ms();
    if (st == IRV2_OK) st = irv2_model_run(model, input, batch, output, 0); /* warm-up */
    r->first_ms = now_ms() - t0;
    double total = 0;
    for (int it = 0; st == IRV2_OK && it < a->iters; it++) {
        t0 = now_ms();
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
        irv2_model_set_profiling(model, 0);
        r->peak_mib = irv2_model_device_bytes(model) / 1048576.0;
        r->weight_mib = irv2_model_weight_bytes(model) / 1048576.0;
    }
    free(input);
    free(output);
    free(times);
    return st;
}

static void print_result(const bench_result *r)
{
    printf("%-28.28s %5u %9.2f %9.1f %9.1f %9.1f %8.1f %9.1f\n", r->dev.name, r->batch, r->ips,
           r->median, r->min, r->max, r->gflops, r->peak_mib);
    double total = 0;
    for (size_t k = 0; k < r->nkinds; k++) total += r->kinds[k].ms;
    for (size_t k = 0; k < r->nkinds; k++) {
        const irv2_layer_profile *p = &r->kinds[k];
        printf("      %-16s %9.2f ms %5.1f%% %8.1f GFLOP/s %5u launches\n", p->kind, p->ms,
               total > 0 ? 100.0 * p->ms / total : 0.0, p->ms > 0 ? p->gflop / (p->ms * 1e-3) : 0.0,
               p->launches);
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

static int write_json(const char *path, const bench_result *rs, int n)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "irv2: %s: cannot write\n", path);
        return -1;
    }
    fprintf(f, "{\"results\": [");
    for (int i = 0; i < n; i++) {
        const bench_result *r = &rs[i];
        fprintf(f, "%s\n  {\"device\": \"", i ? "," : "");
        json_string(f, r->dev.name);
        fprintf(f,
                "\", \"batch\": %u, \"images_per_s\": %.4f, "
                "\"latency_ms\": {\"median\": %.3f, \"min\": %.3f, \"max\": %.3f}, "
                "\"gflops\": %.3f, \"first_run_ms\": %.3f, \"peak_device_mib\": %.2f, "
                "\"weight_mib\": %.2f, \"layers\": [",
                r->batch, r->ips, r->median, r->min, r->max, r->gflops,
                r->first_ms, r->peak_mib, r->weight_mib);
        for (size_t k = 0; k < r->nkinds; k++) {
            const irv2_layer_profile *p = &r->kinds[k];
            fprintf(f, "%s{\"kind\": \"%s\", \"ms\": %.4f, \"gflop\": %.4f, \"launches\": %u}",
                    k ? ", " : "", p->kind, p->ms, p->gflop, p->launches);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        fprintf(stderr, "irv2: %s: cannot write\n", path);
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

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    if (parse(argc, argv, &a) != 0) return 2;
    char specs[16][32];
    int ndev = device_list(a.device, specs, 16);
    if (ndev < 0) return cli_fail(IRV2_ERR_NO_PLATFORM, NULL);
    bench_result *results = calloc((size_t)ndev * a.nbatches, sizeof *results);
    if (!results) return cli_fail(IRV2_ERR_HOST_MEMORY, NULL);
    int nres = 0, rc = 0;
    printf("%-28s %5s %9s %9s %9s %9s %8s %9s\n", "device", "batch", "images/s", "median_ms",
           "min_ms", "max_ms", "GFLOP/s", "peak_MiB");
    for (int d = 0; d < ndev && rc == 0; d++) {
        irv2_context *ctx = NULL;
        irv2_model *model = NULL;
        double t0 = now_ms();
        irv2_status st = irv2_context_create(specs[d], &ctx);
        if (st == IRV2_OK) st = irv2_model_load(ctx, a.weights, &a.options, &model);
        double load_ms = now_ms() - t0;
        for (int b = 0; st == IRV2_OK && b < a.nbatches; b++) {
            bench_result *r = &results[nres];
            r->dev = *irv2_context_device(ctx);
            r->load_ms = load_ms;
            st = bench_one(model, &a, a.batches[b], r);
            if (st == IRV2_OK) print_result(&results[nres++]);
        }
        if (st != IRV2_OK) rc = cli_fail(st, NULL);
        irv2_model_free(model);
        irv2_context_free(ctx);
    }
    if (rc == 0 && a.json && write_json(a.json, results, nres) != 0) rc = 1;
    free(results);
    return rc;
}
