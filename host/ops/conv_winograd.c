/* conv_winograd.c: stride-1 3x3 convs by Winograd's F(4x4, 3x3) (cl/winograd.cl): the
 * transformed weights, the scratch the transforms need and the three launches. */
#include "ops/conv_family.h"

#include <stdio.h>

#define XI 36 /* transformed elements per 6x6 tile */

static int shape_offered(const conv_shape *s)
{
    return s->kh == 3 && s->kw == 3 && s->stride == 1 && s->ho > 0 && s->wo > 0;
}

/* A candidate where cin and cout reach 128, so that its 36 GEMMs have long reductions and
 * wide outputs; on smaller convs the transforms' memory traffic costs more than the
 * multiplications they save. Measured on an AVX2 machine (fast tuning timing it on every 3x3
 * stride-1 conv): it won the 256->256 and 256->288 convs (reduction A's at 1.41x the panel
 * form) and lost every conv of 32 to 96 channels. */
static int pays(const conv_shape *s)
{
    return shape_offered(s) && s->cin >= 128 && s->cout >= 128;
}

static size_t blocks(const conv_shape *s)
{
    return (size_t)s->n * ((s->ho + 3) / 4) * ((s->wo + 3) / 4);
}

static size_t ptiles(const conv_shape *s, const conv_vec_params *t)
{
    return (blocks(s) + t->vw - 1) / t->vw;
}

static size_t mtiles(const conv_shape *s, const conv_vec_params *t)
{
    return ((size_t)s->cout + t->tm - 1) / t->tm;
}

/* V: XI panels sets of ptiles x cin x vw floats, then M: XI x mtiles*tm x ptiles*vw. */
static size_t v_floats(const conv_shape *s, const conv_vec_params *t)
{
    return XI * ptiles(s, t) * s->cin * t->vw;
}

static size_t scratch_at(const conv_shape *s, const conv_vec_params *t)
{
    if (!shape_offered(s) || t->vw <= 0 || t->tm <= 0) return 0;
    return v_floats(s, t) + XI * mtiles(s, t) * t->tm * ptiles(s, t) * t->vw;
}

static size_t packed_at(const conv_shape *s, const conv_vec_params *t)
{
    return XI * mtiles(s, t) * t->tm * s->cin;
}

/* U = G g G^T for the 3x3 kernel g (Lavin and Gray's G for F(4x4, 3x3)), in double, rounded
 * once. */
static void transform_kernel(const float *g, float u[XI])
{
    const double(*G)[3] = conv_winograd_g43;
    double gg[6][3]; /* G g */
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 3; j++)
            gg[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
            u[6 * i + j] = (float)(gg[i][0] * G[j][0] + gg[i][1] * G[j][1] + gg[i][2] * G[j][2]);
}

static void pack_at(const conv_shape *s, const conv_vec_params *t, const float *w, float *packed)
{
    const size_t mt_n = mtiles(s, t), per_xi = mt_n * s->cin * t->tm;
    for (size_t mt = 0; mt < mt_n; mt++)
        for (int c = 0; c < s->cin; c++)
            for (int m = 0; m < t->tm; m++) {
                const int co = (int)mt * t->tm + m;
                float u[XI] = {0};
                if (co < s->cout) transform_kernel(w + ((size_t)co * s->cin + c) * 9, u);
                for (int xi = 0; xi < XI; xi++)
                    packed[xi * per_xi + (mt * s->cin + c) * t->tm + m] = u[xi];
            }
}

static irv2_status input_op(const conv_job *j, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    cl_uint in_off = (cl_uint)b->in.off, v_off = (cl_uint)b->scratch.off;
    cl_int npos = (cl_int)blocks(s);
    char opts[128];
    snprintf(opts, sizeof opts, "-DVW=%d -DPH=%d -DPW=%d", j->f->p.vec.vw, s->ph, s->pw);
    const kernel_arg args[] = {ARG(b->in.mem), ARG(in_off), ARG(b->scratch.mem), ARG(v_off),
                               ARG(s->cin),    ARG(s->n),   ARG(s->h),           ARG(s->w),
                               ARG(s->ho),     ARG(s->wo),  ARG(npos)};
    irv2_status st = op_kernel(j->ctx, "winograd.cl", opts, "wino_input",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 2;
    op->lws[0] = 0; /* the implementation chooses */
    op->gws[0] = ptiles(s, &j->f->p.vec) * j->f->p.vec.vw, op->gws[1] = (size_t)s->cin;
    return IRV2_OK;
}

static irv2_status gemm_op(const conv_job *j, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    cl_uint v_off = (cl_uint)b->scratch.off;
    cl_uint m_off = (cl_uint)(b->scratch.off + v_floats(s, &j->f->p.vec));
    cl_int mt_n = (cl_int)mtiles(s, &j->f->p.vec);
    char opts[64];
    snprintf(opts, sizeof opts, "-DVW=%d -DTM=%d", j->f->p.vec.vw, j->f->p.vec.tm);
    const kernel_arg args[] = {ARG(b->scratch.mem), ARG(v_off), ARG(b->weights),
                               ARG(b->scratch.mem), ARG(m_off), ARG(s->cin), ARG(mt_n)};
    irv2_status st = op_kernel(j->ctx, "winograd.cl", opts, "wino_gemm",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 3;
    op_local_one(op);
    op->gws[0] = (size_t)mt_n, op->gws[1] = ptiles(s, &j->f->p.vec), op->gws[2] = XI;
    return IRV2_OK;
}

static irv2_status output_op(const conv_job *j, op_launch *op)
{
    const conv_shape *s = j->s;
    const conv_bufs *b = j->b;
    const out_args *o = &j->o;
    cl_uint m_off = (cl_uint)(b->scratch.off + v_floats(s, &j->f->p.vec));
    cl_int mrows = (cl_int)(mtiles(s, &j->f->p.vec) * j->f->p.vec.tm);
    cl_int ppad = (cl_int)(ptiles(s, &j->f->p.vec) * j->f->p.vec.vw);
    char opts[128] = "";
    epilogue_flags(j->epi, opts, sizeof opts);
    const kernel_arg args[] = {ARG(b->scratch.mem), ARG(m_off),   ARG(b->bias),  ARG(j->scale),
                               ARG(j->shift),       ARG(o->mem),  ARG(o->off0),  ARG(o->seg1),
                               ARG(o->off1),        ARG(o->seg2), ARG(o->off2),  ARG(s->cout),
                               ARG(s->n),           ARG(s->ho),   ARG(s->wo),    ARG(mrows),
                               ARG(ppad),           ARG(j->residual)};
    irv2_status st = op_kernel(j->ctx, "winograd.cl", opts, "wino_output",
                               sizeof args / sizeof args[0], args, op);
    if (st != IRV2_OK) return st;
    op->dims = 2;
    op->lws[0] = 0;
    op->gws[0] = blocks(s), op->gws[1] = (size_t)s->cout;
    return IRV2_OK;
}

static irv2_status winograd_launches(const conv_job *j, op_launch *ops, int *n)
{
    const conv_shape *s = j->s;
    irv2_status check = conv_vec_check(j, 0);
    if (check != IRV2_OK) return check;
    if (!shape_offered(s))
        return irv2_fail(IRV2_ERR_SHAPE, "no Winograd form for k%dx%d s%d", s->kh, s->kw,
                         s->stride);
    irv2_status (*const steps[])(const conv_job *, op_launch *) = {input_op, gemm_op, output_op};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        irv2_status st = steps[i](j, &ops[*n]);
        if (st != IRV2_OK) return st;
        (*n)++;
    }
    return IRV2_OK;
}

/* Where it pays, or (ctx->winograd_everywhere, for the accuracy tests) wherever it runs. */
static int winograd_at(const irv2_context *ctx, const conv_shape *s, conv_vec_params t)
{
    if (!conv_vec_single(t)) return 0;
    return ctx->winograd_everywhere == CONV_WINOGRAD + 1 ? shape_offered(s) : pays(s);
}

static size_t winograd_scratch(const conv_shape *s, const conv_form *f)
{
    return scratch_at(s, &f->p.vec);
}

static size_t winograd_packed_count(const conv_shape *s, const conv_form *f)
{
    return packed_at(s, &f->p.vec);
}

static void winograd_pack(const conv_shape *s, const conv_form *f, const float *w,
                          float *packed)
{
    pack_at(s, &f->p.vec, w, packed);
}

/* Its parameters are the vector families' (vw, tm; kchunk 0). Fast tuning times it where it
 * pays, at the tilings conv_fast_tiling names. */
const conv_family conv_winograd_row = {
    .name = "winograd", .excluded_by = IRV2_EXCLUDE_WINOGRAD, .offered = conv_vec_offered,
    .at_tiling = winograd_at,
    .fast = conv_fast_tiling, .scratch = winograd_scratch,
    .guard = conv_vec_guard,
    .guard_bound = conv_vec_guard_bound, .packed_count = winograd_packed_count,
    .pack = winograd_pack, .launches = winograd_launches, .format = conv_vec_format,
    .parse = conv_vec_parse,
};
