/* memory.c: liveness-based placement of the activation tensors in one arena. */
#include "plan/memory.h"

#include "runtime/error.h"

#include <stdlib.h>

size_t memory_tensor_floats(const net_tensor *t, unsigned batch)
{
    return (size_t)t->c * batch * t->h * t->w;
}

/* First and last time each root is touched (input: -1, logits: after every layer). */
static void lifetimes(const net *n, const int *time, int *first, int *last)
{
    for (int t = 0; t < n->ntensors; t++) first[t] = n->nlayers + 1, last[t] = -2;
    for (int i = 0; i < n->nlayers; i++) {
        int ids[2] = {net_root(n, n->layers[i].in, NULL), net_root(n, n->layers[i].out, NULL)};
        for (int k = 0; k < 2; k++) {
            if (time[i] < first[ids[k]]) first[ids[k]] = time[i];
            if (time[i] > last[ids[k]]) last[ids[k]] = time[i];
        }
    }
    first[n->input] = -1;
    last[net_root(n, n->logits, NULL)] = n->nlayers;
}

/* The roots that are ever live, largest first. Returns how many. */
static int by_size(const net *n, const int *first, const int *last, int *order)
{
    int count = 0;
    for (int t = 0; t < n->ntensors; t++)
        if (n->tensors[t].parent < 0 && last[t] >= first[t]) order[count++] = t;
    for (int i = 1; i < count; i++) /* insertion sort, stable */
        for (int j = i; j > 0 && memory_tensor_floats(&n->tensors[order[j]], 1) >
                                     memory_tensor_floats(&n->tensors[order[j - 1]], 1); j--) {
            int tmp = order[j];
            order[j] = order[j - 1], order[j - 1] = tmp;
        }
    return count;
}

irv2_status memory_place(const net *n, const int *time, unsigned batch, size_t guard,
                         size_t *off, size_t *total)
{
    int nt = n->ntensors;
    int *first = malloc(nt * sizeof *first), *last = malloc(nt * sizeof *last);
    int *order = malloc(nt * sizeof *order);
    irv2_status st = IRV2_OK;
    if (!first || !last || !order) {
        st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory planning buffers");
        goto done;
    }
    lifetimes(n, time, first, last);
    int count = by_size(n, first, last, order);
    *total = guard;
    for (int i = 0; i < count; i++) {
        int t = order[i];
        size_t size = memory_tensor_floats(&n->tensors[t], batch), at = guard;
        for (int moved = 1; moved;) { /* past every placed root it would come within guard of */
            moved = 0;
            for (int j = 0; j < i; j++) {
                int u = order[j];
                if (first[u] > last[t] || first[t] > last[u]) continue;
                size_t us = off[u], ue = us + memory_tensor_floats(&n->tensors[u], batch);
                if (at < ue + guard && us < at + size + guard) at = ue + guard, moved = 1;
            }
        }
        off[t] = at;
        if (at + size > *total) *total = at + size;
    }
    *total += guard;
done:
    free(first);
    free(last);
    free(order);
    return st;
}

size_t memory_offset(const net *n, const size_t *off, unsigned batch, int t)
{
    int coff, root = net_root(n, t, &coff);
    const net_tensor *r = &n->tensors[root];
    return off[root] + (size_t)coff * batch * r->h * r->w;
}
