/* run.c: `irv2 run`: a .npy batch of images in, a .npy of logits or probabilities out. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run_args {
    const char *weights, *input, *output, *device;
    int softmax;
    irv2_model_options options;
} run_args;

static int parse(int argc, char **argv, run_args *a)
{
    int known;
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--softmax") == 0) {
            a->softmax = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "irv2: run: option '%s' needs a value\n", o);
            return -1;
        }
        if (strcmp(o, "--weights") == 0) a->weights = v;
        else if (strcmp(o, "--input") == 0) a->input = v;
        else if (strcmp(o, "--output") == 0) a->output = v;
        else if (strcmp(o, "--device") == 0) a->device = v;
        else if ((known = cli_model_option("run", o, v, &a->options)) != 0) {
            if (known < 0) return -1;
        } else {
            fprintf(stderr, "irv2: run: unknown option '%s'\n", o);
            return -1;
        }
        i++;
    }
    if (!a->weights || !a->input || !a->output) {
        fprintf(stderr, "irv2: run: --weights, --input and --output are required\n");
        return -1;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    run_args a;
    if (parse(argc, argv, &a) != 0) return 2;
    unsigned ndim;
    uint64_t shape[8];
    float *input = NULL, *output = NULL;
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    int rc = 1;
    irv2_status st = irv2_npy_read(a.input, &ndim, shape, &input);
    if (st != IRV2_OK) return cli_fail(st, NULL);
    if (ndim != 4 || shape[0] == 0 || shape[0] > 1 << 16 || shape[1] != 3 || shape[2] != 299 ||
        shape[3] != 299) {
        fprintf(stderr, "irv2: %s: expected a float32 array of shape N x 3 x 299 x 299\n", a.input);
        free(input);
        return 1;
    }
    unsigned batch = (unsigned)shape[0];
    st = irv2_context_create(a.device, &ctx);
    if (st == IRV2_OK) st = irv2_model_load(ctx, a.weights, &a.options, &model);
    if (st == IRV2_OK) {
        unsigned classes = irv2_model_num_classes(model);
        output = malloc((size_t)batch * classes * sizeof(float));
        if (!output) {
            fprintf(stderr, "irv2: out of host memory for the output\n");
        } else if ((st = irv2_model_run(model, input, batch, output, a.softmax)) == IRV2_OK) {
            uint64_t out_shape[2] = {batch, classes};
            st = irv2_npy_write(a.output, 2, out_shape, output);
            rc = st == IRV2_OK ? 0 : 1;
        }
    }
    if (st != IRV2_OK) {
        const char *log = ctx ? irv2_context_build_log(ctx) : "";
        rc = cli_fail(st, NULL);
        if (st == IRV2_ERR_BUILD && *log) fprintf(stderr, "build log:\n%s\n", log);
    }
    irv2_model_free(model);
    irv2_context_free(ctx);
    free(input);
    free(output);
    return rc;
}
