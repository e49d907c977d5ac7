/* resize.c: PIL's bicubic Image.resize on 8-bit RGB (Resample.c, re-derived), for a window. */
#include "io/resize.h"

#include "runtime/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Resample.c's fixed point: coefficients are scaled by 2^22 so that 255 x the sum of their
 * magnitudes cannot overflow an int. */
#define PRECISION_BITS (32 - 8 - 2)
#define BICUBIC_SUPPORT 2.0

/* Keys' cubic with a = -0.5, as PIL's bicubic_filter. */
static double bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* The taps of output samples [first, first + count) of an in_size -> out_size resampling:
 * start[i] and len[i] select the inputs, k[i * ksize + j] their fixed-point weights. */
typedef struct taps {
    int ksize;
    int *start, *len;
    int32_t *k;
} taps;

static void taps_free(taps *t)
{
    free(t->start);
    free(t->len);
    free(t->k);
}

/* PIL's precompute_coeffs followed by normalize_coeffs_8bpc, for a range of outputs only. */
static int taps_make(unsigned in_size, unsigned out_size, unsigned first, unsigned count, taps *t)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = BICUBIC_SUPPORT * filterscale;
    memset(t, 0, sizeof *t);
    t->ksize = (int)ceil(support) * 2 + 1;
    t->start = malloc(count * sizeof *t->start);
    t->len = malloc(count * sizeof *t->len);
    t->k = calloc((size_t)count * t->ksize, sizeof *t->k);
    double *w = malloc((size_t)t->ksize * sizeof *w);
    if (!t->start || !t->len || !t->k || !w) {
        free(w);
        taps_free(t);
        return -1;
    }
    for (unsigned i = 0; i < count; i++) {
        double center = (first + i + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > (int)in_size) xmax = (int)in_size;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++) {
            w[x] = bicubic((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        int32_t *k = t->k + (size_t)i * t->ksize;
        for (int x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? w[x] / ww : w[x];
            k[x] = (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS)
                                   : 0.5 + v * (1 << PRECISION_BITS));
        }
        t->start[i] = xmin;
        t->len[i] = xmax;
    }
    free(w);
    return 0;
}

static inline uint8_t clip8(int v)
{
    if (v >= (255 << PRECISION_BITS)) return 255;
    if (v <= 0) return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

/* Horizontal pass: rows of src (stride src_w x 3) -> rows of w pixels through t. */
static void pass_horizontal(const uint8_t *src, unsigned src_w, unsigned rows, const taps *t,
                            unsigned w, uint8_t *dst)
{
    for (unsigned y = 0; y < rows; y++) {
        const uint8_t *in = src + (size_t)y * src_w * 3;
        uint8_t *out = dst + (size_t)y * w * 3;
        for (unsigned x = 0; x < w; x++) {
            const int32_t *k = t->k + (size_t)x * t->ksize;
            const uint8_t *p = in + (size_t)t->start[x] * 3;
            int s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
            for (int j = 0; j < t->len[x]; j++, p += 3) {
                s0 += p[0] * k[j];
                s1 += p[1] * k[j];
                s2 += p[2] * k[j];
            }
            out[x * 3 + 0] = clip8(s0), out[x * 3 + 1] = clip8(s1), out[x * 3 + 2] = clip8(s2);
        }
    }
}

/* Vertical pass: tmp (w x 3 per row, first row = source row row0) -> h rows of dst. */
static void pass_vertical(const uint8_t *tmp, unsigned row0, unsigned w, const taps *t,
                          unsigned h, uint8_t *dst)
{
    size_t stride = (size_t)w * 3;
    for (unsigned y = 0; y < h; y++) {
        const int32_t *k = t->k + (size_t)y * t->ksize;
        const uint8_t *col = tmp + (size_t)(t->start[y] - (int)row0) * stride;
        uint8_t *out = dst + (size_t)y * stride;
        for (size_t c = 0; c < stride; c++) {
            int s = 1 << (PRECISION_BITS - 1);
            for (int j = 0; j < t->len[y]; j++) s += col[(size_t)j * stride + c] * k[j];
            out[c] = clip8(s);
        }
    }
}

irv2_status image_resize_window(const irv2_image *src, unsigned out_w, unsigned out_h,
                                unsigned x0, unsigned y0, unsigned w, unsigned h, uint8_t *dst)
{
    if (!src || !src->pixels || !dst || src->width == 0 || src->height == 0 || out_w == 0 ||
        out_h == 0 || w == 0 || h == 0 || x0 > out_w || w > out_w - x0 || y0 > out_h ||
        h > out_h - y0)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "resize: window outside the output");
    /* Like PIL, a pass whose size does not change is skipped (it would be the identity). */
    int need_h = out_w != src->width, need_v = out_h != src->height;
    taps th = {0}, tv = {0};
    uint8_t *tmp = NULL;
    irv2_status st = IRV2_OK;
    if ((need_h && taps_make(src->width, out_w, x0, w, &th) != 0) ||
        (need_v && taps_make(src->height, out_h, y0, h, &tv) != 0)) {
        st = irv2_fail(IRV2_ERR_HOST_MEMORY, "resize: out of memory");
        goto done;
    }
    /* Source rows the vertical pass reads: [row0, row1). */
    unsigned row0 = need_v ? (unsigned)tv.start[0] : y0;
    unsigned row1 = need_v ? (unsigned)(tv.start[h - 1] + tv.len[h - 1]) : y0 + h;
    const uint8_t *rows = src->pixels + (size_t)row0 * src->width * 3;
    if (!need_v) {
        if (need_h) {
            pass_horizontal(rows, src->width, h, &th, w, dst);
        } else {
            for (unsigned y = 0; y < h; y++)
                memcpy(dst + (size_t)y * w * 3, rows + ((size_t)y * src->width + x0) * 3,
                       (size_t)w * 3);
        }
        goto done;
    }
    tmp = malloc((size_t)(row1 - row0) * w * 3);
    if (!tmp) {
        st = irv2_fail(IRV2_ERR_HOST_MEMORY, "resize: out of memory");
        goto done;
    }
    if (need_h) {
        pass_horizontal(rows, src->width, row1 - row0, &th, w, tmp);
    } else {
        for (unsigned y = 0; y < row1 - row0; y++)
            memcpy(tmp + (size_t)y * w * 3, rows + ((size_t)y * src->width + x0) * 3,
                   (size_t)w * 3);
    }
    pass_vertical(tmp, row0, w, &tv, h, dst);
done:
    free(tmp);
    taps_free(&th);
    taps_free(&tv);
    return st;
}
