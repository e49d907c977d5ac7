/* profile.c: reading a device's profile once, and what is derived from it (profile.h). */
#include "runtime/profile.h"

#include <string.h>

void device_profile_derive(device_profile *p)
{
    p->gpu = p->type == DEVICE_GPU;
    p->group_side = 0;
    for (int side = 16; side >= 8 && !p->group_side; side /= 2)
        if (p->max_group >= (size_t)side * side && p->max_items[0] >= (size_t)side &&
            p->max_items[1] >= (size_t)side)
            p->group_side = side;
}

device_vendor device_vendor_of(cl_uint id, const char *name)
{
    static const struct {
        cl_uint id;
        const char *name;
        device_vendor vendor;
    } known[] = {{0x10de, "NVIDIA", VENDOR_NVIDIA},
                 {0x1002, "Advanced Micro Devices", VENDOR_AMD},
                 {0x1022, "AMD", VENDOR_AMD},
                 {0x8086, "Intel", VENDOR_INTEL}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (id == known[i].id) return known[i].vendor;
    for (size_t i = 0; name && i < sizeof known / sizeof known[0]; i++)
        if (strstr(name, known[i].name)) return known[i].vendor;
    return VENDOR_OTHER;
}

static device_type type_of(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU) return DEVICE_GPU;
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return DEVICE_ACCELERATOR;
    if (t & CL_DEVICE_TYPE_CPU) return DEVICE_CPU;
    return DEVICE_OTHER;
}

/* One fixed-size query, unless an earlier one failed. */
static cl_int query(cl_device_id d, cl_device_info what, size_t size, void *out, cl_int err)
{
    return err == CL_SUCCESS ? clGetDeviceInfo(d, what, size, out, NULL) : err;
}

/* The vendor id and string; a failure here is not one: the vendor is then "other". */
static device_vendor read_vendor(cl_device_id d)
{
    cl_uint id = 0;
    char name[128] = "";
    if (clGetDeviceInfo(d, CL_DEVICE_VENDOR_ID, sizeof id, &id, NULL) != CL_SUCCESS) id = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_VENDOR, sizeof name - 1, name, NULL) != CL_SUCCESS)
        name[0] = '\0';
    return device_vendor_of(id, name);
}

cl_int device_profile_read(cl_device_id d, device_profile *p, const char **what)
{
    cl_device_type type = 0;
    cl_device_local_mem_type local = CL_GLOBAL;
    size_t items[3] = {0, 0, 0}, size = 0;
    memset(p, 0, sizeof *p);
    *what = "clGetDeviceInfo(device profile)";
    cl_int err = query(d, CL_DEVICE_TYPE, sizeof type, &type, CL_SUCCESS);
    err = query(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof p->compute_units, &p->compute_units, err);
    err = query(d, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof p->float_width,
                &p->float_width, err);
    err = query(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof p->max_group, &p->max_group, err);
    err = query(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof p->local_mem, &p->local_mem, err);
    err = query(d, CL_DEVICE_LOCAL_MEM_TYPE, sizeof local, &local, err);
    err = query(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof p->global_mem, &p->global_mem, err);
    err = query(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof p->max_alloc, &p->max_alloc, err);
    /* A device with fewer than three dimensions returns fewer sizes: ask for the size first. */
    if (err == CL_SUCCESS)
        err = clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_ITEM_SIZES, 0, NULL, &size);
    if (err == CL_SUCCESS && size > sizeof items) size = sizeof items;
    if (err == CL_SUCCESS) err = clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_ITEM_SIZES, size, items, NULL);
    p->type = type_of(type);
    p->vendor = read_vendor(d);
    p->local_dedicated = local == CL_LOCAL;
    memcpy(p->max_items, items, sizeof items);
    device_profile_derive(p);
    return err;
}
