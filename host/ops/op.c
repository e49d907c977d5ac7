/* op.c: enqueueing and releasing prepared launches, building a kernel with its arguments,
 * and the -D flags of the shared epilogue. */
#include "ops/op.h"

#include "runtime/program.h"

#include <stdio.h>
#include <string.h>

irv2_status op_enqueue(irv2_context *ctx, const op_launch *op, cl_event *event)
{
    if (op->call) return op->call(ctx, op, event);
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, op->kernel, op->dims, NULL, op->gws,
                                        op->lws[0] ? op->lws : NULL, 0, NULL, event);
    return ctx_cl_check(ctx, err, "clEnqueueNDRangeKernel");
}

void op_release(op_launch *op)
{
    if (op->kernel) clReleaseKernel(op->kernel);
    memset(op, 0, sizeof *op);
}

void op_local_one(op_launch *op) { op->lws[0] = op->lws[1] = op->lws[2] = 1; }

irv2_status op_local_pow2(irv2_context *ctx, cl_kernel k, size_t want, size_t *out)
{
    size_t kernel_max = ctx->profile.max_group; /* a recorded launch has no kernel to ask */
    cl_int err = k ? clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE,
                                              sizeof kernel_max, &kernel_max, NULL)
                   : CL_SUCCESS;
    irv2_status st = ctx_cl_check(ctx, err, "clGetKernelWorkGroupInfo(CL_KERNEL_WORK_GROUP_SIZE)");
    if (st != IRV2_OK) return st;
    size_t cap = want < kernel_max ? want : kernel_max, l = 1;
    if (ctx->profile.max_items[0] < cap) cap = ctx->profile.max_items[0];
    while (l * 2 <= cap) l *= 2;
    *out = l;
    return IRV2_OK;
}

irv2_status op_check_group(irv2_context *ctx, cl_kernel k, const char *name, size_t group)
{
    size_t max = 0;
    if (!k) return IRV2_OK; /* recorded, not built (ctx->record_program) */
    irv2_status st = ctx_cl_check(ctx,
                                  clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE,
                                                           sizeof max, &max, NULL),
                                  "clGetKernelWorkGroupInfo(CL_KERNEL_WORK_GROUP_SIZE)");
    if (st == IRV2_OK && max < group)
        st = irv2_fail(IRV2_ERR_UNSUPPORTED, "%s runs at most %zu work-items per group on %s, "
                       "not %zu", name, max, ctx->info.name, group);
    return st;
}

void epilogue_flags(op_epilogue epi, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s%s%s%s", epi.relu1 ? " -DRELU1" : "", epi.residual ? " -DRESIDUAL" : "",
             epi.affine ? " -DAFFINE" : "", epi.relu2 ? " -DRELU2" : "");
}

void epilogue_options(const irv2_context *ctx, op_epilogue epi, char *dst, size_t cap)
{
    if (ctx->kernels & KERNELS_COMPACT_BIT) snprintf(dst, cap, " -DEPI_ARG");
    else epilogue_flags(epi, dst, cap);
}

cl_int epilogue_bits(op_epilogue epi)
{
    return (epi.relu1 ? 1 : 0) | (epi.residual ? 2 : 0) | (epi.affine ? 4 : 0) |
           (epi.relu2 ? 8 : 0);
}

irv2_status set_args(irv2_context *ctx, cl_kernel k, const char *what, unsigned count,
                     const kernel_arg *args)
{
    for (unsigned i = 0; i < count; i++) {
        cl_int err = clSetKernelArg(k, i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            char msg[128];
            snprintf(msg, sizeof msg, "clSetKernelArg(%s, %u)", what, i);
            return ctx_cl_check(ctx, err, msg);
        }
    }
    return IRV2_OK;
}

irv2_status op_local_arg(irv2_context *ctx, op_launch *op, unsigned index, size_t bytes)
{
    if (!op->kernel) return IRV2_OK; /* recorded, not built */
    char what[64];
    snprintf(what, sizeof what, "clSetKernelArg(local, %u)", index);
    return ctx_cl_check(ctx, clSetKernelArg(op->kernel, index, bytes, NULL), what);
}

irv2_status op_kernel(irv2_context *ctx, const char *file, const char *options,
                      const char *name, unsigned nargs, const kernel_arg *args, op_launch *op)
{
    memset(op, 0, sizeof *op);
    if (ctx->record_program) {
        ctx->record_program(ctx->record_user, file, options, name);
        return IRV2_OK;
    }
    irv2_status st = ctx_kernel(ctx, file, options, name, &op->kernel);
    if (st == IRV2_OK) st = set_args(ctx, op->kernel, name, nargs, args);
    if (st != IRV2_OK) op_release(op);
    return st;
}
