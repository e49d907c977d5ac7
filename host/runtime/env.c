/* env.c: everything the library reads from the environment: the IRV2_* variables laid over
 * the options structs (irv2_context_options_from_env, irv2_model_options_from_env), the user's
 * cache folder, and IRV2_FAULT for the tests. No other file of the library calls getenv. */
#include "runtime/env.h"

#include "runtime/error.h"
#include "runtime/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The variable's value when it is set and not empty, else NULL. */
static const char *var(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* IRV2_MAX_ALLOC_BYTES: a positive decimal count of bytes. */
static irv2_status read_bytes(const char *name, uint64_t *out)
{
    const char *v = var(name);
    if (!v) return IRV2_OK;
    char *end;
    unsigned long long n = v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
    if (n == 0 || *end)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "%s=%s: expected a positive count of bytes",
                         name, v);
    *out = n;
    return IRV2_OK;
}

/* A named value (a kernel family, a tuning mode) from the variable, where it is set. */
static irv2_status read_named(const char *name,
                              irv2_status (*parse)(const char *, int *, const char *), int *out)
{
    const char *v = var(name);
    char label[96];
    snprintf(label, sizeof label, "%s=%.60s", name, v ? v : "");
    return v ? parse(v, out, label) : IRV2_OK;
}

/* Copies the fields a caller's struct of size bytes has (its size field included, kept). */
static void copy_back(void *options, const void *full, size_t size)
{
    memcpy((char *)options + sizeof size, (const char *)full + sizeof size, size - sizeof size);
}

irv2_status irv2_context_options_from_env(irv2_context_options *options)
{
    irv2_clear_error();
    irv2_context_options o;
    if (!options)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_context_options_from_env: NULL options");
    irv2_status st = settings_context(options, &o);
    const char *v;
    int kernels = (int)o.kernels;
    if (st == IRV2_OK && (v = var("IRV2_DEVICE"))) o.device = v;
    if (st == IRV2_OK) st = read_named("IRV2_KERNELS", settings_parse_kernels, &kernels);
    o.kernels = (irv2_kernels)kernels;
    if (st == IRV2_OK && (v = var("IRV2_CACHE_DIR"))) o.cache_dir = strcmp(v, "off") ? v : "";
    if (st == IRV2_OK && (v = var("IRV2_BINARIES"))) o.binaries = v;
    if (st == IRV2_OK && (v = var("IRV2_CLBLAST_TUNING"))) o.clblast_tuning = v;
    if (st == IRV2_OK) st = read_bytes("IRV2_MAX_ALLOC_BYTES", &o.max_alloc_bytes);
    if (st == IRV2_OK) copy_back(options, &o, options->size);
    return st;
}

irv2_status irv2_model_options_from_env(irv2_model_options *options)
{
    irv2_clear_error();
    irv2_model_options o;
    if (!options)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_options_from_env: NULL options");
    irv2_status st = settings_model(options, &o);
    const char *v;
    int tune = (int)o.tune;
    if (st == IRV2_OK) st = read_named("IRV2_TUNE", settings_parse_tune, &tune);
    o.tune = (irv2_tune_mode)tune;
    if (st == IRV2_OK && (v = var("IRV2_EXACT"))) {
        if (strcmp(v, "1") == 0) o.exclude |= IRV2_EXCLUDE_WINOGRAD;
        else if (strcmp(v, "0") == 0) o.exclude &= ~IRV2_EXCLUDE_WINOGRAD;
        else st = irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "IRV2_EXACT=%s: expected 1 or 0", v);
    }
    if (st == IRV2_OK) copy_back(options, &o, options->size);
    return st;
}

int env_user_cache_dir(char *dst, size_t cap)
{
    const char *xdg = var("XDG_CACHE_HOME"), *home = var("HOME");
    int n = xdg ? snprintf(dst, cap, "%s/irv2", xdg)
                : home ? snprintf(dst, cap, "%s/.cache/irv2", home) : -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

const char *env_fault_spec(void) { return getenv("IRV2_FAULT"); }
