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

/* Builds the conv kernel for a lane layout and sets its arguments. h, w are the sizes the
 * kernel indexes (the parity planes' for phase mode); in_cstride the input channel stride. */
static irv2_status conv_kernel(irv2_context *ctx, const conv_shape *s, conv_tiling t,
                               op_epilogue epi, int rows, int phase, op_buf in, int h, int w,
                               int in_cstride, cl_mem packed, cl_mem bias, cl_mem scale,
                               cl_mem shift, op_buf out, op_launch *op)
{
    char eflags[96], opts[256];
    memset(op, 0, sizeof *op);
    epilogue_flags(epi, eflags, sizeof eflags);
    snprintf(opts, sizeof opts,
             "-DVW=%d -DTM=%d -DKH=%d -DKW=%d -DSH=%d -DPH=%d -DPW=%d -DROWS=%d -DPHASE=%d%s",
             t.vw, t.tm, s->kh, s->kw, s->stride, s->ph, s->pw, rows, phase, eflags);
    irv2_status st = ctx_kernel(ctx, "conv.cl", opts, "conv", &op->kernel);
    if (st != IRV2_OK) return st;
    if (!scale) scale = bias;
    if (!shift) shift = bias;
    cl_uint in_off = (cl_uint)in.off, out_off = (cl_uint)out.off;
    cl_int out_cstride = s->n * s->ho * s->wo;
    const kernel_arg args[] = {ARG(in.mem),  ARG(in_off),  ARG(packed),     ARG(bias),
                               ARG(scale),   ARG(shift),   ARG(out.mem),    ARG(out_off),
                               ARG(s->cin),  ARG(s->cout), ARG(h),          ARG(w),
                               ARG(s->ho),   ARG(s->wo),   ARG(in_cstride), ARG(out_cstride)};
    st = set_args(ctx, op->kernel, "conv", sizeof args / sizeof args[0], args);
    if (st != IRV2_OK) {
        op_release(op);
        return st;
    }
    op->dims = 3;
    op->local_one = 1;
    op->gws[0] = (size_t)mtiles(s, t);
    op->gws[1] = rows ? (size_t)s->ho * ((s->wo + t.vw - 1) / t.vw)
                      : ((size_t)s->ho * w + t.vw - 1) / t.vw;
    op->gws[2] = (size_t)s->n;
    return IRV2_OK;
}

irv2_status conv_op(irv2_context *ctx, const conv_shape *s, conv_tiling t, op_epilogue epi,
                    op_buf in, cl_mem packed, cl_mem bias, cl_mem scale, cl_mem shift,
                    op_buf out, op_launch *op)
{
    return conv_kernel(ctx, s, t, epi, use_rows(s), 0, in, s->h, s->w, s->n * s->h * s->w,
                       packed, bias, scale, shift, out, op);
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

irv2_status conv_phase_op(irv2_context *ctx, const conv_shape *s, conv_tiling t,
                          op_epilogue epi, op_buf in, op_buf scratch, cl_mem packed,
                          cl_mem bias, cl_mem scale, cl_mem shift, op_buf out,
                          op_launch *split, op_launch *op)
{
    int hp, wp;
    phase_size(s, &hp, &wp);
    memset(split, 0, sizeof *split);
    if (conv_phase_scratch(s) == 0)
        return irv2_fail(IRV2_ERR_SHAPE, "conv: no parity-plane form for k%dx%d s%d on %dx%d",
                         s->kh, s->kw, s->stride, s->h, s->w);
    irv2_status st = ctx_kernel(ctx, "conv.cl", "-DVW=8 -DTM=1 -DKH=1 -DKW=1 -DSH=1 -DPH=0 "
                                                "-DPW=0 -DROWS=0 -DPHASE=0",
                                "phase_split", &split->kernel);
    if (st != IRV2_OK) return st;
    cl_uint in_off = (cl_uint)in.off, s_off = (cl_uint)scratch.off;
    const kernel_arg args[] = {ARG(in.mem), ARG(in_off), ARG(scratch.mem), ARG(s_off),
                               ARG(s->h),   ARG(s->w),   ARG(hp),          ARG(wp)};
    st = set_args(ctx, split->kernel, "phase_split", sizeof args / sizeof args[0], args);
    if (st == IRV2_OK) {
        split->dims = 3;
        split->gws[0] = (size_t)wp, split->gws[1] = (size_t)hp;
        split->gws[2] = (size_t)s->cin * s->n;
        st = conv_kernel(ctx, s, t, epi, 0, 1, scratch, hp, wp, s->n * 4 * hp * wp, packed, bias,
                         scale, shift, out, op);
    }
    if (st != IRV2_OK) op_release(split);
    return st;
}
