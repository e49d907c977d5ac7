/* binaries.c: a context taking every program, and its plans' kernel choices, from a folder
 * of binaries compiled ahead of time (binaries.h); runtime/export.c writes such folders. */
#include "runtime/binaries.h"

#include "runtime/cache.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct bin_program {
    char *file, *options, *binary;
    uint64_t source, bytes, hash;
} bin_program;

struct binaries {
    char *dir;
    char batches[64];       /* "1,8": the batch sizes compiled, for the messages */
    bin_program *programs;
    size_t nprograms;
    json_t *choices;        /* object: tuner key -> choice */
};

const char *const binaries_kernel_sets[KERNELS_COMPACT + 1] = {
    [KERNELS_VEC] = "vec", [KERNELS_WG] = "wg", [KERNELS_BOTH] = "auto",
    [KERNELS_COMPACT] = "compact"};

void binaries_free(binaries *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->nprograms; i++)
        free(b->programs[i].file), free(b->programs[i].options), free(b->programs[i].binary);
    free(b->programs);
    json_decref(b->choices);
    free(b->dir);
    free(b);
}

static int parse_hex(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s) return -1;
    errno = 0;
    *out = strtoull(s, &end, 16);
    return *end || errno ? -1 : 0;
}

static char *dup_str(const char *s) { return s ? strdup(s) : NULL; }

/* One entry of "programs", or -1 when it is malformed or out of host memory. */
static int read_program(json_t *item, bin_program *p)
{
    const char *file = NULL, *options = NULL, *binary = NULL, *source = NULL, *hash = NULL;
    json_int_t bytes = -1;
    if (json_unpack(item, "{s:s, s:s, s:s, s:s, s:I, s:s}", "file", &file, "options", &options,
                    "binary", &binary, "source", &source, "bytes", &bytes, "hash", &hash) != 0 ||
        bytes <= 0 || strchr(binary, '/') || parse_hex(source, &p->source) ||
        parse_hex(hash, &p->hash))
        return -1;
    p->bytes = (uint64_t)bytes;
    p->file = dup_str(file), p->options = dup_str(options), p->binary = dup_str(binary);
    return p->file && p->options && p->binary ? 0 : -1;
}

/* The manifest's device is this context's: name, driver and platform must match, as the
 * binary cache requires. */
static irv2_status check_device(const irv2_context *ctx, const char *dir, json_t *device)
{
    const char *name = "", *driver = "", *platform = "";
    if (json_unpack(device, "{s:s, s:s, s:s}", "name", &name, "driver", &driver, "platform",
                    &platform) != 0)
        return irv2_fail(IRV2_ERR_FORMAT, "%s/" MANIFEST ": no device name, driver and platform",
                         dir);
    if (strcmp(name, ctx->info.name) || strcmp(driver, ctx->info.driver) ||
        strcmp(platform, ctx->info.platform_name))
        return irv2_fail(IRV2_ERR_UNSUPPORTED,
                         "%s holds binaries for device '%s' (driver %s, %s), not for '%s' "
                         "(driver %s, %s)",
                         dir, name, driver, platform, ctx->info.name, ctx->info.driver,
                         ctx->info.platform_name);
    return IRV2_OK;
}

static irv2_status read_manifest(irv2_context *ctx, binaries *b, json_t *root)
{
    const char *format = "", *set = "";
    json_t *device = NULL, *programs = NULL, *batches = NULL, *choices = NULL;
    if (json_unpack(root, "{s:s, s:o, s:s, s:o, s:o, s:o}", "format", &format, "device", &device,
                    "kernels", &set, "batches", &batches, "programs", &programs, "choices",
                    &choices) != 0 ||
        strcmp(format, BINARIES_FORMAT) != 0 || !json_is_array(programs) ||
        !json_is_object(choices) || !json_is_array(batches))
        return irv2_fail(IRV2_ERR_FORMAT, "%s/" MANIFEST ": not an irv2 binaries manifest (%s)",
                         b->dir, BINARIES_FORMAT);
    b->choices = json_incref(choices);
    irv2_status st = check_device(ctx, b->dir, device);
    if (st != IRV2_OK) return st;
    int kernels = 0;
    for (int k = 0; k < (int)(sizeof binaries_kernel_sets / sizeof binaries_kernel_sets[0]); k++)
        if (binaries_kernel_sets[k] && strcmp(set, binaries_kernel_sets[k]) == 0) kernels = k;
    if (!kernels)
        return irv2_fail(IRV2_ERR_FORMAT, "%s/" MANIFEST ": unknown kernel set '%s'", b->dir, set);
    ctx->kernels = (ctx_kernels)kernels;
    size_t len = 0, i;
    json_t *v;
    json_array_foreach(batches, i, v) if (json_is_integer(v) && len + 24 < sizeof b->batches)
        len += (size_t)snprintf(b->batches + len, sizeof b->batches - len, "%s%lld",
                                len ? "," : "", (long long)json_integer_value(v));
    b->programs = calloc(json_array_size(programs) + 1, sizeof *b->programs);
    if (!b->programs) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    json_array_foreach(programs, i, v)
    {
        if (read_program(v, &b->programs[b->nprograms++]) != 0)
            return irv2_fail(IRV2_ERR_FORMAT, "%s/" MANIFEST ": program %zu is malformed",
                             b->dir, i);
    }
    return IRV2_OK;
}

irv2_status irv2_context_load_binaries(irv2_context *ctx, const char *dir)
{
    irv2_clear_error();
    if (!ctx || !dir || !*dir)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_context_load_binaries: no folder");
    binaries *b = calloc(1, sizeof *b);
    char path[4096];
    if (!b || !(b->dir = strdup(dir))) {
        free(b);
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    }
    snprintf(path, sizeof path, "%s/" MANIFEST, dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    const ctx_kernels kernels = ctx->kernels;
    irv2_status st = root ? read_manifest(ctx, b, root)
                     : errno == ENOENT && strstr(jerr.text, "unable to open")
                         ? irv2_fail(IRV2_ERR_IO, "%s: no " MANIFEST " (not a folder of irv2 "
                                     "binaries: write one with irv2 compile)", dir)
                         : irv2_fail(IRV2_ERR_FORMAT, "%s: line %d: %s", path, jerr.line,
                                     jerr.text);
    json_decref(root);
    if (st != IRV2_OK) {
        ctx->kernels = kernels;
        binaries_free(b);
        return st;
    }
    binaries_free(ctx->binaries);
    ctx->binaries = b;
    return IRV2_OK;
}

const char *binaries_choice(const binaries *b, const char *key)
{
    return json_string_value(json_object_get(b->choices, key));
}

/* The folder's entry for the program, or NULL. */
static const bin_program *find_program(const binaries *b, const char *file, const char *options)
{
    for (size_t i = 0; i < b->nprograms; i++)
        if (strcmp(b->programs[i].file, file) == 0 && strcmp(b->programs[i].options, options) == 0)
            return &b->programs[i];
    return NULL;
}

irv2_status binaries_program(irv2_context *ctx, const char *file, const char *options,
                             const char *build_options, const char *src, cl_program *out)
{
    const binaries *b = ctx->binaries;
    const bin_program *p = find_program(b, file, options);
    char path[4096];
    *out = NULL;
    if (!p)
        return irv2_fail(IRV2_ERR_UNSUPPORTED,
                         "%s has no binary of cl/%s [%s] (it holds the programs of batch %s: "
                         "compile the folder for this batch and settings)",
                         b->dir, file, options, b->batches);
    if (p->source != cache_hash_str(CACHE_HASH_INIT, src))
        return irv2_fail(IRV2_ERR_UNSUPPORTED,
                         "%s: cl/%s [%s] was compiled from another version of irv2's kernels: "
                         "compile the folder again", b->dir, file, options);
    snprintf(path, sizeof path, "%s/%s", b->dir, p->binary);
    size_t len = 0;
    unsigned char *bin = (unsigned char *)cache_read(path, &len);
    if (!bin) return irv2_fail(IRV2_ERR_IO, "%s: cannot read the binary of cl/%s", path, file);
    if (len != p->bytes || cache_hash(CACHE_HASH_INIT, bin, len) != p->hash) {
        free(bin);
        return irv2_fail(IRV2_ERR_FORMAT, "%s: damaged (its size or hash differs from %s/" MANIFEST
                         ")", path, b->dir);
    }
    const unsigned char *bins[1] = {bin};
    cl_int err, status = CL_SUCCESS;
    cl_program prog =
        clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &len, bins, &status, &err);
    free(bin);
    if (err == CL_SUCCESS && status != CL_SUCCESS) err = status;
    if (err == CL_SUCCESS) err = clBuildProgram(prog, 1, &ctx->device, build_options, NULL, NULL);
    if (err != CL_SUCCESS) {
        if (prog) clReleaseProgram(prog);
        ctx->last_cl_error = err;
        return irv2_fail(IRV2_ERR_BUILD, "device '%s' rejected %s (cl/%s [%s]): %s", ctx->info.name,
                         path, file, options, cl_error_name(err));
    }
    *out = prog;
    return IRV2_OK;
}
