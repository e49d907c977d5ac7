/* consumer.c: the README's C example (tests/install/run.sh builds it against an installed irv2
 * with find_package and with pkg-config, and checks the README quotes this file): one
 * deterministic image through synthetic weights on the default device (IRV2_DEVICE, else the
 * first GPU, else the first device); prints the version, the class count, the top-1 class
 * and its logit. */
#include <irv2.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what, irv2_status st)
{
    fprintf(stderr, "consumer: %s: %s (%s)\n", what, irv2_status_string(st), irv2_last_error());
    return 1;
}

int main(void)
{
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    irv2_status st = irv2_context_create(NULL, &ctx);
    if (st != IRV2_OK) return fail("irv2_context_create", st);
    st = irv2_model_load(ctx, "synthetic", NULL, &model);
    if (st != IRV2_OK) {
        irv2_context_free(ctx);
        return fail("irv2_model_load", st);
    }
    const size_t n = 3u * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE;
    const unsigned classes = irv2_model_num_classes(model);
    float *input = malloc(n * sizeof *input), *logits = malloc(classes * sizeof *logits);
    int rc = 1;
    if (!input || !logits) {
        fprintf(stderr, "consumer: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < n; i++) /* a fixed pattern in [-1, 1] */
        input[i] = (float)((i * 2654435761u >> 13) % 2001u) / 1000.0f - 1.0f;
    st = irv2_model_run(model, input, 1, logits, 0);
    if (st != IRV2_OK) {
        rc = fail("irv2_model_run", st);
        goto done;
    }
    unsigned top = 0;
    for (unsigned k = 0; k < classes; k++) {
        if (!isfinite(logits[k])) {
            fprintf(stderr, "consumer: logit %u is %g\n", k, logits[k]);
            goto done;
        }
        if (logits[k] > logits[top]) top = k;
    }
    printf("irv2 %s classes %u top1 %u logit %.4f\n", irv2_version(), classes, top, logits[top]);
    rc = 0;
done:
    free(input);
    free(logits);
    irv2_model_free(model);
    irv2_context_free(ctx);
    return rc;
}
