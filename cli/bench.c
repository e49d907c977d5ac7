/* bench.c: `irv2 bench`, the driver: per device of --device, the start-up (cold and warm with
 * --cold), the SGEMM peak (--peak, the median of several), then each batch size measured
 * (bench_measure.c). A device or batch size that fails becomes an entry with its error and
 * the sweep goes on; the JSON document (bench_json.c) is written in every case. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "bench.h"
#include "files.h"
#include "multidev.h"
#include "ranks.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    copt.device = d->spec;
    double t0 = bench_now_ms();
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
    *ms = bench_now_ms() - t0;
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

/* --peak: the median of BENCH_PEAK_SAMPLES SGEMM measurements on each side into d->peak. The
 * peak is context, not a result: when it fails, a line says so and the sweep goes on. */
static void measure_peak(bench *b, device_run *d, irv2_context *ctx)
{
    irv2_status st = IRV2_OK;
    for (d->npeak = 0; st == IRV2_OK && d->npeak < BENCH_PEAK_SAMPLES; d->npeak++)
        st = irv2_context_sgemm_peak(ctx, 0, &d->peak_native[d->npeak],
                                     &d->peak_clblast[d->npeak]);
    if (st != IRV2_OK) {
        cli_error("bench: %s: SGEMM peak: %s", d->info.name, irv2_last_error());
        d->npeak = 0;
        return;
    }
    double native = bench_median(d->peak_native, d->npeak);
    double clblast = bench_median(d->peak_clblast, d->npeak);
    d->peak = isfinite(clblast) && !(clblast < native) ? clblast : native;
    bench_report_peak(b, d, native, clblast);
}

/* The device's entry, then a failure entry for every batch size: it could not start. */
static void device_failed(bench *b, device_run *d, irv2_context **ctx, irv2_model **model,
                          irv2_status st)
{
    char error[1024];
    snprintf(error, sizeof error, "%s", *irv2_last_error() ? irv2_last_error()
                                                           : irv2_status_string(st));
    if (st == IRV2_ERR_BUILD && *ctx && *irv2_context_build_log(*ctx))
        fprintf(stderr, "build log:\n%s\n", irv2_context_build_log(*ctx));
    close_model(ctx, model);
    json_t *dj = bench_device_json(d, error);
    bench_tag_rank(dj);
    json_array_append_new(b->devices, dj);
    for (int i = 0; i < b->a->nbatches; i++)
        bench_add_failure(b, d, b->a->batches[i], error);
}

/* Every batch size on the started model (the first one's run failed when first_error). */
static void measure_batches(bench *b, device_run *d, irv2_model *model, const char *first_error)
{
    const cli_args *a = b->a;
    char error[1024] = "";
    for (int i = 0; i < a->nbatches; i++) {
        unsigned batch = a->batches[i];
        json_t *r = NULL;
        if (i == 0 && first_error) bench_add_failure(b, d, batch, first_error);
        else if (bench_measure(b, model, d, batch, &r, error, sizeof error) == IRV2_OK)
            bench_add_result(b, r);
        else bench_add_failure(b, d, batch, error);
    }
}

static void bench_device(bench *b, device_run *d)
{
    const cli_args *a = b->a;
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    char first_error[1024] = "";
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
        device_failed(b, d, &ctx, &model, st);
        return;
    }
    if (!first_failed) d->warm_ms = ms;
    bench_report_start(b, d);
    if (a->peak) measure_peak(b, d, ctx);
    json_t *dj = bench_device_json(d, NULL);
    bench_tag_rank(dj);
    json_array_append_new(b->devices, dj);
    bench_print_header(b, 1);
    measure_batches(b, d, model, first_failed ? first_error : NULL);
    close_model(&ctx, &model);
}

/* The devices to measure, as --device (or IRV2_DEVICE) names them (cli_device_specs); an
 * index is described before it is opened. Returns the count, or -1 with *rc the exit status
 * after the error was printed. */
static int device_runs(const cli_args *a, device_run *runs, int *rc)
{
    char specs[BENCH_MAX_DEVICES][IRV2_DEVICE_SPEC_SIZE];
    size_t n = 0;
    if ((*rc = cli_device_specs(a, specs, BENCH_MAX_DEVICES, &n)) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        device_run *d = &runs[i];
        char *end;
        long index = strtol(specs[i], &end, 10);
        memcpy(d->spec, specs[i], sizeof d->spec);
        d->index = specs[i][0] && *end == '\0' && index >= 0 ? (int)index : -1;
        if (d->index >= 0 && irv2_device_info_get((unsigned)d->index, &d->info) == IRV2_OK)
            d->have_info = 1;
    }
    return (int)n;
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

/* Rank 0's output of the document: on stdout for --format json, into --json atomically.
 * Returns the exit status. */
static int write_document(const bench *b, json_t *doc, int rc)
{
    const cli_args *a = b->a;
    if (cli_world.rank > 0) return rc; /* rank 0 reports and writes the document */
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
    if (!text) return cli_fail(IRV2_ERR_HOST_MEMORY, "bench: the JSON document");
    if (a->format == CLI_FORMAT_JSON) puts(text);
    cli_output out;
    if (a->json_path) {
        if (cli_output_open(&out, "bench", "--json", a->json_path) != 0) rc = CLI_EXIT_FAILURE;
        else if (fputs(text, out.f) < 0) cli_output_discard(&out), rc = CLI_EXIT_FAILURE;
        else if (cli_output_commit(&out) != 0) rc = CLI_EXIT_FAILURE;
    }
    if (b->failures && (!a->quiet || a->format == CLI_FORMAT_TABLE))
        fprintf(b->info, "%d of %zu entries failed\n", b->failures, json_array_size(b->results));
    free(text);
    return rc;
}

/* Measures every device in turn; under MPI the ranks' table lines reach rank 0's stdout in
 * rank order, their entries its JSON. */
static void sweep(bench *b, device_run *runs, int ndev)
{
    if (cli_world.rank == 0) bench_print_header(b, 0);
    cli_capture out;
    int gathered = cli_capture_begin(&out);
    for (int i = 0; i < ndev; i++) bench_device(b, &runs[i]);
    gathered |= cli_capture_end(&out);
    if (cli_world.size > 1) gathered |= bench_gather_ranks(b);
    if (gathered) b->failures++;
}

int cmd_bench(cli_args *a)
{
    if (a->json_path && cli_check_output("bench", "--json", a->json_path) != 0)
        return CLI_EXIT_FAILURE;
    device_run *runs = calloc(BENCH_MAX_DEVICES, sizeof *runs);
    if (!runs) return cli_fail(IRV2_ERR_HOST_MEMORY, "bench");
    int rc = CLI_EXIT_OK, ndev = device_runs(a, runs, &rc);
    char cold_dir[64] = "";
    if (ndev >= 0 && a->cold && use_fresh_caches(a, cold_dir, sizeof cold_dir) != 0) {
        cli_error("bench: --cold: cannot create a temporary cache folder");
        rc = CLI_EXIT_FAILURE;
    }
    if (rc != CLI_EXIT_OK) {
        free(runs);
        return rc;
    }
    bench b = {.a = a, .info = a->format == CLI_FORMAT_TABLE ? stdout : stderr,
               .devices = json_array(), .results = json_array()};
    b.have_load_start = bench_read_load(b.load_start) == 0;
    time_t started = time(NULL);
    double t0 = bench_now_ms();
    char when[32] = "";
    struct tm tm;
    if (gmtime_r(&started, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    sweep(&b, runs, ndev);
    json_t *doc = bench_document(&b, when, (bench_now_ms() - t0) * 1e-3);
    unsigned long long failures = (unsigned long long)b.failures;
    cli_mpi_sum(&failures, 1); /* every rank exits with the job's status */
    rc = write_document(&b, doc, failures ? CLI_EXIT_FAILURE : CLI_EXIT_OK);
    json_decref(doc);
    if (*cold_dir) nftw(cold_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(runs);
    return rc;
}
