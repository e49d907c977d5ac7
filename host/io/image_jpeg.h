/* image_jpeg.h: the JPEG decoder. */
#ifndef IRV2_IMAGE_JPEG_H
#define IRV2_IMAGE_JPEG_H

#include "irv2.h"

#include <stdio.h>

/* Decodes an open file positioned at its start into img (pixels malloc'ed). On failure img is
 * left zeroed, nothing leaks, and the message names path. */
irv2_status image_decode_jpeg(FILE *file, const char *path, irv2_image *img);

#endif
