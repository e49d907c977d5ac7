/* soak.c: irv2-soak, a load test: many inferences in one process, to show that repeated work
 * does not grow memory. Every --every runs (and after the first and the last) it prints the
 * process's resident set (from /proc/self/statm), the model's device bytes
 * (irv2_model_device_bytes), the cl_context's reference count (every live buffer, program,
 * kernel-holding program and queue holds one, so a leaked device object shows as growth) and
 * the mean time per run. Every result is compared with the first, bit for bit.
 *
 * Exits non-zero when, after the first --every runs (the warm-up: plan, programs, allocator
 * pools), the resident set grows by more than --max-growth-mib, or the device bytes or the
 * context's references change at all, or a result differs, or a run fails.
 *
 * Usage: irv2-soak [--runs N (2000)] [--every K (100)] [--batch B (1)] [--weights W (synthetic:1)]
 *                  [--gemm auto|clblast|native (auto)] [--device SPEC] [--max-growth-mib M (8)] */
#include "runtime/context.h"
#include "irv2.h"
#include "net/synthetic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Resident set in MiB, from the second field of /proc/self/statm (pages). */
static double rss_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (!f) return -1;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0) : -1;
}

static cl_uint context_refs(const irv2_context *ctx)
{
    cl_uint refs = 0;
    if (clGetContextInfo(ctx->context, CL_CONTEXT_REFERENCE_COUNT, sizeof refs, &refs, NULL) !=
        CL_SUCCESS)
        return 0;
    return refs;
}

static int parse_unsigned(const char *s, unsigned long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    *out = strtoul(s, &end, 10);
    return *end ? -1 : 0;
}

int main(int argc, char **argv)
{
    unsigned long runs = 2000, every = 100, batch = 1, max_growth = 8;
    const char *weights = "synthetic:1", *device = NULL, *gemm = "auto";
    irv2_model_options options;
    irv2_model_options_init(&options);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(o, "--runs") == 0) bad = parse_unsigned(v, &runs) || runs == 0;
        else if (strcmp(o, "--every") == 0) bad = parse_unsigned(v, &every) || every == 0;
        else if (strcmp(o, "--batch") == 0) bad = parse_unsigned(v, &batch) || !batch || batch > 64;
        else if (strcmp(o, "--max-growth-mib") == 0) bad = parse_unsigned(v, &max_growth);
        else if (strcmp(o, "--weights") == 0) bad = !(weights = v);
        else if (strcmp(o, "--device") == 0) bad = !(device = v);
        else if (strcmp(o, "--gemm") == 0) {
            bad = !(gemm = v);
            if (!bad && strcmp(v, "clblast") == 0) options.gemm = IRV2_GEMM_CLBLAST;
            else if (!bad && strcmp(v, "native") == 0) options.gemm = IRV2_GEMM_NATIVE;
            else bad = bad || strcmp(v, "auto") != 0;
        }
        else bad = 1;
        if (bad) {
            fprintf(stderr, "irv2-soak: bad option '%s'%s%s (see the top of bench/soak.c)\n", o,
                    v ? " " : "", v ? v : "");
            return 2;
        }
        i++;
    }

    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    irv2_status st = irv2_context_create(device, &ctx);
    if (st == IRV2_OK) st = irv2_model_load(ctx, weights, &options, &model);
    if (st != IRV2_OK) {
        fprintf(stderr, "irv2-soak: %s\n", irv2_last_error());
        irv2_context_free(ctx);
        return 1;
    }
    size_t in_floats = (size_t)batch * 3 * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE;
    size_t out_floats = (size_t)batch * irv2_model_num_classes(model);
    float *input = malloc(in_floats * sizeof(float));
    float *first = malloc(out_floats * sizeof(float)), *out = malloc(out_floats * sizeof(float));
    if (!input || !first || !out) {
        fprintf(stderr, "irv2-soak: out of host memory\n");
        return 1;
    }
    synthetic_fill("input", 7, -1.0, 1.0, input, in_floats);
    printf("irv2-soak: %lu runs of %s at batch %lu, --gemm %s, on '%s'\n", runs, weights,
           batch, gemm, irv2_context_device(ctx)->name);
    printf("%8s %10s %12s %8s %12s\n", "run", "rss_mib", "device_mib", "cl_refs", "ms_per_run");

    double base_rss = 0, peak_after = 0, t_mark = now_s();
    uint64_t base_dev = 0;
    cl_uint base_refs = 0;
    unsigned long mismatches = 0, mark = 0;
    int failed = 0;
    for (unsigned long r = 1; r <= runs; r++) {
        st = irv2_model_run(model, input, (unsigned)batch, r == 1 ? first : out, 0);
        if (st != IRV2_OK) {
            fprintf(stderr, "irv2-soak: run %lu: %s\n", r, irv2_last_error());
            failed = 1;
            break;
        }
        if (r > 1 && memcmp(out, first, out_floats * sizeof(float)) != 0) mismatches++;
        if (r != 1 && r % every != 0 && r != runs) continue;
        double rss = rss_mib(), t = now_s();
        uint64_t dev = irv2_model_device_bytes(model);
        cl_uint refs = context_refs(ctx);
        printf("%8lu %10.1f %12.1f %8u %12.1f\n", r, rss, (double)dev / (1024.0 * 1024.0),
               (unsigned)refs, (t - t_mark) * 1e3 / (double)(r - mark));
        fflush(stdout);
        t_mark = t, mark = r;
        if (r == every || (runs < every && r == 1)) {
            base_rss = rss, base_dev = dev, base_refs = refs;
        } else if (r > every) {
            if (rss > peak_after) peak_after = rss;
            if (dev != base_dev || refs != base_refs) {
                fprintf(stderr, "irv2-soak: run %lu: device bytes %llu (were %llu), context "
                        "references %u (were %u)\n", r, (unsigned long long)dev,
                        (unsigned long long)base_dev, (unsigned)refs, (unsigned)base_refs);
                failed = 1;
            }
        }
    }
    double growth = peak_after > base_rss ? peak_after - base_rss : 0;
    printf("after run %lu: rss grew by %.1f MiB at most (bound %lu MiB); device bytes and "
           "context references %s; %lu of %lu results differ from the first\n",
           every, growth, max_growth, failed ? "CHANGED" : "unchanged", mismatches, runs);
    if (growth > (double)max_growth) {
        fprintf(stderr, "irv2-soak: resident set grew by %.1f MiB after the warm-up, above the "
                "%lu MiB bound\n", growth, max_growth);
        failed = 1;
    }
    if (mismatches) failed = 1;
    irv2_model_free(model);
    irv2_context_free(ctx);
    free(input);
    free(first);
    free(out);
    return failed ? 1 : 0;
}
