/* preprocess.c: `irv2 preprocess`: JPEG and PNG images into the N x 3 x 299 x 299 float32
 * .npy array `irv2 run --input` reads, with the single-crop preprocessing of classify. */
#include "cli.h"

#include <stdlib.h>

#define IMAGE_FLOATS ((size_t)3 * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE)

int cmd_preprocess(cli_args *a)
{
    if (cli_check_output("preprocess", "--output", a->output) != 0) return CLI_EXIT_FAILURE;
    if (a->noperands > 65536) {
        cli_error("preprocess: %zu images: at most 65536 in one array", a->noperands);
        return CLI_EXIT_USAGE;
    }
    float *x = malloc(a->noperands * IMAGE_FLOATS * sizeof(float));
    if (!x) {
        cli_error("preprocess: out of host memory for %zu images", a->noperands);
        return CLI_EXIT_FAILURE;
    }
    int rc = CLI_EXIT_OK;
    for (size_t i = 0; i < a->noperands && rc == CLI_EXIT_OK; i++) {
        irv2_image img;
        irv2_status st = irv2_image_load(a->operands[i], &img);
        if (st == IRV2_OK) st = irv2_image_preprocess(&img, x + i * IMAGE_FLOATS);
        irv2_image_free(&img);
        if (st != IRV2_OK) rc = cli_fail(st, NULL);
    }
    if (rc == CLI_EXIT_OK) {
        uint64_t shape[4] = {a->noperands, 3, IRV2_INPUT_SIZE, IRV2_INPUT_SIZE};
        irv2_status st = irv2_npy_write(a->output, 4, shape, x);
        if (st != IRV2_OK) rc = cli_fail(st, NULL);
    }
    free(x);
    return rc;
}
