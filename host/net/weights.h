/* weights.h: a checkpoint (or synthetic weights) read into the network's host weights, with
 * BN folded into each conv: the model the plan packs for the device. */
#ifndef IRV2_WEIGHTS_H
#define IRV2_WEIGHTS_H

#include "net/net.h"

/* Host weights of one layer after folding BN (and a residual scale) into them. */
typedef struct layer_weights {
    float *w;             /* [cout][cin][kh][kw]; NULL for pools */
    float *bias;          /* [cout] */
    float *scale, *shift; /* [cout] for epi.affine, else NULL */
} layer_weights;

/* Builds *n for the checkpoint at path weights (or "synthetic[:SEED]") and reads its
 * per-layer weights into *out (n->nlayers entries). The variant is detected from the keys
 * unless forced. Every tensor is checked before any is read; on failure nothing is left
 * allocated and the message names the file and the tensor. */
irv2_status weights_load(const char *weights, irv2_variant forced, net *n, layer_weights **out);
void weights_free(layer_weights *w, int nlayers);

#endif
