/* image_png.h: the PNG decoder. */
#ifndef IRV2_IMAGE_PNG_H
#define IRV2_IMAGE_PNG_H

#include "irv2.h"

#include <stdio.h>

/* Decodes an open file positioned at its start into img (pixels malloc'ed). On failure img is
 * left zeroed, nothing leaks, and the message names path. */
irv2_status image_decode_png(FILE *file, const char *path, irv2_image *img);

#endif
