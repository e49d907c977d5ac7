/* conv_common.h: what the vector conv kernels (cl/conv_direct.cl, cl/conv_gemm.cl) share:
 * the fmas of one reduction term, the vector epilogue and the store of a tile. Needs lanes.h,
 * conv_out.h, TM and the epilogue flags RELU1, AFFINE, RELU2 (see net.h). */

/* acc[m] += w[m] * x for the TM output channels of one reduction term. */
static void fma_tile(floatV *acc, __global const float *w, floatV x)
{
#pragma unroll
    for (int m = 0; m < TM; m++) acc[m] = fma((floatV)(w[m]), x, acc[m]);
}

/* The last chunk over the input channels adds the bias and applies the activations. */
DEFINE_FINISH(finish_value, floatV)

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
