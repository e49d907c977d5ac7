/* net_tf.h: the body of the `tf` variant (TF-slim weights as published by timm). */
#ifndef IRV2_NET_TF_H
#define IRV2_NET_TF_H

#include "net/net.h"

/* Adds the stem and every block after n->input; returns the final feature tensor (or -1
 * after recording an error in n->status). */
int net_tf_body(net *n);

#endif
