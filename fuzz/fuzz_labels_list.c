/* fuzz_labels_list.c: the eval list-file half of fuzz_labels (see fuzz_labels.c), compiled
 * from cli/eval.c, with stand-ins for the model and option functions that the command
 * files call but the readers never reach. */
#include "fuzz_common.h"

#include "../cli/eval.c"

#include <string.h>

void fuzz_list_check(const char *path);

void fuzz_list_check(const char *path)
{
    dataset d = {0};
    if (dataset_from_list(path, &d) == 0) {
        FUZZ_CHECK(d.count > 0 && d.count <= d.cap);
        for (size_t i = 0; i < d.count; i++) {
            FUZZ_CHECK(d.paths[i] != NULL && d.labels[i] <= 1000000);
            FUZZ_CHECK(strncmp(d.paths[i], "/proc/self/fd/", 14) == 0 || d.paths[i][0] == '/');
            FUZZ_CHECK(strchr(d.paths[i], '\n') == NULL);
        }
    }
    dataset_free(&d);
}

/* ---- stand-ins: never called by the readers --------------------------------------------- */

int cli_fail(irv2_status st, const char *context)
{
    (void)st, (void)context;
    abort();
}

int cli_model_option(const char *cmd, const char *option, const char *value,
                     irv2_model_options *opt)
{
    (void)cmd, (void)option, (void)value, (void)opt;
    abort();
}

irv2_status infer_run(const infer_job *job)
{
    (void)job;
    abort();
}

unsigned infer_classes(const irv2_model *model)
{
    (void)model;
    abort();
}

int infer_open(const char *device, const char *weights, const irv2_model_options *options,
               irv2_context **ctx, irv2_model **model)
{
    (void)device, (void)weights, (void)options, (void)ctx, (void)model;
    abort();
}

int infer_parse_count(const char *s, unsigned max, unsigned *out)
{
    (void)s, (void)max, (void)out;
    abort();
}

void irv2_model_free(irv2_model *model)
{
    (void)model;
    abort();
}

void irv2_context_free(irv2_context *ctx)
{
    (void)ctx;
    abort();
}
