/* weights.c: checkpoint -> host weights: finds every tensor the network names (in a
 * safetensors file or synthesised), checks all shapes first, then reads them and folds BN into
 * the convs. */
#include "net/weights.h"

#include "io/checkpoint.h"
#include "net/graph.h"
#include "net/synthetic.h"
#include "runtime/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS 1e-3

/* Where tensors come from: an open checkpoint, or the synthetic generator with a seed. */
typedef struct source {
    checkpoint *ck;
    uint64_t seed;
    const char *label; /* file name or "synthetic" for messages */
} source;

static irv2_status source_check(const source *src, const char *name, unsigned ndim,
                                const uint64_t *shape)
{
    if (!src->ck) return IRV2_OK;
    const ckpt_tensor *t = checkpoint_find(src->ck, name);
    if (!t) return irv2_fail(IRV2_ERR_MISSING_TENSOR, "%s: tensor '%s' is missing", src->label, name);
    int same = t->ndim == ndim;
    for (unsigned i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        char want[96] = "", got[96] = "";
        for (unsigned i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%llu", i ? "," : "",
                     (unsigned long long)shape[i]);
        for (unsigned i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? "," : "",
                     (unsigned long long)t->shape[i]);
        return irv2_fail(IRV2_ERR_SHAPE, "%s: tensor '%s' has shape [%s], expected [%s]",
                         src->label, name, got, want);
    }
    if (t->dtype == CKPT_OTHER)
        return irv2_fail(IRV2_ERR_DTYPE, "%s: tensor '%s' has unsupported dtype %s", src->label,
                         name, t->dtype_name);
    return IRV2_OK;
}

static irv2_status source_read(const source *src, const char *name, unsigned ndim,
                               const uint64_t *shape, float *dst)
{
    size_t count = 1;
    for (unsigned i = 0; i < ndim; i++) count *= shape[i];
    if (src->ck) return checkpoint_read_f32(src->ck, checkpoint_find(src->ck, name), dst, count);
    double lo, hi;
    synthetic_range(name, ndim >= 2 ? count / shape[0] : 0, &lo, &hi);
    synthetic_fill(name, src->seed, lo, hi, dst, count);
    return IRV2_OK;
}

static void add(layer_tensors *lt, const char *prefix, const char *leaf, unsigned ndim,
                uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3)
{
    int i = lt->count++;
    snprintf(lt->name[i], sizeof lt->name[i], "%s.%s", prefix, leaf);
    lt->ndim[i] = ndim;
    lt->shape[i][0] = d0, lt->shape[i][1] = d1, lt->shape[i][2] = d2, lt->shape[i][3] = d3;
}

static const char *const bn_leaves[4] = {"weight", "bias", "running_mean", "running_var"};

/* Order: [conv weight, bias | bn x4], then the affine BN x4 if any. */
void layer_tensor_list(const net_layer *l, layer_tensors *lt)
{
    char p[NET_NAME_MAX + 8];
    lt->count = 0;
    if (l->kind == LAYER_CONV) {
        if (l->has_bn) {
            add(lt, l->name, "conv.weight", 4, l->cout, l->cin, l->kh, l->kw);
            for (int i = 0; i < 4; i++) {
                snprintf(p, sizeof p, "%s.bn", l->name);
                add(lt, p, bn_leaves[i], 1, l->cout, 0, 0, 0);
            }
        } else {
            if (l->weight_2d) add(lt, l->name, "weight", 2, l->cout, l->cin, 0, 0);
            else add(lt, l->name, "weight", 4, l->cout, l->cin, l->kh, l->kw);
            add(lt, l->name, "bias", 1, l->cout, 0, 0, 0);
        }
    }
    if (l->epi.affine)
        for (int i = 0; i < 4; i++) add(lt, l->epi.affine_bn, bn_leaves[i], 1, l->epi.affine_channels, 0, 0, 0);
}

static irv2_status read_all(const source *src, const layer_tensors *lt, float **bufs)
{
    for (int i = 0; i < lt->count; i++) {
        size_t count = 1;
        for (unsigned d = 0; d < lt->ndim[i]; d++) count *= lt->shape[i][d];
        bufs[i] = malloc(count * sizeof(float));
        if (!bufs[i]) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory reading '%s'", lt->name[i]);
        irv2_status st = source_read(src, lt->name[i], lt->ndim[i], lt->shape[i], bufs[i]);
        if (st != IRV2_OK) return st;
    }
    return IRV2_OK;
}

/* scale = gamma / sqrt(var + eps), shift = beta - mean * scale, for channels [c0, c0 + n). */
static void bn_fold(float *const *bn, int c0, int n, float *scale, float *shift)
{
    for (int i = 0; i < n; i++) {
        double s = bn[0][c0 + i] / sqrt((double)bn[3][c0 + i] + BN_EPS);
        scale[i] = (float)s;
        shift[i] = (float)(bn[1][c0 + i] - bn[2][c0 + i] * s);
    }
}

static irv2_status fold_layer(const net_layer *l, float **bufs, layer_weights *lw)
{
    int k = 0;
    if (l->kind == LAYER_CONV) {
        size_t per_out = (size_t)l->cin * l->kh * l->kw;
        lw->w = bufs[0], bufs[0] = NULL;
        lw->bias = malloc((size_t)l->cout * sizeof(float));
        if (!lw->bias) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
        if (l->has_bn) {
            float *scale = malloc((size_t)l->cout * sizeof(float));
            if (!scale) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
            bn_fold(bufs + 1, 0, l->cout, scale, lw->bias);
            for (int co = 0; co < l->cout; co++)
                for (size_t i = 0; i < per_out; i++) lw->w[co * per_out + i] *= scale[co];
            free(scale);
            k = 5;
        } else {
            memcpy(lw->bias, bufs[1], (size_t)l->cout * sizeof(float));
            k = 2;
        }
        if (l->epi.residual && l->epi.residual_scale != 1.0f) {
            for (size_t i = 0; i < (size_t)l->cout * per_out; i++) lw->w[i] *= l->epi.residual_scale;
            for (int co = 0; co < l->cout; co++) lw->bias[co] *= l->epi.residual_scale;
        }
    }
    if (l->epi.affine) {
        lw->scale = malloc((size_t)l->cout * sizeof(float));
        lw->shift = malloc((size_t)l->cout * sizeof(float));
        if (!lw->scale || !lw->shift) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
        bn_fold(bufs + k, l->epi.affine_coff, l->cout, lw->scale, lw->shift);
    }
    return IRV2_OK;
}

static irv2_status load_layer(const source *src, const net_layer *l, layer_weights *lw)
{
    layer_tensors lt;
    float *bufs[8] = {0};
    layer_tensor_list(l, &lt);
    irv2_status st = read_all(src, &lt, bufs);
    if (st == IRV2_OK) st = fold_layer(l, bufs, lw);
    for (int i = 0; i < lt.count; i++) free(bufs[i]);
    return st;
}

static const char *const head_names[] = {[NET_SEED] = "classifier.weight",
                                          [NET_TF] = "classif.weight"};

/* Neither variant's head is there: name the first keys, which show what the file holds. */
static irv2_status unknown_layout(const source *src)
{
    char keys[256] = "";
    for (size_t i = 0; i < checkpoint_count(src->ck) && i < 3; i++)
        snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s'%s'", i ? ", " : "",
                 checkpoint_at(src->ck, i)->name);
    return irv2_fail(IRV2_ERR_MISSING_TENSOR,
                     "%s: matches neither the seed nor the tf layout (no '%s' or '%s'); "
                     "first keys: %s",
                     src->label, head_names[NET_SEED], head_names[NET_TF], keys);
}

/* "synthetic" or "synthetic:SEED" -> 1 and the seed; anything else -> 0. */
static int parse_synthetic(const char *spec, uint64_t *seed, int *bad)
{
    *bad = 0;
    *seed = 1;
    if (strncmp(spec, "synthetic", 9) != 0 || (spec[9] != '\0' && spec[9] != ':')) return 0;
    if (spec[9] == ':') {
        const char *digits = spec + 10;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(digits, &end, 10);
        /* digits only: strtoull alone would take " 5", "+5" and wrap "-5" */
        if (!isdigit((unsigned char)digits[0]) || *end != '\0' || errno == ERANGE) *bad = 1;
        *seed = v;
    }
    return 1;
}

/* The variant from the head's name (unless forced), the classes from its first dimension. */
static irv2_status detect(const source *src, irv2_variant forced, net_variant *variant,
                          int *classes)
{
    *variant = forced == IRV2_VARIANT_TF ? NET_TF : NET_SEED;
    *classes = 1000;
    if (!src->ck) return IRV2_OK;
    if (forced == IRV2_VARIANT_AUTO) {
        if (checkpoint_find(src->ck, head_names[NET_TF])) *variant = NET_TF;
        else if (!checkpoint_find(src->ck, head_names[NET_SEED])) return unknown_layout(src);
    }
    const ckpt_tensor *t = checkpoint_find(src->ck, head_names[*variant]);
    if (!t)
        return irv2_fail(IRV2_ERR_MISSING_TENSOR, "%s: tensor '%s' is missing", src->label,
                         head_names[*variant]);
    if (t->ndim != 2 || t->shape[0] == 0 || t->shape[0] > 100000)
        return irv2_fail(IRV2_ERR_SHAPE, "%s: tensor '%s' has an unusable shape", src->label,
                         t->name);
    *classes = (int)t->shape[0];
    return IRV2_OK;
}

irv2_status weights_load(const char *weights, irv2_variant forced, net *n,
                         layer_weights **out)
{
    source src = {0};
    int bad;
    irv2_status st = IRV2_OK;
    memset(n, 0, sizeof *n);
    *out = NULL;
    if (parse_synthetic(weights, &src.seed, &bad)) {
        if (bad) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "weights '%s': bad seed", weights);
        src.label = "synthetic";
    } else {
        st = checkpoint_open(weights, &src.ck);
        if (st != IRV2_OK) return st;
        src.label = weights;
    }
    net_variant variant;
    int classes;
    st = detect(&src, forced, &variant, &classes);
    if (st == IRV2_OK) st = net_build(variant, classes, n);
    /* Check every tensor of every layer before reading any. */
    for (int i = 0; st == IRV2_OK && i < n->nlayers; i++) {
        layer_tensors lt;
        layer_tensor_list(&n->layers[i], &lt);
        for (int k = 0; st == IRV2_OK && k < lt.count; k++)
            st = source_check(&src, lt.name[k], lt.ndim[k], lt.shape[k]);
    }
    layer_weights *w = NULL;
    if (st == IRV2_OK) {
        w = calloc((size_t)n->nlayers, sizeof *w);
        if (!w) st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    }
    for (int i = 0; st == IRV2_OK && i < n->nlayers; i++)
        st = load_layer(&src, &n->layers[i], &w[i]);
    checkpoint_close(src.ck);
    if (st != IRV2_OK) {
        weights_free(w, n->nlayers);
        net_free(n);
        return st;
    }
    *out = w;
    return IRV2_OK;
}

void weights_free(layer_weights *w, int nlayers)
{
    if (!w) return;
    for (int i = 0; i < nlayers; i++) {
        free(w[i].w);
        free(w[i].bias);
        free(w[i].scale);
        free(w[i].shift);
    }
    free(w);
}
