/* net.h: the network as data: tensors (with channel-slice views for zero-copy concatenation)
 * and layers in execution order, with every shape inferred and validated when built. */
#ifndef IRV2_NET_H
#define IRV2_NET_H

#include "irv2.h"

#define NET_NAME_MAX 64

typedef enum net_variant { NET_SEED = 0, NET_TF = 1 } net_variant;

typedef enum layer_kind {
    LAYER_CONV,          /* convolution (also the classifier, as a 1x1 conv on 2144x1x1) */
    LAYER_MAXPOOL,       /* 3x3 stride 2, no padding */
    LAYER_AVGPOOL,       /* 3x3 stride 1 pad 1, padding not counted */
    LAYER_GLOBAL_AVGPOOL /* H x W -> 1 x 1 */
} layer_kind;

/* A tensor holds C x H x W per image. A view is the channel slice [coff, coff + c) of its
 * parent's storage (a concatenation's branch output, or an in-place residual output). */
typedef struct net_tensor {
    char name[NET_NAME_MAX];
    int c, h, w;
    int parent; /* -1 for a root that owns storage */
    int coff;
} net_tensor;

/* The fused epilogue applied to each output value v = acc (+ bias):
 *   if relu1: v = max(v, 0);  if residual: v = old_output + v;
 *   if affine: v = v * scale[c] + shift[c] (a BN after a sum or a concatenation);
 *   if relu2: v = max(v, 0). */
typedef struct net_epilogue {
    int relu1, residual, affine, relu2;
    char affine_bn[NET_NAME_MAX]; /* checkpoint prefix of that BN, e.g. "block_a.0.bn" */
    int affine_coff;              /* first channel of this layer within that BN */
    int affine_channels;          /* the BN's channel count */
    float residual_scale;         /* tf: the conv2d branch is scaled by this before the sum */
} net_epilogue;

typedef struct net_layer {
    char name[NET_NAME_MAX];  /* checkpoint prefix, e.g. "block_b.3.conv_1x7" */
    layer_kind kind;
    int in, out;              /* tensor ids */
    int cin, cout, kh, kw, sh, sw, ph, pw;
    int has_bn;               /* conv weights + BN (no bias) rather than weights + bias */
    int weight_2d;            /* the classifier: weight stored as [cout, cin] */
    net_epilogue epi;
} net_layer;

typedef struct net {
    net_variant variant;
    int classes;
    net_tensor *tensors;
    int ntensors, tensors_cap;
    net_layer *layers;
    int nlayers, layers_cap;
    int input;   /* 3 x 299 x 299 */
    int logits;  /* classes x 1 x 1 */
    irv2_status status; /* first error met while building */
} net;

void net_free(net *n);

/* The root tensor owning t's storage, and t's channel offset within it. */
int net_root(const net *n, int t, int *coff);
const net_layer *net_find_layer(const net *n, const char *name);
/* Groups of sibling 1x1 convs that can run as one GEMM (weights stacked, each writing its own
 * output): same input, bias-and-ReLU epilogues alike, and nothing between them in execution
 * order that changes the input or touches a later sibling's output. lead[i] is the first
 * layer of i's group (i itself when alone); a group has at most max_group layers. */
void net_siblings(const net *n, int max_group, int *lead);
/* The step whose launch can also run max pool layer `pool` (a "rider", ops/conv.h
 * conv_rider), or -1: with time[i] the first layer of i's step (steps in that order), the
 * conv step just before the pool's own step, or else the one just after it, that writes into
 * the tensor the pool writes (so the pool's output is live then), neither reads the pool's
 * output nor writes its input, and, coming after it, reads the pool's input (live then too);
 * and for which takes(user, its first layer) holds (its form runs riders; NULL: any). Run at
 * that step's time, the pool moves no tensor's lifetime. */
int net_rider_host(const net *n, const int *time, int pool,
                   int (*takes)(void *user, int lead), void *user);
/* Multiply-adds x 2 of one image through the whole network. */
double net_flops(const net *n);
/* A short name for a layer's kind, used by profiles: "conv1x1", "conv3x3s2", "maxpool", ... */
const char *net_layer_kind_name(const net_layer *l);

#endif
