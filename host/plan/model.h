/* model.h: the internals of irv2_model: the network with its host weights, the plan for the
 * batch size last run, and what all its plans used. */
#ifndef IRV2_MODEL_H
#define IRV2_MODEL_H

#include "plan/plan.h"

struct irv2_model {
    irv2_context *ctx;
    irv2_model_options options;
    net net;
    layer_weights *weights;  /* per layer */
    plan *plan;              /* for the last batch size run */
    binaries_usage used;     /* what its plans used, for irv2_model_save_binaries */
    int profiling;
};

#endif
