/* ops.h: launching the kernels of cl/ on [C][N][H][W] activations. Each op is created once
 * (kernel built, arguments set, NDRange computed) and enqueued any number of times. */
#ifndef IRV2_OPS_H
#define IRV2_OPS_H

#include "context.h"

/* A kernel with its arguments set and its NDRange; local size is (1,1,1) when local_one. */
typedef struct op_launch {
    cl_kernel kernel;
    unsigned dims;
    size_t gws[3];
    int local_one;
} op_launch;

irv2_status op_enqueue(irv2_context *ctx, const op_launch *op, cl_event *event);
void op_release(op_launch *op);

/* A buffer region: elements from offset. */
typedef struct op_buf {
    cl_mem mem;
    size_t off;
} op_buf;

typedef struct op_epilogue {
    int relu1, residual, affine, relu2;
} op_epilogue;

/* ---- conv.c: cl/conv.cl ---- */
typedef struct conv_shape {
    int cin, cout, kh, kw, stride, ph, pw;
    int n, h, w;           /* input batch and size */
    int ho, wo;            /* output size (derived by conv_shape_finish) */
} conv_shape;

typedef struct conv_tiling {
    int vw, tm;            /* lanes (8 or 16) and output channels per work-item */
} conv_tiling;

/* Computes ho, wo; fails if the window does not fit. */
irv2_status conv_shape_finish(conv_shape *s);
/* The tiling to use on this device (from its preferred float vector width). */
conv_tiling conv_default_tiling(const irv2_context *ctx);
/* Floats of the packed weights: ceil(cout/tm) * tm * kh * kw * cin. */
size_t conv_packed_count(const conv_shape *s, conv_tiling t);
/* Packs canonical [cout][cin][kh][kw] weights into [cout/tm][kh][kw][cin][tm]. */
void conv_pack(const conv_shape *s, conv_tiling t, const float *w, float *packed);
/* Floats a conv may read outside its input tensor on either side (guard space needed). */
size_t conv_guard(const conv_shape *s, conv_tiling t);
/* in: input [cin][n][h][w]; out: output [cout][n][ho][wo] (old values read if residual).
 * scale/shift may be NULL unless epi.affine. */
irv2_status conv_op(irv2_context *ctx, const conv_shape *s, conv_tiling t, op_epilogue epi,
                    op_buf in, cl_mem packed, cl_mem bias, cl_mem scale, cl_mem shift,
                    op_buf out, op_launch *op);

/* How a conv runs: its tiling; for stride 2, optionally as a stride-1 pass over the input's
 * four parity planes, split first into scratch (conv_phase_scratch floats; 0 when the shape
 * has no such form); optionally as chunks of kchunk input channels (0: one pass), each
 * launch adding to the output, which keeps a long reduction's panels in cache; or (panels 1)
 * as one GEMM over the input regrouped first into contiguous [positions/vw][taps*cin][vw]
 * panels in scratch (conv_panel_scratch floats; 0 where the form is not offered); or
 * (panels 2) the same GEMM with each tile's panel packed in local memory by the work-group
 * that uses it (conv_fused_fits). */
typedef struct conv_form {
    conv_tiling tiling;
    int phase;
    int kchunk;
    int panels;
} conv_form;

#define CONV_MAX_LAUNCHES 16

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

size_t conv_phase_scratch(const conv_shape *s);
/* Whether the fused panel form (panels = 2: each work-group packs its tile's panel into
 * local memory, no scratch) fits the device's local memory for this conv and tiling. */
int conv_fused_fits(irv2_context *ctx, const conv_shape *s, conv_tiling t);
/* Floats of the panels form's scratch (0 where that form is not offered). */
size_t conv_panel_scratch(const conv_shape *s, conv_tiling t);
/* Launches for kchunk: 1 when kchunk is 0 or covers all input channels. */
int conv_chunks(const conv_shape *s, int kchunk);
/* All launches of one conv in order (the parity split or the panel packing first, then each
 * chunk); ops must hold conv_chunks() + 1 entries. A residual epilogue accumulates into out
 * (no ReLU before the sum is supported). */
irv2_status conv_launches(irv2_context *ctx, const conv_shape *s, const conv_form *f,
                          op_epilogue epi, op_buf in, op_buf scratch, cl_mem packed, cl_mem bias,
                          cl_mem scale, cl_mem shift, const conv_out *out, op_launch *ops,
                          int *count);
irv2_status conv_phase_op(irv2_context *ctx, const conv_shape *s, conv_tiling t,
                          op_epilogue epi, op_buf in, op_buf scratch, cl_mem packed,
                          cl_mem bias, cl_mem scale, cl_mem shift, op_buf out,
                          op_launch *split, op_launch *op);

/* ---- pool.c: cl/pool.cl ---- */
typedef enum pool_kind { POOL_MAX3S2, POOL_AVG3S1, POOL_GLOBAL_AVG } pool_kind;
/* in: [c][n][h][w]; out: [c][n][ho][wo]. scale/shift (per channel) only with affine. */
irv2_status pool_op(irv2_context *ctx, pool_kind kind, int c, int n, int h, int w,
                    op_epilogue epi, op_buf in, cl_mem scale, cl_mem shift, op_buf out,
                    op_launch *op);
void pool_out_size(pool_kind kind, int h, int w, int *ho, int *wo);

/* ---- eltwise.c: cl/eltwise.cl ---- */
/* x[c][i] = epilogue(x[c][i] + bias[c]) for c < channels, i < plane (in place). */
irv2_status channel_epilogue_op(irv2_context *ctx, int channels, int plane, op_epilogue epi,
                                op_buf x, cl_mem bias, cl_mem scale, cl_mem shift,
                                op_launch *op);

/* ---- head.c: cl/head.cl ---- */
/* out[n][k] = logits[k][n] (softmax over k when softmax). */
irv2_status head_op(irv2_context *ctx, int classes, int n, int softmax, op_buf logits,
                    cl_mem out, op_launch *op);

/* ---- gemm_clblast.c: CLBlast SGEMM, row-major C[m][n] = A[m][k] B[k][n] + beta C ---- */
irv2_status gemm_clblast(irv2_context *ctx, int m, int n, int k, cl_mem a, size_t a_off,
                         op_buf b, op_buf c, float beta, cl_event *event);

#endif
