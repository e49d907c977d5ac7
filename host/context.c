/* context.c: creating and freeing an irv2_context (one device, one in-order queue), and the
 * checked helpers for OpenCL calls and buffers. */
#include "context.h"

#include "device.h"
#include "fault.h"
#include "tune.h"

#include <stdlib.h>
#include <string.h>

static irv2_status make_queue(irv2_context *ctx)
{
    cl_int err;
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) return ctx_cl_check(ctx, err, "clCreateCommandQueue");
    ctx->profiling = 1;
    return IRV2_OK;
}

/* IRV2_MAX_ALLOC_BYTES lowers the device's largest allocation, so that the batch splitting
 * for devices with small limits can be exercised on any device. */
static void limit_max_alloc(irv2_device_info *info)
{
    const char *v = getenv("IRV2_MAX_ALLOC_BYTES");
    char *end;
    if (!v || !*v) return;
    unsigned long long limit = strtoull(v, &end, 10);
    if (*end == '\0' && limit > 0 && (info->max_alloc_bytes == 0 || limit < info->max_alloc_bytes))
        info->max_alloc_bytes = limit;
}

irv2_status irv2_context_create(const char *spec, irv2_context **out)
{
    irv2_clear_error();
    if (!out) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_context_create: NULL out");
    *out = NULL;
    irv2_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    irv2_status st = device_resolve(spec, &ctx->platform, &ctx->device, &ctx->info);
    limit_max_alloc(&ctx->info);
    if (st == IRV2_OK) {
        cl_int err;
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform,
                                         0};
        ctx->context = clCreateContext(props, 1, &ctx->device, NULL, NULL, &err);
        st = ctx_cl_check(ctx, err, "clCreateContext");
    }
    if (st == IRV2_OK) st = make_queue(ctx);
    if (st == IRV2_OK) st = ctx_apply_clblast_tuning(ctx);
    if (st != IRV2_OK) {
        irv2_context_free(ctx);
        return st;
    }
    *out = ctx;
    return IRV2_OK;
}

irv2_status irv2_context_create_from_cl(cl_context context, cl_command_queue queue,
                                        irv2_context **out)
{
    irv2_clear_error();
    if (!out || !context || !queue)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_context_create_from_cl: NULL argument");
    *out = NULL;
    irv2_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    cl_command_queue_properties qprops = 0;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof ctx->device, &ctx->device,
                                       NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof qprops, &qprops, NULL);
    if (err == CL_SUCCESS)
        err = clGetDeviceInfo(ctx->device, CL_DEVICE_PLATFORM, sizeof ctx->platform,
                              &ctx->platform, NULL);
    irv2_status st = ctx_cl_check(ctx, err, "querying the application's queue");
    if (st == IRV2_OK && (qprops & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE))
        st = irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "the application's queue is out-of-order");
    if (st != IRV2_OK) {
        free(ctx);
        return st;
    }
    clRetainContext(context);
    clRetainCommandQueue(queue);
    ctx->context = context;
    ctx->queue = queue;
    ctx->profiling = (qprops & CL_QUEUE_PROFILING_ENABLE) != 0;
    device_describe(ctx->platform, ctx->device, &ctx->info);
    strcpy(ctx->info.spec, "external");
    st = ctx_apply_clblast_tuning(ctx);
    if (st != IRV2_OK) {
        irv2_context_free(ctx);
        return st;
    }
    *out = ctx;
    return IRV2_OK;
}

void irv2_context_free(irv2_context *ctx)
{
    if (!ctx) return;
    for (size_t i = 0; i < ctx->nprograms; i++) {
        clReleaseProgram(ctx->programs[i].program);
        free(ctx->programs[i].key);
    }
    free(ctx->programs);
    free(ctx->build_log);
    tune_table_free(ctx->tune);
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->context) clReleaseContext(ctx->context);
    free(ctx);
}

const irv2_device_info *irv2_context_device(const irv2_context *ctx)
{
    return ctx ? &ctx->info : NULL;
}

cl_int irv2_context_cl_error(const irv2_context *ctx) { return ctx ? ctx->last_cl_error : 0; }

const char *irv2_context_build_log(const irv2_context *ctx)
{
    return ctx && ctx->build_log ? ctx->build_log : "";
}

irv2_status ctx_cl_check(irv2_context *ctx, cl_int err, const char *what)
{
    if (err == CL_SUCCESS) return IRV2_OK;
    ctx->last_cl_error = err;
    irv2_status st = (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
                      err == CL_INVALID_BUFFER_SIZE)
                         ? IRV2_ERR_DEVICE_MEMORY
                         : IRV2_ERR_OPENCL;
    return irv2_fail(st, "device '%s': %s failed: %s (%d)", ctx->info.name, what,
                     cl_error_name(err), (int)err);
}

irv2_status ctx_buffer(irv2_context *ctx, size_t bytes, cl_mem_flags flags, const char *purpose,
                       cl_mem *out)
{
    *out = NULL;
    if (bytes > ctx->info.max_alloc_bytes && ctx->info.max_alloc_bytes > 0)
        return irv2_fail(IRV2_ERR_DEVICE_MEMORY,
                         "device '%s': %s needs %zu bytes, above the largest allocation (%llu)",
                         ctx->info.name, purpose, bytes,
                         (unsigned long long)ctx->info.max_alloc_bytes);
    cl_int err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    if (!fault_hit(FAULT_ALLOC))
        *out = clCreateBuffer(ctx->context, flags, bytes ? bytes : 4, NULL, &err);
    if (err != CL_SUCCESS) {
        ctx->last_cl_error = err;
        *out = NULL;
        return irv2_fail(IRV2_ERR_DEVICE_MEMORY, "device '%s': cannot allocate %zu bytes for %s: %s",
                         ctx->info.name, bytes, purpose, cl_error_name(err));
    }
    return IRV2_OK;
}

const char *cl_error_name(cl_int err)
{
    switch (err) {
#define E(x) \
    case x: return #x;
        E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE)
        E(CL_COMPILER_NOT_AVAILABLE) E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES)
        E(CL_OUT_OF_HOST_MEMORY) E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_BUILD_PROGRAM_FAILURE)
        E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT)
        E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_BINARY)
        E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM) E(CL_INVALID_KERNEL_NAME)
        E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE)
        E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION)
        E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET)
        E(CL_INVALID_EVENT) E(CL_INVALID_BUFFER_SIZE) E(CL_INVALID_GLOBAL_WORK_SIZE)
        E(CL_INVALID_HOST_PTR) E(CL_INVALID_OPERATION) E(CL_INVALID_PLATFORM)
#undef E
    default: return "unknown OpenCL error";
    }
}
