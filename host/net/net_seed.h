/* net_seed.h: the body of the `seed` variant. */
#ifndef IRV2_NET_SEED_H
#define IRV2_NET_SEED_H

#include "net/net.h"

/* Adds the stem and every block after n->input; returns the final feature tensor (or -1
 * after recording an error in n->status). */
int net_seed_body(net *n);

#endif
