/* export.c: what a model's plans used (binaries_usage), and writing it as a folder of program
 * binaries (binaries.h): the binary of every program its plans launch, then the manifest. */
#include "runtime/binaries.h"

#include "runtime/cache.h"
#include "runtime/program.h"
#include "runtime/table.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *device_json(const irv2_context *ctx)
{
    const irv2_device_info *d = &ctx->info;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", d->name, "vendor", d->vendor,
                     "driver", d->driver, "version", d->version, "platform", d->platform_name,
                     "type", d->type);
}

/* Writes the binary of program entry e into dir and appends its manifest entry. */
static irv2_status save_program(irv2_context *ctx, const char *dir, const program_entry *e,
                                json_t *list)
{
    const char *options = strchr(e->key, '\n') + 1;
    char file[256], name[320], path[4096], hex[3][17];
    snprintf(file, sizeof file, "%.*s", (int)(options - 1 - e->key), e->key);
    snprintf(name, sizeof name, "%.*s-%016llx.bin", (int)strcspn(file, "."), file,
             (unsigned long long)e->hash);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unsigned char *bin = NULL;
    size_t size = 0;
    irv2_status st = program_binary(ctx, e->program, &bin, &size);
    if (st != IRV2_OK) return st;
    const char *src = cl_source(file);
    snprintf(hex[0], sizeof hex[0], "%016llx",
             (unsigned long long)cache_hash_str(CACHE_HASH_INIT, src ? src : ""));
    snprintf(hex[1], sizeof hex[1], "%016llx",
             (unsigned long long)cache_hash(CACHE_HASH_INIT, bin, size));
    int written = cache_write(path, bin, size);
    free(bin);
    if (written != 0) return irv2_fail(IRV2_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    if (json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "file", file,
                                              "options", options, "binary", name, "source",
                                              hex[0], "bytes", (json_int_t)size, "hash",
                                              hex[1])) != 0)
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    return IRV2_OK;
}

irv2_status usage_add_batch(binaries_usage *u, unsigned batch)
{
    for (size_t i = 0; i < u->nbatches; i++)
        if (u->batches[i] == batch) return IRV2_OK;
    if (u->nbatches < sizeof u->batches / sizeof u->batches[0]) u->batches[u->nbatches++] = batch;
    return IRV2_OK;
}

irv2_status usage_add_choice(binaries_usage *u, const char *key, const char *form)
{
    if ((!u->choices && !(u->choices = table_new(NULL, NULL))) ||
        table_set(u->choices, key, form) != 0)
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    return IRV2_OK;
}

irv2_status usage_add_kernel(irv2_context *ctx, binaries_usage *u, cl_kernel kernel)
{
    cl_program prog;
    if (!kernel) return IRV2_OK;
    irv2_status st = ctx_cl_check(ctx, clGetKernelInfo(kernel, CL_KERNEL_PROGRAM, sizeof prog,
                                                       &prog, NULL),
                                  "clGetKernelInfo(CL_KERNEL_PROGRAM)");
    for (size_t i = 0; st == IRV2_OK && i < u->nprograms; i++)
        if (u->programs[i] == prog) return IRV2_OK;
    if (st == IRV2_OK && u->nprograms == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 64;
        cl_program *grown = realloc(u->programs, cap * sizeof *grown);
        if (!grown) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
        u->programs = grown, u->cap = cap;
    }
    if (st == IRV2_OK) u->programs[u->nprograms++] = prog;
    return st;
}

void usage_free(binaries_usage *u)
{
    table_free(u->choices);
    free(u->programs);
    *u = (binaries_usage){0};
}

static int usage_has(const binaries_usage *u, cl_program prog)
{
    for (size_t i = 0; i < u->nprograms; i++)
        if (u->programs[i] == prog) return 1;
    return 0;
}

/* The manifest without its programs. */
static json_t *manifest_of(const irv2_context *ctx, const binaries_usage *u)
{
    json_t *batches = json_array(), *choices = json_object();
    for (size_t i = 0; i < u->nbatches; i++)
        json_array_append_new(batches, json_integer(u->batches[i]));
    for (size_t i = 0; u->choices && i < table_count(u->choices); i++)
        json_object_set_new(choices, table_key(u->choices, i),
                            json_string(table_value(u->choices, i)));
    return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:[]}", "format", BINARIES_FORMAT, "irv2",
                     irv2_version(), "device", device_json(ctx), "kernels",
                     binaries_kernel_sets[ctx->kernels], "batches", batches, "choices", choices,
                     "programs");
}

irv2_status binaries_save(irv2_context *ctx, const binaries_usage *u, const char *dir,
                          unsigned *programs)
{
    char path[4096];
    if (programs) *programs = 0;
    if (!dir || !*dir)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_save_binaries: no folder");
    snprintf(path, sizeof path, "%s", dir);
    if (cache_make_dirs(path) != 0)
        return irv2_fail(IRV2_ERR_IO, "%s: cannot create the folder: %s", dir, strerror(errno));
    json_t *root = manifest_of(ctx, u), *list = json_object_get(root, "programs");
    irv2_status st = root && list ? IRV2_OK : irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    size_t saved = 0;
    for (size_t i = 0; st == IRV2_OK && i < ctx->nprograms; i++)
        if (usage_has(u, ctx->programs[i].program) &&
            (st = save_program(ctx, dir, &ctx->programs[i], list)) == IRV2_OK)
            saved++;
    if (st == IRV2_OK && saved == 0)
        st = irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "no program was built for this model: run it at "
                       "each batch size first");
    /* The manifest last, atomically: a folder is complete once it has one. */
    char *text = st == IRV2_OK ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    if (st == IRV2_OK && !text) st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    snprintf(path, sizeof path, "%s/" MANIFEST, dir);
    if (st == IRV2_OK && cache_write(path, text, strlen(text)) != 0)
        st = irv2_fail(IRV2_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    free(text);
    json_decref(root);
    if (st == IRV2_OK && programs) *programs = (unsigned)saved;
    return st;
}
