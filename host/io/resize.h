/* resize.h: PIL's bicubic resampling, computed for a window of the result. */
#ifndef IRV2_RESIZE_H
#define IRV2_RESIZE_H

#include "irv2.h"

/* Resizes src to out_w x out_h with PIL's Image.resize(..., Image.BICUBIC) (Resample.c:
 * a = -0.5, support widened by the scale factor when downscaling, 22-bit fixed-point taps,
 * horizontal pass then vertical pass, rounding and clamping to uint8 after each) and writes
 * only the window [x0, x0 + w) x [y0, y0 + h) of the result into dst (w x h x 3 bytes).
 * Each output pixel is computed exactly as PIL computes it, so the window equals the same
 * window cut from PIL's full-size result; only the rows and columns it needs are computed. */
irv2_status image_resize_window(const irv2_image *src, unsigned out_w, unsigned out_h,
                                unsigned x0, unsigned y0, unsigned w, unsigned h, uint8_t *dst);

#endif
