/* conv.h: convolutions on [C][N][H][W] activations. A conv is described by its shape and its
 * form: a kernel family (a row of the table in ops/conv_family.h) and that family's own named
 * parameters. The tuner picks a form from the families' candidates and the plan then packs
 * the weights and builds the launches for it; neither names a family. */
#ifndef IRV2_CONV_H
#define IRV2_CONV_H

#include "ops/op.h"

typedef struct conv_shape {
    int cin, cout, kh, kw, stride, ph, pw;
    int n, h, w;           /* input batch and size */
    int ho, wo;            /* output size (derived by conv_shape_finish) */
} conv_shape;

/* The kernel families, in the order the tuner times their candidates (ties go to the first).
 * Each is a row of the table (ops/conv_family.h) with its cl/ file(s) and host/ops/ file. */
typedef enum conv_family_id {
    CONV_CLBLAST,  /* CLBlast on the canonical weights, then the epilogue (cl/eltwise.cl):
                      SGEMM for 1x1 stride 1; on GPUs, convgemm for other shapes at batch 1
                      and SGEMM over an im2col matrix at any batch
                      (ops/conv_clblast.c) */
    CONV_DIRECT,   /* cl/conv_direct.cl: shifted input rows straight from the tensor, any shape
                      (ops/conv_direct.c) */
    CONV_PANELS,   /* the input packed into contiguous panels in scratch (cl/pack.cl: a plain
                      regrouping for 1x1, im2col otherwise), then one panel GEMM
                      (cl/conv_gemm.cl) with the taps folded into the reduction (ops/conv_gemm.c) */
    CONV_FUSED,    /* the panel GEMM with each work-group packing its tile's panel in local
                      memory: no scratch (ops/conv_gemm.c) */
    CONV_PHASE,    /* stride 2: the input split into its four parity planes in scratch
                      (cl/pack.cl), then a stride-1 direct pass over them (ops/conv_direct.c) */
    CONV_WINOGRAD, /* stride-1 3x3 only: Winograd's F(4x4, 3x3) (cl/winograd.cl), the input
                      transformed into panels in scratch, 36 panel GEMMs, the output transformed
                      back with the epilogue (ops/conv_winograd.c) */
    CONV_WINOGRAD_1D, /* stride-1 3x3, 3x1, 1x3, 7x1, 1x7: Winograd's F(4, 3) or F(2, 7) along
                         the kernel's long axis with the transforms in the panel GEMM of each
                         work-group, no scratch (cl/winograd_fused.cl,
                         ops/conv_winograd_fused.c) */
    CONV_WINOGRAD_2D, /* stride-1 3x3: F(4x4, 3x3) the same way, on both axes */
    CONV_WG,       /* cl/conv_wg.cl: implicit GEMM with work-groups, both operand tiles staged
                      through local memory: the GPU family (ops/conv_wg.c) */
    CONV_SIMT,     /* cl/conv_simt.cl: implicit GEMM in the CUTLASS SIMT style (8x8 sums per
                      work-item, double-buffered local tiles), the reduction optionally split
                      with the last work-group of a tile adding the parts (ops/conv_simt.c) */
    CONV_FAMILIES
} conv_family_id;

/* The vector families' parameters (direct, phase, panels, fused, winograd): the register tile
 * of one work-item, vw output positions (8 or 16 vector lanes) x tm output channels; kchunk
 * (direct and phase): input channels per launch, each launch adding to the output, which
 * keeps a long reduction's panels in cache (0: one launch); for fused, panels (pairs) per
 * work-group (0 or 1: one); for winograd1d, m of F(m, 3) down the columns (6, or 0: the
 * default F(4, 3) or F(2, 7)). */
typedef struct conv_vec_params {
    int vw, tm, kchunk;
} conv_vec_params;

/* The work-group family's parameters: output positions and output channels per work-group,
 * and the slices its reduction is split into, summed in parallel into scratch and then added
 * (0 or 1: no split). */
typedef struct conv_wg_params {
    int positions, channels, slices;
} conv_wg_params;

/* CLBlast's parameter: for a conv other than 1x1 stride 1, im2col 0 runs convgemm (one image,
 * batch 1), 1 the input unrolled into a plain im2col matrix in scratch (cl/pack.cl
 * im2col_rows) and multiplied by SGEMM, a few images at a time (any batch). */
typedef struct conv_clblast_params {
    int im2col;
} conv_clblast_params;

/* How a conv runs: a family and its parameters. Make forms with the
 * constructors below, so that unused bytes are zero. */
typedef struct conv_form {
    conv_family_id family;
    union {
        conv_vec_params vec; /* CONV_DIRECT, CONV_PHASE, CONV_PANELS, CONV_FUSED, CONV_WINOGRAD,
                                CONV_WINOGRAD_1D, CONV_WINOGRAD_2D */
        conv_wg_params wg;   /* CONV_WG; CONV_SIMT (slices: the parts of a split) */
        conv_clblast_params clblast; /* CONV_CLBLAST */
    } p;
} conv_form;

conv_form conv_vec_form(conv_family_id family, int vw, int tm, int kchunk);
conv_form conv_wg_form(int positions, int channels, int slices);
conv_form conv_simt_form(int positions, int channels, int parts);
conv_form conv_clblast_form(void);
/* CLBlast's SGEMM over an im2col matrix in scratch (conv_clblast_params). */
conv_form conv_clblast_im2col_form(void);

/* Where a conv writes, in parts: output channel co of part k (the last k with
 * from[k] <= co; from[0] = 0) goes to mem at off[k] + (co - from[k]) * plane. Sibling convs
 * that read the same input run as one conv with their weights stacked, each part still
 * writing its own tensor; a single conv has one part. */
#define OUT_MAX_PARTS 3
typedef struct conv_out {
    cl_mem mem;
    int parts;
    int from[OUT_MAX_PARTS];
    size_t off[OUT_MAX_PARTS];
} conv_out;

static inline conv_out conv_out_one(op_buf b)
{
    return (conv_out){b.mem, 1, {0}, {b.off}};
}

/* A 3x3 stride-2 max pool (no padding) of c planes of n images of h x w, run by the conv's
 * own launch (cl/pool_rider.h): its input must be ready when the conv's is, and neither
 * reads what the other writes. epi: AFFINE and RELU2 only (scale, shift [c] with AFFINE). */
typedef struct conv_rider {
    op_buf in, out;
    cl_mem scale, shift;
    op_epilogue epi;
    int c, n, h, w;
} conv_rider;

/* The buffers of one conv. in and scratch must have conv_guard() readable floats on either
 * side. weights are packed by conv_pack() for the form. */
typedef struct conv_bufs {
    op_buf in;             /* [cin][n][h][w] */
    op_buf scratch;        /* conv_scratch() floats; unused when that is 0 */
    int shared_panels;     /* scratch already holds what this form packs of its input (an
                              earlier conv with the same conv_reuse_key packed it): no packing */
    cl_mem weights;
    cl_mem bias;           /* [cout] */
    cl_mem scale, shift;   /* [cout] with epi.affine, else NULL */
    conv_out out;          /* [cout][n][ho][wo]; the old values are read with epi.residual */
    const conv_rider *rider; /* a pool the launches also run (conv_takes_rider), or NULL */
} conv_bufs;

/* Computes ho, wo; fails if the window does not fit. */
irv2_status conv_shape_finish(conv_shape *s);
/* A 1x1 stride-1 conv without padding: one GEMM over all positions. */
int conv_is_gemm(const conv_shape *s);
/* The form's launches can also run a max pool (conv_bufs.rider). */
int conv_takes_rider(const conv_form *f);

/* Which families a question is about: irv2's own kernels, a library's (CLBlast), or both. */
typedef enum conv_rows { ROWS_OWN = 1, ROWS_LIBRARY = 2, ROWS_ALL = 3 } conv_rows;

/* The forms worth timing for this conv on this device, in timing order, of the families in
 * `rows` that the context offers; fast: only those fast tuning times. parts: output parts
 * the conv writes. Returns how many, at most cap. */
size_t conv_candidates(const irv2_context *ctx, const conv_shape *s, int parts, conv_rows rows,
                       int fast, conv_form *out, size_t cap);
/* Drops the forms whose family an IRV2_EXCLUDE_* bit in exclude forbids; returns how many
 * are kept (in order, at the front). */
size_t conv_exclude(conv_form *forms, size_t n, unsigned exclude);
/* Forms derived from the best measured one, timed after it (none when fast and its family
 * is not refined in fast tuning). Returns how many, at most cap. */
size_t conv_refinements(const conv_shape *s, const conv_form *best, int fast, conv_form *out,
                        size_t cap);
/* The form used without measuring: the first family, by its rank, with a default for the
 * device (the work-group family's on GPUs; else fused, panels, direct at the device's tiling). */
conv_form conv_default_form(const irv2_context *ctx, const conv_shape *s);

/* Floats of scratch the form needs (0: none, or no such form for this shape). */
size_t conv_scratch(const conv_shape *s, const conv_form *f);
/* Floats a conv in this form may read outside its input tensor (and its scratch) on either
 * side. */
size_t conv_guard(const conv_shape *s, const conv_form *f);
/* A bound on the guard floats of every form of every family for the shape. */
size_t conv_guard_bound(const conv_shape *s);
/* The most scratch any form this context may choose for the shape needs: its candidates,
 * their refinements and the untuned form (a device is not bound by forms only others get). */
size_t conv_scratch_offered(const irv2_context *ctx, const conv_shape *s);
/* Nonzero where the form packs its input into scratch in a layout this key names, which a
 * later conv reading the same input with the same key can use instead of packing again
 * (conv_bufs.shared_panels); 0 otherwise. */
int conv_reuse_key(const conv_shape *s, const conv_form *f);
/* Floats of the weights as the form reads them. */
size_t conv_packed_count(const conv_shape *s, const conv_form *f);
/* Packs canonical [cout][cin][kh][kw] weights w for the form. */
void conv_pack(const conv_shape *s, const conv_form *f, const float *w, float *packed);

/* Most launches one conv needs (the parity split or panel packing, then chunks). */
#define OP_MAX_LAUNCHES 16

/* All launches of one conv in order, into ops (OP_MAX_LAUNCHES entries); *count set. A
 * residual epilogue accumulates into out (no ReLU before the sum is supported). On failure no
 * launch is left allocated and the message names the form. */
irv2_status conv_launches(irv2_context *ctx, const conv_shape *s, const conv_form *f,
                          op_epilogue epi, const conv_bufs *b, op_launch *ops, int *count);

/* The form as written in tuning.txt: the family's name, then its parameters ("direct 16 6 0",
 * "wg 64 64 4", "clblast"). */
void conv_form_format(const conv_form *f, char *dst, size_t cap);
/* The form text names (conv_form_format's inverse); 0 when it names none. */
int conv_form_parse(const char *text, conv_form *f);
/* The same family and parameters. */
int conv_form_equal(const conv_form *a, const conv_form *b);
/* The family's name ("direct", "phase", "panels", "fused", "clblast", "wg", "winograd",
 * "simt"), "unknown" for none. */
const char *conv_family_name(conv_family_id id);

#endif
