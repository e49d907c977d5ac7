/* compile.c: `irv2 compile`: builds the plans for each batch size on a device, runs each once
 * (with and without the softmax head), and writes every program they launch as device
 * binaries with a manifest into a folder (irv2_context_save_binaries), for devices without
 * an OpenCL compiler. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BATCHES 16

typedef struct compile_args {
    const char *device, *weights, *out;
    unsigned batches[MAX_BATCHES];
    int nbatches;
    irv2_model_options options;
} compile_args;

static int parse(int argc, char **argv, compile_args *a)
{
    int known;
    memset(a, 0, sizeof *a);
    a->weights = "synthetic";
    a->batches[0] = 1, a->nbatches = 1;
    for (int i = 1; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "irv2: compile: option '%s' needs a value\n", o);
            return -1;
        }
        if (strcmp(o, "--out") == 0) a->out = v;
        else if (strcmp(o, "--device") == 0) a->device = v;
        else if (strcmp(o, "--weights") == 0) a->weights = v;
        else if (strcmp(o, "--batch") == 0) {
            if (cli_parse_batches(v, a->batches, MAX_BATCHES, &a->nbatches) != 0) {
                fprintf(stderr, "irv2: compile: --batch '%s': expected a list like 1,8\n", v);
                return -1;
            }
        } else if (strcmp(o, "--binaries") != 0 &&
                   (known = cli_model_option("compile", o, v, &a->options)) != 0) {
            if (known < 0) return -1;
        } else {
            fprintf(stderr, "irv2: compile: unknown option '%s'\n", o);
            return -1;
        }
    }
    if (!a->out) {
        fprintf(stderr, "irv2: compile: --out DIR is required\n");
        return -1;
    }
    return 0;
}

/* The output folder is usable before any device work: created if missing, writable. */
static int check_out(const char *dir)
{
    struct stat sb;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "irv2: compile: %s: cannot create the folder: %s\n", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK) != 0) {
        fprintf(stderr, "irv2: compile: %s: not a writable folder\n", dir);
        return -1;
    }
    return 0;
}

/* Runs the model once at batch b with each head, so that every program of the plan is built
 * and its kernels compiled for their launches. */
static irv2_status run_batch(irv2_model *model, unsigned b)
{
    const size_t image = 3 * (size_t)IRV2_INPUT_SIZE * IRV2_INPUT_SIZE;
    float *in = calloc((size_t)b * image, sizeof(float));
    float *out = malloc((size_t)b * irv2_model_num_classes(model) * sizeof(float));
    irv2_status st = in && out ? IRV2_OK : IRV2_ERR_HOST_MEMORY;
    if (st != IRV2_OK) fprintf(stderr, "irv2: compile: out of host memory for a batch of %u\n", b);
    for (int softmax = 0; st == IRV2_OK && softmax < 2; softmax++)
        if ((st = irv2_model_run(model, in, b, out, softmax)) != IRV2_OK) cli_fail(st, NULL);
    free(in);
    free(out);
    return st;
}

int cmd_compile(int argc, char **argv)
{
    compile_args a;
    if (parse(argc, argv, &a) != 0) return 2;
    if (getenv("IRV2_BINARIES") && *getenv("IRV2_BINARIES")) {
        fprintf(stderr, "irv2: compile: IRV2_BINARIES is set: compile builds from source\n");
        return 2;
    }
    if (check_out(a.out) != 0) return 1;
    /* irv2's own GEMMs: CLBlast compiles its kernels itself, they cannot be in the folder */
    a.options.gemm = IRV2_GEMM_NATIVE;
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    irv2_status st = irv2_context_create(a.device, &ctx);
    if (st == IRV2_OK) st = irv2_model_load(ctx, a.weights, &a.options, &model);
    if (st != IRV2_OK) {
        const char *log = ctx ? irv2_context_build_log(ctx) : "";
        cli_fail(st, NULL);
        if (st == IRV2_ERR_BUILD && *log) fprintf(stderr, "build log:\n%s\n", log);
    }
    for (int i = 0; st == IRV2_OK && i < a.nbatches; i++) st = run_batch(model, a.batches[i]);
    unsigned programs = 0;
    if (st == IRV2_OK && (st = irv2_context_save_binaries(ctx, a.out, &programs)) != IRV2_OK)
        cli_fail(st, NULL);
    if (st == IRV2_OK) {
        const irv2_device_info *d = irv2_context_device(ctx);
        printf("compiled %u programs for device '%s' (%s, driver %s) into %s\n", programs,
               d->name, d->platform_name, d->driver, a.out);
    }
    irv2_model_free(model);
    irv2_context_free(ctx);
    return st == IRV2_OK ? 0 : 1;
}
