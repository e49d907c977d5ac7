/* run.c: `irv2 run`: a .npy batch of images in, a .npy of logits or probabilities out. */
#include "cli.h"
#include "multidev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The hint for an --input that is not a .npy array: what it is, and what takes it. */
static const char *input_hint(const char *path)
{
    const char *kind = cli_file_kind(path);
    if (!kind) return "";
    if (strstr(kind, "image"))
        return " (it is an image: 'irv2 preprocess --output x.npy IMAGE' makes the array, or "
               "'irv2 classify' takes images)";
    if (strcmp(kind, "a safetensors checkpoint") == 0)
        return " (it is a safetensors checkpoint: that is --weights)";
    return "";
}

int cmd_run(cli_args *a)
{
    if (cli_check_output("run", "--output", a->output) != 0) return CLI_EXIT_FAILURE;
    unsigned ndim;
    uint64_t shape[8];
    float *input = NULL, *output = NULL;
    irv2_status st = irv2_npy_read(a->input, &ndim, shape, &input);
    if (st == IRV2_ERR_FORMAT) {
        cli_error("%s%s", irv2_last_error(), input_hint(a->input));
        return CLI_EXIT_FAILURE;
    }
    if (st != IRV2_OK) return cli_fail(st, NULL);
    if (ndim != 4 || shape[0] == 0 || shape[0] > 1 << 16 || shape[1] != 3 || shape[2] != 299 ||
        shape[3] != 299) {
        char dims[160] = "";
        for (unsigned i = 0; i < ndim && i < 8; i++)
            snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%s%llu", i ? " x " : "",
                     (unsigned long long)shape[i]);
        cli_error("%s: expected a float32 array of shape N x 3 x 299 x 299, found %s", a->input,
                  ndim ? dims : "a scalar");
        free(input);
        return CLI_EXIT_FAILURE;
    }
    unsigned batch = (unsigned)shape[0];
    multi_models mm;
    int rc = cli_devices_open(a, &mm);
    if (rc == 0) {
        unsigned classes = irv2_model_num_classes(mm.models[0]);
        output = malloc((size_t)batch * classes * sizeof(float));
        if (!output) {
            rc = cli_fail(IRV2_ERR_HOST_MEMORY, "run: the output");
        } else if ((rc = cli_devices_run_array(&mm, input, batch, output, a->softmax)) !=
                   CLI_EXIT_FAILURE) {
            uint64_t out_shape[2] = {batch, classes};
            st = irv2_npy_write(a->output, 2, out_shape, output);
            if (st != IRV2_OK) rc = cli_fail(st, NULL);
        }
    }
    multi_models_free(&mm);
    free(input);
    free(output);
    return rc;
}
