/* conv_common.h: what the conv kernels (cl/conv_direct.cl, cl/conv_gemm.cl) share: the fmas
 * of one reduction term, the epilogue, the output parts and the store of a tile. Needs
 * lanes.h, TM and the epilogue flags RELU1, AFFINE, RELU2 (see net.h).
 *
 * Output parts: output channels [0, seg1) start at off0, [seg1, seg2) at off1 and
 * [seg2, cout) at off2, each with the same channel stride, so sibling convs that read the same
 * input run as one (their weights stacked) while each writes its own tensor; a single conv
 * passes seg1 = seg2 = cout. */

/* acc[m] += w[m] * x for the TM output channels of one reduction term. */
static void fma_tile(floatV *acc, __global const float *w, floatV x)
{
#pragma unroll
    for (int m = 0; m < TM; m++) acc[m] = fma((floatV)(w[m]), x, acc[m]);
}

/* The per-channel parameters of the epilogue (scale, shift read only with AFFINE). */
typedef struct conv_epi {
    __global const float *bias, *scale, *shift;
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

/* The last chunk over the input channels adds the bias and applies the activations. */
static floatV finish_value(floatV v, int co, conv_epi e)
{
    v += e.bias[co];
#ifdef RELU1
    v = fmax(v, 0.0f);
#endif
#ifdef AFFINE
    v = fma(v, (floatV)(e.scale[co]), (floatV)(e.shift[co]));
#endif
#ifdef RELU2
    v = fmax(v, 0.0f);
#endif
    return v;
}

/* Stores r as output channel co: contiguous at dst when idx is NULL (the first `count`
 * lanes), else lane l at dst[idx[l]] where idx[l] >= 0. Adds what is there when
 * accumulating; applies the epilogue on the last chunk (finish). */
static void store_tile(floatV r, __global float *dst, const int *idx, int count, int co,
                       int accumulate, int finish, conv_epi e)
{
    float v[VW];
    const int whole = !idx && count == VW;
    if (accumulate) {
        if (whole) {
            r += vloadV(0, dst);
        } else {
            for (int l = 0; l < VW; l++)
                v[l] = idx ? (idx[l] >= 0 ? dst[idx[l]] : 0.0f) : (l < count ? dst[l] : 0.0f);
            r += vloadV(0, v);
        }
    }
    if (finish) r = finish_value(r, co, e);
    if (whole) {
        vstoreV(r, 0, dst);
        return;
    }
    vstoreV(r, 0, v);
    for (int l = 0; l < VW; l++) {
        if (idx && idx[l] >= 0) dst[idx[l]] = v[l];
        else if (!idx && l < count) dst[l] = v[l];
    }
}

/* Stores the TM channels of output-channel tile mt that lie below d->cout, channel co's lanes
 * from out_start(co) + pos, as store_tile places them (idx, count). */
static void store_channels(const floatV *acc, int mt, const conv_dst *d, int pos,
                           const int *idx, int count, int accumulate, int finish, conv_epi e)
{
    for (int m = 0; m < TM; m++) {
        const int co = mt * TM + m;
        if (co >= d->cout) break;
        store_tile(acc[m], d->out + out_start(d, co) + pos, idx, count, co, accumulate, finish,
                   e);
    }
}
