/* session.c: opening and closing an irv2_context: the device (device.c), its OpenCL context
 * and in-order queue, or the application's own; then the settings of irv2_context_options. */
#include "runtime/binaries.h"
#include "runtime/clblast_tuning.h"
#include "runtime/context.h"
#include "runtime/device.h"
#include "runtime/env.h"
#include "runtime/settings.h"
#include "runtime/table.h"

#include <clblast_c.h>
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

/* The application's own context and queue, retained (irv2_context_free releases them). */
static irv2_status adopt_queue(irv2_context *ctx, cl_context context, cl_command_queue queue)
{
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
    if (st != IRV2_OK) return st;
    clRetainContext(context);
    clRetainCommandQueue(queue);
    ctx->context = context;
    ctx->queue = queue;
    ctx->profiling = (qprops & CL_QUEUE_PROFILING_ENABLE) != 0;
    device_describe(ctx->platform, ctx->device, &ctx->info);
    strcpy(ctx->info.spec, "external");
    return IRV2_OK;
}

/* The device of the spec, with a context and a queue of irv2's own. */
static irv2_status open_device(irv2_context *ctx, const char *spec)
{
    irv2_status st = device_resolve(spec, &ctx->platform, &ctx->device, &ctx->info);
    if (st != IRV2_OK) return st;
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->device, NULL, NULL, &err);
    st = ctx_cl_check(ctx, err, "clCreateContext");
    return st == IRV2_OK ? make_queue(ctx) : st;
}

/* The settings of options that outlive the call, in ctx. */
static irv2_status apply_settings(irv2_context *ctx, const irv2_context_options *o)
{
    if (o->max_alloc_bytes && (ctx->info.max_alloc_bytes == 0 ||
                               o->max_alloc_bytes < ctx->info.max_alloc_bytes))
        ctx->info.max_alloc_bytes = o->max_alloc_bytes;
    ctx->progress = o->progress;
    ctx->progress_user = o->progress_user;
    char dir[3072];
    if (!o->cache_dir) { /* the user's cache folder; none when it cannot be named */
        if (env_user_cache_dir(dir, sizeof dir) == 0 && !(ctx->cache_dir = strdup(dir)))
            return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    } else if (*o->cache_dir && !(ctx->cache_dir = strdup(o->cache_dir))) {
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    }
    irv2_status st = ctx_read_profile(ctx);
    if (st == IRV2_OK) ctx_kernels_choose(ctx, o->kernels);
    if (st == IRV2_OK) st = ctx_apply_clblast_tuning(ctx, o->clblast_tuning);
    if (st == IRV2_OK && o->binaries) st = irv2_context_load_binaries(ctx, o->binaries);
    return st;
}

irv2_status irv2_context_open(const irv2_context_options *options, irv2_context **out)
{
    irv2_clear_error();
    if (!out) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_context_open: NULL out");
    *out = NULL;
    irv2_context_options o;
    irv2_status st = settings_context(options, &o);
    if (st != IRV2_OK) return st;
    irv2_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    st = o.cl_context ? adopt_queue(ctx, o.cl_context, o.cl_queue) : open_device(ctx, o.device);
    if (st == IRV2_OK) st = apply_settings(ctx, &o);
    if (st != IRV2_OK) {
        irv2_context_free(ctx);
        return st;
    }
    *out = ctx;
    return IRV2_OK;
}

irv2_status irv2_context_create(const char *spec, irv2_context **out)
{
    irv2_context_options o;
    irv2_context_options_init(&o);
    irv2_status st = irv2_context_options_from_env(&o);
    if (spec && *spec) o.device = spec;
    return st == IRV2_OK ? irv2_context_open(&o, out) : st;
}

irv2_status irv2_context_create_from_cl(cl_context context, cl_command_queue queue,
                                        irv2_context **out)
{
    irv2_clear_error();
    if (!context || !queue)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_context_create_from_cl: NULL argument");
    irv2_context_options o;
    irv2_context_options_init(&o);
    irv2_status st = irv2_context_options_from_env(&o);
    o.cl_context = context, o.cl_queue = queue;
    return st == IRV2_OK ? irv2_context_open(&o, out) : st;
}

irv2_status ctx_read_profile(irv2_context *ctx)
{
    const char *what;
    cl_int err = device_profile_read(ctx->device, &ctx->profile, &what);
    return ctx_cl_check(ctx, err, what);
}

void ctx_kernels_choose(irv2_context *ctx, irv2_kernels kernels)
{
    static const ctx_kernels sets[] = {[IRV2_KERNELS_VEC] = KERNELS_VEC,
                                       [IRV2_KERNELS_WG] = KERNELS_WG,
                                       [IRV2_KERNELS_COMPACT] = KERNELS_COMPACT};
    ctx->kernels = kernels != IRV2_KERNELS_AUTO ? sets[kernels]
                   : ctx->profile.gpu           ? KERNELS_BOTH
                                                : KERNELS_VEC;
}

int ctx_prefers_wg(const irv2_context *ctx)
{
    return (ctx->kernels & KERNELS_WG) && (!(ctx->kernels & KERNELS_VEC) || ctx->profile.gpu);
}

/* CLBlast keeps, for the whole process, the programs it compiles for each OpenCL context, and
 * each holds its context: 4.5 MiB of host memory per irv2 context that ran a CLBlast routine on
 * PoCL, never freed. Its C API evicts only everything at once, so this does; contexts still
 * open rebuild their CLBlast programs on their next call (correct, only slower once). */
static void forget_clblast_programs(const irv2_context *ctx)
{
    if (ctx->clblast_used) (void)CLBlastClearCache(); /* a free reports nothing */
}

void irv2_context_free(irv2_context *ctx)
{
    if (!ctx) return;
    forget_clblast_programs(ctx);
    for (size_t i = 0; i < ctx->nprograms; i++) {
        clReleaseProgram(ctx->programs[i].program);
        free(ctx->programs[i].key);
    }
    free(ctx->programs);
    free(ctx->build_log);
    free(ctx->cache_dir);
    table_free(ctx->choices);
    binaries_free(ctx->binaries);
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->context) clReleaseContext(ctx->context);
    free(ctx);
}
