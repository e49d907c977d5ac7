/* net_seed.c: the `seed` variant of Inception-ResNet-v2 (../shared/spec, section "seed"),
 * with the spec's checkpoint names. Returns the 2144 x 8 x 8 feature tensor. */
#include "net/net_seed.h"

#include "net/builder.h"

#include <stdio.h>

#define BNR (NB_BN | NB_RELU)

static int stem(net *n)
{
    int x = nb_conv(n, "stem.conv1", n->input, 32, 3, 3, 2, 0, 0, BNR);
    x = nb_conv(n, "stem.conv2", x, 32, 3, 3, 1, 0, 0, BNR);
    x = nb_conv(n, "stem.conv3", x, 64, 3, 3, 1, 1, 1, BNR);
    int c4 = nb_conv(n, "stem.conv4", x, 96, 3, 3, 2, 0, 0, BNR);
    int p4 = nb_pool(n, "stem.pool4", x, LAYER_MAXPOOL);
    x = nb_concat(n, "stem.concat4", (int[]){c4, p4}, 2);
    int a = nb_conv(n, "stem.conv5_3x3_a_reduce", x, 64, 1, 1, 1, 0, 0, BNR);
    a = nb_conv(n, "stem.conv5_3x3_a", a, 96, 3, 3, 1, 0, 0, BNR);
    int b = nb_conv(n, "stem.conv5_3x3_b_reduce", x, 64, 1, 1, 1, 0, 0, BNR);
    b = nb_conv(n, "stem.conv5_1x7_b", b, 64, 1, 7, 1, 0, 3, BNR);
    b = nb_conv(n, "stem.conv5_7x1_b", b, 64, 7, 1, 1, 3, 0, BNR);
    b = nb_conv(n, "stem.conv5_3x3_b", b, 96, 3, 3, 1, 0, 0, BNR);
    x = nb_concat(n, "stem.concat5", (int[]){a, b}, 2);
    int c6 = nb_conv(n, "stem.conv6", x, 192, 3, 3, 2, 0, 0, BNR);
    int p6 = nb_pool(n, "stem.pool6", x, LAYER_MAXPOOL);
    return nb_concat(n, "stem.concat6", (int[]){c6, p6}, 2);
}

static int block_a(net *n, const char *p, int x)
{
    int b0 = nb_conv(n, nb_name(p, "conv_1x1"), x, 32, 1, 1, 1, 0, 0, NB_RELU);
    int b1 = nb_conv(n, nb_name(p, "conv_3x3_a_reduce"), x, 32, 1, 1, 1, 0, 0, NB_RELU);
    b1 = nb_conv(n, nb_name(p, "conv_3x3_a"), b1, 32, 3, 3, 1, 1, 1, NB_RELU);
    int b2 = nb_conv(n, nb_name(p, "conv_3x3_b_reduce"), x, 32, 1, 1, 1, 0, 0, NB_RELU);
    b2 = nb_conv(n, nb_name(p, "conv_3x3_b1"), b2, 48, 3, 3, 1, 1, 1, NB_RELU);
    b2 = nb_conv(n, nb_name(p, "conv_3x3_b2"), b2, 64, 3, 3, 1, 1, 1, NB_RELU);
    int cat = nb_concat(n, nb_name(p, "concat"), (int[]){b0, b1, b2}, 3);
    return nb_residual(n, nb_name(p, "concat_proj"), x, cat, nb_name(p, "bn"), 1.0f, 1, 0);
}

static int reduction_a(net *n, int x)
{
    const char *p = "reduction_a";
    int pool = nb_pool(n, nb_name(p, "pool"), x, LAYER_MAXPOOL);
    int a = nb_conv(n, nb_name(p, "conv_3x3_a"), x, 384, 3, 3, 2, 0, 0, NB_RELU);
    int b = nb_conv(n, nb_name(p, "conv_3x3_b_reduce"), x, 256, 1, 1, 1, 0, 0, NB_RELU);
    b = nb_conv(n, nb_name(p, "conv_3x3_b1"), b, 256, 3, 3, 1, 1, 1, NB_RELU);
    b = nb_conv(n, nb_name(p, "conv_3x3_b2"), b, 384, 3, 3, 2, 0, 0, NB_RELU);
    int cat = nb_concat(n, nb_name(p, "concat"), (int[]){pool, a, b}, 3);
    nb_affine_concat(n, cat, nb_name(p, "bn"), 1);
    return cat;
}

static int block_b(net *n, const char *p, int x)
{
    int b0 = nb_conv(n, nb_name(p, "conv_1x1"), x, 192, 1, 1, 1, 0, 0, NB_RELU);
    int b1 = nb_conv(n, nb_name(p, "conv_reduce"), x, 128, 1, 1, 1, 0, 0, NB_RELU);
    b1 = nb_conv(n, nb_name(p, "conv_1x7"), b1, 160, 1, 7, 1, 0, 3, NB_RELU);
    b1 = nb_conv(n, nb_name(p, "conv_7x1"), b1, 192, 7, 1, 1, 3, 0, NB_RELU);
    int cat = nb_concat(n, nb_name(p, "concat"), (int[]){b0, b1}, 2);
    return nb_residual(n, nb_name(p, "concat_proj"), x, cat, nb_name(p, "bn"), 1.0f, 1, 0);
}

static int reduction_b(net *n, int x)
{
    const char *p = "reduction_b";
    int a = nb_conv(n, nb_name(p, "conv_3x3_a_reduce"), x, 256, 1, 1, 1, 0, 0, NB_RELU);
    a = nb_conv(n, nb_name(p, "conv_3x3_a"), a, 384, 3, 3, 2, 0, 0, NB_RELU);
    int b = nb_conv(n, nb_name(p, "conv_3x3_b_reduce"), x, 256, 1, 1, 1, 0, 0, NB_RELU);
    b = nb_conv(n, nb_name(p, "conv_3x3_b1"), b, 288, 3, 3, 1, 1, 1, NB_RELU);
    b = nb_conv(n, nb_name(p, "conv_3x3_b2"), b, 320, 3, 3, 2, 0, 0, NB_RELU);
    int c = nb_conv(n, nb_name(p, "conv_3x3_c_reduce"), x, 256, 1, 1, 1, 0, 0, NB_RELU);
    c = nb_conv(n, nb_name(p, "conv_3x3_c"), c, 288, 3, 3, 2, 0, 0, NB_RELU);
    int pool = nb_pool(n, nb_name(p, "pool"), x, LAYER_MAXPOOL);
    int cat = nb_concat(n, nb_name(p, "concat"), (int[]){a, b, c, pool}, 4);
    nb_affine_concat(n, cat, nb_name(p, "bn"), 1);
    return cat;
}

static int block_c(net *n, const char *p, int x)
{
    int b0 = nb_conv(n, nb_name(p, "conv_1x1"), x, 192, 1, 1, 1, 0, 0, NB_RELU);
    int b1 = nb_conv(n, nb_name(p, "conv_reduce"), x, 192, 1, 1, 1, 0, 0, NB_RELU);
    b1 = nb_conv(n, nb_name(p, "conv_1x3"), b1, 224, 1, 3, 1, 0, 1, NB_RELU);
    b1 = nb_conv(n, nb_name(p, "conv_3x1"), b1, 256, 3, 1, 1, 1, 0, NB_RELU);
    int cat = nb_concat(n, nb_name(p, "concat"), (int[]){b0, b1}, 2);
    return nb_residual(n, nb_name(p, "concat_proj"), x, cat, nb_name(p, "bn"), 1.0f, 1, 0);
}

int net_seed_body(net *n)
{
    char p[NET_NAME_MAX];
    int x = stem(n);
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "block_a.%d", i);
        x = block_a(n, p, x);
    }
    x = reduction_a(n, x);
    for (int i = 0; i < 10; i++) {
        snprintf(p, sizeof p, "block_b.%d", i);
        x = block_b(n, p, x);
    }
    x = reduction_b(n, x);
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "block_c.%d", i);
        x = block_c(n, p, x);
    }
    return x;
}
