/* classifier.h: launches cl/classifier.cl, the network's end at small batches in one launch:
 * the global average pool and the fully connected classifier fused into a split
 * matrix-vector product, which writes the output (logits or probabilities) itself. */
#ifndef IRV2_CLASSIFIER_H
#define IRV2_CLASSIFIER_H

#include "ops/op.h"

/* The largest batch it runs: each work-item keeps one sum per image in registers. */
#define CLASSIFIER_MAX_BATCH 16

/* features planes of h x w per image in, classes logits per image out, n images. */
typedef struct classifier_shape {
    int features, h, w, classes, n;
} classifier_shape;

/* Its work decomposition for a device: classes per work-group (its work-items) and features
 * per slice of the reduction. */
typedef struct classifier_form {
    int group, slice;
} classifier_form;

/* Whether the plan fuses the pool and the classifier at this batch: on devices that take the
 * work-group kernels (ctx_prefers_wg, a GPU unless forced) at batches up to
 * CLASSIFIER_MAX_BATCH, where the separate launches cost more than the reduction does. */
int classifier_offered(const irv2_context *ctx, unsigned batch);
/* The form for the device (from its profile); group 0 where it runs no form. */
classifier_form classifier_form_for(const irv2_context *ctx);
/* Floats of the packed weights: [features][classes padded to the group] zero-padded, then one
 * counter per class block and one for the blocks (zero). Read-write: the kernel sets each
 * counter back to 0. */
size_t classifier_packed_count(const classifier_shape *s, const classifier_form *f);
/* weights [classes][features] (the classifier's [cout][cin]) into packed. */
void classifier_pack(const classifier_shape *s, const classifier_form *f, const float *w,
                     float *packed);
/* Floats of the partial sums it needs in its own buffer (written before they are read). */
size_t classifier_partials(const classifier_shape *s, const classifier_form *f);

/* What the launch writes: the logits as the classifier conv would ([classes][n]), or as the
 * network's output ([n][classes]: the head's work, cl/head.cl, done in the same launch), as
 * logits or as probabilities (softmax over each image's classes). */
typedef enum classifier_out {
    CLASSIFIER_LOGITS_KN = 0,
    CLASSIFIER_LOGITS = 1,
    CLASSIFIER_SOFTMAX = 2
} classifier_out;

/* out = bias[k] + sum over c of w[k][c] * mean over the h x w plane of in[c][n], the
 * activations [features][n][h][w] at in, written at out as `what` says. packed holds
 * classifier_pack's layout; partials classifier_partials floats. */
irv2_status classifier_op(irv2_context *ctx, const classifier_shape *s, const classifier_form *f,
                          classifier_out what, op_buf in, cl_mem packed, cl_mem bias,
                          cl_mem partials, op_buf out, op_launch *op);

#endif
