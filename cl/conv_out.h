/* conv_out.h: what every conv kernel family shares: where an output channel goes (the output
 * parts) and the epilogue. Its epilogue applies the steps cl/epilogue.h selects.
 *
 * Output parts: output channels [0, seg1) start at off0, [seg1, seg2) at off1 and
 * [seg2, cout) at off2, each with the same channel stride, so sibling convs that read the same
 * input run as one (their weights stacked) while each writes its own tensor; a single conv
 * passes seg1 = seg2 = cout.
 * Needs cl/epilogue.h included before it (a header here includes no header). */

/* The per-channel parameters of the epilogue (scale, shift read only with AFFINE), and its
 * flag bits where they are an argument (EPI_ARG; unread otherwise). */
typedef struct conv_epi {
    __global const float *bias, *scale, *shift;
    int flags;
} conv_epi;

/* Where a kernel's output channels go: the output parts above, channels cstride floats
 * apart, channels from cout on dropped. */
typedef struct conv_dst {
    __global float *out;
    uint off0, off1, off2;
    int seg1, seg2, cout;
    size_t cstride;
} conv_dst;

static conv_dst conv_dst_of(__global float *out, uint off0, int seg1, uint off1, int seg2,
                            uint off2, int cout, size_t cstride)
{
    const conv_dst d = {out, off0, off1, off2, seg1, seg2, cout, cstride};
    return d;
}

/* Where output channel co starts in d->out. */
static size_t out_start(const conv_dst *d, int co)
{
    return co < d->seg1   ? d->off0 + co * d->cstride
           : co < d->seg2 ? d->off1 + (co - d->seg1) * d->cstride
                          : d->off2 + (co - d->seg2) * d->cstride;
}

/* DEFINE_FINISH(name, T) defines `T name(T v, int co, conv_epi e)`, the epilogue of the last
 * chunk over the input channels on v of type T (float or a float vector): the bias, then the
 * activations the flags (cl/epilogue.h) ask for. */
#define DEFINE_FINISH(name, T)                                                                 \
    static T name(T v, int co, conv_epi e)                                                     \
    {                                                                                          \
        v += e.bias[co];                                                                       \
        if (EPI_RELU1_ON(e.flags)) v = fmax(v, 0.0f);                                          \
        if (EPI_AFFINE_ON(e.flags)) v = fma(v, (T)(e.scale[co]), (T)(e.shift[co]));            \
        if (EPI_RELU2_ON(e.flags)) v = fmax(v, 0.0f);                                          \
        return v;                                                                              \
    }
