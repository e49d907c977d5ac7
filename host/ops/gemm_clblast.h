/* gemm_clblast.h: CLBlast's SGEMM as a prepared op. */
#ifndef IRV2_GEMM_CLBLAST_H
#define IRV2_GEMM_CLBLAST_H

#include "ops/op.h"

/* An op running C[m][n] = A[m][k] B[k][n] + beta C (row-major, on buffer offsets, no copies). */
void gemm_clblast_op(const op_sgemm *g, op_launch *op);

#endif
