/* gemm_clblast.h: CLBlast's SGEMM and convgemm as prepared ops. */
#ifndef IRV2_GEMM_CLBLAST_H
#define IRV2_GEMM_CLBLAST_H

#include "ops/op.h"

/* An op running C[m][n] = A[m][k] B[k][n] + beta C (row-major, on buffer offsets, no copies). */
void gemm_clblast_op(const op_sgemm *g, op_launch *op);
/* An op running CLBlastSconvgemm on one NCHW image (op.h: op_convgemm), overwriting the
 * output. Enqueueing fails with IRV2_ERR_UNSUPPORTED where an offset or extent does not fit
 * CLBlast's int arguments, IRV2_ERR_CLBLAST (or IRV2_ERR_DEVICE_MEMORY) where CLBlast fails. */
void convgemm_clblast_op(const op_convgemm *c, op_launch *op);

#endif
