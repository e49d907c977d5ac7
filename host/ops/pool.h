/* pool.h: launches cl/pool.cl. */
#ifndef IRV2_POOL_H
#define IRV2_POOL_H

#include "ops/op.h"

typedef enum pool_kind { POOL_MAX3S2, POOL_AVG3S1, POOL_GLOBAL_AVG } pool_kind;

/* in: [c][n][h][w]; out: [c][n][ho][wo]. scale/shift (per channel) only with affine. Where
 * ctx_prefers_wg(ctx), the work-group kernels (cl/pool.cl: maxpool_wg, global_avgpool_wg),
 * else the CPU shape; avgpool has one launch for both. */
irv2_status pool_op(irv2_context *ctx, pool_kind kind, int c, int n, int h, int w,
                    op_epilogue epi, op_buf in, cl_mem scale, cl_mem shift, op_buf out,
                    op_launch *op);
void pool_out_size(pool_kind kind, int h, int w, int *ho, int *wo);

#endif
