/* conv.c: launches cl/conv.cl: picks the lane layout, packs weights for it, sets arguments. */
#include "launch.h"

#include <stdio.h>
#include <string.h>

static int window_out(int x, int k, int s, int p) { return x + 2 * p < k ? 0 : (x + 2 * p - k) / s + 1; }

irv2_status conv_shape_finish(conv_shape *s)
{
    if (s->cin <= 0 || s->cout <= 0 || s->kh <= 0 || s->kw <= 0 || s->n <= 0 || s->h <= 0 ||
        s->w <= 0 || (s->stride != 1 && s->stride != 2) || s->ph < 0 || s->pw < 0 ||
        s->ph >= s->kh || s->pw >= s->kw)
        return irv2_fail(IRV2_ERR_SHAPE, "conv: unsupported shape %dx%dx%d k%dx%d s%d p%dx%d",
                         s->cin, s->h, s->w, s->kh, s->kw, s->stride, s->ph, s->pw);
    s->ho = window_out(s->h, s->kh, s->stride, s->ph);
    s->wo = window_out(s->w, s->kw, s->stride, s->pw);
    if (s->ho <= 0 || s->wo <= 0)
        return irv2_fail(IRV2_ERR_SHAPE, "conv: k%dx%d does not fit a %dx%d input", s->kh, s->kw,
                         s->h, s->w);
    return IRV2_OK;
}

conv_tiling conv_default_tiling(const irv2_context *ctx)
{
    cl_uint width = 8;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof width, &width,
                        NULL) != CL_SUCCESS)
        width = 8;
    /* One accumulator vector per register: 16 lanes with AVX-512, 8 otherwise. */
    return (conv_tiling){width >= 16 ? 16 : 8, 8};
}

static int mtiles(const conv_shape *s, conv_tiling t) { return (s->cout + t.tm - 1) / t.tm; }

size_t conv_packed_count(const conv_shape *s, conv_tiling t)
{
    return (size_t)mtiles(s, t) * t.tm * s->kh * s->kw * s->cin;
}

void conv_pack(const conv_shape *s, conv_tiling t, const float *w, float *packed)
{
    size_t i = 0;
    for (int mt = 0; mt < mtiles(s, t); mt++)
        for (int kh = 0; kh < s->kh; kh++)
            for (int kw = 0; kw < s->kw; kw++)
                for (int c = 0; c < s->cin; c++)
                    for (int m = 0; m < t.tm; m++) {
                        int co = mt * t.tm + m;
                        packed[i++] = co < s->cout
                                          ? w[(((size_t)co * s->cin + c) * s->kh + kh) * s->kw + kw]
                                          : 0.0f;
                    }
}

/* Lanes run along single output rows for strided convs and for outputs wider than inputs;
 * otherwise over the virtual H_out x W grid, whose tiles wrap rows without waste. */
static int use_rows(const conv_shape *s) { return s->stride != 1 || s->wo > s->w; }

size_t conv_guard(const conv_shape *s, conv_tiling t)
{
    return (size_t)(s->kh + s->ph + 1) * s->w + s->kw + s->pw + 4 * t.vw;
}

/* Where a conv kernel reads: the input (or its parity planes) with the sizes the kernel
 * indexes and its channel stride. */
typedef struct conv_source {
    op_buf in;
    int rows, phase, h, w, cstride;
} conv_source;

static void conv_options(const conv_shape *s, conv_tiling t, int rows, int phase,
                         const char *eflags, char *dst, size_t cap)
{
    snprintf(dst, cap,
             "-DVW=%d -DTM=%d -DKH=%d -DKW=%d -DSH=%d -DPH=%d -DPW=%d -DROWS=%d -DPHASE=%d%s",
             t.vw, t.tm, s->kh, s->kw, s->stride, s->ph, s->pw, rows, phase, eflags);
}

/* The kernels' output-part arguments (cl/conv.cl "Output parts"), checked once per conv:
 * unused parts start at cout. */
typedef struct out_args {
    cl_mem mem;
    cl_uint off0, off1, off2;
    cl_int seg1, seg2;
} out_args;

static irv2_status out_args_of(const conv_out *o, int cout, out_args *a)
{
    int parts = o->parts < 1 ? 1 : o->parts;
    if (parts > CONV_MAX_PARTS || o->from[0] != 0)
        return irv2_fail(IRV2_ERR_SHAPE, "conv: %d output parts (at most %d)", o->parts,
                         CONV_MAX_PARTS);
    for (int k = 1; k < parts; k++)
        if (o->from[k] <= o->from[k - 1] || o->from[k] >= cout)
            return irv2_fail(IRV2_ERR_SHAPE, "conv: output part %d starts at channel %d of %d",
                             k, o->from[k], cout);
    *a = (out_args){o->mem, (cl_uint)o->off[0], parts > 1 ? (cl_uint)o->off[1] : 0,
                    parts > 2 ? (cl_uint)o->off[2] : 0, parts > 1 ? o->from[1] : cout,
                    parts > 2 ? o->from[2] : cout};
    return IRV2_OK;
}

/* One launch of cl/conv.cl over input channels [c0, c1). */
static irv2_status conv_kernel(irv2_context *ctx, const conv_shape *s, conv_tiling t,
                               op_epilogue epi, const conv_source *src, int c0, int c1,
                               cl_mem packed, cl_mem bias, cl_mem scale, cl_mem shift,
                               const out_args *o, op_launch *op)
{
    char eflags[96], opts[256];
    memset(op, 0, sizeof *op);
    cl_int accumulate = epi.residual || c0 > 0, finish = c1 == s->cin;
    epi.residual = 0; /* a runtime argument (accumulate), not a kernel variant */
    epilogue_flags(epi, eflags, sizeof eflags);
    conv_options(s, t, src->rows, src->phase, eflags, opts, sizeof opts);
    irv2_status st = ctx_kernel(ctx, "conv.cl", opts, "conv", &op->kernel);
    if (st != IRV2_OK) return st;
    cl_uint in_off = (cl_uint)src->in.off;
    cl_int out_cstride = s->n * s->ho * s->wo;
    const kernel_arg args[] = {
        ARG(src->in.mem), ARG(in_off),     ARG(packed),   ARG(bias),        ARG(scale),
        ARG(shift),       ARG(o->mem),     ARG(o->off0),  ARG(o->seg1),     ARG(o->off1),
        ARG(o->seg2),     ARG(o->off2),    ARG(s->cin),   ARG(s->cout),     ARG(src->h),
        ARG(src->w),      ARG(s->ho),      ARG(s->wo),    ARG(src->cstride), ARG(out_cstride),
        ARG(c0),          ARG(c1),         ARG(accumulate), ARG(finish)};
    st = set_args(ctx, op->kernel, "conv", sizeof args / sizeof args[0], args);
    if (st != IRV2_OK) {
        op_release(op);
        return st;
    }
    op->dims = 3;
    op->local_one = 1;
    op->gws[0] = (size_t)mtiles(s, t);
    op->gws[1] = src->rows ? (size_t)s->ho * ((s->wo + t.vw - 1) / t.vw)
                           : ((size_t)s->ho * src->w + t.vw - 1) / t.vw;
    op->gws[2] = (size_t)s->n;
    return IRV2_OK;
}

/* Parity planes of the input: ceil(H/2) x ceil(W/2) each. */
static void phase_size(const conv_shape *s, int *hp, int *wp)
{
    *hp = (s->h + 1) / 2, *wp = (s->w + 1) / 2;
}

size_t conv_phase_scratch(const conv_shape *s)
{
    int hp, wp;
    phase_size(s, &hp, &wp);
    if (s->stride != 2 || s->ho > hp || s->wo > wp) return 0;
    return (size_t)s->cin * s->n * 4 * hp * wp;
}

static irv2_status phase_split_op(irv2_context *ctx, const conv_shape *s, op_buf in,
                                  op_buf scratch, op_launch *split)
{
    int hp, wp;
    phase_size(s, &hp, &wp);
    memset(split, 0, sizeof *split);
    char opts[256];
    conv_shape one = {.kh = 1, .kw = 1, .stride = 1}; /* phase_split ignores the geometry */
    conv_options(&one, (conv_tiling){8, 1}, 0, 0, "", opts, sizeof opts);
    irv2_status st = ctx_kernel(ctx, "conv.cl", opts, "phase_split", &split->kernel);
    if (st != IRV2_OK) return st;
    cl_uint in_off = (cl_uint)in.off, s_off = (cl_uint)scratch.off;
    const kernel_arg args[] = {ARG(in.mem), ARG(in_off), ARG(scratch.mem), ARG(s_off),
                               ARG(s->h),   ARG(s->w),   ARG(hp),          ARG(wp)};
    st = set_args(ctx, split->kernel, "phase_split", sizeof args / sizeof args[0], args);
    if (st != IRV2_OK) {
        op_release(split);
        return st;
    }
    split->dims = 3;
    split->gws[0] = (size_t)wp, split->gws[1] = (size_t)hp;
    split->gws[2] = (size_t)s->cin * s->n;
    return IRV2_OK;
}

static int gemm_shaped(const conv_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->stride == 1 && s->ph == 0 && s->pw == 0;
}

/* The panel form exists for 1x1 stride-1 convs (a plain regrouping), for stride-2 convs and
 * for stride-1 KxK convs with outputs of at most 40x40 per image (im2col, which the direct
 * kernel loses to there); the stem's large stride-1 maps run direct, where im2col would also
 * need tens of MB per image. */
size_t conv_panel_scratch(const conv_shape *s, conv_tiling t)
{
    if (!gemm_shaped(s) && s->stride != 2 && s->ho * s->wo > 40 * 40) return 0;
    size_t npos = (size_t)s->n * s->ho * s->wo;
    return (npos + t.vw - 1) / t.vw * t.vw * s->kh * s->kw * s->cin;
}

/* The panels form: pack the input into scratch (pack_panels for 1x1, pack_im2col for the
 * rest), then one GEMM launch over all output positions with the taps folded into the
 * reduction. */
static irv2_status panel_ops(irv2_context *ctx, const conv_shape *s, conv_tiling t,
                             op_epilogue epi, op_buf in, op_buf scratch, cl_mem packed,
                             cl_mem bias, cl_mem scale, cl_mem shift, const out_args *o,
                             op_launch *ops)
{
    char eflags[96], opts[256];
    const int plain = gemm_shaped(s);
    const char *pack = plain ? "pack_panels" : "pack_im2col";
    cl_int accumulate = epi.residual, cin = s->cin, cout = s->cout, n = s->n, h = s->h, w = s->w;
    cl_int ho = s->ho, wo = s->wo, rows = s->kh * s->kw * s->cin;
    cl_int npos = s->n * s->ho * s->wo, in_cstride = s->n * s->h * s->w;
    cl_uint in_off = (cl_uint)in.off, s_off = (cl_uint)scratch.off;
    size_t tiles = ((size_t)npos + t.vw - 1) / t.vw;
    if (conv_panel_scratch(s, t) == 0)
        return irv2_fail(IRV2_ERR_SHAPE, "conv: no panel form for k%dx%d s%d", s->kh, s->kw,
                         s->stride);
    epi.residual = 0;
    epilogue_flags(epi, eflags, sizeof eflags);
    conv_options(s, t, 0, 0, eflags, opts, sizeof opts);
    memset(ops, 0, 2 * sizeof *ops);
    irv2_status st = ctx_kernel(ctx, "conv.cl", opts, pack, &ops[0].kernel);
    if (st == IRV2_OK) st = ctx_kernel(ctx, "conv.cl", opts, "conv_panels", &ops[1].kernel);
    const kernel_arg plain_args[] = {ARG(in.mem), ARG(in_off), ARG(scratch.mem), ARG(s_off),
                                     ARG(cin),    ARG(npos),   ARG(in_cstride)};
    const kernel_arg im2col_args[] = {ARG(in.mem), ARG(in_off), ARG(scratch.mem), ARG(s_off),
                                      ARG(cin),    ARG(n),      ARG(h),           ARG(w),
                                      ARG(ho),     ARG(wo),     ARG(in_cstride)};
    const kernel_arg gemm_args[] = {ARG(scratch.mem), ARG(s_off),  ARG(packed),  ARG(bias),
                                    ARG(scale),       ARG(shift),   ARG(o->mem),  ARG(o->off0),
                                    ARG(o->seg1),     ARG(o->off1), ARG(o->seg2), ARG(o->off2),
                                    ARG(rows),        ARG(cout),   ARG(npos),     ARG(npos),
                                    ARG(accumulate)};
    if (st == IRV2_OK)
        st = plain ? set_args(ctx, ops[0].kernel, pack, sizeof plain_args / sizeof plain_args[0],
                              plain_args)
                   : set_args(ctx, ops[0].kernel, pack, sizeof im2col_args / sizeof im2col_args[0],
                              im2col_args);
    if (st == IRV2_OK)
        st = set_args(ctx, ops[1].kernel, "conv_panels", sizeof gemm_args / sizeof gemm_args[0],
                      gemm_args);
    if (st != IRV2_OK) {
        op_release(&ops[0]);
        op_release(&ops[1]);
        return st;
    }
    ops[0].local_one = 1, ops[0].gws[0] = tiles;
    ops[0].dims = plain ? 1 : 2, ops[0].gws[1] = (size_t)s->kh * s->kw;
    /* Blocks of up to 32 weight tiles (192-384 rows): measured best on L2-sized caches. */
    size_t block = mtiles(s, t) < 32 ? (size_t)mtiles(s, t) : 32;
    ops[1].dims = 3, ops[1].local_one = 1;
    ops[1].gws[0] = block, ops[1].gws[1] = tiles;
    ops[1].gws[2] = ((size_t)mtiles(s, t) + block - 1) / block;
    return IRV2_OK;
}

int conv_fused_fits(irv2_context *ctx, const conv_shape *s, conv_tiling t)
{
    cl_ulong local = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL) !=
        CL_SUCCESS)
        return 0;
    return (cl_ulong)s->kh * s->kw * s->cin * t.vw * sizeof(float) <= local;
}

/* The fused panel form: one launch of conv_fused, packing each tile's panel in local memory. */
static irv2_status fused_op(irv2_context *ctx, const conv_shape *s, conv_tiling t,
                            op_epilogue epi, op_buf in, cl_mem packed, cl_mem bias, cl_mem scale,
                            cl_mem shift, const out_args *o, op_launch *op)
{
    char eflags[96], opts[256];
    cl_int accumulate = epi.residual, cin = s->cin, cout = s->cout, n = s->n, h = s->h, w = s->w;
    cl_int ho = s->ho, wo = s->wo, in_cstride = s->n * s->h * s->w;
    /* Blocks of up to 32 weight tiles: measured best on L2-sized caches. */
    cl_int block = mtiles(s, t) < 32 ? mtiles(s, t) : 32;
    cl_uint in_off = (cl_uint)in.off;
    size_t npos = (size_t)s->n * s->ho * s->wo;
    if (!conv_fused_fits(ctx, s, t))
        return irv2_fail(IRV2_ERR_SHAPE, "conv: k%dx%d x %d channels exceeds local memory",
                         s->kh, s->kw, s->cin);
    epi.residual = 0;
    epilogue_flags(epi, eflags, sizeof eflags);
    conv_options(s, t, 0, 0, eflags, opts, sizeof opts);
    memset(op, 0, sizeof *op);
    irv2_status st = ctx_kernel(ctx, "conv.cl", opts, "conv_fused", &op->kernel);
    const kernel_arg args[] = {ARG(in.mem),   ARG(in_off), ARG(packed),  ARG(bias),
                               ARG(scale),    ARG(shift),  ARG(o->mem), ARG(o->off0),
                               ARG(o->seg1),  ARG(o->off1), ARG(o->seg2), ARG(o->off2),
                               ARG(cin),      ARG(cout),   ARG(n),      ARG(h),
                               ARG(w),        ARG(ho),     ARG(wo),     ARG(in_cstride),
                               ARG(accumulate), ARG(block)};
    const unsigned nargs = sizeof args / sizeof args[0];
    if (st == IRV2_OK) st = set_args(ctx, op->kernel, "conv_fused", nargs, args);
    if (st == IRV2_OK)
        st = ctx_cl_check(ctx,
                          clSetKernelArg(op->kernel, nargs,
                                         (size_t)s->kh * s->kw * s->cin * t.vw * sizeof(float),
                                         NULL),
                          "clSetKernelArg(conv_fused, panel)");
    if (st != IRV2_OK) {
        op_release(op);
        return st;
    }
    op->dims = 2, op->local_one = 1;
    op->gws[0] = (npos + t.vw - 1) / t.vw;
    op->gws[1] = ((size_t)mtiles(s, t) + block - 1) / block;
    return IRV2_OK;
}

int conv_chunks(const conv_shape *s, int kchunk)
{
    return kchunk > 0 && kchunk < s->cin ? (s->cin + kchunk - 1) / kchunk : 1;
}

irv2_status conv_launches(irv2_context *ctx, const conv_shape *s, const conv_form *f,
                          op_epilogue epi, op_buf in, op_buf scratch, cl_mem packed, cl_mem bias,
                          cl_mem scale, cl_mem shift, const conv_out *out, op_launch *ops,
                          int *count)
{
    conv_source src = {in, use_rows(s), 0, s->h, s->w, s->n * s->h * s->w};
    int n = 0, chunks = conv_chunks(s, f->kchunk);
    out_args o;
    *count = 0;
    if (epi.residual && epi.relu1)
        return irv2_fail(IRV2_ERR_UNSUPPORTED, "conv: ReLU before a residual sum");
    irv2_status st = out_args_of(out, s->cout, &o);
    if (st != IRV2_OK) return st;
    if (!scale) scale = bias; /* unread without AFFINE, but every argument must be a buffer */
    if (!shift) shift = bias;
    if (f->panels == 2) {
        st = fused_op(ctx, s, f->tiling, epi, in, packed, bias, scale, shift, &o, ops);
        if (st == IRV2_OK) *count = 1;
        return st;
    }
    if (f->panels) {
        st = panel_ops(ctx, s, f->tiling, epi, in, scratch, packed, bias, scale, shift, &o, ops);
        if (st == IRV2_OK) *count = 2;
        return st;
    }
    if (f->phase) {
        if (conv_phase_scratch(s) == 0)
            return irv2_fail(IRV2_ERR_SHAPE, "conv: no parity-plane form for k%dx%d s%d on %dx%d",
                             s->kh, s->kw, s->stride, s->h, s->w);
        phase_size(s, &src.h, &src.w);
        src = (conv_source){scratch, 0, 1, src.h, src.w, s->n * 4 * src.h * src.w};
        st = phase_split_op(ctx, s, in, scratch, &ops[n]);
        if (st == IRV2_OK) n++;
    }
    for (int k = 0; st == IRV2_OK && k < chunks; k++) {
        int c0 = k * s->cin / chunks, c1 = (k + 1) * s->cin / chunks;
        st = conv_kernel(ctx, s, f->tiling, epi, &src, c0, c1, packed, bias, scale, shift, &o,
                         &ops[n]);
        if (st == IRV2_OK) n++;
    }
    if (st != IRV2_OK) {
        while (n > 0) op_release(&ops[--n]);
        return st;
    }
    *count = n;
    return IRV2_OK;
}

irv2_status conv_op(irv2_context *ctx, const conv_shape *s, conv_tiling t, op_epilogue epi,
                    op_buf in, cl_mem packed, cl_mem bias, cl_mem scale, cl_mem shift,
                    op_buf out, op_launch *op)
{
    conv_form f = {t, 0, 0, 0};
    conv_out o = conv_out_one(out);
    int count;
    return conv_launches(ctx, s, &f, epi, in, (op_buf){0}, packed, bias, scale, shift, &o, op,
                         &count);
}

irv2_status conv_phase_op(irv2_context *ctx, const conv_shape *s, conv_tiling t,
                          op_epilogue epi, op_buf in, op_buf scratch, cl_mem packed,
                          cl_mem bias, cl_mem scale, cl_mem shift, op_buf out,
                          op_launch *split, op_launch *op)
{
    conv_form f = {t, 1, 0, 0};
    conv_out o = conv_out_one(out);
    op_launch ops[2];
    int count;
    irv2_status st = conv_launches(ctx, s, &f, epi, in, scratch, packed, bias, scale, shift, &o,
                                   ops, &count);
    if (st == IRV2_OK) *split = ops[0], *op = ops[1];
    return st;
}
