/* device.c: enumerating OpenCL platforms and devices, and resolving a device spec
 * ("cpu", "gpu", "accelerator", a flat index, "P:D", or the IRV2_DEVICE default). */
#include "runtime/device.h"

#include "runtime/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

/* All devices in platform order; count 0 gives IRV2_ERR_NO_PLATFORM. */
static irv2_status list_devices(cl_platform_id *plats, cl_device_id *devs, unsigned *plat_of,
                                unsigned *dev_in_plat, unsigned *count)
{
    cl_uint np = 0;
    *count = 0;
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, plats, &np);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && np == 0))
        return irv2_fail(IRV2_ERR_NO_PLATFORM, "no OpenCL platform found (is an ICD such as "
                                               "pocl-opencl-icd installed?)");
    if (err != CL_SUCCESS)
        return irv2_fail(IRV2_ERR_NO_PLATFORM, "clGetPlatformIDs failed (%d)", (int)err);
    if (np > MAX_PLATFORMS) np = MAX_PLATFORMS;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        cl_device_id *slot = devs + *count;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES - *count, slot, &nd) !=
            CL_SUCCESS)
            continue;
        if (nd > MAX_DEVICES - *count) nd = MAX_DEVICES - *count;
        for (cl_uint d = 0; d < nd; d++) {
            plat_of[*count + d] = p;
            dev_in_plat[*count + d] = d;
        }
        *count += nd;
    }
    if (*count == 0) return irv2_fail(IRV2_ERR_NO_PLATFORM, "no OpenCL device found");
    return IRV2_OK;
}

static void get_str(cl_device_id d, cl_device_info what, char *dst, size_t cap)
{
    dst[0] = '\0';
    if (clGetDeviceInfo(d, what, cap, dst, NULL) != CL_SUCCESS) dst[0] = '\0';
    dst[cap - 1] = '\0';
}

void device_describe(cl_platform_id plat, cl_device_id d, irv2_device_info *info)
{
    cl_device_type type = 0;
    cl_uint cu = 0;
    cl_ulong gmem = 0, maxalloc = 0;
    cl_bool compiler = CL_FALSE;
    char ext[8192];
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof maxalloc, &maxalloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL);
    info->type = (type & CL_DEVICE_TYPE_GPU)           ? "GPU"
                 : (type & CL_DEVICE_TYPE_CPU)         ? "CPU"
                 : (type & CL_DEVICE_TYPE_ACCELERATOR) ? "ACCELERATOR"
                                                       : "OTHER";
    get_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    get_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    get_str(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
    get_str(d, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
    get_str(d, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
    info->platform_name[0] = '\0';
    if (clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof info->platform_name,
                          info->platform_name, NULL) != CL_SUCCESS)
        info->platform_name[0] = '\0';
    info->platform_name[sizeof info->platform_name - 1] = '\0';
    info->compute_units = cu;
    info->global_mem_bytes = gmem;
    info->max_alloc_bytes = maxalloc;
    info->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
    info->compiler_available = compiler == CL_TRUE;
}

irv2_status irv2_device_count(unsigned *count)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_device_id devs[MAX_DEVICES];
    unsigned pof[MAX_DEVICES], dip[MAX_DEVICES];
    irv2_clear_error();
    if (!count) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_device_count: NULL count");
    return list_devices(plats, devs, pof, dip, count);
}

static irv2_status device_at(unsigned index, cl_platform_id *plat, cl_device_id *dev,
                             irv2_device_info *info)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_device_id devs[MAX_DEVICES];
    unsigned pof[MAX_DEVICES], dip[MAX_DEVICES], n;
    irv2_status st = list_devices(plats, devs, pof, dip, &n);
    if (st != IRV2_OK) return st;
    if (index >= n)
        return irv2_fail(IRV2_ERR_DEVICE_SPEC, "device %u: no such device (%u available)", index,
                         n);
    *plat = plats[pof[index]];
    *dev = devs[index];
    memset(info, 0, sizeof *info);
    device_describe(*plat, *dev, info);
    info->index = index;
    info->platform = pof[index];
    info->device = dip[index];
    snprintf(info->spec, sizeof info->spec, "%u:%u", pof[index], dip[index]);
    return IRV2_OK;
}

irv2_status irv2_device_info_get(unsigned index, irv2_device_info *info)
{
    cl_platform_id p;
    cl_device_id d;
    irv2_clear_error();
    if (!info) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_device_info_get: NULL info");
    return device_at(index, &p, &d, info);
}

static int parse_uint(const char *s, const char *end, unsigned *out)
{
    if (s == end || end - s > 6) return 0;
    unsigned v = 0;
    for (; s < end; s++) {
        if (!isdigit((unsigned char)*s)) return 0;
        v = v * 10 + (unsigned)(*s - '0');
    }
    *out = v;
    return 1;
}

int device_is_type(unsigned index, cl_device_type want)
{
    irv2_device_info info;
    cl_platform_id p;
    cl_device_id d = NULL;
    cl_device_type type = 0;
    return device_at(index, &p, &d, &info) == IRV2_OK &&
           clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL) == CL_SUCCESS &&
           (type & want) != 0;
}

/* The flat index of the first device of a type of want (device_is_type), or n if none. */
static unsigned first_of_type(unsigned n, cl_device_type want)
{
    for (unsigned i = 0; i < n; i++)
        if (device_is_type(i, want)) return i;
    return n;
}

irv2_status device_resolve(const char *spec, cl_platform_id *plat, cl_device_id *dev,
                           irv2_device_info *info)
{
    unsigned n, index;
    irv2_status st = irv2_device_count(&n);
    if (st != IRV2_OK) return st;
    if (!spec || !*spec) {
        index = first_of_type(n, CL_DEVICE_TYPE_GPU);
        return device_at(index < n ? index : 0, plat, dev, info);
    }
    const char *colon = strchr(spec, ':');
    unsigned p, d;
    if (colon && parse_uint(spec, colon, &p) && parse_uint(colon + 1, colon + strlen(colon), &d)) {
        for (index = 0; index < n; index++) {
            if (device_at(index, plat, dev, info) == IRV2_OK && info->platform == p &&
                info->device == d)
                return IRV2_OK;
        }
        return irv2_fail(IRV2_ERR_DEVICE_SPEC, "device '%s': no device %u on platform %u", spec,
                         d, p);
    }
    if (parse_uint(spec, spec + strlen(spec), &index)) {
        if (index >= n)
            return irv2_fail(IRV2_ERR_DEVICE_SPEC, "device '%s': no such device (%u available)",
                             spec, n);
        return device_at(index, plat, dev, info);
    }
    static const struct {
        const char *spec, *name;
        cl_device_type bits;
    } kinds[] = {{"cpu", "CPU", CL_DEVICE_TYPE_CPU},
                 {"gpu", "GPU", CL_DEVICE_TYPE_GPU},
                 {"accelerator", "ACCELERATOR", CL_DEVICE_TYPE_ACCELERATOR}};
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(spec, kinds[k].spec) != 0) k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return irv2_fail(IRV2_ERR_DEVICE_SPEC,
                         "device '%s': unknown spec (use cpu, gpu, accelerator, N or P:D)", spec);
    index = first_of_type(n, kinds[k].bits);
    if (index >= n)
        return irv2_fail(IRV2_ERR_DEVICE_SPEC, "device '%s': no %s device", spec, kinds[k].name);
    return device_at(index, plat, dev, info);
}
