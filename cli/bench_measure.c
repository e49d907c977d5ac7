/* bench_measure.c: measuring for `irv2 bench`: the clock, the timed runs of one batch size,
 * their statistics (median, percentiles, spread) and the profiled run, as a result entry. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_KINDS 32
#define MAX_LAYERS 1024
#define MAX_RUNS 1000000u
/* A coefficient of variation above this says the runs were disturbed (another process, a
 * frequency change): the figures are then flagged as noisy. */
#define NOISY_CV 0.10

typedef struct stats {
    double median, mean, min, max, p90, p99, stddev; /* stddev NAN with one run */
} stats;

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
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

double bench_median(const double *v, int n)
{
    double s[BENCH_PEAK_SAMPLES];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > 0) s[k++] = v[i];
    if (k == 0) return NAN;
    qsort(s, (size_t)k, sizeof *s, cmp_double);
    return k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
}

int bench_read_load(double load[3])
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f) return -1;
    int n = fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]);
    fclose(f);
    return n == 3 ? 0 : -1;
}

float *bench_input(unsigned batch)
{
    size_t count = (size_t)batch * 3 * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE;
    float *input = malloc(count * sizeof(float));
    for (size_t i = 0; input && i < count; i++)
        input[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    return input;
}

/* The timings of one batch size: every timed run, and the profiled run's rows. */
typedef struct timings {
    double *times, total;         /* ms per timed run, and their sum */
    size_t n, cap;
    irv2_layer_profile kinds[MAX_KINDS], *layers;
    size_t nkinds, nlayers;
} timings;

/* --warmup untimed runs, then timed runs until --iters and --time are both reached. */
static irv2_status timed_runs(const cli_args *a, irv2_model *model, unsigned batch,
                              const float *input, float *output, timings *t)
{
    irv2_status st = IRV2_OK;
    for (unsigned w = 0; st == IRV2_OK && w < a->warmup; w++)
        st = irv2_model_run(model, input, batch, output, 0);
    double t_start = bench_now_ms();
    while (st == IRV2_OK && t->n < MAX_RUNS &&
           (t->n < a->iters || bench_now_ms() - t_start < a->min_time * 1e3)) {
        if (t->n == t->cap) {
            double *grown = realloc(t->times, 2 * t->cap * sizeof *grown);
            if (!grown) return IRV2_ERR_HOST_MEMORY;
            t->times = grown, t->cap *= 2;
        }
        double t0 = bench_now_ms();
        st = irv2_model_run(model, input, batch, output, 0);
        t->times[t->n] = bench_now_ms() - t0;
        t->total += t->times[t->n++];
    }
    return st;
}

/* One run with profiling on: the device time per layer kind (and per layer with --layers). */
static irv2_status profiled_run(const cli_args *a, irv2_model *model, unsigned batch,
                                const float *input, float *output, timings *t)
{
    irv2_status st = irv2_model_set_profiling(model, 1);
    if (st == IRV2_OK) st = irv2_model_run(model, input, batch, output, 0);
    if (st == IRV2_OK) st = irv2_model_profile(model, t->kinds, MAX_KINDS, &t->nkinds);
    if (st == IRV2_OK && a->layers) {
        t->layers = malloc(MAX_LAYERS * sizeof *t->layers);
        st = t->layers ? irv2_model_profile_layers(model, t->layers, MAX_LAYERS, &t->nlayers)
                       : IRV2_ERR_HOST_MEMORY;
    }
    return st;
}

/* The warning for runs whose times spread widely: the machine was probably busy. */
static void warn_noisy(bench *b, const device_run *d, unsigned batch, const stats *s, double cv)
{
    double load[3];
    int have_load = bench_read_load(load) == 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char why[160] = "";
    b->noisy = 1;
    if (have_load && cpus > 0)
        snprintf(why, sizeof why, " (load average %.1f on %ld CPUs)", load[0], cpus);
    cli_error("bench: warning: %s, batch %u: the run times spread widely (stddev %.0f%% "
              "of the mean, from %.2fx to %.2fx the median): the machine was probably "
              "busy%s; the figures are noisy", d->have_info ? d->info.name : d->spec,
              batch, 100.0 * cv, s->min / s->median, s->max / s->median, why);
}

/* The result entry of the timings t of batch on model, with their statistics s. */
static json_t *result_json(bench *b, irv2_model *model, const device_run *d, unsigned batch,
                           const timings *t, const stats *s)
{
    const cli_args *a = b->a;
    json_t *r = bench_result_base(d, batch), *arr = json_array();
    for (size_t i = 0; i < t->n; i++) json_array_append_new(arr, json_real(t->times[i]));
    unsigned launches = 0;
    for (size_t k = 0; k < t->nkinds; k++) launches += t->kinds[k].launches;
    double cv = s->stddev / s->mean;
    int noisy = t->n >= 3 && cv > NOISY_CV;
    json_object_set_new(r, "warmup", json_integer(a->warmup));
    json_object_set_new(r, "iterations", json_integer((json_int_t)t->n));
    json_object_set_new(r, "times_ms", arr);
    json_object_set_new(r, "total_s", json_real(t->total * 1e-3));
    json_object_set_new(r, "images_per_s", json_real(batch * (double)t->n / (t->total * 1e-3)));
    json_object_set_new(r, "latency_ms",
                        json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:o}", "median", s->median,
                                  "mean", s->mean, "min", s->min, "max", s->max, "p90", s->p90,
                                  "p99", s->p99, "stddev", bench_num(s->stddev)));
    json_object_set_new(r, "cv", bench_num(cv));
    json_object_set_new(r, "noisy", json_boolean(noisy));
    json_object_set_new(r, "gflops",
                        json_real(irv2_model_flops_per_image(model) * batch / (s->median * 1e6)));
    json_object_set_new(r, "peak_device_mib",
                        json_real(irv2_model_device_bytes(model) / 1048576.0));
    json_object_set_new(r, "weight_mib", json_real(irv2_model_weight_bytes(model) / 1048576.0));
    json_object_set_new(r, "launches_per_run", json_integer(launches));
    json_object_set_new(r, "kinds", bench_kinds_json(t->kinds, t->nkinds, d->peak));
    json_object_set_new(r, "layers",
                        a->layers ? bench_layers_json(t->layers, t->nlayers) : json_null());
    if (noisy) warn_noisy(b, d, batch, s, cv);
    return r;
}

irv2_status bench_measure(bench *b, irv2_model *model, const device_run *d, unsigned batch,
                          json_t **out, char *error, size_t error_cap)
{
    const cli_args *a = b->a;
    float *input = bench_input(batch);
    float *output = malloc((size_t)batch * irv2_model_num_classes(model) * sizeof(float));
    timings t = {.cap = a->iters};
    t.times = malloc(t.cap * sizeof *t.times);
    irv2_status st = input && output && t.times ? IRV2_OK : IRV2_ERR_HOST_MEMORY;
    if (st == IRV2_OK) st = timed_runs(a, model, batch, input, output, &t);
    stats s;
    if (st == IRV2_OK && compute_stats(t.times, t.n, &s) != 0) st = IRV2_ERR_HOST_MEMORY;
    if (st == IRV2_OK) st = profiled_run(a, model, batch, input, output, &t);
    if (st == IRV2_OK) {
        irv2_model_set_profiling(model, 0);
        *out = result_json(b, model, d, batch, &t, &s);
    } else {
        /* the message first: the calls that follow may replace it */
        snprintf(error, error_cap, "%s",
                 *irv2_last_error() ? irv2_last_error() : irv2_status_string(st));
        irv2_model_set_profiling(model, 0);
    }
    free(input);
    free(output);
    free(t.times);
    free(t.layers);
    return st;
}
