/* program.c: building the embedded cl/ sources into programs, one per (file, -D options),
 * cached in the context and, as device binaries, on disk (keyed by a hash of source, options,
 * device, driver and format version); a failed build keeps its log for
 * irv2_context_build_log(). A device without a compiler runs from cached binaries only. */
#include "runtime/binaries.h"
#include "runtime/cache.h"
#include "runtime/program.h"
#include "runtime/fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The line of a build log that says what failed, for the one-line error message: the first
 * line that mentions an error (compilers differ in what they print before it: Intel's runtime
 * opens with "Compilation started"), else the first non-empty line. */
const char *build_log_headline(const char *log, char *buf, size_t cap)
{
    const char *pick = NULL;
    for (const char *line = log ? log : ""; *line && !pick;) {
        size_t n = strcspn(line, "\n");
        for (size_t i = 0; i + 5 <= n && !pick; i++)
            if (strncasecmp(line + i, "error", 5) == 0) pick = line;
        line += n + (line[n] == '\n');
    }
    if (!pick)
        for (pick = log ? log : ""; *pick == '\n'; pick++) continue;
    size_t n = strcspn(pick, "\n");
    if (n >= cap) n = cap - 1;
    memcpy(buf, pick, n);
    buf[n] = '\0';
    return buf;
}

#define BINARY_FORMAT "irv2-program-binary-2"

/* A cached binary is framed: magic, payload length and FNV-1a hash of the payload, then the
 * payload. A truncated or damaged file is refused here, because PoCL asserts (aborting the
 * process) on some malformed binaries instead of returning CL_INVALID_BINARY. */
#define FRAME_MAGIC "irv2bin\n"
#define FRAME_BYTES 24

static uint64_t program_hash(const irv2_context *ctx, const char *src, const char *opts)
{
    uint64_t h = cache_hash_str(CACHE_HASH_INIT, BINARY_FORMAT);
    h = cache_hash_str(h, src);
    h = cache_hash_str(h, opts);
    h = cache_hash_str(h, ctx->info.name);
    h = cache_hash_str(h, ctx->info.driver);
    h = cache_hash_str(h, ctx->info.version);
    return cache_hash_str(h, ctx->info.platform_name);
}

static int binary_path(const irv2_context *ctx, uint64_t hash, char *dst, size_t cap)
{
    char name[64];
    snprintf(name, sizeof name, "program-%016llx.bin", (unsigned long long)hash);
    return cache_path(ctx->cache_dir, name, dst, cap);
}

/* A program from the on-disk cache, or NULL (absent, unreadable or rejected). */
static cl_program load_binary(irv2_context *ctx, uint64_t hash, const char *opts)
{
    char path[4096];
    size_t len;
    if (binary_path(ctx, hash, path, sizeof path) != 0) return NULL;
    unsigned char *bin = (unsigned char *)cache_read(path, &len);
    if (!bin) return NULL;
    uint64_t payload = 0, sum = 0;
    if (len > FRAME_BYTES) memcpy(&payload, bin + 8, 8), memcpy(&sum, bin + 16, 8);
    if (len <= FRAME_BYTES || memcmp(bin, FRAME_MAGIC, 8) != 0 || payload != len - FRAME_BYTES ||
        sum != cache_hash(CACHE_HASH_INIT, bin + FRAME_BYTES, len - FRAME_BYTES)) {
        free(bin);
        return NULL;
    }
    len -= FRAME_BYTES;
    cl_int err, status = CL_SUCCESS;
    const unsigned char *bins[1] = {bin + FRAME_BYTES};
    cl_program prog =
        clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &len, bins, &status, &err);
    free(bin);
    if (prog && (err != CL_SUCCESS || status != CL_SUCCESS)) clReleaseProgram(prog);
    if (err != CL_SUCCESS || status != CL_SUCCESS) return NULL;
    if (clBuildProgram(prog, 1, &ctx->device, opts, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return NULL;
    }
    return prog;
}

irv2_status program_binary(irv2_context *ctx, cl_program prog, unsigned char **bin,
                           size_t *size)
{
    *bin = NULL;
    *size = 0;
    irv2_status st = ctx_cl_check(ctx, clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES,
                                                        sizeof *size, size, NULL),
                                  "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)");
    if (st == IRV2_OK && *size == 0)
        st = irv2_fail(IRV2_ERR_UNSUPPORTED, "device '%s' returns no program binaries",
                       ctx->info.name);
    if (st == IRV2_OK && !(*bin = malloc(*size)))
        st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    if (st == IRV2_OK)
        st = ctx_cl_check(ctx, clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof *bin, bin, NULL),
                          "clGetProgramInfo(CL_PROGRAM_BINARIES)");
    if (st != IRV2_OK) free(*bin), *bin = NULL, *size = 0;
    return st;
}

static void save_binary(irv2_context *ctx, program_entry *e)
{
    size_t size = 0;
    char path[4096];
    unsigned char *payload = NULL;
    e->saved = 1; /* one attempt per program, whatever happens */
    if (binary_path(ctx, e->hash, path, sizeof path) != 0 ||
        program_binary(ctx, e->program, &payload, &size) != IRV2_OK) {
        irv2_clear_error(); /* the cache is best effort */
        return;
    }
    unsigned char *bin = malloc(FRAME_BYTES + size);
    if (bin) {
        uint64_t len = size, sum = cache_hash(CACHE_HASH_INIT, payload, size);
        memcpy(bin, FRAME_MAGIC, 8);
        memcpy(bin + 8, &len, 8);
        memcpy(bin + 16, &sum, 8);
        memcpy(bin + FRAME_BYTES, payload, size);
        cache_write(path, bin, FRAME_BYTES + size);
    }
    free(bin);
    free(payload);
}

/* Whether the entry is one of u's programs, and not in the cache yet. */
static int unsaved(const program_entry *e, const binaries_usage *u)
{
    for (size_t i = 0; !e->saved && i < u->nprograms; i++)
        if (u->programs[i] == e->program) return 1;
    return 0;
}

size_t ctx_unsaved_binaries(const irv2_context *ctx, const binaries_usage *u)
{
    size_t n = 0;
    for (size_t i = 0; i < ctx->nprograms; i++) n += unsaved(&ctx->programs[i], u);
    return n;
}

void ctx_save_binaries(irv2_context *ctx, const binaries_usage *u,
                       void (*saved)(void *user, const char *file), void *user)
{
    for (size_t i = 0; i < ctx->nprograms; i++) {
        program_entry *e = &ctx->programs[i];
        if (!unsaved(e, u)) continue;
        save_binary(ctx, e);
        char file[64]; /* the key's first line */
        snprintf(file, sizeof file, "%.*s", (int)strcspn(e->key, "\n"), e->key);
        if (saved) saved(user, file);
    }
}

static irv2_status build(irv2_context *ctx, const char *file, const char *options,
                         cl_program *out, uint64_t *hash, int *from_cache)
{
    const char *src = cl_source(file);
    if (!src) return irv2_fail(IRV2_ERR_BUILD, "kernel source cl/%s is not embedded", file);
    if (fault_hit(FAULT_BUILD)) src = FAULT_BROKEN_SOURCE; /* a real build failure and log */
    char opts[1024];
    /* -w: PoCL prints compiler warnings to stderr (e.g. AVX ABI notes for float16), and the
     * library never prints. */
    snprintf(opts, sizeof opts, "-cl-std=CL1.2 -w %s", options);
    *hash = program_hash(ctx, src, opts);
    if (ctx->binaries) { /* only from the folder, never compiled, never cached */
        *from_cache = 1;
        return binaries_program(ctx, file, options, opts, src, out);
    }
    *out = load_binary(ctx, *hash, opts);
    *from_cache = *out != NULL;
    if (*out) return IRV2_OK;
    if (!ctx->info.compiler_available || fault_hit(FAULT_NO_COMPILER))
        return irv2_fail(IRV2_ERR_UNSUPPORTED,
                         "device '%s' has no OpenCL compiler and no cached binary for cl/%s [%s]",
                         ctx->info.name, file, options);
    cl_int err;
    cl_program prog = clCreateProgramWithSource(ctx->context, 1, &src, NULL, &err);
    irv2_status st = ctx_cl_check(ctx, err, "clCreateProgramWithSource");
    if (st != IRV2_OK) return st;
    err = clBuildProgram(prog, 1, &ctx->device, opts, NULL, NULL);
    if (err != CL_SUCCESS) {
        char line[256];
        ctx->last_cl_error = err;
        keep_build_log(ctx, prog);
        clReleaseProgram(prog);
        return irv2_fail(IRV2_ERR_BUILD, "device '%s': building cl/%s [%s] failed: %s",
                         ctx->info.name, file, options, build_log_headline(ctx->build_log, line, sizeof line));
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
    uint64_t hash;
    int from_cache;
    irv2_status st = build(ctx, file, options, out, &hash, &from_cache);
    if (st != IRV2_OK) {
        free(key);
        return st;
    }
    ctx->programs[ctx->nprograms] = (program_entry){key, *out, hash, from_cache};
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
