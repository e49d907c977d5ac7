/* model.h: the internals of irv2_model: the network, its folded host weights, and the plan
 * (kernels, packed device weights, activation buffers) for the current batch size. */
#ifndef IRV2_MODEL_H
#define IRV2_MODEL_H

#include "context.h"
#include "net.h"
#include "ops/ops.h"

/* Host weights of one layer after folding BN (and a residual scale) into them. */
typedef struct layer_weights {
    float *w;            /* [cout][cin][kh][kw]; NULL for pools */
    float *bias;         /* [cout] */
    float *scale, *shift;/* [cout] for epi.affine, else NULL */
} layer_weights;

typedef struct plan plan;

struct irv2_model {
    irv2_context *ctx;
    irv2_model_options options;
    net net;
    layer_weights *weights;  /* per layer */
    plan *plan;              /* for the last batch size run */
    int profiling;
};

/* Fills model->weights from a checkpoint path or "synthetic[:SEED]"; builds model->net.
 * Every tensor is checked before any is read. */
irv2_status model_load_weights(irv2_model *model, const char *weights);
void model_free_weights(irv2_model *model);

/* ---- plan.c ---- */
irv2_status plan_create(irv2_model *model, unsigned batch, plan **out);
/* The largest batch (<= batch) whose buffers each fit the device's largest allocation. */
irv2_status plan_fit_batch(const irv2_model *model, unsigned batch, unsigned *fits);
void plan_free(plan *p);
unsigned plan_batch(const plan *p);
uint64_t plan_weight_bytes(const plan *p);
uint64_t plan_activation_bytes(const plan *p);
/* Enqueues the whole network for input (NCHW) and reads the output; one wait. */
irv2_status plan_run(irv2_model *model, plan *p, const float *input, float *output, int softmax);
/* Device time of the last profiled run, summed per layer kind, or per layer (by_layer). */
irv2_status plan_profile(const plan *p, int by_layer, irv2_layer_profile *out, size_t capacity,
                         size_t *count);

#endif
