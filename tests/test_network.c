/* test_network.c: the network graph without a device: every named layer and tensor of the
 * `seed` variant against the tables of ../shared/spec/inception-resnet-v2.md (kernel, stride,
 * padding, activation and inferred output shape), concatenation order, the fused BN epilogues,
 * multiply-add and parameter counts, the `tf` variant's shapes and cost, and build errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/builder.h"
#include "net/graph.h"
#include "plan/memory.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the spec's tables ------------------------------------------------------------------ */

/* op: 'c' convolution, 'm' max pool, 'k' concatenation, 't' a residual block's output tensor
 * (named after the block itself: the row's name is "").
 * act (convs only): "bn+relu" (conv + BN + ReLU, no bias), "relu" (conv + bias + ReLU),
 * "linear" (conv + bias). parts (concats only): the listed order, space separated. */
typedef struct spec_row {
    const char *name;
    char op;
    const char *act;
    int cin, kh, kw, s, ph, pw;
    int c, h, w;
    const char *parts;
} spec_row;

#define CONV(name, act, cin, kh, kw, s, ph, pw, c, h, w) {name, 'c', act, cin, kh, kw, s, ph, pw, c, h, w, NULL}
#define POOL(name, c, h, w) {name, 'm', NULL, c, 3, 3, 2, 0, 0, c, h, w, NULL}
#define CAT(name, c, h, w, parts) {name, 'k', NULL, 0, 0, 0, 0, 0, 0, c, h, w, parts}
#define OUT(c, h, w) {"", 't', NULL, 0, 0, 0, 0, 0, 0, c, h, w, NULL}

/* Stem -> 384 x 35 x 35; every conv "+BN+ReLU". */
static const spec_row stem_rows[] = {
    CONV("conv1", "bn+relu", 3, 3, 3, 2, 0, 0, 32, 149, 149),
    CONV("conv2", "bn+relu", 32, 3, 3, 1, 0, 0, 32, 147, 147),
    CONV("conv3", "bn+relu", 32, 3, 3, 1, 1, 1, 64, 147, 147),
    CONV("conv4", "bn+relu", 64, 3, 3, 2, 0, 0, 96, 73, 73),
    POOL("pool4", 64, 73, 73),
    CAT("concat4", 160, 73, 73, "conv4 pool4"),
    CONV("conv5_3x3_a_reduce", "bn+relu", 160, 1, 1, 1, 0, 0, 64, 73, 73),
    CONV("conv5_3x3_a", "bn+relu", 64, 3, 3, 1, 0, 0, 96, 71, 71),
    CONV("conv5_3x3_b_reduce", "bn+relu", 160, 1, 1, 1, 0, 0, 64, 73, 73),
    CONV("conv5_1x7_b", "bn+relu", 64, 1, 7, 1, 0, 3, 64, 73, 73),
    CONV("conv5_7x1_b", "bn+relu", 64, 7, 1, 1, 3, 0, 64, 73, 73),
    CONV("conv5_3x3_b", "bn+relu", 64, 3, 3, 1, 0, 0, 96, 71, 71),
    CAT("concat5", 192, 71, 71, "conv5_3x3_a conv5_3x3_b"),
    CONV("conv6", "bn+relu", 192, 3, 3, 2, 0, 0, 192, 35, 35),
    POOL("pool6", 192, 35, 35),
    CAT("concat6", 384, 35, 35, "conv6 pool6"),
};

/* Inception-ResNet-A, 384 x 35 x 35 -> 384 x 35 x 35. */
static const spec_row block_a_rows[] = {
    CONV("conv_1x1", "relu", 384, 1, 1, 1, 0, 0, 32, 35, 35),
    CONV("conv_3x3_a_reduce", "relu", 384, 1, 1, 1, 0, 0, 32, 35, 35),
    CONV("conv_3x3_a", "relu", 32, 3, 3, 1, 1, 1, 32, 35, 35),
    CONV("conv_3x3_b_reduce", "relu", 384, 1, 1, 1, 0, 0, 32, 35, 35),
    CONV("conv_3x3_b1", "relu", 32, 3, 3, 1, 1, 1, 48, 35, 35),
    CONV("conv_3x3_b2", "relu", 48, 3, 3, 1, 1, 1, 64, 35, 35),
    CAT("concat", 128, 35, 35, "conv_1x1 conv_3x3_a conv_3x3_b2"),
    CONV("concat_proj", "linear", 128, 1, 1, 1, 0, 0, 384, 35, 35),
    OUT(384, 35, 35),
};

/* Reduction-A, 384 x 35 x 35 -> 1152 x 17 x 17, ReLU(BN(concat)). */
static const spec_row reduction_a_rows[] = {
    POOL("pool", 384, 17, 17),
    CONV("conv_3x3_a", "relu", 384, 3, 3, 2, 0, 0, 384, 17, 17),
    CONV("conv_3x3_b_reduce", "relu", 384, 1, 1, 1, 0, 0, 256, 35, 35),
    CONV("conv_3x3_b1", "relu", 256, 3, 3, 1, 1, 1, 256, 35, 35),
    CONV("conv_3x3_b2", "relu", 256, 3, 3, 2, 0, 0, 384, 17, 17),
    CAT("concat", 1152, 17, 17, "pool conv_3x3_a conv_3x3_b2"),
};

/* Inception-ResNet-B, 1152 x 17 x 17. */
static const spec_row block_b_rows[] = {
    CONV("conv_1x1", "relu", 1152, 1, 1, 1, 0, 0, 192, 17, 17),
    CONV("conv_reduce", "relu", 1152, 1, 1, 1, 0, 0, 128, 17, 17),
    CONV("conv_1x7", "relu", 128, 1, 7, 1, 0, 3, 160, 17, 17),
    CONV("conv_7x1", "relu", 160, 7, 1, 1, 3, 0, 192, 17, 17),
    CAT("concat", 384, 17, 17, "conv_1x1 conv_7x1"),
    CONV("concat_proj", "linear", 384, 1, 1, 1, 0, 0, 1152, 17, 17),
    OUT(1152, 17, 17),
};

/* Reduction-B, 1152 x 17 x 17 -> 2144 x 8 x 8, ReLU(BN(concat)). */
static const spec_row reduction_b_rows[] = {
    CONV("conv_3x3_a_reduce", "relu", 1152, 1, 1, 1, 0, 0, 256, 17, 17),
    CONV("conv_3x3_a", "relu", 256, 3, 3, 2, 0, 0, 384, 8, 8),
    CONV("conv_3x3_b_reduce", "relu", 1152, 1, 1, 1, 0, 0, 256, 17, 17),
    CONV("conv_3x3_b1", "relu", 256, 3, 3, 1, 1, 1, 288, 17, 17),
    CONV("conv_3x3_b2", "relu", 288, 3, 3, 2, 0, 0, 320, 8, 8),
    CONV("conv_3x3_c_reduce", "relu", 1152, 1, 1, 1, 0, 0, 256, 17, 17),
    CONV("conv_3x3_c", "relu", 256, 3, 3, 2, 0, 0, 288, 8, 8),
    POOL("pool", 1152, 8, 8),
    CAT("concat", 2144, 8, 8, "conv_3x3_a conv_3x3_b2 conv_3x3_c pool"),
};

/* Inception-ResNet-C, 2144 x 8 x 8. */
static const spec_row block_c_rows[] = {
    CONV("conv_1x1", "relu", 2144, 1, 1, 1, 0, 0, 192, 8, 8),
    CONV("conv_reduce", "relu", 2144, 1, 1, 1, 0, 0, 192, 8, 8),
    CONV("conv_1x3", "relu", 192, 1, 3, 1, 0, 1, 224, 8, 8),
    CONV("conv_3x1", "relu", 224, 3, 1, 1, 1, 0, 256, 8, 8),
    CAT("concat", 448, 8, 8, "conv_1x1 conv_3x1"),
    CONV("concat_proj", "linear", 448, 1, 1, 1, 0, 0, 2144, 8, 8),
    OUT(2144, 8, 8),
};

/* A section of the network: rows under a prefix ("%d" replaced by 0 .. repeat-1). bn: the
 * BN applied after the section's output ("bn" for residual blocks and reductions). */
typedef struct spec_section {
    const char *prefix_fmt;
    int repeat;
    const spec_row *rows;
    size_t nrows;
    int residual; /* 1: ReLU(BN(input + concat_proj)); 0: ReLU(BN(concat)) or none */
    int bn_after_concat;
} spec_section;

#define SECTION(fmt, repeat, rows, residual, bn_concat) \
    {fmt, repeat, rows, sizeof rows / sizeof rows[0], residual, bn_concat}

static const spec_section seed_sections[] = {
    SECTION("stem", 1, stem_rows, 0, 0),
    SECTION("block_a.%d", 5, block_a_rows, 1, 0),
    SECTION("reduction_a", 1, reduction_a_rows, 0, 1),
    SECTION("block_b.%d", 10, block_b_rows, 1, 0),
    SECTION("reduction_b", 1, reduction_b_rows, 0, 1),
    SECTION("block_c.%d", 5, block_c_rows, 1, 0),
};

/* ---- helpers ---------------------------------------------------------------------------- */

static int find_tensor(const net *n, const char *name)
{
    int found = -1;
    for (int t = 0; t < n->ntensors; t++) {
        if (strcmp(n->tensors[t].name, name) == 0) {
            assert_int_equal(found, -1); /* tensor names are unique */
            found = t;
        }
    }
    return found;
}

static int layer_index(const net *n, const char *name)
{
    const net_layer *l = net_find_layer(n, name);
    return l ? (int)(l - n->layers) : -1;
}

static void full_name(char *dst, size_t size, const char *prefix, const char *leaf)
{
    if (*leaf) snprintf(dst, size, "%s.%s", prefix, leaf);
    else snprintf(dst, size, "%s", prefix);
}

static void expect_tensor(const net *n, int t, const char *what, int c, int h, int w)
{
    assert_true(t >= 0 && t < n->ntensors);
    const net_tensor *x = &n->tensors[t];
    if (x->c != c || x->h != h || x->w != w)
        fail_msg("%s: tensor '%s' is %dx%dx%d, the spec says %dx%dx%d", what, x->name, x->c, x->h,
                 x->w, c, h, w);
}

typedef struct coverage {
    char *layer_seen, *tensor_seen;
    int rows;
} coverage;

/* The layer writing tensor t, the last one for in-place outputs (-1 if none). */
static int producer_of(const net *n, int t)
{
    for (int i = n->nlayers - 1; i >= 0; i--)
        if (n->layers[i].out == t) return i;
    return -1;
}

static void check_conv_row(const net *n, const char *name, const spec_row *r, const char *bn,
                           coverage *cov)
{
    int li = layer_index(n, name);
    if (li < 0) fail_msg("layer '%s' is missing", name);
    assert_int_equal(cov->layer_seen[li], 0);
    cov->layer_seen[li] = 1;
    const net_layer *l = &n->layers[li];
    if (l->kind != LAYER_CONV) fail_msg("layer '%s' is not a convolution", name);
    if (l->cin != r->cin || l->kh != r->kh || l->kw != r->kw || l->sh != r->s || l->sw != r->s ||
        l->ph != r->ph || l->pw != r->pw || l->cout != r->c)
        fail_msg("layer '%s': Conv %d->%d k%dx%d s%dx%d p%dx%d, the spec says Conv %d->%d "
                 "k%dx%d s%d p%dx%d", name, l->cin, l->cout, l->kh, l->kw, l->sh, l->sw, l->ph,
                 l->pw, r->cin, r->c, r->kh, r->kw, r->s, r->ph, r->pw);
    assert_int_equal(n->tensors[l->in].c, l->cin);
    expect_tensor(n, l->out, name, r->c, r->h, r->w);
    assert_int_equal(l->weight_2d, 0);
    if (strcmp(r->act, "bn+relu") == 0) {
        assert_true(l->has_bn);
        assert_true(l->epi.relu1);
        assert_false(l->epi.residual);
    } else if (strcmp(r->act, "relu") == 0) {
        assert_false(l->has_bn);
        assert_true(l->epi.relu1);
        assert_false(l->epi.residual);
    } else {
        /* the residual projection: out = ReLU(BN(input + conv)), BN "<block>.bn" */
        assert_string_equal(r->act, "linear");
        assert_false(l->has_bn);
        assert_false(l->epi.relu1);
        assert_true(l->epi.residual);
        assert_true(l->epi.residual_scale == 1.0f);
        assert_true(bn != NULL);
        assert_true(l->epi.affine);
        assert_string_equal(l->epi.affine_bn, bn);
        assert_int_equal(l->epi.affine_coff, 0);
        assert_int_equal(l->epi.affine_channels, r->c);
        assert_true(l->epi.relu2);
        /* in place: the output is a view of the block input's storage, all its channels */
        int coff;
        int root = net_root(n, l->out, &coff);
        assert_true(n->tensors[l->out].parent >= 0);
        assert_int_equal(coff, 0);
        assert_int_equal(n->tensors[root].c, r->c);
    }
    cov->rows++;
}

static void check_pool_row(const net *n, const char *name, const spec_row *r, coverage *cov)
{
    int li = layer_index(n, name);
    if (li < 0) fail_msg("layer '%s' is missing", name);
    assert_int_equal(cov->layer_seen[li], 0);
    cov->layer_seen[li] = 1;
    const net_layer *l = &n->layers[li];
    if (l->kind != LAYER_MAXPOOL) fail_msg("layer '%s' is not a max pool", name);
    assert_int_equal(l->kh, 3);
    assert_int_equal(l->kw, 3);
    assert_int_equal(l->sh, 2);
    assert_int_equal(l->sw, 2);
    assert_int_equal(l->ph, 0);
    assert_int_equal(l->pw, 0);
    assert_int_equal(n->tensors[l->in].c, r->cin);
    expect_tensor(n, l->out, name, r->c, r->h, r->w);
    cov->rows++;
}

/* A concatenation: its tensor's shape, and the parts as consecutive channel slices in the
 * spec's order; with bn, each part's producer applies that BN's slice and a ReLU. */
static void check_concat_row(const net *n, const char *prefix, const char *name,
                             const spec_row *r, const char *bn, coverage *cov)
{
    int cat = find_tensor(n, name);
    if (cat < 0) fail_msg("concatenation '%s' is missing", name);
    expect_tensor(n, cat, name, r->c, r->h, r->w);
    assert_int_equal(n->tensors[cat].parent, -1);
    char parts[256], part_name[NET_NAME_MAX + 32];
    snprintf(parts, sizeof parts, "%s", r->parts);
    int off = 0, nparts = 0;
    for (char *save = NULL, *p = strtok_r(parts, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
        full_name(part_name, sizeof part_name, prefix, p);
        int t = find_tensor(n, part_name);
        if (t < 0) fail_msg("%s: part '%s' is missing", name, part_name);
        if (n->tensors[t].parent != cat || n->tensors[t].coff != off)
            fail_msg("%s: part '%s' is at channel %d of tensor %d, the spec's order puts it at %d",
                     name, part_name, n->tensors[t].coff, n->tensors[t].parent, off);
        if (bn) {
            int li = producer_of(n, t);
            assert_true(li >= 0);
            const net_epilogue *e = &n->layers[li].epi;
            if (!e->affine || strcmp(e->affine_bn, bn) != 0 || e->affine_coff != off ||
                e->affine_channels != r->c || !e->relu2)
                fail_msg("%s: part '%s' does not apply channels [%d, %d) of BN '%s' + ReLU", name,
                         part_name, off, off + n->tensors[t].c, bn);
        }
        off += n->tensors[t].c;
        nparts++;
    }
    assert_int_equal(off, r->c);
    /* no other tensor is a slice of this concatenation (besides the in-place outputs of the
     * residual blocks that follow, which cover all of it) */
    int children = 0;
    for (int t = 0; t < n->ntensors; t++) {
        if (n->tensors[t].parent != cat) continue;
        int li = producer_of(n, t);
        if (li >= 0 && n->layers[li].epi.residual && n->tensors[t].c == r->c) continue;
        children++;
    }
    assert_int_equal(children, nparts);
    assert_int_equal(cov->tensor_seen[cat], 0);
    cov->tensor_seen[cat] = 1;
    cov->rows++;
}

static void check_section(const net *n, const spec_section *sec, coverage *cov)
{
    for (int rep = 0; rep < sec->repeat; rep++) {
        char prefix[NET_NAME_MAX], name[NET_NAME_MAX + 32], bn[NET_NAME_MAX + 8];
        snprintf(prefix, sizeof prefix, sec->prefix_fmt, rep);
        snprintf(bn, sizeof bn, "%s.bn", prefix);
        for (size_t i = 0; i < sec->nrows; i++) {
            const spec_row *r = &sec->rows[i];
            full_name(name, sizeof name, prefix, r->name);
            switch (r->op) {
            case 'c': check_conv_row(n, name, r, sec->residual ? bn : NULL, cov); break;
            case 'm': check_pool_row(n, name, r, cov); break;
            case 'k': check_concat_row(n, prefix, name, r, sec->bn_after_concat ? bn : NULL, cov); break;
            case 't': {
                int t = find_tensor(n, name);
                if (t < 0) fail_msg("block output '%s' is missing", name);
                expect_tensor(n, t, name, r->c, r->h, r->w);
                /* written by the block's projection, in place of the block's input */
                char proj[NET_NAME_MAX + 32];
                full_name(proj, sizeof proj, prefix, "concat_proj");
                assert_int_equal(n->layers[layer_index(n, proj)].out, t);
                assert_int_equal(cov->tensor_seen[t], 0);
                cov->tensor_seen[t] = 1;
                cov->rows++;
                break;
            }
            default: fail();
            }
        }
    }
}

static size_t section_rows(const spec_section *secs, size_t count)
{
    size_t rows = 0;
    for (size_t i = 0; i < count; i++) rows += (size_t)secs[i].repeat * secs[i].nrows;
    return rows;
}

/* Parameters as PyTorch counts them: conv weights, biases, BN weight and bias (not the
 * running statistics), each BN once even when several layers apply slices of it. */
static double parameter_count(const net *n)
{
    double p = 0;
    char seen[64][NET_NAME_MAX];
    int nseen = 0;
    for (int i = 0; i < n->nlayers; i++) {
        const net_layer *l = &n->layers[i];
        if (l->kind == LAYER_CONV) p += (double)l->cout * l->cin * l->kh * l->kw + (l->has_bn ? 2.0 : 1.0) * l->cout;
        if (l->epi.affine) {
            int dup = 0;
            for (int k = 0; k < nseen; k++) dup |= strcmp(seen[k], l->epi.affine_bn) == 0;
            if (!dup) {
                assert_true(nseen < 64);
                snprintf(seen[nseen++], NET_NAME_MAX, "%s", l->epi.affine_bn);
                p += 2.0 * l->epi.affine_channels;
            }
        }
    }
    return p;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_seed_every_layer_matches_spec(void **state)
{
    (void)state;
    net n;
    assert_int_equal(net_build(NET_SEED, 1000, &n), IRV2_OK);
    assert_int_equal(n.variant, NET_SEED);
    assert_int_equal(n.classes, 1000);
    coverage cov = {calloc((size_t)n.nlayers, 1), calloc((size_t)n.ntensors, 1), 0};
    assert_non_null(cov.layer_seen);
    assert_non_null(cov.tensor_seen);

    expect_tensor(&n, n.input, "input", 3, 299, 299);
    assert_string_equal(n.tensors[n.input].name, "input");
    cov.tensor_seen[n.input] = 1;

    size_t nsec = sizeof seed_sections / sizeof seed_sections[0];
    for (size_t i = 0; i < nsec; i++) check_section(&n, &seed_sections[i], &cov);
    assert_int_equal(cov.rows, (int)section_rows(seed_sections, nsec));

    /* section boundaries: stem 384x35x35, reductions 1152x17x17 and 2144x8x8 */
    expect_tensor(&n, find_tensor(&n, "block_a.4"), "block_a.4", 384, 35, 35);
    expect_tensor(&n, find_tensor(&n, "block_b.9"), "block_b.9", 1152, 17, 17);
    expect_tensor(&n, find_tensor(&n, "block_c.4"), "block_c.4", 2144, 8, 8);

    /* head: global average pool 8x8 -> 2144, classifier [1000, 2144] + bias */
    int li = layer_index(&n, "avgpool");
    assert_true(li >= 0);
    assert_int_equal(n.layers[li].kind, LAYER_GLOBAL_AVGPOOL);
    assert_int_equal(n.layers[li].in, find_tensor(&n, "block_c.4"));
    expect_tensor(&n, n.layers[li].out, "avgpool", 2144, 1, 1);
    cov.layer_seen[li] = 1;
    cov.tensor_seen[n.layers[li].out] = 1;
    li = layer_index(&n, "classifier");
    assert_true(li >= 0);
    const net_layer *fc = &n.layers[li];
    assert_int_equal(fc->kind, LAYER_CONV);
    assert_int_equal(fc->cin, 2144);
    assert_int_equal(fc->cout, 1000);
    assert_int_equal(fc->kh, 1);
    assert_int_equal(fc->kw, 1);
    assert_true(fc->weight_2d);
    assert_false(fc->has_bn);
    assert_false(fc->epi.relu1);
    assert_false(fc->epi.relu2);
    assert_false(fc->epi.residual);
    assert_false(fc->epi.affine);
    assert_int_equal(fc->out, n.logits);
    expect_tensor(&n, n.logits, "classifier", 1000, 1, 1);
    cov.layer_seen[li] = 1;
    cov.tensor_seen[n.logits] = 1;

    /* Every layer is one row of the spec; every tensor is a row's output or a concat part. */
    for (int i = 0; i < n.nlayers; i++) {
        if (!cov.layer_seen[i]) fail_msg("layer '%s' is not in the spec's tables", n.layers[i].name);
        cov.tensor_seen[n.layers[i].out] = 1;
    }
    for (int t = 0; t < n.ntensors; t++)
        if (!cov.tensor_seen[t]) fail_msg("tensor '%s' is not in the spec's tables", n.tensors[t].name);
    print_message("  %d layers, %d tensors, %d spec rows checked\n", n.nlayers, n.ntensors, cov.rows);
    free(cov.layer_seen);
    free(cov.tensor_seen);
    net_free(&n);
}

static void test_seed_flops_and_parameters(void **state)
{
    (void)state;
    net n;
    assert_int_equal(net_build(NET_SEED, 1000, &n), IRV2_OK);
    double flops = net_flops(&n);
    double params = parameter_count(&n);
    print_message("  seed: %.0f multiply-adds, %.0f parameters\n", flops / 2, params);
    /* the seed's exact multiply-add count per image (spec: 9.258 G, 18.5 GFLOP) */
    assert_true(flops == 2.0 * 9257953632.0);
    /* the spec's 32,473,272 parameters */
    assert_true(params == 32473272.0);
    net_free(&n);
}

static void test_seed_class_count(void **state)
{
    (void)state;
    net n;
    assert_int_equal(net_build(NET_SEED, 7, &n), IRV2_OK);
    expect_tensor(&n, n.logits, "classifier", 7, 1, 1);
    assert_int_equal(net_find_layer(&n, "classifier")->cout, 7);
    /* 993 classes fewer: 993 x (2144 + 1) parameters, 993 x 2144 multiply-adds fewer */
    double flops7 = net_flops(&n);
    net_free(&n);
    assert_true(2.0 * 9257953632.0 - flops7 == 2.0 * 993 * 2144);
}

static void test_tf_variant(void **state)
{
    (void)state;
    net n;
    assert_int_equal(net_build(NET_TF, 1000, &n), IRV2_OK);
    assert_int_equal(n.variant, NET_TF);
    static const struct { const char *name; int c, h, w; } tf_rows[] = {
        {"conv2d_1a", 32, 149, 149}, {"conv2d_2a", 32, 147, 147}, {"conv2d_2b", 64, 147, 147},
        {"maxpool_3a", 64, 73, 73},  {"conv2d_3b", 80, 73, 73},   {"conv2d_4a", 192, 71, 71},
        {"maxpool_5a", 192, 35, 35}, {"mixed_5b", 320, 35, 35},   {"repeat.9", 320, 35, 35},
        {"mixed_6a", 1088, 17, 17},  {"repeat_1.19", 1088, 17, 17}, {"mixed_7a", 2080, 8, 8},
        {"repeat_2.8", 2080, 8, 8},  {"block8", 2080, 8, 8},      {"conv2d_7b", 1536, 8, 8},
    };
    for (size_t i = 0; i < sizeof tf_rows / sizeof tf_rows[0]; i++) {
        int t = find_tensor(&n, tf_rows[i].name);
        if (t < 0) fail_msg("tf: tensor '%s' is missing", tf_rows[i].name);
        expect_tensor(&n, t, tf_rows[i].name, tf_rows[i].c, tf_rows[i].h, tf_rows[i].w);
    }
    /* 1536 x 8 x 8 features -> global pool -> classif [1000, 1536] */
    const net_layer *fc = net_find_layer(&n, "classif");
    assert_non_null(fc);
    assert_int_equal(fc->cin, 1536);
    assert_int_equal(fc->cout, 1000);
    assert_true(fc->weight_2d);
    assert_int_equal(fc->out, n.logits);
    const net_layer *pool = net_find_layer(&n, "avgpool");
    assert_non_null(pool);
    assert_int_equal(pool->in, find_tensor(&n, "conv2d_7b"));
    /* residual scales 0.17, 0.10, 0.20 and the last block's 1.0 without ReLU */
    assert_true(net_find_layer(&n, "repeat.0.conv2d")->epi.residual_scale == 0.17f);
    assert_true(net_find_layer(&n, "repeat_1.0.conv2d")->epi.residual_scale == 0.10f);
    assert_true(net_find_layer(&n, "repeat_2.0.conv2d")->epi.residual_scale == 0.20f);
    assert_true(net_find_layer(&n, "repeat_2.0.conv2d")->epi.relu2);
    assert_true(net_find_layer(&n, "block8.conv2d")->epi.residual_scale == 1.0f);
    assert_false(net_find_layer(&n, "block8.conv2d")->epi.relu2);

    double macs = net_flops(&n) / 2, params = parameter_count(&n);
    print_message("  tf: %.0f multiply-adds (%.3f%% from the spec's 13.18 G), %.0f parameters\n",
                  macs, 100.0 * (macs / 13.18e9 - 1.0), params);
    /* the spec's 13.18 G multiply-adds per image */
    assert_true(fabs(macs / 13.18e9 - 1.0) <= 0.005);
    /* the spec's 55,843,464 parameters */
    assert_true(params == 55843464.0);
    net_free(&n);
}

static void test_bad_class_count(void **state)
{
    (void)state;
    net n;
    assert_int_equal(net_build(NET_SEED, 0, &n), IRV2_ERR_SHAPE);
    print_message("  classes 0 -> %s\n", irv2_last_error());
    assert_non_null(strstr(irv2_last_error(), "class"));
    assert_null(n.layers);
    assert_null(n.tensors);
    net_free(&n); /* harmless after a failed build */
    assert_int_equal(net_build(NET_TF, -5, &n), IRV2_ERR_SHAPE);
    net_free(&n);
}

static void test_layer_kind_names(void **state)
{
    (void)state;
    net n;
    assert_int_equal(net_build(NET_SEED, 1000, &n), IRV2_OK);
    static const struct { const char *layer, *kind; } kinds[] = {
        {"stem.conv1", "conv3x3s2"},          {"stem.conv3", "conv3x3"},
        {"stem.pool4", "maxpool"},             {"stem.conv5_1x7_b", "conv1x7"},
        {"stem.conv5_7x1_b", "conv7x1"},       {"block_a.0.conv_1x1", "conv1x1"},
        {"block_c.0.conv_1x3", "conv1x3"},     {"block_c.0.conv_3x1", "conv3x1"},
        {"avgpool", "global_avgpool"},         {"classifier", "classifier"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const net_layer *l = net_find_layer(&n, kinds[i].layer);
        assert_non_null(l);
        assert_string_equal(net_layer_kind_name(l), kinds[i].kind);
    }
    assert_null(net_find_layer(&n, "no.such.layer"));
    net_free(&n);
}

/* The layer leading name's sibling group, as a layer name. */
static const char *lead_of(const net *n, const int *lead, const char *name)
{
    int i = layer_index(n, name);
    if (i < 0) fail_msg("no layer '%s'", name);
    return n->layers[lead[i]].name;
}

/* Stacked siblings: which 1x1 convs run as one GEMM in each variant, and what keeps a conv
 * out of a group. */
static void test_siblings(void **state)
{
    (void)state;
    net n;
    assert_int_equal(net_build(NET_SEED, 1000, &n), IRV2_OK);
    int *lead = malloc((size_t)n.nlayers * sizeof *lead);
    assert_non_null(lead);
    static const struct { const char *layer, *lead; } seed_groups[] = {
        {"stem.conv5_3x3_b_reduce", "stem.conv5_3x3_a_reduce"},
        {"block_a.0.conv_3x3_a_reduce", "block_a.0.conv_1x1"},
        {"block_a.4.conv_3x3_b_reduce", "block_a.4.conv_1x1"},
        {"block_b.7.conv_reduce", "block_b.7.conv_1x1"},
        {"block_c.2.conv_reduce", "block_c.2.conv_1x1"},
        {"reduction_b.conv_3x3_b_reduce", "reduction_b.conv_3x3_a_reduce"},
        {"reduction_b.conv_3x3_c_reduce", "reduction_b.conv_3x3_a_reduce"},
    };
    net_siblings(&n, 3, lead);
    int followers = 0;
    for (int i = 0; i < n.nlayers; i++) {
        if (lead[i] == i) continue;
        followers++;
        const net_layer *a = &n.layers[lead[i]], *b = &n.layers[i];
        assert_true(lead[i] < i);
        assert_int_equal(lead[lead[i]], lead[i]);
        assert_int_equal(a->in, b->in);
        assert_true(b->kh == 1 && b->kw == 1 && b->sh == 1 && !b->epi.residual && !b->epi.affine);
    }
    for (size_t i = 0; i < sizeof seed_groups / sizeof seed_groups[0]; i++)
        assert_string_equal(lead_of(&n, lead, seed_groups[i].layer), seed_groups[i].lead);
    /* residual projections and the classifier stay alone */
    assert_string_equal(lead_of(&n, lead, "block_a.0.concat_proj"), "block_a.0.concat_proj");
    assert_string_equal(lead_of(&n, lead, "classifier"), "classifier");
    /* 5 blocks A x 2, 10 blocks B, 5 blocks C, reduction B 2, the stem 1 */
    assert_int_equal(followers, 28);
    /* groups of at most two: block A's third 1x1 conv runs alone */
    net_siblings(&n, 2, lead);
    assert_string_equal(lead_of(&n, lead, "block_a.0.conv_3x3_a_reduce"), "block_a.0.conv_1x1");
    assert_string_equal(lead_of(&n, lead, "block_a.0.conv_3x3_b_reduce"), "block_a.0.conv_3x3_b_reduce");
    net_siblings(&n, 1, lead);
    for (int i = 0; i < n.nlayers; i++) assert_int_equal(lead[i], i);
    free(lead);
    net_free(&n);

    /* tf: mixed_5b's three 1x1 convs and block35's three */
    assert_int_equal(net_build(NET_TF, 1000, &n), IRV2_OK);
    lead = malloc((size_t)n.nlayers * sizeof *lead);
    assert_non_null(lead);
    net_siblings(&n, 3, lead);
    assert_string_equal(lead_of(&n, lead, "mixed_5b.branch2.0"), "mixed_5b.branch0");
    assert_string_equal(lead_of(&n, lead, "repeat.3.branch2.0"), "repeat.3.branch0");
    free(lead);
    net_free(&n);

    /* a conv after an in-place residual into the shared input is not a sibling of one before
     * it; one before the residual is */
    memset(&n, 0, sizeof n);
    int x = nb_tensor(&n, "x", 8, 5, 5);
    int a = nb_conv(&n, "a", x, 8, 1, 1, 1, 0, 0, NB_RELU);
    nb_conv(&n, "c", x, 3, 1, 1, 1, 0, 0, NB_RELU);
    nb_conv(&n, "d", x, 3, 3, 3, 1, 1, 1, NB_RELU);              /* not 1x1 */
    nb_conv(&n, "e", x, 3, 1, 1, 1, 0, 0, 0);                     /* no ReLU */
    nb_residual(&n, "blk.proj", x, a, NULL, 1.0f, 1, 0);
    nb_conv(&n, "b", x, 4, 1, 1, 1, 0, 0, NB_RELU);
    assert_int_equal(n.status, IRV2_OK);
    lead = malloc((size_t)n.nlayers * sizeof *lead);
    assert_non_null(lead);
    net_siblings(&n, 3, lead);
    assert_string_equal(lead_of(&n, lead, "c"), "a");
    assert_string_equal(lead_of(&n, lead, "d"), "d");
    assert_string_equal(lead_of(&n, lead, "e"), "e");
    assert_string_equal(lead_of(&n, lead, "b"), "b");
    free(lead);
    net_free(&n);
}

/* ---- plan/memory.c ------------------------------------------------------------------------ */

/* Roots live at the same time lie at least `guard` floats apart, and every root that far from
 * the arena's ends, so no conv's out-of-tensor read meets another tensor being written. The
 * lifetimes are worked out here from the layers (one step per layer). */
static void test_memory_guard_gaps(void **state)
{
    (void)state;
    net n;
    assert_int_equal(net_build(NET_SEED, 1000, &n), IRV2_OK);
    const size_t guard = 1000;
    const unsigned batch = 2;
    int *time = malloc((size_t)n.nlayers * sizeof *time);
    int *first = malloc((size_t)n.ntensors * sizeof *first);
    int *last = malloc((size_t)n.ntensors * sizeof *last);
    size_t *off = calloc((size_t)n.ntensors, sizeof *off), total = 0;
    assert_non_null(time), assert_non_null(first), assert_non_null(last), assert_non_null(off);
    for (int i = 0; i < n.nlayers; i++) time[i] = i;
    assert_int_equal(memory_place(&n, time, batch, guard, off, &total), IRV2_OK);

    for (int t = 0; t < n.ntensors; t++) first[t] = n.nlayers + 1, last[t] = -2;
    for (int i = 0; i < n.nlayers; i++) {
        const int roots[2] = {net_root(&n, n.layers[i].in, NULL), net_root(&n, n.layers[i].out, NULL)};
        for (int k = 0; k < 2; k++) {
            if (i < first[roots[k]]) first[roots[k]] = i;
            if (i > last[roots[k]]) last[roots[k]] = i;
        }
    }
    first[n.input] = -1;
    last[net_root(&n, n.logits, NULL)] = n.nlayers;

    size_t pairs = 0;
    for (int t = 0; t < n.ntensors; t++) {
        if (n.tensors[t].parent >= 0 || last[t] < first[t]) continue;
        const size_t ts = off[t], te = ts + memory_tensor_floats(&n.tensors[t], batch);
        assert_true(ts >= guard);
        assert_true(te + guard <= total);
        for (int u = t + 1; u < n.ntensors; u++) {
            if (n.tensors[u].parent >= 0 || last[u] < first[u]) continue;
            if (first[u] > last[t] || first[t] > last[u]) continue;
            const size_t us = off[u], ue = us + memory_tensor_floats(&n.tensors[u], batch);
            if (!(te + guard <= us || ue + guard <= ts))
                fail_msg("tensors %d [%zu, %zu) and %d [%zu, %zu) are live together, under %zu "
                         "floats apart", t, ts, te, u, us, ue, guard);
            pairs++;
        }
    }
    print_message("  %zu pairs of roots live together, each at least %zu floats apart; arena "
                  "%zu floats\n", pairs, guard, total);
    assert_true(pairs > (size_t)n.nlayers); /* every layer's input and output at least */
    free(time), free(first), free(last), free(off);
    net_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_every_layer_matches_spec),
        cmocka_unit_test(test_seed_flops_and_parameters),
        cmocka_unit_test(test_seed_class_count),
        cmocka_unit_test(test_tf_variant),
        cmocka_unit_test(test_bad_class_count),
        cmocka_unit_test(test_layer_kind_names),
        cmocka_unit_test(test_siblings),
        cmocka_unit_test(test_memory_guard_gaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
