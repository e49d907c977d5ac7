/* infer.h: the image pipeline shared by `irv2 classify` and `irv2 eval`: decode each image,
 * cut its crops, run them through the model in batches, average the softmax over crops. */
#ifndef IRV2_CLI_INFER_H
#define IRV2_CLI_INFER_H

#include "irv2.h"

#include <stddef.h>

/* Called once per image, in input order for successes: probs holds the averaged class
 * probabilities in ImageNet's numbering (a 1001-class model's background output dropped, not
 * renormalised), error is NULL. For an image that could not be read or cropped, probs is NULL
 * and error is the library's message (called as soon as the failure is found). */
typedef void (*infer_image_fn)(void *user, size_t index, const float *probs, const char *error);

typedef struct infer_job {
    irv2_model *model;
    const char *const *paths;
    size_t count;
    unsigned crops;          /* 1, 10 or 144 */
    unsigned batch;          /* crops per irv2_model_run */
    infer_image_fn on_image;
    void *user;
} infer_job;

/* Runs every image; per-image failures go to on_image. Returns a status (message printed by
 * the caller through cli_fail) only for failures that stop everything: the model or memory. */
irv2_status infer_run(const infer_job *job);

/* Classes reported for a model: its outputs less the background class of 1001-class models. */
unsigned infer_classes(const irv2_model *model);

#endif
