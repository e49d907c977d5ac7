/* im2col.h: packing one tap (kh, kw) of a tile of VW output positions into a panel, the rows
 * [c * VW + lane] for the input channels c (pack_im2col in cl/pack.cl into scratch,
 * conv_fused in cl/conv_gemm.cl into local memory). Needs lanes.h, SH, PH and PW; SY and SX,
 * the strides down columns and along rows, default to SH (cl/winograd_fused.cl sets them apart).
 *
 * The tile's lanes are positions p0.. of the flattened N x Ho x Wo grid. When Wo >= VW a tile
 * spans at most two output rows, so each channel takes two row loads blended by lane;
 * narrower outputs gather lane by lane. Lanes outside the image or past the last image are
 * zero (never loaded into the panel, so a NaN in guard memory cannot leak into them). */

#ifndef SY
#define SY SH
#endif

/* The positions of the tile starting at p0: per lane its image, output row and column; the
 * tile spans row a (holding lane 0) and row b (from lane lb on). */
typedef struct tile_geometry {
    intV n, oy, ox; /* per lane */
    int n0, oy0, ox0; /* lane 0's */
    int lb, nb, oyb;  /* the first lane of row b, its image and output row */
    intV in_a;        /* lanes in row a */
} tile_geometry;

/* plane: Ho * Wo, the positions of one image. */
static tile_geometry tile_geometry_of(int p0, int plane, int Wo)
{
    tile_geometry g;
    const intV p = p0 + LANES;
    g.n = p / plane;
    const intV r = p - g.n * plane;
    g.oy = r / Wo;
    g.ox = r - g.oy * Wo;
    g.n0 = p0 / plane;
    const int r0 = p0 - g.n0 * plane;
    g.oy0 = r0 / Wo;
    g.ox0 = r0 - g.oy0 * Wo;
    g.lb = Wo - g.ox0;
    const int pb = p0 + g.lb;
    g.nb = pb / plane;
    g.oyb = (pb - g.nb * plane) / Wo;
    g.in_a = LANES < g.lb;
    return g;
}

/* Where tap (kh, kw) of a tile reads input channel 0: with rows, row a's lanes from ra and
 * row b's from rb (a row outside the image borrows the other's pointer; its lanes are
 * invalid); else lane l from off[l], -1 where it is zero. valid: lanes inside an image. */
typedef struct tap_source {
    int rows;
    __global const float *ra, *rb;
    intV valid, in_a, off;
} tap_source;

/* src: the input [cin][nimg][H][W] (channel 0). */
static tap_source tap_source_of(__global const float *src, const tile_geometry *g, int kh,
                                int kw, int nimg, int H, int W, int Wo)
{
    tap_source t;
    const intV iy = g->oy * SY + kh - PH, ix = g->ox * SX + kw - PW;
    t.valid = (g->n < nimg) & (iy >= 0) & (iy < H) & (ix >= 0) & (ix < W);
    t.in_a = g->in_a;
    const int iya = g->oy0 * SY + kh - PH, iyb = g->oyb * SY + kh - PH;
    const int a_ok = g->n0 < nimg && iya >= 0 && iya < H;
    const int b_ok = g->nb < nimg && iyb >= 0 && iyb < H;
    const int base_a = (g->n0 * H + iya) * W + g->ox0 * SX + kw - PW;
    const int base_b = (g->nb * H + iyb) * W + kw - PW - g->lb * SX;
    t.rows = Wo >= VW && (a_ok || b_ok);
    t.ra = src + (a_ok ? base_a : base_b);
    t.rb = src + (b_ok ? base_b : base_a);
    if (!t.rows) t.off = select((intV)(-1), (g->n * H + iy) * W + ix, t.valid);
    return t;
}

/* The tap's lanes of the input channel at offset o (rows case). */
static floatV tap_row(const tap_source *t, size_t o)
{
    const floatV v = select(load_row(t->rb + o), load_row(t->ra + o), t->in_a);
    return select((floatV)(0.0f), v, t->valid);
}

/* Defines NAME(dst, src, t, cin, in_cstride), which packs the tap for input channels c < cin
 * (in_cstride floats apart in src) into dst[c * VW + lane], dst in address space SPACE:
 * OpenCL 1.2 has no generic one, so each space gets its own copy. */
#define DEFINE_PACK_TAP(NAME, SPACE)                                                          \
    static void NAME(SPACE float *dst, __global const float *src, const tap_source *t,        \
                     int cin, int in_cstride)                                                 \
    {                                                                                         \
        if (t->rows) {                                                                        \
            for (int c = 0; c < cin; c++)                                                     \
                vstoreV(tap_row(t, (size_t)c * in_cstride), 0, dst + c * VW);                 \
            return;                                                                           \
        }                                                                                     \
        int off[VW];                                                                          \
        vstoreV(t->off, 0, off);                                                              \
        for (int c = 0; c < cin; c++)                                                         \
            for (int l = 0; l < VW; l++)                                                      \
                dst[c * VW + l] = off[l] >= 0 ? src[(size_t)c * in_cstride + off[l]] : 0.0f;  \
    }
