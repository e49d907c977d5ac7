/* bench_json.c: the JSON document of `irv2 bench` (schema irv2-bench/1, jansson): the host,
 * the settings, each device's entry and each result's, and under MPI the entries of every rank
 * gathered on rank 0. */
#include "bench.h"
#include "ranks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

json_t *bench_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* A string that is valid UTF-8 whatever the device or the file system holds. */
json_t *bench_text(const char *s)
{
    char *u = cli_utf8(s, NULL);
    json_t *j = u ? json_string(u) : json_null();
    free(u);
    return j;
}

/* ---- the document's fixed parts --------------------------------------------------------- */

static json_t *host_json(const bench *b)
{
    json_t *h = json_object();
    struct utsname u;
    if (uname(&u) == 0) {
        json_object_set_new(h, "name", bench_text(u.nodename));
        char os[600];
        snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
        json_object_set_new(h, "os", bench_text(os));
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
    json_object_set_new(h, "cpu", cpu ? bench_text(cpu) : json_null());
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    json_object_set_new(h, "cpus", n > 0 ? json_integer(n) : json_null());
    double load[3];
    json_object_set_new(h, "load_average_start",
                        b->have_load_start ? json_pack("[fff]", b->load_start[0],
                                                       b->load_start[1], b->load_start[2])
                                           : json_null());
    json_object_set_new(h, "load_average_end",
                        bench_read_load(load) == 0 ? json_pack("[fff]", load[0], load[1], load[2])
                                             : json_null());
    return h;
}

static json_t *settings_json(const cli_args *a)
{
    json_t *s = json_object(), *batches = json_array();
    for (int i = 0; i < a->nbatches; i++)
        json_array_append_new(batches, json_integer(a->batches[i]));
    json_object_set_new(s, "devices", str_or_null(a->context.device));
    json_object_set_new(s, "weights", bench_text(a->weights));
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

/* The description of the device in its entry, each field null when it is not known (a
 * device that did not open). */
static void describe_device(json_t *j, const device_run *d)
{
    static const char *const keys[] = {"name", "vendor", "driver", "version", "platform",
                                       "type", "platform_device", "compute_units",
                                       "global_mem_mib", "compiler", "clblast_tuned"};
    enum { NKEYS = sizeof keys / sizeof keys[0] };
    json_t *values[NKEYS] = {NULL};
    const irv2_device_info *i = &d->info;
    if (d->have_info) {
        json_t *known[NKEYS] = {
            bench_text(i->name), bench_text(i->vendor), bench_text(i->driver),
            bench_text(i->version), bench_text(i->platform_name), json_string(i->type),
            json_string(i->spec), json_integer(i->compute_units),
            json_real(i->global_mem_bytes / 1048576.0), json_boolean(i->compiler_available),
            json_boolean(i->clblast_tuned)};
        memcpy(values, known, sizeof values);
    }
    for (size_t k = 0; k < NKEYS; k++)
        json_object_set_new(j, keys[k], values[k] ? values[k] : json_null());
}

json_t *bench_device_json(const device_run *d, const char *error)
{
    json_t *j = json_object();
    json_object_set_new(j, "spec", bench_text(d->spec));
    json_object_set_new(j, "index", d->have_info ? json_integer(d->info.index)
                                    : d->index >= 0 ? json_integer(d->index) : json_null());
    describe_device(j, d);
    json_object_set_new(j, "start_ms",
                        json_pack("{s:o, s:o}", "cold", bench_num(d->cold_ms), "warm",
                                  bench_num(d->warm_ms)));
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
                                json_pack("{s:o, s:o}", "median",
                                          bench_num(bench_median(sides[s], d->npeak)),
                                          "samples", samples));
        }
        json_object_set_new(peak, "size", json_integer(1024));
        json_object_set_new(peak, "gflops", bench_num(d->peak));
        json_object_set_new(j, "sgemm_peak", peak);
    } else {
        json_object_set_new(j, "sgemm_peak", json_null());
    }
    json_object_set_new(j, "error", str_or_null(error));
    return j;
}

/* ---- one result ---------------------------------------------------------------------------- */

/* An entry with everything measured null, for a failure. */
json_t *bench_result_base(const device_run *d, unsigned batch)
{
    json_t *r = json_object();
    json_object_set_new(r, "device", bench_text(d->have_info ? d->info.name : d->spec));
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

json_t *bench_kinds_json(const irv2_layer_profile *kinds, size_t n, double peak)
{
    json_t *arr = json_array();
    double total = 0;
    for (size_t k = 0; k < n; k++) total += kinds[k].ms;
    for (size_t k = 0; k < n; k++) {
        const irv2_layer_profile *p = &kinds[k];
        double gf = p->gflop > 0 && p->ms > 0 ? p->gflop / (p->ms * 1e-3) : NAN;
        json_t *o = json_object();
        json_object_set_new(o, "kind", bench_text(p->kind));
        json_object_set_new(o, "ms", json_real(p->ms));
        json_object_set_new(o, "share", total > 0 ? json_real(p->ms / total) : json_null());
        json_object_set_new(o, "gflop", json_real(p->gflop));
        json_object_set_new(o, "gflops", bench_num(gf));
        json_object_set_new(o, "peak_fraction", bench_num(gf / peak));
        json_object_set_new(o, "launches", json_integer(p->launches));
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *bench_layers_json(const irv2_layer_profile *layers, size_t n)
{
    json_t *arr = json_array();
    for (size_t k = 0; k < n; k++) {
        const irv2_layer_profile *p = &layers[k];
        double gf = p->gflop > 0 && p->ms > 0 ? p->gflop / (p->ms * 1e-3) : NAN;
        json_array_append_new(arr, json_pack("{s:o, s:f, s:f, s:o, s:i}", "layer",
                                             bench_text(p->kind), "ms", p->ms, "gflop", p->gflop,
                                             "gflops", bench_num(gf), "launches",
                                             (int)p->launches));
    }
    return arr;
}

/* Under MPI every entry says which machine and rank measured it. */
void bench_tag_rank(json_t *entry)
{
    if (cli_world.size < 2) return;
    json_object_set_new(entry, "host", json_string(cli_world.host));
    json_object_set_new(entry, "rank", json_integer(cli_world.rank));
}

/* MPI: every rank's devices, results, failures and noise on rank 0, appended to its own in
 * rank order (each rank sends one JSON line). Returns -1 when they could not be gathered. */
int bench_gather_ranks(bench *b)
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


json_t *bench_document(bench *b, const char *when, double duration_s)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string("irv2-bench/1"));
    json_object_set_new(doc, "irv2", json_pack("{s:s, s:s}", "version", irv2_version(), "commit",
                                               cli_commit()));
    json_object_set_new(doc, "time", json_string(when));
    json_object_set_new(doc, "duration_s", json_real(duration_s));
    json_object_set_new(doc, "host", host_json(b));
    json_object_set_new(doc, "settings", settings_json(b->a));
    json_object_set_new(doc, "devices", b->devices);
    json_object_set_new(doc, "results", b->results);
    json_object_set_new(doc, "failures", json_integer(b->failures));
    json_object_set_new(doc, "noisy", json_boolean(b->noisy));
    if (cli_world.size > 1) json_object_set_new(doc, "ranks", json_integer(cli_world.size));
    return doc;
}
