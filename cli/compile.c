/* compile.c: `irv2 compile`: builds the plans for each batch size on a device, runs each once
 * (with and without the softmax head), and writes every program they launch as device
 * binaries with a manifest into a folder (irv2_model_save_binaries), for devices without
 * an OpenCL compiler. */
#include "cli.h"
#include "multidev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The output folder is usable before any device work: created if missing, writable. */
static int check_out(const char *dir)
{
    struct stat sb;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        cli_error("compile: %s: cannot create the folder: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK) != 0) {
        cli_error("compile: %s: not a writable folder", dir);
        return -1;
    }
    return 0;
}

/* The one device of --device (a list naming several is refused: the folder is for one
 * device and driver), into spec. Returns 0, or the exit status after printing why. */
static int one_device(const cli_args *a, char spec[IRV2_DEVICE_SPEC_SIZE])
{
    char specs[CLI_MAX_DEVICES][IRV2_DEVICE_SPEC_SIZE];
    size_t n = 0;
    int rc = cli_device_specs(a, specs, CLI_MAX_DEVICES, &n);
    if (rc == 0 && n != 1) {
        cli_error("compile: %s '%s' names %zu devices: compile builds for one (name it, as "
                  "'irv2 devices' numbers them)", a->device_given ? "--device" : "IRV2_DEVICE",
                  a->context.device, n);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == 0) memcpy(spec, specs[0], IRV2_DEVICE_SPEC_SIZE);
    return rc;
}

/* Runs the model once at batch b with each head, so that every program of the plan is built
 * and its kernels compiled for their launches. */
static irv2_status run_batch(irv2_model *model, unsigned b)
{
    const size_t image = 3 * (size_t)IRV2_INPUT_SIZE * IRV2_INPUT_SIZE;
    float *in = calloc((size_t)b * image, sizeof(float));
    float *out = malloc((size_t)b * irv2_model_num_classes(model) * sizeof(float));
    irv2_status st = in && out ? IRV2_OK : IRV2_ERR_HOST_MEMORY;
    if (st != IRV2_OK) cli_error("compile: out of host memory for a batch of %u", b);
    for (int softmax = 0; st == IRV2_OK && softmax < 2; softmax++)
        if ((st = irv2_model_run(model, in, b, out, softmax)) != IRV2_OK) cli_fail(st, NULL);
    free(in);
    free(out);
    return st;
}

int cmd_compile(cli_args *a)
{
    if (a->context.binaries) {
        cli_error("compile: IRV2_BINARIES is set: compile builds from source (unset it)");
        return CLI_EXIT_USAGE;
    }
    char spec[IRV2_DEVICE_SPEC_SIZE];
    int rc = one_device(a, spec);
    if (rc != 0) return rc;
    a->context.device = spec;
    if (check_out(a->out) != 0) return CLI_EXIT_FAILURE;
    /* irv2's own GEMMs: CLBlast compiles its kernels itself, they cannot be in the folder */
    a->model.gemm = IRV2_GEMM_NATIVE;
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    irv2_status st = cli_open_model(a, &ctx, &model) == 0 ? IRV2_OK : IRV2_ERR_INVALID_ARGUMENT;
    for (int i = 0; st == IRV2_OK && i < a->nbatches; i++) st = run_batch(model, a->batches[i]);
    unsigned programs = 0;
    if (st == IRV2_OK && (st = irv2_model_save_binaries(model, a->out, &programs)) != IRV2_OK)
        cli_fail(st, NULL);
    if (st == IRV2_OK) {
        const irv2_device_info *d = irv2_context_device(ctx);
        printf("compiled %u programs for device '%s' (%s, driver %s) into %s\n", programs,
               d->name, d->platform_name, d->driver, a->out);
    }
    irv2_model_free(model);
    irv2_context_free(ctx);
    return st == IRV2_OK ? 0 : 1;
}
