/* conv_common.h: what the vector conv kernels (cl/conv_direct.cl, cl/conv_gemm.cl,
 * cl/winograd.cl) share: the fmas of one reduction term, the vector epilogue and the store of a
 * tile. Needs lanes.h, conv_out.h and the epilogue flags RELU1, AFFINE, RELU2 (see net.h);
 * TM's default is here, the one place for every file that includes it. */

#ifndef TM
#define TM 8 // output channels per work-item
#endif

/* acc[m] += w[m] * x for the TM output channels of one reduction term. */
static void fma_tile(floatV *acc, __global const float *w, floatV x)
{
#pragma unroll
    for (int m = 0; m < TM; m++) acc[m] = fma((floatV)(w[m]), x, acc[m]);
}

/* The same for two tiles of VW positions sharing each broadcast weight. */
static void fma_tile2(floatV *acc, floatV *acc2, __global const float *w, floatV x, floatV y)
{
#pragma unroll
    for (int m = 0; m < TM; m++) {
        const floatV wm = (floatV)(w[m]);
        acc[m] = fma(wm, x, acc[m]);
        acc2[m] = fma(wm, y, acc2[m]);
    }
}

/* The last chunk over the input channels adds the bias and applies the activations. */
DEFINE_FINISH(finish_value, floatV)

/* Stores r as output channel co: lane l at dst[idx[l]] where idx[l] >= 0. When whole, the
 * caller vouches that idx is idx.s0 + LANES (every lane wanted, contiguous), and the tile goes
 * out as one vector. Adds what is there when accumulating; applies the epilogue on the last
 * chunk (finish). The lane positions travel as a vector, never as a pointer that may be NULL:
 * Intel's CPU compiler (2026.2) crashed vectorizing a select between NULL and a private
 * array. */
static void store_tile(floatV r, __global float *dst, intV idx, int whole, int co,
                       int accumulate, int finish, conv_epi e)
{
    if (whole) {
        dst += idx.s0;
        if (accumulate) r += vloadV(0, dst);
        if (finish) r = finish_value(r, co, e);
        vstoreV(r, 0, dst);
        return;
    }
    int o[VW];
    float v[VW];
    vstoreV(idx, 0, o);
    if (accumulate) {
        for (int l = 0; l < VW; l++) v[l] = o[l] >= 0 ? dst[o[l]] : 0.0f;
        r += vloadV(0, v);
    }
    if (finish) r = finish_value(r, co, e);
    vstoreV(r, 0, v);
    for (int l = 0; l < VW; l++)
        if (o[l] >= 0) dst[o[l]] = v[l];
}

/* The lane positions of a tile whose first `count` lanes are contiguous from its start. */
static intV first_lanes(int count) { return select((intV)(-1), LANES, LANES < count); }

/* Stores the TM channels of output-channel tile mt that lie below d->cout, channel co's lanes
 * at out_start(co) + pos, as store_tile places them (idx, whole). */
static void store_channels(const floatV *acc, int mt, const conv_dst *d, int pos, intV idx,
                           int whole, int accumulate, int finish, conv_epi e)
{
    for (int m = 0; m < TM; m++) {
        const int co = mt * TM + m;
        if (co >= d->cout) break;
        store_tile(acc[m], d->out + out_start(d, co) + pos, idx, whole, co, accumulate, finish,
                   e);
    }
}
