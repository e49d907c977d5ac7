/* graph.h: building the whole Inception-ResNet-v2 graph of a variant. */
#ifndef IRV2_GRAPH_H
#define IRV2_GRAPH_H

#include "net/net.h"

/* Builds the whole network for a variant and class count, inferring and checking every
 * shape. Fails (with a message) on an inconsistency; no device is involved. */
irv2_status net_build(net_variant variant, int classes, net *out);

#endif
