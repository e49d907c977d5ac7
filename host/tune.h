/* tune.h: choosing each convolution's kernel by measurement, remembered per device on disk. */
#ifndef IRV2_TUNE_H
#define IRV2_TUNE_H

#include "context.h"
#include "ops/ops.h"

typedef struct conv_choice {
    int clblast;          /* CLBlast SGEMM (1x1 stride-1 convs only) */
    conv_form form;       /* else cl/conv.cl in this form */
} conv_choice;

/* What is being chosen for: the conv (as the plan runs it), its epilogue, canonical weights
 * [cout][cin][kh][kw], real buffers to run on, and for GEMM-shaped convs the weights as
 * CLBlast reads them (NULL otherwise). */
typedef struct tune_job {
    irv2_gemm_backend mode;
    conv_shape shape;
    op_epilogue epi;
    const float *weights;
    cl_mem bias, clblast_w;
    op_buf in;
    conv_out out;         /* one part unless sibling convs run as one (then native only) */
    op_buf scratch;       /* room for conv_phase_scratch floats, or mem NULL */
} tune_job;

/* IRV2_GEMM_CLBLAST: CLBlast for GEMM-shaped convs; otherwise, and for IRV2_GEMM_NATIVE and
 * IRV2_GEMM_AUTO, the fastest measured candidate (AUTO includes CLBlast). IRV2_TUNE=0 skips
 * measuring and takes the device's default tiling (fused panels for KxK convs, panels in
 * scratch for 1x1 convs, where offered). */
irv2_status tune_choose(irv2_context *ctx, const tune_job *job, conv_choice *choice);
/* The tilings measured on this device, at most cap of them, in out; returns how many (at
 * most TUNE_MAX_TILINGS). */
#define TUNE_MAX_TILINGS 8
size_t tune_tilings(const irv2_context *ctx, conv_tiling *out, size_t cap);
/* Writes new decisions to the on-disk table. */
void tune_save(irv2_context *ctx);
void tune_table_free(tune_table *t);

#endif
