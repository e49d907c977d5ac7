/* classifier.c: the fused global average pool and classifier (cl/classifier.cl): when the
 * plan offers it, its form, its weight packing and its launch. */
#include "ops/classifier.h"

#include <stdio.h>
#include <string.h>

/* Classes per work-group at most, features per slice of the reduction, and the work-items
 * summing one plane (cl/classifier.cl's LANES): a group is at least that many. */
enum { CLASSIFIER_GROUP = 128, CLASSIFIER_SLICE = 64, CLASSIFIER_LANES = 8 };

int classifier_offered(const irv2_context *ctx, unsigned batch)
{
    /* not in the compact set: its programs are specialised by batch, and that set keeps one
     * program per cl/ file */
    return ctx_prefers_wg(ctx) && !(ctx->kernels & KERNELS_COMPACT_BIT) && batch >= 1 &&
           batch <= CLASSIFIER_MAX_BATCH && classifier_form_for(ctx).group > 0;
}

classifier_form classifier_form_for(const irv2_context *ctx)
{
    size_t cap = ctx->profile.max_group, g = CLASSIFIER_LANES;
    if (ctx->profile.max_items[0] < cap) cap = ctx->profile.max_items[0];
    if (cap < CLASSIFIER_LANES) return (classifier_form){0, 0};
    while (g * 2 <= cap && g * 2 <= CLASSIFIER_GROUP) g *= 2;
    return (classifier_form){(int)g, CLASSIFIER_SLICE};
}

static int blocks_of(const classifier_shape *s, const classifier_form *f)
{
    return (s->classes + f->group - 1) / f->group;
}

static int slices_of(const classifier_shape *s, const classifier_form *f)
{
    return (s->features + f->slice - 1) / f->slice;
}

size_t classifier_packed_count(const classifier_shape *s, const classifier_form *f)
{
    const size_t padded = (size_t)blocks_of(s, f) * f->group;
    return (size_t)s->features * padded + (size_t)blocks_of(s, f) + 1;
}

void classifier_pack(const classifier_shape *s, const classifier_form *f, const float *w,
                     float *packed)
{
    const size_t padded = (size_t)blocks_of(s, f) * f->group;
    for (int c = 0; c < s->features; c++)
        for (size_t k = 0; k < padded; k++)
            packed[c * padded + k] = (int)k < s->classes ? w[k * s->features + c] : 0.0f;
    /* the counters: float 0.0f is int 0 */
    memset(packed + (size_t)s->features * padded, 0,
           ((size_t)blocks_of(s, f) + 1) * sizeof(float));
}

size_t classifier_partials(const classifier_shape *s, const classifier_form *f)
{
    return (size_t)blocks_of(s, f) * slices_of(s, f) * s->n * f->group;
}

irv2_status classifier_op(irv2_context *ctx, const classifier_shape *s, const classifier_form *f,
                          classifier_out what, op_buf in, cl_mem packed, cl_mem bias,
                          cl_mem partials, op_buf out, op_launch *op)
{
    memset(op, 0, sizeof *op);
    if (s->features <= 0 || s->classes <= 0 || s->h <= 0 || s->w <= 0 || s->n <= 0 ||
        s->n > CLASSIFIER_MAX_BATCH || f->group < CLASSIFIER_LANES || f->slice <= 0 ||
        (f->group & (f->group - 1)) || (unsigned)what > CLASSIFIER_SOFTMAX)
        return irv2_fail(IRV2_ERR_SHAPE, "classifier: unsupported %d features of %dx%d, %d "
                         "classes, batch %d", s->features, s->h, s->w, s->classes, s->n);
    const size_t padded = (size_t)blocks_of(s, f) * f->group;
    char opts[112];
    snprintf(opts, sizeof opts, "-DGROUP=%d -DSLICE=%d -DNB=%d -DSPLIT=%d -DHEAD=%d", f->group,
             f->slice, s->n, slices_of(s, f) > 1, (int)what);
    cl_uint in_off = (cl_uint)in.off, out_off = (cl_uint)out.off;
    cl_uint count_off = (cl_uint)((size_t)s->features * padded);
    cl_int features = s->features, hw = s->h * s->w, classes = s->classes, kp = (cl_int)padded;
    const kernel_arg args[] = {ARG(in.mem),   ARG(in_off),   ARG(packed),  ARG(bias),
                               ARG(packed),   ARG(count_off), ARG(partials), ARG(out.mem),
                               ARG(out_off),  ARG(features), ARG(hw),       ARG(classes),
                               ARG(kp)};
    irv2_status st = op_kernel(ctx, "classifier.cl", opts, "classifier",
                               sizeof args / sizeof args[0], args, op);
    if (st == IRV2_OK) st = op_check_group(ctx, op->kernel, "classifier", (size_t)f->group);
    if (st != IRV2_OK) {
        op_release(op);
        return st;
    }
    op->dims = 2;
    op->gws[0] = (size_t)slices_of(s, f) * f->group, op->gws[1] = (size_t)blocks_of(s, f);
    op->lws[0] = (size_t)f->group, op->lws[1] = 1;
    return IRV2_OK;
}
