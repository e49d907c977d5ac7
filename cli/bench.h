/* bench.h: what the files of `irv2 bench` share: a device's run, the sweep's state, and the
 * functions of measuring (bench_measure.c), the JSON document (bench_json.c) and the lines on
 * stdout (bench_report.c) that the driver (bench.c) calls. */
#ifndef IRV2_CLI_BENCH_H
#define IRV2_CLI_BENCH_H

#include "cli.h"

#include <jansson.h>
#include <stdio.h>

#define BENCH_MAX_DEVICES 64
#define BENCH_PEAK_SAMPLES 5

/* What one device contributes to the report. */
typedef struct device_run {
    char spec[IRV2_DEVICE_SPEC_SIZE]; /* as irv2_device_list gave it; "" for the default */
    int index;                     /* flat index, -1 when the spec is not one */
    irv2_device_info info;
    int have_info;
    double cold_ms, warm_ms;       /* NAN when not measured */
    double peak_native[BENCH_PEAK_SAMPLES], peak_clblast[BENCH_PEAK_SAMPLES];
    int npeak;
    double peak;                   /* the better side's median, NAN when not measured */
} device_run;

/* The sweep: its settings, where human lines go, and the document's growing arrays. */
typedef struct bench {
    cli_args *a;
    FILE *info;                    /* where human lines go: stdout for table, else stderr */
    json_t *devices, *results;
    int failures, noisy;
    double load_start[3];
    int have_load_start;
} bench;

/* ---- bench_measure.c ---- */

/* Monotonic milliseconds. */
double bench_now_ms(void);
/* The median of the positive values of v[0..n) (n at most BENCH_PEAK_SAMPLES); NAN if none. */
double bench_median(const double *v, int n);
/* The load averages of /proc/loadavg; -1 when they cannot be read. */
int bench_read_load(double load[3]);
/* A deterministic input batch (malloc'ed; NULL when out of memory). */
float *bench_input(unsigned batch);
/* Warm-up, the timed runs, the statistics and the profiled run of one batch size, as a result
 * entry in *out. On failure returns the status with its message in error[0..error_cap), and
 * *out untouched. */
irv2_status bench_measure(bench *b, irv2_model *model, const device_run *d, unsigned batch,
                          json_t **out, char *error, size_t error_cap);

/* ---- bench_json.c ---- */

/* v as a JSON number, null when it is not finite. */
json_t *bench_num(double v);
/* A string that is valid UTF-8 whatever the device or the file system holds. */
json_t *bench_text(const char *s);
/* The device's entry of "devices" (error NULL when it was measured). */
json_t *bench_device_json(const device_run *d, const char *error);
/* A result entry with everything measured null: a failure's, or the base measuring fills. */
json_t *bench_result_base(const device_run *d, unsigned batch);
/* The per-kind rows of a profiled run (peak: the device's GFLOP/s, NAN when unknown). */
json_t *bench_kinds_json(const irv2_layer_profile *kinds, size_t n, double peak);
/* The per-layer rows of --layers. */
json_t *bench_layers_json(const irv2_layer_profile *layers, size_t n);
/* Under MPI every entry says which machine and rank measured it. */
void bench_tag_rank(json_t *entry);
/* MPI: every rank's devices, results, failures and noise on rank 0, appended to its own in
 * rank order. Returns -1 when they could not be gathered. */
int bench_gather_ranks(bench *b);
/* The whole document (schema irv2-bench/1); takes b's arrays. */
json_t *bench_document(bench *b, const char *when, double duration_s);

/* ---- bench_report.c ---- */

/* The header of --format's table (table: 1 for the table's own, printed per device). */
void bench_print_header(const bench *b, int table);
/* The start-up line of a device, and its SGEMM peak line (--peak). */
void bench_report_start(const bench *b, const device_run *d);
void bench_report_peak(const bench *b, const device_run *d, double native, double clblast);
/* A result entry: tagged, printed as --format says, appended to the document. */
void bench_add_result(bench *b, json_t *r);
/* A failed entry: recorded, reported on stderr as one line, and in the output. */
void bench_add_failure(bench *b, const device_run *d, unsigned batch, const char *error);

#endif
