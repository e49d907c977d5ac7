/* head.h: launches cl/head.cl. */
#ifndef IRV2_HEAD_H
#define IRV2_HEAD_H

#include "ops/op.h"

/* out[n][k] = logits[k][n] (softmax over k when softmax); the work-group kernel (head_wg)
 * where ctx_prefers_wg(ctx), else one work-item per image. */
irv2_status head_op(irv2_context *ctx, int classes, int n, int softmax, op_buf logits,
                    cl_mem out, op_launch *op);

#endif
