/* device.h: OpenCL device enumeration and device-spec resolution. */
#ifndef IRV2_DEVICE_H
#define IRV2_DEVICE_H

#include "irv2.h"

/* Fills the descriptive fields of info (not index/platform/device/spec). */
void device_describe(cl_platform_id plat, cl_device_id dev, irv2_device_info *info);
/* Whether the device of flat index index has any of the type bits of want. A device may
 * report several types (Oclgrind: CPU | GPU | ACCELERATOR), so the bits are tested, not the
 * one name irv2_device_info shows. 0 when there is no such device. */
int device_is_type(unsigned index, cl_device_type want);
/* spec as in irv2_context_create(). */
irv2_status device_resolve(const char *spec, cl_platform_id *plat, cl_device_id *dev,
                           irv2_device_info *info);

#endif
