/* gemm_clblast.c: row-major SGEMM through CLBlast on buffer offsets (no copies). */
#include "ops.h"

#include <clblast_c.h>

irv2_status gemm_clblast(irv2_context *ctx, int m, int n, int k, cl_mem a, size_t a_off,
                         op_buf b, op_buf c, float beta, cl_event *event)
{
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                       CLBlastTransposeNo, (size_t)m, (size_t)n, (size_t)k, 1.0f,
                                       a, a_off, (size_t)k, b.mem, b.off, (size_t)n, beta, c.mem,
                                       c.off, (size_t)n, &ctx->queue, event);
    if (s == CLBlastSuccess) return IRV2_OK;
    if (s < 0 && s > -100) ctx->last_cl_error = (cl_int)s;
    return irv2_fail((s == -4 /* CL_MEM_OBJECT_ALLOCATION_FAILURE */ || s == CLBlastOpenCLOutOfResources) ? IRV2_ERR_DEVICE_MEMORY
                                                            : IRV2_ERR_CLBLAST,
                     "device '%s': CLBlast SGEMM %dx%dx%d failed with status %d", ctx->info.name,
                     m, n, k, (int)s);
}
