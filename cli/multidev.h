/* multidev.h: the devices --device names, for every command; one model per device for
 * `classify`, `eval` and `run`: opening the models, and an infer_job's images shared among
 * them. */
#ifndef IRV2_CLI_MULTIDEV_H
#define IRV2_CLI_MULTIDEV_H

#include "cli.h"
#include "infer.h"

#define CLI_MAX_DEVICES 16

/* The models of several devices, each with its context; names[i] is "SPEC (device name)". */
typedef struct multi_models {
    irv2_context *ctxs[CLI_MAX_DEVICES];
    irv2_model *models[CLI_MAX_DEVICES];
    char names[CLI_MAX_DEVICES][300];
    size_t n;
} multi_models;

/* What a shared run redid: devices that failed, and images run again elsewhere. */
typedef struct multi_report {
    size_t failed_devices, redone;
} multi_report;

/* The devices a->context.device (--device, else IRV2_DEVICE) names, as irv2_device_list
 * expands them; without one, under MPI, the device of the rank's place among its machine's
 * ranks. Returns 0, or after printing the error (one line naming --device or IRV2_DEVICE)
 * CLI_EXIT_USAGE for a malformed list, CLI_EXIT_FAILURE for devices that are not there. */
int cli_device_specs(const cli_args *a, char specs[][IRV2_DEVICE_SPEC_SIZE], size_t cap,
                     size_t *n);

/* Opens a model on each of the n devices (progress reported for the first only). Returns 0,
 * or CLI_EXIT_FAILURE after printing the error of the device that failed (nothing is left
 * open). */
int cli_open_models(const cli_args *a, char specs[][IRV2_DEVICE_SPEC_SIZE], size_t n,
                    multi_models *mm);
void multi_models_free(multi_models *mm);

/* The models of the devices cli_device_specs names, opened as cli_open_model does. Returns 0,
 * CLI_EXIT_USAGE for a bad list, or CLI_EXIT_FAILURE, after printing the error. */
int cli_devices_open(const cli_args *a, multi_models *mm);
/* Runs job on mm's models (job->model is set to the first): 0 when every image ran,
 * CLI_EXIT_REDONE when every image ran but a device failed and its images were run again on
 * the others, CLI_EXIT_FAILURE after printing why nothing more could run. */
int cli_devices_infer(multi_models *mm, infer_job *job);

/* `run`'s batch of n images (input) on mm's models: one irv2_model_run with one device, else
 * about four chunks per device taken from one queue, logits (or probabilities) in place in
 * output; returns as cli_devices_infer does. */
int cli_devices_run_array(multi_models *mm, const float *input, unsigned n, float *output,
                          int softmax);

/* Runs job's images on every model of mm: each device takes the next images when it is free
 * (one batch's worth at a time), results reach job->on_image in input order on the calling
 * thread, and a device that fails is reported (one line) and its images go to the others.
 * Fails only when every device failed, after printing that (one line). */
irv2_status infer_run_multi(const infer_job *job, const multi_models *mm, multi_report *report);

#endif
