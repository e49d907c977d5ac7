/* net_tf.c: the `tf` variant (TF-slim weights as published by timm, spec section "tf"), with
 * timm's key names: BasicConv2d = conv + BN + ReLU, Sequential members numbered .0, .1, ...
 * Returns the 1536 x 8 x 8 feature tensor. */
#include "net/net_tf.h"

#include "net/builder.h"

#include <stdio.h>

#define BNR (NB_BN | NB_RELU)

static int mixed_5b(net *n, int x)
{
    const char *p = "mixed_5b";
    int b0 = nb_conv(n, nb_name(p, "branch0"), x, 96, 1, 1, 1, 0, 0, BNR);
    int b1 = nb_conv(n, nb_name(p, "branch1.0"), x, 48, 1, 1, 1, 0, 0, BNR);
    b1 = nb_conv(n, nb_name(p, "branch1.1"), b1, 64, 5, 5, 1, 2, 2, BNR);
    int b2 = nb_conv(n, nb_name(p, "branch2.0"), x, 64, 1, 1, 1, 0, 0, BNR);
    b2 = nb_conv(n, nb_name(p, "branch2.1"), b2, 96, 3, 3, 1, 1, 1, BNR);
    b2 = nb_conv(n, nb_name(p, "branch2.2"), b2, 96, 3, 3, 1, 1, 1, BNR);
    int b3 = nb_pool(n, nb_name(p, "branch3.0"), x, LAYER_AVGPOOL);
    b3 = nb_conv(n, nb_name(p, "branch3.1"), b3, 64, 1, 1, 1, 0, 0, BNR);
    return nb_concat(n, p, (int[]){b0, b1, b2, b3}, 4);
}

static int block35(net *n, const char *p, int x)
{
    int b0 = nb_conv(n, nb_name(p, "branch0"), x, 32, 1, 1, 1, 0, 0, BNR);
    int b1 = nb_conv(n, nb_name(p, "branch1.0"), x, 32, 1, 1, 1, 0, 0, BNR);
    b1 = nb_conv(n, nb_name(p, "branch1.1"), b1, 32, 3, 3, 1, 1, 1, BNR);
    int b2 = nb_conv(n, nb_name(p, "branch2.0"), x, 32, 1, 1, 1, 0, 0, BNR);
    b2 = nb_conv(n, nb_name(p, "branch2.1"), b2, 48, 3, 3, 1, 1, 1, BNR);
    b2 = nb_conv(n, nb_name(p, "branch2.2"), b2, 64, 3, 3, 1, 1, 1, BNR);
    int cat = nb_concat(n, nb_name(p, "concat"), (int[]){b0, b1, b2}, 3);
    return nb_residual(n, nb_name(p, "conv2d"), x, cat, NULL, 0.17f, 1, 0);
}

static int mixed_6a(net *n, int x)
{
    const char *p = "mixed_6a";
    int b0 = nb_conv(n, nb_name(p, "branch0"), x, 384, 3, 3, 2, 0, 0, BNR);
    int b1 = nb_conv(n, nb_name(p, "branch1.0"), x, 256, 1, 1, 1, 0, 0, BNR);
    b1 = nb_conv(n, nb_name(p, "branch1.1"), b1, 256, 3, 3, 1, 1, 1, BNR);
    b1 = nb_conv(n, nb_name(p, "branch1.2"), b1, 384, 3, 3, 2, 0, 0, BNR);
    int pool = nb_pool(n, nb_name(p, "branch2"), x, LAYER_MAXPOOL);
    return nb_concat(n, p, (int[]){b0, b1, pool}, 3);
}

static int block17(net *n, const char *p, int x)
{
    int b0 = nb_conv(n, nb_name(p, "branch0"), x, 192, 1, 1, 1, 0, 0, BNR);
    int b1 = nb_conv(n, nb_name(p, "branch1.0"), x, 128, 1, 1, 1, 0, 0, BNR);
    b1 = nb_conv(n, nb_name(p, "branch1.1"), b1, 160, 1, 7, 1, 0, 3, BNR);
    b1 = nb_conv(n, nb_name(p, "branch1.2"), b1, 192, 7, 1, 1, 3, 0, BNR);
    int cat = nb_concat(n, nb_name(p, "concat"), (int[]){b0, b1}, 2);
    return nb_residual(n, nb_name(p, "conv2d"), x, cat, NULL, 0.10f, 1, 0);
}

static int mixed_7a(net *n, int x)
{
    const char *p = "mixed_7a";
    int b0 = nb_conv(n, nb_name(p, "branch0.0"), x, 256, 1, 1, 1, 0, 0, BNR);
    b0 = nb_conv(n, nb_name(p, "branch0.1"), b0, 384, 3, 3, 2, 0, 0, BNR);
    int b1 = nb_conv(n, nb_name(p, "branch1.0"), x, 256, 1, 1, 1, 0, 0, BNR);
    b1 = nb_conv(n, nb_name(p, "branch1.1"), b1, 288, 3, 3, 2, 0, 0, BNR);
    int b2 = nb_conv(n, nb_name(p, "branch2.0"), x, 256, 1, 1, 1, 0, 0, BNR);
    b2 = nb_conv(n, nb_name(p, "branch2.1"), b2, 288, 3, 3, 1, 1, 1, BNR);
    b2 = nb_conv(n, nb_name(p, "branch2.2"), b2, 320, 3, 3, 2, 0, 0, BNR);
    int pool = nb_pool(n, nb_name(p, "branch3"), x, LAYER_MAXPOOL);
    return nb_concat(n, p, (int[]){b0, b1, b2, pool}, 4);
}

static int block8(net *n, const char *p, int x, float scale, int relu)
{
    int b0 = nb_conv(n, nb_name(p, "branch0"), x, 192, 1, 1, 1, 0, 0, BNR);
    int b1 = nb_conv(n, nb_name(p, "branch1.0"), x, 192, 1, 1, 1, 0, 0, BNR);
    b1 = nb_conv(n, nb_name(p, "branch1.1"), b1, 224, 1, 3, 1, 0, 1, BNR);
    b1 = nb_conv(n, nb_name(p, "branch1.2"), b1, 256, 3, 1, 1, 1, 0, BNR);
    int cat = nb_concat(n, nb_name(p, "concat"), (int[]){b0, b1}, 2);
    return nb_residual(n, nb_name(p, "conv2d"), x, cat, NULL, scale, relu, 0);
}

int net_tf_body(net *n)
{
    char p[NET_NAME_MAX];
    int x = nb_conv(n, "conv2d_1a", n->input, 32, 3, 3, 2, 0, 0, BNR);
    x = nb_conv(n, "conv2d_2a", x, 32, 3, 3, 1, 0, 0, BNR);
    x = nb_conv(n, "conv2d_2b", x, 64, 3, 3, 1, 1, 1, BNR);
    x = nb_pool(n, "maxpool_3a", x, LAYER_MAXPOOL);
    x = nb_conv(n, "conv2d_3b", x, 80, 1, 1, 1, 0, 0, BNR);
    x = nb_conv(n, "conv2d_4a", x, 192, 3, 3, 1, 0, 0, BNR);
    x = nb_pool(n, "maxpool_5a", x, LAYER_MAXPOOL);
    x = mixed_5b(n, x);
    for (int i = 0; i < 10; i++) {
        snprintf(p, sizeof p, "repeat.%d", i);
        x = block35(n, p, x);
    }
    x = mixed_6a(n, x);
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof p, "repeat_1.%d", i);
        x = block17(n, p, x);
    }
    x = mixed_7a(n, x);
    for (int i = 0; i < 9; i++) {
        snprintf(p, sizeof p, "repeat_2.%d", i);
        x = block8(n, p, x, 0.20f, 1);
    }
    x = block8(n, "block8", x, 1.0f, 0);
    return nb_conv(n, "conv2d_7b", x, 1536, 1, 1, 1, 0, 0, BNR);
}
