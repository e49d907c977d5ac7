/* conv_vec.c: what the vector families (one work-item per work-group, a register tile of vw
 * lanes x tm channels: direct, phase, panels, fused, winograd) share: their tilings, guards,
 * weight packing, -D options and the text of their parameters. */
#include "ops/conv_family.h"

#include <stdio.h>

conv_vec_params conv_default_tiling(const irv2_context *ctx)
{
    /* One accumulator vector per register: 16 lanes with AVX-512, 8 otherwise. */
    return (conv_vec_params){ctx->profile.float_width >= 16 ? 16 : 8, 8, 0};
}

int conv_wide_vectors(const irv2_context *ctx) { return conv_default_tiling(ctx).vw >= 16; }

int conv_vec_offered(const irv2_context *ctx) { return (ctx->kernels & KERNELS_VEC) != 0; }

static const conv_vec_params tilings[] = {{8, 8, 0},   {8, 12, 0},  {16, 4, 0},  {16, 6, 0},
                                          {16, 8, 0},  {16, 12, 0}, {16, 16, 0}, {16, 24, 0},
                                          {CONV_PAIR_LANES, 8, 0}, {CONV_PAIR_LANES, 12, 0}};

int conv_vec_single(conv_vec_params t) { return t.vw == 8 || t.vw == 16; }

int conv_vec_lanes(const conv_vec_params *t) { return t->vw == CONV_PAIR_LANES ? 16 : t->vw; }

_Static_assert(sizeof tilings / sizeof tilings[0] <= CONV_MAX_TILINGS,
               "CONV_MAX_TILINGS must hold every tiling");

int conv_fast_tiling(const irv2_context *ctx, const conv_form *f)
{
    static const conv_vec_params narrow[] = {{16, 6, 0}, {8, 12, 0}},
                                 wide[] = {{16, 12, 0}, {16, 16, 0}, {16, 24, 0},
                                           {CONV_PAIR_LANES, 12, 0}};
    const int w = conv_wide_vectors(ctx);
    const conv_vec_params *list = w ? wide : narrow;
    const size_t n = w ? sizeof wide / sizeof wide[0] : sizeof narrow / sizeof narrow[0];
    for (size_t i = 0; i < n; i++)
        if (list[i].vw == f->p.vec.vw && list[i].tm == f->p.vec.tm) return 1;
    return 0;
}

size_t conv_vec_tilings(const irv2_context *ctx, conv_vec_params *out, size_t cap)
{
    /* Beside the work-group family (a GPU), the default tiling only: one work-item per
     * work-group rarely wins there, and each tiling is a program to build and time. */
    if (ctx->kernels == KERNELS_BOTH) {
        if (cap == 0) return 0;
        out[0] = conv_default_tiling(ctx);
        return 1;
    }
    int wide = conv_wide_vectors(ctx);
    size_t n = 0;
    for (size_t i = 0; i < sizeof tilings / sizeof tilings[0] && n < cap; i++)
        if (wide || (conv_vec_single(tilings[i]) && (tilings[i].vw < 16 || tilings[i].tm <= 8)))
            out[n++] = tilings[i];
    return n;
}

size_t conv_guard_at(const conv_shape *s, int vw)
{
    return (size_t)(s->kh + s->ph + 1) * s->w + s->kw + s->pw + 4 * vw;
}

size_t conv_vec_guard(const conv_shape *s, const conv_form *f)
{
    return conv_guard_at(s, conv_vec_lanes(&f->p.vec));
}

/* The widest tiling's. */
size_t conv_vec_guard_bound(const conv_shape *s) { return conv_guard_at(s, 16); }

int conv_channel_tiles(const conv_shape *s, int tm) { return (s->cout + tm - 1) / tm; }

size_t conv_tiled_count(const conv_shape *s, int tm)
{
    return (size_t)conv_channel_tiles(s, tm) * tm * s->kh * s->kw * s->cin;
}

void conv_pack_tiled(const conv_shape *s, int tm, const float *w, float *packed)
{
    size_t i = 0;
    for (int mt = 0; mt < conv_channel_tiles(s, tm); mt++)
        for (int kh = 0; kh < s->kh; kh++)
            for (int kw = 0; kw < s->kw; kw++)
                for (int c = 0; c < s->cin; c++)
                    for (int m = 0; m < tm; m++) {
                        int co = mt * tm + m;
                        packed[i++] = co < s->cout
                                          ? w[(((size_t)co * s->cin + c) * s->kh + kh) * s->kw + kw]
                                          : 0.0f;
                    }
}

size_t conv_vec_packed_count(const conv_shape *s, const conv_form *f)
{
    return conv_tiled_count(s, f->p.vec.tm);
}

void conv_vec_pack(const conv_shape *s, const conv_form *f, const float *w, float *packed)
{
    conv_pack_tiled(s, f->p.vec.tm, w, packed);
}

void conv_vec_format(const conv_form *f, char *dst, size_t cap)
{
    snprintf(dst, cap, "%d %d %d", f->p.vec.vw, f->p.vec.tm, f->p.vec.kchunk);
}

int conv_vec_parse(const char *text, conv_form *f)
{
    char end;
    conv_vec_params *v = &f->p.vec;
    return sscanf(text, "%d %d %d%c", &v->vw, &v->tm, &v->kchunk, &end) == 3;
}

irv2_status conv_vec_check(const conv_job *j, int pairs)
{
    const conv_vec_params *t = &j->f->p.vec;
    if ((!conv_vec_single(*t) && (t->vw != CONV_PAIR_LANES || !pairs)) || t->tm < 1)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "no kernel has tiling vw %d tm %d", t->vw,
                         t->tm);
    return IRV2_OK;
}

void conv_vec_options(const conv_job *j, int which, const char *extra, char *dst, size_t cap)
{
    const conv_shape *s = j->s;
    char tm[32] = "", geometry[96] = "", eflags[96] = "";
    if (which & OPT_TM)
        snprintf(tm, sizeof tm, " -DTM=%d%s", j->f->p.vec.tm,
                 conv_vec_single(j->f->p.vec) ? "" : " -DPAIR=1");
    if (which & OPT_GEOMETRY)
        snprintf(geometry, sizeof geometry, " -DKH=%d -DKW=%d -DSH=%d -DPH=%d -DPW=%d", s->kh,
                 s->kw, s->stride, s->ph, s->pw);
    if (which & OPT_EPILOGUE) epilogue_flags(j->epi, eflags, sizeof eflags);
    snprintf(dst, cap, "-DVW=%d%s%s%s%s", conv_vec_lanes(&j->f->p.vec), tm, geometry, eflags,
             extra);
}

int conv_weight_block(const conv_shape *s, int tm)
{
    return conv_channel_tiles(s, tm) < 32 ? conv_channel_tiles(s, tm) : 32;
}

irv2_status conv_local_panel_op(const conv_job *j, const char *file, const char *kernel,
                                const char *extra, size_t panel_bytes, size_t positions,
                                op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const out_args *o = &j->o;
    const conv_vec_params *t = &j->f->p.vec;
    if ((cl_ulong)panel_bytes > j->ctx->profile.local_mem)
        return irv2_fail(IRV2_ERR_SHAPE, "k%dx%d x %d channels exceeds local memory", s->kh,
                         s->kw, s->cin);
    cl_int in_cstride = s->n * s->h * s->w, block = conv_weight_block(s, t->tm);
    cl_uint in_off = (cl_uint)b->in.off;
    char opts[256];
    conv_vec_options(j, OPT_TM | OPT_GEOMETRY | OPT_EPILOGUE, extra, opts, sizeof opts);
    const kernel_arg args[] = {
        ARG(b->in.mem),   ARG(in_off),     ARG(b->weights), ARG(b->bias),  ARG(j->scale),
        ARG(j->shift),    ARG(o->mem),     ARG(o->off0),    ARG(o->seg1),  ARG(o->off1),
        ARG(o->seg2),     ARG(o->off2),    ARG(s->cin),     ARG(s->cout),  ARG(s->n),
        ARG(s->h),        ARG(s->w),       ARG(s->ho),      ARG(s->wo),    ARG(in_cstride),
        ARG(j->residual), ARG(block),      {panel_bytes, NULL}};
    irv2_status st = op_kernel(j->ctx, file, opts, kernel, sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 2;
    op_local_one(op);
    op->gws[0] = (positions + t->vw - 1) / t->vw;
    op->gws[1] = ((size_t)conv_channel_tiles(s, t->tm) + block - 1) / block;
    return IRV2_OK;
}
