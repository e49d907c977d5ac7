/* conv.h: convolutions on [C][N][H][W] activations, in the methods irv2 offers: two kernel
 * families, the vector one for CPUs (cl/conv_direct.cl, cl/conv_gemm.cl with cl/pack.cl) and
 * the work-group one for GPUs (cl/conv_wg.cl), or CLBlast's SGEMM and convgemm. A conv is
 * described by its shape and its form (method and tiling); the tuner picks a form from the
 * candidate lists and the plan then packs the weights and builds the launches for it. */
#ifndef IRV2_CONV_H
#define IRV2_CONV_H

#include "ops/op.h"

typedef struct conv_shape {
    int cin, cout, kh, kw, stride, ph, pw;
    int n, h, w;           /* input batch and size */
    int ho, wo;            /* output size (derived by conv_shape_finish) */
} conv_shape;

/* The register tile of one work-item: vw output positions (8 or 16 vector lanes) x tm output
 * channels. */
typedef struct conv_tiling {
    int vw, tm;
} conv_tiling;

typedef enum conv_method {
    CONV_DIRECT,  /* cl/conv_direct.cl: shifted input rows straight from the tensor, any shape */
    CONV_PHASE,   /* stride 2: the input split into its four parity planes in scratch
                     (cl/pack.cl), then a stride-1 direct pass over them */
    CONV_PANELS,  /* the input packed into contiguous panels in scratch (cl/pack.cl: a plain
                     regrouping for 1x1, im2col otherwise), then one panel GEMM
                     (cl/conv_gemm.cl) with the taps folded into the reduction */
    CONV_FUSED,   /* the panel GEMM with each work-group packing its tile's panel in local
                     memory: no scratch */
    CONV_CLBLAST, /* CLBlast on the canonical weights, then the epilogue (cl/eltwise.cl):
                     SGEMM for 1x1 stride 1, convgemm for other shapes at batch 1 */
    CONV_WG,      /* cl/conv_wg.cl: implicit GEMM with work-groups, both operand tiles staged
                     through local memory (the GPU family); tiling.tm output channels x
                     tiling.vw positions per work-group */
    CONV_WINOGRAD, /* stride-1 3x3 only: Winograd's F(4x4, 3x3) (cl/winograd.cl), the input
                      transformed into panels in scratch, 36 panel GEMMs at the tiling, the
                      output transformed back with the epilogue */
    CONV_METHODS
} conv_method;

/* How a conv runs. kchunk (CONV_DIRECT and CONV_PHASE): input channels per launch, each
 * launch adding to the output, which keeps a long reduction's panels in cache; 0 for one
 * launch. For CONV_WG: the number of slices the reduction is split into, summed in parallel
 * into scratch and then added (0 or 1: no split). The tiling is unused by CONV_CLBLAST. */
typedef struct conv_form {
    conv_method method;
    conv_tiling tiling;
    int kchunk;
} conv_form;

/* Where a conv writes, in parts: output channel co of part k (the last k with
 * from[k] <= co; from[0] = 0) goes to mem at off[k] + (co - from[k]) * plane. Sibling convs
 * that read the same input run as one conv with their weights stacked, each part still
 * writing its own tensor; a single conv has one part. */
#define CONV_MAX_PARTS 3
typedef struct conv_out {
    cl_mem mem;
    int parts;
    int from[CONV_MAX_PARTS];
    size_t off[CONV_MAX_PARTS];
} conv_out;

static inline conv_out conv_out_one(op_buf b)
{
    return (conv_out){b.mem, 1, {0}, {b.off}};
}

/* The buffers of one conv. in (and scratch, for the parity planes) must have conv_guard()
 * readable floats on either side. weights are packed by conv_pack() for the form. */
typedef struct conv_bufs {
    op_buf in;             /* [cin][n][h][w] */
    op_buf scratch;        /* conv_scratch() floats; unused when that is 0 */
    int shared_panels;     /* CONV_PANELS on a 1x1 conv: scratch already holds this input's
                              panels at this vw (packed by a sibling's launch): no packing */
    cl_mem weights;
    cl_mem bias;           /* [cout] */
    cl_mem scale, shift;   /* [cout] with epi.affine, else NULL */
    conv_out out;          /* [cout][n][ho][wo]; the old values are read with epi.residual */
} conv_bufs;

/* Most launches one conv needs (the parity split or panel packing, then chunks). */
#define CONV_MAX_LAUNCHES 16

/* Computes ho, wo; fails if the window does not fit. */
irv2_status conv_shape_finish(conv_shape *s);
/* A 1x1 stride-1 conv without padding: one GEMM over all positions. */
int conv_is_gemm(const conv_shape *s);

/* The forms of irv2's vector kernels worth timing for this conv on this device, in the order
 * the tuner times them (ties go to the first): for each tiling the device gets (conv_tilings;
 * only the default one where the work-group family is offered too, as on GPUs),
 * direct, panels, fused, parity planes, wherever the form exists and fits (local memory for
 * fused); none where the context does not offer the family (ctx->kernels). parts: output
 * parts the conv writes. Returns how many, at most cap. */
size_t conv_candidates(const irv2_context *ctx, const conv_shape *s, int parts, conv_form *out,
                       size_t cap);
/* CLBlast's forms for this conv, with one output part only: SGEMM for an unpadded 1x1
 * stride-1 conv; convgemm for any other at batch 1 on a GPU (convgemm reads one NCHW image,
 * which [cin][n][h][w] is only at n == 1); else none. convgemm cannot add a residual:
 * conv_launches refuses that with IRV2_ERR_UNSUPPORTED (every residual conv of the network is
 * 1x1). */
size_t conv_clblast_candidates(const irv2_context *ctx, const conv_shape *s, int parts,
                               conv_form *out, size_t cap);
/* The work-group family's forms (cl/conv_wg.cl) for this conv on this device: every tile
 * whose work-group and local memory the device offers, where the context offers the family
 * (ctx->kernels); none elsewhere. Returns how many, at most cap. */
size_t conv_wg_candidates(const irv2_context *ctx, const conv_shape *s, int parts,
                          conv_form *out, size_t cap);
/* Sets *f to the work-group family's default form (64 channels x 64 positions) and returns 1
 * where the device runs it, else returns 0. */
int conv_wg_default(const irv2_context *ctx, conv_form *f);
/* Forms derived from the best measured one, timed after it: a direct or parity-plane form
 * split into chunks of about 512 and 256 reduction terms; a work-group form's reduction split
 * into slices (conv_wg_splits). Returns how many, at most cap. */
size_t conv_refinements(const conv_shape *s, const conv_form *best, conv_form *out, size_t cap);
/* The form used without measuring: the work-group family's default where the context prefers
 * it (ctx_prefers_wg: GPUs); else the device's default tiling, KxK convs fused where local
 * memory allows, 1x1 convs over panels in scratch, else direct. */
conv_form conv_default_form(const irv2_context *ctx, const conv_shape *s);

/* The tilings offered on this device, at most cap; returns how many (at most
 * CONV_MAX_TILINGS). More than 8 channels of 16 lanes need more than 16 vector registers: those
 * are offered only where the native float vector is 16 wide (AVX-512's 32 registers). */
#define CONV_MAX_TILINGS 8
size_t conv_tilings(const irv2_context *ctx, conv_tiling *out, size_t cap);
/* Whether fast tuning times tiling t on this device: the tilings that fill the register file
 * and won nearly every layer in full tuning: 16x6 and 8x12 where the native float vector is 8
 * wide (16 registers: 12 accumulators; 113 of 120 decisions on an AVX2 machine), 16x12,
 * 16x16 and 16x24 where it is 16 wide (32 registers: they won most layers on AVX-512). */
int conv_fast_tiling(const irv2_context *ctx, conv_tiling t);
/* The device's default tiling (from its preferred float vector width). */
conv_tiling conv_default_tiling(const irv2_context *ctx);

/* Floats of scratch the form needs (0: none, or no such form for this shape). */
size_t conv_scratch(const conv_shape *s, const conv_form *f);
/* Floats a conv may read outside its input tensor (and its parity planes) on either side. */
size_t conv_guard(const conv_shape *s, conv_tiling t);
/* Floats of the weights as the form reads them: [ceil(cout/tm)][kh][kw][cin][tm] for irv2's
 * kernels (zero rows pad cout), the canonical [cout][cin][kh][kw] for CLBlast. */
size_t conv_packed_count(const conv_shape *s, const conv_form *f);
/* Packs canonical [cout][cin][kh][kw] weights w for the form. */
void conv_pack(const conv_shape *s, const conv_form *f, const float *w, float *packed);

/* All launches of one conv in order, into ops (CONV_MAX_LAUNCHES entries); *count set. A
 * residual epilogue accumulates into out (no ReLU before the sum is supported). On failure no
 * launch is left allocated and the message names the form. */
irv2_status conv_launches(irv2_context *ctx, const conv_shape *s, const conv_form *f,
                          op_epilogue epi, const conv_bufs *b, op_launch *ops, int *count);

/* "direct", "phase", "panels", "fused", "clblast", "wg" or "winograd". */
const char *conv_method_name(conv_method m);

/* ---- for the family launchers (host/ops/conv.c, host/ops/conv_wg.c) ---- */

/* The kernels' output-part arguments (cl/conv_out.h "Output parts"), checked once per
 * conv: unused parts start at cout. */
typedef struct out_args {
    cl_mem mem;
    int parts;
    cl_uint off0, off1, off2;
    cl_int seg1, seg2;
} out_args;

/* What the launches of one conv share. epi.residual is cleared: the kernels take it as the
 * runtime argument `accumulate` (residual), not as a variant. */
typedef struct conv_job {
    irv2_context *ctx;
    const conv_shape *s;
    conv_tiling t;
    op_epilogue epi;
    cl_int residual;
    const conv_bufs *b;
    cl_mem scale, shift; /* the bias where not given: unread without AFFINE, but every
                            argument must be a buffer */
    out_args o;
} conv_job;

/* CONV_WG (ops/conv_wg.c): the launches of cl/conv_wg.cl for the job, added at ops[*n]: one,
 * or with slices > 1 the split reduction and its sum (scratch: conv_wg_scratch floats). */
irv2_status conv_wg_ops(const conv_job *j, int slices, op_launch *ops, int *n);
/* Floats of scratch the split reduction needs (slices partial outputs); 0 for slices <= 1. */
size_t conv_wg_scratch(const conv_shape *s, int slices);
/* conv_refinements for a CONV_WG best: the reduction in 4 and 16 slices, where the conv has
 * too few tiles to fill a GPU and each slice keeps at least 4 local-memory slices. */
size_t conv_wg_splits(const conv_shape *s, const conv_form *best, conv_form *out, size_t cap);

/* CONV_WINOGRAD (ops/conv_winograd.c): whether the shape has the form (3x3, stride 1), the
 * floats of scratch and of packed weights it needs, the packing (G g G^T per input and output
 * channel, as 36 weight sets of the panel GEMM) and its three launches, added at ops[*n]. */
int conv_winograd_offered(const conv_shape *s);
/* Whether the form is a candidate (conv_candidates): where cin and cout reach 128, so that its
 * 36 GEMMs have long reductions and wide outputs; on smaller convs the transforms' memory
 * traffic costs more than the multiplications they save. */
int conv_winograd_pays(const conv_shape *s);
size_t conv_winograd_scratch(const conv_shape *s, conv_tiling t);
size_t conv_winograd_packed_count(const conv_shape *s, conv_tiling t);
void conv_winograd_pack(const conv_shape *s, conv_tiling t, const float *w, float *packed);
irv2_status conv_winograd_ops(const conv_job *j, op_launch *ops, int *n);

#endif
