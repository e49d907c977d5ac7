/* net.c: queries on the built network: storage roots, sibling groups, FLOPs, kind names. */
#include "net/net.h"

#include <stdlib.h>
#include <string.h>

int net_root(const net *n, int t, int *coff)
{
    int off = 0;
    while (n->tensors[t].parent >= 0) {
        off += n->tensors[t].coff;
        t = n->tensors[t].parent;
    }
    if (coff) *coff = off;
    return t;
}

/* Whether tensors a and b share storage (overlapping channels of one root). */
static int overlaps(const net *n, int a, int b)
{
    int ca, cb;
    if (net_root(n, a, &ca) != net_root(n, b, &cb)) return 0;
    return ca < cb + n->tensors[b].c && cb < ca + n->tensors[a].c;
}

/* A 1x1 stride-1 conv whose epilogue needs nothing but its own bias (no residual, no BN). */
static int stackable(const net_layer *l)
{
    return l->kind == LAYER_CONV && l->kh == 1 && l->kw == 1 && l->sh == 1 && l->ph == 0 &&
           l->pw == 0 && !l->epi.residual && !l->epi.affine;
}

/* Whether layer j can run at layer i's place: no layer between them writes what they read
 * or touches what j writes. */
static int hoistable(const net *n, int i, int j)
{
    for (int k = i + 1; k < j; k++) {
        const net_layer *l = &n->layers[k];
        if (overlaps(n, l->out, n->layers[i].in) || overlaps(n, l->in, n->layers[j].out) ||
            overlaps(n, l->out, n->layers[j].out))
            return 0;
    }
    return 1;
}

void net_siblings(const net *n, int max_group, int *lead)
{
    for (int i = 0; i < n->nlayers; i++) lead[i] = i;
    for (int i = 0; i < n->nlayers; i++) {
        const net_layer *a = &n->layers[i];
        if (lead[i] != i || !stackable(a)) continue;
        int size = 1;
        for (int j = i + 1; j < n->nlayers && size < max_group; j++) {
            const net_layer *b = &n->layers[j];
            if (overlaps(n, b->out, a->in)) break; /* the input changes from here on */
            if (lead[j] != j || !stackable(b) || b->in != a->in || b->epi.relu1 != a->epi.relu1 ||
                b->epi.relu2 != a->epi.relu2 || !hoistable(n, i, j))
                continue;
            lead[j] = i;
            size++;
        }
    }
}

/* Whether a layer of the step led by `lead` reads (or writes) the root tensor `root`. */
static int step_touches(const net *n, const int *time, int lead, int root, int writes)
{
    for (int j = lead; j < n->nlayers; j++)
        if (time[j] == lead &&
            net_root(n, writes ? n->layers[j].out : n->layers[j].in, NULL) == root)
            return 1;
    return 0;
}

int net_rider_host(const net *n, const int *time, int pool,
                   int (*takes)(void *user, int lead), void *user)
{
    const net_layer *p = &n->layers[pool];
    int prev = -1, next = -1;
    if (p->kind != LAYER_MAXPOOL || time[pool] != pool) return -1;
    for (int j = 0; j < n->nlayers; j++) {
        if (j != pool && time[j] == pool) return -1; /* not a step of its own */
        if (time[j] == j && j < pool) prev = j;
        if (time[j] == j && j > pool && next < 0) next = j;
    }
    const int pin = net_root(n, p->in, NULL), pout = net_root(n, p->out, NULL);
    const int hosts[2] = {prev, next};
    for (int k = 0; k < 2; k++) {
        const int h = hosts[k];
        if (h < 0 || n->layers[h].kind != LAYER_CONV || step_touches(n, time, h, pout, 0) ||
            step_touches(n, time, h, pin, 1) || !step_touches(n, time, h, pout, 1) ||
            (h > pool && !step_touches(n, time, h, pin, 0)) || (takes && !takes(user, h)))
            continue;
        return h;
    }
    return -1;
}

const net_layer *net_find_layer(const net *n, const char *name)
{
    for (int i = 0; i < n->nlayers; i++)
        if (strcmp(n->layers[i].name, name) == 0) return &n->layers[i];
    return NULL;
}

double net_flops(const net *n)
{
    double f = 0;
    for (int i = 0; i < n->nlayers; i++) {
        const net_layer *l = &n->layers[i];
        const net_tensor *o = &n->tensors[l->out];
        if (l->kind == LAYER_CONV)
            f += 2.0 * l->cout * l->cin * l->kh * l->kw * (double)o->h * o->w;
    }
    return f;
}

const char *net_layer_kind_name(const net_layer *l)
{
    static const char *const conv_names[8][8] = {
        [1][1] = "conv1x1", [3][3] = "conv3x3", [1][7] = "conv1x7", [7][1] = "conv7x1",
        [1][3] = "conv1x3", [3][1] = "conv3x1", [5][5] = "conv5x5"};
    switch (l->kind) {
    case LAYER_MAXPOOL: return "maxpool";
    case LAYER_AVGPOOL: return "avgpool3x3";
    case LAYER_GLOBAL_AVGPOOL: return "global_avgpool";
    case LAYER_CONV:
        if (l->weight_2d) return "classifier";
        if (l->sh == 2) return l->kh == 3 && l->kw == 3 ? "conv3x3s2" : "conv_s2";
        if (l->kh < 8 && l->kw < 8 && conv_names[l->kh][l->kw]) return conv_names[l->kh][l->kw];
        return "conv";
    }
    return "?";
}

void net_free(net *n)
{
    if (!n) return;
    free(n->tensors);
    free(n->layers);
    memset(n, 0, sizeof *n);
}
