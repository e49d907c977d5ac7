/* memory.h: where the network's activations live: every root tensor (one that owns storage;
 * channel-slice views live inside their root) gets an offset in one arena, reused by tensors
 * whose lifetimes do not overlap. The convolutions' shifted vector reads may touch up to
 * `guard` floats beyond a tensor: the arena has that much at both ends, and tensors live at
 * the same time are at least that far apart, so such a read never meets what another
 * work-item of the same launch writes (which would be a data race, though harmless in value).
 *
 *     size_t *off = calloc(n->ntensors, sizeof *off), floats;
 *     memory_place(n, time, batch, guard, off, &floats);   // then one buffer of floats
 *     size_t x = memory_offset(n, off, batch, tensor);     // where a tensor starts
 */
#ifndef IRV2_MEMORY_H
#define IRV2_MEMORY_H

#include "net/net.h"

/* Floats of tensor t for a batch. */
size_t memory_tensor_floats(const net_tensor *t, unsigned batch);
/* Places the roots for a batch: time[i] is when layer i runs (layers with equal times run as
 * one step); the input is live from the start, the logits to the end. off[root] receives each
 * root's element offset, *total the arena's floats, guard included at both ends and between
 * tensors live at the same time. Greedy, largest first, each at the lowest offset free
 * (with its guard gaps) over its lifetime. */
irv2_status memory_place(const net *n, const int *time, unsigned batch, size_t guard,
                         size_t *off, size_t *total);
/* The element offset of tensor t (a root or a view) in the arena. */
size_t memory_offset(const net *n, const size_t *off, unsigned batch, int t);

#endif
