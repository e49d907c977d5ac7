/* clblast_tuning.c: applies CLBlast's own tuner results (the clblast_<kernel>_<precision>.json
 * files that clblast_tuner_xgemm and its siblings write) to this context's device through
 * CLBlastOverrideParameters, from the folder named by IRV2_CLBLAST_TUNING. */
#include "runtime/cache.h"
#include "runtime/clblast_tuning.h"

#include <clblast_c.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 48

static const char *field(json_t *root, const char *key)
{
    return json_string_value(json_object_get(root, key));
}

/* "NAME=VALUE NAME=VALUE ..." into names (pointing into text, which is modified) and values. */
static int parse_params(char *text, const char **names, size_t *values)
{
    int n = 0;
    for (char *tok = strtok(text, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '='), *end;
        if (!eq || eq == tok || n == MAX_PARAMS) return -1;
        *eq = '\0';
        unsigned long long v = strtoull(eq + 1, &end, 10);
        if (end == eq + 1 || *end != '\0') return -1;
        names[n] = tok, values[n] = (size_t)v;
        n++;
    }
    return n;
}

/* Applies the file when it is a single-precision result for this device (others are skipped);
 * counts it in *applied and folds it into *sig. */
static irv2_status apply_file(irv2_context *ctx, const char *path, int *applied, uint64_t *sig)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return irv2_fail(IRV2_ERR_FORMAT, "CLBlast tuning '%s': not JSON (%s, line %d)", path,
                         jerr.text, jerr.line);
    const char *device = field(root, "device"), *precision = field(root, "precision");
    const char *kernel = field(root, "best_kernel"), *params = field(root, "best_parameters");
    irv2_status st = IRV2_OK;
    char *text = NULL;
    if (!device || !precision || !kernel || !params) {
        st = irv2_fail(IRV2_ERR_FORMAT,
                       "CLBlast tuning '%s': not a CLBlast tuner result (it needs device, "
                       "precision, best_kernel and best_parameters)",
                       path);
    } else if (strcmp(device, ctx->info.name) == 0 && strcmp(precision, "32") == 0) {
        const char *names[MAX_PARAMS];
        size_t values[MAX_PARAMS];
        int n = 0;
        CLBlastStatusCode s = CLBlastSuccess;
        if (!(text = strdup(params)))
            st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory reading %s", path);
        else if ((n = parse_params(text, names, values)) <= 0)
            st = irv2_fail(IRV2_ERR_FORMAT, "CLBlast tuning '%s': bad best_parameters '%s'",
                           path, params);
        else if ((s = CLBlastOverrideParameters(ctx->device, kernel, CLBlastPrecisionSingle,
                                                (size_t)n, names, values)) != CLBlastSuccess)
            st = irv2_fail(IRV2_ERR_CLBLAST,
                           "CLBlast tuning '%s': CLBlast refused the parameters for kernel %s on "
                           "device '%s' (status %d)",
                           path, kernel, ctx->info.name, (int)s);
        if (st == IRV2_OK) {
            (*applied)++;
            *sig = cache_hash_str(cache_hash_str(*sig, kernel), params);
        }
    }
    free(text);
    json_decref(root);
    return st;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

irv2_status ctx_apply_clblast_tuning(irv2_context *ctx, const char *dir)
{
    if (!dir || !*dir) return IRV2_OK;
    DIR *d = opendir(dir);
    if (!d)
        return irv2_fail(IRV2_ERR_IO, "CLBlast tuning folder '%s' cannot be opened",
                         dir);
    /* The .json files in name order, so that a later file for the same kernel wins alike
     * everywhere. */
    char **paths = NULL;
    size_t count = 0, cap = 0;
    irv2_status st = IRV2_OK;
    for (struct dirent *e; st == IRV2_OK && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(paths, cap * sizeof *grown);
            if (!grown) {
                st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory listing %s", dir);
                break;
            }
            paths = grown;
        }
        size_t size = strlen(dir) + len + 2;
        if (!(paths[count] = malloc(size))) {
            st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory listing %s", dir);
            break;
        }
        snprintf(paths[count++], size, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (count) qsort(paths, count, sizeof *paths, by_name);
    int applied = 0;
    uint64_t sig = CACHE_HASH_INIT;
    for (size_t i = 0; st == IRV2_OK && i < count; i++)
        st = apply_file(ctx, paths[i], &applied, &sig);
    for (size_t i = 0; i < count; i++) free(paths[i]);
    free(paths);
    ctx->info.clblast_tuned = st == IRV2_OK && applied;
    if (ctx->info.clblast_tuned)
        snprintf(ctx->clblast_tuning, sizeof ctx->clblast_tuning, "%016llx",
                 (unsigned long long)sig);
    return st;
}
