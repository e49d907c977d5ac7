/* session.c: opening and closing an irv2_context: the device (device.c), its OpenCL context
 * and in-order queue, CLBlast's tuner results; or the application's own context and queue. */
#include "runtime/binaries.h"
#include "runtime/clblast_tuning.h"
#include "runtime/context.h"
#include "runtime/device.h"
#include "runtime/table.h"

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
    if (st == IRV2_OK) st = ctx_read_profile(ctx);
    if (st == IRV2_OK) st = ctx_kernels_choose(ctx);
    if (st == IRV2_OK) st = ctx_apply_clblast_tuning(ctx);
    if (st == IRV2_OK) st = binaries_from_env(ctx);
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
    st = ctx_read_profile(ctx);
    if (st == IRV2_OK) st = ctx_kernels_choose(ctx);
    if (st == IRV2_OK) st = ctx_apply_clblast_tuning(ctx);
    if (st == IRV2_OK) st = binaries_from_env(ctx);
    if (st != IRV2_OK) {
        irv2_context_free(ctx);
        return st;
    }
    *out = ctx;
    return IRV2_OK;
}

irv2_status ctx_read_profile(irv2_context *ctx)
{
    const char *what;
    cl_int err = device_profile_read(ctx->device, &ctx->profile, &what);
    return ctx_cl_check(ctx, err, what);
}

irv2_status ctx_kernels_choose(irv2_context *ctx)
{
    const char *v = getenv("IRV2_KERNELS");
    if (!v || !*v || strcmp(v, "auto") == 0)
        ctx->kernels = ctx->profile.gpu ? KERNELS_BOTH : KERNELS_VEC;
    else if (strcmp(v, "wg") == 0) ctx->kernels = KERNELS_WG;
    else if (strcmp(v, "vec") == 0) ctx->kernels = KERNELS_VEC;
    else if (strcmp(v, "compact") == 0) ctx->kernels = KERNELS_COMPACT;
    else
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                         "IRV2_KERNELS=%s: expected auto, wg, vec or compact", v);
    return IRV2_OK;
}

int ctx_prefers_wg(const irv2_context *ctx)
{
    return (ctx->kernels & KERNELS_WG) && (!(ctx->kernels & KERNELS_VEC) || ctx->profile.gpu);
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
    table_free(ctx->choices);
    table_free(ctx->used_choices);
    binaries_free(ctx->binaries);
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->context) clReleaseContext(ctx->context);
    free(ctx);
}
