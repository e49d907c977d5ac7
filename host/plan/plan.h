/* plan.h: the network planned for one batch size on one device, built in one direction:
 * steps (stacked siblings), each conv's form chosen (plan/tune.c), panel sharing decided,
 * memory placed from those choices (plan/memory.c), weights packed and uploaded, launches
 * prepared; then run any number of times with one wait. */
#ifndef IRV2_PLAN_H
#define IRV2_PLAN_H

#include "net/weights.h"
#include "ops/conv.h"
#include "runtime/binaries.h"

typedef struct plan plan;

/* A conv layer as a plan runs it at a batch size: a 1x1 stride-1 conv is one GEMM over all
 * N*H*W positions (n = h = 1). Not yet finished (conv_shape_finish). */
conv_shape plan_conv_shape(const net *n, const net_layer *l, unsigned batch);

/* Plans net with its host weights w (both must outlive the plan) for batch images, with the
 * model's options (tune resolved; progress reported to the context's callback while planning).
 * What it uses (batch, kernel choices, programs) is added to used, which must outlive it: its
 * first run writes the binaries of used's programs to the on-disk cache. */
irv2_status plan_create(irv2_context *ctx, const net *n, const layer_weights *w,
                        const irv2_model_options *options, unsigned batch, binaries_usage *used,
                        plan **out);
void plan_free(plan *p);
/* The largest batch (<= batch) whose buffers each fit the device's largest allocation and
 * 2^32 - 1 floats (the kernels' offsets are 32-bit), whatever forms the tuner will choose
 * (untuned, tune IRV2_TUNE_OFF without a binaries folder: the untuned forms). */
irv2_status plan_fit_batch(irv2_context *ctx, const net *n, irv2_gemm_backend gemm,
                           irv2_tune_mode tune, unsigned batch, unsigned *fits);

unsigned plan_batch(const plan *p);
uint64_t plan_weight_bytes(const plan *p);
uint64_t plan_activation_bytes(const plan *p);

/* Record OpenCL events in later runs, for plan_profile (the queue must profile). */
void plan_set_profiling(plan *p, int enable);
/* Enqueues the whole network for input (batch x 3 x 299 x 299, NCHW) and reads the output
 * (batch x classes, logits or with softmax probabilities); one wait. */
irv2_status plan_run(plan *p, const float *input, float *output, int softmax);
/* Device time of the last profiled run, summed per layer kind, or per step (by_layer). */
irv2_status plan_profile(const plan *p, int by_layer, irv2_layer_profile *out, size_t capacity,
                         size_t *count);

#endif
