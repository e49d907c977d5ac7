/* image_size.h: the size limits every image decoder applies before allocating pixels. */
#ifndef IRV2_IMAGE_SIZE_H
#define IRV2_IMAGE_SIZE_H

#include "runtime/error.h"

/* The error for a width x height image over IRV2_IMAGE_MAX_PIXELS (or empty), else IRV2_OK. */
static inline irv2_status image_check_size(const char *path, uint64_t width, uint64_t height)
{
    if (width == 0 || height == 0)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: image is empty (%llu x %llu pixels)", path,
                         (unsigned long long)width, (unsigned long long)height);
    if (width > IRV2_IMAGE_MAX_PIXELS || height > IRV2_IMAGE_MAX_PIXELS ||
        width * height > IRV2_IMAGE_MAX_PIXELS)
        return irv2_fail(IRV2_ERR_SHAPE,
                         "%s: image is %llu x %llu pixels, more than the %u allowed", path,
                         (unsigned long long)width, (unsigned long long)height,
                         IRV2_IMAGE_MAX_PIXELS);
    return IRV2_OK;
}

#endif
