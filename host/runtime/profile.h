/* profile.h: what irv2 knows of a device, read once when a context is made: a plain struct
 * that a test or a tool can also fill by hand (for a device it does not have) and complete
 * with device_profile_derive. The kernel families read only this. */
#ifndef IRV2_PROFILE_H
#define IRV2_PROFILE_H

#include "irv2.h"

typedef enum device_type {
    DEVICE_OTHER,
    DEVICE_CPU,        /* CL_DEVICE_TYPE_CPU */
    DEVICE_GPU,        /* CL_DEVICE_TYPE_GPU (a device with several type bits counts as a GPU
                          where it has that one) */
    DEVICE_ACCELERATOR /* CL_DEVICE_TYPE_ACCELERATOR */
} device_type;

typedef enum device_vendor { VENDOR_OTHER, VENDOR_NVIDIA, VENDOR_AMD, VENDOR_INTEL } device_vendor;

typedef struct device_profile {
    device_type type;
    device_vendor vendor;   /* from CL_DEVICE_VENDOR_ID, else the vendor string */
    cl_uint compute_units;  /* CL_DEVICE_MAX_COMPUTE_UNITS */
    cl_uint float_width;    /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT */
    size_t max_group;       /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t max_items[3];    /* CL_DEVICE_MAX_WORK_ITEM_SIZES, first three dimensions */
    cl_ulong local_mem;     /* CL_DEVICE_LOCAL_MEM_SIZE */
    int local_dedicated;    /* CL_DEVICE_LOCAL_MEM_TYPE is CL_LOCAL (not global memory) */
    cl_ulong global_mem;    /* CL_DEVICE_GLOBAL_MEM_SIZE */
    cl_ulong max_alloc;     /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    /* derived (device_profile_derive) */
    int gpu;                /* type == DEVICE_GPU */
    int group_side;         /* the side of the square work-groups it runs: 16 where it takes
                               256 work-items per group (16 x 16), else 8 (64), else 0 */
} device_profile;

/* Fills the derived fields from the others. */
void device_profile_derive(device_profile *p);
/* The vendor of a PCI vendor id (CL_DEVICE_VENDOR_ID), else of a vendor string. */
device_vendor device_vendor_of(cl_uint id, const char *name);
/* Reads the profile of device d (derived fields included); on failure returns the OpenCL
 * error and sets *what to the query that failed. */
cl_int device_profile_read(cl_device_id d, device_profile *p, const char **what);

#endif
