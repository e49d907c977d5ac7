/* context.c: the context's getters and the checked helpers for OpenCL calls and buffers. */
#include "runtime/context.h"

#include "runtime/fault.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    ctx->live_buffers++;
    return IRV2_OK;
}

static cl_uint reference_count(cl_mem mem)
{
    cl_uint n = 0;
    if (clGetMemObjectInfo(mem, CL_MEM_REFERENCE_COUNT, sizeof n, &n, NULL) != CL_SUCCESS) return 0;
    return n;
}

static long elapsed_ns(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

/* Waits, at most RELEASE_WAIT_NS, until the caller holds the only reference to mem, so that
 * its release frees the memory on the caller's thread. An implementation may drop a finished
 * command's references after clFinish returns: PoCL's worker thread releases a command's
 * buffers after it marks the command's event complete. Where that release is the last one,
 * the memory (tens of MiB for a model's last activations) is freed on the worker some time
 * after irv2_model_free returns: the model outlives its free, and a process that measures its
 * memory right after the free counts it. The wait is about 0.1 ms per model on PoCL. */
#define RELEASE_WAIT_NS 20000000L
static void wait_last_reference(irv2_context *ctx, cl_mem mem)
{
    if (reference_count(mem) <= 1) return;
    if (ctx->queue) clFinish(ctx->queue);
    struct timespec t0, step = {0, 20000}; /* 20 us */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (reference_count(mem) > 1 && elapsed_ns(&t0) < RELEASE_WAIT_NS) nanosleep(&step, NULL);
}

void ctx_buffer_release(irv2_context *ctx, cl_mem *mem)
{
    if (!*mem) return;
    wait_last_reference(ctx, *mem);
    clReleaseMemObject(*mem);
    *mem = NULL;
    ctx->live_buffers--;
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
