/* conv.c: convolution shapes and the making of forms (conv.h); the questions about forms are
 * answered by the table of families (conv_family.c). */
#include "ops/conv.h"

#include "runtime/window.h"

#include <string.h>

/* ---- shapes and forms ---- */

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

int conv_is_gemm(const conv_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->stride == 1 && s->ph == 0 && s->pw == 0;
}

conv_form conv_vec_form(conv_family_id family, int vw, int tm, int kchunk)
{
    conv_form f;
    memset(&f, 0, sizeof f);
    f.family = family, f.p.vec = (conv_vec_params){vw, tm, kchunk};
    return f;
}

conv_form conv_wg_form(int positions, int channels, int slices)
{
    conv_form f;
    memset(&f, 0, sizeof f);
    f.family = CONV_WG, f.p.wg = (conv_wg_params){positions, channels, slices};
    return f;
}

conv_form conv_simt_form(int positions, int channels, int parts)
{
    conv_form f = conv_wg_form(positions, channels, parts);
    f.family = CONV_SIMT;
    return f;
}

conv_form conv_clblast_form(void)
{
    conv_form f;
    memset(&f, 0, sizeof f);
    f.family = CONV_CLBLAST;
    return f;
}

conv_form conv_clblast_im2col_form(void)
{
    conv_form f = conv_clblast_form();
    f.p.clblast.im2col = 1;
    return f;
}
