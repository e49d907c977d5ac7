/* bench.c: `irv2 bench`: per device, the start-up (cold and warm with --cold), the SGEMM peak
 * (--peak, the median of several), then per batch size --warmup untimed runs, timed runs (at
 * least --iters and --time), their statistics and one profiled run for the time per layer
 * kind (and per layer with --layers). A device or batch size that fails becomes an entry with
 * its error and the sweep goes on; the JSON document (jansson) is written in every case. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "cli.h"
#include "ranks.h"

#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MAX_KINDS 32
#define MAX_LAYERS 1024
#define MAX_DEVICES 64
#define MAX_RUNS 1000000u
#define PEAK_SAMPLES 5
/* A coefficient of variation above this says the runs were disturbed (another process, a
 * frequency change): the figures are then flagged as noisy. */
#define NOISY_CV 0.10

typedef struct stats {
    double median, mean, min, max, p90, p99, stddev; /* stddev NAN with one run */
} stats;

/* What one device contributes to the report. */
typedef struct device_run {
    char spec[64];
    int index;                     /* flat index, -1 when the spec is not one */
    irv2_device_info info;
    int have_info;
    double cold_ms, warm_ms;       /* NAN when not measured */
    double peak_native[PEAK_SAMPLES], peak_clblast[PEAK_SAMPLES];
    int npeak;
    double peak;                   /* the better side's median, NAN when not measured */
} device_run;

typedef struct bench {
    cli_args *a;
    FILE *info;                    /* where human lines go: stdout for table, else stderr */
    json_t *devices, *results;
    int failures, noisy;
    double load_start[3];
    int have_load_start;
} bench;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* A string that is valid UTF-8 whatever the device or the file system holds. */
static json_t *text(const char *s)
{
    char *u = cli_utf8(s, NULL);
    json_t *j = u ? json_string(u) : json_null();
    free(u);
    return j;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Percentile q (0..1) of sorted[0..n), interpolated linearly between ranks (as NumPy's
 * default). */
static double percentile(const double *sorted, size_t n, double q)
{
    double r = q * (double)(n - 1);
    size_t lo = (size_t)r;
    if (lo + 1 >= n) return sorted[n - 1];
    return sorted[lo] + (r - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

static int compute_stats(const double *times, size_t n, stats *s)
{
    double *sorted = malloc(n * sizeof *sorted);
    if (!sorted) return -1;
    memcpy(sorted, times, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += times[i];
    s->mean = sum / (double)n;
    double sq = 0;
    for (size_t i = 0; i < n; i++) sq += (times[i] - s->mean) * (times[i] - s->mean);
    s->stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : NAN;
    s->median = percentile(sorted, n, 0.5);
    s->p90 = percentile(sorted, n, 0.9);
    s->p99 = percentile(sorted, n, 0.99);
    s->min = sorted[0];
    s->max = sorted[n - 1];
    free(sorted);
    return 0;
}

static double median_of(const double *v, int n)
{
    double s[PEAK_SAMPLES];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > 0) s[k++] = v[i];
    if (k == 0) return NAN;
    qsort(s, (size_t)k, sizeof *s, cmp_double);
    return k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
}

static int read_load(double load[3])
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f) return -1;
    int n = fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]);
    fclose(f);
    return n == 3 ? 0 : -1;
}

static float *bench_input(unsigned batch)
{
    size_t count = (size_t)batch * 3 * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE;
    float *input = malloc(count * sizeof(float));
    for (size_t i = 0; input && i < count; i++)
        input[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    return input;
}

/* ---- the document's fixed parts --------------------------------------------------------- */

static json_t *host_json(const bench *b)
{
    json_t *h = json_object();
    struct utsname u;
    if (uname(&u) == 0) {
        json_object_set_new(h, "name", text(u.nodename));
        char os[600];
        snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
        json_object_set_new(h, "os", text(os));
    }
    char line[512], *cpu = NULL;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && !cpu && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            cpu = strchr(line, ':') + 1;
            while (*cpu == ' ' || *cpu == '\t') cpu++;
            cpu[strcspn(cpu, "\n")] = '\0';
        }
    if (f) fclose(f);
    json_object_set_new(h, "cpu", cpu ? text(cpu) : json_null());
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    json_object_set_new(h, "cpus", n > 0 ? json_integer(n) : json_null());
    double load[3];
    json_object_set_new(h, "load_average_start",
                        b->have_load_start ? json_pack("[fff]", b->load_start[0],
                                                       b->load_start[1], b->load_start[2])
                                           : json_null());
    json_object_set_new(h, "load_average_end",
                        read_load(load) == 0 ? json_pack("[fff]", load[0], load[1], load[2])
                                             : json_null());
    return h;
}

static json_t *settings_json(const cli_args *a)
{
    json_t *s = json_object(), *batches = json_array();
    for (int i = 0; i < a->nbatches; i++) json_array_append_new(batches, json_integer(a->batches[i]));
    json_object_set_new(s, "devices", str_or_null(a->device));
    json_object_set_new(s, "weights", text(a->weights));
    json_object_set_new(s, "gemm", json_string(irv2_gemm_name(a->model.gemm)));
    json_object_set_new(s, "variant", json_string(irv2_variant_name(a->model.variant)));
    json_object_set_new(s, "tune", json_string(irv2_tune_mode_name(a->model.tune)));
    json_object_set_new(s, "kernels", json_string(irv2_kernels_name(a->context.kernels)));
    json_object_set_new(s, "exact", json_boolean(a->exact || a->model.exclude));
    json_object_set_new(s, "binaries", str_or_null(a->context.binaries));
    json_object_set_new(s, "clblast_tuning", str_or_null(a->context.clblast_tuning));
    json_object_set_new(s, "batches", batches);
    json_object_set_new(s, "warmup", json_integer(a->warmup));
    json_object_set_new(s, "min_iterations", json_integer(a->iters));
    json_object_set_new(s, "min_time_s", json_real(a->min_time));
    json_object_set_new(s, "peak", json_boolean(a->peak));
    json_object_set_new(s, "cold", json_boolean(a->cold));
    json_object_set_new(s, "layers", json_boolean(a->layers));
    return s;
}

static json_t *device_json(const device_run *d, const char *error)
{
    json_t *j = json_object();
    json_object_set_new(j, "spec", text(d->spec));
    json_object_set_new(j, "index", d->have_info ? json_integer(d->info.index)
                                    : d->index >= 0 ? json_integer(d->index) : json_null());
    if (d->have_info) {
        const irv2_device_info *i = &d->info;
        json_object_set_new(j, "name", text(i->name));
        json_object_set_new(j, "vendor", text(i->vendor));
        json_object_set_new(j, "driver", text(i->driver));
        json_object_set_new(j, "version", text(i->version));
        json_object_set_new(j, "platform", text(i->platform_name));
        json_object_set_new(j, "type", json_string(i->type));
        json_object_set_new(j, "platform_device", json_string(i->spec));
        json_object_set_new(j, "compute_units", json_integer(i->compute_units));
        json_object_set_new(j, "global_mem_mib", json_real(i->global_mem_bytes / 1048576.0));
        json_object_set_new(j, "compiler", json_boolean(i->compiler_available));
        json_object_set_new(j, "clblast_tuned", json_boolean(i->clblast_tuned));
    } else {
        static const char *const keys[] = {"name", "vendor", "driver", "version", "platform",
                                           "type", "platform_device", "compute_units",
                                           "global_mem_mib", "compiler", "clblast_tuned"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            json_object_set_new(j, keys[k], json_null());
    }
    json_object_set_new(j, "start_ms",
                        json_pack("{s:o, s:o}", "cold", num(d->cold_ms), "warm", num(d->warm_ms)));
    if (d->npeak) {
        json_t *peak = json_object();
        const double *sides[2] = {d->peak_native, d->peak_clblast};
        const char *names[2] = {"native", "clblast"};
        for (int s = 0; s < 2; s++) {
            json_t *samples = json_array();
            for (int k = 0; k < d->npeak; k++)
                json_array_append_new(samples, sides[s][k] > 0 ? json_real(sides[s][k])
                                                               : json_null());
            json_object_set_new(peak, names[s],
                                json_pack("{s:o, s:o}", "median", num(median_of(sides[s], d->npeak)),
                                          "samples", samples));
        }
        json_object_set_new(peak, "size", json_integer(1024));
        json_object_set_new(peak, "gflops", num(d->peak));
        json_object_set_new(j, "sgemm_peak", peak);
    } else {
        json_object_set_new(j, "sgemm_peak", json_null());
    }
    json_object_set_new(j, "error", str_or_null(error));
    return j;
}

/* ---- one result ---------------------------------------------------------------------------- */

/* An entry with everything measured null, for a failure. */
static json_t *result_base(const device_run *d, unsigned batch)
{
    json_t *r = json_object();
    json_object_set_new(r, "device", text(d->have_info ? d->info.name : d->spec));
    json_object_set_new(r, "device_index", d->have_info ? json_integer(d->info.index)
                                           : d->index >= 0 ? json_integer(d->index)
                                                           : json_null());
    json_object_set_new(r, "batch", json_integer(batch));
    json_object_set_new(r, "status", json_string("ok"));
    json_object_set_new(r, "error", json_null());
    static const char *const measured[] = {"warmup", "iterations", "times_ms", "total_s",
                                           "images_per_s", "latency_ms", "cv", "noisy",
                                           "gflops", "peak_device_mib", "weight_mib",
                                           "launches_per_run", "kinds", "layers"};
    for (size_t k = 0; k < sizeof measured / sizeof measured[0]; k++)
        json_object_set_new(r, measured[k], json_null());
    return r;
}

static json_t *kinds_json(const irv2_layer_profile *kinds, size_t n, double peak)
{
    json_t *arr = json_array();
    double total = 0;
    for (size_t k = 0; k < n; k++) total += kinds[k].ms;
    for (size_t k = 0; k < n; k++) {
        const irv2_layer_profile *p = &kinds[k];
        double gf = p->gflop > 0 && p->ms > 0 ? p->gflop / (p->ms * 1e-3) : NAN;
        json_t *o = json_object();
        json_object_set_new(o, "kind", text(p->kind));
        json_object_set_new(o, "ms", json_real(p->ms));
        json_object_set_new(o, "share", total > 0 ? json_real(p->ms / total) : json_null());
        json_object_set_new(o, "gflop", json_real(p->gflop));
        json_object_set_new(o, "gflops", num(gf));
        json_object_set_new(o, "peak_fraction", num(gf / peak));
        json_object_set_new(o, "launches", json_integer(p->launches));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *layers_json(const irv2_layer_profile *layers, size_t n)
{
    json_t *arr = json_array();
    for (size_t k = 0; k < n; k++) {
        const irv2_layer_profile *p = &layers[k];
        double gf = p->gflop > 0 && p->ms > 0 ? p->gflop / (p->ms * 1e-3) : NAN;
        json_array_append_new(arr, json_pack("{s:o, s:f, s:f, s:o, s:i}", "layer", text(p->kind),
                                             "ms", p->ms, "gflop", p->gflop, "gflops", num(gf),
                                             "launches", (int)p->launches));
    }
    return arr;
}

/* ---- output ---------------------------------------------------------------------------- */

static double get_num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static double get_lat(const json_t *r, const char *key)
{
    return get_num(json_object_get(r, "latency_ms"), key);
}

/* v with prec decimals in width columns, "-" when it was not measured. */
static void cell(FILE *f, double v, int width, int prec)
{
    if (isfinite(v)) fprintf(f, " %*.*f", width, prec, v);
    else fprintf(f, " %*s", width, "-");
}


static void csv_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, ",%.6g", v);
    else fputc(',', f);
}

static const char *const table_columns[] = {"images_per_s", "median", "p90", "p99", "stddev",
                                            "min", "max", "gflops", "peak_device_mib"};

static void print_header(const bench *b, int table)
{
    if ((b->a->format == CLI_FORMAT_TABLE) != table) return;
    switch (b->a->format) {
    case CLI_FORMAT_TABLE:
        printf("%-28s %5s %9s %9s %9s %9s %9s %9s %9s %8s %8s\n", "device", "batch", "images/s",
               "median_ms", "p90_ms", "p99_ms", "stddev_ms", "min_ms", "max_ms", "GFLOP/s",
               "peak_MiB");
        break;
    case CLI_FORMAT_MD:
        printf("| device | batch | images/s | median ms | p90 ms | p99 ms | stddev ms | min ms | "
               "max ms | GFLOP/s | peak MiB | error |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        break;
    case CLI_FORMAT_CSV:
        printf("device,device_index,batch,status,images_per_s,median_ms,p90_ms,p99_ms,stddev_ms,"
               "min_ms,max_ms,gflops,peak_device_mib,iterations,error\n");
        break;
    default:
        break;
    }
}

/* The per-kind breakdown under a table row. */
static void print_kinds(const json_t *r)
{
    const json_t *kinds = json_object_get(r, "kinds");
    if (!json_is_array(kinds)) return;
    double launches = get_num(r, "launches_per_run"), batch = get_num(r, "batch");
    printf("      %.0f kernel launches per run (%.1f per image); device time by layer kind:\n",
           launches, launches / batch);
    size_t i;
    const json_t *k;
    json_array_foreach(kinds, i, k) {
        double gf = get_num(k, "gflops"), frac = get_num(k, "peak_fraction");
        printf("      %-16s %9.2f ms %5.1f%%", json_string_value(json_object_get(k, "kind")),
               get_num(k, "ms"), 100.0 * get_num(k, "share"));
        if (isfinite(gf)) printf(" %8.1f GFLOP/s", gf);
        else printf(" %8s        ", "-");
        if (isfinite(frac)) printf(" %6.1f%% of peak", 100.0 * frac);
        printf(" %5.0f launches\n", get_num(k, "launches"));
    }
}

/* --layers in the table: every layer, slowest first. */
static void print_layers(const json_t *r)
{
    const json_t *layers = json_object_get(r, "layers");
    size_t n = json_array_size(layers);
    if (!n) return;
    const json_t **order = malloc(n * sizeof *order);
    if (!order) return;
    for (size_t i = 0; i < n; i++) order[i] = json_array_get(layers, i);
    for (size_t i = 1; i < n; i++) /* insertion sort by time, descending */
        for (size_t j = i; j > 0 && get_num(order[j], "ms") > get_num(order[j - 1], "ms"); j--) {
            const json_t *t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    printf("      layer                              ms    GFLOP/s\n");
    for (size_t i = 0; i < n; i++) {
        printf("      %-32s %7.3f", json_string_value(json_object_get(order[i], "layer")),
               get_num(order[i], "ms"));
        cell(stdout, get_num(order[i], "gflops"), 9, 1);
        putchar('\n');
    }
    free(order);
}

static void print_result(const bench *b, const json_t *r)
{
    const char *device = json_string_value(json_object_get(r, "device"));
    const char *error = json_string_value(json_object_get(r, "error"));
    unsigned batch = (unsigned)json_integer_value(json_object_get(r, "batch"));
    double v[9];
    v[0] = get_num(r, "images_per_s");
    for (int k = 1; k < 7; k++) v[k] = get_lat(r, table_columns[k]);
    v[7] = get_num(r, "gflops");
    v[8] = get_num(r, "peak_device_mib");
    switch (b->a->format) {
    case CLI_FORMAT_TABLE:
        printf("%-28.28s %5u", device, batch);
        if (error) {
            printf(" FAILED: %s\n", error);
            return;
        }
        for (int k = 0; k < 9; k++) cell(stdout, v[k], k == 7 || k == 8 ? 8 : 9, k == 0 ? 2 : 1);
        putchar('\n');
        print_kinds(r);
        print_layers(r);
        break;
    case CLI_FORMAT_MD:
        printf("| %s | %u |", device, batch);
        for (int k = 0; k < 9; k++) {
            if (isfinite(v[k])) printf(" %.*f |", k == 0 ? 2 : 1, v[k]);
            else printf(" - |");
        }
        printf(" %s |\n", error ? error : "");
        break;
    case CLI_FORMAT_CSV: {
        cli_csv_field(stdout, device);
        const json_t *idx = json_object_get(r, "device_index");
        if (json_is_integer(idx)) printf(",%lld", (long long)json_integer_value(idx));
        else putchar(',');
        printf(",%u,%s", batch, error ? "failed" : "ok");
        for (int k = 0; k < 9; k++) csv_num(stdout, v[k]);
        csv_num(stdout, get_num(r, "iterations"));
        putchar(',');
        if (error) cli_csv_field(stdout, error);
        putchar('\n');
        break;
    }
    case CLI_FORMAT_JSONL: {
        char *line = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(9));
        if (line) puts(line);
        free(line);
        break;
    }
    default:
        break;
    }
}

/* Under MPI every entry says which machine and rank measured it. */
static void tag_rank(json_t *entry)
{
    if (cli_world.size < 2) return;
    json_object_set_new(entry, "host", json_string(cli_world.host));
    json_object_set_new(entry, "rank", json_integer(cli_world.rank));
}

static void add_result(bench *b, json_t *r)
{
    tag_rank(r);
    print_result(b, r);
    json_array_append_new(b->results, r);
}

/* MPI: every rank's devices, results, failures and noise on rank 0, appended to its own in
 * rank order (each rank sends one JSON line). Returns -1 when they could not be gathered. */
static int gather_ranks(bench *b)
{
    json_t *mine = json_pack("{s:O, s:O, s:i, s:b}", "devices", b->devices, "results",
                             b->results, "failures", b->failures, "noisy", b->noisy);
    char *line = cli_world.rank > 0 && mine ? json_dumps(mine, JSON_COMPACT) : NULL;
    json_decref(mine);
    size_t len = line ? strlen(line) : 0, total = 0;
    if (line) line[len] = '\0';
    char *text = NULL;
    if (line && (text = malloc(len + 2))) {
        memcpy(text, line, len);
        text[len++] = '\n';
    } else {
        len = 0;
    }
    free(line);
    char *all = cli_mpi_gather(text ? text : "", len, &total);
    free(text);
    int bad = cli_world.rank == 0 && !all;
    for (char *p = all, *nl; p && *p; p = nl + 1) {
        if (!(nl = strchr(p, '\n'))) break;
        *nl = '\0';
        json_t *r = json_loads(p, 0, NULL);
        json_t *devs = json_object_get(r, "devices"), *res = json_object_get(r, "results");
        if (!r || !json_is_array(devs) || !json_is_array(res)) bad = 1;
        else {
            json_array_extend(b->devices, devs);
            json_array_extend(b->results, res);
            b->failures += (int)json_integer_value(json_object_get(r, "failures"));
            b->noisy |= json_is_true(json_object_get(r, "noisy"));
        }
        json_decref(r);
    }
    free(all);
    return cli_mpi_all(!bad) ? 0 : -1;
}

/* A failed entry: recorded, reported on stderr as one line, and in the output. */
static void add_failure(bench *b, const device_run *d, unsigned batch, const char *error)
{
    json_t *r = result_base(d, batch);
    json_object_set_new(r, "status", json_string("failed"));
    json_object_set_new(r, "error", text(error));
    cli_error("bench: %s, batch %u: %s", d->have_info ? d->info.name : d->spec, batch, error);
    b->failures++;
    add_result(b, r);
}

/* ---- measuring ------------------------------------------------------------------------- */

/* Warm-up, the timed runs, the statistics and the profiled run of one batch size. On failure
 * returns the status with its message in error[0..error_cap), and *out untouched. */
static irv2_status measure(bench *b, irv2_model *model, const device_run *d, unsigned batch,
                           json_t **out, char *error, size_t error_cap)
{
    const cli_args *a = b->a;
    float *input = bench_input(batch);
    float *output = malloc((size_t)batch * irv2_model_num_classes(model) * sizeof(float));
    size_t cap = a->iters, n = 0;
    double *times = malloc(cap * sizeof *times);
    irv2_layer_profile kinds[MAX_KINDS], *layers = NULL;
    size_t nkinds = 0, nlayers = 0;
    irv2_status st = input && output && times ? IRV2_OK : IRV2_ERR_HOST_MEMORY;
    for (unsigned w = 0; st == IRV2_OK && w < a->warmup; w++)
        st = irv2_model_run(model, input, batch, output, 0);
    double t_start = now_ms(), total = 0;
    while (st == IRV2_OK && n < MAX_RUNS &&
           (n < a->iters || now_ms() - t_start < a->min_time * 1e3)) {
        if (n == cap) {
            double *t = realloc(times, 2 * cap * sizeof *times);
            if (!t) {
                st = IRV2_ERR_HOST_MEMORY;
                break;
            }
            times = t, cap *= 2;
        }
        double t0 = now_ms();
        st = irv2_model_run(model, input, batch, output, 0);
        times[n] = now_ms() - t0;
        total += times[n++];
    }
    stats s;
    if (st == IRV2_OK && compute_stats(times, n, &s) != 0) st = IRV2_ERR_HOST_MEMORY;
    if (st == IRV2_OK) st = irv2_model_set_profiling(model, 1);
    if (st == IRV2_OK) st = irv2_model_run(model, input, batch, output, 0);
    if (st == IRV2_OK) st = irv2_model_profile(model, kinds, MAX_KINDS, &nkinds);
    if (st == IRV2_OK && a->layers) {
        layers = malloc(MAX_LAYERS * sizeof *layers);
        st = layers ? irv2_model_profile_layers(model, layers, MAX_LAYERS, &nlayers)
                    : IRV2_ERR_HOST_MEMORY;
    }
    if (st == IRV2_OK) {
        irv2_model_set_profiling(model, 0);
        json_t *r = result_base(d, batch), *arr = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_real(times[i]));
        unsigned launches = 0;
        for (size_t k = 0; k < nkinds; k++) launches += kinds[k].launches;
        double cv = s.stddev / s.mean;
        int noisy = n >= 3 && cv > NOISY_CV;
        json_object_set_new(r, "warmup", json_integer(a->warmup));
        json_object_set_new(r, "iterations", json_integer((json_int_t)n));
        json_object_set_new(r, "times_ms", arr);
        json_object_set_new(r, "total_s", json_real(total * 1e-3));
        json_object_set_new(r, "images_per_s", json_real(batch * (double)n / (total * 1e-3)));
        json_object_set_new(r, "latency_ms",
                            json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:o}", "median", s.median,
                                      "mean", s.mean, "min", s.min, "max", s.max, "p90", s.p90,
                                      "p99", s.p99, "stddev", num(s.stddev)));
        json_object_set_new(r, "cv", num(cv));
        json_object_set_new(r, "noisy", json_boolean(noisy));
        json_object_set_new(r, "gflops",
                            json_real(irv2_model_flops_per_image(model) * batch / (s.median * 1e6)));
        json_object_set_new(r, "peak_device_mib",
                            json_real(irv2_model_device_bytes(model) / 1048576.0));
        json_object_set_new(r, "weight_mib", json_real(irv2_model_weight_bytes(model) / 1048576.0));
        json_object_set_new(r, "launches_per_run", json_integer(launches));
        json_object_set_new(r, "kinds", kinds_json(kinds, nkinds, d->peak));
        json_object_set_new(r, "layers", a->layers ? layers_json(layers, nlayers) : json_null());
        if (noisy) {
            double load[3];
            int have_load = read_load(load) == 0;
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            b->noisy = 1;
            char why[160] = "";
            if (have_load && cpus > 0)
                snprintf(why, sizeof why, " (load average %.1f on %ld CPUs)", load[0], cpus);
            cli_error("bench: warning: %s, batch %u: the run times spread widely (stddev %.0f%% "
                      "of the mean, from %.2fx to %.2fx the median): the machine was probably "
                      "busy%s; the figures are noisy", d->have_info ? d->info.name : d->spec,
                      batch, 100.0 * cv, s.min / s.median, s.max / s.median, why);
        }
        *out = r;
    } else {
        /* the message first: the calls that follow may replace it */
        snprintf(error, error_cap, "%s",
                 *irv2_last_error() ? irv2_last_error() : irv2_status_string(st));
        irv2_model_set_profiling(model, 0);
    }
    free(input);
    free(output);
    free(times);
    free(layers);
    return st;
}

/* Context + model + first run of the first batch size: the start-up a user waits for. A
 * failure in the first run is reported as *first_failed (the model stays usable for the other
 * batch sizes); a failure before it returns its status. */
static irv2_status start(bench *b, device_run *d, irv2_context **ctx, irv2_model **model,
                         double *ms, int *first_failed, char *first_error, size_t cap)
{
    const cli_args *a = b->a;
    irv2_model_options options = a->model;
    irv2_context_options copt = a->context;
    if (a->exact) options.exclude |= IRV2_EXCLUDE_WINOGRAD;
    if (!a->quiet) copt.progress = cli_progress;
    if (d->spec[0]) copt.device = d->spec;
    else if (a->device && *a->device) copt.device = a->device;
    double t0 = now_ms();
    *first_failed = 0;
    irv2_status st = irv2_context_open(&copt, ctx);
    if (st == IRV2_OK) {
        d->info = *irv2_context_device(*ctx);
        d->have_info = 1;
        st = irv2_model_load(*ctx, a->weights, &options, model);
    }
    if (st != IRV2_OK) return st;
    float *input = bench_input(a->batches[0]);
    float *output = malloc((size_t)a->batches[0] * irv2_model_num_classes(*model) * sizeof(float));
    irv2_status run = input && output ? irv2_model_run(*model, input, a->batches[0], output, 0)
                                      : IRV2_ERR_HOST_MEMORY;
    *ms = now_ms() - t0;
    if (run != IRV2_OK) {
        *first_failed = 1;
        snprintf(first_error, cap, "%s", *irv2_last_error() ? irv2_last_error()
                                                            : irv2_status_string(run));
    }
    free(input);
    free(output);
    return IRV2_OK;
}

static void close_model(irv2_context **ctx, irv2_model **model)
{
    irv2_model_free(*model);
    irv2_context_free(*ctx);
    *model = NULL, *ctx = NULL;
}

static void bench_device(bench *b, device_run *d)
{
    const cli_args *a = b->a;
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    char first_error[1024] = "", error[1024] = "";
    int first_failed = 0;
    double ms = NAN;
    d->cold_ms = d->warm_ms = d->peak = NAN;
    irv2_status st = start(b, d, &ctx, &model, &ms, &first_failed, first_error,
                           sizeof first_error);
    if (st == IRV2_OK && a->cold && !first_failed) { /* that was cold: again, caches filled */
        d->cold_ms = ms;
        close_model(&ctx, &model);
        st = start(b, d, &ctx, &model, &ms, &first_failed, first_error, sizeof first_error);
    }
    if (st != IRV2_OK) {
        snprintf(error, sizeof error, "%s", *irv2_last_error() ? irv2_last_error()
                                                               : irv2_status_string(st));
        if (st == IRV2_ERR_BUILD && ctx && *irv2_context_build_log(ctx))
            fprintf(stderr, "build log:\n%s\n", irv2_context_build_log(ctx));
        close_model(&ctx, &model);
        json_t *dj = device_json(d, error);
        tag_rank(dj);
        json_array_append_new(b->devices, dj);
        for (int i = 0; i < a->nbatches; i++) add_failure(b, d, a->batches[i], error);
        return;
    }
    const char *name = d->info.name;
    if (!first_failed) d->warm_ms = ms;
    if (!a->quiet || a->format == CLI_FORMAT_TABLE) {
        fprintf(b->info, "%s (%s, %s, driver %s, device %u):", name, d->info.type,
                d->info.platform_name, d->info.driver, d->info.index);
        if (isfinite(d->cold_ms)) fprintf(b->info, " cold start %.0f ms,", d->cold_ms);
        if (isfinite(d->warm_ms))
            fprintf(b->info, " start-up %.0f ms (context, weights, first run of batch %u)\n",
                    d->warm_ms, a->batches[0]);
        else
            fprintf(b->info, " loaded; the first run of batch %u failed\n", a->batches[0]);
    }
    if (a->peak) {
        for (d->npeak = 0; st == IRV2_OK && d->npeak < PEAK_SAMPLES; d->npeak++)
            st = irv2_context_sgemm_peak(ctx, 0, &d->peak_native[d->npeak],
                                         &d->peak_clblast[d->npeak]);
        if (st != IRV2_OK) {
            /* the peak is context, not a result: say so and go on without it */
            cli_error("bench: %s: SGEMM peak: %s", name, irv2_last_error());
            d->npeak = 0;
            st = IRV2_OK;
        } else {
            double native = median_of(d->peak_native, d->npeak);
            double clblast = median_of(d->peak_clblast, d->npeak);
            d->peak = isfinite(clblast) && !(clblast < native) ? clblast : native;
            if (!a->quiet || a->format == CLI_FORMAT_TABLE) {
                fprintf(b->info, "%s: SGEMM peak 1024^3 (median of %d): irv2 ", name, d->npeak);
                if (isfinite(native)) fprintf(b->info, "%.1f GFLOP/s", native);
                else fprintf(b->info, "-");
                fprintf(b->info, ", CLBlast ");
                if (isfinite(clblast)) fprintf(b->info, "%.1f GFLOP/s", clblast);
                else fprintf(b->info, "-");
                fprintf(b->info, " (%s)\n", d->info.clblast_tuned
                                                ? "with the CLBlast tuner results applied"
                                                : "CLBlast's built-in parameters");
            }
        }
    }
    json_t *dj = device_json(d, NULL);
    tag_rank(dj);
    json_array_append_new(b->devices, dj);
    print_header(b, 1);
    for (int i = 0; i < a->nbatches; i++) {
        unsigned batch = a->batches[i];
        if (i == 0 && first_failed) {
            add_failure(b, d, batch, first_error);
            continue;
        }
        json_t *r = NULL;
        st = measure(b, model, d, batch, &r, error, sizeof error);
        if (st == IRV2_OK) add_result(b, r);
        else add_failure(b, d, batch, error);
    }
    close_model(&ctx, &model);
}

/* The devices to measure: every device for "all", each of a comma-separated list, else the
 * default one (an empty spec). Returns the count, -1 after printing an error. */
static int device_list(const char *spec, device_run *runs, int cap)
{
    if (!spec || !*spec) {
        runs[0].spec[0] = '\0';
        runs[0].index = -1;
        return 1;
    }
    if (strcmp(spec, "all") == 0) {
        unsigned n;
        if (irv2_device_count(&n) != IRV2_OK) {
            cli_fail(IRV2_ERR_NO_PLATFORM, "bench");
            return -1;
        }
        int count = 0;
        for (unsigned i = 0; i < n && count < cap; i++, count++) {
            snprintf(runs[count].spec, sizeof runs[count].spec, "%u", i);
            runs[count].index = (int)i;
            if (irv2_device_info_get(i, &runs[count].info) == IRV2_OK) runs[count].have_info = 1;
        }
        return count;
    }
    int count = 0;
    for (const char *p = spec; *p;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof runs[0].spec || count == cap) {
            cli_error("bench: --device '%s': expected a device spec, a comma-separated list of "
                      "them, or all", spec);
            return -1;
        }
        memcpy(runs[count].spec, p, len);
        runs[count].spec[len] = '\0';
        char *end;
        long idx = strtol(runs[count].spec, &end, 10);
        runs[count].index = *end == '\0' && idx >= 0 ? (int)idx : -1;
        count++;
        p += len + (p[len] == ',');
        if (p[-1] == ',' && !*p) {
            cli_error("bench: --device '%s': a list ends with a device, not a comma", spec);
            return -1;
        }
    }
    return count;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* --cold: fresh, empty irv2 and PoCL caches for this process (before any OpenCL call); irv2's
 * is the folder `irv2` inside dir, in a->context.cache_dir. */
static int use_fresh_caches(cli_args *a, char *dir, size_t cap)
{
    static char irv2_dir[128];
    char sub[4200];
    snprintf(dir, cap, "/tmp/irv2-cold-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(irv2_dir, sizeof irv2_dir, "%s/irv2", dir);
    a->context.cache_dir = irv2_dir;
    snprintf(sub, sizeof sub, "%s/pocl", dir);
    setenv("POCL_CACHE_DIR", sub, 1);
    return 0;
}

static int write_file(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int ok = f && fputs(text, f) >= 0;
    if (f) ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        cli_error("bench: --json %s: cannot write it", path);
        return -1;
    }
    return 0;
}

int cmd_bench(cli_args *a)
{
    if (a->json_path && cli_check_output("bench", "--json", a->json_path) != 0)
        return CLI_EXIT_FAILURE;
    device_run *runs = calloc(MAX_DEVICES, sizeof *runs);
    if (!runs) return cli_fail(IRV2_ERR_HOST_MEMORY, "bench");
    /* MPI ranks without --device: each the device of its place among its machine's ranks */
    char by_rank[16];
    unsigned count = 0;
    if ((!a->device || !*a->device) && !a->context.device && cli_world.size > 1 &&
        irv2_device_count(&count) == IRV2_OK && count > 0) {
        snprintf(by_rank, sizeof by_rank, "%u", (unsigned)cli_world.local_rank % count);
        a->device = by_rank;
    }
    int ndev = device_list(a->device, runs, MAX_DEVICES);
    if (ndev < 0) {
        free(runs);
        return a->device && strcmp(a->device, "all") == 0 ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
    }
    char cold_dir[64] = "";
    if (a->cold && use_fresh_caches(a, cold_dir, sizeof cold_dir) != 0) {
        cli_error("bench: --cold: cannot create a temporary cache folder");
        free(runs);
        return CLI_EXIT_FAILURE;
    }
    bench b = {.a = a, .info = a->format == CLI_FORMAT_TABLE ? stdout : stderr,
               .devices = json_array(), .results = json_array()};
    b.have_load_start = read_load(b.load_start) == 0;
    time_t started = time(NULL);
    double t0 = now_ms();
    char when[32] = "";
    struct tm tm;
    if (gmtime_r(&started, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (cli_world.rank == 0) print_header(&b, 0);
    /* MPI: the ranks' table lines reach rank 0's stdout in rank order, their entries its JSON */
    cli_capture out;
    int gathered = cli_capture_begin(&out);
    for (int i = 0; i < ndev; i++) bench_device(&b, &runs[i]);
    gathered |= cli_capture_end(&out);
    if (cli_world.size > 1) gathered |= gather_ranks(&b);
    if (gathered) b.failures++;

    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string("irv2-bench/1"));
    json_object_set_new(doc, "irv2", json_pack("{s:s, s:s}", "version", irv2_version(), "commit",
                                               cli_commit()));
    json_object_set_new(doc, "time", json_string(when));
    json_object_set_new(doc, "duration_s", json_real((now_ms() - t0) * 1e-3));
    json_object_set_new(doc, "host", host_json(&b));
    json_object_set_new(doc, "settings", settings_json(a));
    json_object_set_new(doc, "devices", b.devices);
    json_object_set_new(doc, "results", b.results);
    json_object_set_new(doc, "failures", json_integer(b.failures));
    json_object_set_new(doc, "noisy", json_boolean(b.noisy));
    if (cli_world.size > 1) json_object_set_new(doc, "ranks", json_integer(cli_world.size));
    unsigned long long failures = (unsigned long long)b.failures;
    cli_mpi_sum(&failures, 1); /* every rank exits with the job's status */
    int rc = failures ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
    char *text_doc = cli_world.rank == 0 ? json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(9))
                                         : NULL;
    if (cli_world.rank > 0) {
        /* rank 0 reports and writes the document */
    } else if (!text_doc) {
        rc = cli_fail(IRV2_ERR_HOST_MEMORY, "bench: the JSON document");
    } else {
        if (a->format == CLI_FORMAT_JSON) puts(text_doc);
        if (a->json_path && write_file(a->json_path, text_doc) != 0) rc = CLI_EXIT_FAILURE;
    }
    if (cli_world.rank == 0 && b.failures && (!a->quiet || a->format == CLI_FORMAT_TABLE))
        fprintf(b.info, "%d of %zu entries failed\n", b.failures, json_array_size(b.results));
    free(text_doc);
    json_decref(doc);
    if (*cold_dir) nftw(cold_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(runs);
    return rc;
}
