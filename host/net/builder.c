/* builder.c: the steps that build the network graph (tensors, channel-slice views, layers),
 * inferring and checking every shape as they go. */
#include "net/builder.h"

#include "runtime/error.h"
#include "runtime/window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *grow(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return p;
    int ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    void *q = realloc(p, (size_t)ncap * elem);
    if (q) *cap = ncap;
    return q;
}

static int failed(net *n, irv2_status st, const char *what, const char *name)
{
    if (n->status == IRV2_OK)
        n->status = irv2_fail(st, "network: %s: %s", name, what);
    return -1;
}

int nb_tensor(net *n, const char *name, int c, int h, int w)
{
    if (n->status != IRV2_OK) return -1;
    if (c <= 0 || h <= 0 || w <= 0) return failed(n, IRV2_ERR_SHAPE, "empty output shape", name);
    net_tensor *t = grow(n->tensors, &n->tensors_cap, n->ntensors + 1, sizeof *t);
    if (!t) return failed(n, IRV2_ERR_HOST_MEMORY, "out of memory", name);
    n->tensors = t;
    t = &n->tensors[n->ntensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->c = c, t->h = h, t->w = w, t->parent = -1;
    return n->ntensors++;
}

static net_layer *add_layer(net *n, const char *name, layer_kind kind, int in)
{
    if (n->status != IRV2_OK || in < 0) return NULL;
    net_layer *l = grow(n->layers, &n->layers_cap, n->nlayers + 1, sizeof *l);
    if (!l) {
        failed(n, IRV2_ERR_HOST_MEMORY, "out of memory", name);
        return NULL;
    }
    n->layers = l;
    l = &n->layers[n->nlayers++];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    l->kind = kind;
    l->in = in;
    l->cin = n->tensors[in].c;
    l->sh = l->sw = 1;
    return l;
}

int nb_conv(net *n, const char *name, int in, int cout, int kh, int kw, int s, int ph, int pw,
            int flags)
{
    net_layer *l = add_layer(n, name, LAYER_CONV, in);
    if (!l) return -1;
    const net_tensor *x = &n->tensors[in];
    l->cout = cout, l->kh = kh, l->kw = kw, l->sh = l->sw = s, l->ph = ph, l->pw = pw;
    l->has_bn = (flags & NB_BN) != 0;
    l->weight_2d = (flags & NB_FC) != 0;
    l->epi.relu1 = (flags & NB_RELU) != 0;
    if (ph >= kh || pw >= kw) return failed(n, IRV2_ERR_SHAPE, "padding not below kernel size", name);
    int h = window_out(x->h, kh, s, ph), w = window_out(x->w, kw, s, pw);
    l->out = nb_tensor(n, name, cout, h, w);
    return l->out;
}

int nb_pool(net *n, const char *name, int in, layer_kind kind)
{
    net_layer *l = add_layer(n, name, kind, in);
    if (!l) return -1;
    const net_tensor *x = &n->tensors[in];
    int h = 1, w = 1;
    l->cout = x->c;
    if (kind == LAYER_MAXPOOL) {
        l->kh = l->kw = 3, l->sh = l->sw = 2;
        h = window_out(x->h, 3, 2, 0), w = window_out(x->w, 3, 2, 0);
    } else if (kind == LAYER_AVGPOOL) {
        l->kh = l->kw = 3, l->ph = l->pw = 1;
        h = x->h, w = x->w;
    } else {
        l->kh = x->h, l->kw = x->w;
    }
    l->out = nb_tensor(n, name, x->c, h, w);
    return l->out;
}

int nb_concat(net *n, const char *name, const int *parts, int count)
{
    if (n->status != IRV2_OK) return -1;
    int c = 0;
    for (int i = 0; i < count; i++) {
        const net_tensor *p = &n->tensors[parts[i]];
        const net_tensor *p0 = &n->tensors[parts[0]];
        if (p->parent >= 0) return failed(n, IRV2_ERR_SHAPE, "concatenated part is a view", p->name);
        if (p->h != p0->h || p->w != p0->w)
            return failed(n, IRV2_ERR_SHAPE, "parts differ in height or width", name);
        c += p->c;
    }
    int cat = nb_tensor(n, name, c, n->tensors[parts[0]].h, n->tensors[parts[0]].w);
    if (cat < 0) return -1;
    for (int i = 0, off = 0; i < count; i++) {
        net_tensor *p = &n->tensors[parts[i]];
        p->parent = cat, p->coff = off;
        off += p->c;
    }
    return cat;
}

/* The layer writing tensor t (the last one, for in-place outputs). */
static net_layer *producer(net *n, int t)
{
    for (int i = n->nlayers - 1; i >= 0; i--)
        if (n->layers[i].out == t) return &n->layers[i];
    return NULL;
}

void nb_affine_concat(net *n, int cat, const char *bn_prefix, int relu)
{
    if (n->status != IRV2_OK) return;
    for (int t = 0; t < n->ntensors; t++) {
        if (n->tensors[t].parent != cat) continue;
        net_layer *l = producer(n, t);
        if (!l) {
            failed(n, IRV2_ERR_SHAPE, "concatenated part has no producer", n->tensors[t].name);
            return;
        }
        l->epi.affine = 1;
        l->epi.relu2 = relu;
        snprintf(l->epi.affine_bn, sizeof l->epi.affine_bn, "%s", bn_prefix);
        l->epi.affine_coff = n->tensors[t].coff;
        l->epi.affine_channels = n->tensors[cat].c;
    }
}

int nb_residual(net *n, const char *name, int x, int branches, const char *bn_prefix,
                float scale, int relu, int flags)
{
    net_layer *l = add_layer(n, name, LAYER_CONV, branches);
    if (!l) return -1;
    const net_tensor *xt = &n->tensors[x];
    l->cout = xt->c, l->kh = l->kw = 1;
    l->has_bn = (flags & NB_BN) != 0;
    l->epi.residual = 1;
    l->epi.residual_scale = scale;
    l->epi.relu2 = relu;
    if (bn_prefix) {
        l->epi.affine = 1;
        snprintf(l->epi.affine_bn, sizeof l->epi.affine_bn, "%s", bn_prefix);
        l->epi.affine_channels = xt->c;
    }
    if (n->tensors[branches].h != xt->h || n->tensors[branches].w != xt->w)
        return failed(n, IRV2_ERR_SHAPE, "branches and residual differ in size", name);
    int coff, root = net_root(n, x, &coff);
    /* The block's output is named after the block: "block_a.0.concat_proj" -> "block_a.0". */
    char out_name[NET_NAME_MAX];
    snprintf(out_name, sizeof out_name, "%s", name);
    char *dot = strrchr(out_name, '.');
    if (dot) *dot = '\0';
    int out = nb_tensor(n, out_name, xt->c, xt->h, xt->w);
    if (out < 0) return -1;
    n->tensors[out].parent = root, n->tensors[out].coff = coff;
    l->out = out;
    return out;
}

const char *nb_name(const char *prefix, const char *leaf)
{
    /* per thread: two threads loading models at once must not share these */
    static _Thread_local char bufs[4][NET_NAME_MAX];
    static _Thread_local int next;
    char *b = bufs[next++ & 3];
    if (snprintf(b, NET_NAME_MAX, "%s.%s", prefix, leaf) >= NET_NAME_MAX) b[0] = '\0';
    return b;
}
