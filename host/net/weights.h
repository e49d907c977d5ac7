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

/* The checkpoint tensors one layer reads: name, rank and shape each, in the order of a
 * PyTorch state_dict ([conv weight, bias | conv weight, bn weight, bias, running mean,
 * running var], then a residual's affine BN). A BN shared by several layers is listed by
 * each of them. */
typedef struct layer_tensors {
    char name[8][NET_NAME_MAX + 24];
    unsigned ndim[8];
    uint64_t shape[8][4];
    int count;
} layer_tensors;
void layer_tensor_list(const net_layer *l, layer_tensors *lt);

/* Builds *n for the checkpoint at path weights (or "synthetic[:SEED]") and reads its
 * per-layer weights into *out (n->nlayers entries). The variant is detected from the keys
 * unless forced. Every tensor is checked before any is read; on failure nothing is left
 * allocated and the message names the file and the tensor. */
irv2_status weights_load(const char *weights, irv2_variant forced, net *n, layer_weights **out);
void weights_free(layer_weights *w, int nlayers);

#endif
