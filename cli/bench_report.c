/* bench_report.c: the lines `irv2 bench` prints as it goes: each device's start-up and SGEMM
 * peak, and each result as --format says (a table with the per-kind breakdown, markdown, CSV,
 * JSON lines); failed entries also as one line on stderr. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void bench_print_header(const bench *b, int table)
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

void bench_add_result(bench *b, json_t *r)
{
    bench_tag_rank(r);
    print_result(b, r);
    json_array_append_new(b->results, r);
}

/* A failed entry: recorded, reported on stderr as one line, and in the output. */
void bench_add_failure(bench *b, const device_run *d, unsigned batch, const char *error)
{
    json_t *r = bench_result_base(d, batch);
    json_object_set_new(r, "status", json_string("failed"));
    json_object_set_new(r, "error", bench_text(error));
    cli_error("bench: %s, batch %u: %s", d->have_info ? d->info.name : d->spec, batch, error);
    b->failures++;
    bench_add_result(b, r);
}


/* Human lines go to b->info unless --quiet (the table's own lines always). */
static int shows_info(const bench *b)
{
    return !b->a->quiet || b->a->format == CLI_FORMAT_TABLE;
}

void bench_report_start(const bench *b, const device_run *d)
{
    if (!shows_info(b)) return;
    fprintf(b->info, "%s (%s, %s, driver %s, device %u):", d->info.name, d->info.type,
            d->info.platform_name, d->info.driver, d->info.index);
    if (isfinite(d->cold_ms)) fprintf(b->info, " cold start %.0f ms,", d->cold_ms);
    if (isfinite(d->warm_ms))
        fprintf(b->info, " start-up %.0f ms (context, weights, first run of batch %u)\n",
                d->warm_ms, b->a->batches[0]);
    else
        fprintf(b->info, " loaded; the first run of batch %u failed\n", b->a->batches[0]);
}

/* "123.4 GFLOP/s", or "-" when not measured. */
static void gflops(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.1f GFLOP/s", v);
    else fprintf(f, "-");
}

void bench_report_peak(const bench *b, const device_run *d, double native, double clblast)
{
    if (!shows_info(b)) return;
    fprintf(b->info, "%s: SGEMM peak 1024^3 (median of %d): irv2 ", d->info.name, d->npeak);
    gflops(b->info, native);
    fprintf(b->info, ", CLBlast ");
    gflops(b->info, clblast);
    fprintf(b->info, " (%s)\n", d->info.clblast_tuned ? "with the CLBlast tuner results applied"
                                                       : "CLBlast's built-in parameters");
}
