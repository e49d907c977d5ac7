/* pool.h: launches cl/pool.cl. */
#ifndef IRV2_POOL_H
#define IRV2_POOL_H

#include "ops/op.h"

typedef enum pool_kind { POOL_MAX3S2, POOL_AVG3S1, POOL_GLOBAL_AVG } pool_kind;

/* in: [c][n][h][w]; out: [c][n][ho][wo]. scale/shift (per channel) only with affine. */
irv2_status pool_op(irv2_context *ctx, pool_kind kind, int c, int n, int h, int w,
                    op_epilogue epi, op_buf in, cl_mem scale, cl_mem shift, op_buf out,
                    op_launch *op);
void pool_out_size(pool_kind kind, int h, int w, int *ho, int *wo);

#endif
