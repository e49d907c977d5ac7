/* conv_family.h: the table of conv kernel families, for the files that implement them
 * (host/ops/conv_*.c) and for tools that list what the families would build. Each family is
 * one row: what it offers, times, needs and launches. conv_family.c answers conv.h's
 * questions by asking the rows; an entry left NULL takes the default its comment names. A
 * new family is one row (its conv_family_id in conv.h and its entry in conv_family.c's
 * table), one cl/ file, one host/ops/ file and its tests. */
#ifndef IRV2_CONV_FAMILY_H
#define IRV2_CONV_FAMILY_H

#include "ops/conv.h"

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
    const conv_form *f;
    op_epilogue epi;
    cl_int residual;
    const conv_bufs *b;
    cl_mem scale, shift; /* the bias where not given: unread without AFFINE, but every
                            argument must be a buffer */
    out_args o;
} conv_job;

typedef struct conv_family {
    const char *name;  /* as written in tuning.txt */
    int library;       /* a library's kernels (CLBlast): in conv_rows' ROWS_LIBRARY */
    int fast_refines;  /* fast tuning also times the refinements of its best form */
    int takes_rider;   /* its launches run conv_bufs.rider's pool (conv_rider_args) */
    int default_rank;  /* conv_default_form asks the rows with a default_form in increasing
                          rank */
    unsigned excluded_by; /* the IRV2_EXCLUDE_* bit that forbids the family; 0: none */
    /* Whether the context offers the family (ctx->kernels, a binaries folder, the compact
     * set). */
    int (*offered)(const irv2_context *ctx);
    /* Its candidates for the shape on this device, at most cap; parts: output parts the
     * conv writes. NULL for a row with at_tiling instead. */
    size_t (*candidates)(const irv2_context *ctx, const conv_shape *s, int parts,
                         conv_form *out, size_t cap);
    /* A row over the vector register tilings (conv_vec_tilings): whether it has a form at
     * tiling t for the shape. Consecutive such rows are listed tiling by tiling. */
    int (*at_tiling)(const irv2_context *ctx, const conv_shape *s, conv_vec_params t);
    /* Whether fast tuning times the candidate. NULL: it does. */
    int (*fast)(const irv2_context *ctx, const conv_form *f);
    /* Forms derived from the best one, timed after it. NULL: none. */
    size_t (*refinements)(const conv_shape *s, const conv_form *best, conv_form *out,
                          size_t cap);
    /* Floats of scratch for the form. NULL: none. */
    size_t (*scratch)(const conv_shape *s, const conv_form *f);
    /* Floats read outside the input tensor on either side, for the form and a bound over
     * all its forms. NULL: none. */
    size_t (*guard)(const conv_shape *s, const conv_form *f);
    size_t (*guard_bound)(const conv_shape *s);
    /* conv_reuse_key. NULL: 0. */
    int (*reuse_key)(const conv_shape *s, const conv_form *f);
    /* Floats of packed weights, and the packing. */
    size_t (*packed_count)(const conv_shape *s, const conv_form *f);
    void (*pack)(const conv_shape *s, const conv_form *f, const float *w, float *packed);
    /* The launches of the job (j->f is this family's form), added at ops[*n]. */
    irv2_status (*launches)(const conv_job *j, op_launch *ops, int *n);
    /* Sets *f to the family's untuned form for the shape and returns 1 where the device
     * gets one, else 0. NULL: never. */
    int (*default_form)(const irv2_context *ctx, const conv_shape *s, conv_form *f);
    /* The parameters as written after the name in tuning.txt, and back (1: parsed). NULL:
     * none. */
    void (*format)(const conv_form *f, char *dst, size_t cap);
    int (*parse)(const char *text, conv_form *f);
} conv_family;

/* The values behind a rider's kernel arguments (cl/pool_rider.h RIDER_ARGS). */
typedef struct rider_vals {
    cl_mem in, out, scale, shift;
    cl_uint in_off, out_off, total;
    cl_int epi, n, h, w;
} rider_vals;
#define RIDER_NARGS 11
/* Fills v from j's rider and args[0 .. RIDER_NARGS) from v (which must outlive them). */
void conv_rider_args(const conv_job *j, rider_vals *v, kernel_arg *args);
/* The rider's outputs (checked below 2^32 by conv_launches). */
size_t conv_rider_outputs(const conv_rider *r);

/* The row of a family; NULL for an id outside the table. */
const conv_family *conv_family_of(conv_family_id id);

/* The rows, defined in their families' files. */
extern const conv_family conv_clblast_row, conv_direct_row, conv_phase_row, conv_panels_row,
    conv_fused_row, conv_winograd_row, conv_winograd_1d_row,
    conv_winograd_2d_row, conv_wg_row, conv_simt_row;

/* The tiled GPU families' parameters (conv_wg_params: the work-group and SIMT families) as
 * "positions channels slices" in tuning.txt, and back (ops/conv_wg.c). */
void conv_tile_format(const conv_form *f, char *dst, size_t cap);
int conv_tile_parse(const char *text, conv_form *f);

/* ---- shared by the vector families (ops/conv_vec.c) ---- */

/* The register tilings offered on this device, at most cap; returns how many (at most
 * CONV_MAX_TILINGS). More than 8 channels of 16 lanes need more than 16 vector registers:
 * those are offered only where the native float vector is 16 wide (AVX-512's 32 registers).
 * Beside the work-group family (KERNELS_BOTH: a GPU), the default tiling only. A tiling of
 * vw CONV_PAIR_LANES is two neighbouring 16-lane tiles per work-item sharing each broadcast
 * weight (conv_gemm.cl's PAIR, which conv_vec_options sets with the TM option): only the
 * panel forms (panels, fused) run it; the other rows' at_tiling refuse it (conv_vec_single). */
#define CONV_MAX_TILINGS 10
#define CONV_PAIR_LANES 32
size_t conv_vec_tilings(const irv2_context *ctx, conv_vec_params *out, size_t cap);
/* The tiling is one vector of 8 or 16 lanes per position tile (not a pair). */
int conv_vec_single(conv_vec_params t);
/* The lanes of one vector of the tiling: vw, or 16 for a pair. */
int conv_vec_lanes(const conv_vec_params *t);
/* The device's default tiling (from its preferred float vector width), kchunk 0. */
conv_vec_params conv_default_tiling(const irv2_context *ctx);
/* The native float vector is 16 wide (AVX-512). */
int conv_wide_vectors(const irv2_context *ctx);
/* Whether fast tuning times the form's tiling on this device: the tilings that fill the
 * register file and won nearly every layer in full tuning: 16x6 and 8x12 where the native
 * float vector is 8 wide (16 registers: 12 accumulators; 113 of 120 decisions on an AVX2
 * machine), 16x12, 16x16 and 16x24 where it is 16 wide (32 registers: they won most layers on
 * AVX-512). */
int conv_fast_tiling(const irv2_context *ctx, const conv_form *f);
/* Whether the context offers the vector kernels (KERNELS_VEC). */
int conv_vec_offered(const irv2_context *ctx);
/* The SIMT family has a tile this device runs (its profile alone decides). */
int conv_simt_runs(const irv2_context *ctx);
/* Guard floats of a kernel reading vw positions at a time from shifted rows. */
size_t conv_guard_at(const conv_shape *s, int vw);
size_t conv_vec_guard(const conv_shape *s, const conv_form *f);
size_t conv_vec_guard_bound(const conv_shape *s);
/* Weights as [ceil(cout/tm)][kh][kw][cin][tm], zero rows padding cout. */
int conv_channel_tiles(const conv_shape *s, int tm);
size_t conv_tiled_count(const conv_shape *s, int tm);
void conv_pack_tiled(const conv_shape *s, int tm, const float *w, float *packed);
size_t conv_vec_packed_count(const conv_shape *s, const conv_form *f);
void conv_vec_pack(const conv_shape *s, const conv_form *f, const float *w, float *packed);
/* "vw tm kchunk", and back. */
void conv_vec_format(const conv_form *f, char *dst, size_t cap);
int conv_vec_parse(const char *text, conv_form *f);
/* Fails unless the form's tiling has a kernel: vw 8 or 16, or CONV_PAIR_LANES where the
 * caller's kernels run pairs (`pairs`), and tm >= 1. */
irv2_status conv_vec_check(const conv_job *j, int pairs);
/* The -D options of a vector kernel: VW, then those in `which`, then extra. */
enum { OPT_TM = 1, OPT_GEOMETRY = 2, OPT_EPILOGUE = 4 };
void conv_vec_options(const conv_job *j, int which, const char *extra, char *dst, size_t cap);
/* Blocks of up to 32 weight tiles (192-384 rows): measured best on L2-sized caches. */
int conv_weight_block(const conv_shape *s, int tm);
/* G of Winograd's F(4, 3) (Lavin and Gray's), for the weights' transforms. */
extern const double conv_winograd_g43[6][3];
/* The one launch of a kernel whose work-groups pack their tile's panel into local memory
 * (cl/conv_gemm.cl conv_fused, cl/winograd_fused.cl): its arguments (input, weights,
 * epilogue, output parts, geometry, `mblock` weight tiles per work-group, the panel of
 * panel_bytes), NDRange (ceil(positions/vw), ceil(weight tiles/mblock)), local (1,1); extra
 * -D options after the usual ones. Fails where the panel exceeds local memory. */
irv2_status conv_local_panel_op(const conv_job *j, const char *file, const char *kernel,
                                const char *extra, size_t panel_bytes, size_t positions,
                                op_launch *op);

#endif
