/* image.h: internal image helpers: the JPEG and PNG decoders and PIL's bicubic resampling. */
#ifndef IRV2_IMAGE_H
#define IRV2_IMAGE_H

#include "irv2.h"

#include <stdio.h>

/* Decode an open file positioned at its start into img (pixels malloc'ed). On failure img is
 * left zeroed, nothing leaks, and the message names path. */
irv2_status image_decode_jpeg(FILE *file, const char *path, irv2_image *img);
irv2_status image_decode_png(FILE *file, const char *path, irv2_image *img);

/* The error for a width x height image over IRV2_IMAGE_MAX_PIXELS (or empty), else IRV2_OK. */
irv2_status image_check_size(const char *path, uint64_t width, uint64_t height);

/* Resizes src to out_w x out_h with PIL's Image.resize(..., Image.BICUBIC) (Resample.c:
 * a = -0.5, support widened by the scale factor when downscaling, 22-bit fixed-point taps,
 * horizontal pass then vertical pass, rounding and clamping to uint8 after each) and writes
 * only the window [x0, x0 + w) x [y0, y0 + h) of the result into dst (w x h x 3 bytes).
 * Each output pixel is computed exactly as PIL computes it, so the window equals the same
 * window cut from PIL's full-size result; only the rows and columns it needs are computed. */
irv2_status image_resize_window(const irv2_image *src, unsigned out_w, unsigned out_h,
                                unsigned x0, unsigned y0, unsigned w, unsigned h, uint8_t *dst);

#endif
