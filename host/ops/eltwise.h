/* eltwise.h: launches cl/eltwise.cl. */
#ifndef IRV2_ELTWISE_H
#define IRV2_ELTWISE_H

#include "ops/op.h"

/* x[c][i] = epilogue(x[c][i] + bias[c]) for c < channels, i < plane, in place (the epilogue of
 * a CLBlast GEMM, which already added any residual). scale/shift may be NULL unless affine. */
irv2_status channel_epilogue_op(irv2_context *ctx, int channels, int plane, op_epilogue epi,
                                op_buf x, cl_mem bias, cl_mem scale, cl_mem shift,
                                op_launch *op);

#endif
