/* program.c: building the embedded cl/ sources into programs, one per (file, -D options),
 * cached in the context; a failed build keeps its log for irv2_context_build_log(). */
#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct irv2_cl_source {
    const char *name;
    const char *text;
};
extern const struct irv2_cl_source irv2_cl_sources[];

const char *cl_source(const char *file)
{
    for (const struct irv2_cl_source *s = irv2_cl_sources; s->name; s++)
        if (strcmp(s->name, file) == 0) return s->text;
    return NULL;
}

static void keep_build_log(irv2_context *ctx, cl_program prog)
{
    size_t len = 0;
    free(ctx->build_log);
    ctx->build_log = NULL;
    if (clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) !=
            CL_SUCCESS ||
        len == 0)
        return;
    ctx->build_log = malloc(len + 1);
    if (!ctx->build_log) return;
    if (clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, len, ctx->build_log,
                              NULL) != CL_SUCCESS)
        len = 0;
    ctx->build_log[len] = '\0';
}

/* First line of the build log, for the one-line error message. */
static const char *first_log_line(const irv2_context *ctx, char *buf, size_t cap)
{
    const char *log = ctx->build_log ? ctx->build_log : "";
    while (*log == '\n') log++;
    size_t n = strcspn(log, "\n");
    if (n >= cap) n = cap - 1;
    memcpy(buf, log, n);
    buf[n] = '\0';
    return buf;
}

static irv2_status build(irv2_context *ctx, const char *file, const char *options,
                         cl_program *out)
{
    const char *src = cl_source(file);
    if (!src) return irv2_fail(IRV2_ERR_BUILD, "kernel source cl/%s is not embedded", file);
    if (!ctx->info.compiler_available)
        return irv2_fail(IRV2_ERR_UNSUPPORTED, "device '%s' has no OpenCL compiler for cl/%s",
                         ctx->info.name, file);
    cl_int err;
    cl_program prog = clCreateProgramWithSource(ctx->context, 1, &src, NULL, &err);
    irv2_status st = ctx_cl_check(ctx, err, "clCreateProgramWithSource");
    if (st != IRV2_OK) return st;
    char opts[1024];
    snprintf(opts, sizeof opts, "-cl-std=CL1.2 %s", options);
    err = clBuildProgram(prog, 1, &ctx->device, opts, NULL, NULL);
    if (err != CL_SUCCESS) {
        char line[256];
        ctx->last_cl_error = err;
        keep_build_log(ctx, prog);
        clReleaseProgram(prog);
        return irv2_fail(IRV2_ERR_BUILD, "device '%s': building cl/%s [%s] failed: %s",
                         ctx->info.name, file, options, first_log_line(ctx, line, sizeof line));
    }
    *out = prog;
    return IRV2_OK;
}

irv2_status ctx_program(irv2_context *ctx, const char *file, const char *options,
                        cl_program *out)
{
    size_t klen = strlen(file) + strlen(options) + 2;
    char *key = malloc(klen);
    if (!key) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    snprintf(key, klen, "%s\n%s", file, options);
    for (size_t i = 0; i < ctx->nprograms; i++) {
        if (strcmp(ctx->programs[i].key, key) == 0) {
            free(key);
            *out = ctx->programs[i].program;
            return IRV2_OK;
        }
    }
    if (ctx->nprograms == ctx->programs_cap) {
        size_t cap = ctx->programs_cap ? ctx->programs_cap * 2 : 16;
        program_entry *p = realloc(ctx->programs, cap * sizeof *p);
        if (!p) {
            free(key);
            return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
        }
        ctx->programs = p;
        ctx->programs_cap = cap;
    }
    irv2_status st = build(ctx, file, options, out);
    if (st != IRV2_OK) {
        free(key);
        return st;
    }
    ctx->programs[ctx->nprograms].key = key;
    ctx->programs[ctx->nprograms].program = *out;
    ctx->nprograms++;
    return IRV2_OK;
}

irv2_status ctx_kernel(irv2_context *ctx, const char *file, const char *options,
                       const char *kernel_name, cl_kernel *out)
{
    cl_program prog;
    irv2_status st = ctx_program(ctx, file, options, &prog);
    if (st != IRV2_OK) return st;
    cl_int err;
    *out = clCreateKernel(prog, kernel_name, &err);
    if (err != CL_SUCCESS) *out = NULL;
    return ctx_cl_check(ctx, err, kernel_name);
}
