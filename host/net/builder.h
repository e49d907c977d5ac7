/* builder.h: the graph-building steps shared by the variant descriptions (net_seed.c,
 * net_tf.c). Each returns the id of the tensor it produces, or -1 after recording an error. */
#ifndef IRV2_BUILDER_H
#define IRV2_BUILDER_H

#include "net/net.h"

enum { NB_BN = 1, NB_RELU = 2, NB_FC = 4 };

int nb_tensor(net *n, const char *name, int c, int h, int w);
/* A convolution named name (its checkpoint prefix) reading tensor in. */
int nb_conv(net *n, const char *name, int in, int cout, int kh, int kw, int s, int ph, int pw,
            int flags);
int nb_pool(net *n, const char *name, int in, layer_kind kind);
/* Makes the parts channel slices of a new tensor, in order; they must share H and W. */
int nb_concat(net *n, const char *name, const int *parts, int count);
/* A BN (+ ReLU) after a concatenation, fused into the epilogue of each part's producer. */
void nb_affine_concat(net *n, int cat, const char *bn_prefix, int relu);
/* The 1x1 projection of a residual block (name: its checkpoint prefix), added in place to x:
 * out = [relu](affine(x + scale * proj(branches))). bn_prefix may be NULL. */
int nb_residual(net *n, const char *name, int x, int branches, const char *bn_prefix,
                float scale, int relu, int flags);

/* "<prefix>.<leaf>" in one of four rotating static buffers (enough for one call's names). */
const char *nb_name(const char *prefix, const char *leaf);

#endif
