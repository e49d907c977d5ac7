/* gemm_clblast.c: row-major SGEMM through CLBlast on buffer offsets (no copies). */
#include "ops/gemm_clblast.h"

#include <clblast_c.h>
#include <string.h>

static irv2_status sgemm(irv2_context *ctx, const op_launch *op, cl_event *event)
{
    const op_sgemm *g = &op->sgemm;
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                       CLBlastTransposeNo, (size_t)g->m, (size_t)g->n,
                                       (size_t)g->k, 1.0f, g->a.mem, g->a.off, (size_t)g->k,
                                       g->b.mem, g->b.off, (size_t)g->n, g->beta, g->c.mem,
                                       g->c.off, (size_t)g->n, &ctx->queue, event);
    if (s == CLBlastSuccess) return IRV2_OK;
    if (s < 0 && s > -100) ctx->last_cl_error = (cl_int)s;
    int memory = s == -4 /* CL_MEM_OBJECT_ALLOCATION_FAILURE */ || s == CLBlastOpenCLOutOfResources;
    return irv2_fail(memory ? IRV2_ERR_DEVICE_MEMORY : IRV2_ERR_CLBLAST,
                     "device '%s': CLBlast SGEMM %dx%dx%d failed with status %d", ctx->info.name,
                     g->m, g->n, g->k, (int)s);
}

void gemm_clblast_op(const op_sgemm *g, op_launch *op)
{
    memset(op, 0, sizeof *op);
    op->call = sgemm;
    op->sgemm = *g;
}
